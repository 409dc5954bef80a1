/**
 * The projection on workers (`_kernel_worker.ts`) against the same
 * projection on the calling thread: identical results, in input order,
 * whichever worker finishes first.
 */
import assert from "node:assert/strict";
import { computeEcl, WORKER_THRESHOLD } from "../../lib/engine/ecl.ts";
import { stageFacilities } from "../../lib/engine/staging.ts";
import { generateBook } from "../../lib/generate/mod.ts";
import { loadRules } from "../../lib/rules.ts";

Deno.test("computeEcl() gives the same results on workers as on the calling thread", async () => {
  const rules = await loadRules("config/ifrs9_rules.yaml");
  const [book] = generateBook({
    loans: WORKER_THRESHOLD,
    seed: 9,
    reportingDate: "2025-12-31",
  });
  const staged = stageFacilities(book.lazy(), rules);
  const progress: number[] = [];
  const onWorkers = await computeEcl(staged, rules, {
    workers: 3,
    batchSize: 7_000,
    onProgress: (n) => progress.push(n),
  });
  const inline = await computeEcl(staged, rules, { workers: 1 });
  assert.equal(onWorkers.height, WORKER_THRESHOLD);
  // Batches of min(7,000, ceil(100,000 / 12)) loans, counted as they finish.
  assert.equal(progress.length, Math.ceil(WORKER_THRESHOLD / 7_000));
  assert.equal(progress.at(-1), WORKER_THRESHOLD);
  assert.ok(onWorkers.frameEqual(inline), "workers and inline results differ");
});
