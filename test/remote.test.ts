/** URLs scanned through HTTP Range requests against loopback servers: verdicts, and the bytes that travelled. */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { safetensors, stateDict, writeTorchZip } from "../bench/writers.js";
import { ExitCode, exitCodeFor } from "../src/cli/exitCode.js";
import { scanPaths } from "../src/engine.js";
import { HTTP_LIMITS, HttpSource } from "../src/sources/http.js";
import { fileServer, type FileServer } from "./support/http.js";

const ROOT = join(import.meta.dirname, "..", "..");
const fixture = (path: string): Promise<Buffer> => readFile(join(ROOT, path));
/** Fast retries, so the failure tests do not wait out production backoff. */
const QUICK = { retryDelayMs: 5 };

let dir: string;
let checkpoint: Buffer;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "modelgate-remote-"));
  // 10 float32 matrices of 512 × 1024: a 21 MB PyTorch zip checkpoint whose pickle is a few kilobytes.
  await writeTorchZip(join(dir, "big.pt"), stateDict(10, 512, 1024, false));
  checkpoint = await readFile(join(dir, "big.pt"));
});
after(() => rm(dir, { recursive: true, force: true }));


describe("scanning URLs with range reads", () => {
  let server: FileServer;
  before(async () => {
    server = await fileServer({
      "/big.pt": checkpoint,
      "/malicious_model.bin": await fixture("examples/malicious_model.bin"),
      "/reverse_shell.pkl": await fixture("examples/reverse_shell.pkl"),
      "/model.safetensors": safetensors(16 * 1024 * 1024),
    });
  });
  after(() => server.close());

  test("a 21 MB PyTorch zip checkpoint passes with under 5% of it transferred", async () => {
    server.bytesSent = 0;
    const report = await scanPaths([`${server.origin}/big.pt`]);
    const file = report.files[0]!;
    assert.equal(report.verdict, "pass", JSON.stringify(file.findings));
    assert.equal(file.format, "pytorch-zip");
    assert.equal(file.size, checkpoint.length);
    assert.ok(server.bytesSent < 0.05 * checkpoint.length, `${server.bytesSent} of ${checkpoint.length} bytes sent`);
    assert.equal(file.bytesRead, server.bytesSent, "the report counts the bytes that travelled");
    assert.equal(report.summary.bytesRead, server.bytesSent);
    assert.deepEqual(file.source, { kind: "url", url: `${server.origin}/big.pt`, etag: file.source?.etag, rangeRequests: true });
  });

  test("a checkpoint with a spliced payload and a bare pickle block on the call they make", async () => {
    const report = await scanPaths([`${server.origin}/malicious_model.bin`, `${server.origin}/reverse_shell.pkl`]);
    assert.equal(report.verdict, "block");
    for (const file of report.files) assert.ok(file.findings.some((f) => f.rule === "MG100" && f.severity === "critical"), file.path);
    assert.equal(exitCodeFor(report), ExitCode.Blocked);
  });

  test("a safetensors file is judged by its header and its tail: the 16 MB of tensor data stay on the server", async () => {
    server.bytesSent = 0;
    const report = await scanPaths([`${server.origin}/model.safetensors`]);
    assert.equal(report.files[0]!.format, "safetensors");
    assert.equal(report.verdict, "pass");
    // The head, and the tail a zip reader searches for an end record (tensor bytes may be an archive torch.load takes).
    const endRecordSearch = 22 + 0xffff;
    assert.ok(server.bytesSent <= 2 * HTTP_LIMITS.blockBytes + endRecordSearch, `${server.bytesSent} bytes sent`);
  });

  test("sequential small reads are coalesced into few, growing requests", async () => {
    server.requests.length = 0;
    const source = await HttpSource.open(`${server.origin}/big.pt`, "big.pt");
    for (let at = 0; at < 1024 * 1024; at += 4096) await source.read(at, 4096);
    // 256 reads of 4 KiB: read-ahead doubles from one 16 KiB block up to 1 MiB per request.
    assert.ok(server.requests.length <= 8, `${server.requests.length} requests`);
    assert.ok(source.bytesRead < 3 * 1024 * 1024);
  });

  test("reads are served from the cache when revisited, and match the file byte for byte", async () => {
    const source = await HttpSource.open(`${server.origin}/big.pt`, "big.pt");
    const spans: [number, number][] = [[0, 100], [checkpoint.length - 5000, 5000], [123_456, 70_000], [10, 40_000], [checkpoint.length - 1, 10]];
    for (const [offset, length] of spans) {
      assert.deepEqual(Buffer.from(await source.read(offset, length)), checkpoint.subarray(offset, offset + length));
    }
    server.requests.length = 0;
    await source.read(0, 100);
    await source.read(checkpoint.length - 5000, 5000);
    assert.equal(server.requests.length, 0);
  });

  test("the token goes to the URL's host, never to the host a redirect leads to", async () => {
    const target = await fileServer({ "/m.pkl": await fixture("examples/reverse_shell.pkl") });
    const redirector = createServer((_req, res) => res.writeHead(302, { location: `${target.origin}/m.pkl` }).end());
    await new Promise<void>((resolve) => redirector.listen(0, "127.0.0.1", resolve));
    const seen: (string | undefined)[] = [];
    redirector.on("request", (req) => seen.push(req.headers.authorization));
    try {
      const port = (redirector.address() as AddressInfo).port;
      const report = await scanPaths([`http://127.0.0.1:${port}/m.pkl`], { remote: { token: "secret-token" } });
      assert.equal(report.verdict, "block");
      assert.ok(seen.length > 0 && seen.every((a) => a === "Bearer secret-token"));
      assert.ok(target.requests.length > 0 && target.requests.every((r) => r.authorization === undefined));
    } finally {
      redirector.closeAllConnections();
      redirector.close();
      await target.close();
    }
  });
});

