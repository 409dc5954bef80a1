/**
 * Merging the parts of a partitioned run into one ordinary run folder
 * (docs/partitions.md, "Merging"; issue 17): no ECL is recomputed.
 *
 * - the parts are read and checked to belong together (`parts.ts`);
 * - `loan_results.parquet`, `carrying_amounts.parquet` and
 *   `rejected.parquet` are the parts' files concatenated in part order
 *   (streamed, a Polars sink);
 * - `data_quality.json` adds the parts' counts rule by rule, keeps the
 *   first examples in part order and each distinct warning once, and
 *   recomputes the reject rate of the whole book, which must be within
 *   `validation.max_reject_rate` (methodology §1): above it, the merged
 *   run fails (`<run_id>.failed`, exit code 1) with the rejected rows and
 *   the data-quality report, as a run of the whole book would;
 * - `summary.json` comes from the parts' summary cells added up with
 *   their precise sums unreduced (`summaryFromCells(mergeSummaryCells)`,
 *   lib/run/summary.ts, lib/precise_sum.ts): whole cents add as integers,
 *   so the totals are those of one run of the whole book; the IFRS 7 §35M
 *   tables and the capital summary likewise from the parts' cells when
 *   they wrote them (lib/disclosure, lib/capital), else from the merged
 *   loan results;
 * - `narrative.json` and `report.html` as a run writes them, and
 *   `manifest.json` with the parts' inputs and `merged_from` (each part's
 *   run id, index and manifest SHA-256).
 *
 * The folder is written like a run's (`openRunFolder`: staged, published
 * whole, `--replace` only of a complete run), so the movement, the
 * dashboard and the BI export read it like any run.
 *
 * @module
 */
import pl from "nodejs-polars";
import { isDeepStrictEqual } from "node:util";
import { createHash } from "node:crypto";
import { UserError } from "../errors.ts";
import type { LazyFrame } from "../frame.ts";
import { loadRules, type Rules, rulesSha256 } from "../rules.ts";
import { type FxTable, loadFx } from "../fx.ts";
import { sha256Of } from "../storage/mod.ts";
import {
  type DataQualityReport,
  RejectRateError,
  type RuleReport,
} from "../validation/mod.ts";
import {
  type Manifest,
  MANIFEST_VERSION,
  openRunFolder,
  type PdModelRecord,
  type PendingRunFolder,
  RUN_FILES,
  type Summary,
} from "../run_folder/mod.ts";
import {
  byFilePortfolioSha256,
  checkRunFigures,
  failRunFolder,
  mergeSummaryCells,
  StepTimer,
  summaryFromCells,
} from "../run/mod.ts";
import { renderRunReport } from "../report/mod.ts";
import {
  type ExplainSettings,
  explainSettings,
  narrateRunFolder,
} from "../narrative/mod.ts";
import { readParts, type RunPart } from "./parts.ts";
import { mergedCapital, mergedDisclosures } from "./tables.ts";

/** Options of {@link mergeRuns}. */
export interface MergeOptions {
  /** The part folders, in any order (every part from 0 to N-1 once). */
  runs: readonly string[];
  /** Where the merged run folder is created. */
  out: string;
  /** The merged run's id. @default the parts' `partition.merged_run_id` */
  runId?: string;
  /** Replace a complete run of the same id. @default false */
  replace?: boolean;
  /**
   * The rules file, when it is no longer where the parts' manifests say;
   * it must have the parts' SHA-256. @default the parts' path
   */
  rules?: string;
  /** The FX table, likewise. @default the parts' path */
  fx?: string;
  /** Write `report.html` and `narrative.json`. @default true */
  report?: boolean;
  /** Who writes the narrative. @default the rules', else the template */
  explain?: Partial<ExplainSettings>;
  /** Called when a step starts, with the step's name. */
  onStep?: (step: string) => void;
}

/** What {@link mergeRuns} wrote. */
export interface MergeResult {
  /** The merged run's id. */
  runId: string;
  /** The complete merged run folder. */
  dir: string;
  /** Its `manifest.json`. */
  manifest: Manifest;
  /** Its `summary.json`. */
  summary: Summary;
  /** Its `data_quality.json`. */
  dataQuality: DataQualityReport;
}

/** How many examples of failing rows a rule keeps (as validation does). */
const EXAMPLES_KEPT = 5;

