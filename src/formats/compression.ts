/**
 * Single-stream compressors (gzip, zlib, bz2, xz, raw LZMA): decompress within bounds and scan the
 * result by content. A bound hit stops the decoder (MG140) before the bomb is allocated; a corrupt
 * or truncated stream is MG141, and what was decompressed before the break is still scanned,
 * because loaders act on a prefix too (a truncated gzip of a pickle still runs its payload).
 */
import { createGunzip, createInflate, createInflateRaw, inflateRawSync, inflateSync } from "node:zlib";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { createRequire } from "node:module";
import { LIMITS } from "../limits.js";
import { ChunkedSource, type ByteSource } from "../sources/byteSource.js";
import { formatBytes } from "../units.js";
import { canDescend, layerCapacity } from "./container.js";
import type { FormatScanner, ScanBudget, ScanContext } from "./context.js";
import { Chunks } from "./chunks.js";
import { decodeStream, type StreamFormat } from "./streamDecoders.js";
import { Decompress as ZstdStream } from "fzstd";
import { isPickleName } from "../extensions.js";
import { errorText } from "../errors.js";

/** Why a layer's content is incomplete (`data` still holds everything decoded before it), or read otherwise by another loader. */
export interface LayerProblem {
  rule: "MG131" | "MG140" | "MG141";
  message: string;
}

export interface Layer {
  /** The decoded bytes, as the decoder produced them (not joined: a joined copy would double peak memory). */
  chunks: readonly Uint8Array[];
  size: number;
  problem?: LayerProblem;
}

/** Compressed input is read in chunks of this size, so a large stream is never held twice. */
const INPUT_CHUNK = 1 << 20;

/** Thrown inside a decoder's output callback to stop it once a bound is hit. */
class LayerFull extends Error {}

/**
 * Collects one layer's output and refuses what would cross its bounds: the in-memory cap, the
 * file's shared decompression budget and, past LIMITS.ratioCheckMinBytes, the compression ratio.
 * What comes before the bound is kept to the byte: loaders act on a prefix too.
 */
export class LayerSink {
  private readonly chunks = new Chunks();
  private total = 0;
  /** The most bytes the layer may hold: the lower of the cap and the ratio bound (capacityWhy says which). */
  readonly capacity: number;
  private readonly capacityWhy: string;
  /** Set once a bound was hit. */
  limit: string | undefined;

  constructor(
    private readonly budget: ScanBudget,
    compressedSize: number,
  ) {
    const cap = layerCapacity(budget);
    const ratioBound = Math.max(LIMITS.ratioCheckMinBytes, LIMITS.maxCompressionRatio * Math.max(1, compressedSize));
    this.capacity = Math.min(cap.bytes, ratioBound);
    this.capacityWhy =
      ratioBound < cap.bytes
        ? `decompresses to more than ${LIMITS.maxCompressionRatio} times its compressed size of ${compressedSize} bytes (a decompression bomb)`
        : `decompresses past ${cap.why}`;
  }

  get size(): number {
    return this.total;
  }

  /** Appends a chunk (kept, not copied); false once a bound is hit, the chunk cut to what fits. */
  push(chunk: Uint8Array): boolean {
    const room = this.room(chunk.length);
    if (room > 0) this.chunks.add(room < chunk.length ? chunk.subarray(0, room) : chunk);
    this.total += room;
    return room === chunk.length;
  }

  /** Appends one byte; throws LayerFull once a bound is hit (decoders with per-byte callbacks). */
  pushByte(byte: number): void {
    if (this.room(1) === 0) throw new LayerFull();
    this.chunks.addByte(byte);
    this.total++;
  }

  /** The collected bytes, charged to the file's budget. */
  finish(problem?: LayerProblem): Layer {
    this.budget.decompressedBytes += this.total;
    const limit: LayerProblem | undefined = this.limit ? { rule: "MG140", message: this.limit } : undefined;
    return { chunks: this.chunks.done(), size: this.total, problem: limit ?? problem };
  }

