/**
 * OpenSSF model signatures: the reference implementation's vectors (model_signing 0.2.0 to 1.0.1,
 * keyless, certificate and key) verify offline; tampered copies do not, and say what changed.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { X509Certificate, createHash, createPrivateKey, generateKeyPairSync, sign, verify } from "node:crypto";
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ExitCode } from "../src/cli/exitCode.js";
import { hashModel, loadTrusts, verifyModelSignature, type SignatureVerdict, type Trust } from "../src/signing/index.js";
import { SIGNING_LIMITS } from "../src/signing/limits.js";
import { sortItems } from "../src/signing/manifest.js";
import { preAuthEncoding, preAuthEncodingV02, pythonBytesRepr } from "../src/signing/pae.js";
import { MAIN } from "./support/cli.js";

const VECTORS = fileURLToPath(new URL("../../test/fixtures/model-signing/", import.meta.url));
const KEYS = join(VECTORS, "keys/certificate");
const IDENTITY = { identity: "stefanb@us.ibm.com", issuer: "https://sigstore.verify.ibm.com/oauth2" };

interface Vector {
  name: string;
  method: "sigstore" | "certificate" | "elliptic-key";
  /** What the reference's verify command is pointed at: the folder, or (0.3.1 and 1.0.0 keys) the one file signed. */
  model: string;
  ignore: string[];
}

const VECTOR_NAMES = [
  "v0.2.0-certificate",
  "v0.3.1-certificate",
  "v0.3.1-elliptic-key",
  "v0.3.1-sigstore",
  "v1.0.0-certificate",
  "v1.0.0-elliptic-key",
  "v1.0.0-sigstore",
  "v1.0.1-certificate",
  "v1.0.1-elliptic-key",
  "v1.0.1-sigstore",
];

const vectors: Vector[] = VECTOR_NAMES.map((name) => {
  const method = name.replace(/^v[\d.]+-/, "") as Vector["method"];
  const singleFile = name === "v0.3.1-elliptic-key" || name === "v1.0.0-elliptic-key";
  return {
    name,
    method,
    model: singleFile ? `${name}/signme-1` : name,
    ignore: name.startsWith("v1.0.1") ? [`${name}/ignore-me`] : [],
  };
});

function trustFlags(method: Vector["method"]): string[] {
  if (method === "sigstore") return ["--identity", IDENTITY.identity, "--issuer", IDENTITY.issuer];
  if (method === "certificate") return ["--certificate-chain", join(KEYS, "ca-cert.pem")];
  return ["--public-key", join(KEYS, "signing-key-pub.pem")];
}

async function trustFor(method: Vector["method"]): Promise<Trust[]> {
  if (method === "sigstore") return loadTrusts({ identities: [IDENTITY] });
  if (method === "certificate") return loadTrusts({ certificateChains: [[join(KEYS, "ca-cert.pem")]] });
  return loadTrusts({ keys: [join(KEYS, "signing-key-pub.pem")] });
}

