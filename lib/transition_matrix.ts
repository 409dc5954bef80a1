/**
 * Rating transition matrices as data (docs/methodology.md §13, "Rating
 * migration"): reading a matrix file (CSV or YAML/JSON), validating it
 * (every problem, each named by its row and column labels), matrix powers
 * and the lifetime PD curves of each grade: the cumulative PD
 * `PD(y) = (M^y)[g, D]` and the conditional annual PD
 * `q[y] = (PD(y) - PD(y-1)) / (1 - PD(y-1))` that a segment with
 * `pd_curve: transition_matrix` uses as its base curve (methodology §4).
 *
 * It lives at the foundation beside `rules.ts`, like `pd_source_rules.ts`:
 * the rules file's loader checks a segment's matrix before any data is
 * read, and the engine turns it into curves, so neither may import
 * `lib/migration` (whose estimators use the engine's normal distribution;
 * `tests/architecture_test.ts` forbids the cycle). `lib/migration` builds
 * the estimators, the matrix exponential and the credit-cycle conditioning
 * on top of this module.
 *
 * Conventions (Jafry & Schuermann 2004; Lando & Skødeberg 2002): row `i`,
 * column `j` is the probability of moving from state `i` to state `j` over
 * one year; the last state is the default state, absorbing.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { dirname, isAbsolute, join } from "node:path";
import { z } from "zod";
import { isMapping, mapping, readYaml, shown } from "./_config_file.ts";
import { bytesText, inspectPath, readBounded } from "./io/_input.ts";
import { splitCsvLine } from "./io/_csv.ts";
import { UserError } from "./errors.ts";
import pl from "nodejs-polars";
import type { LazyFrame } from "./frame.ts";
import { COL } from "./schema.ts";
import { PD_SHOCK_CAP } from "./sensitivity_rules.ts";

/**
 * How far a row of a transition matrix may sum from 1: 1e-6. Estimated
 * matrices (`deno task migration`) sum to 1 within 1e-12; a table copied
 * from a publication rounded to four decimals misses by up to about 5e-4
 * and must be renormalised first (the message says by how much), because
 * matrix powers would otherwise create or lose probability mass year after
 * year.
 */
export const MATRIX_ROW_TOLERANCE = 1e-6;

/**
 * The most states a matrix may have: 100. Rating scales have 7 to about 25
 * grades; the bound keeps a wrong file (a data table) from being read as a
 * matrix.
 */
export const MAX_MATRIX_STATES = 100;

/**
 * Years of lifetime PD computed per grade: 100, the longest remaining term
 * a facility can have (validation allows maturities up to 100 years,
 * `PLAUSIBILITY_LIMITS.maxMaturityYears`; the rules' yearly vectors are
 * bounded alike, `MAX_VECTOR_YEARS`).
 */
export const LIFETIME_YEARS = 100;

/** The largest matrix file read: 1 MiB (a 100-state matrix is ~100 KB). */
export const MAX_MATRIX_BYTES = 1024 * 1024;

/**
 * A one-year rating transition matrix: `rows[i][j]` is the probability of
 * moving from `states[i]` to `states[j]` within a year. The last state is
 * the default state.
 */
export interface TransitionMatrix {
  /** State labels in row (and column) order; the last one is default. */
  states: string[];
  /** Square matrix of probabilities, one row per state. */
  rows: number[][];
}

/** A segment's `transition_matrix` in the rules, after its file is read. */
export interface TransitionMatrixRules extends TransitionMatrix {
  /** The file it was read from, as the rules file wrote it; absent: inline. */
  file?: string;
  /** SHA-256 (hex) of the file's bytes; absent: inline. */
  sha256?: string;
}

/** One grade of a segment's master scale (rules `master_scale`). */
export interface MasterScaleBand {
  /** The grade: a state of the segment's transition matrix. */
  grade: string;
  /** Highest 12-month PD of the grade, inclusive; the previous grade's is excluded. */
  upper_pd: number;
}

