/**
 * The gateway's check: a repository's file list (path, sha256 as the hub publishes it) and its
 * model.sig bytes, verified without the model's bytes.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { loadTrusts, signModel, verifyRepositorySignature, type RepositoryFile, type RepositoryVerdict } from "../src/signing/index.js";

const VECTORS = fileURLToPath(new URL("../../test/fixtures/model-signing/", import.meta.url));
const KEYS = join(VECTORS, "keys/certificate");
const IDENTITY = { identity: "stefanb@us.ibm.com", issuer: "https://sigstore.verify.ibm.com/oauth2" };

/** What a hub would list for a vector folder: every file with its sha256. */
function listing(name: string): RepositoryFile[] {
  return readdirSync(join(VECTORS, name)).map((path) => ({ path, sha256: createHash("sha256").update(readFileSync(join(VECTORS, name, path))).digest("hex") }));
}

const signatureOf = (name: string): Buffer => readFileSync(join(VECTORS, name, "model.sig"));

function failed(verdict: RepositoryVerdict) {
  assert.equal(verdict.verified, false);
  if (verdict.verified) throw new Error("unreachable");
  return verdict;
}

describe("verifyRepositorySignature", () => {
  it("verifies the keyless 1.0.1 vector from its listing, and says which files it covers", async () => {
    const trusts = await loadTrusts({ identities: [IDENTITY] });
    const verdict = verifyRepositorySignature(listing("v1.0.1-sigstore"), signatureOf("v1.0.1-sigstore"), trusts, { ignorePaths: ["ignore-me"] });
    assert.equal(verdict.verified, true);
    if (!verdict.verified) return;
    assert.equal(verdict.signer.identity, IDENTITY.identity);
    assert.deepEqual(["signme-1", "signme-2", "model.sig", "ignore-me", "other"].map(verdict.covers), [true, true, true, false, false]);
  });

  it("verifies the certificate and 0.2.0 vectors; ignores .gitattributes as the reference does", async () => {
    const trusts = await loadTrusts({ certificateChains: [[join(KEYS, "ca-cert.pem")]] });
    const files = [...listing("v0.2.0-certificate"), { path: ".gitattributes", sha256: "00".repeat(32) }, { path: ".git/HEAD" }];
    assert.equal(verifyRepositorySignature(files, signatureOf("v0.2.0-certificate"), trusts).verified, true);
  });

  it("names a changed, a missing and an extra file from the published sha256s", async () => {
    const trusts = await loadTrusts({ keys: [join(KEYS, "signing-key-pub.pem")] });
    const files = listing("v1.0.1-elliptic-key").filter((f) => f.path !== "signme-1" && f.path !== "ignore-me");
    files.find((f) => f.path === "signme-2")!.sha256 = "ab".repeat(32);
    files.push({ path: "pytorch_model.bin", sha256: "cd".repeat(32) });
    const verdict = failed(verifyRepositorySignature(files, signatureOf("v1.0.1-elliptic-key"), trusts));
    assert.equal(verdict.unverifiable, false);
    assert.deepEqual(verdict.mismatches.map((m) => `${m.kind} ${m.name}`), ["missing signme-1", "changed signme-2", "extra pytorch_model.bin"]);
  });

  it("refuses an untrusted signer, and is unverifiable (not wrong) when a signed file's sha256 is unknown", async () => {
    const wrong = failed(verifyRepositorySignature(listing("v1.0.1-sigstore"), signatureOf("v1.0.1-sigstore"), await loadTrusts({ identities: [{ ...IDENTITY, identity: "eve@example.com" }] })));
    assert.equal(wrong.signer, undefined);
    assert.match(wrong.reasons.join("\n"), /keyless signer is stefanb@us\.ibm\.com/);
    const files = listing("v1.0.0-sigstore").map((f) => (f.path === "signme-2" ? { path: f.path } : f));
    const unknown = failed(verifyRepositorySignature(files, signatureOf("v1.0.0-sigstore"), await loadTrusts({ identities: [IDENTITY] })));
    assert.equal(unknown.unverifiable, true);
    assert.match(unknown.reason, /no sha256 is known for signme-2/);
  });

  it("honours the paths the signer recorded as left out (model_signing 1.1 and modelgate sign)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "modelgate-repo-sig-"));
    after(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, "model"));
    writeFileSync(join(dir, "model/weights.safetensors"), "w");
    writeFileSync(join(dir, "model/README.md"), "card");
    const { bundle } = await signModel(join(dir, "model"), { privateKeyPem: readFileSync(join(KEYS, "signing-key.pem"), "utf8"), signaturePath: join(dir, "model/model.sig"), ignorePaths: [join(dir, "model/README.md")] });
    const sha = (s: string): string => createHash("sha256").update(s).digest("hex");
    const files = [{ path: "weights.safetensors", sha256: sha("w") }, { path: "README.md", sha256: sha("edited card") }];
    const verdict = verifyRepositorySignature(files, Buffer.from(JSON.stringify(bundle)), await loadTrusts({ keys: [join(KEYS, "signing-key-pub.pem")] }));
    assert.equal(verdict.verified, true);
    if (verdict.verified) assert.equal(verdict.covers("README.md"), false);
  });
});
