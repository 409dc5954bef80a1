/**
 * Staging (methodology §3): a lazy step that assigns each facility its
 * IFRS 9 stage, the reason (the first rule that holds) and every rule that
 * holds (`stage_triggers`), and adds the remaining term of §2.
 *
 * Rules, in order (thresholds from `staging` in the rules file):
 *
 * | order | rule | stage | reason |
 * |---|---|---|---|
 * | 1 | `default_flag` | 3 | `DEFAULT_FLAG` |
 * | 2 | `days_past_due >= dpd_default` | 3 | `DPD_90` |
 * | - | opt-in probation (below) | 2 | `PROBATION` |
 * | 3 | `days_past_due > dpd_sicr` | 2 | `DPD_30` |
 * | 4 | `watchlist` | 2 | `WATCHLIST` |
 * | 5 | `forborne` | 2 | `FORBORNE` |
 * | 6 | PD test | 2 | `PD_SICR` |
 * | - | none | 1 | `PERFORMING` |
 *
 * Probation (`staging.probation_exit_via_stage2: true`, off by default): a
 * facility whose `previous_stage` is 3 and that meets neither stage-3 rule is
 * stage 2 with reason `PROBATION`, whatever rules 3-6 say, so a cured default
 * passes through lifetime ECL before it may return to stage 1 (IFRS 9
 * B5.5.27; the EBA guidelines on the definition of default, §71-72, ask for a
 * probation period). `PROBATION` then also appears in `stage_triggers`,
 * between the stage-3 rules and rule 3.
 *
 * Simplified approach (`approach: simplified` on the product, IFRS 9
 * §5.5.15): no SICR assessment; stage 3 when rule 1 or 2 holds (reason and
 * triggers as above, only those two rules are listed), otherwise stage 2 with
 * reason `SIMPLIFIED` and no trigger (see docs/simplified_approach.md).
 *
 * @module
 */
import pl from "nodejs-polars";
import type { Expr, LazyFrame } from "../frame.ts";
import {
  COL,
  POLARS_TYPE,
  PORTFOLIO_COLUMNS,
  STAGE_REASON,
} from "../schema.ts";
import { requireValidRules, type Rules } from "../rules.ts";
import { firstMatch, flag, isInList, labelsWhere } from "./_expr.ts";
import { remainingTermExpr } from "./term.ts";

/** Columns added by {@link stageFacilities}. */
export const STAGE_COLUMNS = {
  stage: "stage",
  stageReason: "stage_reason",
  stageTriggers: "stage_triggers",
  remainingTerm: "remaining_term_months",
} as const;

/** Tolerance of the relative PD test (methodology §3). */
export const PD_RELATIVE_TOLERANCE = 1e-9;
/** Tolerance of the absolute PD test (methodology §3). */
export const PD_ABSOLUTE_TOLERANCE = 1e-12;

/** One staging rule: its reason code, the stage it gives and its condition. */
export interface StagingRule {
  /**
   * The reason code it gives, a value of {@link STAGE_REASON} (`DPD_90`,
   * `PD_SICR`, ...), written to `stage_reason` when it is the first rule
   * that holds and listed in `stage_triggers` whenever it holds.
   */
  reason: string;
  /** The IFRS 9 stage it gives: 3 credit-impaired, 2 SICR (methodology §3). */
  stage: 1 | 2 | 3;
  /**
   * The condition on the portfolio columns, with the rules file's
   * thresholds: true on the facilities where the rule holds, false (never
   * null) elsewhere, a missing value counting as false.
   */
  when: Expr;
}

/** Products configured with `approach: simplified`. */
export function simplifiedProducts(rules: Rules): string[] {
  return Object.entries(rules.products)
    .filter(([, p]) => p.approach === "simplified")
    .map(([name]) => name);
}

/**
 * The rules of methodology §3 as named expressions, in evaluation order
 * (probation included only when switched on). Print one in a notebook to
 * see what it tests.
 */
export function stagingRules(rules: Rules): StagingRule[] {
  const st = requireValidRules(rules, "stagingRules()").staging;
  const dpd = pl.col(COL.daysPastDue);
  const p0 = pl.col(COL.pd12mOrigination);
  const p1 = pl.col(COL.pd12mCurrent);
  const defaultFlag = flag(COL.defaultFlag);
  const dpdDefault = dpd.gtEq(pl.lit(st.dpd_default)).fillNull(pl.lit(false));
  const list: StagingRule[] = [
    { reason: STAGE_REASON.defaultFlag, stage: 3, when: defaultFlag },
    { reason: STAGE_REASON.dpd90, stage: 3, when: dpdDefault },
  ];
  if (st.probation_exit_via_stage2) {
    list.push({
      reason: STAGE_REASON.probation,
      stage: 2,
      when: pl.col(COL.previousStage).eq(pl.lit(3)).fillNull(pl.lit(false))
        .and(defaultFlag.not()).and(dpdDefault.not()),
    });
  }
  // §3 PD test: all three conditions; the low-credit-risk exemption is
  // IFRS 9 §5.5.10, the relative and absolute thresholds B5.5.9. The
  // tolerances make a threshold written in decimals hold at its boundary
  // (0.009 - 0.004 is 0.004999999999999999 in binary floating point).
  const pdTest = p1.gt(pl.lit(st.low_credit_risk_pd))
    .and(
      p1.div(p0).gtEq(
        pl.lit(st.pd_relative_threshold - PD_RELATIVE_TOLERANCE),
      ),
    )
    .and(
      p1.sub(p0).gtEq(
        pl.lit(st.pd_absolute_threshold - PD_ABSOLUTE_TOLERANCE),
      ),
    )
    .fillNull(pl.lit(false));
  list.push(
    {
      reason: STAGE_REASON.dpd30,
      stage: 2,
      // IFRS 9 §5.5.11: rebuttable presumption of SICR above 30 days.
      when: dpd.gt(pl.lit(st.dpd_sicr)).fillNull(pl.lit(false)),
    },
    { reason: STAGE_REASON.watchlist, stage: 2, when: flag(COL.watchlist) },
    { reason: STAGE_REASON.forborne, stage: 2, when: flag(COL.forborne) },
    { reason: STAGE_REASON.pdSicr, stage: 2, when: pdTest },
  );
  return list;
}

