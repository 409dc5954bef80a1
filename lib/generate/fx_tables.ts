/**
 * FX tables for the generated snapshots: the generator rolls a book into
 * later quarters, and a run converts each quarter at that quarter's closing
 * rates (IAS 21 §23), so it writes a table per snapshot date,
 * `fx_rates_<date>.yaml`, beside the snapshot, where a run without `--fx`
 * looks first (`fxDirs` of `lib/run/run.ts`). Without them every later run
 * would warn that its table is not as of its reporting date, and every
 * movement's foreign-exchange line would be zero.
 *
 * The first date's rates are {@link REFERENCE_FX} (config/fx_rates.yaml's,
 * which the book's amounts were drawn with); each later quarter moves each
 * rate by a seeded lognormal step of {@link FX_QUARTERLY_VOLATILITY}, on a
 * random stream of its own, so the book itself is the same with or without
 * the tables, and the same seed gives the same tables. Quarterly steps of a
 * few percent keep every rate far inside the bounds `loadFx` enforces
 * (`MIN_FX_RATE` 1e-9 to `MAX_FX_RATE` 1e9 of `lib/fx.ts`) over the at
 * most 99 periods of a generated book: ten standard deviations of 98 steps
 * move a rate less than 250-fold.
 *
 * @module
 */
import { stringify } from "yaml";
import type { FxTable } from "../fx.ts";
import {
  CURRENCIES,
  FX_QUARTERLY_VOLATILITY,
  REFERENCE_FX,
} from "./catalogue.ts";
import { Rng } from "./random.ts";

/** The generated tables' quote currency: the reference table's base. */
const BASE = "EUR";

/** Significant digits of a generated rate, as a treasury table quotes. */
const DIGITS = 5;

/** A generated FX table: the content of an FX file, without its provenance. */
export type GeneratedFxTable = Pick<FxTable, "base" | "as_of" | "rates">;

/**
 * The FX table of each reporting date of a generated book, oldest first:
 * the reference rates at the first date, then a seeded random walk, one
 * step per date. The tables of a longer book start with those of a shorter
 * one of the same seed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { REFERENCE_FX } from "./catalogue.ts";
 * import { fxTableText, generateFxTables } from "./fx_tables.ts";
 *
 * const [q4, q1] = generateFxTables(42, ["2025-12-31", "2026-03-31"]);
 * assert.deepEqual(q4.rates, REFERENCE_FX);
 * assert.equal(q1.as_of, "2026-03-31");
 * assert.equal(q1.rates.EUR, 1);
 * // Each rate moved, by a few percent at most.
 * for (const c of ["USD", "MXN", "BRL", "COP", "CLP", "PEN"] as const) {
 *   assert.notEqual(q1.rates[c], q4.rates[c]);
 *   assert.ok(Math.abs(Math.log(q1.rates[c] / q4.rates[c])) < 0.25);
 * }
 * assert.deepEqual(generateFxTables(42, ["2025-12-31", "2026-03-31"])[1], q1);
 * // What the generator writes, loadFx reads back (dates and rate bounds).
 * import { parseFx } from "../fx.ts";
 * assert.deepEqual(parseFx(fxTableText(q1, 42), "q1.yaml").rates, q1.rates);
 * ```
 */
export function generateFxTables(
  seed: number,
  dates: readonly string[],
): GeneratedFxTable[] {
  // A stream no batch (streams 0, 1, ...) or injection draws from.
  const rng = new Rng(seed ^ 0x46583a31, 0x7ffff);
  const tables: GeneratedFxTable[] = [];
  let rates: Record<string, number> = { ...REFERENCE_FX };
  dates.forEach((date, t) => {
    if (t > 0) {
      const next: Record<string, number> = {};
      for (const c of CURRENCIES) {
        const sigma = FX_QUARTERLY_VOLATILITY[c];
        // Mean-preserving lognormal step: E[next] = rate.
        const step = Math.exp(sigma * rng.normal() - sigma * sigma / 2);
        next[c] = c === BASE
          ? 1
          : Number((rates[c] * step).toPrecision(DIGITS));
      }
      rates = next;
    }
    tables.push({ base: BASE, as_of: date, rates: { ...rates } });
  });
  return tables;
}

/**
 * The YAML text of a generated table, in the format `loadFx` reads
 * (`lib/fx.ts`), with a comment saying where it comes from.
 */
export function fxTableText(table: GeneratedFxTable, seed: number): string {
  const comment = [
    `FX table of the synthetic book at ${table.as_of}, written by deno task generate`,
    `(seed ${seed}): units of ${table.base} per one unit of each currency. The first snapshot's`,
    "rates are config/fx_rates.yaml's; each later quarter moves them by a seeded",
    "random step (docs/generator.md). Illustrative, not market data.",
  ].map((line) => `# ${line}`).join("\n");
  return `${comment}\n${stringify(table)}`;
}
