/**
 * Calling the plugins' hooks (docs/plugins.md): in the rules' order, each
 * awaited; a frame hook that returns nothing keeps the frame, one that
 * returns a frame replaces it, and the frame after every plugin must still
 * hold each column it was given with the same type (the next step reads
 * them: the engine's inputs after `afterValidate`, `stage` and
 * `stage_reason` after `afterStaging`, the loan-level results of
 * methodology §9 after `afterEcl`), else it is refused naming the column
 * and the plugin. Whatever a hook throws becomes a {@link PluginError}
 * `plugin <name> failed in <hook>: <message>`, which fails the run.
 *
 * @module
 */
import { type FailureKind, UserError } from "../errors.ts";
import { type DataType, type LazyFrame, typeName } from "../frame.ts";
import type {
  CompletedRunContext,
  PluginContext,
  ReportSection,
} from "./types.ts";
import type { LoadedPlugin } from "./loader.ts";

/** The hooks that see and may replace a frame. */
export type FrameHookName = "afterValidate" | "afterStaging" | "afterEcl";

/** What reads the frame after each frame hook, for the messages. */
const NEXT_STEP: Record<FrameHookName, string> = {
  afterValidate: "staging",
  afterStaging: "the ECL computation",
  afterEcl: "the loan results and summary",
};

/**
 * A plugin failed in a hook, or returned what the run cannot use. Its
 * kind is the thrown `UserError`'s, else `input` (the plugin is an input
 * of the run, named in the rules file).
 */
export class PluginError extends UserError {
  /** The plugin's name. */
  readonly plugin: string;
  /** The hook it failed in. */
  readonly hook: string;

  /**
   * A failure of plugin `plugin` in `hook`.
   *
   * @param plugin The plugin's name.
   * @param hook The hook it failed in.
   * @param message The whole message.
   * @param kind The kind of failure. @default "input"
   * @param cause What the hook threw.
   */
  constructor(
    plugin: string,
    hook: string,
    message: string,
    kind: FailureKind = "input",
    cause?: unknown,
  ) {
    super(kind, message, { cause });
    this.name = "PluginError";
    this.plugin = plugin;
    this.hook = hook;
  }
}

/** `plugin <name> failed in <hook>: <message>` for what a hook threw. */
function failed(name: string, hook: string, e: unknown): PluginError {
  if (e instanceof PluginError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new PluginError(
    name,
    hook,
    `plugin ${name} failed in ${hook}: ${msg}`,
    e instanceof UserError ? e.kind : "input",
    e,
  );
}

/** Column types of a lazy frame (nothing but the schema is computed). */
async function schemaOf(frame: LazyFrame): Promise<Record<string, DataType>> {
  return (await frame.head(0).collect()).schema as Record<string, DataType>;
}

/**
 * Runs `hook` of every plugin that has it on `frame`, in order, and
 * returns the frame the last one left. After each replacement the frame
 * must keep every column of the frame the hooks were given, with its type.
 *
 * @throws {PluginError} when a hook throws, returns something that is not
 *   a lazy frame, or drops or retypes a column.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { runFrameHooks } from "./hooks.ts";
 * import type { LoadedPlugin } from "./loader.ts";
 * import type { PluginContext } from "./types.ts";
 *
 * const double: LoadedPlugin = {
 *   plugin: { name: "double", afterEcl: (f) => f.withColumns(pl.col("ecl").mul(2)) },
 *   module: "/x/double.ts", sha256: "", options: {},
 * };
 * const frame = pl.DataFrame({ ecl: [1.5] }).lazy();
 * const out = await runFrameHooks([double], "afterEcl", frame, {} as PluginContext);
 * assert.deepEqual((await out.collect()).getColumn("ecl").toArray(), [3]);
 * ```
 */
export async function runFrameHooks(
  plugins: readonly LoadedPlugin[],
  hook: FrameHookName,
  frame: LazyFrame,
  context: PluginContext,
): Promise<LazyFrame> {
  const users = plugins.filter((p) => typeof p.plugin[hook] === "function");
  if (users.length === 0) return frame;
  const required = await schemaOf(frame);
  let current = frame;
  for (const { plugin } of users) {
    let out: LazyFrame | void;
    try {
      out = await plugin[hook]!.call(plugin, current, context);
    } catch (e) {
      throw failed(plugin.name, hook, e);
    }
    if (out === undefined || out === null) continue;
    if (!isLazyFrame(out)) {
      throw new PluginError(
        plugin.name,
        hook,
        `plugin ${plugin.name} failed in ${hook}: it returned ${
          typeof (out as { getColumn?: unknown }).getColumn === "function"
            ? "a DataFrame"
            : typeof out
        }, not a LazyFrame (return frame.lazy(), or nothing to keep the frame)`,
      );
    }
    let schema: Record<string, DataType>;
    try {
      schema = await schemaOf(out);
    } catch (e) {
      throw failed(plugin.name, hook, e);
    }
    for (const [column, type] of Object.entries(required)) {
      const got = schema[column];
      if (got === undefined) {
        throw new PluginError(
          plugin.name,
          hook,
          `plugin ${plugin.name} is refused in ${hook}: its frame drops column ${column}, which ${
            NEXT_STEP[hook]
          } reads`,
        );
      }
      if (!got.equals(type)) {
        throw new PluginError(
          plugin.name,
          hook,
          `plugin ${plugin.name} is refused in ${hook}: its frame changes column ${column} from ${
            typeName(type)
          } to ${typeName(got)}, which ${NEXT_STEP[hook]} cannot read`,
        );
      }
    }
    current = out;
  }
  return current;
}

/** Whether `v` is a nodejs-polars lazy frame. */
function isLazyFrame(v: unknown): v is LazyFrame {
  return typeof v === "object" && v !== null &&
    typeof (v as LazyFrame).collect === "function" &&
    typeof (v as LazyFrame).collectSync === "function" &&
    typeof (v as LazyFrame).head === "function";
}

/**
 * The sections the plugins' `onReport` hooks give, in order; a hook that
 * returns nothing adds none.
 *
 * @throws {PluginError} when a hook throws or returns a section without a
 *   string title and html.
 */
export async function runReportHooks(
  plugins: readonly LoadedPlugin[],
  context: PluginContext,
): Promise<ReportSection[]> {
  const sections: ReportSection[] = [];
  for (const { plugin } of plugins) {
    if (typeof plugin.onReport !== "function") continue;
    let out: ReportSection | void;
    try {
      out = await plugin.onReport(context);
    } catch (e) {
      throw failed(plugin.name, "onReport", e);
    }
    if (out === undefined || out === null) continue;
    if (typeof out.title !== "string" || typeof out.html !== "string") {
      throw new PluginError(
        plugin.name,
        "onReport",
        `plugin ${plugin.name} failed in onReport: it returned a section without a string title and html`,
      );
    }
    sections.push({ title: out.title, html: out.html });
  }
  return sections;
}

/**
 * Calls every plugin's `onRunComplete`, in order, after the run folder is
 * published.
 *
 * @throws {PluginError} naming the plugin when a hook throws (the run
 *   folder stays published).
 */
export async function runCompleteHooks(
  plugins: readonly LoadedPlugin[],
  context: CompletedRunContext,
): Promise<void> {
  for (const { plugin } of plugins) {
    if (typeof plugin.onRunComplete !== "function") continue;
    try {
      await plugin.onRunComplete(context);
    } catch (e) {
      throw failed(plugin.name, "onRunComplete", e);
    }
  }
}
