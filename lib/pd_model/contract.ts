/**
 * The feature contract of a PD model (`types.ts`): its schema (the rules
 * file's `pd_source.features`, a `model.json`'s `features`, an ONNX file's
 * embedded contract), the encoding of a Polars frame's columns into the
 * {@link EncodedData} a model reads, and the check of a contract against an
 * ONNX model's declared inputs and outputs, so that a mismatch is refused,
 * naming the feature and the model file, before any row is scored.
 *
 * Encoding (the convention of `types.ts`): a `number` feature is read as a
 * Float64; a text column (a CSV portfolio is read as text) is read by the
 * PD area's ONE rule for a number in text, `parseNumberText` of
 * `train_data.ts` (training reads the same way): a blank or a missing word
 * (`NA`, `n.a.`, `null`, ...) is missing, a finite number is that number,
 * and anything else (`high`, `1,5`, `Infinity`) is REFUSED, naming the
 * column, the row (and its `loan_id`) and the value: a stray word in a
 * numeric characteristic is a data error, never silently scored as
 * missing. `log1p` applies ln(1 + x) (x must be > -1, else the value is
 * missing); a `category` becomes the index of its value in `categories`; a
 * missing value and an unknown category are NaN, and both are counted per
 * feature so a caller can report them.
 *
 * When scoring (`refuseAllMissing`), a feature missing on EVERY row
 * encoded is refused, naming it: a model scoring facilities without one of
 * its characteristics scores them all from their missing bin, which moves
 * the ECL with no one told; unless the development sample had it missing
 * often ({@link ALL_MISSING_DEVELOPMENT_SHARE}: the LTV of unsecured
 * loans). A share missing well above the development sample's
 * ({@link missingShareWarnings}) is a warning.
 *
 * The contract's schema itself lives in `lib/pd_source_rules.ts`, beside
 * the rules file's `pd_source` key that uses it (the rules sit below this
 * area), and is re-exported here.
 *
 * @module
 */
import pl from "nodejs-polars";
import onnxProto from "onnx-proto";
import { UserError } from "../errors.ts";
import { featureContractSchema } from "../pd_source_rules.ts";
import { parseNumberText } from "./train_data.ts";
import type { DataFrame, DataType } from "../frame.ts";
import {
  type BinnedShares,
  CONTRACT_METADATA_KEY,
  type EncodedData,
  type FeatureSpec,
  PD_OUTPUT,
} from "./types.ts";

const { onnx } = onnxProto;

export {
  featureContractSchema,
  MAX_CATEGORIES,
  MAX_FEATURES,
  type OnnxPdSource,
  type PdSource,
  pdSourceSchema,
} from "../pd_source_rules.ts";

/**
 * A contract checked against {@link featureContractSchema}, normalised
 * ({@link normalizeContract}).
 *
 * @param where What the contract is, opening the message
 *   (`models/pd/model.json: features`).
 * @throws {UserError} kind `input`, listing every problem with its path.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFeatureContract } from "./contract.ts";
 *
 * const c = parseFeatureContract([{ name: "ltv", kind: "number" }], "inline");
 * assert.deepEqual(c, [{ name: "ltv", kind: "number", transform: "identity" }]);
 * assert.throws(
 *   () => parseFeatureContract([{ name: "job", kind: "category" }], "inline"),
 *   /inline: features\[0\]\.categories: is required for a category feature \(job\)/,
 * );
 * ```
 */
export function parseFeatureContract(
  value: unknown,
  where: string,
): FeatureSpec[] {
  const parsed = featureContractSchema.safeParse(value);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) =>
      `${where}: features${
        i.path.map((p) => typeof p === "number" ? `[${p}]` : `.${String(p)}`)
          .join("")
      }: ${i.message}`
    );
    throw new UserError("input", lines.join("\n"));
  }
  return normalizeContract(parsed.data);
}

/**
 * A contract with its defaults written out (`transform: identity` on
 * number features) and no key a kind does not use, so two contracts that
 * mean the same compare equal.
 */
export function normalizeContract(features: FeatureSpec[]): FeatureSpec[] {
  return features.map((f) =>
    f.kind === "category"
      ? { name: f.name, kind: "category", categories: [...f.categories ?? []] }
      : { name: f.name, kind: "number", transform: f.transform ?? "identity" }
  );
}

