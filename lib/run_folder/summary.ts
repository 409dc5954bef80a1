/**
 * What `summary.json` holds (the totals a run computes, `lib/run`'s
 * `summarize`), what a reader checks in it, how a summary of an earlier
 * version is read today, and what it says that deserves a warning.
 *
 * @module
 */
import { formatAmount } from "../format.ts";

/** Totals of one group of facilities, in the reporting currency. */
export interface Group {
  /** The group: a stage (`"1"`), product, segment, region or currency. */
  key: string;
  /** Facilities in the group. */
  count: number;
  /** Sum of the balances at the reporting date. */
  gross_carrying_amount: number;
  /** Sum of the exposures at default (methodology §5). */
  ead: number;
  /** Sum of the ECL after overlays and the floor (methodology §8). */
  ecl: number;
  /**
   * The part of `ecl` up to each facility's gross carrying amount: the
   * loss allowance deducted from the assets (IFRS 7 B8E, `allowanceSplit`).
   */
  loss_allowance: number;
  /**
   * The part of `ecl` beyond each facility's gross carrying amount: the
   * provision for undrawn commitments (IFRS 7 B8E).
   */
  provision: number;
  /**
   * `ecl / gross_carrying_amount` (methodology §9; see {@link coverageRatio}):
   * 0 when both are 0, null when only the gross carrying amount is (an
   * undrawn book has no ratio).
   */
  coverage: number | null;
}

/** A currency group also carries its amounts in the currency itself. */
export interface CurrencyGroup extends Group {
  /** `ead` in the currency of the group. */
  ead_local: number;
  /** `ecl` in the currency of the group. */
  ecl_local: number;
}

/** The portfolio totals of a run (`summary.json`). */
export interface Summary {
  /** The run's id. */
  run_id: string;
  /** `YYYY-MM-DD`. */
  reporting_date: string;
  /** The currency every amount is in (ISO 4217). */
  reporting_currency: string;
  /**
   * Products on the simplified approach (IFRS 9 §5.5.15): their facilities
   * form a column of their own in the IFRS 7 §35H movement (§35H(b)(iii)).
   */
  simplified_products: string[];
  /** The FX table the amounts were converted with. */
  fx: {
    /** Its path. */
    file: string;
    /** SHA-256 of its bytes. */
    sha256: string;
    /** The currency its rates are quoted against. */
    base: string;
    /** The date of its rates, `YYYY-MM-DD`. */
    as_of: string;
    /** Reporting-currency units per one unit of each currency in the run. */
    rates: Record<string, number>;
  };
  /** Model ECL under each scenario alone, before overlays (methodology §8). */
  scenarios: { name: string; weight: number; ecl: number }[];
  /** The whole book, as in {@link Group}. */
  totals: {
    /** Facilities computed. */
    count: number;
    /** See {@link Group}. */
    gross_carrying_amount: number;
    /** See {@link Group}. */
    ead: number;
    /** Probability-weighted ECL before overlays. */
    ecl_model: number;
    /** ECL after overlays and the floor: loss allowance plus provision. */
    ecl: number;
    /** See {@link Group}. */
    loss_allowance: number;
    /** See {@link Group}. */
    provision: number;
    /** See {@link Group}. */
    coverage: number | null;
  };
  /** Per stage, keys `"1"`, `"2"`, `"3"`. */
  by_stage: Group[];
  /** Per product. */
  by_product: Group[];
  /** Per segment. */
  by_segment: Group[];
  /** Per region ({@link NULL_KEY} for none). */
  by_region: Group[];
  /** Per facility currency, with the amounts in that currency too. */
  by_currency: CurrencyGroup[];
  /**
   * Each configured overlay, in the order applied: its adjustment, how many
   * facilities it applied to, the ECL it added (negative when it released
   * allowance) in the reporting currency, and how many of its facilities it
   * helped take below 0 (its impact on them was negative and the floor
   * applied). Read from the engine's per-facility `overlay_impacts`.
   */
  overlays: {
    name: string;
    reason: string;
    multiplier?: number;
    /** In the reporting currency, for the selected facilities as a whole. */
    add?: number;
    facilities: number;
    ecl_impact: number;
    floored_facilities: number;
  }[];
  /**
   * What the floor at 0 after the overlays added back (methodology §8), in
   * the reporting currency, and on how many facilities: with the overlays'
   * impacts it makes up `totals.ecl - totals.ecl_model`.
   */
  overlay_floor: { facilities: number; ecl_impact: number };
}

/** Key under which facilities with a null grouping value are reported. */
export const NULL_KEY = "(none)";

