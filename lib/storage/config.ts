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
 * - timeouts: {@link CONNECTION_TIMEOUT_MS} to connect
 *   (`IFRS9_S3_CONNECT_TIMEOUT_MS`), and {@link REQUEST_TIMEOUT_MS} for an
 *   attempt to get its answer (`IFRS9_S3_TIMEOUT_MS`); the SDK only logs a
 *   request past its timeout unless told `throwOnRequestTimeout`, which is
 *   set here, so an attempt that gets no answer fails (and is retried).
 *   A server that accepts connections and never answers thus fails a run
 *   after at most about attempts × (timeout + backoff), one line naming
 *   the URL (`tests/storage/timeout_test.ts`). The request timeout bounds
 *   the wait for the answer's headers; a body that stalls after them is
 *   bounded by the socket timeout, set to the same value.
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

/**
 * Milliseconds to open a connection before the attempt fails, unless
 * `IFRS9_S3_CONNECT_TIMEOUT_MS` says otherwise.
 */
export const CONNECTION_TIMEOUT_MS = 10_000;

/**
 * Milliseconds an attempt waits for the server's answer (and a socket
 * stays idle) before it fails, unless `IFRS9_S3_TIMEOUT_MS` says
 * otherwise. Uploads of parts (8 MiB) and large downloads are streamed,
 * so only a server silent this long fails.
 */
export const REQUEST_TIMEOUT_MS = 120_000;

/** A positive whole number of milliseconds from `env[name]`, or `fallback`. */
function millis(
  env: Record<string, string | undefined>,
  name: string,
  fallback: number,
): number {
  const value = env[name]?.trim();
  if (value === undefined || value === "") return fallback;
  if (!/^[0-9]+$/.test(value) || Number(value) <= 0) {
    throw new UserError(
      "usage",
      `${name} must be a positive whole number of milliseconds, got ${
        JSON.stringify(env[name])
      }`,
    );
  }
  return Number(value);
}

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
 * @throws {UserError} of kind `usage` for a malformed setting, naming it. *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { s3ClientConfig } from "./config.ts";
 * const config = s3ClientConfig({ IFRS9_S3_FORCE_PATH_STYLE: "true" });
 * assert.equal(config.forcePathStyle, true);
 * assert.equal(config.maxAttempts, 5);
 * assert.equal(s3ClientConfig({ AWS_MAX_ATTEMPTS: "2" }).maxAttempts, undefined);
 * const handler = s3ClientConfig({ IFRS9_S3_TIMEOUT_MS: "500" }).requestHandler as Record<string, unknown>;
 * assert.equal(handler.requestTimeout, 500);
 * assert.equal(handler.throwOnRequestTimeout, true);
 * assert.throws(() => s3ClientConfig({ IFRS9_S3_TIMEOUT_MS: "soon" }), /IFRS9_S3_TIMEOUT_MS must be/);
 * ```
 */
export function s3ClientConfig(
  env: Record<string, string | undefined>,
): S3ClientConfig {
  const timeout = millis(env, "IFRS9_S3_TIMEOUT_MS", REQUEST_TIMEOUT_MS);
  return {
    forcePathStyle: forcePathStyle(env),
    // Left to the SDK when set, so AWS_MAX_ATTEMPTS keeps its meaning.
    maxAttempts: env.AWS_MAX_ATTEMPTS === undefined
      ? DEFAULT_MAX_ATTEMPTS
      : undefined,
    requestHandler: {
      connectionTimeout: millis(
        env,
        "IFRS9_S3_CONNECT_TIMEOUT_MS",
        CONNECTION_TIMEOUT_MS,
      ),
      requestTimeout: timeout,
      socketTimeout: timeout,
      // Without it the SDK only logs a request past its timeout and waits on.
      throwOnRequestTimeout: true,
    },
  };
}

let cached: { key: string; client: S3Client } | undefined;

/** Settings of this isolate over the process environment, when set. */
let isolateSettings: Record<string, string> | undefined;

/**
 * Sets the `AWS_*` / `IFRS9_S3_*` settings of this isolate (a notebook
 * kernel, a worker, a test file of a parallel test run) over the process
 * environment, which every worker of a process shares; `undefined` goes
 * back to the process environment alone. Endpoint, region, credentials
 * and attempts given here are passed to the client explicitly, with the
 * SDK's precedence (`AWS_ENDPOINT_URL_S3` before `AWS_ENDPOINT_URL`,
 * `AWS_REGION` before `AWS_DEFAULT_REGION`).
 *
 * @returns the settings it replaces, to put back afterwards.
 */
export function setS3Environment(
  settings: Record<string, string> | undefined,
): Record<string, string> | undefined {
  const before = isolateSettings;
  isolateSettings = settings === undefined ? undefined : { ...settings };
  return before;
}

/**
 * What the isolate's settings say explicitly (the SDK reads only the
 * process environment by itself).
 */
function explicitSettings(
  env: Record<string, string | undefined>,
): S3ClientConfig {
  const out: S3ClientConfig = {};
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  if (endpoint !== undefined) out.endpoint = endpoint;
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (region !== undefined) out.region = region;
  if (
    env.AWS_ACCESS_KEY_ID !== undefined &&
    env.AWS_SECRET_ACCESS_KEY !== undefined
  ) {
    out.credentials = {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      sessionToken: env.AWS_SESSION_TOKEN,
    };
  }
  const attempts = env.AWS_MAX_ATTEMPTS?.trim();
  if (attempts !== undefined && /^[1-9][0-9]*$/.test(attempts)) {
    out.maxAttempts = Number(attempts);
  }
  return out;
}

/**
 * The S3 client for the current environment: one per isolate, made again
 * when an `AWS_*` or `IFRS9_S3_*` setting changed (a notebook or a test
 * that points at another endpoint).
 */
export function s3Client(): S3Client {
  const env = { ...Deno.env.toObject(), ...isolateSettings };
  const key = JSON.stringify(
    Object.entries(env).filter(([k]) => SETTINGS.test(k)).sort(),
  );
  if (cached?.key !== key) {
    cached?.client.destroy();
    const config = s3ClientConfig(env);
    cached = {
      key,
      client: new S3Client(
        isolateSettings === undefined
          ? config
          : { ...config, ...explicitSettings(env) },
      ),
    };
  }
  return cached.client;
}
