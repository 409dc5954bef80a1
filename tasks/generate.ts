/**
 * `deno task generate`: writes quarterly snapshots of a synthetic retail and
 * SME book (see docs/generator.md).
 *
 * ```sh
 * deno task generate --loans 100000 --seed 42 --reporting-date 2025-12-31 \
 *   --periods 4 --out data/synthetic [--format parquet|csv] [--inject-broken 0.02] [--replace]
 * ```
 *
 * The seed is a whole number from 0 to 4294967295 (`MAX_SEED`); the
 * reporting dates, first and last, are within 1950-01-01..2199-12-31
 * (`GENERATE_DATES`, `lib/generate/generate.ts`). A file the generation
 * writes (`portfolio_<date>.*`, `fx_rates_<date>.yaml`,
 * `injected_<date>.json`) that is already in DIR is refused, naming it,
 * unless `--replace`; other files in DIR are left alone.
 *
 * Progress goes to stderr: a bar on a terminal, occasional plain lines
 * otherwise (logs of a batch scheduler). Exit codes (`lib/errors.ts`): 0
 * written; 2 a usage error (a flag the generator cannot take, named in the
 * message; an --out that is a file, under a file, where no folder can be
 * created, or inside a run folder; a file of the book already there
 * without --replace: checked before anything is generated); 3 the book
 * could not be written; 4 another generation writes into DIR; 70 a bug.
 *
 * @module
 */
import {
  isoDate,
  number,
  oneOf,
  required,
  TaskCommand,
  UsageError,
  wholeNumber,
} from "./_args.ts";
import { generatePortfolio } from "../lib/mod.ts";
import { GENERATE_DATES, MAX_SEED } from "../lib/generate/mod.ts";
import { progressLine } from "../lib/run/mod.ts";

export const command = new TaskCommand({
  command: "deno task generate",
  synopsis:
    "--loans N [--seed S] --reporting-date YYYY-MM-DD [--periods P] --out DIR [--format parquet|csv] [--inject-broken SHARE] [--batch-size N] [--replace]",
  flags: `  --loans N                    facilities in the first snapshot
  --seed S                     random seed, 0 to ${MAX_SEED}; the same seed gives the
                               same files (default 42)
  --reporting-date YYYY-MM-DD  the first quarter-end; every snapshot's date within
                               ${GENERATE_DATES.first}..${GENERATE_DATES.last}
  --periods P                  quarterly snapshots (default 1)
  --out DIR                    where the snapshots are written
  --format parquet|csv         file format (default parquet)
  --inject-broken SHARE        share of rows to break, for validation (default 0)
  --batch-size N               loans generated per batch (default 250000)
  --replace                    replace files of the same names already in DIR
                               (without it they are refused, named)`,
  options: {
    loans: { type: "string" },
    seed: { type: "string", default: "42" },
    "reporting-date": { type: "string" },
    periods: { type: "string" },
    out: { type: "string" },
    format: { type: "string" },
    "inject-broken": { type: "string" },
    "batch-size": { type: "string" },
    replace: { type: "boolean", default: false },
  },
  required: ["loans", "reporting-date", "out"],
});

/** Runs `deno task generate` with `args`; returns the exit code. */
export function main(args: string[]): Promise<number> {
  return command.run(args, async ({ values }) => {
    // The parser has refused a missing flag already; this names the types.
    const flags = required(values, "loans", "seed", "reporting-date", "out");
    const options = {
      loans: wholeNumber("loans", flags.loans)!,
      seed: number("seed", flags.seed, { whole: true })!,
      reportingDate: isoDate("reporting-date", flags["reporting-date"])!,
      periods: wholeNumber("periods", values.periods),
      out: flags.out,
      format: oneOf("format", values.format, ["parquet", "csv"]),
      injectBroken: number("inject-broken", values["inject-broken"], {
        min: 0,
      }),
      batchSize: wholeNumber("batch-size", values["batch-size"]),
      replace: values.replace,
    };
    // The same progress line as a run: batch-periods done of the total.
    const progress = progressLine(Deno.stderr, {
      activity: "generating",
      unit: "batch-periods",
    });
    const start = performance.now();
    let result;
    try {
      result = await generatePortfolio({
        ...options,
        onProgress: ({ done, total }) =>
          progress.update({
            loansDone: done,
            loansTotal: total,
            elapsedMs: performance.now() - start,
          }),
      });
    } catch (e) {
      progress.done();
      // The generator checks its options' ranges before writing anything
      // and names the flag (`--periods 120 must be ...`).
      if (e instanceof RangeError) throw new UsageError(e.message);
      throw e;
    }
    progress.done();
    for (const s of result.snapshots) {
      console.log(
        `${s.path}: ${s.rows} rows` +
          (s.injectedPath
            ? `, ${s.injectedRows} broken (${s.injectedPath})`
            : ""),
      );
    }
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
