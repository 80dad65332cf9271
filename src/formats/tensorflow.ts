/**
 * TensorFlow formats. SavedModel (`saved_model.pb`, a protobuf SavedModel) is decoded with
 * protobufjs against our own minimal schema (schemas/tensorflow.ts), and its text form
 * (`saved_model.pbtxt`, which the loader reads when the .pb is absent) by a bounded text-format
 * reader (protoText.ts) into the same shapes; every op of every meta graph and of its function
 * library is judged by name (T1), and checkpoint ops by where their path comes from. TFLite (a flatbuffer, identifier
 * "TFL3") is read by hand, bounds-checked, through the byte source: only the operator-code table
 * is visited, so tensor buffers are never read. Custom ops are reported; Flex ops (TensorFlow ops
 * run inside TFLite) are also judged like SavedModel ops.
 */
import { TF_OP_CLASSES, type TfOpClass } from "../rules/graphFormats.js";
import { own } from "../own.js";
import { readAll, type ByteSource } from "../sources/byteSource.js";
import type { FormatScanner, ScanContext } from "./context.js";
import { decodeOrReport, headFields, wireDifferential, WIRE, type HeadField } from "./schemas/protobuf.js";
import { checkKerasConfigText } from "./keras.js";
import { escapesFolder } from "./onnx.js";
import { parseProtoText, ProtoTextError, type TextMessage, type TextSpec } from "./protoText.js";
import {
  tensorflowTypes,
  type AssetFileDef,
  type AttrBytes,
  type AttrEntry,
  type AttrValue,
  type FunctionDef,
  type FunctionSpec,
  type GraphDef,
  type KerasSavedMetadata,
  type MetaGraphDef,
  type NameAttrList,
  type NodeDef,
  type SavedModel,
  type SavedConcreteFunction,
  type SavedObject,
  type StructuredPair,
  type StructuredValue,
  type TensorInfo,
  type TensorValue,
} from "./schemas/tensorflow.js";

/** Node names quoted per reported op; the count says how many more there were (report flooding). */
const NAMES_PER_OP = 10;

// ---------------------------------------------------------------- SavedModel

const SAVED_MODEL_NAME = "saved_model.pb";
/** SavedModel's top-level fields: saved_model_schema_version (varint), meta_graphs (message). */
const SAVED_MODEL_FIELDS: Readonly<Record<number, number>> = { 1: WIRE.VARINT, 2: WIRE.LEN };
/**
 * MetaGraphDef's fields (meta_graph.proto): meta_info_def 1, graph_def 2, saver_def 3, collection_def 4,
 * signature_def 5, asset_file_def 6, object_graph_def 7 — every one a message or a map entry.
 */
const META_GRAPH_FIELDS: Readonly<Record<number, number>> = { 1: WIRE.LEN, 2: WIRE.LEN, 3: WIRE.LEN, 4: WIRE.LEN, 5: WIRE.LEN, 6: WIRE.LEN, 7: WIRE.LEN };
/** saved_model_schema_version: TensorFlow has only ever written 1; a little room for future versions. */
const MAX_SCHEMA_VERSION = 16;

/**
 * A SavedModel has no magic. Recognised by content, whatever the file is called: TensorFlow
 * writes saved_model_schema_version (field 1, a small varint) and then the meta graphs (field 2),
 * and a MetaGraphDef holds nothing but messages (fields 1–7, all length-delimited), the first of
 * which is itself a well-formed message. An ONNX ModelProto opens the same way (ir_version, then
 * field 2) but its field 2 is producer_name, a short text ("pytorch", "tf2onnx") that does not walk
 * as MetaGraphDef fields — the structural difference between the two. Under the name TensorFlow's
 * loader requires (`saved_model.pb`), any head that walks as SavedModel fields with a meta graph is
 * enough (content that fails to decode is then a finding).
 */
export function sniffSavedModel(head: Uint8Array, size: number): boolean {
  const fields = savedModelFields(head, size);
  return fields !== undefined && savedModelStructure(head, fields);
}

/**
 * The weaker test for a file named `saved_model.pb`. The name is compared first: sniffing asks this
 * of every file and archive member that nothing else claimed, a checkpoint's hundreds of tensors among them.
 */
export function sniffSavedModelByName(head: Uint8Array, size: number, name: string): boolean {
  return baseName(name) === SAVED_MODEL_NAME && savedModelFields(head, size) !== undefined;
}

/** The head's top-level fields when they walk as a SavedModel's and hold a meta graph (field 2). */
function savedModelFields(head: Uint8Array, size: number): HeadField[] | undefined {
  const fields = headFields(head, size, SAVED_MODEL_FIELDS);
  return fields?.some((f) => f.field === 2) ? fields : undefined;
}

function savedModelStructure(head: Uint8Array, fields: readonly HeadField[]): boolean {
  const [version, metaGraph] = fields;
  if (!version || version.field !== 1 || version.value < 1 || version.value > MAX_SCHEMA_VERSION) return false;
  if (!metaGraph || metaGraph.field !== 2 || metaGraph.value < 2) return false;
  // Every later top-level field is another meta graph (headFields already refused anything else).
  const inner = nestedFields(head, metaGraph, META_GRAPH_FIELDS);
  if (!inner || inner.length === 0) return false;
  // The first member of a MetaGraphDef (meta_info_def, graph_def…) is a message of its own.
  return nestedFields(head, inner[0]!, undefined) !== undefined;
}

/**
 * The fields of the message held by LEN field `f` of `head`, as far as the head holds it: each
 * allowed by number and wire type (`allowed`; any number with a wire type writers use when
 * undefined), every length inside the payload, at least one field, and, when the head holds the
 * whole payload, the last field ending exactly at its end. Undefined otherwise.
 */
function nestedFields(head: Uint8Array, f: HeadField, allowed: Readonly<Record<number, number>> | undefined): HeadField[] | undefined {
  const end = Math.min(head.length, f.at + f.value);
  const out: HeadField[] = [];
  let pos = f.at;
  while (pos < end) {
    const tag = readVarint(head, pos, end);
    if (!tag) break; // cut by the end of the head
    const field = Math.floor(tag.value / 8);
    const wire = tag.value % 8;
    if (field < 1 || (allowed ? allowed[field] !== wire : !(wire === WIRE.VARINT || wire === WIRE.LEN || wire === WIRE.I64 || wire === WIRE.I32))) return undefined;
    pos = tag.end;
    if (wire === WIRE.VARINT || wire === WIRE.LEN) {
      const v = readVarint(head, pos, end);
      if (!v) break;
      out.push({ field, wire, value: v.value, at: v.end });
      pos = v.end + (wire === WIRE.LEN ? v.value : 0);
    } else {
      out.push({ field, wire, value: 0, at: pos });
      pos += wire === WIRE.I64 ? 8 : 4;
    }
    if (pos > f.at + f.value) return undefined;
  }
  if (out.length === 0) return undefined;
  if (end === f.at + f.value && pos !== end) return undefined;
  return out;
}

/** A base-128 varint at `pos` before `end`; undefined when cut off or longer than 10 bytes. */
function readVarint(b: Uint8Array, pos: number, end: number): { value: number; end: number } | undefined {
  let value = 0;
  for (let i = 0; i < 10 && pos + i < end; i++) {
    const byte = b[pos + i]!;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return { value: Math.min(value, Number.MAX_SAFE_INTEGER), end: pos + i + 1 };
  }
  return undefined;
}

export const scanSavedModel: FormatScanner = async (source: ByteSource, ctx: ScanContext) => {
  const model = await decodeOrReport<SavedModel>(source, ctx, tensorflowTypes()["tensorflow.SavedModel"], "SavedModel", "MG243");
  if (model) analyseSavedModel(model, ctx);
};

const SAVED_MODEL_TEXT_NAME = "saved_model.pbtxt";
/** Largest saved_model.pbtxt read (CWE-400). Weights live in variables/, so real ones are a few MB. */
const MAX_SAVED_MODEL_TEXT_BYTES = 256 * 2 ** 20;

/** `saved_model.pbtxt`, by the name alone: the loader reads any file so named, so none may pass unread. */
export function sniffSavedModelText(name: string): boolean {
  return baseName(name) === SAVED_MODEL_TEXT_NAME;
}

