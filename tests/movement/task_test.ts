/**
 * `deno task movement` on two hand-made run folders: end to end as a
 * process, the files it writes and what it prints; its `main` called
 * in-process for the exit codes of bad arguments, unreadable runs and runs
 * that do not reconcile.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import { main } from "../../tasks/movement.ts";
import { callMain, runTaskProcess, withTempDir } from "../tasks/_main.ts";
import { twoRuns } from "./_two_runs.ts";

const TASK = new URL("../../tasks/movement.ts", import.meta.url).pathname;

const task = (...args: string[]) => runTaskProcess(TASK, args);

Deno.test("tasks/movement.ts writes movement.json, movement.parquet and movement.html (end to end)", async () => {
  await withTempDir(async (root) => {
    const { from, to } = await twoRuns(root);
    const r = await task("--from", from, "--to", to, "--out", `${root}/out`);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.trim().endsWith(`${root}/out/movement.html`));
    assert.match(r.stdout, /15 invariants hold/);
    // Both runs are EUR only at rate 1: the FX line cannot move, and says so.
    assert.match(
      r.stderr,
      /warning: Both runs converted at the same rates .*: the foreign-exchange line is zero by construction/,
    );
    const json = JSON.parse(
      await Deno.readTextFile(`${root}/out/movement.json`),
    );
    // A: 4 moves to stage 2 and is remeasured by 16; B (6) repaid; C new (3).
    const closing = json.allowance.lines.at(-1);
    assert.deepEqual(closing.by_stage, {
      "1": 3,
      "2": 20,
      "3": 0,
      simplified: 0,
    });
    const lines = pl.readParquet(`${root}/out/movement.parquet`);
    const total = (measure: string, line: string) =>
      lines.filter(
        pl.col("measure").eq(pl.lit(measure)).and(
          pl.col("line").eq(pl.lit(line)),
        )
          .and(pl.col("stage").eq(pl.lit("total"))),
      ).getColumn("amount").get(0);
    // A changed stage: its remeasurement is on the line of transferred ones.
    assert.equal(total("allowance", "remeasurement_transferred"), 16);
    assert.equal(total("allowance", "remeasurement"), 0);
    assert.equal(total("allowance", "derecognised"), -6);
    assert.equal(total("gross_carrying_amount", "new_originated"), 300);
    // 12 lines per table; stages 1 to 3, simplified and total.
    assert.equal(lines.height, 2 * 12 * 5);
    assert.deepEqual(
      lines.getColumn("stage").unique().sort().toArray(),
      ["1", "2", "3", "simplified", "total"],
    );
    const facilities = pl.readParquet(
      `${root}/out/movement_facilities.parquet`,
    );
    assert.deepEqual(
      facilities.sort("loan_id").getColumn("status").toArray(),
      ["stayed", "derecognised", "new"],
    );
    const html = await Deno.readTextFile(`${root}/out/movement.html`);
    // Total and three stage waterfalls per table, and the heat map.
    assert.equal(
      (html.match(/<svg[^>]* class="plot-[0-9a-z]+">/g) ?? []).length,
      9,
    ); // the charts' own SVGs, not their legends' swatches
    assert.doesNotMatch(html, /<script/i);
    assert.match(
      html,
      /<ul class="warnings"><li>Warning: Both runs converted at the same rates/,
    );
    assert.deepEqual(json.warnings.length, 1);
  }, "movement_task_");
});

Deno.test("tasks/movement.ts main() exits 1 naming the failed invariant, 2 naming the unreadable run or missing arguments", async () => {
  await withTempDir(async (root) => {
    const { from, to } = await twoRuns(root);
    const summary = JSON.parse(await Deno.readTextFile(`${to}/summary.json`));
    summary.totals.gross_carrying_amount += 1;
    await Deno.writeTextFile(`${to}/summary.json`, JSON.stringify(summary));
    const out = join(root, "out");
    const bad = await callMain(main, "--from", from, "--to", to, "--out", out);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /gross_carrying_amount: closing equals the later run's totals: total is 680, expected 681 \(off by -1\)/,
    );
    const usage = await callMain(main, "--from", from);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^--to and --out are required/);
    const tolerance = await callMain(
      main,
      "--from",
      from,
      "--to",
      to,
      "--out",
      out,
      "--tolerance",
      "0",
    );
    // 0 can never hold: floating-point sums differ by rounding alone.
    assert.equal(tolerance.code, 2);
    assert.match(
      tolerance.stderr,
      /^--tolerance must be a number >= 0\.000001, got 0/,
    );
    const missing = await callMain(
      main,
      "--from",
      join(root, "nope"),
      "--to",
      to,
      "--out",
      out,
    );
    assert.equal(missing.code, 2);
    assert.match(
      missing.stderr,
      /Cannot read run folder .*nope: summary\.json/,
    );
  }, "movement_task_");
});
