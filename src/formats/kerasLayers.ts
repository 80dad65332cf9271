/**
 * What a Keras config's layers allocate when load_model builds them, before any weight is read (red
 * team round 24: Dense(12000) on 12000 inputs, 3.4 GB from a 15 KB .keras). A layer's weights depend
 * on the width of its input, which the config states only in part: a build_config, the shapes a
 * Keras 3 functional node records, or nothing at all. So the shapes are also carried through the
 * model the way Keras builds it (Sequential in order, functional along its inbound nodes), and a
 * layer takes the widest input any of these give: a Dense after a Dense or after a Flatten of a
 * convolution's output is counted at the width Keras will build it with, whatever build_config says.
 */

/** A tensor shape, batch dimension first; null where the config leaves a dimension unknown. */
type Shape = readonly (number | null)[];

/** Config values walked for layers (CWE-400). */
const MAX_LAYER_WALK = 2_000_000;

/** Layers whose output has their input's shape. */
const SAME_SHAPE = new Set([
  "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout", "AlphaDropout",
  "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "ThresholdedReLU",
  "BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization", "Normalization", "Rescaling",
  "Masking", "ActivityRegularization", "Identity", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
]);

/** The weights the config's Dense, Embedding, convolution and recurrent layers make, and the largest of them. */
export function layerParameters(config: unknown): { parameters: number; largest: string } {
  const widths = inputWidths(config);
  let parameters = 0;
  let most = 0;
  let largest = "";
  walk(config, (layer) => {
    const n = weightsOf(layer, widths.get(layer) ?? 1);
    if (n <= 0) return;
    parameters += n;
    if (n > most) {
      most = n;
      const cfg = isRecord(layer["config"]) ? layer["config"] : {};
      largest = `${String(layer["class_name"])} "${String(cfg["name"] ?? "")}" with ${n} weights`;
    }
  });
  return { parameters, largest };
}

/** Visits every record of the config (bounded), nested models and wrapped layers included. */
function walk(config: unknown, visit: (record: Record<string, unknown>) => void): void {
  const pending: unknown[] = [config];
  for (let visited = 0; pending.length > 0 && visited < MAX_LAYER_WALK; visited++) {
    const value = pending.pop();
    if (Array.isArray(value)) for (const item of value) pending.push(item);
    else if (isRecord(value)) {
      visit(value);
      for (const key in value) pending.push(value[key]);
    }
  }
}

/**
 * The widest input each layer may be built with: its build_config, the shapes its Keras 3 nodes
 * record, and the shape carried to it through its model. A layer none of these reach takes the
 * widest last dimension anywhere in the config, so an unknown layer between two others hides nothing.
 */
function inputWidths(config: unknown): Map<Record<string, unknown>, number> {
  const widths = new Map<Record<string, unknown>, number>();
  const raise = (layer: Record<string, unknown>, width: number | null | undefined): void => {
    if (typeof width === "number" && width > (widths.get(layer) ?? 0)) widths.set(layer, width);
  };
  let widest = 1;
  walk(config, (record) => {
    const cfg = record["config"];
    if (!isRecord(cfg)) return;
    for (const key of ["units", "filters", "output_dim", "num_tokens"]) widest = Math.max(widest, size(cfg[key]));
    for (const shape of [declaredShape(record), buildShape(record)]) if (shape) widest = Math.max(widest, lastDim(shape) ?? 1);
    raise(record, lastDim(buildShape(record)));
    for (const shape of nodeShapes(record)) raise(record, lastDim(shape));
    if (Array.isArray(cfg["layers"])) carry(cfg["layers"].filter(isRecord), raise);
  });
  walk(config, (record) => {
    if (weightsOf(record, 1) > 0 && !widths.has(record)) widths.set(record, widest);
  });
  return widths;
}

