/**
 * `deno task close --config PATH [--date YYYY-MM-DD] [--out DIR]`: the
 * quarter-end close (docs/close.md). For each entity of the close file and
 * each reporting date up to `--date` (every date by default): the run
 * (`<entity>-<date>`), the movement against the previous date's run, the
 * star-schema export and the dashboard over all dates. Finished steps
 * whose inputs are unchanged are skipped, so a rerun after a failure or a
 * kill resumes where it stopped. Writes `close.json` and `close.html` into
 * the output folder (the file's `out`, or `--out`).
 *
 * Exit codes (lib/errors.ts): 0 every step succeeded or was skipped; 1 a
 * step failed a check (a reject rate above the limit, a movement
 * invariant); else the first failed step's: 2 a bad input or close file,
 * 3 outputs that cannot be written or a step over its time budget, 4
 * busy (another close holds the output folder's lock, `.close.lock`; its
 * pid is named), 70 a bug. The message names every failed step.
 *
 * @module
 */
import { TaskCommand, UsageError } from "./_args.ts";
import { closeFailure, runClose } from "../lib/close/mod.ts";

export const command = new TaskCommand({
  command: "deno task close",
  synopsis: "--config PATH [--date YYYY-MM-DD] [--out DIR]",
  flags:
    `  --config PATH       the close file (YAML; config/close.yaml is a sample)
  --date YYYY-MM-DD   close up to this date, one of the file's dates
                      (default: every date)
  --out DIR           output folder (default: the file's out)`,
  options: {
    config: { type: "string" },
    date: { type: "string" },
    out: { type: "string" },
  },
  required: ["config"],
});

/** Runs `deno task close` with `args`; returns the exit code. */
export function main(args: string[]): Promise<number> {
  return command.run(args, async ({ values }) => {
    if (values.date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(values.date)) {
      throw new UsageError(`--date must be YYYY-MM-DD, got ${values.date}`);
    }
    const result = await runClose({
      config: values.config!,
      date: values.date,
      out: values.out,
      onStepEnd: (r) =>
        console.error(
          `${r.id}: ${r.status}${
            r.attempts > 1 ? ` after ${r.attempts} attempts` : ""
          } (${r.seconds.toFixed(1)} s)${r.error ? `: ${r.error}` : ""}`,
        ),
    });
    const failure = closeFailure(result);
    if (failure) throw failure;
    console.log(result.stateFile);
    console.log(result.page);
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
