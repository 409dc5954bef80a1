/**
 * Hardening of the outputs (issue 10, "Atomic outputs everywhere" and
 * "Only trusted runs are read"): every output is written under a
 * temporary name and renamed last, so a full disk leaves nothing under a
 * final name; an output path is checked before anything is computed; only
 * complete runs are read by the movement, the dashboard, the report's
 * comparison and the BI export; a movement between runs of different
 * rules names the parameters that differ; stale staging folders of killed
 * runs are removed; a run that fails while failing reports the first
 * error and still sets its folder aside; `--tolerance` is bounded.
 *
 * A full disk is simulated by a writer that writes part of a file and then
 * fails as the file system does (`No space left on device (os error 28)`),
 * given through the `writer` option of each output function; a failed
 * write inside a run by a folder standing where the run writes a file (a
 * write fails on it whoever the user is, root included). Runnable alone:
 * `deno test -A tests/hardening/outputs_test.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import {
  computeMovement,
  exportStarSchema,
  loadRules,
  readRunFolder,
  RejectRateError,
  RunFailedError,
  RunFolderReadError,
  runPortfolio,
  scanPortfolio,
  UserError,
  validatePortfolio,
  writeDashboard,
  writeMovementOutputs,
  writeRunReport,
  writeValidationOutputs,
} from "../../lib/mod.ts";
import type { FileWriter } from "../../lib/run_folder/mod.ts";
import { writeOutputFolder } from "../../lib/run_folder/mod.ts";
import { main as validateMain } from "../../tasks/validate.ts";
import { main as movementMain } from "../../tasks/movement.ts";
import { main as dashboardMain } from "../../dashboards/build.ts";
import { writeFixtureRun } from "../report/_run_fixture.ts";
import { writePortfolio } from "../run/_portfolio.ts";
import { callMain, withTempDir } from "../tasks/_main.ts";
import {
  csv,
  GOOD_CARD,
  GOOD_MORTGAGE,
  type Row,
} from "../validation/_fixture.ts";
import { twoRuns } from "../movement/_two_runs.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const RULES = join(ROOT, "config/ifrs9_rules.yaml");
const SAMPLE_RULES = join(ROOT, "config/sample_rules.yaml");
const SAMPLE = (date: string) =>
  join(ROOT, `data/sample/portfolio_${date}.parquet`);

/** A stack trace line, which no message may carry. */
const STACK = /\n\s+at /;

/** The entries of a folder, sorted (hidden ones included). */
async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

const exists = (path: string) => Deno.lstat(path).then(() => true, () => false);

/**
 * A writer that writes `ok` files and then fails as a full disk does: part
 * of the next file is on disk (a Parquet file without its footer) when the
 * error comes.
 */
function fullDiskAfter(ok: number): FileWriter {
  let written = 0;
  const gate = async (path: string, write: () => unknown) => {
    if (written++ < ok) {
      await write();
      return;
    }
    await Deno.writeTextFile(path, "PAR1 the first row groups, no footer");
    throw new Error(
      `No space left on device (os error 28): write '${path}'`,
    );
  };
  return {
    text: (path, text) => gate(path, () => Deno.writeTextFile(path, text)),
    parquet: (path, frame) => gate(path, () => frame.writeParquet(path)),
    csv: (path, frame) => gate(path, () => frame.writeCSV(path)),
  };
}

/** A CSV portfolio of 20 good rows and `bad` with a negative balance. */
async function portfolioCsv(dir: string, bad = 0, name = "book.csv") {
  const rows: Row[] = Array.from({ length: 20 }, (_, i) => ({
    ...(i % 2 ? GOOD_CARD : GOOD_MORTGAGE),
    loan_id: `G${i}`,
  }));
  for (let i = 0; i < bad; i++) {
    rows.push({ ...GOOD_MORTGAGE, loan_id: `B${i}`, balance: "-1" });
  }
  const path = join(dir, name);
  await Deno.writeTextFile(path, csv(rows));
  return path;
}

/** Changes a JSON file of a folder in place. */
async function editJson(
  dir: string,
  file: string,
  edit: (value: Record<string, unknown>) => void,
) {
  const value = JSON.parse(await Deno.readTextFile(join(dir, file)));
  edit(value);
  await Deno.writeTextFile(join(dir, file), JSON.stringify(value));
}

// ---------------------------------------------------------------------------
// 1. Atomic outputs

Deno.test("writeValidationOutputs() on a full disk leaves nothing under the output folder and names it", () =>
  withTempDir(async (root) => {
    const path = await portfolioCsv(root);
    const rules = await loadRules(RULES);
    const result = await validatePortfolio(scanPortfolio(path), rules, {
      file: path,
    });
    const out = join(root, "out");
    // valid.parquet written, rejected.parquet cut short by the full disk.
    await assert.rejects(
      () => writeValidationOutputs(result, out, { writer: fullDiskAfter(1) }),
      (e: Error) => {
        assert.ok(e instanceof UserError, e.message);
        assert.equal(e.kind, "output");
        assert.match(
          e.message,
          new RegExp(`^Cannot write ${out}: No space left on device`),
        );
        return true;
      },
    );
    // Not even a truncated valid.parquet, and no hidden leftover.
    assert.deepEqual(await names(root), ["book.csv"]);

    // An earlier output stays as it was, readable.
    await writeValidationOutputs(result, out);
    await assert.rejects(() =>
      writeValidationOutputs(result, out, { writer: fullDiskAfter(2) })
    );
    assert.deepEqual(await names(out), [
      "data_quality.json",
      "rejected.parquet",
      "valid.parquet",
    ]);
    assert.equal(pl.readParquet(join(out, "valid.parquet")).height, 20);
    assert.deepEqual(await names(root), ["book.csv", "out"]);
  }, "hardening_outputs_"));

