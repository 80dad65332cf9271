/**
 * Worker threads that scan local files, so a folder scan uses every core: the pickle machine is
 * CPU-bound and a single thread leaves the other cores idle. Each thread runs `scanFileFindings`
 * on the files it is sent, several at a time, so its I/O overlaps its analysis; the main thread walks the
 * targets, runs the repository checks and the cache, and hands the findings to the policy. A
 * thread that dies (out of memory on a hostile file) fails the files it held: they are reported
 * as errors, which block.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { FileScanOptions } from "./engine.js";
import { failedScan, type ScannedFile } from "./types.js";

/** What the main thread sends: one file to scan. */
export interface ScanRequest {
  id: number;
  path: string;
  display: string;
  options: Pick<FileScanOptions, "notes" | "callables">;
}

/** What a thread answers. */
export interface ScanAnswer {
  id: number;
  result: ScannedFile;
}

/** Below this many local files per thread a folder scan stays on the main thread. */
export const MIN_FILES_PER_THREAD = 16;
/**
 * By default, a thread is started only for this many bytes of local files: a thread loads the
 * engine and the allowlist and compiles its code afresh (some 300 ms of CPU), which a folder of small
 * pickles (the bench's 1,000, the zoo's 12 MB) never earns back. Asked for (--threads), they are used.
 */
export const MIN_BYTES_PER_THREAD = 32 * 1024 * 1024;

/** Threads for a scan of `files` local files of `bytes` in all: at most `jobs` and the cores, and enough work for each. */
export function threadsFor(files: number, bytes: number, jobs: number, requested?: number): number {
  const wanted = requested ?? Math.min(jobs, availableParallelism(), Math.floor(bytes / MIN_BYTES_PER_THREAD));
  return Math.max(0, Math.min(wanted, Math.floor(files / MIN_FILES_PER_THREAD)));
}

interface Pending {
  display: string;
  resolve: (r: ScannedFile) => void;
}

class ScanThread {
  private readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  private dead: string | undefined;

  constructor() {
    this.worker = new Worker(new URL("./scanWorker.js", import.meta.url));
    this.worker.on("message", (m: ScanAnswer) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      p?.resolve(m.result);
    });
    this.worker.on("error", (err) => this.fail(`the scanning thread failed: ${err.message}`));
    this.worker.on("exit", (code) => this.fail(`the scanning thread exited with code ${code}`));
  }

  scan(request: ScanRequest): Promise<ScannedFile> {
    return new Promise((resolve) => {
      if (this.dead) return resolve(failedScan(request.display, this.dead));
      this.pending.set(request.id, { display: request.display, resolve });
      this.worker.postMessage(request);
    });
  }

  /** Every file the thread held is an error (fail closed): its analysis did not finish. */
  private fail(why: string): void {
    this.dead ??= why;
    for (const p of this.pending.values()) p.resolve(failedScan(p.display, why));
    this.pending.clear();
  }

  close(): Promise<number> {
    this.dead ??= "the scan is over";
    return this.worker.terminate();
  }
}


/** A fixed set of scanning threads; each file goes to the thread with the fewest files in hand. */
export class ScanThreads {
  private readonly threads: ScanThread[];
  private nextId = 0;

  constructor(count: number) {
    this.threads = Array.from({ length: count }, () => new ScanThread());
  }

  scanFile(path: string, display: string, options: ScanRequest["options"]): Promise<ScannedFile> {
    const thread = this.threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    return thread.scan({ id: this.nextId++, path, display, options });
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.close()));
  }
}
