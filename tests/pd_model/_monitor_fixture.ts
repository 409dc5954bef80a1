/**
 * A model folder built by hand, independently of the trainers, for the
 * monitoring tests: a logistic model over four characteristics exported
 * with the project's ONNX builder (MatMul, Add, Sigmoid; a scorecard-like
 * `score` of 600 − 20/ln 2 · logit), its `model.json` with the
 * development reference, and development and monitoring data drawn from
 * known distributions: the monitored population has lower credit scores,
 * more unemployed borrowers and defaults at 1.8 times the model's PD.
 *
 * @module
 */
import {
  developmentReference,
  type EncodedData,
  type FeatureSpec,
  type PdModelFile,
} from "../../lib/mod.ts";
import { buildPdModel } from "../../lib/pd_model/onnx_build.ts";

export const FEATURES: FeatureSpec[] = [
  { name: "credit_score", kind: "number" },
  { name: "debt_to_income", kind: "number" },
  { name: "months_on_book", kind: "number", transform: "log1p" },
  {
    name: "employment_type",
    kind: "category",
    categories: ["employed", "self_employed", "unemployed"],
  },
];

/** logit = INTERCEPT + Σ WEIGHTS · encoded value. */
export const INTERCEPT = 8;
export const WEIGHTS = [-0.018, 2, -0.3, 0.5];
/** Points to double the odds, and the score at even odds. */
const PDO = 20, BASE = 600;

export const TARGET = "default_12m";

/** Seeded uniform numbers in [0, 1) (mulberry32). */
export function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One population: raw rows, their encoding, PDs, scores and outcomes. */
export interface Population {
  rows: {
    loan_id: string;
    credit_score: number;
    debt_to_income: number;
    months_on_book: number;
    employment_type: string;
  }[];
  encoded: EncodedData;
  pd: Float64Array;
  score: Float64Array;
  labels: Uint8Array;
}

/**
 * `n` rows; `shift` lowers credit scores by 20 points and triples the
 * share of unemployed borrowers; defaults happen at `pdFactor` times the
 * model's PD.
 */
export function population(
  n: number,
  seed: number,
  { shift = false, pdFactor = 1 } = {},
): Population {
  const u = random(seed);
  const rows: Population["rows"] = [];
  const cols = FEATURES.map(() => new Float64Array(n));
  const pd = new Float64Array(n), score = new Float64Array(n);
  const labels = new Uint8Array(n);
  const cats = FEATURES[3].categories!;
  for (let i = 0; i < n; i++) {
    const cs = Math.round(560 + 240 * u() - (shift ? 20 : 0));
    const dti = Math.round(600 * u()) / 1000;
    const mob = 1 + Math.floor(119 * u());
    const r = u();
    const emp = r < (shift ? 0.3 : 0.1)
      ? "unemployed"
      : r < 0.35
      ? "self_employed"
      : "employed";
    rows.push({
      loan_id: `L${seed}-${i}`,
      credit_score: cs,
      debt_to_income: dti,
      months_on_book: mob,
      employment_type: emp,
    });
    const x = [cs, dti, Math.log1p(mob), cats.indexOf(emp)];
    x.forEach((v, j) => (cols[j][i] = v));
    const logit = INTERCEPT + x.reduce((a, v, j) => a + v * WEIGHTS[j], 0);
    pd[i] = 1 / (1 + Math.exp(-logit));
    score[i] = BASE - (PDO / Math.LN2) * logit;
    labels[i] = u() < Math.min(1, pd[i] * pdFactor) ? 1 : 0;
  }
  return {
    rows,
    encoded: { features: FEATURES, columns: cols, rows: n, target: labels },
    pd,
    score,
    labels,
  };
}

/** The ONNX file of the hand-built model. */
export function modelBytes(): Uint8Array {
  return buildPdModel({
    features: FEATURES,
    nodes: [
      { op: "MatMul", inputs: ["features", "W"], outputs: ["xw"] },
      { op: "Add", inputs: ["xw", "B"], outputs: ["logit"] },
      { op: "Sigmoid", inputs: ["logit"], outputs: ["pd"] },
      { op: "Mul", inputs: ["logit", "S"], outputs: ["scaled"] },
      { op: "Add", inputs: ["scaled", "O"], outputs: ["score"] },
    ],
    initializers: [
      { name: "W", type: "double", dims: [4, 1], values: WEIGHTS },
      { name: "B", type: "double", dims: [1], values: [INTERCEPT] },
      { name: "S", type: "double", dims: [1], values: [-PDO / Math.LN2] },
      { name: "O", type: "double", dims: [1], values: [BASE] },
    ],
    extraOutputs: [{ name: "score", width: 1 }],
  });
}

/** The `model.json` of the hand-built model, its reference from `dev`. */
export function modelFile(dev: Population): PdModelFile {
  return {
    format: "ifrs9-pd-model",
    version: 1,
    kind: "scorecard",
    features: FEATURES,
    training: {
      data: "development.csv",
      data_sha256: "",
      target: TARGET,
      rows: { train: dev.encoded.rows, held_out: 0 },
      defaults: { train: dev.labels.reduce((a, b) => a + b, 0), held_out: 0 },
      seed: 1,
      trained_at: "2026-01-15T10:00:00.000Z",
    },
    model: { note: "a logistic model built by hand for the tests" },
    reference: developmentReference(dev.score, dev.encoded),
  };
}

/** A CSV of the rows, with the outcome column unless `withTarget` is false. */
export function csv(p: Population, withTarget = true): string {
  const head = [
    "loan_id",
    ...FEATURES.map((f) => f.name),
    ...(withTarget ? [TARGET] : []),
  ];
  const lines = p.rows.map((r, i) =>
    [
      r.loan_id,
      r.credit_score,
      r.debt_to_income,
      r.months_on_book,
      r.employment_type,
      ...(withTarget ? [p.labels[i]] : []),
    ].join(",")
  );
  return [head.join(","), ...lines].join("\n") + "\n";
}

/** Writes model.json and model.onnx into `dir`; returns the development population. */
export async function writeModelFolder(
  dir: string,
  devRows = 4000,
): Promise<Population> {
  const dev = population(devRows, 1);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeFile(`${dir}/model.onnx`, modelBytes());
  await Deno.writeTextFile(
    `${dir}/model.json`,
    JSON.stringify(modelFile(dev), null, 2),
  );
  return dev;
}
