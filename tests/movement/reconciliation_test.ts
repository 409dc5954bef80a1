/**
 * The movement analysis on a hand-built book whose every reconciliation line
 * is worked out by hand below (docs/movement.md §3).
 *
 * Earlier run (2025-12-31, USD at 0.9 EUR), later run (2026-03-31, USD at
 * 0.8 EUR):
 *
 * | loan | earlier                     | later                                   |
 * |------|-----------------------------|-----------------------------------------|
 * | L1   | EUR, stage 1, ECL 10, 1000  | stage 2, ECL 25, 950                    |
 * | L2   | USD, stage 2, ECL 300, 500  | stage 3, ECL 0, 0, written off 450 USD  |
 * | L3   | EUR, stage 1, ECL 5, 800    | absent (repaid)                         |
 * | L4   | absent                      | USD, stage 1, ECL 20, 2000 (new)        |
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  computeMovement,
  type Movement,
  MovementError,
  type Reconciliation,
  writeMovementOutputs,
} from "../../lib/movement/mod.ts";
import { MOVEMENT_FILES, readRunFolder } from "../../lib/run_folder/mod.ts";
import { type FixtureLoan, writeFixtureRun } from "../report/_run_fixture.ts";

async function handBuiltRuns() {
  const root = await Deno.makeTempDir({ prefix: "movement_test_" });
  const from = await writeFixtureRun(`${root}/from`, {
    runId: "r1",
    reportingDate: "2025-12-31",
    rates: { EUR: 1, USD: 0.9 },
    loans: [
      { loan_id: "L1", currency: "EUR", stage: 1, ecl: 10, gross: 1000 },
      { loan_id: "L2", currency: "USD", stage: 2, ecl: 300, gross: 500 },
      { loan_id: "L3", currency: "EUR", stage: 1, ecl: 5, gross: 800 },
    ],
  });
  const to = await writeFixtureRun(`${root}/to`, {
    runId: "r2",
    reportingDate: "2026-03-31",
    rates: { EUR: 1, USD: 0.8 },
    loans: [
      { loan_id: "L1", currency: "EUR", stage: 2, ecl: 25, gross: 950 },
      {
        loan_id: "L2",
        currency: "USD",
        stage: 3,
        ecl: 0,
        gross: 0,
        write_off: 450,
      },
      { loan_id: "L4", currency: "USD", stage: 1, ecl: 20, gross: 2000 },
    ],
  });
  return { root, from: await readRunFolder(from), to: await readRunFolder(to) };
}

/** The line as [stage 1, stage 2, stage 3, simplified], rounded to 1e-9. */
function line(r: Reconciliation, key: string): number[] {
  const l = r.lines.find((x) => x.key === key)!;
  return [
    l.by_stage["1"],
    l.by_stage["2"],
    l.by_stage["3"],
    l.by_stage.simplified,
  ].map((v) => Math.round(v * 1e9) / 1e9 + 0);
}

let cached: Movement | undefined;
async function movement(): Promise<Movement> {
  if (cached) return cached;
  const { root, from, to } = await handBuiltRuns();
  cached = (await computeMovement(from, to)).movement;
  await Deno.remove(root, { recursive: true });
  return cached;
}

Deno.test("computeMovement() gives the hand-computed allowance lines", async () => {
  const a = (await movement()).allowance;
  // Opening: L1 10 + L3 5 in stage 1; L2 300 USD * 0.9 = 270 in stage 2.
  assert.deepEqual(line(a, "opening"), [15, 270, 0, 0]);
  // L1 moves 1 -> 2 at its opening allowance 10; L2 2 -> 3 at 270.
  assert.deepEqual(line(a, "transfer_to_stage_1"), [0, 0, 0, 0]);
  assert.deepEqual(line(a, "transfer_to_stage_2"), [-10, 10, 0, 0]);
  assert.deepEqual(line(a, "transfer_to_stage_3"), [0, -270, 270, 0]);
  assert.deepEqual(line(a, "transfer_to_simplified"), [0, 0, 0, 0]);
  // Both changed stage, so their remeasurement is the transferred one, in
  // the closing stage. L1: 25 - 10; L2: 0 - 300 * 0.8 + 360 (allowance
  // topped up to the write-off).
  assert.deepEqual(line(a, "remeasurement_transferred"), [0, 15, 120, 0]);
  // L4: 20 USD at the closing rate 0.8.
  assert.deepEqual(line(a, "new_originated"), [16, 0, 0, 0]);
  // L3 repaid: its opening allowance leaves stage 1.
  assert.deepEqual(line(a, "derecognised"), [-5, 0, 0, 0]);
  // L2: 450 USD written off at 0.8.
  assert.deepEqual(line(a, "write_off"), [0, 0, -360, 0]);
  // No facility in both runs stayed in its stage.
  assert.deepEqual(line(a, "remeasurement"), [0, 0, 0, 0]);
  // L2: 300 USD * (0.8 - 0.9).
  assert.deepEqual(line(a, "fx"), [0, 0, -30, 0]);
  assert.deepEqual(line(a, "closing"), [16, 25, 0, 0]);
});

