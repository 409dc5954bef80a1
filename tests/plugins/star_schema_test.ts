/**
 * The star-schema plugin (plugins/star_schema.ts): after a real run of a
 * small portfolio, its fact table holds one row per computed facility and
 * its ECL adds up to the run's total in the reporting currency.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import {
  type CompletedRunContext,
  loadRules,
  projectPath,
  runPortfolio,
  STAR_TABLES,
} from "../../lib/mod.ts";
import starSchemaPlugin from "../../plugins/star_schema.ts";
import { REPORTING_DATE, writePortfolio } from "../run/_portfolio.ts";

Deno.test("star_schema: onRunComplete exports the published run as a star schema", async () => {
  const root = await Deno.makeTempDir();
  try {
    const rulesFile = projectPath("config/sample_rules.yaml");
    const portfolio = writePortfolio(join(root, "book.parquet"), 40);
    const run = await runPortfolio({
      portfolio,
      rules: rulesFile,
      fx: projectPath("config/fx_rates.yaml"),
      out: join(root, "runs"),
      runId: "q4",
      report: false,
    });
    const out = join(root, "bi");
    const plugin = starSchemaPlugin({ out });
    assert.equal(plugin.name, "star_schema");
    await plugin.onRunComplete!(
      {
        runId: run.runId,
        reportingDate: REPORTING_DATE,
        rules: await loadRules(rulesFile),
        portfolio,
        runDir: run.dir,
        summary: run.summary,
        manifest: run.manifest,
      } satisfies CompletedRunContext,
    );
    for (const t of STAR_TABLES) {
      await Deno.stat(join(out, `${t}.parquet`));
    }
    const fact = pl.readParquet(join(out, "fact_facility.parquet"));
    assert.equal(fact.height, run.manifest.rows.computed);
    const results = pl.readParquet(join(run.dir, "loan_results.parquet"));
    const sum = (s: pl.Series) => s.sum() as number;
    assert.ok(
      Math.abs(
        sum(fact.getColumn("ecl_rc")) - sum(results.getColumn("ecl_rc")),
      ) < 1e-6,
    );
    assert.ok(
      Math.abs(sum(fact.getColumn("ecl_rc")) - run.summary.totals.ecl) < 0.01,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("star_schema: refuses a URL or a missing out when the options are read", () => {
  assert.throws(
    () => starSchemaPlugin({ out: "s3://bi/star" }),
    /Plugin star_schema refuses its options: options\.out: must be a local folder/,
  );
  assert.throws(() => starSchemaPlugin({}), /options\.out:/);
});
