/**
 * PyTorch checkpoints: the zip layout (`<prefix>/data.pkl` + `data/<key>` storages), TorchScript
 * archives (`constants.pkl`, `code/`), and the legacy stream (magic, protocol, sys info, object
 * pickle, storage keys, then raw storages). Pickles are read as torch.load reads them; every
 * rebuilt tensor is checked against the storage it views (P15b).
 */
import type { ByteSource } from "../sources/byteSource.js";
import type { ScanContext } from "./context.js";
import { scanPickle, type PickleLayout } from "./pickle.js";
import type { PickleHooks } from "../pickle/analyst.js";
import { describe, isSym, type CallResult, type PersistentRef, type Value } from "../pickle/values.js";
import { scanZipEntry, type ZipArchive, type ZipEntry } from "./zip.js";
import { scanTorchScriptCode } from "./torchscript.js";
import { LEGACY_PARTS, reportMalformedView, reportView, storageOf, tensorView, type StorageRef, type TensorView } from "./torchStorage.js";

/** Collects storages and tensor views while a checkpoint pickle is analysed. */
class TensorLedger implements PickleHooks {
  readonly storages = new Map<string, StorageRef>();
  readonly views: TensorView[] = [];
  /** Weak: a pickle can make millions of references to one storage, and only those still reachable can be rebuilt. */
  private readonly byRef = new WeakMap<PersistentRef, StorageRef>();

  /** `legacy`: the legacy layout, whose loader also answers module ids (see legacyModuleClass). */
  constructor(
    private readonly ctx: ScanContext,
    private readonly legacy = false,
  ) {}

  onPersistentId(ref: PersistentRef): Value | undefined {
    const cls = this.legacy ? legacyModuleClass(ref.pid) : undefined;
    if (cls !== undefined) return cls;
    const s = storageOf(ref.pid);
    if (typeof s === "string") {
      this.ctx.report("MG123", `persistent id is not a storage reference: ${s}`, { offset: ref.at, evidence: describe(ref.pid) });
      return;
    }
    const known = this.storages.get(s.key);
    if (known && (known.numel !== s.numel || known.elementSize !== s.elementSize)) {
      this.ctx.report("MG123", `storage ${s.key} is declared twice with different sizes`, { offset: ref.at });
    }
    if (!known) this.storages.set(s.key, s);
    this.byRef.set(ref, known ?? s);
    return undefined;
  }

  onTensorRebuild(rebuilder: string, call: CallResult): void {
    const storage = isSym(call.args) && call.args.t === "tuple" ? call.args.items[0] : undefined;
    const ref = isSym(storage) && storage.t === "pid" ? this.byRef.get(storage) : undefined;
    if (!ref) return; // not a checkpoint storage (e.g. a nested tensor); nothing to check against
    const view = tensorView(rebuilder, call, ref);
    if (view) this.views.push(view);
    else reportMalformedView(rebuilder, call, this.ctx);
  }

  /** Every view must stay inside its storage, and every storage inside the bytes that hold it. */
  check(storageBytes: (key: string) => number | undefined): void {
    for (const s of this.storages.values()) {
      const have = storageBytes(s.key);
      const need = s.numel * s.elementSize;
      if (have === undefined) this.ctx.report("MG123", `storage ${s.key} (${s.type}) is referenced but not present`);
      else if (have < need) {
        this.ctx.report("MG123", `storage ${s.key} declares ${need} bytes (${s.numel} × ${s.type}) but holds ${have}`);
      }
    }
    for (const v of this.views) reportView(v, this.ctx);
  }
}

/**
 * The legacy torch.save pickles each nn.Module subclass as a persistent id ('module', class,
 * source file, source) and its loader returns the second item as it is (it only compares the
 * source with the installed one, and warns). So the id is that value, judged wherever it is then
 * called or built; undefined for any other id.
 */
function legacyModuleClass(pid: Value): Value | undefined {
  if (!isSym(pid) || pid.t !== "tuple" || pid.items[0] !== "module" || pid.items.length < 2) return undefined;
  return pid.items[1];
}

// ---- zip layout

/**
 * PyTorch's zip checkpoints and TorchScript archives. Members the layout does not name are scanned by content.
 *
 * torch.jit.load unpickles every `X.pkl` record it reads (data.pkl, constants.pkl, since torch 2.1
 * traced_inputs.pkl, bytecode.pkl of mobile archives…) with the same unpickler and the same
 * TorchScript rebuilders, so in a TorchScript archive every `.pkl` member is read as a pickle and
 * judged with the TorchScript context, whatever its name; one member is never judged differently
 * from its siblings. In a torch.save archive only `data.pkl` is unpickled by torch.load.
 */
