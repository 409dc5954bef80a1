/**
 * A segment's PD from an ONNX model (rules `pd_source`,
 * lib/pd_model/pd_source.ts) through the whole run: the same stages and
 * ECL, loan by loan, as a run given those PDs as a column; a model built
 * elsewhere (by hand with onnx-proto) scores the hand formula; a model
 * whose contract does not match, or a portfolio without a feature column,
 * is refused before anything is scored or any folder made; the manifest
 * records the model's SHA-256 and the facilities scored per segment.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import { parse, stringify } from "yaml";
import {
  applyPdSources,
  loadPdSources,
  modelPath,
  projectPath,
  runPortfolio,
} from "../../lib/mod.ts";
import { foreignModel, logistic } from "../pd_model/_foreign_model.ts";

const SAMPLE = projectPath("data/sample/portfolio_2025-12-31.parquet");
const FX = projectPath("config/fx_rates.yaml");
const SEGMENT = "consumer_es";
const JOBS = ["employed", "self_employed", "unemployed"];
// The model: pd = logistic(-2.5 + 0.15 ln(1 + balance) - 0.006 credit_score
// + 0.4 code(employment_type)).
const INTERCEPT = -2.5;
const WEIGHTS = [0.15, -0.006, 0.4];

/** The sample book's first 400 facilities with two characteristics added. */
function book(): pl.DataFrame {
  const df = pl.readParquet(SAMPLE).head(400);
  const n = df.height;
  const score = Float64Array.from(
    { length: n },
    (_, i) => 450 + (i * 37) % 400,
  );
  const job = Array.from({ length: n }, (_, i) => JOBS[i % 3]);
  return df.withColumns(
    pl.Series("credit_score", score),
    pl.Series("employment_type", job),
  );
}

/** The hand formula's PD of a row. */
function handPd(balance: number, score: number, job: string): number {
  const code = JOBS.indexOf(job);
  assert.ok(code >= 0);
  return logistic(INTERCEPT, WEIGHTS, [Math.log1p(balance), score, code]);
}

const FEATURES = [
  { name: "balance", kind: "number", transform: "log1p" },
  { name: "credit_score", kind: "number" },
  { name: "employment_type", kind: "category", categories: JOBS },
];

/** The reference rules with `segment`'s PD from `pd_source`. */
async function rulesWith(
  dir: string,
  pdSource: unknown,
  name = "rules.yaml",
): Promise<string> {
  const doc = parse(
    await Deno.readTextFile(projectPath("config/ifrs9_rules.yaml")),
  );
  if (pdSource !== undefined) {
    doc.segments[SEGMENT] = { pd_source: pdSource };
  }
  const path = join(dir, name);
  await Deno.writeTextFile(path, stringify(doc));
  return path;
}

