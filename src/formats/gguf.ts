/**
 * GGUF (ggml's model format, v1–v3; spec: ggml docs/gguf.md): "GGUF", version, tensor count,
 * metadata key/value count, the key/values, the tensor infos, padding to `general.alignment`,
 * then the tensor data. Only the header region is read, through bounded chunked reads: a GGUF can
 * be 50 GB. Every length and count is checked against the bytes left in the file before anything
 * is allocated or looped over (G2: the 2024 parser overflows came from trusting them), 64-bit
 * fields are read as BigInt, and the chat templates found in the metadata are checked (G1).
 * v1 stored counts and lengths in 32 bits, v2 and v3 in 64.
 */
import type { ByteSource } from "../sources/byteSource.js";
import { checkChatTemplate } from "./chatTemplate.js";
import type { FormatScanner, ScanContext } from "./context.js";

export const GGUF_LIMITS = Object.freeze({
  /** Bytes of header walked before giving up (CWE-400: a header that never ends drags a 50 GB file through the scanner). */
  maxHeaderRegion: 256 * 1024 * 1024,
  /** Nesting of array values (CWE-674: recursion on arrays of arrays of…). */
  maxArrayNesting: 8,
  /** ggml's GGML_MAX_DIMS (CWE-787: the dims array loaders copy into is fixed-size). */
  maxDims: 4,
  /** The spec's bound on key length, also applied to tensor names (CWE-789: a name we keep in memory). */
  maxKeyBytes: 65_535,
  /** ggml's GGML_MAX_NAME: gguf.cpp refuses longer tensor names, older ggml truncated them into each other. */
  maxTensorName: 64,
  /** Longest chat template kept for checking (CWE-400); real ones are a few KB. */
  maxTemplateBytes: 1024 * 1024,
  /** Bytes fetched per read while walking the header. */
  chunkBytes: 1024 * 1024,
});

const MAGIC = [0x47, 0x47, 0x55, 0x46]; // "GGUF"
const DEFAULT_ALIGNMENT = 32;
const ALIGNMENT_KEY = "general.alignment";
const TEMPLATE_KEY = "tokenizer.chat_template";
const TOKENS_KEY = "tokenizer.ggml.tokens";
/** Control characters in a key: C loaders stop at NUL, and none belongs in a key. */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
const INT64_MAX = (1n << 63n) - 1n;
const SIZE_MAX = (1n << 64n) - 1n;

/**
 * Arrays llama.cpp reads through a raw pointer of a fixed element type, or per token, with no check
 * of the declared type or count (llama-vocab.cpp: `(const float *) gguf_get_arr_data(ctx, score_idx)`,
 * `(const int *) gguf_get_arr_data(ctx, toktype_idx)`, indexed up to the number of tokens), and string
 * arrays read with gguf_get_arr_str, which asserts (aborts) on another type.
 */
const READ_WIDE: Readonly<Record<string, { types: readonly number[]; perToken: boolean; reads: string }>> = {
  [TOKENS_KEY]: { types: [8], perToken: false, reads: "an array of strings (gguf_get_arr_str asserts the type)" },
  "tokenizer.ggml.merges": { types: [8], perToken: false, reads: "an array of strings (gguf_get_arr_str asserts the type)" },
  "tokenizer.ggml.scores": { types: [6], perToken: true, reads: "float32 per token through a raw pointer" },
  "tokenizer.ggml.token_type": { types: [4, 5], perToken: true, reads: "int32 per token through a raw pointer" },
};

/** The declared type and count of a metadata value that loaders read wide. */
interface ArrayShape {
  key: string;
  type: number;
  elementType?: number;
  count?: number;
  at: number;
}

/** Metadata value types (gguf_metadata_value_type). */
const enum ValueType {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
}
const VALUE_TYPE_NAMES = ["uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array", "uint64", "int64", "float64"];
/** Bytes of each fixed-size value type; strings and arrays are sized by their length fields. */
const FIXED_SIZE: Readonly<Record<number, number>> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

