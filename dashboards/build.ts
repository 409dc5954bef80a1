/**
 * Builds the trend dashboard over run folders, and optionally the star
 * schema export for Power BI / BigQuery:
 *
 * ```sh
 * deno run -A dashboards/build.ts --runs data/runs/2025-12-31 data/runs/2026-03-31 \
 *   --out data/reports/dashboard.html [--movement DIR]... [--star DIR]
 * ```
 *
 * The run folders are the arguments after `--runs` (and any other argument
 * that is not a flag); movement folders between consecutive runs are found
 * beside them or named with `--movement` (see dashboards/README.md). Only
 * complete runs are read: a `.failed` or hidden staging folder, a folder
 * without `manifest.json` or whose manifest is not `complete`, a run
 * without facilities or reporting date is refused, naming the folder.
 * `--out` and `--star` are checked before any run is read (`--out` not a
 * folder, `--star` a new folder or an earlier export; neither inside a
 * run folder); both are written whole or not at all.
 *
 * Exit codes (lib/errors.ts): 0 built; 2 a usage error, an output path
 * refused, or a run folder that cannot be read or is not a complete run;
 * 3 the outputs cannot be written (disk full, no permission), nothing
 * half-written left under their names; 4 another live process is writing
 * the --star folder.
 *
 * @module
 */
import { required, TaskCommand, UsageError } from "../tasks/_args.ts";
import { exportStarSchema, writeDashboard } from "../lib/mod.ts";
import { warningLine } from "../lib/run/mod.ts";
import { STAR_FILES } from "../lib/report/mod.ts";
import { checkOutputFile, checkOutputFolder } from "../lib/run_folder/mod.ts";

export const command = new TaskCommand({
  command: "deno run -A dashboards/build.ts",
  synopsis: "--runs RUN_DIR... --out FILE [--movement DIR]... [--star DIR]",
  flags: `  --runs RUN_DIR...  run folders, oldest first
  --out FILE         the dashboard's HTML file
  --movement DIR     a movement folder (deno task movement --out) between two
                     consecutive runs, for the allowance walk; repeat for more
                     (default: those found beside the run folders)
  --star DIR         also write the star schema (Power BI / BigQuery) here`,
  options: {
    runs: { type: "string", multiple: true },
    out: { type: "string" },
    movement: { type: "string", multiple: true },
    star: { type: "string" },
  },
  positionals: true,
  required: ["out"],
});

/** Builds the dashboard for `args`; returns the exit code. */
export function main(args: string[]): Promise<number> {
  return command.run(args, async ({ values, positionals }) => {
    const runs = [...values.runs ?? [], ...positionals];
    if (runs.length === 0) {
      throw new UsageError("--runs needs at least one run folder");
    }
    const { out } = required(values, "out");
    const inputs = [...runs, ...values.movement ?? []];
    await checkOutputFile(out, { inputs });
    if (values.star) {
      await checkOutputFolder(values.star, STAR_FILES, { inputs });
    }
    console.log(
      await writeDashboard(runs, out, {
        movements: values.movement,
        onWarning: (w) => console.error(warningLine(w)),
      }),
    );
    if (values.star) {
      const result = await exportStarSchema(runs, values.star);
      console.log(
        `star schema in ${result.outDir}: ${
          Object.entries(result.rows).map(([t, n]) => `${t} ${n}`).join(", ")
        }`,
      );
    }
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
