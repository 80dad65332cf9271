/**
 * Content sniffing: what is this, by its bytes? Names are never consulted here. Weak magics
 * (zlib's two bytes, protocol-less pickles) are confirmed structurally so that raw tensor data
 * inside an archive is not mistaken for a stream and reported as broken.
 */
import { inflateSync, constants as zc } from "node:zlib";
import { LIMITS } from "./limits.js";
import { sniffGguf } from "./formats/gguf.js";
import { hasHdf5SignaturePast, sniffHdf5 } from "./formats/keras.js";
import { isTarHeader } from "./formats/tar.js";
import { sniffOnnx } from "./formats/onnx.js";
import { isSafetensorsIndexName, sniffSafetensors } from "./formats/safetensors.js";
import { sniffSkopsSchema } from "./formats/skops.js";
import { sniffXmlModel, xmlModelByName } from "./formats/xml.js";
import { sniffKerasMetadata, sniffSavedModel, sniffSavedModelByName, sniffSavedModelText, sniffTflite } from "./formats/tensorflow.js";
import { sniffTorchScriptFlatbuffer } from "./formats/torchscript.js";
import { findEndRecord } from "./formats/zip.js";
import { configFormatOf } from "./repo/names.js";
import { isOpcode, OP } from "./pickle/opcodes.js";
import { isPickleName } from "./extensions.js";
import { zstdFrameAt } from "./formats/compression.js";
import type { ByteSource } from "./sources/byteSource.js";
import type { Format } from "./types.js";

export interface Sniffed {
  format: Format;
  /** Other formats the same bytes are valid as (polyglots, P18); each is scanned too. */
  alsoValidAs: Exclude<Format, "unknown">[];
}

/** An end-of-central-directory record without a comment. */
const EOCD_SIZE = 22;
const LEGACY_TORCH_MAGIC = Buffer.from([0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]);
/** The same number as protocol 0 and 1 write it: a decimal LONG line. */
const LEGACY_TORCH_MAGIC_TEXT = Buffer.from("L119547037146038801333356L\n", "latin1");
const NUMPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
const SEVEN_ZIP_MAGIC = [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c];
const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const LZ4_MAGIC = [0x04, 0x22, 0x4d, 0x18];
/** "ZF0x": joblib's legacy compressed pickle. */
const JOBLIB_ZFILE_MAGIC = [0x5a, 0x46, 0x30, 0x78];
/** "BZh", then the block size digit, then the first block's (or the end's) 48-bit magic. */
const BZ2_MAGIC = [0x42, 0x5a, 0x68];
const BZ2_BLOCK_MAGIC = [0x31, 0x41, 0x59, 0x26, 0x53, 0x59];
const BZ2_END_MAGIC = [0x17, 0x72, 0x45, 0x38, 0x50, 0x90];

export interface SniffOptions {
  /** Base name of the file or member. Consulted only for formats loaders find by name alone (saved_model.pb(txt), shard indexes). */
  name: string;
  /**
   * Set for a file the user named (not an archive member). Then the whole possible zip comment
   * area is searched for an end-of-central-directory record, and a stream that starts like a
   * pickle but breaks early is still scanned as one (fail closed) — with a pickle-family name,
   * or with a PROTO opcode. Raw tensor data inside archives never gets this leniency.
   */
  topLevel: boolean;
}

