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
import { UserError } from "../errors.ts";
import { messageList, messageName } from "../format.ts";
import pl from "nodejs-polars";
import type { DataFrame, DataType, Expr, LazyFrame } from "../frame.ts";
import { PortfolioReadError } from "../io/errors.ts";
import { portfolioReadError } from "../io/scan_portfolio.ts";
import {
  checkProductsCovered,
  requireValidRules,
  type Rules,
} from "../rules.ts";
import {
  CHARACTERISTIC_COLUMNS,
  COL,
  COMPUTED_COLUMNS,
  PORTFOLIO_COLUMNS,
  RESERVED_COLUMN_PREFIX,
  scenarioEclColumn,
} from "../schema.ts";
import { parsedColumnNames, rowRules } from "./checks.ts";
import { GENERAL_APPROACH_ONLY, nullCode } from "./codes.ts";
import { absentColumn, parseColumn, type ParsedColumn } from "./parse.ts";

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
   * Up to 5 failing rows, first in file order: the loan_id (cut to 64
   * characters with `…`: an over-long id is itself a failure, and is
   * printed in every report), or `row N` (1-based data row, header not
   * counted) where the row has no loan_id.
   */
  examples: string[];
}

/** The content of `data_quality.json`. */
export interface DataQualityReport {
  /** The portfolio's path or name, as given in {@link ValidateOptions.file}. */
  file: string;
  /**
   * The portfolio's reporting date, `YYYY-MM-DD`. `validatePortfolio`
   * always sets it (a portfolio with no readable date is refused); null
   * only in reports written before it did.
   */
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
  /**
   * File-level remarks, one line each: unknown columns kept, products the
   * rules file lacks (with the rows each cost), loan_ids that differ only
   * by letter case, a stale `rejection_codes` column replaced, PD columns
   * absent.
   */
  warnings: string[];
}

/** What {@link validatePortfolio} returns. */
export interface ValidationResult {
  /**
   * Rows that broke no rule, typed as `PORTFOLIO_SCHEMA`: every §1 column in
   * `PORTFOLIO_COLUMNS` order (null where the file lacks an optional
   * column), then unknown extra columns as read. Text columns (loan_id,
   * customer_id, product, segment, region, currency) hold their values
   * trimmed of surrounding whitespace: the ids and keys the duplicate check
   * and the rules matched, and the ones `valid.parquet` and the loan
   * results carry.
   */
  valid: DataFrame;
  /**
   * Rows that broke a rule, exactly as read (untrimmed), plus
   * `rejection_codes`; an input's own `rejection_codes` column (an earlier
   * `rejected.parquet` validated again) is replaced, with a warning.
   */
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
    throw new UserError(
      "usage",
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
 * The schema of a scanned portfolio, refusing, with a file-level error
 * naming the file, a portfolio that cannot be validated at all:
 *
 * - a column whose name starts with `__` ({@link RESERVED_COLUMN_PREFIX}):
 *   such names are the library's working columns;
 * - a column the run computes (`COMPUTED_COLUMNS`, `ecl_<scenario>` of
 *   the rules' scenarios): it would be overwritten;
 * - a required column of methodology §1 missing (see
 *   {@link requiredColumns} for which are required under `rules`, all of
 *   them when `rules` is not given);
 * - a header with no rows: there is no facility, and no reporting date.
 *
 * Reads the header and at most the first row's loan_id, so a run checks it
 * before it creates its folder.
 *
 * @throws {PortfolioReadError} naming the file and the columns concerned.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { requiredColumns, requireColumns } from "./validate.ts";
 * const headerOnly = pl.DataFrame(
 *   Object.fromEntries(requiredColumns().map((c) => [c, [] as string[]])),
 * ).lazy();
 * assert.throws(
 *   () => requireColumns(headerOnly, "empty.csv"),
 *   /^PortfolioReadError: Cannot read portfolio empty\.csv: it has a header but no rows/,
 * );
 * ```
 */
export function requireColumns(
  raw: LazyFrame,
  file: string,
  rules?: Rules,
  /** Refuse a header with no rows. @default true */
  requireRowsToo = true,
): Record<string, DataType> {
  const schema = rawSchema(raw, file);
  const rawColumns = Object.keys(schema);
  const reserved = rawColumns.filter((c) =>
    c.startsWith(RESERVED_COLUMN_PREFIX)
  );
  if (reserved.length > 0) {
    const one = reserved.length === 1;
    throw new PortfolioReadError(
      file,
      `column${one ? "" : "s"} ${
        messageList(reserved)
      }: names starting with "${RESERVED_COLUMN_PREFIX}" are reserved for the library's working columns; rename ${
        one ? "the column" : "them"
      } (e.g. ${
        reserved[0].slice(RESERVED_COLUMN_PREFIX.length) || "x"
      }) and run again`,
    );
  }
  const computed = rawColumns.filter((c) =>
    COMPUTED_COLUMNS.includes(c) ||
    (rules?.scenarios ?? []).some((s) => scenarioEclColumn(s.name) === c)
  );
  if (computed.length > 0) {
    const one = computed.length === 1;
    throw new PortfolioReadError(
      file,
      `column${one ? "" : "s"} ${messageList(computed)}: ${
        one ? "this name is" : "these names are"
      } computed by the run (methodology §9, loan_results.parquet) and would overwrite ${
        one ? "it" : "them"
      }; rename or drop ${
        one ? "the column" : "them"
      } (a run's loan_results is not a portfolio)`,
    );
  }
  const present = new Set(rawColumns);
  const missingRequired = requiredColumns(rules)
    .filter((c) => !present.has(c));
  if (missingRequired.length > 0) {
    throw new PortfolioReadError(
      file,
      `missing required column${missingRequired.length === 1 ? "" : "s"} ${
        missingRequired.join(", ")
      } (columns found: ${messageList(rawColumns, 30) || "none"})`,
    );
  }
  if (requireRowsToo) requireRows(raw, file);
  return schema;
}

