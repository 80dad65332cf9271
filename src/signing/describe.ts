/** A signer in one line, for people (CLI output, block reasons). */
import type { Signer } from "./authenticate.js";

export function describeSigner(signer: Signer): string {
  switch (signer.method) {
    case "keyless":
      return `${signer.identity} (issuer ${signer.issuer}, keyless Sigstore)`;
    case "certificate":
      return `certificate ${signer.subject} (sha256 ${signer.fingerprint}), trusted through ${signer.trustedBy}`;
    case "key":
      return `key ${signer.trustedBy} (sha256 ${signer.keySha256})`;
  }
}
