/** Local file sources: small files read whole when opened, large ones by ranges, and nothing but a regular file opened. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { FileSource, readFileStart } from "../src/sources/byteSource.js";

const dir = mkdtempSync(join(tmpdir(), "modelgate-bytesource-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Bytes 0, 1, 2, … 255, 0, 1, … so any window shows where it was read from. */
function pattern(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = i & 0xff;
  return b;
}

describe("FileSource", () => {
  it("reads a small file whole when opened and serves windows of it after it is closed", async () => {
    const path = join(dir, "small.bin");
    writeFileSync(path, pattern(5000));
    const source = await FileSource.open(path);
    assert.equal(source.size, 5000);
    assert.equal(source.bytesRead, 5000);
    await source.close();
    assert.deepEqual(Buffer.from(await source.read(300, 10)), pattern(310).subarray(300));
    assert.equal((await source.read(4995, 100)).length, 5);
  });

  it("reads a large file by ranges, counting only what was read", async () => {
    const path = join(dir, "large.bin");
    writeFileSync(path, pattern(3 * 1024 * 1024));
    const source = await FileSource.open(path);
    try {
      assert.equal(source.bytesRead, 0);
      assert.deepEqual(Buffer.from(await source.read(2 * 1024 * 1024 + 7, 4)), pattern(2 * 1024 * 1024 + 11).subarray(-4));
      assert.equal(source.bytesRead, 4);
    } finally {
      await source.close();
    }
    await assert.rejects(source.read(0, 1), /read after it was closed/);
  });

  it("refuses a FIFO at once instead of waiting for a writer (one swapped in after a folder walk)", async () => {
    const path = join(dir, "pipe.pt");
    assert.equal(spawnSync("mkfifo", [path]).status, 0, "mkfifo is part of coreutils");
    await assert.rejects(FileSource.open(path), /is not a regular file/);
    assert.throws(() => readFileStart(path, 64), /is not a regular file/);
  });
});

describe("readFileStart", () => {
  it("reads at most the bound from the start", () => {
    const path = join(dir, "head.bin");
    writeFileSync(path, pattern(1000));
    assert.deepEqual(readFileStart(path, 16), pattern(16));
    assert.equal(readFileStart(path, 10_000).length, 1000);
  });

  it("never follows a symbolic link", () => {
    const target = join(dir, "target.bin");
    writeFileSync(target, "secret");
    const link = join(dir, "link.bin");
    symlinkSync(target, link);
    assert.throws(() => readFileStart(link, 64), /ELOOP/);
  });
});
