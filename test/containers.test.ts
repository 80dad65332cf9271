/**
 * Containers and compressors: zip (read as PyTorch reads it), tar, gzip/zlib/bz2/xz/lzma, 7z, .npy.
 * Hostile inputs are built here by small builders; a fake ScanContext records findings and the
 * members handed on, so these tests do not depend on the pickle machine.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { LIMITS } from "../src/limits.js";
import type { RuleId } from "../src/rules/catalogue.js";
import { BufferSource, type ByteSource } from "../src/sources/byteSource.js";
import type { Format } from "../src/types.js";
import type { ScanBudget, ScanContext } from "../src/formats/context.js";
import { detectZipLayout, openZip, scanZip } from "../src/formats/zip.js";
import { isTarHeader, scanTar } from "../src/formats/tar.js";
import { innerName, scanBz2, scanGzip, scanLzma, scanXz, scanZlib } from "../src/formats/compression.js";
import { run7z, scanSevenZip } from "../src/formats/sevenzip.js";
import { decodeStream, remoteStreamDecoder, streamDecoderService, type StreamDecoder, type StreamFormat } from "../src/formats/streamDecoders.js";
import { parseLiteral, scanNpy } from "../src/formats/numpy.js";

// ---- fake context

interface Log {
  reports: { rule: RuleId; message: string; member: string | undefined }[];
  members: { name: string; size: number; text: string }[];
  formats: Format[];
}

function fakeContext(name = "archive", depth = 0, budget: ScanBudget = { decompressedBytes: 0 }, log: Log = { reports: [], members: [], formats: [] }, member?: string): ScanContext & { log: Log } {
  return {
    log,
    path: "test",
    member,
    name,
    depth,
    budget,
    report(rule, message) {
      log.reports.push({ rule, message, member });
    },
    async scanMember(m: string, source: ByteSource) {
      const head = await source.read(0, 64);
      log.members.push({ name: m, size: source.size, text: Buffer.from(head).toString("latin1") });
    },
    memberContext(m: string) {
      return fakeContext(m, depth + 1, budget, log, member ? `${member} > ${m}` : m);
    },
    refineFormat(format: Format) {
      log.formats.push(format);
    },
  };
}

const rules = (log: Log): RuleId[] => log.reports.map((r) => r.rule);
/** Container findings only: members named data.pkl go through the real pickle machine, whose findings are not tested here. */
const containerRules = (log: Log): RuleId[] => rules(log).filter((r) => /^MG1[45]/.test(r));
const names = (log: Log): string[] => log.members.map((m) => m.name);
const bytes = (s: string): Uint8Array => Buffer.from(s, "latin1");

/** Counts the bytes read, to prove what is *not* read. */
class CountingSource implements ByteSource {
  bytesRead = 0;
  constructor(private readonly inner: ByteSource) {}
  get name(): string {
    return this.inner.name;
  }
  get size(): number {
    return this.inner.size;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    const out = await this.inner.read(offset, length);
    this.bytesRead += out.length;
    return out;
  }
}

/** A pickle calling posix.system('id'): harmless bytes, never loaded. */
const PICKLE = bytes("\x80\x02cposix\nsystem\nX\x02\x00\x00\x00id\x85R.");

// ---- zip builder

interface ZipSpec {
  name: string;
  data: Uint8Array;
  method?: number;
  flags?: number;
  crc?: number;
  /** What the local header says, when it lies. */
  localName?: string;
  localMethod?: number;
  localSize?: number;
}

interface ZipOptions {
  /** Bytes placed before the archive; offsets stay relative to the archive (as `cat a.pkl b.zip` leaves them). */
  prefix?: Uint8Array;
  zip64?: boolean;
  /** Bytes placed between the last member and the central directory. */
  gap?: Uint8Array;
}

