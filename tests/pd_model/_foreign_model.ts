/**
 * ONNX PD models "trained elsewhere" for the tests: built here directly
 * with `onnx-proto`, never through `lib/pd_model/onnx_build.ts`, so that
 * the scoring path is checked against files it did not write. Each model
 * is a logistic model with known weights, so its PDs have a hand formula.
 */
import onnxProto from "onnx-proto";

const { onnx } = onnxProto;
const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;
const enc = new TextEncoder();

/** One input of a hand-built model. */
export interface ForeignInput {
  /** Input name. */
  name: string;
  /** Element type. @default "double" */
  type?: "double" | "float";
}

/** What a hand-built logistic model looks like. */
export interface ForeignModelSpec {
  /** The inputs, in graph order, each `[N, 1]`. */
  inputs: ForeignInput[];
  /** Weight of each input, in the same order. */
  weights: number[];
  /** Intercept. */
  intercept: number;
  /**
   * `linear-classifier`: ai.onnx.ml LinearClassifier with a logistic
   * post-transform (float32 arithmetic), its probabilities cast to double
   * as output `pd` of shape [N, 2]; `matmul`: MatMul, Add,
   * Sigmoid, output `pd` of shape [N, 1].
   */
  op: "linear-classifier" | "matmul";
  /** The contract to embed under `ifrs9.feature_contract`, when any. */
  contract?: unknown;
  /** Name of the PD output. @default "pd" */
  output?: string;
}

function valueInfo(name: string, elemType: number, width: number) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: [{ dimParam: "N" }, { dimValue: width }] },
      },
    },
  });
}

/**
 * The bytes of a logistic PD model: pd = 1 / (1 + exp(-(intercept +
 * sum_i weights[i] * x_i))).
 */
export function foreignModel(spec: ForeignModelSpec): Uint8Array {
  const output = spec.output ?? "pd";
  const nodes = [];
  const initializer = [];
  const inputs = spec.inputs.map((i) =>
    valueInfo(i.name, i.type === "float" ? T.FLOAT : T.DOUBLE, 1)
  );
  const names = spec.inputs.map((i) => i.name);
  // Float inputs are cast to double first, so the graph is valid.
  const doubles = spec.inputs.map((i) => {
    if (i.type !== "float") return i.name;
    nodes.push(onnx.NodeProto.create({
      opType: "Cast",
      input: [i.name],
      output: [`${i.name}_d`],
      attribute: [{ name: "to", type: A.INT, i: T.DOUBLE }],
    }));
    return `${i.name}_d`;
  });
  nodes.push(onnx.NodeProto.create({
    opType: "Concat",
    input: doubles,
    output: ["joined_inputs"],
    attribute: [{ name: "axis", type: A.INT, i: 1 }],
  }));
  let outWidth = 1;
  const opsetImport = [{ domain: "", version: 17 }];
  if (spec.op === "linear-classifier") {
    opsetImport.push({ domain: "ai.onnx.ml", version: 1 });
    outWidth = 2;
    nodes.push(onnx.NodeProto.create({
      opType: "LinearClassifier",
      domain: "ai.onnx.ml",
      input: ["joined_inputs"],
      output: ["label", "probabilities"],
      attribute: [
        { name: "coefficients", type: A.FLOATS, floats: spec.weights },
        { name: "intercepts", type: A.FLOATS, floats: [spec.intercept] },
        { name: "classlabels_ints", type: A.INTS, ints: [0, 1] },
        { name: "post_transform", type: A.STRING, s: enc.encode("LOGISTIC") },
      ],
    }));
    // The operator's probabilities are float32; the convention's are double.
    nodes.push(onnx.NodeProto.create({
      opType: "Cast",
      input: ["probabilities"],
      output: [output],
      attribute: [{ name: "to", type: A.INT, i: T.DOUBLE }],
    }));
  } else {
    initializer.push(
      onnx.TensorProto.create({
        name: "coef_w",
        dims: [names.length, 1],
        dataType: T.DOUBLE,
        doubleData: spec.weights,
      }),
      onnx.TensorProto.create({
        name: "coef_b",
        dims: [1],
        dataType: T.DOUBLE,
        doubleData: [spec.intercept],
      }),
    );
    nodes.push(
      onnx.NodeProto.create({
        opType: "MatMul",
        input: ["joined_inputs", "coef_w"],
        output: ["z0"],
      }),
      onnx.NodeProto.create({
        opType: "Add",
        input: ["z0", "coef_b"],
        output: ["z"],
      }),
      onnx.NodeProto.create({
        opType: "Sigmoid",
        input: ["z"],
        output: [output],
      }),
    );
  }
  const outputs = [valueInfo(output, T.DOUBLE, outWidth)];
  if (spec.op === "linear-classifier") {
    outputs.push(onnx.ValueInfoProto.create({
      name: "label",
      type: {
        tensorType: { elemType: T.INT64, shape: { dim: [{ dimParam: "N" }] } },
      },
    }));
  }
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport,
    producerName: "elsewhere",
    graph: onnx.GraphProto.create({
      name: "foreign",
      node: nodes,
      initializer,
      input: inputs,
      output: outputs,
    }),
    metadataProps: spec.contract === undefined ? [] : [{
      key: "ifrs9.feature_contract",
      value: JSON.stringify(spec.contract),
    }],
  });
  return onnx.ModelProto.encode(model).finish();
}

/** The hand formula of a {@link foreignModel}: the logistic function of the score. */
export function logistic(
  intercept: number,
  weights: number[],
  x: number[],
): number {
  let z = intercept;
  for (let i = 0; i < weights.length; i++) z += weights[i] * x[i];
  return 1 / (1 + Math.exp(-z));
}
