/**
 * The committed notebooks: no outputs, no execution counts, no absolute
 * paths; each opens with a markdown cell (what it does, what it reads) and
 * ends with a markdown + code cell of what it found; each runs on the Deno
 * kernel.
 *
 * @module
 */
import assert from "node:assert/strict";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import {
  committedNotebookIssues,
  listNotebooks,
  readNotebook,
} from "../../lib/notebook/mod.ts";

const DIR = fileURLToPath(new URL("../../notebooks", import.meta.url));
const PATHS = await listNotebooks(DIR);

Deno.test("notebooks/ holds the numbered notebooks of the notebook door", () => {
  const names = PATHS.map((p) => basename(p));
  for (
    const want of [
      "01_data_generation.ipynb",
      "02_eda.ipynb",
      "03_validation.ipynb",
    ]
  ) {
    assert.ok(names.includes(want), `${want} is missing from notebooks/`);
  }
  for (const name of names) assert.match(name, /^\d\d_[a-z0-9_]+\.ipynb$/);
});

for (const path of PATHS) {
  const name = basename(path);
  Deno.test(`committedNotebookIssues() finds nothing in ${name}`, async () => {
    const nb = await readNotebook(path);
    assert.deepEqual(committedNotebookIssues(nb, name), []);
  });

  Deno.test(`${name} opens with its purpose and ends with computed findings`, async () => {
    const nb = await readNotebook(path);
    assert.equal((nb.metadata.kernelspec as { name?: string })?.name, "deno");
    assert.equal(nb.cells[0].cell_type, "markdown");
    const [penultimate, last] = nb.cells.slice(-2);
    assert.equal(penultimate.cell_type, "markdown");
    assert.equal(last.cell_type, "code");
    for (const cell of nb.cells) {
      assert.ok(cell.id, `${name}: every cell needs an id (nbformat 4.5)`);
    }
  });
}
