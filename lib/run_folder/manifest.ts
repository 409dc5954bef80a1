/**
 * What `manifest.json` holds: what a run read (paths and SHA-256 of the
 * portfolio, rules and FX files), which code computed it, how many rows
 * went in and out, how long each step took, and whether it completed. It
 * is the audit trail that ties a loss allowance back to exact inputs and
 * code. `lib/run` fills it; this module says what readers may rely on.
 *
 * @module
 */
import { isCount, isRealIsoDate, type Summary } from "./summary.ts";

/** A hashed input file. */
export interface InputRef {
  /** The path the run was given. */
  path: string;
  /** SHA-256 of the file's bytes, lower-case hex. */
  sha256: string;
}

/** One parameter of a rules file: a scalar, or a list of scalars. */
export type RulesParameter =
  | string
  | number
  | boolean
  | null
  | (string | number | boolean | null)[];

/** The rules file a run read: hashed, and its parameters as the run used them. */
export interface RulesRef extends InputRef {
  /**
   * Every parameter of the rules as loaded (defaults filled in), by key
   * path (`staging.dpd_sicr`, `scenarios[1].weight`), so that two runs'
   * rules can be compared key by key ({@link rulesChangeWarning}). Absent
   * in manifests before version 2.
   */
  parameters?: Record<string, RulesParameter>;
}

/**
 * Version of the manifest's layout, recorded as `manifest_version`:
 * 1 (absent) before the rules' parameters were recorded; 2 with
 * `inputs.rules.parameters`.
 */
export const MANIFEST_VERSION = 2;

/** The status of a run, as its manifest records it. */
export const RUN_STATUS = ["running", "complete", "failed"] as const;

/** The manifest of a run folder. */
export interface Manifest {
  /** The run's id, the name of its folder. */
  run_id: string;
  /**
   * The manifest's layout ({@link MANIFEST_VERSION}); 1 when absent, set
   * by {@link upgradeManifest}.
   */
  manifest_version?: number;
  /**
   * `complete` under the final name; `failed` under `<run_id>.failed`;
   * `running` only in the copy the report sees before the run finishes.
   */
  status: (typeof RUN_STATUS)[number];
  /** Reporting date `YYYY-MM-DD`; null when the run failed before it was known. */
  reporting_date: string | null;
  /** ISO 8601 timestamps (UTC). */
  started_at: string;
  /** Null while the run is still writing its folder. */
  finished_at: string | null;
  /** `git` commit of the code (`+dirty` with uncommitted changes). */
  code_version: string;
  /**
   * Version of the methodology contract (docs/methodology.md) the engine
   * computed by; absent in manifests written before version 2.
   */
  methodology_version?: number;
  /** The files the run read, hashed. */
  inputs: { portfolio: InputRef; rules: RulesRef; fx: InputRef };
  /** Rows read, valid, rejected by validation, and computed. */
  rows: { read: number; valid: number; rejected: number; computed: number };
  /** Wall-clock milliseconds per step, in the order the steps ran. */
  timings_ms: Record<string, number>;
  /**
   * Run-level warnings that did not stop the run (an FX table of another
   * date). Data warnings of the validator are in `data_quality.json`.
   */
  warnings: string[];
  /** Why the run failed (only when `status` is `failed`). */
  error?: string;
  /**
   * The plugins the run called (docs/plugins.md), in the rules' order;
   * absent when the rules list none, and in manifests written before
   * plugins existed.
   */
  plugins?: PluginRecord[];
  /**
   * The PD models that scored `pd_12m_current` (rules `pd_source`,
   * docs/pd_models.md "Scoring in a run"), one per model; absent when no
   * segment has one.
   */
  pd_models?: PdModelRecord[];
  /**
   * Set on the run folder of one part of a partitioned run (`deno task
   * run --partition K/N`, docs/partitions.md); absent otherwise.
   */
  partition?: PartitionRecord;
  /**
   * Set on a run merged from parts (`deno task merge`): each part's run
   * id, index and the SHA-256 of its `manifest.json`, in part order.
   */
  merged_from?: MergedPart[];
}

/** How a partitioned run split its book (docs/partitions.md). */
export type PartitionBy = "loan_id_fnv1a32" | "file";

