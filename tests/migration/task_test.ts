/**
 * `deno task migration` (tasks/migration.ts): a matrix estimated from a
 * generated eight-quarter book, written, read back as a rules file's
 * `transition_matrix` and used by a run; usage errors and a book without
 * snapshots refused.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import { parse, stringify } from "yaml";
import { main } from "../../tasks/migration.ts";
import { callMain, withTempDir } from "../tasks/_main.ts";
import {
  generatePortfolio,
  RATING_SCALE,
  readMatrixFile,
  runPortfolio,
  validateMatrix,
} from "../../lib/mod.ts";

Deno.test("deno task migration estimates a matrix from a generated book that validates and drives a run", async () => {
  await withTempDir(async (dir) => {
    const book = join(dir, "book");
    const gen = await generatePortfolio({
      loans: 1500,
      seed: 5,
      reportingDate: "2024-12-31",
      periods: 8,
      out: book,
    });
    for (const method of ["cohort", "duration"]) {
      const out = join(dir, method);
      const r = await callMain(
        main,
        "--book",
        book,
        "--method",
        method,
        "--out",
        out,
        "--years",
        "40",
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        new RegExp(
          `^${method} estimate from 8 snapshots \\(2024-12-31 to 2026-09-30\\)`,
        ),
      );
      const read = readMatrixFile(join(out, "transition_matrix.csv"));
      assert.ok("matrix" in read);
      assert.deepEqual(validateMatrix(read.matrix), []);
      assert.deepEqual(read.matrix.states, RATING_SCALE.map((g) => g.grade));
      // The JSON holds the same rows and reads as a matrix file too.
      const json = readMatrixFile(join(out, "transition_matrix.json"));
      assert.ok("matrix" in json);
      assert.deepEqual(json.matrix.rows, read.matrix.rows);
      const lifetime = pl.readCSV(
        await Deno.readTextFile(join(out, "lifetime_pd.csv")),
      );
      assert.equal(lifetime.height, 11 * 40);
    }

    // The duration matrix as a segment's PD curve, the grades' bands those
    // of the generator's rating scale (the last band up to 1).
    const doc = parse(await Deno.readTextFile("config/ifrs9_rules.yaml"));
    doc.segments.default = {
      ...doc.segments.default,
      pd_curve: "transition_matrix",
      transition_matrix: "duration/transition_matrix.csv",
      master_scale: RATING_SCALE.slice(0, -1).map((g, i, all) => ({
        grade: g.grade,
        upper_pd: i === all.length - 1 ? 1 : g.upper_pd,
      })),
    };
    const rules = join(dir, "rules.yaml");
    await Deno.writeTextFile(rules, stringify(doc));
    const last = gen.snapshots.at(-1)!;
    const run = await runPortfolio({
      portfolio: last.path,
      rules,
      fx: last.fxPath,
      out: join(dir, "runs"),
      runId: "tm",
      report: false,
    });
    assert.equal(run.manifest.status, "complete");
    assert.ok(run.summary.totals.ecl > 0);
    // Every facility's PD curve is its grade's: facilities of one rating
    // and one remaining term have one lifetime PD, whatever their 12-month
    // PDs (a flat curve would give each its own).
    const results = pl.readParquet(join(run.dir, "loan_results.parquet"))
      .join(pl.readParquet(last.path).select("loan_id", "rating"), {
        on: "loan_id",
      })
      .filter(
        pl.col("stage").ltEq(2).and(
          pl.col("product").neq(pl.lit("credit_card")),
        ),
      );
    const groups = results.groupBy(["rating", "remaining_term_months"]).agg(
      pl.col("pd_lifetime").nUnique().alias("curves"),
      pl.col("pd_12m").nUnique().alias("pds"),
      pl.len().alias("n"),
    );
    assert.ok(groups.height > 20);
    assert.deepEqual(groups.getColumn("curves").unique().toArray(), [1]);
    assert.ok(
      groups.filter(pl.col("pds").gt(1)).height > 5,
      "several groups hold facilities of different 12-month PDs",
    );
  });
});

Deno.test("deno task migration refuses a bad method, a book without snapshots and a cohort shorter than a year", async () => {
  await withTempDir(async (dir) => {
    const bad = await callMain(
      main,
      "--book",
      dir,
      "--method",
      "markov",
      "--out",
      join(dir, "o"),
    );
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /--method must be one of cohort, duration, got markov/,
    );
    const missing = await callMain(main, "--book", dir, "--method", "cohort");
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--out is required/);
    const empty = await callMain(
      main,
      "--book",
      dir,
      "--method",
      "cohort",
      "--out",
      join(dir, "o"),
    );
    assert.equal(empty.code, 2);
    assert.match(
      empty.stderr,
      /no snapshot .*migration needs at least two reporting dates/,
    );
    const book = join(dir, "book");
    await generatePortfolio({
      loans: 50,
      seed: 1,
      reportingDate: "2025-03-31",
      periods: 3,
      out: book,
    });
    const short = await callMain(
      main,
      "--book",
      book,
      "--method",
      "cohort",
      "--out",
      join(dir, "o"),
    );
    assert.equal(short.code, 2);
    assert.match(
      short.stderr,
      /less than a year: the cohort method needs dates twelve months apart/,
    );
    const ok = await callMain(
      main,
      "--book",
      book,
      "--method",
      "duration",
      "--out",
      join(dir, "o"),
    );
    assert.equal(ok.code, 0, ok.stderr);
  });
});
