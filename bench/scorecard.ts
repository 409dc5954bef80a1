/**
 * Benchmark of the champion scorecard (issue 13, "Speed": a fit on 1M rows
 * and 8 characteristics in at most 5 s on the 2-core machine): the time to
 * bin the characteristics alone, then to fit the whole scorecard (binning,
 * WoE, Newton–Raphson, points), to export it to ONNX and to score every
 * row through onnxruntime-node, with the largest difference between the
 * ONNX and TypeScript PDs, and the process's peak resident memory. The
 * fit's CPU time is reported beside its wall-clock time: on a shared
 * machine the wall clock also counts the time spent waiting for a core.
 *
 * The data are simulated in memory (not timed) from a known logistic model
 * over 6 numeric characteristics (normal, uniform, lognormal, whole
 * months; some with missing values) and 2 categorical ones (5 and 12
 * categories), a default rate near 8%.
 *
 * @module
 */
import process from "node:process";
import * as ort from "onnxruntime-node";
import {
  binCharacteristics,
  type EncodedData,
  type FeatureSpec,
  fitScorecard,
  scorecardToOnnx,
  scoreScorecard,
} from "../lib/mod.ts";
import { peakMemoryBytes } from "./end_to_end.ts";

/** What {@link benchScorecard} measured. */
export interface ScorecardBenchResult {
  /** Rows fitted. */
  rows: number;
  /** Characteristics. */
  characteristics: number;
  /** Milliseconds to simulate the data (not part of the fit). */
  simulateMs: number;
  /** Milliseconds to bin the characteristics alone. */
  binMs: number;
  /** Milliseconds of the whole fit (`fitScorecard`), the figure the target is stated in. */
  fitMs: number;
  /**
   * CPU milliseconds (user + system, all threads) of the fit: what the fit
   * costs when the machine is shared and the wall clock waits for a core.
   */
  fitCpuMs: number;
  /** Newton iterations of the fit. */
  iterations: number;
  /** Milliseconds to build the ONNX model. */
  exportMs: number;
  /** Milliseconds to score every row through onnxruntime-node (session creation included). */
  onnxScoreMs: number;
  /** Largest |PD(ONNX) − PD(TypeScript)| over the rows. */
  maxPdDifference: number;
  /** Peak resident memory of the process afterwards, bytes; null off Linux. */
  peakMemoryBytes: number | null;
}

/** Options of {@link benchScorecard}. */
export interface ScorecardBenchOptions {
  /** Rows to simulate and fit. @default 1000000 */
  rows?: number;
  /** Seed of the simulation. @default 42 */
  seed?: number;
}

/** mulberry32: a small seeded uniform generator for the simulation. */
function uniforms(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The benchmark's development sample (see the module). */
export function simulateScorecardData(rows: number, seed: number): EncodedData {
  const u = uniforms(seed);
  const normal = () =>
    Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  const regions = Array.from({ length: 12 }, (_, i) => `R${i + 1}`);
  const features: FeatureSpec[] = [
    { name: "credit_score", kind: "number" },
    { name: "debt_to_income", kind: "number" },
    { name: "months_on_book", kind: "number" },
    { name: "ltv", kind: "number" },
    { name: "income", kind: "number", transform: "log1p" },
    { name: "utilisation", kind: "number" },
    {
      name: "employment_type",
      kind: "category",
      categories: ["employed", "self", "public", "none", "retired"],
    },
    { name: "region", kind: "category", categories: regions },
  ];
  const cols = features.map(() => new Float64Array(rows));
  const target = new Uint8Array(rows);
  const jobEffect = [0, 0.35, -0.3, 0.9, 0.1];
  for (let i = 0; i < rows; i++) {
    const score = normal();
    const dti = u() < 0.02 ? NaN : u() * 0.8;
    const mob = Math.floor(u() * 121);
    const ltv = u() < 0.3 ? NaN : 0.3 + u() * 0.8;
    const income = Math.log1p(Math.exp(10 + 0.6 * normal()));
    const util = Math.min(1, Math.max(0, 0.4 + 0.25 * normal()));
    const job = Math.min(4, Math.floor(u() * u() * 5 * 1.3));
    const region = Math.floor(u() * 12);
    const values = [score, dti, mob, ltv, income, util, job, region];
    values.forEach((v, j) => (cols[j][i] = v));
    const eta = -2.8 - 0.8 * score + 1.5 * (Number.isNaN(dti) ? 0.4 : dti) -
      0.006 * mob + (Number.isNaN(ltv) ? 0 : 0.9 * (ltv - 0.7)) -
      0.3 * (income - 10) + 1.2 * (util - 0.4) + jobEffect[job] +
      (region % 3 === 0 ? 0.2 : 0);
    target[i] = u() < 1 / (1 + Math.exp(-eta)) ? 1 : 0;
  }
  return { features, columns: cols, target, rows };
}

/**
 * Simulates `rows` rows, then measures the binning, the fit, the ONNX
 * export and ONNX scoring (see the module).
 */
export async function benchScorecard(
  { rows = 1_000_000, seed = 42 }: ScorecardBenchOptions = {},
): Promise<ScorecardBenchResult> {
  let t = performance.now();
  const data = simulateScorecardData(rows, seed);
  const simulateMs = performance.now() - t;
  t = performance.now();
  binCharacteristics(data);
  const binMs = performance.now() - t;
  t = performance.now();
  const cpu = process.cpuUsage();
  const sc = fitScorecard(data);
  const fitMs = performance.now() - t;
  const used = process.cpuUsage(cpu);
  const fitCpuMs = (used.user + used.system) / 1000;
  t = performance.now();
  const bytes = scorecardToOnnx(sc);
  const exportMs = performance.now() - t;
  t = performance.now();
  const session = await ort.InferenceSession.create(bytes);
  const feeds: Record<string, ort.Tensor> = {};
  data.features.forEach((f, j) => {
    feeds[f.name] = new ort.Tensor("float64", data.columns[j], [rows, 1]);
  });
  const out = await session.run(feeds);
  const onnxScoreMs = performance.now() - t;
  await session.release();
  const pd = out.pd.data as Float64Array;
  const ts = scoreScorecard(sc, data, { reasons: 0 }).pd;
  let maxPdDifference = 0;
  for (let i = 0; i < rows; i++) {
    maxPdDifference = Math.max(maxPdDifference, Math.abs(pd[i] - ts[i]));
  }
  return {
    rows,
    characteristics: data.features.length,
    simulateMs,
    binMs,
    fitMs,
    fitCpuMs,
    iterations: sc.fit.iterations,
    exportMs,
    onnxScoreMs,
    maxPdDifference,
    peakMemoryBytes: peakMemoryBytes(),
  };
}

if (import.meta.main) {
  const rows = Number(Deno.args[0] ?? 1_000_000);
  console.log(JSON.stringify(await benchScorecard({ rows }), null, 2));
}
