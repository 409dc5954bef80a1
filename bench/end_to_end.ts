/**
 * Benchmark of one run, in-process: per-step wall-clock times (from the
 * manifest), loans per second end to end, and the process's peak resident
 * memory (`VmHWM` of `/proc/self/status`, Linux), which is what the
 * targets are stated in (issue 17, `bench/scale.ts`: 1M loans in at most
 * 1.5 s and 1 GiB, 10M in 20 s and 3 GiB, 30M within 20% of 10M's peak).
 * A step's "peak after" is the high-water mark when the next step starts;
 * a streamed run repeats its steps per batch (`chunkSize`), so a step's
 * figure is its last batch's.
 *
 * The portfolio is generated in a child process (`tasks/generate.ts`) so the
 * generator's own memory never counts toward the run's peak.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  generatePortfolio,
  projectPath,
  type RunOptions,
  runPortfolio,
  snapshotFiles,
} from "../lib/mod.ts";

/** Peak resident set size of this process in bytes (`VmHWM`), or null off Linux. */
export function peakMemoryBytes(): number | null {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const m = status.match(/^VmHWM:\s+(\d+)\s+kB$/m);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** What {@link benchRun} measured. */
export interface BenchResult {
  loans: number;
  /** Wall-clock milliseconds from the start of the run to its rename. */
  totalMs: number;
  /** Milliseconds per step, in the order the steps ran. */
  stepsMs: Record<string, number>;
  loansPerSecond: number;
  /** Peak resident memory of the process after the run, bytes; null off Linux. */
  peakMemoryBytes: number | null;
  /**
   * Peak resident memory reached by the end of each step, bytes: where the
   * peak grows is where the memory goes. Empty off Linux.
   */
  peakMemoryByStep: Record<string, number>;
  dir: string;
}

/**
 * Runs `opts` in this process and measures it. The run folder is written as
 * usual (the write is part of the time measured).
 */
export async function benchRun(opts: RunOptions): Promise<BenchResult> {
  const peakByStep: Record<string, number> = {};
  let current: string | undefined;
  const mark = () => {
    const peak = peakMemoryBytes();
    if (current !== undefined && peak !== null) peakByStep[current] = peak;
  };
  const t0 = performance.now();
  const run = await runPortfolio({
    ...opts,
    onStep: (step) => {
      mark();
      current = step;
      opts.onStep?.(step);
    },
  });
  mark();
  const totalMs = performance.now() - t0;
  // VmHWM is max(the recorded high-water mark, the current RSS), and the
  // kernel records the mark lazily: a reading taken at a transient peak
  // can exceed a later one. The run's peak is the largest reading seen.
  const final = peakMemoryBytes();
  const readings = Object.values(peakByStep);
  return {
    loans: run.manifest.rows.computed,
    totalMs,
    stepsMs: run.manifest.timings_ms,
    loansPerSecond: run.manifest.rows.computed / (totalMs / 1000),
    peakMemoryBytes: final === null ? null : Math.max(final, ...readings),
    peakMemoryByStep: peakByStep,
    dir: run.dir,
  };
}

/** Options of {@link benchPortfolio} and {@link benchSnapshots}. */
export interface BenchPortfolioOptions {
  loans: number;
  /** @default 42 */
  seed?: number;
  /** First reporting date. @default "2025-12-31" */
  reportingDate?: string;
  /** Quarterly snapshots of the book. @default 1 */
  periods?: number;
  /** Cache directory. @default the project's data/tmp/bench */
  dir?: string;
  /**
   * Keep the generator's standard output off this process's (so that a
   * `--json` answer stays JSON); its errors still show. @default false
   */
  quiet?: boolean;
}

/**
 * The paths of the generated Parquet snapshots of a `loans`-loan book,
 * oldest first, generating them in a child `deno run tasks/generate.ts` on
 * first use and reusing them afterwards (generation of 10M loans takes
 * longer than the run).
 */
export async function benchSnapshots(
  opts: BenchPortfolioOptions,
): Promise<string[]> {
  const seed = opts.seed ?? 42;
  const date = opts.reportingDate ?? "2025-12-31";
  const periods = opts.periods ?? 1;
  const dir = join(
    opts.dir ?? projectPath("data/tmp/bench"),
    `loans_${opts.loans}_seed_${seed}${
      periods > 1 ? `_periods_${periods}` : ""
    }`,
  );
  const cached = await snapshotFiles(dir);
  if (cached.length === periods) return cached;
  const code = await runTask("generate.ts", [
    "--loans",
    String(opts.loans),
    "--seed",
    String(seed),
    "--reporting-date",
    date,
    "--periods",
    String(periods),
    "--out",
    dir,
    // An incomplete cache (a snapshot or FX table of an earlier attempt).
    "--replace",
  ], opts.quiet ? "null" : "inherit");
  if (code !== 0) {
    throw new Error(
      `Cannot generate the bench portfolio in ${dir}: tasks/generate.ts exited with code ${code}`,
    );
  }
  const made = await snapshotFiles(dir);
  if (made.length !== periods) {
    throw new Error(
      `Cannot find ${periods} bench snapshot(s) in ${dir} after tasks/generate.ts ran (found ${made.length})`,
    );
  }
  return made;
}

/** The path of a generated single-period bench portfolio; see {@link benchSnapshots}. */
export async function benchPortfolio(
  opts: BenchPortfolioOptions,
): Promise<string> {
  return (await benchSnapshots({ ...opts, periods: 1 }))[0];
}

/** What {@link benchGenerate} measured. */
export interface GenerateBenchResult {
  loans: number;
  periods: number;
  /** Rows written over all snapshots. */
  rows: number;
  /** Bytes on disk over all snapshots. */
  bytes: number;
  totalMs: number;
  /** Peak resident memory of the process after generating, bytes. */
  peakMemoryBytes: number | null;
}

/**
 * Generates a portfolio in this process into a temporary folder (removed
 * afterwards) and measures it: the generator's memory goal is stated for
 * the whole process (1M loans under 2 GB).
 */
export async function benchGenerate(opts: {
  loans: number;
  seed: number;
  periods?: number;
  format?: "parquet" | "csv";
}): Promise<GenerateBenchResult> {
  const out = await Deno.makeTempDir({ prefix: "bench-generate-" });
  try {
    const t0 = performance.now();
    const result = await generatePortfolio({
      loans: opts.loans,
      seed: opts.seed,
      reportingDate: "2025-12-31",
      periods: opts.periods ?? 1,
      out,
      format: opts.format ?? "parquet",
    });
    const totalMs = performance.now() - t0;
    let bytes = 0;
    for (const s of result.snapshots) bytes += (await Deno.stat(s.path)).size;
    return {
      loans: opts.loans,
      periods: opts.periods ?? 1,
      rows: result.snapshots.reduce((a, s) => a + s.rows, 0),
      bytes,
      totalMs,
      peakMemoryBytes: peakMemoryBytes(),
    };
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

/**
 * Runs a task of this project (`tasks/<script>`) in a child process, so
 * that its memory never counts toward the measured process's peak, and
 * returns its exit code.
 */
export async function runTask(
  script: string,
  args: string[],
  stdout: "inherit" | "null",
): Promise<number> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      fileURLToPath(new URL(`../tasks/${script}`, import.meta.url)),
      ...args,
    ],
    stdout,
    stderr: "inherit",
  }).output();
  return out.code;
}