function modelgate(cwd: string, ...args: string[]) {
  return spawnSync(process.execPath, [MAIN, ...args], { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
}

const work = mkdtempSync(join(tmpdir(), "modelgate-signing-"));
after(() => rmSync(work, { recursive: true, force: true }));
let copies = 0;

/** A writable copy of a vector folder (with the keys beside it, as in the fixtures). */
function copyOf(name: string): string {
  const dir = join(work, `copy-${copies++}`);
  cpSync(join(VECTORS, name), join(dir, name), { recursive: true });
  return dir;
}

async function verifyIn(base: string, v: Vector, trusts?: Trust[], signature = join(base, v.name, "model.sig")): Promise<SignatureVerdict> {
  return verifyModelSignature(join(base, v.model), signature, trusts ?? (await trustFor(v.method)), { ignorePaths: v.ignore.map((p) => join(base, p)) });
}

function mismatchNames(verdict: SignatureVerdict): string[] {
  assert.equal(verdict.verified, false);
  return verdict.verified ? [] : verdict.mismatches.map((m) => `${m.kind} ${m.name}`);
}

const byName = (name: string): Vector => vectors.find((v) => v.name === name)!;

describe("reference vectors verify offline", () => {
  for (const v of vectors) {
    it(`${v.name} verifies with the reference's own verify command, and names its signer`, async () => {
      const r = modelgate(VECTORS, "verify-signature", v.model, "--signature", `${v.name}/model.sig`, ...trustFlags(v.method), ...(v.ignore.length ? ["--ignore-paths", ...v.ignore] : []));
      assert.equal(r.status, ExitCode.Pass, r.stderr + r.stdout);
      assert.match(r.stdout, /^verified /);
      const verdict = await verifyIn(VECTORS, v);
      assert.equal(verdict.verified, true);
      if (!verdict.verified) return;
      const method = { sigstore: "keyless", certificate: "certificate", "elliptic-key": "key" }[v.method];
      assert.equal(verdict.signer.method, method);
      if (v.method === "sigstore") assert.equal(verdict.signer.identity, IDENTITY.identity);
    });
  }

  it("verifies the 1.0.1 keyless vector from inside its folder, as the reference's second command does", () => {
    const r = modelgate(join(VECTORS, "v1.0.1-sigstore"), "verify-signature", ".", "--signature", "model.sig", ...trustFlags("sigstore"), "--ignore-paths", "ignore-me");
    assert.equal(r.status, ExitCode.Pass, r.stderr);
  });

  it("verifies a 1.0.0 certificate bundle with the signing key alone, as the reference's key verifier does", async () => {
    const verdict = await verifyIn(VECTORS, byName("v1.0.0-certificate"), await trustFor("elliptic-key"));
    assert.equal(verdict.verified, true);
  });

  it("0.2.0 signed the buggy pre-authentication encoding: only that encoding matches its signature", () => {
    const bundle = JSON.parse(readFileSync(join(VECTORS, "v0.2.0-certificate/model.sig"), "utf8"));
    const payload = Buffer.from(bundle.dsseEnvelope.payload, "base64");
    const type = bundle.dsseEnvelope.payloadType as string;
    assert.ok(preAuthEncodingV02(type, payload).toString().startsWith(`DSSEV1 28 ${type} ${payload.length} b'{\\n  "_type"`));
    const leaf = new X509Certificate(Buffer.from(bundle.verificationMaterial.x509CertificateChain.certificates[0].rawBytes, "base64"));
    const sig = Buffer.from(bundle.dsseEnvelope.signatures[0].sig, "base64");
    assert.equal(verify("sha256", preAuthEncodingV02(type, payload), leaf.publicKey, sig), true);
    assert.equal(verify("sha256", preAuthEncoding(type, payload), leaf.publicKey, sig), false);
    assert.equal(verify("sha384", preAuthEncoding(type, payload), leaf.publicKey, sig), false);
  });
});

describe("Python's bytes repr, which the 0.2 encoding embeds", () => {
  it("quotes and escapes as CPython does", () => {
    // Expected strings are CPython 3's repr() of the same bytes.
    assert.equal(pythonBytesRepr(Buffer.from("it's")), `b"it's"`);
    assert.equal(pythonBytesRepr(Buffer.from(`a'b"c`)), `b'a\\'b"c'`);
    assert.equal(pythonBytesRepr(Buffer.from([0, 10, 13, 9, 255, 92, 127, 31])), `b'\\x00\\n\\r\\t\\xff\\\\\\x7f\\x1f'`);
    assert.equal(pythonBytesRepr(Buffer.from(`{"x": 1}`)), `b'{"x": 1}'`);
  });
});

describe("tampered copies do not verify, and say what changed", () => {
  for (const name of ["v0.2.0-certificate", "v1.0.1-certificate", "v1.0.1-elliptic-key", "v1.0.1-sigstore", "v0.3.1-sigstore"]) {
    const v = byName(name);
    it(`${name}: a changed byte is named as changed`, async () => {
      const base = copyOf(name);
      const file = join(base, v.name, "signme-2");
      const bytes = readFileSync(file);
      bytes[0] = bytes[0]! ^ 1;
      writeFileSync(file, bytes);
      assert.deepEqual(mismatchNames(await verifyIn(base, v)), ["changed signme-2"]);
      const r = modelgate(base, "verify-signature", v.model, "--signature", `${v.name}/model.sig`, ...trustFlags(v.method), ...(v.ignore.length ? ["--ignore-paths", ...v.ignore] : []));
      assert.equal(r.status, ExitCode.Blocked);
      assert.match(r.stdout, /^changed +signme-2 +signed digest 32dcb1f8\w+, now \w{64}$/m);
    });

    it(`${name}: an extra file is named as not covered`, async () => {
      const base = copyOf(name);
      writeFileSync(join(base, v.name, "payload.py"), "print('hi')\n");
      assert.deepEqual(mismatchNames(await verifyIn(base, v)), ["extra payload.py"]);
    });

    it(`${name}: a removed file is named as missing`, async () => {
      const base = copyOf(name);
      rmSync(join(base, v.name, "signme-1"));
      assert.deepEqual(mismatchNames(await verifyIn(base, v)), ["missing signme-1"]);
    });
  }

  it("an extra file in a subfolder and an appended byte are both named", async () => {
    const v = byName("v1.0.1-elliptic-key");
    const base = copyOf(v.name);
    cpSync(join(base, v.name, "signme-1"), join(base, v.name, "sub/deeper/x.bin"), { recursive: true });
    appendFileSync(join(base, v.name, "signme-1"), "!");
    assert.deepEqual(mismatchNames(await verifyIn(base, v)), ["changed signme-1", "extra sub/deeper/x.bin"]);
  });

  it("a wrong identity or a wrong issuer is refused, naming the signer found", async () => {
    const v = byName("v1.0.1-sigstore");
    for (const wrong of [{ ...IDENTITY, identity: "mallory@example.com" }, { ...IDENTITY, issuer: "https://accounts.google.com" }]) {
      const verdict = await verifyIn(VECTORS, v, await loadTrusts({ identities: [wrong] }));
      assert.equal(verdict.verified, false);
      if (verdict.verified) return;
      assert.equal(verdict.signer, undefined);
      assert.match(verdict.reasons.join("\n"), /keyless signer is stefanb@us\.ibm\.com \(issuer https:\/\/sigstore\.verify\.ibm\.com\/oauth2\), not /);
    }
    const r = modelgate(VECTORS, "verify-signature", v.name, ...trustFlags("sigstore").map((f) => f.replace("stefanb@", "eve@")), "--ignore-paths", ...v.ignore);
    assert.equal(r.status, ExitCode.Blocked);
    assert.match(r.stderr, /not from a trusted signer/);
  });

  it("a wrong key is refused: another curve key, and a certificate chain that does not lead to the signer", async () => {
    const dir = mkdtempSync(join(work, "keys-"));
    const other = generateKeyPairSync("ec", { namedCurve: "secp384r1" }).publicKey.export({ type: "spki", format: "pem" });
    writeFileSync(join(dir, "other.pub"), other);
    const key = await verifyIn(VECTORS, byName("v1.0.1-elliptic-key"), await loadTrusts({ keys: [join(dir, "other.pub")] }));
    assert.equal(key.verified, false);
    if (!key.verified) assert.match(key.reasons.join("\n"), /does not verify with this key/);
    const chain = await verifyIn(VECTORS, byName("v1.0.1-certificate"), await loadTrusts({ certificateChains: [[join(KEYS, "signing-key-cert.pem")]] }));
    assert.equal(chain.verified, true, "the leaf itself, pinned, is trusted");
    const wrongRoot = await verifyIn(VECTORS, byName("v1.0.1-certificate"), await loadTrusts({ certificateChains: [[join(VECTORS, "keys/unrelated/ca-cert.pem")]] }));
    assert.equal(wrongRoot.verified, false);
    if (!wrongRoot.verified) assert.match(wrongRoot.reasons.join("\n"), /no trusted path/);
  });

  it("a keyless bundle is not accepted by a certificate-chain or key trust it does not match", async () => {
    const v = byName("v1.0.1-sigstore");
    const verdict = await verifyIn(VECTORS, v, await trustFor("certificate"));
    assert.equal(verdict.verified, false);
    if (!verdict.verified) assert.match(verdict.reasons.join("\n"), /carries no certificate chain/);
  });

  it("a swapped bundle (another model's valid signature) names the files it does not cover", async () => {
    const v = byName("v1.0.1-certificate");
    const base = copyOf(v.name);
    // The key vector signed a different signme-1 with the same key: its signature is genuine, its manifest is not this model's.
    cpSync(join(VECTORS, "v1.0.1-elliptic-key/model.sig"), join(base, v.name, "model.sig"));
    assert.deepEqual(mismatchNames(await verifyIn(base, v, await trustFor("elliptic-key"))), ["changed signme-1"]);
  });

  it("a swapped payload (another statement under the original signature) fails the signature itself", async () => {
    const v = byName("v1.0.1-elliptic-key");
    const base = copyOf(v.name);
    const sigPath = join(base, v.name, "model.sig");
    const bundle = JSON.parse(readFileSync(sigPath, "utf8"));
    const donor = JSON.parse(readFileSync(join(VECTORS, "v1.0.1-certificate/model.sig"), "utf8"));
    bundle.dsseEnvelope.payload = donor.dsseEnvelope.payload;
    writeFileSync(sigPath, JSON.stringify(bundle));
    const verdict = await verifyIn(base, v);
    assert.equal(verdict.verified, false);
    if (!verdict.verified) {
      assert.equal(verdict.signer, undefined);
      assert.match(verdict.reasons.join("\n"), /does not verify with this key/);
    }
  });

  it("a keyless bundle whose payload was edited fails Sigstore verification", async () => {
    const v = byName("v1.0.0-sigstore");
    const base = copyOf(v.name);
    const sigPath = join(base, v.name, "model.sig");
    const bundle = JSON.parse(readFileSync(sigPath, "utf8"));
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, "base64").toString());
    statement.predicate.resources[0].digest = "00".repeat(32);
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString("base64");
    writeFileSync(sigPath, JSON.stringify(bundle));
    const verdict = await verifyIn(base, v);
    assert.equal(verdict.verified, false);
    if (!verdict.verified) assert.match(verdict.reasons.join("\n"), /keyless \(Sigstore\) verification failed/);
  });
});