export async function sniff(source: ByteSource, opts: SniffOptions): Promise<Sniffed> {
  // A view, not a copy: every archive member is sniffed, and the checks only read.
  const bytes = source.readNow?.(0, LIMITS.sniffBytes) ?? (await source.read(0, LIMITS.sniffBytes));
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let format = sniffHead(head, source.size);
  if (format === "unknown") format = sniffByName(head, source.size, opts.name);
  if (format === "unknown" && opts.topLevel && startsLikePickle(head, opts.name)) format = "pickle";
  const alsoValidAs: Sniffed["alsoValidAs"] = [];
  // A format that tolerates leading bytes (HDF5's user block, a flatbuffer's root offset) or has no
  // real magic number (safetensors, GGUF's header, a tar) can be crafted to be a pickle as well
  // (P18): pickle.load or torch.load of the same bytes would run it.
  if (format !== "pickle" && format !== "pytorch-legacy" && format !== "unknown" && looksLikePickle(head, source.size)) alsoValidAs.push("pickle");
  // torch.load opens a file that is not a zip (to torch, one opening with a local header's PK\x03\x04;
  // an end record's PK\x05\x06 is not) as a tar first, its oldest layout running the tar's "pickle"
  // member, whatever else the file reads as: an HDF5 file as the first member, a GGUF header as its
  // name (red team round 24). A tar header is scanned as a tar too.
  if (format !== "tar" && !startsWithLocalHeader(head) && isTarHeader(head)) alsoValidAs.push("tar");
  // libhdf5 looks for its signature at every 512·2^n offset to the end of the file: past the sniff
  // read for a file of no other format, or one Keras opens as HDF5 by its name.
  if (format !== "keras-h5" && (HDF5_NAME.test(opts.name) || (format === "unknown" && opts.topLevel))) {
    if (await hasHdf5SignaturePast(source, head.length)) {
      if (format === "unknown") format = "keras-h5";
      else alsoValidAs.push("keras-h5");
    }
  }
  // miniz and Python's zipfile find an archive by its end record, whatever the file starts with or
  // holds (a safetensors file whose tensor bytes are a TorchScript archive), and whatever follows the
  // record's comment. Members of no known format check only an end record without a comment at
  // their very end: they are tensor storages, as many as a model has tensors, which no loader opens
  // as an archive.
  const searched = opts.topLevel || format !== "unknown";
  if (format !== "zip" && (await findEndRecord(source, searched ? undefined : EOCD_SIZE, searched ? "plausible" : "exact")) >= 0) {
    if (format === "unknown") return { format: "zip", alsoValidAs };
    alsoValidAs.push("zip");
  }
  return { format, alsoValidAs };
}

/** What torch.serialization's _is_zipfile takes a file for a zip by: a local file header's signature. */
function startsWithLocalHeader(b: Uint8Array): boolean {
  return b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;
}

/** Names Keras opens with h5py whatever their content (legacy `load_model`, `load_weights`). */
const HDF5_NAME = /\.(h5|hdf5|he5|hdf)$/i;

/** The format the first bytes of data of `size` bytes show, by content alone. */
export function sniffHead(b: Buffer, size: number): Format {
  if (b.length < 2) return "unknown";
  if (b[0] === 0x50 && b[1] === 0x4b && (b[2] === 0x03 || b[2] === 0x05) && (b[3] === 0x04 || b[3] === 0x06)) return "zip";
  if (bytesAt(b, 0, NUMPY_MAGIC)) return "numpy";
  if (bytesAt(b, 0, SEVEN_ZIP_MAGIC)) return "7z";
  if (bytesAt(b, 0, XZ_MAGIC)) return "xz";
  if (bytesAt(b, 0, LZ4_MAGIC) && b.length >= 7 && b[4]! >> 6 === 1) return "lz4";
  // A zstd frame, or a skippable frame, which a decoder passes over to the frame after it.
  if (b.length >= 8 && zstdFrameAt(b, 0) !== undefined) return "zstd";
  if (bytesAt(b, 0, JOBLIB_ZFILE_MAGIC) && b.length > 21) return "joblib-zfile";
  // Python's gzip reads past reserved flag bits; so does the scan.
  if (b[0] === 0x1f && b[1] === 0x8b && b[2] === 8) return "gzip";
  // A stream opens with a block or, empty, with the end-of-stream marker (another stream may follow: Python reads them all).
  if (bytesAt(b, 0, BZ2_MAGIC) && b[3]! >= 0x31 && b[3]! <= 0x39 && (bytesAt(b, 4, BZ2_BLOCK_MAGIC) || bytesAt(b, 4, BZ2_END_MAGIC))) return "bz2";
  if (isTorchLegacy(b)) return "pytorch-legacy";
  if (sniffGguf(b, size)) return "gguf";
  if (sniffHdf5(b, size)) return "keras-h5";
  if (sniffTflite(b, size)) return "tflite";
  if (sniffTorchScriptFlatbuffer(b, size)) return "torchscript-flatbuffer";
  if (isTarHeader(b)) return "tar";
  if (isLzmaAlone(b)) return "lzma";
  if (isZlib(b)) return "zlib";
  if (sniffSafetensors(b, size)) return "safetensors";
  // Before ONNX: both protobufs open with field 1 (a small varint) and field 2; the SavedModel's
  // field 2 is a MetaGraphDef message, ONNX's a producer name (tensorflow.ts says how they differ).
  if (sniffSavedModel(b, size)) return "tf-savedmodel";
  if (sniffOnnx(b, size)) return "onnx";
  if (sniffSkopsSchema(b)) return "skops-schema";
  const xml = sniffXmlModel(b);
  if (xml) return xml;
  if (looksLikePickle(b, size)) return "pickle";
  return "unknown";
}

