/**
 * `deno task train-pd` as a process: it trains, prints its progress and the
 * headline statistics and writes the model folder (exit 0); each refusal
 * (a usage error, a missing feature column, a non-binary target, a target
 * of one class, data that cannot be read, an --out holding other files)
 * prints one line naming what is wrong, no stack trace, exits 2 and
 * writes nothing.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import pl from "nodejs-polars";
import { devData } from "../pd_model/_dev_data.ts";
import { runTaskProcess, withTempDir } from "./_main.ts";

const TASK = fileURLToPath(new URL("../../tasks/train_pd.ts", import.meta.url));

/** Runs the task; its exit code and output. */
const trainPd = (...args: string[]) =>
  runTaskProcess(TASK, args, { NO_COLOR: "1" });

Deno.test("train-pd trains a scorecard, prints progress and the held-out statistics, and writes the folder", async () => {
  await withTempDir(async (dir) => {
    devData(3000, 7).writeCSV(`${dir}/dev.csv`);
    const r = await trainPd(
      "--data",
      `${dir}/dev.csv`,
      "--target",
      "default_12m",
      "--out",
      `${dir}/model`,
      "--seed",
      "9",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.match(r.stdout, /^reading .*dev\.csv$/m);
    assert.match(
      r.stdout,
      /3000 rows, \d+ defaults; 3 characteristics: credit_score, debt_to_income, employment_type \(left out: loan_id, an identifier; reporting_date, a date\)/,
    );
    assert.match(
      r.stdout,
      /fitting the scorecard on 2100 rows \(900 held out: 900 of 3000 facilities by loan_id, stratified on whether they ever default; none on both sides\)/,
    );
    assert.match(
      r.stdout,
      /^held out: 900 rows, [\d,]+ defaults \([\d.]+%\); AUC 0\.\d{4}, Gini [\d.]+%, KS [\d.]+%$/m,
    );
    assert.match(
      r.stdout,
      /wrote .*model \(model\.onnx, model\.json, metrics\.json, validation\.html, scorecard\.csv\)/,
    );
    const metrics = JSON.parse(
      await Deno.readTextFile(`${dir}/model/metrics.json`),
    );
    assert.equal(metrics.seed, 9);
    assert.equal(metrics.held_out.rows, 900);
    assert.equal(metrics.split.hold_out, "facility");
    assert.match(
      r.stdout,
      /^held out by facility: 900 of 3,000 facilities \(loan_id\), none also fitted$/m,
    );
    // The figure printed is the one written.
    assert.ok(r.stdout.includes(`AUC ${metrics.held_out.auc.toFixed(4)}`));
  });
});

Deno.test("train-pd --model gbt --features trains the trees on the named characteristics", async () => {
  await withTempDir(async (dir) => {
    devData(2000, 8).writeParquet(`${dir}/dev.parquet`);
    const r = await trainPd(
      "--data",
      `${dir}/dev.parquet`,
      "--target",
      "default_12m",
      "--out",
      `${dir}/gbt`,
      "--model",
      "gbt",
      "--features",
      "credit_score, employment_type",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /2 characteristics: credit_score, employment_type\n/,
    );
    const model = JSON.parse(await Deno.readTextFile(`${dir}/gbt/model.json`));
    assert.equal(model.kind, "gbt");
    assert.deepEqual(model.features.map((f: { name: string }) => f.name), [
      "credit_score",
      "employment_type",
    ]);
  });
});

Deno.test("train-pd refuses, with one line and exit 2, each input it cannot train on, writing nothing", async () => {
  await withTempDir(async (dir) => {
    const df = devData(400, 6);
    df.writeParquet(`${dir}/dev.parquet`);
    df.withColumn(
      pl.Series(
        "default_12m",
        df.getColumn("default_12m").toArray().map((v, i) =>
          i === 4 ? "maybe" : String(v)
        ),
      ),
    )
      .writeCSV(`${dir}/text_target.csv`);
    df.withColumn(pl.Series("default_12m", new Array(400).fill(1)))
      .writeParquet(`${dir}/one_class.parquet`);
    await Deno.mkdir(`${dir}/busy`);
    await Deno.writeTextFile(`${dir}/busy/notes.md`, "mine");
    const base = (
      data: string,
    ) => ["--data", data, "--target", "default_12m", "--out", `${dir}/model`];
    const cases: [string[], RegExp][] = [
      [
        [...base(`${dir}/dev.parquet`), "--features", "credit_score,ltv"],
        /dev\.parquet: no feature column "ltv" \(the columns are loan_id, reporting_date, credit_score, debt_to_income, employment_type, default_12m\)/,
      ],
      [
        base(`${dir}/text_target.csv`),
        /text_target\.csv: target column default_12m is not binary: row 5 holds "maybe"/,
      ],
      [
        base(`${dir}/one_class.parquet`),
        /one_class\.parquet: target column default_12m has one class only \(every one of 400 rows is 1\)/,
      ],
      [[
        "--data",
        `${dir}/dev.parquet`,
        "--target",
        "dflt",
        "--out",
        `${dir}/model`,
      ], /no target column "dflt"/],
      [
        base(`${dir}/nope.csv`),
        /^Cannot read training data .*nope\.csv: no such file$/m,
      ],
      [
        [...base(`${dir}/dev.parquet`), "--model", "forest"],
        /--model must be one of scorecard, gbt, got forest/,
      ],
      [
        [...base(`${dir}/dev.parquet`), "--held-out", "1.5"],
        /--held-out must be a share between 0 and 1/,
      ],
      [
        [...base(`${dir}/dev.parquet`), "--hold-out", "random"],
        /--hold-out must be one of facility, out-of-time, got random/,
      ],
      [
        [...base(`${dir}/dev.parquet`), "--hold-out", "out-of-time"],
        /dev\.parquet: reporting_date: the out-of-time hold-out needs at least two observation dates, found 1 \(2025-12-31\)/,
      ],
      [
        [
          ...base(`${dir}/dev.parquet`),
          "--hold-out",
          "out-of-time",
          "--held-out",
          "0.5",
        ],
        /--held-out SHARE applies to --hold-out facility/,
      ],
      [
        [...base(`${dir}/dev.parquet`), "--features", "a,,b"],
        /--features must list column names/,
      ],
      [
        ["--data", `${dir}/dev.parquet`, "--target", "default_12m"],
        /--out is required/,
      ],
      [
        [...base(`${dir}/dev.parquet`), "--bogus"],
        /^unknown flag --bogus\. Usage: deno task train-pd /,
      ],
      [[
        "--data",
        `${dir}/dev.parquet`,
        "--target",
        "default_12m",
        "--out",
        `${dir}/busy`,
      ], /Cannot write .*busy: it holds notes\.md/],
    ];
    for (const [args, message] of cases) {
      const r = await trainPd(...args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/, "no stack trace");
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(left, [
      "busy",
      "dev.parquet",
      "one_class.parquet",
      "text_target.csv",
    ]);
  });
});

Deno.test("train-pd --hold-out out-of-time holds out exactly the rows of the last reporting date", async () => {
  await withTempDir(async (dir) => {
    // Facilities seen at two dates: rows 0-1499 at 2025-06-30 and rows
    // 1500-2999 (the same 1500 loans) at 2025-12-31.
    const df = devData(3000, 12);
    const loans = Array.from({ length: 3000 }, (_, i) => `L${(i % 1500) + 1}`);
    const dates = Array.from(
      { length: 3000 },
      (_, i) => (i < 1500 ? "2025-06-30" : "2025-12-31"),
    );
    df.withColumns(
      pl.Series("loan_id", loans),
      pl.Series("reporting_date", dates),
    )
      .writeCSV(`${dir}/dev.csv`);
    const r = await trainPd(
      "--data",
      `${dir}/dev.csv`,
      "--target",
      "default_12m",
      "--out",
      `${dir}/oot`,
      "--model",
      "gbt",
      "--hold-out",
      "out-of-time",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^held out out of time: the 1,500 rows of 2025-12-31 \(reporting_date\)$/m,
    );
    const metrics = JSON.parse(
      await Deno.readTextFile(`${dir}/oot/metrics.json`),
    );
    assert.equal(metrics.train.rows, 1500);
    assert.equal(metrics.held_out.rows, 1500);
    assert.deepEqual(metrics.split.date, {
      column: "reporting_date",
      held_out: "2025-12-31",
    });
    // The same 1500 loans at both dates.
    assert.equal(metrics.split.shared_facilities, 1500);
    const y = df.getColumn("default_12m").toArray() as number[];
    assert.equal(
      metrics.held_out.defaults,
      y.slice(1500).reduce((a, b) => a + b, 0),
    );
  });
});

Deno.test("train-pd --help prints every flag", async () => {
  const r = await trainPd("--help");
  assert.equal(r.code, 0);
  for (
    const flag of [
      "--data",
      "--target",
      "--out",
      "--model",
      "--features",
      "--seed",
      "--hold-out",
      "--held-out",
    ]
  ) {
    assert.ok(r.stdout.includes(flag), flag);
  }
});