/**
 * How contract `b` (`bName`, e.g. `the model`) differs from `a` (`aName`,
 * e.g. `the rules`), one message per feature: features missing from
 * either, a different order, kinds, categories (and their order, since a
 * category's code is its index) and transforms. Empty when they agree.
 */
export function contractDifferences(
  a: FeatureSpec[],
  b: FeatureSpec[],
  aName: string,
  bName: string,
): string[] {
  const na = normalizeContract(a), nb = normalizeContract(b);
  const problems: string[] = [];
  const inB = new Map(nb.map((f, i) => [f.name, { f, i }]));
  const inA = new Set(na.map((f) => f.name));
  for (const [i, fa] of na.entries()) {
    const found = inB.get(fa.name);
    if (found === undefined) {
      problems.push(`feature ${fa.name}: in ${aName}, not in ${bName}`);
      continue;
    }
    const fb = found.f;
    if (found.i !== i) {
      problems.push(
        `feature ${fa.name}: position ${i + 1} in ${aName}, ${
          found.i + 1
        } in ${bName}`,
      );
    }
    if (fa.kind !== fb.kind) {
      problems.push(
        `feature ${fa.name}: ${fa.kind} in ${aName}, ${fb.kind} in ${bName}`,
      );
    } else if (fa.kind === "category") {
      const ca = fa.categories!, cb = fb.categories!;
      if (ca.length !== cb.length || ca.some((c, k) => c !== cb[k])) {
        problems.push(
          `feature ${fa.name}: categories ${JSON.stringify(ca)} in ${aName}, ${
            JSON.stringify(cb)
          } in ${bName} (a category's code is its index, so the lists must be equal, in order)`,
        );
      }
    } else if (fa.transform !== fb.transform) {
      problems.push(
        `feature ${fa.name}: transform ${fa.transform} in ${aName}, ${fb.transform} in ${bName}`,
      );
    }
  }
  for (const fb of nb) {
    if (!inA.has(fb.name)) {
      problems.push(`feature ${fb.name}: in ${bName}, not in ${aName}`);
    }
  }
  return problems;
}

/**
 * The feature contract an ONNX file carries in its `metadata_props` under
 * {@link CONTRACT_METADATA_KEY}, checked; `undefined` when it has none.
 *
 * @param model The file's name, for the messages.
 * @throws {UserError} kind `input` when the bytes are not an ONNX model or
 *   the embedded contract is not valid JSON or not a valid contract.
 */
export function embeddedContract(
  bytes: Uint8Array,
  model: string,
): FeatureSpec[] | undefined {
  let props: { key?: string | null; value?: string | null }[];
  try {
    props = onnx.ModelProto.decode(bytes).metadataProps ?? [];
  } catch (e) {
    throw new UserError(
      "input",
      `PD model ${model}: not an ONNX model file (${(e as Error).message})`,
      { cause: e },
    );
  }
  const prop = props.find((p) => p.key === CONTRACT_METADATA_KEY);
  if (prop === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(prop.value ?? "");
  } catch {
    throw new UserError(
      "input",
      `PD model ${model}: its metadata ${CONTRACT_METADATA_KEY} is not valid JSON`,
    );
  }
  return parseFeatureContract(
    value,
    `PD model ${model} (metadata ${CONTRACT_METADATA_KEY})`,
  );
}

/** One input or output of an ONNX session, as `onnxruntime-node` describes it. */
export interface ValueMetadata {
  /** Its name in the graph. */
  name: string;
  /** Whether it is a tensor. */
  isTensor: boolean;
  /** Element type of a tensor (`float64`, `float32`, ...). */
  type?: string;
  /** Dimensions: numbers, or names of symbolic dimensions. */
  shape?: readonly (number | string)[];
}

/** What {@link checkModelContract} reads of a session. */
export interface SessionSignature {
  /** The graph's inputs, in order. */
  inputMetadata: readonly ValueMetadata[];
  /** The graph's outputs. */
  outputMetadata: readonly ValueMetadata[];
}

/** `[N,1]`, `[?]`, ...: a shape as the messages show it. */
function shapeText(shape: readonly (number | string)[] | undefined): string {
  return shape === undefined
    ? "unknown"
    : `[${
      shape.map((d) => typeof d === "number" && d >= 0 ? d : "N").join(", ")
    }]`;
}

