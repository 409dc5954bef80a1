/**
 * Scoring a data file with a trained model folder (`deno task score-pd`,
 * issue 13 item 6; docs/pd_models.md "Scoring in a run"): every input row
 * comes back as it was read with `pd` and, for a scorecard, its `score`
 * and the reason codes `reason_1` .. `reason_3` (the characteristics that
 * cost the row the most points, `reasonCodes` of `scorecard.ts`), all
 * scored through ONNX Runtime from `model.onnx` (`onnx_score.ts`), whose
 * signature is checked against `model.json`'s feature contract first.
 *
 * @module
 */
import { join } from "node:path";
import pl from "nodejs-polars";
import type { DataFrame, Series } from "../frame.ts";
import { UserError } from "../errors.ts";
import { PortfolioReadError, scanPortfolio } from "../io/mod.ts";
import { encodeFeatures } from "./contract.ts";
import { MONITOR_MODEL_FILES, readPdModelJson } from "./monitor.ts";
import {
  loadPdModel,
  type PdScores,
  releasePdModel,
  scorePd,
} from "./onnx_score.ts";
import { reasonCodes, scorecardFromJson } from "./scorecard.ts";

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
}

/** Reads a data file whole, its failures worded for scoring. */
async function readData(path: string): Promise<DataFrame> {
  try {
    return await scanPortfolio(path).collect();
  } catch (e) {
    if (e instanceof PortfolioReadError) {
      throw new UserError(
        "input",
        `Cannot read the data to score ${e.file}: ${
          e.line === undefined ? "" : `line ${e.line}: `
        }${e.problem}`,
        { cause: e },
      );
    }
    throw e;
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
export async function scorePdData(input: ScoreDataInput): Promise<ScoredData> {
  const modelFile = await readPdModelJson(input.model);
  const jsonPath = join(input.model, MONITOR_MODEL_FILES.json);
  const onnxPath = join(input.model, MONITOR_MODEL_FILES.onnx);
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
    ? await readData(input.data)
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
  const encoded = encodeFeatures(df, model.features, {
    data: name,
    model: onnxPath,
  });
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
    model: { path: model.path, sha256: model.sha256 },
    missing: encoded.missing,
    unknown: encoded.unknown,
  };
}