Deno.test("computeMovement() gives the hand-computed gross carrying amount lines", async () => {
  const g = (await movement()).gross_carrying_amount;
  assert.deepEqual(line(g, "opening"), [1800, 450, 0, 0]);
  assert.deepEqual(line(g, "transfer_to_stage_2"), [-1000, 1000, 0, 0]);
  assert.deepEqual(line(g, "transfer_to_stage_3"), [0, -450, 450, 0]);
  assert.deepEqual(line(g, "new_originated"), [1600, 0, 0, 0]);
  assert.deepEqual(line(g, "derecognised"), [-800, 0, 0, 0]);
  // The same write-off as in the allowance table (IFRS 7 §35H/§35I).
  assert.deepEqual(line(g, "write_off"), [0, 0, -360, 0]);
  // L2 written off: 0 - 500 * 0.8 + 360 = -40, the 50 USD collected before
  // the remaining 450 were written off, at the closing rate.
  assert.deepEqual(line(g, "recoveries"), [0, 0, -40, 0]);
  // L1: 950 - 1000.
  assert.deepEqual(line(g, "remeasurement"), [0, -50, 0, 0]);
  assert.deepEqual(line(g, "fx"), [0, 0, -50, 0]);
  assert.deepEqual(line(g, "closing"), [1600, 950, 0, 0]);
});

Deno.test("computeMovement() builds the migration matrix with new, derecognised and written-off states", async () => {
  const m = await movement();
  const cells = Object.fromEntries(
    m.migration.map((c) => [`${c.from}>${c.to}`, c]),
  );
  assert.deepEqual(Object.keys(cells).sort(), [
    "1>2",
    "1>derecognised",
    "2>written_off",
    "new>1",
  ]);
  assert.equal(cells["1>2"].count, 1);
  assert.equal(cells["1>2"].gross_opening, 1000);
  assert.equal(cells["1>2"].gross_closing, 950);
  assert.equal(cells["2>written_off"].gross_opening, 450);
  assert.equal(cells["new>1"].gross_closing, 1600);
  assert.deepEqual(m.facilities, {
    stayed: 1,
    new: 1,
    derecognised: 1,
    written_off: 1,
    transferred: 2,
    changed_approach: 0,
  });
});

Deno.test("computeMovement() reports every invariant as holding", async () => {
  const m = await movement();
  assert.ok(m.checks.length >= 10);
  for (const c of m.checks) assert.ok(c.passed, `${c.name}: ${c.detail}`);
});

Deno.test("computeMovement() refuses runs whose totals do not match their loans", async () => {
  const { root, from, to } = await handBuiltRuns();
  to.summary.totals.ecl += 0.02;
  await assert.rejects(
    () => computeMovement(from, to),
    (e: Error) =>
      e instanceof MovementError &&
      /allowance: closing equals the later run's totals: total is 41, expected 41.02/
        .test(
          e.message,
        ),
  );
  const { movement } = await computeMovement(from, to, {
    throwOnFailure: false,
  });
  assert.equal(movement.checks.filter((c) => !c.passed).length, 1);
  await Deno.remove(root, { recursive: true });
});

Deno.test("computeMovement() refuses a currency without a rate, naming it", async () => {
  const { root, from, to } = await handBuiltRuns();
  delete to.summary.fx.rates.USD;
  await assert.rejects(
    () => computeMovement(from, to),
    /summary\.json: fx\.rates has no rate for USD/,
  );
  await assert.rejects(
    () => computeMovement(to, from),
    /is not before --to reporting date/,
  );
  await Deno.remove(root, { recursive: true });
});

