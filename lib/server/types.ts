/**
 * The parts of the run server and the contracts between them. The app
 * (`createApp(deps)` in `app.ts`) only routes, authenticates and validates;
 * runs and movements execute in the {@link JobQueue} (child processes, off
 * the request loop), whose every event updates the {@link ServerMetrics} and
 * the {@link JobRegistry} persisted in the output folder.
 *
 * @module
 */
import type { Summary } from "../run_folder/mod.ts";

/** What the server is configured with (from the environment in `tasks/serve.ts`). */
export interface ServerConfig {
  /**
   * Folders a request's portfolio, FX table or run folder may name (paths
   * relative to the project, or absolute); `IFRS9_DATA_ROOTS`, separated by
   * `:`. @default ["data"]
   */
  dataRoots: string[];
  /** Folders rules files may come from besides the data roots. @default ["config"] */
  rulesRoots: string[];
  /** Where run folders (and the job registry) are written. @default data/runs */
  outDir: string;
  /** Where movement folders are written. @default data/movements */
  movementDir: string;
  /** The rules file used when a request names none. */
  defaultRules: string;
  /**
   * The HS256 secret that signs tokens (`IFRS9_JWT_SECRET`); null only when
   * `IFRS9_AUTH=disabled` was set on purpose.
   */
  jwtSecret: string | null;
  /** Runs computing at once (`IFRS9_MAX_CONCURRENT_RUNS`). @default 1 */
  maxConcurrentRuns: number;
  /** Jobs waiting beyond those (`IFRS9_MAX_QUEUED_RUNS`); then 429. @default 10 */
  maxQueuedRuns: number;
  /** Seconds running jobs get to finish on SIGTERM (`IFRS9_SHUTDOWN_GRACE_S`). @default 30 */
  shutdownGraceSeconds: number;
  /** Requests per minute per token (or client address without one). @default 120 */
  rateLimitPerMinute: number;
}

/** What a job is. */
export type JobKind = "run" | "movement";

/** Where a job stands. `interrupted`: the server stopped while it ran or waited. */
export type JobStatus =
  | "queued"
  | "running"
  | "succeeded"
  | "failed"
  | "interrupted";

/** A run's request, with paths already resolved and checked. */
export interface RunRequest {
  /** The portfolio file. */
  portfolio: string;
  /** The rules file. */
  rules: string;
  /** The FX table; by default the run's own choice (`runPortfolio`). */
  fx?: string;
  /** The run id: its folder's name under `outDir`. */
  runId: string;
}

/** A movement's request, with run folders already resolved and checked. */
export interface MovementRequest {
  /** The run folder of the earlier reporting date. */
  from: string;
  /** The run folder of the later reporting date. */
  to: string;
  /** The movement's id: its folder's name under `movementDir`. */
  movementId: string;
}

/** One job as the registry keeps it and `GET /runs/:id` shows it. */
export interface JobRecord {
  /** The run id (or the movement id). */
  id: string;
  /** A run or a movement. */
  kind: JobKind;
  /** Where it stands. */
  status: JobStatus;
  /** The request as accepted (resolved paths). */
  request: RunRequest | MovementRequest;
  /** ISO timestamps. */
  submittedAt: string;
  /** When its process started (ISO), or null while queued. */
  startedAt: string | null;
  /** When it reached a final status (ISO), or null before. */
  finishedAt: string | null;
  /** The step running now, or the last one. */
  step: string | null;
  /** Wall-clock milliseconds per finished step, in order. */
  steps: { step: string; ms: number }[];
  /** Loans computed so far, and to compute, when known. */
  progress: { loansDone: number; loansTotal: number } | null;
  /**
   * Rows read, valid and rejected, once validation is done, with the rules
   * file's `validation.max_reject_rate` (`data_quality.json`'s
   * `max_reject_rate`; the metrics compare the two for the reject-rate
   * alert and skip the comparison without it).
   */
  counts: {
    /** Data rows read from the portfolio. */
    rowsRead: number;
    /** Rows that passed validation. */
    rowsValid: number;
    /** Rows rejected by validation. */
    rowsRejected: number;
    /** The rules file's `validation.max_reject_rate`, when known. */
    maxRejectRate?: number;
  } | null;
  /** The run's `summary.json` once succeeded (runs only). */
  summary: Summary | null;
  /** The folder written: the run folder, its `.failed` twin, or the movement folder. */
  dir: string | null;
  /** The failure's one-line message and kind (lib/errors.ts) when failed. */
  error: { kind: string; message: string } | null;
}

/** The jobs the server knows, persisted so a restart lists them. */
export interface JobRegistry {
  /** Every job, newest first. */
  list(): JobRecord[];
  /** The job of `id`, if any. */
  get(id: string): JobRecord | undefined;
  /** Adds or replaces a job and persists the registry. */
  put(record: JobRecord): Promise<void>;
}

/** Why a job was refused. */
export class JobRefusedError extends Error {
  /**
   * A refusal, with the HTTP status it answers with.
   *
   * @param status 409 for an id in use, 429 for a full queue, 503 once
   *   the server is shutting down (`JobQueue.shutdown`).
   * @param message What is wrong, for the response body.
   */
  constructor(readonly status: 409 | 429 | 503, message: string) {
    super(message);
    this.name = "JobRefusedError";
  }
}

/** Runs jobs off the request loop, a bounded number at once. */
export interface JobQueue {
  /**
   * Accepts a job (status `queued`) and returns its record at once.
   * @throws {JobRefusedError} 409 when the id is taken (a job or a run
   *   folder), 429 when the queue is full, 503 after `shutdown`.
   */
  submit(kind: "run", request: RunRequest): Promise<JobRecord>;
  /** Accepts a movement; as for a run. */
  submit(kind: "movement", request: MovementRequest): Promise<JobRecord>;
  /** Jobs waiting and running now. */
  depth(): { queued: number; running: number };
  /**
   * Stops accepting; lets running jobs finish for up to `graceSeconds`,
   * then stops them; marks what did not finish `interrupted`.
   */
  shutdown(graceSeconds: number): Promise<void>;
}

/** The metrics every part updates; rendered as Prometheus text. */
export interface ServerMetrics {
  /** One HTTP request done: its route pattern (`/runs/:id`), method, status, seconds. */
  observeRequest(
    route: string,
    method: string,
    status: number,
    seconds: number,
  ): void;
  /** A job changed status (queued, running, succeeded, failed, interrupted). */
  observeJob(record: JobRecord): void;
  /** Jobs waiting and running now (asked at scrape time). */
  setQueueDepth(depth: { queued: number; running: number }): void;
  /** The Prometheus text exposition and its content type. */
  render(): Promise<{ contentType: string; body: string }>;
}

/** One structured log line: JSON, never a token or secret. */
export type LogFields = Record<string, unknown>;

/** Writes structured log lines (one JSON object per line). */
export interface Logger {
  /** Something happened as expected (a request, a job event). */
  info(event: string, fields?: LogFields): void;
  /** Something an operator may want to look at. */
  warn(event: string, fields?: LogFields): void;
  /** Something failed. */
  error(event: string, fields?: LogFields): void;
}

/** What `createApp` is built from. */
export interface ServerDeps {
  /** The configuration. */
  config: ServerConfig;
  /** The jobs known, persisted. */
  registry: JobRegistry;
  /** Where jobs are submitted. */
  queue: JobQueue;
  /** The metrics every part updates. */
  metrics: ServerMetrics;
  /** The structured log. */
  logger: Logger;
}
