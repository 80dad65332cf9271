/**
 * The plain-data proof (src/pickle/plainData.ts) against the symbolic machine. The proof is sound
 * only if every stream it proves is one the machine runs to STOP with no issue and no effect, ending
 * at the same byte. These tests check exactly that, on generated streams (well formed, with faults,
 * mutated, larger than a read chunk) and on the committed fixtures, and check that a stream the
 * proof gives up on is still judged by the machine. FUZZ_SEED=<int> changes the generated inputs.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, test } from "node:test";
import fc from "fast-check";
import { scanPickle } from "../src/formats/pickle.js";
import { LIMITS } from "../src/limits.js";
import { Machine, type IssueKind, type MachineObserver, type StreamOutcome } from "../src/pickle/machine.js";
import { PickleAnalyst, silentCallee } from "../src/pickle/analyst.js";
import { allowEntry, allowlist } from "../src/rules/allowlist.js";
import { provePlainData } from "../src/pickle/plainData.js";
import { StreamReader } from "../src/pickle/reader.js";
import { PLAIN_DATA, isSym } from "../src/pickle/values.js";
import { BufferSource, type ByteSource } from "../src/sources/byteSource.js";
import type { RuleId } from "../src/rules/catalogue.js";
import { RecordingContext } from "./support/context.js";
import { SparseSource } from "./support/sparseSource.js";
import { applyMutations, mutationArb } from "./support/mutate.js";
import { WATCHDOG_MS } from "./support/timeout.js";
import { OP, assemble, global, stackGlobal, str, u32, u64 } from "./support/pickle.js";

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : 20261126;
// Counterexamples are long byte arrays: the assertion message carries their hex instead.
const params = (numRuns: number): fc.Parameters<unknown> => ({ seed: SEED, numRuns, endOnFailure: true, verbose: 0, reporter: (out) => { if (out.failed) throw new Error(`failed after ${out.numRuns} runs (seed ${SEED}): ${String(out.errorInstance)}`); } });
const HERE = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(HERE, "..", "..", "test", "fixtures");

/** What the machine did with a stream: the issues it reported and how many imports and calls it saw. */
class Recorder implements MachineObserver {
  readonly issues: string[] = [];
  effects = 0;
  onImport(): void {
    this.effects++;
  }
  onDynamicImport(): void {
    this.effects++;
  }
  onCall(): void {
    this.effects++;
  }
  onBuild(): undefined {
    this.effects++;
    return undefined;
  }
  onExt(): void {
    this.effects++;
  }
  onPersistentId(): undefined {
    this.effects++;
    return undefined;
  }
  onIssue(kind: IssueKind, message: string, at: number): void {
    this.issues.push(`${kind} at ${at}: ${message}`);
  }
  onHashFlood(widest: number, probes: number, at: number): void {
    this.issues.push(`hash flood at ${at}: ${widest} keys under one hash, ${probes} comparisons`);
  }
}

const tally = { proven: 0, unproven: 0 };
after(() => console.log(`plain-data proof: ${tally.proven} streams proven, ${tally.unproven} left to the machine`));

/**
 * Runs the proof and the machine over `bytes`. A proven stream must be one the machine runs clean;
 * an unproven one must leave the reader at the stream's start. Returns whether it was proven; with
 * `mustProve`, fails unless it was.
 */
async function agree(bytes: Uint8Array, mustProve = false): Promise<boolean> {
  const source = new BufferSource("t.pkl", bytes);
  const reader = new StreamReader(source, 0);
  const proven = await provePlainData(reader);
  const recorder = new Recorder();
  const machine = await new Machine(new StreamReader(source, 0), recorder).run();
  const hex = Buffer.from(bytes.subarray(0, 200)).toString("hex");
  if (proven === undefined) {
    tally.unproven++;
    assert.equal(reader.pos, 0, `an unproven stream leaves the reader at its start (hex ${hex})`);
    assert.ok(!mustProve, `plain data left unproven; the machine saw ${recorder.effects} effects and ${JSON.stringify(recorder.issues)} (hex ${hex})`);
    return false;
  }
  tally.proven++;
  const seen: Pick<StreamOutcome, "stopped" | "end" | "effects"> & { issues: string[] } = { stopped: machine.stopped, end: machine.end, effects: recorder.effects, issues: recorder.issues };
  assert.deepEqual(seen, { stopped: true, end: proven.end, effects: 0, issues: [] }, `proven plain data, but the machine disagrees (hex ${hex})`);
  assert.equal(proven.result, PLAIN_DATA);
  return true;
}

// ---- generators

const b = (...xs: number[]): Buffer => Buffer.from(xs);
const cat = (...xs: Buffer[]): Buffer => Buffer.concat(xs);
const le = (width: 2 | 4, n: number): Buffer => {
  const out = Buffer.alloc(width);
  if (width === 2) out.writeUInt16LE(n & 0xffff);
  else out.writeInt32LE(n | 0);
  return out;
};
const float = (x: number): Buffer => {
  const out = Buffer.alloc(8);
  out.writeDoubleBE(x);
  return out;
};
const utf8 = fc.string({ maxLength: 24 }).map((s) => Buffer.from(s, "utf8"));
const raw = fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u));

