/**
 * 7z archives (nullifAI shipped PyTorch models 7z-compressed) through 7z-wasm: 7-Zip compiled to
 * WebAssembly, run on an in-memory file system. The listing's declared sizes are checked against
 * the limits before anything is extracted; encrypted archives and members are MG141.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { FileSystem, SevenZipModule, SevenZipModuleFactory, SevenZipModuleOptions } from "7z-wasm";
import { LIMITS } from "../limits.js";
import type { ArchiveMember } from "../rules/shadowing.js";
import { BufferSource, type ByteSource } from "../sources/byteSource.js";
import { formatBytes } from "../units.js";
import { Chunks } from "./chunks.js";
import { canDescend, checkExtractedModules, checkMemberNames, layerCapacity, memberBudget, memberHead } from "./container.js";
import type { FormatScanner, ScanContext } from "./context.js";
import type { DecodedStream } from "./streamDecoders.js";
import { errorText } from "../errors.js";

export interface SevenZipRun {
  /** Exit status 0 and no exception. */
  ok: boolean;
  /** 7-Zip's error output, or why it failed. */
  error: string;
  /** What 7-Zip wrote to stdout. */
  stdout: string;
  /** The in-memory file system the run worked in (extracted files stay there). */
  fs: FileSystem;
}

const WORKDIR = "/mg";
/** A dummy password for reading commands, so 7-Zip never waits for one on stdin when it meets encryption. */
export const NO_PASSWORD = "-pmodelgate";

/**
 * Runs 7-Zip once on a fresh instance (an instance is not reusable after a failed run: 7-Zip's
 * C++ exceptions escape as bare numbers; and a fresh one carries nothing from the file before).
 * `files` are written to the working folder first.
 */
export async function run7z(args: string[], files: Readonly<Record<string, Uint8Array>>): Promise<SevenZipRun> {
  let text = "";
  let errors = "";
  const { module: sevenZip } = await instantiate({
    stdout: (c) => (text += String.fromCharCode(c)),
    print: (line) => (text += line + "\n"),
    printErr: (line) => (errors = withErrorLine(errors, line)),
  });
  for (const [name, data] of Object.entries(files)) sevenZip.FS.writeFile(name, data);
  const run = callMain(sevenZip, args);
  return { ok: run.ok, error: errors.trim() || run.error, stdout: text, fs: sevenZip.FS };
}

/** One 7-Zip command: whether it exited with status 0, and what its failure says when not. */
function callMain(sevenZip: SevenZipModule, args: string[]): { ok: boolean; error: string } {
  // Emscripten sets process.exitCode when a run fails, which would fail the whole process: keep ours.
  const exitCode = process.exitCode;
  try {
    const status = sevenZip.callMain(["-bd", ...args]) as unknown as number; // -bd: no progress output
    return { ok: status === 0, error: `7-Zip exit status ${status}` };
  } catch (err) {
    return { ok: false, error: `7-Zip failed (${typeof err === "number" ? "internal exception" : String(err)})` };
  } finally {
    process.exitCode = exitCode;
  }
}

/** Where a decoder's output goes during a run (set per stream: the instance's callbacks are fixed). */
interface DecoderOutput {
  onByte: (byte: number) => void;
  errors: string;
}
/** An instance kept to decode the next raw LZMA stream. */
interface LzmaDecoder {
  instance: SevenZipInstance;
  out: DecoderOutput;
}
const IGNORE_BYTE = (): void => undefined;
/** One per process: an instance costs 17 MB of WebAssembly memory until it is collected, and joblib writes .lzma files by the dozen. */
let spareDecoder: LzmaDecoder | undefined;

async function newDecoder(): Promise<LzmaDecoder> {
  const out: DecoderOutput = { onByte: IGNORE_BYTE, errors: "" };
  const instance = await instantiate({
    stdout: (c) => out.onByte(c),
    printErr: (line) => (out.errors = withErrorLine(out.errors, line)),
  });
  return { instance, out };
}

/** Thrown from the output callback once the bytes wanted are in. */
class EnoughOutput extends Error {}

