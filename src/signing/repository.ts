/**
 * Folder-less verification, for the gateway: a repository's file list with the sha256s its hub
 * publishes, and the bytes of its model.sig. Decides whether that repository at that commit is
 * signed by a trusted signer and unchanged, without downloading the model.
 */
import { SignatureError, type Signer, type Trust } from "./authenticate.js";
import { compareManifests, type FileMismatch } from "./compare.js";
import { GIT_PATHS } from "./folder.js";
import { normalName } from "./manifest.js";
import { SIGNATURE_FILE } from "./signatureFile.js";
import { authenticatedManifest } from "./verify.js";

export interface RepositoryFile {
  /** Path in the repository, forward slashes. */
  path: string;
  /** The content's sha256 (hex): the hub's LFS oid, or the gateway's own hash of a small file. Absent: unknown. */
  sha256?: string;
}

export interface RepositoryOptions {
  /** Where the signature sits in the repository (default model.sig at the root). */
  signaturePath?: string;
  /** Repository paths not compared (a file, or a folder and all below it). */
  ignorePaths?: readonly string[];
  /** Leave out .git, .gitattributes, .github, .gitignore (default true, as the reference). */
  ignoreGitPaths?: boolean;
}

export type RepositoryVerdict =
  /** `covers(path)`: whether that file is signed (the signature file counts): serve only those. */
  | { verified: true; signer: Signer; covers: (path: string) => boolean }
  /** `unverifiable`: the signature may be fine, but published facts cannot show it (shards, another hash, a missing sha256). */
  | { verified: false; reason: string; reasons: string[]; mismatches: FileMismatch[]; unverifiable: boolean; signer?: Signer };

export function verifyRepositorySignature(files: readonly RepositoryFile[], signature: Uint8Array, trusts: readonly Trust[], options: RepositoryOptions = {}): RepositoryVerdict {
  let signed;
  try {
    signed = authenticatedManifest(signature, trusts);
  } catch (err) {
    if (err instanceof SignatureError) return { verified: false, reason: err.headline, reasons: err.reasons, mismatches: [], unverifiable: false };
    throw err;
  }
  const { signer, manifest } = signed;
  const { method, hashType } = manifest.serialization;
  if (method !== "files" || hashType !== "sha256") {
    const reason = `the signature lists ${method === "files" ? "files" : "file shards"} hashed with ${hashType}; a hub publishes whole-file sha256 only: download the repository and run verify-signature`;
    return { verified: false, reason, reasons: [], mismatches: [], unverifiable: true, signer };
  }
  const ignored = [options.signaturePath ?? SIGNATURE_FILE, ...(options.ignorePaths ?? []), ...((options.ignoreGitPaths ?? true) ? GIT_PATHS : []), ...manifest.serialization.ignorePaths].map(normalName);
  const isIgnored = (path: string): boolean => ignored.some((i) => path === i || path.startsWith(i + "/"));
  const present = files.map((f) => ({ ...f, path: normalName(f.path) })).filter((f) => !isIgnored(f.path));
  const signedNames = new Set(manifest.items.map((i) => normalName(i.name)));
  const unknown = present.filter((f) => f.sha256 === undefined && signedNames.has(f.path));
  if (unknown.length > 0) {
    const reason = `no sha256 is known for ${unknown.map((f) => f.path).join(", ")}: hash ${unknown.length === 1 ? "it" : "them"} and ask again`;
    return { verified: false, reason, reasons: [], mismatches: [], unverifiable: true, signer };
  }
  // A file without a published sha256 that the signature does not list is extra either way.
  const actual = present.map((f) => ({ name: f.path, digest: (f.sha256 ?? "").toLowerCase() }));
  const mismatches = compareManifests(manifest.items, actual);
  if (mismatches.length > 0) return { verified: false, reason: `the repository does not match its signature (${mismatches.length} ${mismatches.length === 1 ? "file" : "files"})`, reasons: [], mismatches, unverifiable: false, signer };
  const signaturePath = normalName(options.signaturePath ?? SIGNATURE_FILE);
  return { verified: true, signer, covers: (path) => normalName(path) === signaturePath || signedNames.has(normalName(path)) };
}
