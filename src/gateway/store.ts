/**
 * The content-addressed store: a blob's path is its sha256, so no request path ever names a file on
 * disk. Downloads are written to a temp file, hashed on the way, synced, then renamed into place: a
 * reader sees a complete blob or none.
 */
import { createHash, randomUUID } from "node:crypto";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";

export interface StoredBlob {
  sha256: string;
  size: number;
  path: string;
}

export class StoreError extends Error {}

const SHA256 = /^[0-9a-f]{64}$/;

export class BlobStore {
  private constructor(readonly dir: string) {}

  /** Opens (creating) the store; leftovers of interrupted downloads are removed. */
  static async open(dir: string): Promise<BlobStore> {
    await rm(join(dir, "tmp"), { recursive: true, force: true });
    for (const sub of ["blobs", "tmp"]) await mkdir(join(dir, sub), { recursive: true });
    return new BlobStore(dir);
  }

  blobPath(sha256: string): string {
    if (!SHA256.test(sha256)) throw new StoreError(`not a sha256: ${sha256}`);
    return join(this.dir, "blobs", sha256.slice(0, 2), sha256);
  }

  async stored(sha256: string): Promise<StoredBlob | undefined> {
    const path = this.blobPath(sha256);
    try {
      return { sha256, size: (await stat(path)).size, path };
    } catch {
      return undefined;
    }
  }

  /**
   * Writes `chunks` into the store. Throws StoreError (and keeps nothing) past `maxBytes`, or when the
   * upstream declared a size and sent a different number of bytes (a cut-off download is never scanned).
   */
  async ingest(chunks: AsyncIterable<Uint8Array>, expectedSize: number | undefined, maxBytes: number): Promise<StoredBlob> {
    const temp = join(this.dir, "tmp", randomUUID());
    const hash = createHash("sha256");
    let size = 0;
    const handle = await open(temp, "wx");
    try {
      for await (const chunk of chunks) {
        size += chunk.length;
        if (size > maxBytes) throw new StoreError(`the file is larger than the gateway's limit of ${maxBytes} bytes`);
        hash.update(chunk);
        await handle.write(chunk);
      }
      if (expectedSize !== undefined && size !== expectedSize) {
        throw new StoreError(`the upstream sent ${size} bytes where it declared ${expectedSize}`);
      }
      await handle.sync();
      await handle.close();
      const sha256 = hash.digest("hex");
      const path = this.blobPath(sha256);
      await mkdir(join(this.dir, "blobs", sha256.slice(0, 2)), { recursive: true });
      await rename(temp, path);
      return { sha256, size, path };
    } catch (err) {
      await handle.close().catch(() => undefined);
      await rm(temp, { force: true });
      throw err;
    }
  }
}
