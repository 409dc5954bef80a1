/**
 * Run-export plugin: after a run is published (`onRunComplete`), copies its
 * folder to `<to>/<run_id>/`, whole or not at all: the files are copied
 * under a hidden temporary name in `<to>` (`.<run_id>.export-<pid>-<hex>`)
 * and renamed last, so a reader of `<to>` never sees half a run; a failed
 * copy removes its temporary folder. A target that exists and is an earlier
 * export of a run of the same id (it holds a `manifest.json` whose `run_id`
 * is the run's: the quarter-end close reruns a run with `replace: true`
 * when its inputs change) is replaced whole: the new copy is made under the
 * temporary name, the old export renamed aside, the new one renamed in and
 * the old one removed. Any other target is refused, naming it.
 *
 * Local folders only for now: an `s3://` destination is refused when the
 * rules load ("object storage is not configured yet") until the storage
 * issue lands; any other URL scheme is refused too.
 *
 * ```yaml
 * plugins:
 *   - module: ../plugins/export_run.ts
 *     options: { to: /mnt/archive/ifrs9 }
 * ```
 *
 * @module
 */
import { join, resolve } from "node:path";
import { z } from "zod";
import {
  type CompletedRunContext,
  entryExists,
  type Plugin,
  UserError,
} from "../lib/mod.ts";
import { parseOptions } from "./_common.ts";

/** The plugin's name in errors and the manifest. */
export const NAME = "export_run";

/** The options the rules file gives the plugin. */
export const ExportRunOptions = z.object({
  /** The folder run folders are copied into (absolute or relative to the working folder). */
  to: z.string().min(1, "must be the folder to copy run folders into")
    .refine(
      (to) => !/^s3:\/\//i.test(to),
      "object storage is not configured yet: give a local folder (s3:// comes with the storage issue)",
    )
    .refine(
      (to) => /^s3:\/\//i.test(to) || !/^[a-z][a-z0-9+.-]*:\/\//i.test(to),
      "must be a local folder, not a URL",
    ),
}).strict();

/** Copies the folder `from` into the new folder `to`, recursively. */
async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to);
  for await (const entry of Deno.readDir(from)) {
    const src = join(from, entry.name), dst = join(to, entry.name);
    if (entry.isDirectory) await copyTree(src, dst);
    else if (entry.isFile) await Deno.copyFile(src, dst);
    else {
      throw new UserError(
        "output",
        `Plugin ${NAME}: onRunComplete: ${src} is neither a file nor a folder; run folders hold only those`,
      );
    }
  }
}

/**
 * Whether `path` is a folder holding a `manifest.json` that is a JSON object
 * whose `run_id` is `runId` (an earlier export of the same run).
 */
async function isExportOf(path: string, runId: string): Promise<boolean> {
  try {
    if (!(await Deno.lstat(path)).isDirectory) return false;
    const value = JSON.parse(
      await Deno.readTextFile(join(path, "manifest.json")),
    );
    return typeof value === "object" && value !== null &&
      value.run_id === runId;
  } catch {
    return false;
  }
}

/** The refusal of a target that is not an earlier export of run `runId`. */
function foreignTarget(target: string, runId: string, when: string) {
  return new UserError(
    "usage",
    `Plugin ${NAME}: onRunComplete: ${target} ${when} and is not an earlier export of run ${runId} (no manifest.json with run_id ${
      JSON.stringify(runId)
    }); the export replaces only its own exports (remove it or choose another options.to)`,
  );
}

/**
 * Copies run folder `runDir` to `<to>/<runId>/` whole or not at all, and
 * returns the target. An earlier export of the same run id at the target is
 * replaced whole; the old copy is removed only once the new one is in place.
 *
 * @throws {UserError} kind `usage` when the target exists and is not an
 *   earlier export of run `runId`; kind `output` when the copy fails (its
 *   temporary folder removed, any earlier export left in place).
 */
export async function exportRun(
  runDir: string,
  runId: string,
  to: string,
): Promise<string> {
  const root = resolve(to);
  const target = join(root, runId);
  if (resolve(runDir) === target) {
    throw new UserError(
      "usage",
      `Plugin ${NAME}: options.to ${to} is the folder the run was written to; give another folder`,
    );
  }
  if (await entryExists(target) && !(await isExportOf(target, runId))) {
    throw foreignTarget(target, runId, "exists");
  }
  const hex = crypto.getRandomValues(new Uint8Array(6))
    .reduce((s, b) => s + b.toString(16).padStart(2, "0"), "");
  const temp = join(root, `.${runId}.export-${Deno.pid}-${hex}`);
  const old = join(root, `.${runId}.replaced-${Deno.pid}-${hex}`);
  let replaced = false;
  try {
    await Deno.mkdir(root, { recursive: true });
    await copyTree(runDir, temp);
    if (await entryExists(target)) {
      if (!(await isExportOf(target, runId))) {
        throw foreignTarget(target, runId, "appeared while the run was copied");
      }
      await Deno.rename(target, old);
      replaced = true;
    }
    await Deno.rename(temp, target);
  } catch (e) {
    await Deno.remove(temp, { recursive: true }).catch(() => {});
    if (replaced && !(await entryExists(target))) {
      await Deno.rename(old, target).catch(() => {});
    }
    if (e instanceof UserError) throw e;
    throw new UserError(
      "output",
      `Plugin ${NAME}: onRunComplete: cannot copy ${runDir} to ${target}: ${
        (e as Error).message
      }; nothing new was left under ${target}`,
      { cause: e },
    );
  }
  if (replaced) {
    try {
      await Deno.remove(old, { recursive: true });
    } catch (e) {
      throw new UserError(
        "output",
        `Plugin ${NAME}: onRunComplete: ${target} was replaced but the earlier export moved to ${old} cannot be removed: ${
          (e as Error).message
        }`,
        { cause: e },
      );
    }
  }
  return target;
}

/** Builds the run-export plugin from its options. */
export default function exportRunPlugin(
  options: Record<string, unknown>,
): Plugin {
  const opts = parseOptions(NAME, ExportRunOptions, options);
  return {
    name: NAME,
    async onRunComplete(context: CompletedRunContext) {
      await exportRun(context.runDir, context.runId, opts.to);
    },
  };
}
