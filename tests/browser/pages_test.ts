/**
 * The real browser check: `report.html`, `movement.html` and the trend
 * dashboard, produced from a generated two-quarter book by the real run,
 * opened in headless Chromium (Debian's `/usr/bin/chromium` driven by
 * playwright-core, flags from docs/toolchain.md, a fresh profile). Each
 * page must log no console error and raise no page error, request nothing
 * but its own file, and show its charts as SVG elements with a size. A
 * full-page screenshot of each goes to tests/output/ (gitignored) for a
 * human look.
 *
 * @module
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { generatePortfolio } from "../../lib/generate/mod.ts";
import { runPortfolio } from "../../lib/run/mod.ts";
import {
  computeMovement,
  writeMovementOutputs,
} from "../../lib/movement/mod.ts";
import { readRunFolder, writeDashboard } from "../../lib/report/mod.ts";
import { cards, page, section } from "../../lib/report/html.ts";

const CHROMIUM = "/usr/bin/chromium";
const OUTPUT = new URL("../output/", import.meta.url).pathname;

/** Builds the three pages from a generated book; returns their paths. */
async function buildPages(root: string) {
  const gen = await generatePortfolio({
    loans: 300,
    seed: 11,
    reportingDate: "2025-12-31",
    periods: 2,
    out: `${root}/book`,
  });
  const runs: string[] = [];
  for (const s of gen.snapshots) {
    const run = await runPortfolio({
      portfolio: s.path,
      out: `${root}/runs`,
      runId: s.reportingDate,
    });
    runs.push(run.dir);
  }
  const { movement, facilities } = await computeMovement(
    await readRunFolder(runs[0]),
    await readRunFolder(runs[1]),
  );
  const files = await writeMovementOutputs(
    movement,
    facilities,
    `${root}/movement`,
  );
  const dashboard = await writeDashboard(runs, `${root}/dashboard.html`);
  return {
    report: `${runs[1]}/report.html`,
    movement: files.html,
    dashboard,
  };
}

Deno.test({
  name:
    "report, movement and dashboard pages render in Chromium with charts, no console error and no network request",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    try {
      await Deno.stat(CHROMIUM);
    } catch {
      throw new Error(
        `Cannot run the browser check: ${CHROMIUM} is missing (deno task setup installs Debian's chromium)`,
      );
    }
    const root = await Deno.makeTempDir({ prefix: "browser_test_" });
    const pages = await buildPages(root);
    await Deno.mkdir(OUTPUT, { recursive: true });
    const profile = await Deno.makeTempDir({ prefix: "chromium_profile_" });
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      viewport: { width: 1366, height: 768 },
    });
    try {
      const expected: Record<keyof typeof pages, number> = {
        report: 9,
        movement: 3,
        dashboard: 3,
      };
      for (const [name, path] of Object.entries(pages)) {
        const page = await context.newPage();
        const errors: string[] = [];
        const requests: string[] = [];
        page.on("console", (m) => {
          if (m.type() === "error") errors.push(m.text());
        });
        page.on("pageerror", (e) => errors.push(e.message));
        page.on("request", (r) => requests.push(r.url()));
        const url = new URL(`file://${await Deno.realPath(path)}`).href;
        await page.goto(url, { waitUntil: "load" });
        const svgs = page.locator("figure.chart svg");
        const count = await svgs.count();
        assert.ok(
          count >= expected[name as keyof typeof pages],
          `${name}: ${count} chart SVGs`,
        );
        for (let i = 0; i < count; i++) {
          const box = await svgs.nth(i).boundingBox();
          assert.ok(box && box.width > 100 && box.height > 40, `${name} #${i}`);
        }
        // Every chart draws marks, not just axes.
        const marks = await page.locator(
          'figure.chart svg g[aria-label="bar"] rect, figure.chart svg g[aria-label="cell"] rect, figure.chart svg g[aria-label="rect"] rect, figure.chart svg g[aria-label="line"] path',
        ).count();
        assert.ok(marks > count, `${name}: ${marks} marks`);
        await page.screenshot({ path: `${OUTPUT}${name}.png`, fullPage: true });
        assert.deepEqual(errors, [], `${name}: console errors`);
        assert.deepEqual(
          requests.filter((r) => !r.startsWith("data:")),
          [url],
          `${name}: requests beyond its own file`,
        );
        await page.close();
      }
    } finally {
      await context.close();
      await Deno.remove(profile, { recursive: true });
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "headline cards keep figures up to hundreds of billions on one line on a laptop screen",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const html = page({
      title: "cards",
      subtitle: "",
      toc: [],
      body: section(
        "headline",
        "Headline",
        cards([
          { label: "Loss allowance (EUR)", value: "1,918,350,612.61" },
          { label: "Coverage", value: "0.89%" },
          { label: "EAD (EUR)", value: "203,456,789,012.34" },
          { label: "Gross carrying amount (EUR)", value: "201,046,501,299.29" },
          { label: "Facilities", value: "10,000,000" },
          { label: "Stage 3 share of EAD", value: "1.68%" },
        ]),
      ),
      footer: "",
    });
    const profile = await Deno.makeTempDir({ prefix: "chromium_profile_" });
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu"],
      viewport: { width: 1366, height: 768 },
    });
    try {
      const tab = await context.newPage();
      await tab.setContent(html, { waitUntil: "load" });
      // Line boxes of each value's text: one means it did not wrap.
      // (A string: the test is type-checked without the DOM library.)
      const lines = await tab.evaluate(
        `[...document.querySelectorAll(".card-value")]
        .map((el) => { const r = document.createRange(); r.selectNodeContents(el);
          return r.getClientRects().length; })`,
      );
      assert.deepEqual(lines, [1, 1, 1, 1, 1, 1]);
    } finally {
      await context.close();
      await Deno.remove(profile, { recursive: true });
    }
  },
});
