/**
 * `deno task movement --from RUN_DIR --to RUN_DIR --out DIR`: the movement
 * between two reporting dates (docs/movement.md). Writes movement.json,
 * movement.parquet, movement_facilities.parquet, movement.html and (unless
 * `--no-walk`) movement_walk.parquet, the ECL walk by driver, as the
 * folder DIR, whole or not at all, and prints the loss-allowance
 * reconciliation, the ECL walk and its warnings (FX, a change of methodology
 * or of the rules, naming the parameters that differ). A walk that cannot
 * be computed from the user's inputs is skipped, its reason printed, on the
 * page and in movement.json (`attribution: { skipped }`), unless `--walk`
 * (then exit 2); a walk that does not reproduce a run is an internal error
 * (exit 70) either way: a bug, never a silent skip.
 *
 * DIR is checked before any run is read: a file, a folder holding other
 * files (a run folder among them), either run's folder or a place inside
 * a run folder is refused. Only complete runs are read: a `.failed` or
 * hidden staging folder, a folder without `manifest.json` or whose
 * manifest is not `complete`, a run without facilities or reporting date
 * is refused, naming the folder. `--tolerance` is at least
 * `MIN_MOVEMENT_TOLERANCE` (1e-6: floating-point sums differ by rounding
 * alone) and at most `MAX_MOVEMENT_TOLERANCE` (1,000,000 in the reporting
 * currency).
 *
 * Exit codes (lib/errors.ts): 0 done; 1 an invariant fails (the message
 * names it); 2 a usage error (a flag, --tolerance out of range, --out
 * refused) or runs that cannot be read or compared (the message names the
 * folder); 3 the outputs cannot be written (disk full, no permission),
 * nothing half-written left under DIR; 4 another live process is writing
 * DIR.
 *
 * @module
 */
import { number, required, TaskCommand, UsageError } from "./_args.ts";
import {
  allowanceTable,
  MAX_MOVEMENT_TOLERANCE,
  MIN_MOVEMENT_TOLERANCE,
} from "../lib/movement/mod.ts";
import { progressLine, warningLine } from "../lib/run/mod.ts";
import { checkOutputFolder, MOVEMENT_FILES } from "../lib/run_folder/mod.ts";
import {
  computeMovement,
  readRunFolder,
  type Walk,
  walkBetween,
  walkTable,
  writeMovementOutputs,
} from "../lib/mod.ts";

export const command = new TaskCommand({
  command: "deno task movement",
  synopsis:
    "--from RUN_DIR --to RUN_DIR --out DIR [--tolerance X] [--walk | --no-walk]",
  flags: `  --from RUN_DIR   run folder of the earlier reporting date
  --to RUN_DIR     run folder of the later reporting date
  --out DIR        folder for movement.json, movement.parquet, movement.html
                   (RUN_DIR and DIR may be s3://bucket/prefix URLs, docs/storage.md)
  --tolerance X    largest difference accepted by the invariants, in the
                   reporting currency (default 0.005, at most 1000000)
  --walk           require the ECL walk by driver: refuse (exit 2) when a
                   run's inputs are missing or changed since it ran, or the
                   walk cannot span the two runs (reporting currencies, an
                   FX rate); by default the walk is then skipped, the reason
                   printed, on the page and in movement.json
                   (attribution.skipped)
  --no-walk        skip the ECL walk (it re-reads both runs' inputs and
                   re-runs the engine)`,
  options: {
    from: { type: "string" },
    to: { type: "string" },
    out: { type: "string" },
    tolerance: { type: "string" },
    walk: { type: "boolean", default: false },
    "no-walk": { type: "boolean", default: false },
  },
  required: ["from", "to", "out"],
});

/** Runs `deno task movement` with `args`; returns the exit code. */
export function main(args: string[]): Promise<number> {
  return command.run(args, async ({ values }) => {
    const { from, to, out } = required(values, "from", "to", "out");
    if (values.walk && values["no-walk"]) {
      throw new UsageError(
        "--walk and --no-walk contradict each other; give one",
      );
    }
    const tolerance = number("tolerance", values.tolerance, {
      min: MIN_MOVEMENT_TOLERANCE,
    });
    if (tolerance !== undefined && tolerance > MAX_MOVEMENT_TOLERANCE) {
      throw new UsageError(
        `--tolerance must be at most ${MAX_MOVEMENT_TOLERANCE} (in the reporting currency; the default is 0.005), got ${values.tolerance}`,
      );
    }
    // Where the outputs go is checked before any run is read.
    await checkOutputFolder(out, Object.values(MOVEMENT_FILES), {
      inputs: [from, to],
    });
    const progress = progressLine();
    try {
      progress.step("read_runs");
      const earlier = await readRunFolder(from, { trusted: true });
      const later = await readRunFolder(to, { trusted: true });
      const { movement, facilities } = await computeMovement(earlier, later, {
        tolerance,
        onStep: progress.step,
      });
      // The ECL walk by driver (docs/movement.md, "ECL walk"), unless
      // --no-walk: both runs' inputs re-read, the engine re-run.
      let walk: Walk | null = null;
      let walkSkipped: string | null = null;
      if (!values["no-walk"]) {
        // A part holds some facilities of its book: the walk would re-run
        // the whole input against them (docs/partitions.md).
        const part = [[from, earlier], [to, later]].find(([, r]) =>
          typeof r === "object" && r.manifest?.partition !== undefined
        );
        if (part !== undefined) {
          throw new UsageError(
            `${
              part[0]
            } is one part of a partitioned run: the ECL walk needs whole runs; merge the parts first (deno task merge), or use --no-walk`,
          );
        }
        progress.step("walk_inputs");
        ({ walk, skipped: walkSkipped } = await walkBetween(earlier, later, {
          strict: values.walk,
          onStep: progress.step,
        }));
      }
      progress.step("write_outputs");
      const files = await writeMovementOutputs(movement, facilities, out, {
        walk,
        walkSkipped,
      });
      progress.done();
      console.log(allowanceTable(movement));
      if (walk !== null) console.log("\n" + walkTable(walk));
      for (const w of movement.warnings) console.error(warningLine(w));
      if (walkSkipped !== null) {
        console.error(warningLine(`ECL walk skipped: ${walkSkipped}`));
      }
      console.log(files.html);
      return 0;
    } catch (e) {
      progress.done();
      throw e;
    }
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