/**
 * Decodes a raw LZMA ("alone") stream with 7-Zip on this thread, stopping once `maxBytes` are
 * out (src/formats/streamDecoders.ts routes a scanning thread's streams here). The instance
 * decodes the next stream only after a clean run (exit status 0) that left its memory the size it
 * was created: a failed or stopped run, or one that grew the heap, drops it. (The instance's memory
 * itself is not reset between streams; 7-Zip frees what a command allocated when the command ends.)
 */
export async function decodeLzmaHere(input: Uint8Array, maxBytes: number): Promise<DecodedStream> {
  // Taken before any await: a spare put back while a new instance starts must not be dropped.
  const spare = spareDecoder;
  spareDecoder = undefined;
  let decoder: LzmaDecoder;
  try {
    decoder = spare ?? (await newDecoder());
  } catch (err) {
    return { chunks: [], ok: false, error: `7-Zip did not start (${errorText(err)})` };
  }
  const { instance, out } = decoder;
  const initialBytes = instance.memoryBytes();
  const output = new Chunks();
  let size = 0;
  out.onByte = (byte) => {
    if (size === maxBytes) throw new EnoughOutput();
    output.addByte(byte);
    size++;
  };
  out.errors = "";
  let run: { ok: boolean; error: string };
  try {
    instance.module.FS.writeFile("in.lzma", input);
    run = callMain(instance.module, ["e", "-so", "-tlzma", NO_PASSWORD, "in.lzma"]);
    instance.module.FS.unlink("in.lzma");
  } catch (err) {
    // The in-memory file system failed (out of WebAssembly memory): the instance is not reused.
    return { chunks: output.done() as Uint8Array<ArrayBuffer>[], ok: false, error: `7-Zip's file system failed (${errorText(err)})` };
  } finally {
    out.onByte = IGNORE_BYTE;
  }
  if (run.ok && instance.memoryBytes() === initialBytes) spareDecoder = decoder;
  return { chunks: output.done() as Uint8Array<ArrayBuffer>[], ok: run.ok, error: out.errors.trim() || run.error };
}

/** Emscripten's hook for supplying the instance itself (not in 7z-wasm's types). */
interface InstantiateHook {
  instantiateWasm(imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void): object;
}

/**
 * 7-Zip's WebAssembly, compiled once per thread: the factory alone would read and compile the
 * 1.6 MB module again for every instance (10–15 ms each, on every joblib .lzma file).
 */
let compiled: WebAssembly.Module | undefined;

/** A 7-Zip module instance and the size of its WebAssembly memory. */
interface SevenZipInstance {
  module: SevenZipModule;
  memoryBytes(): number;
}

/** 7-Zip's error output so far with one more line: its lines joined by spaces, blank ones left out. */
function withErrorLine(errors: string, line: string): string {
  return line.trim() ? errors + line.trim() + " " : errors;
}

/** A fresh 7-Zip instance (its own memory and file system, working in WORKDIR) of the module compiled once. */
async function instantiate(options: Partial<SevenZipModuleOptions>): Promise<SevenZipInstance> {
  const require = createRequire(import.meta.url);
  const factory = require("7z-wasm") as SevenZipModuleFactory;
  compiled ??= new WebAssembly.Module(readFileSync(join(dirname(require.resolve("7z-wasm")), "7zz.wasm")));
  const module = compiled;
  let memory: WebAssembly.Memory | undefined;
  const hook: InstantiateHook = {
    instantiateWasm(imports, done) {
      const instance = new WebAssembly.Instance(module, imports);
      memory = instance.exports["memory"] as WebAssembly.Memory;
      done(instance, module);
      return {}; // Emscripten reads the exports from what `done` got
    },
  };
  const sevenZip = await factory({ ...options, ...hook } as Partial<SevenZipModuleOptions>);
  sevenZip.FS.mkdir(WORKDIR);
  sevenZip.FS.chdir(WORKDIR);
  return { module: sevenZip, memoryBytes: () => memory?.buffer.byteLength ?? 0 };
}

export interface SevenZipEntry {
  name: string;
  size: number;
  encrypted: boolean;
}

