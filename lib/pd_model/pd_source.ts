/**
 * A segment's PD source (the rules file's `segments.<name>.pd_source`,
 * docs/pd_models.md "Scoring in a run"): the portfolio's own
 * `pd_12m_current` column (`column`, the default), or an ONNX model that
 * scores it from the facility's characteristics:
 *
 * ```yaml
 * segments:
 *   retail:
 *     pd_source:
 *       onnx: models/pd/model.onnx      # relative to the rules file
 *       features:                       # optional: the model's embedded contract
 *         - { name: credit_score, kind: number }
 *         - { name: employment_type, kind: category, categories: [employed, self_employed] }
 *       output: pd                      # optional
 * ```
 *
 * Like every segment key, `pd_source` of `default` reaches every segment
 * that does not give its own (methodology §10); `pd_source: column` takes
 * a segment back to the portfolio's column.
 *
 * A run loads every model with the rules, before any data is read
 * ({@link loadPdSources}: file read and hashed, session created, signature
 * and embedded contract checked), checks that the portfolio has every
 * feature column ({@link preparePdSourceFrame}), then scores
 * `pd_12m_current` of the facilities of those segments before validation
 * ({@link applyPdSources}), so the scored PDs go through the same row
 * checks as given ones and staging (methodology §3) and the ECL (§4, §8)
 * read them exactly as they would read the column. A row belongs to the
 * segment the engine computes it under: its `segment` (trimmed), else its
 * `product` (staging's rule), when that names a segment of the rules, else
 * `default`. Facilities of simplified-approach products take no PD (IFRS 9
 * §5.5.15) and are not scored.
 *
 * @module
 */
import { isAbsolute, posix, resolve } from "node:path";
import pl from "nodejs-polars";
import { UserError } from "../errors.ts";
import type { DataType, Expr, LazyFrame } from "../frame.ts";
import { readInputText } from "../storage/mod.ts";
import { parseColumn } from "../validation/mod.ts";
import {
  encodeFeatures,
  missingFeatureColumns,
  missingShareWarnings,
  normalizeContract,
  type OnnxPdSource,
  type PdSource,
} from "./contract.ts";
import type { PdModel } from "./onnx_score.ts";
import type { BinnedShares, FeatureSpec, PdModelFile } from "./types.ts";
import { schemaOf } from "./sample.ts";

/** The portfolio column a PD source fills (methodology §1). */
export const PD_COLUMN = "pd_12m_current";

/** What the PD sources read of the rules (a structural part of `Rules`). */
export interface PdSourceRules {
  /** Segments, merged over `default`, each with its PD source. */
  segments: Record<string, { pd_source?: PdSource }>;
  /** Products, for their approach. */
  products: Record<string, { approach: string }>;
  /**
   * The stage-3 threshold (methodology §3 rule 2): a facility at or above
   * `dpd_default` days past due, or flagged in default, is not scored.
   */
  staging?: { dpd_default: number };
}

/** One model a run scores with, and the segments it scores. */
export interface LoadedPdSource {
  /** The segments whose PD it scores, in the rules' order. */
  segments: string[];
  /** The rules key of its first segment (`segments.retail.pd_source`). */
  key: string;
  /** The model as the rules name it (`onnx`). */
  given: string;
  /** Whether the rules gave the contract (else the model's own). */
  contractFrom: "rules" | "model";
  /** The loaded and checked model. */
  model: PdModel;
  /**
   * The development sample's feature distributions, from the `model.json`
   * beside the model file when `deno task train-pd` wrote it (else
   * absent): the missing shares the run's are compared with.
   */
  reference?: Record<string, BinnedShares>;
}

/**
 * The development reference of the `model.json` beside a model file, when
 * there is one of the project's format; anything else (no file, another
 * JSON) is no reference: a model built elsewhere has none.
 */