  private room(wanted: number): number {
    if (this.limit) return 0;
    if (this.total + wanted <= this.capacity) return wanted;
    this.limit = `${this.capacityWhy}; stopped after ${this.capacity} bytes`;
    return this.capacity - this.total;
  }
}

/** Reads `[start, start + length)` of a source in chunks. */
export async function* readChunks(source: ByteSource, start: number, length: number): AsyncGenerator<Uint8Array> {
  for (let at = start, end = start + length; at < end; at += INPUT_CHUNK) {
    const chunk = await source.read(at, Math.min(INPUT_CHUNK, end - at));
    if (chunk.length === 0) return;
    yield chunk;
  }
}

export type ZlibKind = "gzip" | "zlib" | "deflate-raw";

/**
 * Inflates `[start, start + length)` of a source with node:zlib (multi-member gzip included). Gzip
 * members may be separated by zero bytes, which Python's gzip skips and node:zlib stops at: the
 * members after them are inflated too.
 */
export async function inflateBounded(
  source: ByteSource,
  start: number,
  length: number,
  kind: ZlibKind,
  budget: ScanBudget,
): Promise<Layer> {
  const sink = new LayerSink(budget, length);
  if (kind !== "gzip" && length <= WHOLE_INPUT) {
    const whole = inflateWhole(await source.read(start, length), kind, Math.min(sink.capacity, WHOLE_OUTPUT));
    if (whole !== undefined && sink.push(whole)) return sink.finish();
  }
  const end = start + length;
  let runs = 0;
  let severalMembers = false;
  try {
    for (let at = start; at < end; ) {
      const inflater = kind === "gzip" ? createGunzip() : kind === "zlib" ? createInflate() : createInflateRaw();
      const before = sink.size;
      await pipeline(Readable.from(readChunks(source, at, end - at)), inflater, async (output: AsyncIterable<Buffer>) => {
        for await (const chunk of output) if (!sink.push(chunk)) throw new LayerFull();
      });
      // What the member took: node:zlib counts the input it consumed, not what followed the member.
      if (kind !== "gzip" || inflater.bytesWritten <= 0) break;
      const consumed = at + inflater.bytesWritten;
      // node:zlib runs straight through back-to-back members; the last one's ISIZE is its size alone.
      if (++runs > 1 || (await memberSize(source, consumed)) !== (sink.size - before) % 2 ** 32) severalMembers = true;
      at = await pastZeros(source, consumed, end);
    }
    return sink.finish(severalMembers ? SEVERAL_GZIP_MEMBERS : undefined);
  } catch (err) {
    if (err instanceof LayerFull) return sink.finish();
    return sink.finish({ rule: "MG141", message: `is corrupt or truncated (${errorText(err)}) after ${sink.size} decompressed bytes` });
  }
}

/**
 * A zlib or raw deflate stream of up to WHOLE_INPUT bytes is inflated in one synchronous call when
 * it decodes whole within WHOLE_OUTPUT: a keras archive's members and joblib's .z files are
 * kilobytes, and a stream per member (a thread-pool round trip per chunk, its lane waiting behind
 * the other files' work meanwhile) took some 40 ms of wall time each. What does not decode whole
 * (corrupt, truncated, larger) goes through the stream, which keeps the prefix and says where it
 * stopped. Gzip always does: members after zero padding are followed there.
 */
const WHOLE_INPUT = 1 << 20;
const WHOLE_OUTPUT = 16 << 20;

/** The whole output of `input`, or undefined when it does not end within `maxBytes` or is corrupt or truncated. */
function inflateWhole(input: Uint8Array, kind: "zlib" | "deflate-raw", maxBytes: number): Buffer | undefined {
  try {
    return kind === "zlib" ? inflateSync(input, { maxOutputLength: maxBytes }) : inflateRawSync(input, { maxOutputLength: maxBytes });
  } catch {
    return undefined;
  }
}

/**
 * Python's gzip reads every member of a stream, one after the other; joblib's own reader reads the
 * first and then feeds its leftover input back without end, doubling its buffer each time (red team
 * round 26: 143 bytes, gigabytes at load) when the pickle goes on past that member.
 */
