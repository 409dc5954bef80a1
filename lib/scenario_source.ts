/**
 * The provenance check of fitted scenarios (docs/scenarios.md §5, IFRS 9
 * §5.5.17(c)): rules whose `scenario_source` names a fit must hold the
 * scenarios that fit wrote. When a rules file is read (`parseRules`,
 * `loadRules` in lib/rules.ts), before any data is read:
 *
 * 1. `scenario_source.fit` is found: an absolute path as it is; a relative
 *    one first relative to the rules file's folder (as `transition_matrix`
 *    files are, methodology §13), then relative to the working directory
 *    (how `deno task scenarios` writes it: the `--out` folder as given);
 * 2. its bytes have the recorded `scenario_source.sha256`;
 * 3. it is a fit report of `deno task scenarios` (`adjustments.scenarios`)
 *    whose `z` are measured from the reporting year
 *    (`adjustments.anchor_year`; an earlier fit is refused: refit);
 * 4. the rules use `scenario_adjustment: z_shift` and their `scenarios`
 *    are the report's: the same names in the same order, and weights,
 *    every `z` and collateral haircuts within {@link MACRO_MATCH_TOLERANCE}
 *    (the fragment's figures are rounded to 6 decimals).
 *
 * Each failure is a problem at its key path (`scenario_source.fit`,
 * `scenarios[1].z[0]`), so the rules loader refuses the file (exit 2). The
 * macro stress (lib/sensitivity/macro.ts) compares the unshifted
 * projection with the rules' scenarios with the same
 * {@link scenarioMismatches}. Rules derived in code (`withRules`, the
 * sensitivity table's 100% lines) are not checked again: they change the
 * scenarios on purpose.
 *
 * This module imports nothing of lib/rules.ts nor of lib/scenarios (the
 * rules loader imports it; lib/scenarios imports it for
 * {@link VARIABLE_BOUNDS}): it reads the scenario file a fit names only
 * after checking its SHA-256 against the fit's, so it is the file the fit
 * checked in full, and reads just the keys the stresses need
 * ({@link MacroFileView}).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { dirname, isAbsolute, join } from "node:path";
import { isMapping, readYaml } from "./_config_file.ts";

/**
 * Plausible bounds of each variable, in percent, inclusive. A value beyond
 * is refused as a typo (a rate written as a share, a level for a growth):
 *
 * - `gdp_growth` [-25, 25]: the deepest annual falls of the footprint are
 *   about -11% (Spain 2020, Peru 2020) and the fastest growth about 13%
 *   (Chile, Peru 2021 rebounds);
 * - `unemployment_rate` [0, 40]: Spain peaked at 26.9% (2013);
 * - `house_price_growth` [-40, 60]: Spanish prices fell about 15% in 2012;
 *   nominal Latin American indices rose up to about 20% a year;
 * - `policy_rate` [-2, 50]: the ECB deposit rate bottomed at -0.5%, the
 *   Selic peaked at 45% (1999);
 * - `inflation` [-5, 60] (optional): Latin American inflation since 2000
 *   stayed below about 25%.
 */
export const VARIABLE_BOUNDS: Readonly<
  Record<string, readonly [min: number, max: number]>
> = {
  gdp_growth: [-25, 25],
  unemployment_rate: [0, 40],
  house_price_growth: [-40, 60],
  policy_rate: [-2, 50],
  inflation: [-5, 60],
};

/**
 * Tolerance of the comparison of the rules' scenarios with a fit's: 1e-6,
 * the rounding of the fragment's figures (6 decimals).
 */
export const MACRO_MATCH_TOLERANCE = 1e-6;

/** Most problems listed one by one; the others are counted ("and K more"). */
export const MAX_LISTED_PROBLEMS = 10;

/** Largest fit report read, in bytes (64 MiB; the sample's is ~0.3 MB). */
export const MAX_FIT_BYTES = 64 * 1024 * 1024;

/** One scenario as compared: the rules' or the fit's. */
export interface ComparedScenario {
  /** Its name. */
  name: string;
  /** Its weight. */
  weight: number;
  /** `z` per forecast year (absent: not a `z_shift` scenario). */
  z?: readonly number[];
  /** Collateral haircut. */
  collateral_haircut: number;
}

/** One provenance problem, at a key path of the rules file. */
export interface ProvenanceIssue {
  /** Key path such as `scenarios[1].z[0]`. */
  path: string;
  /** What is wrong. */
  message: string;
}

