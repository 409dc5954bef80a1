/**
 * Checks a rendered notebook page as a reader gets it: opened in headless
 * Chromium, every output of the executed notebook must be on the page and
 * show something, and every chart must have a size and drawn marks.
 *
 * What the page must show comes from the executed notebook, not from the
 * page: each code cell's outputs, counted as nbconvert lays them out (it
 * merges consecutive outputs of the same stream into one), and in each
 * output the charts of the representation nbconvert picks for HTML
 * (`text/html` before `text/markdown` before `image/svg+xml`; the markup is
 * parsed by the same browser, so a chart is recognised the same way on
 * both sides). A chart is an `<svg>` that is not inside another one and
 * not part of an Observable Plot legend (a swatch or a ramp); its marks are
 * the shapes in Plot's mark groups (`g[aria-label]` other than axes and
 * grids), or every shape of an SVG without such groups. A chart is drawn
 * when its box has a width and a height, it has as many marks as the
 * notebook's markup and at least one of them has a size. An output is
 * empty when its box has no size or it holds neither text nor a picture.
 *
 * This is what found nbconvert stripping the marks of `image/svg+xml`
 * outputs (a white box the size of the chart) and cells whose output the
 * kernel sent after the cell had finished (lib/notebook/flush_execute.py).
 *
 * @module
 */
import { SetupError } from "../setup/mod.ts";
import { chromium } from "playwright-core";
import { pathToFileURL } from "node:url";
import { firstLine, type Notebook } from "./notebook.ts";

/** Debian's Chromium, which `deno task setup` installs. */
export const CHROMIUM = "/usr/bin/chromium";

/**
 * Chromium's flags on these machines: headless, with background
 * networking, updates and sync off (the closed network refuses those
 * connections), and no sandbox (the checks run as root).
 */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Refuses to go on without Chromium at `path`, saying what needs it and
 * how to install it.
 */
export async function requireChromium(
  what: string,
  path: string = CHROMIUM,
): Promise<void> {
  try {
    await Deno.stat(path);
  } catch {
    throw new SetupError(
      `Cannot ${what}: ${path} is missing (deno task setup installs Debian's chromium)`,
    );
  }
}

/**
 * The MIME types nbconvert's HTML export shows, in the order it prefers
 * them (nbconvert 6.5 `HTMLExporter.display_data_priority`).
 */
export const HTML_DISPLAY_PRIORITY: readonly string[] = [
  "application/vnd.jupyter.widget-view+json",
  "application/javascript",
  "text/html",
  "text/markdown",
  "image/svg+xml",
  "text/latex",
  "image/png",
  "image/jpeg",
  "text/plain",
];

/** One output a page must show, as the executed notebook has it. */
export interface ExpectedOutput {
  /** `stream`, `display_data`, `execute_result` or `error`. */
  kind: string;
  /** The MIME type nbconvert shows, for a display; null for the others. */
  mime: string | null;
  /** The markup that may hold charts (HTML or SVG), else null. */
  markup: string | null;
  /** Whether the notebook's output has anything to see (not blank text). */
  visible: boolean;
}

/** A code cell of the executed notebook and the outputs it shows. */
export interface ExpectedCell {
  /** 1-based position among all cells, as in error messages. */
  cell: number;
  /** The first non-empty line of its source, for messages. */
  firstLine: string;
  /** Its outputs in order, as the page must show them. */
  outputs: ExpectedOutput[];
}

/** How one notebook's page compares with its executed notebook. */
export interface PageCheck {
  /** Outputs of the executed notebook (streams merged as nbconvert does). */
  outputsExpected: number;
  /** Of those, the ones on the page with something to see. */
  outputsPresent: number;
  /** Charts in the executed notebook's outputs. */
  chartsExpected: number;
  /** Of those, the ones drawn on the page. */
  chartsDrawn: number;
  /** One line per defect, naming the cell and output; empty when none. */
  problems: string[];
}

type Output = NonNullable<Notebook["cells"][number]["outputs"]>[number];

/** A notebook text field (a string or a list of lines) as one string. */
function text(value: unknown): string {
  if (Array.isArray(value)) return value.join("");
  return typeof value === "string" ? value : "";
}

/**
 * Merges consecutive outputs of the same stream (stdout, stderr), as
 * nbconvert's HTML export does before it lays a cell out.
 */
function mergeStreams(outputs: readonly Output[]): Output[] {
  const merged: Output[] = [];
  for (const out of outputs) {
    const last = merged.at(-1);
    if (
      out.output_type === "stream" && last?.output_type === "stream" &&
      last.name === out.name
    ) {
      merged[merged.length - 1] = {
        ...last,
        text: text(last.text) + text(out.text),
      };
    } else {
      merged.push(out);
    }
  }
  return merged;
}

