/**
 * Partitioned runs (docs/partitions.md): `deno task run --partition K/N`
 * computes part K (zero-based) of N of a book, so that N machines can run
 * one book side by side and `deno task merge` (lib/merge) can put the
 * parts back together, exactly.
 *
 * Which facilities belong to part K:
 *
 * - one portfolio file (`by: "loan_id_fnv1a32"`): the rows whose `loan_id`
 *   (trimmed of surrounding whitespace, as validation reads it) hashes to
 *   K: `part(loan_id) = FNV-1a 32-bit hash of the UTF-8 bytes of loan_id,
 *   modulo N` (offset basis 2166136261, prime 16777619; Fowler, Noll and
 *   Vo, IETF draft-eastlake-fnv, §2). Rows whose `loan_id` is null or
 *   empty belong to part 0, so each is rejected exactly once. Every row of
 *   one `loan_id` lands in the same part, so the duplicate check of
 *   validation (methodology §1) sees all of them together;
 * - a folder (or `s3://bucket/prefix/`) holding exactly N portfolio files
 *   (`by: "file"`): part K reads the K-th file in byte-wise sorted name
 *   order, every row of it.
 *
 * The `loan_id` column is read once and hashed here ({@link loanIdParts});
 * the part's rows are then kept by their row numbers in the lazy scan, so
 * only they are validated, staged and computed. A `loan_id` longer than
 * {@link MAX_HASHED_BYTES} bytes (validation rejects every id over 256
 * characters) is hashed on its first {@link MAX_HASHED_BYTES} bytes.
 *
 * An `add` overlay is shared pro rata over everything it selects in the
 * whole book (methodology §8), which no part sees: rules with one are
 * refused with `--partition` (run the book in one piece instead). The
 * reject-rate limit (`validation.max_reject_rate`, methodology §1) is a
 * share of the whole book: a part records its own share but does not
 * fail on it (part 0 holds every row without a `loan_id`); the merge
 * checks the combined share and fails the merged run above the limit.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { extname, join } from "node:path";
import { createHash } from "node:crypto";
import pl from "nodejs-polars";
import { UserError } from "../errors.ts";
import type { DataType, Expr, LazyFrame } from "../frame.ts";
import type { Rules } from "../rules.ts";
import { COL } from "../schema.ts";
import { overlaysAllocate } from "../engine/mod.ts";
import {
  assertRejectRate,
  type DataQualityReport,
  parseColumn,
} from "../validation/mod.ts";
import {
  locate,
  type PartitionBy,
  type PartitionRecord,
} from "../run_folder/mod.ts";
import { isS3Url } from "../storage/mod.ts";
import { sha256File } from "./manifest.ts";

/** The largest number of parts a book may be split into. */
export const MAX_PARTITIONS = 10_000;

/**
 * The environment variables `--partition env/N` takes the part's index
 * from, in this order: the first one set is used. `JOB_COMPLETION_INDEX`
 * (a Kubernetes Indexed Job), `AWS_BATCH_JOB_ARRAY_INDEX` (an AWS Batch
 * array job), `CLOUD_RUN_TASK_INDEX` (a Cloud Run job).
 */
export const PARTITION_ENV_VARS = [
  "JOB_COMPLETION_INDEX",
  "AWS_BATCH_JOB_ARRAY_INDEX",
  "CLOUD_RUN_TASK_INDEX",
] as const;

/** FNV-1a 32-bit offset basis (draft-eastlake-fnv §2.3). */
export const FNV1A32_OFFSET_BASIS = 2166136261;
/** FNV-1a 32-bit prime, 2^24 + 2^8 + 0x93 (draft-eastlake-fnv §2.1). */
export const FNV1A32_PRIME = 16777619;
/**
 * Bytes of a `loan_id` that the part hash reads: 1,024, four bytes per
 * character of the longest id validation accepts (256 characters).
 */
export const MAX_HASHED_BYTES = 1024;

