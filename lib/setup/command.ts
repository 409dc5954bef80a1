/**
 * Running external commands for the setup step, behind an injectable
 * {@link CommandRunner} so the install logic can be tested without root,
 * apt or a network.
 *
 * @module
 */

/** What a finished command left behind. */
export interface CommandResult {
  /** Exit code; 127 when the program is not on `PATH` (as a shell says). */
  code: number;
  /** What it printed on standard output. */
  stdout: string;
  /** What it printed on standard error. */
  stderr: string;
}

/** Options of one command invocation. */
export interface CommandOptions {
  /** Extra environment variables on top of the current environment. */
  env?: Record<string, string>;
}

/**
 * Runs `argv[0]` with arguments `argv[1..]` and resolves with its result; it
 * never rejects for a failing or missing program, so callers branch on
 * `code` alone.
 */
export type CommandRunner = (
  argv: readonly string[],
  options?: CommandOptions,
) => Promise<CommandResult>;

/**
 * The real {@link CommandRunner}: `Deno.Command` with captured output. A
 * program that is not installed yields code 127 and a `not found` stderr
 * rather than an exception, because "missing" is the normal answer of a
 * probe.
 */
export const runCommand: CommandRunner = async (argv, options = {}) => {
  const [program, ...args] = argv;
  try {
    const out = await new Deno.Command(program, {
      args,
      env: options.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      return { code: 127, stdout: "", stderr: `${program}: not found` };
    }
    throw err;
  }
};

/** A command line as a user would type it, for messages. */
export function formatCommand(argv: readonly string[]): string {
  return argv.map((a) => /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`).join(" ");
}

/** The last `lines` non-empty lines of a command's output, for messages. */
export function tail(text: string, lines = 10): string {
  return text.split("\n").filter((l) => l.trim() !== "").slice(-lines).join(
    "\n",
  );
}
