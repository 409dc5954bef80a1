/**
 * The scorecard (lib/pd_model/scorecard.ts): points scaling by hand, the
 * score/odds identity, calibration to a central tendency, held-out AUC
 * against the true model on simulated data, reason codes against their
 * brute-force definition, the table and JSON forms, the ONNX export scored
 * by onnxruntime-node against the TypeScript scorer on every row, and the
 * refusals (separation, singular design, contract mismatch).
 */
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import {
  calibrationShift,
  fitScorecard,
  pointsScaling,
  reasonCodes,
  type Scorecard,
  scorecardCsv,
  scorecardFromJson,
  scorecardTable,
  scorecardToJson,
  scorecardToOnnx,
  scoreScorecard,
} from "../../lib/pd_model/scorecard.ts";
import { auc } from "../../lib/pd_model/metrics.ts";
import type { EncodedData, FeatureSpec } from "../../lib/pd_model/types.ts";
import { UserError } from "../../lib/errors.ts";
import { Rng } from "../../lib/generate/random.ts";

/**
 * A known logistic model (the numbers are ours, fixed here):
 *   logit PD = -2.6 + 0.9·x1 − 0.15·(x2 − 5) + effect[job] + 0.5·ln(1 + x3)
 * x1 ~ N(0, 1), missing for 4% of rows (then its term is +0.4: missing is
 * riskier); x2 ~ U(0, 10); job one of 5 categories with shares
 * 40/25/20/10/5% and effects 0, 0.4, −0.3, 0.8, 0; x3 ~ lognormal(median 2,
 * σ 1). The default rate is about 18%. Scorecard and true model differ in
 * held-out AUC by 0.003 to 0.008 over the seeds tried (binning loses a
 * little of the continuous effects; the fit is on 20,000 rows).
 */
const FEATURES: FeatureSpec[] = [
  { name: "x1", kind: "number" },
  { name: "x2", kind: "number" },
  {
    name: "job",
    kind: "category",
    categories: ["employed", "self", "public", "none", "retired"],
  },
  { name: "x3", kind: "number" },
];
const JOB_EFFECT = [0, 0.4, -0.3, 0.8, 0];
const JOB_CUM = [0.4, 0.65, 0.85, 0.95, 1];

function simulate(
  rows: number,
  seed: number,
): { data: EncodedData; eta: Float64Array } {
  const rng = new Rng(seed, 0);
  const cols = FEATURES.map(() => new Float64Array(rows));
  const target = new Uint8Array(rows), eta = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const x1 = rng.chance(0.04) ? NaN : rng.normal();
    const x2 = rng.between(0, 10);
    const u = rng.uniform();
    const job = JOB_CUM.findIndex((c) => u < c);
    const x3 = rng.lognormal(2, 1);
    cols[0][i] = x1;
    cols[1][i] = x2;
    cols[2][i] = job;
    cols[3][i] = x3;
    eta[i] = -2.6 + (Number.isNaN(x1) ? 0.4 : 0.9 * x1) - 0.15 * (x2 - 5) +
      JOB_EFFECT[job] + 0.5 * Math.log1p(x3);
    target[i] = rng.chance(1 / (1 + Math.exp(-eta[i]))) ? 1 : 0;
  }
  return { data: { features: FEATURES, columns: cols, target, rows }, eta };
}

const train = simulate(20000, 101);
const heldOut = simulate(20000, 202);
const fitted = fitScorecard(train.data);

Deno.test("pointsScaling(): PDO 20, 600 points at 50:1, by hand", () => {
  // Factor = 20 / ln 2 = 28.853901; Offset = 600 − 28.853901 · ln 50
  // = 600 − 28.853901 · 3.912023 = 487.122876.
  const s = pointsScaling(20, 600, 50);
  assert.ok(Math.abs(s.factor - 28.853901) < 1e-6);
  assert.ok(Math.abs(s.offset - 487.122876) < 1e-6);
  // Odds 50:1 score 600, 100:1 score 620, 25:1 score 580.
  for (const [odds, score] of [[50, 600], [100, 620], [25, 580], [200, 640]]) {
    assert.ok(Math.abs(s.offset + s.factor * Math.log(odds) - score) < 1e-9);
  }
  assert.throws(
    () => pointsScaling(0, 600, 50),
    (e) => e instanceof UserError && /pdo/.test(e.message),
  );
  assert.throws(
    () => pointsScaling(20, 600, -1),
    (e) => e instanceof UserError && /baseOdds/.test(e.message),
  );
});

