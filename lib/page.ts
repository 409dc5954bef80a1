/**
 * The one page shell, stylesheet and set of components of every HTML page
 * the workspace writes: a run's `report.html`, `movement.html`, the trend
 * dashboard and the index of the rendered notebooks.
 *
 * Markup is written with Hono's `html` tagged template, which escapes every
 * value it interpolates unless that value is itself markup built the same
 * way: a product named `<script>` shows as text, whichever component it
 * passes through. The only other markup a page takes is a chart rendered by
 * Observable Plot ({@link chart}), which builds its SVG through a DOM and so
 * escapes the text it draws.
 *
 * Pages hold no script and fetch nothing: charts are inline SVG and the
 * stylesheet is in the page, and a Content-Security-Policy forbids scripts
 * and every request, so the browser itself holds a page to being one
 * self-contained file that opens from a file share or an e-mail attachment
 * exactly as it was produced.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cards, page, section } from "./page.ts";
 *
 * const doc = page(
 *   { title: "Book <B>", subtitle: "one product" },
 *   section("headline", "Headline", cards([{ label: "Product", value: "<img src=x>" }])),
 * );
 * assert.match(doc, /<title>Book &lt;B&gt;<\/title>/);
 * assert.match(doc, />&lt;img src=x&gt;</);
 * assert.doesNotMatch(doc, /<img/);
 * ```
 *
 * @module
 */
import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { PlotFigure } from "./plot/mod.ts";

/** Markup built by {@link markup} (or Hono's `html`): inserted as it is. */
export type Markup = HtmlEscapedString;

/**
 * What a component shows: text (escaped), a number, markup, a list of
 * them, or nothing (`null`, `undefined`, `false`, `""`).
 */
export type Content =
  | string
  | number
  | Markup
  | null
  | undefined
  | false
  | readonly Content[];

/**
 * Hono's `html` tag, typed for the content of these pages. Hono returns a
 * promise only when an interpolated value is one; {@link Content} holds
 * none, so the result is markup, and a page renders synchronously. (Named
 * `markup` so that `deno fmt`, which re-indents templates tagged `html`,
 * leaves the whitespace of table cells and of the document as written.)
 */
export function markup(
  strings: TemplateStringsArray,
  ...values: Content[]
): Markup {
  return html(strings, ...values) as Markup;
}

/** ` class="…"` when there is a class, nothing otherwise. */
function classAttribute(name: string | undefined): Markup | "" {
  return name ? markup` class="${name}"` : "";
}

/** One column of a {@link table}. */
export interface Column<T> {
  /** The heading (text is escaped). */
  label: Content;
  /** What the cell of a row shows (text is escaped). */
  value: (row: T) => Content;
  /** Right-aligned, tabular figures. @default false */
  numeric?: boolean;
  /**
   * Text that may wrap (descriptions, paths, hashes, error messages, whose
   * line breaks are kept), so that a table keeps to the width of the page
   * instead of scrolling. @default false
   */
  wrap?: boolean;
}

/** Options of {@link table}. */
export interface TableOptions<T> {
  /** A title above the table. */
  caption?: string;
  /** Rows set apart in a `<tfoot>` (totals). */
  footer?: T[];
  /** A class of the table, for the stylesheet's rules (`recon`, `mono`). */
  className?: string;
  /** A class of a row (`bad` shades it red). */
  rowClass?: (row: T) => string | undefined;
}

/** A table of `rows`, one cell per column, in a wrapper that scrolls. */
export function table<T>(
  columns: Column<T>[],
  rows: readonly T[],
  opts: TableOptions<T> = {},
): Markup {
  const cellClass = (c: Column<T>) =>
    c.numeric ? "num" : c.wrap ? "wrap" : undefined;
  const row = (r: T) =>
    markup`<tr${classAttribute(opts.rowClass?.(r))}>${
      columns.map((c) =>
        markup`<td${classAttribute(cellClass(c))}>${c.value(r)}</td>`
      )
    }</tr>`;
  const head = columns.map((c) =>
    markup`<th${
      classAttribute(c.numeric ? "num" : undefined)
    } scope="col">${c.label}</th>`
  );
  return markup`<div class="table-wrap"><table${
    classAttribute(opts.className)
  }>${
    opts.caption ? markup`<caption>${opts.caption}</caption>` : ""
  }<thead><tr>${head}</tr></thead><tbody>${rows.map(row)}</tbody>${
    opts.footer?.length ? markup`<tfoot>${opts.footer.map(row)}</tfoot>` : ""
  }</table></div>`;
}

