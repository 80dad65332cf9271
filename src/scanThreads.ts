/**
 * Worker threads that scan local files, so a folder scan uses every core: the pickle machine is
 * CPU-bound and a single thread leaves the other cores idle. Each thread runs `scanFileFindings`
 * on the files it is sent, several at a time, so its I/O overlaps its analysis; the main thread
 * walks the targets, runs the repository checks and the cache, scans its own share of the files,
 * and hands the findings to the policy. A thread that dies (out of memory on a hostile file) fails
 * the files it held: they are reported as errors, which block.
 */
import { availableParallelism } from "node:os";
import { Worker, type MessagePort } from "node:worker_threads";
import type { FileScanOptions } from "./engine.js";
import { hdf5Service } from "./formats/hdf5Client.js";
import { streamDecoderService } from "./formats/streamDecoders.js";
import { failedScan, type ScannedFile } from "./types.js";

/** What the main thread sends: one file to scan. */
export interface ScanRequest {
  id: number;
  path: string;
  display: string;
  options: Pick<FileScanOptions, "notes" | "callables">;
}

/** What a thread is started with: the ports its HDF5 reads and its xz and LZMA streams go through. */
export interface ScanThreadData {
  hdf5: MessagePort;
  streams: MessagePort;
}

/** What a thread answers. */
export interface ScanAnswer {
  id: number;
  result: ScannedFile;
}

/** Below this many local files per thread a folder scan stays on the main thread. */
export const MIN_FILES_PER_THREAD = 16;
/**
 * A thread loads the engine and the allowlist and compiles its code afresh (some 300 ms of CPU,
 * then a cold JIT competing with the main thread's), so by default threads join a scan only once
 * it has run this long on the main thread and its pace says at least THREAD_PAYBACK_MS of work is
 * left: on 2 cores a thread made the 1.2 s left of the zoo slower. A folder of small pickles, or
 * of large checkpoints whose pickles are small, never earns one back.
 */
export const THREAD_WAIT_MS = 400;
export const THREAD_PAYBACK_MS = 3000;

/**
 * Threads for a scan with `files` local files left. By default one fewer than `jobs` (the main
 * thread scans too) and two fewer than the cores: V8's compiler and collector threads keep about a
 * third of a core busy beside a scan, and on 2 cores a worker thread made no folder faster.
 * Asked for (--threads), as many as asked. Either way, only as many as have MIN_FILES_PER_THREAD files each.
 */
export function threadsFor(files: number, jobs: number, requested?: number): number {
  const wanted = requested ?? Math.min(jobs - 1, availableParallelism() - 2);
  return Math.max(0, Math.min(wanted, Math.floor(files / MIN_FILES_PER_THREAD)));
}

/** Whether a scan that has taken `elapsedMs` for `done` local files, with `left` to go, is long enough to start threads (by default). */
export function threadsPayOff(elapsedMs: number, done: number, left: number): boolean {
  return elapsedMs >= THREAD_WAIT_MS && done > 0 && (elapsedMs / done) * left >= THREAD_PAYBACK_MS;
}

interface Pending {
  display: string;
  resolve: (r: ScannedFile) => void;
}

/** Scans one local file on the calling thread (the engine's scanFileFindings). */
export type LocalScan = (path: string, display: string, options: ScanRequest["options"]) => Promise<ScannedFile>;

/** Where a file can be scanned: a worker thread, or the calling thread. */
interface Lane {
  /** Files in hand. */
  readonly load: number;
  scan(request: ScanRequest): Promise<ScannedFile>;
}

class ScanThread implements Lane {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private dead: string | undefined;

  constructor() {
    // The thread reads HDF5 and decodes xz and LZMA through the main thread's one reader and decoders.
    const hdf5 = hdf5Service();
    const streams = streamDecoderService();
    // A small young generation: each thread's own took some 10 MB of peak RSS, and scans were no slower without it.
    this.worker = new Worker(new URL("./scanWorker.js", import.meta.url), {
      workerData: { hdf5, streams } satisfies ScanThreadData,
      transferList: [hdf5, streams],
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    this.worker.on("message", (m: ScanAnswer) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      p?.resolve(m.result);
    });
    this.worker.on("error", (err) => this.fail(`the scanning thread failed: ${err.message}`));
    this.worker.on("exit", (code) => this.fail(`the scanning thread exited with code ${code}`));
  }

  /** A thread that stopped takes no more files (they would all fail), while another lane can scan them. */
  get load(): number {
    return this.dead === undefined ? this.pending.size : Infinity;
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

/** The calling thread as a lane: it scans too, so N threads add N cores to the one the scan runs on. */
class CallingThread implements Lane {
  load = 0;

  constructor(private readonly scanHere: LocalScan) {}

  async scan(request: ScanRequest): Promise<ScannedFile> {
    this.load++;
    try {
      // A small file's scan runs to its end without reaching the event loop (its reads are
      // synchronous): yield first, so that the workers' answers are taken and they get their next files.
      await new Promise<void>((resolve) => setImmediate(resolve));
      return await this.scanHere(request.path, request.display, request.options);
    } finally {
      this.load--;
    }
  }
}

/**
 * A fixed set of scanning threads and the calling thread; each file goes to the one with the fewest
 * files in hand, a worker when they tie (the calling thread also answers the workers and keeps the report).
 */
export class ScanThreads {
  private readonly threads: ScanThread[];
  private readonly lanes: Lane[];
  private nextId = 0;

  constructor(count: number, scanHere: LocalScan) {
    this.threads = Array.from({ length: count }, () => new ScanThread());
    this.lanes = [...this.threads, new CallingThread(scanHere)];
  }

  scanFile(path: string, display: string, options: ScanRequest["options"]): Promise<ScannedFile> {
    const lane = this.lanes.reduce((a, b) => (b.load < a.load ? b : a));
    return lane.scan({ id: this.nextId++, path, display, options });
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.close()));
  }
}
