/**
 * The pages as a reader gets them: `report.html`, `movement.html`, the trend
 * dashboard, the notebooks' index and the run server's `/docs` page, produced by the real run, movement
 * and dashboard from the committed sample book (two quarter-ends, 5,000
 * facilities, amounts of a bank's size: the widths of its figures are the
 * widths a reader's tables have) in which one product, one region and the
 * folder of the book are named like markup (an `<img onerror>`, a
 * `<script>` that closes a table cell first, an `<svg onload>` after a
 * quote).
 *
 * The book is also named the way a bank names things: a region and a
 * product with long names, loan ids of thirty characters, and overlays
 * with long names and reasons; its two quarters are snapshots of one book
 * (`portfolio_<date>.parquet`), so the second run's report compares with
 * the first, and the movement between them sits beside the runs, where
 * the dashboard finds it.
 *
 * Each page is parsed with linkedom: no injected element exists and the
 * names are there as text. Then each is opened in headless Chromium
 * (Debian's `/usr/bin/chromium` driven by playwright-core, without
 * background networking, a fresh profile) at 1366 and at 1920 px wide: it
 * must log no console error, raise no page error or dialog, request
 * nothing but its own file, show its charts as SVG elements with a size
 * and marks, show the names as text, not scroll sideways, clip no table
 * (no table scrolls inside its box) and draw no chart label outside its
 * chart. A full-page screenshot of each goes to tests/output/ (gitignored)
 * for a human look.
 *
 * Two smaller checks: headline cards keep long figures on one line, and the
 * pages' Content-Security-Policy stops a script and a request that got into
 * a page, as a second line behind the escaping.
 *
 * @module
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import pl from "nodejs-polars";
import type { Expr } from "../../lib/frame.ts";
import { runPortfolio } from "../../lib/run/mod.ts";
import {
  computeMovement,
  writeMovementOutputs,
} from "../../lib/movement/mod.ts";
import { writeDashboard } from "../../lib/report/mod.ts";
import { readRunFolder } from "../../lib/run_folder/mod.ts";
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  renderIndex,
  requireChromium,
} from "../../lib/notebook/mod.ts";
import { raw } from "hono/html";
import { cards, page, section } from "../../lib/page.ts";
import { parseMarkup } from "../report/_markup.ts";
import { fixture } from "../server/_app_fakes.ts";
import { CLOSE_STATE_VERSION, renderClosePage } from "../../lib/close/mod.ts";

const OUTPUT = new URL("../output/", import.meta.url).pathname;
/** The sample book's two quarter-end snapshots. */
const SAMPLE = ["2025-09-30", "2025-12-31"].map((date) =>
  new URL(`../../data/sample/portfolio_${date}.parquet`, import.meta.url)
    .pathname
);
const REFERENCE_RULES = new URL(
  "../../config/ifrs9_rules.yaml",
  import.meta.url,
);

/** A product name, a region name and a folder name made of markup. */
const PRODUCT = "<img src=x onerror=alert(1)>";
const REGION = "</td><script>alert(2)</script>";
const FOLDER = 'book "><svg onload=alert(3)>';

/** Names as long as a bank's: a region, a product and a loan id prefix. */
const LONG_REGION = "Comunidad Foral de Navarra y La Rioja (zona norte)";
const LONG_PRODUCT = "sme_working_capital_lines_secured";
const LOAN_PREFIX = "ES-MADRID-2025-";

/** Two overlays a credit committee would write, long names and reasons. */
const OVERLAYS = `overlays:
  - name: hospitality_and_retail_sme_energy_cost_uplift_2025q4
    filter: { stage: 2 }
    multiplier: 1.15
    reason: "Hospitality and retail SMEs in Spain: energy costs and a weak tourism season that the PD model does not capture (credit committee of 14 November 2025, minute 7.3)"
  - name: restructured_facilities_model_gap
    filter: { stage: 1 }
    add: 25000
    reason: "Known model gap on restructured facilities, see model validation report MV-2025-07"`;

/** Elements the names would create if they reached a page as markup. */
const INJECTED = "script, img, [onerror], [onload]";

/**
 * The drawing of each chart: Plot's own SVG, not the swatches of a legend
 * or the colour ramp of a threshold legend.
 */
const CHART_SVG = 'figure.chart svg[class^="plot-"]:not([class$="-ramp"])';

