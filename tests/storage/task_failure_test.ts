/**
 * A failure in the middle of writing a run to S3, through the task itself
 * (`deno task run` in a subprocess): a loopback proxy in front of
 * `s3rver` answers the server-side copy of `loan_results.parquet` with a
 * 500 (as a failing S3 would), every attempt. The run must fail in one line
 * naming the URL with the machine's exit code (3), leave nothing a reader
 * trusts, and the next run of the id through the server directly must be
 * published whole. The same proxy stands in for a server that honours
 * conditional writes (s3rver does not): the marker's PutObject must carry
 * `If-None-Match: *`, and a 412 must fail the publish in words.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { readRunSummary } from "../../lib/run_folder/mod.ts";
import { s3Folder, setS3Environment } from "../../lib/storage/mod.ts";
import { writePortfolio } from "../run/_portfolio.ts";
import { getText, keys, put, startS3 } from "./_s3.ts";

/**
 * A TCP proxy to `port` that answers a request for which `refuse` holds
 * (given its request line and head) with `status` and an S3 error `code`,
 * and closes the connection; everything else passes through untouched.
 */
async function faultyProxy(
  port: number,
  refuse: (line: string, head: string) => boolean,
  status = "500 Internal Server Error",
  code = "InternalError",
): Promise<
  { endpoint: string; refused: () => number; close(): Promise<void> }
> {
  let refused = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    const upstream = net.connect(port, "127.0.0.1");
    sockets.add(upstream);
    for (const s of [client, upstream]) {
      s.on("error", () => {});
      s.on("close", () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.on("data", (d) => client.write(d));
    client.on("data", (d) => {
      const text = d.toString("latin1");
      const line = text.split("\r\n")[0];
      if (/^[A-Z]+ \S+ HTTP\/1\.1$/.test(line) && refuse(line, text)) {
        refused += 1;
        const body =
          `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected</Message></Error>`;
        client.end(
          `HTTP/1.1 ${status}\r\nContent-Type: application/xml\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        );
        upstream.destroy();
        return;
      }
      upstream.write(d);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port: own } = server.address() as net.AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${own}`,
    refused: () => refused,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

Deno.test("deno task run failing in the middle of its publish to S3: one line naming the URL, exit 3, nothing a reader trusts; the next run is whole", async () => {
  const s3 = await startS3();
  const tmp = await Deno.makeTempDir();
  const port = Number(new URL(s3.endpoint).port);
  const proxy = await faultyProxy(
    port,
    (line, head) =>
      /\r\nx-amz-copy-source:/i.test(head) &&
      line.split(" ")[1].split("?")[0].endsWith("/q4/loan_results.parquet"),
  );
  try {
    await s3.bucket("runs");
    await s3.bucket("book");
    writePortfolio(`${tmp}/book_2025-12-31.parquet`, 40);
    await put(
      s3,
      "s3://book/book_2025-12-31.parquet",
      await Deno.readFile(`${tmp}/book_2025-12-31.parquet`),
    );
    const run = (endpoint: string) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "tasks/run.ts",
          "--portfolio",
          "s3://book/book_2025-12-31.parquet",
          "--fx",
          "config/fx_rates.yaml",
          "--out",
          "s3://runs/ifrs9",
          "--run-id",
          "q4",
          "--quiet",
        ],
        env: { ...s3.env, AWS_ENDPOINT_URL: endpoint, NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();

    const failed = await run(proxy.endpoint);
    const stderr = new TextDecoder().decode(failed.stderr).trim();
    assert.ok(proxy.refused() >= 1, "the copy went through the proxy");
    assert.equal(failed.code, 3, stderr);
    assert.match(
      stderr,
      /Cannot write s3:\/\/runs\/ifrs9\/q4\/loan_results\.parquet: InternalError: injected/,
    );
    assert.ok(!stderr.includes("    at "), stderr);
    assert.equal(stderr.split("\n").length, 2, stderr);
    const left = await keys(s3, "runs", "ifrs9/q4/");
    assert.ok(!left.includes("ifrs9/q4/manifest.json"), left.join());
    await assert.rejects(
      () => readRunSummary("s3://runs/ifrs9/q4", { trusted: true }),
      // Cut before summary.json was copied, or at least before the manifest.
      {
        message:
          /^Cannot read run folder s3:\/\/runs\/ifrs9\/q4: (summary\.json: file is missing|not a complete run)/,
      },
    );
    // What it wrote is set aside as the failed run, named on a second line.
    assert.equal(
      stderr.split("\n")[1],
      'Run q4 failed; what it wrote is in s3://runs/ifrs9/q4.failed (manifest.json has status "failed")',
    );
    assert.equal(
      JSON.parse(await getText(s3, "runs", "ifrs9/q4.failed/manifest.json"))
        .status,
      "failed",
    );

    const again = await run(s3.endpoint);
    assert.equal(again.code, 0, new TextDecoder().decode(again.stderr));
    assert.equal(
      (await readRunSummary("s3://runs/ifrs9/q4", { trusted: true })).totals
        .count,
      40,
    );
  } finally {
    await proxy.close();
    await s3.close();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("the marker is written with If-None-Match: *, and a server refusing it (another writer's marker landed) fails the publish saying so", async () => {
  const s3 = await startS3();
  const port = Number(new URL(s3.endpoint).port);
  // s3rver ignores conditional writes: the proxy answers as Amazon S3 does
  // when the key exists, for a PUT of the manifest carrying the condition.
  const proxy = await faultyProxy(
    port,
    (line, head) =>
      line.startsWith("PUT ") &&
      line.split(" ")[1].split("?")[0].endsWith("/q4/manifest.json") &&
      /\r\nif-none-match: \*\r\n/i.test(head),
    "412 Precondition Failed",
    "PreconditionFailed",
  );
  const before = setS3Environment({
    ...s3.env,
    AWS_ENDPOINT_URL: proxy.endpoint,
  });
  try {
    await s3.bucket("runs");
    const staging = await s3Folder("s3://runs/p").stage("q4");
    await Deno.writeTextFile(`${staging.dir}/summary.json`, "{}");
    await Deno.writeTextFile(`${staging.dir}/manifest.json`, '{"run_id":"q4"}');
    await assert.rejects(() => staging.publish(), {
      name: "UserError",
      message:
        /^Cannot publish s3:\/\/runs\/p\/q4: another writer published its manifest\.json while this one was copying/,
    });
    await staging.discard();
    assert.equal(proxy.refused(), 1);
  } finally {
    setS3Environment(before);
    await proxy.close();
    await s3.close();
  }
});
