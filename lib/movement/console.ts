/**
 * The loss-allowance reconciliation (IFRS 7 §35H) as a plain-text table for
 * terminals and logs; `deno task movement` and `deno task demo` print it.
 *
 * @module
 */
import { fmtAmount } from "../report/html.ts";
import type { Movement } from "./reconciliation.ts";

/**
 * One line per reconciliation line, a column per stage and the total, in
 * the reporting currency.
 */
export function allowanceTable(movement: Movement): string {
  const pad = (s: string) => s.padStart(18);
  const lines = [
    `Loss allowance ${movement.from.reporting_date} -> ${movement.to.reporting_date} (${movement.reporting_currency})`,
    `${"".padEnd(36)}${pad("stage 1")}${pad("stage 2")}${pad("stage 3")}${
      pad("total")
    }`,
  ];
  for (const l of movement.allowance.lines) {
    lines.push(
      `${l.key.padEnd(36)}${pad(fmtAmount(l.by_stage["1"]))}${
        pad(fmtAmount(l.by_stage["2"]))
      }${pad(fmtAmount(l.by_stage["3"]))}${pad(fmtAmount(l.total))}`,
    );
  }
  lines.push(`${movement.checks.length} invariants hold`);
  return lines.join("\n");
}
