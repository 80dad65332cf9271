/**
 * The gateway keeps only true bytes and tells clients why: a full disk (through the store's
 * file-system seam, and on a real tmpfs when running as root), wrong bytes from storage, two files
 * under one ETag, a cut or stalled download, the announced size over the limit, a blocked file's
 * reason where hub clients read it, anonymous clients with --forward-authorization, and encoded
 * traversal in API paths. Each of these was a defect (issue 14); every test here failed before its fix.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { open, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { NODE_FS, type StoreFs } from "../src/gateway/store.js";
import { sha256 } from "./support/fakeHub.js";
import { fetchAll, gatewayBed } from "./support/gatewayBed.js";
import { MAIN } from "./support/cli.js";

const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));
const safeWeights = readFileSync(join(EXAMPLES, "safe_weights.safetensors"));
const maliciousCheckpoint = readFileSync(join(EXAMPLES, "malicious_model.bin"));
const GATEWAY_TOKEN = "hf_gateway_secret_token";

const bed = gatewayBed("modelgate-gateway-integrity-");
const tempDir = (): Promise<string> => bed.tempDir();

const withGateway = bed.withGateway;
const get = fetchAll;

/** Paths of every blob under its final name. */
async function blobs(storeDir: string): Promise<string[]> {
  return (await readdir(join(storeDir, "blobs"), { recursive: true })).filter((p) => /[0-9a-f]{64}$/.test(p));
}

/** A store file system that fails with ENOSPC once `budget.bytes` are written, with `budget.free` as the free space it reports. */
function fullDisk(budget: { bytes: number; free: number }): StoreFs {
  return {
    async create(path) {
      const file = await NODE_FS.create(path);
      return {
        async write(chunk, position) {
          if (budget.bytes <= 0) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
          const n = Math.min(chunk.length, budget.bytes);
          budget.bytes -= n;
          return file.write(chunk.subarray(0, n), position);
        },
        sync: () => file.sync(),
        close: () => file.close(),
      };
    },
    freeBytes: () => Promise.resolve(budget.free),
  };
}

describe("gateway integrity: a full disk", () => {
  it("fails the request with 507, keeps nothing under a final name, is unhealthy until space is back, then serves the true bytes", async () => {
    const content = randomBytes(300_000);
    bed.hub.add("org/disk", "weights.bin", content);
    const budget = { bytes: 100_000, free: 0 };
    await withGateway({ storeFs: fullDisk(budget) }, async (gw, storeDir) => {
      const first = await get(gw, "/org/disk/resolve/main/weights.bin");
      assert.equal(first.status, 507);
      assert.equal(first.headers.get("x-error-code"), "ModelgateStoreFull");
      assert.match(first.headers.get("x-error-message") ?? "", /out of space/);
      assert.deepEqual(await blobs(storeDir), []);
      assert.deepEqual(await readdir(join(storeDir, "tmp")), []);
      assert.equal((await get(gw, "/healthz")).status, 503);
      // Space freed: healthy again, and the download is whole.
      budget.bytes = Infinity;
      budget.free = 10 * content.length;
      assert.equal((await get(gw, "/healthz")).status, 200);
      const second = await get(gw, "/org/disk/resolve/main/weights.bin");
      assert.equal(second.status, 200);
      assert.ok(second.bytes.equals(content));
      assert.deepEqual(await blobs(storeDir), [join(sha256(content).slice(0, 2), sha256(content))]);
    });
  });

  it("continues after short writes and refuses a disk that silently loses bytes", async () => {
    const content = randomBytes(200_000);
    bed.hub.add("org/disk", "short.bin", content);
    const halves: StoreFs = {
      async create(path) {
        const file = await NODE_FS.create(path);
        return { write: (chunk, position) => file.write(chunk.subarray(0, Math.ceil(chunk.length / 2)), position), sync: () => file.sync(), close: () => file.close() };
      },
      freeBytes: () => Promise.resolve(1 << 30),
    };
    await withGateway({ storeFs: halves }, async (gw) => {
      const res = await get(gw, "/org/disk/resolve/main/short.bin");
      assert.equal(res.status, 200);
      assert.ok(res.bytes.equals(content), "short writes were continued");
    });
    const lossy: StoreFs = {
      async create(path) {
        const file = await NODE_FS.create(path);
        // Claims the whole chunk, writes half of it.
        return { write: async (chunk, position) => (await file.write(chunk.subarray(0, Math.ceil(chunk.length / 2)), position), chunk.length), sync: () => file.sync(), close: () => file.close() };
      },
      freeBytes: () => Promise.resolve(1 << 30),
    };
    bed.hub.add("org/disk", "lossy.bin", randomBytes(200_000));
    await withGateway({ storeFs: lossy }, async (gw, storeDir) => {
      const res = await get(gw, "/org/disk/resolve/main/lossy.bin");
      assert.equal(res.status, 500);
      assert.equal(res.headers.get("x-error-code"), "ModelgateStoreError");
      assert.match(res.headers.get("x-error-message") ?? "", /did not keep the 200000 bytes/);
      assert.deepEqual(await blobs(storeDir), []);
    });
  });

  it("on a real tmpfs (root only): 507 and unhealthy while full, whole file once space is freed", async (t) => {
    if (process.getuid?.() !== 0) return t.skip("not root: cannot mount a tmpfs (the seam test above covers the logic)");
    const mount = await tempDir();
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mount], { stdio: "ignore" });
    } catch (err) {
      return t.skip(`mount -t tmpfs failed: ${(err as Error).message}`);
    }
    try {
      const filler = join(mount, "filler");
      await writeFile(filler, Buffer.alloc(1536 * 1024));
      const content = randomBytes(1024 * 1024);
      bed.hub.add("org/disk", "tmpfs.bin", content);
      await withGateway({ storeDir: join(mount, "store") }, async (gw, storeDir) => {
        const full = await get(gw, "/org/disk/resolve/main/tmpfs.bin");
        assert.equal(full.status, 507);
        assert.equal((await get(gw, "/healthz")).status, 503);
        assert.deepEqual(await blobs(storeDir), []);
        await rm(filler);
        assert.equal((await get(gw, "/healthz")).status, 200);
        const whole = await get(gw, "/org/disk/resolve/main/tmpfs.bin");
        assert.equal(whole.status, 200);
        assert.ok(whole.bytes.equals(content));
      });
    } finally {
      // Lazily: under load a descriptor the stopped gateway closed can still be in the thread pool's
      // hands, and a plain umount then fails "target is busy" (seen with a second test run beside it).
      execFileSync("umount", ["--lazy", mount]);
    }
  });
});

