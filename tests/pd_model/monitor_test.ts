/**
 * Monitoring (lib/pd_model/monitor.ts): the development reference, the
 * stability of the score and of each characteristic, and the backtest by
 * grade, against figures counted independently (bins by filtering, PSI
 * summed by hand over those shares), on populations drawn from a known
 * logistic model (`_monitor_fixture.ts`); and the end to end run through
 * ONNX Runtime from a model folder built by hand.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  calibrationTable,
  DEFAULT_MASTER_SCALE,
  developmentReference,
  monitorPd,
  monitorPdFiles,
  readPdModelJson,
  renderMonitorPage,
  UserError,
} from "../../lib/mod.ts";
import {
  csv,
  FEATURES,
  modelFile,
  population,
  TARGET,
  writeModelFolder,
} from "./_monitor_fixture.ts";

function close(actual: number, expected: number, tol: number, what = "") {
  assert.ok(
    Math.abs(actual - expected) <= tol,
    `${what} ${actual} differs from ${expected} by more than ${tol}`,
  );
}

/** Shares of `values` in [−∞, e0), [e0, e1), …, [ek, ∞), missing: by filtering. */
function sharesByFilter(values: ArrayLike<number>, edges: number[]): number[] {
  const v = Array.from(values);
  const bounds = [-Infinity, ...edges, Infinity];
  const out = bounds.slice(1).map((hi, i) =>
    v.filter((x) => x >= bounds[i] && x < hi).length / v.length
  );
  out.push(v.filter((x) => Number.isNaN(x)).length / v.length);
  return out;
}

/** PSI summed from its definition, empty shares floored at 0.0001. */
function psiByHand(e: number[], a: number[]): number {
  return e.reduce((s, ei, i) => {
    const x = Math.max(ei, 1e-4), y = Math.max(a[i], 1e-4);
    return s + (y - x) * Math.log(y / x);
  }, 0);
}

Deno.test("developmentReference() bins the score and numbers at deciles and categories by name, with a missing bin", () => {
  const dev = population(2000, 1);
  const ref = developmentReference(dev.score, dev.encoded);
  // Deciles: 9 inner edges, each bin about a tenth of the sample.
  assert.equal(ref.score.edges!.length, 9);
  assert.deepEqual(
    ref.score.shares,
    sharesByFilter(dev.score, ref.score.edges!),
  );
  for (const s of ref.score.shares.slice(0, -1)) close(s, 0.1, 0.002);
  // months_on_book is binned in the units the model sees (log1p).
  const mob = ref.features.months_on_book;
  assert.deepEqual(
    mob.shares,
    sharesByFilter(dev.encoded.columns[2], mob.edges!),
  );
  assert.ok(mob.edges!.every((e) => e < Math.log1p(121)));
  // Categories: each in its bin, then other and missing (none here).
  const emp = ref.features.employment_type;
  assert.deepEqual(emp.categories, ["employed", "self_employed", "unemployed"]);
  const count = (c: string) =>
    dev.rows.filter((r) => r.employment_type === c).length / dev.rows.length;
  assert.deepEqual(emp.shares, [
    count("employed"),
    count("self_employed"),
    count("unemployed"),
    0,
    0,
  ]);
  assert.deepEqual(ref.master_scale, DEFAULT_MASTER_SCALE);
  // The reference is JSON: it survives a round trip.
  assert.deepEqual(JSON.parse(JSON.stringify(ref)), ref);
});

Deno.test("monitorPd() finds no shift on the development sample itself", () => {
  const dev = population(2000, 1);
  const model = modelFile(dev);
  const m = monitorPd({
    model,
    data: dev.encoded,
    pd: dev.pd,
    score: dev.score,
  });
  assert.equal(m.score.psi, 0);
  for (const f of m.features) {
    assert.equal(f.psi, 0, f.name);
    assert.equal(f.reading, "stable");
  }
  assert.equal(m.backtest, undefined);
  assert.match(
    m.notes.join("\n"),
    /no outcome column default_12m: no backtest/,
  );
});