/** One output as a page must show it. */
function expectedOutput(out: Output): ExpectedOutput {
  const kind = out.output_type;
  if (kind === "stream") {
    return {
      kind,
      mime: null,
      markup: null,
      visible: text(out.text).trim() !== "",
    };
  }
  if (kind === "error") {
    return { kind, mime: null, markup: null, visible: true };
  }
  const data = (out.data ?? {}) as Record<string, unknown>;
  const mime = HTML_DISPLAY_PRIORITY.find((m) => m in data) ?? null;
  const shown = mime === null ? "" : text(data[mime]);
  const markup = mime === "text/html" || mime === "image/svg+xml"
    ? shown
    : null;
  return { kind, mime, markup, visible: shown.trim() !== "" };
}

/**
 * The code cells of an executed notebook with the outputs its rendered
 * page must show, in cell order (cells without outputs included, so the
 * page's cells line up with them).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { expectedCells } from "./page_check.ts";
 * const cells = expectedCells({
 *   nbformat: 4, nbformat_minor: 5, metadata: {},
 *   cells: [
 *     { cell_type: "markdown", source: "# Title" },
 *     { cell_type: "code", source: 'console.log("a"); console.log("b"); 1', outputs: [
 *       { output_type: "stream", name: "stdout", text: "a\n" },
 *       { output_type: "stream", name: "stdout", text: "b\n" },
 *       { output_type: "execute_result", data: { "text/html": "<b>1</b>", "text/plain": "1" } },
 *     ] },
 *   ],
 * });
 * assert.equal(cells[0].cell, 2);
 * assert.deepEqual(cells[0].outputs.map((o) => o.mime ?? o.kind), ["stream", "text/html"]);
 * ```
 */
export function expectedCells(nb: Notebook): ExpectedCell[] {
  const cells: ExpectedCell[] = [];
  nb.cells.forEach((cell, i) => {
    if (cell.cell_type !== "code") return;
    cells.push({
      cell: i + 1,
      firstLine: firstLine(cell),
      outputs: mergeStreams(cell.outputs ?? []).map(expectedOutput),
    });
  });
  return cells;
}

/** What the browser measured of one chart. */
interface ChartSeen {
  width: number;
  height: number;
  marks: number;
  drawn: number;
}

/** What the browser measured of one output of the page. */
interface OutputSeen {
  width: number;
  height: number;
  /** Whether it holds visible text, or a picture with a size. */
  content: boolean;
  charts: ChartSeen[];
}

/** What the browser measured: the page's code cells, and the notebook's charts. */
interface Seen {
  cells: OutputSeen[][];
  /** Per expected output with markup: marks of each chart in that markup. */
  expectedCharts: number[][];
}

/**
 * Runs in the page (a function source, evaluated by Chromium): measures
 * the code cells nbconvert's lab template lays out (`.jp-CodeCell`, one
 * `.jp-OutputArea-child` per output) and counts the charts and marks of
 * the notebook's own markup with the same rules.
 */
const PROBE = String.raw`(markups) => {
  const SHAPES = "path, rect, circle, ellipse, line, polyline, polygon, text, image, use";
  const charts = (root) => Array.from(root.querySelectorAll("svg")).filter((svg) =>
    !(svg.parentElement && svg.parentElement.closest("svg")) &&
    !svg.closest('[class*="-swatch"]') &&
    !/-ramp\b/.test(svg.getAttribute("class") || "")
  ).map((svg) => {
    const groups = Array.from(svg.querySelectorAll("g[aria-label]"));
    const markGroups = groups.filter((g) => !/axis|grid/.test(g.getAttribute("aria-label")));
    const shapes = groups.length === 0
      ? Array.from(svg.querySelectorAll(SHAPES))
      : [...new Set(markGroups.flatMap((g) => Array.from(g.querySelectorAll(SHAPES))))];
    return { svg, shapes };
  });
  const sized = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const cells = Array.from(document.querySelectorAll(".jp-Cell.jp-CodeCell")).map((cell) =>
    Array.from(cell.querySelectorAll(".jp-OutputArea-child")).map((child) => {
      const out = child.querySelector(".jp-OutputArea-output") || child;
      const box = out.getBoundingClientRect();
      const pictures = Array.from(out.querySelectorAll("svg, img, canvas, iframe, video")).filter(sized);
      return {
        width: box.width,
        height: box.height,
        content: out.innerText.trim() !== "" || pictures.length > 0,
        charts: charts(out).map(({ svg, shapes }) => {
          const r = svg.getBoundingClientRect();
          const drawn = shapes.filter((s) => {
            const b = s.getBBox();
            return b.width > 0 || b.height > 0;
          }).length;
          return { width: r.width, height: r.height, marks: shapes.length, drawn };
        }),
      };
    })
  );
  const expectedCharts = markups.map((markup) => {
    const template = document.createElement("template");
    template.innerHTML = markup;
    return charts(template.content).map(({ shapes }) => shapes.length);
  });
  return { cells, expectedCharts };
}`;

