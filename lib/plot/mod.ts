/**
 * Charts for notebooks and reports: Observable Plot rendered to SVG on the
 * server, displayable inline in a Deno notebook.
 *
 * `Plot` is re-exported so that a caller builds marks and renders them from
 * one import, with the Plot version pinned in `deno.json`.
 *
 * @example
 * ```ts
 * import { Plot, renderPlot } from "./mod.ts";
 * const fig = renderPlot({ marks: [Plot.dot([[1, 2], [2, 3]])] });
 * if (fig.svg === null) throw new Error("a plain plot renders to SVG");
 * ```
 *
 * @module
 */
export * as Plot from "@observablehq/plot";
export {
  JUPYTER_DISPLAY,
  type JupyterMimeBundle,
  PlotFigure,
  type PlotOptions,
  renderPlot,
} from "./render.ts";
export { type WaterfallBar, waterfallMarks } from "./waterfall.ts";
export {
  bandAxisMargin,
  countTicks,
  endLabelMargin,
  labelWidth,
  logTicks,
} from "./layout.ts";