function buildZip(specs: ZipSpec[], options: ZipOptions = {}): Uint8Array {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let at = 0;
  for (const spec of specs) {
    const method = spec.method ?? 0;
    const data = Buffer.from(method === 8 ? deflateRawSync(spec.data) : spec.data);
    const name = Buffer.from(spec.name, "utf8");
    const localName = Buffer.from(spec.localName ?? spec.name, "utf8");
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(spec.flags ?? 0, 6);
    local.writeUInt16LE(spec.localMethod ?? method, 8);
    local.writeUInt32LE(spec.crc ?? 0x12345678, 14);
    local.writeUInt32LE(spec.localSize ?? data.length, 18);
    local.writeUInt32LE(spec.localSize ?? spec.data.length, 22);
    local.writeUInt16LE(localName.length, 26);
    parts.push(local, localName, data);
    const extra = options.zip64 ? Buffer.alloc(28) : Buffer.alloc(0);
    if (options.zip64) {
      extra.writeUInt16LE(1, 0);
      extra.writeUInt16LE(24, 2);
      extra.writeBigUInt64LE(BigInt(spec.data.length), 4);
      extra.writeBigUInt64LE(BigInt(data.length), 12);
      extra.writeBigUInt64LE(BigInt(at), 20);
    }
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(spec.flags ?? 0, 8);
    cd.writeUInt16LE(method, 10);
    cd.writeUInt32LE(spec.crc ?? 0x12345678, 16);
    cd.writeUInt32LE(options.zip64 ? 0xffffffff : data.length, 20);
    cd.writeUInt32LE(options.zip64 ? 0xffffffff : spec.data.length, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt16LE(extra.length, 30);
    cd.writeUInt32LE(options.zip64 ? 0xffffffff : at, 42);
    central.push(cd, name, extra);
    at += local.length + localName.length + data.length;
  }
  if (options.gap) {
    parts.push(Buffer.from(options.gap));
    at += options.gap.length;
  }
  const cdBytes = Buffer.concat(central);
  const tail: Buffer[] = [];
  if (options.zip64) {
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeBigUInt64LE(BigInt(specs.length), 24);
    record.writeBigUInt64LE(BigInt(specs.length), 32);
    record.writeBigUInt64LE(BigInt(cdBytes.length), 40);
    record.writeBigUInt64LE(BigInt(at), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(at + cdBytes.length), 8);
    locator.writeUInt32LE(1, 16);
    tail.push(record, locator);
  }
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(options.zip64 ? 0xffff : specs.length, 8);
  eocd.writeUInt16LE(options.zip64 ? 0xffff : specs.length, 10);
  eocd.writeUInt32LE(options.zip64 ? 0xffffffff : cdBytes.length, 12);
  eocd.writeUInt32LE(options.zip64 ? 0xffffffff : at, 16);
  return Buffer.concat([Buffer.from(options.prefix ?? []), ...parts, cdBytes, ...tail, eocd]);
}

async function scanZipBytes(zip: Uint8Array, ctx = fakeContext("model.pt")): Promise<Log> {
  await scanZip(new BufferSource("model.pt", zip), ctx);
  return ctx.log;
}

// ---- zip

test("zip: a stored member is handed on as a slice, by its central-directory name", async () => {
  const log = await scanZipBytes(buildZip([{ name: "a/payload.bin", data: PICKLE }]));
  assert.deepEqual(containerRules(log), []);
  assert.deepEqual(names(log), ["a/payload.bin"]);
  assert.equal(log.members[0]!.text, Buffer.from(PICKLE).toString("latin1"));
});

test("zip: a 64 MB stored member is not read (only the directory and local header are)", async () => {
  const zip = buildZip([{ name: "m/data/0", data: new Uint8Array(64 << 20) }]);
  const source = new CountingSource(new BufferSource("big.zip", zip));
  const archive = await openZip(source);
  const member = await archive.open(archive.entries[0]!, { decompressedBytes: 0 });
  assert.equal(member.source?.size, 64 << 20);
  assert.ok(source.bytesRead < 70_000, `read ${source.bytesRead} bytes`);
});

test("zip: wrong CRCs and an encrypted flag do not hide a stored pickle (CVE-2025-1944 class)", async () => {
  const log = await scanZipBytes(buildZip([{ name: "x/weights.pkl", data: PICKLE, flags: 1, crc: 0xdeadbeef }]));
  assert.deepEqual(containerRules(log), ["MG141"]);
  assert.match(log.reports[0]!.message, /encrypted.*scanned/);
  assert.deepEqual(names(log), ["x/weights.pkl"]);
});

test("zip: a local-header name that differs from the central directory is MG144; the central name is scanned (CVE-2025-1945 class)", async () => {
  const log = await scanZipBytes(buildZip([{ name: "archive/model.pkl", localName: "archive/readme.txt", data: PICKLE }]));
  assert.deepEqual(containerRules(log), ["MG144"]);
  assert.match(log.reports[0]!.message, /local name "archive\/readme.txt"/);
  assert.deepEqual(names(log), ["archive/model.pkl"]);
});

test("zip: local method and size that disagree with the central directory are MG144", async () => {
  const log = await scanZipBytes(buildZip([{ name: "p.pkl", data: PICKLE, localMethod: 8, localSize: 3 }]));
  assert.deepEqual(containerRules(log), ["MG144"]);
  assert.match(log.reports[0]!.message, /local method 8, central 0.*local compressed size 3/);
  assert.equal(log.members[0]!.size, PICKLE.length);
});

test("zip: deflate members are inflated; other methods are MG141 and not scanned", async () => {
  const log = await scanZipBytes(buildZip([
    { name: "d.pkl", data: PICKLE, method: 8 },
    { name: "b.pkl", data: PICKLE, method: 12 },
  ]));
  assert.deepEqual(containerRules(log), ["MG141"]);
  assert.match(log.reports[0]!.message, /"b.pkl" uses compression method 12/);
  assert.deepEqual(names(log), ["d.pkl"]);
  assert.equal(log.members[0]!.text, Buffer.from(PICKLE).toString("latin1"));
});

test("zip: two members with the same name are MG143 and both are scanned (CVE-2025-10156 class)", async () => {
  const log = await scanZipBytes(buildZip([
    { name: "m/model.pkl", data: bytes("benign") },
    { name: "m/model.pkl", data: PICKLE },
  ]));
  assert.deepEqual(containerRules(log), ["MG143"]);
  assert.deepEqual(names(log), ["m/model.pkl", "m/model.pkl"]);
});

test("zip: absolute, drive-letter, UNC and '..' names are MG142 (zip slip)", async () => {
  const log = await scanZipBytes(buildZip(["../../etc/cron.d/x", "/abs", "C:\\x", "\\\\server\\share", "a\\..\\..\\b", "ok/..data"].map((name) => ({ name, data: bytes("z") }))));
  assert.deepEqual(containerRules(log), ["MG142", "MG142", "MG142", "MG142", "MG142"]);
  assert.equal(log.members.length, 6);
});

test("zip: a pickle prepended to a zip (pickle/zip polyglot) is MG144 and scanned as '<zip prefix>' (P18)", async () => {
  const log = await scanZipBytes(buildZip([{ name: "m/inner.bin", data: bytes("inner") }], { prefix: PICKLE }));
  assert.deepEqual(containerRules(log), ["MG144"]);
  assert.match(log.reports[0]!.message, /26 bytes precede the first zip member/);
  assert.deepEqual(names(log).sort(), ["<zip prefix>", "m/inner.bin"]);
  assert.equal(log.members.find((m) => m.name === "<zip prefix>")!.text, Buffer.from(PICKLE).toString("latin1"));
  assert.equal(log.members.find((m) => m.name === "m/inner.bin")!.text, "inner");
});

test("zip: bytes between members and the central directory are MG144 and scanned", async () => {
  const log = await scanZipBytes(buildZip([{ name: "a", data: bytes("x") }], { gap: PICKLE }));
  assert.deepEqual(containerRules(log), ["MG144"]);
  assert.ok(names(log).some((n) => n.startsWith("<zip gap at ")));
});

test("zip: ZIP64 end records and extra fields are followed (PyTorch writes them for large checkpoints)", async () => {
  const log = await scanZipBytes(buildZip([{ name: "a/data.pkl", data: PICKLE }, { name: "a/version", data: bytes("3\n") }], { zip64: true }));
  assert.deepEqual(containerRules(log), []);
  assert.equal(log.members.find((m) => m.name === "a/version")!.text, "3\n");
});

test("zip: no end of central directory is MG141, never a silent pass", async () => {
  const zip = buildZip([{ name: "a", data: PICKLE }]);
  const log = await scanZipBytes(zip.subarray(0, zip.length - 22));
  assert.deepEqual(containerRules(log), ["MG141"]);
  assert.equal(log.members.length, 0);
});

test("zip: a corrupt central directory keeps the entries before the break and reports MG141", async () => {
  const zip = Buffer.from(buildZip([{ name: "a", data: PICKLE }, { name: "b", data: PICKLE }]));
  const second = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  zip[second + 3] = 0x09;
  const log = await scanZipBytes(zip);
  assert.ok(rules(log).includes("MG141"));
  assert.ok(names(log).includes("a"));
});

test("zip: nesting past LIMITS.maxDepth is MG140 and nothing is opened", async () => {
  const log = await scanZipBytes(buildZip([{ name: "a", data: PICKLE }]), fakeContext("inner.zip", LIMITS.maxDepth));
  assert.deepEqual(containerRules(log), ["MG140"]);
  assert.equal(log.members.length, 0);
});

test("zip: a deflate bomb stops at the file's decompression budget (MG140) without inflating it all", async () => {
  const budget = { decompressedBytes: LIMITS.maxDecompressedBytes - 4096 };
  const ctx = fakeContext("bomb.zip", 0, budget);
  const log = await scanZipBytes(buildZip([{ name: "zeros", data: new Uint8Array(32 << 20), method: 8 }]), ctx);
  assert.deepEqual(containerRules(log), ["MG140"]);
  assert.equal(log.members[0]!.size, 4096);
  assert.equal(budget.decompressedBytes, LIMITS.maxDecompressedBytes);
});

test("zip: layouts are told apart by names; npz is refined at the top level", async () => {
  const entry = (name: string) => ({ name }) as Parameters<typeof detectZipLayout>[0][number];
  assert.equal(detectZipLayout(["m/data.pkl", "m/version", "m/data/0"].map(entry)), "pytorch");
  assert.equal(detectZipLayout(["m/data.pkl", "m/constants.pkl", "m/code/__torch__/m.py"].map(entry)), "torchscript");
  assert.equal(detectZipLayout(["a.npy", "b.npy"].map(entry)), "npz");
  assert.equal(detectZipLayout(["config.json", "model.weights.h5"].map(entry)), "plain");
  assert.equal(detectZipLayout(["data.pkl"].map(entry)), "plain");
  const log = await scanZipBytes(buildZip([{ name: "arr_0.npy", data: bytes("\x93NUMPY") }]));
  assert.deepEqual(log.formats, ["npz"]);
});

// ---- compressors

test("gzip: a truncated gzip of a pickle is MG141 and what decompressed is still scanned (nullifAI-style)", async () => {
  const payload = Buffer.concat([PICKLE, Buffer.alloc(200_000, 0x41)]);
  const gz = gzipSync(payload);
  const ctx = fakeContext("model.pkl.gz");
  await scanGzip(new BufferSource("model.pkl.gz", gz.subarray(0, gz.length - 100)), ctx);
  assert.deepEqual(rules(ctx.log), ["MG141"]);
  assert.deepEqual(names(ctx.log), ["model.pkl"]);
  assert.ok(ctx.log.members[0]!.text.startsWith(Buffer.from(PICKLE).toString("latin1")));
});

test("gzip: every member of a multi-member gzip is decompressed, and several members are MG131 (joblib's reader reads the first and then loops; red team round 26)", async () => {
  const gz = Buffer.concat([gzipSync(bytes("first ")), gzipSync(bytes("second"))]);
  const ctx = fakeContext("x.gz");
  await scanGzip(new BufferSource("x.gz", gz), ctx);
  assert.deepEqual(rules(ctx.log), ["MG131"]);
  assert.equal(ctx.log.members[0]!.text, "first second");
  // One member, as gzip and joblib write them, is no finding.
  const one = fakeContext("x.gz");
  await scanGzip(new BufferSource("x.gz", gzipSync(bytes("first second"))), one);
  assert.deepEqual(rules(one.log), []);
});

test("gzip: members after zero padding are decompressed too, as Python's gzip skips it (a red team hid a pickle behind 8 zero bytes)", async () => {
  const padded = Buffer.concat([gzipSync(bytes("")), Buffer.alloc(8), gzipSync(bytes("second")), Buffer.alloc(3)]);
  const ctx = fakeContext("x.gz");
  await scanGzip(new BufferSource("x.gz", padded), ctx);
  assert.deepEqual(rules(ctx.log), ["MG131"]);
  assert.equal(ctx.log.members[0]!.text, "second");
  // Anything but zeros after a member is no gzip to Python either: reported.
  const junk = fakeContext("x.gz");
  await scanGzip(new BufferSource("x.gz", Buffer.concat([gzipSync(bytes("first")), Buffer.alloc(2), bytes("junk")])), junk);
  assert.deepEqual(rules(junk.log), ["MG141"]);
});

/** 20 MiB of zeros, compressed: xz by 7-Zip here; raw LZMA, which 7-Zip cannot write, by Python (test/fixtures/bombs/README.md). */
const BOMBS = {
  xz: async (): Promise<Uint8Array> => {
    const made = await run7z(["a", "-txz", "-mx=1", "z.xz", "zeros"], { zeros: new Uint8Array(20 << 20) });
    return made.fs.readFile("z.xz");
  },
  lzma: async (): Promise<Uint8Array> => readFileSync(join(import.meta.dirname, "..", "..", "test", "fixtures", "bombs", "zeros_20mib.lzma")),
};

for (const [kind, scanner] of [["xz", scanXz], ["lzma", scanLzma]] as const) {
  test(`${kind}: a bomb past the compression-ratio limit is MG140 and what precedes the bound is kept to the byte`, async () => {
    const bomb = await BOMBS[kind]();
    const budget = { decompressedBytes: 0 };
    const ctx = fakeContext(`zeros.${kind}`, 0, budget);
    await scanner(new BufferSource(`zeros.${kind}`, bomb), ctx);
    assert.deepEqual(rules(ctx.log), ["MG140"]);
    assert.match(ctx.log.reports[0]!.message, new RegExp(`more than 1000 times its compressed size.*stopped after ${LIMITS.ratioCheckMinBytes} bytes`));
    assert.equal(ctx.log.members[0]!.size, LIMITS.ratioCheckMinBytes);
    assert.equal(budget.decompressedBytes, LIMITS.ratioCheckMinBytes);
  });
}

test("zlib: joblib's .z files are inflated and named without the suffix", async () => {
  const ctx = fakeContext("model.pkl.z");
  await scanZlib(new BufferSource("model.pkl.z", deflateSync(PICKLE)), ctx);
  assert.deepEqual(names(ctx.log), ["model.pkl"]);
  assert.equal(ctx.log.members[0]!.text, Buffer.from(PICKLE).toString("latin1"));
});

test("zlib and raw deflate: a small stream is inflated whole or, when it does not decode whole, as far as it goes", async () => {
  // Small streams take one synchronous call; what it cannot finish goes through the stream, which keeps the prefix.
  // Bytes that do not compress, so a cut near the end leaves most of the stream decodable.
  const payload = Buffer.concat([PICKLE, Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251))]);
  const z = deflateSync(payload);
  const cut = fakeContext("model.pkl.z");
  await scanZlib(new BufferSource("model.pkl.z", z.subarray(0, z.length - 20)), cut);
  assert.deepEqual(rules(cut.log), ["MG141"]);
  assert.ok(cut.log.members[0]!.text.startsWith(Buffer.from(PICKLE).toString("latin1")), "the prefix is scanned");
  // A file whose decompression budget is nearly spent: the bound falls inside the stream, kept to the byte.
  const budget = { decompressedBytes: LIMITS.maxDecompressedBytes - 1000 };
  const spent = fakeContext("model.pkl.z", 0, budget);
  await scanZlib(new BufferSource("model.pkl.z", z), spent);
  assert.deepEqual(rules(spent.log), ["MG140"]);
  assert.equal(spent.log.members[0]!.size, 1000);
  assert.equal(budget.decompressedBytes, LIMITS.maxDecompressedBytes);
  // Whole, with bytes after the stream (which zlib ignores, as Python's decompressobj does), and as a zip's deflated member.
  const whole = fakeContext("model.pkl.z");
  await scanZlib(new BufferSource("model.pkl.z", Buffer.concat([z, bytes("trailing")])), whole);
  assert.deepEqual(rules(whole.log), []);
  assert.equal(whole.log.members[0]!.size, payload.length);
  assert.ok(whole.log.members[0]!.text.startsWith(Buffer.from(PICKLE).toString("latin1")));
  const zipped = await scanZipBytes(buildZip([{ name: "model.pkl", data: payload, method: 8 }]));
  assert.deepEqual(containerRules(zipped), []);
  assert.equal(zipped.members[0]!.size, payload.length);
});

