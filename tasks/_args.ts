/**
 * Command-line parsing shared by the task entry files: strict flags, `-h`
 * / `--help` printing the usage text, and usage errors that print the
 * problem plus the usage and exit with code 2 (bad arguments), so every
 * task answers a typo the same way.
 *
 * @module
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";

/**
 * A task's usage text and its flag errors. Declare the instance with its
 * type (`const cli: TaskCli = ...`) so `cli.fail()` narrows like a throw.
 */
export class TaskCli {
  constructor(readonly usageText: string) {}

  /** Prints `message` and the usage, then exits with code 2. */
  fail(message: string): never {
    console.error(`${message}\n\n${this.usageText}`);
    Deno.exit(2);
  }

  /**
   * Parses `Deno.args` strictly against `options`; `-h` / `--help` prints
   * the usage and exits 0.
   */
  parse<const T extends ParseArgsOptionsConfig>(options: T) {
    if (Deno.args.some((a) => a === "-h" || a === "--help")) {
      console.log(this.usageText);
      Deno.exit(0);
    }
    try {
      return parseArgs({ args: Deno.args, options, strict: true }).values;
    } catch (e) {
      this.fail((e as Error).message);
    }
  }

  /**
   * A flag holding a positive whole number (`1_000_000` allowed), or
   * undefined when the flag was not given.
   */
  wholeNumber(flag: string, value: string | undefined): number | undefined {
    if (value === undefined) return undefined;
    const n = Number(value.replaceAll("_", ""));
    if (!Number.isInteger(n) || n < 1) {
      this.fail(`--${flag} must be a positive whole number, got ${value}`);
    }
    return n;
  }
}
