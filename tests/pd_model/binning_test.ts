/**
 * Weight-of-evidence binning (lib/pd_model/binning.ts): WoE and IV against
 * a table worked by hand, the zero-cell rule, monotone merging, the minimum
 * bin share, the missing bin, categorical grouping and the lookup rule.
 */
import assert from "node:assert/strict";
import {
  assignBins,
  binCategorical,
  binCharacteristics,
  binNumeric,
  woeTable,
} from "../../lib/pd_model/binning.ts";
import { UserError } from "../../lib/errors.ts";
import { Rng } from "../../lib/generate/random.ts";

/** Rows with value `values[k]` repeated: `goods[k]` with target 0, `bads[k]` with 1. */
function table(values: number[], goods: number[], bads: number[]) {
  const x: number[] = [], y: number[] = [];
  values.forEach((v, k) => {
    for (let i = 0; i < goods[k]; i++) x.push(v), y.push(0);
    for (let i = 0; i < bads[k]; i++) x.push(v), y.push(1);
  });
  return { x: Float64Array.from(x), y: Uint8Array.from(y) };
}

// Worked by hand: G = 600, B = 100.
//   bin 1: %good 1/6, %bad 1/2: WoE ln(1/3)  = -1.0986123, IV term (1/6 - 1/2)(-1.0986123) = 0.3662041
//   bin 2: %good 1/3, %bad 3/10: WoE ln(10/9) =  0.1053605, IV term (1/30)(0.1053605)     = 0.0035120
//   bin 3: %good 1/2, %bad 1/5: WoE ln(5/2)  =  0.9162907, IV term (3/10)(0.9162907)     = 0.2748872
//   IV = 0.6446033
const HAND = {
  goods: [100, 200, 300],
  bads: [50, 30, 20],
  woe: [-1.0986123, 0.1053605, 0.9162907],
  iv: [0.3662041, 0.0035120, 0.2748872],
  total: 0.6446033,
};

Deno.test("woeTable() gives the hand-worked WoE and IV of a three-bin table", () => {
  const t = woeTable(HAND.goods, HAND.bads);
  t.woe.forEach((w, i) =>
    assert.ok(Math.abs(w - HAND.woe[i]) < 1e-6, `woe ${i}: ${w}`)
  );
  t.iv.forEach((v, i) =>
    assert.ok(Math.abs(v - HAND.iv[i]) < 1e-6, `iv ${i}: ${v}`)
  );
  assert.ok(Math.abs(t.totalIv - HAND.total) < 1e-6);
});

Deno.test("binNumeric() finds the three values' bins and their hand-worked WoE, edges at the values", () => {
  const { x, y } = table([1, 2, 3], HAND.goods, HAND.bads);
  const b = binNumeric("x", x, y, { monotonic: false, minBinShare: 0 });
  assert.deepEqual(b.edges, [2, 3]);
  assert.equal(b.bins.length, 4);
  b.bins.slice(0, 3).forEach((bin, i) => {
    assert.equal(bin.count, HAND.goods[i] + HAND.bads[i]);
    assert.equal(bin.bads, HAND.bads[i]);
    assert.ok(Math.abs(bin.woe - HAND.woe[i]) < 1e-6);
  });
  // Nothing missing: an empty missing bin, WoE 0, no IV.
  assert.deepEqual([b.bins[3].missing, b.bins[3].count, b.bins[3].woe], [
    true,
    0,
    0,
  ]);
  assert.ok(Math.abs(b.iv - HAND.total) < 1e-6);
  // A value exactly on an edge falls in the upper bin.
  assert.deepEqual([
    ...assignBins(b, Float64Array.from([1.999, 2, 3, NaN, -1e9, 1e9])),
  ], [
    0,
    1,
    2,
    3,
    0,
    2,
  ]);
});

Deno.test("a bin without bads gets +0.5 on both counts (never Infinity)", () => {
  // G = 200, B = 20; bin 1 has 100 goods, 0 bads.
  const t = woeTable([100, 100], [0, 20]);
  const expected = Math.log((100.5 / 200) / (0.5 / 20)); // = ln(20.1) = 3.0007
  assert.ok(Math.abs(t.woe[0] - expected) < 1e-12);
  assert.ok(Math.abs(t.woe[0] - 3.0007) < 1e-4);
  assert.ok(t.woe.every(Number.isFinite) && Number.isFinite(t.totalIv));
  const noGoods = woeTable([0, 100], [10, 10]);
  assert.ok(
    Math.abs(noGoods.woe[0] - Math.log((0.5 / 100) / (10.5 / 20))) < 1e-12,
  );
});