const HEX = {
  bz2: "425a68393141592653599637539500000c53c05010000110400e22cc6042002000229ea034d1a69e90a64c4c83230095cefc9088c54b9730b8d031f177245385090963753950",
  xz: "fd377a585a000004e6d6b4460200210116000000742fe5a3010019800263706f7369780a73797374656d0a5802000000696485522e00000037a12239ef8e7e4e0001321a201894301fb6f37d010000000004595a",
  lzma: "5d00008000ffffffffffffffff0040008803cb87e60e3fc6dba6623ad0e017a41322c4a67b569aa15e9054d7ffffe42f0000",
};

for (const [kind, scanner] of [["bz2", scanBz2], ["xz", scanXz], ["lzma", scanLzma]] as const) {
  test(`${kind}: a compressed pickle is decompressed and scanned; a truncated one is MG141`, async () => {
    const data = Buffer.from(HEX[kind], "hex");
    const ctx = fakeContext(`model.pkl.${kind}`);
    await scanner(new BufferSource("f", data), ctx);
    assert.deepEqual(rules(ctx.log), []);
    assert.deepEqual(names(ctx.log), ["model.pkl"]);
    assert.equal(ctx.log.members[0]!.text, Buffer.from(PICKLE).toString("latin1"));
    const cut = fakeContext(`model.${kind}`);
    await scanner(new BufferSource("f", data.subarray(0, data.length - 12)), cut);
    assert.deepEqual(rules(cut.log), ["MG141"]);
  });
}