/** Which part of how many a run computes. */
export interface Partition {
  /** The part, zero-based: 0 <= index < count. */
  index: number;
  /** How many parts the book is split into: 1 <= count <= {@link MAX_PARTITIONS}. */
  count: number;
  /** Where the index came from: `--partition` or an environment variable. */
  source?: string;
}

/** A {@link Partition} resolved against the portfolio it splits. */
export interface PartitionPlan extends Partition {
  /** How the rows are split. */
  by: PartitionBy;
  /** The portfolio as given: a file, or a folder / prefix of part files. */
  input: string;
  /** The file this part reads (the input itself when split by hash). */
  portfolio: string;
  /** Split by file: the portfolio files' names, byte-wise sorted. */
  files?: string[];
  /**
   * Split by hash, once {@link partitionRows} has run: the part's rows'
   * 0-based row numbers in the file, in order.
   */
  fileRows?: number[];
  /**
   * Split by hash, once {@link partitionRows} has run: the whole book's
   * reporting date (the most frequent readable `reporting_date` of every
   * row of the file, the latest on a tie: validation's rule), which the
   * part's rows are validated against; null when no row has one.
   */
  bookDate?: string | null;
}

/** A usage error of `--partition`. */
function partitionError(message: string): UserError {
  return new UserError("usage", message);
}

/**
 * A whole number written in decimal digits only, without a sign, spaces
 * or leading zeros (`0`, `7`, `12`; not `07`, ` 1`, `1.0`), or null.
 */
function decimal(text: string): number | null {
  return /^(?:0|[1-9]\d{0,8})$/.test(text) ? Number(text) : null;
}

/**
 * Parses `--partition K/N` (K zero-based) or `--partition env/N` (K from
 * the first of {@link PARTITION_ENV_VARS} that is set).
 *
 * @param env Reads an environment variable. @default Deno.env.get
 * @throws {UserError} (usage) naming the flag, or the variable and its
 *   value, when K or N is not a whole number, N is outside
 *   [1, {@link MAX_PARTITIONS}], K is not in [0, N), or no variable is set.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePartition } from "./partition.ts";
 *
 * assert.deepEqual(parsePartition("2/3"), { index: 2, count: 3, source: "--partition" });
 * const env = (name: string) => name === "AWS_BATCH_JOB_ARRAY_INDEX" ? "1" : undefined;
 * assert.deepEqual(parsePartition("env/4", env), {
 *   index: 1,
 *   count: 4,
 *   source: "AWS_BATCH_JOB_ARRAY_INDEX",
 * });
 * assert.throws(() => parsePartition("3/3"), /--partition 3\/3: K must be from 0 to 2/);
 * ```
 */
export function parsePartition(
  text: string,
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): Partition {
  const m = /^([^/]*)\/([^/]*)$/.exec(text);
  const usage =
    `write K/N (part K, zero-based, of N; e.g. 0/4) or env/N (K from ${
      PARTITION_ENV_VARS.join(", ")
    })`;
  if (m === null) {
    throw partitionError(`--partition ${JSON.stringify(text)}: ${usage}`);
  }
  const count = decimal(m[2]);
  if (count === null || count < 1 || count > MAX_PARTITIONS) {
    const k = m[1] === "env" || decimal(m[1]) !== null
      ? ""
      : ` and K must be a whole number from 0 to N-1, not ${
        JSON.stringify(m[1])
      }`;
    throw partitionError(
      `--partition ${
        JSON.stringify(text)
      }: N must be a whole number from 1 to ${MAX_PARTITIONS} (MAX_PARTITIONS), not ${
        JSON.stringify(m[2])
      }${k}`,
    );
  }
  if (m[1] === "env") {
    // An empty variable counts as unset: the next one is tried.
    const name = PARTITION_ENV_VARS.find((v) => (env(v) ?? "") !== "");
    if (name === undefined) {
      throw partitionError(
        `--partition ${text}: none of ${
          PARTITION_ENV_VARS.join(", ")
        } is set, so the part's index is unknown; run it as an indexed job, or give --partition K/${count}`,
      );
    }
    const value = env(name)!;
    const index = decimal(value);
    if (index === null || index >= count) {
      throw partitionError(
        `--partition ${text}: ${name} is ${
          JSON.stringify(value)
        }, not a whole number from 0 to ${
          count - 1
        }; the job's parallelism and N must agree`,
      );
    }
    // A Cloud Run job says how many tasks it runs: it must be N.
    const tasks = env("CLOUD_RUN_TASK_COUNT");
    if (
      name === "CLOUD_RUN_TASK_INDEX" && tasks !== undefined && tasks !== "" &&
      tasks !== String(count)
    ) {
      throw partitionError(
        `--partition ${text}: CLOUD_RUN_TASK_COUNT is ${
          JSON.stringify(tasks)
        }, not N = ${count}; the job's taskCount and N must agree`,
      );
    }
    return { index, count, source: name };
  }
  const index = decimal(m[1]);
  if (index === null || index >= count) {
    throw partitionError(
      `--partition ${text}: K must be from 0 to ${
        count - 1
      } (zero-based), not ${JSON.stringify(m[1])}; ${usage}`,
    );
  }
  return { index, count, source: "--partition" };
}

