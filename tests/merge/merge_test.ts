/**
 * Issue 17's acceptance for partitioned runs and the exact merge
 * (docs/partitions.md): a generated book run once and as N = 3 parts
 * merged gives the same loan results and summary; the merged folder is a
 * run the movement and the dashboard's reader accept; the merge refuses
 * parts that do not belong together, each with one line naming the folder.
 *
 * The expected figures are those of the single run of the whole book,
 * computed by the existing engine independently of the partition code.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import pl from "nodejs-polars";
import { generateBook } from "../../lib/generate/mod.ts";
import { runPortfolio } from "../../lib/run/mod.ts";
import { readRunFolder } from "../../lib/run_folder/mod.ts";
import { main as mergeMain } from "../../tasks/merge.ts";
import { main as movementMain } from "../../tasks/movement.ts";
import { callMain } from "../tasks/_main.ts";
import { figuresOf } from "../../lib/precise_sum.ts";

const RULES = new URL("../../config/ifrs9_rules.yaml", import.meta.url)
  .pathname;

/** The reference rules with a multiplier overlay (applied facility by facility). */
async function rulesWithOverlay(path: string, maxRejectRate = 0.05) {
  const text = (await Deno.readTextFile(RULES))
    .replace(
      /^overlays: \[\]$/m,
      `overlays:
  - { name: stage2_uplift, filter: { stage: 2 }, multiplier: 1.1, reason: test }`,
    )
    .replace(/max_reject_rate: [0-9.]+/, `max_reject_rate: ${maxRejectRate}`);
  await Deno.writeTextFile(path, text);
  return path;
}

/** A summary without what names its run. */
function comparable(summary: Record<string, unknown>) {
  const { run_id: _, ...rest } = summary;
  return rest;
}

const readJson = async (path: string) =>
  JSON.parse(await Deno.readTextFile(path));

/** The counts of a data-quality report (its examples are per part). */
function counts(dq: Record<string, unknown>) {
  const rules = dq.rules as {
    code: string;
    rows_checked: number;
    rows_failed: number;
  }[];
  return {
    rows: [dq.rows_read, dq.rows_valid, dq.rows_rejected],
    reject_rate: dq.reject_rate,
    passed: dq.passed,
    rules: rules.map((r) => [r.code, r.rows_checked, r.rows_failed]),
  };
}

/** Sorted by loan_id, every column. */
const sortedResults = (dir: string) =>
  pl.readParquet(`${dir}/loan_results.parquet`).sort("loan_id");

