/**
 * The job queue of the run server: runs and movements execute here, each
 * in a child process of its own (`job_child.ts`), never on the request
 * loop. At most `maxConcurrentRuns` jobs execute at once; up to
 * `maxQueuedRuns` more wait, first in first out; beyond that a submit is
 * refused with a {@link JobRefusedError} 429, so the queue never grows
 * without bound.
 *
 * Every event of a job updates its {@link JobRecord} and the registry
 * (persisted at once on a status, step or count change, at most every
 * `progressWriteMs` for progress), and every status change goes to
 * `metrics.observeJob` and to the log as one JSON line.
 *
 * A child that ends without reporting `done` or `failed` (killed from
 * outside, out of memory, a crash) makes its job `failed`, naming its exit
 * code or signal. Each child runs in a session of its own (`detached`), so
 * a Ctrl-C or a signal sent to the server's process group reaches the
 * server only, and the server decides: {@link JobQueue.shutdown} refuses
 * new jobs (503), marks the waiting ones `interrupted`, gives the running
 * ones `graceSeconds` to finish, then sends them SIGTERM and, 5 s later,
 * SIGKILL; those are `interrupted`. A child whose server dies (even by
 * SIGKILL) sees its stdin close and exits at once.
 *
 * Ids: a run id (or movement id) already in the registry, whatever its
 * status, or naming an existing folder `<outDir>/<id>` (`<movementDir>/<id>`
 * for a movement) is refused with 409; runs and movements share the
 * registry's ids.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { projectPath } from "../project.ts";
import { entryExists } from "../run_folder/mod.ts";
import type { ChildEvent, ChildInput } from "./job_child.ts";
import {
  type JobKind,
  type JobQueue,
  type JobRecord,
  JobRefusedError,
  type JobRegistry,
  type Logger,
  type MovementRequest,
  type RunRequest,
  type ServerConfig,
  type ServerMetrics,
} from "./types.ts";

/** The child process's entry file. */
const CHILD = fileURLToPath(new URL("./job_child.ts", import.meta.url));

/** Environment variables a child does not get (it needs no secret). */
const WITHHELD_ENV = ["IFRS9_JWT_SECRET"];

/** Bytes of a child's stderr kept to explain an unexpected end. */
const STDERR_TAIL_BYTES = 4096;

/** Options of {@link createJobQueue}. */
export interface JobQueueOptions {
  /** Limits and folders (`maxConcurrentRuns`, `maxQueuedRuns`, `outDir`, `movementDir`). */
  config: ServerConfig;
  /** Where every job's record is kept. */
  registry: JobRegistry;
  /** Told of every status change. */
  metrics: ServerMetrics;
  /** One JSON line per job event. */
  logger: Logger;
  /** Least milliseconds between two registry writes for progress alone. @default 500 */
  progressWriteMs?: number;
  /** Seconds between SIGTERM and SIGKILL for a job stopped at shutdown. @default 5 */
  killAfterSeconds?: number;
}

/** A job whose child process is running. */
interface Active {
  record: JobRecord;
  child: Deno.ChildProcess | null;
  /** Set when the server stops the job (shutdown): it ends `interrupted`. */
  stopping: boolean;
  /** The child's `done` or `failed` event, once received. */
  final: Extract<ChildEvent, { type: "done" | "failed" }> | null;
  /** When the current step started (performance.now()). */
  stepStartedAt: number;
  /** When the record was last written for progress. */
  lastProgressWrite: number;
  progressTimer: ReturnType<typeof setTimeout> | undefined;
  stderrTail: string;
  /** Resolves once the job is final and persisted. */
  finished: Promise<void>;
}

/**
 * A queue over `registry`: accepts jobs, runs them in child processes a
 * bounded number at once, and keeps their records up to date.
 *
 * @example
 * ```ts ignore
 * const queue = createJobQueue({ config, registry, metrics, logger });
 * const record = await queue.submit("run", {
 *   portfolio: "/srv/data/book.parquet",
 *   rules: "/srv/config/ifrs9_rules.yaml",
 *   runId: "book-2025-12-31",
 * });
 * // record.status === "queued"; GET /runs/book-2025-12-31 follows it.
 * await queue.shutdown(30);
 * ```
 */
