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
