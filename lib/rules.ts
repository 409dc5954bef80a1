/**
 * The rules file (`config/ifrs9_rules.yaml`): the parameters of methodology
 * §10 as typed options, and a loader that reports every violation at once,
 * each with the file, the key path and what is wrong.
 *
 * Field names are the YAML keys, so an options object maps one to one onto
 * the file a risk team edits.
 *
 * @module
 */
import { parse as parseYaml } from "yaml";

/** How a product's exposure runs off (methodology §5). */
export type Repayment = "annuity" | "linear" | "bullet" | "revolving";
export const REPAYMENTS: readonly Repayment[] = [
  "annuity",
  "linear",
  "bullet",
  "revolving",
];

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

export interface ProductRules {
  repayment: Repayment;
  /** Credit conversion factor of the undrawn limit (revolving only). */
  ccf?: number;
  /** Remaining term used for revolving products (methodology §2). */
  behavioural_life_months?: number;
  /** @default "general" */
  approach: Approach;
  /** Required when `approach` is `simplified`. */
  provision_matrix?: ProvisionMatrix;
}

export type PdCurve = "flat" | "shape";

export interface SegmentRules {
  /** @default "flat" */
  pd_curve: PdCurve;
  /** Annual PD shape `g` with `g[1] = 1` (methodology §4), for `shape`. */
  pd_shape?: number[];
  lgd_unsecured: number;
  lgd_floor: number;
  /** Asset correlation for the `z_shift` adjustment (methodology §4). */
  rho: number;
  /**
   * Months from default to the realisation of the collateral: the recovery
   * is discounted by `(1 + r)^-lag` (methodology §6).
   * @default 0
   */
  recovery_lag_months: number;
}

export type ScenarioAdjustment = "multiplier" | "z_shift";

export interface Scenario {
  name: string;
  weight: number;
  /** Annual PD multipliers `k[s]` for `multiplier`. */
  pd_multiplier?: number[];
  /** Annual systematic factor values `z[s]` for `z_shift`. */
  z?: number[];
  /** @default 0 */
  collateral_haircut: number;
}

export interface StagingRules {
  /** @default 90 */
  dpd_default: number;
  /** @default 30 */
  dpd_sicr: number;
  /** @default 0.003 */
  low_credit_risk_pd: number;
  /** @default 2.0 */
  pd_relative_threshold: number;
  /** @default 0.005 */
  pd_absolute_threshold: number;
  /**
   * When true, a facility whose `previous_stage` is 3 and that no longer
   * meets a stage-3 rule is stage 2 with reason `PROBATION`.
   * @default false
   */
  probation_exit_via_stage2: boolean;
}

/** Filter of an overlay: every key given must match (null = any). */
export interface OverlayFilter {
  segment?: string[];
  product?: string[];
  stage?: number[];
  region?: string[];
}

/** A post-model adjustment applied after weighting (methodology §8). */
export interface Overlay {
  name: string;
  filter: OverlayFilter;
  /** ECL is multiplied by this. Exactly one of `multiplier` and `add`. */
  multiplier?: number;
  /**
   * An amount in the reporting currency for the matching facilities as a
   * whole, shared pro rata to their ECL (methodology §8, `overlays.ts`).
   */
  add?: number;
  reason: string;
}

export interface ValidationRules {
  /** Rejected share above which a run fails. @default 0.05 */
  max_reject_rate: number;
}

/** The whole rules file, typed, with defaults filled in. */
export interface Rules {
  reporting_currency: string;
  staging: StagingRules;
  products: Record<string, ProductRules>;
  /** Always holds `default`; other entries are already merged over it. */
  segments: Record<string, SegmentRules>;
  scenario_adjustment: ScenarioAdjustment;
  /**
   * Years over which each scenario's adjustment reverts linearly to
   * neutral after the end of its vector (methodology §4); absent: the last
   * value repeats for the whole term.
   */
  scenario_reversion_years?: number;
  scenarios: Scenario[];
  overlays: Overlay[];
  validation: ValidationRules;
}

/** One violation in a rules file. */
export interface RulesIssue {
  /** Key path such as `scenarios[1].weight`. */
  path: string;
  message: string;
}

