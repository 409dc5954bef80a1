/**
 * `validatePortfolio`: splits a raw portfolio into typed valid rows and
 * rejected rows, each rejected row carrying every rule code it broke, and
 * counts per rule for the data-quality report (methodology §1: "No row is
 * dropped silently").
 *
 * The whole check is one lazy query: parse every column, evaluate every
 * rule as a boolean expression, build each row's list of codes; it is
 * collected once and then split. It is a pure function of the frame, the
 * rules and the options; `writeValidationOutputs` does the file writing.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { DataFrame, DataType, LazyFrame } from "../frame.ts";
import { PortfolioReadError } from "../io/errors.ts";
import { portfolioReadError } from "../io/scan_portfolio.ts";
import {
  checkProductsCovered,
  requireValidRules,
  type Rules,
} from "../rules.ts";
import { COL, PORTFOLIO_COLUMNS } from "../schema.ts";
import { parsedColumnNames, rowRules } from "./checks.ts";
import { GENERAL_APPROACH_ONLY, nullCode } from "./codes.ts";
import { absentColumn, parseColumn } from "./parse.ts";

/** Options of {@link validatePortfolio}. */
export interface ValidateOptions {
  /** The portfolio's path or name, for messages and the report. */
  file: string;
  /**
   * The reporting date every row must carry, `YYYY-MM-DD`.
   * @default the most frequent reporting_date in the file (the latest of
   *   them on a tie)
   */
  reportingDate?: string;
}

/** One rule's line in the data-quality report. */
export interface RuleReport {
  /**
   * The rule's code from `lib/validation/codes.ts`: `NULL_<COLUMN>`,
   * `UNPARSEABLE_<COLUMN>` or a value rule such as `BALANCE_NEGATIVE`.
   */
  code: string;
  /** What the rule checks, in words (`allRuleCodes()`). */
  description: string;
  /** Rows the rule applies to (e.g. only rows with a credit_limit). */
  rows_checked: number;
  /**
   * Rows that break the rule, always among `rows_checked`. A row breaking
   * several rules counts under each, so these do not add up to
   * `rows_rejected`.
   */
  rows_failed: number;
  /**
   * Up to 5 failing rows, first in file order: the loan_id, or `row N`
   * (1-based data row, header not counted) where the row has no loan_id.
   */
  examples: string[];
}

/** The content of `data_quality.json`. */
export interface DataQualityReport {
  /** The portfolio's path or name, as given in {@link ValidateOptions.file}. */
  file: string;
  /** The portfolio's reporting date, `YYYY-MM-DD`; null if none is readable. */
  reporting_date: string | null;
  /** Data rows read from the file (header not counted). */
  rows_read: number;
  /** Rows that broke no rule: the rows the engine computes. */
  rows_valid: number;
  /**
   * Rows that broke at least one rule, each counted once; with
   * `rows_valid` it makes up `rows_read`.
   */
  rows_rejected: number;
  /** rows_rejected / rows_read (0 for an empty file). */
  reject_rate: number;
  /**
   * The limit on `reject_rate` from the rules file
   * (`validation.max_reject_rate`, default 0.05), as a share.
   */
  max_reject_rate: number;
  /** reject_rate <= max_reject_rate. */
  passed: boolean;
  /** Every rule of `allRuleCodes()`, in that order. */
  rules: RuleReport[];
  /** File-level remarks that do not reject rows, e.g. unknown columns. */
  warnings: string[];
}

/** What {@link validatePortfolio} returns. */
export interface ValidationResult {
  /**
   * Rows that broke no rule, typed as `PORTFOLIO_SCHEMA`: every §1 column in
   * `PORTFOLIO_COLUMNS` order (null where the file lacks an optional
   * column), then unknown extra columns as read.
   */
  valid: DataFrame;
  /** Rows that broke a rule, exactly as read, plus `rejection_codes`. */
  rejected: DataFrame;
  /** The counts per rule and in total, as `data_quality.json` holds them. */
  report: DataQualityReport;
}

/** Name of the list-of-codes column of the rejected rows. */
export const REJECTION_CODES = "rejection_codes";

const ROW = "__row";
const REJECTED = "__rejected";
const REPORTING_DATE = "__reporting_date";
const checkedCol = (code: string) => `__chk:${code}`;
const failedCol = (code: string) => `__fail:${code}`;

