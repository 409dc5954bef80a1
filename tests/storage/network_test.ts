/**
 * Network faults no S3 server simulates, with a loopback TCP server that
 * speaks just enough HTTP (`startRawServer` in `_s3.ts`) and the real
 * `@aws-sdk/client-s3`: an endpoint that accepts connections and never
 * answers fails within the configured timeout (`IFRS9_S3_TIMEOUT_MS`), and
 * a download whose body is cut in the middle is resumed with a Range GET
 * and checked (ETag, length, SHA-256), or refused when the object changed.
 */
import assert from "node:assert/strict";
import type net from "node:net";
import { localCopy, readInputText } from "../../lib/storage/mod.ts";
import { type RawRequest, sha256Hex, startRawServer } from "./_s3.ts";

/** 1 MiB of a known, non-repeating pattern. */
const OBJECT = Uint8Array.from(
  { length: 1024 * 1024 },
  (_, i) => (i * 7 + (i >> 10)) & 255,
);

/** Writes an HTTP answer's head. */
function head(
  socket: net.Socket,
  status: string,
  headers: Record<string, string | number>,
) {
  socket.write(
    `HTTP/1.1 ${status}\r\n${
      Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")
    }\r\n`,
  );
}

/**
 * Answers GetObject of {@link OBJECT}: the first answer is cut after
 * `cutAt` bytes (the connection reset); a Range answer sends the rest
 * with the ETag `resumeEtag`.
 */
function cuttingServer(cutAt: number, resumeEtag = '"v1"') {
  let answered = 0;
  return (req: RawRequest, socket: net.Socket) => {
    answered += 1;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    if (range === null) {
      head(socket, "200 OK", {
        "Content-Length": OBJECT.length,
        "Content-Type": "application/octet-stream",
        ETag: '"v1"',
      });
      socket.write(OBJECT.subarray(0, cutAt), () => {
        // Once the bytes are out: the body stops short.
        setTimeout(() => socket.destroy(), 20);
      });
      return;
    }
    const from = Number(range[1]);
    head(socket, "206 Partial Content", {
      "Content-Length": OBJECT.length - from,
      "Content-Range": `bytes ${from}-${OBJECT.length - 1}/${OBJECT.length}`,
      "Content-Type": "application/octet-stream",
      ETag: resumeEtag,
      Connection: "close",
    });
    socket.end(OBJECT.subarray(from));
    return answered;
  };
}

Deno.test("an endpoint that accepts and never answers fails within IFRS9_S3_TIMEOUT_MS, one line naming the URL", async () => {
  const server = await startRawServer(() => {/* never answers */}, {
    IFRS9_S3_TIMEOUT_MS: "400",
    AWS_MAX_ATTEMPTS: "1",
  });
  try {
    const started = performance.now();
    await assert.rejects(
      () => readInputText("s3://book/q4.csv"),
      (e: Error) => {
        assert.equal(e.name, "UserError");
        assert.match(
          e.message,
          /^Cannot read s3:\/\/book\/q4\.csv: the endpoint did not answer within 400 ms \(1 attempt\); check AWS_ENDPOINT_URL_S3/,
        );
        assert.equal(e.message.split("\n").length, 1);
        return true;
      },
    );
    const took = performance.now() - started;
    // One attempt of 400 ms; far below the 120 s default.
    assert.ok(took >= 350 && took < 5_000, `took ${took} ms`);
    assert.equal(server.requests.length, 1);
  } finally {
    await server.close();
  }
});