/**
 * The FNV-1a 32-bit hash of the UTF-8 bytes of `text` (the first
 * {@link MAX_HASHED_BYTES}), as {@link partitionRows} splits a book.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fnv1a32 } from "./partition.ts";
 *
 * assert.equal(fnv1a32(""), 2166136261);
 * assert.equal(fnv1a32("a"), 0xe40c292c); // draft-eastlake-fnv test vector
 * assert.equal(fnv1a32("foobar"), 0xbf9cf968);
 * ```
 */
export function fnv1a32(text: string): number {
  // An ASCII id's UTF-8 bytes are its character codes.
  let h = FNV1A32_OFFSET_BASIS;
  const n = Math.min(text.length, MAX_HASHED_BYTES);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return fnv1a32Bytes(new TextEncoder().encode(text));
    h = Math.imul(h ^ c, FNV1A32_PRIME);
  }
  return h >>> 0;
}

/** {@link fnv1a32} of bytes (the first {@link MAX_HASHED_BYTES}). */
function fnv1a32Bytes(bytes: Uint8Array): number {
  let h = FNV1A32_OFFSET_BASIS;
  for (let i = 0; i < Math.min(bytes.length, MAX_HASHED_BYTES); i++) {
    h = Math.imul(h ^ bytes[i], FNV1A32_PRIME) >>> 0;
  }
  return h >>> 0;
}

/** Ids hashed per slice of the column (bounds the JavaScript strings held). */
const HASH_SLICE = 250_000;

/**
 * The part (0 <= part < count) of each row of `frame`, in scan order: the
 * FNV-1a 32 hash of its `loanId` value modulo `count`, 0 where it is null.
 * Reads the `loanId` column once; the ids are hashed in slices of
 * {@link HASH_SLICE} (an ASCII id byte by byte from its characters, any
 * other through its UTF-8 encoding).
 *
 * @param loanId The loan_id as validation reads it (trimmed, empty as null).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { fnv1a32, loanIdParts } from "./partition.ts";
 *
 * const ids = ["L1", "héllo", null, "foobar"];
 * const parts = await loanIdParts(
 *   pl.DataFrame({ loan_id: ids }).lazy(), pl.col("loan_id"), 7,
 * );
 * assert.deepEqual(
 *   [...parts],
 *   ids.map((id) => id === null ? 0 : fnv1a32(id) % 7),
 * );
 * ```
 */
export async function loanIdParts(
  frame: LazyFrame,
  loanId: Expr,
  count: number,
): Promise<Uint32Array> {
  const ids = (await frame.select(loanId.cast(pl.Utf8).alias("id")).collect())
    .getColumn("id");
  const parts = new Uint32Array(ids.length);
  for (let off = 0; off < ids.length; off += HASH_SLICE) {
    const slice = ids.slice(off, HASH_SLICE).toArray() as (string | null)[];
    for (let i = 0; i < slice.length; i++) {
      const id = slice[i];
      parts[off + i] = id === null ? 0 : fnv1a32(id) % count;
    }
  }
  return parts;
}