Deno.test("fitScorecard(): every score reads as odds (PDO 20 per doubling, 600 at 50:1) and is the sum of its points", () => {
  const { pd, score, points } = scoreScorecard(fitted, heldOut.data);
  const F = FEATURES.length;
  for (let i = 0; i < heldOut.data.rows; i++) {
    const odds = (1 - pd[i]) / pd[i];
    // score − 600 = 20 · log2(odds / 50)
    assert.ok(
      Math.abs(score[i] - (600 + 20 * Math.log2(odds / 50))) < 1e-6,
      `row ${i}`,
    );
    let sum = 0;
    for (let j = 0; j < F; j++) sum += points[i * F + j];
    assert.ok(Math.abs(sum - score[i]) < 1e-9);
  }
  // Other scaling: PDO 40, 500 at 10:1 on the same fit.
  const other = fitScorecard(train.data, {
    pdo: 40,
    baseScore: 500,
    baseOdds: 10,
  });
  const s2 = scoreScorecard(other, heldOut.data);
  for (let i = 0; i < 100; i++) {
    const odds = (1 - s2.pd[i]) / s2.pd[i];
    assert.ok(Math.abs(s2.score[i] - (500 + 40 * Math.log2(odds / 10))) < 1e-6);
    assert.ok(Math.abs(s2.pd[i] - pd[i]) < 1e-12); // scaling changes points, not PDs
  }
});

Deno.test("fitScorecard(): the fit's coefficients on WoE are negative and the bins have the missing bin last", () => {
  assert.deepEqual(fitted.warnings, []);
  for (const ch of fitted.characteristics) {
    assert.ok(ch.coefficient < 0, `${ch.name}: ${ch.coefficient}`);
    assert.ok(Math.abs(ch.coefficient / ch.standardError) > 3);
    assert.equal(ch.bins.at(-1)!.missing, true);
    assert.equal(ch.points.length, ch.bins.length);
  }
  // x1's missing bin holds the 4% missing rows.
  const miss = fitted.characteristics[0].bins.at(-1)!;
  assert.ok(miss.count > 600 && miss.count < 1000, `${miss.count}`);
  assert.equal(fitted.fit.rows, 20000);
});

Deno.test("fitScorecard(): held-out AUC within 0.01 of the true model's", () => {
  const { pd } = scoreScorecard(fitted, heldOut.data);
  const target = heldOut.data.target!;
  const scorecardAuc = auc(pd, target);
  const trueAuc = auc(heldOut.eta, target);
  assert.ok(
    Math.abs(scorecardAuc - trueAuc) < 0.01,
    `scorecard ${scorecardAuc}, true model ${trueAuc}`,
  );
  assert.ok(trueAuc > 0.7); // a model worth ranking
});

Deno.test("fitScorecard(): without a target PD the sample mean PD is the default rate; with one, the target", () => {
  const rate = fitted.fit.defaults / fitted.fit.rows;
  const mean = (sc: Scorecard) =>
    scoreScorecard(sc, train.data).pd.reduce((a, b) => a + b, 0) / 20000;
  // The score equation of the intercept makes the fitted PDs average to the rate.
  assert.ok(Math.abs(mean(fitted) - rate) < 1e-9);
  assert.equal(fitted.calibration, null);
  for (const targetPd of [0.03, 0.12, 0.4]) {
    const sc = fitScorecard(train.data, { targetPd });
    assert.ok(
      Math.abs(mean(sc) - targetPd) < 1e-10,
      `target ${targetPd}: ${mean(sc)}`,
    );
    assert.ok(Math.abs(sc.calibration!.meanPdAfter - targetPd) < 1e-10);
    assert.ok(Math.abs(sc.calibration!.meanPdBefore - rate) < 1e-9);
    assert.ok(
      Math.abs(
        sc.intercept - fitted.intercept - sc.calibration!.interceptShift,
      ) < 1e-12,
    );
    // The ranking is untouched; the score still reads as odds.
    const s = scoreScorecard(sc, heldOut.data);
    const odds = (1 - s.pd[0]) / s.pd[0];
    assert.ok(Math.abs(s.score[0] - (600 + 20 * Math.log2(odds / 50))) < 1e-6);
  }
});

