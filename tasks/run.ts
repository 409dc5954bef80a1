/**
 * `deno task run`: one ECL run from a portfolio file to a run folder.
 *
 * ```sh
 * deno task run --portfolio data/sample/portfolio_2025-12-31.parquet \
 *   --rules config/ifrs9_rules.yaml --out data/runs [--run-id ID] [--fx PATH]
 * ```
 *
 * Prints the run folder's path on success. On error prints one message and
 * exits 1 (2 for a usage error); see `lib/run/run.ts` for which errors leave
 * a `<run_id>.failed` folder.
 *
 * @module
 */
import { TaskCli } from "./_args.ts";
import { DEFAULT_FX, DEFAULT_RULES, runPortfolio } from "../lib/run/run.ts";
import {
  dataQualityTable,
  errorMessage,
  progressLine,
  stageTable,
  warningLine,
} from "../lib/run/console.ts";

const USAGE = `Usage: deno task run --portfolio PATH [--rules PATH] [--fx PATH]
                     [--out DIR] [--run-id ID] [--replace] [--no-report]
                     [--batch-size N] [--chunk-size N] [--quiet]

  --portfolio PATH  portfolio file (.csv, .parquet, .arrow/.ipc)
  --rules PATH      rules file (default ${DEFAULT_RULES})
  --fx PATH         FX table (default ${DEFAULT_FX})
  --out DIR         where the run folder is created (default data/runs)
  --run-id ID       run folder name (default run-<UTC timestamp>)
  --replace         replace a complete run of the same id once this one completes
  --no-report       skip report.html
  --batch-size N    loans per engine batch
  --chunk-size N    loans staged, computed and written per chunk (default 1000000)
  --quiet           print only the run folder path`;

const cli: TaskCli = new TaskCli(USAGE);
const args = cli.parse({
  portfolio: { type: "string" },
  rules: { type: "string", default: DEFAULT_RULES },
  fx: { type: "string", default: DEFAULT_FX },
  out: { type: "string", default: "data/runs" },
  "run-id": { type: "string" },
  replace: { type: "boolean", default: false },
  "no-report": { type: "boolean", default: false },
  "batch-size": { type: "string" },
  "chunk-size": { type: "string" },
  quiet: { type: "boolean", default: false },
});
if (!args.portfolio) cli.fail("--portfolio is required");
const batchSize = cli.wholeNumber("batch-size", args["batch-size"]);
const chunkSize = cli.wholeNumber("chunk-size", args["chunk-size"]);

const progress = progressLine();
try {
  const run = await runPortfolio({
    portfolio: args.portfolio,
    rules: args.rules,
    fx: args.fx,
    out: args.out!,
    runId: args["run-id"],
    replace: args.replace,
    report: !args["no-report"],
    batchSize,
    chunkSize,
    onStep: progress.step,
    onProgress: progress.update,
  });
  progress.done();
  if (!args.quiet) {
    console.log(dataQualityTable(run.dataQuality));
    console.log();
    console.log(stageTable(run.summary));
    console.log();
  }
  for (const w of run.manifest.warnings) console.error(warningLine(w));
  console.log(run.dir);
} catch (e) {
  progress.done();
  console.error(errorMessage(e));
  Deno.exit(1);
}