/** One problem of a matrix, with where it is. */
export interface MatrixProblem {
  /** Key path inside the matrix: `["rows", 2, 3]`, `["states", 1]`, `[]`. */
  path: (string | number)[];
  /** What is wrong, naming the row and column labels. */
  message: string;
}

/**
 * Every problem of a matrix (none: it can be used): at least two states,
 * labels non-empty and distinct, square (one row per state, one value per
 * state in each row), every value a finite number in [0, 1], every row
 * summing to 1 within {@link MATRIX_ROW_TOLERANCE}, and the default state
 * (the last) absorbing: `D -> D = 1`, 0 elsewhere in its row.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateMatrix } from "./transition_matrix.ts";
 * const problems = validateMatrix({
 *   states: ["A", "B", "D"],
 *   rows: [[0.9, 0.1, 0], [0.1, 0.7, 0.1], [0.1, 0, 0.9]],
 * });
 * assert.deepEqual(problems.map((p) => p.message), [
 *   "row B sums to 0.9, not 1 (within 1e-6): B -> A + B -> B + B -> D must be 1",
 *   "row D: the default state D must be absorbing (D -> D = 1, 0 elsewhere), got D -> A = 0.1",
 *   "row D: the default state D must be absorbing (D -> D = 1, 0 elsewhere), got D -> D = 0.9",
 * ]);
 * ```
 */
export function validateMatrix(m: TransitionMatrix): MatrixProblem[] {
  const problems: MatrixProblem[] = [];
  const add = (path: (string | number)[], message: string) =>
    problems.push({ path, message });
  const states = Array.isArray(m?.states) ? m.states : [];
  const rows = Array.isArray(m?.rows) ? m.rows : [];
  if (!Array.isArray(m?.states)) add(["states"], "must be a list of labels");
  if (!Array.isArray(m?.rows)) add(["rows"], "must be a list of rows");
  const n = states.length;
  if (Array.isArray(m?.states) && n < 2) {
    add(
      ["states"],
      `needs at least two states (a grade and the default state), got ${n}`,
    );
  }
  if (n > MAX_MATRIX_STATES) {
    add(
      ["states"],
      `must hold at most ${MAX_MATRIX_STATES} states (rating scales have 7 to about 25 grades), got ${n}`,
    );
    return problems;
  }
  const seen = new Map<string, number>();
  states.forEach((s, i) => {
    if (typeof s !== "string" || s.trim() === "") {
      add(
        ["states", i],
        `state ${i + 1} must be a non-empty label, got ${shown(s)}`,
      );
    } else if (seen.has(s)) {
      add(
        ["states", i],
        `state ${s} appears twice (states ${seen.get(s)! + 1} and ${i + 1})`,
      );
    } else seen.set(s, i);
  });
  const label = (i: number) =>
    typeof states[i] === "string" && states[i] !== "" ? states[i] : `#${i + 1}`;
  if (rows.length !== n) {
    add(
      ["rows"],
      `must hold one row per state (${n}: ${
        states.join(", ")
      }), got ${rows.length}: the matrix must be square`,
    );
  }
  const D = n - 1;
  rows.forEach((row, i) => {
    const from = i < n ? `row ${label(i)}` : `row ${i + 1} (no such state)`;
    if (!Array.isArray(row)) {
      add(
        ["rows", i],
        `${from}: must be a list of ${n} probabilities, got ${shown(row)}`,
      );
      return;
    }
    if (row.length !== n) {
      add(
        ["rows", i],
        `${from}: holds ${row.length} values, expected ${n} (one per state: ${
          states.join(", ")
        }): the matrix must be square`,
      );
    }
    let sum = 0;
    let numeric = true;
    row.forEach((v, j) => {
      const cell = `${from}, column ${
        j < n ? label(j) : `${j + 1} (no such state)`
      }`;
      if (typeof v !== "number" || !Number.isFinite(v)) {
        add(["rows", i, j], `${cell}: must be a number, got ${shown(v)}`);
        numeric = false;
        return;
      }
      if (v < 0) add(["rows", i, j], `${cell}: ${v} is negative`);
      else if (v > 1) add(["rows", i, j], `${cell}: ${v} is above 1`);
      sum += v;
    });
    if (i >= n || row.length !== n || !numeric) return;
    if (Math.abs(sum - 1) > MATRIX_ROW_TOLERANCE) {
      add(
        ["rows", i],
        `${from} sums to ${
          roundedSum(sum)
        }, not 1 (within ${MATRIX_ROW_TOLERANCE.toExponential()}): ${
          states.map((s) => `${label(i)} -> ${s}`).join(" + ")
        } must be 1`,
      );
    }
    if (i === D) {
      row.forEach((v, j) => {
        if (v !== (j === D ? 1 : 0)) {
          add(
            ["rows", i, j],
            `row ${label(D)}: the default state ${
              label(D)
            } must be absorbing (${label(D)} -> ${
              label(D)
            } = 1, 0 elsewhere), got ${label(D)} -> ${label(j)} = ${v}`,
          );
        }
      });
    }
  });
  return problems;
}