/** Whether a dimension is the batch dimension (symbolic, or -1). */
const isBatch = (d: number | string | undefined) =>
  typeof d === "string" || d === -1 || d === undefined;

/**
 * Checks an ONNX model's signature against a feature contract, before any
 * scoring (`types.ts`, "The ONNX convention"): every feature is an input
 * of the same name, at the same position, `float64` of shape `[N, 1]`; the
 * model has no other input; it has the output `output` (default `pd`),
 * `float64` of shape `[N, 1]` or `[N, 2]`; and the contract embedded in the
 * file, when there is one, equals `features` (kinds, categories in order,
 * transforms).
 *
 * @param options.model The model file, named in the message.
 * @param options.where What asked for it (`rules.yaml: segments.retail.pd_source`), opening the message.
 * @param options.embedded The contract the file carries ({@link embeddedContract}).
 * @param options.output The output read as the PD. @default "pd"
 * @throws {UserError} kind `input` listing every mismatch, each naming the
 *   feature (or the input or output) concerned.
 */
export function checkModelContract(
  session: SessionSignature,
  features: FeatureSpec[],
  options: {
    model: string;
    where?: string;
    embedded?: FeatureSpec[];
    output?: string;
  },
): void {
  const problems: string[] = [];
  const inputs = session.inputMetadata;
  const byName = new Map(inputs.map((m, i) => [m.name, { m, i }]));
  for (const [i, f] of features.entries()) {
    const found = byName.get(f.name);
    if (found === undefined) {
      problems.push(
        `feature ${f.name}: the model has no input of that name (its inputs: ${
          inputs.map((m) => m.name).join(", ") || "none"
        })`,
      );
      continue;
    }
    if (found.i !== i) {
      problems.push(
        `feature ${f.name}: input ${found.i + 1} of the model, feature ${
          i + 1
        } of the contract (the order must be the same)`,
      );
    }
    const m = found.m;
    if (!m.isTensor || m.type !== "float64") {
      problems.push(
        `feature ${f.name}: the model's input is ${
          m.isTensor ? m.type : "not a tensor"
        }, the convention is float64 (tensor(double))`,
      );
    }
    const shape = m.shape;
    if (
      shape !== undefined &&
      (shape.length !== 2 || !isBatch(shape[0]) || shape[1] !== 1)
    ) {
      problems.push(
        `feature ${f.name}: the model's input has shape ${
          shapeText(shape)
        }, the convention is [N, 1]`,
      );
    }
  }
  const names = new Set(features.map((f) => f.name));
  for (const m of inputs) {
    if (!names.has(m.name)) {
      problems.push(
        `input ${m.name}: the model reads it, but it is not a feature of the contract`,
      );
    }
  }
  const outName = options.output ?? PD_OUTPUT;
  const out = session.outputMetadata.find((m) => m.name === outName);
  if (out === undefined) {
    problems.push(
      `output ${outName}: the model has no output of that name (its outputs: ${
        session.outputMetadata.map((m) => m.name).join(", ") || "none"
      })`,
    );
  } else {
    if (!out.isTensor || out.type !== "float64") {
      problems.push(
        `output ${outName}: ${
          out.isTensor ? out.type : "not a tensor"
        }, the convention is float64 (tensor(double))`,
      );
    }
    const s = out.shape;
    if (
      s !== undefined && s.length > 0 &&
      (s.length !== 2 || (s[1] !== 1 && s[1] !== 2 && !isBatch(s[1])))
    ) {
      problems.push(
        `output ${outName}: shape ${
          shapeText(s)
        }, the convention is [N, 1] (or a classifier's [N, 2], column 2 read)`,
      );
    }
  }
  if (options.embedded !== undefined) {
    problems.push(
      ...contractDifferences(
        features,
        options.embedded,
        "the contract given",
        "the model's embedded contract",
      ),
    );
  }
  if (problems.length > 0) {
    throw new UserError(
      "input",
      `${
        options.where ? `${options.where}: ` : ""
      }PD model ${options.model} does not match its feature contract; nothing was scored:\n${
        problems.map((p) => `  - ${p}`).join("\n")
      }`,
    );
  }
}

/**
 * The features of `features` whose column `columns` lacks, in contract
 * order.
 */
export function missingFeatureColumns(
  columns: Iterable<string>,
  features: FeatureSpec[],
): string[] {
  const present = new Set(columns);
  return features.filter((f) => !present.has(f.name)).map((f) => f.name);
}

