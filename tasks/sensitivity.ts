/**
 * `deno task sensitivity --portfolio PATH --rules PATH --out DIR [--fx PATH]`:
 * the stand-alone sensitivity table (docs/sensitivity.md). Validates the
 * portfolio like a run, computes the allowance under the rules' weighted
 * scenarios, each scenario alone at 100% and each stress of the rules'
 * `sensitivity:` section (each line a new engine pass), and writes
 * `sensitivity.json`, `sensitivity.html` and `sensitivity.csv` as the
 * folder DIR, whole or not at all; prints the table.
 *
 * Exit codes (lib/errors.ts): 0 done; 1 too many rows rejected (nothing
 * computed); 2 a usage error, a refused --out (checked before anything is
 * read), a broken rules file (every problem with its key path, e.g.
 * `sensitivity.stresses[0].pd_multiplier`), FX table or portfolio; 3 the
 * outputs cannot be written; 4 another live process is writing DIR.
 *
 * @module
 */
import { required, TaskCommand, wholeNumber } from "./_args.ts";
import { runSensitivity, summarize } from "../lib/mod.ts";

export const command = new TaskCommand({
  command: "deno task sensitivity",
  synopsis:
    "--portfolio PATH --rules PATH --out DIR [--fx PATH] [--max-rows N] [--max-bytes N]",
  flags:
    `  --portfolio PATH  the book (CSV, Parquet or Arrow IPC), validated like a run's
  --rules PATH      rules; their sensitivity: section lists the stresses
                    (without one: each scenario alone at 100%)
  --out DIR         folder for sensitivity.json, sensitivity.html, sensitivity.csv
  --fx PATH         FX table (default: the reporting date's, as a run chooses it)
  --max-rows N      refuse a portfolio of more than N rows (untrusted input)
  --max-bytes N     refuse a portfolio file larger than N bytes`,
  options: {
    portfolio: { type: "string" },
    rules: { type: "string" },
    out: { type: "string" },
    fx: { type: "string" },
    "max-rows": { type: "string" },
    "max-bytes": { type: "string" },
  },
  required: ["portfolio", "rules", "out"],
});

/** Runs `deno task sensitivity` with `args`; returns the exit code. */
export function main(args: string[]): Promise<number> {
  return command.run(args, async ({ values }) => {
    const { portfolio, rules, out } = required(
      values,
      "portfolio",
      "rules",
      "out",
    );
    const maxRows = wholeNumber("max-rows", values["max-rows"]);
    const maxBytes = wholeNumber("max-bytes", values["max-bytes"]);
    const { file, dir } = await runSensitivity({
      portfolio,
      rules,
      fx: values.fx,
      out,
      summarize,
      maxRows,
      maxBytes,
      onLine: (kind, name) => console.error(`computing ${kind} ${name}`),
    });
    for (const w of file.warnings) console.error(`warning: ${w}`);
    const s = file.sensitivity;
    const amount = (v: number) =>
      v.toLocaleString("en-US", {
        minimumFractionDigits: 2,
        maximumFractionDigits: 2,
      });
    console.log(
      `Sensitivity of ${file.rows.valid} facilities at ${file.reporting_date} (${s.reporting_currency})`,
    );
    for (const l of s.lines) {
      const count = (k: string) =>
        l.by_stage.find((g) => g.key === k)?.count ?? 0;
      console.log(
        `  ${`${l.kind} ${l.name}`.padEnd(32)} ${amount(l.ecl).padStart(20)} ${
          l.kind === "weighted"
            ? "".padStart(20)
            : amount(l.change_vs_weighted).padStart(20)
        }  stage 2: ${count("2")}, stage 3: ${count("3")}${
          l.staging === "restaged" ? " (re-staged)" : ""
        }`,
      );
    }
    console.log(dir);
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
