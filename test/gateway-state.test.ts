/**
 * What the gateway remembers and how several gateways share it: decisions kept in SQLite under the
 * store survive a restart; gateway processes sharing a store (with SQLite and lock files, or with a
 * real redis-server) fetch and scan each file once between them and never serve a wrong byte; a
 * process killed mid-download leaves nothing under a final name, and its lease is taken over.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { startGateway } from "../src/gateway/server.js";
import { defaultPolicy, loadPolicy, type AuditRecord } from "../src/policy/index.js";
import { COMMIT, sha256 } from "./support/fakeHub.js";
import { gatewayBed } from "./support/gatewayBed.js";
import { startRedis, type RedisServer } from "./support/redis.js";
import { startServe, type ServeProcess } from "./support/serveProcess.js";

const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));
const safeWeights = readFileSync(join(EXAMPLES, "safe_weights.safetensors"));
const maliciousCheckpoint = readFileSync(join(EXAMPLES, "malicious_model.bin"));

const bed = gatewayBed("modelgate-gateway-state-");
const tempDir = (): Promise<string> => bed.tempDir();

/** A GET's status and body, with the reason a refusal gives (X-Error-Message), for the assertion's message. */
async function fetchBytes(url: string): Promise<{ status: number; bytes: Buffer; reason: string }> {
  const res = await fetch(url);
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), reason: res.headers.get("x-error-message") ?? "" };
}

