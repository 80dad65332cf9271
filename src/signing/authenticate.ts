/**
 * Who signed a model.sig, and whether we trust them: the DSSE envelope's signature checked against
 * the trust the caller gives (Sigstore identities, certificate chains, public keys). Returns the
 * signed payload only once a trusted signer is established.
 */
import { createPublicKey, verify as verifySignature, X509Certificate as NodeCertificate, type KeyObject } from "node:crypto";
import type { X509Certificate } from "@sigstore/core";
import type { Bundle, Envelope } from "@sigstore/protobuf-specs";
import { onFirstUse } from "../onFirstUse.js";
import type { SignerInfo } from "../types.js";
import { curveHash, keyHint } from "./keys.js";
import { SIGNING_LIMITS } from "./limits.js";
import { preAuthEncoding, preAuthEncodingV02 } from "./pae.js";
import { publicGoodTrustMaterial } from "./trustedRoot.js";

// Sigstore's packages are required when a signature is first read, not parsed by every scan's start-up.
const sigstoreBundle = onFirstUse<typeof import("@sigstore/bundle")>("@sigstore/bundle");
const sigstoreCore = onFirstUse<typeof import("@sigstore/core")>("@sigstore/core");
const protobufSpecs = onFirstUse<typeof import("@sigstore/protobuf-specs")>("@sigstore/protobuf-specs");
const sigstoreVerify = onFirstUse<typeof import("@sigstore/verify")>("@sigstore/verify");

/** One way a signer may be trusted. */
export type Trust =
  /** Keyless Sigstore: the certificate's identity (email, URI…) and the OIDC issuer that vouched for it. */
  | { kind: "keyless"; identity: string; issuer: string }
  /** Roots (or intermediates) the bundle's certificate chain must lead to; `source` names them in messages. */
  | { kind: "certificate-chain"; source: string; certificates: Buffer[] }
  /** A bare public key (elliptic curve, as the reference tool uses). */
  | { kind: "public-key"; source: string; key: KeyObject };

/** The established signer, for reports, locks and audit lines. */
export type Signer = SignerInfo;

export interface Authenticated {
  payloadType: string;
  payload: Buffer;
  signer: Signer;
}

/** The signature is not from a trusted signer, or not a well-formed bundle; `reasons` says why, per trust entry. */
export class SignatureError extends Error {
  override name = "SignatureError";
  constructor(
    readonly headline: string,
    readonly reasons: string[] = [],
  ) {
    super(reasons.length > 0 ? `${headline}: ${reasons.join("; ")}` : headline);
  }
}

/** Reads model.sig bytes as a Sigstore bundle holding a DSSE envelope. */
export function parseBundle(bytes: Uint8Array): { json: unknown; bundle: Bundle; envelope: Envelope } {
  if (bytes.length > SIGNING_LIMITS.maxSignatureBytes) throw new SignatureError(`the signature is ${bytes.length} bytes, over the limit of ${SIGNING_LIMITS.maxSignatureBytes}`);
  let json: unknown;
  let bundle: Bundle;
  try {
    json = JSON.parse(Buffer.from(bytes).toString("utf8"));
    bundle = protobufSpecs().Bundle.fromJSON(json);
  } catch (err) {
    throw new SignatureError(`the signature is not a Sigstore bundle: ${(err as Error).message}`);
  }
  if (bundle.content?.$case !== "dsseEnvelope") throw new SignatureError("the bundle holds no DSSE envelope (model signatures always do)");
  const envelope = bundle.content.dsseEnvelope;
  if (envelope.signatures.length === 0) throw new SignatureError("the DSSE envelope holds no signature");
  return { json, bundle, envelope };
}

