/**
 * The file names of a run folder, of the movement folder derived from two
 * runs and of a validation output folder: the one place they are written
 * down. Readers and writers take
 * the names from here.
 *
 * @module
 */

/** File names inside a run folder (README, "A run folder"). */
export const RUN_FILES = {
  /** One row per computed facility (methodology §9), facility currency. */
  loanResults: "loan_results.parquet",
  /** Gross carrying amount and write-off per facility. */
  carryingAmounts: "carrying_amounts.parquet",
  /** Input rows that failed validation, with `rejection_codes`. */
  rejected: "rejected.parquet",
  /** Every validation rule: rows checked, rows failed, examples. */
  dataQuality: "data_quality.json",
  /** Totals in the reporting currency (`Summary`). */
  summary: "summary.json",
  /** Inputs, code version, rows, timings, status (`Manifest`). */
  manifest: "manifest.json",
  /** The run's self-contained page. */
  report: "report.html",
  /** The narrative and the fact sheet it was written from (lib/narrative). */
  narrative: "narrative.json",
} as const;

/**
 * Files only the run folder of a part of a partitioned run holds
 * (docs/partitions.md), besides {@link RUN_FILES}: what `deno task merge`
 * adds up. A run writes them through `PendingRunFolder.path`; a replace
 * or a publish treats them as files a run writes.
 */
export const PART_FILES = {
  /**
   * The summary cells (`SummaryCells.groups`, lib/run/summary.ts) with
   * their precise sums not yet reduced (`preciseSumPartTypes`,
   * lib/precise_sum.ts: `<col>__cents_hi`, `<col>__cents_lo`,
   * `<col>__subcent_30`, `<col>__subcent_60`, `<col>__subcent_90`).
   */
  summaryCells: "summary_cells.parquet",
  /** The overlay cells of the same; absent when no overlay applied. */
  summaryCellsOverlays: "summary_cells_overlays.parquet",
  /**
   * The IFRS 7 tables' cells (`DisclosureCells.frame`, lib/disclosure),
   * precise sums not yet reduced.
   */
  disclosureCells: "disclosure_cells.parquet",
  /**
   * The capital summary's cells (`CapitalCells.frame`, lib/capital);
   * absent when the rules have no `capital:` section.
   */
  capitalCells: "capital_cells.parquet",
} as const;

/** A file of a run folder, by its key in {@link RUN_FILES}. */
export type RunFile = keyof typeof RUN_FILES;

/** File names inside a movement folder (docs/movement.md). */
export const MOVEMENT_FILES = {
  /** The whole movement result. */
  json: "movement.json",
  /** The reconciliation lines in long form, for BI tools. */
  parquet: "movement.parquet",
  /** The facility-level attribution the lines sum. */
  facilities: "movement_facilities.parquet",
  /**
   * The ECL walk by driver in long form (lib/walk; absent when the
   * movement ran without it).
   */
  walk: "movement_walk.parquet",
  /** The movement's page. */
  html: "movement.html",
  /** The narrative of the movement and the later run (lib/narrative). */
  narrative: "narrative.json",
} as const;

/** File names inside a validation output folder (`deno task validate --out`). */
export const VALIDATION_FILES = {
  /** The rows that broke no rule. */
  valid: "valid.parquet",
  /** The rejected rows with `rejection_codes`. */
  rejected: "rejected.parquet",
  /** The data-quality report. */
  dataQuality: "data_quality.json",
} as const;

/** Suffix of the folder a failed run is moved to: `<run_id>.failed`. */
export const FAILED_SUFFIX = ".failed";
