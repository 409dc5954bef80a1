/**
 * Tests of the tasks' command-line parser (tasks/_args.ts): `--help`, the
 * one-line usage errors naming the flag (exit code 2), failed runs (exit
 * code 1), and the value helpers.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  isoDate,
  number,
  oneOf,
  required,
  TaskCommand,
  UsageError,
  wholeNumber,
} from "../../tasks/_args.ts";
import { callMain } from "./_main.ts";
import { UserError } from "../../lib/mod.ts";

const command = new TaskCommand({
  command: "deno task example",
  synopsis: "--in PATH [--loans N] [--dry]",
  flags: "  --in PATH  input\n  --loans N  loans\n  --dry      dry run",
  options: {
    in: { type: "string" },
    loans: { type: "string" },
    dry: { type: "boolean", default: false },
  },
});

/** The example task: prints its flags; fails when --in is `fail`. */
const example = (args: string[]) =>
  command.run(args, async ({ values }) => {
    const { in: input } = required(values, "in");
    const loans = wholeNumber("loans", values.loans);
    if (input === "fail") {
      throw new UserError("input", "Cannot read fail: no such file");
    }
    if (input === "check") {
      throw new UserError("check", "3 rows rejected, above the limit");
    }
    if (input === "bug") throw new TypeError("boom");
    console.log(JSON.stringify({ input, loans, dry: values.dry }));
    return await Promise.resolve(0);
  });

Deno.test("TaskCommand.run() gives the parsed flags to the task and returns its exit code", async () => {
  const r = await callMain(
    example,
    "--in",
    "a.csv",
    "--loans",
    "1_000",
    "--dry",
  );
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    input: "a.csv",
    loans: 1000,
    dry: true,
  });
});

Deno.test("TaskCommand.run() prints the usage on --help or -h and returns 0", async () => {
  for (const flag of ["--help", "-h"]) {
    // Even beside a flag it does not know: help is what was asked for.
    const r = await callMain(example, "--bogus", flag);
    assert.equal(r.code, 0);
    assert.equal(
      r.stdout,
      "Usage: deno task example --in PATH [--loans N] [--dry]\n\n" +
        "  --in PATH  input\n  --loans N  loans\n  --dry      dry run\n" +
        "  --debug           on failure, print the stack trace too\n",
    );
    assert.equal(r.stderr, "");
  }
});

Deno.test("TaskCommand.run() answers each usage error with one line naming the flag and the usage, and 2", async () => {
  const cases: [string[], string][] = [
    [["--in", "a", "--bogus"], "unknown flag --bogus"],
    [["--in", "a", "-x"], "unknown flag -x"],
    [["--in"], "--in needs a value"],
    [["--in", "--dry"], "--in needs a value"],
    [["--in", "a", "--dry=yes"], "--dry takes no value"],
    [["--in", "a", "extra"], "unexpected argument extra"],
    [["--dry"], "--in is required"],
    [
      ["--in", "a", "--loans", "ten"],
      "--loans must be a whole number, got ten",
    ],
    [
      ["--in", "a", "--loans", "0"],
      "--loans must be a whole number >= 1, got 0",
    ],
  ];
  for (const [args, problem] of cases) {
    const r = await callMain(example, ...args);
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(
      r.stderr,
      `${problem}. Usage: deno task example --in PATH [--loans N] [--dry] (--help describes each flag)\n`,
    );
    assert.equal(r.stdout, "");
  }
});

Deno.test("TaskCommand.run() prints a user-facing failure's message without a stack, and its kind's exit code", async () => {
  const r = await callMain(example, "--in", "fail");
  assert.equal(r.code, 2);
  assert.equal(r.stderr, "Cannot read fail: no such file\n");
  const check = await callMain(example, "--in", "check");
  assert.equal(check.code, 1);
  assert.equal(check.stderr, "3 rows rejected, above the limit\n");
});