Deno.test("calibrationShift() solves mean σ(η + δ) = target, also far from the start", () => {
  const eta = Float64Array.from([-8, -3, -1, 0, 2, 6]);
  for (const target of [1e-4, 0.5, 0.999]) {
    const { shift } = calibrationShift(eta, target);
    const m = eta.reduce((s, e) => s + 1 / (1 + Math.exp(-(e + shift))), 0) /
      eta.length;
    assert.ok(Math.abs(m - target) < 1e-12, `${target}: ${m}`);
  }
  // Symmetric η around 0 and target 1/2: δ = 0.
  assert.ok(
    Math.abs(calibrationShift(Float64Array.from([-2, 2]), 0.5).shift) < 1e-12,
  );
  assert.throws(
    () => calibrationShift(eta, 1),
    (e) => e instanceof UserError && /targetPd/.test(e.message),
  );
});

Deno.test("scoreScorecard(): reason codes are the characteristics losing most points against their best bin", () => {
  const n = 2000;
  const { points, reasons } = scoreScorecard(fitted, heldOut.data);
  const F = FEATURES.length;
  // Brute force: the best bin among those with development rows.
  const best = fitted.characteristics.map((ch) =>
    Math.max(...ch.points.filter((_, b) => ch.bins[b].count > 0))
  );
  for (let i = 0; i < n; i++) {
    const lost = FEATURES.map((f, j) => ({
      name: f.name,
      j,
      loss: best[j] - points[i * F + j],
    }))
      .filter((r) => r.loss > 1e-9)
      .sort((a, b) => b.loss - a.loss || a.j - b.j);
    for (let k = 0; k < 3; k++) {
      assert.equal(reasons[k][i], lost[k]?.name ?? null, `row ${i}`);
    }
  }
  // Some rows lose points on every characteristic, none on more.
  assert.ok(reasons[2].some((r) => r !== null));
  assert.equal(reasons.length, 3);
  const one = scoreScorecard(fitted, heldOut.data, { reasons: 1 });
  assert.equal(one.reasons.length, 1);
  assert.deepEqual(
    reasonCodes(fitted, points, 5, 2),
    reasons.slice(0, 2).map((r) => r.slice(0, 5)),
  );
});

Deno.test("scorecardTable() and scorecardCsv(): one row per bin, counts adding up, ranges quoted", () => {
  const rows = scorecardTable(fitted);
  assert.equal(
    rows.length,
    fitted.characteristics.reduce((s, c) => s + c.bins.length, 0),
  );
  for (const name of FEATURES.map((f) => f.name)) {
    const mine = rows.filter((r) => r.characteristic === name);
    assert.equal(mine.reduce((s, r) => s + r.count, 0), 20000);
    assert.equal(mine.at(-1)!.range.startsWith("missing"), true);
    for (const r of mine) {
      assert.equal(r.bad_rate, r.count ? r.bads / r.count : 0);
    }
  }
  const job = rows.filter((r) => r.characteristic === "job");
  assert.equal(job.at(-1)!.range, "missing or unknown");
  assert.deepEqual(
    job.slice(0, -1).flatMap((r) => r.range.split("|")).sort(),
    ["employed", "none", "public", "retired", "self"],
  );
  const csv = scorecardCsv(fitted).trimEnd().split("\n");
  assert.equal(
    csv[0],
    "characteristic,bin,range,count,bads,bad_rate,woe,iv,coefficient,points",
  );
  assert.equal(csv.length, rows.length + 1);
  assert.ok(
    csv.some((l) => /^x1,2,"\[[-0-9.e]+, [-0-9.e]+\)",/.test(l)),
    csv[2],
  );
});

