/**
 * What the journal refuses and where it posts the cents of rounding:
 * a `movement.json` changed by hand (a closing that its lines do not reach,
 * or an opening and closing that are not the facilities') is refused by the
 * task with exit 1 and nothing written; a rounding difference larger than
 * half a cent per entry is refused by `buildJournal()`; a column with no
 * impairment entry gets its cents as an entry posted to the entity and
 * product of its largest line, never to `(all)`.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { parse } from "yaml";
import {
  buildJournal,
  JournalCheckError,
  parseGlAccounts,
} from "../../lib/journal/mod.ts";
import type { Movement } from "../../lib/movement/mod.ts";
import { runTaskProcess, withTempDir } from "../tasks/_main.ts";
import { handMovement } from "./_movement.ts";

const TASK = new URL("../../tasks/journal.ts", import.meta.url).pathname;
const ACCOUNTS = parseGlAccounts(
  parse(
    await Deno.readTextFile(
      new URL("../../config/gl_accounts.yaml", import.meta.url),
    ),
  ),
  "config/gl_accounts.yaml",
);

const task = (...args: string[]) => runTaskProcess(TASK, args);

/** Rewrites `dir/movement.json`, adding `add` to stage 2's `keys` lines. */
async function tamper(dir: string, keys: string[], add: number) {
  const path = `${dir}/movement.json`;
  const m = JSON.parse(await Deno.readTextFile(path));
  for (const l of m.allowance.lines) {
    if (keys.includes(l.key)) {
      l.by_stage["2"] += add;
      l.total += add;
    }
  }
  await Deno.writeTextFile(path, JSON.stringify(m, null, 2));
}

Deno.test("tasks/journal.ts refuses a movement.json whose stage 2 closing was raised by 10.00 (exit 1, nothing written)", async () => {
  await withTempDir(async (root) => {
    const mv = await handMovement(root);
    // By hand (tests/journal/_movement.ts): stage 2 opens at D's 10 USD at
    // 0.5 = 5.00 and closes at A's 20 + D's 12 USD at 0.6 = 27.20.
    await tamper(mv, ["closing"], 10);
    const r = await task("--movement", mv, "--out", `${root}/j`);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(
      r.stderr,
      /allowance of stage 2 does not add up: opening 5 plus its lines is 27\.2\d*, but the closing is 37\.2\d*/,
    );
    await assert.rejects(() => Deno.stat(`${root}/j`), Deno.errors.NotFound);
  });
});

Deno.test("tasks/journal.ts refuses a movement.json whose stage 2 opening and closing were both raised (exit 1, nothing written)", async () => {
  await withTempDir(async (root) => {
    const mv = await handMovement(root);
    // Still adds up, but is not the facilities' movement.
    await tamper(mv, ["opening", "closing"], 10);
    const r = await task("--movement", mv, "--out", `${root}/j`);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(
      r.stderr,
      /the allowance opening of stage 2 is 15 in movement\.json but 5 summed over movement_facilities\.parquet/,
    );
    await assert.rejects(() => Deno.stat(`${root}/j`), Deno.errors.NotFound);
  });
});

const ZERO = { "1": 0, "2": 0, "3": 0, simplified: 0 };

/** A movement.json of the lines given (others zero), by stage column. */
function movementOf(
  lines: Record<string, Partial<typeof ZERO>>,
): Movement {
  const keys = [
    "opening",
    "transfer_to_stage_1",
    "transfer_to_stage_2",
    "transfer_to_stage_3",
    "transfer_to_simplified",
    "new_originated",
    "derecognised",
    "remeasurement_transferred",
    "remeasurement",
    "fx",
    "write_off",
    "closing",
  ];
  return {
    reporting_currency: "EUR",
    from: { reporting_date: "2025-12-31", dir: "a" },
    to: { reporting_date: "2026-03-31", dir: "b" },
    allowance: {
      measure: "allowance",
      lines: keys.map((key) => {
        const by_stage = { ...ZERO, ...lines[key] };
        return {
          key,
          label: key,
          by_stage,
          total: Math.sumPrecise(Object.values(by_stage)),
        };
      }),
    },
  } as unknown as Movement;
}