export function createJobQueue(opts: JobQueueOptions): JobQueue {
  const { config, registry, metrics, logger } = opts;
  const progressWriteMs = opts.progressWriteMs ?? 500;
  const killAfterMs = (opts.killAfterSeconds ?? 5) * 1000;
  const waiting: JobRecord[] = [];
  const running = new Map<string, Active>();
  /** Ids accepted but not yet queued (their checks are under way). */
  const reserved = new Set<string>();
  /** Registry writes not yet finished, awaited by shutdown. */
  const writes = new Set<Promise<void>>();
  let closed = false;
  let stopped: Promise<void> | null = null;

  const depth = () => ({ queued: waiting.length, running: running.size });

  /** Persists the record; a failed write is logged, the job goes on. */
  const save = (record: JobRecord): Promise<void> => {
    const write = registry.put(record).catch((e) => {
      logger.error("registry_write_failed", {
        id: record.id,
        message: (e as Error)?.message ?? String(e),
      });
    });
    writes.add(write);
    write.finally(() => writes.delete(write));
    return write;
  };

  /** A status change: persisted, measured and logged. */
  const changed = (record: JobRecord, fields: Record<string, unknown> = {}) => {
    const write = save(record);
    try {
      metrics.observeJob(record);
      metrics.setQueueDepth(depth());
    } catch (e) {
      // A metrics bug must not stop a job or lose its record.
      logger.error("metrics_error", {
        id: record.id,
        message: (e as Error)?.message ?? String(e),
      });
    }
    const level = record.status === "failed" ? "warn" : "info";
    logger[level](`job_${record.status}`, {
      id: record.id,
      kind: record.kind,
      status: record.status,
      ...fields,
    });
    return write;
  };

  /** Starts waiting jobs while there is room. */
  const pump = () => {
    while (
      !closed && running.size < config.maxConcurrentRuns && waiting.length > 0
    ) {
      start(waiting.shift()!);
    }
  };

  const start = (record: JobRecord) => {
    let resolveFinished!: () => void;
    const active: Active = {
      record,
      child: null,
      stopping: false,
      final: null,
      stepStartedAt: performance.now(),
      lastProgressWrite: 0,
      progressTimer: undefined,
      stderrTail: "",
      finished: new Promise((r) => resolveFinished = r),
    };
    running.set(record.id, active);
    record.status = "running";
    record.startedAt = new Date().toISOString();
    changed(record);
    execute(active).then(resolveFinished, (e) => {
      // Never expected: execute() catches what a child can do. The slot
      // is freed all the same.
      logger.error("job_queue_error", {
        id: record.id,
        message: (e as Error)?.message ?? String(e),
      });
      running.delete(record.id);
      resolveFinished();
      pump();
    });
  };

  /** Runs the job's child to its end and records the outcome. */
  const execute = async (active: Active): Promise<void> => {
    const { record } = active;
    const input: ChildInput = record.kind === "run"
      ? {
        kind: "run",
        request: record.request as RunRequest,
        outDir: config.outDir,
      }
      : {
        kind: "movement",
        request: record.request as MovementRequest,
        movementDir: config.movementDir,
      };
    let status: Deno.CommandStatus | null = null;
    let spawnError: unknown = null;
    try {
      const env = Deno.env.toObject();
      for (const name of WITHHELD_ENV) delete env[name];
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--config",
          projectPath("deno.json"),
          CHILD,
          // Not read by the child: names the job in `ps`.
          `--job=${record.id}`,
        ],
        cwd: projectPath("."),
        clearEnv: true,
        env: { ...env, NO_COLOR: "1" },
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
        // A session of its own: signals for the server's group skip it.
        detached: true,
      }).spawn();
      active.child = child;
      logger.info("job_process", { id: record.id, pid: child.pid });
      const stdin = child.stdin.getWriter();
      // The pipe stays open while the job runs: its end tells the child
      // the server is gone.
      const sent = stdin.write(
        new TextEncoder().encode(JSON.stringify(input) + "\n"),
      ).catch(() => {});
      const [exit] = await Promise.all([
        child.status,
        readLines(child.stdout, (line) => onLine(active, line)),
        readTail(child.stderr, (tail) => active.stderrTail = tail),
        sent,
      ]);
      status = exit;
      await stdin.close().catch(() => {});
    } catch (e) {
      spawnError = e;
    }
    await finish(active, status, spawnError);
  };

  /** One line of a child's stdout. */
  const onLine = (active: Active, line: string) => {
    let event: ChildEvent;
    try {
      event = JSON.parse(line);
    } catch {
      logger.warn("job_output", {
        id: active.record.id,
        line: line.slice(0, 500),
      });
      return;
    }
    const { record } = active;
    const now = performance.now();
    switch (event.type) {
      case "step":
        closeStep(active, now);
        record.step = event.step;
        active.stepStartedAt = now;
        save(record);
        logger.info("job_step", { id: record.id, step: event.step });
        return;
      case "progress":
        record.progress = {
          loansDone: event.loansDone,
          loansTotal: event.loansTotal,
        };
        saveProgress(active, now);
        return;
      case "counts":
        record.counts = {
          rowsRead: event.rowsRead,
          rowsValid: event.rowsValid,
          rowsRejected: event.rowsRejected,
          ...(event.maxRejectRate === undefined
            ? {}
            : { maxRejectRate: event.maxRejectRate }),
        };
        save(record);
        return;
      case "done":
      case "failed":
        active.final = event;
        return;
      default:
        logger.warn("job_output", { id: record.id, line: line.slice(0, 500) });
    }
  };

  /** Adds the current step's time to its entry in `steps`. */
  const closeStep = (active: Active, now: number) => {
    const { record } = active;
    if (record.step === null) return;
    const ms = Math.round((now - active.stepStartedAt) * 1000) / 1000;
    const entry = record.steps.find((s) => s.step === record.step);
    if (entry) entry.ms = Math.round((entry.ms + ms) * 1000) / 1000;
    else record.steps.push({ step: record.step, ms });
  };

  /** Progress is written at most every `progressWriteMs`, the last one always. */
  const saveProgress = (active: Active, now: number) => {
    if (now - active.lastProgressWrite >= progressWriteMs) {
      active.lastProgressWrite = now;
      save(active.record);
    } else if (active.progressTimer === undefined) {
      active.progressTimer = setTimeout(() => {
        active.progressTimer = undefined;
        active.lastProgressWrite = performance.now();
        save(active.record);
      }, progressWriteMs - (now - active.lastProgressWrite));
    }
  };

  /** Records how the job ended; frees its slot. */
  const finish = async (
    active: Active,
    status: Deno.CommandStatus | null,
    spawnError: unknown,
  ) => {
    const { record, final } = active;
    clearTimeout(active.progressTimer);
    closeStep(active, performance.now());
    if (final?.steps && final.steps.length > 0) record.steps = final.steps;
    if (final?.type === "done") {
      record.status = "succeeded";
      record.dir = final.dir;
      record.summary = final.summary;
      record.error = null;
    } else if (final?.type === "failed") {
      record.status = "failed";
      record.dir = final.dir;
      record.error = { kind: final.kind, message: final.message };
    } else if (active.stopping) {
      record.status = "interrupted";
    } else {
      record.status = "failed";
      record.error = {
        kind: "internal",
        message: unexpectedEnd(record, active, status, spawnError),
      };
    }
    record.finishedAt = new Date().toISOString();
    running.delete(record.id);
    const ms = record.startedAt === null
      ? null
      : Date.parse(record.finishedAt) - Date.parse(record.startedAt);
    await changed(record, {
      ms,
      dir: record.dir,
      ...(record.error ? { error: record.error } : {}),
      ...(status && !status.success
        ? { exitCode: status.code, signal: status.signal }
        : {}),
      ...(record.status === "failed" && final === null && active.stderrTail
        ? { stderr: active.stderrTail }
        : {}),
    });
    pump();
  };

  /** Shuts down: see the module doc. */
  const shutdown = async (graceSeconds: number): Promise<void> => {
    closed = true;
    const now = new Date().toISOString();
    for (const record of waiting.splice(0)) {
      record.status = "interrupted";
      record.finishedAt = now;
      changed(record);
    }
    const jobs = [...running.values()];
    const allDone = () => Promise.all(jobs.map((j) => j.finished));
    if (jobs.length > 0) {
      logger.info("shutdown_waiting", {
        running: jobs.map((j) => j.record.id),
        graceSeconds,
      });
      if (!await within(allDone(), graceSeconds * 1000)) {
        const left = jobs.filter((j) => running.has(j.record.id));
        for (const job of left) {
          job.stopping = true;
          signal(job, "SIGTERM");
        }
        if (!await within(allDone(), killAfterMs)) {
          for (const job of left) signal(job, "SIGKILL");
          await within(allDone(), killAfterMs);
        }
      }
    }
    await Promise.all([...writes]);
  };

  const signal = (job: Active, sig: Deno.Signal) => {
    if (!running.has(job.record.id)) return;
    try {
      job.child?.kill(sig);
      logger.warn("job_signalled", {
        id: job.record.id,
        pid: job.child?.pid,
        signal: sig,
      });
    } catch {
      // Already gone.
    }
  };

  async function submit(kind: "run", request: RunRequest): Promise<JobRecord>;
  async function submit(
    kind: "movement",
    request: MovementRequest,
  ): Promise<JobRecord>;
  async function submit(
    kind: JobKind,
    request: RunRequest | MovementRequest,
  ): Promise<JobRecord> {
    const id = kind === "run"
      ? (request as RunRequest).runId
      : (request as MovementRequest).movementId;
    refuseIfClosed();
    const known = registry.get(id);
    if (known !== undefined || reserved.has(id)) {
      throw new JobRefusedError(
        409,
        `Id ${id} is already used by ${
          known
            ? `a ${known.kind} job (status ${known.status})`
            : "a job being accepted"
        }: choose another ${kind === "run" ? "run_id" : "movement id"}`,
      );
    }
    const capacity = config.maxConcurrentRuns + config.maxQueuedRuns;
    if (running.size + waiting.length + reserved.size >= capacity) {
      throw new JobRefusedError(
        429,
        `The job queue is full: ${running.size} running and ${waiting.length} waiting (IFRS9_MAX_CONCURRENT_RUNS=${config.maxConcurrentRuns}, IFRS9_MAX_QUEUED_RUNS=${config.maxQueuedRuns}); retry later`,
      );
    }
    reserved.add(id);
    let record: JobRecord;
    try {
      const folder = join(
        kind === "run" ? config.outDir : config.movementDir,
        id,
      );
      if (await entryExists(folder)) {
        throw new JobRefusedError(
          409,
          `A ${kind} folder ${folder} already exists: choose another ${
            kind === "run" ? "run_id" : "movement id"
          }`,
        );
      }
      refuseIfClosed();
      record = {
        id,
        kind,
        status: "queued",
        request: structuredClone(request),
        submittedAt: new Date().toISOString(),
        startedAt: null,
        finishedAt: null,
        step: null,
        steps: [],
        progress: null,
        counts: null,
        summary: null,
        dir: null,
        error: null,
      };
      // Accepted only once on disk: a restart will list it.
      await registry.put(record);
    } finally {
      reserved.delete(id);
    }
    if (closed) {
      // Shutdown began while the record was written: it will not run.
      record.status = "interrupted";
      record.finishedAt = new Date().toISOString();
      await changed(record);
      refuseIfClosed();
    }
    waiting.push(record);
    changed(record, { request: record.request });
    // As accepted (`queued`), even when it starts at once.
    const accepted = structuredClone(record);
    pump();
    return accepted;
  }

  function refuseIfClosed() {
    if (closed) {
      throw new JobRefusedError(
        503,
        "The server is shutting down and accepts no new jobs; retry once it is back",
      );
    }
  }

  return {
    submit,
    depth,
    shutdown(graceSeconds) {
      stopped ??= shutdown(graceSeconds);
      return stopped;
    },
  };
}