/**
 * The data-quality report of the whole book from its parts' reports:
 * counts added rule by rule, the first {@link EXAMPLES_KEPT} examples in
 * part order, each distinct warning once, and the reject rate and its
 * check recomputed over the whole book.
 *
 * @param file The portfolio the report names (the parts' input).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mergeDataQuality } from "./merge.ts";
 * import type { DataQualityReport } from "../validation/mod.ts";
 *
 * const part = (read: number, rejected: number): DataQualityReport => ({
 *   file: "p", reporting_date: "2025-12-31", rows_read: read,
 *   rows_valid: read - rejected, rows_rejected: rejected,
 *   reject_rate: rejected / read, max_reject_rate: 0.05,
 *   passed: rejected / read <= 0.05, warnings: [],
 *   rules: [{ code: "BALANCE_NEGATIVE", description: "balance < 0",
 *     rows_checked: read, rows_failed: rejected, examples: [] }],
 * });
 * // 6% in one part, 2% in the other: 4% of the book, within 5%.
 * const dq = mergeDataQuality([part(100, 6), part(100, 2)], "book.parquet");
 * assert.equal(dq.rows_rejected, 8);
 * assert.equal(dq.reject_rate, 0.04);
 * assert.equal(dq.passed, true);
 * ```
 */
export function mergeDataQuality(
  reports: readonly DataQualityReport[],
  file: string,
): DataQualityReport {
  const rules = new Map<string, RuleReport>();
  const warnings: string[] = [];
  let read = 0, valid = 0, rejected = 0;
  for (const r of reports) {
    read += r.rows_read;
    valid += r.rows_valid;
    rejected += r.rows_rejected;
    for (const rule of r.rules) {
      const acc = rules.get(rule.code);
      if (acc === undefined) {
        rules.set(rule.code, { ...rule, examples: [...rule.examples] });
        continue;
      }
      acc.rows_checked += rule.rows_checked;
      acc.rows_failed += rule.rows_failed;
      acc.examples.push(...rule.examples);
    }
    warnings.push(...r.warnings);
  }
  const max = reports[0]?.max_reject_rate ?? 0;
  const rate = read === 0 ? 0 : rejected / read;
  return {
    file,
    reporting_date: reports[0]?.reporting_date ?? null,
    rows_read: read,
    rows_valid: valid,
    rows_rejected: rejected,
    reject_rate: rate,
    max_reject_rate: max,
    passed: rate <= max,
    rules: [...rules.values()].map((r) => ({
      ...r,
      examples: r.examples.slice(0, EXAMPLES_KEPT),
    })),
    warnings: addWarningCounts(warnings),
  };
}

/** `1 row`, `1,234 rows` (as validation writes counts in warnings). */
const formatRows = (n: number) =>
  `${n.toLocaleString("en-US")} row${n === 1 ? "" : "s"}`;

/**
 * The parts' data-quality warnings as one run of the whole book gives
 * them: a warning that counts rows (`product leasing is not in the rules
 * file: 1 row rejected …`) once, with the parts' counts added; any other
 * once, in first-seen order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { addWarningCounts } from "./merge.ts";
 *
 * assert.deepEqual(
 *   addWarningCounts(["p: 1 row rejected", "x", "p: 1,200 rows rejected", "x"]),
 *   ["p: 1,201 rows rejected", "x"],
 * );
 * ```
 */
export function addWarningCounts(warnings: readonly string[]): string[] {
  const COUNT = /\b(\d{1,3}(?:,\d{3})*|\d+) rows?\b/;
  const merged = new Map<string, { text: string; count?: number }>();
  for (const w of warnings) {
    const m = COUNT.exec(w);
    const key = m === null ? w : w.replace(COUNT, "\u0000");
    const acc = merged.get(key);
    const n = m === null ? undefined : Number(m[1].replaceAll(",", ""));
    if (acc === undefined) merged.set(key, { text: w, count: n });
    else if (n !== undefined && acc.count !== undefined) acc.count += n;
  }
  return [...merged.entries()].map(([key, { text, count }]) =>
    count === undefined ? text : key.replace("\u0000", formatRows(count))
  );
}

/**
 * The PD-model records of the parts, added up per model (the facilities
 * scored, replaced, missing and unknown values of each part).
 */
