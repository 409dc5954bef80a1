/**
 * Loading the plugins a rules file lists (`plugins: [{ module, options }]`,
 * docs/plugins.md): each module is imported, its default export (a
 * {@link PluginFactory}) called with the entry's options, and the plugin
 * it returns checked: a string name, unique among the run's plugins, and
 * no key but the known hooks. Every refusal is a `UserError` of kind
 * `input` naming the rules file, the entry and the plugin module, raised
 * before any data is read (`runPortfolio` loads the plugins with the rules).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { UserError } from "../errors.ts";
import type { Rules } from "../rules.ts";
import type { Plugin, PluginFactory } from "./types.ts";

/** The hooks a plugin may implement, in the order a run calls them. */
export const PLUGIN_HOOKS = [
  "afterValidate",
  "afterStaging",
  "afterEcl",
  "onReport",
  "onRunComplete",
] as const;

/** The name of one hook of {@link PLUGIN_HOOKS}. */
export type PluginHook = (typeof PLUGIN_HOOKS)[number];

/** A plugin ready to run, with what the manifest records of it. */
export interface LoadedPlugin {
  /** The plugin its factory built. */
  plugin: Plugin;
  /** The module's path as resolved (absolute). */
  module: string;
  /** SHA-256 of the module file's bytes, lower-case hex. */
  sha256: string;
  /** The options its factory was given. */
  options: Record<string, unknown>;
}

/**
 * Imports, builds and checks the plugins `rules.plugins` lists, in order.
 * Module paths are relative to the directory of `rulesFile`, or absolute.
 * None listed: an empty list, and nothing is imported.
 *
 * @param rules Checked rules (`loadRules`).
 * @param rulesFile The file the rules were read from (for relative module
 *   paths and the messages).
 * @throws {UserError} kind `input`, naming the rules file, the entry
 *   (`plugins[i]`) and the module: a module that cannot be found or
 *   imported, one without a default export or whose default export is not
 *   a function, a factory that throws (its message quoted), a plugin
 *   without a string name, two plugins of one name, a key that is not a
 *   known hook.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadPlugins } from "./loader.ts";
 * import { parseRules } from "../rules.ts";
 *
 * const rules = parseRules(
 *   "reporting_currency: EUR\nproducts: {sme: {repayment: bullet}}\nscenarios: [{name: base, weight: 1, pd_multiplier: [1]}]",
 *   "inline.yaml",
 * );
 * assert.deepEqual(await loadPlugins(rules, "inline.yaml"), []);
 * ```
 */
export async function loadPlugins(
  rules: Rules,
  rulesFile: string,
): Promise<LoadedPlugin[]> {
  const refs = rules.plugins ?? [];
  const loaded: LoadedPlugin[] = [];
  const seen = new Map<string, string>();
  for (const [i, ref] of refs.entries()) {
    const where = `${rulesFile}: plugins[${i}] (module ${ref.module})`;
    const base = resolve(rulesFile, "..");
    const path = isAbsolute(ref.module)
      ? ref.module
      : resolve(base, ref.module);
    const options = ref.options ?? {};
    let bytes: Uint8Array;
    try {
      const info = await Deno.stat(path);
      if (!info.isFile) throw new Error("not a regular file");
      bytes = await Deno.readFile(path);
    } catch (e) {
      throw new UserError(
        "input",
        `${where}: cannot read the plugin module ${path}: ${
          e instanceof Deno.errors.NotFound ? "no such file" : message(e)
        }`,
        { cause: e },
      );
    }
    let mod: Record<string, unknown>;
    try {
      mod = await import(pathToFileURL(path).href);
    } catch (e) {
      throw new UserError(
        "input",
        `${where}: the plugin module cannot be imported: ${message(e)}`,
        { cause: e },
      );
    }
    if (!("default" in mod)) {
      throw new UserError(
        "input",
        `${where}: the plugin module has no default export; it must export default a factory (options) => Plugin (docs/plugins.md)`,
      );
    }
    if (typeof mod.default !== "function") {
      throw new UserError(
        "input",
        `${where}: the plugin module's default export is ${
          describe(mod.default)
        }, not a factory (options) => Plugin (docs/plugins.md)`,
      );
    }
    let plugin: unknown;
    try {
      plugin = await (mod.default as PluginFactory)(structuredClone(options));
    } catch (e) {
      throw new UserError(
        "input",
        `${where}: the plugin refused its options: "${message(e)}"`,
        { cause: e },
      );
    }
    if (typeof plugin !== "object" || plugin === null) {
      throw new UserError(
        "input",
        `${where}: the factory returned ${
          describe(plugin)
        }, not a plugin object with a name and hooks`,
      );
    }
    const p = plugin as Record<string, unknown>;
    if (typeof p.name !== "string" || p.name.trim() === "") {
      throw new UserError(
        "input",
        `${where}: the plugin has no name (key name must be a non-empty string, got ${
          describe(p.name)
        })`,
      );
    }
    const name = p.name;
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      throw new UserError(
        "input",
        `${where}: plugin name ${
          JSON.stringify(name)
        } is already taken by ${earlier}; plugin names must be unique`,
      );
    }
    seen.set(name, `plugins[${i}] (module ${ref.module})`);
    for (const key of Object.keys(p)) {
      if (key === "name") continue;
      if (!(PLUGIN_HOOKS as readonly string[]).includes(key)) {
        throw new UserError(
          "input",
          `${where}: plugin ${name} has unknown hook ${key} (known hooks: ${
            PLUGIN_HOOKS.join(", ")
          })`,
        );
      }
      if (typeof p[key] !== "function" && p[key] !== undefined) {
        throw new UserError(
          "input",
          `${where}: plugin ${name}'s hook ${key} is ${
            describe(p[key])
          }, not a function`,
        );
      }
    }
    loaded.push({
      plugin: p as unknown as Plugin,
      module: path,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      options,
    });
  }
  return loaded;
}

/** An error's message, or the thrown value shown. */
function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A value's kind, for a message. */
function describe(v: unknown): string {
  if (v === undefined) return "undefined";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  const kind = typeof v;
  return `${/^[aeiou]/.test(kind) ? "an" : "a"} ${kind} (${
    String(v).slice(0, 40)
  })`;
}
