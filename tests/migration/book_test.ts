/**
 * `deno task migration` on books a user gets wrong (tasks/migration.ts,
 * lib/migration/history.ts, docs/migration.md): each refused with exit 2
 * and one line naming the file, its line and what is wrong; the states
 * given with --states / --default-state; thin states warned. The
 * estimates of the accepted books are checked against counts made here.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import { main } from "../../tasks/migration.ts";
import { callMain, withTempDir } from "../tasks/_main.ts";

/** Writes `portfolio_<date>.csv` with `loan_id,reporting_date,rating` rows. */
async function snapshot(
  dir: string,
  date: string,
  rows: [string, string][],
  rowDate = date,
) {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    join(dir, `portfolio_${date}.csv`),
    [
      "loan_id,reporting_date,rating",
      ...rows.map(([id, r]) => `${id},${rowDate},${r}`),
    ].join("\n") + "\n",
  );
}

const estimate = (book: string, out: string, ...more: string[]) =>
  callMain(
    main,
    "--book",
    book,
    "--method",
    "duration",
    "--out",
    out,
    ...more,
  );

/** One line on stderr, no stack. */
function oneLine(stderr: string) {
  assert.equal(stderr.trim().split("\n").length, 1, stderr);
  assert.doesNotMatch(stderr, /\n\s+at /);
}

Deno.test("migration: --book naming a file, an empty snapshot and a folder named like one are refused with exit 2", async () => {
  await withTempDir(async (dir) => {
    const book = join(dir, "book");
    await snapshot(book, "2025-03-31", [["a", "A"]]);
    await snapshot(book, "2025-06-30", [["a", "B"]]);
    const file = join(book, "portfolio_2025-03-31.csv");
    const r1 = await estimate(file, join(dir, "o1"));
    assert.equal(r1.code, 2);
    oneLine(r1.stderr);
    assert.match(
      r1.stderr,
      /--book .*portfolio_2025-03-31\.csv: is a file, not a folder/,
    );
    await Deno.writeTextFile(join(book, "portfolio_2025-09-30.csv"), "");
    const r2 = await estimate(book, join(dir, "o2"));
    assert.equal(r2.code, 2);
    oneLine(r2.stderr);
    assert.match(r2.stderr, /portfolio_2025-09-30\.csv is empty \(0 bytes\)/);
    await Deno.remove(join(book, "portfolio_2025-09-30.csv"));
    await Deno.mkdir(join(book, "portfolio_2025-12-31.csv"));
    const r3 = await estimate(book, join(dir, "o3"));
    assert.equal(r3.code, 2);
    oneLine(r3.stderr);
    assert.match(
      r3.stderr,
      /portfolio_2025-12-31\.csv is a directory, not a snapshot file/,
    );
  });
});

Deno.test("migration: a row of another reporting date, a loan twice and two files of one date are refused naming file and line", async () => {
  await withTempDir(async (dir) => {
    const book = join(dir, "book");
    await snapshot(book, "2025-03-31", [["a", "A"], ["b", "B"]]);
    await snapshot(book, "2025-06-30", [["a", "B"], ["b", "B"]], "2025-03-31");
    const r1 = await estimate(book, join(dir, "o"));
    assert.equal(r1.code, 2);
    oneLine(r1.stderr);
    assert.match(
      r1.stderr,
      /portfolio_2025-06-30\.csv line 2: reporting_date "2025-03-31" is not 2025-06-30, the date of the file's name/,
    );
    await snapshot(book, "2025-06-30", [["a", "B"], ["b", "B"], ["a", "A"]]);
    const r2 = await estimate(book, join(dir, "o"));
    assert.equal(r2.code, 2);
    oneLine(r2.stderr);
    assert.match(
      r2.stderr,
      /portfolio_2025-06-30\.csv: loan a appears twice \(lines 2 and 4\)/,
    );
    await snapshot(book, "2025-06-30", [["a", "B"], ["b", "B"]]);
    pl.DataFrame({
      loan_id: ["a"],
      reporting_date: ["2025-06-30"],
      rating: ["B"],
    }).writeParquet(join(book, "portfolio_2025-06-30.parquet"));
    const r3 = await estimate(book, join(dir, "o"));
    assert.equal(r3.code, 2);
    oneLine(r3.stderr);
    assert.match(
      r3.stderr,
      /portfolio_2025-06-30\.csv and .*portfolio_2025-06-30\.parquet both hold the snapshot of 2025-06-30/,
    );
  });
});

