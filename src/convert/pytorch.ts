/**
 * Conversion plans for PyTorch checkpoints. The zip layout (`<prefix>/data.pkl`, storages in
 * `<prefix>/data/<key>`, an optional `byteorder` record) and the legacy stream (five pickles, then
 * each storage as an int64 element count and its bytes, in the order of the storage key list) are
 * read the way torch.load reads them; the storages are never read here, only located.
 */
import { LIMITS } from "../limits.js";
import type { ScanBudget } from "../formats/context.js";
import type { ZipArchive, ZipEntry } from "../formats/zip.js";
import { isSym } from "../pickle/values.js";
import { readAll, SliceSource, type ByteSource } from "../sources/byteSource.js";
import { flatten, type Flattened, type RebuiltTensor } from "./extract.js";
import { rebuildPickle } from "./observer.js";
import { checkView, ConvertInputError, type ConversionPlan, type TensorPlan } from "./tensors.js";

/** The metadata transformers expects of a PyTorch state dict in safetensors (it refuses files without a known format). */
const FORMAT_KEY = "format";
const FORMAT_PT = "pt";

export async function planTorchZip(archive: ZipArchive, rootName: string, budget: ScanBudget): Promise<ConversionPlan> {
  const record = archive.entries.find((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (!record) throw new ConvertInputError("the zip has no <name>/data.pkl: not a torch.save checkpoint");
  const prefix = record.name.slice(0, record.name.indexOf("/") + 1);
  const members = new Map(archive.entries.map((e) => [e.name, e]));
  const order = members.get(`${prefix}byteorder`);
  // Checkpoints written before the record existed are little-endian.
  const byteorder = order ? Buffer.from(await readAllOf(await openMember(archive, order, budget))).toString("latin1") : "little";
  if (byteorder !== "little" && byteorder !== "big") throw new ConvertInputError(`${prefix}byteorder says "${byteorder}", not little or big`);

  const flat = flatten(await rebuildPickle(await openMember(archive, record, budget), record.name), rootName);
  const storages = new Map<string, ByteSource>();
  const tensors: TensorPlan[] = [];
  for (const t of flat.tensors) {
    const name = `${prefix}data/${t.storage.key}`;
    let storage = storages.get(name);
    if (!storage) {
      const entry = members.get(name);
      if (!entry) throw new ConvertInputError(`tensor "${t.name}" views storage ${t.storage.key}, but the archive has no member ${name}`);
      storages.set(name, (storage = await openMember(archive, entry, budget)));
    }
    tensors.push(plannedTensor(t, storage, name, byteorder === "big"));
  }
  return withFormatMarker({ format: "pytorch-zip", tensors, metadata: {}, dropped: [] }, flat);
}

/** 0x1950a86a20f9469cfc6c: the first pickle of every legacy checkpoint. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

export async function planTorchLegacy(source: ByteSource, rootName: string): Promise<ConversionPlan> {
  const magic = await rebuildPickle(source, "the magic number pickle");
  if (magic.result !== LEGACY_MAGIC) throw new ConvertInputError("the legacy checkpoint does not start with torch's magic number");
  const protocol = await rebuildPickle(source, "the protocol version pickle", magic.end);
  if (protocol.result !== LEGACY_PROTOCOL) throw new ConvertInputError(`legacy protocol version ${String(protocol.result)} is not ${LEGACY_PROTOCOL}`);
  // sys_info says whether the saving machine was little-endian; storages are little-endian on disk
  // whatever it says (torch's writer swaps on big-endian machines), so nothing is swapped.
  const sysInfo = await rebuildPickle(source, "the system info pickle", protocol.end);
  const object = await rebuildPickle(source, "the object pickle", sysInfo.end);
  const keyList = await rebuildPickle(source, "the storage key pickle", object.end);
  const keys = keyList.result;
  if (!isSym(keys) || keys.t !== "list" || !keys.items.every((k): k is string => typeof k === "string")) {
    throw new ConvertInputError("the legacy storage key pickle is not a list of strings");
  }
  // torch.load reads the storages in the order of this list, each an int64 element count and its bytes.
  const located = new Map<string, ByteSource>();
  let pos = keyList.end;
  for (const key of keys.items as string[]) {
    const ref = object.storageByKey(key);
    if (!ref) throw new ConvertInputError(`the storage key list names ${key}, which no tensor references`);
    const head = await source.read(pos, 8);
    if (head.length < 8) throw new ConvertInputError(`storage ${key} starts past the end of the file`);
    const count = Buffer.from(head).readBigInt64LE(0);
    const bytes = Number(count) * ref.elementSize;
    if (count < 0n || count !== BigInt(ref.numel) || pos + 8 + bytes > source.size) {
      throw new ConvertInputError(`storage ${key} at offset ${pos} declares ${count} elements; the pickle says ${ref.numel} and the file holds ${source.size - pos - 8} bytes`);
    }
    located.set(key, new SliceSource(`storage ${key}`, source, pos + 8, bytes));
    pos += 8 + bytes;
  }
  const flat = flatten(object, rootName);
  const tensors = flat.tensors.map((t) => {
    const storage = located.get(t.storage.key);
    if (!storage) throw new ConvertInputError(`tensor "${t.name}" views storage ${t.storage.key}, which the storage key list does not name`);
    return plannedTensor(t, storage, `storage ${t.storage.key}`, false);
  });
  return withFormatMarker({ format: "pytorch-legacy", tensors, metadata: {}, dropped: [] }, flat);
}

function plannedTensor(t: RebuiltTensor, storage: ByteSource, storageKey: string, bigEndian: boolean): TensorPlan {
  const declared = t.storage.numel * t.storage.elementSize;
  if (storage.size < declared) throw new ConvertInputError(`${storageKey} holds ${storage.size} bytes but is declared as ${declared}`);
  checkView(t.name, t.dtype, t.shape, t.stride, t.offset, declared);
  return { name: t.name, dtype: t.dtype, shape: t.shape, stride: t.stride, offset: t.offset, storage, storageKey, bigEndian };
}

/** Adds the flattened metadata and the `format: pt` marker (a checkpoint value of that name is dropped rather than overwrite it). */
function withFormatMarker(plan: ConversionPlan, flat: Flattened): ConversionPlan {
  const metadata: Record<string, string> = { [FORMAT_KEY]: FORMAT_PT };
  const dropped = [...flat.dropped];
  for (const [k, v] of Object.entries(flat.metadata)) {
    if (k === FORMAT_KEY) dropped.push({ name: k, why: `clashes with the "${FORMAT_KEY}: ${FORMAT_PT}" marker loaders expect` });
    else metadata[k] = v;
  }
  return { ...plan, metadata, dropped };
}

/** A member's content; a member PyTorch would not read as the directory describes it is bad input. */
export async function openMember(archive: ZipArchive, entry: ZipEntry, budget: ScanBudget): Promise<ByteSource> {
  const member = await archive.open(entry, budget);
  const trouble = member.problem?.message ?? (member.mismatches.length > 0 ? `local header disagrees (${member.mismatches.join("; ")})` : undefined);
  if (trouble || !member.source) throw new ConvertInputError(`zip member ${entry.name} ${trouble ?? "is unreadable"}`);
  return member.source;
}

async function readAllOf(source: ByteSource): Promise<Uint8Array> {
  if (source.size > LIMITS.sniffBytes) throw new ConvertInputError(`${source.name} is ${source.size} bytes, too long for a byte-order record`);
  return readAll(source);
}
