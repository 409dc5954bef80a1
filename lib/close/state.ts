/**
 * `close.json`, the record of a close: every step's status, attempts,
 * time, outputs, input hashes and error. It is written whole after every
 * step (to a hidden temporary file in the same folder, flushed, then
 * renamed over the old one), so a reader or a killed close sees either
 * the previous record or the new one, never half of one.
 *
 * A record that cannot be read (missing, corrupt, another version) is
 * treated as none: every step is then recomputed, which is safe.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { UserError } from "../errors.ts";
import type { FailureKind } from "../errors.ts";
import type { StepKind } from "./plan.ts";
import { CLOSE_LAYOUT } from "./plan.ts";
import { writeWhole } from "../run_folder/mod.ts";

/** The version of `close.json`'s layout. */
export const CLOSE_STATE_VERSION = 1;

/**
 * A step's status: `pending` until the close reaches it, then
 * `succeeded` (computed), `skipped` (its output exists and its inputs are
 * unchanged), `failed` or `blocked` (a dependency failed or was blocked).
 */
export type StepStatus =
  | "pending"
  | "succeeded"
  | "skipped"
  | "failed"
  | "blocked";

/** One step in `close.json`. */
export interface StepRecord {
  /** The step's id (`run:<entity>-<date>`, …). */
  id: string;
  /** What the step does. */
  kind: StepKind;
  /** Its status. */
  status: StepStatus;
  /** Attempts made this time (0 when skipped, blocked or pending). */
  attempts: number;
  /** Wall-clock seconds this time, all attempts together. */
  seconds: number;
  /** The folders and files it wrote (or found, when skipped). */
  outputs: string[];
  /**
   * SHA-256 of each input, by name: for a run `portfolio`, `rules`, `fx`
   * and its plugins' files (`plugin file <path>`,
   * `plugins[i].options.<key> <path>`);
   * for the other steps each input run's `manifest.json` (and each
   * movement's `movement.json`), by step id. Those of the last success
   * while the step is `pending`; empty when it never succeeded.
   */
  input_hashes: Record<string, string>;
  /** Why it failed, or which steps blocked it. */
  error?: string;
  /** The kind of its failure (lib/errors.ts), when it failed. */
  failure_kind?: FailureKind;
  /** When it finished (ISO 8601), when it did. */
  finished_at?: string;
}

/** `close.json`. */
export interface CloseState {
  /** {@link CLOSE_STATE_VERSION}. */
  close_version: number;
  /** The close file. */
  config: string;
  /** The date closed up to; null for every date of the file. */
  date: string | null;
  /** When this close started and finished (null while it runs). */
  started_at: string;
  /** See `started_at`. */
  finished_at: string | null;
  /** The steps, in the order they run. */
  steps: StepRecord[];
}

/** The path of `close.json` in an output folder. */
export const closeStatePath = (out: string): string =>
  join(out, CLOSE_LAYOUT.state);

/**
 * The record of the last close into `out`, or undefined when there is
 * none that can be read (missing, corrupt, another version).
 */
export async function readCloseState(
  out: string,
): Promise<CloseState | undefined> {
  try {
    const value = JSON.parse(await Deno.readTextFile(closeStatePath(out)));
    if (
      value?.close_version !== CLOSE_STATE_VERSION ||
      !Array.isArray(value.steps)
    ) return undefined;
    return value as CloseState;
  } catch {
    return undefined;
  }
}

/**
 * Writes `text` to `path` atomically, as every output is written
 * (`writeWhole` of lib/run_folder: a hidden temporary file beside it,
 * flushed to disk, then renamed over `path`; a temporary file left by a
 * killed close is one `deno task clean` and the stale sweep know).
 *
 * @throws {UserError} of kind `output` naming the file when it cannot be
 *   written.
 */
export async function writeFileAtomic(
  path: string,
  text: string,
): Promise<void> {
  try {
    await Deno.mkdir(dirname(path), { recursive: true });
    await writeWhole(path, (temp) => Deno.writeTextFile(temp, text));
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(
      "output",
      `Cannot write ${path}: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/** Writes `close.json` into `out` atomically ({@link writeFileAtomic}). */
export async function writeCloseState(
  out: string,
  state: CloseState,
): Promise<void> {
  await writeFileAtomic(
    closeStatePath(out),
    JSON.stringify(state, null, 2) + "\n",
  );
}
