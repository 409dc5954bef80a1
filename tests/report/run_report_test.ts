/**
 * `writeRunReport()` on a hand-made run folder: the page is self-contained,
 * carries the headline figures of summary.json, every chart and the
 * data-quality and manifest sections, and works in a folder that still has
 * its temporary name and no manifest.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  readRunFolder,
  RunFolderReadError,
  writeRunReport,
} from "../../lib/report/mod.ts";
import { writeFixtureRun } from "./_run_fixture.ts";

const LOANS = [
  { loan_id: "L1", currency: "EUR", stage: 1 as const, ecl: 10, gross: 1000 },
  {
    loan_id: "L2",
    currency: "USD",
    stage: 2 as const,
    ecl: 300,
    gross: 500,
    product: "mortgage",
    region: "south",
  },
  { loan_id: "L3", currency: "EUR", stage: 1 as const, ecl: 5, gross: 800 },
];

Deno.test("writeRunReport() writes a self-contained page with headline, charts, tables, data quality and manifest", async () => {
  const root = await Deno.makeTempDir({ prefix: "report_test_" });
  const dir = await writeFixtureRun(`${root}/.r1.partial-abc`, {
    runId: "r1",
    reportingDate: "2025-12-31",
    rates: { EUR: 1, USD: 0.9 },
    loans: LOANS,
  });
  const path = await writeRunReport(dir);
  assert.equal(path, `${dir}/report.html`);
  const html = await Deno.readTextFile(path);
  // Total ECL 10 + 300 * 0.9 + 5 = 285; EAD 1000 + 450 + 800 = 2250.
  assert.match(html, />285\.00</);
  assert.match(html, />2,250\.00</);
  assert.match(html, />12\.67%</); // 285 / 2250
  for (
    const id of [
      "chart-stages",
      "chart-ecl-stage",
      "chart-ecl-product",
      "chart-ecl-region",
      "chart-scenarios",
      "chart-pd",
      "chart-lgd",
      "chart-top",
      "chart-dq",
    ]
  ) {
    const at = html.indexOf(`id="${id}"`);
    assert.ok(at > 0, `${id} present`);
    assert.ok(html.indexOf("<svg", at) > at, `${id} has an SVG`);
  }
  assert.match(html, /BALANCE_NEGATIVE/);
  assert.match(html, /Run manifest/);
  assert.match(html, /a{64}/); // the portfolio hash
  // Self-contained: no script, no external reference.
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//i);
  assert.doesNotMatch(html, /<link\b/i);
  await Deno.remove(root, { recursive: true });
});

Deno.test("writeRunReport() says when the manifest is not written yet", async () => {
  const root = await Deno.makeTempDir({ prefix: "report_test_" });
  const dir = await writeFixtureRun(`${root}/r1`, {
    runId: "r1",
    reportingDate: "2025-12-31",
    rates: { EUR: 1, USD: 0.9 },
    loans: LOANS,
  });
  await Deno.remove(`${dir}/manifest.json`);
  const html = await Deno.readTextFile(await writeRunReport(dir));
  assert.match(html, /manifest is written when the run completes/);
  await Deno.remove(root, { recursive: true });
});

Deno.test("writeRunReport() names the folder and file when summary.json is missing", async () => {
  const root = await Deno.makeTempDir({ prefix: "report_test_" });
  await assert.rejects(
    () => writeRunReport(root),
    (e: Error) =>
      e instanceof RunFolderReadError &&
      e.message.startsWith(`Cannot read run folder ${root}: summary.json:`),
  );
  await Deno.remove(root, { recursive: true });
});

Deno.test("writeRunReport() shows the in-progress manifest the run passes", async () => {
  const root = await Deno.makeTempDir({ prefix: "report_test_" });
  const dir = await writeFixtureRun(`${root}/r1`, {
    runId: "r1",
    reportingDate: "2025-12-31",
    rates: { EUR: 1, USD: 0.9 },
    loans: LOANS,
  });
  const manifest = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
  await Deno.remove(`${dir}/manifest.json`);
  const html = await Deno.readTextFile(
    await writeRunReport(dir, {
      manifest: { ...manifest, status: "running", finished_at: null },
    }),
  );
  assert.match(html, />running</);
  assert.match(html, /written while the run was finishing/);
  assert.match(html, /c{64}/); // the FX table's hash
  await Deno.remove(root, { recursive: true });
});

Deno.test("writeRunReport() refuses a currency without a rate and reports a folder without data_quality.json", async () => {
  const root = await Deno.makeTempDir({ prefix: "report_test_" });
  const dir = await writeFixtureRun(`${root}/r1`, {
    runId: "r1",
    reportingDate: "2025-12-31",
    rates: { EUR: 1, USD: 0.9 },
    loans: LOANS,
  });
  await Deno.remove(`${dir}/data_quality.json`);
  const html = await Deno.readTextFile(await writeRunReport(dir));
  assert.match(html, /This run folder has no data_quality\.json/);
  const summary = JSON.parse(await Deno.readTextFile(`${dir}/summary.json`));
  delete summary.fx.rates.USD;
  await Deno.writeTextFile(`${dir}/summary.json`, JSON.stringify(summary));
  await assert.rejects(
    () => writeRunReport(dir),
    /summary\.json: fx\.rates has no rate for USD/,
  );
  await Deno.remove(root, { recursive: true });
});

Deno.test("readRunFolder() reads a manifest written before run warnings existed as having none", async () => {
  const root = await Deno.makeTempDir({ prefix: "report_test_" });
  const dir = await writeFixtureRun(`${root}/r1`, {
    runId: "r1",
    reportingDate: "2025-12-31",
    rates: { EUR: 1, USD: 0.9 },
    loans: LOANS,
  });
  const manifest = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
  delete manifest.warnings;
  await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify(manifest));
  const run = await readRunFolder(dir);
  assert.deepEqual(run.manifest?.warnings, []);
  const html = await Deno.readTextFile(await writeRunReport(dir));
  assert.doesNotMatch(html, /Warning:/);
  await Deno.remove(root, { recursive: true });
});