/**
 * The coverage ratio of methodology §9: ECL over the gross carrying
 * amount, as banks disclose it. 0 when both are 0 (nothing lent, nothing
 * provided); null when there is ECL but no gross carrying amount (undrawn
 * commitments only), which has no ratio.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { coverageRatio } from "./summary.ts";
 *
 * assert.equal(coverageRatio(25, 1000), 0.025);
 * assert.equal(coverageRatio(0, 0), 0);
 * assert.equal(coverageRatio(30, 0), null);
 * ```
 */
export function coverageRatio(
  ecl: number,
  grossCarryingAmount: number,
): number | null {
  if (grossCarryingAmount > 0) return ecl / grossCarryingAmount;
  return ecl === 0 ? 0 : null;
}

/**
 * The keys every reader relies on, with the type each must have; keys
 * added by later versions are filled in by {@link upgradeSummary} instead.
 */
const REQUIRED: [path: string, type: "string" | "object" | "array"][] = [
  ["run_id", "string"],
  ["reporting_date", "string"],
  ["reporting_currency", "string"],
  ["fx", "object"],
  ["fx.rates", "object"],
  ["fx.as_of", "string"],
  ["scenarios", "array"],
  ["totals", "object"],
  ["by_stage", "array"],
];

const typeOf = (v: unknown) =>
  Array.isArray(v) ? "array" : v === null ? "null" : typeof v;

/**
 * What is wrong with a parsed `summary.json`, one message per problem
 * (every one, not the first); none for a summary readers can use.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summaryProblems } from "./summary.ts";
 *
 * assert.deepEqual(summaryProblems({ run_id: "q4", fx: { rates: [] } }), [
 *   "missing keys reporting_date, reporting_currency, fx.as_of, scenarios, totals, by_stage",
 *   "key fx.rates is an array, not an object",
 * ]);
 * ```
 */
export function summaryProblems(value: unknown): string[] {
  if (typeOf(value) !== "object") {
    return [`expected an object, found ${typeOf(value)}`];
  }
  const missing: string[] = [];
  const wrong: string[] = [];
  for (const [path, type] of REQUIRED) {
    const parts = path.split(".");
    const parent = parts.slice(0, -1).reduce<unknown>(
      (v, k) => (v as Record<string, unknown> | undefined)?.[k],
      value,
    );
    // A missing parent is reported once, under its own name.
    if (typeOf(parent) !== "object") continue;
    const v = (parent as Record<string, unknown>)[parts.at(-1)!];
    if (v === undefined) missing.push(path);
    else if (typeOf(v) !== type) {
      wrong.push(`key ${path} is ${article(typeOf(v))}, not ${article(type)}`);
    }
  }
  return [
    ...(missing.length === 0
      ? []
      : [`missing key${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`]),
    ...wrong,
    ...notFinite(value as Record<string, unknown>),
  ];
}

/**
 * Amounts of a group a reader computes with: each must be a finite number
 * (a run whose figure overflowed writes `null` in JSON, which readers
 * would print as 0 or fail on). Later keys are checked when present.
 */
const GROUP_AMOUNTS = ["count", "gross_carrying_amount", "ead", "ecl"];
const GROUP_AMOUNTS_LATER = ["ecl_model", "loss_allowance", "provision"];

/** Keys listed by name in a not-finite problem; the rest are counted. */
const NOT_FINITE_LISTED = 5;

/**
 * The amounts of `totals`, of every group and of every scenario that are
 * not finite numbers, as one problem naming them.
 */
function notFinite(summary: Record<string, unknown>): string[] {
  const bad: string[] = [];
  const check = (
    group: unknown,
    path: string,
    keys: string[],
    later: string[] = [],
  ) => {
    if (typeOf(group) !== "object") return;
    const g = group as Record<string, unknown>;
    for (const k of keys) {
      if (!Number.isFinite(g[k])) bad.push(`${path}.${k} (${typeOf(g[k])})`);
    }
    for (const k of later) {
      if (g[k] !== undefined && !Number.isFinite(g[k])) {
        bad.push(`${path}.${k} (${typeOf(g[k])})`);
      }
    }
  };
  check(summary.totals, "totals", GROUP_AMOUNTS, GROUP_AMOUNTS_LATER);
  for (
    const list of [
      "by_stage",
      "by_product",
      "by_segment",
      "by_region",
      "by_currency",
    ]
  ) {
    const groups = summary[list];
    if (!Array.isArray(groups)) continue;
    groups.forEach((g, i) =>
      check(g, `${list}[${i}]`, GROUP_AMOUNTS, GROUP_AMOUNTS_LATER)
    );
  }
  if (Array.isArray(summary.scenarios)) {
    summary.scenarios.forEach((s, i) => check(s, `scenarios[${i}]`, ["ecl"]));
  }
  if (bad.length === 0) return [];
  const more = bad.length - NOT_FINITE_LISTED;
  return [
    `key${bad.length > 1 ? "s" : ""} ${
      bad.slice(0, NOT_FINITE_LISTED).join(", ")
    }${more > 0 ? ` and ${more} more` : ""} ${
      bad.length > 1 ? "are" : "is"
    } not a finite number: the run that wrote it computed a non-finite figure; rerun it with the inputs corrected`,
  ];
}

