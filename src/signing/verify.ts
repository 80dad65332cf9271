/**
 * Verifying a signed model: the bundle's signer against the trust given, then the signed manifest
 * against the model's files (the same ignore rules as the reference tool's `verify`).
 */
import { readFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { authenticate, SignatureError, type Signer, type Trust } from "./authenticate.js";
import { compareManifests, type FileMismatch } from "./compare.js";
import { hashModel } from "./folder.js";
import { SIGNING_LIMITS } from "./limits.js";
import { ignoredPaths, type IgnoreRules } from "./ignore.js";
import { IN_TOTO_PAYLOAD_TYPE, manifestFromStatement, type Manifest } from "./manifest.js";


export type VerifyOptions = Pick<IgnoreRules, "ignorePaths" | "ignoreGitPaths" | "cwd">;

export type SignatureVerdict =
  | { verified: true; signer: Signer; manifest: Manifest; files: number }
  /**
   * `reasons`: why the signer is not trusted, one per trust entry tried. `mismatches`: the files that
   * disagree. `signer` is set when the signature itself was trusted and only the files disagree.
   */
  | { verified: false; reason: string; reasons: string[]; mismatches: FileMismatch[]; signer?: Signer };

/** Verifies the model at `modelPath` (folder or single file) against the signature at `signaturePath`. */
export async function verifyModelSignature(modelPath: string, signaturePath: string, trusts: readonly Trust[], options: VerifyOptions = {}): Promise<SignatureVerdict> {
  // Size first: a hostile model.sig must not be read into memory whole.
  const size = (await stat(signaturePath)).size;
  if (size > SIGNING_LIMITS.maxSignatureBytes) return { verified: false, reason: `the signature is ${size} bytes, over the limit of ${SIGNING_LIMITS.maxSignatureBytes}`, reasons: [], mismatches: [] };
  const bytes = await readFile(signaturePath);
  let signer: Signer;
  let manifest: Manifest;
  try {
    ({ signer, manifest } = authenticatedManifest(bytes, trusts));
  } catch (err) {
    if (err instanceof SignatureError) return { verified: false, reason: err.headline, reasons: err.reasons, mismatches: [] };
    throw err;
  }
  const root = resolve(options.cwd ?? process.cwd(), modelPath);
  // A single-file model is that file alone: nothing beside it is looked at, so nothing is ignored.
  const single = (await stat(root)).isFile();
  const ignored = single ? [] : ignoredPaths(root, { ...options, signaturePath, recorded: manifest.serialization.ignorePaths });
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