/**
 * Refuses a portfolio with a header and no rows: "completing" it would
 * report an empty book with no reporting date. Reads at most the first
 * row's loan_id.
 */
function requireRows(raw: LazyFrame, file: string): void {
  let rows: number;
  try {
    rows = raw.select(pl.col(COL.loanId)).head(1).collectSync().height;
  } catch {
    // A first row Polars cannot read is not this check's to judge:
    // validation reads it again and reports it, naming the file and line.
    return;
  }
  if (rows === 0) {
    throw new PortfolioReadError(
      file,
      "it has a header but no rows: there is no facility to validate and no reporting date; check that the export wrote the rows",
    );
  }
}

/**
 * Checks a raw portfolio against the rules of methodology §1 and splits it.
 *
 * File-level problems throw; row-level problems reject rows:
 * - a file {@link requireColumns} refuses (a reserved `__` column name, a
 *   missing required column, a header with no rows),
 *   a file that cannot be parsed, or one in which no row has a readable
 *   reporting_date (without `opts.reportingDate`: the portfolio's date
 *   cannot be determined), throws {@link PortfolioReadError} naming the
 *   file (and the columns, or the line where known);
 * - a bad value (unparseable, out of range, beyond a plausibility limit of
 *   `PLAUSIBILITY_LIMITS`, inconsistent with another field, a duplicated
 *   loan_id) rejects its row with every code it broke.
 *
 * Text values are trimmed of surrounding whitespace before any check, so
 * `L1` and `L1 ` are the same loan_id (both rows LOAN_ID_DUPLICATE) and a
 * loan_id of spaces only is missing (NULL_LOAN_ID); loan_ids that differ
 * only by letter case (`L1`, `l1`) are different facilities, and the
 * report warns about them. An input column `rejection_codes` (an earlier
 * `rejected.parquet` validated again after fixing it) is dropped and
 * replaced by this validation's codes, with a warning.
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
  // The whole frame as one batch: the duplicate check and the portfolio's
  // date are computed inside the one query, as they always were.
  const validation = await PortfolioValidation.open(raw, rules, {
    ...opts,
    batchRows: Infinity,
  });
  const { valid, rejected } = await validation.batch(0);
  return { valid, rejected, report: validation.report() };
}

/**
 * Rows validated at once when a caller validates a portfolio in batches
 * ({@link PortfolioValidation}) and gives no batch size: the frame of one
 * batch, with its parsed and check columns, is what validation holds in
 * memory (about 0.5 GB per million rows).
 */
export const DEFAULT_VALIDATION_BATCH_ROWS = 1_000_000;

/**
 * Seeds of the 64-bit hash of the loan_ids in the whole-book pass of
 * {@link PortfolioValidation} (any fixed values: a collision only makes a
 * candidate that the exact comparison then clears).
 */
const ID_HASH_SEEDS = [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344] as const;

/** Options of {@link PortfolioValidation.open}. */
export interface BatchValidateOptions extends ValidateOptions {
  /**
   * Rows per batch; a portfolio of at most this many rows is validated in
   * one batch, in one query. A whole number `>= 1`, or `Infinity`.
   * @default DEFAULT_VALIDATION_BATCH_ROWS
   */
  batchRows?: number;
  /**
   * Data rows of the frame, when the caller knows them (else counted,
   * which reads a CSV once).
   */
  rows?: number;
}