/** The fit report behind rules, as read at load. */
export interface ScenarioSourceRead {
  /** The path the fit was read from. */
  path: string;
  /** The parsed fit report (fit.json). */
  report: Record<string, unknown>;
}

/** Fit reports read at load, by the rules object they were checked for. */
const READ = new WeakMap<object, ScenarioSourceRead>();

/** `items` bounded to {@link MAX_LISTED_PROBLEMS}, then "and K more". */
export function boundedList<T>(
  items: readonly T[],
  more: (count: number) => T,
  max = MAX_LISTED_PROBLEMS,
): T[] {
  return items.length <= max
    ? [...items]
    : [...items.slice(0, max), more(items.length - max)];
}

/**
 * Where the rules' `fitted` scenarios (the fit's) and `rules` differ, as
 * problems at the rules' key paths: count, names in order, weights, `z`
 * (length and each value) and collateral haircuts, within `tolerance`.
 * At most {@link MAX_LISTED_PROBLEMS} are listed, then one "and K more".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scenarioMismatches } from "./scenario_source.ts";
 * const fit = [{ name: "base", weight: 1, z: [0.1, 0.2], collateral_haircut: 0.2 }];
 * assert.deepEqual(scenarioMismatches(fit, fit, 1e-6), []);
 * const typed = [{ ...fit[0], z: [0.1, 1.5] }];
 * assert.match(scenarioMismatches(fit, typed, 1e-6)[0].path, /scenarios\[0\]\.z\[1\]/);
 * ```
 */
export function scenarioMismatches(
  fitted: readonly ComparedScenario[],
  rules: readonly ComparedScenario[],
  tolerance: number = MACRO_MATCH_TOLERANCE,
  from = "the fit",
): ProvenanceIssue[] {
  const out: ProvenanceIssue[] = [];
  const far = (a: number, b: number) => !(Math.abs(a - b) <= tolerance);
  if (fitted.length !== rules.length) {
    out.push({
      path: "scenarios",
      message: `${rules.length} scenarios, ${from} has ${fitted.length} (${
        fitted.map((s) => s.name).join(", ")
      })`,
    });
  }
  for (let i = 0; i < Math.min(fitted.length, rules.length); i++) {
    const f = fitted[i], r = rules[i], at = `scenarios[${i}]`;
    if (f.name !== r.name) {
      out.push({
        path: `${at}.name`,
        message: `is ${r.name}, ${from} has ${f.name} in this place`,
      });
      continue;
    }
    if (far(f.weight, r.weight)) {
      out.push({
        path: `${at}.weight`,
        message: `is ${r.weight}, ${from} has ${f.weight}`,
      });
    }
    const fz = f.z ?? [], rz = r.z;
    if (rz === undefined) {
      out.push({ path: `${at}.z`, message: `is missing, ${from} has z` });
    } else if (rz.length !== fz.length) {
      out.push({
        path: `${at}.z`,
        message: `has ${rz.length} years, ${from} has ${fz.length}`,
      });
    } else {
      rz.forEach((v, y) => {
        if (far(fz[y], v)) {
          out.push({
            path: `${at}.z[${y}]`,
            message: `is ${v}, ${from} has ${fz[y]}`,
          });
        }
      });
    }
    if (far(f.collateral_haircut, r.collateral_haircut)) {
      out.push({
        path: `${at}.collateral_haircut`,
        message:
          `is ${r.collateral_haircut}, ${from} has ${f.collateral_haircut}`,
      });
    }
  }
  return boundedList(out, (k) => ({
    path: "scenarios",
    message: `and ${k} more difference${k === 1 ? "" : "s"}`,
  }));
}

/**
 * The paths tried for a relative path written in `baseFile` (a rules file,
 * a fit report): relative to its folder first, then to the working
 * directory; an absolute path as it is. A base that is not a local file
 * (built in code, an URL) gives the working directory only.
 */
export function candidatePaths(
  written: string,
  baseFile: string | undefined,
): string[] {
  if (isAbsolute(written)) return [written];
  const local = baseFile !== undefined &&
    !/^[a-z][a-z0-9+.-]*:\/\//i.test(baseFile) && !baseFile.startsWith("(");
  const beside = local ? join(dirname(baseFile!), written) : undefined;
  return beside !== undefined && beside !== join(".", written)
    ? [beside, written]
    : [written];
}

