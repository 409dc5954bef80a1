/**
 * `deno task journal` as a process: the journal of a hand-made movement
 * written and its trial balance printed; a bad accounts file and a missing
 * movement refused with one line naming the key or the folder, exit 2,
 * nothing written.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parseGlAccounts } from "../../lib/journal/mod.ts";
import { runTaskProcess, withTempDir } from "../tasks/_main.ts";
import { handMovement } from "./_movement.ts";

const TASK = new URL("../../tasks/journal.ts", import.meta.url).pathname;
const ACCOUNTS = new URL("../../config/gl_accounts.yaml", import.meta.url)
  .pathname;

const task = (...args: string[]) => runTaskProcess(TASK, args);

Deno.test("tasks/journal.ts writes journal.csv and journal.parquet and prints the trial balance", async () => {
  await withTempDir(async (root) => {
    const mv = await handMovement(root);
    const r = await task("--movement", mv, "--out", `${root}/j`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /9 entries, 18 lines; entity = region/);
    assert.match(
      r.stdout,
      /debits 161\.20 = credits 161\.20; every entry balances/,
    );
    assert.match(
      r.stdout,
      /ok {3}allowance, all stages: net credit = closing - opening: -34\.80 vs -34\.80/,
    );
    const names = [];
    for await (const e of Deno.readDir(`${root}/j`)) names.push(e.name);
    assert.deepEqual(names.sort(), ["journal.csv", "journal.parquet"]);
  });
});

Deno.test("tasks/journal.ts refuses a bad accounts file in one line naming the key (exit 2)", async () => {
  await withTempDir(async (root) => {
    const mv = await handMovement(root);
    const text = await Deno.readTextFile(ACCOUNTS);
    // Stage 2's allowance given stage 1's code.
    const bad = text.replace('code: "1492"', 'code: "1491"');
    assert.notEqual(bad, text);
    await Deno.writeTextFile(`${root}/gl.yaml`, bad);
    const r = await task(
      "--movement",
      mv,
      "--accounts",
      `${root}/gl.yaml`,
      "--out",
      `${root}/j`,
    );
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(
      r.stderr,
      /Cannot read accounts file .*gl\.yaml: accounts\.allowance\.stage_2\.code: code 1491 is also the code of accounts\.allowance\.stage_1/,
    );
    await assert.rejects(() => Deno.stat(`${root}/j`), Deno.errors.NotFound);
  });
});

Deno.test("tasks/journal.ts refuses a missing movement folder in one line (exit 2)", async () => {
  await withTempDir(async (root) => {
    const r = await task("--movement", `${root}/nothing`, "--out", `${root}/j`);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(
      r.stderr,
      /Cannot read movement folder .*nothing: no movement\.json/,
    );
    await assert.rejects(() => Deno.stat(`${root}/j`), Deno.errors.NotFound);
  });
});

Deno.test("parseGlAccounts() names every key at fault", () => {
  const a = (code: string) => ({ code, name: "x" });
  const ok = {
    accounts: {
      allowance: {
        stage_1: a("1"),
        stage_2: a("2"),
        stage_3: a("3"),
        simplified: a("4"),
      },
      impairment_expense: a("5"),
      fx_translation: a("6"),
      gross_carrying_amount: a("7"),
      recoveries_clearing: a("8"),
    },
  };
  assert.equal(parseGlAccounts(ok, "gl.yaml").fx_translation.code, "6");
  assert.throws(
    () =>
      parseGlAccounts({
        accounts: {
          ...ok.accounts,
          fx_translation: { code: "", name: "x" },
          extra: a("9"),
        },
      }, "gl.yaml"),
    (e: Error) =>
      /^Cannot read accounts file gl\.yaml: /.test(e.message) &&
      /accounts: unknown key \(allowed: allowance, /.test(e.message) &&
      /accounts\.fx_translation\.code: must not be empty/.test(e.message),
  );
  assert.throws(
    () =>
      parseGlAccounts(
        { accounts: { ...ok.accounts, allowance: undefined } },
        "gl.yaml",
      ),
    /accounts\.allowance: /,
  );
});
