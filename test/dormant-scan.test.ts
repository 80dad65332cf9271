/**
 * Dormant second stages (P22) found where pickles really keep them: a malicious pickle hidden in a
 * str or bytes constant is scanned as a nested member and reported by what it does, whether the
 * outer stream is plain data (the plain-data proof reads it) or has calls (the machine does), in a
 * constant the scanner keeps or one too long to keep, and across the reader's chunk boundaries.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateRawSync, deflateSync } from "node:zlib";
import { after, test } from "node:test";
import { scanFile } from "../src/engine.js";
import { OP, XZ_POSIX_SYSTEM, assemble, global, str, u32, u64 } from "./support/pickle.js";

const PAYLOAD = assemble(OP.PROTO, 2, global("posix", "system"), str("echo modelgate-fixture"), OP.TUPLE1, OP.REDUCE, OP.STOP);
const dir = await mkdtemp(join(tmpdir(), "modelgate-dormant-"));
after(() => rm(dir, { recursive: true, force: true }));

async function findings(name: string, bytes: Buffer): Promise<string[]> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  const r = await scanFile(path, name);
  return r.findings.map((f) => `${f.rule} ${f.location.member ?? ""} ${f.message}`);
}

/** BINUNICODE of ASCII text. */
function binunicode(s: string): Buffer {
  return assemble(OP.BINUNICODE, u32(Buffer.byteLength(s)), s);
}

function binbytes(b: Uint8Array): Buffer {
  return assemble(OP.BINBYTES, u32(b.length), b);
}

test("a base64 pickle in a plain-data dict is found by the plain-data proof", async () => {
  const bytes = assemble(OP.PROTO, 4, OP.EMPTY_DICT, str("weights"), binunicode(PAYLOAD.toString("base64")), OP.SETITEM, OP.STOP);
  const found = await findings("plain.pkl", bytes);
  assert.ok(found.some((f) => /^MG100 <pickle hidden in a constant @\d+ \(base64\)> .*posix\.system/.test(f)), JSON.stringify(found));
});

test("a zlib-compressed pickle in a stream with calls is found by the machine", async () => {
  const bytes = assemble(OP.PROTO, 2, global("collections", "OrderedDict"), OP.EMPTY_TUPLE, OP.REDUCE, str("blob"), binbytes(deflateSync(PAYLOAD)), OP.SETITEM, OP.STOP);
  const found = await findings("calls.pkl", bytes);
  assert.ok(found.some((f) => /^MG100 <pickle hidden in a constant @\d+ \(zlib\)>/.test(f)), JSON.stringify(found));
});

test("a constant too long to keep (past 64 KiB) is read back when its start may hide a payload", async () => {
  // Base64 of the payload followed by zero bytes: the pickle stops at its STOP.
  const text = PAYLOAD.toString("base64") + "A".repeat(100_000);
  const bytes = assemble(OP.PROTO, 4, OP.EMPTY_LIST, binunicode(text), OP.APPEND, OP.STOP);
  const found = await findings("long.pkl", bytes);
  assert.ok(found.some((f) => /posix\.system/.test(f)), JSON.stringify(found));
});

test("a raw-deflated pickle is found in a bytes constant kept by the proof, by the machine, and in one too long to keep", async () => {
  const raw = deflateRawSync(PAYLOAD);
  const plain = assemble(OP.PROTO, 4, OP.EMPTY_DICT, str("blob"), binbytes(raw), OP.SETITEM, OP.STOP);
  assert.ok((await findings("deflate-plain.pkl", plain)).some((f) => /^MG100 <pickle hidden in a constant @\d+ \(deflate\)> .*posix\.system/.test(f)));
  const calls = assemble(OP.PROTO, 2, global("collections", "OrderedDict"), OP.EMPTY_TUPLE, OP.REDUCE, str("blob"), binbytes(raw), OP.SETITEM, OP.STOP);
  assert.ok((await findings("deflate-calls.pkl", calls)).some((f) => /^MG100 <pickle hidden in a constant @\d+ \(deflate\)>/.test(f)));
  // Dynamic codes whose tables fill more than the first 32 bytes, in a constant past 64 KiB: read back.
  const padded = deflateRawSync(Buffer.concat([PAYLOAD, Buffer.from("weights bias layer norm ".repeat(8000))]), { level: 9 });
  assert.equal((padded[0]! >> 1) & 3, 2);
  const long = Buffer.concat([padded, Buffer.alloc(100_000 - padded.length)]);
  const found = await findings("deflate-long.pkl", assemble(OP.PROTO, 4, OP.EMPTY_LIST, binbytes(long), OP.APPEND, OP.STOP));
  assert.ok(found.some((f) => /\(deflate\)> .*posix\.system/.test(f)), JSON.stringify(found));
});

