/**
 * What a run measures for its manifest (`manifest.json`, whose contents are
 * defined in `lib/run_folder/manifest.ts`): the SHA-256 of the files it
 * read, the version of the code, and the wall-clock time of each step.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * SHA-256 of a file, read in chunks so a multi-gigabyte portfolio is hashed
 * in constant memory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sha256File } from "./manifest.ts";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "abc");
 * assert.equal(
 *   await sha256File(path),
 *   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
 * );
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
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StepTimer } from "./manifest.ts";
 *
 * const timer = new StepTimer();
 * assert.equal(await timer.time("validate", () => 42), 42);
 * await timer.time("compute_ecl", () => {});
 * await timer.time("validate", () => {});
 * assert.deepEqual(Object.keys(timer.timings), ["validate", "compute_ecl"]);
 * ```
 */
export class StepTimer {
  /** Milliseconds per step name, in the order the steps first started. */
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