const SEVERAL_GZIP_MEMBERS: LayerProblem = {
  rule: "MG131",
  message: "has several members: Python's gzip reads them one after the other, joblib's reader only the first, and it then grows its buffer without end if what it reads goes on past that member",
};

/** The ISIZE field of the gzip member that ends at `end` (its uncompressed size modulo 2**32). */
async function memberSize(source: ByteSource, end: number): Promise<number | undefined> {
  if (end < 4) return undefined;
  const b = await source.read(end - 4, 4);
  return b.length === 4 ? (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0 : undefined;
}

/** The first offset from `at` that is not a zero byte (or `end`). */
async function pastZeros(source: ByteSource, at: number, end: number): Promise<number> {
  while (at < end) {
    const chunk = await source.read(at, Math.min(INPUT_CHUNK, end - at));
    if (chunk.length === 0) return end;
    const nonZero = chunk.findIndex((b) => b !== 0);
    if (nonZero >= 0) return at + nonZero;
    at += chunk.length;
  }
  return end;
}

/** The parts of seek-bzip's API used here (it ships no types). */
interface BunzipApi {
  decode(
    input: { readByte(): number; read(into: Uint8Array, at: number, length: number): number; seek(pos: number): void; eof(): boolean },
    output: { writeByte(byte: number): void },
    multistream: boolean,
  ): void;
}
const bunzip = createRequire(import.meta.url)("seek-bzip") as BunzipApi;

/** Whole-input decoders (seek-bzip, 7-Zip) need the compressed bytes in memory: bounded like a layer. */
async function readInput(source: ByteSource): Promise<Uint8Array | LayerProblem> {
  if (source.size > LIMITS.maxInMemoryLayer) {
    return { rule: "MG140", message: `is ${source.size} bytes, more than the in-memory layer limit of ${formatBytes(LIMITS.maxInMemoryLayer)}; not decompressed` };
  }
  return source.read(0, source.size);
}

/** bzip2 (multi-stream, as Python's bz2 writes when appending). */
export async function decompressBz2(source: ByteSource, budget: ScanBudget): Promise<Layer> {
  const input = await readInput(source);
  if (!(input instanceof Uint8Array)) return { chunks: [], size: 0, problem: input };
  const sink = new LayerSink(budget, input.length);
  let pos = 0;
  const stream = {
    readByte(): number {
      // seek-bzip reads past the end as zeros otherwise; a truncated stream must fail, not loop on garbage.
      if (pos >= input.length) throw new Error("unexpected end of input");
      return input[pos++]!;
    },
    read(into: Uint8Array, at: number, length: number): number {
      if (pos >= input.length) return -1;
      const n = Math.min(length, input.length - pos);
      into.set(input.subarray(pos, pos + n), at);
      pos += n;
      return n;
    },
    seek(to: number): void {
      pos = to;
    },
    eof: (): boolean => pos >= input.length,
  };
  try {
    bunzip.decode(stream, { writeByte: (b) => sink.pushByte(b) }, true);
    return sink.finish();
  } catch (err) {
    if (err instanceof LayerFull) return sink.finish();
    return sink.finish({ rule: "MG141", message: `is corrupt or truncated (${errorText(err)}) after ${sink.size} decompressed bytes` });
  }
}

const LZ4_MAGIC = 0x184d2204;
/** Block maximum sizes by the frame's BD byte (bits 4–6): 64 KiB, 256 KiB, 1 MiB, 4 MiB. */
const LZ4_BLOCK_MAX: Readonly<Record<number, number>> = { 4: 1 << 16, 5: 1 << 18, 6: 1 << 20, 7: 1 << 22 };

/**
 * LZ4 frames (joblib's `compress="lz4"`, Python's lz4.frame), block by block, so the layer bound
 * stops it between blocks. Frames may follow each other; skippable frames are skipped. Checksums
 * are not verified (loaders do not need them to read the data).
 */
export async function decompressLz4(source: ByteSource, budget: ScanBudget): Promise<Layer> {
  const input = await readInput(source);
  if (!(input instanceof Uint8Array)) return { chunks: [], size: 0, problem: input };
  const sink = new LayerSink(budget, input.length);
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const corrupt = (why: string): Layer => sink.finish({ rule: "MG141", message: `is corrupt or truncated (${why}) after ${sink.size} decompressed bytes` });
  let pos = 0;
  while (pos < input.length) {
    if (pos + 7 > input.length) return corrupt("a frame header is cut short");
    const magic = view.getUint32(pos, true);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      pos += 8 + view.getUint32(pos + 4, true); // a skippable frame
      continue;
    }
    if (magic !== LZ4_MAGIC) return corrupt(`frame magic 0x${magic.toString(16)}`);
    const flags = input[pos + 4]!;
    const blockMax = LZ4_BLOCK_MAX[(input[pos + 5]! >> 4) & 7];
    if (flags >> 6 !== 1 || blockMax === undefined) return corrupt("an unknown frame version or block size");
    pos += 7 + ((flags & 0x08) !== 0 ? 8 : 0) + ((flags & 0x01) !== 0 ? 4 : 0);
    // Blocks may refer back into earlier blocks (linked mode): keep up to 64 KiB of history before each.
    const window = new Uint8Array(LZ4_HISTORY + blockMax);
    let history = 0;
    for (;;) {
      if (pos + 4 > input.length) return corrupt("a block size is cut short");
      const word = view.getUint32(pos, true);
      pos += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      if (size > blockMax || pos + size > input.length) return corrupt(`a block of ${size} bytes`);
      let end: number;
      if (word & 0x80000000) {
        window.set(input.subarray(pos, pos + size), history);
        end = history + size;
      } else {
        end = lz4Block(input, pos, pos + size, window, history);
        if (end < 0) return corrupt("a block refers outside its data or decodes past its maximum size");
      }
      pos += size + ((flags & 0x10) !== 0 ? 4 : 0);
      if (!sink.push(window.slice(history, end))) return sink.finish();
      // Keep the last 64 KiB as history for the next block.
      const keep = Math.min(end, LZ4_HISTORY);
      window.copyWithin(0, end - keep, end);
      history = keep;
    }
    if ((flags & 0x04) !== 0) pos += 4; // the content checksum
  }
  return sink.finish();
}

