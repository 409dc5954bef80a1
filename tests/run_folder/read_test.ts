/**
 * Tests of reading run folders (lib/run_folder/read.ts): a run written by
 * `runPortfolio` reads back through the module with the files of the
 * layout, and every check names the folder, the file and the problem: a
 * missing file, a truncated Parquet file, a table without the contract's
 * columns, a summary.json missing keys or not JSON, a manifest with an
 * unknown status; the dashboard reads summaries through the same checks.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import {
  readRunFolder,
  readRunSummary,
  RUN_FILES,
  RunFolderReadError,
} from "../../lib/run_folder/mod.ts";
import { readTrend } from "../../lib/report/mod.ts";
import { runPortfolio } from "../../lib/run/mod.ts";
import { writeFixtureRun } from "../report/_run_fixture.ts";
import { writePortfolio } from "../run/_portfolio.ts";
import { inTempDir, names } from "./_temp.ts";

/** A fixture run of two facilities as `<root>/q4`. */
const fixtureRun = (root: string) =>
  writeFixtureRun(`${root}/q4`, {
    runId: "q4",
    reportingDate: "2025-12-31",
    rates: { EUR: 1, USD: 0.9 },
    loans: [
      { loan_id: "L1", currency: "EUR", stage: 1, ecl: 10, gross: 1000 },
      { loan_id: "L2", currency: "USD", stage: 2, ecl: 30, gross: 500 },
    ],
  });

/** Asserts that reading `dir` fails with exactly `message`. */
async function refuses(dir: string, file: string, detail: string | RegExp) {
  await assert.rejects(() => readRunFolder(dir), (e: Error) => {
    assert.ok(e instanceof RunFolderReadError, e.message);
    assert.equal(e.dir, dir);
    assert.equal(e.file, file);
    const prefix = `Cannot read run folder ${dir}: ${file}: `;
    assert.ok(e.message.startsWith(prefix), e.message);
    if (typeof detail === "string") {
      assert.equal(e.message.slice(prefix.length), detail);
    } else assert.match(e.message.slice(prefix.length), detail);
    return true;
  });
}

Deno.test("readRunFolder() reads back what runPortfolio() wrote, file by file of the layout", () =>
  inTempDir(async (tmp) => {
    const run = await runPortfolio({
      portfolio: writePortfolio(`${tmp}/book.parquet`, 120),
      out: `${tmp}/runs`,
      runId: "q4",
    });
    assert.deepEqual(
      await names(run.dir),
      Object.values(RUN_FILES).sort(),
    );
    const folder = await readRunFolder(run.dir);
    assert.equal(folder.dir, run.dir);
    assert.deepEqual(folder.summary, run.summary);
    assert.deepEqual(folder.manifest, run.manifest);
    assert.deepEqual(folder.dataQuality, run.dataQuality);
    const results = await folder.results.collect();
    assert.ok(
      results.frameEqual(
        pl.readParquet(`${run.dir}/${RUN_FILES.loanResults}`),
        true,
      ),
    );
    assert.equal(results.height, 120);
    assert.equal((await folder.carrying.collect()).height, 120);
    assert.deepEqual(await readRunSummary(run.dir), run.summary);
  }));

Deno.test("readRunFolder() names the folder and file of a missing file", () =>
  inTempDir(async (root) => {
    const dir = await fixtureRun(root);
    for (
      const file of [
        RUN_FILES.carryingAmounts,
        RUN_FILES.loanResults,
        RUN_FILES.summary,
      ]
    ) {
      await Deno.rename(`${dir}/${file}`, `${root}/${file}`);
      await refuses(dir, file, "file is missing");
      await Deno.rename(`${root}/${file}`, `${dir}/${file}`);
    }
    // The manifest and the data-quality report are optional (mid-run).
    await Deno.remove(`${dir}/${RUN_FILES.manifest}`);
    await Deno.remove(`${dir}/${RUN_FILES.dataQuality}`);
    const run = await readRunFolder(dir);
    assert.equal(run.manifest, null);
    assert.equal(run.dataQuality, null);
  }));

Deno.test("readRunFolder() refuses a truncated Parquet file when reading, naming it", () =>
  inTempDir(async (root) => {
    const dir = await fixtureRun(root);
    for (const file of [RUN_FILES.loanResults, RUN_FILES.carryingAmounts]) {
      const bytes = await Deno.readFile(`${dir}/${file}`);
      await Deno.writeFile(
        `${dir}/${file}`,
        bytes.subarray(0, bytes.length >> 1),
      );
      await refuses(
        dir,
        file,
        /^not a readable Parquet file \(.*must end with PAR1.*\)$/,
      );
      await Deno.writeFile(`${dir}/${file}`, bytes);
    }
    await readRunFolder(dir);
  }));

Deno.test("readRunFolder() refuses loan results without the columns of methodology §9", () =>
  inTempDir(async (root) => {
    const dir = await fixtureRun(root);
    const file = `${dir}/${RUN_FILES.loanResults}`;
    pl.readParquet(file).drop("ecl", "stage").writeParquet(file);
    await refuses(dir, RUN_FILES.loanResults, "missing columns stage, ecl");
  }));

Deno.test("readRunFolder() lists every problem of summary.json: missing keys, wrong types, not JSON", () =>
  inTempDir(async (root) => {
    const dir = await fixtureRun(root);
    const file = `${dir}/${RUN_FILES.summary}`;
    const summary = JSON.parse(await Deno.readTextFile(file));
    const broken = { ...summary, fx: { ...summary.fx, rates: "EUR=1" } };
    delete broken.totals;
    delete broken.reporting_date;
    await Deno.writeTextFile(file, JSON.stringify(broken));
    await refuses(
      dir,
      RUN_FILES.summary,
      "missing keys reporting_date, totals; key fx.rates is a string, not an object",
    );
    await assert.rejects(
      () => readRunSummary(dir),
      /summary\.json: missing keys reporting_date, totals/,
    );
    await Deno.writeTextFile(file, JSON.stringify(summary).slice(0, 50));
    await refuses(dir, RUN_FILES.summary, /^not valid JSON: /);
  }));

Deno.test("readRunFolder() refuses a manifest with an unknown status and upgrades one without warnings", () =>
  inTempDir(async (root) => {
    const dir = await fixtureRun(root);
    const file = `${dir}/${RUN_FILES.manifest}`;
    const manifest = JSON.parse(await Deno.readTextFile(file));
    await Deno.writeTextFile(
      file,
      JSON.stringify({ ...manifest, status: "done" }),
    );
    await refuses(
      dir,
      RUN_FILES.manifest,
      'key status is "done", not one of running, complete, failed',
    );
    delete manifest.warnings;
    await Deno.writeTextFile(file, JSON.stringify(manifest));
    assert.deepEqual((await readRunFolder(dir)).manifest?.warnings, []);
  }));

Deno.test("readTrend() reads summaries through the checks, naming the folder and file", () =>
  inTempDir(async (root) => {
    const dir = await fixtureRun(root);
    const file = `${dir}/${RUN_FILES.summary}`;
    const summary = JSON.parse(await Deno.readTextFile(file));
    delete summary.by_stage;
    await Deno.writeTextFile(file, JSON.stringify(summary));
    await assert.rejects(
      () => readTrend([dir]),
      (e: Error) =>
        e instanceof RunFolderReadError &&
        e.message ===
          `Cannot read run folder ${dir}: summary.json: missing key by_stage`,
    );
  }));