/** What `decode` makes of a `format` stream with at most `maxBytes` out: whether it ran clean, and the bytes. */
async function decoded(decode: StreamDecoder, format: StreamFormat, input: Uint8Array, maxBytes = Infinity): Promise<{ ok: boolean; bytes: string }> {
  const run = await decode({ format, input, maxBytes });
  return { ok: run.ok, bytes: Buffer.concat(run.chunks).toString("latin1") };
}
const decodeHere: StreamDecoder = ({ format, input, maxBytes }) => decodeStream(format, input, maxBytes);

test("lzma: streams decode alike one after another, whether the one before decoded, broke or was stopped at the bound", async () => {
  const data = Buffer.from(HEX.lzma, "hex");
  const clean = await decoded(decodeHere, "lzma", data);
  assert.deepEqual(clean, { ok: true, bytes: Buffer.from(PICKLE).toString("latin1") });
  for (const before of [data, data.subarray(0, data.length - 12), Buffer.alloc(40, 0xff)]) {
    await decoded(decodeHere, "lzma", before);
    assert.deepEqual(await decoded(decodeHere, "lzma", data), clean);
  }
  await decoded(decodeHere, "lzma", data, 3);
  assert.deepEqual(await decoded(decodeHere, "lzma", data), clean);
  assert.deepEqual(await decoded(decodeHere, "lzma", data, 3), { ok: false, bytes: clean.bytes.slice(0, 3) }, "a stream stopped at the bound is a failed run");
});

