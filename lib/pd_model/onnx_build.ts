/**
 * Builds ONNX model files that follow the project's PD-model convention
 * (see `types.ts`): one `[N, 1]` double input per feature, concatenated
 * into the `[N, F]` matrix {@link FEATURE_MATRIX} that a model's own nodes
 * read, a `pd` output, and the feature contract in `metadata_props`. The
 * scorecard and the trees only supply their nodes, initialisers and extra
 * outputs.
 *
 * A feature's input is a graph value named as the feature, so a feature
 * may not bear a name the graphs use themselves: the names of
 * {@link RESERVED_FEATURE_NAMES} and names starting with one of
 * {@link RESERVED_FEATURE_PREFIXES} ({@link reservedFeatureName}, the ONE
 * list: training refuses such a column when it chooses features, and
 * {@link buildPdModel} refuses it, as it does a feature named like any
 * other value of the graph it builds; ONNX Runtime would otherwise fail
 * with "Duplicate definition of name").
 *
 * @module
 */
import onnxProto from "onnx-proto";
import {
  CONTRACT_METADATA_KEY,
  type FeatureSpec,
  PD_OUTPUT,
  POINTS_OUTPUT,
  SCORE_OUTPUT,
} from "./types.ts";
import { UserError } from "../errors.ts";

const { onnx } = onnxProto;

/** The protobuf classes of the ONNX schema. */
export { onnx };

/** ONNX element type of doubles. */
export const DOUBLE: number = onnx.TensorProto.DataType.DOUBLE;
/** ONNX element type of 64-bit integers. */
export const INT64: number = onnx.TensorProto.DataType.INT64;
/** Name of the `[N, F]` double matrix the per-feature inputs are joined into. */
export const FEATURE_MATRIX = "features";
/**
 * Value names the project's graphs use themselves, which no feature may
 * bear: the feature matrix, the outputs (`pd`, a scorecard's `score` and
 * `points`, the trees' `margin`) and the trees' inner values.
 */
export const RESERVED_FEATURE_NAMES: readonly string[] = [
  FEATURE_MATRIX,
  PD_OUTPUT,
  SCORE_OUTPUT,
  POINTS_OUTPUT,
  "margin",
  "tree_sum",
  "base_score",
];

/** Prefixes of the scorecard graph's inner value names (`sc_edges0`, …). */
export const RESERVED_FEATURE_PREFIXES: readonly string[] = ["sc_"];

/**
 * Why `name` cannot be a feature's name in a PD-model graph, or
 * `undefined` when it can.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reservedFeatureName } from "./onnx_build.ts";
 * assert.equal(reservedFeatureName("ltv"), undefined);
 * assert.match(reservedFeatureName("features")!, /reserved/);
 * assert.match(reservedFeatureName("sc_total")!, /sc_/);
 * ```
 */
export function reservedFeatureName(name: string): string | undefined {
  if (RESERVED_FEATURE_NAMES.includes(name)) {
    return `the name ${
      JSON.stringify(name)
    } is reserved in the model's ONNX graph (${
      RESERVED_FEATURE_NAMES.join(", ")
    }, and names starting ${RESERVED_FEATURE_PREFIXES.join(", ")})`;
  }
  const prefix = RESERVED_FEATURE_PREFIXES.find((p) => name.startsWith(p));
  if (prefix !== undefined) {
    return `names starting ${prefix} are reserved in the model's ONNX graph`;
  }
  return undefined;
}

/** The default-domain opset the files use. */
export const ONNX_OPSET = 17;

/** A node, built from plain values. */
export interface NodeSpec {
  /** Operator type, e.g. `Sigmoid`. */
  op: string;
  /** Input value names. */
  inputs: string[];
  /** Output value names. */
  outputs: string[];
  /** Operator domain; `ai.onnx.ml` for the ML operators. @default "" */
  domain?: string;
  /** Attributes: numbers, number lists, strings, string lists or tensors. */
  attributes?: Record<string, AttributeValue>;
}

/** An attribute value; integers and floats are told apart by `kind`. */
export type AttributeValue =
  | { kind: "int"; value: number }
  | { kind: "ints"; value: number[] }
  | { kind: "float"; value: number }
  | { kind: "floats"; value: number[] }
  | { kind: "string"; value: string }
  | { kind: "strings"; value: string[] }
  | { kind: "tensor"; value: TensorSpec };

/** A constant tensor. */
export interface TensorSpec {
  /** Name (for initialisers). */
  name?: string;
  /**
   * Element type: `double`, `int64`, or `uint8` (e.g. the `nodes_modes` of
   * `ai.onnx.ml` `TreeEnsemble`; stored in `int32_data` as ONNX requires).
   */
  type: "double" | "int64" | "uint8";
  /** Shape. */
  dims: number[];
  /** Values, row-major. */
  values: number[];
}

/** An extra graph output beside `pd`. */
export interface OutputSpec {
  /** Output name. */
  name: string;
  /** Width of the `[N, width]` double output. */
  width: number;
}

