/**
 * `benchMovement()` (bench/movement.ts) on a small generated book: what
 * it reports matches the files it reads and writes, and a second call
 * reuses the cached book and runs instead of computing them again.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { benchMovement } from "../../bench/movement.ts";

Deno.test("benchMovement() measures the movement of two cached quarter-end runs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bench_movement_" });
  const first = await benchMovement({ loans: 300, seed: 3, dir });
  const runs = `${dir}/movement_runs_300_seed_3`;
  const summary = async (date: string) =>
    JSON.parse(await Deno.readTextFile(`${runs}/${date}/summary.json`));
  assert.equal(
    first.loans.from,
    (await summary("2025-12-31")).totals.count,
  );
  assert.equal(first.loans.to, (await summary("2026-03-31")).totals.count);
  const facilities = pl.readParquet(
    `${first.out}/movement_facilities.parquet`,
  );
  assert.equal(first.facilities, facilities.height);
  // Every facility of either run is a row: at least the larger run's count.
  assert.ok(first.facilities >= Math.max(first.loans.from, first.loans.to));
  assert.ok(
    Math.abs(
      first.totalMs -
        (first.readMs + first.computeMs + first.walkInputsMs! +
          first.walkMs! + first.writeMs),
    ) < 1e-6,
  );
  // The walk is measured by default, and took time.
  assert.ok(first.walkInputsMs! > 0 && first.walkMs! > 0);
  assert.ok(first.peakMemoryBytes! > 0);

  const manifestTime = async () =>
    (await Deno.stat(`${runs}/2025-12-31/manifest.json`)).mtime!.getTime();
  const before = await manifestTime();
  const second = await benchMovement({ loans: 300, seed: 3, dir });
  assert.equal(await manifestTime(), before, "the cached run is reused");
  assert.deepEqual(second.loans, first.loans);
  await Deno.remove(dir, { recursive: true });
});
