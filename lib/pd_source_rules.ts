/**
 * The rules file's `pd_source` key of a segment (docs/pd_models.md,
 * "Scoring in a run"): its schema and types, and the schema of the
 * feature contract it may carry (`lib/pd_model/types.ts`, `FeatureSpec`).
 *
 * They live here, at the foundation beside `rules.ts`, rather than in
 * `lib/pd_model/`: the rules are read below every other area, and the PD
 * model area reads run folders, so `rules.ts` importing `lib/pd_model`
 * would make a cycle (tests/architecture_test.ts). `lib/pd_model/contract.ts`
 * re-exports them. Nothing here imports `lib/pd_model`; the feature type
 * below has the shape of its `FeatureSpec`.
 *
 * @module
 */
import { z } from "zod";
import { mapping, shown } from "./_config_file.ts";

/**
 * One feature of a contract, as a file writes it: the shape of
 * `FeatureSpec` (`lib/pd_model/types.ts`), which documents each field.
 */
export interface ContractFeature {
  /** The portfolio column, and the ONNX input of the same name. */
  name: string;
  /** Numeric, or categorical (encoded as the index of its category). */
  kind: "number" | "category";
  /** For `category`: the known values, in code order. */
  categories?: string[];
  /** For `number`: the transform applied before the model. @default "identity" */
  transform?: "identity" | "log1p";
}

/** The most features a contract may list: a scorecard has ten or twenty. */
export const MAX_FEATURES = 500;
/** The most categories one categorical feature may list. */
export const MAX_CATEGORIES = 10_000;

/** One feature of a contract, as a file writes it. */
const featureSchema = mapping({
  name: z.string().min(1, { error: "must name the portfolio column" }),
  kind: z.enum(["number", "category"], {
    error: (issue) => `must be number or category, got ${shown(issue.input)}`,
  }),
  categories: z.array(z.string()).min(1, {
    error: "must list at least one category",
  }).max(MAX_CATEGORIES).optional(),
  transform: z.enum(["identity", "log1p"], {
    error: (issue) => `must be identity or log1p, got ${shown(issue.input)}`,
  }).optional(),
}).superRefine((f, ctx) => {
  if (f.kind === "category") {
    if (f.categories === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["categories"],
        message: `is required for a category feature (${f.name})`,
      });
    } else {
      const seen = new Set<string>();
      for (const [i, c] of f.categories.entries()) {
        if (seen.has(c)) {
          ctx.addIssue({
            code: "custom",
            path: ["categories", i],
            message: `${JSON.stringify(c)} is listed twice`,
          });
        }
        seen.add(c);
      }
    }
    if (f.transform !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["transform"],
        message: `applies to number features only (${f.name} is a category)`,
      });
    }
  } else if (f.categories !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["categories"],
      message: `applies to category features only (${f.name} is a number)`,
    });
  }
});

/**
 * The zod schema of a feature contract (`FeatureSpec[]`): each feature a
 * mapping of `name`, `kind`, `categories` (category features, required,
 * distinct) and `transform` (number features); names distinct; at least
 * one and at most {@link MAX_FEATURES} features. The rules file's
 * `pd_source.features` is checked with it.
 */
export const featureContractSchema: z.ZodType<ContractFeature[]> = z.array(
  featureSchema,
).min(1, { error: "must list at least one feature" }).max(MAX_FEATURES)
  .superRefine((features, ctx) => {
    const seen = new Set<string>();
    for (const [i, f] of features.entries()) {
      if (seen.has(f.name)) {
        ctx.addIssue({
          code: "custom",
          path: [i, "name"],
          message: `feature ${f.name} is listed twice`,
        });
      }
      seen.add(f.name);
    }
  }) as unknown as z.ZodType<ContractFeature[]>;

/** An ONNX model as a segment's PD source. */
export interface OnnxPdSource {
  /** The model file: a path relative to the rules file, or absolute. */
  onnx: string;
  /** The feature contract; absent: the one the model file embeds. */
  features?: ContractFeature[];
  /** The model output read as the PD. @default "pd" */
  output?: string;
}

/** Where a segment's 12-month PD comes from: the portfolio's column, or a model. */
export type PdSource = "column" | OnnxPdSource;

/** The zod schema of a segment's `pd_source` (rules file). */
export const pdSourceSchema: z.ZodType<PdSource> = z.union([
  z.literal("column"),
  mapping({
    onnx: z.string().min(1, { error: "must name the model file" }),
    features: featureContractSchema.optional(),
    output: z.string().min(1).optional(),
  }),
], {
  error: () =>
    "must be column, or a mapping { onnx: PATH, features?: [...], output?: NAME }",
}) as unknown as z.ZodType<PdSource>;