/** Portfolio file extensions a partitioned input folder's files may have. */
const PORTFOLIO_EXTENSIONS = new Set([
  ".csv",
  ".parquet",
  ".pq",
  ".arrow",
  ".ipc",
  ".feather",
  ".arrows",
]);

/** The format of each portfolio file extension (a folder's files must share one). */
const FORMAT_OF: Record<string, string> = {
  ".csv": "CSV",
  ".parquet": "Parquet",
  ".pq": "Parquet",
  ".arrow": "Arrow IPC",
  ".ipc": "Arrow IPC",
  ".feather": "Arrow IPC",
  ".arrows": "Arrow IPC stream",
};

/** Byte-wise order of the UTF-8 names (not UTF-16 code units). */
const byteOrder = (a: string, b: string) =>
  Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));

/** Whether `portfolio` names a folder (or an object-storage prefix). */
async function isFolder(portfolio: string): Promise<boolean> {
  if (portfolio.endsWith("/")) return true;
  if (isS3Url(portfolio)) return false;
  try {
    return (await Deno.stat(portfolio)).isDirectory;
  } catch {
    // Missing: the scan reports it, naming the file.
    return false;
  }
}

/**
 * Resolves a partition against the portfolio: a file is split by the
 * hash of `loan_id`; a folder (or `s3://bucket/prefix/`) must hold
 * exactly `count` portfolio files (`.csv`, `.parquet`, `.arrow`, …;
 * hidden files and other files such as FX tables are ignored), of which
 * the part reads the `index`-th in byte-wise sorted name order.
 *
 * @throws {UserError} (usage) when the folder cannot be listed or holds
 *   another number of portfolio files than `count`, naming it.
 */
export async function planPartition(
  portfolio: string,
  partition: Partition,
): Promise<PartitionPlan> {
  const { index, count } = partition;
  if (!await isFolder(portfolio)) {
    return {
      ...partition,
      by: "loan_id_fnv1a32",
      input: portfolio,
      portfolio,
    };
  }
  const folder = locate(portfolio);
  let names: string[];
  try {
    names = await folder.list();
  } catch (e) {
    throw partitionError(
      `--portfolio ${portfolio}: the folder of part files cannot be listed: ${
        (e as Error).message
      }`,
    );
  }
  const files = names.filter((n) =>
    !n.startsWith(".") && PORTFOLIO_EXTENSIONS.has(extname(n).toLowerCase())
  ).sort(byteOrder);
  const formats = new Set(
    files.map((n) => FORMAT_OF[extname(n).toLowerCase()]),
  );
  if (formats.size > 1) {
    throw partitionError(
      `--portfolio ${portfolio}: the part files are of different formats (${
        [...formats].sort().join(", ")
      }: ${files.slice(0, 5).join(", ")}${
        files.length > 5 ? ", …" : ""
      }); a CSV file's columns are read as text and a Parquet file's as typed, so the parts' rejected rows would not agree: convert them to one format (docs/partitions.md)`,
    );
  }
  if (files.length !== count) {
    throw partitionError(
      `--portfolio ${portfolio}: a partitioned input folder must hold exactly N = ${count} portfolio files (one per part), but it holds ${files.length}${
        files.length > 0
          ? ` (${files.slice(0, 5).join(", ")}${files.length > 5 ? ", …" : ""})`
          : ""
      }; give --partition K/${files.length} or fix the folder`,
    );
  }
  const href = folder.href;
  return {
    ...partition,
    by: "file",
    input: portfolio,
    portfolio: isS3Url(href)
      ? `${href}/${files[index]}`
      : join(href, files[index]),
    files,
  };
}

