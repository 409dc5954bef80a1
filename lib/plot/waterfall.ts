/**
 * The marks of a waterfall, shared by the movement's per-stage waterfalls
 * and the dashboard's allowance walk across dates: a floating bar per step
 * from `y1` to `y2` coloured by its `kind`, the step's amount above it in
 * the chart's unit (nothing for a step of less than half a cent), and the
 * zero line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { THOUSANDS } from "../format.ts";
 * import { renderPlot } from "./render.ts";
 * import { waterfallMarks } from "./waterfall.ts";
 *
 * const fig = renderPlot({
 *   marks: waterfallMarks([
 *     { step: "opening", y1: 0, y2: 12_000, amount: 12_000, kind: "balance" },
 *     { step: "charge", y1: 12_000, y2: 15_500, amount: 3_500, kind: "increase" },
 *   ], "step", THOUSANDS),
 * });
 * // Two bars, labelled in thousands.
 * assert.equal((fig.html.match(/<rect/g) ?? []).length, 2);
 * assert.match(fig.html, />12\.0</);
 * assert.match(fig.html, />3\.5</);
 * ```
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import { type AmountUnit, formatInUnit } from "../format.ts";

/** One step of a waterfall, in the currency (not yet in the unit). */
export interface WaterfallBar {
  /** Where the bar starts. */
  y1: number;
  /** Where the bar ends. */
  y2: number;
  /** The step's amount, signed, as labelled. */
  amount: number;
  /** The colour group (`balance`, `increase`, …). */
  kind: string;
}

/**
 * The bars, amount labels and zero line of `steps`, placed on the x
 * channel `x` and drawn in `unit`.
 */
export function waterfallMarks<T extends WaterfallBar>(
  steps: readonly T[],
  x: keyof T & string,
  unit: AmountUnit,
): Plot.Markish[] {
  const bars = steps.map((s) => ({
    ...s,
    top: Math.max(s.y1, s.y2) / unit.divisor,
    y1: s.y1 / unit.divisor,
    y2: s.y2 / unit.divisor,
  }));
  return [
    Plot.barY(bars, {
      x,
      y1: "y1",
      y2: "y2",
      fill: "kind",
      insetLeft: 2,
      insetRight: 2,
    }),
    Plot.text(bars, {
      x,
      y: "top",
      dy: -6,
      fontSize: 9,
      text: (s: WaterfallBar) =>
        Math.abs(s.amount) < 0.005 ? "" : formatInUnit(s.amount, unit),
    }),
    Plot.ruleY([0]),
  ];
}
