/**
 * Folder scans on worker threads (src/scanThreads.ts): the threads must decide exactly what the
 * calling thread decides, file by file, and a file whose thread stops before answering must come
 * back as an error that blocks, never as a pass.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { test } from "node:test";
import { scanFileFindings, scanPaths } from "../src/engine.js";
import { run7z } from "../src/formats/sevenzip.js";
import { decideFile } from "../src/policy/decide.js";
import { defaultPolicy } from "../src/policy/policy.js";
import { MIN_FILES_PER_THREAD, ScanThreads, THREAD_PAYBACK_MS, THREAD_WAIT_MS, threadsFor, threadsPayOff } from "../src/scanThreads.js";
import type { FileResult, ScannedFile } from "../src/types.js";
import { OP, assemble, call1, global } from "./support/pickle.js";
import { plainZip } from "./support/zip.js";

const FIXTURES = join(import.meta.dirname, "..", "..", "test", "fixtures");

/** What a result decides, without what varies between runs. */
function decided(r: FileResult): unknown {
  return { path: r.path, format: r.format, verdict: r.verdict, error: r.error, skipped: r.skipped, findings: r.findings };
}

// keras3's HDF5 files are read by the main thread's one reader, whichever thread scans them.
for (const folders of [["redteam"], ["zoo/sklearn19"], ["zoo/torch2"], ["zoo/keras3", "zoo/numpy2"]]) {
  test(`scanning ${folders.join(" and ")} on two threads decides every file as the calling thread does`, async () => {
    const paths = folders.map((f) => join(FIXTURES, f));
    const inline = await scanPaths(paths, { threads: 0 });
    const threaded = await scanPaths(paths, { threads: 2 });
    assert.ok(inline.files.length >= 2 * MIN_FILES_PER_THREAD, `${folders.join(", ")} is large enough to use threads`);
    assert.deepEqual(threaded.files.map(decided), inline.files.map(decided));
    assert.equal(threaded.verdict, inline.verdict);
  });
}

test("a file whose thread stops before it answers is an error that blocks", async () => {
  const threads = new ScanThreads(1, scanFileFindings);
  const pending = threads.scanFile(join(FIXTURES, "redteam", "manifest.json"), "manifest.json", {});
  await threads.close();
  const result = await pending;
  assert.match(result.error ?? "", /scan/);
  assert.equal(decideFile(result, defaultPolicy(), { safetensorsFolders: new Set() }).verdict, "block");
});

test("once a thread has stopped, later files go to a lane that can still scan them", async () => {
  const threads = new ScanThreads(1, scanFileFindings);
  const lost = threads.scanFile(join(FIXTURES, "redteam", "manifest.json"), "manifest.json", {});
  await threads.close();
  assert.match((await lost).error ?? "", /scan/, "what the thread held fails closed");
  const file = join(FIXTURES, "zoo", "sklearn19", "compressed", "knn_kd_tree.joblib.xz");
  const later = await threads.scanFile(file, "later.joblib.xz", {});
  assert.equal(later.error, undefined);
  assert.equal(later.format, (await scanFileFindings(file, "later.joblib.xz")).format);
});

test("the calling thread scans its share beside the workers, and both decide alike", async () => {
  const folder = join(FIXTURES, "zoo", "sklearn19");
  const names = ["column_transformer_pipeline.joblib.lzma", "hist_gradient_boosting.joblib.bz2", "knn_kd_tree.joblib.xz", "knn_kd_tree.joblib.lz4"].map((n) => `compressed/${n}`);
  const here: string[] = [];
  const threads = new ScanThreads(1, (path, display, options): Promise<ScannedFile> => {
    here.push(display);
    return scanFileFindings(path, display, options);
  });
  try {
    const results = await Promise.all(names.map((n) => threads.scanFile(join(folder, n), n, {})));
    // Each file goes to the lane with fewer in hand, the worker when they tie: the second and fourth are scanned here.
    assert.deepEqual(here, [names[1], names[3]]);
    const alone = await Promise.all(names.map((n) => scanFileFindings(join(folder, n), n)));
    const facts = (r: ScannedFile): unknown => ({ path: r.path, format: r.format, error: r.error, findings: r.findings });
    assert.deepEqual(results.map(facts), alone.map(facts));
  } finally {
    await threads.close();
  }
});

