/**
 * What `summary.json` holds (the totals a run computes, `lib/run`'s
 * `summarize`), what a reader checks in it, how a summary of an earlier
 * version is read today, and what it says that deserves a warning.
 *
 * @module
 */
import { formatAmount } from "../format.ts";
import type { CapitalSummary } from "../capital/run.ts";

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
  /**
   * IRB capital (lib/capital, docs/capital.md): present only when the
   * rules have a `capital:` section.
   */
  capital?: CapitalSummary;
  /**
   * The sensitivity table (lib/sensitivity, docs/sensitivity.md): present
   * only when the rules have a `sensitivity:` section.
   */
  sensitivity?: SensitivitySummary;
}

/**
 * One line of the sensitivity table: a variant of the run computed again
 * by the engine (docs/sensitivity.md), amounts in the reporting currency.
 */
export interface SensitivityLine {
  /** `weighted` (the run's rules), `scenario` (one alone) or `stress`. */
  kind: "weighted" | "scenario" | "stress";
  /** The scenario's or the stress's name; `weighted` for the run's line. */
  name: string;
  /** What the variant changes, in words. */
  variant: string;
  /** ECL after overlays and the floor (the line's `totals.ecl`). */
  ecl: number;
  /** ECL before overlays (the line's `totals.ecl_model`). */
  ecl_model: number;
  /** `ecl` minus the weighted line's `ecl`. */
  change_vs_weighted: number;
  /** Facilities and ECL per stage, keys `"1"`, `"2"`, `"3"`. */
  by_stage: { key: string; count: number; ecl: number }[];
  /**
   * The staging the line used: `run` (the run's stages: the variant does
   * not change what staging reads) or `restaged` (staging evaluated again
   * on the shocked `pd_12m_current`, methodology §3).
   */
  staging: "run" | "restaged";
}

/** The `sensitivity` key of `summary.json` (docs/sensitivity.md). */
export interface SensitivitySummary {
  /** The currency of every amount (the run's reporting currency). */
  reporting_currency: string;
  /** The re-staging rule applied, in words. */
  staging_rule: string;
  /** The weighted line first, then each scenario alone, then the stresses. */
  lines: SensitivityLine[];
  /**
   * What makes the lines differ from the run (plugins that changed stages
   * or ECL are not run again), and macro stresses that shift a variable no
   * fitted segment uses; absent: nothing.
   */
  warnings?: string[];
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
 * The largest amount a summary may hold per facility, in the reporting
 * currency before the FX rates are applied: 1e18. A group's amounts
 * (`gross_carrying_amount`, `ead`, `ecl`, `ecl_model`, `loss_allowance`,
 * `provision`; a currency's `ead_local` and `ecl_local` in its own
 * currency) are at most its `count` times this, times the largest rate of
 * the summary's `fx.rates` when it is above 1; the scenarios' ECL and the
 * overlays' impacts likewise with `totals.count`.
 *
 * Why: validation bounds every amount of a facility to 1e15 in its own
 * currency (`PLAUSIBILITY_LIMITS.maxAmount`), and the EAD and gross
 * carrying amount of a facility do not exceed its balance or limit
 * (methodology §5); its ECL does not exceed its EAD but for overlays
 * (methodology §8), which a rules file bounds (a multiplier up to 100,
 * `MAX_OVERLAY_MULTIPLIER`; an amount up to 1e15, `MAX_OVERLAY_AMOUNT`).
 * A thousand times the validation limit leaves room for any of them; a
 * figure beyond is no run's (a hand edit, a placeholder such as 9.99e18
 * pasted in), and a reader would show it as the allowance.
 */
export const MAX_AMOUNT_PER_FACILITY = 1e18;

/** Amounts of a group that cannot be negative: sums of amounts >= 0. */
const NON_NEGATIVE = [
  "gross_carrying_amount",
  "ead",
  "ecl",
  "ecl_model",
  "loss_allowance",
  "provision",
];

