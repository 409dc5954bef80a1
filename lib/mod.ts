/**
 * The IFRS 9 expected-credit-loss library: every computation of the
 * workspace. Notebooks, `deno task` entry files and (later) the server only
 * call what is exported here.
 *
 * One run, step by step (each step takes and returns lazy frames where it
 * can, so a notebook can stop after any of them and look):
 *
 * ```ts
 * import pl from "nodejs-polars";
 * import {
 *   computeEcl, loadRules, scanPortfolio, stageFacilities, validatePortfolio,
 * } from "./mod.ts";
 *
 * const rules = await loadRules("config/ifrs9_rules.yaml");
 * const file = "data/sample/portfolio_2025-12-31.parquet";
 * const { valid, report } = await validatePortfolio(scanPortfolio(file), rules, { file });
 * const staged = stageFacilities(valid.lazy(), rules);          // methodology §2-§3
 * const results = await computeEcl(staged, rules);               // methodology §4-§9
 * console.log(report.rows_rejected, results.getColumn("ecl").sum());
 * ```
 *
 * `runPortfolio` does all of it and writes a run folder; `computeMovement`
 * compares two run folders (IFRS 7 §35H-§35I).
 *
 * @module
 */
export * from "./schema.ts";
export * from "./rules.ts";
export * from "./fx.ts";
export * from "./precise_sum.ts";
export * from "./io/mod.ts";
export * from "./validation/mod.ts";
export * from "./generate/mod.ts";
export * from "./engine/mod.ts";
export * from "./project.ts";
export * from "./run_folder/mod.ts";
export * from "./run/mod.ts";
export * from "./report/mod.ts";
export * from "./movement/mod.ts";
export * from "./plot/mod.ts";
