/**
 * Summary cells merge exactly (docs/partitions.md §3): they keep the parts
 * of every precise sum unreduced, so the cells of slices of a book add up
 * to the cells of the whole, and the summary of merged cells is the
 * summary of the whole, figure for figure; the cells a part writes read
 * back as written.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { loadRules } from "../../lib/rules.ts";
import { loadFx } from "../../lib/fx.ts";
import {
  DEFAULT_FX,
  DEFAULT_RULES,
  mergeSummaryCells,
  readSummaryCells,
  summarize,
  summaryCells,
  summaryFromCells,
  writeSummaryCells,
} from "../../lib/run/mod.ts";
import { preciseSumParts } from "../../lib/precise_sum.ts";
import { scenarioEclColumn } from "../../lib/schema.ts";

/**
 * Loan results with gross carrying amounts in two currencies and one cell
 * each: amounts from a cent to 1e12 with sub-cent digits, the kind whose
 * Float64 sums depend on the order of the additions.
 */
function book(n: number, scenarios: string[]) {
  let seed = 42;
  const u = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const amount = () => Math.pow(10, u() * 14 - 2) * (1 + u() / 7);
  const col = () => Float64Array.from({ length: n }, amount);
  const ecl = col();
  return pl.DataFrame({
    loan_id: Array.from({ length: n }, (_, i) => `L${i}`),
    product: Array.from({ length: n }, () => "mortgage"),
    segment: Array.from({ length: n }, () => "retail"),
    region: Array.from({ length: n }, () => "north"),
    currency: Array.from({ length: n }, (_, i) => i % 2 ? "EUR" : "USD"),
    stage: pl.Series("stage", Array.from({ length: n }, () => 1), pl.Int32),
    gross_carrying_amount: col(),
    ead: col(),
    ecl_model: ecl,
    ecl,
    ...Object.fromEntries(scenarios.map((s) => [scenarioEclColumn(s), col()])),
  });
}

Deno.test("the summary of merged cells of 3 slices is the summary of the whole book, figure for figure", async () => {
  const rules = await loadRules(DEFAULT_RULES);
  const fx = await loadFx(DEFAULT_FX);
  const whole = book(30_000, rules.scenarios.map((s) => s.name));
  const opts = { runId: "r", reportingDate: "2025-12-31", rules, fx };
  const expected = await summarize(whole.lazy(), opts);
  // Interleaved slices, as a hash spreads facilities over parts.
  const rows = whole.withRowIndex("i");
  const slices = [0, 1, 2].map((k) =>
    rows.filter(pl.col("i").modulo(3).eq(k)).drop("i")
  );
  const cells = await Promise.all(
    slices.map((s) => summaryCells(s.lazy(), rules)),
  );
  // The cells hold each precise sum's parts, not the sum.
  for (const part of preciseSumParts("ecl")) {
    assert.ok(cells[0].groups.columns.includes(part), part);
  }
  assert.ok(!cells[0].groups.columns.includes("ecl"));
  const merged = summaryFromCells(mergeSummaryCells(cells), opts);
  assert.deepEqual(merged, expected);
});

Deno.test("writeSummaryCells() and readSummaryCells() round-trip a part's cells; a folder without them is refused, naming it", async () => {
  const rules = await loadRules(DEFAULT_RULES);
  const dir = await Deno.makeTempDir();
  try {
    const cells = await summaryCells(
      book(100, rules.scenarios.map((s) => s.name)).lazy(),
      rules,
    );
    await assert.rejects(
      () => readSummaryCells(dir),
      new RegExp(
        `^RunFolderReadError: Cannot read run folder ${dir}: summary_cells.parquet: file is missing`,
      ),
    );
    writeSummaryCells(dir, cells);
    const back = await readSummaryCells(dir);
    assert.ok(back.groups.frameEqual(cells.groups));
    assert.equal(back.overlays, null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
