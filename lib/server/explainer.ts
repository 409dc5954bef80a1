/**
 * Where the MCP door's `explain_facility` computes, off the request loop
 * and one at a time.
 *
 * Explaining a facility is heavy: it hashes the run's portfolio, rules and
 * FX files (is the portfolio still the one the run read?), reads the
 * facility's row back from the portfolio with Polars, validates and stages
 * it, and projects it month by month (`explainFacility`, workings.ts). On
 * the server's own thread that took `/healthz` from a p99 of 45 ms to
 * 920 ms (max 2.6 s) with 8 explanations in parallel on a 1M-loan run.
 * So {@link createFacilityExplainer}:
 *
 * - runs each explanation in a Web Worker of its own (`explainer_worker.ts`,
 *   the same `explainFacility`), so the request loop only posts the job and
 *   receives the answer; the worker ends when its answer arrives, giving
 *   back the memory Polars took for the portfolio;
 * - runs **at most one explanation at a time** ({@link MAX_EXPLANATIONS}):
 *   a call while one computes is refused at once with the tool error
 *   {@link EXPLAIN_BUSY_MESSAGE} rather than queued (an agent retries; a
 *   queue of 100 MB reads would only make everyone wait);
 * - remembers the input files' SHA-256 across explanations in the server
 *   (`createHashCache`, keyed by path, size, modification and change
 *   times, inode and device): the worker gets what is remembered and
 *   returns what it hashed, so a second explanation of the same run does
 *   not read the portfolio again to hash it.
 *
 * A worker's failure comes back as the error it threw: a `UserError` (a
 * loan not in the run, a run folder that cannot be read) keeps its kind
 * and message; anything else is an internal error carrying the worker's
 * stack for the log.
 *
 * @module
 */
import { type FailureKind, UserError } from "../errors.ts";
import {
  createHashCache,
  type FacilityExplanation,
  type HashCache,
  type HashCacheEntry,
} from "./workings.ts";

/** Explanations computing at once, server-wide. */
export const MAX_EXPLANATIONS = 1;

/** The tool error of an `explain_facility` call while another computes. */
export const EXPLAIN_BUSY_MESSAGE =
  "explain_facility: busy: one facility explanation at a time, retry in a few seconds";

/** One explanation to compute, as posted to a worker. */
export interface ExplainJob {
  /** The complete run folder. */
  dir: string;
  /** The facility's `loan_id`. */
  loanId: string;
  /** Months of the projection to list (all when absent). */
  maxPeriods?: number;
  /** Input-file hashes the server remembers. */
  hashes: HashCacheEntry[];
}

/** What computing one explanation gives back. */
export interface ExplainOutcome {
  /** The explanation. */
  explanation: FacilityExplanation;
  /** The hashes known after it (those given and those made). */
  hashes: HashCacheEntry[];
  /** Files read and hashed for it (0 when every hash was remembered). */
  filesHashed: number;
}

/** A worker's answer: the outcome, or the error it threw, as data. */
export type WorkerAnswer =
  | { ok: true; outcome: ExplainOutcome }
  | {
    ok: false;
    error: { name: string; kind: FailureKind; message: string; stack?: string };
  };

/** Computes one explanation somewhere: by default in a worker of its own. */
export type ExplainRunner = (job: ExplainJob) => Promise<ExplainOutcome>;

/** Options of {@link createFacilityExplainer}. */
export interface FacilityExplainerOptions {
  /** Where an explanation computes. @default {@link runInWorker} */
  run?: ExplainRunner;
  /** The remembered input-file hashes. @default a fresh `createHashCache()` */
  hashCache?: HashCache;
}

/** What an explainer has done, for the log and the tests. */
export interface ExplainerStats {
  /** Explanations computed (succeeded or failed). */
  explanations: number;
  /** Calls refused as busy. */
  refused: number;
  /** Input files read and hashed, over all explanations. */
  filesHashed: number;
}

