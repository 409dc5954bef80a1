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
 * A part is verified before anything of it is used (issue 17, "Tampered
 * parts"): every file its manifest lists in `partition.outputs` must be
 * there with that SHA-256, and no other file; the required files must be
 * among them; the row counts of its manifest, data-quality report, loan
 * results, rejected rows and summary cells must agree; the cells must have
 * the precise-sum columns of {@link checkCellColumns}; and the parts must
 * agree on every input of their manifests (portfolio, rules, FX table,
 * PD models, plugins), the manifest layout, the merged run id and the code
 * version, which must be known (`IFRS9_CODE_VERSION`, Dockerfile).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { basename, dirname, resolve } from "node:path";
import pl from "nodejs-polars";
import { columnTypesProblem, type DataType } from "../frame.ts";
import { UserError } from "../errors.ts";
import {
  FAILED_SUFFIX,
  locate,
  type Manifest,
  MANIFEST_VERSION,
  PART_FILES,
  type PartitionRecord,
  readRunFolder,
  RUN_FILES,
  type RunFolder,
  RunFolderReadError,
  stagingName,
} from "../run_folder/mod.ts";
import {
  MAX_PARTITIONS,
  partRunId,
  readSummaryCells,
  type SummaryCells,
} from "../run/mod.ts";
import { sha256Of } from "../storage/mod.ts";
import { preciseSumParts, preciseSumPartTypes } from "../precise_sum.ts";
import { DISCLOSURE_CELLS_FILE } from "../disclosure/mod.ts";
import { CAPITAL_CELLS_FILE } from "../capital/mod.ts";

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
  /** Its folder's name (the part's run id). */
  name: string;
  /** Its files' names (`partition.outputs`). */
  files: string[];
}

/**
 * The files every part has (and lists in `partition.outputs`); the
 * overlay, disclosure and capital cells are there when the part wrote them.
 */
export const REQUIRED_PART_FILES: readonly string[] = [
  RUN_FILES.loanResults,
  RUN_FILES.carryingAmounts,
  RUN_FILES.rejected,
  RUN_FILES.dataQuality,
  RUN_FILES.summary,
  PART_FILES.summaryCells,
];

/** `Float64` for Polars' `DataType(Float64)`. */

/** The suffix of the high part, the first, of a precise sum's columns. */
const HI_SUFFIX = preciseSumParts("")[0];

/**
 * Checks that summary cells have every part of each precise sum with its
 * type (`preciseSumPartTypes`, lib/precise_sum.ts: `__cents_hi` Float64,
 * the others Int64) and a Float64 `count`, as `summaryCells` writes them.
 *
 * @returns the problem, or null.
 */
export function checkCellColumns(
  frame: { columns: string[]; schema: Record<string, DataType> },
): string | null {
  const cols = new Set(frame.columns);
  if (!cols.has("count")) return "it has no count column";
  const sums = frame.columns.filter((c) => c.endsWith(HI_SUFFIX))
    .map((c) => c.slice(0, -HI_SUFFIX.length));
  if (sums.length === 0) {
    return `it holds no precise-sum parts (<column>${HI_SUFFIX})`;
  }
  return columnTypesProblem(frame, {
    count: pl.Float64,
    ...Object.fromEntries(
      sums.flatMap((s) => Object.entries(preciseSumPartTypes(s))),
    ),
  });
}

/** A refusal to merge: one line naming the folder; exit code 2. */
function refuse(message: string): UserError {
  return new UserError("input", `Cannot merge: ${message}`);
}

/**
 * Reads one part folder.
 *
 * @throws {UserError} (input) when it is not a complete part: not a run
 *   folder, failed or staging, no `partition` in its manifest, no cells.
 */