Deno.test("computeMovement() warns about FX tables of another date and unchanged rates", async () => {
  const { root, from, to } = await handBuiltRuns();
  // Each run on its reporting date's table, USD 0.9 -> 0.8: nothing to say.
  assert.deepEqual((await computeMovement(from, to)).movement.warnings, []);

  to.summary.fx.as_of = "2025-12-31";
  assert.deepEqual((await computeMovement(from, to)).movement.warnings, [
    "Run r2: FX table config/fx_rates.yaml is as of 2025-12-31, not the reporting date 2026-03-31: totals in the reporting currency use that date's rates (pass --fx with the closing rates of 2026-03-31)",
  ]);

  // Two EUR-only runs at the same rates: the FX line cannot move.
  const eur = (runId: string, reportingDate: string, ecl: number) =>
    writeFixtureRun(`${root}/${runId}`, {
      runId,
      reportingDate,
      rates: { EUR: 1 },
      loans: [{ loan_id: "L1", currency: "EUR", stage: 1, ecl, gross: 1000 }],
    }).then(readRunFolder);
  const { movement } = await computeMovement(
    await eur("q1", "2025-12-31", 10),
    await eur("q2", "2026-03-31", 12),
  );
  assert.deepEqual(movement.warnings, [
    "Both runs converted at the same rates (config/fx_rates.yaml as of 2025-12-31, config/fx_rates.yaml as of 2026-03-31): the foreign-exchange line is zero by construction",
  ]);
  await Deno.remove(root, { recursive: true });
});

Deno.test("computeMovement() ties to the run totals to the cent over 100,001 facilities of very different sizes", async () => {
  // One facility of 1e11 and 100,000 of one cent: adding them one after
  // another drifts by about 0.3, sixty times the half-cent tolerance. The
  // fixture's totals are correctly rounded (Math.sumPrecise).
  const root = await Deno.makeTempDir({ prefix: "movement_test_" });
  const book = (ecl: number): FixtureLoan[] => [
    { loan_id: "BIG", currency: "EUR", stage: 1, ecl: 1e9, gross: 1e11 },
    ...Array.from({ length: 100_000 }, (_, i) => ({
      loan_id: `S${i}`,
      currency: "EUR",
      stage: 1 as const,
      ecl,
      gross: 0.01,
    })),
  ];
  const from = await readRunFolder(
    await writeFixtureRun(`${root}/from`, {
      runId: "r1",
      reportingDate: "2025-12-31",
      rates: { EUR: 1 },
      loans: book(0.01),
    }),
  );
  const to = await readRunFolder(
    await writeFixtureRun(`${root}/to`, {
      runId: "r2",
      reportingDate: "2026-03-31",
      rates: { EUR: 1 },
      loans: book(0.02),
    }),
  );
  const { movement } = await computeMovement(from, to);
  assert.equal(movement.checks.filter((c) => !c.passed).length, 0);
  const closing = movement.allowance.lines.at(-1)!;
  assert.equal(to.summary.totals.ecl, 1e9 + 2000);
  assert.ok(Math.abs(closing.total - (1e9 + 2000)) < 1e-6);
  // Remeasurement: 100,000 facilities up by one cent each.
  const remeasurement = movement.allowance.lines.find((l) =>
    l.key === "remeasurement"
  )!;
  assert.ok(Math.abs(remeasurement.total - 1000) < 1e-6);
  await Deno.remove(root, { recursive: true });
});

Deno.test("computeMovement() names each step as it starts", async () => {
  const { root, from, to } = await handBuiltRuns();
  const steps: string[] = [];
  await computeMovement(from, to, { onStep: (s) => steps.push(s) });
  assert.deepEqual(steps, [
    "check_rates",
    "attribute_facilities",
    "aggregate",
    "check_invariants",
  ]);
  await Deno.remove(root, { recursive: true });
});