/**
 * The rows of part `plan.index` of a scanned portfolio (all of them when
 * the input is split by file).
 *
 * @param schema The scanned columns' types (`requireColumns`).
 * @throws {UserError} (usage) when the rules have an overlay with `add`,
 *   which is shared over the whole book (methodology §8) and so cannot be
 *   applied part by part.
 */
export async function partitionRows(
  raw: LazyFrame,
  schema: Record<string, DataType>,
  plan: PartitionPlan,
  rules: Rules,
): Promise<LazyFrame> {
  refuseAllocatingOverlays(rules);
  if (plan.by === "file") return raw;
  const { value } = parseColumn(COL.loanId, "string", schema[COL.loanId]);
  const parts = await loanIdParts(raw, value, plan.count);
  plan.bookDate = await bookReportingDate(raw, schema);
  const rows: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] === plan.index) rows.push(i);
  }
  // No row in this part (N close to the book's size): an empty complete
  // part, validated against the book's date, which the merge adds as
  // nothing.
  plan.fileRows = rows;
  // The scan yields its rows in the same order every time, so the part is
  // its rows' numbers; `__` names are refused in inputs (requireColumns).
  const ROW = "__partition_row";
  return raw.withRowIndex(ROW)
    .filter(pl.col(ROW).isIn(pl.lit(pl.Series(ROW, rows, pl.UInt32))))
    .drop(ROW);
}

/**
 * Rewrites the `row N` examples of a part's data-quality report (a row
 * without a loan_id, numbered by validation within the part) to the row
 * of the file it is ({@link PartitionPlan.fileRows}), so the merged report
 * names the rows a run of the whole book names. Split by file, the part's
 * rows are its file's, unchanged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileRowExamples } from "./partition.ts";
 *
 * const report = { rules: [{ examples: ["L7", "row 2"] }] };
 * // The part holds rows 3, 8 and 13 of the file (0-based 2, 7, 12).
 * fileRowExamples(report, { fileRows: [2, 7, 12] });
 * assert.deepEqual(report.rules[0].examples, ["L7", "row 8"]);
 * ```
 */
export function fileRowExamples(
  report: { rules: { examples: string[] }[] },
  plan: { fileRows?: number[] },
): void {
  const rows = plan.fileRows;
  if (rows === undefined) return;
  for (const rule of report.rules) {
    rule.examples = rule.examples.map((e) => {
      const m = /^row (\d+)$/.exec(e);
      const file = m === null ? undefined : rows[Number(m[1]) - 1];
      return file === undefined ? e : `row ${file + 1}`;
    });
  }
}

/**
 * The reporting date of a whole book as validation takes it (methodology
 * §1): the most frequent readable `reporting_date`, the latest on a tie;
 * null when no row has one or the column cannot be read. Reads that
 * column only.
 */
export async function bookReportingDate(
  raw: LazyFrame,
  schema: Record<string, DataType>,
): Promise<string | null> {
  const { value } = parseColumn(
    COL.reportingDate,
    "date",
    schema[COL.reportingDate],
  );
  try {
    const df = await raw.select(value.alias("d")).dropNulls()
      .groupBy("d").agg(pl.len().alias("n"))
      .sort(["n", "d"], true).head(1)
      .select(pl.col("d").cast(pl.Utf8)).collect();
    return df.height === 0 ? null : df.getColumn("d").get(0) as string;
  } catch {
    // Rows Polars cannot read: validation reports them, naming the file.
    return null;
  }
}

/**
 * Refuses rules with an `add` overlay for a partitioned run: its amount
 * is shared pro rata over every facility it selects in the whole book
 * (methodology §8), which no part sees.
 */
export function refuseAllocatingOverlays(rules: Rules): void {
  if (!overlaysAllocate(rules.overlays)) return;
  const names = rules.overlays.filter((o) => o.add !== undefined).map((o) =>
    o.name
  );
  throw partitionError(
    `--partition cannot be used with rules that have an overlay with add (${
      names.join(", ")
    }): an add is shared pro rata over everything it selects in the whole book (methodology §8), which no part sees; run the book in one piece, or express the overlay as a multiplier (docs/partitions.md)`,
  );
}

