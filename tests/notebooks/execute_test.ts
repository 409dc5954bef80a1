/**
 * Executes every committed notebook headless on a small book
 * (`IFRS9_NOTEBOOK_LOANS=2000`) and fails on any error output, naming the
 * notebook and the cell.
 *
 * @module
 */
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { executeNotebook, listNotebooks } from "../../lib/notebook/mod.ts";

const DIR = fileURLToPath(new URL("../../notebooks", import.meta.url));

for (const path of await listNotebooks(DIR)) {
  const name = basename(path, ".ipynb");
  Deno.test(`executeNotebook() runs ${name} on a 2000-loan book without errors`, async () => {
    const out = await Deno.makeTempDir({ prefix: `ifrs9-nb-${name}-` });
    try {
      const result = await executeNotebook(path, {
        outDir: out,
        env: { IFRS9_NOTEBOOK_LOANS: "2000" },
      });
      assert.equal(result.status, "ok", result.message ?? undefined);
      assert.ok((await Deno.stat(join(out, `${name}.html`))).isFile);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  });
}
