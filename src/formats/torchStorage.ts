/**
 * Torch storages in pickles: the persistent id that names one, and what torch pickles a storage as
 * outside torch.save (Storage.__reduce__: pickle.dump, deepcopy, a DataLoader worker),
 * `torch.storage._load_from_bytes(b)`, where b is torch.save's legacy stream of that one storage.
 * torch.load of such bytes returns the storage, a block of numbers; of any other bytes, whatever
 * their pickles build.
 */
import { own } from "../own.js";
import { PickleAnalyst } from "../pickle/analyst.js";
import { Machine } from "../pickle/machine.js";
import { StreamReader } from "../pickle/reader.js";
import { describe, isSym, type CallResult, type Value } from "../pickle/values.js";
import { TORCH_STORAGE_ELEMENT_SIZE } from "../rules/callables.js";
import type { ByteSource } from "../sources/byteSource.js";
import type { ScanContext } from "./context.js";
import { isTarHeader } from "./tar.js";

export interface StorageRef {
  key: string;
  /** Elements of `type` the pickle says the storage holds. */
  numel: number;
  elementSize: number;
  type: string;
}

/** ('storage', storage_type, key, location, numel[, view_metadata]) → a StorageRef, or why not. */
export function storageOf(pid: Value): StorageRef | string {
  if (!isSym(pid) || pid.t !== "tuple") return "not a tuple";
  const [tag, type, key, location, numel] = pid.items;
  if (tag !== "storage") return `tag ${describe(tag ?? null)}`;
  if (!isSym(type) || type.t !== "global") return "storage type is not an imported class";
  const elementSize = own(TORCH_STORAGE_ELEMENT_SIZE, type.name);
  if (elementSize === undefined || (type.module !== "torch" && type.module !== "torch.storage" && type.module !== "torch.cuda")) {
    return `unknown storage type ${type.module}.${type.name}`;
  }
  if (typeof key !== "string") return "storage key is not a string";
  // torch.load compares it and calls its startswith (restore_location): an object there would answer with its own code.
  if (typeof location !== "string") return "storage location is not a string";
  if (typeof numel !== "number" || !Number.isSafeInteger(numel) || numel < 0) return "storage size is not a non-negative integer";
  return { key, numel, elementSize, type: type.name };
}

/** A rebuilt tensor's view of its storage (P15b). */
export interface TensorView {
  rebuilder: string;
  storage: StorageRef;
  offset: number;
  size: number[];
  stride: number[];
  at: number;
}

/** The view a rebuilder's call (storage, offset, size, stride, …) takes of `storage`, or undefined when its operands are malformed. */
export function tensorView(rebuilder: string, call: CallResult, storage: StorageRef): TensorView | undefined {
  const [, offset, size, stride] = isSym(call.args) && call.args.t === "tuple" ? call.args.items : [];
  const dims = intTuple(size);
  const steps = intTuple(stride);
  if (typeof offset !== "number" || !Number.isInteger(offset) || !dims || !steps || dims.length !== steps.length) return undefined;
  return { rebuilder, storage, offset, size: dims, stride: steps, at: call.at };
}

/** Reports a rebuilder's call whose offset, size or stride tensorView cannot read (MG120). */
export function reportMalformedView(rebuilder: string, call: CallResult, ctx: ScanContext): void {
  ctx.report("MG120", `${rebuilder} is called with a malformed offset, size or stride`, { offset: call.at, evidence: describe(call) });
}

/** Reports a view that reaches outside its storage (MG120): torch enlarges the storage to fit, allocating what the view asks. */
export function reportView(v: TensorView, ctx: ScanContext): void {
  const problem = viewProblem(v);
  if (!problem) return;
  ctx.report("MG120", `tensor view of storage ${v.storage.key} ${problem}`, {
    offset: v.at,
    evidence: `${v.rebuilder}(offset=${v.offset}, size=(${v.size.join(", ")}), stride=(${v.stride.join(", ")})) on ${v.storage.numel} elements`,
  });
}

function viewProblem(v: TensorView): string | undefined {
  if (v.offset < 0) return `has a negative storage offset ${v.offset}`;
  if (v.size.some((d) => d < 0)) return "has a negative size";
  if (v.stride.some((d) => d < 0)) return "has a negative stride";
  if (v.size.some((d) => d === 0)) return v.offset > v.storage.numel ? "starts past the end of its storage" : undefined;
  let last = v.offset;
  for (let i = 0; i < v.size.length; i++) last += (v.size[i]! - 1) * v.stride[i]!;
  if (!Number.isSafeInteger(last) || last >= v.storage.numel) {
    return `reaches element ${last} of a storage with ${v.storage.numel} elements`;
  }
  return undefined;
}

function intTuple(v: Value | undefined): number[] | undefined {
  if (!isSym(v) || v.t !== "tuple" || !v.items.every((i) => typeof i === "number" && Number.isInteger(i))) return undefined;
  return v.items as number[];
}

/** torch.save's legacy layout: five pickles, then each storage as int64 count + bytes. */
export const LEGACY_PARTS = ["magic number", "protocol version", "system info", "object", "storage keys"] as const;
/** The pickles before the object's. */
const LEADING_PICKLES = LEGACY_PARTS.indexOf("object");
/** A tar header's block. */
const TAR_BLOCK = 512;

/**
 * The storage torch.load of `source` returns, or undefined when it may return anything else: no zip
 * or tar (torch.load reads a zip first, and a tar file as its oldest layout; bytes are no file, but
 * refusing a tar costs nothing), and the object pickle after the three leading ones is a
 * storage's persistent id alone (the loader hands back any other id's object as it is: a
 * ('module', X, …) id is X, whatever X is). What the pickles do is scanned as the bytes' own
 * member; this only says what the load hands back.
 */
export async function loadedStorage(source: ByteSource): Promise<StorageRef | undefined> {
  const head = await source.read(0, TAR_BLOCK);
  if ((head[0] === 0x50 && head[1] === 0x4b) || isTarHeader(head)) return undefined;
  const quiet = new PickleAnalyst(() => undefined, { torchscript: false });
  let at = 0;
  for (let i = 0; i <= LEADING_PICKLES; i++) {
    const outcome = await new Machine(new StreamReader(source, at), quiet).run();
    if (!outcome.stopped) return undefined;
    if (i === LEADING_PICKLES) {
      const storage = isSym(outcome.result) && outcome.result.t === "pid" ? storageOf(outcome.result.pid) : undefined;
      return typeof storage === "object" ? storage : undefined;
    }
    at = outcome.end;
  }
  return undefined;
}