/** Thrown when a rules file breaks one or more rules; lists all of them. */
export class RulesError extends Error {
  constructor(readonly file: string, readonly issues: RulesIssue[]) {
    super(
      `Cannot load rules file ${file}: ${issues.length} problem${
        issues.length === 1 ? "" : "s"
      }\n` + issues.map((i) => `  - key ${i.path}: ${i.message}`).join("\n"),
    );
    this.name = "RulesError";
  }
}

const STAGING_DEFAULTS: StagingRules = {
  dpd_default: 90,
  dpd_sicr: 30,
  low_credit_risk_pd: 0.003,
  pd_relative_threshold: 2.0,
  pd_absolute_threshold: 0.005,
  probation_exit_via_stage2: false,
};

const SEGMENT_DEFAULTS: SegmentRules = {
  pd_curve: "flat",
  lgd_unsecured: 0.45,
  lgd_floor: 0.05,
  rho: 0.15,
  recovery_lag_months: 0,
};

const TOP_KEYS = [
  "reporting_currency",
  "staging",
  "products",
  "segments",
  "scenario_adjustment",
  "scenario_reversion_years",
  "scenarios",
  "overlays",
  "validation",
];

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number =>
  typeof v === "number" && Number.isFinite(v);

/** Collects issues while walking the parsed YAML. */
class Checker {
  issues: RulesIssue[] = [];
  add(path: string, message: string) {
    this.issues.push({ path, message });
  }
  unknownKeys(obj: Obj, allowed: readonly string[], path: string) {
    for (const k of Object.keys(obj)) {
      if (!allowed.includes(k)) {
        this.add(
          path ? `${path}.${k}` : k,
          `unknown key (allowed: ${allowed.join(", ")})`,
        );
      }
    }
  }
  number(
    obj: Obj,
    key: string,
    path: string,
    opts: {
      min?: number;
      max?: number;
      minExclusive?: boolean;
      integer?: boolean;
      fallback?: number;
    },
  ): number | undefined {
    const p = path ? `${path}.${key}` : key;
    const v = obj[key];
    if (v === undefined || v === null) {
      if (opts.fallback === undefined) this.add(p, "is required");
      return opts.fallback;
    }
    if (!isNum(v)) {
      this.add(p, `must be a number, got ${JSON.stringify(v)}`);
      return opts.fallback;
    }
    if (opts.integer && !Number.isInteger(v)) {
      this.add(p, `must be a whole number, got ${v}`);
    }
    if (opts.min !== undefined) {
      if (opts.minExclusive ? v <= opts.min : v < opts.min) {
        this.add(
          p,
          `must be ${opts.minExclusive ? ">" : ">="} ${opts.min}, got ${v}`,
        );
      }
    }
    if (opts.max !== undefined && v > opts.max) {
      this.add(p, `must be <= ${opts.max}, got ${v}`);
    }
    return v;
  }
  numberList(
    v: unknown,
    path: string,
    opts: { min?: number; max?: number } = {},
  ): number[] | undefined {
    if (!Array.isArray(v) || v.length === 0) {
      this.add(path, "must be a non-empty list of numbers");
      return undefined;
    }
    v.forEach((x, i) => {
      if (!isNum(x)) {
        this.add(`${path}[${i}]`, `must be a number, got ${JSON.stringify(x)}`);
      } else if (opts.min !== undefined && x < opts.min) {
        this.add(`${path}[${i}]`, `must be >= ${opts.min}, got ${x}`);
      } else if (opts.max !== undefined && x > opts.max) {
        this.add(`${path}[${i}]`, `must be <= ${opts.max}, got ${x}`);
      }
    });
    return v as number[];
  }
  string(obj: Obj, key: string, path: string, required = true) {
    const p = path ? `${path}.${key}` : key;
    const v = obj[key];
    if (v === undefined || v === null) {
      if (required) this.add(p, "is required");
      return undefined;
    }
    if (typeof v !== "string" || v.length === 0) {
      this.add(p, `must be a non-empty string, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return v;
  }
  oneOf<T extends string>(
    obj: Obj,
    key: string,
    path: string,
    allowed: readonly T[],
    fallback?: T,
  ): T | undefined {
    const p = path ? `${path}.${key}` : key;
    const v = obj[key];
    if (v === undefined || v === null) {
      if (fallback === undefined) this.add(p, "is required");
      return fallback;
    }
    if (!allowed.includes(v as T)) {
      this.add(
        p,
        `unknown value ${JSON.stringify(v)} (expected one of: ${
          allowed.join(", ")
        })`,
      );
      return fallback;
    }
    return v as T;
  }
  object(obj: Obj, key: string, path: string, required: boolean): Obj {
    const p = path ? `${path}.${key}` : key;
    const v = obj[key];
    if (v === undefined || v === null) {
      if (required) this.add(p, "is required");
      return {};
    }
    if (!isObj(v)) {
      this.add(p, "must be a mapping");
      return {};
    }
    return v;
  }
}

/** A bucket's bound as written: which key, and its value. */
interface WrittenBound {
  key: "max_dpd" | "below_dpd";
  value: number;
}

/** The largest days past due a written bound lets into its bucket. */
const lastDayOf = (b: WrittenBound) =>
  b.key === "max_dpd" ? b.value : b.value - 1;

/** The bound keys a list of buckets uses, in order of first use. */
function boundKeysUsed(v: unknown): ("max_dpd" | "below_dpd")[] {
  if (!Array.isArray(v)) return [];
  const keys = new Set<"max_dpd" | "below_dpd">();
  for (const b of v) {
    if (!isObj(b)) continue;
    for (const k of ["max_dpd", "below_dpd"] as const) {
      if (b[k] !== undefined && b[k] !== null) keys.add(k);
    }
  }
  return [...keys];
}

/**
 * Checks one list of buckets against the matrix's `upper_bound` and the
 * stage-3 rule, returning them with inclusive `max_dpd` bounds.
 *
 * Every bounded bucket must end below `staging.dpd_default`: from that many
 * days past due a receivable is credit-impaired (methodology §3 rule 2,
 * IFRS 9 B5.5.37) and takes the matrix's `credit_impaired_loss_rate`, so a
 * bucket reaching it would show a rate that never applies to part of what
 * it appears to hold (Example 12's "61-90" bucket at 90 days, for one).
 */
function checkBuckets(
  c: Checker,
  v: unknown,
  path: string,
  bound: UpperBound,
  dpdDefault: number,
): ProvisionBucket[] {
  const key = BOUND_KEY[bound];
  if (!Array.isArray(v) || v.length === 0) {
    c.add(path, "must be a non-empty list of buckets");
    return [];
  }
  const out: ProvisionBucket[] = [];
  let first = 0; // the smallest days past due the current bucket holds
  let previous: WrittenBound | undefined;
  v.forEach((b, i) => {
    const p = `${path}[${i}]`;
    if (!isObj(b)) {
      c.add(p, `must be a mapping with ${key} and loss_rate`);
      return;
    }
    c.unknownKeys(b, ["max_dpd", "below_dpd", "loss_rate"], p);
    const last = i === v.length - 1;
    const lossRate = c.number(b, "loss_rate", p, { min: 0, max: 1 });
    const written = (["max_dpd", "below_dpd"] as const).filter((k) =>
      b[k] !== undefined && b[k] !== null
    );
    let maxDpd: number | undefined;
    if (written.length === 0) {
      if (!last) c.add(`${p}.${key}`, "is required except on the last bucket");
    } else if (written.length === 2) {
      c.add(
        p,
        `gives both max_dpd and below_dpd: keep ${key} (upper_bound: ${bound})`,
      );
    } else {
      const k = written[0];
      if (last) {
        c.add(
          `${p}.${k}`,
          "the last bucket must be open (no bound) so every receivable has a rate",
        );
      }
      if (k !== key) {
        const n = b[k];
        const same = isNum(n)
          ? ` ${key}: ${k === "max_dpd" ? n + 1 : n - 1}`
          : ` ${key}`;
        c.add(
          `${p}.${k}`,
          `${k} ${
            k === "max_dpd"
              ? "is an inclusive bound (days past due up to and including it)"
              : "is an exclusive bound (days past due below it)"
          }, but this matrix says upper_bound: ${bound}: write${same} for the same bucket, or change upper_bound`,
        );
      }
      const value = c.number(b, k, p, {
        min: k === "max_dpd" ? 0 : 1,
        integer: true,
      });
      if (value !== undefined) {
        const here: WrittenBound = { key: k, value };
        const lastDay = lastDayOf(here);
        if (previous !== undefined && lastDay < first) {
          c.add(
            `${p}.${k}`,
            `must be above the previous bucket's ${previous.key} ${previous.value}`,
          );
        } else if (lastDay >= dpdDefault) {
          const endAt = key === "max_dpd" ? dpdDefault - 1 : dpdDefault;
          c.add(
            `${p}.${k}`,
            `${k}: ${value} puts days_past_due ${
              Math.max(first, dpdDefault)
            } to ${lastDay} in this bucket, but from staging.dpd_default (${dpdDefault}) days past due a receivable is credit-impaired (stage 3, methodology §3 rule 2) and takes credit_impaired_loss_rate, so this rate would not apply to them: ${
              first < dpdDefault
                ? `end the bucket at ${key}: ${endAt}`
                : "remove the bucket"
            } and leave ${dpdDefault} days and over to the last, open bucket`,
          );
        }
        maxDpd = lastDay;
        first = lastDay + 1;
        previous = here;
      }
    }
    if (lossRate !== undefined) {
      out.push({ max_dpd: maxDpd, loss_rate: lossRate });
    }
  });
  return out;
}

