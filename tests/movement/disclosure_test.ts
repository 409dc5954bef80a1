/**
 * The disclosure lines of docs/movement.md on a hand-built book whose every
 * figure is worked out by hand below: the remeasurement of facilities
 * transferred between stages on a line of its own, the column of the
 * simplified approach (IFRS 7 §35H(b)(iii)), recoveries on written-off
 * facilities in the gross carrying amount table, the loss allowance and
 * provision split (IFRS 7 B8E) and the reconciliation per class of
 * instrument (product).
 *
 * Earlier run 2025-12-31 (USD at 0.9 EUR), later run 2026-03-31 (USD at
 * 0.8 EUR); `trade_receivable` is on the simplified approach in both.
 * Amounts in the facility's currency:
 *
 * | loan | product          | earlier: stage, ECL, gross | later                                   |
 * |------|------------------|----------------------------|-----------------------------------------|
 * | C1   | credit_card EUR  | 1, 30, 20                  | 2, 50, 40                               |
 * | C2   | credit_card EUR  | 2, 12, 0                   | 2, 8, 5                                 |
 * | M1   | mortgage EUR     | 1, 10, 1000                | 1, 9, 990                               |
 * | M2   | mortgage USD     | 2, 100, 2000               | 3, 0, 0, 1500 written off (500 recovered)|
 * | S1   | sme EUR          | 3, 300, 400                | 1, 2, 350 (cured)                       |
 * | T1   | trade_receivable | 2, 6, 200                  | 3, 50, 180 (credit-impaired)            |
 * | T2   | trade_receivable | 2, 3, 100                  | absent (paid)                           |
 * | T3   | trade_receivable | absent                     | 2, 4, 400 (new)                         |
 *
 * Every receivable is in the simplified column at both dates, whatever its
 * stage: T1's move to stage 3 is no transfer between columns.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  allowanceTable,
  checkMovement,
  computeMovement,
  type Movement,
  type Reconciliation,
  renderMovementHtml,
} from "../../lib/movement/mod.ts";
import { readRunFolder } from "../../lib/run_folder/mod.ts";
import type { Summary } from "../../lib/run_folder/mod.ts";
import { type FixtureLoan, writeFixtureRun } from "../report/_run_fixture.ts";

const EARLIER: FixtureLoan[] = [
  {
    loan_id: "C1",
    currency: "EUR",
    product: "credit_card",
    stage: 1,
    ecl: 30,
    gross: 20,
  },
  {
    loan_id: "C2",
    currency: "EUR",
    product: "credit_card",
    stage: 2,
    ecl: 12,
    gross: 0,
  },
  {
    loan_id: "M1",
    currency: "EUR",
    product: "mortgage",
    stage: 1,
    ecl: 10,
    gross: 1000,
  },
  {
    loan_id: "M2",
    currency: "USD",
    product: "mortgage",
    stage: 2,
    ecl: 100,
    gross: 2000,
  },
  {
    loan_id: "S1",
    currency: "EUR",
    product: "sme",
    stage: 3,
    ecl: 300,
    gross: 400,
  },
  {
    loan_id: "T1",
    currency: "EUR",
    product: "trade_receivable",
    stage: 2,
    ecl: 6,
    gross: 200,
  },
  {
    loan_id: "T2",
    currency: "EUR",
    product: "trade_receivable",
    stage: 2,
    ecl: 3,
    gross: 100,
  },
];
const LATER: FixtureLoan[] = [
  {
    loan_id: "C1",
    currency: "EUR",
    product: "credit_card",
    stage: 2,
    ecl: 50,
    gross: 40,
  },
  {
    loan_id: "C2",
    currency: "EUR",
    product: "credit_card",
    stage: 2,
    ecl: 8,
    gross: 5,
  },
  {
    loan_id: "M1",
    currency: "EUR",
    product: "mortgage",
    stage: 1,
    ecl: 9,
    gross: 990,
  },
  {
    loan_id: "M2",
    currency: "USD",
    product: "mortgage",
    stage: 3,
    ecl: 0,
    gross: 0,
    write_off: 1500,
  },
  {
    loan_id: "S1",
    currency: "EUR",
    product: "sme",
    stage: 1,
    ecl: 2,
    gross: 350,
  },
  {
    loan_id: "T1",
    currency: "EUR",
    product: "trade_receivable",
    stage: 3,
    ecl: 50,
    gross: 180,
  },
  {
    loan_id: "T3",
    currency: "EUR",
    product: "trade_receivable",
    stage: 2,
    ecl: 4,
    gross: 400,
  },
];

async function runs(opts: { simplified?: [string[], string[]] } = {}) {
  const [a, b] = opts.simplified ??
    [["trade_receivable"], ["trade_receivable"]];
  const root = await Deno.makeTempDir({ prefix: "movement_disclosure_" });
  const from = await writeFixtureRun(`${root}/from`, {
    runId: "r1",
    reportingDate: "2025-12-31",
    rates: { EUR: 1, USD: 0.9 },
    loans: EARLIER,
    simplifiedProducts: a,
  });
  const to = await writeFixtureRun(`${root}/to`, {
    runId: "r2",
    reportingDate: "2026-03-31",
    rates: { EUR: 1, USD: 0.8 },
    loans: LATER,
    simplifiedProducts: b,
  });
  return { root, from: await readRunFolder(from), to: await readRunFolder(to) };
}

/** [stage 1, stage 2, stage 3, simplified, total], rounded to 1e-9. */
function line(r: Reconciliation, key: string): number[] {
  const l = r.lines.find((x) => x.key === key);
  assert.ok(l, `line ${key}`);
  return [
    ...(["1", "2", "3", "simplified"] as const).map((c) => l.by_stage[c]),
    l.total,
  ].map((v) => Math.round(v * 1e9) / 1e9 + 0);
}

