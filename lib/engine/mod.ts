/**
 * The ECL engine: the staging, projection and expected credit loss of the
 * methodology (`docs/methodology.md`, §2-§9), plus the simplified approach
 * (`docs/simplified_approach.md`).
 *
 * ## Pipeline
 *
 * ```
 * valid portfolio (LazyDataFrame, PORTFOLIO_SCHEMA)
 *   -> stageFacilities(valid, rules)      lazy: segment filled, §2 term, §3 stage
 *   -> computeEcl(staged, rules, opts)    §4-§8 per loan, §9 columns, overlays
 * ```
 *
 * Each step can be run alone in a notebook and its result inspected; this
 * example runs as it stands (`deno test --doc lib/engine/mod.ts`):
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { loadRules } from "../rules.ts";
 * import { computeEcl, projectFacility, stageFacilities } from "./mod.ts";
 *
 * const rules = await loadRules("config/ifrs9_rules.yaml");
 * // The §11 loan; validatePortfolio() delivers such typed frames.
 * const valid = pl.DataFrame({
 *   loan_id: ["L1"],
 *   reporting_date: ["2025-12-31"],
 *   origination_date: ["2021-03-15"],
 *   maturity_date: ["2027-12-31"],
 *   product: ["sme"],
 *   currency: ["EUR"],
 *   balance: [1000],
 *   interest_rate: [0.12],
 *   days_past_due: [0],
 *   pd_12m_origination: [0.01],
 *   pd_12m_current: [0.12],
 * }).withColumns(
 *   pl.col("reporting_date").str.strptime(pl.Date, "%Y-%m-%d"),
 *   pl.col("origination_date").str.strptime(pl.Date, "%Y-%m-%d"),
 *   pl.col("maturity_date").str.strptime(pl.Date, "%Y-%m-%d"),
 *   pl.col("days_past_due").cast(pl.Int32),
 * );
 *
 * const staged = stageFacilities(valid.lazy(), rules); // lazy: §2, §3
 * const stages = await staged.select("loan_id", "stage", "stage_reason").collect();
 * assert.equal(stages.getColumn("stage_reason").get(0), "PD_SICR");
 *
 * const results = await computeEcl(staged, rules); // §4-§9, one row per loan
 * assert.ok((results.getColumn("ecl").get(0) as number) > 0);
 *
 * const months = await projectFacility(valid, rules); // the same loan, by month
 * assert.equal(months.height, 24);
 * ```
 *
 * ## Where each methodology section lives
 *
 * | section | what | file |
 * |---|---|---|
 * | §2 | remaining term `m` | `term.ts` (`remainingTermExpr`) |
 * | §3 | staging rules, probation, simplified staging | `staging.ts` (`stagingRules`, `stageFacilities`) |
 * | §4 | PD term structure (`flat`/`shape`, `multiplier`/`z_shift`), survival, marginal PD | `_kernel.ts`; `Phi`, `PhiInv` in `normal.ts` |
 * | §5 | EAD by repayment type | `_kernel.ts` |
 * | §6 | LGD with collateral haircut and floor | `_kernel.ts` |
 * | §7 | discount factor at the EIR | `_kernel.ts` |
 * | §8 | ECL12, ECLLT, stage-driven ECL, weighting | `_kernel.ts`, driven by `ecl.ts` (`computeEcl`) |
 * | §8 | overlays (post-model adjustments) in file order, `add` shared pro rata in the reporting currency, floor at 0 | `overlays.ts` (`applyOverlays`) |
 * | §9 | loan-level output columns; `fx_rate`, `ead_rc`, `ecl_rc` in the reporting currency after them (§12) | `ecl.ts` (`withReportingCurrency`) |
 * | IFRS 9 §5.5.15 | simplified approach, provision matrix | `simplified.ts` |
 *
 * The relational work (term, staging, parameter codes, provision-matrix
 * rates, overlays) is Polars expressions on lazy frames. The monthly
 * projection is a loop over typed arrays in bounded batches of loans, so no
 * loan x month x scenario table is built; from 100,000 loans the batches
 * run on one worker per core (`_kernel_worker.ts`), each writing its
 * batch's results at the batch's offset, so the output is the same as on
 * one thread. `projectFacility` runs the same loop on one loan and records
 * every month.
 *
 * @module
 */
export {
  simplifiedProducts,
  STAGE_COLUMNS,
  stageFacilities,
  stagingRules,
  withOptionalColumns,
} from "./staging.ts";
export type { StagingRule } from "./staging.ts";
export { REMAINING_TERM, remainingTermExpr } from "./term.ts";
export {
  computeEcl,
  KernelPool,
  METHODOLOGY_VERSION,
  REPORTING_CURRENCY_COLUMNS,
  withReportingCurrency,
  withReversion,
} from "./ecl.ts";
export type { ComputeEclOptions } from "./ecl.ts";
export { projectFacility } from "./project.ts";
export {
  applyOverlayPlan,
  applyOverlays,
  checkOverlayNames,
  mergeOverlayCells,
  OVERLAY_FLOOR,
  OVERLAY_IMPACTS,
  overlayCells,
  overlayFilterExpr,
  type OverlayOptions,
  type OverlayPlan,
  overlayPlan,
  OVERLAYS_APPLIED,
  overlaysAllocate,
  type OverlayStep,
} from "./overlays.ts";
export {
  bucketLossRate,
  provisionLossRateExpr,
  receivableLossRate,
} from "./simplified.ts";
export { normCdf, normInv } from "./normal.ts";