for (const format of ["lzma", "xz"] as const) {
  test(`${format}: a stream decoded by another thread's decoder comes back as it does here, and fails closed once that decoder is gone`, async () => {
    const data = Buffer.from(HEX[format], "hex");
    const service = streamDecoderService();
    const remote = remoteStreamDecoder(service);
    // A view into a larger buffer of its own (not Node's shared pool, which postMessage copies
    // rather than moves): only the view is sent, and the caller's buffer stays whole.
    const framed = Buffer.concat([Buffer.from("head"), data, Buffer.alloc(8192, 0x20)]);
    const view = framed.subarray(4, 4 + data.length);
    for (const [input, max] of [[view, Infinity], [data.subarray(0, data.length - 12), Infinity], [data, 3], [Buffer.alloc(40, 0xff), Infinity]] as const) {
      assert.deepEqual(await decoded(remote, format, input, max), await decoded(decodeHere, format, input, max));
    }
    assert.deepEqual(await decoded(remote, format, data, 3), { ok: false, bytes: Buffer.from(PICKLE).toString("latin1").slice(0, 3) });
    assert.equal(framed.length, 4 + data.length + 8192, "the caller's buffer was not moved away");
    assert.equal(framed.toString("latin1", 0, 4), "head");
    const inFlight = decoded(remote, format, data);
    service.close();
    for (const run of [await inFlight, await decoded(remote, format, data)]) assert.deepEqual(run, { ok: false, bytes: "" });
  });
}

