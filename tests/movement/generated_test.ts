/**
 * Movement invariants end to end: a generated three-quarter book (the
 * generator's `periods`) run through validation, staging and ECL by the run
 * module, then compared period to period. The book is checked to contain
 * every kind of movement (cures, defaults, write-offs, repayments, new
 * originations) so that the invariants are exercised on all of them.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { generatePortfolio } from "../../lib/generate/mod.ts";
import { runPortfolio } from "../../lib/run/mod.ts";
import { computeMovement, type Movement } from "../../lib/movement/mod.ts";
import { readRunFolder } from "../../lib/run_folder/mod.ts";

const root = await Deno.makeTempDir({ prefix: "movement_generated_" });

async function generatedRuns(): Promise<string[]> {
  const gen = await generatePortfolio({
    loans: 1_500,
    seed: 3,
    reportingDate: "2025-12-31",
    periods: 3,
    out: `${root}/book`,
  });
  const dirs: string[] = [];
  for (const s of gen.snapshots) {
    const run = await runPortfolio({
      portfolio: s.path,
      out: `${root}/runs`,
      runId: s.reportingDate,
      report: false,
    });
    dirs.push(run.dir);
  }
  return dirs;
}

/** Sum of ecl * rate over a run's loan results, by a plain loop. */
async function naiveTotal(dir: string, column: "ecl"): Promise<number> {
  const run = await readRunFolder(dir);
  const df = await run.results.select("currency", column).collect();
  const cur = df.getColumn("currency").toArray() as string[];
  const v = df.getColumn(column).toArray() as number[];
  let total = 0;
  for (let i = 0; i < v.length; i++) {
    total += v[i] * run.summary.fx.rates[cur[i]];
  }
  return total;
}

Deno.test("computeMovement() reconciles every quarter of a generated book", async () => {
  const dirs = await generatedRuns();
  assert.equal(dirs.length, 3);
  const movements: Movement[] = [];
  let zeroBalanceLeavers = 0, zeroBalanceCards = 0;
  for (let i = 1; i < dirs.length; i++) {
    const from = await readRunFolder(dirs[i - 1]);
    const to = await readRunFolder(dirs[i]);
    const { movement, facilities } = await computeMovement(from, to);
    movements.push(movement);
    for (const c of movement.checks) assert.ok(c.passed, c.name);

    // Closing allowance against an independent sum of the later run's loans.
    const closing = movement.allowance.lines.at(-1)!;
    assert.ok(
      Math.abs(closing.total - await naiveTotal(dirs[i], "ecl")) < 0.005,
    );
    const opening = movement.allowance.lines[0];
    assert.ok(
      Math.abs(opening.total - await naiveTotal(dirs[i - 1], "ecl")) < 0.005,
    );

    // Each facility's own lines add up to its own change, in both tables
    // (docs/movement.md §3), with the lines written out here.
    const worst = (terms: string[], closing: string) =>
      terms.map((c) => pl.col(c)).reduce((x, y) => x.add(y))
        .sub(pl.col(closing)).abs().max();
    const sums = await facilities.lazy().select(
      worst([
        "allowance_opening",
        "allowance_new_originated",
        "allowance_derecognised",
        "allowance_fx",
        "allowance_write_off",
        "allowance_remeasurement_transferred",
        "allowance_remeasurement",
      ], "allowance_closing").alias("allowance"),
      worst([
        "gross_opening",
        "gross_new_originated",
        "gross_derecognised",
        "gross_fx",
        "gross_write_off",
        "gross_recoveries",
        "gross_remeasurement",
      ], "gross_closing").alias("gross"),
      // B8E parts add up to the ECL at each date.
      worst(
        ["loss_allowance_opening", "provision_opening"],
        "allowance_opening",
      )
        .alias("split_opening"),
      worst(
        ["loss_allowance_closing", "provision_closing"],
        "allowance_closing",
      )
        .alias("split_closing"),
    ).collect();
    for (const c of sums.columns) {
      assert.ok((sums.getColumn(c).get(0) as number) < 1e-6, c);
    }
    // The remeasurement after a transfer only on facilities that changed
    // column (approach, or stage under the general approach); recoveries
    // only on facilities written off; the provision never negative.
    const sameColumn = pl.col("simplified_from").eq(pl.col("simplified_to"))
      .and(
        pl.col("simplified_from").or(
          pl.col("stage_from").eq(pl.col("stage_to")),
        ),
      ).fillNull(true);
    const misplaced = await facilities.lazy().select(
      pl.col("allowance_remeasurement_transferred").neq(0).and(sameColumn)
        .sum().alias("transferred"),
      pl.col("gross_recoveries").neq(0)
        .and(pl.col("status").neq(pl.lit("written_off")))
        .sum().alias("recoveries"),
      pl.col("provision_closing").lt(0).sum().alias("provision"),
    ).collect();
    for (const c of misplaced.columns) {
      assert.equal(Number(misplaced.getColumn(c).get(0)), 0, c);
    }
    // Methodology v2 §5: a facility written off to a zero balance in one
    // quarter carries no allowance, so when it leaves the book in the next
    // nothing is released as "derecognised" (version 1 released the ECL a
    // written-off card kept on its undrawn limit).
    const writtenOffBefore = facilities.filter(
      pl.col("status").eq(pl.lit("derecognised"))
        .and(pl.col("gross_opening").eq(0)),
    );
    zeroBalanceLeavers += writtenOffBefore.height;
    zeroBalanceCards += writtenOffBefore.filter(
      pl.col("product").eq(pl.lit("credit_card")),
    ).height;
    assert.deepEqual(
      writtenOffBefore.getColumn("allowance_derecognised").toArray()
        .filter((v) => v !== 0),
      [],
    );
    // Per product, every line adds up to the total (an invariant too).
    for (const measure of ["allowance", "gross_carrying_amount"] as const) {
      movement[measure].lines.forEach((l, i) => {
        const sum = movement.by_product.reduce(
          (a, p) => a + p[measure].lines[i].total,
          0,
        );
        assert.ok(Math.abs(sum - l.total) < 0.005, `${measure} ${l.key}`);
      });
    }
  }

  // The book holds every kind of movement the reconciliation separates.
  const cells = movements.flatMap((m) => m.migration);
  const count = (from: string, to: string) =>
    cells.filter((c) => c.from === from && c.to === to)
      .reduce((a, c) => a + c.count, 0);
  assert.ok(count("2", "1") + count("3", "2") + count("3", "1") > 0, "cures");
  assert.ok(count("1", "3") + count("2", "3") > 0, "defaults");
  assert.ok(movements.some((m) => m.facilities.written_off > 0), "write-offs");
  assert.ok(movements.some((m) => m.facilities.derecognised > 0), "repaid");
  assert.ok(movements.some((m) => m.facilities.new > 0), "originated");
  assert.ok(zeroBalanceCards > 0, "a written-off card leaves the book");
  assert.ok(zeroBalanceLeavers >= zeroBalanceCards);
  await Deno.remove(root, { recursive: true });
});
