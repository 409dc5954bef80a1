/**
 * Notebook 05_pd_model (PD models) executed headless on a 2,000-loan book
 * into a scratch folder of its own: it runs without an error and renders
 * every output and chart in Chromium (as every notebook does in
 * execute_test.ts), and what it claims is on disk: both model folders
 * written, the run with the model as a PD source records the champion's
 * model.onnx by its SHA-256 while the run with the given PDs records none,
 * and the findings quote the held-out AUC of metrics.json. The notebook is
 * listed in the index between staging (04) and ECL (06).
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  executeNotebook,
  openPageChecker,
  readNotebook,
} from "../../lib/notebook/mod.ts";
import { codeOf } from "./_tutorial.ts";

const NOTEBOOKS = fileURLToPath(new URL("../../notebooks", import.meta.url));
const PATH = join(NOTEBOOKS, "05_pd_model.ipynb");

Deno.test("05_pd_model sits between 04_staging and 06_ecl in the index and uses the public face only", async () => {
  const readme = await Deno.readTextFile(join(NOTEBOOKS, "README.md"));
  const order = [...readme.matchAll(/\]\((0[4-6]_[a-z_]+)\.ipynb\)/g)].map((
    m,
  ) => m[1]);
  assert.deepEqual(order, ["04_staging", "05_pd_model", "06_ecl"]);
  const code = codeOf(await readNotebook(PATH));
  const imports = [...code.matchAll(/from "(\.[^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual([...new Set(imports)], ["../lib/mod.ts"]);
  // The run names the model as a segment's PD source.
  assert.match(code, /pd_source: \{ onnx: pd_champion\/model\.onnx \}/);
});

Deno.test({
  name:
    "05_pd_model trains both models, runs the book with the champion as a PD source and reports what it wrote",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "ifrs9-nb-05-" });
    const scratch = await Deno.makeTempDir({ prefix: "ifrs9-nb-05-scratch-" });
    const pages = await openPageChecker();
    try {
      const result = await executeNotebook(PATH, {
        outDir: out,
        env: {
          IFRS9_NOTEBOOK_LOANS: "2000",
          IFRS9_PD_NOTEBOOK_SCRATCH: scratch,
        },
        pages,
      });
      assert.equal(result.status, "ok", result.message ?? "");
      const page = result.page!;
      assert.deepEqual(page.problems, []);
      assert.equal(page.chartsDrawn, page.chartsExpected);
      assert.ok(page.chartsExpected >= 3);
      for (const folder of ["pd_champion", "pd_challenger"]) {
        const files = [...Deno.readDirSync(join(scratch, folder))].map((e) =>
          e.name
        );
        for (
          const f of [
            "model.onnx",
            "model.json",
            "metrics.json",
            "validation.html",
          ]
        ) {
          assert.ok(files.includes(f), `${folder}/${f}`);
        }
      }
      const onnx = await Deno.readFile(join(scratch, "pd_champion/model.onnx"));
      const sha = createHash("sha256").update(onnx).digest("hex");
      const manifest = (id: string) =>
        JSON.parse(
          Deno.readTextFileSync(join(scratch, "runs", id, "manifest.json")),
        );
      const scored = manifest("model_pd");
      assert.equal(scored.pd_models.length, 1);
      assert.equal(scored.pd_models[0].sha256, sha);
      assert.ok(scored.pd_models[0].model.endsWith("pd_champion/model.onnx"));
      assert.equal(manifest("given_pd").pd_models, undefined);
      // The findings quote the figures the model folders hold.
      const html = await Deno.readTextFile(join(out, "05_pd_model.html"));
      for (const folder of ["pd_champion", "pd_challenger"]) {
        const auc = JSON.parse(
          Deno.readTextFileSync(join(scratch, folder, "metrics.json")),
        ).held_out.auc as number;
        assert.ok(
          html.includes(auc.toFixed(3)),
          `${folder} AUC ${auc.toFixed(3)}`,
        );
      }
    } finally {
      await pages.close();
      await Deno.remove(out, { recursive: true });
      await Deno.remove(scratch, { recursive: true });
    }
  },
});
