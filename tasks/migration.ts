/**
 * `deno task migration --book DIR --method cohort|duration --out DIR
 * [--years N]`: an annual rating transition matrix estimated from a
 * book's quarterly snapshots (`deno task generate --periods P` writes
 * them; docs/migration.md, methodology §13), validated, and written with
 * its lifetime PDs as the folder DIR, whole or not at all:
 * `transition_matrix.csv` (the file a rules file's `transition_matrix`
 * can name), `transition_matrix.json` (with the counts and, for the
 * duration method, the exposures and the generator) and `lifetime_pd.csv`.
 *
 * Exit codes (lib/errors.ts): 0 done; 1 the estimate fails its validation
 * or a duration estimate counts moves out of a state with no time in it
 * (nothing written); 2 a usage error, a refused --out (checked before
 * anything is read), a --book that is not a folder, a folder without
 * snapshots, a snapshot that is empty, not a file, without the columns a
 * history needs, with a row of another reporting date, a loan twice or a
 * rating outside --states, reporting dates less than a month apart; 3
 * the outputs cannot be written; 4 another live process is writing DIR.
 *
 * @module
 */
import { number, oneOf, required, TaskCommand, UsageError } from "./_args.ts";
import { checkOutputFolder } from "../lib/run_folder/mod.ts";
import {
  DEFAULT_STATE,
  estimateCohort,
  estimateDuration,
  LIFETIME_YEARS,
  matrixWarnings,
  MIGRATION_FILES,
  ratingHistory,
  readBookSnapshots,
  snapshotFiles,
  UserError,
  validateMatrix,
  writeMigrationOutputs,
} from "../lib/mod.ts";

export const command = new TaskCommand({
  command: "deno task migration",
  synopsis:
    "--book DIR --method cohort|duration --out DIR [--years N] [--states A,B,...,D] [--default-state D]",
  flags:
    `  --book DIR      a folder of quarterly snapshots portfolio_<date>.parquet
                  or .csv, each with loan_id, reporting_date and rating
                  (deno task generate --periods P writes them)
  --method M      cohort (one-year windows) or duration (generator matrix,
                  matrix exponential)
  --out DIR       folder for transition_matrix.csv, transition_matrix.json
                  and lifetime_pd.csv
  --years N       years of the lifetime PD table (default 30, at most ${LIFETIME_YEARS})
  --states LIST   the states in order, best grade first, the default state
                  last (e.g. AAA,AA,A,BBB,BB,B,CCC,D); a rating outside the
                  list is refused naming its file and line. Without it: the
                  ratings found, sorted by their text (R01 < ... < R11),
                  then the default state; agency-style grades need it
  --default-state S  the default state's label (default ${DEFAULT_STATE}; the
                  last of --states when given)`,
  options: {
    book: { type: "string" },
    method: { type: "string" },
    out: { type: "string" },
    years: { type: "string" },
    states: { type: "string" },
    "default-state": { type: "string" },
  },
  required: ["book", "method", "out"],
});

/** Runs `deno task migration` with `args`; returns the exit code. */
export function main(args: string[]): Promise<number> {
  return command.run(args, async ({ values }) => {
    const { book, out } = required(values, "book", "method", "out");
    const method = oneOf("method", values.method, ["cohort", "duration"])!;
    const years = number("years", values.years, { whole: true, min: 1 }) ?? 30;
    if (years > LIFETIME_YEARS) {
      throw new UsageError(
        `--years must be at most ${LIFETIME_YEARS} (the longest remaining term), got ${years}`,
      );
    }
    const states = values.states === undefined
      ? undefined
      : values.states.split(",").map((x) => x.trim());
    if (states !== undefined) {
      if (states.length < 2 || states.some((x) => x === "")) {
        throw new UsageError(
          `--states must list at least two labels, comma-separated, the default state last (e.g. A,B,C,D), got ${
            JSON.stringify(values.states)
          }`,
        );
      }
      const twice = states.find((x, i) => states.indexOf(x) !== i);
      if (twice !== undefined) {
        throw new UsageError(`--states lists ${twice} twice`);
      }
    }
    const given = values["default-state"];
    if (given !== undefined && given.trim() === "") {
      throw new UsageError("--default-state must be a label, got nothing");
    }
    if (
      states !== undefined && given !== undefined && states.at(-1) !== given
    ) {
      throw new UsageError(
        `--default-state ${given} must be the last of --states (${
          states.join(",")
        })`,
      );
    }
    // Where the outputs go is checked before anything is read.
    await checkOutputFolder(out, Object.values(MIGRATION_FILES), {
      inputs: [book],
    });
    let info: Deno.FileInfo | undefined;
    try {
      info = await Deno.stat(book);
    } catch {
      info = undefined;
    }
    if (info === undefined || !info.isDirectory) {
      throw new UserError(
        "input",
        `--book ${book}: ${
          info === undefined ? "no such folder" : "is a file, not a folder"
        }: give the folder of the snapshots portfolio_<YYYY-MM-DD>.parquet or .csv (deno task generate --periods 8 --out DIR writes one)`,
      );
    }
    const files = await snapshotFiles(book);
    if (files.length < 2) {
      throw new UserError(
        "input",
        `${book}: ${
          files.length === 0 ? "no snapshot" : "one snapshot only"
        } (portfolio_<YYYY-MM-DD>.parquet or .csv); migration needs at least two reporting dates (deno task generate --periods 8 writes eight)`,
      );
    }
    const history = ratingHistory(
      await readBookSnapshots(files, states === undefined ? {} : { states }),
      {
        ...(states === undefined ? {} : { states }),
        ...(given === undefined ? {} : { defaultState: given }),
      },
    );
    const first = history.dates[0], last = history.dates.at(-1)!;
    const months = (d: string) =>
      12 * Number(d.slice(0, 4)) + Number(d.slice(5, 7));
    if (method === "cohort" && months(last) - months(first) < 12) {
      throw new UserError(
        "input",
        `${book}: the snapshots span ${first} to ${last}, less than a year: the cohort method needs dates twelve months apart (use --method duration, or more periods)`,
      );
    }
    const estimate = method === "cohort"
      ? estimateCohort(history)
      : estimateDuration(history);
    const problems = validateMatrix(estimate);
    if (problems.length > 0) {
      throw new UserError(
        "check",
        `The ${method} estimate from ${book} does not validate (nothing written):\n${
          problems.map((p) => `  - ${p.message}`).join("\n")
        }`,
      );
    }
    // A state the estimator kept in place is warned once, by the estimator.
    const warnings = [
      ...(history.warnings ?? []),
      ...estimate.warnings,
      ...matrixWarnings(estimate).filter((w) =>
        !estimate.warnings.some((e) => e.startsWith(w.split(" is ")[0] + ":"))
      ),
    ];
    const written = await writeMigrationOutputs(
      { ...estimate, warnings },
      out,
      {
        years,
        inputs: [book],
      },
    );
    const D = estimate.states.length - 1;
    console.log(
      `${method} estimate from ${files.length} snapshots (${first} to ${last}), ${history.loan.length} observations, states ${
        estimate.states.join(", ")
      }`,
    );
    console.log(
      `one-year PD by grade: ${
        estimate.states.slice(0, -1).map((s, i) =>
          `${s} ${(100 * estimate.rows[i][D]).toFixed(2)}%`
        ).join(", ")
      }`,
    );
    for (const w of warnings) console.log(`warning: ${w}`);
    console.log(written.csv);
    console.log(written.json);
    console.log(written.lifetime);
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