Deno.test("writeValidationOutputs() above the reject limit on a full disk fails as the disk, leaving no partial outputs", () =>
  withTempDir(async (root) => {
    // 5 of 25 rows rejected: 20% > the reference 5%.
    const path = await portfolioCsv(root, 5);
    const rules = await loadRules(RULES);
    const result = await validatePortfolio(scanPortfolio(path), rules, {
      file: path,
    });
    const out = join(root, "out");
    await assert.rejects(
      () => writeValidationOutputs(result, out, { writer: fullDiskAfter(2) }),
      (e: Error) =>
        !(e instanceof RejectRateError) && e instanceof UserError &&
        e.kind === "output",
    );
    assert.equal(await exists(out), false);
    // With room on the disk the outputs are published whole, then the
    // limit fails the portfolio (documented behaviour).
    await assert.rejects(
      () => writeValidationOutputs(result, out),
      RejectRateError,
    );
    assert.equal(pl.readParquet(join(out, "rejected.parquet")).height, 5);
    assert.equal(pl.readParquet(join(out, "valid.parquet")).height, 20);
  }, "hardening_outputs_"));

Deno.test("tasks/validate.ts refuses an --out that is a file before reading anything, naming it (exit 2)", () =>
  withTempDir(async (root) => {
    const file = join(root, "out.txt");
    await Deno.writeTextFile(file, "mine");
    // The portfolio does not even exist: the output is checked first.
    const r = await callMain(
      validateMain,
      "--portfolio",
      join(root, "none.csv"),
      "--rules",
      RULES,
      "--out",
      file,
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`^Cannot write ${file}: it is a file, not a folder`),
    );
    assert.doesNotMatch(r.stderr, STACK);
    assert.equal(await Deno.readTextFile(file), "mine");
  }, "hardening_outputs_"));

Deno.test("tasks/validate.ts refuses an --out holding its portfolio, and one whose valid.parquet is the portfolio (exit 2)", () =>
  withTempDir(async (root) => {
    const book = await portfolioCsv(root);
    const own = await callMain(
      validateMain,
      "--portfolio",
      book,
      "--rules",
      RULES,
      "--out",
      root,
    );
    assert.equal(own.code, 2, own.stderr);
    assert.match(
      own.stderr,
      new RegExp(
        `^Cannot write ${root}: it holds book\\.csv, which this output would replace, and this output's input ${book}; give a new or empty folder`,
      ),
    );
    assert.doesNotMatch(own.stderr, STACK);
    assert.deepEqual(await names(root), ["book.csv"]);

    // Re-validating an earlier output's valid.parquet into its own folder
    // would replace the file being read.
    const out = join(root, "out");
    assert.equal(
      (await callMain(
        validateMain,
        "--portfolio",
        book,
        "--rules",
        RULES,
        "--out",
        out,
      )).code,
      0,
    );
    const valid = join(out, "valid.parquet");
    const before = await Deno.readFile(valid);
    const again = await callMain(
      validateMain,
      "--portfolio",
      valid,
      "--rules",
      RULES,
      "--out",
      out,
    );
    assert.equal(again.code, 2, again.stderr);
    assert.match(
      again.stderr,
      new RegExp(`^Cannot write ${out}: it holds the input ${valid}`),
    );
    assert.deepEqual(await Deno.readFile(valid), before);
  }, "hardening_outputs_"));

Deno.test("tasks/validate.ts refuses an --out that is a run folder or inside one (exit 2)", () =>
  withTempDir(async (root) => {
    const book = await portfolioCsv(root);
    const { from } = await twoRuns(root);
    for (
      const [out, why] of [
        [from, `it is the folder of run r1`],
        [join(from, "validated"), `${from} is the folder of run r1`],
      ]
    ) {
      const r = await callMain(
        validateMain,
        "--portfolio",
        book,
        "--rules",
        RULES,
        "--out",
        out,
      );
      assert.equal(r.code, 2, r.stderr);
      assert.ok(r.stderr.startsWith(`Cannot write ${out}: ${why}`), r.stderr);
      assert.doesNotMatch(r.stderr, STACK);
    }
    assert.equal(await exists(join(from, "valid.parquet")), false);
    assert.equal(await exists(join(from, "validated")), false);
  }, "hardening_outputs_"));

Deno.test("writeMovementOutputs() on a full disk leaves the earlier movement whole and nothing half-written", () =>
  withTempDir(async (root) => {
    const { from, to } = await twoRuns(root);
    const { movement, facilities } = await computeMovement(
      await readRunFolder(from),
      await readRunFolder(to),
    );
    const out = join(root, "movement");
    // movement.json and movement.parquet written; the facilities' file
    // truncated by the full disk; no page.
    await assert.rejects(
      () =>
        writeMovementOutputs(movement, facilities, out, {
          writer: fullDiskAfter(2),
        }),
      (e: Error) =>
        e instanceof UserError && e.kind === "output" &&
        e.message.startsWith(`Cannot write ${out}: No space left on device`),
    );
    assert.deepEqual(await names(root), ["from", "to"]);

    await writeMovementOutputs(movement, facilities, out);
    const html = await Deno.readTextFile(join(out, "movement.html"));
    await assert.rejects(() =>
      writeMovementOutputs(movement, facilities, out, {
        writer: fullDiskAfter(3),
      })
    );
    assert.equal(await Deno.readTextFile(join(out, "movement.html")), html);
    assert.equal(
      pl.readParquet(join(out, "movement_facilities.parquet")).height,
      3, // A stayed, B derecognised, C new
    );
    assert.deepEqual(await names(root), ["from", "movement", "to"]);
  }, "hardening_outputs_"));

Deno.test("tasks/movement.ts refuses an --out that is a file before reading the runs, naming it (exit 2)", () =>
  withTempDir(async (root) => {
    const file = join(root, "movement.txt");
    await Deno.writeTextFile(file, "mine");
    // The runs do not even exist: the output is checked first.
    const r = await callMain(
      movementMain,
      "--from",
      join(root, "a"),
      "--to",
      join(root, "b"),
      "--out",
      file,
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`^Cannot write ${file}: it is a file, not a folder`),
    );
    assert.doesNotMatch(r.stderr, STACK);
  }, "hardening_outputs_"));

