/**
 * The rules file (`config/ifrs9_rules.yaml`): the parameters of methodology
 * §10 as typed options, and a loader that reports every violation at once,
 * each with the file, the key path and what is wrong.
 *
 * The file is checked against zod schemas: each key's type, range and
 * allowed values in the schema of its mapping, and each rule that ties keys
 * together (weights summing to 1, `dpd_sicr` below `dpd_default`, the
 * buckets of a provision matrix, keys that apply to one kind of product or
 * adjustment only) as a refinement beside it.
 *
 * Field names are the YAML keys, so an options object maps one to one onto
 * the file a risk team edits.
 *
 * Every number of the file is finite and bounded, each bound a named
 * constant below with its reason ({@link MAX_BEHAVIOURAL_LIFE_MONTHS},
 * {@link MAX_PD_FACTOR}, {@link MAX_Z_SHIFT}, {@link MAX_OVERLAY_AMOUNT},
 * ...), and shares and probabilities are in [0, 1]: a parameter beyond is
 * refused with its key path and the bound, never clamped. Rules built or
 * changed in code ({@link withRules}, {@link requireValidRules}) go through
 * the same schema. The file itself is at most `MAX_CONFIG_BYTES` (1 MiB) of
 * a regular file (`_config_file.ts`).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { UserError } from "./errors.ts";
import { z } from "zod";
import { type PdSource, pdSourceSchema } from "./pd_source_rules.ts";
import { type CapitalRules, capitalSchema } from "./capital_rules.ts";
import {
  type MasterScaleBand,
  masterScaleProblems,
  masterScaleSchema,
  resolveMatrixFiles,
  type TransitionMatrixRules,
  transitionMatrixSchema,
} from "./transition_matrix.ts";
import {
  type SensitivityRules,
  sensitivitySchema,
} from "./sensitivity_rules.ts";
import { checkScenarioSource } from "./scenario_source.ts";
import {
  bound,
  checkDocument,
  isMapping,
  mapping,
  MAX_CONFIG_BYTES,
  readConfigFile,
  readYaml,
  shown,
  whenValid,
  wholeNumber,
} from "./_config_file.ts";

/** The repayment types of methodology §5. */
export const REPAYMENTS = [
  "annuity",
  "linear",
  "bullet",
  "revolving",
] as const;
/** How a product's exposure runs off (methodology §5). */
export type Repayment = (typeof REPAYMENTS)[number];

/**
 * `general`: staged 12-month / lifetime ECL (IFRS 9 §5.5.3, §5.5.5).
 * `simplified`: lifetime ECL from a provision matrix, no SICR staging
 * (IFRS 9 §5.5.15, B5.5.35).
 */
export type Approach = "general" | "simplified";

/**
 * How the bounds of a provision matrix's buckets read
 * (docs/simplified_approach.md): `inclusive`, each bucket gives `max_dpd`
 * and holds days past due up to and including it; `exclusive`, each bucket
 * gives `below_dpd` and holds days past due below it.
 */
export type UpperBound = "inclusive" | "exclusive";

/**
 * The key that carries a bucket's bound under each {@link UpperBound}: named
 * for what it means, so that one bucket's line cannot be misread on its own.
 */
export const BOUND_KEY: Readonly<
  Record<UpperBound, "max_dpd" | "below_dpd">
> = { inclusive: "max_dpd", exclusive: "below_dpd" };

/** One days-past-due bucket of a provision matrix, as the engine reads it. */
export interface ProvisionBucket {
  /**
   * Largest days past due the bucket holds (inclusive); absent for the
   * last, open bucket. The loader turns `below_dpd: N` of an exclusive
   * matrix into `max_dpd: N - 1` (days past due are whole numbers).
   */
  max_dpd?: number;
  /** Lifetime loss rate applied to the exposure in this bucket. */
  loss_rate: number;
}

/** The rates of one matrix: the product's own, or a segment's. */
export interface ProvisionRates {
  /** Buckets in increasing `max_dpd`; the last one has no `max_dpd`. */
  buckets: ProvisionBucket[];
  /**
   * Loss rate of a credit-impaired receivable (stage 3: `default_flag`, or
   * `days_past_due >= staging.dpd_default`), whatever its bucket. Defaults
   * to the last bucket's rate.
   */
  credit_impaired_loss_rate: number;
}

/** Provision matrix of the simplified approach (IFRS 9 B5.5.35). */
export interface ProvisionMatrix extends ProvisionRates {
  /**
   * How the bounds were written; absent when no bucket has a bound (a
   * single open bucket).
   */
  upper_bound?: UpperBound;
  /** Optional per-segment matrices that replace the product's for that segment. */
  segments?: Record<string, ProvisionRates>;
}

/** One product of the rules file (methodology §10 `products`). */
export interface ProductRules {
  /** How its exposure runs off (methodology §5). */
  repayment: Repayment;
  /** Credit conversion factor of the undrawn limit (revolving only). */
  ccf?: number;
  /**
   * Remaining term used for revolving products (methodology §2): 1 to
   * {@link MAX_BEHAVIOURAL_LIFE_MONTHS} (600) months.
   */
  behavioural_life_months?: number;
  /** General (staged) or simplified approach. @default "general" */
  approach: Approach;
  /** Required when `approach` is `simplified`. */
  provision_matrix?: ProvisionMatrix;
}

/**
 * How a segment's annual PD runs over the years (methodology §4): `flat`,
 * the current 12-month PD every year; `shape`, scaled by `pd_shape`;
 * `transition_matrix`, the conditional PDs of the facility's grade from
 * powers of a rating transition matrix (methodology §13).
 */
export type PdCurve = "flat" | "shape" | "transition_matrix";

/** One segment's parameters, merged over `segments.default` (§10). */
export interface SegmentRules {
  /** The PD term structure. @default "flat" */
  pd_curve: PdCurve;
  /**
   * Annual PD shape `g` with `g[1] = 1` (methodology §4), for `shape`: 1 to
   * {@link MAX_VECTOR_YEARS} values, each in [0, {@link MAX_PD_FACTOR}].
   */
  pd_shape?: number[];
  /**
   * The one-year rating transition matrix of `pd_curve: transition_matrix`
   * (methodology §13), the last state default: a file (CSV or YAML, a path
   * relative to the rules file) read and checked when the rules are
   * loaded, or inline `{ states, rows }`.
   */
  transition_matrix?: TransitionMatrixRules;
  /**
   * The grades of `pd_curve: transition_matrix` with their 12-month PD
   * bands (methodology §13): a facility without a valid `rating` takes
   * the grade whose band holds its `pd_12m_current`.
   */
  master_scale?: MasterScaleBand[];
  /** LGD of the part not covered by collateral (methodology §6). @default 0.45 */
  lgd_unsecured: number;
  /** Smallest LGD whatever the collateral (methodology §6). @default 0.05 */
  lgd_floor: number;
  /** Asset correlation for the `z_shift` adjustment (methodology §4). @default 0.15 */
  rho: number;
  /**
   * Months from default to the realisation of the collateral: the recovery
   * is discounted by `(1 + r)^-lag` (methodology §6); at most
   * {@link MAX_RECOVERY_LAG_MONTHS}.
   * @default 0
   */
  recovery_lag_months: number;
  /**
   * Where the segment's `pd_12m_current` comes from: the portfolio's
   * column (`column`, or absent), or an ONNX model that scores it
   * (`{ onnx, features?, output? }`, docs/pd_models.md "Scoring in a
   * run", `lib/pd_source_rules.ts`, `lib/pd_model/pd_source.ts`).
   */
  pd_source?: PdSource;
}