/**
 * Refuses data that lacks a feature column, naming every missing column.
 *
 * @param data The data file (or what the frame is), for the message.
 * @param model The model file, for the message.
 * @throws {UserError} kind `input`.
 */
export function requireFeatureColumns(
  columns: Iterable<string>,
  features: FeatureSpec[],
  data: string,
  model: string,
): void {
  const missing = missingFeatureColumns(columns, features);
  if (missing.length > 0) {
    throw new UserError(
      "input",
      `${data}: missing feature column${missing.length === 1 ? "" : "s"} ${
        missing.join(", ")
      } that PD model ${model} reads (its feature contract: ${
        features.map((f) => f.name).join(", ")
      })`,
    );
  }
}

/** The encoded features of a frame, and what was missing or unknown. */
export interface EncodedFeatures {
  /** The columns, in contract order, NaN for missing or unknown. */
  data: EncodedData;
  /**
   * Per feature, rows whose value is missing: null, blank, unparseable,
   * not finite, or outside the transform's domain (log1p of x <= -1).
   */
  missing: Record<string, number>;
  /** Per category feature, rows whose value is not one of its categories. */
  unknown: Record<string, number>;
}

/** Whether a Polars type is text. */
const isText = (t: DataType) =>
  t.variant === "String" || t.variant === "Utf8" || t.variant === "Categorical";

/** How a refusal names row `i` (0-based) of the data. */
export type RowName = (i: number) => string;

/** The text of a value for a message. */
const shown = (v: unknown) =>
  typeof v === "string" ? JSON.stringify(v) : String(v);

/**
 * A number feature's values as Float64, NaN when missing, by the one rule
 * (see the module's notes). A text column is cast by Polars first (the
 * fast path, for what it reads as a finite number); every other non-null
 * cell is read by `parseNumberText`, each distinct text once, so a
 * million-row CSV costs one cast and a handful of parses.
 *
 * @throws {UserError} kind `input` naming the column, the first row whose
 *   cell is not a number and its value.
 */
function numberValues(
  df: DataFrame,
  name: string,
  type: DataType,
  where: { data: string; rowName: RowName },
): Float64Array {
  const refuse = (row: number, value: unknown): never => {
    throw new UserError(
      "input",
      `${where.data}: column ${name}, ${where.rowName(row)}: ${
        shown(value)
      } is not a number (a numeric characteristic holds finite numbers, or a blank, NA, N/A, n.a., null, NaN, none or - for missing); nothing was scored`,
    );
  };
  if (!isText(type)) {
    const out = Float64Array.from(
      df.select(
        pl.col(name).cast(pl.Float64, false).fillNull(pl.lit(NaN)).alias("v"),
      ).getColumn("v").toTypedArray() as ArrayLike<number>,
    );
    for (let r = 0; r < out.length; r++) {
      if (out[r] === Infinity || out[r] === -Infinity) refuse(r, out[r]);
    }
    return out;
  }
  const text = pl.col(name).cast(pl.Utf8).str.strip();
  const frame = df.select(
    text.alias("t"),
    text.cast(pl.Float64, false).alias("v"),
  );
  const out = Float64Array.from(
    frame.select(pl.col("v").fillNull(pl.lit(NaN)).alias("v")).getColumn("v")
      .toTypedArray() as ArrayLike<number>,
  );
  // Cells Polars did not read as a finite number, but that hold text.
  const strays = frame.withRowIndex("row").filter(
    pl.col("t").isNotNull().and(
      pl.col("v").isNull().or(pl.col("v").isNan()).or(
        pl.col("v").isInfinite(),
      ),
    ),
  );
  if (strays.height === 0) return out;
  const rows = strays.getColumn("row").toArray() as number[];
  const texts = strays.getColumn("t").toArray() as string[];
  const parsed = new Map<string, number | undefined>();
  for (let k = 0; k < rows.length; k++) {
    const t = texts[k];
    if (!parsed.has(t)) parsed.set(t, parseNumberText(t));
    const x = parsed.get(t);
    if (x === undefined) refuse(Number(rows[k]), t);
    out[Number(rows[k])] = x!;
  }
  return out;
}

/**
 * A category feature's codes (its value's index in `categories`, the
 * first when listed twice; NaN when missing or unknown) and whether each
 * value is missing (null or blank after trimming). The codes come from a
 * left join with the small table of categories, which keeps the rows'
 * order and is several times faster than a chain of comparisons.
 */
