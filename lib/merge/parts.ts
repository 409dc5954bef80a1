/**
 * The parts of a partitioned run, read and checked to belong together
 * before anything is merged (docs/partitions.md, "Merging"): each folder
 * a complete run folder of one part (`manifest.json` with `status:
 * "complete"` and a `partition` record, `summary_cells.parquet`), all of
 * the same N and split, the same inputs (portfolio, rules file, FX table
 * by SHA-256), reporting date, methodology and code version, and every
 * part from 0 to N-1 exactly once. Each refusal is one line naming the
 * folder.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { basename, dirname, resolve } from "node:path";
import { UserError } from "../errors.ts";
import {
  FAILED_SUFFIX,
  locate,
  type Manifest,
  type PartitionRecord,
  readRunFolder,
  RUN_FILES,
  type RunFolder,
  RunFolderReadError,
} from "../run_folder/mod.ts";
import { partRunId, readSummaryCells, type SummaryCells } from "../run/mod.ts";

/** One part of a partitioned run, read. */
export interface RunPart {
  /** The folder as given. */
  dir: string;
  /** Its files (`readRunFolder`, untrusted: a part may have no facility). */
  folder: RunFolder;
  /** Its `manifest.json`. */
  manifest: Manifest;
  /** Its manifest's `partition` record. */
  partition: PartitionRecord;
  /** SHA-256 of its `manifest.json` bytes, for the merged manifest. */
  manifestSha256: string;
  /** Its summary cells (`summary_cells.parquet`). */
  cells: SummaryCells;
}

/** A refusal to merge: one line naming the folder; exit code 2. */
function refuse(message: string): UserError {
  return new UserError("input", `Cannot merge: ${message}`);
}

/** The hidden staging pattern of run_folder (`.<id>.partial-…`). */
const STAGING_LIKE = /^\..+\.(?:partial|replaced)-/;

/**
 * Reads one part folder.
 *
 * @throws {UserError} (input) when it is not a complete part: not a run
 *   folder, failed or staging, no `partition` in its manifest, no cells.
 */
export async function readPart(dir: string): Promise<RunPart> {
  const name = basename(locate(dir).href);
  if (name.endsWith(FAILED_SUFFIX) || STAGING_LIKE.test(name)) {
    throw refuse(
      `${dir} is not a complete part: it is a ${
        name.endsWith(FAILED_SUFFIX) ? "failed run's" : "staging"
      } folder; rerun that part (deno task run --partition K/N)`,
    );
  }
  let folder: RunFolder;
  try {
    folder = await readRunFolder(dir);
  } catch (e) {
    if (!(e instanceof RunFolderReadError)) throw e;
    throw refuse(`${dir} is not a complete part: ${e.message}`);
  }
  const manifest = folder.manifest;
  if (manifest === null) {
    throw refuse(
      `${dir} is not a complete part: it has no ${RUN_FILES.manifest}`,
    );
  }
  if (manifest.status !== "complete") {
    throw refuse(
      `${dir} is not a complete part: its ${RUN_FILES.manifest} says status "${manifest.status}"`,
    );
  }
  const partition = manifest.partition;
  if (
    typeof partition !== "object" || partition === null ||
    !Number.isInteger(partition.index) || !Number.isInteger(partition.count)
  ) {
    throw refuse(
      `${dir} is not a part of a partitioned run: its ${RUN_FILES.manifest} has no partition (write the parts with deno task run --partition K/N)`,
    );
  }
  let cells: SummaryCells;
  try {
    cells = await readSummaryCells(folder.location);
  } catch (e) {
    if (!(e instanceof RunFolderReadError)) throw e;
    throw refuse(`${dir} is not a complete part: ${e.message}`);
  }
  const text = await folder.location.readText(RUN_FILES.manifest);
  return {
    dir,
    folder,
    manifest,
    partition,
    manifestSha256: createHash("sha256").update(text).digest("hex"),
    cells,
  };
}

