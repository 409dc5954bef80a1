/**
 * `deno task score-pd` as a user runs it, in a subprocess, on model
 * folders built here: a scorecard whose bins, points and WoE are written
 * by hand (its ONNX file from `scorecardToOnnx`), so the PD, score and
 * reason codes of each row follow from the table by hand; and a model
 * "trained elsewhere" (MatMul + Sigmoid built with onnx-proto) under a
 * `gbt` envelope, scored to CSV. A missing feature column, an unknown
 * output extension and a model not matching its contract are refused.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import { scorecardToOnnx } from "../../lib/mod.ts";
import type { Scorecard } from "../../lib/mod.ts";
import { foreignModel, logistic } from "../pd_model/_foreign_model.ts";
import { main } from "../../tasks/score_pd.ts";
import { callMain, runTaskProcess } from "./_main.ts";

const TASK = new URL("../../tasks/score_pd.ts", import.meta.url).pathname;

/**
 * What the task's process is given besides NO_COLOR: the S3 settings of
 * the object-storage test (a subprocess does not see this isolate's).
 */
let taskEnv: Record<string, string> = {};

const task = (...args: string[]) =>
  runTaskProcess(TASK, args, { ...taskEnv, NO_COLOR: "1" });

const JOBS = ["employed", "self_employed", "unemployed"];
const FEATURES = [
  { name: "credit_score", kind: "number" as const },
  { name: "employment_type", kind: "category" as const, categories: JOBS },
];

// credit_score: bins < 500, [500, 700), >= 700, missing.
const SCORE_POINTS = [10, 30, 50, 20];
const SCORE_ETA = [0.8, 0, -0.8, 0.2]; // coefficient -1 times WoE
// employment_type: employed, self_employed, unemployed, missing.
const JOB_POINTS = [40, 25, 5, 15];
const JOB_ETA = [-0.5, 0, 1, 0];
const INTERCEPT = -3;

function bin(
  woe: number,
  extra: { lower?: number; upper?: number; categories?: string[] } = {},
  missing = false,
) {
  return {
    lower: extra.lower ?? null,
    upper: extra.upper ?? null,
    ...(extra.categories ? { categories: extra.categories } : {}),
    missing,
    count: 10,
    bads: 1,
    woe,
    iv: 0.01,
  };
}

/** The hand-written scorecard (coefficient -1: eta adds -WoE). */
function scorecard(): Scorecard {
  return {
    features: FEATURES,
    characteristics: [
      {
        name: "credit_score",
        kind: "number",
        edges: [500, 700],
        categoryBins: [],
        bins: [
          bin(-SCORE_ETA[0], { upper: 500 }),
          bin(-SCORE_ETA[1], { lower: 500, upper: 700 }),
          bin(-SCORE_ETA[2], { lower: 700 }),
          bin(-SCORE_ETA[3], {}, true),
        ],
        iv: 0.1,
        monotonic: true,
        coefficient: -1,
        standardError: 0.1,
        points: SCORE_POINTS,
      },
      {
        name: "employment_type",
        kind: "category",
        edges: [],
        categoryBins: [0, 1, 2],
        bins: [
          bin(-JOB_ETA[0], { categories: ["employed"] }),
          bin(-JOB_ETA[1], { categories: ["self_employed"] }),
          bin(-JOB_ETA[2], { categories: ["unemployed"] }),
          bin(-JOB_ETA[3], {}, true),
        ],
        iv: 0.1,
        monotonic: false,
        coefficient: -1,
        standardError: 0.1,
        points: JOB_POINTS,
      },
    ],
    intercept: INTERCEPT,
    fit: {
      intercept: INTERCEPT,
      interceptStandardError: 0.1,
      logLikelihood: -100,
      nullLogLikelihood: -120,
      iterations: 5,
      rows: 40,
      defaults: 4,
    },
    scaling: {
      pdo: 20,
      baseScore: 600,
      baseOdds: 50,
      factor: 20 / Math.LN2,
      offset: 600 - (20 / Math.LN2) * Math.log(50),
    },
    calibration: null,
    scoreRange: [15, 100],
    warnings: [],
  } as unknown as Scorecard;
}