Deno.test("a download cut in the middle of its body is resumed from the first missing byte and checked byte for byte", async () => {
  const server = await startRawServer(cuttingServer(300_000), {
    AWS_MAX_ATTEMPTS: "1",
  });
  try {
    await using copy = await localCopy("s3://book/q4.parquet");
    const bytes = await Deno.readFile(copy.path);
    assert.equal(bytes.length, OBJECT.length);
    assert.equal(copy.sha256, await sha256Hex(OBJECT));
    assert.deepEqual(bytes, OBJECT);
    // Two requests: the whole object, then the rest, conditional on the
    // ETag first seen.
    assert.equal(server.requests.length, 2);
    const resume = server.requests[1];
    assert.match(resume.headers.range, /^bytes=(\d+)-$/);
    const from = Number(/^bytes=(\d+)-$/.exec(resume.headers.range)![1]);
    assert.ok(from > 0 && from <= 300_000, `resumed from ${from}`);
    assert.equal(resume.headers["if-match"], '"v1"');
  } finally {
    await server.close();
  }
});

Deno.test("a download resumed onto an object replaced meanwhile is refused, not stitched", async () => {
  const server = await startRawServer(cuttingServer(300_000, '"v2"'), {
    AWS_MAX_ATTEMPTS: "1",
  });
  try {
    await assert.rejects(
      () => localCopy("s3://book/q4.parquet"),
      {
        name: "UserError",
        message:
          /^Cannot read s3:\/\/book\/q4\.parquet: the object was replaced while it was being read/,
      },
    );
  } finally {
    await server.close();
  }
});

Deno.test("a download cut every time fails after its resumes, one line naming the URL and how far it got", async () => {
  const server = await startRawServer((req, socket) => {
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    const from = range === null ? 0 : Number(range[1]);
    head(socket, range === null ? "200 OK" : "206 Partial Content", {
      "Content-Length": OBJECT.length - from,
      ...(range === null ? {} : {
        "Content-Range": `bytes ${from}-${OBJECT.length - 1}/${OBJECT.length}`,
      }),
      ETag: '"v1"',
    });
    // 1,000 bytes more each time, then the connection is reset.
    socket.write(OBJECT.subarray(from, from + 1000), () => {
      setTimeout(() => socket.destroy(), 100);
    });
  }, { AWS_MAX_ATTEMPTS: "1" });
  try {
    await assert.rejects(
      () => localCopy("s3://book/q4.parquet"),
      (e: Error) => {
        assert.equal(e.name, "UserError");
        assert.match(
          e.message,
          /^Cannot read s3:\/\/book\/q4\.parquet: the download was cut short 5 times, the last after \d+ of 1048576 bytes \(/,
        );
        assert.equal(e.message.split("\n").length, 1);
        return true;
      },
    );
    // The first request and 4 resumes, each from where the last stopped:
    // never backwards, never past what was sent (1,000 bytes a time).
    assert.equal(server.requests.length, 5);
    const starts = server.requests.map((r) =>
      Number(/^bytes=(\d+)-$/.exec(r.headers.range ?? "")?.[1] ?? 0)
    );
    for (let i = 1; i < starts.length; i++) {
      assert.ok(
        starts[i] >= starts[i - 1] && starts[i] <= starts[i - 1] + 1000,
        starts.join(),
      );
    }
    assert.ok(starts[4] > 0, starts.join());
  } finally {
    await server.close();
  }
});

Deno.test("a server that ignores Range sends the whole object again: the download starts over and is whole", async () => {
  let answers = 0;
  const server = await startRawServer((_req, socket) => {
    answers += 1;
    head(socket, "200 OK", {
      "Content-Length": OBJECT.length,
      ETag: '"v1"',
      Connection: "close",
    });
    if (answers > 1) {
      socket.end(OBJECT);
      return;
    }
    socket.write(OBJECT.subarray(0, 300_000), () => {
      setTimeout(() => socket.destroy(), 20);
    });
  }, { AWS_MAX_ATTEMPTS: "1" });
  try {
    await using copy = await localCopy("s3://book/q4.parquet");
    assert.deepEqual(await Deno.readFile(copy.path), OBJECT);
    assert.equal(copy.sha256, await sha256Hex(OBJECT));
    assert.equal(server.requests.length, 2);
    assert.match(server.requests[1].headers.range ?? "", /^bytes=\d+-$/);
  } finally {
    await server.close();
  }
});
