/**
 * The IFRS 7 credit-risk tables (lib/disclosure): a hand-built book whose
 * table is worked out by hand below, and small runs whose `summary.json`
 * (read from disk) carries tables that tie to the run's totals to the cent
 * and to a facility-by-facility sum computed here in plain TypeScript.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import type { LazyFrame } from "../../lib/frame.ts";
import {
  disclosuresOf,
  gradeOrder,
  ifrs7Csv,
  type Ifrs7Disclosures,
  ifrs7Tables,
  UNGRADED,
} from "../../lib/disclosure/mod.ts";
import { runPortfolio } from "../../lib/mod.ts";
import { portfolioFrame } from "../run/_portfolio.ts";

/**
 * Two amounts agree to the cent: within half a cent, the movement's
 * tolerance (lib/movement/reconciliation.ts). Rounding each to cents is
 * not the test: 4,506,149.975 summed in two orders rounds either way.
 */
function assertCent(actual: number, expected: number, what: string) {
  assert.ok(
    Math.abs(actual - expected) < 0.005,
    `${what}: ${actual} and ${expected} differ by more than half a cent`,
  );
}

/**
 * Rates EUR 1, USD 0.5. `trade_receivable` is on the simplified approach.
 *
 * | loan | cur | product          | stage | rating | pd_12m | ECL | gross | collateral | written off |
 * |------|-----|------------------|-------|--------|--------|-----|-------|------------|-------------|
 * | A    | EUR | mortgage         | 1     | R02    | 0.001  | 1   | 100   | 90         | 0           |
 * | B    | EUR | mortgage         | 3     | D      | 1      | 40  | 50    | 80         | 10          |
 * | C    | USD | sme              | 2     | R05    | 0.02   | 5   | 200   | null       | 0           |
 * | D    | EUR | credit_card      | 2     | null   | 0.003  | 30  | 20    | null       | 0           |
 * | E    | USD | trade_receivable | 3     | null   | null   | 8   | 60    | 100        | 4           |
 * | F    | EUR | sme              | 1     | R02    | 0.001  | 2   | 300   | 500        | 0           |
 *
 * D has no rating: its PD 0.003 falls in G04 (0.002 < PD <= 0.004). E has
 * neither: ungraded. D's ECL 30 is above its gross 20: allowance 20,
 * provision 10 (B8E). In EUR: C 100 gross, 2.5 allowance; E 30 gross, 4
 * allowance, collateral 50 (capped 30), written off 2.
 *
 * Rows in scale order (R02 at place 2 of the master scale, G04 at 4, R05
 * at 5; the default grade D after the performing grades; ungraded last):
 *
 * | grade      | stage 1      | stage 2       | stage 3    | simplified |
 * |------------|--------------|---------------|------------|------------|
 * | R02        | 400 / 3      |               |            |            |
 * | G04        |              | 20 / 20 (+10) |            |            |
 * | R05        |              | 100 / 2.5     |            |            |
 * | D          |              |               | 50 / 40    |            |
 * | (ungraded) |              |               |            | 30 / 4     |
 *
 * Totals: gross 600, allowance 69.5, provision 10. Credit-impaired (stage
 * 3, including E): B and E, gross 80, allowance 44, collateral 80 + 50 =
 * 130, capped 50 + 30 = 80. Written off: 10 + 2 = 12.
 */
function handBook(): LazyFrame {
  return pl.DataFrame({
    loan_id: ["A", "B", "C", "D", "E", "F"],
    currency: ["EUR", "EUR", "USD", "EUR", "USD", "EUR"],
    product: [
      "mortgage",
      "mortgage",
      "sme",
      "credit_card",
      "trade_receivable",
      "sme",
    ],
    stage: [1, 3, 2, 2, 3, 1],
    rating: ["R02", "D", "R05", null, null, "R02"],
    pd_12m: [0.001, 1, 0.02, 0.003, null, 0.001],
    ecl: [1, 40, 5, 30, 8, 2],
    gross_carrying_amount: [100, 50, 200, 20, 60, 300],
    collateral_value: [90, 80, null, null, 100, 500],
    write_off_amount: [0, 10, 0, 0, 4, 0],
  }).lazy();
}