const TENSOR_SHAPE_SPEC: TextSpec = { dim: { size: "word" }, unknown_rank: "word" };
const TENSOR_SPEC: TextSpec = { dtype: "word", tensor_shape: TENSOR_SHAPE_SPEC, tensor_content: "bytes", string_val: "bytes" };
/** AttrValue and NameAttrList refer to each other, so their text specs do too. */
function attrSpec(): TextSpec {
  const func: Record<string, TextSpec | "string"> = { name: "string" };
  const value: TextSpec = { s: "bytes", func, list: { s: "bytes", func }, tensor: TENSOR_SPEC };
  func["attr"] = { key: "string", value };
  return func["attr"];
}
const ATTR_SPEC = attrSpec();
const NODE_SPEC: TextSpec = { name: "string", op: "string", input: "string", attr: ATTR_SPEC };
/** TensorInfo holds other TensorInfos (a composite tensor's components), so its spec does too. */
function tensorInfoSpec(): TextSpec {
  const info: Record<string, TextSpec | "string"> = {
    name: "string",
    coo_sparse: { values_tensor_name: "string", indices_tensor_name: "string", dense_shape_tensor_name: "string" },
  };
  info["composite_tensor"] = { components: info };
  return info;
}
const TENSOR_INFO_SPEC = tensorInfoSpec();
const OBJECT_REFERENCE_SPEC: TextSpec = { node_id: "word", local_name: "string" };
/** StructuredValue nests itself: every kind kept, so that two in one value are seen. */
function structuredSpec(): TextSpec {
  const value: Record<string, TextSpec | "string" | "word"> = {
    none_value: {},
    float64_value: "word",
    int64_value: "word",
    string_value: "string",
    bool_value: "word",
    tensor_shape_value: {},
    tensor_dtype_value: "word",
    tensor_spec_value: {},
    type_spec_value: {},
    bounded_tensor_spec_value: {},
    tensor_value: {},
    numpy_value: {},
  };
  const pair: TextSpec = { key: "string", value };
  Object.assign(value, { list_value: { values: value }, tuple_value: { values: value }, dict_value: { fields: pair }, named_tuple_value: { name: "string", values: pair } });
  return value;
}
const STRUCTURED_SPEC = structuredSpec();
const FUNCTION_SPEC_SPEC: TextSpec = { fullargspec: STRUCTURED_SPEC, is_method: "word" };
/** The fields of saved_model.pbtxt the analysis reads (schemas/tensorflow.ts names the same). */
const SAVED_MODEL_TEXT_SPEC: TextSpec = {
  meta_graphs: {
    graph_def: {
      node: NODE_SPEC,
      library: { function: { signature: { name: "string", input_arg: { name: "string", number_attr: "string", type_list_attr: "string" } }, node_def: NODE_SPEC } },
    },
    saver_def: { filename_tensor_name: "string", save_tensor_name: "string", restore_op_name: "string" },
    collection_def: { key: "string", value: { node_list: { value: "string" }, any_list: { value: { type_url: "string", value: "bytes" } } } },
    signature_def: { key: "string", value: { inputs: { key: "string", value: TENSOR_INFO_SPEC }, outputs: { key: "string", value: TENSOR_INFO_SPEC }, defaults: { key: "string" } } },
    asset_file_def: { tensor_info: TENSOR_INFO_SPEC, filename: "string" },
    object_graph_def: {
      nodes: {
        children: OBJECT_REFERENCE_SPEC,
        dependencies: OBJECT_REFERENCE_SPEC,
        user_object: { identifier: "string", metadata: "string" },
        asset: {},
        function: { concrete_functions: "string", function_spec: FUNCTION_SPEC_SPEC },
        bare_concrete_function: { concrete_function_name: "string", function_spec: FUNCTION_SPEC_SPEC },
        saveable_objects: { key: "string", value: { save_function: "word", restore_function: "word" } },
      },
      concrete_functions: { key: "string", value: { bound_inputs: "word", canonicalized_input_signature: STRUCTURED_SPEC } },
    },
  },
};

export const scanSavedModelText: FormatScanner = async (source: ByteSource, ctx: ScanContext) => {
  const notAnalysed = "text-format SavedModel (saved_model.pbtxt), which tf.saved_model.load reads when saved_model.pb is absent, was not analysed";
  if (source.size > MAX_SAVED_MODEL_TEXT_BYTES) {
    ctx.report("MG234", `${notAnalysed}: it is ${source.size} bytes, more than the reader's bound of ${MAX_SAVED_MODEL_TEXT_BYTES}`);
    return;
  }
  let model: SavedModel;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(await readAll(source));
    model = savedModelFromText(parseProtoText(text, SAVED_MODEL_TEXT_SPEC));
  } catch (err) {
    if (err instanceof ProtoTextError) ctx.report(err.tooDeep ? "MG234" : "MG243", `${notAnalysed}: ${err.message}`);
    else if (err instanceof TypeError) ctx.report("MG243", `${notAnalysed}: it is not UTF-8 text`);
    else throw err;
    return;
  }
  analyseSavedModel(model, ctx);
};

/**
 * The kept text as the decoder's shapes. A single field given twice is refused, as for the binary
 * form: Python's parser merges messages and keeps the last scalar, C++'s refuses, and either way
 * part of what a loader reads would be judged under another reading.
 */
function savedModelFromText(root: TextMessage): SavedModel {
  const node = (m: TextMessage): NodeDef => ({ name: str(m, "name"), op: str(m, "op"), input: strs(m, "input"), attr: attrMap(m, "attr") });
  return {
    meta_graphs: msgs(root, "meta_graphs").map((mg) => {
      const graph = msg(mg, "graph_def");
      const library = graph && msg(graph, "library");
      const objects = msg(mg, "object_graph_def");
      const saver = msg(mg, "saver_def");
      return {
        graph_def: graph && {
          node: msgs(graph, "node").map(node),
          library: library && {
            function: msgs(library, "function").map((f) => {
              const sig = msg(f, "signature");
              const arg = (a: TextMessage) => ({ name: str(a, "name"), number_attr: str(a, "number_attr"), type_list_attr: str(a, "type_list_attr") });
              return { signature: sig && { name: str(sig, "name"), input_arg: msgs(sig, "input_arg").map(arg) }, node_def: msgs(f, "node_def").map(node) };
            }),
          },
        },
        saver_def: saver && { filename_tensor_name: str(saver, "filename_tensor_name"), save_tensor_name: str(saver, "save_tensor_name"), restore_op_name: str(saver, "restore_op_name") },
        collection_def: msgs(mg, "collection_def").map((e) => {
          const nodes = optional(msg(e, "value"), (v) => msg(v, "node_list"));
          const packed = optional(msg(e, "value"), (v) => msg(v, "any_list"));
          const any = (a: TextMessage) => ({ type_url: str(a, "type_url"), value: str(a, "value") });
          return { key: str(e, "key"), value: { node_list: nodes && { value: strs(nodes, "value") }, any_list: packed && { value: msgs(packed, "value").map(any) } } };
        }),
        signature_def: msgs(mg, "signature_def").map((e) => {
          const sig = msg(e, "value");
          const infos = (field: string) => (sig ? msgs(sig, field).map((i) => ({ key: str(i, "key"), value: optional(msg(i, "value"), tensorInfo) })) : []);
          return { key: str(e, "key"), value: sig && { inputs: infos("inputs"), outputs: infos("outputs"), defaults: msgs(sig, "defaults").map((d) => ({ key: str(d, "key") })) } };
        }),
        asset_file_def: msgs(mg, "asset_file_def").map((a) => ({ tensor_info: optional(msg(a, "tensor_info"), tensorInfo), filename: str(a, "filename") })),
        object_graph_def: objects && {
          nodes: msgs(objects, "nodes").map(savedObject),
          concrete_functions: msgs(objects, "concrete_functions").map((e) => {
            const value = msg(e, "value");
            return {
              key: str(e, "key"),
              value: value && { bound_inputs: strs(value, "bound_inputs").map(index), canonicalized_input_signature: optional(msg(value, "canonicalized_input_signature"), structuredValue) },
            };
          }),
        },
      };
    }),
  };
}

function savedObject(o: TextMessage): SavedObject {
  const user = msg(o, "user_object");
  const fn = msg(o, "function");
  const bare = msg(o, "bare_concrete_function");
  const reference = (r: TextMessage) => ({ node_id: index(str(r, "node_id") || "0"), local_name: str(r, "local_name") });
  return {
    children: msgs(o, "children").map(reference),
    dependencies: msgs(o, "dependencies").map(reference),
    user_object: user && { identifier: str(user, "identifier"), metadata: str(user, "metadata") },
    asset: msg(o, "asset"),
    function: fn && { concrete_functions: strs(fn, "concrete_functions"), function_spec: optional(msg(fn, "function_spec"), functionSpec) },
    bare_concrete_function: bare && { concrete_function_name: str(bare, "concrete_function_name"), function_spec: optional(msg(bare, "function_spec"), functionSpec) },
    saveable_objects: msgs(o, "saveable_objects").map((e) => {
      const v = msg(e, "value");
      return { key: str(e, "key"), value: v && { save_function: index(str(v, "save_function") || "0"), restore_function: index(str(v, "restore_function") || "0") } };
    }),
  };
}

function functionSpec(m: TextMessage): FunctionSpec {
  return { fullargspec: optional(msg(m, "fullargspec"), structuredValue), is_method: bool(str(m, "is_method")) };
}

