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
 * Kinds: a numeric or boolean column (booleans as 0/1) is a `number`. A
 * text column (a CSV, read as text) is read cell by cell with the ONE rule
 * {@link parseNumberText} that scoring uses too: a blank and the words of
 * {@link MISSING_WORDS} (`NA`, `N/A`, `n.a.`, `null`, `NaN`, `none`, `-`,
 * `.`, any case) are missing; a cell `Number()` reads as a finite number is
 * that number; anything else (`abc`, `Infinity`, `1,5`) is not a number.
 * A text column whose every other cell is a number is a `number`; one in
 * which at least {@link NUMERIC_SHARE} of the non-missing cells are numbers
 * but some are not is refused (`input`), naming the file, the column, the
 * first such row and its value (a stray token in a numeric column is a data
 * error, not a category: read as categories, 80 ages and one `n.a.` made
 * 82 levels of noise); any other text column is a `category` whose
 * categories are its distinct values sorted (code point order), so the
 * same data always gives the same codes.
 *
 * Names the ONNX graph uses itself (`RESERVED_FEATURE_NAMES` of
 * `onnx_build.ts`: `pd`, `score`, `points`, `features`, …, and names
 * starting `sc_`) cannot be characteristics: such a column is refused when
 * features are chosen, naming it, rather than when the model is exported.
 *
 * Options checked here for the library and the task alike:
 * {@link checkSeed} (a whole number from 0 to 2³² − 1) and
 * {@link checkHeldOutPart} (at least {@link MIN_HELD_OUT_CLASS} defaults
 * and as many non-defaults held out, so that held-out statistics mean
 * something).
 *
 * @module
 */
import pl from "nodejs-polars";
import type { DataFrame, DataType } from "../frame.ts";
import { UserError } from "../errors.ts";
import {
  PortfolioReadError,
  portfolioReadError,
  scanPortfolio,
} from "../io/mod.ts";
import { COMPUTED_COLUMNS } from "../schema.ts";
import { MAX_SEED, Rng } from "../generate/mod.ts";
import { localCopy, sha256Of } from "../storage/mod.ts";
import type { FeatureSpec } from "./types.ts";
import { reservedFeatureName } from "./onnx_build.ts";
import { partsOf } from "./split.ts";

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
 * Words a CSV writer or a spreadsheet puts for a missing value, compared
 * trimmed and in lower case (a blank cell is missing too): a text column
 * of numbers and these is a number whose missing values are these.
 */
export const MISSING_WORDS: ReadonlySet<string> = new Set([
  "na",
  "n/a",
  "n.a.",
  "n.a",
  "#n/a",
  "nan",
  "null",
  "none",
  "-",
  ".",
]);

/**
 * Share of a text column's non-missing cells that must be numbers for a
 * cell that is not one to be refused as a stray token (below it, the
 * column is a category).
 */
export const NUMERIC_SHARE = 0.9;

/**
 * THE rule reading a text cell as a number, for training and scoring
 * alike: `NaN` for missing (null, blank, or a word of
 * {@link MISSING_WORDS}), the number for a cell `Number()` reads as a
 * finite number (surrounding blanks ignored), `undefined` for anything else
 * (`abc`, `Infinity`, `1,5`): the caller refuses it (see
 * {@link numberCell}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseNumberText } from "./train_data.ts";
 * assert.equal(parseNumberText(" 42 "), 42);
 * assert.ok(Number.isNaN(parseNumberText("n.a.")!));
 * assert.ok(Number.isNaN(parseNumberText("")!));
 * assert.equal(parseNumberText("Infinity"), undefined);
 * assert.equal(parseNumberText("abc"), undefined);
 * ```
 */
export function parseNumberText(
  text: string | null | undefined,
): number | undefined {
  if (text === null || text === undefined) return NaN;
  const t = text.trim();
  if (t === "" || MISSING_WORDS.has(t.toLowerCase())) return NaN;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}

/**
 * A cell of a numeric characteristic as a number (NaN for missing) under
 * {@link parseNumberText}; a number or boolean passes (a boolean as 0/1,
 * a non-finite number refused).
 *
 * @param where How a refusal names the cell: the file, the column and the
 *   row (1-based, after the header).
 * @throws {UserError} of kind `input` naming the file, column, row and value.
 */