/**
 * How a scenario moves the PDs (methodology §4): `multiplier` scales them
 * by `pd_multiplier`; `z_shift` shifts the systematic factor by `z`.
 */
export type ScenarioAdjustment = "multiplier" | "z_shift";

/** One macro scenario (methodology §4, §8). */
export interface Scenario {
  /** Lower-case name; it names the loan-level column `ecl_<name>`. */
  name: string;
  /** Probability weight; the weights sum to 1 (methodology §8). */
  weight: number;
  /**
   * Annual PD multipliers `k[s]` for `multiplier`: 1 to
   * {@link MAX_VECTOR_YEARS} values, each in [0, {@link MAX_PD_FACTOR}].
   */
  pd_multiplier?: number[];
  /**
   * Annual systematic factor values `z[s]` for `z_shift`: 1 to
   * {@link MAX_VECTOR_YEARS} values, each within ±{@link MAX_Z_SHIFT}.
   */
  z?: number[];
  /** Share taken off the collateral value in this scenario (methodology §6). @default 0 */
  collateral_haircut: number;
}

/** The staging thresholds (methodology §3). */
export interface StagingRules {
  /**
   * Days past due from which a facility is stage 3 (rule 2), 1 to
   * {@link MAX_DPD_THRESHOLD}. @default 90
   */
  dpd_default: number;
  /**
   * Days past due above which a facility is stage 2 (rule 3), below
   * `dpd_default`. @default 30
   */
  dpd_sicr: number;
  /** Current 12-month PD up to which the PD test does not hold. @default 0.003 */
  low_credit_risk_pd: number;
  /**
   * Smallest ratio of current to origination PD for the PD test, 1 to
   * {@link MAX_PD_RELATIVE_THRESHOLD}. @default 2.0
   */
  pd_relative_threshold: number;
  /** Smallest rise from origination PD for the PD test. @default 0.005 */
  pd_absolute_threshold: number;
  /**
   * When true, a facility whose `previous_stage` is 3 and that no longer
   * meets a stage-3 rule is stage 2 with reason `PROBATION`.
   * @default false
   */
  probation_exit_via_stage2: boolean;
}

/** Filter of an overlay: every key given must match; a key not given matches any. */
export interface OverlayFilter {
  /** Segments the overlay applies to. */
  segment?: string[];
  /** Products the overlay applies to. */
  product?: string[];
  /** Stages (1, 2, 3) the overlay applies to. */
  stage?: number[];
  /** Regions the overlay applies to. */
  region?: string[];
}

/** A post-model adjustment applied after weighting (methodology §8). */
export interface Overlay {
  /** Unique name; the per-facility impacts and the summary carry it. */
  name: string;
  /** The facilities it applies to. */
  filter: OverlayFilter;
  /**
   * ECL is multiplied by this, in [0, {@link MAX_OVERLAY_MULTIPLIER}].
   * Exactly one of `multiplier` and `add`.
   */
  multiplier?: number;
  /**
   * An amount in the reporting currency for the matching facilities as a
   * whole, shared pro rata to their ECL (methodology §8, `overlays.ts`);
   * within ±{@link MAX_OVERLAY_AMOUNT}.
   */
  add?: number;
  /** Why the adjustment is made, for the report and the auditor. */
  reason: string;
}

/** Limits of the data-quality checks. */
export interface ValidationRules {
  /** Rejected share above which a run fails. @default 0.05 */
  max_reject_rate: number;
}

/** The whole rules file, typed, with defaults filled in. */
export interface Rules {
  /** ISO 4217 code the totals are reported in. */
  reporting_currency: string;
  /** Staging thresholds (methodology §3). */
  staging: StagingRules;
  /** Every product the portfolio may hold, by name. */
  products: Record<string, ProductRules>;
  /** Always holds `default`; other entries are already merged over it. */
  segments: Record<string, SegmentRules>;
  /** How scenarios move the PDs. @default "multiplier" */
  scenario_adjustment: ScenarioAdjustment;
  /**
   * Years over which each scenario's adjustment reverts linearly to
   * neutral after the end of its vector (methodology §4), 0 to
   * {@link MAX_REVERSION_YEARS}; absent: the last value repeats for the
   * whole term.
   */
  scenario_reversion_years?: number;
  /**
   * Which fitted satellite model wrote the scenarios (lib/scenarios,
   * docs/scenarios.md §5): its fit file and that file's SHA-256; recorded
   * in the run's manifest with the other parameters. Absent: typed in.
   */
  scenario_source?: { fit: string; sha256: string };
  /** The weighted macro scenarios, in the file's order. */
  scenarios: Scenario[];
  /** Post-model adjustments, applied in the file's order. */
  overlays: Overlay[];
  /** Data-quality limits. */
  validation: ValidationRules;
  /**
   * Plugins (`lib/plugin`, docs/plugins.md), in the order their hooks run;
   * absent: none.
   */
  plugins?: PluginRef[];
  /**
   * Who writes the run's narrative (docs/narratives.md); absent: the
   * offline template.
   */
  explain?: ExplainRules;
  /**
   * IRB capital (lib/capital, docs/capital.md); absent: a run computes no
   * capital.
   */
  capital?: CapitalRules;
  /**
   * The sensitivity table (lib/sensitivity, docs/sensitivity.md): each
   * scenario alone and user-defined stresses, each computed again by the
   * engine; absent: a run computes none.
   */
  sensitivity?: SensitivityRules;
}

/** The rules' `explain` section: who writes the narrative (docs/narratives.md). */
export interface ExplainRules {
  /** `template` (offline, deterministic) or `vertex` (a Gemini model). */
  provider?: "template" | "vertex";
  /** The Gemini model on Vertex AI, e.g. `gemini-2.5-flash`. */
  model?: string;
  /** Google Cloud project; absent: `GOOGLE_CLOUD_PROJECT`. */
  project?: string;
  /** Vertex AI location; absent: `GOOGLE_CLOUD_LOCATION`. */
  location?: string;
  /**
   * Seconds before a model call is abandoned (the template is then used),
   * above 0 and at most {@link MAX_EXPLAIN_TIMEOUT_SECONDS}.
   */
  timeout_seconds?: number;
}

/**
 * The longest a run waits for a model's narrative: 600 s. A run must not
 * hang on a network call; ten minutes is beyond any answer of a few
 * paragraphs.
 */
export const MAX_EXPLAIN_TIMEOUT_SECONDS = 600;

/** One entry of the rules' `plugins` list (docs/plugins.md). */
export interface PluginRef {
  /**
   * The plugin's module: a path relative to the rules file, or absolute.
   */
  module: string;
  /** What the module's factory is given. @default {} */
  options?: Record<string, unknown>;
}

/** One violation in a rules file. */
export interface RulesIssue {
  /** Key path such as `scenarios[1].weight`. */
  path: string;
  /** What is wrong there, and what the file holds. */
  message: string;
}

/**
 * Thrown when a rules file, or rules changed in code, break one or more
 * rules; lists all of them.
 */
export class RulesError extends UserError {
  /**
   * The file `file` with every problem found in it.
   *
   * @param file The rules file, or {@link RULES_IN_CODE} for rules built in
   *   code.
   * @param issues Every problem, each at its key path.
   * @param context What was refused, opening the message.
   *   @default `Cannot load rules file <file>`
   */
  constructor(
    readonly file: string,
    readonly issues: RulesIssue[],
    context = `Cannot load rules file ${file}`,
  ) {
    super(
      "input",
      `${context}: ${issues.length} problem${
        issues.length === 1 ? "" : "s"
      }\n` + issues.map((i) => `  - key ${i.path}: ${i.message}`).join("\n"),
    );
    this.name = "RulesError";
  }
}

