/**
 * Scoring with a PD model file through ONNX Runtime (`onnxruntime-node`):
 * the file is read once ({@link readModelBytes}, which also hashes it for
 * the manifest), an inference session is created from its bytes, its
 * signature is checked against the feature contract (`contract.ts`)
 * before any row is scored, and the rows are scored in batches
 * ({@link DEFAULT_SCORE_BATCH} rows) into a `Float64Array` of 12-month
 * PDs, with the scorecard's `score` and `points` outputs when the model
 * has them (`types.ts`, "The ONNX convention").
 *
 * A PD must be finite and strictly between 0 and 1 (the 12-month PD of
 * methodology §4 feeds a survival curve and the SICR ratio of §3, which
 * need 0 < p < 1); a model that returns anything else is refused, naming
 * the model and the first row at fault, rather than passed on.
 *
 * @module
 */
import { createHash } from "node:crypto";
import * as ort from "onnxruntime-node";
import { UserError } from "../errors.ts";
import { readInputBytes } from "../storage/mod.ts";
import {
  checkModelContract,
  embeddedContract,
  normalizeContract,
} from "./contract.ts";
import {
  type EncodedData,
  type FeatureSpec,
  PD_OUTPUT,
  POINTS_OUTPUT,
  SCORE_OUTPUT,
} from "./types.ts";

/** Rows scored per call of the session: bounds the tensors held at once. */
export const DEFAULT_SCORE_BATCH = 262_144;

/**
 * The largest model file read: 512 MiB. A scorecard is a few KB and 200
 * trees of depth 4 under a megabyte; a larger file is not a PD model (a
 * wrong path, a data file).
 */
export const MAX_MODEL_BYTES = 512 * 1024 * 1024;

/**
 * The options every session is created with: ONNX Runtime logs errors
 * only (`logSeverityLevel` 3: 0 verbose, 1 info, 2 warning, 3 error, 4
 * fatal). Its warnings (a shape it merges, such as a classifier's
 * `[N, 3]` output: "MergeShapeInfo") would print in colour before the
 * project's own one-line message; what matters of a model is checked and
 * worded here (`checkModelContract`).
 */
const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  logSeverityLevel: 3,
};
ort.env.logLevel = "error";

/** A model file's bytes and what identifies them. */
export interface ModelBytes {
  /** The path (or URL) as given. */
  path: string;
  /** The file's bytes. */
  bytes: Uint8Array;
  /** SHA-256 of the bytes, lower-case hex. */
  sha256: string;
}

/** SHA-256 of bytes, lower-case hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Reads a model file whole and hashes it: the one place a PD model's bytes
 * are read. A local path or an `s3://bucket/key` URL, read through the
 * project's one input reader (`lib/storage`, `readInputBytes`).
 *
 * @throws {UserError} naming the file: missing, not a regular file,
 *   unreadable, empty, or larger than {@link MAX_MODEL_BYTES}.
 */
export async function readModelBytes(pathOrUrl: string): Promise<ModelBytes> {
  let bytes: Uint8Array;
  try {
    bytes = await readInputBytes(pathOrUrl, { maxBytes: MAX_MODEL_BYTES });
  } catch (e) {
    throw new UserError(
      e instanceof UserError ? e.kind : "input",
      `PD model: ${(e as Error).message}`,
      { cause: e },
    );
  }
  if (bytes.length === 0) {
    throw new UserError("input", `PD model ${pathOrUrl} is empty`);
  }
  return { path: pathOrUrl, bytes, sha256: sha256Hex(bytes) };
}

/** A PD model ready to score: its session, contract and identity. */
export interface PdModel {
  /** The model file as given. */
  path: string;
  /** SHA-256 of its bytes. */
  sha256: string;
  /** The feature contract it was checked against (normalised). */
  features: FeatureSpec[];
  /** Whether `features` came from the file itself (none was given). */
  embedded: boolean;
  /** The output read as the PD. */
  output: string;
  /** Width of the `points` output (0 without one). */
  pointsWidth: number;
  /** Whether it has a `score` output. */
  hasScore: boolean;
  /** The model's input names, in order. */
  inputNames: readonly string[];
  /** The model's output names. */
  outputNames: readonly string[];
}

/**
 * The ONNX Runtime session of each loaded model: kept out of the
 * {@link PdModel} value so that the library's public types do not carry
 * the runtime's.
 */
const SESSIONS = new WeakMap<PdModel, ort.InferenceSession>();