Deno.test("writeMovementOutputs() replaces an earlier movement whole and refuses a folder of other files", async () => {
  const { root, from, to } = await handBuiltRuns();
  try {
    const { movement, facilities } = await computeMovement(from, to);
    const out = `${root}/movement`;
    await Deno.mkdir(out);
    await Deno.writeTextFile(`${out}/movement.html`, "an earlier movement");
    const files = await writeMovementOutputs(movement, facilities, out);
    assert.deepEqual(files, {
      json: `${out}/movement.json`,
      parquet: `${out}/movement.parquet`,
      facilities: `${out}/movement_facilities.parquet`,
      html: `${out}/movement.html`,
    });
    assert.deepEqual(
      [...Deno.readDirSync(out)].map((e) => e.name).sort(),
      // No ECL walk given: no movement_walk.parquet (tests/walk).
      Object.values(MOVEMENT_FILES).filter((f) => f !== MOVEMENT_FILES.walk)
        .sort(),
    );
    assert.deepEqual(
      JSON.parse(await Deno.readTextFile(files.json)).to.run_id,
      "r2",
    );
    // Nothing is left beside it but the runs and the movement.
    assert.deepEqual(
      [...Deno.readDirSync(root)].map((e) => e.name).sort(),
      ["from", "movement", "to"],
    );
    await assert.rejects(
      () => writeMovementOutputs(movement, facilities, root),
      /Cannot write .*: it holds from, movement, to, which this output would replace/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("computeMovement() warns when the two runs follow different methodology versions", async () => {
  const { root, from, to } = await handBuiltRuns();
  try {
    // The fixture's manifests carry no version: written under version 1.
    const same = (await computeMovement(from, to)).movement;
    assert.ok(!same.warnings.some((w) => /methodology/.test(w)));
    const v2 = { ...to, manifest: { ...to.manifest!, methodology_version: 2 } };
    const mixed = (await computeMovement(from, v2)).movement;
    const warning = mixed.warnings.find((w) => /methodology/.test(w));
    assert.match(
      warning ?? "",
      /Run r1 follows methodology version 1 and run r2 version 2/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("computeMovement() warns when the two runs used different rules files", async () => {
  const { root, from, to } = await handBuiltRuns();
  try {
    // The fixture's two runs share one rules file (same SHA-256).
    const same = (await computeMovement(from, to)).movement;
    assert.ok(!same.warnings.some((w) => /rules files/.test(w)));
    const m = to.manifest!;
    const other = {
      ...to,
      manifest: {
        ...m,
        inputs: {
          ...m.inputs,
          rules: { path: "config/sample_rules.yaml", sha256: "d".repeat(64) },
        },
      },
    };
    const mixed = (await computeMovement(from, other)).movement;
    assert.ok(
      mixed.warnings.some((w) =>
        /Runs r1 and r2 used different rules files \(config\/ifrs9_rules\.yaml, SHA-256 bbbbbbbbbbbb…; config\/sample_rules\.yaml, SHA-256 dddddddddddd…\)/
          .test(w)
      ),
      mixed.warnings.join("\n"),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("computeMovement() warns when the facilities matched by loan_id changed product or currency: two books whose ids overlap", async () => {
  const root = await Deno.makeTempDir();
  try {
    // Ten facilities in both runs; in the second book four of them (40%)
    // are other products under the same ids, one (10%) changes currency.
    const loans = (products: string[], currencies: string[]) =>
      products.map((product, i): FixtureLoan => ({
        loan_id: `L${i}`,
        currency: currencies[i],
        product,
        stage: 1,
        ecl: 1,
        gross: 100,
      }));
    const p0 = Array(10).fill("mortgage");
    const c0 = Array(10).fill("EUR");
    const write = (
      dir: string,
      runId: string,
      date: string,
      l: FixtureLoan[],
    ) =>
      writeFixtureRun(`${root}/${dir}`, {
        runId,
        reportingDate: date,
        rates: { EUR: 1, USD: 0.9 },
        loans: l,
      });
    const from = await readRunFolder(
      await write("a", "a", "2025-12-31", loans(p0, c0)),
    );
    const same = await readRunFolder(
      await write("b", "b", "2026-03-31", loans(p0, c0)),
    );
    const other = await readRunFolder(
      await write(
        "c",
        "c",
        "2026-03-31",
        loans(
          [...Array(6).fill("mortgage"), ...Array(4).fill("credit_card")],
          [...Array(9).fill("EUR"), "USD"],
        ),
      ),
    );
    const none = (await computeMovement(from, same)).movement.warnings;
    assert.ok(!none.some((w) => w.includes("same book")), none.join("\n"));
    const warned = (await computeMovement(from, other)).movement.warnings;
    // L6..L9 changed product (L9 also currency): 4 of 10.
    assert.ok(
      warned.includes(
        "4 of 10 facilities matched by loan_id between runs a and c changed product or currency (e.g. L6: mortgage EUR then credit_card EUR): a facility keeps both for life, so check that the two runs are of the same book",
      ),
      warned.join("\n"),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