Deno.test("woeTable() refuses a target with one class", () => {
  assert.throws(
    () => woeTable([10, 20], [0, 0]),
    (e) => e instanceof UserError && /no defaults/.test(e.message),
  );
});

/** A U-shaped risk: bad rate high at both ends of x. */
function uShaped(n: number, seed: number) {
  const rng = new Rng(seed, 0);
  const x = new Float64Array(n), y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = rng.uniform() * 10;
    const p = 0.02 + 0.25 * ((x[i] - 3) / 7) ** 2 +
      (x[i] < 3 ? 0.02 * (3 - x[i]) : 0);
    y[i] = rng.chance(p) ? 1 : 0;
  }
  return { x, y };
}

const monotone = (w: number[]) =>
  w.every((v, i) => i === 0 || v >= w[i - 1]) ||
  w.every((v, i) => i === 0 || v <= w[i - 1]);

Deno.test("binNumeric() with monotonic merges until the WoE is monotone; without, the U shape stays", () => {
  const { x, y } = uShaped(20000, 1);
  const mono = binNumeric("x", x, y, { monotonic: true });
  const free = binNumeric("x", x, y, { monotonic: false });
  const woe = (b: typeof mono) =>
    b.bins.filter((bin) => !bin.missing).map((bin) => bin.woe);
  assert.ok(monotone(woe(mono)), `not monotone: ${woe(mono)}`);
  assert.ok(!monotone(woe(free)), `expected the U shape: ${woe(free)}`);
  assert.ok(mono.iv < free.iv);
  assert.ok(free.bins.length - 1 <= 8); // maxBins default
});

Deno.test("binNumeric() keeps every bin at or above the minimum share, and at most maxBins", () => {
  const { x, y } = uShaped(10000, 2);
  for (const [share, maxBins] of [[0.05, 8], [0.15, 10], [0.02, 4]]) {
    const b = binNumeric("x", x, y, {
      minBinShare: share,
      maxBins,
      monotonic: false,
    });
    const inner = b.bins.filter((bin) => !bin.missing);
    assert.ok(inner.length <= maxBins);
    for (const bin of inner) {
      assert.ok(bin.count >= share * 10000, `${bin.count} < ${share}`);
    }
    assert.equal(inner.reduce((s, bin) => s + bin.count, 0), 10000);
    // Bounds chain: each bin starts where the last ended.
    inner.forEach((bin, i) => {
      if (i > 0) assert.equal(bin.lower, inner[i - 1].upper);
    });
  }
});

Deno.test("binNumeric() gives missing values their own last bin, whatever their number", () => {
  const { x, y } = uShaped(5000, 3);
  for (let i = 0; i < 5000; i += 50) x[i] = NaN; // 100 missing: 2% < the 5% minimum share
  const b = binNumeric("x", x, y);
  const last = b.bins[b.bins.length - 1];
  assert.equal(last.missing, true);
  assert.equal(last.count, 100);
  let bads = 0;
  for (let i = 0; i < 5000; i += 50) bads += y[i];
  assert.equal(last.bads, bads);
  assert.ok(Number.isFinite(last.woe));
});

Deno.test("binNumeric() refuses an infinite value, naming the characteristic and row", () => {
  const x = Float64Array.from([1, 2, Infinity]);
  assert.throws(
    () => binNumeric("income", x, Uint8Array.from([0, 1, 0])),
    (e) => e instanceof UserError && /'income', row 3/.test(e.message),
  );
});

