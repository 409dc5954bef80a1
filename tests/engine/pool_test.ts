/**
 * A kept pool of kernel workers (`KernelPool`, what a run uses across its
 * chunks): the same results as workers started per call, its workers
 * started once and reused by the next call.
 */
import assert from "node:assert/strict";
import { computeEcl, KernelPool } from "../../lib/engine/ecl.ts";
import { stageFacilities } from "../../lib/engine/staging.ts";
import { generateBook } from "../../lib/generate/mod.ts";
import { loadRules } from "../../lib/rules.ts";

Deno.test("computeEcl() with a kept KernelPool gives the per-call workers' results and reuses the workers", async () => {
  const rules = await loadRules("config/sample_rules.yaml");
  const [book] = generateBook({
    loans: 3_000,
    seed: 5,
    reportingDate: "2025-12-31",
  });
  const staged = stageFacilities(book.lazy(), rules);
  const opts = { workers: 2, workerThreshold: 1_000, batchSize: 500 };
  const pool = new KernelPool();
  try {
    const first = await computeEcl(staged, rules, { ...opts, pool });
    const workers = pool.take(2);
    const second = await computeEcl(staged, rules, { ...opts, pool });
    // The second call ran on the workers the first one started.
    assert.deepEqual(pool.take(2), workers);
    const fresh = await computeEcl(staged, rules, opts);
    assert.ok(first.frameEqual(fresh), "pooled and per-call results differ");
    assert.ok(second.frameEqual(fresh), "second pooled call differs");
  } finally {
    pool.terminate();
  }
});
