/**
 * `preciseSum()` (lib/precise_sum.ts) against `Math.sumPrecise`, the
 * correctly rounded sum of the JavaScript engine, on groups built so that
 * adding their values one after another loses whole units.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import {
  isExactSum,
  PRECISE_SUM_EXACT_LIMIT,
  preciseSum,
  preciseSumParts,
  preciseSumPartTypes,
  preciseSumRowParts,
  sumPreciseParts,
  withPreciseSums,
} from "../lib/precise_sum.ts";

/** Group "a": 1e11 then a million cents; "b": the same negated, with nulls. */
function adversarial() {
  const n = 1_000_000;
  const a = [1e11, ...Array<number>(n).fill(0.01)];
  const b = a.map((v, i) => (i % 1000 === 999 ? null : -v * 3.7));
  return {
    frame: pl.DataFrame({
      g: [...a.map(() => "a"), ...b.map(() => "b")],
      x: pl.Series("x", [...a, ...b], pl.Float64),
    }),
    exact: {
      a: Math.sumPrecise(a),
      b: Math.sumPrecise(b.filter((v): v is number => v !== null)),
    },
  };
}

Deno.test("preciseSum() sums a million cents onto 1e11 exactly, where the plain group sum loses units", async () => {
  const { frame, exact } = adversarial();
  const plain = (await frame.lazy().groupBy("g").agg(pl.col("x").sum())
    .sort("g").collect()).getColumn("x").toArray() as number[];
  // The case is hard: adding one value after another is off by units.
  assert.ok(
    Math.abs(plain[0] - exact.a) > 0.5,
    `plain a off by ${plain[0] - exact.a}`,
  );

  const precise = await withPreciseSums(
    frame.lazy().groupBy("g").agg(...preciseSum(pl.col("x"), "x")),
    ["x"],
  ).sort("g").collect();
  assert.deepEqual(precise.columns, ["g", "x"]);
  const [a, b] = precise.getColumn("x").toArray() as number[];
  assert.equal(exact.a, 100_000_010_000);
  // Within one unit in the last place of the exact sums (1.5e-5 here).
  assert.ok(Math.abs(a - exact.a) <= 2 ** -16, `a off by ${a - exact.a}`);
  assert.ok(Math.abs(b - exact.b) <= 2 ** -14, `b off by ${b - exact.b}`);
});

Deno.test("withPreciseSums() leaves a frame without precise sums unchanged", async () => {
  const lf = pl.DataFrame({ g: ["a"], x: [1.5] }).lazy();
  const out = await withPreciseSums(lf, []).collect();
  assert.deepEqual(out.toRecords(), [{ g: "a", x: 1.5 }]);
});

Deno.test("preciseSum() carries the low parts of 2.5 million negative cents exactly", async () => {
  // -0.01 is -1 cent: a high part of -1 and a low part of 2^32 - 1 each,
  // whose sum (an odd 1.07e16) is beyond 2^53, where Float64 holds only
  // even numbers; the carry must leave -25,000.01.
  const n = 2_500_001;
  const frame = pl.DataFrame({
    x: pl.Series("x", new Float64Array(n).fill(-0.01)),
  });
  const sum = (await withPreciseSums(
    frame.lazy().select(...preciseSum(pl.col("x"), "x")),
    ["x"],
  ).collect()).getColumn("x").get(0) as number;
  assert.ok(Math.abs(sum - -25_000.01) < 1e-9, `sum ${sum}`);
});

Deno.test("preciseSum() makes a sum holding a NaN or an infinite value non-finite, never drops the value", async () => {
  for (const bad of [NaN, Infinity, -Infinity, 1e308]) {
    const frame = pl.DataFrame({ x: pl.Series("x", [1, bad, 2], pl.Float64) });
    const sum = (await withPreciseSums(
      frame.lazy().select(...preciseSum(pl.col("x"), "x")),
      ["x"],
    ).collect()).getColumn("x").get(0) as number;
    // 1e308 * 100 cents is beyond Float64: not finite either.
    assert.ok(!Number.isFinite(sum), `${bad}: sum ${sum}`);
  }
});

