/**
 * Keras models: HDF5 files (Keras 2 `.h5`, legacy `.keras`) and Keras 3 `.keras` zips. Both carry a
 * JSON model config that Keras turns into objects at load time; the config is where the attacks
 * are (THREATS K1, K2): Lambda layers with marshalled bytecode, and module/function references
 * that make Keras import and call things outside itself (CVE-2024-3660, CVE-2025-1550 family).
 *
 * HDF5 is read with h5wasm (libhdf5 compiled to WebAssembly, so a parser bug stays inside its
 * sandbox). libhdf5 reads synchronously from its in-memory file system, so the file has to be
 * copied in whole, which is why its size is bounded. Nothing in the config (keras_version, layer
 * names) lowers a finding (X2).
 */
import h5wasm from "h5wasm";
import { LIMITS } from "../limits.js";
import { own } from "../own.js";
import { judge } from "../pickle/judge.js";
import { KERAS_DANGEROUS_FUNCTIONS, KERAS_MODULE_ROOTS } from "../rules/kerasAndRepo.js";
import { readAll, type ByteSource } from "../sources/byteSource.js";
import type { FormatScanner, ScanContext } from "./context.js";
import { scanZipEntry, type ZipArchive, type ZipEntry } from "./zip.js";

/**
 * Largest HDF5 file copied into memory (CWE-400). The copy lives in the JS heap beside the WASM
 * heap; 1 GiB (the engine's in-memory layer bound) covers Keras 2 models of ~250M float32
 * parameters. Larger files are reported as not analysed rather than read (fail closed).
 */
const H5_MAX_BYTES = LIMITS.maxInMemoryLayer;
/** Largest model/training config parsed (CWE-400: real configs are kilobytes to a few megabytes). */
const CONFIG_MAX_BYTES = 16 * 1024 * 1024;
/** Config values visited in one walk (CWE-400); a 16 MiB JSON cannot legitimately hold more. */
const CONFIG_MAX_NODES = 2_000_000;
/** HDF5 allows a user block of 512·2^n bytes before the superblock; these offsets fit in a sniff read. */
const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Root attributes Keras 2 turns into objects on load. */
const CONFIG_ATTRIBUTES = ["model_config", "training_config"] as const;

/** Is this an HDF5 file? The signature sits at 0 or at a power-of-two user-block offset ≥ 512. */
export function sniffHdf5(head: Uint8Array, size: number): boolean {
  for (let at = 0; at + HDF5_SIGNATURE.length <= Math.min(head.length, size); at = at === 0 ? 512 : at * 2) {
    if (HDF5_SIGNATURE.equals(head.subarray(at, at + HDF5_SIGNATURE.length))) return true;
  }
  return false;
}

/** Scans the model and training configs stored as root attributes of a Keras HDF5 file. */
export const scanKerasH5: FormatScanner = async (source: ByteSource, ctx: ScanContext) => {
  if (source.size > H5_MAX_BYTES) {
    ctx.report("MG265", `HDF5 file is ${source.size} bytes, over the ${H5_MAX_BYTES}-byte in-memory bound; its model config was not analysed`);
    return;
  }
  let attributes: Map<string, unknown>;
  try {
    attributes = await readRootAttributes(await readAll(source));
  } catch (err) {
    ctx.report("MG265", `HDF5 file could not be read (${firstLine(err)}); its model config was not analysed`);
    return;
  }
  for (const name of CONFIG_ATTRIBUTES) {
    if (!attributes.has(name)) continue;
    const text = attributeText(attributes.get(name));
    if (text === undefined) ctx.report("MG264", `root attribute ${name} is not a string; it was not analysed`);
    else checkKerasConfigText(text, ctx, name);
  }
};

type H5Module = Awaited<typeof h5wasm.ready>;
let h5Module: Promise<H5Module> | undefined;
let fileCounter = 0;

/** Loads the WASM module once; HDF5 errors then throw instead of printing to stderr. */
function h5(): Promise<H5Module> {
  h5Module ??= h5wasm.ready.then((m) => {
    m.activate_throwing_error_handler();
    return m;
  });
  return h5Module;
}