Deno.test("monitorPd() gives each distribution the PSI of its shares counted by filtering", () => {
  const dev = population(3000, 1);
  const model = modelFile(dev);
  const mon = population(2500, 2, { shift: true, pdFactor: 1.8 });
  const m = monitorPd({
    model,
    data: mon.encoded,
    pd: mon.pd,
    score: mon.score,
    labels: mon.labels,
  });
  const ref = model.reference;
  const scoreActual = sharesByFilter(mon.score, ref.score.edges!);
  close(m.score.psi, psiByHand(ref.score.shares, scoreActual), 1e-12, "score");
  assert.deepEqual(m.score.bins.map((b) => b.actual), scoreActual);
  assert.equal(m.score.bins.at(-1)!.label, "missing");
  for (const [j, f] of FEATURES.entries()) {
    const row = m.features[j];
    assert.equal(row.name, f.name);
    const fref = ref.features[f.name];
    const actual = f.kind === "number"
      ? sharesByFilter(mon.encoded.columns[j], fref.edges!)
      : [
        ...fref.categories!.map((c) =>
          mon.rows.filter((r) => r.employment_type === c).length /
          mon.rows.length
        ),
        0,
        0,
      ];
    close(row.psi, psiByHand(fref.shares, actual), 1e-12, f.name);
  }
  // The shifted characteristics show it; the others do not.
  const psiOf = (n: string) => m.features.find((f) => f.name === n)!.psi;
  assert.ok(psiOf("employment_type") >= 0.25, "employment_type shifted");
  assert.ok(psiOf("credit_score") >= 0.1, "credit_score shifted");
  assert.ok(psiOf("debt_to_income") < 0.1, "debt_to_income stable");
  assert.ok(psiOf("months_on_book") < 0.1, "months_on_book stable");
  // Bin labels of log1p features read in the column's own units.
  const mobLabels = m.features[2].bins.map((b) => b.label);
  assert.match(mobLabels[0], /^< \d+(\.\d+)?$/);
  assert.ok(Number(mobLabels[0].slice(2)) > 5, mobLabels[0]);
});

Deno.test("monitorPd() backtests by grade: the calibration table, and red where defaults run at 1.8 times the PD", () => {
  const dev = population(3000, 1);
  const model = modelFile(dev);
  const fair = population(20000, 3);
  const bad = population(20000, 4, { pdFactor: 1.8 });
  const run = (p: typeof fair) =>
    monitorPd({
      model,
      data: p.encoded,
      pd: p.pd,
      score: p.score,
      labels: p.labels,
    }).backtest!;
  const ok = run(fair);
  // The grades are exactly the calibration table of metrics.ts.
  const table = calibrationTable({ pd: fair.pd, labels: fair.labels });
  assert.deepEqual(
    ok.grades.map((g) => [g.grade, g.count, g.defaults, g.meanPd]),
    table.map((r) => [r.grade, r.count, r.defaults, r.meanPd]),
  );
  assert.equal(ok.rows, 20000);
  assert.equal(ok.defaults, fair.labels.reduce((a, b) => a + b, 0));
  // A calibrated model: no red grade; a 1.8-fold underestimate: the large
  // grades go red.
  assert.equal(ok.zones.red, 0, JSON.stringify(ok.zones));
  const off = run(bad);
  assert.ok(off.zones.red >= 3, JSON.stringify(off.zones));
  for (const g of off.grades) {
    // A zone is red exactly when the p-value is at most 0.1%.
    assert.equal(g.zone === "red", g.pValue <= 0.001, g.grade);
  }
  assert.ok(off.hosmerLemeshow !== null && off.hosmerLemeshow.pValue < 1e-6);
  assert.ok(ok.auc! > 0.6 && ok.auc! < 0.95);
  close(ok.gini!, 2 * ok.auc! - 1, 1e-12);
});