/** `abcdef123456…` */
const short = (sha: string | undefined) =>
  sha === undefined || sha === "" ? "(none)" : `${sha.slice(0, 12)}…`;

/**
 * Reads the parts and checks that they belong together; returns them in
 * part order.
 *
 * @throws {UserError} (usage) when no folder or the same folder twice is
 *   given; (input) when a folder is not a complete part, the parts differ
 *   in N, split, inputs, reporting date, methodology or code version, a
 *   part is given twice or one is missing: one line naming the folders.
 */
export async function readParts(dirs: readonly string[]): Promise<RunPart[]> {
  if (dirs.length === 0) {
    throw new UserError(
      "usage",
      "Cannot merge: no part folder given (--runs DIR...)",
    );
  }
  const seen = new Map<string, string>();
  for (const dir of dirs) {
    const key = locate(dir).href.startsWith("s3://")
      ? locate(dir).href
      : resolve(locate(dir).href);
    if (seen.has(key)) {
      throw new UserError(
        "usage",
        `Cannot merge: ${dir} is given twice (--runs ${
          seen.get(key)
        } and ${dir})`,
      );
    }
    seen.set(key, dir);
  }
  const parts: RunPart[] = [];
  for (const dir of dirs) parts.push(await readPart(dir));
  const first = parts[0];
  const p0 = first.partition;
  const of = (p: RunPart) =>
    `${p.dir} (part ${p.partition.index} of ${p.partition.count})`;
  for (const part of parts.slice(1)) {
    const p = part.partition;
    const differ = (what: string, a: unknown, b: unknown) => {
      throw refuse(
        `${of(part)} and ${
          of(first)
        } are not parts of one run: their ${what} differ (${a} and ${b})`,
      );
    };
    if (p.count !== p0.count) differ("numbers of parts N", p.count, p0.count);
    if (p.by !== p0.by) differ("splits (partition.by)", p.by, p0.by);
    if (p.inputs?.portfolio !== p0.inputs?.portfolio) {
      differ(
        `portfolios (${
          p.by === "file" ? "listings of part files" : "files"
        }, SHA-256)`,
        short(p.inputs?.portfolio),
        short(p0.inputs?.portfolio),
      );
    }
    if (p.inputs?.rules !== p0.inputs?.rules) {
      differ(
        "rules files (SHA-256)",
        short(p.inputs?.rules),
        short(p0.inputs?.rules),
      );
    }
    if (p.inputs?.fx !== p0.inputs?.fx) {
      differ("FX tables (SHA-256)", short(p.inputs?.fx), short(p0.inputs?.fx));
    }
    const m = part.manifest, m0 = first.manifest;
    if (m.reporting_date !== m0.reporting_date) {
      differ("reporting dates", m.reporting_date, m0.reporting_date);
    }
    if (m.methodology_version !== m0.methodology_version) {
      differ(
        "methodology versions",
        m.methodology_version,
        m0.methodology_version,
      );
    }
    if (m.code_version !== m0.code_version) {
      differ("code versions", m.code_version, m0.code_version);
    }
  }
  const byIndex = new Map<number, RunPart>();
  for (const part of parts) {
    const k = part.partition.index;
    const twin = byIndex.get(k);
    if (twin !== undefined) {
      throw refuse(
        `part ${k} of ${p0.count} is given twice: ${twin.dir} and ${part.dir}`,
      );
    }
    byIndex.set(k, part);
  }
  for (let k = 0; k < p0.count; k++) {
    if (!byIndex.has(k)) {
      const expected = partRunId(p0.merged_run_id, {
        index: k,
        count: p0.count,
      });
      throw refuse(
        `part ${k} of ${p0.count} is missing: expected ${expected} (in ${
          dirname(locate(first.dir).href)
        }); run it with deno task run --partition ${k}/${p0.count} and give every part to --runs`,
      );
    }
  }
  return [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, p]) => p);
}
