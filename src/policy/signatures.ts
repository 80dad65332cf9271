/**
 * The policy's `signatures` section: which model signers are trusted, and whether a file must be
 * covered by a verified model.sig of its folder. Parsing, the folder checks (before the decision),
 * and the decision's part: block with rule "signatures" when required and not verified.
 */
import { access, stat } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import type { Node, Pair } from "yaml";
import { isInside } from "../paths.js";
import { describeFailure, describeSigner } from "../signing/describe.js";
import { splitShardName } from "../signing/manifest.js";
import { SIGNATURE_FILE } from "../signing/signatureFile.js";
import { loadTrusts, TrustFileError, type TrustSpec } from "../signing/trustFiles.js";
import type { SignatureVerdict } from "../signing/verify.js";
import { UsageError } from "../errors.js";
import type { ScannedFile, SignatureCheck } from "../types.js";
import { isLocal } from "./decide.js";

export interface SignaturePolicy {
  /** Block every file that no verified signature covers. */
  require: boolean;
  /** Trusted signers; key and chain files are absolute (resolved against the policy's folder). */
  trust: Required<TrustSpec>;
}

/** The helpers parsePolicy validates with, so this section reports errors the same way (file:line: message). */
export interface PolicyReader {
  fail(node: unknown, message: string): void;
  str(node: unknown, what: string): string | undefined;
  list(node: unknown, what: string): Node[];
  fields(node: unknown, what: string, known: readonly string[]): Map<string, Pair<Node, Node>>;
  value(pair: Pair<Node, Node> | undefined): Node | undefined;
  isSeq(node: unknown): boolean;
  bool(node: unknown, what: string): boolean | undefined;
}

/**
 * signatures:
 *   require: true
 *   identities: [{ identity: alice@example.com, issuer: https://accounts.google.com }]
 *   keys: [signer.pub]
 *   certificate_chains: [ca.pem, [root.pem, intermediate.pem]]
 */
export function parseSignaturePolicy(node: Node, r: PolicyReader, base: string): SignaturePolicy {
  const f = r.fields(node, "signatures", ["require", "identities", "keys", "certificate_chains"]);
  const trust: Required<TrustSpec> = { identities: [], keys: [], certificateChains: [] };
  const identities = r.value(f.get("identities"));
  if (identities) {
    for (const item of r.list(identities, "signatures.identities")) {
      const i = r.fields(item, "a signatures.identities entry", ["identity", "issuer"]);
      const identity = i.get("identity") ? r.str(r.value(i.get("identity")), "signatures identity") : (r.fail(item, "a signatures.identities entry needs identity"), undefined);
      const issuer = i.get("issuer") ? r.str(r.value(i.get("issuer")), "signatures issuer") : (r.fail(item, "a signatures.identities entry needs issuer"), undefined);
      if (identity !== undefined && issuer !== undefined) (trust.identities as { identity: string; issuer: string }[]).push({ identity, issuer });
    }
  }
  const keys = r.value(f.get("keys"));
  if (keys) for (const item of r.list(keys, "signatures.keys")) pushDefined(trust.keys as string[], path(r.str(item, "signatures.keys entries"), base));
  const chains = r.value(f.get("certificate_chains"));
  if (chains) {
    for (const item of r.list(chains, "signatures.certificate_chains")) {
      // One file, or a list of files that together form one chain.
      const files = r.isSeq(item) ? r.list(item, "a certificate chain") : [item];
      const resolved = files.map((file) => path(r.str(file, "signatures.certificate_chains entries"), base)).filter((p): p is string => p !== undefined);
      if (resolved.length > 0) (trust.certificateChains as string[][]).push(resolved);
    }
  }
  const requireNode = r.value(f.get("require"));
  const require = requireNode ? (r.bool(requireNode, "signatures.require") ?? true) : false;
  if (require && trust.identities.length + trust.keys.length + trust.certificateChains.length === 0) {
    r.fail(node, "signatures.require needs at least one trusted signer: identities, keys or certificate_chains");
  }
  return { require, trust };
}

function path(p: string | undefined, base: string): string | undefined {
  return p === undefined ? undefined : resolve(base, p);
}

function pushDefined<T>(list: T[], v: T | undefined): void {
  if (v !== undefined) list.push(v);
}