test("a reversed pickle in a bytes constant is found", async () => {
  const bytes = assemble(OP.PROTO, 4, OP.EMPTY_LIST, binbytes(Buffer.from(PAYLOAD).reverse()), OP.APPEND, OP.STOP);
  assert.ok((await findings("reversed.pkl", bytes)).some((f) => /\(reversed\)> .*posix\.system/.test(f)));
});

test("constants that straddle the reader's chunk boundaries are examined whole, by the proof and by the machine", async () => {
  const filler = (n: number): Buffer => assemble(OP.MARK, ...Array.from({ length: n }, () => str("x".repeat(200))), OP.APPENDS);
  for (const lead of [65_500, 65_530, 1_048_560]) {
    const items = Math.ceil(lead / 202);
    const constant = binunicode(PAYLOAD.toString("base64"));
    const plain = assemble(OP.PROTO, 4, OP.EMPTY_LIST, filler(items), constant, OP.APPEND, OP.STOP);
    const withCall = assemble(OP.PROTO, 4, global("collections", "OrderedDict"), OP.EMPTY_TUPLE, OP.REDUCE, OP.POP, OP.EMPTY_LIST, filler(items), constant, OP.APPEND, OP.STOP);
    for (const [name, bytes] of [["plain", plain], ["calls", withCall]] as const) {
      const found = await findings(`${name}-${lead}.pkl`, bytes);
      assert.ok(found.some((f) => /posix\.system/.test(f)), `${name} ${lead}: ${JSON.stringify(found)}`);
    }
  }
});

test("a raw pickle or xz stream found early in a long stream is scanned as it was, after the reader has refilled its buffers", async () => {
  // The reader of a stream this long refills two buffers in turns (StreamReader): a find that kept a view of one would be overwritten.
  const filler = assemble(OP.MARK, ...Array.from({ length: 6 * 1024 }, () => binbytes(Buffer.alloc(1024))), OP.APPENDS);
  for (const [what, constant] of [["raw", binbytes(PAYLOAD)], ["xz", binbytes(XZ_POSIX_SYSTEM)]] as const) {
    const plain = assemble(OP.PROTO, 4, OP.EMPTY_LIST, constant, OP.APPEND, filler, OP.STOP);
    const withCall = assemble(OP.PROTO, 4, global("collections", "OrderedDict"), OP.EMPTY_TUPLE, OP.REDUCE, OP.POP, OP.EMPTY_LIST, constant, OP.APPEND, filler, OP.STOP);
    for (const [name, bytes] of [["plain", plain], ["calls", withCall]] as const) {
      const found = await findings(`early-${what}-${name}.pkl`, bytes);
      assert.ok(found.some((f) => new RegExp(`\\(${what}\\)> .*posix\\.system`).test(f)), `${what} ${name}: ${JSON.stringify(found)}`);
    }
  }
});

test("ordinary long strings cost nothing and report nothing: text, hashes, base64 of an image", async () => {
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 7)]).toString("base64");
  const strings = ["The quick brown fox jumps over the lazy dog.", "Now is the time for all good men.", "a".repeat(64), "0123456789abcdef".repeat(4), png];
  const bytes = assemble(OP.PROTO, 4, OP.EMPTY_LIST, OP.MARK, ...strings.map(binunicode), OP.APPENDS, OP.STOP);
  assert.deepEqual(await findings("ordinary.pkl", bytes), []);
});

test("a constant that hides a payload past the decoding bound is reported, not passed", async () => {
  // BINUNICODE8 announcing 65 MiB of base64 text: over LIMITS.dormantMaxInput, never decoded.
  const head = Buffer.from(PAYLOAD.toString("base64"));
  const len = 65 * 1024 * 1024;
  const body = Buffer.alloc(len, 0x41);
  head.copy(body);
  const bytes = assemble(OP.PROTO, 4, OP.BINUNICODE8, u64(BigInt(len)), body, OP.STOP);
  const found = await findings("bound.pkl", bytes);
  assert.ok(found.some((f) => /^MG111 .*may hide a pickle/.test(f)), JSON.stringify(found));
});