/** Files their loaders only ever open by name, whose content has no magic number of its own. */
function sniffByName(b: Buffer, size: number, name: string): Format {
  if (sniffSavedModelByName(b, size, name)) return "tf-savedmodel";
  if (sniffSavedModelText(name)) return "tf-savedmodel-text";
  if (sniffKerasMetadata(b, size, name)) return "keras-metadata";
  if (isSafetensorsIndexName(name)) return "safetensors-index";
  const xml = xmlModelByName(b, name);
  if (xml) return xml;
  // Configs and templates loaders find by name (config.json, modules.json, chat_template.jinja…), also given alone.
  return configFormatOf(name, b) ?? "unknown";
}

function startsLikePickle(b: Buffer, name: string): boolean {
  if (b.length < 2) return false;
  if (isPickleName(name)) return START_OPS.has(b[0]!);
  return b[0] === OP.PROTO && b[1]! <= 5 && b.length > 2 && isOpcode(b[2]!);
}

/** Whether `b` holds `magic` at `at`. A loop: sniffing runs it on every file and archive member. */
function bytesAt(b: Uint8Array, at: number, magic: ArrayLike<number>): boolean {
  if (at + magic.length > b.length) return false;
  for (let i = 0; i < magic.length; i++) if (b[at + i] !== magic[i]) return false;
  return true;
}

/**
 * LZMA "alone" header: the properties byte every common encoder writes (0x5d: lc=3, lp=0, pb=2;
 * Python's lzma and joblib use it), a dictionary size of the usual shapes (or joblib's own test,
 * below), a size or -1. Anything looser matches raw float tensors (found by the benchmark: 2.0f
 * starts 00 00 00 40).
 */
function isLzmaAlone(b: Buffer): boolean {
  if (b.length < 14 || b[0] !== 0x5d) return false;
  const dict = b.readUInt32LE(1);
  let shaped = false;
  for (let n = 12; n <= 30; n++) if (dict === 2 ** n || dict === 2 ** n + 2 ** (n - 1)) shaped = true;
  // joblib takes any file opening 5d 00 for LZMA (a red team used a 256-byte dictionary); the range
  // coder's first byte, always 0, keeps raw tensors that open so from counting.
  if (!shaped && !(b[1] === 0 && b[13] === 0)) return false;
  const sizeUnknown = b.subarray(5, 13).every((x) => x === 0xff);
  return sizeUnknown || b.readBigUInt64LE(5) < 1n << 48n;
}

