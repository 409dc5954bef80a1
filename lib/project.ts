/**
 * The project's own files (rules, FX tables, the sample book), found from
 * where the library lives rather than from the working directory: a
 * notebook runs in `notebooks/`, a task in the project root, a test
 * anywhere, and each gets the same default files.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The project root: the folder that holds `lib/`. */
const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

/**
 * The absolute path of a file of the project, given relative to the
 * project root.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isAbsolute } from "node:path";
 * import { projectPath } from "./project.ts";
 *
 * const rules = projectPath("config/ifrs9_rules.yaml");
 * assert.ok(isAbsolute(rules));
 * assert.ok(rules.endsWith("/config/ifrs9_rules.yaml"));
 * // The same file whatever the working directory:
 * assert.equal((await Deno.stat(rules)).isFile, true);
 * ```
 */
export function projectPath(relative: string): string {
  return join(ROOT, relative);
}
