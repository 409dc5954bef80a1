/**
 * Runs a close (docs/close.md): every planned step in order, each
 *
 * - skipped when every output it recorded exists and the SHA-256 of its
 *   current inputs equal those recorded in `close.json` after its last
 *   success (a run: the portfolio, rules and FX files, every `.ts` file in
 *   the folder of each plugin module its rules list and every file an
 *   option of one names; the other steps:
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
 * The output folder is locked for the close (`.close.lock`, holding the
 * pid; a second close is refused as `busy`, a stale lock taken over).
 * With a `date`, the records of later dates are kept unchanged, and the
 * export and dashboard still cover every date whose run is planned or
 * recorded finished.
 *
 * A failed step blocks its dependants (status `blocked`); the others
 * still run. `close.json` is written after every step and `close.html` at
 * the end (and after every step too, so a scheduler's operator can watch
 * it).
 *
 * @module
 */
import { dirname, isAbsolute, join, resolve } from "node:path";
import {
  EXIT_CODES,
  type FailureKind,
  failureKind,
  UserError,
} from "../errors.ts";
import { runPortfolio, sha256File } from "../run/mod.ts";
import { readRunFolder } from "../run_folder/mod.ts";
import { loadRules } from "../rules.ts";
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
  /** Told of a warning (a stale lock taken over). @default console.warn */
  onWarning?: (message: string) => void;
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
   * @param _step The step's id (the record names it; the message does not).
   * @param seconds Its budget.
   */
  constructor(_step: string, seconds: number) {
    super(
      "output",
      `ran over its time budget of ${seconds} s (time_budget_s) and was abandoned; raise time_budget_s or find what made it slow`,
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
          `cannot read its ${what} ${path}: ${
            e instanceof Deno.errors.NotFound ? "no such file" : e.message
          }`,
          { cause: e },
        );
      });
    return {
      portfolio: await file("portfolio", entity.portfolios[step.date!]),
      rules: await file("rules file", entity.rules),
      fx: await file("FX table", entity.fx[step.date!]),
      ...await pluginHashes(entity.rules, file),
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

/**
 * The SHA-256 of what the plugins of a rules file read: for each entry of
 * its `plugins:` list, every `.ts` file in the module's folder (the module
 * and, as a simple rule, the local files it may import), keyed
 * `plugin file <path>`; and every option value (at any depth) that is a
 * string naming an existing file relative to the working folder (as the
 * shipped plugins read them) or absolute, keyed
 * `plugins[i].options.<key> <path>`.
 */
async function pluginHashes(
  rulesFile: string,
  file: (what: string, path: string) => Promise<string>,
): Promise<Record<string, string>> {
  const rules = await loadRules(rulesFile);
  const hashes: Record<string, string> = {};
  for (const [i, ref] of (rules.plugins ?? []).entries()) {
    const module = isAbsolute(ref.module)
      ? ref.module
      : resolve(dirname(resolve(rulesFile)), ref.module);
    const folder = dirname(module);
    const names: string[] = [];
    try {
      for await (const e of Deno.readDir(folder)) {
        if (e.isFile && e.name.endsWith(".ts")) names.push(e.name);
      }
    } catch (e) {
      throw new UserError(
        "input",
        `cannot read the folder ${folder} of plugins[${i}] (module ${ref.module}) of ${rulesFile}: ${
          (e as Error).message
        }`,
        { cause: e },
      );
    }
    // The module itself must be there (the run would refuse it anyway).
    const all = [
      ...new Set([module, ...names.sort().map((n) => join(folder, n))]),
    ];
    for (const path of all) {
      hashes[`plugin file ${path}`] = await file(
        `plugins[${i}] module file`,
        path,
      );
    }
    const walk = async (value: unknown, key: string): Promise<void> => {
      if (typeof value === "string") {
        const path = resolve(value);
        const info = await Deno.stat(path).catch(() => undefined);
        if (info?.isFile) {
          hashes[`plugins[${i}].${key} ${path}`] = await file(
            `plugins[${i}].${key} file`,
            path,
          );
        }
      } else if (Array.isArray(value)) {
        for (const [j, v] of value.entries()) await walk(v, `${key}[${j}]`);
      } else if (value !== null && typeof value === "object") {
        for (const [k, v] of Object.entries(value)) {
          await walk(v, `${key}.${k}`);
        }
      }
    };
    await walk(ref.options ?? {}, "options");
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
 *   is not one of its dates (`usage`), another live close holds the
 *   output folder's lock (`busy`) or `close.json` cannot be written
 *   (`output`).
 */
export async function runClose(opts: CloseOptions): Promise<CloseResult> {
  const config = await loadCloseConfig(opts.config);
  const out = opts.out ?? config.out;
  const planned = planClose(config, out, opts.date);
  const full = planClose(config, out);
  const retries = opts.retries ?? config.retries;
  const budget = opts.timeBudgetS ?? config.timeBudgetS;
  await Deno.mkdir(out, { recursive: true }).catch((e) => {
    throw new UserError(
      "output",
      `Cannot create the close's output folder ${out}: ${e.message}`,
      { cause: e },
    );
  });
  const lock = await lockOutput(out, opts.onWarning);
  try {
    return await closeLocked(opts, config, out, planned, full, retries, budget);
  } finally {
    await lock.release();
  }
}

/** The lock file of an output folder ({@link lockOutput}). */
export const CLOSE_LOCK = ".close.lock";

/** Whether process `pid` is alive (Linux `/proc`; assumed alive elsewhere). */
function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    Deno.statSync("/proc/self");
  } catch {
    return true; // no /proc: cannot tell, so never take a lock over
  }
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Takes the exclusive lock of a close's output folder: the file
 * {@link CLOSE_LOCK} created new in `out`, holding this process's pid.
 * A lock whose pid is no longer alive (a killed close) is taken over with
 * a warning.
 *
 * @throws {UserError} of kind `busy` (exit 4) naming the holder's pid and
 *   the lock file when a live process holds it.
 */
async function lockOutput(
  out: string,
  onWarning: ((message: string) => void) | undefined,
): Promise<{ release: () => Promise<void> }> {
  const path = join(out, CLOSE_LOCK);
  for (let tries = 0;; tries++) {
    try {
      const file = await Deno.open(path, { write: true, createNew: true });
      try {
        await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
      } finally {
        file.close();
      }
      return {
        release: () => Deno.remove(path).catch(() => {}),
      };
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) {
        throw new UserError(
          "output",
          `Cannot create the close's lock file ${path}: ${
            (e as Error).message
          }`,
          { cause: e },
        );
      }
    }
    // An empty lock may be one being written this instant: read it again
    // for up to half a second, then it is busy with an unknown holder.
    let text = "";
    for (let i = 0; i < 25; i++) {
      text = await Deno.readTextFile(path).catch(() => "");
      if (text.trim() !== "") break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const pid = Number(text.trim());
    if (tries > 0 || text.trim() === "" || alive(pid)) {
      throw new UserError(
        "busy",
        `Another close (pid ${
          text.trim() || "unknown"
        }) is writing ${out}: its lock file ${path} exists; retry when it has finished (or, if no close is running, remove the lock file)`,
      );
    }
    (onWarning ?? console.warn)(
      `Warning: taking over the stale lock ${path} of pid ${pid}, which is no longer running`,
    );
    await Deno.remove(path).catch(() => {});
  }
}

/** {@link runClose} once the output folder is locked. */
async function closeLocked(
  opts: CloseOptions,
  config: CloseConfig,
  out: string,
  planned: PlannedStep[],
  full: PlannedStep[],
  retries: number,
  budget: number,
): Promise<CloseResult> {
  const previous = new Map(
    ((await readCloseState(out))?.steps ?? []).map((r) => [r.id, r]),
  );
  const plannedIds = new Set(planned.map((s) => s.id));
  const finished = (id: string) => {
    const r = previous.get(id);
    if (
      !(r?.status === "succeeded" || r?.status === "skipped") ||
      Object.keys(r.input_hashes).length === 0
    ) return false;
    // Its output must still be there (what the export or dashboard hashes).
    const step = full.find((f) => f.id === id)!;
    try {
      Deno.statSync(
        join(
          step.output,
          step.kind === "run" ? "manifest.json" : "movement.json",
        ),
      );
      return true;
    } catch {
      return false;
    }
  };
  // An export or dashboard covers every date whose run is planned or
  // finished in an earlier close (--date limits what is computed, not
  // what they show).
  const steps = planned.map((s) =>
    s.kind === "export" || s.kind === "dashboard"
      ? {
        ...s,
        deps: full.find((f) => f.id === s.id)!.deps.filter((d) =>
          plannedIds.has(d) || finished(d)
        ),
      }
      : s
  );
  const ctx: Context = {
    config,
    out,
    byId: new Map(full.map((s) => [s.id, s])),
  };
  const records = new Map<string, StepRecord>(
    steps.map((s) => {
      const before = previous.get(s.id);
      const done = before?.status === "succeeded" ||
        before?.status === "skipped" ||
        (before?.status === "pending" &&
          Object.keys(before.input_hashes).length > 0);
      return [s.id, {
        id: s.id,
        kind: s.kind,
        status: "pending",
        attempts: 0,
        seconds: 0,
        outputs: done ? before!.outputs : [],
        input_hashes: done ? before!.input_hashes : {},
      } as StepRecord];
    }),
  );
  const state: CloseState = {
    close_version: CLOSE_STATE_VERSION,
    config: config.path,
    date: opts.date ?? null,
    started_at: new Date().toISOString(),
    finished_at: null,
    // Steps outside the plan (later dates under --date) keep their
    // records unchanged.
    steps: full.flatMap((s) => {
      const r = records.get(s.id) ?? previous.get(s.id);
      return r ? [r] : [];
    }),
  };
  const pagePath = join(out, CLOSE_LAYOUT.page);
  const save = async () => {
    await writeCloseState(out, state);
    await writeFileAtomic(pagePath, renderClosePage(state));
  };
  await save();

  for (const step of steps) {
    const record = records.get(step.id)!;
    const started = performance.now();
    opts.onStepStart?.(step);
    const unfinished = step.deps.filter((d) => {
      const r = state.steps.find((x) => x.id === d);
      return r?.status !== "succeeded" && r?.status !== "skipped";
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
              ? ` (${failureKind(e) === "input" ? "an" : "a"} ${
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
    failed: state.steps.filter((r) =>
      r.status === "failed" && plannedIds.has(r.id)
    ),
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
