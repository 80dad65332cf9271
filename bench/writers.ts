/**
 * Writers for the benchmark's inputs, byte for byte as CPython's pickler and torch.save lay them
 * out, so the benchmark needs no Python: a framed protocol-4 data pickle, small pickles, a PyTorch
 * zip checkpoint and the legacy checkpoint; and a language model's configs as transformers saves
 * them. Everything is deterministic, and the large files are streamed in chunks (a few MB in memory
 * at a time).
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { once } from "node:events";
import { crc32 } from "node:zlib";
import { OP } from "../src/pickle/opcodes.js";

/**
 * Pickle opcodes as CPython's C pickler (`pickle.dumps`) writes them for the few types the bench
 * needs: opcodes chosen as it chooses them, memo keys assigned as it assigns them, and from
 * protocol 4 frames of at least 64 KiB closed where it closes them (as the save of an object starts).
 */
export class Pickler {
  private buf = Buffer.allocUnsafe(1 << 16);
  private length = 0;
  /** Offset of the open frame's 9-byte header, reserved and filled in when the frame closes. */
  private frameStart = -1;
  private memoSize = 0;
  /** Memo keys of objects pickled by identity (interned strings, classes): repeats become BINGET. */
  private readonly shared = new Map<string, number>();

  /** Starts the pickle like `Pickler.dump`: PROTO, then the first frame. */
  constructor(readonly proto: 2 | 4) {
    this.op(OP.PROTO, proto);
    this.openFrame();
  }

  /** Bytes written and not yet taken. */
  get pending(): number {
    return this.length;
  }

  op(...codes: number[]): this {
    this.room(codes.length);
    for (const c of codes) this.buf[this.length++] = c;
    return this;
  }

  /** `save_long`: the smallest of BININT1, BININT2, BININT (LONG1 past 32 bits is not needed). */
  int(n: number): this {
    if (!Number.isInteger(n) || n < -(2 ** 31) || n >= 2 ** 31) throw new RangeError(`int ${n} needs LONG1`);
    this.begin().room(5);
    if (n >= 0 && n <= 0xff) {
      this.buf[this.length++] = OP.BININT1;
      this.buf[this.length++] = n;
    } else if (n >= 0 && n <= 0xffff) {
      this.buf[this.length++] = OP.BININT2;
      this.length = this.buf.writeUInt16LE(n, this.length);
    } else {
      this.buf[this.length++] = OP.BININT;
      this.length = this.buf.writeInt32LE(n, this.length);
    }
    return this;
  }

  /** BINFLOAT is the one big-endian operand in the format. */
  float(x: number): this {
    this.begin().room(9);
    this.buf[this.length++] = OP.BINFLOAT;
    this.length = this.buf.writeDoubleBE(x, this.length);
    return this;
  }

  /**
   * A str object, memoized like every str. `shared` marks an object the data reuses (an interned
   * literal such as a dict key): its second and later occurrences are BINGETs of the first.
   */
  str(s: string, shared = false): this {
    this.begin();
    if (shared) {
      const key = this.shared.get(s);
      if (key !== undefined) return this.get(key);
      this.shared.set(s, this.memoSize);
    }
    const n = Buffer.byteLength(s);
    this.room(n + 5);
    if (this.proto >= 4 && n < 256) {
      this.buf[this.length++] = OP.SHORT_BINUNICODE;
      this.buf[this.length++] = n;
    } else {
      this.buf[this.length++] = OP.BINUNICODE;
      this.length = this.buf.writeUInt32LE(n, this.length);
    }
    this.length += this.buf.write(s, this.length, "utf8");
    return this.memoize();
  }

  /**
   * A class or function, memoized and then fetched by identity: GLOBAL below protocol 4, from 4 on
   * its module and name as (memoized) strings, then STACK_GLOBAL.
   */
  global(module: string, name: string): this {
    this.begin();
    const id = `\0global ${module}.${name}`;
    const key = this.shared.get(id);
    if (key !== undefined) return this.get(key);
    if (this.proto >= 4) {
      this.str(module, true).str(name, true).op(OP.STACK_GLOBAL);
    } else {
      const text = `c${module}\n${name}\n`;
      this.room(text.length);
      this.length += this.buf.write(text, this.length, "latin1");
    }
    this.shared.set(id, this.memoSize);
    return this.memoize();
  }

