/**
 * The merge verifies each part before using it (issue 17 review and
 * hostile test, T1–T3, T10, T11, R2, R4, R5): a part edited or damaged
 * after it completed, a part whose files do not agree with each other or
 * with its manifest, parts with and without the IFRS 7 cells, parts whose
 * manifests differ in any input, and an unknown code version are refused
 * with exit 2, one line naming the folder and file, and no `.failed`
 * folder. The merged manifest of a run split by file hashes the parts'
 * own files.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import pl from "nodejs-polars";
import { generateBook } from "../../lib/generate/mod.ts";
import { runPortfolio } from "../../lib/run/mod.ts";
import { main as mergeMain } from "../../tasks/merge.ts";
import { main as movementMain } from "../../tasks/movement.ts";
import { callMain } from "../tasks/_main.ts";

const RULES = new URL("../../config/ifrs9_rules.yaml", import.meta.url)
  .pathname;

const sha256 = async (path: string) =>
  createHash("sha256").update(await Deno.readFile(path)).digest("hex");

/** Copies the three part folders of `runs` into a fresh folder. */
async function copyParts(runs: string, to: string): Promise<string[]> {
  await Deno.mkdir(to, { recursive: true });
  const dirs: string[] = [];
  for (let k = 0; k < 3; k++) {
    const name = `q.part-${k}-of-3`;
    await Deno.mkdir(`${to}/${name}`);
    for await (const e of Deno.readDir(`${runs}/${name}`)) {
      await Deno.copyFile(
        `${runs}/${name}/${e.name}`,
        `${to}/${name}/${e.name}`,
      );
    }
    dirs.push(`${to}/${name}`);
  }
  return dirs;
}

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

async function editManifest(dir: string, edit: (m: Json) => void) {
  const m = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
  edit(m);
  await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify(m, null, 2));
}

/** Records a file's new SHA-256 in the part's manifest, as a forger would. */
const rehash = async (dir: string, file: string) => {
  const sha = await sha256(`${dir}/${file}`);
  await editManifest(dir, (m) => m.partition.outputs[file] = sha);
};

