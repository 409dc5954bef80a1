/**
 * The ECL walk on movement.html in Chromium at 1366 px (docs/movement.md
 * §6): the waterfall is drawn with one bar per driver plus the opening and
 * closing, the steps table has a row per driver, nothing is wider than the
 * window, and the page raises no error. The screenshot goes to
 * tests/output/walk.png (gitignored) for a person to look at.
 *
 * @module
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  requireChromium,
} from "../../lib/notebook/page_check.ts";
import { generatePortfolio } from "../../lib/generate/mod.ts";
import { runPortfolio } from "../../lib/run/mod.ts";
import { main } from "../../tasks/movement.ts";
import { WALK_DRIVERS } from "../../lib/walk/mod.ts";

Deno.test({
  name:
    "movement.html shows the ECL walk's waterfall and tables in Chromium at 1366 px",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await requireChromium("check the ECL walk's page");
    const root = await Deno.makeTempDir({ prefix: "walk_page_" });
    const profile = await Deno.makeTempDir({ prefix: "chromium_profile_" });
    try {
      const gen = await generatePortfolio({
        loans: 600,
        seed: 21,
        reportingDate: "2025-12-31",
        periods: 2,
        out: `${root}/book`,
      });
      const dirs: string[] = [];
      for (const s of gen.snapshots) {
        dirs.push(
          (await runPortfolio({
            portfolio: s.path,
            out: `${root}/runs`,
            runId: s.reportingDate,
            report: false,
          })).dir,
        );
      }
      assert.equal(
        await main([
          "--from",
          dirs[0],
          "--to",
          dirs[1],
          "--out",
          `${root}/out`,
          "--walk",
        ]),
        0,
      );
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: [...CHROMIUM_ARGS],
        viewport: { width: 1366, height: 768 },
      });
      try {
        const tab = await context.newPage();
        const errors: string[] = [];
        tab.on("pageerror", (e) => errors.push(String(e)));
        await tab.goto(`file://${root}/out/movement.html`);
        // A string, run in the page (the test's own types have no DOM).
        const found = await tab.evaluate(`(() => {
          const walk = document.querySelector("#walk");
          // The plot's svg (the legend's swatches are small svgs of their own).
          const svg = [...walk.querySelectorAll("svg")].sort(
            (a, b) => b.querySelectorAll("rect").length - a.querySelectorAll("rect").length,
          )[0];
          return {
            bars: svg.querySelectorAll("rect").length,
            rows: walk.querySelector("table").querySelectorAll("tbody tr").length,
            svgWidth: svg.getBoundingClientRect().width,
            right: Math.max(
              ...[...walk.querySelectorAll("*")].map((e) => e.getBoundingClientRect().right),
            ),
            pageWidth: document.documentElement.scrollWidth,
          };
        })()`) as {
          bars: number;
          rows: number;
          svgWidth: number;
          right: number;
          pageWidth: number;
        };
        assert.deepEqual(errors, []);
        // Opening, closing and one bar per driver.
        assert.ok(found.bars >= WALK_DRIVERS.length + 2, `${found.bars} bars`);
        assert.equal(found.rows, WALK_DRIVERS.length + 2);
        assert.ok(found.svgWidth > 300);
        assert.ok(found.pageWidth <= 1366, `page ${found.pageWidth} px wide`);
        assert.ok(
          found.right <= 1366,
          `walk section reaches ${found.right} px`,
        );
        // What the walk's lines measure beside the reconciliation's.
        const text = await tab.evaluate(
          `document.querySelector("#walk").innerText`,
        ) as string;
        assert.match(text, /Write-offs \(net ECL effect\)/);
        assert.match(text, /not the reconciliation's lines of the same name/);
        // The facility tables: a loan_id (up to 256 characters) wraps in
        // its cell instead of pushing the amounts out of view.
        const idCells = await tab.evaluate(`[...document.querySelectorAll(
          "#walk details")].filter((d) => / facilities, the largest /.test(
          d.querySelector("summary").textContent)).map((d) =>
          d.querySelector("tbody td").className)`) as string[];
        assert.ok(idCells.length > 0);
        assert.ok(idCells.every((c) => c === "wrap"), idCells.join(", "));
        await Deno.mkdir("tests/output", { recursive: true });
        await (await tab.$("#walk"))!.screenshot({
          path: "tests/output/walk.png",
        });
      } finally {
        await context.close();
      }
    } finally {
      await Deno.remove(root, { recursive: true });
      await Deno.remove(profile, { recursive: true });
    }
  },
});
