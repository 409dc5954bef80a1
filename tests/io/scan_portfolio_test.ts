/**
 * Tests of `scanPortfolio` and the file-level errors: each unreadable file
 * gives one `PortfolioReadError` naming the file and, where known, the line.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import {
  detectPortfolioFormat,
  PortfolioReadError,
  scanPortfolio,
} from "../../lib/io/mod.ts";
import { validatePortfolio } from "../../lib/validation/mod.ts";
import {
  csv,
  GOOD_CARD,
  GOOD_MORTGAGE,
  RULES,
  writeTemp,
} from "../validation/_fixture.ts";

/** Asserts that `fn` throws a PortfolioReadError with exactly `message`. */
async function assertReadError(
  fn: () => unknown,
  message: string,
): Promise<void> {
  await assert.rejects(
    async () => {
      await fn();
    },
    (e: unknown) => {
      assert.ok(e instanceof PortfolioReadError, String(e));
      assert.equal(e.message, message);
      return true;
    },
  );
}

/** Scans and validates, so errors Polars raises while reading surface too. */
const readAll = (path: string) =>
  validatePortfolio(scanPortfolio(path), RULES, { file: path });

Deno.test("scanPortfolio() reads every CSV column as text", async () => {
  const path = writeTemp("loan_id,balance,watchlist\nL1,100.5,true\nL2,,x\n");
  const df = await scanPortfolio(path).collect();
  assert.deepEqual(df.toRecords(), [
    { loan_id: "L1", balance: "100.5", watchlist: "true" },
    { loan_id: "L2", balance: null, watchlist: "x" },
  ]);
  assert.deepEqual(
    Object.values(df.schema).map((t) => String(t).replace("Utf8", "String")),
    Array(3).fill("DataType(String)"),
  );
});

Deno.test("scanPortfolio() reads Parquet and Arrow IPC with their stored types, whatever the file is called", async () => {
  const df = pl.DataFrame({ loan_id: ["A", "B"], balance: [1.5, 2] });
  const parquet = writeTemp("", "p.parquet");
  df.writeParquet(parquet);
  const ipc = writeTemp("", "p.arrow");
  df.writeIPC(ipc);
  const stream = writeTemp(df.writeIPCStream(), "p.arrows");
  const misnamed = writeTemp("", "p.csv");
  df.writeParquet(misnamed);
  for (const path of [parquet, ipc, stream, misnamed]) {
    const back = await scanPortfolio(path).collect();
    assert.ok(back.frameEqual(df), path);
  }
  assert.deepEqual(
    [parquet, ipc, stream, misnamed].map(detectPortfolioFormat),
    ["parquet", "ipc", "ipc-stream", "parquet"],
  );
});

Deno.test("scanPortfolio() refuses a missing or empty file, naming it", async () => {
  await assertReadError(
    () => scanPortfolio("/nonexistent/dir/p.csv"),
    "Cannot read portfolio /nonexistent/dir/p.csv: no such file",
  );
  const empty = writeTemp("");
  await assertReadError(
    () => scanPortfolio(empty),
    `Cannot read portfolio ${empty}: the file is empty`,
  );
});

Deno.test("scanPortfolio() refuses binary garbage at line 1", async () => {
  const path = writeTemp(
    new Uint8Array([0x89, 0x00, 0xff, 0xfe, 0x01, 0x0a, 0xc3, 0x28, 0x0a]),
  );
  await assertReadError(
    () => scanPortfolio(path),
    `Cannot read portfolio ${path}: line 1: the header is not UTF-8 text (is this a binary file, or a CSV in another encoding?)`,
  );
});

Deno.test("scanPortfolio() refuses a header with repeated or empty column names", async () => {
  const path = writeTemp("loan_id,balance,,balance\nL1,1,2,3\n");
  await assertReadError(
    () => scanPortfolio(path),
    `Cannot read portfolio ${path}: line 1: the header is not usable: column 3 has no name; column balance appears twice`,
  );
});

Deno.test("scanPortfolio() refuses a file whose name promises Parquet but whose bytes are text", async () => {
  const path = writeTemp("loan_id\nL1\n", "p.parquet");
  await assertReadError(
    () => scanPortfolio(path),
    `Cannot read portfolio ${path}: the name says Parquet but the file does not start with that format's magic bytes (truncated or not Parquet?)`,
  );
});

Deno.test("validatePortfolio() names the line of bytes that are not UTF-8", async () => {
  const text = csv([GOOD_MORTGAGE, GOOD_CARD]);
  const bytes = new TextEncoder().encode(text);
  const secondRow = bytes.indexOf(0x0a, bytes.indexOf(0x0a) + 1) + 1; // line 3
  const broken = new Uint8Array([
    ...bytes.subarray(0, secondRow + 1),
    0xff,
    0xfe,
    ...bytes.subarray(secondRow + 1),
  ]);
  const path = writeTemp(broken);
  await assertReadError(
    () => readAll(path),
    `Cannot read portfolio ${path}: line 3: the bytes are not UTF-8 text`,
  );
});

Deno.test("validatePortfolio() names the line of a record with more fields than the header", async () => {
  const path = writeTemp(
    csv([GOOD_MORTGAGE, GOOD_CARD]) + "L9" +
      ",".repeat(25) + "\n",
  );
  await assertReadError(
    () => readAll(path),
    `Cannot read portfolio ${path}: line 4: the record has 26 fields but the header has 21`,
  );
});

Deno.test("validatePortfolio() names the line where an unclosed quote starts", async () => {
  const text = csv([GOOD_MORTGAGE]) + 'G2,"C2,2025-12-31\nG3,C3\n';
  const path = writeTemp(text);
  await assertReadError(
    () => readAll(path),
    `Cannot read portfolio ${path}: line 3: a quoted field starts here and is never closed`,
  );
});

Deno.test("scanPortfolio() refuses a truncated Parquet file, naming it and the format", async () => {
  const bytes = pl.DataFrame({ loan_id: ["A"] }).writeParquet();
  const path = writeTemp(bytes.subarray(0, bytes.length - 20), "p.parquet");
  await assertReadError(
    () => scanPortfolio(path),
    `Cannot read portfolio ${path}: the file cannot be parsed as Parquet (parquet: File out of specification: The file must end with PAR1)`,
  );
});