/** zlib's header is two bytes; confirm by inflating the head without error. */
function isZlib(b: Buffer): boolean {
  if (b[0] !== 0x78 || ((b[0] << 8) | b[1]!) % 31 !== 0) return false;
  try {
    inflateSync(b, { finishFlush: zc.Z_SYNC_FLUSH, maxOutputLength: 1 << 20 });
    return true;
  } catch (err) {
    // Output larger than the probe buffer still means the data inflates.
    return (err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE";
  }
}

/**
 * Opcodes a pickle can start with: Python's unpickler takes any first opcode, so every one that
 * pushes without popping (a protocol header is optional, a frame may come first; a red team started
 * with SHORT_BINUNICODE, which made a compressed pickle unrecognised and unscanned). Not the EXT
 * opcodes: the extension registry is empty unless the loading program fills it, and raw tensor
 * bytes open with them.
 */
const START_OPS = new Set<number>([
  OP.MARK, OP.EMPTY_DICT, OP.EMPTY_LIST, OP.EMPTY_TUPLE, OP.EMPTY_SET, OP.GLOBAL, OP.NONE, OP.INT, OP.BININT, OP.BININT1,
  OP.BININT2, OP.LONG, OP.LONG1, OP.LONG4, OP.STRING, OP.UNICODE, OP.BINUNICODE, OP.SHORT_BINUNICODE, OP.BINUNICODE8,
  OP.BINSTRING, OP.SHORT_BINSTRING, OP.FLOAT, OP.BINFLOAT, OP.PERSID, OP.NEWTRUE, OP.NEWFALSE, OP.BINBYTES,
  OP.SHORT_BINBYTES, OP.BINBYTES8, OP.BYTEARRAY8, OP.FRAME, OP.PROTO,
]);

/**
 * The lines Python's unpickler reads for the text opcodes, as loosely as it reads them (int() and
 * float() take spaces and underscores, a raw-unicode-escape string anything), so that no pickle
 * Python loads is passed over as text.
 */
const NUMBER = String.raw`\s*[+-]?[0-9a-fA-F_xXoObB.eE+-]+\s*`;
const LINE_OPS: Record<number, RegExp> = {
  [OP.INT]: new RegExp(`^${NUMBER}$`),
  [OP.LONG]: new RegExp(`^${NUMBER}L?$`),
  [OP.FLOAT]: new RegExp(`^(${NUMBER}|\\s*[+-]?(inf|infinity|nan)\\s*)$`, "i"),
  [OP.STRING]: /^(['"]).*\1$/s,
  [OP.UNICODE]: /^.*$/s,
  [OP.GET]: new RegExp(`^${NUMBER}$`),
  [OP.PUT]: new RegExp(`^${NUMBER}$`),
  [OP.PERSID]: /^[\x00-\x7f]*$/,
};
const NAME_LINE = /^[A-Za-z_][\w.]*$/;
/** Number lines CPython's C unpickler reads with strtol and friends, which stop at a NUL: what follows it is ignored. */
const NUL_ENDED = new Set<number>([OP.INT, OP.LONG, OP.FLOAT, OP.GET, OP.PUT]);
const FIXED: Record<number, number> = {
  [OP.BININT]: 4, [OP.BININT1]: 1, [OP.BININT2]: 2, [OP.BINFLOAT]: 8, [OP.PROTO]: 1, [OP.EXT1]: 1,
  [OP.EXT2]: 2, [OP.EXT4]: 4, [OP.BINGET]: 1, [OP.LONG_BINGET]: 4, [OP.BINPUT]: 1, [OP.LONG_BINPUT]: 4,
  // FRAME's operand is the frame length: the frame's opcodes follow inline and are walked.
  [OP.FRAME]: 8,
};
const LEN1 = new Set<number>([OP.SHORT_BINSTRING, OP.SHORT_BINBYTES, OP.SHORT_BINUNICODE, OP.LONG1]);
const LEN4 = new Set<number>([OP.BINSTRING, OP.BINUNICODE, OP.BINBYTES, OP.LONG4]);
const LEN8 = new Set<number>([OP.BINUNICODE8, OP.BINBYTES8, OP.BYTEARRAY8]);

/**
 * Walks opcodes structurally (lengths and line shapes, no semantics) through the head of data of
 * `size` bytes. A pickle is recognised when it reaches a credible STOP, names an import, runs 16
 * well-formed opcodes, or holds a value that runs past the head but fits the data; broken streams
 * that import before their garbage (nullifAI) are therefore still recognised.
 */
export function looksLikePickle(b: Buffer, size: number): boolean {
  const whole = b.length >= size;
  if (b.length === 0 || !START_OPS.has(b[0]!)) return false;
  if (b[0] === OP.PROTO && (b[1] ?? 9) > 5) return false;
  let pos = 0;
  let ops = 0;
  while (pos < b.length) {
    const op = b[pos]!;
    if (!isOpcode(op)) return false;
    pos++;
    ops++;
    // A bare STOP ends a pickle only if it ends the data too, or the stream declared a protocol:
    // two random bytes such as "N." must not make raw tensor data a pickle.
    if (op === OP.STOP) return ops > 1 && (b[0] === OP.PROTO || (whole && pos === b.length));
    if (op === OP.GLOBAL || op === OP.INST) {
      const lines = readLines(b, pos, 2);
      return lines ? lines.every((l) => NAME_LINE.test(l.text)) : !whole && ops >= 8;
    }
    const shape = LINE_OPS[op];
    if (shape) {
      const line = readLines(b, pos, 1);
      // A text string longer than the head (no line break in it; binary data has one within a few hundred bytes).
      // CPython refuses a STRING operand that does not open with a quote: a FITS file's "SIMPLE  =" card is no pickle.
      if (!line) return !whole && (ops >= 8 || op === OP.UNICODE || (op === OP.STRING && (b[pos] === 0x27 || b[pos] === 0x22)));
      if (!shape.test(NUL_ENDED.has(op) ? line[0]!.text.split("\0")[0]! : line[0]!.text)) return false;
      pos = line[0]!.end;
    } else if (FIXED[op] !== undefined) {
      pos += FIXED[op]!;
    } else {
      const width = LEN1.has(op) ? 1 : LEN4.has(op) ? 4 : LEN8.has(op) ? 8 : 0;
      if (width > 0) {
        if (pos + width > b.length) return !whole && ops >= 8;
        const len = width === 1 ? b[pos]! : width === 4 ? b.readUInt32LE(pos) : Number(b.readBigUInt64LE(pos));
        pos += width + len;
        // A value longer than the head (a megabyte string first, the call after it): a pickle when it fits the data.
        if (pos > b.length) return pos <= size;
      }
    }
    if (op === OP.STACK_GLOBAL) return true;
    if (ops >= 16) return pos <= b.length || !whole;
  }
  return !whole && ops >= 8;
}

function readLines(b: Buffer, pos: number, n: number): { text: string; end: number }[] | undefined {
  const out: { text: string; end: number }[] = [];
  for (let i = 0; i < n; i++) {
    const nl = b.indexOf(0x0a, pos);
    if (nl < 0) return undefined;
    out.push({ text: b.toString("latin1", pos, nl).replace(/\r$/, ""), end: nl + 1 });
    pos = nl + 1;
  }
  return out;
}

/**
 * torch.save(_use_new_zipfile_serialization=False) starts with its magic number pickled in the
 * protocol it was asked for: LONG1 after PROTO (and from protocol 4 a FRAME), or a decimal LONG line.
 */
function isTorchLegacy(b: Buffer): boolean {
  let at = b[0] === 0x80 ? 2 : 0; // PROTO n
  if (at === 2 && b[at] === 0x95) at += 9; // FRAME and its 8-byte length
  return bytesAt(b, at, LEGACY_TORCH_MAGIC) || bytesAt(b, 0, LEGACY_TORCH_MAGIC_TEXT);
}