Deno.test("tasks/movement.ts refuses an --out that is one of its runs, or a folder holding them (exit 2)", () =>
  withTempDir(async (root) => {
    const { from, to } = await twoRuns(root);
    const into = await callMain(
      movementMain,
      "--from",
      from,
      "--to",
      to,
      "--out",
      to,
    );
    assert.equal(into.code, 2, into.stderr);
    assert.match(
      into.stderr,
      new RegExp(`^Cannot write ${to}: it is the folder of run r2`),
    );
    assert.doesNotMatch(into.stderr, STACK);
    const above = await callMain(
      movementMain,
      "--from",
      from,
      "--to",
      to,
      "--out",
      root,
    );
    assert.equal(above.code, 2, above.stderr);
    assert.match(
      above.stderr,
      new RegExp(`^Cannot write ${root}: it holds from, to, which this output`),
    );
    // The run folders are untouched.
    assert.deepEqual(await names(root), ["from", "to"]);
    assert.equal((await names(to)).includes("movement.json"), false);
  }, "hardening_outputs_"));

Deno.test("exportStarSchema() on a full disk leaves nothing under the export folder", () =>
  withTempDir(async (root) => {
    const { from, to } = await twoRuns(root);
    const out = join(root, "bi");
    await assert.rejects(
      () => exportStarSchema([from, to], out, { writer: fullDiskAfter(4) }),
      (e: Error) =>
        e instanceof UserError && e.kind === "output" &&
        e.message.startsWith(`Cannot write ${out}: No space left on device`),
    );
    assert.deepEqual(await names(root), ["from", "to"]);
  }, "hardening_outputs_"));

Deno.test("writeDashboard() on a full disk leaves the earlier page, and no temporary file", () =>
  withTempDir(async (root) => {
    const { from, to } = await twoRuns(root);
    const file = join(root, "reports", "dashboard.html");
    await assert.rejects(
      () => writeDashboard([from, to], file, { writer: fullDiskAfter(0) }),
      (e: Error) =>
        e instanceof UserError && e.kind === "output" &&
        e.message.startsWith(`Cannot write ${file}: No space left on device`),
    );
    assert.deepEqual(await names(join(root, "reports")), []);
    await writeDashboard([from, to], file);
    const page = await Deno.readTextFile(file);
    await assert.rejects(() =>
      writeDashboard([from, to], file, { writer: fullDiskAfter(0) })
    );
    assert.equal(await Deno.readTextFile(file), page);
    assert.deepEqual(await names(join(root, "reports")), ["dashboard.html"]);
  }, "hardening_outputs_"));

Deno.test("dashboards/build.ts refuses an --out that is a folder, and a --star that is a file, before reading runs (exit 2)", () =>
  withTempDir(async (root) => {
    const dir = join(root, "reports");
    await Deno.mkdir(dir);
    const r = await callMain(
      dashboardMain,
      "--runs",
      join(root, "a"),
      "--out",
      dir,
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`^Cannot write ${dir}: it is a folder, not a file`),
    );
    assert.doesNotMatch(r.stderr, STACK);
    const star = join(root, "star.txt");
    await Deno.writeTextFile(star, "mine");
    const s = await callMain(
      dashboardMain,
      "--runs",
      join(root, "a"),
      "--out",
      join(dir, "dashboard.html"),
      "--star",
      star,
    );
    assert.equal(s.code, 2, s.stderr);
    assert.match(s.stderr, new RegExp(`^Cannot write ${star}: it is a file`));
    assert.deepEqual(await names(dir), []);
  }, "hardening_outputs_"));

Deno.test("writeOutputFolder() puts the earlier output back when the new one cannot take its name", () =>
  withTempDir(async (root) => {
    const target = join(root, "movement");
    const files = ["movement.json"];
    await writeOutputFolder(
      target,
      files,
      (dir) => Deno.writeTextFile(`${dir}/movement.json`, "old"),
    );
    // The staging folder disappears before publishing (removed by hand):
    // the rename onto the name fails after the old folder was swapped out.
    await assert.rejects(() =>
      writeOutputFolder(
        target,
        files,
        (dir) => Deno.remove(dir, { recursive: true }),
      )
    );
    assert.equal(
      await Deno.readTextFile(join(target, "movement.json")),
      "old",
    );
    assert.deepEqual(await names(root), ["movement"]);
  }, "hardening_outputs_"));

// ---------------------------------------------------------------------------
// 2. Only trusted runs are read

Deno.test("tasks/movement.ts refuses a failed run, a hidden partial, a folder without manifest, naming each (exit 2)", () =>
  withTempDir(async (root) => {
    const { from, to } = await twoRuns(root);
    const out = join(root, "movement");
    const refused = async (dir: string, why: RegExp) => {
      const r = await callMain(
        movementMain,
        "--from",
        from,
        "--to",
        dir,
        "--out",
        out,
      );
      assert.equal(r.code, 2, r.stderr);
      assert.ok(
        r.stderr.startsWith(
          `Cannot read run folder ${dir}: not a complete run: `,
        ),
        r.stderr,
      );
      assert.match(r.stderr, why);
      assert.doesNotMatch(r.stderr, STACK);
      assert.equal(await exists(out), false);
    };
    // A manifest saying failed (its folder renamed by hand).
    await editJson(to, "manifest.json", (m) => {
      m.status = "failed";
      m.error = "Run step write_results failed: disk full";
    });
    await refused(
      to,
      /manifest\.json: status is "failed", not "complete" \(Run step write_results failed: disk full\)/,
    );
    // The hidden staging folder of a killed run.
    await editJson(to, "manifest.json", (m) => {
      m.status = "complete";
      delete m.error;
    });
    const partial = join(root, ".r2.partial-999999999-0a1b2c");
    await Deno.rename(to, partial);
    await refused(
      partial,
      /hidden staging folder of a run being written or killed/,
    );
    // A folder without its manifest.
    await Deno.rename(partial, to);
    await Deno.remove(join(to, "manifest.json"));
    await refused(to, /manifest\.json: file is missing/);
  }, "hardening_outputs_"));

