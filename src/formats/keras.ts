/**
 * Keras models: HDF5 files (Keras 2 `.h5`, legacy `.keras`) and Keras 3 `.keras` zips. Both carry a
 * JSON model config that Keras turns into objects at load time; the config is where the attacks
 * are (THREATS K1, K2): Lambda layers with marshalled bytecode, and module/function references
 * that make Keras import and call things outside itself (CVE-2024-3660, CVE-2025-1550 family).
 *
 * HDF5 is read with h5wasm (libhdf5 compiled to WebAssembly, so a parser bug stays inside its
 * sandbox), in a reader worker that is ended when a read takes too long (src/formats/hdf5Client.ts).
 * libhdf5 reads synchronously from its in-memory file system, so the file has to be copied in
 * whole, which is why its size is bounded. Nothing in the config (keras_version, layer
 * names) lowers a finding (X2).
 */
import { LIMITS } from "../limits.js";
import { own } from "../own.js";
import { judge, type Judgement } from "../pickle/judge.js";
import { readFileSync } from "node:fs";
import { KERAS_DANGEROUS_FUNCTIONS, KERAS_FILE_LAYERS, KERAS_FUNCTION_MODULES, KERAS_MODULE_ROOTS } from "../rules/kerasAndRepo.js";
import { BufferSource, readAll, type ByteSource } from "../sources/byteSource.js";
import { readHdf5 } from "./hdf5Client.js";
import { layerParameters } from "./kerasLayers.js";
import type { FormatScanner, ScanContext } from "./context.js";
import { scanZipEntry, type ZipArchive, type ZipEntry } from "./zip.js";
import { packageFile } from "../packageFiles.js";
import { errorText } from "../errors.js";

/**
 * Largest HDF5 file copied into memory (CWE-400). The copy lives in the JS heap beside the WASM
 * heap; 1 GiB (the engine's in-memory layer bound) covers Keras 2 models of ~250M float32
 * parameters. Larger files are reported as not analysed rather than read (fail closed).
 */
const H5_MAX_BYTES = LIMITS.maxInMemoryLayer;
/** Chunk size of the copy handed to the reader. */
const COPY_CHUNK_BYTES = 64 * 1024 * 1024;
/** Largest model/training config parsed (CWE-400: real configs are kilobytes to a few megabytes). */
const CONFIG_MAX_BYTES = 16 * 1024 * 1024;
/** Config values visited in one walk (CWE-400); a 16 MiB JSON cannot legitimately hold more. */
const CONFIG_MAX_NODES = 2_000_000;
/** HDF5 allows a user block of 512·2^n bytes before the superblock; libhdf5 searches those offsets to the end of the file. */
const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The signature offsets libhdf5 tries, from `from` (0 or a power of two ≥ 512) while the signature fits in `size` bytes. */
function* signatureOffsets(from: number, size: number): Generator<number> {
  for (let at = from; at + HDF5_SIGNATURE.length <= size; at = at === 0 ? 512 : at * 2) yield at;
}

/** Is this an HDF5 file, by the offsets inside `head`? The signature sits at 0 or at a user-block offset. */
export function sniffHdf5(head: Uint8Array, size: number): boolean {
  for (const at of signatureOffsets(0, Math.min(head.length, size))) {
    if (HDF5_SIGNATURE.equals(head.subarray(at, at + HDF5_SIGNATURE.length))) return true;
  }
  return false;
}

/** Whether the signature sits at a user-block offset at or past `from` bytes (a user block larger than the sniff read). */
export async function hasHdf5SignaturePast(source: ByteSource, from: number): Promise<boolean> {
  let first = 512;
  while (first < from) first *= 2;
  for (const at of signatureOffsets(first, source.size)) {
    if (HDF5_SIGNATURE.equals(await source.read(at, HDF5_SIGNATURE.length))) return true;
  }
  return false;
}

