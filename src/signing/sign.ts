/**
 * Signing a model as model_signing (1.1 and later) does with a private key, optionally with its
 * certificate chain: a files manifest (sha256), an in-toto statement, a DSSE envelope, a Sigstore
 * bundle without transparency-log entries. Keyless signing needs Fulcio, Rekor and an OIDC login.
 */
import { createPrivateKey, createPublicKey, sign as signBytes, X509Certificate, type KeyObject } from "node:crypto";
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { hashModel } from "./folder.js";
import { ignoredPaths, type IgnoreRules } from "./ignore.js";
import { curveHash, keyHint } from "./keys.js";
import { IN_TOTO_PAYLOAD_TYPE, PREDICATE_TYPE, sortItems, statementFor, type Manifest } from "./manifest.js";
import { preAuthEncoding } from "./pae.js";

export const BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json";

export interface SignOptions extends Pick<IgnoreRules, "ignorePaths" | "ignoreGitPaths" | "cwd"> {
  /** An elliptic-curve private key (P-256, P-384, P-521), PEM. */
  privateKeyPem: string;
  /** The signing certificate (its key must be the private key's) and the intermediates, DER, in any order. */
  certificates?: readonly Buffer[];
  /** Where the signature will be written: left out of the manifest. */
  signaturePath: string;
}

/** Bad key or certificates for signing. */
export class SigningError extends Error {
  override name = "SigningError";
}

/** The bundle (as JSON-ready data) for the model at `modelPath`, and the manifest it signs. */
export async function signModel(modelPath: string, options: SignOptions): Promise<{ bundle: object; manifest: Manifest }> {
  const privateKey = loadPrivateKey(options.privateKeyPem);
  const publicKey = createPublicKey(privateKey);
  let hash: string;
  try {
    hash = curveHash(publicKey);
  } catch (err) {
    throw new SigningError((err as Error).message);
  }
  const chain = options.certificates && options.certificates.length > 0 ? orderChain(options.certificates, publicKey) : undefined;

  const root = resolve(options.cwd ?? process.cwd(), modelPath);
  const single = (await stat(root)).isFile();
  const ignored = single ? [] : ignoredPaths(root, options);
  // The reference records what it left out (1.1 and later), so a verifier leaves out the same.
  const serialization = { method: "files" as const, hashType: "sha256", allowSymlinks: false, ignorePaths: ignored };
  const hashed = await hashModel(root, serialization, ignored);
  const manifest: Manifest = { modelName: hashed.modelName, serialization, items: sortItems(hashed.items, "files"), predicateType: PREDICATE_TYPE };

  const payload = Buffer.from(JSON.stringify(statementFor(manifest), null, 2), "utf8");
  const sig = signBytes(hash, preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload), privateKey);
  const verificationMaterial = chain
    ? { x509CertificateChain: { certificates: chain.map((c) => ({ rawBytes: c.toString("base64") })) }, tlogEntries: [] }
    : { publicKey: { hint: keyHint(publicKey) }, tlogEntries: [] };
  const bundle = {
    mediaType: BUNDLE_MEDIA_TYPE,
    verificationMaterial,
    dsseEnvelope: { payload: payload.toString("base64"), payloadType: IN_TOTO_PAYLOAD_TYPE, signatures: [{ sig: sig.toString("base64"), keyid: "" }] },
  };
  return { bundle, manifest };
}

function loadPrivateKey(pem: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (err) {
    const message = (err as Error).message;
    throw new SigningError(/passphrase/i.test(message) ? "the private key is encrypted; decrypt it first (openssl pkey)" : `not a PEM private key: ${message}`);
  }
}

/** The signing certificate (the one holding our public key) first, then the rest as given. */
function orderChain(certificates: readonly Buffer[], publicKey: KeyObject): Buffer[] {
  const leaf = certificates.findIndex((der) => new X509Certificate(der).publicKey.equals(publicKey));
  if (leaf < 0) throw new SigningError("no certificate in the chain is for this private key");
  return [certificates[leaf]!, ...certificates.filter((_, i) => i !== leaf)];
}