function mergePdModels(
  lists: (PdModelRecord[] | undefined)[],
): PdModelRecord[] | undefined {
  const present = lists.filter((l) => l !== undefined);
  if (present.length === 0) return undefined;
  const addCounts = (
    a: Record<string, number>,
    b: Record<string, number>,
  ) => {
    for (const [k, v] of Object.entries(b)) a[k] = (a[k] ?? 0) + v;
  };
  const byModel = new Map<string, PdModelRecord>();
  for (const list of present) {
    for (const m of list) {
      const acc = byModel.get(m.model);
      if (acc === undefined) {
        byModel.set(m.model, structuredClone(m));
        continue;
      }
      addCounts(acc.facilities, m.facilities);
      addCounts(acc.missing, m.missing);
      addCounts(acc.unknown, m.unknown);
      acc.replaced += m.replaced;
      if (acc.in_default !== undefined && m.in_default !== undefined) {
        acc.in_default.kept += m.in_default.kept;
        acc.in_default.set_to_1 += m.in_default.set_to_1;
      }
    }
  }
  return [...byModel.values()];
}

/** A part's warning about its own reject rate: the merge checks the book's. */
const PART_REJECT_WARNING = /^part \d+ of \d+: .* rows rejected/;

/**
 * Loads the rules (or FX table) the parts were computed with, checking
 * its SHA-256 against theirs.
 */
async function sameFile<T>(
  what: string,
  flag: string,
  path: string,
  expected: string,
  load: (path: string) => Promise<T>,
  sha: (loaded: T, path: string) => Promise<string>,
): Promise<T> {
  let loaded: T;
  try {
    loaded = await load(path);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    throw new UserError(
      e.kind,
      `${e.message}; the parts were computed with ${what} ${path}: give ${flag} PATH if it has moved`,
      { cause: e },
    );
  }
  const actual = await sha(loaded, path);
  if (actual !== expected) {
    throw new UserError(
      "input",
      `Cannot merge: the ${what} ${path} has SHA-256 ${
        actual.slice(0, 12)
      }…, but the parts were computed with ${
        expected.slice(0, 12)
      }…; give ${flag} the file the parts used`,
    );
  }
  return loaded;
}

/** A run-folder file of every part, concatenated in part order into `dest`. */
async function concatenate(
  parts: readonly RunPart[],
  scan: (p: RunPart) => LazyFrame | Promise<LazyFrame>,
  dest: string,
  relaxed: boolean,
): Promise<void> {
  const scans = await Promise.all(parts.map(scan));
  const all = scans.length === 1
    ? scans[0]
    : pl.concat(scans, { how: relaxed ? "diagonalRelaxed" : "vertical" });
  await all.sinkParquet(dest).collect();
}

/**
 * Merges the parts of a partitioned run into one complete run folder
 * `<out>/<runId>/` and returns it.
 *
 * @throws {UserError} when the parts do not belong together (input, one
 *   line naming the folder), the rules or FX table are not the parts'
 *   (input), the run id is taken (usage); `RunFailedError` (lib/run) when the
 *   merge fails after its folder was opened (a reject rate above the
 *   limit: check, exit code 1), the folder moved to `<runId>.failed`.
 */
