/**
 * `deno task setup [--check]`: installs what the tests and notebooks need
 * beyond npm packages (see lib/setup). `deno task test` runs it first.
 * With `--check` it only reports and exits 1 when something is missing.
 *
 * @module
 */
import { ensureEnvironment, SetupError } from "../lib/setup/mod.ts";

const args = Deno.args;
const unknown = args.filter((a) => a !== "--check");
if (unknown.length > 0) {
  console.error(
    `Unknown argument ${unknown[0]}; usage: deno task setup [--check]`,
  );
  Deno.exit(2);
}

try {
  const report = await ensureEnvironment({
    install: !args.includes("--check"),
  });
  if (!report.ok) {
    console.error("setup: something is missing; run `deno task setup`");
    Deno.exit(1);
  }
} catch (err) {
  if (err instanceof SetupError) {
    console.error(err.message);
    Deno.exit(1);
  }
  throw err;
}
