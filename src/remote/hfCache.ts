/**
 * The local Hugging Face cache: `<cache>/models--org--name/snapshots/<commit>/<path>` are links into
 * the repository's `blobs/`. Files are named as people know them (`hf-cache://org/name@<commit>/path`),
 * and a blob that several snapshots link is one file to scan.
 */
import { lstat, readdir, readFile, readlink, realpath, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { isInside } from "../paths.js";
import type { RepoFacts } from "../repo/checks.js";
import { repoLabel, type RepoType } from "./spec.js";

export interface CacheSnapshot {
  /** "org/name", "datasets/org/name"… */
  repo: string;
  commit: string;
  /** Refs (branches, tags) that point at this snapshot's commit. */
  refs: string[];
  folder: string;
  /** The repository's cache folder, which the snapshot's links may reach (its blobs). */
  repoFolder: string;
}

export interface CachedFile {
  /** Path inside the snapshot, with "/" separators. */
  rel: string;
  /** The link (or file) in the snapshot. */
  path: string;
  /** The real path of its content: the blob, the unit that is scanned once. */
  blob: string;
  size: number;
}

const REPO_FOLDER = /^(models|datasets|spaces)--(.+)$/;
const TYPES: Record<string, RepoType> = { models: "model", datasets: "dataset", spaces: "space" };

/** `HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub` (as Hugging Face's own tools). */
/**
 * For a folder that is a cache snapshot (`…/models--org--name/snapshots/<rev>`), its repository's
 * cache folder: the snapshot's links into `blobs/` may reach it. Undefined for any other folder.
 */
export function snapshotRepoFolder(folder: string): string | undefined {
  const snapshots = dirname(folder);
  const repo = dirname(snapshots);
  return basename(snapshots) === "snapshots" && REPO_FOLDER.test(basename(repo)) ? repo : undefined;
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env["HF_HUB_CACHE"] || join(env["HF_HOME"] || join(homedir(), ".cache", "huggingface"), "hub");
}

/** Every snapshot of every repository in the cache, in name order. */
export async function listSnapshots(cacheDir: string): Promise<CacheSnapshot[]> {
  const out: CacheSnapshot[] = [];
  for (const entry of (await readdir(cacheDir, { withFileTypes: true })).sort(byName)) {
    const match = REPO_FOLDER.exec(entry.name);
    if (!match || !entry.isDirectory()) continue;
    const repoFolder = join(cacheDir, entry.name);
    const repo = repoLabel({ type: TYPES[match[1]!]!, name: match[2]!.split("--").join("/") });
    const refs = await readRefs(join(repoFolder, "refs"));
    const snapshots = await readdir(join(repoFolder, "snapshots"), { withFileTypes: true }).catch(() => []);
    for (const snap of snapshots.sort(byName)) {
      if (!snap.isDirectory()) continue;
      const refsHere = [...refs].filter(([, commit]) => commit === snap.name).map(([ref]) => ref);
      out.push({ repo, commit: snap.name, refs: refsHere, folder: join(repoFolder, "snapshots", snap.name), repoFolder });
    }
  }
  return out;
}

/**
 * The files of a snapshot, in path order: regular files, and links that resolve to a file inside the
 * repository's cache folder (its blobs). Links that leave it are listed apart, never followed.
 */
export async function snapshotFiles(snapshot: CacheSnapshot): Promise<{ files: CachedFile[]; escapingLinks: RepoFacts["escapingLinks"] }> {
  const realRepo = await realpath(snapshot.repoFolder);
  const files: CachedFile[] = [];
  const escapingLinks: RepoFacts["escapingLinks"] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort(byName)) {
      const path = join(dir, entry.name);
      const childRel = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) await walk(path, childRel);
      else if (entry.isFile() || entry.isSymbolicLink()) {
        const blob = await realpath(path).catch(() => undefined);
        if (blob !== undefined && isInside(realRepo, blob)) {
          const st = await stat(blob);
          if (st.isFile()) files.push({ rel: childRel, path, blob, size: st.size });
        } else if (entry.isSymbolicLink()) {
          const target = await readlink(path);
          // A dangling link into the repository's own folder (an unfetched blob) has nothing to read.
          if (blob !== undefined || !isInside(snapshot.repoFolder, resolve(dirname(path), target))) {
            escapingLinks.push({ rel: childRel, target, ...(blob !== undefined && { resolved: blob }) });
          }
        }
      }
    }
  };
  await walk(snapshot.folder, "");
  return { files, escapingLinks };
}

export function cacheDisplay(snapshot: CacheSnapshot, rel: string): string {
  return `hf-cache://${snapshot.repo}@${snapshot.commit}/${rel}`;
}

/** refs/<name> files hold a commit; names may nest (refs/pr/1). */
async function readRefs(dir: string, prefix = ""): Promise<Map<string, string>> {
  const refs = new Map<string, string>();
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries.sort(byName)) {
    const path = join(dir, e.name);
    if (e.isDirectory()) for (const [k, v] of await readRefs(path, `${prefix}${e.name}/`)) refs.set(k, v);
    else if ((await lstat(path)).isFile()) refs.set(`${prefix}${e.name}`, (await readFile(path, "utf8")).slice(0, 64).trim());
  }
  return refs;
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
