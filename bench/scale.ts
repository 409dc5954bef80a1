/**
 * The scale bench of issue 17 (`deno task bench --scale`): for each book
 * size, the book is generated once (a child `tasks/generate.ts`, cached
 * under `data/tmp/bench/` like every bench book, see
 * {@link benchPortfolio}), then run end to end in a child process of its
 * own (`tasks/bench.ts --portfolio BOOK --json`: the run in-process, the
 * report included, the run folder written then removed), so that each
 * size's peak resident memory (`VmHWM` of that child) is its own and not
 * the high-water mark of a larger book measured before it.
 *
 * Each size with a target in {@link SCALE_TARGETS} (the table) is
 * judged: time and peak memory against the limits, and the peak of a book
 * against the peak of a smaller one (30M loans within 20% of the 10M
 * peak: memory bounded by the batch, not the book). Sizes without a target
 * are measured and printed with "–".
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { benchPortfolio } from "./end_to_end.ts";
import { table } from "../lib/run/mod.ts";

/** What a book size must reach; every field optional. */
export interface ScaleTarget {
  /** Largest end-to-end time of the run, milliseconds. */
  maxMs?: number;
  /** Largest peak resident memory, bytes. */
  maxPeakBytes?: number;
  /**
   * The peak may exceed the peak of the book of `loans` loans (measured in
   * the same bench) by at most `maxRatio` (1.2: within 20%).
   */
  peakVs?: { loans: number; maxRatio: number };
}

const GIB = 2 ** 30;

/**
 * The targets of issue 17 on the project's 2-core machine, by book size
 * (loans): 1M loans end to end in at most 1.5 s and 1 GiB; 10M in at most
 * 20 s and 3 GiB; 30M with a peak within 20% of the 10M peak.
 */
export const SCALE_TARGETS: Readonly<Record<number, ScaleTarget>> = {
  1_000_000: { maxMs: 1_500, maxPeakBytes: 1 * GIB },
  10_000_000: { maxMs: 20_000, maxPeakBytes: 3 * GIB },
  30_000_000: { peakVs: { loans: 10_000_000, maxRatio: 1.2 } },
};

/** The sizes measured by default: those of the table. */
export const SCALE_SIZES: readonly number[] = [
  1_000_000,
  10_000_000,
  30_000_000,
];

/** One size measured and judged. */
export interface ScaleRow {
  /** Loans of the generated book. */
  loans: number;
  /** Rows the run computed (the book less its rejected rows). */
  computed: number;
  /** The cached book that was run. */
  portfolio: string;
  /** Wall-clock milliseconds of the run, start to rename (in the child). */
  totalMs: number;
  /** Milliseconds per step, from the run's manifest. */
  stepsMs: Record<string, number>;
  /**
   * Wall-clock milliseconds of the whole child process (Deno's start and
   * module loading included): what a scheduler's pod would take.
   */
  processMs: number;
  /** Peak resident memory of the child (`VmHWM`), bytes; null off Linux. */
  peakMemoryBytes: number | null;
  /** The target of this size, or null when the issue sets none. */
  target: ScaleTarget | null;
  /** This peak over the peak of `target.peakVs.loans`; null when not judged. */
  peakRatio: number | null;
  /** Each judged target: true met, false missed; absent when not judged. */
  checks: { time?: boolean; memory?: boolean; ratio?: boolean };
}

/** What {@link benchScale} measured. */
export interface ScaleResult {
  rows: ScaleRow[];
  /** True when every judged target was met (vacuously true when none was). */
  ok: boolean;
}

/** Options of {@link benchScale}. */
export interface ScaleOptions {
  /** Book sizes in loans, measured in this order. @default SCALE_SIZES */
  sizes?: readonly number[];
  /** Generator seed. @default 42 */
  seed?: number;
  /** Where the books are cached. @default the project's data/tmp/bench */
  dir?: string;
  /** Targets by size. @default SCALE_TARGETS */
  targets?: Readonly<Record<number, ScaleTarget>>;
  /** Write report.html (part of "end to end"). @default true */
  report?: boolean;
  /** Progress lines (one per size). */
  log?: (line: string) => void;
  /** Keep the generator's output off standard output. @default false */
  quiet?: boolean;
}

/** What the child `tasks/bench.ts --json` prints (the fields read here). */
interface ChildResult {
  loans: number;
  totalMs: number;
  stepsMs: Record<string, number>;
  peakMemoryBytes: number | null;
}

/**
 * Runs `portfolio` end to end in a child `tasks/bench.ts --json` and
 * returns what it measured, with the child's wall-clock time. Throws when
 * the child fails, naming its exit code.
 */
async function runChild(
  portfolio: string,
  report: boolean,
): Promise<ChildResult & { processMs: number }> {
  const script = fileURLToPath(new URL("../tasks/bench.ts", import.meta.url));
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      script,
      "--portfolio",
      portfolio,
      "--json",
      ...(report ? [] : ["--no-report"]),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const processMs = performance.now() - t0;
  if (out.code !== 0) {
    throw new Error(
      `The bench run of ${portfolio} failed: tasks/bench.ts exited with code ${out.code}`,
    );
  }
  const parsed = JSON.parse(new TextDecoder().decode(out.stdout));
  return { ...(parsed as ChildResult), processMs };
}

