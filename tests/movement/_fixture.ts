/**
 * Hand-made run folders for the movement tests: tests/report/_run_fixture.ts
 * writes the run folder, and the products on the simplified approach are
 * added to its `summary.json` (`simplified_products`, which every run
 * writes), so a test can put receivables on the simplified approach.
 *
 * @module
 */
import { type FixtureRun, writeFixtureRun } from "../report/_run_fixture.ts";

/** A fixture run, with the products on the simplified approach. */
export interface MovementFixtureRun extends FixtureRun {
  /** Written as summary.json `simplified_products`. @default [] */
  simplifiedProducts?: string[];
}

/** Writes the run folder into `dir` and returns `dir`. */
export async function writeMovementRun(
  dir: string,
  run: MovementFixtureRun,
): Promise<string> {
  await writeFixtureRun(dir, run);
  const file = `${dir}/summary.json`;
  const summary = JSON.parse(await Deno.readTextFile(file));
  summary.simplified_products = run.simplifiedProducts ?? [];
  await Deno.writeTextFile(file, JSON.stringify(summary, null, 2));
  return dir;
}