Deno.test("TaskCommand.run() calls an unexpected error a bug, and prints its stack only with --debug", async () => {
  const r = await callMain(example, "--in", "bug");
  assert.equal(r.code, 70);
  assert.match(r.stderr, /^Internal error: boom\n\(this is a bug/);
  assert.doesNotMatch(r.stderr, /\bat /);
  const debug = await callMain(example, "--in", "bug", "--debug");
  assert.equal(debug.code, 70);
  assert.match(debug.stderr, /TypeError: boom\n\s+at /);
});

Deno.test("TaskCommand.parse() accepts bare arguments only when the task says so", () => {
  const runs = new TaskCommand({
    command: "deno run dashboards/build.ts",
    synopsis: "--runs DIR...",
    options: { runs: { type: "string", multiple: true } },
    positionals: true,
  });
  const { values, positionals } = runs.parse(["--runs", "a", "b", "c"]);
  assert.deepEqual([values.runs, positionals], [["a"], ["b", "c"]]);
  assert.throws(() => command.parse(["b"]), UsageError);
});

Deno.test("required() names every missing flag at once", () => {
  assert.deepEqual(required({ a: "1", b: "2" }, "a", "b"), { a: "1", b: "2" });
  assert.throws(
    () => required({ a: "1" }, "a", "b", "c"),
    { name: "UsageError", message: "--b and --c are required" },
  );
  assert.throws(
    () => required({}, "from", "to", "out"),
    { message: "--from, --to and --out are required" },
  );
  assert.throws(() => required({ a: "" }, "a"), { message: "--a is required" });
});

Deno.test("number(), wholeNumber(), oneOf() and isoDate() read a flag's value or name it", () => {
  assert.equal(number("x", undefined), undefined);
  assert.equal(number("tolerance", "0.005", { min: 0 }), 0.005);
  assert.equal(number("seed", "-3", { whole: true }), -3);
  assert.throws(() => number("seed", "1.5", { whole: true }), {
    message: "--seed must be a whole number, got 1.5",
  });
  assert.throws(() => number("tolerance", "-1", { min: 0 }), {
    message: "--tolerance must be a number >= 0, got -1",
  });
  assert.throws(() => number("tolerance", " "), UsageError);
  assert.equal(wholeNumber("loans", "1_000_000"), 1_000_000);
  assert.equal(oneOf("format", "csv", ["parquet", "csv"]), "csv");
  assert.throws(() => oneOf("format", "xlsx", ["parquet", "csv"]), {
    message: "--format must be one of parquet, csv, got xlsx",
  });
  assert.equal(isoDate("reporting-date", "2024-02-29"), "2024-02-29");
  for (const bad of ["2025-02-29", "2025-13-01", "31/12/2025", "2025-1-1"]) {
    assert.throws(() => isoDate("reporting-date", bad), {
      message: `--reporting-date must be a date YYYY-MM-DD, got ${bad}`,
    });
  }
});

Deno.test("TaskCommand.parse() reports every unknown, valueless and missing flag at once, with the nearest name", () => {
  const strict = new TaskCommand({
    command: "deno task example",
    synopsis: "--in PATH --out DIR [--loans N]",
    options: {
      in: { type: "string" },
      out: { type: "string" },
      loans: { type: "string" },
    },
    required: ["in", "out"],
  });
  // One attempt tells everything: before, only the first problem was named.
  assert.throws(
    () => strict.parse(["--loan", "5", "--bogus", "--in"]),
    (e: Error) =>
      e instanceof UsageError &&
      e.message ===
        "unknown flag --loan (did you mean --loans?); unknown flag --bogus; --in needs a value; --out is required",
  );
  // A flag far from every known name gets no suggestion; a typo does.
  assert.throws(
    () => strict.parse(["--in", "a", "--ot", "b"]),
    /unknown flag --ot \(did you mean --out\?\); --out is required/,
  );
  assert.deepEqual({ ...strict.parse(["--in", "a", "--out", "b"]).values }, {
    in: "a",
    out: "b",
  });
});

Deno.test("TaskCommand.run() takes a negative number after a flag as its value, so the range check answers", async () => {
  for (
    const args of [["--in", "a", "--loans", "-3"], ["--in", "a", "--loans=-3"]]
  ) {
    const r = await callMain(example, ...args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(
      r.stderr,
      /^--loans must be a whole number >= 1, got -3\. Usage/,
    );
  }
  // A flag after a flag is still a missing value.
  const r = await callMain(example, "--in", "--dry");
  assert.match(r.stderr, /^--in needs a value/);
});

Deno.test("TaskCommand.run() refuses a flag given twice, an empty value and a number not in decimal notation", async () => {
  const cases: [string[], RegExp][] = [
    [["--in", "a", "--in", "b"], /^--in is given more than once/],
    [["--in", ""], /^--in needs a value, got an empty one/],
    [
      ["--in", "a", "--loans", "0x10"],
      /^--loans must be a whole number, got 0x10/,
    ],
  ];
  for (const [args, message] of cases) {
    const r = await callMain(example, ...args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, message);
  }
  // Underscores and exponents are decimal notation.
  const ok = await callMain(example, "--in", "a", "--loans", "1_000");
  assert.equal(ok.code, 0, ok.stderr);
});
