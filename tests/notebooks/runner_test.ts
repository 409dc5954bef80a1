/**
 * Tests of the headless notebook runner on tiny notebooks written to a temp
 * dir: a failing cell is reported with notebook name and cell, a passing
 * notebook renders to HTML, the index lists both with what their pages
 * show; plus the pure helpers.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  committedNotebookIssues,
  executeNotebook,
  findCellErrors,
  listNotebooks,
  runNotebooks,
} from "../../lib/notebook/mod.ts";
import { code, markdown, notebook, writeNotebooks } from "./_notebook.ts";

const PASSING = notebook([
  markdown("# Passing"),
  code("const total = [1, 2, 3].reduce((a, b) => a + b, 0);\ntotal"),
]);

const FAILING = notebook([
  markdown("# Failing"),
  code("const ok = 1;"),
  code('\n// stage the book\nthrow new RangeError("stage 4 does not exist");'),
  code("console.log('after the failure');"),
]);

Deno.test("executeNotebook() reports a failing cell with notebook name, cell and error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ifrs9-nb-test-" });
  try {
    await writeNotebooks(dir, { "91_broken": FAILING });
    const result = await executeNotebook(join(dir, "91_broken.ipynb"), {
      outDir: join(dir, "out"),
    });
    assert.equal(result.status, "failed");
    assert.deepEqual(result.cellError, {
      cell: 3,
      firstLine: "// stage the book",
      error: "RangeError: stage 4 does not exist",
    });
    assert.equal(
      result.message,
      'Notebook 91_broken failed at cell 3 ("// stage the book"): RangeError: stage 4 does not exist',
    );
    // The page is still rendered, so a reader sees where it broke.
    assert.equal(result.html, "91_broken.html");
    const html = await Deno.readTextFile(join(dir, "out", "91_broken.html"));
    assert.match(html, /stage 4 does not exist/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runNotebooks() renders each notebook and an index with status and time", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ifrs9-nb-test-" });
  try {
    await writeNotebooks(dir, { "01_fine": PASSING, "02_broken": FAILING });
    const out = join(dir, "report");
    const started: string[] = [];
    const report = await runNotebooks(dir, {
      outDir: out,
      onStart: (n) => started.push(n),
    });
    assert.deepEqual(started, ["01_fine.ipynb", "02_broken.ipynb"]);
    assert.equal(report.ok, false);
    assert.deepEqual(report.results.map((r) => [r.name, r.status]), [
      ["01_fine", "ok"],
      ["02_broken", "failed"],
    ]);
    const page = await Deno.readTextFile(join(out, "01_fine.html"));
    assert.match(page, /total/);
    const index = await Deno.readTextFile(report.index);
    // Status, then outputs shown and charts drawn as checked in Chromium.
    assert.match(
      index,
      /<a href="01_fine.html">01_fine<\/a><\/td><td>ok<\/td><td class="num">1 of 1<\/td><td class="num">0 of 0<\/td>/,
    );
    assert.match(
      index,
      /<a href="02_broken.html">02_broken<\/a><\/td><td>failed<\/td>/,
    );
    assert.match(index, /1 of 2 passed/);
    assert.match(index, /cell 3 \(&quot;\/\/ stage the book&quot;\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("listNotebooks() picks notebooks by file name, number or topic", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ifrs9-nb-test-" });
  try {
    await writeNotebooks(dir, {
      "02_eda": PASSING,
      "01_data_generation": PASSING,
      "03_validation": PASSING,
    });
    const names = (paths: string[]) =>
      paths.map((p) => p.slice(dir.length + 1));
    assert.deepEqual(names(await listNotebooks(dir)), [
      "01_data_generation.ipynb",
      "02_eda.ipynb",
      "03_validation.ipynb",
    ]);
    assert.deepEqual(
      names(await listNotebooks(dir, ["eda", "01", "03_validation.ipynb"])),
      [
        "01_data_generation.ipynb",
        "02_eda.ipynb",
        "03_validation.ipynb",
      ],
    );
    await assert.rejects(
      listNotebooks(dir, ["staging"]),
      /No notebook staging in .*; there are: 01_data_generation, 02_eda, 03_validation/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("findCellErrors() lists each raising cell once, without terminal colours", () => {
  const nb = notebook([
    code("a"),
    {
      ...code("b\nmore"),
      outputs: [{
        output_type: "error",
        ename: "\u001b[31mTypeError\u001b[0m",
        evalue: "x is undefined",
      }, { output_type: "error", ename: "E", evalue: "second" }],
    },
    {
      ...code("  \n c"),
      outputs: [{ output_type: "stream", name: "stderr", text: "warn" }, {
        output_type: "error",
        ename: "Error",
        evalue: "boom",
      }],
    },
  ]);
  assert.deepEqual(findCellErrors(nb), [
    { cell: 2, firstLine: "b", error: "TypeError: x is undefined" },
    { cell: 3, firstLine: "c", error: "Error: boom" },
  ]);
});

Deno.test("committedNotebookIssues() flags outputs, execution counts and absolute paths", () => {
  const nb = notebook([
    {
      cell_type: "markdown",
      metadata: {},
      source: "Reads ../data/tmp/notebooks/book.parquet",
    },
    {
      ...code("x"),
      execution_count: 3,
      outputs: [{ output_type: "stream", text: "1" }],
    },
    code('const p = "/home/analyst/book.csv";'),
    {
      cell_type: "markdown",
      metadata: {},
      source: ["See C:\\Users\\me\\x.csv"],
    },
  ]);
  assert.deepEqual(committedNotebookIssues(nb, "x.ipynb"), [
    'x.ipynb cell 2 ("x"): outputs must be [] in a committed notebook',
    'x.ipynb cell 2 ("x"): execution_count must be null',
    'x.ipynb cell 3 ("const p = "/home/analyst/book.csv";"): absolute path /home/analyst/book.csv',
    'x.ipynb cell 4 ("See C:\\Users\\me\\x.csv"): absolute path C:\\Users\\me\\x.csv',
  ]);
  assert.deepEqual(committedNotebookIssues(PASSING, "p.ipynb"), []);
});