/** Scalars, each in every opcode that can carry it. */
const scalarArb = fc.oneof(
  fc.constantFrom(b(OP.NONE), b(OP.NEWTRUE), b(OP.NEWFALSE)),
  fc.integer({ min: 0, max: 255 }).map((n) => b(OP.BININT1, n)),
  fc.integer({ min: 0, max: 0xffff }).map((n) => cat(b(OP.BININT2), le(2, n))),
  fc.integer().map((n) => cat(b(OP.BININT), le(4, n))),
  fc.double().map((x) => cat(b(OP.BINFLOAT), float(x))),
  utf8.filter((u) => u.length < 256).map((u) => cat(b(OP.SHORT_BINUNICODE, u.length), u)),
  utf8.map((u) => cat(b(OP.BINUNICODE), u32(u.length), u)),
  utf8.map((u) => cat(b(OP.BINUNICODE8), u64(BigInt(u.length)), u)),
  raw.map((u) => cat(b(OP.SHORT_BINSTRING, u.length), u)),
  raw.map((u) => cat(b(OP.BINSTRING), u32(u.length), u)),
  raw.map((u) => cat(b(OP.SHORT_BINBYTES, u.length), u)),
  raw.map((u) => cat(b(OP.BINBYTES), u32(u.length), u)),
  raw.map((u) => cat(b(OP.BINBYTES8), u64(BigInt(u.length)), u)),
  raw.map((u) => cat(b(OP.BYTEARRAY8), u64(BigInt(u.length)), u)),
  fc.uint8Array({ maxLength: 9 }).map((u) => cat(b(OP.LONG1, u.length), Buffer.from(u))),
  fc.uint8Array({ maxLength: 9 }).map((u) => cat(b(OP.LONG4), u32(u.length), Buffer.from(u))),
  // Protocol 0's text opcodes, some with CRLF line ends.
  fc.tuple(
    fc.constantFrom("I123", "I-7", "I01", "I00", "I0x1f", "L12345678901234567890L", "L-5", "F1.5", "F-2e-300", "Fnan", "F-inf", "S'abc'", 'S"x\\ny"', "S'\\x41\\101'", "V", "Vx\\u1234", "Vcaf\\xe9"),
    fc.boolean(),
  ).map(([t, crlf]) => Buffer.from(`${t}${crlf ? "\r" : ""}\n`, "latin1")),
);

/**
 * Scalars whose hash sets them apart as dict keys and set items: not ints of 8 bytes or more, which
 * may equal others modulo 2**61 - 1 (the proof leaves those to the machine, which counts collisions).
 */
const hashSafeKeyArb = scalarArb.filter((k) => !((k[0] === OP.LONG1 && k[1]! >= 8) || k[0] === OP.LONG4 || (/^[IL]/.test(k.toString("latin1")) && k.toString("latin1").trim().length > 18)));

/**
 * Plain-data values, recursively. With `faults`, some are built the way the machine reports
 * (APPEND on a dict, a list as a dict key, a memo key never stored, a lying FRAME, a negative
 * length, an import), so the proof must give up on them.
 */
