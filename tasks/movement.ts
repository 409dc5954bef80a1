/**
 * `deno task movement --from RUN_DIR --to RUN_DIR --out DIR`: the movement
 * between two reporting dates (docs/movement.md). Writes movement.json,
 * movement.parquet, movement_facilities.parquet and movement.html into DIR
 * and prints the loss-allowance reconciliation and any FX warnings.
 *
 * Exit codes: 0 done; 1 the runs cannot be read or compared, or an
 * invariant fails (the message names them); 2 a usage error.
 *
 * @module
 */
import { number, required, TaskCommand } from "./_args.ts";
import { allowanceTable } from "../lib/movement/mod.ts";
import { progressLine, warningLine } from "../lib/run/mod.ts";
import {
  computeMovement,
  readRunFolder,
  writeMovementOutputs,
} from "../lib/mod.ts";

export const command = new TaskCommand({
  command: "deno task movement",
  synopsis: "--from RUN_DIR --to RUN_DIR --out DIR [--tolerance X]",
  flags: `  --from RUN_DIR   run folder of the earlier reporting date
  --to RUN_DIR     run folder of the later reporting date
  --out DIR        folder for movement.json, movement.parquet, movement.html
  --tolerance X    largest difference accepted by the invariants (default 0.005)`,
  options: {
    from: { type: "string" },
    to: { type: "string" },
    out: { type: "string" },
    tolerance: { type: "string" },
  },
  required: ["from", "to", "out"],
});

/** Runs `deno task movement` with `args`; returns the exit code. */
export function main(args: string[]): Promise<number> {
  return command.run(args, async ({ values }) => {
    const { from, to, out } = required(values, "from", "to", "out");
    const tolerance = number("tolerance", values.tolerance, { min: 0 });
    const progress = progressLine();
    try {
      progress.step("read_runs");
      const earlier = await readRunFolder(from);
      const later = await readRunFolder(to);
      const { movement, facilities } = await computeMovement(earlier, later, {
        tolerance,
        onStep: progress.step,
      });
      progress.step("write_outputs");
      const files = await writeMovementOutputs(movement, facilities, out);
      progress.done();
      console.log(allowanceTable(movement));
      for (const w of movement.warnings) console.error(warningLine(w));
      console.log(files.html);
      return 0;
    } catch (e) {
      progress.done();
      throw e;
    }
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