/** The first of `paths` that is a file, or undefined. */
function firstFile(paths: readonly string[]): string | undefined {
  for (const p of paths) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch {
      // not there: try the next
    }
  }
  return undefined;
}

/** The rules keys the check reads (a checked rules object has them). */
export interface ProvenanceRules {
  /** `scenario_source` of the rules. */
  scenario_source?: { fit: string; sha256: string };
  /** `scenario_adjustment` of the rules. */
  scenario_adjustment: string;
  /** The rules' scenarios. */
  scenarios: readonly ComparedScenario[];
  /** The sensitivity section: only its macro stresses are read here. */
  sensitivity?: {
    stresses?: readonly {
      name: string;
      macro?: readonly {
        variable: string;
        delta: number;
        region?: string;
        scenario?: string;
      }[];
    }[];
  };
}

/**
 * Checks checked rules read from `rulesFile` against their
 * `scenario_source` (see the module's text); no problem when there is no
 * `scenario_source`. The fit report read is remembered for
 * {@link scenarioSourceRead}.
 */
export function checkScenarioSource(
  rules: ProvenanceRules,
  rulesFile: string | undefined,
): ProvenanceIssue[] {
  const source = rules.scenario_source;
  if (source === undefined) return [];
  const fix =
    "write the scenarios again with deno task scenarios (and merge its rules_fragment.yaml), or remove scenario_source if they are not from a fit";
  const tried = candidatePaths(source.fit, rulesFile);
  const path = firstFile(tried);
  if (path === undefined) {
    return [{
      path: "scenario_source.fit",
      message: `the fit ${source.fit} is not there (tried ${
        tried.join(", ")
      }); ${fix}`,
    }];
  }
  let bytes: Uint8Array;
  try {
    if (Deno.statSync(path).size > MAX_FIT_BYTES) {
      return [{
        path: "scenario_source.fit",
        message:
          `${path} is larger than MAX_FIT_BYTES (${MAX_FIT_BYTES} bytes): not a fit report`,
      }];
    }
    bytes = Deno.readFileSync(path);
  } catch (e) {
    return [{
      path: "scenario_source.fit",
      message: `cannot read ${path}: ${(e as Error).message.split("\n")[0]}`,
    }];
  }
  const sha = createHash("sha256").update(bytes).digest("hex");
  if (sha !== source.sha256) {
    return [{
      path: "scenario_source.sha256",
      message:
        `${path} has SHA-256 ${sha}: the fit changed since it wrote these scenarios; ${fix}`,
    }];
  }
  let report: unknown;
  try {
    report = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    report = undefined;
  }
  const fitted = (report as { adjustments?: { scenarios?: unknown } })
    ?.adjustments?.scenarios;
  if (!Array.isArray(fitted)) {
    return [{
      path: "scenario_source.fit",
      message:
        `${path} is not a fit report of deno task scenarios (no adjustments.scenarios)`,
    }];
  }
  if (
    typeof (report as { adjustments: { anchor_year?: unknown } }).adjustments
      .anchor_year !== "number"
  ) {
    return [{
      path: "scenario_source.fit",
      message:
        `${path} was written before z was measured from the reporting year (docs/scenarios.md §4; no adjustments.anchor_year): its z count today's economy twice; ${fix}`,
    }];
  }
  if (rules.scenario_adjustment !== "z_shift") {
    return [{
      path: "scenario_adjustment",
      message:
        `is ${rules.scenario_adjustment}, but the scenarios of scenario_source (${path}) are z_shift adjustments; ${fix}`,
    }];
  }
  const issues = scenarioMismatches(
    fitted as ComparedScenario[],
    rules.scenarios,
    MACRO_MATCH_TOLERANCE,
    `the fit ${path}`,
  );
  if (issues.length > 0) {
    issues.push({
      path: "scenario_source",
      message:
        `the scenarios differ from those of the fit it names (tolerance MACRO_MATCH_TOLERANCE = ${MACRO_MATCH_TOLERANCE}); ${fix}`,
    });
    return issues;
  }
  const read = { path, report: report as Record<string, unknown> };
  const stressIssues = checkMacroStresses(rules, read);
  if (stressIssues.length > 0) return stressIssues;
  READ.set(rules, read);
  return [];
}

