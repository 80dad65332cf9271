/**
 * Opcode operands read synchronously from the stream's buffer. When an operand is not buffered
 * yet the reader throws NeedMore (the machine rewinds the opcode, loads, and runs it again); when
 * the data ends or an operand is impossible it throws StreamBreak.
 */
import { MIN_CONSTANT, type ConstantLog } from "./constants.js";
import { LIMITS } from "../limits.js";
import type { IssueKind } from "./machine.js";
import { narrow, rawUnicodeEscape } from "./literals.js";
import { opName } from "./opcodes.js";
import type { StreamReader } from "./reader.js";
import { bytesConst, type Value } from "./values.js";

const MAX_INLINE = LIMITS.pickleMaxInlineConstant;
const MAX_LINE = LIMITS.pickleMaxLine;

/** Raised inside the loop to end the stream; the machine reports it and returns. */
export class StreamBreak extends Error {
  constructor(
    readonly kind: IssueKind,
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

/** An operand is not in the buffer yet: rewind to the opcode at `at` and load `bytes` from there. */
export class NeedMore {
  constructor(
    readonly at: number,
    readonly bytes: number,
  ) {}
}

export class Operands {
  /** Source offset just past the buffered bytes, fixed while the machine runs a buffer. */
  end = 0;

  constructor(
    private readonly r: StreamReader,
    /** Where str and bytes constants are noted for dormant payloads (P22), when the caller asks. */
    private readonly constants?: ConstantLog,
  ) {}

  /** The opcode byte at `at`, for messages. */
  opAt(at: number): number {
    return this.r.buf[at - this.r.bufStart] ?? 0;
  }

  /** Ensures `n` operand bytes after pos are buffered, or signals a refill, or the end of the data. */
  need(n: number, at: number): void {
    if (this.r.pos + n > this.end) this.short(at, this.r.pos + n);
  }

  /** The operands of the opcode at `at` run to `upTo`, past the buffer: a refill, or the end of the data. */
  short(at: number, upTo: number): never {
    if (this.end >= this.r.size) throw new StreamBreak("broken", `${opName(this.opAt(at))} operand truncated`, at);
    throw new NeedMore(at, upTo - at);
  }

  /** A payload of `len` bytes at `from` is not all buffered: impossible past the end of the data, else a refill. */
  unbuffered(from: number, len: number, at: number): never {
    const size = this.r.size;
    if (from + len > size) throw new StreamBreak("malformed", `${opName(this.opAt(at))} declares ${len} bytes but only ${size - from} remain`, at);
    this.short(at, from + len);
  }

  u8(at: number): number {
    this.need(1, at);
    return this.r.buf[this.r.pos++ - this.r.bufStart]!;
  }

  u16(at: number): number {
    this.need(2, at);
    const v = this.r.buf.readUInt16LE(this.r.pos - this.r.bufStart);
    this.r.pos += 2;
    return v;
  }

  u32(at: number): number {
    this.need(4, at);
    const v = this.r.buf.readUInt32LE(this.r.pos - this.r.bufStart);
    this.r.pos += 4;
    return v;
  }

  i32(at: number): number {
    this.need(4, at);
    const v = this.r.buf.readInt32LE(this.r.pos - this.r.bufStart);
    this.r.pos += 4;
    return v;
  }

  /** 8-byte lengths: anything past the safe-integer range cannot fit any file. */
  u64(at: number): number {
    this.need(8, at);
    const v = this.r.buf.readBigUInt64LE(this.r.pos - this.r.bufStart);
    this.r.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new StreamBreak("malformed", `${opName(this.opAt(at))} length ${v} is impossible`, at);
    return Number(v);
  }

  /**
   * Checks that `len` payload bytes exist in the source. Returns the buffer index of a payload small
   * enough to keep (signalling a refill if it is not buffered yet), or -1 for one skipped by seeking.
   */
  payload(len: number, at: number): number {
    const r = this.r;
    if (r.pos + len > r.size || (len <= MAX_INLINE && r.pos + len > this.end)) this.unbuffered(r.pos, len, at);
    return len > MAX_INLINE ? -1 : r.pos - r.bufStart;
  }

  text(len: number, encoding: "utf8" | "latin1", at: number): Value {
    const r = this.r;
    const s = this.payload(len, at);
    const start = r.pos;
    r.pos += len;
    // latin1 text (protocol 0–2 str) holds bytes as code points: examined as bytes.
    if (len >= MIN_CONSTANT && this.constants) this.note(s, len, start, encoding === "utf8");
    if (s < 0) return { t: "bigstr", len, at: start };
    return encoding === "utf8" ? utf8(r.buf, s, len) : r.buf.toString("latin1", s, s + len);
  }

  bytes(len: number, at: number): Value {
    const r = this.r;
    const s = this.payload(len, at);
    const start = r.pos;
    r.pos += len;
    if (len >= MIN_CONSTANT && this.constants) this.note(s, len, start, false);
    if (s < 0) return { t: "bigbytes", len, at: start };
    // Copied so a small constant does not pin the whole read chunk in memory; into a plain
    // Uint8Array, since slicing a Buffer goes through its (slow) species constructor.
    const data = new Uint8Array(len);
    const buf = r.buf;
    if (len <= 64) for (let i = 0; i < len; i++) data[i] = buf[s + i]!;
    else data.set(new Uint8Array(buf.buffer, buf.byteOffset + s, len));
    return bytesConst(data, start);
  }

  /** A constant at buffer index `s` (-1: skipped unread) for the dormant-payload log. */
  private note(s: number, len: number, start: number, isUtf8: boolean): void {
    this.constants!.note(this.r.buf, this.r.bufStart, start, len, isUtf8, s >= 0);
  }

  longBytes(n: number, at: number): Value {
    const r = this.r;
    const s = this.payload(n, at);
    r.pos += n;
    if (s < 0) return { t: "opaque", what: `integer of ${n} bytes` };
    if (n === 0) return 0;
    // Through hex text: shifting a BigInt up a byte at a time copies it each time (64 KiB took 0.4 s).
    let v = BigInt(`0x${Buffer.from(r.buf.subarray(s, s + n)).reverse().toString("hex")}`);
    if (r.buf[s + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
    return narrow(v);
  }

  /** A text operand up to "\n" (protocol 0), within MAX_LINE bytes. */
  line(at: number): string {
    const r = this.r;
    const s = r.pos - r.bufStart;
    const i = lineEnd(r.buf, s);
    if (i === LINE_TOO_LONG) throw new StreamBreak("limit", `${opName(this.opAt(at))} line longer than ${MAX_LINE} bytes`, at);
    if (i === LINE_UNBUFFERED) {
      if (this.end >= r.size) throw new StreamBreak("broken", `${opName(this.opAt(at))} line truncated`, at);
      throw new NeedMore(at, lineWant(this.end - at));
    }
    r.pos = r.bufStart + i + 1;
    return lineText(r.buf, s, i);
  }

  /** UNICODE's operand: the line's bytes before its "\n" (a "\r" kept, as CPython keeps it), decoded as raw-unicode-escape. */
  unicodeLine(at: number): string | undefined {
    const start = this.r.pos - this.r.bufStart;
    this.line(at);
    return rawUnicodeEscape(this.r.buf, start, this.r.pos - this.r.bufStart - 1);
  }
}

export const LINE_TOO_LONG = -1;
export const LINE_UNBUFFERED = -2;
/** The least more to load when a text line runs past the buffer. */
const LINE_CHUNK = 64 * 1024;

/**
 * Bytes to have buffered from an opcode whose line runs past the `buffered` bytes it has: twice as
 * many (at least a chunk more), so a line of n bytes takes log(n) refills, not n / chunk rescans.
 */
export function lineWant(buffered: number): number {
  return buffered + Math.max(LINE_CHUNK, buffered);
}

/**
 * The buffer index of the "\n" that ends a text operand starting at `s`; LINE_TOO_LONG past
 * MAX_LINE bytes, LINE_UNBUFFERED when the buffer ends first (the data may hold the rest).
 */
export function lineEnd(buf: Buffer, s: number): number {
  const i = buf.indexOf(0x0a, s);
  if (i >= 0 && i - s <= MAX_LINE) return i;
  return i - s > MAX_LINE || buf.length - s > MAX_LINE ? LINE_TOO_LONG : LINE_UNBUFFERED;
}

/** The text of the line `[s, nl)`, without a trailing "\r" (CRLF-tolerant like CPython's readline().strip()). */
export function lineText(buf: Buffer, s: number, nl: number): string {
  return buf.toString("utf8", s, nl > s && buf[nl - 1] === 0x0d ? nl - 1 : nl);
}

const chars = String.fromCharCode;

/**
 * Decodes `n` UTF-8 bytes at `s`. Short ASCII strings, most of what a pickle holds, are built in
 * JS: `Buffer#toString` crosses into C++, which costs more than decoding a few bytes.
 */
export function utf8(buf: Buffer, s: number, n: number): string {
  if (n > 16) return buf.toString("utf8", s, s + n);
  for (let i = s; i < s + n; i++) if (buf[i]! >= 0x80) return buf.toString("utf8", s, s + n);
  return n > 8 ? ascii(buf, s, 8) + ascii(buf, s + 8, n - 8) : ascii(buf, s, n);
}

/** `n` ≤ 8 ASCII bytes at `s` as a string. */
function ascii(buf: Buffer, s: number, n: number): string {
  switch (n) {
    case 0:
      return "";
    case 1:
      return chars(buf[s]!);
    case 2:
      return chars(buf[s]!, buf[s + 1]!);
    case 3:
      return chars(buf[s]!, buf[s + 1]!, buf[s + 2]!);
    case 4:
      return chars(buf[s]!, buf[s + 1]!, buf[s + 2]!, buf[s + 3]!);
    case 5:
      return chars(buf[s]!, buf[s + 1]!, buf[s + 2]!, buf[s + 3]!, buf[s + 4]!);
    case 6:
      return chars(buf[s]!, buf[s + 1]!, buf[s + 2]!, buf[s + 3]!, buf[s + 4]!, buf[s + 5]!);
    case 7:
      return chars(buf[s]!, buf[s + 1]!, buf[s + 2]!, buf[s + 3]!, buf[s + 4]!, buf[s + 5]!, buf[s + 6]!);
    default:
      return chars(buf[s]!, buf[s + 1]!, buf[s + 2]!, buf[s + 3]!, buf[s + 4]!, buf[s + 5]!, buf[s + 6]!, buf[s + 7]!);
  }
}