Deno.test("isExactSum() holds below 2^53 cents and not from there on", () => {
  assert.equal(isExactSum(90_071_992_547_409.91), true);
  assert.equal(isExactSum(-90_071_992_547_409.91), true);
  assert.equal(isExactSum(PRECISE_SUM_EXACT_LIMIT), false);
  assert.equal(isExactSum(NaN), false);
  assert.equal(isExactSum(Infinity), false);
});

// ---------------------------------------------------------------------------
// Order independence: the sub-cent rest in fixed-point integer parts.

/** A seeded generator of uniform numbers in [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Amounts of both signs from 1e-11 to 9e16: cents, sub-cent digits,
 * tiny rests, the validation limit of 1e15 and beyond it.
 */
function amounts(n: number, seed: number): number[] {
  const u = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const sign = u() < 0.4 ? -1 : 1;
    switch (i % 5) {
      case 0: // whole cents
        return sign * Math.round(u() * 1e9) / 100;
      case 1: // four decimals, as a rate times an amount gives
        return sign * Math.round(u() * 1e10) / 1e4;
      case 2: // any Float64 from 1e-11 to 1e15
        return sign * 10 ** (u() * 26 - 11) * (1 + u());
      case 3: // huge: up to 9e16, beyond 2^53 cents
        return sign * 10 ** (u() * 3 + 14) * (1 + u());
      default: // a sub-cent amount
        return sign * u() * 0.01;
    }
  });
}

/** Polars' round(0): halves to even. */
function roundHalfEven(x: number): number {
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x);
}

/**
 * The value a one-row precise sum had before the rest was split, computed
 * here in plain Float64: the cents `c = round(100 v)`, the rest
 * `v - c / 100` and `c / 100 + rest`, each operation rounded once.
 */
function oneRowBefore(v: number): number {
  const c = roundHalfEven(v * 100);
  return c / 100 + (v - c / 100);
}

/** Each value's precise sum in a group of its own, in one frame. */
async function oneRowSums(values: number[]): Promise<number[]> {
  const frame = pl.DataFrame({
    i: values.map((_, i) => i),
    x: pl.Series("x", values, pl.Float64),
  });
  const out = await withPreciseSums(
    frame.lazy().groupBy("i").agg(...preciseSum(pl.col("x"), "x")),
    ["x"],
  ).sort("i").collect();
  return out.getColumn("x").toArray() as number[];
}

/** The unreduced parts of the precise sum of `values`, as one record. */
function partsOf(values: number[]): Record<string, number> {
  return pl.DataFrame({ x: pl.Series("x", values, pl.Float64) }).lazy()
    .select(...preciseSum(pl.col("x"), "x")).collectSync()
    .toRecords()[0] as Record<string, number>;
}

/** Parts of slices added up as a merge does, then reduced once. */
function mergedSum(slices: number[][]): number {
  const parts = pl.DataFrame(slices.map(partsOf));
  const added = parts.select(...parts.columns.map((c) => pl.col(c).sum()));
  return withPreciseSums(added.lazy(), ["x"]).collectSync().getColumn("x")
    .get(0) as number;
}

