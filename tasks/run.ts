/**
 * `deno task run`: one ECL run from a portfolio file to a run folder.
 *
 * ```sh
 * deno task run --portfolio data/sample/portfolio_2025-12-31.parquet \
 *   --rules config/ifrs9_rules.yaml --out data/runs [--run-id ID] [--fx PATH]
 * ```
 *
 * Prints the run folder's path on success. Exit codes (`lib/errors.ts`):
 * 0 done; 1 the book failed a check (reject rate, a non-finite figure);
 * 2 a usage error or an input that cannot be used (portfolio, rules, FX
 * table, run id, an --out that is not a folder the run can write in, or
 * is a run folder or inside one); 3 the run folder cannot be written;
 * 4 another process writes the same run id; 70 a bug. One message each;
 * see `lib/run/run.ts` for which failures leave a `<run_id>.failed`
 * folder.
 *
 * @module
 */
import { required, TaskCommand, wholeNumber } from "./_args.ts";
import { projectPath, runPortfolio } from "../lib/mod.ts";
import { checkOutputDir } from "../lib/run_folder/mod.ts";
import {
  dataQualityTable,
  parsePartition,
  progressLine,
  stageTable,
  warningLine,
} from "../lib/run/mod.ts";

export const command = new TaskCommand({
  command: "deno task run",
  synopsis:
    "--portfolio PATH [--rules PATH] [--fx PATH] [--out DIR] [--run-id ID] [--replace] [--no-report] [--compare RUN_DIR] [--batch-size N] [--chunk-size N] [--max-rows N] [--max-bytes N] [--partition K/N|env/N] [--quiet]",
  flags: `  --portfolio PATH  portfolio file (.csv, .parquet, .arrow/.ipc)
  --rules PATH      rules file (default: the project's config/ifrs9_rules.yaml)
  --fx PATH         FX table (default: fx_rates_<reporting date>.yaml beside the
                    portfolio, else in the project's config/, else
                    config/fx_rates.yaml)
  --out DIR         where the run folder is created (default the project's data/runs);
                    every PATH and DIR may be an s3://bucket/key URL (docs/storage.md)
  --run-id ID       run folder name (default <file stem>-<reporting date>; the stem alone when it holds the date)
  --replace         replace a complete run of the same id once this one completes
  --no-report       skip report.html
  --compare RUN_DIR the run the report compares with (default: the latest
                    complete run of the same book in --out, see
                    lib/report/compare.ts)
  --batch-size N    loans per engine batch (default 200000)
  --chunk-size N    loans staged, computed and written per chunk (default 1000000)
  --max-rows N      refuse a portfolio of more than N rows (untrusted input; default no limit)
  --max-bytes N     refuse a portfolio file larger than N bytes (default no limit)
  --partition K/N   compute part K (0-based) of N: the loans whose loan_id hashes to K,
                    or the K-th file of a --portfolio folder; env/N takes K from
                    JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX or CLOUD_RUN_TASK_INDEX;
                    writes <run-id>.part-K-of-N for deno task merge (docs/partitions.md)
  --quiet           print only the run folder path`,
  options: {
    portfolio: { type: "string" },
    rules: { type: "string" },
    fx: { type: "string" },
    out: { type: "string", default: projectPath("data/runs") },
    "run-id": { type: "string" },
    replace: { type: "boolean", default: false },
    "no-report": { type: "boolean", default: false },
    compare: { type: "string" },
    "batch-size": { type: "string" },
    "chunk-size": { type: "string" },
    "max-rows": { type: "string" },
    "max-bytes": { type: "string" },
    partition: { type: "string" },
    quiet: { type: "boolean", default: false },
  },
  required: ["portfolio"],
});

/** Runs `deno task run` with `args`; returns the exit code. */
export function main(args: string[]): Promise<number> {
  return command.run(args, async ({ values }) => {
    const { portfolio } = required(values, "portfolio");
    const batchSize = wholeNumber("batch-size", values["batch-size"]);
    const chunkSize = wholeNumber("chunk-size", values["chunk-size"]);
    const maxRows = wholeNumber("max-rows", values["max-rows"]);
    const maxBytes = wholeNumber("max-bytes", values["max-bytes"]);
    const partition = values.partition === undefined
      ? undefined
      : parsePartition(values.partition);
    // Where the run folder goes is checked before anything is read (and
    // again by openRunFolder, for callers of the library).
    await checkOutputDir(values.out);
    const progress = progressLine();
    try {
      const run = await runPortfolio({
        portfolio,
        rules: values.rules,
        fx: values.fx,
        out: values.out,
        runId: values["run-id"],
        replace: values.replace,
        report: !values["no-report"],
        compare: values.compare,
        batchSize,
        chunkSize,
        maxRows,
        maxBytes,
        partition,
        onStep: progress.step,
        onProgress: progress.update,
      });
      progress.done();
      if (!values.quiet) {
        console.log(dataQualityTable(run.dataQuality));
        console.log();
        console.log(stageTable(run.summary));
        console.log();
      }
      for (const w of run.manifest.warnings) console.error(warningLine(w));
      console.log(run.dir);
      return 0;
    } catch (e) {
      progress.done();
      throw e;
    }
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