Deno.test("ifrs7Tables() on a hand-built book with known grades gives the hand table", async () => {
  const d = await ifrs7Tables(handBook(), {
    reportingCurrency: "EUR",
    rates: { EUR: 1, USD: 0.5 },
    simplifiedProducts: ["trade_receivable"],
  });
  assert.equal(d.grade_source, "rating_and_master_scale");
  assert.deepEqual(d.grades, ["R02", "G04", "R05", "D", UNGRADED]);
  const table = d.cells.map((c) => [
    c.grade,
    c.column,
    c.count,
    c.gross_carrying_amount,
    c.loss_allowance,
    c.provision,
  ]);
  assert.deepEqual(table, [
    ["R02", "stage_1", 2, 400, 3, 0],
    ["G04", "stage_2", 1, 20, 20, 10],
    ["R05", "stage_2", 1, 100, 2.5, 0],
    ["D", "stage_3", 1, 50, 40, 0],
    [UNGRADED, "simplified", 1, 30, 4, 0],
  ]);
  assert.deepEqual(d.totals, {
    count: 6,
    gross_carrying_amount: 600,
    loss_allowance: 69.5,
    provision: 10,
  });
  assert.deepEqual(d.by_column.stage_2, {
    count: 2,
    gross_carrying_amount: 120,
    loss_allowance: 22.5,
    provision: 10,
  });
  assert.deepEqual(d.credit_impaired, {
    count: 2,
    gross_carrying_amount: 80,
    loss_allowance: 44,
    provision: 0,
    collateral_available: true,
    collateral_value: 130,
    collateral_capped: 80,
  });
  assert.equal(d.written_off.written_off_in_period, 12);
  assert.equal(d.written_off.enforcement_available, false);
  // The CSV carries every cell's figures with their elements.
  const csv = ifrs7Csv(d, { runId: "hand", reportingDate: "2025-12-31" });
  const rows = csv.trim().split("\n").map((l) => l.split(","));
  const gross = rows.filter((r) =>
    r[2] === "35M" && r[3] !== "total" && r[5] === "gross_carrying_amount"
  );
  assert.deepEqual(gross.map((r) => [r[3], r[4], Number(r[6])]), [
    ["R02", "stage_1", 400],
    ["G04", "stage_2", 20],
    ["R05", "stage_2", 100],
    ["D", "stage_3", 50],
    [UNGRADED, "simplified", 30],
  ]);
  assert.ok(gross.every((r) => r[8] === "ifrs-full:FinancialAssets"));
  // The amount written off in the period is not the §35L figure: its own
  // table, no element, no paragraph; no §35L line at all.
  const header = csv.split("\n")[0].split(",");
  const col = (name: string) => header.indexOf(name);
  const wo = rows.filter((r) => r[2] === "written_off_in_period");
  assert.equal(wo.length, 1);
  assert.equal(wo[0][col("measure")], "amount_written_off_in_period");
  assert.equal(Number(wo[0][col("amount")]), 12);
  assert.equal(wo[0][col("ifrs_element")], "");
  assert.ok(!csv.includes("StillSubjectToEnforcement"));
  assert.ok(!rows.some((r) => r[2] === "35L"));
  assert.doesNotMatch(d.written_off.note, /upper bound/);
});

Deno.test("gradeOrder() puts ratings at their master-scale place, D after the performing grades, ungraded last", () => {
  // Master scale G01..G11 (upper PDs 0.05% doubling); R01..R11 the same
  // places; by hand: R01 (1), G02 (2), R02 (2, "G" < "R"), G03 (3), R10
  // (10), R11 (11), then D, then ungraded.
  const names = [UNGRADED, "R11", "D", "G03", "R02", "R10", "G02", "R01"];
  assert.deepEqual([...names].sort(gradeOrder()), [
    "R01",
    "G02",
    "R02",
    "G03",
    "R10",
    "R11",
    "D",
    UNGRADED,
  ]);
});

