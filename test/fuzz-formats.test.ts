/**
 * Fuzz / property tests for every non-pickle parser (issue 3; DESIGN.md "Bounded on hostile input",
 * "Fail closed"): safetensors and its shard index, GGUF, chat templates, ONNX, TensorFlow
 * SavedModel, keras_metadata.pb and TFLite, Keras HDF5 and .keras zips, Hydra YAML. For each:
 * random bytes, random bytes behind the format's magic or shape, and mutations of the committed
 * fixtures (bit flips, truncations, splices, length fields set to 2^32-1 / 2^64-1). Whatever the
 * bytes, nothing throws, every input finishes within a time bound, no MG160 internal error
 * surfaces (a malformed file is a format finding), and memory stays bounded. Then properties:
 * valid files built from random content have no finding; injected template escapes always do.
 *
 * Same knobs as fuzz.test.ts: FUZZ_SEED=<int> overrides the seed, FUZZ_RUNS=<factor> scales the
 * run counts. A failing input is written to $TMPDIR/modelgate-fuzz-failures/ and its hex printed.
 */
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { after, describe, test } from "node:test";
import fc from "fast-check";
import { scanSource } from "../src/engine.js";
import { checkChatTemplate } from "../src/formats/chatTemplate.js";
import type { FormatScanner } from "../src/formats/context.js";
import { scanGguf } from "../src/formats/gguf.js";
import { checkKerasConfigText, scanKerasH5 } from "../src/formats/keras.js";
import { scanOnnx } from "../src/formats/onnx.js";
import { scanSafetensors } from "../src/formats/safetensors.js";
import { scanKerasMetadata, scanSavedModel, scanTflite } from "../src/formats/tensorflow.js";
import { REPO_LIMITS, checkHydraTargets } from "../src/repo/checks.js";
import { RULES } from "../src/rules/catalogue.js";
import { BufferSource } from "../src/sources/byteSource.js";
import { SEVERITIES, type FileResult } from "../src/types.js";
import { CPU_BOUND_MS, Hang, WATCHDOG_MS, cpuMsSince, hexOf, withTimeout } from "./support/timeout.js";
import { RecordingContext } from "./support/context.js";
import { applyMutations, describeMutation, mutationArb, type Mutation } from "./support/mutate.js";

// Inputs that make libhdf5 loop each cost the reader's whole time bound: a short one keeps this file fast.
process.env["MODELGATE_HDF5_READ_MS"] ??= "1000";
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : 20261125;
const SCALE = process.env.FUZZ_RUNS !== undefined ? Number(process.env.FUZZ_RUNS) : 1;
const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));
const params = (numRuns: number): fc.Parameters<unknown> => ({ seed: SEED, numRuns: runs(numRuns), endOnFailure: false, verbose: 1 });
/** Per-input bound. The HDF5 reader alone may take 1 s before it is stopped; nothing else comes close. */
/** Heap (after gc) the whole file may leave behind: a leak per input would show here. */
const HEAP_BOUND = 150 * 1024 * 1024;
/** RSS growth allowed while one hostile input is scanned. */
const RSS_BOUND = 300 * 1024 * 1024;

const HERE = dirname(fileURLToPath(import.meta.url));
// Compiled to dist/test/: the committed fixtures stay in test/fixtures/ of the source tree.
const FIXTURES = join(HERE, "..", "..", "test", "fixtures");
const FAILURES = join(tmpdir(), "modelgate-fuzz-failures");

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
gc();
const heapAtStart = process.memoryUsage().heapUsed;
const fileStarted = performance.now();

const counts: Record<string, number> = {};
/** Rules each parser's inputs produced: proof the inputs reach past the first check. */
const rulesSeen: Record<string, Set<string>> = {};
const problems: string[] = [];
const tally = (parser: string): void => {
  counts[parser] = (counts[parser] ?? 0) + 1;
};
const saw = (parser: string, rules: readonly string[]): void => {
  for (const r of rules) (rulesSeen[parser] ??= new Set()).add(r);
};

after(() => {
  gc();
  const heapGrowth = process.memoryUsage().heapUsed - heapAtStart;
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  console.log(`fuzz-formats: seed ${SEED}, ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(", ")} (${total} inputs in all)`);
  for (const [parser, rules] of Object.entries(rulesSeen)) console.log(`fuzz-formats: ${parser} inputs gave ${[...rules].sort().join(" ")}`);
  console.log(`fuzz-formats: ${Math.round((performance.now() - fileStarted) / 1000)} s, heap +${Math.round(heapGrowth / 2 ** 20)} MB after gc`);
  if (problems.length > 0) console.log(`fuzz-formats: ${problems.length} failing input(s) saved:\n  ${[...new Set(problems)].join("\n  ")}`);
  assert.ok(heapGrowth < HEAP_BOUND, `heap grew by ${Math.round(heapGrowth / 2 ** 20)} MB over the run`);
});

// ---------------------------------------------------------------------------------------------
// The invariant

function fail(parser: string, name: string, bytes: Uint8Array, why: string, context: string): never {
  mkdirSync(FAILURES, { recursive: true });
  const file = join(FAILURES, `${parser}-${bytes.length}-${Date.now()}-${basename(name)}`);
  writeFileSync(file, bytes);
  problems.push(file);
  throw new Error(`${why}\n  input ${name} ${context}\n  hex ${hexOf(bytes)}\n  saved ${file}`);
}