Deno.test("a book run whole and as 3 parts merged: the same loan results and summary; the movement and the dashboard reader accept the merged run; bad parts refused", async (t) => {
  const tmp = await Deno.makeTempDir({ prefix: "merge_test_" });
  try {
    const [q4, q1] = generateBook({
      loans: 3000,
      seed: 11,
      reportingDate: "2025-12-31",
      periods: 2,
      injectBroken: 0.01,
    });
    // Rows without a loan_id (null, empty, spaces only) and a duplicated
    // id: each must be rejected exactly once.
    const dupId = q1.getColumn("loan_id").get(5) as string;
    const extra = q1.slice(10, 4).withColumns(
      pl.Series("loan_id", [null, "", "   ", ` ${dupId}`], pl.Utf8),
    );
    const book = pl.concat([q1, extra]);
    const rules = await rulesWithOverlay(`${tmp}/rules.yaml`);
    q4.writeParquet(`${tmp}/book_q4.parquet`);
    book.writeParquet(`${tmp}/book_q1.parquet`);
    const runs = `${tmp}/runs`;
    const portfolio = `${tmp}/book_q1.parquet`;
    const from = await runPortfolio({
      portfolio: `${tmp}/book_q4.parquet`,
      rules,
      out: runs,
      runId: "q4",
      report: false,
    });
    const single = await runPortfolio({
      portfolio,
      rules,
      out: runs,
      runId: "whole",
    });
    const parts: string[] = [];
    for (let k = 0; k < 3; k++) {
      const part = await runPortfolio({
        portfolio,
        rules,
        out: runs,
        runId: "q1",
        partition: { index: k, count: 3 },
        report: false,
      });
      parts.push(part.dir);
    }
    assert.deepEqual(parts, [0, 1, 2].map((k) => `${runs}/q1.part-${k}-of-3`));

    const merge = (...args: string[]) => callMain(mergeMain, ...args);
    const merged = `${runs}/q1`;

    await t.step(
      "merge, parts in any order: one complete run folder, printed",
      async () => {
        const r = await merge(
          "--runs",
          parts[2],
          parts[0],
          parts[1],
          "--out",
          runs,
          "--quiet",
        );
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.trim(), merged);
      },
    );

    await t.step(
      "loan results equal exactly, sorted by loan_id, every column",
      () => {
        const a = sortedResults(single.dir);
        const b = sortedResults(merged);
        assert.deepEqual(b.columns, a.columns);
        assert.equal(b.height, a.height);
        assert.ok(
          b.frameEqual(a),
          "merged loan results differ from the single run's",
        );
        // The book covers what the test claims: every stage, several currencies.
        assert.deepEqual(
          a.getColumn("stage").unique().sort().toArray() as number[],
          [1, 2, 3],
        );
        assert.ok(a.getColumn("currency").nUnique() >= 3);
        const carrying = (dir: string) =>
          pl.readParquet(`${dir}/carrying_amounts.parquet`).sort("loan_id");
        assert.ok(carrying(merged).frameEqual(carrying(single.dir)));
      },
    );

    await t.step(
      "summary.json equal (but for run_id), overlays included",
      async () => {
        const a = await readJson(`${single.dir}/summary.json`);
        const b = await readJson(`${merged}/summary.json`);
        assert.equal(b.run_id, "q1");
        assert.ok(a.overlays[0].facilities > 0, "the overlay applied");
        assert.deepEqual(comparable(b), comparable(a));
      },
    );

    await t.step(
      "each rejected row in exactly one part (no loan_id: part 0); data_quality.json counts equal",
      async () => {
        const whole = await readJson(`${single.dir}/data_quality.json`);
        const m = await readJson(`${merged}/data_quality.json`);
        assert.deepEqual(counts(m), counts(whole));
        const nullIds = (
          dq: { rules: { code: string; rows_failed: number }[] },
        ) => dq.rules.find((r) => r.code === "NULL_LOAN_ID")!.rows_failed;
        assert.ok(nullIds(whole) >= 3);
        const partDq = await Promise.all(
          parts.map((p) => readJson(`${p}/data_quality.json`)),
        );
        assert.deepEqual(partDq.map(nullIds), [nullIds(whole), 0, 0]);
        assert.equal(
          partDq.reduce((a, d) => a + d.rows_rejected, 0),
          whole.rows_rejected,
        );
        const rejected = (dir: string) =>
          pl.readParquet(`${dir}/rejected.parquet`).height;
        assert.equal(rejected(merged), rejected(single.dir));
        // The duplicated id (the original and the copy with a space) is
        // rejected in one part, twice, as in the single run.
        const dup = (dir: string) =>
          pl.readParquet(`${dir}/rejected.parquet`)
            .filter(pl.col("loan_id").str.strip().eq(pl.lit(dupId))).height;
        assert.equal(dup(single.dir), 2);
        assert.deepEqual(parts.map(dup).sort(), [0, 0, 2]);
      },
    );

    await t.step(
      "the manifest names its parts and has the single run's inputs and rows",
      async () => {
        const a = await readJson(`${single.dir}/manifest.json`);
        const m = await readJson(`${merged}/manifest.json`);
        assert.equal(m.status, "complete");
        assert.deepEqual(m.rows, a.rows);
        assert.deepEqual(m.inputs, a.inputs);
        assert.equal(m.partition, undefined);
        const expected = await Promise.all(parts.map(async (p, index) => ({
          run_id: `q1.part-${index}-of-3`,
          index,
          sha256: createHash("sha256").update(
            await Deno.readFile(`${p}/manifest.json`),
          ).digest("hex"),
        })));
        assert.deepEqual(m.merged_from, expected);
        const p0 = await readJson(`${parts[0]}/manifest.json`);
        assert.deepEqual(p0.partition.inputs, {
          portfolio: a.inputs.portfolio.sha256,
          rules: a.inputs.rules.sha256,
          fx: a.inputs.fx.sha256,
        });
        assert.ok((await Deno.stat(`${merged}/report.html`)).isFile);
      },
    );

    await t.step(
      "the dashboard's reader (trusted) and deno task movement accept the merged run",
      async () => {
        const folder = await readRunFolder(merged, { trusted: true });
        assert.equal(folder.summary.totals.count, single.summary.totals.count);
        const r = await callMain(
          movementMain,
          "--from",
          from.dir,
          "--to",
          merged,
          "--out",
          `${tmp}/movement`,
        );
        assert.equal(r.code, 0, r.stderr);
        const againstWhole = await callMain(
          movementMain,
          "--from",
          from.dir,
          "--to",
          single.dir,
          "--out",
          `${tmp}/movement_whole`,
        );
        assert.equal(againstWhole.code, 0, againstWhole.stderr);
        // The same reconciliation lines; each amount to the cent (the
        // movement adds facilities' figures as Float64 in row order, and the
        // merged rows are in part order, not file order).
        const lines = (dir: string) => {
          const df = pl.readParquet(`${dir}/movement.parquet`);
          return df.select(
            ...df.columns.filter((c) => !/run|dir|path/.test(c)),
          );
        };
        const [x, y] = [
          lines(`${tmp}/movement`),
          lines(`${tmp}/movement_whole`),
        ];
        assert.ok(x.drop("amount").frameEqual(y.drop("amount")));
        const [ax, ay] = [
          x.getColumn("amount").toArray(),
          y.getColumn("amount").toArray(),
        ] as number[][];
        ax.forEach((v, i) =>
          assert.ok(Math.abs(v - ay[i]) < 0.005, `line ${i}: ${v} and ${ay[i]}`)
        );
      },
    );

    const refused = async (args: string[], re: RegExp) => {
      const r = await merge(...args, "--out", `${tmp}/elsewhere`);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      // Nothing written.
      assert.ok(
        !(await Deno.stat(`${tmp}/elsewhere/q1`).catch(() => null)),
      );
    };

    await t.step(
      "a missing part is refused, naming the expected folder",
      () =>
        refused(
          ["--runs", parts[0], parts[1]],
          /^Cannot merge: part 2 of 3 is missing: expected q1\.part-2-of-3 \(in .*\/runs\)/,
        ),
    );

    await t.step(
      "a duplicated part is refused, naming both folders",
      async () => {
        const copy = `${tmp}/copies/q1.part-1-of-3`;
        await Deno.mkdir(`${tmp}/copies`);
        await new Deno.Command("cp", { args: ["-r", parts[1], copy] }).output();
        await refused(
          ["--runs", parts[0], parts[1], copy, parts[2]],
          new RegExp(
            `^Cannot merge: part 1 of 3 is given twice: ${
              parts[1]
            } and ${copy}`,
          ),
        );
        await refused(
          ["--runs", parts[0], parts[1], parts[1], parts[2]],
          new RegExp(`^Cannot merge: ${parts[1]} is given twice`),
        );
      },
    );

    await t.step(
      "parts of another N, rules or portfolio are refused, naming the folders",
      async () => {
        const otherN = await runPortfolio({
          portfolio,
          rules,
          out: runs,
          runId: "n2",
          partition: { index: 0, count: 2 },
          report: false,
        });
        await refused(
          ["--runs", otherN.dir, parts[1], parts[2]],
          new RegExp(
            `^Cannot merge: ${
              parts[1]
            } \\(part 1 of 3\\) and ${otherN.dir} \\(part 0 of 2\\) are not parts of one run: their numbers of parts N differ \\(3 and 2\\)`,
          ),
        );
        const otherRules = await runPortfolio({
          portfolio,
          rules: await rulesWithOverlay(`${tmp}/rules_b.yaml`, 0.06),
          out: runs,
          runId: "r2",
          partition: { index: 1, count: 3 },
          report: false,
        });
        await refused(
          ["--runs", parts[0], otherRules.dir, parts[2]],
          new RegExp(
            `^Cannot merge: ${otherRules.dir} \\(part 1 of 3\\) and ${
              parts[0]
            } \\(part 0 of 3\\) are not parts of one run: their rules files \\(SHA-256\\) differ`,
          ),
        );
        const otherBook = await runPortfolio({
          portfolio: `${tmp}/book_q4.parquet`,
          rules,
          out: runs,
          runId: "p2",
          partition: { index: 2, count: 3 },
          report: false,
        });
        await refused(
          ["--runs", parts[0], parts[1], otherBook.dir],
          new RegExp(
            `^Cannot merge: ${otherBook.dir} \\(part 2 of 3\\) and ${
              parts[0]
            } \\(part 0 of 3\\) are not parts of one run: their portfolios \\(files, SHA-256\\) differ`,
          ),
        );
      },
    );

    await t.step(
      "a folder that is not a complete part is refused, naming it",
      async () => {
        await refused(
          ["--runs", single.dir, parts[1], parts[2]],
          new RegExp(
            `^Cannot merge: ${single.dir} is not a part of a partitioned run: its manifest.json has no partition`,
          ),
        );
        await refused(
          ["--runs", `${tmp}/nowhere`, parts[1], parts[2]],
          new RegExp(
            `^Cannot merge: ${tmp}/nowhere is not a complete part: Cannot read run folder`,
          ),
        );
        await Deno.rename(parts[2], `${parts[2]}.failed`);
        try {
          await refused(
            ["--runs", parts[0], parts[1], `${parts[2]}.failed`],
            /is not a complete part: it is a failed run's folder/,
          );
        } finally {
          await Deno.rename(`${parts[2]}.failed`, parts[2]);
        }
      },
    );

    await t.step("a second merge of the same id needs --replace", async () => {
      let r = await merge("--runs", ...parts, "--out", runs);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /already exists: pass --replace/);
      r = await merge(
        "--runs",
        ...parts,
        "--out",
        runs,
        "--replace",
        "--quiet",
      );
      assert.equal(r.code, 0, r.stderr);
    });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("partition by file: a folder of 3 portfolio files run as 3 parts merges into the single run of the whole book", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "merge_test_" });
  try {
    const [book] = generateBook({
      loans: 1500,
      seed: 3,
      reportingDate: "2025-12-31",
    });
    await Deno.mkdir(`${tmp}/parts`);
    book.writeParquet(`${tmp}/whole.parquet`);
    // Names sorted byte-wise: the part index follows the name, not the rows.
    const names = ["c.parquet", "a.parquet", "b.parquet"];
    names.forEach((n, i) =>
      book.slice(i * 500, 500).writeParquet(`${tmp}/parts/${n}`)
    );
    // With IRB capital (lib/capital): its summary is merged from the parts' cells.
    const rules = `${tmp}/rules.yaml`;
    await Deno.writeTextFile(
      rules,
      (await Deno.readTextFile(RULES)) + `
capital:
  asset_classes:
    products:
      mortgage: residential_mortgage
      credit_card: qualifying_revolving_retail
      sme: corporate
      consumer: other_retail
      auto: other_retail
  lgd: { downturn_add_on: 0.1 }
  maturity: remaining
`,
    );
    const single = await runPortfolio({
      portfolio: `${tmp}/whole.parquet`,
      rules,
      out: `${tmp}/runs`,
      runId: "whole",
      report: false,
    });
    assert.ok(single.summary.capital !== undefined);
    const parts = [];
    for (let k = 0; k < 3; k++) {
      const p = await runPortfolio({
        portfolio: `${tmp}/parts/`,
        rules,
        out: `${tmp}/runs`,
        runId: "byfile",
        partition: { index: k, count: 3 },
        report: false,
      });
      assert.equal(p.manifest.partition?.by, "file");
      assert.equal(
        p.manifest.inputs.portfolio.path,
        `${tmp}/parts/${["a", "b", "c"][k]}.parquet`,
      );
      assert.equal(p.manifest.rows.read, 500);
      parts.push(p.dir);
    }
    const r = await callMain(
      mergeMain,
      "--runs",
      ...parts,
      "--out",
      `${tmp}/runs`,
      "--no-report",
      "--quiet",
    );
    assert.equal(r.code, 0, r.stderr);
    const merged = `${tmp}/runs/byfile`;
    assert.ok(sortedResults(merged).frameEqual(sortedResults(single.dir)));
    // Exactly equal but for the IFRS 7 tables (lib/disclosure), equal to
    // the cent: their cells of a file run alone can differ from those of
    // the whole book in the last bit of a sub-cent sum (reported).
    const { disclosures: d1, ...s1 } = comparable(
      await readJson(`${merged}/summary.json`),
    );
    const { disclosures: d0, ...s0 } = comparable(
      await readJson(`${single.dir}/summary.json`),
    );
    assert.deepEqual(s1, s0);
    const f1 = [...figuresOf(d1)], f0 = [...figuresOf(d0)];
    assert.deepEqual(f1.map(([k]) => k), f0.map(([k]) => k));
    f1.forEach(([k, v], i) =>
      assert.ok(Math.abs(v - f0[i][1]) < 0.005, `${k}: ${v} and ${f0[i][1]}`)
    );
    assert.deepEqual(
      JSON.stringify(d1, (_, v) => typeof v === "number" ? 0 : v),
      JSON.stringify(d0, (_, v) => typeof v === "number" ? 0 : v),
    );
    const m = await readJson(`${merged}/manifest.json`);
    assert.equal(m.inputs.portfolio.path, `${tmp}/parts/`);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("--partition refuses rules with an add overlay (shared over the whole book), before any folder is made", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "merge_test_" });
  try {
    const [book] = generateBook({
      loans: 200,
      seed: 1,
      reportingDate: "2025-12-31",
    });
    book.writeParquet(`${tmp}/book.parquet`);
    const rules = `${tmp}/rules.yaml`;
    await Deno.writeTextFile(
      rules,
      (await Deno.readTextFile(RULES)).replace(
        /^overlays: \[\]$/m,
        `overlays:
  - { name: mgmt_add, filter: { stage: 2 }, add: 5000, reason: model gap }`,
      ),
    );
    await assert.rejects(
      () =>
        runPortfolio({
          portfolio: `${tmp}/book.parquet`,
          rules,
          out: `${tmp}/runs`,
          runId: "q4",
          partition: { index: 0, count: 2 },
        }),
      (e: Error & { kind?: string }) =>
        e.kind === "usage" &&
        /--partition cannot be used with rules that have an overlay with add \(mgmt_add\)/
          .test(e.message),
    );
    assert.deepEqual(
      [...Deno.readDirSync(tmp)].map((e) => e.name).sort(),
      ["book.parquet", "rules.yaml"],
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("the reject rate is the whole book's: parts above the limit complete with a warning, the merge fails (exit 1) and keeps the rejected rows", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "merge_test_" });
  try {
    const [book] = generateBook({
      loans: 600,
      seed: 2,
      reportingDate: "2025-12-31",
      injectBroken: 0.12,
    });
    book.writeParquet(`${tmp}/book.parquet`);
    const parts = [];
    for (let k = 0; k < 2; k++) {
      const p = await runPortfolio({
        portfolio: `${tmp}/book.parquet`,
        out: `${tmp}/runs`,
        runId: "bad",
        partition: { index: k, count: 2 },
        report: false,
      });
      assert.ok(p.dataQuality.reject_rate > 0.05);
      assert.ok(
        p.manifest.warnings.some((w) =>
          w.startsWith(`part ${k} of 2: `) &&
          w.includes("above validation.max_reject_rate")
        ),
        p.manifest.warnings.join("\n"),
      );
      parts.push(p.dir);
    }
    const r = await callMain(
      mergeMain,
      "--runs",
      ...parts,
      "--out",
      `${tmp}/runs`,
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /rows rejected .*above validation\.max_reject_rate/);
    const failed = `${tmp}/runs/bad.failed`;
    const dq = await readJson(`${failed}/data_quality.json`);
    assert.equal(dq.passed, false);
    const m = await readJson(`${failed}/manifest.json`);
    assert.equal(m.status, "failed");
    assert.equal(
      pl.readParquet(`${failed}/rejected.parquet`).height,
      dq.rows_rejected,
    );
    assert.ok(!(await Deno.stat(`${tmp}/runs/bad`).catch(() => null)));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("deno task merge without --runs or --out is a usage error (exit 2); --help lists the flags", async () => {
  let r = await callMain(mergeMain, "--out", "/tmp/nowhere");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--runs/);
  r = await callMain(mergeMain, "--help");
  assert.equal(r.code, 0);
  assert.match(r.stdout, /--runs DIR\.\.\./);
});