test("decompression bombs decoded through the main thread's xz and LZMA decoders are stopped at the same byte as here", async () => {
  const folder = await mkdtemp(join(tmpdir(), "modelgate-bombs-"));
  const threads = new ScanThreads(1, scanFileFindings);
  try {
    const xz = await run7z(["a", "-txz", "-mx=1", "z.xz", "zeros"], { zeros: new Uint8Array(20 << 20) });
    await writeFile(join(folder, "zeros.xz"), xz.fs.readFile("z.xz"));
    for (const bomb of [join(folder, "zeros.xz"), join(FIXTURES, "bombs", "zeros_20mib.lzma")]) {
      const there = await threads.scanFile(bomb, basename(bomb), {});
      const here = await scanFileFindings(bomb, basename(bomb));
      assert.deepEqual(there.findings.map((f) => f.rule), ["MG140"], bomb);
      assert.deepEqual(there.findings, here.findings);
    }
  } finally {
    await threads.close();
    await rm(folder, { recursive: true, force: true });
  }
});

test("an LZMA member decoded by the main thread leaves the rest of its small archive readable on the thread", async () => {
  // A file of 1 MiB or less is read whole into one buffer; the LZMA member is a view into it, so
  // moving the member's buffer to the main thread would take the archive's bytes from the thread.
  const folder = await mkdtemp(join(tmpdir(), "modelgate-lzma-member-"));
  const threads = new ScanThreads(1, scanFileFindings);
  try {
    const lzma = await readFile(join(FIXTURES, "malicious", "p12_lzma_alone.lzma"));
    const evil = assemble(OP.PROTO, 2, call1(global("os", "system"), "echo harmless"), OP.STOP);
    const file = join(folder, "two.zip");
    // Over 4 KiB, so that the whole-file buffer is not one of Node's pooled ones (postMessage copies those).
    const notes = { name: "notes.txt", data: Buffer.alloc(8192, 0x20) };
    await writeFile(file, plainZip([{ name: "a.pkl.lzma", data: lzma }, notes, { name: "b.pkl", data: evil }]));
    const there = await threads.scanFile(file, "two.zip", {});
    const here = await scanFileFindings(file, "two.zip");
    assert.equal(there.error, undefined);
    assert.ok(there.findings.some((f) => f.rule === "MG100" && f.location.member === "b.pkl"), JSON.stringify(there.findings));
    assert.deepEqual(there.findings, here.findings);
  } finally {
    await threads.close();
    await rm(folder, { recursive: true, force: true });
  }
});

test("threads are used only when the files outnumber what one thread can keep busy", () => {
  assert.equal(threadsFor(1, 4), 0);
  assert.equal(threadsFor(MIN_FILES_PER_THREAD - 1, 4, 2), 0);
  assert.equal(threadsFor(2 * MIN_FILES_PER_THREAD, 4, 2), 2, "asked for, they are used");
  assert.equal(threadsFor(10 * MIN_FILES_PER_THREAD, 1), 0, "one file at a time (--jobs 1) is the calling thread's");
  assert.equal(threadsFor(10 * MIN_FILES_PER_THREAD, 2), Math.max(0, Math.min(1, availableParallelism() - 2)), "never more lanes than files at once (--jobs)");
  assert.equal(threadsFor(10 * MIN_FILES_PER_THREAD, 4, 0), 0, "0 keeps the analysis on the calling thread");
  assert.equal(threadsFor(1000, 4), Math.max(0, Math.min(3, availableParallelism() - 2)), "by default two fewer than the cores: the calling thread scans too, V8's own threads need the rest");
});

test("by default threads join a scan only once it has run a while and its pace says enough work is left to pay for them", () => {
  assert.equal(threadsPayOff(THREAD_WAIT_MS - 1, 10, 10_000), false, "too early to tell");
  assert.equal(threadsPayOff(THREAD_WAIT_MS, 0, 10_000), false, "no file done yet: no pace");
  // 400 ms for 100 files is 4 ms a file: what is left takes files × 4 ms.
  const left = THREAD_PAYBACK_MS / 4;
  assert.equal(threadsPayOff(400, 100, left - 1), false, "what is left is done before a thread pays for itself");
  assert.equal(threadsPayOff(400, 100, left), true);
  assert.ok(THREAD_PAYBACK_MS >= THREAD_WAIT_MS);
});
