/**
 * `deno task validate --portfolio PATH --rules PATH --out DIR
 * [--reporting-date YYYY-MM-DD]`: reads a portfolio (CSV, Parquet or Arrow
 * IPC), checks every row against methodology §1 and writes `valid.parquet`,
 * `rejected.parquet` and `data_quality.json` into DIR.
 *
 * Exit codes: 0 passed; 1 the rejected share is above the rules file's
 * `validation.max_reject_rate` (the outputs are written), or the portfolio
 * or the rules file cannot be used; 2 a usage error.
 *
 * @module
 */
import { join } from "node:path";
import { isoDate, required, TaskCommand } from "./_args.ts";
import {
  loadRules,
  RejectRateError,
  scanPortfolio,
  validatePortfolio,
  writeValidationOutputs,
} from "../lib/mod.ts";

export const command = new TaskCommand({
  command: "deno task validate",
  synopsis:
    "--portfolio PATH --rules PATH --out DIR [--reporting-date YYYY-MM-DD]",
  flags:
    `  --portfolio PATH             portfolio file (.csv, .parquet, .arrow/.ipc)
  --rules PATH                 rules file
  --out DIR                    folder for valid.parquet, rejected.parquet, data_quality.json
  --reporting-date YYYY-MM-DD  the book's reporting date (default: read from the file)`,
  options: {
    portfolio: { type: "string" },
    rules: { type: "string" },
    out: { type: "string" },
    "reporting-date": { type: "string" },
  },
  required: ["portfolio", "rules", "out"],
});

/** Runs `deno task validate` with `args`; returns the exit code. */
export function main(args: string[]): Promise<number> {
  return command.run(args, async ({ values }) => {
    const { portfolio, rules: rulesFile, out } = required(
      values,
      "portfolio",
      "rules",
      "out",
    );
    const reportingDate = isoDate("reporting-date", values["reporting-date"]);
    const rules = await loadRules(rulesFile);
    const started = performance.now();
    const result = await validatePortfolio(scanPortfolio(portfolio), rules, {
      file: portfolio,
      reportingDate,
    });
    const seconds = (performance.now() - started) / 1000;
    const r = result.report;
    console.log(
      `${portfolio}: ${r.rows_read} rows read, ${r.rows_valid} valid, ${r.rows_rejected} rejected (${
        (100 * r.reject_rate).toFixed(2)
      }%), reporting date ${r.reporting_date ?? "unknown"}, ${
        seconds.toFixed(2)
      } s`,
    );
    for (const rule of r.rules.filter((x) => x.rows_failed > 0)) {
      console.log(
        `  ${rule.code}: ${rule.rows_failed} of ${rule.rows_checked} (e.g. ${
          rule.examples.join(", ")
        })`,
      );
    }
    for (const w of r.warnings) console.log(`  warning: ${w}`);
    try {
      await writeValidationOutputs(result, out);
    } catch (e) {
      if (!(e instanceof RejectRateError)) throw e;
      console.error(`${e.message}; outputs written to ${out}`);
      return 1;
    }
    console.log(
      `wrote ${
        join(out, "valid.parquet")
      }, rejected.parquet, data_quality.json`,
    );
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