/**
 * Warnings of a valid matrix that do not stop its use: a state other than
 * the default one that is absorbing (`i -> i = 1`), so its facilities
 * never move and never default (PD 0 in every year). An estimator writes
 * such a row for a state it saw no facility leave or start a window in.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrixWarnings } from "./transition_matrix.ts";
 * assert.deepEqual(
 *   matrixWarnings({ states: ["A", "B", "D"], rows: [[1, 0, 0], [0.1, 0.8, 0.1], [0, 0, 1]] }),
 *   ["state A is absorbing (A -> A = 1): its facilities never default (PD 0 in every year); estimate its row from more data or set it by judgement"],
 * );
 * ```
 */
export function matrixWarnings(m: TransitionMatrix): string[] {
  return m.states.slice(0, -1).flatMap((s, i) =>
    m.rows[i]?.[i] === 1
      ? [
        `state ${s} is absorbing (${s} -> ${s} = 1): its facilities never default (PD 0 in every year); estimate its row from more data or set it by judgement`,
      ]
      : []
  );
}

/** A row sum as a message shows it: 12 significant digits. */
const roundedSum = (x: number) => Number(x.toPrecision(12));

/**
 * `m` when it is a usable matrix; otherwise throws a {@link UserError}
 * (`input`) listing every problem of {@link validateMatrix}, one a line,
 * after `where` (the file or the caller).
 */
export function requireValidMatrix(
  m: TransitionMatrix,
  where: string,
): TransitionMatrix {
  const problems = validateMatrix(m);
  if (problems.length > 0) {
    throw new UserError(
      "input",
      `${where}: the transition matrix is not usable: ${problems.length} problem${
        problems.length === 1 ? "" : "s"
      }\n${problems.map((p) => `  - ${p.message}`).join("\n")}`,
    );
  }
  return m;
}

/**
 * The product `a * b` of two square matrices of the same size.
 */
export function matMul(
  a: readonly number[][],
  b: readonly number[][],
): number[][] {
  const n = a.length;
  const out = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i][k];
      if (aik === 0) continue;
      const bk = b[k];
      const oi = out[i];
      for (let j = 0; j < n; j++) oi[j] += aik * bk[j];
    }
  }
  return out;
}

/** The identity matrix of size `n`. */
export function identity(n: number): number[][] {
  return Array.from(
    { length: n },
    (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)),
  );
}

/**
 * `M^y` for a whole `y >= 0`, by repeated multiplication on the right,
 * `M^y = M^(y-1) * M` (the order methodology §13 prescribes, so two
 * implementations agree to rounding).
 */
export function matPow(m: readonly number[][], y: number): number[][] {
  if (!Number.isInteger(y) || y < 0) {
    throw new RangeError(
      `matPow: the power must be a whole number >= 0, got ${y}`,
    );
  }
  let p = identity(m.length);
  for (let k = 0; k < y; k++) p = matMul(p, m);
  return p;
}