  /**
   * An object the data holds in many places (a time zone every datetime shares): written once by
   * `write` and memoized, fetched by identity after that, as the pickler's memo does.
   */
  sharedObject(id: string, write: () => void): this {
    this.begin();
    const key = this.shared.get(id);
    if (key !== undefined) return this.get(key);
    write();
    this.shared.set(id, this.memoSize);
    return this.memoize();
  }

  /** A short bytes object (SHORT_BINBYTES, protocol 3 on), memoized like every bytes object. */
  bytes(b: Uint8Array): this {
    if (this.proto < 4 || b.length > 255) throw new RangeError("the bench writes short bytes at protocol 4 only");
    this.begin().room(b.length + 2);
    this.buf[this.length++] = OP.SHORT_BINBYTES;
    this.buf[this.length++] = b.length;
    this.buf.set(b, this.length);
    this.length += b.length;
    return this.memoize();
  }

  /** The pickler's `memoize`: MEMOIZE from protocol 4, else an explicit BINPUT/LONG_BINPUT key. */
  memoize(): this {
    const key = this.memoSize++;
    if (this.proto >= 4) return this.op(OP.MEMOIZE);
    return this.memoOp(OP.BINPUT, OP.LONG_BINPUT, key);
  }

  get(key: number): this {
    return this.memoOp(OP.BINGET, OP.LONG_BINGET, key);
  }

  /**
   * A save() of an object starts: where CPython closes a frame that has reached its target size.
   * Atoms call it themselves; callers call it before a container's first opcode.
   */
  begin(): this {
    if (this.frameStart >= 0 && this.length - this.frameStart - FRAME_HEAD >= FRAME_TARGET) {
      this.closeFrame();
      this.openFrame();
    }
    return this;
  }

  /** Bytes of closed frames (all bytes below protocol 4), for streaming a large pickle. */
  take(): Buffer {
    const end = this.frameStart >= 0 ? this.frameStart : this.length;
    const out = Buffer.from(this.buf.subarray(0, end));
    this.buf.copy(this.buf, 0, end, this.length);
    this.length -= end;
    if (this.frameStart >= 0) this.frameStart = 0;
    return out;
  }

  /** STOP, then the last frame closed: the rest of the pickle. */
  finish(): Buffer {
    this.op(OP.STOP);
    this.closeFrame();
    return this.take();
  }

  private openFrame(): void {
    if (this.proto < 4) return;
    this.frameStart = this.length;
    this.room(FRAME_HEAD);
    this.length += FRAME_HEAD;
  }

  /** Fills in the reserved header; a body under 4 bytes is left unframed, as CPython does. */
  private closeFrame(): void {
    if (this.frameStart < 0) return;
    const body = this.length - this.frameStart - FRAME_HEAD;
    if (body >= 4) {
      this.buf[this.frameStart] = OP.FRAME;
      this.buf.writeBigUInt64LE(BigInt(body), this.frameStart + 1);
    } else {
      this.buf.copy(this.buf, this.frameStart, this.frameStart + FRAME_HEAD, this.length);
      this.length -= FRAME_HEAD;
    }
    this.frameStart = -1;
  }

  /** The one-byte-key form when the key fits, else the four-byte one. */
  private memoOp(short: number, long: number, key: number): this {
    this.room(5);
    if (key < 256) {
      this.buf[this.length++] = short;
      this.buf[this.length++] = key;
    } else {
      this.buf[this.length++] = long;
      this.length = this.buf.writeUInt32LE(key, this.length);
    }
    return this;
  }

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }
}

/** CPython's framer: a frame closes when an object's save starts and the frame holds 64 KiB or more. */
const FRAME_TARGET = 64 * 1024;
const FRAME_HEAD = 9;