/** Explains facilities off the request loop, one at a time. */
export interface FacilityExplainer {
  /**
   * The explanation of `loanId` in the run folder `dir`.
   * @throws {UserError} kind `busy` ({@link EXPLAIN_BUSY_MESSAGE}) while
   *   another explanation computes; the explanation's own `UserError`s.
   */
  explain(
    dir: string,
    loanId: string,
    opts?: { maxPeriods?: number },
  ): Promise<FacilityExplanation>;
  /** What it has done so far. */
  stats(): ExplainerStats;
}

/**
 * An explainer: at most {@link MAX_EXPLANATIONS} at once, each computed by
 * `options.run` (a worker of its own by default), input hashes remembered
 * between them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createFacilityExplainer, EXPLAIN_BUSY_MESSAGE } from "./explainer.ts";
 * import type { ExplainOutcome } from "./explainer.ts";
 *
 * const gate = Promise.withResolvers<void>();
 * const explainer = createFacilityExplainer({
 *   run: async (job) => {
 *     await gate.promise;
 *     return { explanation: { loan_id: job.loanId }, hashes: [], filesHashed: 0 } as
 *       unknown as ExplainOutcome;
 *   },
 * });
 * const first = explainer.explain("runs/q4", "L1");
 * await assert.rejects(explainer.explain("runs/q4", "L2"), { message: EXPLAIN_BUSY_MESSAGE });
 * gate.resolve();
 * assert.equal((await first).loan_id, "L1");
 * assert.deepEqual(explainer.stats(), { explanations: 1, refused: 1, filesHashed: 0 });
 * ```
 */
export function createFacilityExplainer(
  options: FacilityExplainerOptions = {},
): FacilityExplainer {
  const run = options.run ?? runInWorker;
  const cache = options.hashCache ?? createHashCache();
  let computing = 0;
  const stats: ExplainerStats = {
    explanations: 0,
    refused: 0,
    filesHashed: 0,
  };
  return {
    async explain(dir, loanId, opts = {}) {
      if (computing >= MAX_EXPLANATIONS) {
        stats.refused++;
        throw new UserError("busy", EXPLAIN_BUSY_MESSAGE);
      }
      computing++;
      try {
        const outcome = await run({
          dir,
          loanId,
          ...(opts.maxPeriods === undefined
            ? {}
            : { maxPeriods: opts.maxPeriods }),
          hashes: cache.entries(),
        });
        cache.add(outcome.hashes);
        stats.filesHashed += outcome.filesHashed;
        return outcome.explanation;
      } finally {
        computing--;
        stats.explanations++;
      }
    },
    stats: () => ({ ...stats }),
  };
}

/** The error a worker threw, made again on this side. */
function errorFrom(
  error: Extract<WorkerAnswer, { ok: false }>["error"],
): Error {
  if (error.kind !== "internal") {
    const e = new UserError(error.kind, error.message);
    if (error.name !== "UserError") e.name = error.name;
    return e;
  }
  const e = new Error(error.message);
  e.name = error.name;
  if (error.stack) e.stack = error.stack;
  return e;
}

/**
 * Computes one explanation in a Web Worker of its own
 * (`explainer_worker.ts`, with the server's permissions), and ends the
 * worker once it has answered.
 */
export const runInWorker: ExplainRunner = (job) => {
  const worker = new Worker(
    new URL("./explainer_worker.ts", import.meta.url),
    { type: "module", name: "explain_facility" },
  );
  const { promise, resolve, reject } = Promise.withResolvers<
    ExplainOutcome
  >();
  worker.onmessage = (e: MessageEvent<WorkerAnswer>) => {
    const answer = e.data;
    if (answer.ok) resolve(answer.outcome);
    else reject(errorFrom(answer.error));
  };
  worker.onerror = (e: ErrorEvent) => {
    // An error the worker did not catch (its modules failed to load).
    e.preventDefault();
    reject(
      new Error(`the explain_facility worker failed: ${e.message}`, {
        cause: e.error,
      }),
    );
  };
  worker.onmessageerror = () =>
    reject(new Error("the explain_facility worker's answer cannot be read"));
  worker.postMessage(job);
  return promise.finally(() => worker.terminate());
};
