/**
 * Writers for the benchmark's inputs, byte for byte as CPython's pickler and torch.save lay them
 * out, so the benchmark needs no Python: a framed protocol-4 data pickle, a PyTorch zip checkpoint
 * and the legacy checkpoint format.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";
import { crc32 } from "node:zlib";
import { OP } from "../src/pickle/opcodes.js";

/** Collects opcodes in memory; callers flush to a stream at record boundaries. */
export class PickleBytes {
  private parts: Buffer[] = [];
  length = 0;

  op(code: number): this {
    return this.raw(Buffer.from([code]));
  }

  raw(b: Buffer): this {
    this.parts.push(b);
    this.length += b.length;
    return this;
  }

  int(n: number): this {
    if (n >= 0 && n < 256) return this.raw(Buffer.from([OP.BININT1, n]));
    if (n >= 0 && n < 65536) {
      const b = Buffer.from([OP.BININT2, 0, 0]);
      b.writeUInt16LE(n, 1);
      return this.raw(b);
    }
    const b = Buffer.alloc(5);
    b[0] = OP.BININT;
    b.writeInt32LE(n, 1);
    return this.raw(b);
  }

  float(x: number): this {
    const b = Buffer.alloc(9);
    b[0] = OP.BINFLOAT;
    b.writeDoubleBE(x, 1);
    return this.raw(b);
  }

  /** SHORT_BINUNICODE / BINUNICODE, as the pickler picks by length. */
  str(s: string): this {
    const body = Buffer.from(s, "utf8");
    if (body.length < 256) return this.raw(Buffer.concat([Buffer.from([OP.SHORT_BINUNICODE, body.length]), body]));
    const head = Buffer.alloc(5);
    head[0] = OP.BINUNICODE;
    head.writeUInt32LE(body.length, 1);
    return this.raw(Buffer.concat([head, body]));
  }

  global(module: string, name: string): this {
    return this.raw(Buffer.from(`c${module}\n${name}\n`, "latin1"));
  }

  binput(n: number): this {
    return this.memoOp(OP.BINPUT, OP.LONG_BINPUT, n);
  }

  binget(n: number): this {
    return this.memoOp(OP.BINGET, OP.LONG_BINGET, n);
  }

  /** The one-byte-key form when the key fits, else the four-byte one. */
  private memoOp(short: number, long: number, key: number): this {
    if (key < 256) return this.raw(Buffer.from([short, key]));
    const b = Buffer.alloc(5);
    b[0] = long;
    b.writeUInt32LE(key, 1);
    return this.raw(b);
  }

  take(): Buffer {
    const out = Buffer.concat(this.parts, this.length);
    this.parts = [];
    this.length = 0;
    return out;
  }
}

async function write(out: WriteStream, b: Buffer): Promise<void> {
  if (!out.write(b)) await once(out, "drain");
}

async function close(out: WriteStream): Promise<void> {
  out.end();
  await once(out, "finish");
}

/**
 * What `pickle.dumps(records, protocol=4)` writes for a list of small records: frames of about
 * 64 KiB, MEMOIZE after every container and new string, repeated keys fetched with BINGET,
 * APPENDS batches of 1000.
 */
export async function writeDensePickle(path: string, targetBytes: number): Promise<number> {
  const out = createWriteStream(path);
  const frame = new PickleBytes();
  let memo = 0;
  const keys = new Map<string, number>();
  const key = (k: string): void => {
    const at = keys.get(k);
    if (at !== undefined) frame.binget(at);
    else {
      frame.str(k).op(OP.MEMOIZE);
      keys.set(k, memo++);
    }
  };
  let written = 2;
  const flush = async (): Promise<void> => {
    const body = frame.take();
    const head = Buffer.alloc(9);
    head[0] = OP.FRAME;
    head.writeBigUInt64LE(BigInt(body.length), 1);
    await write(out, Buffer.concat([head, body]));
    written += body.length + 9;
  };
  await write(out, Buffer.from([OP.PROTO, 4]));
  frame.op(OP.EMPTY_LIST).op(OP.MEMOIZE);
  memo++;
  let i = 0;
  while (written + frame.length < targetBytes) {
    frame.op(OP.MARK);
    for (let j = 0; j < 1000; j++, i++) {
      frame.op(OP.EMPTY_DICT).op(OP.MEMOIZE);
      memo++;
      frame.op(OP.MARK);
      key("id");
      frame.int(i);
      key("score");
      frame.float(i * 0.25);
      key("name");
      frame.str(`item-${i % 5000}`).op(OP.MEMOIZE);
      memo++;
      key("pair");
      frame.int(i & 0xffff).int((i * 7) & 0xff).op(OP.TUPLE2).op(OP.MEMOIZE);
      memo++;
      key("tags");
      frame.op(OP.EMPTY_LIST).op(OP.MEMOIZE);
      memo++;
      frame.op(OP.MARK);
      key("a");
      key("b");
      frame.op(OP.APPENDS).op(OP.SETITEMS);
      if (frame.length >= 64 * 1024) await flush();
    }
    frame.op(OP.APPENDS);
  }
  frame.op(OP.STOP);
  await flush();
  await close(out);
  return written;
}

export interface TensorSpec {
  key: string;
  numel: number;
}