export async function mergeRuns(opts: MergeOptions): Promise<MergeResult> {
  const startedAt = new Date();
  const timer = new StepTimer();
  let current: string | undefined;
  const step = <T>(name: string, fn: () => Promise<T> | T) => {
    current = name;
    opts.onStep?.(name);
    return timer.time(name, fn);
  };
  const parts = await step("read_parts", () => readParts(opts.runs));
  const first = parts[0];
  const p0 = first.partition;
  const m0 = first.manifest;
  const { rules, fx } = await step("load_config", async () => ({
    rules: await sameFile<Rules>(
      "rules file",
      "--rules",
      opts.rules ?? m0.inputs.rules.path,
      p0.inputs.rules,
      loadRules,
      async (r, path) => rulesSha256(r) ?? await sha256Of(path),
    ),
    fx: await sameFile<FxTable>(
      "FX table",
      "--fx",
      opts.fx ?? m0.inputs.fx.path,
      p0.inputs.fx,
      loadFx,
      (f) => Promise.resolve(f.sha256),
    ),
  }));
  // Each part's cells reduce to its own summary.json (its totals, stages,
  // every figure summaryFromCells gives): cells that do not are not the
  // ones the part summarised.
  await step("check_parts", () => {
    for (const p of parts) checkCellsAgainstSummary(p, rules, fx);
  });
  const runId = opts.runId ?? p0.merged_run_id;
  if (PART_ID.test(runId)) {
    throw new UserError(
      "usage",
      `Cannot merge into run id ${runId}: it is named like a part (<run-id>.part-K-of-N); give --run-id the merged run's id (${p0.merged_run_id})`,
    );
  }
  const folder = await openRunFolder(opts.out, runId, {
    replace: opts.replace,
    inputs: parts.map((p) => p.dir),
  });
  const sum = (f: (p: RunPart) => number) =>
    parts.reduce((a, p) => a + f(p), 0);
  const warnings: string[] = [...folder.staleWarnings];
  if (m0.code_version.endsWith("+dirty")) {
    warnings.push(
      `the parts ran code ${m0.code_version}, a work tree with uncommitted changes: the same version string does not show that the parts' code was the same; run released code (IFRS9_CODE_VERSION, Dockerfile)`,
    );
  }
  for (const p of parts) {
    for (const w of p.manifest.warnings) {
      if (!PART_REJECT_WARNING.test(w) && !warnings.includes(w)) {
        warnings.push(w);
      }
    }
  }
  const pdModels = mergePdModels(parts.map((p) => p.manifest.pd_models));
  const manifest: Manifest = {
    run_id: runId,
    manifest_version: MANIFEST_VERSION,
    status: "running",
    reporting_date: m0.reporting_date,
    started_at: parts.map((p) => p.manifest.started_at).sort()[0] ??
      startedAt.toISOString(),
    finished_at: null,
    code_version: m0.code_version,
    ...(m0.methodology_version === undefined
      ? {}
      : { methodology_version: m0.methodology_version }),
    inputs: {
      // Split by file: from each part's own file (byFilePortfolioSha256).
      portfolio: p0.by === "file"
        ? {
          path: p0.input,
          sha256: byFilePortfolioSha256(
            parts.map((p) => [
              p.manifest.inputs.portfolio.sha256,
              p0.files![p.partition.index],
            ]),
          ),
        }
        : { ...m0.inputs.portfolio },
      rules: { ...m0.inputs.rules },
      fx: { ...m0.inputs.fx },
    },
    rows: {
      read: sum((p) => p.manifest.rows.read),
      valid: sum((p) => p.manifest.rows.valid),
      rejected: sum((p) => p.manifest.rows.rejected),
      computed: sum((p) => p.manifest.rows.computed),
    },
    timings_ms: timer.timings,
    warnings,
    ...(m0.plugins === undefined ? {} : { plugins: m0.plugins }),
    ...(pdModels === undefined ? {} : { pd_models: pdModels }),
    merged_from: parts.map((p) => ({
      run_id: p.name,
      index: p.partition.index,
      sha256: p.manifestSha256,
    })),
  };
  try {
    const result = await writeMerged(
      { parts, rules, fx, folder, manifest, opts, step },
    );
    // A part replaced (run --replace) while the merge read it: its
    // manifest is not the one verified.
    for (const p of parts) {
      const text = await p.folder.location.readText(RUN_FILES.manifest)
        .catch(() => "");
      if (
        createHash("sha256").update(text).digest("hex") !== p.manifestSha256
      ) {
        throw new UserError(
          "input",
          `Cannot merge: ${p.dir} was replaced or changed while the merge read it (its ${RUN_FILES.manifest} is not the one checked); rerun the merge once the parts are done`,
        );
      }
    }
    manifest.finished_at = new Date().toISOString();
    manifest.status = "complete";
    await folder.writeJson("manifest", manifest);
    const dir = await folder.commit();
    return { runId, dir, manifest, ...result };
  } catch (e) {
    // As a run fails (lib/run/run.ts): the folder set aside as .failed.
    throw await failRunFolder(folder, manifest, e, current);
  }
}

/** A part's run id: `<run-id>.part-<K>-of-<N>` (partRunId). */
const PART_ID = /\.part-\d+-of-\d+$/;

/**
 * Checks that a part's summary cells reduce to its own `summary.json`:
 * every field `summaryFromCells` gives but the run id equal.
 *
 * @throws {UserError} (input) naming the part and the first field that
 *   differs.
 */
