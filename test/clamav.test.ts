/**
 * --clamav against a real clamd (Debian clamav-daemon), started once for this file on a unix socket
 * in a temp folder, with a signature database the test writes: EICAR's test file by its MD5 (.hdb)
 * and a custom hex signature (.ndb). No freshclam, no network.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ClamdClient, ClamdError, parseClamdAddress } from "../src/clamav/client.js";
import { clamavCheckStored } from "../src/clamav/check.js";
import { clamavSettings, parseClamavSize } from "../src/clamav/settings.js";
import { scanFile, UsageError } from "../src/engine.js";
import { startGateway } from "../src/gateway/server.js";
import { defaultPolicy } from "../src/policy/policy.js";
import { FakeHub } from "./support/fakeHub.js";
import { RULES } from "../src/rules/catalogue.js";
import type { FileResult, ScanReport } from "../src/types.js";
import { assemble, OP, u32 } from "./support/pickle.js";
import { hubServer } from "./support/http.js";
import { plainZip } from "./support/zip.js";

const MAIN = join(import.meta.dirname, "..", "src", "cli", "main.js");
const CLAMD = "/usr/sbin/clamd";

/** EICAR's standard antivirus test file, assembled here so this source is not itself a detection. */
const EICAR = Buffer.from(["X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"].join(""));
/** The custom signature's bytes, as hex in the .ndb. */
const MARKER = Buffer.from("modelgate-clamav-custom-marker");
/** clamd's StreamMaxLength in this test: streams longer than this are refused by clamd itself. */
const CLAMD_STREAM_MAX = 64 * 1024;

let dir: string;
let socket: string;
let clamd: ChildProcess;

/** clamd's answer to VERSION, polled until it comes: how long clamd takes to load its database and listen. */
async function waitForClamd(address: string): Promise<number> {
  const started = performance.now();
  const client = new ClamdClient({ path: address }, { timeoutMs: 5000 });
  // Watchdog only (generous on a busy machine): clamd with two signatures normally answers within a second.
  for (let attempt = 0; attempt < 1200; attempt++) {
    if (clamd.exitCode !== null) throw new Error(`clamd exited with ${clamd.exitCode}`);
    try {
      await client.version();
      return performance.now() - started;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error("clamd did not answer within 120 s");
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "modelgate-clamav-"));
  socket = join(dir, "clamd.sock");
  await mkdir(join(dir, "db"));
  await writeFile(join(dir, "db", "eicar.hdb"), `${createHash("md5").update(EICAR).digest("hex")}:${EICAR.length}:Eicar-Test-Signature\n`);
  await writeFile(join(dir, "db", "custom.ndb"), `Modelgate.Test.Marker:0:*:${MARKER.toString("hex")}\n`);
  await writeFile(
    join(dir, "clamd.conf"),
    [
      `LocalSocket ${socket}`,
      `DatabaseDirectory ${join(dir, "db")}`,
      `TemporaryDirectory ${dir}`,
      `LogFile ${join(dir, "clamd.log")}`,
      "Foreground yes",
      `StreamMaxLength ${CLAMD_STREAM_MAX / 1024}K`,
      // Without it, clamd reports a file over its own scan limits as OK.
      "AlertExceedsMax yes",
      "",
    ].join("\n"),
  );
  clamd = spawn(CLAMD, ["-c", join(dir, "clamd.conf")], { stdio: "ignore" });
  const ms = await waitForClamd(socket);
  process.stderr.write(`# clamd answered ${Math.round(ms)} ms after it was started\n`);
});

