/**
 * Scoring through ONNX Runtime (lib/pd_model/onnx_score.ts): the model
 * file read and hashed once, PDs in batches equal to the hand formula,
 * a classifier's [N, 2] output read in its second column, a scorecard's
 * score and points outputs, and a PD outside (0, 1) refused naming the
 * model and the row.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  loadPdModel,
  pdModelFromBytes,
  readModelBytes,
  scorePd,
  sha256Hex,
} from "../../lib/pd_model/onnx_score.ts";
import { buildPdModel } from "../../lib/pd_model/onnx_build.ts";
import type { FeatureSpec } from "../../lib/pd_model/types.ts";
import { foreignModel, logistic } from "./_foreign_model.ts";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { startS3 } from "../storage/_s3.ts";

const FEATURES: FeatureSpec[] = [
  { name: "a", kind: "number" },
  { name: "b", kind: "number" },
];

/** Ten rows of two features, with values checkable by eye. */
const A = Float64Array.from({ length: 10 }, (_, i) => i / 4);
const B = Float64Array.from({ length: 10 }, (_, i) => (i % 3) - 1);

async function hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new Uint8Array(bytes));
  return Array.from(new Uint8Array(digest))
    .map((x) => x.toString(16).padStart(2, "0")).join("");
}

Deno.test("readModelBytes() reads the file whole and its SHA-256; a missing file is refused naming it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bytes = foreignModel({
      inputs: [{ name: "a" }, { name: "b" }],
      weights: [1, 2],
      intercept: 0,
      op: "matmul",
    });
    const path = join(dir, "m.onnx");
    await Deno.writeFile(path, bytes);
    const read = await readModelBytes(path);
    assert.deepEqual(new Uint8Array(read.bytes), new Uint8Array(bytes));
    assert.equal(read.sha256, await hex(bytes));
    const model = await loadPdModel(path, { features: FEATURES });
    assert.equal(model.sha256, await hex(bytes));
    await assert.rejects(
      () => readModelBytes(join(dir, "none.onnx")),
      /none\.onnx: no such file/,
    );
    await Deno.writeFile(join(dir, "empty.onnx"), new Uint8Array());
    await assert.rejects(
      () => readModelBytes(join(dir, "empty.onnx")),
      /empty\.onnx is empty/,
    );
    await Deno.writeTextFile(join(dir, "text.onnx"), "not a model");
    await assert.rejects(
      () => loadPdModel(join(dir, "text.onnx"), { features: FEATURES }),
      /PD model .*text\.onnx/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scorePd() gives the hand formula's PDs, in batches of any size, from a [N, 1] and a [N, 2] output", async () => {
  const weights = [0.8, -1.5];
  const intercept = -2;
  const hand = Array.from(
    A,
    (a, i) => logistic(intercept, weights, [a, B[i]]),
  );
  const data = { features: FEATURES, columns: [A, B], rows: 10 };
  for (const op of ["matmul", "linear-classifier"] as const) {
    const bytes = foreignModel({
      inputs: [{ name: "a" }, { name: "b" }],
      weights,
      intercept,
      op,
    });
    const model = await pdModelFromBytes(
      { path: op, bytes, sha256: sha256Hex(bytes) },
      { features: FEATURES },
    );
    const whole = await scorePd(model, data);
    // Batches of 3 rows (3 + 3 + 3 + 1) give the same PDs.
    const batched = await scorePd(model, data, { batchSize: 3 });
    assert.deepEqual([...batched.pd], [...whole.pd]);
    for (let i = 0; i < 10; i++) {
      // MatMul is double arithmetic; LinearClassifier float32 (about 1e-7).
      const tolerance = op === "matmul" ? 1e-15 : 1e-6;
      assert.ok(
        Math.abs(whole.pd[i] - hand[i]) <= tolerance,
        `${op} row ${i}: ${whole.pd[i]} vs ${hand[i]}`,
      );
    }
  }
});