/** What the manifest of one part of a partitioned run records. */
export interface PartitionRecord {
  /** The part, zero-based. */
  index: number;
  /** How many parts the book was split into. */
  count: number;
  /** By the FNV-1a 32 hash of `loan_id`, or one file of a folder per part. */
  by: PartitionBy;
  /** The run id the parts are merged into. */
  merged_run_id: string;
  /** The portfolio as given to the parts: the file, or the folder of part files. */
  input: string;
  /**
   * SHA-256 of the inputs every part shares: the whole portfolio file (by
   * hash) or the folder's listing of part files (by file), the rules file
   * and the FX table. The merge refuses parts whose inputs differ.
   */
  inputs: { portfolio: string; rules: string; fx: string };
  /** By file: the folder's portfolio files, byte-wise sorted. */
  files?: string[];
  /**
   * SHA-256 of every file of the part's folder but `manifest.json`, by
   * name (lower-case hex): the merge refuses a part whose files differ.
   */
  outputs?: Record<string, string>;
}

/** One part of a merged run, as its manifest records it. */
export interface MergedPart {
  /** The part's run id (`<run-id>.part-<K>-of-<N>`). */
  run_id: string;
  /** The part's index. */
  index: number;
  /** SHA-256 of the part's `manifest.json`, lower-case hex. */
  sha256: string;
}

/** A PD model a run scored with, as its manifest records it. */
export interface PdModelRecord {
  /** The model file, as resolved from the rules file. */
  model: string;
  /** SHA-256 of the model file's bytes, lower-case hex. */
  sha256: string;
  /** The model output read as the PD. */
  output: string;
  /** Whether the feature contract came from the rules or the model file. */
  contract_from: "rules" | "model";
  /** The feature contract (name, kind, categories, transform) scored by. */
  features: {
    name: string;
    kind: "number" | "category";
    categories?: string[];
    transform?: "identity" | "log1p";
  }[];
  /** Facilities scored, per segment the model is the source of. */
  facilities: Record<string, number>;
  /** Facilities whose given `pd_12m_current` the score replaced. */
  replaced: number;
  /**
   * Facilities of its segments already in default (stage 3), not scored:
   * `kept` their given PD, `set_to_1` had none and took 1 (absent in
   * manifests written before this was recorded).
   */
  in_default?: { kept: number; set_to_1: number };
  /** Per feature, facilities whose value was missing. */
  missing: Record<string, number>;
  /** Per category feature, facilities with a category the model does not know. */
  unknown: Record<string, number>;
}

/** A plugin a run called, as its manifest records it. */
export interface PluginRecord {
  /** The plugin's name. */
  name: string;
  /** Its module's path, as resolved from the rules file. */
  module: string;
  /** SHA-256 of the module file's bytes, lower-case hex. */
  sha256: string;
  /** The options the rules file gave its factory. */
  options: Record<string, unknown>;
}

/**
 * What is wrong with a parsed `manifest.json`, one message per problem;
 * none for a manifest readers can use.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { manifestProblems } from "./manifest.ts";
 *
 * assert.deepEqual(manifestProblems({ run_id: "q4", status: "done" }), [
 *   'key status is "done", not one of running, complete, failed',
 * ]);
 * ```
 */
export function manifestProblems(value: unknown): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return ["expected an object"];
  }
  const m = value as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof m.run_id !== "string") problems.push("key run_id is missing");
  if (!(RUN_STATUS as readonly unknown[]).includes(m.status)) {
    problems.push(
      m.status === undefined
        ? "key status is missing"
        : `key status is ${JSON.stringify(m.status)}, not one of ${
          RUN_STATUS.join(", ")
        }`,
    );
  }
  return problems;
}

/** The row counts of a manifest, each a whole number >= 0 when present. */
const ROW_COUNTS = ["read", "valid", "rejected", "computed"] as const;

/**
 * What a trusted reader finds wrong in a manifest beside its summary (both
 * passed their shape checks), one message per problem, each naming its
 * key: a `reporting_date` that is not a real date or is not the summary's,
 * a `run_id` that is not the summary's (files of two runs mixed), row
 * counts that are not whole numbers >= 0, and `rows.computed` other than
 * the summary's `totals.count`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Manifest, manifestTrustProblems, type Summary } from "./mod.ts";
 *
 * const summary = { run_id: "q4", reporting_date: "2025-12-31", totals: { count: 3 } } as Summary;
 * const manifest = { run_id: "q4", reporting_date: "2025-09-30", rows: { computed: 3 } } as Manifest;
 * assert.deepEqual(manifestTrustProblems(manifest, summary), [
 *   'key reporting_date "2025-09-30" is not the reporting date of summary.json, "2025-12-31": the files are not of one run',
 * ]);
 * ```
 */