/**
 * What a macro stress needs of a scenario file: its regions, variables,
 * scenarios' names and forecast paths, and the forecast years.
 */
export interface MacroFileView {
  /** The file as found. */
  file: string;
  /** Its SHA-256. */
  sha256: string;
  /** Region codes. */
  regions: string[];
  /** Variables (those of the first region's history). */
  variables: string[];
  /** Forecast years. */
  horizon: number[];
  /** Each scenario's forecast values: `paths[region][variable][year]`. */
  scenarios: {
    name: string;
    paths: Record<string, Record<string, Record<string, number>>>;
  }[];
}

/** The view of a scenario document that passed the checks of its fit. */
function macroFileView(
  doc: unknown,
  file: string,
  sha256: string,
): MacroFileView | undefined {
  if (!isMapping(doc) || !isMapping(doc.regions) || !isMapping(doc.history)) {
    return undefined;
  }
  const regions = Object.keys(doc.regions);
  const first = doc.history[regions[0]];
  if (!isMapping(first) || !Array.isArray(doc.scenarios)) return undefined;
  const scenarios: MacroFileView["scenarios"] = [];
  for (const s of doc.scenarios) {
    if (!isMapping(s) || typeof s.name !== "string" || !isMapping(s.paths)) {
      return undefined;
    }
    const paths: MacroFileView["scenarios"][number]["paths"] = {};
    for (const [region, vars] of Object.entries(s.paths)) {
      if (!isMapping(vars)) return undefined;
      paths[region] = {};
      for (const [variable, series] of Object.entries(vars)) {
        if (!isMapping(series) || !isMapping(series.values)) return undefined;
        paths[region][variable] = series.values as Record<string, number>;
      }
    }
    scenarios.push({ name: s.name, paths });
  }
  const someSeries =
    Object.values(Object.values(scenarios[0]?.paths ?? {})[0] ?? {})[0];
  const horizon = Object.keys(someSeries ?? {}).map(Number).sort((a, b) =>
    a - b
  );
  return {
    file,
    sha256,
    regions,
    variables: Object.keys(first),
    horizon,
    scenarios,
  };
}

/**
 * The scenario file a fit report names, read from the path relative to
 * the fit report's folder first, then the working directory, and checked
 * against the SHA-256 the fit recorded (so it is the file the fit checked
 * in full).
 */
export function fitScenarioFile(
  read: ScenarioSourceRead,
): { file: MacroFileView; path: string } | { problem: string } {
  const recorded = (read.report as {
    fit?: { scenario_file?: { file?: unknown; sha256?: unknown } };
  }).fit?.scenario_file;
  if (typeof recorded?.file !== "string") {
    return {
      problem:
        `${read.path} names no scenario file (fit.scenario_file.file): not a fit report of deno task scenarios`,
    };
  }
  const tried = candidatePaths(recorded.file, read.path);
  const path = firstFile(tried);
  if (path === undefined) {
    return {
      problem:
        `the scenario file ${recorded.file} of the fit ${read.path} is not there (tried ${
          tried.join(", ")
        })`,
    };
  }
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (e) {
    return {
      problem:
        `cannot read ${path}, the scenario file of the fit ${read.path}: ${
          (e as Error).message.split("\n")[0]
        }`,
    };
  }
  const sha = createHash("sha256").update(bytes).digest("hex");
  if (sha !== recorded.sha256) {
    return {
      problem: `the scenario file ${path} has SHA-256 ${sha}, not the ${
        String(recorded.sha256)
      } the fit ${read.path} was made with; write the scenarios again with deno task scenarios`,
    };
  }
  const yaml = readYaml(new TextDecoder().decode(bytes));
  const view = "doc" in yaml ? macroFileView(yaml.doc, path, sha) : undefined;
  if (view === undefined) {
    return { problem: `${path} is not a scenario file` };
  }
  return { file: view, path };
}

/**
 * The macro stresses of the rules' sensitivity section checked against
 * the scenario file of their fit: each shift's variable, region and
 * scenario are the file's, and the shifted forecast values stay within the
 * file's own bounds ({@link VARIABLE_BOUNDS}), each problem at the shift's
 * key path naming the stress and the fit.
 */
