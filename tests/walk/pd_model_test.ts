/**
 * The ECL walk re-reads a run's PD models (docs/movement.md §6, Inputs): a
 * model file the run scored with is read again as it was, and refused,
 * naming the model and its rules key, once its bytes differ from the
 * SHA-256 the run's manifest recorded (`pd_models`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import { parse, stringify } from "yaml";
import { projectPath, runPortfolio } from "../../lib/mod.ts";
import { readRunFolder } from "../../lib/run_folder/mod.ts";
import { readWalkInputs, WalkInputsError } from "../../lib/walk/mod.ts";
import { foreignModel } from "../pd_model/_foreign_model.ts";

const FEATURES = [
  { name: "balance", kind: "number", transform: "log1p" },
  { name: "credit_score", kind: "number" },
];

/** A logistic model of log1p(balance) and credit_score. */
function model(intercept: number): Uint8Array {
  return foreignModel({
    inputs: FEATURES.map((f) => ({ name: f.name })),
    weights: [0.15, -0.006],
    intercept,
    op: "matmul",
  });
}

Deno.test("readWalkInputs() reads a run's PD model again, and refuses it once its bytes changed, naming it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "walk_pd_model_" });
  try {
    await Deno.mkdir(join(dir, "models"));
    const modelFile = join(dir, "models", "pd.onnx");
    await Deno.writeFile(modelFile, model(-2.5));
    const df = pl.readParquet(
      projectPath("data/sample/portfolio_2025-12-31.parquet"),
    ).head(150);
    const n = df.height;
    const book = join(dir, "book.parquet");
    df.withColumns(
      pl.Series(
        "credit_score",
        Float64Array.from({ length: n }, (_, i) => 450 + (i * 37) % 400),
      ),
    ).writeParquet(book);
    const doc = parse(
      await Deno.readTextFile(projectPath("config/ifrs9_rules.yaml")),
    );
    doc.segments.consumer_es = {
      pd_source: { onnx: "models/pd.onnx", features: FEATURES },
    };
    const rules = join(dir, "rules.yaml");
    await Deno.writeTextFile(rules, stringify(doc));
    const r = await runPortfolio({
      portfolio: book,
      rules,
      fx: projectPath("config/fx_rates.yaml"),
      out: join(dir, "runs"),
      runId: "scored",
      report: false,
    });
    const run = await readRunFolder(r.dir, { trusted: true });
    assert.equal(run.manifest!.pd_models!.length, 1);
    // Unchanged: read again as the run read it.
    const inputs = await readWalkInputs(run);
    assert.equal(inputs.valid.height, r.summary.totals.count);

    // Another model under the same name: refused, naming it and its key.
    await Deno.writeFile(modelFile, model(-1.5));
    await assert.rejects(
      () => readWalkInputs(run),
      (e: Error) =>
        e instanceof WalkInputsError && e.kind === "input" &&
        e.message.includes(modelFile) &&
        e.message.includes("segments.consumer_es.pd_source") &&
        e.message.includes("SHA-256"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
