/**
 * Movement folders for the journal tests: a hand-made pair of runs with
 * every kind of line (a transfer, a new and a repaid facility, FX on a USD
 * loan, a write-off with cash recovered), and the movement between them
 * written as `deno task movement` writes it.
 *
 * @module
 */
import { writeFixtureRun } from "../report/_run_fixture.ts";
import {
  computeMovement,
  writeMovementOutputs,
} from "../../lib/movement/mod.ts";
import { readRunFolder } from "../../lib/run_folder/mod.ts";

/** Writes the movement between the run folders `from` and `to` as `out`. */
export async function writeMovement(from: string, to: string, out: string) {
  const { movement, facilities } = await computeMovement(
    await readRunFolder(from, { trusted: true }),
    await readRunFolder(to, { trusted: true }),
  );
  await writeMovementOutputs(movement, facilities, out);
  return out;
}

/**
 * Two hand-made runs a quarter apart and their movement as `root/mv`.
 * Reporting currency EUR; USD at 0.5 then 0.6 EUR.
 *
 * - A (north, EUR): stage 1 ECL 4 to stage 2 ECL 20;
 * - B (south, EUR): stage 1 ECL 6, repaid;
 * - C (south, EUR): new, stage 1 ECL 3;
 * - D (north, USD): stage 2 ECL 10 USD to 12 USD;
 * - E (north, EUR): stage 3 ECL 50, gross 100, written off 80 (20 collected).
 */
export async function handMovement(root: string): Promise<string> {
  const from = await writeFixtureRun(`${root}/from`, {
    runId: "r1",
    reportingDate: "2025-12-31",
    rates: { EUR: 1, USD: 0.5 },
    loans: [
      { loan_id: "A", currency: "EUR", stage: 1, ecl: 4, gross: 400 },
      {
        loan_id: "B",
        currency: "EUR",
        stage: 1,
        ecl: 6,
        gross: 600,
        region: "south",
      },
      { loan_id: "D", currency: "USD", stage: 2, ecl: 10, gross: 100 },
      { loan_id: "E", currency: "EUR", stage: 3, ecl: 50, gross: 100 },
    ],
  });
  const to = await writeFixtureRun(`${root}/to`, {
    runId: "r2",
    reportingDate: "2026-03-31",
    rates: { EUR: 1, USD: 0.6 },
    loans: [
      { loan_id: "A", currency: "EUR", stage: 2, ecl: 20, gross: 380 },
      {
        loan_id: "C",
        currency: "EUR",
        stage: 1,
        ecl: 3,
        gross: 300,
        region: "south",
      },
      { loan_id: "D", currency: "USD", stage: 2, ecl: 12, gross: 90 },
      {
        loan_id: "E",
        currency: "EUR",
        stage: 3,
        ecl: 0,
        gross: 0,
        write_off: 80,
      },
    ],
  });
  return await writeMovement(from, to, `${root}/mv`);
}