function checkMacroStresses(
  rules: ProvenanceRules,
  read: ScenarioSourceRead,
): ProvenanceIssue[] {
  const stresses = rules.sensitivity?.stresses ?? [];
  if (!stresses.some((s) => s.macro !== undefined)) return [];
  const scenarioFile = fitScenarioFile(read);
  const issues: ProvenanceIssue[] = [];
  for (const [i, stress] of stresses.entries()) {
    if (stress.macro === undefined) continue;
    if ("problem" in scenarioFile) {
      issues.push({
        path: `sensitivity.stresses[${i}].macro`,
        message: `stress ${stress.name}: ${scenarioFile.problem}`,
      });
      continue;
    }
    for (const p of macroShiftProblems(scenarioFile.file, stress.macro)) {
      issues.push({
        path: `sensitivity.stresses[${i}].macro[${p.shift}].${p.key}`,
        message: `stress ${stress.name} (fit ${read.path}): ${p.message}`,
      });
    }
  }
  return boundedList(issues, (k) => ({
    path: "sensitivity.stresses",
    message: `and ${k} more problem${k === 1 ? "" : "s"}`,
  }));
}

/**
 * The problems of macro shifts against a scenario file: a variable,
 * region or scenario the file lacks (`key` variable, region, scenario), or
 * a forecast value the shifts (added up) push outside
 * {@link VARIABLE_BOUNDS} (`key` delta, at the last shift that does so).
 */
export function macroShiftProblems(
  file: MacroFileView,
  shifts: readonly {
    variable: string;
    delta: number;
    region?: string;
    scenario?: string;
  }[],
): { shift: number; key: string; message: string }[] {
  const out: { shift: number; key: string; message: string }[] = [];
  const regions = file.regions;
  for (const [j, s] of shifts.entries()) {
    if (!file.variables.includes(s.variable)) {
      out.push({
        shift: j,
        key: "variable",
        message: `${s.variable} is not a variable of ${file.file} (${
          file.variables.join(", ")
        })`,
      });
      continue;
    }
    if (s.region !== undefined && !regions.includes(s.region)) {
      out.push({
        shift: j,
        key: "region",
        message: `${
          JSON.stringify(s.region).slice(0, 40)
        } is not a region of ${file.file} (${regions.join(", ")})`,
      });
      continue;
    }
    if (
      s.scenario !== undefined &&
      !file.scenarios.some((x) => x.name === s.scenario)
    ) {
      out.push({
        shift: j,
        key: "scenario",
        message: `${
          JSON.stringify(s.scenario).slice(0, 40)
        } is not a scenario of ${file.file} (${
          file.scenarios.map((x) => x.name).join(", ")
        })`,
      });
      continue;
    }
    const bounds = VARIABLE_BOUNDS[s.variable];
    if (bounds === undefined) continue;
    // The value after every shift up to this one, where this one applies.
    let worst: { value: number; where: string } | undefined;
    for (const scenario of file.scenarios) {
      if (s.scenario !== undefined && s.scenario !== scenario.name) continue;
      for (const region of regions) {
        if (s.region !== undefined && s.region !== region) continue;
        for (const year of file.horizon) {
          const v = scenario.paths[region]?.[s.variable]?.[String(year)];
          if (typeof v !== "number") continue;
          const shifted = shifts.slice(0, j + 1).reduce(
            (acc, t) =>
              t.variable === s.variable &&
                (t.region === undefined || t.region === region) &&
                (t.scenario === undefined || t.scenario === scenario.name)
                ? acc + t.delta
                : acc,
            v,
          );
          if (
            (shifted < bounds[0] || shifted > bounds[1]) &&
            (worst === undefined ||
              Math.abs(shifted) > Math.abs(worst.value))
          ) {
            worst = {
              value: shifted,
              where: `${scenario.name}, ${region}, ${year}`,
            };
          }
        }
      }
    }
    if (worst !== undefined) {
      out.push({
        shift: j,
        key: "delta",
        message: `shifts ${s.variable} to ${+worst.value.toFixed(
          4,
        )} (${worst.where}), outside the scenario file's bounds [${
          bounds[0]
        }, ${bounds[1]}] (VARIABLE_BOUNDS); a smaller delta`,
      });
    }
  }
  return out;
}

/**
 * The fit report read when `rules` were loaded and checked
 * ({@link checkScenarioSource}), or undefined (no `scenario_source`,
 * rules built in code).
 */
export function scenarioSourceRead(
  rules: object,
): ScenarioSourceRead | undefined {
  return READ.get(rules);
}