test("compressors: the member name drops the suffix, or is '<decompressed>'", () => {
  assert.equal(innerName("w.tgz", { ".gz": "", ".tgz": ".tar" }), "w.tar");
  assert.equal(innerName("blob", { ".gz": "" }), "<decompressed>");
});

// ---- tar

function tarHeader(name: string, size: number, type = "0", options: { base256?: boolean } = {}): Buffer {
  const h = Buffer.alloc(512);
  h.write(name.slice(0, 100), 0, "latin1");
  h.write("0000644\0", 100);
  if (options.base256) {
    h[124] = 0x80;
    h.writeBigUInt64BE(BigInt(size), 128);
  } else h.write(size.toString(8).padStart(11, "0") + "\0", 124);
  h.write("00000000000\0", 136);
  h.write(type, 156);
  h.write("ustar\0" + "00", 257, "latin1");
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  return h;
}

function tarEntry(name: string, data: Uint8Array, type = "0", options: { base256?: boolean } = {}): Buffer {
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([tarHeader(name, data.length, type, options), Buffer.from(data), pad]);
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = body.length + 1;
  while (`${length}${body}`.length !== length) length++;
  return `${length}${body}`;
}

test("tar: GNU long names, pax paths and base-256 sizes are honoured; every member is a slice", async () => {
  const longName = `${"d/".repeat(80)}pickle`;
  const tar = Buffer.concat([
    tarEntry("././@LongLink", bytes(longName + "\0"), "L"),
    tarEntry("short", PICKLE),
    tarEntry("PaxHeader", bytes(paxRecord("path", "pax/name.pkl")), "x"),
    tarEntry("ignored", bytes("pax member")),
    tarEntry("b256", bytes("base-256 size"), "0", { base256: true }),
    tarEntry("dir/", new Uint8Array(0), "5"),
    Buffer.alloc(1024),
  ]);
  const ctx = fakeContext("old.tar");
  await scanTar(new BufferSource("old.tar", tar), ctx);
  assert.deepEqual(rules(ctx.log), []);
  assert.deepEqual(names(ctx.log), [longName, "pax/name.pkl", "b256"]);
  assert.equal(ctx.log.members[0]!.text, Buffer.from(PICKLE).toString("latin1"));
  assert.equal(ctx.log.members[2]!.text, "base-256 size");
});

test("tar: a header is what tarfile accepts by checksum (unsigned or signed sum); zeros and near misses are not", () => {
  const real = readFileSync(join(import.meta.dirname, "..", "..", "test", "fixtures", "benign", "archive_plain.tar"));
  assert.equal(isTarHeader(real), true);
  assert.equal(isTarHeader(real.subarray(0, 511)), false, "shorter than a block");
  assert.equal(isTarHeader(new Uint8Array(512)), false, "an all-zero block: sums 256, field 0");
  const off = Buffer.from(real.subarray(0, 512));
  off[0] ^= 1;
  assert.equal(isTarHeader(off), false, "one byte changed");
  // Python's tarfile also accepts the sum of the bytes read as signed (old tar writers).
  const signed = tarHeader("s", 3);
  signed.write("\u00e9\u00e9", 10, "latin1");
  signed.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of signed) sum += b > 127 ? b - 256 : b;
  signed.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  assert.equal(isTarHeader(signed), true, "the signed sum recorded");
  const zeroField = tarHeader("z", 0);
  assert.equal(isTarHeader(zeroField), true, "tarHeader writes a valid header");
  zeroField.fill(0x20, 148, 156);
  assert.equal(isTarHeader(zeroField), false, "a blank field reads 0, which no sum of a non-empty header is");
});

test("tar: member data is skipped by seeking, not read", async () => {
  const tar = Buffer.concat([tarEntry("big", new Uint8Array(8 << 20)), tarEntry("next", PICKLE), Buffer.alloc(1024)]);
  const source = new CountingSource(new BufferSource("t.tar", tar));
  const ctx = fakeContext("t.tar");
  await scanTar(source, ctx);
  assert.deepEqual(names(ctx.log), ["big", "next"]);
  assert.ok(source.bytesRead < 4096, `read ${source.bytesRead}`);
});