/**
 * Adds the `rejection_codes` list to flagged rows: the rules each row broke,
 * in rule order. The failure flags are packed into integer masks (50 rules
 * per mask, exact in a float64 literal); each distinct combination is turned
 * into its list once and joined back, so the cost follows the number of
 * distinct combinations, not of rows.
 */
function withRejectionCodes(
  flagged: DataFrame,
  codes: string[],
): DataFrame {
  const PER_MASK = 50;
  const groups: string[][] = [];
  for (let i = 0; i < codes.length; i += PER_MASK) {
    groups.push(codes.slice(i, i + PER_MASK));
  }
  const maskCols = groups.map((_, g) => `__mask${g}`);
  const masked = flagged.withColumns(
    ...groups.map((group, g) =>
      group
        .map((code, i) =>
          pl.col(failedCol(code)).cast(pl.Int64).mul(
            pl.lit(2 ** i).cast(pl.Int64),
          )
        )
        .reduce((a, b) => a.add(b))
        .alias(maskCols[g])
    ),
  );
  const combos = masked.select(...maskCols).unique({ maintainOrder: true });
  const lists = combos.rows().map((masks) =>
    groups.flatMap((group, g) =>
      group.filter((_, i) => Math.floor(Number(masks[g]) / 2 ** i) % 2 === 1)
    )
  );
  // nodejs-polars cannot build an empty List(Utf8) series from `[]`; a
  // one-row series cut to length 0 has the right type.
  const codesSeries = lists.length === 0
    ? pl.Series(REJECTION_CODES, [["-"]], pl.List(pl.Utf8)).head(0)
    : pl.Series(REJECTION_CODES, lists, pl.List(pl.Utf8));
  const lookup = combos.withColumns(codesSeries);
  return masked.join(lookup, { on: maskCols, how: "left" });
}

/** The input's column types, read without reading its rows. */
function rawSchema(
  raw: LazyFrame,
  file: string,
): Record<string, DataType> {
  try {
    return raw.head(0).collectSync().schema as Record<string, DataType>;
  } catch (e) {
    throw portfolioReadError(file, e);
  }
}

function checkReportingDate(date: string, file: string): void {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const d = m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])) : undefined;
  if (!m || !d || d.toISOString().slice(0, 10) !== date) {
    throw new RangeError(
      `Cannot validate portfolio ${file}: reportingDate must be a real date written YYYY-MM-DD, got "${date}"`,
    );
  }
}

/**
 * The columns a portfolio must have under `rules`: the required columns of
 * methodology §1, and the PD columns unless a product is on the simplified
 * approach. With such a product a file of receivables may lack the PD
 * columns entirely (docs/simplified_approach.md); a general-approach row
 * without them is then rejected with `NULL_PD_*`, row by row.
 */
export function requiredColumns(rules?: Rules): string[] {
  const anySimplified = rules !== undefined &&
    Object.values(rules.products).some((p) => p.approach === "simplified");
  return PORTFOLIO_COLUMNS
    .filter((c) => c.required || (c.generalApproachOnly && !anySimplified))
    .map((c) => c.name);
}

/**
 * The schema of a scanned portfolio, refusing it when a required column of
 * methodology §1 is missing (a file-level error naming the file and the
 * columns; see {@link requiredColumns} for which are required under
 * `rules`, all of them when `rules` is not given). Reads only the header,
 * so a run checks it before it creates its folder.
 *
 * @throws {PortfolioReadError} naming the missing columns and those found.
 */
export function requireColumns(
  raw: LazyFrame,
  file: string,
  rules?: Rules,
): Record<string, DataType> {
  const schema = rawSchema(raw, file);
  const rawColumns = Object.keys(schema);
  const present = new Set(rawColumns);
  const missingRequired = requiredColumns(rules)
    .filter((c) => !present.has(c));
  if (missingRequired.length > 0) {
    throw new PortfolioReadError(
      file,
      `missing required column${missingRequired.length === 1 ? "" : "s"} ${
        missingRequired.join(", ")
      } (columns found: ${rawColumns.join(", ") || "none"})`,
    );
  }
  return schema;
}

