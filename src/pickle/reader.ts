/**
 * Buffered, seekable reading of a pickle stream from a ByteSource. The machine's hot loop works
 * on `buf` directly; only refills await. Payloads too large to keep are skipped by moving `pos`.
 */
import { readIntoFrom, type ByteSource } from "../sources/byteSource.js";

/**
 * Reads start small and double up to the largest chunk: a checkpoint's pickle is often a few
 * kilobytes followed by gigabytes of tensor data that must not be read, while a dense pickle
 * wants big reads.
 */
const FIRST_CHUNK = 64 * 1024;
const MAX_CHUNK = 1 << 20;
/** A buffered tail up to this long is read again rather than copied (see load). */
const REREAD_TAIL = 4096;
/**
 * A stream longer than this is read into two buffers of the reader's own, taking turns: a fresh
 * megabyte per refill outlived the young generation and stayed until a full collection, some 60 MB
 * of a dense pickle's peak RSS. Shorter streams keep the source's own bytes (a small file's, in memory).
 */
const REUSE_FROM = 4 * MAX_CHUNK;

export class StreamReader {
  buf: Buffer = Buffer.alloc(0);
  /** Source offset of buf[0]. */
  bufStart = 0;
  /** Current source offset. */
  pos: number;
  readonly size: number;
  private chunk = FIRST_CHUNK;
  /**
   * The reader's own buffers when it refills them (REUSE_FROM): the one `buf` is a view of, and the
   * other, which the next refill fills. Nothing holds a view of `buf` across a refill: values copy
   * what they keep, and a dormant find is copied out (ConstantLog).
   */
  private current: Buffer | undefined;
  private spare: Buffer | undefined;

  constructor(
    readonly source: ByteSource,
    start: number,
  ) {
    this.pos = start;
    this.size = source.size;
  }

  get bufEnd(): number {
    return this.bufStart + this.buf.length;
  }

  /**
   * Whether `[pos, pos + n)` is buffered, or as much of it as the source holds. False only when the
   * source returned less than its size promised (a file truncated while it was read).
   */
  holds(n: number): boolean {
    return this.pos >= this.bufStart && this.bufEnd >= Math.min(this.pos + n, this.size);
  }

  /** Moves to `pos`, dropping a buffer that does not hold it: readers index `buf` from `pos` on. */
  seek(pos: number): void {
    if (pos < this.bufStart || pos > this.bufEnd) {
      this.buf = Buffer.alloc(0);
      this.bufStart = pos;
    }
    this.pos = pos;
  }

  /** Makes `[pos, pos + n)` available in `buf` if the source has it; false at end of source. */
  async ensure(n: number): Promise<boolean> {
    if (this.pos >= this.bufStart) {
      if (this.pos + n <= this.bufEnd) return true;
      if (this.bufEnd >= this.size) return false; // the rest of the source is already buffered
    }
    if (this.pos + n > this.size) {
      if (this.pos >= this.size) return false;
      n = this.size - this.pos;
      await this.load(n);
      return false;
    }
    await this.load(n);
    return true;
  }

  private async load(n: number): Promise<void> {
    const want = Math.min(Math.max(n, this.chunk), this.size - this.pos);
    this.chunk = Math.min(this.chunk * 2, MAX_CHUNK);
    // The unread tail of the buffer is kept and joined to the new bytes, unless it is short: then
    // it is read again with them, sparing a copy of the whole chunk (and its garbage) per refill.
    const tail = this.bufEnd - this.pos;
    const kept = this.pos >= this.bufStart && tail > REREAD_TAIL ? this.buf.subarray(this.pos - this.bufStart) : undefined;
    const from = kept ? this.bufEnd : this.pos;
    if (this.size >= REUSE_FROM) {
      const into = this.spare !== undefined && this.spare.length >= want ? this.spare : Buffer.allocUnsafe(Math.max(want, MAX_CHUNK));
      const keptLength = kept ? kept.copy(into, 0) : 0;
      const got = await readIntoFrom(this.source, into, keptLength, from, want - keptLength);
      this.spare = this.current;
      this.current = into;
      this.buf = into.subarray(0, keptLength + got);
    } else {
      const fresh = await this.source.read(from, want - (kept?.length ?? 0));
      this.buf = kept ? Buffer.concat([kept, fresh]) : Buffer.from(fresh.buffer, fresh.byteOffset, fresh.length);
    }
    this.bufStart = this.pos;
  }
}
