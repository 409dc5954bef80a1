/**
 * The pieces of `lib/storage` that need no server: `s3://` URLs, the
 * client settings read from the environment, and the wording of the SDK's
 * own exception classes (constructed as the client raises them).
 */
import assert from "node:assert/strict";
import {
  NoSuchBucket,
  NoSuchKey,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import {
  DEFAULT_MAX_ATTEMPTS,
  forcePathStyle,
  parseS3Url,
  s3ClientConfig,
  storageError,
} from "../../lib/storage/mod.ts";
import { locate } from "../../lib/run_folder/mod.ts";

Deno.test("s3:// URLs: bucket and key, folders as locations, bad bucket names refused", () => {
  assert.deepEqual(parseS3Url("S3://book/a/b.csv"), {
    bucket: "book",
    key: "a/b.csv",
  });
  assert.deepEqual(parseS3Url("s3://book"), { bucket: "book", key: "" });
  assert.deepEqual(parseS3Url("s3://my.book-1//x"), {
    bucket: "my.book-1",
    key: "x",
  });
  // Google Cloud Storage allows '_' in bucket names (README: GCS).
  assert.deepEqual(parseS3Url("s3://bank_gcs/q4.csv"), {
    bucket: "bank_gcs",
    key: "q4.csv",
  });
  for (
    const bad of [
      "s3://",
      "s3://ab/x",
      "s3://Book/x",
      "s3://-book/x",
      "s3://_book/x",
      "s3://book_/x",
      "s3://bo..ok/x",
    ]
  ) {
    assert.throws(() => parseS3Url(bad), /is not a valid bucket name/, bad);
  }
  const runs = locate("s3://runs/ifrs9/");
  assert.equal(runs.href, "s3://runs/ifrs9");
  assert.equal(runs.child("q4").href, "s3://runs/ifrs9/q4");
  assert.throws(() => runs.child("a/b"), /give one path segment/);
  assert.equal(locate("s3://runs").child("q4").href, "s3://runs/q4");
});

Deno.test("client settings: path style from IFRS9_S3_FORCE_PATH_STYLE, attempts unless AWS_MAX_ATTEMPTS", () => {
  for (const v of ["true", "TRUE", "1", "yes"]) {
    assert.equal(forcePathStyle({ IFRS9_S3_FORCE_PATH_STYLE: v }), true, v);
  }
  for (const v of ["false", "0", "no", "", undefined]) {
    assert.equal(
      forcePathStyle({ IFRS9_S3_FORCE_PATH_STYLE: v }),
      false,
      `${v}`,
    );
  }
  assert.throws(
    () => forcePathStyle({ IFRS9_S3_FORCE_PATH_STYLE: "path" }),
    {
      name: "UserError",
      message: 'IFRS9_S3_FORCE_PATH_STYLE must be true or false, got "path"',
    },
  );
  assert.equal(s3ClientConfig({}).maxAttempts, DEFAULT_MAX_ATTEMPTS);
  assert.equal(s3ClientConfig({}).forcePathStyle, false);
  assert.equal(
    s3ClientConfig({ AWS_MAX_ATTEMPTS: "9" }).maxAttempts,
    undefined,
  );
});

Deno.test("client settings: timeouts from IFRS9_S3_TIMEOUT_MS and IFRS9_S3_CONNECT_TIMEOUT_MS, and a request past its timeout throws", () => {
  const handler = (env: Record<string, string>) =>
    s3ClientConfig(env).requestHandler as Record<string, unknown>;
  // Without it the SDK only logs a request past its timeout.
  assert.equal(handler({}).throwOnRequestTimeout, true);
  assert.equal(handler({}).requestTimeout, 120_000);
  assert.equal(handler({}).connectionTimeout, 10_000);
  const set = handler({
    IFRS9_S3_TIMEOUT_MS: "750",
    IFRS9_S3_CONNECT_TIMEOUT_MS: " 250 ",
  });
  assert.deepEqual(
    [set.requestTimeout, set.socketTimeout, set.connectionTimeout],
    [750, 750, 250],
  );
  for (const bad of ["0", "-5", "1.5", "soon", "1e3"]) {
    assert.throws(() => s3ClientConfig({ IFRS9_S3_TIMEOUT_MS: bad }), {
      name: "UserError",
      message:
        `IFRS9_S3_TIMEOUT_MS must be a positive whole number of milliseconds, got ${
          JSON.stringify(bad)
        }`,
    });
  }
});

Deno.test("the SDK's exceptions become one line naming the URL, with the kind of failure", () => {
  const meta = { $metadata: { httpStatusCode: 404 } };
  const bucket = storageError(
    "s3://gone/q4.csv",
    new NoSuchBucket({
      message: "The specified bucket does not exist",
      ...meta,
    }),
    "read",
    "input",
  );
  assert.equal(bucket.kind, "input");
  assert.match(
    bucket.message,
    /^Cannot read s3:\/\/gone\/q4\.csv: the bucket does not exist/,
  );
  const key = storageError(
    "s3://b1/q4.csv",
    new NoSuchKey({ message: "x", ...meta }),
    "read",
    "input",
  );
  assert.equal(key.message, "Cannot read s3://b1/q4.csv: no such object");
  const denied = storageError(
    "s3://b1/runs/q4/summary.json",
    new S3ServiceException({
      name: "AccessDenied",
      $fault: "client",
      message: "Access Denied",
      $metadata: { httpStatusCode: 403 },
    }),
    "write",
    "output",
  );
  assert.equal(denied.kind, "usage");
  assert.match(
    denied.message,
    /^Cannot write s3:\/\/b1\/runs\/q4\/summary\.json: the credentials were refused \(AccessDenied: Access Denied\)/,
  );
  const down = storageError(
    "s3://b1/x",
    Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), {
      code: "ECONNREFUSED",
    }),
    "write",
    "output",
  );
  assert.equal(down.kind, "output");
  assert.match(down.message, /the endpoint could not be reached/);
  assert.equal(down.message.split("\n").length, 1);
});
