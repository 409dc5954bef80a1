/**
 * The validation statistics (lib/pd_model/metrics.ts) against figures
 * derived independently: a four-point ROC built by hand, PSI, binomial
 * tails, chi-square values and a Hosmer-Lemeshow statistic worked out by
 * hand or read from published tables (BCBS 1996 table 2, chi-square
 * tables), and brute-force definitions on seeded random data with ties.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  auc,
  binomialInterval,
  binomialTest,
  calibrationTable,
  categoryShares,
  chiSquareSurvival,
  DEFAULT_MASTER_SCALE,
  gini,
  hosmerLemeshow,
  ksStatistic,
  psi,
  psiFromSamples,
  psiReading,
  quantileEdges,
  rocCurve,
  trafficLight,
  UserError,
} from "../../lib/mod.ts";

/** Seeded uniform numbers in [0, 1) (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function close(actual: number, expected: number, tol: number, what = "") {
  assert.ok(
    Math.abs(actual - expected) <= tol,
    `${what} ${actual} differs from ${expected} by more than ${tol}`,
  );
}

function refused(f: () => unknown, message: RegExp) {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof UserError, `not a UserError: ${e}`);
    assert.equal(e.kind, "input");
    assert.match(e.message, message);
    return true;
  });
}

// The four-point ROC: defaulters score 0.2 and 0.4, non-defaulters 0.1 and
// 0.3. Of the four (defaulter, non-defaulter) pairs, (0.2, 0.1), (0.4,
// 0.1) and (0.4, 0.3) are ordered right: AUC 3/4. The cumulative shares
// after 0.1 are 0 (defaulters) and 1/2 (non-defaulters): KS 1/2.
const FOUR = { scores: [0.1, 0.3, 0.2, 0.4], labels: [0, 0, 1, 1] };

Deno.test("auc(), gini() and ksStatistic() give 0.75, 0.5 and 0.5 on the four-point ROC", () => {
  assert.equal(auc(FOUR.scores, FOUR.labels), 0.75);
  assert.equal(gini(FOUR.scores, FOUR.labels), 0.5);
  assert.equal(ksStatistic(FOUR.scores, FOUR.labels), 0.5);
  // Labels as a Uint8Array give the same.
  assert.equal(auc(FOUR.scores, Uint8Array.from(FOUR.labels)), 0.75);
  // Reversing the score reverses the ranking.
  assert.equal(auc(FOUR.scores.map((s) => -s), FOUR.labels), 0.25);
});

Deno.test("auc() counts a tie one half and ksStatistic() never splits tied scores", () => {
  // All scores equal: no information.
  assert.equal(auc([1, 1, 1, 1], [0, 1, 0, 1]), 0.5);
  assert.equal(ksStatistic([1, 1, 1, 1], [0, 1, 0, 1]), 0);
  // One tied pair of four: (1 + 1 + 0.5 + 0) / 4 with bad {2, 3}, good {1, 3}.
  assert.equal(auc([2, 3, 1, 3], [1, 1, 0, 0]), 0.625);
  // KS at distinct values: after 1 → |0 − 1/2|; after 2 → |1/2 − 1/2|;
  // after 3 → 0. Splitting the tie at 3 would have given 1/2 as well, so
  // use a case where splitting would be wrong: bad {3}, good {3}.
  assert.equal(ksStatistic([3, 3], [1, 0]), 0);
});

Deno.test("auc() and ksStatistic() equal their brute-force definitions on random data with ties", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const u = random(seed);
    const n = 200 + seed * 37;
    // Scores on a coarse grid, so that ties are frequent.
    const scores = Array.from({ length: n }, () => Math.round(u() * 20) / 20);
    const labels = scores.map((s) => (u() < 0.2 + 0.5 * s ? 1 : 0));
    const bad = scores.filter((_, i) => labels[i] === 1);
    const good = scores.filter((_, i) => labels[i] === 0);
    let pairs = 0;
    for (const b of bad) {
      for (const g of good) pairs += b > g ? 1 : b === g ? 0.5 : 0;
    }
    close(
      auc(scores, labels),
      pairs / (bad.length * good.length),
      1e-12,
      "auc",
    );
    let ks = 0;
    for (const t of [-Infinity, ...scores]) {
      const fb = bad.filter((s) => s <= t).length / bad.length;
      const fg = good.filter((s) => s <= t).length / good.length;
      ks = Math.max(ks, Math.abs(fb - fg));
    }
    close(ksStatistic(scores, labels), ks, 1e-12, "ks");
    // The ROC curve's trapezoid area is the AUC.
    const roc = rocCurve(scores, labels);
    let area = 0;
    for (let i = 1; i < roc.fpr.length; i++) {
      area += (roc.fpr[i] - roc.fpr[i - 1]) * (roc.tpr[i] + roc.tpr[i - 1]) / 2;
    }
    close(area, pairs / (bad.length * good.length), 1e-12, "roc area");
    assert.deepEqual([roc.fpr.at(-1), roc.tpr.at(-1)], [1, 1]);
  }
});

Deno.test("auc() and its kin refuse mismatched lengths, non-0/1 labels, NaN scores and one class", () => {
  refused(
    () => auc([1, 2, 3], [0, 1]),
    /auc: scores has 3 values but labels has 2/,
  );
  refused(
    () => gini([1, 2, 3], [0, 2, 1]),
    /label at row 1 is 2; labels must be 0 or 1/,
  );
  refused(
    () => ksStatistic([1, NaN, 3], [0, 1, 1]),
    /ksStatistic: score at row 1 is not a number/,
  );
  refused(
    () => auc([1, 2, 3], [1, 1, 1]),
    /every label is 1 .*needs both defaulters/,
  );
  refused(() => rocCurve([1, 2], [0, 0]), /every label is 0/);
});

Deno.test("auc() ranks a million scores in well under a second", () => {
  const u = random(9);
  const n = 1_000_000;
  const scores = new Float64Array(n), labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    scores[i] = u();
    labels[i] = u() < scores[i] * 0.1 ? 1 : 0;
  }
  const t0 = performance.now();
  const a = auc(scores, labels);
  const ms = performance.now() - t0;
  // P(default) ∝ score on a uniform score: AUC = 2/3 in the limit.
  close(a, 2 / 3, 0.01, "auc");
  assert.ok(ms < 2000, `auc of 1M rows took ${ms} ms`);
});

Deno.test("psi() of three bins equals the sum worked by hand, and reads 0.1 / 0.25", () => {
  // (0.20 − 0.25)·ln(0.20 / 0.25) + 0 + (0.30 − 0.25)·ln(0.30 / 0.25)
  //   = 0.05·0.2231435513 + 0.05·0.1823215568 = 0.0202732554
  close(psi([0.25, 0.5, 0.25], [0.2, 0.5, 0.3]), 0.0202732554, 1e-10);
  assert.equal(psi([0.3, 0.3, 0.4], [0.3, 0.3, 0.4]), 0);
  assert.equal(psiReading(0.0999), "stable");
  assert.equal(psiReading(0.1), "moderate");
  assert.equal(psiReading(0.2499), "moderate");
  assert.equal(psiReading(0.25), "significant");
});

Deno.test("psi() counts an empty bin as a share of 0.0001, never Infinity", () => {
  // 0 + (0.4 − 0.5)·ln(0.4 / 0.5) + (0.1 − 0.0001)·ln(0.1 / 0.0001)
  //   = 0.0223143551 + 0.0999·6.9077552790 = 0.7123991071
  const value = psi([0.5, 0.5, 0], [0.5, 0.4, 0.1]);
  assert.ok(Number.isFinite(value));
  close(value, 0.7123991071, 1e-9);
  close(psi([0.5, 0.5, 0], [0.5, 0.5, 0]), 0, 0);
});

Deno.test("psi() refuses bins that differ in number or shares that do not sum to 1", () => {
  refused(
    () => psi([0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]),
    /expected has 2 bins but actual has 3/,
  );
  refused(() => psi([0.5, 0.6], [0.5, 0.5]), /expected sums to 1.1/);
  refused(() => psi([0.5, 0.5], [1.5, -0.5]), /actual\[0\] is 1.5/);
});

Deno.test("psiFromSamples() bins at the expected sample's quantiles, with a bin for missing values", () => {
  const dev = Array.from({ length: 100 }, (_, i) => i);
  assert.deepEqual(quantileEdges(dev, 4), [25, 50, 75]);
  // Repeated values give fewer, distinct edges.
  assert.deepEqual(quantileEdges([1, 1, 1, 1, 2, 2, 3, 3], 4), [2, 3]);
  const same = psiFromSamples(dev, dev, { bins: 4 });
  assert.deepEqual(same.expected.shares, [0.25, 0.25, 0.25, 0.25, 0]);
  assert.equal(same.psi, 0);
  // Half the actual sample missing: the development values and as many
  // NaN, so shares [1/8 ×4, 1/2] against [1/4 ×4, 0].
  const actual = [
    ...dev,
    ...Array(100).fill(NaN),
  ];
  const r = psiFromSamples(dev, actual, { bins: 4 });
  assert.deepEqual(r.actual, [0.125, 0.125, 0.125, 0.125, 0.5]);
  const byHand = 4 * (0.125 - 0.25) * Math.log(0.125 / 0.25) +
    (0.5 - 1e-4) * Math.log(0.5 / 1e-4);
  close(r.psi, byHand, 1e-12);
  assert.equal(r.reading, "significant");
});

Deno.test("categoryShares() puts each value in its category, then other, then missing", () => {
  assert.deepEqual(
    categoryShares(["a", "b", "a", "z", null, "", "a", "b"], ["a", "b"]),
    [3 / 8, 2 / 8, 1 / 8, 2 / 8],
  );
  assert.deepEqual(categoryShares([], ["a"]), [0, 0, 0]);
});

Deno.test("binomialTest() equals the tail worked by hand and exact sums for small n", () => {
  // 1 − (0.9^10 + 10·0.1·0.9^9 + 45·0.01·0.9^8) = 1 − 0.9298091736
  close(binomialTest({ n: 10, pd: 0.1, defaults: 3 }), 0.0701908264, 1e-10);
  assert.equal(binomialTest({ n: 10, pd: 0.1, defaults: 0 }), 1);
  assert.equal(binomialTest({ n: 10, pd: 0, defaults: 1 }), 0);
  assert.equal(binomialTest({ n: 10, pd: 1, defaults: 10 }), 1);
  // Every tail of small binomials against C(n, k)·p^k·q^(n−k) summed.
  const u = random(11);
  for (let trial = 0; trial < 40; trial++) {
    const n = 1 + Math.floor(u() * 60);
    const p = u() < 0.2 ? u() * 0.01 : u();
    const pmf: number[] = [];
    let c = 1; // C(n, k)
    for (let k = 0; k <= n; k++) {
      pmf.push(c * p ** k * (1 - p) ** (n - k));
      c = (c * (n - k)) / (k + 1);
    }
    for (let d = 0; d <= n; d++) {
      const exact = pmf.slice(d).reduce((a, b) => a + b, 0);
      const got = binomialTest({ n, pd: p, defaults: d });
      close(got, exact, 1e-12 + 1e-9 * exact, `n ${n} p ${p} d ${d}`);
    }
  }
});

Deno.test("binomialTest() stays exact for n in the millions", () => {
  // P(X >= 1) = 1 − (1 − p)^n in closed form.
  const n = 3_000_000, p = 1e-6;
  close(
    binomialTest({ n, pd: p, defaults: 1 }),
    -Math.expm1(n * Math.log1p(-p)),
    1e-13,
  );
  // Symmetry of Binomial(2m, 1/2): P(X >= m + 1) + P(X >= m) = 1, the two
  // tails summed from opposite ends (above and at the mean).
  const m = 1_000_000;
  const above = binomialTest({ n: 2 * m, pd: 0.5, defaults: m + 1 });
  const at = binomialTest({ n: 2 * m, pd: 0.5, defaults: m });
  close(above + at, 1, 1e-12);
  // P(X = m) = at − above ≈ 1/√(πm)·(1 − 1/(8m)) (Stirling).
  close(
    (at - above) / (1 / Math.sqrt(Math.PI * m) * (1 - 1 / (8 * m))),
    1,
    1e-9,
  );
  // The far tail is tiny, not zero, and quick.
  const t0 = performance.now();
  const far = binomialTest({ n: 5_000_000, pd: 0.01, defaults: 51_000 });
  assert.ok(far > 0 && far < 1e-5, `far tail ${far}`);
  assert.ok(performance.now() - t0 < 500);
  refused(
    () => binomialTest({ n: 10, pd: 0.1, defaults: 11 }),
    /defaults must be a whole number from 0 to n \(10\), got 11/,
  );
  refused(
    () => binomialTest({ n: 2.5, pd: 0.1, defaults: 1 }),
    /n must be a whole number/,
  );
  refused(
    () => binomialTest({ n: 10, pd: 1.1, defaults: 1 }),
    /pd must be in \[0, 1\]/,
  );
});

Deno.test("trafficLight() reproduces the BCBS 1996 backtesting zones (250 observations at 1%)", () => {
  // BCBS, Supervisory framework for the use of backtesting (1996), table 2:
  // cumulative probability of k exceptions or fewer, in percent.
  const published = [
    8.11,
    28.58,
    54.32,
    75.81,
    89.22,
    95.88,
    98.63,
    99.6,
    99.89,
    99.97,
    99.99,
  ];
  published.forEach((pct, k) => {
    const cumulative = 1 - binomialTest({ n: 250, pd: 0.01, defaults: k + 1 });
    close(cumulative * 100, pct, 0.005 + 1e-9, `k = ${k}`);
  });
  // Zones at 95% and 99.99%, starting at the quantile as the table reads:
  // green 0-4, yellow 5-9, red from 10.
  const ks = Array.from({ length: 13 }, (_, k) => k);
  const rows = trafficLight(
    { n: ks.map(() => 250), pd: ks.map(() => 0.01), defaults: ks },
    { red: 0.9999, boundary: "at-quantile" },
  );
  assert.deepEqual(
    rows.map((r) => r.zone),
    [
      ...Array(5).fill("green"),
      ...Array(5).fill("yellow"),
      ...Array(3).fill("red"),
    ],
  );
  assert.equal(rows[0].yellowFrom, 5);
  assert.equal(rows[0].redFrom, 10);
  // By default (above the quantile, 99.9%) the zones start one later:
  // P(X <= 5) = 95.88% >= 95%, so yellow from 6; P(X <= 9) = 99.97% >= 99.9%
  // and P(X <= 8) = 99.89% < 99.9%, so red from 10.
  const pd = trafficLight({
    n: [250, 250],
    pd: [0.01, 0.01],
    defaults: [9, 10],
    grades: ["G05", "G06"],
  });
  assert.deepEqual([pd[0].yellowFrom, pd[0].redFrom], [6, 10]);
  assert.deepEqual(pd.map((r) => r.zone), ["yellow", "red"]);
  assert.equal(pd[0].grade, "G05");
  close(pd[0].expectedDefaults, 2.5, 1e-12);
  // Empty grades are left out.
  assert.equal(
    trafficLight({ n: [0, 10], pd: [0.1, 0.1], defaults: [0, 1] }).length,
    1,
  );
});

Deno.test("trafficLight() by default is yellow exactly when the binomial p-value is at most 5%, red at most 0.1%", () => {
  const u = random(17);
  for (let trial = 0; trial < 60; trial++) {
    const n = 1 + Math.floor(u() * 400);
    const p = u() < 0.5 ? u() * 0.01 : u() * 0.3;
    const d = Math.min(n, Math.floor(u() * (n * p * 3 + 4)));
    const [row] = trafficLight({ n: [n], pd: [p], defaults: [d] });
    // The p-value summed term by term from the definition.
    let tail = 0, c = 1;
    for (let k = 0; k <= n; k++) {
      if (k >= d) tail += c * p ** k * (1 - p) ** (n - k);
      c = (c * (n - k)) / (k + 1);
    }
    const expected = tail <= 0.001 ? "red" : tail <= 0.05 ? "yellow" : "green";
    // Away from the boundaries (rounding of the sum), the zones agree.
    if (Math.abs(tail - 0.05) > 1e-9 && Math.abs(tail - 0.001) > 1e-9) {
      assert.equal(row.zone, expected, `n ${n} p ${p} d ${d} tail ${tail}`);
    }
  }
  // A grade whose expected defaults are far below 1: none is green.
  const [tiny] = trafficLight({ n: [21], pd: [0.0009], defaults: [0] });
  assert.equal(tiny.zone, "green");
  refused(
    () =>
      trafficLight({ n: [1], pd: [0.1], defaults: [0] }, {
        yellow: 0.99,
        red: 0.95,
      }),
    /0 < yellow < red < 1/,
  );
});

Deno.test("chiSquareSurvival() matches closed forms and published critical values", () => {
  // df 2: exp(−x/2).
  for (const x of [0.1, 1, 5.991, 20]) {
    close(chiSquareSurvival(x, 2), Math.exp(-x / 2), 1e-14);
  }
  // Tables: the 5% critical values 3.841459 (df 1), 11.0705 (df 5),
  // 15.5073 (df 8), 18.3070 (df 10); 1% of df 3 is 11.3449.
  close(chiSquareSurvival(3.841459, 1), 0.05, 1e-7);
  close(chiSquareSurvival(11.0705, 5), 0.05, 1e-5);
  close(chiSquareSurvival(15.5073, 8), 0.05, 1e-5);
  close(chiSquareSurvival(18.307, 10), 0.05, 1e-5);
  close(chiSquareSurvival(11.3449, 3), 0.01, 1e-5);
  assert.equal(chiSquareSurvival(0, 4), 1);
});

Deno.test("hosmerLemeshow() equals the statistic worked by hand, with G degrees of freedom out of sample and G − 2 in sample", () => {
  // Expected defaults 1, 5, 20, 30; variances n·p·(1 − p) 0.98, 4.75, 18, 24:
  // (2 − 1)²/0.98 + (4 − 5)²/4.75 + (25 − 20)²/18 + (27 − 30)²/24
  //   = 1.0204082 + 0.2105263 + 1.3888889 + 0.375 = 2.9948234
  const grades = {
    n: [50, 100, 200, 150],
    pd: [0.02, 0.05, 0.1, 0.2],
    defaults: [2, 4, 25, 27],
  };
  // Out of sample (the default): 4 groups, 4 degrees of freedom; the
  // chi-square survival with 4 df is exp(−x/2)(1 + x/2).
  const out = hosmerLemeshow(grades);
  close(out.statistic, 2.9948234, 1e-7);
  assert.equal(out.df, 4);
  close(out.pValue, Math.exp(-2.9948234 / 2) * (1 + 2.9948234 / 2), 1e-7);
  close(out.pValue, 0.55869, 1e-4);
  assert.deepEqual(hosmerLemeshow(grades, { inSample: false }), out);
  // In sample (the PDs fitted on these rows): 4 − 2 = 2 degrees of
  // freedom, survival exp(−x/2).
  const fitted = hosmerLemeshow(grades, { inSample: true });
  close(fitted.statistic, 2.9948234, 1e-7);
  assert.equal(fitted.df, 2);
  close(fitted.pValue, Math.exp(-2.9948234 / 2), 1e-7);
  close(fitted.pValue, 0.2237, 1e-4);
  // Out of sample one group is a test (1 df: P(chi2_1 > x) = erfc(sqrt(x/2)),
  // for x = (2 − 1)²/0.98: 0.31242); in sample 3 groups are needed.
  const one = hosmerLemeshow({ n: [50], pd: [0.02], defaults: [2] });
  assert.equal(one.df, 1);
  close(one.statistic, 1 / 0.98, 1e-12);
  close(one.pValue, 0.31242, 1e-4);
  refused(
    () =>
      hosmerLemeshow({ n: [10, 10], pd: [0.1, 0.2], defaults: [1, 2] }, {
        inSample: true,
      }),
    /at least 3 groups/,
  );
  refused(
    () => hosmerLemeshow({ n: [0, 0], pd: [0.1, 0.2], defaults: [0, 0] }),
    /at least 1 group/,
  );
  refused(
    () =>
      hosmerLemeshow({
        n: [10, 10, 10],
        pd: [0.1, 0, 0.2],
        defaults: [1, 0, 2],
      }),
    /group 1 has pd 0/,
  );
  refused(
    () =>
      hosmerLemeshow({ n: [10, 10, 10], pd: [0.1, 0.2], defaults: [1, 0, 2] }),
    /must be as long/,
  );
});

Deno.test("binomialInterval() solves the exact tails", () => {
  // 0 of n: upper solves (1 − p)^n = α/2; n of n: lower solves p^n = α/2.
  const [, hi] = binomialInterval({ n: 20, defaults: 0 });
  close(hi, 1 - 0.025 ** (1 / 20), 1e-13);
  const [lo, one] = binomialInterval({ n: 20, defaults: 20 });
  close(lo, 0.025 ** (1 / 20), 1e-13);
  assert.equal(one, 1);
  // In between, each bound puts α/2 in its tail.
  const [l, u] = binomialInterval({ n: 1000, defaults: 30 }, 0.9);
  close(binomialTest({ n: 1000, pd: l, defaults: 30 }), 0.05, 1e-10);
  close(1 - binomialTest({ n: 1000, pd: u, defaults: 31 }), 0.05, 1e-10);
});

Deno.test("calibrationTable() groups by the master scale and counts like a filter", () => {
  const u = random(21);
  const n = 5000;
  const pd = Array.from({ length: n }, () => Math.exp(-7 + 6 * u()));
  const labels = pd.map((p) => (u() < p ? 1 : 0));
  const rows = calibrationTable({ pd, labels });
  let lower = 0, total = 0;
  for (const g of DEFAULT_MASTER_SCALE) {
    const inGrade = pd.map((p, i) => [p, labels[i]]).filter(([p]) =>
      p > lower && p <= g.upper_pd
    );
    lower = g.upper_pd;
    const row = rows.find((r) => r.grade === g.grade);
    if (inGrade.length === 0) {
      assert.equal(row, undefined);
      continue;
    }
    assert.ok(row);
    total += row.count;
    assert.equal(row.count, inGrade.length);
    const d = inGrade.reduce((a, [, y]) => a + y, 0);
    assert.equal(row.defaults, d);
    close(
      row.meanPd,
      inGrade.reduce((a, [p]) => a + p, 0) / inGrade.length,
      1e-12,
    );
    close(
      row.pValue,
      binomialTest({ n: row.count, pd: row.meanPd, defaults: d }),
      1e-15,
    );
    assert.ok(
      row.rateLower <= row.defaultRate && row.defaultRate <= row.rateUpper,
    );
  }
  assert.equal(total, n);
  refused(
    () => calibrationTable({ pd: [0.1, 1.5], labels: [0, 1] }),
    /pd at row 1 is 1.5/,
  );
  refused(
    () =>
      calibrationTable({
        pd: [0.1],
        labels: [0],
        masterScale: [{ grade: "A", upper_pd: 0.5 }],
      }),
    /last grade's upper_pd must be 1/,
  );
});