/** A share or a probability: a number in [0, 1]. */
const rate = z.number().min(0).max(1);

/**
 * Upper bound of a days-past-due threshold (`staging.dpd_default`,
 * `staging.dpd_sicr`, a provision-matrix bucket's `max_dpd` /
 * `below_dpd`): 3650 days, ten years. The presumptions are 30 and 90 days
 * (IFRS 9 §5.5.11, B5.5.37) and prudential backstops stop at 180 days; a
 * facility is written off long before ten years past due, so a larger
 * threshold could never be met and is a typo.
 */
export const MAX_DPD_THRESHOLD = 3650;

/**
 * Upper bound of `staging.pd_relative_threshold`: 1000. The PD test asks
 * `p1 / p0 >= threshold` (methodology §3) with `p1 <= 1`, so above 1000 it
 * cannot hold for any origination PD of 0.1% or more: the test would be
 * switched off by a typo rather than by choice.
 */
export const MAX_PD_RELATIVE_THRESHOLD = 1000;

/**
 * Upper bound of a revolving product's `behavioural_life_months`: 600
 * months, 50 years. Card and overdraft behavioural lives are a few years
 * (IFRS 9 B5.5.40); the engine projects every month of the life, so the
 * cost of a run grows with it (1e8 months made a 20-loan run take four
 * minutes and 2.5 GB).
 */
export const MAX_BEHAVIOURAL_LIFE_MONTHS = 600;

/**
 * Most values of a yearly vector (a segment's `pd_shape`, a scenario's
 * `pd_multiplier` or `z`): 100, one per year of the longest remaining term
 * validation accepts (maturities at most 100 years after the reporting
 * date); values past a facility's life are never read.
 */
export const MAX_VECTOR_YEARS = 100;

/**
 * Most scenarios a rules file may weigh: 20. Banks weigh three to five;
 * every scenario projects every facility's whole life again, so a
 * thousand (a generated or pasted list) made a 200-loan run take 13 s and
 * 1.5 GB.
 */
export const MAX_SCENARIOS = 20;

/**
 * Most overlays a rules file may list: 200. Each is applied to the whole
 * book in turn; management overlays number in the tens.
 */
export const MAX_OVERLAYS = 200;

/**
 * Upper bound of a factor applied to a PD: a `pd_shape` value and a
 * scenario's `pd_multiplier` values, in [0, 100]. The PD is capped at 1
 * after scaling (methodology §4), so 100 already takes any PD of 1% or more
 * to certain default; a larger factor is a typo (a percentage written as a
 * number, 150 for 1.5).
 */
export const MAX_PD_FACTOR = 100;

/**
 * Bound of a scenario's `z` values under `scenario_adjustment: z_shift`:
 * `|z| <= 10`, in standard deviations of the systematic factor, a
 * standard normal (methodology §4). Severe stress scenarios sit two to
 * three standard deviations out; a 10-sigma economy has probability
 * Phi(-10) = 7.6e-24, so a larger shift is a typo (a percentage, a level
 * instead of a shift).
 */
export const MAX_Z_SHIFT = 10;

/**
 * Upper bound of an overlay's `multiplier`: 100. A post-model adjustment
 * scales the model's ECL by a judgement factor, typically within a few
 * tens of percent; a hundredfold is beyond any judgement a committee signs,
 * and 1e308 made totals NaN.
 */
export const MAX_OVERLAY_MULTIPLIER = 100;

/**
 * Bound of an overlay's `add`: `|add| <= 1e15` in the reporting currency,
 * the bound validation puts on every row amount (a balance, a limit):
 * above, sums in cents no longer fit exactly in 64 bits.
 */
export const MAX_OVERLAY_AMOUNT = 1e15;

/** A name or a reason: a non-empty string. */
const text = z.string().min(1);

/** Adds the problem `message` at `path` (relative to the refined value). */
function problem(
  ctx: z.RefinementCtx,
  path: PropertyKey[],
  message: string,
) {
  ctx.addIssue({ code: "custom", path, message });
}

/** Days past due: a whole number up to {@link MAX_DPD_THRESHOLD}. */
const dpd = (min: number) =>
  wholeNumber().min(min).max(
    MAX_DPD_THRESHOLD,
    bound("ten years past due; a facility is written off long before"),
  );

/** `staging.dpd_default`: days past due from which a facility is in default. */
const dpdDefaultSchema = dpd(1).default(90);

const stagingSchema = mapping({
  dpd_default: dpdDefaultSchema,
  dpd_sicr: dpd(0).default(30),
  low_credit_risk_pd: rate.default(0.003),
  // A ratio below 1 would call a PD that fell an increase in credit risk
  // (IFRS 9 §5.5.9 compares with the risk at initial recognition).
  pd_relative_threshold: z.number().min(1).max(
    MAX_PD_RELATIVE_THRESHOLD,
    bound(
      "above it the PD test cannot hold for an origination PD of 0.1% or more",
    ),
  ).default(2.0),
  pd_absolute_threshold: rate.default(0.005),
  probation_exit_via_stage2: z.boolean().default(false),
}).superRefine(
  (s, ctx) => {
    if (s.dpd_sicr >= s.dpd_default) {
      problem(
        ctx,
        ["dpd_sicr"],
        `must be below staging.dpd_default (${s.dpd_default}), got ${s.dpd_sicr}`,
      );
    }
  },
  whenValid(([key]) => key === "dpd_sicr" || key === "dpd_default"),
);

/** A bucket's bound as written: which key, and its value. */
interface WrittenBound {
  key: "max_dpd" | "below_dpd";
  value: number;
}

const BOUND_KEYS = ["max_dpd", "below_dpd"] as const;

/** The bound keys a bucket gives (none on the open bucket). */
const boundsOf = (bucket: Partial<Record<"max_dpd" | "below_dpd", unknown>>) =>
  BOUND_KEYS.filter((k) => bucket[k] !== undefined);

/** The largest days past due a written bound lets into its bucket. */
const lastDayOf = (b: WrittenBound) =>
  b.key === "max_dpd" ? b.value : b.value - 1;

const bucketSchema = mapping({
  loss_rate: rate,
  max_dpd: dpd(0).optional(),
  below_dpd: dpd(1).optional(),
});
type WrittenBucket = z.output<typeof bucketSchema>;

/**
 * A list of buckets: each bounded bucket ends above the one before, the
 * last one is open, and every bounded bucket ends below
 * `staging.dpd_default`: from that many days past due a receivable is
 * credit-impaired (methodology §3 rule 2, IFRS 9 B5.5.37) and takes the
 * matrix's `credit_impaired_loss_rate`, so a bucket reaching it would show
 * a rate that never applies to part of what it appears to hold (Example
 * 12's "61-90" bucket at 90 days, for one). Whether each bound is written
 * with the key the matrix's `upper_bound` asks for is the matrix's check.
 */
