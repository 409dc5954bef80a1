/**
 * Scoring a data file with a trained model folder (`deno task score-pd`,
 * issue 13 item 6; docs/pd_models.md "Scoring in a run"): every input row
 * comes back as it was read with `pd` and, for a scorecard, its `score`
 * and the reason codes `reason_1` .. `reason_3` (the characteristics that
 * cost the row the most points, `reasonCodes` of `scorecard.ts`), all
 * scored through ONNX Runtime from `model.onnx` (`onnx_score.ts`), whose
 * signature is checked against `model.json`'s feature contract first.
 *
 * Also here, for the PD doors (`score-pd`, `monitor-pd`) and `explain`:
 * the model folder read from a local path or an `s3://` prefix
 * ({@link openModelFolder}, through `lib/storage`), the data read through
 * the area's one reader ({@link readPdData}), and the checks and the
 * writing of a door's output file ({@link checkNewOutputFile}: an existing
 * file only with `--replace`, never an input, nor inside a model, run or
 * input folder; {@link writeNewOutputFile}: whole or not at all, one line
 * naming the path when the machine refuses).
 *
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import pl from "nodejs-polars";
import type { DataFrame, Series } from "../frame.ts";
import { UserError } from "../errors.ts";
import {
  checkOutputFile,
  OutputLocationError,
  writeWhole,
} from "../run_folder/mod.ts";
import { isS3Url, readInputBytes } from "../storage/mod.ts";
import { encodeFeatures, missingShareWarnings } from "./contract.ts";
import { MONITOR_MODEL_FILES, readPdModelJson } from "./monitor.ts";
import {
  loadPdModel,
  MAX_MODEL_BYTES,
  type PdScores,
  releasePdModel,
  scorePd,
} from "./onnx_score.ts";
import { reasonCodes, scorecardFromJson } from "./scorecard.ts";
import { type DataFile, readDataFile } from "./train_data.ts";

/** Reason codes per row a scorecard's scores carry. */
export const SCORE_REASONS = 3;

/** The columns {@link scorePdData} adds, for a scorecard (a tree model adds `pd` only). */
export const SCORED_COLUMNS: readonly string[] = [
  "pd",
  "score",
  ...Array.from({ length: SCORE_REASONS }, (_, k) => `reason_${k + 1}`),
];

/** What {@link scorePdData} scores. */
export interface ScoreDataInput {
  /** The model folder (`model.json`, `model.onnx`, as `deno task train-pd` writes it). */
  model: string;
  /** The rows: a CSV, Parquet or Arrow IPC file, or a frame. */
  data: string | DataFrame;
  /** How a frame given as `data` is named in messages. @default "data frame" */
  dataName?: string;
}

/** The scored rows and what scoring them found. */
export interface ScoredData {
  /** Every input row, in order, with the scored columns added. */
  frame: DataFrame;
  /** The model's kind (`model.json`). */
  kind: string;
  /** The model file and its SHA-256. */
  model: { path: string; sha256: string };
  /** Per feature, rows whose value was missing (scored as missing). */
  missing: Record<string, number>;
  /** Per category feature, rows with a category the model does not know. */
  unknown: Record<string, number>;
  /**
   * Features missing on a clearly larger share of the rows than of the
   * development sample (`missingShareWarnings` of `contract.ts`).
   */
  warnings: string[];
}

/**
 * An error thrown while reading local copies, with every copy's path in
 * its message replaced by what the user gave (an `s3://` URL).
 */
function renamed(e: unknown, names: readonly [string, string][]): unknown {
  if (!(e instanceof Error)) return e;
  for (const [local, shown] of names) {
    if (local !== shown) e.message = e.message.replaceAll(local, shown);
  }
  return e;
}

/** A data file read whole by {@link readPdData}. */
export type PdData = DataFile;

/**
 * Reads a data file of the PD doors (`score-pd`, `monitor-pd`) whole
 * through the PD area's one reader (`readDataFile` of `train_data.ts`): a
 * local path or an `s3://bucket/key` URL, CSV, Parquet or Arrow IPC by
 * its first bytes; every failure of the file one line naming it (bytes
 * that are not UTF-8, a quote never closed, a missing object).
 *
 * @param what How the messages call the data (`the data to score`).
 * @throws {UserError} kind `input` naming the path or URL.
 */
export function readPdData(path: string, what: string): Promise<PdData> {
  return readDataFile(path, what);
}

