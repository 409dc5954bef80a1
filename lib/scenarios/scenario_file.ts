/**
 * The scenario file (`config/scenarios_<date>.yaml`, docs/scenarios.md §1):
 * the forward-looking information of IFRS 9 §5.5.17(c) and B5.5.42 as data.
 * Per scenario a probability weight (IFRS 9 §5.5.17(a), methodology §8) and
 * yearly paths of named macro variables per region; the observed history of
 * the same variables; and the source of every series (a publication read,
 * or `illustrative: true` with why).
 *
 * The file is checked as a whole before use and every problem is listed,
 * one line each, with its key path (`scenarios[1].paths.ES.gdp_growth.values.2027`):
 * weights in [0, 1] summing to 1, years contiguous and the forecast horizon
 * starting the year after the last observed one, every scenario holding
 * every variable for every region, every value within the plausible bounds
 * of its variable ({@link VARIABLE_BOUNDS}), every source named and known.
 *
 * Units: every variable is in percent (2.1 is 2.1%), growth rates year on
 * year, the unemployment rate and the policy rate as annual averages or
 * year-end levels as the source gives them (the file says which).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { UserError } from "../errors.ts";
import { VARIABLE_BOUNDS } from "../scenario_source.ts";
import {
  checkDocument,
  isMapping,
  mapping,
  readConfigFile,
  readYaml,
  shown,
} from "../_config_file.ts";

/** The macro variables every region must carry, in percent. */
export const REQUIRED_VARIABLES = [
  "gdp_growth",
  "unemployment_rate",
  "house_price_growth",
  "policy_rate",
] as const;

// Plausible bounds of each variable: lib/scenario_source.ts (the rules
// loader checks macro stresses against them without importing this area).
export { VARIABLE_BOUNDS };

/** A macro variable the file may hold: a key of {@link VARIABLE_BOUNDS}. */
export type MacroVariable = string;

/**
 * Longest forecast horizon a scenario may give: 30 years. IFRS 9 B5.5.50
 * lets an entity extrapolate beyond the years it has reasonable and
 * supportable forecasts for; nobody forecasts macro variables further, and
 * the rules' `scenario_reversion_years` carries the adjustment beyond.
 */
export const MAX_HORIZON_YEARS = 30;

/**
 * Longest observed history: 100 years. Satellite models use 15 to 30
 * years; a longer series is a wrong file.
 */
export const MAX_HISTORY_YEARS = 100;

/** Most scenarios a file may weigh: 20, the rules file's `MAX_SCENARIOS`. */
export const MAX_FILE_SCENARIOS = 20;

/** Earliest and latest year a series may hold. */
export const YEAR_RANGE = [1900, 2200] as const;

/** Most problems of a scenario file listed one by one, then "and K more". */
export const MAX_LISTED_FILE_PROBLEMS = 20;

/** Tolerance of the weights' sum (methodology §8, as in the rules file). */
export const WEIGHT_TOLERANCE = 1e-9;

/** One problem of a scenario file. */
export interface ScenarioIssue {
  /** Key path such as `scenarios[1].paths.ES.gdp_growth.values.2027`. */
  path: string;
  /** What is wrong there, and what the file holds. */
  message: string;
}

/** Where a series' figures come from. */
export interface MacroSource {
  /** The publication: issuer, title, edition. */
  publication: string;
  /** Its publication date (YYYY-MM-DD or YYYY-MM). */
  date?: string;
  /** Where it was read. */
  url?: string;
  /** What was taken from it, and how. */
  note?: string;
}

/** One yearly series of a variable in a region, contiguous years. */
export interface MacroSeries {
  /** The years, contiguous and increasing. */
  years: number[];
  /** The value of each year, in percent. */
  values: number[];
  /** Key of {@link ScenarioFile.sources}. */
  source: string;
  /** True when the figures are not from the source's publication as read. */
  illustrative: boolean;
  /** Why the figures are illustrative (given exactly when they are). */
  why?: string;
}

/** The series of every variable in every region: `paths[region][variable]`. */
export type MacroPaths = Record<string, Record<MacroVariable, MacroSeries>>;

/** One weighted scenario of the file. */
export interface MacroScenario {
  /** Lower-case name, as the rules file's scenario names. */
  name: string;
  /** Probability weight; the weights sum to 1. */
  weight: number;
  /** What the scenario tells. */
  narrative?: string;
  /** Its paths over the forecast horizon. */
  paths: MacroPaths;
}

