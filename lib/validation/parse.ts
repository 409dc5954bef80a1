/**
 * Expression builders that turn one raw portfolio column into its typed
 * value (methodology §1 types) and say for each row whether the value is
 * missing. A value that is present but comes out null did not parse: that is
 * the `UNPARSEABLE_<COLUMN>` rule (see `checks.ts`).
 *
 * Raw columns are whatever the file held: all text for CSV, stored types
 * for Parquet and Arrow IPC. Casts are non-strict, so a bad cell becomes a
 * null on its row instead of an error for the whole file. Accepted text:
 *
 * - numbers: what Polars reads as a 64-bit float (`12`, `-0.5`, `1e3`,
 *   no surrounding spaces); NaN and ±infinity do not count as numbers;
 * - whole numbers: such a number with no fractional part that fits in 32
 *   bits (`30` and `30.0` are both 30; `30.5` is unparseable);
 * - dates: `YYYY-MM-DD` naming a real day, so `2025-02-30` and
 *   `2025-01-05x` are unparseable;
 * - booleans: `true`, `false`, `1`, `0`, in any letter case;
 * - text (ids, product, segment, region, currency): trimmed of surrounding
 *   whitespace, so `L1 ` is the id `L1` and `EUR ` the currency `EUR`; the
 *   trimmed value is what the valid rows (`valid.parquet`) and the results
 *   carry, while rejected rows keep the text as read.
 *
 * A null, or an empty string, is missing, never unparseable; so is text
 * that is only whitespace (in a text column). Whether a value may be
 * missing is a separate rule (`NULL_<COLUMN>`).
 *
 * Every builder is a plain vectorised expression, so a million rows parse
 * in one pass of the lazy query.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { DataType, Expr } from "../frame.ts";
import { type ColumnKind, POLARS_TYPE } from "../schema.ts";

/** The expressions validation needs for one column. */
export interface ParsedColumn {
  /** The typed value; null where missing or unparseable. */
  value: Expr;
  /** True where the raw value is null or an empty string. */
  missing: Expr;
}

const INT32_MAX = 2_147_483_647;

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
]);
const TEXT = new Set(["Utf8", "String", "Categorical"]);

const isText = (dtype: DataType) => TEXT.has(dtype.variant);
const isNumeric = (dtype: DataType) => NUMERIC.has(dtype.variant);

const nullOf = (kind: ColumnKind) => pl.lit(null).cast(POLARS_TYPE[kind]);

/** Every letter-case spelling of a word: `true` -> `true`, `True`, ... */
function caseVariants(word: string): string[] {
  return [...word].reduce<string[]>(
    (acc, ch) =>
      acc.flatMap((prefix) =>
        ch.toLowerCase() === ch.toUpperCase()
          ? [prefix + ch]
          : [prefix + ch.toLowerCase(), prefix + ch.toUpperCase()]
      ),
    [""],
  );
}

// Membership in a fixed list is a hash lookup; lower-casing every cell first
// would allocate a new string per row.
const TRUE_TEXT = [...caseVariants("true"), "1"];
const FALSE_TEXT = [...caseVariants("false"), "0"];

/**
 * Text to Date with the pattern matched in full and the parse cached per
 * distinct string. `str.strptime` of nodejs-polars 0.25 hard-codes
 * `exact=false`, which reads `2025-01-05x` as 2025-01-05, and `cache=false`,
 * which makes it several times slower on a portfolio's few thousand distinct
 * dates; the native `strToDate(format, strict, exact, cache)` is what it
 * wraps, so it is called directly here. Text that does not name a real day
 * in `format` becomes null.
 *
 * @param format a chrono pattern such as `%Y-%m-%d` (the default)
 */
export function textToDate(text: Expr, format = "%Y-%m-%d"): Expr {
  const wrap = pl.Expr as unknown as (native: unknown) => Expr;
  return wrap(text._expr.strToDate(format, false, true, true));
}

