/**
 * Calling a task's `main(args)` in-process, as its tests do: the exit code
 * it returns and what it printed, each stream as one string.
 *
 * @module
 */
import { format } from "node:util";

/** What one call of a task's `main` returned and printed. */
export interface MainResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Calls `main(args)` with `console` captured (`log` and `info` to stdout,
 * `error` and `warn` to stderr, formatted as the console formats them),
 * restoring it afterwards whatever happens.
 */
export async function callMain(
  main: (args: string[]) => Promise<number>,
  ...args: string[]
): Promise<MainResult> {
  const out: string[] = [];
  const err: string[] = [];
  const saved = {
    log: console.log,
    info: console.info,
    error: console.error,
    warn: console.warn,
  };
  const to = (lines: string[]) => (...data: unknown[]) => {
    lines.push(format(...data) + "\n");
  };
  Object.assign(console, {
    log: to(out),
    info: to(out),
    error: to(err),
    warn: to(err),
  });
  try {
    const code = await main(args);
    return { code, stdout: out.join(""), stderr: err.join("") };
  } finally {
    Object.assign(console, saved);
  }
}

/** A temporary folder for `body`, removed afterwards whatever happens. */
export async function withTempDir<T>(
  body: (dir: string) => Promise<T>,
  prefix = "task_test_",
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    return await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Runs the task file `file` as its own process (`deno run -A file ...args`)
 * with `env` added to this process's environment (a task run this way
 * does not see an isolate's own settings, such as the S3 ones of
 * `tests/storage/_s3.ts`): its exit code and both streams.
 */
export async function runTaskProcess(
  file: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<MainResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", file, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}
