/**
 * Tests of the in-process bench (bench/end_to_end.ts): the peak-memory reading
 * and what benchRun() reports for a small run.
 *
 * @module
 */
import assert from "node:assert/strict";
import { benchRun, peakMemoryBytes } from "../../bench/end_to_end.ts";
import { writePortfolio } from "../run/_portfolio.ts";

Deno.test("peakMemoryBytes() reads VmHWM from /proc/self/status", () => {
  const status = Deno.readTextFileSync("/proc/self/status");
  const kb = Number(status.match(/^VmHWM:\s+(\d+) kB$/m)![1]);
  const bytes = peakMemoryBytes()!;
  // The peak only grows, so a second reading is at least the first.
  assert.ok(bytes >= kb * 1024, `${bytes} < ${kb * 1024}`);
  assert.ok(bytes > 10 * 2 ** 20, "a Deno process peaks above 10 MiB");
});

Deno.test("benchRun() reports loans, step times and peak memory", async () => {
  const tmp = await Deno.makeTempDir();
  const portfolio = writePortfolio(`${tmp}/book.parquet`, 200);
  const r = await benchRun({ portfolio, out: tmp, runId: "b", report: false });
  assert.equal(r.loans, 200);
  assert.equal(r.dir, `${tmp}/b`);
  assert.ok(r.totalMs > 0);
  assert.ok(Math.abs(r.loansPerSecond - 200 / (r.totalMs / 1000)) < 1e-9);
  assert.ok(r.stepsMs.compute_ecl >= 0);
  assert.deepEqual(Object.keys(r.peakMemoryByStep), Object.keys(r.stepsMs));
  // The process's peak only grows, so every step's reading is at most the
  // final one. (Steps overlap and repeat, hashing beside validation and
  // one write per chunk, so the readings need not grow in key order.)
  for (const peak of Object.values(r.peakMemoryByStep)) {
    assert.ok(peak > 0 && peak <= r.peakMemoryBytes!);
  }
  await Deno.remove(tmp, { recursive: true });
});