async function write(out: WriteStream, b: Buffer): Promise<void> {
  if (!out.write(b)) await once(out, "drain");
}

async function close(out: WriteStream): Promise<void> {
  out.end();
  await once(out, "finish");
}

const LABELS = ["train", "valid", "test", "cat", "dog", "car", "tree", "sky", "road", "person", "bike", "boat", "bird", "horse", "sheep", "cow"];

/**
 * `pickle.dump(records, f, protocol=4)` for a list of small dicts, at least `minBytes` long:
 * per record small and large ints, floats, new short strings, shared strings (interned keys and a
 * small label vocabulary, so BINGET/LONG_BINGET), a 2- and a 3-tuple and a short list; the list
 * in MARK … APPENDS batches of 1000 as `batch_list` writes them. Streamed a megabyte at a time.
 * With `objects`, each record also holds a `datetime.date` (an import, then a call per record on
 * constants: the plain-data proof takes those), or a time-zone-aware `datetime.datetime` (a call
 * given the shared time zone as well, which only the machine follows).
 * Records are numbered from `first`.
 */
export async function writeDensePickle(path: string, minBytes: number, objects: RecordCalls = "none", first = 0): Promise<number> {
  const out = createWriteStream(path);
  const p = new Pickler(4);
  let written = 0;
  p.op(OP.EMPTY_LIST).memoize();
  for (let i = first; written + p.pending < minBytes; ) {
    p.op(OP.MARK);
    for (let j = 0; j < 1000; j++, i++) record(p, i, objects);
    p.op(OP.APPENDS);
    if (p.pending >= 1 << 20) {
      const done = p.take();
      await write(out, done);
      written += done.length;
    }
  }
  const rest = p.finish();
  await write(out, rest);
  await close(out);
  return written + rest.length;
}

/** What each record of a dense pickle holds besides data (see writeDensePickle). */
export type RecordCalls = "none" | "dates" | "aware datetimes";

/**
 * {'id', 'score', 'name', 'label', 'pos', 'rgb', 'delta', 'tags'[, 'when']}: one MARK … SETITEMS.
 * Atoms mark their own save boundaries; containers call begin() before their first opcode.
 */
function record(p: Pickler, i: number, objects: RecordCalls): void {
  p.begin().op(OP.EMPTY_DICT).memoize().op(OP.MARK);
  p.str("id", true).int(i); // BININT1, then BININT2, then BININT as i grows
  p.str("score", true).float(i * 0.001 - 3.5);
  p.str("name", true).str(`item-${i}`);
  p.str("label", true).str(LABELS[i % LABELS.length]!, true);
  p.str("pos", true).int(i % 640).int(i % 480).op(OP.TUPLE2).memoize();
  p.str("rgb", true).int(i & 0xff).int((i >> 3) & 0xff).int((i * 7) & 0xff).op(OP.TUPLE3).memoize();
  p.str("delta", true).int(((i * 7919) % 200_001) - 100_000);
  p.str("tags", true).begin().op(OP.EMPTY_LIST).memoize().op(OP.MARK);
  p.str(LABELS[(i * 3) % LABELS.length]!, true).str(LABELS[(i * 5 + 1) % LABELS.length]!, true);
  p.op(OP.APPENDS);
  if (objects === "dates") {
    // date.__reduce__() is (date, (b'\x07\xea' + month + day,)): the class, the state bytes, a 1-tuple, REDUCE.
    p.str("when", true).global("datetime", "date").bytes(Uint8Array.of(0x07, 0xea, 1 + (i % 12), 1 + (i % 28)));
    p.op(OP.TUPLE1).memoize().op(OP.REDUCE).memoize();
  } else if (objects === "aware datetimes") {
    // datetime.__reduce__() is (datetime, (state bytes, tzinfo)); timezone.utc reduces to (timezone, (timedelta(0),)).
    const at = Uint8Array.of(0x07, 0xea, 1 + (i % 12), 1 + (i % 28), i % 24, i % 60, (i >> 6) % 60, 0, 0, 0);
    p.str("when", true).global("datetime", "datetime").bytes(at);
    p.sharedObject("utc", () => {
      p.global("datetime", "timezone").global("datetime", "timedelta").int(0).int(0).int(0).op(OP.TUPLE3).memoize().op(OP.REDUCE).memoize();
      p.op(OP.TUPLE1).memoize().op(OP.REDUCE);
    });
    p.op(OP.TUPLE2).memoize().op(OP.REDUCE).memoize();
  }
  p.op(OP.SETITEMS);
}

