/**
 * The journal of a hand-made movement (tests/journal/_movement.ts) gives
 * exactly the postings derived by hand from docs/movement.md §3 and the
 * posting scheme of docs/journal.md.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  buildJournal,
  movementEntities,
  parseGlAccounts,
  readMovementFolder,
} from "../../lib/journal/mod.ts";
import { withTempDir } from "../tasks/_main.ts";
import { handMovement, writeMovement } from "./_movement.ts";
import { writeFixtureRun } from "../report/_run_fixture.ts";
import { parse } from "yaml";

const ACCOUNTS = parseGlAccounts(
  parse(
    await Deno.readTextFile(
      new URL("../../config/gl_accounts.yaml", import.meta.url),
    ),
  ),
  "config/gl_accounts.yaml",
);

Deno.test("buildJournal() posts a hand-made movement exactly as derived by hand", async () => {
  await withTempDir(async (root) => {
    const folder = await readMovementFolder(await handMovement(root));
    const { entities, source } = await movementEntities(folder.movement);
    assert.equal(source, "region");
    const j = await buildJournal(folder.movement, folder.facilities, ACCOUNTS, {
      entities,
      entitySource: source,
    });
    // By hand (docs/movement.md §3), reporting currency EUR:
    // A: transfer 4 from stage 1 to 2, remeasured 20 - 4 = 16 in stage 2;
    // C: new 3; B: released 6; E: remainder 0 - 50 + 80 = 30 in stage 3,
    // allowance used 80 against the gross, cash collected 100 - 80 = 20;
    // D: remeasured 12 * 0.6 - 10 * 0.6 = 1.20, FX 10 * (0.6 - 0.5) = 1.00.
    const P = "IFRS 9 §5.5.8";
    const expected: [
      string,
      string,
      number,
      number,
      string,
      string,
      string,
      string,
      string,
    ][] = [
      // entry, account, debit, credit, stage, entity, facility ccy, reference, line
      [
        "1",
        "1491",
        4,
        0,
        "1",
        "north",
        "EUR",
        "IFRS 9 §5.5.3, §5.5.5",
        "transfer",
      ],
      [
        "1",
        "1492",
        0,
        4,
        "2",
        "north",
        "EUR",
        "IFRS 9 §5.5.3, §5.5.5",
        "transfer",
      ],
      ["2", "6410", 3, 0, "1", "south", "EUR", P, "new_originated"],
      ["2", "1491", 0, 3, "1", "south", "EUR", P, "new_originated"],
      ["3", "1491", 6, 0, "1", "south", "EUR", P, "derecognised"],
      ["3", "6410", 0, 6, "1", "south", "EUR", P, "derecognised"],
      ["4", "6410", 16, 0, "2", "north", "EUR", P, "remeasurement_transferred"],
      ["4", "1492", 0, 16, "2", "north", "EUR", P, "remeasurement_transferred"],
      ["5", "6410", 30, 0, "3", "north", "EUR", P, "remeasurement"],
      ["5", "1493", 0, 30, "3", "north", "EUR", P, "remeasurement"],
      ["6", "6410", 1.2, 0, "2", "north", "USD", P, "remeasurement"],
      ["6", "1492", 0, 1.2, "2", "north", "USD", P, "remeasurement"],
      ["7", "6620", 1, 0, "2", "north", "USD", "IAS 21 §28", "fx"],
      ["7", "1492", 0, 1, "2", "north", "USD", "IAS 21 §28", "fx"],
      ["8", "1493", 80, 0, "3", "north", "EUR", "IFRS 9 §5.4.4", "write_off"],
      ["8", "1410", 0, 80, "3", "north", "EUR", "IFRS 9 §5.4.4", "write_off"],
      [
        "9",
        "1990",
        20,
        0,
        "3",
        "north",
        "EUR",
        "IFRS 9 Appendix A (gross carrying amount, amortised cost)",
        "recoveries",
      ],
      [
        "9",
        "1410",
        0,
        20,
        "3",
        "north",
        "EUR",
        "IFRS 9 Appendix A (gross carrying amount, amortised cost)",
        "recoveries",
      ],
    ];
    assert.deepEqual(
      j.lines.map((l) => [
        String(Number(l.entry_id.slice(-6))),
        l.account,
        l.debit,
        l.credit,
        l.stage,
        l.entity,
        l.facility_currency,
        l.reference,
        l.movement_line,
      ]),
      expected,
    );
    assert.ok(
      j.lines.every((l) =>
        l.date === "2026-03-31" && l.currency === "EUR" && l.product === "sme"
      ),
    );
    assert.equal(j.entries, 9);
    assert.ok(j.trial_balance.holds, JSON.stringify(j.trial_balance.checks));
    // Allowance: stage 1 10 -> 3, stage 2 5 -> 27.20, stage 3 50 -> 0.
    const net = (code: string) =>
      j.trial_balance.by_account.find((a) => a.account === code)!.net_debit;
    assert.equal(net("1491"), 7);
    assert.equal(net("1492"), -22.2);
    assert.equal(net("1493"), 50);
  });
});

Deno.test("buildJournal() puts the cents lost to rounding on the stage's largest entry, so the allowance ties", async () => {
  await withTempDir(async (root) => {
    const loan = (id: string, region: string, ecl: number) => ({
      loan_id: id,
      currency: "EUR",
      stage: 1 as const,
      ecl,
      gross: 100,
      region,
    });
    const from = await writeFixtureRun(`${root}/from`, {
      runId: "r1",
      reportingDate: "2025-12-31",
      rates: { EUR: 1 },
      loans: [loan("Z", "west", 1)],
    });
    // Three new facilities of 0.334 each in three regions: each entry is
    // 0.33 to the cent, 0.99 together, but the allowance rose by 1.002,
    // 1.00 to the cent: the missing cent goes to the largest entry.
    const to = await writeFixtureRun(`${root}/to`, {
      runId: "r2",
      reportingDate: "2026-03-31",
      rates: { EUR: 1 },
      loans: [
        loan("Z", "west", 1),
        loan("N1", "east", 0.334),
        loan("N2", "north", 0.334),
        loan("N3", "south", 0.334),
      ],
    });
    const folder = await readMovementFolder(
      await writeMovement(from, to, `${root}/mv`),
    );
    const { entities } = await movementEntities(folder.movement);
    const j = await buildJournal(folder.movement, folder.facilities, ACCOUNTS, {
      entities,
    });
    const credits = j.lines.filter((l) => l.account === "1491").map((
      l,
    ) => [l.entity, l.credit]);
    // Ties broken by the entry order (entity): east gets the cent.
    assert.deepEqual(credits, [["east", 0.34], ["north", 0.33], [
      "south",
      0.33,
    ]]);
    assert.match(
      j.lines[0].description,
      /includes 0\.01 rounding to the cent of stage 1's allowance movement/,
    );
    assert.ok(j.trial_balance.holds);
  });
});
