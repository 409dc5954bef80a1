/**
 * The check of a narrative written by a model: every figure it quotes must
 * be a fact of the sheet, written as that fact, in the sense of that fact
 * (docs/narratives.md, "The check"). The model cites the fact of each
 * figure inline, right after it: `EUR 1.03 million [fact:totals.ecl]`.
 * A figure is kept only when
 *
 * - a citation follows it (only spaces between), naming a fact of the
 *   sheet;
 * - it is written exactly as one of that fact's `formatted` forms (`%` may
 *   be written `per cent`), with at least 3 significant digits, or is a
 *   count, written whole (`1 million` for 1,028,449.75 is refused: its
 *   precision says nothing);
 * - it carries no sign (a change is written as its size with a direction
 *   word) and, for a change (a fact with `change: true`), the direction
 *   word nearest before it (rose, fell, increased, decreased, added,
 *   released, up, down, ...) agrees with the fact's sign, and there is
 *   one;
 * - for an amount, the measure named nearest before it (ECL, gross
 *   carrying amount, exposure at default, coverage) is the fact's own
 *   ("The ECL is EUR 8.23 million [fact:totals.gross_carrying_amount]" is
 *   refused), and a stage's figure is not said of another stage.
 *
 * Numbers written in words ("twelve per cent", "three products") are
 * refused: the instruction asks for digits, each with its citation.
 *
 * Not figures, and so allowed without a citation: dates (`2025-12-31`,
 * `31 December 2025`, `Q4`), years (1900 to 2199, written without
 * separators), stage numbers (`stage 2`, `stages 1 and 2`), references to
 * standards and methodology sections (`IFRS 9 §5.5.3`, `IAS 21`, `B8E`,
 * `methodology §8`), the standard's horizons (`12-month`, `30 days past
 * due`, `90 days past due`), the names the sheet holds (products, segments,
 * overlays, rule codes) as whole tokens (a name of digits only where
 * `segment`, `product`, `overlay` or `rule` stands before it), and the
 * texts the sheet quotes (warnings, overlay reasons, rule descriptions)
 * when copied whole.
 *
 * The text shown is the model's with the citations taken out
 * ({@link NarrativeCheck.text}).
 *
 * @module
 */
import type { Fact, FactSheet } from "./facts.ts";
import { redactIdentifiers } from "./facts.ts";

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
  /** Where it starts in the text. */
  index: number;
}

/** The outcome of {@link checkNarrative}. */
export interface NarrativeCheck {
  /** Every figure read from the text, with the fact it cites. */
  figures: (QuotedFigure & { fact?: string })[];
  /** What is refused, each as written with the reason in brackets. */
  unknown: string[];
  /** The text to show: the citations taken out. */
  text: string;
}

const MONTHS =
  "January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec";

/** What is not a figure: dates, references, stages. */
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
  // The standard's own horizons: 12-month ECL, 30 and 90 days past due.
  /\b12[-\s]months?\b/gi,
  /\b(?:30|90)\+?\s*days\s+past\s+due\b/gi,
];

/** A citation of a fact: `[fact:stage.2.ecl]`. */
const CITATION = /\[fact:\s*([^\]\s]+)\s*\]/g;

/**
 * A number with an optional sign and unit; a letter before it does not
 * hide it (`EUR1.4m`).
 */
const NUMBER =
  /(?<![\d.,])([-−+]?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?:\s*(%|per\s?cent\b|percent\b|million\b|mn\b|m\b|billion\b|bn\b|thousand\b|k\b))?/gi;

const SCALE: Record<string, number> = {
  "%": 0.01,
  percent: 0.01,
  "per cent": 0.01,
  million: 1e6,
  mn: 1e6,
  m: 1e6,
  billion: 1e9,
  bn: 1e9,
  thousand: 1e3,
  k: 1e3,
};

/** Numbers in words: refused, the instruction asks for digits. */
const NUMBER_WORDS =
  /\b(?:zero|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|dozen|(?<![\d.,]\s*)(?:thousand|million|billion)|one(?=\s+(?:per\s?cent|percent|hundred|thousand|million|billion|in\s+(?:\w+\s+)?(?:ten|hundred|thousand))))\b/gi;

/** Words saying a change went up, or down. */
const UP =
  /\b(?:rose|risen|rise|rises|rising|increased?|increases|increasing|up|add|adds|added|adding|grew|grown|grows|growing|higher|climbed|raised?|raising)\b/gi;
const DOWN =
  /\b(?:fell|fallen|fall|falls|falling|decreased?|decreases|decreasing|down|release|releases|released|releasing|lower|declined?|declining|dropped|drops?|reduced?|reducing|cut)\b/gi;