/**
 * The run id of part K of N of the merged run `runId`:
 * `<run-id>.part-<K>-of-<N>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { partRunId } from "./partition.ts";
 *
 * assert.equal(partRunId("q4", { index: 0, count: 3 }), "q4.part-0-of-3");
 * ```
 */
export function partRunId(runId: string, partition: Partition): string {
  return `${runId}.part-${partition.index}-of-${partition.count}`;
}

/**
 * The `partition` record of a part's manifest. `portfolio` is the SHA-256
 * of the whole input file when split by hash; split by file, the SHA-256
 * of the folder's listing (the sorted file names, one per line), the
 * part's own file being hashed in `inputs.portfolio` as in any run.
 */
export function partitionRecord(
  plan: PartitionPlan,
  mergedRunId: string,
  inputs: { portfolio: string; rules: string; fx: string },
): PartitionRecord {
  return {
    index: plan.index,
    count: plan.count,
    by: plan.by,
    merged_run_id: mergedRunId,
    input: plan.input,
    inputs: {
      portfolio: plan.files === undefined
        ? inputs.portfolio
        : createHash("sha256").update(plan.files.join("\n") + "\n").digest(
          "hex",
        ),
      rules: inputs.rules,
      fx: inputs.fx,
    },
    ...(plan.files === undefined ? {} : { files: plan.files }),
  };
}

/**
 * The SHA-256 of every file of a part's staged folder but
 * `manifest.json` (and hidden scratch entries), by name, for the part's
 * `partition.outputs`: the merge checks each file against it before using
 * it, so a part edited or damaged after it completed is refused.
 *
 * @param dir The staged folder on this machine (`PendingRunFolder.dir`).
 */
export async function partOutputHashes(
  dir: string,
): Promise<Record<string, string>> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && !e.name.startsWith(".") && e.name !== "manifest.json") {
      names.push(e.name);
    }
  }
  const out: Record<string, string> = {};
  for (const name of names.sort()) {
    out[name] = await sha256File(join(dir, name));
  }
  return out;
}

/**
 * The SHA-256 of the portfolio of a run split by file, from its parts'
 * own files: the SHA-256 of the lines `<file's SHA-256>  <file name>\n`
 * (the `sha256sum` format), one per file in part order. Any file changed,
 * added, removed or renamed changes it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHash } from "node:crypto";
 * import { byFilePortfolioSha256 } from "./partition.ts";
 *
 * const line = (sha: string, name: string) => `${sha}  ${name}\n`;
 * assert.equal(
 *   byFilePortfolioSha256([["aa", "a.csv"], ["bb", "b.csv"]]),
 *   createHash("sha256").update(line("aa", "a.csv") + line("bb", "b.csv")).digest("hex"),
 * );
 * ```
 */
export function byFilePortfolioSha256(
  files: readonly (readonly [sha256: string, name: string])[],
): string {
  const hash = createHash("sha256");
  for (const [sha, name] of files) hash.update(`${sha}  ${name}\n`);
  return hash.digest("hex");
}

/**
 * The reject-rate check of a run (methodology §1): a whole run fails above
 * `validation.max_reject_rate` ({@link assertRejectRate}); a part does not
 * (the limit is a share of the whole book, which the merge checks) and
 * gets a warning instead when its own share is above it.
 *
 * @returns The warnings for the manifest.
 * @throws {RejectRateError} for a run that is not a part, above the limit.
 */
export function rejectRateCheck(
  report: DataQualityReport,
  partition: Partition | undefined,
): string[] {
  if (partition === undefined) {
    assertRejectRate(report);
    return [];
  }
  if (report.passed) return [];
  return [
    `part ${partition.index} of ${partition.count}: ${report.rows_rejected} of ${report.rows_read} rows rejected (${
      (report.reject_rate * 100).toFixed(2)
    }%), above validation.max_reject_rate ${
      (report.max_reject_rate * 100).toFixed(2)
    }%; the limit applies to the whole book, which deno task merge checks`,
  ];
}