/** What one batch of {@link PortfolioValidation} produced. */
export interface ValidationBatch {
  /** The batch's number, from 0. */
  index: number;
  /** Data rows of the file before the batch's first row. */
  firstRow: number;
  /** Rows read in the batch. */
  rows: number;
  /** Its valid rows, as {@link ValidationResult.valid}. */
  valid: DataFrame;
  /** Its rejected rows, as {@link ValidationResult.rejected}. */
  rejected: DataFrame;
}

/** The counts of one batch, added up into the report. */
interface BatchTally {
  rows: number;
  valid: number;
  rejected: number;
  checked: number[];
  failed: number[];
  /** Up to 5 example labels per rule, in file order. */
  examples: string[][];
  /** Rows rejected with PRODUCT_UNKNOWN per product. */
  unknownProducts: Map<string, number>;
}

/** The columns and expressions of one portfolio's validation. */
interface Prepared {
  file: string;
  rules: Rules;
  raw: LazyFrame;
  rawColumns: string[];
  present: Set<string>;
  extras: string[];
  /** The file-level warnings known from the header. */
  warnings: string[];
  values: Expr[];
  textMissing: Expr[];
  parsed: Map<string, ParsedColumn>;
}

function prepare(
  raw: LazyFrame,
  rules: Rules,
  opts: ValidateOptions,
): Prepared {
  const { file } = opts;
  if (opts.reportingDate !== undefined) {
    checkReportingDate(opts.reportingDate, file);
  }
  // With the reporting date given (a part of a partitioned run, whose
  // book's date is known), no rows is an empty book, not an unreadable one.
  const schema = requireColumns(
    raw,
    file,
    rules,
    opts.reportingDate === undefined,
  );
  const warnings: string[] = [];
  if (REJECTION_CODES in schema) {
    // Re-validating an earlier rejected.parquet after fixing its rows is a
    // normal workflow: the old codes describe the rows before the fix.
    raw = raw.drop(REJECTION_CODES);
    delete schema[REJECTION_CODES];
    warnings.push(
      `column ${REJECTION_CODES} (from an earlier validation) dropped: the rejected rows carry this validation's ${REJECTION_CODES} instead, the valid rows none`,
    );
  }
  const rawColumns = Object.keys(schema);
  const present = new Set(rawColumns);

  const known = new Set<string>(PORTFOLIO_COLUMNS.map((c) => c.name));
  const extras = rawColumns.filter((c) => !known.has(c));
  // Borrower characteristics (the generator's, for PD models) are known
  // optional columns: passed through as read like the others, without a
  // warning.
  const characteristics = new Set(CHARACTERISTIC_COLUMNS.map((c) => c.name));
  const unknown = extras.filter((c) => !characteristics.has(c));
  if (unknown.length > 0) {
    warnings.push(
      `unknown column${unknown.length === 1 ? "" : "s"} ${
        messageList(unknown, 20)
      } kept as read and passed through to the valid rows`,
    );
  }

  const parsedList = PORTFOLIO_COLUMNS.map((c) => ({
    name: c.name,
    text: c.kind === "string",
    names: parsedColumnNames(c.name),
    ...(present.has(c.name)
      ? parseColumn(c.name, c.kind, schema[c.name])
      : absentColumn(c.kind)),
  }));
  // A text value is missing exactly when its trimmed value is null: read
  // from the value column, the text is not trimmed a second time.
  const values = parsedList.flatMap((p) => [
    p.value.alias(p.names.value),
    ...(p.text ? [] : [p.missing.alias(p.names.missing)]),
  ]);
  const textMissing = parsedList.filter((p) => p.text).map((p) =>
    pl.col(p.names.value).isNull().alias(p.names.missing)
  );
  return {
    file,
    rules,
    raw,
    rawColumns,
    present,
    extras,
    warnings,
    values,
    textMissing,
    parsed: new Map(parsedList.map((p) => [p.name, p])),
  };
}