/**
 * A matrix's `credit_impaired_loss_rate` when written (in [0, 1]), else
 * undefined.
 */
function writtenCreditImpairedRate(
  c: Checker,
  obj: Obj,
  path: string,
): number | undefined {
  return obj.credit_impaired_loss_rate === undefined ||
      obj.credit_impaired_loss_rate === null
    ? undefined
    : c.number(obj, "credit_impaired_loss_rate", path, { min: 0, max: 1 });
}

/**
 * The last bucket's rate: the open bucket holds `staging.dpd_default` days
 * past due and over, so by default it is the credit-impaired rate, as in
 * IFRS 9 Example 12 (more than 90 days past due: 10.6%).
 */
const lastRate = (buckets: readonly ProvisionBucket[]) =>
  buckets[buckets.length - 1]?.loss_rate ?? 0;

/**
 * Checks `provision_matrix` of a simplified product: `upper_bound`, the
 * buckets, `credit_impaired_loss_rate` and the segment matrices (each a
 * list of buckets, or a mapping with `buckets` and its own
 * `credit_impaired_loss_rate`; a key a segment does not give comes from the
 * product's matrix, as segment entries override key by key, §10).
 */
function checkProvisionMatrix(
  c: Checker,
  pm: Obj,
  path: string,
  dpdDefault: number,
): ProvisionMatrix {
  c.unknownKeys(
    pm,
    ["upper_bound", "buckets", "credit_impaired_loss_rate", "segments"],
    path,
  );
  const segmentsDoc = pm.segments === undefined || pm.segments === null
    ? {}
    : isObj(pm.segments)
    ? pm.segments
    : (c.add(`${path}.segments`, "must be a mapping"), {});
  const segmentBuckets = (v: unknown) => isObj(v) ? v.buckets : v;
  const used = [
    ...boundKeysUsed(pm.buckets),
    ...Object.values(segmentsDoc).flatMap((v) =>
      boundKeysUsed(segmentBuckets(v))
    ),
  ];
  let bound: UpperBound | undefined;
  if (pm.upper_bound !== undefined && pm.upper_bound !== null) {
    bound = c.oneOf(pm, "upper_bound", path, ["inclusive", "exclusive"]);
  } else if (used.length > 0) {
    // No default, so no reader has to guess how a bound reads (issue 7:
    // bounds stated as inclusive or exclusive in the configuration).
    c.add(
      `${path}.upper_bound`,
      "is required when buckets have bounds: write upper_bound: inclusive if each bucket holds days_past_due up to and including its max_dpd (what a matrix without this key meant before), or upper_bound: exclusive and give each bucket below_dpd (it holds days_past_due below that)",
    );
  }
  // Without a valid setting, read the buckets as their keys say, so the
  // other problems are still reported.
  bound ??= used[0] === "below_dpd" ? "exclusive" : "inclusive";
  const buckets = checkBuckets(
    c,
    pm.buckets,
    `${path}.buckets`,
    bound,
    dpdDefault,
  );
  const productRate = writtenCreditImpairedRate(c, pm, path);
  const matrix: ProvisionMatrix = {
    buckets,
    credit_impaired_loss_rate: productRate ?? lastRate(buckets),
  };
  if (used.length > 0) matrix.upper_bound = bound;
  const segNames = Object.keys(segmentsDoc);
  if (segNames.length > 0) {
    matrix.segments = {};
    for (const seg of segNames) {
      const v = segmentsDoc[seg];
      const p = `${path}.segments.${seg}`;
      if (isObj(v)) {
        c.unknownKeys(v, ["buckets", "credit_impaired_loss_rate"], p);
      }
      const segBuckets = checkBuckets(
        c,
        segmentBuckets(v),
        isObj(v) ? `${p}.buckets` : p,
        bound,
        dpdDefault,
      );
      matrix.segments[seg] = {
        buckets: segBuckets,
        credit_impaired_loss_rate:
          (isObj(v) ? writtenCreditImpairedRate(c, v, p) : undefined) ??
            productRate ?? lastRate(segBuckets),
      };
    }
  }
  return matrix;
}

