/**
 * What `manifest.json` holds: what a run read (paths and SHA-256 of the
 * portfolio, rules and FX files), which code computed it, how many rows
 * went in and out, how long each step took, and whether it completed. It
 * is the audit trail that ties a loss allowance back to exact inputs and
 * code. `lib/run` fills it; this module says what readers may rely on.
 *
 * @module
 */

/** A hashed input file. */
export interface InputRef {
  /** The path the run was given. */
  path: string;
  /** SHA-256 of the file's bytes, lower-case hex. */
  sha256: string;
}

/** The status of a run, as its manifest records it. */
export const RUN_STATUS = ["running", "complete", "failed"] as const;

/** The manifest of a run folder. */
export interface Manifest {
  /** The run's id, the name of its folder. */
  run_id: string;
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
  inputs: { portfolio: InputRef; rules: InputRef; fx: InputRef };
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

/**
 * Brings a `manifest.json` written by an earlier version to the current
 * reading: a manifest from before run warnings existed has none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Manifest, upgradeManifest } from "./manifest.ts";
 *
 * const old = { run_id: "q4", status: "complete" } as unknown as Manifest;
 * assert.deepEqual(upgradeManifest(old).warnings, []);
 * ```
 */
export function upgradeManifest(manifest: Manifest): Manifest {
  manifest.warnings ??= [];
  return manifest;
}
