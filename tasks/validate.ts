/**
 * `deno task validate --portfolio PATH --rules PATH --out DIR
 * [--reporting-date YYYY-MM-DD]`: reads a portfolio (CSV, Parquet or Arrow
 * IPC), checks every row against methodology §1 and writes `valid.parquet`,
 * `rejected.parquet` and `data_quality.json` into DIR.
 *
 * Exit codes: 0 passed; 1 the rejected share is above the rules file's
 * `validation.max_reject_rate` (the outputs are written); 2 the portfolio,
 * the rules file or the arguments cannot be used.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { PortfolioReadError, scanPortfolio } from "../lib/io/mod.ts";
import { loadRules, RulesError } from "../lib/rules.ts";
import {
  RejectRateError,
  validatePortfolio,
  writeValidationOutputs,
} from "../lib/validation/mod.ts";

const USAGE =
  "usage: deno task validate --portfolio PATH --rules PATH --out DIR [--reporting-date YYYY-MM-DD]";

/** Runs the task with `args`; returns the process exit code. */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args,
      options: {
        portfolio: { type: "string" },
        rules: { type: "string" },
        out: { type: "string" },
        "reporting-date": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }).values;
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const missing = ["portfolio", "rules", "out"].filter((k) =>
    !values[k as "portfolio" | "rules" | "out"]
  );
  if (missing.length > 0) {
    console.error(
      `missing ${missing.map((k) => `--${k}`).join(", ")}\n${USAGE}`,
    );
    return 2;
  }
  const portfolio = values.portfolio!;
  const out = values.out!;
  try {
    const rules = await loadRules(values.rules!);
    const started = performance.now();
    const result = await validatePortfolio(scanPortfolio(portfolio), rules, {
      file: portfolio,
      reportingDate: values["reporting-date"],
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
    await writeValidationOutputs(result, out);
    console.log(
      `wrote ${out}/valid.parquet, rejected.parquet, data_quality.json`,
    );
    return 0;
  } catch (e) {
    if (e instanceof RejectRateError) {
      console.error(`${e.message}; outputs written to ${out}`);
      return 1;
    }
    if (
      e instanceof PortfolioReadError || e instanceof RulesError ||
      e instanceof RangeError
    ) {
      console.error(e.message);
      return 2;
    }
    throw e;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
