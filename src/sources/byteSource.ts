/**
 * One byte source for everything: parsers only ever ask for `read(offset, length)`, so a local
 * file, a member of an archive and (later) an HTTP range are scanned by the same code.
 */
import { open, type FileHandle } from "node:fs/promises";

export interface ByteSource {
  /** Display name (a path, a URL, or "path > member"). */
  readonly name: string;
  readonly size: number;
  /** Returns exactly `min(length, size - offset)` bytes (empty at or past the end). */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Counts the bytes a scan actually pulled from storage. */
export interface ReadCounter {
  bytesRead: number;
}

/**
 * Files up to this size are read with one call and served from memory: sniffing and parsing revisit
 * their bytes in many small reads (a zip's headers, a pickle's frames), each a round trip through
 * the thread pool. A scan of a file this small reads most of it anyway.
 */
const WHOLE_FILE_CACHE = 1024 * 1024;

export class FileSource implements ByteSource, ReadCounter {
  bytesRead = 0;
  private whole: Uint8Array | undefined;

  private constructor(
    readonly name: string,
    readonly size: number,
    private readonly handle: FileHandle,
    /** The path it was opened by (a model's external files are found relative to it). */
    readonly path: string,
  ) {}

  static async open(path: string, name = path): Promise<FileSource> {
    const handle = await open(path, "r");
    try {
      const st = await handle.stat();
      return new FileSource(name, st.size, handle, path);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const n = clampLength(offset, length, this.size);
    if (n === 0) return new Uint8Array(0);
    if (this.size <= WHOLE_FILE_CACHE) {
      this.whole ??= await this.readFromDisk(0, this.size);
      return this.whole.subarray(offset, offset + n);
    }
    return this.readFromDisk(offset, n);
  }

  private async readFromDisk(offset: number, n: number): Promise<Uint8Array> {
    const buf = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      const { bytesRead } = await this.handle.read(buf, got, n - got, offset + got);
      if (bytesRead === 0) break; // file shrank under us: return what exists
      got += bytesRead;
    }
    this.bytesRead += got;
    return got === n ? buf : buf.subarray(0, got);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
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