Deno.test("binCategorical() groups categories by bad rate, merges small ones, sends unknown and unseen to the missing bin", () => {
  // Categories a..e with bad rates 2%, 20%, 3%, 21%, (d tiny, 1% of rows); f never seen.
  const cats = ["a", "b", "c", "d", "e", "f"];
  const spec: [number, number, number][] = [ // code, rows, bads
    [0, 4000, 80],
    [1, 3000, 600],
    [2, 2400, 72],
    [3, 100, 21],
    [4, 400, 84],
  ];
  const x: number[] = [], y: number[] = [];
  for (const [code, rows, bads] of spec) {
    for (let i = 0; i < rows; i++) x.push(code), y.push(i < bads ? 1 : 0);
  }
  for (let i = 0; i < 100; i++) x.push(NaN), y.push(i < 10 ? 1 : 0);
  const b = binCategorical(
    "job",
    cats,
    Float64Array.from(x),
    Uint8Array.from(y),
    { minBinShare: 0.05 },
  );
  // d (1%) and e (4%) are below 5% of the 10,000 rows: pooled into one
  // "other" group before ordering (d+e: 500 rows, 105 bads, 21%). In
  // bad-rate order (a 2%, c 3%, b 20%, d+e 21%) ChiMerge tests neighbours:
  // a|c: X² = 6400·(80·2328 − 3920·72)² / (4000·2400·152·6248) = 6.47,
  // significant (> 3.84), kept apart; b|d+e: X² = 3500·(600·395 −
  // 2400·105)² / (3000·500·705·2795) = 0.27, merged; c|b is far apart.
  const groups = b.bins.filter((bin) => !bin.missing).map((bin) =>
    bin.categories
  );
  assert.deepEqual(groups, [["a"], ["c"], ["b", "d", "e"]]);
  assert.equal(b.categoryBins[5], b.bins.length - 1); // f: never seen
  const last = b.bins[b.bins.length - 1];
  assert.deepEqual([last.missing, last.count, last.bads], [true, 100, 10]);
  // The missing bin holds 1% < 5%: neutral, WoE 0, no IV.
  assert.deepEqual([last.woe, last.iv], [0, 0]);
  // Lookup: codes 0..5, an unknown code, a fraction, NaN.
  const idx = assignBins(b, Float64Array.from([0, 1, 2, 3, 4, 5, 6, -1, NaN]));
  const m = b.bins.length - 1;
  assert.deepEqual([...idx], [0, 2, 1, 2, 2, m, m, m, m]);
  // WoE falls with the bad rate.
  for (let i = 1; i < m; i++) assert.ok(b.bins[i - 1].woe > b.bins[i].woe);
});

Deno.test("binCharacteristics() bins each feature by kind and honours per-characteristic monotonic", () => {
  const { x, y } = uShaped(8000, 4);
  const code = Float64Array.from(x, (v) => Math.floor(v / 5));
  const out = binCharacteristics({
    features: [
      { name: "u", kind: "number" },
      { name: "v", kind: "number" },
      { name: "k", kind: "category", categories: ["lo", "hi"] },
    ],
    columns: [x, x, code],
    target: y,
    rows: 8000,
  }, { monotonic: { u: false } });
  assert.deepEqual(out.map((b) => [b.name, b.kind, b.monotonic]), [
    ["u", "number", false],
    ["v", "number", true],
    ["k", "category", false],
  ]);
  assert.ok(out[0].iv > out[1].iv);
  assert.throws(
    () => binCharacteristics({ features: [], columns: [], rows: 1 }),
    (e) => e instanceof UserError && /target/.test(e.message),
  );
  assert.throws(
    () =>
      binCharacteristics({
        features: [{ name: "u", kind: "number" }],
        columns: [x],
        target: Uint8Array.from(y, (v, i) => (i === 7 ? 2 : v)),
        rows: 8000,
      }),
    (e) => e instanceof UserError && /row 8: 2 is not 0 or 1/.test(e.message),
  );
  assert.throws(
    () => binNumeric("u", x, y, { maxBins: 50 }),
    (e) =>
      e instanceof UserError && e.kind === "usage" && /maxBins/.test(e.message),
  );
});

/** Pure noise: `levels` equally likely categories, default rate `rate`, independent. */
function noiseCategory(n: number, levels: number, rate: number, seed: number) {
  const rng = new Rng(seed, 5);
  const x = new Float64Array(n), y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = Math.floor(rng.uniform() * levels);
    y[i] = rng.chance(rate) ? 1 : 0;
  }
  const cats = Array.from({ length: levels }, (_, k) => `c${k}`);
  return { x, y, cats };
}

