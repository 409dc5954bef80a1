/**
 * Movement between two reporting dates (docs/movement.md): stage migration,
 * the loss-allowance reconciliation of IFRS 7 §35H and the gross carrying
 * amount reconciliation of IFRS 7 §35I, computed from two run folders, with
 * their invariants checked, and written as JSON, Parquet and HTML.
 *
 * @module
 */
export {
  FACILITY_LINES,
  type FacilityLine,
  facilityMovements,
  lineColumn,
  missingRates,
  MOVEMENT_STATUS,
  type MovementSide,
} from "./attribution.ts";
export {
  checkMovement,
  computeMovement,
  type MigrationCell,
  type MigrationState,
  type Movement,
  type MovementCheck,
  MovementError,
  type MovementOptions,
  type MovementRunRef,
  type Reconciliation,
  RECONCILIATION_LINES,
  type ReconciliationLine,
  type ReconciliationLineKey,
  STAGES,
} from "./reconciliation.ts";
export {
  type MovementFiles,
  movementLines,
  renderMovementHtml,
  writeMovementOutputs,
} from "./write.ts";
export { allowanceTable } from "./console.ts";
export {
  migrationHeatmap,
  waterfallChart,
  type WaterfallColumn,
  type WaterfallStep,
  waterfallSteps,
} from "./charts.ts";