function checkProduct(
  c: Checker,
  name: string,
  v: unknown,
  dpdDefault: number,
): ProductRules {
  const path = `products.${name}`;
  const fallback: ProductRules = { repayment: "bullet", approach: "general" };
  if (!isObj(v)) {
    c.add(path, "must be a mapping with at least `repayment`");
    return fallback;
  }
  c.unknownKeys(v, [
    "repayment",
    "ccf",
    "behavioural_life_months",
    "approach",
    "provision_matrix",
  ], path);
  const repayment = c.oneOf(v, "repayment", path, REPAYMENTS) ?? "bullet";
  const approach = c.oneOf(
    v,
    "approach",
    path,
    ["general", "simplified"] as const,
    "general",
  )!;
  const product: ProductRules = { repayment, approach };
  if (repayment === "revolving") {
    product.ccf = c.number(v, "ccf", path, { min: 0, max: 1 });
    product.behavioural_life_months = c.number(
      v,
      "behavioural_life_months",
      path,
      { min: 1, integer: true },
    );
  } else {
    for (const k of ["ccf", "behavioural_life_months"]) {
      if (v[k] !== undefined) {
        c.add(`${path}.${k}`, "only applies to repayment: revolving");
      }
    }
  }
  if (approach === "simplified") {
    product.provision_matrix = checkProvisionMatrix(
      c,
      c.object(v, "provision_matrix", path, true),
      `${path}.provision_matrix`,
      dpdDefault,
    );
  } else if (v.provision_matrix !== undefined) {
    c.add(
      `${path}.provision_matrix`,
      "only applies to approach: simplified",
    );
  }
  return product;
}

