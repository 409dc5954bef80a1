/**
 * `s3://bucket/key` URLs: telling one from a local path and splitting it
 * into its bucket and key. Bucket names follow the S3 naming rules
 * (3 to 63 characters: lower-case letters, digits, `.` and `-`, starting and
 * ending with a letter or digit; Amazon S3 User Guide, "Bucket naming
 * rules"), widened by one character: `_`, which Google Cloud Storage
 * allows ("Bucket naming requirements") and whose S3-compatible XML API
 * the README documents; Amazon S3 itself refuses such a name with its own
 * error (`InvalidBucketName`), named in one line like any other. Keys are
 * kept as given, without a leading `/`.
 *
 * @module
 */
import { UserError } from "../errors.ts";

/** A parsed `s3://bucket/key` URL. */
export interface S3Url {
  /** The bucket. */
  bucket: string;
  /** The object key (or key prefix for a folder), without a leading `/`; `""` for the bucket's root. */
  key: string;
}

const S3_SCHEME = /^s3:\/\//i;
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;

/**
 * Whether `where` is an `s3://` URL (any letter case of the scheme).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isS3Url } from "./url.ts";
 * assert.equal(isS3Url("s3://book/q4.parquet"), true);
 * assert.equal(isS3Url("data/q4.parquet"), false);
 * ```
 */
export function isS3Url(where: string): boolean {
  return S3_SCHEME.test(where);
}

/**
 * The bucket and key of an `s3://bucket/key` URL. Repeated and trailing
 * slashes of the key are kept out of it only at its ends.
 *
 * @throws {UserError} of kind `usage` for a URL without a valid bucket name.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseS3Url } from "./url.ts";
 * assert.deepEqual(parseS3Url("s3://book/2025/q4.parquet"), { bucket: "book", key: "2025/q4.parquet" });
 * assert.deepEqual(parseS3Url("s3://runs/"), { bucket: "runs", key: "" });
 * assert.deepEqual(parseS3Url("s3://gcs_book/q4.csv"), { bucket: "gcs_book", key: "q4.csv" });
 * assert.throws(() => parseS3Url("s3://A-B/x"), /not a valid bucket name/);
 * ```
 */
export function parseS3Url(url: string): S3Url {
  if (!isS3Url(url)) {
    throw new UserError("usage", `${url} is not an s3://bucket/key URL`);
  }
  const rest = url.replace(S3_SCHEME, "");
  const slash = rest.indexOf("/");
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? "" : rest.slice(slash + 1).replace(/^\/+/, "");
  if (!BUCKET.test(bucket) || bucket.includes("..")) {
    throw new UserError(
      "usage",
      `Cannot use ${url}: ${
        JSON.stringify(bucket)
      } is not a valid bucket name (3 to 63 lower-case letters, digits, '.', '-' and '_', starting and ending with a letter or digit); give s3://bucket/key`,
    );
  }
  return { bucket, key };
}

/**
 * The URL of `key` in `bucket`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { s3Url } from "./url.ts";
 * assert.equal(s3Url("runs", "q4/summary.json"), "s3://runs/q4/summary.json");
 * assert.equal(s3Url("runs", ""), "s3://runs");
 * ```
 */
export function s3Url(bucket: string, key: string): string {
  return key === "" ? `s3://${bucket}` : `s3://${bucket}/${key}`;
}