/** ggml tensor types: [block size in elements, bytes per block] (ggml type_traits). Gaps are types ggml removed. */
const GGML_TYPES: ReadonlyMap<number, { name: string; block: number; bytes: number }> = new Map(
  (
    [
      [0, "F32", 1, 4], [1, "F16", 1, 2], [2, "Q4_0", 32, 18], [3, "Q4_1", 32, 20], [6, "Q5_0", 32, 22],
      [7, "Q5_1", 32, 24], [8, "Q8_0", 32, 34], [9, "Q8_1", 32, 36], [10, "Q2_K", 256, 84], [11, "Q3_K", 256, 110],
      [12, "Q4_K", 256, 144], [13, "Q5_K", 256, 176], [14, "Q6_K", 256, 210], [15, "Q8_K", 256, 292],
      [16, "IQ2_XXS", 256, 66], [17, "IQ2_XS", 256, 74], [18, "IQ3_XXS", 256, 98], [19, "IQ1_S", 256, 50],
      [20, "IQ4_NL", 32, 18], [21, "IQ3_S", 256, 110], [22, "IQ2_S", 256, 82], [23, "IQ4_XS", 256, 136],
      [24, "I8", 1, 1], [25, "I16", 1, 2], [26, "I32", 1, 4], [27, "I64", 1, 8], [28, "F64", 1, 8],
      [29, "IQ1_M", 256, 56], [30, "BF16", 1, 2],
      // Interleaved Q4_0 variants: removed from ggml, still found in files written in 2024.
      [31, "Q4_0_4_4", 32, 18], [32, "Q4_0_4_8", 32, 18], [33, "Q4_0_8_8", 32, 18],
      [34, "TQ1_0", 256, 54], [35, "TQ2_0", 256, 66],
      [36, "IQ4_NL_4_4", 32, 18], [37, "IQ4_NL_4_8", 32, 18], [38, "IQ4_NL_8_8", 32, 18],
      [39, "MXFP4", 32, 17],
    ] as const
  ).map(([id, name, block, bytes]) => [id, { name, block, bytes }]),
);

