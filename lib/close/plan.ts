/**
 * The steps of a close and their dependencies (docs/close.md): for each
 * entity and each reporting date up to the one closed, a `run` step (run
 * id `<entity>-<date>`); for each date after the first, a `movement` step
 * against the previous date's run of the same entity; then per entity a
 * star-schema `export` and a `dashboard` over all its dates. Steps are
 * listed in an order that runs every step after its dependencies.
 *
 * @module
 */
import { join } from "node:path";
import { UserError } from "../errors.ts";
import type { CloseConfig } from "./config.ts";

/** What a step does. */
export type StepKind = "run" | "movement" | "export" | "dashboard";

/** One step of a close. */
export interface PlannedStep {
  /** Unique id: `run:<entity>-<date>`, `movement:<entity>-<from>_<to>`, `export:<entity>`, `dashboard:<entity>`. */
  id: string;
  /** What the step does. */
  kind: StepKind;
  /** The entity it belongs to. */
  entity: string;
  /** The ids of the steps whose outputs it reads. */
  deps: string[];
  /** The folder (run, movement, export) or file (dashboard) it writes. */
  output: string;
  /** For a run: its reporting date. For a movement: the later date. */
  date?: string;
  /** For a movement: the earlier date. */
  from?: string;
}

/** Where a close's outputs go, under its output folder. */
export const CLOSE_LAYOUT = {
  /** Run folders, `runs/<entity>-<date>/`. */
  runs: "runs",
  /** Movement folders, `movements/<entity>-<from>_<to>/`. */
  movements: "movements",
  /** Star-schema exports, `exports/<entity>/`. */
  exports: "exports",
  /** Dashboards, `dashboards/<entity>.html`. */
  dashboards: "dashboards",
  /** The close's record. */
  state: "close.json",
  /** The close's status page. */
  page: "close.html",
} as const;

/** The run id of an entity's run at a date. */
export const runIdOf = (entity: string, date: string): string =>
  `${entity}-${date}`;

/**
 * The steps of a close, dependencies first.
 *
 * @param config The close file, read.
 * @param out The output folder.
 * @param date Close up to this date (one of the file's dates); every date
 *   when absent.
 * @throws {UserError} of kind `usage` when `date` is not one of the dates.
 */
export function planClose(
  config: CloseConfig,
  out: string,
  date?: string,
): PlannedStep[] {
  let dates = config.dates;
  if (date !== undefined) {
    const at = dates.indexOf(date);
    if (at < 0) {
      throw new UserError(
        "usage",
        `--date ${date} is not one of the dates of ${config.path} (${
          dates.join(", ")
        })`,
      );
    }
    dates = dates.slice(0, at + 1);
  }
  const steps: PlannedStep[] = [];
  for (const e of config.entities) {
    const runs: string[] = [];
    const movements: string[] = [];
    dates.forEach((d, i) => {
      const id = `run:${runIdOf(e.name, d)}`;
      steps.push({
        id,
        kind: "run",
        entity: e.name,
        date: d,
        deps: [],
        output: join(out, CLOSE_LAYOUT.runs, runIdOf(e.name, d)),
      });
      runs.push(id);
      if (i === 0) return;
      const from = dates[i - 1];
      const name = `${e.name}-${from}_${d}`;
      steps.push({
        id: `movement:${name}`,
        kind: "movement",
        entity: e.name,
        from,
        date: d,
        deps: [`run:${runIdOf(e.name, from)}`, id],
        output: join(out, CLOSE_LAYOUT.movements, name),
      });
      movements.push(`movement:${name}`);
    });
    steps.push({
      id: `export:${e.name}`,
      kind: "export",
      entity: e.name,
      deps: [...runs],
      output: join(out, CLOSE_LAYOUT.exports, e.name),
    });
    steps.push({
      id: `dashboard:${e.name}`,
      kind: "dashboard",
      entity: e.name,
      deps: [...runs, ...movements],
      output: join(out, CLOSE_LAYOUT.dashboards, `${e.name}.html`),
    });
  }
  return steps;
}