/** The widths the pages are checked at: a laptop and a desktop screen. */
const WIDTHS = [1366, 1920];

/** A built page, the charts it must show and the names it must show. */
interface BuiltPage {
  path: string;
  charts: number;
  names: string[];
}

/**
 * Builds the four pages from a generated book whose `sme` product is
 * renamed to {@link PRODUCT} (in the rules file too, so its loans are
 * computed) and whose first region is renamed to {@link REGION}, all under
 * a folder named {@link FOLDER}.
 */
async function buildPages(root: string): Promise<Record<string, BuiltPage>> {
  const dir = `${root}/${FOLDER}`;
  await Deno.mkdir(dir, { recursive: true });
  const reference = await Deno.readTextFile(REFERENCE_RULES);
  const rules = reference.replace(
    /^ {2}sme:/m,
    `  ${JSON.stringify(PRODUCT)}:`,
  ).replace(/^ {2}consumer:/m, `  ${LONG_PRODUCT}:`)
    .replace(/^overlays: \[\]$/m, OVERLAYS);
  assert.ok(rules.includes(PRODUCT), "the reference rules have a product sme");
  assert.ok(
    rules.includes(LONG_PRODUCT) && rules.includes(OVERLAYS),
    "the reference rules have a product consumer and no overlay",
  );
  await Deno.writeTextFile(`${dir}/rules.yaml`, rules);
  const runs: string[] = [];
  const books = SAMPLE.map((file) => pl.readParquet(file));
  const [first, second] = books[0].getColumn("region").unique().sort()
    .toArray() as string[];
  for (const book of books) {
    // Each name of `names` replaced by its new name.
    const renamed = (column: string, names: Record<string, string>) => {
      let renaming: Expr = pl.col(column);
      for (const [from, to] of Object.entries(names)) {
        renaming = pl.when(pl.col(column).eq(pl.lit(from))).then(pl.lit(to))
          .otherwise(renaming);
      }
      return renaming.alias(column);
    };
    const date = book.select(pl.col("reporting_date").cast(pl.Utf8))
      .getColumn("reporting_date").get(0) as string;
    // One book at two dates: the second run finds the first beside it.
    const portfolio = `${dir}/portfolio_${date}.parquet`;
    book.withColumns(
      renamed("product", { sme: PRODUCT, consumer: LONG_PRODUCT }),
      renamed("region", { [first]: REGION, [second]: LONG_REGION }),
      pl.concatString([pl.lit(LOAN_PREFIX), pl.col("loan_id")], "")
        .alias("loan_id"),
    ).writeParquet(portfolio);
    const run = await runPortfolio({
      portfolio,
      rules: `${dir}/rules.yaml`,
      out: `${dir}/runs`,
      // Run ids as long as the default ones (file stem and reporting date).
      runId: `portfolio_${date}-${date}`,
    });
    runs.push(run.dir);
  }
  const { movement, facilities } = await computeMovement(
    await readRunFolder(runs[0]),
    await readRunFolder(runs[1]),
  );
  // Beside the runs, where the dashboard finds it for its allowance walk.
  const files = await writeMovementOutputs(
    movement,
    facilities,
    `${dir}/runs/movement`,
  );
  const index = `${dir}/index.html`;
  await Deno.writeTextFile(
    index,
    renderIndex([
      {
        name: "01_data_generation",
        path: "notebooks/01_data_generation.ipynb",
        status: "ok",
        seconds: 2.1,
        html: "01_data_generation.html",
        cellError: null,
        message: null,
      },
      {
        name: "02_eda",
        path: "notebooks/02_eda.ipynb",
        status: "failed",
        seconds: 3.4,
        html: "02_eda.html",
        cellError: { cell: 3, firstLine: REGION, error: `Error: ${PRODUCT}` },
        message:
          `Notebook 02_eda failed at cell 3 ("${REGION}"): Error: ${PRODUCT}`,
      },
    ], new Date("2026-01-05T10:00:00Z")),
  );
  return {
    report: {
      path: `${runs[1]}/report.html`,
      // No row of the generated book breaks a rule: the rows-failed chart
      // is a sentence.
      charts: 8,
      names: [
        PRODUCT,
        REGION,
        FOLDER,
        LONG_REGION,
        LONG_PRODUCT,
        "Compared with run portfolio_2025-09-30-2025-09-30",
        "No validation rule failed",
      ],
    },
    movement: {
      path: files.html,
      charts: 9,
      names: [PRODUCT, FOLDER, LONG_PRODUCT],
    },
    dashboard: {
      path: await writeDashboard(runs, `${dir}/dashboard.html`),
      // Every chart but the data-quality trend, a sentence here.
      charts: 6,
      names: [
        FOLDER,
        PRODUCT,
        "Every period walked with the lines of its movement.json",
        "No row was rejected at any of the 2 reporting dates",
      ],
    },
    notebooks: { path: index, charts: 0, names: [PRODUCT, REGION] },
    close: {
      path: await closePage(dir),
      charts: 0,
      names: [
        `run:${FOLDER}-2025-12-31`,
        `Cannot read portfolio ${PRODUCT}`,
        "blocked",
      ],
    },
    serverDocs: {
      path: await serverDocsPage(dir),
      charts: 0,
      names: [
        "/runs/{id}/files/{name}",
        "Start a run: validate",
        "Model Context Protocol",
      ],
    },
  };
}

