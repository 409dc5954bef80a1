/**
 * `deno task clean --out DIR [--older-than HOURS] [--dry-run]`: removes the
 * stale staging folders in DIR (a runs folder such as `data/runs`, or the
 * folder of a movement or export, or a generator's --out), the hidden
 * `.<id>.partial-<pid>-<12 hex>` folders of killed runs (about 139 MB per
 * million loans) and of killed generations (`.generate.partial-…`, about
 * 231 MB per million loans), the hidden files of killed whole-file
 * writes, and the
 * `.<id>.replaced-<pid>-<12 hex>` copies a publish could not remove, and
 * lists each with its size. Hidden entries of any other form are someone
 * else's and not touched; a replaced copy without a pid in its name (from
 * an earlier version) is listed as kept, to be removed by hand.
 *
 * The rule is `removeStaleStaging`'s (lib/run_folder/stale.ts), the one a
 * run applies to its own output folder at its start: an entry whose
 * writer process is still running is never removed; the others when last
 * modified more than HOURS ago (default `STALE_AFTER_HOURS`, 24; 0 for any
 * age). Nothing else in DIR is touched. `--dry-run` lists what would be
 * removed and removes nothing.
 *
 * Exit codes (lib/errors.ts): 0 done (also when there was nothing to
 * remove); 2 a usage error, or DIR is not a folder (or a file stands among
 * its folders); 3 an entry could not be
 * removed (each named, with the error).
 *
 * @module
 */
import { number, required, TaskCommand } from "./_args.ts";
import {
  entryKind,
  formatBytes,
  outputEntry,
  removeStaleStaging,
  STALE_AFTER_HOURS,
} from "../lib/run_folder/mod.ts";
import { UserError } from "../lib/mod.ts";

export const command = new TaskCommand({
  command: "deno task clean",
  synopsis: "--out DIR [--older-than HOURS] [--dry-run]",
  flags:
    `  --out DIR            folder holding run folders (or movement / export folders)
  --older-than HOURS   remove only entries last modified more than HOURS ago
                       (default ${STALE_AFTER_HOURS}; 0 for any age); an entry
                       whose writer process runs is never removed
  --dry-run            list what would be removed, remove nothing`,
  options: {
    out: { type: "string" },
    "older-than": { type: "string" },
    "dry-run": { type: "boolean", default: false },
  },
  required: ["out"],
});

/** Runs `deno task clean` with `args`; returns the exit code. */
export function main(args: string[]): Promise<number> {
  return command.run(args, async ({ values }) => {
    const { out } = required(values, "out");
    const olderThanHours = number("older-than", values["older-than"], {
      min: 0,
    });
    const dryRun = values["dry-run"];
    // A path the file system refuses (a file among its folders) is named.
    const info = await outputEntry(out, { verb: "clean" });
    if (info === null) {
      throw new UserError("usage", `Cannot clean ${out}: no such folder`);
    }
    if (!info.isDirectory) {
      throw new UserError(
        "usage",
        `Cannot clean ${out}: it is ${
          entryKind(info)
        }, not a folder; give the folder runs are written to (--out of deno task run)`,
      );
    }
    const sweep = await removeStaleStaging(out, { olderThanHours, dryRun });
    const verb = dryRun ? "would remove" : "removed";
    for (const e of sweep.removed) {
      console.log(
        `${verb} ${e.path} (${
          formatBytes(e.bytes)
        }, last modified ${e.modified.toISOString()})`,
      );
    }
    for (const e of sweep.kept) {
      console.log(`kept ${e.path} (${formatBytes(e.bytes)}): ${e.reason}`);
    }
    const bytes = sweep.removed.reduce((a, e) => a + e.bytes, 0);
    console.log(
      sweep.removed.length === 0
        ? `nothing to remove in ${out}`
        : `${verb} ${sweep.removed.length} stale staging ${
          sweep.removed.length === 1 ? "entry" : "entries"
        }, ${formatBytes(bytes)}`,
    );
    if (sweep.failed.length > 0) {
      throw new UserError(
        "output",
        `Cannot remove ${
          sweep.failed.map((e) => `${e.path} (${e.error})`).join("; ")
        }`,
      );
    }
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
