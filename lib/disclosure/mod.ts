/**
 * IFRS 7 credit-risk disclosures of a run (docs/disclosures.md): the §35M
 * table by grade and stage, credit-impaired loans with their collateral
 * (§35K(c)), §35L write-offs where the data has them, each figure tagged
 * with its IFRS Accounting Taxonomy element.
 *
 * @module
 */
export {
  columnExpr,
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
  RATING,
  runFacilities,
  UNGRADED,
} from "./ifrs7.ts";
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
