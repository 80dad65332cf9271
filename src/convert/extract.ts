/**
 * Walks the value tree a checkpoint pickle rebuilds and flattens it the way Hugging Face names the
 * tensors of a state dict: nested dicts and lists joined with dots (`state_dict.layer.weight`,
 * `optimizer_states.0.state.0.exp_avg`). Tensors become views over storages; scalars (numbers,
 * strings, booleans, None) are kept as metadata strings, rendered as Python's str() renders them;
 * anything else is listed as dropped, never silently lost.
 */
import type { StorageRef } from "../formats/torchStorage.js";
import { own } from "../own.js";
import { describe, dictEntries, isSym, qualifiedName, type CallResult, type Value } from "../pickle/values.js";
import { STORAGE_DTYPE, TORCH_DTYPE, UNTYPED_STORAGE } from "./dtypes.js";
import { ORDERED_DICT, REBUILDERS, type Rebuilt } from "./observer.js";
import { CONVERT_LIMITS, ConvertInputError, type Dropped, type Dtype } from "./tensors.js";

/** A tensor as its rebuilder describes it: a view of `shape`/`stride` at `offset` (elements of dtype) in a storage. */
export interface RebuiltTensor {
  name: string;
  storage: StorageRef;
  dtype: Dtype;
  offset: number;
  shape: number[];
  stride: number[];
}

export interface Flattened {
  tensors: RebuiltTensor[];
  metadata: Record<string, string>;
  dropped: Dropped[];
}

const PARAMETER_REBUILDERS = new Set(["torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state"]);

/** Flattens `rebuilt.result`; a bare tensor at the top is named `rootName`. */
export function flatten(rebuilt: Rebuilt, rootName: string): Flattened {
  const out: Flattened = { tensors: [], metadata: {}, dropped: [] };
  const names = new Set<string>();
  const claim = (name: string): void => {
    if (names.has(name)) throw new ConvertInputError(`two values flatten to the same name "${name}"`);
    names.add(name);
  };

  const walk = (v: Value, name: string, depth: number): void => {
    if (depth > CONVERT_LIMITS.maxNesting) throw new ConvertInputError(`"${name}" is nested more than ${CONVERT_LIMITS.maxNesting} levels deep (or contains itself)`);
    const entries = containerEntries(v, rebuilt);
    if (entries) {
      if (entries.length === 0) out.dropped.push({ name, why: "empty container" });
      for (const [k, x] of entries) {
        const key = keyText(k);
        if (key === undefined) out.dropped.push({ name: `${name}[${describe(k)}]`, why: "key is not a string or number" });
        else walk(x, name === "" ? key : `${name}.${key}`, depth + 1);
      }
      return;
    }
    const tensor = isTensor(v) ? tensorOf(v, rebuilt, name || rootName) : undefined;
    if (tensor) {
      claim(tensor.name);
      out.tensors.push(tensor);
      return;
    }
    const text = scalarText(v);
    if (text !== undefined && name !== "") {
      claim(name);
      out.metadata[name] = text;
    } else out.dropped.push({ name: name || rootName, why: droppedWhy(v) });
  };
  walk(rebuilt.result, "", 0);
  return out;
}

/** Key/value pairs of a dict, an OrderedDict() result or a list/tuple (by index); undefined for anything else. */
function containerEntries(v: Value, rebuilt: Rebuilt): [Value, Value][] | undefined {
  if (!isSym(v)) return undefined;
  switch (v.t) {
    case "dict":
      return dictEntries(v);
    case "list":
    case "tuple":
      return v.items.map((x, i) => [i, x]);
    case "call": {
      if (calleeName(v) !== ORDERED_DICT) return undefined;
      // OrderedDict() then SETITEMS (how torch.save writes it), or OrderedDict([(k, v), …]) as older picklers did.
      const pairs: [Value, Value][] = [];
      const [initial] = argsOf(v);
      if (isSym(initial) && (initial.t === "list" || initial.t === "tuple")) {
        for (const pair of initial.items) {
          if (!isSym(pair) || (pair.t !== "tuple" && pair.t !== "list") || pair.items.length !== 2) {
            throw new ConvertInputError(`OrderedDict is built from ${describe(pair)}, not key/value pairs`);
          }
          pairs.push([pair.items[0]!, pair.items[1]!]);
        }
      }
      const items = rebuilt.itemsOf(v);
      for (let i = 0; i + 1 < items.length; i += 2) pairs.push([items[i]!, items[i + 1]!]);
      return pairs;
    }
    default:
      return undefined;
  }
}

