/**
 * The validator on the generator's breakage: a generated snapshot with
 * injected broken rows of every kind (Parquet and CSV) goes through
 * `validatePortfolio`; every row read is either valid or rejected, and
 * every injected row is rejected with the code the generator's sidecar
 * (`injected_<date>.json`) says it breaks.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import {
  generatePortfolio,
  type InjectedSidecar,
} from "../../lib/generate/mod.ts";
import { scanPortfolio } from "../../lib/io/mod.ts";
import { loadRules } from "../../lib/rules.ts";
import {
  REJECTION_CODES,
  validatePortfolio,
} from "../../lib/validation/mod.ts";

/** A column the validator passes through, so a rejected row names its source row. */
const SOURCE_ROW = "source_row";

for (const format of ["parquet", "csv"] as const) {
  Deno.test(`validatePortfolio() rejects every row the generator broke (${format})`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "validate-injected-" });
    try {
      const rules = await loadRules("config/ifrs9_rules.yaml");
      const res = await generatePortfolio({
        loans: 3_000,
        seed: 5,
        reportingDate: "2025-12-31",
        out: dir,
        format,
        injectBroken: 0.04,
      });
      const snap = res.snapshots[0];
      const sidecar = JSON.parse(
        await Deno.readTextFile(snap.injectedPath!),
      ) as InjectedSidecar;

      // Number the rows as read (text for CSV, so broken cells stay as
      // written), then validate the numbered copy.
      const read = format === "csv"
        ? pl.readCSV(snap.path, { inferSchemaLength: 0 })
        : pl.readParquet(snap.path);
      const numbered = `${dir}/numbered.${format}`;
      const withRow = read.withRowIndex(SOURCE_ROW).withColumns(
        pl.col(SOURCE_ROW).cast(pl.Utf8),
      );
      if (format === "csv") withRow.writeCSV(numbered);
      else withRow.writeParquet(numbered);
      const { valid, rejected, report } = await validatePortfolio(
        scanPortfolio(numbered),
        rules,
        { file: numbered },
      );

      assert.equal(report.rows_read, snap.rows);
      assert.equal(valid.height + rejected.height, snap.rows);
      const codesByRow = new Map<number, string[]>();
      const sources = rejected.getColumn(SOURCE_ROW).toArray() as string[];
      const codes = rejected.getColumn(REJECTION_CODES)
        .toArray() as unknown as string[][];
      sources.forEach((s, i) => codesByRow.set(Number(s), [...codes[i]]));

      assert.ok(sidecar.rows.length >= 30, "the sidecar lists injected rows");
      const kinds = new Set(sidecar.rows.map((r) => r.code));
      assert.ok(
        kinds.size >= (format === "csv" ? 41 : 33),
        `${kinds.size} kinds`,
      );
      for (const injected of sidecar.rows) {
        const got = codesByRow.get(injected.row);
        assert.ok(
          got,
          `row ${injected.row} (${injected.code}) was not rejected`,
        );
        assert.ok(
          got.includes(injected.code),
          `row ${injected.row}: expected ${injected.code}, got ${
            got.join(", ")
          }`,
        );
      }
      // Nothing else is rejected: the generator breaks only the rows it lists.
      assert.equal(
        rejected.height,
        new Set(sidecar.rows.map((r) => r.row)).size,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
