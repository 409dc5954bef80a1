/**
 * A run streams its book (lib/run/run.ts, "Memory"): with a chunk size
 * smaller than the book, validation and the computation go batch by batch
 * (never more rows at once than the chunk size, seen through `onBatch`),
 * and the run folder is the one a single pass writes, to the cent: the
 * same loan results, rejected rows, data-quality report and summary.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { parse, stringify } from "yaml";
import { type RunBatch, runPortfolio } from "../../lib/run/run.ts";
import { portfolioFrame } from "./_portfolio.ts";
import { projectPath } from "../../lib/project.ts";
import { UserError } from "../../lib/errors.ts";

/** The files of a run folder whose content must not depend on batching. */
async function outputs(dir: string) {
  const json = async (f: string) =>
    JSON.parse(await Deno.readTextFile(`${dir}/${f}`));
  const summary = await json("summary.json");
  delete summary.run_id;
  return {
    results: pl.readParquet(`${dir}/loan_results.parquet`),
    carrying: pl.readParquet(`${dir}/carrying_amounts.parquet`),
    rejected: pl.readParquet(`${dir}/rejected.parquet`),
    dataQuality: await json("data_quality.json"),
    summary,
  };
}

/** A book of `n` rows with problems spread over it: duplicates far apart. */
function book(n: number): pl.DataFrame {
  const df = portfolioFrame(n, 3);
  const ids = df.getColumn("loan_id").toArray() as string[];
  // The 11th facility's id again near the end: both rows are rejected,
  // though they fall in different batches.
  ids[n - 2] = ids[10];
  return df.withColumns(pl.Series("loan_id", ids));
}

async function runBoth(
  tmp: string,
  portfolio: string,
  chunkSize: number,
  rules?: string,
) {
  const batches: RunBatch[] = [];
  const streamed = await runPortfolio({
    portfolio,
    rules,
    out: `${tmp}/runs`,
    runId: "streamed",
    chunkSize,
    report: false,
    onBatch: (b) => batches.push(b),
  });
  const whole = await runPortfolio({
    portfolio,
    rules,
    out: `${tmp}/runs`,
    runId: "whole",
    report: false,
  });
  return { streamed, whole, batches };
}

function assertSameFolder(
  a: Awaited<ReturnType<typeof outputs>>,
  b: Awaited<ReturnType<typeof outputs>>,
) {
  // Exact: every column of every row, bit for bit.
  assert.ok(a.results.frameEqual(b.results), "loan_results");
  assert.ok(a.carrying.frameEqual(b.carrying), "carrying_amounts");
  assert.deepEqual(a.rejected.toRecords(), b.rejected.toRecords());
  assert.deepEqual(a.dataQuality, b.dataQuality);
  assert.deepEqual(a.summary, b.summary);
}