/** A model folder ready to read from this machine ({@link openModelFolder}). */
export interface ModelFolder {
  /** The folder as given (a path or an `s3://` URL). */
  shown: string;
  /** A local folder holding `model.json` and `model.onnx`. */
  dir: string;
  /** Removes a temporary copy; nothing for a local folder. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * A model folder's files (`model.json`, `model.onnx`) on this machine: a
 * local folder as it is; an `s3://bucket/prefix` folder read through
 * `lib/storage` (`readInputBytes`, its one-line errors naming the URL of
 * the object) into a temporary folder, removed on dispose. The files of an
 * URL are `prefix/model.json` and `prefix/model.onnx` (a URL is never
 * joined as a path: `s3://book/m` stays `s3://book/m/model.json`).
 *
 * @throws {UserError} naming the URL of the object that cannot be read.
 */
export async function openModelFolder(model: string): Promise<ModelFolder> {
  if (!isS3Url(model)) {
    return { shown: model, dir: model, [Symbol.asyncDispose]: async () => {} };
  }
  const base = model.replace(/\/+$/, "");
  const dir = await Deno.makeTempDir({ prefix: "ifrs9-model-" });
  const dispose = () => Deno.remove(dir, { recursive: true }).catch(() => {});
  try {
    for (const name of Object.values(MONITOR_MODEL_FILES)) {
      const bytes = await readInputBytes(`${base}/${name}`, {
        maxBytes: MAX_MODEL_BYTES,
      });
      await Deno.writeFile(join(dir, name), bytes);
    }
  } catch (e) {
    await dispose();
    throw e;
  }
  return { shown: base, dir, [Symbol.asyncDispose]: dispose };
}

/**
 * Runs `fn` on a model folder opened with {@link openModelFolder}; an
 * error it throws names the folder as given wherever it named the copy.
 */
export async function withModelFolder<T>(
  model: string,
  fn: (folder: ModelFolder) => Promise<T>,
): Promise<T> {
  await using folder = await openModelFolder(model);
  try {
    return await fn(folder);
  } catch (e) {
    throw renamed(e, [[folder.dir, folder.shown]]);
  }
}

/**
 * Scores every row of `data` with the model folder `model`.
 *
 * @throws {UserError} kind `input`: the model folder cannot be read or its
 *   ONNX file does not match its contract (before any row is scored); the
 *   data cannot be read, lacks a feature column (named) or already has a
 *   column the scores would overwrite (named); kind `check`: a PD outside
 *   (0, 1), naming the row.
 */
export function scorePdData(input: ScoreDataInput): Promise<ScoredData> {
  return withModelFolder(input.model, (folder) => scoreWith(folder, input));
}

/** {@link scorePdData} with the model folder on this machine. */
async function scoreWith(
  folder: ModelFolder,
  input: ScoreDataInput,
): Promise<ScoredData> {
  const modelFile = await readPdModelJson(folder.dir);
  const jsonPath = join(folder.dir, MONITOR_MODEL_FILES.json);
  const onnxPath = join(folder.dir, MONITOR_MODEL_FILES.onnx);
  const model = await loadPdModel(onnxPath, {
    features: modelFile.features,
    where: jsonPath,
  });
  const scorecard = modelFile.kind === "scorecard"
    ? scorecardFromJson(modelFile.model, `${jsonPath}: model`)
    : undefined;
  if (scorecard !== undefined && (!model.hasScore || model.pointsWidth === 0)) {
    throw new UserError(
      "input",
      `${onnxPath}: a scorecard's model file must have the outputs score and points (for the reason codes); it has ${
        model.outputNames.join(", ")
      }`,
    );
  }
  const name = typeof input.data === "string"
    ? input.data
    : input.dataName ?? "data frame";
  const df = typeof input.data === "string"
    ? (await readPdData(input.data, "the data to score")).frame
    : input.data;
  const added = scorecard === undefined ? ["pd"] : SCORED_COLUMNS;
  const clash = added.filter((c) => df.columns.includes(c));
  if (clash.length > 0) {
    throw new UserError(
      "input",
      `${name}: column${clash.length === 1 ? "" : "s"} ${
        clash.join(", ")
      } would be overwritten by the scores; rename or drop ${
        clash.length === 1 ? "it" : "them"
      }`,
    );
  }
  const reference = modelFile.reference?.features;
  const encoded = encodeFeatures(df, model.features, {
    data: name,
    model: onnxPath,
    refuseAllMissing: true,
    reference,
  });
  const warnings = missingShareWarnings(
    encoded.missing,
    encoded.data.rows,
    reference,
    name,
  );
  const ids = df.columns.includes("loan_id")
    ? df.getColumn("loan_id").cast(pl.Utf8).toArray() as (string | null)[]
    : undefined;
  let scores: PdScores;
  try {
    scores = await scorePd(model, encoded.data, {
      extras: scorecard !== undefined,
      where: name,
      rowName: (i) =>
        ids?.[i] != null ? `row ${i + 1} (loan_id ${ids[i]})` : `row ${i + 1}`,
    });
  } finally {
    await releasePdModel(model);
  }
  const columns: Series[] = [pl.Series("pd", scores.pd, pl.Float64)];
  if (scorecard !== undefined) {
    columns.push(pl.Series("score", scores.score!, pl.Float64));
    const reasons = reasonCodes(
      scorecard,
      scores.points!,
      encoded.data.rows,
      SCORE_REASONS,
    );
    reasons.forEach((r, k) =>
      columns.push(pl.Series(`reason_${k + 1}`, r, pl.Utf8))
    );
  }
  return {
    frame: df.withColumns(...columns),
    kind: modelFile.kind,
    model: {
      path: folder.dir === folder.shown
        ? model.path
        : `${folder.shown}/${MONITOR_MODEL_FILES.onnx}`,
      sha256: model.sha256,
    },
    missing: encoded.missing,
    unknown: encoded.unknown,
    warnings,
  };
}

// ---------------------------------------------------------------------------
// The output file of a door (`score-pd --out`, `explain --out`)

/** Options of {@link checkNewOutputFile}. */
export interface NewOutputFileOptions {
  /** The flag that named the path, for the messages. @default "--out" */
  flag?: string;
  /**
   * The inputs (files or folders: a data file, a model folder, a run or
   * movement folder): the output may be none of them, nor inside one.
   */
  inputs?: readonly string[];
  /** Whether an existing file at the path may be replaced (`--replace`). */
  replace?: boolean;
  /** What the door does not write to object storage, for the message. */
  noS3?: string;
}

/**
 * The `model.json` of a PD model folder at `dir`, if `dir` is one (a
 * `model.json` whose `format` is `ifrs9-pd-model`).
 */
async function isModelFolder(dir: string): Promise<boolean> {
  try {
    const text = await Deno.readTextFile(join(dir, MONITOR_MODEL_FILES.json));
    return JSON.parse(text)?.format === "ifrs9-pd-model";
  } catch {
    return false;
  }
}

/** The real path of `path`, or of its nearest existing folder joined with the rest. */
async function realOrResolved(path: string): Promise<string> {
  const abs = resolve(path);
  try {
    return await Deno.realPath(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs
      ? abs
      : join(await realOrResolved(parent), basename(abs));
  }
}

/**
 * Checks, before anything is read, a file a door writes (`score-pd
 * --out`, `explain --out`): the project's checks of an output file
 * (`checkOutputFile`: not a folder, a link or a device, not an input, not
 * inside a run folder, a file can be created beside it), and beyond them:
 *
 * - an existing file is refused unless `replace` (`--replace`) is given:
 *   a door never writes over a portfolio, a snapshot or a report by a
 *   slip of the path;
 * - a path inside a PD model folder (a `model.json` of format
 *   `ifrs9-pd-model` in a folder above it) or inside an input folder (a
 *   run, a movement) is refused even with `replace`: those folders hold
 *   only their own files;
 * - an `s3://` URL is refused, naming what to do instead.
 *
 * @throws {OutputLocationError} kind `usage` (exit 2) naming the path.
 */
export async function checkNewOutputFile(
  target: string,
  opts: NewOutputFileOptions = {},
): Promise<void> {
  const flag = opts.flag ?? "--out";
  if (isS3Url(target)) {
    throw new OutputLocationError(
      target,
      `${flag} takes a local file; ${
        opts.noS3 ?? "this task does not write to object storage"
      }: write it here, then copy it (aws s3 cp)`,
    );
  }
  const inputs = opts.inputs ?? [];
  await checkOutputFile(target, {
    inputs: inputs.filter((i) => !isS3Url(i)),
  });
  const path = await realOrResolved(target);
  for (let dir = dirname(path);; dir = dirname(dir)) {
    if (await isModelFolder(dir)) {
      throw new OutputLocationError(
        target,
        `${dir} is a PD model folder, which holds only the model's own files; write beside it instead`,
      );
    }
    if (dirname(dir) === dir) break;
  }
  for (const input of inputs) {
    if (isS3Url(input)) continue;
    const real = await realOrResolved(input);
    if (path.startsWith(`${real}/`)) {
      throw new OutputLocationError(
        target,
        `it is inside the input ${input}; write beside it instead`,
      );
    }
  }
  let exists = false;
  try {
    exists = (await Deno.lstat(target)).isFile;
  } catch {
    exists = false;
  }
  if (exists && !opts.replace) {
    throw new OutputLocationError(
      target,
      `the file exists; give --replace to write over it, or another ${flag}`,
    );
  }
}

/**
 * Writes the file `target` whole or not at all (a hidden temporary file
 * beside it, renamed last), creating its folder first: `write` writes the
 * temporary file. A failure of the machine (a full disk, a folder that
 * cannot be created, a refused write) is one line naming `target`.
 *
 * @throws {UserError} kind `output` (exit 3) naming the path.
 */
export async function writeNewOutputFile(
  target: string,
  write: (temp: string) => Promise<void> | void,
): Promise<void> {
  const path = resolve(target);
  try {
    await Deno.mkdir(dirname(path), { recursive: true });
    await writeWhole(path, async (temp) => {
      await write(temp);
    });
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(
      "output",
      `Cannot write ${target}: ${
        ((e as Error).message ?? String(e)).split("\n")[0]
      }`,
      { cause: e },
    );
  }
}
