/**
 * The local side of a signature check: a model (folder or single file) serialized the way the
 * signer did (files or shards, its hash), minus the ignored paths, as manifest items to compare.
 */
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readdir, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { SIGNING_LIMITS } from "./limits.js";
import type { ManifestItem, Serialization } from "./manifest.js";

/** What git leaves in a clone; the reference tool ignores these unless told otherwise. */
export const GIT_PATHS: readonly string[] = [".git", ".gitattributes", ".github", ".gitignore"];

/** The model cannot be serialized: a symlink not allowed, a special file, an unknown hash, a limit hit. */
export class FolderError extends Error {
  override name = "FolderError";
}

export interface HashedModel {
  /** The final component of the model path, as the reference names the model. */
  modelName: string;
  items: ManifestItem[];
}

/**
 * Serializes the model at `modelPath`. `ignored` are POSIX paths relative to the model: a path is
 * left out when it is one of them or lies below one. A single-file model is the one item ".".
 */
export async function hashModel(modelPath: string, serialization: Serialization, ignored: readonly string[]): Promise<HashedModel> {
  const root = resolve(modelPath);
  const newHash = hashFactory(serialization.hashType);
  const files: { rel: string; abs: string; size: number }[] = [];
  const isIgnored = (rel: string): boolean => ignored.some((i) => rel === i || rel.startsWith(i + "/"));

  const visit = async (abs: string, rel: string, depth: number): Promise<void> => {
    if (rel !== "." && isIgnored(rel)) return;
    const link = await lstat(abs);
    let info = link;
    if (link.isSymbolicLink()) {
      if (!serialization.allowSymlinks) throw new FolderError(`${rel} is a symbolic link, and the signature does not allow symlinks`);
      info = await stat(abs).catch(() => {
        throw new FolderError(`${rel} is a broken symbolic link`);
      });
    }
    if (info.isFile()) {
      if (files.length >= SIGNING_LIMITS.maxFolderFiles) throw new FolderError(`the model holds more than ${SIGNING_LIMITS.maxFolderFiles} files`);
      files.push({ rel, abs, size: info.size });
      return;
    }
    if (!info.isDirectory()) throw new FolderError(`${rel} is neither a file nor a folder`);
    if (depth >= SIGNING_LIMITS.maxFolderDepth) throw new FolderError(`${rel} is nested deeper than ${SIGNING_LIMITS.maxFolderDepth} folders`);
    const names = (await readdir(abs)).sort();
    for (const name of names) await visit(join(abs, name), rel === "." ? name : `${rel}/${name}`, depth + 1);
  };
  await visit(root, ".", 0);

  const items: ManifestItem[] = [];
  for (const file of files) {
    if (serialization.method === "files") {
      items.push({ name: file.rel, digest: await digestRange(file.abs, newHash, 0, file.size) });
      continue;
    }
    const shardSize = serialization.shardSize!;
    for (let start = 0; start < file.size; start += shardSize) {
      const end = Math.min(start + shardSize, file.size);
      items.push({ name: `${file.rel}:${start}:${end}`, digest: await digestRange(file.abs, newHash, start, end) });
    }
  }
  return { modelName: basename(root), items };
}

/** The hash engines model_signing offers, by the names its statements record. */
export function hashFactory(hashType: string): () => Hash {
  switch (hashType) {
    case "sha256":
      return () => createHash("sha256");
    case "blake2":
    case "blake2b":
      return () => createHash("blake2b512");
    default:
      throw new FolderError(`the signature hashes with ${hashType}, which modelgate does not support (sha256, blake2b)`);
  }
}

async function digestRange(path: string, newHash: () => Hash, start: number, end: number): Promise<string> {
  const hash = newHash();
  if (end > start) for await (const chunk of createReadStream(path, { start, end: end - 1 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
