/**
 * The HDF5 reader worker that src/formats/hdf5Client.ts starts: reads a file's Keras config root
 * attributes and what PyTables would unpickle from it with libhdf5 (h5wasm), one message per file. It runs in its own
 * thread because libhdf5 trusts a file's structures and a crafted one can make it loop for ever:
 * the main thread ends the worker when a read exceeds its time bound.
 */
import { parentPort, type MessagePort } from "node:worker_threads";
import { own } from "../own.js";
import { errorText } from "../errors.js";

/** Root attributes Keras 2 turns into objects on load. */
const CONFIG_ATTRIBUTES = ["model_config", "training_config"] as const;

/** A value PyTables unpickles when it is read, where it sits, and whether anything but a pickle there fails harmlessly. */
export interface PickledValue {
  /** "/path/to/node@attribute" or "/path/to/node[row]". */
  where: string;
  bytes: Uint8Array;
  /** An ObjectAtom row: PyTables unpickles it whatever it holds. An attribute is unpickled only when it ends with ".", and read as it is when that fails. */
  always: boolean;
}

/** What one file holds for the scan: its Keras config attributes and what PyTables would unpickle, with what was left unread. */
export interface Hdf5Contents {
  attributes: Map<string, string | null>;
  pickles: PickledValue[];
  /** Why part of the file was not looked at for pickles (a bound). */
  unread: string[];
  /** Nodes whose "shape" attribute pandas' read_hdf allocates an empty array of (np.empty(shape, value_type)), with its elements. */
  emptyShapes: { where: string; elements: number }[];
}

/** What the reader answers: the file's contents, or why they could not be read. */
export type ReaderReply = { ok: true; contents: Hdf5Contents; heapBytes: number } | { ok: false; error: string; fatal: boolean };

if (!parentPort) throw new Error("hdf5Reader.js runs as a worker thread of src/formats/hdf5Client.ts");
void serveReads(parentPort);

async function serveReads(port: MessagePort): Promise<void> {
  // Imported here, not at the top: only the worker needs the WASM module compiled.
  const { default: h5wasm } = await import("h5wasm");
  const module = await h5wasm.ready;
  // HDF5 errors then throw instead of printing to stderr.
  module.activate_throwing_error_handler();
  port.on("message", (bytes: Uint8Array) => {
    let reply: ReaderReply;
    try {
      reply = { ok: true, contents: readContents(h5wasm, module, bytes), heapBytes: module.HEAPU8.length };
    } catch (err) {
      reply = { ok: false, error: hdf5Cause(err), fatal: err instanceof Error && err.name === "RuntimeError" };
    }
    port.postMessage(reply);
  });
  port.postMessage("ready");
}

