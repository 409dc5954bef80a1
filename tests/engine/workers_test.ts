/**
 * The projection on workers (`_kernel_worker.ts`) against the same
 * projection on the calling thread: identical results, in input order,
 * whichever worker finishes first.
 */
import assert from "node:assert/strict";
import { computeEcl } from "../../lib/engine/ecl.ts";
import { stageFacilities } from "../../lib/engine/staging.ts";
import { generateBook } from "../../lib/generate/mod.ts";
import { loadRules } from "../../lib/rules.ts";

const LOANS = 4_000;

Deno.test("computeEcl() gives the same results on workers as on the calling thread", async () => {
  const rules = await loadRules("config/sample_rules.yaml");
  const [book] = generateBook({
    loans: LOANS,
    seed: 9,
    reportingDate: "2025-12-31",
  });
  const staged = stageFacilities(book.lazy(), rules);
  const progress: number[] = [];
  const onWorkers = await computeEcl(staged, rules, {
    workers: 3,
    workerThreshold: 1_000,
    batchSize: 1_000,
    onProgress: (n) => progress.push(n),
  });
  const inline = await computeEcl(staged, rules, { workers: 1 });
  assert.equal(onWorkers.height, LOANS);
  // On workers the batches are min(1,000, ceil(4,000 / (3 * 4))) = 334
  // loans, so every worker gets several: 12 batches, counted as they
  // finish (inline would run 4 batches of 1,000).
  assert.equal(progress.length, 12);
  assert.equal(progress.at(-1), LOANS);
  assert.ok(onWorkers.frameEqual(inline), "workers and inline results differ");
});

Deno.test("computeEcl() stays on the calling thread below the worker threshold", async () => {
  const rules = await loadRules("config/ifrs9_rules.yaml");
  const [book] = generateBook({
    loans: 500,
    seed: 3,
    reportingDate: "2025-12-31",
  });
  const progress: number[] = [];
  await computeEcl(stageFacilities(book.lazy(), rules), rules, {
    workers: 3,
    workerThreshold: 501,
    batchSize: 200,
    onProgress: (n) => progress.push(n),
  });
  // Inline batches finish in order: 200, 400, 500.
  assert.deepEqual(progress, [200, 400, 500]);
});
