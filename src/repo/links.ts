/**
 * Files a model names by path, reached through symbolic links (THREATS O1): an ONNX external-data
 * location that is a plain relative name can still lead out of the model's folder when the file, or a
 * folder on the way, is a symlink. Only local files are checked (a URL or a cache display name has no
 * folder to leave); nothing is opened or followed beyond lstat/readlink/realpath.
 */
import { lstat, readlink, realpath } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { isInside } from "../paths.js";
import { snapshotRepoFolder } from "../remote/hfCache.js";

/** Path components walked per location (CWE-400: a location of thousands of "a/" segments). */
const MAX_COMPONENTS = 64;

/**
 * The first symlink on the way from the model's folder to `location` that leads outside the folder
 * (as "rel -> target"), or undefined. `modelPath` is the model file's local path; URLs and display
 * names of remote or cached files are skipped. Within a Hugging Face cache snapshot, links into the
 * repository's own blobs are the cache's layout and are fine.
 */
export async function symlinkEscape(modelPath: string, location: string): Promise<string | undefined> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(modelPath)) return undefined;
  const base = dirname(resolve(modelPath));
  const realBase = await realpath(cacheRoot(base)).catch(() => undefined);
  if (realBase === undefined) return undefined;
  const parts = location.replace(/\\/g, "/").split("/").filter((p) => p !== "" && p !== ".");
  let at = base;
  for (const part of parts.slice(0, MAX_COMPONENTS)) {
    at = join(at, part);
    const st = await lstat(at).catch(() => undefined);
    if (!st) return undefined; // missing: the loader fails to open it, nothing outside is read
    if (!st.isSymbolicLink()) continue;
    const target = await readlink(at);
    const real = await realpath(at).catch(() => resolve(dirname(at), target));
    if (!isInside(realBase, real)) return `${relative(base, at)} -> ${target}${isAbsolute(target) || real === resolve(dirname(at), target) ? "" : ` (resolves to ${real})`}`;
  }
  return undefined;
}

/** The folder links may point into: the model's folder, or the repository folder of the cache snapshot holding it. */
function cacheRoot(folder: string): string {
  for (let dir = folder, i = 0; i < MAX_COMPONENTS; i++, dir = dirname(dir)) {
    const repo = snapshotRepoFolder(dir);
    if (repo !== undefined) return repo;
    if (dirname(dir) === dir) break;
  }
  return folder;
}
