/**
 * BI outputs over two hand-made runs: the star schema's tables, keys and
 * reporting-currency amounts, and the trend's reading of an older summary
 * (the dashboard's page: dashboard_test.ts).
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { exportStarSchema, readTrend } from "../../lib/report/mod.ts";
import { writeFixtureRun } from "./_run_fixture.ts";

async function twoRuns(root: string): Promise<string[]> {
  const a = await writeFixtureRun(`${root}/a`, {
    runId: "r1",
    reportingDate: "2025-12-31",
    rates: { EUR: 1, USD: 0.9 },
    loans: [
      { loan_id: "L1", currency: "EUR", stage: 1, ecl: 10, gross: 1000 },
      {
        loan_id: "L2",
        currency: "USD",
        stage: 2,
        ecl: 300,
        gross: 500,
        product: "mortgage",
        region: "south",
      },
    ],
  });
  const b = await writeFixtureRun(`${root}/b`, {
    runId: "r2",
    reportingDate: "2026-03-31",
    rates: { EUR: 1, USD: 0.8 },
    loans: [
      // 20 drawn of an EAD of 950, ECL 25: 20 loss allowance, 5 provision.
      {
        loan_id: "L1",
        currency: "EUR",
        stage: 2,
        ecl: 25,
        gross: 20,
        ead: 950,
      },
      { loan_id: "L4", currency: "USD", stage: 1, ecl: 20, gross: 2000 },
    ],
  });
  // Given out of order on purpose: both functions sort by reporting date.
  return [b, a];
}

Deno.test("exportStarSchema() writes a fact table and four dimensions as Parquet and CSV", async () => {
  const root = await Deno.makeTempDir({ prefix: "star_test_" });
  const runs = await twoRuns(root);
  const out = `${root}/bi`;
  const result = await exportStarSchema(runs, out);
  assert.deepEqual(result.rows, {
    fact_facility: 4,
    dim_stage: 3,
    dim_product: 2,
    dim_region: 2,
    dim_date: 2,
  });
  // Five tables as Parquet and CSV, the IFRS 7 CSV (lib/disclosure), README.
  assert.equal(result.files.length, 12);
  const fact = pl.readParquet(`${out}/fact_facility.parquet`);
  const csv = pl.readCSV(await Deno.readTextFile(`${out}/fact_facility.csv`));
  assert.equal(csv.height, 4);
  assert.deepEqual(fact.getColumn("date_key").toArray(), [
    20251231,
    20251231,
    20260331,
    20260331,
  ]);
  // ECL in EUR: 10, 300 * 0.9, 25, 20 * 0.8.
  assert.deepEqual(fact.getColumn("ecl_rc").toArray(), [10, 270, 25, 16]);
  // IFRS 7 B8E per facility: L1 at 2026-03-31 has 25 of ECL on 20 drawn.
  assert.deepEqual(fact.getColumn("loss_allowance_rc").toArray(), [
    10,
    270,
    20,
    16,
  ]);
  assert.deepEqual(fact.getColumn("provision_rc").toArray(), [0, 0, 5, 0]);
  // Keys resolve through the dimensions.
  const product = pl.readParquet(`${out}/dim_product.parquet`);
  const joined = fact.join(product, { on: "product_key" });
  assert.deepEqual(joined.getColumn("product").toArray(), [
    "sme",
    "mortgage",
    "sme",
    "sme",
  ]);
  const dates = pl.readParquet(`${out}/dim_date.parquet`);
  assert.deepEqual(dates.getColumn("quarter_label").toArray(), [
    "2025 Q4",
    "2026 Q1",
  ]);
  const readme = await Deno.readTextFile(`${out}/README.md`);
  assert.match(readme, /Power BI/);
  assert.match(
    readme,
    /Coverage = DIVIDE\(\[ECL\], \[Gross carrying amount\]\)/,
  );
  await Deno.remove(root, { recursive: true });
});

Deno.test("exportStarSchema() refuses two runs of the same reporting date", async () => {
  const root = await Deno.makeTempDir({ prefix: "star_test_" });
  const [b] = await twoRuns(root);
  await assert.rejects(
    () => exportStarSchema([b, b], `${root}/bi`),
    /share reporting date 2026-03-31/,
  );
  await Deno.remove(root, { recursive: true });
});

Deno.test("readTrend() reads the coverage of a run written before methodology v2 on the gross carrying amount", async () => {
  const root = await Deno.makeTempDir({ prefix: "dashboard_test_" });
  const [b, a] = await twoRuns(root);
  // Version 1 wrote ECL / EAD: 41 / 2550 in total, 25 / 950 in stage 2.
  const path = `${b}/summary.json`;
  const old = JSON.parse(await Deno.readTextFile(path));
  old.totals.coverage = 41 / 2550;
  old.by_stage[1].coverage = 25 / 950;
  delete old.overlay_floor;
  await Deno.writeTextFile(path, JSON.stringify(old));
  const points = await readTrend([a, b]);
  const s = points[1].summary;
  assert.ok(Math.abs(s.totals.coverage! - 41 / 1620) < 1e-15);
  assert.equal(s.by_stage[1].coverage, 25 / 20);
  assert.deepEqual(s.overlay_floor, { facilities: 0, ecl_impact: 0 });
  await Deno.remove(root, { recursive: true });
});

Deno.test("exportStarSchema() writes a formula-like text cell to CSV with a leading quote, and to Parquet as it is", async () => {
  const root = await Deno.makeTempDir();
  try {
    const id = '=HYPERLINK("http://x","y")';
    const run = await writeFixtureRun(`${root}/r1`, {
      runId: "r1",
      reportingDate: "2025-12-31",
      rates: { EUR: 1 },
      loans: [{ loan_id: id, currency: "EUR", stage: 1, ecl: 4, gross: 400 }],
    });
    const out = `${root}/star`;
    await exportStarSchema([run], out);
    const csv = await Deno.readTextFile(`${out}/fact_facility.csv`);
    assert.ok(csv.includes(`"'=HYPERLINK(""http://x"",""y"")"`), csv);
    const parquet = pl.readParquet(`${out}/fact_facility.parquet`);
    assert.equal(parquet.getColumn("loan_id").get(0), id);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