Deno.test("scorecardFromJson() reads back what scorecardToJson() wrote, and names a broken key", () => {
  const json = JSON.parse(JSON.stringify(scorecardToJson(fitted)));
  const back = scorecardFromJson(json);
  const a = scoreScorecard(fitted, heldOut.data),
    b = scoreScorecard(back, heldOut.data);
  assert.deepEqual(b.pd, a.pd);
  assert.deepEqual(b.score, a.score);
  const broken = structuredClone(json);
  broken.characteristics[1].points.pop();
  assert.throws(
    () => scorecardFromJson(broken, "pd/model.json: model"),
    (e) =>
      e instanceof UserError && e.kind === "input" &&
      e.message ===
        `pd/model.json: model.characteristics[1].points: ${
          fitted.characteristics[1].bins.length - 1
        } points for ${fitted.characteristics[1].bins.length} bins`,
  );
  const typo = structuredClone(json);
  typo.characteristics[0].edges[0] = "low";
  assert.throws(
    () => scorecardFromJson(typo),
    (e) =>
      e instanceof UserError &&
      /^model\.json: model\.characteristics\[0\]\.edges\[0\]: /.test(e.message),
  );
  const unsorted = structuredClone(json);
  unsorted.characteristics[1].edges.reverse();
  assert.throws(
    () => scorecardFromJson(unsorted),
    (e) =>
      e instanceof UserError &&
      /characteristics\[1\]\.edges\[1\]: edges must rise/.test(e.message),
  );
});

/** Runs an ONNX model on encoded columns; returns its outputs' data. */
async function runOnnx(
  bytes: Uint8Array,
  features: FeatureSpec[],
  columns: Float64Array[],
) {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const feeds: Record<string, ort.Tensor> = {};
    features.forEach((f, j) => {
      feeds[f.name] = new ort.Tensor("float64", columns[j], [
        columns[j].length,
        1,
      ]);
    });
    const out = await session.run(feeds);
    return {
      pd: out.pd.data as Float64Array,
      score: out.score.data as Float64Array,
      points: out.points.data as Float64Array,
      dims: out.points.dims,
    };
  } finally {
    await session.release();
  }
}

/** The held-out rows plus every edge, values beside them, NaN, unknown categories and extremes. */
function edgeCases(sc: Scorecard): Float64Array[] {
  const base = heldOut.data.columns.map((c) => Array.from(c.subarray(0, 3000)));
  const extra: number[][] = FEATURES.map(() => []);
  const push = (values: number[]) => values.forEach((v, j) => extra[j].push(v));
  sc.characteristics.forEach((ch, j) => {
    for (const e of ch.edges) {
      for (const v of [e, e - 1e-9, e + 1e-9, e * (1 - Number.EPSILON)]) {
        push(
          FEATURES.map((_, k) => (k === j ? v : heldOut.data.columns[k][0])),
        );
      }
    }
  });
  for (const v of [NaN, -1e300, 1e300, 0, -0.5, 4.5, 5, 99, -3, 2.5]) {
    push(FEATURES.map(() => v));
  }
  return base.map((b, j) => Float64Array.from([...b, ...extra[j]]));
}

Deno.test("scorecardToOnnx(): onnxruntime-node gives the TypeScript PD, score and points within 1e-6 on every row", async () => {
  for (
    const sc of [fitted, fitScorecard(train.data, { targetPd: 0.05, pdo: 50 })]
  ) {
    const columns = edgeCases(sc);
    const rows = columns[0].length;
    const ts = scoreScorecard(sc, { features: FEATURES, columns, rows });
    const onnx = await runOnnx(scorecardToOnnx(sc), FEATURES, columns);
    assert.deepEqual(onnx.dims, [rows, FEATURES.length]);
    for (let i = 0; i < rows; i++) {
      assert.ok(Math.abs(onnx.pd[i] - ts.pd[i]) < 1e-6, `pd row ${i}`);
      assert.ok(Math.abs(onnx.score[i] - ts.score[i]) < 1e-6, `score row ${i}`);
    }
    for (let k = 0; k < rows * FEATURES.length; k++) {
      assert.ok(Math.abs(onnx.points[k] - ts.points[k]) < 1e-6, `points ${k}`);
    }
    // NaN and unknown codes took the missing bins (the same points as NaN).
    const nanRow = rows - 10, unknownRow = rows - 3; // job code 99
    assert.equal(onnx.points[unknownRow * 4 + 2], onnx.points[nanRow * 4 + 2]);
  }
});