export function manifestTrustProblems(
  manifest: Manifest,
  summary: Summary,
): string[] {
  const problems: string[] = [];
  const date = manifest.reporting_date;
  if (date !== null && !isRealIsoDate(date)) {
    problems.push(
      `key reporting_date ${
        JSON.stringify(date)
      } is not a real date YYYY-MM-DD`,
    );
  } else if (date !== null && date !== summary.reporting_date) {
    problems.push(
      `key reporting_date ${
        JSON.stringify(date)
      } is not the reporting date of summary.json, ${
        JSON.stringify(summary.reporting_date)
      }: the files are not of one run`,
    );
  }
  if (manifest.run_id !== summary.run_id) {
    problems.push(
      `key run_id ${
        JSON.stringify(manifest.run_id)
      } is not the run id of summary.json, ${
        JSON.stringify(summary.run_id)
      }: the files are not of one run`,
    );
  }
  const rows = manifest.rows as unknown;
  if (rows !== undefined) {
    if (typeof rows !== "object" || rows === null || Array.isArray(rows)) {
      problems.push("key rows is not an object");
    } else {
      const r = rows as Record<string, unknown>;
      const bad = ROW_COUNTS.filter((k) =>
        r[k] !== undefined && !isCount(r[k])
      );
      if (bad.length > 0) {
        problems.push(
          `key${bad.length > 1 ? "s" : ""} ${
            bad.map((k) => `rows.${k} is ${JSON.stringify(r[k])}`).join(", ")
          }, not a whole number >= 0`,
        );
      } else if (
        isCount(r.computed) && isCount(summary.totals?.count) &&
        r.computed !== summary.totals.count
      ) {
        problems.push(
          `key rows.computed ${r.computed} is not totals.count of summary.json, ${summary.totals.count}: the files are not of one run`,
        );
      }
    }
  }
  return problems;
}

/**
 * Brings a `manifest.json` written by an earlier version to the current
 * reading: a manifest from before run warnings existed has none; one from
 * before `manifest_version` is version 1 (its rules have no recorded
 * parameters, only their hash).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Manifest, upgradeManifest } from "./manifest.ts";
 *
 * const old = { run_id: "q4", status: "complete" } as unknown as Manifest;
 * assert.deepEqual(upgradeManifest(old).warnings, []);
 * assert.equal(old.manifest_version, 1);
 * ```
 */
export function upgradeManifest(manifest: Manifest): Manifest {
  manifest.warnings ??= [];
  manifest.manifest_version ??= 1;
  return manifest;
}

const isScalar = (v: unknown): v is string | number | boolean | null =>
  v === null || ["string", "number", "boolean"].includes(typeof v);

/**
 * The parameters of rules (or of any JSON value) by key path, as a
 * manifest records them: objects open into `key.sub`, lists of objects
 * into `key[i].sub`; a list of scalars (a PD multiplier vector) is one
 * parameter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rulesParameters } from "./manifest.ts";
 *
 * assert.deepEqual(
 *   rulesParameters({
 *     staging: { dpd_sicr: 30 },
 *     scenarios: [{ name: "base", weight: 1, pd_multiplier: [1, 1.1] }],
 *   }),
 *   {
 *     "staging.dpd_sicr": 30,
 *     "scenarios[0].name": "base",
 *     "scenarios[0].weight": 1,
 *     "scenarios[0].pd_multiplier": [1, 1.1],
 *   },
 * );
 * ```
 */
export function rulesParameters(
  rules: unknown,
): Record<string, RulesParameter> {
  const out: Record<string, RulesParameter> = {};
  const walk = (v: unknown, path: string) => {
    if (v === undefined || typeof v === "function") return;
    if (isScalar(v)) {
      out[path] = v;
    } else if (Array.isArray(v)) {
      if (v.every(isScalar)) out[path] = [...v];
      else v.forEach((item, i) => walk(item, `${path}[${i}]`));
    } else if (typeof v === "object") {
      for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
        walk(item, path === "" ? k : `${path}.${k}`);
      }
    }
  };
  walk(rules, "");
  return out;
}

/** One parameter that differs between two runs' rules. */
export interface RulesDifference {
  /** Its key path. */
  key: string;
  /** Its value in the earlier run; undefined when absent there. */
  from?: RulesParameter;
  /** Its value in the later run; undefined when absent there. */
  to?: RulesParameter;
}