/**
 * Validation of a portfolio batch by batch, so that what is held in memory
 * is set by the batch, not the book (a run streams its book this way,
 * `lib/run/run.ts`). The rows, the rejected rows with their codes and the
 * data-quality report are those of {@link validatePortfolio} on the whole
 * frame, row for row.
 *
 * The two checks that need the whole book run first, in one pass over the
 * `loan_id` and `reporting_date` columns only, before any batch:
 *
 * - the portfolio's reporting date (the most frequent readable date, the
 *   latest on a tie) from the count of rows per date;
 * - the duplicated loan_ids: a 64-bit hash of every trimmed id (8 bytes a
 *   row, the only memory of the pass that grows with the book) is kept,
 *   the hashes seen more than once are the candidates, and a second read
 *   of the ids keeps those whose hash is a candidate and compares them
 *   exactly, so a hash collision rejects nothing;
 * - when the ids hold both lower- and upper-case letters, the ids that
 *   differ only by letter case (the report's warning) the same way, with
 *   the hash of the lower-cased id.
 *
 * A batch is then checked with those results (`LOAN_ID_DUPLICATE` on the
 * ids found repeated anywhere in the file, `REPORTING_DATE_MISMATCH`
 * against the book's date); its row numbers (`row N` examples) count from
 * the start of the file. A portfolio of at most `batchRows` rows is one
 * batch and skips the first pass: the query computes both itself.
 *
 * Batches are slices of the frame: cheap on Parquet and Arrow IPC (row
 * groups are skipped); a caller with a large CSV converts it to Parquet
 * first (a run does, `lib/run/run.ts`), since each slice of a CSV reads
 * the file from its start.
 */
export class PortfolioValidation {
  /** The portfolio's reporting date, once known (after batch 0 at the latest). */
  reportingDate: string | null;
  private readonly tallies: BatchTally[] = [];
  private caseWarnings: string[];

  private constructor(
    private readonly p: Prepared,
    /** Data rows of the frame; null when validated as one batch uncounted. */
    readonly rows: number | null,
    /** Rows per batch. */
    readonly batchRows: number,
    reportingDate: string | null,
    private readonly duplicated: Expr | undefined,
    caseWarnings: string[],
  ) {
    this.reportingDate = reportingDate;
    this.caseWarnings = caseWarnings;
  }

  /**
   * Checks the header (as {@link validatePortfolio}) and, for a portfolio
   * of several batches, runs the whole-book pass.
   *
   * @throws {PortfolioReadError} as {@link validatePortfolio}.
   */
  static async open(
    raw: LazyFrame,
    rules: Rules,
    opts: BatchValidateOptions,
  ): Promise<PortfolioValidation> {
    // Rules built or changed in code are checked like a rules file (§10).
    rules = requireValidRules(rules, "validatePortfolio()");
    const batchRows = opts.batchRows ?? DEFAULT_VALIDATION_BATCH_ROWS;
    if (
      !(batchRows === Infinity ||
        (Number.isInteger(batchRows) && batchRows >= 1))
    ) {
      throw new UserError(
        "usage",
        `Cannot validate portfolio ${opts.file}: batchRows must be a whole number >= 1, got ${batchRows}`,
      );
    }
    const p = prepare(raw, rules, opts);
    const rows = opts.rows ??
      (batchRows === Infinity ? null : await countRows(p.raw, p.file));
    if (rows === null || rows <= batchRows) {
      return new PortfolioValidation(
        p,
        rows,
        batchRows,
        opts.reportingDate ?? null,
        undefined,
        [],
      );
    }
    const facts = await wholeBookFacts(p, rows, batchRows);
    const reportingDate = opts.reportingDate ?? facts.reportingDate;
    if (reportingDate === null) throw await noReportingDateOf(p);
    const dupIds = facts.duplicateIds;
    const idValue = pl.col(parsedColumnNames(COL.loanId).value);
    return new PortfolioValidation(
      p,
      rows,
      batchRows,
      reportingDate,
      dupIds.length === 0
        ? pl.lit(false)
        : idValue.isIn(dupIds).fillNull(false),
      facts.caseWarnings,
    );
  }

  /** Batches to validate, numbered from 0. */
  get batchCount(): number {
    return this.rows === null || this.rows <= this.batchRows
      ? 1
      : Math.ceil(this.rows / this.batchRows);
  }

  /**
   * Validates batch `index` (each once, in any order; the report adds them
   * up in file order).
   *
   * @throws {PortfolioReadError} for rows that cannot be read, naming the
   *   file (and the line where known); for the first batch of a one-batch
   *   portfolio, when no row has a readable reporting date.
   */
  async batch(index: number): Promise<ValidationBatch> {
    return await this.check(index, false);
  }