let cached: Movement | undefined;
async function movement(): Promise<Movement> {
  if (cached) return cached;
  const { root, from, to } = await runs();
  cached = (await computeMovement(from, to)).movement;
  await Deno.remove(root, { recursive: true });
  return cached;
}

Deno.test("the allowance table separates the remeasurement of transferred facilities and has a simplified column", async () => {
  const a = (await movement()).allowance;
  assert.deepEqual(a.lines.map((l) => l.key), [
    "opening",
    "transfer_to_stage_1",
    "transfer_to_stage_2",
    "transfer_to_stage_3",
    "transfer_to_simplified",
    "remeasurement_transferred",
    "new_originated",
    "derecognised",
    "write_off",
    "remeasurement",
    "fx",
    "closing",
  ]);
  // Opening a0*r0 by opening column: stage 1 C1 30 + M1 10; stage 2 C2 12
  // + M2 100 USD * 0.9 = 90; stage 3 S1 300; simplified T1 6 + T2 3.
  assert.deepEqual(line(a, "opening"), [40, 102, 300, 9, 451]);
  // Transfers at the opening allowance: S1 3 -> 1 (300), C1 1 -> 2 (30),
  // M2 2 -> 3 (90). T1 stays in the simplified column.
  assert.deepEqual(line(a, "transfer_to_stage_1"), [300, 0, -300, 0, 0]);
  assert.deepEqual(line(a, "transfer_to_stage_2"), [-30, 30, 0, 0, 0]);
  assert.deepEqual(line(a, "transfer_to_stage_3"), [0, -90, 90, 0, 0]);
  assert.deepEqual(line(a, "transfer_to_simplified"), [0, 0, 0, 0, 0]);
  // The rest of the transferred facilities' change, a1*r1 - a0*r1' + w*r1,
  // in the closing stage: S1 2 - 300 = -298; C1 50 - 30 = 20; M2
  // 0 - 100*0.8 + 1500*0.8 = 1120 (topped up to the amount written off).
  assert.deepEqual(line(a, "remeasurement_transferred"), [
    -298,
    20,
    1120,
    0,
    842,
  ]);
  assert.deepEqual(line(a, "new_originated"), [0, 0, 0, 4, 4]); // T3
  assert.deepEqual(line(a, "derecognised"), [0, 0, 0, -3, -3]); // T2
  assert.deepEqual(line(a, "write_off"), [0, 0, -1200, 0, -1200]); // M2
  // Facilities that stayed in their column: M1 9 - 10; C2 8 - 12; T1
  // 50 - 6 (its move to stage 3 within the simplified column).
  assert.deepEqual(line(a, "remeasurement"), [-1, -4, 0, 44, 39]);
  assert.deepEqual(line(a, "fx"), [0, 0, -10, 0, -10]); // M2 100*(0.8-0.9)
  // Closing: M1 9 + S1 2; C1 50 + C2 8; M2 0; T1 50 + T3 4.
  assert.deepEqual(line(a, "closing"), [11, 58, 0, 54, 123]);
});

