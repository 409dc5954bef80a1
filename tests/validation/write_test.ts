/**
 * Tests of `writeValidationOutputs` (lib/run_folder): the three files,
 * their contents, and the reject-rate limit enforced only after they are
 * written. Its failure paths (a full disk, an --out that is refused) are
 * in tests/hardening/outputs_test.ts.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { scanPortfolio } from "../../lib/io/mod.ts";
import {
  type DataQualityReport,
  RejectRateError,
  validatePortfolio,
} from "../../lib/validation/mod.ts";
import { writeValidationOutputs } from "../../lib/run_folder/mod.ts";
import {
  csv,
  GOOD_CARD,
  GOOD_MORTGAGE,
  type Row,
  RULES,
  writeTemp,
} from "./_fixture.ts";

/** 20 good rows and `bad` rows with a negative balance. */
function portfolio(bad: number): string {
  const rows: Row[] = Array.from({ length: 20 }, (_, i) => ({
    ...(i % 2 ? GOOD_CARD : GOOD_MORTGAGE),
    loan_id: `G${i}`,
  }));
  for (let i = 0; i < bad; i++) {
    rows.push({ ...GOOD_MORTGAGE, loan_id: `B${i}`, balance: "-1" });
  }
  return writeTemp(csv(rows));
}

Deno.test("writeValidationOutputs() writes valid.parquet, rejected.parquet and data_quality.json", async () => {
  const path = portfolio(1); // 1 of 21 rejected: 4.76% <= 5%
  const result = await validatePortfolio(scanPortfolio(path), RULES, {
    file: path,
  });
  const dir = `${Deno.makeTempDirSync()}/out`;
  const outputs = await writeValidationOutputs(result, dir);
  assert.deepEqual(outputs, {
    valid: `${dir}/valid.parquet`,
    rejected: `${dir}/rejected.parquet`,
    dataQuality: `${dir}/data_quality.json`,
  });
  const valid = pl.readParquet(`${dir}/valid.parquet`);
  assert.equal(valid.height, 20);
  assert.ok(valid.frameEqual(result.valid));
  const rejected = pl.readParquet(`${dir}/rejected.parquet`);
  assert.deepEqual(rejected.getColumn("loan_id").toArray(), ["B0"]);
  assert.deepEqual(rejected.getColumn("rejection_codes").toArray(), [[
    "BALANCE_NEGATIVE",
  ]]);
  const report = JSON.parse(
    Deno.readTextFileSync(`${dir}/data_quality.json`),
  ) as DataQualityReport;
  assert.deepEqual(
    {
      file: report.file,
      reporting_date: report.reporting_date,
      rows_read: report.rows_read,
      rows_valid: report.rows_valid,
      rows_rejected: report.rows_rejected,
      reject_rate: report.reject_rate,
      max_reject_rate: report.max_reject_rate,
      passed: report.passed,
    },
    {
      file: path,
      reporting_date: "2025-12-31",
      rows_read: 21,
      rows_valid: 20,
      rows_rejected: 1,
      reject_rate: 1 / 21,
      max_reject_rate: 0.05,
      passed: true,
    },
  );
  const balance = report.rules.find((r) => r.code === "BALANCE_NEGATIVE")!;
  assert.deepEqual(balance, {
    code: "BALANCE_NEGATIVE",
    description: "balance is below 0",
    rows_checked: 21,
    rows_failed: 1,
    examples: ["B0"],
  });
});

Deno.test("writeValidationOutputs() throws RejectRateError with the figure after writing the rejected rows and the report", async () => {
  const path = portfolio(2); // 2 of 22 rejected: 9.09% > 5%
  const result = await validatePortfolio(scanPortfolio(path), RULES, {
    file: path,
  });
  assert.equal(result.report.passed, false);
  const dir = Deno.makeTempDirSync();
  await assert.rejects(
    () => writeValidationOutputs(result, dir),
    (e: unknown) => {
      assert.ok(e instanceof RejectRateError);
      assert.equal(
        e.message,
        `Cannot accept portfolio ${path}: 9.09% of rows rejected (2 of 22), above validation.max_reject_rate 5.00%; most rows failed BALANCE_NEGATIVE (2, e.g. B0, B1)`,
      );
      return true;
    },
  );
  assert.equal(pl.readParquet(`${dir}/rejected.parquet`).height, 2);
  const report = JSON.parse(Deno.readTextFileSync(`${dir}/data_quality.json`));
  assert.equal(report.rows_rejected, 2);
  assert.equal(report.passed, false);
});

Deno.test("writeValidationOutputs() can leave out valid.parquet and writes an empty rejected.parquet", async () => {
  const path = portfolio(0);
  const result = await validatePortfolio(scanPortfolio(path), RULES, {
    file: path,
  });
  const dir = Deno.makeTempDirSync();
  const outputs = await writeValidationOutputs(result, dir, { valid: false });
  assert.equal(outputs.valid, undefined);
  assert.throws(() => Deno.statSync(`${dir}/valid.parquet`));
  const rejected = pl.readParquet(`${dir}/rejected.parquet`);
  assert.equal(rejected.height, 0);
  assert.equal(
    String(rejected.schema.rejection_codes).replace("Utf8", "String"),
    "DataType(List(DataType(String)))",
  );
});