function bucketsSchema(dpdDefault: number) {
  return z.array(bucketSchema).min(1, {
    error: "must be a non-empty list of buckets",
  }).superRefine(
    (buckets, ctx) => {
      let first = 0; // the smallest days past due the current bucket holds
      let previous: WrittenBound | undefined;
      buckets.forEach((bucket, i) => {
        const written = boundsOf(bucket);
        if (written.length !== 1) return;
        const here: WrittenBound = {
          key: written[0],
          value: bucket[written[0]]!,
        };
        const at = [i, here.key];
        if (i === buckets.length - 1) {
          problem(
            ctx,
            at,
            "the last bucket must be open (no bound) so every receivable has a rate",
          );
        }
        const lastDay = lastDayOf(here);
        if (previous !== undefined && lastDay < first) {
          problem(
            ctx,
            at,
            `must be above the previous bucket's ${previous.key} ${previous.value}`,
          );
        } else if (lastDay >= dpdDefault) {
          const endAt = here.key === "max_dpd" ? dpdDefault - 1 : dpdDefault;
          problem(
            ctx,
            at,
            `${here.key}: ${here.value} puts days_past_due ${
              Math.max(first, dpdDefault)
            } to ${lastDay} in this bucket, but from staging.dpd_default (${dpdDefault}) days past due a receivable is credit-impaired (stage 3, methodology §3 rule 2) and takes credit_impaired_loss_rate, so this rate would not apply to them: ${
              first < dpdDefault
                ? `end the bucket at ${here.key}: ${endAt}`
                : "remove the bucket"
            } and leave ${dpdDefault} days and over to the last, open bucket`,
          );
        }
        first = lastDay + 1;
        previous = here;
      });
    },
    whenValid((path) =>
      path.length === 1 || path[1] === "max_dpd" || path[1] === "below_dpd"
    ),
  );
}

/**
 * The last bucket's rate: the open bucket holds `staging.dpd_default` days
 * past due and over, so by default it is the credit-impaired rate, as in
 * IFRS 9 Example 12 (more than 90 days past due: 10.6%).
 */
const lastRate = (buckets: readonly ProvisionBucket[]) =>
  buckets[buckets.length - 1]?.loss_rate ?? 0;

/** Buckets with inclusive bounds, as the engine reads them. */
const inclusiveBuckets = (buckets: WrittenBucket[]): ProvisionBucket[] =>
  buckets.map((b) => ({
    max_dpd: b.max_dpd ??
      (b.below_dpd === undefined ? undefined : b.below_dpd - 1),
    loss_rate: b.loss_rate,
  }));

/**
 * `provision_matrix` of a simplified product: `upper_bound`, the buckets,
 * `credit_impaired_loss_rate` and the segment matrices (each a list of
 * buckets, or a mapping with `buckets` and its own
 * `credit_impaired_loss_rate`; a key a segment does not give comes from the
 * product's matrix, as segment entries override key by key, §10).
 */
function provisionMatrixSchema(dpdDefault: number) {
  const buckets = bucketsSchema(dpdDefault);
  const segmentMatrix = z.union([
    buckets,
    mapping({ buckets, credit_impaired_loss_rate: rate.optional() }),
  ], {
    error:
      "must be a list of buckets, or a mapping with buckets and credit_impaired_loss_rate",
  });
  return mapping({
    upper_bound: z.enum(["inclusive", "exclusive"]).optional(),
    buckets,
    credit_impaired_loss_rate: rate.optional(),
    segments: z.record(z.string(), segmentMatrix).optional(),
  }).superRefine(
    (matrix, ctx) => {
      const lists: [PropertyKey[], unknown][] = [
        [["buckets"], matrix.buckets],
        ...Object.entries(matrix.segments ?? {}).map((
          [name, v],
        ): [PropertyKey[], unknown] =>
          Array.isArray(v)
            ? [["segments", name], v]
            : [["segments", name, "buckets"], v?.buckets]
        ),
      ];
      const bucketsOf = (list: unknown) =>
        Array.isArray(list)
          ? list.map((b, i) => [i, b] as const).filter(([, b]) =>
            typeof b === "object" && b !== null && !Array.isArray(b)
          )
          : [];
      const used = lists.flatMap(([, list]) =>
        bucketsOf(list).flatMap(([, b]) => boundsOf(b))
      );
      if (matrix.upper_bound === undefined && used.length > 0) {
        // No default, so no reader has to guess how a bound reads (issue 7:
        // bounds stated as inclusive or exclusive in the configuration).
        problem(
          ctx,
          ["upper_bound"],
          "is required when buckets have bounds: write upper_bound: inclusive if each bucket holds days_past_due up to and including its max_dpd (what a matrix without this key meant before), or upper_bound: exclusive and give each bucket below_dpd (it holds days_past_due below that)",
        );
      }
      // Without the setting, read the buckets as their keys say, so the
      // other problems are still reported.
      const bound = matrix.upper_bound ??
        (used[0] === "below_dpd" ? "exclusive" : "inclusive");
      const key = BOUND_KEY[bound];
      for (const [path, list] of lists) {
        const entries = bucketsOf(list);
        for (const [i, bucket] of entries) {
          const written = boundsOf(bucket);
          if (written.length === 0 && i < (list as unknown[]).length - 1) {
            problem(
              ctx,
              [...path, i, key],
              "is required except on the last bucket",
            );
          } else if (written.length === 2) {
            problem(
              ctx,
              [...path, i],
              `gives both max_dpd and below_dpd: keep ${key} (upper_bound: ${bound})`,
            );
          } else if (written.length === 1 && written[0] !== key) {
            const k = written[0];
            const n = bucket[k];
            const same = typeof n === "number"
              ? ` ${key}: ${k === "max_dpd" ? n + 1 : n - 1}`
              : ` ${key}`;
            problem(
              ctx,
              [...path, i, k],
              `${k} ${
                k === "max_dpd"
                  ? "is an inclusive bound (days past due up to and including it)"
                  : "is an exclusive bound (days past due below it)"
              }, but this matrix says upper_bound: ${bound}: write${same} for the same bucket, or change upper_bound`,
            );
          }
        }
      }
    },
    whenValid(([key]) => key === "upper_bound"),
  ).transform((matrix): ProvisionMatrix => {
    const buckets = inclusiveBuckets(matrix.buckets);
    const segments = Object.entries(matrix.segments ?? {}).map((
      [name, v],
    ) => {
      const written = Array.isArray(v) ? { buckets: v } : v;
      const segBuckets = inclusiveBuckets(written.buckets);
      const rates: ProvisionRates = {
        buckets: segBuckets,
        credit_impaired_loss_rate:
          (Array.isArray(v) ? undefined : v.credit_impaired_loss_rate) ??
            matrix.credit_impaired_loss_rate ?? lastRate(segBuckets),
      };
      return [name, rates, written.buckets] as const;
    });
    const out: ProvisionMatrix = {
      buckets,
      credit_impaired_loss_rate: matrix.credit_impaired_loss_rate ??
        lastRate(buckets),
    };
    const bounded = [matrix.buckets, ...segments.map((s) => s[2])].some((l) =>
      l.some((b) => boundsOf(b).length > 0)
    );
    if (bounded) out.upper_bound = matrix.upper_bound;
    if (segments.length > 0) {
      out.segments = Object.fromEntries(segments.map(([n, r]) => [n, r]));
    }
    return out;
  });
}

/**
 * A product: repayment type and approach, the keys of revolving products
 * (and only theirs), and the provision matrix of a simplified one (and only
 * there).
 */