/** One region of the file. */
export interface MacroRegion {
  /** Its name. */
  name: string;
  /**
   * The suffix of the generator's segment keys for the region
   * (`<product>_<suffix>`, docs/generator.md), lower case.
   */
  segment_suffix: string;
}

/** A checked scenario file. */
export interface ScenarioFile {
  /** The file it was read from. */
  file: string;
  /** SHA-256 (hex) of its bytes. */
  sha256: string;
  /** The reporting date the forecasts are made at (YYYY-MM-DD). */
  reporting_date: string;
  /** The regions, by code (`ES`, `MX`, ...). */
  regions: Record<string, MacroRegion>;
  /** The variables every region carries, in the file's order. */
  variables: MacroVariable[];
  /** The sources, by key. */
  sources: Record<string, MacroSource>;
  /** Observed history; all series share {@link history_years}. */
  history: MacroPaths;
  /** The observed years, contiguous. */
  history_years: number[];
  /** The forecast years, contiguous, starting after the last observed one. */
  horizon: number[];
  /** The scenarios, in the file's order. */
  scenarios: MacroScenario[];
}

/**
 * Thrown when a scenario file breaks one or more rules; lists all of them,
 * one line each with its key path.
 */
export class ScenarioFileError extends UserError {
  /**
   * The file `file` with every problem found in it.
   *
   * @param file The scenario file.
   * @param issues Every problem, each at its key path.
   */
  constructor(readonly file: string, readonly issues: ScenarioIssue[]) {
    super(
      "input",
      `Cannot load scenario file ${file}: ${issues.length} problem${
        issues.length === 1 ? "" : "s"
      }\n` +
        issues.slice(0, MAX_LISTED_FILE_PROBLEMS).map((i) =>
          `  - key ${i.path}: ${i.message}`
        ).join("\n") +
        (issues.length > MAX_LISTED_FILE_PROBLEMS
          ? `\n  - and ${
            issues.length - MAX_LISTED_FILE_PROBLEMS
          } more problem(s)`
          : ""),
    );
    this.name = "ScenarioFileError";
  }
}

const text = z.string().min(1);

const seriesSchema = mapping({
  source: text,
  illustrative: z.boolean().optional(),
  why: text.optional(),
  // Year keys are checked by checkSeries (a clear message per key).
  values: z.record(z.string(), z.number()),
});

const pathsSchema = z.record(z.string(), z.record(z.string(), seriesSchema));

const fileSchema = mapping({
  scenario_file_version: z.literal(1),
  reporting_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, {
    error: (issue) => `must be a date YYYY-MM-DD, got ${shown(issue.input)}`,
  }).refine(isCalendarDate, {
    error: (issue) => `is not a calendar date, got ${shown(issue.input)}`,
    abort: true,
  }).refine((d) => d.slice(5) === "12-31", {
    error: (issue) =>
      `must be a year end (YYYY-12-31): forecast year y is the calendar year reporting year + y (docs/scenarios.md §1), got ${
        shown(issue.input)
      }`,
  }),
  description: z.string().optional(),
  units: z.string().optional(),
  // Region codes are checked by checkScenarioFile (one bounded message).
  regions: z.record(
    z.string(),
    mapping({
      name: text,
      segment_suffix: z.string().regex(/^[a-z0-9_]+$/),
    }),
  ),
  sources: z.record(
    z.string(),
    mapping({
      publication: text,
      date: z.string().regex(/^\d{4}-\d{2}(-\d{2})?$/).optional(),
      url: text.optional(),
      note: text.optional(),
    }),
  ),
  history: pathsSchema,
  scenarios: z.array(mapping({
    name: z.string().regex(/^[a-z][a-z0-9_]*$/, {
      error: "must start with a lower-case letter and hold only a-z, 0-9, _",
    }),
    weight: z.number().min(0).max(1),
    narrative: z.string().optional(),
    paths: pathsSchema,
  })).min(1).max(MAX_FILE_SCENARIOS, {
    error: (issue) =>
      `must hold at most ${MAX_FILE_SCENARIOS} scenarios (MAX_FILE_SCENARIOS), got ${
        Array.isArray(issue.input) ? issue.input.length : "more"
      }`,
  }),
});

/** Whether `d` (YYYY-MM-DD) is a date of the calendar (not 2025-02-30). */
function isCalendarDate(d: string): boolean {
  const t = new Date(`${d}T00:00:00Z`);
  return !Number.isNaN(t.getTime()) && t.toISOString().slice(0, 10) === d;
}

