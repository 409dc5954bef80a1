/**
 * Runs a close (docs/close.md): every planned step in order, each
 *
 * - skipped when every output it recorded exists and the SHA-256 of its
 *   current inputs equal those recorded in `close.json` after its last
 *   success (a run: the portfolio, rules and FX files; the other steps:
 *   each input run's `manifest.json` and each movement's
 *   `movement.json`, so a recomputed run recomputes its dependants);
 * - otherwise computed, replacing its previous output (a run with
 *   `replace: true`);
 * - retried up to `retries` times when it fails with an `output` or
 *   `internal` failure (a full disk, a lost mount, a bug that may not
 *   recur), never on an `input`, `check` or `usage` failure: the same
 *   inputs would fail the same way;
 * - given a time budget: a step still working when it runs out is failed
 *   with that reason (and not retried: its work is abandoned, not
 *   stopped, and a retry would race it). The budget races a timer, so the
 *   abandoned work may continue in the background until the process
 *   exits; `deno task close` exits as soon as the close ends.
 *
 * A failed step blocks its dependants (status `blocked`); the others
 * still run. `close.json` is written after every step and `close.html` at
 * the end (and after every step too, so a scheduler's operator can watch
 * it).
 *
 * @module
 */
import { join } from "node:path";
import {
  EXIT_CODES,
  type FailureKind,
  failureKind,
  UserError,
} from "../errors.ts";
import { runPortfolio, sha256File } from "../run/mod.ts";
import { readRunFolder } from "../run_folder/mod.ts";
import { computeMovement, writeMovementOutputs } from "../movement/mod.ts";
import { exportStarSchema, writeDashboard } from "../report/mod.ts";
import { type CloseConfig, loadCloseConfig } from "./config.ts";
import { CLOSE_LAYOUT, planClose, type PlannedStep, runIdOf } from "./plan.ts";
import {
  CLOSE_STATE_VERSION,
  type CloseState,
  readCloseState,
  type StepRecord,
  writeCloseState,
  writeFileAtomic,
} from "./state.ts";
import { renderClosePage } from "./page.ts";

/** Options of {@link runClose}. */
export interface CloseOptions {
  /** The close file (YAML). */
  config: string;
  /** Close up to this date (one of the file's dates). @default every date */
  date?: string;
  /** The output folder. @default the file's `out` */
  out?: string;
  /** Told when a step starts. */
  onStepStart?: (step: PlannedStep) => void;
  /** Told when a step ends, with its record. */
  onStepEnd?: (record: StepRecord) => void;
  /**
   * Called before every attempt of every computed step, with the step and
   * the attempt number (1, 2, …): what it throws fails that attempt as the
   * step's own failure would. For fault injection (a transient failure to
   * test retries) and for tracing.
   */
  beforeAttempt?: (step: PlannedStep, attempt: number) => void | Promise<void>;
  /** Overrides the file's `retries`. */
  retries?: number;
  /** Overrides the file's `time_budget_s`. */
  timeBudgetS?: number;
}

/** What {@link runClose} did. */
export interface CloseResult {
  /** The output folder. */
  out: string;
  /** What was written to `close.json`. */
  state: CloseState;
  /** The steps that failed (not those blocked). */
  failed: StepRecord[];
  /** `close.json`. */
  stateFile: string;
  /** `close.html`. */
  page: string;
}

/** A step that ran out of its time budget. */
export class StepTimeoutError extends UserError {
  /**
   * The error.
   * @param step The step's id.
   * @param seconds Its budget.
   */
  constructor(step: string, seconds: number) {
    super(
      "output",
      `step ${step} ran over its time budget of ${seconds} s (time_budget_s) and was abandoned; raise time_budget_s or find what made it slow`,
    );
    this.name = "StepTimeoutError";
  }
}

/** Failure kinds worth retrying: the same inputs may succeed next time. */
const TRANSIENT: readonly FailureKind[] = ["output", "internal"];

/** Whether a failure is retried: output or internal, and not a timeout. */
export function isRetried(e: unknown): boolean {
  return !(e instanceof StepTimeoutError) &&
    TRANSIENT.includes(failureKind(e));
}

