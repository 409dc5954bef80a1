/**
 * Test helpers: small portfolio frames typed as PORTFOLIO_SCHEMA, built from
 * partial rows with sensible defaults, and a rules builder.
 *
 * @module
 */
import pl from "nodejs-polars";
import { PORTFOLIO_COLUMNS, PORTFOLIO_SCHEMA } from "../../lib/schema.ts";
import { parseRules, type Rules } from "../../lib/rules.ts";

/** A facility row; dates as `YYYY-MM-DD`. Unset fields take the defaults. */
export type Row = Record<string, string | number | boolean | null>;

const DEFAULTS: Row = {
  customer_id: "C1",
  reporting_date: "2025-12-31",
  origination_date: "2020-01-15",
  maturity_date: "2027-12-31",
  product: "sme",
  segment: null,
  region: "north",
  currency: "EUR",
  balance: 1000,
  credit_limit: null,
  interest_rate: 0.12,
  days_past_due: 0,
  pd_12m_origination: 0.01,
  pd_12m_current: 0.01,
  collateral_value: null,
  watchlist: null,
  forborne: null,
  default_flag: null,
  previous_stage: null,
  write_off_amount: null,
};

/** A portfolio frame typed exactly as PORTFOLIO_SCHEMA, one row per entry. */
export function portfolio(rows: Row[]): pl.DataFrame {
  const full: Row[] = rows.map((r, i) => ({
    loan_id: `L${i + 1}`,
    ...DEFAULTS,
    ...r,
  }));
  const columns = PORTFOLIO_COLUMNS.map((c) => {
    const values = full.map((r) => r[c.name] ?? null);
    if (c.kind === "date") {
      return pl.Series(c.name, values as (string | null)[], pl.Utf8)
        .str.strptime(pl.Date, "%Y-%m-%d");
    }
    return pl.Series(c.name, values, PORTFOLIO_SCHEMA[c.name]);
  });
  return pl.DataFrame(columns);
}

/** Rules from YAML text (throws with every issue when invalid). */
export function rulesFrom(yaml: string): Rules {
  return parseRules(yaml, "test.yaml");
}

/** Parts of a test rules file; each replaces the matching default block. */
export interface RulesParts {
  /** Extra entries under `products` (YAML lines indented by 2). */
  products?: string;
  /** Entries under `segments` (default: the §10 default segment). */
  segments?: string;
  /** Entries under `scenarios`. */
  scenarios?: string;
  scenarioAdjustment?: "multiplier" | "z_shift";
  /** Entries under `staging`. */
  staging?: string;
  /** Entries under `overlays`. */
  overlays?: string;
}

/**
 * A rules file with the four repayment types, one scenario of weight 1 and
 * multiplier 1, no haircut (the §11 setting), unless parts replace blocks.
 */
export function rulesYaml(parts: RulesParts = {}): string {
  return `
reporting_currency: EUR
staging:
${parts.staging ?? "  dpd_default: 90"}
products:
  mortgage: { repayment: annuity }
  consumer: { repayment: linear }
  sme: { repayment: bullet }
  credit_card: { repayment: revolving, ccf: 0.75, behavioural_life_months: 36 }
${parts.products ?? ""}
segments:
${
    parts.segments ??
      "  default: { pd_curve: flat, lgd_unsecured: 0.45, lgd_floor: 0.05, rho: 0.15 }"
  }
scenario_adjustment: ${parts.scenarioAdjustment ?? "multiplier"}
scenarios:
${parts.scenarios ?? "  - { name: base, weight: 1, pd_multiplier: [1.0] }"}
overlays:
${parts.overlays ?? "  []"}
`;
}

/** The default of {@link rulesYaml}. */
export const ONE_SCENARIO = rulesYaml();

/** Relative difference, with an absolute floor for values near zero. */
export function relErr(a: number, b: number): number {
  const d = Math.abs(a - b);
  return d === 0 ? 0 : d / Math.max(Math.abs(b), 1e-300);
}

/** Whether two Polars types are the same (Utf8 and String are one type). */
export function sameType(a: pl.DataType, b: pl.DataType): boolean {
  const norm = (t: pl.DataType) => String(t).replaceAll("Utf8", "String");
  return norm(a) === norm(b);
}
