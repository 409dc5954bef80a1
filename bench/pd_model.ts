/**
 * Benchmark of `deno task train-pd` end to end, in-process: a generated
 * multi-period book (made once in a child process and cached, as the other
 * benches do), its development sample (`buildDevelopmentSample`), written
 * to Parquet, then `trainPdModel` from that file to a written model folder
 * for the scorecard and for the trees: the wall-clock time of each part,
 * the rows and defaults, the held-out AUC and the process's peak resident
 * memory.
 *
 * The fits alone on 1M rows (the speed targets) are measured by
 * `bench/scorecard.ts` and `bench/gbt.ts`; this one measures what a user
 * waits for.
 *
 * @module
 */
import { join } from "node:path";
import {
  buildDevelopmentSample,
  type PdModelKind,
  projectPath,
  trainPdModel,
} from "../lib/mod.ts";
import { benchSnapshots, peakMemoryBytes } from "./end_to_end.ts";

/** One model trained. */
export interface TrainPdBenchModel {
  /** Scorecard or trees. */
  kind: PdModelKind;
  /** Wall-clock milliseconds of `trainPdModel`, reading and writing included. */
  totalMs: number;
  /** Held-out AUC. */
  heldOutAuc: number;
}

/** What {@link benchTrainPd} measured. */
export interface TrainPdBenchResult {
  /** Loans of the generated book, and its quarter-ends. */
  loans: number;
  periods: number;
  /** Rows and defaults of the development sample. */
  rows: number;
  defaults: number;
  /** Milliseconds to build the development sample and write it to Parquet. */
  sampleMs: number;
  /** Each model trained. */
  models: TrainPdBenchModel[];
  /** Peak resident memory of the process afterwards, bytes; null off Linux. */
  peakMemoryBytes: number | null;
}

/** Options of {@link benchTrainPd}. */
export interface TrainPdBenchOptions {
  /** Loans of the generated book. */
  loans: number;
  /** @default 42 */
  seed?: number;
  /** Quarter-ends of the book (four have a full 12-month window with 8). @default 8 */
  periods?: number;
  /** Cache directory of the book. @default the project's data/tmp/bench */
  dir?: string;
}

/** Builds the sample of a generated book and trains both models on it. */
export async function benchTrainPd(
  opts: TrainPdBenchOptions,
): Promise<TrainPdBenchResult> {
  const periods = opts.periods ?? 8;
  const seed = opts.seed ?? 42;
  const snapshots = await benchSnapshots({
    loans: opts.loans,
    seed,
    periods,
    dir: opts.dir,
  });
  const work = await Deno.makeTempDir({
    dir: await ensureDir(opts.dir ?? projectPath("data/tmp/bench")),
    prefix: "train-pd-",
  });
  try {
    let t = performance.now();
    const sample = await buildDevelopmentSample(snapshots);
    const data = join(work, "development_sample.parquet");
    sample.frame.writeParquet(data);
    const sampleMs = performance.now() - t;
    const models: TrainPdBenchModel[] = [];
    for (const kind of ["scorecard", "gbt"] as const) {
      t = performance.now();
      const trained = await trainPdModel({
        data,
        target: sample.target,
        model: kind,
        seed,
        out: join(work, kind),
      });
      models.push({
        kind,
        totalMs: performance.now() - t,
        heldOutAuc: trained.metrics.held_out.auc,
      });
    }
    return {
      loans: opts.loans,
      periods,
      rows: sample.rows,
      defaults: sample.defaults,
      sampleMs,
      models,
      peakMemoryBytes: peakMemoryBytes(),
    };
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

/** `dir`, created when missing. */
async function ensureDir(dir: string): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  return dir;
}
