/**
 * What makes a notebook a tutorial rather than a code dump, as checks the
 * notebook tests share (notebooks/README.md): its text explains the IFRS 9
 * step, its tables are formatted for people, and it never adds up amounts
 * that are in different currencies.
 *
 * @module
 */
import type { Notebook } from "../../lib/notebook/mod.ts";

/** Words of explanation a tutorial notebook's markdown has at least. */
export const MIN_WORDS = 600;

/** Paragraph citations of IFRS 9, IFRS 7 or IAS 21 a notebook makes at least. */
export const MIN_CITATIONS = 3;

/** A cell's source as one string. */
const sourceOf = (cell: Notebook["cells"][number]) =>
  Array.isArray(cell.source) ? cell.source.join("") : String(cell.source);

/** The markdown of a notebook, all cells joined. */
export function markdownOf(nb: Notebook): string {
  return nb.cells.filter((c) => c.cell_type === "markdown").map(sourceOf)
    .join("\n");
}

/** The code of a notebook, all cells joined. */
export function codeOf(nb: Notebook): string {
  return nb.cells.filter((c) => c.cell_type === "code").map(sourceOf)
    .join("\n");
}

/**
 * Paragraph citations in a text: `§5.5.3`, `§35H`, `B5.5.37`, `B8E`
 * (IFRS 9 and IFRS 7 number their paragraphs so).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { citations } from "./_tutorial.ts";
 * assert.deepEqual(citations("IFRS 9 §5.5.3 and B5.5.37; IFRS 7 §35H, B8E"), [
 *   "§5.5.3", "B5.5.37", "§35H", "B8E",
 * ]);
 * ```
 */
export function citations(text: string): string[] {
  return text.match(/§\d+(\.\d+)*[A-Z]?|\bB\d+(\.\d+)*[A-Z]?\b/g) ?? [];
}

/**
 * Amount columns of the portfolio (methodology §1) and of the loan results
 * (§9) that are in each facility's own currency.
 */
const LOCAL_AMOUNTS =
  /pl\.col\((COL\.(balance|creditLimit|collateralValue|writeOffAmount)|"(balance|credit_limit|collateral_value|write_off_amount|ead|ecl|ecl_12m|ecl_lifetime|ecl_model)")\)\s*\.(sum|median|mean|quantile)\(/g;

/**
 * Places where code aggregates an amount still in the facility's currency
 * (`pl.col(COL.balance).sum()`): across a book in seven currencies that
 * total means nothing (methodology §9 converts first). An amount converted
 * before it is aggregated (`pl.col(COL.balance).mul(rate)`, `ecl_rc`) is
 * not matched.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { localCurrencyAggregates } from "./_tutorial.ts";
 * assert.deepEqual(localCurrencyAggregates('pl.col(COL.balance).median().alias("m")'), [
 *   "pl.col(COL.balance).median(",
 * ]);
 * assert.deepEqual(localCurrencyAggregates('pl.col(COL.balance).mul(rate).sum()'), []);
 * assert.deepEqual(localCurrencyAggregates('pl.col("ecl_rc").sum()'), []);
 * ```
 */
export function localCurrencyAggregates(code: string): string[] {
  return code.match(LOCAL_AMOUNTS) ?? [];
}

/** A JavaScript `Date` printed as text, as a raw frame shows a date. */
const JS_DATE =
  /\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{2} \d{4}\b|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/**
 * Whether a table cell holds a number as a raw float prints it: many
 * significant digits (`0.12441551155115511`) or a large amount without
 * thousands separators (`100557.4`). Formatted figures (`1,234.56`,
 * `12.44%`, an FX rate to four significant digits) pass.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isRawNumber } from "./_tutorial.ts";
 * assert.ok(isRawNumber("0.12441551155115511"));
 * assert.ok(isRawNumber("100557.4"));
 * assert.ok(!isRawNumber("100,557.40"));
 * assert.ok(!isRawNumber("0.0009800"));
 * assert.ok(!isRawNumber("12.44%"));
 * ```
 */
export function isRawNumber(text: string): boolean {
  const m = text.trim().match(/^-?(\d+)\.(\d+)$/);
  if (m === null) return false;
  const significant = (m[1] + m[2]).replace(/^0+/, "").length;
  return significant > 8 || m[1].length >= 4;
}

/**
 * What in a rendered notebook page is not formatted for people: table
 * cells showing a JavaScript date or a raw float, each named with its
 * text. Empty for a page whose tables show dates as `YYYY-MM-DD` and
 * figures through `formatAmount`, `formatPercent` or `formatCount`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unformattedCells } from "./_tutorial.ts";
 * assert.deepEqual(
 *   unformattedCells("<table><tr><td>2025-12-31</td><td>1,234.56</td></tr></table>"),
 *   [],
 * );
 * assert.deepEqual(
 *   unformattedCells("<td>Wed Dec 31 2025 01:00:00 GMT+0100</td><td>0.07508689552238806</td>"),
 *   ["date as a JavaScript string: Wed Dec 31 2025 01:00:00 GMT+0100", "raw float: 0.07508689552238806"],
 * );
 * ```
 */
export function unformattedCells(html: string): string[] {
  const problems: string[] = [];
  for (const [, inner] of html.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)) {
    const text = inner.replace(/<[^>]+>/g, "").trim();
    if (JS_DATE.test(text)) {
      problems.push(`date as a JavaScript string: ${text}`);
    } else if (isRawNumber(text)) problems.push(`raw float: ${text}`);
  }
  return problems;
}