function checkCellsAgainstSummary(p: RunPart, rules: Rules, fx: FxTable) {
  const fail = (what: string) =>
    new UserError(
      "input",
      `Cannot merge: ${p.dir} is not a complete part: its summary_cells.parquet ${what}; rerun that part`,
    );
  let base: Record<string, unknown>;
  try {
    base = JSON.parse(JSON.stringify(summaryFromCells(p.cells, {
      runId: p.manifest.run_id,
      reportingDate: p.manifest.reporting_date ?? "",
      rules,
      fx,
    })));
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw fail(`cannot be summarised (${(e as Error).message})`);
  }
  const own = p.folder.summary as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(base)) {
    if (key === "run_id") continue;
    if (!isDeepStrictEqual(value, own[key])) {
      throw fail(
        `does not add up to its ${RUN_FILES.summary} (field ${key} differs)`,
      );
    }
  }
}

/** What the merge's writing steps share. */
interface MergeContext {
  parts: RunPart[];
  rules: Rules;
  fx: FxTable;
  folder: PendingRunFolder;
  manifest: Manifest;
  opts: MergeOptions;
  step: <T>(name: string, fn: () => Promise<T> | T) => Promise<T>;
}

/** Writes the merged folder's files (all but the manifest). */
async function writeMerged(
  { parts, rules, fx, folder, manifest, opts, step }: MergeContext,
): Promise<{ summary: Summary; dataQuality: DataQualityReport }> {
  const p0 = parts[0].partition;
  const dataQuality = await step("write_validation", async () => {
    await concatenate(
      parts,
      async (p) => {
        await p.folder.location.prepareScan?.([RUN_FILES.rejected]);
        return pl.scanParquet(p.folder.location.scanSource(RUN_FILES.rejected));
      },
      folder.path("rejected"),
      // Split by file, each file's columns were read on their own.
      p0.by === "file",
    );
    const reports = parts.map((p) => {
      if (p.folder.dataQuality === null) {
        throw new UserError(
          "input",
          `Cannot merge: ${p.dir} is not a complete part: it has no ${RUN_FILES.dataQuality}`,
        );
      }
      return p.folder.dataQuality;
    });
    const dq = mergeDataQuality(reports, p0.input);
    await folder.writeJson("dataQuality", dq);
    // Methodology §1 over the whole book, as one run checks it.
    if (!dq.passed) throw new RejectRateError(dq);
    return dq;
  });
  await step("write_results", async () => {
    await concatenate(
      parts,
      (p) => p.folder.results,
      folder.path("loanResults"),
      false,
    );
    await concatenate(
      parts,
      (p) => p.folder.carrying,
      folder.path("carryingAmounts"),
      false,
    );
  });
  const summary = await step("summarize", async () => {
    const base = summaryFromCells(
      mergeSummaryCells(parts.map((p) => p.cells)),
      {
        runId: folder.runId,
        reportingDate: manifest.reporting_date ?? "",
        rules,
        fx,
      },
    );
    // The sensitivity table (lib/sensitivity) re-runs the engine over the
    // valid rows with shifted parameters: not cells, so not merged.
    if (parts.some((p) => "sensitivity" in p.folder.summary)) {
      manifest.warnings.push(
        "the parts' sensitivity tables (rules sensitivity:) are not merged: each covers its part only; run the sensitivity on the whole book",
      );
    }
    const capital = await mergedCapital(parts, folder, rules, manifest);
    const disclosures = await mergedDisclosures(parts, folder, base, manifest);
    const written = {
      ...base,
      ...(capital === undefined ? {} : { capital }),
      disclosures,
    } as Summary;
    await folder.writeJson("summary", written);
    return written;
  });
  manifest.warnings.push(
    ...await step("check_figures", () => checkRunFigures(folder, summary)),
  );
  if (opts.report ?? true) {
    manifest.status = "complete";
    const narrative = await step("narrative", async () => {
      const n = await narrateRunFolder(
        folder,
        manifest,
        explainSettings(rules.explain, opts.explain),
      );
      await folder.writeText("narrative", JSON.stringify(n, null, 2) + "\n");
      return n;
    });
    await step("report", async () => {
      const html = await renderRunReport(await folder.read(), {
        manifest,
        narrative,
      });
      await folder.writeText("report", html);
    });
  }
  return { summary, dataQuality };
}
