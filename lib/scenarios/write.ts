/**
 * The output folder of `deno task scenarios` (docs/scenarios.md §5),
 * written whole or not at all (lib/run_folder `writeOutputFolder`):
 *
 * | file                  | what                                                        |
 * |-----------------------|-------------------------------------------------------------|
 * | `fit.json`            | the fit report ({@link FitReport}); its scenario file's path relative to the folder |
 * | `fit.html`            | the same as a page                                          |
 * | `rules_fragment.yaml` | the rules fragment, naming `fit.json` and its SHA-256       |
 * | `default_rates.csv`   | the generated default-rate history (with `--generate-history`) |
 * | `rules.yaml`          | a rules file with the fragment merged in (with `--rules`)   |
 *
 * @module
 */
import { createHash } from "node:crypto";
import { isAbsolute, join, relative } from "node:path";
import { writeOutputFolder } from "../run_folder/mod.ts";
import { parseRules, RulesError } from "../rules.ts";
import { readConfigFile } from "../_config_file.ts";
import {
  mergeRulesFragmentText,
  rulesFragment,
  rulesFragmentYaml,
} from "./fragment.ts";
import { type FitReport, fitReportHtml, fitReportJson } from "./report.ts";
import type { ScenarioFile } from "./scenario_file.ts";

/** The files of a scenarios output folder. */
export const SCENARIO_FILES = {
  fit: "fit.json",
  html: "fit.html",
  fragment: "rules_fragment.yaml",
  history: "default_rates.csv",
  rules: "rules.yaml",
} as const;

/** What {@link writeScenarioOutputs} writes besides the report. */
export interface ScenarioOutputOptions {
  /** The generated default-rate history's CSV, when generated. */
  historyCsv?: string;
  /** A rules file to merge the fragment into: its path and text. */
  rules?: { file: string; text: string };
  /** Inputs the folder must not hold or replace. */
  inputs?: readonly string[];
}

/** The paths written. */
export interface ScenarioOutputPaths {
  /** `fit.json`. */
  fit: string;
  /** `fit.html`. */
  html: string;
  /** `rules_fragment.yaml`. */
  fragment: string;
  /** SHA-256 of `fit.json`, as the fragment records it. */
  sha256: string;
  /** `default_rates.csv`, when written. */
  history?: string;
  /** `rules.yaml`, when written. */
  rules?: string;
  /**
   * Warnings of the merge ({@link segmentCoverage}): fitted segments the
   * rules lack, rules segments without a fitted `rho`.
   */
  warnings: string[];
}

/**
 * Writes the fit report, the page, the fragment (and the generated
 * history, the merged rules) as the folder `out`. The merged rules are
 * checked by the rules loader before anything is written: the rules given
 * first (refused naming their file), then the merge (refused naming the
 * rules given; nothing is written).
 *
 * @throws {RulesError} when the rules given or the merged rules are
 *   refused.
 */
