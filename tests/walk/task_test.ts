/**
 * `deno task movement` with the ECL walk (docs/movement.md §6, ECL walk) on
 * two runs of a generated book, end to end as a process: the `attribution`
 * section of movement.json, movement_walk.parquet with the same figures,
 * the walk on the page and printed; `--no-walk` leaves it out; `--walk`
 * refuses runs whose inputs changed, the default skips the walk and says
 * why: printed, on the page and in movement.json (`attribution.skipped`).
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { generatePortfolio } from "../../lib/generate/mod.ts";
import { runPortfolio } from "../../lib/run/mod.ts";
import { runTaskProcess } from "../tasks/_main.ts";

const TASK = new URL("../../tasks/movement.ts", import.meta.url).pathname;

const task = (...args: string[]) => runTaskProcess(TASK, args);

Deno.test("deno task movement writes, shows and prints the ECL walk; --no-walk and --walk", async () => {
  const root = await Deno.makeTempDir({ prefix: "walk_task_" });
  try {
    const gen = await generatePortfolio({
      loans: 800,
      seed: 9,
      reportingDate: "2025-12-31",
      periods: 2,
      out: `${root}/book`,
    });
    const dirs: string[] = [];
    for (const s of gen.snapshots) {
      const r = await runPortfolio({
        portfolio: s.path,
        out: `${root}/runs`,
        runId: s.reportingDate,
        report: false,
      });
      dirs.push(r.dir);
    }
    const r = await task(
      "--from",
      dirs[0],
      "--to",
      dirs[1],
      "--out",
      `${root}/out`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /ECL walk 2025-12-31 -> 2026-03-31/);
    assert.match(r.stdout, /Macro scenarios and weights/);
    const json = JSON.parse(
      await Deno.readTextFile(`${root}/out/movement.json`),
    );
    const a = json.attribution;
    assert.deepEqual(
      a.steps.map((s: { driver: string }) => s.driver),
      [
        "derecognised",
        "new",
        "stage",
        "exposure",
        "pd",
        "lgd",
        "scenarios",
        "rules",
        "overlays",
        "fx",
        "write_off",
      ],
    );
    // The walk's opening and closing are the reconciliation's, to the cent.
    const lines = json.allowance.lines;
    assert.ok(Math.abs(a.opening - lines[0].total) < 0.005);
    assert.ok(Math.abs(a.closing - lines.at(-1).total) < 0.005);
    const sum = a.steps.reduce(
      (x: number, s: { amount: number }) => x + s.amount,
      0,
    );
    assert.ok(Math.abs(a.opening + sum - a.closing) < 0.005);
    // The Parquet file holds the same step totals.
    const pq = pl.readParquet(`${root}/out/movement_walk.parquet`).filter(
      pl.col("dimension").eq(pl.lit("total")),
    ).sort("step_order");
    assert.deepEqual(
      pq.getColumn("amount").toArray(),
      [
        a.opening,
        ...a.steps.map((s: { amount: number }) => s.amount),
        a.closing,
      ],
    );
    const html = await Deno.readTextFile(`${root}/out/movement.html`);
    assert.match(html, /<section id="walk">/);
    assert.match(html, /PD first, then exposure/);

    const r2 = await task(
      "--from",
      dirs[0],
      "--to",
      dirs[1],
      "--out",
      `${root}/out2`,
      "--no-walk",
    );
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(
      JSON.parse(await Deno.readTextFile(`${root}/out2/movement.json`))
        .attribution,
      undefined,
    );
    await assert.rejects(() => Deno.stat(`${root}/out2/movement_walk.parquet`));
    assert.doesNotMatch(
      await Deno.readTextFile(`${root}/out2/movement.html`),
      /id="walk"/,
    );

    // The opening portfolio changed after its run: --walk refuses naming
    // it, the default skips the walk and says why.
    await Deno.writeFile(gen.snapshots[0].path, new Uint8Array([1, 2, 3]), {
      append: true,
    });
    const r3 = await task(
      "--from",
      dirs[0],
      "--to",
      dirs[1],
      "--out",
      `${root}/out3`,
      "--walk",
    );
    assert.equal(r3.code, 2, r3.stderr);
    assert.ok(r3.stderr.includes(gen.snapshots[0].path), r3.stderr);
    assert.match(r3.stderr, /SHA-256/);
    const r4 = await task(
      "--from",
      dirs[0],
      "--to",
      dirs[1],
      "--out",
      `${root}/out4`,
    );
    assert.equal(r4.code, 0, r4.stderr);
    assert.match(r4.stderr, /ECL walk skipped: .*has changed/);
    // The skip and its reason are in the outputs, not only on stderr.
    const json4 = JSON.parse(
      await Deno.readTextFile(`${root}/out4/movement.json`),
    );
    assert.deepEqual(Object.keys(json4.attribution), ["skipped"]);
    assert.ok(
      json4.attribution.skipped.includes(gen.snapshots[0].path),
      json4.attribution.skipped,
    );
    assert.match(json4.attribution.skipped, /SHA-256/);
    // The reconciliation is written as with the walk (to rounding: its
    // sums are parallel).
    assert.deepEqual(
      json4.allowance.lines.map((l: { key: string }) => l.key),
      lines.map((l: { key: string }) => l.key),
    );
    json4.allowance.lines.forEach((l: { total: number }, k: number) =>
      assert.ok(Math.abs(l.total - lines[k].total) < 0.005)
    );
    await assert.rejects(() => Deno.stat(`${root}/out4/movement_walk.parquet`));
    const html4 = await Deno.readTextFile(`${root}/out4/movement.html`);
    assert.match(html4, /<section id="walk">/);
    assert.match(html4, /The ECL walk was not computed/);
    assert.ok(html4.includes("SHA-256"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
