/**
 * The Web Worker that computes one `explain_facility` answer off the
 * server's request loop (started by `runInWorker` of `explainer.ts`): it
 * receives one {@link ExplainJob}, runs `explainFacility` (workings.ts)
 * with the hashes the server remembers, and posts back one
 * {@link WorkerAnswer}: the explanation with the hashes it knows now, or
 * the error it threw as data (kind, name, message, stack).
 *
 * @module
 */
import { failureKind } from "../errors.ts";
import type { ExplainJob, WorkerAnswer } from "./explainer.ts";
import { createHashCache, explainFacility } from "./workings.ts";

/** The worker's own scope (typed as a `Worker` for `postMessage`). */
const scope = self as unknown as Worker;

scope.onmessage = async (e: MessageEvent<ExplainJob>) => {
  const job = e.data;
  let answer: WorkerAnswer;
  try {
    const cache = createHashCache();
    cache.add(job.hashes);
    const explanation = await explainFacility(job.dir, job.loanId, {
      ...(job.maxPeriods === undefined ? {} : { maxPeriods: job.maxPeriods }),
      hashFile: cache.hashFile,
    });
    answer = {
      ok: true,
      outcome: {
        explanation,
        hashes: cache.entries(),
        filesHashed: cache.filesHashed(),
      },
    };
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    answer = {
      ok: false,
      error: {
        name: error.name,
        kind: failureKind(err),
        message: error.message,
        ...(error.stack === undefined ? {} : { stack: error.stack }),
      },
    };
  }
  try {
    scope.postMessage(answer);
  } catch (err) {
    // The answer cannot be copied to the server's thread (a value that is
    // not plain data): a bug, said as one.
    scope.postMessage(
      {
        ok: false,
        error: {
          name: "DataCloneError",
          kind: "internal",
          message: `the explanation cannot be sent to the server: ${
            (err as Error).message
          }`,
        },
      } satisfies WorkerAnswer,
    );
  }
};