const article = (type: string) =>
  type === "null" || type === "undefined"
    ? type
    : `${/^[aeiou]/.test(type) ? "an" : "a"} ${type}`;

/**
 * Brings a `summary.json` written by an earlier version to the current
 * reading, in place: no simplified products and no floor where the fields
 * did not exist yet, and every coverage ratio as ECL over the gross
 * carrying amount (methodology v2 §9; version 1 divided by EAD), which
 * the summary carries in both versions. On a current summary it changes
 * nothing. The loss allowance and provision of an older summary stay
 * absent: they need each facility's figures.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Summary, upgradeSummary } from "./summary.ts";
 *
 * // Version 1: coverage on EAD, no floor, no simplified products.
 * const v1 = {
 *   totals: { ecl: 40, gross_carrying_amount: 1000, ead: 800, coverage: 0.05 },
 *   by_stage: [{ key: "1", ecl: 40, gross_carrying_amount: 1000, coverage: 0.05 }],
 *   overlays: [{ name: "covid", facilities: 3, ecl_impact: 2 }],
 * } as unknown as Summary;
 * const s = upgradeSummary(v1);
 * assert.equal(s.totals.coverage, 0.04);
 * assert.equal(s.by_stage[0].coverage, 0.04);
 * assert.deepEqual(s.simplified_products, []);
 * assert.deepEqual(s.overlay_floor, { facilities: 0, ecl_impact: 0 });
 * assert.equal(s.overlays[0].floored_facilities, 0);
 * ```
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

/**
 * The stage number a `by_stage` key names (`"1"`, `"stage 1"`, `1`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stageOfKey } from "./summary.ts";
 *
 * assert.deepEqual(["1", "stage 2", 3].map(stageOfKey), [1, 2, 3]);
 * ```
 */
export function stageOfKey(key: string | number): number {
  return Number(String(key).replace(/\D/g, ""));
}

/**
 * The warnings a summary carries about its overlays (methodology §8): the
 * floor at 0 changed an ECL (naming the overlays that took ECL below 0),
 * or an `add` selected no facility, so its amount is not in the
 * allowance. A run records them in its manifest; the report shows them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { overlayWarnings, type Summary } from "./summary.ts";
 *
 * const summary = {
 *   reporting_currency: "EUR",
 *   overlays: [
 *     { name: "spain_release", reason: "", add: -60, facilities: 1,
 *       ecl_impact: -60, floored_facilities: 1 },
 *     { name: "unused", reason: "", add: 5000, facilities: 0,
 *       ecl_impact: 0, floored_facilities: 0 },
 *   ],
 *   overlay_floor: { facilities: 1, ecl_impact: 20 },
 * } as unknown as Summary;
 * assert.deepEqual(overlayWarnings(summary), [
 *   "Overlay unused selects no facility: its add of 5,000.00 EUR is not in the allowance",
 *   "Overlay spain_release took the ECL of 1 facility below 0: the floor at 0 (methodology §8) added 20.00 EUR back",
 * ]);
 * ```
 */
export function overlayWarnings(summary: Summary): string[] {
  const cur = summary.reporting_currency;
  const amount = formatAmount;
  const warnings: string[] = [];
  for (const o of summary.overlays) {
    if (o.add !== undefined && o.add !== 0 && o.facilities === 0) {
      warnings.push(
        `Overlay ${o.name} selects no facility: its add of ${
          amount(o.add)
        } ${cur} is not in the allowance`,
      );
    }
  }
  const floor = summary.overlay_floor;
  if (floor !== undefined && floor.facilities > 0) {
    const named = summary.overlays.filter((o) =>
      (o.floored_facilities ?? 0) > 0
    ).map((o) => o.name);
    const n = floor.facilities;
    warnings.push(
      `${
        named.length === 0
          ? "The overlays"
          : `Overlay${named.length > 1 ? "s" : ""} ${named.join(", ")}`
      } took the ECL of ${n} ${
        n === 1 ? "facility" : "facilities"
      } below 0: the floor at 0 (methodology §8) added ${
        amount(floor.ecl_impact)
      } ${cur} back`,
    );
  }
  return warnings;
}