Deno.test("tasks/movement.ts refuses a complete run without facilities or without a reporting date (exit 2)", () =>
  withTempDir(async (root) => {
    const { to } = await twoRuns(root);
    // What a run of a header-only portfolio wrote: no facility (and,
    // below, no reporting date), but a manifest saying complete.
    const empty = await writeFixtureRun(`${root}/empty`, {
      runId: "r0",
      reportingDate: "2025-09-30",
      rates: { EUR: 1 },
      loans: [{ loan_id: "A", currency: "EUR", stage: 1, ecl: 1, gross: 1 }],
    });
    await editJson(empty, "summary.json", (s) => {
      const zero = { count: 0, gross_carrying_amount: 0, ead: 0, ecl: 0 };
      s.totals = { ...zero, ecl_model: 0, loss_allowance: 0, provision: 0 };
      for (const k of ["by_stage", "by_product", "by_segment", "by_region"]) {
        s[k] = [];
      }
      s.by_currency = [];
    });
    const r = await callMain(
      movementMain,
      "--from",
      empty,
      "--to",
      to,
      "--out",
      join(root, "movement"),
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^Cannot read run folder ${empty}: not a complete run: summary\\.json: the run has no facilities \\(totals\\.count is 0\\)`,
      ),
    );
    await editJson(empty, "summary.json", (s) => {
      s.reporting_date = "";
    });
    await editJson(empty, "manifest.json", (m) => {
      m.reporting_date = null;
    });
    const undated = await callMain(
      movementMain,
      "--from",
      empty,
      "--to",
      to,
      "--out",
      join(root, "movement"),
    );
    assert.equal(undated.code, 2);
    assert.match(undated.stderr, /manifest\.json: reporting_date is null/);
    assert.match(
      undated.stderr,
      /summary\.json: the run has no reporting date/,
    );
    assert.doesNotMatch(undated.stderr, STACK);
  }, "hardening_outputs_"));

Deno.test("the dashboard refuses a failed run, and a summary with null totals names the key instead of crashing", () =>
  withTempDir(async (root) => {
    const { from, to } = await twoRuns(root);
    await editJson(from, "manifest.json", (m) => {
      m.status = "failed";
    });
    await assert.rejects(
      () => writeDashboard([from, to], join(root, "d.html")),
      (e: Error) =>
        e instanceof RunFolderReadError && e.dir === from &&
        /status is "failed"/.test(e.message),
    );
    await editJson(from, "manifest.json", (m) => {
      m.status = "complete";
    });
    // What a run whose figure overflowed wrote: JSON has no Infinity.
    await editJson(to, "summary.json", (s) => {
      (s.totals as Record<string, unknown>).ecl = null;
    });
    const r = await callMain(
      dashboardMain,
      "--runs",
      from,
      to,
      "--out",
      join(root, "d.html"),
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^Cannot read run folder ${to}: summary\\.json: key totals\\.ecl \\(null\\) is not a finite number`,
      ),
    );
    assert.doesNotMatch(r.stderr, /toFixed|Internal error/);
    assert.doesNotMatch(r.stderr, STACK);
    assert.equal(await exists(join(root, "d.html")), false);
  }, "hardening_outputs_"));

Deno.test("exportStarSchema() and the report's comparison refuse a run that is not complete, naming it", () =>
  withTempDir(async (root) => {
    const { from, to } = await twoRuns(root);
    await Deno.remove(join(from, "manifest.json"));
    await assert.rejects(
      () => exportStarSchema([from, to], join(root, "bi")),
      (e: Error) =>
        e instanceof RunFolderReadError && e.dir === from &&
        /manifest\.json: file is missing/.test(e.message),
    );
    assert.equal(await exists(join(root, "bi")), false);
    await assert.rejects(
      () => writeRunReport(to, { compare: from }),
      (e: Error) =>
        e instanceof RunFolderReadError && e.dir === from &&
        /not a complete run/.test(e.message),
    );
  }, "hardening_outputs_"));

// ---------------------------------------------------------------------------
// 3. Rules that differ between the runs of a movement

Deno.test("tasks/movement.ts names the rules parameters that differ between the two runs", () =>
  withTempDir(async (root) => {
    // The sample book at its two quarter-ends, the later one with a SICR
    // backstop of 45 days past due instead of 30 (methodology §3).
    const later = join(root, "rules_45.yaml");
    const text = await Deno.readTextFile(SAMPLE_RULES);
    assert.match(text, /dpd_sicr: 30 /);
    await Deno.writeTextFile(
      later,
      text.replace("dpd_sicr: 30 ", "dpd_sicr: 45 "),
    );
    const runs = join(root, "runs");
    const q3 = await runPortfolio({
      portfolio: SAMPLE("2025-09-30"),
      rules: SAMPLE_RULES,
      out: runs,
      runId: "q3",
      report: false,
    });
    const q4 = await runPortfolio({
      portfolio: SAMPLE("2025-12-31"),
      rules: later,
      out: runs,
      runId: "q4",
      report: false,
    });
    assert.equal(q4.manifest.inputs.rules.parameters?.["staging.dpd_sicr"], 45);
    const r = await callMain(
      movementMain,
      "--from",
      q3.dir,
      "--to",
      q4.dir,
      "--out",
      join(root, "movement"),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /Runs q3 and q4 used different rules files \(.*sample_rules\.yaml, SHA-256 [0-9a-f]{12}…; .*rules_45\.yaml, SHA-256 [0-9a-f]{12}…\): staging\.dpd_sicr 30 → 45; the effect of the change of parameters is part of remeasurement/,
    );
  }, "hardening_outputs_"));

Deno.test("computeMovement() says what differs cannot be named when a run's manifest predates the rules' parameters", () =>
  withTempDir(async (root) => {
    const { from, to } = await twoRuns(root);
    await editJson(to, "manifest.json", (m) => {
      (m.inputs as { rules: { sha256: string } }).rules.sha256 = "d".repeat(64);
    });
    const { movement } = await computeMovement(
      await readRunFolder(from),
      await readRunFolder(to),
    );
    assert.ok(
      movement.warnings.some((w) =>
        /^Runs r1 and r2 used different rules files \(.*\): what differs cannot be named, as the manifests of runs r1 and r2 predate manifest version 2/
          .test(w)
      ),
      movement.warnings.join("\n"),
    );
  }, "hardening_outputs_"));

