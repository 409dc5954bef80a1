/**
 * IFRS 7 credit-risk disclosures of a run (docs/disclosures.md): the §35M
 * table by grade and stage, credit-impaired loans with their collateral
 * (§35K(c)), §35L write-offs where the data has them, each figure tagged
 * with its IFRS Accounting Taxonomy element.
 *
 * The tables are computed from additive cells (issue 17), so a run
 * computed in batches, or in parts on several machines, needs no second
 * pass over its files: per batch, `disclosureCells(batchFacilities(results,
 * carrying, validRows), { simplifiedProducts })` (and, with a `capital:`
 * section, `capitalCells(results.lazy(), rules)` of lib/capital); at the
 * end, `disclosuresFromCells(mergeDisclosureCells(parts), { reportingCurrency,
 * rates, simplifiedProducts })` (and `capitalSummaryFromCells(
 * mergeCapitalCells(parts), rules)`). A part of a partitioned run keeps its
 * merged cells with `writeDisclosureCells(dir, cells)` /
 * `writeCapitalCells(dir, cells)` (`part_cells.ts`, here because lib/capital
 * may not import lib/run_folder); `deno task merge` reads them back with
 * `readDisclosureCells(dir)` / `readCapitalCells(dir)` (null without a
 * capital section) and merges them the same way.
 *
 * @module
 */
export {
  batchFacilities,
  columnExpr,
  DISCLOSURE_CELL_KEYS,
  type DisclosureCellOptions,
  type DisclosureCells,
  disclosureCells,
  disclosureCellsOf,
  disclosureCellsProblem,
  disclosuresFromCells,
  gradeExpr,
  gradeOrder,
  IFRS7_COLUMN_LABELS,
  IFRS7_COLUMNS,
  type Ifrs7Amounts,
  type Ifrs7Cell,
  type Ifrs7Column,
  type Ifrs7Disclosures,
  type Ifrs7Options,
  ifrs7Tables,
  mergeDisclosureCells,
  RATING,
  runFacilities,
  UNGRADED,
} from "./ifrs7.ts";
export {
  DISCLOSURE_CELLS_FILE,
  readCapitalCells,
  readDisclosureCells,
  writeCapitalCells,
  writeDisclosureCells,
} from "./part_cells.ts";
export {
  disclosuresOf,
  IFRS7_CSV_COLUMNS,
  ifrs7Csv,
  ifrs7Section,
  WRITTEN_OFF_TABLE,
} from "./output.ts";
export {
  COLUMN_MEMBERS,
  CONFIRMED_NAMES,
  TAXONOMY,
  type TaxonomyTag,
  unconfirmedNames,
} from "./taxonomy.ts";
