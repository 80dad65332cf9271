/**
 * `npm run bench:convert`: writes a 1 GB PyTorch zip checkpoint in TypeScript (bench/writers.ts),
 * converts it to safetensors in a fresh process (so its peak RSS is the conversion's own), and
 * times a plain `cp` of the same file, with and without an fsync, for comparison. The conversion
 * includes what cp does not: the pickle analysis, an fsync, reading the output back to verify
 * every tensor, and a rescan. Figures are printed, not asserted; the bench fails only when the
 * conversion does.
 */
import { fork, spawnSync } from "node:child_process";
import { rmSync, statSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { convertFile } from "../src/convert/convert.js";
import { stateDict, writeTorchZip } from "./writers.js";

const MB = 1e6;

interface WorkerResult {
  ms: number;
  tensors: number;
  shared: number;
  maxRssMb: number;
}

if (process.argv[2] === "--worker") {
  // The child: one conversion, then its figures to the parent.
  const [input, output] = process.argv.slice(3);
  const started = performance.now();
  const file = await convertFile(input!, output!);
  const result: WorkerResult = {
    ms: performance.now() - started,
    tensors: file.tensors.length,
    shared: file.shared.length,
    // Peak resident set of this process (KB on Linux).
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
  process.send!(result, undefined, {}, () => process.exit(0));
} else {
  await main();
}

async function main(): Promise<void> {
  const dir = join(tmpdir(), `modelgate-bench-convert-${process.pid}`);
  // A signal skips finally: interrupting must still remove the gigabytes.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    });
  }
  await mkdir(dir, { recursive: true });
  try {
    const input = join(dir, "model.pt");
    let t = performance.now();
    const size = await writeTorchZip(input, stateDict(200, 1024, 1311, false));
    console.log(`wrote ${(size / MB).toFixed(0)} MB PyTorch zip checkpoint (200 float32 tensors) in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    // Each timed step starts with nothing left to write back from the one before.
    run("sync");
    const r = await convertInWorker(input, join(dir, "model.safetensors"));
    const outSize = statSync(join(dir, "model.safetensors")).size;
    console.log(
      `convert: ${(r.ms / 1000).toFixed(2)} s, ${(size / MB / (r.ms / 1000)).toFixed(0)} MB/s, peak RSS ${r.maxRssMb.toFixed(0)} MB, ` +
        `${r.tensors} tensors, output ${(outSize / MB).toFixed(0)} MB (analysis + copy + fsync + read-back verification + rescan)`,
    );

    run("sync");
    t = performance.now();
    run("cp", input, join(dir, "copy.pt"));
    const cpMs = performance.now() - t;
    rmSync(join(dir, "copy.pt"));
    run("sync");
    t = performance.now();
    run("sh", "-c", `cp "$0" "$1" && sync --data "$1"`, input, join(dir, "copy.pt"));
    const cpSyncMs = performance.now() - t;
    console.log(`cp:      ${(cpMs / 1000).toFixed(2)} s, ${(size / MB / (cpMs / 1000)).toFixed(0)} MB/s; cp + fsync: ${(cpSyncMs / 1000).toFixed(2)} s, ${(size / MB / (cpSyncMs / 1000)).toFixed(0)} MB/s`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function run(cmd: string, ...args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: "inherit" });
  if (r.status !== 0) throw new Error(`${cmd} exited with ${r.status}`);
}

function convertInWorker(input: string, output: string): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    let result: WorkerResult | undefined;
    const child = fork(fileURLToPath(import.meta.url), ["--worker", input, output], { stdio: "inherit" });
    child.once("message", (m) => (result = m as WorkerResult));
    child.once("error", reject);
    child.once("exit", (code) => (result && code === 0 ? resolve(result) : reject(new Error(`the conversion exited with ${code}`))));
  });
}