/** Scans the model and training configs stored as root attributes of a Keras HDF5 file. */
export const scanKerasH5: FormatScanner = async (source: ByteSource, ctx: ScanContext) => {
  if (source.size > H5_MAX_BYTES) {
    ctx.report("MG265", `HDF5 file is ${source.size} bytes, over the ${H5_MAX_BYTES}-byte in-memory bound; its model config was not analysed`);
    return;
  }
  const read = await readHdf5(await readOwnedCopy(source));
  if ("failure" in read) {
    const why = read.overTime ? read.failure : `could not be read (${firstLine(read.failure)})`;
    ctx.report("MG265", `HDF5 file ${why}; its model config was not analysed`);
    return;
  }
  for (const [name, text] of read.attributes) {
    if (text === null) {
      ctx.report("MG264", `root attribute ${name} is not a string; it was not analysed`);
      continue;
    }
    const config = parseKerasConfig(text, ctx, name);
    if (config === undefined) continue;
    await scanTorchModuleBlobs(walkKerasConfig(config.value, ctx, name), ctx);
    // The legacy loader builds model_config's layers before it reads any weight: the file is all it can ship.
    if (name === "model_config") checkLayerSizes(config.value, ctx, name, { bytes: source.size, where: "the file" });
  }
  // What PyTables (and pandas' read_hdf through it) unpickles when the file is read.
  for (const why of read.unread) ctx.report("MG265", `HDF5 file has ${why}`);
  for (const { where, elements } of read.emptyShapes) {
    if (elements > LIMITS.pickleMaxSizedElements) {
      const what = elements === Infinity ? "that is not a tuple of integers the scanner can read" : `of ${elements} elements`;
      ctx.report("MG109", `HDF5 node ${where} has a "shape" attribute ${what}, which pandas' read_hdf allocates an empty array of`, { evidence: where });
    }
  }
  for (const p of read.pickles) await ctx.scanMember(p.where, new BufferSource(p.where, p.bytes), p.always ? "pickle" : undefined);
};

/** The whole source in a buffer of its own, so it can be moved (not copied) to the reader. */
async function readOwnedCopy(source: ByteSource): Promise<Uint8Array<ArrayBuffer>> {
  const out = new Uint8Array(source.size);
  for (let at = 0; at < source.size; at += COPY_CHUNK_BYTES) out.set(await source.read(at, Math.min(COPY_CHUNK_BYTES, source.size - at)), at);
  return out;
}

/**
 * Parses one JSON config (bounded) and walks it. `where` names it in messages ("model_config", "config.json").
 * Returns the torch.save blobs of TorchModuleWrapper layers, for the caller to scan (scanTorchModuleBlobs).
 */
export function checkKerasConfigText(text: string, ctx: ScanContext, where: string): TorchModuleBlob[] {
  const config = parseKerasConfig(text, ctx, where);
  return config === undefined ? [] : walkKerasConfig(config.value, ctx, where);
}

/** One JSON config, parsed within the bound; MG264 and undefined when it is over or not JSON. */
function parseKerasConfig(text: string, ctx: ScanContext, where: string): { value: unknown } | undefined {
  if (text.length > CONFIG_MAX_BYTES) {
    ctx.report("MG264", `${where} is ${text.length} characters, over the ${CONFIG_MAX_BYTES} bound; it was not analysed`);
    return undefined;
  }
  try {
    return { value: JSON.parse(text) };
  } catch (err) {
    ctx.report("MG264", `${where} is not valid JSON (${firstLine(err)}); it was not analysed`);
    return undefined;
  }
}

/** The serialized torch module of a TorchModuleWrapper layer: base64 of torch.save's bytes. */
export interface TorchModuleBlob {
  at: string;
  base64: string;
}

/**
 * Scans each TorchModuleWrapper blob as a member, the way Keras reads it: base64-decoded, then
 * torch.load (a zip or a pickle, sniffed by content; pickle when unrecognised).
 */
export async function scanTorchModuleBlobs(blobs: readonly TorchModuleBlob[], ctx: ScanContext): Promise<void> {
  for (const blob of blobs) {
    const text = blob.base64.replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
      ctx.report("MG264", `TorchModuleWrapper module at ${blob.at} is not base64; the torch.save blob was not analysed`, { evidence: blob.at });
      continue;
    }
    await ctx.scanMember(`${blob.at} (torch.save)`, new BufferSource(`${blob.at} (torch.save)`, Buffer.from(text, "base64")), "pickle");
  }
}

interface Pending {
  value: unknown;
  at: string;
  /** Inside a Lambda layer already reported: its serialized function is not reported twice. */
  inLambda: boolean;
}

/**
 * Reports Lambda layers, TorchModuleWrapper layers and every module/function reference outside Keras
 * in a parsed config; returns the TorchModuleWrapper blobs for the caller to scan.
 */
export function walkKerasConfig(config: unknown, ctx: ScanContext, where: string): TorchModuleBlob[] {
  const pending: Pending[] = [{ value: config, at: where, inLambda: false }];
  const verdicts = new Map<string, Judgement>();
  const blobs: TorchModuleBlob[] = [];
  for (let visited = 0; pending.length > 0; visited++) {
    if (visited >= CONFIG_MAX_NODES) {
      ctx.report("MG264", `${where} has more than ${CONFIG_MAX_NODES} values; the rest was not analysed`);
      return blobs;
    }
    const { value, at, inLambda } = pending.pop()!;
    if (Array.isArray(value)) {
      value.forEach((v, i) => pending.push({ value: v, at: `${at}[${i}]`, inLambda }));
    } else if (isRecord(value)) {
      const lambda = !inLambda && checkLambda(value, ctx, at);
      checkReference(value, ctx, at, verdicts);
      checkFileLayer(value, ctx, at);
      const blob = torchModule(value, ctx, at);
      if (blob) blobs.push(blob);
      for (const [k, v] of Object.entries(value)) {
        // The wrapper's config.module is the torch.save blob, not a module for Keras to import.
        const child = blob && k === "config" && isRecord(v) ? Object.fromEntries(Object.entries(v).filter(([ck]) => ck !== "module")) : v;
        pending.push({ value: child, at: `${at}.${k}`, inLambda: inLambda || lambda });
      }
    }
  }
  return blobs;
}

