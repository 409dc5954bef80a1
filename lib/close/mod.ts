/**
 * The quarter-end close (docs/close.md): one command runs, for each
 * entity of a close file and each reporting date, the run, the movement
 * against the previous date, the star-schema export and the dashboard;
 * each step idempotent, retried, time-boxed and recorded in `close.json`
 * and `close.html`, so a rerun resumes where a failed or killed close
 * stopped. Orchestration above `run`, `movement` and `report`.
 *
 * | what | module |
 * |------|--------|
 * | the close file's schema, `loadCloseConfig` | `config.ts` |
 * | the steps and their dependencies, `planClose` | `plan.ts` |
 * | `close.json`, written atomically | `state.ts` |
 * | `runClose`: skip, retry, time budget, block | `run.ts` |
 * | `close.html` | `page.ts` |
 *
 * @module
 */
export {
  type CloseConfig,
  type CloseEntity,
  loadCloseConfig,
  MAX_RETRIES,
  MAX_TIME_BUDGET_S,
} from "./config.ts";
export {
  CLOSE_LAYOUT,
  planClose,
  type PlannedStep,
  runIdOf,
  type StepKind,
} from "./plan.ts";
export {
  CLOSE_STATE_VERSION,
  type CloseState,
  closeStatePath,
  readCloseState,
  type StepRecord,
  type StepStatus,
  writeCloseState,
  writeFileAtomic,
} from "./state.ts";
export {
  CLOSE_LOCK,
  closeExitCode,
  closeFailure,
  type CloseOptions,
  type CloseResult,
  isRetried,
  runClose,
  StepTimeoutError,
} from "./run.ts";
export { renderClosePage } from "./page.ts";
