/**
 * Run-export plugin: after a run is published (`onRunComplete`), copies its
 * folder to `<to>/<run_id>/`, whole or not at all: the files are copied
 * under a hidden temporary name in `<to>` (`.<run_id>.export-<pid>-<hex>`)
 * and renamed last, so a reader of `<to>` never sees half a run; a failed
 * copy removes its temporary folder. A target that exists is refused (the
 * export never replaces a run), naming it.
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

/** Whether `path` exists (without following a final symbolic link). */
async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Copies run folder `runDir` to `<to>/<runId>/` whole or not at all, and
 * returns the target.
 *
 * @throws {UserError} kind `usage` when the target exists; kind `output`
 *   when the copy fails (its temporary folder removed).
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
  if (await exists(target)) {
    throw new UserError(
      "usage",
      `Plugin ${NAME}: onRunComplete: ${target} exists; the export never replaces a run (remove it or choose another options.to)`,
    );
  }
  const hex = crypto.getRandomValues(new Uint8Array(6))
    .reduce((s, b) => s + b.toString(16).padStart(2, "0"), "");
  const temp = join(root, `.${runId}.export-${Deno.pid}-${hex}`);
  try {
    await Deno.mkdir(root, { recursive: true });
    await copyTree(runDir, temp);
    if (await exists(target)) {
      throw new UserError(
        "usage",
        `Plugin ${NAME}: onRunComplete: ${target} appeared while the run was copied; the export never replaces a run`,
      );
    }
    await Deno.rename(temp, target);
  } catch (e) {
    await Deno.remove(temp, { recursive: true }).catch(() => {});
    if (e instanceof UserError) throw e;
    throw new UserError(
      "output",
      `Plugin ${NAME}: onRunComplete: cannot copy ${runDir} to ${target}: ${
        (e as Error).message
      }; nothing was left under ${target}`,
      { cause: e },
    );
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