  /**
   * {@link batch}. A book of one batch finds its repeated loan_ids by a
   * count over the 64-bit hash of each id (about half the cost of a count
   * over the text ids); unless `exact`, the rows it flags are then checked
   * exactly: a flagged id seen only once among them met another id's hash
   * (a collision), and the batch is checked again over the ids themselves,
   * so a collision never rejects a row.
   */
  private async check(
    index: number,
    exact: boolean,
  ): Promise<ValidationBatch> {
    const { p } = this;
    const single = this.batchCount === 1;
    const firstRow = single ? 0 : index * this.batchRows;
    const frame = single ? p.raw : p.raw.slice(firstRow, this.batchRows);
    const rdValue = pl.col(parsedColumnNames(COL.reportingDate).value);
    const expectedDate = this.reportingDate !== null
      ? pl.lit(this.reportingDate).str.strptime(pl.Date, "%Y-%m-%d")
      // §1: one reporting date per portfolio; the most frequent one is
      // taken as the portfolio's, so the few rows that differ are the ones
      // rejected.
      : rdValue.dropNulls().mode().sort().last();
    // The portfolio's date is computed once, into a column; the rules read
    // its first value as a scalar.
    const idValue = pl.col(parsedColumnNames(COL.loanId).value);
    const checks = rowRules(
      p.rules,
      pl.col(REPORTING_DATE).first(),
      this.duplicated ??
        (exact ? undefined : idValue.count().over(hash64(idValue)).gt(1)),
    );
    const flagged = frame
      .withRowIndex(ROW, firstRow + 1)
      .withColumns(...p.values)
      .withColumns(...p.textMissing, expectedDate.alias(REPORTING_DATE))
      .withColumns(
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
      throw portfolioReadError(p.file, e);
    }
    if (this.duplicated === undefined && !exact) {
      const collided = df.lazy()
        .filter(pl.col(failedCol(DUPLICATE_CODE)))
        .groupBy(idValue).agg(pl.len().alias("n"))
        .filter(pl.col("n").lt(2))
        .collectSync();
      if (collided.height > 0) return await this.check(index, true);
    }
    if (this.reportingDate === null) {
      const date = df.height > 0
        ? df.select(pl.col(REPORTING_DATE).first().cast(pl.Utf8))
          .getColumn(REPORTING_DATE).get(0) as string | null
        : null;
      if (date === null) throw noReportingDate(df, p.file);
      this.reportingDate = date;
    }

    const validDf = df.lazy()
      .filter(pl.col(REJECTED).not())
      .select(
        ...PORTFOLIO_COLUMNS.map((c) =>
          pl.col(parsedColumnNames(c.name).value).alias(c.name)
        ),
        ...p.extras.map((c) => pl.col(c)),
      )
      .collectSync();
    // Codes are attached to the rejected rows only, after the split:
    // building a list per row inside the query costs seconds on a million
    // rows.
    const failing = df.filter(pl.col(REJECTED));
    const rejectedDf = withRejectionCodes(
      failing,
      checks.map((r) => r.code),
    ).select(...p.rawColumns, REJECTION_CODES);

    const sums = df.select(
      ...checks.flatMap((r) => [
        pl.col(checkedCol(r.code)).sum(),
        pl.col(failedCol(r.code)).sum(),
      ]),
    ).toRecords()[0] ?? {};
    const loanId = pl.col(parsedColumnNames(COL.loanId).value);
    const label = pl.when(loanId.isNotNull()).then(loanId)
      .otherwise(pl.format("row {}", pl.col(ROW)))
      .alias("label");
    const failed = checks.map((r) => Number(sums[failedCol(r.code)] ?? 0));
    this.tallies[index] = {
      rows: df.height,
      valid: validDf.height,
      rejected: rejectedDf.height,
      checked: checks.map((r) => Number(sums[checkedCol(r.code)] ?? 0)),
      failed,
      examples: checks.map((r, i) =>
        failed[i] === 0 ? [] : failing.lazy()
          .filter(pl.col(failedCol(r.code)))
          .select(label)
          .head(EXAMPLES)
          .collectSync()
          .getColumn("label")
          .toArray()
          .map((id) => messageName(id as string))
      ),
      unknownProducts: unknownProductRows(failing),
    };
    if (single) this.caseWarnings = caseOnlyIds(df);
    return {
      index,
      firstRow,
      rows: df.height,
      valid: validDf,
      rejected: rejectedDf,
    };
  }

