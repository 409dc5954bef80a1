/**
 * Executes every committed notebook headless on a small book
 * (`IFRS9_NOTEBOOK_LOANS=2000`), renders it and opens the page in
 * Chromium: no cell may raise, and the page must show every output of the
 * executed notebook and draw every chart (lib/notebook/page_check.ts). A
 * failure names the notebook, the cell and what is wrong.
 *
 * @module
 */
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  executeNotebook,
  listNotebooks,
  openPageChecker,
} from "../../lib/notebook/mod.ts";
import { unformattedCells } from "./_tutorial.ts";

const DIR = fileURLToPath(new URL("../../notebooks", import.meta.url));

Deno.test({
  name:
    "executeNotebook() runs each notebook on a 2000-loan book without errors, every output and chart shown in Chromium",
  // Chromium's pipes stay open between steps: one browser serves them all.
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const pages = await openPageChecker();
    try {
      for (const path of await listNotebooks(DIR)) {
        const name = basename(path, ".ipynb");
        await t.step(name, async () => {
          const out = await Deno.makeTempDir({ prefix: `ifrs9-nb-${name}-` });
          try {
            const result = await executeNotebook(path, {
              outDir: out,
              env: { IFRS9_NOTEBOOK_LOANS: "2000" },
              pages,
            });
            assert.equal(
              result.status,
              "ok",
              result.message ?? "notebook failed",
            );
            assert.ok((await Deno.stat(join(out, `${name}.html`))).isFile);
            // Tables formatted for people (notebooks/README.md): no raw
            // floats, no dates as JavaScript strings.
            assert.deepEqual(
              unformattedCells(
                await Deno.readTextFile(join(out, `${name}.html`)),
              ),
              [],
            );
            const page = result.page!;
            assert.deepEqual(page.problems, []);
            assert.equal(page.outputsPresent, page.outputsExpected);
            assert.equal(page.chartsDrawn, page.chartsExpected);
          } finally {
            await Deno.remove(out, { recursive: true });
          }
        });
      }
    } finally {
      await pages.close();
    }
  },
});
