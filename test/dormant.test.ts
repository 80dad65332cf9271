/**
 * Dormant second stages (P22): pickles hidden in str/bytes constants, raw, base64, hex and/or
 * compressed, are found with their chain of encodings; ordinary strings are rejected on their first
 * characters; every bound hit comes back as a `limit` entry instead of a silent pass.
 * bz2/xz/LZMA samples were made once with Python's bz2 and lzma modules from PICKLE below.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { LIMITS } from "../src/limits.js";
import { XZ_POSIX_SYSTEM } from "./support/pickle.js";
import { cpuMsSince } from "./support/timeout.js";
import { dormantIn, dormantPayloads, mayHide, type Dormant } from "../src/pickle/dormant.js";

/** posix.system('id') at protocol 2: harmless bytes, never loaded. */
const PICKLE = Buffer.from("\x80\x02cposix\nsystem\nX\x02\x00\x00\x00id\x85R.", "latin1");
/** The same call at protocol 0 (no PROTO opcode: found by its start opcode and final STOP). */
const PICKLE0 = Buffer.from("cposix\nsystem\n(S'id'\ntR.", "latin1");
const BZ2 = Buffer.from("QlpoOTFBWSZTWZY3U5UAAAxTwFAQAAEQQA4izGBCACAAIp6gNNGmnpCmTEyDIwCVzvyQiMVLlzC40DHxdyRThQkJY3U5UA==", "base64");
const XZ = XZ_POSIX_SYSTEM;
const LZMA_ALONE = Buffer.from("XQAAgAD//////////wBAAIgDy4fmDj/G26ZiOtDgF6QTIsSme1aaoV6QVNf//+QvAAA=", "base64");

const b64 = (b: Uint8Array): string => Buffer.from(b).toString("base64");
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

function pickles(found: Dormant[]): { encoding: string; bytes: string }[] {
  return found.filter((d) => d.kind === "pickle").map((d) => ({ encoding: d.encoding, bytes: Buffer.from((d as { bytes: Uint8Array }).bytes).toString("latin1") }));
}

/** Pseudo-random bytes from a seed (xorshift32): the same on every run. */
function seededBytes(seed: number): (n: number) => Buffer {
  let x = seed >>> 0 || 1;
  return (n) => {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      out[i] = x & 0xff;
    }
    return out;
  };
}

function only(found: Dormant[], encoding: string, payload: Uint8Array = PICKLE): void {
  assert.deepEqual(pickles(found), [{ encoding, bytes: Buffer.from(payload).toString("latin1") }]);
  assert.equal(found.length, 1, JSON.stringify(found.map((d) => d.kind)));
}

test("P22: a raw pickle in a bytes constant, or in a str holding its bytes as code points, is a candidate", () => {
  only(dormantPayloads(PICKLE), "raw");
  only(dormantPayloads(PICKLE.toString("latin1")), "raw");
  only(dormantPayloads(PICKLE0), "raw", PICKLE0);
});

test("P22: base64 (standard, urlsafe, wrapped in lines, inside bytes) and hex of a pickle are decoded", () => {
  only(dormantPayloads(b64(PICKLE)), "base64");
  only(dormantPayloads(Buffer.from(b64(PICKLE))), "base64");
  only(dormantPayloads(Buffer.from(PICKLE).toString("base64url")), "base64");
  only(dormantPayloads(b64(PICKLE).replace(/(.{8})/g, "$1\n")), "base64");
  only(dormantPayloads(b64(PICKLE0)), "base64", PICKLE0);
  only(dormantPayloads(hex(PICKLE)), "hex");
  only(dormantPayloads(hex(PICKLE).toUpperCase()), "hex");
});

/** The base64 module's other encodings, written here as RFC 4648 and Python's base64.py define them. */
function b32(b: Uint8Array, alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"): string {
  let bits = 0;
  let nbits = 0;
  let out = "";
  for (const byte of b) {
    bits = ((bits << 8) | byte) & 0xffff;
    nbits += 8;
    while (nbits >= 5) out += alphabet[(bits >> (nbits -= 5)) & 31];
  }
  if (nbits > 0) out += alphabet[(bits << (5 - nbits)) & 31];
  return out.padEnd(Math.ceil(out.length / 8) * 8, "=");
}
function base85(b: Uint8Array, digit: (d: number) => string, zeros?: string): string {
  const padding = (4 - (b.length % 4)) % 4;
  const padded = Buffer.concat([Buffer.from(b), Buffer.alloc(padding)]);
  let out = "";
  for (let i = 0; i < padded.length; i += 4) {
    let v = padded.readUInt32BE(i);
    if (v === 0 && zeros && i + 4 <= b.length) {
      out += zeros;
      continue;
    }
    let group = "";
    for (let k = 0; k < 5; k++, v = Math.floor(v / 85)) group = digit(v % 85) + group;
    out += group;
  }
  return out.slice(0, out.length - padding);
}
const B85 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~";
const b85 = (b: Uint8Array): string => base85(b, (d) => B85[d]!);
const a85 = (b: Uint8Array): string => base85(b, (d) => String.fromCharCode(33 + d), "z");

