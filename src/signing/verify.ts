/**
 * Verifying a signed model: the bundle's signer against the trust given, then the signed manifest
 * against the model's files (the same ignore rules as the reference tool's `verify`).
 */
import { readFile, stat } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { isInside } from "../paths.js";
import { authenticate, SignatureError, type Signer, type Trust } from "./authenticate.js";
import { compareManifests, type FileMismatch } from "./compare.js";
import { GIT_PATHS, hashModel } from "./folder.js";
import { IN_TOTO_PAYLOAD_TYPE, manifestFromStatement, type Manifest } from "./manifest.js";

export const SIGNATURE_FILE = "model.sig";

export interface VerifyOptions {
  /** Paths to leave out, as given on the command line: relative to `cwd`, or absolute. Those outside the model are dropped. */
  ignorePaths?: readonly string[];
  /** Leave out .git, .gitattributes, .github, .gitignore (default true, as the reference). */
  ignoreGitPaths?: boolean;
  /** Where relative ignore paths start (default: the working folder). */
  cwd?: string;
}

export type SignatureVerdict =
  | { verified: true; signer: Signer; manifest: Manifest; files: number }
  /**
   * `reasons`: why the signer is not trusted, one per trust entry tried. `mismatches`: the files that
   * disagree. `signer` is set when the signature itself was trusted and only the files disagree.
   */
  | { verified: false; reason: string; reasons: string[]; mismatches: FileMismatch[]; signer?: Signer };

/** Verifies the model at `modelPath` (folder or single file) against the signature at `signaturePath`. */
export async function verifyModelSignature(modelPath: string, signaturePath: string, trusts: readonly Trust[], options: VerifyOptions = {}): Promise<SignatureVerdict> {
  const bytes = await readFile(signaturePath);
  let signer: Signer;
  let manifest: Manifest;
  try {
    ({ signer, manifest } = authenticatedManifest(bytes, trusts));
  } catch (err) {
    if (err instanceof SignatureError) return { verified: false, reason: err.headline, reasons: err.reasons, mismatches: [] };
    throw err;
  }
  const cwd = options.cwd ?? process.cwd();
  const root = resolve(cwd, modelPath);
  const single = (await stat(root)).isFile();
  const ignored = single ? [] : ignoredPaths(root, signaturePath, manifest, options, cwd);
  let actual;
  try {
    actual = await hashModel(root, manifest.serialization, ignored);
  } catch (err) {
    if (err instanceof Error && err.name === "FolderError") return { verified: false, reason: err.message, reasons: [], mismatches: [], signer };
    throw err;
  }
  const mismatches = compareManifests(manifest.items, actual.items);
  if (mismatches.length > 0) return { verified: false, reason: `the model does not match its signature (${mismatches.length} ${mismatches.length === 1 ? "file" : "files"})`, reasons: [], mismatches, signer };
  return { verified: true, signer, manifest, files: actual.items.length };
}

/** The signer, once trusted, and the manifest their statement carries. Throws SignatureError. */
export function authenticatedManifest(bytes: Uint8Array, trusts: readonly Trust[]): { signer: Signer; manifest: Manifest } {
  const { payloadType, payload, signer } = authenticate(bytes, trusts);
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE) throw new SignatureError(`the envelope carries ${payloadType}, not an in-toto statement`);
  try {
    return { signer, manifest: manifestFromStatement(payload) };
  } catch (err) {
    throw new SignatureError(`the signed statement is not a model manifest: ${(err as Error).message}`);
  }
}

/** Model-relative POSIX paths left out: the signature file, the ignore paths given, git's files, and what the signer left out. */
function ignoredPaths(root: string, signaturePath: string, manifest: Manifest, options: VerifyOptions, cwd: string): string[] {
  const out = new Set<string>();
  const add = (abs: string): void => {
    if (!isInside(root, abs)) return;
    const rel = relative(root, abs).split(sep).join("/");
    if (rel !== "") out.add(rel);
  };
  add(resolve(cwd, signaturePath));
  for (const p of options.ignorePaths ?? []) add(isAbsolute(p) ? p : resolve(cwd, p));
  if (options.ignoreGitPaths ?? true) for (const p of GIT_PATHS) out.add(p);
  for (const p of manifest.serialization.ignorePaths) add(resolve(root, p));
  return [...out];
}