/** Whether `promise` settled within `ms` (a timer that does not outlive it). */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Calls `onLine` for each line of a byte stream (UTF-8), to its end. */
async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (line !== "") onLine(line);
    }
  }
  if (buffer.trim() !== "") onLine(buffer.trim());
}

/** Reads a stream to its end, keeping its last bytes as text. */
async function readTail(
  stream: ReadableStream<Uint8Array>,
  onTail: (tail: string) => void,
): Promise<void> {
  let tail = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    tail = (tail + chunk).slice(-STDERR_TAIL_BYTES);
    onTail(tail);
  }
}

/** Why a job failed when its process ended without saying. */
function unexpectedEnd(
  record: JobRecord,
  active: Active,
  status: Deno.CommandStatus | null,
  spawnError: unknown,
): string {
  if (spawnError !== null) {
    return `The ${record.kind} ${record.id} could not be started: ${
      (spawnError as Error)?.message ?? String(spawnError)
    }`;
  }
  const how = status?.signal
    ? `was killed by ${status.signal} (from outside the server, or out of memory)`
    : `exited with code ${status?.code} without reporting a result`;
  const last = active.stderrTail.trim().split("\n").at(-1)?.trim() ?? "";
  return `The process of ${record.kind} ${record.id} (pid ${active.child?.pid}) ${how}${
    last ? `; its last output: ${last.slice(0, 300)}` : ""
  }${
    record.kind === "run"
      ? "; a hidden partial folder it left is removed by a later run in the same folder once a day old, or by deno task clean"
      : ""
  }`;
}