Deno.test("monitorPd() counts unknown categories as other and NaN as missing", () => {
  const dev = population(1000, 1);
  const model = modelFile(dev);
  const mon = population(10, 5);
  // Two rows missing, one of them unknown to the contract (the encoding
  // makes both NaN and counts the unknown one).
  mon.encoded.columns[3][0] = NaN;
  mon.encoded.columns[3][1] = NaN;
  mon.encoded.columns[0][2] = NaN;
  const m = monitorPd({
    model,
    data: mon.encoded,
    unknown: { employment_type: 1 },
    pd: mon.pd,
    score: mon.score,
  });
  const emp = m.features[3].bins;
  assert.deepEqual(emp.slice(-2).map((b) => [b.label, b.actual]), [
    ["other", 0.1],
    ["missing", 0.1],
  ]);
  assert.equal(m.features[0].bins.at(-1)!.actual, 0.1);
  assert.match(
    m.notes.join("\n"),
    /employment_type: 1 row with a category the model does not know/,
  );
});

Deno.test("monitorPd() refuses a scorecard without its points, no rows, and a reference without a feature", () => {
  const dev = population(500, 1);
  const model = modelFile(dev);
  assert.throws(
    () => monitorPd({ model, data: dev.encoded, pd: dev.pd }),
    (e: unknown) =>
      e instanceof UserError && e.kind === "input" &&
      /scorecard's points are needed/.test(e.message),
  );
  const empty = population(0, 9);
  assert.throws(
    () =>
      monitorPd({
        model,
        data: empty.encoded,
        pd: empty.pd,
        score: empty.score,
        dataPath: "q4.csv",
      }),
    /q4\.csv: no rows to monitor/,
  );
  const partial = structuredClone(model);
  delete partial.reference.features.debt_to_income;
  assert.throws(
    () =>
      monitorPd({
        model: partial,
        data: dev.encoded,
        pd: dev.pd,
        score: dev.score,
      }),
    /reference has no distribution for feature debt_to_income/,
  );
});

