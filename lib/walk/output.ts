/**
 * The ECL walk (docs/movement.md §6, ECL walk) as a long table for BI tools
 * (`movement_walk.parquet`: `from_date, to_date, step_order, driver, label,
 * dimension, key, amount`, where `dimension` is `total`, `stage` or
 * `product`; the opening and closing balances are the rows of `driver`
 * `opening` and `closing`) and as console text.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { DataFrame } from "../frame.ts";
import type { Walk } from "./walk.ts";

/** The walk in long form, one row per amount (module doc). */
export function walkLines(walk: Walk): DataFrame {
  const rows: {
    step_order: number;
    driver: string;
    label: string;
    dimension: string;
    key: string;
    amount: number;
  }[] = [];
  const add = (
    order: number,
    driver: string,
    label: string,
    total: number,
    byStage: Record<string, number>,
    byProduct: Record<string, number>,
  ) => {
    rows.push({
      step_order: order,
      driver,
      label,
      dimension: "total",
      key: "total",
      amount: total,
    });
    for (const [k, a] of Object.entries(byStage)) {
      rows.push({
        step_order: order,
        driver,
        label,
        dimension: "stage",
        key: k,
        amount: a,
      });
    }
    for (const [k, a] of Object.entries(byProduct).sort()) {
      rows.push({
        step_order: order,
        driver,
        label,
        dimension: "product",
        key: k,
        amount: a,
      });
    }
  };
  add(
    0,
    "opening",
    "Opening ECL",
    walk.opening,
    walk.opening_by_stage,
    walk.opening_by_product,
  );
  walk.steps.forEach((s, i) =>
    add(i + 1, s.driver, s.label, s.amount, s.by_stage, s.by_product)
  );
  add(
    walk.steps.length + 1,
    "closing",
    "Closing ECL",
    walk.closing,
    walk.closing_by_stage,
    walk.closing_by_product,
  );
  return pl.DataFrame({
    from_date: rows.map(() => walk.from_date),
    to_date: rows.map(() => walk.to_date),
    step_order: rows.map((r) => r.step_order),
    driver: rows.map((r) => r.driver),
    label: rows.map((r) => r.label),
    dimension: rows.map((r) => r.dimension),
    key: rows.map((r) => r.key),
    amount: rows.map((r) => r.amount),
  }, {
    schema: {
      from_date: pl.Utf8,
      to_date: pl.Utf8,
      step_order: pl.Int32,
      driver: pl.Utf8,
      label: pl.Utf8,
      dimension: pl.Utf8,
      key: pl.Utf8,
      amount: pl.Float64,
    },
  });
}

/** The walk as console text: one line per step, with its share of the change. */
export function walkTable(walk: Walk): string {
  const fmt = (x: number) =>
    x.toLocaleString("en-US", {
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    });
  const lines: [string, string][] = [
    ["Opening ECL", fmt(walk.opening)],
    ...walk.steps.map((s) => [s.label, fmt(s.amount)] as [string, string]),
    ["Closing ECL", fmt(walk.closing)],
  ];
  const w = Math.max(...lines.map(([l]) => l.length));
  const a = Math.max(...lines.map(([, x]) => x.length));
  return [
    `ECL walk ${walk.from_date} -> ${walk.to_date} (${walk.reporting_currency})`,
    ...lines.map(([l, x]) => `  ${l.padEnd(w)}  ${x.padStart(a)}`),
    `  (PD then exposure instead: PD ${
      fmt(walk.order_sensitivity.pd.reversed)
    }, exposure ${fmt(walk.order_sensitivity.exposure.reversed)})`,
  ].join("\n");
}