Deno.test("the gross carrying amount table books cash recovered on written-off facilities under recoveries", async () => {
  const g = (await movement()).gross_carrying_amount;
  assert.deepEqual(g.lines.map((l) => l.key), [
    "opening",
    "transfer_to_stage_1",
    "transfer_to_stage_2",
    "transfer_to_stage_3",
    "transfer_to_simplified",
    "new_originated",
    "derecognised",
    "write_off",
    "recoveries",
    "remeasurement",
    "fx",
    "closing",
  ]);
  // C1 20 + M1 1000; C2 0 + M2 2000*0.9; S1 400; T1 200 + T2 100.
  assert.deepEqual(line(g, "opening"), [1020, 1800, 400, 300, 3520]);
  assert.deepEqual(line(g, "transfer_to_stage_1"), [400, 0, -400, 0, 0]);
  assert.deepEqual(line(g, "transfer_to_stage_2"), [-20, 20, 0, 0, 0]);
  assert.deepEqual(line(g, "transfer_to_stage_3"), [0, -1800, 1800, 0, 0]);
  assert.deepEqual(line(g, "new_originated"), [0, 0, 0, 400, 400]);
  assert.deepEqual(line(g, "derecognised"), [0, 0, 0, -100, -100]);
  assert.deepEqual(line(g, "write_off"), [0, 0, -1200, 0, -1200]);
  // M2: g1*r1 - g0*r1' + w*r1 = 0 - 2000*0.8 + 1500*0.8 = -400, the 500
  // USD collected before the remaining 1500 were written off.
  assert.deepEqual(line(g, "recoveries"), [0, 0, -400, 0, -400]);
  // Everything else in both runs: M1 -10, S1 -50 (stage 1); C1 +20, C2 +5
  // (stage 2); T1 -20 (simplified). Nothing of M2.
  assert.deepEqual(line(g, "remeasurement"), [-60, 25, 0, -20, -55]);
  assert.deepEqual(line(g, "fx"), [0, 0, -200, 0, -200]); // 2000*(0.8-0.9)
  assert.deepEqual(line(g, "closing"), [1340, 45, 0, 580, 1965]);
});

Deno.test("the allowance splits into loss allowance and provision per stage at both dates (B8E)", async () => {
  const s = (await movement()).allowance_split;
  const row = (a: { by_stage: Record<string, number>; total: number }) =>
    [
      a.by_stage["1"],
      a.by_stage["2"],
      a.by_stage["3"],
      a.by_stage.simplified,
      a.total,
    ]
      .map((v) => Math.round(v * 1e9) / 1e9 + 0);
  // Per facility, allowance min(ECL, gross), provision the rest. Opening:
  // C1 20 + 10 and M1 10 (stage 1); C2 0 + 12 and M2 90 (stage 2); S1 300;
  // T1 6, T2 3.
  assert.deepEqual(row(s.opening.loss_allowance), [30, 90, 300, 9, 429]);
  assert.deepEqual(row(s.opening.provision), [10, 12, 0, 0, 22]);
  // Closing: M1 9, S1 2; C1 40 + 10, C2 5 + 3; M2 0; T1 50, T3 4.
  assert.deepEqual(row(s.closing.loss_allowance), [11, 45, 0, 54, 110]);
  assert.deepEqual(row(s.closing.provision), [0, 13, 0, 0, 13]);
});

