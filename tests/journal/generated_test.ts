/**
 * The journal of a generated book's quarter (two runs of the generator's
 * snapshots, the demo's pipeline on a smaller book): it balances entry by
 * entry and in total, and its allowance accounts reconcile to
 * movement.json to the cent, each read back from the files written
 * (journal.parquet, journal.csv, movement.json) and summed here in whole
 * cents.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { parse } from "yaml";
import { generatePortfolio } from "../../lib/generate/mod.ts";
import { runPortfolio } from "../../lib/run/mod.ts";
import { main } from "../../tasks/journal.ts";
import { callMain } from "../tasks/_main.ts";
import { writeMovement } from "./_movement.ts";

Deno.test("deno task journal on a generated quarter balances per entry and in total, and ties to movement.json", async () => {
  const root = await Deno.makeTempDir({ prefix: "journal_generated_" });
  try {
    const gen = await generatePortfolio({
      loans: 1_500,
      seed: 3,
      reportingDate: "2025-12-31",
      periods: 2,
      out: `${root}/book`,
    });
    const dirs: string[] = [];
    for (const s of gen.snapshots) {
      const run = await runPortfolio({
        portfolio: s.path,
        out: `${root}/runs`,
        runId: s.reportingDate,
        report: false,
      });
      dirs.push(run.dir);
    }
    const mv = await writeMovement(dirs[0], dirs[1], `${root}/mv`);
    const r = await callMain(main, "--movement", mv, "--out", `${root}/j`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /every entry balances/);

    const j = pl.readParquet(`${root}/j/journal.parquet`);
    const cents = (c: string) => pl.col(c).mul(100).round(0).cast(pl.Int64);
    // Every entry balances, in whole cents.
    const entries = j.lazy().groupBy("entry_id").agg(
      cents("debit").sum().alias("d"),
      cents("credit").sum().alias("c"),
      pl.len().alias("n"),
    ).collectSync();
    assert.ok(entries.height > 50);
    const d = entries.getColumn("d").toArray() as bigint[] | number[];
    const c = entries.getColumn("c").toArray() as bigint[] | number[];
    for (let i = 0; i < d.length; i++) assert.equal(Number(d[i]), Number(c[i]));
    const total = (s: unknown[]) =>
      s.reduce((a: number, b) => a + Number(b), 0);
    assert.equal(total(d), total(c));
    // A line is either a debit or a credit, never both, never negative.
    const both = j.filter(
      pl.col("debit").gt(0).and(pl.col("credit").gt(0)).or(
        pl.col("debit").lt(0),
      ).or(pl.col("credit").lt(0)),
    );
    assert.equal(both.height, 0);

    // The allowance accounts against movement.json, read here.
    const m = JSON.parse(await Deno.readTextFile(`${mv}/movement.json`));
    const line = (k: string) =>
      m.allowance.lines.find((l: { key: string }) => l.key === k);
    const accounts = parse(
      await Deno.readTextFile(
        new URL("../../config/gl_accounts.yaml", import.meta.url),
      ),
    ).accounts;
    let sum = 0;
    for (const col of ["1", "2", "3", "simplified"]) {
      const code =
        accounts.allowance[col === "simplified" ? col : `stage_${col}`].code;
      const rows = j.filter(pl.col("account").eq(pl.lit(code)));
      const net = (total(
        rows.select(cents("credit")).getColumn("credit").toArray(),
      ) - total(rows.select(cents("debit")).getColumn("debit").toArray())) /
        100;
      sum += net;
      const change = line("closing").by_stage[col] -
        line("opening").by_stage[col];
      assert.ok(
        Math.abs(net - change) < 0.01,
        `stage ${col}: journal ${net} vs movement ${change}`,
      );
    }
    const change = line("closing").total - line("opening").total;
    assert.ok(Math.abs(sum - change) <= 0.005 + 1e-9, `${sum} vs ${change}`);

    // The book has every kind of posting, each with its paragraph.
    const refs = new Map(
      (j.select("movement_line", "reference").unique().toRecords() as {
        movement_line: string;
        reference: string;
      }[]).map((x) => [x.movement_line, x.reference]),
    );
    assert.equal(refs.get("write_off"), "IFRS 9 §5.4.4");
    assert.equal(refs.get("fx"), "IAS 21 §28");
    assert.equal(refs.get("remeasurement"), "IFRS 9 §5.5.8");
    assert.ok(refs.has("transfer") && refs.has("recoveries"));
    assert.ok(j.getColumn("entity").toArray().every((e) => e !== "(none)"));

    // journal.csv holds the same lines.
    const csv = (await Deno.readTextFile(`${root}/j/journal.csv`)).trimEnd()
      .split("\n");
    assert.equal(csv.length, j.height + 1);
    assert.ok(
      csv[0].startsWith(
        "entry_id,date,account,account_name,debit,credit,currency",
      ),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