Deno.test("the merge verifies every part: edited, damaged or mismatched parts are refused (exit 2, naming the folder and file, no .failed folder)", async (t) => {
  const tmp = await Deno.makeTempDir({ prefix: "verify_test_" });
  try {
    const [book, later] = generateBook({
      loans: 600,
      seed: 5,
      reportingDate: "2025-12-31",
      periods: 2,
      injectBroken: 0.01,
    });
    book.writeParquet(`${tmp}/book.parquet`);
    const runs = `${tmp}/runs`;
    for (let k = 0; k < 3; k++) {
      await runPortfolio({
        portfolio: `${tmp}/book.parquet`,
        rules: RULES,
        out: runs,
        runId: "q",
        partition: { index: k, count: 3 },
        report: false,
      });
    }
    let n = 0;
    /** Copies the parts, lets `tamper` edit them, merges: must be refused. */
    const refused = async (
      name: string,
      tamper: (parts: string[]) => Promise<void>,
      expected: RegExp,
      extra: string[] = [],
    ) =>
      await t.step(name, async () => {
        const dir = `${tmp}/case${n++}`;
        const parts = await copyParts(runs, dir);
        await tamper(parts);
        const r = await callMain(
          mergeMain,
          "--runs",
          ...parts,
          "--out",
          `${dir}/out`,
          "--no-report",
          ...extra,
        );
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, expected);
        assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        const left = await Array.fromAsync(
          Deno.readDir(`${dir}/out`),
        ).catch(() => []);
        assert.deepEqual(left.map((e) => e.name), [], "nothing written");
      });

    await t.step("the untouched parts merge", async () => {
      const dir = `${tmp}/ok`;
      const parts = await copyParts(runs, dir);
      const r = await callMain(
        mergeMain,
        "--runs",
        ...parts,
        "--out",
        `${dir}/out`,
        "--no-report",
      );
      assert.equal(r.code, 0, r.stderr);
    });

    await refused(
      "a summary cell edited (T1): its SHA-256 is not the recorded one",
      async ([, p1]) => {
        const f = `${p1}/summary_cells.parquet`;
        const df = pl.readParquet(f);
        const hi = df.getColumn("ecl__cents_hi").toArray() as number[];
        hi[0] += 0.5;
        df.withColumns(pl.Series("ecl__cents_hi", hi, pl.Float64))
          .writeParquet(f);
        await Promise.resolve();
      },
      /^Cannot merge: .*q\.part-1-of-3 is not a complete part: summary_cells\.parquet has SHA-256 [0-9a-f]{12}…, not the [0-9a-f]{12}… its manifest\.json records: it was changed or damaged/,
    );
    await refused(
      "a loan result dropped (T1)",
      async ([, p1]) => {
        const f = `${p1}/loan_results.parquet`;
        const d = pl.readParquet(f);
        d.tail(d.height - 1).writeParquet(f);
        await Promise.resolve();
      },
      /q\.part-1-of-3 is not a complete part: loan_results\.parquet has SHA-256/,
    );
    await refused(
      "a loan result dropped and its hash forged: the row counts disagree",
      async ([, p1]) => {
        const f = `${p1}/loan_results.parquet`;
        const df = pl.readParquet(f);
        df.tail(df.height - 1).writeParquet(f);
        await rehash(p1, "loan_results.parquet");
      },
      /q\.part-1-of-3 is not a complete part: its loan_results\.parquet rows are \d+, but its manifest\.json says \d+/,
    );
    await refused(
      "rows.computed edited in the manifest (T1)",
      (ps) => editManifest(ps[1], (m) => m.rows.computed = 99999),
      /q\.part-1-of-3 is not a complete part: its loan_results\.parquet rows are \d+, but its manifest\.json says 99999/,
    );
    await refused(
      "a summary cell edited and its hash forged: the cells do not add up to the part's summary.json",
      async ([, p1]) => {
        const f = `${p1}/summary_cells.parquet`;
        // One unit of currency more in every cell (2^30 units of 2^-30).
        pl.readParquet(f).withColumns(
          pl.col("ecl__subcent_30").add(pl.lit(2 ** 30)).cast(pl.Int64),
        ).writeParquet(f);
        await rehash(p1, "summary_cells.parquet");
      },
      /q\.part-1-of-3 is not a complete part: its summary_cells\.parquet does not add up to its summary\.json \(field totals differs\)/,
    );
    await refused(
      "a cells column dropped (R5): named, not an internal error",
      async ([, p1]) => {
        const f = `${p1}/summary_cells.parquet`;
        pl.readParquet(f).drop("ecl__subcent_60").writeParquet(f);
        await rehash(p1, "summary_cells.parquet");
      },
      /q\.part-1-of-3 is not a complete part: summary_cells\.parquet: column ecl__subcent_60 is missing/,
    );
    await refused(
      "a cells column of another type (R5)",
      async ([, p1]) => {
        const f = `${p1}/summary_cells.parquet`;
        const df = pl.readParquet(f);
        df.withColumns(pl.col("ecl__cents_lo").cast(pl.Float64)).writeParquet(
          f,
        );
        await rehash(p1, "summary_cells.parquet");
      },
      /summary_cells\.parquet: column ecl__cents_lo is Float64, not Int64/,
    );
    await refused(
      "rejected.parquet missing (T10): exit 2, not 70",
      (ps) => Deno.remove(`${ps[1]}/rejected.parquet`),
      /q\.part-1-of-3 is not a complete part: rejected\.parquet is missing/,
    );
    await refused(
      "data_quality.json missing (T10): no .failed folder",
      (ps) => Deno.remove(`${ps[1]}/data_quality.json`),
      /q\.part-1-of-3 is not a complete part/,
    );
    await refused(
      "one part without disclosure_cells.parquet (T3), its manifest edited to match",
      async ([, p1]) => {
        await Deno.remove(`${p1}/disclosure_cells.parquet`);
        await editManifest(
          p1,
          (m) => delete m.partition.outputs["disclosure_cells.parquet"],
        );
      },
      /are not parts of one run: their files \(disclosure_cells\.parquet\) differ \(absent and present\)/,
    );
    await refused(
      "an extra file in a part",
      (ps) => Deno.writeTextFile(`${ps[1]}/summary_cells_overlays.parquet`, ""),
      /summary_cells_overlays\.parquet is not one of the files its manifest\.json lists/,
    );
    await refused(
      "manifest_version 99 (T11)",
      (ps) => editManifest(ps[1], (m) => m.manifest_version = 99),
      /q\.part-1-of-3 is not a complete part: its manifest\.json has manifest_version 99, not 2/,
    );
    await refused(
      "partition.index a string (T11): the field is named",
      (ps) => editManifest(ps[1], (m) => m.partition.index = "1"),
      /its manifest\.json has partition\.index "1", not a whole number from 0 to 2/,
    );
    await refused(
      "run_id edited (T11)",
      (ps) => editManifest(ps[1], (m) => m.run_id = "q.part-0-of-3"),
      /its folder is named q\.part-1-of-3 and its manifest\.json says run_id "q\.part-0-of-3"/,
    );
    await refused(
      "another rules SHA-256 in inputs (T11)",
      (ps) =>
        editManifest(ps[2], (m) => m.inputs.rules.sha256 = "0".repeat(64)),
      /q\.part-2-of-3 \(part 2 of 3\) and .*q\.part-0-of-3 \(part 0 of 3\) are not parts of one run: their rules files \(inputs\.rules\.sha256\) differ/,
    );
    await refused(
      "another PD model (R4)",
      (ps) =>
        editManifest(ps[2], (m) =>
          m.pd_models = [{
            model: "m.json",
            sha256: "1".repeat(64),
            output: "pd",
            facilities: {},
            replaced: 0,
            missing: {},
            unknown: {},
          }]),
      /their PD models \(pd_models: model, SHA-256, output\) differ \(m\.json 1{64} pd and \(none\)\)/,
    );
    await refused(
      "another plugin (R4)",
      (ps) =>
        editManifest(ps[2], (m) =>
          m.plugins = [{
            name: "x",
            module: "x.ts",
            sha256: "2".repeat(64),
            options: {},
          }]),
      /their plugins \(name, module SHA-256, options\) differ/,
    );
    await refused(
      "code version unknown (R3, T4)",
      async (ps) => {
        for (const p of ps) {
          await editManifest(p, (m) => m.code_version = "unknown");
        }
      },
      /records code_version "unknown": .*--build-arg IFRS9_CODE_VERSION/,
    );
    await t.step(
      "the movement from a part (T5): exit 2, merge first or --no-walk",
      async () => {
        later.writeParquet(`${tmp}/later.parquet`);
        const to = await runPortfolio({
          portfolio: `${tmp}/later.parquet`,
          rules: RULES,
          out: `${tmp}/later`,
          runId: "q2",
          partition: { index: 0, count: 3 },
          report: false,
        });
        const r = await callMain(
          movementMain,
          "--from",
          `${runs}/q.part-0-of-3`,
          "--to",
          to.dir,
          "--out",
          `${tmp}/mv`,
        );
        assert.equal(r.code, 2, r.stderr);
        assert.match(
          r.stderr,
          /q\.part-0-of-3 is one part of a partitioned run: .*merge the parts first \(deno task merge\), or use --no-walk/,
        );
      },
    );
    await refused(
      "a merged run id named like a part (T12)",
      () => Promise.resolve(),
      /Cannot merge into run id q\.part-5-of-9: it is named like a part/,
      ["--run-id", "q.part-5-of-9"],
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("split by file: the merged portfolio SHA-256 is built from each part's own file (sha256sum lines); another folder's parts are refused (R2)", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "verify_test_" });
  try {
    const [book] = generateBook({
      loans: 300,
      seed: 9,
      reportingDate: "2025-12-31",
      periods: 1,
    });
    const names = ["a.parquet", "b.parquet", "c.parquet"];
    for (const folder of ["v1", "v2"]) {
      await Deno.mkdir(`${tmp}/${folder}`);
      for (let k = 0; k < 3; k++) {
        // v2's last file lacks one row: another book.
        const rows = folder === "v2" && k === 2 ? 99 : 100;
        book.slice(k * 100, rows).writeParquet(`${tmp}/${folder}/${names[k]}`);
      }
    }
    const part = (folder: string, k: number) =>
      runPortfolio({
        portfolio: `${tmp}/${folder}/`,
        rules: RULES,
        out: `${tmp}/runs`,
        runId: "f",
        partition: { index: k, count: 3 },
        report: false,
        replace: true,
      });
    const dirs = [];
    for (let k = 0; k < 3; k++) dirs.push((await part("v1", k)).dir);
    const r = await callMain(
      mergeMain,
      "--runs",
      ...dirs,
      "--out",
      `${tmp}/merged`,
      "--no-report",
    );
    assert.equal(r.code, 0, r.stderr);
    const manifest = JSON.parse(
      await Deno.readTextFile(`${tmp}/merged/f/manifest.json`),
    );
    let lines = "";
    for (const name of names) {
      lines += `${await sha256(`${tmp}/v1/${name}`)}  ${name}\n`;
    }
    assert.equal(
      manifest.inputs.portfolio.sha256,
      createHash("sha256").update(lines).digest("hex"),
    );
    // Part 2 of another folder with the same file names: refused.
    await Deno.rename(dirs[2], `${tmp}/keep2`);
    const other = (await part("v2", 2)).dir;
    const r2 = await callMain(
      mergeMain,
      "--runs",
      dirs[0],
      dirs[1],
      other,
      "--out",
      `${tmp}/merged2`,
      "--no-report",
    );
    assert.equal(r2.code, 2, r2.stderr);
    assert.match(
      r2.stderr,
      /are not parts of one run: their portfolios \(partition\.input\) differ/,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("a merged data_quality.json names the file's rows (T7) and adds the counts of the parts' warnings (T8), as the single run does", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "verify_test_" });
  try {
    const [q] = generateBook({
      loans: 400,
      seed: 3,
      reportingDate: "2025-12-31",
      periods: 1,
    });
    const ids = q.getColumn("loan_id").toArray() as (string | null)[];
    const products = q.getColumn("product").toArray() as string[];
    // Rows without a loan_id (all in part 0) far into the file.
    for (const i of [150, 333]) ids[i] = null;
    // A product the rules lack, on rows of different parts.
    for (const i of [10, 11, 12, 13, 14, 15]) products[i] = "leasing";
    const book = q.withColumns(
      pl.Series("loan_id", ids, pl.Utf8),
      pl.Series("product", products, pl.Utf8),
    );
    book.writeParquet(`${tmp}/book.parquet`);
    const rules = `${tmp}/rules.yaml`;
    await Deno.writeTextFile(
      rules,
      (await Deno.readTextFile(RULES)).replace(
        /max_reject_rate: [0-9.]+/,
        "max_reject_rate: 0.5",
      ),
    );
    await runPortfolio({
      portfolio: `${tmp}/book.parquet`,
      rules,
      out: `${tmp}/runs`,
      runId: "single",
      report: false,
    });
    const dirs = [];
    for (let k = 0; k < 3; k++) {
      dirs.push(
        (await runPortfolio({
          portfolio: `${tmp}/book.parquet`,
          rules,
          out: `${tmp}/runs`,
          runId: "m",
          partition: { index: k, count: 3 },
          report: false,
        })).dir,
      );
    }
    const r = await callMain(
      mergeMain,
      "--runs",
      ...dirs,
      "--out",
      `${tmp}/runs`,
      "--no-report",
    );
    assert.equal(r.code, 0, r.stderr);
    const dq = async (id: string) =>
      JSON.parse(
        await Deno.readTextFile(`${tmp}/runs/${id}/data_quality.json`),
      );
    const [a, b] = [await dq("single"), await dq("m")];
    const examples = (d: Json) =>
      Object.fromEntries(
        d.rules.map((x: Json) => [x.code, [...x.examples].sort()]),
      );
    assert.deepEqual(examples(b).NULL_LOAN_ID, ["row 151", "row 334"]);
    assert.deepEqual(examples(b), examples(a));
    // The single run says "6 rows rejected" once; so does the merge.
    assert.ok(
      a.warnings.some((w: string) => /leasing.*: 6 rows rejected/.test(w)),
      a.warnings.join("\n"),
    );
    assert.deepEqual(b.warnings, a.warnings);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("empty parts (T6): a 5-row book in 8 parts completes every part, empty ones included, and merges into the single run; a part takes the book's reporting date", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "verify_test_" });
  try {
    const [q] = generateBook({
      loans: 5,
      seed: 2,
      reportingDate: "2025-12-31",
      periods: 1,
    });
    // One row without a reporting date: rejected (its part has no other
    // row to take a date from), as the single run rejects it.
    const dates = q.getColumn("reporting_date").toArray() as unknown[];
    dates[4] = null;
    q.withColumns(pl.Series("reporting_date", dates)).writeParquet(
      `${tmp}/book.parquet`,
    );
    const rules = `${tmp}/rules.yaml`;
    await Deno.writeTextFile(
      rules,
      (await Deno.readTextFile(RULES)).replace(
        /max_reject_rate: [0-9.]+/,
        "max_reject_rate: 0.5",
      ),
    );
    const common = {
      portfolio: `${tmp}/book.parquet`,
      rules,
      out: `${tmp}/runs`,
      report: false,
    };
    const single = await runPortfolio({ ...common, runId: "single" });
    const dirs = [];
    const heights = [];
    for (let k = 0; k < 8; k++) {
      const part = await runPortfolio({
        ...common,
        runId: "e",
        partition: { index: k, count: 8 },
      });
      assert.equal(part.manifest.reporting_date, "2025-12-31");
      heights.push(part.manifest.rows.read);
      dirs.push(part.dir);
    }
    assert.ok(heights.includes(0), `an empty part among ${heights}`);
    const r = await callMain(
      mergeMain,
      "--runs",
      ...dirs,
      "--out",
      `${tmp}/runs`,
      "--no-report",
    );
    assert.equal(r.code, 0, r.stderr);
    const json = async (id: string, file: string) =>
      JSON.parse(await Deno.readTextFile(`${tmp}/runs/${id}/${file}`));
    const { run_id: _a, ...a } = await json("single", "summary.json");
    const { run_id: _b, ...b } = await json("e", "summary.json");
    // Exactly equal: the precise sums' parts are integers, added in any
    // order to the same sums (lib/precise_sum.ts).
    assert.deepEqual(b, a);
    assert.equal(
      (await json("e", "data_quality.json")).rows_rejected,
      single.manifest.rows.rejected,
    );
    assert.ok(single.manifest.rows.rejected >= 1);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