const RESULT_COLUMNS = [
  "loan_id",
  "stage",
  "stage_reason",
  "stage_triggers",
  "ead",
  "pd_12m",
  "pd_lifetime",
  "lgd",
  "ecl_12m",
  "ecl_lifetime",
  "ecl_base",
  "ecl_upside",
  "ecl_downside",
  "ecl_model",
  "ecl",
  "ecl_rc",
];

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    await Deno.readFile(path),
  );
  return Array.from(new Uint8Array(digest))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("runPortfolio() with an ONNX PD source gives exactly the stages and ECL of the same PDs given as a column", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "models"));
    // A model "trained elsewhere": MatMul + Add + Sigmoid, built by hand.
    const modelFile = join(dir, "models", "pd.onnx");
    await Deno.writeFile(
      modelFile,
      foreignModel({
        inputs: FEATURES.map((f) => ({ name: f.name })),
        weights: WEIGHTS,
        intercept: INTERCEPT,
        op: "matmul",
      }),
    );
    const df = book();
    // The ONNX run reads a CSV book (every column text, the PDs too).
    const csv = join(dir, "book.csv");
    df.writeCSV(csv);
    const rules = await rulesWith(dir, {
      onnx: "models/pd.onnx", // relative to the rules file
      features: FEATURES,
    });
    const onnxRun = await runPortfolio({
      portfolio: csv,
      rules,
      fx: FX,
      out: join(dir, "runs"),
      runId: "onnx",
      report: false,
    });

    // The PDs the ONNX run used, loan by loan: the hand formula for the
    // segment's facilities with a known job, the book's own elsewhere.
    const results = pl.readParquet(join(onnxRun.dir, "loan_results.parquet"))
      .sort("loan_id");
    const given = df.sort("loan_id");
    const ids = given.getColumn("loan_id").toArray() as string[];
    assert.deepEqual(results.getColumn("loan_id").toArray(), ids);
    const seg = given.getColumn("segment").toArray() as string[];
    const bal = given.getColumn("balance").toArray() as number[];
    const score = given.getColumn("credit_score").toArray() as number[];
    const job = given.getColumn("employment_type").toArray() as string[];
    const bookPd = given.getColumn("pd_12m_current").toArray() as number[];
    const usedPd = results.getColumn("pd_12m").toArray()
      .map(Number) as number[];
    let inSegment = 0, changed = 0;
    for (let i = 0; i < ids.length; i++) {
      if (seg[i] !== SEGMENT) {
        assert.equal(usedPd[i], bookPd[i], ids[i]);
        continue;
      }
      inSegment++;
      if (usedPd[i] !== bookPd[i]) changed++;
      const hand = handPd(bal[i], score[i], job[i]);
      assert.ok(
        Math.abs(usedPd[i] - hand) <= 1e-12 * hand,
        `${ids[i]}: ${usedPd[i]} vs ${hand}`,
      );
    }
    assert.ok(inSegment > 20, `only ${inSegment} facilities in ${SEGMENT}`);
    assert.equal(changed, inSegment);

    // The same PDs given as a column (Parquet, Float64), no model.
    const withPds = given.withColumns(
      pl.Series("pd_12m_current", usedPd, pl.Float64),
    );
    const parquet = join(dir, "book_with_pds.parquet");
    withPds.writeParquet(parquet);
    const columnRun = await runPortfolio({
      portfolio: parquet,
      rules: await rulesWith(dir, undefined, "plain.yaml"),
      fx: FX,
      out: join(dir, "runs"),
      runId: "column",
      report: false,
    });
    const plain = pl.readParquet(join(columnRun.dir, "loan_results.parquet"))
      .sort("loan_id");
    for (const c of RESULT_COLUMNS) {
      assert.deepEqual(
        results.getColumn(c).toArray(),
        plain.getColumn(c).toArray(),
        `column ${c}`,
      );
    }
    assert.deepEqual(onnxRun.summary.totals, columnRun.summary.totals);

    // The manifest: the model, its SHA-256 (hashed here), the contract
    // and the facilities scored per segment; the replaced PDs are said.
    const manifest = JSON.parse(
      await Deno.readTextFile(join(onnxRun.dir, "manifest.json")),
    );
    assert.equal(manifest.pd_models.length, 1);
    const record = manifest.pd_models[0];
    assert.equal(record.model, modelFile);
    assert.equal(record.sha256, await sha256(modelFile));
    assert.deepEqual(record.facilities, { [SEGMENT]: inSegment });
    assert.equal(record.replaced, inSegment);
    assert.deepEqual(record.features.map((f: { name: string }) => f.name), [
      "balance",
      "credit_score",
      "employment_type",
    ]);
    assert.equal(record.contract_from, "rules");
    assert.ok(
      manifest.warnings.some((w: string) =>
        w.includes(`pd_12m_current of ${inSegment} facilities were replaced`)
      ),
      manifest.warnings.join("\n"),
    );
    assert.ok("score_pd" in manifest.timings_ms);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runPortfolio() scores with a model built elsewhere (LinearClassifier) and its embedded contract, for every segment from default", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const modelFile = join(dir, "elsewhere.onnx");
    await Deno.writeFile(
      modelFile,
      foreignModel({
        inputs: FEATURES.map((f) => ({ name: f.name })),
        weights: WEIGHTS,
        intercept: INTERCEPT,
        op: "linear-classifier",
        contract: FEATURES,
      }),
    );
    const doc = parse(
      await Deno.readTextFile(projectPath("config/ifrs9_rules.yaml")),
    );
    // No features: the model's embedded contract; on `default`, so every
    // segment takes it, except one taken back to the column.
    doc.segments.default.pd_source = { onnx: modelFile };
    doc.segments.mortgage_es = { pd_source: "column" };
    const rules = join(dir, "rules.yaml");
    await Deno.writeTextFile(rules, stringify(doc));
    const df = book();
    const parquet = join(dir, "book.parquet");
    df.writeParquet(parquet);
    const run = await runPortfolio({
      portfolio: parquet,
      rules,
      fx: FX,
      out: join(dir, "runs"),
      runId: "elsewhere",
      report: false,
    });
    const results = pl.readParquet(join(run.dir, "loan_results.parquet"))
      .sort("loan_id");
    const given = df.sort("loan_id");
    const seg = given.getColumn("segment").toArray() as string[];
    const bal = given.getColumn("balance").toArray() as number[];
    const score = given.getColumn("credit_score").toArray() as number[];
    const job = given.getColumn("employment_type").toArray() as string[];
    const bookPd = given.getColumn("pd_12m_current").toArray() as number[];
    const flag = given.getColumn("default_flag").toArray() as boolean[];
    const dpd = given.getColumn("days_past_due").toArray() as number[];
    const used = results.getColumn("pd_12m").toArray() as number[];
    const expected: Record<string, number> = {};
    let inDefault = 0;
    for (let i = 0; i < used.length; i++) {
      if (seg[i] === "mortgage_es") {
        assert.equal(used[i], bookPd[i]);
        continue;
      }
      // Already in default (methodology §3: the flag, or 90 days past due
      // in the reference rules): not scored, the book's PD kept.
      if (flag[i] || dpd[i] >= doc.staging.dpd_default) {
        assert.equal(used[i], bookPd[i]);
        inDefault++;
        continue;
      }
      // LinearClassifier computes in float32 (24-bit mantissa, terms of z
      // about 5 in size) and ONNX Runtime's logistic is a float32
      // approximation: within 1e-6 of the PD (seen: 7e-8). A swapped
      // feature or the wrong probability column would be off by far more.
      const hand = handPd(bal[i], score[i], job[i]);
      assert.ok(
        Math.abs(used[i] - hand) <= 1e-6,
        `${used[i]} vs ${hand}`,
      );
      // Segments the rules do not name are computed as `default`.
      expected.default = (expected.default ?? 0) + 1;
    }
    const manifest = JSON.parse(
      await Deno.readTextFile(join(run.dir, "manifest.json")),
    );
    assert.equal(manifest.pd_models.length, 1);
    assert.equal(manifest.pd_models[0].contract_from, "model");
    assert.equal(manifest.pd_models[0].sha256, await sha256(modelFile));
    assert.deepEqual(manifest.pd_models[0].facilities, expected);
    assert.ok(inDefault > 0);
    assert.deepEqual(manifest.pd_models[0].in_default, {
      kept: inDefault,
      set_to_1: 0,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** What is in `dir`, recursively named; [] when it does not exist. */
async function entries(dir: string): Promise<string[]> {
  try {
    const out: string[] = [];
    for await (const e of Deno.readDir(dir)) out.push(e.name);
    return out;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

Deno.test("runPortfolio() refuses a model whose contract does not match, naming the feature, before any folder is made", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const modelFile = join(dir, "pd.onnx");
    await Deno.writeFile(
      modelFile,
      foreignModel({
        inputs: FEATURES.map((f) => ({ name: f.name })),
        weights: WEIGHTS,
        intercept: INTERCEPT,
        op: "matmul",
      }),
    );
    const parquet = join(dir, "book.parquet");
    book().writeParquet(parquet);
    // The rules list the features in another order than the model's inputs.
    const rules = await rulesWith(dir, {
      onnx: "pd.onnx",
      features: [FEATURES[1], FEATURES[0], FEATURES[2]],
    });
    const out = join(dir, "runs");
    await assert.rejects(
      () =>
        runPortfolio({ portfolio: parquet, rules, fx: FX, out, runId: "x" }),
      (e: Error) => {
        assert.equal(e.name, "UserError");
        assert.match(
          e.message,
          /segments\.consumer_es\.pd_source: PD model .*pd\.onnx does not match its feature contract; nothing was scored/,
        );
        assert.match(
          e.message,
          /feature credit_score: input 2 of the model, feature 1 of the contract/,
        );
        return true;
      },
    );
    assert.deepEqual(await entries(out), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runPortfolio() refuses a portfolio without a model's feature column, naming it, before any folder is made", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(
      join(dir, "pd.onnx"),
      foreignModel({
        inputs: FEATURES.map((f) => ({ name: f.name })),
        weights: WEIGHTS,
        intercept: INTERCEPT,
        op: "matmul",
      }),
    );
    const parquet = join(dir, "book.parquet");
    book().drop("credit_score").writeParquet(parquet);
    const rules = await rulesWith(dir, { onnx: "pd.onnx", features: FEATURES });
    const out = join(dir, "runs");
    await assert.rejects(
      () =>
        runPortfolio({ portfolio: parquet, rules, fx: FX, out, runId: "x" }),
      /Cannot read portfolio .*book\.parquet: missing feature column credit_score that PD model .*pd\.onnx \(segments\.consumer_es\.pd_source\) reads/,
    );
    assert.deepEqual(await entries(out), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runPortfolio() fails, naming the model and the facility, when a model's PD is not in (0, 1)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(
      join(dir, "pd.onnx"),
      foreignModel({
        inputs: FEATURES.map((f) => ({ name: f.name })),
        weights: WEIGHTS,
        intercept: INTERCEPT,
        op: "matmul",
      }),
    );
    // One facility of the segment has a job the model does not know: NaN
    // for the model, and MatMul has no branch for it, so its PD is NaN.
    const df = book();
    const ids = df.getColumn("loan_id").toArray() as string[];
    const seg = df.getColumn("segment").toArray() as string[];
    const first = seg.indexOf(SEGMENT);
    const job = (df.getColumn("employment_type").toArray() as string[])
      .map((j, i) => i === first ? "student" : j);
    const parquet = join(dir, "book.parquet");
    df.withColumns(pl.Series("employment_type", job)).writeParquet(parquet);
    const rules = await rulesWith(dir, { onnx: "pd.onnx", features: FEATURES });
    const out = join(dir, "runs");
    await assert.rejects(
      () =>
        runPortfolio({ portfolio: parquet, rules, fx: FX, out, runId: "x" }),
      (e: Error & { kind?: string }) => {
        assert.equal(e.kind, "check");
        assert.match(
          e.message,
          new RegExp(
            `PD model .*pd\\.onnx gave facility ${ids[first]} \\(row ${
              first + 1
            }\\) a PD of NaN`,
          ),
        );
        return true;
      },
    );
    assert.deepEqual(await entries(out), ["x.failed"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("applyPdSources() scores the facilities the engine computes under the segment: own segment, else product, else default; not simplified ones", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const modelFile = join(dir, "pd.onnx");
    // pd = logistic(x - 2)
    await Deno.writeFile(
      modelFile,
      foreignModel({
        inputs: [{ name: "x" }],
        weights: [1],
        intercept: -2,
        op: "matmul",
      }),
    );
    const rules = {
      segments: {
        default: {},
        retail: {
          pd_source: {
            onnx: "pd.onnx",
            features: [{ name: "x", kind: "number" as const }],
          },
        },
        card: {},
      },
      products: {
        card: { approach: "general" },
        loan: { approach: "general" },
        receivable: { approach: "simplified" },
      },
    };
    const sources = await loadPdSources(rules, join(dir, "rules.yaml"));
    assert.equal(sources.length, 1);
    assert.equal(sources[0].model.path, modelFile);
    // Text columns, as a CSV is read.
    const raw = pl.DataFrame({
      loan_id: ["A", "B", "C", "D", "E", "F"],
      product: ["loan", "loan", "retail", "card", "receivable", "loan"],
      segment: [" retail ", "other", null, "", "retail", "retail"],
      x: ["1", "2", "3", "4", "5", "6"],
      pd_12m_current: ["0.5", "0.5", null, "0.5", null, "0.25"],
    }).lazy();
    const applied = await applyPdSources(raw, sources, rules, {
      file: "book.csv",
    });
    const out = await applied.frame.collect();
    assert.deepEqual(out.columns, [
      "loan_id",
      "product",
      "segment",
      "x",
      "pd_12m_current",
    ]);
    const pd = out.getColumn("pd_12m_current").toArray();
    const s = (x: number) => String(logistic(-2, [1], [x]));
    assert.deepEqual(pd, [
      s(1), // " retail ": trimmed, the segment retail
      "0.5", // "other": not a segment of the rules, so default
      s(3), // no segment: its product, retail, names a segment
      "0.5", // blank segment: its product, card, a segment without a model
      null, // retail, but a simplified-approach product: no PD
      s(6),
    ]);
    assert.deepEqual(applied.records[0].facilities, { retail: 3 });
    assert.equal(applied.records[0].replaced, 2);
    assert.ok(
      !applied.warnings.some((w) => w.includes("no facility")),
      applied.warnings.join("\n"),
    );
    // A model on a segment no facility belongs to (a name that matches
    // neither a `segment` nor a `product`) scores nothing: said, not silent.
    const noneRules = {
      ...rules,
      segments: { default: {}, consumer: rules.segments.retail },
    };
    const none = await applyPdSources(
      raw,
      await loadPdSources(noneRules, join(dir, "rules.yaml")),
      noneRules,
      { file: "book.csv" },
    );
    assert.deepEqual(none.records[0].facilities, { consumer: 0 });
    assert.ok(
      none.warnings.some((w) =>
        w.startsWith("segments.consumer.pd_source: no facility") &&
        w.includes("segment consumer")
      ),
      none.warnings.join("\n"),
    );
    // The text written reads back as the same double.
    assert.equal(Number(pd[0]), logistic(-2, [1], [1]));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("modelPath() resolves a model path like a plugin module: relative to the rules file's folder or prefix", () => {
  assert.equal(
    modelPath("models/pd.onnx", "/etc/ifrs9/rules.yaml"),
    "/etc/ifrs9/models/pd.onnx",
  );
  assert.equal(modelPath("../m.onnx", "/etc/ifrs9/rules.yaml"), "/etc/m.onnx");
  assert.equal(
    modelPath("/abs/m.onnx", "/etc/ifrs9/rules.yaml"),
    "/abs/m.onnx",
  );
  assert.equal(modelPath("s3://b/m.onnx", "/etc/rules.yaml"), "s3://b/m.onnx");
  assert.equal(
    modelPath("models/pd.onnx", "s3://bank/config/rules.yaml"),
    "s3://bank/config/models/pd.onnx",
  );
  assert.equal(
    modelPath("../models/pd.onnx", "s3://bank/config/rules.yaml"),
    "s3://bank/models/pd.onnx",
  );
});

Deno.test("runPortfolio(): a facility already in default is not scored: its given PD is kept, or 1 when none is given, with the same stage and ECL", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const modelFile = join(dir, "pd.onnx");
    await Deno.writeFile(
      modelFile,
      foreignModel({
        inputs: FEATURES.map((f) => ({ name: f.name })),
        weights: WEIGHTS,
        intercept: INTERCEPT,
        op: "matmul",
      }),
    );
    const rules = await rulesWith(dir, { onnx: modelFile, features: FEATURES });
    // Three performing facilities of the segment flagged in default
    // (methodology §3 rule 1), on top of those the book has.
    const base = book();
    const seg = base.getColumn("segment").toArray() as string[];
    const flag = [...base.getColumn("default_flag").toArray() as boolean[]];
    const dpd = base.getColumn("days_past_due").toArray() as number[];
    const picked = seg.flatMap((s, i) =>
      s === SEGMENT && !flag[i] && dpd[i] < 90 ? [i] : []
    ).slice(0, 3);
    assert.equal(picked.length, 3);
    for (const i of picked) flag[i] = true;
    const flagged = base.withColumns(pl.Series("default_flag", flag));
    const isDefault = flag.map((f, i) => f || dpd[i] >= 90);
    const inSeg = seg.map((s, i) => s === SEGMENT && isDefault[i]);
    const n = inSeg.filter(Boolean).length;
    // Run A: no PD given for them; run B: 1 given.
    const pdGiven = flagged.getColumn("pd_12m_current").toArray() as number[];
    const books = {
      none: pdGiven.map((p, i) => inSeg[i] ? null : p),
      one: pdGiven.map((p, i) => inSeg[i] ? 1 : p),
    };
    const runs: Record<string, pl.DataFrame> = {};
    const manifests: Record<string, { pd_models: { in_default: unknown }[] }> =
      {};
    for (const [name, pd] of Object.entries(books)) {
      const file = join(dir, `${name}.parquet`);
      flagged.withColumns(pl.Series("pd_12m_current", pd, pl.Float64))
        .writeParquet(file);
      const run = await runPortfolio({
        portfolio: file,
        rules,
        fx: FX,
        out: join(dir, "runs"),
        runId: name,
        report: false,
      });
      runs[name] = pl.readParquet(join(run.dir, "loan_results.parquet"))
        .sort("loan_id");
      manifests[name] = JSON.parse(
        await Deno.readTextFile(join(run.dir, "manifest.json")),
      );
    }
    assert.deepEqual(manifests.none.pd_models[0].in_default, {
      kept: 0,
      set_to_1: n,
    });
    assert.deepEqual(manifests.one.pd_models[0].in_default, {
      kept: n,
      set_to_1: 0,
    });
    const ids = flagged.sort("loan_id").getColumn("loan_id").toArray();
    const byId = new Map(
      (flagged.getColumn("loan_id").toArray() as string[]).map((id, i) => [
        id,
        i,
      ]),
    );
    const pdA = runs.none.getColumn("pd_12m").toArray() as number[];
    const stageA = runs.none.getColumn("stage").toArray();
    for (let k = 0; k < ids.length; k++) {
      const i = byId.get(ids[k] as string)!;
      if (inSeg[i]) {
        assert.equal(pdA[k], 1, `${ids[k]}`);
        assert.equal(stageA[k], 3, `${ids[k]}`);
      }
    }
    for (const c of ["loan_id", "stage", "stage_reason", "pd_12m", "ecl"]) {
      assert.deepEqual(
        runs.none.getColumn(c).toArray(),
        runs.one.getColumn(c).toArray(),
        c,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadPdSources(): a model file that is missing or a folder is refused naming the rules key", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "folder.onnx"));
    const rulesFile = join(dir, "rules.yaml");
    for (const onnx of ["missing.onnx", "folder.onnx"]) {
      const rules = {
        segments: { default: {}, retail: { pd_source: { onnx } } },
        products: {},
      };
      await assert.rejects(
        () => loadPdSources(rules, rulesFile),
        (e: Error) => {
          assert.ok(
            e.message.startsWith(
              `${rulesFile}: segments.retail.pd_source: PD model: Cannot read ${
                join(dir, onnx)
              }: `,
            ),
            e.message,
          );
          return true;
        },
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runPortfolio(): a pd_source under default does not block a book of simplified-approach receivables, which lack the features", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const modelFile = join(dir, "pd.onnx");
    await Deno.writeFile(
      modelFile,
      foreignModel({
        inputs: FEATURES.map((f) => ({ name: f.name })),
        weights: WEIGHTS,
        intercept: INTERCEPT,
        op: "matmul",
      }),
    );
    const doc = parse(
      await Deno.readTextFile(projectPath("config/example12_rules.yaml")),
    );
    doc.segments = {
      default: { pd_source: { onnx: modelFile, features: FEATURES } },
    };
    const rules = join(dir, "rules.yaml");
    await Deno.writeTextFile(rules, stringify(doc));
    const portfolio = projectPath("data/sample/receivables_example12.csv");
    const run = await runPortfolio({
      portfolio,
      rules,
      fx: FX,
      out: join(dir, "runs"),
      runId: "receivables",
      report: false,
    });
    const summary = JSON.parse(
      await Deno.readTextFile(join(run.dir, "summary.json")),
    );
    // Example 12 (IFRS 9 Illustrative Examples): an allowance of 580,000.
    assert.equal(summary.totals.ecl.toFixed(2), "580000.00");
    // A book with one general-approach facility needs the features again.
    const csv = (await Deno.readTextFile(portfolio)).trimEnd().split("\n");
    const cols = csv[0].split(",");
    const row = csv[1].split(",");
    row[cols.indexOf("product")] = "consumer";
    row[cols.indexOf("loan_id")] = "L-GENERAL";
    const mixed = join(dir, "mixed.csv");
    await Deno.writeTextFile(mixed, [...csv, row.join(",")].join("\n") + "\n");
    await assert.rejects(
      () =>
        runPortfolio({
          portfolio: mixed,
          rules,
          fx: FX,
          out: join(dir, "runs"),
          runId: "mixed",
          report: false,
        }),
      /missing feature columns credit_score, employment_type that PD model/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("applyPdSources(): a word in a numeric feature is refused naming the column, facility and value; a feature missing on every facility is refused unless often missing in development", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(
      join(dir, "pd.onnx"),
      foreignModel({
        inputs: [{ name: "x" }, { name: "y" }],
        weights: [1, 1],
        intercept: -2,
        op: "matmul",
      }),
    );
    // model.json beside it, as train-pd writes it: x was never missing
    // in development, y on 40% of the rows.
    await Deno.writeTextFile(
      join(dir, "model.json"),
      JSON.stringify({
        format: "ifrs9-pd-model",
        reference: {
          features: {
            x: { edges: [0], shares: [0.5, 0.5, 0] },
            y: { edges: [0], shares: [0.3, 0.3, 0.4] },
          },
        },
      }),
    );
    const features = [
      { name: "x", kind: "number" as const },
      { name: "y", kind: "number" as const },
    ];
    const rules = {
      segments: {
        default: {},
        retail: { pd_source: { onnx: "pd.onnx", features } },
      },
      products: { loan: { approach: "general" } },
    };
    const sources = await loadPdSources(rules, join(dir, "rules.yaml"));
    const apply = (x: (string | null)[], y: (string | null)[]) =>
      applyPdSources(
        pl.DataFrame({
          loan_id: x.map((_, i) => `L${i + 1}`),
          product: x.map(() => "loan"),
          segment: x.map(() => "retail"),
          x,
          y,
          pd_12m_current: x.map(() => null as string | null),
        }).lazy(),
        sources,
        rules,
        { file: "book.csv" },
      );
    await assert.rejects(
      () => apply(["1", "high", "2", "3"], ["1", "1", "1", "1"]),
      /^UserError: book\.csv \(segments\.retail\.pd_source\): column x, facility L2 \(row 2\): "high" is not a number/,
    );
    // x is never missing in development: missing on every facility, it
    // is refused before scoring.
    await assert.rejects(
      () => apply([null, " ", "NA", null], ["1", "2", "3", "4"]),
      /^UserError: book\.csv \(segments\.retail\.pd_source\): feature x of PD model .*pd\.onnx is missing on every one of the 4 rows to score/,
    );
    // y was missing on 40% of the development rows (structurally absent
    // for some products): accepted, and scored (this hand-built model
    // has no missing bin, so its NaN PD is what refuses it).
    await assert.rejects(
      () => apply(["1", "2", "3", "4"], [null, " ", "NA", null]),
      /gave facility L1 \(row 1\) a PD of NaN/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