/** Carries shapes through one model's layers: along inbound nodes when they name their inputs, else in order (Sequential). */
function carry(layers: readonly Record<string, unknown>[], raise: (layer: Record<string, unknown>, width: number | null | undefined) => void): void {
  const outputs = new Map<string, Shape | undefined>();
  let previous: Shape | undefined;
  for (const layer of layers) {
    const cfg = isRecord(layer["config"]) ? layer["config"] : {};
    const named = inboundNames(layer);
    let inputs: (Shape | undefined)[];
    if (named.length > 0) inputs = named.map((n) => outputs.get(n));
    else inputs = [declaredShape(layer) ?? previous];
    const input = inputs[0];
    // PReLU keeps an alpha for every input position, not only the last dimension (red team round 38: 12.7 GB).
    raise(layer, layer["class_name"] === "PReLU" && input ? product(input.slice(1)) : lastDim(input));
    for (const inner of wrapped(layer)) raise(inner, lastDim(input));
    const output = outputShape(layer, input, inputs);
    const name = cfg["name"];
    if (typeof name === "string") outputs.set(name, output);
    previous = output;
  }
}

/** The layers a wrapper (TimeDistributed, Bidirectional) builds on its own input. */
function wrapped(layer: Record<string, unknown>): Record<string, unknown>[] {
  const cfg = layer["config"];
  if (!isRecord(cfg)) return [];
  return [cfg["layer"], cfg["backward_layer"]].filter(isRecord);
}

/** The layers a functional layer's inbound nodes take as input: Keras 3 `keras_history` or Keras 2 `[name, node, tensor, kwargs]`. */
function inboundNames(layer: Record<string, unknown>): string[] {
  const nodes = layer["inbound_nodes"];
  if (!Array.isArray(nodes) || nodes.length === 0) return [];
  const names: string[] = [];
  walk(nodes[0], (record) => {
    const cfg = record["config"];
    const history = isRecord(cfg) ? cfg["keras_history"] : undefined;
    if (Array.isArray(history) && typeof history[0] === "string") names.push(history[0]);
  });
  if (names.length > 0) return names;
  // Keras 2: a node is a list of [layer name, node index, tensor index, kwargs].
  const node = nodes[0];
  if (Array.isArray(node)) for (const entry of node) if (Array.isArray(entry) && typeof entry[0] === "string") names.push(entry[0]);
  return names;
}

/** The input shapes a Keras 3 functional layer's nodes record. */
function nodeShapes(layer: Record<string, unknown>): Shape[] {
  const shapes: Shape[] = [];
  const nodes = layer["inbound_nodes"];
  if (!Array.isArray(nodes)) return shapes;
  walk(nodes, (record) => {
    const cfg = record["config"];
    if (record["class_name"] === "__keras_tensor__" && isRecord(cfg)) {
      const shape = asShape(cfg["shape"]);
      if (shape) shapes.push(shape);
    }
  });
  return shapes;
}

/** The input shape a layer's own config declares (an InputLayer's, or Keras 2's first layer's). */
function declaredShape(layer: Record<string, unknown>): Shape | undefined {
  const cfg = layer["config"];
  if (!isRecord(cfg)) return undefined;
  return asShape(cfg["batch_shape"]) ?? asShape(cfg["batch_input_shape"]);
}

function buildShape(layer: Record<string, unknown>): Shape | undefined {
  const build = layer["build_config"];
  return isRecord(build) ? asShape(build["input_shape"]) : undefined;
}