describe("gateway integrity: wrong bytes", () => {
  it("refuses content that is not the hub's published sha256 (502), keeps none of it, and serves the true file once storage recovers", async () => {
    const content = randomBytes(100_000);
    const sha = sha256(content);
    bed.hub.add("org/cdn", "weights.bin", content);
    bed.hub.faults.set(sha, { replace: randomBytes(content.length) });
    await withGateway({}, async (gw, storeDir) => {
      const bad = await get(gw, "/org/cdn/resolve/main/weights.bin");
      assert.equal(bad.status, 502);
      assert.equal(bad.headers.get("x-error-code"), "ModelgateUpstreamIntegrity");
      assert.match(bad.headers.get("x-error-message") ?? "", new RegExp(`the hub published ${sha}`));
      assert.deepEqual(await blobs(storeDir), []);
      bed.hub.faults.delete(sha);
      const good = await get(gw, "/org/cdn/resolve/main/weights.bin");
      assert.equal(good.status, 200);
      assert.ok(good.bytes.equals(content));
      assert.equal(good.headers.get("x-modelgate-sha256"), sha);
    });
  });

  it("does not pin a clean file at 403 after storage sent it with a corrupted header", async () => {
    const sha = sha256(safeWeights);
    bed.hub.add("org/cdn", "model.safetensors", safeWeights);
    const corrupted = Buffer.from(safeWeights);
    corrupted.fill(0x7b, 8, 40); // the JSON header turned into garbage: the scanner would block it
    bed.hub.faults.set(sha, { replace: corrupted });
    await withGateway({}, async (gw) => {
      assert.equal((await get(gw, "/org/cdn/resolve/main/model.safetensors")).status, 502);
      bed.hub.faults.delete(sha);
      const res = await get(gw, "/org/cdn/resolve/main/model.safetensors");
      assert.equal(res.status, 200);
      assert.ok(res.bytes.equals(safeWeights));
    });
  });

  it("serves each file its own bytes when an upstream gives two files one ETag", async () => {
    const a = new TextEncoder().encode('{"model_type": "bert"}\n');
    const b = new TextEncoder().encode('{"model_type": "gpt2", "n_layer": 12}\n');
    const etag = '"0000000000000000000000000000000000000000"';
    bed.hub.add("org/one", "config.json", a, false, etag);
    bed.hub.add("org/two", "config.json", b, false, etag);
    bed.hub.add("org/one", "other.json", b, false, etag);
    await withGateway({}, async (gw) => {
      assert.deepEqual((await get(gw, "/org/one/resolve/main/config.json")).bytes, Buffer.from(a));
      assert.deepEqual((await get(gw, "/org/two/resolve/main/config.json")).bytes, Buffer.from(b));
      assert.deepEqual((await get(gw, "/org/one/resolve/main/other.json")).bytes, Buffer.from(b));
      assert.deepEqual((await get(gw, "/org/one/resolve/main/config.json")).bytes, Buffer.from(a));
    });
  });
});