after(async () => {
  try {
    if (clamd.exitCode === null && clamd.signalCode === null) {
      const exited = once(clamd, "exit");
      clamd.kill("SIGTERM");
      await exited;
    }
  } finally {
    // After clamd has exited: its socket, log and temporary files are in this folder.
    if (dir) await rm(dir, { recursive: true, force: true });
  }
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function modelgate(cwd: string, ...args: string[]): Promise<Run> {
  return modelgateWith({}, cwd, ...args);
}

/** Runs the CLI without blocking this process: the loopback hub and the silent clamd below answer from here. */
function modelgateWith(env: Record<string, string>, cwd: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd, env: { ...process.env, NO_COLOR: "1", ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

const benignPickle = (): Buffer => assemble(OP.PROTO, 2, OP.EMPTY_DICT, OP.STOP);

/** A pickle that is plain data to modelgate and carries `bytes` as a string constant (a harmless payload). */
const pickleHolding = (bytes: Buffer): Buffer => assemble(OP.PROTO, 3, OP.BINBYTES, u32(bytes.length), bytes, OP.STOP);

/** The marker inside a pickle: found by the custom .ndb signature wherever it sits (EICAR's .hdb matches whole files only). */
const markedPickle = (): Buffer => pickleHolding(Buffer.concat([Buffer.alloc(100), MARKER, Buffer.alloc(100)]));

async function workspace(files: Record<string, Uint8Array>): Promise<string> {
  const root = await mkdtemp(join(dir, "ws-"));
  await mkdir(join(root, "models"));
  for (const [name, data] of Object.entries(files)) await writeFile(join(root, "models", name), data);
  return root;
}

function byName(report: ScanReport): Record<string, FileResult> {
  return Object.fromEntries(report.files.map((f) => [f.path.split("/").pop()!, f]));
}

describe("--clamav with a real clamd", () => {
  it("names the signature clamd matched, in a pickle and in an archive member clamd unpacks, as critical MG170", async () => {
    const checkpoint = plainZip([
      { name: "archive/data.pkl", data: benignPickle() },
      { name: "archive/extra/notes.txt", data: EICAR, method: 8 },
    ]);
    const root = await workspace({
      "marker.pkl": markedPickle(),
      "checkpoint.pt": checkpoint,
      "clean.pkl": benignPickle(),
    });
    const r = await modelgate(root, "scan", "models", "--clamav", socket, "--format", "json");
    assert.equal(r.status, 1, r.stderr);
    const report = JSON.parse(r.stdout) as ScanReport;
    assert.match(report.clamav?.version ?? "", /^ClamAV \d/);
    assert.equal(report.clamav?.address, socket);
    const files = byName(report);
    const clamavFindings = (f: FileResult): string[] => f.findings.filter((x) => x.rule === "MG170").map((x) => `${x.severity} ${x.evidence}`);
    assert.deepEqual(clamavFindings(files["marker.pkl"]!), ["critical clamd: Modelgate.Test.Marker.UNOFFICIAL FOUND"]);
    assert.deepEqual(clamavFindings(files["checkpoint.pt"]!), ["critical clamd: Eicar-Test-Signature.UNOFFICIAL FOUND"]);
    assert.match(files["checkpoint.pt"]!.findings.find((x) => x.rule === "MG170")!.message, /ClamAV signature Eicar-Test-Signature\.UNOFFICIAL matches/);
    assert.deepEqual(clamavFindings(files["clean.pkl"]!), []);
    assert.equal(files["clean.pkl"]!.verdict, "pass");
    for (const name of ["marker.pkl", "checkpoint.pt"]) assert.equal(files[name]!.decision?.rule, "fail_on");
    // The same files without --clamav: modelgate's own analysis sees nothing to block.
    const without = await modelgate(root, "scan", "models", "--format", "json");
    assert.equal(without.status, 0, without.stdout);
    assert.equal((JSON.parse(without.stdout) as ScanReport).clamav, undefined);
  });

  it("a match in a file that is not a model format blocks it instead of skipping it", async () => {
    const root = await workspace({ "readme.txt": EICAR, "model.pkl": benignPickle() });
    const r = await modelgate(root, "scan", "models", "--clamav", socket, "--format", "json");
    assert.equal(r.status, 1, r.stderr);
    const report = JSON.parse(r.stdout) as ScanReport;
    const readme = byName(report)["readme.txt"]!;
    assert.equal(readme.skipped, undefined);
    assert.equal(readme.verdict, "block");
    assert.deepEqual([report.summary.filesScanned, report.summary.filesSkipped, report.summary.filesBlocked], [2, 0, 1]);
  });

  it("the policy's clamav key turns the check on; files over max_size, or over clamd's StreamMaxLength, are MG171 (not checked)", async () => {
    const root = await workspace({
      "small.pkl": markedPickle(),
      "over-max-size.pkl": pickleHolding(Buffer.alloc(200 * 1024)),
      "over-clamd-limit.pkl": pickleHolding(Buffer.alloc(CLAMD_STREAM_MAX + 1024)),
    });
    await writeFile(join(root, "modelgate.yml"), `clamav:\n  address: ${socket}\n  max_size: 128K\n  timeout: 30\n`);
    const r = await modelgate(root, "scan", "models", "--format", "json");
    assert.equal(r.status, 1, r.stderr);
    const files = byName(JSON.parse(r.stdout) as ScanReport);
    assert.deepEqual(files["small.pkl"]!.findings.map((f) => f.rule), ["MG170"]);
    const notChecked = (name: string): string => {
      const f = files[name]!.findings.find((x) => x.rule === "MG171");
      assert.ok(f, `${name} has no MG171`);
      assert.equal(f.severity, RULES.MG171.severity);
      assert.equal(files[name]!.verdict, "block");
      return f.message;
    };
    assert.match(notChecked("over-max-size.pkl"), /over the ClamAV size limit \(131\.1 kB\)/);
    assert.match(notChecked("over-clamd-limit.pkl"), /not checked by ClamAV: clamd .*StreamMaxLength/);
  });

  it("hub files are fetched whole for clamd, and Hugging Face cache files read through their snapshot links", async () => {
    const hub = await hubServer([{ id: "acme/av", files: { "model.pkl": markedPickle(), "clean.pkl": benignPickle() } }]);
    try {
      const r = await modelgateWith({ HF_ENDPOINT: hub.origin }, dir, "scan", "hf://acme/av", "--clamav", socket, "--format", "json");
      assert.equal(r.status, 1, r.stderr);
      const files = byName(JSON.parse(r.stdout) as ScanReport);
      assert.deepEqual(files["model.pkl"]!.findings.map((f) => f.evidence), ["clamd: Modelgate.Test.Marker.UNOFFICIAL FOUND"]);
      assert.deepEqual(files["clean.pkl"]!.findings, []);
      assert.ok(files["model.pkl"]!.bytesRead >= markedPickle().length, "the whole file travelled for clamd");
    } finally {
      await hub.close();
    }
    const cache = await mkdtemp(join(dir, "hf-cache-"));
    const commit = "a".repeat(40);
    const repo = join(cache, "models--acme--av");
    await mkdir(join(repo, "blobs"), { recursive: true });
    await mkdir(join(repo, "snapshots", commit), { recursive: true });
    await writeFile(join(repo, "blobs", "0123"), markedPickle());
    await symlink(join("..", "..", "blobs", "0123"), join(repo, "snapshots", commit, "model.pkl"));
    const c = await modelgate(dir, "scan", "--hf-cache", cache, "--clamav", socket, "--format", "json");
    assert.equal(c.status, 1, c.stderr);
    const cached = (JSON.parse(c.stdout) as ScanReport).files;
    assert.deepEqual(cached.map((f) => [f.path, f.findings.map((x) => x.rule)]), [[`hf-cache://acme/av@${commit}/model.pkl`, ["MG170"]]]);
  });

  it("clamd unreachable fails the scan (exit 2), even when a file would pass, and never prints a passing report", async () => {
    const root = await workspace({ "clean.pkl": benignPickle() });
    const r = await modelgate(root, "scan", "models", "--clamav", join(dir, "absent.sock"), "--format", "json");
    assert.equal(r.status, 2);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /modelgate: error: cannot reach clamd at .*absent\.sock/);
    const tcp = await modelgate(root, "scan", "models", "--clamav", "127.0.0.1:1");
    assert.equal(tcp.status, 2);
    assert.match(tcp.stderr, /cannot reach clamd at 127\.0\.0\.1:1/);
  });

  it("a clamd that accepts and then says nothing fails the scan at the policy's timeout", async () => {
    const silent = join(dir, "silent.sock");
    const server: Server = createServer(() => {
      /* accepts, never answers */
    });
    await new Promise<void>((resolve) => server.listen(silent, resolve));
    try {
      const root = await workspace({ "clean.pkl": benignPickle() });
      await writeFile(join(root, "modelgate.yml"), `clamav:\n  address: ${silent}\n  timeout: 0.5\n`);
      const r = await modelgate(root, "scan", "models");
      assert.equal(r.status, 2);
      assert.match(r.stderr, /did not answer within 0\.5 s/);
    } finally {
      server.close();
    }
  });

  it("a bad address or size is a usage error naming the policy line", async () => {
    const root = await workspace({ "clean.pkl": benignPickle() });
    assert.equal((await modelgate(root, "scan", "models", "--clamav", "no-port-here")).status, 4);
    await writeFile(join(root, "modelgate.yml"), "version: 1\nclamav:\n  address: nowhere\n  max_size: lots\n  timeout: -1\n  socket: x\n");
    const r = await modelgate(root, "scan", "models");
    assert.equal(r.status, 4);
    assert.match(r.stderr, /modelgate\.yml:3: clamav\.address/);
    assert.match(r.stderr, /modelgate\.yml:4: clamav\.max_size/);
    assert.match(r.stderr, /modelgate\.yml:5: clamav\.timeout/);
    assert.match(r.stderr, /modelgate\.yml:6: unknown key "socket" in clamav/);
  });
});

describe("clamd client and settings", () => {
  it("parses socket paths and host:port, and sizes as clamd.conf writes them", () => {
    assert.deepEqual(parseClamdAddress("/run/clamav/clamd.ctl"), { path: "/run/clamav/clamd.ctl" });
    assert.deepEqual(parseClamdAddress("clamav.internal:3310"), { host: "clamav.internal", port: 3310 });
    assert.deepEqual(parseClamdAddress("[::1]:3310"), { host: "::1", port: 3310 });
    for (const bad of ["clamd", "host:0", "host:70000", ":3310"]) assert.equal(parseClamdAddress(bad), undefined, bad);
    assert.deepEqual([parseClamavSize("25M"), parseClamavSize("2g"), parseClamavSize("4096"), parseClamavSize("1.5M"), parseClamavSize("0")], [25 * 1024 ** 2, 2 * 1024 ** 3, 4096, undefined, undefined]);
  });

  it("is off unless asked; the flag's address wins over the policy's, which wins over the default", () => {
    assert.equal(clamavSettings(undefined, undefined), undefined);
    assert.deepEqual(clamavSettings(undefined, true)?.address, { path: "/var/run/clamav/clamd.ctl" });
    assert.deepEqual(clamavSettings({ address: { host: "a", port: 1 }, maxBytes: 10 }, true), { address: { host: "a", port: 1 }, maxBytes: 10, timeoutMs: 120_000 });
    assert.deepEqual(clamavSettings({ address: { host: "a", port: 1 } }, "b:2")?.address, { host: "b", port: 2 });
    assert.throws(() => clamavSettings(undefined, "nope"), UsageError);
  });

  it("the gateway's entry point checks a stored blob under the file's repository name; clamd unreachable rejects (503 there)", async () => {
    const blob = join(dir, "blob-0001");
    await writeFile(blob, markedPickle());
    const scanned = await scanFile(blob, "acme/av/model.pkl");
    const settings = { address: { path: socket }, maxBytes: 1024 * 1024, timeoutMs: 10_000 };
    const checked = await clamavCheckStored(scanned, blob, settings);
    assert.deepEqual(checked.findings.map((f) => [f.rule, f.location.path]), [["MG170", "acme/av/model.pkl"]]);
    await assert.rejects(clamavCheckStored(scanned, blob, { ...settings, address: { path: join(dir, "none.sock") } }), ClamdError);
  });

  it("serve --clamav: the gateway refuses a file clamd matches (403 naming the signature) and answers 503 while clamd is unreachable", async () => {
    const hub = await FakeHub.start();
    hub.add("acme/av", "model.pkl", markedPickle());
    hub.add("acme/av", "clean.pkl", benignPickle());
    const settings = { address: { path: socket }, maxBytes: 1024 * 1024, timeoutMs: 10_000 };
    const open = (clamav: typeof settings, store: string) =>
      startGateway({ upstream: new URL(hub.hubUrl), host: "127.0.0.1", port: 0, policy: defaultPolicy(), state: "memory", storeDir: join(dir, store), clamav });
    const gw = await open(settings, "gw-store");
    const down = await open({ ...settings, address: { path: join(dir, "none.sock") } }, "gw-store-down");
    try {
      const blocked = await fetch(`${gw.url}/acme/av/resolve/main/model.pkl`);
      assert.equal(blocked.status, 403);
      assert.match(blocked.headers.get("x-error-message") ?? "", /MG170|Modelgate\.Test\.Marker/);
      assert.equal((await fetch(`${gw.url}/acme/av/resolve/main/clean.pkl`)).status, 200);
      const unavailable = await fetch(`${down.url}/acme/av/resolve/main/clean.pkl`);
      assert.equal(unavailable.status, 503);
      assert.equal(unavailable.headers.get("x-error-code"), "ModelgateClamavUnavailable");
    } finally {
      await gw.close();
      await down.close();
      await hub.close();
    }
  });

  it("PING answers PONG; a connection refused is a ClamdError", async () => {
    await new ClamdClient({ path: socket }, { timeoutMs: 10_000 }).ping();
    await assert.rejects(new ClamdClient({ path: join(dir, "none.sock") }, { timeoutMs: 10_000 }).ping(), ClamdError);
  });
});