/** The session of a model {@link pdModelFromBytes} loaded. */
function sessionOf(model: PdModel): ort.InferenceSession {
  const session = SESSIONS.get(model);
  if (session === undefined) {
    throw new UserError(
      "internal",
      `PD model ${model.path} was not loaded by loadPdModel() or pdModelFromBytes()`,
    );
  }
  return session;
}

/** Options of {@link loadPdModel}. */
export interface LoadPdModelOptions {
  /**
   * The contract to check the model against; absent: the contract the
   * file embeds (an error when it has none).
   */
  features?: FeatureSpec[];
  /** The output read as the PD. @default "pd" */
  output?: string;
  /** What asked for the model, opening the messages (a rules key). */
  where?: string;
}

/**
 * Reads a model file, creates its session and checks its signature and
 * embedded contract against `features` (or takes the embedded contract),
 * all before any row is scored.
 *
 * @throws {UserError} kind `input` naming the model (and the feature) when
 *   the file cannot be read or is not a model ONNX Runtime can load, has
 *   no contract to use, or does not match the contract.
 */
export async function loadPdModel(
  pathOrUrl: string,
  options: LoadPdModelOptions = {},
): Promise<PdModel> {
  const file = await readModelBytes(pathOrUrl);
  return await pdModelFromBytes(file, options);
}

/** {@link loadPdModel} from bytes already read. */
export async function pdModelFromBytes(
  file: ModelBytes,
  options: LoadPdModelOptions = {},
): Promise<PdModel> {
  const prefix = options.where ? `${options.where}: ` : "";
  const embedded = embeddedContract(file.bytes, file.path);
  const features = options.features ?? embedded;
  if (features === undefined) {
    throw new UserError(
      "input",
      `${prefix}PD model ${file.path} carries no feature contract (metadata ifrs9.feature_contract): list the features it reads`,
    );
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(file.bytes, SESSION_OPTIONS);
  } catch (e) {
    throw new UserError(
      "input",
      `${prefix}PD model ${file.path} cannot be loaded by ONNX Runtime: ${
        (e as Error).message
      }`,
      { cause: e },
    );
  }
  const output = options.output ?? PD_OUTPUT;
  const signature = {
    inputMetadata: session.inputMetadata as unknown as {
      name: string;
      isTensor: boolean;
      type?: string;
      shape?: (number | string)[];
    }[],
    outputMetadata: session.outputMetadata as unknown as {
      name: string;
      isTensor: boolean;
      type?: string;
      shape?: (number | string)[];
    }[],
  };
  checkModelContract(signature, features, {
    model: file.path,
    where: options.where,
    embedded: options.features === undefined ? undefined : embedded,
    output,
  });
  const points = signature.outputMetadata.find((m) => m.name === POINTS_OUTPUT);
  const width = points?.shape?.[1];
  const model: PdModel = {
    path: file.path,
    sha256: file.sha256,
    features: normalizeContract(features),
    embedded: options.features === undefined,
    output,
    pointsWidth: points === undefined
      ? 0
      : typeof width === "number" && width > 0
      ? width
      : features.length,
    hasScore: session.outputNames.includes(SCORE_OUTPUT),
    inputNames: [...session.inputNames],
    outputNames: [...session.outputNames],
  };
  SESSIONS.set(model, session);
  return model;
}

/**
 * Frees the native memory of a model's session; the model cannot score
 * afterwards. Releasing twice, or a model never loaded, does nothing.
 */
export async function releasePdModel(model: PdModel): Promise<void> {
  const session = SESSIONS.get(model);
  if (session === undefined) return;
  SESSIONS.delete(model);
  await session.release();
}

/** What a model gave for each row. */
export interface PdScores {
  /** The 12-month PD of each row, in (0, 1). */
  pd: Float64Array;
  /** A scorecard's score of each row (when the model has the output). */
  score?: Float64Array;
  /**
   * A scorecard's points per characteristic, row-major (`rows * width`),
   * when the model has the output.
   */
  points?: Float64Array;
  /** Columns of `points`. */
  pointsWidth: number;
}

/** Options of {@link scorePd}. */
export interface ScorePdOptions {
  /** Rows per session call. @default {@link DEFAULT_SCORE_BATCH} */
  batchSize?: number;
  /** Also read `score` and `points` when the model has them. @default false */
  extras?: boolean;
  /** How a row is named in a message (a loan_id); default `row <i + 1>`. */
  rowName?: (i: number) => string;
  /** What asked for the scores, opening the messages. */
  where?: string;
}