/**
 * The quarter-end close's `close.html` for a close whose second run failed
 * (its message and step id holding markup) and blocked two steps.
 */
async function closePage(dir: string): Promise<string> {
  const step = (
    id: string,
    status: "succeeded" | "failed" | "blocked",
    error?: string,
  ) => ({
    id,
    kind: id.split(":")[0] as "run",
    status,
    attempts: status === "blocked" ? 0 : 1,
    seconds: status === "blocked" ? 0 : 12.5,
    outputs: status === "succeeded" ? [`${dir}/runs/${id.split(":")[1]}`] : [],
    input_hashes:
      (status === "succeeded"
        ? { portfolio: "ab".repeat(32), rules: "cd".repeat(32) }
        : {}) as Record<string, string>,
    ...(error ? { error, failure_kind: "input" as const } : {}),
  });
  const path = `${dir}/close.html`;
  await Deno.writeTextFile(
    path,
    renderClosePage({
      close_version: CLOSE_STATE_VERSION,
      config: `${dir}/close.yaml`,
      date: null,
      started_at: "2026-01-05T10:00:00.000Z",
      finished_at: "2026-01-05T10:01:00.000Z",
      steps: [
        step(`run:${FOLDER}-2025-09-30`, "succeeded"),
        step(
          `run:${FOLDER}-2025-12-31`,
          "failed",
          `Cannot read portfolio ${PRODUCT}: line 3: the record has 23 fields but the header has 21`,
        ),
        step(`movement:${FOLDER}-2025-09-30_2025-12-31`, "blocked"),
        step(`dashboard:${FOLDER}`, "blocked"),
      ],
    }),
  );
  return path;
}

/** The run server's `/docs` page, as `GET /docs` answers it, in a file. */
async function serverDocsPage(dir: string): Promise<string> {
  const server = await fixture();
  try {
    const response = await server.app.request("/docs");
    assert.equal(response.status, 200);
    const path = `${dir}/server_docs.html`;
    await Deno.writeTextFile(path, await response.text());
    return path;
  } finally {
    await server.cleanup();
  }
}

/**
 * Launches Chromium headless with background networking, updates and sync
 * off: this machine's closed network refuses those connections.
 */
async function launch(profile: string) {
  await requireChromium("run the browser check");
  return await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS],
    viewport: { width: 1366, height: 768 },
  });
}