/** The measures an amount can be of, and the words naming them. */
const MEASURES: [string, RegExp][] = [
  ["gross_carrying_amount", /\bgross carrying amounts?\b|\bbook value\b/gi],
  ["ead", /\bexposures? at default\b|\bEAD\b/g],
  ["coverage", /\bcoverage\b|\bcovers?\b/gi],
  [
    "ecl",
    /\bECL\b|\bexpected credit loss(?:es)?\b|\b(?:loss )?allowance\b|\bprovisions?\b/gi,
  ],
];

/** The measure of an amount fact, by its id. */
function measureOf(f: Fact): string | undefined {
  if (f.kind !== "amount") return undefined;
  if (f.id.endsWith("gross_carrying_amount")) return "gross_carrying_amount";
  if (f.id === "totals.ead") return "ead";
  return "ecl";
}

/** `text` with each match of `re` blanked out, keeping every position. */
function blank(text: string, re: RegExp): string {
  return text.replace(re, (m) => " ".repeat(m.length));
}

/** The figures of an already-masked text. */
function figuresOf(text: string): (QuotedFigure & { sign: string })[] {
  const out: (QuotedFigure & { sign: string })[] = [];
  for (const m of text.matchAll(NUMBER)) {
    const whole = m[2].replaceAll(",", "");
    const decimals = m[3] ? m[3].length - 1 : 0;
    const unit = (m[4] ?? "").toLowerCase().replace(/\s+/g, " ");
    const scale = unit === "" ? 1 : SCALE[unit] ?? 1;
    // A bare year (1900-2199) is a date, not a figure.
    if (
      unit === "" && decimals === 0 && !m[2].includes(",") && m[1] === "" &&
      /^(19|20|21)\d{2}$/.test(whole)
    ) continue;
    out.push({
      text: m[0].slice(m[1].length).trim(),
      value: Number(`${whole}${m[3] ?? ""}`) * scale,
      tolerance: 0.5 * 10 ** -decimals * scale * (1 + 1e-9) + 1e-12,
      percent: scale === 0.01,
      index: m.index! + m[1].length,
      sign: m[1],
    });
  }
  return out;
}

/**
 * The figures of a text, normalised (dates, years, stages and references
 * to standards left out).
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
  for (const re of NOT_FIGURES) rest = blank(rest, re);
  return figuresOf(rest).map(({ sign: _, ...f }) => f);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Names of the sheet's groups, overlays and rules that hold a digit. */
function names(sheet: FactSheet): string[] {
  return [
    ...new Set([
      ...sheet.top_products.map((p) => p.key),
      ...sheet.top_segments.map((p) => p.key),
      ...(sheet.movement?.top_products ?? []).map((p) => p.product),
      ...sheet.overlays.map((o) => o.name),
      ...sheet.failed_rules.map((r) => r.code),
    ]),
  ].filter((n): n is string => !!n && /\d/.test(n))
    .sort((a, b) => b.length - a.length);
}

/** A regular expression matching `name` as a whole token. */
function nameToken(name: string): RegExp {
  const n = escapeRe(name);
  // A name of digits only is a name where its kind is said before it.
  if (/^[\d.,\s]+$/.test(name)) {
    return new RegExp(
      `(?<=\\b(?:segments?|products?|overlays?|rules?)\\s+)${n}(?![\\w]|[.,]\\d)`,
      "gi",
    );
  }
  return new RegExp(`(?<![\\w.,-])${n}(?![\\w-]|[.,]\\d)`, "g");
}

/** The last match of `re` in `text`, with where it is. */
function lastMatch(text: string, re: RegExp): { at: number } | undefined {
  let last: { at: number } | undefined;
  for (const m of text.matchAll(re)) last = { at: m.index! };
  return last;
}

/** Significant digits of a number as written (`1,028,449.75` has 9). */
function significantDigits(written: string): number {
  const digits = written.replace(/[^\d.]/g, "");
  const [int, frac = ""] = digits.split(".");
  const i = int.replace(/^0+/, "");
  return i === "" ? frac.replace(/^0+/, "").length : i.length + frac.length;
}

/** A figure as its fact's forms write it: `12.3 per cent` is `12.3%`. */
function canonical(written: string): string {
  return written
    .replace(/^[-−+]/, "")
    .replace(/\s*(?:per\s?cent|percent)$/i, "%")
    .replace(/\s*%$/, "%")
    .replace(/\s+/g, " ");
}

/**
 * Checks the figures of a model's `text` against `sheet` (see the module
 * documentation for what is kept and refused).
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
 *     "totals.ecl": { id: "totals.ecl", value: 1_028_449.75, kind: "amount",
 *       formatted: ["1,028,449.75", "1.03 million"] },
 *   },
 * } as unknown as FactSheet;
 * const ok = checkNarrative("The ECL is EUR 1.03 million [fact:totals.ecl] in stage 2.", sheet);
 * assert.deepEqual(ok.unknown, []);
 * assert.equal(ok.text, "The ECL is EUR 1.03 million in stage 2.");
 * assert.equal(checkNarrative("The ECL is EUR 1 million [fact:totals.ecl].", sheet).unknown.length, 1);
 * ```
 */
