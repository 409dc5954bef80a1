/**
 * `deno task journal` against a hostile movement folder: a movement.json
 * header that is not its runs' (currency, date, a swapped folder), a
 * figure that is text, an output path refused before anything is read, an
 * account code a spreadsheet would run as a formula, and a movement in
 * object storage. Each is refused with exit 2 and one line naming the key.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  movementEntities,
  parseGlAccounts,
  readMovementFolder,
} from "../../lib/journal/mod.ts";
import { runTaskProcess, withTempDir } from "../tasks/_main.ts";
import { handMovement } from "./_movement.ts";

const TASK = new URL("../../tasks/journal.ts", import.meta.url).pathname;

const task = (...args: string[]) => runTaskProcess(TASK, args);

/** Rewrites `mv`/movement.json with `edit` applied to its parsed JSON. */
// deno-lint-ignore no-explicit-any
async function tamper(mv: string, edit: (m: any) => void) {
  const path = `${mv}/movement.json`;
  const m = JSON.parse(await Deno.readTextFile(path));
  edit(m);
  await Deno.writeTextFile(path, JSON.stringify(m));
}

Deno.test("tasks/journal.ts refuses a movement.json whose reporting currency is not its runs' (exit 2, one line)", async () => {
  await withTempDir(async (root) => {
    const mv = await handMovement(root);
    await tamper(mv, (m) => m.reporting_currency = "USD");
    const r = await task("--movement", mv, "--out", `${root}/j`);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(
      r.stderr,
      /movement\.json: reporting_currency is "USD", but the run .*from has "EUR"/,
    );
    await assert.rejects(() => Deno.stat(`${root}/j`), Deno.errors.NotFound);
  });
});

Deno.test("movementEntities() refuses a header date or run folder that is not the run's", async () => {
  await withTempDir(async (root) => {
    const mv = await handMovement(root);
    const { movement } = await readMovementFolder(mv);
    const copy = () => structuredClone(movement);
    const later = copy();
    later.to.reporting_date = "2030-01-01";
    await assert.rejects(
      () => movementEntities(later),
      /movement\.json: to\.reporting_date is "2030-01-01", but the run .*to has "2026-03-31"/,
    );
    const swapped = copy();
    swapped.from.dir = movement.to.dir;
    await assert.rejects(
      () => movementEntities(swapped),
      /movement\.json: from\.run_id is "r1", but the run .*to has "r2"/,
    );
    await movementEntities(movement); // the untouched header passes
  });
});

Deno.test("readMovementFolder() refuses a non-numeric figure in movement.json, naming the key (exit 2 kind)", async () => {
  await withTempDir(async (root) => {
    const mv = await handMovement(root);
    await tamper(mv, (m) => m.allowance.lines[0].by_stage["1"] = "abc");
    await assert.rejects(
      () => readMovementFolder(mv),
      (e: Error & { kind?: string }) =>
        e.kind === "input" &&
        /allowance\.lines\[0\] \(opening\)\.by_stage\.1 is "abc", not a finite number/
          .test(e.message),
    );
    await tamper(mv, (m) => m.allowance.lines[0].total = null);
    await assert.rejects(
      () => readMovementFolder(mv),
      /allowance\.lines\[0\] \(opening\)\.total is null/,
    );
  });
});

Deno.test("tasks/journal.ts checks --out before reading anything: no trial balance printed", async () => {
  await withTempDir(async (root) => {
    const mv = await handMovement(root);
    await Deno.writeTextFile(`${root}/afile`, "x");
    const r = await task("--movement", mv, "--out", `${root}/afile`);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /afile/);
    // A missing movement is not reached either: the output is refused first.
    const r2 = await task(
      "--movement",
      `${root}/none`,
      "--out",
      `${root}/afile`,
    );
    assert.equal(r2.code, 2);
    assert.doesNotMatch(r2.stderr, /Cannot read movement folder/);
  });
});

Deno.test("parseGlAccounts() refuses a code a spreadsheet would read as a formula", () => {
  const a = (code: string) => ({ code, name: "x" });
  const accounts = (first: string) => ({
    accounts: {
      allowance: {
        stage_1: a(first),
        stage_2: a("2"),
        stage_3: a("3"),
        simplified: a("4"),
      },
      impairment_expense: a("5"),
      fx_translation: a("6"),
      gross_carrying_amount: a("7"),
      recoveries_clearing: a("8"),
    },
  });
  for (const code of ["=1+1", "+1", "-1", "@SUM(A1)", " =1"]) {
    assert.throws(
      () => parseGlAccounts(accounts(code), "gl.yaml"),
      /accounts\.allowance\.stage_1\.code: must not start with =, \+, - or @/,
      code,
    );
  }
  assert.equal(
    parseGlAccounts(accounts("1-2"), "gl.yaml").allowance.stage_1.code,
    "1-2",
  );
});

Deno.test("readMovementFolder() says a movement in object storage is not read", async () => {
  await assert.rejects(
    () => readMovementFolder("s3://bank/movements/q1"),
    /s3:\/\/bank\/movements\/q1: the journal reads a movement folder on a local disk, not one in object storage/,
  );
});
