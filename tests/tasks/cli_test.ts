/**
 * Every task's entry file answers its command line the same way
 * (tasks/_args.ts): `--help` prints its usage and returns 0; an unknown
 * flag, a flag without its value or a bad number returns 2 with one line
 * naming the flag and the usage. Each entry's `main` is called in-process;
 * one end-to-end test starts, as processes, the entries that have no task
 * test of their own (`run` and `movement` have theirs).
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import * as bench from "../../tasks/bench.ts";
import * as demo from "../../tasks/demo.ts";
import * as generate from "../../tasks/generate.ts";
import * as movement from "../../tasks/movement.ts";
import * as notebooks from "../../tasks/notebooks.ts";
import * as run from "../../tasks/run.ts";
import * as setup from "../../tasks/setup.ts";
import * as validate from "../../tasks/validate.ts";
import * as clean from "../../tasks/clean.ts";
import * as serve from "../../tasks/serve.ts";
import * as token from "../../tasks/token.ts";
import * as dashboards from "../../dashboards/build.ts";
import { callMain } from "./_main.ts";

interface Entry {
  main: (args: string[]) => Promise<number>;
  command: { usage: string; spec: { command: string } };
}

/** Each entry file, with a usage error of each kind it can have. */
const ENTRIES: [string, Entry, [string[], string][]][] = [
  ["tasks/run.ts", run, [
    [["--portfolio"], "--portfolio needs a value"],
    [
      ["--portfolio", "p", "--chunk-size", "x"],
      "--chunk-size must be a whole number, got x",
    ],
  ]],
  ["tasks/movement.ts", movement, [
    [["--from"], "--from needs a value"],
    [
      ["--from", "a", "--to", "b", "--out", "c", "--tolerance", "x"],
      "--tolerance must be a number, got x",
    ],
  ]],
  ["tasks/generate.ts", generate, [
    [["--out"], "--out needs a value"],
  ]],
  ["tasks/validate.ts", validate, [
    [["--rules"], "--rules needs a value"],
  ]],
  ["tasks/notebooks.ts", notebooks, [
    [["--only"], "--only needs a value"],
    [["--loans", "0"], "--loans must be a whole number >= 1, got 0"],
    // A notebook name it does not know is a usage error, not a failure.
    [["--only", "nope"], "No notebook nope in "],
  ]],
  ["tasks/bench.ts", bench, [
    [["--loans", "many"], "--loans must be a whole number, got many"],
  ]],
  ["tasks/setup.ts", setup, [
    [["--check=no"], "--check takes no value"],
  ]],
  ["tasks/demo.ts", demo, [
    [["sample"], "unexpected argument sample"],
  ]],
  ["tasks/clean.ts", clean, [
    [["--out"], "--out needs a value"],
  ]],
  ["tasks/serve.ts", serve, [
    [["--port"], "--port needs a value"],
  ]],
  ["tasks/token.ts", token, [
    [["--scope"], "--scope needs a value"],
  ]],
  ["dashboards/build.ts", dashboards, [
    [["--out", "d.html"], "--runs needs at least one run folder"],
  ]],
];

Deno.test("every task's main() prints its usage on --help and returns 0", async () => {
  for (const [file, entry] of ENTRIES) {
    const r = await callMain(entry.main, "--help");
    assert.equal(r.code, 0, file);
    assert.equal(r.stdout, `${entry.command.usage}\n`, file);
    assert.ok(
      r.stdout.startsWith(`Usage: ${entry.command.spec.command}`),
      file,
    );
  }
});

Deno.test("every task's main() returns 2 with one line naming the flag and the usage", async () => {
  for (const [file, entry, cases] of ENTRIES) {
    for (
      const [args, problem] of [
        [["--bogus"], "unknown flag --bogus"],
        ...cases,
      ] as const
    ) {
      const r = await callMain(entry.main, ...args);
      assert.equal(r.code, 2, `${file} ${args.join(" ")}`);
      const usage = entry.command.usage.split("\n")[0];
      // The problem first; then any other (a required flag not given), all
      // on the one line that ends with the usage.
      assert.ok(r.stderr.startsWith(problem), `${file}: ${r.stderr}`);
      assert.ok(
        r.stderr.endsWith(`. ${usage} (--help describes each flag)\n`),
        `${file}: ${r.stderr}`,
      );
      assert.equal(r.stderr.split("\n").length, 2, file);
    }
  }
});

Deno.test("the entry files without a task test of their own exit 2 on a usage error as processes (end to end)", async () => {
  const files = ENTRIES.map(([file]) => file).filter((f) =>
    f !== "tasks/run.ts" && f !== "tasks/movement.ts"
  );
  const outputs = await Promise.all(
    files.map((file) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          fileURLToPath(new URL(`../../${file}`, import.meta.url)),
          "--bogus",
        ],
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).output()
    ),
  );
  outputs.forEach((out, i) => {
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 2, `${files[i]}: ${stderr}`);
    assert.match(stderr, /^unknown flag --bogus[.;] .*Usage: .*\n$/, files[i]);
  });
});