/**
 * Cumulative PDs of every state over `years` years: `out[i][y-1] =
 * (M^y)[i, D]`, with `D` the last (default) state, for `y = 1..years`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cumulativePds } from "./transition_matrix.ts";
 * // Two grades and default: A -> D 1%, B -> D 10%, A -> B 10%, B -> A 5%.
 * const pd = cumulativePds({
 *   states: ["A", "B", "D"],
 *   rows: [[0.89, 0.1, 0.01], [0.05, 0.85, 0.1], [0, 0, 1]],
 * }, 2);
 * // Two years from A: 0.01 + 0.89 * 0.01 + 0.1 * 0.1.
 * assert.ok(Math.abs(pd[0][1] - 0.0289) < 1e-15);
 * ```
 */
export function cumulativePds(m: TransitionMatrix, years: number): number[][] {
  const n = m.states.length;
  const D = n - 1;
  const out = Array.from({ length: n }, () => new Array<number>(years));
  let p = identity(n);
  for (let y = 1; y <= years; y++) {
    p = matMul(p, m.rows);
    for (let i = 0; i < n; i++) out[i][y - 1] = p[i][D];
  }
  return out;
}

/**
 * Conditional annual PDs of every state (methodology §13): with
 * `PD(0) = 0` and `PD(y) = (M^y)[g, D]`,
 * `q[y] = (PD(y) - PD(y-1)) / (1 - PD(y-1))`, floored at 0 (rounding) and
 * capped at 1; `q[y] = 1` where `PD(y-1) = 1` (the default state itself).
 * `out[i][y-1]` is state `i`'s `q[y]`, `y = 1..years`.
 */
export function conditionalPds(m: TransitionMatrix, years: number): number[][] {
  return cumulativePds(m, years).map((pd) =>
    pd.map((p, k) => {
      const before = k === 0 ? 0 : pd[k - 1];
      if (before >= 1) return 1;
      const q = (p - before) / (1 - before);
      return q < 0 ? 0 : q > 1 ? 1 : q;
    })
  );
}

/**
 * Reads a matrix from the text of a file: CSV (by the `.csv` extension: a
 * header row naming the states after a first cell, such as
 * `from,A,B,D`, then one row per state starting with its label, in the
 * header's order) or YAML/JSON (`states: [...]` and `rows: [[...], ...]`;
 * other keys are kept by the writer for the reader and ignored here).
 * Returns the matrix or what is wrong with the text (not yet
 * {@link validateMatrix}; the caller checks the values).
 */
export function parseMatrixText(
  text: string,
  file: string,
): { matrix: TransitionMatrix } | { problem: string } {
  if (file.toLowerCase().endsWith(".csv")) return parseMatrixCsv(text);
  const read = readYaml(text);
  if ("syntaxError" in read) return { problem: read.syntaxError };
  const doc = read.doc;
  if (
    !isMapping(doc) || !Array.isArray(doc.states) || !Array.isArray(doc.rows)
  ) {
    return {
      problem:
        "must be a mapping with states: [labels, the default state last] and rows: [[probabilities], ...] (or a .csv file with a header row of labels)",
    };
  }
  return {
    matrix: { states: doc.states as string[], rows: doc.rows as number[][] },
  };
}

/** The CSV form of {@link parseMatrixText}. */
function parseMatrixCsv(
  text: string,
): { matrix: TransitionMatrix } | { problem: string } {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/)
    .map((l, i) => ({
      line: i + 1,
      cells: splitCsvLine(l).map((c) => c.trim()),
    }))
    .filter((l) => l.cells.some((c) => c !== ""));
  if (lines.length === 0) return { problem: "is empty" };
  const [header, ...body] = lines;
  const states = header.cells.slice(1);
  const rows: number[][] = [];
  for (const [i, { line, cells }] of body.entries()) {
    if (i < states.length && cells[0] !== states[i]) {
      return {
        problem: `line ${line}: the row is labelled ${
          shown(cells[0])
        } but the header's state ${i + 1} is ${
          shown(states[i])
        }: rows must be in the header's order, one per state`,
      };
    }
    rows.push(
      cells.slice(1).map((
        c,
      ) => (c === "" || Number.isNaN(Number(c)) ? c : Number(c))) as number[],
    );
  }
  return { matrix: { states, rows } };
}

