/**
 * The data side of training a PD model (`trainPdModel`, `deno task
 * train-pd`): reading the development data, choosing the characteristics
 * and their kinds (the feature contract of `types.ts`), checking the
 * target, and the seeded train / held-out split.
 *
 * Which columns become characteristics when none are named
 * ({@link selectFeatures}, docs/pd_models.md "The feature contract"):
 * every column but
 *
 * - the target;
 * - identifiers: `id`, `loan_id`, `customer_id` and any name ending in
 *   `_id` (an identifier ranks facilities by when they were booked, not by
 *   their risk);
 * - dates: a Date or Datetime column, a column named `*_date`, or a text
 *   column whose every value reads `YYYY-MM-DD` (a date is a vintage, not a
 *   characteristic of the borrower; derive `months_on_book` instead);
 * - the columns a run computes (`stage`, `ead`, `ecl`, `ecl_<scenario>`,
 *   `pd_12m`, … the `COMPUTED_COLUMNS` of `lib/schema.ts`): a run's output
 *   is not an input to the model that feeds the run;
 * - columns without information: all missing, or one value throughout;
 * - text columns with more than {@link MAX_AUTO_CATEGORIES} distinct values
 *   (free text or a disguised identifier).
 *
 * Each skipped column is reported with its reason. Named characteristics
 * (`features`) are taken as given, and one that cannot be a characteristic
 * (missing, the target itself, a date, too many categories) is refused
 * naming the column.
 *
 * Kinds: a numeric or boolean column (booleans as 0/1) is a `number`; a
 * text column whose every value parses as a finite number (a CSV, read as
 * text; `NA`, `n/a`, `null`, `NaN`, `none`, `-` and `.` read as missing)
 * is a `number`; any other text column is a `category` whose
 * categories are its distinct values sorted (code point order), so the
 * same data always gives the same codes.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { DataFrame, DataType } from "../frame.ts";
import { UserError } from "../errors.ts";
import { PortfolioReadError, scanPortfolio } from "../io/mod.ts";
import { COMPUTED_COLUMNS } from "../schema.ts";
import { Rng } from "../generate/mod.ts";
import type { FeatureSpec } from "./types.ts";

/** The most distinct values a text column may have to be a characteristic. */
export const MAX_AUTO_CATEGORIES = 100;

/** Why a column was not made a characteristic. */
export interface SkippedColumn {
  /** The column. */
  column: string;
  /** Why: `identifier`, `date`, `computed by a run`, `constant`, … */
  reason: string;
}

/** What {@link selectFeatures} chose. */
export interface FeatureSelection {
  /** The feature contract, in the data's column order (or as named). */
  features: FeatureSpec[];
  /** Columns left out, each with its reason (empty when features were named). */
  skipped: SkippedColumn[];
}

const DATE_TEXT = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Words a CSV writer puts for a missing number (`NA`, `n/a`, `null`, …):
 * a text column of numbers and these is a number whose missing values are
 * these (`contract.ts` encodes a value that does not parse as missing).
 */
const MISSING_WORDS = new Set(["na", "n/a", "nan", "null", "none", "-", "."]);

/** Whether a column name reads as an identifier. */
export function isIdentifierName(name: string): boolean {
  const n = name.toLowerCase();
  return n === "id" || n.endsWith("_id");
}

/** Whether a column is one a run computes (methodology §9). */
export function isComputedColumn(name: string): boolean {
  return COMPUTED_COLUMNS.includes(name) || name.startsWith("ecl_");
}

const NUMERIC = new Set([
  "Int8",
  "Int16",
  "Int32",
  "Int64",
  "UInt8",
  "UInt16",
  "UInt32",
  "UInt64",
  "Float32",
  "Float64",
  "Decimal",
]);

const TEXT = new Set(["Utf8", "String", "Categorical", "Enum"]);

/**
 * Reads a development data file (CSV, Parquet or Arrow IPC, by its first
 * bytes) into memory, or takes a frame as it is. CSV columns arrive as text
 * and are typed by {@link selectFeatures}.
 *
 * @throws {UserError} of kind `input` naming the file (and the line, for
 *   a CSV that cannot be parsed) when it cannot be read as a table.
 */
export async function readTrainingData(
  data: string | DataFrame,
): Promise<DataFrame> {
  if (typeof data !== "string") return data;
  try {
    return await scanPortfolio(data).collect();
  } catch (e) {
    if (e instanceof PortfolioReadError) {
      throw new UserError(
        "input",
        `Cannot read training data ${e.file}: ${
          e.line === undefined ? "" : `line ${e.line}: `
        }${e.problem}`,
        { cause: e },
      );
    }
    throw e;
  }
}

/** The column `name` of `df`, or a refusal naming it and what there is. */
function columnOf(df: DataFrame, name: string, what: string, source: string) {
  if (!df.columns.includes(name)) {
    const shown = df.columns.slice(0, 30).join(", ");
    throw new UserError(
      "input",
      `${source}: no ${what} column ${JSON.stringify(name)} (the columns are ${
        shown || "none"
      }${df.columns.length > 30 ? ", …" : ""})`,
    );
  }
  return df.getColumn(name);
}

