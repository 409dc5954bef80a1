/**
 * The ECL walk on a generated pair of quarter-ends (docs/movement.md, "ECL
 * walk"): the steps add up to the change in the allowance to the cent, per
 * closing stage and in total, where the change is taken from the two runs'
 * own loan results by a plain loop (not from the walk).
 *
 * @module
 */
import assert from "node:assert/strict";
import { generatePortfolio } from "../../lib/generate/mod.ts";
import { runPortfolio } from "../../lib/run/mod.ts";
import { readRunFolder } from "../../lib/run_folder/mod.ts";
import {
  computeWalk,
  readWalkInputs,
  WALK_DRIVERS,
} from "../../lib/walk/mod.ts";

/** Each run's ECL in the reporting currency, by loan, with its stage. */
async function runLoans(dir: string) {
  const run = await readRunFolder(dir);
  const df = await run.results.select("loan_id", "currency", "stage", "ecl")
    .collect();
  const out = new Map<string, { stage: number; ecl: number }>();
  const rows = df.toRecords();
  for (const r of rows) {
    out.set(r.loan_id as string, {
      stage: r.stage as number,
      ecl: (r.ecl as number) * run.summary.fx.rates[r.currency as string],
    });
  }
  return out;
}

Deno.test("the walk of a generated pair of dates adds up to the change, per closing stage and in total", async () => {
  const root = await Deno.makeTempDir({ prefix: "walk_generated_" });
  try {
    const gen = await generatePortfolio({
      loans: 1_500,
      seed: 5,
      reportingDate: "2025-12-31",
      periods: 2,
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
    const [from, to] = [
      await readRunFolder(dirs[0], { trusted: true }),
      await readRunFolder(dirs[1], { trusted: true }),
    ];
    const walk = await computeWalk(
      { inputs: await readWalkInputs(from), run: from },
      { inputs: await readWalkInputs(to), run: to },
    );
    assert.deepEqual(walk.steps.map((s) => s.driver), [...WALK_DRIVERS]);

    // The change by closing stage (opening stage when derecognised),
    // from the runs' loan results.
    const open = await runLoans(dirs[0]);
    const close = await runLoans(dirs[1]);
    const change: Record<string, number> = { "1": 0, "2": 0, "3": 0 };
    let total = 0;
    for (const [id, o] of open) {
      const key = String(close.get(id)?.stage ?? o.stage);
      change[key] -= o.ecl;
      total -= o.ecl;
    }
    for (const [, c] of close) {
      change[String(c.stage)] += c.ecl;
      total += c.ecl;
    }
    const sum = walk.steps.reduce((a, s) => a + s.amount, 0);
    assert.ok(Math.abs(sum - total) < 0.005, `${sum} vs ${total}`);
    for (const k of ["1", "2", "3"] as const) {
      const byStage = walk.steps.reduce((a, s) => a + s.by_stage[k], 0);
      assert.ok(
        Math.abs(byStage - change[k]) < 0.005,
        `stage ${k}: ${byStage} vs ${change[k]}`,
      );
    }
    // Each step's products add up to the step.
    for (const s of walk.steps) {
      const p = Object.values(s.by_product).reduce((a, x) => a + x, 0);
      assert.ok(Math.abs(p - s.amount) < 0.005, s.driver);
    }
    // A real book moves in more than one driver.
    for (const d of ["derecognised", "new", "stage", "exposure", "pd", "fx"]) {
      assert.notEqual(walk.steps.find((s) => s.driver === d)!.amount, 0, d);
    }
    // Same rules at both dates: the rules-only steps are exactly 0.
    for (const d of ["lgd", "scenarios", "rules", "overlays"]) {
      const s = walk.steps.find((s) => s.driver === d)!;
      if (d !== "lgd") assert.equal(s.amount, 0, d);
    }
    console.log(
      JSON.stringify(walk.steps.map((s) => [s.driver, s.amount, s.facilities])),
      walk.elapsed_ms,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
