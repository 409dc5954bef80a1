/**
 * The ECL walk between two reporting dates (docs/movement.md §6, ECL walk):
 * attribution of the change in the allowance to its drivers by sequential
 * substitution, re-running the engine (methodology §4-§9) from the opening
 * run's inputs, rules and FX table to the closing run's, one group of
 * drivers at a time.
 *
 * - `inputs.ts`: a run's inputs read again as its manifest names them,
 *   refused when their SHA-256 differs;
 * - `drivers.ts`: the drivers in order, their columns, the rules and FX
 *   table of each state;
 * - `walk.ts`: the states, the steps and their checks;
 * - `output.ts`: the walk as a long table (Parquet) and as console text;
 * - `page.ts`: the walk's waterfall and tables on movement.html.
 *
 * @module
 */
export { readWalkInputs, type WalkInputs, WalkInputsError } from "./inputs.ts";
export {
  DRIVER_COLUMNS,
  DRIVER_LABELS,
  type FacilityDriver,
  stateFx,
  stateRules,
  WALK_DRIVERS,
  type WalkDriver,
} from "./drivers.ts";
export {
  checkSteps,
  computeWalk,
  type Walk,
  type WalkByStage,
  type WalkFacility,
  type WalkOptions,
  type WalkStep,
} from "./walk.ts";
export { walkLines, walkTable } from "./output.ts";
export { walkBetween, type WalkOutcome } from "./between.ts";
export {
  WALK_BRIDGE_NOTE,
  walkChart,
  walkSection,
  walkSkippedSection,
  walkUnit,
} from "./page.ts";
