/**
 * `deno task demo`: the README's first command. Runs the committed sample
 * book (two quarterly snapshots in `data/sample/`, generated here with a
 * fixed seed when the folder has none), printing for each reporting date
 * the data-quality summary and the ECL table by stage, and ends with the
 * movement between the two dates (IFRS 7 §35H reconciliation, written to
 * `data/runs/movement-sample/`) and the path of the latest run's report.
 *
 * The sample is clean (no injected breakage): a facility rejected in one
 * quarter and not the other would show in the movement analysis as
 * derecognised and new again. Validation of broken data is shown by the
 * validation notebook and `deno task generate --inject-broken`.
 *
 * The runs use `config/sample_rules.yaml`, the reference rules with the
 * choices a practitioner makes for this book (see that file).
 *
 * Each date converts its totals at that date's closing rates: the run
 * picks `fx_rates_<date>.yaml` (beside the portfolio, then in `config/`)
 * when there is one, as every run does, else `config/fx_rates.yaml`.
 *
 * Runs go to `data/runs/sample-<reporting date>/`, replacing the previous
 * demo run of the same date only once the new one is complete, so the demo
 * can be run again and again. The two run folders are what
 * `deno task movement` compares. Every path is the project's, whatever the
 * working directory.
 *
 * Exit codes: 0 done; otherwise those of the step that failed
 * (`lib/errors.ts`: 1 a failed check, 2 a usage or input error, 3 outputs
 * that cannot be written, 70 a bug); the demo takes no flags but `--help`.
 *
 * @module
 */
import { join } from "node:path";
import { TaskCommand } from "./_args.ts";
import {
  computeMovement,
  generatePortfolio,
  projectPath,
  readRunFolder,
  runPortfolio,
  snapshotFiles,
  walkBetween,
  walkTable,
  writeMovementOutputs,
} from "../lib/mod.ts";
import { allowanceTable } from "../lib/movement/mod.ts";
import {
  dataQualityTable,
  progressLine,
  stageTable,
  warningLine,
} from "../lib/run/mod.ts";

/** The sample book: 5,000 loans, two quarter-ends, fixed seed. */
const SAMPLE = {
  dir: projectPath("data/sample"),
  loans: 5_000,
  seed: 20250930,
  reportingDate: "2025-09-30",
  periods: 2,
} as const;
const OUT = projectPath("data/runs");
/**
 * The sample book's rules: the reference configuration plus a declining PD
 * shape for mortgages, reversion of the scenario adjustments and recovery
 * lags for secured products (each figure's source is in the file).
 */
const SAMPLE_RULES = projectPath("config/sample_rules.yaml");

export const command = new TaskCommand({
  command: "deno task demo",
  synopsis: "",
  options: {},
});

/** Runs `deno task demo` with `args`; returns the exit code. */
export function main(args: string[]): Promise<number> {
  return command.run(args, async () => {
    let files = await snapshotFiles(SAMPLE.dir);
    if (files.length === 0) {
      console.log(
        `No sample portfolio in ${SAMPLE.dir}: generating ${SAMPLE.loans} loans, ${SAMPLE.periods} quarters (seed ${SAMPLE.seed})`,
      );
      await generatePortfolio({
        loans: SAMPLE.loans,
        seed: SAMPLE.seed,
        reportingDate: SAMPLE.reportingDate,
        periods: SAMPLE.periods,
        out: SAMPLE.dir,
        format: "parquet",
        // The sample's own files (an FX table left without its snapshot).
        replace: true,
      });
      files = await snapshotFiles(SAMPLE.dir);
    }

    const dirs: string[] = [];
    let report = "";
    for (const portfolio of files) {
      const date = portfolio.match(/(\d{4}-\d{2}-\d{2})/)![1];
      console.log(`\n== ${portfolio} ==`);
      const progress = progressLine();
      const run = await runPortfolio({
        portfolio,
        rules: SAMPLE_RULES,
        out: OUT,
        runId: `sample-${date}`,
        replace: true,
        onStep: progress.step,
        onProgress: progress.update,
      });
      progress.done();
      console.log(dataQualityTable(run.dataQuality));
      console.log();
      console.log(stageTable(run.summary));
      for (const w of run.manifest.warnings) console.log(warningLine(w));
      console.log(`\nrun folder: ${run.dir}`);
      dirs.push(run.dir);
      report = join(run.dir, "report.html");
    }
    if (dirs.length >= 2) {
      // Movement between the last two dates (IFRS 7 §35H-§35I) and its
      // ECL walk, the same computation as `deno task movement`.
      const [from, to] = await Promise.all(
        dirs.slice(-2).map((d) => readRunFolder(d)),
      );
      const { movement, facilities } = await computeMovement(from, to);
      // And the ECL walk by driver, as `deno task movement` computes it.
      const { walk, skipped } = await walkBetween(from, to);
      const files = await writeMovementOutputs(
        movement,
        facilities,
        join(OUT, "movement-sample"),
        { walk, walkSkipped: skipped },
      );
      console.log(`\n${allowanceTable(movement)}`);
      if (walk !== null) console.log(`\n${walkTable(walk)}`);
      for (const w of movement.warnings) console.log(warningLine(w));
      if (skipped !== null) {
        console.log(warningLine(`ECL walk skipped: ${skipped}`));
      }
      console.log(`Movement: ${files.html}`);
    }
    console.log(`\nReport: ${report}`);
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