/**
 * A small pickle (a few KB) as `pickle.dumps(d, protocol)` writes it: a dict of 2-tuples of a
 * 4-tuple (ints, float, str) and a list of ints.
 */
export function smallPickle(seed: number, proto: 2 | 4): Buffer {
  const p = new Pickler(proto);
  p.op(OP.EMPTY_DICT).memoize().op(OP.MARK);
  for (let j = 0; j < 40; j++) {
    p.str(`key${j}`);
    p.begin().op(OP.MARK).int(seed).int(j).float(j / 3).str(`value-${seed}-${j}`).op(OP.TUPLE).memoize();
    p.begin().op(OP.EMPTY_LIST).memoize().op(OP.MARK).int(j).int(j + 300).int(j * 100_000).op(OP.APPENDS);
    p.op(OP.TUPLE2).memoize();
  }
  return p.op(OP.SETITEMS).finish();
}

/** A float32 tensor of `rows × cols`, stored under `key` as torch.save names storages. */
export interface TensorSpec {
  name: string;
  key: string;
  rows: number;
  cols: number;
}

const numel = (t: TensorSpec): number => t.rows * t.cols;

/**
 * The object pickle torch.save writes for a state dict of float32 tensors (protocol 2): an
 * OrderedDict, each value `_rebuild_tensor_v2(persistent_load(pid), 0, size, stride, False,
 * OrderedDict())`. The legacy format adds a sixth pid field (view metadata, None).
 */
function stateDictPickle(tensors: readonly TensorSpec[], legacy: boolean): Buffer {
  const p = new Pickler(2);
  p.global("collections", "OrderedDict").op(OP.EMPTY_TUPLE, OP.REDUCE).memoize();
  p.op(OP.MARK); // one SETITEMS batch: fewer than 1000 tensors
  for (const t of tensors) {
    p.str(t.name);
    p.global("torch._utils", "_rebuild_tensor_v2");
    p.op(OP.MARK); // the six arguments
    p.op(OP.MARK).str("storage", true).global("torch", "FloatStorage").str(t.key).str("cpu", true).int(numel(t));
    if (legacy) p.op(OP.NONE);
    p.op(OP.TUPLE).memoize().op(OP.BINPERSID);
    p.int(0);
    p.int(t.rows).int(t.cols).op(OP.TUPLE2).memoize();
    p.int(t.cols).int(1).op(OP.TUPLE2).memoize();
    p.op(OP.NEWFALSE);
    p.global("collections", "OrderedDict").op(OP.EMPTY_TUPLE, OP.REDUCE).memoize();
    p.op(OP.TUPLE).memoize().op(OP.REDUCE).memoize();
  }
  return p.op(OP.SETITEMS).finish();
}

/**
 * Deterministic float32 values (a fixed xorshift sequence scaled to ±0.05, like initialised
 * weights). One block is generated and each tensor is that block with its index in element 0,
 * so members differ without generating a gigabyte of random numbers.
 */
let weightBlock: Buffer | undefined;
function tensorData(t: TensorSpec, index: number): Buffer {
  const bytes = numel(t) * 4;
  if (!weightBlock || weightBlock.length < bytes) {
    const f = new Float32Array(bytes / 4);
    let x = 0x9e3779b9;
    for (let i = 0; i < f.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      f[i] = ((x >>> 0) / 2 ** 32 - 0.5) * 0.1;
    }
    weightBlock = Buffer.from(f.buffer);
  }
  const data = Buffer.from(weightBlock.subarray(0, bytes));
  data.writeFloatLE(index, 0);
  return data;
}

