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
