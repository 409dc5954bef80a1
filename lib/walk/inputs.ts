/**
 * The inputs of one run as it computed them, for the ECL walk
 * (docs/movement.md §6, ECL walk): the portfolio, rules file and FX table
 * that the run's `manifest.json` names (`inputs.*.path`) are read again and
 * refused, naming the file, when their SHA-256 differs from the one the
 * manifest recorded; so is a PD model the rules name whose SHA-256, output
 * or feature contract differs from the run's record (`pd_models`); the
 * portfolio is then validated with the run's rules,
 * and scored by its PD models where the rules name any, as the run did
 * (methodology §10; docs/pd_models.md, "Scoring in a run").
 *
 * Why re-read rather than keep the valid rows in the run folder: a run
 * folder stays as it is (no second copy of the book, about 100 MB per
 * million loans, in every run), runs written before the walk existed can
 * be walked, and the hashes the manifest has always recorded prove that
 * the bytes read are the bytes the run computed. The price: the inputs
 * must still be where the manifest says (a path relative to the directory
 * the run was started from is also looked for under the project root).
 *
 * Runs with plugins are refused: a plugin's hooks may change any row, so
 * the inputs alone do not determine the run's figures; so are runs of
 * another methodology version than this engine's.
 *
 * @module
 */
import { isAbsolute } from "node:path";
import { UserError } from "../errors.ts";
import type { DataFrame } from "../frame.ts";
import { loadRules, type Rules } from "../rules.ts";
import { type FxTable, loadFx } from "../fx.ts";
import { scanPortfolio } from "../io/mod.ts";
import { requireColumns, validatePortfolio } from "../validation/mod.ts";
import { inputExists, localCopy, sha256Of } from "../storage/mod.ts";
import {
  applyPdSources,
  type LoadedPdSource,
  loadPdSources,
  preparePdSourceFrame,
} from "../pd_model/pd_source.ts";
import { projectPath } from "../project.ts";
import { METHODOLOGY_VERSION } from "../engine/mod.ts";
import type { PdModelRecord, RunFolder } from "../run_folder/mod.ts";

/**
 * Thrown when a run's inputs cannot be read again as its manifest names
 * them: a file missing, a file whose SHA-256 differs, a run with plugins
 * or without a manifest. The message names the run and the file.
 */
export class WalkInputsError extends UserError {
  /**
   * An `input` failure with `message`.
   *
   * @param message What is wrong, naming the run folder and the file.
   */
  constructor(message: string) {
    super("input", message);
    this.name = "WalkInputsError";
  }
}

/** One run's inputs, re-read and checked against its manifest. */
export interface WalkInputs {
  /** The run folder. */
  dir: string;
  /** The run's reporting date. */
  reportingDate: string;
  /** The valid rows, as validation (and PD scoring) gave them to the run. */
  valid: DataFrame;
  /** The rules as run. */
  rules: Rules;
  /** The FX table as run. */
  fx: FxTable;
}

/**
 * Where an input named by a manifest is now: the path itself, or a
 * relative path under the project root; refused when neither exists.
 */
async function locateInput(
  dir: string,
  what: string,
  path: string,
): Promise<string> {
  if (await inputExists(path)) return path;
  if (!isAbsolute(path) && !path.includes("://")) {
    const alt = projectPath(path);
    if (await inputExists(alt)) return alt;
  }
  throw new WalkInputsError(
    `Cannot compute the ECL walk: the ${what} of run ${dir}, ${path} (manifest.json inputs), is not found; put it back, or run the movement with --no-walk`,
  );
}

/** Refuses a file whose bytes are not those the run hashed. */
function checkHash(
  dir: string,
  what: string,
  path: string,
  expected: string,
  actual: string,
): void {
  if (expected !== actual) {
    throw new WalkInputsError(
      `Cannot compute the ECL walk: the ${what} ${path} has changed since run ${dir} read it (SHA-256 ${actual}, manifest.json says ${expected}); restore it, or run the movement with --no-walk`,
    );
  }
}

/**
 * Refuses PD models that are not those the run scored with: one record per
 * model, in the rules' order (`loadPdSources` and the run group them the
 * same way), with the same SHA-256, output and feature contract.
 */
