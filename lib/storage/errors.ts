/**
 * S3 failures in one line naming the URL: a missing bucket or object,
 * refused credentials, a missing region or endpoint, a server that
 * could not be reached, or that did not answer within its timeout, once
 * the attempts were spent (`config.ts`), with how many were made. The
 * SDK's own error is kept as the `cause` (printed with `--debug`), never
 * its stack.
 *
 * @module
 */
import { UserError } from "../errors.ts";

/** Error names and codes of refused credentials or permissions. */
const REFUSED = new Set([
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "AccessDenied",
  "ExpiredToken",
  "InvalidToken",
  "TokenRefreshRequired",
  "AllAccessDisabled",
  "Forbidden",
]);

/** Network errors: the endpoint could not be reached or answered nothing. */
const UNREACHABLE =
  /ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EPIPE|socket hang up|TimeoutError|RequestTimeout|connect|Connection refused/i;

/** What the SDK error `e` says, in a few words. */
function reason(e: unknown): { what: string; kind: "input" | "usage" | null } {
  const err = e as {
    name?: string;
    Code?: string;
    code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number; attempts?: number };
  };
  const name = err?.Code ?? err?.name ?? "";
  const status = err?.$metadata?.httpStatusCode;
  const message = String(err?.message ?? e).split("\n")[0];
  if (name === "NoSuchBucket") {
    return {
      what:
        "the bucket does not exist (or the endpoint is not the one that holds it)",
      kind: "input",
    };
  }
  if (name === "NoSuchKey" || name === "NotFound" || status === 404) {
    return { what: "no such object", kind: "input" };
  }
  if (REFUSED.has(name) || status === 403) {
    return {
      what: `the credentials were refused (${
        name || status
      }: ${message}); check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE`,
      kind: "usage",
    };
  }
  if (name === "CredentialsProviderError" || /credential/i.test(message)) {
    return {
      what:
        `no credentials were found (${message}); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or AWS_PROFILE`,
      kind: "usage",
    };
  }
  if (/Region is missing/i.test(message)) {
    return {
      what:
        "no region is set: set AWS_REGION (us-east-1 for MinIO, auto for GCS)",
      kind: "usage",
    };
  }
  const attempts = err?.$metadata?.attempts;
  const tries = attempts === undefined
    ? ""
    : `, ${attempts} attempt${attempts === 1 ? "" : "s"}`;
  if (name === "TimeoutError" || err?.code === "ETIMEDOUT") {
    const ms = /configured (\d+) ms|after (\d+) ms/.exec(message);
    const within = ms === null ? "in time" : `within ${ms[1] ?? ms[2]} ms`;
    return {
      what: `the endpoint did not answer ${within}${
        tries === "" ? "" : ` (${tries.slice(2)})`
      }; check AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, or raise IFRS9_S3_TIMEOUT_MS`,
      kind: null,
    };
  }
  if (UNREACHABLE.test(`${name} ${message} ${err?.code ?? ""}`)) {
    return {
      what:
        `the endpoint could not be reached (${message}${tries}); check AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL and the network`,
      kind: null,
    };
  }
  return { what: `${name ? `${name}: ` : ""}${message}`, kind: null };
}

/**
 * The one-line error for an S3 call on `url` that failed with `e`:
 * `Cannot <verb> <url>: <why>`. A missing bucket or object is an input
 * error, refused or missing credentials and a missing region a usage
 * error (both exit 2); anything else (an unreachable endpoint once the
 * retries are spent, a server error) is `fallback`: `input` for a read,
 * `output` (exit 3, the machine's) for a write. A {@link UserError} is
 * returned as it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { storageError } from "./errors.ts";
 * const e = Object.assign(new Error("The specified bucket does not exist"), { name: "NoSuchBucket" });
 * const err = storageError("s3://nobucket/q4.csv", e, "read", "input");
 * assert.equal(err.message, "Cannot read s3://nobucket/q4.csv: the bucket does not exist (or the endpoint is not the one that holds it)");
 * assert.equal(err.kind, "input");
 * ```
 */
export function storageError(
  url: string,
  e: unknown,
  verb: string,
  fallback: "input" | "output",
): UserError {
  if (e instanceof UserError) return e;
  const { what, kind } = reason(e);
  return new UserError(kind ?? fallback, `Cannot ${verb} ${url}: ${what}`, {
    cause: e,
  });
}

/** Whether `e` is the SDK's "no such object" (or bucket) answer. */
export function isMissing(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err?.name === "NoSuchKey" || err?.name === "NotFound" ||
    (err?.$metadata?.httpStatusCode === 404 && err?.name !== "NoSuchBucket");
}