/** The object pickle torch.save writes for a state dict of float32 tensors (protocol 2). */
function stateDictPickle(tensors: readonly TensorSpec[], legacy: boolean): Buffer {
  const p = new PickleBytes();
  let memo = 0;
  p.op(OP.PROTO).raw(Buffer.from([2]));
  p.global("collections", "OrderedDict").binput(memo++).op(OP.EMPTY_TUPLE).op(OP.REDUCE).binput(memo++);
  p.op(OP.MARK);
  let rebuild = -1;
  let floatStorage = -1;
  tensors.forEach((t, i) => {
    p.str(`layer${i}.weight`).binput(memo++);
    if (rebuild < 0) p.global("torch._utils", "_rebuild_tensor_v2").binput((rebuild = memo++));
    else p.binget(rebuild);
    p.op(OP.MARK);
    p.op(OP.MARK).str("storage");
    if (floatStorage < 0) p.global("torch", "FloatStorage").binput((floatStorage = memo++));
    else p.binget(floatStorage);
    p.str(t.key).str("cpu").int(t.numel);
    if (legacy) p.op(OP.NONE);
    p.op(OP.TUPLE).binput(memo++).op(OP.BINPERSID);
    p.int(0).int(t.numel).op(OP.TUPLE1).int(1).op(OP.TUPLE1).op(OP.NEWFALSE);
    p.binget(0).op(OP.EMPTY_TUPLE).op(OP.REDUCE).binput(memo++);
    p.op(OP.TUPLE).binput(memo++).op(OP.REDUCE).binput(memo++);
  });
  p.op(OP.SETITEMS).op(OP.STOP);
  return p.take();
}

function tensorBytes(t: TensorSpec, seed: number): Buffer {
  const b = Buffer.alloc(t.numel * 4);
  for (let i = 0; i < b.length; i += 4096) b.writeFloatLE(seed + i, i);
  return b;
}

/** A zip exactly as torch.save lays it out: stored members, data aligned to 64 bytes with an "FB" extra field. */
export async function writeTorchZip(path: string, tensors: readonly TensorSpec[]): Promise<number> {
  const out = createWriteStream(path);
  const central: Buffer[] = [];
  let offset = 0;
  const member = async (name: string, data: Buffer): Promise<void> => {
    const nameBytes = Buffer.from(name, "utf8");
    const unpadded = offset + 30 + nameBytes.length + 4;
    const pad = (64 - (unpadded % 64)) % 64;
    const extra = Buffer.alloc(4 + pad);
    extra.writeUInt16LE(0x4246, 0); // "FB": PyTorch's alignment padding
    extra.writeUInt16LE(pad, 2);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(extra.length, 28);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4);
    entry.writeUInt16LE(20, 6);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(data.length, 20);
    entry.writeUInt32LE(data.length, 24);
    entry.writeUInt16LE(nameBytes.length, 28);
    entry.writeUInt32LE(offset, 42);
    central.push(entry, nameBytes);
    await write(out, Buffer.concat([local, nameBytes, extra]));
    await write(out, data);
    offset += 30 + nameBytes.length + extra.length + data.length;
  };
  await member("archive/data.pkl", stateDictPickle(tensors, false));
  await member("archive/byteorder", Buffer.from("little"));
  for (const [i, t] of tensors.entries()) await member(`archive/data/${t.key}`, tensorBytes(t, i));
  await member("archive/version", Buffer.from("3\n"));
  await member("archive/.data/serialization_id", Buffer.from("0123456789012345678901234567890123456789"));
  const dir = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(central.length / 2, 8);
  end.writeUInt16LE(central.length / 2, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  await write(out, Buffer.concat([dir, end]));
  await close(out);
  return offset + dir.length + end.length;
}

/** torch.save(..., _use_new_zipfile_serialization=False): five pickles, then each storage as int64 count + bytes. */
export async function writeTorchLegacy(path: string, tensors: readonly TensorSpec[]): Promise<number> {
  const out = createWriteStream(path);
  const p = new PickleBytes();
  p.raw(Buffer.from([OP.PROTO, 2, OP.LONG1, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, OP.STOP]));
  p.op(OP.PROTO).raw(Buffer.from([2])).int(1001).op(OP.STOP);
  p.op(OP.PROTO).raw(Buffer.from([2])).op(OP.EMPTY_DICT).op(OP.MARK);
  p.str("protocol_version").int(1001).str("little_endian").op(OP.NEWTRUE).str("type_sizes").op(OP.EMPTY_DICT).op(OP.MARK);
  p.str("short").int(2).str("int").int(4).str("long").int(4).op(OP.SETITEMS).op(OP.SETITEMS).op(OP.STOP);
  p.raw(stateDictPickle(tensors, true));
  const sorted = [...tensors].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  p.op(OP.PROTO).raw(Buffer.from([2])).op(OP.EMPTY_LIST).op(OP.MARK);
  for (const t of sorted) p.str(t.key);
  p.op(OP.APPENDS).op(OP.STOP);
  let size = p.length;
  await write(out, p.take());
  for (const [i, t] of sorted.entries()) {
    const count = Buffer.alloc(8);
    count.writeBigInt64LE(BigInt(t.numel));
    const data = tensorBytes(t, i);
    await write(out, count);
    await write(out, data);
    size += 8 + data.length;
  }
  await close(out);
  return size;
}
