/**
 * `monitor.html` as a reader gets it: written by the real monitoring
 * (`monitorPdFiles`, scoring through ONNX Runtime, and
 * `writeMonitorOutputs`) for a hand-built model folder and a shifted
 * population whose file name is markup, opened in headless Chromium at
 * 1366 and 1920 px: no console error, no request beyond the file, the five
 * charts drawn (the score, the three worst characteristics, the backtest)
 * with a size and marks, the file name shown as text, no sideways scroll,
 * no table clipped, no chart label outside its chart. Screenshots go to
 * tests/output/ for a human look.
 *
 * @module
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { monitorPdFiles, writeMonitorOutputs } from "../../lib/mod.ts";
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  requireChromium,
} from "../../lib/notebook/mod.ts";
import {
  csv,
  population,
  writeModelFolder,
} from "../pd_model/_monitor_fixture.ts";

const OUTPUT = new URL("../output/", import.meta.url).pathname;
const NAME = 'book "><svg onload=alert(3)>.csv';
const CHART_SVG = 'figure.chart svg[class^="plot-"]:not([class$="-ramp"])';

Deno.test({
  name:
    "monitor.html renders in Chromium at 1366 and 1920 px with its charts, the markup of a file name as text, nothing clipped and no request",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "monitor_page_" });
    const profile = await Deno.makeTempDir({ prefix: "chromium_profile_" });
    try {
      await writeModelFolder(`${root}/model`, 4000);
      const mon = population(3000, 2, { shift: true, pdFactor: 1.8 });
      await Deno.writeTextFile(`${root}/${NAME}`, csv(mon));
      const result = await monitorPdFiles({
        model: `${root}/model`,
        data: `${root}/${NAME}`,
      });
      const { html } = await writeMonitorOutputs(result, `${root}/out`);
      await requireChromium("run the browser check");
      await Deno.mkdir(OUTPUT, { recursive: true });
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: [...CHROMIUM_ARGS],
        viewport: { width: 1366, height: 900 },
      });
      try {
        for (const width of [1366, 1920]) {
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
          const url = new URL(`file://${await Deno.realPath(html)}`).href;
          await tab.goto(url, { waitUntil: "load" });
          const svgs = tab.locator(CHART_SVG);
          assert.equal(await svgs.count(), 5, "charts");
          for (let i = 0; i < 5; i++) {
            const box = await svgs.nth(i).boundingBox();
            assert.ok(box && box.width > 300 && box.height > 150, `chart ${i}`);
          }
          // Bars in the four share charts, dots in the backtest chart.
          const bars = await tab.locator(
            'figure.chart svg g[aria-label="bar"] rect',
          ).count();
          assert.ok(bars >= 4 * 2 * 5, `${bars} bars`);
          const dots = await tab.locator(
            '#backtest-chart svg g[aria-label="dot"] circle',
          ).count();
          assert.equal(dots, 2 * result.backtest!.grades.length);
          const shown = await tab.evaluate(`document.body.innerText`) as string;
          assert.ok(shown.includes(NAME), "the file name as text");
          assert.equal(
            await tab.evaluate(
              `document.querySelectorAll("svg[onload], script").length`,
            ),
            0,
          );
          assert.equal(
            await tab.evaluate(
              `document.documentElement.scrollWidth - document.documentElement.clientWidth`,
            ),
            0,
            `scrolls sideways at ${width} px`,
          );
          const clippedTables = await tab.evaluate(
            `[...document.querySelectorAll(".table-wrap")]
              .filter((w) => w.offsetParent !== null && w.scrollWidth > w.clientWidth)
              .map((w) => (w.querySelector("caption") ?? w.querySelector("th")).textContent)`,
          );
          assert.deepEqual(clippedTables, [], `tables at ${width} px`);
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
          assert.deepEqual(clippedLabels, [], `chart labels at ${width} px`);
          await tab.screenshot({
            path: `${OUTPUT}monitor_${width}.png`,
            fullPage: true,
          });
          assert.deepEqual(errors, [], "console errors");
          assert.deepEqual(
            requests.filter((r) => !r.startsWith("data:")),
            [url],
            "requests beyond its own file",
          );
          await tab.close();
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
