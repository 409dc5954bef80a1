/**
 * Rendered notebook pages as a reader sees them in Chromium, on tiny
 * notebooks that display charts and tables through the library: a chart
 * without a title is drawn (nbconvert used to strip it to a white box), no
 * cell loses its output over 60 cells in a row (the Deno kernel sends some
 * outputs after the cell's idle status, where nbconvert's executor used to
 * stop listening), and a page with a blank chart, an empty output or an
 * output it cannot show fails the notebook, naming the cell.
 *
 * The notebooks are written under `data/tmp/` so that the project's
 * `deno.json` import map applies to the kernel, as it does for
 * `notebooks/`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { parseHTML } from "linkedom";
import {
  executeNotebook,
  type NotebookResult,
} from "../../lib/notebook/mod.ts";
import { projectPath } from "../../lib/mod.ts";
import { code, markdown, notebook, writeNotebooks } from "./_notebook.ts";

/** A folder under data/tmp/ for one test, removed afterwards. */
async function withFolder(fn: (dir: string) => Promise<void>): Promise<void> {
  const tmp = projectPath(join("data", "tmp"));
  await Deno.mkdir(tmp, { recursive: true });
  const dir = await Deno.makeTempDir({ dir: tmp, prefix: "nb-page-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The import line of a cell in `dir`: the Plot renderer of lib/plot. */
function importPlot(dir: string): string {
  const plot = relative(dir, projectPath(join("lib", "plot", "mod.ts")));
  return `import { Plot, renderPlot } from "${plot}";`;
}

/** Executes `<dir>/<name>.ipynb` into `<dir>/out/`. */
async function run(dir: string, name: string): Promise<NotebookResult> {
  return await executeNotebook(join(dir, `${name}.ipynb`), {
    outDir: join(dir, "out"),
  });
}

const STAGES =
  '[{ stage: "Stage 1", n: 870 }, { stage: "Stage 2", n: 110 }, { stage: "Stage 3", n: 20 }]';

Deno.test("executeNotebook() shows a chart without a title, a titled chart and a table drawn on the rendered page", async () => {
  await withFolder(async (dir) => {
    await writeNotebooks(dir, {
      "01_charts": notebook([
        markdown("# Charts"),
        code(`${importPlot(dir)}\nimport pl from "nodejs-polars";`),
        code(
          `renderPlot({ marks: [Plot.barY(${STAGES}, { x: "stage", y: "n" })] })`,
        ),
        code(
          `renderPlot({ title: "Facilities by stage", color: { legend: true }, marks: [Plot.barY(${STAGES}, { x: "stage", y: "n", fill: "stage" })] })`,
        ),
        code(`pl.DataFrame(${STAGES})`),
      ]),
    });
    const result = await run(dir, "01_charts");
    assert.equal(result.status, "ok", result.message ?? "notebook failed");
    assert.deepEqual(result.page, {
      outputsExpected: 3,
      outputsPresent: 3,
      chartsExpected: 2,
      chartsDrawn: 2,
      problems: [],
    });
  });
});

Deno.test("executeNotebook() fails a page whose chart nbconvert strips to an empty box", async () => {
  await withFolder(async (dir) => {
    // What a bare chart displayed as before: SVG only, which nbconvert's
    // HTML templates sanitise down to the <svg> element without marks.
    await writeNotebooks(dir, {
      "02_svg_only": notebook([
        code(importPlot(dir)),
        code(
          `const fig = renderPlot({ marks: [Plot.barY(${STAGES}, { x: "stage", y: "n" })] });\n` +
            `({ [Symbol.for("Jupyter.display")]: () => ({ "image/svg+xml": fig.svg }) })`,
        ),
      ]),
    });
    const result = await run(dir, "02_svg_only");
    assert.equal(result.status, "failed");
    assert.equal(result.page?.chartsExpected, 1, result.message ?? "");
    assert.equal(result.page?.chartsDrawn, 0);
    assert.match(
      result.message ?? "",
      /02_svg_only cell 2 \("const fig = renderPlot.*"\) output 1 \(image\/svg\+xml\) chart 1 of 1: blank, 0 of 3 marks drawn/,
    );
  });
});

Deno.test("executeNotebook() fails a page with an empty output or one it cannot show", async () => {
  await withFolder(async (dir) => {
    await writeNotebooks(dir, {
      "03_empty": notebook([
        code('"fine"'),
        code(
          `({ [Symbol.for("Jupyter.display")]: () => ({ "text/html": '<div style="display:none">hidden</div>' }) })`,
        ),
        code(
          `({ [Symbol.for("Jupyter.display")]: () => ({ "application/x.unknown": "?" }) })`,
        ),
      ]),
    });
    const result = await run(dir, "03_empty");
    assert.equal(result.status, "failed");
    const [hidden, unknown, ...rest] = result.page?.problems ?? [];
    assert.match(
      hidden,
      /^03_empty cell 2 \("\(\{ \[Symbol.for\("Jupyter.display"\)\].*"\) output 1 \(text\/html\): empty on the page \(\d+×\d+ px, nothing to see\)$/,
    );
    assert.match(
      unknown,
      /^03_empty cell 3 \(.*\) output 1 \(execute_result\): no MIME type the HTML page can show$/,
    );
    assert.deepEqual(rest, []);
    assert.equal(result.page?.outputsPresent, 1);
  });
});

Deno.test("executeNotebook() keeps every cell's output over 60 cells of values, logs, displays not awaited and large markup", async () => {
  await withFolder(async (dir) => {
    // Each cell's outputs name the cell, so an output lost or landed in the
    // wrong cell shows. Before the fix about one cell in ten lost its
    // output here (5 to 7 of 40 one-line cells in runs on this machine).
    const cells = Array.from({ length: 60 }, (_, i) => {
      switch (i % 4) {
        case 0:
          return code(`"cell-${i}"`);
        case 1:
          return code(`console.log("cell-${i}");\n"cell-${i}"`);
        case 2:
          return code(
            `Deno.jupyter.display({ "text/html": "<b>cell-${i}</b>" }, { raw: true });\n"cell-${i}"`,
          );
        default:
          return code(
            `({ [Symbol.for("Jupyter.display")]: () => ({ "text/html": "<i>cell-${i}</i>" + " pad".repeat(50000) }) })`,
          );
      }
    });
    await writeNotebooks(dir, { "04_many": notebook(cells) });
    const result = await run(dir, "04_many");
    assert.equal(result.status, "ok", result.message ?? "notebook failed");
    // Two outputs in the cells that log or display, one in the others.
    const expected = cells.reduce(
      (n, _, i) => n + (i % 4 === 1 || i % 4 === 2 ? 2 : 1),
      0,
    );
    assert.equal(result.page?.outputsExpected, expected);
    assert.equal(result.page?.outputsPresent, expected);
    const page = parseHTML(
      await Deno.readTextFile(join(dir, "out", "04_many.html")),
    ) as unknown as {
      document: {
        querySelectorAll(s: string): ArrayLike<{
          querySelectorAll(s: string): ArrayLike<{ textContent: string }>;
        }>;
      };
    };
    const shown = Array.from(
      page.document.querySelectorAll(".jp-CodeCell"),
      (cell) =>
        Array.from(
          cell.querySelectorAll(".jp-OutputArea-output"),
          (o) => o.textContent.match(/cell-\d+/g)?.join(" ") ?? "",
        ),
    );
    const want = cells.map((_, i) =>
      i % 4 === 1 || i % 4 === 2 ? [`cell-${i}`, `cell-${i}`] : [`cell-${i}`]
    );
    assert.deepEqual(shown, want);
  });
});
