/**
 * Run folders: the one module that knows their layout, reads them with
 * checks and writes them whole or not at all (architecture.md, "A run's
 * outputs"), behind a small {@link Location} interface so that a local
 * folder and an object-storage prefix are the same to the run, the report,
 * the movement, the dashboard and the BI export.
 *
 * | what | file |
 * |---|---|
 * | file names of a run folder and of a movement folder | `layout.ts` |
 * | where folders live: local directories, staging and publishing | `location.ts` |
 * | `summary.json`: its type, checks, upgrade from earlier versions | `summary.ts` |
 * | `manifest.json`: its type, checks, upgrade | `manifest.ts` |
 * | `data_quality.json`: what a trusted reader checks in it | `data_quality.ts` |
 * | `carrying_amounts.parquet`: its columns, attaching it to loan results | `carrying_amounts.ts` |
 * | reading a run folder with its checks; what makes a run trusted | `read.ts` |
 * | writing a run folder, or an output derived from runs, atomically | `write.ts` |
 * | where outputs may go, checked before anything is computed | `output_path.ts` |
 * | stale staging folders of killed writers, and removing them | `stale.ts` |
 * | the validation output folder (`valid.parquet`, `rejected.parquet`, `data_quality.json`) | `validation_outputs.ts` |
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   openRunFolder,
 *   readRunFolder,
 *   readRunSummary,
 *   RunFolderReadError,
 *   type Summary,
 * } from "./mod.ts";
 *
 * const out = await Deno.makeTempDir();
 * const folder = await openRunFolder(out, "2025-12-31");
 * await folder.writeJson("summary", {
 *   run_id: "2025-12-31",
 *   reporting_date: "2025-12-31",
 *   reporting_currency: "EUR",
 *   fx: { file: "fx.yaml", sha256: "", base: "EUR", as_of: "2025-12-31", rates: { EUR: 1 } },
 *   scenarios: [],
 *   totals: { count: 0, gross_carrying_amount: 0, ead: 0, ecl_model: 0, ecl: 0,
 *     loss_allowance: 0, provision: 0, coverage: 0 },
 *   by_stage: [],
 * } as unknown as Summary);
 * const dir = await folder.commit();
 * assert.equal((await readRunSummary(dir)).reporting_currency, "EUR");
 * // A folder without its loan results is refused, naming what is missing:
 * await assert.rejects(() => readRunFolder(dir), (e: Error) =>
 *   e instanceof RunFolderReadError &&
 *   e.message === `Cannot read run folder ${dir}: loan_results.parquet: file is missing`);
 * await Deno.remove(out, { recursive: true });
 * ```
 *
 * @module
 */
export {
  FAILED_SUFFIX,
  MOVEMENT_FILES,
  PART_FILES,
  RUN_FILES,
  type RunFile,
  VALIDATION_FILES,
} from "./layout.ts";
export {
  type ValidationOutputs,
  type WriteValidationOptions,
  writeValidationOutputs,
} from "./validation_outputs.ts";
export {
  entryExists,
  FolderBusyError,
  FOREIGN_STAGING_STALE_MINUTES,
  HOST_ID,
  localFolder,
  locate,
  type Location,
  parentAndName,
  PUBLISH_ROUNDS,
  type PublishOptions,
  type Staging,
  type StagingName,
  stagingName,
  writeWhole,
} from "./location.ts";
export {
  formatBytes,
  removeStaleStaging,
  type StagingEntry,
  STALE_AFTER_HOURS,
  type StaleOptions,
  type StaleSweep,
  staleWarning,
} from "./stale.ts";
export {
  coverageRatio,
  type CurrencyGroup,
  type Group,
  MAX_AMOUNT_PER_FACILITY,
  NULL_KEY,
  overlayWarnings,
  type SensitivityLine,
  type SensitivitySummary,
  stageOfKey,
  type Summary,
  summaryProblems,
  summaryTrustProblems,
  upgradeSummary,
} from "./summary.ts";
export { dataQualityProblems } from "./data_quality.ts";
export {
  type InputRef,
  type Manifest,
  MANIFEST_VERSION,
  manifestProblems,
  manifestTrustProblems,
  type MergedPart,
  type PartitionBy,
  type PartitionRecord,
  type PdModelRecord,
  type PluginRecord,
  RULES_DIFFERENCES_LISTED,
  rulesChangeWarning,
  type RulesDifference,
  rulesDifferences,
  type RulesParameter,
  rulesParameters,
  type RulesRef,
  RUN_STATUS,
  upgradeManifest,
} from "./manifest.ts";
export {
  attachCarryingAmounts,
  CARRYING_AMOUNT_COLUMNS,
  carryingAmounts,
  GROSS_CARRYING_AMOUNT,
} from "./carrying_amounts.ts";
export {
  readFolderParquet,
  readRunFolder,
  type ReadRunOptions,
  readRunSummary,
  type RunFolder,
  RunFolderReadError,
  untrustedReasons,
} from "./read.ts";
export {
  checkOutputDir,
  checkOutputFile,
  checkOutputFolder,
  entryKind,
  makeOutputDir,
  type OutputCheckOptions,
  outputEntry,
  OutputLocationError,
  PROBE_NAME,
} from "./output_path.ts";
export {
  defaultRunId,
  FILE_WRITER,
  type FileWriter,
  openRunFolder,
  type OpenRunFolderOptions,
  type OutputStaging,
  type PendingRunFolder,
  replaceRefusals,
  RUN_ID,
  RunIdError,
  runIdFor,
  type RunJson,
  writeOutputFile,
  writeOutputFolder,
  type WriteOutputOptions,
} from "./write.ts";