/** A `model.json` envelope around `model`, with a small reference. */
function envelope(kind: string, model: unknown, creditScore?: number[]) {
  const shares = (n: number) => Array.from({ length: n }, () => 1 / n);
  return {
    format: "ifrs9-pd-model",
    version: 1,
    kind,
    features: FEATURES,
    training: {
      data: "dev.csv",
      data_sha256: "0".repeat(64),
      target: "default_12m",
      rows: { train: 28, held_out: 12 },
      defaults: { train: 3, held_out: 1 },
      seed: 1,
      trained_at: "2026-01-01T00:00:00Z",
    },
    model,
    reference: {
      score: { edges: [50], shares: shares(3) },
      features: {
        credit_score: { edges: [600], shares: creditScore ?? shares(3) },
        employment_type: { categories: JOBS, shares: shares(5) },
      },
      master_scale: [
        { grade: "A", upper_pd: 0.05 },
        { grade: "B", upper_pd: 1 },
      ],
    },
  };
}

/** Rows to score: text columns as a CSV holds them, an id and a blank job. */
const ROWS = {
  loan_id: ["L1", "L2", "L3", "L4", "L5"],
  credit_score: ["450", "650", "720", "", "500"],
  employment_type: ["unemployed", "employed", "self_employed", "employed", ""],
  region: ["north", "south", "north", "east", "=1+1"],
};

/** Bin of each row, by hand from the table above. */
const SCORE_BIN = [0, 1, 2, 3, 1]; // 450 < 500; 650; 720 >= 700; blank; 500 at the edge
const JOB_BIN = [2, 0, 1, 0, 3];

