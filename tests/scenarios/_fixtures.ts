/**
 * Small scenario files for the tests: a document built from macro paths,
 * checked by the library's own checker.
 */
import {
  checkScenarioFile,
  type MacroPaths,
  type ScenarioFile,
} from "../../lib/mod.ts";

/** The YAML-shaped `values` mapping of a series. */
function valuesOf(years: number[], values: number[]) {
  return Object.fromEntries(years.map((y, i) => [String(y), values[i]]));
}

/** A document's `paths` from macro paths. */
export function pathsDoc(paths: MacroPaths) {
  return Object.fromEntries(
    Object.entries(paths).map(([region, vars]) => [
      region,
      Object.fromEntries(
        Object.entries(vars).map(([v, s]) => [
          v,
          {
            source: "test",
            values: valuesOf(s.years, s.values),
          },
        ]),
      ),
    ]),
  );
}

/** A scenario document with `history` and `scenarios` (paths per scenario). */
export function scenarioDoc(
  history: MacroPaths,
  scenarios: { name: string; weight: number; paths: MacroPaths }[],
  reportingDate: string,
) {
  return {
    scenario_file_version: 1,
    reporting_date: reportingDate,
    regions: Object.fromEntries(
      Object.keys(history).map((r) => [
        r,
        { name: r, segment_suffix: r.toLowerCase() },
      ]),
    ),
    sources: { test: { publication: "test fixture" } },
    history: pathsDoc(history),
    scenarios: scenarios.map((s) => ({
      name: s.name,
      weight: s.weight,
      paths: pathsDoc(s.paths),
    })),
  };
}

/** A checked scenario file from a document; throws with the issues. */
export function scenarioFile(doc: unknown): ScenarioFile {
  const { value, issues } = checkScenarioFile(doc, "test.yaml", "0".repeat(64));
  if (value === undefined) {
    throw new Error(issues.map((i) => `${i.path}: ${i.message}`).join("\n"));
  }
  return value;
}

/** Flat paths: each variable at `value[variable]` over `years` in `regions`. */
export function flatPaths(
  regions: string[],
  years: number[],
  value: Record<string, number | number[]>,
): MacroPaths {
  return Object.fromEntries(regions.map((r) => [
    r,
    Object.fromEntries(
      Object.entries(value).map(([v, x]) => [v, {
        years,
        values: Array.isArray(x) ? x : years.map(() => x),
        source: "test",
        illustrative: false,
      }]),
    ),
  ]));
}