const SEGMENT_KEYS = [
  "pd_curve",
  "pd_shape",
  "lgd_unsecured",
  "lgd_floor",
  "rho",
  "recovery_lag_months",
] as const;

function checkSegment(
  c: Checker,
  path: string,
  v: unknown,
  base: SegmentRules,
): SegmentRules {
  if (!isObj(v)) {
    c.add(path, "must be a mapping");
    return base;
  }
  c.unknownKeys(v, SEGMENT_KEYS, path);
  const seg: SegmentRules = {
    ...base,
    pd_curve: c.oneOf(
      v,
      "pd_curve",
      path,
      ["flat", "shape"] as const,
      base.pd_curve,
    )!,
    lgd_unsecured: c.number(v, "lgd_unsecured", path, {
      min: 0,
      max: 1,
      fallback: base.lgd_unsecured,
    })!,
    lgd_floor: c.number(v, "lgd_floor", path, {
      min: 0,
      max: 1,
      fallback: base.lgd_floor,
    })!,
    rho: c.number(v, "rho", path, {
      min: 0,
      max: 1,
      minExclusive: true,
      fallback: base.rho,
    })!,
    recovery_lag_months: c.number(v, "recovery_lag_months", path, {
      min: 0,
      max: MAX_RECOVERY_LAG_MONTHS,
      integer: true,
      fallback: base.recovery_lag_months,
    })!,
  };
  if (isNum(v.rho) && v.rho >= 1) c.add(`${path}.rho`, "must be < 1");
  if (v.pd_shape !== undefined) {
    seg.pd_shape = c.numberList(v.pd_shape, `${path}.pd_shape`, { min: 0 });
    if (seg.pd_shape && seg.pd_shape[0] !== 1) {
      c.add(
        `${path}.pd_shape[0]`,
        `must be 1 (g[1] = 1), got ${seg.pd_shape[0]}`,
      );
    }
  }
  if (seg.pd_curve === "shape" && !seg.pd_shape) {
    c.add(`${path}.pd_shape`, "is required when pd_curve is shape");
  }
  return seg;
}

