/**
 * Plugins (docs/plugins.md): the contract a plugin module implements
 * (`types.ts`), loading the modules a rules file lists (`loader.ts`) and
 * calling their hooks during a run (`hooks.ts`).
 *
 * @module
 */

export type {
  CompletedRunContext,
  FrameHook,
  Plugin,
  PluginContext,
  PluginFactory,
  ReportSection,
} from "./types.ts";
export {
  type LoadedPlugin,
  loadPlugins,
  PLUGIN_HOOKS,
  type PluginHook,
} from "./loader.ts";
export {
  type FrameHookName,
  PluginError,
  runCompleteHooks,
  runFrameHooks,
  runReportHooks,
} from "./hooks.ts";