function checkPdModels(
  dir: string,
  rulesPath: string,
  sources: LoadedPdSource[],
  records: PdModelRecord[],
): void {
  if (sources.length !== records.length) {
    throw new WalkInputsError(
      `Cannot compute the ECL walk: the rules file ${rulesPath} names ${sources.length} PD model(s), run ${dir} scored with ${records.length} (manifest.json pd_models); rerun ${dir}, or run the movement with --no-walk`,
    );
  }
  sources.forEach((s, k) => {
    const r = records[k];
    const what = `PD model ${s.model.path} (${rulesPath}: ${s.key})`;
    const differs = r.sha256 !== s.model.sha256
      ? `SHA-256 ${s.model.sha256}, manifest.json pd_models says ${r.sha256}`
      : r.output !== s.model.output
      ? `output ${s.model.output}, the run read ${r.output}`
      : JSON.stringify(r.features) !== JSON.stringify(s.model.features)
      ? "its feature contract differs from the one the run scored with"
      : null;
    if (differs !== null) {
      throw new WalkInputsError(
        `Cannot compute the ECL walk: the ${what} has changed since run ${dir} scored with it (${differs}); restore it, or run the movement with --no-walk`,
      );
    }
  });
}

/**
 * Reads a run's inputs again as its manifest names them, refusing any file
 * whose SHA-256 differs, a run with plugins, and a run without a manifest.
 */
export async function readWalkInputs(run: RunFolder): Promise<WalkInputs> {
  const dir = run.dir;
  const manifest = run.manifest;
  if (manifest === null) {
    throw new WalkInputsError(
      `Cannot compute the ECL walk: run ${dir} has no manifest.json naming its inputs`,
    );
  }
  if ((manifest.plugins ?? []).length > 0) {
    throw new WalkInputsError(
      `Cannot compute the ECL walk: run ${dir} ran plugins (${
        manifest.plugins!.map((p) => p.name).join(", ")
      }), whose hooks may change any row, so its inputs alone do not give its figures; run the movement with --no-walk`,
    );
  }
  if (manifest.methodology_version !== METHODOLOGY_VERSION) {
    throw new WalkInputsError(
      `Cannot compute the ECL walk: run ${dir} was computed under methodology version ${manifest.methodology_version}, this engine computes version ${METHODOLOGY_VERSION}, so re-running it would not give the run's figures; run the movement with --no-walk, or rerun ${dir}`,
    );
  }
  const { portfolio, rules: rulesRef, fx: fxRef } = manifest.inputs;
  const rulesPath = await locateInput(dir, "rules file", rulesRef.path);
  const fxPath = await locateInput(dir, "FX table", fxRef.path);
  const portfolioPath = await locateInput(dir, "portfolio", portfolio.path);
  checkHash(
    dir,
    "rules file",
    rulesPath,
    rulesRef.sha256,
    await sha256Of(rulesPath),
  );
  const rules = await loadRules(rulesPath);
  const fx = await loadFx(fxPath);
  checkHash(dir, "FX table", fxPath, fxRef.sha256, fx.sha256);
  const pdSources = await loadPdSources(rules, rulesPath);
  checkPdModels(dir, rulesPath, pdSources, manifest.pd_models ?? []);
  const copy = await localCopy(portfolioPath);
  try {
    const actual = copy.sha256 ?? await sha256Of(copy.path);
    checkHash(dir, "portfolio", portfolioPath, portfolio.sha256, actual);
    const scanned = preparePdSourceFrame(
      scanPortfolio(copy.path),
      pdSources,
      portfolioPath,
      rules,
    );
    requireColumns(scanned, portfolioPath, rules);
    const raw = pdSources.length === 0
      ? scanned
      : (await applyPdSources(scanned, pdSources, rules, {
        file: portfolioPath,
      })).frame;
    const validation = await validatePortfolio(raw, rules, {
      file: portfolioPath,
      reportingDate: run.summary.reporting_date,
    });
    return {
      dir,
      reportingDate: run.summary.reporting_date,
      valid: validation.valid,
      rules,
      fx,
    };
  } finally {
    await copy.cleanup();
  }
}