test("P22: base32, base32hex, base85 and ascii85 (the base64 module's other encodings) of a pickle are decoded", () => {
  only(dormantPayloads(b32(PICKLE)), "base32");
  only(dormantPayloads(b32(PICKLE, "0123456789ABCDEFGHIJKLMNOPQRSTUV")), "base32hex");
  only(dormantPayloads(b85(PICKLE)), "base85");
  only(dormantPayloads(a85(PICKLE)), "ascii85");
  only(dormantPayloads(`<~${a85(PICKLE)}~>`), "ascii85");
  assert.deepEqual(pickles(dormantPayloads(b85(Buffer.from(b32(deflateSync(PICKLE)))))).map((d) => d.encoding), ["base85>base32>zlib"]);
});

test("P22: zlib, gzip and bz2 layers are decompressed, alone or under base64/hex, in every order", () => {
  only(dormantPayloads(deflateSync(PICKLE)), "zlib");
  only(dormantPayloads(gzipSync(PICKLE)), "gzip");
  only(dormantPayloads(BZ2), "bz2");
  only(dormantPayloads(b64(deflateSync(PICKLE))), "base64>zlib");
  only(dormantPayloads(b64(gzipSync(PICKLE))), "base64>gzip");
  only(dormantPayloads(b64(BZ2)), "base64>bz2");
  only(dormantPayloads(hex(deflateSync(PICKLE))), "hex>zlib");
  only(dormantPayloads(deflateSync(Buffer.from(b64(PICKLE)))), "zlib>base64");
  only(dormantPayloads(b64(Buffer.from(b64(deflateSync(PICKLE))))), "base64>base64>zlib");
  // A zlib stream cut before its checksum still yields its data (zlib.decompressobj() returns it).
  const z = deflateSync(PICKLE, { level: 0 });
  assert.equal(pickles(dormantPayloads(b64(z.subarray(0, z.length - 4))))[0]?.encoding, "base64>zlib");
});

test("P22: raw deflate (no header: zlib.decompress(x, -15)) is decompressed whatever block type it starts with, alone or in a chain", () => {
  // A padded payload so that zlib picks dynamic codes; the pickle stops at its STOP.
  const padded = Buffer.concat([PICKLE, Buffer.from("weights bias layer ".repeat(300))]);
  for (const [level, data, type] of [[0, PICKLE, 0], [6, PICKLE, 1], [9, padded, 2]] as const) {
    const raw = deflateRawSync(data, { level });
    assert.equal((raw[0]! >> 1) & 3, type, `block type at level ${level}`);
    only(dormantPayloads(raw), "deflate", data);
  }
  only(dormantPayloads(b64(deflateRawSync(PICKLE))), "base64>deflate");
  only(dormantPayloads(hex(deflateRawSync(padded, { level: 9 }))), "hex>deflate", padded);
  only(dormantPayloads(deflateRawSync(Buffer.from(b64(PICKLE)))), "deflate>base64");
});

test("P22: a reversed payload (loads(x[::-1])) is found, raw or compressed", () => {
  only(dormantPayloads(Buffer.from(PICKLE).reverse()), "reversed");
  only(dormantPayloads(Buffer.from(PICKLE0).reverse()), "reversed", PICKLE0);
  only(dormantPayloads(Buffer.from(deflateSync(PICKLE)).reverse()), "reversed>zlib");
  only(dormantPayloads(b64(Buffer.from(PICKLE).reverse())), "base64>reversed");
});

test("P22: random bytes constants (weights, hashes) are not raw deflate candidates, and cost little", () => {
  const cpuStart = process.cpuUsage();
  let found = 0;
  // Seeded, so a run is repeatable: noise looks like a payload about once in 200,000 constants (a
  // protocol 0/1 stream or a reversed pickle that walks to STOP), which a fresh draw would meet now and then.
  const noise = seededBytes(2026);
  for (let i = 0; i < 20_000; i++) found += dormantPayloads(noise(16 + (i % 512))).filter((d) => d.kind !== "limit").length;
  const ms = cpuMsSince(cpuStart);
  assert.equal(found, 0);
  assert.ok(ms < 3000, `${ms} ms of CPU`);
});

