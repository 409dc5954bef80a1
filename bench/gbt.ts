/**
 * Benchmark of the challenger PD model (issue 13, "Speed": 200 trees of
 * depth 4 on 1M rows <= 60 s on the 2-core machine): fits
 * gradient-boosted trees on synthetic data drawn from a known non-linear
 * model with an interaction, then scores the rows in TypeScript and through
 * ONNX Runtime, and reports the times, the held-out AUC beside the true
 * model's and the process's peak resident memory.
 *
 * All 200 trees are grown (early stopping is off, the validation loss is
 * still tracked on a separate validation set each iteration, as a real fit
 * does), so the time is that of the full fit.
 *
 * @module
 */
import { cpuUsage } from "node:process";
import * as ort from "onnxruntime-node";
import { peakMemoryBytes } from "./end_to_end.ts";
import {
  auc,
  type EncodedData,
  gbtToOnnx,
  predictGbt,
  trainGbt,
} from "../lib/mod.ts";
import { Rng } from "../lib/generate/mod.ts";

/** What {@link benchGbt} measured. */
export interface GbtBenchResult {
  /** Training rows and features. */
  rows: number;
  features: number;
  /** Trees grown and their depth limit. */
  trees: number;
  maxDepth: number;
  /** Wall-clock milliseconds of the fit (quantising included). */
  fitMs: number;
  /**
   * CPU milliseconds (user + system) of the process during the fit: the
   * fit runs on one thread, so on a busy machine this is the time it would
   * take alone.
   */
  fitCpuMs: number;
  /** Trees grown before keeping the best iteration. */
  iterations: number;
  /** Milliseconds to score the training rows in TypeScript. */
  predictMs: number;
  /** Milliseconds to export and to score the training rows through ONNX Runtime. */
  onnxExportMs: number;
  onnxScoreMs: number;
  /** Largest |ONNX pd - TypeScript pd| over the rows scored. */
  onnxMaxDiff: number;
  /** AUC on held-out rows of the model and of the true probabilities. */
  heldOutAuc: number;
  trueAuc: number;
  /** Default rate of the training rows. */
  defaultRate: number;
  /** Peak resident memory of the process afterwards, bytes; null off Linux. */
  peakMemoryBytes: number | null;
}

/** Options of {@link benchGbt}. */
export interface GbtBenchOptions {
  /** Training rows. @default 1_000_000 */
  rows?: number;
  /** Trees. @default 200 */
  trees?: number;
  /** Depth limit. @default 4 */
  maxDepth?: number;
  /** Seed of the data and the fit. @default 42 */
  seed?: number;
}

/**
 * `rows` rows of 8 features from a known model: log-odds
 * -3 + 0.8 x1 - 0.5 x2 + 0.9 x1 x2 + 0.7 [x3 > 0.5] + 0.6 sin(2 x4)
 * + effect of a 4-level category x5, with x6 missing for 10% of rows (the
 * missing ones riskier) and x7, x8 pure noise; the target is drawn from it.
 */
export function interactionData(
  rows: number,
  seed: number,
): EncodedData & { truePd: Float64Array } {
  const rng = new Rng(seed, 13);
  const cols = Array.from({ length: 8 }, () => new Float64Array(rows));
  const target = new Uint8Array(rows);
  const truePd = new Float64Array(rows);
  const catEffect = [-0.4, 0, 0.3, 0.8];
  for (let i = 0; i < rows; i++) {
    const x1 = rng.normal(), x2 = rng.normal(), x3 = rng.uniform();
    const x4 = rng.normal(), x5 = rng.int(0, 3);
    const x6 = rng.chance(0.1) ? NaN : rng.normal();
    cols[0][i] = x1;
    cols[1][i] = x2;
    cols[2][i] = x3;
    cols[3][i] = x4;
    cols[4][i] = x5;
    cols[5][i] = x6;
    cols[6][i] = rng.normal();
    cols[7][i] = rng.uniform();
    const eta = -3 + 0.8 * x1 - 0.5 * x2 + 0.9 * x1 * x2 +
      (x3 > 0.5 ? 0.7 : 0) + 0.6 * Math.sin(2 * x4) + catEffect[x5] +
      (Number.isNaN(x6) ? 0.5 : 0.3 * x6);
    const p = 1 / (1 + Math.exp(-eta));
    truePd[i] = p;
    target[i] = rng.uniform() < p ? 1 : 0;
  }
  return {
    features: [
      ...["x1", "x2", "x3", "x4"].map((name) => ({
        name,
        kind: "number" as const,
      })),
      { name: "x5", kind: "category", categories: ["a", "b", "c", "d"] },
      ...["x6", "x7", "x8"].map((name) => ({ name, kind: "number" as const })),
    ],
    columns: cols,
    target,
    rows,
    truePd,
  };
}

/** Fits, scores and exports a GBT on synthetic data; see the module doc. */
export async function benchGbt(
  options: GbtBenchOptions = {},
): Promise<GbtBenchResult> {
  const rows = options.rows ?? 1_000_000;
  const trees = options.trees ?? 200;
  const maxDepth = options.maxDepth ?? 4;
  const seed = options.seed ?? 42;
  const train = interactionData(rows, seed);
  const validation = interactionData(Math.max(1000, rows / 10), seed + 1);
  const test = interactionData(Math.max(1000, rows / 10), seed + 2);

  let t0 = performance.now();
  const cpu0 = cpuUsage();
  const model = trainGbt(train, {
    trees,
    maxDepth,
    validation,
    earlyStoppingRounds: 0,
    seed,
  });
  const fitMs = performance.now() - t0;
  const cpu = cpuUsage(cpu0);
  const fitCpuMs = (cpu.user + cpu.system) / 1000;

  t0 = performance.now();
  const ts = predictGbt(model, train);
  const predictMs = performance.now() - t0;

  t0 = performance.now();
  const bytes = gbtToOnnx(model);
  const session = await ort.InferenceSession.create(bytes);
  const onnxExportMs = performance.now() - t0;
  t0 = performance.now();
  const feeds: Record<string, ort.Tensor> = {};
  train.features.forEach((f, i) => {
    feeds[f.name] = new ort.Tensor("float64", train.columns[i], [rows, 1]);
  });
  const out = await session.run(feeds);
  const onnxScoreMs = performance.now() - t0;
  const onnxPd = out.pd.data as Float64Array;
  let onnxMaxDiff = 0;
  for (let i = 0; i < rows; i++) {
    onnxMaxDiff = Math.max(onnxMaxDiff, Math.abs(onnxPd[i] - ts.pd[i]));
  }
  await session.release();

  const held = predictGbt(model, test).pd;
  const labels = test.target!;
  let defaults = 0;
  for (let i = 0; i < rows; i++) defaults += train.target![i];
  return {
    rows,
    features: train.features.length,
    trees: model.trees.length,
    maxDepth,
    fitMs,
    fitCpuMs,
    iterations: model.training!.iterations,
    predictMs,
    onnxExportMs,
    onnxScoreMs,
    onnxMaxDiff,
    heldOutAuc: auc(held, labels),
    trueAuc: auc(test.truePd, labels),
    defaultRate: defaults / rows,
    peakMemoryBytes: peakMemoryBytes(),
  };
}

if (import.meta.main) {
  const rows = Number(Deno.args[0] ?? 1_000_000);
  console.log(JSON.stringify(await benchGbt({ rows }), null, 2));
}