Deno.test("scorePd() reads a scorecard's score and points outputs when asked", async () => {
  // score = 600 + 20 a - 10 b; points = [20 a, -10 b]; pd = sigmoid(-a).
  const bytes = buildPdModel({
    features: FEATURES,
    nodes: [
      { op: "Mul", inputs: ["features", "scale"], outputs: ["points"] },
      {
        op: "ReduceSum",
        inputs: ["points", "axes"],
        outputs: ["sum"],
        attributes: { keepdims: { kind: "int", value: 1 } },
      },
      { op: "Add", inputs: ["sum", "base"], outputs: ["score"] },
      { op: "Neg", inputs: ["features"], outputs: ["neg"] },
      {
        op: "Slice",
        inputs: ["neg", "zero", "one", "axis1"],
        outputs: ["first"],
      },
      { op: "Sigmoid", inputs: ["first"], outputs: ["pd"] },
    ],
    initializers: [
      { name: "scale", type: "double", dims: [1, 2], values: [20, -10] },
      { name: "base", type: "double", dims: [1], values: [600] },
      { name: "axes", type: "int64", dims: [1], values: [1] },
      { name: "zero", type: "int64", dims: [1], values: [0] },
      { name: "one", type: "int64", dims: [1], values: [1] },
      { name: "axis1", type: "int64", dims: [1], values: [1] },
    ],
    extraOutputs: [{ name: "score", width: 1 }, { name: "points", width: 2 }],
  });
  // No features given: the contract the file embeds.
  const model = await pdModelFromBytes({
    path: "card.onnx",
    bytes,
    sha256: sha256Hex(bytes),
  });
  assert.equal(model.embedded, true);
  assert.equal(model.hasScore, true);
  assert.equal(model.pointsWidth, 2);
  const out = await scorePd(model, {
    features: model.features,
    columns: [A, B],
    rows: 10,
  }, { extras: true, batchSize: 4 });
  for (let i = 0; i < 10; i++) {
    assert.equal(out.score![i], 600 + 20 * A[i] - 10 * B[i]);
    assert.deepEqual([...out.points!.subarray(2 * i, 2 * i + 2)], [
      20 * A[i],
      -10 * B[i],
    ]);
    // ONNX Runtime's Sigmoid: the formula to the last bit or two.
    assert.ok(Math.abs(out.pd[i] - 1 / (1 + Math.exp(A[i]))) <= 1e-15);
  }
  // Without extras, only the PD is read.
  const plain = await scorePd(model, {
    features: model.features,
    columns: [A, B],
    rows: 10,
  });
  assert.equal(plain.score, undefined);
});

Deno.test("scorePd() refuses a PD of 1 (or NaN), naming the model and the first row at fault", async () => {
  const bytes = foreignModel({
    inputs: [{ name: "a" }, { name: "b" }],
    weights: [100, 0],
    intercept: 0,
    op: "matmul",
  });
  const model = await pdModelFromBytes(
    { path: "steep.onnx", bytes, sha256: sha256Hex(bytes) },
    { features: FEATURES },
  );
  // a = 0.25 * i: z = 25 i, and sigmoid(z) rounds to exactly 1 from
  // z = 37 (1 - 2^-53 / 2 < 1 / (1 + e^-37)), so first at i = 2 (z = 50).
  await assert.rejects(
    () =>
      scorePd(model, { features: FEATURES, columns: [A, B], rows: 10 }, {
        rowName: (i) => `facility L${i}`,
      }),
    (e: Error & { kind?: string }) => {
      assert.equal(e.kind, "check");
      assert.match(
        e.message,
        /^PD model steep\.onnx gave facility L2 a PD of 1: a 12-month PD must be finite and strictly between 0 and 1/,
      );
      return true;
    },
  );
  const nan = Float64Array.from(A, (_, i) => i === 4 ? NaN : 0);
  await assert.rejects(
    () => scorePd(model, { features: FEATURES, columns: [nan, B], rows: 10 }),
    /gave row 5 a PD of NaN/,
  );
});

Deno.test("loadPdModel() reads a model from object storage (s3://) through lib/storage, hashed the same", async () => {
  const s3 = await startS3();
  try {
    await s3.bucket("models");
    const bytes = foreignModel({
      inputs: [{ name: "a" }, { name: "b" }],
      weights: [0.8, -1.5],
      intercept: -2,
      op: "matmul",
    });
    await s3.client.send(
      new PutObjectCommand({
        Bucket: "models",
        Key: "pd/model.onnx",
        Body: bytes,
      }),
    );
    const model = await loadPdModel("s3://models/pd/model.onnx", {
      features: FEATURES,
    });
    assert.equal(model.sha256, await hex(bytes));
    const { pd } = await scorePd(model, {
      features: FEATURES,
      columns: [A, B],
      rows: 10,
    });
    assert.ok(
      Math.abs(pd[3] - logistic(-2, [0.8, -1.5], [A[3], B[3]])) <= 1e-15,
    );
    await assert.rejects(
      () => readModelBytes("s3://models/pd/none.onnx"),
      /s3:\/\/models\/pd\/none\.onnx/,
    );
  } finally {
    await s3.close();
  }
});