test("P22: xz and LZMA streams are handed back undecoded, for the caller to scan by content", () => {
  assert.deepEqual(
    dormantPayloads(b64(XZ)).map((d) => [d.kind, d.encoding, d.kind === "compressed" ? d.format : ""]),
    [["compressed", "base64>xz", "xz"]],
  );
  assert.deepEqual(dormantPayloads(LZMA_ALONE).map((d) => [d.kind, d.encoding]), [["compressed", "lzma"]]);
  const found = dormantPayloads(hex(LZMA_ALONE));
  assert.equal(found[0]?.kind, "compressed");
  assert.deepEqual(Buffer.from((found[0] as { bytes: Uint8Array }).bytes), LZMA_ALONE);
});

test("P22: a payload behind a short prefix model code cuts off, in base64 with characters its decoder drops, or in base64 written backwards, is found", () => {
  // A padded pickle, so each constant is long enough to be looked at past its start (40 characters).
  const payload = Buffer.concat([PICKLE.subarray(0, PICKLE.length - 1), Buffer.from("0" + "N0".repeat(20) + ".", "latin1")]);
  const header = Buffer.from("MGHEADER");
  only(dormantPayloads(`\n${b64(payload)}`), "after 1 character>base64", payload);
  only(dormantPayloads(`!!!!${b64(payload)}`), "after 4 characters>base64", payload);
  only(dormantPayloads(Buffer.concat([header, payload])), "after 8 bytes", payload);
  only(dormantPayloads(Buffer.concat([Buffer.from([0]), gzipSync(payload)])), "after 1 byte>gzip", payload);
  only(dormantPayloads(`data:${b64(deflateSync(payload))}`), "after 5 characters>base64>zlib", payload);
  // binascii's base64 skips what is not in its alphabet.
  only(dormantPayloads(b64(payload).split("").join("*")), "base64 characters kept>base64", payload);
  only(dormantPayloads(` ${a85(payload)}`), "after 1 character>ascii85", payload);
  only(dormantPayloads([...b64(payload)].reverse().join("")), "text reversed>base64", payload);
  // Compressed, reversed, then encoded: the magic is at the decoded end, read from the text's last characters.
  const reversedZlib = Buffer.from(b64(Buffer.from(deflateSync(payload)).reverse()));
  only(dormantIn(reversedZlib, 0, reversedZlib.length, true), "base64>reversed>zlib", payload);
  // Ordinary long text of the same shapes holds nothing: a data URI of an image, a URL, prose, a path.
  const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
  for (const ordinary of [`data:image/png;base64,${png}`, "https://huggingface.co/org/model/resolve/main/config.json", "A sentence that runs well past forty characters, with punctuation!", "/home/user/.cache/huggingface/hub/models--org--name/snapshots"]) {
    assert.deepEqual(dormantPayloads(ordinary), [], ordinary);
  }
});

test("P22: a pickle in what Python's text codecs make of it is found: UTF-16, unicode_escape, quoted-printable, uuencoding", () => {
  const latin1 = (b: Uint8Array): string => Buffer.from(b).toString("latin1");
  const utf16le = Buffer.from(latin1(PICKLE), "utf16le");
  only(dormantPayloads(Buffer.concat([Buffer.from([0xff, 0xfe]), utf16le])), "utf-16-le"); // c.decode("utf-16")
  only(dormantPayloads(utf16le.toString("latin1")), "utf-16-le"); // a str of its bytes, without the mark
  only(dormantPayloads([...PICKLE].map((b) => (b < 0x20 || b >= 0x7f || b === 0x5c ? `\\x${b.toString(16).padStart(2, "0")}` : String.fromCharCode(b))).join("")), "unicode_escape");
  only(dormantPayloads([...PICKLE].map((b) => (b < 0x21 || b > 0x7e || b === 0x3d ? `=${b.toString(16).toUpperCase().padStart(2, "0")}` : String.fromCharCode(b))).join("")), "quoted-printable");
  // codecs.encode(p, "uu"): a "begin" line, then lines of up to 45 bytes, each led by its length.
  const uuLine = (b: Uint8Array): string => {
    let line = String.fromCharCode(0x20 + b.length);
    for (let i = 0; i < b.length; i += 3) {
      const [x, y, z] = [b[i]!, b[i + 1] ?? 0, b[i + 2] ?? 0];
      for (const v of [x >> 2, ((x & 3) << 4) | (y >> 4), ((y & 15) << 2) | (z >> 6), z & 63]) line += String.fromCharCode(v === 0 ? 0x60 : 0x20 + v);
    }
    return `${line}\n`;
  };
  only(dormantPayloads(`begin 666 <data>\n${uuLine(PICKLE)}\`\nend\n`), "uu");
  only(dormantPayloads(uuLine(PICKLE)), "uu");
  // Arrays of small integers have every other byte zero as well: no payload, and not decoded as UTF-16.
  assert.deepEqual(dormantPayloads(Buffer.from(new Uint16Array(Array.from({ length: 64 }, (_, i) => i % 7)).buffer)), []);
});

