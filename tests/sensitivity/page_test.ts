/**
 * The sensitivity table and chart as a reader gets them: report.html of a
 * real run whose rules have a `sensitivity:` section, and the page of
 * `deno task sensitivity`, opened in headless Chromium (Debian's
 * `/usr/bin/chromium` through playwright-core) at 1366 px: the section is
 * listed, its table has a row per line with the figures of summary.json,
 * its chart is an SVG with a size, a bar per line and the weighted line,
 * no table of the section scrolls inside its box, no chart label falls
 * outside its chart, the page does not scroll sideways and logs no error.
 * A screenshot goes to tests/output/ for a human look.
 *
 * @module
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { DEFAULT_FX, runPortfolio } from "../../lib/run/mod.ts";
import { formatInUnit } from "../../lib/format.ts";
import { sensitivityUnit } from "../../lib/report/sensitivity_section.ts";
import { summaryUnit } from "../../lib/report/mod.ts";
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  requireChromium,
} from "../../lib/notebook/mod.ts";
import { writePortfolio } from "../run/_portfolio.ts";
import { main } from "../../tasks/sensitivity.ts";
import { callMain } from "../tasks/_main.ts";

const OUTPUT = new URL("../output/", import.meta.url).pathname;
const REFERENCE_RULES = new URL(
  "../../config/ifrs9_rules.yaml",
  import.meta.url,
);
const SECTION = `
sensitivity:
  scenarios: true
  stresses:
    - { name: pd_shock_times_two_with_a_long_name, pd_multiplier: 2 }
    - { name: collateral_minus_30, collateral_shock: 0.3 }
    - { name: severe_combined, pd_multiplier: 3, collateral_shock: 0.5 }
`;
const CHART_SVG = '#chart-sensitivity svg[class^="plot-"]';

Deno.test({
  name:
    "report.html and sensitivity.html show the sensitivity table and chart in Chromium at 1366 px, nothing clipped",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "sensitivity_page_" });
    const profile = await Deno.makeTempDir({ prefix: "chromium_profile_" });
    try {
      const portfolio = writePortfolio(`${root}/book.parquet`, 400);
      const rules = `${root}/rules.yaml`;
      await Deno.writeTextFile(
        rules,
        (await Deno.readTextFile(REFERENCE_RULES)) + SECTION,
      );
      const run = await runPortfolio({
        portfolio,
        rules,
        fx: DEFAULT_FX,
        out: `${root}/runs`,
        runId: "q4",
      });
      const s = run.summary.sensitivity!;
      assert.equal(s.lines.length, 1 + 3 + 3);
      const task = await callMain(
        main,
        "--portfolio",
        portfolio,
        "--rules",
        rules,
        "--fx",
        DEFAULT_FX,
        "--out",
        `${root}/standalone`,
      );
      assert.equal(task.code, 0, task.stderr);
      await requireChromium("run the browser check");
      await Deno.mkdir(OUTPUT, { recursive: true });
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: [...CHROMIUM_ARGS],
        viewport: { width: 1366, height: 900 },
      });
      try {
        const pages = [
          ["report", `${run.dir}/report.html`],
          ["standalone", `${root}/standalone/sensitivity.html`],
        ] as const;
        for (const [name, path] of pages) {
          const tab = await context.newPage();
          const errors: string[] = [];
          tab.on("console", (m) => {
            if (m.type() === "error") errors.push(m.text());
          });
          tab.on("pageerror", (e) => errors.push(e.message));
          await tab.goto(new URL(`file://${path}`).href, { waitUntil: "load" });
          if (name === "report") {
            assert.equal(
              await tab.locator('nav.toc a[href="#sensitivity"]').count(),
              1,
              "listed in the page's links",
            );
          }
          // The table: a row per line, the ECL of summary.json in the unit.
          const rows = tab.locator("#sensitivity .table-wrap").first()
            .locator("tbody tr");
          assert.equal(await rows.count(), s.lines.length);
          // The report's unit is the run's (its totals), the page's its own.
          const unit = name === "report"
            ? summaryUnit(run.summary)
            : sensitivityUnit(s);
          for (let i = 0; i < s.lines.length; i++) {
            const cells = await rows.nth(i).locator("td").allTextContents();
            assert.equal(cells[1], formatInUnit(s.lines[i].ecl, unit));
          }
          assert.match(
            await rows.nth(4).textContent() ?? "",
            /stress: pd_shock_times_two_with_a_long_name.*re-staged/,
          );
          // The chart: an SVG with a size, a bar per line, the weighted rule.
          const svg = tab.locator(CHART_SVG);
          assert.equal(await svg.count(), 1, `${name}: the chart`);
          const box = await svg.boundingBox();
          assert.ok(box && box.width > 300 && box.height > 150, `${name} box`);
          assert.equal(
            await tab.locator(`${CHART_SVG} g[aria-label="bar"] rect`).count(),
            s.lines.length,
          );
          assert.ok(
            await tab.locator(`${CHART_SVG} g[aria-label="rule"] line`)
              .count() >= 2,
            "the weighted line and the zero line",
          );
          assert.equal(
            await tab.evaluate(
              `document.documentElement.scrollWidth - document.documentElement.clientWidth`,
            ),
            0,
            `${name} scrolls sideways`,
          );
          const clippedTables = await tab.evaluate(
            `[...document.querySelectorAll("#sensitivity .table-wrap")]
              .filter((w) => w.scrollWidth > w.clientWidth)
              .map((w) => w.querySelector("caption").textContent)`,
          );
          assert.deepEqual(clippedTables, [], `${name}: tables`);
          const clippedLabels = await tab.evaluate(
            `[...document.querySelectorAll(${JSON.stringify(CHART_SVG)})]
              .flatMap((svg) => {
                const b = svg.getBoundingClientRect();
                return [...svg.querySelectorAll("text")].filter((t) => {
                  const r = t.getBoundingClientRect();
                  return r.width > 0 && (r.left < b.left - 1 || r.right > b.right + 1 ||
                    r.top < b.top - 1 || r.bottom > b.bottom + 1);
                }).map((t) => t.textContent);
              })`,
          );
          assert.deepEqual(clippedLabels, [], `${name}: chart labels`);
          assert.deepEqual(errors, [], `${name}: console errors`);
          await tab.locator("#sensitivity").screenshot({
            path: `${OUTPUT}/sensitivity_${name}_1366.png`,
          });
          await tab.close();
        }
      } finally {
        await context.close();
      }
    } finally {
      await Deno.remove(root, { recursive: true });
      await Deno.remove(profile, { recursive: true });
    }
  },
});
