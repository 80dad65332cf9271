/**
 * safetensors: an 8-byte little-endian header length N, N bytes of UTF-8 JSON mapping tensor names
 * to `{dtype, shape, data_offsets: [begin, end]}` (plus an optional `__metadata__` of strings),
 * then the data section. The header is validated the way the reference loader (huggingface/
 * safetensors, safetensors/src/tensor.rs) validates it, so a file the loader refuses, or reads
 * differently from us, is a finding (S1). Only the header is read, never the tensor data.
 *
 * Sharded models add `model.safetensors.index.json`, whose `weight_map` names the shard files;
 * those names are checked to stay inside the model folder.
 */
import type { ByteSource } from "../sources/byteSource.js";
import { own } from "../own.js";
import type { FormatScanner, ScanContext } from "./context.js";
import { containersOver, findDuplicateJsonKeys, stringEnd } from "./jsonText.js";
import { LIMITS } from "../limits.js";

export const SAFETENSORS_LIMITS = Object.freeze({
  /** The reference loader's MAX_HEADER_SIZE (CWE-400/CWE-789: a huge header parsed into memory). */
  maxHeaderBytes: 100_000_000,
  /** Largest index file read (CWE-400); real ones are a few MB even for 400B-parameter models. */
  maxIndexBytes: 64 * 1024 * 1024,
});

/** Where the JSON header starts: after the 8-byte length. */
const HEADER_START = 8;
const OPEN_BRACE = 0x7b;
const METADATA_KEY = "__metadata__";

/** Element sizes in bits, from the reference Dtype::bitsize (F4 and F6 pack several elements per byte). */
const DTYPE_BITS: Readonly<Record<string, number>> = {
  BOOL: 8, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8,
  F4: 4, F6_E2M3: 6, F6_E3M2: 6,
  I16: 16, U16: 16, F16: 16, BF16: 16,
  I32: 32, U32: 32, F32: 32,
  I64: 64, U64: 64, F64: 64, C64: 64,
};

/** Keys only a safetensors header has, for claiming a file whose length field is past 2^53. */
const HEADER_KEYS = ["\"dtype\"", "\"data_offsets\"", "\"__metadata__\""];
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const U64_LIMIT = 1n << 64n;

/**
 * safetensors has no magic number: a plausible 8-byte length, then `{`, then a key or `}`. A length
 * past 2^53 (which JavaScript readers round) is claimed only when the head also shows a safetensors
 * key, so the scanner reports the lie instead of skipping the file as unknown.
 */
export function sniffSafetensors(head: Uint8Array, size: number): boolean {
  if (head.length < HEADER_START + 2 || size < HEADER_START + 2) return false;
  if (head[HEADER_START] !== OPEN_BRACE) return false;
  const length = readU64(head, 0);
  if (length < 2n) return false;
  let i = HEADER_START + 1;
  while (i < head.length && isJsonSpace(head[i]!)) i++;
  if (i >= head.length || (head[i] !== 0x22 /* " */ && head[i] !== 0x7d) /* } */) return false;
  if (length <= MAX_SAFE) return true;
  const text = Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString("latin1");
  return HEADER_KEYS.some((k) => text.includes(k));
}