const VALID_SEVERITY = new Set<string>(SEVERITIES);

/** What is wrong with one finding, or undefined. */
function badFinding(rule: string, severity: string | undefined, message: string, offset: number | undefined): string | undefined {
  if (!Object.hasOwn(RULES, rule)) return `unknown rule id ${rule}`;
  if (severity !== undefined && !VALID_SEVERITY.has(severity)) return `invalid severity ${severity} on ${rule}`;
  if (message.length === 0) return `finding ${rule} has no message`;
  if (offset !== undefined && !(Number.isSafeInteger(offset) && offset >= 0)) return `finding ${rule} has offset ${offset}`;
  if (rule === "MG160") return `MG160 internal error: ${message}`;
  return undefined;
}

/** The whole engine (sniff, scanner, polyglot readings) on in-memory bytes named `name`. */
async function engineScan(parser: string, bytes: Uint8Array, name: string, context = ""): Promise<FileResult> {
  tally(parser);
  const source = Object.assign(new BufferSource(name, bytes), { bytesRead: 0 });
  const cpuStart = process.cpuUsage();
  let result: FileResult;
  try {
    result = await withTimeout(scanSource(source, name), WATCHDOG_MS, `scanSource(${name})`);
  } catch (err) {
    fail(parser, name, bytes, `${err instanceof Hang ? "HANG" : "REJECTED"}: ${(err as Error).stack ?? String(err)}`, context);
  }
  const cpuMs = cpuMsSince(cpuStart);
  // A synchronous loop blocks the watchdog above; its CPU time shows here once it ends.
  if (cpuMs > CPU_BOUND_MS) fail(parser, name, bytes, `used ${Math.round(cpuMs)} ms of CPU (synchronous hang?)`, context);
  if (result.error !== undefined) fail(parser, name, bytes, `scan error: ${result.error}`, context);
  for (const f of result.findings) {
    const bad = badFinding(f.rule, f.severity, f.message, f.location.offset);
    if (bad) fail(parser, name, bytes, `${bad}\n  findings ${JSON.stringify(result.findings.map((x) => [x.rule, x.message]))}`, context);
  }
  saw(parser, result.findings.map((f) => f.rule));
  return result;
}

/** One format scanner straight on the bytes with a recording context: nothing may throw. */
async function direct(parser: string, scanner: FormatScanner, bytes: Uint8Array, name: string, context = ""): Promise<RecordingContext> {
  tally(parser);
  const ctx = new RecordingContext([], undefined, 0, name, name);
  const cpuStart = process.cpuUsage();
  try {
    await withTimeout(scanner(new BufferSource(name, bytes), ctx), WATCHDOG_MS, `${parser} scanner`);
  } catch (err) {
    fail(parser, name, bytes, `${err instanceof Hang ? "HANG" : "THREW"}: ${(err as Error).stack ?? String(err)}`, context);
  }
  const cpuMs = cpuMsSince(cpuStart);
  if (cpuMs > CPU_BOUND_MS) fail(parser, name, bytes, `used ${Math.round(cpuMs)} ms of CPU (synchronous hang?)`, context);
  checkReports(parser, name, bytes, ctx, context);
  return ctx;
}

/** A synchronous text check (template, YAML, Keras config) on `text`: nothing may throw. */
function textCheck(parser: string, text: string, check: (text: string, ctx: RecordingContext) => void, context = ""): RecordingContext {
  tally(parser);
  const ctx = new RecordingContext();
  const bytes = Buffer.from(text, "utf8");
  const cpuStart = process.cpuUsage();
  try {
    check(text, ctx);
  } catch (err) {
    fail(parser, `${parser}.txt`, bytes, `THREW: ${(err as Error).stack ?? String(err)}`, context);
  }
  const cpuMs = cpuMsSince(cpuStart);
  if (cpuMs > CPU_BOUND_MS) fail(parser, `${parser}.txt`, bytes, `used ${Math.round(cpuMs)} ms of CPU`, context);
  checkReports(parser, `${parser}.txt`, bytes, ctx, context);
  return ctx;
}

function checkReports(parser: string, name: string, bytes: Uint8Array, ctx: RecordingContext, context: string): void {
  for (const r of ctx.reports) {
    const bad = badFinding(r.rule, r.extra.severity, r.message, r.extra.offset);
    if (bad) fail(parser, name, bytes, bad, context);
  }
  saw(parser, ctx.rules());
}

/** Runs `body` on one hostile input and asserts the process RSS did not grow past the bound meanwhile. */
async function withinMemory<T>(what: string, body: () => Promise<T>): Promise<T> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  try {
    return await body();
  } finally {
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    assert.ok(peak - before < RSS_BOUND, `${what}: rss grew by ${Math.round((peak - before) / 2 ** 20)} MB`);
  }
}

// ---------------------------------------------------------------------------------------------
// Inputs shared by every format

function fixture(rel: string): Buffer {
  return readFileSync(join(FIXTURES, rel));
}