async function auditOf(storeDir: string): Promise<AuditRecord[]> {
  if (!existsSync(join(storeDir, "audit.jsonl"))) return [];
  return (await readFile(join(storeDir, "audit.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as AuditRecord);
}

describe("gateway state: a restart", () => {
  it("keeps decisions in SQLite under the store: no second fetch, no second scan, the same verdicts", async () => {
    bed.hub.add("org/restart", "model.safetensors", safeWeights);
    bed.hub.add("org/restart", "pytorch_model.bin", maliciousCheckpoint);
    const storeDir = join(await tempDir(), "store");
    const start = (): ReturnType<typeof startGateway> => startGateway({ upstream: new URL(bed.hub.hubUrl), host: "127.0.0.1", port: 0, storeDir, policy: defaultPolicy() });
    const first = await start();
    try {
      assert.equal((await fetchBytes(`${first.url}/org/restart/resolve/main/model.safetensors`)).status, 200);
      assert.equal((await fetchBytes(`${first.url}/org/restart/resolve/main/pytorch_model.bin`)).status, 403);
    } finally {
      await first.close();
    }
    assert.ok(existsSync(join(storeDir, "state.sqlite")));
    const second = await start();
    try {
      const safe = await fetchBytes(`${second.url}/org/restart/resolve/main/model.safetensors`);
      assert.equal(safe.status, 200);
      assert.ok(safe.bytes.equals(safeWeights));
      const blocked = await fetch(`${second.url}/org/restart/resolve/main/pytorch_model.bin`);
      assert.equal(blocked.status, 403);
      assert.match(blocked.headers.get("x-error-message") ?? "", /MG100/);
      assert.equal(second.metrics.passes + second.metrics.blocks, 0, "nothing was scanned again");
      assert.equal(second.metrics.upstreamFetches, 0);
    } finally {
      await second.close();
    }
    assert.equal(bed.hub.storageFetches.get(sha256(safeWeights)), 1);
    assert.equal(bed.hub.storageFetches.get(sha256(maliciousCheckpoint)), 1);
    assert.equal((await auditOf(storeDir)).filter((r) => r.target.includes("org/restart@")).length, 2);
  });

  it("decides again under another policy", async () => {
    bed.hub.add("org/repolicy", "model.safetensors", safeWeights);
    const dir = await tempDir();
    const storeDir = join(dir, "store");
    const policyFile = join(dir, "modelgate.yml");
    await writeFile(policyFile, "version: 1\nfail_on: high\n");
    for (const policy of [defaultPolicy(), await loadPolicy(policyFile)]) {
      const gw = await startGateway({ upstream: new URL(bed.hub.hubUrl), host: "127.0.0.1", port: 0, storeDir, policy });
      try {
        assert.equal((await fetchBytes(`${gw.url}/org/repolicy/resolve/main/model.safetensors`)).status, 200);
        assert.equal(gw.metrics.passes, 1, "scanned under this policy");
      } finally {
        await gw.close();
      }
    }
  });
});

/** `count` files of several sizes, half stored in LFS (fetched from storage), half small (from the hub). */
function addFiles(repo: string, count: number): { path: string; content: Buffer; lfs: boolean }[] {
  return Array.from({ length: count }, (_, i) => {
    const lfs = i % 2 === 0;
    const content = randomBytes(lfs ? 400_000 + i : 20_000 + i);
    const path = `part-${i}.bin`;
    bed.hub.add(repo, path, content, lfs);
    return { path, content, lfs };
  });
}

/** Every gateway asks for every file `rounds` times, all at once; checks every byte; answers how often each file was fetched upstream. */
async function hammer(gateways: string[], repo: string, files: { path: string; content: Buffer; lfs: boolean }[], rounds: number): Promise<number[]> {
  const jobs = gateways.flatMap((url) => files.flatMap((f) => Array.from({ length: rounds }, () => ({ url, f }))));
  const got = await Promise.all(jobs.map(({ url, f }) => fetchBytes(`${url}/${repo}/resolve/main/${f.path}`)));
  got.forEach((r, i) => {
    assert.equal(r.status, 200, `${jobs[i]!.url} ${jobs[i]!.f.path}: ${r.reason}`);
    assert.ok(r.bytes.equals(jobs[i]!.f.content), `wrong bytes from ${jobs[i]!.url} for ${jobs[i]!.f.path}`);
  });
  return files.map((f) =>
    f.lfs ? (bed.hub.storageFetches.get(sha256(f.content)) ?? 0) : bed.hub.hubRequests.filter((r) => r.method === "GET" && r.url === `/${repo}/resolve/main/${f.path}`).length,
  );
}

describe("gateway state: several processes", () => {
  let redis: RedisServer;
  const processes: ServeProcess[] = [];

  before(async () => {
    redis = await startRedis();
  });

  after(async () => {
    for (const p of processes) await p.stop();
    await redis.stop();
  });

  it("two processes sharing a store and Redis fetch and scan each file once between them, every byte right", async () => {
    const files = addFiles("org/redis", 6);
    const storeDir = join(await tempDir(), "store");
    const a = await startServe(["--upstream", bed.hub.hubUrl, "--store", storeDir, "--state", redis.url]);
    processes.push(a);
    const b = await startServe(["--upstream", bed.hub.hubUrl, "--store", storeDir, "--state", redis.url]);
    processes.push(b);
    assert.deepEqual(await hammer([a.url, b.url], "org/redis", files, 3), files.map(() => 1));
    const audit = await auditOf(storeDir);
    for (const f of files) assert.equal(audit.filter((r) => r.target.endsWith(`org/redis@${COMMIT}/${f.path}`)).length, 1, `${f.path} scanned once`);
    // A third process with a store of its own: the decisions are shared, so it fetches but does not scan.
    const ownStore = join(await tempDir(), "store");
    const c = await startServe(["--upstream", bed.hub.hubUrl, "--store", ownStore, "--state", redis.url]);
    processes.push(c);
    const got = await fetchBytes(`${c.url}/org/redis/resolve/main/${files[0]!.path}`);
    assert.ok(got.bytes.equals(files[0]!.content));
    assert.deepEqual(await auditOf(ownStore), [], "the shared decision was used");
    assert.match(c.stderr(), /state redis 127\.0\.0\.1:\d+/);
  });

  it("two processes sharing a store with SQLite and lock files fetch and scan each file once between them", async () => {
    const files = addFiles("org/shared", 6);
    const storeDir = join(await tempDir(), "store");
    const a = await startServe(["--upstream", bed.hub.hubUrl, "--store", storeDir]);
    processes.push(a);
    const b = await startServe(["--upstream", bed.hub.hubUrl, "--store", storeDir]);
    processes.push(b);
    assert.deepEqual(await hammer([a.url, b.url], "org/shared", files, 3), files.map(() => 1));
    assert.equal((await auditOf(storeDir)).filter((r) => r.target.includes("org/shared@")).length, files.length);
  });

  it("takes over the lease of a process killed mid-download; nothing partial gets a final name", async () => {
    const content = randomBytes(500_000);
    const sha = sha256(content);
    bed.hub.add("org/killed", "weights.bin", content);
    bed.hub.faults.set(sha, { stallAfter: 200_000 });
    const storeDir = join(await tempDir(), "store");
    const victim = await startServe(["--upstream", bed.hub.hubUrl, "--store", storeDir]);
    const pending = fetch(`${victim.url}/org/killed/resolve/main/weights.bin`).then(
      (r) => r.arrayBuffer(),
      () => undefined,
    );
    while (!bed.hub.storageFetches.has(sha)) await new Promise((resolve) => setTimeout(resolve, 10));
    // Killed while it holds the lease with part of the file written.
    while ((await readdir(join(storeDir, "tmp"))).length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    victim.child.kill("SIGKILL");
    await victim.stop();
    await pending;
    assert.deepEqual((await readdir(join(storeDir, "blobs"), { recursive: true })).filter((p) => p.endsWith(sha)), []);
    bed.hub.faults.delete(sha);
    const survivor = await startGateway({ upstream: new URL(bed.hub.hubUrl), host: "127.0.0.1", port: 0, storeDir, policy: defaultPolicy(), leaseTiming: { staleMs: 300, pollMs: 10 } });
    try {
      const got = await fetchBytes(`${survivor.url}/org/killed/resolve/main/weights.bin`);
      assert.equal(got.status, 200);
      assert.ok(got.bytes.equals(content));
    } finally {
      await survivor.close();
    }
    assert.equal(bed.hub.storageFetches.get(sha), 2);
  });

  it("waits while another process holds a file's Redis lease, and takes the file once that lease expires", async () => {
    const content = randomBytes(50_000);
    const sha = sha256(content);
    bed.hub.add("org/redislease", "weights.bin", content);
    const client = new Redis(redis.url);
    const lease = `modelgate:gateway:lease:${sha}`;
    // A process that took the lease and died: nobody extends it.
    await client.set(lease, "a-killed-process");
    const gw = await startGateway({ upstream: new URL(bed.hub.hubUrl), host: "127.0.0.1", port: 0, storeDir: join(await tempDir(), "store"), policy: defaultPolicy(), state: redis.url, leaseTiming: { staleMs: 5000, pollMs: 10 } });
    try {
      const pending = fetchBytes(`${gw.url}/org/redislease/resolve/main/weights.bin`);
      while (!bed.hub.hubRequests.some((r) => r.url === "/org/redislease/resolve/main/weights.bin")) await new Promise((resolve) => setTimeout(resolve, 10));
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(bed.hub.storageFetches.get(sha), undefined, "nothing fetched while the lease is held");
      await client.pexpire(lease, 50);
      const got = await pending;
      assert.equal(got.status, 200);
      assert.ok(got.bytes.equals(content));
      assert.equal(await client.exists(lease), 0, "the gateway released its own lease");
      assert.equal(bed.hub.storageFetches.get(sha), 1);
    } finally {
      await gw.close();
      client.disconnect();
    }
  });

  it("refuses to start when Redis cannot be reached, saying so", async () => {
    const dead = await startRedis();
    const url = dead.url;
    await dead.stop();
    await assert.rejects(
      startGateway({ upstream: new URL(bed.hub.hubUrl), host: "127.0.0.1", port: 0, storeDir: join(await tempDir(), "store"), policy: defaultPolicy(), state: url }),
      /cannot open the state \(--state redis:\/\/127\.0\.0\.1:\d+\): cannot use the Redis state at 127\.0\.0\.1:\d+/,
    );
  });
});
