/**
 * ONNX models (a protobuf ModelProto, no magic). Decoded with protobufjs against our own minimal
 * schema (schemas/onnx.ts); checks: external-data locations that leave the model's folder (O1),
 * operator domains that need a custom-op library (O2), op types that run Python in any domain, walked through every subgraph (If/Loop/Scan
 * attributes), training graph and model-local function. A model that does not decode is a finding.
 */
import { posix } from "node:path";
import { ONNX_KNOWN_DOMAINS, ONNX_PYTHON_OPS } from "../rules/graphFormats.js";
import { symlinkEscape } from "../repo/links.js";
import { own } from "../own.js";
import { FileSource, type ByteSource } from "../sources/byteSource.js";
import type { FormatScanner, ScanContext } from "./context.js";
import { evidenceOf, tally, type Tally } from "./tally.js";
import { DATA_LOCATION_EXTERNAL, onnxTypes, type Attribute, type Graph, type Model, type Node, type Tensor } from "./schemas/onnx.js";
import { decodeOrReport, headFields, WIRE } from "./schemas/protobuf.js";

/**
 * Nesting of subgraphs walked (CWE-674). Each level costs the decoder three messages (graph, node,
 * attribute) against its limit of 100, so real decodable models stay below ~33 levels anyway.
 */
const MAX_GRAPH_DEPTH = 32;
/** Distinct external-data locations checked for symlinks (CWE-400: each costs a few lstat calls). */
const MAX_LINKED_LOCATIONS = 4096;
/** IR versions in use are 1–11; a generous ceiling keeps random bytes after 0x08 from sniffing. */
const MAX_IR_VERSION = 64;

const L = WIRE.LEN;
const V = WIRE.VARINT;
/** ModelProto's top-level fields and their wire types (onnx.proto). */
const MODEL_FIELDS: Readonly<Record<number, number>> = { 1: V, 2: L, 3: L, 4: L, 5: V, 6: L, 7: L, 8: L, 14: L, 20: L, 25: L };
const STRING_FIELDS = new Set([2, 3, 4, 6]);
/** producer_name, producer_version, domain: short one-line names. */
const NAME_FIELDS = new Set([2, 3, 4]);

/**
 * ONNX has no magic. Every writer serialises ModelProto in field order, so a model opens with
 * ir_version (tag 0x08) and a small version; the rest of the head must then walk as ModelProto
 * fields (known numbers and wire types, lengths inside the file, valid UTF-8 strings) up to the
 * graph (field 7), the end of the file, or the end of the head. Pickles (0x80…) never start with 0x08.
 * Name fields are text without control bytes as far as the head holds them, which a TensorFlow
 * SavedModel (08 01 12 … 0a …: a meta graph where ONNX has its producer name) never is.
 */
export function sniffOnnx(head: Uint8Array, size: number): boolean {
  if (head[0] !== 0x08) return false;
  const fields = headFields(head, size, MODEL_FIELDS);
  if (!fields || fields.length === 0) return false;
  const ir = fields[0]!.value;
  if (ir < 1 || ir > MAX_IR_VERSION) return false;
  for (const f of fields) {
    if (!STRING_FIELDS.has(f.field)) continue;
    const whole = f.at + f.value <= head.length;
    const text = head.subarray(f.at, Math.min(f.at + f.value, head.length));
    // Names (producer, version, domain) are one line of text: a control byte there means the field
    // is a nested message (a SavedModel's field 2 is a MetaGraphDef, starting with tag 0x0a).
    if (NAME_FIELDS.has(f.field) && text.some((c) => c < 0x20 || c === 0x7f)) return false;
    if (!whole && !NAME_FIELDS.has(f.field)) continue;
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(text, { stream: !whole });
    } catch {
      return false;
    }
  }
  return fields.some((f) => f.field === 7) || fields.length >= 2;
}