/** Every fixture under `dir` (recursively) whose name passes `keep`. */
function fixtures(dir: string, keep: (name: string) => boolean): { rel: string; bytes: Buffer }[] {
  const out: { rel: string; bytes: Buffer }[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(FIXTURES, rel)).sort()) {
      const child = `${rel}/${name}`;
      if (statSync(join(FIXTURES, child)).isDirectory()) walk(child);
      else if (keep(name)) out.push({ rel: child, bytes: fixture(child) });
    }
  };
  walk(dir);
  assert.ok(out.length > 0, `no fixtures in ${dir}`);
  return out;
}

const U32_MAX = 0xffffffffn;
const U64_MAX = (1n << 64n) - 1n;
const HUGE = [U32_MAX, U64_MAX, 1n << 63n, 0x7fffffffn, 1n << 40n, 0n];

/** Overwrites the little-endian field of `width` bytes at `at` (clamped into the input) with `value`. */
function setField(bytes: Uint8Array, at: number, width: 4 | 8, value: bigint): Buffer {
  const b = Buffer.from(bytes);
  if (b.length < width) return b;
  const i = Math.min(at, b.length - width);
  if (width === 4) b.writeUInt32LE(Number(value & U32_MAX), i);
  else b.writeBigUInt64LE(value & U64_MAX, i);
  return b;
}

/** A fixture with 1–4 random mutations, or with one length-sized field somewhere set to a huge value. */
function mutatedArb(seeds: readonly { rel: string; bytes: Buffer }[]): fc.Arbitrary<{ bytes: Buffer; context: string }> {
  const mutated = fc
    .tuple(fc.constantFrom(...seeds), fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
    .map(([s, ms]: [{ rel: string; bytes: Buffer }, Mutation[]]) => ({ bytes: applyMutations(s.bytes, ms), context: `(from ${s.rel}: ${ms.map(describeMutation).join("; ")})` }));
  const huge = fc
    .tuple(fc.constantFrom(...seeds), fc.nat(), fc.constantFrom(4 as const, 8 as const), fc.constantFrom(...HUGE))
    .map(([s, at, width, value]) => ({ bytes: setField(s.bytes, at % Math.max(1, s.bytes.length), width, value), context: `(from ${s.rel}: u${width * 8}@${at % Math.max(1, s.bytes.length)}=${value})` }));
  return fc.oneof({ weight: 3, arbitrary: mutated }, { weight: 1, arbitrary: huge });
}

const tail = fc.uint8Array({ maxLength: 2048 });

// ---------------------------------------------------------------------------------------------
// safetensors

const ST_SEEDS = fixtures("tensor-formats", (n) => n.endsWith(".safetensors"));

function u64le(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n & U64_MAX);
  return b;
}

/** dtype → bits per element (safetensors' Dtype::bitsize). */
const ST_DTYPES: Record<string, number> = {
  BOOL: 8, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8, F4: 4, F6_E2M3: 6, F6_E3M2: 6,
  I16: 16, U16: 16, F16: 16, BF16: 16, I32: 32, U32: 32, F32: 32, I64: 64, U64: 64, F64: 64, C64: 64,
};

/** A valid safetensors file: tensors tiled in order over the data section, string metadata. */
const validSafetensorsArb = fc
  .tuple(
    fc.uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 16 }), fc.constantFrom(...Object.keys(ST_DTYPES)), fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 4 })), {
      maxLength: 8,
      selector: ([name]) => name,
    }),
    fc.option(fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 20 }), { maxKeys: 4 }), { nil: undefined }),
  )
  .map(([tensors, metadata]) => {
    // No prototype: a tensor named "__proto__" must become a key, as JSON.parse makes it one.
    const header = Object.create(null) as Record<string, unknown>;
    if (metadata) header["__metadata__"] = metadata;
    let at = 0;
    for (const [name, dtype, shape] of tensors) {
      if (name === "__metadata__") continue;
      // Sub-byte dtypes need a whole number of bytes: pad the shape with a factor of 8 elements.
      const dims = ST_DTYPES[dtype]! % 8 === 0 ? shape : [...shape, 8];
      const bytes = (dims.reduce((n, d) => n * d, 1) * ST_DTYPES[dtype]!) / 8;
      header[name] = { dtype, shape: dims, data_offsets: [at, at + bytes] };
      at += bytes;
    }
    const text = Buffer.from(JSON.stringify(header));
    return Buffer.concat([u64le(BigInt(text.length)), text, Buffer.alloc(at, 0x3c)]);
  });

