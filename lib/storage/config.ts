/**
 * The S3 client every storage call uses, configured the way the AWS tools
 * are: the SDK's default provider chain reads the region
 * (`AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`), the
 * credentials (`AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
 * `AWS_SESSION_TOKEN`, `AWS_PROFILE` with `~/.aws/credentials` and
 * `~/.aws/config`, SSO, web identity, container and instance roles) and
 * the endpoint (`AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`, else the
 * profile's `endpoint_url`; honoured by `@aws-sdk/client-s3` since 3.4xx,
 * checked against the pinned 3.1175 by `tests/storage/`). This module adds
 * only what the SDK has no variable for:
 *
 * - `IFRS9_S3_FORCE_PATH_STYLE=true` addresses buckets as
 *   `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key`,
 *   as MinIO, s3rver and most S3-compatible servers on one host need;
 * - retries: the SDK's standard retry strategy (exponential backoff with
 *   full jitter, base 100 ms, cap 20 s, on throttling, 5xx answers and
 *   network errors such as a refused or reset connection) with
 *   {@link DEFAULT_MAX_ATTEMPTS} attempts unless `AWS_MAX_ATTEMPTS` (or
 *   the profile's `max_attempts`) says otherwise; `AWS_RETRY_MODE=adaptive`
 *   adds client-side rate limiting;
 * - timeouts: {@link CONNECTION_TIMEOUT_MS} to connect, and a request that
 *   sends or receives nothing for {@link REQUEST_TIMEOUT_MS} is abandoned
 *   (and retried), so a dead server never hangs a run.
 *
 * @module
 */
import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { UserError } from "../errors.ts";

/**
 * Attempts per S3 request (the first and 4 retries) when neither
 * `AWS_MAX_ATTEMPTS` nor a profile sets it: the SDK's default of 3 gives up
 * within about half a second of backoff, too soon for an endpoint
 * restarting; 5 waits up to a few seconds in total.
 */
export const DEFAULT_MAX_ATTEMPTS = 5;

/** Milliseconds to open a connection before the attempt fails. */
export const CONNECTION_TIMEOUT_MS = 10_000;

/** Milliseconds without a byte sent or received before the attempt fails. */
export const REQUEST_TIMEOUT_MS = 120_000;

/** The variables that change the client; a change makes a new one. */
const SETTINGS = /^(AWS_|IFRS9_S3_)/;

/**
 * Whether `IFRS9_S3_FORCE_PATH_STYLE` asks for path-style addressing:
 * `true`/`1`/`yes` and `false`/`0`/`no`/unset (any case).
 *
 * @throws {UserError} of kind `usage` for another value, naming it.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { forcePathStyle } from "./config.ts";
 * assert.equal(forcePathStyle({ IFRS9_S3_FORCE_PATH_STYLE: "true" }), true);
 * assert.equal(forcePathStyle({}), false);
 * assert.throws(() => forcePathStyle({ IFRS9_S3_FORCE_PATH_STYLE: "on?" }), /IFRS9_S3_FORCE_PATH_STYLE/);
 * ```
 */
export function forcePathStyle(
  env: Record<string, string | undefined>,
): boolean {
  const value = env.IFRS9_S3_FORCE_PATH_STYLE?.trim().toLowerCase();
  if (value === undefined || value === "") return false;
  if (["true", "1", "yes"].includes(value)) return true;
  if (["false", "0", "no"].includes(value)) return false;
  throw new UserError(
    "usage",
    `IFRS9_S3_FORCE_PATH_STYLE must be true or false, got ${
      JSON.stringify(env.IFRS9_S3_FORCE_PATH_STYLE)
    }`,
  );
}

/**
 * The client configuration this module adds to the SDK's defaults, for
 * the environment `env` (path style, attempts, timeouts).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { s3ClientConfig } from "./config.ts";
 * const config = s3ClientConfig({ IFRS9_S3_FORCE_PATH_STYLE: "true" });
 * assert.equal(config.forcePathStyle, true);
 * assert.equal(config.maxAttempts, 5);
 * assert.equal(s3ClientConfig({ AWS_MAX_ATTEMPTS: "2" }).maxAttempts, undefined);
 * ```
 */
export function s3ClientConfig(
  env: Record<string, string | undefined>,
): S3ClientConfig {
  return {
    forcePathStyle: forcePathStyle(env),
    // Left to the SDK when set, so AWS_MAX_ATTEMPTS keeps its meaning.
    maxAttempts: env.AWS_MAX_ATTEMPTS === undefined
      ? DEFAULT_MAX_ATTEMPTS
      : undefined,
    requestHandler: {
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
    },
  };
}

let cached: { key: string; client: S3Client } | undefined;

/**
 * The S3 client for the current environment: one per process, made again
 * when an `AWS_*` or `IFRS9_S3_*` variable changed (a notebook or a test
 * that points at another endpoint).
 */
export function s3Client(): S3Client {
  const env = Deno.env.toObject();
  const key = JSON.stringify(
    Object.entries(env).filter(([k]) => SETTINGS.test(k)).sort(),
  );
  if (cached?.key !== key) {
    cached?.client.destroy();
    cached = { key, client: new S3Client(s3ClientConfig(env)) };
  }
  return cached.client;
}
