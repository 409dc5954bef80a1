/**
 * The job registry: every run and movement the server accepted, persisted
 * in `<outDir>/.server/jobs.json` so that a restarted server lists them.
 *
 * - Written whole or not at all: the file is written under a temporary
 *   name and renamed onto `jobs.json` (`Location.writeText`), so a reader
 *   or a restart after a crash finds the previous version or the new one,
 *   never a part. Writes are serialised and coalesced: a `put` while a
 *   write is under way joins the next write, which holds every change.
 * - On load, jobs found `queued` or `running` become `interrupted` (the
 *   process that ran them is gone) and the registry is written back so.
 * - A summary is not copied into the file: a succeeded run's summary lives
 *   in its run folder's `summary.json`, read back on load (checked, with
 *   `readRunSummary`); the file stays small however many runs it lists,
 *   which matters because it is rewritten at every job event.
 * - A `jobs.json` that cannot be used (not JSON, not the registry's
 *   shape) does not stop the server: it is moved aside to
 *   `jobs.json.corrupt-<time>` (kept for inspection, nothing deleted), a
 *   warning naming both files is logged, and the runs are listed again
 *   from the run folders' manifests (complete and `.failed` ones), as on
 *   a first start over an output folder that already holds runs;
 *   movements and jobs that never wrote a folder cannot be recovered.
 *   Any other reading problem (no permission) is a {@link UserError}
 *   naming the file.
 *
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import { UserError } from "../errors.ts";
import {
  localFolder,
  type Manifest,
  manifestProblems,
  readRunSummary,
  RUN_FILES,
  upgradeManifest,
} from "../run_folder/mod.ts";
import { JOB_RECORD_FIELDS } from "./job_schema.ts";
import type { JobRecord, JobRegistry, Logger } from "./types.ts";

/** The registry's folder inside the output folder (hidden: no run id starts with `.`). */
export const REGISTRY_DIR = ".server";
/** The registry's file name in {@link REGISTRY_DIR}. */
export const REGISTRY_FILE = "jobs.json";
/** The version of the file's layout. */
const VERSION = 1;

/** The shape a record must have to be loaded; extra keys are kept. */
const recordSchema = z.looseObject({
  ...JOB_RECORD_FIELDS,
  request: z.looseObject({}),
  summary: z.unknown().optional(),
});

const fileSchema = z.object({
  version: z.literal(VERSION),
  jobs: z.array(recordSchema),
});

/** Options of {@link createJobRegistry}. */
export interface JobRegistryOptions {
  /** Where the move of an unusable file is reported. @default JSON lines on stderr */
  logger?: Logger;
}

/** Writes warnings as JSON lines on stderr when no logger is given. */
const stderrLogger: Logger = {
  info: () => {},
  warn: (event, fields) =>
    console.error(JSON.stringify({ level: "warn", event, ...fields })),
  error: (event, fields) =>
    console.error(JSON.stringify({ level: "error", event, ...fields })),
};

/**
 * The registry of `outDir`, loaded from `<outDir>/.server/jobs.json` (an
 * empty registry when the file does not exist yet).
 *
 * @throws {UserError} when the file exists but cannot be read (kind
 *   `output`: permissions), or the registry cannot be written back.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createJobRegistry } from "./registry.ts";
 *
 * const out = await Deno.makeTempDir();
 * const registry = await createJobRegistry(out);
 * await registry.put({
 *   id: "q4", kind: "run", status: "running",
 *   request: { portfolio: "p.parquet", rules: "r.yaml", runId: "q4" },
 *   submittedAt: "2026-01-01T00:00:00.000Z", startedAt: "2026-01-01T00:00:01.000Z",
 *   finishedAt: null, step: "validate", steps: [], progress: null, counts: null,
 *   summary: null, dir: null, error: null,
 * });
 * // A new process finds the job, and knows it can no longer be running.
 * const reloaded = await createJobRegistry(out);
 * assert.equal(reloaded.get("q4")?.status, "interrupted");
 * await Deno.remove(out, { recursive: true });
 * ```
 */