export async function scanTorchZip(archive: ZipArchive, ctx: ScanContext, layout: "pytorch" | "torchscript"): Promise<void> {
  // PyTorch's reader takes the archive's folder from its first member, whatever the others are named
  // (an archive whose first member is in no folder it refuses: then the records' folder is taken).
  const folderOf = (name: string) => name.slice(0, name.indexOf("/") + 1);
  const first = archive.entries[0]?.name ?? "";
  const prefix = folderOf(first.includes("/") ? first : (archive.entries.find((e) => /^[^/]+\/(data|constants)\.pkl$/i.test(e.name))?.name ?? ""));
  const pickleLayout: PickleLayout = layout === "torchscript" ? "torchscript" : "plain";
  const code: ZipEntry[] = [];
  let bytecode: ZipEntry | undefined;
  for (const entry of archive.entries) {
    // miniz looks members up ignoring ASCII case: archive/CODE/m.PY is code, BYTECODE.pkl the bytecode.
    const name = entry.name.toLowerCase();
    const rel = name.startsWith(prefix.toLowerCase()) ? name.slice(prefix.length) : name;
    if (rel === "data.pkl" || rel === "constants.pkl" || (layout === "torchscript" && isRecordPickle(rel))) {
      // The lite interpreter runs the operators a mobile archive's bytecode.pkl lists.
      if (layout === "torchscript" && rel === "bytecode.pkl") bytecode = entry;
      // torch.load / torch.jit.load unpickle these by name whatever their content, so they are read as pickles;
      // the tensors of `X.pkl` live in the folder `X/`.
      const ledger = new TensorLedger(ctx);
      await scanZipEntry(archive, entry, ctx, (source, mctx) => scanPickle(source, mctx, { layout: pickleLayout, hooks: ledger }));
      const sizes = storageSizes(archive, `${prefix}${rel.slice(0, -4)}/`);
      ledger.check(rel === "data.pkl" || rel === "constants.pkl" ? sizes : skippedData(ledger, sizes));
    } else if (layout === "torchscript" && rel.endsWith(".debug_pkl")) {
      await scanZipEntry(archive, entry, ctx, (source, mctx) => scanPickle(source, mctx, { layout: pickleLayout }));
    } else if (rel.startsWith("code/") && rel.endsWith(".py")) {
      code.push(entry);
    } else if (!(entry.name.endsWith("/") && entry.uncompressedSize === 0)) {
      await scanZipEntry(archive, entry, ctx);
    }
  }
  if (code.length > 0 || bytecode) await scanTorchScriptCode(archive, code, bytecode, ctx);
}

/**
 * Storage sizes for a record written with skip_tensor_data (torch.jit.save writes traced_inputs.pkl
 * so: shapes and dtypes only, every storage an empty record; torch.jit.load reads it only to
 * restore shapes). When every storage the record references is present and empty, the storages
 * are not held against their bytes; views are still checked against the sizes they declare. A
 * record with any non-empty storage is checked like data.pkl. Never applied to data.pkl or
 * constants.pkl, whose tensors are always loaded.
 */
function skippedData(ledger: TensorLedger, sizes: (key: string) => number | undefined): (key: string) => number | undefined {
  const keys = [...ledger.storages.keys()];
  const allEmpty = keys.length > 0 && keys.every((k) => sizes(k) === 0);
  return allEmpty ? (key) => (sizes(key) === undefined ? undefined : Number.MAX_SAFE_INTEGER) : sizes;
}

/** A pickled record of a TorchScript archive: `X.pkl` directly under the archive's folder. */
function isRecordPickle(rel: string): boolean {
  return rel.endsWith(".pkl") && !rel.includes("/") && rel.length > 4;
}

/** Storage sizes by key for the members under `folder`. */
function storageSizes(archive: ZipArchive, folder: string): (key: string) => number | undefined {
  const sizes = new Map<string, number>();
  const under = folder.toLowerCase();
  for (const e of archive.entries) if (e.name.toLowerCase().startsWith(under)) sizes.set(e.name.slice(under.length).toLowerCase(), e.uncompressedSize);
  // As miniz finds them: ignoring case.
  return (key) => sizes.get(key.toLowerCase());
}

// ---- legacy layout

/** torch.save(..., _use_new_zipfile_serialization=False): five pickles, then each storage as int64 count + bytes. */
export async function scanTorchLegacy(source: ByteSource, ctx: ScanContext): Promise<void> {
  ctx.refineFormat("pytorch-legacy");
  const ledger = new TensorLedger(ctx, true);
  let pos = 0;
  let keys: Value = null;
  for (const part of LEGACY_PARTS) {
    const r = await scanPickle(source, ctx, { offset: pos, single: true, hooks: part === "object" ? ledger : {}, keepValue: part === "storage keys" });
    if (!r.complete) return; // the break is reported; storages cannot be located past it
    pos = r.end;
    keys = r.value;
  }
  const declared = isSym(keys) && keys.t === "list" ? keys.n : -1;
  // torch writes storages in sorted(key) order; keys are ASCII, so JS ordering matches Python's.
  const order = [...ledger.storages.keys()].sort();
  if (declared !== order.length) {
    ctx.report("MG123", `the storage key list has ${declared < 0 ? "no list" : `${declared} keys`} but the object references ${order.length} storages`, { offset: pos });
    ledger.check(() => undefined);
    return;
  }
  const sizes = new Map<string, number>();
  for (const key of order) {
    const s = ledger.storages.get(key)!;
    const head = await source.read(pos, 8);
    if (head.length < 8) {
      ctx.report("MG123", `storage ${key} starts past the end of the file`, { offset: pos });
      break;
    }
    const count = Buffer.from(head).readBigInt64LE(0);
    const bytes = count * BigInt(s.elementSize);
    if (count < 0n || pos + 8 + Number(bytes) > source.size) {
      ctx.report("MG123", `storage ${key} declares ${count} elements, more than the file holds`, { offset: pos });
      break;
    }
    sizes.set(key, Number(bytes));
    pos += 8 + Number(bytes);
  }
  ledger.check((key) => sizes.get(key));
  if (pos < source.size && sizes.size === order.length) await scanPickle(source, ctx, { offset: pos, trailing: true });
}
