/**
 * The gateway under `signatures.require`: a repository's model.sig (made here with signModel and the
 * interop fixtures' keys) is fetched from the fake hub with the tree listing, verified once per
 * repository@commit, and a file is served only when a trusted signer signed it unchanged; otherwise
 * 403 ModelgateUnsigned naming why, audited with the rule "signatures".
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { StartError, startGateway, type Gateway } from "../src/gateway/server.js";
import type { AuditRecord } from "../src/policy/audit.js";
import { defaultPolicy, type Policy } from "../src/policy/index.js";
import { signModel } from "../src/signing/index.js";
import { COMMIT, sha256 } from "./support/fakeHub.js";
import { fetchAll, gatewayBed } from "./support/gatewayBed.js";

const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));
const KEYS = fileURLToPath(new URL("../../test/fixtures/model-signing/keys/", import.meta.url));
const SIGNING_KEY = readFileSync(join(KEYS, "certificate/signing-key.pem"), "utf8");
const TRUSTED_KEY = join(KEYS, "certificate/signing-key-pub.pem");
const UNRELATED_KEY = readFileSync(join(KEYS, "unrelated/p256-key.pem"), "utf8");
const weights = readFileSync(join(EXAMPLES, "safe_weights.safetensors"));
const config = Buffer.from('{"model_type": "bert"}\n');

const bed = gatewayBed("modelgate-gateway-signing-");
const tempDir = (): Promise<string> => bed.tempDir();

function requiring(keys: string[]): Policy {
  return { ...defaultPolicy(), signatures: { require: true, trust: { identities: [], keys, certificateChains: [] } } };
}

/**
 * Publishes a model on the fake hub as `repo`: weights.safetensors in LFS, config.json as a small git
 * file, and the model.sig of that folder signed with `privateKeyPem` (none when undefined).
 */
async function publish(repo: string, privateKeyPem: string | undefined, extra: Record<string, Buffer> = {}, ignorePaths: string[] = []): Promise<void> {
  const folder = join(await tempDir(), "model");
  await mkdir(folder);
  await writeFile(join(folder, "weights.safetensors"), weights);
  await writeFile(join(folder, "config.json"), config);
  for (const [name, content] of Object.entries(extra)) await writeFile(join(folder, name), content);
  bed.hub.add(repo, "weights.safetensors", weights, true);
  bed.hub.add(repo, "config.json", config, false);
  for (const [name, content] of Object.entries(extra)) bed.hub.add(repo, name, content, false);
  if (privateKeyPem === undefined) return;
  const { bundle } = await signModel(folder, { privateKeyPem, signaturePath: join(folder, "model.sig"), ignorePaths: ignorePaths.map((p) => join(folder, p)) });
  bed.hub.add(repo, "model.sig", Buffer.from(JSON.stringify(bundle)), false);
}

const withGateway = (policy: Policy, body: (gw: Gateway, storeDir: string) => Promise<void>): Promise<void> => bed.withGateway({ policy }, body);
const get = (gw: Gateway, path: string, method = "GET"): ReturnType<typeof fetchAll> => fetchAll(gw, path, { method });