describe("gateway integrity: errors clients can read", () => {
  it("answers a blocked file's HEAD from the hub's metadata with the verdict, and its GET with 403 and X-Error-Message", async () => {
    bed.hub.add("org/blocked", "pytorch_model.bin", maliciousCheckpoint);
    await withGateway({}, async (gw) => {
      const first = await get(gw, "/org/blocked/resolve/main/pytorch_model.bin");
      assert.equal(first.status, 403);
      assert.equal(first.headers.get("x-error-code"), "ModelgateBlocked");
      assert.match(first.headers.get("x-error-message") ?? "", /^modelgate blocked org\/blocked\/pytorch_model\.bin: MG100 \(critical\)/);
      const head = await get(gw, "/org/blocked/resolve/main/pytorch_model.bin", { method: "HEAD" });
      assert.equal(head.status, 200, "hub clients turn a failed HEAD into 'check your connection'; the GET carries the reason");
      assert.equal(head.headers.get("x-modelgate-verdict"), "block");
      assert.equal(head.headers.get("x-error-message"), first.headers.get("x-error-message"));
      assert.equal(head.headers.get("x-linked-etag"), `"${sha256(maliciousCheckpoint)}"`);
      assert.equal((await get(gw, "/org/blocked/resolve/main/pytorch_model.bin")).status, 403);
      assert.equal(bed.hub.storageFetches.get(sha256(maliciousCheckpoint)), 1);
    });
  });

  it("answers 502 with the reason when the upstream closes mid-body, and 504 naming the timeout when it stalls", async () => {
    const cut = randomBytes(300_000);
    const stall = randomBytes(300_000);
    bed.hub.add("org/faults", "cut.bin", cut);
    bed.hub.add("org/faults", "stall.bin", stall);
    bed.hub.faults.set(sha256(cut), { cutAfter: 65_536 });
    bed.hub.faults.set(sha256(stall), { stallAfter: 65_536 });
    // Long enough that a busy machine does not stall the healthy downloads; the stalled one waits it out once.
    await withGateway({ stallTimeoutMs: 2000 }, async (gw, storeDir) => {
      const closed = await get(gw, "/org/faults/resolve/main/cut.bin");
      assert.equal(closed.status, 502);
      assert.equal(closed.headers.get("x-error-code"), "ModelgateUpstreamError");
      assert.match(closed.headers.get("x-error-message") ?? "", /upstream: the upstream closed the download after \d+ of 300000 bytes/);
      const stalled = await get(gw, "/org/faults/resolve/main/stall.bin");
      assert.equal(stalled.status, 504);
      assert.match(stalled.headers.get("x-error-message") ?? "", /sent nothing for 2 s \(the gateway's stall timeout\)/);
      assert.deepEqual(await blobs(storeDir), []);
      bed.hub.faults.delete(sha256(cut));
      assert.ok((await get(gw, "/org/faults/resolve/main/cut.bin")).bytes.equals(cut));
    });
  });

  it("refuses a file whose announced size is over --max-file-size before fetching any of it", async () => {
    const big = randomBytes(50_000);
    bed.hub.add("org/big", "weights.bin", big);
    await withGateway({ maxFileBytes: 10_000 }, async (gw) => {
      const res = await get(gw, "/org/big/resolve/main/weights.bin");
      assert.equal(res.status, 403);
      assert.equal(res.headers.get("x-error-code"), "ModelgateFileTooLarge");
      assert.match(res.headers.get("x-error-message") ?? "", /announces 50000 bytes, over the gateway's limit of 10000 bytes/);
      assert.equal(bed.hub.storageFetches.get(sha256(big)), undefined, "nothing was fetched");
    });
  });

  it("says what is wrong at start-up and points to modelgate serve --help", async () => {
    const run = (args: string[]): Promise<{ code: number | null; stderr: string }> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [MAIN, "serve", ...args]);
        let stderr = "";
        child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
        child.once("exit", (code) => resolve({ code, stderr }));
      });
    const badState = await run(["--upstream", bed.hub.hubUrl, "--port", "0", "--store", join(await tempDir(), "s"), "--state", "postgres://x"]);
    assert.equal(badState.code, 4);
    assert.match(badState.stderr, /--state: expected sqlite, memory or a redis:\/\/ URL/);
    assert.match(badState.stderr, /modelgate serve --help/);
    assert.doesNotMatch(badState.stderr, /the scan failed|scan --help/);
    const file = join(await tempDir(), "not-a-dir");
    await writeFile(file, "");
    const badStore = await run(["--upstream", bed.hub.hubUrl, "--port", "0", "--store", file]);
    assert.equal(badStore.code, 4);
    assert.match(badStore.stderr, /cannot open the store at .*not-a-dir/);
    assert.match(badStore.stderr, /modelgate serve --help/);
    const missing = await run(["--port", "0"]);
    assert.equal(missing.code, 4);
    assert.match(missing.stderr, /--upstream/);
    assert.match(missing.stderr, /modelgate serve --help/);
  });
});