function valuesArb(faults: boolean): fc.Arbitrary<Buffer> {
  const { value } = fc.letrec<{ value: Buffer; key: Buffer }>((tie) => {
    const plain: fc.Arbitrary<Buffer>[] = [
      scalarArb,
      fc.constantFrom(b(OP.EMPTY_TUPLE), b(OP.EMPTY_LIST), b(OP.EMPTY_DICT), b(OP.EMPTY_SET)),
      fc.array(tie("value"), { minLength: 1, maxLength: 3 }).map((vs) => cat(...vs, b([OP.TUPLE1, OP.TUPLE2, OP.TUPLE3][vs.length - 1]!))),
      fc.array(tie("value"), { maxLength: 5 }).map((vs) => cat(b(OP.MARK), ...vs, b(OP.TUPLE))),
      fc.array(tie("value"), { maxLength: 5 }).map((vs) => cat(b(OP.EMPTY_LIST, OP.MARK), ...vs, b(OP.APPENDS))),
      fc.array(tie("value"), { maxLength: 5 }).map((vs) => cat(b(OP.MARK), ...vs, b(OP.LIST))),
      tie("value").map((v) => cat(b(OP.EMPTY_LIST), v, b(OP.APPEND))),
      fc.array(fc.tuple(tie("key"), tie("value")), { maxLength: 4 }).map((kv) => cat(b(OP.EMPTY_DICT, OP.MARK), ...kv.flat(), b(OP.SETITEMS))),
      fc.array(fc.tuple(tie("key"), tie("value")), { maxLength: 4 }).map((kv) => cat(b(OP.MARK), ...kv.flat(), b(OP.DICT))),
      fc.tuple(tie("key"), tie("value")).map(([k, v]) => cat(b(OP.EMPTY_DICT), k, v, b(OP.SETITEM))),
      fc.array(tie("key"), { maxLength: 4 }).map((ks) => cat(b(OP.EMPTY_SET, OP.MARK), ...ks, b(OP.ADDITEMS))),
      fc.array(tie("key"), { maxLength: 4 }).map((ks) => cat(b(OP.MARK), ...ks, b(OP.FROZENSET))),
      fc.tuple(tie("value"), fc.integer({ min: 0, max: 255 })).map(([v, k]) => cat(v, b(OP.BINPUT, k, OP.POP, OP.BINGET, k))),
      // Keys near the memo's count, as picklers write them (a far key is left to the machine: see `broken`).
      fc.tuple(tie("value"), fc.integer({ min: 256, max: 4095 })).map(([v, k]) => cat(v, b(OP.LONG_BINPUT), u32(k), b(OP.POP, OP.LONG_BINGET), u32(k))),
      tie("value").map((v) => cat(v, b(OP.MEMOIZE))),
      fc.tuple(tie("value"), fc.integer({ min: 0, max: 4000 })).map(([v, k]) => cat(v, Buffer.from(`p${k}\n`), b(OP.POP), Buffer.from(`g${k}\n`))),
      tie("value").map((v) => cat(v, b(OP.DUP, OP.POP))),
      fc.tuple(tie("value"), tie("value")).map(([v, w]) => cat(v, w, b(OP.POP))),
      fc.tuple(tie("value"), tie("value")).map(([v, w]) => cat(b(OP.MARK), v, b(OP.POP_MARK), w)),
    ];
    const broken: fc.Arbitrary<Buffer>[] = [
      tie("value").map((v) => cat(b(OP.EMPTY_DICT), v, b(OP.APPEND))),
      fc.tuple(tie("value"), tie("value")).map(([k, v]) => cat(b(OP.EMPTY_LIST), k, v, b(OP.SETITEM))),
      fc.tuple(tie("value"), fc.constantFrom(OP.EMPTY_LIST, OP.EMPTY_DICT, OP.EMPTY_SET)).map(([v, k]) => cat(b(OP.EMPTY_DICT, k), v, b(OP.SETITEM))),
      fc.integer({ min: 0, max: 255 }).map((k) => b(OP.BINGET, k)),
      // A write into a container fetched back from the memo (picklers never do this).
      fc.tuple(tie("key"), tie("value")).map(([k, v]) => cat(b(OP.EMPTY_DICT, OP.BINPUT, 0, OP.POP, OP.BINGET, 0), k, v, b(OP.SETITEM))),
      tie("value").map((v) => cat(b(OP.EMPTY_LIST, OP.BINPUT, 1, OP.POP, OP.BINGET, 1), v, b(OP.APPEND))),
      fc.tuple(tie("value"), fc.integer({ min: 4096, max: 0xffffffff })).map(([v, k]) => cat(v, b(OP.LONG_BINPUT), u32(k), b(OP.POP, OP.LONG_BINGET), u32(k))),
      fc.tuple(tie("value"), fc.integer({ min: 0, max: 64 })).map(([v, lie]) => cat(b(OP.FRAME), u64(BigInt(lie)), v)),
      fc.constantFrom(cat(b(OP.BINSTRING), le(4, -1)), cat(b(OP.LONG4), le(4, -5)), cat(b(OP.BINUNICODE8), u64(1n << 60n))),
      fc.constantFrom(b(OP.POP_MARK), b(OP.APPENDS), b(OP.TUPLE2), b(OP.PROTO, 6), b(OP.NEXT_BUFFER)),
      fc.constantFrom(cat(global("collections", "OrderedDict"), b(OP.EMPTY_TUPLE, OP.REDUCE)), cat(str("os"), str("getcwd"), b(OP.STACK_GLOBAL)), b(OP.EMPTY_DICT, OP.EMPTY_DICT, OP.BUILD)),
      fc.constantFrom(b(OP.MARK, OP.EMPTY_TUPLE, OP.BINPERSID), Buffer.from("Pid\n")),
      fc.constantFrom("Iabc\n", "I1.5\n", "F1.2.3\n", "F\n", "Sabc\n", "S'abc\"\n", "V\\U00110000\n", "Lx\n", "g999999\n", "gfoo\n", "I12").map((t) => Buffer.from(t, "latin1")),
      fc.tuple(tie("value"), fc.constantFrom("p-1\n", "p1.5\n", "pxyz\n")).map(([v, t]) => cat(v, Buffer.from(t))),
      fc.constant(Buffer.concat([Buffer.from("I"), Buffer.alloc(70_000, 0x31), Buffer.from("\n")])),
    ];
    return {
      value: faults ? fc.oneof({ arbitrary: fc.oneof(...plain), weight: 9 }, { arbitrary: fc.oneof(...broken), weight: 1 }) : fc.oneof({ depthSize: "small" }, ...plain),
      // Keys the machine accepts: scalars, tuples, frozensets. Those that can share a hash with others
      // (big ints, tuples, frozensets) the proof leaves to the machine: they come with the faults.
      key: faults
        ? fc.oneof(scalarArb, fc.array(tie("key"), { maxLength: 2 }).map((ks) => cat(b(OP.MARK), ...ks, b(OP.TUPLE))), fc.constant(b(OP.MARK, OP.FROZENSET)))
        : hashSafeKeyArb,
    };
  });
  return value;
}

