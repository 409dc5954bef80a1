/**
 * Reading what the journal posts: a movement folder written by `deno task
 * movement` (`movement.json`, `movement_facilities.parquet`), and, because
 * the movement holds no legal entity or region, the entity of each
 * facility from the two runs' `loan_results.parquet` (the folders
 * `movement.json` records): the `legal_entity` column when both runs have
 * one, else `region` (methodology §1), at the later date, or the earlier
 * one for a facility derecognised in the period.
 *
 * @module
 */
import { join } from "node:path";
import pl from "nodejs-polars";
import type { LazyFrame } from "../frame.ts";
import { UserError } from "../errors.ts";
import { COLUMNS, type Movement, SIMPLIFIED } from "../movement/mod.ts";
import { JOURNAL_TOLERANCE } from "./journal.ts";
import { MOVEMENT_FILES, readRunFolder } from "../run_folder/mod.ts";

/** A movement folder as the journal reads it. */
export interface MovementFolder {
  /** The folder. */
  dir: string;
  /** `movement.json`. */
  movement: Movement;
  /** `movement_facilities.parquet`: the facility-level lines. */
  facilities: LazyFrame;
}

const FACILITY_COLUMNS = [
  "loan_id",
  "product",
  "currency_from",
  "currency_to",
  "stage_from",
  "stage_to",
  "simplified_from",
  "simplified_to",
];

/**
 * Reads a movement folder, checking that it holds a movement.
 *
 * @throws {UserError} of kind `input` naming the folder and the file
 *   missing or not a movement.
 */
export async function readMovementFolder(dir: string): Promise<MovementFolder> {
  const file = (name: string) => join(dir, name);
  const refuse = (detail: string) =>
    new UserError(
      "input",
      `Cannot read movement folder ${dir}: ${detail} (give the --out folder of deno task movement)`,
    );
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(dir)) {
    throw new UserError(
      "input",
      `Cannot read movement folder ${dir}: the journal reads a movement folder on a local disk, not one in object storage; copy the folder to a local disk and give that path`,
    );
  }
  let text: string;
  try {
    text = await Deno.readTextFile(file(MOVEMENT_FILES.json));
  } catch (e) {
    throw refuse(
      e instanceof Deno.errors.NotFound
        ? `no ${MOVEMENT_FILES.json}`
        : `${MOVEMENT_FILES.json}: ${(e as Error).message}`,
    );
  }
  let movement: Movement;
  try {
    movement = JSON.parse(text);
  } catch (e) {
    throw refuse(`${MOVEMENT_FILES.json} is not JSON: ${(e as Error).message}`);
  }
  const lines = movement?.allowance?.lines;
  if (
    !Array.isArray(lines) || !lines.some((l) => l?.key === "opening") ||
    !lines.some((l) => l?.key === "closing") ||
    typeof movement.reporting_currency !== "string" ||
    typeof movement.to?.reporting_date !== "string" ||
    typeof movement.from?.dir !== "string" ||
    typeof movement.to?.dir !== "string"
  ) {
    throw refuse(
      `${MOVEMENT_FILES.json} lacks allowance.lines (opening, closing), reporting_currency or the runs (from, to)`,
    );
  }
  checkMovementFigures(movement, dir);
  checkMovementAddsUp(movement, dir);
  const path = file(MOVEMENT_FILES.facilities);
  try {
    await Deno.stat(path);
  } catch {
    throw refuse(`no ${MOVEMENT_FILES.facilities}`);
  }
  const facilities = pl.scanParquet(path);
  const names = facilities.columns;
  const missing = FACILITY_COLUMNS.filter((c) => !names.includes(c));
  if (missing.length > 0) {
    throw refuse(
      `${MOVEMENT_FILES.facilities} lacks column(s) ${missing.join(", ")}`,
    );
  }
  return { dir, movement, facilities };
}

/**
 * Checks that every figure of `movement.json`'s allowance reconciliation
 * (each line's `total` and `by_stage` values) is a finite number, so that
 * no text, `null` or infinity reaches the sums.
 *
 * @throws {UserError} of kind `input` naming the key and the value.
 */
export function checkMovementFigures(movement: Movement, dir: string): void {
  const bad = (key: string, v: unknown) =>
    new UserError(
      "input",
      `Cannot read movement folder ${dir}: in ${MOVEMENT_FILES.json}, ${key} is ${
        JSON.stringify(v) ?? String(v)
      }, not a finite number; write the movement again with deno task movement`,
    );
  movement.allowance.lines.forEach((l, i) => {
    const at = `allowance.lines[${i}] (${l?.key})`;
    if (typeof l.total !== "number" || !Number.isFinite(l.total)) {
      throw bad(`${at}.total`, l.total);
    }
    const byStage = l.by_stage as Record<string, unknown> | undefined;
    if (byStage === undefined) return;
    if (byStage === null || typeof byStage !== "object") {
      throw bad(`${at}.by_stage`, byStage);
    }
    for (const [c, v] of Object.entries(byStage)) {
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw bad(`${at}.by_stage.${c}`, v);
      }
    }
  });
}

