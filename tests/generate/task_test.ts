/**
 * Tests of the `deno task generate` entry (tasks/generate.ts), its `main`
 * called in-process: the snapshots it writes and prints, and a usage error
 * (exit code 2) for each kind of bad flag, including the ranges the
 * generator itself checks. The process itself is checked once with every
 * task's in tests/tasks/cli_test.ts.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../../tasks/generate.ts";
import { callMain, withTempDir } from "../tasks/_main.ts";

const BOOK = ["--loans", "40", "--seed", "7", "--reporting-date", "2025-12-31"];

Deno.test("tasks/generate.ts main() writes one snapshot per quarter and prints each", async () => {
  await withTempDir(async (dir) => {
    const r = await callMain(
      main,
      ...BOOK,
      "--periods",
      "2",
      "--format",
      "csv",
      "--out",
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.deepEqual(
      lines.map((l) => l.split(":")[0]),
      [
        join(dir, "portfolio_2025-12-31.csv"),
        join(dir, "portfolio_2026-03-31.csv"),
      ],
    );
    assert.match(lines[0], /: 40 rows$/);
    // The progress line is drawn on a terminal only: a scheduler's log
    // gets the result lines and nothing else.
    assert.equal(r.stderr, "");
  });
});

Deno.test("tasks/generate.ts main() exits 2 naming the flag of a usage error", async () => {
  const cases: [string[], RegExp][] = [
    [["--loans", "40"], /^--reporting-date and --out are required\./],
    [
      ["--loans", "4O", "--reporting-date", "2025-12-31", "--out", "x"],
      /^--loans must be a whole number, got 4O\./,
    ],
    [
      ["--loans", "40", "--reporting-date", "2025-02-30", "--out", "x"],
      /^--reporting-date must be a date YYYY-MM-DD, got 2025-02-30\./,
    ],
    [
      [...BOOK, "--out", "x", "--format", "xlsx"],
      /^--format must be one of parquet, csv, got xlsx\./,
    ],
    // A range only the generator knows, refused before anything is written.
    [
      [...BOOK, "--out", "x", "--periods", "120"],
      /--periods 120 must be a whole number from 1 to 99\./,
    ],
  ];
  for (const [args, message] of cases) {
    const r = await callMain(main, ...args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, message);
    assert.match(r.stderr, /Usage: deno task generate --loans N /);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
});

Deno.test("tasks/generate.ts main() defaults the seed to 42", async () => {
  await withTempDir(async (dir) => {
    const book = ["--loans", "40", "--reporting-date", "2025-12-31"];
    const a = await callMain(main, ...book, "--out", join(dir, "a"));
    const b = await callMain(
      main,
      ...book,
      "--seed",
      "42",
      "--out",
      join(dir, "b"),
    );
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const bytes = (sub: string) =>
      Deno.readFile(join(dir, sub, "portfolio_2025-12-31.parquet"));
    assert.deepEqual(await bytes("a"), await bytes("b"));
  });
});