/** The group lists of a summary. */
const GROUP_LISTS = [
  "by_stage",
  "by_product",
  "by_segment",
  "by_region",
  "by_currency",
] as const;

/** Problems listed by name in a trust problem; the others are counted. */
const TRUST_LISTED = 5;

/** Whether `v` is a count: a whole number, 0 or more. */
export const isCount = (v: unknown): v is number =>
  typeof v === "number" && Number.isInteger(v) && v >= 0;

/**
 * Whether `text` is a real calendar date `YYYY-MM-DD` (`2025-02-30` and
 * `2025-13-45` are not; years 0-99 are read as themselves).
 */
export function isRealIsoDate(text: unknown): boolean {
  if (typeof text !== "string") return false;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const d = new Date(0);
  d.setUTCFullYear(+m[1], +m[2] - 1, +m[3]);
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 &&
    d.getUTCDate() === +m[3];
}

/**
 * What a reader that relies on a run (the movement, the dashboard, the
 * report's comparison, the BI export: a trusted read) finds wrong in a
 * summary that has the keys and finite figures {@link summaryProblems}
 * asks for, one message per kind of problem, each naming its key paths:
 *
 * - `reporting_date` and `fx.as_of` are not real dates (`2025-13-45`);
 * - a count (`count` of the totals and of every group, the facilities of
 *   the overlays and of the floor) is not a whole number >= 0;
 * - an amount that is a sum of amounts >= 0 (gross carrying amount, EAD,
 *   ECL, model ECL, loss allowance, provision, a scenario's ECL, what the
 *   floor added) is negative;
 * - an amount is beyond {@link MAX_AMOUNT_PER_FACILITY} per facility;
 * - an FX rate is not a number above 0;
 * - two groups of a list have the same key, or a `by_stage` key names no
 *   stage 1, 2 or 3 (a duplicated stage would count its facilities twice).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Summary, summaryTrustProblems } from "./summary.ts";
 *
 * const group = { key: "1", count: 2, gross_carrying_amount: 100, ead: 100, ecl: 1 };
 * const summary = {
 *   reporting_date: "2025-12-31", fx: { as_of: "2025-12-31", rates: { EUR: 1 } },
 *   scenarios: [], totals: { ...group, count: 2.5 }, by_stage: [group, group],
 * } as unknown as Summary;
 * assert.deepEqual(summaryTrustProblems(summary), [
 *   "key totals.count is 2.5, not a whole number >= 0",
 *   'key by_stage lists key "1" (stage 1) twice',
 * ]);
 * ```
 */