describe("servers that misbehave", () => {
  test("a server that ignores Range: the file is downloaded whole (bounded), scanned, and the report says so", async () => {
    const server = await fileServer({ "/big.pt": checkpoint, "/m.bin": await fixture("examples/malicious_model.bin") }, { ignoreRange: true });
    try {
      const report = await scanPaths([`${server.origin}/big.pt`, `${server.origin}/m.bin`]);
      const [big, small] = report.files;
      assert.equal(big!.verdict, "pass");
      assert.equal(big!.format, "pytorch-zip");
      assert.equal(big!.source?.rangeRequests, false);
      assert.equal(big!.bytesRead, checkpoint.length);
      assert.ok(small!.findings.some((f) => f.rule === "MG100"));
      assert.equal(server.bytesSent, checkpoint.length + small!.size, "each downloaded once, then served from memory");
    } finally {
      await server.close();
    }
  });

  test("a file over the whole-download bound on a server without Range is an error, not a memory spike", async () => {
    const declared = HTTP_LIMITS.maxWholeDownload + 1;
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-length": String(declared) });
      res.write(Buffer.alloc(64 * 1024));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const report = await scanPaths([`http://127.0.0.1:${(server.address() as AddressInfo).port}/huge.pt`]);
      const file = report.files[0]!;
      assert.match(file.error ?? "", /ignores range requests.*over the \d+-byte bound/);
      assert.equal(file.verdict, "block");
      assert.equal(exitCodeFor(report), ExitCode.ScanFailed);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  test("a server that fails twice with 503 is retried and the file scanned", async () => {
    const server = await fileServer({ "/m.pkl": await fixture("examples/reverse_shell.pkl") }, { failFirst: 2 });
    try {
      const report = await scanPaths([`${server.origin}/m.pkl`], { remote: QUICK });
      assert.equal(report.files[0]!.error, undefined);
      assert.equal(report.verdict, "block");
      assert.ok(report.files[0]!.findings.some((f) => f.rule === "MG100"));
      assert.ok(server.requests.length >= 3);
    } finally {
      await server.close();
    }
  });

  test("a server that never answers times out: the file is an error and the exit code 2", async () => {
    const server = await fileServer({}, { hang: true });
    try {
      const report = await scanPaths([`${server.origin}/model.pt`], { remote: { ...QUICK, timeoutMs: 150, retries: 1 } });
      const file = report.files[0]!;
      assert.match(file.error ?? "", /no complete answer .* within 150 ms/);
      assert.equal(server.requests.length, 2, "one attempt and one retry");
      assert.equal(report.summary.filesErrored, 1);
      assert.equal(exitCodeFor(report), ExitCode.ScanFailed);
    } finally {
      await server.close();
    }
  });

  test("a 404 is that file's error; the other files are still scanned", async () => {
    const server = await fileServer({ "/m.pkl": await fixture("examples/reverse_shell.pkl") });
    try {
      const report = await scanPaths([`${server.origin}/missing.pt`, `${server.origin}/m.pkl`]);
      assert.match(report.files[0]!.error ?? "", /HTTP 404/);
      assert.equal(report.files[1]!.verdict, "block");
      assert.equal(exitCodeFor(report), ExitCode.Blocked);
    } finally {
      await server.close();
    }
  });
});
