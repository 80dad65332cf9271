/** A signer in one line, for people (CLI output, block reasons). */
import type { Signer } from "./authenticate.js";
import type { FileMismatch } from "./compare.js";

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

/** Why a signature did not verify: the reasons, then the first files that differ ("changed a.bin, extra b.bin, and 3 more"). */
export function describeFailure(verdict: { reason: string; reasons: readonly string[]; mismatches: readonly FileMismatch[] }): string {
  const named = verdict.mismatches.slice(0, 5).map((m) => `${m.kind} ${m.name}`);
  const more = verdict.mismatches.length > named.length ? `, and ${verdict.mismatches.length - named.length} more` : "";
  const detail = [verdict.reason, ...verdict.reasons].join(": ");
  return named.length > 0 ? `${detail} (${named.join(", ")}${more})` : detail;
}