/** `values` in a shuffled order (Fisher-Yates). */
function shuffled(values: number[], u: () => number): number[] {
  const out = [...values];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** `values` cut into `k` slices at random places, some empty. */
function slices(values: number[], k: number, u: () => number): number[][] {
  const cuts = Array.from(
    { length: k - 1 },
    () => Math.floor(u() * (values.length + 1)),
  ).sort((a, b) => a - b);
  return [0, ...cuts, values.length].slice(1).map((end, i, ends) =>
    values.slice(i === 0 ? 0 : ends[i - 1], end)
  );
}

/** A Float64 as an exact multiple of 2^-90, when it is one. */
function units90(x: number): bigint {
  const scaled = x * 2 ** 90; // exact: a product by a power of two
  assert.ok(Number.isInteger(scaled), `${x} is not a multiple of 2^-90`);
  return BigInt(scaled);
}

Deno.test("preciseSumPartTypes() describes the parts preciseSum() aggregates into, with their types", () => {
  const frame = pl.DataFrame({ x: pl.Series("x", [1.5, -2.25], pl.Float64) })
    .lazy().select(...preciseSum(pl.col("x"), "x")).collectSync();
  const types = preciseSumPartTypes("x");
  assert.deepEqual(frame.columns, Object.keys(types));
  assert.deepEqual(preciseSumParts("x"), Object.keys(types));
  for (const [c, t] of Object.entries(types)) {
    assert.equal(String(frame.schema[c]), String(t), c);
  }
  // Whole cents in two parts; the rest in three whole-number parts.
  assert.equal(String(types.x__cents_hi), String(pl.Float64));
  for (const c of ["x__cents_lo", "x__subcent_30", "x__subcent_60"]) {
    assert.equal(String(types[c]), String(pl.Int64), c);
  }
});

Deno.test("a precise sum of one row is exactly the value it had before the rest was split, for 5,000 amounts of both signs from 1e-11 to 9e16", async () => {
  const values = [
    ...amounts(5000, 17),
    0.1 + 0.2,
    10767.975,
    6025499.2675,
    -0.005,
    0.005,
    -1e-11,
    4e-12,
    1e15,
    -9.3e16,
    0,
  ];
  const sums = await oneRowSums(values);
  values.forEach((v, i) => {
    assert.ok(
      Object.is(sums[i], oneRowBefore(v)) ||
        (sums[i] === 0 && oneRowBefore(v) === 0),
      `${v}: ${sums[i]}, before ${oneRowBefore(v)}`,
    );
  });
});

Deno.test("the rest of an amount below 2^-38 is kept to a multiple of 2^-90, as documented", async () => {
  const [tiny, negative] = await oneRowSums([1e-30, -3e-13]);
  assert.equal(tiny, Math.round(1e-30 * 2 ** 90) * 2 ** -90);
  assert.equal(negative, -Math.round(3e-13 * 2 ** 90) * 2 ** -90);
  assert.notEqual(tiny, 1e-30);
});

Deno.test("a precise sum does not depend on how many rows share its frame (Polars divides by a scalar as a product by its reciprocal)", () => {
  // 602549927 * 0.01 is 6025499.2700000005; 602549927 / 100 is 6025499.27.
  const values = [6025499.2675, 10767.975, 1, 2];
  const reduce = (records: Record<string, number>[]) =>
    withPreciseSums(pl.DataFrame(records).lazy(), ["x"]).collectSync()
      .getColumn("x").toArray() as number[];
  const cells = values.map((v) => partsOf([v]));
  assert.deepEqual(reduce(cells.slice(0, 1)), [6025499.2675]);
  // The same cells in one frame (one chunk, as a merge builds them).
  assert.deepEqual(reduce(cells), values);
});

Deno.test("the parts of a precise sum are the exact sums of the rows' parts (BigInt reference), and reduce within one rounding of the exact total", () => {
  const values = amounts(3000, 5).filter((v) => Math.abs(v) < 1e14);
  const p = partsOf(values);
  let cents = 0n, rest = 0n;
  for (const v of values) {
    const c = roundHalfEven(v * 100);
    cents += BigInt(c);
    rest += units90(v - c / 100);
  }
  assert.equal(
    BigInt(p.x__cents_hi) * 2n ** 32n + BigInt(p.x__cents_lo),
    cents,
  );
  assert.equal(
    BigInt(p.x__subcent_30) * 2n ** 60n + BigInt(p.x__subcent_60) * 2n ** 30n +
      BigInt(p.x__subcent_90),
    rest,
  );
  // The exact total, cents / 100 + rest, against the reduced sum: within
  // a few units in its last place (the parts are added in Float64 once).
  const sum = mergedSum([values]);
  const scale = 10n ** 30n;
  const exact = Number(
    (cents * scale / 100n + rest * scale / 2n ** 90n) / 10n ** 20n,
  ) / 1e10;
  assert.ok(
    Math.abs(sum - exact) <= 4 * Number.EPSILON * Math.abs(exact) + 1e-9,
    `sum ${sum}, exact ${exact}`,
  );
});

Deno.test("a precise sum is bit-identical in any order of its rows and over any slices merged", () => {
  const u = rng(99);
  for (const [n, seed] of [[5, 1], [200, 2], [4000, 3]]) {
    const values = amounts(n, seed);
    const whole = mergedSum([values]);
    for (let t = 0; t < 6; t++) {
      const order = shuffled(values, u);
      assert.ok(Object.is(mergedSum([order]), whole), `n ${n}: shuffled`);
      const k = 2 + Math.floor(u() * 9);
      const cut = slices(order, k, u);
      const merged = mergedSum(cut);
      assert.ok(
        Object.is(merged, whole),
        `n ${n}, ${k} slices: ${merged} != ${whole}`,
      );
      // The parts themselves add up to the whole's, part by part.
      const parts = pl.DataFrame(cut.map(partsOf));
      const added = parts.select(...parts.columns.map((c) => pl.col(c).sum()))
        .toRecords()[0];
      assert.deepEqual(added, partsOf(values));
    }
  }
});

Deno.test("preciseSumRowParts() then sumPreciseParts() give preciseSum()'s parts and sums to the bit, by group, with nulls, NaN and infinities", async () => {
  const u = rng(7);
  const special = [
    null,
    NaN,
    Infinity,
    -Infinity,
    0,
    -0,
    0.005,
    -0.005,
    10767.975,
    1e-30,
    -3e-13,
    1e15,
    -9.3e16,
    2 ** 85,
  ];
  const values = [...amounts(20_000, 23), ...special];
  // Five groups; special values alone in groups 5 to 18, so that the NaN
  // and infinite ones do not hide the others.
  const g = values.map((_, i) =>
    i < 20_000 ? Math.floor(u() * 5) : 5 + i - 20_000
  );
  const frame = pl.DataFrame({
    g: pl.Series("g", g, pl.Int32),
    x: pl.Series("x", values, pl.Float64),
    y: pl.Series("y", values.map((v) => v === null ? v : -v * 3.7), pl.Float64),
  }).lazy();
  const inAgg = frame.groupBy("g").agg(
    ...preciseSum(pl.col("x"), "x"),
    ...preciseSum(pl.col("y"), "y"),
  ).sort("g");
  const perRow = frame.withColumns(
    ...preciseSumRowParts(pl.col("x"), "x"),
    ...preciseSumRowParts(pl.col("y"), "y"),
  ).groupBy("g").agg(...sumPreciseParts("x"), ...sumPreciseParts("y"))
    .sort("g");
  const [a, b] = await Promise.all([inAgg.collect(), perRow.collect()]);
  // Same columns, types and values (Object.is: NaN equal, 0 not -0).
  assert.deepEqual(b.columns, a.columns);
  assert.equal(a.height, 19);
  for (const c of a.columns) {
    assert.equal(String(b.schema[c]), String(a.schema[c]), c);
    const [va, vb] = [a.getColumn(c).toArray(), b.getColumn(c).toArray()];
    va.forEach((v, i) =>
      assert.ok(Object.is(vb[i], v), `${c}[${i}]: ${vb[i]} != ${v}`)
    );
  }
  const [sa, sb] = await Promise.all(
    [inAgg, perRow].map((f) => withPreciseSums(f, ["x", "y"]).collect()),
  );
  for (const c of ["x", "y"]) {
    const [va, vb] = [sa.getColumn(c).toArray(), sb.getColumn(c).toArray()];
    va.forEach((v, i) =>
      assert.ok(Object.is(vb[i], v), `${c}[${i}]: ${vb[i]} != ${v}`)
    );
  }
  // Not trivially equal: the sums include NaN, infinities and finite ones.
  const xs = sa.getColumn("x").toArray() as number[];
  assert.ok(xs.some(Number.isNaN) && xs.some((v) => v === Infinity));
  assert.ok(xs.filter(Number.isFinite).length >= 10);
});