Deno.test("ifrs7Tables() without rating, collateral or write-offs uses the master scale and says what is absent", async () => {
  const d = await ifrs7Tables(
    handBook().drop("rating", "collateral_value", "write_off_amount"),
    {
      reportingCurrency: "EUR",
      rates: { EUR: 1, USD: 0.5 },
      simplifiedProducts: [],
    },
  );
  assert.equal(d.grade_source, "master_scale");
  // PD 0.001 is G02 (0.0005 < PD <= 0.001), 0.02 is G07, 1 is G11.
  assert.deepEqual(d.grades, ["G02", "G04", "G07", "G11", UNGRADED]);
  // E (stage 3, no simplified products) is now in the stage 3 column.
  assert.equal(d.by_column.stage_3.gross_carrying_amount, 80);
  assert.equal(d.by_column.simplified.count, 0);
  assert.equal(d.credit_impaired.collateral_value, null);
  assert.equal(d.written_off.written_off_in_period, null);
  assert.match(d.written_off.note, /not available/);
});

/** A run of `n` fixture loans (with `rating` when asked), its folder read back. */
async function runOf(n: number, withRating: boolean, chunkSize?: number) {
  const tmp = await Deno.makeTempDir();
  let frame = portfolioFrame(n);
  if (withRating) {
    // Every fifth facility unrated: those fall back to the master scale.
    frame = frame.withColumns(
      pl.Series(
        "rating",
        Array.from({ length: n }, (_, i) => i % 5 === 4 ? null : `R0${i % 4}`),
        pl.Utf8,
      ),
    );
  }
  const portfolio = `${tmp}/book.parquet`;
  frame.writeParquet(portfolio);
  const run = await runPortfolio({
    portfolio,
    out: tmp,
    runId: "book-2025-12-31",
    report: false,
    chunkSize,
  });
  // Read independently of what runPortfolio returned.
  const summary = JSON.parse(
    await Deno.readTextFile(`${run.dir}/summary.json`),
  );
  const results = pl.readParquet(`${run.dir}/loan_results.parquet`);
  const carrying = pl.readParquet(`${run.dir}/carrying_amounts.parquet`);
  return { tmp, frame, summary, results, carrying };
}

/**
 * The table recomputed facility by facility in plain TypeScript: grade
 * (rating, else the doubling master scale from 0.05%), column, allowance
 * min(ECL, gross) converted at the summary's rate.
 */
function byHand(
  frame: pl.DataFrame,
  results: pl.DataFrame,
  carrying: pl.DataFrame,
  rates: Record<string, number>,
) {
  const gross = new Map(
    carrying.toRecords().map((
      r,
    ) => [r.loan_id, Number(r.gross_carrying_amount)]),
  );
  const rating = new Map(
    frame.columns.includes("rating")
      ? frame.toRecords().map((r) => [r.loan_id, r.rating])
      : [],
  );
  const uppers = [
    0.0005,
    0.001,
    0.002,
    0.004,
    0.008,
    0.016,
    0.032,
    0.064,
    0.128,
    0.256,
  ];
  const band = (pd: number) => {
    const i = uppers.findIndex((u) => pd <= u);
    return `G${String((i === -1 ? 10 : i) + 1).padStart(2, "0")}`;
  };
  const cells = new Map<string, { gross: number; allowance: number }>();
  let gcaTotal = 0, allowanceTotal = 0;
  for (const r of results.toRecords()) {
    const g = gross.get(r.loan_id)!;
    const rate = rates[String(r.currency)];
    const grade = (rating.get(r.loan_id) as string | null | undefined) ??
      band(Number(r.pd_12m));
    const key = `${grade}|stage_${r.stage}`;
    const cell = cells.get(key) ?? { gross: 0, allowance: 0 };
    const allowance = Math.min(Number(r.ecl), Math.max(g, 0));
    cell.gross += g * rate;
    cell.allowance += allowance * rate;
    cells.set(key, cell);
    gcaTotal += g * rate;
    allowanceTotal += allowance * rate;
  }
  return { cells, gcaTotal, allowanceTotal };
}