function checkScenario(
  c: Checker,
  v: unknown,
  i: number,
  adjustment: ScenarioAdjustment,
): Scenario | undefined {
  const path = `scenarios[${i}]`;
  if (!isObj(v)) {
    c.add(path, "must be a mapping with name and weight");
    return undefined;
  }
  c.unknownKeys(
    v,
    ["name", "weight", "pd_multiplier", "z", "collateral_haircut"],
    path,
  );
  const name = c.string(v, "name", path) ?? `#${i}`;
  if (!/^[a-z][a-z0-9_]*$/.test(name)) {
    c.add(
      `${path}.name`,
      `must be lower-case letters, digits and _ (it names the column ecl_${name})`,
    );
  } else if (reservedScenarioName(name)) {
    c.add(
      `${path}.name`,
      `${name} cannot name a scenario: its column ecl_${name} would collide with ${
        reservedScenarioName(name)
      }`,
    );
  }
  const scenario: Scenario = {
    name,
    weight: c.number(v, "weight", path, { min: 0, max: 1 }) ?? 0,
    collateral_haircut: c.number(v, "collateral_haircut", path, {
      min: 0,
      max: 1,
      fallback: 0,
    })!,
  };
  if (adjustment === "multiplier") {
    scenario.pd_multiplier = c.numberList(
      v.pd_multiplier,
      `${path}.pd_multiplier`,
      {
        min: 0,
      },
    );
    if (v.z !== undefined) {
      c.add(`${path}.z`, "only applies to scenario_adjustment: z_shift");
    }
  } else {
    scenario.z = c.numberList(v.z, `${path}.z`);
    if (v.pd_multiplier !== undefined) {
      c.add(
        `${path}.pd_multiplier`,
        "only applies to scenario_adjustment: multiplier",
      );
    }
  }
  return scenario;
}

/** Upper bound of `scenario_reversion_years`: longer than any loan's life. */
const MAX_REVERSION_YEARS = 50;

/** Upper bound of `recovery_lag_months`: ten years to realise collateral. */
const MAX_RECOVERY_LAG_MONTHS = 120;

/**
 * Why a scenario name cannot be used, or `undefined` when it can. A
 * scenario `s` writes the loan-level column `ecl_<s>` (methodology §9)
 * next to the engine's own `ecl_*` columns, and reports tell scenario
 * columns apart by that prefix; a name that produces another column's name
 * or a suffix the reports and the movement add (`_rc` for reporting-currency
 * amounts, `_from` / `_to` for the two runs compared, `_local`) would
 * silently mix two figures.
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

function stringList(
  c: Checker,
  v: unknown,
  path: string,
): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  const list = Array.isArray(v) ? v : [v];
  if (list.some((x) => typeof x !== "string" || x === "")) {
    c.add(path, "must be a name or a list of names");
    return undefined;
  }
  return list as string[];
}

function checkOverlay(c: Checker, v: unknown, i: number): Overlay | undefined {
  const path = `overlays[${i}]`;
  if (!isObj(v)) {
    c.add(
      path,
      "must be a mapping with name, filter, multiplier or add, reason",
    );
    return undefined;
  }
  c.unknownKeys(v, ["name", "filter", "multiplier", "add", "reason"], path);
  const name = c.string(v, "name", path) ?? `#${i}`;
  const reason = c.string(v, "reason", path) ?? "";
  const f = c.object(v, "filter", path, false);
  c.unknownKeys(f, ["segment", "product", "stage", "region"], `${path}.filter`);
  const filter: OverlayFilter = {
    segment: stringList(c, f.segment, `${path}.filter.segment`),
    product: stringList(c, f.product, `${path}.filter.product`),
    region: stringList(c, f.region, `${path}.filter.region`),
  };
  if (f.stage !== undefined) {
    const stages = Array.isArray(f.stage) ? f.stage : [f.stage];
    if (stages.some((s) => s !== 1 && s !== 2 && s !== 3)) {
      c.add(`${path}.filter.stage`, "must be 1, 2, 3 or a list of them");
    } else filter.stage = stages as number[];
  }
  const overlay: Overlay = { name, filter, reason };
  const hasMult = v.multiplier !== undefined;
  const hasAdd = v.add !== undefined;
  if (hasMult === hasAdd) {
    c.add(path, "needs exactly one of multiplier and add");
  } else if (hasMult) {
    overlay.multiplier = c.number(v, "multiplier", path, { min: 0 });
  } else {
    overlay.add = c.number(v, "add", path, {});
  }
  return overlay;
}

/**
 * Checks parsed YAML against the rules of methodology §10 and returns the
 * typed rules with defaults filled in, plus every issue found.
 */