/** Only the kinds the text gives, as protobufjs leaves absent fields off the decoded value; nested ones read in turn. */
function structuredValue(m: TextMessage): StructuredValue {
  const pairs = (v: TextMessage, field: string): StructuredPair[] => msgs(v, field).map((p) => ({ key: str(p, "key"), value: optional(msg(p, "value"), structuredValue) }));
  const out: Record<string, unknown> = {};
  for (const [kind, given] of m) {
    const v = single(given, kind)!;
    if (typeof v === "string") out[kind] = v;
    else if (kind === "list_value" || kind === "tuple_value") out[kind] = { values: msgs(v, "values").map(structuredValue) };
    else if (kind === "dict_value") out[kind] = { fields: pairs(v, "fields") };
    else if (kind === "named_tuple_value") out[kind] = { name: str(v, "name"), values: pairs(v, "values") };
    else out[kind] = {}; // a spec or a tensor: only its presence is read
  }
  return out as StructuredValue;
}

/** A TensorProto's value fields, with dtype and dimensions as numbers (NaN where the text spells them otherwise than plainly). */
function tensorValue(m: TextMessage): TensorValue {
  const shape = msg(m, "tensor_shape");
  return {
    dtype: dataType(str(m, "dtype")),
    tensor_shape: shape && { dim: msgs(shape, "dim").map((d) => ({ size: plainInteger(str(d, "size")) })), unknown_rank: bool(str(shape, "unknown_rank")) },
    tensor_content: str(m, "tensor_content"),
    string_val: strs(m, "string_val"),
  };
}

/** The DataType names the analysis reads (types.proto); any other name is read as unknown. */
const DATA_TYPE_NAMES: Readonly<Record<string, number>> = { DT_INVALID: 0, DT_STRING: 7 };

function dataType(word: string): number {
  return own(DATA_TYPE_NAMES, word) ?? plainInteger(word);
}

/** An integer in plain decimal (absent is 0); NaN for hex, octal and other spellings the parsers may read differently. */
function plainInteger(word: string): number {
  return word === "" ? 0 : /^(0|-?[1-9]\d{0,15})$/.test(word) ? Number(word) : NaN;
}

/** A bool as both parsers spell it; anything else is not read with certainty. */
function bool(word: string): boolean {
  if (["", "false", "False", "f", "0"].includes(word)) return false;
  if (["true", "True", "t", "1"].includes(word)) return true;
  throw new ProtoTextError(`"${word}" is not a bool`);
}

function tensorInfo(m: TextMessage): TensorInfo {
  const sparse = msg(m, "coo_sparse");
  const composite = msg(m, "composite_tensor");
  return {
    name: str(m, "name"),
    coo_sparse: sparse && { values_tensor_name: str(sparse, "values_tensor_name"), indices_tensor_name: str(sparse, "indices_tensor_name"), dense_shape_tensor_name: str(sparse, "dense_shape_tensor_name") },
    composite_tensor: composite && { components: msgs(composite, "components").map(tensorInfo) },
  };
}

function optional<T>(m: TextMessage | undefined, read: (m: TextMessage) => T): T | undefined {
  return m && read(m);
}

/** A map<string, AttrValue> field, as its entries. */
function attrMap(m: TextMessage, field: string): AttrEntry[] {
  return msgs(m, field).map((e) => {
    const v = msg(e, "value");
    const list = v && msg(v, "list");
    const func = v && msg(v, "func");
    const tensor = v && msg(v, "tensor");
    return {
      key: str(e, "key"),
      value: v && {
        s: str(v, "s"),
        func: func && nameAttrList(func),
        list: list && { s: strs(list, "s"), func: msgs(list, "func").map(nameAttrList) },
        tensor: tensor && tensorValue(tensor),
      },
    };
  });
}

function nameAttrList(m: TextMessage): NameAttrList {
  return { name: str(m, "name"), attr: attrMap(m, "attr") };
}

/** An index in text: plain decimal only, since the parsers read octal and hex spellings differently. */
function index(word: string): number {
  if (!/^(0|[1-9]\d{0,8})$/.test(word)) throw new ProtoTextError(`"${word}" is not a plain decimal index`);
  return Number(word);
}

function msgs(m: TextMessage, field: string): TextMessage[] {
  return (m.get(field) ?? []) as TextMessage[];
}

function strs(m: TextMessage, field: string): string[] {
  return (m.get(field) ?? []) as string[];
}

function single<T>(values: T[], field: string): T | undefined {
  if (values.length > 1) throw new ProtoTextError(`the single field ${field} is given ${values.length} times in one message`);
  return values[0];
}

function msg(m: TextMessage, field: string): TextMessage | undefined {
  return single(msgs(m, field), field);
}

function str(m: TextMessage, field: string): string {
  return single(strs(m, field), field) ?? "";
}

function analyseSavedModel(model: SavedModel, ctx: ScanContext): void {
  if (model.meta_graphs.length === 0) {
    ctx.report("MG243", "SavedModel decodes but has no meta graph: TensorFlow cannot load it, and it was not analysed");
    return;
  }
  const ops = new OpTally();
  model.meta_graphs.forEach((mg, i) => {
    const where = model.meta_graphs.length > 1 ? `meta graph ${i}` : "the graph";
    // Keras layers saved by TF 2.0–2.4 carry their config (Lambda bytecode included) here.
    mg.object_graph_def?.nodes.forEach((node, n) => {
      const user = node.user_object;
      if (user?.metadata) checkKerasConfigText(user.metadata, ctx, `${where} object ${n} (${user.identifier}) metadata`);
    });
    const assets = readAssets(mg, ctx, where);
    reportAssetFiles(assets, ctx, where);
    const graph = mg.graph_def;
    if (!graph) return;
    const scopes = pathScopes(mg, graph, assets.fed);
    ops.addGraph(scopes.graph, where);
    for (const c of scopes.functions) ops.addScope(c.scope, `function "${c.name}"`);
  });
  ops.report(ctx);
}

/** A meta graph's assets: the ones the loaders feed, and every one either list names, with the field naming it. */
interface Assets {
  fed: readonly AssetFileDef[];
  named: readonly { asset: AssetFileDef; field: string }[];
}

/** The collection TF1's builder lists assets in; loaders read it when asset_file_def is empty. */
const ASSETS_COLLECTION = "saved_model_assets";
/** What Any.Unpack compares an Any's type_url (its last "/" part) with. */
const ASSET_FILE_DEF_TYPE = "tensorflow.AssetFileDef";

/**
 * The assets as loader_impl.get_asset_tensors reads them: asset_file_def, or when that is empty the
 * AssetFileDefs packed in collection saved_model_assets (a map: its last entry). One that does not
 * unpack is reported, never guessed at.
 */
function readAssets(mg: MetaGraphDef, ctx: ScanContext, where: string): Assets {
  const named = mg.asset_file_def.map((asset, i) => ({ asset, field: `asset_file_def[${i}]` }));
  let collected: AssetFileDef[] = [];
  mg.collection_def.forEach(({ key, value }, e) => {
    if (key !== ASSETS_COLLECTION) return;
    collected = [];
    value?.any_list?.value.forEach((any, i) => {
      if (any.type_url.split("/").at(-1) !== ASSET_FILE_DEF_TYPE) return;
      const field = `collection_def[${e}] ("${ASSETS_COLLECTION}") any_list.value[${i}]`;
      const asset = unpackAsset(any.value);
      if (!asset) {
        ctx.report("MG243", "TensorFlow asset list entry does not decode as an AssetFileDef, so the asset the loader feeds there was not analysed", { evidence: `${field} in ${where}` });
        return;
      }
      named.push({ asset, field });
      collected.push(asset);
    });
  });
  return { fed: mg.asset_file_def.length > 0 ? mg.asset_file_def : collected, named };
}

