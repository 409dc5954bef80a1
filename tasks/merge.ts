/**
 * `deno task merge --runs DIR... --out DIR [--run-id ID] [--replace]`:
 * merges the part folders of a partitioned run (`deno task run
 * --partition K/N`) into one ordinary run folder `<out>/<run-id>/`,
 * exactly (docs/partitions.md): loan results, carrying amounts and
 * rejected rows concatenated, data-quality counts added, the summary
 * from the parts' exact partial sums, report and manifest naming the
 * parts. Prints the merged folder's path.
 *
 * Exit codes (lib/errors.ts): 0 done; 1 the whole book's reject rate is
 * above `validation.max_reject_rate` (the merged folder is set aside as
 * `<run-id>.failed`) or a figure is not finite; 2 a usage error, a folder
 * that is not a complete part, parts that do not belong together (another
 * N, portfolio, rules, FX table, reporting date or code), a part given
 * twice or missing, a rules file or FX table that is not the parts'; 3
 * the folder cannot be written; 4 another process writes the same run id.
 *
 * @module
 */
import { TaskCommand, UsageError } from "./_args.ts";
import { mergeRuns } from "../lib/merge/mod.ts";
import { checkOutputDir } from "../lib/run_folder/mod.ts";
import {
  dataQualityTable,
  progressLine,
  stageTable,
  warningLine,
} from "../lib/run/mod.ts";

export const command = new TaskCommand({
  command: "deno task merge",
  synopsis:
    "--runs DIR [DIR...] --out DIR [--run-id ID] [--replace] [--rules PATH] [--fx PATH] [--no-report] [--quiet]",
  flags:
    `  --runs DIR...     the part folders (<run-id>.part-K-of-N), every K from 0 to N-1 once;
                    several after one --runs, or --runs repeated
  --out DIR         where the merged run folder is created
  --run-id ID       the merged run's id (default: the parts' merged run id)
  --replace         replace a complete run of the same id once the merge completes
  --rules PATH      the parts' rules file, if it has moved (checked by SHA-256)
  --fx PATH         the parts' FX table, if it has moved (checked by SHA-256)
  --no-report       skip report.html
  --quiet           print only the merged run folder's path`,
  options: {
    runs: { type: "string", multiple: true },
    out: { type: "string" },
    "run-id": { type: "string" },
    replace: { type: "boolean", default: false },
    rules: { type: "string" },
    fx: { type: "string" },
    "no-report": { type: "boolean", default: false },
    quiet: { type: "boolean", default: false },
  },
  positionals: true,
  required: ["runs", "out"],
});

/** Runs `deno task merge` with `args`; returns the exit code. */
export function main(args: string[]): Promise<number> {
  return command.run(args, async ({ values, positionals }) => {
    // `--runs a b c`: the folders after the first are positionals.
    const runs = [...(values.runs ?? []), ...positionals];
    if (runs.length === 0 || values.out === undefined) {
      throw new UsageError("--runs DIR... and --out DIR are required");
    }
    await checkOutputDir(values.out);
    const progress = progressLine();
    try {
      const merged = await mergeRuns({
        runs,
        out: values.out,
        runId: values["run-id"],
        replace: values.replace,
        rules: values.rules,
        fx: values.fx,
        report: !values["no-report"],
        onStep: progress.step,
      });
      progress.done();
      if (!values.quiet) {
        console.log(dataQualityTable(merged.dataQuality));
        console.log();
        console.log(stageTable(merged.summary));
        console.log();
      }
      for (const w of merged.manifest.warnings) console.error(warningLine(w));
      console.log(merged.dir);
      return 0;
    } catch (e) {
      progress.done();
      throw e;
    }
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