Deno.test("readPdModelJson() names the file and the key at fault", async () => {
  const dir = await Deno.makeTempDir({ prefix: "monitor_test_" });
  try {
    await assert.rejects(
      () => readPdModelJson(dir),
      /model\.json cannot be read: no such file/,
    );
    await writeModelFolder(dir, 300);
    const good = JSON.parse(await Deno.readTextFile(`${dir}/model.json`));
    assert.equal((await readPdModelJson(dir)).kind, "scorecard");
    const write = (v: unknown) =>
      Deno.writeTextFile(`${dir}/model.json`, JSON.stringify(v));
    await write({ ...good, format: "other" });
    await assert.rejects(
      () => readPdModelJson(dir),
      /model\.json: format: must be ifrs9-pd-model, got "other"/,
    );
    const short = structuredClone(good);
    short.reference.features.credit_score.shares.pop();
    await write(short);
    await assert.rejects(
      () => readPdModelJson(dir),
      /reference\.features\.credit_score: has 10 shares for 11 bins/,
    );
    const noScale = structuredClone(good);
    noScale.reference.master_scale = [{ grade: "A", upper_pd: 0.5 }];
    await write(noScale);
    await assert.rejects(
      () => readPdModelJson(dir),
      /reference\.master_scale: the last grade's upper_pd must be 1/,
    );
    await Deno.writeTextFile(`${dir}/model.json`, "{");
    await assert.rejects(
      () => readPdModelJson(dir),
      (e: unknown) => e instanceof UserError && /is not JSON/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "monitorPdFiles() scores through ONNX Runtime the PDs and points of the model, and refuses a missing feature column by name",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "monitor_test_" });
    try {
      const dev = await writeModelFolder(`${dir}/model`, 2000);
      const mon = population(1500, 6, { shift: true, pdFactor: 1.5 });
      await Deno.writeTextFile(`${dir}/mon.csv`, csv(mon));
      const m = await monitorPdFiles({
        model: `${dir}/model`,
        data: `${dir}/mon.csv`,
      });
      // The same as monitoring the PDs and points computed in TypeScript.
      const direct = monitorPd({
        model: modelFile(dev),
        data: mon.encoded,
        pd: mon.pd,
        score: mon.score,
        labels: mon.labels,
      });
      close(m.score.psi, direct.score.psi, 1e-9);
      m.features.forEach((f, i) =>
        close(f.psi, direct.features[i].psi, 1e-12, f.name)
      );
      assert.deepEqual(
        m.backtest!.grades.map((g) => [g.grade, g.count, g.defaults]),
        direct.backtest!.grades.map((g) => [g.grade, g.count, g.defaults]),
      );
      assert.equal(m.backtest!.target, TARGET);
      assert.match(m.model.onnxSha256!, /^[0-9a-f]{64}$/);
      assert.match(m.data.sha256!, /^[0-9a-f]{64}$/);
      // The page shows every distribution and the backtest.
      const html = renderMonitorPage(m);
      for (const f of FEATURES) assert.ok(html.includes(f.name));
      assert.match(html, /Backtest by grade/);
      // Without debt_to_income, the data is refused naming the column.
      const without = csv(mon).split("\n").map((l) =>
        l.split(",").filter((_, i) => i !== 2).join(",")
      ).join("\n");
      await Deno.writeTextFile(`${dir}/without.csv`, without);
      await assert.rejects(
        () =>
          monitorPdFiles({ model: `${dir}/model`, data: `${dir}/without.csv` }),
        (e: unknown) =>
          e instanceof UserError && e.kind === "input" &&
          /without\.csv: missing feature column debt_to_income/.test(e.message),
      );
      // A target column that is not 0/1 is refused, naming it and the row.
      const lines = csv(mon).trimEnd().split("\n");
      lines[5] = lines[5].replace(/,[01]$/, ",2");
      await Deno.writeTextFile(
        `${dir}/bad_target.csv`,
        lines.join("\n") + "\n",
      );
      await assert.rejects(
        () =>
          monitorPdFiles({
            model: `${dir}/model`,
            data: `${dir}/bad_target.csv`,
          }),
        /bad_target\.csv: target column default_12m is not binary: row 5 holds "2"/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("monitorPd() leaves grades at PD 0 or 1 out of Hosmer-Lemeshow, with G degrees of freedom over the others", () => {
  const p = population(20000, 5);
  // Grades whose every PD is 0 (G01) or 1 (G11): no binomial variance.
  const pd = Float64Array.from(
    p.pd,
    (x, i) => i < 300 || x <= 0.0005 ? 0 : x > 0.256 ? 1 : x,
  );
  const labels = p.labels.map((y, i) => (i < 300 ? 0 : y));
  const bt = monitorPd({
    model: modelFile(population(3000, 1)),
    data: p.encoded,
    pd,
    score: p.score,
    labels,
  }).backtest!;
  const g01 = bt.grades.find((g) => g.grade === "G01")!;
  assert.equal(g01.meanPd, 0);
  const g11 = bt.grades.find((g) => g.grade === "G11");
  if (g11) assert.equal(g11.meanPd, 1);
  // By hand over the other grades holding facilities.
  const usable = bt.grades.filter((g) =>
    g.count > 0 && g.meanPd > 0 && g.meanPd < 1
  );
  assert.ok(usable.length >= 3);
  const statistic = usable.reduce(
    (s, g) =>
      s + (g.defaults - g.count * g.meanPd) ** 2 /
        (g.count * g.meanPd * (1 - g.meanPd)),
    0,
  );
  assert.ok(bt.hosmerLemeshow !== null);
  close(bt.hosmerLemeshow.statistic, statistic, 1e-9 * statistic);
  // Out of sample: as many degrees of freedom as grades.
  assert.equal(bt.hosmerLemeshow.df, usable.length);
});