/** Checks the bundle against every trust entry; the first that holds names the signer. */
export function authenticate(bytes: Uint8Array, trusts: readonly Trust[]): Authenticated {
  if (trusts.length === 0) throw new SignatureError("no trusted signer is configured");
  const { json, bundle, envelope } = parseBundle(bytes);
  const reasons: string[] = [];
  const signedBy = (signer: Signer): Authenticated => ({ payloadType: envelope.payloadType, payload: envelope.payload, signer });
  const keyless = trusts.filter((t): t is Extract<Trust, { kind: "keyless" }> => t.kind === "keyless");
  // One Sigstore verification, then its identity against every trusted one.
  if (keyless.length > 0) {
    try {
      return signedBy(keylessSigner(json, keyless));
    } catch (err) {
      reasons.push((err as Error).message);
    }
  }
  for (const trust of trusts) {
    if (trust.kind === "keyless") continue;
    try {
      return signedBy(trust.kind === "public-key" ? keySigner(bundle, envelope, trust) : certificateSigner(bundle, envelope, trust));
    } catch (err) {
      reasons.push(`${trust.kind === "public-key" ? "public key" : "certificate chain"} ${trust.source}: ${(err as Error).message}`);
    }
  }
  throw new SignatureError("the signature is not from a trusted signer", reasons);
}

/** sigstore-js checks the certificate against Fulcio, the log entry's inclusion against Rekor, the SCT, and the DSSE signature. */
function keylessSigner(json: unknown, trusted: readonly Extract<Trust, { kind: "keyless" }>[]): Signer {
  let identity: string | undefined;
  let issuer: string | undefined;
  try {
    const bundle = sigstoreBundle().bundleFromJSON(json);
    const { Verifier, toSignedEntity } = sigstoreVerify();
    const signer = new Verifier(publicGoodTrustMaterial()).verify(toSignedEntity(bundle));
    identity = signer.identity?.subjectAlternativeName;
    issuer = signer.identity?.extensions?.issuer;
  } catch (err) {
    const e = err as Error & { code?: string };
    throw new Error(`keyless (Sigstore) verification failed: ${e.message}${e.code ? ` (${e.code})` : ""}`);
  }
  const match = trusted.find((t) => t.identity === identity && t.issuer === issuer);
  if (!match) {
    const wanted = trusted.map((t) => `${t.identity} (issuer ${t.issuer})`).join(", ");
    throw new Error(`keyless signer is ${identity ?? "without identity"} (issuer ${issuer ?? "unknown"}), not ${wanted}`);
  }
  return { method: "keyless", identity: match.identity, issuer: match.issuer, trustedBy: `identity ${match.identity} (issuer ${match.issuer})` };
}

function keySigner(bundle: Bundle, envelope: Envelope, trust: Extract<Trust, { kind: "public-key" }>): Signer {
  const keySha256 = keyHint(trust.key);
  const material = bundle.verificationMaterial?.content;
  // Since 1.1 the bundle names its key by this hint; older bundles carry the key itself, which the reference ignores.
  if (material?.$case === "publicKey" && material.publicKey.hint !== "" && material.publicKey.hint !== keySha256) {
    throw new Error(`the bundle was signed by the key ${material.publicKey.hint}, not this one (${keySha256})`);
  }
  if (!envelopeVerifies(envelope, trust.key, false)) throw new Error("the signature does not verify with this key (wrong key, or the envelope was altered)");
  return { method: "key", keySha256, trustedBy: trust.source };
}