export function checkNarrative(text: string, sheet: FactSheet): NarrativeCheck {
  const unknown: string[] = [];
  const citations = [...text.matchAll(CITATION)].map((m) => ({
    start: m.index!,
    end: m.index! + m[0].length,
    id: m[1],
  }));
  for (const c of citations) {
    if (!(c.id in sheet.facts)) unknown.push(`[fact:${c.id}] (no such fact)`);
  }
  // Masked: citations, the texts the sheet quotes (copied whole), names,
  // dates and references: positions kept, so a figure's neighbourhood is
  // read from the text as written.
  let masked = blank(text, CITATION);
  const quoted = [
    ...sheet.warnings,
    ...sheet.overlays.map((o) => o.reason),
    ...sheet.failed_rules.map((r) => r.description),
  ].filter((q) => q && q.length >= 8);
  for (
    const q of [...new Set([...quoted, ...quoted.map(redactIdentifiers)])]
      .map((q) => q.replace(/\.$/, ""))
      .sort((a, b) => b.length - a.length)
  ) masked = blank(masked, new RegExp(escapeRe(q), "g"));
  for (const n of names(sheet)) masked = blank(masked, nameToken(n));
  for (const re of NOT_FIGURES) masked = blank(masked, re);

  for (const m of masked.matchAll(NUMBER_WORDS)) {
    unknown.push(`${m[0]} (a number in words)`);
  }

  const figures: NarrativeCheck["figures"] = [];
  let windowStart = 0;
  for (const f of figuresOf(masked)) {
    const end = f.index + f.text.length;
    const cite = citations.find((c) =>
      c.start >= end && /^\s*$/.test(text.slice(end, c.start))
    );
    const written = `${f.sign}${f.text}`;
    // What stands before the figure in its sentence, after the previous
    // cited figure: where its direction word and measure are read.
    const sentenceStart = Math.max(
      text.lastIndexOf(". ", f.index) + 1,
      text.lastIndexOf("\n", f.index) + 1,
      text.lastIndexOf("; ", f.index) + 1,
    );
    const before = blank(
      text.slice(Math.max(windowStart, sentenceStart), f.index),
      CITATION,
    );
    windowStart = cite ? cite.end : end;
    const fact = cite ? sheet.facts[cite.id] : undefined;
    const { sign: _, ...figure } = f;
    figures.push(fact ? { ...figure, fact: fact.id } : figure);
    if (!cite) {
      unknown.push(`${written} (no fact cited)`);
      continue;
    }
    if (!fact) continue; // said above
    if (f.sign !== "") {
      unknown.push(`${written} (a sign: write the size and the direction)`);
      continue;
    }
    if (!fact.formatted.includes(canonical(f.text))) {
      unknown.push(`${written} (not a form of ${fact.id})`);
      continue;
    }
    if (
      fact.kind !== "count" && fact.value !== 0 &&
      significantDigits(f.text) < 3
    ) {
      unknown.push(`${written} (fewer than 3 significant digits)`);
      continue;
    }
    if (fact.change && fact.value !== 0) {
      const up = lastMatch(before, UP);
      const down = lastMatch(before, DOWN);
      const said = up && (!down || up.at > down.at) ? 1 : down ? -1 : 0;
      if (said === 0) {
        unknown.push(`${written} (a change of ${fact.id} with no direction)`);
        continue;
      }
      if (said !== Math.sign(fact.value)) {
        unknown.push(
          `${written} (${fact.id} ${
            fact.value > 0 ? "rose" : "fell"
          }, the text says otherwise)`,
        );
        continue;
      }
    }
    // A stage's figure in a sentence about another stage.
    const stageOfFact = fact.id.match(/^stage\.(\d)\./)?.[1];
    if (stageOfFact !== undefined) {
      let said: string | undefined;
      for (
        const m of text.slice(sentenceStart, f.index).matchAll(
          /\bstage\s+(\d)\b(?!\s*(?:,|and\b|or\b|to\b|-|–))/gi,
        )
      ) said = m[1];
      if (said !== undefined && said !== stageOfFact) {
        unknown.push(`${written} (said of stage ${said}, cited as ${fact.id})`);
        continue;
      }
    }
    const measure = measureOf(fact);
    if (measure !== undefined) {
      let named: { at: number; measure: string } | undefined;
      for (const [m, re] of MEASURES) {
        const at = lastMatch(before, re);
        if (at && (!named || at.at > named.at)) {
          named = { at: at.at, measure: m };
        }
      }
      if (named && named.measure !== measure) {
        unknown.push(
          `${written} (said of the ${
            named.measure.replaceAll("_", " ")
          }, cited as ${fact.id})`,
        );
        continue;
      }
    }
  }
  return {
    figures,
    unknown,
    text: text.replace(/[ \t]*\[fact:[^\]]*\]/g, ""),
  };
}