export const scanSafetensors: FormatScanner = async (source: ByteSource, ctx: ScanContext) => {
  if (source.size < HEADER_START) {
    ctx.report("MG200", `safetensors file is ${source.size} bytes, shorter than its 8-byte header length`, { offset: 0 });
    return;
  }
  const declared = readU64(await source.read(0, HEADER_START), 0);
  const room = BigInt(source.size - HEADER_START);
  if (declared > room || declared > BigInt(SAFETENSORS_LIMITS.maxHeaderBytes)) {
    const past = declared > MAX_SAFE ? ", and it is past 2^53, so JavaScript readers round it to another length" : "";
    const why = `${declared > room ? `the file holds only ${room} bytes after it` : `the reference loader refuses headers over ${SAFETENSORS_LIMITS.maxHeaderBytes} bytes`}${past}`;
    ctx.report("MG200", `safetensors header length ${declared} is impossible: ${why}`, { offset: 0, evidence: `header length ${declared}` });
    return;
  }
  const headerLength = Number(declared);
  const header = parseJsonObject(await source.read(HEADER_START, headerLength));
  if (typeof header === "string") {
    ctx.report("MG201", `safetensors header is not a JSON object: ${header}`, { offset: HEADER_START });
    return;
  }
  for (const dup of findDuplicateJsonKeys(header.text)) {
    ctx.report("MG202", `safetensors header repeats key "${dup}"; loaders disagree on which value wins`, { offset: HEADER_START, evidence: dup });
  }
  checkNumberLiterals(header.text, ctx);
  checkTensors(header.value, source.size - HEADER_START - headerLength, ctx);
};

interface Range {
  name: string;
  begin: number;
  end: number;
}

/** Checks every entry, then that the valid ranges tile the data section exactly. */
function checkTensors(header: Record<string, unknown>, dataLength: number, ctx: ScanContext): void {
  const ranges: Range[] = [];
  let allValid = true;
  for (const [name, info] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      checkMetadata(info, ctx);
      continue;
    }
    const range = checkTensor(name, info, dataLength, ctx);
    if (range) ranges.push(range);
    else allValid = false;
  }
  // An entry already reported leaves a hole that is a consequence, not a second problem.
  if (allValid) checkTiling(ranges, dataLength, ctx);
}

function checkMetadata(metadata: unknown, ctx: ScanContext): void {
  if (!isPlainObject(metadata)) {
    ctx.report("MG207", `safetensors __metadata__ is ${jsonKind(metadata)}, not an object of strings`, { offset: HEADER_START });
    return;
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== "string") {
      ctx.report("MG207", `safetensors __metadata__ "${key}" is ${jsonKind(value)}, not a string`, { offset: HEADER_START, evidence: key });
    }
  }
}