type RawFile = z.output<typeof fileSchema>;
type RawSeries = z.output<typeof seriesSchema>;

/** Issues of one series; its years and values when they are usable. */
function checkSeries(
  raw: RawSeries,
  path: string,
  variable: string,
  sources: Record<string, unknown>,
  issues: ScenarioIssue[],
): MacroSeries | undefined {
  const before = issues.length;
  if (!(raw.source in sources)) {
    issues.push({
      path: `${path}.source`,
      message: `names no entry of sources (known: ${
        Object.keys(sources).join(", ")
      }), got ${shown(raw.source)}`,
    });
  }
  if (raw.illustrative === true && raw.why === undefined) {
    issues.push({
      path: `${path}.why`,
      message: "is required when illustrative is true: say why",
    });
  }
  if (raw.illustrative !== true && raw.why !== undefined) {
    issues.push({
      path: `${path}.why`,
      message: "only applies with illustrative: true",
    });
  }
  const keys = Object.keys(raw.values);
  const badKeys = keys.filter((k) => !/^\d{4}$/.test(k));
  if (badKeys.length > 0) {
    issues.push({
      path: `${path}.values`,
      message: `years must be whole four-digit years, got ${
        badKeys.slice(0, 5).map((k) => JSON.stringify(k.slice(0, 20))).join(
          ", ",
        )
      }${badKeys.length > 5 ? ` and ${badKeys.length - 5} more` : ""}`,
    });
    return undefined;
  }
  const years = keys.map(Number).sort((a, b) => a - b);
  if (years.length === 0) {
    issues.push({ path: `${path}.values`, message: "must hold a year" });
  }
  years.forEach((y, i) => {
    if (y < YEAR_RANGE[0] || y > YEAR_RANGE[1]) {
      issues.push({
        path: `${path}.values.${y}`,
        message: `year must be in ${YEAR_RANGE[0]}..${YEAR_RANGE[1]}`,
      });
    } else if (i > 0 && y !== years[i - 1] + 1) {
      issues.push({
        path: `${path}.values`,
        message: `years must be contiguous: ${
          years[i - 1]
        } is followed by ${y}`,
      });
    }
  });
  const bounds = VARIABLE_BOUNDS[variable];
  if (bounds) {
    for (const y of years) {
      const v = raw.values[String(y)];
      if (v < bounds[0] || v > bounds[1]) {
        issues.push({
          path: `${path}.values.${y}`,
          message: `must be within [${bounds[0]}, ${
            bounds[1]
          }] percent for ${variable} (VARIABLE_BOUNDS; a share written as a percentage?), got ${v}`,
        });
      }
    }
  }
  if (issues.length > before) return undefined;
  return {
    years,
    values: years.map((y) => raw.values[String(y)]),
    source: raw.source,
    illustrative: raw.illustrative === true,
    ...(raw.why === undefined ? {} : { why: raw.why }),
  };
}

/** Every region and variable of `raw`, checked for completeness. */
function checkPaths(
  raw: RawFile["history"],
  path: string,
  regions: string[],
  variables: string[],
  sources: Record<string, unknown>,
  expectedYears: number[] | undefined,
  issues: ScenarioIssue[],
): MacroPaths {
  const out: MacroPaths = {};
  for (const region of Object.keys(raw)) {
    if (!regions.includes(region)) {
      issues.push({
        path: `${path}.${region}`,
        message: `is not a region of the file (regions: ${regions.join(", ")})`,
      });
    }
  }
  for (const region of regions) {
    const entry = raw[region];
    if (entry === undefined) {
      issues.push({
        path: `${path}.${region}`,
        message: `is missing: every region needs ${variables.join(", ")}`,
      });
      continue;
    }
    out[region] = {};
    for (const variable of Object.keys(entry)) {
      if (!variables.includes(variable)) {
        issues.push({
          path: `${path}.${region}.${variable}`,
          message: `is not a variable of the history (variables: ${
            variables.join(", ")
          })`,
        });
      }
    }
    for (const variable of variables) {
      const seriesPath = `${path}.${region}.${variable}`;
      if (entry[variable] === undefined) {
        issues.push({ path: seriesPath, message: "is missing" });
        continue;
      }
      const series = checkSeries(
        entry[variable],
        seriesPath,
        variable,
        sources,
        issues,
      );
      if (series === undefined) continue;
      if (
        expectedYears !== undefined &&
        series.years.join() !== expectedYears.join()
      ) {
        issues.push({
          path: `${seriesPath}.values`,
          message: `must cover the years ${expectedYears[0]}..${
            expectedYears.at(-1)
          } like every other series, got ${series.years[0]}..${
            series.years.at(-1)
          }`,
        });
        continue;
      }
      out[region][variable] = series;
    }
  }
  return out;
}

