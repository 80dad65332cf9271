/**
 * skops schemas: the schema.json of a `.skops` zip. skops.io.load rebuilds the object tree node by
 * node, and each node's loader imports the node's `__module__`.`__class__` and constructs it (or,
 * for functions, methods and operator functions, hands back or calls what it names). So every name
 * a schema names is judged like a pickle import (src/pickle/judge.ts), and reported with the pickle
 * rules' ids and severities. The zip itself, and the .npy members nodes point at, are scanned as
 * members by the zip scanner.
 */
import { LIMITS } from "../limits.js";
import { judge, qualified } from "../pickle/judge.js";
import { readAll, type ByteSource } from "../sources/byteSource.js";
import { formatBytes } from "../units.js";
import type { FormatScanner, ScanContext } from "./context.js";

/** Real schemas are kilobytes to a few megabytes (a large forest); JSON.parse holds the whole text. */
const MAX_SCHEMA_BYTES = 64 * 1024 * 1024;
/** Python's json and skops's get_tree recurse: nothing deeper than their recursion limit loads. */
const MAX_DEPTH = 1000;
/** JSON objects and arrays visited (CWE-400). */
const MAX_CONTAINERS = 4_000_000;
const UTF8_BOM = [0xef, 0xbb, 0xbf];
/** The bytes RegExp `\s` matches in latin1 text: a superset of the white space Python's json skips. */
const LEADING_SPACE = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0xa0]);
const OPEN_BRACE = 0x7b;

/**
 * A JSON object that opens with skops node keys within the head: `{` first (after a BOM and white
 * space), then `"__loader__"` and `"__module__"` keys. skops writes them at the top of every node.
 */
export function sniffSkopsSchema(head: Uint8Array): boolean {
  let start = UTF8_BOM.every((b, i) => head[i] === b) ? 3 : 0;
  // Every file and archive member is sniffed: nothing is decoded before the `{` is found.
  while (start < head.length && LEADING_SPACE.has(head[start]!)) start++;
  if (head[start] !== OPEN_BRACE) return false;
  const text = Buffer.from(head.buffer, head.byteOffset + start, head.byteLength - start).toString("latin1");
  return /"__loader__"\s*:\s*"/.test(text) && /"__module__"\s*:\s*"/.test(text);
}

type Use = "construct" | "call";

/** One JSON object or array on the walk; parents give a finding its path without building one per value. */
interface Frame {
  value: object;
  parent: Frame | undefined;
  key: string | number;
  depth: number;
}

/** Each distinct name reached: its worst use, how often, and where first. */
interface NameUse {
  module: string;
  name: string;
  worst: Use;
  count: number;
  where: string;
  /** Called while loading (OperatorFuncNode), not only imported to be called later. */
  callsAtLoad: boolean;
}

export const scanSkopsSchema: FormatScanner = async (source: ByteSource, ctx: ScanContext) => {
  if (source.size > MAX_SCHEMA_BYTES) {
    ctx.report("MG300", `skops schema is ${formatBytes(source.size)}, more than the ${formatBytes(MAX_SCHEMA_BYTES)} analysed; it was not judged`);
    return;
  }
  let tree: unknown;
  try {
    tree = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(await readAll(source)));
  } catch (err) {
    ctx.report("MG300", `skops schema is not valid UTF-8 JSON (${(err as Error).message}); it was not judged`);
    return;
  }
  if (!isObject(tree) || typeof tree.__loader__ !== "string") {
    ctx.report("MG300", "skops schema's top level is not a skops node (an object with __loader__); it was not judged");
    return;
  }
  new SchemaWalk(ctx, tree).run();
};

class SchemaWalk {
  private readonly uses = new Map<string, NameUse>();
  private overflowNames = 0;
  /** skops picks node loaders by the schema's protocol; protocol 0's FunctionNode reads its content. */
  private readonly protocol: unknown;

  constructor(
    private readonly ctx: ScanContext,
    private readonly root: Record<string, unknown>,
  ) {
    this.protocol = root.protocol;
  }