  /**
   * The data-quality report of the batches validated, added up in file
   * order: call it once every batch is done.
   */
  report(): DataQualityReport {
    const { p } = this;
    const tallies = this.tallies.filter((t) => t !== undefined);
    const codes = rowRules(p.rules, pl.lit(null)).map((r) => r);
    const ruleReports: RuleReport[] = codes.map((r, i) => ({
      code: r.code,
      description: r.description,
      rows_checked: tallies.reduce((a, t) => a + t.checked[i], 0),
      rows_failed: tallies.reduce((a, t) => a + t.failed[i], 0),
      examples: tallies.flatMap((t) => t.examples[i]).slice(0, EXAMPLES),
    }));
    const unknownProducts = new Map<string, number>();
    for (const t of tallies) {
      for (const [product, n] of t.unknownProducts) {
        unknownProducts.set(product, (unknownProducts.get(product) ?? 0) + n);
      }
    }
    const warnings = [
      ...p.warnings,
      ...unconfiguredProducts(unknownProducts, p.rules),
      ...absentPdColumns(ruleReports, p.present),
      ...this.caseWarnings,
    ];
    const rowsRead = tallies.reduce((a, t) => a + t.rows, 0);
    const rowsRejected = tallies.reduce((a, t) => a + t.rejected, 0);
    const rejectRate = rowsRead === 0 ? 0 : rowsRejected / rowsRead;
    const maxRejectRate = p.rules.validation.max_reject_rate;
    return {
      file: p.file,
      reporting_date: this.reportingDate,
      rows_read: rowsRead,
      rows_valid: tallies.reduce((a, t) => a + t.valid, 0),
      rows_rejected: rowsRejected,
      reject_rate: rejectRate,
      max_reject_rate: maxRejectRate,
      passed: rejectRate <= maxRejectRate,
      rules: ruleReports,
      warnings,
    };
  }
}

/** The rule code of a loan_id found more than once (checks.ts). */
const DUPLICATE_CODE = "LOAN_ID_DUPLICATE";

/** Example rows per rule in the report. */
const EXAMPLES = 5;

/** Data rows of a frame (a CSV is read once to count its records). */
async function countRows(raw: LazyFrame, file: string): Promise<number> {
  try {
    const df = await raw.select(pl.len().alias("n")).collect();
    return Number(df.getColumn("n").get(0));
  } catch (e) {
    throw portfolioReadError(file, e);
  }
}

/** `[offset, length]` of each batch of `rows` rows. */
function batchSlices(rows: number, size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let o = 0; o < rows; o += size) out.push([o, Math.min(size, rows - o)]);
  return out;
}

/** Collects a query over the portfolio, a read error naming the file. */
async function collectOf(lf: LazyFrame, file: string): Promise<DataFrame> {
  try {
    return await lf.collect();
  } catch (e) {
    throw portfolioReadError(file, e);
  }
}

/** The 64-bit hash of a text expression (null stays null). */
function hash64(text: Expr): Expr {
  return pl.when(text.isNotNull())
    .then(text.hash(...ID_HASH_SEEDS).cast(pl.UInt64))
    .otherwise(pl.lit(null).cast(pl.UInt64));
}

/**
 * The whole-book facts of {@link PortfolioValidation}: the portfolio's
 * reporting date, the loan_ids found more than once, the warning about
 * ids that differ only by letter case. Reads only `loan_id` and
 * `reporting_date`, batch by batch.
 */