test("tar: a corrupt header is MG141 after the members before it; traversal and duplicates are reported", async () => {
  const bad = tarHeader("x", 3);
  bad[0] ^= 1;
  const tar = Buffer.concat([tarEntry("../evil", PICKLE), tarEntry("../evil", PICKLE), bad]);
  const ctx = fakeContext("t.tar");
  await scanTar(new BufferSource("t.tar", tar), ctx);
  assert.deepEqual(rules(ctx.log).sort(), ["MG141", "MG142", "MG142", "MG143"]);
  assert.equal(ctx.log.members.length, 2);
});

test("tar: a member cut short by the end of the file is MG141 and its bytes are scanned", async () => {
  const tar = tarEntry("p.pkl", Buffer.concat([PICKLE, Buffer.alloc(4000)])).subarray(0, 600);
  const ctx = fakeContext("t.tar");
  await scanTar(new BufferSource("t.tar", tar), ctx);
  assert.deepEqual(rules(ctx.log), ["MG141"]);
  assert.equal(ctx.log.members[0]!.size, 88);
});

// ---- 7z

test("7z: members are extracted and scanned; encrypted members are MG141", async () => {
  const made = await run7z(["a", "-t7z", "plain.7z", "p.pkl"], { "p.pkl": PICKLE });
  const plain = made.fs.readFile("plain.7z");
  const ctx = fakeContext("m.7z");
  await scanSevenZip(new BufferSource("m.7z", plain), ctx);
  assert.deepEqual(rules(ctx.log), []);
  assert.deepEqual(names(ctx.log), ["p.pkl"]);
  assert.equal(ctx.log.members[0]!.text, Buffer.from(PICKLE).toString("latin1"));

  const enc = await run7z(["a", "-t7z", "-psecret", "e.7z", "p.pkl"], { "p.pkl": PICKLE });
  const encCtx = fakeContext("e.7z");
  await scanSevenZip(new BufferSource("e.7z", enc.fs.readFile("e.7z")), encCtx);
  assert.deepEqual(rules(encCtx.log), ["MG141"]);
  assert.equal(encCtx.log.members.length, 0);

  const hidden = await run7z(["a", "-t7z", "-psecret", "-mhe=on", "h.7z", "p.pkl"], { "p.pkl": PICKLE });
  const hiddenCtx = fakeContext("h.7z");
  await scanSevenZip(new BufferSource("h.7z", hidden.fs.readFile("h.7z")), hiddenCtx);
  assert.deepEqual(rules(hiddenCtx.log), ["MG141"]);
});

// ---- npy

function npy(header: string, data: Uint8Array = new Uint8Array(0), version = 1): Uint8Array {
  const lengthSize = version === 1 ? 2 : 4;
  let text = header;
  while ((10 + lengthSize + text.length + 1) % 64 !== 0) text += " ";
  text += "\n";
  const head = Buffer.alloc(8 + lengthSize);
  Buffer.from("\x93NUMPY", "latin1").copy(head);
  head[6] = version;
  if (version === 1) head.writeUInt16LE(text.length, 8);
  else head.writeUInt32LE(text.length, 8);
  return Buffer.concat([head, Buffer.from(text, "latin1"), Buffer.from(data)]);
}

test("npy: a well-formed float array has no findings and its data is not read", async () => {
  const file = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1024, 1024), }", new Uint8Array(4 << 20));
  const source = new CountingSource(new BufferSource("a.npy", file));
  const ctx = fakeContext("a.npy");
  await scanNpy(source, ctx);
  assert.deepEqual(rules(ctx.log), []);
  assert.ok(source.bytesRead < 256);
});

test("npy: a header declaring more data than the file holds is MG151 (v2 header, structured dtype)", async () => {
  const ctx = fakeContext("a.npy");
  await scanNpy(new BufferSource("a.npy", npy("{'descr': [('x', '<f8'), ('y', '<i4', (3,))], 'fortran_order': False, 'shape': (10,), }", new Uint8Array(100), 2)), ctx);
  assert.deepEqual(rules(ctx.log), ["MG151"]);
  assert.match(ctx.log.reports[0]!.message, /declares 200 bytes of array data but the file holds 100/);
});

test("npy: a pickle behind a float header (more bytes than declared) is MG151 and the data is scanned by content", async () => {
  const ctx = fakeContext("f.npy");
  await scanNpy(new BufferSource("f.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", PICKLE)), ctx);
  assert.deepEqual(rules(ctx.log), ["MG151"]);
  assert.deepEqual(names(ctx.log), ["<npy data>"]);
  assert.equal(ctx.log.members[0]!.text, Buffer.from(PICKLE).toString("latin1"));
});

test("npy: headers that are not plain literals are MG151, never evaluated", async () => {
  for (const header of [
    "{'descr': __import__('os').system('id'), 'fortran_order': False, 'shape': (), }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }",
    "{'descr': '<f4', 'shape': (1,), }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}",
  ]) {
    const ctx = fakeContext("a.npy");
    await scanNpy(new BufferSource("a.npy", npy(header, new Uint8Array(4))), ctx);
    assert.deepEqual(rules(ctx.log), ["MG151"], header);
  }
  assert.throws(() => parseLiteral("[".repeat(100)));
});

