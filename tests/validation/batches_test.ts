/**
 * Validation in batches (`PortfolioValidation`, the way a run streams its
 * book): the valid rows, the rejected rows and the data-quality report are
 * those of one validation of the whole file, whatever the batch size, and
 * the whole-book checks (duplicated loan_ids, the reporting date, ids that
 * differ only by case) see across batches.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { scanPortfolio } from "../../lib/io/mod.ts";
import {
  PortfolioValidation,
  REJECTION_CODES,
  validatePortfolio,
} from "../../lib/validation/mod.ts";
import {
  csv,
  GOOD_CARD,
  GOOD_MORTGAGE,
  type Row,
  RULES,
  writeTemp,
} from "./_fixture.ts";

/** Validates `path` in batches of `batchRows`, keeping every batch. */
async function inBatches(path: string, batchRows: number) {
  const v = await PortfolioValidation.open(scanPortfolio(path), RULES, {
    file: path,
    batchRows,
  });
  const batches = [];
  for (let i = 0; i < v.batchCount; i++) batches.push(await v.batch(i));
  return { v, batches, report: v.report() };
}

/**
 * A book whose problems span batches: a loan_id repeated in rows 1, 9 and
 * 17, a pair of ids equal but for case in rows 3 and 15, an unknown
 * product twice, a missing id, a row of another reporting date, the
 * majority date being the later one.
 */
function book(): Row[] {
  const rows: Row[] = [];
  for (let i = 0; i < 20; i++) {
    rows.push({
      ...(i % 2 === 0 ? GOOD_MORTGAGE : GOOD_CARD),
      loan_id: `L${i}`,
    });
  }
  rows[0].loan_id = "DUP";
  rows[8].loan_id = " DUP";
  rows[16] = { ...rows[16], loan_id: "DUP", balance: "-1" };
  rows[2].loan_id = "Case-a";
  rows[14].loan_id = "case-A";
  rows[5].product = "yacht";
  rows[11].product = "yacht";
  rows[7].loan_id = "";
  rows[12].reporting_date = "2025-09-30";
  return rows;
}

Deno.test("PortfolioValidation in batches gives the whole file's valid rows, rejected rows and report", async () => {
  const path = writeTemp(csv(book()));
  const whole = await validatePortfolio(scanPortfolio(path), RULES, {
    file: path,
  });
  // Independent expectations first: the rows the rules reject.
  assert.deepEqual(
    whole.rejected.getColumn("loan_id").toArray(),
    ["DUP", "L5", null, " DUP", "L11", "L12", "DUP"],
  );
  assert.ok(whole.report.warnings.some((w) => /letter case/.test(w)));
  for (const size of [1, 3, 7, 19, 20]) {
    const { v, batches, report } = await inBatches(path, size);
    assert.equal(v.batchCount, Math.ceil(20 / size), `size ${size}`);
    // No batch holds more rows than the batch size.
    for (const b of batches) assert.ok(b.rows <= size, `size ${size}`);
    assert.deepEqual(report, whole.report, `size ${size}`);
    const valid = pl.concat(batches.map((b) => b.valid));
    const rejected = pl.concat(batches.map((b) => b.rejected));
    assert.ok(valid.frameEqual(whole.valid), `size ${size}`);
    assert.deepEqual(rejected.toRecords(), whole.rejected.toRecords());
    assert.deepEqual(rejected.schema, whole.rejected.schema);
  }
});

Deno.test("PortfolioValidation numbers example rows from the start of the file in every batch", async () => {
  const rows = book();
  const path = writeTemp(csv(rows));
  const { report } = await inBatches(path, 4);
  const nullId = report.rules.find((r) => r.code === "NULL_LOAN_ID")!;
  // The 8th data row has no loan_id: "row 8" (1-based, header not counted).
  assert.deepEqual(nullId.examples, ["row 8"]);
  const dup = report.rules.find((r) => r.code === "LOAN_ID_DUPLICATE")!;
  assert.equal(dup.rows_failed, 3);
  const mismatch = report.rules.find((r) =>
    r.code === "REPORTING_DATE_MISMATCH"
  )!;
  assert.deepEqual(mismatch.examples, ["L12"]);
  assert.equal(report.reporting_date, "2025-12-31");
});

Deno.test("PortfolioValidation takes the book's most frequent date across batches, the latest on a tie", async () => {
  // 3 rows of 2025-09-30 first, then 3 of 2025-12-31: a tie, so the later
  // date; batches of 2 see only one date each.
  const rows: Row[] = [0, 1, 2, 3, 4, 5].map((i) => ({
    ...GOOD_MORTGAGE,
    loan_id: `L${i}`,
    origination_date: "2024-01-15",
    reporting_date: i < 3 ? "2025-09-30" : "2025-12-31",
  }));
  const path = writeTemp(csv(rows));
  const { report } = await inBatches(path, 2);
  assert.equal(report.reporting_date, "2025-12-31");
  assert.equal(report.rows_rejected, 3);
});

Deno.test("PortfolioValidation refuses a book of several batches with no readable date, as one validation does", async () => {
  const rows: Row[] = [0, 1, 2].map((i) => ({
    ...GOOD_MORTGAGE,
    loan_id: `L${i}`,
    reporting_date: i === 1 ? "31/12/2025" : "",
  }));
  const path = writeTemp(csv(rows));
  const one = await validatePortfolio(scanPortfolio(path), RULES, {
    file: path,
  }).then(() => null, (e) => e as Error);
  const batched = await inBatches(path, 1).then(() => null, (e) => e as Error);
  assert.ok(one !== null && batched !== null);
  assert.equal(batched.message, one.message);
  assert.match(
    one.message,
    /2 rows empty, 1 row not a YYYY-MM-DD date, e\.g\. loan_id L1: "31\/12\/2025"/,
  );
});

Deno.test("PortfolioValidation does not reject ids whose hashes could collide but which differ", async () => {
  // Many distinct ids and one true duplicate: only its two rows fail.
  const rows: Row[] = Array.from({ length: 300 }, (_, i) => ({
    ...GOOD_MORTGAGE,
    loan_id: `X${i}`,
  }));
  rows[299].loan_id = "X7";
  const path = writeTemp(csv(rows));
  const { batches } = await inBatches(path, 50);
  const rejected = pl.concat(batches.map((b) => b.rejected));
  assert.deepEqual(rejected.getColumn("loan_id").toArray(), ["X7", "X7"]);
  assert.deepEqual(rejected.getColumn(REJECTION_CODES).toArray(), [
    ["LOAN_ID_DUPLICATE"],
    ["LOAN_ID_DUPLICATE"],
  ]);
});