/** Validates one tensor entry; returns its data range when the entry is consistent, after reporting what is not. */
function checkTensor(name: string, info: unknown, dataLength: number, ctx: ScanContext): Range | undefined {
  const bad = (rule: "MG203" | "MG204" | "MG206", why: string, evidence?: string): undefined => {
    ctx.report(rule, `safetensors tensor "${name}" ${why}`, { offset: HEADER_START, evidence: evidence ?? name });
    return undefined;
  };
  if (!isPlainObject(info)) return bad("MG203", `is ${jsonKind(info)}, not a tensor description`);
  const { dtype, shape, data_offsets: offsets } = info;
  const bits = typeof dtype === "string" ? own(DTYPE_BITS, dtype) : undefined;
  if (bits === undefined) return bad("MG203", `has unknown dtype ${JSON.stringify(dtype) ?? "(missing)"}`);
  if (!Array.isArray(shape) || !shape.every(isIndex)) return bad("MG203", `has shape ${short(shape)}, not a list of non-negative integers`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
    return bad("MG203", `has data_offsets ${short(offsets)}, not [begin, end] integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end || end > dataLength) {
    return bad("MG204", `has data_offsets [${begin}, ${end}] outside the ${dataLength}-byte data section`, `data_offsets [${begin}, ${end}]`);
  }
  const elements = (shape as number[]).reduce((n, d) => n * BigInt(d), 1n);
  const elementBits = elements * BigInt(bits);
  const evidence = `${dtype} shape [${shape.join(", ")}], data_offsets [${begin}, ${end}]`;
  // The reference loader multiplies with checked usize arithmetic and refuses; C and JS readers wrap around.
  if (elements >= U64_LIMIT || elementBits / 8n >= U64_LIMIT) {
    ctx.report("MG225", `safetensors tensor "${name}" has ${elements} elements (${elementBits / 8n} bytes): past 64 bits, so unchecked loaders allocate a wrapped-around size`, {
      offset: HEADER_START,
      evidence,
    });
    return undefined;
  }
  if (elementBits % 8n !== 0n) return bad("MG206", `packs ${elementBits} bits, not a whole number of bytes`, evidence);
  if (elementBits / 8n !== BigInt(end - begin)) {
    return bad("MG206", `needs ${elementBits / 8n} bytes for its shape and dtype but data_offsets span ${end - begin}`, evidence);
  }
  return { name, begin, end };
}

/**
 * Number literals of the raw header text, outside strings: the only numbers a valid header holds are
 * shapes and offsets, exact unsigned integers. A literal past 2^53 is rounded by JSON.parse (and every
 * double-based reader) while the reference loader reads it exactly; a fraction or exponent ("4.0",
 * "4e0") is refused by the reference loader and read as an integer by JSON.parse.
 */
function checkNumberLiterals(text: string, ctx: ScanContext): void {
  const reported = new Set<string>();
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      i = stringEnd(text, i);
      continue;
    }
    if (c !== 0x2d /* - */ && (c < 0x30 || c > 0x39)) continue;
    let j = i + 1;
    while (j < text.length && /[0-9eE.+-]/.test(text[j]!)) j++;
    const literal = text.slice(i, j);
    i = j - 1;
    if (reported.has(literal)) continue;
    let why: string | undefined;
    if (!/^-?\d+$/.test(literal)) why = "is not an integer literal: the reference loader refuses it, JSON.parse reads it as a number";
    else if (BigInt(literal) > MAX_SAFE || BigInt(literal) < -MAX_SAFE) {
      why = `is past 2^53: JSON.parse reads it as ${Number(literal)}, the reference loader as ${literal}${BigInt(literal) >= U64_LIMIT ? " (or refuses it past 64 bits)" : ""}`;
    }
    if (why === undefined) continue;
    reported.add(literal);
    ctx.report("MG224", `safetensors header number ${literal.slice(0, 40)} ${why}`, { offset: HEADER_START, evidence: literal.slice(0, 80) });
  }
}

/** Ranges sorted by position must follow each other with neither overlap nor gap, from 0 to the end. */
function checkTiling(ranges: Range[], dataLength: number, ctx: ScanContext): void {
  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: Range | undefined;
  for (const r of ranges) {
    if (r.begin < covered) {
      ctx.report("MG205", `safetensors tensors "${previous!.name}" and "${r.name}" overlap`, {
        offset: HEADER_START,
        evidence: `[${previous!.begin}, ${previous!.end}) and [${r.begin}, ${r.end})`,
      });
    } else if (r.begin > covered) {
      ctx.report("MG205", `safetensors data bytes [${covered}, ${r.begin}) belong to no tensor`, { offset: HEADER_START, evidence: `hole before "${r.name}"` });
    }
    if (r.end >= covered) {
      covered = r.end;
      previous = r;
    }
  }
  if (covered < dataLength) {
    ctx.report("MG205", `safetensors data bytes [${covered}, ${dataLength}) at the end of the file belong to no tensor`, {
      offset: HEADER_START,
      evidence: `${dataLength - covered} uncovered bytes`,
    });
  }
}

/** Reads a shard index (`model.safetensors.index.json`) from `source` and checks it. */
export const scanSafetensorsIndex: FormatScanner = async (source: ByteSource, ctx: ScanContext) => {
  if (source.size > SAFETENSORS_LIMITS.maxIndexBytes) {
    ctx.report("MG209", `safetensors index is ${source.size} bytes, over the ${SAFETENSORS_LIMITS.maxIndexBytes}-byte bound; it was not checked`);
    return;
  }
  const text = decodeUtf8(await source.read(0, source.size));
  if (text === undefined) ctx.report("MG209", "safetensors index is not valid UTF-8");
  else checkSafetensorsIndex(text, ctx);
};

/** The names transformers and diffusers look for shard indexes under (`model.safetensors.index.json`, …). */
export function isSafetensorsIndexName(name: string): boolean {
  return /\.safetensors\.index\.json$/i.test(name);
}

/** True for parsed JSON shaped like a shard index: an object whose `weight_map` is an object. */
export function isSafetensorsIndex(parsed: unknown): boolean {
  return isPlainObject(parsed) && isPlainObject(parsed["weight_map"]);
}

/** Checks the text of a shard index: every weight_map value must be a file name inside the model folder. */
export function checkSafetensorsIndex(text: string, ctx: ScanContext): void {
  if (containersOver(text, LIMITS.jsonMaxContainers)) {
    ctx.report("MG209", `safetensors index holds more than ${LIMITS.jsonMaxContainers} objects and lists; it was not parsed`);
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    ctx.report("MG209", `safetensors index is not JSON: ${(err as Error).message}`);
    return;
  }
  if (!isSafetensorsIndex(parsed)) {
    ctx.report("MG209", "safetensors index has no weight_map object");
    return;
  }
  for (const dup of findDuplicateJsonKeys(text)) {
    ctx.report("MG202", `safetensors index repeats key "${dup}"; loaders disagree on which shard holds it`, { evidence: dup });
  }
  const weightMap = (parsed as { weight_map: Record<string, unknown> }).weight_map;
  // ~100,000 tensors name a few dozen shards: each shard name is judged once. for-in, not
  // Object.entries: JSON.parse makes an object that large a dictionary, whose entries cost twice as much.
  const escapes = new Map<string, boolean>();
  for (const tensor in weightMap) {
    const shard = weightMap[tensor];
    if (typeof shard !== "string" || shard === "") {
      ctx.report("MG209", `safetensors index maps "${tensor}" to ${jsonKind(shard)}, not a shard file name`, { evidence: tensor });
      continue;
    }
    let escaping = escapes.get(shard);
    if (escaping === undefined) escapes.set(shard, (escaping = escapesFolder(shard)));
    if (escaping) {
      ctx.report("MG208", `safetensors index maps "${tensor}" to "${shard}", outside the model folder`, { evidence: `${tensor} → ${shard}` });
    }
  }
}

/** Absolute (POSIX, Windows drive, UNC) or climbing out with `..`; both separators count, as on Windows. */
function escapesFolder(name: string): boolean {
  if (/^[/\\]/.test(name) || /^[A-Za-z]:/.test(name)) return true;
  return name.split(/[/\\]/).some((segment) => segment === "..");
}

/** Decodes strict UTF-8 and parses a JSON object; returns why not as a string. */
function parseJsonObject(bytes: Uint8Array): { text: string; value: Record<string, unknown> } | string {
  const text = decodeUtf8(bytes);
  if (text === undefined) return "not valid UTF-8";
  // The reference loader requires the header to start with "{" (no BOM, no leading space).
  if (!text.startsWith("{")) return `starts with ${JSON.stringify(text.slice(0, 8))}, not "{"`;
  if (containersOver(text, LIMITS.jsonMaxContainers)) return `holds more than ${LIMITS.jsonMaxContainers} objects and lists; it was not parsed`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  return isPlainObject(value) ? { text, value } : `is ${jsonKind(value)}`;
}

/** Strict UTF-8 (a BOM is kept, so a header starting with one is not "{"); undefined if invalid. */
function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function readU64(bytes: Uint8Array, at: number): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(at, true);
}

function isJsonSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Non-negative integers JavaScript holds exactly; larger values cannot describe data in a real file. */
function isIndex(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function jsonKind(v: unknown): string {
  if (v === undefined) return "missing";
  if (v === null) return "null";
  return Array.isArray(v) ? "an array" : `a ${typeof v}`;
}

function short(v: unknown): string {
  const s = JSON.stringify(v) ?? "(missing)";
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