test("a pickle decoded at load from constants by pure text calls is found in what they compute", async () => {
  const fetched = (owner: Buffer, method: string): Buffer => assemble(global("builtins", "getattr"), owner, str(method), OP.TUPLE2, OP.REDUCE);
  const call = (fn: Buffer, ...args: Buffer[]): Buffer => assemble(fn, OP.MARK, ...args, OP.TUPLE, OP.REDUCE);
  const bytesType = global("builtins", "bytes");
  const key = 0x5a;
  const table = Buffer.from(Array.from({ length: 256 }, (_, i) => i ^ key));
  const xored = Buffer.from(PAYLOAD.map((b) => b ^ key));
  const rot13 = PAYLOAD.toString("base64").replace(/[A-Za-z]/g, (c) => String.fromCharCode(((c.charCodeAt(0) - (c <= "Z" ? 65 : 97) + 13) % 26) + (c <= "Z" ? 65 : 97)));
  const half = PAYLOAD.length >> 1;
  const n = BigInt(`0x${PAYLOAD.toString("hex")}`);
  // LONG4 is little-endian two's complement: a zero byte keeps the top bit (PROTO's 0x80) positive.
  const nBytes = Buffer.concat([Buffer.from(n.toString(16).padStart(PAYLOAD.length * 2, "0"), "hex").reverse(), Buffer.from([0])]);
  const cases: [string, Buffer][] = [
    ["bytes.translate undoing an XOR", call(fetched(bytesType, "translate"), binbytes(xored), binbytes(table))],
    ["_codecs.encode rot13 of base64 text", call(global("_codecs", "encode"), binunicode(rot13), str("rot13"))],
    ["b''.join of split parts", call(fetched(binbytes(Buffer.alloc(0)), "join"), assemble(OP.MARK, binbytes(PAYLOAD.subarray(0, half)), binbytes(PAYLOAD.subarray(half)), OP.LIST))],
    ["bytes.fromhex, then translate", call(fetched(bytesType, "translate"), call(fetched(bytesType, "fromhex"), binunicode(xored.toString("hex"))), binbytes(table))],
    ["int.to_bytes", call(fetched(global("builtins", "int"), "to_bytes"), assemble(OP.LONG4, u32(nBytes.length), nBytes), assemble(OP.BININT, u32(PAYLOAD.length)), str("big"))],
    ["str.swapcase of swapped base64", call(fetched(global("builtins", "str"), "swapcase"), binunicode(PAYLOAD.toString("base64").replace(/[A-Za-z]/g, (c) => (c <= "Z" ? c.toLowerCase() : c.toUpperCase()))))],
  ];
  for (const [what, computed] of cases) {
    const found = await findings("computed.pkl", assemble(OP.PROTO, 2, OP.EMPTY_DICT, str("meta"), computed, OP.SETITEM, OP.STOP));
    assert.ok(found.some((f) => /^MG100 <pickle hidden in text computed at load @\d+ \([^)]*\)> .*posix\.system/.test(f)), `${what}: ${JSON.stringify(found)}`);
  }
  // Through NLTK's LazyMap, which calls its function on its lists' items when iterated.
  const lazy = call(global("nltk.collections", "LazyMap"), fetched(bytesType, "translate"), assemble(OP.EMPTY_LIST, binbytes(xored), OP.APPEND), assemble(OP.EMPTY_LIST, binbytes(table), OP.APPEND));
  const throughLazy = await findings("lazy.pkl", assemble(OP.PROTO, 2, OP.EMPTY_DICT, str("meta"), lazy, OP.SETITEM, OP.STOP));
  assert.ok(throughLazy.some((f) => /^MG100 <pickle hidden in text computed at load .*posix\.system/.test(f)), `LazyMap: ${JSON.stringify(throughLazy)}`);
  // The same calls on text that hides nothing stay quiet.
  const quiet = await findings("computed-quiet.pkl", assemble(OP.PROTO, 2, call(fetched(bytesType, "translate"), binbytes(Buffer.from("hello world, nothing here")), binbytes(table)), OP.STOP));
  assert.deepEqual(quiet.filter((f) => /computed at load/.test(f)), []);
});

test("a compressed pickle kept as protocol 2 bytes (_codecs.encode of latin-1 text) is found, whatever the codec's spelling", async () => {
  // How CPython's pickler writes bytes at protocols 0-2; the str constant's UTF-8 does not start with zlib's magic, its encoding does.
  const latin1Text = (b: Buffer): Buffer => {
    const utf8 = Buffer.from(b.toString("latin1"), "utf8");
    return assemble(OP.BINUNICODE, u32(utf8.length), utf8);
  };
  const encoded = (packed: Buffer, codec: string): Buffer =>
    assemble(OP.PROTO, 2, OP.EMPTY_LIST, global("_codecs", "encode"), latin1Text(packed), str(codec), OP.TUPLE2, OP.REDUCE, OP.APPEND, OP.STOP);
  // A protocol 0 call compressed to text too short to be looked at past its start (under 40 UTF-8 bytes): found by folding alone.
  const small = Buffer.from("cos\nsystem\n(Vid\ntR.", "latin1");
  for (const [what, packed] of [["zlib", deflateSync(small, { level: 9 })], ["deflate", deflateRawSync(small, { level: 9 })]] as const) {
    assert.ok(Buffer.byteLength(packed.toString("latin1"), "utf8") < 40);
    for (const codec of ["latin1", "latin_1", "Latin-1", "iso8859_1", "L1"]) {
      const found = await findings(`p2-${what}-${codec}.pkl`, encoded(packed, codec));
      assert.ok(found.some((f) => new RegExp(`^MG100 <pickle hidden in text computed at load @\\d+ \\(${what}\\)> .*os\\.system`).test(f)), `${what} ${codec}: ${JSON.stringify(found)}`);
    }
  }
  // Longer, the constant itself is examined past its first character (its UTF-8 shows a code point past U+007F there): found either way, once.
  const found = await findings("p2-zlib-long.pkl", encoded(deflateSync(PAYLOAD), "latin1"));
  assert.equal(found.filter((f) => /^MG100 <pickle hidden in (a constant|text computed at load) @\d+ \(zlib\)> .*posix\.system/.test(f)).length, 1, JSON.stringify(found));
});