describe("gateway integrity: access", () => {
  it("with --forward-authorization, never uses its own token for a client: anonymous and wrong tokens get 401", async () => {
    const secret = randomBytes(5000);
    bed.hub.add("org/private", "weights.bin", secret);
    bed.hub.privateRepos.set("org/private", `Bearer ${GATEWAY_TOKEN}`);
    await withGateway({ token: GATEWAY_TOKEN, forwardAuthorization: true }, async (gw) => {
      const anonymous = await get(gw, "/org/private/resolve/main/weights.bin");
      assert.equal(anonymous.status, 401);
      const wrong = await get(gw, "/org/private/resolve/main/weights.bin", { headers: { authorization: "Bearer hf_wrong" } });
      assert.equal(wrong.status, 401);
      const right = await get(gw, "/org/private/resolve/main/weights.bin", { headers: { authorization: `Bearer ${GATEWAY_TOKEN}` } });
      assert.equal(right.status, 200);
      assert.ok(right.bytes.equals(secret));
      // Stored now; still not for anonymous clients, nor through the API.
      assert.equal((await get(gw, "/org/private/resolve/main/weights.bin")).status, 401);
      assert.equal((await get(gw, "/org/private/resolve/main/weights.bin", { method: "HEAD" })).status, 401);
    });
  });

  it("refuses encoded '..' and encoded slashes hiding traversal in API paths (400) before forwarding, and keeps encoded revisions", async () => {
    await withGateway({}, async (gw) => {
      const before = bed.hub.hubRequests.length;
      for (const target of ["/api/models/acme/clean/tree/main/..%2F..%2F..", "/api/models/org/model/tree/main/a%2F..%2Fb", "/api/models/org/model/tree/main%2F%2F", "/api/models/org/model/revision/.%2F.."]) {
        const res = await get(gw, target);
        assert.equal(res.status, 400, target);
      }
      assert.equal(bed.hub.hubRequests.length, before, "nothing was forwarded");
      const pr = await get(gw, "/api/models/org/model/revision/refs%2Fpr%2F1");
      assert.notEqual(pr.status, 400);
      assert.equal(bed.hub.hubRequests.at(-1)?.url, "/api/models/org/model/revision/refs%2Fpr%2F1");
    });
  });
});

describe("gateway integrity: a blob damaged in the store", () => {
  it("is hashed again before it is served after a change or a restart, dropped, and fetched again", async () => {
    const content = randomBytes(80_000);
    const sha = sha256(content);
    bed.hub.add("org/rot", "weights.bin", content);
    const storeDir = join(await tempDir(), "store");
    const path = join(storeDir, "blobs", sha.slice(0, 2), sha);
    const rot = async (): Promise<void> => {
      const handle = await open(path, "r+");
      await handle.write(Buffer.from("rot"), 0, 3, 1000);
      await handle.close();
    };
    await withGateway({ storeDir, state: "sqlite" }, async (gw) => {
      assert.equal((await get(gw, "/org/rot/resolve/main/weights.bin")).status, 200);
      await rot();
      const res = await get(gw, "/org/rot/resolve/main/weights.bin");
      assert.ok(res.bytes.equals(content), "the damaged blob was not served");
    });
    assert.equal(bed.hub.storageFetches.get(sha), 2);
    await rot();
    await withGateway({ storeDir, state: "sqlite" }, async (gw) => {
      const res = await get(gw, "/org/rot/resolve/main/weights.bin");
      assert.equal(res.status, 200);
      assert.ok(res.bytes.equals(content), "the damaged blob was not served after a restart");
    });
    assert.deepEqual(await readFile(path), content);
    assert.equal(bed.hub.storageFetches.get(sha), 3);
  });
});