export function checkRules(
  doc: unknown,
): { rules: Rules; issues: RulesIssue[] } {
  const c = new Checker();
  const root: Obj = isObj(doc) ? doc : {};
  if (!isObj(doc)) c.add("(root)", "the file must hold a YAML mapping");
  c.unknownKeys(root, TOP_KEYS, "");

  const reportingCurrency = c.string(root, "reporting_currency", "") ?? "EUR";
  if (!/^[A-Z]{3}$/.test(reportingCurrency)) {
    c.add(
      "reporting_currency",
      `must be an ISO 4217 code, got ${reportingCurrency}`,
    );
  }

  const st = c.object(root, "staging", "", false);
  c.unknownKeys(st, Object.keys(STAGING_DEFAULTS), "staging");
  const staging: StagingRules = {
    dpd_default: c.number(st, "dpd_default", "staging", {
      min: 1,
      integer: true,
      fallback: STAGING_DEFAULTS.dpd_default,
    })!,
    dpd_sicr: c.number(st, "dpd_sicr", "staging", {
      min: 0,
      integer: true,
      fallback: STAGING_DEFAULTS.dpd_sicr,
    })!,
    low_credit_risk_pd: c.number(st, "low_credit_risk_pd", "staging", {
      min: 0,
      max: 1,
      fallback: STAGING_DEFAULTS.low_credit_risk_pd,
    })!,
    pd_relative_threshold: c.number(st, "pd_relative_threshold", "staging", {
      min: 0,
      fallback: STAGING_DEFAULTS.pd_relative_threshold,
    })!,
    pd_absolute_threshold: c.number(st, "pd_absolute_threshold", "staging", {
      min: 0,
      max: 1,
      fallback: STAGING_DEFAULTS.pd_absolute_threshold,
    })!,
    probation_exit_via_stage2: STAGING_DEFAULTS.probation_exit_via_stage2,
  };
  if (st.probation_exit_via_stage2 !== undefined) {
    if (typeof st.probation_exit_via_stage2 !== "boolean") {
      c.add("staging.probation_exit_via_stage2", "must be true or false");
    } else staging.probation_exit_via_stage2 = st.probation_exit_via_stage2;
  }
  if (staging.dpd_sicr >= staging.dpd_default) {
    c.add(
      "staging.dpd_sicr",
      `must be below staging.dpd_default (${staging.dpd_default}), got ${staging.dpd_sicr}`,
    );
  }

  const productsDoc = c.object(root, "products", "", true);
  const products: Record<string, ProductRules> = {};
  if (Object.keys(productsDoc).length === 0 && isObj(root.products)) {
    c.add("products", "must name at least one product");
  }
  for (const [name, v] of Object.entries(productsDoc)) {
    products[name] = checkProduct(c, name, v, staging.dpd_default);
  }

  const segmentsDoc = c.object(root, "segments", "", false);
  const defaultSegment = segmentsDoc.default === undefined
    ? SEGMENT_DEFAULTS
    : checkSegment(
      c,
      "segments.default",
      segmentsDoc.default,
      SEGMENT_DEFAULTS,
    );
  const segments: Record<string, SegmentRules> = { default: defaultSegment };
  for (const [name, v] of Object.entries(segmentsDoc)) {
    if (name === "default") continue;
    segments[name] = checkSegment(c, `segments.${name}`, v, defaultSegment);
  }

  const scenarioAdjustment = c.oneOf(
    root,
    "scenario_adjustment",
    "",
    ["multiplier", "z_shift"] as const,
    "multiplier",
  )!;
  const scenarioReversionYears = root.scenario_reversion_years === undefined
    ? undefined
    : c.number(root, "scenario_reversion_years", "", {
      min: 0,
      max: MAX_REVERSION_YEARS,
      integer: true,
    });

  const scenarios: Scenario[] = [];
  if (!Array.isArray(root.scenarios) || root.scenarios.length === 0) {
    c.add("scenarios", "must be a non-empty list of scenarios");
  } else {
    root.scenarios.forEach((v, i) => {
      const s = checkScenario(c, v, i, scenarioAdjustment);
      if (s) scenarios.push(s);
    });
    const seen = new Set<string>();
    scenarios.forEach((s, i) => {
      if (seen.has(s.name)) {
        c.add(`scenarios[${i}].name`, `duplicate scenario name ${s.name}`);
      }
      seen.add(s.name);
    });
    const total = scenarios.reduce((a, s) => a + s.weight, 0);
    if (Math.abs(total - 1) > 1e-9) {
      c.add(
        "scenarios",
        `weights must sum to 1 (methodology §8), got ${total}`,
      );
    }
  }

  const overlays: Overlay[] = [];
  if (root.overlays !== undefined && root.overlays !== null) {
    if (!Array.isArray(root.overlays)) c.add("overlays", "must be a list");
    else {
      const names = new Set<string>();
      root.overlays.forEach((v, i) => {
        const o = checkOverlay(c, v, i);
        if (!o) return;
        // The per-facility impacts and the summary name overlays.
        if (names.has(o.name)) {
          c.add(`overlays[${i}].name`, `duplicate overlay name ${o.name}`);
        }
        names.add(o.name);
        overlays.push(o);
      });
    }
  }

  const va = c.object(root, "validation", "", false);
  c.unknownKeys(va, ["max_reject_rate"], "validation");
  const validation: ValidationRules = {
    max_reject_rate: c.number(va, "max_reject_rate", "validation", {
      min: 0,
      max: 1,
      fallback: 0.05,
    })!,
  };

  return {
    rules: {
      reporting_currency: reportingCurrency,
      staging,
      products,
      segments,
      scenario_adjustment: scenarioAdjustment,
      ...(scenarioReversionYears === undefined
        ? {}
        : { scenario_reversion_years: scenarioReversionYears }),
      scenarios,
      overlays,
      validation,
    },
    issues: c.issues,
  };
}

/**
 * Parses rules from YAML text. Throws {@link RulesError} listing every
 * problem, each with `file` and its key path.
 *
 * @example
 * ```ts
 * const rules = parseRules("reporting_currency: EUR\nproducts: {sme: {repayment: bullet}}\nscenarios: [{name: base, weight: 1, pd_multiplier: [1]}]", "inline.yaml");
 * rules.staging.dpd_default; // 90
 * ```
 */
export function parseRules(text: string, file: string): Rules {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    const linePos = (e as { linePos?: { line: number; col: number }[] })
      .linePos?.[0];
    throw new RulesError(file, [{
      path: "(syntax)",
      message: `not valid YAML${
        linePos ? ` at line ${linePos.line}, column ${linePos.col}` : ""
      }: ${(e as Error).message.split("\n")[0]}`,
    }]);
  }
  const { rules, issues } = checkRules(doc);
  if (issues.length > 0) throw new RulesError(file, issues);
  return rules;
}

/** Reads and checks a rules file; see {@link parseRules}. */
export async function loadRules(path: string): Promise<Rules> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new RulesError(path, [{
      path: "(file)",
      message: `cannot be read: ${(e as Error).message}`,
    }]);
  }
  return parseRules(text, path);
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
