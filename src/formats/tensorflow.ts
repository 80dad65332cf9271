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
import { decodeOrReport, headFields, WIRE, type HeadField } from "./schemas/protobuf.js";
import { checkKerasConfigText } from "./keras.js";
import { escapesFolder } from "./onnx.js";
import { parseProtoText, ProtoTextError, type TextMessage, type TextSpec } from "./protoText.js";
import {
  tensorflowTypes,
  type AttrBytes,
  type AttrEntry,
  type AttrValue,
  type FunctionDef,
  type GraphDef,
  type KerasSavedMetadata,
  type MetaGraphDef,
  type NameAttrList,
  type NodeDef,
  type SavedModel,
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

/** AttrValue and NameAttrList refer to each other, so their text specs do too. */
function attrSpec(): TextSpec {
  const func: Record<string, TextSpec | "string"> = { name: "string" };
  const value: TextSpec = { s: "bytes", func, list: { s: "bytes", func }, tensor: { string_val: "bytes" } };
  func["attr"] = { key: "string", value };
  return func["attr"];
}
const ATTR_SPEC = attrSpec();
const NODE_SPEC: TextSpec = { name: "string", op: "string", input: "string", attr: ATTR_SPEC };
/** The fields of saved_model.pbtxt the analysis reads (schemas/tensorflow.ts names the same). */
const SAVED_MODEL_TEXT_SPEC: TextSpec = {
  meta_graphs: {
    graph_def: {
      node: NODE_SPEC,
      library: { function: { signature: { name: "string", input_arg: { name: "string", number_attr: "string", type_list_attr: "string" } }, node_def: NODE_SPEC } },
    },
    saver_def: { filename_tensor_name: "string" },
    asset_file_def: { tensor_info: { name: "string" }, filename: "string" },
    object_graph_def: {
      nodes: { user_object: { identifier: "string", metadata: "string" }, asset: {} },
      concrete_functions: { key: "string", value: { bound_inputs: "word" } },
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
        saver_def: saver && { filename_tensor_name: str(saver, "filename_tensor_name") },
        asset_file_def: msgs(mg, "asset_file_def").map((a) => {
          const info = msg(a, "tensor_info");
          return { tensor_info: info && { name: str(info, "name") }, filename: str(a, "filename") };
        }),
        object_graph_def: objects && {
          nodes: msgs(objects, "nodes").map((o) => {
            const user = msg(o, "user_object");
            const asset = msg(o, "asset");
            return {
              user_object: user && { identifier: str(user, "identifier"), metadata: str(user, "metadata") },
              asset,
            };
          }),
          concrete_functions: msgs(objects, "concrete_functions").map((e) => {
            const value = msg(e, "value");
            return { key: str(e, "key"), value: value && { bound_inputs: strs(value, "bound_inputs").map(index) } };
          }),
        },
      };
    }),
  };
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
        tensor: tensor && { string_val: strs(tensor, "string_val") },
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
    reportAssetFiles(mg, ctx, where);
    const graph = mg.graph_def;
    if (!graph) return;
    const scopes = pathScopes(mg, graph);
    ops.addScope(scopes.graph, where);
    for (const c of scopes.functions) ops.addScope(c.scope, `function "${c.name}"`);
  });
  ops.report(ctx);
}

/**
 * Both loaders join an asset's filename to the model's assets folder with os.path.join semantics, so an
 * absolute or climbing filename hands the graph's vocabulary ops a file outside the model.
 */
function reportAssetFiles(mg: MetaGraphDef, ctx: ScanContext, where: string): void {
  mg.asset_file_def.forEach((a, i) => {
    const escape = escapesFolder(a.filename);
    if (escape) {
      ctx.report("MG241", `TensorFlow asset "${a.filename}" is ${escape}: the loader joins it to the model's assets folder and hands the graph whatever file that names`, {
        evidence: `asset_file_def[${i}].filename in ${where}`,
      });
    }
  });
}

// ---------------------------------------------------------------- where a path comes from