test("P22: past a constant's start, only U+0080 or U+00FD in a str's UTF-8 asks for its text; a non-ASCII first character does not hide what follows", () => {
  // A weights array whose third byte is 0xC3 (a review found one in nineteen float32 arrays): nothing to read back.
  const weights = seededBytes(7)(1 << 20);
  weights[2] = 0xc3;
  weights[3] = 0xa9;
  assert.equal(mayHide(weights.subarray(0, 1024), 8 << 20, false), false);
  assert.deepEqual(dormantIn(weights, 0, 4096, false).filter((d) => d.kind !== "limit"), []);
  // Latin-1 letters in text are no payload either; a byte-order mark or an accent before base64 is a prefix like any other.
  const accented = Buffer.from(`café crème brûlée, à la carte: ${"é".repeat(30)}`);
  assert.deepEqual(dormantIn(accented, 0, accented.length, true), []);
  for (const prefix of ["\ufeff", "é", "→ "]) {
    const text = Buffer.from(prefix + b64(Buffer.concat([PICKLE, Buffer.alloc(30)])));
    assert.equal(pickles(dormantIn(text, 0, text.length, true)).length, 1, JSON.stringify(prefix));
    assert.ok(mayHide(text.subarray(0, 64), text.length, true), JSON.stringify(prefix));
  }
});

test("P22: a huge constant whose end reads as base64 backwards is a limit, not a copy of it reversed", () => {
  const huge = Buffer.alloc(LIMITS.dormantMaxInput + 100, 0x7e);
  const backwards = Buffer.from([...b64(PICKLE)].reverse().join(""));
  backwards.copy(huge, huge.length - backwards.length);
  huge[0] = 0x21;
  const started = process.cpuUsage();
  const found = dormantPayloads(huge);
  const used = process.cpuUsage(started);
  assert.deepEqual(found.map((d) => d.kind), ["limit"]);
  assert.ok((used.user + used.system) / 1000 < 2000, `${(used.user + used.system) / 1000} ms of CPU`);
});

test("P22: ordinary strings are not candidates: sha256 hex, a base64 PNG, English text, vocabulary tokens, short pickle-like text", () => {
  const ordinary = [
    createHash("sha256").update("weights").digest("hex"),
    createHash("sha256").update("weights").digest("base64"),
    "8002" + createHash("sha256").update("x").digest("hex").slice(4), // starts like PROTO 2, decodes to no pickle
    "78da" + createHash("sha256").update("y").digest("hex").slice(4), // starts like zlib, is not
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
    "The quick brown fox jumps over the lazy dog.",
    "internationalization",
    "▁transformers",
    "N.",
    "I1\n.",
    "(lp0\n.",
    "",
    Buffer.from([0x80, 0x02]),
    Buffer.alloc(4096),
  ];
  for (const s of ordinary) assert.deepEqual(dormantPayloads(s), [], JSON.stringify(typeof s === "string" ? s : [...s.subarray(0, 8)]));
});

test("P22: rejection is a few character checks: a million vocabulary strings and a 32 MB string take milliseconds", () => {
  const words = Array.from({ length: 1000 }, (_, i) => `token_${i}_${"abcdefghijklmnop".slice(i % 16)}`);
  const cpuStart = process.cpuUsage();
  let found = 0;
  for (let round = 0; round < 1000; round++) for (const w of words) found += dormantPayloads(w).length;
  const huge = "A".repeat(32 << 20);
  found += dormantPayloads(huge).length + dormantPayloads(Buffer.from("The " + "x".repeat(32 << 20))).length;
  const ms = cpuMsSince(cpuStart);
  assert.equal(found, 0);
  // CPU time, not wall time: the bound is on work, which a busy machine does not change.
  assert.ok(ms < 3000, `${ms} ms of CPU`);
});

test("P22: bounds hit are returned as limit entries: a zlib bomb, too many layers, a constant over the input bound", () => {
  const bomb = deflateSync(Buffer.alloc(LIMITS.dormantMaxDecoded + 1024, 0x20));
  const bombFound = dormantPayloads(b64(bomb));
  assert.deepEqual(bombFound.map((d) => [d.kind, d.encoding]), [["limit", "base64>zlib"]]);
  assert.match((bombFound[0] as { reason: string }).reason, /decompresses past/);

  let layered: Uint8Array = PICKLE;
  for (let i = 0; i <= LIMITS.dormantMaxDepth; i++) layered = Buffer.from(b64(layered));
  const deep = dormantPayloads(layered);
  assert.deepEqual(deep.map((d) => d.kind), ["limit"]);
  assert.match((deep[0] as { reason: string }).reason, /nests more than/);

  const long = b64(PICKLE) + "A".repeat(LIMITS.dormantMaxInput);
  const tooLong = dormantPayloads(long);
  assert.deepEqual(tooLong.map((d) => [d.kind, d.encoding]), [["limit", "base64"]]);
});
