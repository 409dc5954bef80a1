/**
 * The drivers of the ECL walk (docs/movement.md §6, ECL walk) in their fixed
 * order, the facility columns each one replaces, and the rules and FX table
 * of a state of the walk: the opening run's, with the rules sections of the
 * drivers already substituted taken from the closing run's.
 *
 * Rules sections by driver (methodology §3-§8, §10):
 * - `pd`: each segment's PD curve (`pd_curve`, `pd_shape`, methodology §4;
 *   `transition_matrix`, `master_scale`, §13);
 * - `lgd`: each segment's `lgd_unsecured`, `lgd_floor`,
 *   `recovery_lag_months` (§6);
 * - `scenarios`: `scenarios` (vectors, weights, collateral haircuts),
 *   `scenario_adjustment`, `scenario_reversion_years`, each segment's `rho`
 *   (§4, §8);
 * - `overlays`: `overlays` (§8);
 * - `rules`: everything else the engine reads after staging (products:
 *   repayment, CCF, approach, provision matrices).
 *
 * Staging thresholds (`staging`) and the product parameters staging reads
 * (`behavioural_life_months`, which sets the remaining term) take effect
 * through each facility's stage and remaining term, computed once per run
 * with that run's rules: their change lands in the `stage` and `exposure`
 * steps, not in `rules`.
 *
 * Products are the union of both files' (a product only one file names is
 * taken from that file: no facility of that product is computed with the
 * other file's rules). A segment one file lacks is that file's `default`
 * segment there, as the run computed it (methodology §10, `segmentRules`):
 * the state's value of each key comes from the `default` of the file its
 * driver is taken from, so adding or removing a segment entry moves the
 * drivers whose keys differ from the default.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { type Rules, type SegmentRules, segmentRules } from "../rules.ts";
import type { FxTable } from "../fx.ts";

/**
 * The drivers in the order they are substituted (docs/movement.md, "ECL
 * walk", why this order).
 */
export const WALK_DRIVERS = [
  "derecognised",
  "new",
  "stage",
  "exposure",
  "pd",
  "lgd",
  "scenarios",
  "rules",
  "overlays",
  "fx",
  "write_off",
] as const;

/** One driver of the walk. */
export type WalkDriver = (typeof WALK_DRIVERS)[number];

/** What each driver's step is called on the page and the console. */
export const DRIVER_LABELS: Record<WalkDriver, string> = {
  derecognised: "Derecognised facilities (repaid, matured)",
  new: "New facilities (at opening rules and rates)",
  stage: "Stage (12-month / lifetime horizon)",
  exposure: "Exposure (balance, limit, term, rate)",
  pd: "PD (current 12-month PD, PD curve)",
  lgd: "Collateral and LGD",
  scenarios: "Macro scenarios and weights",
  rules: "Other rules (model and parameters)",
  overlays: "Overlays",
  fx: "Foreign exchange (state's ECL, opening to closing rates)",
  write_off: "Write-offs (net ECL effect)",
};

/**
 * The facility columns each facility-level driver replaces by the closing
 * run's (after staging: `remaining_term_months`, `segment` and `stage` as
 * each run's rules gave them). `stage` carries `days_past_due`, which the
 * provision matrix of the simplified approach reads.
 */
export const DRIVER_COLUMNS = {
  stage: ["stage", "stage_reason", "stage_triggers", "days_past_due"],
  exposure: [
    "balance",
    "credit_limit",
    "remaining_term_months",
    "interest_rate",
    "product",
    "segment",
    "region",
    "currency",
    "reporting_date",
  ],
  pd: ["pd_12m_current"],
  lgd: ["collateral_value"],
} as const;

/** A driver that replaces facility columns. */
export type FacilityDriver = keyof typeof DRIVER_COLUMNS;

/** Segment keys substituted with each driver; the rest go with `rules`. */
const SEGMENT_KEYS: Partial<Record<WalkDriver, (keyof SegmentRules)[]>> = {
  pd: ["pd_curve", "pd_shape", "transition_matrix", "master_scale"],
  lgd: ["lgd_unsecured", "lgd_floor", "recovery_lag_months"],
  scenarios: ["rho"],
};

/**
 * The rules of a state of the walk: the opening rules with the sections of
 * the `applied` drivers taken from the closing rules (module doc).
 *
 * @throws {UserError} when the two files have different reporting
 *   currencies: the walk has no one currency to add up in.
 */
export function stateRules(
  open: Rules,
  close: Rules,
  applied: ReadonlySet<WalkDriver>,
): Rules {
  if (open.reporting_currency !== close.reporting_currency) {
    throw new UserError(
      "input",
      `Cannot compute the ECL walk: the runs report in ${open.reporting_currency} and ${close.reporting_currency}; both rules files must have the same reporting_currency (or run the movement with --no-walk)`,
    );
  }
  const pick = (d: WalkDriver) => applied.has(d) ? close : open;
  const base = pick("rules");
  const other = base === open ? close : open;
  const products = structuredClone(base.products);
  for (const [name, p] of Object.entries(other.products)) {
    if (!(name in products)) products[name] = structuredClone(p);
  }
  const segments: Record<string, SegmentRules> = {};
  for (
    const name of new Set([
      ...Object.keys(base.segments),
      ...Object.keys(other.segments),
    ])
  ) {
    // A segment a file lacks is that file's `default` (§10, segmentRules).
    const seg = structuredClone(segmentRules(base, name));
    for (const [driver, keys] of Object.entries(SEGMENT_KEYS)) {
      const source = segmentRules(pick(driver as WalkDriver), name);
      for (const k of keys!) {
        const v = source[k];
        // deno-lint-ignore no-explicit-any
        if (v === undefined) delete (seg as any)[k];
        // deno-lint-ignore no-explicit-any
        else (seg as any)[k] = structuredClone(v);
      }
    }
    delete seg.pd_source;
    segments[name] = seg;
  }
  const sc = pick("scenarios");
  const rules: Rules = {
    reporting_currency: base.reporting_currency,
    staging: structuredClone(base.staging),
    products,
    segments,
    scenario_adjustment: sc.scenario_adjustment,
    scenarios: structuredClone(sc.scenarios),
    overlays: structuredClone(pick("overlays").overlays),
    validation: structuredClone(base.validation),
  };
  if (sc.scenario_reversion_years !== undefined) {
    rules.scenario_reversion_years = sc.scenario_reversion_years;
  }
  return rules;
}

/**
 * The FX table of a state: the closing run's once `fx` is substituted, else
 * the opening run's; a currency the table lacks takes the other table's
 * rate (a facility whose currency only one run holds), when both tables
 * have the same base.
 */
export function stateFx(
  open: FxTable,
  close: FxTable,
  applied: ReadonlySet<WalkDriver>,
): FxTable {
  const [main, other] = applied.has("fx") ? [close, open] : [open, close];
  if (main.base !== other.base) return main;
  return { ...main, rates: { ...other.rates, ...main.rates } };
}