describe("hostile folders and signatures", () => {
  it("refuses a model.sig over the size limit without reading it", async () => {
    const base = copyOf("v1.0.1-elliptic-key");
    const sig = join(base, "v1.0.1-elliptic-key/model.sig");
    truncateSync(sig, SIGNING_LIMITS.maxSignatureBytes + 1);
    const verdict = await verifyIn(base, byName("v1.0.1-elliptic-key"));
    assert.equal(verdict.verified, false);
    if (!verdict.verified) assert.match(verdict.reason, /over the limit of/);
  });

  it("fails on a symlink in the model when the signature does not allow symlinks", async () => {
    const v = byName("v1.0.1-elliptic-key");
    const base = copyOf(v.name);
    symlinkSync("/etc/hostname", join(base, v.name, "link"));
    const verdict = await verifyIn(base, v);
    assert.equal(verdict.verified, false);
    if (!verdict.verified) assert.match(verdict.reason, /link is a symbolic link, and the signature does not allow symlinks/);
  });
});

describe("verify-signature usage", () => {
  it("exits 4 without a trust, with two trusts, with --identity alone, or for a missing model", () => {
    const v = "v1.0.1-elliptic-key";
    assert.equal(modelgate(VECTORS, "verify-signature", v).status, ExitCode.Usage);
    assert.equal(modelgate(VECTORS, "verify-signature", v, "--public-key", join(KEYS, "signing-key-pub.pem"), "--identity", "a", "--issuer", "b").status, ExitCode.Usage);
    assert.equal(modelgate(VECTORS, "verify-signature", v, "--identity", "a").status, ExitCode.Usage);
    const missing = modelgate(VECTORS, "verify-signature", "no-such-model", "--public-key", join(KEYS, "signing-key-pub.pem"));
    assert.equal(missing.status, ExitCode.Usage);
    assert.match(missing.stderr, /no-such-model does not exist/);
  });

  it("exits 4 for a key file that is not a public key", () => {
    const r = modelgate(VECTORS, "verify-signature", "v1.0.1-elliptic-key", "--public-key", join(VECTORS, "LICENSE"));
    assert.equal(r.status, ExitCode.Usage);
    assert.match(r.stderr, /is not a PEM public key/);
  });

  it("exits 1 for a signature file that is not a bundle", () => {
    const base = copyOf("v1.0.1-elliptic-key");
    writeFileSync(join(base, "v1.0.1-elliptic-key/model.sig"), "{not json");
    const r = modelgate(base, "verify-signature", "v1.0.1-elliptic-key", "--public-key", join(KEYS, "signing-key-pub.pem"));
    assert.equal(r.status, ExitCode.Blocked);
    assert.match(r.stderr, /not a Sigstore bundle/);
  });
});

