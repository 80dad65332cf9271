/** Local file sources: small files read whole when opened, large ones by ranges, and nothing but a regular file opened. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { StreamReader } from "../src/pickle/reader.js";
import { BufferSource, FileSource, readFileStart, SliceSource, type ByteSource } from "../src/sources/byteSource.js";

const dir = mkdtempSync(join(tmpdir(), "modelgate-bytesource-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Bytes 0, 1, 2, … 255, 0, 1, … so any window shows where it was read from. */
function pattern(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = i & 0xff;
  return b;
}

/** Size of the files read by ranges below: past the whole-file bound, not a multiple of anything. */
const LARGE = 1024 * 1024 + 12_345;

/** A LARGE file of pattern bytes, opened: the source and the bytes it should read back. */
async function openLarge(name: string): Promise<{ source: FileSource; bytes: Buffer }> {
  const path = join(dir, name);
  const bytes = pattern(LARGE);
  writeFileSync(path, bytes);
  return { source: await FileSource.open(path), bytes };
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
      const at = 2 * 1024 * 1024 + 7;
      assert.deepEqual(Buffer.from(await source.read(at, 4)), pattern(at + 4).subarray(-4));
      // A small read reads a block from its offset; small reads inside it read nothing more.
      const block = source.bytesRead;
      assert.ok(block > 4 && block <= 64 * 1024, `one block (${block} bytes)`);
      assert.deepEqual(Buffer.from(await source.read(at + 100, 30)), pattern(at + 130).subarray(-30));
      assert.deepEqual(Buffer.from(await source.read(at + block - 8, 8)), pattern(at + block).subarray(-8));
      assert.equal(source.bytesRead, block);
      // One that reaches past it, and a large one, read what they need.
      assert.deepEqual(Buffer.from(await source.read(at + block - 4, 8)), pattern(at + block + 4).subarray(-8));
      assert.equal(source.bytesRead, 2 * block);
      assert.equal((await source.read(100, 100_000)).length, 100_000);
      assert.equal(source.bytesRead, 2 * block + 100_000);
      // A read of up to a block's size (a sniff's head, a central directory) is a block too.
      const far = 1024 * 1024;
      assert.equal((await source.read(far, 10_000)).length, 10_000);
      assert.equal(source.bytesRead, 3 * block + 100_000);
      assert.deepEqual(Buffer.from(await source.read(far + block - 8, 8)), pattern(far + block).subarray(-8));
      assert.equal(source.bytesRead, 3 * block + 100_000);
      // Near the end, the block is what is left of the file.
      assert.deepEqual(Buffer.from(await source.read(3 * 1024 * 1024 - 3, 10)), pattern(3 * 1024 * 1024).subarray(-3));
    } finally {
      await source.close();
    }
    await assert.rejects(source.read(0, 1), /read after it was closed/);
  });

  it("serves any mix of small and large reads of a large file with the file's bytes", async () => {
    const size = LARGE;
    const { source, bytes } = await openLarge("mixed.bin");
    try {
      let seed = 7;
      const next = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
      for (let i = 0; i < 2000; i++) {
        const offset = next(size + 10);
        const length = next(4) === 0 ? next(200_000) : next(20_000);
        assert.deepEqual(Buffer.from(await source.read(offset, length)), bytes.subarray(offset, offset + length), `read(${offset}, ${length})`);
      }
    } finally {
      await source.close();
    }
  });

  it("answers readNow with the file's bytes for reads it can serve at once, and undefined for the rest", async () => {
    const size = LARGE;
    const { source, bytes } = await openLarge("now.bin");
    const slice = new SliceSource("member", source, 1000, size - 2000);
    try {
      for (let offset = 0; offset < size + 10; offset += 7919) {
        for (const length of [1, 22, 200, 4096, 100_000]) {
          const now = source.readNow(offset, length);
          // What sniffing and zip headers read (up to 4 KiB) is always at hand; a large range of a large file is not.
          const clamped = Math.max(0, Math.min(length, size - offset));
          if (clamped <= 4096) assert.ok(now !== undefined, `readNow(${offset}, ${length}) served`);
          if (clamped > 65_536) assert.equal(now, undefined, `readNow(${offset}, ${length}) left to read()`);
          if (now) assert.deepEqual(Buffer.from(now), bytes.subarray(offset, offset + length), `readNow(${offset}, ${length})`);
          const inSlice = slice.readNow(offset, length);
          const end = Math.min(offset + length, size - 2000);
          if (inSlice) assert.deepEqual(Buffer.from(inSlice), bytes.subarray(Math.min(1000 + offset, 1000 + end), 1000 + end), `slice readNow(${offset}, ${length})`);
          else assert.ok(Math.min(length, size - 2000 - offset) > 4096, `slice readNow(${offset}, ${length}) served`);
        }
      }
    } finally {
      await source.close();
    }
    const small = join(dir, "small-now.bin");
    writeFileSync(small, pattern(3000));
    const whole = await FileSource.open(small);
    await whole.close();
    assert.deepEqual(Buffer.from(whole.readNow(100, 50_000)!), pattern(3000).subarray(100), "a small file is in memory: every read is served, even after close");
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

describe("StreamReader over a long stream", () => {
  /** Reads `source` (pattern bytes from `first` on) to its end in steps of varied length, checking every byte served; returns the buffers it saw. */
  async function readThrough(source: ByteSource, first: number): Promise<Set<ArrayBufferLike>> {
    const r = new StreamReader(source, 0);
    const buffers = new Set<ArrayBufferLike>();
    // Steps and asks that leave long tails (kept, copied) and short ones (read again), and asks past a chunk.
    const asks = [1, 70_000, 9, 3 * 1024 * 1024, 5000, 200_000];
    for (let i = 0; r.pos < r.size; i++) {
      const ask = asks[i % asks.length]!;
      await r.ensure(ask);
      const n = Math.min(ask, r.size - r.pos);
      assert.ok(r.holds(n), `holds ${n} bytes at ${r.pos}`);
      const at = r.pos - r.bufStart;
      for (const k of [0, n >> 1, n - 1]) assert.equal(r.buf[at + k], (first + r.pos + k) & 0xff, `byte ${r.pos + k}`);
      buffers.add(r.buf.buffer);
      r.pos += Math.max(1, n - (i % 3 === 0 ? 6000 : 100));
    }
    return buffers;
  }

  it("refills two buffers of its own in turns, from a file, a slice of one and a source without readInto", async () => {
    const path = join(dir, "stream.bin");
    const size = 9 * 1024 * 1024 + 777;
    writeFileSync(path, pattern(size));
    const file = await FileSource.open(path);
    try {
      const fromFile = await readThrough(file, 0);
      assert.ok(fromFile.size <= 3, `${fromFile.size} buffers for ${size} bytes`);
      const slice = await readThrough(new SliceSource("slice", file, 3, size - 3), 3);
      assert.ok(slice.size <= 3, `${slice.size} buffers for a slice`);
    } finally {
      await file.close();
    }
    const inMemory = await readThrough(new BufferSource("memory", pattern(size)), 0);
    assert.ok(inMemory.size <= 3, `${inMemory.size} buffers for a source read by copying`);
  });

  it("keeps the source's own bytes for a short stream (a small file is in memory already)", async () => {
    const bytes = pattern(100_000);
    const r = new StreamReader(new BufferSource("short", bytes), 0);
    await r.ensure(10);
    assert.equal(r.buf.buffer, bytes.buffer);
  });
});