function isTensor(v: Value): v is CallResult {
  return isSym(v) && v.t === "call" && REBUILDERS.has(calleeName(v));
}

/** The qualified name of what a call calls, or "" for a callee that is not an import. */
function calleeName(call: CallResult): string {
  return isSym(call.fn) && call.fn.t === "global" ? qualifiedName(call.fn) : "";
}

/** Reads a rebuilder's arguments: (storage, offset, size, stride, …) and, for v3, the dtype at index 6. */
function tensorOf(call: CallResult, rebuilt: Rebuilt, name: string): RebuiltTensor {
  const fn = calleeName(call);
  const args = argsOf(call);
  if (PARAMETER_REBUILDERS.has(fn)) {
    const data = args[0];
    if (!isTensor(data) || PARAMETER_REBUILDERS.has(calleeName(data))) {
      throw new ConvertInputError(`parameter "${name}" wraps ${describe(data ?? null)}, not a tensor`);
    }
    return tensorOf(data, rebuilt, name);
  }
  const [pid, offset, size, stride] = args;
  const storage = isSym(pid) && pid.t === "pid" ? rebuilt.storageOf(pid) : undefined;
  const shape = intTuple(size);
  const steps = intTuple(stride);
  if (!storage || typeof offset !== "number" || !shape || !steps) {
    throw new ConvertInputError(`tensor "${name}": ${fn} is called with ${describe(call.args)}, not (storage, offset, size, stride, …)`);
  }
  let dtype: Dtype | undefined;
  if (fn === "torch._utils._rebuild_tensor_v3") {
    const d = args[6];
    dtype = isSym(d) && d.t === "global" && d.module === "torch" ? own(TORCH_DTYPE, d.name) : undefined;
    if (!dtype) throw new ConvertInputError(`tensor "${name}" has dtype ${describe(d ?? null)}, which safetensors cannot hold`);
    if (storage.type !== UNTYPED_STORAGE) throw new ConvertInputError(`tensor "${name}": _rebuild_tensor_v3 on a ${storage.type}, not an UntypedStorage`);
  } else {
    dtype = own(STORAGE_DTYPE, storage.type);
    if (!dtype) throw new ConvertInputError(`tensor "${name}" is held in a ${storage.type}, which safetensors cannot hold`);
  }
  return { name, storage, dtype, offset, shape, stride: steps };
}

function argsOf(call: CallResult): Value[] {
  return isSym(call.args) && call.args.t === "tuple" ? call.args.items : [];
}

function intTuple(v: Value | undefined): number[] | undefined {
  if (!isSym(v) || v.t !== "tuple" || !v.items.every((i) => typeof i === "number" && Number.isSafeInteger(i))) return undefined;
  return v.items as number[];
}

/** Dict keys as names: strings as they are, numbers and booleans as Python prints them. */
function keyText(k: Value): string | undefined {
  if (typeof k === "string") return k;
  if (typeof k === "number" || typeof k === "bigint" || typeof k === "boolean") return scalarText(k);
  return undefined;
}

/** Python's str() of a scalar (True, None, 3, "text"); undefined for anything that is not one. */
function scalarText(v: Value): string | undefined {
  if (v === null) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "string") return String(v);
  return undefined;
}

function droppedWhy(v: Value): string {
  if (!isSym(v)) return "not a tensor";
  switch (v.t) {
    case "bigstr":
      return `a string of ${v.len} bytes, too long for metadata`;
    case "bytes":
    case "bigbytes":
      return "bytes";
    case "set":
      return "a set";
    case "pid":
      return "a storage without a tensor";
    case "call":
      return describe(v.fn);
    default:
      return describe(v);
  }
}