/** A FRAME around `v` (frames do not nest, so only whole top-level values are framed). */
const framed = (v: Buffer): Buffer => cat(b(OP.FRAME), u64(BigInt(v.length)), v);
const wholeStream = (proto: number, v: Buffer, frame = false): Buffer => cat(b(OP.PROTO, proto), frame ? framed(v) : v, b(OP.STOP));

// ---- the properties

describe("the plain-data proof agrees with the machine", () => {
  test("every well-formed plain-data stream is proven, and the machine runs it clean", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 5 }), valuesArb(false), fc.boolean(), async (proto, v, frame) => {
        await agree(wholeStream(proto, v, frame), true);
      }),
      params(3000),
    );
  });

  test("streams with faults or mutations: whatever is proven, the machine runs clean", async () => {
    let proven = 0;
    let unproven = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 5 }), valuesArb(true), fc.boolean(), fc.array(mutationArb, { maxLength: 3 }), async (proto, v, frame, ms) => {
        if (await agree(applyMutations(wholeStream(proto, v, frame), ms))) proven++;
        else unproven++;
      }),
      params(8000),
    );
    // Both outcomes must be common, or the property checks little.
    assert.ok(proven > 800 && unproven > 800, `${proven} proven, ${unproven} unproven`);
  });

  test("streams longer than a read chunk: refills mid-operand agree, and a truncation is never proven", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(valuesArb(false), { minLength: 400, maxLength: 800 }), fc.integer({ min: 0, max: 999 }), async (vs, shift) => {
        // A list of values, padded so that operands straddle the reader's first 64 KiB boundary at different offsets.
        const items = vs.map((v, i) => (i % 3 === 0 ? framed(cat(v, b(OP.MEMOIZE))) : v));
        let stream = cat(b(OP.PROTO, 4), Buffer.alloc(shift % 7, OP.NONE), b(OP.EMPTY_LIST, OP.MARK), ...items, b(OP.APPENDS));
        while (stream.length < 70 * 1024) stream = cat(stream, b(OP.MARK), ...items, b(OP.APPENDS));
        const whole = cat(stream, b(OP.STOP));
        await agree(whole, true);
        const cut = Math.floor((whole.length - 1) * ((shift + 1) / 1000));
        assert.equal(await agree(whole.subarray(0, cut)), false, "a truncated stream was proven");
      }),
      params(25),
    );
  });

  test("every committed pickle fixture: the proof and the machine agree", async () => {
    let n = 0;
    for (const dir of ["benign", "malicious"]) {
      for (const name of readdirSync(join(FIXTURES, dir))) {
        if (!/\.(pkl|pickle)$/.test(name)) continue;
        const bytes = readFileSync(join(FIXTURES, dir, name));
        await agree(bytes); // only the first stream: p08's payload comes after a plain-data one
        n++;
      }
    }
    assert.ok(n > 20, `only ${n} pickle fixtures found`);
  });
});

describe("what the proof leaves to the machine is still judged", () => {
  const cases: [string, Buffer, RuleId][] = [
    ["an import", assemble(OP.PROTO, 2, global("os", "system"), str("id"), OP.TUPLE1, OP.REDUCE, OP.STOP), "MG100"],
    ["APPEND on a dict", assemble(OP.PROTO, 4, OP.EMPTY_DICT, OP.NONE, OP.APPEND, OP.STOP), "MG112"],
    ["a list as a dict key", assemble(OP.PROTO, 4, OP.EMPTY_DICT, OP.EMPTY_LIST, OP.NONE, OP.SETITEM, OP.STOP), "MG112"],
    ["a memo key read before it was stored", assemble(OP.PROTO, 4, OP.BINGET, 7, OP.STOP), "MG112"],
    [
      "a write into a dict fetched back from a memo past its retention bound",
      assemble(OP.PROTO, 4, OP.NONE, Buffer.alloc(LIMITS.pickleMemoRetainAll, OP.MEMOIZE), OP.POP, OP.EMPTY_DICT, OP.MEMOIZE, OP.LONG_BINGET, u32(LIMITS.pickleMemoRetainAll), str("__class__"), OP.NONE, OP.SETITEM, OP.POP, OP.STOP),
      "MG111",
    ],
    ["an unsupported protocol", assemble(OP.PROTO, 9, OP.NONE, OP.STOP), "MG112"],
    ["a stream without STOP", assemble(OP.PROTO, 4, OP.EMPTY_LIST, OP.NONE, OP.APPEND), "MG110"],
    ["an operand cut by the end of the data", assemble(OP.PROTO, 4, OP.BININT, 1, 2), "MG110"],
    ["a payload longer than the data", assemble(OP.PROTO, 4, OP.BINUNICODE, u32(1000), "abc", OP.STOP), "MG112"],
    ["an opcode crossing the end of its FRAME", assemble(OP.PROTO, 4, OP.FRAME, u64(2n), OP.BININT, 1, 2, 3, 4, OP.STOP), "MG131"],
  ];
  test("a stream that turns out not to be plain data past its first read chunk: the machine rereads it from its start", async () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => assemble(OP.BININT2, [i & 0xff, i >> 8], OP.APPEND));
    const bytes = assemble(OP.PROTO, 4, OP.EMPTY_LIST, ...rows, OP.POP, global("os", "system"), str("id"), OP.TUPLE1, OP.REDUCE, OP.STOP);
    assert.ok(bytes.length > 64 * 1024);
    const ctx = new RecordingContext();
    await scanPickle(new BufferSource("t.pkl", bytes), ctx);
    assert.deepEqual(ctx.rules(), ["MG100"]);
  });

  for (const [what, bytes, rule] of cases) {
    test(`${what}: not proven, and the scan reports ${rule}`, async () => {
      const reader = new StreamReader(new BufferSource("t.pkl", bytes), 0);
      assert.equal(await provePlainData(reader), undefined);
      const ctx = new RecordingContext();
      await scanPickle(new BufferSource("t.pkl", bytes), ctx);
      assert.ok(ctx.rules().includes(rule), `${rule} expected, got ${JSON.stringify(ctx.reports)}`);
    });
  }
});


