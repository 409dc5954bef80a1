/**
 * Movement between two reporting dates (docs/movement.md): stage migration,
 * the loss-allowance reconciliation of IFRS 7 §35H and the gross carrying
 * amount reconciliation of IFRS 7 §35I, per stage with a column for the
 * simplified approach, in total and per product, with the loss allowance
 * and provision split of IFRS 7 B8E, computed from two run folders, with
 * their invariants checked, and written as JSON, Parquet and HTML.
 *
 * @module
 */
export {
  FACILITY_LINES,
  type FacilityLine,
  type FacilityMeasure,
  facilityMovements,
  lineColumn,
  missingRates,
  MOVEMENT_STATUS,
  type MovementSide,
  SIMPLIFIED,
  SPLIT_COLUMNS,
} from "./attribution.ts";
export {
  type AllowanceSplitAt,
  type ByColumn,
  checkMovement,
  type ColumnAmounts,
  COLUMNS,
  computeMovement,
  MAX_MOVEMENT_TOLERANCE,
  type MigrationCell,
  type MigrationState,
  MIN_MOVEMENT_TOLERANCE,
  type Movement,
  type MovementCheck,
  MovementError,
  type MovementOptions,
  type MovementRunRef,
  type ProductMovement,
  type Reconciliation,
  RECONCILIATION_LINES,
  type ReconciliationLine,
  type ReconciliationLineKey,
  type SimplifiedByStageAt,
  type StageColumn,
  type StageKey,
  STAGES,
  TRANSFER_LINES,
  transferLine,
  visibleColumns,
  visibleLines,
} from "./reconciliation.ts";
export {
  type MovementFiles,
  movementLines,
  movementNarrative,
  renderMovementHtml,
  type WriteMovementOptions,
  writeMovementOutputs,
} from "./write.ts";
export { allowanceTable } from "./console.ts";
export {
  migrationHeatmap,
  migrationStateLabel,
  migrationStates,
  reconciliationUnit,
  waterfallChart,
  type WaterfallColumn,
  type WaterfallOptions,
  type WaterfallStep,
  waterfallSteps,
} from "./charts.ts";