/**
 * Adds every optional §1 column the frame lacks, typed and null, so that a
 * hand-made frame with only the required columns stages like a validated
 * one (validation already delivers all of them).
 */
export function withOptionalColumns(lf: LazyFrame): LazyFrame {
  const present = new Set(lf.columns);
  const missing = PORTFOLIO_COLUMNS.filter((c) =>
    !c.required && !present.has(c.name)
  );
  if (missing.length === 0) return lf;
  return lf.withColumns(
    ...missing.map((c) => pl.lit(null).cast(POLARS_TYPE[c.kind]).alias(c.name)),
  );
}

/**
 * Stages a validated portfolio (methodology §2-§3). A pipeline step: lazy in,
 * lazy out, rows in input order.
 *
 * Fills `segment` with `product` where null (§1), adds
 * `remaining_term_months` (Int32, §2), `stage` (Int32), `stage_reason`
 * (Utf8, the first rule that holds) and `stage_triggers` (List(Utf8), every
 * rule that holds, in rule order).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { parseRules } from "../rules.ts";
 * import { stageFacilities } from "./staging.ts";
 *
 * const rules = parseRules(
 *   "reporting_currency: EUR\nproducts: {sme: {repayment: bullet}}\nscenarios: [{name: base, weight: 1, pd_multiplier: [1]}]",
 *   "inline.yaml",
 * );
 * // 95 days past due (rule 2), 45 days (rule 3), PD 0.004 -> 0.009
 * // (§3 PD test at its boundary), nothing.
 * const book = pl.DataFrame({
 *   loan_id: ["L1", "L2", "L3", "L4"],
 *   product: ["sme", "sme", "sme", "sme"],
 *   days_past_due: [95, 45, 0, 0],
 *   pd_12m_origination: [0.01, 0.01, 0.004, 0.01],
 *   pd_12m_current: [0.01, 0.01, 0.009, 0.01],
 *   reporting_date: ["2025-09-30", "2025-09-30", "2025-09-30", "2025-09-30"],
 *   maturity_date: ["2025-10-31", "2026-03-31", "2027-09-30", "2025-11-01"],
 * }).withColumns(
 *   pl.col("reporting_date").str.strptime(pl.Date, "%Y-%m-%d"),
 *   pl.col("maturity_date").str.strptime(pl.Date, "%Y-%m-%d"),
 * );
 * const staged = await stageFacilities(book.lazy(), rules).collect();
 * assert.deepEqual(staged.getColumn("stage").toArray(), [3, 2, 2, 1]);
 * assert.deepEqual(staged.getColumn("stage_reason").toArray(), [
 *   "DPD_90", "DPD_30", "PD_SICR", "PERFORMING",
 * ]);
 * // Rule 2 and rule 3 both hold for 95 days past due.
 * assert.deepEqual(staged.getColumn("stage_triggers").toArray()[0], [
 *   "DPD_90", "DPD_30",
 * ]);
 * assert.deepEqual(
 *   staged.getColumn("remaining_term_months").toArray(),
 *   [1, 6, 24, 2],
 * );
 * ```
 */
export function stageFacilities(
  valid: LazyFrame,
  rules: Rules,
): LazyFrame {
  // Rules built or changed in code are checked like a rules file (§10).
  rules = requireValidRules(rules, "stageFacilities()");
  const ruleList = stagingRules(rules);
  const simplified = simplifiedProducts(rules);
  const isSimplified = simplified.length === 0
    ? pl.lit(false)
    : isInList(COL.product, simplified);
  const stage3 = ruleList.filter((r) => r.stage === 3);
  const general = isSimplified.not();
  // Simplified products: only the stage-3 rules are assessed (IFRS 9
  // §5.5.15 removes the SICR test); everything else is stage 2 SIMPLIFIED.
  const branches = [
    ...stage3.map((r) => ({ ...r })),
    { reason: STAGE_REASON.simplified, stage: 2 as const, when: isSimplified },
    ...ruleList.filter((r) => r.stage !== 3).map((r) => ({
      ...r,
      when: r.when.and(general),
    })),
  ];
  const stage = firstMatch(
    branches.map((b) => [b.when, pl.lit(b.stage)] as const),
    pl.lit(1),
  ).cast(pl.Int32);
  const reason = firstMatch(
    branches.map((b) => [b.when, pl.lit(b.reason)] as const),
    pl.lit(STAGE_REASON.performing),
  ).cast(pl.Utf8);
  const triggers = labelsWhere(
    ruleList.map((r) =>
      [r.stage === 3 ? r.when : r.when.and(general), r.reason] as const
    ),
  );
  return withOptionalColumns(valid)
    .withColumns(
      pl.col(COL.segment).fillNull(pl.col(COL.product)).alias(COL.segment),
    )
    .withColumns(
      remainingTermExpr(rules),
      stage.alias(STAGE_COLUMNS.stage),
      reason.alias(STAGE_COLUMNS.stageReason),
      triggers.alias(STAGE_COLUMNS.stageTriggers),
    );
}
