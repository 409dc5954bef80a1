/**
 * Building blocks of the self-contained report pages (run report, movement,
 * dashboard): escaping, number formats, tables, headline cards and the page
 * shell with its inline stylesheet.
 *
 * Pages hold no script and fetch nothing: charts are inline SVG and the CSS
 * is in the page, so a report opens from a file share or an e-mail
 * attachment exactly as it was produced.
 *
 * @module
 */

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? "").replace(
    /[&<>"']/g,
    (c) =>
      ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[
        c
      ]!,
  );
}

const AMOUNT = new Intl.NumberFormat("en-US", {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});
const COUNT = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** An amount with thousands separators and cents: `1,234,567.89`. */
export function fmtAmount(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  // Avoid "-0.00" for amounts that round to zero.
  return AMOUNT.format(Math.abs(v) < 0.005 ? 0 : v);
}

/** A whole number with thousands separators. */
export function fmtCount(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v)
    ? "–"
    : COUNT.format(v);
}

/** A ratio as a percentage with two decimals: `1.23%`. */
export function fmtPct(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v)
    ? "–"
    : `${(v * 100).toFixed(2)}%`;
}

/** One column of an HTML table. */
export interface Column<T> {
  label: string;
  value: (row: T) => string;
  /** Right-aligned, tabular figures. @default false */
  numeric?: boolean;
  /**
   * Text that may wrap (descriptions, paths, hashes), so that a table
   * keeps to the width of the page instead of scrolling. @default false
   */
  wrap?: boolean;
}

/**
 * An HTML table; values are escaped here. `footer` rows (totals) are set
 * apart in a `<tfoot>`.
 */
export function table<T>(
  columns: Column<T>[],
  rows: T[],
  opts: { footer?: T[]; caption?: string; className?: string } = {},
): string {
  const cls = (c: Column<T>) =>
    c.numeric ? ' class="num"' : c.wrap ? ' class="wrap"' : "";
  const cell = (tag: "td" | "th", c: Column<T>, r: T) =>
    `<${tag}${cls(c)}>${escapeHtml(c.value(r))}</${tag}>`;
  const head = columns.map((c) =>
    `<th${c.numeric ? ' class="num"' : ""} scope="col">${
      escapeHtml(c.label)
    }</th>`
  ).join("");
  const body = rows.map((r) =>
    `<tr>${columns.map((c) => cell("td", c, r)).join("")}</tr>`
  ).join("\n");
  const foot = opts.footer?.length
    ? `<tfoot>${
      opts.footer.map((r) =>
        `<tr>${columns.map((c) => cell("td", c, r)).join("")}</tr>`
      ).join("")
    }</tfoot>`
    : "";
  return `<div class="table-wrap"><table${
    opts.className ? ` class="${escapeHtml(opts.className)}"` : ""
  }>${
    opts.caption ? `<caption>${escapeHtml(opts.caption)}</caption>` : ""
  }<thead><tr>${head}</tr></thead><tbody>${body}</tbody>${foot}</table></div>`;
}

/** A headline figure: label, value and an optional note under it. */
export interface Card {
  label: string;
  value: string;
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
export function cards(items: Card[]): string {
  return `<div class="cards">${
    items.map((c) =>
      `<div class="card"><div class="card-label">${
        escapeHtml(c.label)
      }</div><div class="card-value" style="font-size:${
        cardValueFontSize(c.value)
      }">${escapeHtml(c.value)}</div>${
        c.note ? `<div class="card-note">${escapeHtml(c.note)}</div>` : ""
      }</div>`
    ).join("")
  }</div>`;
}

/**
 * A chart panel: title, the chart's inline markup (already SVG from
 * `lib/plot`, not escaped) and a note on how to read it.
 */
export function chartPanel(
  id: string,
  title: string,
  svg: string,
  note?: string,
): string {
  return `<figure class="chart" id="${escapeHtml(id)}"><figcaption>${
    escapeHtml(title)
  }</figcaption>${svg}${
    note ? `<p class="note">${escapeHtml(note)}</p>` : ""
  }</figure>`;
}

/** A section with a heading and an anchor. */
export function section(id: string, title: string, body: string): string {
  return `<section id="${escapeHtml(id)}"><h2>${
    escapeHtml(title)
  }</h2>${body}</section>`;
}

/**
 * Warnings in an amber box, one per line (nothing when there are none): the
 * validator's file-level warnings, a run's own (an FX table of another
 * date), a movement's.
 */
export function warningList(warnings: string[]): string {
  if (warnings.length === 0) return "";
  return `<ul class="warnings">${
    warnings.map((w) => `<li>Warning: ${escapeHtml(w)}</li>`).join("")
  }</ul>`;
}

const CSS = `
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
nav.toc a { color:var(--accent); text-decoration:none; }
main { max-width:1280px; margin:0 auto; padding:20px 32px 48px; }
section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:16px 20px; margin:18px 0; }
h2 { font-size:16px; margin:0 0 12px; }
h3 { font-size:14px; margin:16px 0 8px; color:var(--muted); font-weight:600; }
.cards { display:grid; grid-template-columns:repeat(auto-fit,minmax(170px,1fr)); gap:12px; }
.card { container-type:inline-size; background:#fff; border:1px solid var(--line); border-left:4px solid var(--accent); border-radius:6px; padding:10px 14px; }
.card-label { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.card-value { font-size:22px; font-weight:600; font-variant-numeric:tabular-nums; margin-top:2px; overflow-wrap:anywhere; }
.card-note { color:var(--muted); font-size:12px; }
.grid2 { display:grid; grid-template-columns:repeat(auto-fit,minmax(520px,1fr)); gap:16px; margin-top:12px; }
figure.chart { margin:0; min-width:0; }
figure.chart figcaption { font-weight:600; margin-bottom:6px; }
figure.chart svg { max-width:100%; height:auto; }
p.note, .muted { color:var(--muted); font-size:12px; }
.table-wrap { overflow-x:auto; }
table { border-collapse:collapse; width:100%; font-size:13px; }
caption { text-align:left; font-weight:600; padding:4px 0 6px; }
th, td { padding:5px 10px; border-bottom:1px solid var(--line); text-align:left; white-space:nowrap; }
thead th { background:#f1f4f8; font-weight:600; position:sticky; top:0; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
td.wrap { white-space:normal; overflow-wrap:anywhere; }
tfoot td { font-weight:600; border-top:2px solid var(--ink); }
tr.subtotal td { font-weight:600; background:#fafbfc; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; color:#fff; }
.badge.ok { background:var(--ok); } .badge.bad { background:var(--bad); } .badge.warn { background:var(--warn); }
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
 * The whole page: header, table of contents, sections, footer. A strict
 * Content-Security-Policy forbids scripts and any fetch, so the browser
 * itself enforces that the page is self-contained.
 */
export function page(opts: {
  title: string;
  subtitle: string;
  toc: { id: string; label: string }[];
  body: string;
  footer: string;
}): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(opts.title)}</title>
<style>${CSS}</style>
</head>
<body>
<header class="top"><h1>${escapeHtml(opts.title)}</h1><div class="meta">${
    escapeHtml(opts.subtitle)
  }</div></header>
<nav class="toc">${
    opts.toc.map((t) =>
      `<a href="#${escapeHtml(t.id)}">${escapeHtml(t.label)}</a>`
    ).join("")
  }</nav>
<main>
${opts.body}
</main>
<footer>${escapeHtml(opts.footer)}</footer>
</body>
</html>
`;
}