/** The text of a value for a message. */
const shownValue = (v: unknown) =>
  typeof v === "string" ? JSON.stringify(v) : String(v);

/**
 * The target column as 0/1, checked: present, binary (0/1, true/false, or
 * the text of either), no missing value, and both classes present.
 *
 * @param source How messages name the data (its file).
 * @throws {UserError} of kind `input` naming the column, and the first
 *   row (1-based, after the header) holding a value that is not 0 or 1.
 */
export function readTarget(
  df: DataFrame,
  target: string,
  source: string,
): Uint8Array {
  const s = columnOf(df, target, "target", source);
  const values = s.toArray() as unknown[];
  const out = new Uint8Array(values.length);
  let firstNull = -1;
  let nulls = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    let b: number | undefined;
    if (v === null || v === undefined) {
      nulls++;
      if (firstNull < 0) firstNull = i;
      continue;
    } else if (typeof v === "boolean") b = v ? 1 : 0;
    else if (typeof v === "number" || typeof v === "bigint") {
      const n = Number(v);
      b = n === 0 ? 0 : n === 1 ? 1 : undefined;
    } else if (typeof v === "string") {
      const t = v.trim().toLowerCase();
      b = ["0", "0.0", "false"].includes(t)
        ? 0
        : ["1", "1.0", "true"].includes(t)
        ? 1
        : undefined;
    }
    if (b === undefined) {
      throw new UserError(
        "input",
        `${source}: target column ${target} is not binary: row ${i + 1} holds ${
          shownValue(v)
        } (a target is 1 for a default, 0 otherwise)`,
      );
    }
    out[i] = b;
  }
  if (nulls > 0) {
    throw new UserError(
      "input",
      `${source}: target column ${target} has no value in ${nulls} row${
        nulls === 1 ? "" : "s"
      } (the first is row ${
        firstNull + 1
      }): every development row needs its outcome`,
    );
  }
  const defaults = out.reduce((a, b) => a + b, 0);
  if (defaults === 0 || defaults === out.length) {
    throw new UserError(
      "input",
      `${source}: target column ${target} has one class only (${
        out.length === 0
          ? "no rows"
          : `every one of ${out.length} rows is ${defaults === 0 ? 0 : 1}`
      }): a PD model needs both defaults and non-defaults`,
    );
  }
  return out;
}

/** How a column can enter a model, or why it cannot. */
type ColumnVerdict =
  | { ok: true; spec: FeatureSpec }
  | { ok: false; reason: string };

/** The Polars type's name (`Float64`, `Utf8`, `Date`, …). */
const variantOf = (dtype: DataType) => String(dtype.variant);

/** What a column is as a characteristic (kind, categories), or why not. */
function judgeColumn(df: DataFrame, name: string): ColumnVerdict {
  const s = df.getColumn(name);
  const variant = variantOf(s.dtype);
  if (["Date", "Datetime", "Time", "Duration"].includes(variant)) {
    return { ok: false, reason: `a date (${variant})` };
  }
  if (variant === "Bool" || NUMERIC.has(variant)) {
    return { ok: true, spec: { name, kind: "number" } };
  }
  if (!TEXT.has(variant)) {
    return { ok: false, reason: `of type ${variant}, neither number nor text` };
  }
  // Trimmed, blanks as missing: as contract.ts encodes text.
  const distinct = [
    ...new Set(
      (s.cast(pl.Utf8).dropNulls().unique().toArray() as string[])
        .map((v) => v.trim()).filter((v) => v !== ""),
    ),
  ].sort();
  if (distinct.length === 0) return { ok: false, reason: "all missing" };
  if (distinct.every((v) => DATE_TEXT.test(v))) {
    return { ok: false, reason: "a date (text YYYY-MM-DD)" };
  }
  // Numbers, perhaps with a spreadsheet's words for missing among them
  // (encoded as missing, like a blank).
  const numbers = distinct.filter((v) => !MISSING_WORDS.has(v.toLowerCase()));
  if (
    numbers.length > 0 && numbers.every((v) => Number.isFinite(Number(v)))
  ) {
    return { ok: true, spec: { name, kind: "number" } };
  }
  if (distinct.length > MAX_AUTO_CATEGORIES) {
    return {
      ok: false,
      reason:
        `text with ${distinct.length} distinct values, more than ${MAX_AUTO_CATEGORIES}`,
    };
  }
  return { ok: true, spec: { name, kind: "category", categories: distinct } };
}

/** Whether a column holds fewer than two distinct values (nulls aside). */
function isConstant(df: DataFrame, name: string): boolean {
  return df.getColumn(name).dropNulls().nUnique() < 2;
}

