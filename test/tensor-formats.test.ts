/**
 * safetensors, GGUF and chat-template checks, run directly on the committed fixtures
 * (scripts/make_tensor_format_fixtures.py) and on hostile inputs built here, one test per check.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import fc from "fast-check";
import { checkChatTemplate } from "../src/formats/chatTemplate.js";
import { scanGguf, sniffGguf } from "../src/formats/gguf.js";
import { checkSafetensorsIndex, isSafetensorsIndex, scanSafetensors, scanSafetensorsIndex, sniffSafetensors } from "../src/formats/safetensors.js";
import type { FormatScanner } from "../src/formats/context.js";
import { RULES, type RuleId } from "../src/rules/catalogue.js";
import { TENSOR_FORMAT_RULES } from "../src/rules/tensorFormats.js";
import { BufferSource, type ByteSource } from "../src/sources/byteSource.js";
import { RecordingContext } from "./support/context.js";
import { applyMutation, mutationArb } from "./support/mutate.js";
import { cpuMsSince } from "./support/timeout.js";

const FIXTURES = join(import.meta.dirname, "..", "..", "test", "fixtures");
const TEMPLATES = join(FIXTURES, "templates");

interface Entry {
  file: string;
  expect: "pass" | "block";
  threat: string | null;
  mentions: string[];
}
const manifest = JSON.parse(readFileSync(join(FIXTURES, "tensor-formats", "manifest.json"), "utf8")) as Entry[];

function scannerFor(file: string): FormatScanner {
  if (file.endsWith(".json")) return scanSafetensorsIndex;
  return file.endsWith(".gguf") ? scanGguf : scanSafetensors;
}

async function run(scanner: FormatScanner, bytes: Uint8Array | ByteSource): Promise<RecordingContext> {
  const ctx = new RecordingContext();
  await scanner(bytes instanceof Uint8Array ? new BufferSource("t", bytes) : bytes, ctx);
  return ctx;
}

function assertOnly(ctx: RecordingContext, rule: RuleId): void {
  assert.ok(ctx.rules().includes(rule), `expected ${rule}, got ${JSON.stringify(ctx.reports)}`);
}

describe("committed fixtures", () => {
  test("cover S1, G1 and G2 with benign files of each format", () => {
    const threats = new Set(manifest.map((e) => e.threat));
    for (const t of ["S1", "G1", "G2"]) assert.ok(threats.has(t), `no fixture for ${t}`);
    for (const ext of [".safetensors", ".gguf", ".json"]) assert.ok(manifest.some((e) => e.expect === "pass" && e.file.endsWith(ext)));
  });
  for (const entry of manifest) {
    test(`${entry.expect === "pass" ? "passes" : "blocks"} ${entry.file}`, async () => {
      const bytes = readFileSync(join(FIXTURES, entry.file));
      const ctx = await run(scannerFor(entry.file), bytes);
      const shown = JSON.stringify(ctx.reports, null, 1);
      if (entry.expect === "pass") assert.deepEqual(ctx.reports, [], `valid file has findings: ${shown}`);
      else {
        assert.ok(ctx.reports.length > 0, "malicious fixture has no finding");
        for (const m of entry.mentions) assert.ok(shown.includes(m), `no finding mentions ${m}: ${shown}`);
      }
      if (entry.file.endsWith(".gguf")) assert.ok(sniffGguf(bytes.subarray(0, 4096), bytes.length));
      else if (entry.file.endsWith(".safetensors")) assert.ok(sniffSafetensors(bytes.subarray(0, 4096), bytes.length));
    });
  }
});

// ---------------------------------------------------------------- safetensors builders

/** `header` as the JSON text, `data` bytes after it, optional lying length. */
function st(header: string | object, dataBytes = 0, declared?: bigint): Uint8Array {
  const text = Buffer.from(typeof header === "string" ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(declared ?? BigInt(text.length));
  return Buffer.concat([len, text, Buffer.alloc(dataBytes)]);
}
const f32 = (n: number, at = 0) => ({ dtype: "F32", shape: [n], data_offsets: [at, at + 4 * n] });

/** A source that claims `size` bytes and serves `head` at its start (zeros elsewhere): a huge file without the memory. */
function hugeSource(head: Uint8Array, size: number): ByteSource {
  return {
    name: "huge",
    size,
    async read(offset, length) {
      const n = Math.max(0, Math.min(length, size - offset));
      const out = new Uint8Array(n);
      if (offset < head.length) out.set(head.subarray(offset, offset + n));
      return out;
    },
  };
}

describe("safetensors", () => {
  test("sniffs by the length and '{', not by a magic number", () => {
    const good = st({ w: f32(2) }, 8);
    assert.ok(sniffSafetensors(good, good.length));
    assert.ok(sniffSafetensors(st({ w: f32(2) }, 8, 1n << 40n), 64), "a lying length is still safetensors, for the scanner to report");
    assert.ok(!sniffSafetensors(Buffer.from("\x80\x04\x95garbage-pickle-bytes"), 20));
    assert.ok(!sniffSafetensors(st("[1, 2]"), 14));
  });
  test("rejects a file shorter than its length field", async () => assertOnly(await run(scanSafetensors, Buffer.from([1, 2, 3])), "MG200"));
  test("rejects a header length past the end of the file", async () => assertOnly(await run(scanSafetensors, st({ w: f32(2) }, 8, 1n << 62n)), "MG200"));
  test("rejects uint64-max header length", async () => assertOnly(await run(scanSafetensors, st({}, 0, (1n << 64n) - 1n)), "MG200"));
  test("rejects a header over the reference loader's 100 MB even when the file is that big", async () => {
    const head = st({}, 0, 200_000_000n);
    const ctx = await run(scanSafetensors, hugeSource(head, 300_000_000));
    assertOnly(ctx, "MG200");
  });
  test("rejects a header that is JSON but not an object", async () => assertOnly(await run(scanSafetensors, st("[1,2]")), "MG201"));
  test("rejects a header starting with a BOM or a space", async () => {
    assertOnly(await run(scanSafetensors, st("\ufeff{}")), "MG201");
    assertOnly(await run(scanSafetensors, st(" {}")), "MG201");
  });
  test("rejects a header holding more objects and lists than the bound, unparsed", async () => {
    const ctx = await run(scanSafetensors, st(`{"__metadata__": {}, "pad": [${Array(1_000_000).fill("{}").join(",")}]}`));
    assertOnly(ctx, "MG201");
    assert.match(ctx.reports[0]!.message, /more than 1000000 objects and lists/);
  });
  test("reports duplicate keys, nested ones too", async () => {
    const ctx = await run(scanSafetensors, st('{"w":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}', 8));
    assertOnly(ctx, "MG202");
    assert.ok(ctx.reports.some((r) => r.message.includes("w.dtype")));
  });
  test("reports a duplicate key spelled with escapes, as JSON.parse decodes it", async () => {
    const ctx = await run(scanSafetensors, st('{"w":{"dtype":"F32","d\\u0074ype":"F32","shape":[2],"data_offsets":[0,8]}}', 8));
    assertOnly(ctx, "MG202");
    assert.ok(ctx.reports.some((r) => r.message.includes("w.dtype")));
    const solidus = await run(scanSafetensors, st('{"a/b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a\\/b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', 8));
    assert.ok(solidus.reports.some((r) => r.rule === "MG202" && r.message.includes('"a/b"')), JSON.stringify(solidus.reports));
    // Keys that differ only in a character next to an escaped quote are not the same key.
    assert.deepEqual((await run(scanSafetensors, st('{"w\\"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w\\"y":{"dtype":"F32","shape":[0],"data_offsets":[8,8]}}', 8))).reports, []);
  });
  test("rejects shapes with non-integers or unsafe integers", async () => {
    assertOnly(await run(scanSafetensors, st({ w: { dtype: "F32", shape: [1.5], data_offsets: [0, 4] } }, 4)), "MG203");
    assertOnly(await run(scanSafetensors, st('{"w":{"dtype":"F32","shape":[18446744073709551615,0],"data_offsets":[0,0]}}')), "MG203");
  });
  test("rejects a dtype that is an Object.prototype member", async () => {
    assertOnly(await run(scanSafetensors, st({ w: { dtype: "constructor", shape: [1], data_offsets: [0, 1] } }, 1)), "MG203");
  });
  test("rejects data_offsets past the data section", async () => assertOnly(await run(scanSafetensors, st({ w: f32(4) }, 8)), "MG204"));
  test("rejects overlapping tensors", async () => assertOnly(await run(scanSafetensors, st({ a: f32(2), b: f32(2, 4) }, 12)), "MG205"));
  test("rejects a zero-size tensor placed inside another", async () => {
    assertOnly(await run(scanSafetensors, st({ a: f32(2), b: { dtype: "F32", shape: [0], data_offsets: [4, 4] } }, 8)), "MG205");
  });
  test("rejects holes and uncovered trailing bytes", async () => {
    assertOnly(await run(scanSafetensors, st({ a: f32(1), b: f32(1, 8) }, 12)), "MG205");
    assertOnly(await run(scanSafetensors, st({ a: f32(1) }, 12)), "MG205");
  });
  test("rejects a byte count that is not shape × dtype size, and sub-byte tensors with a partial byte", async () => {
    assertOnly(await run(scanSafetensors, st({ w: { dtype: "F16", shape: [3], data_offsets: [0, 8] } }, 8)), "MG206");
    assertOnly(await run(scanSafetensors, st({ w: { dtype: "F4", shape: [3], data_offsets: [0, 2] } }, 2)), "MG206");
  });
  test("rejects __metadata__ that is not string to string", async () => {
    assertOnly(await run(scanSafetensors, st({ __metadata__: ["x"], w: f32(1) }, 4)), "MG207");
    assertOnly(await run(scanSafetensors, st({ __metadata__: { n: null }, w: f32(1) }, 4)), "MG207");
  });
  test("header length past 2^53 is still recognised as safetensors and reported (S1)", async () => {
    const lying = st({ w: f32(2) }, 8, (1n << 53n) + 1n);
    assert.ok(sniffSafetensors(lying, lying.length), "a length past 2^53 must not make the file 'unknown'");
    const ctx = await run(scanSafetensors, lying);
    assertOnly(ctx, "MG200");
    assert.ok(ctx.reports.some((r) => r.message.includes("2^53")));
    // A plausible length past 2^53 without any safetensors key is not claimed (raw data stays unknown).
    const noise = Buffer.concat([Buffer.from([1, 0, 0, 0, 0, 0, 0x30, 0]), Buffer.from('{"x": 1}')]);
    assert.ok(!sniffSafetensors(noise, noise.length));
  });
  test("shape numbers past 2^53 are reported from the raw text: JSON.parse rounds them, the loader does not", async () => {
    const ctx = await run(scanSafetensors, st('{"w":{"dtype":"U8","shape":[9007199254740993],"data_offsets":[0,0]}}'));
    assertOnly(ctx, "MG224");
    assert.ok(ctx.reports.some((r) => r.message.includes("9007199254740992")), JSON.stringify(ctx.reports));
  });
  test("offsets written as 8.0 or 8e0 are reported: the reference loader refuses them, JSON.parse accepts them", async () => {
    assertOnly(await run(scanSafetensors, st('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8.0]}}', 8)), "MG224");
    assertOnly(await run(scanSafetensors, st('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8e0]}}', 8)), "MG224");
  });
  test("a shape whose element count overflows 64 bits is reported (wrapped-around allocation)", async () => {
    const ctx = await run(scanSafetensors, st({ w: { dtype: "F32", shape: [2 ** 40, 2 ** 40], data_offsets: [0, 0] } }));
    assertOnly(ctx, "MG225");
    assert.ok(!ctx.rules().includes("MG206"), "the overflow is the finding, not a size mismatch");
  });
  test("benign twin: large but exact numbers, an empty tensor and metadata numbers as strings pass", async () => {
    const ctx = await run(scanSafetensors, st({ __metadata__: { step: "9007199254740993" }, e: { dtype: "F32", shape: [0, 4096], data_offsets: [0, 0] }, w: f32(2) }, 8));
    assert.deepEqual(ctx.reports, []);
  });
  test("never reads the tensor data", async () => {
    const head = st({ w: { dtype: "U8", shape: [1_000_000_000], data_offsets: [0, 1_000_000_000] } });
    let read = 0;
    const src = hugeSource(head, head.length + 1_000_000_000);
    const counting: ByteSource = { name: src.name, size: src.size, read: (o, l) => ((read += l), src.read(o, l)) };
    assert.deepEqual((await run(scanSafetensors, counting)).reports, []);
    assert.ok(read < 4096, `read ${read} bytes`);
  });
});

describe("safetensors index", () => {
  const ctxFor = (weightMap: Record<string, unknown>): RecordingContext => {
    const ctx = new RecordingContext();
    checkSafetensorsIndex(JSON.stringify({ weight_map: weightMap }), ctx);
    return ctx;
  };
  test("recognises an index by its weight_map", () => {
    assert.ok(isSafetensorsIndex({ weight_map: {} }));
    assert.ok(!isSafetensorsIndex({ architectures: [] }));
    assert.ok(!isSafetensorsIndex(null));
  });
  test("accepts shard names inside the folder, subfolders too", () => {
    assert.deepEqual(ctxFor({ a: "model-00001-of-00002.safetensors", b: "sub/model.safetensors", c: "..weird..name" }).reports, []);
  });
  for (const bad of ["../secret", "a/../../b", "/etc/passwd", "\\\\server\\share\\x", "C:\\x.safetensors", "a\\..\\..\\b"]) {
    test(`rejects shard name ${bad}`, () => assertOnly(ctxFor({ w: bad }), "MG208"));
  }
  test("reports every tensor mapped outside the folder, when many share a shard name", () => {
    const ctx = ctxFor({ a: "../x.safetensors", b: "model.safetensors", c: "../x.safetensors", d: "model.safetensors" });
    assertOnly(ctx, "MG208");
    assert.deepEqual(ctx.reports.map((r) => r.extra?.evidence), ["a → ../x.safetensors", "c → ../x.safetensors"]);
  });
  test("an index holding more objects and lists than the bound is reported without parsing it", () => {
    const ctx = new RecordingContext();
    checkSafetensorsIndex(`{"weight_map": {}, "pad": [${Array(1_000_000).fill("[]").join(",")}]}`, ctx);
    assertOnly(ctx, "MG209");
    assert.match(ctx.reports[0]!.message, /more than 1000000 objects and lists; it was not parsed/);
  });
  test("rejects non-string shard names and indexes without a weight_map", () => {
    assertOnly(ctxFor({ w: 3 }), "MG209");
    const ctx = new RecordingContext();
    checkSafetensorsIndex("[]", ctx);
    assertOnly(ctx, "MG209");
  });
});

// ---------------------------------------------------------------- GGUF builders

/** Little-endian GGUF pieces; `wide` = v2/v3 64-bit counts and lengths. */
class G {
  private parts: Buffer[] = [];
  constructor(private readonly wide = true) {}
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.parts.push(b);
    return this;
  }
  u64(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    this.parts.push(b);
    return this;
  }
  size(v: bigint): this {
    return this.wide ? this.u64(v) : this.u32(Number(v));
  }
  raw(b: Uint8Array | string): this {
    this.parts.push(Buffer.from(b));
    return this;
  }
  str(s: string): this {
    return this.size(BigInt(Buffer.byteLength(s))).raw(s);
  }
  header(version: number, tensors: bigint, kvs: bigint): this {
    return this.raw("GGUF").u32(version).size(tensors).size(kvs);
  }
  tensor(name: string, dims: bigint[], type: number, offset: bigint): this {
    this.str(name).u32(dims.length);
    for (const d of dims) this.size(d);
    return this.u32(type).u64(offset);
  }
  padTo(alignment: number): this {
    const len = this.bytes().length;
    return this.raw(Buffer.alloc((alignment - (len % alignment)) % alignment));
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}
const STRING = 8;
const ARRAY = 9;
const UINT32 = 4;
const U64_MAX = (1n << 64n) - 1n;
const template = (t: string): Buffer => new G().header(3, 0n, 1n).str("tokenizer.chat_template").u32(STRING).str(t).bytes();

describe("GGUF", () => {
  test("sniffs the GGUF magic", () => {
    assert.ok(sniffGguf(Buffer.from("GGUF\x03\0\0\0"), 8));
    assert.ok(!sniffGguf(Buffer.from("GGML\x03\0\0\0"), 8));
  });
  test("rejects an unknown version and names a big-endian file as such", async () => {
    assertOnly(await run(scanGguf, new G().header(4, 0n, 0n).bytes()), "MG210");
    const be = await run(scanGguf, Buffer.concat([Buffer.from("GGUF\0\0\0\x03"), Buffer.alloc(16)]));
    assert.ok(be.reports[0]!.message.includes("big-endian"));
  });
  test("rejects uint64-max tensor and metadata counts before looping", async () => {
    assertOnly(await run(scanGguf, new G().header(3, U64_MAX, 0n).bytes()), "MG211");
    assertOnly(await run(scanGguf, new G().header(3, 0n, U64_MAX).bytes()), "MG211");
  });
  test("rejects uint32-max counts in v1 files", async () => {
    assertOnly(await run(scanGguf, new G(false).header(1, 0n, 0xffffffffn).bytes()), "MG211");
  });
  test("rejects uint64-max string lengths", async () => {
    assertOnly(await run(scanGguf, new G().header(3, 0n, 1n).size(U64_MAX).raw("key").bytes()), "MG211");
  });
  test("rejects uint64-max array counts", async () => {
    const b = new G().header(3, 0n, 1n).str("a").u32(ARRAY).u32(STRING).u64(U64_MAX).bytes();
    assertOnly(await run(scanGguf, b), "MG211");
  });
  test("rejects array counts whose byte size overflows 64 bits", async () => {
    const b = new G().header(3, 0n, 1n).str("a").u32(ARRAY).u32(10 /* uint64 */).u64(1n << 61n).raw(Buffer.alloc(64)).bytes();
    assertOnly(await run(scanGguf, b), "MG211");
  });
  test("rejects unknown value and array element types", async () => {
    assertOnly(await run(scanGguf, new G().header(3, 0n, 1n).str("a").u32(13).raw(Buffer.alloc(8)).bytes()), "MG210");
    assertOnly(await run(scanGguf, new G().header(3, 0n, 1n).str("a").u32(ARRAY).u32(77).u64(0n).bytes()), "MG210");
  });
  test("rejects bool values other than 0 and 1", async () => {
    assertOnly(await run(scanGguf, new G().header(3, 0n, 1n).str("a").u32(7).raw(Buffer.from([2])).bytes()), "MG210");
  });
  test("bounds array nesting", async () => {
    const g = new G().header(3, 0n, 1n).str("a").u32(ARRAY);
    for (let i = 0; i < 100; i++) g.u32(ARRAY).u64(1n);
    assertOnly(await run(scanGguf, g.u32(0).u64(0n).bytes()), "MG212");
  });
  test("bounds key length", async () => {
    const b = new G().header(3, 0n, 1n).size(100_000n).raw(Buffer.alloc(100_000)).bytes();
    assertOnly(await run(scanGguf, b), "MG212");
  });
  test("bounds the header region on a huge file whose strings walk past it", async () => {
    const head = new G().header(3, 0n, 2n).str("a").u32(STRING).u64(300_000_000n).bytes();
    assertOnly(await run(scanGguf, hugeSource(head, 400_000_000)), "MG212");
  });
  test("rejects a non-power-of-two general.alignment", async () => {
    const b = new G().header(3, 0n, 1n).str("general.alignment").u32(UINT32).u32(48).bytes();
    assertOnly(await run(scanGguf, b), "MG210");
  });
  test("rejects more than 4 dimensions and unknown ggml types", async () => {
    assertOnly(await run(scanGguf, new G().header(3, 1n, 0n).tensor("w", [1n, 1n, 1n, 1n, 1n], 0, 0n).bytes()), "MG213");
    assertOnly(await run(scanGguf, new G().header(3, 1n, 0n).tensor("w", [4n], 1000, 0n).padTo(32).raw(Buffer.alloc(32)).bytes()), "MG213");
  });
  test("rejects uint32-max n_dims without looping over them", async () => {
    assertOnly(await run(scanGguf, new G().header(3, 1n, 0n).str("w").u32(0xffffffff).raw(Buffer.alloc(64)).bytes()), "MG213");
  });
  test("rejects dimensions past int64 and tensors past the end of the file", async () => {
    assertOnly(await run(scanGguf, new G().header(3, 1n, 0n).tensor("w", [U64_MAX], 0, 0n).padTo(32).bytes()), "MG213");
    assertOnly(await run(scanGguf, new G().header(3, 1n, 0n).tensor("w", [1n << 40n], 0, 0n).padTo(32).raw(Buffer.alloc(32)).bytes()), "MG214");
    assertOnly(await run(scanGguf, new G().header(3, 1n, 0n).tensor("w", [1n], 0, U64_MAX - 31n).padTo(32).raw(Buffer.alloc(32)).bytes()), "MG214");
  });
  test("rejects overlapping tensors", async () => {
    const b = new G().header(3, 2n, 0n).tensor("a", [16n], 0, 0n).tensor("b", [16n], 0, 32n).padTo(32).raw(Buffer.alloc(128)).bytes();
    assertOnly(await run(scanGguf, b), "MG214");
  });
  test("rejects misaligned tensor offsets", async () => {
    const b = new G().header(3, 1n, 0n).tensor("w", [1n], 0, 4n).padTo(32).raw(Buffer.alloc(32)).bytes();
    assertOnly(await run(scanGguf, b), "MG215");
  });
  test("reports duplicate keys and checks both templates", async () => {
    const b = new G().header(3, 0n, 2n).str("tokenizer.chat_template").u32(STRING).str("{{ messages }}")
      .str("tokenizer.chat_template").u32(STRING).str("{{ lipsum.__globals__ }}").bytes();
    const ctx = await run(scanGguf, b);
    assertOnly(ctx, "MG216");
    assertOnly(ctx, "MG220");
  });
  test("checks named template variants and reports a non-string template", async () => {
    const named = new G().header(3, 0n, 1n).str("tokenizer.chat_template.rag").u32(STRING).str("{{ ''.__class__ }}").bytes();
    assertOnly(await run(scanGguf, named), "MG220");
    const numeric = new G().header(3, 0n, 1n).str("tokenizer.chat_template").u32(UINT32).u32(1).bytes();
    assertOnly(await run(scanGguf, numeric), "MG210");
  });
  test("a key cut at a NUL is the key llama.cpp reads: its template is checked and the key reported", async () => {
    const b = new G().header(3, 0n, 1n).str("tokenizer.chat_template\0").u32(STRING).str("{{ cycler.__init__.__globals__.os.popen('id').read() }}").bytes();
    const ctx = await run(scanGguf, b);
    assertOnly(ctx, "MG216");
    assertOnly(ctx, "MG220");
    assert.ok(ctx.reports.some((r) => r.message.includes("cut it at the NUL")));
    assertOnly(await run(scanGguf, new G().header(3, 0n, 1n).str("general.name\x07").u32(UINT32).u32(1).bytes()), "MG216");
  });
  test("a NUL-suffixed duplicate of a template key is a duplicate, and both templates are checked", async () => {
    const b = new G().header(3, 0n, 2n).str("tokenizer.chat_template").u32(STRING).str("{{ messages }}")
      .str("tokenizer.chat_template\0x").u32(STRING).str("{{ lipsum.__globals__ }}").bytes();
    const ctx = await run(scanGguf, b);
    assert.ok(ctx.reports.filter((r) => r.rule === "MG216").length >= 2);
    assertOnly(ctx, "MG220");
  });
  test("tensor data is checked under every alignment a loader can take", async () => {
    // llama.cpp reads the NUL-suffixed alignment (64); gguf-py does not, and uses the default 32.
    const b = new G().header(3, 1n, 1n).str("general.alignment\0").u32(UINT32).u32(64).tensor("w", [8n], 0, 32n).padTo(64).raw(Buffer.alloc(64)).bytes();
    const ctx = await run(scanGguf, b);
    assert.ok(ctx.rules().includes("MG215"), "offset 32 is not a multiple of 64");
  });
  test("checks a template found before the header breaks", async () => {
    const patched = Buffer.concat([template("{{ cycler.__init__.__globals__ }}"), Buffer.from("junk")]);
    patched.writeBigUInt64LE(2n, 16); // two key/values declared, one present, then junk
    const ctx = await run(scanGguf, patched);
    assertOnly(ctx, "MG220");
    assert.ok(ctx.rules().some((r) => r === "MG210" || r === "MG211"));
  });
  test("a zero dimension past the first is a division-by-zero crash in gguf.cpp (G2)", async () => {
    const ctx = await run(scanGguf, new G().header(3, 1n, 0n).tensor("w", [32n, 0n], 0, 0n).padTo(32).raw(Buffer.alloc(32)).bytes());
    assertOnly(ctx, "MG217");
    assert.ok(ctx.reports.some((r) => r.message.includes("division")));
    assertOnly(await run(scanGguf, new G().header(3, 1n, 0n).tensor("w", [0n], 0, 0n).padTo(32).raw(Buffer.alloc(32)).bytes()), "MG217");
  });
  test("an element count at INT64_MAX overflows ggml (each dimension alone is valid)", async () => {
    const b = new G().header(3, 1n, 0n).tensor("w", [1n << 32n, 1n << 31n, 2n], 0, 0n).padTo(32).raw(Buffer.alloc(32)).bytes();
    const ctx = await run(scanGguf, b);
    assertOnly(ctx, "MG217");
    assert.ok(!ctx.rules().includes("MG214"), "reported as the overflow it is");
  });
  test("a tensor name of 64 bytes or more is past GGML_MAX_NAME", async () => {
    const long = `blk.0.${"x".repeat(60)}`;
    assertOnly(await run(scanGguf, new G().header(3, 1n, 0n).tensor(long, [8n], 0, 0n).padTo(32).raw(Buffer.alloc(32)).bytes()), "MG217");
  });
  test("general.alignment declared as uint8 or uint64 is read as uint32 by llama.cpp (asserts)", async () => {
    assertOnly(await run(scanGguf, new G().header(3, 0n, 1n).str("general.alignment").u32(0 /* uint8 */).raw(Buffer.from([32])).bytes()), "MG218");
    assertOnly(await run(scanGguf, new G().header(3, 0n, 1n).str("general.alignment").u32(10 /* uint64 */).u64(32n).bytes()), "MG218");
  });
  const vocab = (g: G, n: number): G => {
    g.str("tokenizer.ggml.tokens").u32(ARRAY).u32(STRING).u64(BigInt(n));
    for (let i = 0; i < n; i++) g.str(`t${i}`);
    return g;
  };
  test("token types declared uint8 are read as int32 per token: a heap over-read (G2)", async () => {
    const g = vocab(new G().header(3, 0n, 2n), 8).str("tokenizer.ggml.token_type").u32(ARRAY).u32(0 /* uint8 */).u64(8n).raw(Buffer.alloc(8, 1));
    const ctx = await run(scanGguf, g.bytes());
    assertOnly(ctx, "MG218");
    assert.ok(ctx.reports.some((r) => r.message.includes("int32")));
  });
  test("fewer scores than tokens: llama.cpp reads one per token past the array", async () => {
    const g = vocab(new G().header(3, 0n, 2n), 8).str("tokenizer.ggml.scores").u32(ARRAY).u32(6 /* float32 */).u64(2n).raw(Buffer.alloc(8));
    assertOnly(await run(scanGguf, g.bytes()), "MG218");
  });
  test("tokens that are not strings abort gguf_get_arr_str", async () => {
    const g = new G().header(3, 0n, 1n).str("tokenizer.ggml.tokens").u32(ARRAY).u32(UINT32).u64(2n).u32(1).u32(2);
    assertOnly(await run(scanGguf, g.bytes()), "MG218");
  });
  test("benign twin: a vocabulary with matching float32 scores and int32 token types passes", async () => {
    const g = vocab(new G().header(3, 1n, 4n), 4)
      .str("tokenizer.ggml.scores").u32(ARRAY).u32(6).u64(4n).raw(Buffer.alloc(16))
      .str("tokenizer.ggml.token_type").u32(ARRAY).u32(5 /* int32 */).u64(4n).raw(Buffer.alloc(16))
      .str("general.alignment").u32(UINT32).u32(32)
      .tensor("blk.0.attn_q.weight", [32n, 4n, 1n, 1n], 0, 0n).padTo(32).raw(Buffer.alloc(512));
    assert.deepEqual((await run(scanGguf, g.bytes())).reports, []);
  });
  test("reads only the header of a 50 GB file", async () => {
    const head = new G().header(3, 1n, 0n).tensor("w", [1n << 33n], 0, 0n).padTo(32).bytes();
    let read = 0;
    const src = hugeSource(head, head.length + 4 * 2 ** 33);
    const counting: ByteSource = { name: "50GB", size: src.size, read: (o, l) => ((read += l), src.read(o, l)) };
    const ctx = await run(scanGguf, counting);
    assert.deepEqual(ctx.reports, []);
    assert.ok(read <= 2 * 1024 * 1024, `read ${read} bytes`);
  });
});

// ---------------------------------------------------------------- chat templates

function templateFindings(t: string): RecordingContext {
  const ctx = new RecordingContext();
  checkChatTemplate(t, ctx, "tokenizer.chat_template");
  return ctx;
}

describe("chat templates", () => {
  const families = readdirSync(TEMPLATES).filter((f) => f.endsWith(".jinja"));
  test("the real families are all present", () => {
    const expected = ["chatml", "llama2", "llama3", "llama3_1", "mistral", "gemma", "qwen2_5", "qwen3", "phi3"];
    // Tool-use and namespace-heavy templates (set, macros, namespace(), loop.previtem, strftime_now, subscripts by data keys).
    expected.push("qwen3_coder", "hermes_tool_use", "mistral_tools", "mistral_small_3_1", "command_r_tools", "deepseek_v3", "granite3", "gemma3", "phi4_mini_tools");
    for (const f of expected) assert.ok(families.includes(`${f}.jinja`), f);
  });
  for (const f of families) {
    test(`${f} has no finding`, () => assert.deepEqual(templateFindings(readFileSync(join(TEMPLATES, f), "utf8")).reports, []));
  }
  const escapes: [string, string][] = [
    ["dunder attribute chain", "{{ ''.__class__.__mro__[1].__subclasses__() }}"],
    ["lipsum globals", "{{ lipsum.__globals__['os'].popen('id').read() }}"],
    ["cycler init globals", "{{ cycler.__init__.__globals__.os.popen('id').read() }}"],
    ["joiner", "{{ joiner.__init__.__globals__ }}"],
    ["namespace", "{{ namespace.__init__.__globals__ }}"],
    ["self template reference", "{{ self._TemplateReference__context }}"],
    ["config items", "{{ config.items() }}"],
    ["request", "{{ request.application.__self__ }}"],
    ["dunder string subscript", "{{ x['__class__'] }}"],
    ["subscript built from pieces", "{{ x['__cla' ~ 'ss__'] }}"],
    ["subscript built with a variable", "{{ x['__' ~ name] }}"],
    ["attr filter", "{{ x|attr('__class__') }}"],
    ["attr filter with a computed name", "{{ x|attr(name) }}"],
    ["map attribute", "{{ xs|map(attribute='__class__')|list }}"],
    ["builtins name", "{{ __builtins__ }}"],
    ["module attribute", "{{ x.os.system }}"],
    ["set on a dunder", "{% set x.__class__ = 1 %}"],
    ["in a macro", "{% macro m() %}{{ range.__init__ }}{% endmacro %}{{ m() }}"],
    ["CVE-2024-34359 payload (unparseable by the JS parser)", "{% for x in ().__class__.__base__.__subclasses__() %}{{ x }}{% endfor %}"],
  ];
  const obfuscated: [string, string][] = [
    // Red team round 6: each renders to code execution under plain jinja2.Environment.
    ["a global aliased, names built by ~ and used by variable", "{% set c = cycler %}{% set a = '__in' ~ 'it__' %}{% set b = '__glo' ~ 'bals__' %}{{ c[a][b]['os']['popen']('id') }}"],
    ["namespace(f=lipsum) and names joined from a list", "{% set n = namespace(f=lipsum) %}{% set g = ['_','_glob','als_','_']|join %}{{ n.f[g] }}"],
    ["a dict of names walking __mro__", "{% set k = {'c':'__cla'+'ss__','m':'__m'+'ro__'} %}{{ ''[k.c][k.m] }}"],
    ["names formatted from character codes", "{% set g = '%c%c' % (95,95) ~ 'globals' ~ '%c%c' % (95,95) %}{% set j = joiner %}{{ j[g] }}"],
    ["names reversed", "{% set g = ('__slab' ~ 'olg__')|reverse %}{{ x[g] }}"],
    // The same class by other roads.
    ["an underscore cut from a literal", "{% set u = 'a_b'[1] %}{{ x[u ~ u ~ 'class' ~ u ~ u] }}"],
    ["an underscore from a loop over a literal", "{% for c in 'a_b' %}{{ x[c ~ c ~ 'class' ~ c ~ c] }}{% endfor %}"],
    ["str.format with a character code", "{{ x['{:c}{:c}class{:c}{:c}'.format(95, 95, 95, 95)] }}"],
    ["str.translate", "{{ x['aaclassaa'.translate({97: 95})] }}"],
    ["format filter", "{{ x['%c%cclass%c%c'|format(95, 95, 95, 95)] }}"],
    ["replace filter", "{% set k = 'xxclassxx'|replace('x', '_') %}{{ x[k] }}"],
    ["a keyword name turned into a string", "{{ x[dict(__class__=1)|first] }}"],
    ["a block set", "{% set s %}__class__{% endset %}{{ x[s] }}"],
    ["a macro argument", "{% macro m(a) %}{{ x[a] }}{% endmacro %}{{ m('a_b'[1] ~ 'a_b'[1] ~ 'class') }}"],
    ["a list filled by append", "{% set l = [] %}{% set _ = l.append('a_b'[1]) %}{{ x[l|first ~ l|first ~ 'class'] }}"],
    ["a namespace attribute", "{% set ns = namespace(k='') %}{% set ns.k = 'a_b'[1] ~ 'a_b'[1] %}{{ x[ns.k ~ 'class'] }}"],
    ["a render-time function fed a name", "{{ x[strftime_now('__cl' ~ 'ass__')] }}"],
    ["characters of stringified data concatenated", "{% set u = (raise_exception|string)[15] %}{{ x[u ~ u ~ 'class' ~ u ~ u] }}"],
    // Red team round 20: a view's or a generator's text is its repr, "dict_items(…)", "<generator object …>".
    ["the underscore of a dict view's repr", "{% set u = ({'a': 1}.items()|string)[4] %}{{ cycler(1)[u ~ u ~ 'init' ~ u ~ u] }}"],
    ["the underscore of a generator's repr, upper-cased", "{% set u = ({'a': 1}|map('upper')|upper)[13] %}{{ x[u ~ u ~ 'class' ~ u ~ u] }}"],
    ["a view's repr inside a list's", "{% set u = ([{'a': 1}.keys()]|string)[5] %}{{ x[u ~ u ~ 'class' ~ u ~ u] }}"],
    ["a view's repr concatenated", "{% set u = ({'a': 1}.values() ~ '')[4] %}{{ x[u ~ u ~ 'class' ~ u ~ u] }}"],
    // Red team round 23: renderers fill the special tokens from the model's files (a GGUF's vocabulary, tokenizer_config.json).
    ["a subscript by the file's eos_token", "{{ cycler(1)[eos_token] }}"],
    ["a subscript by a named extra special token", "{{ x[image_token] }}"],
    ["a subscript by an item of additional_special_tokens", "{{ x[additional_special_tokens[0]] }}"],
    // What a subscript by a render-time name returned stays that through a list, |first, dict() and cycler().
    ["a render-time lookup laundered through [x]|first", "{% set a = ([cycler(1)[messages[0].content]]|first) %}{{ ([a[messages[1].content]]|first)('id') }}"],
    ["a render-time lookup laundered through [x][0]", "{% set a = [x[messages[0].content]][0] %}{{ a[messages[1].content] }}"],
    ["a render-time lookup laundered through dict()", "{% set a = dict(v=x[messages[0].content]).v %}{{ a[messages[1].content] }}"],
    ["a render-time lookup laundered through a loop", "{% for a in [x[messages[0].content]] %}{{ a[messages[1].content] }}{% endfor %}"],
    ["attributes walked by render-time names", "{{ messages[messages[0].content][messages[1].content] }}"],
    ["a call of what a render-time name looked up", "{{ x[messages[0].content]('id') }}"],
    ["map applying attr", "{{ xs|map('attr', k)|list }}"],
    ["a computed map filter name", "{{ xs|map(k, '__class__')|list }}"],
    ["selectattr with a computed name", "{{ xs|selectattr(k)|list }}"],
    ["a dotted attribute path", "{{ xs|map(attribute='a.__class__')|list }}"],
    ["lipsum passed to a macro", "{% macro m(f) %}{{ f }}{% endmacro %}{{ m(lipsum) }}"],
    ["range aliased", "{% set r = range %}{{ r }}"],
    ["loop aliased", "{% for m in messages %}{% set l = loop %}{% endfor %}"],
    ["loop subscripted", "{% for m in messages %}{{ loop[k] }}{% endfor %}"],
    ["self used at all", "{{ self }}"],
    ["str.format reading attributes", "{{ '{0.__class__}'.format(x) }}"],
    ["str.format on a built string", "{{ ('{0.' ~ k ~ '}').format(x) }}"],
  ];
  /** `['_','_cla','ss_','_']|join`: "__class__" from pieces, Built. */
  const joined = "['_','_cla','ss_','_']|join";
  const unattributed: [string, string][] = [
    // Red team round 8: each renders to code execution (or reads __class__) under plain jinja2.Environment.
    [
      "namespace() filled from a positional dict (round 8, nsdict.jinja)",
      "{%- set ns = namespace({'c': ['_','_cla','ss_','_']|join, 'i': ['_','_in','it_','_']|join, 'g': ['_','_glo','bals_','_']|join, 'o': ['o','s']|join, 'p': ['po','pen']|join}) -%}" +
        "{%- for message in messages -%}{{ '<|' + message['role'] + '|>' + message['content'] }}{%- endfor -%}{%- set _x = ns[ns.c][ns.i][ns.g][ns.o][ns.p]('id').read() -%}",
    ],
    [
      "a macro named range (round 8, rangemacro.jinja)",
      "{%- macro range(n) -%}{{ n }}{%- endmacro -%}{%- for message in messages -%}{{ '<|' + message['role'] + '|>' + message['content'] }}{%- endfor -%}" +
        "{%- set f = ''[range(['_','_cla','ss_','_']|join)][range(['_','_mro_','_']|join)][1][range(['_','_subcla','sses_','_']|join)]() -%}" +
        "{%- for c in f -%}{%- if 'wrap_close' in (c|string) -%}{%- set _ = c[range(['_','_in','it_','_']|join)][range(['_','_glo','bals_','_']|join)][range(['po','pen']|join)]('id').read() -%}{%- endif -%}{%- endfor -%}",
    ],
    // The same class by other roads: values the analysis cannot attribute, and names the template rebinds.
    ["namespace() filled by a ** spread", `{% set d = {'c': ${joined}} %}{% set ns = namespace(**d) %}{{ ''[ns.c] }}`],
    ["namespace() filled from a dict variable", `{% set d = {'c': ${joined}} %}{% set ns = namespace(d) %}{{ ''[ns.c] }}`],
    ["namespace() filled from dict()", `{% set ns = namespace(dict(c=${joined})) %}{{ ''[ns.c] }}`],
    ["namespace() filled from pairs", `{% set ns = namespace([('c', ${joined})]) %}{{ ''[ns.c] }}`],
    ["namespace() filled from |items", `{% set ns = namespace({'c': ${joined}}|items) %}{{ ''[ns.c] }}`],
    ["a namespace attribute nothing binds", "{% set ns = namespace() %}{{ x[ns.c] }}"],
    ["a macro named raise_exception", `{% macro raise_exception(n) %}{{ n }}{% endmacro %}{{ ''[raise_exception(${joined})] }}`],
    ["loop rebound by set", `{% set loop = {'index': ${joined}} %}{{ ''[loop.index] }}`],
    ["loop as a macro parameter", `{% macro m(loop) %}{{ ''[loop.index] }}{% endmacro %}{{ m({'index': ${joined}}) }}`],
    ["a macro parameter no call passes", "{% macro m(a) %}{{ x[a] }}{% endmacro %}"],
  ];
  for (const [name, t] of [...escapes, ...obfuscated, ...unattributed]) test(`flags ${name} as critical`, () => assertOnly(templateFindings(t), "MG220"));
  test("allows ordinary subscripts: literal and data keys, index arithmetic, role maps, keys of the same dict", () => {
    const t = [
      // Iterating a view yields its items: only its text is its repr.
      "{% set d = {'a': 1} %}{% for k, v in d.items() %}{{ d[k] }}{% endfor %}{% for k in d.keys()|list %}{{ d[k] }}{% endfor %}",
      "{% set roles = {'user': '<|user|>', 'assistant': '<|assistant|>'} %}{% set ns = namespace(last=0) %}",
      "{% for m in messages %}{% set ns.last = loop.index0 %}{{ roles[m['role']] }}{{ m.tool_calls[0]['function']['name'] }}",
      "{% if loop.index0 > 0 %}{{ messages[loop.index0 - 1].role }}{% endif %}{% endfor %}{{ messages[ns.last]['content'] }}",
      "{% for k in ['name', 'type'] %}{{ tool[k] }}{% endfor %}{% for key, value in tool.items() %}{{ tool[key] | tojson }}{% endfor %}",
      "{% set key = 'tool_calls' %}{{ message[key] }}{{ message.content.split('</think>')[-1] }}{{ tools | tojson(indent=4) }}",
      "{{ strftime_now('%d %B %Y') }}{{ raise_exception('roles must alternate') if false }}{{ range(3) | list }}{{ (messages|length - 1) }}",
      "{{ '{}: {}'.format('role', 'user') }}{{ xs|selectattr('role', 'equalto', 'user')|map(attribute='content')|join('\\n') }}",
      // namespace() from a dict literal with constant keys is bound by name like keywords; a macro named like a global only renders text.
      "{% set ns2 = namespace({'sep': ', ', 'n': 0}) %}{{ roles[ns2.sep] }}{{ messages[ns2.n] }}{% macro range(n) %}{{ n }}{% endmacro %}{{ range(3) }}",
    ].join("");
    assert.deepEqual(templateFindings(t).reports, []);
  });
  for (const stmt of ["{% import 'os' as os %}", "{% from 'x' import y %}", "{% include 'x' %}", "{%- extends 'base' -%}"]) {
    test(`flags ${stmt} and still checks the rest`, () => {
      const ctx = templateFindings(`${stmt}{{ lipsum.__globals__ }}`);
      assertOnly(ctx, "MG221");
      assertOnly(ctx, "MG220");
    });
  }
  test("allows index arithmetic, namespace() calls and generation markers", () => {
    const t = "{% set ns = namespace(i=0) %}{% for m in messages %}{% generation %}{{ messages[loop.index0 + 1].role }}{% endgeneration %}{% set ns.i = ns.i + 1 %}{% endfor %}";
    assert.deepEqual(templateFindings(t).reports, []);
  });
  test("an unparseable template is high, not a crash", () => {
    assertOnly(templateFindings("{% for m in messages %}{{ m }"), "MG222");
    assertOnly(templateFindings("{{ 'unterminated }}"), "MG222");
  });
  test("bounds template size and nesting", () => {
    assertOnly(templateFindings("x".repeat(2 * 1024 * 1024)), "MG223");
    assertOnly(templateFindings(`{{ ${"(".repeat(50_000)}1${")".repeat(50_000)} }}`), "MG223");
    assertOnly(templateFindings(`{{ 'a'${" ~ 'b'".repeat(5_000)} }}`), "MG223");
  });
});

// ---------------------------------------------------------------- rules and properties

test("rule table: ids MG200–MG229, critical template escapes, high malformed headers", () => {
  for (const [id, info] of Object.entries(TENSOR_FORMAT_RULES)) {
    const n = Number(id.slice(2));
    assert.ok(n >= 200 && n <= 229, id);
    assert.equal(RULES[id as RuleId], info);
  }
  assert.equal(RULES.MG220.severity, "critical");
  assert.equal(RULES.MG221.severity, "critical");
  for (const id of ["MG200", "MG201", "MG204", "MG205", "MG210", "MG211", "MG214", "MG222"] as const) assert.equal(RULES[id].severity, "high");
});

describe("properties", () => {
  const seeds = manifest.filter((e) => !e.file.endsWith(".json")).map((e) => ({ file: e.file, bytes: readFileSync(join(FIXTURES, e.file)) }));
  const params = { seed: 20260401, numRuns: Number(process.env["FUZZ_RUNS"] ?? 300) };
  test("mutated safetensors and GGUF files never throw and finish quickly", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...seeds), fc.array(mutationArb, { minLength: 1, maxLength: 4 }), async (seed, mutations) => {
        const bytes = mutations.reduce<Uint8Array>((b, m) => applyMutation(b, m), seed.bytes);
        const cpuStart = process.cpuUsage();
        await run(scannerFor(seed.file), bytes);
        assert.ok(cpuMsSince(cpuStart) < 2000, "used over 2 s of CPU");
      }),
      params,
    );
  });
  test("random headers behind a plausible length never throw", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), fc.bigInt({ min: 0n, max: U64_MAX }), async (text, declared) => {
        await run(scanSafetensors, st(`{${text}`, 16, declared % 4n === 0n ? undefined : declared));
        await run(scanGguf, Buffer.concat([Buffer.from("GGUF\x03\0\0\0"), Buffer.from(text)]));
      }),
      params,
    );
  });
  test("random template text never throws", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[{}%()\[\]'".|~_a-z0-9 #-]{0,200}$/), (t) => {
        templateFindings(t);
      }),
      params,
    );
  });
});
