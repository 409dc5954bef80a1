/**
 * Where a run's IFRS 7 tables show: a section of `report.html` and
 * `ifrs7_credit_risk.csv` beside the star-schema exports, each figure with
 * its IFRS Accounting Taxonomy element.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { exportStarSchema, runPortfolio } from "../../lib/mod.ts";
import {
  IFRS7_CSV_COLUMNS,
  WRITTEN_OFF_TABLE,
} from "../../lib/disclosure/mod.ts";
import { writePortfolio } from "../run/_portfolio.ts";

Deno.test("a run's report.html and the BI export carry the IFRS 7 tables with their taxonomy elements", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const run = await runPortfolio({
      portfolio: writePortfolio(`${tmp}/book.parquet`, 80),
      out: `${tmp}/runs`,
      runId: "book-2025-12-31",
    });
    const summary = JSON.parse(
      await Deno.readTextFile(`${run.dir}/summary.json`),
    );
    const html = await Deno.readTextFile(`${run.dir}/report.html`);
    assert.match(html, /<section[^>]*id="ifrs7"/);
    assert.match(html, /§35M gross carrying amount by grade/);
    assert.match(html, /ifrs-full:FinancialAssets/);
    assert.match(html, /Written off, still subject to enforcement \(§35L\)/);

    const star = `${tmp}/bi`;
    await exportStarSchema([run.dir], star);
    const text = await Deno.readTextFile(`${star}/ifrs7_credit_risk.csv`);
    const csv = pl.readCSV(text, { inferSchemaLength: 0 });
    assert.deepEqual(csv.columns, [...IFRS7_CSV_COLUMNS]);
    const figure = (grade: string, column: string, measure: string) => {
      const rows = csv.filter(
        pl.col("grade").eq(pl.lit(grade))
          .and(pl.col("column").eq(pl.lit(column)))
          .and(pl.col("measure").eq(pl.lit(measure))),
      );
      assert.equal(rows.height, 1, `${grade} ${column} ${measure}`);
      return rows.toRecords()[0];
    };
    // The total line of the §35M table is the run's total, to the cent.
    const gross = figure("total", "total", "gross_carrying_amount");
    assert.ok(
      Math.abs(
        Number(gross.amount) - summary.totals.gross_carrying_amount,
      ) < 0.005,
    );
    assert.equal(gross.ifrs_element, "ifrs-full:FinancialAssets");
    assert.match(String(gross.ifrs_members), /GrossCarryingAmountMember/);
    const allowance = figure("total", "total", "loss_allowance");
    assert.ok(
      Math.abs(Number(allowance.amount) - summary.totals.loss_allowance) <
        0.005,
    );
    assert.match(String(allowance.ifrs_members), /AccumulatedImpairmentMember/);
    // Every line names the run and the paragraph it answers, but the amount
    // written off in the period, which answers none (not §35L): no element,
    // no paragraph.
    const records = csv.toRecords();
    assert.ok(records.every((r) => r.run_id === "book-2025-12-31"));
    for (const r of records) {
      if (r.table === WRITTEN_OFF_TABLE) {
        assert.equal(r.ifrs_element ?? "", "");
        assert.equal(r.paragraph ?? "", "");
      } else assert.match(String(r.paragraph), /^IFRS 7 §/);
    }
    assert.ok(!text.includes("StillSubjectToEnforcement"));
    assert.match(
      html,
      /Amount written off in the period \(not the §35L figure\)/,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
