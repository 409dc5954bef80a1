/**
 * Benchmark of ONNX scoring (issue 13, "Speed": ONNX scoring of 1M rows in
 * at most 1 s on the 2-core machine), through the library's scoring path
 * (`lib/pd_model/onnx_score.ts`, `contract.ts`): the time to encode a
 * Polars frame's feature columns per contract (6 numeric, one with
 * `log1p`, and 2 categorical), to create the session and check its
 * signature, and to score every row in batches, with the process's peak
 * resident memory.
 *
 * The model is a logistic model over the 8 features (`buildPdModel`:
 * MatMul, Add, Sigmoid) unless `modelBytes` gives another file following
 * the convention (a scorecard, trees) with the same contract. The data are
 * simulated in memory (not timed), without missing values (a plain
 * logistic model has no branch for them: its PD would be NaN, refused).
 *
 * Run alone: `deno run -A bench/onnx_score.ts [ROWS]`.
 *
 * @module
 */
import pl from "nodejs-polars";
import {
  buildPdModel,
  encodeFeatures,
  type FeatureSpec,
  pdModelFromBytes,
  scorePd,
  sha256Hex,
} from "../lib/mod.ts";
import { peakMemoryBytes } from "./end_to_end.ts";

/** The contract of the benchmark's model. */
export const ONNX_BENCH_FEATURES: FeatureSpec[] = [
  { name: "credit_score", kind: "number" },
  { name: "debt_to_income", kind: "number" },
  { name: "months_on_book", kind: "number" },
  { name: "ltv", kind: "number" },
  { name: "balance", kind: "number", transform: "log1p" },
  { name: "utilisation", kind: "number" },
  {
    name: "employment_type",
    kind: "category",
    categories: [
      "employed",
      "self_employed",
      "unemployed",
      "retired",
      "student",
    ],
  },
  {
    name: "rating",
    kind: "category",
    categories: Array.from(
      { length: 12 },
      (_, i) => `G${String(i + 1).padStart(2, "0")}`,
    ),
  },
];

/** Options of {@link benchOnnxScore}. */
export interface OnnxScoreBenchOptions {
  /** Rows scored. @default 1_000_000 */
  rows?: number;
  /** Seed of the simulated data. @default 1 */
  seed?: number;
  /** Another model file with the contract {@link ONNX_BENCH_FEATURES}. */
  modelBytes?: Uint8Array;
}

/** What {@link benchOnnxScore} measured. */
export interface OnnxScoreBenchResult {
  /** Rows scored. */
  rows: number;
  /** Features of the contract. */
  features: number;
  /** Milliseconds to simulate the frame (not part of scoring). */
  simulateMs: number;
  /** Milliseconds to encode the frame's columns per contract. */
  encodeMs: number;
  /** Milliseconds to create the session and check it against the contract. */
  loadMs: number;
  /** Milliseconds to score every row through onnxruntime-node (the target: <= 1000). */
  scoreMs: number;
  /** Encoding and scoring together. */
  totalMs: number;
  /** Rows scored per second (scoring alone). */
  rowsPerSecond: number;
  /** Mean PD, a check that the rows were scored. */
  meanPd: number;
  /** Peak resident memory of the process afterwards, bytes; null off Linux. */
  peakMemoryBytes: number | null;
}

/** A small deterministic generator (mulberry32). */
function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The logistic model of the benchmark, in the project's ONNX convention. */
export function benchLogisticModel(): Uint8Array {
  const F = ONNX_BENCH_FEATURES.length;
  return buildPdModel({
    features: ONNX_BENCH_FEATURES,
    nodes: [
      { op: "MatMul", inputs: ["features", "w"], outputs: ["z0"] },
      { op: "Add", inputs: ["z0", "b"], outputs: ["z"] },
      { op: "Sigmoid", inputs: ["z"], outputs: ["pd"] },
    ],
    initializers: [
      {
        name: "w",
        type: "double",
        dims: [F, 1],
        values: [-0.01, 1.2, -0.005, 0.8, 0.05, 0.6, 0.2, 0.15],
      },
      { name: "b", type: "double", dims: [1], values: [1.5] },
    ],
  });
}

/**
 * Encodes and scores `rows` simulated facilities through ONNX Runtime and
 * reports the times.
 */
export async function benchOnnxScore(
  options: OnnxScoreBenchOptions = {},
): Promise<OnnxScoreBenchResult> {
  const rows = options.rows ?? 1_000_000;
  const u = uniform(options.seed ?? 1);
  const t0 = performance.now();
  const num = (f: () => number, missing = 0) =>
    Float64Array.from({ length: rows }, () => u() < missing ? NaN : f());
  const jobs = ONNX_BENCH_FEATURES[6].categories!;
  const grades = ONNX_BENCH_FEATURES[7].categories!;
  const df = pl.DataFrame({
    credit_score: num(() => 300 + 550 * u()),
    debt_to_income: num(() => u() * 0.8),
    months_on_book: num(() => Math.floor(u() * 240)),
    ltv: num(() => u() * 1.2),
    balance: num(() => Math.exp(8 + 3 * u())),
    utilisation: num(() => u()),
    employment_type: Array.from(
      { length: rows },
      () => jobs[Math.floor(u() * jobs.length)],
    ),
    rating: Array.from(
      { length: rows },
      () => grades[Math.floor(u() * grades.length)],
    ),
  });
  const simulateMs = performance.now() - t0;

  const bytes = options.modelBytes ?? benchLogisticModel();
  const t1 = performance.now();
  const model = await pdModelFromBytes(
    { path: "bench.onnx", bytes, sha256: sha256Hex(bytes) },
    { features: ONNX_BENCH_FEATURES },
  );
  const loadMs = performance.now() - t1;

  const t2 = performance.now();
  const encoded = encodeFeatures(df, model.features);
  const encodeMs = performance.now() - t2;
  const t3 = performance.now();
  const { pd } = await scorePd(model, encoded.data);
  const scoreMs = performance.now() - t3;
  let sum = 0;
  for (let i = 0; i < rows; i++) sum += pd[i];
  return {
    rows,
    features: ONNX_BENCH_FEATURES.length,
    simulateMs,
    encodeMs,
    loadMs,
    scoreMs,
    totalMs: encodeMs + scoreMs,
    rowsPerSecond: rows / (scoreMs / 1000),
    meanPd: sum / rows,
    peakMemoryBytes: peakMemoryBytes(),
  };
}

if (import.meta.main) {
  const rows = Deno.args[0] ? Number(Deno.args[0]) : undefined;
  console.log(JSON.stringify(await benchOnnxScore({ rows }), null, 2));
}