describe("safetensors", () => {
  test("random bytes behind a plausible header length and '{'", async () => {
    await fc.assert(
      // No declared length: the true length of the text, so the random text is what gets parsed.
      fc.asyncProperty(fc.option(fc.constantFrom(...HUGE, 2n, 100n), { nil: undefined }), fc.string({ maxLength: 200 }), tail, async (length, text, rest) => {
        const body = Buffer.concat([Buffer.from(`{${text}`), Buffer.from(rest)]);
        const declared = length ?? BigInt(1 + Buffer.byteLength(text));
        await engineScan("safetensors", Buffer.concat([u64le(declared), body]), "model.safetensors");
      }),
      params(300),
    );
  });

  test("mutated fixtures, and fixtures whose header length or offsets are set to 2^32-1 / 2^64-1", async () => {
    await fc.assert(
      fc.asyncProperty(mutatedArb(ST_SEEDS), async ({ bytes, context }) => {
        await direct("safetensors", scanSafetensors, bytes, "model.safetensors", context);
        await engineScan("safetensors", bytes, "model.safetensors", context);
      }),
      params(500),
    );
  });

  test("a huge declared header length is refused without reading it (bounded memory)", async () => {
    for (const length of HUGE) {
      const ctx = await withinMemory(`safetensors length ${length}`, () => direct("safetensors", scanSafetensors, Buffer.concat([u64le(length), Buffer.from('{"a":1}')]), "huge.safetensors"));
      if (length !== 0n) assert.ok(ctx.rules().includes("MG200"), JSON.stringify(ctx.reports));
    }
  });

  test("property: a valid file of random tensors and metadata has no finding", async () => {
    await fc.assert(
      fc.asyncProperty(validSafetensorsArb, async (bytes) => {
        const result = await engineScan("safetensors", bytes, "model.safetensors");
        assert.equal(result.format, "safetensors");
        assert.deepEqual(result.findings.map((f) => `${f.rule} ${f.message}`), []);
      }),
      params(300),
    );
  });

  test("shard index: mutated and random JSON never throws", async () => {
    const seeds = fixtures("tensor-formats", (n) => n.endsWith(".index.json"));
    const input = fc.oneof(
      mutatedArb(seeds),
      fc.json({ maxDepth: 4 }).map((j) => ({ bytes: Buffer.from(j), context: "(random JSON)" })),
      fc.jsonValue({ maxDepth: 3 }).map((v) => ({ bytes: Buffer.from(JSON.stringify({ weight_map: v })), context: "(random weight_map)" })),
      fc
        .dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.constantFrom("model-1.safetensors", "../w.safetensors", "/etc/passwd", "C:\\w", "a\\..\\..\\b", ""), fc.string({ maxLength: 12 })))
        .map((m) => ({ bytes: Buffer.from(JSON.stringify({ metadata: {}, weight_map: m })), context: "(shard names)" })),
    );
    await fc.assert(
      fc.asyncProperty(input, async ({ bytes, context }) => {
        await engineScan("safetensors-index", bytes, "model.safetensors.index.json", context);
      }),
      params(300),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// GGUF

const GGUF_SEEDS = fixtures("tensor-formats", (n) => n.endsWith(".gguf"));

/** Little-endian GGUF writer; `wide` is v2/v3 (64-bit counts and lengths). */
class GgufWriter {
  private readonly parts: Buffer[] = [];
  constructor(private readonly wide: boolean) {}
  u8(v: number): this {
    this.parts.push(Buffer.from([v]));
    return this;
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    this.parts.push(b);
    return this;
  }
  u64(v: bigint): this {
    this.parts.push(u64le(v));
    return this;
  }
  size(v: number): this {
    return this.wide ? this.u64(BigInt(v)) : this.u32(v);
  }
  raw(b: Uint8Array): this {
    this.parts.push(Buffer.from(b));
    return this;
  }
  str(s: string): this {
    const b = Buffer.from(s, "utf8");
    return this.size(b.length).raw(b);
  }
  get length(): number {
    return this.parts.reduce((n, p) => n + p.length, 0);
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

type GgufValue = { type: number; write: (w: GgufWriter) => void };
const FIXED_WIDTH: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 10: 8, 11: 8, 12: 8 };
const scalarArb: fc.Arbitrary<GgufValue> = fc.oneof(
  fc.tuple(fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 10, 11, 12), fc.uint8Array({ minLength: 8, maxLength: 8 })).map(([type, b]) => ({
    type,
    write: (w: GgufWriter) => void w.raw(b.subarray(0, FIXED_WIDTH[type])),
  })),
  fc.boolean().map((v) => ({ type: 7, write: (w: GgufWriter) => void w.u8(v ? 1 : 0) })),
  fc.string({ maxLength: 30 }).map((s) => ({ type: 8, write: (w: GgufWriter) => void w.str(s) })),
);
const ggufValueArb: fc.Arbitrary<GgufValue> = fc.oneof(
  { weight: 3, arbitrary: scalarArb },
  {
    weight: 1,
    arbitrary: fc.tuple(scalarArb, fc.integer({ min: 0, max: 6 })).map(([element, n]) => ({
      type: 9,
      write: (w: GgufWriter) => {
        w.u32(element.type).size(n);
        for (let i = 0; i < n; i++) element.write(w);
      },
    })),
  },
);

/** ggml types with [block elements, bytes per block] used by the generator. */
const GGML = [[0, 1, 4], [1, 1, 2], [2, 32, 18], [8, 32, 34], [12, 256, 144], [24, 1, 1], [30, 1, 2]] as const;

/** A valid GGUF: random metadata (never a chat template), aligned non-overlapping tensors, the data they need. */
const validGgufArb = fc
  .tuple(
    fc.constantFrom(1, 2, 3),
    fc.uniqueArray(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9_.]{0,24}$/), ggufValueArb), { maxLength: 8, selector: ([k]) => k }),
    fc.option(fc.constantFrom(1, 8, 32, 64, 256), { nil: undefined }),
    fc.uniqueArray(fc.tuple(fc.string({ maxLength: 12 }), fc.constantFrom(...GGML), fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 4 })), {
      maxLength: 5,
      selector: ([name]) => name,
    }),
  )
  .map(([version, kvs, alignment, tensors]) => {
    const meta = kvs.filter(([k]) => k !== "general.alignment" && !k.startsWith("tokenizer.chat_template"));
    const align = alignment ?? 32;
    const w = new GgufWriter(version > 1).raw(Buffer.from("GGUF")).u32(version).size(tensors.length).size(meta.length + (alignment ? 1 : 0));
    if (alignment) w.str("general.alignment").u32(4).u32(alignment);
    for (const [key, value] of meta) {
      w.str(key).u32(value.type);
      value.write(w);
    }
    let offset = 0;
    for (const [name, [type, block, bytes], dims] of tensors) {
      const shape = [dims[0]! * block, ...dims.slice(1)];
      w.str(name).u32(shape.length);
      for (const d of shape) w.size(d);
      w.u32(type).u64(BigInt(offset));
      offset += Math.ceil((shape.reduce((n, d) => n * d, 1) / block) * bytes / align) * align;
    }
    w.raw(Buffer.alloc((align - (w.length % align)) % align));
    return w.raw(Buffer.alloc(offset, 0x11)).bytes();
  });