export function numberCell(
  value: unknown,
  where: { source: string; column: string; row: number },
): number {
  let v: number | undefined;
  if (value === null || value === undefined) v = NaN;
  else if (typeof value === "boolean") v = value ? 1 : 0;
  else if (typeof value === "number" || typeof value === "bigint") {
    const n = Number(value);
    v = Number.isFinite(n) || Number.isNaN(n) ? n : undefined;
  } else if (typeof value === "string") v = parseNumberText(value);
  if (v === undefined) {
    throw new UserError(
      "input",
      `${where.source}: column ${where.column}, row ${where.row}: ${
        shownValue(value)
      } is not a number (a numeric characteristic holds finite numbers, or a blank, NA, N/A, n.a., null, NaN, none or - for missing)`,
    );
  }
  return v;
}

/** The most held-out defaults, and non-defaults, a split may have fewer of. */
export const MIN_HELD_OUT_CLASS = 20;

/**
 * Checks a split's seed: a whole number from 0 to 2³² − 1 (`MAX_SEED` of
 * `lib/generate`, the seeds the project's generator tells apart); a larger
 * or fractional number would be rounded or folded into another seed.
 *
 * @param flag How a refusal names the option (`--seed`).
 * @throws {UserError} of kind `usage` naming the option.
 */
export function checkSeed(seed: number, flag = `seed ${seed}`): number {
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new UserError(
      "usage",
      `${flag}: must be a whole number from 0 to ${MAX_SEED}`,
    );
  }
  return seed;
}

/**
 * Checks that a split's held-out part can validate: at least
 * {@link MIN_HELD_OUT_CLASS} defaults and as many non-defaults (with fewer,
 * a held-out AUC of 1.0 on two rows would be reported as a result).
 *
 * @param heldOut Row indices of the held-out part.
 * @param flag How a refusal names the option that sets the part (`--held-out`).
 * @throws {UserError} of kind `usage` naming the option and the counts.
 */
export function checkHeldOutPart(
  target: Uint8Array,
  heldOut: ArrayLike<number>,
  flag = "the held-out share",
): void {
  let bads = 0;
  for (let i = 0; i < heldOut.length; i++) bads += target[heldOut[i]];
  const goods = heldOut.length - bads;
  if (bads < MIN_HELD_OUT_CLASS || goods < MIN_HELD_OUT_CLASS) {
    throw new UserError(
      "usage",
      `${flag}: the held-out part has ${bads} default${
        bads === 1 ? "" : "s"
      } and ${goods} non-default${
        goods === 1 ? "" : "s"
      }; validation needs at least ${MIN_HELD_OUT_CLASS} of each: hold out more rows (or use more data)`,
    );
  }
}

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

/** A data file read whole by {@link readDataFile}. */
export interface DataFile {
  /** Every row, as read (a CSV's columns as text). */
  frame: DataFrame;
  /** SHA-256 of the file's bytes (hex). */
  sha256: string;
}

/**
 * THE reader of a PD-model data file (training, scoring, monitoring): a
 * local path or an `s3://bucket/key` URL (streamed to a temporary copy
 * through `lib/storage`'s `localCopy`, removed afterwards), CSV, Parquet or
 * Arrow IPC by its first bytes (`scanPortfolio`). Every failure of the file
 * is one line naming it (and the line of a CSV), never a Polars message or
 * a stack: bytes that are not UTF-8, a quote never closed, a ragged
 * record, a missing file or object.
 *
 * @param what How the messages call the data (`training data`, `the data to score`).
 * @throws {UserError} kind `input` naming the path or URL.
 */
export async function readDataFile(
  path: string,
  what: string,
): Promise<DataFile> {
  const copy = await localCopy(path);
  try {
    const frame = await undoubleCsvHeader(
      await scanPortfolio(copy.path).collect(),
      copy.path,
    );
    const sha256 = copy.sha256 ?? await sha256Of(copy.path);
    return { frame, sha256 };
  } catch (e) {
    // A refusal of its own (a file too large, ...) stays as it is; a
    // Polars failure while collecting is read from the file's bytes
    // (not UTF-8, an unclosed quote, a ragged line).
    if (e instanceof UserError && !(e instanceof PortfolioReadError)) throw e;
    const err = portfolioReadError(copy.path, e);
    const shown = (m: string) =>
      copy.path === path ? m : m.replaceAll(copy.path, path);
    throw new UserError(
      "input",
      shown(
        `Cannot read ${what} ${path}: ${
          err.line === undefined ? "" : `line ${err.line}: `
        }${err.problem}`,
      ),
      { cause: e },
    );
  } finally {
    await copy.cleanup();
  }
}