function certificateSigner(bundle: Bundle, envelope: Envelope, trust: Extract<Trust, { kind: "certificate-chain" }>): Signer {
  const material = bundle.verificationMaterial?.content;
  if (material?.$case !== "x509CertificateChain" || material.x509CertificateChain.certificates.length === 0) {
    throw new Error("the bundle carries no certificate chain");
  }
  const chain = material.x509CertificateChain.certificates.map((c) => Buffer.from(c.rawBytes));
  if (chain.length + trust.certificates.length > SIGNING_LIMITS.maxChainCertificates) throw new Error(`more than ${SIGNING_LIMITS.maxChainCertificates} certificates`);
  const { X509Certificate } = sigstoreCore();
  const leaf = X509Certificate.parse(chain[0]!);
  verifyChain(leaf, chain.slice(1).map((c) => X509Certificate.parse(c)), trust.certificates.map((c) => X509Certificate.parse(Buffer.from(c))));
  if (!canSign(leaf)) throw new Error("the signing certificate is not for signing (neither digitalSignature key usage nor code-signing extended key usage)");
  const key = createPublicKey({ key: leaf.publicKey, format: "der", type: "spki" });
  if (!envelopeVerifies(envelope, key, true)) throw new Error("the signature does not verify with the signing certificate's key (the envelope was altered)");
  const node = new NodeCertificate(chain[0]!);
  return { method: "certificate", subject: node.subject.replaceAll("\n", ", "), fingerprint: node.fingerprint256, keySha256: keyHint(key), trustedBy: trust.source };
}

/**
 * Leaf to a trusted certificate through the bundle's intermediates, as OpenSSL would at the time the
 * leaf became valid (the reference tool's choice): each link's signature, CA flag and validity.
 */
function verifyChain(leaf: X509Certificate, intermediates: X509Certificate[], trusted: X509Certificate[]): void {
  const at = leaf.notBefore;
  let current = leaf;
  for (let depth = 0; depth <= SIGNING_LIMITS.maxChainCertificates; depth++) {
    if (!current.validForDate(at)) throw new Error(`certificate ${subjectOf(current)} is not valid at ${at.toISOString()}`);
    if (trusted.some((t) => t.equals(current))) return;
    const issuedBy = (c: X509Certificate): boolean => c.subject.equals(current.issuer) && !c.equals(current) && safeVerify(current, c);
    const anchor = trusted.find(issuedBy);
    const issuer = anchor ?? intermediates.find(issuedBy);
    if (!issuer) throw new Error(`no trusted path: nothing given issued ${subjectOf(current)}`);
    // isCA: basic constraints CA, and keyCertSign when key usage is given.
    if (!issuer.isCA) throw new Error(`${subjectOf(issuer)} is not a CA that may sign certificates`);
    if (anchor) {
      if (!anchor.validForDate(at)) throw new Error(`certificate ${subjectOf(anchor)} is not valid at ${at.toISOString()}`);
      return;
    }
    current = issuer;
  }
  throw new Error(`the chain is longer than ${SIGNING_LIMITS.maxChainCertificates} certificates`);
}

function safeVerify(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.verify(issuer);
  } catch {
    return false;
  }
}

const CODE_SIGNING_EKU = Buffer.from("06082b06010505070303", "hex");

function canSign(cert: X509Certificate): boolean {
  if (cert.extKeyUsage?.digitalSignature) return true;
  const eku = cert.extension("2.5.29.37");
  return eku !== undefined && eku.value.includes(CODE_SIGNING_EKU);
}

function subjectOf(cert: X509Certificate): string {
  return new NodeCertificate(cert.root.toDER()).subject.replaceAll("\n", ", ");
}

/**
 * DSSE signature over the payload. The hash follows the curve (P-256: SHA-256, P-384: SHA-384,
 * P-521: SHA-512); 0.2 signatures used the buggy encoding, and certificate ones a fixed SHA-256.
 */
function envelopeVerifies(envelope: Envelope, key: KeyObject, certificate: boolean): boolean {
  const sig = envelope.signatures[0]!.sig;
  const hash = curveHash(key);
  const check = (data: Buffer, algorithm: string): boolean => {
    try {
      return verifySignature(algorithm, data, key, sig);
    } catch {
      return false;
    }
  };
  if (check(preAuthEncoding(envelope.payloadType, envelope.payload), hash)) return true;
  const legacy = preAuthEncodingV02(envelope.payloadType, envelope.payload);
  return check(legacy, certificate ? "sha256" : hash);
}