Deno.test("runPortfolio() streams a book of many batches, never holding more rows than the chunk size, with the single pass's results", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const n = 1_000;
    const chunkSize = 150;
    const portfolio = `${tmp}/book.parquet`;
    book(n).writeParquet(portfolio);
    const { streamed, whole, batches } = await runBoth(
      tmp,
      portfolio,
      chunkSize,
    );
    const validated = batches.filter((b) => b.phase === "validate");
    const computed = batches.filter((b) => b.phase === "compute");
    // Every row read once, in ceil(1000 / 150) = 7 batches of <= 150 rows.
    assert.deepEqual(validated.map((b) => b.index), [0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual(
      validated.map((b) => b.rows),
      [150, 150, 150, 150, 150, 150, 100],
    );
    assert.equal(computed.length, 7);
    for (const b of computed) assert.ok(b.rows <= chunkSize, String(b.rows));
    // 3 bad balances and the two rows of the repeated id are rejected.
    assert.equal(streamed.manifest.rows.rejected, 5);
    assert.equal(
      computed.reduce((a, b) => a + b.rows, 0),
      streamed.manifest.rows.valid,
    );
    assertSameFolder(await outputs(streamed.dir), await outputs(whole.dir));
    // No scratch files are left in the published folder.
    const names = [];
    for await (const e of Deno.readDir(streamed.dir)) names.push(e.name);
    assert.ok(!names.includes(".parts"), names.join(", "));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("runPortfolio() streams a CSV book of several batches as the single pass does", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const portfolio = `${tmp}/book.csv`;
    const df = book(400);
    // CSV holds text: dates as YYYY-MM-DD.
    df.withColumns(
      ...["reporting_date", "origination_date", "maturity_date"]
        .filter((c) => df.columns.includes(c))
        .map((c) => pl.col(c).cast(pl.Utf8)),
    ).writeCSV(portfolio);
    const { streamed, whole, batches } = await runBoth(tmp, portfolio, 90);
    assert.equal(batches.filter((b) => b.phase === "validate").length, 5);
    assertSameFolder(await outputs(streamed.dir), await outputs(whole.dir));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("runPortfolio() shares an add overlay over the whole streamed book as over one pass", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const portfolio = `${tmp}/book.parquet`;
    book(300).writeParquet(portfolio);
    const doc = parse(
      await Deno.readTextFile(projectPath("config/ifrs9_rules.yaml")),
    ) as Record<string, unknown>;
    doc.overlays = [{
      name: "uplift",
      add: 5000,
      reason: "test",
      filter: { product: ["mortgage"] },
    }];
    const rules = `${tmp}/rules.yaml`;
    await Deno.writeTextFile(rules, stringify(doc));
    const { streamed, whole } = await runBoth(tmp, portfolio, 70, rules);
    const a = await outputs(streamed.dir);
    const b = await outputs(whole.dir);
    // The add is shared in proportion to the ECL of the whole book, so
    // the allocation may differ in the last bits; every facility within a
    // millionth of a cent, the totals to the cent.
    const ecl = (d: pl.DataFrame) => d.getColumn("ecl").toArray() as number[];
    const x = ecl(a.results);
    const y = ecl(b.results);
    assert.equal(x.length, y.length);
    for (let i = 0; i < x.length; i++) {
      assert.ok(Math.abs(x[i] - y[i]) < 1e-8, `row ${i}: ${x[i]} ${y[i]}`);
    }
    assert.ok(
      Math.abs(a.summary.totals.ecl - b.summary.totals.ecl) < 0.005,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("runPortfolio() refuses a chunk size that is not a whole number >= 1 before creating a folder", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const portfolio = `${tmp}/book.parquet`;
    book(20).writeParquet(portfolio);
    for (const chunkSize of [0, 1.5, -3]) {
      await assert.rejects(
        runPortfolio({ portfolio, out: `${tmp}/runs`, chunkSize }),
        (e: Error) =>
          e instanceof UserError && e.kind === "usage" &&
          e.message.includes(
            `chunkSize must be a whole number >= 1, got ${chunkSize}`,
          ),
      );
    }
    assert.equal(
      await Deno.stat(`${tmp}/runs`).then(() => true, () => false),
      false,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("runPortfolio() streaming a book above the reject limit fails with the whole book's rejected rows and no scratch files", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    // 60 of 400 rows have a negative balance: 15% > the default 5%.
    const portfolio = `${tmp}/book.parquet`;
    portfolioFrame(400, 60).writeParquet(portfolio);
    const err = await runPortfolio({
      portfolio,
      out: `${tmp}/runs`,
      runId: "q4",
      chunkSize: 90,
      report: false,
    }).then(() => undefined, (e) => e);
    assert.ok(err instanceof UserError, String(err));
    assert.match(err.message, /15\.00% of rows rejected \(60 of 400\)/);
    const dir = `${tmp}/runs/q4.failed`;
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names.sort(), [
      "data_quality.json",
      "manifest.json",
      "rejected.parquet",
    ]);
    assert.equal(pl.readParquet(`${dir}/rejected.parquet`).height, 60);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
