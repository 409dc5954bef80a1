/**
 * Hand-built pairs of runs where one driver alone changes (docs/movement.md,
 * "ECL walk"): the whole change lands in that driver's step and every other
 * step is exactly 0. The change is taken from the two runs' summaries, so
 * the expected figures come from separate runs of the engine, not from the
 * walk. Every facility is kept in stage 2 (45 days past due) so that a PD
 * change cannot move a stage.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { parse, stringify } from "yaml";
import { generatePortfolio } from "../../lib/generate/mod.ts";
import { runPortfolio } from "../../lib/run/mod.ts";
import { readRunFolder } from "../../lib/run_folder/mod.ts";
import { computeWalk, readWalkInputs, type Walk } from "../../lib/walk/mod.ts";

const root = await Deno.makeTempDir({ prefix: "walk_single_" });
const gen = await generatePortfolio({
  loans: 120,
  seed: 11,
  reportingDate: "2025-12-31",
  periods: 1,
  out: `${root}/book`,
});
const base = pl.readParquet(gen.snapshots[0].path).filter(
  pl.col("days_past_due").lt(90).and(
    pl.col("write_off_amount").fillNull(0).eq(0),
  ),
).withColumns(pl.lit(45).cast(pl.Int32).alias("days_past_due"));
const rulesText = await Deno.readTextFile("config/ifrs9_rules.yaml");
const fxPath = `${root}/book/fx_rates_2025-12-31.yaml`;

let counter = 0;
/** A complete run of `book` with the given rules text and FX file. */
async function run(
  book: pl.DataFrame,
  rules = rulesText,
  fx = fxPath,
): Promise<{ dir: string; total: number }> {
  const id = `r${++counter}`;
  const dir = `${root}/${id}`;
  await Deno.mkdir(dir);
  book.writeParquet(`${dir}/portfolio.parquet`);
  await Deno.writeTextFile(`${dir}/rules.yaml`, rules);
  const r = await runPortfolio({
    portfolio: `${dir}/portfolio.parquet`,
    rules: `${dir}/rules.yaml`,
    fx,
    out: `${root}/runs`,
    runId: id,
    report: false,
  });
  return { dir: r.dir, total: r.summary.totals.ecl };
}

async function walkOf(a: string, b: string): Promise<Walk> {
  const from = await readRunFolder(a, { trusted: true });
  const to = await readRunFolder(b, { trusted: true });
  return await computeWalk(
    { inputs: await readWalkInputs(from), run: from },
    { inputs: await readWalkInputs(to), run: to },
  );
}

/** The whole change in `driver`, 0 elsewhere, and the change is the runs'. */
function assertOnly(walk: Walk, driver: string, change: number) {
  assert.ok(Math.abs(change) > 1, `the case must move the ECL (${change})`);
  for (const s of walk.steps) {
    if (s.driver === driver) {
      assert.ok(
        Math.abs(s.amount - change) < 0.005,
        `${driver}: ${s.amount} vs ${change}`,
      );
    } else {assert.equal(
        s.amount,
        0,
        `${s.driver} should be 0 when only ${driver} changes`,
      );}
  }
}

const opening = await run(base);

Deno.test("only the PDs change: the whole change is the pd step", async () => {
  const closing = await run(base.withColumns(
    pl.col("pd_12m_current").mul(1.25).clip(0, 0.9).alias("pd_12m_current"),
  ));
  assertOnly(
    await walkOf(opening.dir, closing.dir),
    "pd",
    closing.total - opening.total,
  );
});

Deno.test("only the scenario weights change: the scenarios step is the difference of two separate runs", async () => {
  const rules = parse(rulesText);
  rules.scenarios[0].weight = 0.3;
  rules.scenarios[2].weight = 0.5;
  const closing = await run(base, stringify(rules));
  assertOnly(
    await walkOf(opening.dir, closing.dir),
    "scenarios",
    closing.total - opening.total,
  );
});

