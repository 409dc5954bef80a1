/**
 * `deno task setup [--check]`: installs what the tests and notebooks need
 * beyond npm packages (see lib/setup). `deno task test` runs it first.
 *
 * Exit codes: 0 everything is there; 1 something is missing after the step
 * (with `--check`, nothing is installed: it only reports) or could not be
 * installed; 2 a usage error.
 *
 * @module
 */
import { TaskCommand } from "./_args.ts";
import { ensureEnvironment } from "../lib/setup/mod.ts";

export const command = new TaskCommand({
  command: "deno task setup",
  synopsis: "[--check]",
  flags: `  --check  only report what is missing; install nothing`,
  options: { check: { type: "boolean", default: false } },
});

/** Runs `deno task setup` with `args`; returns the exit code. */
export function main(args: string[]): Promise<number> {
  return command.run(args, async ({ values }) => {
    const report = await ensureEnvironment({ install: !values.check });
    if (report.ok) return 0;
    console.error("setup: something is missing; run `deno task setup`");
    return 1;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