// ---------------------------------------------------------------------------
// 4. Stale staging folders of killed runs

/** A staging entry of `bytes` bytes last modified `hours` ago. */
async function stagingEntry(path: string, bytes: number, hours: number) {
  await Deno.mkdir(path);
  await Deno.writeTextFile(
    join(path, "loan_results.parquet"),
    "x".repeat(bytes),
  );
  const when = new Date(Date.now() - hours * 3600_000);
  await Deno.utime(path, when, when);
}

Deno.test("runPortfolio() removes stale staging folders of any id older than a day whose writer is gone, and says so", () =>
  withTempDir(async (root) => {
    const out = join(root, "runs");
    await Deno.mkdir(out);
    const killed = join(out, ".q3.partial-999999999-0a1b2c3d4e5f");
    const replaced = join(out, ".q2.replaced-999999999-0d0e0f0a0b0c");
    const fresh = join(out, ".q1.partial-999999999-0a0b0c0d0e0f");
    const live = join(out, `.q0.partial-${Deno.pid}-0c0d0e0f0a0b`);
    await stagingEntry(killed, 2500, 48);
    await stagingEntry(replaced, 1000, 30);
    await stagingEntry(fresh, 1000, 2); // a day has not passed
    await stagingEntry(live, 1000, 48); // its writer (this process) runs
    const run = await runPortfolio({
      portfolio: writePortfolio(join(root, "book.parquet"), 30),
      out,
      runId: "q4",
      report: false,
    });
    assert.deepEqual(await names(out), [
      `.q0.partial-${Deno.pid}-0c0d0e0f0a0b`,
      ".q1.partial-999999999-0a0b0c0d0e0f",
      "q4",
    ]);
    const removed = run.manifest.warnings.filter((w) =>
      w.startsWith("Removed stale staging folder")
    );
    assert.equal(removed.length, 2, run.manifest.warnings.join("\n"));
    assert.match(
      removed.join("\n"),
      new RegExp(
        `Removed stale staging folder ${killed} \\(2\\.5 kB, last modified .*, its writer process 999999999 is gone\\)`,
      ),
    );
    assert.match(
      removed.join("\n"),
      new RegExp(`Removed stale staging folder ${replaced} \\(1\\.0 kB`),
    );
  }, "hardening_outputs_"));

Deno.test("deno task clean lists and removes stale staging folders with their sizes, keeps live and recent ones", () =>
  withTempDir(async (root) => {
    // Loaded here: the task is new with this change.
    const { main } = await import("../../tasks/clean.ts");
    const killed = join(root, ".q3.partial-999999999-0a1b2c3d4e5f");
    const recent = join(root, ".q2.partial-999999999-0d0e0f0a0b0c");
    const live = join(root, `.q1.partial-${Deno.pid}-0a0b0c0d0e0f`);
    await stagingEntry(killed, 2500, 48);
    await stagingEntry(recent, 1500, 3);
    await stagingEntry(live, 1000, 48);
    await Deno.mkdir(join(root, "q4"));

    const dry = await callMain(main, "--out", root, "--dry-run");
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`would remove ${killed} \\(2\\.5 kB`));
    assert.match(
      dry.stdout,
      new RegExp(
        `kept ${live} \\(1\\.0 kB\\): process ${Deno.pid} is writing it`,
      ),
    );
    assert.equal(await exists(killed), true);

    const clean = await callMain(main, "--out", root);
    assert.equal(clean.code, 0, clean.stderr);
    assert.match(clean.stdout, new RegExp(`removed ${killed} \\(2\\.5 kB`));
    assert.match(clean.stdout, /removed 1 stale staging entry, 2\.5 kB/);
    assert.deepEqual(await names(root), [
      `.q1.partial-${Deno.pid}-0a0b0c0d0e0f`,
      ".q2.partial-999999999-0d0e0f0a0b0c",
      "q4",
    ]);
    // --older-than 0: any age, still never a live writer's.
    const all = await callMain(main, "--out", root, "--older-than", "0");
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, new RegExp(`removed ${recent} \\(1\\.5 kB`));
    assert.deepEqual(await names(root), [
      `.q1.partial-${Deno.pid}-0a0b0c0d0e0f`,
      "q4",
    ]);

    const file = join(root, "notes.txt");
    await Deno.writeTextFile(file, "");
    const bad = await callMain(main, "--out", file);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, new RegExp(`^Cannot clean ${file}: it is a file`));
    const hours = await callMain(main, "--out", root, "--older-than=-1");
    assert.equal(hours.code, 2);
    assert.match(hours.stderr, /^--older-than must be a number >= 0, got -1/);
  }, "hardening_outputs_"));

// ---------------------------------------------------------------------------
// 5. Failure paths of a run

Deno.test("runPortfolio() reports the first failed write, not the manifest's that followed, and still sets the folder aside", () =>
  withTempDir(async (root) => {
    const out = join(root, "runs");
    let staging = "";
    // A folder where summary.json and manifest.json go: writing either
    // fails, as on a full disk, for any user.
    const err = await runPortfolio({
      portfolio: writePortfolio(join(root, "book.parquet"), 30),
      out,
      runId: "q4",
      report: false,
      onStep: (step) => {
        if (step !== "summarize" || staging !== "") return;
        staging = Deno.readDirSync(out).find((e) =>
          e.name.startsWith(".q4.partial-")
        )!.name;
        Deno.mkdirSync(join(out, staging, "summary.json"));
        Deno.mkdirSync(join(out, staging, "manifest.json"));
      },
    }).then(() => undefined, (e) => e);
    assert.ok(err instanceof RunFailedError, String(err));
    const [first, ...rest] = err.message.split("\n");
    assert.match(first, /summary\.json/);
    assert.doesNotMatch(first, /manifest\.json/);
    assert.match(
      rest.join("\n"),
      /While recording the failure, also: manifest\.json could not be written: /,
    );
    assert.equal(err.failedDir, join(out, "q4.failed"));
    assert.deepEqual(await names(out), ["q4.failed"]);
    assert.ok(
      (await names(join(out, "q4.failed"))).includes("loan_results.parquet"),
    );
  }, "hardening_outputs_"));