/**
 * Judges measured rows against `targets`: fills each row's `target`,
 * `peakRatio` and `checks`. A ratio target whose reference size was not
 * measured (or has no peak reading) is not judged.
 */
export function judge(
  rows: Omit<ScaleRow, "target" | "peakRatio" | "checks">[],
  targets: Readonly<Record<number, ScaleTarget>>,
): ScaleResult {
  const judged: ScaleRow[] = rows.map((r) => {
    const target = targets[r.loans] ?? null;
    const checks: ScaleRow["checks"] = {};
    let peakRatio: number | null = null;
    if (target?.maxMs !== undefined) checks.time = r.totalMs <= target.maxMs;
    if (target?.maxPeakBytes !== undefined && r.peakMemoryBytes !== null) {
      checks.memory = r.peakMemoryBytes <= target.maxPeakBytes;
    }
    if (target?.peakVs !== undefined && r.peakMemoryBytes !== null) {
      const ref = rows.find((o) => o.loans === target.peakVs!.loans);
      if (ref?.peakMemoryBytes) {
        peakRatio = r.peakMemoryBytes / ref.peakMemoryBytes;
        checks.ratio = peakRatio <= target.peakVs.maxRatio;
      }
    }
    return { ...r, target, peakRatio, checks };
  });
  const ok = judged.every((r) => Object.values(r.checks).every((c) => c));
  return { rows: judged, ok };
}

/**
 * Generates (once) and runs each book size in a child process of its own,
 * then judges the measurements against the targets.
 */
export async function benchScale(
  opts: ScaleOptions = {},
): Promise<ScaleResult> {
  const sizes = opts.sizes ?? SCALE_SIZES;
  const seed = opts.seed ?? 42;
  const measured = [];
  for (const loans of sizes) {
    opts.log?.(
      `${loans.toLocaleString("en-US")} loans: generating (cached) ...`,
    );
    const portfolio = await benchPortfolio({
      loans,
      seed,
      dir: opts.dir,
      quiet: opts.quiet,
    });
    opts.log?.(
      `${loans.toLocaleString("en-US")} loans: running end to end ...`,
    );
    const child = await runChild(portfolio, opts.report ?? true);
    measured.push({
      loans,
      computed: child.loans,
      portfolio,
      totalMs: child.totalMs,
      stepsMs: child.stepsMs,
      processMs: child.processMs,
      peakMemoryBytes: child.peakMemoryBytes,
    });
  }
  return judge(measured, opts.targets ?? SCALE_TARGETS);
}

/** `1M`, `10M`, `30M`, `2,000`: a book size as the issue writes it. */
export function bookLabel(loans: number): string {
  return loans >= 1_000_000 && loans % 1_000_000 === 0
    ? `${loans / 1_000_000}M loans`
    : `${loans.toLocaleString("en-US")} loans`;
}

const gib = (bytes: number) => `${(bytes / GIB).toFixed(2)} GiB`;

/** The target of a row in words: `<= 1.5 s, <= 1 GiB`. */
function targetText(t: ScaleTarget | null): string {
  if (t === null) return "–";
  const parts = [];
  if (t.maxMs !== undefined) parts.push(`<= ${t.maxMs / 1000} s`);
  if (t.maxPeakBytes !== undefined) {
    parts.push(`<= ${+(t.maxPeakBytes / GIB).toFixed(2)} GiB`);
  }
  if (t.peakVs !== undefined) {
    parts.push(
      `peak <= ${t.peakVs.maxRatio} x the ${
        bookLabel(t.peakVs.loans).replace(" loans", "")
      } peak`,
    );
  }
  return parts.join(", ");
}

/** `pass` / `FAIL` per judged check, `–` when nothing was judged. */
function verdict(r: ScaleRow): string {
  const names = { time: "time", memory: "memory", ratio: "ratio" } as const;
  const entries = Object.entries(r.checks) as [keyof typeof names, boolean][];
  if (entries.length === 0) return "–";
  return entries.map(([k, ok]) => `${names[k]} ${ok ? "pass" : "FAIL"}`)
    .join(", ");
}

/**
 * The table: book | measured time | peak memory | target |
 * result, then one line per peak ratio judged.
 */
export function scaleTable(result: ScaleResult): string {
  const lines = [table(
    ["book", "measured time", "peak memory", "target", "result"],
    result.rows.map((r) => [
      bookLabel(r.loans),
      `${(r.totalMs / 1000).toFixed(2)} s`,
      r.peakMemoryBytes === null ? "n/a" : gib(r.peakMemoryBytes),
      targetText(r.target),
      verdict(r),
    ]),
  )];
  for (const r of result.rows) {
    if (r.peakRatio === null) continue;
    lines.push(
      `peak of ${bookLabel(r.loans)} / peak of ${
        bookLabel(r.target!.peakVs!.loans)
      }: ${r.peakRatio.toFixed(3)} (target <= ${r.target!.peakVs!.maxRatio})`,
    );
  }
  return lines.join("\n");
}