function productSchema(dpdDefault: number) {
  return mapping({
    repayment: z.enum(REPAYMENTS),
    ccf: rate.optional(),
    behavioural_life_months: wholeNumber().min(1).max(
      MAX_BEHAVIOURAL_LIFE_MONTHS,
      bound("50 years; every month of the life is projected"),
    ).optional(),
    approach: z.enum(["general", "simplified"]).default("general"),
    provision_matrix: provisionMatrixSchema(dpdDefault).optional(),
  }).superRefine(
    (product, ctx) => {
      const revolving = product.repayment === "revolving";
      for (const key of ["ccf", "behavioural_life_months"] as const) {
        if (revolving && product[key] === undefined) {
          problem(ctx, [key], "is required for repayment: revolving");
        } else if (!revolving && product[key] !== undefined) {
          problem(ctx, [key], "only applies to repayment: revolving");
        }
      }
      const simplified = product.approach === "simplified";
      if (simplified && product.provision_matrix === undefined) {
        problem(
          ctx,
          ["provision_matrix"],
          "is required for approach: simplified",
        );
      } else if (!simplified && product.provision_matrix !== undefined) {
        problem(
          ctx,
          ["provision_matrix"],
          "only applies to approach: simplified",
        );
      }
    },
    whenValid(([key]) => key === "repayment" || key === "approach"),
  );
}

/** Upper bound of `scenario_reversion_years`: longer than any loan's life. */
export const MAX_REVERSION_YEARS = 50;

/** Upper bound of `recovery_lag_months`: ten years to realise collateral. */
export const MAX_RECOVERY_LAG_MONTHS = 120;

/** A yearly vector: 1 to {@link MAX_VECTOR_YEARS} values of `value`. */
const yearly = (value: z.ZodNumber) =>
  z.array(value).min(1).max(
    MAX_VECTOR_YEARS,
    bound("one per year of the longest remaining term, 100 years"),
  );

/** A factor applied to a PD, in [0, {@link MAX_PD_FACTOR}]. */
const pdFactor = z.number().min(0).max(
  MAX_PD_FACTOR,
  bound("the PD is capped at 1, so 100 takes any PD of 1% to certain default"),
);

const SEGMENT_DEFAULTS: SegmentRules = {
  pd_curve: "flat",
  lgd_unsecured: 0.45,
  lgd_floor: 0.05,
  rho: 0.15,
  recovery_lag_months: 0,
};

/** A segment entry: the keys it gives, the rest coming from `default`. */
const segmentSchema = mapping({
  pd_curve: z.enum(["flat", "shape", "transition_matrix"]).optional(),
  pd_shape: yearly(pdFactor).superRefine((g, ctx) => {
    if (g.length > 0 && g[0] !== 1) {
      problem(ctx, [0], `must be 1 (g[1] = 1), got ${g[0]}`);
    }
  }).optional(),
  lgd_unsecured: rate.optional(),
  lgd_floor: rate.optional(),
  rho: z.number().gt(0).lt(1).optional(),
  recovery_lag_months: wholeNumber().min(0).max(
    MAX_RECOVERY_LAG_MONTHS,
    bound("ten years to realise collateral"),
  ).optional(),
  pd_source: pdSourceSchema.optional(),
  transition_matrix: transitionMatrixSchema.optional(),
  master_scale: masterScaleSchema.optional(),
});

/** `default` over the built-in defaults, then each entry over `default` (§10). */
function mergeSegments(
  entries: Record<string, Partial<SegmentRules>>,
): Record<string, SegmentRules> {
  const base: SegmentRules = { ...SEGMENT_DEFAULTS, ...entries.default };
  const merged: Record<string, SegmentRules> = { default: base };
  for (const [name, entry] of Object.entries(entries)) {
    if (name !== "default") merged[name] = { ...base, ...entry };
  }
  // §13: a segment whose curve is not transition_matrix does not inherit
  // `default`'s matrix and master scale (the run's manifest records a
  // matrix only where one is used).
  for (const segment of Object.values(merged)) {
    if (segment.pd_curve !== "transition_matrix") {
      delete segment.transition_matrix;
      delete segment.master_scale;
    }
  }
  return merged;
}

const segmentsSchema = z.record(z.string(), segmentSchema).superRefine(
  (entries, ctx) => {
    const merged = mergeSegments(entries);
    // Methodology §13: a matrix or master scale given where the segment's
    // curve is not transition_matrix would be silently ignored.
    for (const [name, entry] of Object.entries(entries)) {
      const curve = merged[name]?.pd_curve;
      for (const key of ["transition_matrix", "master_scale"] as const) {
        if (entry?.[key] !== undefined && curve !== "transition_matrix") {
          problem(
            ctx,
            [name, key],
            `is used only when pd_curve is transition_matrix, but segment ${name}'s pd_curve is ${curve}: set pd_curve: transition_matrix or remove ${key}`,
          );
        }
      }
    }
    for (const [name, segment] of Object.entries(merged)) {
      if (segment.pd_curve === "shape" && segment.pd_shape === undefined) {
        problem(ctx, [name, "pd_shape"], "is required when pd_curve is shape");
      }
      // Methodology §13: a matrix and the master scale mapping to its rows.
      if (segment.pd_curve === "transition_matrix") {
        for (const key of ["transition_matrix", "master_scale"] as const) {
          if (segment[key] === undefined) {
            problem(
              ctx,
              [name, key],
              "is required when pd_curve is transition_matrix",
            );
          }
        }
        // Also when either has problems of its own, reported beside these.
        if (
          Array.isArray(segment.transition_matrix?.states) &&
          Array.isArray(segment.master_scale) &&
          segment.master_scale.every((g) => typeof g?.grade === "string")
        ) {
          for (
            const p of masterScaleProblems(
              segment.master_scale,
              segment.transition_matrix,
            )
          ) problem(ctx, [name, "master_scale", ...p.path], p.message);
        }
      }
    }
  },
  whenValid((path) =>
    path.length === 1 || path[1] === "pd_curve" || path[1] === "pd_shape"
  ),
).prefault({}).transform(mergeSegments);

/**
 * Why a scenario name cannot be used, or `undefined` when it can. A
 * scenario `s` writes the loan-level column `ecl_<s>` (methodology §9)
 * next to the engine's own `ecl_*` columns, and reports tell scenario
 * columns apart by that prefix; a name that produces another column's name
 * or a suffix the reports and the movement add (`_rc` for reporting-currency
 * amounts, `_from` / `_to` for the two runs compared, `_local`) would
 * silently mix two figures.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(reservedScenarioName("downside"), undefined);
 * assert.equal(
 *   reservedScenarioName("model"),
 *   "the engine's output column ecl_model",
 * );
 * ```
 */
export function reservedScenarioName(name: string): string | undefined {
  const column = `ecl_${name}`;
  if (ENGINE_ECL_COLUMNS.includes(column)) {
    return `the engine's output column ${column}`;
  }
  const suffix = RESERVED_SUFFIXES.find((x) =>
    name === x.slice(1) || name.endsWith(x)
  );
  return suffix === undefined
    ? undefined
    : `the ${suffix} columns the reports and the movement derive from ecl_*`;
}

/** Loan-level output columns starting with `ecl_` (methodology §9). */
const ENGINE_ECL_COLUMNS = ["ecl_12m", "ecl_lifetime", "ecl_model"];
/** Suffixes the reports and the movement append to `ecl` columns. */
const RESERVED_SUFFIXES = ["_rc", "_from", "_to", "_local"];