/**
 * The parameters that differ between two recorded sets, in key order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rulesDifferences } from "./manifest.ts";
 *
 * assert.deepEqual(
 *   rulesDifferences({ "a.x": 1, "a.y": [1, 2] }, { "a.x": 2, "a.y": [1, 2], "b": true }),
 *   [{ key: "a.x", from: 1, to: 2 }, { key: "b", to: true }],
 * );
 * ```
 */
export function rulesDifferences(
  from: Record<string, RulesParameter>,
  to: Record<string, RulesParameter>,
): RulesDifference[] {
  const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
  return keys.flatMap((key) =>
    JSON.stringify(from[key]) === JSON.stringify(to[key]) ? [] : [{
      key,
      ...(key in from ? { from: from[key] } : {}),
      ...(key in to ? { to: to[key] } : {}),
    }]
  );
}

/**
 * Differences a rules-change warning lists; the others are counted
 * (`and 12 more`), so that a warning stays one readable line; all of them
 * can be had from {@link rulesDifferences}.
 */
export const RULES_DIFFERENCES_LISTED = 10;

/**
 * The warning for two runs whose rules files differ (by SHA-256), or null
 * when they do not: names both files and what differs, key by key (`key
 * old → new`), when both manifests recorded the parameters (version 2);
 * otherwise says that only the hashes can be compared. A file that
 * differs only in comments or layout has the same parameters, and the
 * warning says so.
 *
 * @param from The earlier run's id and manifest.
 * @param to The later run's id and manifest.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Manifest, rulesChangeWarning } from "./manifest.ts";
 *
 * const run = (sha256: string, dpd: number) => ({
 *   manifest_version: 2,
 *   inputs: { rules: { path: `rules_${dpd}.yaml`, sha256,
 *     parameters: { "staging.dpd_sicr": dpd } } },
 * }) as unknown as Manifest;
 * assert.equal(
 *   rulesChangeWarning(["q3", run("a".repeat(64), 30)], ["q4", run("b".repeat(64), 60)]),
 *   "Runs q3 and q4 used different rules files (rules_30.yaml, SHA-256 aaaaaaaaaaaa…; " +
 *     "rules_60.yaml, SHA-256 bbbbbbbbbbbb…): staging.dpd_sicr 30 → 60; the effect of " +
 *     "the change of parameters is part of remeasurement; rerun q3 with q4's rules to separate it",
 * );
 * assert.equal(rulesChangeWarning(["q3", run("a".repeat(64), 30)], ["q4", run("a".repeat(64), 30)]), null);
 * ```
 */
export function rulesChangeWarning(
  [fromId, a]: [string, Manifest | null],
  [toId, b]: [string, Manifest | null],
): string | null {
  const [r0, r1] = [a?.inputs?.rules, b?.inputs?.rules];
  if (!r0?.sha256 || !r1?.sha256 || r0.sha256 === r1.sha256) return null;
  const files =
    `Runs ${fromId} and ${toId} used different rules files (${r0.path}, SHA-256 ${
      r0.sha256.slice(0, 12)
    }…; ${r1.path}, SHA-256 ${r1.sha256.slice(0, 12)}…)`;
  const effect =
    `the effect of the change of parameters is part of remeasurement; rerun ${fromId} with ${toId}'s rules to separate it`;
  if (r0.parameters === undefined || r1.parameters === undefined) {
    const old = [[fromId, r0], [toId, r1]].filter(([, r]) =>
      (r as RulesRef).parameters === undefined
    ).map(([id]) => id);
    return `${files}: what differs cannot be named, as the manifest${
      old.length > 1 ? "s" : ""
    } of run${old.length > 1 ? "s" : ""} ${old.join(" and ")} predate${
      old.length > 1 ? "" : "s"
    } manifest version 2, which records the rules' parameters; ${effect}`;
  }
  const diffs = rulesDifferences(r0.parameters, r1.parameters);
  if (diffs.length === 0) {
    return `${files} with the same parameters (they differ only in comments or layout): no effect on the figures`;
  }
  const value = (v: RulesParameter | undefined) =>
    v === undefined ? "(absent)" : JSON.stringify(v);
  const listed = diffs.slice(0, RULES_DIFFERENCES_LISTED).map((d) =>
    `${d.key} ${value(d.from)} → ${value(d.to)}`
  ).join(", ");
  const more = diffs.length - RULES_DIFFERENCES_LISTED;
  return `${files}: ${listed}${more > 0 ? ` and ${more} more` : ""}; ${effect}`;
}
