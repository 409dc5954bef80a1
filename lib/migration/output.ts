/**
 * The outputs of an estimated transition matrix (docs/migration.md): the
 * matrix as CSV (the file a rules file's `transition_matrix` can name) and
 * JSON (the same rows, with the method, counts and warnings; also readable
 * as a matrix file), and the lifetime PD table of every grade, written as
 * one folder, whole or not at all.
 *
 * @module
 */
import { writeOutputFolder } from "../run_folder/mod.ts";
import type { TransitionMatrix } from "../transition_matrix.ts";
import type { MigrationEstimate } from "./cohort.ts";
import { lifetimePds } from "./lifetime.ts";

/** The files of a migration output folder. */
export const MIGRATION_FILES = {
  csv: "transition_matrix.csv",
  json: "transition_matrix.json",
  lifetime: "lifetime_pd.csv",
} as const;

/** Where {@link writeMigrationOutputs} wrote each file. */
export interface MigrationOutputs {
  /** The matrix as CSV: `from,<states>` then one row per state. */
  csv: string;
  /** The estimate as JSON (`states`, `rows`, method, counts, warnings). */
  json: string;
  /** `grade,year,cumulative_pd,conditional_pd` for years 1..`years`. */
  lifetime: string;
}

/**
 * A matrix as CSV text, the form `parseMatrixText` reads: a header
 * `from,<state>,...` and one row per state, probabilities written in full
 * (shortest round-trip decimals), so the file reads back to the same
 * numbers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrixCsv } from "./output.ts";
 * assert.equal(
 *   matrixCsv({ states: ["A", "D"], rows: [[0.9, 0.1], [0, 1]] }),
 *   "from,A,D\nA,0.9,0.1\nD,0,1\n",
 * );
 * ```
 */
export function matrixCsv(m: TransitionMatrix): string {
  return [
    ["from", ...m.states].join(","),
    ...m.rows.map((row, i) => [m.states[i], ...row.map(String)].join(",")),
  ].join("\n") + "\n";
}

/**
 * Writes an estimate to the folder `out` (created; refused when it holds
 * other files or is one of `inputs`): {@link MIGRATION_FILES}, the
 * lifetime table over `years` years (default 30).
 */
export async function writeMigrationOutputs(
  estimate: MigrationEstimate,
  out: string,
  opts: { years?: number; inputs?: readonly string[] } = {},
): Promise<MigrationOutputs> {
  const years = opts.years ?? 30;
  const lifetime = lifetimePds(estimate, years);
  const table = [
    "grade,year,cumulative_pd,conditional_pd",
    ...lifetime.slice(0, -1).flatMap((l) =>
      l.cumulative.map((c, y) => `${l.state},${y + 1},${c},${l.conditional[y]}`)
    ),
  ].join("\n") + "\n";
  const { folder } = await writeOutputFolder(
    out,
    Object.values(MIGRATION_FILES),
    async (dir) => {
      await Deno.writeTextFile(
        `${dir}/${MIGRATION_FILES.csv}`,
        matrixCsv(estimate),
      );
      await Deno.writeTextFile(
        `${dir}/${MIGRATION_FILES.json}`,
        JSON.stringify(estimate, null, 2) + "\n",
      );
      await Deno.writeTextFile(`${dir}/${MIGRATION_FILES.lifetime}`, table);
    },
    { inputs: opts.inputs },
  );
  return {
    csv: folder.child(MIGRATION_FILES.csv).href,
    json: folder.child(MIGRATION_FILES.json).href,
    lifetime: folder.child(MIGRATION_FILES.lifetime).href,
  };
}
