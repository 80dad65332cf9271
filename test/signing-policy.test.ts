/**
 * The gate and model signatures: the policy's `signatures` section, scan and lock verifying a
 * folder's model.sig, the signer in the report, the lock and the audit log, and rule "signatures"
 * blocking what no trusted signature covers.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ExitCode } from "../src/cli/exitCode.js";
import { gatedScan } from "../src/cli/gate.js";
import { PolicyError, parsePolicy } from "../src/policy/index.js";
import type { FileResult } from "../src/types.js";
import { MAIN } from "./support/cli.js";

const VECTORS = fileURLToPath(new URL("../../test/fixtures/model-signing/", import.meta.url));
const KEYS = join(VECTORS, "keys/certificate");
const IDENTITY = { identity: "stefanb@us.ibm.com", issuer: "https://sigstore.verify.ibm.com/oauth2" };

const work = mkdtempSync(join(tmpdir(), "modelgate-signing-policy-"));
after(() => rmSync(work, { recursive: true, force: true }));
let dirs = 0;

/** A fresh folder holding copies of the named vectors and a policy file. */
function setup(vectors: string[], policy: string): string {
  const dir = join(work, `case-${dirs++}`);
  mkdirSync(dir);
  for (const v of vectors) cpSync(join(VECTORS, v), join(dir, v), { recursive: true });
  writeFileSync(join(dir, "modelgate.yml"), policy);
  return dir;
}

const REQUIRE_ALL = `signatures:
  require: true
  identities:
    - identity: ${IDENTITY.identity}
      issuer: ${IDENTITY.issuer}
  keys: [${join(KEYS, "signing-key-pub.pem")}]
  certificate_chains:
    - [${join(KEYS, "ca-cert.pem")}]
`;

async function scan(dir: string, targets: string[], extra: { auditLog?: string } = {}) {
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    return await gatedScan(targets, { policy: "modelgate.yml", failOn: "medium", failOnGiven: false, ...extra });
  } finally {
    process.chdir(cwd);
  }
}

const byPath = (files: FileResult[], path: string): FileResult => files.find((f) => f.path === path)!;

describe("the policy's signatures section", () => {
  it("reads identities, keys and chains (paths from the policy's folder; a chain is one file or a list)", () => {
    const policy = parsePolicy(
      "signatures:\n  require: true\n  identities: [{identity: a@example.com, issuer: https://issuer.example}]\n  keys: [k.pub]\n  certificate_chains: [ca.pem, [root.pem, int.pem]]\n",
      "p.yml",
      "/srv/policy/p.yml",
    );
    assert.deepEqual(policy.signatures, {
      require: true,
      trust: {
        identities: [{ identity: "a@example.com", issuer: "https://issuer.example" }],
        keys: ["/srv/policy/k.pub"],
        certificateChains: [["/srv/policy/ca.pem"], ["/srv/policy/root.pem", "/srv/policy/int.pem"]],
      },
    });
    assert.equal(parsePolicy("fail_on: high\n", "p.yml").signatures, undefined);
  });

  it("rejects require without a trusted signer, an identity without issuer, unknown keys and a non-boolean require", () => {
    const errors = (text: string): string => {
      try {
        parsePolicy(text, "p.yml");
      } catch (err) {
        assert.ok(err instanceof PolicyError);
        return err.message;
      }
      assert.fail("the policy was accepted");
    };
    assert.match(errors("signatures:\n  require: true\n"), /p\.yml:2: signatures\.require needs at least one trusted signer/);
    assert.match(errors("signatures:\n  identities: [{identity: a@example.com}]\n"), /needs issuer/);
    assert.match(errors("signatures:\n  trusted: [x]\n"), /unknown key "trusted" in signatures/);
    assert.match(errors("signatures:\n  require: yes please\n  keys: [k]\n"), /signatures\.require must be true or false/);
  });
});