/** What a model contributes to the file. */
export interface GraphSpec {
  /** The feature contract (inputs, in order). */
  features: FeatureSpec[];
  /** The nodes; they read {@link FEATURE_MATRIX} and write `pd` and any extra outputs. */
  nodes: NodeSpec[];
  /** Constant tensors the nodes read. */
  initializers?: TensorSpec[];
  /** Outputs beside `pd`. */
  extraOutputs?: OutputSpec[];
  /** Whether the nodes use the `ai.onnx.ml` domain, and its opset. */
  mlOpset?: number;
  /** Producer name recorded in the file. @default "ifrs9-ecl" */
  producer?: string;
  /** Further metadata properties. */
  metadata?: Record<string, string>;
}

const encoder = new TextEncoder();

function tensor(spec: TensorSpec) {
  const common = { name: spec.name, dims: spec.dims };
  if (spec.type === "uint8") {
    return onnx.TensorProto.create({
      ...common,
      dataType: onnx.TensorProto.DataType.UINT8,
      int32Data: spec.values,
    });
  }
  return spec.type === "double"
    ? onnx.TensorProto.create({
      ...common,
      dataType: DOUBLE,
      doubleData: spec.values,
    })
    : onnx.TensorProto.create({
      ...common,
      dataType: INT64,
      int64Data: spec.values,
    });
}

function attribute(name: string, a: AttributeValue) {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case "int":
      return onnx.AttributeProto.create({ name, type: T.INT, i: a.value });
    case "ints":
      return onnx.AttributeProto.create({ name, type: T.INTS, ints: a.value });
    case "float":
      return onnx.AttributeProto.create({ name, type: T.FLOAT, f: a.value });
    case "floats":
      return onnx.AttributeProto.create({
        name,
        type: T.FLOATS,
        floats: a.value,
      });
    case "string":
      return onnx.AttributeProto.create({
        name,
        type: T.STRING,
        s: encoder.encode(a.value),
      });
    case "strings":
      return onnx.AttributeProto.create({
        name,
        type: T.STRINGS,
        strings: a.value.map((s) => encoder.encode(s)),
      });
    case "tensor":
      return onnx.AttributeProto.create({
        name,
        type: T.TENSOR,
        t: tensor(a.value),
      });
  }
}

function doubleValue(name: string, width: number) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: DOUBLE,
        shape: { dim: [{ dimParam: "N" }, { dimValue: width }] },
      },
    },
  });
}

/**
 * Serialises a PD model to ONNX bytes: per-feature inputs joined by a
 * `Concat` into {@link FEATURE_MATRIX}, the given nodes, a `pd` output and
 * the contract in the metadata.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildPdModel } from "./onnx_build.ts";
 *
 * // pd = sigmoid(x): the smallest file that follows the convention.
 * const bytes = buildPdModel({
 *   features: [{ name: "x", kind: "number" }],
 *   nodes: [{ op: "Sigmoid", inputs: ["features"], outputs: ["pd"] }],
 * });
 * assert.ok(bytes.length > 0);
 * ```
 */
export function buildPdModel(spec: GraphSpec): Uint8Array {
  const names = spec.features.map((f) => f.name);
  // Every value the graph defines besides the inputs.
  const own = new Set([
    FEATURE_MATRIX,
    PD_OUTPUT,
    ...spec.nodes.flatMap((n) => n.outputs),
    ...(spec.initializers ?? []).flatMap((t) => t.name ?? []),
    ...(spec.extraOutputs ?? []).map((o) => o.name),
  ]);
  const seen = new Set<string>();
  for (const name of names) {
    const why = reservedFeatureName(name) ??
      (own.has(name)
        ? `the graph defines a value of that name itself`
        : seen.has(name)
        ? "it is named twice"
        : undefined);
    if (why !== undefined) {
      throw new UserError(
        "usage",
        `feature ${
          JSON.stringify(name)
        } cannot be a model input: ${why}; rename the column`,
      );
    }
    seen.add(name);
  }
  const join: NodeSpec = {
    op: "Concat",
    inputs: names,
    outputs: [FEATURE_MATRIX],
    attributes: { axis: { kind: "int", value: 1 } },
  };
  const nodes = [join, ...spec.nodes].map((n, i) =>
    onnx.NodeProto.create({
      name: `${n.op}_${i}`,
      opType: n.op,
      domain: n.domain ?? "",
      input: n.inputs,
      output: n.outputs,
      attribute: Object.entries(n.attributes ?? {}).map(([k, v]) =>
        attribute(k, v)
      ),
    })
  );
  const graph = onnx.GraphProto.create({
    name: "pd_model",
    node: nodes,
    initializer: (spec.initializers ?? []).map(tensor),
    input: names.map((n) => doubleValue(n, 1)),
    output: [
      doubleValue(PD_OUTPUT, 1),
      ...(spec.extraOutputs ?? []).map((o) => doubleValue(o.name, o.width)),
    ],
  });
  const opsetImport = [{ domain: "", version: ONNX_OPSET }];
  if (spec.mlOpset !== undefined) {
    opsetImport.push({ domain: "ai.onnx.ml", version: spec.mlOpset });
  }
  const metadata = {
    ...spec.metadata,
    [CONTRACT_METADATA_KEY]: JSON.stringify(spec.features),
  };
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport,
    producerName: spec.producer ?? "ifrs9-ecl",
    graph,
    metadataProps: Object.entries(metadata).map(([key, value]) => ({
      key,
      value,
    })),
  });
  return onnx.ModelProto.encode(model).finish();
}
