/**
 * `deno task validate --portfolio PATH --rules PATH --out DIR
 * [--reporting-date YYYY-MM-DD]`: reads a portfolio (CSV, Parquet or Arrow
 * IPC), checks every row against methodology §1 and writes `valid.parquet`,
 * `rejected.parquet` and `data_quality.json` into DIR.
 *
 * DIR is one output folder, written whole or not at all (staged beside it
 * and renamed last, replacing an earlier validation output there), and
 * checked before anything is read: a file, a folder holding other files
 * (the portfolio's own folder, a run folder), a folder that is or holds
 * the portfolio or the rules file, or a place inside a run folder is
 * refused.
 *
 * Exit codes (lib/errors.ts): 0 passed; 1 the rejected share is above the
 * rules file's `validation.max_reject_rate` (the outputs are written,
 * complete); 2 a usage error, an --out refused, or a portfolio or rules
 * file that cannot be used; 3 the outputs cannot be written (disk full,
 * no permission), nothing half-written left under DIR; 4 another live
 * process is writing DIR.
 *
 * @module
 */
import { join } from "node:path";
import { checkOutputFolder, VALIDATION_FILES } from "../lib/run_folder/mod.ts";
import { isoDate, required, TaskCommand, wholeNumber } from "./_args.ts";
import {
  loadRules,
  localCopy,
  namingInput,
  RejectRateError,
  scanPortfolio,
  validatePortfolio,
  writeValidationOutputs,
} from "../lib/mod.ts";

export const command = new TaskCommand({
  command: "deno task validate",
  synopsis:
    "--portfolio PATH --rules PATH --out DIR [--reporting-date YYYY-MM-DD] [--max-rows N] [--max-bytes N]",
  flags:
    `  --portfolio PATH             portfolio file (.csv, .parquet, .arrow/.ipc)
  --rules PATH                 rules file
  --out DIR                    folder for valid.parquet, rejected.parquet, data_quality.json
  --reporting-date YYYY-MM-DD  the book's reporting date (default: read from the file)
  --max-rows N                 refuse a portfolio of more than N rows (untrusted input; default no limit)
  --max-bytes N                refuse a portfolio file larger than N bytes (default no limit)`,
  options: {
    portfolio: { type: "string" },
    rules: { type: "string" },
    out: { type: "string" },
    "reporting-date": { type: "string" },
    "max-rows": { type: "string" },
    "max-bytes": { type: "string" },
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
    const maxRows = wholeNumber("max-rows", values["max-rows"]);
    const maxBytes = wholeNumber("max-bytes", values["max-bytes"]);
    // Where the outputs go is checked before anything is read.
    const inputs = [portfolio, rulesFile];
    await checkOutputFolder(out, Object.values(VALIDATION_FILES), { inputs });
    const rules = await loadRules(rulesFile);
    const started = performance.now();
    // A portfolio in object storage: streamed to a temporary file first,
    // removed when the command ends.
    await using copy = await localCopy(portfolio, { maxBytes });
    const raw = namingInput(
      copy.path,
      portfolio,
      () => scanPortfolio(copy.path, { maxRows, maxBytes }),
    );
    const result = await validatePortfolio(raw, rules, {
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
      await writeValidationOutputs(result, out, { inputs });
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
