/**
 * A macro stress of the sensitivity table (docs/sensitivity.md,
 * docs/scenarios.md): the macro paths shifted, then turned into every
 * scenario's `z` and collateral haircut by the same fitted satellite model
 * that wrote the rules' scenarios (IFRS 9 §5.5.17(c), B5.5.42-B5.5.54;
 * methodology §4 `z_shift`, §6 haircut).
 *
 * The model is the rules' `scenario_source` (`fit.json` of `deno task
 * scenarios`, its SHA-256 checked), the macro paths the scenario file the
 * fit names (its SHA-256 checked too). Before the shift is applied the
 * unshifted projection must give the rules' scenarios (names in order, `z`
 * and haircuts to 1e-6): a stress is only a stress of the model the
 * allowance was computed with. Paths are read as the fit recorded them
 * (relative to the working directory, as `deno task scenarios` writes
 * them).
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

/** Tolerance of the check that the fit gives the rules' scenarios. */
export const MACRO_MATCH_TOLERANCE = 1e-6;

/** The fit of `fit.json`, read and checked against the rules' SHA-256. */
async function readFit(
  where: string,
  source: { fit: string; sha256: string },
): Promise<{ fit: SatelliteFit; haircut?: Record<string, number> }> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(source.fit);
  } catch (e) {
    throw new UserError(
      "input",
      `${where}: cannot read ${source.fit}, the fit of the rules' scenario_source (${
        (e as Error).message
      }); run deno task scenarios again or fix scenario_source.fit`,
    );
  }
  const sha = createHash("sha256").update(bytes).digest("hex");
  if (sha !== source.sha256) {
    throw new UserError(
      "input",
      `${where}: ${source.fit} has SHA-256 ${sha}, not the ${source.sha256} of the rules' scenario_source: the fit changed since it wrote the scenarios; write them again with deno task scenarios`,
    );
  }
  let report: {
    fit?: SatelliteFit;
    adjustments?: { haircut?: Record<string, number> };
  };
  try {
    report = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new UserError(
      "input",
      `${where}: ${source.fit} is not JSON (${(e as Error).message})`,
    );
  }
  const fit = report?.fit;
  if (
    typeof fit !== "object" || fit === null || !Array.isArray(fit.segments) ||
    typeof fit.scenario_file?.file !== "string"
  ) {
    throw new UserError(
      "input",
      `${where}: ${source.fit} is not a fit report of deno task scenarios (no fit.segments or fit.scenario_file)`,
    );
  }
  return { fit, haircut: report.adjustments?.haircut };
}

/**
 * The rules' scenarios with each one's `z` and collateral haircut from the
 * macro paths shifted by `shifts` (see the module's text).
 *
 * @param where the stress's key path, for the messages
 *   (`sensitivity.stresses[2].macro`).
 * @throws {UserError} `input` when the fit or the scenario file cannot be
 *   read, is not the one recorded, or does not give the rules' scenarios;
 *   `usage` for a shift naming a variable, region or scenario the file
 *   lacks; `check` when a shifted `z` leaves the rules' bound.
 */
export async function macroStressScenarios(
  rules: Rules,
  shifts: readonly MacroStressShift[],
  where: string,
): Promise<Scenario[]> {
  const source = rules.scenario_source;
  if (source === undefined) {
    throw new UserError(
      "input",
      `${where}: needs the rules' scenario_source (the fitted model that wrote the scenarios)`,
    );
  }
  const { fit, haircut } = await readFit(where, source);
  const file = await loadScenarioFile(fit.scenario_file.file);
  if (file.sha256 !== fit.scenario_file.sha256) {
    throw new UserError(
      "input",
      `${where}: the scenario file ${file.file} has SHA-256 ${file.sha256}, not the ${fit.scenario_file.sha256} the fit ${source.fit} was made with; write the scenarios again with deno task scenarios`,
    );
  }
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
  const base = project([]).scenarios;
  const mismatch = (): string | undefined => {
    if (base.length !== rules.scenarios.length) {
      return `it gives ${base.length} scenarios, the rules have ${rules.scenarios.length}`;
    }
    for (const [i, r] of rules.scenarios.entries()) {
      const b = base[i];
      if (b.name !== r.name) {
        return `scenario ${i + 1} is ${b.name} there, ${r.name} in the rules`;
      }
      const z = r.z ?? [];
      if (
        z.length !== b.z.length ||
        z.some((v, y) => Math.abs(v - b.z[y]) > MACRO_MATCH_TOLERANCE)
      ) {
        return `${r.name}: z ${JSON.stringify(b.z)} there, ${
          JSON.stringify(z)
        } in the rules`;
      }
      if (
        Math.abs(b.collateral_haircut - r.collateral_haircut) >
          MACRO_MATCH_TOLERANCE
      ) {
        return `${r.name}: collateral_haircut ${b.collateral_haircut} there, ${r.collateral_haircut} in the rules`;
      }
    }
    return undefined;
  };
  const problem = mismatch();
  if (problem !== undefined) {
    throw new UserError(
      "input",
      `${where}: the rules' scenarios are not those the fit ${source.fit} gives from ${file.file} (${problem}); a macro stress shifts the model the allowance was computed with: write the scenarios again with deno task scenarios`,
    );
  }
  const stressed = project([...shifts]).scenarios;
  return rules.scenarios.map((s, i) => ({
    ...s,
    z: stressed[i].z,
    collateral_haircut: stressed[i].collateral_haircut,
  }));
}