/** What a layer outputs for `input` (and, for merges, all of `inputs`), or undefined when the config does not say. */
function outputShape(layer: Record<string, unknown>, input: Shape | undefined, inputs: readonly (Shape | undefined)[]): Shape | undefined {
  const cls = layer["class_name"];
  const cfg = isRecord(layer["config"]) ? layer["config"] : {};
  if (cls === "InputLayer") return declaredShape(layer);
  if (typeof cls !== "string") return undefined;
  if (SAME_SHAPE.has(cls)) return input;
  if (!input) return undefined;
  const batch = input[0] ?? null;
  const n = (key: string): number | null => (size(cfg[key]) > 0 ? size(cfg[key]) : null);
  switch (cls) {
    case "Dense":
      return [...input.slice(0, -1), n("units")];
    case "Embedding":
      return [...input, n("output_dim")];
    case "CategoryEncoding":
      return [...input.slice(0, -1), n("num_tokens")];
    case "Flatten":
      return [batch, product(input.slice(1))];
    case "Reshape": {
      const target = asShape(cfg["target_shape"]);
      return target ? [batch, ...target] : undefined;
    }
    case "RepeatVector":
      return [batch, n("n"), ...input.slice(1)];
    case "Permute": {
      const dims = Array.isArray(cfg["dims"]) ? cfg["dims"].map(size) : [];
      return dims.every((d) => d > 0 && d < input.length) ? [batch, ...dims.map((d) => input[d] ?? null)] : undefined;
    }
    case "Concatenate": {
      const axis = typeof cfg["axis"] === "number" ? cfg["axis"] : -1;
      if (axis !== -1 && axis !== input.length - 1) return undefined;
      const lasts = inputs.map((s) => lastDim(s));
      return [...input.slice(0, -1), lasts.every((d) => typeof d === "number") ? (lasts as number[]).reduce((a, b) => a + b, 0) : null];
    }
    case "SimpleRNN":
    case "GRU":
    case "LSTM":
      return cfg["return_sequences"] === true ? [...input.slice(0, -1), n("units")] : [batch, n("units")];
    case "Bidirectional": {
      const inner = isRecord(cfg["layer"]) ? outputShape(cfg["layer"], input, [input]) : undefined;
      const last = lastDim(inner);
      return inner && (cfg["merge_mode"] ?? "concat") === "concat" ? [...inner.slice(0, -1), last === null || last === undefined ? null : last * 2] : inner;
    }
    case "TimeDistributed": {
      const inner = isRecord(cfg["layer"]) ? outputShape(cfg["layer"], [batch, ...input.slice(2)], [input]) : undefined;
      return inner ? [batch, input[1] ?? null, ...inner.slice(1)] : undefined;
    }
  }
  const spatial = /^(Conv|SeparableConv|DepthwiseConv|MaxPooling|AveragePooling|GlobalMaxPooling|GlobalAveragePooling|UpSampling)([123])D$/.exec(cls.replace(/Transpose$/, ""));
  if (!spatial || cfg["data_format"] === "channels_first") return undefined;
  const rank = Number(spatial[2]);
  if (input.length !== rank + 2) return undefined;
  const dims = input.slice(1, -1);
  const channels = input[input.length - 1] ?? null;
  const kind = spatial[1]!;
  if (kind.startsWith("Global")) return cfg["keepdims"] === true ? [batch, ...dims.map(() => 1), channels] : [batch, channels];
  const each = (key: string, fallback: number[]): number[] => {
    const v = cfg[key];
    const list = Array.isArray(v) ? v.map(size) : typeof v === "number" ? Array<number>(rank).fill(size(v)) : fallback;
    return list.length === rank && list.every((x) => x > 0) ? list : fallback;
  };
  if (kind === "UpSampling") {
    const by = each("size", Array<number>(rank).fill(2));
    return [batch, ...dims.map((d, i) => (d === null ? null : d * by[i]!)), channels];
  }
  const pooling = kind.endsWith("Pooling");
  const kernel = each(pooling ? "pool_size" : "kernel_size", Array<number>(rank).fill(pooling ? 2 : 1));
  const strides = each("strides", pooling ? kernel : Array<number>(rank).fill(1));
  const dilation = each("dilation_rate", Array<number>(rank).fill(1));
  const transpose = cls.endsWith("Transpose");
  const same = cfg["padding"] === "same" || cfg["padding"] === "causal";
  const out = dims.map((d, i) => {
    if (d === null) return null;
    const k = (kernel[i]! - 1) * dilation[i]! + 1;
    if (transpose) return same ? d * strides[i]! : d * strides[i]! + Math.max(k - strides[i]!, 0);
    return same ? Math.ceil(d / strides[i]!) : Math.max(0, Math.floor((d - k) / strides[i]!) + 1);
  });
  const depth = kind === "DepthwiseConv" ? (channels === null ? null : channels * Math.max(1, size(cfg["depth_multiplier"]))) : channels;
  return [batch, ...out, pooling || kind === "DepthwiseConv" ? depth : n("filters")];
}

