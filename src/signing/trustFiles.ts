/** Trust from files: PEM public keys and certificate chains named on the command line or in the policy. */
import { createPublicKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Trust } from "./authenticate.js";

/** What a person configures: keyless identities, public key files, certificate chain files (PEM). */
export interface TrustSpec {
  identities?: readonly { identity: string; issuer: string }[];
  keys?: readonly string[];
  /** Each entry is one trust: its PEM files (roots and intermediates) together. */
  certificateChains?: readonly (readonly string[])[];
}

/** A key or chain file that cannot be used. */
export class TrustFileError extends Error {
  override name = "TrustFileError";
}

export async function loadTrusts(spec: TrustSpec): Promise<Trust[]> {
  const trusts: Trust[] = (spec.identities ?? []).map((i) => ({ kind: "keyless", identity: i.identity, issuer: i.issuer }));
  // Chains before keys: a certificate bundle is then named by its certificate, not just its key.
  for (const paths of spec.certificateChains ?? []) {
    const certificates = [];
    for (const path of paths) {
      const found = pemBlocks(await read(path), "CERTIFICATE");
      if (found.length === 0) throw new TrustFileError(`${path} holds no PEM certificate`);
      certificates.push(...found);
    }
    trusts.push({ kind: "certificate-chain", source: paths.join(", "), certificates });
  }
  for (const path of spec.keys ?? []) {
    const pem = await read(path);
    try {
      trusts.push({ kind: "public-key", source: path, key: createPublicKey(pem) });
    } catch (err) {
      throw new TrustFileError(`${path} is not a PEM public key: ${(err as Error).message}`);
    }
  }
  return trusts;
}

/** The DER bodies of every -----BEGIN label----- block. */
export function pemBlocks(pem: string, label: string): Buffer[] {
  const re = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+?)-----END ${label}-----`, "g");
  return [...pem.matchAll(re)].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ""), "base64"));
}

async function read(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new TrustFileError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
