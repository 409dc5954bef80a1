/**
 * The one error type for failures a user can act on, and the exit code of
 * each kind. Every door (a task, the server, a notebook helper) catches
 * errors once, prints {@link failureMessage} and, for a task, exits with
 * {@link exitCodeFor}:
 *
 * | kind       | exit | what happened                                                        |
 * |------------|------|----------------------------------------------------------------------|
 * | `usage`    | 2    | the command line or the options are wrong, or an output would overwrite an input or another run |
 * | `input`    | 2    | an input file, folder, row or key is wrong; the message names it     |
 * | `check`    | 1    | the inputs were read but failed a check: reject rate above the limit, a movement invariant, a non-finite figure |
 * | `output`   | 3    | the machine: outputs cannot be written (disk full, no permission), nothing half-written is left under a final name; or a tool is missing (`deno task setup` installs it) |
 * | `busy`     | 4    | another live process is writing the same output; retry later         |
 * | `internal` | 70   | a bug: the message says so; `--debug` (or `IFRS9_DEBUG=1`) prints the stack |
 *
 * In a notebook, the kernel shows an uncaught error's `stack` as its
 * traceback: a {@link UserError}'s is the one line `RulesError: <message>`
 * unless `IFRS9_DEBUG=1` is set, so the notebook door needs no wrapper.
 *
 * @module
 */

/** The stacks of user-facing errors, for `--debug` (their `stack` is short). */
const fullStacks = new WeakMap<Error, string | undefined>();

/** Exit code of each kind of failure (and 0 for success). */
export const EXIT_CODES = {
  usage: 2,
  input: 2,
  check: 1,
  output: 3,
  busy: 4,
  internal: 70,
} as const;

/** The kinds of failure, each with its exit code in {@link EXIT_CODES}. */
export type FailureKind = keyof typeof EXIT_CODES;

/**
 * A failure the user can act on: the message names the file, row, key or
 * folder, what is wrong and, where there is one, the fix.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exitCodeFor, UserError } from "./errors.ts";
 * const e = new UserError("input", "rules.yaml: ecl.discount_rate: must be at most 1");
 * assert.equal(exitCodeFor(e), 2);
 * ```
 */
export class UserError extends Error {
  /** Which kind of failure, and so which exit code. */
  readonly kind: FailureKind;

  /**
   * A failure of `kind` with `message`.
   *
   * @param kind Which kind of failure.
   * @param message What is wrong, naming the file, row, key or folder.
   * @param options.cause The underlying error, kept for `--debug`.
   */
  constructor(
    kind: FailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "UserError";
    this.kind = kind;
    // A notebook kernel shows an uncaught error's `stack` as its traceback:
    // for a failure the user can act on, that is one line with the message
    // (the notebook door), unless debugging was asked for. Read lazily, so
    // a subclass's `name` set after this constructor is the one shown.
    if (!debugRequested()) {
      const stack = this.stack;
      fullStacks.set(this, stack);
      Object.defineProperty(this, "stack", {
        configurable: true,
        get: () => debugRequested() ? stack : `${this.name}: ${this.message}`,
      });
    }
  }
}

/** The kind of any thrown value: a {@link UserError}'s own, else by its cause. */
export function failureKind(e: unknown): FailureKind {
  if (e instanceof UserError) return e.kind;
  if (e instanceof Deno.errors.PermissionDenied) return "output";
  if (isNoSpace(e)) return "output";
  return "internal";
}

/** The exit code a task returns for `e`. */
export function exitCodeFor(e: unknown): number {
  return EXIT_CODES[failureKind(e)];
}

/** Whether debugging output was asked for through `IFRS9_DEBUG`. */
export function debugRequested(): boolean {
  try {
    const value = Deno.env.get("IFRS9_DEBUG");
    return value !== undefined && value !== "" && value !== "0";
  } catch {
    // Without --allow-env the variable cannot be read: no debugging.
    return false;
  }
}

/**
 * What a door prints for `e`: the message of a {@link UserError}; for a
 * full disk or a refused write, the file system's message; for anything
 * else, that it is an internal error and how to see its stack. With
 * `debug`, the stack (and the causes' stacks) follow.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { failureMessage, UserError } from "./errors.ts";
 * assert.equal(failureMessage(new UserError("input", "bad row 3")), "bad row 3");
 * assert.match(failureMessage(new TypeError("x is undefined")), /^Internal error: x is undefined/);
 * ```
 */
export function failureMessage(
  e: unknown,
  { debug = debugRequested() }: { debug?: boolean } = {},
): string {
  const message = (e as Error)?.message ?? String(e);
  const kind = failureKind(e);
  const text = kind === "internal"
    ? `Internal error: ${message}\n(this is a bug in the workspace, not in your data; rerun with --debug or IFRS9_DEBUG=1 for the stack trace and report it)`
    : kind === "output" && !(e instanceof UserError)
    ? `Cannot write the outputs: ${message}`
    : message;
  if (!debug) return text;
  const stacks: string[] = [];
  for (
    let c: unknown = e;
    c instanceof Error && stacks.length < 5;
    c = c.cause
  ) {
    stacks.push((fullStacks.has(c) ? fullStacks.get(c) : c.stack) ?? String(c));
  }
  return `${text}\n\n${stacks.join("\n\nCaused by: ")}`;
}

/** Node-style errors (from npm packages) report a full disk by code. */
function isNoSpace(e: unknown): boolean {
  return typeof e === "object" && e !== null &&
    ((e as { code?: unknown }).code === "ENOSPC" ||
      /No space left on device|os error 28/.test(String((e as Error).message)));
}
