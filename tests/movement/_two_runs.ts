/**
 * Two small hand-made complete runs a quarter apart, the movement tests'
 * fixture: loan A moves to stage 2, B is derecognised, C is new.
 *
 * @module
 */
import { writeFixtureRun } from "../report/_run_fixture.ts";

/** Two hand-made complete runs, a quarter apart, as `root/from`, `root/to`. */
export async function twoRuns(root: string) {
  const from = await writeFixtureRun(`${root}/from`, {
    runId: "r1",
    reportingDate: "2025-12-31",
    rates: { EUR: 1 },
    loans: [
      { loan_id: "A", currency: "EUR", stage: 1, ecl: 4, gross: 400 },
      { loan_id: "B", currency: "EUR", stage: 1, ecl: 6, gross: 600 },
    ],
  });
  const to = await writeFixtureRun(`${root}/to`, {
    runId: "r2",
    reportingDate: "2026-03-31",
    rates: { EUR: 1 },
    loans: [
      { loan_id: "A", currency: "EUR", stage: 2, ecl: 20, gross: 380 },
      { loan_id: "C", currency: "EUR", stage: 1, ecl: 3, gross: 300 },
    ],
  });
  return { from, to };
}