Deno.test({
  name:
    "report, movement, dashboard, notebook index, close page and the server's docs page show markup in product, region and folder names as text, and render in Chromium with charts, no error and no request",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const root = await Deno.makeTempDir({ prefix: "browser_test_" });
    const profile = await Deno.makeTempDir({ prefix: "chromium_profile_" });
    try {
      const pages = await buildPages(root);
      await t.step(
        "parsed, each page holds the names as text only",
        async () => {
          for (const [name, built] of Object.entries(pages)) {
            const parsed = parseMarkup(await Deno.readTextFile(built.path));
            assert.equal(
              parsed.count(INJECTED),
              0,
              `${name}: injected elements`,
            );
            assert.equal(
              parsed.count(CHART_SVG),
              built.charts,
              `${name}: SVGs`,
            );
            const text = parsed.texts("body")[0];
            for (const shown of built.names) {
              assert.ok(text.includes(shown), `${name} shows ${shown}`);
            }
          }
        },
      );
      await t.step(
        "in Chromium at 1366 and 1920 px, each page renders its charts, shows the names and clips no table or label",
        async () => {
          await Deno.mkdir(OUTPUT, { recursive: true });
          const context = await launch(profile);
          try {
            for (
              const [width, [name, built]] of WIDTHS.flatMap((w) =>
                Object.entries(pages).map((p) => [w, p] as const)
              )
            ) {
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
              const url = new URL(`file://${await Deno.realPath(built.path)}`)
                .href;
              await tab.goto(url, { waitUntil: "load" });
              const svgs = tab.locator(CHART_SVG);
              const count = await svgs.count();
              assert.equal(count, built.charts, `${name}: chart SVGs`);
              for (let i = 0; i < count; i++) {
                const box = await svgs.nth(i).boundingBox();
                assert.ok(
                  box && box.width > 100 && box.height > 40,
                  `${name} #${i}`,
                );
              }
              // Every chart draws marks, not just axes.
              const marks = await tab.locator(
                'figure.chart svg g[aria-label="bar"] rect, figure.chart svg g[aria-label="cell"] rect, figure.chart svg g[aria-label="rect"] rect, figure.chart svg g[aria-label="line"] path',
              ).count();
              assert.ok(marks >= count, `${name}: ${marks} marks`);
              // What the browser built and shows (strings: the test is
              // type-checked without the DOM library).
              const injected = await tab.evaluate(
                `document.querySelectorAll(${JSON.stringify(INJECTED)}).length`,
              );
              assert.equal(injected, 0, `${name}: injected elements`);
              const shown = await tab.evaluate(`document.body.innerText`);
              for (const text of built.names) {
                assert.ok(
                  (shown as string).includes(text),
                  `${name} shows ${text}`,
                );
              }
              const overflow = await tab.evaluate(
                `document.documentElement.scrollWidth - document.documentElement.clientWidth`,
              );
              assert.equal(overflow, 0, `${name}: scrolls sideways`);
              // A table wider than its box scrolls inside it, hiding its
              // last columns (the ECL impact of the overlays, the
              // coverage of the dashboard).
              const clippedTables = await tab.evaluate(
                `[...document.querySelectorAll(".table-wrap")]
                  .filter((w) => w.scrollWidth > w.clientWidth)
                  .map((w) => (w.querySelector("caption") ?? w.querySelector("th")).textContent)`,
              );
              assert.deepEqual(clippedTables, [], `${name} at ${width} px`);
              // Every label of every chart lies inside its chart's box
              // (1 px for rounding).
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
              assert.deepEqual(clippedLabels, [], `${name} at ${width} px`);
              await tab.screenshot({
                path: `${OUTPUT}${name}_${width}.png`,
                fullPage: true,
              });
              assert.deepEqual(errors, [], `${name}: console errors`);
              assert.deepEqual(
                requests.filter((r) => !r.startsWith("data:")),
                [url],
                `${name}: requests beyond its own file`,
              );
              await tab.close();
            }
          } finally {
            await context.close();
          }
        },
      );
    } finally {
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
    const html = page(
      { title: "cards" },
      section(
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
    );
    const profile = await Deno.makeTempDir({ prefix: "chromium_profile_" });
    const context = await launch(profile);
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

Deno.test({
  name:
    "the page's policy stops a script and a request that got into a page by any other way",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const html = page(
      { title: "policy" },
      raw(
        `<script>document.title = "ran"</script><img src="http://127.0.0.1:9/x.png">`,
      ),
    );
    const profile = await Deno.makeTempDir({ prefix: "chromium_profile_" });
    const context = await launch(profile);
    try {
      const tab = await context.newPage();
      const violations: string[] = [];
      tab.on("console", (m) => {
        if (/Content Security Policy/.test(m.text())) violations.push(m.text());
      });
      await tab.setContent(html, { waitUntil: "load" });
      assert.equal(await tab.title(), "policy");
      const loaded = await tab.evaluate(
        `document.querySelector("img").complete && document.querySelector("img").naturalWidth > 0`,
      );
      assert.equal(loaded, false);
      assert.equal(violations.length, 2, violations.join("\n"));
    } finally {
      await context.close();
      await Deno.remove(profile, { recursive: true });
    }
  },
});