export async function readPart(dir: string): Promise<RunPart> {
  const name = basename(locate(dir).href);
  if (name.endsWith(FAILED_SUFFIX) || stagingName(name) !== undefined) {
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
  const not = (what: string) =>
    refuse(`${dir} is not a complete part: ${what}; rerun that part`);
  if (typeof partition !== "object" || partition === null) {
    throw refuse(
      `${dir} is not a part of a partitioned run: its ${RUN_FILES.manifest} has no partition (write the parts with deno task run --partition K/N)`,
    );
  }
  const problem = partitionProblem(partition);
  if (problem !== null) throw not(`its ${RUN_FILES.manifest} ${problem}`);
  if (manifest.manifest_version !== MANIFEST_VERSION) {
    throw not(
      `its ${RUN_FILES.manifest} has manifest_version ${
        JSON.stringify(manifest.manifest_version)
      }, not ${MANIFEST_VERSION} (this code's)`,
    );
  }
  const expected = partRunId(partition.merged_run_id, partition);
  if (name !== expected || manifest.run_id !== expected) {
    throw not(
      `its folder is named ${name} and its ${RUN_FILES.manifest} says run_id ${
        JSON.stringify(manifest.run_id)
      }, but its partition record says ${expected}`,
    );
  }
  const outputs = partition.outputs;
  if (typeof outputs !== "object" || outputs === null) {
    throw not(
      `its ${RUN_FILES.manifest} has no partition.outputs (the SHA-256 of its files), so its files cannot be checked (written by an earlier version)`,
    );
  }
  for (const file of REQUIRED_PART_FILES) {
    if (!(file in outputs)) {
      throw not(`its ${RUN_FILES.manifest} lists no ${file}`);
    }
  }
  // Every file the manifest lists, with its SHA-256, and no other file.
  const present = new Set(
    (await folder.location.list()).filter((n) => !n.startsWith(".")),
  );
  for (const file of present) {
    if (file !== RUN_FILES.manifest && !(file in outputs)) {
      throw not(
        `${file} is not one of the files its ${RUN_FILES.manifest} lists (partition.outputs)`,
      );
    }
  }
  await folder.location.prepareScan?.(Object.keys(outputs));
  for (const [file, sha] of Object.entries(outputs)) {
    if (!present.has(file)) throw not(`${file} is missing`);
    const actual = await sha256Of(folder.location.scanSource(file));
    if (actual !== sha) {
      throw not(
        `${file} has SHA-256 ${short(actual)}, not the ${
          short(sha)
        } its ${RUN_FILES.manifest} records: it was changed or damaged after the part completed`,
      );
    }
  }
  if (folder.dataQuality === null) {
    throw not(`it has no ${RUN_FILES.dataQuality}`);
  }
  let cells: SummaryCells;
  try {
    cells = await readSummaryCells(folder.location);
  } catch (e) {
    if (!(e instanceof RunFolderReadError)) throw e;
    throw not(e.message);
  }
  for (
    const [file, frame] of [
      [PART_FILES.summaryCells, cells.groups],
      [PART_FILES.summaryCellsOverlays, cells.overlays],
    ] as const
  ) {
    if (frame === null) continue;
    const bad = checkCellColumns(frame);
    if (bad !== null) throw not(`${file}: ${bad}`);
  }
  // The row counts of its files agree with its manifest.
  const rows = manifest.rows;
  const dq = folder.dataQuality;
  const cellCount = Number(
    cells.groups.select(pl.col("count").sum()).getColumn("count").get(0) ?? 0,
  );
  const height = async (file: string) => {
    const df = await pl.scanParquet(folder.location.scanSource(file))
      .select(pl.len().alias("n")).collect();
    return Number(df.getColumn("n").get(0));
  };
  const counts: [string, number, number][] = [
    [`${RUN_FILES.dataQuality} rows_read`, dq.rows_read, rows.read],
    [`${RUN_FILES.dataQuality} rows_rejected`, dq.rows_rejected, rows.rejected],
    [
      `${RUN_FILES.rejected} rows`,
      await height(RUN_FILES.rejected),
      rows.rejected,
    ],
    [
      `${RUN_FILES.loanResults} rows`,
      await height(RUN_FILES.loanResults),
      rows.computed,
    ],
    [`${PART_FILES.summaryCells} facilities (count)`, cellCount, rows.computed],
  ];
  for (const [what, actual, want] of counts) {
    if (actual !== want) {
      throw not(
        `its ${what} are ${actual}, but its ${RUN_FILES.manifest} says ${want}`,
      );
    }
  }
  const text = await folder.location.readText(RUN_FILES.manifest);
  return {
    dir,
    folder,
    manifest,
    partition,
    manifestSha256: createHash("sha256").update(text).digest("hex"),
    cells,
    name,
    files: [...present].filter((f) => f !== RUN_FILES.manifest).sort(),
  };
}

/**
 * What is wrong with a part's `partition` record, naming the field; null
 * when it is well-formed.
 */
export function partitionProblem(p: PartitionRecord): string | null {
  const count = p.count as unknown, index = p.index as unknown;
  if (
    typeof count !== "number" || !Number.isInteger(count) || count < 1 ||
    count > MAX_PARTITIONS
  ) {
    return `has partition.count ${
      JSON.stringify(count)
    }, not a whole number from 1 to ${MAX_PARTITIONS}`;
  }
  if (
    typeof index !== "number" || !Number.isInteger(index) || index < 0 ||
    index >= count
  ) {
    return `has partition.index ${
      JSON.stringify(index)
    }, not a whole number from 0 to ${count - 1}`;
  }
  if (p.by !== "loan_id_fnv1a32" && p.by !== "file") {
    return `has partition.by ${
      JSON.stringify(p.by)
    }, not "loan_id_fnv1a32" or "file"`;
  }
  if (typeof p.merged_run_id !== "string" || p.merged_run_id === "") {
    return `has partition.merged_run_id ${
      JSON.stringify(p.merged_run_id)
    }, not a run id`;
  }
  const inputs = p.inputs as Record<string, unknown> | undefined;
  for (const k of ["portfolio", "rules", "fx"]) {
    if (
      typeof inputs?.[k] !== "string" ||
      !/^[0-9a-f]{64}$/.test(inputs[k] as string)
    ) {
      return `has partition.inputs.${k} ${
        JSON.stringify(inputs?.[k])
      }, not a SHA-256`;
    }
  }
  if (
    p.by === "file" &&
    (!Array.isArray(p.files) || p.files.length !== count ||
      p.files.some((f) => typeof f !== "string"))
  ) {
    return `has partition.files ${
      JSON.stringify(p.files)?.slice(0, 80)
    }, not the ${count} part files`;
  }
  return null;
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
    if (p.inputs.portfolio !== p0.inputs.portfolio) {
      differ(
        `portfolios (${
          p.by === "file" ? "listings of part files" : "files"
        }, SHA-256)`,
        short(p.inputs.portfolio),
        short(p0.inputs.portfolio),
      );
    }
    if (p.input !== p0.input) {
      differ("portfolios (partition.input)", p.input, p0.input);
    }
    if (!isDeepStrictEqual(p.files ?? null, p0.files ?? null)) {
      differ(
        "part files (partition.files)",
        (p.files ?? []).join(", "),
        (p0.files ?? []).join(", "),
      );
    }
    const m = part.manifest, m0 = first.manifest;
    // Split by hash, every part read the same file.
    if (
      p.by !== "file" &&
      m.inputs.portfolio.sha256 !== m0.inputs.portfolio.sha256
    ) {
      differ(
        "portfolio files (inputs.portfolio.sha256)",
        short(m.inputs.portfolio.sha256),
        short(m0.inputs.portfolio.sha256),
      );
    }
    for (
      const [what, a, b] of [
        ["rules files (SHA-256)", p.inputs.rules, p0.inputs.rules],
        [
          "rules files (inputs.rules.sha256)",
          m.inputs.rules.sha256,
          m0.inputs.rules.sha256,
        ],
        ["FX tables (SHA-256)", p.inputs.fx, p0.inputs.fx],
        [
          "FX tables (inputs.fx.sha256)",
          m.inputs.fx.sha256,
          m0.inputs.fx.sha256,
        ],
      ] as const
    ) {
      if (a !== b) differ(what, short(a), short(b));
    }
    if (
      !isDeepStrictEqual(m.inputs.rules.parameters, m0.inputs.rules.parameters)
    ) {
      differ("rules parameters (inputs.rules.parameters)", "…", "…");
    }
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
    const models = (x: Manifest) =>
      (x.pd_models ?? []).map((d) => `${d.model} ${d.sha256} ${d.output}`)
        .sort();
    if (!isDeepStrictEqual(models(m), models(m0))) {
      differ(
        "PD models (pd_models: model, SHA-256, output)",
        models(m).join("; ") || "(none)",
        models(m0).join("; ") || "(none)",
      );
    }
    const plugins = (x: Manifest) =>
      (x.plugins ?? []).map((d) => ({
        name: d.name,
        module: d.module,
        sha256: d.sha256,
        options: d.options,
      }));
    if (!isDeepStrictEqual(plugins(m), plugins(m0))) {
      differ(
        "plugins (name, module SHA-256, options)",
        plugins(m).map((d) => `${d.name} ${short(d.sha256)}`).join("; ") ||
          "(none)",
        plugins(m0).map((d) => `${d.name} ${short(d.sha256)}`).join("; ") ||
          "(none)",
      );
    }
    if (p.merged_run_id !== p0.merged_run_id) {
      differ("merged run ids", p.merged_run_id, p0.merged_run_id);
    }
    // The IFRS 7 and capital cells: every part or none (a part without
    // them would make the merge recompute the tables differently).
    for (const file of [DISCLOSURE_CELLS_FILE, CAPITAL_CELLS_FILE]) {
      if (part.files.includes(file) !== first.files.includes(file)) {
        differ(
          `files (${file})`,
          part.files.includes(file) ? "present" : "absent",
          first.files.includes(file) ? "present" : "absent",
        );
      }
    }
  }
  const version = first.manifest.code_version;
  if (version === "unknown" || version === "") {
    throw refuse(
      `${of(first)} records code_version ${
        JSON.stringify(version)
      }: the parts' code cannot be shown to be the same; build the image with --build-arg IFRS9_CODE_VERSION=<git commit> (Dockerfile) or set IFRS9_CODE_VERSION, and rerun the parts`,
    );
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
  const ordered = [...byIndex.entries()].sort(([a], [b]) => a - b).map((
    [, p],
  ) => p);
  // The files concatenated have one schema in every part (split by file,
  // the rejected rows keep each file's own columns).
  const files: string[] = [RUN_FILES.loanResults, RUN_FILES.carryingAmounts];
  if (p0.by !== "file") files.push(RUN_FILES.rejected);
  for (const file of files) {
    let schema0: string | undefined;
    for (const part of ordered) {
      const schema = JSON.stringify(
        Object.entries(
          (await pl.scanParquet(part.folder.location.scanSource(file)).head(0)
            .collect()).schema,
        ).map(([k, v]) => [k, String(v)]),
      );
      if (schema0 === undefined) schema0 = schema;
      else if (schema !== schema0) {
        throw refuse(
          `${of(part)} and ${
            of(ordered[0])
          } are not parts of one run: the columns or types of their ${file} differ`,
        );
      }
    }
  }
  return ordered;
}
