/** Elliptic-curve keys as model signatures use them: the hash each curve signs with, and the key's hint. */
import { createHash, type KeyObject } from "node:crypto";

/** P-256: SHA-256, P-384: SHA-384, P-521: SHA-512 (the reference's pairing). Throws for other keys. */
export function curveHash(key: KeyObject): string {
  const curve = key.asymmetricKeyType === "ec" ? key.asymmetricKeyDetails?.namedCurve : undefined;
  const hash = curve === "prime256v1" ? "sha256" : curve === "secp384r1" ? "sha384" : curve === "secp521r1" ? "sha512" : undefined;
  if (!hash) throw new Error(`model signatures use elliptic-curve keys (P-256, P-384, P-521), not ${curve ?? key.asymmetricKeyType ?? "this key"}`);
  return hash;
}

/** sha256 (hex) of the key's SubjectPublicKeyInfo PEM: how model_signing 1.1+ names the key in a bundle. */
export function keyHint(key: KeyObject): string {
  return createHash("sha256").update(key.export({ type: "spki", format: "pem" })).digest("hex");
}