function assertTies(
  d: Ifrs7Disclosures,
  summary: {
    totals: Record<string, number>;
    by_stage: Record<string, number>[];
  },
  hand: ReturnType<typeof byHand>,
) {
  // §35M totals equal the run's gross carrying amount and allowance.
  assertCent(
    d.totals.gross_carrying_amount,
    summary.totals.gross_carrying_amount,
    "d.totals.gross_carrying_amount",
  );
  assertCent(
    d.totals.loss_allowance,
    summary.totals.loss_allowance,
    "d.totals.loss_allowance",
  );
  assert.equal(d.totals.count, summary.totals.count);
  // The cells add up to the totals, and each column to the run's stage.
  const sum = (f: (c: Ifrs7Disclosures["cells"][number]) => number) =>
    d.cells.reduce((a, c) => a + f(c), 0);
  assertCent(
    sum((c) => c.gross_carrying_amount),
    summary.totals.gross_carrying_amount,
    "sum((c) => c.gross_carrying_amount)",
  );
  assertCent(
    sum((c) => c.loss_allowance),
    summary.totals.loss_allowance,
    "sum((c) => c.loss_allowance)",
  );
  for (const s of summary.by_stage) {
    const col = d.by_column[`stage_${s.key}` as "stage_1"];
    assertCent(
      col.gross_carrying_amount,
      s.gross_carrying_amount,
      "col.gross_carrying_amount",
    );
    assertCent(col.loss_allowance, s.loss_allowance, "col.loss_allowance");
  }
  // Each cell equals the facility-by-facility sum.
  assert.equal(d.cells.length, hand.cells.size);
  for (const c of d.cells) {
    const h = hand.cells.get(`${c.grade}|${c.column}`);
    assert.ok(h, `cell ${c.grade} ${c.column} computed by hand`);
    assertCent(c.gross_carrying_amount, h.gross, "c.gross_carrying_amount");
    assertCent(c.loss_allowance, h.allowance, "c.loss_allowance");
  }
  assertCent(
    hand.gcaTotal,
    summary.totals.gross_carrying_amount,
    "hand.gcaTotal",
  );
  assertCent(
    hand.allowanceTotal,
    summary.totals.loss_allowance,
    "hand.allowanceTotal",
  );
}

Deno.test("a run's summary.json disclosures tie to its totals to the cent (master scale)", async () => {
  const { tmp, frame, summary, results, carrying } = await runOf(120, false);
  try {
    const d = disclosuresOf(summary);
    assert.ok(d, "summary.json has a disclosures section");
    assert.equal(d.grade_source, "master_scale");
    assertTies(d, summary, byHand(frame, results, carrying, summary.fx.rates));
    // The fixture's mortgages carry collateral: some are credit-impaired.
    assert.equal(d.credit_impaired.collateral_available, true);
    assert.equal(
      d.credit_impaired.count,
      summary.by_stage.find((s: { key: string }) => s.key === "3").count,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("a run's summary.json disclosures use the portfolio's rating and tie to the cent, computed in chunks", async () => {
  // Chunks of 50 loans: the tables are read from the concatenated files.
  const { tmp, frame, summary, results, carrying } = await runOf(120, true, 50);
  try {
    const d = disclosuresOf(summary)!;
    assert.equal(d.grade_source, "rating_and_master_scale");
    assert.ok(d.grades.includes("R00") && d.grades.includes("R03"));
    assertTies(d, summary, byHand(frame, results, carrying, summary.fx.rates));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
