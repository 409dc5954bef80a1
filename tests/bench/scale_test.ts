/**
 * The scale bench of issue 17 (bench/scale.ts, `deno task bench --scale`):
 * judging against targets worked out by hand, the table it prints, and two
 * small books generated, cached and run end to end in child processes.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import {
  benchScale,
  bookLabel,
  judge,
  SCALE_TARGETS,
  scaleTable,
} from "../../bench/scale.ts";
import { main } from "../../tasks/bench.ts";
import { callMain } from "../tasks/_main.ts";

const GIB = 2 ** 30;

/** A measured row as benchScale() makes it, before judging. */
const row = (loans: number, totalMs: number, peakGib: number | null) => ({
  loans,
  computed: loans,
  portfolio: `book_${loans}.parquet`,
  totalMs,
  stepsMs: {},
  processMs: totalMs + 500,
  peakMemoryBytes: peakGib === null ? null : peakGib * GIB,
});

Deno.test("SCALE_TARGETS are the issue's table", () => {
  // Issue 17, "Targets": 1M <= 1.5 s and 1 GiB; 10M <= 20 s and 3 GiB;
  // 30M peak within 20% of the 10M peak.
  assert.deepEqual(SCALE_TARGETS[1_000_000], {
    maxMs: 1500,
    maxPeakBytes: 1073741824,
  });
  assert.deepEqual(SCALE_TARGETS[10_000_000], {
    maxMs: 20000,
    maxPeakBytes: 3221225472,
  });
  assert.deepEqual(SCALE_TARGETS[30_000_000], {
    peakVs: { loans: 10_000_000, maxRatio: 1.2 },
  });
});

Deno.test("judge() checks time, peak and the 30M/10M peak ratio", () => {
  const r = judge([
    row(1_000_000, 1_400, 0.9), // both within
    row(10_000_000, 21_000, 2.5), // time missed, memory within
    row(30_000_000, 60_000, 3.0), // 3.0 / 2.5 = 1.2: at the limit, passes
  ], SCALE_TARGETS);
  assert.deepEqual(r.rows.map((x) => x.checks), [
    { time: true, memory: true },
    { time: false, memory: true },
    { ratio: true },
  ]);
  assert.equal(r.rows[2].peakRatio, 1.2);
  assert.equal(r.rows[0].peakRatio, null);
  assert.equal(r.ok, false);

  const over = judge(
    [row(10_000_000, 19_000, 2.5), row(30_000_000, 60_000, 3.01)],
    SCALE_TARGETS,
  );
  assert.equal(over.rows[1].checks.ratio, false); // 3.01 / 2.5 = 1.204
  assert.equal(over.ok, false);

  // 30M without 10M measured: the ratio is not judged; a size with no
  // target is measured only; nothing judged is a pass.
  const alone = judge([row(30_000_000, 1, 9), row(2_000, 1, 9)], SCALE_TARGETS);
  assert.deepEqual(alone.rows.map((x) => x.checks), [{}, {}]);
  assert.equal(alone.rows[1].target, null);
  assert.equal(alone.ok, true);

  // Off Linux (no VmHWM) memory is not judged, time still is.
  const noPeak = judge([row(1_000_000, 2_000, null)], SCALE_TARGETS);
  assert.deepEqual(noPeak.rows[0].checks, { time: false });
});

Deno.test("scaleTable() prints book, time, peak, target and pass/fail", () => {
  const text = scaleTable(judge([
    row(1_000_000, 1_400, 0.5),
    row(10_000_000, 21_000, 2.5),
    row(30_000_000, 60_000, 2.75),
  ], SCALE_TARGETS));
  const lines = text.split("\n");
  assert.match(lines[0], /^book +measured time +peak memory +target +result$/);
  assert.match(
    lines[2],
    /^1M loans +1\.40 s +0\.50 GiB +<= 1\.5 s, <= 1 GiB +time pass, memory pass$/,
  );
  assert.match(
    lines[3],
    /^10M loans +21\.00 s +2\.50 GiB +<= 20 s, <= 3 GiB +time FAIL, memory pass$/,
  );
  assert.match(lines[4], /^30M loans +60\.00 s +2\.75 GiB .* ratio pass$/);
  // 2.75 / 2.5 = 1.1
  assert.equal(
    lines[5],
    "peak of 30M loans / peak of 10M loans: 1.100 (target <= 1.2)",
  );
  assert.equal(bookLabel(2_000), "2,000 loans");
  assert.equal(bookLabel(1_500_000), "1,500,000 loans");
});

Deno.test("benchScale() generates each book once and runs it in a child process", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bench_scale_" });
  try {
    const targets = {
      300: { maxMs: 600_000, maxPeakBytes: 1 }, // time passes, memory cannot
      600: { peakVs: { loans: 300, maxRatio: 100 } },
    };
    const logged: string[] = [];
    const r = await benchScale({
      sizes: [300, 600],
      seed: 5,
      dir,
      targets,
      report: false,
      log: (l) => logged.push(l),
    });
    assert.deepEqual(r.rows.map((x) => x.loans), [300, 600]);
    for (const x of r.rows) {
      // The book is in the cache folder, with the size's rows.
      assert.equal(
        x.portfolio,
        `${dir}/loans_${x.loans}_seed_5/portfolio_2025-12-31.parquet`,
      );
      const book = pl.readParquet(x.portfolio);
      assert.equal(book.height, x.loans);
      // The generator's clean book: every row computed.
      assert.equal(x.computed, x.loans);
      assert.ok(x.totalMs > 0);
      // The child's own start (Deno, modules) comes on top of the run.
      assert.ok(x.processMs > x.totalMs, `${x.processMs} <= ${x.totalMs}`);
      assert.ok(x.peakMemoryBytes! > 10 * 2 ** 20);
      assert.ok(x.stepsMs.compute_ecl >= 0);
    }
    assert.deepEqual(r.rows[0].checks, { time: true, memory: false });
    assert.equal(
      r.rows[1].peakRatio,
      r.rows[1].peakMemoryBytes! / r.rows[0].peakMemoryBytes!,
    );
    assert.deepEqual(r.rows[1].checks, { ratio: true });
    assert.equal(r.ok, false);
    assert.equal(logged.length, 4);

    // A second bench reuses the cached books.
    const mtime = async () => (await Deno.stat(r.rows[0].portfolio)).mtime!;
    const before = await mtime();
    await benchScale({ sizes: [300], seed: 5, dir, targets, report: false });
    assert.deepEqual(await mtime(), before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task bench --scale refuses a bad --sizes with exit 2", async () => {
  const r = await callMain(main, "--scale", "--sizes", "1000,ten");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--sizes must be a whole number, got ten/);
});
