/** Writing a file (report, lock, cache, shard index, quarantine sidecar) so that readers never see a half-written one. */
import { randomBytes } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export interface AtomicWriteOptions {
  /** Flush the content to disk before the rename, so a crash leaves the old file or the whole new one. */
  durable?: boolean;
  /** Permissions of a file that did not exist (default 0o666, less the umask). */
  mode?: number;
}

/**
 * Temp file in the same directory (rename is only atomic within one file system), then rename over
 * the target: a CI step reading the report sees the old file or the new one, never a truncated one.
 * A write that fails removes its temp file.
 */
export async function writeFileAtomic(path: string, content: string, options: AtomicWriteOptions = {}): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    const handle = await open(temp, "wx", options.mode ?? 0o666);
    try {
      await handle.writeFile(content);
      if (options.durable) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