function categoryCodes(
  df: DataFrame,
  f: FeatureSpec,
): { codes: Float64Array; blank: Uint8Array } {
  const keys: string[] = [], codes: number[] = [];
  const seen = new Set<string>();
  for (const [k, c] of (f.categories ?? []).entries()) {
    if (seen.has(c)) continue;
    seen.add(c);
    keys.push(c);
    codes.push(k);
  }
  const table = pl.DataFrame({
    key: pl.Series("key", keys, pl.Utf8),
    code: pl.Series("code", codes, pl.Float64),
  });
  const joined = df.select(
    pl.col(f.name).cast(pl.Utf8).str.strip().alias("key"),
  ).join(table, { on: "key", how: "left" });
  const out = joined.select(
    pl.col("code").fillNull(pl.lit(NaN)).alias("code"),
    pl.col("key").isNull().or(pl.col("key").eq(pl.lit(""))).cast(pl.UInt8)
      .alias("blank"),
  );
  return {
    codes: Float64Array.from(
      out.getColumn("code").toTypedArray() as ArrayLike<number>,
    ),
    blank: Uint8Array.from(
      out.getColumn("blank").toTypedArray() as ArrayLike<number>,
    ),
  };
}

/**
 * Encodes the feature columns of `df` per contract into
 * {@link EncodedData} (see the module's notes), counting missing values
 * and unknown categories per feature.
 *
 * @param options.data The data, for the message when a column is missing.
 * @param options.model The model, for that message.
 * @param options.rowName How a refusal names a row. @default `row N (loan_id X)`
 *   when `df` has a `loan_id` column, else `row N`
 * @param options.refuseAllMissing Refuse a feature missing on every row
 *   (scoring), unless `reference` shows the development sample had it
 *   missing on at least {@link ALL_MISSING_DEVELOPMENT_SHARE}.
 * @param options.reference The development sample's distributions
 *   (`model.json`'s `reference.features`), when known.
 * @throws {UserError} kind `input` naming every feature column `df` lacks;
 *   a numeric cell that is not a number (column, row, value); with
 *   `refuseAllMissing`, a feature missing on every row.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { encodeFeatures } from "./contract.ts";
 *
 * const df = pl.DataFrame({ amount: ["0", " 1 ", "NA"], job: ["a", "b", "z"] });
 * const { data, missing, unknown } = encodeFeatures(df, [
 *   { name: "amount", kind: "number", transform: "log1p" },
 *   { name: "job", kind: "category", categories: ["a", "b"] },
 * ]);
 * assert.deepEqual([...data.columns[0]], [0, Math.log(2), NaN]);
 * assert.deepEqual([...data.columns[1]], [0, 1, NaN]);
 * assert.deepEqual([missing.amount, unknown.job], [1, 1]);
 * ```
 */
export function encodeFeatures(
  df: DataFrame,
  features: FeatureSpec[],
  options: {
    data?: string;
    model?: string;
    rowName?: RowName;
    refuseAllMissing?: boolean;
    reference?: Record<string, BinnedShares>;
  } = {},
): EncodedFeatures {
  const data = options.data ?? "the data";
  requireFeatureColumns(
    df.columns,
    features,
    data,
    options.model ?? "the model",
  );
  const schema = df.schema as Record<string, DataType>;
  const rows = df.height;
  const ids = options.rowName === undefined && df.columns.includes("loan_id")
    ? df.getColumn("loan_id").cast(pl.Utf8).toArray() as (string | null)[]
    : undefined;
  const rowName: RowName = options.rowName ??
    ((i) =>
      ids?.[i] != null ? `row ${i + 1} (loan_id ${ids[i]})` : `row ${i + 1}`);
  const columns: Float64Array[] = [];
  const missing: Record<string, number> = {};
  const unknown: Record<string, number> = {};
  for (const f of features) {
    if (f.kind === "number") {
      // A fresh array: the transform writes into it.
      const col = numberValues(df, f.name, schema[f.name], { data, rowName });
      const log1p = f.transform === "log1p";
      let nan = 0;
      for (let r = 0; r < rows; r++) {
        let x = col[r];
        if (log1p) x = x > -1 ? Math.log1p(x) : NaN;
        if (!Number.isFinite(x)) {
          x = NaN;
          nan++;
        }
        col[r] = x;
      }
      missing[f.name] = nan;
      columns.push(col);
    } else {
      const { codes, blank } = categoryCodes(df, f);
      let miss = 0, unk = 0;
      for (let r = 0; r < rows; r++) {
        if (Number.isNaN(codes[r])) {
          if (blank[r]) miss++;
          else unk++;
        }
      }
      missing[f.name] = miss;
      unknown[f.name] = unk;
      columns.push(codes);
    }
  }
  if (options.refuseAllMissing && rows > 0) {
    const empty = features.filter((f) =>
      missing[f.name] === rows &&
      !(developmentMissingShare(options.reference, f.name) >=
        ALL_MISSING_DEVELOPMENT_SHARE)
    );
    if (empty.length > 0) {
      throw new UserError(
        "input",
        `${data}: feature${empty.length === 1 ? "" : "s"} ${
          empty.map((f) => f.name).join(", ")
        } of PD model ${options.model ?? "the model"} ${
          empty.length === 1 ? "is" : "are"
        } missing on every one of the ${rows} row${
          rows === 1 ? "" : "s"
        } to score: the model would score them all without ${
          empty.length === 1 ? "it" : "them"
        }; nothing was scored (fill the column, or score with a model that does not read it)`,
      );
    }
  }
  return { data: { features, columns, rows }, missing, unknown };
}