/** Facility-level lines as movement_facilities.parquet holds them. */
function facilitiesOf(rows: {
  loan_id: string;
  product: string;
  stage_from: number;
  stage_to: number;
  opening: number;
  transfer?: number;
  new_originated?: number;
  closing: number;
}[]) {
  const col = (f: (r: (typeof rows)[number]) => unknown) => rows.map(f);
  const zero = col(() => 0);
  return pl.DataFrame({
    loan_id: col((r) => r.loan_id),
    product: col((r) => r.product),
    currency_from: col(() => "EUR"),
    currency_to: col(() => "EUR"),
    stage_from: col((r) => r.stage_from),
    stage_to: col((r) => r.stage_to),
    simplified_from: col(() => false),
    simplified_to: col(() => false),
    allowance_opening: col((r) => r.opening),
    allowance_transfer: col((r) => r.transfer ?? 0),
    allowance_new_originated: col((r) => r.new_originated ?? 0),
    allowance_derecognised: zero,
    allowance_fx: zero,
    allowance_write_off: zero,
    allowance_remeasurement_transferred: zero,
    allowance_remeasurement: zero,
    allowance_closing: col((r) => r.closing),
    gross_recoveries: zero,
    gross_write_off: zero,
  }).lazy().withColumns(
    pl.col("stage_from").cast(pl.Int32),
    pl.col("stage_to").cast(pl.Int32),
  );
}

Deno.test("buildJournal() refuses a rounding difference larger than half a cent per entry, naming the stage and both figures", async () => {
  // One facility: opening 0, new 1.00, but closing 11.00; movement.json
  // agrees with the facility's opening and closing, so only the rounding
  // step sees that 1.00 posted is not the 11.00 change.
  const movement = movementOf({
    new_originated: { "1": 1 },
    closing: { "1": 11 },
  });
  const facilities = facilitiesOf([{
    loan_id: "A",
    product: "p",
    stage_from: 1,
    stage_to: 1,
    opening: 0,
    new_originated: 1,
    closing: 11,
  }]);
  await assert.rejects(
    () => buildJournal(movement, facilities, ACCOUNTS),
    (e: Error) =>
      e instanceof JournalCheckError && e.kind === "check" &&
      /allowance of stage 1 moves by 11\.00 \(closing 11 minus opening 0 in movement\.json\) but its 1 entries post 1\.00: a difference of 10\.00/
        .test(e.message),
  );
});

Deno.test("buildJournal() posts a column's rounding cent to the entity and product of its largest line when it has no impairment entry", async () => {
  // Three facilities move from stage 1 to stage 2 with allowances of
  // 0.334, 0.333 and 0.332: three transfers of 0.33 to the cent, 0.99,
  // but stage 2 rose by 0.999, 1.00 to the cent (and stage 1 fell by 1.00):
  // one cent per column with no impairment entry to carry it.
  const rows = [
    ["A", "mortgage", 0.333],
    ["B", "card", 0.334],
    ["C", "loan", 0.332],
  ] as const;
  const movement = movementOf({
    opening: { "1": 0.999 },
    transfer_to_stage_2: { "1": -0.999, "2": 0.999 },
    closing: { "2": 0.999 },
  });
  const facilities = facilitiesOf(rows.map(([id, product, x]) => ({
    loan_id: id,
    product,
    stage_from: 1,
    stage_to: 2,
    opening: x,
    transfer: x,
    closing: x,
  })));
  const entities = pl.DataFrame({
    loan_id: ["A", "B", "C"],
    entity: ["bank-fr", "bank-de", "bank-it"],
  }).lazy();
  const j = await buildJournal(movement, facilities, ACCOUNTS, { entities });
  const rounding = j.lines.filter((l) => l.movement_line === "rounding");
  // Largest line: B (0.334), entity bank-de, product card. Stage 2 gets
  // +0.01 (credit allowance, debit impairment), stage 1 -0.01.
  assert.deepEqual(
    rounding.map((l) => [
      l.entity,
      l.product,
      l.account,
      l.debit,
      l.credit,
      l.stage,
    ]),
    [
      ["bank-de", "card", "1491", 0.01, 0, "1"],
      ["bank-de", "card", ACCOUNTS.impairment_expense.code, 0, 0.01, "1"],
      ["bank-de", "card", ACCOUNTS.impairment_expense.code, 0.01, 0, "2"],
      ["bank-de", "card", "1492", 0, 0.01, "2"],
    ],
  );
  assert.ok(rounding.every((l) => /largest line/.test(l.description)));
  assert.ok(j.lines.every((l) => !l.entity.includes("(all)")));
  assert.ok(j.trial_balance.holds);
});
