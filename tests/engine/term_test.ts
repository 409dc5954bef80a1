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

/**
 * §2 by its definition, not by a closed form: the smallest k >= 1 with
 * addMonths(R, k) >= M, where addMonths keeps the day (clipped to the
 * month's length) and maps a month-end to a month-end.
 */
function byHand(r: string, m: string): number {
  const [ry, rm, rd] = r.split("-").map(Number);
  const lastDay = (y: number, mo: number) =>
    new Date(Date.UTC(y, mo, 0)).getUTCDate();
  const rIsMonthEnd = rd === lastDay(ry, rm);
  for (let k = 1;; k++) {
    const total = rm - 1 + k;
    const y = ry + Math.floor(total / 12);
    const mo = total % 12 + 1;
    const d = rIsMonthEnd ? lastDay(y, mo) : Math.min(rd, lastDay(y, mo));
    const date = `${y}-${String(mo).padStart(2, "0")}-${
      String(d).padStart(2, "0")
    }`;
    if (date >= m) return k;
  }
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
      { r: "2024-02-29", m: "2024-03-31" }, // month-end to month-end: 1
      { r: "2024-01-31", m: "2024-03-01" },
    ]),
    [1, 2, 1, 2],
  );
});

Deno.test("remainingTermExpr() follows the contract's end-of-month examples (methodology v2 §2)", async () => {
  // The examples written in §2; version 1 counted 2025-10-31 from
  // 2025-09-30 as 2 months.
  const cases = [
    { r: "2025-09-30", m: "2025-10-01" },
    { r: "2025-09-30", m: "2025-10-31" },
    { r: "2025-09-30", m: "2025-11-01" },
    { r: "2025-09-30", m: "2026-03-31" },
    { r: "2025-12-31", m: "2026-02-28" },
    { r: "2025-12-31", m: "2026-03-01" },
  ];
  assert.deepEqual(await terms(cases), [1, 1, 2, 6, 2, 3]);
});

Deno.test("remainingTermExpr() agrees with the addMonths search on every day pair of a leap and a common year", async () => {
  // Reporting dates on every day of 2024 (leap) and maturities 1-400 days
  // later: the closed form in the engine must equal the §2 search.
  const cases: { r: string; m: string }[] = [];
  const iso = (t: number) => new Date(t).toISOString().slice(0, 10);
  const day = 86_400_000;
  for (let r = Date.UTC(2024, 0, 1); r < Date.UTC(2025, 0, 1); r += 7 * day) {
    for (let ahead = 1; ahead <= 400; ahead += 3) {
      cases.push({ r: iso(r), m: iso(r + ahead * day) });
    }
  }
  for (const r of ["2024-02-29", "2025-02-28", "2025-06-30", "2025-01-30"]) {
    const t = Date.parse(r);
    for (let ahead = 1; ahead <= 70; ahead++) {
      cases.push({ r, m: iso(t + ahead * day) });
    }
  }
  assert.deepEqual(await terms(cases), cases.map((c) => byHand(c.r, c.m)));
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
