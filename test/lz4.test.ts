/**
 * LZ4 frames (joblib's compress="lz4"): decoded block by block within the layer bounds, and the
 * pickle inside scanned. Frames are built here by hand: stored blocks, compressed blocks with
 * overlapping and cross-block matches, and hostile blocks that reach outside their data.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decompressLz4 } from "../src/formats/compression.js";
import { scanSource } from "../src/engine.js";
import { BufferSource } from "../src/sources/byteSource.js";
import { OP, assemble, global, str } from "./support/pickle.js";

const SYSTEM = assemble(OP.PROTO, 2, global("posix", "system"), str("echo modelgate-fixture"), OP.TUPLE1, OP.REDUCE, OP.STOP);

/** A frame (64 KiB blocks, no checksums) around the given raw block encodings (size word included). */
function frame(...blocks: Buffer[]): Buffer {
  const header = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x40, 0x40, 0xc0]);
  return Buffer.concat([header, ...blocks, Buffer.alloc(4)]);
}

function stored(data: Uint8Array): Buffer {
  const size = Buffer.alloc(4);
  size.writeUInt32LE((data.length | 0x80000000) >>> 0);
  return Buffer.concat([size, data]);
}

function compressed(block: Uint8Array): Buffer {
  const size = Buffer.alloc(4);
  size.writeUInt32LE(block.length);
  return Buffer.concat([size, block]);
}

async function decode(bytes: Buffer): Promise<{ data: Buffer; problem?: string }> {
  const layer = await decompressLz4(new BufferSource("x.lz4", bytes), { decompressedBytes: 0 });
  return { data: Buffer.concat(layer.chunks), ...(layer.problem ? { problem: layer.problem.message } : {}) };
}

test("a stored block and a compressed block with an overlapping match decode as LZ4 defines them", async () => {
  // token 0x32: 3 literals "abc", then a match of 2+4 = 6 bytes at offset 3 (repeats "abc" twice), then 1 literal "!".
  const block = Buffer.from([0x32, 0x61, 0x62, 0x63, 0x03, 0x00, 0x10, 0x21]);
  const { data, problem } = await decode(frame(stored(Buffer.from("head:")), compressed(block)));
  assert.equal(problem, undefined);
  assert.equal(data.toString(), "head:abcabcabc!");
});

test("a match may reach back into the previous block (linked blocks)", async () => {
  const block = Buffer.from([0x00, 0x05, 0x00]); // no literals, a 4-byte match 5 back: "hello" → "hell"
  const { data } = await decode(frame(stored(Buffer.from("hello")), compressed(Buffer.concat([block, Buffer.from([0x10, 0x21])]))));
  assert.equal(data.toString(), "hellohell!");
});

test("a match that reaches before the data, or a block that overruns its maximum, is a corrupt layer, not a crash or a hang", async () => {
  const before = await decode(frame(compressed(Buffer.from([0x10, 0x61, 0x09, 0x00]))));
  assert.match(before.problem ?? "", /refers outside its data/);
  // A length run of 0xff bytes: a match of billions of bytes, stopped at the block's bound.
  const run = Buffer.concat([Buffer.from([0x1f, 0x61, 0x01, 0x00]), Buffer.alloc(40_000, 0xff), Buffer.from([0x00])]);
  const overrun = await decode(frame(compressed(run)));
  assert.match(overrun.problem ?? "", /decodes past its maximum size/);
});

test("a pickle compressed with LZ4 is scanned: os.system inside is critical", async () => {
  const source = Object.assign(new BufferSource("model.joblib.lz4", frame(stored(SYSTEM))), { bytesRead: 0 });
  const result = await scanSource(source, "model.joblib.lz4");
  assert.equal(result.format, "lz4");
  assert.ok(result.findings.some((f) => f.rule === "MG100" && f.severity === "critical" && /posix\.system/.test(f.message)), JSON.stringify(result.findings));
});