/** A graph or one library function: its nodes by name, and the names whose values the loader supplies. */
interface Scope {
  /** Every node, in order: two may share a name (TensorFlow refuses that, but the scan must not drop one). */
  list: readonly NodeDef[];
  nodes: ReadonlyMap<string, NodeDef>;
  /** Function arguments shown loader-fed (filled by `feedArguments`); in the top-level graph, the tensors the loader feeds (saver filename, TF1 assets). */
  fed: Set<string>;
  /** Variables whose value is only ever a fed tensor assigned in this scope: handle node → the assigned inputs. */
  assignedOnly: ReadonlyMap<string, readonly string[]>;
}

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
}

/** Ops that run the function their attr "f" names on their own inputs, in order. */
const CALL_OPS: ReadonlySet<string> = new Set(["PartitionedCall", "StatefulPartitionedCall"]);
/** Ops that make a variable handle from a name; two with one shared_name are one variable. */
const VARIABLE_HANDLE_OPS: ReadonlySet<string> = new Set(["VarHandleOp", "_VarHandlesOp"]);
/** Rounds of argument propagation (CWE-400); each round follows calls one level at least, and TensorFlow nests two or three. */
const MAX_CALL_ROUNDS = 16;

function pathScopes(mg: MetaGraphDef, graph: GraphDef): { graph: Scope; functions: Callee[] } {
  const functions = graph.library?.function ?? [];
  const aliased = aliasedVariables([graph.node, ...functions.map((f) => f.node_def)]);
  const top = makeScope(graph.node, loaderFeeds(mg), aliased);
  const callees = functions.map((f) => callee(f, makeScope(f.node_def, new Set(), aliased)));
  const byName = new Map<string, Callee[]>();
  for (const c of callees) byName.set(c.name, [...(byName.get(c.name) ?? []), c]);
  for (const scope of [top, ...callees.map((c) => c.scope)]) for (const n of scope.list) recordCalls(n, scope, byName);
  bindCaptures(mg, byName);
  feedArguments(callees);
  return { graph: top, functions: callees };
}

/** The tensors a loader feeds into the top-level graph: the saver's filename and, for TF1 loaders, the asset paths. */
function loaderFeeds(mg: MetaGraphDef): Set<string> {
  const fed = new Set<string>();
  const saverFile = mg.saver_def?.filename_tensor_name;
  if (saverFile) fed.add(nodeName(saverFile));
  for (const a of mg.asset_file_def) if (a.tensor_info?.name) fed.add(nodeName(a.tensor_info.name));
  return fed;
}

function makeScope(list: readonly NodeDef[], fed: Set<string>, aliased: ReadonlySet<string>): Scope {
  return { list, nodes: byName(list), fed, assignedOnly: assignedOnly(list, aliased) };
}

function callee(f: FunctionDef, scope: Scope): Callee {
  const args = f.signature?.input_arg ?? [];
  // A list argument takes a varying number of inputs, so call inputs no longer line up with arguments.
  const opaque = args.some((a) => a.number_attr || a.type_list_attr);
  return { name: f.signature?.name ?? "", args: args.map((a) => a.name), scope, calls: [], opaque, bound: new Map() };
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
 * Marks the arguments that hold a loader-fed path on every way in: each call passes one, and a
 * bound capture is an asset. A function nothing calls keeps its arguments fed: the loader or the
 * user calls it. Starting from nothing fed, a round can only add, so stopping early stays on the
 * safe side (recursion included).
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
  if (c.opaque || c.bound.get(i) === false) return false;
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
  return assigned !== undefined && assigned.every((i) => loaderFedPath(i, scope, steps));
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
  const values = node.attr.filter((e) => e.key === "value").flatMap((e) => e.value?.tensor?.string_val ?? []);
  return values.length > 0 && values.every((v) => !attrText(v).includes(".."));
}

/** The class an op is reported under: a checkpoint or vocabulary op on a path the graph chooses is a file-system op. */
function classify(n: NodeDef, scope: Scope): TfOpClass | undefined {
  const cls = own(TF_OP_CLASSES, n.op);
  if (!cls?.pathInputs || cls.pathInputs.every((i) => loaderFedPath(n.input[i], scope))) return cls;
  return { rule: "MG241", why: `${cls.why} at a path the graph itself spells out, not one the loader passes (a constant, or computed)` };
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
    for (const n of scope.list) this.add(n, scope, where);
  }

  private add(n: NodeDef, scope: Scope, where: string): void {
    const cls = classify(n, scope);
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