export const scanOnnx: FormatScanner = async (source: ByteSource, ctx: ScanContext) => {
  const model = await decodeOrReport<Model>(source, ctx, onnxTypes()["onnx.ModelProto"], "ONNX model", "MG233");
  if (!model) return;
  if (!model.graph) {
    ctx.report("MG233", "ONNX file decodes but has no graph: it is not a usable ModelProto", { evidence: `ir_version ${String(model.ir_version)}` });
    return;
  }
  const walk = new OnnxWalk(ctx, model);
  walk.run();
  // Only a file read from disk has a folder to leave; an archive member or a URL has none.
  if (ctx.member === undefined && source instanceof FileSource) await checkLinkedLocations(source.path, walk.locations, ctx);
};

/** Locations that stay inside the folder as written can still leave it through a symlink. */
async function checkLinkedLocations(modelPath: string, locations: ReadonlyMap<string, string>, ctx: ScanContext): Promise<void> {
  for (const [location, where] of locations) {
    const escape = await symlinkEscape(modelPath, location);
    if (escape) {
      ctx.report("MG230", `ONNX external data "${location}" is reached through a symbolic link that leaves the model's folder (${escape})`, {
        evidence: `external_data location in ${where}: ${escape}`,
      });
    }
  }
}

interface Pending {
  graph: Graph;
  depth: number;
  /** Where the graph sits, e.g. `graph "main" > If "cond".then_branch`. */
  where: string;
}

/** One pass over every graph of a model, iterative (explicit stack) so depth is ours to bound. */
class OnnxWalk {
  /** `domain\0name` of the model's own functions: nodes calling them run ONNX nodes, not native code. */
  private readonly localFunctions: Set<string>;
  private readonly customDomains = new Map<string, Tally>();
  /** Python ops by op type (the domain is part of each node's label). */
  private readonly pythonOps = new Map<string, Tally>();
  private readonly stack: Pending[] = [];
  /** External-data locations that stay inside the folder as written, with where the first was seen. */
  readonly locations = new Map<string, string>();
  private depthReported = false;

  constructor(
    private readonly ctx: ScanContext,
    private readonly model: Model,
  ) {
    this.localFunctions = new Set(model.functions.map((f) => `${f.domain}\0${f.name}`));
  }

  run(): void {
    const m = this.model;
    this.stack.push({ graph: m.graph!, depth: 0, where: `graph "${m.graph!.name}"` });
    m.training_info.forEach((t, i) => {
      if (t.initialization) this.stack.push({ graph: t.initialization, depth: 0, where: `training_info[${i}].initialization` });
      if (t.algorithm) this.stack.push({ graph: t.algorithm, depth: 0, where: `training_info[${i}].algorithm` });
    });
    for (const f of m.functions) {
      const where = `function "${f.domain}.${f.name}"`;
      this.nodes(f.node, 0, where);
      for (const a of f.attribute_proto) this.attribute(a, 0, `${where} default ${a.name}`);
    }
    for (let p = this.stack.pop(); p; p = this.stack.pop()) this.graph(p);
    this.reportDomains();
  }

  private graph({ graph, depth, where }: Pending): void {
    for (const t of graph.initializer) this.tensor(t, `${where} initializer`);
    for (const s of graph.sparse_initializer) {
      if (s.values) this.tensor(s.values, `${where} sparse initializer`);
      if (s.indices) this.tensor(s.indices, `${where} sparse initializer indices`);
    }
    this.nodes(graph.node, depth, where);
  }

  private nodes(nodes: Node[], depth: number, where: string): void {
    nodes.forEach((n, i) => {
      const label = `${n.op_type} "${n.name || `#${i}`}"`;
      this.domain(n, label, where);
      for (const a of n.attribute) this.attribute(a, depth, `${where} > ${label}.${a.name}`);
    });
  }

