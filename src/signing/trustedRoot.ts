/**
 * Sigstore's public-good trust root (Fulcio CAs, Rekor and CT log keys, timestamp authorities), as
 * shipped inside @sigstore/tuf: keyless signatures verify offline, against the root of the release
 * we pin. Refreshing it over TUF needs the network, which a gate must not depend on.
 */
import { createRequire } from "node:module";
import type { TrustMaterial } from "@sigstore/verify";

const PUBLIC_GOOD_MIRROR = "https://tuf-repo-cdn.sigstore.dev";

let cached: TrustMaterial | undefined;

export function publicGoodTrustMaterial(): TrustMaterial {
  if (cached) return cached;
  // Required here, not imported: only keyless verification needs Sigstore's packages.
  const require = createRequire(import.meta.url);
  const { TrustedRoot } = require("@sigstore/protobuf-specs") as typeof import("@sigstore/protobuf-specs");
  const { toTrustMaterial } = require("@sigstore/verify") as typeof import("@sigstore/verify");
  const seeds = require("@sigstore/tuf/seeds.json") as Record<string, { targets: Record<string, string> }>;
  const encoded = seeds[PUBLIC_GOOD_MIRROR]?.targets["trusted_root.json"];
  if (encoded === undefined) throw new Error("@sigstore/tuf does not ship the public-good trusted root any more");
  cached = toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(Buffer.from(encoded, "base64").toString("utf8"))));
  return cached;
}