/** Whether `path` exists. */
async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Races `work` against a timer of `seconds`. */
async function withBudget<T>(
  id: string,
  seconds: number,
  work: () => Promise<T>,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const running = work();
  // The abandoned work's later failure must not surface as unhandled.
  running.catch(() => {});
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StepTimeoutError(id, seconds)),
      seconds * 1000,
    );
  });
  try {
    return await Promise.race([running, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Everything a step's execution needs. */
interface Context {
  config: CloseConfig;
  out: string;
  byId: Map<string, PlannedStep>;
}

/** The current SHA-256 of a step's inputs, by name. */
async function inputHashes(
  step: PlannedStep,
  ctx: Context,
): Promise<Record<string, string>> {
  if (step.kind === "run") {
    const entity = ctx.config.entities.find((e) => e.name === step.entity)!;
    const file = (what: string, path: string) =>
      sha256File(path).catch((e) => {
        throw new UserError(
          "input",
          `step ${step.id}: cannot read its ${what} ${path}: ${
            e instanceof Deno.errors.NotFound ? "no such file" : e.message
          }`,
          { cause: e },
        );
      });
    return {
      portfolio: await file("portfolio", entity.portfolios[step.date!]),
      rules: await file("rules file", entity.rules),
      fx: await file("FX table", entity.fx[step.date!]),
    };
  }
  const hashes: Record<string, string> = {};
  for (const dep of step.deps) {
    const d = ctx.byId.get(dep)!;
    const file = d.kind === "run"
      ? join(d.output, "manifest.json")
      : join(d.output, "movement.json");
    hashes[dep] = await sha256File(file);
  }
  return hashes;
}

/** Computes a step; returns the outputs written. */
async function compute(step: PlannedStep, ctx: Context): Promise<string[]> {
  const deps = step.deps.map((id) => ctx.byId.get(id)!);
  const runDirs = deps.filter((d) => d.kind === "run").map((d) => d.output);
  switch (step.kind) {
    case "run": {
      const entity = ctx.config.entities.find((e) => e.name === step.entity)!;
      const result = await runPortfolio({
        portfolio: entity.portfolios[step.date!],
        rules: entity.rules,
        fx: entity.fx[step.date!],
        out: join(ctx.out, CLOSE_LAYOUT.runs),
        runId: runIdOf(step.entity, step.date!),
        replace: true,
      });
      return [result.dir];
    }
    case "movement": {
      const [from, to] = runDirs;
      const earlier = await readRunFolder(from, { trusted: true });
      const later = await readRunFolder(to, { trusted: true });
      const { movement, facilities } = await computeMovement(earlier, later);
      await writeMovementOutputs(movement, facilities, step.output);
      return [step.output];
    }
    case "export": {
      await exportStarSchema(runDirs, step.output);
      return [step.output];
    }
    case "dashboard": {
      await Deno.mkdir(join(ctx.out, CLOSE_LAYOUT.dashboards), {
        recursive: true,
      });
      const movements = deps.filter((d) => d.kind === "movement").map((d) =>
        d.output
      );
      await writeDashboard(runDirs, step.output, { movements });
      return [step.output];
    }
  }
}

/** Whether two hash records are equal (same names, same hashes). */
function sameHashes(
  a: Record<string, string>,
  b: Record<string, string>,
): boolean {
  const ka = Object.keys(a), kb = Object.keys(b);
  return ka.length > 0 && ka.length === kb.length &&
    ka.every((k) => a[k] === b[k]);
}

/**
 * Runs the close of `opts.config` (docs/close.md) and writes `close.json`
 * and `close.html` into its output folder. Failed steps do not throw:
 * they are in the result's `failed` ({@link closeFailure} turns them into
 * the error a door reports).
 *
 * @throws {UserError} when the close file is refused (`input`), `date`
 *   is not one of its dates (`usage`) or `close.json` cannot be written
 *   (`output`).
 */
export async function runClose(opts: CloseOptions): Promise<CloseResult> {
  const config = await loadCloseConfig(opts.config);
  const out = opts.out ?? config.out;
  const steps = planClose(config, out, opts.date);
  const retries = opts.retries ?? config.retries;
  const budget = opts.timeBudgetS ?? config.timeBudgetS;
  const ctx: Context = {
    config,
    out,
    byId: new Map(steps.map((s) => [s.id, s])),
  };
  await Deno.mkdir(out, { recursive: true }).catch((e) => {
    throw new UserError(
      "output",
      `Cannot create the close's output folder ${out}: ${e.message}`,
      { cause: e },
    );
  });
  const previous = new Map(
    ((await readCloseState(out))?.steps ?? []).map((r) => [r.id, r]),
  );
  const state: CloseState = {
    close_version: CLOSE_STATE_VERSION,
    config: config.path,
    date: opts.date ?? null,
    started_at: new Date().toISOString(),
    finished_at: null,
    steps: steps.map((s) => {
      const before = previous.get(s.id);
      const done = before?.status === "succeeded" ||
        before?.status === "skipped" ||
        (before?.status === "pending" &&
          Object.keys(before.input_hashes).length > 0);
      return {
        id: s.id,
        kind: s.kind,
        status: "pending",
        attempts: 0,
        seconds: 0,
        outputs: done ? before!.outputs : [],
        input_hashes: done ? before!.input_hashes : {},
      };
    }),
  };
  const pagePath = join(out, CLOSE_LAYOUT.page);
  const save = async () => {
    await writeCloseState(out, state);
    await writeFileAtomic(pagePath, renderClosePage(state));
  };
  await save();

  for (const [i, step] of steps.entries()) {
    const record = state.steps[i];
    const started = performance.now();
    opts.onStepStart?.(step);
    const unfinished = step.deps.filter((d) => {
      const r = state.steps.find((x) => x.id === d)!;
      return r.status !== "succeeded" && r.status !== "skipped";
    });
    if (unfinished.length > 0) {
      Object.assign(record, {
        status: "blocked",
        outputs: [],
        input_hashes: {},
        error: `blocked by ${unfinished.join(", ")}`,
        finished_at: new Date().toISOString(),
      });
      await save();
      opts.onStepEnd?.(record);
      continue;
    }
    let hashes: Record<string, string>;
    try {
      hashes = await inputHashes(step, ctx);
    } catch (e) {
      Object.assign(record, {
        status: "failed",
        attempts: 0,
        input_hashes: {},
        outputs: [],
        error: (e as Error).message,
        failure_kind: failureKind(e),
        seconds: (performance.now() - started) / 1000,
        finished_at: new Date().toISOString(),
      });
      await save();
      opts.onStepEnd?.(record);
      continue;
    }
    const outputsThere = record.outputs.length > 0 &&
      (await Promise.all(record.outputs.map(exists))).every(Boolean);
    if (outputsThere && sameHashes(record.input_hashes, hashes)) {
      Object.assign(record, {
        status: "skipped",
        seconds: (performance.now() - started) / 1000,
        finished_at: new Date().toISOString(),
      });
      await save();
      opts.onStepEnd?.(record);
      continue;
    }
    // Not finished, or its inputs changed: computed again. Until it
    // succeeds, the record holds no hashes, so a close killed now
    // recomputes it.
    record.input_hashes = {};
    record.outputs = [];
    await writeCloseState(out, state);
    let attempt = 0;
    for (;;) {
      attempt++;
      try {
        const outputs = await withBudget(step.id, budget, async () => {
          await opts.beforeAttempt?.(step, attempt);
          return await compute(step, ctx);
        });
        Object.assign(record, {
          status: "succeeded",
          outputs,
          input_hashes: hashes,
          error: undefined,
          failure_kind: undefined,
        });
        break;
      } catch (e) {
        if (attempt <= retries && isRetried(e)) continue;
        Object.assign(record, {
          status: "failed",
          input_hashes: hashes,
          error: `${(e as Error).message}${
            attempt > 1 ? ` (after ${attempt} attempts)` : ""
          }${
            !isRetried(e) && !(e instanceof StepTimeoutError)
              ? ` (a ${
                failureKind(e)
              } failure: not retried, the same inputs would fail the same way)`
              : ""
          }`,
          failure_kind: failureKind(e),
        });
        break;
      }
    }
    record.attempts = attempt;
    record.seconds = (performance.now() - started) / 1000;
    record.finished_at = new Date().toISOString();
    await save();
    opts.onStepEnd?.(record);
  }
  state.finished_at = new Date().toISOString();
  await save();
  return {
    out,
    state,
    failed: state.steps.filter((r) => r.status === "failed"),
    stateFile: join(out, CLOSE_LAYOUT.state),
    page: pagePath,
  };
}

/**
 * The error a door reports for a close with failed steps, or undefined
 * when none failed: its kind is `check` (exit 1) when any step failed a
 * check, else the first failed step's kind; its message names every
 * failed step and its error, and the steps blocked.
 */
export function closeFailure(result: CloseResult): UserError | undefined {
  if (result.failed.length === 0) return undefined;
  const kinds = result.failed.map((r) => r.failure_kind ?? "internal");
  const kind: FailureKind = kinds.includes("check") ? "check" : kinds[0];
  const blocked = result.state.steps.filter((r) => r.status === "blocked");
  return new UserError(
    kind,
    `Close failed: ${
      result.failed.map((r) => `step ${r.id} failed: ${r.error}`).join("; ")
    }${
      blocked.length > 0
        ? `; blocked: ${blocked.map((r) => r.id).join(", ")}`
        : ""
    }. Fix the cause and rerun: finished steps are skipped (${result.page})`,
  );
}

/** The exit code of a close's result: 0, or its failure's ({@link closeFailure}). */
export function closeExitCode(result: CloseResult): number {
  const e = closeFailure(result);
  return e === undefined ? 0 : EXIT_CODES[e.kind];
}