async function wholeBookFacts(
  p: Prepared,
  rows: number,
  batchRows: number,
): Promise<{
  reportingDate: string | null;
  duplicateIds: string[];
  caseWarnings: string[];
}> {
  const slices = batchSlices(rows, batchRows);
  const id = p.parsed.get(COL.loanId)!.value;
  const rd = p.parsed.get(COL.reportingDate)!.value;
  const hashes: DataFrame[] = [];
  const dates = new Map<string, number>();
  // Ids with a lower-case letter: until one is found (the clash pass
  // below needs one; ids of upper-case letters and digits cannot clash).
  let lower = false;
  for (const [offset, length] of slices) {
    const df = await collectOf(
      p.raw.slice(offset, length).select(
        hash64(id).alias("h"),
        rd.alias("rd"),
        ...(lower ? [] : [
          id.str.contains(LOWER).cast(pl.Int32).max().alias("lower"),
        ]),
      ),
      p.file,
    );
    hashes.push(df.select("h").filter(pl.col("h").isNotNull()));
    // Rows per date; only the few distinct dates are turned into text.
    for (
      const { rd, n } of df.lazy().filter(pl.col("rd").isNotNull())
        .groupBy("rd").agg(pl.len().alias("n"))
        .select(pl.col("rd").cast(pl.Utf8), pl.col("n")).collectSync()
        .toRecords() as { rd: string; n: number }[]
    ) dates.set(rd, (dates.get(rd) ?? 0) + Number(n));
    lower ||= df.height > 0 && df.getColumn("lower").get(0) === 1;
  }
  let reportingDate: string | null = null;
  for (const [date, n] of dates) {
    const best = reportingDate === null ? 0 : dates.get(reportingDate)!;
    if (n > best || (n === best && date > reportingDate!)) reportingDate = date;
  }

  // Hashes seen twice are candidates; the exact ids behind them decide.
  // Sorted, a repeated hash sits next to itself (a sort is several times
  // faster than a hash table over millions of values).
  const h = pl.col("h");
  const candidates = await pl.concat(hashes).lazy().sort("h")
    .filter(h.eq(h.shift(1)).or(h.eq(h.shift(-1))))
    .unique().collect();
  hashes.length = 0;
  let duplicateIds: string[] = [];
  if (candidates.height > 0) {
    const ids = await idsWithHash(p, slices, hash64(id), candidates);
    duplicateIds = ids.lazy().groupBy("id").agg(pl.len().alias("n"))
      .filter(pl.col("n").gt(1)).select("id").collectSync()
      .getColumn("id").toArray() as string[];
  }

  let caseWarnings: string[] = [];
  if (lower) {
    const lowered = hash64(id.str.toLowerCase());
    const parts: DataFrame[] = [];
    for (const [offset, length] of slices) {
      parts.push(
        await collectOf(
          p.raw.slice(offset, length).select(
            hash64(id).alias("h"),
            lowered.alias("lh"),
          ).filter(pl.col("h").isNotNull()),
          p.file,
        ),
      );
    }
    const clashing = pl.concat(parts).lazy().groupBy("lh")
      .agg(pl.col("h").nUnique().alias("n")).filter(pl.col("n").gt(1))
      .select(pl.col("lh").alias("h")).collectSync();
    parts.length = 0;
    if (clashing.height > 0) {
      caseWarnings = caseClashes(
        (await idsWithHash(p, slices, lowered, clashing)).lazy(),
      );
    }
  }
  return { reportingDate, duplicateIds, caseWarnings };
}

/** The trimmed loan_ids (column `id`) whose `hash` is among `candidates`. */
async function idsWithHash(
  p: Prepared,
  slices: [number, number][],
  hash: Expr,
  candidates: DataFrame,
): Promise<DataFrame> {
  const id = p.parsed.get(COL.loanId)!.value;
  const parts: DataFrame[] = [];
  for (const [offset, length] of slices) {
    parts.push(
      await collectOf(
        p.raw.slice(offset, length)
          .select(id.alias("id"), hash.alias("h"))
          .join(candidates.lazy(), { on: "h", how: "semi" })
          .select("id"),
        p.file,
      ),
    );
  }
  return pl.concat(parts);
}

/**
 * The error of a portfolio of several batches in which no row has a
 * readable reporting_date, read from that column and the loan_ids only.
 */
async function noReportingDateOf(p: Prepared): Promise<PortfolioReadError> {
  const names = parsedColumnNames(COL.reportingDate);
  const rd = p.parsed.get(COL.reportingDate)!;
  const df = await collectOf(
    p.raw.withRowIndex(ROW, 1).select(
      pl.col(ROW),
      pl.col(COL.reportingDate),
      rd.missing.alias(names.missing),
      p.parsed.get(COL.loanId)!.value.alias(
        parsedColumnNames(COL.loanId).value,
      ),
    ),
    p.file,
  );
  return noReportingDate(df, p.file);
}

/**
 * The error for a portfolio in which no row has a readable reporting_date
 * (and none was given): its date, which every row is checked against and
 * the run is named and converted by, cannot be determined. Says how many
 * values are empty and how many are not dates, with the first of those.
 */
function noReportingDate(df: DataFrame, file: string): PortfolioReadError {
  const missingCol = parsedColumnNames(COL.reportingDate).missing;
  const empty = Number(
    df.select(pl.col(missingCol).cast(pl.Int32).sum()).getColumn(missingCol)
      .get(0),
  );
  const unreadable = df.height - empty;
  const parts = [
    empty > 0 ? `${formatRows(empty)} empty` : "",
    unreadable > 0 ? `${formatRows(unreadable)} not a YYYY-MM-DD date` : "",
  ].filter((p) => p !== "");
  let example = "";
  if (unreadable > 0) {
    const first = df.lazy()
      .filter(pl.col(missingCol).not())
      .select(
        pl.col(COL.reportingDate).cast(pl.Utf8).alias("text"),
        pl.col(parsedColumnNames(COL.loanId).value).alias("id"),
        pl.col(ROW).alias("row"),
      )
      .head(1)
      .collectSync()
      .toRecords()[0] as {
        text: string | null;
        id: string | null;
        row: number;
      };
    example = `, e.g. ${
      first.id === null ? `row ${first.row}` : `loan_id ${first.id}`
    }: ${JSON.stringify(first.text)}`;
  }
  return new PortfolioReadError(
    file,
    `no row has a readable reporting_date (${
      parts.join(", ")
    }${example}), so the portfolio's reporting date cannot be determined; write it as YYYY-MM-DD on every row`,
  );
}

