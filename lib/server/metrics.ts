/**
 * The server's Prometheus metrics (`GET /metrics`): requests by route and
 * status with latency histograms, jobs by final status, run durations, loans
 * computed, rows rejected, the last run's allowance and exposure by stage,
 * its reject rate against the rules file's limit, the allowance's change
 * from the previous run of the same book ({@link runBook}), and the
 * queue's depth. Every name and help
 * text is listed in `monitoring/README.md`; the alert rules and the Grafana
 * dashboard in `monitoring/` use only these (tests/server/monitoring_test.ts).
 *
 * Each {@link createServerMetrics} call has its own prom-client registries
 * (never the global one), so apps and tests do not share counters: one for
 * the `ifrs9_` metrics, rendered afresh on every scrape, and one for the
 * library's default process metrics (CPU, memory, event-loop lag), whose
 * text is reused for up to {@link PROCESS_METRICS_MAX_AGE_MS}: collecting
 * them is most of a scrape's cost, and a scraper polling fast must not
 * take the request loop from `/healthz`.
 *
 * "Last run" gauges follow the run that finished latest (by `finishedAt`),
 * whatever order records arrive in, so a registry replayed newest first
 * after a restart gives the same figures.
 *
 * The allowance change (`ifrs9_last_run_allowance_change_ratio`) compares
 * the last succeeded run with the succeeded run of the same book that
 * finished before it, never with whatever ran before (a sample run between
 * two production runs would otherwise look like a 99% fall and a 10,000%
 * rise). It has one series at a time, labelled with the last run's
 * `book`, and none while that book has no earlier succeeded run or when
 * the earlier run's ECL is 0 (a change from nothing has no ratio).
 *
 * `/metrics` needs no token and shows portfolio figures (the last run's id
 * and ECL and EAD by stage): scrape it over a private network
 * (`monitoring/README.md`).
 *
 * @module
 */
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
} from "prom-client";
import { dirname, isAbsolute, relative } from "node:path";
import { projectPath } from "../project.ts";
import { bookName } from "../report/mod.ts";
import type {
  JobRecord,
  JobStatus,
  RunRequest,
  ServerMetrics,
} from "./types.ts";

/** Request-latency buckets in seconds: 1 ms to 10 s. */
export const HTTP_DURATION_BUCKETS: readonly number[] = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/**
 * Run-duration buckets in seconds: 1 s to an hour (a 1M-loan run takes
 * seconds; 1800 is the time budget of `monitoring/alerts.yml`).
 */
export const RUN_DURATION_BUCKETS: readonly number[] = [
  1,
  5,
  15,
  30,
  60,
  120,
  300,
  600,
  900,
  1800,
  3600,
];

/** The statuses a job ends in; each job is counted once on reaching one. */
const FINAL: ReadonlySet<JobStatus> = new Set([
  "succeeded",
  "failed",
  "interrupted",
]);

/**
 * Default metrics that `promtool check metrics` rejects (gauges whose names
 * end in `_total`), and which say nothing under Deno (libuv handles and
 * requests are Node's): removed so the scrape lints clean.
 */
const LINT_FAILING_DEFAULTS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

/**
 * How long the default process metrics' text is reused, milliseconds
 * (Prometheus scrapes every 15 s or so; a second-old CPU figure is fresh).
 */
export const PROCESS_METRICS_MAX_AGE_MS = 1000;

/** Options of {@link createServerMetrics}. */
export interface ServerMetricsOptions {
  /** The clock, milliseconds since the epoch (tests fix it). @default Date.now */
  now?: () => number;
  /** Collect prom-client's default process metrics. @default true */
  defaultMetrics?: boolean;
}

/** A succeeded run as the allowance gauges need it. */
interface Finished {
  /** When it finished, milliseconds since the epoch. */
  at: number;
  /** Its total ECL. */
  ecl: number;
}

/** A URL's scheme (`s3://`): such a portfolio is named as it is. */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * The book a run's portfolio belongs to, as the allowance change groups
 * runs: the portfolio's folder (relative to the project when inside it)
 * and its file name without dates, extension and the separators around
 * them (`bookName`, the rule the run report's comparison with the previous
 * run follows): `data/prod/portfolio_2025-09-30.parquet` and
 * `data/prod/portfolio_2025-12-31.parquet` are the book
 * `data/prod/portfolio`; `data/sample/portfolio_2025-12-31.parquet` is
 * another book, `data/sample/portfolio`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { projectPath } from "../project.ts";
 * import { runBook } from "./metrics.ts";
 *
 * assert.equal(
 *   runBook(projectPath("data/prod/portfolio_2025-12-31.parquet")),
 *   "data/prod/portfolio",
 * );
 * assert.equal(runBook("/srv/in/retail-20250930.csv"), "/srv/in/retail");
 * assert.equal(runBook("s3://bank/books/sme_2025-12-31.parquet"), "s3://bank/books/sme");
 * ```
 */
export function runBook(portfolio: string): string {
  const folder = dirname(portfolio);
  const book = bookName(portfolio);
  if (SCHEME.test(portfolio)) return `${folder}/${book}`;
  const inside = relative(projectPath("."), folder);
  const shown = inside === ""
    ? "."
    : inside.startsWith("..") || isAbsolute(inside)
    ? folder
    : inside;
  return `${shown}/${book}`;
}

/**
 * Makes the metrics of one server, in a registry of their own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createServerMetrics } from "./metrics.ts";
 *
 * const metrics = createServerMetrics({ defaultMetrics: false });
 * metrics.observeRequest("/healthz", "GET", 200, 0.002);
 * const { body } = await metrics.render();
 * assert.match(
 *   body,
 *   /^ifrs9_http_requests_total\{route="\/healthz",method="GET",status="200"\} 1$/m,
 * );
 * ```
 */