Deno.test("scorecardToOnnx() also scores a one-bin characteristic, and refuses a reserved feature name", async () => {
  const rows = 400;
  const x = Float64Array.from({ length: rows }, (_, i) => i % 40);
  const flat = Float64Array.from(
    { length: rows },
    (_, i) => (i % 7 === 0 ? NaN : 1),
  );
  const target = Uint8Array.from(
    { length: rows },
    (_, i) => (i % 40 < 10 ? i % 3 === 0 : i % 11 === 0) ? 1 : 0,
  );
  const features: FeatureSpec[] = [{ name: "x", kind: "number" }, {
    name: "flat",
    kind: "number",
  }];
  const sc = fitScorecard({ features, columns: [x, flat], target, rows });
  assert.deepEqual(sc.characteristics[1].edges, []);
  const probe = [
    Float64Array.from([0, 5, 39, NaN]),
    Float64Array.from([1, NaN, 1e300, -1e300]),
  ];
  const ts = scoreScorecard(sc, { features, columns: probe, rows: 4 });
  const onnx = await runOnnx(scorecardToOnnx(sc), features, probe);
  for (let i = 0; i < 4; i++) {
    assert.ok(Math.abs(onnx.pd[i] - ts.pd[i]) < 1e-12);
  }
  const renamed = {
    ...sc,
    features: [{ name: "score", kind: "number" as const }, features[1]],
  };
  assert.throws(
    () => scorecardToOnnx(renamed),
    (e) =>
      e instanceof UserError &&
      /feature "score" cannot be a model input: the name "score" is reserved/
        .test(e.message),
  );
  for (const name of ["features", "pd", "points", "sc_edges0", "margin"]) {
    assert.throws(
      () =>
        scorecardToOnnx({
          ...sc,
          features: [{ name, kind: "number" as const }, features[1]],
        }),
      (e) =>
        e instanceof UserError && e.kind === "usage" &&
        e.message.startsWith(`feature "${name}" cannot be a model input`),
      name,
    );
  }
});

Deno.test("fitScorecard() refuses a characteristic that separates the target, naming it", () => {
  const rows = 2000;
  const { data } = simulate(rows, 7);
  // 'arrears' is > 0 exactly for the defaulters: its two bins separate.
  const arrears = Float64Array.from(
    data.target!,
    (y, i) => (y ? 30 + (i % 60) : i % 5 === 0 ? NaN : 0),
  );
  const withArrears: EncodedData = {
    ...data,
    features: [...FEATURES, { name: "arrears", kind: "number" }],
    columns: [...data.columns, arrears],
  };
  // Every value, and the missing bin (non-defaulters only), holds one
  // class: the binning refuses it as a suspected leak.
  assert.throws(
    () => fitScorecard(withArrears),
    (e) =>
      e instanceof UserError && e.kind === "check" &&
      /characteristic 'arrears' separates the classes perfectly/.test(
        e.message,
      ),
  );
  // With some defaulters missing too, the missing bin holds both classes:
  // quasi-complete separation, which the regression refuses.
  const quasi = Float64Array.from(
    data.target!,
    (y, i) => (i % 5 === 0 ? NaN : y ? 30 + (i % 60) : 0),
  );
  assert.throws(
    () =>
      fitScorecard({
        ...withArrears,
        columns: [...data.columns, quasi],
      }),
    (e) =>
      e instanceof UserError && e.kind === "check" &&
      /separation.*'arrears'/.test(e.message),
  );
});