/** `1 row`, `1,234 rows`. */
function formatRows(n: number): string {
  return `${n.toLocaleString("en-US")} row${n === 1 ? "" : "s"}`;
}

/**
 * A warning when loan_ids differ only by letter case (`L1` and `l1`): they
 * are different facilities to the duplicate check, which compares ids
 * exactly, but often one facility spelt twice by two source systems. Names
 * the first pair (in the order of the lower-cased ids) and the count.
 */
function caseOnlyIds(df: DataFrame): string[] {
  const id = parsedColumnNames(COL.loanId).value;
  // Two ids equal but for case differ in a letter that is lower case in
  // one and upper case in the other; when no id has a lower-case letter,
  // or none an upper-case one (`L000123`, `inv-2024-1`), there is no such
  // pair, and one pattern search is much faster than grouping the ids.
  const some = (letters: string) =>
    df.select(
      pl.col(id).str.contains(letters).cast(pl.Int32).max().alias("x"),
    ).getColumn("x").get(0) === 1;
  if (!some(LOWER) || !some(UPPER)) return [];
  return caseClashes(df.lazy().select(pl.col(id).alias("id")));
}

/** A lower-case letter (with title case), for {@link caseOnlyIds}. */
const LOWER = "[\\p{Ll}\\p{Lt}]";
/** An upper-case letter (with title case), for {@link caseOnlyIds}. */
const UPPER = "[\\p{Lu}\\p{Lt}]";

/**
 * The warning of {@link caseOnlyIds} from the trimmed ids (column `id`) of
 * the portfolio, or of every row whose lower-cased id may clash with
 * another (the whole-book pass of {@link PortfolioValidation}).
 */
function caseClashes(idColumn: LazyFrame): string[] {
  const ids = idColumn
    .dropNulls()
    .withColumns(pl.col("id").str.toLowerCase().alias("key"));
  const clashes = ids
    .groupBy("key")
    .agg(pl.col("id").nUnique().alias("n"))
    .filter(pl.col("n").gt(1))
    .sort("key")
    .collectSync();
  if (clashes.height === 0) return [];
  const count = Number(clashes.getColumn("n").sum());
  const firstKey = clashes.getColumn("key").get(0) as string;
  const pair = ids
    .filter(pl.col("key").eq(pl.lit(firstKey)))
    .select(pl.col("id").unique().sort())
    .head(2)
    .collectSync()
    .getColumn("id")
    .toArray() as string[];
  return [
    `${
      count.toLocaleString("en-US")
    } loan_ids differ from another only by letter case (e.g. ${pair[0]} and ${
      pair[1]
    }); they are kept as different facilities: check that the source system's ids are case-sensitive, else correct them`,
  ];
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
 * PRODUCT_UNKNOWN one by one, and this says once, with their count, what
 * to add under the rules file's `products` (whose keys are the product
 * names, matched exactly after trimming).
 */
function unconfiguredProducts(
  rowsOf: ReadonlyMap<string, number>,
  rules: Rules,
): string[] {
  const products = [...rowsOf.keys()].sort();
  return checkProductsCovered(rules, products).map((issue) => {
    const product = issue.path.slice("products.".length);
    return `product ${product} is not in the rules file: ${
      formatRows(Number(rowsOf.get(product)))
    } rejected (PRODUCT_UNKNOWN); add it under products in the rules file (key ${issue.path}, with its repayment) or correct the rows' product`;
  });
}

/** The rejected rows of a batch with PRODUCT_UNKNOWN, per product. */
function unknownProductRows(failing: DataFrame): Map<string, number> {
  const flag = failedCol("PRODUCT_UNKNOWN");
  if (failing.height === 0 || !failing.columns.includes(flag)) {
    return new Map();
  }
  const counts = failing.lazy()
    .filter(pl.col(flag))
    .groupBy(pl.col(parsedColumnNames(COL.product).value).alias("product"))
    .agg(pl.len().alias("rows"))
    .collectSync()
    .toRecords() as { product: string; rows: number }[];
  return new Map(counts.map((c) => [c.product, Number(c.rows)]));
}