/** Compares what the browser saw with what the notebook holds. */
function compare(
  expected: readonly ExpectedCell[],
  seen: Seen,
  name: string,
): PageCheck {
  const problems: string[] = [];
  let outputsExpected = 0, outputsPresent = 0;
  let chartsExpected = 0, chartsDrawn = 0;
  let markupIndex = 0;
  if (seen.cells.length !== expected.length) {
    problems.push(
      `${name}: the page shows ${seen.cells.length} code cells, the notebook has ${expected.length}`,
    );
  }
  expected.forEach((cell, c) => {
    const where = `${name} cell ${cell.cell} ("${cell.firstLine}")`;
    const shown = seen.cells[c] ?? [];
    if (shown.length !== cell.outputs.length) {
      problems.push(
        `${where}: ${cell.outputs.length} outputs in the notebook, ${shown.length} on the page`,
      );
    }
    cell.outputs.forEach((out, o) => {
      outputsExpected++;
      const label = `${where} output ${o + 1} (${out.mime ?? out.kind})`;
      const marks = out.markup === null
        ? []
        : seen.expectedCharts[markupIndex++];
      chartsExpected += marks.length;
      const page = shown[o];
      if (page === undefined) {
        problems.push(`${label}: missing from the page`);
        return;
      }
      const empty = page.width <= 0 || page.height <= 0 || !page.content;
      if (out.mime === null && out.kind !== "stream" && out.kind !== "error") {
        problems.push(`${label}: no MIME type the HTML page can show`);
      } else if (out.visible && empty) {
        problems.push(
          `${label}: empty on the page (${Math.round(page.width)}×${
            Math.round(page.height)
          } px, nothing to see)`,
        );
      } else {
        outputsPresent++;
      }
      marks.forEach((want, k) => {
        const chart = page.charts[k];
        const which = `${label} chart ${k + 1} of ${marks.length}`;
        if (chart === undefined) {
          problems.push(`${which}: missing from the page`);
        } else if (chart.width <= 0 || chart.height <= 0) {
          problems.push(
            `${which}: no size (${Math.round(chart.width)}×${
              Math.round(chart.height)
            } px)`,
          );
        } else if (chart.marks !== want || chart.drawn === 0) {
          problems.push(
            `${which}: blank, ${chart.drawn} of ${want} marks drawn (${chart.marks} on the page)`,
          );
        } else {
          chartsDrawn++;
        }
      });
    });
  });
  return {
    outputsExpected,
    outputsPresent,
    chartsExpected,
    chartsDrawn,
    problems,
  };
}

/** An open browser that checks rendered notebook pages. */
export interface PageChecker {
  /**
   * Opens `htmlPath` and compares it with the executed notebook it was
   * rendered from.
   *
   * @param htmlPath The page nbconvert wrote.
   * @param executed The executed notebook.
   * @param name How problems name the notebook, e.g. `04_staging`.
   */
  check(htmlPath: string, executed: Notebook, name: string): Promise<PageCheck>;
  /** Closes the browser. */
  close(): Promise<void>;
}

/** Options of {@link openPageChecker}. */
export interface PageCheckerOptions {
  /** The Chromium binary. @default CHROMIUM */
  executablePath?: string;
}

/**
 * Starts headless Chromium for {@link PageChecker.check}; close it when
 * done. The page may load only local files: any other request is refused,
 * so a page that needs the network shows it as a defect.
 *
 * @throws {Error} When Chromium is missing, naming the binary and the task
 *   that installs it.
 */
export async function openPageChecker(
  options: PageCheckerOptions = {},
): Promise<PageChecker> {
  const executablePath = options.executablePath ?? CHROMIUM;
  await requireChromium("check rendered notebooks", executablePath);
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS],
  });
  return {
    async check(htmlPath, executed, name) {
      const expected = expectedCells(executed);
      const markups = expected.flatMap((c) =>
        c.outputs.filter((o) => o.markup !== null).map((o) => o.markup!)
      );
      const context = await browser.newContext({
        viewport: { width: 1366, height: 768 },
      });
      try {
        await context.route(
          "**/*",
          (route) =>
            route.request().url().startsWith("file:")
              ? route.continue()
              : route.abort(),
        );
        const tab = await context.newPage();
        await tab.goto(pathToFileURL(htmlPath).href);
        const seen = await tab.evaluate(
          `(${PROBE})(${JSON.stringify(markups)})`,
        ) as Seen;
        return compare(expected, seen, name);
      } finally {
        await context.close();
      }
    },
    async close() {
      await browser.close();
    },
  };
}
