/**
 * Tests of the remaining term `m` (methodology §2).
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { remainingTermExpr } from "../../lib/engine/term.ts";
import { ONE_SCENARIO, portfolio, rulesFrom, sameType } from "./_helpers.ts";

const rules = rulesFrom(ONE_SCENARIO);

async function terms(
  cases: { r: string; m: string | null; product?: string }[],
): Promise<(number | null)[]> {
  const df = portfolio(cases.map((c) => ({
    reporting_date: c.r,
    maturity_date: c.m,
    product: c.product ?? "sme",
  })));
  const out = await df.lazy().select(remainingTermExpr(rules)).collect();
  assert.ok(sameType(out.getColumn("remaining_term_months").dtype, pl.Int32));
  return out.getColumn("remaining_term_months").toArray() as (number | null)[];
}

/** §2 by hand: 12 * years + months + (later day ? 1 : 0), at least 1. */
function byHand(r: string, m: string): number {
  const [ry, rm, rd] = r.split("-").map(Number);
  const [my, mm, md] = m.split("-").map(Number);
  return Math.max(1, 12 * (my - ry) + (mm - rm) + (md > rd ? 1 : 0));
}

Deno.test("remainingTermExpr() counts whole months and a started one by day of month", async () => {
  const cases = [
    { r: "2025-12-31", m: "2027-12-31" }, // same day: 24
    { r: "2025-12-15", m: "2026-01-16" }, // one day later: 2
    { r: "2025-12-15", m: "2026-01-14" }, // one day earlier: 1
    { r: "2025-06-15", m: "2030-06-15" }, // 60
    { r: "2025-01-10", m: "2025-11-30" }, // 11
  ];
  assert.deepEqual(await terms(cases), [24, 2, 1, 60, 11]);
  assert.deepEqual(await terms(cases), cases.map((c) => byHand(c.r, c.m!)));
});

Deno.test("remainingTermExpr() keeps month-end to month-end at whole months", async () => {
  // 31 Jan -> 29 Feb: day 29 < 31, so 1 month, not 2.
  assert.deepEqual(
    await terms([
      { r: "2024-01-31", m: "2024-02-29" },
      { r: "2024-01-31", m: "2024-03-31" },
      { r: "2024-02-29", m: "2024-03-31" }, // day 31 > 29: 1 + 1
      { r: "2024-01-31", m: "2024-03-01" },
    ]),
    [1, 2, 2, 2],
  );
});

Deno.test("remainingTermExpr() floors m at 1", async () => {
  // Maturity a few days after R in the same month: 0 months + later day = 1;
  // validation refuses earlier maturities, the floor still guards them.
  assert.deepEqual(
    await terms([
      { r: "2025-12-01", m: "2025-12-02" },
      { r: "2025-12-31", m: "2025-12-31" },
      { r: "2025-12-31", m: "2025-11-30" },
    ]),
    [1, 1, 1],
  );
});

Deno.test("remainingTermExpr() uses behavioural life for revolving products, maturity or not", async () => {
  assert.deepEqual(
    await terms([
      { r: "2025-12-31", m: null, product: "credit_card" },
      { r: "2025-12-31", m: "2026-03-31", product: "credit_card" },
      { r: "2025-12-31", m: null, product: "sme" },
    ]),
    [36, 36, null],
  );
});
