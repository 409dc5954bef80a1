/**
 * The check of a narrative written by a model: every figure it quotes must
 * be one of the fact sheet's (docs/narratives.md, "The check"). Numbers
 * are read from the text and normalised: thousands separators dropped,
 * `12.3%` / `12.3 per cent` read as 0.123, `1.2 million` / `1.2m` /
 * `1.2 bn` / `4.5 thousand` scaled; each must equal a fact's value (or
 * its absolute value: "fell by 1.2 million") to the precision it is
 * written with (half a unit of its last digit: `1.03 million` stands for
 * 1,025,000 to 1,035,000). A percentage is compared with the ratios, any
 * other number with the amounts and counts.
 *
 * Not figures, and so allowed: dates (`2025-12-31`, `31 December 2025`,
 * `Q4`), years (1900 to 2199, written without separators), stage numbers
 * (`stage 2`, `stages 1 and 2`), references to standards and methodology
 * sections (`IFRS 9 §5.5.3`, `IAS 21`, `B8E`, `methodology §8`), the
 * names the sheet holds (products, segments, overlays, rule codes, run
 * ids), and numbers inside the texts the sheet quotes as written
 * (warnings, overlay reasons, rule descriptions).
 *
 * @module
 */
import type { FactSheet } from "./facts.ts";

/** A number read from a narrative. */
export interface QuotedFigure {
  /** As written: `1.03 million`, `12.3%`. */
  text: string;
  /** Normalised: 1030000, 0.123. */
  value: number;
  /** Half a unit of its last digit, scaled. */
  tolerance: number;
  /** Whether it was written as a percentage. */
  percent: boolean;
}

/** The outcome of {@link checkNarrative}. */
export interface NarrativeCheck {
  /** Every figure read from the text. */
  figures: (QuotedFigure & { fact?: string })[];
  /** The figures that are no fact of the sheet, as written. */
  unknown: string[];
}

const MONTHS =
  "January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec";

/** What is removed before figures are read: dates, references, stages. */
const NOT_FIGURES: RegExp[] = [
  /\b\d{4}-\d{2}-\d{2}\b/g,
  new RegExp(
    `\\b\\d{1,2}(?:st|nd|rd|th)?\\s+(?:${MONTHS})\\.?,?\\s+\\d{4}\\b`,
    "gi",
  ),
  new RegExp(
    `\\b(?:${MONTHS})\\.?\\s+\\d{1,2}(?:st|nd|rd|th)?,?\\s+\\d{4}\\b`,
    "gi",
  ),
  /\b[QH][1-4]\b/g,
  /\b(?:IFRS|IAS|Basel)\s*\d+(?:\s*(?:§|para(?:graph)?s?\.?)\s*[A-Z]?[\d.]+[A-Z]?(?:\([a-z0-9]+\))*)?/gi,
  /§\s*[A-Z]?\d+(?:\.\d+)*[A-Z]?(?:\([a-z0-9]+\))*(?:\s*[-–]\s*§?\s*[A-Z]?\d+(?:\.\d+)*[A-Z]?)?/g,
  /\bB\d+[A-Z]\b/g,
  /\bstages?\s+\d(?:\s*(?:,|and|or|to|-|–)\s*(?:stage\s+)?\d)*/gi,
];

/**
 * A number with an optional unit after it; a letter before it does not
 * hide it (`EUR1.4m`).
 */
const NUMBER =
  /(?<![\d.,])[-−]?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?:\s*(%|per\s?cent\b|percent\b|million\b|mn\b|m\b|billion\b|bn\b|thousand\b|k\b))?/gi;

const SCALE: Record<string, number> = {
  "%": 0.01,
  percent: 0.01,
  "per cent": 0.01,
  percent_: 0.01,
  million: 1e6,
  mn: 1e6,
  m: 1e6,
  billion: 1e9,
  bn: 1e9,
  thousand: 1e3,
  k: 1e3,
};