function unpackAsset(bytes: AttrBytes): AssetFileDef | undefined {
  const raw = rawBytes(bytes);
  const type = tensorflowTypes()["tensorflow.AssetFileDef"];
  try {
    return wireDifferential(type, raw) === undefined ? (type.decode(raw) as unknown as AssetFileDef) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Both loaders join an asset's filename to the model's assets folder with os.path.join semantics, so an
 * absolute or climbing filename hands the graph's vocabulary ops a file outside the model.
 */
function reportAssetFiles(assets: Assets, ctx: ScanContext, where: string): void {
  for (const { asset, field } of assets.named) {
    const escape = escapesFolder(asset.filename);
    if (escape) {
      ctx.report("MG241", `TensorFlow asset "${asset.filename}" is ${escape}: the loader joins it to the model's assets folder and hands the graph whatever file that names`, {
        evidence: `${field}.filename in ${where}`,
      });
    }
  }
}

// ---------------------------------------------------------------- where a path comes from

/** A graph or one library function as one caller runs it: its nodes by name, and the names whose values that caller supplies. */
interface Scope {
  /** Every node, in order: two may share a name (TensorFlow refuses that, but the scan must not drop one). */
  list: readonly NodeDef[];
  nodes: ReadonlyMap<string, NodeDef>;
  /** Function arguments shown loader-fed (filled by `feedArguments`); in the top-level graph, the tensors the loader step running it feeds. */
  fed: Set<string>;
  /** Variables whose value is only ever a fed tensor assigned in this scope: handle node → the assigned inputs. */
  assignedOnly: ReadonlyMap<string, readonly string[]>;
  /** Where an assigned value is judged, when not here: another loader step may have run the assignment. */
  assignedIn?: Scope;
}

/** The top-level graph: each node with the scopes it runs in, one per loader step that reaches it, or the one nothing feeds. */
interface TopGraph {
  list: readonly NodeDef[];
  scopesOf: ReadonlyMap<NodeDef, readonly Scope[]>;
}

/** One way a TF1 loader (or a signature's caller) runs the top-level graph: what it fetches, and the tensors it feeds. */
interface GraphStep {
  fetches: readonly string[];
  feeds: readonly string[];
}

/** How TF2's loader hands out a function from the object graph: for the user to call, or to call itself with values it reads. */
type ObjectCall = "user" | "loader";

/** A library function and every way it is reached. */
interface Callee {
  name: string;
  args: readonly string[];
  scope: Scope;
  /** Nodes that run it on their own inputs (a node whose op is its name, or a call op's "f"), with the caller's scope. */
  calls: { caller: Scope; inputs: readonly string[] }[];
  /** Reached some other way (a branch, a loop body, a dataset map, a list argument…): what its arguments hold is unknown. */
  opaque: boolean;
  /** TF2's loader binds objects to its trailing arguments: argument index → whether that object is an asset. */
  bound: Map<number, boolean>;
  /** Named by the object graph: "loader" when the loader itself calls it anywhere, even if a user could too. */
  objectCall?: ObjectCall;
  /** Arguments a function object holding it fills in with a saved default when its caller leaves them out. */
  defaulted: Set<number>;
}

/** Ops that run the function their attr "f" names on their own inputs, in order. */
const CALL_OPS: ReadonlySet<string> = new Set(["PartitionedCall", "StatefulPartitionedCall"]);
/** Ops that make a variable handle from a name; two with one shared_name are one variable. */
const VARIABLE_HANDLE_OPS: ReadonlySet<string> = new Set(["VarHandleOp", "_VarHandlesOp"]);
/** Rounds of argument propagation (CWE-400); each round follows calls one level at least, and TensorFlow nests two or three. */
const MAX_CALL_ROUNDS = 16;
/** Signatures judged one by one (CWE-400: each is a walk of the graph); the rest are judged as one, fed only what all of them feed. */
const MAX_SIGNATURE_STEPS = 64;
/** Collections whose op TF1 loaders run at load as the init op (loader_impl.get_init_op), fed the asset tensors. */
const INIT_COLLECTIONS: ReadonlySet<string> = new Set(["saved_model_main_op", "legacy_init_op"]);
/** With no init op, load_v1_in_v2 runs Scaffold's default, which holds this collection's table initializers. */
const TABLE_INITIALIZERS = "table_initializer";
/** The signature TF2 writes its init op under; TF1 loaders look for it first. */
const INIT_SIGNATURE = "__saved_model_init_op";
/**
 * An object's edges whose function TF2's loader calls itself, without the user: a resource's
 * creator, initializer and destroyer. An argument it does not bind takes the saved default.
 */
const LOADER_CALLED_EDGES: ReadonlySet<string> = new Set(["_create_resource", "_initialize", "_destroy_resource"]);

function pathScopes(mg: MetaGraphDef, graph: GraphDef, assets: readonly AssetFileDef[]): { graph: TopGraph; functions: Callee[] } {
  const functions = graph.library?.function ?? [];
  const aliased = aliasedVariables([graph.node, ...functions.map((f) => f.node_def)]);
  const top = topGraph(mg, assets, graph.node, aliased);
  const callees = functions.map((f) => callee(f, makeScope(f.node_def, new Set(), aliased)));
  const byName = new Map<string, Callee[]>();
  for (const c of callees) byName.set(c.name, [...(byName.get(c.name) ?? []), c]);
  for (const n of top.list) for (const scope of top.scopesOf.get(n) ?? []) recordCalls(n, scope, byName);
  for (const c of callees) for (const n of c.scope.list) recordCalls(n, c.scope, byName);
  bindCaptures(mg, byName);
  markObjectCalls(mg, byName);
  markDefaults(mg, byName);
  feedArguments(callees);
  return { graph: top, functions: callees };
}

/**
 * The top-level graph's nodes with the loader steps that run them. A node no step reaches runs only
 * when someone names it, fed who knows what, so it is judged with nothing fed. A variable's assigned
 * value is judged that way too: the step that ran the assignment may not be the one reading it.
 */
function topGraph(mg: MetaGraphDef, assets: readonly AssetFileDef[], list: readonly NodeDef[], aliased: ReadonlySet<string>): TopGraph {
  const unfed = makeScope(list, new Set(), aliased);
  const producers = new Map<string, NodeDef[]>();
  for (const n of list) producers.set(n.name, [...(producers.get(n.name) ?? []), n]);
  const steps = graphSteps(mg, assets).map((step) => ({
    scope: { ...unfed, fed: new Set(step.feeds.map(nodeName)), assignedIn: unfed },
    reached: reach(step.fetches, producers),
  }));
  const scopesOf = new Map<NodeDef, Scope[]>();
  for (const n of list) {
    const running = steps.filter((s) => s.reached.has(n.name)).map((s) => s.scope);
    scopesOf.set(n, running.length > 0 ? running : [unfed]);
  }
  return { list, scopesOf };
}

/**
 * How TF1 loaders run the top-level graph (loader_impl.py, load_v1_in_v2.py), each step fed only its
 * own tensors: the saver's restore op (and Saver.save's save tensor) the filename tensor; the init
 * op (the __saved_model_init_op signature, else the main-op collections, else the table
 * initializers) the asset tensors; each signature's outputs its inputs, less those with a default
 * (a value the SavedModel supplies).
 */
function graphSteps(mg: MetaGraphDef, assets: readonly AssetFileDef[]): GraphStep[] {
  const saver = mg.saver_def;
  const fedAssets = assets.flatMap((a) => (a.tensor_info ? tensorNames(a.tensor_info) : []));
  const collections = lastByKey(mg.collection_def);
  const listed = (keys: ReadonlySet<string>) => collections.filter((c) => keys.has(c.key)).flatMap((c) => c.value?.node_list?.value ?? []);
  const init = listed(INIT_COLLECTIONS);
  const signatures: GraphStep[] = [];
  for (const { key, value } of lastByKey(mg.signature_def)) {
    if (!value) continue;
    const outputs = value.outputs.flatMap((o) => (o.value ? tensorNames(o.value) : []));
    if (key === INIT_SIGNATURE) {
      init.push(...outputs);
      continue;
    }
    const defaulted = new Set(value.defaults.map((d) => d.key));
    signatures.push({ fetches: outputs, feeds: value.inputs.flatMap((i) => (i.value && !defaulted.has(i.key) ? tensorNames(i.value) : [])) });
  }
  const steps: GraphStep[] = [{ fetches: init.length > 0 ? init : listed(new Set([TABLE_INITIALIZERS])), feeds: fedAssets }];
  if (saver) steps.push({ fetches: [saver.restore_op_name, saver.save_tensor_name], feeds: saver.filename_tensor_name ? [saver.filename_tensor_name] : [] });
  if (signatures.length <= MAX_SIGNATURE_STEPS) return [...steps, ...signatures];
  const rest = signatures.slice(MAX_SIGNATURE_STEPS - 1);
  const everywhere = rest.slice(1).reduce((fed, s) => {
    const feeds = new Set(s.feeds);
    return fed.filter((f) => feeds.has(f));
  }, rest[0]!.feeds);
  return [...steps, ...signatures.slice(0, MAX_SIGNATURE_STEPS - 1), { fetches: rest.flatMap((s) => s.fetches), feeds: everywhere }];
}

/** A map's entries as protobuf reads the map: a key given twice keeps its last value. */
function lastByKey<T extends { key: string }>(entries: readonly T[]): T[] {
  return [...new Map(entries.map((e) => [e.key, e])).values()];
}

/** The graph tensors a TensorInfo names: one, or a sparse or composite tensor's parts. */
function tensorNames(info: TensorInfo): string[] {
  const sparse = info.coo_sparse ? [info.coo_sparse.values_tensor_name, info.coo_sparse.indices_tensor_name, info.coo_sparse.dense_shape_tensor_name] : [];
  // Both readers refuse nesting past 100, so the components' recursion is bounded already.
  const parts = (info.composite_tensor?.components ?? []).flatMap(tensorNames);
  return [info.name, ...sparse, ...parts].filter((name) => name !== "");
}

/**
 * The names of the nodes `fetches` need, through data and control inputs. TensorFlow stops at the
 * tensors it feeds; going past them only judges more nodes under this step's feeds, never fewer.
 */
function reach(fetches: readonly string[], producers: ReadonlyMap<string, readonly NodeDef[]>): Set<string> {
  const seen = new Set<string>();
  const todo = fetches.filter((f) => f !== "").map(nodeName);
  for (let name = todo.pop(); name !== undefined; name = todo.pop()) {
    if (seen.has(name)) continue;
    seen.add(name);
    for (const n of producers.get(name) ?? []) for (const input of n.input) todo.push(nodeName(input));
  }
  return seen;
}

function makeScope(list: readonly NodeDef[], fed: Set<string>, aliased: ReadonlySet<string>): Scope {
  return { list, nodes: byName(list), fed, assignedOnly: assignedOnly(list, aliased) };
}

function callee(f: FunctionDef, scope: Scope): Callee {
  const args = f.signature?.input_arg ?? [];
  // A list argument takes a varying number of inputs, so call inputs no longer line up with arguments.
  const opaque = args.some((a) => a.number_attr || a.type_list_attr);
  return { name: f.signature?.name ?? "", args: args.map((a) => a.name), scope, calls: [], opaque, bound: new Map(), defaulted: new Set() };
}

/** Notes every function node `n` reaches: called on its inputs, or (through any other attr) opaquely. */
function recordCalls(n: NodeDef, scope: Scope, byName: ReadonlyMap<string, Callee[]>): void {
  const inputs = n.input.filter((i) => !i.startsWith("^"));
  for (const c of byName.get(n.op) ?? []) c.calls.push({ caller: scope, inputs });
  for (const { key, value } of n.attr) {
    if (!value) continue;
    const direct = CALL_OPS.has(n.op) && key === "f" ? value.func?.name : undefined;
    if (direct !== undefined) for (const c of byName.get(direct) ?? []) c.calls.push({ caller: scope, inputs });
    for (const name of functionNames(value, direct === undefined)) for (const c of byName.get(name) ?? []) c.opaque = true;
  }
}

/** Every function an attr value names, at any depth; its own `func` left out unless `withOwn`. */
function functionNames(value: AttrValue, withOwn: boolean): string[] {
  const lists: NameAttrList[] = [...(value.list?.func ?? [])];
  if (value.func) lists.push(withOwn ? value.func : { name: "", attr: value.func.attr });
  return lists.flatMap((l) => [...(l.name ? [l.name] : []), ...l.attr.flatMap((e) => (e.value ? functionNames(e.value, true) : []))]);
}

/**
 * TF2's loader calls concrete functions with the objects `bound_inputs` names as their last
 * arguments: an asset's path is the loader's, anything else (a saved constant, a variable) is not.
 */
function bindCaptures(mg: MetaGraphDef, byName: ReadonlyMap<string, Callee[]>): void {
  const objects = mg.object_graph_def;
  for (const { key, value } of objects?.concrete_functions ?? []) {
    const bound = value?.bound_inputs ?? [];
    for (const c of byName.get(key) ?? []) {
      const first = c.args.length - bound.length;
      if (first < 0) c.opaque = true;
      // A key given twice: protobuf keeps the last, this keeps the stricter.
      bound.forEach((node, j) => c.bound.set(first + j, c.bound.get(first + j) !== false && Boolean(objects?.nodes[node]?.asset)));
    }
  }
}

/**
 * Who calls the functions the object graph names (load.py). The loader calls a saveable's save and
 * restore functions itself — restore with tensors read from the checkpoint, which the model's
 * author wrote — and a resource's creator, initializer and destroyer with no value from the user.
 * Any other function object is the user's to call, with arguments of their choosing.
 */
function markObjectCalls(mg: MetaGraphDef, byName: ReadonlyMap<string, Callee[]>): void {
  const objects = mg.object_graph_def?.nodes ?? [];
  const named = (id: number): string[] => (objects[id] ? functionsOf(objects[id]) : []);
  const byLoader = new Set<string>();
  for (const o of objects) {
    for (const { value } of o.saveable_objects) if (value) for (const f of [...named(value.save_function), ...named(value.restore_function)]) byLoader.add(f);
    for (const edge of [...o.children, ...o.dependencies]) if (LOADER_CALLED_EDGES.has(edge.local_name)) for (const f of named(edge.node_id)) byLoader.add(f);
  }
  for (const o of objects) for (const f of functionsOf(o)) for (const c of byName.get(f) ?? []) c.objectCall ??= "user";
  for (const f of byLoader) for (const c of byName.get(f) ?? []) c.objectCall = "loader";
}

/** The concrete functions a function object (a tf.function or a bare concrete function) stands for. */
function functionsOf(o: SavedObject): string[] {
  const bare = o.bare_concrete_function?.concrete_function_name;
  return [...(o.function?.concrete_functions ?? []), ...(bare ? [bare] : [])];
}

/** A default the scan cannot place: every argument of the function is taken to have one. */
const UNKNOWN = "unknown";
/** A function's parameters as its FunctionSpec lists them (positional ones in order) and those with a saved default, by sanitized name. */
interface SavedDefaults {
  positional: readonly string[];
  defaulted: ReadonlySet<string>;
}
type Defaults = SavedDefaults | typeof UNKNOWN;

/**
 * The arguments whose saved default TF2's loader fills in when a user calls a function object
 * and leaves them out (function_deserialization.py: the FunctionSpec's fullargspec), as
 * concrete-function argument indices. Only for a Python default other than None: a None where a
 * tensor is traced matches no concrete function, so the call fails unless the user passes a value.
 */
function markDefaults(mg: MetaGraphDef, byName: ReadonlyMap<string, Callee[]>): void {
  const traces = new Map<string, SavedConcreteFunction[]>();
  for (const { key, value } of mg.object_graph_def?.concrete_functions ?? []) if (value) traces.set(key, [...(traces.get(key) ?? []), value]);
  for (const o of mg.object_graph_def?.nodes ?? []) {
    const held: [string[], FunctionSpec | null | undefined][] = [
      [o.function?.concrete_functions ?? [], o.function?.function_spec],
      [o.bare_concrete_function ? [o.bare_concrete_function.concrete_function_name] : [], o.bare_concrete_function?.function_spec],
    ];
    for (const [names, spec] of held) {
      const defaults = spec ? savedDefaults(spec) : undefined;
      if (defaults === undefined || (defaults !== UNKNOWN && defaults.defaulted.size === 0)) continue;
      for (const name of names) for (const c of byName.get(name) ?? []) markDefaulted(c, defaults, traces.get(name) ?? []);
    }
  }
}

/** Marks the arguments of `c` that `defaults` fill in, or all but its captures when the trace cannot be lined up with them. */
function markDefaulted(c: Callee, defaults: Defaults, traces: readonly SavedConcreteFunction[]): void {
  const captured = Math.max(0, ...traces.map((t) => t.bound_inputs.length));
  const inputs = c.args.length - captured;
  // A key given twice: protobuf keeps the last, which the scan cannot tell from the first.
  const indices = traces.length === 1 && defaults !== UNKNOWN ? defaultedInputs(defaults, traces[0]!.canonicalized_input_signature, inputs) : UNKNOWN;
  for (let i = 0; i < inputs; i++) if (indices === UNKNOWN || indices.has(i)) c.defaulted.add(i);
}

/**
 * A FunctionSpec's parameters with a default other than None, as function_type_utils reads
 * fullargspec: `self` dropped, `defaults` zipped with the last arguments, `kwonlydefaults` added by
 * name, every name sanitized. UNKNOWN when the spec cannot be read with certainty.
 */
function savedDefaults(spec: FunctionSpec): Defaults {
  const argspec = namedTupleFields(spec.fullargspec);
  if (!argspec) return UNKNOWN;
  const defaults = argspec.get("defaults");
  const positional = defaults === undefined || isNone(defaults) ? [] : sequence(defaults);
  const keyword = argspec.get("kwonlydefaults");
  const byKeyword = keyword === undefined || isNone(keyword) ? [] : kindOf(keyword) === "dict_value" ? lastByKey(keyword.dict_value!.fields) : undefined;
  if (!positional || !byKeyword) return UNKNOWN;
  if (positional.length === 0 && byKeyword.length === 0) return { positional: [], defaulted: new Set() };
  const listed = sequence(argspec.get("args") ?? {})?.map((a) => (kindOf(a) === "string_value" ? a.string_value! : undefined));
  if (!listed || listed.some((a) => a === undefined)) return UNKNOWN;
  const args = listed as string[];
  const params = spec.is_method || args[0] === "self" ? args.slice(1) : args;
  // Python's zip(args[-n:], defaults): the last n arguments, or all of them when there are more defaults.
  const named = (positional.length > 0 ? params.slice(-positional.length) : []).map((name, i) => ({ name, value: positional[i] }));
  const given = [...named, ...byKeyword.map((p) => ({ name: p.key, value: p.value ?? undefined }))].filter((d) => d.value === undefined || !isNone(d.value));
  const sanitized = [...params, ...given.map((d) => d.name)].map(sanitizedName);
  if (sanitized.some((n) => n === undefined)) return UNKNOWN;
  return { positional: sanitized.slice(0, params.length) as string[], defaulted: new Set(sanitized.slice(params.length) as string[]) };
}

/**
 * Which of a concrete function's first `inputs` arguments come from a defaulted parameter. Its
 * canonicalized_input_signature is (positional values, keyword values): the positional ones line up
 * with the parameters, the keyword ones are named; each traced TensorSpec is one argument, in
 * nest.flatten order (keyword names and dict keys sorted), and a Python value traced in is none.
 */
function defaultedInputs(defaults: SavedDefaults, signature: StructuredValue | null | undefined, inputs: number): Set<number> | typeof UNKNOWN {
  const [args, kwargs, ...rest] = sequence(signature ?? {}) ?? [];
  const positional = args && rest.length === 0 ? sequence(args) : undefined;
  const keyword = kwargs && kindOf(kwargs) === "dict_value" ? sortedByKey(lastByKey(kwargs.dict_value!.fields)) : undefined;
  if (!positional || !keyword) return UNKNOWN;
  // Positional values past the named parameters are *args, which take no default.
  const params = positional.map((value, i) => ({ value, defaulted: i < defaults.positional.length && defaults.defaulted.has(defaults.positional[i]!) }));
  for (const p of keyword) {
    const name = sanitizedName(p.key);
    if (name === undefined || !p.value) return UNKNOWN;
    params.push({ value: p.value, defaulted: defaults.defaulted.has(name) });
  }
  const out = new Set<number>();
  let at = 0;
  for (const p of params) {
    const n = tensorCount(p.value);
    if (n === undefined) return UNKNOWN;
    if (p.defaulted) for (let i = at; i < at + n; i++) out.add(i);
    at += n;
  }
  return at === inputs ? out : UNKNOWN;
}

/** The kinds of a StructuredValue; TensorFlow's own readers keep one (the last), so two or none is a value not read with certainty. */
const STRUCTURED_KINDS = [
  "none_value", "float64_value", "int64_value", "string_value", "bool_value", "tensor_shape_value", "tensor_dtype_value", "tensor_spec_value",
  "type_spec_value", "bounded_tensor_spec_value", "list_value", "tuple_value", "dict_value", "named_tuple_value", "tensor_value", "numpy_value",
] as const;
type StructuredKind = (typeof STRUCTURED_KINDS)[number];

function kindOf(v: StructuredValue): StructuredKind | undefined {
  const kinds = STRUCTURED_KINDS.filter((k) => Object.hasOwn(v, k) && v[k] !== null && v[k] !== undefined);
  return kinds.length === 1 ? kinds[0] : undefined;
}

function isNone(v: StructuredValue): boolean {
  return kindOf(v) === "none_value";
}

/** A list's or tuple's values; undefined for any other kind. */
function sequence(v: StructuredValue): StructuredValue[] | undefined {
  const kind = kindOf(v);
  return kind === "list_value" || kind === "tuple_value" ? v[kind]!.values : undefined;
}

/** A named tuple's fields by name; undefined for another kind or a name given twice (Python's namedtuple refuses it). */
function namedTupleFields(v: StructuredValue | null | undefined): Map<string, StructuredValue> | undefined {
  if (!v || kindOf(v) !== "named_tuple_value") return undefined;
  const fields = new Map<string, StructuredValue>();
  for (const { key, value } of v.named_tuple_value!.values) {
    if (fields.has(key) || !value) return undefined;
    fields.set(key, value);
  }
  return fields;
}

/**
 * How many arguments a traced value becomes: one per TensorSpec, none for a Python value traced in,
 * the sum over a container's values (nest.flatten). Undefined for a composite or other spec, whose
 * components the scan does not count, and for a value of no single kind.
 */
function tensorCount(v: StructuredValue, depth = 0): number | undefined {
  const kind = kindOf(v);
  if (kind === undefined || depth > MAX_STRUCTURE_DEPTH) return undefined;
  if (kind === "tensor_spec_value" || kind === "bounded_tensor_spec_value") return 1;
  if (TRACED_IN.has(kind)) return 0;
  const values =
    kind === "list_value" || kind === "tuple_value" ? v[kind]!.values
    : kind === "dict_value" ? sortedByKey(lastByKey(v.dict_value!.fields)).map((p) => p.value)
    : kind === "named_tuple_value" ? v.named_tuple_value!.values.map((p) => p.value)
    : undefined;
  if (!values) return undefined; // a composite spec or a tensor value
  let count = 0;
  for (const value of values) {
    const n = value ? tensorCount(value, depth + 1) : undefined;
    if (n === undefined) return undefined;
    count += n;
  }
  return count;
}

/** Python values a trace holds as constants, not arguments. */
const TRACED_IN: ReadonlySet<StructuredKind> = new Set(["none_value", "float64_value", "int64_value", "string_value", "bool_value", "tensor_shape_value", "tensor_dtype_value"]);
/** How deep a traced structure is walked (both readers stop at 100 already; this keeps the recursion small). */
const MAX_STRUCTURE_DEPTH = 100;

/** Entries sorted by key as Python sorts strings (by code point), which nest.flatten does to a dict. */
function sortedByKey<T extends { key: string }>(entries: readonly T[]): T[] {
  const points = (s: string) => Array.from(s, (c) => c.codePointAt(0)!);
  return [...entries].sort((a, b) => {
    const [x, y] = [points(a.key), points(b.key)];
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return x.length - y.length;
  });
}

/**
 * A parameter name as function_type.sanitize_arg_name makes it: each character not alphanumeric
 * becomes "_", and "arg_" goes before one that does not start with a letter. Undefined for an
 * empty or non-ASCII name, where Python's idea of alphanumeric is not modelled.
 */
function sanitizedName(name: string): string | undefined {
  if (name === "" || !/^[\x20-\x7e]*$/.test(name)) return undefined;
  const swapped = name.replace(/[^A-Za-z0-9]/g, "_");
  return /^[A-Za-z]/.test(swapped) ? swapped : `arg_${swapped}`;
}

/**
 * Marks the arguments that hold a loader-fed path on every way in: each call passes one, a bound
 * capture is an asset, and an argument nothing binds is one a user passes — never one the loader
 * passes from the checkpoint or the SavedModel, and not one of a function nothing calls. Starting
 * from nothing fed, a round can only add, so stopping early stays on the safe side (recursion included).
 */
function feedArguments(callees: readonly Callee[]): void {
  for (let round = 0, changed = true; changed && round < MAX_CALL_ROUNDS; round++) {
    changed = false;
    for (const c of callees) {
      c.args.forEach((arg, i) => {
        if (c.scope.fed.has(arg) || !argumentFed(c, i)) return;
        c.scope.fed.add(arg);
        changed = true;
      });
    }
  }
}

function argumentFed(c: Callee, i: number): boolean {
  const bound = c.bound.get(i);
  if (c.opaque || bound === false) return false;
  // Left out by the caller, it is the SavedModel's value (a red team's predict(x, path=…)).
  if (bound === undefined && c.defaulted.has(i)) return false;
  if (bound === undefined && (c.objectCall === "loader" || (c.objectCall === undefined && c.calls.length === 0))) return false;
  return c.calls.every((call) => call.inputs.length === c.args.length && loaderFedPath(call.inputs[i], call.caller));
}

/** Shared names held by more than one variable handle op, in any scope: such a variable can be written unseen. */
function aliasedVariables(scopes: readonly (readonly NodeDef[])[]): Set<string> {
  const seen = new Set<string>();
  const aliased = new Set<string>();
  for (const n of scopes.flat()) {
    if (!VARIABLE_HANDLE_OPS.has(n.op)) continue;
    for (const name of sharedNames(n)) (seen.has(name) ? aliased : seen).add(name);
  }
  return aliased;
}

/** The variable names a handle op gives (VarHandleOp's shared_name, _VarHandlesOp's shared_names), from every entry of a repeated key. */
function sharedNames(n: NodeDef): string[] {
  const many = n.op === "_VarHandlesOp";
  const values = n.attr.filter((e) => e.key === (many ? "shared_names" : "shared_name")).map((e) => e.value);
  if (values.length === 0 && !many) return [""];
  return values.flatMap((v) => (many ? (v?.list?.s ?? []) : [v?.s ?? ""])).map(attrText);
}

/** The bytes themselves, from either form (the text reader keeps them one character per byte). */
function rawBytes(b: AttrBytes): Uint8Array {
  return typeof b === "string" ? Buffer.from(b, "latin1") : b;
}

/** One character per byte, as the text reader keeps bytes: names compare byte for byte. */
function attrText(b: AttrBytes): string {
  return typeof b === "string" ? b : Buffer.from(b).toString("latin1");
}

/**
 * Variables (VarHandleOp nodes of `list` with a shared name of their own) used only by reads and by
 * assignments in `list`, with their assigned inputs. TF2 passes an asset's path to its initializer
 * in the top-level graph this way: assigned from the fed placeholder, then read.
 */
function assignedOnly(list: readonly NodeDef[], aliased: ReadonlySet<string>): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const n of list) if (n.op === "VarHandleOp" && !sharedNames(n).some((s) => aliased.has(s))) values.set(n.name, []);
  for (const n of list) {
    n.input.forEach((input, i) => {
      const v = input.startsWith("^") ? undefined : values.get(nodeName(input));
      if (!v) return;
      if (n.op === "AssignVariableOp" && i === 0 && n.input[1] !== undefined) v.push(n.input[1]);
      else if (n.op !== "ReadVariableOp" && n.op !== "VarIsInitializedOp") values.delete(nodeName(input));
    });
  }
  for (const [name, assigned] of values) if (assigned.length === 0) values.delete(name);
  return values;
}