/**
 * Checks a raw portfolio against the rules of methodology §1 and splits it.
 *
 * File-level problems throw; row-level problems reject rows:
 * - a missing required column ({@link requiredColumns}), or a file that
 *   cannot be parsed, throws {@link PortfolioReadError} naming the file
 *   (and the columns, or the line where known);
 * - a bad value (unparseable, out of range, inconsistent with another
 *   field, a duplicated loan_id) rejects its row with every code it broke.
 *
 * Every row read ends up in exactly one of `valid` and `rejected`. The
 * reject-rate limit is only reported here (`report.passed`);
 * `writeValidationOutputs` enforces it after writing the outputs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { parseRules } from "../rules.ts";
 * import { validatePortfolio } from "./validate.ts";
 * const rules = parseRules(
 *   "reporting_currency: EUR\nproducts: {sme: {repayment: bullet}}\nscenarios: [{name: base, weight: 1, pd_multiplier: [1]}]",
 *   "inline.yaml",
 * );
 * const raw = pl.DataFrame({
 *   loan_id: ["L1", "L2"], reporting_date: ["2025-12-31", "2025-12-31"],
 *   origination_date: ["2024-01-01", "2024-01-01"],
 *   maturity_date: ["2027-01-01", "2027-01-01"], product: ["sme", "sme"],
 *   currency: ["EUR", "EUR"], balance: ["1000", "-5"],
 *   interest_rate: ["0.05", "0.05"], days_past_due: ["0", "0"],
 *   pd_12m_origination: ["0.01", "0.01"], pd_12m_current: ["0.02", "0.02"],
 * }).lazy();
 * const { valid, rejected } = await validatePortfolio(raw, rules, { file: "inline" });
 * assert.equal(valid.height, 1);
 * assert.deepEqual(rejected.getColumn("rejection_codes").toArray(), [["BALANCE_NEGATIVE"]]);
 * ```
 */
export async function validatePortfolio(
  raw: LazyFrame,
  rules: Rules,
  opts: ValidateOptions,
): Promise<ValidationResult> {
  // Rules built or changed in code are checked like a rules file (§10).
  rules = requireValidRules(rules, "validatePortfolio()");
  const { file } = opts;
  if (opts.reportingDate !== undefined) {
    checkReportingDate(opts.reportingDate, file);
  }
  const schema = requireColumns(raw, file, rules);
  const rawColumns = Object.keys(schema);
  const present = new Set(rawColumns);

  const known = new Set<string>(PORTFOLIO_COLUMNS.map((c) => c.name));
  const extras = rawColumns.filter((c) => !known.has(c));
  const warnings = extras.length === 0 ? [] : [
    `unknown column${extras.length === 1 ? "" : "s"} ${
      extras.join(", ")
    } kept as read and passed through to the valid rows`,
  ];

  const parsed = PORTFOLIO_COLUMNS.flatMap((c) => {
    const p = present.has(c.name)
      ? parseColumn(c.name, c.kind, schema[c.name])
      : absentColumn(c.kind);
    const names = parsedColumnNames(c.name);
    return [p.value.alias(names.value), p.missing.alias(names.missing)];
  });

  const rdValue = pl.col(parsedColumnNames(COL.reportingDate).value);
  const expectedDate = opts.reportingDate !== undefined
    ? pl.lit(opts.reportingDate).str.strptime(pl.Date, "%Y-%m-%d")
    // §1: one reporting date per portfolio; the most frequent one is taken
    // as the portfolio's, so the few rows that differ are the ones rejected.
    : rdValue.dropNulls().mode().sort().last();

  const checks = rowRules(rules, expectedDate);
  const flagged = raw
    .withRowIndex(ROW, 1)
    .withColumns(...parsed)
    .withColumns(
      expectedDate.cast(pl.Utf8).alias(REPORTING_DATE),
      ...checks.flatMap((r) => [
        r.applies.alias(checkedCol(r.code)),
        r.fails.alias(failedCol(r.code)),
      ]),
    )
    .withColumns(
      pl.anyHorizontal(checks.map((r) => pl.col(failedCol(r.code))))
        .alias(REJECTED),
    );

  let df: DataFrame;
  try {
    df = await flagged.collect();
  } catch (e) {
    throw portfolioReadError(file, e);
  }

  const validDf = df.lazy()
    .filter(pl.col(REJECTED).not())
    .select(
      ...PORTFOLIO_COLUMNS.map((c) =>
        pl.col(parsedColumnNames(c.name).value).alias(c.name)
      ),
      ...extras.map((c) => pl.col(c)),
    )
    .collectSync();
  // Codes are attached to the rejected rows only, after the split: building
  // a list per row inside the query costs seconds on a million rows.
  const failing = df.filter(pl.col(REJECTED));
  const rejectedDf = withRejectionCodes(
    failing,
    checks.map((r) => r.code),
  ).select(...rawColumns, REJECTION_CODES);

  const checked = df.select(
    ...checks.map((r) => pl.col(checkedCol(r.code)).sum()),
  ).toRecords()[0] ?? {};
  const failures = df.select(
    ...checks.map((r) => pl.col(failedCol(r.code)).sum()),
  ).toRecords()[0] ?? {};

  const loanId = pl.col(parsedColumnNames(COL.loanId).value);
  const label = pl.when(loanId.isNotNull()).then(loanId)
    .otherwise(pl.format("row {}", pl.col(ROW)))
    .alias("label");
  const ruleReports: RuleReport[] = checks.map((r) => {
    const failed = Number(failures[failedCol(r.code)] ?? 0);
    const examples = failed === 0 ? [] : failing.lazy()
      .filter(pl.col(failedCol(r.code)))
      .select(label)
      .head(5)
      .collectSync()
      .getColumn("label")
      .toArray() as string[];
    return {
      code: r.code,
      description: r.description,
      rows_checked: Number(checked[checkedCol(r.code)] ?? 0),
      rows_failed: failed,
      examples,
    };
  });

  warnings.push(...unconfiguredProducts(failing, rules));
  warnings.push(...absentPdColumns(ruleReports, present));

  const rowsRead = df.height;
  const rowsRejected = rejectedDf.height;
  const rejectRate = rowsRead === 0 ? 0 : rowsRejected / rowsRead;
  const reportingDate = opts.reportingDate ??
    (rowsRead > 0
      ? df.getColumn(REPORTING_DATE).get(0) as string | null
      : null);
  const maxRejectRate = rules.validation.max_reject_rate;
  return {
    valid: validDf,
    rejected: rejectedDf,
    report: {
      file,
      reporting_date: reportingDate ?? null,
      rows_read: rowsRead,
      rows_valid: validDf.height,
      rows_rejected: rowsRejected,
      reject_rate: rejectRate,
      max_reject_rate: maxRejectRate,
      passed: rejectRate <= maxRejectRate,
      rules: ruleReports,
      warnings,
    },
  };
}

