/**
 * `deno task bench`: one run, in this process, measured: per-step times,
 * loans per second and peak memory (`VmHWM`); or the generator, or the
 * movement between two runs.
 *
 * ```sh
 * deno task bench --loans 1000000          # generates (once) then runs
 * deno task bench --portfolio book.parquet # runs a given portfolio
 * deno task bench --generate --loans 1000000  # measures the generator instead
 * deno task bench --movement --loans 1000000  # measures the movement between two runs
 * ```
 *
 * A generated portfolio is cached under `data/tmp/bench/` and made in a
 * child process, so its memory is not counted. The run folder is written
 * under `data/tmp/bench/runs/` (part of the time measured) and removed
 * afterwards unless `--keep`.
 *
 * Exit codes: 0 measured; otherwise those of the run measured
 * (`lib/errors.ts`: 1 a failed check, 2 a usage or input error, 3 outputs
 * that cannot be written, 70 a bug).
 *
 * @module
 */
import { number, TaskCommand, wholeNumber } from "./_args.ts";
import {
  benchGenerate,
  benchPortfolio,
  benchRun,
} from "../bench/end_to_end.ts";
import {
  DEFAULT_FX,
  DEFAULT_RULES,
  progressLine,
  table,
} from "../lib/run/mod.ts";
import { benchMovement } from "../bench/movement.ts";
import { defaultRunId } from "../lib/run_folder/mod.ts";
import { projectPath } from "../lib/mod.ts";

export const command = new TaskCommand({
  command: "deno task bench",
  synopsis:
    "[--loans N | --portfolio PATH] [--seed S] [--rules PATH] [--fx PATH] [--batch-size N] [--chunk-size N] [--no-report] [--keep] [--json] | --generate [--loans N] [--periods P] [--seed S] | --movement [--loans N] [--seed S] [--json]",
  flags: `  --loans N         generate a portfolio of N loans (default 100000)
  --portfolio PATH  run this portfolio instead of generating one
  --seed S          generator seed (default 42)
  --rules PATH      rules file (default: the project's config/ifrs9_rules.yaml)
  --fx PATH         FX table (default: the project's config/fx_rates.yaml)
  --batch-size N    loans per engine batch (default 200000)
  --chunk-size N    loans staged, computed and written per chunk (default 1000000)
  --no-report       skip report.html
  --keep            keep the run folder (data/tmp/bench/runs/<id>)
  --json            print the measurements as JSON
  --generate        measure the generator (in this process) instead of a run
  --periods P       quarterly snapshots to generate with --generate (default 1)
  --movement        measure the movement between the two quarter-end runs of a
                    generated book (book and runs made once, in child processes)`,
  options: {
    loans: { type: "string", default: "100000" },
    portfolio: { type: "string" },
    seed: { type: "string", default: "42" },
    rules: { type: "string", default: DEFAULT_RULES },
    fx: { type: "string", default: DEFAULT_FX },
    "batch-size": { type: "string" },
    "chunk-size": { type: "string" },
    "no-report": { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    generate: { type: "boolean", default: false },
    periods: { type: "string", default: "1" },
    movement: { type: "boolean", default: false },
  },
});

const gb = (bytes: number | null) =>
  bytes === null ? "n/a" : `${(bytes / 2 ** 30).toFixed(2)} GiB`;

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Runs `deno task bench` with `args`; returns the exit code. */
export function main(args: string[]): Promise<number> {
  return command.run(args, async ({ values }) => {
    const loans = wholeNumber("loans", values.loans)!;
    const seed = number("seed", values.seed, { whole: true })!;
    const batchSize = wholeNumber("batch-size", values["batch-size"]);
    const chunkSize = wholeNumber("chunk-size", values["chunk-size"]);
    if (values.generate) {
      const periods = wholeNumber("periods", values.periods)!;
      const g = await benchGenerate({ loans, seed, periods });
      if (values.json) console.log(JSON.stringify(g, null, 2));
      else {
        console.log(
          `generate: ${
            loans.toLocaleString("en-US")
          } loans, ${periods} period(s): ` +
            `${g.rows.toLocaleString("en-US")} rows, ${
              (g.bytes / 2 ** 20).toFixed(1)
            } MiB on disk, ${seconds(g.totalMs)}, ` +
            `peak memory (VmHWM) ${gb(g.peakMemoryBytes)}`,
        );
      }
      return 0;
    }
    if (values.movement) {
      const m = await benchMovement({ loans, seed });
      if (values.json) console.log(JSON.stringify(m, null, 2));
      else {
        console.log(
          `movement: ${m.loans.from.toLocaleString("en-US")} -> ${
            m.loans.to.toLocaleString("en-US")
          } loans (${m.facilities.toLocaleString("en-US")} facilities): ` +
            `read ${seconds(m.readMs)}, compute ${
              seconds(m.computeMs)
            }, write ${seconds(m.writeMs)}, total ${
              seconds(m.totalMs)
            }, peak memory (VmHWM) ${gb(m.peakMemoryBytes)}`,
        );
        console.log(m.out);
      }
      return 0;
    }
    const portfolio = values.portfolio ?? await benchPortfolio({ loans, seed });
    const progress = progressLine();
    let result;
    try {
      result = await benchRun({
        portfolio,
        rules: values.rules,
        fx: values.fx,
        out: projectPath("data/tmp/bench/runs"),
        runId: `bench-${defaultRunId().slice(4)}`,
        report: !values["no-report"],
        batchSize,
        chunkSize,
        onStep: progress.step,
        onProgress: progress.update,
      });
    } finally {
      progress.done();
    }
    if (!values.keep) await Deno.remove(result.dir, { recursive: true });
    if (values.json) {
      console.log(JSON.stringify({ portfolio, ...result }, null, 2));
      return 0;
    }
    console.log(
      `Bench of ${portfolio}: ${result.loans.toLocaleString("en-US")} loans`,
    );
    console.log(table(
      ["step", "ms", "peak memory after"],
      [
        ...Object.entries(result.stepsMs).map(([k, v]) => [
          k,
          v.toFixed(0),
          gb(result.peakMemoryByStep[k] ?? null),
        ]),
        ["total (end to end)", result.totalMs.toFixed(0), ""],
      ],
    ));
    console.log(
      `${Math.round(result.loansPerSecond).toLocaleString("en-US")} loans/s; ` +
        `peak memory (VmHWM) ${gb(result.peakMemoryBytes)}`,
    );
    if (values.keep) console.log(result.dir);
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