/**
 * Reads and parses a matrix file (local, at most {@link MAX_MATRIX_BYTES}),
 * synchronously: the rules loader reads the files its segments name while
 * it checks them. Returns the matrix with the file's SHA-256, or what is
 * wrong.
 */
export function readMatrixFile(
  path: string,
): { matrix: TransitionMatrix; sha256: string } | { problem: string } {
  let bytes: Uint8Array | undefined;
  try {
    const found = inspectPath(path);
    if (found.kind !== "file") {
      return { problem: `${path} is ${found.what}, not a file` };
    }
    if (found.size > MAX_MATRIX_BYTES) {
      return {
        problem: `${path} holds ${bytesText(found.size)}, more than ${
          bytesText(MAX_MATRIX_BYTES)
        }, the most a matrix file may hold: is this the right file?`,
      };
    }
    bytes = readBounded(path, MAX_MATRIX_BYTES);
  } catch (e) {
    return {
      problem: `${path} cannot be read: ${
        e instanceof Deno.errors.NotFound
          ? "no such file"
          : (e as Error).message
      }`,
    };
  }
  if (bytes === undefined) {
    return { problem: `${path} is larger than ${bytesText(MAX_MATRIX_BYTES)}` };
  }
  const parsed = parseMatrixText(new TextDecoder().decode(bytes), path);
  if ("problem" in parsed) return { problem: `${path}: ${parsed.problem}` };
  return {
    matrix: parsed.matrix,
    sha256: createHash("sha256").update(bytes).digest("hex"),
  };
}

/** One problem of a rules document's matrix files, at its key path. */
export interface MatrixFileIssue {
  /** Key path such as `segments.sme.transition_matrix`. */
  path: string;
  /** What is wrong. */
  message: string;
}

/**
 * A rules document with every segment's `transition_matrix` that names a
 * file replaced by the matrix read from it (`{ states, rows, file,
 * sha256 }`), or the problems of reading them. A relative path is read
 * relative to the folder of `rulesFile`; rules built in code or read from
 * object storage have no folder on this machine, so their relative paths
 * are refused (give an absolute path, or the rows inline). The document is
 * not changed; a copy is returned when a file was read.
 */
export function resolveMatrixFiles(
  doc: unknown,
  rulesFile: string | undefined,
): { doc: unknown; issues: MatrixFileIssue[] } {
  if (!isMapping(doc) || !isMapping(doc.segments)) return { doc, issues: [] };
  const issues: MatrixFileIssue[] = [];
  let segments: Record<string, unknown> | undefined;
  for (const [name, seg] of Object.entries(doc.segments)) {
    if (!isMapping(seg) || typeof seg.transition_matrix !== "string") continue;
    const written = seg.transition_matrix;
    const at = `segments.${name}.transition_matrix`;
    const local = rulesFile !== undefined &&
      !/^[a-z][a-z0-9+.-]*:\/\//i.test(rulesFile) &&
      !rulesFile.startsWith("(");
    if (!isAbsolute(written) && !local) {
      issues.push({
        path: at,
        message: `${written} is a relative path, but these rules ${
          rulesFile === undefined || rulesFile.startsWith("(")
            ? "were built in code"
            : `come from ${rulesFile}`
        }, not from a file in a local folder: give an absolute path, or the rows inline (states: [...], rows: [[...]])`,
      });
      continue;
    }
    const path = isAbsolute(written)
      ? written
      : join(dirname(rulesFile!), written);
    const read = readMatrixFile(path);
    if ("problem" in read) {
      issues.push({ path: at, message: read.problem });
      continue;
    }
    segments ??= { ...doc.segments };
    segments[name] = {
      ...seg,
      transition_matrix: { ...read.matrix, file: written, sha256: read.sha256 },
    };
  }
  return { doc: segments === undefined ? doc : { ...doc, segments }, issues };
}