/**
 * The figures of a text, normalised.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quotedFigures } from "./check.ts";
 *
 * const figures = quotedFigures("ECL of EUR 1.03 million (12.5% of 8,227,000) on 31 December 2025");
 * assert.deepEqual(figures.map((f) => [f.value, f.percent]), [
 *   [1_030_000, false], [0.125, true], [8_227_000, false],
 * ]);
 * ```
 */
export function quotedFigures(text: string): QuotedFigure[] {
  let rest = text;
  for (const re of NOT_FIGURES) rest = rest.replace(re, " ");
  const out: QuotedFigure[] = [];
  for (const m of rest.matchAll(NUMBER)) {
    const whole = m[1].replaceAll(",", "");
    const decimals = m[2] ? m[2].length - 1 : 0;
    const unit = (m[3] ?? "").toLowerCase().replace(/\s+/g, " ");
    const scale = unit === "" ? 1 : SCALE[unit] ?? 1;
    const value = Number(`${whole}${m[2] ?? ""}`) * scale;
    // A bare year (1900-2199) is a date, not a figure.
    if (
      unit === "" && decimals === 0 && !m[1].includes(",") &&
      /^(19|20|21)\d{2}$/.test(whole)
    ) continue;
    out.push({
      text: m[0].trim(),
      value,
      tolerance: 0.5 * 10 ** -decimals * scale * (1 + 1e-9) + 1e-12,
      percent: scale === 0.01,
    });
  }
  return out;
}

/** Names of the sheet's groups, overlays and rules, longest first. */
function names(sheet: FactSheet): string[] {
  return [
    ...new Set([
      sheet.run_id,
      sheet.movement?.from_run_id,
      ...sheet.top_products.map((p) => p.key),
      ...sheet.top_segments.map((p) => p.key),
      ...(sheet.movement?.top_products ?? []).map((p) => p.product),
      ...sheet.overlays.map((o) => o.name),
      ...sheet.failed_rules.map((r) => r.code),
    ]),
  ].filter((n): n is string => !!n && /\d/.test(n))
    .sort((a, b) => b.length - a.length);
}

/**
 * Checks that every figure of `text` is a fact of `sheet` (see the module
 * documentation for what counts as a figure).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkNarrative } from "./check.ts";
 * import type { FactSheet } from "./facts.ts";
 *
 * const sheet = {
 *   run_id: "q4", reporting_date: "2025-12-31", warnings: [], overlays: [],
 *   failed_rules: [], top_products: [], top_segments: [],
 *   facts: {
 *     "totals.ecl": { id: "totals.ecl", value: 1_028_449.75, kind: "amount" },
 *     "totals.coverage": { id: "totals.coverage", value: 0.010331, kind: "ratio" },
 *   },
 * } as unknown as FactSheet;
 * assert.deepEqual(checkNarrative("ECL EUR 1.03 million, coverage 1.03%, in stage 2.", sheet).unknown, []);
 * assert.deepEqual(checkNarrative("ECL EUR 1.1 million at 31 December 2025.", sheet).unknown, ["1.1 million"]);
 * ```
 */
export function checkNarrative(text: string, sheet: FactSheet): NarrativeCheck {
  let rest = text;
  for (const n of names(sheet)) rest = rest.split(n).join(" ");
  const facts = Object.values(sheet.facts);
  const quoted = [
    ...sheet.warnings,
    ...sheet.overlays.map((o) => o.reason),
    ...sheet.failed_rules.map((r) => r.description),
  ].flatMap(quotedFigures);
  const figures: NarrativeCheck["figures"] = [];
  const unknown: string[] = [];
  for (const f of quotedFigures(rest)) {
    const near = (v: number) =>
      Math.abs(Math.abs(v) - Math.abs(f.value)) <= f.tolerance;
    const fact = facts.find((x) =>
      (x.kind === "ratio") === f.percent && near(x.value)
    );
    if (fact) {
      figures.push({ ...f, fact: fact.id });
      continue;
    }
    figures.push(f);
    if (quoted.some((q) => q.percent === f.percent && near(q.value))) continue;
    unknown.push(f.text);
  }
  return { figures, unknown };
}
