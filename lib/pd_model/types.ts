/**
 * The shared shapes of the PD-model area: the feature contract that ties a
 * model to portfolio columns, the encoded development data both trainers
 * take, the ONNX input/output convention every model file follows, and the
 * `model.json` envelope a trained model is saved in.
 *
 * The ONNX convention (so that a model trained elsewhere can be named as a
 * segment's PD source, see `pd_source` in the rules):
 * - one graph input per feature, named as the feature, `tensor(double)` of
 *   shape `[N, 1]`, in the contract's order; categories arrive as their
 *   index in {@link FeatureSpec.categories}, a missing or unknown value as
 *   NaN;
 * - an output named {@link PD_OUTPUT} (`pd`), `tensor(double)` `[N, 1]`,
 *   the 12-month probability of default in (0, 1); a classifier's
 *   `[N, 2]` probabilities are accepted and column 1 is taken;
 * - a scorecard adds {@link SCORE_OUTPUT} (`score`, `[N, 1]`) and
 *   {@link POINTS_OUTPUT} (`points`, `[N, F]`, the points of each
 *   characteristic, for reason codes);
 * - the contract is stored in the model's `metadata_props` under
 *   {@link CONTRACT_METADATA_KEY} as JSON, so a model file carries its own
 *   feature contract.
 *
 * @module
 */

/** How a characteristic enters a model. */
export type FeatureKind = "number" | "category";

/**
 * A transform applied to a numeric column before the model sees it:
 * `identity`, or `log1p` (ln(1 + x), for skewed amounts; x must be > -1).
 */
export type FeatureTransform = "identity" | "log1p";

/** One characteristic of the feature contract. */
export interface FeatureSpec {
  /** The portfolio column, and the ONNX input of the same name. */
  name: string;
  /** Numeric, or categorical (encoded as the index of its category). */
  kind: FeatureKind;
  /**
   * For `category`: the known values; a value's code is its index here. A
   * value not listed is treated as missing (NaN) and counted.
   */
  categories?: string[];
  /** For `number`: the transform applied before the model. @default "identity" */
  transform?: FeatureTransform;
}

/**
 * Development (or scoring) data, encoded for the trainers: one
 * `Float64Array` per feature in contract order, NaN for missing, categories
 * as codes; the target as 0/1 (absent when scoring).
 */
export interface EncodedData {
  /** The feature contract the columns follow. */
  features: FeatureSpec[];
  /** One column per feature, each `rows` long. */
  columns: Float64Array[];
  /** 1 when the facility defaulted within the outcome window, else 0. */
  target?: Uint8Array;
  /** Number of rows. */
  rows: number;
}

/** Name of the probability output of every PD model file. */
export const PD_OUTPUT = "pd";
/** Name of a scorecard's score output. */
export const SCORE_OUTPUT = "score";
/** Name of a scorecard's points-per-characteristic output. */
export const POINTS_OUTPUT = "points";
/** The `metadata_props` key holding the feature contract as JSON. */
export const CONTRACT_METADATA_KEY = "ifrs9.feature_contract";

/** The kinds of model the project trains. */
export type PdModelKind = "scorecard" | "gbt";

/** What a trained model records about its training. */
export interface TrainingRecord {
  /** The data file trained on, as given. */
  data: string;
  /** SHA-256 of the data file. */
  data_sha256: string;
  /** The target column. */
  target: string;
  /** Rows used for fitting and held out for validation. */
  rows: { train: number; held_out: number };
  /** Defaults (target = 1) in each part. */
  defaults: { train: number; held_out: number };
  /** The seed of the train/held-out split and any randomness. */
  seed: number;
  /** When it was trained (ISO 8601). */
  trained_at: string;
}

/**
 * The `model.json` envelope written next to `model.onnx`. `model` holds the
 * kind's own parameters (the scorecard's bins, coefficients and points
 * scaling, or the trees), as that kind's module defines them.
 */
export interface PdModelFile {
  /** Always `ifrs9-pd-model`. */
  format: "ifrs9-pd-model";
  /** Version of this envelope. */
  version: 1;
  /** Scorecard (champion) or gradient-boosted trees (challenger). */
  kind: PdModelKind;
  /** The feature contract, the same as in the ONNX file's metadata. */
  features: FeatureSpec[];
  /** How it was trained. */
  training: TrainingRecord;
  /** The kind's own parameters. */
  model: unknown;
  /**
   * The development sample's distributions, the baseline that monitoring
   * compares later populations with (population stability).
   */
  reference: DevelopmentReference;
}

/** A binned distribution: shares of a population falling in each bin. */
export interface BinnedShares {
  /**
   * For a numeric quantity, the inner bin edges (k edges make k + 1 bins;
   * a value equal to an edge falls in the upper bin); absent for a
   * category.
   */
  edges?: number[];
  /** For a category, the values in bin order (the last bin is "other"). */
  categories?: string[];
  /** Share of the population in each bin (then a final missing bin), summing to 1. */
  shares: number[];
}

/** One grade of a PD master scale: PDs up to `upper_pd` (inclusive). */
export interface MasterScaleGrade {
  /** Grade name, e.g. `G04`. */
  grade: string;
  /** Highest PD in the grade; the last grade's is 1. */
  upper_pd: number;
}

/** What monitoring compares a new population with. */
export interface DevelopmentReference {
  /** The model's score (points, or the PD for trees) on the development sample. */
  score: BinnedShares;
  /** Each feature's distribution on the development sample, by name. */
  features: Record<string, BinnedShares>;
  /** The master scale that groups PDs into grades for the backtest. */
  master_scale: MasterScaleGrade[];
}
