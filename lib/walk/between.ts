/**
 * The ECL walk between two run folders as the doors want it
 * (docs/movement.md §6): both runs' inputs re-read at once (validation
 * runs on Polars' threads), then the walk; when the walk cannot span the
 * two runs for a reason of the user's (inputs moved or changed since the
 * runs, plugins, another methodology version, reporting currencies), the
 * movement stands without it and the reason is returned to be recorded,
 * unless `strict`. A walk that does not reproduce a run is a bug and is
 * never skipped.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import type { RunFolder } from "../run_folder/mod.ts";
import { readWalkInputs } from "./inputs.ts";
import { computeWalk, type Walk, type WalkOptions } from "./walk.ts";

/** What {@link walkBetween} gives: the walk, or why it was skipped. */
export interface WalkOutcome {
  /** The walk; null when skipped. */
  walk: Walk | null;
  /** Why the walk was skipped; null when it was computed. */
  skipped: string | null;
}

/**
 * The walk from run `earlier` to run `later`, or the reason it was
 * skipped (see the module doc).
 *
 * @param strict Refuse instead of skipping (`deno task movement --walk`).
 * @throws {UserError} with `strict`, or of kind `internal` always.
 */
export async function walkBetween(
  earlier: RunFolder,
  later: RunFolder,
  opts: WalkOptions & { strict?: boolean } = {},
): Promise<WalkOutcome> {
  try {
    const [fromInputs, toInputs] = await Promise.all([
      readWalkInputs(earlier),
      readWalkInputs(later),
    ]);
    const walk = await computeWalk(
      { inputs: fromInputs, run: earlier },
      { inputs: toInputs, run: later },
      opts,
    );
    return { walk, skipped: null };
  } catch (e) {
    if (opts.strict || !(e instanceof UserError) || e.kind === "internal") {
      throw e;
    }
    return { walk: null, skipped: e.message };
  }
}
