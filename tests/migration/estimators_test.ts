/**
 * Estimators of rating migration (lib/migration, methodology §13): the
 * cohort and duration methods on histories small enough to count by hand,
 * rating histories with default absorbing, and a matrix estimated from a
 * generated multi-period book that validates.
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import {
  cohortCounts,
  durationCounts,
  estimateCohort,
  estimateDuration,
  generatorMatrix,
  lifetimePds,
  ratingHistory,
  validateMatrix,
} from "../../lib/migration/mod.ts";
import { generateBook, RATING_SCALE } from "../../lib/generate/mod.ts";

/** One snapshot frame: loans and their ratings at `date`. */
const snap = (date: string, rows: [string, string][]) =>
  pl.DataFrame({
    loan_id: rows.map((r) => r[0]),
    reporting_date: rows.map(() => date),
    rating: rows.map((r) => r[1]),
  });

// Five quarterly snapshots of five loans (states A, B, D).
//   a: A A B B B    (A -> B after two quarters)
//   b: A A A A A
//   c: B B D -      (defaults, then written off: D stays)
//   d: B A A A -    (repaid after four dates: censored)
//   e: A A A A B
const BOOK = [
  snap("2024-12-31", [["a", "A"], ["b", "A"], ["c", "B"], ["d", "B"], [
    "e",
    "A",
  ]]),
  snap("2025-03-31", [["a", "A"], ["b", "A"], ["c", "B"], ["d", "A"], [
    "e",
    "A",
  ]]),
  snap("2025-06-30", [["a", "B"], ["b", "A"], ["c", "D"], ["d", "A"], [
    "e",
    "A",
  ]]),
  snap("2025-09-30", [["a", "B"], ["b", "A"], ["d", "A"], ["e", "A"]]),
  snap("2025-12-31", [["a", "B"], ["b", "A"], ["e", "B"]]),
];

Deno.test("ratingHistory() keeps default absorbing and censors facilities that leave without defaulting", () => {
  const h = ratingHistory(BOOK);
  assert.deepEqual(h.states, ["A", "B", "D"]);
  const byLoan = (id: string) =>
    h.loan.flatMap((l, k) => (l === id ? [h.states[h.state[k]]] : []));
  assert.deepEqual(byLoan("c"), ["B", "B", "D", "D", "D"]);
  assert.deepEqual(byLoan("d"), ["B", "A", "A", "A"]);
  assert.equal(h.dates.length, 5);
  // A default_flag puts the facility in default whatever its rating.
  const flagged = ratingHistory([
    snap("2025-03-31", [["x", "A"]]),
    snap("2025-06-30", [["x", "A"]]).withColumns(
      pl.lit(true).alias("default_flag"),
    ),
    snap("2025-09-30", [["x", "A"]]),
  ]);
  assert.deepEqual([...flagged.state], [0, 1, 1]);
  assert.deepEqual(flagged.states, ["A", "D"]);
  // A rating outside the states given is refused, naming the loan.
  assert.throws(
    () => ratingHistory(BOOK, { states: ["A", "D"] }),
    /loan a at 2025-06-30: rating "B" is not one of the states \(A, D\)/,
  );
});

Deno.test("estimateCohort() counts one-year windows by hand: counts to matrix", () => {
  const h = ratingHistory(BOOK);
  // Windows start on 2024-12-31 (ending 2025-12-31) only: a A->B, b A->A,
  // c B->D (default absorbing), d censored (gone by 2025-12-31), e A->B.
  assert.deepEqual(cohortCounts(h), [[1, 2, 0], [0, 0, 1], [0, 0, 0]]);
  const m = estimateCohort(h);
  assert.deepEqual(m.rows, [[1 / 3, 2 / 3, 0], [0, 0, 1], [0, 0, 1]]);
  assert.deepEqual(validateMatrix(m), []);
  assert.deepEqual(m.warnings, []);
});

Deno.test("estimateDuration() counts transitions and time in each state by hand: generator and exp(Q)", () => {
  const h = ratingHistory(BOOK);
  // Quarters of 0.25 years; a move is taken halfway through its quarter.
  // Time in A: a 0.25 + 0.125, b 1, d 0.125 + 0.5, e 0.75 + 0.125 = 2.875.
  // Time in B: a 0.125 + 0.5, c 0.25 + 0.125, d 0.125, e 0.125 = 1.25.
  // Moves: A -> B twice (a, e), B -> D once (c), B -> A once (d).
  const { transitions, exposure } = durationCounts(h);
  assert.deepEqual(transitions, [[0, 2, 0], [1, 0, 1], [0, 0, 0]]);
  assert.equal(exposure[0], 2.875);
  assert.equal(exposure[1], 1.25);
  const d = estimateDuration(h);
  const qA = 2 / 2.875;
  assert.deepEqual(d.generator, [[-qA, qA, 0], [0.8, -1.6, 0.8], [0, 0, 0]]);
  assert.deepEqual(validateMatrix(d), []);
  // Unlike the cohort matrix, A reaches default within the year (A -> B
  // -> D), and every probability is positive.
  assert.ok(d.rows[0][2] > 0);
  assert.ok(d.rows[0][2] < d.rows[1][2]);
  assert.deepEqual(d.rows[2], [0, 0, 1]);
  // A row without exposure keeps its facilities.
  assert.deepEqual(generatorMatrix([[0, 0], [0, 0]], [0, 0]), [[0, 0], [0, 0]]);
});

Deno.test("a matrix estimated from a generated eight-quarter book validates, both methods, with lifetime PDs rising", () => {
  const book = generateBook({
    loans: 3000,
    seed: 11,
    reportingDate: "2024-12-31",
    periods: 8,
  });
  const h = ratingHistory(book, { states: RATING_SCALE.map((g) => g.grade) });
  assert.equal(h.states.at(-1), "D");
  assert.equal(h.dates.length, 8);
  for (const m of [estimateCohort(h), estimateDuration(h)]) {
    assert.deepEqual(validateMatrix(m), [], m.method);
    // Worse grades default more within the year (allowing for noise in the
    // sparse best grades: compare the middle of the scale).
    const pd = (g: string) => m.rows[m.states.indexOf(g)][m.states.length - 1];
    assert.ok(pd("R05") < pd("R08") && pd("R08") < pd("R11"), m.method);
    for (const l of lifetimePds(m, 30)) {
      for (let y = 1; y < 30; y++) {
        assert.ok(
          l.cumulative[y] >= l.cumulative[y - 1],
          `${m.method} ${l.state} year ${y + 1}`,
        );
      }
    }
  }
});

Deno.test("duration: moves counted with no time in their state are refused (exit 1), not estimated as a zero PD", async () => {
  const { estimateDuration: estimate } = await import(
    "../../lib/migration/duration.ts"
  );
  const { exitCodeFor } = await import("../../lib/errors.ts");
  // Two observations of one facility at the same month: A then D.
  const h = {
    states: ["A", "D"],
    loan: ["a", "a"],
    month: Int32Array.from([24300, 24300]),
    state: Int32Array.from([0, 1]),
    dates: ["2025-01-31"],
  };
  let caught: unknown;
  try {
    estimate(h);
  } catch (e) {
    caught = e;
  }
  assert.equal(exitCodeFor(caught), 1);
  assert.match(
    String((caught as Error).message),
    /1 move\(s\) A -> D with no time observed in A/,
  );
});
