/**
 * `deno task generate`: writes quarterly snapshots of a synthetic retail and
 * SME book (see docs/generator.md).
 *
 * ```sh
 * deno task generate --loans 100000 --seed 42 --reporting-date 2025-12-31 \
 *   --periods 4 --out data/synthetic [--format parquet|csv] [--inject-broken 0.02]
 * ```
 *
 * Progress goes to stderr: a bar on a terminal, occasional plain lines
 * otherwise (logs of a batch scheduler). Exit codes: 0 written; 1 the book
 * could not be written; 2 a usage error (a flag the generator cannot take,
 * named in the message).
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
import { generatePortfolio, type GenerateProgress } from "../lib/mod.ts";

export const command = new TaskCommand({
  command: "deno task generate",
  synopsis:
    "--loans N --seed S --reporting-date YYYY-MM-DD [--periods P] --out DIR [--format parquet|csv] [--inject-broken SHARE] [--batch-size N]",
  flags: `  --loans N                    facilities in the first snapshot
  --seed S                     random seed; the same seed gives the same files
  --reporting-date YYYY-MM-DD  the first quarter-end
  --periods P                  quarterly snapshots (default 1)
  --out DIR                    where the snapshots are written
  --format parquet|csv         file format (default parquet)
  --inject-broken SHARE        share of rows to break, for validation (default 0)
  --batch-size N               loans generated per batch (default 250000)`,
  options: {
    loans: { type: "string" },
    seed: { type: "string" },
    "reporting-date": { type: "string" },
    periods: { type: "string" },
    out: { type: "string" },
    format: { type: "string" },
    "inject-broken": { type: "string" },
    "batch-size": { type: "string" },
  },
});

/** A progress reporter: redraws a bar on a TTY, else prints every ~10%. */
function progressReporter(): (p: GenerateProgress) => void {
  const tty = Deno.stderr.isTerminal();
  const enc = new TextEncoder();
  const start = performance.now();
  let lastDecile = -1;
  return ({ done, total, rows }) => {
    const frac = done / total;
    const secs = ((performance.now() - start) / 1000).toFixed(1);
    if (tty) {
      const width = 30;
      const filled = Math.round(frac * width);
      const bar = "#".repeat(filled) + "-".repeat(width - filled);
      Deno.stderr.writeSync(
        enc.encode(
          `\r[${bar}] ${(100 * frac).toFixed(0).padStart(3)}% ` +
            `${rows.toLocaleString("en")} rows ${secs}s${
              done === total ? "\n" : ""
            }`,
        ),
      );
    } else {
      const decile = Math.floor(frac * 10);
      if (decile !== lastDecile) {
        lastDecile = decile;
        console.error(
          `generate: ${
            (100 * frac).toFixed(0)
          }% (${done}/${total} batch-periods, ${rows} rows, ${secs}s)`,
        );
      }
    }
  };
}

/** Runs `deno task generate` with `args`; returns the exit code. */
export function main(args: string[]): Promise<number> {
  return command.run(args, async ({ values }) => {
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
    };
    let result;
    try {
      result = await generatePortfolio({
        ...options,
        onProgress: progressReporter(),
      });
    } catch (e) {
      // The generator checks its options' ranges before writing anything
      // and names the flag (`--periods 120 must be ...`).
      if (e instanceof RangeError) throw new UsageError(e.message);
      throw e;
    }
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