Deno.test("migration: --states orders the states and refuses a rating outside them; agency grades and look-alike default labels need them", async () => {
  await withTempDir(async (dir) => {
    const book = join(dir, "book");
    // 40 facilities in AA+, 40 in BBB-: over a quarter 4 AA+ -> BBB-,
    // 2 BBB- -> D.
    const q1: [string, string][] = [];
    const q2: [string, string][] = [];
    for (let i = 0; i < 40; i++) {
      q1.push([`u${i}`, "AA+"]);
      q2.push([`u${i}`, i < 4 ? "BBB-" : "AA+"]);
      q1.push([`v${i}`, "BBB-"]);
      q2.push([`v${i}`, i < 2 ? "D" : "BBB-"]);
    }
    await snapshot(book, "2025-03-31", q1);
    await snapshot(book, "2025-06-30", q2);
    const plain = await estimate(book, join(dir, "o"));
    assert.equal(plain.code, 2);
    oneLine(plain.stderr);
    assert.match(
      plain.stderr,
      /the ratings look like agency grades \(AA\+, BBB-\), whose alphabetical order is not best-first: give the states in order/,
    );
    const out = join(dir, "ok");
    const given = await estimate(book, out, "--states", "AA+,BBB-,D");
    assert.equal(given.code, 0, given.stderr);
    const json = JSON.parse(
      await Deno.readTextFile(join(out, "transition_matrix.json")),
    );
    assert.deepEqual(json.states, ["AA+", "BBB-", "D"]);
    // Duration counts made here: AA+ 36 x 0.25 + 4 x 0.125 = 9.5 years,
    // 4 moves; BBB- 38 x 0.25 + (4 + 2) x 0.125 = 10.25 years, 2 moves.
    assert.deepEqual(json.counts[0], [0, 4, 0]);
    assert.deepEqual(json.counts[1], [0, 0, 2]);
    assert.ok(Math.abs(json.exposure_years[0] - 9.5) < 1e-12);
    assert.ok(Math.abs(json.exposure_years[1] - 10.25) < 1e-12);
    // A rating outside --states: its file, line and value.
    const outside = await estimate(book, join(dir, "o2"), "--states", "AA+,D");
    assert.equal(outside.code, 2);
    oneLine(outside.stderr);
    assert.match(
      outside.stderr,
      /portfolio_2025-03-31\.csv line 3: rating "BBB-" is not one of the states \(AA\+, D\)/,
    );
    const clash = await estimate(
      book,
      join(dir, "o3"),
      "--states",
      "AA+,BBB-,D",
      "--default-state",
      "DEF",
    );
    assert.equal(clash.code, 2);
    assert.match(
      clash.stderr,
      /--default-state DEF must be the last of --states/,
    );
  });
});