Deno.test("runPortfolio() whose publish fails leaves no report saying complete", () =>
  withTempDir(async (root) => {
    const out = join(root, "runs");
    // Another process publishes a folder under the same id while this run
    // renders its report: the final rename fails.
    const err = await runPortfolio({
      portfolio: writePortfolio(join(root, "book.parquet"), 30),
      out,
      runId: "q4",
      onStep: (step) => {
        if (step !== "report") return;
        Deno.mkdirSync(join(out, "q4"));
        Deno.writeTextFileSync(join(out, "q4", "other.txt"), "theirs");
      },
    }).then(() => undefined, (e) => e);
    assert.ok(err instanceof RunFailedError, String(err));
    assert.match(err.message, /^Cannot publish run q4 as .*q4: /);
    assert.deepEqual(await names(join(out, "q4")), ["other.txt"]);
    const failed = join(out, "q4.failed");
    assert.equal(await exists(join(failed, "report.html")), false);
    const manifest = JSON.parse(
      await Deno.readTextFile(join(failed, "manifest.json")),
    );
    assert.equal(manifest.status, "failed");
    assert.match(manifest.error, /Cannot publish run q4/);
  }, "hardening_outputs_"));

// ---------------------------------------------------------------------------
// 6. The movement's tolerance

Deno.test("the movement's tolerance is at most 1,000,000 in the reporting currency, in the task and in computeMovement()", () =>
  withTempDir(async (root) => {
    const { from, to } = await twoRuns(root);
    const r = await callMain(
      movementMain,
      "--from",
      from,
      "--to",
      to,
      "--out",
      join(root, "movement"),
      "--tolerance",
      "1e308",
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^--tolerance must be at most 1000000 .*, got 1e308/,
    );
    assert.equal(await exists(join(root, "movement")), false);
    await assert.rejects(
      async () =>
        computeMovement(await readRunFolder(from), await readRunFolder(to), {
          tolerance: 1e308,
        }),
      (e: Error) =>
        e instanceof UserError && e.kind === "usage" &&
        /tolerance 1e\+308: give a number from 0\.000001 .* to 1000000/.test(
          e.message,
        ),
    );
    // The bound itself is accepted.
    const { movement } = await computeMovement(
      await readRunFolder(from),
      await readRunFolder(to),
      { tolerance: 1_000_000 },
    );
    assert.ok(movement.checks.every((c) => c.passed));
  }, "hardening_outputs_"));

Deno.test("dashboards/build.ts warns, naming it, about an unreadable movement.json beside the runs instead of skipping it silently", async () => {
  await withTempDir(async (root) => {
    const loans = [
      { loan_id: "A", currency: "EUR", stage: 1 as const, ecl: 4, gross: 400 },
    ];
    const r1 = await writeFixtureRun(join(root, "r1"), {
      runId: "r1",
      reportingDate: "2025-09-30",
      rates: { EUR: 1 },
      loans,
    });
    const r2 = await writeFixtureRun(join(root, "r2"), {
      runId: "r2",
      reportingDate: "2025-12-31",
      rates: { EUR: 1 },
      loans,
    });
    await Deno.mkdir(join(root, "movement-q4"));
    await Deno.writeTextFile(
      join(root, "movement-q4/movement.json"),
      "{broken",
    );
    const out = join(root, "dashboard.html");
    const r = await callMain(dashboardMain, "--runs", r1, r2, "--out", out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`^warning: skipped ${root}/movement-q4: .*movement\\.json`),
    );
    assert.ok((await Deno.stat(out)).isFile);
  });
});

// ---------------------------------------------------------------------------
// 7. Output paths the file system refuses: a usage error naming the path
//
// Each task's output goes through one check (lib/run_folder/output_path.ts)
// before anything is read or computed: a file where a folder is wanted, a
// file among the path's folders, a place where no folder can be created
// (`/proc`, `/sys`) is exit 2 naming the path and what is in the way, never
// "Internal error" (exit 70).

/** A task's result refusing `path` with exit 2, naming it and `why`. */
function assertRefused(
  r: { code: number; stderr: string },
  path: string,
  why: RegExp,
) {
  assert.equal(r.code, 2, r.stderr);
  assert.ok(
    r.stderr.startsWith(`Cannot write ${path}: `) ||
      r.stderr.startsWith(`Cannot clean ${path}: `),
    r.stderr,
  );
  assert.match(r.stderr, why);
  assert.doesNotMatch(r.stderr, /Internal error/);
  assert.doesNotMatch(r.stderr, STACK);
}

/** The message naming `file` as the file in the way of a path under it. */
const fileInTheWay = (file: string) =>
  new RegExp(`${file.replaceAll(".", "\\.")} is a file, not a folder`);

/** A path no folder can be created at, whoever the user is (Linux). */
const NO_FOLDER_HERE = "/proc/ifrs9_hardening_out";

Deno.test("tasks/run.ts refuses an --out that is a file, under a file, or where no folder can be created (exit 2, naming it)", () =>
  withTempDir(async (root) => {
    const { main: runMain } = await import("../../tasks/run.ts");
    const book = writePortfolio(join(root, "book.parquet"), 30);
    const file = join(root, "runs.txt");
    await Deno.writeTextFile(file, "mine");
    for (
      const [out, why] of [
        [file, /it is a file, not a folder/],
        [join(file, "sub"), fileInTheWay(file)],
        [NO_FOLDER_HERE, /no folder can be created in \/proc/],
      ] as const
    ) {
      const r = await callMain(
        runMain,
        "--portfolio",
        book,
        "--out",
        out,
        "--quiet",
      );
      assertRefused(r, out, why);
    }
    assert.equal(await Deno.readTextFile(file), "mine");
    assert.deepEqual(await names(root), ["book.parquet", "runs.txt"]);
  }, "hardening_outputs_"));