/** A header the scanner cannot read past; reported under `rule` at `offset`. Distinct from I/O errors. */
export class GgufFormatError extends Error {
  constructor(
    readonly rule: "MG210" | "MG211" | "MG212" | "MG213",
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

export function sniffGguf(head: Uint8Array, size: number): boolean {
  return size >= 8 && head.length >= 4 && MAGIC.every((b, i) => head[i] === b);
}

/** Reads the header region forward through a window of chunked reads, never past the file or the region bound. */
class HeaderReader {
  pos = 0;
  private window: Uint8Array = new Uint8Array(0);
  private windowStart = 0;

  constructor(
    private readonly source: ByteSource,
    /** 32-bit counts and lengths (v1) instead of 64-bit. */
    readonly narrow: boolean,
  ) {}

  get remaining(): number {
    return this.source.size - this.pos;
  }

  private async take(n: number): Promise<DataView> {
    this.bound(n);
    if (this.pos < this.windowStart || this.pos + n > this.windowStart + this.window.length) {
      this.window = await this.source.read(this.pos, Math.max(n, GGUF_LIMITS.chunkBytes));
      this.windowStart = this.pos;
    }
    const at = this.pos - this.windowStart;
    this.pos += n;
    return new DataView(this.window.buffer, this.window.byteOffset + at, n);
  }

  /** Moves past `n` bytes without reading them (string values nobody needs, arrays of numbers). */
  skip(n: number): void {
    this.bound(n);
    this.pos += n;
  }

  private bound(n: number): void {
    if (n > this.remaining) throw new GgufFormatError("MG210", `header is truncated: ${n} bytes needed, ${this.remaining} left`, this.pos);
    if (this.pos + n > GGUF_LIMITS.maxHeaderRegion) {
      throw new GgufFormatError("MG212", `header runs past the ${GGUF_LIMITS.maxHeaderRegion}-byte bound`, this.pos);
    }
  }

  async u8(): Promise<number> {
    return (await this.take(1)).getUint8(0);
  }
  async u32(): Promise<number> {
    return (await this.take(4)).getUint32(0, true);
  }
  async u64(): Promise<bigint> {
    return (await this.take(8)).getBigUint64(0, true);
  }
  async bytes(n: number): Promise<Uint8Array> {
    const view = await this.take(n);
    return new Uint8Array(view.buffer, view.byteOffset, n);
  }

  /** A count or length field: 32-bit in v1, 64-bit later. */
  async size(): Promise<bigint> {
    return this.narrow ? BigInt(await this.u32()) : this.u64();
  }

  /**
   * A count of items that each take at least `minBytes`: rejected before anything loops over it
   * when the items cannot fit in what is left of the file.
   */
  async count(what: string, minBytes: number): Promise<number> {
    const at = this.pos;
    const n = await this.size();
    if (n * BigInt(minBytes) > BigInt(this.remaining)) {
      throw new GgufFormatError("MG211", `${what} ${n} cannot fit in the ${this.remaining} bytes left in the file`, at);
    }
    return Number(n);
  }

  /** A string's length, checked to fit; the caller reads or skips the bytes. */
  async stringLength(what: string): Promise<number> {
    return this.count(`${what} length`, 1);
  }

  get stringHeaderBytes(): number {
    return this.narrow ? 4 : 8;
  }
}

interface TensorInfo {
  name: string;
  dims: bigint[];
  type: number;
  offset: bigint;
  at: number;
}

interface Header {
  /** Every alignment some loader can take: duplicate or NUL-suffixed keys give them different ones. */
  alignments: number[];
  tensors: TensorInfo[];
  /** End of the tensor infos: data starts at the next multiple of the alignment. */
  infosEnd: number;
}

export const scanGguf: FormatScanner = async (source: ByteSource, ctx: ScanContext) => {
  const templates: { key: string; text: string }[] = [];
  let header: Header | undefined;
  try {
    header = await readHeader(source, ctx, templates);
  } catch (err) {
    if (!(err instanceof GgufFormatError)) throw err;
    ctx.report(err.rule, `GGUF ${err.message}`, { offset: err.offset });
  }
  // Templates found before a break are still checked: the loader may have read them too.
  for (const t of templates) checkChatTemplate(t.text, ctx, `GGUF metadata ${t.key}`);
  if (header) for (const alignment of header.alignments) checkTensorData(header, alignment, source.size, ctx);
};

async function readHeader(source: ByteSource, ctx: ScanContext, templates: { key: string; text: string }[]): Promise<Header> {
  const shapes: ArrayShape[] = [];
  const start = await source.read(0, 8);
  if (start.length < 8 || !MAGIC.every((b, i) => start[i] === b)) throw new GgufFormatError("MG210", "file does not start with the GGUF magic", 0);
  const version = new DataView(start.buffer, start.byteOffset, 8).getUint32(4, true);
  if (version < 1 || version > 3) {
    const hint = version >= 0x01000000 ? " (a big-endian GGUF, which this scanner does not read)" : "";
    throw new GgufFormatError("MG210", `version ${version} is not 1, 2 or 3${hint}`, 4);
  }
  const r = new HeaderReader(source, version === 1);
  r.skip(8);
  const n = r.stringHeaderBytes;
  // Smallest tensor info: an empty name, n_dims, type, offset. Smallest key/value: empty key, type, one byte.
  const tensorCount = await r.count("tensor count", n + 4 + 4 + 8);
  const kvCount = await r.count("metadata key/value count", n + 4 + 1);

  const alignments: number[] = [];
  let exactAlignmentKey = false;
  const keys = new Set<string>();
  for (let i = 0; i < kvCount; i++) {
    const keyAt = r.pos;
    const stored = await readName(r, "metadata key");
    const key = loaderKey(stored);
    checkKey(stored, key, keys.has(key), keyAt, ctx);
    keys.add(key);
    const typeAt = r.pos;
    const type = await r.u32();
    if (key === ALIGNMENT_KEY) {
      alignments.push(await readAlignment(r, type, ctx));
      exactAlignmentKey ||= stored === key;
    } else if (key === TEMPLATE_KEY || key.startsWith(`${TEMPLATE_KEY}.`)) await readTemplate(r, key, type, typeAt, ctx, templates);
    else if (Object.hasOwn(READ_WIDE, key)) {
      const shape: ArrayShape = { key, type, at: typeAt };
      shapes.push(shape);
      await skipValue(r, type, typeAt, 0, shape);
    } else await skipValue(r, type, typeAt, 0);
  }
  // Readers that keep the NUL (gguf-py) find no alignment key behind one, and use the default.
  if (!exactAlignmentKey) alignments.push(DEFAULT_ALIGNMENT);
  checkReadWide(shapes, ctx);

  const tensors: TensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const info = await readTensorInfo(r);
    if (names.has(info.name)) ctx.report("MG213", `GGUF tensor name "${info.name}" appears twice`, { offset: info.at, evidence: info.name });
    const nameBytes = Buffer.byteLength(info.name);
    if (nameBytes >= GGUF_LIMITS.maxTensorName) {
      ctx.report("MG217", `GGUF tensor name "${info.name.slice(0, 80)}" is ${nameBytes} bytes, at or over ggml's GGML_MAX_NAME of ${GGUF_LIMITS.maxTensorName}: gguf.cpp refuses it and older ggml truncated it into another tensor's name`, {
        offset: info.at,
        evidence: `${nameBytes}-byte tensor name`,
      });
    }
    names.add(info.name);
    tensors.push(info);
  }
  return { alignments: [...new Set(alignments)], tensors, infosEnd: r.pos };
}

/**
 * A key as llama.cpp reads it: gguf_get_key hands out the key as a C string (gguf_find_key compares
 * with strcmp, the model loader copies it into a std::string), so everything from the first NUL
 * on is cut and "tokenizer.chat_template\0" is tokenizer.chat_template.
 */
function loaderKey(stored: string): string {
  const nul = stored.indexOf("\0");
  return nul < 0 ? stored : stored.slice(0, nul);
}

/**
 * A key with control characters, or one that another key already named as loaders read it: which
 * value wins differs (llama.cpp's gguf_find_key and model loader take the first, llama-cpp-python's
 * metadata dict the last), so every value is checked and the ambiguity is reported.
 */
function checkKey(stored: string, key: string, duplicate: boolean, at: number, ctx: ScanContext): void {
  const shown = JSON.stringify(stored);
  if (CONTROL_CHARACTER.test(stored)) {
    const read = stored === key ? "" : `; C loaders cut it at the NUL and read "${key}"`;
    ctx.report("MG216", `GGUF metadata key ${shown} holds a control character${read}`, { offset: at, evidence: shown });
  }
  if (duplicate) ctx.report("MG216", `GGUF metadata key "${key}" appears twice (as loaders read it); every value is checked`, { offset: at, evidence: shown });
}

async function readName(r: HeaderReader, what: string): Promise<string> {
  const at = r.pos;
  const length = await r.stringLength(what);
  if (length > GGUF_LIMITS.maxKeyBytes) throw new GgufFormatError("MG212", `${what} is ${length} bytes, over the ${GGUF_LIMITS.maxKeyBytes}-byte bound`, at);
  return new TextDecoder().decode(await r.bytes(length));
}

/** general.alignment: a uint32 power of two, per the spec; anything else is reported and the default used. */
async function readAlignment(r: HeaderReader, type: number, ctx: ScanContext): Promise<number> {
  const at = r.pos;
  if (type !== ValueType.UINT32) {
    // gguf_get_val_u32 asserts the type: llama.cpp aborts on any other (a uint8 or uint64 alignment).
    ctx.report("MG218", `GGUF ${ALIGNMENT_KEY} has type ${typeName(type)}; loaders read it as uint32 (gguf.cpp asserts, so llama.cpp aborts)`, {
      offset: at,
      evidence: `${ALIGNMENT_KEY}: ${typeName(type)}`,
    });
    await skipValue(r, type, at, 0);
    return DEFAULT_ALIGNMENT;
  }
  const value = await r.u32();
  if (value === 0 || (value & (value - 1)) !== 0) {
    ctx.report("MG210", `GGUF ${ALIGNMENT_KEY} is ${value}, not a power of two`, { offset: at, evidence: String(value) });
    return DEFAULT_ALIGNMENT;
  }
  return value;
}

async function readTemplate(
  r: HeaderReader,
  key: string,
  type: number,
  typeAt: number,
  ctx: ScanContext,
  templates: { key: string; text: string }[],
): Promise<void> {
  if (type !== ValueType.STRING) {
    ctx.report("MG210", `GGUF ${key} has type ${typeName(type)}, not string`, { offset: typeAt, evidence: key });
    await skipValue(r, type, typeAt, 0);
    return;
  }
  const at = r.pos;
  const length = await r.stringLength(key);
  if (length > GGUF_LIMITS.maxTemplateBytes) {
    ctx.report("MG223", `GGUF ${key} is ${length} bytes, over the ${GGUF_LIMITS.maxTemplateBytes}-byte bound; it was not checked`, { offset: at, evidence: key });
    r.skip(length);
    return;
  }
  templates.push({ key, text: new TextDecoder().decode(await r.bytes(length)) });
}

/**
 * Walks past one value of `type`, checking every length and count against the file first. `shape`
 * receives an array's element type and count.
 */
async function skipValue(r: HeaderReader, type: number, typeAt: number, depth: number, shape?: ArrayShape): Promise<void> {
  const fixed = FIXED_SIZE[type];
  if (fixed !== undefined) {
    if (type === ValueType.BOOL) {
      const at = r.pos;
      const b = await r.u8();
      if (b > 1) throw new GgufFormatError("MG210", `bool value is ${b}, not 0 or 1`, at);
    } else r.skip(fixed);
    return;
  }
  if (type === ValueType.STRING) {
    r.skip(await r.stringLength("string"));
    return;
  }
  if (type !== ValueType.ARRAY) throw new GgufFormatError("MG210", `unknown metadata value type ${type}`, typeAt);
  if (depth >= GGUF_LIMITS.maxArrayNesting) {
    throw new GgufFormatError("MG212", `arrays nest deeper than ${GGUF_LIMITS.maxArrayNesting} levels`, typeAt);
  }
  const elementTypeAt = r.pos;
  const elementType = await r.u32();
  const elementFixed = FIXED_SIZE[elementType];
  if (elementFixed === undefined && elementType !== ValueType.STRING && elementType !== ValueType.ARRAY) {
    throw new GgufFormatError("MG210", `unknown array element type ${elementType}`, elementTypeAt);
  }
  const minBytes = elementFixed ?? (elementType === ValueType.STRING ? r.stringHeaderBytes : 4 + r.stringHeaderBytes);
  const count = await r.count(`${typeName(elementType)} array count`, minBytes);
  if (shape) {
    shape.elementType = elementType;
    shape.count = count;
  }
  // Arrays of numbers (token scores, types) are skipped whole; their size was just bounded.
  if (elementFixed !== undefined && elementType !== ValueType.BOOL) {
    r.skip(count * elementFixed);
    return;
  }
  for (let i = 0; i < count; i++) await skipValue(r, elementType, elementTypeAt, depth + 1);
}

/** The arrays llama.cpp reads per token or by a fixed type: declared type and count must match what it reads. */
function checkReadWide(shapes: readonly ArrayShape[], ctx: ScanContext): void {
  const tokens = shapes.find((s) => s.key === TOKENS_KEY);
  const tokenCount = tokens?.type === ValueType.ARRAY ? tokens.count : undefined;
  for (const shape of shapes) {
    const want = READ_WIDE[shape.key]!;
    const declared = shape.type === ValueType.ARRAY ? `an array of ${typeName(shape.elementType ?? -1)}` : `a ${typeName(shape.type)}`;
    const evidence = `${shape.key}: ${declared}${shape.count !== undefined ? `[${shape.count}]` : ""}${tokenCount !== undefined ? `, ${tokenCount} tokens` : ""}`;
    if (shape.type !== ValueType.ARRAY || !want.types.includes(shape.elementType ?? -1)) {
      ctx.report("MG218", `GGUF ${shape.key} is ${declared}, but llama.cpp reads it as ${want.reads}`, { offset: shape.at, evidence });
    } else if (want.perToken && tokenCount !== undefined && (shape.count ?? 0) < tokenCount) {
      ctx.report("MG218", `GGUF ${shape.key} has ${shape.count} entries for ${tokenCount} tokens: llama.cpp reads one per token, past the end of the array`, {
        offset: shape.at,
        evidence,
      });
    }
  }
}

async function readTensorInfo(r: HeaderReader): Promise<TensorInfo> {
  const at = r.pos;
  const name = await readName(r, "tensor name");
  const dimsAt = r.pos;
  const nDims = await r.u32();
  if (nDims > GGUF_LIMITS.maxDims) {
    throw new GgufFormatError("MG213", `tensor "${name}" has ${nDims} dimensions, over ggml's ${GGUF_LIMITS.maxDims}`, dimsAt);
  }
  const dims: bigint[] = [];
  for (let d = 0; d < nDims; d++) dims.push(r.narrow ? BigInt(await r.u32()) : await r.u64());
  const type = await r.u32();
  const offset = await r.u64();
  return { name, dims, type, offset, at };
}

/** Tensor data: sizes from known types, inside the file, aligned, not overlapping. */
function checkTensorData(header: Header, alignment: number, fileSize: number, ctx: ScanContext): void {
  const dataStart = BigInt(Math.ceil(header.infosEnd / alignment) * alignment);
  const dataLength = BigInt(fileSize) - dataStart;
  const placed: { info: TensorInfo; end: bigint }[] = [];
  for (const info of header.tensors) {
    const bytes = tensorBytes(info, ctx);
    if (bytes === undefined) continue;
    const evidence = `offset ${info.offset}, ${bytes} bytes, dims [${info.dims.join(", ")}]`;
    if (info.offset % BigInt(alignment) !== 0n) {
      ctx.report("MG215", `GGUF tensor "${info.name}" starts at data offset ${info.offset}, not a multiple of the alignment ${alignment}`, {
        offset: info.at,
        evidence,
      });
    }
    if (info.offset + bytes > dataLength) {
      ctx.report("MG214", `GGUF tensor "${info.name}" ends past the end of the file (data section holds ${dataLength < 0n ? 0n : dataLength} bytes)`, {
        offset: info.at,
        evidence,
      });
      continue;
    }
    placed.push({ info, end: info.offset + bytes });
  }
  placed.sort((a, b) => (a.info.offset < b.info.offset ? -1 : a.info.offset > b.info.offset ? 1 : 0));
  for (let i = 1; i < placed.length; i++) {
    const prev = placed[i - 1]!;
    const cur = placed[i]!;
    if (cur.info.offset < prev.end && cur.end > cur.info.offset) {
      ctx.report("MG214", `GGUF tensors "${prev.info.name}" and "${cur.info.name}" overlap`, {
        offset: cur.info.at,
        evidence: `[${prev.info.offset}, ${prev.end}) and [${cur.info.offset}, ${cur.end})`,
      });
    }
  }
}

/** Byte size of a tensor's data, or undefined after reporting why it cannot be known. */
function tensorBytes(info: TensorInfo, ctx: ScanContext): bigint | undefined {
  const bad = (why: string): undefined => {
    ctx.report("MG213", `GGUF tensor "${info.name}" ${why}`, { offset: info.at, evidence: `type ${info.type}, dims [${info.dims.join(", ")}]` });
    return undefined;
  };
  const type = GGML_TYPES.get(info.type);
  if (!type) return bad(`has unknown ggml type ${info.type}`);
  // ggml keeps dimensions as int64_t.
  if (info.dims.some((d) => d >= 1n << 63n)) return bad("has a dimension past int64");
  const first = info.dims[0] ?? 1n;
  if (first % BigInt(type.block) !== 0n) return bad(`has first dimension ${first}, not a multiple of ${type.name}'s block size ${type.block}`);
  const crash = shapeCrash(info.dims, type);
  if (crash) {
    ctx.report("MG217", `GGUF tensor "${info.name}" ${crash}`, { offset: info.at, evidence: `${type.name}, dims [${info.dims.join(", ")}]` });
    return undefined;
  }
  const elements = info.dims.reduce((n, d) => n * d, 1n);
  return (elements / BigInt(type.block)) * BigInt(type.bytes);
}

/**
 * What gguf.cpp's own shape checks (or the loaders before them) do with these dimensions: ne is
 * padded to GGML_MAX_DIMS with 1s, then `INT64_MAX/ne[1] <= ne[0]`… divides by every dimension past
 * the first (a zero one is a division by zero), the element count must stay below INT64_MAX, and the
 * byte strides below SIZE_MAX. Older ggml and other GGUF readers trusted all of it.
 */
function shapeCrash(dims: readonly bigint[], type: { name: string; block: number; bytes: number }): string | undefined {
  const ne = [0, 1, 2, 3].map((i) => dims[i] ?? 1n);
  const zero = ne.findIndex((d, i) => d === 0n && i > 0);
  if (zero > 0) return `has dimension ${zero} of size 0: gguf.cpp divides INT64_MAX by it (a division-by-zero crash in llama.cpp's loader)`;
  if (ne[0] === 0n) return "has a first dimension of size 0: an empty tensor that loaders size as 0 bytes and then index";
  let elements = 1n;
  for (const d of ne) {
    elements *= d;
    if (elements >= INT64_MAX) return `has ${ne.join(" × ")} elements, at or past INT64_MAX (ggml's element count overflows)`;
  }
  if ((elements / BigInt(type.block)) * BigInt(type.bytes) > SIZE_MAX) return "has a byte size past SIZE_MAX (ggml's byte strides overflow)";
  return undefined;
}

function typeName(type: number): string {
  return VALUE_TYPE_NAMES[type] ?? `unknown type ${type}`;
}
