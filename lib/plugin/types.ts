/**
 * The plugin contract: what a bank adds without forking the library. A
 * plugin is a module whose default export is a {@link PluginFactory}; the
 * rules file lists plugins in order (`plugins: [{ module, options }]`), and
 * a run calls each plugin's hooks in that order at fixed points:
 *
 * | hook            | when                                   | gets                  | may return            |
 * |-----------------|----------------------------------------|-----------------------|-----------------------|
 * | `afterValidate` | the valid rows are known               | the valid rows, lazy  | a replacement frame   |
 * | `afterStaging`  | each chunk is staged (methodology §3)  | the staged rows, lazy | a replacement frame   |
 * | `afterEcl`      | each chunk's ECL is computed (§4-§9)   | the results, lazy     | a replacement frame   |
 * | `onReport`      | `report.html` is rendered              | the context           | a section             |
 * | `onRunComplete` | the run folder is published            | the context, with the folder, summary and manifest | nothing |
 *
 * Returning nothing keeps the frame. Every hook may be async.
 *
 * @module
 */
import type { LazyFrame } from "../frame.ts";
import type { Rules } from "../rules.ts";
import type { Manifest, Summary } from "../run_folder/mod.ts";

/** What every hook is told about the run. */
export interface PluginContext {
  /** The run's id. */
  runId: string;
  /** The portfolio's reporting date, `YYYY-MM-DD`. */
  reportingDate: string;
  /** The rules the run uses (checked, read-only). */
  rules: Rules;
  /** The portfolio file the run reads. */
  portfolio: string;
}

/** What `onRunComplete` is told besides the {@link PluginContext}. */
export interface CompletedRunContext extends PluginContext {
  /** The published run folder. */
  runDir: string;
  /** Its `summary.json`. */
  summary: Summary;
  /** Its `manifest.json`. */
  manifest: Manifest;
}

/** A section a plugin adds to `report.html`: a title and trusted HTML. */
export interface ReportSection {
  /** The section's heading. */
  title: string;
  /** Its body, HTML the plugin escaped itself. */
  html: string;
}

/** A hook that sees a lazy frame and may replace it. */
export type FrameHook = (
  frame: LazyFrame,
  context: PluginContext,
) => LazyFrame | void | Promise<LazyFrame | void>;

/** A plugin: a name and the hooks it implements. */
export interface Plugin {
  /** Unique among the run's plugins; names it in errors and the manifest. */
  name: string;
  /** After validation, on the valid rows. */
  afterValidate?: FrameHook;
  /** After staging, on each chunk of staged rows. */
  afterStaging?: FrameHook;
  /** After the ECL, on each chunk of loan results. */
  afterEcl?: FrameHook;
  /** While the report is rendered: a section for `report.html`. */
  onReport?: (
    context: PluginContext,
  ) => ReportSection | void | Promise<ReportSection | void>;
  /** After the run folder is published. */
  onRunComplete?: (context: CompletedRunContext) => void | Promise<void>;
}

/**
 * A plugin module's default export: builds the plugin from the options the
 * rules file gives it, or throws (a `UserError` of kind `input`, or any
 * error) to refuse them; the rules then fail to load, naming the plugin.
 */
export type PluginFactory = (
  options: Record<string, unknown>,
) => Plugin | Promise<Plugin>;