/**
 * Sets `signature` on every local file of the report: the nearest model.sig above it (up to the
 * scanned target's folder) is verified once, and the file is verified when that signature is
 * trusted, matches, and covers it. Files from a hub or URL are left to the gateway (not verified).
 */
export async function checkSignatures(report: { files: readonly ScannedFile[] }, targets: readonly string[], policy: SignaturePolicy): Promise<void> {
  const trusts = await loadTrusts(policy.trust).catch((err: Error) => {
    throw err instanceof TrustFileError ? new UsageError(`invalid policy: signatures: ${err.message}`) : err;
  });
  // sigstore-js is loaded only when a signature is checked, not with the policy.
  const { verifyModelSignature: verify } = await import("../signing/verify.js");
  const roots = await targetFolders(targets);
  const found = new Map<string, Promise<string | undefined>>();
  const verdicts = new Map<string, Promise<SignatureVerdict>>();
  for (const file of report.files) {
    if (!isLocal(file)) {
      file.signature = { verified: false, reason: "only local model folders are checked here; the gateway checks a repository's model.sig" };
      continue;
    }
    const abs = resolve(file.path);
    const folder = await signedFolder(dirname(abs), roots, found);
    if (folder === undefined) {
      file.signature = { verified: false, reason: `no ${SIGNATURE_FILE} in its folder or above it` };
      continue;
    }
    let verdict = verdicts.get(folder);
    if (!verdict) verdicts.set(folder, (verdict = verify(folder, join(folder, SIGNATURE_FILE), trusts)));
    // Named the way the report names the file: from the same starting point.
    const signature = join(dirname(file.path), relative(dirname(abs), folder), SIGNATURE_FILE);
    file.signature = coverage(await verdict, signature, relative(folder, abs).split(sep).join("/"));
  }
}

/** Whether the folder's verdict covers the file at `rel` (the signature file itself is covered by being it). */
function coverage(verdict: SignatureVerdict, signature: string, rel: string): SignatureCheck {
  if (!verdict.verified) {
    return { signature, verified: false, ...(verdict.signer && { signer: verdict.signer }), reason: describeFailure(verdict) };
  }
  const covered = rel === SIGNATURE_FILE || verdict.manifest.items.some((i) => (verdict.manifest.serialization.method === "shards" ? splitShardName(i.name)[0] : i.name) === rel);
  if (!covered) return { signature, verified: false, signer: verdict.signer, reason: `${rel} is not covered by ${signature} (left out when it was signed)` };
  return { signature, verified: true, signer: verdict.signer };
}

/** The folders signatures are looked for up to: each local target folder, or a file target's folder. */
async function targetFolders(targets: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const t of targets) {
    if (/^(hf|https?):\/\//i.test(t)) continue;
    const abs = resolve(t);
    const info = await stat(abs).catch(() => undefined);
    if (info) out.push(info.isDirectory() ? abs : dirname(abs));
  }
  return out;
}

async function signedFolder(dir: string, roots: readonly string[], found: Map<string, Promise<string | undefined>>): Promise<string | undefined> {
  let cached = found.get(dir);
  if (cached) return cached;
  cached = (async () => {
    if (await access(join(dir, SIGNATURE_FILE)).then(() => true, () => false)) return dir;
    const parent = dirname(dir);
    // Up to the scanned target's folder, never past it: a model.sig further up signs something else.
    if (parent === dir || !roots.some((root) => root !== dir && isInside(root, parent))) return undefined;
    return signedFolder(parent, roots, found);
  })();
  found.set(dir, cached);
  return cached;
}

/**
 * The decision's part. Returns why a file is blocked (required and not verified), else undefined;
 * a verified signer is noted either way, so the text report says who signed.
 */
export function signatureDecision(file: ScannedFile, policy: SignaturePolicy | undefined, notes: string[]): string | undefined {
  if (!policy || !file.signature) return undefined;
  if (file.signature.verified && file.signature.signer) {
    notes.push(`signed by ${describeSigner(file.signature.signer)}`);
    return undefined;
  }
  if (!policy.require) {
    notes.push(`not signature-verified: ${file.signature.reason ?? "no verified signature"}`);
    return undefined;
  }
  return `no verified model signature from a trusted signer covers this file: ${file.signature.reason ?? "not verified"}`;
}
