/**
 * What a user sees when S3 says no (`lib/storage/errors.ts`): a missing
 * bucket, a missing object, refused credentials and an endpoint that is
 * down each give one line naming the URL, with exit code 2 and no stack,
 * from the real client against a real server (`s3rver` on loopback).
 * Also: the endpoint comes from `AWS_ENDPOINT_URL_S3` before
 * `AWS_ENDPOINT_URL`, as the AWS SDKs document.
 */
import assert from "node:assert/strict";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { readInputText, setS3Environment } from "../../lib/storage/mod.ts";
import { startS3, type TestS3 } from "./_s3.ts";

const decoder = new TextDecoder();

async function runTask(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tasks/run.ts", ...args],
    env: { ...env, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: decoder.decode(out.stderr).trim() };
}

/** Exit 2 and exactly one line: `message` matched, no stack. */
function oneLine(r: { code: number; stderr: string }, message: RegExp) {
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.split("\n").length, 1, r.stderr);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /\bat \S+:\d+/);
}

async function withBook(fn: (s3: TestS3, tmp: string) => Promise<void>) {
  const s3 = await startS3();
  const tmp = await Deno.makeTempDir();
  try {
    await s3.bucket("book");
    await s3.client.send(
      new PutObjectCommand({
        Bucket: "book",
        Key: "q4.csv",
        Body: "loan_id\nL1\n",
      }),
    );
    await fn(s3, tmp);
  } finally {
    await s3.close();
    await Deno.remove(tmp, { recursive: true });
  }
}

Deno.test("a missing bucket, a missing object and refused credentials are one line naming the URL", async () => {
  await withBook(async (s3, tmp) => {
    const out = ["--out", `${tmp}/runs`];
    oneLine(
      await runTask(["--portfolio", "s3://nobucket/q4.csv", ...out], s3.env),
      /^Cannot read s3:\/\/nobucket\/q4\.csv: the bucket does not exist/,
    );
    oneLine(
      await runTask(["--portfolio", "s3://book/q3.csv", ...out], s3.env),
      /^Cannot read s3:\/\/book\/q3\.csv: no such object$/,
    );
    oneLine(
      await runTask([
        "--portfolio",
        "s3://book/q4.csv",
        "--rules",
        "s3://book/rules.yaml",
        ...out,
      ], s3.env),
      /Cannot read s3:\/\/book\/rules\.yaml: no such object$/,
    );
    oneLine(
      await runTask(["--portfolio", "s3://book/q4.csv", ...out], {
        ...s3.env,
        AWS_ACCESS_KEY_ID: "NOT-A-KEY",
      }),
      /^Cannot read s3:\/\/book\/q4\.csv: the credentials were refused \(InvalidAccessKeyId/,
    );
    // --max-bytes is checked against the object's size, before a download.
    oneLine(
      await runTask([
        "--portfolio",
        "s3://book/q4.csv",
        "--max-bytes",
        "5",
        ...out,
      ], s3.env),
      /^Cannot read s3:\/\/book\/q4\.csv: it holds 11 bytes, more than the limit of 5 bytes$/,
    );
    // Nothing was written for any of them.
    assert.deepEqual([...Deno.readDirSync(tmp)], []);
  });
});

Deno.test("an endpoint that is down is one line naming the URL once the retries are spent", async () => {
  await withBook(async (s3, tmp) => {
    // A port nothing listens on: the one of a server just stopped.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const dead = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
    listener.close();
    const started = performance.now();
    oneLine(
      await runTask(
        ["--portfolio", "s3://book/q4.csv", "--out", `${tmp}/runs`],
        {
          ...s3.env,
          AWS_ENDPOINT_URL: dead,
        },
      ),
      /^Cannot read s3:\/\/book\/q4\.csv: the endpoint could not be reached/,
    );
    // Two attempts (AWS_MAX_ATTEMPTS=2) with a backoff: seconds, not minutes.
    assert.ok(performance.now() - started < 30_000);
  });
});

Deno.test("AWS_ENDPOINT_URL_S3 wins over AWS_ENDPOINT_URL (the SDK's service-specific endpoint), in the process environment and in an isolate's settings", async () => {
  await withBook(async (s3, tmp) => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const dead = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
    listener.close();
    const both = {
      ...s3.env,
      AWS_ENDPOINT_URL: dead,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
    };
    // The process environment, as a user sets it: the SDK reads it. The
    // object is read (its columns are then refused), not "unreachable".
    const r = await runTask(
      ["--portfolio", "s3://book/q4.csv", "--out", `${tmp}/runs`],
      both,
    );
    assert.equal(r.code, 2, r.stderr);
    assert.doesNotMatch(r.stderr, /could not be reached/);
    assert.match(r.stderr, /s3:\/\/book\/q4\.csv/);
    // This isolate's settings (lib/storage/config.ts), passed explicitly.
    const before = setS3Environment(both);
    try {
      assert.equal(await readInputText("s3://book/q4.csv"), "loan_id\nL1\n");
    } finally {
      setS3Environment(before);
    }
  });
});
