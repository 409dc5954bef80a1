/**
 * The tasks' one command-line parser, on `node:util`'s `parseArgs`. Each
 * entry file declares its flags and usage once ({@link TaskCommand}) and
 * exports `main(args)`, returning its exit code, so every task answers the
 * same way and a test calls it in-process:
 *
 * - `--help` / `-h` prints the usage; exit code 0;
 * - unknown flags (with the nearest known name), flags without their
 *   value, missing required flags: every one of them on one line, with the
 *   task's usage; a bad number or date: one line naming the flag; exit
 *   code 2;
 * - any other failure: one message naming the file, row, key or folder,
 *   and the exit code of its kind (`lib/errors.ts`: 2 a bad input, 1 a
 *   failed check, 3 outputs that cannot be written, 4 an output another
 *   process is writing, 70 a bug); `--debug` (every task takes it) or
 *   `IFRS9_DEBUG=1` adds the stack.
 *
 * @module
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { closest, distance } from "fastest-levenshtein";
import {
  debugRequested,
  exitCodeFor,
  failureMessage,
  UserError,
} from "../lib/mod.ts";

/** A command line the task cannot run with; exit code 2. */
export class UsageError extends UserError {
  /**
   * The error.
   *
   * @param message What is wrong with the command line.
   */
  constructor(message: string) {
    super("usage", message);
    this.name = "UsageError";
  }
}

/** What a task's command line looks like. */
export interface TaskSpec<O extends ParseArgsOptionsConfig> {
  /** How the task is started: `deno task run`. */
  command: string;
  /** Its flags on one line: `--portfolio PATH [--rules PATH]`. */
  synopsis: string;
  /** One line per flag, printed by `--help` under the synopsis. */
  flags?: string;
  /** The flags, as `parseArgs` takes them. */
  options: O;
  /** Whether arguments that are not flags are accepted. @default false */
  positionals?: boolean;
  /**
   * Flags the task cannot run without: a command line that lacks any is
   * refused together with every other problem it has.
   */
  required?: readonly (keyof O & string)[];
}

const parse = <O extends ParseArgsOptionsConfig>(
  args: string[],
  options: O,
  allowPositionals: boolean,
) => parseArgs({ args, options, strict: true, allowPositionals });

/** The parsed command line: each flag's value, and any bare arguments. */
export type Parsed<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parse<O>
>;

/** A task's command line: its usage, its parser and its exit codes. */
export class TaskCommand<const O extends ParseArgsOptionsConfig> {
  constructor(readonly spec: TaskSpec<O>) {}

  /** What `--help` prints. */
  get usage(): string {
    const { flags } = this.spec;
    const debug = "  --debug           on failure, print the stack trace too";
    return `Usage: ${this.line}\n\n${flags ? `${flags}\n` : ""}${debug}`;
  }

  /** The command and its flags on one line. */
  private get line(): string {
    const { command, synopsis } = this.spec;
    return synopsis ? `${command} ${synopsis}` : command;
  }

  /**
   * Parses `args`, or throws a {@link UsageError} naming every unknown,
   * valueless or missing flag at once.
   */
  parse(args: string[]): Parsed<O> {
    const { options, positionals = false, required = [] } = this.spec;
    args = withNegativeValues(args, options);
    const problems = problemsWith(args, options, positionals, required);
    if (problems.length > 0) throw new UsageError(problems.join("; "));
    return parse(args, options, positionals);
  }

  /**
   * Runs the task: `--help` prints the usage (0); otherwise `body` gets the
   * parsed flags and returns the exit code. A {@link UsageError} gives one
   * line and 2; any other error its message and the exit code of its kind
   * (with `--debug` or `IFRS9_DEBUG` set, its stack).
   */
  async run(
    args: string[],
    body: (parsed: Parsed<O>) => Promise<number>,
  ): Promise<number> {
    if (args.includes("--help") || args.includes("-h")) {
      console.log(this.usage);
      return 0;
    }
    const debug = args.includes("--debug") || debugRequested();
    try {
      return await body(this.parse(args.filter((a) => a !== "--debug")));
    } catch (e) {
      if (e instanceof UsageError) {
        console.error(
          `${e.message}. Usage: ${this.line} (--help describes each flag)`,
        );
        return 2;
      }
      console.error(failureMessage(e, { debug }));
      return exitCodeFor(e);
    }
  }
}

/**
 * `args` with a negative number after a flag that takes a value joined to
 * it (`--tolerance -1` becomes `--tolerance=-1`): the parser would take
 * `-1` for a flag and say the value is missing, where the helpful answer
 * is the flag's own range check (`--tolerance must be a number >= 0`).
 */
function withNegativeValues(
  args: string[],
  options: ParseArgsOptionsConfig,
): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = /^--([^=]+)$/.exec(args[i])?.[1];
    const next = args[i + 1];
    if (
      name !== undefined && options[name]?.type === "string" &&
      next !== undefined && /^-(\d|\.\d)/.test(next)
    ) {
      joined.push(`${args[i]}=${next}`);
      i++;
    } else {
      joined.push(args[i]);
    }
  }
  return joined;
}