/** The weights one serialized layer makes when built on inputs `inputs` wide (0 for layers not counted). */
function weightsOf(layer: Record<string, unknown>, inputs: number): number {
  const cls = layer["class_name"];
  const config = layer["config"];
  if (typeof cls !== "string" || !isRecord(config)) return 0;
  const n = (key: string): number => size(config[key]);
  switch (cls) {
    case "Dense":
      return n("units") * inputs;
    case "Embedding":
      return n("input_dim") * n("output_dim");
    case "Conv1D":
    case "Conv2D":
    case "Conv3D":
    case "Conv1DTranspose":
    case "Conv2DTranspose":
    case "Conv3DTranspose": {
      const kernel = Array.isArray(config["kernel_size"]) ? config["kernel_size"].reduce((p: number, k) => p * size(k), 1) : size(config["kernel_size"]);
      return n("filters") * kernel * inputs;
    }
    case "SimpleRNN":
    case "GRU":
    case "LSTM": {
      const gates = cls === "LSTM" ? 4 : cls === "GRU" ? 3 : 1;
      return gates * n("units") * (inputs + n("units"));
    }
    case "DepthwiseConv1D":
    case "DepthwiseConv2D":
    case "SeparableConv1D":
    case "SeparableConv2D": {
      // A kernel per input channel and multiplier (red team round 38: an uncounted DepthwiseConv2D, 18.8 GB), and a separable one's pointwise kernel.
      const kernel = Array.isArray(config["kernel_size"]) ? config["kernel_size"].reduce((p: number, k) => p * size(k), 1) : size(config["kernel_size"]);
      const multiplier = Math.max(1, n("depth_multiplier"));
      return kernel * inputs * multiplier + (cls.startsWith("Separable") ? inputs * multiplier * n("filters") : 0);
    }
    case "PReLU":
      return inputs;
    // Weights a layer keeps per input feature (red team round 37: BatchNormalization of a 4e8-wide input, 8 GB).
    case "BatchNormalization":
      return 4 * inputs;
    case "LayerNormalization":
    case "GroupNormalization":
    case "RMSNormalization":
      return 2 * inputs;
    // A kernel from the input to every output position (a 40000 x 40000 EinsumDense took 18.8 GB).
    case "EinsumDense": {
      const out = Array.isArray(config["output_shape"]) ? config["output_shape"].reduce((p: number, d) => p * Math.max(1, size(d)), 1) : Math.max(1, size(config["output_shape"]));
      return inputs * out;
    }
    // Query, key and value projections and the output projection, each inputs x heads x dim.
    case "MultiHeadAttention":
    case "GroupedQueryAttention": {
      const heads = Math.max(n("num_heads"), n("num_query_heads"));
      return 4 * inputs * heads * Math.max(n("key_dim"), n("head_dim"), n("value_dim"), 1);
    }
    default:
      return 0;
  }
}

function lastDim(shape: Shape | undefined): number | null | undefined {
  return shape && shape.length > 1 ? shape[shape.length - 1] : undefined;
}

/** The product of dimensions, or null when one is unknown. */
function product(dims: Shape): number | null {
  let p = 1;
  for (const d of dims) {
    if (d === null) return null;
    p *= d;
  }
  return p;
}

/** A list of dimensions (null or a non-negative integer each), or undefined. */
function asShape(v: unknown): Shape | undefined {
  if (!Array.isArray(v) || v.length === 0) return undefined;
  const dims = v.map((d) => (d === null ? null : typeof d === "number" && Number.isSafeInteger(d) && d >= 0 ? d : undefined));
  return dims.every((d) => d !== undefined) ? (dims as (number | null)[]) : undefined;
}

/** A size field: a non-negative integer, else 0 (None, a string). */
function size(v: unknown): number {
  return typeof v === "number" && Number.isSafeInteger(v) && v > 0 ? v : 0;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