/** How far back an LZ4 match may reach. */
const LZ4_HISTORY = 1 << 16;

/**
 * Decodes one LZ4 block (src[from…to)) into `dst` from `at`, matches reaching back into what `dst`
 * already holds; returns the end, or -1 when the block is malformed or would overrun `dst`. Written
 * here because the JS decoders at hand bound neither their output nor their work.
 */
function lz4Block(src: Uint8Array, from: number, to: number, dst: Uint8Array, at: number): number {
  let s = from;
  let d = at;
  const length = (n: number): number => {
    if (n !== 15) return n;
    for (;;) {
      if (s >= to) return -1;
      const b = src[s++]!;
      n += b;
      if (b !== 255) return n;
    }
  };
  while (s < to) {
    const token = src[s++]!;
    const literals = length(token >> 4);
    if (literals < 0 || s + literals > to || d + literals > dst.length) return -1;
    dst.set(src.subarray(s, s + literals), d);
    s += literals;
    d += literals;
    if (s >= to) break; // the last sequence has literals only
    if (s + 2 > to) return -1;
    const offset = src[s]! | (src[s + 1]! << 8);
    s += 2;
    const match = length(token & 15);
    if (match < 0 || offset === 0 || offset > d) return -1;
    const n = match + 4;
    if (d + n > dst.length) return -1;
    // Byte by byte: a match may overlap what it is writing (offset < length repeats a pattern).
    for (let i = d - offset, e = d + n; d < e; ) dst[d++] = dst[i++]!;
  }
  return d;
}

/**
 * A whole xz or raw LZMA stream (Python's lzma.FORMAT_ALONE, joblib's .lzma), through this
 * process's WebAssembly decoders (src/formats/streamDecoders.ts). The decoder stops one byte past
 * what the layer may hold, so the sink sees the bound crossed and says which.
 */
