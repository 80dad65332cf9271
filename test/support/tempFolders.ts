/** Temporary folders a test file makes, removed when its tests end, passed or failed. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";

/**
 * A maker of temporary folders named `prefix`XXXXXX under `base`: every folder it made is removed
 * when the suite it was called in ends (the file's, called at the top level).
 */
export function tempFolders(prefix: string, base = tmpdir()): () => Promise<string> {
  const made: string[] = [];
  after(async () => {
    for (const folder of made) await rm(folder, { recursive: true, force: true });
  });
  return async () => {
    const folder = await mkdtemp(join(base, prefix));
    made.push(folder);
    return folder;
  };
}
