/**
 * The run manifest (`manifest.json`): what a run read (paths and SHA-256 of
 * the portfolio, rules and FX files), which code computed it, how many rows
 * went in and out, how long each step took, and whether it completed. It is
 * the audit trail that lets a reviewer tie a loss allowance back to exact
 * inputs and code.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

/** A hashed input file. */
export interface InputRef {
  path: string;
  /** SHA-256 of the file's bytes, lower-case hex. */
  sha256: string;
}

/** The manifest of a run folder. */
export interface Manifest {
  run_id: string;
  /**
   * `complete` under the final name; `failed` under `<run_id>.failed`;
   * `running` only in the copy the report sees before the run finishes.
   */
  status: "running" | "complete" | "failed";
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
  inputs: { portfolio: InputRef; rules: InputRef; fx: InputRef };
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
 * SHA-256 of a file, read in chunks so a multi-gigabyte portfolio is hashed
 * in constant memory.
 *
 * @example
 * ```ts
 * await sha256File("config/ifrs9_rules.yaml"); // "3f0c…"
 * ```
 */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path, { read: true });
  const buf = new Uint8Array(1 << 20);
  while (true) {
    const n = await file.read(buf);
    if (n === null) break;
    hash.update(buf.subarray(0, n));
  }
  return hash.digest("hex");
}

let cachedVersion: string | undefined;

/**
 * The version of the code running: `IFRS9_CODE_VERSION` when set (an image
 * built without `.git` sets it at build time), else the `git` commit of the
 * checkout this module lives in, with `+dirty` when the work tree differs
 * from it (changed or new files), else `unknown`.
 */
export async function codeVersion(): Promise<string> {
  if (cachedVersion !== undefined) return cachedVersion;
  const fromEnv = Deno.env.get("IFRS9_CODE_VERSION");
  if (fromEnv) return cachedVersion = fromEnv;
  const cwd = dirname(fileURLToPath(import.meta.url));
  const git = async (...args: string[]) => {
    const out = await new Deno.Command("git", {
      args,
      cwd,
      stdout: "piped",
      stderr: "null",
    }).output();
    if (!out.success) throw new Error(`git ${args.join(" ")} failed`);
    return new TextDecoder().decode(out.stdout).trim();
  };
  try {
    const commit = await git("rev-parse", "HEAD");
    // Untracked files count: new code not yet committed runs too (ignored
    // files such as data/ and node_modules/ do not show).
    const dirty = await git("status", "--porcelain");
    cachedVersion = dirty === "" ? commit : `${commit}+dirty`;
  } catch {
    cachedVersion = "unknown";
  }
  return cachedVersion;
}

/**
 * Measures named steps, in order, for the manifest's `timings_ms`. A step
 * run several times (once per chunk of a large portfolio) adds up.
 */
export class StepTimer {
  readonly timings: Record<string, number> = {};

  /** Runs `fn`, adds its wall-clock time to `step`, returns its value. */
  async time<T>(step: string, fn: () => Promise<T> | T): Promise<T> {
    // The key goes in when the step first starts, so steps that run side by
    // side are listed in the order they were started, not finished.
    this.timings[step] ??= 0;
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      const ms = this.timings[step] + performance.now() - t0;
      this.timings[step] = Math.round(ms * 1000) / 1000;
    }
  }
}