/**
 * keras.layers.TorchModuleWrapper stores `torch.save(module)` as base64 in config.module, and its
 * from_config hands the bytes to torch.load(weights_only=False) once safe mode is off.
 */
function torchModule(obj: Record<string, unknown>, ctx: ScanContext, at: string): TorchModuleBlob | undefined {
  if (obj["class_name"] !== "TorchModuleWrapper") return undefined;
  const config = isRecord(obj["config"]) ? obj["config"] : {};
  const module = config["module"];
  if (module === undefined || module === null) return undefined;
  const size = typeof module === "string" ? `${module.length} characters of base64` : `a ${typeof module}`;
  ctx.report("MG266", `TorchModuleWrapper layer at ${at} carries a torch.save blob that Keras unpickles with torch.load(weights_only=False)`, {
    evidence: `${at}.config.module: ${size}`,
  });
  return typeof module === "string" ? { at: `${at}.config.module`, base64: module } : undefined;
}

/** A layer that opens the file its config names (KERAS_FILE_LAYERS): safe mode refuses these, as it refuses Lambda layers, and safe mode gets switched off. */
function checkFileLayer(obj: Record<string, unknown>, ctx: ScanContext, at: string): void {
  const cls = obj["class_name"];
  const layer = typeof cls === "string" ? own(KERAS_FILE_LAYERS, cls) : undefined;
  const config = obj["config"];
  if (!layer || !isRecord(config)) return;
  const path = config[layer.key];
  if (typeof path !== "string" || path === "") return;
  ctx.report("MG263", `${cls as string} layer at ${at} ${layer.does}: ${JSON.stringify(path)}`, {
    evidence: `${at}.config.${layer.key}: ${JSON.stringify(path)}`,
    severity: layer.severity,
  });
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

let builtinFunctions: ReadonlySet<string> | undefined;

/**
 * Names Keras resolves for `{"module": "builtins", "class_name": "function"}`, the form Keras 3
 * saves a built-in activation, loss or metric passed as a function in: Keras looks them up among
 * its own activations, losses, metrics… (data/keras-builtins.json, from scripts/keras/builtins.py).
 * Any other name under "builtins" is Python's own to the Keras versions that import the module.
 */
function isKerasBuiltinFunction(name: string): boolean {
  if (!builtinFunctions) {
    const data = JSON.parse(readFileSync(packageFile("data/keras-builtins.json"), "utf8")) as { modules: Record<string, string[]> };
    builtinFunctions = new Set(Object.values(data.modules).flat());
  }
  return builtinFunctions.has(name);
}

/**
 * Keras 3 objects name their class or function by `module` + `class_name` (functions: class_name
 * "function", the name in `config`); Keras imports the module and looks the name up.
 */
function checkReference(obj: Record<string, unknown>, ctx: ScanContext, at: string, verdicts: Map<string, Judgement>): void {
  const module = obj["module"];
  const cls = obj["class_name"];
  const registered = obj["registered_name"];
  if (typeof module === "string") {
    const name = cls === "function" && typeof obj["config"] === "string" ? obj["config"] : typeof cls === "string" ? cls : "";
    const full = name ? `${module}.${name}` : module;
    const evidence = `${at}: module ${JSON.stringify(module)}, ${cls === "function" ? "function" : "class"} ${JSON.stringify(name)}`;
    // Cached per walk (CWE-400): a 16 MiB config can repeat one reference 350 000 times; judging each took seconds.
    const key = `${module}\0${name}`;
    let verdict = verdicts.get(key);
    if (!verdict) verdicts.set(key, (verdict = judge(module, name, { torchscript: false, overrides: ctx.callables })));
    const kerasDanger = own(KERAS_DANGEROUS_FUNCTIONS, name);
    if (verdict.kind === "deny" || verdict.kind === "walk") {
      const why = verdict.kind === "deny" ? verdict.entry.reason : "walks attributes to something not allowlisted";
      ctx.report("MG263", `config references ${full}, which ${why}`, { evidence });
    } else if (kerasDanger !== undefined) {
      ctx.report("MG263", `config references ${full}, which ${kerasDanger}`, { evidence });
    } else if (module === "builtins" && cls === "function" && isKerasBuiltinFunction(name)) {
      // Keras's own activation, loss or metric saved by name: nothing is imported.
    } else if (module === "builtins" && cls === "function" && name.includes(">")) {
      // A registered function ("Custom>swish"), which Keras 3 saves under builtins: it is looked up in
      // the registry, and no attribute of builtins can bear a name with ">".
      ctx.report("MG262", `config uses the registered custom function "${name}"`, { evidence });
    } else if (!KERAS_MODULE_ROOTS.includes(module.split(".")[0]!)) {
      ctx.report("MG261", `config makes Keras import module "${module}" (${full}), outside Keras and TensorFlow`, { evidence });
    } else if (cls === "function" && !KERAS_FUNCTION_MODULES.has(module)) {
      ctx.report("MG267", `config references the function ${full}, which is not one of Keras's activations, losses, metrics or tensor operations`, { evidence });
    } else if (typeof registered === "string" && registered.includes(">")) {
      ctx.report("MG262", `config uses the registered custom object "${registered}"`, { evidence: `${at}: registered_name ${registered}` });
    }
  } else if (typeof registered === "string" && registered.includes(">")) {
    ctx.report("MG262", `config uses the registered custom object "${registered}"`, { evidence: `${at}: registered_name ${registered}` });
  }
}

/**
 * A `.keras` v3 zip: config.json at the root beside metadata.json or the weights (model.weights.h5 or
 * .npz). load_model needs no metadata.json, so a zip without one is still a model it builds.
 */
export function isKerasArchive(entryNames: readonly string[]): boolean {
  return entryNames.includes("config.json") && KERAS_ARCHIVE_COMPANIONS.some((n) => entryNames.includes(n));
}

const KERAS_WEIGHTS = ["model.weights.h5", "model.weights.npz"];
const KERAS_ARCHIVE_COMPANIONS = ["metadata.json", ...KERAS_WEIGHTS];

/** Walks config.json of a `.keras` zip and scans every other member by content. */
export async function scanKerasArchive(archive: ZipArchive, ctx: ScanContext): Promise<void> {
  const weights = archive.entries.filter((e) => KERAS_WEIGHTS.includes(e.name)).reduce((n, e) => n + e.uncompressedSize, 0);
  for (const entry of archive.entries.slice(0, LIMITS.maxMembers)) {
    if (entry.name.endsWith("/") && entry.uncompressedSize === 0) continue;
    if (entry.name === "config.json") await scanZipEntry(archive, entry, ctx, (source, memberCtx) => scanConfigMember(entry, source, memberCtx, weights));
    else await scanZipEntry(archive, entry, ctx);
  }
}

async function scanConfigMember(entry: ZipEntry, source: ByteSource, ctx: ScanContext, weights: number): Promise<void> {
  if (source.size > CONFIG_MAX_BYTES) {
    ctx.report("MG264", `config.json is ${source.size} bytes (declared ${entry.uncompressedSize}), over the ${CONFIG_MAX_BYTES}-byte bound; it was not analysed`);
    return;
  }
  const config = parseKerasConfig(Buffer.from(await readAll(source)).toString("utf8"), ctx, "config.json");
  if (config === undefined) return;
  await scanTorchModuleBlobs(walkKerasConfig(config.value, ctx, "config.json"), ctx);
  checkLayerSizes(config.value, ctx, "config.json", { bytes: weights, where: "the archive" });
}

/**
 * load_model builds every layer, allocating and initialising its weights, before it reads the weights
 * the archive or HDF5 file ships (red team round 24: Dense(12000) on 12000 inputs, 3.4 GB from a 15 KB file). What
 * the config's layers hold is bounded by what the archive ships, with room for layers' own slack.
 */
function checkLayerSizes(config: unknown, ctx: ScanContext, where: string, shipped: { bytes: number; where: string }): void {
  const { parameters, largest } = layerParameters(config);
  const bytes = parameters * 4;
  if (bytes <= Math.max(LAYER_BYTES_FLOOR, LAYER_BYTES_PER_SHIPPED * shipped.bytes)) return;
  ctx.report("MG268", `${where} builds layers of ${parameters} weights (${bytes} bytes as float32; the largest, ${largest}), while ${shipped.where} ships ${shipped.bytes} bytes of weights at most`, {
    evidence: largest,
  });
}

/** What the config's layers may hold past what the archive ships: a floor, and a multiple of the shipped bytes. */
const LAYER_BYTES_FLOOR = 256 * 1024 * 1024;
const LAYER_BYTES_PER_SHIPPED = 16;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function firstLine(err: unknown): string {
  const text = errorText(err);
  return text.split("\n").find((l) => /error|unable|not|fail/i.test(l))?.trim().slice(0, 200) ?? text.slice(0, 200);
}