/** The config-bearing root attributes, read synchronously while the file sits in the WASM file system. */
async function readRootAttributes(bytes: Uint8Array): Promise<Map<string, unknown>> {
  const module = await h5();
  const path = `/modelgate-${process.pid}-${fileCounter++}.h5`;
  module.FS.writeFile(path, bytes);
  try {
    const file = new h5wasm.File(path, "r");
    if (file.file_id < 0n) throw new Error("libhdf5 refused to open it");
    try {
      const attrs = file.attrs;
      const out = new Map<string, unknown>();
      for (const name of CONFIG_ATTRIBUTES) {
        const attr = own(attrs, name);
        if (attr) out.set(name, attr.value);
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

/** Parses one JSON config (bounded) and walks it. `where` names it in messages ("model_config", "config.json"). */
export function checkKerasConfigText(text: string, ctx: ScanContext, where: string): void {
  if (text.length > CONFIG_MAX_BYTES) {
    ctx.report("MG264", `${where} is ${text.length} characters, over the ${CONFIG_MAX_BYTES} bound; it was not analysed`);
    return;
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (err) {
    ctx.report("MG264", `${where} is not valid JSON (${firstLine(err)}); it was not analysed`);
    return;
  }
  walkKerasConfig(config, ctx, where);
}

interface Pending {
  value: unknown;
  at: string;
  /** Inside a Lambda layer already reported: its serialized function is not reported twice. */
  inLambda: boolean;
}

/** Reports Lambda layers and every module/function reference outside Keras in a parsed config. */
export function walkKerasConfig(config: unknown, ctx: ScanContext, where: string): void {
  const pending: Pending[] = [{ value: config, at: where, inLambda: false }];
  for (let visited = 0; pending.length > 0; visited++) {
    if (visited >= CONFIG_MAX_NODES) {
      ctx.report("MG264", `${where} has more than ${CONFIG_MAX_NODES} values; the rest was not analysed`);
      return;
    }
    const { value, at, inLambda } = pending.pop()!;
    if (Array.isArray(value)) {
      value.forEach((v, i) => pending.push({ value: v, at: `${at}[${i}]`, inLambda }));
    } else if (isRecord(value)) {
      const lambda = !inLambda && checkLambda(value, ctx, at);
      checkReference(value, ctx, at);
      for (const [k, v] of Object.entries(value)) pending.push({ value: v, at: `${at}.${k}`, inLambda: inLambda || lambda });
    }
  }
}

/** Keras 2 `Lambda` layers and Keras 3 `__lambda__` functions hold bytecode (base64 of marshal.dumps). */
function checkLambda(obj: Record<string, unknown>, ctx: ScanContext, at: string): boolean {
  const cls = obj["class_name"];
  if (cls !== "Lambda" && cls !== "__lambda__") return false;
  const config = isRecord(obj["config"]) ? obj["config"] : {};
  const name = typeof config["name"] === "string" ? ` "${config["name"]}"` : "";
  const code = cls === "Lambda" ? config["function"] : config["code"];
  const what = cls === "Lambda" ? `Lambda layer${name}` : "serialized __lambda__ function";
  ctx.report("MG260", `${what} at ${at} carries Python bytecode that runs when the model is loaded or called`, {
    evidence: `${at}: ${describeCode(code)}`,
  });
  return true;
}

function describeCode(code: unknown): string {
  const first = Array.isArray(code) ? code[0] : code;
  if (typeof first === "string") return `${first.length} characters of base64 marshalled code (${first.slice(0, 40)}…)`;
  return `function ${JSON.stringify(first)?.slice(0, 80) ?? "?"}`;
}

/**
 * Keras 3 objects name their class or function by `module` + `class_name` (functions: class_name
 * "function", the name in `config`); Keras imports the module and looks the name up.
 */
function checkReference(obj: Record<string, unknown>, ctx: ScanContext, at: string): void {
  const module = obj["module"];
  const cls = obj["class_name"];
  const registered = obj["registered_name"];
  if (typeof module === "string") {
    const name = cls === "function" && typeof obj["config"] === "string" ? obj["config"] : typeof cls === "string" ? cls : "";
    const full = name ? `${module}.${name}` : module;
    const evidence = `${at}: module ${JSON.stringify(module)}, ${cls === "function" ? "function" : "class"} ${JSON.stringify(name)}`;
    const verdict = judge(module, name, { torchscript: false });
    const kerasDanger = own(KERAS_DANGEROUS_FUNCTIONS, name);
    if (verdict.kind === "deny" || verdict.kind === "walk") {
      const why = verdict.kind === "deny" ? verdict.entry.reason : "walks attributes to something not allowlisted";
      ctx.report("MG263", `config references ${full}, which ${why}`, { evidence });
    } else if (kerasDanger !== undefined) {
      ctx.report("MG263", `config references ${full}, which ${kerasDanger}`, { evidence });
    } else if (!KERAS_MODULE_ROOTS.includes(module.split(".")[0]!)) {
      ctx.report("MG261", `config makes Keras import module "${module}" (${full}), outside Keras and TensorFlow`, { evidence });
    } else if (typeof registered === "string" && registered.includes(">")) {
      ctx.report("MG262", `config uses the registered custom object "${registered}"`, { evidence: `${at}: registered_name ${registered}` });
    }
  } else if (typeof registered === "string" && registered.includes(">")) {
    ctx.report("MG262", `config uses the registered custom object "${registered}"`, { evidence: `${at}: registered_name ${registered}` });
  }
}

/** A `.keras` v3 zip: config.json and metadata.json at the root (weights in model.weights.h5). */
export function isKerasArchive(entryNames: readonly string[]): boolean {
  return entryNames.includes("config.json") && entryNames.includes("metadata.json");
}

/** Walks config.json of a `.keras` zip and scans every other member by content. */
export async function scanKerasArchive(archive: ZipArchive, ctx: ScanContext): Promise<void> {
  for (const entry of archive.entries.slice(0, LIMITS.maxMembers)) {
    if (entry.name.endsWith("/") && entry.uncompressedSize === 0) continue;
    if (entry.name === "config.json") await scanZipEntry(archive, entry, ctx, (source, memberCtx) => scanConfigMember(entry, source, memberCtx));
    else await scanZipEntry(archive, entry, ctx);
  }
}

async function scanConfigMember(entry: ZipEntry, source: ByteSource, ctx: ScanContext): Promise<void> {
  if (source.size > CONFIG_MAX_BYTES) {
    ctx.report("MG264", `config.json is ${source.size} bytes (declared ${entry.uncompressedSize}), over the ${CONFIG_MAX_BYTES}-byte bound; it was not analysed`);
    return;
  }
  checkKerasConfigText(Buffer.from(await readAll(source)).toString("utf8"), ctx, "config.json");
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n").find((l) => /error|unable|not|fail/i.test(l))?.trim().slice(0, 200) ?? text.slice(0, 200);
}