function decompressWhole(format: StreamFormat): (source: ByteSource, budget: ScanBudget) => Promise<Layer> {
  return async (source, budget) => {
    const input = await readInput(source);
    if (!(input instanceof Uint8Array)) return { chunks: [], size: 0, problem: input };
    const sink = new LayerSink(budget, input.length);
    const run = await decodeStream(format, input, sink.capacity + 1);
    for (const chunk of run.chunks) if (!sink.push(chunk)) break;
    if (sink.limit || run.ok) return sink.finish();
    return sink.finish({ rule: "MG141", message: `is corrupt or truncated (${run.error}) after ${sink.size} decompressed bytes` });
  };
}

const decompressXz = decompressWhole("xz");
export const decompressLzma = decompressWhole("lzma");

/** A zstd frame's magic number (read little-endian); skippable frames, which decoders pass over, carry 0x184D2A50 to 0x184D2A5F. */
const ZSTD_MAGIC = 0xfd2fb528;
const ZSTD_SKIPPABLE = 0x184d2a50;

/** What opens at `at`: a zstd frame, a skippable frame (its length follows), or neither. */
export function zstdFrameAt(b: Uint8Array, at: number): "frame" | "skippable" | undefined {
  if (at + 4 > b.length) return undefined;
  const magic = (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
  if (magic === ZSTD_MAGIC) return "frame";
  return (magic & 0xfffffff0) >>> 0 === ZSTD_SKIPPABLE ? "skippable" : undefined;
}
/**
 * The largest window a frame may ask the decoder to hold: libzstd's default limit, which Python's
 * zstandard (pandas reads `.zst` pickles with it) keeps, so a larger one fails there too. fzstd
 * would allocate up to 2 GB for what a few header bytes ask.
 */
const ZSTD_MAX_WINDOW = 2 ** 27;

/**
 * zstd (pandas' `compression="zstd"`, `.zst`), every frame in turn, through fzstd's streaming
 * decoder, each frame's window checked first (zstdWindowProblem).
 */
export async function decompressZstd(source: ByteSource, budget: ScanBudget): Promise<Layer> {
  const input = await readInput(source);
  if (!(input instanceof Uint8Array)) return { chunks: [], size: 0, problem: input };
  const sink = new LayerSink(budget, input.length);
  const window = zstdWindowProblem(input);
  if (window) return sink.finish({ rule: "MG140", message: window });
  const stream = new ZstdStream((chunk) => {
    // fzstd reuses its window buffer between calls: keep a copy.
    if (!sink.push(chunk.slice())) throw new LayerFull();
  });
  try {
    for (let at = 0; at < input.length; at += INPUT_CHUNK) stream.push(input.subarray(at, at + INPUT_CHUNK), at + INPUT_CHUNK >= input.length);
    return sink.finish();
  } catch (err) {
    if (err instanceof LayerFull) return sink.finish();
    return sink.finish({ rule: "MG141", message: `is corrupt or truncated (${errorText(err)}) after ${sink.size} decompressed bytes` });
  }
}

/** Why a frame of `input` asks for a window past ZSTD_MAX_WINDOW, walking frame and block headers; undefined when none does (or the walk breaks, which the decoder reports). */
function zstdWindowProblem(input: Uint8Array): string | undefined {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  let at = 0;
  while (at + 8 <= input.length) {
    const kind = zstdFrameAt(input, at);
    if (kind === "skippable") {
      at += 8 + view.getUint32(at + 4, true);
      continue;
    }
    if (kind !== "frame") return undefined;
    const flags = input[at + 4]!;
    const singleSegment = (flags >> 5) & 1;
    const sizeField = flags >> 6;
    let pos = at + 5;
    let window = 0;
    if (!singleSegment) {
      const descriptor = input[pos++]!;
      const base = 2 ** (10 + (descriptor >> 3));
      window = base + (base / 8) * (descriptor & 7);
    }
    pos += [0, 1, 2, 4][flags & 3]!;
    const sizeBytes = sizeField ? 1 << sizeField : singleSegment;
    let contentSize = 0;
    for (let i = sizeBytes - 1; i >= 0; i--) contentSize = contentSize * 256 + (input[pos + i] ?? 0);
    if (sizeField === 1) contentSize += 256;
    pos += sizeBytes;
    if (singleSegment) window = contentSize;
    if (window > ZSTD_MAX_WINDOW) return `frame at byte ${at} asks for a ${window}-byte window, past the ${ZSTD_MAX_WINDOW}-byte limit zstd decoders keep by default; not decompressed`;
    for (let last = 0; !last && pos + 3 <= input.length; ) {
      const header = input[pos]! | (input[pos + 1]! << 8) | (input[pos + 2]! << 16);
      last = header & 1;
      // An RLE block stores one byte, whatever size it regenerates.
      pos += 3 + (((header >> 1) & 3) === 1 ? 1 : header >>> 3);
    }
    at = pos + ((flags >> 2) & 1) * 4;
  }
  return undefined;
}

/** `model.pkl.gz` → `model.pkl`, `x.tgz` → `x.tar`; "<decompressed>" when the name carries no known suffix. */
export function innerName(name: string, suffixes: Readonly<Record<string, string>>): string {
  const lower = name.toLowerCase();
  for (const [suffix, replacement] of Object.entries(suffixes)) {
    if (lower.endsWith(suffix) && lower.length > suffix.length) return name.slice(0, name.length - suffix.length) + replacement;
  }
  return "<decompressed>";
}

function layerScanner(
  label: string,
  suffixes: Readonly<Record<string, string>>,
  decode: (source: ByteSource, budget: ScanBudget) => Promise<Layer>,
): FormatScanner {
  return async (source: ByteSource, ctx: ScanContext) => {
    if (!canDescend(ctx, `${label} stream`)) return;
    const { chunks, size, problem } = await decode(source, ctx.budget);
    if (problem) ctx.report(problem.rule, `${label} stream ${problem.message}`);
    if (size === 0 && problem) return;
    const name = innerName(ctx.name, suffixes);
    // model.pkl.gz, a compressed model.joblib: the loader unpickles what it decompresses, whatever it looks like.
    const fallback = isPickleName(name) || isPickleName(ctx.name) ? "pickle" : undefined;
    await ctx.scanMember(name, new ChunkedSource(name, chunks), fallback);
  };
}

export const scanGzip: FormatScanner = layerScanner("gzip", { ".gz": "", ".gzip": "", ".tgz": ".tar" }, (s, b) =>
  inflateBounded(s, 0, s.size, "gzip", b),
);
/** zlib streams: joblib's default compressor (`.z`), also `zlib.compress` output. */
export const scanZlib: FormatScanner = layerScanner("zlib", { ".z": "", ".zlib": "", ".zz": "" }, (s, b) =>
  inflateBounded(s, 0, s.size, "zlib", b),
);

/**
 * joblib ≤ 0.9's compressed files (Z-files, still read by joblib.load): "ZF", the data's length in
 * hex padded to 19 bytes (Python 2 writers of joblib ≤ 0.8.4 added one more space), then zlib.
 */
export const scanJoblibZfile: FormatScanner = layerScanner("joblib Z-file", { ".z": "", ".pkl.z": ".pkl" }, async (s, b) => {
  const start = (await s.read(ZFILE_HEADER, 1))[0] === 0x20 ? ZFILE_HEADER + 1 : ZFILE_HEADER;
  return inflateBounded(s, start, Math.max(0, s.size - start), "zlib", b);
});
const ZFILE_HEADER = 2 + 19;
export const scanBz2: FormatScanner = layerScanner("bz2", { ".bz2": "", ".bz": "", ".tbz2": ".tar", ".tbz": ".tar" }, decompressBz2);
export const scanXz: FormatScanner = layerScanner("xz", { ".xz": "", ".txz": ".tar" }, decompressXz);
export const scanLzma: FormatScanner = layerScanner("lzma", { ".lzma": "", ".tlz": ".tar" }, decompressLzma);
export const scanLz4: FormatScanner = layerScanner("lz4", { ".lz4": "" }, decompressLz4);
export const scanZstd: FormatScanner = layerScanner("zstd", { ".zst": "", ".zstd": "", ".tzst": ".tar" }, decompressZstd);