Deno.test("migration: a default label other than D needs --default-state; case variants are refused; thin states are warned", async () => {
  await withTempDir(async (dir) => {
    const book = join(dir, "book");
    const q1: [string, string][] = [];
    const q2: [string, string][] = [];
    for (let i = 0; i < 10; i++) {
      q1.push([`a${i}`, "R1"]);
      q2.push([`a${i}`, i < 1 ? "DEF" : "R1"]);
    }
    await snapshot(book, "2025-03-31", q1);
    await snapshot(book, "2025-06-30", q2);
    const plain = await estimate(book, join(dir, "o"));
    assert.equal(plain.code, 2);
    oneLine(plain.stderr);
    assert.match(
      plain.stderr,
      /rating "DEF" looks like a default state, but the default state is D: .*give --default-state DEF/,
    );
    const out = join(dir, "ok");
    const given = await estimate(book, out, "--default-state", "DEF");
    assert.equal(given.code, 0, given.stderr);
    const json = JSON.parse(
      await Deno.readTextFile(join(out, "transition_matrix.json")),
    );
    assert.deepEqual(json.states, ["R1", "DEF"]);
    // 10 observations of R1 at the first date, 9 at the second: thin.
    assert.match(
      given.stdout,
      /warning: state R1: 19 observations only \(fewer than 30, MIN_STATE_OBSERVATIONS\)/,
    );
    // Lower-case labels beside upper-case ones.
    await snapshot(
      book,
      "2025-06-30",
      q2.map(([id, r]) => [id, r.toLowerCase()]),
    );
    const lower = await estimate(
      book,
      join(dir, "o2"),
      "--default-state",
      "DEF",
    );
    assert.equal(lower.code, 2);
    oneLine(lower.stderr);
    assert.match(lower.stderr, /ratings "R1" and "r1" differ only in case/);
    // A label that is not a grade (markup, spaces) without --states.
    await snapshot(
      book,
      "2025-06-30",
      q2.map(([id, r], i) => [id, i === 3 ? "ZZ<script>" : r]),
    );
    const odd = await estimate(book, join(dir, "o3"), "--default-state", "DEF");
    assert.equal(odd.code, 2);
    oneLine(odd.stderr);
    assert.match(odd.stderr, /rating "ZZ<script>" is not a grade label/);
  });
});

Deno.test("migration: snapshots less than a month apart are refused, not estimated as no time", async () => {
  await withTempDir(async (dir) => {
    const book = join(dir, "book");
    await snapshot(book, "2025-01-15", [["a", "A"], ["b", "B"]]);
    await snapshot(book, "2025-01-31", [["a", "B"], ["b", "D"]]);
    const r = await estimate(book, join(dir, "o"));
    assert.equal(r.code, 2);
    oneLine(r.stderr);
    assert.match(
      r.stderr,
      /the reporting dates 2025-01-15 and 2025-01-31 are 16 days apart, less than 28 \(MIN_SNAPSHOT_GAP_DAYS\)/,
    );
    await Deno.remove(book, { recursive: true });
    await snapshot(book, "2025-01-31", [["a", "A"], ["b", "B"]]);
    await snapshot(book, "2025-02-15", [["a", "B"], ["b", "D"]]);
    const r2 = await estimate(book, join(dir, "o"));
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /are 15 days apart/);
  });
});

Deno.test("migration: a state nobody left is estimated absorbing and warned (its facilities would never default)", async () => {
  await withTempDir(async (dir) => {
    const book = join(dir, "book");
    const q1: [string, string][] = [];
    const q2: [string, string][] = [];
    for (let i = 0; i < 40; i++) {
      q1.push([`a${i}`, "A"], [`b${i}`, "B"]);
      q2.push([`a${i}`, i < 2 ? "D" : "A"], [`b${i}`, "B"]);
    }
    await snapshot(book, "2025-03-31", q1);
    await snapshot(book, "2025-06-30", q2);
    const out = join(dir, "o");
    const r = await estimate(book, out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /warning: state B is absorbing \(B -> B = 1\): its facilities never default/,
    );
    assert.doesNotMatch(r.stdout, /state A is absorbing/);
    const json = JSON.parse(
      await Deno.readTextFile(join(out, "transition_matrix.json")),
    );
    assert.deepEqual(json.rows[1], [0, 1, 0]);
    assert.ok(
      json.warnings.some((w: string) => w.startsWith("state B is absorbing")),
    );
  });
});