/**
 * The development sample's share of a feature that was missing (the last
 * bin of the reference's distribution), or NaN when the reference does not
 * describe it.
 */
function developmentMissingShare(
  reference: Record<string, BinnedShares> | undefined,
  name: string,
): number {
  const shares = reference?.[name]?.shares;
  if (!Array.isArray(shares) || shares.length === 0) return NaN;
  const e = Number(shares[shares.length - 1]);
  return Number.isFinite(e) ? e : NaN;
}

/**
 * A feature missing on every row scored is accepted only when the
 * development sample had it missing on at least this share (5%): a
 * characteristic that is structurally absent for some products (the LTV
 * of an unsecured loan), whose missing bin the model learned from many
 * rows. Below it, or without a development reference (a model built
 * elsewhere), it is refused.
 */
export const ALL_MISSING_DEVELOPMENT_SHARE = 0.05;

/**
 * How far above the development sample's a feature's missing share may go
 * before a warning: the share must be at least this many points above it
 * (5 percentage points) and at least {@link MISSING_SHARE_RATIO} times it.
 */
export const MISSING_SHARE_MARGIN = 0.05;
/** See {@link MISSING_SHARE_MARGIN}. */
export const MISSING_SHARE_RATIO = 2;

/**
 * Warnings for features missing on a clearly larger share of the rows
 * scored than of the development sample: a share `a` against the
 * development share `e` (the last, missing, bin of the reference's
 * distribution of the feature, `model.json`'s `reference.features`) when
 * a − e >= {@link MISSING_SHARE_MARGIN} and a >= {@link MISSING_SHARE_RATIO}
 * · e. A feature the reference does not describe is skipped (a model
 * built elsewhere has no development sample here).
 *
 * @param where What opens each warning (a rules key, a data file).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { missingShareWarnings } from "./contract.ts";
 *
 * const ref = { ltv: { edges: [0.8], shares: [0.5, 0.48, 0.02] } };
 * assert.equal(missingShareWarnings({ ltv: 30 }, 100, ref, "x").length, 1);
 * assert.equal(missingShareWarnings({ ltv: 5 }, 100, ref, "x").length, 0);
 * ```
 */
export function missingShareWarnings(
  missing: Record<string, number>,
  rows: number,
  reference: Record<string, BinnedShares> | undefined,
  where: string,
): string[] {
  if (rows === 0 || reference === undefined) return [];
  const out: string[] = [];
  for (const [name, n] of Object.entries(missing)) {
    const e = developmentMissingShare(reference, name);
    if (Number.isNaN(e)) continue;
    const a = n / rows;
    if (a - e >= MISSING_SHARE_MARGIN && a >= MISSING_SHARE_RATIO * e) {
      out.push(
        `${where}: feature ${name}: missing on ${n} of ${rows} facilities (${
          (100 * a).toFixed(1)
        }%) against ${
          (100 * e).toFixed(1)
        }% of the development sample, scored from the missing bin`,
      );
    }
  }
  return out;
}
