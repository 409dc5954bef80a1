/**
 * Rating migration (docs/migration.md, docs/methodology.md §13): rating
 * histories from a book's snapshots, annual transition matrices by the
 * cohort and the duration (generator-matrix) methods, matrix validation,
 * powers and the matrix exponential, and lifetime PDs, optionally
 * conditioned on a credit-cycle index.
 *
 * @module
 */
export {
  conditionalPds,
  cumulativePds,
  GRADE_COLUMNS,
  GRADE_PD_COLUMN,
  identity,
  LIFETIME_YEARS,
  matMul,
  matPow,
  MATRIX_ROW_TOLERANCE,
  matrixGradeWarnings,
  type MatrixProblem,
  type MatrixSegment,
  matrixWarnings,
  MAX_MATRIX_BYTES,
  MAX_MATRIX_STATES,
  parseMatrixText,
  RATING_COLUMN,
  readMatrixFile,
  requireValidMatrix,
  shockedCurve,
  type TransitionMatrix,
  validateMatrix,
} from "../transition_matrix.ts";
export { expm, transitionFromGenerator } from "./matrix.ts";
export {
  cohortCounts,
  cohortMatrix,
  estimateCohort,
  type MigrationEstimate,
} from "./cohort.ts";
export {
  durationCounts,
  estimateDuration,
  generatorMatrix,
} from "./duration.ts";
export {
  conditionalMatrix,
  type LifetimePd,
  type LifetimePdOptions,
  lifetimePds,
} from "./lifetime.ts";
export {
  checkBookDates,
  DEFAULT_STATE,
  MAX_HISTORY_OBSERVATIONS,
  MIN_SNAPSHOT_GAP_DAYS,
  MIN_STATE_OBSERVATIONS,
  monthIndex,
  type RatingHistory,
  ratingHistory,
  type RatingHistoryOptions,
  readBookSnapshots,
  type ReadSnapshotsOptions,
} from "./history.ts";
export {
  matrixCsv,
  MIGRATION_FILES,
  type MigrationOutputs,
  writeMigrationOutputs,
} from "./output.ts";
