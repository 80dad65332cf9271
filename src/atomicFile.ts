/** Writing a file (report, lock, cache, shard index) so that readers never see a half-written one. */
import { randomBytes } from "node:crypto";
import { rm, writeFile, rename } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * Temp file in the same directory (rename is only atomic within one file system), then rename over
 * the target: a CI step reading the report sees the old file or the new one, never a truncated one.
 */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    await writeFile(temp, content, { flag: "wx" });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