async function audit(storeDir: string): Promise<AuditRecord[]> {
  return (await readFile(join(storeDir, "audit.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as AuditRecord);
}

function assertUnsigned(res: { status: number; headers: Headers }, says: RegExp): void {
  assert.equal(res.status, 403);
  assert.equal(res.headers.get("x-error-code"), "ModelgateUnsigned");
  assert.match(res.headers.get("x-error-message") ?? "", says);
}

describe("gateway: signatures.require", () => {
  it("serves every file of a repository signed by a trusted key (LFS by the hub's sha256, small files hashed by the gateway), checking the signature once", async () => {
    await publish("signed/model", SIGNING_KEY);
    await withGateway(requiring([TRUSTED_KEY]), async (gw) => {
      const w = await get(gw, "/signed/model/resolve/main/weights.safetensors");
      assert.equal(w.status, 200);
      assert.deepEqual(w.bytes, weights);
      const c = await get(gw, "/signed/model/resolve/main/config.json");
      assert.equal(c.status, 200);
      assert.deepEqual(c.bytes, config);
      const sig = await get(gw, "/signed/model/resolve/main/model.sig");
      assert.equal(sig.status, 200);
      const listings = bed.hub.hubRequests.filter((r) => r.url.startsWith("/api/models/signed/model/tree/"));
      assert.equal(listings.length, 1, "one verdict per repository@commit");
      assert.ok(listings[0]!.url.includes(encodeURIComponent(COMMIT)), "the listing of the resolved commit");
    });
  });

  it("follows the hub's paged tree listing", async () => {
    await publish("signed/paged", SIGNING_KEY, { "tokenizer.json": Buffer.from("{}") });
    bed.hub.treePageSize = 1;
    try {
      await withGateway(requiring([TRUSTED_KEY]), async (gw) => {
        assert.equal((await get(gw, "/signed/paged/resolve/main/tokenizer.json")).status, 200);
      });
    } finally {
      bed.hub.treePageSize = 1000;
    }
    assert.equal(bed.hub.hubRequests.filter((r) => r.url.startsWith("/api/models/signed/paged/tree/")).length, 4);
  });

  it("refuses every file of an unsigned repository: 403 ModelgateUnsigned naming the missing model.sig, audited under the rule signatures", async () => {
    await publish("unsigned/model", undefined);
    await withGateway(requiring([TRUSTED_KEY]), async (gw, storeDir) => {
      const fetchedBefore = bed.hub.storageFetches.get(sha256(weights)) ?? 0;
      const res = await get(gw, "/unsigned/model/resolve/main/weights.safetensors");
      assert.equal(bed.hub.storageFetches.get(sha256(weights)) ?? 0, fetchedBefore, "refused before the download");
      assertUnsigned(res, /unsigned\/model\/weights\.safetensors.*no model\.sig/);
      const record = (await audit(storeDir)).find((r) => r.target.endsWith("/weights.safetensors"));
      assert.equal(record?.verdict, "block");
      assert.equal(record.rule, "signatures");
      assert.match(record.reason, /no model\.sig/);
      const head = await get(gw, "/unsigned/model/resolve/main/config.json", "HEAD");
      assert.equal(head.headers.get("x-error-code"), "ModelgateUnsigned");
    });
  });

  it("refuses a repository signed by a key the policy does not trust", async () => {
    await publish("wrongkey/model", UNRELATED_KEY);
    await withGateway(requiring([TRUSTED_KEY]), async (gw) => {
      assertUnsigned(await get(gw, "/wrongkey/model/resolve/main/weights.safetensors"), /not signed by a trusted signer/);
    });
  });

  it("refuses a model.sig that is not a signature bundle", async () => {
    await publish("garbage/model", undefined, { "model.sig": Buffer.from("not a bundle") });
    await withGateway(requiring([TRUSTED_KEY]), async (gw) => {
      assertUnsigned(await get(gw, "/garbage/model/resolve/main/weights.safetensors"), /not signed by a trusted signer/);
    });
  });

  it("answers 502 when the model.sig download breaks, and checks again on the next request instead of keeping that", async () => {
    await publish("flaky/model", SIGNING_KEY);
    const signature = bed.hub.files.get("flaky/model/model.sig")!;
    bed.hub.faults.set(signature.sha256, { cutAfter: 10 });
    await withGateway(requiring([TRUSTED_KEY]), async (gw) => {
      try {
        const broken = await get(gw, "/flaky/model/resolve/main/weights.safetensors");
        assert.equal(broken.status, 502);
        assert.equal(broken.headers.get("x-error-code"), "ModelgateUpstreamError");
      } finally {
        bed.hub.faults.delete(signature.sha256);
      }
      assert.equal((await get(gw, "/flaky/model/resolve/main/weights.safetensors")).status, 200);
    });
  });

  it("refuses a repository with a file changed after signing, naming it, whichever file is asked for", async () => {
    await publish("changed/model", SIGNING_KEY);
    bed.hub.add("changed/model", "config.json", Buffer.from('{"model_type": "evil"}\n'), false);
    await publish("changedlfs/model", SIGNING_KEY);
    bed.hub.add("changedlfs/model", "weights.safetensors", Buffer.concat([weights, Buffer.from("x")]), true);
    await withGateway(requiring([TRUSTED_KEY]), async (gw) => {
      assertUnsigned(await get(gw, "/changed/model/resolve/main/weights.safetensors"), /changed config\.json/);
      assertUnsigned(await get(gw, "/changedlfs/model/resolve/main/config.json"), /changed weights\.safetensors/);
    });
  });

  it("refuses a file the signature leaves out, and serves the signed ones beside it", async () => {
    await publish("partial/model", SIGNING_KEY, { "README.md": Buffer.from("# card\n") }, ["README.md"]);
    await withGateway(requiring([TRUSTED_KEY]), async (gw) => {
      assertUnsigned(await get(gw, "/partial/model/resolve/main/README.md"), /README\.md is not covered/);
      assert.equal((await get(gw, "/partial/model/resolve/main/weights.safetensors")).status, 200);
    });
  });

  it("does not start when a trusted key cannot be read", async () => {
    const missing = join(await tempDir(), "absent.pem");
    await assert.rejects(
      startGateway({ upstream: new URL(bed.hub.hubUrl), host: "127.0.0.1", port: 0, policy: requiring([missing]), state: "memory", storeDir: join(await tempDir(), "store") }),
      (err: unknown) => err instanceof StartError && /signatures/.test(err.message) && err.message.includes(missing),
    );
  });
});
