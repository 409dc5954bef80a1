/**
 * The loss-allowance reconciliation (IFRS 7 §35H) as a plain-text table for
 * terminals and logs; `deno task movement` and `deno task demo` print it.
 *
 * @module
 */
import { formatAmount } from "../format.ts";
import {
  type ColumnAmounts,
  type Movement,
  type StageColumn,
  visibleColumns,
  visibleLines,
} from "./reconciliation.ts";

/**
 * The lines' labels cut to the table's first column; the page and
 * `movement.json` carry the full IFRS 7 wording.
 */
const SHORT_LABELS: Record<string, string> = {
  new_originated: "New assets originated",
  derecognised: "Derecognised",
  transfer_to_simplified: "Transfer to simplified",
  remeasurement_transferred: "Remeasurement, transferred",
  remeasurement: "Remeasurement, stayed",
};

/**
 * One line per reconciliation line, a column per stage (and one for the
 * simplified approach when a run has products on it) and the total, in the
 * reporting currency, then the closing balance split into loss allowance
 * and provision (IFRS 7 B8E).
 */
export function allowanceTable(movement: Movement): string {
  const pad = (s: string) => s.padStart(18);
  const columns = visibleColumns(movement);
  const head = (c: StageColumn) => c === "simplified" ? c : `stage ${c}`;
  const row = (label: string, a: ColumnAmounts) =>
    `${label.padEnd(28)}${
      columns.map((c) => pad(formatAmount(a.by_stage[c]))).join("")
    }${pad(formatAmount(a.total))}`;
  const split = movement.allowance_split.closing;
  return [
    `Loss allowance ${movement.from.reporting_date} -> ${movement.to.reporting_date} (${movement.reporting_currency})`,
    `${"".padEnd(28)}${columns.map((c) => pad(head(c))).join("")}${
      pad("total")
    }`,
    ...visibleLines(movement, movement.allowance).map((l) =>
      row(SHORT_LABELS[l.key] ?? l.label, l)
    ),
    row("  of which loss allowance", split.loss_allowance),
    row("  of which provision (B8E)", split.provision),
    `${movement.checks.length} invariants hold`,
  ].join("\n");
}