/**
 * The years most series of `paths` cover (the first such set on a tie), so
 * that one broken series is reported alone rather than every other one
 * against it; undefined when there is no series.
 */
function commonYears(
  ...paths: RawFile["history"][]
): number[] | undefined {
  const counts = new Map<string, { years: number[]; n: number }>();
  for (const raw of paths) {
    for (const region of Object.values(raw)) {
      for (const series of Object.values(region)) {
        const years = Object.keys(series.values).map(Number).sort((a, b) =>
          a - b
        );
        if (years.length === 0) continue;
        const key = years.join();
        const entry = counts.get(key) ?? { years, n: 0 };
        entry.n++;
        counts.set(key, entry);
      }
    }
  }
  let best: { years: number[]; n: number } | undefined;
  for (const entry of counts.values()) {
    if (best === undefined || entry.n > best.n) best = entry;
  }
  return best?.years;
}

/**
 * Checks a parsed scenario document: the typed file, or every problem.
 *
 * @param doc The YAML's data.
 * @param file Its name, for the result.
 * @param sha256 The SHA-256 of its bytes, for the result.
 */
export function checkScenarioFile(
  doc: unknown,
  file = "(scenario file built in code)",
  sha256 = "",
): { value: ScenarioFile; issues: [] } | {
  value: undefined;
  issues: ScenarioIssue[];
} {
  const checked = checkDocument(fileSchema, doc);
  if (checked.value === undefined) return checked;
  const raw = checked.value;
  const issues: ScenarioIssue[] = [];
  const regions = Object.keys(raw.regions);
  if (regions.length === 0) {
    issues.push({ path: "regions", message: "must name at least one region" });
  }
  const badCodes = regions.filter((r) => !/^[A-Z]{2}$/.test(r));
  if (badCodes.length > 0) {
    return {
      value: undefined,
      issues: [{
        path: "regions",
        message:
          `region codes must be ISO 3166-1 alpha-2 codes in capitals (ES, MX), got ${
            badCodes.slice(0, 5).map((k) => JSON.stringify(k.slice(0, 20)))
              .join(
                ", ",
              )
          }${badCodes.length > 5 ? ` and ${badCodes.length - 5} more` : ""}`,
      }],
    };
  }
  // The variables: those of the first region's history; each must be known
  // and the required ones present.
  const firstRegion = raw.history[regions[0]] ?? {};
  const variables = Object.keys(firstRegion);
  for (const v of variables) {
    if (!(v in VARIABLE_BOUNDS)) {
      issues.push({
        path: `history.${regions[0]}.${v}`,
        message: `is not a known variable (known: ${
          Object.keys(VARIABLE_BOUNDS).join(", ")
        })`,
      });
    }
  }
  for (const v of REQUIRED_VARIABLES) {
    if (!variables.includes(v) && regions[0] in raw.history) {
      issues.push({
        path: `history.${regions[0]}.${v}`,
        message: `is missing: every region needs ${
          REQUIRED_VARIABLES.join(", ")
        }`,
      });
    }
  }
  const known = variables.filter((v) => v in VARIABLE_BOUNDS);
  const historyYears = commonYears(raw.history);
  if (historyYears && historyYears.length > MAX_HISTORY_YEARS) {
    issues.push({
      path: "history",
      message:
        `must hold at most ${MAX_HISTORY_YEARS} years (MAX_HISTORY_YEARS), got ${historyYears.length}`,
    });
  }
  const history = checkPaths(
    raw.history,
    "history",
    regions,
    known,
    raw.sources,
    historyYears,
    issues,
  );
  const total = raw.scenarios.reduce((a, s) => a + s.weight, 0);
  if (Math.abs(total - 1) > WEIGHT_TOLERANCE) {
    issues.push({
      path: "scenarios",
      message:
        `weights must sum to 1 (IFRS 9 §5.5.17(a), methodology §8), got ${total}`,
    });
  }
  const seen = new Set<string>();
  raw.scenarios.forEach((s, i) => {
    if (seen.has(s.name)) {
      issues.push({
        path: `scenarios[${i}].name`,
        message: `duplicate scenario name ${s.name}`,
      });
    }
    seen.add(s.name);
  });
  const lastObserved = historyYears?.at(-1);
  const horizon = commonYears(...raw.scenarios.map((s) => s.paths));
  if (
    horizon && lastObserved !== undefined && horizon[0] !== lastObserved + 1
  ) {
    issues.push({
      path: "scenarios[0].paths",
      message: `the forecast must start the year after the last observed one (${
        lastObserved + 1
      }), got ${horizon[0]}`,
    });
  }
  if (horizon && horizon.length > MAX_HORIZON_YEARS) {
    issues.push({
      path: "scenarios[0].paths",
      message:
        `must hold at most ${MAX_HORIZON_YEARS} forecast years (MAX_HORIZON_YEARS), got ${horizon.length}`,
    });
  }
  const reportingYear = Number(raw.reporting_date.slice(0, 4));
  // Forecast year y of the engine (methodology §4) is the calendar year
  // reportingYear + y: exact at a year-end reporting date, the nearest
  // calendar year otherwise.
  if (lastObserved !== undefined && lastObserved !== reportingYear) {
    issues.push({
      path: "history",
      message:
        `must end in the reporting date's year ${reportingYear} (an estimate for that year is fine: the forecast starts the year after), got ${lastObserved}`,
    });
  }
  const scenarios = raw.scenarios.map((s, i) => ({
    name: s.name,
    weight: s.weight,
    ...(s.narrative === undefined ? {} : { narrative: s.narrative }),
    paths: checkPaths(
      s.paths,
      `scenarios[${i}].paths`,
      regions,
      known,
      raw.sources,
      horizon,
      issues,
    ),
  }));
  if (issues.length > 0) return { value: undefined, issues };
  return {
    value: {
      file,
      sha256,
      reporting_date: raw.reporting_date,
      regions: raw.regions,
      variables: known,
      sources: raw.sources,
      history,
      history_years: historyYears ?? [],
      horizon: horizon ?? [],
      scenarios,
    },
    issues: [],
  };
}