test("npy: dtype=object (also nested in a structured dtype) is MG150 and the pickle after the header is scanned", async () => {
  for (const descr of ["'|O'", "[('a', '<f4'), ('b', [('c', '|O')])]"]) {
    const ctx = fakeContext("obj.npy");
    await scanNpy(new BufferSource("obj.npy", npy(`{'descr': ${descr}, 'fortran_order': False, 'shape': (1,), }`, PICKLE)), ctx);
    assert.equal(rules(ctx.log)[0], "MG150", descr);
    assert.ok(!rules(ctx.log).includes("MG151"));
  }
});

test("compressed layers are recognised as Python's readers take them: gzip with reserved flag bits, bz2 after an empty stream, LZMA with joblib's 5d 00 and any dictionary (a red team's skipped pickles)", async () => {
  const { sniff } = await import("../src/sniff.js");
  const format = async (bytes: Buffer) => (await sniff(new BufferSource("model", bytes), { name: "model", topLevel: true })).format;
  const gz = gzipSync(Buffer.from("\x80\x04N.", "latin1"));
  gz[3] = gz[3]! | 0xe0;
  assert.equal(await format(gz), "gzip");
  const bz2 = readFileSync(join(import.meta.dirname, "..", "..", "test", "fixtures", "benign", "compressed_plain.pkl.bz2"));
  const empty = Buffer.from([0x42, 0x5a, 0x68, 0x39, 0x17, 0x72, 0x45, 0x38, 0x50, 0x90, 0, 0, 0, 0]);
  assert.equal(await format(Buffer.concat([empty, bz2])), "bz2");
  // A 256-byte dictionary (5d 00 01 00 00), an unknown size, then the range coder's first byte (0).
  const lzma = readFileSync(join(import.meta.dirname, "..", "..", "test", "fixtures", "benign", "compressed_plain.lzma"));
  const small = Buffer.from(lzma);
  small.writeUInt32LE(256, 1);
  assert.equal(await format(small), "lzma");
  // Raw float data that opens the same way but whose range-coder byte is not 0 stays unrecognised.
  const floats = Buffer.from(small);
  floats[13] = 0x41;
  assert.notEqual(await format(floats), "lzma");
});

test("a FITS file is not a pickle: its first card opens with S, protocol 0's STRING, without the quote CPython requires (a precision corpus)", async () => {
  const { sniff } = await import("../src/sniff.js");
  const card = (text: string): string => text.padEnd(80, " ");
  const header = [card("SIMPLE  =                    T / conforms to FITS standard"), card("BITPIX  =                  -64"), card("NAXIS   =                    2"), card("NAXIS1  =                   30"), card("NAXIS2  =                   36"), card("END")].join("").padEnd(2880, " ");
  // The header, then its data unit: more than a sniff reads.
  const fits = Buffer.concat([Buffer.from(header, "latin1"), Buffer.alloc(8640)]);
  assert.equal((await sniff(new BufferSource("image.fits", fits), { name: "image.fits", topLevel: true })).format, "unknown");
  // A quoted STRING longer than the head still reads as a pickle.
  const quoted = Buffer.concat([Buffer.from("S'", "latin1"), Buffer.alloc(5000, 0x61)]);
  assert.equal((await sniff(new BufferSource("model", quoted), { name: "model", topLevel: true })).format, "pickle");
});

test("a pickle inside a layer is recognised whatever opcode it starts with and however loosely its text opcodes spell numbers, as Python reads it (a red team's SHORT_BINUNICODE start went unscanned)", async () => {
  const { sniff } = await import("../src/sniff.js");
  const format = async (bytes: Buffer) => (await sniff(new BufferSource("<decompressed>", bytes), { name: "<decompressed>", topLevel: false })).format;
  const call = "\x8c\x05posix\x8c\x06system\x93\x8c\x02id\x85R.";
  for (const start of ["", "\x8c\x01x0", "\x95\x19\x00\x00\x00\x00\x00\x00\x00", "F1_0\n0", "I 1 \n0", "Vx\x00y\n0", "S'a\rb'\n0", "I1\x00x\n0", "F1.5\x00?\n0"]) {
    assert.equal(await format(Buffer.from(start + call, "latin1")), "pickle", JSON.stringify(start));
  }
  // Behind gzip, the layer's pickle is scanned.
  const ctx = fakeContext("model.pkl.gz");
  await scanGzip(new BufferSource("model.pkl.gz", gzipSync(Buffer.from(call, "latin1"))), ctx);
  assert.deepEqual(names(ctx.log), ["model.pkl"]);
  // A first value longer than the sniffed head, the call after it.
  for (const first of [Buffer.concat([Buffer.from([0x58]), Buffer.from([0xa0, 0x86, 0x01, 0x00]), Buffer.alloc(100_000, 0x41), Buffer.from("0", "latin1")]), Buffer.from(`V${"x".repeat(100_000)}
0`, "latin1")]) {
    assert.equal(await format(Buffer.concat([first, Buffer.from(call, "latin1")])), "pickle");
  }
  // Text stays text.
  assert.equal(await format(Buffer.from("a plain README line\nand another one\n")), "unknown");
});