/** A scenario's name: it names the loan-level column `ecl_<name>`. */
const scenarioName = text.regex(/^[a-z][a-z0-9_]*$/, {
  error: (issue) =>
    `must start with a lower-case letter and hold only lower-case letters, digits and _ (it names the column ecl_${issue.input}${
      reservedScenarioName(String(issue.input)) === undefined
        ? ""
        : `, which would collide with ${
          reservedScenarioName(String(issue.input))
        }`
    })`,
  abort: true,
}).superRefine((name, ctx) => {
  const collision = reservedScenarioName(name);
  if (collision) {
    problem(
      ctx,
      [],
      `${name} cannot name a scenario: its column ecl_${name} would collide with ${collision}`,
    );
  }
});

const scenarioSchema = mapping({
  name: scenarioName,
  weight: rate,
  pd_multiplier: yearly(pdFactor).optional(),
  z: yearly(
    z.number().min(
      -MAX_Z_SHIFT,
      bound(
        "standard deviations of a standard normal factor; a severe stress is 2 to 3",
      ),
    ).max(
      MAX_Z_SHIFT,
      bound(
        "standard deviations of a standard normal factor; a severe stress is 2 to 3",
      ),
    ),
  ).optional(),
  collateral_haircut: rate.default(0),
});

/** The vector each adjustment reads from a scenario (methodology §4). */
const VECTOR = { multiplier: "pd_multiplier", z_shift: "z" } as const;

/** The names in a list that an earlier entry already has. */
function duplicateNames(
  what: string,
  entries: readonly { name: string }[],
  ctx: z.RefinementCtx,
) {
  const seen = new Set<string>();
  entries.forEach(({ name }, i) => {
    if (seen.has(name)) {
      problem(ctx, [i, "name"], `duplicate ${what} name ${name}`);
    }
    seen.add(name);
  });
}

/**
 * The scenarios: each with the vector of the file's `scenario_adjustment`
 * (and not the other one), names unique, weights summing to 1 within 1e-9
 * (methodology §8).
 */
function scenariosSchema(adjustment: ScenarioAdjustment) {
  const vector = VECTOR[adjustment];
  const [other, otherVector] = adjustment === "multiplier"
    ? ["z_shift", VECTOR.z_shift] as const
    : ["multiplier", VECTOR.multiplier] as const;
  return z.array(scenarioSchema).min(1, {
    error: "must be a non-empty list of scenarios",
  }).max(MAX_SCENARIOS, {
    error: (issue) =>
      `must list at most ${MAX_SCENARIOS} scenarios (each projects every facility again), got ${
        (issue.input as unknown[]).length
      }`,
  }).superRefine(
    (scenarios, ctx) =>
      scenarios.forEach((s, i) => {
        if (s[vector] === undefined) {
          problem(
            ctx,
            [i, vector],
            `is required with scenario_adjustment: ${adjustment}`,
          );
        }
        if (s[otherVector] !== undefined) {
          problem(
            ctx,
            [i, otherVector],
            `only applies to scenario_adjustment: ${other}`,
          );
        }
      }),
    whenValid((path) => path.length === 1),
  ).superRefine(
    (scenarios, ctx) => duplicateNames("scenario", scenarios, ctx),
    whenValid((path) => path.length === 1 || path[1] === "name"),
  ).superRefine(
    (scenarios, ctx) => {
      const total = scenarios.reduce((a, s) => a + s.weight, 0);
      if (Math.abs(total - 1) > 1e-9) {
        problem(
          ctx,
          [],
          `weights must sum to 1 (methodology §8), got ${total}`,
        );
      }
    },
    whenValid((path) => path.length === 1 || path[1] === "weight"),
  );
}

/** One name or a list of them, read as a list. */
const names = z.union([text, z.array(text)], {
  error: "must be a name or a list of names",
}).transform((v) => Array.isArray(v) ? v : [v]);

const stage = z.literal([1, 2, 3]);

const overlaySchema = mapping({
  name: text,
  filter: mapping({
    segment: names.optional(),
    product: names.optional(),
    stage: z.union([stage, z.array(stage)], {
      error: "must be 1, 2, 3 or a list of them",
    }).transform((v) => Array.isArray(v) ? v : [v]).optional(),
    region: names.optional(),
  }).prefault({}),
  multiplier: z.number().min(0).max(
    MAX_OVERLAY_MULTIPLIER,
    bound("a hundredfold is beyond any judgement overlay; use add for amounts"),
  ).optional(),
  add: z.number().min(
    -MAX_OVERLAY_AMOUNT,
    bound("the bound of every amount, 1e15; sums in cents stay exact"),
  ).max(
    MAX_OVERLAY_AMOUNT,
    bound("the bound of every amount, 1e15; sums in cents stay exact"),
  ).optional(),
  reason: text,
}).superRefine(
  (overlay, ctx) => {
    if ((overlay.multiplier === undefined) === (overlay.add === undefined)) {
      problem(ctx, [], "needs exactly one of multiplier and add");
    }
  },
  whenValid(() => false),
);

/** The per-facility impacts and the summary name overlays: one each. */
const overlaysSchema = z.array(overlaySchema).max(MAX_OVERLAYS, {
  error: (issue) =>
    `must list at most ${MAX_OVERLAYS} overlays, got ${
      (issue.input as unknown[]).length
    }`,
}).superRefine(
  (overlays, ctx) => duplicateNames("overlay", overlays, ctx),
  whenValid((path) => path.length === 1 || path[1] === "name"),
).default([]);

const adjustmentSchema = z.enum(["multiplier", "z_shift"]).default(
  "multiplier",
);

/** The value of a top-level mapping's key, blank read as absent. */
const keyOf = (doc: unknown, key: string) =>
  isMapping(doc) ? doc[key] ?? undefined : undefined;

/**
 * The whole rules file. Two of its keys say how others read, so they are
 * read first: `staging.dpd_default` (the provision-matrix buckets end below
 * it; when it is unusable the buckets are not checked against it) and
 * `scenario_adjustment` (the vector each scenario gives; `multiplier` when
 * unusable, so the scenarios are still checked).
 */
function rulesSchema(doc: unknown): z.ZodType<Rules> {
  const dpdDefault = dpdDefaultSchema.catch(Infinity).parse(
    keyOf(keyOf(doc, "staging"), "dpd_default"),
  );
  const adjustment = adjustmentSchema.catch("multiplier").parse(
    keyOf(doc, "scenario_adjustment"),
  );
  return mapping({
    reporting_currency: z.string().regex(/^[A-Z]{3}$/, {
      error: (issue) => `must be an ISO 4217 code, got ${shown(issue.input)}`,
    }),
    staging: stagingSchema.prefault({}),
    products: z.record(z.string(), productSchema(dpdDefault))
      .refine((p) => Object.keys(p).length > 0, {
        error: "must name at least one product",
      }),
    segments: segmentsSchema,
    scenario_adjustment: adjustmentSchema,
    scenario_reversion_years: wholeNumber().min(0).max(
      MAX_REVERSION_YEARS,
      bound("longer than any loan's remaining life"),
    ).optional(),
    scenario_source: mapping({
      fit: text,
      sha256: z.string().regex(/^[0-9a-f]{64}$/, {
        error: "must be a SHA-256 in 64 lower-case hex digits",
      }),
    }).optional(),
    scenarios: scenariosSchema(adjustment),
    overlays: overlaysSchema,
    validation: mapping({ max_reject_rate: rate.default(0.05) }).prefault({}),
    plugins: z.array(mapping({
      module: z.string().min(1, { error: "must name the plugin's module" }),
      options: z.record(z.string(), z.unknown()).optional(),
    })).optional(),
    explain: mapping({
      provider: z.enum(["template", "vertex"]).optional(),
      model: z.string().min(1).max(200).optional(),
      project: z.string().min(1).max(200).optional(),
      location: z.string().min(1).max(100).optional(),
      timeout_seconds: z.number().gt(0).max(
        MAX_EXPLAIN_TIMEOUT_SECONDS,
        bound("a run must not wait longer on a model's narrative"),
      ).optional(),
    }).optional(),
    capital: capitalSchema(doc).optional(),
    sensitivity: sensitivitySchema(doc, MAX_Z_SHIFT).optional(),
  });
}