export function createServerMetrics(
  options: ServerMetricsOptions = {},
): ServerMetrics {
  const now = options.now ?? Date.now;
  const register = new Registry();
  let processMetrics: Registry | null = null;
  if (options.defaultMetrics ?? true) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
    for (const name of LINT_FAILING_DEFAULTS) {
      processMetrics.removeSingleMetric(name);
    }
  }
  let processText = { at: -Infinity, text: "" };
  const registers = [register];

  const requests = new Counter({
    name: "ifrs9_http_requests_total",
    help: "HTTP requests answered, by route pattern, method and status code.",
    labelNames: ["route", "method", "status"] as const,
    registers,
  });
  const requestSeconds = new Histogram({
    name: "ifrs9_http_request_duration_seconds",
    help:
      "Seconds from a request's arrival to its response, by route pattern and method.",
    labelNames: ["route", "method"] as const,
    buckets: [...HTTP_DURATION_BUCKETS],
    registers,
  });
  const jobs = new Counter({
    name: "ifrs9_jobs_total",
    help:
      "Jobs (runs and movements) that reached a final status: succeeded, failed or interrupted.",
    labelNames: ["kind", "status"] as const,
    registers,
  });
  // Every final series exists from the start at 0, so `increase()` sees
  // the first failure (a series born at 1 shows no increase).
  for (const kind of ["run", "movement"]) {
    for (const status of FINAL) jobs.inc({ kind, status }, 0);
  }
  const runSeconds = new Histogram({
    name: "ifrs9_run_duration_seconds",
    help:
      "Seconds finished runs took from start to end (queueing excluded), by final status (succeeded or failed).",
    labelNames: ["status"] as const,
    buckets: [...RUN_DURATION_BUCKETS],
    registers,
  });
  const loans = new Counter({
    name: "ifrs9_loans_processed_total",
    help: "Loans computed by succeeded runs.",
    registers,
  });
  const rejected = new Counter({
    name: "ifrs9_rows_rejected_total",
    help: "Portfolio rows rejected by validation in finished runs.",
    registers,
  });
  const lastEcl = new Gauge({
    name: "ifrs9_last_run_ecl",
    help:
      "ECL (loss allowance plus provision) of the last succeeded run by stage, in the reporting currency.",
    labelNames: ["stage"] as const,
    registers,
  });
  const lastEad = new Gauge({
    name: "ifrs9_last_run_ead",
    help:
      "Exposure at default of the last succeeded run by stage, in the reporting currency.",
    labelNames: ["stage"] as const,
    registers,
  });
  const lastInfo = new Gauge({
    name: "ifrs9_last_run_info",
    help:
      "Always 1: the last succeeded run's id, reporting date and reporting currency as labels.",
    labelNames: ["run_id", "reporting_date", "currency"] as const,
    registers,
  });
  const lastTimestamp = new Gauge({
    name: "ifrs9_last_run_timestamp_seconds",
    help:
      "When the last succeeded run finished, seconds since the epoch (0: none yet).",
    registers,
  });
  const lastChange = new Gauge({
    name: "ifrs9_last_run_allowance_change_ratio",
    help:
      "Relative change of the total ECL of the last succeeded run from the previous succeeded run of the same book: (last - previous) / previous; absent until the book has two, or when the previous ECL is 0.",
    labelNames: ["book"] as const,
    registers,
  });
  const lastRejectRate = new Gauge({
    name: "ifrs9_last_run_reject_rate",
    help:
      "Share of portfolio rows rejected by validation in the last run that validated its portfolio.",
    registers,
  });
  const lastMaxRejectRate = new Gauge({
    name: "ifrs9_last_run_max_reject_rate",
    help:
      "The rules file's validation.max_reject_rate of that same run: the limit the reject rate is held to.",
    registers,
  });
  const lastDuration = new Gauge({
    name: "ifrs9_last_run_duration_seconds",
    help:
      "Seconds the last finished run (succeeded or failed) took from start to end.",
    registers,
  });
  const longestRunning = new Gauge({
    name: "ifrs9_longest_running_run_seconds",
    help:
      "Seconds the longest-running run in progress has been computing (0 when none runs).",
    registers,
  });
  const queued = new Gauge({
    name: "ifrs9_jobs_queued",
    help: "Jobs waiting for a slot.",
    registers,
  });
  const running = new Gauge({
    name: "ifrs9_jobs_running",
    help: "Jobs computing now.",
    registers,
  });

  const counted = new Set<string>();
  const startedRuns = new Map<string, number>();
  let lastDurationAt = -Infinity;
  let lastRejectAt = -Infinity;
  /** The latest succeeded run, and its book (null: not known). */
  let latest: { at: number; book: string | null } | null = null;
  /** The two latest succeeded runs of each book, latest first. */
  const byBook = new Map<string, Finished[]>();

  const time = (iso: string | null) => {
    const t = iso === null ? NaN : Date.parse(iso);
    return Number.isFinite(t) ? t : now();
  };

  const onSucceeded = (record: JobRecord, at: number) => {
    const summary = record.summary;
    loans.inc(summary?.totals.count ?? record.counts?.rowsValid ?? 0);
    if (summary === null) return;
    const portfolio = (record.request as Partial<RunRequest>).portfolio;
    const book = typeof portfolio === "string" && portfolio !== ""
      ? runBook(portfolio)
      : null;
    if (book !== null) {
      byBook.set(
        book,
        [...byBook.get(book) ?? [], { at, ecl: summary.totals.ecl }]
          .sort((a, b) => b.at - a.at)
          .slice(0, 2),
      );
    }
    if (latest === null || at >= latest.at) latest = { at, book };
    // The last run against the previous one of its book, whichever of the
    // two arrived now.
    lastChange.reset();
    const [last, previous] = latest.book === null
      ? []
      : byBook.get(latest.book) ?? [];
    if (
      previous !== undefined && last.at === latest.at && previous.ecl !== 0
    ) {
      lastChange.set(
        { book: latest.book! },
        (last.ecl - previous.ecl) / previous.ecl,
      );
    }
    if (latest.at !== at) return; // an older run arriving late
    lastEcl.reset();
    lastEad.reset();
    for (const group of summary.by_stage) {
      lastEcl.set({ stage: group.key }, group.ecl);
      lastEad.set({ stage: group.key }, group.ead);
    }
    lastInfo.reset();
    lastInfo.set({
      run_id: summary.run_id,
      reporting_date: summary.reporting_date,
      currency: summary.reporting_currency,
    }, 1);
    lastTimestamp.set(at / 1000);
  };

  const onRunFinished = (record: JobRecord) => {
    const at = time(record.finishedAt);
    if (record.status !== "interrupted" && record.startedAt !== null) {
      const seconds = Math.max(0, (at - time(record.startedAt)) / 1000);
      runSeconds.observe({ status: record.status }, seconds);
      if (at >= lastDurationAt) {
        lastDurationAt = at;
        lastDuration.set(seconds);
      }
    }
    const counts = record.counts;
    if (counts !== null) {
      rejected.inc(counts.rowsRejected);
      if (counts.maxRejectRate !== undefined && at >= lastRejectAt) {
        lastRejectAt = at;
        lastRejectRate.set(
          counts.rowsRead === 0 ? 0 : counts.rowsRejected / counts.rowsRead,
        );
        lastMaxRejectRate.set(counts.maxRejectRate);
      }
    }
    if (record.status === "succeeded") onSucceeded(record, at);
  };

  return {
    observeRequest(route, method, status, seconds) {
      requests.inc({ route, method, status: String(status) });
      requestSeconds.observe({ route, method }, seconds);
    },

    observeJob(record) {
      const key = `${record.kind}:${record.id}`;
      if (counted.has(key)) return;
      if (!FINAL.has(record.status)) {
        if (record.kind === "run" && record.status === "running") {
          startedRuns.set(key, time(record.startedAt));
        }
        return;
      }
      counted.add(key);
      startedRuns.delete(key);
      jobs.inc({ kind: record.kind, status: record.status });
      if (record.kind === "run") onRunFinished(record);
    },

    setQueueDepth(depth) {
      queued.set(depth.queued);
      running.set(depth.running);
    },

    async render() {
      const t = now();
      let longest = 0;
      for (const start of startedRuns.values()) {
        longest = Math.max(longest, (t - start) / 1000);
      }
      longestRunning.set(longest);
      if (
        processMetrics !== null &&
        t - processText.at >= PROCESS_METRICS_MAX_AGE_MS
      ) {
        processText = { at: t, text: await processMetrics.metrics() };
      }
      // Each registry's text ends with a newline: the two join as they are.
      return {
        contentType: register.contentType,
        body: processText.text + await register.metrics(),
      };
    },
  };
}