/**
 * The zod schema of a segment's `transition_matrix` once its file is read
 * ({@link resolveMatrixFiles}): `{ states, rows }` (with `file` and
 * `sha256` when read from a file), checked by {@link validateMatrix}, each
 * problem at its key path and naming the file.
 */
export const transitionMatrixSchema: z.ZodType<TransitionMatrixRules> = z.union(
  [
    mapping({
      states: z.array(z.unknown()),
      rows: z.array(z.unknown()),
      file: z.string().optional(),
      sha256: z.string().optional(),
    }).superRefine((m, ctx) => {
      const from = m.file === undefined ? "" : ` (matrix file ${m.file})`;
      for (const p of validateMatrix(m as unknown as TransitionMatrix)) {
        ctx.addIssue({
          code: "custom",
          path: p.path,
          message: p.message + from,
        });
      }
    }),
    z.string().superRefine((s, ctx) => {
      // Only rules whose files were not read reach here (rules.ts reads
      // them first and reports a file that cannot be read).
      ctx.addIssue({
        code: "custom",
        message: `the matrix file ${s} was not read`,
      });
    }),
  ],
  {
    error: () =>
      "must be a matrix file (a path relative to the rules file) or a mapping { states: [...], rows: [[...], ...] }",
  },
) as unknown as z.ZodType<TransitionMatrixRules>;

/**
 * The zod schema of a segment's `master_scale`: grades with their upper
 * 12-month PDs, strictly increasing in (0, 1], the last one 1, names
 * distinct (the checks of `checkMasterScale` in
 * `lib/pd_model/master_scale.ts`, reported as rules problems).
 */
export const masterScaleSchema: z.ZodType<MasterScaleBand[]> = z.array(
  mapping({
    grade: z.string().min(1),
    upper_pd: z.number().gt(0).max(1),
  }),
).min(1).superRefine((scale, ctx) => {
  const names = new Set<string>();
  scale.forEach((g, i) => {
    if (names.has(g.grade)) {
      ctx.addIssue({
        code: "custom",
        path: [i, "grade"],
        message: `${g.grade} appears twice`,
      });
    }
    names.add(g.grade);
    if (i > 0 && !(g.upper_pd > scale[i - 1].upper_pd)) {
      ctx.addIssue({
        code: "custom",
        path: [i, "upper_pd"],
        message: `must be above the previous grade's (${
          scale[i - 1].upper_pd
        }), got ${g.upper_pd}`,
      });
    }
  });
  const last = scale[scale.length - 1];
  if (last !== undefined && last.upper_pd !== 1) {
    ctx.addIssue({
      code: "custom",
      path: [scale.length - 1, "upper_pd"],
      message:
        `the last grade's upper_pd must be 1 (every PD has a grade), got ${last.upper_pd}`,
    });
  }
}) as unknown as z.ZodType<MasterScaleBand[]>;

/**
 * The problems of a segment's master scale against its matrix: every
 * grade must be a state of the matrix other than the default state (the
 * last; a band mapping performing facilities to default would give them a
 * certain loss), the bands (lowest PD first) must list the grades in the
 * matrix's order (best first), and every state but the default one must
 * be a grade (so each facility's grade has a row, and every row but
 * default can be reached from a PD). Messages name the grades.
 */