  run(): void {
    const stack: Frame[] = [{ value: this.root, parent: undefined, key: "$", depth: 0 }];
    let visited = 0;
    let tooDeep: Frame | undefined;
    let broken: { frame: Frame; why: string } | undefined;
    for (let f = stack.pop(); f; f = stack.pop()) {
      if (++visited > MAX_CONTAINERS) {
        this.ctx.report("MG300", `skops schema has more than ${MAX_CONTAINERS} objects and arrays; the rest was not judged`);
        break;
      }
      if (f.depth > MAX_DEPTH) {
        tooDeep ??= f;
        continue;
      }
      const v = f.value;
      if (!Array.isArray(v) && typeof (v as Record<string, unknown>).__loader__ === "string") {
        const why = this.node(v as Record<string, unknown>, f);
        if (why) broken ??= { frame: f, why };
      }
      const entries: [string | number, unknown][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i]!;
        if (child !== null && typeof child === "object") stack.push({ value: child, parent: f, key, depth: f.depth + 1 });
      }
    }
    if (tooDeep) this.ctx.report("MG300", `skops schema nests deeper than ${MAX_DEPTH} levels; deeper nodes were not judged`, { evidence: pathOf(tooDeep) });
    if (broken) this.ctx.report("MG300", `skops node at ${pathOf(broken.frame)} ${broken.why}; skops cannot load it as written`, { evidence: pathOf(broken.frame) });
    this.flush();
  }

  /** Records the names one node imports; returns why the node is malformed, if it is. */
  private node(n: Record<string, unknown>, f: Frame): string | undefined {
    const loader = n.__loader__ as string;
    const module = n.__module__;
    const cls = n.__class__;
    if (typeof module !== "string" || typeof cls !== "string") return `(${loader}) has no string __module__ and __class__`;
    const content = isObject(n.content) ? n.content : undefined;
    switch (loader) {
      case "JsonNode": // json.loads of its content
      case "CachedNode": // a reference to a node loaded earlier (__id__)
        return undefined;
      case "FunctionNode": {
        // Protocol 0 imports content.module_path.function; later protocols the node's own names.
        const oldModule = content?.module_path;
        const oldName = content?.function;
        const old = typeof oldModule === "string" && typeof oldName === "string";
        if (old) this.use(oldModule, oldName, "call", loader, f);
        if (!old || this.protocol !== 0) this.use(module, cls, "call", loader, f);
        return undefined;
      }
      case "MethodNode": {
        // getattr(the rebuilt obj, func): the method is named by obj's class.
        const obj = content?.obj;
        const func = content?.func;
        this.use(module, cls, "construct", loader, f);
        if (!isObject(obj) || typeof obj.__module__ !== "string" || typeof obj.__class__ !== "string" || typeof func !== "string") {
          return "(MethodNode) names no obj with __module__ and __class__ and no func";
        }
        this.use(obj.__module__, `${obj.__class__}.${func}`, "call", loader, f);
        return undefined;
      }
      case "OperatorFuncNode":
        // Called at load with the node's attrs: getattr(operator, __class__)(*attrs); older loaders trusted __module__.
        this.use(module, cls, "call", loader, f, true);
        if (module !== "operator") this.use("operator", cls, "call", loader, f, true);
        return undefined;
      default:
        // ObjectNode (__new__, then state), TypeNode (the class itself), containers, arrays, reduce-based
        // nodes and loaders we do not know: the named class is imported and instantiated.
        this.use(module, cls, "construct", loader, f);
        if (loader === "TypeNode" && content && typeof content.__module__ === "string" && typeof content.__class__ === "string") {
          this.use(content.__module__, content.__class__, "construct", loader, f);
        }
        return undefined;
    }
  }

  private use(module: string, name: string, use: Use, loader: string, f: Frame, callsAtLoad = false): void {
    const key = qualified(module, name);
    let u = this.uses.get(key);
    if (!u) {
      if (this.uses.size >= LIMITS.pickleMaxDistinctGlobals) {
        this.overflowNames++;
        return;
      }
      u = { module, name, worst: use, count: 0, where: `${loader} at ${pathOf(f)}`, callsAtLoad };
      this.uses.set(key, u);
    }
    u.count++;
    if (use === "call") u.worst = "call";
    u.callsAtLoad ||= callsAtLoad;
  }

  /** Reports each name not allowed once, as the pickle rules would (MG100–MG104). */
  private flush(): void {
    for (const [name, u] of this.uses) {
      const j = judge(u.module, u.name, { torchscript: false, overrides: this.ctx.callables });
      const evidence = u.count > 1 ? `${u.where} (${u.count} nodes)` : u.where;
      const verb = u.worst === "call" ? "calls" : "constructs";
      if (j.kind === "allow") {
        if (u.callsAtLoad && j.entry?.notCalled) {
          this.ctx.report("MG101", `skops schema calls ${name}, which is allowlisted to be stored or constructed, not called at load`, { evidence });
        }
      } else if (j.kind === "deny") {
        this.ctx.report("MG100", `skops schema ${verb} ${name}, which ${j.entry.reason}`, { evidence, severity: j.entry.severity });
      } else if (j.kind === "walk") {
        const why = j.entry ? `, which ${j.entry.reason}` : "";
        this.ctx.report("MG104", `skops schema ${verb} ${name} by walking attributes of ${u.module}${why}`, { evidence });
      } else if (u.worst === "call") {
        this.ctx.report("MG101", `skops schema calls ${name}, which is not on the allowlist`, { evidence });
      } else {
        this.ctx.report("MG102", `skops schema ${verb} ${name}, which is not on the allowlist (an imported name can end up invoked)`, { evidence });
      }
    }
    if (this.overflowNames > 0) {
      this.ctx.report("MG300", `skops schema names more than ${LIMITS.pickleMaxDistinctGlobals} distinct names; ${this.overflowNames} uses were not judged`);
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** `$.content.steps[0]`: where a value sits in the schema. */
function pathOf(f: Frame): string {
  const parts: string[] = [];
  for (let p: Frame | undefined = f; p; p = p.parent) {
    parts.push(typeof p.key === "number" ? `[${p.key}]` : p.parent ? `.${p.key}` : p.key);
  }
  return parts.reverse().join("");
}
