/**
 * Benchmark of the movement between two reporting dates, in-process: the
 * time to read two run folders, compute the reconciliation (with its
 * invariants), compute the ECL walk by driver (lib/walk: both runs' inputs
 * re-read and validated, the engine re-run state by state) and write the
 * outputs, and the process's peak resident memory.
 *
 * The two-quarter book is generated and both runs are computed in child
 * processes (`tasks/generate.ts`, `tasks/run.ts`), cached under the bench
 * directory, so neither counts toward the movement's time or peak.
 *
 * @module
 */
import { join } from "node:path";
import { benchSnapshots, peakMemoryBytes, runTask } from "./end_to_end.ts";
import {
  computeMovement,
  computeWalk,
  projectPath,
  readRunFolder,
  readWalkInputs,
  writeMovementOutputs,
} from "../lib/mod.ts";

/** What {@link benchMovement} measured. */
export interface MovementBenchResult {
  /** Facilities of the earlier and the later run. */
  loans: { from: number; to: number };
  /** Rows of `movement_facilities.parquet`: facilities of either run. */
  facilities: number;
  /**
   * Wall-clock milliseconds of each part and in all: `totalMs` is
   * `readMs + computeMs + (walkInputsMs ?? 0) + (walkMs ?? 0) + writeMs`.
   */
  readMs: number;
  computeMs: number;
  writeMs: number;
  /**
   * The ECL walk (lib/walk): both runs' inputs re-read, hashed and
   * validated (`walkInputsMs`), then the engine re-run state by state
   * (`walkMs`); null with `walk: false`.
   */
  walkInputsMs: number | null;
  walkMs: number | null;
  totalMs: number;
  /** Peak resident memory of the process afterwards, bytes; null off Linux. */
  peakMemoryBytes: number | null;
  /** Where the outputs were written. */
  out: string;
}

/** Options of {@link benchMovement}. */
export interface MovementBenchOptions {
  loans: number;
  /** @default 42 */
  seed?: number;
  /** Cache directory for the book and its runs. @default the project's data/tmp/bench */
  dir?: string;
  /** Measure the ECL walk too. @default true */
  walk?: boolean;
}

/** The run folder of a snapshot, computed in a child process on first use. */
async function cachedRun(portfolio: string, out: string): Promise<string> {
  const runId = portfolio.match(/(\d{4}-\d{2}-\d{2})/)![1];
  const dir = join(out, runId);
  try {
    const manifest = JSON.parse(
      await Deno.readTextFile(join(dir, "manifest.json")),
    );
    if (manifest.status === "complete") return dir;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const code = await runTask("run.ts", [
    "--portfolio",
    portfolio,
    "--out",
    out,
    "--run-id",
    runId,
    "--replace",
    "--no-report",
    "--quiet",
  ], "null");
  if (code !== 0) {
    throw new Error(
      `Cannot compute the bench run of ${portfolio}: tasks/run.ts exited with code ${code}`,
    );
  }
  return dir;
}

/**
 * Measures the movement between the two quarter-end runs of a generated
 * `loans`-loan book. The outputs go to `<dir>/movement_out/` and stay there.
 */
export async function benchMovement(
  opts: MovementBenchOptions,
): Promise<MovementBenchResult> {
  const dir = opts.dir ?? projectPath("data/tmp/bench");
  const seed = opts.seed ?? 42;
  const snapshots = await benchSnapshots({
    loans: opts.loans,
    seed,
    periods: 2,
    dir,
  });
  const runsDir = join(dir, `movement_runs_${opts.loans}_seed_${seed}`);
  const [fromDir, toDir] = [
    await cachedRun(snapshots[0], runsDir),
    await cachedRun(snapshots[1], runsDir),
  ];
  const out = join(dir, "movement_out");
  const t0 = performance.now();
  const [from, to] = [await readRunFolder(fromDir), await readRunFolder(toDir)];
  const t1 = performance.now();
  const { movement, facilities } = await computeMovement(from, to);
  const t2 = performance.now();
  let walkInputsMs: number | null = null;
  let walkMs: number | null = null;
  let walk = null;
  if (opts.walk ?? true) {
    const inputs = await Promise.all([
      readWalkInputs(from),
      readWalkInputs(to),
    ]);
    const w1 = performance.now();
    walk = await computeWalk(
      { inputs: inputs[0], run: from },
      { inputs: inputs[1], run: to },
    );
    walkInputsMs = w1 - t2;
    walkMs = performance.now() - w1;
  }
  // The parts are consecutive: totalMs is their sum.
  const t2w = t2 + (walkInputsMs ?? 0) + (walkMs ?? 0);
  await writeMovementOutputs(movement, facilities, out, { walk });
  const t3 = performance.now();
  return {
    loans: {
      from: from.summary.totals.count,
      to: to.summary.totals.count,
    },
    facilities: facilities.height,
    readMs: t1 - t0,
    computeMs: t2 - t1,
    writeMs: t3 - t2w,
    walkInputsMs,
    walkMs,
    totalMs: t3 - t0,
    peakMemoryBytes: peakMemoryBytes(),
    out,
  };
}
