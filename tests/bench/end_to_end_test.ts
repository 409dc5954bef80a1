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
  const peaks = Object.values(r.peakMemoryByStep);
  for (let i = 1; i < peaks.length; i++) assert.ok(peaks[i] >= peaks[i - 1]);
  assert.ok(r.peakMemoryBytes! >= peaks.at(-1)!);
  await Deno.remove(tmp, { recursive: true });
});