function byName(nodes: readonly NodeDef[]): Map<string, NodeDef> {
  return new Map(nodes.map((n) => [n.name, n]));
}

/** "node:output:0" (functions) or "node:0" (graphs) → "node"; "^node" is a control input. */
function nodeName(input: string): string {
  return input.replace(/^\^/, "").split(":")[0]!;
}

/**
 * Ops a path flows through unchanged at its start, and the input that carries that start. Inside a
 * function nothing feeds a PlaceholderWithDefault, so its path is its default's.
 */
const PATH_KEEPERS: Readonly<Record<string, number>> = { Identity: 0, Snapshot: 0, ShardedFilename: 0, PlaceholderWithDefault: 0 };
/** How far a path is followed back (CWE-400); TensorFlow's savers reach their argument in three steps. */
const MAX_PATH_STEPS = 64;

/**
 * Whether the path in `input` starts from what the loader supplies: a function argument every
 * caller feeds, a fed tensor or a placeholder, reached through the ops TensorFlow's savers build
 * paths with (StringJoin and ShardedFilename keep their first input's start; Select and Pack need
 * every branch) or a variable only ever assigned such a path. Anything else — a constant, an op
 * computing a string — is a path the graph chooses.
 */
function loaderFedPath(input: string | undefined, scope: Scope, steps = { left: MAX_PATH_STEPS }): boolean {
  if (input === undefined || input.startsWith("^") || --steps.left < 0) return false;
  const name = nodeName(input);
  if (scope.fed.has(name)) return true;
  const node = scope.nodes.get(name);
  if (!node) return false;
  if (node.op === "Placeholder") return true;
  const keep = own(PATH_KEEPERS, node.op);
  if (keep !== undefined) return loaderFedPath(node.input[keep], scope, steps);
  const data = node.input.filter((i) => !i.startsWith("^"));
  // The loader's path with suffixes the graph spells out: each must stay below it (a red team joined "/../../…").
  if (node.op === "StringJoin") return data.length > 0 && loaderFedPath(data[0], scope, steps) && staysBelow(node) && data.slice(1).every((i) => constantSuffix(i, scope, steps));
  if (node.op === "Select" || node.op === "SelectV2") return data.length === 3 && data.slice(1).every((i) => loaderFedPath(i, scope, steps));
  if (node.op === "Pack") return data.length > 0 && data.every((i) => loaderFedPath(i, scope, steps));
  const assigned = node.op === "ReadVariableOp" && data[0] !== undefined ? scope.assignedOnly.get(nodeName(data[0])) : undefined;
  const assignedIn = scope.assignedIn ?? scope;
  return assigned !== undefined && assigned.every((i) => loaderFedPath(i, assignedIn, steps));
}

