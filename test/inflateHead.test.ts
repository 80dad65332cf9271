/**
 * inflateHead decodes the start of a raw DEFLATE stream as zlib does, for every block type, and
 * never refuses a start zlib accepts: that is what lets dormant.ts skip the real inflate for
 * everything else. zlib (Node's, the library Python's zlib module wraps) is the reference.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { constants as zc, deflateRawSync, inflateRawSync } from "node:zlib";
import { INPUT_ENDED, inflateHead } from "../src/pickle/inflateHead.js";

const HEAD = 12;

function head(b: Uint8Array, length = b.length): number | string {
  const out = new Uint8Array(HEAD);
  const n = inflateHead((i) => (i < length ? b[i]! : -1), length, out);
  return n <= 0 ? n : Buffer.from(out.subarray(0, n)).toString("hex");
}

/** What zlib makes of the stream's start (flushed as a truncated stream is): its first HEAD bytes, or "refused". */
function zlibHead(b: Uint8Array): string {
  try {
    return Buffer.from(inflateRawSync(b, { finishFlush: zc.Z_SYNC_FLUSH }).subarray(0, HEAD)).toString("hex");
  } catch {
    return "refused";
  }
}

/** Text with enough variety that zlib picks dynamic codes, with repeats for back-references. */
function text(seed: number, n: number): Buffer {
  const words = ["weights", "bias", "layer", "posix", "system", "\x80\x04", "conv", String(seed)];
  let s = "";
  for (let i = 0; s.length < n; i++) s += words[(i * 7 + seed) % words.length] + (i % 3 === 0 ? "\n" : " ");
  return Buffer.from(s.slice(0, n), "latin1");
}

test("stored, fixed and dynamic blocks decode to zlib's first bytes", () => {
  const seen = new Set<number>();
  for (let seed = 0; seed < 40; seed++) {
    const data = text(seed, 20 + seed * 50);
    for (const level of [0, 1, 6, 9]) {
      for (const strategy of [zc.Z_DEFAULT_STRATEGY, zc.Z_FIXED, zc.Z_HUFFMAN_ONLY]) {
        const stream = deflateRawSync(data, { level, strategy });
        seen.add((stream[0]! >> 1) & 3);
        assert.equal(head(stream), data.subarray(0, HEAD).toString("hex"), `seed ${seed} level ${level} strategy ${strategy}`);
      }
    }
  }
  assert.deepEqual([...seen].sort(), [0, 1, 2], "every block type was exercised");
});

test("a stream whose first block is empty (a flush) is read on into the next block", () => {
  const flushed = Buffer.concat([Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]), deflateRawSync(text(3, 200))]);
  assert.equal(zlibHead(flushed), text(3, HEAD).toString("hex"));
  assert.equal(head(flushed), text(3, HEAD).toString("hex"));
});

test("what zlib decodes, inflateHead decodes alike; what it refuses first is data zlib refuses or cannot fill", () => {
  // Random starts and random corruptions of real streams: a refusal (0) must be one zlib makes too.
  let compared = 0;
  for (let i = 0; i < 3000; i++) {
    const real = deflateRawSync(text(i, 100 + (i % 400)), { level: i % 10 });
    const b = i % 2 === 0 ? randomBytes(64 + (i % 200)) : Buffer.from(real);
    if (i % 2 === 1) b[1 + (i % (b.length - 1))]! ^= 1 << (i % 8);
    const mine = head(b);
    const theirs = zlibHead(b);
    if (theirs !== "refused" && theirs.length === HEAD * 2) {
      assert.equal(mine, theirs, `input ${b.toString("hex")}`);
      compared++;
    }
    if (mine === 0) assert.ok(theirs === "refused" || theirs.length < HEAD * 2, `refused what zlib reads: ${b.toString("hex")}`);
  }
  assert.ok(compared > 1000, `${compared} streams compared`);
});

test("a start cut short says so instead of refusing: a dynamic block's tables need more than 32 bytes", () => {
  const stream = deflateRawSync(text(7, 4000), { level: 9 });
  assert.equal((stream[0]! >> 1) & 3, 2);
  assert.equal(head(stream, 32), INPUT_ENDED);
  assert.equal(head(stream, 1024), text(7, HEAD).toString("hex"));
  // A reserved block type and a stored block whose length check fails are refused at once.
  assert.equal(head(Buffer.from([0x07, 1, 2, 3])), 0);
  assert.equal(head(Buffer.from([0x01, 0x05, 0x00, 0x00, 0x00, 1, 2, 3, 4, 5])), 0);
});