/**
 * Checks that each stage column of `movement.json`'s allowance
 * reconciliation, and its total, adds up: opening plus every line equals
 * closing within half a cent (the movement's default tolerance), so that
 * the journal's rounding adjustment cannot absorb a figure changed by hand.
 *
 * @throws {UserError} of kind `check` naming the column and both figures.
 */
export function checkMovementAddsUp(movement: Movement, dir: string): void {
  const lines = movement.allowance.lines;
  const opening = lines.find((l) => l.key === "opening")!;
  const closing = lines.find((l) => l.key === "closing")!;
  const between = lines.filter((l) =>
    l.key !== "opening" && l.key !== "closing"
  );
  const keys = [...COLUMNS, "total"] as const;
  for (const c of keys) {
    const of = (l: (typeof lines)[number]) =>
      Number(c === "total" ? l.total : l.by_stage?.[c] ?? 0);
    const sum = Math.sumPrecise([of(opening), ...between.map(of)]);
    const found = of(closing);
    if (!(Math.abs(sum - found) <= JOURNAL_TOLERANCE)) {
      const name = c === "total"
        ? "all stages"
        : c === SIMPLIFIED
        ? "the simplified column"
        : `stage ${c}`;
      throw new UserError(
        "check",
        `Cannot post the journal of ${dir}: in ${MOVEMENT_FILES.json}, the allowance of ${name} does not add up: opening ${
          of(opening)
        } plus its lines is ${sum}, but the closing is ${found} (off by ${
          Number((found - sum).toFixed(6))
        }, tolerance ${JOURNAL_TOLERANCE}); write the movement again with deno task movement`,
      );
    }
  }
}

/**
 * Checks that `movement.json`'s header matches the run it names on side
 * `side`: its `run_id` and `reporting_date`, and the movement's
 * `reporting_currency`, must be those of the run's `summary.json`, so a
 * header edited by hand (a date, a currency, a folder swapped) cannot
 * label or date the journal wrongly.
 *
 * @throws {UserError} of kind `input` naming the movement.json key, its
 *   value and the run's.
 */
export function checkMovementRun(
  movement: Movement,
  side: "from" | "to",
  summary: {
    run_id?: unknown;
    reporting_date?: unknown;
    reporting_currency?: unknown;
  },
): void {
  const ref = movement[side] as unknown as Record<string, unknown>;
  const pairs: [string, unknown, unknown][] = [
    [`${side}.run_id`, ref.run_id, summary.run_id],
    [`${side}.reporting_date`, ref.reporting_date, summary.reporting_date],
    [
      "reporting_currency",
      movement.reporting_currency,
      summary.reporting_currency,
    ],
  ];
  for (const [key, mine, run] of pairs) {
    if (mine !== run) {
      throw new UserError(
        "input",
        `${MOVEMENT_FILES.json}: ${key} is ${
          JSON.stringify(mine)
        }, but the run ${movement[side].dir} has ${
          JSON.stringify(run)
        } (summary.json); write the movement again with deno task movement`,
      );
    }
  }
}

/** The entity of each facility, and which column it came from. */
export interface FacilityEntities {
  /** `loan_id`, `entity`. */
  entities: LazyFrame;
  /** `legal_entity` when both runs have the column, else `region`. */
  source: "legal_entity" | "region";
}

/**
 * The entity of each facility of a movement, from its two runs' loan
 * results (the movement itself holds none).
 *
 * @throws {UserError} of kind `input` naming the run folder that cannot
 *   be read.
 */
export async function movementEntities(
  movement: Movement,
): Promise<FacilityEntities> {
  const read = async (side: "from" | "to") => {
    const dir = movement[side].dir;
    let run;
    try {
      run = await readRunFolder(dir, { trusted: true });
    } catch (e) {
      throw new UserError(
        "input",
        `The journal reads each facility's entity from the runs of the movement, and run folder ${dir} (recorded in movement.json) cannot be read: ${
          (e as Error).message
        }`,
        { cause: e },
      );
    }
    checkMovementRun(movement, side, run.summary);
    return run.results;
  };
  const [from, to] = [await read("from"), await read("to")];
  const has = (f: LazyFrame, c: string) => f.columns.includes(c);
  const source = has(from, "legal_entity") && has(to, "legal_entity")
    ? "legal_entity"
    : "region";
  const pick = (f: LazyFrame, name: string) =>
    f.select(pl.col("loan_id"), pl.col(source).cast(pl.Utf8).alias(name));
  const entities = pick(to, "entity_to")
    .join(pick(from, "entity_from"), {
      on: "loan_id",
      how: "full",
      coalesce: true,
    })
    .select(
      pl.col("loan_id"),
      pl.col("entity_to").fillNull(pl.col("entity_from")).alias("entity"),
    );
  return { entities, source };
}