export function summaryTrustProblems(summary: Summary): string[] {
  const s = summary as unknown as Record<string, unknown>;
  const problems: string[] = [];
  for (
    const [key, value] of [
      ["reporting_date", summary.reporting_date],
      ["fx.as_of", summary.fx?.as_of],
    ] as const
  ) {
    if (!isRealIsoDate(value)) {
      problems.push(
        `key ${key} ${JSON.stringify(value)} is not a real date YYYY-MM-DD`,
      );
    }
  }
  const rates = Object.entries(summary.fx?.rates ?? {});
  const badRates = rates.filter(([, r]) => !(typeof r === "number" && r > 0));
  if (badRates.length > 0) {
    problems.push(
      `key fx.rates: ${
        badRates.map(([c, r]) => `${c} is ${JSON.stringify(r)}`).join(", ")
      }, not a rate above 0`,
    );
  }
  const rate = Math.max(
    1,
    ...rates.map(([, r]) => r).filter((r) => Number.isFinite(r)),
  );
  const counts: string[] = [];
  const negatives: string[] = [];
  const beyond: string[] = [];
  /** Checks `keys` of `obj` at `path`, bounded for `count` facilities. */
  const amounts = (
    obj: Record<string, unknown>,
    path: string,
    keys: readonly string[],
    count: unknown,
    { nonNegative = true, fx = true } = {},
  ) => {
    for (const k of keys) {
      const v = obj[k];
      if (typeof v !== "number") continue;
      if (nonNegative && v < 0) negatives.push(`${path}.${k} is ${v}`);
      else if (isCount(count)) {
        const bound = count * MAX_AMOUNT_PER_FACILITY * (fx ? rate : 1);
        if (Math.abs(v) > bound) {
          beyond.push(
            `${path}.${k} is ${v}, beyond ${bound} for ${count} ${
              count === 1 ? "facility" : "facilities"
            }`,
          );
        }
      }
    }
  };
  const countAt = (obj: Record<string, unknown>, path: string, key: string) => {
    const v = obj[key];
    if (v !== undefined && !isCount(v)) {
      counts.push(`${path}.${key} is ${JSON.stringify(v)}`);
    }
  };
  const totals = summary.totals as unknown as Record<string, unknown>;
  countAt(totals, "totals", "count");
  amounts(totals, "totals", NON_NEGATIVE, totals.count);
  const duplicates: string[] = [];
  for (const list of GROUP_LISTS) {
    const groups = s[list];
    if (!Array.isArray(groups)) continue;
    const seen = new Map<string, number>();
    groups.forEach((g, i) => {
      if (typeOf(g) !== "object") return;
      const group = g as Record<string, unknown>;
      const path = `${list}[${i}]`;
      countAt(group, path, "count");
      amounts(group, path, NON_NEGATIVE, group.count);
      amounts(group, path, ["ead_local", "ecl_local"], group.count, {
        fx: false,
      });
      const key = list === "by_stage"
        ? stageOfKey(group.key as string)
        : String(group.key);
      if (list === "by_stage" && ![1, 2, 3].includes(key as number)) {
        duplicates.push(
          `key ${path}.key ${
            JSON.stringify(group.key)
          } names no stage 1, 2 or 3`,
        );
      } else if (seen.has(String(key))) {
        duplicates.push(
          `key ${list} lists key ${JSON.stringify(group.key)}${
            list === "by_stage" ? ` (stage ${key})` : ""
          } twice`,
        );
      }
      seen.set(String(key), i);
    });
  }
  if (Array.isArray(summary.scenarios)) {
    summary.scenarios.forEach((sc, i) =>
      amounts(
        sc as unknown as Record<string, unknown>,
        `scenarios[${i}]`,
        ["ecl"],
        totals.count,
      )
    );
  }
  if (Array.isArray(summary.overlays)) {
    summary.overlays.forEach((o, i) => {
      const overlay = o as unknown as Record<string, unknown>;
      countAt(overlay, `overlays[${i}]`, "facilities");
      countAt(overlay, `overlays[${i}]`, "floored_facilities");
      amounts(overlay, `overlays[${i}]`, ["ecl_impact"], totals.count, {
        nonNegative: false,
      });
    });
  }
  if (typeOf(summary.overlay_floor) === "object") {
    const floor = summary.overlay_floor as unknown as Record<string, unknown>;
    countAt(floor, "overlay_floor", "facilities");
    amounts(floor, "overlay_floor", ["ecl_impact"], totals.count);
  }
  const listed = (items: string[]) => {
    const more = items.length - TRUST_LISTED;
    return `${items.slice(0, TRUST_LISTED).join(", ")}${
      more > 0 ? ` and ${more} more` : ""
    }`;
  };
  if (counts.length > 0) {
    problems.push(
      `key${counts.length > 1 ? "s" : ""} ${
        listed(counts)
      }, not a whole number >= 0`,
    );
  }
  if (negatives.length > 0) {
    problems.push(
      `key${negatives.length > 1 ? "s" : ""} ${
        listed(negatives)
      }: negative, but a sum of amounts that are not (methodology §5, §8)`,
    );
  }
  if (beyond.length > 0) {
    problems.push(
      `key${beyond.length > 1 ? "s" : ""} ${
        listed(beyond)
      }: no run computes that much (MAX_AMOUNT_PER_FACILITY ${MAX_AMOUNT_PER_FACILITY} per facility, times the largest FX rate of fx.rates, ${rate})`,
    );
  }
  problems.push(...duplicates);
  return problems;
}

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