/** A StringJoin whose separator (an attr, empty by default) holds no `..`. */
function staysBelow(node: NodeDef): boolean {
  return node.attr.every((e) => e.key !== "separator" || !attrText(e.value?.s ?? "").includes(".."));
}

/**
 * Whether `input` is a string the graph holds that does not climb out of the path it is joined to:
 * a Const whose values hold no `..`, through Identity and every branch of a Select
 * (TensorFlow's savers pick "_temp/part" or ".part" that way).
 */
function constantSuffix(input: string | undefined, scope: Scope, steps: { left: number }): boolean {
  if (input === undefined || input.startsWith("^") || --steps.left < 0) return false;
  const node = scope.nodes.get(nodeName(input));
  if (!node) return false;
  const data = node.input.filter((i) => !i.startsWith("^"));
  if (node.op === "Identity") return constantSuffix(data[0], scope, steps);
  if (node.op === "Select" || node.op === "SelectV2") return data.length === 3 && data.slice(1).every((i) => constantSuffix(i, scope, steps));
  if (node.op !== "Const") return false;
  const values = node.attr.filter((e) => e.key === "value").map((e) => (e.value?.tensor ? stringTensor(e.value.tensor) : undefined));
  if (values.some((v) => v === undefined)) return false;
  const strings = values.flatMap((v) => v ?? []);
  return strings.length > 0 && strings.every((v) => !v.includes(".."));
}