export async function createJobRegistry(
  outDir: string,
  { logger = stderrLogger }: JobRegistryOptions = {},
): Promise<JobRegistry> {
  const dir = join(outDir, REGISTRY_DIR);
  const file = join(dir, REGISTRY_FILE);
  const folder = localFolder(dir);
  const jobs = new Map<string, JobRecord>();

  let loaded = await load(file, logger);
  if (loaded === null) {
    // No usable registry (a first start, or a file moved aside): the run
    // folders themselves say which runs exist and how they ended.
    loaded = await recoverRuns(outDir, logger);
  }
  const now = new Date().toISOString();
  let changed = false;
  for (const record of loaded) {
    if (record.status === "queued" || record.status === "running") {
      // The process that ran or would have run it is gone.
      record.status = "interrupted";
      record.finishedAt = now;
      changed = true;
    }
    record.summary = null;
    if (record.kind === "run" && record.status === "succeeded" && record.dir) {
      try {
        record.summary = await readRunSummary(record.dir);
      } catch (e) {
        logger.warn("registry_summary_unreadable", {
          id: record.id,
          dir: record.dir,
          message: (e as Error).message,
        });
      }
    }
    jobs.set(record.id, record);
  }

  // Serialised, coalesced writes: `next` is the write not yet started,
  // which every put made meanwhile joins; `chain` the last one started.
  let chain: Promise<void> = Promise.resolve();
  let next: Promise<void> | null = null;
  const persist = (): Promise<void> => {
    if (next) return next;
    const write = chain.then(async () => {
      next = null;
      // Summaries stay in the run folders (see the module doc).
      const text = JSON.stringify(
        {
          version: VERSION,
          jobs: [...jobs.values()].map((r) => ({ ...r, summary: null })),
        },
        null,
        1,
      );
      try {
        await folder.writeText(REGISTRY_FILE, text + "\n");
      } catch (e) {
        throw new UserError(
          "output",
          `Cannot write the job registry ${file}: ${(e as Error).message}`,
          { cause: e },
        );
      }
    });
    next = write;
    chain = write.catch(() => {});
    return write;
  };

  if (changed) await persist();

  return {
    list: () =>
      [...jobs.values()].reverse().sort((a, b) =>
        b.submittedAt.localeCompare(a.submittedAt)
      ),
    get: (id) => jobs.get(id),
    put(record) {
      // A copy: what is persisted is the record as it was put.
      jobs.set(record.id, structuredClone(record));
      return persist();
    },
  };
}

/**
 * The records of `file`; null when it does not exist or was moved aside
 * (the registry is then rebuilt from the run folders).
 */
async function load(
  file: string,
  logger: Logger,
): Promise<JobRecord[] | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new UserError(
      "output",
      `Cannot read the job registry ${file}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  let problem: string;
  try {
    const parsed = fileSchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data.jobs as unknown as JobRecord[];
    const issue = parsed.error.issues[0];
    problem = `${issue.path.join(".") || "(top level)"}: ${issue.message}`;
  } catch (e) {
    problem = `not JSON: ${(e as Error).message}`;
  }
  const aside = `${file}.corrupt-${
    new Date().toISOString().replace(/[-:.]/g, "")
  }`;
  try {
    await Deno.rename(file, aside);
  } catch (e) {
    throw new UserError(
      "output",
      `The job registry ${file} cannot be used (${problem}) and cannot be moved aside: ${
        (e as Error).message
      }; move or remove it and start again`,
      { cause: e },
    );
  }
  logger.warn("registry_corrupt", {
    file,
    movedTo: aside,
    problem,
    message:
      `The job registry ${file} cannot be used (${problem}); it was moved to ${aside} and the runs are listed again from their folders' manifests`,
  });
  return null;
}

/**
 * Job records of the run folders in `outDir` (complete ones and
 * `<run_id>.failed` ones), from their manifests, oldest first: what a
 * registry that was lost or corrupted would have listed. Movements and
 * jobs that never wrote a folder cannot be recovered; a folder whose
 * manifest cannot be read is skipped with a warning.
 */
async function recoverRuns(
  outDir: string,
  logger: Logger,
): Promise<JobRecord[]> {
  let names: string[];
  try {
    names = await localFolder(outDir).list();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const records: JobRecord[] = [];
  for (const name of names.filter((n) => !n.startsWith("."))) {
    let text: string;
    try {
      text = await Deno.readTextFile(join(outDir, name, RUN_FILES.manifest));
    } catch {
      continue; // Not a run folder (a movement, a note, a file).
    }
    let manifest: Manifest;
    try {
      const value = JSON.parse(text);
      const problems = manifestProblems(value);
      if (problems.length > 0) throw new Error(problems.join("; "));
      manifest = upgradeManifest(value as Manifest);
    } catch (e) {
      logger.warn("registry_recovery_skipped", {
        dir: join(outDir, name),
        message: (e as Error).message,
      });
      continue;
    }
    const failed = manifest.status !== "complete";
    const { inputs, rows } = manifest;
    records.push({
      id: manifest.run_id,
      kind: "run",
      status: failed ? "failed" : "succeeded",
      request: {
        portfolio: inputs.portfolio.path,
        rules: inputs.rules.path,
        fx: inputs.fx.path,
        runId: manifest.run_id,
      },
      submittedAt: manifest.started_at,
      startedAt: manifest.started_at,
      finishedAt: manifest.finished_at,
      step: null,
      steps: Object.entries(manifest.timings_ms).map(([step, ms]) => ({
        step,
        ms,
      })),
      progress: null,
      counts: {
        rowsRead: rows.read,
        rowsValid: rows.valid,
        rowsRejected: rows.rejected,
      },
      summary: null,
      dir: join(outDir, name),
      error: failed
        ? { kind: "unknown", message: manifest.error ?? "the run failed" }
        : null,
    });
  }
  return records.sort((a, b) => a.submittedAt.localeCompare(b.submittedAt));
}
