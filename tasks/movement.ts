/**
 * `deno task movement --from RUN_DIR --to RUN_DIR --out DIR`: the movement
 * between two reporting dates (docs/movement.md). Writes movement.json,
 * movement.parquet, movement_facilities.parquet and movement.html into DIR
 * and prints the loss-allowance reconciliation and any FX warnings. Exits 1 when the runs
 * cannot be compared or an invariant fails (the message names them), 2 on
 * bad arguments.
 *
 * @module
 */
import { TaskCli } from "./_args.ts";
import {
  allowanceTable,
  computeMovement,
  MovementError,
  writeMovementOutputs,
} from "../lib/movement/mod.ts";
import { readRunFolder, RunFolderReadError } from "../lib/report/run_folder.ts";
import { progressLine, warningLine } from "../lib/run/console.ts";

const USAGE =
  `Usage: deno task movement --from RUN_DIR --to RUN_DIR --out DIR [--tolerance X]

  --from RUN_DIR   run folder of the earlier reporting date
  --to RUN_DIR     run folder of the later reporting date
  --out DIR        folder for movement.json, movement.parquet, movement.html
  --tolerance X    largest difference accepted by the invariants (default 0.005)`;

const cli: TaskCli = new TaskCli(USAGE);
const args = cli.parse({
  from: { type: "string" },
  to: { type: "string" },
  out: { type: "string" },
  tolerance: { type: "string" },
});
if (!args.from || !args.to || !args.out) {
  cli.fail("--from, --to and --out are required");
}
const tolerance = args.tolerance === undefined
  ? undefined
  : Number(args.tolerance);
if (tolerance !== undefined && !(tolerance >= 0)) {
  cli.fail(`--tolerance must be a number >= 0, got ${args.tolerance}`);
}

const progress = progressLine();
try {
  progress.step("read_runs");
  const from = await readRunFolder(args.from);
  const to = await readRunFolder(args.to);
  const { movement, facilities } = await computeMovement(from, to, {
    tolerance,
    onStep: progress.step,
  });
  progress.step("write_outputs");
  const files = await writeMovementOutputs(movement, facilities, args.out);
  progress.done();
  console.log(allowanceTable(movement));
  for (const w of movement.warnings) console.error(warningLine(w));
  console.log(files.html);
} catch (e) {
  progress.done();
  if (e instanceof MovementError || e instanceof RunFolderReadError) {
    console.error(e.message);
    Deno.exit(1);
  }
  throw e;
}
