/**
 * The fact sheet of existing folders: a complete run folder and,
 * optionally, a movement folder whose later run it is (`deno task
 * explain`). The run is read with the checks of a trusted read
 * (`readRunFolder`, lib/run_folder); the movement's `movement.json` is
 * checked for the keys the sheet reads.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { fxDateWarning } from "../fx.ts";
import {
  locate,
  type Manifest,
  MOVEMENT_FILES,
  overlayWarnings,
  readRunFolder,
  type RunFolder,
} from "../run_folder/mod.ts";
import { buildFactSheet, type FactSheet, type MovementFacts } from "./facts.ts";
import {
  type ExplainSettings,
  type Narrative,
  writeNarrative,
} from "./narrative.ts";
import { safeNarrative } from "./fallback.ts";

/**
 * The `explain` settings a run's rules had, as its manifest records them
 * (`inputs.rules.parameters`, key paths `explain.model`, ...); none
 * recorded: empty (the template). The provider is not taken from the
 * folder: a movement or `deno task explain` sends the facts to a model
 * only when its operator says so (`--provider vertex` or
 * `IFRS9_EXPLAIN_PROVIDER=vertex`), whatever the data records.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recordedExplain } from "./read.ts";
 * import type { Manifest } from "../run_folder/mod.ts";
 *
 * const manifest = { inputs: { rules: { parameters: {
 *   "explain.provider": "vertex", "explain.timeout_seconds": 5 } } } } as unknown as Manifest;
 * assert.deepEqual(recordedExplain(manifest), { timeout_seconds: 5 });
 * ```
 */
export function recordedExplain(
  manifest: Manifest | null | undefined,
): Partial<ExplainSettings> {
  const p = manifest?.inputs?.rules?.parameters ?? {};
  const out: Partial<ExplainSettings> = {};
  for (const k of ["model", "project", "location"] as const) {
    const v = p[`explain.${k}`];
    if (typeof v === "string") out[k] = v;
  }
  const timeout = p["explain.timeout_seconds"];
  if (typeof timeout === "number") out.timeout_seconds = timeout;
  return out;
}

/** The warnings a run's report shows beyond its manifest's. */
export function runWarnings(run: Pick<RunFolder, "summary">): string[] {
  const s = run.summary;
  const fx = fxDateWarning(s.fx, s.reporting_date);
  return [...(fx === null ? [] : [fx]), ...overlayWarnings(s)];
}

/**
 * Reads `movement.json` of a movement folder (or the file itself).
 *
 * @throws {UserError} of kind `input` naming the folder and what is wrong.
 */
export async function readMovementFacts(dir: string): Promise<MovementFacts> {
  const isFile = dir.endsWith(".json");
  const folder = locate(isFile ? dir.replace(/\/[^/]*$/, "") || "." : dir);
  const name = isFile
    ? dir.slice(dir.lastIndexOf("/") + 1)
    : MOVEMENT_FILES.json;
  const where = `Cannot read movement ${folder.href}: ${name}`;
  let text: string;
  try {
    text = await folder.readText(name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UserError(
        "input",
        `${where}: file is missing (give the folder deno task movement --out wrote)`,
      );
    }
    throw e;
  }
  let m: MovementFacts;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new UserError(
      "input",
      `${where}: not valid JSON: ${(e as Error).message}`,
    );
  }
  const missing = [
    typeof m?.from?.reporting_date !== "string" && "from.reporting_date",
    typeof m?.to?.reporting_date !== "string" && "to.reporting_date",
    !Array.isArray(m?.allowance?.lines) && "allowance.lines",
    !Array.isArray(m?.by_product) && "by_product",
    typeof m?.facilities !== "object" && "facilities",
  ].filter((k): k is string => typeof k === "string");
  if (missing.length > 0) {
    throw new UserError(
      "input",
      `${where}: keys ${missing.join(", ")} are missing or of the wrong type`,
    );
  }
  m.warnings ??= [];
  return m;
}

