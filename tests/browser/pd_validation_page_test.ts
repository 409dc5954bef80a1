/**
 * `validation.html` of a trained PD model, as a validator opens it: a
 * scorecard's and a tree model's page, trained by `trainPdModel` on data
 * drawn from a known logistic model, from a folder named like markup and
 * with a category named like markup (a `<script>` that closes a table
 * cell first), so the names must show as text.
 *
 * Parsed with linkedom: no injected element, every chart there. Opened in
 * headless Chromium (Debian's chromium driven by playwright-core, as
 * pages_test.ts does) at 1366 and 1920 px: no console error or dialog, no
 * request but its own file, every chart an SVG with a size and drawn
 * marks, nothing scrolls sideways, no table clipped, no chart label
 * outside its chart. Full-page screenshots go to tests/output/.
 *
 * @module
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import pl from "nodejs-polars";
import { trainPdModel } from "../../lib/pd_model/train.ts";
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  requireChromium,
} from "../../lib/notebook/mod.ts";
import { parseMarkup } from "../report/_markup.ts";
import { devData } from "../pd_model/_dev_data.ts";

const OUTPUT = new URL("../output/", import.meta.url).pathname;
const FOLDER = 'dev "><svg onload=alert(3)>';
const CATEGORY = "</td><script>alert(2)</script>";
const INJECTED = "script, img, [onerror], [onload]";
const CHART_SVG = 'figure.chart svg[class^="plot-"]:not([class$="-ramp"])';

Deno.test({
  name:
    "validation.html of a scorecard and of trees shows names as text and renders every chart in Chromium at 1366 and 1920 px, clipping nothing",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "pd_page_test_" });
    const profile = await Deno.makeTempDir({ prefix: "chromium_profile_" });
    try {
      const dir = `${root}/${FOLDER}`;
      await Deno.mkdir(dir);
      const df = devData(6000, 11);
      const data = `${dir}/dev.parquet`;
      df.withColumn(
        pl.Series(
          "employment_type",
          (df.getColumn("employment_type").toArray() as string[]).map((v) =>
            v === "retired" ? CATEGORY : v
          ),
        ),
      ).writeParquet(data);
      const pages = [];
      for (const model of ["scorecard", "gbt"] as const) {
        const trained = await trainPdModel({
          data,
          target: "default_12m",
          model,
          out: `${dir}/${model}`,
          gbt: { trees: 60 },
        });
        pages.push({
          name: model,
          path: `${trained.dir}/validation.html`,
          charts: model === "scorecard" ? 5 : 6,
        });
      }
      for (const p of pages) {
        const parsed = parseMarkup(await Deno.readTextFile(p.path));
        assert.equal(parsed.count(INJECTED), 0, `${p.name}: injected elements`);
        assert.equal(parsed.count(CHART_SVG), p.charts, `${p.name}: charts`);
        const text = parsed.texts("body")[0];
        assert.ok(text.includes(FOLDER), `${p.name} shows the folder`);
        if (p.name === "scorecard") {
          assert.ok(text.includes(CATEGORY), "the category, in the scorecard");
        }
      }
      await requireChromium("check the validation pages");
      await Deno.mkdir(OUTPUT, { recursive: true });
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: [...CHROMIUM_ARGS],
        viewport: { width: 1366, height: 900 },
      });
      try {
        for (const width of [1366, 1920]) {
          for (const p of pages) {
            const tab = await context.newPage();
            await tab.setViewportSize({ width, height: 900 });
            const errors: string[] = [];
            const requests: string[] = [];
            tab.on("console", (m) => {
              if (m.type() === "error") errors.push(m.text());
            });
            tab.on("pageerror", (e) => errors.push(e.message));
            tab.on("dialog", (d) => {
              errors.push(`dialog: ${d.message()}`);
              d.dismiss();
            });
            tab.on("request", (r) => requests.push(r.url()));
            const url = new URL(`file://${await Deno.realPath(p.path)}`).href;
            await tab.goto(url, { waitUntil: "load" });
            const svgs = tab.locator(CHART_SVG);
            assert.equal(await svgs.count(), p.charts, `${p.name}: charts`);
            for (let i = 0; i < p.charts; i++) {
              const box = await svgs.nth(i).boundingBox();
              assert.ok(
                box && box.width > 200 && box.height > 100,
                `${p.name} #${i}`,
              );
            }
            // Each chart draws its marks: lines, bars, dots.
            const marked = await tab.evaluate(
              `[...document.querySelectorAll(${JSON.stringify(CHART_SVG)})]
                .filter((svg) => svg.querySelector('g[aria-label="line"] path, g[aria-label="bar"] rect, g[aria-label="rect"] rect, g[aria-label="dot"] circle'))
                .length`,
            );
            assert.equal(marked, p.charts, `${p.name}: charts with marks`);
            const overflow = await tab.evaluate(
              `document.documentElement.scrollWidth - document.documentElement.clientWidth`,
            );
            assert.equal(
              overflow,
              0,
              `${p.name} at ${width} px scrolls sideways`,
            );
            const clippedTables = await tab.evaluate(
              `[...document.querySelectorAll(".table-wrap")]
                .filter((w) => w.scrollWidth > w.clientWidth)
                .map((w) => (w.querySelector("caption") ?? w.querySelector("th")).textContent)`,
            );
            assert.deepEqual(clippedTables, [], `${p.name} at ${width} px`);
            const clippedLabels = await tab.evaluate(
              `[...document.querySelectorAll(${JSON.stringify(CHART_SVG)})]
                .flatMap((svg) => {
                  const b = svg.getBoundingClientRect();
                  return [...svg.querySelectorAll("text")].filter((t) => {
                    const r = t.getBoundingClientRect();
                    return r.width > 0 && (r.left < b.left - 1 || r.right > b.right + 1 ||
                      r.top < b.top - 1 || r.bottom > b.bottom + 1);
                  }).map((t) => svg.closest("figure.chart").id + ": " + t.textContent);
                })`,
            );
            assert.deepEqual(clippedLabels, [], `${p.name} at ${width} px`);
            const shown = await tab.evaluate(`document.body.innerText`);
            assert.ok((shown as string).includes(FOLDER));
            await tab.screenshot({
              path: `${OUTPUT}pd_validation_${p.name}_${width}.png`,
              fullPage: true,
            });
            assert.deepEqual(errors, [], `${p.name}: console errors`);
            assert.deepEqual(
              requests.filter((r) => !r.startsWith("data:")),
              [url],
              `${p.name}: requests beyond its own file`,
            );
            await tab.close();
          }
        }
      } finally {
        await context.close();
      }
    } finally {
      await Deno.remove(profile, { recursive: true });
      await Deno.remove(root, { recursive: true });
    }
  },
});
