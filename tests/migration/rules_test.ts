/**
 * A segment's `pd_curve: transition_matrix` in the rules (lib/rules.ts,
 * lib/transition_matrix.ts, methodology §13): inline rows or a file
 * relative to the rules file, checked with the master scale when the rules
 * are loaded, and again when changed in code.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  checkRules,
  parseRules,
  requireValidRules,
  withRules,
} from "../../lib/rules.ts";
import { stateRules } from "../../lib/walk/mod.ts";
import { rulesParameters } from "../../lib/run_folder/mod.ts";

const HEAD = `reporting_currency: EUR
products: {sme: {repayment: bullet}}
scenarios: [{name: base, weight: 1, pd_multiplier: [1]}]
`;
const SCALE = "[{grade: A, upper_pd: 0.02}, {grade: B, upper_pd: 1}]";
const INLINE =
  "{states: [A, B, D], rows: [[0.9, 0.08, 0.02], [0.1, 0.8, 0.1], [0, 0, 1]]}";

Deno.test("rules: an inline transition matrix and its master scale are read, typed and checked", () => {
  const rules = parseRules(
    `${HEAD}segments:\n  sme: {pd_curve: transition_matrix, transition_matrix: ${INLINE}, master_scale: ${SCALE}}\n`,
    "inline.yaml",
  );
  assert.equal(rules.segments.sme.pd_curve, "transition_matrix");
  assert.deepEqual(rules.segments.sme.transition_matrix?.states, [
    "A",
    "B",
    "D",
  ]);
  assert.deepEqual(rules.segments.sme.master_scale?.map((g) => g.grade), [
    "A",
    "B",
  ]);
  assert.equal(rules.segments.default.pd_curve, "flat");
  // Changed in code: a row that no longer sums to 1 is refused.
  rules.segments.sme.transition_matrix!.rows[0][0] = 0.8;
  assert.throws(
    () => requireValidRules(rules, "computeEcl()"),
    /key segments\.sme\.transition_matrix\.rows\[0\]: row A sums to 0\.9, not 1/,
  );
});

Deno.test("rules: pd_curve transition_matrix needs a matrix and a master scale whose grades are its states", () => {
  const { issues } = checkRules({
    reporting_currency: "EUR",
    products: { sme: { repayment: "bullet" } },
    scenarios: [{ name: "base", weight: 1, pd_multiplier: [1] }],
    segments: {
      a: { pd_curve: "transition_matrix" },
      b: {
        pd_curve: "transition_matrix",
        transition_matrix: {
          states: ["A", "B", "C", "D"],
          rows: [[0.9, 0.1, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]],
        },
        master_scale: [{ grade: "A", upper_pd: 0.5 }, {
          grade: "X",
          upper_pd: 0.4,
        }],
      },
    },
  });
  assert.deepEqual(issues.map((i) => `${i.path}: ${i.message}`), [
    "segments.b.master_scale[1].upper_pd: must be above the previous grade's (0.5), got 0.4",
    "segments.b.master_scale[1].upper_pd: the last grade's upper_pd must be 1 (every PD has a grade), got 0.4",
    "segments.a.transition_matrix: is required when pd_curve is transition_matrix",
    "segments.a.master_scale: is required when pd_curve is transition_matrix",
    "segments.b.master_scale[1].grade: X is not a state of the segment's transition matrix (states: A, B, C, D)",
    "segments.b.master_scale: must give a PD band for every grade of the transition matrix; missing: B, C",
  ]);
});

Deno.test("rules: a matrix file is read relative to the rules file; rules built in code need an absolute path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "m"));
    await Deno.writeTextFile(
      join(dir, "m", "tm.yaml"),
      "states: [A, B, D]\nrows: [[0.9, 0.08, 0.02], [0.1, 0.8, 0.1], [0, 0, 1]]\n",
    );
    const text =
      `${HEAD}segments:\n  default: {pd_curve: transition_matrix, transition_matrix: m/tm.yaml, master_scale: ${SCALE}}\n`;
    const rules = parseRules(text, join(dir, "rules.yaml"));
    const tm = rules.segments.default.transition_matrix!;
    assert.equal(tm.file, "m/tm.yaml");
    assert.match(tm.sha256!, /^[0-9a-f]{64}$/);
    assert.deepEqual(tm.rows[1], [0.1, 0.8, 0.1]);
    // Derived rules read the file again, from the same folder.
    const later = withRules(rules, {
      segments: { default: { lgd_floor: 0.1 } },
    });
    assert.deepEqual(later.segments.default.transition_matrix?.rows, tm.rows);
    // Rules built in code have no folder: a relative path is refused.
    const { issues } = checkRules({
      reporting_currency: "EUR",
      products: { sme: { repayment: "bullet" } },
      scenarios: [{ name: "base", weight: 1, pd_multiplier: [1] }],
      segments: {
        default: {
          pd_curve: "transition_matrix",
          transition_matrix: "m/tm.yaml",
          master_scale: [{ grade: "A", upper_pd: 1 }],
        },
      },
    });
    assert.equal(issues.length, 1);
    assert.equal(issues[0].path, "segments.default.transition_matrix");
    assert.match(
      issues[0].message,
      /m\/tm\.yaml is a relative path, but these rules were built in code.*give an absolute path, or the rows inline/,
    );
    // A file that is not a matrix.
    await Deno.writeTextFile(join(dir, "m", "tm.yaml"), "rates: {EUR: 1}\n");
    assert.throws(
      () => parseRules(text, join(dir, "rules.yaml")),
      /key segments\.default\.transition_matrix: .*tm\.yaml: must be a mapping with states: \[labels, the default state last\] and rows/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the ECL walk's pd driver carries a segment's transition matrix and master scale with its pd_curve", () => {
  const open = parseRules(HEAD, "open.yaml");
  const close = parseRules(
    `${HEAD}segments:\n  sme: {pd_curve: transition_matrix, transition_matrix: ${INLINE}, master_scale: ${SCALE}}\n`,
    "close.yaml",
  );
  // Before the pd step: the opening curve, whatever else is substituted.
  const before = stateRules(open, close, new Set(["rules", "lgd"]));
  assert.equal(before.segments.sme.pd_curve, "flat");
  assert.equal(before.segments.sme.transition_matrix, undefined);
  // From the pd step on: the closing curve with its matrix, valid rules.
  const after = stateRules(open, close, new Set(["pd"]));
  assert.equal(after.segments.sme.pd_curve, "transition_matrix");
  assert.deepEqual(after.segments.sme.transition_matrix?.rows[0], [
    0.9,
    0.08,
    0.02,
  ]);
  assert.deepEqual(after.segments.sme.master_scale?.length, 2);
  requireValidRules(after, "walk");
});

Deno.test("rules: the master scale may not grade into the default state and must list the grades in the matrix's order", () => {
  const base = {
    reporting_currency: "EUR",
    products: { sme: { repayment: "bullet" } },
    scenarios: [{ name: "base", weight: 1, pd_multiplier: [1] }],
  };
  const matrix = {
    states: ["A", "B", "D"],
    rows: [[0.9, 0.08, 0.02], [0.1, 0.8, 0.1], [0, 0, 1]],
  };
  const withScale = (scale: { grade: string; upper_pd: number }[]) =>
    checkRules({
      ...base,
      segments: {
        sme: {
          pd_curve: "transition_matrix",
          transition_matrix: matrix,
          master_scale: scale,
        },
      },
    }).issues.map((i) => `${i.path}: ${i.message}`);
  // D as the worst band: a performing facility would be certain to default.
  assert.deepEqual(
    withScale([
      { grade: "A", upper_pd: 0.02 },
      { grade: "B", upper_pd: 0.5 },
      { grade: "D", upper_pd: 1 },
    ]),
    [
      "segments.sme.master_scale[2].grade: D is the default state of the segment's transition matrix (its last state), not a grade: a performing facility in its band would be certain to default; give bands for the grades A, B only",
    ],
  );
  // B's band below A's: the scale and the matrix disagree on the order.
  assert.deepEqual(
    withScale([{ grade: "B", upper_pd: 0.02 }, { grade: "A", upper_pd: 1 }]),
    [
      "segments.sme.master_scale[1].grade: A comes after B in the master scale (a higher PD band) but before it in the transition matrix's states (A, B, D): list the bands in the matrix's order, best grade (lowest PD) first",
    ],
  );
  assert.deepEqual(
    withScale([{ grade: "A", upper_pd: 0.02 }, { grade: "B", upper_pd: 1 }]),
    [],
  );
});

Deno.test("rules: a transition matrix on a segment whose pd_curve is another is refused; one inherited from default is dropped", () => {
  const { issues } = checkRules({
    reporting_currency: "EUR",
    products: { sme: { repayment: "bullet" } },
    scenarios: [{ name: "base", weight: 1, pd_multiplier: [1] }],
    segments: {
      flat_one: {
        pd_curve: "flat",
        transition_matrix: {
          states: ["A", "D"],
          rows: [[0.9, 0.1], [0, 1]],
        },
      },
    },
  });
  assert.deepEqual(issues.map((i) => `${i.path}: ${i.message}`), [
    "segments.flat_one.transition_matrix: is used only when pd_curve is transition_matrix, but segment flat_one's pd_curve is flat: set pd_curve: transition_matrix or remove transition_matrix",
  ]);
  // default uses a matrix; sme a shape: sme has no matrix of its own, and
  // the run's manifest records the matrix once, under default.
  const rules = parseRules(
    `${HEAD}segments:\n  default: {pd_curve: transition_matrix, transition_matrix: ${INLINE}, master_scale: ${SCALE}}\n  sme: {pd_curve: shape, pd_shape: [1, 1.2]}\n`,
    "inline.yaml",
  );
  assert.equal(rules.segments.sme.transition_matrix, undefined);
  assert.equal(rules.segments.sme.master_scale, undefined);
  assert.equal(rules.segments.default.transition_matrix?.states.length, 3);
  const keys = Object.keys(rulesParameters(rules));
  assert.ok(keys.includes("segments.default.transition_matrix.rows[0]"));
  assert.deepEqual(
    keys.filter((k) => k.startsWith("segments.sme.transition_matrix")),
    [],
  );
});