/**
 * Checks a parsed rules document (the YAML's data) against methodology
 * §10: the typed rules with defaults filled in, or every issue found.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const { issues } = checkRules({ reporting_currency: "EUR", products: {} });
 * assert.deepEqual(issues.map((i) => i.path), ["products", "scenarios"]);
 * ```
 */
export function checkRules(
  doc: unknown,
):
  | { rules: Rules; issues: [] }
  | { rules: undefined; issues: RulesIssue[] } {
  return checkedAs(doc, RULES_IN_CODE);
}

/** {@link checkRules}, recording where valid rules came from. */
function checkedAs(
  doc: unknown,
  file: string,
):
  | { rules: Rules; issues: [] }
  | { rules: undefined; issues: RulesIssue[] } {
  // Matrix files of `pd_curve: transition_matrix` segments are read first,
  // relative to the rules file, and checked with the rest (methodology §13).
  const matrices = resolveMatrixFiles(doc, file);
  const checked = checkDocument(rulesSchema(matrices.doc), matrices.doc);
  const issues = [
    ...matrices.issues,
    ...checked.issues.filter((i) =>
      !matrices.issues.some((m) => i.path.startsWith(m.path))
    ),
  ];
  const value = issues.length === 0 ? checked.value : undefined;
  if (value === undefined) return { rules: undefined, issues };
  CHECKED.set(value, {
    file,
    doc: copied(doc),
    fingerprint: fingerprint(value),
  });
  return { rules: value, issues: [] };
}

/**
 * Parses rules from YAML text. Throws {@link RulesError} listing every
 * problem, each with `file` and its key path. Rules with a
 * `scenario_source` must hold the scenarios of the fit it names
 * (lib/scenario_source.ts, docs/scenarios.md §5), its path relative
 * to `file`'s folder or the working directory; `options.scenarioSource:
 * false` skips that check (rules about to be written beside their fit).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const rules = parseRules(
 *   "reporting_currency: EUR\nproducts: {sme: {repayment: bullet}}\nscenarios: [{name: base, weight: 1, pd_multiplier: [1]}]",
 *   "inline.yaml",
 * );
 * assert.equal(rules.staging.dpd_default, 90);
 * assert.throws(
 *   () => parseRules("reporting_currency: EUR\nproducts: {card: {repayment: revolving}}\nscenarios: [{name: base, weight: 1, pd_multiplier: [1]}]", "card.yaml"),
 *   /key products\.card\.ccf: is required for repayment: revolving/,
 * );
 * ```
 */
export function parseRules(
  text: string,
  file: string,
  options: { scenarioSource?: boolean } = {},
): Rules {
  const read = readYaml(text);
  if ("syntaxError" in read) {
    throw new RulesError(file, [{
      path: "(syntax)",
      message: read.syntaxError,
    }]);
  }
  const { rules, issues } = checkedAs(read.doc, file);
  if (rules === undefined) throw new RulesError(file, issues);
  // Fitted scenarios must be the fit's (docs/scenarios.md §5, scenario_source.ts).
  if (options.scenarioSource !== false) {
    const provenance = checkScenarioSource(rules, file);
    if (provenance.length > 0) throw new RulesError(file, provenance);
  }
  return rules;
}

/**
 * Reads and checks a rules file; see {@link parseRules}. The file must be
 * a regular file of at most 1 MiB (`MAX_CONFIG_BYTES`; a real one is a few
 * KB); a directory, a device or a pipe is refused unless `stream` asks for
 * it on purpose.
 *
 * @param options.stream read a device or a pipe as a stream (still at most
 *   1 MiB). @default false
 * @throws {RulesError} naming the file, and each problem's key path
 */
export async function loadRules(
  path: string,
  options: { stream?: boolean } = {},
): Promise<Rules> {
  const read = await readConfigFile(path, options);
  if ("problem" in read) {
    throw new RulesError(path, [{ path: "(file)", message: read.problem }]);
  }
  const rules = parseRules(new TextDecoder().decode(read.bytes), path);
  RULES_SHA256.set(
    rules,
    createHash("sha256").update(read.bytes).digest("hex"),
  );
  return rules;
}

/** SHA-256 of the bytes {@link loadRules} parsed each rules object from. */
const RULES_SHA256 = new WeakMap<Rules, string>();

/**
 * The SHA-256 (hex) of the bytes {@link loadRules} parsed `rules` from
 * (the bytes read once, so an object in S3 is not fetched again to hash
 * it); undefined for rules made another way.
 */
export function rulesSha256(rules: Rules): string | undefined {
  return RULES_SHA256.get(rules);
}

/** The largest rules file read, in bytes (1 MiB); see `_config_file.ts`. */
export const MAX_RULES_BYTES = MAX_CONFIG_BYTES;

/**
 * The file name {@link RulesError} gives rules that were built in code
 * rather than read from a file.
 */
export const RULES_IN_CODE = "(rules built in code)";

/**
 * Rules that passed the checks, with the document they were read from and
 * what they held then: entry points skip the checks for these while they
 * are unchanged, and {@link withRules} patches their document.
 */
const CHECKED = new WeakMap<
  object,
  { file: string; doc: unknown; fingerprint: string }
>();

/** The content of a rules object, to tell whether it changed since checked. */
const fingerprint = (rules: unknown) => JSON.stringify(rules) ?? "";

/** A copy of a document, so that later changes to the caller's object do not reach it. */
function copied(doc: unknown): unknown {
  try {
    return structuredClone(doc);
  } catch {
    return doc;
  }
}

/** How a checked rules object was obtained, while it is unchanged. */
function checkedSource(
  rules: unknown,
): { file: string; doc: unknown } | undefined {
  if (typeof rules !== "object" || rules === null) return undefined;
  const known = CHECKED.get(rules);
  return known !== undefined && known.fingerprint === fingerprint(rules)
    ? known
    : undefined;
}

/**
 * A provision matrix's bucket as a rules file writes it under
 * `upper_bound: exclusive` (`below_dpd`, the inverse of the loader's
 * `inclusiveBuckets`).
 */
const exclusiveBucket = (b: ProvisionBucket) =>
  b.max_dpd === undefined
    ? { loss_rate: b.loss_rate }
    : { below_dpd: b.max_dpd + 1, loss_rate: b.loss_rate };

/**
 * Rules as a rules file would write them, so that the file's checks apply
 * to rules built or changed in code: the typed rules are the file's keys
 * already, except the buckets of an exclusive provision matrix, which the
 * loader turned into inclusive `max_dpd` bounds. Segments stay merged over
 * `default` (re-merging them changes nothing).
 */