Deno.test("only the FX table changes: the whole change is the fx step", async () => {
  const fx = parse(await Deno.readTextFile(fxPath));
  for (const c of Object.keys(fx.rates)) {
    if (c !== fx.base) fx.rates[c] *= 1.1;
  }
  const path = `${root}/fx_moved.yaml`;
  await Deno.writeTextFile(path, stringify(fx));
  const closing = await run(base, rulesText, path);
  assertOnly(
    await walkOf(opening.dir, closing.dir),
    "fx",
    closing.total - opening.total,
  );
});

Deno.test("one new facility: the whole change is the new step, its own ECL", async () => {
  const extra = base.head(1).withColumns(pl.lit("NEW-1").alias("loan_id"));
  const closing = await run(pl.concat([base, extra]));
  const walk = await walkOf(opening.dir, closing.dir);
  assertOnly(walk, "new", closing.total - opening.total);
  const step = walk.steps.find((s) => s.driver === "new")!;
  assert.equal(step.facilities, 1);
  assert.equal(step.top[0].loan_id, "NEW-1");
});

Deno.test("only an overlay is added: the whole change is the overlays step", async () => {
  const rules = parse(rulesText);
  const product = base.getColumn("product").get(0) as string;
  rules.overlays = [
    {
      name: "uplift",
      filter: { product: [product] },
      multiplier: 1.2,
      reason: "test",
    },
    { name: "topup", filter: { stage: [2] }, add: 1000, reason: "test" },
  ];
  const closing = await run(base, stringify(rules));
  assertOnly(
    await walkOf(opening.dir, closing.dir),
    "overlays",
    closing.total - opening.total,
  );
});

Deno.test("only the unsecured LGD changes: the whole change is the lgd step", async () => {
  const rules = parse(rulesText);
  rules.segments.default.lgd_unsecured = 0.55;
  const closing = await run(base, stringify(rules));
  assertOnly(
    await walkOf(opening.dir, closing.dir),
    "lgd",
    closing.total - opening.total,
  );
});

Deno.test("every rules section changes at once: the steps still add up to the runs' change, and each rules driver moves", async () => {
  const rules = parse(rulesText);
  rules.segments.default.lgd_unsecured = 0.5;
  rules.segments.default.pd_curve = "shape";
  rules.segments.default.pd_shape = [1, 0.9, 0.8];
  rules.segments.default.rho = 0.2;
  rules.scenarios[2].pd_multiplier = [1.8, 1.5, 1.2];
  rules.products.credit_card.ccf = 0.9;
  rules.overlays = [{ name: "o", filter: {}, add: 500, reason: "r" }];
  const closing = await run(base, stringify(rules));
  const walk = await walkOf(opening.dir, closing.dir);
  const sum = walk.steps.reduce((a, s) => a + s.amount, 0);
  assert.ok(Math.abs(sum - (closing.total - opening.total)) < 0.005);
  for (const d of ["pd", "lgd", "scenarios", "overlays"]) {
    assert.notEqual(walk.steps.find((s) => s.driver === d)!.amount, 0, d);
  }
  for (
    const d of ["derecognised", "new", "stage", "exposure", "fx", "write_off"]
  ) {
    assert.equal(walk.steps.find((s) => s.driver === d)!.amount, 0, d);
  }
  // The overlay adds 500 over the book: its step is that, to the cent.
  assert.ok(
    Math.abs(walk.steps.find((s) => s.driver === "overlays")!.amount - 500) <
      0.005,
  );
});

Deno.test("a changed input file is refused, naming it", async () => {
  const r = await run(base);
  const manifest = JSON.parse(
    await Deno.readTextFile(`${r.dir}/manifest.json`),
  );
  await Deno.writeTextFile(
    manifest.inputs.rules.path,
    rulesText + "\n# edited\n",
  );
  const from = await readRunFolder(r.dir, { trusted: true });
  await assert.rejects(
    () => readWalkInputs(from),
    (e: Error) =>
      e.message.includes(manifest.inputs.rules.path) &&
      e.message.includes("SHA-256"),
  );
});

Deno.test("only the credit-card CCF changes: the whole change is the rules step", async () => {
  const rules = parse(rulesText);
  assert.notEqual(rules.products.credit_card.ccf, 0.95);
  rules.products.credit_card.ccf = 0.95;
  const closing = await run(base, stringify(rules));
  assertOnly(
    await walkOf(opening.dir, closing.dir),
    "rules",
    closing.total - opening.total,
  );
});