describe("the proof in the scan", () => {
  test("a scattered memo key is left to the machine rather than sized into an array", async () => {
    const bytes = assemble(OP.PROTO, 4, OP.NONE, OP.LONG_BINPUT, u32(120_000_000), OP.STOP);
    const before = process.memoryUsage().arrayBuffers;
    assert.equal(await provePlainData(new StreamReader(new BufferSource("t.pkl", bytes), 0)), undefined);
    assert.ok(process.memoryUsage().arrayBuffers - before < 16 * 1024 * 1024);
    assert.equal(await agree(bytes), false);
  });

  test("a source that returns less than its size (a file truncated while read) ends as a broken stream, not an endless refill", { timeout: WATCHDOG_MS }, async () => {
    const rows = Array.from({ length: 30_000 }, (_, i) => assemble(OP.BININT2, [i & 0xff, i >> 8], OP.APPEND));
    const whole = assemble(OP.PROTO, 4, OP.EMPTY_LIST, ...rows, OP.STOP);
    const shrunk: ByteSource = {
      name: "shrunk.pkl",
      size: whole.length,
      read: async (offset, length) => whole.subarray(offset, Math.max(offset, Math.min(offset + length, 70_000))),
    };
    const ctx = new RecordingContext();
    await scanPickle(shrunk, ctx);
    assert.deepEqual(ctx.rules(), ["MG110"]);
    assert.match(ctx.reports[0]!.message, /before its size/);
  });

  test("protocol 0's long lines (a NumPy array's bytes, a long str, as one escaped line) are read; a line past the bound is reported", async () => {
    for (const line of ["V" + "x".repeat(300_000), "S'" + "\\x00".repeat(80_000) + "'"]) {
      const ctx = new RecordingContext();
      await scanPickle(new BufferSource("p0.pkl", Buffer.from(`${line}\np0\n.`, "latin1")), ctx);
      assert.deepEqual(ctx.rules(), []);
    }
    const ctx = new RecordingContext();
    await scanPickle(new BufferSource("long.pkl", Buffer.concat([Buffer.from("V"), Buffer.alloc(LIMITS.pickleMaxLine + 1, 0x78), Buffer.from("\n.")])), ctx);
    assert.ok(ctx.reports.some((r) => r.rule === "MG111" && /line longer than/.test(r.message)), JSON.stringify(ctx.reports));
  });

  test("a payload is skipped, not read", async () => {
    const big = 50_000_000;
    const source = new SparseSource(assemble(OP.PROTO, 4, OP.BINBYTES8, u64(BigInt(big))), big, assemble(OP.STOP));
    const proven = await provePlainData(new StreamReader(source, 0));
    assert.ok(proven?.stopped);
    assert.equal(proven.end, source.size);
    assert.ok(source.bytesRead < 300_000, `read ${source.bytesRead} bytes of a ${source.size}-byte stream`);
  });

  test("a plain-data stream's value is PLAIN_DATA unless the caller keeps it (a legacy checkpoint's key list)", async () => {
    const list = assemble(OP.PROTO, 2, OP.EMPTY_LIST, OP.MARK, str("0"), str("1"), OP.APPENDS, OP.STOP);
    const proven = await scanPickle(new BufferSource("keys.pkl", list), new RecordingContext());
    assert.equal(proven.value, PLAIN_DATA);
    const kept = await scanPickle(new BufferSource("keys.pkl", list), new RecordingContext(), { keepValue: true });
    assert.ok(isSym(kept.value) && kept.value.t === "list" && kept.value.n === 2);
  });

  test("after a proven stream the next one is read from where it ended (several pickles in one file)", async () => {
    const data = assemble(OP.PROTO, 4, OP.NONE, OP.STOP);
    const code = assemble(OP.PROTO, 2, global("os", "system"), str("id"), OP.TUPLE1, OP.REDUCE, OP.STOP);
    const ctx = new RecordingContext();
    await scanPickle(new BufferSource("two.pkl", cat(data, code)), ctx);
    assert.ok(ctx.rules().includes("MG100"), JSON.stringify(ctx.reports));
    assert.ok(ctx.rules().includes("MG114"), JSON.stringify(ctx.reports));
  });
});

