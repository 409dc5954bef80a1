/**
 * The final check of a run on batches held in memory (lib/run/finite.ts,
 * issue 17): `checkFiniteFrame` refuses the same facilities with the same
 * message as the check of the written file, `checkRunFigures` with
 * `filesChecked` does not read the files back, and a run whose results
 * hold a NaN fails whichever of the two it uses.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import {
  checkFiniteColumns,
  checkFiniteFrame,
  checkRunFigures,
} from "../../lib/run/finite.ts";
import { UserError } from "../../lib/errors.ts";
import type { Summary } from "../../lib/run_folder/mod.ts";
import { runPortfolio } from "../../lib/run/run.ts";
import { workspace, writeModule, writeRules } from "../plugin/_helpers.ts";

/** The message a check rejects with. */
async function messageOf(check: Promise<void>): Promise<string> {
  try {
    await check;
  } catch (e) {
    assert.ok(e instanceof UserError && e.kind === "check");
    return e.message;
  }
  assert.fail("the check passed");
}

Deno.test("checkFiniteFrame() refuses a batch like the check of its written file, naming the first facility, column and count", async () => {
  const dir = await Deno.makeTempDir({ prefix: "finite_test_" });
  try {
    const batches = [
      // The second float column is the first to hold NaN: two of them.
      pl.DataFrame({
        loan_id: ["A", "B", "C"],
        stage: [1, 2, 3],
        ecl: [1, 2, 3],
        lgd: [0.4, NaN, NaN],
      }),
      pl.DataFrame({
        loan_id: ["A", "B"],
        overlay_impacts: pl.Series("overlay_impacts", [[0.5], [1, -Infinity]]),
      }),
      pl.DataFrame({ gross_carrying_amount: [1, Infinity] }),
    ];
    const expected = [
      "loan_results.parquet: facility B: lgd is NaN, not a finite number (2 values in that column)",
      "loan_results.parquet: facility B: overlay_impacts holds -Infinity, not a finite number (1 value in that column)",
      "loan_results.parquet: facility (no loan_id): gross_carrying_amount is Infinity, not a finite number (1 value in that column)",
    ];
    for (const [i, batch] of batches.entries()) {
      const path = `${dir}/b${i}.parquet`;
      batch.writeParquet(path);
      const fromFrame = await messageOf(
        checkFiniteFrame(batch, "loan_results.parquet"),
      );
      assert.ok(fromFrame.startsWith(expected[i]), fromFrame);
      assert.equal(
        fromFrame,
        await messageOf(checkFiniteColumns(path, "loan_results.parquet")),
      );
    }
    // Finite figures, nulls and integer columns pass; so does no row.
    await checkFiniteFrame(
      pl.DataFrame({
        loan_id: ["A", "B"],
        ecl: pl.Series("ecl", [1, null], pl.Float64),
        n: [1, 2],
      }),
      "loan_results.parquet",
    );
    await checkFiniteFrame(batches[0].head(0), "loan_results.parquet");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkRunFigures() with filesChecked checks the summary only, without reading the files", async () => {
  const missing = (file: string) => `/nonexistent/${file}.parquet`;
  const summary = {
    totals: { ecl: 3, coverage: null },
    by_stage: [{ key: "1", ecl: 3, coverage: 0.5 }],
  } as unknown as Summary;
  assert.deepEqual(
    await checkRunFigures({ path: missing }, summary, { filesChecked: true }),
    [],
  );
  // Without it, the files are read (and here are missing).
  await assert.rejects(checkRunFigures({ path: missing }, summary));
  summary.by_stage[0].coverage = NaN;
  await assert.rejects(
    checkRunFigures({ path: missing }, summary, { filesChecked: true }),
    /^UserError: summary\.json: by_stage\[0\]\.coverage is NaN/,
  );
});

Deno.test("a run whose loan results hold a NaN (a plugin's afterEcl) fails before publishing, naming the facility and the column", async () => {
  const { dir, portfolio, cleanup } = await workspace(60);
  try {
    // What a plugin or an engine edge could leave in a batch's results.
    const plugin = await writeModule(
      dir,
      "nan.ts",
      `import pl from "nodejs-polars";
export default () => ({
  name: "nan",
  afterEcl: (frame) => frame.withColumns(
    pl.when(pl.col("loan_id").eq(pl.lit("L0000003"))).then(pl.lit(NaN))
      .otherwise(pl.col("ecl")).alias("ecl"),
  ),
});
`,
    );
    const rules = await writeRules(dir, [{ module: plugin }]);
    const out = `${dir}/runs`;
    const error = await runPortfolio({
      portfolio,
      rules,
      out,
      runId: "nan",
      report: false,
    }).then(() => null, (e) => e);
    assert.ok(error instanceof UserError, String(error));
    assert.equal(error.kind, "check");
    assert.match(
      error.message,
      /loan_results\.parquet: facility L0000003: ecl is NaN, not a finite number \(1 value in that column\)/,
    );
    assert.deepEqual(
      [...Deno.readDirSync(out)].map((e) => e.name),
      ["nan.failed"],
    );
  } finally {
    await cleanup();
  }
});