async function referenceBeside(
  path: string,
): Promise<Record<string, BinnedShares> | undefined> {
  const slash = path.lastIndexOf("/");
  const json = `${slash < 0 ? "." : path.slice(0, slash)}/model.json`;
  try {
    const file = JSON.parse(
      await readInputText(json, { maxBytes: 64 * 1024 * 1024 }),
    ) as PdModelFile;
    return file?.format === "ifrs9-pd-model" &&
        typeof file.reference?.features === "object"
      ? file.reference.features
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A model path of the rules as read: an absolute path or URL as written,
 * else relative to the rules file's folder (or prefix, for a rules file in
 * object storage), like the plugins' modules.
 */
export function modelPath(onnx: string, rulesFile: string): string {
  if (isAbsolute(onnx) || /^[a-z][a-z0-9+.-]*:\/\//i.test(onnx)) return onnx;
  const s3 = /^(s3:\/\/[^/]+)\/(.*)$/i.exec(rulesFile);
  if (s3 !== null) {
    return `${s3[1]}/${posix.join(posix.dirname(s3[2]), onnx)}`;
  }
  return resolve(rulesFile, "..", onnx);
}

/**
 * Loads the models the rules name as PD sources, each once (segments that
 * share a model, a contract and an output share it), and checks each
 * against its contract: all before any data is read.
 *
 * @param rulesFile The rules file: model paths are relative to its folder.
 * @throws {UserError} kind `input` naming the rules file, the key and the
 *   model (and the feature when the contract does not match).
 */
export async function loadPdSources(
  rules: PdSourceRules,
  rulesFile: string,
): Promise<LoadedPdSource[]> {
  const groups = new Map<
    string,
    { segments: string[]; source: OnnxPdSource; path: string }
  >();
  for (const [segment, s] of Object.entries(rules.segments)) {
    const source = s.pd_source;
    if (source === undefined || source === "column") continue;
    const path = modelPath(source.onnx, rulesFile);
    const id = JSON.stringify([
      path,
      source.output ?? "pd",
      source.features ? normalizeContract(source.features) : null,
    ]);
    const group = groups.get(id);
    if (group) group.segments.push(segment);
    else groups.set(id, { segments: [segment], source, path });
  }
  const loaded: LoadedPdSource[] = [];
  if (groups.size === 0) return loaded;
  // ONNX Runtime (a native library) is loaded only by runs that score.
  const { loadPdModel } = await import("./onnx_score.ts");
  for (const { segments, source, path } of groups.values()) {
    const key = `segments.${segments[0]}.pd_source`;
    const where = `${rulesFile}: ${key}`;
    let model: PdModel;
    try {
      model = await loadPdModel(path, {
        features: source.features,
        output: source.output,
        where,
      });
    } catch (e) {
      // A file that cannot be read (missing, a folder, too large) is
      // named with the rules key too, like a contract mismatch.
      if (e instanceof UserError && !e.message.startsWith(where)) {
        throw new UserError(e.kind, `${where}: ${e.message}`, { cause: e });
      }
      throw e;
    }
    loaded.push({
      segments,
      key,
      given: source.onnx,
      contractFrom: source.features === undefined ? "model" : "rules",
      model,
      reference: await referenceBeside(path),
    });
  }
  return loaded;
}

/**
 * The portfolio as the run reads it when PD sources are used: a
 * `pd_12m_current` column of nulls added when the file has none (the
 * model fills it for its segments; a facility of another segment is then
 * rejected by validation as `NULL_PD_12M_CURRENT`), after checking that
 * every feature column a model reads is there.
 *
 * @param file The portfolio, for the message.
 * @throws {UserError} kind `input` naming the portfolio, every missing
 *   feature column and the model.
 */
export function preparePdSourceFrame(
  raw: LazyFrame,
  sources: LoadedPdSource[],
  file: string,
  rules?: PdSourceRules,
): LazyFrame {
  if (sources.length === 0) return raw;
  const schema = schemaOf(raw);
  const columns = Object.keys(schema);
  for (const s of sources) {
    const missing = missingFeatureColumns(columns, s.model.features);
    // A file none of whose facilities the model would score (receivables
    // only, under a default-level source) need not carry its features:
    // counted lazily, only when a column is missing.
    if (
      missing.length > 0 && rules !== undefined &&
      scoredCount(raw, schema, rules, s.segments) === 0
    ) continue;
    if (missing.length > 0) {
      throw new UserError(
        "input",
        `Cannot read portfolio ${file}: missing feature column${
          missing.length === 1 ? "" : "s"
        } ${missing.join(", ")} that PD model ${s.model.path} (${s.key}) reads`,
      );
    }
  }
  return columns.includes(PD_COLUMN)
    ? raw
    : raw.withColumns(pl.lit(null).cast(pl.Utf8).alias(PD_COLUMN));
}

/**
 * The expressions of the engine's segment of a row and of whether it takes
 * no PD (see the module's notes).
 */
function segmentExprs(
  schema: Record<string, DataType>,
  rules: PdSourceRules,
): { segment: Expr; noPd: Expr; inDefault: Expr } {
  const has = (c: string) => c in schema;
  const named = Object.keys(rules.segments).filter((s) => s !== "default");
  const simplified = Object.entries(rules.products)
    .filter(([, p]) => p.approach === "simplified").map(([name]) => name);
  // The engine's segment of a row (staging: a null segment is the
  // product; the kernel: a name the rules do not know is `default`).
  const own = has("segment")
    ? trimmed("segment").fillNull(trimmed("product"))
    : trimmed("product");
  const segment = pl.when(own.isIn(named.length === 0 ? [""] : named)).then(
    own,
  ).otherwise(pl.lit("default"));
  const noPd = simplified.length === 0
    ? pl.lit(false)
    : trimmed("product").isIn(simplified).fillNull(pl.lit(false));
  // Stage 3 (methodology §3 rules 1 and 2), read as validation reads the
  // columns: the default flag, or days past due at or above dpd_default.
  const flagged = has("default_flag")
    ? parseColumn("default_flag", "bool", schema["default_flag"]).value
      .fillNull(pl.lit(false))
    : pl.lit(false);
  const dpd = rules.staging !== undefined && has("days_past_due")
    ? parseColumn("days_past_due", "int", schema["days_past_due"]).value
      .gtEq(pl.lit(rules.staging.dpd_default)).fillNull(pl.lit(false))
    : pl.lit(false);
  return { segment, noPd, inDefault: flagged.or(dpd) };
}

/** Facilities of `segments` that a model would score (lazily counted). */
function scoredCount(
  raw: LazyFrame,
  schema: Record<string, DataType>,
  rules: PdSourceRules,
  segments: string[],
): number {
  const { segment, noPd } = segmentExprs(schema, rules);
  const n = raw.filter(segment.isIn(segments).and(noPd.not()))
    .select(pl.len().alias("n")).collectSync().getColumn("n").get(0);
  return Number(n ?? 0);
}

/** What the manifest records of one model a run scored with. */
export interface PdSourceRecord {
  /** The model file as resolved from the rules file. */
  model: string;
  /** SHA-256 of its bytes, lower-case hex. */
  sha256: string;
  /** The output read as the PD. */
  output: string;
  /** Where the contract came from: the rules, or the model file. */
  contract_from: "rules" | "model";
  /** The feature contract it scored by. */
  features: FeatureSpec[];
  /** Facilities scored, per segment (every segment it is the source of). */
  facilities: Record<string, number>;
  /** Facilities whose given `pd_12m_current` was replaced by the score. */
  replaced: number;
  /**
   * Facilities of its segments already in default (stage 3: the default
   * flag, or days past due at or above `staging.dpd_default`), not scored:
   * `kept` their given PD, `set_to_1` had none and take 1.
   */
  in_default: { kept: number; set_to_1: number };
  /** Per feature, facilities whose value was missing (scored as NaN). */
  missing: Record<string, number>;
  /** Per category feature, facilities with a category the model does not know. */
  unknown: Record<string, number>;
}

/** What {@link applyPdSources} returns. */
export interface AppliedPdSources {
  /** The portfolio with `pd_12m_current` scored for the models' segments. */
  frame: LazyFrame;
  /** One record per model, for the manifest. */
  records: PdSourceRecord[];
  /** Warnings for the manifest and the console (replaced PDs, unknown categories). */
  warnings: string[];
}

/** A text column trimmed, blank read as null. */
function trimmed(name: string): Expr {
  const t = pl.col(name).cast(pl.Utf8).str.strip();
  return pl.when(t.eq(pl.lit(""))).then(pl.lit(null).cast(pl.Utf8))
    .otherwise(t);
}

/**
 * Scores `pd_12m_current` of the facilities of every PD-source segment
 * (see the module's notes) and puts the scores in the portfolio's column,
 * replacing what it held for those facilities: the frame validation then
 * checks. Reads the segment, product, loan_id, PD and feature columns
 * once; the scores join the lazy frame as one column, cast to the
 * column's type (a CSV's text: a double's shortest text reads back as the
 * same double).
 *
 * @param file The portfolio, for the messages.
 * @throws {UserError} kind `check` naming the model and the facility when
 *   a PD is not in (0, 1); kind `input` when scoring fails.
 */
export async function applyPdSources(
  raw: LazyFrame,
  sources: LoadedPdSource[],
  rules: PdSourceRules,
  { file }: { file: string },
): Promise<AppliedPdSources> {
  if (sources.length === 0) return { frame: raw, records: [], warnings: [] };
  const schema = schemaOf(raw);
  const has = (c: string) => c in schema;
  const { segment, noPd, inDefault } = segmentExprs(schema, rules);
  const pdType = schema[PD_COLUMN];
  const pdIsText = pdType.variant === "String" || pdType.variant === "Utf8";
  const given = (pdIsText ? trimmed(PD_COLUMN) : pl.col(PD_COLUMN))
    .isNotNull();
  // A model whose feature columns the file lacks scores nothing here:
  // preparePdSourceFrame let it through only with no facility to score.
  const usable = sources.filter((s) =>
    missingFeatureColumns(Object.keys(schema), s.model.features).length === 0
  );
  const featureNames = [
    ...new Set(usable.flatMap((s) => s.model.features.map((f) => f.name))),
  ];
  const df = await raw.select(
    segment.alias("segment"),
    noPd.alias("no_pd"),
    inDefault.alias("in_default"),
    given.alias("given"),
    (has("loan_id") ? pl.col("loan_id").cast(pl.Utf8) : pl.lit(null)).alias(
      "loan_id",
    ),
    ...featureNames.map((f, i) => pl.col(f).alias(`f${i}`)),
  ).withRowIndex("row").collect();
  const rows = df.height;
  // NaN where no model scores the row (a score is never NaN: refused).
  const scored = new Float64Array(rows).fill(NaN);
  const records: PdSourceRecord[] = [];
  const warnings: string[] = [];
  const { scorePd } = await import("./onnx_score.ts");
  for (const source of sources) {
    const mine = pl.col("segment").isIn(source.segments).and(
      pl.col("no_pd").not(),
    );
    // Facilities already in default (stage 3, methodology §3 rules 1
    // and 2) are outside the population the model was built on (the
    // development sample excludes them): they keep the PD given in the
    // portfolio, or 1 when none is given.
    const defaulted = df.filter(mine.and(pl.col("in_default")));
    const defaultedRows = defaulted.getColumn("row").toArray() as number[];
    const defaultedGiven = defaulted.getColumn("given").toArray() as boolean[];
    let setToOne = 0;
    defaultedRows.forEach((r, k) => {
      if (!defaultedGiven[k]) {
        scored[Number(r)] = 1;
        setToOne++;
      }
    });
    if (!usable.includes(source)) {
      // No facility of its segments in this file (see above).
      continue;
    }
    // The rows the model scores, in order, and what they hold.
    const part = df.filter(mine.and(pl.col("in_default").not()));
    const index = part.getColumn("row").toTypedArray() as ArrayLike<number>;
    const counts = part.groupBy("segment").agg(pl.len().alias("n"));
    const facilities: Record<string, number> = Object.fromEntries(
      source.segments.map((s) => [s, 0]),
    );
    const segNames = counts.getColumn("segment").toArray() as string[];
    const segCounts = counts.getColumn("n").toArray() as number[];
    segNames.forEach((s, k) => facilities[s] = Number(segCounts[k]));
    const replaced = Number(
      part.select(pl.col("given").cast(pl.UInt32).sum().alias("n"))
        .getColumn("n").get(0) ?? 0,
    );
    const rowsOf = part.select(
      ...source.model.features.map((f) =>
        pl.col(`f${featureNames.indexOf(f.name)}`).alias(f.name)
      ),
    );
    const ids = part.getColumn("loan_id");
    const rowName = (i: number) => {
      const id = ids.get(i) as string | null;
      return `facility ${id ?? "(no loan_id)"} (row ${index[i] + 1})`;
    };
    const encoded = encodeFeatures(rowsOf, source.model.features, {
      data: `${file} (${source.key})`,
      model: source.model.path,
      rowName,
      refuseAllMissing: true,
      reference: source.reference,
    });
    const { pd } = await scorePd(source.model, encoded.data, {
      where: `${source.key}`,
      rowName,
    });
    for (let i = 0; i < pd.length; i++) scored[index[i]] = pd[i];
    records.push({
      model: source.model.path,
      sha256: source.model.sha256,
      output: source.model.output,
      contract_from: source.contractFrom,
      features: source.model.features,
      facilities,
      replaced,
      in_default: { kept: defaultedRows.length - setToOne, set_to_1: setToOne },
      missing: encoded.missing,
      unknown: encoded.unknown,
    });
    const unscored = source.segments.filter((s) => facilities[s] === 0);
    if (unscored.length > 0) {
      // Usually a segment name that matches no facility's `segment` or
      // `product` (e.g. `consumer` for `consumer_es`): say so, as the
      // model then scored nothing there.
      warnings.push(
        `${source.key}: no facility of the portfolio was scored by PD model ${source.model.path} in segment${
          unscored.length === 1 ? "" : "s"
        } ${
          unscored.join(", ")
        } (a facility belongs to the segment its \`segment\`, else its \`product\`, names)`,
      );
    }
    if (replaced > 0) {
      warnings.push(
        `${source.key}: the portfolio's ${PD_COLUMN} of ${replaced} facilit${
          replaced === 1 ? "y was" : "ies were"
        } replaced by the scores of PD model ${source.model.path} (segment${
          source.segments.length === 1 ? "" : "s"
        } ${source.segments.join(", ")})`,
      );
    }
    for (const [feature, n] of Object.entries(encoded.unknown)) {
      if (n > 0) {
        warnings.push(
          `${source.key}: feature ${feature}: ${n} facilit${
            n === 1 ? "y has" : "ies have"
          } a category PD model ${source.model.path} does not know, scored as missing`,
        );
      }
    }
    warnings.push(
      ...missingShareWarnings(
        encoded.missing,
        encoded.data.rows,
        source.reference,
        source.key,
      ),
    );
  }
  const scoredValue = pdIsText
    ? pl.col("__pd_scored").cast(pl.Utf8)
    : pl.col("__pd_scored");
  const frame = raw
    .withColumns(pl.Series("__pd_scored", scored, pl.Float64))
    .withColumns(
      pl.when(pl.col("__pd_scored").isNotNan()).then(scoredValue)
        .otherwise(pl.col(PD_COLUMN)).alias(PD_COLUMN),
    )
    .drop("__pd_scored");
  return { frame, records, warnings };
}