// ---- calls the analyst says nothing of

const JUDGING = { torchscript: false } as const;

/**
 * agree() for streams that may import and call: the proof asks a PickleAnalyst which imports it may
 * call (callsSilently), and a stream it proves must be one the machine, observed by a PickleAnalyst,
 * runs to STOP at the same byte with the same imports and calls and no report at all.
 */
async function agreeSilently(bytes: Uint8Array, mustProve = false): Promise<boolean> {
  const source = new BufferSource("t.pkl", bytes);
  const asked = new PickleAnalyst(() => undefined, JUDGING);
  const reader = new StreamReader(source, 0);
  const proven = await provePlainData(reader, { silent: (module, name) => asked.callsSilently(module, name) });
  const reports: string[] = [];
  const analyst = new PickleAnalyst((rule, message) => reports.push(`${rule} ${message}`), JUDGING);
  // No memo budget: past its retention bound the machine drops every value that is not plain data, the hardest case for the proof.
  const machine = await new Machine(new StreamReader(source, 0), analyst, 0, { memoBudget: 0 }).run();
  analyst.flush();
  const hex = Buffer.from(bytes.subarray(0, 200)).toString("hex");
  if (proven === undefined) {
    tally.unproven++;
    assert.equal(reader.pos, 0, `an unproven stream leaves the reader at its start (hex ${hex})`);
    assert.ok(!mustProve, `left unproven; the machine reported ${JSON.stringify(reports)} (hex ${hex})`);
    return false;
  }
  tally.proven++;
  const seen = { stopped: machine.stopped, end: machine.end, effects: machine.effects, reports };
  assert.deepEqual(seen, { stopped: true, end: proven.end, effects: proven.effects, reports: [] }, `proven, but the machine disagrees (hex ${hex})`);
  return true;
}

/** Allowlisted value classes the analyst says nothing of calling on constants, and names it judges (or that are not allowlisted). */
const SILENT = [["datetime", "date"], ["datetime", "datetime"], ["uuid", "UUID"], ["__builtin__", "complex"]] as const;
// Fraction and Decimal are checked by their arguments (a number's size, an exponent): never silent.
const NOT_SILENT = [["os", "system"], ["builtins", "getattr"], ["builtins", "bytes"], ["builtins", "range"], ["collections", "OrderedDict"], ["fractions", "Fraction"], ["decimal", "Decimal"], ["numpy", "recarray"], ["numpy", "dtype"], ["functools", "partial"], ["torch._utils", "_rebuild_tensor_v2"], ["torch.nn", "Linear"], ["copyreg", "_reconstructor"]] as const;

/** Constants as a call's arguments: every kind, with big and odd values (a size an allocating callee would read among them). */
const CONSTANTS: Buffer[] = [
  b(OP.NONE),
  b(OP.NEWTRUE),
  b(OP.BININT1, 0),
  cat(b(OP.BININT), le(4, -1)),
  cat(b(OP.BININT), le(4, 0x7fffffff)),
  b(OP.LONG1, 6, 0, 0, 0, 0, 0, 1), // 2**40
  cat(b(OP.LONG1, 9), Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0x40])), // 2**70
  cat(b(OP.BINFLOAT), float(1e308)),
  cat(b(OP.BINFLOAT), float(Number.NaN)),
  str(""),
  str("x".repeat(200)),
  str("__reduce__"),
  Buffer.from("S'abc'\n", "latin1"),
  b(OP.SHORT_BINBYTES, 4, 7, 0xea, 1, 2),
  cat(b(OP.BINBYTES), u32(3), b(1, 2, 3)),
  b(OP.SHORT_BINSTRING, 2, 0x68, 0x69),
];
/** Argument tuples of those constants. */
const ARG_TUPLES: Buffer[] = [b(OP.EMPTY_TUPLE), ...CONSTANTS.map((c) => cat(c, b(OP.TUPLE1))), cat(CONSTANTS[5]!, CONSTANTS[6]!, b(OP.TUPLE2)), cat(CONSTANTS[4]!, CONSTANTS[5]!, CONSTANTS[9]!, b(OP.TUPLE3)), cat(b(OP.MARK), ...CONSTANTS, b(OP.TUPLE))];

const importArb = (names: readonly (readonly [string, string])[]): fc.Arbitrary<Buffer> =>
  fc.tuple(fc.constantFrom(...names), fc.boolean()).map(([[m, n], stack]) => (stack ? stackGlobal(m, n) : global(m, n)));
const argsArb = fc.constantFrom(...ARG_TUPLES);