/** DataType DT_STRING (types.proto). */
const DT_STRING = 7;
/** Bytes in a varint32, as TensorFlow's GetVarint32 reads at most. */
const MAX_VARINT32_BYTES = 5;

/**
 * The strings a Const's TensorProto holds, as TensorFlow's Tensor::FromProto reads them (one
 * character per byte): from tensor_content whenever that is non-empty — strings included, which a
 * red team hid "/../../…" in behind a harmless string_val — else string_val (its last value repeats
 * to fill the shape; none at all is empty strings). Undefined when they cannot be read with
 * certainty: another dtype, a shape of no known size, content that does not decode exactly.
 */
function stringTensor(t: TensorValue): string[] | undefined {
  if (t.dtype !== DT_STRING) return undefined;
  const count = elementCount(t);
  if (count === undefined) return undefined;
  if (count === 0) return [];
  if (t.tensor_content.length > 0) return decodeStringList(rawBytes(t.tensor_content), count);
  return t.string_val.length > 0 ? t.string_val.map(attrText) : [""];
}

/** The number of values a tensor's shape holds (a scalar when it has none); undefined for an unknown rank, a negative or unread size, or past 2^53. */
function elementCount(t: TensorValue): number | undefined {
  const shape = t.tensor_shape;
  if (!shape) return 1;
  if (shape.unknown_rank) return undefined;
  let count = 1;
  for (const d of shape.dim) {
    const size = Number(String(d.size));
    if (!Number.isSafeInteger(size) || size < 0) return undefined;
    count *= size;
    if (!Number.isSafeInteger(count)) return undefined;
  }
  return count;
}

/**
 * tensor_content of a string tensor as TensorFlow's DecodeStringList reads it: `count` varint32
 * lengths, then the bytes of each, which must fill the rest exactly. Undefined otherwise, and for a
 * length of 2^32 or more (TensorFlow wraps it; the scan does not guess).
 */
function decodeStringList(bytes: Uint8Array, count: number): string[] | undefined {
  if (count > bytes.length) return undefined; // every length takes a byte at least
  const lengths: number[] = [];
  let pos = 0;
  for (let i = 0; i < count; i++) {
    let value = 0;
    let n = 0;
    for (;;) {
      if (n === MAX_VARINT32_BYTES || pos >= bytes.length) return undefined;
      const byte = bytes[pos++]!;
      value += (byte & 0x7f) * 2 ** (7 * n++);
      if ((byte & 0x80) === 0) break;
    }
    if (value >= 2 ** 32) return undefined;
    lengths.push(value);
  }
  if (lengths.reduce((a, b) => a + b, 0) !== bytes.length - pos) return undefined;
  return lengths.map((length) => {
    const text = Buffer.from(bytes.subarray(pos, pos + length)).toString("latin1");
    pos += length;
    return text;
  });
}

/** The class of an op that runs in several scopes: the worst, as a path fed in one loader step may not be in another. */
function classifyIn(n: NodeDef, scopes: readonly Scope[]): TfOpClass | undefined {
  const classes = scopes.map((s) => classify(n, s));
  return classes.find((c) => c?.rule === "MG241") ?? classes[0];
}

/** The class an op is reported under: a checkpoint or vocabulary op on a path the graph chooses is a file-system op. */
function classify(n: NodeDef, scope: Scope): TfOpClass | undefined {
  const cls = own(TF_OP_CLASSES, n.op);
  if (!cls?.pathInputs || cls.pathInputs.every((i) => loaderFedPath(n.input[i], scope))) return cls;
  return { rule: "MG241", why: `${cls.why} at a path the graph itself spells out, not one the loader passes (a constant, a saved default, or computed)` };
}

const KERAS_METADATA_NAME = "keras_metadata.pb";

/** `keras_metadata.pb` by the name Keras loads it under, with a head that walks as SavedMetadata (nodes = 1). */
export function sniffKerasMetadata(head: Uint8Array, size: number, name: string): boolean {
  if (baseName(name) !== KERAS_METADATA_NAME) return false;
  const fields = headFields(head, size, { 1: WIRE.LEN });
  return fields !== undefined && fields.length > 0;
}

/** Each Keras object's metadata is the JSON config Keras rebuilds it from: walked like a Keras model config. */
export const scanKerasMetadata: FormatScanner = async (source: ByteSource, ctx: ScanContext) => {
  const metadata = await decodeOrReport<KerasSavedMetadata>(source, ctx, tensorflowTypes()["tensorflow.KerasSavedMetadata"], "keras_metadata.pb", "MG243");
  for (const node of metadata?.nodes ?? []) {
    if (node.metadata) checkKerasConfigText(node.metadata, ctx, `${node.node_path || "node"} (${node.identifier}) metadata`);
  }
};