/**
 * Everything wrong with `args`: arguments that are not flags, unknown flags
 * (with the nearest known name when one is close), flags without their
 * value or with one they do not take, and required flags not given.
 */
export function problemsWith(
  args: string[],
  options: ParseArgsOptionsConfig,
  allowPositionals: boolean,
  requiredFlags: readonly string[] = [],
): string[] {
  const { tokens } = parseArgs({ args, options, strict: false, tokens: true });
  const problems: string[] = [];
  const given = new Set<string>();
  // The argument after an unknown flag is taken as its value, not reported
  // again as a stray argument (`--loan 5` is one mistake).
  let unknownAt = -1;
  for (const token of tokens) {
    if (token.kind === "positional" && !allowPositionals) {
      if (unknownAt < 0 || token.index !== unknownAt + 1) {
        problems.push(`unexpected argument ${token.value}`);
      }
    }
    if (token.kind !== "option") continue;
    const option = options[token.name];
    if (given.has(token.name) && option !== undefined && !option.multiple) {
      // The last one would win silently: which did the user mean?
      problems.push(`${token.rawName} is given more than once`);
    }
    given.add(token.name);
    if (option === undefined) {
      if (token.inlineValue !== true) unknownAt = token.index;
      problems.push(
        `unknown flag ${token.rawName}${suggestion(token.name, options)}`,
      );
    } else if (option.type === "boolean" && token.value !== undefined) {
      problems.push(`${token.rawName} takes no value`);
    } else if (
      option.type === "string" &&
      (token.value === undefined ||
        (!token.inlineValue && token.value.startsWith("-")))
    ) {
      problems.push(`${token.rawName} needs a value`);
    } else if (option.type === "string" && token.value?.trim() === "") {
      // `--out ""` would mean the working folder, silently.
      problems.push(`${token.rawName} needs a value, got an empty one`);
    }
  }
  const missing = requiredFlags.filter((f) => !given.has(f));
  if (missing.length > 0) problems.push(missingText(missing));
  return problems;
}

/**
 * `(did you mean --loans?)` when a known flag is within an edit per three
 * letters of the name typed (at least one), so `-x` suggests nothing.
 */
function suggestion(name: string, options: ParseArgsOptionsConfig): string {
  const known = Object.keys(options);
  if (known.length === 0) return "";
  const nearest = closest(name, known);
  const allowed = Math.max(1, Math.floor(name.length / 3));
  return distance(name, nearest) <= allowed
    ? ` (did you mean --${nearest}?)`
    : "";
}

/** `--to and --out are required`. */
function missingText(flags: readonly string[]): string {
  const named = flags.map((f) => `--${f}`);
  const list = named.length === 1
    ? named[0]
    : `${named.slice(0, -1).join(", ")} and ${named.at(-1)}`;
  return `${list} ${named.length === 1 ? "is" : "are"} required`;
}

/**
 * The values of the flags the task cannot run without; names every missing
 * one (`--to and --out are required`).
 */
export function required<const K extends string>(
  values: { readonly [P in K]?: string },
  ...flags: K[]
): Record<K, string> {
  const missing = flags.filter((f) => !values[f]);
  if (missing.length > 0) throw new UsageError(missingText(missing));
  return values as Record<K, string>;
}

/**
 * A numeric flag (`1_000_000` allowed), or undefined when not given.
 * `whole` asks for a whole number, `min` for a lower bound.
 */
export function number(
  flag: string,
  value: string | undefined,
  { min, whole = false }: { min?: number; whole?: boolean } = {},
): number | undefined {
  if (value === undefined) return undefined;
  // Decimal notation only: Number() would also read `0x10` as 16.
  const decimal = /^[+-]?(\d[\d_]*)?(\.\d+)?([eE][+-]?\d+)?$/.test(value) &&
    /\d/.test(value);
  const n = decimal ? Number(value.replaceAll("_", "")) : NaN;
  const what = whole ? "a whole number" : "a number";
  if (
    value.trim() === "" || !Number.isFinite(n) ||
    (whole && !Number.isInteger(n))
  ) {
    throw new UsageError(`--${flag} must be ${what}, got ${value}`);
  }
  if (min !== undefined && n < min) {
    throw new UsageError(`--${flag} must be ${what} >= ${min}, got ${value}`);
  }
  return n;
}

/** A flag holding a positive whole number, or undefined when not given. */
export function wholeNumber(
  flag: string,
  value: string | undefined,
): number | undefined {
  return number(flag, value, { whole: true, min: 1 });
}

/** A flag holding one of `allowed`, or undefined when not given. */
export function oneOf<const T extends string>(
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined || (allowed as readonly string[]).includes(value)) {
    return value as T | undefined;
  }
  throw new UsageError(
    `--${flag} must be one of ${allowed.join(", ")}, got ${value}`,
  );
}

/** A flag holding a calendar date `YYYY-MM-DD`, or undefined when not given. */
export function isoDate(
  flag: string,
  value: string | undefined,
): string | undefined {
  if (value === undefined) return undefined;
  // A real day of the calendar: 2025-02-30 is not one.
  const day = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? value : NaN);
  if (isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== value) {
    throw new UsageError(`--${flag} must be a date YYYY-MM-DD, got ${value}`);
  }
  return value;
}
