/**
 * The HDF5 reader worker that src/formats/hdf5Client.ts starts: reads the config-bearing root attributes
 * of a Keras HDF5 file with libhdf5 (h5wasm) and answers one message per file. It runs in its own
 * thread because libhdf5 trusts a file's structures and a crafted one can make it loop for ever:
 * the main thread ends the worker when a read exceeds its time bound.
 */
import { parentPort, type MessagePort } from "node:worker_threads";
import { own } from "../own.js";
import { errorText } from "../errors.js";

/** Root attributes Keras 2 turns into objects on load. */
const CONFIG_ATTRIBUTES = ["model_config", "training_config"] as const;

/** What the reader answers: the config attributes (null: present but not text), or why not. */
export type ReaderReply = { ok: true; attributes: Map<string, string | null>; heapBytes: number } | { ok: false; error: string; fatal: boolean };

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
      reply = { ok: true, attributes: readRootAttributes(h5wasm, module, bytes), heapBytes: module.HEAPU8.length };
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

/** The config-bearing root attributes, read synchronously while the file sits in the WASM file system. */
function readRootAttributes(h5wasm: H5Wasm, module: H5Module, bytes: Uint8Array): Map<string, string | null> {
  const path = `/modelgate-${fileCounter++}.h5`;
  module.FS.writeFile(path, bytes);
  try {
    const file = new h5wasm.File(path, "r");
    if (file.file_id < 0n) throw new Error("libhdf5 refused to open it");
    try {
      const attrs = file.attrs;
      const out = new Map<string, string | null>();
      for (const name of CONFIG_ATTRIBUTES) {
        const attr = own(attrs, name);
        if (attr) out.set(name, attributeText(attr.value) ?? null);
      }
      return out;
    } finally {
      file.close();
    }
  } finally {
    module.FS.unlink(path);
  }
}

/** h5py writes str attributes as variable-length strings; older Keras wrote bytes (fixed-length or opaque). */
function attributeText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("utf8");
  return undefined;
}