export function masterScaleProblems(
  scale: readonly MasterScaleBand[],
  matrix: TransitionMatrix,
): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const states = new Set(matrix.states);
  const grades = new Set(scale.map((g) => g.grade));
  const defaultState = matrix.states[matrix.states.length - 1];
  scale.forEach((g, i) => {
    if (g.grade === defaultState) {
      problems.push({
        path: [i, "grade"],
        message:
          `${g.grade} is the default state of the segment's transition matrix (its last state), not a grade: a performing facility in its band would be certain to default; give bands for the grades ${
            matrix.states.slice(0, -1).join(", ")
          } only`,
      });
    } else if (!states.has(g.grade)) {
      problems.push({
        path: [i, "grade"],
        message:
          `${g.grade} is not a state of the segment's transition matrix (states: ${
            matrix.states.join(", ")
          })`,
      });
    }
  });
  // The bands run from the lowest PD up, the matrix's states from the best
  // grade down (conditionalMatrix and the lifetime tables rely on it):
  // both must list the grades in the same order.
  const order = new Map(matrix.states.map((s, i) => [s, i]));
  const ranked = scale.filter((g) =>
    g.grade !== defaultState && order.has(g.grade)
  );
  for (let i = 1; i < ranked.length; i++) {
    if (order.get(ranked[i].grade)! < order.get(ranked[i - 1].grade)!) {
      problems.push({
        path: [scale.indexOf(ranked[i]), "grade"],
        message: `${ranked[i].grade} comes after ${
          ranked[i - 1].grade
        } in the master scale (a higher PD band) but before it in the transition matrix's states (${
          matrix.states.join(", ")
        }): list the bands in the matrix's order, best grade (lowest PD) first`,
      });
      break;
    }
  }
  const missing = matrix.states.slice(0, -1).filter((s) => !grades.has(s));
  if (missing.length > 0) {
    problems.push({
      path: [],
      message:
        `must give a PD band for every grade of the transition matrix; missing: ${
          missing.join(", ")
        }`,
    });
  }
  return problems;
}

/**
 * The portfolio column holding a facility's rating grade (an optional
 * characteristic, `CHARACTERISTIC_COLUMNS` of `lib/schema.ts`; the
 * generator writes it): a segment with `pd_curve: transition_matrix` uses
 * it as the facility's grade when it is a state of the segment's matrix.
 */
export const RATING_COLUMN = "rating";

/**
 * The loan-result columns a run adds when some segment has `pd_curve:
 * transition_matrix` (methodology §13; absent otherwise, so other runs'
 * results are unchanged): `pd_grade`, the facility's grade (the state of
 * the matrix whose curve its ECL uses), and `pd_12m_grade`, that curve's
 * first year `q[1] = M[g, D]`, the 12-month PD behind its ECL (under a
 * sensitivity PD shock, the shocked one); both null outside matrix
 * segments and under the simplified approach. `pd_12m` stays
 * `pd_12m_current`.
 */
export const GRADE_COLUMNS = ["pd_grade", "pd_12m_grade"] as const;

/**
 * The column a PD shock of the sensitivity table (lib/sensitivity) adds
 * with the unshocked `pd_12m_current`: a facility of a
 * `pd_curve: transition_matrix` segment without a usable rating is graded
 * from it, so the shock moves its curve once (`q[y] × f`, {@link
 * shockedCurve}), not also its grade. Absent in a run.
 */
export const GRADE_PD_COLUMN = "__pd_12m_unshocked";

/**
 * A grade's base curve under a PD shock `factor` (docs/sensitivity.md):
 * `q'[y] = min(q[y] × f, max(q[y], PD_SHOCK_CAP))`, the formula of the
 * shocked `pd_12m_current` (the base `p1` of a flat or shaped curve,
 * whose `q[y] = p1 × g[y]` it scales alike) applied to each year. A year
 * already above the cap (the default state's `q = 1`) is kept.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shockedCurve } from "./transition_matrix.ts";
 * assert.deepEqual(shockedCurve([0.01, 0.6, 1], 2), [0.02, 0.9999, 1]);
 * ```
 */
export function shockedCurve(q: readonly number[], factor: number): number[] {
  return q.map((v) => Math.min(v * factor, Math.max(v, PD_SHOCK_CAP)));
}

