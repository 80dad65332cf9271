/**
 * Str and bytes constants that may hold a dormant second stage (P22), noted by the plain-data
 * proof and the machine as they pass, and scanned by the pickle scanner once the streams are done.
 * Constants still in the read buffer are examined at once (dormant.ts decodes nothing unless the
 * first bytes match); constants too long to buffer are noted by position, to be read back.
 */
import { dormantIn, dormantPayloads, mayHide, type Dormant } from "./dormant.js";

/** A constant skipped unread (past the inline bound or the buffer): examined from the source afterwards. */
export interface UnreadConstant {
  at: number;
  len: number;
  utf8: boolean;
}

export interface FoundConstant {
  /** Offset of the constant's first payload byte. */
  at: number;
  found: Dormant;
}

/** Dormant finds and unread constants kept per scan; past them, one count says how many were not examined. */
const MAX_FOUND = 64;
const MAX_UNREAD = 256;
/** Shortest constant worth a look (dormant.ts's own minimum). */
export const MIN_CONSTANT = 12;
/** Bytes of a skipped constant's start that decide whether it is read back (a raw deflate stream's code tables can take hundreds). */
export const HEAD = 1024;
/** Fewer bytes of its start than this at hand: a skipped constant is noted without a look (a magic or an encoding's probe needs them). */
const MIN_HEAD = 32;
const EMPTY = new Uint8Array(0);

export class ConstantLog {
  readonly found: FoundConstant[] = [];
  readonly unread: UnreadConstant[] = [];
  /** Finds and unread constants past the bounds above. */
  dropped = 0;

  /** A constant of `len` bytes at `index` of `buf`, starting at stream offset `at`. */
  inBuffer(buf: Uint8Array, index: number, len: number, at: number, utf8: boolean): void {
    const found = dormantIn(buf, index, len, utf8);
    // A raw payload is a view of the read buffer, which the next refill may overwrite (StreamReader).
    for (const f of found) this.add(at, f.kind !== "limit" && f.bytes.buffer === buf.buffer ? { ...f, bytes: Uint8Array.from(f.bytes) } : f);
  }

  /** A constant already decoded (protocol 0's quoted text). */
  text(s: string, at: number): void {
    if (s.length < MIN_CONSTANT) return;
    for (const f of dormantPayloads(s)) this.add(at, f);
  }

  /**
   * A constant of `len` bytes at stream offset `at`, met in a read buffer that starts at stream
   * offset `bufStart`: examined in place when the buffer holds it (`buffered`), else noted with
   * what the buffer holds of its start.
   */
  note(buf: Uint8Array, bufStart: number, at: number, len: number, utf8: boolean, buffered: boolean): void {
    const index = at - bufStart;
    if (buffered) this.inBuffer(buf, index, len, at, utf8);
    else this.skipped(at, len, utf8, index >= 0 && index < buf.length ? buf.subarray(index, Math.min(buf.length, index + HEAD)) : EMPTY);
  }

  /** A constant skipped unread; `head` is what the buffer holds of its start (nothing known: noted). */
  private skipped(at: number, len: number, utf8: boolean, head: Uint8Array): void {
    if (head.length >= MIN_HEAD && !mayHide(head, len, utf8)) return;
    if (this.unread.length < MAX_UNREAD) this.unread.push({ at, len, utf8 });
    else this.dropped++;
  }

  /** Where the log stands, to go back to when a stream is read again from its start (the proof gave up). */
  mark(): [number, number, number] {
    return [this.found.length, this.unread.length, this.dropped];
  }

  rewind([found, unread, dropped]: [number, number, number]): void {
    this.found.length = found;
    this.unread.length = unread;
    this.dropped = dropped;
  }

  private add(at: number, found: Dormant): void {
    if (this.found.length < MAX_FOUND) this.found.push({ at, found });
    else this.dropped++;
  }
}