/** Values that hold silent calls' results, with the shapes picklers write (the class memoized once, then fetched). */
function callValuesArb(faults: boolean): fc.Arbitrary<Buffer> {
  const call = fc.oneof(
    fc.tuple(importArb(SILENT), argsArb).map(([fn, args]) => cat(fn, args, b(OP.REDUCE))),
    fc.tuple(importArb(SILENT), argsArb, argsArb).map(([fn, a1, a2]) => cat(fn, b(OP.BINPUT, 200), a1, b(OP.REDUCE, OP.BINGET, 200), a2, b(OP.REDUCE, OP.TUPLE2))),
    fc.tuple(importArb(SILENT), argsArb).map(([fn, args]) => cat(fn, b(OP.MEMOIZE), args, b(OP.MEMOIZE, OP.REDUCE, OP.MEMOIZE))),
  );
  const abused: fc.Arbitrary<Buffer>[] = [
    importArb(NOT_SILENT).chain((fn) => argsArb.map((args) => cat(fn, args, b(OP.REDUCE)))),
    // A result called, given items or state, or passed to another call.
    call.map((c) => cat(c, b(OP.EMPTY_TUPLE, OP.REDUCE))),
    call.map((c) => cat(c, b(OP.EMPTY_DICT, OP.BUILD))),
    call.map((c) => cat(c, b(OP.NONE, OP.APPEND))),
    call.map((c) => cat(c, b(OP.NONE, OP.NONE, OP.SETITEM))),
    fc.tuple(importArb(SILENT), call).map(([fn, c]) => cat(fn, c, b(OP.TUPLE1, OP.REDUCE))),
    // Arguments that are not constants spelt out in place.
    fc.tuple(importArb(SILENT), argsArb).map(([fn, args]) => cat(fn, b(OP.EMPTY_LIST, OP.TUPLE1, OP.REDUCE), args, b(OP.POP))),
    fc.tuple(importArb(SILENT), argsArb).map(([fn, args]) => cat(args, b(OP.BINPUT, 201, OP.POP), fn, b(OP.BINGET, 201, OP.REDUCE))),
    fc.tuple(importArb(SILENT)).map(([fn]) => cat(str("a"), b(OP.BINPUT, 202, OP.POP), fn, b(OP.BINGET, 202, OP.TUPLE1, OP.REDUCE))),
    // STACK_GLOBAL operands that are not the last two str constants as written.
    fc.constant(cat(str("datetime"), b(OP.BINPUT, 203, OP.POP, OP.BINGET, 203), str("date"), b(OP.STACK_GLOBAL, OP.EMPTY_TUPLE, OP.REDUCE))),
    fc.constant(cat(str("datetime"), str("date"), b(OP.POP, OP.POP, OP.BININT1, 1, OP.BININT1, 2, OP.STACK_GLOBAL, OP.EMPTY_TUPLE, OP.REDUCE))),
    fc.constant(cat(str("datetime"), str("x"), b(OP.POP), str("date"), b(OP.STACK_GLOBAL, OP.EMPTY_TUPLE, OP.REDUCE))),
    fc.constant(cat(str("os"), str("datetime"), b(OP.POP, OP.POP), str("system"), b(OP.STACK_GLOBAL, OP.EMPTY_TUPLE, OP.REDUCE))),
    fc.tuple(importArb(SILENT), argsArb).map(([fn, args]) => cat(fn, args, b(OP.NEWOBJ))),
  ];
  const value = fc.oneof(call, fc.array(call, { maxLength: 4 }).map((cs) => cat(b(OP.EMPTY_LIST, OP.MARK), ...cs, b(OP.APPENDS))), fc.tuple(hashSafeKeyArb, call).map(([k, c]) => cat(b(OP.EMPTY_DICT), k, c, b(OP.SETITEM))));
  return faults ? fc.oneof({ arbitrary: value, weight: 4 }, { arbitrary: fc.oneof(...abused), weight: 1 }) : value;
}

