/**
 * Server-side rendering of Observable Plot charts.
 *
 * Plot builds its chart through a DOM; outside a browser the `document`
 * option hands it linkedom's instead (Plot's own server-side mode, not a
 * fork). The result is a {@link PlotFigure}: plain SVG or HTML text for a
 * report page, and a `Symbol.for("Jupyter.display")` method so that a Deno
 * notebook cell whose value is the figure shows the chart inline. Nothing
 * here touches `Deno.jupyter`, which exists only inside the kernel.
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import type { PlotOptions as ObservablePlotOptions } from "@observablehq/plot";
import { parseHTML } from "linkedom";

/** The options of an Observable Plot chart (`Plot.plot(options)`). */
export type PlotOptions = ObservablePlotOptions;

/** The SVG namespace, which a standalone `.svg` document must declare. */
const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * The symbol the Deno Jupyter kernel looks up on a cell's value to display
 * it (`Symbol.for`, so it is the kernel's own symbol).
 */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display");

/**
 * The MIME bundle a Jupyter front end renders for a figure: `text/html`
 * always, the standalone SVG too when the chart is a bare `<svg>`, and a
 * `text/plain` line for front ends that show only text.
 */
export interface JupyterMimeBundle {
  /** The `<svg>` or `<figure>` markup, shown inline. */
  "text/html": string;
  /** The standalone SVG document, for a bare chart only. */
  "image/svg+xml"?: string;
  /** One line naming what the chart is. */
  "text/plain": string;
}

/**
 * A rendered chart.
 *
 * A plot without legend, title, subtitle or caption is a bare `<svg>`; with
 * any of them Plot wraps it in an HTML `<figure>`, which has no standalone
 * SVG form, so {@link PlotFigure.svg} is then `null` and only
 * {@link PlotFigure.html} is available.
 */
export class PlotFigure {
  /** Markup to embed in an HTML page: the `<svg>` or the `<figure>`. */
  readonly html: string;
  /** A standalone SVG document (with `xmlns`), or `null` for a figure. */
  readonly svg: string | null;

  /**
   * A figure from markup already rendered; {@link renderPlot} builds it.
   *
   * @param html Markup of the rendered element.
   * @param svg The same chart as a standalone SVG, when it is one.
   */
  constructor(html: string, svg: string | null) {
    this.html = html;
    this.svg = svg;
  }

  /** Whether Plot produced an HTML `<figure>` rather than a bare `<svg>`. */
  get isFigure(): boolean {
    return this.svg === null;
  }

  /** The embeddable markup, so a figure drops into a template literal. */
  toString(): string {
    return this.html;
  }

  /**
   * The MIME bundle for the Deno Jupyter kernel.
   *
   * The chart travels as `text/html` (the inline `<svg>` or the
   * `<figure>`), which is what JupyterLab, the classic notebook and
   * nbconvert's HTML exporter each pick first from a bundle, so a rendered
   * page shows what live Jupyter shows. An `image/svg+xml` output alone
   * would not survive `jupyter nbconvert --to html` (6.5): its templates
   * pass SVG outputs through lxml's `clean_html`, which keeps the `<svg>`
   * box and strips every mark. The standalone SVG stays in the bundle for
   * consumers without HTML (LaTeX/PDF export).
   */
  [JUPYTER_DISPLAY](): JupyterMimeBundle {
    const text = this.svg !== null
      ? "Observable Plot chart (SVG)"
      : "Observable Plot figure (HTML)";
    return this.svg !== null
      ? {
        "text/html": this.html,
        "image/svg+xml": this.svg,
        "text/plain": text,
      }
      : { "text/html": this.html, "text/plain": text };
  }
}

/** The DOM document type Plot's options name (Deno has no DOM lib). */
type PlotDocument = NonNullable<Plot.PlotOptions["document"]>;

/** The part of a DOM element this module reads; linkedom provides it. */
interface RenderedElement {
  readonly tagName: string;
  readonly outerHTML: string;
  setAttribute(name: string, value: string): void;
}

let serverDocument: PlotDocument | undefined;

/** One linkedom document serves every render: Plot never attaches to it. */
function getDocument(): PlotDocument {
  if (serverDocument === undefined) {
    // linkedom types its window with the DOM lib, which Deno does not load.
    const window = parseHTML(
      "<!DOCTYPE html><html><body></body></html>",
    ) as unknown as { document: PlotDocument };
    serverDocument = window.document;
  }
  return serverDocument;
}

/**
 * Renders an Observable Plot specification to a {@link PlotFigure}.
 *
 * Takes exactly the options of `Plot.plot`; `document` is supplied here.
 * Colour legends must be categorical, `quantize` or `threshold`: a
 * continuous legend draws its ramp on a canvas, which has no server-side
 * implementation, and is refused with an error that says so.
 *
 * @example
 * ```ts
 * import { Plot, renderPlot } from "./mod.ts";
 * const fig = renderPlot({
 *   marks: [Plot.barY([{ stage: "S1", n: 90 }, { stage: "S2", n: 10 }], { x: "stage", y: "n" })],
 * });
 * if (!fig.svg?.startsWith("<svg")) throw new Error("expected an SVG");
 * ```
 *
 * @param options `Plot.plot` options without `document`.
 * @returns The rendered chart.
 * @throws {Error} When Plot cannot render the specification server-side.
 */
export function renderPlot(options: PlotOptions): PlotFigure {
  let element: RenderedElement;
  try {
    element = Plot.plot({
      ...options,
      document: getDocument(),
    }) as unknown as RenderedElement;
  } catch (err) {
    if (err instanceof TypeError && /fillStyle|getContext/.test(err.message)) {
      throw new Error(
        "Cannot render plot: a continuous colour legend is drawn on a canvas, " +
          "which server-side rendering lacks; use color type " +
          '"quantize", "threshold" or a categorical scale for the legend',
        { cause: err },
      );
    }
    throw new Error(`Cannot render plot: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (element.tagName.toLowerCase() === "svg") {
    // A standalone SVG (a file, an <img>, the image/svg+xml MIME type) is
    // only read as SVG when it declares its namespace; Plot leaves that to
    // the browser's DOM, which linkedom does not serialise.
    element.setAttribute("xmlns", SVG_NS);
    return new PlotFigure(element.outerHTML, element.outerHTML);
  }
  return new PlotFigure(element.outerHTML, null);
}