Deno.test("binCategorical() gives a pure-noise category with many levels an IV below 0.02", () => {
  // Bound: collapsing categories never raises Pearson's X², and IV ≈
  // X² / (n·r·(1 − r)) for small differences. Levels below 5% of rows are
  // pooled into one group, so 80 levels in 2,100 rows and 100 levels in
  // 50,000 rows leave one group: IV 0. Eight levels of 12.5% each in
  // 20,000 rows at r = 0.1 stand alone: X² ≤ χ²(7) whose 99.9% point is
  // 24.32, so IV ≲ 24.32 / (20,000 · 0.1 · 0.9) = 0.0135 < 0.02.
  for (const seed of [1, 2, 3]) {
    for (const [n, levels] of [[2100, 80], [50_000, 100], [20_000, 8]]) {
      const { x, y, cats } = noiseCategory(n, levels, 0.1, seed);
      const b = binCategorical("noise", cats, x, y);
      assert.ok(
        b.iv < 0.02,
        `${levels} levels, ${n} rows, seed ${seed}: IV ${b.iv}`,
      );
      if (levels > 20) assert.equal(b.iv, 0);
    }
  }
});

Deno.test("binCategorical() keeps the groups of a truly predictive category", () => {
  // Four levels of 25% each with default rates 2%, 5%, 10%, 20%: every
  // neighbour pair differs far beyond χ²(1)'s 95% point with 2,000 rows each.
  const rates = [0.02, 0.05, 0.1, 0.2];
  const rng = new Rng(8, 2);
  const n = 8000;
  const x = new Float64Array(n), y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = i % 4;
    y[i] = rng.chance(rates[i % 4]) ? 1 : 0;
  }
  const b = binCategorical("grade", ["A", "B", "C", "D"], x, y);
  assert.deepEqual(
    b.bins.filter((bin) => !bin.missing).map((bin) => bin.categories),
    [["A"], ["B"], ["C"], ["D"]],
  );
  assert.ok(b.iv > 0.3, `IV ${b.iv}`);
});

Deno.test("binning refuses a characteristic equal to the target as a suspected leak, naming it", () => {
  // 3% defaults: below the 5% minimum share, so merging alone would have
  // folded the flag into one constant bin ("singular design").
  const n = 4000;
  const y = Uint8Array.from({ length: n }, (_, i) => (i % 33 === 0 ? 1 : 0));
  const leak = Float64Array.from(y);
  const isLeak = (e: unknown) =>
    e instanceof UserError && e.kind === "check" &&
    /characteristic 'leak' separates the classes perfectly.*suspected leak/
      .test(e.message);
  assert.throws(() => binNumeric("leak", leak, y), isLeak);
  assert.throws(
    () => binCategorical("leak", ["no", "yes"], Float64Array.from(y), y),
    isLeak,
  );
  // A zero-inflated leak: arrears > 0 (all distinct) exactly for the
  // defaulters; the quantile edges all fall on the 97% at zero.
  const arrears = Float64Array.from(y, (v, i) => (v ? 30 + i / 100 : 0));
  assert.throws(
    () => binNumeric("leak", arrears, y),
    isLeak,
  );
  // One mixed row and it is a (strong) characteristic, not a leak.
  const mixed = Float64Array.from(leak, (v, i) => (i === 1 ? 1 : v));
  assert.ok(binNumeric("near", mixed, y, { minBinShare: 0 }).iv > 1);
});

Deno.test("binNumeric() makes a missing bin below the minimum share neutral (WoE 0), and keeps a large one's WoE", () => {
  const { x, y } = uShaped(5000, 9);
  // Three missing rows, no default: the +0.5 correction alone would give
  // WoE ln((3.5/G)/(0.5/B)) ≈ +2.
  const few = Float64Array.from(x);
  let k = 0;
  for (let i = 0; i < 5000 && k < 3; i++) if (y[i] === 0) few[i] = NaN, k++;
  const small = binNumeric("x", few, y).bins.at(-1)!;
  assert.deepEqual([small.count, small.bads, small.woe, small.iv], [
    3,
    0,
    0,
    0,
  ]);
  // 10% missing, all defaults' share as elsewhere: its own WoE, as computed.
  const many = Float64Array.from(x, (v, i) => (i % 10 === 0 ? NaN : v));
  const big = binNumeric("x", many, y).bins.at(-1)!;
  let G = 0, B = 0;
  for (let i = 0; i < 5000; i++) y[i] ? B++ : G++;
  const bads = big.bads, goods = big.count - big.bads;
  assert.ok(Math.abs(big.woe - Math.log((goods / G) / (bads / B))) < 1e-12);
});