Deno.test("the reconciliation is given per product and the products add up to the total", async () => {
  const m = await movement();
  assert.deepEqual(m.by_product.map((p) => p.product), [
    "credit_card",
    "mortgage",
    "sme",
    "trade_receivable",
  ]);
  const of = (p: string) => m.by_product.find((x) => x.product === p)!;
  const card = of("credit_card").allowance;
  assert.deepEqual(line(card, "opening"), [30, 12, 0, 0, 42]);
  assert.deepEqual(line(card, "transfer_to_stage_2"), [-30, 30, 0, 0, 0]);
  assert.deepEqual(line(card, "remeasurement_transferred"), [0, 20, 0, 0, 20]);
  assert.deepEqual(line(card, "remeasurement"), [0, -4, 0, 0, -4]);
  assert.deepEqual(line(card, "closing"), [0, 58, 0, 0, 58]);
  const mortgage = of("mortgage");
  assert.deepEqual(line(mortgage.allowance, "opening"), [10, 90, 0, 0, 100]);
  assert.deepEqual(line(mortgage.allowance, "write_off"), [
    0,
    0,
    -1200,
    0,
    -1200,
  ]);
  assert.deepEqual(line(mortgage.allowance, "closing"), [9, 0, 0, 0, 9]);
  assert.deepEqual(
    line(mortgage.gross_carrying_amount, "recoveries"),
    [0, 0, -400, 0, -400],
  );
  assert.deepEqual(line(of("sme").allowance, "transfer_to_stage_1"), [
    300,
    0,
    -300,
    0,
    0,
  ]);
  const receivables = of("trade_receivable").allowance;
  assert.deepEqual(line(receivables, "opening"), [0, 0, 0, 9, 9]);
  assert.deepEqual(line(receivables, "remeasurement"), [0, 0, 0, 44, 44]);
  assert.deepEqual(line(receivables, "closing"), [0, 0, 0, 54, 54]);
  for (const c of m.checks) assert.ok(c.passed, `${c.name}: ${c.detail}`);
  assert.ok(
    m.checks.some((c) =>
      c.name === "allowance: the products' tables add up to the total table"
    ),
  );
});

