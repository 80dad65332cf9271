/**
 * One byte source for everything: parsers only ever ask for `read(offset, length)`, so a local
 * file, a member of an archive and (later) an HTTP range are scanned by the same code.
 */
import { close, closeSync, constants, fstatSync, openSync, read, readSync } from "node:fs";
import { promisify } from "node:util";

const readAt = promisify(read);
const closeAsync = promisify(close);

export interface ByteSource {
  /** Display name (a path, a URL, or "path > member"). */
  readonly name: string;
  readonly size: number;
  /** Returns exactly `min(length, size - offset)` bytes (empty at or past the end). */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * The same bytes as `read`, when the source has them without waiting (in memory, or a small
   * synchronous read); undefined otherwise. Archive members are sniffed by the hundred per
   * checkpoint, and a promise per small read was a measurable part of each.
   */
  readNow?(offset: number, length: number): Uint8Array | undefined;
  /**
   * Reads up to `length` bytes from `offset` into `into` at `at` and returns how many (fewer only at
   * the end of the source): a reader of a long stream then refills one buffer of its own instead of
   * leaving a fresh one behind per read, which the collector frees only at its rare full collections.
   */
  readInto?(into: Uint8Array, at: number, offset: number, length: number): Promise<number>;
}

/** Counts the bytes a scan actually pulled from storage. */
export interface ReadCounter {
  bytesRead: number;
}

/**
 * Files up to this size are read whole when opened and served from memory: sniffing and parsing
 * revisit their bytes in many small reads (a zip's headers, a pickle's frames), and a scan of a file
 * this small reads most of it anyway. They are opened, read and closed with synchronous calls: a
 * folder of model files is mostly small files, and four thread-pool round trips per file (open,
 * stat, read, close) cost more than the reads themselves.
 */
const WHOLE_FILE_CACHE = 1024 * 1024;

/**
 * A larger file's reads of up to BLOCK bytes are served from one cached block read synchronously
 * from the first of them. A zip checkpoint is read in small pieces at neighbouring offsets (a
 * member's local header, the head a sniff reads, the end-record check at its end, then the next
 * member's header): one block per member, and a thread-pool round trip per piece cost more than
 * the bytes (on two cores the wake-ups alone took a sixth of a folder scan's main thread). Larger
 * reads (pickle streams, compressed members) stay asynchronous.
 */
const BLOCK = 16 * 1024;

export class FileSource implements ByteSource, ReadCounter {
  bytesRead = 0;
  /** The last block read (see BLOCK). */
  private block: { start: number; bytes: Uint8Array } | undefined;

  private constructor(
    readonly name: string,
    readonly size: number,
    /** The open descriptor of a file read by ranges; a small file is read whole and closed at once. */
    private fd: number | undefined,
    private readonly whole: Uint8Array | undefined,
    /** The path it was opened by (a model's external files are found relative to it). */
    readonly path: string,
  ) {
    if (whole) this.bytesRead = whole.length;
  }