/** Reported ops, grouped by op name and rule so a graph with a thousand ReadFile nodes yields one finding. */
class OpTally {
  private readonly seen = new Map<string, { op: string; cls: TfOpClass; nodes: string[]; count: number }>();

  addScope(scope: Scope, where: string): void {
    for (const n of scope.list) this.add(n, [scope], where);
  }

  addGraph(graph: TopGraph, where: string): void {
    for (const n of graph.list) this.add(n, graph.scopesOf.get(n) ?? [], where);
  }

  private add(n: NodeDef, scopes: readonly Scope[], where: string): void {
    const cls = classifyIn(n, scopes);
    if (!cls) return;
    const key = `${n.op}\0${cls.rule}`;
    let entry = this.seen.get(key);
    if (!entry) this.seen.set(key, (entry = { op: n.op, cls, nodes: [], count: 0 }));
    entry.count++;
    if (entry.nodes.length < NAMES_PER_OP) entry.nodes.push(`node "${n.name}" in ${where}`);
  }

  report(ctx: ScanContext): void {
    for (const { op, cls, nodes, count } of this.seen.values()) {
      const more = count > nodes.length ? ` and ${count - nodes.length} more` : "";
      ctx.report(cls.rule, `TensorFlow op ${op} (${cls.why}) in ${count} node(s)`, { evidence: `${nodes.join("; ")}${more}` });
    }
  }
}

function baseName(name: string): string {
  return name.slice(Math.max(name.lastIndexOf("/"), name.lastIndexOf("\\")) + 1);
}

// ---------------------------------------------------------------- TFLite

const TFLITE_IDENTIFIER = "TFL3";
/** Operator codes read (CWE-400). TFLite lists each op type once; BuiltinOperator has ~210 values. */
const MAX_OPERATOR_CODES = 10_000;
/** Longest custom op name read (CWE-789); real names are a few dozen bytes. */
const MAX_CUSTOM_CODE_BYTES = 1024;
/** BuiltinOperator.CUSTOM in schema.fbs. */
const BUILTIN_CUSTOM = 32;
/** Field indices in schema.fbs: Model.operator_codes; OperatorCode.deprecated_builtin_code, custom_code, builtin_code. */
const MODEL_OPERATOR_CODES = 1;
const OPCODE_DEPRECATED_BUILTIN = 0;
const OPCODE_CUSTOM_CODE = 1;
const OPCODE_BUILTIN = 3;
/** TFLite runs TensorFlow op X through the Flex delegate as custom op "FlexX". */
const FLEX_PREFIX = "Flex";

/** An offset or length in the flatbuffer that does not fit the file; reported as MG243. */
export class TfliteFormatError extends Error {}

export function sniffTflite(head: Uint8Array, size: number): boolean {
  return isFlatbuffer(head, size, TFLITE_IDENTIFIER);
}

/** The file identifier `identifier` at bytes 4..8 and a root table offset that fits the file (flatbuffers align it to 4). */
export function isFlatbuffer(head: Uint8Array, size: number, identifier: string): boolean {
  if (head.length < 8) return false;
  for (let i = 0; i < 4; i++) if (head[4 + i] !== identifier.charCodeAt(i)) return false;
  const root = new DataView(head.buffer, head.byteOffset, 8).getUint32(0, true);
  return root >= 8 && root % 4 === 0 && root + 4 <= size;
}

export const scanTflite: FormatScanner = async (source: ByteSource, ctx: ScanContext) => {
  let codes: OperatorCode[];
  try {
    codes = await readOperatorCodes(new Flatbuffer(source));
  } catch (err) {
    if (!(err instanceof TfliteFormatError)) throw err;
    ctx.report("MG243", `TFLite model is malformed: ${err.message}`);
    return;
  }
  for (const c of codes) {
    if (c.builtin !== BUILTIN_CUSTOM) continue;
    const name = c.custom ?? "(unnamed)";
    ctx.report("MG250", `TFLite model uses custom operator "${name}"`, { offset: c.offset, evidence: `operator_codes[${c.index}]` });
    const tfOp = name.startsWith(FLEX_PREFIX) ? name.slice(FLEX_PREFIX.length) : undefined;
    const cls = tfOp !== undefined ? own(TF_OP_CLASSES, tfOp) : undefined;
    if (cls) {
      ctx.report(cls.rule, `TFLite Flex op ${name} runs TensorFlow op ${tfOp} (${cls.why})`, { offset: c.offset, evidence: `operator_codes[${c.index}]` });
    }
  }
};

interface OperatorCode {
  index: number;
  /** Offset of the OperatorCode table. */
  offset: number;
  /** max(builtin_code, deprecated_builtin_code), as TFLite's GetBuiltinCode computes it. */
  builtin: number;
  custom: string | undefined;
}

async function readOperatorCodes(fb: Flatbuffer): Promise<OperatorCode[]> {
  const model = await fb.root();
  const vec = await fb.vector(model, MODEL_OPERATOR_CODES, 4);
  if (!vec) return [];
  if (vec.length > MAX_OPERATOR_CODES) throw new TfliteFormatError(`${vec.length} operator codes, more than ${MAX_OPERATOR_CODES}`);
  const out: OperatorCode[] = [];
  for (let i = 0; i < vec.length; i++) {
    const t = await fb.indirect(vec.start + 4 * i);
    const deprecated = (await fb.scalar(t, OPCODE_DEPRECATED_BUILTIN, 1)) ?? 0;
    const builtin = (await fb.scalar(t, OPCODE_BUILTIN, 4)) ?? 0;
    out.push({ index: i, offset: t, builtin: Math.max(builtin, deprecated), custom: await fb.string(t, OPCODE_CUSTOM_CODE) });
  }
  return out;
}

/** Just enough of the flatbuffer wire format to walk tables, vectors and strings, every offset checked. */
class Flatbuffer {
  constructor(private readonly source: ByteSource) {}

  async root(): Promise<number> {
    return this.indirect(0);
  }

  /** The target of the uoffset stored at `at` (uoffsets point forward, relative to themselves). */
  async indirect(at: number): Promise<number> {
    return this.check(at + (await this.u32(at)), 4, "table");
  }

  /** The position of field `index` of the table at `table`, or undefined when the field is absent. */
  async field(table: number, index: number): Promise<number | undefined> {
    const vtable = this.check(table - (await this.i32(table)), 4, "vtable");
    const vtSize = await this.u16(vtable);
    const slot = 4 + 2 * index;
    if (slot + 2 > vtSize) return undefined;
    const rel = await this.u16(vtable + slot);
    return rel === 0 ? undefined : this.check(table + rel, 1, "field");
  }

  /** A little-endian scalar field (1 byte signed, or 4 bytes signed). */
  async scalar(table: number, index: number, width: 1 | 4): Promise<number | undefined> {
    const at = await this.field(table, index);
    if (at === undefined) return undefined;
    const b = await this.bytes(at, width);
    const view = new DataView(b.buffer, b.byteOffset, width);
    return width === 1 ? view.getInt8(0) : view.getInt32(0, true);
  }

  async vector(table: number, index: number, elementSize: number): Promise<{ start: number; length: number } | undefined> {
    const at = await this.field(table, index);
    if (at === undefined) return undefined;
    const vec = await this.indirect(at);
    const length = await this.u32(vec);
    this.check(vec + 4, length * elementSize, "vector");
    return { start: vec + 4, length };
  }

  async string(table: number, index: number): Promise<string | undefined> {
    const at = await this.field(table, index);
    if (at === undefined) return undefined;
    const s = await this.indirect(at);
    const length = await this.u32(s);
    this.check(s + 4, length, "string");
    const text = new TextDecoder().decode(await this.bytes(s + 4, Math.min(length, MAX_CUSTOM_CODE_BYTES)));
    return length > MAX_CUSTOM_CODE_BYTES ? `${text}… (${length} bytes)` : text;
  }

  private async u32(at: number): Promise<number> {
    const b = await this.bytes(at, 4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
  }

  private async i32(at: number): Promise<number> {
    const b = await this.bytes(at, 4);
    return new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true);
  }

  private async u16(at: number): Promise<number> {
    const b = await this.bytes(at, 2);
    return new DataView(b.buffer, b.byteOffset, 2).getUint16(0, true);
  }

  private async bytes(at: number, n: number): Promise<Uint8Array> {
    this.check(at, n, "read");
    return this.source.read(at, n);
  }

  /** `[at, at + n)` inside the file, or a format error naming what pointed outside. */
  private check(at: number, n: number, what: string): number {
    if (!Number.isSafeInteger(at) || at < 0 || n < 0 || at + n > this.source.size) {
      throw new TfliteFormatError(`${what} at offset ${at} (+${n}) is outside the ${this.source.size}-byte file`);
    }
    return at;
  }
}
