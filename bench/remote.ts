/**
 * `npm run bench:remote`: scans over loopback HTTP (a file server with Range support and a fake hub)
 * and prints what travelled. Targets: a ≥1 GB PyTorch zip checkpoint transfers under 1% of itself;
 * a 20-file repository's scan time follows its pickle content, not the size of its weights.
 * Figures are printed, never asserted; it fails (exit 1) only when a benign input is not scanned clean.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { scanPaths } from "../src/engine.js";
import type { ScanReport } from "../src/types.js";
import { etagOf, fileServer, hubServer, type FakeRepo } from "../test/support/http.js";
import { safetensors, smallPickle, stateDict, writeTorchZip } from "./writers.js";

const MB = 1e6;
const MAX_TRANSFER_SHARE = 0.01;


/** 18 safetensors shards of `shardBytes` and two small pickles: same pickle content whatever the shard size. */
function repo(id: string, shardBytes: number): FakeRepo {
  const files: Record<string, Uint8Array> = { "config.json": Buffer.from('{"model_type": "bench"}') };
  for (let i = 0; i < 18; i++) files[`model-${String(i + 1).padStart(5, "0")}-of-00018.safetensors`] = safetensors(shardBytes);
  files["training_args.bin"] = smallPickle(1, 2);
  return { id, files };
}

function clean(report: ScanReport): string | undefined {
  const flagged = report.files.filter((f) => f.findings.length > 0 || f.error !== undefined);
  return flagged.length === 0 ? undefined : flagged.map((f) => `${f.path}: ${f.error ?? f.findings.map((x) => x.rule).join(", ")}`).join("; ");
}

async function timedScan(target: string, endpoint?: string): Promise<{ report: ScanReport; seconds: number }> {
  const started = performance.now();
  const report = await scanPaths([target], endpoint === undefined ? {} : { remote: { endpoint } });
  return { report, seconds: (performance.now() - started) / 1000 };
}

console.log(`modelgate remote bench: ${cpus().length} CPUs, Node ${process.version}, loopback HTTP`);
const dir = await mkdtemp(join(tmpdir(), "modelgate-bench-remote-"));
let ok = true;
try {
  // 200 float32 matrices of 1024 × 1311: 1.07 GB of storage, as in `npm run bench`.
  await writeTorchZip(join(dir, "model.pt"), stateDict(200, 1024, 1311, false));
  const checkpoint = await readFile(join(dir, "model.pt"));
  await rm(join(dir, "model.pt"));
  const server = await fileServer({ "/model.pt": checkpoint });
  etagOf(checkpoint); // the server's ETag is hashed once, before the clock starts
  try {
    const { report, seconds } = await timedScan(`${server.origin}/model.pt`);
    const share = server.bytesSent / checkpoint.length;
    console.log(
      `\nPyTorch zip checkpoint over HTTP: ${(checkpoint.length / MB).toFixed(0)} MB, ${seconds.toFixed(2)} s, ` +
        `${(server.bytesSent / MB).toFixed(2)} MB transferred (${(100 * share).toFixed(3)}%) in ${server.requests.length} requests`,
    );
    console.log(`${share < MAX_TRANSFER_SHARE ? "PASS" : "MISS"}  transferred ${(100 * share).toFixed(3)}% (target < ${100 * MAX_TRANSFER_SHARE}%)`);
    const problem = clean(report);
    if (problem || report.files[0]?.format !== "pytorch-zip") {
      ok = false;
      console.log(`FAIL  checkpoint not scanned clean: ${problem ?? report.files[0]?.format}`);
    }
  } finally {
    await server.close();
  }

  const heavy = 30 * 1024 * 1024;
  const light = 64 * 1024;
  const hub = await hubServer([repo("bench/heavy", heavy), repo("bench/light", light)], 100);
  try {
    console.log("\n20-file repositories (18 safetensors shards, 1 pickle, 1 config) over a fake hub:");
    for (const [id, shard] of [["bench/light", light], ["bench/heavy", heavy]] as const) {
      hub.cdn.bytesSent = 0;
      const { report, seconds } = await timedScan(`hf://${id}`, hub.origin);
      const total = report.summary.bytesTotal;
      console.log(
        `  ${id.padEnd(12)} shards of ${(shard / MB).toFixed(2).padStart(6)} MB, ${(total / MB).toFixed(0).padStart(4)} MB in all: ` +
          `${seconds.toFixed(3)} s, ${(hub.cdn.bytesSent / MB).toFixed(2)} MB transferred`,
      );
      const problem = clean(report);
      if (problem) {
        ok = false;
        console.log(`FAIL  ${id} not scanned clean: ${problem}`);
      }
    }
  } finally {
    await hub.close();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
if (!ok) process.exitCode = 1;
