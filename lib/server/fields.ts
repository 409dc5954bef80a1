/**
 * The request fields every door of the run server checks the same way,
 * defined once: the HTTP app (`app.ts`, which adds OpenAPI examples) and
 * the MCP door (`mcp.ts`) build their bodies and tool inputs from these.
 *
 * - {@link idField}: a run id or movement id, the name of the job's folder
 *   (`RUN_ID` of lib/run_folder/write.ts), at most {@link MAX_ID_LENGTH}
 *   characters, not ending in `.failed` (that marks failed runs).
 * - {@link pathField}: a path a request names, 1 to {@link MAX_PATH_LENGTH}
 *   characters; what it may point at is `paths.ts`' check, made before a
 *   job is queued.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { idField, MAX_ID_LENGTH, pathField } from "./fields.ts";
 *
 * const runId = idField("run id");
 * assert.equal(runId.safeParse("q4-2025").success, true);
 * assert.equal(runId.safeParse("q4.failed").success, false);
 * assert.equal(runId.safeParse("x".repeat(MAX_ID_LENGTH + 1)).success, false);
 * assert.equal(pathField("The portfolio").safeParse("").success, false);
 * ```
 *
 * @module
 */
import { z } from "zod";
import { FAILED_SUFFIX, RUN_ID } from "../run_folder/mod.ts";
import { MAX_PATH_LENGTH } from "./paths.ts";

export { MAX_PATH_LENGTH };

/**
 * The longest run id or movement id accepted: a folder name, leaving room
 * under the file system's 255 bytes per name for the suffixes the run
 * folder adds (`.failed`, a hidden partial twin).
 */
export const MAX_ID_LENGTH = 128;

/**
 * A run id or movement id as a request gives it: letters, digits, `.`,
 * `_` and `-`, not starting with `.`, at most {@link MAX_ID_LENGTH}
 * characters, not ending in `.failed`.
 *
 * @param what The field as messages name it: `run id`, `movement id`.
 */
export function idField(what: string) {
  return z.string().max(MAX_ID_LENGTH).regex(
    RUN_ID,
    `a ${what} uses letters, digits, '.', '_' and '-', not starting with '.'`,
  ).refine((id) => !id.endsWith(FAILED_SUFFIX), {
    message: `a ${what} cannot end in ${FAILED_SUFFIX} (it marks failed runs)`,
  });
}

/**
 * A path a request names: 1 to {@link MAX_PATH_LENGTH} characters (where
 * it may lead is checked by `paths.ts`).
 *
 * @param description What the path is, for the schema's description.
 */
export function pathField(description: string) {
  return z.string().min(1).max(MAX_PATH_LENGTH).describe(description);
}