/** The segment keys {@link matrixGradeWarnings} reads (`SegmentRules`). */
export interface MatrixSegment {
  /** The segment's PD curve. */
  pd_curve: string;
  /** Its matrix, when `pd_curve` is `transition_matrix`. */
  transition_matrix?: TransitionMatrix;
}

/**
 * Warnings of how a run graded the facilities of its `pd_curve:
 * transition_matrix` segments (methodology §13, docs/migration.md), one
 * per segment and kind, with counts: a matrix's non-default absorbing
 * states ({@link matrixWarnings}); facilities whose `rating` is absent
 * or not a state of the matrix, graded from their 12-month PD's band of
 * the master scale; and performing facilities (stage 1 or 2) rated in the
 * default state, graded from their PD too (never a certain loss). Empty
 * when no segment uses a matrix (nothing is read then).
 *
 * @param staged the staged rows (`segment`, `rating` when present, and
 *   `stageColumn`).
 * @param segments the rules' segments, merged over `default`.
 */
export async function matrixGradeWarnings(
  staged: LazyFrame,
  segments: Record<string, MatrixSegment>,
  stageColumn = "stage",
): Promise<string[]> {
  const matrixSegments = Object.entries(segments).filter(([, s]) =>
    s.pd_curve === "transition_matrix" && s.transition_matrix !== undefined
  );
  if (matrixSegments.length === 0) return [];
  const named = Object.keys(segments).filter((n) => n !== "default");
  const columns = staged.columns;
  const hasRating = columns.includes(RATING_COLUMN);
  const segmentOf = columns.includes(COL.segment) && named.length > 0
    ? pl.when(pl.col(COL.segment).cast(pl.Utf8).isIn(named)).then(
      pl.col(COL.segment).cast(pl.Utf8),
    ).otherwise(pl.lit("default"))
    : pl.lit("default");
  const counts = await staged.select(
    ...matrixSegments.flatMap(([name, s], i) => {
      const states = s.transition_matrix!.states;
      const inSegment = segmentOf.eq(pl.lit(name));
      const rating = hasRating
        ? pl.col(RATING_COLUMN).cast(pl.Utf8)
        : pl.lit(null).cast(pl.Utf8);
      const rated = rating.isIn(states.slice(0, -1)).fillNull(false);
      const ratedDefault = rating.eq(pl.lit(states[states.length - 1]))
        .fillNull(false);
      const performing = pl.col(stageColumn).cast(pl.Int32).lt(pl.lit(3));
      return [
        inSegment.and(rated.not()).and(ratedDefault.not()).cast(pl.Int64)
          .sum().alias(`fallback_${i}`),
        inSegment.and(ratedDefault).and(performing).cast(pl.Int64).sum()
          .alias(`default_${i}`),
      ];
    }),
  ).collect();
  const row = counts.height === 0 ? {} : counts.toRecords()[0];
  const out: string[] = [];
  matrixSegments.forEach(([name, s], i) => {
    const states = s.transition_matrix!.states;
    out.push(
      ...matrixWarnings(s.transition_matrix!).map((w) =>
        `segment ${name}: ${w}`
      ),
    );
    const fallback = Number(row[`fallback_${i}`] ?? 0);
    const rated = Number(row[`default_${i}`] ?? 0);
    const plural = (k: number) => k === 1 ? "facility" : "facilities";
    if (fallback > 0) {
      out.push(
        `segment ${name}: ${fallback} ${
          plural(fallback)
        } without a ${RATING_COLUMN} among the transition matrix's grades (${
          states.slice(0, -1).join(", ")
        }) ${
          fallback === 1 ? "was" : "were"
        } graded from pd_12m_current by the master scale (methodology §13)`,
      );
    }
    if (rated > 0) {
      out.push(
        `segment ${name}: ${rated} performing (stage 1 or 2) ${
          plural(rated)
        } rated ${states[states.length - 1]}, the default state, ${
          rated === 1 ? "was" : "were"
        } graded from pd_12m_current by the master scale, not given a certain loss: check the ratings or the default flags`,
      );
    }
  });
  return out;
}