/**
 * A CSV's column names with RFC 4180's doubled quotes undone: Polars'
 * reader keeps a quoted header cell's `""` as two quotes (the data cells
 * it undoes), so `"empleo ""tipo"""` would name a feature `empleo ""tipo""`.
 * Parquet and Arrow IPC files (by their magic bytes) keep their names.
 */
async function undoubleCsvHeader(
  frame: DataFrame,
  path: string,
): Promise<DataFrame> {
  if (!frame.columns.some((c) => c.includes('""'))) return frame;
  const file = await Deno.open(path);
  const head = new Uint8Array(6);
  try {
    await file.read(head);
  } finally {
    file.close();
  }
  const magic = new TextDecoder().decode(head);
  if (magic.startsWith("PAR1") || magic === "ARROW1") return frame;
  const names = frame.columns.map((c) => c.replaceAll('""', '"'));
  if (new Set(names).size !== names.length) return frame;
  return frame.rename(
    Object.fromEntries(frame.columns.map((c, i) => [c, names[i]])),
  );
}

/**
 * Reads a development data file with {@link readDataFile}, or takes a
 * frame as it is. CSV columns arrive as text and are typed by
 * {@link selectFeatures}.
 *
 * @throws {UserError} of kind `input` naming the file (and the line, for
 *   a CSV that cannot be parsed) when it cannot be read as a table.
 */
export async function readTrainingData(
  data: string | DataFrame,
): Promise<DataFrame> {
  if (typeof data !== "string") return data;
  return (await readDataFile(data, "training data")).frame;
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
  /** `monitoring`: one class is accepted (a population without defaults). */
  purpose: "development" | "monitoring" = "development",
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
      } (the first is row ${firstNull + 1}): every ${
        purpose === "development" ? "development" : "monitored"
      } row needs its outcome`,
    );
  }
  const defaults = out.reduce((a, b) => a + b, 0);
  if (
    purpose === "development" && (defaults === 0 || defaults === out.length)
  ) {
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
function judgeColumn(
  df: DataFrame,
  name: string,
  source: string,
): ColumnVerdict {
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
  // (encoded as missing, like a blank): the one rule of parseNumberText.
  const parsed = distinct.map(parseNumberText);
  const strays = distinct.filter((_, k) => parsed[k] === undefined);
  if (strays.length === 0) {
    if (parsed.some((v) => !Number.isNaN(v))) {
      return { ok: true, spec: { name, kind: "number" } };
    }
    return { ok: false, reason: "all missing" };
  }
  if (strays.length < distinct.length) {
    // Some cells are numbers: count rows to tell a numeric column with a
    // stray token from a category that has a few numeric labels.
    const cells = s.cast(pl.Utf8).toArray() as (string | null)[];
    let numbers = 0, others = 0, first = -1;
    for (let i = 0; i < cells.length; i++) {
      const v = parseNumberText(cells[i]);
      if (v === undefined) {
        others++;
        if (first < 0) first = i;
      } else if (!Number.isNaN(v)) numbers++;
    }
    if (numbers >= NUMERIC_SHARE * (numbers + others)) {
      throw new UserError(
        "input",
        `${source}: column ${name}, row ${first + 1}: ${
          shownValue(cells[first])
        } is not a number, in a column whose other values are ${
          others === 1 ? "all" : `${numbers} of ${numbers + others}`
        } numbers (${others} such row${
          others === 1 ? "" : "s"
        }): correct the value, or write it as blank, NA, N/A, n.a., null, NaN, none or - if it is missing`,
      );
    }
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

/** Refuses a column whose name the ONNX graph uses itself, naming it. */
function refuseReserved(name: string, source: string, auto = false) {
  const why = reservedFeatureName(name);
  if (why === undefined) return;
  throw new UserError(
    "input",
    `${source}: column ${
      JSON.stringify(name)
    } cannot be a characteristic: ${why}; rename the column${
      auto ? ", or name the features to use (--features) without it" : ""
    }`,
  );
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
      refuseReserved(name, source);
      const verdict = judgeColumn(df, name, source);
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
    refuseReserved(name, source, true);
    let reason: string | undefined;
    if (isIdentifierName(name)) reason = "an identifier";
    else if (name.toLowerCase().endsWith("_date")) reason = "a date";
    else if (isComputedColumn(name)) reason = "computed by a run";
    else if (isConstant(df, name)) reason = "one value throughout";
    if (reason === undefined) {
      const verdict = judgeColumn(df, name, source);
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
  return partsOf(held);
}
