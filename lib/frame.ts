/**
 * The Polars types the library takes and returns (nodejs-polars), named
 * once so that every signature of the public face says what it is: a
 * pipeline step takes a {@link LazyFrame} and returns one; a function that
 * has to materialise returns a {@link DataFrame}.
 *
 * @module
 */
import type {
  DataFrame as PolarsDataFrame,
  DataType as PolarsDataType,
  Expr as PolarsExpr,
  LazyDataFrame as PolarsLazyDataFrame,
  Series as PolarsSeries,
} from "nodejs-polars";

/** A lazy Polars query: nothing is read or computed until `collect()`. */
export type LazyFrame = PolarsLazyDataFrame;
/** A materialised Polars table. */
export type DataFrame = PolarsDataFrame;
/** A Polars column expression (`pl.col("ecl").sum()`). */
export type Expr = PolarsExpr;
/** A Polars column type (`pl.Float64`, `pl.Date`, …). */
export type DataType = PolarsDataType;
/** One materialised Polars column. */
export type Series = PolarsSeries;

/**
 * A column type's name as messages show it: `Float64` for
 * `DataType(Float64)`, and `String` for `Utf8` (one type, two names).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { typeName } from "./frame.ts";
 *
 * assert.equal(typeName(pl.Float64), "Float64");
 * assert.equal(typeName(pl.Utf8), typeName(pl.String));
 * ```
 */
export function typeName(type: DataType): string {
  const name = String((type as { variant?: string }).variant ?? type)
    .replace(/^DataType\((.*)\)$/, "$1");
  return name === "Utf8" ? "String" : name;
}

/**
 * The first column of `expected` that `frame` lacks or holds with another
 * type, said as `column C is missing` or `column C is Int64, not Float64`;
 * null when every one is there with its type (cells files read back).
 */
export function columnTypesProblem(
  frame: { schema: Record<string, DataType> },
  expected: Record<string, DataType>,
): string | null {
  for (const [c, type] of Object.entries(expected)) {
    const found = frame.schema[c];
    if (found === undefined) return `column ${c} is missing`;
    if (typeName(found) !== typeName(type)) {
      return `column ${c} is ${typeName(found)}, not ${typeName(type)}`;
    }
  }
  return null;
}
