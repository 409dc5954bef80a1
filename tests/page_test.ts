/**
 * The page components of `lib/page.ts`: every piece of text a component
 * takes reaches the page escaped, charts are taken only as rendered Plot
 * figures, tables and cards keep the markup the stylesheet and the tests
 * of the pages rely on, and the shell carries the strict policy.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  badge,
  cards,
  chart,
  details,
  grid,
  markup,
  note,
  page,
  section,
  table,
  warningList,
} from "../lib/page.ts";
import { Plot, type PlotFigure, renderPlot } from "../lib/plot/mod.ts";
import { parseMarkup } from "./report/_markup.ts";

const SCRIPT = "</td><script>alert(2)</script>";
const IMG = '"><img src=x onerror=alert(1)>';

Deno.test("every component shows the text it is given as text, never as markup", () => {
  const figure = renderPlot({
    marks: [Plot.barX([{ name: SCRIPT, v: 1 }], { x: "v", y: "name" })],
  });
  const doc = page(
    {
      title: `Book ${SCRIPT}`,
      subtitle: IMG,
      toc: [{ id: IMG, label: SCRIPT }],
      footer: IMG,
    },
    section(IMG, SCRIPT, [
      cards([{ label: SCRIPT, value: IMG, note: SCRIPT }]),
      table(
        [
          { label: SCRIPT, value: (r: string) => r },
          { label: IMG, value: (r) => r, numeric: true },
          { label: "wraps", value: (r) => r, wrap: true },
        ],
        [SCRIPT, IMG],
        { caption: IMG, footer: [SCRIPT], className: IMG, rowClass: () => IMG },
      ),
      details(SCRIPT, note(IMG)),
      grid([chart(IMG, SCRIPT, figure, IMG)]),
      warningList([SCRIPT, IMG]),
      badge("bad", SCRIPT),
      markup`<p>${SCRIPT}</p>`,
    ]),
  );
  const parsed = parseMarkup(doc);
  assert.equal(parsed.count("script, img, [onerror]"), 0);
  assert.deepEqual(parsed.texts("title"), [`Book ${SCRIPT}`]);
  assert.deepEqual(parsed.texts("header .meta"), [IMG]);
  assert.deepEqual(parsed.texts("nav a"), [SCRIPT]);
  assert.deepEqual(parsed.texts("section > h2"), [SCRIPT]);
  assert.deepEqual(parsed.texts(".card-label, .card-value, .card-note"), [
    SCRIPT,
    IMG,
    SCRIPT,
  ]);
  assert.deepEqual(parsed.texts("caption"), [IMG]);
  assert.deepEqual(parsed.texts("th"), [SCRIPT, IMG, "wraps"]);
  assert.deepEqual(parsed.texts("tbody td"), [
    SCRIPT,
    SCRIPT,
    SCRIPT,
    IMG,
    IMG,
    IMG,
  ]);
  assert.deepEqual(parsed.texts("tfoot td"), [SCRIPT, SCRIPT, SCRIPT]);
  assert.deepEqual(parsed.texts("summary"), [SCRIPT]);
  assert.deepEqual(parsed.texts("figcaption"), [SCRIPT]);
  assert.deepEqual(
    parsed.texts('figure svg g[aria-label="y-axis tick label"] text'),
    [SCRIPT],
  );
  assert.deepEqual(parsed.texts("ul.warnings li"), [
    `Warning: ${SCRIPT}`,
    `Warning: ${IMG}`,
  ]);
  assert.deepEqual(parsed.texts(".badge"), [SCRIPT]);
  assert.deepEqual(parsed.texts("footer"), [IMG]);
  // Attribute values cannot be left either: the id and classes are whole.
  assert.equal(parsed.count("section[id]"), 1);
  assert.equal(parsed.count("tr[class]"), 3);
});

Deno.test("chart() takes a figure rendered by renderPlot and refuses markup from anywhere else", () => {
  const figure = renderPlot({ marks: [Plot.dot([[1, 2]])] });
  const panel = String(chart("chart-dots", "Dots", figure, "one dot"));
  assert.match(
    panel,
    /^<figure class="chart" id="chart-dots"><figcaption>Dots<\/figcaption><svg /,
  );
  assert.equal(parseMarkup(panel).count("figure > svg circle"), 1);
  for (
    const forged of [
      "<svg><script>alert(1)</script></svg>",
      { html: "<svg/>", svg: "<svg/>" },
    ]
  ) {
    assert.throws(
      () => chart("chart-x", "X", forged as unknown as PlotFigure),
      /Cannot draw chart chart-x: expected an SVG figure rendered by renderPlot/,
    );
  }
});

Deno.test("table() marks numeric and wrapping cells, row classes and totals, and no class where none is asked", () => {
  const markup = table(
    [
      { label: "Product", value: (r: { p: string; n: number }) => r.p },
      { label: "Loans", value: (r) => r.n, numeric: true },
      { label: "Note", value: () => "a\nb", wrap: true },
    ],
    [{ p: "sme", n: 2 }, { p: "card", n: 3 }],
    {
      caption: "By product",
      footer: [{ p: "Total", n: 5 }],
      rowClass: (r) => (r.p === "card" ? "bad" : undefined),
    },
  );
  assert.equal(
    String(markup),
    '<div class="table-wrap"><table><caption>By product</caption>' +
      '<thead><tr><th scope="col">Product</th><th class="num" scope="col">Loans</th><th scope="col">Note</th></tr></thead>' +
      '<tbody><tr><td>sme</td><td class="num">2</td><td class="wrap">a\nb</td></tr>' +
      '<tr class="bad"><td>card</td><td class="num">3</td><td class="wrap">a\nb</td></tr></tbody>' +
      '<tfoot><tr><td>Total</td><td class="num">5</td><td class="wrap">a\nb</td></tr></tfoot></table></div>',
  );
});

/** The font-size expression of each card value, in order. */
const fontSizes = (html: string) =>
  [...html.matchAll(/class="card-value" style="font-size:([^"]+)"/g)].map((
    m,
  ) => m[1]);

Deno.test("cards() scales a long value down to fit its card and caps short ones at 22px", () => {
  const markup = String(cards([
    { label: "Facilities", value: "5,000" },
    { label: "EAD (EUR)", value: "203,456,789,012.34" },
  ]));
  // 0.72em per character: 5 characters -> 3.60em, 18 -> 12.96em of the
  // card's width (100cqi), between 12px and 22px.
  assert.deepEqual(fontSizes(markup), [
    "clamp(12px, calc(100cqi / 3.60), 22px)",
    "clamp(12px, calc(100cqi / 12.96), 22px)",
  ]);
  assert.match(markup, />203,456,789,012\.34</);
});

Deno.test("page() is one document with the strict policy, its stylesheet inline, and no link bar or footer when there are none", () => {
  const doc = page({ title: "Notebooks" }, section("s", "S", "body"));
  assert.equal(typeof doc, "string");
  assert.match(doc, /^<!DOCTYPE html>\n<html lang="en">/);
  // The policy as the browser reads the attribute: scripts and every
  // request refused, inline styles and data: images allowed.
  const policy = doc.match(
    /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/,
  )?.[1].replaceAll("&#39;", "'");
  assert.equal(
    policy,
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
  );
  assert.match(doc, /<style>\n:root \{[^<]*details > summary[^<]*<\/style>/);
  assert.doesNotMatch(doc, /<nav|<footer|class="meta"|<script|<link/);
});