describe("calls the analyst says nothing of (records holding dates)", () => {
  test("streams of silent calls on constants are proven, and the machine with the analyst runs them clean with the same imports and calls", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 5 }), fc.array(callValuesArb(false), { minLength: 1, maxLength: 6 }), async (proto, vs) => {
        await agreeSilently(wholeStream(proto, cat(b(OP.EMPTY_LIST, OP.MARK), ...vs, b(OP.APPENDS))), true);
      }),
      params(1500),
    );
  });

  test("results called, given items or state, passed on; callees and operands not as written: whatever is proven, the machine runs clean", async () => {
    let proven = 0;
    let unproven = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(callValuesArb(true), { minLength: 1, maxLength: 3 }), fc.array(mutationArb, { maxLength: 1 }), async (vs, ms) => {
        if (await agreeSilently(applyMutations(wholeStream(4, cat(b(OP.EMPTY_LIST, OP.MARK), ...vs, b(OP.APPENDS))), ms))) proven++;
        else unproven++;
      }),
      params(4000),
    );
    assert.ok(proven > 300 && unproven > 300, `${proven} proven, ${unproven} unproven`);
  });

  test("every allowlisted name the analyst calls silent: called on constants of every kind, the machine reports nothing", async () => {
    let names = 0;
    for (const [module, m] of Object.entries(allowlist().modules)) {
      for (const name of Object.keys(m.names)) {
        const entry = allowEntry(`${module}.${name}`);
        if (!entry || !silentCallee(`${module}.${name}`, entry)) continue;
        names++;
        const calls = ARG_TUPLES.map((args) => cat(b(OP.BINGET, 0), args, b(OP.REDUCE)));
        const stream = cat(b(OP.PROTO, 2), global(module, name), b(OP.BINPUT, 0, OP.POP, OP.EMPTY_LIST, OP.MARK), ...calls, b(OP.APPENDS, OP.STOP));
        await agreeSilently(stream, true);
      }
    }
    assert.ok(names > 10_000, `only ${names} silent names`);
  });

  test("a class memoized once the memo is past its retention bound is not called by the proof (the machine may drop it)", async () => {
    const late = assemble(OP.PROTO, 4, OP.NONE, Buffer.alloc(LIMITS.pickleMemoRetainAll, OP.MEMOIZE), OP.POP, global("datetime", "date"), OP.MEMOIZE, OP.POP, OP.LONG_BINGET, u32(LIMITS.pickleMemoRetainAll), OP.EMPTY_TUPLE, OP.REDUCE, OP.STOP);
    assert.equal(await agreeSilently(late), false);
    const again = assemble(OP.PROTO, 4, global("datetime", "date"), OP.MEMOIZE, OP.POP, OP.NONE, Buffer.alloc(LIMITS.pickleMemoRetainAll, OP.MEMOIZE), OP.POP, OP.BINGET, 0, OP.MEMOIZE, OP.POP, OP.LONG_BINGET, u32(LIMITS.pickleMemoRetainAll + 1), OP.EMPTY_TUPLE, OP.REDUCE, OP.STOP);
    assert.equal(await agreeSilently(again), false, "fetched, then memoized again past the bound");
    const early = assemble(OP.PROTO, 4, global("datetime", "date"), OP.MEMOIZE, OP.POP, OP.NONE, Buffer.alloc(LIMITS.pickleMemoRetainAll, OP.MEMOIZE), OP.POP, OP.BINGET, 0, OP.EMPTY_TUPLE, OP.REDUCE, OP.STOP);
    assert.equal(await agreeSilently(early, true), true);
  });

  test("a call given a result fetched back from past the retention bound is left to the machine, which may have dropped that result", async () => {
    const dropped = assemble(OP.PROTO, 4, global("datetime", "date"), OP.MEMOIZE, OP.POP, OP.NONE, Buffer.alloc(LIMITS.pickleMemoRetainAll, OP.MEMOIZE), OP.POP);
    const made = assemble(OP.BINGET, 0, OP.EMPTY_TUPLE, OP.REDUCE, OP.MEMOIZE, OP.POP);
    const passed = assemble(OP.BINGET, 0, OP.LONG_BINGET, u32(LIMITS.pickleMemoRetainAll + 1), OP.TUPLE1, OP.REDUCE, OP.STOP);
    assert.equal(await agreeSilently(cat(dropped, made, passed)), false);
  });

  test("past a bound on distinct imports the stream is left to the machine", async () => {
    const many = Array.from({ length: 70 }, (_, i) => cat(global("datetime", "date"), b(OP.POP), global(`mod${i}`, "x"), b(OP.POP)));
    const fine = Array.from({ length: 70 }, () => cat(global("datetime", "date"), b(OP.EMPTY_TUPLE, OP.REDUCE, OP.POP)));
    assert.equal(await agreeSilently(assemble(OP.PROTO, 2, OP.NONE, ...many, OP.STOP)), false);
    assert.equal(await agreeSilently(assemble(OP.PROTO, 2, OP.NONE, ...fine, OP.STOP), true), true);
  });

  test("in the scan: records holding dates are proven (their value is PLAIN_DATA) with no finding; an organisation's deny of the class is still reported", async () => {
    const record = (i: number): Buffer => cat(b(OP.EMPTY_DICT, OP.MARK), str("id"), b(OP.BININT1, i), str("when"), b(OP.BINGET, 0), b(OP.SHORT_BINBYTES, 4, 7, 0xea, 1, 1 + i), b(OP.TUPLE1, OP.REDUCE, OP.SETITEMS));
    const bytes = cat(b(OP.PROTO, 4), stackGlobal("datetime", "date"), b(OP.BINPUT, 0, OP.POP, OP.EMPTY_LIST, OP.MARK), ...Array.from({ length: 20 }, (_, i) => record(i)), b(OP.APPENDS, OP.STOP));
    const ctx = new RecordingContext();
    const scanned = await scanPickle(new BufferSource("dates.pkl", bytes), ctx);
    assert.deepEqual(ctx.reports, []);
    assert.equal(scanned.value, PLAIN_DATA, "the records were not proven");
    const denied = Object.assign(new RecordingContext(), { callables: { allow: new Set<string>(), deny: new Map([["datetime.date", { severity: "high" as const, reason: "not in our data" }]]) } });
    const judged = await scanPickle(new BufferSource("dates.pkl", bytes), denied);
    assert.notEqual(judged.value, PLAIN_DATA);
    assert.ok(denied.reports.some((r) => r.message.includes("datetime.date")), JSON.stringify(denied.reports));
  });
});
