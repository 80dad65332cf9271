/**
 * `sign` writes what model_signing writes: field by field the 1.0.1 reference vectors (same statement,
 * same certificates, the 1.1 key hint), and it round-trips through our verifier.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ExitCode } from "../src/cli/exitCode.js";
import { loadTrusts, signModel, verifyModelSignature } from "../src/signing/index.js";
import { sortItems } from "../src/signing/manifest.js";
import { MAIN } from "./support/cli.js";

const VECTORS = fileURLToPath(new URL("../../test/fixtures/model-signing/", import.meta.url));
const KEYS = join(VECTORS, "keys/certificate");
const UNRELATED = join(VECTORS, "keys/unrelated");

const work = mkdtempSync(join(tmpdir(), "modelgate-sign-"));
after(() => rmSync(work, { recursive: true, force: true }));
let copies = 0;

/** A copy of a vector's files without its model.sig, in a fresh folder of the same name. */
function unsignedCopy(name: string): string {
  const base = join(work, `copy-${copies++}`);
  cpSync(join(VECTORS, name), join(base, name), { recursive: true });
  rmSync(join(base, name, "model.sig"));
  return base;
}

function modelgate(cwd: string, ...args: string[]) {
  return spawnSync(process.execPath, [MAIN, ...args], { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
}

function readBundle(path: string) {
  const bundle = JSON.parse(readFileSync(path, "utf8"));
  return { bundle, statement: JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, "base64").toString("utf8")) };
}

/** What must agree with the reference's output: everything except the signature bytes and 1.1's recorded ignore paths. */
function comparable(statement: { predicate: { serialization: Record<string, unknown> } }) {
  const { ignore_paths: _ignored, ...serialization } = statement.predicate.serialization;
  return { ...statement, predicate: { ...statement.predicate, serialization } };
}

describe("sign matches the reference tool's format", () => {
  it("with a certificate chain: the 1.0.1 certificate vector's statement and certificates, field by field", async () => {
    const name = "v1.0.1-certificate";
    const base = unsignedCopy(name);
    const r = modelgate(base, "sign", name, "--private-key", join(KEYS, "signing-key.pem"), "--certificate-chain", join(KEYS, "int-ca-cert.pem"), join(KEYS, "signing-key-cert.pem"), "--ignore-paths", `${name}/ignore-me`);
    assert.equal(r.status, ExitCode.Pass, r.stderr);
    const ours = readBundle(join(base, name, "model.sig"));
    const theirs = readBundle(join(VECTORS, name, "model.sig"));
    assert.equal(ours.bundle.mediaType, theirs.bundle.mediaType);
    assert.equal(ours.bundle.dsseEnvelope.payloadType, theirs.bundle.dsseEnvelope.payloadType);
    // The signing certificate first, then the intermediate, whatever order they were given in.
    assert.deepEqual(ours.bundle.verificationMaterial.x509CertificateChain, theirs.bundle.verificationMaterial.x509CertificateChain);
    assert.deepEqual(comparable(ours.statement), comparable(theirs.statement));
    assert.deepEqual(ours.statement.predicate.serialization.ignore_paths, ["model.sig", "ignore-me", ".git", ".gitattributes", ".github", ".gitignore"]);
    assert.equal(modelgate(base, "verify-signature", name, "--certificate-chain", join(KEYS, "ca-cert.pem")).status, ExitCode.Pass);
  });

  it("with a key: the 1.0.1 key vector's statement, and the key named by the hint model_signing 1.1 writes", async () => {
    const name = "v1.0.1-elliptic-key";
    const base = unsignedCopy(name);
    const r = modelgate(base, "sign", name, "--private-key", join(KEYS, "signing-key.pem"), "--ignore-paths", `${name}/ignore-me`);
    assert.equal(r.status, ExitCode.Pass, r.stderr);
    const ours = readBundle(join(base, name, "model.sig"));
    const theirs = readBundle(join(VECTORS, name, "model.sig"));
    assert.deepEqual(comparable(ours.statement), comparable(theirs.statement));
    // 1.0.1 embedded the PEM; 1.1 names it by the PEM's sha256. Same key, so the hint is the hash of the vector's PEM.
    const pem = Buffer.from(theirs.bundle.verificationMaterial.publicKey.rawBytes, "base64");
    assert.deepEqual(ours.bundle.verificationMaterial, { publicKey: { hint: createHash("sha256").update(pem).digest("hex") }, tlogEntries: [] });
    const verdict = await verifyModelSignature(join(base, name), join(base, name, "model.sig"), await loadTrusts({ keys: [join(KEYS, "signing-key-pub.pem")] }));
    assert.equal(verdict.verified, true);
  });
});

