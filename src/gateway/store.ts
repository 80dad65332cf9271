/**
 * The content-addressed store: a blob's path is its sha256, so no request path ever names a file on
 * disk. Downloads are written to a temp file with every write's byte count checked, synced, read back
 * and hashed again, compared with the hub's published sha256 when there is one, and only then renamed
 * into place: nothing partial or wrong ever gets a final name. A blob is hashed again before this
 * process first serves or scans it, so a blob damaged on disk (or by another writer) is dropped and
 * fetched again rather than served.
 */
import { createHash, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat, statfs } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";

export interface StoredBlob {
  sha256: string;
  size: number;
  path: string;
}

/** A download that cannot be kept: too large, cut off, or not the content announced. */
export class StoreError extends Error {}

/** The bytes are not the content the hub published (its sha256 or size): the upstream's fault. */
export class IntegrityError extends StoreError {}

/** The file is larger than the gateway's limit (`--max-file-size`). */
export class TooLargeError extends StoreError {}

/** The store's file system is full: the request fails with 507 and /healthz is unhealthy until space is back. */
export class StoreFullError extends StoreError {}

/** A temp file being written. `write` answers how many bytes it wrote, which may be fewer than given. */
export interface WritableFile {
  write(chunk: Uint8Array, position: number): Promise<number>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** The file-system calls the store writes through; tests replace them to simulate a full disk. */
export interface StoreFs {
  create(path: string): Promise<WritableFile>;
  /** Bytes free for this process on the file system holding `dir`. */
  freeBytes(dir: string): Promise<number>;
}

export const NODE_FS: StoreFs = {
  async create(path) {
    const handle = await open(path, "wx");
    return {
      write: async (chunk, position) => (await handle.write(chunk, 0, chunk.length, position)).bytesWritten,
      sync: () => handle.sync(),
      close: () => handle.close(),
    };
  },
  async freeBytes(dir) {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  },
};

/** What the upstream announced about a download; each is checked against what arrived. */
export interface Expected {
  size?: number;
  /** The hub's published sha256 of the content (X-Linked-Etag of an LFS file). */
  sha256?: string;
}

const SHA256 = /^[0-9a-f]{64}$/;
const FULL_CODES = new Set(["ENOSPC", "EDQUOT", "EFBIG"]);

export class BlobStore {
  /** Blobs hashed by this process since it started, with the size and mtime they had then. */
  private readonly verified = new Map<string, string>();
  private readonly verifying = new Map<string, Promise<boolean>>();
  /** Bytes a failed download needed when the disk filled up; undefined while the store is healthy. */
  private neededBytes: number | undefined;

  private constructor(
    readonly dir: string,
    private readonly fs: StoreFs,
  ) {}

  /**
   * Opens (creating) the store. Leftovers of interrupted downloads are removed once nobody has written
   * to them for `abandonedMs`: other processes sharing the store may be writing theirs right now.
   */
  static async open(dir: string, fs: StoreFs = NODE_FS, abandonedMs = 10 * 60_000): Promise<BlobStore> {
    for (const sub of ["blobs", "tmp"]) await mkdir(join(dir, sub), { recursive: true });
    for (const name of await readdir(join(dir, "tmp"))) {
      const path = join(dir, "tmp", name);
      const s = await stat(path).catch(() => undefined);
      if (s && Date.now() - s.mtimeMs > abandonedMs) await rm(path, { force: true });
    }
    return new BlobStore(dir, fs);
  }

  blobPath(sha256: string): string {
    if (!SHA256.test(sha256)) throw new StoreError(`not a sha256: ${sha256}`);
    return join(this.dir, "blobs", sha256.slice(0, 2), sha256);
  }

  /** The blob named `sha256` if it is present and its content hashes to its name; a damaged one is removed. */
  async stored(sha256: string): Promise<StoredBlob | undefined> {
    const path = this.blobPath(sha256);
    let size: number;
    let stamp: string;
    try {
      const s = await stat(path);
      size = s.size;
      stamp = `${s.size}:${s.mtimeMs}`;
    } catch {
      return undefined;
    }
    if (this.verified.get(sha256) !== stamp && !(await this.verify(sha256, path, stamp))) return undefined;
    return { sha256, size, path };
  }