describe("scan with signatures required", () => {
  it("passes files a trusted signature covers, and records the signer in the report", async () => {
    const dir = setup(["v1.0.0-sigstore", "v1.0.0-certificate"], REQUIRE_ALL);
    const { report } = await scan(dir, ["v1.0.0-sigstore", "v1.0.0-certificate"]);
    assert.equal(report.verdict, "pass");
    const keyless = byPath(report.files, "v1.0.0-sigstore/signme-1");
    assert.deepEqual(keyless.signature, { signature: "v1.0.0-sigstore/model.sig", verified: true, signer: { method: "keyless", ...IDENTITY, trustedBy: `identity ${IDENTITY.identity} (issuer ${IDENTITY.issuer})` } });
    assert.match(keyless.decision!.notes!.join("\n"), /signed by stefanb@us\.ibm\.com/);
    const cert = byPath(report.files, "v1.0.0-certificate/signme-2");
    assert.equal(cert.signature?.signer?.method, "certificate");
    assert.equal(cert.signature?.signer?.subject, "CN=intermediate-ca");
  });

  it("blocks (rule signatures) a tampered folder naming the changed file, and an unsigned one", async () => {
    const dir = setup(["v1.0.0-sigstore"], REQUIRE_ALL);
    writeFileSync(join(dir, "v1.0.0-sigstore/signme-2"), "tampered");
    mkdirSync(join(dir, "unsigned"));
    writeFileSync(join(dir, "unsigned/weights.bin"), "bytes");
    const { report } = await scan(dir, ["v1.0.0-sigstore", "unsigned"]);
    assert.equal(report.verdict, "block");
    const changed = byPath(report.files, "v1.0.0-sigstore/signme-1");
    assert.equal(changed.verdict, "block");
    assert.equal(changed.decision?.rule, "signatures");
    assert.match(changed.decision!.reason, /changed signme-2/);
    // The signature was genuine: the signer is known even though the files no longer match.
    assert.equal(changed.signature?.signer?.identity, IDENTITY.identity);
    const unsigned = byPath(report.files, "unsigned/weights.bin");
    assert.equal(unsigned.decision?.rule, "signatures");
    assert.match(unsigned.decision!.reason, /no model\.sig in its folder or above it/);
  });

  it("blocks a folder signed by someone the policy does not trust", async () => {
    const policy = `signatures:\n  require: true\n  identities: [{identity: alice@example.com, issuer: ${IDENTITY.issuer}}]\n`;
    const dir = setup(["v1.0.1-sigstore"], policy);
    const { report } = await scan(dir, ["v1.0.1-sigstore"]);
    const file = byPath(report.files, "v1.0.1-sigstore/signme-1");
    assert.equal(file.decision?.rule, "signatures");
    assert.match(file.decision!.reason, /keyless signer is stefanb@us\.ibm\.com .*not alice@example\.com/);
    assert.equal(file.signature?.signer, undefined);
  });

  it("finds the signature of the folder above a file scanned in a subfolder, and blocks a file the signer left out", async () => {
    const dir = setup([], REQUIRE_ALL);
    mkdirSync(join(dir, "model/sub"), { recursive: true });
    writeFileSync(join(dir, "model/sub/weights.bin"), "w");
    writeFileSync(join(dir, "model/README.md"), "card");
    const signed = spawnSync(process.execPath, [MAIN, "sign", "model", "--private-key", join(KEYS, "signing-key.pem"), "--ignore-paths", "model/README.md"], { cwd: dir, encoding: "utf8" });
    assert.equal(signed.status, ExitCode.Pass, signed.stderr);
    const { report } = await scan(dir, ["model"]);
    assert.equal(byPath(report.files, "model/sub/weights.bin").signature?.verified, true);
    const readme = byPath(report.files, "model/README.md");
    assert.equal(readme.decision?.rule, "signatures");
    assert.match(readme.decision!.reason, /README\.md is not covered by model\/model\.sig/);
  });

  it("with require: false, notes the missing signature without blocking", async () => {
    const dir = setup([], `signatures:\n  keys: [${join(KEYS, "signing-key-pub.pem")}]\n`);
    writeFileSync(join(dir, "weights.bin"), "w");
    const { report } = await scan(dir, ["weights.bin"]);
    const file = byPath(report.files, "weights.bin");
    assert.equal(file.verdict, "pass");
    assert.match(file.decision!.notes!.join("\n"), /not signature-verified: no model\.sig/);
  });

  it("writes the signer into the audit log", async () => {
    const dir = setup(["v1.0.0-certificate"], REQUIRE_ALL);
    await scan(dir, ["v1.0.0-certificate"], { auditLog: "audit.jsonl" });
    const records = readFileSync(join(dir, "audit.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const record = records.find((r) => r.target === "v1.0.0-certificate/signme-1");
    assert.equal(record.signer.method, "certificate");
    assert.equal(record.signer.fingerprint, "DA:36:62:B6:30:EB:0F:58:5C:33:F1:14:A0:76:B8:DA:2C:ED:A0:F2:75:CB:57:8E:6D:1D:9C:AB:84:C0:4D:3B");
  });

  it("lock pins the signer of each file, and refuses to lock an unsigned folder", () => {
    const dir = setup(["v1.0.0-sigstore"], REQUIRE_ALL);
    const ok = spawnSync(process.execPath, [MAIN, "lock", "v1.0.0-sigstore"], { cwd: dir, encoding: "utf8" });
    assert.equal(ok.status, ExitCode.Pass, ok.stderr);
    const lock = JSON.parse(readFileSync(join(dir, "modelgate.lock"), "utf8"));
    const entry = lock.files.find((f: { path: string }) => f.path === "v1.0.0-sigstore/signme-1");
    assert.equal(entry.signer.identity, IDENTITY.identity);
    mkdirSync(join(dir, "unsigned"));
    writeFileSync(join(dir, "unsigned/w.bin"), "w");
    const refused = spawnSync(process.execPath, [MAIN, "lock", "unsigned", "-o", "other.lock"], { cwd: dir, encoding: "utf8" });
    assert.equal(refused.status, ExitCode.Blocked);
    assert.match(refused.stderr, /blocked \(signatures: /);
  });
});

describe("the README's signatures example", () => {
  it("is a valid policy that requires signatures from the identity, key and chain it lists", () => {
    const readme = readFileSync(fileURLToPath(new URL("../../README.md", import.meta.url)), "utf8");
    const block = /```yaml\n(signatures:\n[\s\S]*?)```/.exec(readme);
    assert.ok(block, "README has a yaml block starting with signatures:");
    const policy = parsePolicy(block[1]!, "README.md", "/srv/README.md");
    assert.equal(policy.signatures?.require, true);
    assert.deepEqual(policy.signatures?.trust.identities, [{ identity: "release-bot@acme.example", issuer: "https://accounts.google.com" }]);
    assert.deepEqual(policy.signatures?.trust.keys, ["/srv/keys/signer.pub"]);
    assert.deepEqual(policy.signatures?.trust.certificateChains, [["/srv/keys/acme-root.pem"]]);
  });
});