/**
 * Scores encoded rows through the model's session, in batches, and checks
 * every PD.
 *
 * @throws {UserError} kind `input` when the data's contract is not the
 *   model's; kind `check` naming the model and the first row whose PD is
 *   not finite or not in (0, 1).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildPdModel } from "./onnx_build.ts";
 * import { pdModelFromBytes, scorePd, sha256Hex } from "./onnx_score.ts";
 *
 * // pd = sigmoid(x)
 * const bytes = buildPdModel({
 *   features: [{ name: "x", kind: "number" }],
 *   nodes: [{ op: "Sigmoid", inputs: ["features"], outputs: ["pd"] }],
 * });
 * const model = await pdModelFromBytes({ path: "x.onnx", bytes, sha256: sha256Hex(bytes) });
 * const { pd } = await scorePd(model, {
 *   features: model.features, columns: [new Float64Array([0, Math.log(3)])], rows: 2,
 * });
 * assert.deepEqual([...pd], [0.5, 0.75]);
 * ```
 */
export async function scorePd(
  model: PdModel,
  data: EncodedData,
  options: ScorePdOptions = {},
): Promise<PdScores> {
  const names = model.features.map((f) => f.name);
  if (
    data.columns.length !== names.length ||
    data.features.some((f, i) => f.name !== names[i])
  ) {
    throw new UserError(
      "input",
      `PD model ${model.path}: the data is encoded for features ${
        data.features.map((f) => f.name).join(", ")
      }, the model reads ${names.join(", ")}`,
    );
  }
  const session = sessionOf(model);
  const rows = data.rows;
  const batch = Math.max(1, options.batchSize ?? DEFAULT_SCORE_BATCH);
  const extras = options.extras ?? false;
  const wanted = [model.output];
  if (extras && model.hasScore) wanted.push(SCORE_OUTPUT);
  if (extras && model.pointsWidth > 0) wanted.push(POINTS_OUTPUT);
  const pd = new Float64Array(rows);
  const score = wanted.includes(SCORE_OUTPUT)
    ? new Float64Array(rows)
    : undefined;
  const width = model.pointsWidth;
  const points = wanted.includes(POINTS_OUTPUT)
    ? new Float64Array(rows * width)
    : undefined;
  const prefix = options.where ? `${options.where}: ` : "";
  for (let start = 0; start < rows; start += batch) {
    const n = Math.min(batch, rows - start);
    const feeds: Record<string, ort.Tensor> = {};
    for (const [i, name] of names.entries()) {
      feeds[name] = new ort.Tensor(
        "float64",
        data.columns[i].subarray(start, start + n),
        [n, 1],
      );
    }
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await session.run(feeds, wanted);
    } catch (e) {
      throw new UserError(
        "input",
        `${prefix}PD model ${model.path} failed to score rows ${start + 1}-${
          start + n
        }: ${(e as Error).message}`,
        { cause: e },
      );
    }
    const p = out[model.output] as ort.Tensor;
    const values = p.data as Float64Array;
    const cols = p.dims.length === 2 ? Number(p.dims[1]) : 1;
    if (values.length !== n * cols || (cols !== 1 && cols !== 2)) {
      throw new UserError(
        "input",
        `${prefix}PD model ${model.path}: output ${model.output} has shape [${
          p.dims.join(", ")
        }] for ${n} rows, the convention is [N, 1] or [N, 2]`,
      );
    }
    if (cols === 1) pd.set(values, start);
    else for (let r = 0; r < n; r++) pd[start + r] = values[2 * r + 1];
    if (score !== undefined) {
      score.set(
        ((out[SCORE_OUTPUT] as ort.Tensor).data as Float64Array).subarray(
          0,
          n,
        ),
        start,
      );
    }
    if (points !== undefined) {
      points.set(
        ((out[POINTS_OUTPUT] as ort.Tensor).data as Float64Array).subarray(
          0,
          n * width,
        ),
        start * width,
      );
    }
    for (const t of Object.values(out)) (t as ort.Tensor).dispose?.();
  }
  for (let r = 0; r < rows; r++) {
    const p = pd[r];
    if (!(p > 0 && p < 1)) {
      const name = options.rowName?.(r) ?? `row ${r + 1}`;
      throw new UserError(
        "check",
        `${prefix}PD model ${model.path} gave ${name} a PD of ${p}: a 12-month PD must be finite and strictly between 0 and 1 (methodology §4); nothing was scored`,
      );
    }
  }
  return { pd, score, points, pointsWidth: points === undefined ? 0 : width };
}