describe("GGUF", () => {
  test("random bytes behind the magic and each version", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(0, 1, 2, 3, 4, 0x03000000), tail, async (version, rest) => {
        const head = Buffer.alloc(8);
        head.write("GGUF");
        head.writeUInt32LE(version, 4);
        await engineScan("gguf", Buffer.concat([head, rest]), "model.gguf");
      }),
      params(300),
    );
  });

  test("mutated fixtures, and fixtures with a count or length field set to 2^32-1 / 2^64-1", async () => {
    await fc.assert(
      fc.asyncProperty(mutatedArb(GGUF_SEEDS), async ({ bytes, context }) => {
        await direct("gguf", scanGguf, bytes, "model.gguf", context);
        await engineScan("gguf", bytes, "model.gguf", context);
      }),
      params(600),
    );
  });

  test("huge tensor/metadata counts and string lengths in the header are refused in bounded memory", async () => {
    for (const value of HUGE) {
      for (const at of [8, 16, 24]) {
        const bytes = setField(GGUF_SEEDS.find((s) => s.rel.endsWith("gguf_valid_v3.gguf"))!.bytes, at, 8, value);
        await withinMemory(`gguf u64@${at}=${value}`, () => direct("gguf", scanGguf, bytes, "model.gguf", `(u64@${at}=${value})`));
      }
    }
  });

  test("property: a valid file of random metadata and tensors has no finding", async () => {
    await fc.assert(
      fc.asyncProperty(validGgufArb, async (bytes) => {
        const ctx = await direct("gguf", scanGguf, bytes, "model.gguf");
        assert.deepEqual(ctx.reports.map((r) => `${r.rule} ${r.message}`), []);
        const result = await engineScan("gguf", bytes, "model.gguf");
        assert.equal(result.format, "gguf");
        assert.deepEqual(result.findings.map((f) => `${f.rule} ${f.message}`), []);
      }),
      params(300),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Chat templates

const TEMPLATE_SEEDS = readdirSync(join(FIXTURES, "templates")).map((n) => readFileSync(join(FIXTURES, "templates", n), "utf8"));
const checkTemplate = (text: string, ctx: RecordingContext): void => checkChatTemplate(text, ctx, "fuzz");

/** Benign chat-template pieces: the constructs real templates use, and nothing that reaches Python. */
// Literals shaped like a dunder or a mangled private name ("_A__b") are reported wherever they sit (a
// variable can carry them into a subscript), so benign text leaves them out.
const plainText = fc.stringMatching(/^[A-Za-z0-9 <>|_\n:.,!?'-]{0,16}$/).filter((t) => !t.includes("__"));
const fieldArb = fc.constantFrom("message['content']", "message.content", "message['role']", "message.role", "messages[0]['content']", "bos_token", "eos_token", "loop.index0", "tools | length");
const filterArb = fc.constantFrom("", " | trim", " | upper", " | lower", " | length", " | tojson", " | default('x')", " | replace('a', 'b')");
const conditionArb = fc.constantFrom(
  "message['role'] == 'user'",
  "message.role == 'assistant'",
  "loop.first",
  "loop.last and add_generation_prompt",
  "not add_generation_prompt",
  "messages | length > 1",
  "message['content'] is string",
  "tools is defined",
);
const { block: templateBlockArb } = fc.letrec<{ block: string; piece: string }>((tie) => ({
  block: fc.array(tie("piece"), { maxLength: 5 }).map((ps) => ps.join("")),
  piece: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    plainText,
    fc.tuple(fieldArb, filterArb).map(([f, filter]) => `{{ ${f}${filter} }}`),
    plainText.map((t) => `{{ '${t.replace(/'/g, "").replace(/\n/g, "\\n")}' + message['content'] }}`),
    fc.tuple(fc.constantFrom("message", "m"), tie("block")).map(([v, body]) => `{% for ${v} in messages %}${body.replace(/message/g, v)}{% endfor %}`),
    fc.tuple(conditionArb, tie("block"), tie("block")).map(([c, yes, no]) => `{% if ${c} %}${yes}{% else %}${no}{% endif %}`),
    fc.tuple(conditionArb, tie("block"), conditionArb, tie("block")).map(([c1, a, c2, b]) => `{% if ${c1} %}${a}{% elif ${c2} %}${b}{% endif %}`),
    plainText.map((t) => `{% set system = '${t.replace(/['\n]/g, "")}' %}{{ system }}`),
    fc.constant("{{- raise_exception('Conversation roles must alternate') }}"),
    fc.constant("{%- if add_generation_prompt %}{{ '<|assistant|>' }}{%- endif %}"),
  ),
}));

/** Sandbox escapes and imports that must always be reported critical wherever they sit. */
const INJECTIONS = [
  "{{ message.__class__ }}",
  "{{ ''.__class__.__mro__[1].__subclasses__() }}",
  "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
  "{{ lipsum.__globals__['os'] }}",
  "{{ self._TemplateReference__context }}",
  "{{ messages['__globals__'] }}",
  "{{ message | attr('__class__') }}",
  "{% import 'os' as os %}",
  "{% from 'x' import y %}",
  "{% include 'other.jinja' %}",
];

/** Puts `piece` at a piece boundary of `template` (found by splitting before each `{`). */
function insertAt(template: string, piece: string, where: number): string {
  const cuts = [0, ...[...template.matchAll(/\{[{%]/g)].map((m) => m.index), template.length];
  const at = cuts[where % cuts.length]!;
  return template.slice(0, at) + piece + template.slice(at);
}

describe("chat templates", () => {
  test("property: benign templates from a grammar (loops, ifs, filters, message fields) have no finding", () => {
    fc.assert(
      fc.property(templateBlockArb, (template) => {
        const ctx = textCheck("chat-template", template, checkTemplate);
        assert.deepEqual(ctx.reports.map((r) => `${r.rule} ${r.message}`), [], template);
      }),
      params(500),
    );
  });

  test("property: inserting a private attribute, a Jinja global's attribute or an import always gives a critical finding", () => {
    fc.assert(
      fc.property(templateBlockArb, fc.constantFrom(...INJECTIONS), fc.nat(), (template, injection, where) => {
        const text = insertAt(template, injection, where);
        const ctx = textCheck("chat-template", text, checkTemplate);
        const critical = ctx.reports.filter((r) => (r.extra.severity ?? RULES[r.rule].severity) === "critical");
        assert.ok(critical.length > 0, `no critical finding for ${JSON.stringify(text)}: ${JSON.stringify(ctx.reports)}`);
      }),
      params(500),
    );
  });

  test("mutated real templates and token soup never throw", () => {
    const soup = fc.array(fc.constantFrom("{{", "}}", "{%", "%}", "{#", "#}", "(", ")", "[", "]", "'", '"', ".", "|", "~", "+", "x", "if", "for", "in", "endfor", "endif", "set", "=", "__class__", " "), { maxLength: 60 });
    const mutatedTemplate = fc
      .tuple(fc.constantFrom(...TEMPLATE_SEEDS), fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
      .map(([t, ms]) => applyMutations(Buffer.from(t), ms).toString("utf8"));
    fc.assert(
      fc.property(fc.oneof(soup.map((s) => s.join("")), mutatedTemplate), (text) => {
        textCheck("chat-template", text, checkTemplate);
      }),
      params(600),
    );
  });

  test("deep nesting is a limit finding, not a crash", () => {
    for (const text of ["{{ " + "(".repeat(20000) + "x" + ")".repeat(20000) + " }}", "{% if x %}".repeat(5000) + "{% endif %}".repeat(5000), "{{ x" + "|trim".repeat(20000) + " }}"]) {
      const ctx = textCheck("chat-template", text, checkTemplate);
      assert.ok(ctx.rules().includes("MG223"), JSON.stringify(ctx.reports));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// ONNX, SavedModel, keras_metadata.pb, TFLite

const ONNX_SEEDS = fixtures("graph-formats", (n) => n.endsWith(".onnx"));
const SAVED_MODEL_SEEDS = fixtures("graph-formats", (n) => n === "saved_model.pb");
const KERAS_METADATA_SEEDS = fixtures("graph-formats", (n) => n === "keras_metadata.pb");
const TFLITE_SEEDS = fixtures("graph-formats", (n) => n.endsWith(".tflite"));

/** A protobuf varint. */
function varint(n: bigint): Buffer {
  const out: number[] = [];
  let v = n & U64_MAX;
  do {
    out.push(Number(v & 0x7fn) | (v >= 0x80n ? 0x80 : 0));
    v >>= 7n;
  } while (v > 0n);
  return Buffer.from(out);
}

describe("ONNX", () => {
  test("mutated fixtures, and fixtures with a huge length field", async () => {
    await fc.assert(
      fc.asyncProperty(mutatedArb(ONNX_SEEDS), async ({ bytes, context }) => {
        await direct("onnx", scanOnnx, bytes, "model.onnx", context);
        await engineScan("onnx", bytes, "model.onnx", context);
      }),
      params(500),
    );
  });

  test("random bytes behind an ir_version and a graph field of any declared length", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 12 }), fc.constantFrom(...HUGE, 5n, 64n), tail, async (ir, length, rest) => {
        const bytes = Buffer.concat([Buffer.from([0x08, ir, 0x3a]), varint(length), Buffer.from(rest)]);
        await engineScan("onnx", bytes, "model.onnx");
        await direct("onnx", scanOnnx, bytes, "model.onnx");
      }),
      params(300),
    );
  });
});

describe("TensorFlow", () => {
  test("SavedModel: mutated fixtures and random protobuf fields", async () => {
    const random = fc.tuple(fc.constantFrom(...HUGE, 3n), tail).map(([length, rest]) => ({ bytes: Buffer.concat([Buffer.from([0x08, 0x01, 0x12]), varint(length), Buffer.from(rest)]), context: "(random)" }));
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 3, arbitrary: mutatedArb(SAVED_MODEL_SEEDS) }, { weight: 1, arbitrary: random }), async ({ bytes, context }) => {
        await direct("savedmodel", scanSavedModel, bytes, "saved_model.pb", context);
        await engineScan("savedmodel", bytes, "saved_model.pb", context);
      }),
      params(400),
    );
  });

  test("keras_metadata.pb: mutated fixtures", async () => {
    await fc.assert(
      fc.asyncProperty(mutatedArb(KERAS_METADATA_SEEDS), async ({ bytes, context }) => {
        await direct("keras-metadata", scanKerasMetadata, bytes, "keras_metadata.pb", context);
        await engineScan("keras-metadata", bytes, "keras_metadata.pb", context);
      }),
      params(300),
    );
  });

  test("TFLite: mutated fixtures, and random tables behind the identifier with offsets up to 2^32-1", async () => {
    const random = fc
      .tuple(fc.oneof(fc.integer({ min: 8, max: 64 }).map((n) => n * 4), fc.constant(0xfffffffc)), tail)
      .map(([root, rest]) => {
        const head = Buffer.alloc(8);
        head.writeUInt32LE(root);
        head.write("TFL3", 4, "latin1");
        return { bytes: Buffer.concat([head, Buffer.from(rest)]), context: `(root ${root})` };
      });
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 3, arbitrary: mutatedArb(TFLITE_SEEDS) }, { weight: 1, arbitrary: random }), async ({ bytes, context }) => {
        await direct("tflite", scanTflite, bytes, "model.tflite", context);
        await engineScan("tflite", bytes, "model.tflite", context);
      }),
      params(500),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Keras: HDF5 (libhdf5 in WASM) and .keras v3 zips

const H5_SEEDS = fixtures("keras-repo", (n) => n.endsWith(".h5"));
const KERAS_ZIP_SEEDS = fixtures("keras-repo", (n) => n.endsWith(".keras"));
const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Found by the HDF5 fuzz test: three bytes changed in a Keras 2 file (a B-tree/heap address) make libhdf5 loop forever. */
function loopingH5(): Buffer {
  const b = Buffer.from(H5_SEEDS.find((s) => s.rel.endsWith("keras2_lambda.h5"))!.bytes);
  b[4164] = 0x45;
  b[4224] = 0x2a;
  b[10985] = 0x08;
  return b;
}

describe("Keras", () => {
  // Every input that makes libhdf5 loop costs the reader's 1 s bound: fewer runs than elsewhere.
  test("HDF5: mutated fixtures and random bytes behind the signature never hang the scan", async () => {
    const random = tail.map((rest) => ({ bytes: Buffer.concat([HDF5_SIGNATURE, Buffer.from(rest)]), context: "(random)" }));
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 4, arbitrary: mutatedArb(H5_SEEDS) }, { weight: 1, arbitrary: random }), async ({ bytes, context }) => {
        await direct("keras-h5", scanKerasH5, bytes, "model.h5", context);
      }),
      params(300),
    );
  });

  test("HDF5: a file that made libhdf5 loop forever is reported, and the reader serves the next file", async () => {
    const looping = loopingH5();
    const ctx = await withinMemory("looping HDF5", () => direct("keras-h5", scanKerasH5, looping, "model.h5"));
    assert.ok(ctx.rules().includes("MG265"), JSON.stringify(ctx.reports));
    for (const seed of H5_SEEDS) {
      const again = await direct("keras-h5", scanKerasH5, seed.bytes, "model.h5", seed.rel);
      assert.ok(!again.rules().includes("MG265"), `${seed.rel} after the loop: ${JSON.stringify(again.reports)}`);
    }
  });

  test(".keras zips: mutated fixtures through the engine", async () => {
    await fc.assert(
      fc.asyncProperty(mutatedArb(KERAS_ZIP_SEEDS), async ({ bytes, context }) => {
        await engineScan("keras-zip", bytes, "model.keras", context);
      }),
      params(300),
    );
  });

  test("config walk: random JSON and deep nesting", () => {
    const deep = fc.integer({ min: 1, max: 20_000 }).map((n) => `${"[".repeat(n)}${"]".repeat(n)}`);
    const deepObjects = fc.integer({ min: 1, max: 1_000 }).map((n) => `${'{"module":"os","class_name":"system","config":'.repeat(n)}1${"}".repeat(n)}`);
    fc.assert(
      fc.property(fc.oneof(fc.json({ maxDepth: 5 }), deep, deepObjects, fc.string({ maxLength: 100 })), (text) => {
        textCheck("keras-config", text, (t, ctx) => checkKerasConfigText(t, ctx, "config.json"));
      }),
      params(200),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Hydra YAML (_target_ check)

const YAML_SEEDS = [fixture("repos/hydra_malicious/model_config.yaml"), fixture("repos/benign_model/conf/model.yaml")].map((bytes, i) => ({ rel: `yaml-${i}`, bytes }));
const checkYaml = (text: string, ctx: RecordingContext): void => void checkHydraTargets(text, ctx);

/** Nested YAML from a grammar: maps, lists, anchors and aliases, tags, `_target_`s. */
const { node: yamlNodeArb } = fc.letrec<{ node: string }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom("1", "x", "null", "'q'", "os.system", "torch.nn.Linear", "*a", "!!python/object/apply:os.system ['id']", "~", "[]", "{}"),
    fc.array(tie("node"), { maxLength: 4 }).map((xs) => `[${xs.join(", ")}]`),
    fc.array(fc.tuple(fc.constantFrom("_target_", "k", "a", "<<", "model", "? x"), tie("node")), { maxLength: 4 }).map((kv) => `{${kv.map(([k, v]) => `${k}: ${v}`).join(", ")}}`),
    tie("node").map((n) => `&a ${n}`),
  ),
}));

describe("Hydra YAML", () => {
  test("mutated configs and generated YAML (anchors, aliases, tags, merge keys) never throw", () => {
    const input = fc.oneof(
      mutatedArb(YAML_SEEDS).map(({ bytes }) => bytes.toString("utf8")),
      fc.array(yamlNodeArb, { minLength: 1, maxLength: 3 }).map((docs) => docs.map((d) => `--- ${d}`).join("\n")),
    );
    fc.assert(
      fc.property(input, (text) => {
        textCheck("hydra-yaml", text, checkYaml);
      }),
      params(400),
    );
  });

  test("alias bombs are refused within bounded time and memory", async () => {
    for (const width of [9, 20]) {
      const lines = [`a0: &a0 [${Array(width).fill('"lol"').join(",")}]`];
      for (let i = 1; i < 10; i++) lines.push(`a${i}: &a${i} [${Array(width).fill(`*a${i - 1}`).join(",")}]`);
      const ctx = await withinMemory(`alias bomb ${width}`, async () => textCheck("hydra-yaml", lines.join("\n"), checkYaml));
      assert.ok(ctx.rules().includes("MG278"), JSON.stringify(ctx.reports));
    }
  });

  test("YAML of many small values is refused before parsing: bounded CPU and memory, never a pass", async () => {
    // Under the size bound, each shape composes millions of nodes in the yaml library (seconds and
    // gigabytes); the indicator count refuses them in one pass. The payload at the end is not reached.
    const payload = "\n- _target_: os.system\n";
    const size = REPO_LIMITS.configBytes - 64;
    const shapes = {
      "flow maps": `[${"{},".repeat(size / 3 - 1)}{}]`,
      "block scalars": "- 1\n".repeat(size / 4 - 8) + payload,
      "mapping lines": Array.from({ length: size / 12 }, (_, i) => `k${i.toString(36).padStart(6, "0")}: 1\n`).join("") + "x:" + payload,
      "compact sequences": "- - - - x\n".repeat(size / 10 - 4) + payload,
    };
    for (const [shape, text] of Object.entries(shapes)) {
      assert.ok(text.length <= REPO_LIMITS.configBytes, shape);
      const ctx = await withinMemory(`YAML ${shape}`, async () => textCheck("hydra-yaml", text, checkYaml));
      assert.deepEqual(ctx.rules(), ["MG278"], `${shape}: ${JSON.stringify(ctx.reports)}`);
    }
  });

  test("a large real-shaped YAML under the indicator bound is parsed and its targets judged", () => {
    // An ESPnet-style config lists its whole token inventory: 50,000 tokens, about 100,000 indicators.
    const tokens = Array.from({ length: 50_000 }, (_, i) => `- tok${i}`).join("\n");
    const text = `token_list:\n${tokens}\nmodel:\n  _target_: os.system\n`;
    const ctx = textCheck("hydra-yaml", text, checkYaml);
    assert.deepEqual(ctx.rules(), ["MG276"], JSON.stringify(ctx.reports));
  });

  test("deep nesting is reported, not a crash", () => {
    for (const text of [`a: ${"[".repeat(5000)}${"]".repeat(5000)}`, `a: ${"{b: ".repeat(3000)}1${"}".repeat(3000)}`, Array.from({ length: 2000 }, (_, i) => `${" ".repeat(i)}- `).join("\n") + "x"]) {
      const ctx = textCheck("hydra-yaml", text, checkYaml);
      assert.ok(ctx.rules().includes("MG278"), JSON.stringify(ctx.reports));
    }
  });
});