Deno.test("tasks/validate.ts refuses an --out under a file, or where no folder can be created, before reading anything (exit 2)", () =>
  withTempDir(async (root) => {
    const book = await portfolioCsv(root);
    const file = join(root, "notes.txt");
    await Deno.writeTextFile(file, "mine");
    for (
      const [out, why] of [
        [join(file, "validated"), fileInTheWay(file)],
        [join(file, "a", "b"), fileInTheWay(file)],
        [NO_FOLDER_HERE, /no folder can be created in \/proc/],
      ] as const
    ) {
      const r = await callMain(
        validateMain,
        "--portfolio",
        book,
        "--rules",
        RULES,
        "--out",
        out,
      );
      assertRefused(r, out, why);
      // Refused before the portfolio was read: nothing printed about it.
      assert.equal(r.stdout, "");
    }
    assert.deepEqual(await names(root), ["book.csv", "notes.txt"]);
  }, "hardening_outputs_"));

Deno.test("tasks/movement.ts and dashboards/build.ts refuse an output under a file before reading the runs (exit 2)", () =>
  withTempDir(async (root) => {
    const { from, to } = await twoRuns(root);
    const file = join(root, "notes.txt");
    await Deno.writeTextFile(file, "mine");
    const mv = join(file, "movement");
    assertRefused(
      await callMain(movementMain, "--from", from, "--to", to, "--out", mv),
      mv,
      fileInTheWay(file),
    );
    const page = join(file, "reports", "dashboard.html");
    assertRefused(
      await callMain(dashboardMain, "--runs", from, to, "--out", page),
      page,
      fileInTheWay(file),
    );
    const star = join(file, "star");
    assertRefused(
      await callMain(
        dashboardMain,
        "--runs",
        from,
        to,
        "--out",
        join(root, "dashboard.html"),
        "--star",
        star,
      ),
      star,
      fileInTheWay(file),
    );
    assert.deepEqual(await names(root), ["from", "notes.txt", "to"]);
  }, "hardening_outputs_"));

Deno.test("deno task clean refuses an --out under a file, naming the file (exit 2)", () =>
  withTempDir(async (root) => {
    const { main: cleanMain } = await import("../../tasks/clean.ts");
    const file = join(root, "notes.txt");
    await Deno.writeTextFile(file, "mine");
    const out = join(file, "runs");
    assertRefused(
      await callMain(cleanMain, "--out", out),
      out,
      fileInTheWay(file),
    );
  }, "hardening_outputs_"));

Deno.test("tasks/generate.ts refuses an --out that is a file, under a file, or where no folder can be created (exit 2)", () =>
  withTempDir(async (root) => {
    const { main: generateMain } = await import("../../tasks/generate.ts");
    const file = join(root, "book.txt");
    await Deno.writeTextFile(file, "mine");
    for (
      const [out, why] of [
        [file, /it is a file, not a folder/],
        [join(file, "x"), fileInTheWay(file)],
        [NO_FOLDER_HERE, /no folder can be created in \/proc/],
        // Creating a folder in /sys is refused to every user, root included.
        ["/sys/ifrs9_hardening_out", /no folder can be created in \/sys/],
      ] as const
    ) {
      const r = await callMain(
        generateMain,
        "--loans",
        "10",
        "--reporting-date",
        "2025-12-31",
        "--out",
        out,
      );
      assertRefused(r, out, why);
    }
    assert.equal(await Deno.readTextFile(file), "mine");
  }, "hardening_outputs_"));

Deno.test("tasks/notebooks.ts refuses an --out that is a file before running any notebook (exit 2)", () =>
  withTempDir(async (root) => {
    const { main: notebooksMain } = await import("../../tasks/notebooks.ts");
    const file = join(root, "pages.txt");
    await Deno.writeTextFile(file, "mine");
    for (
      const [out, why] of [
        [file, /it is a file, not a folder/],
        [join(file, "x"), fileInTheWay(file)],
      ] as const
    ) {
      const r = await callMain(notebooksMain, "--out", out);
      assertRefused(r, out, why);
      assert.doesNotMatch(r.stdout, /notebooks: running/);
    }
    assert.equal(await Deno.readTextFile(file), "mine");
  }, "hardening_outputs_"));

// ---------------------------------------------------------------------------
// 8. The stale sweep touches only the names this code writes

Deno.test("a run's sweep and deno task clean keep foreign hidden entries and a name without a writer pid, 3 days old", () =>
  withTempDir(async (root) => {
    const { main: cleanMain } = await import("../../tasks/clean.ts");
    const out = join(root, "runs");
    await Deno.mkdir(out);
    // Someone's own hidden folders that merely look like staging names,
    // and a replaced copy of an earlier version (no pid in its name).
    const foreign = [
      ".cache.replaced-old",
      ".mydata.partial-backup",
      ".q2.replaced-0a1b2c3d4e5f",
      ".q3.partial-999999999-0a1b2c", // 6 hex digits: not a name written here
    ];
    for (const name of foreign) await stagingEntry(join(out, name), 100, 72);
    // A killed run's folder, as this code names it: removed.
    const killed = join(out, ".q1.partial-999999999-0a1b2c3d4e5f");
    await stagingEntry(killed, 100, 72);

    const dry = await callMain(cleanMain, "--out", out, "--dry-run");
    assert.equal(dry.code, 0, dry.stderr);
    const wouldRemove = dry.stdout.split("\n").filter((l) =>
      l.startsWith(`would remove ${out}/`)
    );
    assert.deepEqual(wouldRemove.map((l) => l.split(" ")[2]), [killed]);
    assert.match(
      dry.stdout,
      new RegExp(
        `kept ${out}/\\.q2\\.replaced-0a1b2c3d4e5f \\(100 B\\): its name carries no writer process id`,
      ),
    );

    const run = await runPortfolio({
      portfolio: writePortfolio(join(root, "book.parquet"), 30),
      out,
      runId: "q4",
      report: false,
    });
    assert.deepEqual(await names(out), [...foreign, "q4"].sort());
    const removed = run.manifest.warnings.filter((w) =>
      w.startsWith("Removed stale staging")
    );
    assert.deepEqual(removed.length, 1, removed.join("\n"));
    assert.ok(removed[0].includes(killed), removed[0]);

    const clean = await callMain(cleanMain, "--out", out, "--older-than", "0");
    assert.equal(clean.code, 0, clean.stderr);
    assert.match(
      clean.stdout,
      new RegExp(`^nothing to remove in ${out}$`, "m"),
    );
    assert.deepEqual(await names(out), [...foreign, "q4"].sort());
  }, "hardening_outputs_"));