/** ZIP's 32-bit fields; torch.save switches to ZIP64 past them, which these inputs never reach. */
const ZIP32_MAX = 0xffffffff;
/** PyTorch aligns every member's data to 64 bytes. */
const ALIGNMENT = 64;

/**
 * A zip written as PyTorch's writer (miniz) writes it: stored members, each member's data
 * 64-byte aligned by an "FB" extra field of 'Z' padding in the local header only; sizes and CRC
 * in the local header (no data descriptors); a fixed DOS timestamp.
 */
class TorchZipWriter {
  private readonly central: Buffer[] = [];
  private entries = 0;
  private offset = 0;

  constructor(private readonly out: WriteStream) {}

  async add(name: string, data: Buffer): Promise<void> {
    const nameBytes = Buffer.from(name, "utf8");
    const unpadded = this.offset + 30 + nameBytes.length + 4;
    const pad = (ALIGNMENT - (unpadded % ALIGNMENT)) % ALIGNMENT;
    const extra = Buffer.alloc(4 + pad, "Z");
    extra.write("FB", 0, "latin1");
    extra.writeUInt16LE(pad, 2);
    if (this.offset + 30 + nameBytes.length + extra.length + data.length > ZIP32_MAX) throw new Error("the bench's zip needs no ZIP64");
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(0x0021, 12); // DOS date 1980-01-01: deterministic output
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(extra.length, 28);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(0x0021, 14);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(data.length, 20);
    entry.writeUInt32LE(data.length, 24);
    entry.writeUInt16LE(nameBytes.length, 28);
    entry.writeUInt32LE(this.offset, 42);
    this.central.push(entry, nameBytes);
    this.entries++;
    await write(this.out, Buffer.concat([local, nameBytes, extra]));
    await write(this.out, data);
    this.offset += local.length + nameBytes.length + extra.length + data.length;
  }

  async finish(): Promise<number> {
    const dir = Buffer.concat(this.central);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(this.entries, 8);
    end.writeUInt16LE(this.entries, 10);
    end.writeUInt32LE(dir.length, 12);
    end.writeUInt32LE(this.offset, 16);
    await write(this.out, Buffer.concat([dir, end]));
    await close(this.out);
    return this.offset + dir.length + end.length;
  }
}

/** `torch.save(state_dict, path)`: the zip layout, storages keyed "0", "1", … in pickling order. */
export async function writeTorchZip(path: string, tensors: readonly TensorSpec[]): Promise<number> {
  const zip = new TorchZipWriter(createWriteStream(path));
  await zip.add("archive/data.pkl", stateDictPickle(tensors, false));
  await zip.add("archive/byteorder", Buffer.from("little"));
  for (const [i, t] of tensors.entries()) await zip.add(`archive/data/${t.key}`, tensorData(t, i));
  await zip.add("archive/version", Buffer.from("3\n"));
  await zip.add("archive/.data/serialization_id", Buffer.from("1234567890123456789012345678901234567890"));
  return zip.finish();
}

/**
 * `torch.save(..., _use_new_zipfile_serialization=False)`: the magic number, protocol version,
 * sys info, object and sorted-key pickles, then each storage in key order as an int64
 * element count and its raw bytes.
 */