/** Keeps finite numbers only: NaN and ±infinity become null. */
function finiteOnly(x: Expr): Expr {
  return pl.when(x.isFinite()).then(x).otherwise(nullOf("float"));
}

function parseValue(
  raw: Expr,
  kind: ColumnKind,
  source: DataType,
): Expr {
  if (!isText(source) && !isNumeric(source) && kind !== "string") {
    const sameType = source.variant === POLARS_TYPE[kind].variant;
    if (sameType) return kind === "float" ? finiteOnly(raw) : raw;
    if (kind === "date" && source.variant === "Datetime") {
      return raw.cast(pl.Date, false);
    }
    // Any other stored type is read through its text form.
    return parseValue(raw.cast(pl.Utf8, false), kind, pl.Utf8);
  }
  switch (kind) {
    case "string": {
      // Identifiers and keys are matched exactly (duplicates, products,
      // currencies, segments), so surrounding whitespace is not part of
      // them.
      const text = raw.cast(pl.Utf8).str.strip();
      // Empty once trimmed: a comparison with "" (no count of characters,
      // a quarter of this parse's cost on a million rows).
      return pl.when(text.eq(pl.lit("")))
        .then(nullOf("string"))
        .otherwise(text);
    }
    case "float":
      return finiteOnly(raw.cast(pl.Float64, false));
    case "int": {
      const x = finiteOnly(raw.cast(pl.Float64, false));
      const whole = x.eq(x.floor()).and(x.abs().ltEq(INT32_MAX));
      return pl.when(whole).then(x.cast(pl.Int32)).otherwise(nullOf("int"));
    }
    case "date":
      return isText(source)
        ? textToDate(raw.cast(pl.Utf8))
        : parseValue(raw.cast(pl.Utf8, false), kind, pl.Utf8);
    case "bool": {
      if (isNumeric(source)) {
        const x = raw.cast(pl.Float64, false);
        return pl.when(x.eq(1)).then(pl.lit(true))
          .when(x.eq(0)).then(pl.lit(false))
          .otherwise(nullOf("bool"));
      }
      const t = raw.cast(pl.Utf8);
      return pl.when(t.isIn(TRUE_TEXT)).then(pl.lit(true))
        .when(t.isIn(FALSE_TEXT)).then(pl.lit(false))
        .otherwise(nullOf("bool"));
    }
  }
}

/**
 * Builds the typed value and the missing flag of one column.
 *
 * @param name the raw column's name
 * @param kind the column's kind in the portfolio schema
 * @param source the raw column's Polars type as read from the file
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { parseColumn } from "./parse.ts";
 * const p = parseColumn("balance", "float", pl.Utf8);
 * const df = pl.DataFrame({ balance: ["10.5", "abc", "", "NaN"] })
 *   .select(p.value.alias("v"), p.missing.alias("m"));
 * import assert from "node:assert/strict";
 * // "abc" and "NaN" are values that fail to parse; "" is a missing one.
 * assert.deepEqual(df.getColumn("v").toArray(), [10.5, null, null, null]);
 * assert.deepEqual(df.getColumn("m").toArray(), [false, false, true, false]);
 * ```
 */
export function parseColumn(
  name: string,
  kind: ColumnKind,
  source: DataType,
): ParsedColumn {
  const raw = pl.col(name);
  const text = kind === "string"
    ? raw.cast(pl.Utf8).str.strip()
    : raw.cast(pl.Utf8);
  return {
    value: parseValue(raw, kind, source).cast(POLARS_TYPE[kind]),
    missing: isText(source)
      ? raw.isNull().or(text.eq(pl.lit("")))
      : raw.isNull(),
  };
}

/**
 * The expressions for a column the file does not have: always missing,
 * value null of the column's type.
 */
export function absentColumn(kind: ColumnKind): ParsedColumn {
  return { value: nullOf(kind), missing: pl.lit(true) };
}