function rulesDocument(rules: unknown): unknown {
  if (!isMapping(rules) || !isMapping(rules.products)) return rules;
  const products = Object.fromEntries(
    Object.entries(rules.products).map(([name, product]) => {
      if (!isMapping(product)) return [name, product];
      const matrix = product.provision_matrix;
      if (!isMapping(matrix) || matrix.upper_bound !== "exclusive") {
        return [name, product];
      }
      const written = (list: unknown) =>
        Array.isArray(list) ? list.map(exclusiveBucket) : list;
      const segments = isMapping(matrix.segments)
        ? Object.fromEntries(
          Object.entries(matrix.segments).map(([segment, rates]) => [
            segment,
            isMapping(rates)
              ? { ...rates, buckets: written(rates.buckets) }
              : rates,
          ]),
        )
        : matrix.segments;
      return [name, {
        ...product,
        provision_matrix: {
          ...matrix,
          buckets: written(matrix.buckets),
          ...(segments === undefined ? {} : { segments }),
        },
      }];
    }),
  );
  return { ...rules, products };
}

/**
 * The rules an entry point (`computeEcl`, `stageFacilities`,
 * `validatePortfolio`, ...) works with: `rules` itself when it is what
 * {@link loadRules}, {@link parseRules}, {@link checkRules} or
 * {@link withRules} returned and has not been changed since; otherwise
 * `rules` checked again like a rules file (under a millisecond), so rules
 * built or changed in code cannot reach the engine unchecked (scenario
 * weights summing to 1.5 are refused, not computed).
 *
 * @param caller The entry point, named in the error.
 * @throws {RulesError} listing every problem with its key path.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const rules = parseRules(
 *   "reporting_currency: EUR\nproducts: {sme: {repayment: bullet}}\nscenarios:\n  - {name: base, weight: 0.5, pd_multiplier: [1]}\n  - {name: downside, weight: 0.5, pd_multiplier: [1.5]}",
 *   "inline.yaml",
 * );
 * assert.equal(requireValidRules(rules, "computeEcl()"), rules);
 * // The downside's weight raised in code, the base's left as it was.
 * rules.scenarios[1].weight = 1;
 * assert.throws(
 *   () => requireValidRules(rules, "computeEcl()"),
 *   /^RulesError: computeEcl\(\) refuses the rules it was given \(read from inline\.yaml, changed since\): 1 problem\n  - key scenarios: weights must sum to 1 \(methodology §8\), got 1\.5$/,
 * );
 * ```
 */
export function requireValidRules(rules: Rules, caller: string): Rules {
  if (checkedSource(rules) !== undefined) return rules;
  const file =
    (typeof rules === "object" && rules !== null
      ? CHECKED.get(rules)?.file
      : undefined) ?? RULES_IN_CODE;
  const { rules: checked, issues } = checkedAs(rulesDocument(rules), file);
  if (checked === undefined) {
    throw new RulesError(
      file,
      issues,
      `${caller} refuses the rules it was given${
        file === RULES_IN_CODE ? "" : ` (read from ${file}, changed since)`
      }`,
    );
  }
  return checked;
}

/**
 * A change to rules for {@link withRules}: the keys to change, at any
 * depth. A mapping is merged key by key; a list (`scenarios`, `overlays`,
 * a PD shape) or a value replaces what was there; a key given as
 * `undefined` is removed (it takes its default again).
 */
export interface RulesPatch {
  /** The reporting currency. */
  reporting_currency?: string;
  /** Staging thresholds to change. */
  staging?: Partial<StagingRules>;
  /** Products to change or add, key by key. */
  products?: Record<string, Partial<ProductRules> | undefined>;
  /** Segments to change or add, key by key (`default` as in the file). */
  segments?: Record<string, Partial<SegmentRules> | undefined>;
  /** How scenarios move the PDs. */
  scenario_adjustment?: ScenarioAdjustment;
  /** Reversion years; `undefined` removes them. */
  scenario_reversion_years?: number;
  /** The whole list of scenarios. */
  scenarios?: Scenario[];
  /** The whole list of overlays. */
  overlays?: Overlay[];
  /** Data-quality limits to change. */
  validation?: Partial<ValidationRules>;
}

/** `patch` merged into `base`: mappings key by key, anything else replaced. */
function patched(base: unknown, patch: unknown): unknown {
  if (!isMapping(patch) || !isMapping(base)) return patch;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete out[key];
    else out[key] = patched(base[key], value);
  }
  return out;
}

/**
 * Rules derived from `rules` by a change made in code, checked like a
 * rules file: the way a notebook tries another threshold, scenario weights
 * or an overlay. The patch applies to the file as it was read (when
 * `rules` came from {@link loadRules} or `withRules` and is unchanged), so
 * a change to `segments.default` reaches every segment that does not set
 * the key itself, exactly as editing the file would (methodology §10);
 * rules built otherwise have their segments already merged, and a patch of
 * `segments.default` changes the default segment only.
 *
 * @throws {RulesError} listing every problem of the changed rules, each
 *   with its key path.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const rules = parseRules(
 *   "reporting_currency: EUR\nproducts: {sme: {repayment: bullet}}\nscenarios:\n  - {name: base, weight: 0.7, pd_multiplier: [1]}\n  - {name: downside, weight: 0.3, pd_multiplier: [1.5]}",
 *   "inline.yaml",
 * );
 * // A later SICR backstop: only the key given changes.
 * const later = withRules(rules, { staging: { dpd_sicr: 60 } });
 * assert.equal(later.staging.dpd_sicr, 60);
 * assert.equal(later.staging.dpd_default, 90);
 * // More weight on the downside without taking it from the base is refused.
 * assert.throws(
 *   () =>
 *     withRules(rules, {
 *       scenarios: rules.scenarios.map((s) =>
 *         s.name === "downside" ? { ...s, weight: 0.8 } : s
 *       ),
 *     }),
 *   /key scenarios: weights must sum to 1 \(methodology §8\), got 1\.5/,
 * );
 * ```
 */
export function withRules(rules: Rules, patch: RulesPatch): Rules {
  const source = checkedSource(rules);
  const file = source?.file ?? RULES_IN_CODE;
  const doc = patched(source?.doc ?? rulesDocument(rules), patch);
  const { rules: derived, issues } = checkedAs(doc, file);
  if (derived === undefined) {
    throw new RulesError(
      file,
      issues,
      `Cannot change the rules${
        file === RULES_IN_CODE ? "" : ` of ${file}`
      } with withRules()`,
    );
  }
  return derived;
}

/**
 * Checks overlays given to an entry point on their own (`applyOverlays`)
 * like the `overlays` of a rules file: names, one of `multiplier` and
 * `add`, filters, names unique.
 *
 * @param caller The entry point, named in the error.
 * @throws {RulesError} listing every problem with its key path
 *   (`overlays[0].reason`).
 */
export function requireValidOverlays(
  overlays: readonly Overlay[],
  caller: string,
): Overlay[] {
  const { value, issues } = checkDocument(
    mapping({ overlays: overlaysSchema }),
    { overlays },
  );
  if (value === undefined) {
    throw new RulesError(
      RULES_IN_CODE,
      issues,
      `${caller} refuses the overlays it was given`,
    );
  }
  return value.overlays;
}

/**
 * Checks that every product the data uses is configured (methodology §10,
 * "missing product"). Returns issues rather than throwing so callers can
 * report them with the data's own context.
 */
export function checkProductsCovered(
  rules: Rules,
  productsInData: Iterable<string>,
): RulesIssue[] {
  const issues: RulesIssue[] = [];
  for (const p of productsInData) {
    if (!(p in rules.products)) {
      issues.push({
        path: `products.${p}`,
        message: `product ${p} is used by the portfolio but not configured`,
      });
    }
  }
  return issues;
}

/** The parameters of a segment: its own entry, else `default` (§10). */
export function segmentRules(rules: Rules, segment: string): SegmentRules {
  return rules.segments[segment] ?? rules.segments.default;
}
