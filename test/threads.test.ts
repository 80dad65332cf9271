/**
 * Folder scans on worker threads (src/scanThreads.ts): the threads must decide exactly what the
 * calling thread decides, file by file, and a file whose thread stops before answering must come
 * back as an error that blocks, never as a pass.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { scanPaths } from "../src/engine.js";
import { decideFile } from "../src/policy/decide.js";
import { defaultPolicy } from "../src/policy/policy.js";
import { MIN_BYTES_PER_THREAD, MIN_FILES_PER_THREAD, ScanThreads, threadsFor } from "../src/scanThreads.js";
import type { FileResult } from "../src/types.js";

const FIXTURES = join(import.meta.dirname, "..", "..", "test", "fixtures");

/** What a result decides, without what varies between runs. */
function decided(r: FileResult): unknown {
  return { path: r.path, format: r.format, verdict: r.verdict, error: r.error, skipped: r.skipped, findings: r.findings };
}

for (const folder of ["redteam", "zoo/sklearn19", "zoo/torch2"]) {
  test(`scanning ${folder} on two threads decides every file as the calling thread does`, async () => {
    const inline = await scanPaths([join(FIXTURES, folder)], { threads: 0 });
    const threaded = await scanPaths([join(FIXTURES, folder)], { threads: 2 });
    assert.ok(inline.files.length >= 2 * MIN_FILES_PER_THREAD, `${folder} is large enough to use threads`);
    assert.deepEqual(threaded.files.map(decided), inline.files.map(decided));
    assert.equal(threaded.verdict, inline.verdict);
  });
}

test("a file whose thread stops before it answers is an error that blocks", async () => {
  const threads = new ScanThreads(1);
  const pending = threads.scanFile(join(FIXTURES, "redteam", "manifest.json"), "manifest.json", {});
  await threads.close();
  const result = await pending;
  assert.match(result.error ?? "", /scan/);
  assert.equal(decideFile(result, defaultPolicy(), { safetensorsFolders: new Set() }).verdict, "block");
});

test("threads are used only when the files outnumber what one thread can keep busy", () => {
  const plenty = 100 * MIN_BYTES_PER_THREAD;
  assert.equal(threadsFor(1, plenty, 4), 0);
  assert.equal(threadsFor(MIN_FILES_PER_THREAD - 1, plenty, 4, 2), 0);
  assert.equal(threadsFor(2 * MIN_FILES_PER_THREAD, 0, 4, 2), 2, "asked for, they are used whatever the bytes");
  assert.equal(threadsFor(10 * MIN_FILES_PER_THREAD, plenty, 1), 1, "never more threads than files at once (--jobs)");
  assert.equal(threadsFor(10 * MIN_FILES_PER_THREAD, plenty, 4, 0), 0, "0 keeps the analysis on the calling thread");
  assert.equal(threadsFor(1000, MIN_BYTES_PER_THREAD - 1, 4), 0, "by default, a folder of small files stays on the calling thread");
  assert.ok(threadsFor(1000, plenty, 4) >= 1, "and a folder of large models gets threads");
});
