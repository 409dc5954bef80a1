/**
 * The close file (`config/close.yaml`, docs/close.md): which entities'
 * portfolios are closed at which reporting dates, with which rules and FX
 * tables, where the outputs go, and each step's retries and time budget.
 * Paths are relative to the close file (or absolute). A file with problems
 * is refused before anything runs, listing every problem with its key
 * path.
 *
 * @module
 */
import { dirname, isAbsolute, join, resolve } from "node:path";
import { z } from "zod";
import {
  checkDocument,
  mapping,
  readConfigFile,
  readYaml,
} from "../_config_file.ts";
import { UserError } from "../errors.ts";
import { fxFileFor } from "../fx.ts";
import { projectPath } from "../project.ts";

/** `YYYY-MM-DD` that is a real calendar date. */
const DATE = z.string().regex(
  /^\d{4}-\d{2}-\d{2}$/,
  "must be a date YYYY-MM-DD",
)
  .refine((d) => {
    const t = new Date(`${d}T00:00:00Z`);
    return !Number.isNaN(t.getTime()) && t.toISOString().slice(0, 10) === d;
  }, "must be a real calendar date");

/** An entity's name: it becomes part of run ids and folder names. */
const NAME = z.string().regex(
  /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
  "must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit (it names run folders)",
);

/** Most retries a step may be given. */
export const MAX_RETRIES = 10;
/** Longest time budget a step may be given, in seconds (a day). */
export const MAX_TIME_BUDGET_S = 86_400;

/** The close file's schema (zod): its keys, types and limits. */
export const CLOSE_SCHEMA = mapping({
  out: z.string().min(1).optional(),
  rules: z.string().min(1),
  retries: z.number().int().min(0).max(MAX_RETRIES).default(1),
  time_budget_s: z.number().positive().max(MAX_TIME_BUDGET_S).default(1800),
  dates: z.array(DATE).min(1),
  entities: z.array(mapping({
    name: NAME,
    rules: z.string().min(1).optional(),
    portfolios: z.record(DATE, z.string().min(1)),
    fx: z.record(DATE, z.string().min(1)).optional(),
  })).min(1),
});

/** One entity (a portfolio closed at each date) of a close. */
export interface CloseEntity {
  /** Its name: run ids are `<name>-<date>`. */
  name: string;
  /** The rules file its runs use (absolute). */
  rules: string;
  /** Its portfolio file at each reporting date (absolute). */
  portfolios: Record<string, string>;
  /**
   * Its FX table at each reporting date (absolute): as the close file
   * says, else the one a run would choose (`fxFileFor`: beside the
   * portfolio, then the project's `config/`).
   */
  fx: Record<string, string>;
}

/** A close file, read and checked, every path absolute. */
export interface CloseConfig {
  /** The close file. */
  path: string;
  /** The close's output folder. @default `data/close/<file stem>` of the project */
  out: string;
  /** How many times a failed step is retried (output or internal failures only). */
  retries: number;
  /** Each step's time budget, in seconds. */
  timeBudgetS: number;
  /** The reporting dates, in ascending order. */
  dates: string[];
  /** The entities, in the file's order. */
  entities: CloseEntity[];
}

/**
 * Reads and checks a close file.
 *
 * @param path The close file (YAML).
 * @throws {UserError} of kind `input` naming the file and every key at fault.
 */
export async function loadCloseConfig(path: string): Promise<CloseConfig> {
  const file = resolve(path);
  const fail = (problems: string[]): never => {
    throw new UserError(
      "input",
      `Close file ${path}: ${problems.join("; ")}`,
    );
  };
  const read = await readConfigFile(file);
  if ("problem" in read) fail([read.problem]);
  const text = new TextDecoder().decode((read as { bytes: Uint8Array }).bytes);
  const parsed = readYaml(text);
  if ("syntaxError" in parsed) fail([parsed.syntaxError]);
  const checked = checkDocument(CLOSE_SCHEMA, (parsed as { doc: unknown }).doc);
  if (checked.value === undefined) {
    fail(checked.issues.map((i) => `${i.path}: ${i.message}`));
  }
  const doc = checked.value!;
  const problems: string[] = [];
  const dates = [...doc.dates];
  for (let i = 1; i < dates.length; i++) {
    if (dates[i] <= dates[i - 1]) {
      problems.push(
        `dates[${i}]: ${dates[i]} must come after ${
          dates[i - 1]
        } (list the dates in ascending order, each once)`,
      );
    }
  }
  const base = dirname(file);
  const abs = (p: string) => isAbsolute(p) ? p : join(base, p);
  const names = new Set<string>();
  const entities: CloseEntity[] = [];
  for (const [i, e] of doc.entities.entries()) {
    if (names.has(e.name)) {
      problems.push(`entities[${i}].name: ${e.name} is listed twice`);
    }
    names.add(e.name);
    for (const d of dates) {
      if (!(d in e.portfolios)) {
        problems.push(
          `entities[${i}].portfolios: no portfolio for ${d} (every entity needs one per date of dates)`,
        );
      }
    }
    for (
      const d of [...Object.keys(e.portfolios), ...Object.keys(e.fx ?? {})]
    ) {
      if (!dates.includes(d)) {
        problems.push(
          `entities[${i}]: ${d} is not one of dates (${dates.join(", ")})`,
        );
      }
    }
    const portfolios: Record<string, string> = {};
    const fx: Record<string, string> = {};
    for (const d of dates) {
      if (!(d in e.portfolios)) continue;
      portfolios[d] = abs(e.portfolios[d]);
      fx[d] = e.fx?.[d] !== undefined
        ? abs(e.fx[d])
        : await fxFileFor(d, [dirname(portfolios[d]), projectPath("config")]);
    }
    entities.push({
      name: e.name,
      rules: abs(e.rules ?? doc.rules),
      portfolios,
      fx,
    });
  }
  if (problems.length > 0) fail(problems);
  const stem = file.split("/").pop()!.replace(/\.ya?ml$/i, "");
  return {
    path: file,
    out: doc.out !== undefined
      ? abs(doc.out)
      : projectPath(`data/close/${stem}`),
    retries: doc.retries,
    timeBudgetS: doc.time_budget_s,
    dates,
    entities,
  };
}