export async function writeScenarioOutputs(
  out: string,
  report: FitReport,
  file: ScenarioFile,
  options: ScenarioOutputOptions = {},
): Promise<ScenarioOutputPaths> {
  // fit.json names the scenario file relative to its own folder (a path
  // given relative to the working directory would not be found from
  // another one); absolute paths stay (lib/scenario_source.ts reads both).
  const given = report.fit.scenario_file.file;
  const fitText = fitReportJson(
    isAbsolute(given) || /^[a-z][a-z0-9+.-]*:\/\//i.test(given) ? report : {
      ...report,
      fit: {
        ...report.fit,
        scenario_file: {
          ...report.fit.scenario_file,
          file: relative(out, given),
        },
      },
    },
  );
  const sha256 = createHash("sha256").update(fitText).digest("hex");
  const fitPath = join(out, SCENARIO_FILES.fit);
  const header = [
    `Fit: ${fitPath} (sha256 ${sha256})`,
    `Scenario file: ${file.file} (sha256 ${file.sha256})`,
    `Default-rate history: ${report.fit.history.file}`,
  ];
  const fragmentText = rulesFragmentYaml(
    rulesFragment(report.adjustments, { fit: fitPath, sha256 }),
    header,
  );
  const rulesPath = join(out, SCENARIO_FILES.rules);
  const warnings: string[] = [];
  let rulesText: string | undefined;
  if (options.rules) {
    // The rules given are read by the rules loader first (an empty, list,
    // binary or invalid file is refused naming it); their own
    // scenario_source is replaced by the fragment's, so not checked.
    const given = parseRules(options.rules.text, options.rules.file, {
      scenarioSource: false,
    });
    warnings.push(
      ...segmentCoverage(
        Object.keys(report.adjustments.segments),
        Object.keys(given.segments),
        options.rules.file,
      ),
    );
    rulesText = mergeRulesFragmentText(options.rules.text, fragmentText, [
      `${options.rules.file} with the rules fragment of ${fitPath} merged in`,
      "(docs/scenarios.md §5; written by deno task scenarios: its comments are not kept)",
    ]);
    try {
      // fit.json is not written yet: the scenarios are the fragment's.
      parseRules(rulesText, rulesPath, { scenarioSource: false });
    } catch (e) {
      if (!(e instanceof RulesError)) throw e;
      throw new RulesError(
        options.rules.file,
        e.issues,
        `The rules ${options.rules.file} with the fragment of the fit merged in are refused (nothing was written to ${out})`,
      );
    }
  }
  await writeOutputFolder(
    out,
    [...Object.values(SCENARIO_FILES)],
    async (_, o) => {
      await o.text(SCENARIO_FILES.fit, fitText);
      await o.text(SCENARIO_FILES.html, fitReportHtml(report, file));
      await o.text(SCENARIO_FILES.fragment, fragmentText);
      if (options.historyCsv !== undefined) {
        await o.text(SCENARIO_FILES.history, options.historyCsv);
      }
      if (rulesText !== undefined) {
        await o.text(
          SCENARIO_FILES.rules,
          rulesText,
        );
      }
    },
    { inputs: options.inputs },
  );
  return {
    fit: fitPath,
    html: join(out, SCENARIO_FILES.html),
    fragment: join(out, SCENARIO_FILES.fragment),
    sha256,
    ...(options.historyCsv !== undefined
      ? { history: join(out, SCENARIO_FILES.history) }
      : {}),
    ...(rulesText !== undefined ? { rules: rulesPath } : {}),
    warnings,
  };
}

/**
 * Warnings of merging a fragment into rules (docs/scenarios.md §5): the
 * fragment's segments the rules do not name (merged as new segments with
 * only `rho`: a book whose segments are named otherwise keeps the default
 * `rho` for its own), and the rules' segments no fitted `rho` reaches.
 */
export function segmentCoverage(
  rhoSegments: readonly string[],
  rulesSegments: readonly string[],
  rulesFile: string,
): string[] {
  const named = new Set(rulesSegments);
  const added = rhoSegments.filter((s) => !named.has(s));
  const fitted = new Set(rhoSegments);
  const without = rulesSegments.filter((s) =>
    s !== "default" && !fitted.has(s)
  );
  const list = (xs: string[]) =>
    xs.length <= MAX_LISTED_SEGMENTS
      ? xs.join(", ")
      : `${xs.slice(0, MAX_LISTED_SEGMENTS).join(", ")} and ${
        xs.length - MAX_LISTED_SEGMENTS
      } more`;
  return [
    ...(added.length > 0
      ? [
        `${added.length} fitted segment(s) are not named in ${rulesFile} and are added with their rho (the default's other keys): ${
          list(added)
        }; a segment the book does not have gives no loan its rho: name the history's segments as the book's`,
      ]
      : []),
    ...(without.length > 0
      ? [
        `${without.length} segment(s) of ${rulesFile} have no fitted rho and keep their own (or the default's): ${
          list(without)
        }`,
      ]
      : []),
  ];
}

/** Most segments named in a warning of {@link segmentCoverage}, then "and K more". */
export const MAX_LISTED_SEGMENTS = 10;

/**
 * The text of a rules file to merge a fragment into, read with the rules
 * loader's limits (a regular file of at most 1 MiB).
 *
 * @throws {RulesError} naming the file when it cannot be read.
 */
export async function readRulesText(path: string): Promise<string> {
  const read = await readConfigFile(path);
  if ("problem" in read) {
    throw new RulesError(path, [{ path: "(file)", message: read.problem }]);
  }
  return new TextDecoder().decode(read.bytes);
}
