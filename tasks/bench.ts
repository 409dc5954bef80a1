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
 * @module
 */
import { TaskCli } from "./_args.ts";
import {
  benchGenerate,
  benchPortfolio,
  benchRun,
} from "../bench/end_to_end.ts";
import { DEFAULT_FX, DEFAULT_RULES } from "../lib/run/run.ts";
import { benchMovement } from "../bench/movement.ts";
import { errorMessage, progressLine, table } from "../lib/run/console.ts";
import { defaultRunId } from "../lib/run/folder.ts";

const USAGE = `Usage: deno task bench [--loans N | --portfolio PATH] [--seed S]
                       [--rules PATH] [--fx PATH] [--batch-size N] [--chunk-size N]
                       [--no-report] [--keep] [--json]
       deno task bench --generate [--loans N] [--periods P] [--seed S]
       deno task bench --movement [--loans N] [--seed S] [--json]

  --loans N         generate a portfolio of N loans (default 100000)
  --portfolio PATH  run this portfolio instead of generating one
  --seed S          generator seed (default 42)
  --no-report       skip report.html
  --keep            keep the run folder (data/tmp/bench/runs/<id>)
  --json            print the measurements as JSON
  --generate        measure the generator (in this process) instead of a run
  --periods P       quarterly snapshots to generate with --generate (default 1)
  --movement        measure the movement between the two quarter-end runs of a
                    generated book (book and runs made once, in child processes)`;

const cli: TaskCli = new TaskCli(USAGE);
const args = cli.parse({
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
});
const loans = cli.wholeNumber("loans", args.loans)!;
const seed = cli.wholeNumber("seed", args.seed)!;
const batchSize = cli.wholeNumber("batch-size", args["batch-size"]);
const chunkSize = cli.wholeNumber("chunk-size", args["chunk-size"]);

const gb = (bytes: number | null) =>
  bytes === null ? "n/a" : `${(bytes / 2 ** 30).toFixed(2)} GiB`;

if (args.generate) {
  const periods = cli.wholeNumber("periods", args.periods)!;
  const g = await benchGenerate({ loans, seed, periods });
  if (args.json) console.log(JSON.stringify(g, null, 2));
  else {
    console.log(
      `generate: ${
        loans.toLocaleString("en-US")
      } loans, ${periods} period(s): ` +
        `${g.rows.toLocaleString("en-US")} rows, ${
          (g.bytes / 2 ** 20).toFixed(1)
        } MiB on disk, ${(g.totalMs / 1000).toFixed(2)} s, ` +
        `peak memory (VmHWM) ${gb(g.peakMemoryBytes)}`,
    );
  }
  Deno.exit(0);
}

if (args.movement) {
  try {
    const m = await benchMovement({ loans, seed });
    if (args.json) console.log(JSON.stringify(m, null, 2));
    else {
      const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
      console.log(
        `movement: ${m.loans.from.toLocaleString("en-US")} -> ${
          m.loans.to.toLocaleString("en-US")
        } loans (${m.facilities.toLocaleString("en-US")} facilities): ` +
          `read ${s(m.readMs)}, compute ${s(m.computeMs)}, write ${
            s(m.writeMs)
          }, total ${s(m.totalMs)}, peak memory (VmHWM) ${
            gb(m.peakMemoryBytes)
          }`,
      );
      console.log(m.out);
    }
  } catch (e) {
    console.error(errorMessage(e));
    Deno.exit(1);
  }
  Deno.exit(0);
}

try {
  const portfolio = args.portfolio ?? await benchPortfolio({ loans, seed });
  const out = "data/tmp/bench/runs";
  const progress = progressLine();
  const result = await benchRun({
    portfolio,
    rules: args.rules,
    fx: args.fx,
    out,
    runId: `bench-${defaultRunId().slice(4)}`,
    report: !args["no-report"],
    batchSize,
    chunkSize,
    onStep: progress.step,
    onProgress: progress.update,
  });
  progress.done();
  if (!args.keep) await Deno.remove(result.dir, { recursive: true });
  if (args.json) {
    console.log(JSON.stringify({ portfolio, ...result }, null, 2));
  } else {
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
    if (args.keep) console.log(result.dir);
  }
} catch (e) {
  console.error(errorMessage(e));
  Deno.exit(1);
}
