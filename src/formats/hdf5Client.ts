/**
 * Reads HDF5 files' Keras configs and PyTables pickles with libhdf5 (h5wasm) in a reader worker
 * (src/formats/hdf5Reader.ts), ended when a read takes too long. One reader per process: a
 * scanning thread (src/scanThreads.ts) sends its reads over a port to the main thread's reader
 * instead of loading libhdf5 (some 50 MB) itself.
 */
import { Worker, type MessagePort } from "node:worker_threads";
import { callThrough, servePort } from "../portCalls.js";
import type { Hdf5Contents, ReaderReply } from "./hdf5Reader.js";
import { errorText } from "../errors.js";

/** A file's contents (see Hdf5Contents), or why they were not read. */
export type Hdf5Read = Hdf5Contents | { failure: string; overTime: boolean };

/**
 * Time libhdf5 gets to read a file (CWE-835: hostile B-trees and heaps that make
 * it loop). Real files take milliseconds, but this is wall time on a possibly loaded machine, where
 * a tight bound would block benign files; MODELGATE_HDF5_READ_MS sets it (the fuzz tests lower it).
 * The allowance per GiB covers copying a large file in.
 */
function h5TimeMs(): number {
  const set = Number(process.env["MODELGATE_HDF5_READ_MS"]);
  return Number.isInteger(set) && set > 0 ? set : 10_000;
}
const H5_TIME_PER_GIB_MS = 4_000;
/** Time the reader worker gets to load the WASM module (~0.4 s on an idle machine). */
const H5_START_MS = 30_000;
/**
 * WASM heap size past which the reader worker is replaced after a read, so its memory is returned
 * (the heap never shrinks). During a read, h5wasm's own cap bounds it (CWE-789): its heap cannot
 * grow past 2 GiB, so a hostile size makes libhdf5's allocation fail and the read end in an error.
 */
const H5_HEAP_RECYCLE_BYTES = 512 * 1024 * 1024;
/**
 * A reader with no read queued for this long is ended, and the next read starts another (~0.15–0.4
 * s of the second core): libhdf5 and its worker hold some 45 MB, which a folder scan that met its
 * last Keras file early would otherwise keep to its end (with scanning threads, past the peak).
 */
const H5_IDLE_MS = 500;
/** How long a reader started ahead of its first read (warm) waits for one before it ends. */
const H5_WARM_IDLE_MS = 2_000;
/** A read that libhdf5 did not finish within its time bound; the worker running it was ended. */
class Hdf5ReadLimit extends Error {}

/**
 * libhdf5 runs synchronously and trusts the file's B-trees and heaps: a crafted file can make it
 * loop forever (found by test/fuzz-formats.test.ts: three changed bytes in a Keras 2 file). So it
 * runs in a worker thread that is ended when a read exceeds its time bound; the next read starts
 * a fresh one. Reads are queued: one worker, one file at a time. The worker loads the WASM module
 * once (~0.15–0.4 s) and serves reads until it has to go (over time, broken, its heap too large, or idle).
 */
class Hdf5Reader {
  /** The worker serving reads (started or starting), and the same once it is ready. */
  private running: Worker | undefined;
  private ready: Promise<Worker> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** Reads queued or in progress. */
  private reads = 0;
  private idle: NodeJS.Timeout | undefined;

  read(bytes: Uint8Array<ArrayBuffer>): Promise<Hdf5Contents> {
    clearTimeout(this.idle);
    this.reads++;
    const result = this.queue.then(() => this.send(bytes));
    this.queue = result.catch(() => undefined).then(() => {
      if (--this.reads === 0 && this.running) {
        const worker = this.running;
        this.idle = setTimeout(() => this.stop(worker), H5_IDLE_MS).unref();
      }
    });
    return result;
  }

  private async send(bytes: Uint8Array<ArrayBuffer>): Promise<Hdf5Contents> {
    const worker = await (this.ready ??= this.start());
    const limitMs = h5TimeMs() + Math.ceil((bytes.length / 2 ** 30) * H5_TIME_PER_GIB_MS);
    const answer = this.nextMessage(worker, limitMs, `was not read within ${limitMs} ms (libhdf5 kept working on its structures)`);
    worker.postMessage(bytes, [bytes.buffer]);
    const reply = await answer;
    if (reply === "ready" || !reply.ok) {
      // An abort leaves the WASM instance unusable; a plain HDF5 error does not.
      if (reply === "ready" || reply.fatal) this.stop(worker);
      throw new Error(reply === "ready" ? "the HDF5 reader answered out of turn" : reply.error);
    }
    if (reply.heapBytes > H5_HEAP_RECYCLE_BYTES) this.stop(worker);
    return reply.contents;
  }

