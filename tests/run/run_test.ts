/**
 * End-to-end tests of runPortfolio() (lib/run/run.ts) on the synthetic
 * fixture portfolio: the run folder's contents, the manifest's hashes
 * (recomputed here with crypto.subtle), totals recomputed from
 * loan_results.parquet by a plain loop, determinism, and the failure paths.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { parseRules } from "../../lib/rules.ts";
import { RESULT_COLUMNS } from "../../lib/schema.ts";
import { FxError } from "../../lib/fx.ts";
import { RUN_FILES, RunIdError } from "../../lib/run_folder/mod.ts";
import { RejectRateError } from "../../lib/validation/mod.ts";
import {
  DEFAULT_FX,
  DEFAULT_RULES,
  RunFailedError,
  runPortfolio,
} from "../../lib/run/mod.ts";
import { projectPath } from "../../lib/project.ts";
import { REPORTING_DATE, writePortfolio } from "./_portfolio.ts";

const sha256 = async (path: string) =>
  Array.from(
    new Uint8Array(
      await crypto.subtle.digest("SHA-256", await Deno.readFile(path)),
    ),
  ).map((b) => b.toString(16).padStart(2, "0")).join("");

const names = async (dir: string) => {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
};

const RULES = DEFAULT_RULES;
const FX = DEFAULT_FX;

Deno.test("runPortfolio() writes a complete run folder with a checked manifest", async () => {
  const tmp = await Deno.makeTempDir();
  const portfolio = writePortfolio(`${tmp}/book.parquet`, 300);
  const run = await runPortfolio({
    portfolio,
    out: `${tmp}/runs`,
    runId: "q4",
    report: false,
  });
  assert.equal(run.dir, `${tmp}/runs/q4`);
  assert.deepEqual(await names(`${tmp}/runs`), ["q4"]);
  assert.deepEqual(
    await names(run.dir),
    [
      RUN_FILES.carryingAmounts,
      RUN_FILES.dataQuality,
      RUN_FILES.loanResults,
      RUN_FILES.manifest,
      RUN_FILES.rejected,
      RUN_FILES.summary,
    ].sort(),
  );

  const m = JSON.parse(await Deno.readTextFile(`${run.dir}/manifest.json`));
  assert.equal(m.run_id, "q4");
  assert.equal(m.status, "complete");
  assert.equal(m.reporting_date, REPORTING_DATE);
  assert.deepEqual(m.inputs, {
    portfolio: { path: portfolio, sha256: await sha256(portfolio) },
    rules: {
      path: RULES,
      sha256: await sha256(RULES),
      parameters: m.inputs.rules.parameters,
    },
    fx: { path: FX, sha256: await sha256(FX) },
  });
  // The rules' parameters by key path, so a movement can name what changed.
  assert.equal(m.inputs.rules.parameters?.["staging.dpd_sicr"], 30);
  assert.deepEqual(m.rows, {
    read: 300,
    valid: 300,
    rejected: 0,
    computed: 300,
  });
  assert.match(m.code_version, /^([0-9a-f]{40}(\+dirty)?|unknown)$/);
  // The contract version the numbers follow (docs/methodology.md).
  assert.equal(m.methodology_version, 2);
  assert.ok(Date.parse(m.started_at) <= Date.parse(m.finished_at));
  assert.deepEqual(Object.keys(m.timings_ms), [
    "load_config",
    "scan",
    "hash_inputs",
    "validate",
    "write_validation",
    "check_fx",
    "carrying_amounts",
    "compute_ecl",
    "write_results",
    "summarize",
    "check_figures",
  ]);
  for (const ms of Object.values(m.timings_ms)) assert.ok(Number(ms) >= 0);
  // The default table is as of the fixture's reporting date: no warning.
  assert.deepEqual(m.warnings, []);
  assert.deepEqual(m, run.manifest);

  const results = pl.readParquet(`${run.dir}/loan_results.parquet`);
  assert.deepEqual(results.columns, [
    ...RESULT_COLUMNS,
    "ecl_base",
    "ecl_upside",
    "ecl_downside",
    "overlays_applied",
    "overlay_impacts",
    "overlay_floor",
    // In the reporting currency, after the §9 columns (methodology §12).
    "fx_rate",
    "ead_rc",
    "ecl_rc",
  ]);
  assert.equal(results.height, 300);

  // Totals by a plain loop over the written file, with the table's rates.
  const rates: Record<string, number> = { EUR: 1, USD: 0.92, MXN: 0.051 };
  const cur = results.getColumn("currency").toArray() as string[];
  const ecl = results.getColumn("ecl").toArray() as number[];
  const ead = results.getColumn("ead").toArray() as number[];
  const stage = results.getColumn("stage").toArray() as number[];
  let eclTotal = 0, eadTotal = 0, stage3 = 0;
  for (let i = 0; i < results.height; i++) {
    eclTotal += ecl[i] * rates[cur[i]];
    eadTotal += ead[i] * rates[cur[i]];
    if (stage[i] === 3) stage3++;
  }
  const book = pl.readParquet(portfolio);
  const bal = book.getColumn("balance").toArray() as number[];
  const bookCur = book.getColumn("currency").toArray() as string[];
  let gcaTotal = 0;
  for (let i = 0; i < book.height; i++) gcaTotal += bal[i] * rates[bookCur[i]];
  const s = JSON.parse(await Deno.readTextFile(`${run.dir}/summary.json`));
  assert.ok(
    Math.abs(s.totals.gross_carrying_amount - gcaTotal) <= 1e-9 * gcaTotal,
  );
  assert.ok(Math.abs(s.totals.ecl - eclTotal) <= 1e-9 * eclTotal);
  assert.ok(Math.abs(s.totals.ead - eadTotal) <= 1e-9 * eadTotal);
  assert.equal(
    s.by_stage.find((g: { key: string }) => g.key === "3").count,
    stage3,
  );
  assert.equal(s.fx.file, FX);
  assert.equal(s.fx.sha256, await sha256(FX));
  assert.equal(s.fx.as_of, "2025-12-31");

  const carrying = pl.readParquet(`${run.dir}/carrying_amounts.parquet`);
  assert.deepEqual(carrying.columns, [
    "loan_id",
    "currency",
    "gross_carrying_amount",
    "write_off_amount",
  ]);
  assert.equal(carrying.getColumn("write_off_amount").sum(), 0);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("runPortfolio() gives identical loan results for identical inputs", async () => {
  const tmp = await Deno.makeTempDir();
  const portfolio = writePortfolio(`${tmp}/book.parquet`, 500);
  const a = await runPortfolio({
    portfolio,
    out: tmp,
    runId: "a",
    report: false,
  });
  const b = await runPortfolio({
    portfolio,
    out: tmp,
    runId: "b",
    report: false,
  });
  const ra = pl.readParquet(`${a.dir}/loan_results.parquet`);
  const rb = pl.readParquet(`${b.dir}/loan_results.parquet`);
  assert.equal(ra.height, 500);
  assert.ok(ra.frameEqual(rb, true), "loan_results differ between runs");
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("runPortfolio() in chunks writes what one pass writes", async () => {
  const tmp = await Deno.makeTempDir();
  const portfolio = writePortfolio(`${tmp}/book.parquet`, 500);
  const one = await runPortfolio({
    portfolio,
    out: tmp,
    runId: "one",
    report: false,
  });
  // 500 loans in chunks of 120: four full chunks and one of 20.
  const chunked = await runPortfolio({
    portfolio,
    out: tmp,
    runId: "chunked",
    report: false,
    chunkSize: 120,
  });
  for (const file of [RUN_FILES.loanResults, RUN_FILES.carryingAmounts]) {
    const a = pl.readParquet(`${one.dir}/${file}`);
    const b = pl.readParquet(`${chunked.dir}/${file}`);
    assert.equal(b.height, 500);
    assert.ok(a.frameEqual(b, true), `${file} differs`);
  }
  assert.deepEqual(await names(chunked.dir), await names(one.dir));
  assert.equal(chunked.manifest.rows.computed, 500);
  const t1 = one.summary.totals, t2 = chunked.summary.totals;
  assert.equal(t2.count, t1.count);
  for (
    const k of ["gross_carrying_amount", "ead", "ecl_model", "ecl"] as const
  ) {
    assert.ok(Math.abs(t1[k] - t2[k]) <= 1e-12 * t1[k], k);
  }
  assert.deepEqual(
    chunked.summary.by_stage.map((g) => [g.key, g.count]),
    one.summary.by_stage.map((g) => [g.key, g.count]),
  );
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("runPortfolio() shares an add overlay over the whole book, in chunks as in one pass, and warns when the floor applies", async () => {
  const tmp = await Deno.makeTempDir();
  const portfolio = writePortfolio(`${tmp}/book.parquet`, 500);
  // EUR 5000 on stage 2 as a whole, after x1.2 on SME; a release of EUR 1e9
  // on stage 1 mortgages, far above their allowance: the floor brings
  // each back to 0 (methodology v2 §8).
  const rules = `${tmp}/rules.yaml`;
  await Deno.writeTextFile(
    rules,
    (await Deno.readTextFile(RULES)).replace(
      /^overlays: \[\]$/m,
      `overlays:
  - { name: sme_uplift, filter: { product: sme }, multiplier: 1.2, reason: sector }
  - { name: mgmt_add, filter: { stage: 2 }, add: 5000, reason: model gap }
  - { name: release, filter: { product: mortgage, stage: 1 }, add: -1.0e9, reason: test }`,
    ),
  );
  const one = await runPortfolio({ portfolio, rules, out: tmp, runId: "one" });
  // 500 loans in chunks of 120: the add must still go to stage 2 as a whole.
  const chunked = await runPortfolio({
    portfolio,
    rules,
    out: tmp,
    runId: "chunked",
    report: false,
    chunkSize: 120,
  });
  const s = one.summary;
  const [uplift, add, release] = s.overlays;
  assert.ok(uplift.facilities > 0 && add.facilities > 0);
  // The add is EUR 5000 in the reporting currency, over three currencies.
  assert.ok(Math.abs(add.ecl_impact - 5000) < 1e-6, `${add.ecl_impact}`);
  assert.ok(Math.abs(release.ecl_impact + 1e9) < 1e-3);
  assert.equal(s.overlay_floor.facilities, release.facilities);
  assert.equal(release.floored_facilities, release.facilities);
  const bridge = s.overlays.reduce((a, o) => a + o.ecl_impact, 0) +
    s.overlay_floor.ecl_impact;
  assert.ok(
    Math.abs(bridge - (s.totals.ecl - s.totals.ecl_model)) < 1e-6,
    `${bridge}`,
  );
  // Per facility: ecl = ecl_model + impacts + floor, never below 0.
  const rows = pl.readParquet(`${one.dir}/${RUN_FILES.loanResults}`)
    .toRecords();
  for (const r of rows) {
    const impacts = [...(r.overlay_impacts as unknown as number[])];
    const sum = impacts.reduce((a, x) => a + x, r.ecl_model as number) +
      (r.overlay_floor as number);
    assert.equal(sum, r.ecl);
    assert.ok((r.ecl as number) >= 0);
  }
  // The warning names the overlay, in the manifest and on the page.
  const floorWarning = one.manifest.warnings.find((w) =>
    w.startsWith("Overlay release took the ECL of")
  );
  assert.ok(floorWarning, JSON.stringify(one.manifest.warnings));
  const html = await Deno.readTextFile(`${one.dir}/report.html`);
  assert.ok(html.split("Overlay release took the ECL of").length - 1 >= 2);

  // In chunks: the same facilities, the same figures to 1e-12.
  const a = pl.readParquet(`${one.dir}/${RUN_FILES.loanResults}`);
  const b = pl.readParquet(`${chunked.dir}/${RUN_FILES.loanResults}`);
  assert.deepEqual(b.columns, a.columns);
  const applied = (df: pl.DataFrame) =>
    (df.getColumn("overlays_applied").toArray() as unknown as string[][])
      .map((x) => [...x]);
  assert.deepEqual(applied(b), applied(a));
  const ea = a.getColumn("ecl").toArray() as number[];
  const eb = b.getColumn("ecl").toArray() as number[];
  ea.forEach((x, i) =>
    assert.ok(Math.abs(x - eb[i]) <= 1e-12 * Math.max(1, x), `${i}`)
  );
  assert.ok(
    Math.abs(chunked.summary.overlays[1].ecl_impact - 5000) < 1e-6,
  );
  assert.deepEqual(chunked.manifest.warnings, one.manifest.warnings);
  assert.deepEqual(
    await names(chunked.dir),
    // Without the report, no narrative either (lib/narrative).
    await names(one.dir).then((n) =>
      n.filter((f) => f !== RUN_FILES.report && f !== RUN_FILES.narrative)
    ),
  );
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("runPortfolio() refuses an id whose complete run exists", async () => {
  const tmp = await Deno.makeTempDir();
  const portfolio = writePortfolio(`${tmp}/book.parquet`, 50);
  await runPortfolio({ portfolio, out: tmp, runId: "q4", report: false });
  await assert.rejects(
    () => runPortfolio({ portfolio, out: tmp, runId: "q4", report: false }),
    RunIdError,
  );
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("runPortfolio() sets a reject-rate failure aside as <run_id>.failed", async () => {
  const tmp = await Deno.makeTempDir();
  // 10 of 100 rows have a negative balance: 10% > the default 5% limit.
  const portfolio = writePortfolio(`${tmp}/book.parquet`, 100, 10);
  const err = await runPortfolio({
    portfolio,
    out: `${tmp}/runs`,
    runId: "q4",
    report: false,
  }).then(() => undefined, (e) => e);
  assert.ok(err instanceof RunFailedError);
  assert.ok(err.cause instanceof RejectRateError);
  assert.match(
    err.message,
    /^Cannot accept portfolio .*book\.parquet: 10\.00% of rows rejected \(10 of 100\), above validation\.max_reject_rate 5\.00%/,
  );
  assert.equal(err.failedDir, `${tmp}/runs/q4.failed`);
  assert.deepEqual(await names(`${tmp}/runs`), ["q4.failed"]);
  const dir = `${tmp}/runs/q4.failed`;
  assert.deepEqual(await names(dir), [
    RUN_FILES.dataQuality,
    RUN_FILES.manifest,
    RUN_FILES.rejected,
  ]);
  const m = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
  assert.equal(m.status, "failed");
  assert.match(m.error, /of rows rejected/);
  assert.deepEqual(m.rows, { read: 100, valid: 90, rejected: 10, computed: 0 });
  const rejected = pl.readParquet(`${dir}/rejected.parquet`);
  assert.equal(rejected.height, 10);
  const dq = JSON.parse(await Deno.readTextFile(`${dir}/data_quality.json`));
  assert.equal(dq.passed, false);
  assert.equal(dq.rows_rejected, 10);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("runPortfolio() names a portfolio currency missing from the FX table", async () => {
  const tmp = await Deno.makeTempDir();
  const portfolio = writePortfolio(`${tmp}/book.parquet`, 30);
  const fx = `${tmp}/fx.yaml`;
  await Deno.writeTextFile(
    fx,
    "base: EUR\nas_of: 2025-12-31\nrates: { EUR: 1, USD: 0.92 }\n",
  );
  const err = await runPortfolio({
    portfolio,
    fx,
    out: tmp,
    runId: "q4",
    report: false,
  })
    .then(() => undefined, (e) => e);
  assert.ok(err instanceof RunFailedError);
  assert.ok(err.cause instanceof FxError);
  assert.match(
    err.message,
    new RegExp(`^FX table ${fx} \\(as of 2025-12-31\\) has no rate for MXN`),
  );
  assert.deepEqual(await names(tmp), ["book.parquet", "fx.yaml", "q4.failed"]);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("runPortfolio() refuses a bad rules file before creating a folder", async () => {
  const tmp = await Deno.makeTempDir();
  const rules = `${tmp}/rules.yaml`;
  await Deno.writeTextFile(
    rules,
    (await Deno.readTextFile(RULES)).replace("weight: 0.5", "weight: 0.6"),
  );
  assert.throws(() => parseRules(Deno.readTextFileSync(rules), rules));
  await assert.rejects(
    () =>
      runPortfolio({
        portfolio: `${tmp}/none.parquet`,
        rules,
        out: `${tmp}/runs`,
        runId: "q4",
      }),
    /Cannot load rules file .*rules\.yaml: 1 problem\n {2}- key scenarios: weights must sum to 1/,
  );
  assert.deepEqual(await names(tmp), ["rules.yaml"]);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("runPortfolio() refuses a portfolio without required columns before creating a folder", async () => {
  const tmp = await Deno.makeTempDir();
  await Deno.writeTextFile(`${tmp}/book.csv`, "loan_id,balance\nL1,100\n");
  await assert.rejects(
    () =>
      runPortfolio({
        portfolio: `${tmp}/book.csv`,
        rules: RULES,
        fx: FX,
        out: `${tmp}/runs`,
        runId: "q4",
      }),
    /Cannot read portfolio .*book\.csv: missing required columns reporting_date, origination_date, product, currency, interest_rate, days_past_due, pd_12m_origination, pd_12m_current \(columns found: loan_id, balance\)/,
  );
  assert.deepEqual(await names(tmp), ["book.csv"]);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("runPortfolio() warns in the manifest and the report when the FX table is of another date", async () => {
  const tmp = await Deno.makeTempDir();
  const portfolio = writePortfolio(`${tmp}/book.parquet`, 50);
  const fx = `${tmp}/fx_q3.yaml`;
  await Deno.writeTextFile(
    fx,
    "base: EUR\nas_of: 2025-09-30\nrates: {EUR: 1, USD: 0.95, MXN: 0.049}\n",
  );
  const run = await runPortfolio({
    portfolio,
    fx,
    out: `${tmp}/runs`,
    runId: "stale-fx",
  });
  assert.equal(run.manifest.warnings.length, 1);
  const [warning] = run.manifest.warnings;
  assert.match(warning, new RegExp(`FX table ${fx} is as of 2025-09-30`));
  assert.match(warning, /not the reporting date 2025-12-31/);
  const written = JSON.parse(
    await Deno.readTextFile(`${run.dir}/manifest.json`),
  );
  assert.deepEqual(written.warnings, [warning]);
  // The page shows it twice: beside the headline totals it affects and in
  // the manifest section (the text is HTML-escaped, so match its start).
  const html = await Deno.readTextFile(`${run.dir}/report.html`);
  assert.equal(html.split("Warning: FX table").length - 1, 2);
  // The run still converts with the table it was given.
  assert.equal(run.summary.fx.as_of, "2025-09-30");
  assert.equal(run.summary.fx.rates.USD, 0.95);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("runPortfolio() finds its default rules and FX table from any working directory", async () => {
  const tmp = await Deno.makeTempDir();
  const cwd = Deno.cwd();
  try {
    const portfolio = writePortfolio(`${tmp}/book.parquet`, 50);
    // A notebook runs in notebooks/, a scheduler anywhere: the defaults are
    // the project's files, not paths relative to the working directory.
    Deno.chdir(tmp);
    const run = await runPortfolio({
      portfolio,
      out: "runs",
      runId: "q4",
      report: false,
    });
    assert.equal(run.dir, "runs/q4");
    assert.equal(
      run.manifest.inputs.rules.path,
      projectPath("config/ifrs9_rules.yaml"),
    );
    assert.equal(
      run.manifest.inputs.fx.path,
      projectPath("config/fx_rates.yaml"),
    );
    assert.equal(run.summary.fx.file, projectPath("config/fx_rates.yaml"));
  } finally {
    Deno.chdir(cwd);
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("runPortfolio() names the run <file stem>-<reporting date> and refuses to overwrite it without replace", async () => {
  const out = await Deno.makeTempDir();
  try {
    const portfolio = writePortfolio(`${out}/book.parquet`, 20);
    const run = await runPortfolio({ portfolio, out, report: false });
    // Before, the default was a timestamp (run-20261130T...): a rerun of
    // the same book made a second folder instead of finding the first.
    assert.equal(run.runId, `book-${REPORTING_DATE}`);
    await assert.rejects(
      () => runPortfolio({ portfolio, out, report: false }),
      (e: Error) => e instanceof RunIdError && /pass --replace/.test(e.message),
    );
    const again = await runPortfolio({
      portfolio,
      out,
      report: false,
      replace: true,
    });
    assert.equal(again.dir, run.dir);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