export async function writeTorchLegacy(path: string, tensors: readonly TensorSpec[]): Promise<number> {
  const out = createWriteStream(path);
  // 0x1950a86a20f9469cfc6c as LONG1: a 10-byte little-endian two's complement operand.
  const magic = Buffer.from([OP.PROTO, 2, OP.LONG1, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, OP.STOP]);
  const version = new Pickler(2).int(1001).finish();
  const sys = new Pickler(2).op(OP.EMPTY_DICT).memoize().op(OP.MARK);
  sys.str("protocol_version").int(1001).str("little_endian").op(OP.NEWTRUE).str("type_sizes");
  sys.op(OP.EMPTY_DICT).memoize().op(OP.MARK).str("short").int(2).str("int").int(4).str("long").int(4);
  sys.op(OP.SETITEMS, OP.SETITEMS);
  const sorted = [...tensors].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const keys = new Pickler(2).op(OP.EMPTY_LIST).memoize().op(OP.MARK);
  for (const t of sorted) keys.str(t.key);
  keys.op(OP.APPENDS);
  const head = Buffer.concat([magic, version, sys.finish(), stateDictPickle(tensors, true), keys.finish()]);
  await write(out, head);
  let size = head.length;
  for (const t of sorted) {
    const count = Buffer.alloc(8);
    count.writeBigInt64LE(BigInt(numel(t)));
    const data = tensorData(t, tensors.indexOf(t));
    await write(out, count);
    await write(out, data);
    size += count.length + data.length;
  }
  await close(out);
  return size;
}

/**
 * `count` float32 weight matrices of `rows × cols`. Zip storages are keyed "0", "1", …; legacy
 * ones by the storage's address (`str(storage._cdata)`), which is what sorts them differently.
 */
export function stateDict(count: number, rows: number, cols: number, legacy: boolean): TensorSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `layers.${i}.weight`,
    key: legacy ? String(94_000_000_000_000 + i * 5_369_920) : String(i),
    rows,
    cols,
  }));
}

/** A safetensors file of one F32 tensor: an 8-byte length, the JSON header, then `dataBytes` of (zero) data. */
export function safetensors(dataBytes: number): Buffer {
  let header = JSON.stringify({ w: { dtype: "F32", shape: [dataBytes / 4], data_offsets: [0, dataBytes] } });
  header += " ".repeat((8 - (header.length % 8)) % 8);
  const out = Buffer.alloc(8 + header.length + dataBytes);
  out.writeBigUInt64LE(BigInt(header.length), 0);
  out.write(header, 8, "latin1");
  return out;
}

/**
 * The configs of a large language model's repository, shaped as transformers and tokenizers save
 * them: a byte-level BPE tokenizer.json with `vocab` tokens and as many merges, a tokenizer_config
 * with a chat template, config.json, generation_config.json, and a shard index mapping `tensors`
 * names to 30 shards, of which the first is there (a small safetensors file).
 */
export async function writeRepoConfigs(path: string, vocab: number, tensors: number): Promise<void> {
  await mkdir(path);
  const tokens = Array.from({ length: vocab }, (_, i) => `Ġtok${i.toString(36)}`);
  const tokenizer = {
    version: "1.0",
    added_tokens: [{ id: vocab, content: "<|eot|>", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: "BPE", dropout: null, unk_token: null, vocab: Object.fromEntries(tokens.map((t, i) => [t, i])), merges: tokens.map((t) => `Ġ ${t.slice(1)}`) },
  };
  const shard = (i: number): string => `model-${String(i + 1).padStart(5, "0")}-of-00030.safetensors`;
  const weightMap = Object.fromEntries(Array.from({ length: tensors }, (_, i) => [`model.layers.${i >> 4}.mlp.experts.${i & 15}.down_proj.weight`, shard(i % 30)]));
  const files: Record<string, string | Buffer> = {
    "tokenizer.json": JSON.stringify(tokenizer, null, 2),
    "tokenizer_config.json": JSON.stringify({
      bos_token: "<|begin|>",
      eos_token: "<|eot|>",
      chat_template: "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] | trim }}<|eot|>{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}",
    }),
    "config.json": JSON.stringify({ architectures: ["LlamaForCausalLM"], model_type: "llama", hidden_size: 4096, num_hidden_layers: tensors >> 4, torch_dtype: "bfloat16" }),
    "generation_config.json": JSON.stringify({ bos_token_id: 1, eos_token_id: vocab, do_sample: true, temperature: 0.6 }),
    "model.safetensors.index.json": JSON.stringify({ metadata: { total_size: tensors * 4096 }, weight_map: weightMap }, null, 2),
    [shard(0)]: safetensors(4096),
  };
  for (const [name, content] of Object.entries(files)) await writeFile(join(path, name), content);
}