  static async open(path: string, name = path): Promise<FileSource> {
    const { fd, size } = openRegular(path, 0);
    if (size > WHOLE_FILE_CACHE) return new FileSource(name, size, fd, undefined, path);
    try {
      const whole = readSpan(fd, 0, size);
      return new FileSource(name, whole.length, undefined, whole, path);
    } finally {
      closeSync(fd);
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    return this.readNow(offset, length) ?? this.readRange(offset, clampLength(offset, length, this.size));
  }

  /** Bytes from memory, or from one block read synchronously; undefined for a larger range of a larger file. */
  readNow(offset: number, length: number): Uint8Array | undefined {
    const n = clampLength(offset, length, this.size);
    if (n === 0) return new Uint8Array(0);
    if (this.whole) return this.whole.subarray(offset, offset + n);
    if (n > BLOCK) return undefined;
    const b = this.block;
    if (b && offset >= b.start && offset + n <= b.start + b.bytes.length) return b.bytes.subarray(offset - b.start, offset - b.start + n);
    if (this.fd === undefined) throw new Error(`${this.name} was read after it was closed`);
    const bytes = readSpan(this.fd, offset, Math.min(BLOCK, this.size - offset));
    this.bytesRead += bytes.length;
    this.block = { start: offset, bytes };
    return bytes.subarray(0, Math.min(n, bytes.length));
  }

  private async readRange(offset: number, n: number): Promise<Uint8Array> {
    const buf = Buffer.allocUnsafe(n);
    const got = await this.readInto(buf, 0, offset, n);
    return got === n ? buf : buf.subarray(0, got);
  }

  async readInto(into: Uint8Array, at: number, offset: number, length: number): Promise<number> {
    const n = clampLength(offset, length, this.size);
    // What readNow serves (the whole of a small file, a block) is copied from memory.
    const held = this.whole !== undefined || n <= BLOCK ? this.readNow(offset, n) : undefined;
    if (held) {
      into.set(held, at);
      return held.length;
    }
    if (this.fd === undefined) throw new Error(`${this.name} was read after it was closed`);
    let got = 0;
    while (got < n) {
      const { bytesRead } = await readAt(this.fd, into, at + got, n - got, offset + got);
      if (bytesRead === 0) break; // file shrank under us: return what exists
      got += bytesRead;
    }
    this.bytesRead += got;
    return got;
  }

  async close(): Promise<void> {
    const fd = this.fd;
    this.fd = undefined;
    this.block = undefined;
    if (fd !== undefined) await closeAsync(fd);
  }
}

/**
 * Up to `limit` bytes from the start of the regular file at `path`, read with synchronous calls as
 * FileSource reads small files; a symbolic link is refused, never followed (O_NOFOLLOW).
 */
export function readFileStart(path: string, limit: number): Buffer {
  const { fd, size } = openRegular(path, constants.O_NOFOLLOW);
  try {
    return readSpan(fd, 0, Math.min(limit, size));
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens a regular file for reading. O_NONBLOCK: a FIFO put in a file's place after a folder walk
 * cannot block the open (it is then refused, as anything but a regular file is).
 */
function openRegular(path: string, flags: number): { fd: number; size: number } {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | flags);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`${path} is not a regular file`);
    return { fd, size: st.size };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** `length` bytes of an open file from `offset`, read synchronously, or fewer if it shrank under us (what exists is the file). */
function readSpan(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, offset + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

export class BufferSource implements ByteSource {
  readonly size: number;
  constructor(
    readonly name: string,
    private readonly bytes: Uint8Array,
  ) {
    this.size = bytes.length;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    return this.readNow(offset, length);
  }

  readNow(offset: number, length: number): Uint8Array {
    const n = clampLength(offset, length, this.size);
    return this.bytes.subarray(offset, offset + n);
  }
}

/** A window `[start, start + size)` of another source: an uncompressed archive member, a payload inside a pickle. */
export class SliceSource implements ByteSource {
  constructor(
    readonly name: string,
    private readonly parent: ByteSource,
    private readonly start: number,
    readonly size: number,
  ) {
    if (start < 0 || size < 0 || start + size > parent.size) {
      throw new RangeError(`slice [${start}, ${start + size}) outside ${parent.name} (${parent.size} bytes)`);
    }
  }
  read(offset: number, length: number): Promise<Uint8Array> {
    const n = clampLength(offset, length, this.size);
    if (n === 0) return Promise.resolve(new Uint8Array(0));
    return this.parent.read(this.start + offset, n);
  }

  readNow(offset: number, length: number): Uint8Array | undefined {
    const n = clampLength(offset, length, this.size);
    if (n === 0) return new Uint8Array(0);
    return this.parent.readNow?.(this.start + offset, n);
  }

  readInto(into: Uint8Array, at: number, offset: number, length: number): Promise<number> {
    return readIntoFrom(this.parent, into, at, this.start + offset, clampLength(offset, length, this.size));
  }
}

/** `source.readInto`, or a read copied into `into` when the source has no such method. */
export async function readIntoFrom(source: ByteSource, into: Uint8Array, at: number, offset: number, length: number): Promise<number> {
  if (source.readInto) return source.readInto(into, at, offset, length);
  const bytes = await source.read(offset, length);
  into.set(bytes, at);
  return bytes.length;
}

/** Bytes held as a list of chunks (decompressed output), read without first joining them into one copy. */
export class ChunkedSource implements ByteSource {
  readonly size: number;
  /** Source offset of each chunk's first byte. */
  private readonly starts: number[] = [];

  constructor(
    readonly name: string,
    private readonly chunks: readonly Uint8Array[],
  ) {
    let at = 0;
    for (const c of chunks) {
      this.starts.push(at);
      at += c.length;
    }
    this.size = at;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const n = clampLength(offset, length, this.size);
    if (n === 0) return new Uint8Array(0);
    let i = this.chunkAt(offset);
    const first = this.chunks[i]!;
    const within = offset - this.starts[i]!;
    if (within + n <= first.length) return first.subarray(within, within + n);
    const out = new Uint8Array(n);
    for (let copied = 0; copied < n; i++) {
      const c = this.chunks[i]!;
      const from = copied === 0 ? within : 0;
      const take = Math.min(c.length - from, n - copied);
      out.set(c.subarray(from, from + take), copied);
      copied += take;
    }
    return out;
  }

  /** Index of the chunk holding `offset` (binary search over chunk starts). */
  private chunkAt(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

function clampLength(offset: number, length: number, size: number): number {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new RangeError(`invalid read(${offset}, ${length})`);
  }
  return Math.max(0, Math.min(length, size - offset));
}

/** Reads a whole source into memory; callers bound `size` first. */
export async function readAll(source: ByteSource): Promise<Uint8Array> {
  return source.read(0, source.size);
}
