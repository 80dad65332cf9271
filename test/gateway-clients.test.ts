/**
 * Real hub clients through the gateway, with faults: Hugging Face's JS client (@huggingface/hub)
 * always; Python's huggingface_hub and transformers when the machine has a local Python wheel index
 * to install them from (test/support/pythonClients.ts), skipped with the reason otherwise. The fake
 * hub serves wrong bytes, cuts a download, and offers a malicious checkpoint: clients get the true
 * file or an error that says why, never a wrong byte.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { downloadFile, downloadFileToCacheDir, HubApiError } from "@huggingface/hub";
import { startGateway, type Gateway } from "../src/gateway/server.js";
import { defaultPolicy } from "../src/policy/index.js";
import { FakeHub, sha256 } from "./support/fakeHub.js";
import { pythonClients } from "./support/pythonClients.js";

const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));
const safeWeights = readFileSync(join(EXAMPLES, "safe_weights.safetensors"));
const maliciousCheckpoint = readFileSync(join(EXAMPLES, "malicious_model.bin"));
const CONFIG = '{"model_type": "bert", "hidden_size": 32, "num_attention_heads": 2, "num_hidden_layers": 1, "intermediate_size": 37}\n';

let hub: FakeHub;
let gateway: Gateway;
const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "modelgate-gateway-clients-"));
  dirs.push(d);
  return d;
}

before(async () => {
  hub = await FakeHub.start();
  hub.add("org/clients", "model.safetensors", safeWeights);
  hub.add("org/clients", "pytorch_model.bin", maliciousCheckpoint);
  hub.add("org/clients", "config.json", new TextEncoder().encode(CONFIG), false);
  gateway = await startGateway({ upstream: new URL(hub.hubUrl), host: "127.0.0.1", port: 0, storeDir: join(await tempDir(), "store"), policy: defaultPolicy() });
});

after(async () => {
  await gateway.close();
  await hub.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function hubError(p: Promise<unknown>): Promise<HubApiError> {
  const err = await p.then(
    () => assert.fail("the download succeeded"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof HubApiError, String(err));
  return err;
}

describe("gateway with @huggingface/hub, under faults", () => {
  it("wrong bytes from storage: an error naming the mismatch, then the true file into the client's cache", async () => {
    const content = randomBytes(120_000);
    hub.add("org/clients", "cdn.bin", content);
    hub.faults.set(sha256(content), { replace: randomBytes(content.length) });
    const err = await hubError(downloadFile({ repo: "org/clients", path: "cdn.bin", hubUrl: gateway.url }));
    assert.equal(err.statusCode, 502);
    assert.match(err.message, /the upstream sent the wrong content/);
    hub.faults.delete(sha256(content));
    const cacheDir = await tempDir();
    const path = await downloadFileToCacheDir({ repo: "org/clients", path: "cdn.bin", hubUrl: gateway.url, cacheDir });
    assert.ok((await readFile(path)).equals(content));
  });

  it("a download cut by the upstream: 502 with the byte counts, then the whole file", async () => {
    const content = randomBytes(300_000);
    hub.add("org/clients", "cut.bin", content);
    hub.faults.set(sha256(content), { cutAfter: 100_000 });
    const err = await hubError(downloadFile({ repo: "org/clients", path: "cut.bin", hubUrl: gateway.url }));
    assert.equal(err.statusCode, 502);
    assert.match(err.message, /closed the download after \d+ of 300000 bytes/);
    hub.faults.delete(sha256(content));
    const blob = await downloadFile({ repo: "org/clients", path: "cut.bin", hubUrl: gateway.url });
    assert.ok(Buffer.from(await blob!.arrayBuffer()).equals(content));
  });

  it("a blocked checkpoint: 403 with the rule and reason, on every try", async () => {
    for (let i = 0; i < 2; i++) {
      const err = await hubError(downloadFile({ repo: "org/clients", path: "pytorch_model.bin", hubUrl: gateway.url }));
      assert.equal(err.statusCode, 403);
      assert.match(err.message, /modelgate blocked org\/clients\/pytorch_model\.bin: MG100 \(critical\)/);
    }
  });
});

describe("gateway with Python's huggingface_hub and transformers", () => {
  it("downloads, resolves a config, and shows the block reason (needs the local Python wheel index)", async (t) => {
    const clients = await pythonClients();
    if ("skip" in clients) {
      process.stdout.write(`# skipped the Python clients: ${clients.skip}\n`);
      return t.skip(clients.skip);
    }
    // Asked once before, so the HEAD of the blocked file already knows the verdict.
    await fetch(`${gateway.url}/org/clients/resolve/main/pytorch_model.bin`).then((r) => r.arrayBuffer());
    const script = `
import hashlib, json, sys
from huggingface_hub import hf_hub_download
from transformers import AutoConfig
out = {}
path = hf_hub_download("org/clients", "model.safetensors")
out["safetensors_sha256"] = hashlib.sha256(open(path, "rb").read()).hexdigest()
out["model_type"] = AutoConfig.from_pretrained("org/clients").model_type
try:
    hf_hub_download("org/clients", "pytorch_model.bin")
    out["blocked"] = "downloaded"
except Exception as e:
    out["blocked"] = type(e).__name__ + ": " + str(e)
print(json.dumps(out))
`;
    const home = await tempDir();
    const { stdout } = await promisify(execFile)(clients.python, ["-c", script], {
      env: { ...process.env, HF_ENDPOINT: gateway.url, HF_HOME: home, HF_HUB_DISABLE_TELEMETRY: "1", HF_HUB_DISABLE_XET: "1", HF_HUB_ETAG_TIMEOUT: "30", TRANSFORMERS_VERBOSITY: "error" },
      maxBuffer: 16 << 20,
    });
    const out = JSON.parse(stdout.trim().split("\n").at(-1)!) as { safetensors_sha256: string; model_type: string; blocked: string };
    assert.equal(out.safetensors_sha256, sha256(safeWeights));
    assert.equal(out.model_type, "bert");
    assert.match(out.blocked, /403/);
    assert.match(out.blocked, /modelgate blocked org\/clients\/pytorch_model\.bin: MG100 \(critical\)/);
  });
});