Deno.test("a folder staged under a name keeps a foreign hidden entry of that name", () =>
  withTempDir(async (root) => {
    // `.movement.partial-backup` is not a writer's folder: staging the
    // movement output beside it leaves it alone.
    const { from, to } = await twoRuns(root);
    const backup = join(root, ".movement.partial-backup");
    await stagingEntry(backup, 100, 72);
    const r = await callMain(
      movementMain,
      "--from",
      from,
      "--to",
      to,
      "--out",
      join(root, "movement"),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await exists(join(backup, "loan_results.parquet")), true);
  }, "hardening_outputs_"));

// ---------------------------------------------------------------------------
// 9. Nothing is written inside a run folder, at any depth

Deno.test("tasks refuse an output anywhere inside a run folder, naming the run (exit 2)", () =>
  withTempDir(async (root) => {
    const { main: runMain } = await import("../../tasks/run.ts");
    const { from, to } = await twoRuns(root);
    const book = await portfolioCsv(root);
    const before = await names(from);
    const inside = (_path: string) =>
      new RegExp(`${from} is the folder of run r1`);
    const mv = join(from, "sub", "mv");
    assertRefused(
      await callMain(movementMain, "--from", from, "--to", to, "--out", mv),
      mv,
      inside(mv),
    );
    const validated = join(from, "a", "b");
    assertRefused(
      await callMain(
        validateMain,
        "--portfolio",
        book,
        "--rules",
        RULES,
        "--out",
        validated,
      ),
      validated,
      inside(validated),
    );
    const page = join(from, "a", "dashboard.html");
    assertRefused(
      await callMain(dashboardMain, "--runs", from, to, "--out", page),
      page,
      inside(page),
    );
    // A run's --out is the folder run folders go in: not a run folder, and
    // not inside one.
    for (
      const [out, why] of [
        [from, /it is the folder of run r1/],
        [join(from, "runs"), inside(from)],
        [join(from, "a", "runs"), inside(from)],
      ] as const
    ) {
      const r = await callMain(
        runMain,
        "--portfolio",
        writePortfolio(join(root, "book.parquet"), 30),
        "--out",
        out,
        "--quiet",
      );
      assertRefused(r, out, why);
    }
    // Nothing was created in the run folder, at any depth.
    assert.deepEqual(await names(from), before);
    assert.ok(before.includes("manifest.json"), before.join(", "));
  }, "hardening_outputs_"));

// ---------------------------------------------------------------------------
// 10. Symbolic links and paths that cannot be resolved

Deno.test("an output that is a symbolic link is refused, naming where it points, and the link is kept", () =>
  withTempDir(async (root) => {
    const book = await portfolioCsv(root);
    const real = join(root, "real");
    await Deno.mkdir(real);
    const link = join(root, "latest");
    await Deno.symlink(real, link);
    const r = await callMain(
      validateMain,
      "--portfolio",
      book,
      "--rules",
      RULES,
      "--out",
      link,
    );
    assertRefused(r, link, new RegExp(`it is a symbolic link to ${real}`));
    assert.equal((await Deno.lstat(link)).isSymlink, true);
    // A link among the folders above is followed: the output goes there.
    const through = join(link, "validated");
    const ok = await callMain(
      validateMain,
      "--portfolio",
      book,
      "--rules",
      RULES,
      "--out",
      through,
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(await names(join(real, "validated")), [
      "data_quality.json",
      "rejected.parquet",
      "valid.parquet",
    ]);
  }, "hardening_outputs_"));

Deno.test("an input path that cannot be resolved (permission denied) is named, not compared unresolved", () =>
  withTempDir(async (root) => {
    const { checkOutputFolder } = await import(
      "../../lib/run_folder/mod.ts"
    );
    const input = join(root, "private", "book.csv");
    const realPath = Deno.realPath;
    // As root, no folder refuses to be looked into: the file system's
    // answer for one that does is given here.
    Deno.realPath = (path: string | URL) =>
      String(path).startsWith(join(root, "private"))
        ? Promise.reject(
          new Deno.errors.PermissionDenied(
            `Permission denied (os error 13): realpath '${path}'`,
          ),
        )
        : realPath(path);
    try {
      await assert.rejects(
        () =>
          checkOutputFolder(join(root, "out"), ["a.txt"], { inputs: [input] }),
        (e: Error) =>
          e instanceof UserError && e.kind === "input" &&
          e.message.startsWith(`Cannot read ${input}: Permission denied`),
      );
    } finally {
      Deno.realPath = realPath;
    }
  }, "hardening_outputs_"));

Deno.test("a file written whole whose temporary file cannot be removed says so, naming it", () =>
  withTempDir(async (root) => {
    const { HOST_ID, localFolder } = await import(
      "../../lib/run_folder/mod.ts"
    );
    // The random suffix made known, so that a non-empty folder can stand
    // where the temporary file goes: the write fails, and so does removing
    // the temporary name afterwards.
    const getRandomValues = crypto.getRandomValues;
    crypto.getRandomValues = (<T extends ArrayBufferView | null>(a: T) => {
      if (a instanceof Uint8Array) a.fill(0xab);
      return a;
    }) as typeof crypto.getRandomValues;
    const temp = join(
      root,
      `.notes.txt.partial-${Deno.pid}-${HOST_ID}-${"ab".repeat(6)}`,
    );
    await Deno.mkdir(temp);
    await Deno.writeTextFile(join(temp, "x"), "x");
    try {
      await assert.rejects(
        () => localFolder(root).writeText("notes.txt", "text"),
        (e: Error) =>
          e.message.includes(
            `the temporary file ${temp} could not be removed either`,
          ),
      );
    } finally {
      crypto.getRandomValues = getRandomValues;
    }
    assert.equal(await exists(join(root, "notes.txt")), false);
  }, "hardening_outputs_"));
