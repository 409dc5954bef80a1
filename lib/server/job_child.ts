/**
 * One job of the run server, in a process of its own (started by
 * `queue.ts`), so that a run computes off the server's request loop and a
 * crash or an out-of-memory kill takes only the job down.
 *
 * Protocol:
 * - stdin: the first line is the job ({@link ChildInput}) as JSON. The pipe
 *   then stays open; its end means the server is gone (killed, even by
 *   SIGKILL), and the job stops at once rather than run on unobserved (its
 *   hidden partial folder is removed by the next run of the id, see
 *   `lib/run_folder/stale.ts`).
 * - stdout: one JSON object per line ({@link ChildEvent}): `step`,
 *   `progress`, `counts`, then exactly one of `done` or `failed`. Nothing
 *   else is written there: `console.log` goes to stderr in this process.
 * - exit code: 0 done, else `exitCodeFor` of the failure (`lib/errors.ts`).
 *
 * A run calls `runPortfolio`, the function `deno task run` calls, with the
 * server's output folder; a movement reads both runs with
 * `readRunFolder(..., { trusted: true })`, computes it with
 * `computeMovement` and writes it with `writeMovementOutputs`, as
 * `deno task movement` does.
 *
 * @module
 */
import { join } from "node:path";
import { exitCodeFor, failureKind, failureMessage } from "../errors.ts";
import { RunFailedError, runPortfolio } from "../run/mod.ts";
import {
  checkOutputFolder,
  type Manifest,
  MOVEMENT_FILES,
  readRunFolder,
  RUN_FILES,
  type Summary,
} from "../run_folder/mod.ts";
import { computeMovement, writeMovementOutputs } from "../movement/mod.ts";
import type { MovementRequest, RunRequest } from "./types.ts";

/** The job a child process is given on its first line of stdin. */
export type ChildInput =
  | { kind: "run"; request: RunRequest; outDir: string }
  | { kind: "movement"; request: MovementRequest; movementDir: string };

/** Step timings, in order: milliseconds of wall clock per step. */
export type StepTimings = { step: string; ms: number }[];

/** One line a child writes on stdout. */
export type ChildEvent =
  | { type: "step"; step: string }
  | { type: "progress"; loansDone: number; loansTotal: number }
  | {
    type: "counts";
    rowsRead: number;
    rowsValid: number;
    rowsRejected: number;
    /** The rules file's `validation.max_reject_rate`. */
    maxRejectRate?: number;
  }
  | {
    type: "done";
    dir: string;
    summary: Summary | null;
    steps?: StepTimings;
  }
  | {
    type: "failed";
    kind: string;
    message: string;
    dir: string | null;
    steps?: StepTimings;
  };

/** The exit code when the server went away (stdin closed) mid-job. */
export const EXIT_SERVER_GONE = 75;

/** Progress lines at most this often (the last one always goes out). */
const PROGRESS_EVERY_MS = 250;

/** Writes events one JSON line each, in order. */
class EventWriter {
  private chain: Promise<void> = Promise.resolve();
  private readonly encoder = new TextEncoder();

  emit(event: ChildEvent): Promise<void> {
    const bytes = this.encoder.encode(JSON.stringify(event) + "\n");
    this.chain = this.chain.then(async () => {
      let written = 0;
      while (written < bytes.length) {
        written += await Deno.stdout.write(bytes.subarray(written));
      }
    });
    return this.chain;
  }
}

/** Times steps that run one after the other (the movement's). */
class SequentialSteps {
  readonly steps: StepTimings = [];
  private started = 0;

  start(step: string): void {
    this.finish();
    this.steps.push({ step, ms: 0 });
    this.started = performance.now();
  }

  finish(): void {
    const last = this.steps.at(-1);
    if (last && last.ms === 0) {
      last.ms = Math.round((performance.now() - this.started) * 1000) / 1000;
    }
  }
}

/** A manifest's `timings_ms` as an ordered list. */
function timingsOf(manifest: Pick<Manifest, "timings_ms">): StepTimings {
  return Object.entries(manifest.timings_ms ?? {}).map(([step, ms]) => ({
    step,
    ms,
  }));
}