/** Parses `7zz l -slt` output: one "Key = value" block per entry after the "----------" line. */
export function parseSevenZipListing(listing: string): SevenZipEntry[] {
  const body = listing.split("\n----------\n")[1] ?? "";
  const entries: SevenZipEntry[] = [];
  for (const block of body.split("\n\n")) {
    const fields = new Map<string, string>();
    for (const line of block.split("\n")) {
      const eq = line.indexOf(" = ");
      if (eq > 0) fields.set(line.slice(0, eq), line.slice(eq + 3));
    }
    const name = fields.get("Path");
    if (name === undefined || (fields.get("Attributes") ?? "").startsWith("D")) continue;
    const size = Number(fields.get("Size") ?? "");
    entries.push({ name, size: Number.isSafeInteger(size) ? size : Number.NaN, encrypted: fields.get("Encrypted") === "+" });
  }
  return entries;
}

export const scanSevenZip: FormatScanner = async (source: ByteSource, ctx: ScanContext) => {
  if (!canDescend(ctx, "7z archive")) return;
  if (source.size > LIMITS.maxInMemoryLayer) {
    ctx.report("MG140", `7z archive is ${source.size} bytes, more than the in-memory layer limit of ${formatBytes(LIMITS.maxInMemoryLayer)}; not analysed`);
    return;
  }
  const archive = await source.read(0, source.size);
  const listing = await run7z(["l", "-slt", "-t7z", NO_PASSWORD, "in.7z"], { "in.7z": archive });
  if (!listing.ok) {
    ctx.report("MG141", `7z archive could not be listed (encrypted headers or corrupt): ${listing.error}`);
    return;
  }
  const entries = parseSevenZipListing(listing.stdout);
  checkMemberNames(ctx, "7z", entries.map((e) => e.name));
  const count = memberBudget(ctx, "7z archive", entries.length);
  for (const e of entries) {
    if (e.encrypted) ctx.report("MG141", `7z member "${e.name}" is encrypted; its content was not analysed`, { evidence: e.name });
  }
  const total = entries.reduce((sum, e) => sum + e.size, 0);
  const capacity = layerCapacity(ctx.budget);
  if (Number.isNaN(total)) {
    ctx.report("MG141", "7z archive lists members without a size; not extracted");
    return;
  }
  if (total > capacity.bytes) {
    ctx.report("MG140", `7z archive declares ${total} bytes of members, more than ${capacity.why}; not extracted`);
    return;
  }
  if (entries.every((e) => e.encrypted)) return;
  // -aou renames duplicate names on extraction, so every copy of a duplicated member is scanned.
  const extracted = await run7z(["x", "-t7z", NO_PASSWORD, "-y", "-aou", "-oout", "in.7z"], { "in.7z": archive });
  if (!extracted.ok && !entries.some((e) => e.encrypted)) {
    ctx.report("MG141", `7z archive could not be fully extracted: ${extracted.error}; what was extracted was scanned`);
  }
  const members: ArchiveMember[] = [];
  for (const name of listFiles(extracted.fs, `${WORKDIR}/out`)) {
    if (members.length >= count) break;
    const source = new BufferSource(name, extracted.fs.readFile(`${WORKDIR}/out/${name}`));
    ctx.budget.decompressedBytes += source.size;
    await ctx.scanMember(name, source);
    members.push({ name, size: source.size, head: () => memberHead(source) });
  }
  await checkExtractedModules(ctx, "7z", members);
};

/** Regular files under `root`, as paths relative to it. */
function listFiles(fs: FileSystem, root: string, prefix = ""): string[] {
  let names: string[];
  try {
    names = fs.readdir(root + (prefix ? `/${prefix}` : ""));
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const name of names) {
    if (name === "." || name === "..") continue;
    const rel = prefix ? `${prefix}/${name}` : name;
    const mode = fs.lstat(`${root}/${rel}`).mode;
    if (fs.isDir(mode)) files.push(...listFiles(fs, root, rel));
    else if (fs.isFile(mode)) files.push(rel);
  }
  return files;
}
