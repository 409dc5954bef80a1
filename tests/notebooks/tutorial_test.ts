/**
 * The committed notebooks are tutorials (notebooks/README.md): each explains
 * its IFRS 9 step with the standard's paragraphs, says what to try next,
 * and never aggregates amounts in the facilities' own currencies; the
 * notebooks are indexed in notebooks/README.md. The tables of the rendered
 * pages are checked in execute_test.ts (`unformattedCells`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { listNotebooks, readNotebook } from "../../lib/notebook/mod.ts";
import {
  citations,
  codeOf,
  localCurrencyAggregates,
  markdownOf,
  MIN_CITATIONS,
  MIN_WORDS,
} from "./_tutorial.ts";

const DIR = fileURLToPath(new URL("../../notebooks", import.meta.url));
const PATHS = await listNotebooks(DIR);

for (const path of PATHS) {
  const name = basename(path, ".ipynb");

  Deno.test(`${name} explains its IFRS 9 step in at least ${MIN_WORDS} words, citing the standard`, async () => {
    const text = markdownOf(await readNotebook(path));
    const words = text.split(/\s+/).filter((w) => w !== "").length;
    assert.ok(words >= MIN_WORDS, `${name}: ${words} words of markdown`);
    const cited = new Set(citations(text));
    assert.ok(
      cited.size >= MIN_CITATIONS,
      `${name}: cites ${[...cited].join(", ") || "no paragraph"}`,
    );
    assert.match(
      text,
      /methodology(\.md)? ?§\d|docs\/\w+\.md/,
      `${name}: no link to the project's docs`,
    );
    assert.match(
      text,
      /^## What to try next$/m,
      `${name}: no "What to try next" section`,
    );
    assert.match(
      text,
      /^## What we found$/m,
      `${name}: no "What we found" section`,
    );
  });

  Deno.test(`${name} adds up amounts only after converting them to the reporting currency`, async () => {
    assert.deepEqual(
      localCurrencyAggregates(codeOf(await readNotebook(path))),
      [],
    );
  });
}

Deno.test("notebooks/README.md lists every notebook in order", async () => {
  const readme = await Deno.readTextFile(`${DIR}/README.md`);
  const listed = [...readme.matchAll(/\]\((\d\d_[a-z0-9_]+)\.ipynb\)/g)].map((
    m,
  ) => m[1]);
  assert.deepEqual(listed, PATHS.map((p) => basename(p, ".ipynb")));
});