/** libhdf5 reports a stack of frames, outermost first: the innermost one names the cause ("file signature not found"). */
function hdf5Cause(err: unknown): string {
  const text = errorText(err);
  const frames = [...text.matchAll(/#\d+: .* in (\w+)\(\): (.+)$/gm)];
  const last = frames[frames.length - 1];
  return last ? `${last[2]!.trim()} (${last[1]})` : text;
}

type H5Wasm = (typeof import("h5wasm"))["default"];
type H5Module = Awaited<H5Wasm["ready"]>;
let fileCounter = 0;

/** The file's contents for the scan, read synchronously while the file sits in the WASM file system. */
function readContents(h5wasm: H5Wasm, module: H5Module, bytes: Uint8Array): Hdf5Contents {
  const path = `/modelgate-${fileCounter++}.h5`;
  module.FS.writeFile(path, bytes);
  try {
    const file = new h5wasm.File(path, "r");
    if (file.file_id < 0n) throw new Error("libhdf5 refused to open it");
    try {
      const attrs = file.attrs;
      const attributes = new Map<string, string | null>();
      for (const name of CONFIG_ATTRIBUTES) {
        const attr = own(attrs, name);
        if (attr) attributes.set(name, attributeText(attr.value) ?? null);
      }
      return { attributes, ...pyTablesPickles(h5wasm, module, file.file_id) };
    } finally {
      file.close();
    }
  } finally {
    module.FS.unlink(path);
  }
}

/** Objects whose attributes are read, values kept and bytes kept per file (CWE-400: a file of millions of nodes or rows). */
const PICKLE_BOUNDS = { objects: 100_000, values: 1_000_000, bytes: 256 * 1024 * 1024 };
const H5T_INTEGER = 0;
const H5T_STRING = 3;
const H5T_VLEN = 9;
const H5T_CSET_UTF8 = 1;

/**
 * What PyTables unpickles when the file is read (tables/attributeset.py, tables/atom.py): a node's
 * scalar fixed-length byte-string attribute ending with "." (non-native attribute values are stored
 * so, pickled with protocol 0; any such value is tried, TITLE and CLASS on opening), and each row of
 * a VLArray of ObjectAtom (pandas' to_hdf writes object columns so). Keras' and h5py's files hold
 * neither, so a few attribute reads are all they cost.
 */
function pyTablesPickles(h5wasm: H5Wasm, module: H5Module, fileId: bigint): Omit<Hdf5Contents, "attributes"> {
  const found: Omit<Hdf5Contents, "attributes"> = { pickles: [], unread: [], emptyShapes: [] };
  const { pickles, unread, emptyShapes } = found;
  let bytes = 0;
  const keep = (value: PickledValue): boolean => {
    if (pickles.length >= PICKLE_BOUNDS.values || bytes + value.bytes.length > PICKLE_BOUNDS.bytes) {
      unread.push(`more than ${PICKLE_BOUNDS.values} values or ${PICKLE_BOUNDS.bytes} bytes PyTables would unpickle; from ${value.where} on they were not scanned`);
      return false;
    }
    pickles.push(value);
    bytes += value.bytes.length;
    return true;
  };
  const paths = ["/", ...module.get_names(fileId, "/", true).map((n) => `/${n}`)];
  if (paths.length > PICKLE_BOUNDS.objects) unread.push(`${paths.length} nodes, more than ${PICKLE_BOUNDS.objects}; the attributes of those past it were not looked at`);
  for (const path of paths.slice(0, PICKLE_BOUNDS.objects)) {
    const names = module.get_attribute_names(fileId, path);
    for (const name of names) {
      // UTF-8 strings come back as str, which PyTables never unpickles.
      const raw = attributeBytes(module, fileId, path, name);
      if (raw && !raw.utf8 && raw.bytes.length > 0 && raw.bytes[raw.bytes.length - 1] === 0x2e && !keep({ where: `${path}@${name}`, bytes: raw.bytes, always: false })) return found;
    }
    // pandas' fixed format reads a node with a "shape" attribute as np.empty(shape, value_type) (red team round 38: 11.8 GB).
    // PyTables stores the tuple pickled ("(I0\nI3\ntp0\n."), or an array of integers.
    if (names.includes("shape") && module.get_type(fileId, path) === module.H5O_TYPE_DATASET) {
      const text = attributeBytes(module, fileId, path, "shape");
      const value = text ? undefined : new h5wasm.Dataset(fileId, path).attrs["shape"]?.value;
      const dims = text ? pickledInts(Buffer.from(text.bytes).toString("latin1")) : ArrayBuffer.isView(value) ? Array.from(value as unknown as ArrayLike<number | bigint>, Number) : typeof value === "number" || typeof value === "bigint" ? [Number(value)] : undefined;
      emptyShapes.push({ where: path, elements: dims ? dims.reduce((p, d) => p * Math.max(0, d), 1) : Infinity });
    }
    if (!names.includes("PSEUDOATOM") || module.get_type(fileId, path) !== module.H5O_TYPE_DATASET) continue;
    const atom = attributeBytes(module, fileId, path, "PSEUDOATOM");
    if (!atom || Buffer.from(atom.bytes).toString("latin1") !== "object") continue;
    const dataset = new h5wasm.Dataset(fileId, path);
    // ObjectAtom.fromarray unpickles each row's bytes whatever their declared type: rows of one-byte
    // integers are read here, and anything else cannot be read as PyTables reads it (fail closed).
    const base = dataset.metadata.vlen_type;
    if (dataset.metadata.type !== H5T_VLEN || base?.type !== H5T_INTEGER || base.size !== 1) {
      unread.push(`an object array at ${path} (PSEUDOATOM "object") whose rows are not one-byte integers; PyTables unpickles them, and they were not scanned`);
      continue;
    }
    const rows = dataset.value;
    if (!Array.isArray(rows)) continue;
    for (const [i, row] of rows.entries()) {
      if (!ArrayBuffer.isView(row)) continue;
      if (!keep({ where: `${path}[${i}]`, bytes: new Uint8Array(row.buffer, row.byteOffset, row.byteLength).slice(), always: true })) return found;
    }
  }
  return found;
}

/** The integers of a tuple pickled with protocol 0 as PyTables writes a shape ("(I1\nI0\ntp0\n."); undefined for anything else. */
function pickledInts(text: string): number[] | undefined {
  const m = /^\(((?:I-?\d+\n|L-?\d+L?\n)*)t(?:p\d+\n)?\.$/.exec(text);
  return m ? [...m[1]!.matchAll(/[IL](-?\d+)/g)].map((d) => Number(d[1])) : undefined;
}

/**
 * A single-valued byte-string attribute's bytes as PyTables reads them (tables/hdf5extension.pyx
 * _g_getattr): a fixed-length one whole with its trailing NULs dropped (h5wasm's own decoding stops at
 * the first NUL, which a binary pickle is full of), a variable-length one to its NUL (red team round
 * 38: pandas_type written so), and whether it is UTF-8 (PyTables reads that as str); undefined for
 * anything else.
 */
function attributeBytes(module: H5Module, fileId: bigint, path: string, name: string): { bytes: Uint8Array; utf8: boolean } | undefined {
  const meta = module.get_attribute_metadata(fileId, path, name);
  if (meta.type !== H5T_STRING || meta.total_size !== 1) return undefined;
  const utf8 = meta.cset === H5T_CSET_UTF8;
  const size = meta.vlen ? 4 : meta.size; // a variable-length string is a pointer in the WASM heap
  if (size <= 0) return undefined;
  const at = module._malloc(size);
  if (at === 0) throw new Error(`allocating ${size} bytes for attribute ${name} of ${path} failed`);
  try {
    module.get_attribute_data(fileId, path, name, BigInt(at));
    if (meta.vlen) {
      const heap = module.HEAPU8;
      const text = new DataView(heap.buffer, heap.byteOffset, heap.byteLength).getUint32(at, true);
      try {
        let end = text;
        while (text !== 0 && module.HEAPU8[end] !== 0) end++;
        return text === 0 ? undefined : { bytes: module.HEAPU8.slice(text, end), utf8 };
      } finally {
        module.reclaim_vlen_memory(fileId, path, name, BigInt(at));
      }
    }
    let end = meta.size;
    while (end > 0 && module.HEAPU8[at + end - 1] === 0) end--;
    return { bytes: module.HEAPU8.slice(at, at + end), utf8 };
  } finally {
    module._free(at);
  }
}

/** h5py writes str attributes as variable-length strings; older Keras wrote bytes (fixed-length or opaque). */
function attributeText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("utf8");
  return undefined;
}