Deno.test("deno task score-pd scores a scorecard: pd, score and reason codes by hand, to Parquet", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const modelDir = join(dir, "model");
    await Deno.mkdir(modelDir);
    const sc = scorecard();
    await Deno.writeFile(join(modelDir, "model.onnx"), scorecardToOnnx(sc));
    await Deno.writeTextFile(
      join(modelDir, "model.json"),
      JSON.stringify(envelope("scorecard", sc)),
    );
    const data = join(dir, "rows.csv");
    pl.DataFrame(ROWS).writeCSV(data);
    const out = join(dir, "scored.parquet");
    const r = await task("--model", modelDir, "--data", data, "--out", out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /5 rows scored with .*model\.onnx \(scorecard/);
    assert.match(r.stdout, /credit_score: 1 missing/);
    const df = pl.readParquet(out);
    // Every input row and column, as read, then the scores.
    assert.deepEqual(df.columns, [
      "loan_id",
      "credit_score",
      "employment_type",
      "region",
      "pd",
      "score",
      "reason_1",
      "reason_2",
      "reason_3",
    ]);
    assert.deepEqual(df.getColumn("region").toArray(), ROWS.region);
    const pd = df.getColumn("pd").toArray() as number[];
    const score = df.getColumn("score").toArray() as number[];
    const r1 = df.getColumn("reason_1").toArray();
    const r2 = df.getColumn("reason_2").toArray();
    const r3 = df.getColumn("reason_3").toArray();
    for (let i = 0; i < 5; i++) {
      const s = SCORE_BIN[i], j = JOB_BIN[i];
      const eta = INTERCEPT + SCORE_ETA[s] + JOB_ETA[j];
      assert.ok(Math.abs(pd[i] - 1 / (1 + Math.exp(-eta))) <= 1e-15, `pd ${i}`);
      assert.equal(score[i], SCORE_POINTS[s] + JOB_POINTS[j]);
      // Reasons: points lost against each characteristic's best bin (50
      // and 40), largest first, ties to the first; none when nothing lost.
      const losses = [
        ["credit_score", 50 - SCORE_POINTS[s]],
        ["employment_type", 40 - JOB_POINTS[j]],
      ] as const;
      const lost = losses.filter(([, l]) => l > 0)
        .sort((a, b) => b[1] - a[1]).map(([n]) => n);
      assert.deepEqual([r1[i], r2[i], r3[i]], [
        lost[0] ?? null,
        lost[1] ?? null,
        null,
      ], `row ${i}`);
    }
    // Row 3 (L3): 720 is the best credit bin, self-employed loses 15.
    assert.deepEqual([r1[2], r2[2]], ["employment_type", null]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task score-pd scores a model trained elsewhere to CSV, the hand formula's PDs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const modelDir = join(dir, "model");
    await Deno.mkdir(modelDir);
    const weights = [-0.01, 0.7];
    await Deno.writeFile(
      join(modelDir, "model.onnx"),
      foreignModel({
        inputs: FEATURES.map((f) => ({ name: f.name })),
        weights,
        intercept: 2,
        op: "matmul",
      }),
    );
    await Deno.writeTextFile(
      join(modelDir, "model.json"),
      JSON.stringify(envelope("gbt", {})),
    );
    const rows = {
      loan_id: ["A", "B", "C"],
      credit_score: [400, 650, 800],
      employment_type: ["unemployed", "employed", "self_employed"],
    };
    const data = join(dir, "rows.parquet");
    pl.DataFrame(rows).writeParquet(data);
    const out = join(dir, "scored.csv");
    const r = await task("--model", modelDir, "--data", data, "--out", out);
    assert.equal(r.code, 0, r.stderr);
    const df = pl.readCSV(await Deno.readTextFile(out));
    assert.deepEqual(df.columns, [
      "loan_id",
      "credit_score",
      "employment_type",
      "pd",
    ]);
    const pd = df.getColumn("pd").toArray() as number[];
    for (let i = 0; i < 3; i++) {
      const code = JOBS.indexOf(rows.employment_type[i]);
      const hand = logistic(2, weights, [rows.credit_score[i], code]);
      // The CSV holds each double's shortest text: it reads back exactly.
      assert.ok(Math.abs(pd[i] - hand) <= 1e-15, `${pd[i]} vs ${hand}`);
    }
    // No partial file is left beside the output.
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
      ["model", "rows.parquet", "scored.csv"],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task score-pd refuses a missing feature column, a model off its contract and an unknown extension", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const modelDir = join(dir, "model");
    await Deno.mkdir(modelDir);
    const sc = scorecard();
    await Deno.writeFile(join(modelDir, "model.onnx"), scorecardToOnnx(sc));
    await Deno.writeTextFile(
      join(modelDir, "model.json"),
      JSON.stringify(envelope("scorecard", sc)),
    );
    const data = join(dir, "rows.csv");
    pl.DataFrame({ loan_id: ["L1"], credit_score: ["600"] }).writeCSV(data);
    const out = join(dir, "scored.parquet");
    let r = await task("--model", modelDir, "--data", data, "--out", out);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /rows\.csv: missing feature column employment_type that PD model .*model\.onnx reads/,
    );
    assert.doesNotMatch(r.stderr, /\n\s+at /); // no stack trace
    r = await task(
      "--model",
      modelDir,
      "--data",
      data,
      "--out",
      join(dir, "x.txt"),
    );
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--out must end in \.parquet or \.csv/);
    // model.json's contract reversed: the ONNX inputs no longer match.
    await Deno.writeTextFile(
      join(modelDir, "model.json"),
      JSON.stringify({
        ...envelope("scorecard", sc),
        features: [...FEATURES].reverse(),
      }),
    );
    pl.DataFrame(ROWS).writeCSV(data);
    r = await task("--model", modelDir, "--data", data, "--out", out);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /does not match its feature contract; nothing was scored/,
    );
    assert.match(
      r.stderr,
      /feature employment_type: input 2 of the model, feature 1 of the contract/,
    );
    assert.equal(
      [...Deno.readDirSync(dir)].some((e) => e.name.startsWith("scored")),
      false,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task score-pd: --help prints the flags; missing flags are named, exit 2", async () => {
  let r = await callMain(main, "--help");
  assert.equal(r.code, 0);
  assert.match(
    r.stdout,
    /^Usage: deno task score-pd --model DIR --data PATH --out FILE/,
  );
  r = await callMain(main, "--model", "m");
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /^--data and --out are required\. Usage: deno task score-pd/,
  );
  // An output onto the data itself is refused before anything is read.
  const dir = await Deno.makeTempDir();
  try {
    const data = join(dir, "rows.csv");
    await Deno.writeTextFile(data, "a\n1\n");
    r = await callMain(main, "--model", dir, "--data", data, "--out", data);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /rows\.csv/);
    assert.equal(await Deno.readTextFile(data), "a\n1\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A model folder with the hand-built MatMul model (pd = σ(2 − 0.01·score + 0.7·job)). */
async function foreignFolder(
  modelDir: string,
  creditScoreShares?: number[],
): Promise<void> {
  await Deno.mkdir(modelDir, { recursive: true });
  await Deno.writeFile(
    join(modelDir, "model.onnx"),
    foreignModel({
      inputs: FEATURES.map((f) => ({ name: f.name })),
      weights: [-0.01, 0.7],
      intercept: 2,
      op: "matmul",
    }),
  );
  await Deno.writeTextFile(
    join(modelDir, "model.json"),
    JSON.stringify(envelope("gbt", {}, creditScoreShares)),
  );
}

/** Rows every feature of which the MatMul model can score. */
const GOOD = {
  loan_id: ["A", "B", "C"],
  credit_score: [400, 650, 800],
  employment_type: ["unemployed", "employed", "self_employed"],
};

Deno.test("deno task score-pd --out: an existing file is kept unless --replace; never an input, a model folder or a run folder; a new folder is made", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const modelDir = join(dir, "model");
    await foreignFolder(modelDir);
    const data = join(dir, "rows.parquet");
    pl.DataFrame(GOOD).writeParquet(data);
    const snapshot = join(dir, "portfolio.csv");
    await Deno.writeTextFile(snapshot, "loan_id\nKEEP\n");
    const base = ["--model", modelDir, "--data", data];

    let r = await task(...base, "--out", snapshot);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      r.stderr.trim(),
      `Cannot write ${snapshot}: the file exists; give --replace to write over it, or another --out`,
    );
    assert.equal(await Deno.readTextFile(snapshot), "loan_id\nKEEP\n");
    r = await task(...base, "--out", snapshot, "--replace");
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      await Deno.readTextFile(snapshot),
      /^loan_id,credit_score,employment_type,pd\n/,
    );

    // Inside the model folder: refused even with --replace, nothing written.
    const inModel = join(modelDir, "scorecard.csv");
    r = await task(...base, "--out", inModel, "--replace");
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /is a PD model folder, which holds only the model's own files/,
    );
    assert.equal(r.stderr.trim().split("\n").length, 1);
    assert.deepEqual(
      [...Deno.readDirSync(modelDir)].map((e) => e.name).sort(),
      ["model.json", "model.onnx"],
    );
    // The data file itself, with --replace: refused.
    const onData = join(dir, "rows.csv");
    await Deno.writeTextFile(
      onData,
      "loan_id,credit_score,employment_type\nA,400,employed\n",
    );
    r = await task(
      "--model",
      modelDir,
      "--data",
      onData,
      "--out",
      onData,
      "--replace",
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /it is the input .*rows\.csv, which this output would replace/,
    );
    // Inside a run folder.
    const runDir = join(dir, "run");
    await Deno.mkdir(runDir);
    await Deno.writeTextFile(join(runDir, "summary.json"), '{"run_id":"r1"}');
    r = await task(...base, "--out", join(runDir, "scored.csv"));
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /is the folder of run r1/);
    // A folder that does not exist yet is made (no Polars panic, exit 0).
    const deep = join(dir, "nope", "deeper", "o.parquet");
    r = await task(...base, "--out", deep);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(pl.readParquet(deep).height, 3);
    // Object storage: refused in one line, exit 2.
    r = await task(...base, "--out", "s3://book/scored.csv");
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1);
    assert.match(
      r.stderr,
      /^Cannot write s3:\/\/book\/scored\.csv: --out takes a local file/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task score-pd: data that is not UTF-8, an unclosed quote, a word in a numeric column or a feature missing throughout: one line, exit 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const modelDir = join(dir, "model");
    // credit_score was never missing in development.
    await foreignFolder(modelDir, [0.5, 0.5, 0]);
    const header = "loan_id,credit_score,employment_type\n";
    const cases: [string, Uint8Array | string, RegExp][] = [
      [
        "latin1.csv",
        new Uint8Array([
          ...new TextEncoder().encode(header + "A,400,employed\nB,500,"),
          0xe9,
          0x0a,
        ]),
        /^Cannot read the data to score .*latin1\.csv: line 3: the bytes are not UTF-8 text/,
      ],
      [
        "quote.csv",
        header + 'A,400,"employed\nB,500,employed\n',
        /^Cannot read the data to score .*quote\.csv: line 2: .*quote/,
      ],
      [
        "word.csv",
        header + "A,400,employed\nB,high,employed\n",
        /^.*word\.csv: column credit_score, row 2 \(loan_id B\): "high" is not a number/,
      ],
      [
        "empty_score.csv",
        header + "A,,employed\nB,NA,employed\n",
        /^.*empty_score\.csv: feature credit_score of PD model .* is missing on every one of the 2 rows to score/,
      ],
    ];
    for (const [name, bytes, expected] of cases) {
      const data = join(dir, name);
      if (typeof bytes === "string") await Deno.writeTextFile(data, bytes);
      else await Deno.writeFile(data, bytes);
      const r = await task(
        "--model",
        modelDir,
        "--data",
        data,
        "--out",
        join(dir, `${name}.out.csv`),
      );
      assert.equal(r.code, 2, `${name}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr.trim(), expected);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task score-pd: a model declaring an [N, 3] output prints no ONNX Runtime warning", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const modelDir = join(dir, "model");
    await foreignFolder(modelDir);
    // The declared output widened to 3 columns: ONNX Runtime would warn
    // (MergeShapeInfo) that it differs from what the graph computes.
    const { onnx } = (await import("onnx-proto")).default;
    const m = onnx.ModelProto.decode(
      await Deno.readFile(join(modelDir, "model.onnx")),
    );
    m.graph!.output![0].type!.tensorType!.shape!.dim![1].dimValue = 3;
    await Deno.writeFile(
      join(modelDir, "model.onnx"),
      onnx.ModelProto.encode(m).finish(),
    );
    const data = join(dir, "rows.parquet");
    pl.DataFrame(GOOD).writeParquet(data);
    const r = await task(
      "--model",
      modelDir,
      "--data",
      data,
      "--out",
      join(dir, "o.csv"),
    );
    // ONNX Runtime takes the shape the graph computes ([N, 1]) and scores;
    // its warning about the declared one is not printed.
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /onnxruntime|MergeShapeInfo|\[W:/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task score-pd reads the model folder and the data from object storage (s3rver on loopback)", async () => {
  const { startS3 } = await import("../storage/_s3.ts");
  const { PutObjectCommand } = await import("@aws-sdk/client-s3");
  const s3 = await startS3();
  taskEnv = s3.env;
  const dir = await Deno.makeTempDir();
  try {
    await s3.bucket("book");
    const modelDir = join(dir, "model");
    await foreignFolder(modelDir);
    const put = async (key: string, body: Uint8Array) =>
      await s3.client.send(
        new PutObjectCommand({ Bucket: "book", Key: key, Body: body }),
      );
    for (const f of ["model.json", "model.onnx"]) {
      await put(`models/m/${f}`, await Deno.readFile(join(modelDir, f)));
    }
    const local = join(dir, "rows.parquet");
    pl.DataFrame(GOOD).writeParquet(local);
    await put("q4/rows.parquet", await Deno.readFile(local));
    const out = join(dir, "scored.csv");
    const r = await task(
      "--model",
      "s3://book/models/m",
      "--data",
      "s3://book/q4/rows.parquet",
      "--out",
      out,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /s3:\/\/book\/models\/m\/model\.onnx/);
    // The same PDs as from the local folder and file.
    const here = join(dir, "here.csv");
    const l = await task("--model", modelDir, "--data", local, "--out", here);
    assert.equal(l.code, 0, l.stderr);
    assert.equal(await Deno.readTextFile(out), await Deno.readTextFile(here));
    // A folder without the model: one line naming the object's URL.
    const miss = await task(
      "--model",
      "s3://book/models/none",
      "--data",
      "s3://book/q4/rows.parquet",
      "--out",
      join(dir, "x.csv"),
    );
    assert.equal(miss.code, 2, miss.stderr);
    assert.equal(miss.stderr.trim().split("\n").length, 1, miss.stderr);
    assert.match(
      miss.stderr,
      /^Cannot read s3:\/\/book\/models\/none\/model\.(onnx|json): no such object/,
    );
  } finally {
    taskEnv = {};
    await s3.close();
    await Deno.remove(dir, { recursive: true });
  }
});
