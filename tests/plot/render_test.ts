/**
 * Tests of the server-side Plot renderer: mark counts, the SVG namespace,
 * figures with legends, the Jupyter MIME bundle and the refusal of
 * continuous colour legends.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parseHTML } from "linkedom";
import { JUPYTER_DISPLAY, Plot, renderPlot } from "../../lib/plot/mod.ts";

const STAGES = [
  { stage: "Stage 1", facilities: 870 },
  { stage: "Stage 2", facilities: 110 },
  { stage: "Stage 3", facilities: 20 },
];

/** Parses rendered markup back into a DOM to count elements. */
function parse(markup: string) {
  return (parseHTML(`<html><body>${markup}</body></html>`) as unknown as {
    document: {
      querySelectorAll(
        sel: string,
      ): ArrayLike<{ getAttribute(n: string): string | null }>;
    };
  }).document;
}

Deno.test("renderPlot() draws one <rect> per bar of a tiny bar chart", () => {
  const fig = renderPlot({
    marks: [Plot.barY(STAGES, { x: "stage", y: "facilities" })],
  });
  assert.ok(fig.svg !== null);
  assert.match(fig.svg, /^<svg /);
  assert.equal(fig.isFigure, false);
  const rects = parse(fig.svg).querySelectorAll("g[aria-label='bar'] rect");
  assert.equal(rects.length, 3);
  // Heights are proportional to the counts: 870 / 110 is checkable by eye.
  const heights = Array.from(rects, (r) => Number(r.getAttribute("height")));
  assert.ok(Math.abs(heights[0] / heights[1] - 870 / 110) < 1e-2);
});

Deno.test("renderPlot() declares the SVG namespace on a bare chart", () => {
  const fig = renderPlot({ marks: [Plot.dot([[1, 2], [3, 4]])] });
  assert.match(fig.svg ?? "", /xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.equal(fig.html, fig.svg);
  assert.equal(String(fig), fig.html);
});

Deno.test("renderPlot() returns an HTML <figure> for a chart with a legend and title", () => {
  const fig = renderPlot({
    title: "Facilities by stage",
    color: { legend: true },
    marks: [Plot.barY(STAGES, { x: "stage", y: "facilities", fill: "stage" })],
  });
  assert.equal(fig.svg, null);
  assert.equal(fig.isFigure, true);
  assert.match(fig.html, /^<figure/);
  assert.match(fig.html, /Facilities by stage/);
  // Three categorical swatches, one per stage.
  assert.equal(parse(fig.html).querySelectorAll("svg rect").length >= 3, true);
});

Deno.test("renderPlot() result displays as HTML in a Jupyter kernel, a bare chart with its SVG too", () => {
  assert.equal(JUPYTER_DISPLAY, Symbol.for("Jupyter.display"));
  const bare = renderPlot({
    marks: [Plot.barY(STAGES, { x: "stage", y: "facilities" })],
  });
  // text/html is what JupyterLab and nbconvert's HTML export pick; an
  // image/svg+xml output alone is stripped of its marks by nbconvert
  // (tests/notebooks/page_check_test.ts renders one through it).
  assert.deepEqual(bare[JUPYTER_DISPLAY](), {
    "text/html": bare.svg,
    "image/svg+xml": bare.svg,
    "text/plain": "Observable Plot chart (SVG)",
  });
  const figure = renderPlot({ caption: "c", marks: [Plot.dot([[0, 0]])] });
  assert.deepEqual(figure[JUPYTER_DISPLAY](), {
    "text/html": figure.html,
    "text/plain": "Observable Plot figure (HTML)",
  });
});

Deno.test("renderPlot() refuses a continuous colour legend with a clear message", () => {
  assert.throws(
    () =>
      renderPlot({
        color: { type: "linear", legend: true },
        marks: [
          Plot.dot([{ x: 1, v: 0.1 }, { x: 2, v: 0.9 }], { x: "x", fill: "v" }),
        ],
      }),
    /continuous colour legend.*quantize/,
  );
});

Deno.test("renderPlot() renders a quantize colour legend server-side", () => {
  const fig = renderPlot({
    color: { type: "quantize", n: 4, legend: true },
    marks: [
      Plot.dot([{ x: 1, v: 0.1 }, { x: 2, v: 0.9 }], { x: "x", fill: "v" }),
    ],
  });
  assert.match(fig.html, /^<figure/);
});