/**
 * A warning when the file has no PD columns (allowed because a product is
 * on the simplified approach) yet rows of general-approach products were
 * rejected for lacking them: one line saying why, rather than only a count
 * under `NULL_PD_*`.
 */
function absentPdColumns(
  reports: readonly RuleReport[],
  present: ReadonlySet<string>,
): string[] {
  const absent = [...GENERAL_APPROACH_ONLY].filter((c) => !present.has(c));
  const failed = Math.max(
    0,
    ...reports.filter((r) => absent.some((c) => r.code === nullCode(c)))
      .map((r) => r.rows_failed),
  );
  if (failed === 0) return [];
  return [
    `column${absent.length === 1 ? "" : "s"} ${
      absent.join(", ")
    } not in the file: only products on the simplified approach can do without ${
      absent.length === 1 ? "it" : "them"
    }, so ${failed.toLocaleString("en-US")} row${
      failed === 1 ? "" : "s"
    } of products on the general approach ${
      failed === 1 ? "was" : "were"
    } rejected (${absent.map(nullCode).join(", ")})`,
  ];
}

/**
 * One warning per product the portfolio uses but the rules file lacks
 * (methodology §10, "a missing product"): the rows are rejected with
 * PRODUCT_UNKNOWN one by one, and this says once what to add to the file.
 */
function unconfiguredProducts(failing: DataFrame, rules: Rules): string[] {
  const flag = failedCol("PRODUCT_UNKNOWN");
  if (failing.height === 0 || !failing.columns.includes(flag)) return [];
  const counts = failing.lazy()
    .filter(pl.col(flag))
    .groupBy(pl.col(parsedColumnNames(COL.product).value).alias("product"))
    .agg(pl.len().alias("rows"))
    .sort("product")
    .collectSync()
    .toRecords() as { product: string; rows: number }[];
  const rowsOf = new Map(counts.map((c) => [c.product, c.rows]));
  return checkProductsCovered(rules, rowsOf.keys()).map((issue) => {
    const rows = Number(rowsOf.get(issue.path.slice("products.".length)));
    return `${issue.message} (${rows.toLocaleString("en-US")} row${
      rows === 1 ? "" : "s"
    } rejected); add key ${issue.path} to the rules file`;
  });
}
