/**
 * The gateway as hub clients meet it: Hugging Face's own JS client (@huggingface/hub) pointed at
 * `modelgate serve`, in front of a fake hub on loopback that redirects large files to a storage host
 * on another origin. Checks byte-identical delivery, refusals with reasons, the hub's headers, Range,
 * redirects, single-flight downloads, path handling, credentials, the page (in Chromium), metrics
 * and shutdown.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { downloadFile, downloadFileToCacheDir, fileDownloadInfo, HubApiError, pathsInfo } from "@huggingface/hub";
import { chromium } from "playwright-core";
import { startGateway, type Gateway } from "../src/gateway/server.js";
import { defaultPolicy, listQuarantine, loadPolicy, type AuditRecord } from "../src/policy/index.js";
import { COMMIT, FakeHub, sha256 } from "./support/fakeHub.js";
import { MAIN } from "./support/cli.js";

const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));
const GATEWAY_TOKEN = "hf_gateway_secret_token";
const CLIENT_TOKEN = "hf_client_token";

const safeWeights = readFileSync(join(EXAMPLES, "safe_weights.safetensors"));
const maliciousCheckpoint = readFileSync(join(EXAMPLES, "malicious_model.bin"));
const reverseShell = readFileSync(join(EXAMPLES, "reverse_shell.pkl"));

let hub: FakeHub;
let gateway: Gateway;
let storeDir: string;

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "modelgate-gateway-"));
}

before(async () => {
  hub = await FakeHub.start();
  hub.add("org/model", "model.safetensors", safeWeights);
  hub.add("org/model", "pytorch_model.bin", maliciousCheckpoint);
  hub.add("org/model", "config.json", new TextEncoder().encode('{"model_type": "bert"}\n'), false);
  hub.add("org/model", "evil<b>.pkl", reverseShell, false);
  hub.renamed.set("old-org/model", "org/model");
  storeDir = await tempDir();
  gateway = await startGateway({ upstream: new URL(hub.hubUrl), host: "127.0.0.1", port: 0, storeDir, policy: defaultPolicy(), token: GATEWAY_TOKEN });
});

after(async () => {
  await gateway.close();
  await hub.close();
  await rm(storeDir, { recursive: true, force: true });
});

/** A raw request, so the target reaches the gateway exactly as written (fetch would normalise "..").  */
function rawRequest(method: string, target: string, url = gateway.url): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const req = request({ host: hostname, port, method, path: target }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function blobBytes(repo: string, path: string, hubUrl = gateway.url): Promise<Buffer> {
  const blob = await downloadFile({ repo, path, hubUrl, accessToken: CLIENT_TOKEN });
  assert.ok(blob, `${path} exists`);
  return Buffer.from(await blob.arrayBuffer());
}

describe("gateway: hub clients download through it", () => {
  it("serves an allowed file byte-identical, with the hub's etag and size, fetched once from storage", async () => {
    const info = await fileDownloadInfo({ repo: "org/model", path: "model.safetensors", hubUrl: gateway.url });
    assert.ok(info);
    assert.equal(info.size, safeWeights.length);
    assert.equal(info.etag, `"${sha256(safeWeights)}"`);
    assert.ok(info.url.startsWith(gateway.url), "the client is sent to the gateway, not to the storage host");
    assert.deepEqual(await blobBytes("org/model", "model.safetensors"), safeWeights);
    assert.deepEqual(await blobBytes("org/model", "model.safetensors"), safeWeights);
    assert.equal(hub.storageFetches.get(sha256(safeWeights)), 1);
  });

  it("refuses a blocked file with the rule and reason, quarantines it and writes the audit log", async () => {
    const err = await downloadFile({ repo: "org/model", path: "pytorch_model.bin", hubUrl: gateway.url }).then(
      () => assert.fail("a malicious checkpoint was served"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof HubApiError);
    assert.equal(err.statusCode, 403);
    assert.match(err.message, /modelgate blocked org\/model\/pytorch_model\.bin: MG100 \(critical\)/);
    const sha = sha256(maliciousCheckpoint);
    const [entry] = (await listQuarantine(join(storeDir, "quarantine"))).filter((e) => e.sha256 === sha);
    assert.ok(entry?.present, "the blob was moved to the quarantine");
    assert.ok(entry.findings.some((f) => f.rule === "MG100"));
    assert.deepEqual(await readFile(join(storeDir, "quarantine", `${entry.id}.quarantined`)), maliciousCheckpoint);
    const audit = (await readFile(join(storeDir, "audit.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as AuditRecord);
    const record = audit.find((e) => e.target.endsWith("/pytorch_model.bin"));
    assert.equal(record?.target, `hf://org/model@${COMMIT}/pytorch_model.bin`);
    assert.equal(record.verdict, "block");
    assert.equal(record.rule, "fail_on");
    assert.equal(record.sha256, sha);
    assert.match(record.reason, /^MG100 \(critical\)/);
    assert.equal(record.quarantined, join(storeDir, "quarantine", `${entry.id}.quarantined`));
    // The next client gets the cached decision: no second fetch, no second scan.
    const again = await rawRequest("GET", "/org/model/resolve/main/pytorch_model.bin");
    assert.equal(again.status, 403);
    assert.equal(JSON.parse(again.body).findings[0].rule, "MG100");
    assert.equal(hub.storageFetches.get(sha), 1);
    assert.equal(audit.filter((e) => e.target.endsWith("/pytorch_model.bin")).length, 1);
  });

  it("caches through the client's own cache flow (paths-info, then the file)", async () => {
    const cacheDir = await tempDir();
    try {
      const pointer = await downloadFileToCacheDir({ repo: "org/model", path: "config.json", hubUrl: gateway.url, cacheDir });
      assert.equal(await readFile(pointer, "utf8"), '{"model_type": "bert"}\n');
      const infos = await pathsInfo({ repo: "org/model", paths: ["config.json"], hubUrl: gateway.url, accessToken: CLIENT_TOKEN });
      assert.ok(infos.some((i) => i.path === "config.json"));
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  });

  it("answers HEAD with the final file's size, etag and commit, without redirecting to storage", async () => {
    const content = randomBytes(3000);
    hub.add("org/model", "fresh.dat", content);
    const res = await fetch(`${gateway.url}/org/model/resolve/main/fresh.dat`, { method: "HEAD", redirect: "manual" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("location"), null);
    assert.equal(res.headers.get("etag"), `"${sha256(content)}"`);
    assert.equal(res.headers.get("x-linked-etag"), `"${sha256(content)}"`);
    assert.equal(res.headers.get("x-linked-size"), "3000");
    assert.equal(res.headers.get("content-length"), "3000");
    assert.equal(res.headers.get("x-repo-commit"), COMMIT);
    assert.deepEqual(await blobBytes("org/model", "fresh.dat"), content);
    assert.equal(hub.storageFetches.get(sha256(content)), 1, "the HEAD's prefetch and the GET shared one download");
    // A blocked file's HEAD carries the verdict in headers; its GET is the 403 (gateway-integrity.test.ts).
    const blocked = await fetch(`${gateway.url}/org/model/resolve/main/pytorch_model.bin`, { method: "HEAD" });
    assert.equal(blocked.headers.get("x-modelgate-verdict"), "block");
    assert.equal(blocked.headers.get("x-error-code"), "ModelgateBlocked");
  });

  it("serves ranges of a scanned file, and 416 past its end", async () => {
    const url = `${gateway.url}/org/model/resolve/main/model.safetensors`;
    const mid = await fetch(url, { headers: { range: "bytes=10-19" } });
    assert.equal(mid.status, 206);
    assert.equal(mid.headers.get("content-range"), `bytes 10-19/${safeWeights.length}`);
    assert.equal(mid.headers.get("accept-ranges"), "bytes");
    assert.deepEqual(Buffer.from(await mid.arrayBuffer()), safeWeights.subarray(10, 20));
    const tail = await fetch(url, { headers: { range: "bytes=-5" } });
    assert.deepEqual(Buffer.from(await tail.arrayBuffer()), safeWeights.subarray(safeWeights.length - 5));
    const past = await fetch(url, { headers: { range: `bytes=${safeWeights.length}-` } });
    assert.equal(past.status, 416);
    assert.equal(past.headers.get("content-range"), `bytes */${safeWeights.length}`);
    const stale = await fetch(url, { headers: { range: "bytes=0-3", "if-range": '"another-etag"' } });
    assert.equal(stale.status, 200, "If-Range with another etag gets the whole file");
    assert.equal(Buffer.from(await stale.arrayBuffer()).length, safeWeights.length);
  });

  it("follows the hub's redirects (renamed repository, storage host) and relays its 404s", async () => {
    assert.deepEqual(await blobBytes("old-org/model", "model.safetensors"), safeWeights);
    assert.deepEqual(await blobBytes("org/model", "config.json"), Buffer.from('{"model_type": "bert"}\n'));
    assert.equal(await fileDownloadInfo({ repo: "org/model", path: "missing.bin", hubUrl: gateway.url }), null);
  });

  it("sends its own token to the hub only: not to storage, not to clients; client tokens are not forwarded", async () => {
    const res = await fetch(`${gateway.url}/api/models/org/model`, { headers: { authorization: `Bearer ${CLIENT_TOKEN}` } });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { sha: string }).sha, COMMIT);
    assert.equal(res.headers.get("set-cookie"), null);
    assert.ok(hub.hubRequests.length > 0);
    for (const r of hub.hubRequests) assert.equal(r.authorization, `Bearer ${GATEWAY_TOKEN}`, r.url);
    for (const r of hub.storageRequests) assert.equal(r.authorization, undefined, r.url);
    for (const path of ["/", "/metrics", "/org/model/resolve/main/pytorch_model.bin", "/org/model/resolve/main/missing.bin"]) {
      const r = await rawRequest("GET", path);
      assert.ok(!JSON.stringify(r).includes(GATEWAY_TOKEN), path);
    }
  });

  it("serves 50 parallel downloads of the same and of different files, every byte right, one fetch per file", async () => {
    const same = randomBytes(1 << 20);
    hub.add("org/parallel", "same.dat", same);
    const different = Array.from({ length: 5 }, (_, i) => {
      const content = randomBytes(200_000 + i);
      hub.add("org/parallel", `part-${i}.dat`, content, i % 2 === 0);
      return content;
    });
    const jobs = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? { path: "same.dat", content: same } : { path: `part-${i % 5}.dat`, content: different[i % 5]! }));
    const got = await Promise.all(jobs.map((j) => blobBytes("org/parallel", j.path)));
    got.forEach((bytes, i) => assert.ok(bytes.equals(jobs[i]!.content), `download ${i} (${jobs[i]!.path})`));
    assert.equal(hub.storageFetches.get(sha256(same)), 1);
    for (const [i, content] of different.entries()) {
      if (i % 2 === 0) assert.equal(hub.storageFetches.get(sha256(content)), 1, `part-${i}`);
    }
    // Small files come from the hub itself: one GET each, besides the HEADs that ask for metadata.
    const hubGets = (i: number): number => hub.hubRequests.filter((r) => r.method === "GET" && r.url === `/org/parallel/resolve/main/part-${i}.dat`).length;
    assert.equal(hubGets(1), 1);
    assert.equal(hubGets(3), 1);
  });

  it("refuses traversal, encoded traversal, absolute paths and content APIs, and never forwards them", async () => {
    const before = hub.hubRequests.length;
    const attempts = [
      "/org/model/resolve/main/../../../etc/passwd",
      "/org/model/resolve/main/%2e%2e/%2e%2e/etc/passwd",
      "/org/model/resolve/main/..%2F..%2Fetc%2Fpasswd",
      "/org/model/resolve/main/sub%2F..%2F..%2Fpasswd",
      "/org/model/resolve/main/..%5c..%5cwindows",
      "/org/model/resolve/main//etc/passwd",
      "/org/model/resolve/main/C:%5Cwindows%5Cwin.ini",
      "/org/model/resolve/main/C:/win.ini",
      "/org/model/resolve/..%2f..%2fmain/model.safetensors",
      "/org/model/resolve/%2e%2e/model.safetensors",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/org/%2e%2e/resolve/main/x",
      "/api/models/../../etc/passwd",
      "/api/models/org/model/%2e%2e/%2e%2e/admin",
      "/api/resolve-cache/models/org/model/" + COMMIT + "/pytorch_model.bin",
      "/api/models/org/model/xet-read-token/main",
      "/org/model.git/info/refs",
      "/org/model/blob/main/model.safetensors",
      "/org/model/resolve/main/a%00b",
      "http://elsewhere.example/org/model/resolve/main/model.safetensors",
    ];
    for (const target of attempts) {
      const r = await rawRequest("GET", target);
      assert.ok([400, 403, 404].includes(r.status), `${target}: ${r.status}`);
    }
    assert.equal((await rawRequest("DELETE", "/api/models/org/model")).status, 405);
    assert.equal((await rawRequest("POST", "/org/model/resolve/main/model.safetensors")).status, 405);
    assert.equal(hub.hubRequests.length, before, "no refused request reached the hub");
    const stored = await readdir(join(storeDir, "blobs"), { recursive: true });
    for (const p of stored) assert.match(p, /^[0-9a-f]{2}(\/[0-9a-f]{64})?$/, "the store holds content-addressed blobs only");
  });

  it("reports requests, decisions, bytes and scan times in the Prometheus format, and health", async () => {
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    assert.match(text, /^modelgate_gateway_requests_total\{kind="file",status="200"\} [1-9]\d*$/m);
    assert.match(text, /^modelgate_gateway_requests_total\{kind="file",status="403"\} [1-9]\d*$/m);
    assert.match(text, /^modelgate_gateway_decisions_total\{verdict="block"\} [1-9]\d*$/m);
    assert.match(text, /^modelgate_gateway_bytes_fetched_total [1-9]\d*$/m);
    assert.match(text, /^modelgate_gateway_bytes_served_total [1-9]\d*$/m);
    assert.match(text, /^modelgate_gateway_scan_seconds_count [1-9]\d*$/m);
    assert.match(text, /^# TYPE modelgate_gateway_scan_seconds histogram$/m);
    const health = await fetch(`${gateway.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: "ok" });
  });

  it("renders the page in Chromium: quarantined files with their rule ids, names escaped", async () => {
    assert.equal((await rawRequest("GET", "/org/model/resolve/main/evil%3Cb%3E.pkl")).status, 403);
    const browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    try {
      const page = await browser.newPage();
      const response = await page.goto(gateway.url);
      assert.equal(response?.status(), 200);
      assert.equal(await page.title(), "modelgate gateway");
      const quarantine = await page.locator("#quarantine + table").innerText();
      assert.match(quarantine, /org\/model\/pytorch_model\.bin/);
      assert.match(quarantine, /MG100/);
      assert.match(quarantine, /org\/model\/evil<b>\.pkl/, "a hostile file name is shown as text");
      assert.equal(await page.locator("td b").count(), 0, "and not as markup");
      const recent = await page.locator("#recent + table").innerText();
      assert.match(recent, /org\/model\/model\.safetensors/);
      assert.match(recent, /pass/);
      assert.match(await page.locator("#policy + table").innerText(), /medium or worse/);
    } finally {
      await browser.close();
    }
  });
});

describe("gateway: trusted sources", () => {
  it("refuses repositories outside the policy's trusted sources before asking the hub", async () => {
    const dir = await tempDir();
    const policyFile = join(dir, "modelgate.yml");
    await writeFile(policyFile, "version: 1\nsources:\n  trusted:\n    - hf://org\n");
    const trusted = await startGateway({ upstream: new URL(hub.hubUrl), host: "127.0.0.1", port: 0, storeDir: join(dir, "store"), policy: await loadPolicy(policyFile) });
    try {
      hub.add("stranger/model", "model.safetensors", safeWeights);
      const before = hub.hubRequests.length;
      const file = await rawRequest("GET", "/stranger/model/resolve/main/model.safetensors", trusted.url);
      assert.equal(file.status, 403);
      assert.match(JSON.parse(file.body).error, /stranger\/model is not one of the gateway's trusted sources/);
      assert.equal((await rawRequest("GET", "/api/models/stranger/model", trusted.url)).status, 403);
      assert.equal(hub.hubRequests.length, before);
      assert.deepEqual(await blobBytes("org/model", "model.safetensors", trusted.url), safeWeights);
      const audit = await readFile(join(dir, "store", "audit.jsonl"), "utf8");
      const refused = JSON.parse(audit.trim().split("\n")[0]!) as AuditRecord;
      assert.equal(refused.target, "hf://stranger/model@main/model.safetensors");
      assert.equal(refused.rule, "sources.untrusted");
      assert.equal(refused.verdict, "block");
    } finally {
      await trusted.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("gateway: shutdown", () => {
  it("finishes a download in flight before it closes", async () => {
    const dir = await tempDir();
    const gw = await startGateway({ upstream: new URL(hub.hubUrl), host: "127.0.0.1", port: 0, storeDir: dir, policy: defaultPolicy() });
    try {
      const content = randomBytes(100_000);
      const sha = sha256(content);
      hub.add("org/model", "slow.dat", content);
      let release!: () => void;
      hub.holds.set(sha, new Promise((resolve) => (release = resolve)));
      // HEAD answers from metadata and starts the download, which the storage host now holds.
      assert.equal((await fetch(`${gw.url}/org/model/resolve/main/slow.dat`, { method: "HEAD" })).status, 200);
      while (!hub.storageFetches.has(sha)) await new Promise((resolve) => setImmediate(resolve));
      const closed = gw.close();
      release();
      await closed;
      assert.deepEqual(await readFile(join(dir, "blobs", sha.slice(0, 2), sha)), content);
      const record = JSON.parse(await readFile(join(dir, "audit.jsonl"), "utf8")) as AuditRecord;
      assert.equal(record.target, `hf://org/model@${COMMIT}/slow.dat`);
      assert.equal(record.sha256, sha);
      assert.equal(record.verdict, "pass");
      assert.deepEqual(await readdir(join(dir, "tmp")), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("modelgate serve (command line)", () => {
  it("listens, serves health, and exits 0 on SIGTERM", async () => {
    const dir = await tempDir();
    try {
      const child = spawn(process.execPath, [MAIN, "serve", "--upstream", hub.hubUrl, "--port", "0", "--store", join(dir, "store")], { env: { ...process.env, HF_TOKEN: GATEWAY_TOKEN } });
      let stderr = "";
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr.on("data", (c: Buffer) => {
          stderr += c.toString();
          const m = /listening on (http:\/\/\S+)/.exec(stderr);
          if (m) resolve(m[1]!);
        });
        child.once("exit", () => reject(new Error(`exited early: ${stderr}`)));
      });
      assert.equal((await fetch(`${url}/healthz`)).status, 200);
      const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      assert.equal(await exit, 0);
      assert.match(stderr, /SIGTERM: finishing requests and downloads in flight/);
      assert.ok(!stderr.includes(GATEWAY_TOKEN));
      assert.ok(existsSync(join(dir, "store", "blobs")));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("exits 4 on an upstream that is not an http(s) URL", async () => {
    const child = spawn(process.execPath, [MAIN, "serve", "--upstream", "ftp://hub.invalid", "--port", "0"]);
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    assert.equal(code, 4);
    assert.match(stderr, /--upstream must be an http or https URL/);
  });
});
