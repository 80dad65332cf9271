/**
 * `npm run bench:gateway`: the gateway's cost on loopback. A fake hub (its own process) serves a
 * 64 MiB safetensors file through a 302 to its storage host; `modelgate serve` (its own process)
 * sits in front. Prints the throughput of cached pass-through downloads against direct downloads
 * (target: at least 80%), and the latency a first, scanned download adds. Figures are reported,
 * not asserted; the bench fails only if a download is not byte-identical (checked outside the timings).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { FakeHub, sha256 } from "../test/support/fakeHub.js";

const MIB = 1024 * 1024;
const FILE_BYTES = 64 * MIB;
const ROUNDS = 16;
const FIRST_DOWNLOADS = 3;
const TARGET_SHARE = 0.8;

/** A valid safetensors file: one U8 tensor over `size` bytes of data. */
function safetensors(name: string, size: number): Buffer {
  let header = JSON.stringify({ [name]: { dtype: "U8", shape: [size], data_offsets: [0, size] } });
  header += " ".repeat((8 - (header.length % 8)) % 8);
  const out = Buffer.alloc(8 + header.length + size);
  out.writeBigUInt64LE(BigInt(header.length), 0);
  out.write(header, 8, "utf8");
  for (let i = 8 + header.length; i < out.length; i += 4096) out[i] = i & 0xff;
  return out;
}

const files = ["weights.safetensors", ...Array.from({ length: FIRST_DOWNLOADS }, (_, i) => `first-${i}.safetensors`)].map((path, i) => ({
  path,
  content: safetensors(`w${i}`, FILE_BYTES),
}));

if (process.argv[2] === "--hub") {
  // The hub in its own process, so the client's and the hub's work do not share one event loop.
  const hub = await FakeHub.start();
  for (const f of files) hub.add("org/model", f.path, f.content);
  process.stdout.write(`${hub.hubUrl}\n`);
} else {
  await main();
}

async function main(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const cli = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
  const store = await mkdtemp(join(tmpdir(), "modelgate-bench-gateway-"));
  const children: ChildProcess[] = [];
  try {
    const hubUrl = await startChild(children, [self, "--hub"], /^(http:\/\/\S+)$/, "stdout");
    const gatewayUrl = await startChild(children, [cli, "serve", "--upstream", hubUrl, "--port", "0", "--store", store], /listening on (http:\/\/\S+)/, "stderr");
    const expected = new Map(files.map((f) => [f.path, sha256(f.content)]));
    const sizes = new Map(files.map((f) => [f.path, f.content.length]));
    /** Milliseconds to download a file whole; the bytes are counted, and hashed only when `verify` (hashing is not what is measured). */
    const get = async (base: string, path: string, verify = false): Promise<number> => {
      const started = performance.now();
      const res = await fetch(`${base}/org/model/resolve/main/${path}`);
      if (!res.ok || !res.body) throw new Error(`${base}: ${path}: ${res.status}`);
      const hash = verify ? createHash("sha256") : undefined;
      let n = 0;
      for await (const chunk of res.body) {
        n += chunk.length;
        hash?.update(chunk);
      }
      if (n !== sizes.get(path)) throw new Error(`${base}: ${path}: ${n} bytes`);
      if (hash && hash.digest("hex") !== expected.get(path)) throw new Error(`${base}: ${path}: wrong bytes`);
      return performance.now() - started;
    };

    // First downloads: direct (warm) against the gateway's fetch + store + scan + serve.
    const firstDirect: number[] = [];
    const firstGateway: number[] = [];
    for (const f of files.slice(1)) {
      await get(hubUrl, f.path);
      firstDirect.push(await get(hubUrl, f.path));
      firstGateway.push(await get(gatewayUrl, f.path));
      await get(gatewayUrl, f.path, true);
    }

    // Cached pass-through: the same file again and again, alternating so both see the same machine load.
    await get(gatewayUrl, files[0]!.path, true);
    await get(hubUrl, files[0]!.path, true);
    const direct: number[] = [];
    const gateway: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      direct.push(await get(hubUrl, files[0]!.path));
      gateway.push(await get(gatewayUrl, files[0]!.path));
    }
    // Medians: the machine is shared, and one stall elsewhere should not decide the figure.
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const mbps = (ms: number[]): number => files[0]!.content.length / MIB / (med(ms) / 1000);
    const share = mbps(gateway) / mbps(direct);
    const line = (label: string, value: string): void => void process.stdout.write(`${label.padEnd(46)} ${value}\n`);
    process.stdout.write(`gateway bench: ${FILE_BYTES / MIB} MiB safetensors file, loopback, ${ROUNDS} rounds (medians)\n`);
    line("direct download (hub → storage redirect)", `${mbps(direct).toFixed(0)} MiB/s`);
    line("cached pass-through via the gateway", `${mbps(gateway).toFixed(0)} MiB/s`);
    line("pass-through share of direct", `${(share * 100).toFixed(0)}% (target ≥ ${TARGET_SHARE * 100}%)${share >= TARGET_SHARE ? "" : "  BELOW TARGET"}`);
    line("first download, direct (median)", `${med(firstDirect).toFixed(0)} ms`);
    line("first download via the gateway (median)", `${med(firstGateway).toFixed(0)} ms (fetch, store, scan, serve)`);
    line("latency added by a first, scanned download", `${(med(firstGateway) - med(firstDirect)).toFixed(0)} ms`);
  } finally {
    for (const c of children) c.kill("SIGTERM");
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((resolve) => c.once("exit", resolve)) : undefined)));
    await rm(store, { recursive: true, force: true });
  }
}

/** Starts a Node child and resolves with the first match of `pattern` in its output. */
function startChild(children: ChildProcess[], args: string[], pattern: RegExp, stream: "stdout" | "stderr"): Promise<string> {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    createInterface({ input: child[stream]! }).on("line", (l) => {
      const m = pattern.exec(l);
      if (m) resolve(m[1]!);
    });
    child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited with ${code}`)));
  });
}
