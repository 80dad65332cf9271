/**
 * `npm run bench:gateway`: the gateway's cost on loopback. A fake hub (its own process) serves a
 * 64 MiB safetensors file through a 302 to its storage host; `modelgate serve` (its own process)
 * sits in front. Prints the throughput of cached pass-through downloads against direct downloads
 * (target: at least 80%), and the latency a first, scanned download adds. Then 1, 2 and 4 gateway
 * processes sharing one store: fresh files asked of all of them at once (each must be fetched from
 * the upstream once between them), and the aggregate throughput of cached downloads spread over
 * them. Figures are reported, not asserted; the bench fails only if a download is not byte-identical
 * (checked outside the timings) or a file is fetched more than once by the processes together.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { FakeHub, sha256 } from "../test/support/fakeHub.js";

const MIB = 1024 * 1024;
const FILE_BYTES = 64 * MIB;
const ROUNDS = 16;
const FIRST_DOWNLOADS = 3;
const TARGET_SHARE = 0.8;
const PROCESS_COUNTS = [1, 2, 4];
/** Fresh files per multi-process row, and concurrent cached downloads over the processes. */
const SHARED_FILES = 2;
const SHARED_FILE_BYTES = 16 * MIB;
const CONCURRENT_DOWNLOADS = 8;

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

const files = [
  ...["weights.safetensors", ...Array.from({ length: FIRST_DOWNLOADS }, (_, i) => `first-${i}.safetensors`)].map((path, i) => ({ path, content: safetensors(`w${i}`, FILE_BYTES) })),
  ...PROCESS_COUNTS.flatMap((n) => Array.from({ length: SHARED_FILES }, (_, i) => ({ path: `shared-${n}-${i}.safetensors`, content: safetensors(`s${n}_${i}`, SHARED_FILE_BYTES) }))),
];

if (process.argv[2] === "--hub") {
  // The hub in its own process, so the client's and the hub's work do not share one event loop.
  const hub = await FakeHub.start();
  for (const f of files) hub.add("org/model", f.path, f.content);
  // The bench asks how often each content was fetched from storage (over IPC).
  process.on("message", () => process.send!(Object.fromEntries(hub.storageFetches)));
  process.stdout.write(`${hub.hubUrl}\n`);
} else {
  await main();
}

async function main(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const cli = fileURLToPath(new URL("../bundle/modelgate.js", import.meta.url));
  const store = await mkdtemp(join(tmpdir(), "modelgate-bench-gateway-"));
  const stores = [store];
  const children: ChildProcess[] = [];
  try {
    const hubUrl = await startChild(children, [self, "--hub"], /^(http:\/\/\S+)$/, "stdout", true);
    const hubProcess = children[0]!;
    const storageFetches = (): Promise<Record<string, number>> =>
      new Promise((resolve) => {
        hubProcess.once("message", (m) => resolve(m as Record<string, number>));
        hubProcess.send("fetches");
      });
    const serve = (dir: string): Promise<string> => startChild(children, [cli, "serve", "--upstream", hubUrl, "--port", "0", "--store", dir], /listening on (http:\/\/\S+)/, "stderr");
    const gatewayUrl = await serve(store);
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
    for (const f of files.filter((x) => x.path.startsWith("first-"))) {
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

    // Several processes sharing one store (SQLite state and lock files under it).
    /** MiB/s of `CONCURRENT_DOWNLOADS` downloads of `path` at once, spread round-robin over `bases`. */
    const aggregate = async (bases: string[], path: string): Promise<number> => {
      const started = performance.now();
      await Promise.all(Array.from({ length: CONCURRENT_DOWNLOADS }, (_, i) => get(bases[i % bases.length]!, path)));
      return (CONCURRENT_DOWNLOADS * sizes.get(path)!) / MIB / ((performance.now() - started) / 1000);
    };
    const directRates = [];
    for (let i = 0; i < 3; i++) directRates.push(await aggregate([hubUrl], files[0]!.path));
    const directAggregate = med(directRates);
    process.stdout.write(`\n${availableParallelism()} CPUs; ${CONCURRENT_DOWNLOADS} concurrent downloads of the cached ${FILE_BYTES / MIB} MiB file, round-robin over the processes (median of 3)\n`);
    line(`direct, ${CONCURRENT_DOWNLOADS} concurrent downloads`, `${directAggregate.toFixed(0)} MiB/s`);
    for (const n of PROCESS_COUNTS) {
      const shared = await mkdtemp(join(tmpdir(), `modelgate-bench-gateway-${n}-`));
      stores.push(shared);
      const bases = await Promise.all(Array.from({ length: n }, () => serve(shared)));
      // Fresh files asked of every process at once: fetched once between them, scanned once.
      const fresh = files.filter((f) => f.path.startsWith(`shared-${n}-`));
      const firstStarted = performance.now();
      await Promise.all(fresh.flatMap((f) => bases.map((b) => get(b, f.path, true))));
      const firstMs = performance.now() - firstStarted;
      const fetched = await storageFetches();
      for (const f of fresh) {
        const times = fetched[expected.get(f.path)!] ?? 0;
        if (times !== 1) throw new Error(`${n} processes fetched ${f.path} ${times} times`);
      }
      for (const b of bases) await get(b, files[0]!.path, true);
      const rates = [];
      for (let i = 0; i < 3; i++) rates.push(await aggregate(bases, files[0]!.path));
      const rate = med(rates);
      line(`${n} gateway process${n === 1 ? "" : "es"}, shared store`, `${rate.toFixed(0)} MiB/s cached (${((rate / directAggregate) * 100).toFixed(0)}% of direct); ${fresh.length} fresh files asked of all: ${firstMs.toFixed(0)} ms, 1 upstream fetch each`);
    }
  } finally {
    for (const c of children) c.kill("SIGTERM");
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((resolve) => c.once("exit", resolve)) : undefined)));
    for (const dir of stores) await rm(dir, { recursive: true, force: true });
  }
}

/** Starts a Node child (with an IPC channel if asked) and resolves with the first match of `pattern` in its output. */
function startChild(children: ChildProcess[], args: string[], pattern: RegExp, stream: "stdout" | "stderr", ipc = false): Promise<string> {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe", ...(ipc ? ["ipc" as const] : [])] });
  children.push(child);
  return new Promise((resolve, reject) => {
    createInterface({ input: child[stream]! }).on("line", (l) => {
      const m = pattern.exec(l);
      if (m) resolve(m[1]!);
    });
    child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited with ${code}`)));
  });
}