/**
 * Parses a scenario file from YAML text. Throws {@link ScenarioFileError}
 * listing every problem, one line each with its key path.
 *
 * @param text The YAML.
 * @param file Its name, for messages and the result.
 */
export function parseScenarioFile(text: string, file: string): ScenarioFile {
  const read = readYaml(text);
  if ("syntaxError" in read) {
    throw new ScenarioFileError(file, [{
      path: "(syntax)",
      message: read.syntaxError,
    }]);
  }
  if (!isMapping(read.doc)) {
    throw new ScenarioFileError(file, [{
      path: "(root)",
      message:
        "must be a mapping with scenario_file_version, regions, sources, history, scenarios",
    }]);
  }
  const sha256 = createHash("sha256").update(text).digest("hex");
  const { value, issues } = checkScenarioFile(read.doc, file, sha256);
  if (value === undefined) throw new ScenarioFileError(file, issues);
  return value;
}

/**
 * Reads and checks a scenario file (a regular file of at most 1 MiB, like
 * the rules file); see {@link parseScenarioFile}.
 *
 * @throws {ScenarioFileError} naming the file and each problem's key path.
 */
export async function loadScenarioFile(path: string): Promise<ScenarioFile> {
  const read = await readConfigFile(path);
  if ("problem" in read) {
    throw new ScenarioFileError(path, [{
      path: "(file)",
      message: read.problem,
    }]);
  }
  const file = parseScenarioFile(new TextDecoder().decode(read.bytes), path);
  file.sha256 = createHash("sha256").update(read.bytes).digest("hex");
  return file;
}

/**
 * The value of `variable` in `region` in `year`: the scenario's path over
 * the horizon, the observed history before it; undefined outside both.
 */
export function macroValue(
  file: ScenarioFile,
  scenario: MacroScenario | undefined,
  region: string,
  variable: MacroVariable,
  year: number,
): number | undefined {
  const series = scenario !== undefined && year >= file.horizon[0]
    ? scenario.paths[region]?.[variable]
    : file.history[region]?.[variable];
  if (series === undefined) return undefined;
  const i = year - series.years[0];
  return i >= 0 && i < series.values.length ? series.values[i] : undefined;
}