test("hex with whitespace between pairs (bytes.fromhex reads it) is decoded", async () => {
  const spaced = [...PAYLOAD].map((b) => b.toString(16).toUpperCase().padStart(2, "0")).join(" ");
  const found = await findings("hex-spaced.pkl", assemble(OP.PROTO, 4, OP.EMPTY_DICT, str("meta"), binunicode(spaced), OP.SETITEM, OP.STOP));
  assert.ok(found.some((f) => /^MG100 <pickle hidden in a constant @\d+ \(hex\)> .*posix\.system/.test(f)), JSON.stringify(found));
});

test("folding is bounded per file: memoized folds of a long constant count what they read, and stop with MG111", async () => {
  // bytes.translate(BIG, None, all 256 bytes) makes nothing from 64 KiB; repeated through the memo it reads 64 KiB each time.
  const big = binbytes(Buffer.alloc(65_000, 0x41));
  const all = binbytes(Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
  const call = assemble(OP.BINGET, 0, OP.BINGET, 1, OP.REDUCE, OP.POP);
  const head = assemble(global("builtins", "getattr"), global("builtins", "bytes"), str("translate"), OP.TUPLE2, OP.REDUCE, OP.BINPUT, 0, OP.POP, big, OP.NONE, all, OP.TUPLE3, OP.BINPUT, 1, OP.POP);
  const reps = Math.ceil((64 * 1024 * 1024) / 65_000) + 10;
  const found = await findings("folds.pkl", assemble(OP.PROTO, 2, head, Buffer.concat(Array.from({ length: reps }, () => call)), OP.NONE, OP.STOP));
  assert.ok(found.some((f) => /^MG111 .*computed at load from constants passed \d+ characters and bytes of work/.test(f)), JSON.stringify(found.slice(0, 5)));
});

test("a protocol 0 payload followed by bytes pickle.loads ignores is found, raw and encoded", async () => {
  const p0 = Buffer.concat([Buffer.from("cposix\nsystem\n(S'echo modelgate-fixture'\ntR."), Buffer.from("\x00junk after the STOP", "latin1")]);
  for (const [what, constant] of [["raw", binbytes(p0)], ["base64", binunicode(p0.toString("base64"))], ["zlib", binbytes(deflateSync(p0))]] as const) {
    const found = await findings("p0-tail.pkl", assemble(OP.PROTO, 4, OP.EMPTY_DICT, str("meta"), constant, OP.SETITEM, OP.STOP));
    assert.ok(found.some((f) => /^MG100 <pickle hidden in a constant .*posix\.system/.test(f)), `${what}: ${JSON.stringify(found)}`);
  }
  // Text that starts like protocol 0 but neither imports nor stops stays text.
  const quiet = await findings("p0-text.pkl", assemble(OP.PROTO, 4, OP.EMPTY_DICT, str("meta"), binunicode("(see the README for details)"), OP.SETITEM, OP.STOP));
  assert.deepEqual(quiet, []);
});

test("text coded at load with a codec the scanner does not decode is MG111", async () => {
  const coded = assemble(global("_codecs", "encode"), binunicode("some text the model keeps"), str("cp500"), OP.TUPLE2, OP.REDUCE);
  const found = await findings("cp500.pkl", assemble(OP.PROTO, 2, OP.EMPTY_DICT, str("meta"), coded, OP.SETITEM, OP.STOP));
  assert.ok(found.some((f) => /^MG111 .*coded at load with "cp500"/.test(f)), JSON.stringify(found));
  const utf8 = assemble(global("_codecs", "encode"), binunicode("some text the model keeps"), str("utf-8"), OP.TUPLE2, OP.REDUCE);
  assert.deepEqual(await findings("utf8.pkl", assemble(OP.PROTO, 2, OP.EMPTY_DICT, str("meta"), utf8, OP.SETITEM, OP.STOP)), []);
});
