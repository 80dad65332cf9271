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
import { describe, isSym, type Value } from "../pickle/values.js";
import { TORCH_STORAGE_ELEMENT_SIZE } from "../rules/callables.js";
import type { ByteSource } from "../sources/byteSource.js";
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
  const [tag, type, key, , numel] = pid.items;
  if (tag !== "storage") return `tag ${describe(tag ?? null)}`;
  if (!isSym(type) || type.t !== "global") return "storage type is not an imported class";
  const elementSize = own(TORCH_STORAGE_ELEMENT_SIZE, type.name);
  if (elementSize === undefined || (type.module !== "torch" && type.module !== "torch.storage" && type.module !== "torch.cuda")) {
    return `unknown storage type ${type.module}.${type.name}`;
  }
  if (typeof key !== "string") return "storage key is not a string";
  if (typeof numel !== "number" || !Number.isSafeInteger(numel) || numel < 0) return "storage size is not a non-negative integer";
  return { key, numel, elementSize, type: type.name };
}

/** The legacy layout's pickles before the object's: magic number, protocol version, system info. */
const LEADING_PICKLES = 3;
/** A tar header's block: torch.load opens bytes that start with one as its oldest, tar layout. */
const TAR_BLOCK = 512;

/**
 * Whether torch.load of `source` returns a storage it holds: no zip or tar (torch.load reads those
 * first, and returns what they hold), and the object pickle after the three leading ones is a
 * storage's persistent id alone (the loader hands back any other id's object as it is: a
 * ('module', X, …) id is X, whatever X is). What the pickles do is scanned as the bytes' own
 * member; this only says what the load hands back.
 */
export async function loadsOneStorage(source: ByteSource): Promise<boolean> {
  const head = await source.read(0, TAR_BLOCK);
  if ((head[0] === 0x50 && head[1] === 0x4b) || isTarHeader(head)) return false;
  const quiet = new PickleAnalyst(() => undefined, { torchscript: false });
  let at = 0;
  for (let i = 0; i <= LEADING_PICKLES; i++) {
    const outcome = await new Machine(new StreamReader(source, at), quiet).run();
    if (!outcome.stopped) return false;
    if (i === LEADING_PICKLES) return isSym(outcome.result) && outcome.result.t === "pid" && typeof storageOf(outcome.result.pid) !== "string";
    at = outcome.end;
  }
  return false;
}