  /** Tensors in attributes can carry external data too; GRAPH/GRAPHS attributes (If, Loop, Scan) are subgraphs. */
  private attribute(a: Attribute, depth: number, where: string): void {
    if (a.t) this.tensor(a.t, where);
    for (const t of a.tensors) this.tensor(t, where);
    for (const s of [a.sparse_tensor, ...a.sparse_tensors]) {
      if (s?.values) this.tensor(s.values, where);
      if (s?.indices) this.tensor(s.indices, where);
    }
    const subgraphs = a.g ? [a.g, ...a.graphs] : a.graphs;
    if (subgraphs.length === 0) return;
    if (depth + 1 > MAX_GRAPH_DEPTH) {
      if (!this.depthReported) this.ctx.report("MG234", `ONNX subgraphs nest deeper than ${MAX_GRAPH_DEPTH} levels; deeper graphs were not analysed`, { evidence: where });
      this.depthReported = true;
      return;
    }
    for (const g of subgraphs) this.stack.push({ graph: g, depth: depth + 1, where });
  }

  private tensor(t: Tensor, where: string): void {
    // onnx reads the last "location" entry; a reader that takes the first sees another file. Each is checked.
    const locations = [...new Set(t.external_data.filter((e) => e.key === "location" && e.value !== "").map((e) => e.value))];
    const name = `tensor "${t.name}"`;
    if (t.data_location === DATA_LOCATION_EXTERNAL && locations.length === 0) {
      this.ctx.report("MG231", `ONNX ${name} is marked external but names no location`, { evidence: where });
    }
    if (locations.length > 1) {
      this.ctx.report("MG231", `ONNX ${name} names ${locations.length} different external-data locations; loaders disagree on which one they read`, {
        evidence: `external_data locations in ${where}: ${locations.map((l) => JSON.stringify(l)).join(", ")}`,
      });
    }
    for (const location of locations) {
      // Checked even when the tensor is not marked external: fail closed on any loader that reads it.
      const escape = escapesFolder(location);
      if (escape) {
        this.ctx.report("MG230", `ONNX ${name} loads its data from "${location}", ${escape}`, { evidence: `external_data location in ${where}` });
      } else if (this.locations.size < MAX_LINKED_LOCATIONS && !this.locations.has(location)) this.locations.set(location, where);
    }
  }

  private domain(n: Node, label: string, where: string): void {
    if (this.localFunctions.has(`${n.domain}\0${n.op_type}`)) return;
    // A Python op is reported as such (MG235) whatever its domain; its domain adds nothing to that.
    if (own(ONNX_PYTHON_OPS, n.op_type)) tally(this.pythonOps, n.op_type, n.domain || "ai.onnx", `${label} in domain "${n.domain}" in ${where}`);
    else if (!own(ONNX_KNOWN_DOMAINS, n.domain)) tally(this.customDomains, n.domain, n.op_type, `${label} in ${where}`);
  }

  private reportDomains(): void {
    for (const [opType, d] of this.pythonOps) {
      this.ctx.report("MG235", `ONNX model has ${d.count} ${opType} node(s) (domains ${[...d.seen].join(", ")}): running them calls Python code`, {
        evidence: evidenceOf(d),
      });
    }
    for (const [domain, d] of this.customDomains) {
      this.ctx.report("MG232", `ONNX model uses custom operator domain "${domain}" (ops ${[...d.seen].join(", ")}) on ${d.count} node(s)`, {
        evidence: evidenceOf(d),
      });
    }
  }
}

/**
 * Why an external-data location is not a file inside the model's folder, or undefined when it is.
 * Backslashes count as separators (Windows loaders), NUL truncates paths in C++ loaders.
 */
export function escapesFolder(location: string): string | undefined {
  if (location.includes("\0")) return "a path with a NUL byte";
  const path = location.replace(/\\/g, "/");
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) return "an absolute path";
  const normal = posix.normalize(path);
  if (normal === ".." || normal.startsWith("../")) return "outside the model's folder";
  return undefined;
}