Deno.test("the simplified column ties to the runs' simplified products and, by stage, to their totals by stage", async () => {
  const m = await movement();
  // by_stage in summary.json counts T1, T2 in stage 2 at the earlier date
  // (111 = 102 + 9) and T3 in stage 2, T1 in stage 3 at the later one.
  assert.deepEqual(m.simplified_by_stage.opening.allowance, {
    "1": 0,
    "2": 9,
    "3": 0,
  });
  assert.deepEqual(m.simplified_by_stage.closing.allowance, {
    "1": 0,
    "2": 4,
    "3": 50,
  });
  assert.deepEqual(m.simplified_by_stage.closing.gross_carrying_amount, {
    "1": 0,
    "2": 400,
    "3": 180,
  });
  assert.deepEqual(m.simplified_products, ["trade_receivable"]);

  const { root, from, to } = await runs();
  const tamper = (f: (s: Summary) => void) => {
    const s: Summary = structuredClone(to.summary);
    f(s);
    return checkMovement(m, from.summary, s).filter((c) => !c.passed);
  };
  const receivables = (s: Summary) =>
    s.by_product.find((g) => g.key === "trade_receivable")!;
  const stage3 = (s: Summary) => s.by_stage.find((g) => g.key === "3")!;
  const failed = tamper((s) => receivables(s).ecl += 1);
  assert.deepEqual(failed.map((c) => c.name), [
    "allowance: closing equals the later run's totals",
  ]);
  assert.match(
    failed[0].detail,
    /^simplified \(the run's simplified products\) is 54, expected 55/,
  );
  assert.match(
    tamper((s) => stage3(s).gross_carrying_amount += 1)[0].detail,
    /^stage 3 \(with the simplified facilities in stage 3\) is 180, expected 181/,
  );
  await Deno.remove(root, { recursive: true });
});

Deno.test("runs without simplified products (older runs) put receivables in their stage", async () => {
  const { root, from, to } = await runs({ simplified: [[], []] });
  const { movement: m } = await computeMovement(from, to);
  const a = m.allowance;
  // T1, T2 in stage 2 (opening 102 + 9); T1 2 -> 3 now a transfer at 6,
  // then remeasured by 44 in stage 3; T3 new in stage 2.
  assert.deepEqual(line(a, "opening"), [40, 111, 300, 0, 451]);
  assert.deepEqual(line(a, "transfer_to_stage_3"), [0, -96, 96, 0, 0]);
  assert.deepEqual(line(a, "remeasurement_transferred"), [
    -298,
    20,
    1164,
    0,
    886,
  ]);
  assert.deepEqual(line(a, "closing"), [11, 62, 50, 0, 123]);
  for (const c of m.checks) assert.ok(c.passed, `${c.name}: ${c.detail}`);
  assert.deepEqual(m.simplified_products, []);
  // Without simplified products the table has no simplified column.
  assert.doesNotMatch(allowanceTable(m), /simplified/);
  await Deno.remove(root, { recursive: true });
});

Deno.test("a product that moves to the simplified approach between the runs is a transfer", async () => {
  // Rules changed: trade_receivable on the general approach at the earlier
  // date, on the simplified one at the later date.
  const { root, from, to } = await runs({
    simplified: [[], ["trade_receivable"]],
  });
  const { movement: m } = await computeMovement(from, to);
  const a = m.allowance;
  // T1 (stage 2, 6) moves from the stage 2 column into the simplified
  // one at its opening allowance, and is remeasured there by 50 - 6.
  assert.deepEqual(line(a, "transfer_to_simplified"), [0, -6, 0, 6, 0]);
  assert.deepEqual(line(a, "remeasurement_transferred"), [
    -298,
    20,
    1120,
    44,
    886,
  ]);
  assert.deepEqual(line(a, "remeasurement"), [-1, -4, 0, 0, -5]);
  // T2 derecognised from stage 2, where it was at the earlier date.
  assert.deepEqual(line(a, "derecognised"), [0, -3, 0, 0, -3]);
  assert.equal(m.facilities.changed_approach, 1);
  assert.equal(m.facilities.transferred, 4);
  for (const c of m.checks) assert.ok(c.passed, `${c.name}: ${c.detail}`);
  assert.match(allowanceTable(m), /\nTransfer to simplified +0\.00 +-6\.00/);
  await Deno.remove(root, { recursive: true });
});

Deno.test("the migration matrix keeps receivables on the simplified approach in a state of their own", async () => {
  const m = await movement();
  const cells = Object.fromEntries(
    m.migration.map((c) => [`${c.from}>${c.to}`, c.count]),
  );
  assert.deepEqual(cells, {
    "1>1": 1, // M1
    "1>2": 1, // C1
    "2>2": 1, // C2
    "2>written_off": 1, // M2
    "3>1": 1, // S1
    "new>simplified": 1, // T3
    "simplified>derecognised": 1, // T2
    "simplified>simplified": 1, // T1, stage 2 -> 3 within the column
  });
  assert.deepEqual(m.facilities, {
    stayed: 5,
    new: 1,
    derecognised: 1,
    written_off: 1,
    transferred: 3,
    changed_approach: 0,
  });
});

Deno.test("checkMovement() fails when a product's table does not add up to the total or the B8E parts miss the allowance", async () => {
  const m = await movement();
  const { root, from, to } = await runs();
  const broken: Movement = structuredClone(m);
  broken.by_product[0].allowance.lines[9].by_stage["2"] += 1;
  broken.allowance_split.closing.provision.by_stage["2"] -= 1;
  const failed = checkMovement(broken, from.summary, to.summary)
    .filter((c) => !c.passed);
  assert.deepEqual(failed.map((c) => c.name), [
    "allowance: closing loss allowance and provision equal the later run's (B8E)",
    "allowance: loss allowance + provision = allowance per stage (B8E)",
    "allowance: the products' tables add up to the total table",
  ]);
  assert.match(failed[1].detail, /^closing 2 is 57, expected 58/);
  assert.match(failed[2].detail, /^remeasurement 2 is -3, expected -4/);
  await Deno.remove(root, { recursive: true });
});

Deno.test("the B8E split ties to the loss allowance and provision of the runs' summaries", async () => {
  const m = await movement();
  const { root, from, to } = await runs();
  const names = (checks: { name: string }[]) =>
    checks.map((c) => c.name).filter((n) => n.endsWith("run's (B8E)"));
  assert.deepEqual(names(m.checks), [
    "allowance: opening loss allowance and provision equal the earlier run's (B8E)",
    "allowance: closing loss allowance and provision equal the later run's (B8E)",
  ]);
  // The later run's stage 2 (by_stage) holds C1 (40 + 10), C2 (5 + 3) and
  // the receivable T3 (4 + 0): provision 13, matched by the stage 2 column's
  // 13 plus the simplified stage 2 facilities' 0.
  const s: Summary = structuredClone(to.summary);
  s.by_stage.find((g) => g.key === "2")!.provision += 1;
  const failed = checkMovement(m, from.summary, s).filter((c) => !c.passed);
  assert.equal(failed.length, 1);
  assert.match(
    failed[0].detail,
    /^provision stage 2 \(with the simplified facilities in stage 2\) is 13, expected 14/,
  );
  // Summaries written before the split carry no parts: nothing to tie.
  const old: Summary = structuredClone(to.summary);
  const legacy = old.totals as unknown as Record<string, unknown>;
  delete legacy.loss_allowance;
  delete legacy.provision;
  assert.deepEqual(names(checkMovement(m, from.summary, old)), [
    "allowance: opening loss allowance and provision equal the earlier run's (B8E)",
  ]);
  await Deno.remove(root, { recursive: true });
});

Deno.test("the console table and movement.html show the simplified column, the new lines, the B8E split and the products", async () => {
  const m = await movement();
  const text = allowanceTable(m);
  assert.match(
    text,
    /\n {28}( +stage 1)( +stage 2)( +stage 3) +simplified +total\n/,
  );
  assert.match(
    text,
    /\nRemeasurement, transferred +-298\.00 +20\.00 +1,120\.00 +0\.00 +842\.00\n/,
  );
  // No product changed approach: the always-zero line is not printed.
  assert.doesNotMatch(text, /Transfer to simplified/);
  assert.match(
    text,
    /\n {2}of which loss allowance +11\.00 +45\.00 +0\.00 +54\.00 +110\.00\n/,
  );
  assert.match(
    text,
    /\n {2}of which provision \(B8E\) +0\.00 +13\.00 +0\.00 +0\.00 +13\.00\n/,
  );

  const html = renderMovementHtml(m);
  assert.match(html, /<th class="num" scope="col">Simplified<\/th>/);
  assert.match(html, /Remeasurement of facilities transferred between stages/);
  assert.match(html, /Recoveries on facilities written off \(cash collected\)/);
  assert.match(html, /Transfers are measured at the opening allowance/);
  assert.match(html, /IFRS 7 B8E/);
  assert.match(
    html,
    /2026-03-31: provision \(undrawn commitments, a liability\)/,
  );
  for (const p of ["credit_card", "mortgage", "sme", "trade_receivable"]) {
    // The product's ECL (loss allowance and provision), not called "loss
    // allowance", which the run report uses for the B8E part alone.
    assert.match(html, new RegExp(`<details><summary>${p}: ECL `));
  }
  // Total and four columns per table, and the heat map.
  assert.equal(
    (html.match(/<svg[^>]* class="plot-[0-9a-z]+">/g) ?? []).length,
    11,
  ); // the charts' own SVGs, not their legends' swatches
  assert.doesNotMatch(html, /Transfer to the simplified approach/);
});