/** A headline figure: label, value and an optional note under it. */
export interface Card {
  /** What the figure is, with its unit: `Loss allowance (EUR)`. */
  label: string;
  /** The figure, formatted. */
  value: string;
  /** A line under the figure: how it splits or what it is measured on. */
  note?: string;
}

/**
 * The font size that fits a card value on one line of its card: 22px when it
 * fits, smaller for long figures (a bank's EAD in the hundreds of billions
 * has 18 characters), never below 12px, where it wraps instead. A digit is
 * at most about 0.7em wide in common sans-serif faces at weight 600 (DejaVu
 * Sans Bold: 0.696em); `cqi` is a hundredth of the card's width (each card
 * is a size container).
 */
function cardValueFontSize(value: string): string {
  const em = (0.72 * Math.max(value.length, 1)).toFixed(2);
  return `clamp(12px, calc(100cqi / ${em}), 22px)`;
}

/** A row of headline cards. */
export function cards(items: Card[]): Markup {
  return markup`<div class="cards">${
    items.map((c) =>
      markup`<div class="card"><div class="card-label">${c.label}</div><div class="card-value" style="font-size:${
        cardValueFontSize(c.value)
      }">${c.value}</div>${
        c.note ? markup`<div class="card-note">${c.note}</div>` : ""
      }</div>`
    )
  }</div>`;
}

/**
 * A chart panel: title, the chart and a note on how to read it. The chart's
 * SVG goes into the page as it is, so only a figure rendered by
 * `renderPlot` is taken: Plot draws every label as a DOM text node, which
 * the serialiser escapes, so a data string cannot become markup.
 *
 * @throws {TypeError} When `figure` is not a rendered Plot figure.
 */
export function chart(
  id: string,
  title: string,
  figure: PlotFigure,
  note?: string,
): Markup {
  if (
    !(figure instanceof PlotFigure) || !/^<(svg|figure)\b/.test(figure.html)
  ) {
    throw new TypeError(
      `Cannot draw chart ${id}: expected an SVG figure rendered by renderPlot`,
    );
  }
  return markup`<figure class="chart" id="${id}"><figcaption>${title}</figcaption>${
    raw(figure.html)
  }${note ? markup`<p class="note">${note}</p>` : ""}</figure>`;
}

/** A section of the page with a heading and an anchor (`#id`). */
export function section(id: string, title: string, body: Content): Markup {
  return markup`<section id="${id}"><h2>${title}</h2>${body}</section>`;
}

/** Panels side by side, two to a row, one on a narrow screen. */
export function grid(items: Content): Markup {
  return markup`<div class="grid2">${items}</div>`;
}

/** A block folded under a one-line summary. */
export function details(summary: Content, body: Content): Markup {
  return markup`<details><summary>${summary}</summary>${body}</details>`;
}

/** A small grey paragraph: how to read what is above or below it. */
export function note(text: Content): Markup {
  return markup`<p class="note">${text}</p>`;
}

/**
 * Text that never breaks across lines (a date in a column heading, which
 * would otherwise wrap at its hyphens).
 */
export function noBreak(text: Content): Markup {
  return markup`<span class="nobr">${text}</span>`;
}

/** A coloured label: `ok` green, `bad` red. */
export function badge(kind: "ok" | "bad", text: string): Markup {
  return markup`<span class="badge ${kind}">${text}</span>`;
}

/**
 * Warnings in an amber box, one per line (nothing when there are none): the
 * validator's file-level warnings, a run's own (an FX table of another
 * date), a movement's.
 */
export function warningList(warnings: readonly string[]): Markup | "" {
  if (warnings.length === 0) return "";
  return markup`<ul class="warnings">${
    warnings.map((w) => markup`<li>Warning: ${w}</li>`)
  }</ul>`;
}

/** Options of {@link page}. */
export interface PageOptions {
  /** The page's title and heading. */
  title: string;
  /** A line under the heading: what, when, in which currency. */
  subtitle?: string;
  /** Links to the sections, in a bar that stays at the top. */
  toc?: { id: string; label: string }[];
  /** A line at the bottom: where the figures come from. */
  footer?: string;
}

