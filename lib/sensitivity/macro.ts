/**
 * A macro stress of the sensitivity table (docs/sensitivity.md,
 * docs/scenarios.md): the macro paths shifted, then turned into every
 * scenario's `z` and collateral haircut by the same fitted satellite model
 * that wrote the rules' scenarios (IFRS 9 §5.5.17(c), B5.5.42-B5.5.54;
 * methodology §4 `z_shift`, §6 haircut).
 *
 * The model is the rules' `scenario_source` (`fit.json` of `deno task
 * scenarios`, its SHA-256 checked), the macro paths the scenario file the
 * fit names (its SHA-256 checked too; a relative path is read relative to
 * the fit's folder first, then the working directory). Both are checked
 * when the rules are loaded, with the shifts (lib/scenario_source.ts:
 * variable, region and scenario of the file, shifted values within the
 * file's bounds). Before the shift is applied the unshifted projection
 * must give the rules' scenarios (the one comparison of scenario_source.ts,
 * {@link scenarioMismatches}, within {@link MACRO_MATCH_TOLERANCE}): a
 * stress is only a stress of the model the allowance was computed with.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { UserError } from "../errors.ts";
import type { Rules, Scenario } from "../rules.ts";
import type { MacroStressShift } from "../sensitivity_rules.ts";
import {
  loadScenarioFile,
  type SatelliteFit,
  scenarioAdjustments,
} from "../scenarios/mod.ts";
import {
  candidatePaths,
  fitScenarioFile,
  MACRO_MATCH_TOLERANCE,
  scenarioMismatches,
  type ScenarioSourceRead,
  scenarioSourceRead,
} from "../scenario_source.ts";

export { MACRO_MATCH_TOLERANCE };

/**
 * The fit of the rules' `scenario_source`: the one read when the rules
 * were loaded, else read now (rules derived in code), its SHA-256 checked.
 */
async function readFit(
  where: string,
  rules: Rules,
  source: { fit: string; sha256: string },
): Promise<ScenarioSourceRead & { fit: SatelliteFit }> {
  let read = scenarioSourceRead(rules);
  if (read === undefined) {
    const path = candidatePaths(source.fit, undefined)[0];
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch (e) {
      throw new UserError(
        "input",
        `${where}: cannot read ${path}, the fit of the rules' scenario_source (${
          (e as Error).message
        }); run deno task scenarios again or fix scenario_source.fit`,
      );
    }
    const sha = createHash("sha256").update(bytes).digest("hex");
    if (sha !== source.sha256) {
      throw new UserError(
        "input",
        `${where}: ${path} has SHA-256 ${sha}, not the ${source.sha256} of the rules' scenario_source: the fit changed since it wrote the scenarios; write them again with deno task scenarios`,
      );
    }
    try {
      read = { path, report: JSON.parse(new TextDecoder().decode(bytes)) };
    } catch (e) {
      throw new UserError(
        "input",
        `${where}: ${path} is not JSON (${(e as Error).message})`,
      );
    }
  }
  const fit = (read!.report as { fit?: SatelliteFit }).fit;
  if (
    typeof fit !== "object" || fit === null || !Array.isArray(fit.segments) ||
    typeof fit.scenario_file?.file !== "string"
  ) {
    throw new UserError(
      "input",
      `${where}: ${
        read!.path
      } is not a fit report of deno task scenarios (no fit.segments or fit.scenario_file)`,
    );
  }
  return { ...read!, fit };
}

/**
 * Warnings of macro shifts against a fit: a shifted variable no segment's
 * model uses moves nothing but, for house prices, the haircut.
 */
export function macroShiftWarnings(
  fit: SatelliteFit,
  shifts: readonly MacroStressShift[],
): string[] {
  const used = new Set(
    fit.segments.flatMap((s) => s.terms.map((t) => t.variable)),
  );
  return [...new Set(shifts.map((s) => s.variable))]
    .filter((v) => !used.has(v))
    .map((v) =>
      `${v} is in no segment's fitted model (dropped by the selection in all ${fit.segments.length}): shifting it moves ${
        v === "house_price_growth" ? "only the collateral haircuts" : "nothing"
      }`
    );
}

/**
 * The rules' scenarios with each one's `z` and collateral haircut from the
 * macro paths shifted by `shifts` (see the module's text).
 *
 * @param where the stress's key path, for the messages
 *   (`sensitivity.stresses[2].macro`).
 * @param warnings where to add the stress's warnings (a shifted variable
 *   no fitted segment uses), each opening with `where`.
 * @throws {UserError} `input` when the fit or the scenario file cannot be
 *   read, is not the one recorded, or does not give the rules' scenarios;
 *   `usage` for a shift naming a variable, region or scenario the file
 *   lacks; `check` when a shifted `z` leaves the rules' bound.
 */
export async function macroStressScenarios(
  rules: Rules,
  shifts: readonly MacroStressShift[],
  where: string,
  warnings?: string[],
): Promise<Scenario[]> {
  const source = rules.scenario_source;
  if (source === undefined) {
    throw new UserError(
      "input",
      `${where}: needs the rules' scenario_source (the fitted model that wrote the scenarios)`,
    );
  }
  const read = await readFit(where, rules, source);
  const { fit } = read;
  const haircut = (read.report as {
    adjustments?: { haircut?: Record<string, number> };
  }).adjustments?.haircut;
  const found = fitScenarioFile(read);
  if ("problem" in found) {
    throw new UserError("input", `${where}: ${found.problem}`);
  }
  const file = await loadScenarioFile(found.path);
  const project = (shift: MacroStressShift[]) => {
    try {
      return scenarioAdjustments(fit, file, {
        shift,
        haircut,
        writeRho: false,
      });
    } catch (e) {
      if (e instanceof UserError) {
        throw new UserError(e.kind, `${where}: ${e.message}`, { cause: e });
      }
      throw e;
    }
  };
  const problems = scenarioMismatches(
    project([]).scenarios,
    rules.scenarios,
    MACRO_MATCH_TOLERANCE,
    "the projection",
  );
  if (problems.length > 0) {
    throw new UserError(
      "input",
      `${where}: the rules' scenarios are not those the fit ${read.path} gives from ${file.file} (${
        problems.map((p) => `${p.path} ${p.message}`).join("; ")
      }); a macro stress shifts the model the allowance was computed with: write the scenarios again with deno task scenarios`,
    );
  }
  warnings?.push(
    ...macroShiftWarnings(fit, shifts).map((w) => `${where}: ${w}`),
  );
  const stressed = project([...shifts]).scenarios;
  return rules.scenarios.map((s, i) => ({
    ...s,
    z: stressed[i].z,
    collateral_haircut: stressed[i].collateral_haircut,
  }));
}