Deno.test("fitScorecard() refuses a singular design: a duplicated or constant characteristic, named", () => {
  const { data } = simulate(3000, 9);
  const twice: EncodedData = {
    ...data,
    features: [...FEATURES, { name: "x2_copy", kind: "number" }],
    columns: [...data.columns, data.columns[1].slice()],
  };
  assert.throws(
    () => fitScorecard(twice),
    (e) =>
      e instanceof UserError && e.kind === "check" &&
      /singular design: characteristic 'x2_copy' is a linear combination of 'x2'/
        .test(e.message),
  );
  const constant: EncodedData = {
    ...data,
    features: [...FEATURES, {
      name: "country",
      kind: "category",
      categories: ["ES"],
    }],
    columns: [...data.columns, new Float64Array(3000)],
  };
  assert.throws(
    () => fitScorecard(constant),
    (e) => e instanceof UserError && /'country' is constant/.test(e.message),
  );
});

Deno.test("scoreScorecard() refuses data that does not follow the contract, naming the feature", () => {
  const swapped = {
    features: [FEATURES[1], FEATURES[0], FEATURES[2], FEATURES[3]],
    columns: heldOut.data.columns,
    rows: heldOut.data.rows,
  };
  assert.throws(
    () => scoreScorecard(fitted, swapped),
    (e) =>
      e instanceof UserError &&
      /feature 'x1' of the scorecard is at position 2, not 1/.test(e.message),
  );
  const short = {
    features: FEATURES.slice(0, 3),
    columns: heldOut.data.columns.slice(0, 3),
    rows: heldOut.data.rows,
  };
  assert.throws(
    () => scoreScorecard(fitted, short),
    (e) =>
      e instanceof UserError &&
      /feature 'x3' of the scorecard is missing/.test(e.message),
  );
  const recoded = {
    features: [FEATURES[0], FEATURES[1], {
      ...FEATURES[2],
      categories: ["self", "employed"],
    }, FEATURES[3]],
    columns: heldOut.data.columns,
    rows: heldOut.data.rows,
  };
  assert.throws(
    () => scoreScorecard(fitted, recoded),
    (e) =>
      e instanceof UserError &&
      /feature 'job': the data encode it as category \["self","employed"\]/
        .test(e.message),
  );
});

Deno.test("fitScorecard() reports a column equal to the target as a suspected leak, naming it", () => {
  const { data } = simulate(3000, 12);
  const leak: EncodedData = {
    ...data,
    features: [...FEATURES, { name: "leak", kind: "number" }],
    columns: [...data.columns, Float64Array.from(data.target!)],
  };
  assert.throws(
    () => fitScorecard(leak),
    (e) =>
      e instanceof UserError && e.kind === "check" &&
      /characteristic 'leak' separates the classes perfectly.*suspected leak/
        .test(e.message),
  );
});

Deno.test("fitScorecard() leaves out, with a warning, a characteristic binned into one group", () => {
  const { data } = simulate(3000, 13);
  // Four categories with the same default rate exactly (the defaults and
  // the non-defaults each dealt round-robin): X² = 0 between any two, so
  // ChiMerge joins them into one group.
  const dealt = [0, 0];
  const noise = Float64Array.from(data.target!, (y) => dealt[y]++ % 4);
  const withNoise: EncodedData = {
    ...data,
    features: [...FEATURES, {
      name: "region",
      kind: "category",
      categories: ["n", "e", "s", "w"],
    }],
    columns: [...data.columns, noise],
  };
  const sc = fitScorecard(withNoise);
  const region = sc.characteristics.at(-1)!;
  assert.equal(region.bins.filter((b) => !b.missing).length, 1);
  assert.equal(region.coefficient, 0);
  assert.ok(sc.warnings.some((w) => /'region'.*left out/.test(w)));
  // It scores no points of its own: the same points in every bin.
  assert.equal(new Set(region.points).size, 1);
  // The others are fitted as usual.
  sc.characteristics.slice(0, -1).forEach((c) => assert.ok(c.coefficient < 0));
});