/**
 * The feature contract for `df`: the named `features`, or every column the
 * rule of this module keeps (module docs), each with its kind.
 *
 * @throws {UserError} `input` for a named feature that is missing or cannot
 *   be a characteristic, naming it; `usage` for the target named as a
 *   feature or a feature named twice; `input` when no column is left.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { selectFeatures } from "./train_data.ts";
 * const df = pl.DataFrame({
 *   loan_id: ["L1", "L2"], ltv: ["0.8", "NA"], job: ["salaried", "retired"], y: [0, 1],
 * });
 * const { features, skipped } = selectFeatures(df, "y", undefined, "dev.csv");
 * assert.deepEqual(features, [
 *   { name: "ltv", kind: "number" },
 *   { name: "job", kind: "category", categories: ["retired", "salaried"] },
 * ]);
 * assert.deepEqual(skipped, [{ column: "loan_id", reason: "an identifier" }]);
 * ```
 */
export function selectFeatures(
  df: DataFrame,
  target: string,
  features: readonly string[] | undefined,
  source: string,
): FeatureSelection {
  if (features !== undefined) {
    const seen = new Set<string>();
    const specs: FeatureSpec[] = [];
    for (const name of features) {
      if (name === target) {
        throw new UserError(
          "usage",
          `feature ${name} is the target column: a model cannot use its own outcome`,
        );
      }
      if (seen.has(name)) {
        throw new UserError("usage", `feature ${name} is named twice`);
      }
      seen.add(name);
      columnOf(df, name, "feature", source);
      const verdict = judgeColumn(df, name);
      if (!verdict.ok) {
        throw new UserError(
          "input",
          `${source}: feature column ${name} cannot be a characteristic: it is ${verdict.reason}`,
        );
      }
      specs.push(verdict.spec);
    }
    if (specs.length === 0) {
      throw new UserError("usage", "no feature named: name at least one");
    }
    return { features: specs, skipped: [] };
  }
  const specs: FeatureSpec[] = [];
  const skipped: SkippedColumn[] = [];
  for (const name of df.columns) {
    if (name === target) continue;
    let reason: string | undefined;
    if (isIdentifierName(name)) reason = "an identifier";
    else if (name.toLowerCase().endsWith("_date")) reason = "a date";
    else if (isComputedColumn(name)) reason = "computed by a run";
    else if (isConstant(df, name)) reason = "one value throughout";
    if (reason === undefined) {
      const verdict = judgeColumn(df, name);
      if (verdict.ok) specs.push(verdict.spec);
      else reason = verdict.reason;
    }
    if (reason !== undefined) skipped.push({ column: name, reason });
  }
  if (specs.length === 0) {
    throw new UserError(
      "input",
      `${source}: no column can be a characteristic (${
        skipped.map((s) => `${s.column}: ${s.reason}`).join("; ") ||
        "the target is the only column"
      })`,
    );
  }
  return { features: specs, skipped };
}

/** Row indices of the two parts of a split, each in ascending order. */
export interface Split {
  /** Rows the model is fitted on. */
  train: Uint32Array;
  /** Rows held out for validation. */
  heldOut: Uint32Array;
}

/**
 * A stratified, seeded split: within the defaults and within the
 * non-defaults separately, rows are shuffled (Fisher-Yates on the
 * project's seeded xoshiro128** stream, one stream per class) and the
 * first `round(heldOutShare × n)` of each (at least one, at most n - 1) are
 * held out. Both parts so keep the sample's default rate, and the same
 * seed gives the same split.
 *
 * @throws {UserError} `usage` for a share outside (0, 1); `input` when a
 *   class has fewer than two rows, so one part would lack it.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stratifiedSplit } from "./train_data.ts";
 * const target = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
 * const { train, heldOut } = stratifiedSplit(target, 0.5, 7);
 * assert.equal(heldOut.length, 5); // 4 of the 8 zeros and 1 of the 2 ones
 * assert.equal([...heldOut].filter((i) => target[i] === 1).length, 1);
 * assert.equal(train.length + heldOut.length, 10);
 * ```
 */
export function stratifiedSplit(
  target: Uint8Array,
  heldOutShare: number,
  seed: number,
): Split {
  if (!(heldOutShare > 0 && heldOutShare < 1)) {
    throw new UserError(
      "usage",
      `the held-out share must be between 0 and 1 (exclusive), got ${heldOutShare}`,
    );
  }
  const held = new Uint8Array(target.length);
  for (const cls of [0, 1]) {
    const rows: number[] = [];
    for (let i = 0; i < target.length; i++) if (target[i] === cls) rows.push(i);
    if (rows.length < 2) {
      throw new UserError(
        "input",
        `only ${rows.length} row${
          rows.length === 1 ? " has" : "s have"
        } target ${cls}: at least 2 are needed to have one in the fitted and one in the held-out part`,
      );
    }
    const rng = new Rng(seed, cls + 1);
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(rng.uniform() * (i + 1));
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
    const k = Math.min(
      rows.length - 1,
      Math.max(1, Math.round(heldOutShare * rows.length)),
    );
    for (let i = 0; i < k; i++) held[rows[i]] = 1;
  }
  let nHeld = 0;
  for (let i = 0; i < held.length; i++) nHeld += held[i];
  const train = new Uint32Array(held.length - nHeld);
  const heldOut = new Uint32Array(nHeld);
  let a = 0, b = 0;
  for (let i = 0; i < held.length; i++) {
    if (held[i]) heldOut[b++] = i;
    else train[a++] = i;
  }
  return { train, heldOut };
}