  /**
   * Starts the reader before its first read, so that loading libhdf5 (on another core) overlaps the
   * scan of other files instead of holding up the first HDF5 file's. Unused, it ends as an idle one does.
   */
  warm(): void {
    if (this.ready !== undefined) return;
    const ready = (this.ready = this.start());
    ready.then(
      (worker) => {
        if (this.reads === 0 && this.running === worker) this.idle = setTimeout(() => this.stop(worker), H5_WARM_IDLE_MS).unref();
      },
      () => undefined,
    );
  }

  /** Starts a worker; resolves once it has loaded the WASM module. */
  private start(): Promise<Worker> {
    const worker = new Worker(new URL("./hdf5Reader.js", import.meta.url));
    this.running = worker;
    worker.unref();
    // Between reads too: a worker that fails or exits is dropped, so the next read starts another.
    const drop = (): void => this.stop(worker);
    worker.on("error", drop).on("exit", drop);
    return this.nextMessage(worker, H5_START_MS, `could not be read: the HDF5 reader did not start within ${H5_START_MS} ms`).then((first) => {
      if (first === "ready") return worker;
      this.stop(worker);
      throw new Error("the HDF5 reader did not start");
    });
  }

  /**
   * The worker's next message. The worker is ended, and the wait rejected, when it takes over
   * `limitMs` (`late` says so), or when it fails or exits.
   */
  private nextMessage(worker: Worker, limitMs: number, late: string): Promise<ReaderReply | "ready"> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        worker.off("message", answered).off("error", fail).off("exit", exited);
      };
      const answered = (reply: ReaderReply | "ready"): void => {
        done();
        resolve(reply);
      };
      const fail = (err: Error): void => {
        done();
        this.stop(worker);
        reject(err);
      };
      const exited = (code: number): void => fail(new Error(`the HDF5 reader stopped (exit code ${code})`));
      // Ref'd: it also keeps the process alive while the (unref'd) worker works.
      const timer = setTimeout(() => fail(new Hdf5ReadLimit(late)), limitMs);
      worker.on("message", answered).on("error", fail).on("exit", exited);
    });
  }

  /** Ends `worker`; when it is the one serving reads, the next read starts another. */
  private stop(worker: Worker): void {
    if (this.running === worker) {
      this.running = undefined;
      this.ready = undefined;
    }
    void worker.terminate();
  }
}

const hdf5Reader = new Hdf5Reader();

/** Reads with this thread's own reader (starting it on first use). */
async function readHere(bytes: Uint8Array<ArrayBuffer>): Promise<Hdf5Read> {
  try {
    return await hdf5Reader.read(bytes);
  } catch (err) {
    return { failure: errorText(err), overTime: err instanceof Hdf5ReadLimit };
  }
}

/** A reader of HDF5 files: this thread's own, or one behind a port. */
export type Hdf5ReadFn = (bytes: Uint8Array<ArrayBuffer>) => Promise<Hdf5Read>;

let route: Hdf5ReadFn = readHere;

/** Reads an HDF5 file with this process's reader; the buffer is moved, not copied. */
export function readHdf5(bytes: Uint8Array<ArrayBuffer>): Promise<Hdf5Read> {
  return route(bytes);
}

/** Sends this thread's reads to `read` instead of a reader of its own (a scanning thread: remoteHdf5Reader). */
export function useHdf5Reader(read: Hdf5ReadFn): void {
  route = read;
}

/** Starts this thread's reader ahead of reads that are coming (a folder holds HDF5 files); reads through a port warm nothing. */
export function warmHdf5Reader(): void {
  if (route === readHere) hdf5Reader.warm();
}

/** A port over which another thread's reads are served by this thread's reader (see src/portCalls.ts). */
export function hdf5Service(): MessagePort {
  // readHere answers every failure as a read that failed; a throw past it is one too.
  return servePort(readHere, (err) => ({ failure: errorText(err), overTime: false }), () => []);
}

/**
 * Reads through the reader behind `port` (an hdf5Service). Reads in flight when the port closes,
 * and later ones, fail: the file is then reported as not analysed, never passed.
 */
export function remoteHdf5Reader(port: MessagePort): Hdf5ReadFn {
  return callThrough(port, { failure: "the HDF5 reader's thread is gone", overTime: false }, (bytes) => [bytes.buffer]);
}
