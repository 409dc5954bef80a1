/**
 * Tests of the `deno task validate` entry (tasks/validate.ts), its `main`
 * called in-process: what it prints and writes, and its exit codes (0
 * passed, 1 above the reject limit, 2 an unusable input or a usage error;
 * the refused --out paths and a full disk: tests/hardening/outputs_test.ts).
 * The process itself is checked once with every task's in
 * tests/tasks/cli_test.ts.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../../tasks/validate.ts";
import { callMain, withTempDir } from "../tasks/_main.ts";
import { csv, GOOD_CARD, GOOD_MORTGAGE, type Row } from "./_fixture.ts";

/** 20 good rows and `bad` rows with a negative balance, as a CSV file. */
async function portfolio(dir: string, bad: number): Promise<string> {
  const rows: Row[] = Array.from({ length: 20 }, (_, i) => ({
    ...(i % 2 ? GOOD_CARD : GOOD_MORTGAGE),
    loan_id: `G${i}`,
  }));
  for (let i = 0; i < bad; i++) {
    rows.push({ ...GOOD_MORTGAGE, loan_id: `B${i}`, balance: "-1" });
  }
  const path = join(dir, `book_${bad}.csv`);
  await Deno.writeTextFile(path, csv(rows));
  return path;
}

const args = (portfolio: string, out: string) => [
  "--portfolio",
  portfolio,
  "--rules",
  "config/ifrs9_rules.yaml",
  "--out",
  out,
];

Deno.test("tasks/validate.ts main() exits 0 on a clean file and writes the three outputs", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "out");
    const r = await callMain(main, ...args(await portfolio(dir, 0), out));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /20 rows read, 20 valid, 0 rejected \(0\.00%\)/);
    for (
      const f of ["valid.parquet", "rejected.parquet", "data_quality.json"]
    ) {
      assert.ok((await Deno.stat(join(out, f))).isFile, f);
    }
  });
});

Deno.test("tasks/validate.ts main() exits 1 above the reject limit, with the outputs written", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "out");
    const r = await callMain(main, ...args(await portfolio(dir, 5), out));
    assert.equal(r.code, 1);
    assert.match(r.stdout, /BALANCE_NEGATIVE: 5 of 25/);
    assert.match(r.stderr, new RegExp(`; outputs written to ${out}`));
    assert.ok((await Deno.stat(join(out, "data_quality.json"))).isFile);
  });
});

Deno.test("tasks/validate.ts main() exits 2 on an unusable portfolio or rules file, naming it", async () => {
  await withTempDir(async (dir) => {
    const empty = join(dir, "empty.csv");
    await Deno.writeTextFile(empty, "");
    const unreadable = await callMain(main, ...args(empty, join(dir, "out")));
    assert.equal(unreadable.code, 2);
    assert.match(
      unreadable.stderr,
      new RegExp(`^Cannot read portfolio ${empty}`),
    );
    const rules = await callMain(
      main,
      "--portfolio",
      empty,
      "--rules",
      join(dir, "none.yaml"),
      "--out",
      join(dir, "out"),
    );
    assert.equal(rules.code, 2);
    assert.match(rules.stderr, /^Cannot load rules file .*none\.yaml/);
  });
});

Deno.test("tasks/validate.ts main() exits 2 on usage errors, naming the flags", async () => {
  const missing = await callMain(main, "--portfolio", "x.csv");
  assert.equal(missing.code, 2);
  assert.match(
    missing.stderr,
    /^--rules and --out are required\. Usage: deno task validate /,
  );
  const date = await callMain(
    main,
    ...args("x.csv", "out"),
    "--reporting-date",
    "2025-13-01",
  );
  assert.equal(date.code, 2);
  assert.match(
    date.stderr,
    /^--reporting-date must be a date YYYY-MM-DD, got 2025-13-01/,
  );
});
