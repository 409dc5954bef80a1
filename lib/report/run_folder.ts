/**
 * Reading a run folder (architecture.md, "A run's outputs"): the JSON files
 * as typed objects and the Parquet tables as lazy frames.
 *
 * The report, the movement analysis and the dashboards all read run folders
 * through this module, so the run-folder contract is written down once. A
 * run folder is read from the directory given, never resolved from its run
 * id: the report is written while the folder still has its temporary
 * `.<run_id>.partial-*` name.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { Manifest } from "../run/manifest.ts";
import { coverageRatio, type Summary } from "../run/summary.ts";
import type { DataQualityReport } from "../validation/mod.ts";

/** The files of one run folder, read. */
export interface RunFolder {
  /** The directory the run was read from. */
  dir: string;
  summary: Summary;
  /** Absent when the folder has no `manifest.json` yet (mid-run). */
  manifest: Manifest | null;
  /** Absent when the folder has no `data_quality.json`. */
  dataQuality: DataQualityReport | null;
  /** `loan_results.parquet`: methodology §9, amounts in facility currency. */
  results: pl.LazyDataFrame;
  /** `carrying_amounts.parquet`: loan_id, currency, gross, write-off. */
  carrying: pl.LazyDataFrame;
}

/** Thrown when a run folder is missing a file or a file breaks the contract. */
export class RunFolderReadError extends Error {
  /**
   * @param dir The run folder.
   * @param file The file inside it, or `""` for the folder itself.
   * @param detail What is wrong.
   */
  constructor(readonly dir: string, readonly file: string, detail: string) {
    super(
      `Cannot read run folder ${dir}${file ? `: ${file}` : ""}: ${detail}`,
    );
    this.name = "RunFolderReadError";
  }
}

/** Joins a folder and a file name without depending on `node:path`. */
export function joinPath(dir: string, file: string): string {
  return dir.endsWith("/") ? `${dir}${file}` : `${dir}/${file}`;
}

async function readJson<T>(
  dir: string,
  file: string,
  required: boolean,
): Promise<T | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(joinPath(dir, file));
  } catch (e) {
    if (!required && e instanceof Deno.errors.NotFound) return null;
    throw new RunFolderReadError(dir, file, (e as Error).message);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new RunFolderReadError(
      dir,
      file,
      `not valid JSON: ${(e as Error).message}`,
    );
  }
}

function requireFile(dir: string, file: string): string {
  const path = joinPath(dir, file);
  try {
    Deno.statSync(path);
  } catch (e) {
    throw new RunFolderReadError(dir, file, (e as Error).message);
  }
  return path;
}

function checkSummary(dir: string, s: Summary): void {
  const missing = [
    "run_id",
    "reporting_date",
    "reporting_currency",
    "fx",
    "totals",
    "by_stage",
  ].filter((k) => (s as unknown as Record<string, unknown>)[k] === undefined);
  if (missing.length > 0) {
    throw new RunFolderReadError(
      dir,
      "summary.json",
      `missing key${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`,
    );
  }
  if (typeof s.fx.rates !== "object" || s.fx.rates === null) {
    throw new RunFolderReadError(
      dir,
      "summary.json",
      "key fx.rates is missing",
    );
  }
}

/**
 * Reads a run folder: `summary.json` (required), `manifest.json` and
 * `data_quality.json` (optional), and lazy scans of `loan_results.parquet`
 * and `carrying_amounts.parquet` (required).
 *
 * @example
 * ```ts ignore
 * const run = await readRunFolder("data/runs/2025-12-31_ab12");
 * console.log(run.summary.totals.ecl);
 * ```
 *
 * @param dir The run folder, possibly still under its temporary name.
 * @throws {RunFolderReadError} Naming the folder, the file and the problem.
 */
export async function readRunFolder(dir: string): Promise<RunFolder> {
  const summary = (await readJson<Summary>(dir, "summary.json", true))!;
  checkSummary(dir, summary);
  upgradeSummary(summary);
  const written = await readJson<Manifest>(dir, "manifest.json", false);
  // Manifests of runs older than the `warnings` field read as having none.
  const manifest = written && { ...written, warnings: written.warnings ?? [] };
  const dataQuality = await readJson<DataQualityReport>(
    dir,
    "data_quality.json",
    false,
  );
  const results = pl.scanParquet(requireFile(dir, "loan_results.parquet"));
  const carrying = pl.scanParquet(requireFile(dir, "carrying_amounts.parquet"));
  return { dir, summary, manifest, dataQuality, results, carrying };
}

/**
 * Brings a `summary.json` written by an earlier version to the current
 * reading, in place: no simplified products and no floor where the fields
 * did not exist yet, and every coverage ratio as ECL over the gross
 * carrying amount (methodology v2 §9; version 1 divided by EAD), which
 * the summary carries in both versions. On a current summary it changes
 * nothing. The loss allowance and provision of an older summary stay
 * absent: they need each facility's figures.
 */
export function upgradeSummary(summary: Summary): Summary {
  summary.simplified_products ??= [];
  summary.overlays ??= [];
  for (const o of summary.overlays) o.floored_facilities ??= 0;
  summary.overlay_floor ??= { facilities: 0, ecl_impact: 0 };
  const groups = [
    summary.totals,
    ...summary.by_stage,
    ...(summary.by_product ?? []),
    ...(summary.by_segment ?? []),
    ...(summary.by_region ?? []),
    ...(summary.by_currency ?? []),
  ];
  for (const g of groups) {
    g.coverage = coverageRatio(g.ecl, g.gross_carrying_amount);
  }
  return summary;
}

/** The stage number a `by_stage` key names (`"1"`, `"stage 1"`, `1`). */
export function stageOfKey(key: string | number): number {
  return Number(String(key).replace(/\D/g, ""));
}