describe("manifest forms the vectors do not cover: shards, blake2b", () => {
  /** The statement the reference writes for `items` (resources named and ordered as it does). */
  function statementOf(modelName: string, serialization: Record<string, unknown>, items: { name: string; digest: string }[], algorithm: string) {
    const rootDigest = createHash("sha256");
    for (const i of items) rootDigest.update(Buffer.from(i.digest, "hex"));
    return {
      _type: "https://in-toto.io/Statement/v1",
      subject: [{ name: modelName, digest: { sha256: rootDigest.digest("hex") } }],
      predicateType: "https://model_signing/signature/v1.0",
      predicate: { serialization, resources: items.map((i) => ({ algorithm, digest: i.digest, name: i.name })) },
    };
  }

  /** A key bundle over `statement`, signed with the P-256 test key. */
  function bundleFor(statement: object): string {
    const payload = Buffer.from(JSON.stringify(statement, null, 2));
    const key = createPrivateKey(readFileSync(join(VECTORS, "keys/unrelated/p256-key.pem")));
    const sig = sign("sha256", preAuthEncoding("application/vnd.in-toto+json", payload), key);
    return JSON.stringify({
      mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
      verificationMaterial: { publicKey: { hint: "" }, tlogEntries: [] },
      dsseEnvelope: { payload: payload.toString("base64"), payloadType: "application/vnd.in-toto+json", signatures: [{ sig: sig.toString("base64"), keyid: "" }] },
    });
  }

  it("a shards manifest verifies, and a changed byte names its shard", async () => {
    const model = join(work, "sharded");
    mkdirSync(join(model, "sub"), { recursive: true });
    writeFileSync(join(model, "w.bin"), "0123456789");
    writeFileSync(join(model, "sub/x"), "abc");
    const serialization = { method: "shards", hash_type: "sha256", shard_size: 4, allow_symlinks: false };
    const hashed = await hashModel(model, { method: "shards", hashType: "sha256", shardSize: 4, allowSymlinks: false, ignorePaths: [] }, []);
    const items = sortItems(hashed.items, "shards");
    assert.deepEqual(items.map((i) => i.name), ["sub/x:0:3", "w.bin:0:4", "w.bin:4:8", "w.bin:8:10"]);
    assert.equal(items[1]!.digest, createHash("sha256").update("0123").digest("hex"));
    writeFileSync(join(model, "model.sig"), bundleFor(statementOf("sharded", serialization, items, "sha256-sharded-4")));
    const trusts = await loadTrusts({ keys: [join(VECTORS, "keys/unrelated/p256-key-pub.pem")] });
    assert.equal((await verifyModelSignature(model, join(model, "model.sig"), trusts)).verified, true);
    writeFileSync(join(model, "w.bin"), "0123X56789");
    assert.deepEqual(mismatchNames(await verifyModelSignature(model, join(model, "model.sig"), trusts)), ["changed w.bin:4:8"]);
  });

  it("a blake2b files manifest verifies; an unsupported hash fails naming it", async () => {
    const model = join(work, "blake");
    mkdirSync(model);
    writeFileSync(join(model, "w.bin"), "weights");
    const digest = createHash("blake2b512").update("weights").digest("hex");
    const trusts = await loadTrusts({ keys: [join(VECTORS, "keys/unrelated/p256-key-pub.pem")] });
    writeFileSync(join(model, "model.sig"), bundleFor(statementOf("blake", { method: "files", hash_type: "blake2b", allow_symlinks: false }, [{ name: "w.bin", digest }], "blake2b")));
    assert.equal((await verifyModelSignature(model, join(model, "model.sig"), trusts)).verified, true);
    writeFileSync(join(model, "model.sig"), bundleFor(statementOf("blake", { method: "files", hash_type: "md5", allow_symlinks: false }, [{ name: "w.bin", digest }], "md5")));
    const verdict = await verifyModelSignature(model, join(model, "model.sig"), trusts);
    assert.equal(verdict.verified, false);
    if (!verdict.verified) assert.match(verdict.reason, /hashes with md5, which modelgate does not support/);
  });

  it("an edited manifest whose root digest no longer matches is refused even when signed", async () => {
    const model = join(work, "inconsistent");
    mkdirSync(model);
    writeFileSync(join(model, "w.bin"), "w");
    const good = { name: "w.bin", digest: createHash("sha256").update("w").digest("hex") };
    const statement = statementOf("inconsistent", { method: "files", hash_type: "sha256", allow_symlinks: false }, [good], "sha256");
    statement.subject[0]!.digest.sha256 = "00".repeat(32);
    writeFileSync(join(model, "model.sig"), bundleFor(statement));
    const trusts = await loadTrusts({ keys: [join(VECTORS, "keys/unrelated/p256-key-pub.pem")] });
    const verdict = await verifyModelSignature(model, join(model, "model.sig"), trusts);
    assert.equal(verdict.verified, false);
    if (!verdict.verified) assert.match(verdict.reason, /the manifest is inconsistent: the subject digest is 0{64}/);
  });
});