/**
 * Scripts, fonts, images other than inline data and every request are
 * refused; only the page's own stylesheet applies.
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/** The stylesheet of every page (inserted as is: it is this constant). */
const STYLESHEET = `
:root { --ink:#1f2937; --muted:#6b7280; --line:#e5e7eb; --bg:#f6f7f9; --accent:#2b5c8a;
  --ok:#2e7d5b; --warn:#d99a1e; --bad:#b8322a; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin:0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  color:var(--ink); background:var(--bg); }
header.top { background:#14304d; color:#fff; padding:18px 32px; }
header.top h1 { margin:0; font-size:20px; font-weight:600; }
header.top .meta { color:#c9d6e3; font-size:13px; margin-top:4px; }
nav.toc { background:#fff; border-bottom:1px solid var(--line); padding:8px 32px; position:sticky; top:0; z-index:1;
  display:flex; flex-wrap:wrap; gap:4px 18px; font-size:13px; }
a { color:var(--accent); }
nav.toc a { text-decoration:none; }
main { max-width:1280px; margin:0 auto; padding:20px 32px 48px; }
section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:16px 20px; margin:18px 0; }
h2 { font-size:16px; margin:0 0 12px; }
.cards { display:grid; grid-template-columns:repeat(auto-fit,minmax(170px,1fr)); gap:12px; }
.card { container-type:inline-size; background:#fff; border:1px solid var(--line); border-left:4px solid var(--accent); border-radius:6px; padding:10px 14px; }
.card-label { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.card-value { font-size:22px; font-weight:600; font-variant-numeric:tabular-nums; margin-top:2px; overflow-wrap:anywhere; }
.card-note { color:var(--muted); font-size:12px; }
.grid2 { display:grid; grid-template-columns:repeat(auto-fit,minmax(520px,1fr)); gap:16px; margin-top:12px; }
figure.chart { margin:0; min-width:0; }
figure.chart figcaption { font-weight:600; margin-bottom:6px; }
figure.chart svg { max-width:100%; height:auto; }
figure.chart figure { margin:0; }
figure.chart [class*="-swatches"] { font-size:12px; }
.nobr { white-space:nowrap; }
p.note { color:var(--muted); font-size:12px; }
.table-wrap { overflow-x:auto; }
table { border-collapse:collapse; width:100%; font-size:13px; }
caption { text-align:left; font-weight:600; padding:4px 0 6px; }
th, td { padding:5px 10px; border-bottom:1px solid var(--line); text-align:left; white-space:nowrap; }
thead th { background:#f1f4f8; font-weight:600; position:sticky; top:0; white-space:normal; vertical-align:bottom; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
td.wrap { white-space:pre-wrap; overflow-wrap:anywhere; min-width:12em; }
tfoot td { font-weight:600; border-top:2px solid var(--ink); }
tr.bad td { background:#fdf1f0; }
table.recon th.num { width:12%; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; color:#fff; }
.badge.ok { background:var(--ok); } .badge.bad { background:var(--bad); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size:12px; }
ul.warnings { list-style:none; margin:12px 0; padding:8px 12px; background:#fdf6e7; border:1px solid #f0d9a6;
  border-left:4px solid var(--warn); border-radius:6px; overflow-wrap:anywhere; }
ul.warnings li + li { margin-top:4px; }
details { margin:10px 0; }
details > summary { cursor:pointer; color:var(--accent); font-weight:600; padding:4px 0; }
footer { color:var(--muted); font-size:12px; text-align:center; padding:16px; }
@media (max-width: 700px) { main { padding:12px; } .grid2 { grid-template-columns:1fr; } }
@media print { nav.toc { display:none; } section { break-inside:avoid; } body { background:#fff; } }
`;

/**
 * A whole page: header with title and subtitle, a bar of links to the
 * sections, the body and a footer, with the stylesheet inline.
 *
 * @param opts Title, subtitle, links to sections, footer.
 * @param body The sections.
 * @returns The HTML document.
 */
export function page(opts: PageOptions, body: Content): string {
  const toc = opts.toc ?? [];
  return markup`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<title>${opts.title}</title>
<style>${raw(STYLESHEET)}</style>
</head>
<body>
<header class="top"><h1>${opts.title}</h1>${
    opts.subtitle ? markup`<div class="meta">${opts.subtitle}</div>` : ""
  }</header>
${
    toc.length > 0
      ? markup`<nav class="toc">${
        toc.map((t) => markup`<a href="#${t.id}">${t.label}</a>`)
      }</nav>`
      : ""
  }
<main>
${body}
</main>
${opts.footer ? markup`<footer>${opts.footer}</footer>` : ""}
</body>
</html>
`.toString();
}