  /** Hashes a blob (once for all who ask at the same time); a blob that is not its name is deleted. */
  private verify(sha256: string, path: string, stamp: string): Promise<boolean> {
    const key = `${sha256}:${stamp}`;
    let running = this.verifying.get(key);
    if (!running) {
      running = (async () => {
        // A blob that went away meanwhile (quarantined by another process) is simply not there.
        const actual = await hashFile(path).catch(() => undefined);
        if (actual === sha256) {
          this.verified.set(sha256, stamp);
          return true;
        }
        this.verified.delete(sha256);
        if (actual !== undefined) await rm(path, { force: true });
        return false;
      })().finally(() => this.verifying.delete(key));
      this.verifying.set(key, running);
    }
    return running;
  }

  /** Healthy unless a download ran out of space and the file system still lacks the space it needed. */
  async healthy(): Promise<boolean> {
    if (this.neededBytes === undefined) return true;
    if ((await this.fs.freeBytes(this.dir).catch(() => 0)) < this.neededBytes) return false;
    this.neededBytes = undefined;
    return true;
  }

  /**
   * Writes `chunks` into the store. Throws (and keeps nothing) past `maxBytes`, when fewer or more
   * bytes arrive than announced, when the content is not the published sha256, when the bytes read
   * back from disk are not those received, and when the disk is full (StoreFullError).
   */
  async ingest(chunks: AsyncIterable<Uint8Array>, expected: Expected, maxBytes: number): Promise<StoredBlob> {
    const temp = join(this.dir, "tmp", randomUUID());
    const hash = createHash("sha256");
    let size = 0;
    let file: WritableFile | undefined;
    try {
      file = await this.fs.create(temp);
      for await (const chunk of chunks) {
        if (size + chunk.length > maxBytes) throw new TooLargeError(`the file is larger than the gateway's limit of ${maxBytes} bytes (--max-file-size)`);
        hash.update(chunk);
        await writeAll(file, chunk, size);
        size += chunk.length;
      }
      if (expected.size !== undefined && size !== expected.size) {
        throw new IntegrityError(`the upstream sent ${size} bytes where it announced ${expected.size}`);
      }
      await file.sync();
      await file.close();
      file = undefined;
      const sha256 = hash.digest("hex");
      if (expected.sha256 !== undefined && sha256 !== expected.sha256) {
        throw new IntegrityError(`the upstream sent content with sha256 ${sha256} where the hub published ${expected.sha256}`);
      }
      // What the disk holds, not what was handed to it: a write that lost bytes shows here.
      const onDisk = await stat(temp);
      if (onDisk.size !== size || (await hashFile(temp)) !== sha256) {
        throw new StoreError(`the store's disk did not keep the ${size} bytes written to it`);
      }
      const path = this.blobPath(sha256);
      await mkdir(join(this.dir, "blobs", sha256.slice(0, 2)), { recursive: true });
      await rename(temp, path);
      this.verified.set(sha256, `${onDisk.size}:${(await stat(path)).mtimeMs}`);
      return { sha256, size, path };
    } catch (err) {
      await file?.close().catch(() => undefined);
      await rm(temp, { force: true });
      if (FULL_CODES.has((err as NodeJS.ErrnoException).code ?? "")) {
        this.neededBytes = Math.max(expected.size ?? 0, size + 1);
        throw new StoreFullError(`the gateway's store is out of space (${(err as Error).message})`, { cause: err });
      }
      throw err;
    }
  }
}

/** Writes the whole chunk at `position`, continuing after short writes; a write that makes no progress is a full disk. */
async function writeAll(file: WritableFile, chunk: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < chunk.length) {
    const n = await file.write(chunk.subarray(done), position + done);
    if (!Number.isInteger(n) || n <= 0 || n > chunk.length - done) {
      throw Object.assign(new Error(`a write of ${chunk.length - done} bytes wrote ${n}`), { code: "ENOSPC" });
    }
    done += n;
  }
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), hash);
  return hash.digest("hex");
}