/** The text of `name` in `folder`, or null when there is no such file. */
async function textOrNull(
  folder: ReturnType<typeof locate>,
  name: string,
): Promise<string | null> {
  try {
    return await folder.readText(name);
  } catch (e) {
    if (
      e instanceof Deno.errors.NotFound ||
      e instanceof Deno.errors.NotADirectory
    ) return null;
    throw e;
  }
}

/**
 * Refuses, in words a user can act on, a `--run` folder that is not a run
 * with a summary: a movement folder (`movement.json`, no `summary.json`:
 * give it as `--movement`) or a failed run (`<run_id>.failed`, or a
 * manifest whose status is `failed`: there is nothing to explain). Any
 * other folder is left to `readRunFolder`'s checks.
 *
 * @throws {UserError} kind `usage` for a movement folder, `input` for a
 *   failed run, naming the folder.
 */
export async function checkRunFolderGiven(runDir: string): Promise<void> {
  // A run in object storage is sealed: readRunFolder's own checks apply.
  if (/^s3:\/\//i.test(runDir)) return;
  const folder = locate(runDir);
  if (await textOrNull(folder, "summary.json") !== null) return;
  if ((await folder.list()).length === 0) {
    throw new UserError(
      "input",
      `--run ${runDir}: no such run folder (or it is empty); give the folder of a complete run`,
    );
  }
  if (await textOrNull(folder, MOVEMENT_FILES.json) !== null) {
    throw new UserError(
      "usage",
      `--run ${runDir} is a movement folder (${MOVEMENT_FILES.json}), not a run folder: give it as --movement ${runDir}, with the later run it compares as --run`,
    );
  }
  const manifestText = await textOrNull(folder, "manifest.json");
  let manifest: { status?: unknown; error?: unknown } | null = null;
  try {
    manifest = manifestText === null ? null : JSON.parse(manifestText);
  } catch {
    manifest = null;
  }
  const failedName = folder.href.replace(/\/+$/, "").endsWith(".failed");
  if (failedName || manifest?.status === "failed") {
    const why = typeof manifest?.error === "string"
      ? `: ${manifest.error.split("\n")[0]}`
      : "";
    throw new UserError(
      "input",
      `--run ${runDir}: the run failed${why}; it has no results to explain (give a complete run folder)`,
    );
  }
}

/**
 * The fact sheet of a complete run folder and, optionally, of the movement
 * into it.
 *
 * @throws {UserError} of kind `input` when a folder cannot be read, or the
 *   movement does not end at the run's reporting date.
 */
export async function readFactSheet(
  runDir: string,
  movementDir?: string,
): Promise<FactSheet> {
  await checkRunFolderGiven(runDir);
  const run = await readRunFolder(runDir, { trusted: true });
  const movement = movementDir === undefined
    ? null
    : await readMovementFacts(movementDir);
  try {
    return buildFactSheet({
      summary: run.summary,
      manifest: run.manifest,
      dataQuality: run.dataQuality,
      movement,
      warnings: runWarnings(run),
    });
  } catch (e) {
    if (e instanceof RangeError) {
      throw new UserError(
        "usage",
        `--movement ${movementDir}: ${e.message} (${runDir})`,
      );
    }
    throw e;
  }
}

/**
 * The narrative of a run folder being written (a run or a merge): the
 * fact sheet of what the folder holds and its manifest, written by
 * `settings`' provider; whatever fails leaves a minimal text with the
 * reason, never a failed run (fallback.ts). Returns what `narrative.json`
 * should hold.
 */
export async function narrateRunFolder(
  folder: { read(): Promise<RunFolder> },
  manifest: Manifest,
  settings: ExplainSettings,
): Promise<Narrative> {
  const staged = await folder.read();
  return await safeNarrative(
    () =>
      writeNarrative(
        buildFactSheet({
          summary: staged.summary,
          manifest,
          dataQuality: staged.dataQuality,
          warnings: runWarnings(staged),
        }),
        settings,
      ),
    {
      run_id: staged.summary.run_id,
      reporting_date: staged.summary.reporting_date,
      reporting_currency: staged.summary.reporting_currency,
      ecl: staged.summary.totals?.ecl,
      settings,
    },
  );
}