describe("sign round-trips through verify-signature", () => {
  it("a P-256 key over a nested folder: verifies, then names a changed and an added file", async () => {
    const model = join(work, "nested");
    mkdirSync(join(model, "a"), { recursive: true });
    mkdirSync(join(model, "a-b"), { recursive: true });
    mkdirSync(join(model, ".git"), { recursive: true });
    writeFileSync(join(model, "a/b"), "weights");
    writeFileSync(join(model, "a-b/c"), "more");
    writeFileSync(join(model, "a.txt"), "card");
    writeFileSync(join(model, ".git/HEAD"), "ref: refs/heads/main\n");
    const trusts = await loadTrusts({ keys: [join(UNRELATED, "p256-key-pub.pem")] });
    const signed = await signModel(model, { privateKeyPem: readFileSync(join(UNRELATED, "p256-key.pem"), "utf8"), signaturePath: join(model, "model.sig") });
    // PurePosixPath order, component by component (CPython: a/b, a-b/c, a.txt); .git is left out.
    assert.deepEqual(signed.manifest.items.map((i) => i.name), ["a/b", "a-b/c", "a.txt"]);
    writeFileSync(join(model, "model.sig"), JSON.stringify(signed.bundle));
    assert.equal((await verifyModelSignature(model, join(model, "model.sig"), trusts)).verified, true);

    writeFileSync(join(model, "a.txt"), "card, edited");
    writeFileSync(join(model, "a/evil.py"), "import os");
    const verdict = await verifyModelSignature(model, join(model, "model.sig"), trusts);
    assert.equal(verdict.verified, false);
    if (!verdict.verified) assert.deepEqual(verdict.mismatches.map((m) => `${m.kind} ${m.name}`), ["changed a.txt", "extra a/evil.py"]);
  });

  it("a single file signs as the item '.', and verifies as a file", async () => {
    const dir = join(work, "single");
    mkdirSync(dir);
    writeFileSync(join(dir, "model.safetensors"), "tensor bytes");
    const r = modelgate(dir, "sign", "model.safetensors", "--private-key", join(KEYS, "signing-key.pem"), "--signature", "model.safetensors.sig");
    assert.equal(r.status, ExitCode.Pass, r.stderr);
    assert.deepEqual(readBundle(join(dir, "model.safetensors.sig")).statement.predicate.resources.map((x: { name: string }) => x.name), ["."]);
    assert.equal(modelgate(dir, "verify-signature", "model.safetensors", "--signature", "model.safetensors.sig", "--public-key", join(KEYS, "signing-key-pub.pem")).status, ExitCode.Pass);
  });

  it("orders shard items by path, then by offsets as numbers", () => {
    const names = ["w:1000:1500", "w:0:500", "w:500:1000", "v:0:10"];
    assert.deepEqual(sortItems(names.map((name) => ({ name, digest: "00" })), "shards").map((i) => i.name), ["v:0:10", "w:0:500", "w:500:1000", "w:1000:1500"]);
  });
});

describe("sign usage", () => {
  it("refuses keyless signing with a clear error (exit 4): it needs Sigstore's public servers", () => {
    const r = modelgate(VECTORS, "sign", "v1.0.1-sigstore", "--keyless");
    assert.equal(r.status, ExitCode.Usage);
    assert.match(r.stderr, /keyless signing needs Sigstore's public servers/);
    assert.match(modelgate(VECTORS, "sign", "--help").stdout, /modelgate does not sign keyless/);
  });

  it("exits 4 without a key, for an RSA key, and for a chain without the key's certificate", () => {
    const base = unsignedCopy("v1.0.1-elliptic-key");
    assert.match(modelgate(base, "sign", "v1.0.1-elliptic-key").stderr, /--private-key is required/);
    const rsa = modelgate(base, "sign", "v1.0.1-elliptic-key", "--private-key", join(KEYS, "ca-priv.pem"));
    assert.equal(rsa.status, ExitCode.Usage);
    assert.match(rsa.stderr, /elliptic-curve keys/);
    const chain = modelgate(base, "sign", "v1.0.1-elliptic-key", "--private-key", join(UNRELATED, "p256-key.pem"), "--certificate-chain", join(KEYS, "signing-key-cert.pem"));
    assert.equal(chain.status, ExitCode.Usage);
    assert.match(chain.stderr, /no certificate in the chain is for this private key/);
  });
});