Deno.test("only some facilities' days past due fall to 0: the whole change is the stage step", async () => {
  const ids = base.getColumn("loan_id").toArray().slice(0, 30);
  const closing = await run(base.withColumns(
    pl.when(pl.col("loan_id").isIn(ids)).then(pl.lit(0))
      .otherwise(pl.col("days_past_due")).cast(pl.Int32)
      .alias("days_past_due"),
  ));
  const walk = await walkOf(opening.dir, closing.dir);
  assertOnly(walk, "stage", closing.total - opening.total);
  // Only the facilities whose days past due changed moved.
  const step = walk.steps.find((s) => s.driver === "stage")!;
  assert.ok(step.facilities > 0 && step.facilities <= 30, `${step.facilities}`);
});

Deno.test("only the days-past-due SICR threshold changes (30 to 60): staging thresholds land in the stage step", async () => {
  const rules = parse(rulesText);
  rules.staging.dpd_sicr = 60;
  const closing = await run(base, stringify(rules));
  assertOnly(
    await walkOf(opening.dir, closing.dir),
    "stage",
    closing.total - opening.total,
  );
});

Deno.test("only the credit-card behavioural life changes: the remaining term, so the exposure step", async () => {
  const rules = parse(rulesText);
  rules.products.credit_card.behavioural_life_months =
    (rules.products.credit_card.behavioural_life_months ?? 36) + 12;
  const closing = await run(base, stringify(rules));
  assertOnly(
    await walkOf(opening.dir, closing.dir),
    "exposure",
    closing.total - opening.total,
  );
});

Deno.test("a segment entry added to the closing rules, then removed: its PD curve is the pd step, both ways", async () => {
  const rules = parse(rulesText);
  assert.equal(rules.segments.sme_es, undefined);
  assert.ok(
    (base.getColumn("segment").toArray() as string[]).includes("sme_es"),
  );
  rules.segments.sme_es = { pd_curve: "shape", pd_shape: [1, 1.5] };
  const withSegment = await run(base, stringify(rules));
  // Added: the opening run computed sme_es with its `default`.
  assertOnly(
    await walkOf(opening.dir, withSegment.dir),
    "pd",
    withSegment.total - opening.total,
  );
  // Removed: the closing run computes sme_es with its `default`.
  const closing = await run(base);
  assertOnly(
    await walkOf(withSegment.dir, closing.dir),
    "pd",
    closing.total - withSegment.total,
  );
});

Deno.test("a facility written off in the period: its whole change is the write-off step", async () => {
  // A stage-2 facility charged off: balance to 0, 150 days past due, its
  // opening balance written off (as lib/generate writes a write-off).
  const big = base.filter(pl.col("product").neq(pl.lit("credit_card")))
    .sort("balance", true).head(1);
  const id = big.getColumn("loan_id").get(0) as string;
  const balance = big.getColumn("balance").get(0) as number;
  assert.ok(balance > 0);
  const is = pl.col("loan_id").eq(pl.lit(id));
  const closing = await run(base.withColumns(
    pl.when(is).then(pl.lit(0)).otherwise(pl.col("balance"))
      .cast(base.getColumn("balance").dtype).alias("balance"),
    pl.when(is).then(pl.lit(150)).otherwise(pl.col("days_past_due"))
      .cast(pl.Int32).alias("days_past_due"),
    pl.when(is).then(pl.lit(balance)).otherwise(pl.col("write_off_amount"))
      .cast(base.getColumn("write_off_amount").dtype)
      .alias("write_off_amount"),
  ));
  const walk = await walkOf(opening.dir, closing.dir);
  assertOnly(walk, "write_off", closing.total - opening.total);
  const step = walk.steps.find((s) => s.driver === "write_off")!;
  assert.equal(step.facilities, 1);
  assert.equal(step.top[0].loan_id, id);
});

Deno.test({
  name: "cleanup",
  fn: async () => await Deno.remove(root, { recursive: true }),
});