/** Runs one job and reports it on stdout; returns the exit code. */
async function runJob(
  input: ChildInput,
  events: EventWriter,
): Promise<number> {
  let lastProgress = 0;
  const onStep = (step: string) => void events.emit({ type: "step", step });
  try {
    if (input.kind === "run") {
      const { request } = input;
      const run = await runPortfolio({
        portfolio: request.portfolio,
        rules: request.rules,
        fx: request.fx,
        out: input.outDir,
        runId: request.runId,
        onStep,
        onProgress: ({ loansDone, loansTotal }) => {
          const now = performance.now();
          if (
            loansDone < loansTotal && now - lastProgress < PROGRESS_EVERY_MS
          ) return;
          lastProgress = now;
          void events.emit({ type: "progress", loansDone, loansTotal });
        },
      });
      const rows = run.manifest.rows;
      await events.emit({
        type: "counts",
        rowsRead: rows.read,
        rowsValid: rows.valid,
        rowsRejected: rows.rejected,
        maxRejectRate: run.dataQuality.max_reject_rate,
      });
      await events.emit({
        type: "done",
        dir: run.dir,
        summary: run.summary,
        steps: timingsOf(run.manifest),
      });
      return 0;
    }
    const { request } = input;
    const out = join(input.movementDir, request.movementId);
    const timer = new SequentialSteps();
    const step = (name: string) => {
      timer.start(name);
      onStep(name);
    };
    // Where the outputs go is checked before any run is read, as the task does.
    await checkOutputFolder(out, Object.values(MOVEMENT_FILES), {
      inputs: [request.from, request.to],
    });
    step("read_runs");
    const earlier = await readRunFolder(request.from, { trusted: true });
    const later = await readRunFolder(request.to, { trusted: true });
    const { movement, facilities } = await computeMovement(earlier, later, {
      onStep: step,
    });
    step("write_outputs");
    await writeMovementOutputs(movement, facilities, out);
    timer.finish();
    await events.emit({
      type: "done",
      dir: out,
      summary: null,
      steps: timer.steps,
    });
    return 0;
  } catch (e) {
    let dir: string | null = null;
    let steps: StepTimings | undefined;
    if (e instanceof RunFailedError) {
      dir = e.failedDir;
      // The failed folder's manifest has the counts and timings so far.
      try {
        const manifest = JSON.parse(
          await Deno.readTextFile(join(dir, RUN_FILES.manifest)),
        ) as Manifest;
        steps = timingsOf(manifest);
        if (manifest.rows?.read > 0) {
          const quality = await Deno.readTextFile(
            join(dir, RUN_FILES.dataQuality),
          ).then((t) => JSON.parse(t) as { max_reject_rate?: number })
            .catch(() => null);
          await events.emit({
            type: "counts",
            rowsRead: manifest.rows.read,
            rowsValid: manifest.rows.valid,
            rowsRejected: manifest.rows.rejected,
            ...(typeof quality?.max_reject_rate === "number"
              ? { maxRejectRate: quality.max_reject_rate }
              : {}),
          });
        }
      } catch {
        // No manifest could be written (a full disk): the message says so.
      }
    }
    await events.emit({
      type: "failed",
      kind: failureKind(e),
      // One line, without a stack, whatever IFRS9_DEBUG says.
      message: failureMessage(e, { debug: false }).split("\n")
        .map((l) => l.trim()).filter((l) => l !== "").join(" "),
      dir,
      steps,
    });
    return exitCodeFor(e);
  }
}

/** Reads the first line of stdin, then exits when stdin ends. */
async function readInput(): Promise<ChildInput> {
  const reader = Deno.stdin.readable.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  const line = text.split("\n")[0];
  if (line.trim() === "") Deno.exit(EXIT_SERVER_GONE);
  // The server is this process's only reader: when its end of the pipe
  // closes, nobody follows the job any more.
  (async () => {
    while (!(await reader.read()).done) { /* keep reading */ }
    Deno.exit(EXIT_SERVER_GONE);
  })();
  return JSON.parse(line) as ChildInput;
}

if (import.meta.main) {
  // stdout carries the events only: anything a library prints goes to stderr.
  console.log = console.error;
  console.info = console.error;
  console.debug = console.error;
  const events = new EventWriter();
  const code = await runJob(await readInput(), events);
  Deno.exit(code);
}
