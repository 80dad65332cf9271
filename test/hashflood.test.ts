/**
 * Hash flooding (P21): dict keys and set items chosen to share one CPython hash make loading
 * quadratic. pyHash must compute what CPython computes (checked against hashes CPython printed,
 * test/fixtures/hashes/cpython.json from scripts/make_hash_fixtures.py), and the scan must report
 * streams whose keys collide, however they reach a hash table, and stay quiet on keys that do not.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";
import { scanPickle } from "../src/formats/pickle.js";
import { LIMITS } from "../src/limits.js";
import { Machine, type MachineObserver } from "../src/pickle/machine.js";
import { pyHash } from "../src/pickle/pyHash.js";
import { StreamReader } from "../src/pickle/reader.js";
import { BufferSource } from "../src/sources/byteSource.js";
import { RecordingContext } from "./support/context.js";
import { call, dict, list, long, tuple } from "./support/gadgets.js";
import { OP, assemble, global, str } from "./support/pickle.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const CASES = JSON.parse(readFileSync(join(HERE, "..", "..", "test", "fixtures", "hashes", "cpython.json"), "utf8")) as {
  python: string;
  cases: { value: string; protocol: number; pickle: string; hash: string }[];
};

const quiet: MachineObserver = {
  onImport: () => undefined,
  onDynamicImport: () => undefined,
  onCall: () => undefined,
  onBuild: () => undefined,
  onExt: () => undefined,
  onPersistentId: () => undefined,
  onIssue: (kind, message) => assert.fail(`${kind}: ${message}`),
};

async function valueOf(bytes: Buffer) {
  const outcome = await new Machine(new StreamReader(new BufferSource("t.pkl", bytes), 0), quiet).run();
  assert.ok(outcome.stopped);
  return outcome.result;
}

async function rules(bytes: Buffer): Promise<string[]> {
  const ctx = new RecordingContext();
  await scanPickle(new BufferSource("t.pkl", bytes), ctx, { layout: "plain" });
  return ctx.reports.map((r) => `${r.rule} ${r.message}`);
}

async function assertFlood(bytes: Buffer): Promise<void> {
  const found = await rules(bytes);
  assert.ok(found.some((l) => /^MG109 hash flooding/.test(l)), JSON.stringify(found));
}

async function assertNoFlood(bytes: Buffer): Promise<void> {
  const found = await rules(bytes);
  assert.ok(!found.some((l) => /hash flooding/.test(l)), JSON.stringify(found));
}

const MODULUS = (1n << 61n) - 1n;
/** Keys equal modulo 2**61 - 1: one hash, n distinct ints. */
const congruent = (n: number, residue = 7n): bigint[] => Array.from({ length: n }, (_, k) => BigInt(k + 1) * MODULUS + residue);
/** Enough colliding keys to pass the bound in one table (n keys cost n(n-1)/2 comparisons). */
const FLOOD = Math.ceil(Math.sqrt(2 * LIMITS.pickleMaxHashProbes)) + 50;

const proto = (n: number, ...parts: Parameters<typeof assemble>): Buffer => assemble(OP.PROTO, n, ...parts, OP.STOP);
const keysDict = (keys: Buffer[]): Buffer => assemble(OP.EMPTY_DICT, OP.MARK, ...keys.flatMap((k) => [k, OP.NONE]), OP.SETITEMS);

// Tuple hashes (xxHash's round, Objects/tupleobject.c) inverted: for a first item a, the int b that
// makes hash((a, b)) any chosen value.
const MASK = (1n << 64n) - 1n;
const XXPRIME_1 = 11400714785074694791n;
const XXPRIME_2 = 14029467366897019727n;
const XXPRIME_5 = 2870177450012600261n;
const inverse = (a: bigint): bigint => {
  let x = a;
  for (let i = 0; i < 6; i++) x = (x * (2n - a * x)) & MASK;
  return x;
};
const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & MASK;
const round = (acc: bigint, lane: bigint): bigint => (rotl((acc + lane * XXPRIME_2) & MASK, 31n) * XXPRIME_1) & MASK;
function collidingPairs(n: number, target: bigint): [number, bigint][] {
  const beforeLength = (target - (2n ^ (XXPRIME_5 ^ 3527539n))) & MASK;
  const beforeRound = rotl((beforeLength * inverse(XXPRIME_1)) & MASK, 33n);
  const pairs: [number, bigint][] = [];
  for (let a = 0; pairs.length < n; a++) {
    const lane = ((beforeRound - round(XXPRIME_5, BigInt(a))) * inverse(XXPRIME_2)) & MASK;
    if (lane < MODULUS) pairs.push([a, lane]); // a non-negative int below the prime hashes to itself
  }
  return pairs;
}

/** (length, start) pairs and the step that makes hash(range(start, start + length * step, step)) any chosen value (range_hash hashes that triple). */
function collidingRanges(n: number, target: bigint): [number, bigint][] {
  const beforeLength = (target - (3n ^ (XXPRIME_5 ^ 3527539n))) & MASK;
  const beforeRound = rotl((beforeLength * inverse(XXPRIME_1)) & MASK, 33n);
  const ranges: [number, bigint][] = [];
  for (let length = 2; ranges.length < n; length++) {
    const lane = ((beforeRound - round(round(XXPRIME_5, BigInt(length)), 0n)) * inverse(XXPRIME_2)) & MASK;
    if (lane > 0n && lane < MODULUS) ranges.push([length, lane]);
  }
  return ranges;
}

describe("CPython's hash, as pyHash computes it", () => {
  test(`every value in the fixture hashes as CPython ${CASES.python} hashed it, at protocols 2 and 4`, async () => {
    assert.ok(CASES.cases.length >= 100);
    for (const c of CASES.cases) {
      const value = await valueOf(Buffer.from(c.pickle, "base64"));
      const key = pyHash(value);
      assert.ok(key !== undefined, `no hash for ${c.value} (protocol ${c.protocol})`);
      assert.equal(key.hash, BigInt.asUintN(64, BigInt(c.hash)), `${c.value} (protocol ${c.protocol})`);
    }
  });

  test("values CPython calls equal have one canonical text; strs, bytes and NaN have no predictable hash", async () => {
    const one = [1, 1.0, true, 1n].map((v) => pyHash(v)!.canon);
    assert.deepEqual(new Set(one).size, 1);
    assert.equal(pyHash("abc"), undefined);
    assert.equal(pyHash(Number.NaN), undefined);
    assert.equal(pyHash(await valueOf(proto(2, tuple(str("a"), long(1n))))), undefined);
    // int(text, base) reads as CPython reads it, a long text included (read in chunks).
    const intOf = async (text: string, base: number) => pyHash(await valueOf(proto(2, assemble(global("__builtin__", "int"), str(text), OP.BININT1, base, OP.TUPLE2, OP.REDUCE))));
    assert.equal((await intOf("zz", 36))?.hash, pyHash(1295)?.hash);
    assert.equal((await intOf("-0x_ff", 0))?.hash, pyHash(-255)?.hash);
    assert.equal((await intOf("1".repeat(200), 2))?.hash, pyHash((1n << 200n) - 1n)?.hash);
    assert.equal(await intOf("19", 8), undefined); // 9 is not an octal digit: int() raises
  });

  test("the inverted tuple hash really collides, by pyHash", () => {
    const hashes = new Set(collidingPairs(50, 12345n).map(([a, b]) => pyHash({ t: "tuple", items: [a, b], behaviour: false })!.hash));
    assert.deepEqual([...hashes], [12345n]);
  });
});

describe("keys that share a hash are reported (MG109)", () => {
  test("a dict keyed by ints equal modulo 2**61 - 1", async () => {
    await assertFlood(proto(4, keysDict(congruent(FLOOD).map(long))));
  });

  test("a dict keyed by UUIDs whose ints are equal modulo 2**61 - 1 (hash(uuid) is hash(uuid.int); a twentieth red team round)", async () => {
    // As pickles write a UUID: UUID() by NEWOBJ, then BUILD {"int": n}.
    const uuidKey = (n: bigint): Buffer => assemble(global("uuid", "UUID"), OP.EMPTY_TUPLE, OP.NEWOBJ, OP.EMPTY_DICT, str("int"), long(n), OP.SETITEM, OP.BUILD);
    await assertFlood(proto(4, keysDict(congruent(FLOOD).map(uuidKey))));
    await assertNoFlood(proto(4, keysDict(Array.from({ length: FLOOD }, (_, k) => uuidKey(BigInt(k) * 7919n + 1n)))));
  });

  test("keys of other constructor forms a red team found unmodelled (a twenty-first round): Fraction(n), Decimal((sign, digits, exponent)), UUID(None, bytes), a state that names its int twice, IPv6Network(text)", async () => {
    const call = (module: string, name: string, ...args: Parameters<typeof assemble>): Buffer => assemble(global(module, name), OP.MARK, ...args, OP.TUPLE, OP.REDUCE);
    const ints = congruent(FLOOD);
    const be16 = (n: bigint): Buffer => Buffer.from(n.toString(16).padStart(32, "0"), "hex");
    const forms: [string, (n: bigint, k: number) => Buffer][] = [
      ["Fraction(n)", (n) => call("fractions", "Fraction", long(n))],
      ["Decimal((0, digits, 0))", (n) => call("decimal", "Decimal", OP.MARK, OP.BININT1, 0, OP.MARK, ...[...n.toString()].map((d) => assemble(OP.BININT1, Number(d))), OP.TUPLE, OP.BININT1, 0, OP.TUPLE)],
      ["UUID(None, bytes)", (n) => call("uuid", "UUID", OP.NONE, OP.SHORT_BINBYTES, 16, be16(n))],
      ["UUID() with {'int': k, 'int': n}", (n, k) => assemble(global("uuid", "UUID"), OP.EMPTY_TUPLE, OP.NEWOBJ, OP.EMPTY_DICT, OP.MARK, str("int"), long(BigInt(k)), str("int"), long(n), OP.SETITEMS, OP.BUILD)],
    ];
    for (const [what, key] of forms) {
      await assertFlood(proto(4, keysDict(ints.map((n, k) => key(n, k))))).catch((err: Error) => assert.fail(`${what}: ${err.message}`));
    }
    // IPv6Network(a/128) hashes as int(a) ^ (2**128 - 1): addresses chosen so that one hash comes out.
    const mask = (1n << 128n) - 1n;
    const networks = ints.map((n) => {
      const address = (n ^ mask).toString(16).padStart(32, "0").match(/.{4}/g)!.join(":");
      return call("ipaddress", "IPv6Network", str(`${address}/128`));
    });
    await assertFlood(proto(4, keysDict(networks)));
  });

  test("a dict keyed by (int, int) tuples made to collide, each spelt out", async () => {
    const pairs = collidingPairs(FLOOD, 987654321n);
    await assertFlood(proto(4, keysDict(pairs.map(([a, b]) => tuple(long(BigInt(a)), long(b))))));
  });

  test("tuples that end in the same text collide when what precedes it does: the text's hash is secret but one per process (red team round 36)", async () => {
    const pairs = collidingPairs(FLOOD, 24680n);
    await assertFlood(proto(4, keysDict(pairs.map(([a, b]) => tuple(long(BigInt(a)), long(b), str("right"))))));
    // pandas hashes an Interval as (left, right, closed).
    const interval = (a: bigint, b: bigint): Buffer => assemble(global("pandas._libs.interval", "Interval"), long(a), long(b), str("right"), OP.TUPLE3, OP.REDUCE);
    await assertFlood(proto(4, keysDict(pairs.map(([a, b]) => interval(BigInt(a), b)))));
    // ... and around one wrapped so: a tuple or frozenset of texts, one global memoized into every key (red team round 37).
    const wrapped: [string, Buffer][] = [
      ["('right',)", tuple(str("right"))],
      ["('right', 'x')", tuple(str("right"), str("x"))],
      ["frozenset({'right'})", assemble(OP.MARK, str("right"), OP.FROZENSET)],
    ];
    for (const [what, shared] of wrapped) {
      await assertFlood(proto(4, keysDict(pairs.map(([a, b]) => tuple(long(BigInt(a)), long(b), shared))))).catch((err: Error) => assert.fail(`${what}: ${err.message}`));
    }
    // ... and made anew in each key by one callee from equal arguments (red team round 38).
    const made: [string, Buffer][] = [
      ["codecs.encode", assemble(global("_codecs", "encode"), str("right"), str("latin1"), OP.TUPLE2, OP.REDUCE)],
      ["datetime.date", assemble(global("datetime", "date"), OP.BININT2, [0xe4, 0x07], OP.BININT1, 1, OP.BININT1, 1, OP.TUPLE3, OP.REDUCE)],
    ];
    for (const [what, shared] of made) {
      await assertFlood(proto(4, keysDict(pairs.map(([a, b]) => tuple(long(BigInt(a)), long(b), shared))))).catch((err: Error) => assert.fail(`${what}: ${err.message}`));
    }
    const memoized = (k: number): Buffer => (k === 0 ? assemble(global("builtins", "len"), OP.BINPUT, 200) : assemble(OP.BINGET, 200));
    await assertFlood(proto(4, keysDict(pairs.map(([a, b], k) => tuple(long(BigInt(a)), long(b), memoized(k))))));
    // The same shapes that do not collide, and tuples of texts (whose hashes no one can steer), pass.
    await assertNoFlood(proto(4, keysDict(pairs.map(([a], k) => tuple(long(BigInt(a)), long(BigInt(k) * 7919n + (1n << 62n)), str("right"))))));
    await assertNoFlood(proto(4, keysDict(pairs.map(([a], k) => tuple(str(`w${a}`), str(`v${k}`))))));
  });

  test("a set by ADDITEMS, a frozenset by FROZENSET, and set(list) as protocol 2 writes a set", async () => {
    const items = congruent(FLOOD).map(long);
    await assertFlood(proto(4, assemble(OP.EMPTY_SET, OP.MARK, ...items, OP.ADDITEMS)));
    await assertFlood(proto(4, assemble(OP.MARK, ...items, OP.FROZENSET)));
    await assertFlood(proto(2, call(global("__builtin__", "set"), list(...items))));
  });

  test("an OrderedDict given its items by SETITEMS, as its __reduce__ has them written", async () => {
    const od = call(global("collections", "OrderedDict"));
    await assertFlood(proto(2, od, assemble(OP.MARK, ...congruent(FLOOD).flatMap((k) => [long(k), assemble(OP.NONE)]), OP.SETITEMS)));
  });

  test("numbers made by calls: Decimal, Fraction and int of digit strings", async () => {
    const keys = (fn: Buffer, text: (k: bigint) => string): Buffer[] => congruent(FLOOD).map((k) => call(fn, str(text(k))));
    await assertFlood(proto(2, keysDict(keys(global("decimal", "Decimal"), String))));
    await assertFlood(proto(2, keysDict(keys(global("fractions", "Fraction"), (k) => `${k}/1`))));
    await assertFlood(proto(2, keysDict(keys(global("__builtin__", "int"), String))));
  });

  test("keys made by calls whose hash is known: int(text, base), int(bytes), type(0)(text), tuple(list) and torch.Size(list)", async () => {
    const keys = congruent(FLOOD);
    await assertFlood(proto(2, keysDict(keys.map((k) => assemble(global("__builtin__", "int"), str(String(k)), OP.BININT1, 10, OP.TUPLE2, OP.REDUCE)))));
    await assertFlood(proto(2, keysDict(keys.map((k) => call(global("__builtin__", "int"), assemble(OP.SHORT_BINBYTES, String(k).length, String(k)))))));
    const typeInt = assemble(global("__builtin__", "type"), OP.BININT1, 0, OP.TUPLE1, OP.REDUCE, OP.BINPUT, 1, OP.POP);
    await assertFlood(proto(2, typeInt, keysDict(keys.map((k) => assemble(OP.BINGET, 1, str(String(k)), OP.TUPLE1, OP.REDUCE)))));
    const pairs = collidingPairs(FLOOD, 4242n);
    for (const [module, name] of [["__builtin__", "tuple"], ["torch", "Size"]] as const) {
      await assertFlood(proto(2, keysDict(pairs.map(([a, b]) => call(global(module, name), list(long(BigInt(a)), long(b)))))));
    }
  });

  test("complex keys, Python's and NumPy's: hash(re) + 1000003 * hash(im) is one value for every k in complex(1000003 * (N - k), k)", async () => {
    const n = BigInt(FLOOD + 10);
    const parts = Array.from({ length: FLOOD }, (_, i) => [Number(1000003n * (n - BigInt(i))), i + 1] as const);
    const float = (x: number): Buffer => {
      const b = Buffer.alloc(9);
      b[0] = OP.BINFLOAT;
      b.writeDoubleBE(x, 1);
      return b;
    };
    await assertFlood(proto(2, keysDict(parts.map(([re, im]) => call(global("__builtin__", "complex"), float(re), float(im))))));
    const dtype = assemble(global("numpy", "dtype"), str("c16"), OP.NEWFALSE, OP.NEWTRUE, OP.TUPLE3, OP.REDUCE, OP.BINPUT, 1, OP.POP);
    const scalar = ([re, im]: readonly [number, number]): Buffer => {
      const data = Buffer.alloc(16);
      data.writeDoubleLE(re, 0);
      data.writeDoubleLE(im, 8);
      return assemble(global("numpy.core.multiarray", "scalar"), OP.BINGET, 1, OP.SHORT_BINBYTES, 16, data, OP.TUPLE2, OP.REDUCE);
    };
    await assertFlood(proto(4, dtype, keysDict(parts.map(scalar))));
  });

  test("range keys, which hash as (length, start, step)", async () => {
    const keys = collidingRanges(FLOOD, 777n).map(([length, step]) => call(global("__builtin__", "xrange"), long(0n), long(BigInt(length) * step), long(step)));
    await assertFlood(proto(2, keysDict(keys)));
  });

  test("a list under the bound, hashed again and again: set(memo) called many times is charged each time", async () => {
    const few = Math.ceil(Math.sqrt(LIMITS.pickleMaxHashProbes)); // half the bound in one table
    const first = assemble(global("__builtin__", "set"), OP.BINPUT, 1, list(...congruent(few).map(long)), OP.BINPUT, 2, OP.TUPLE1, OP.REDUCE);
    const again = assemble(OP.BINGET, 1, OP.BINGET, 2, OP.TUPLE1, OP.REDUCE, OP.POP);
    await assertNoFlood(proto(2, first));
    await assertFlood(proto(2, first, OP.POP, ...Array.from({ length: 6 }, () => again), OP.NONE));
  });

  test("a tuple of colliding ints handed to frozenset()", async () => {
    await assertFlood(proto(2, call(global("__builtin__", "frozenset"), tuple(...congruent(FLOOD).map(long)))));
  });

  test("a tuple key that nests one shared tuple a thousand times over: CPython hashes all of it, per insertion", async () => {
    const wide = (memo: number): Buffer => assemble(OP.MARK, ...Array.from({ length: 1000 }, () => assemble(OP.BINGET, memo)), OP.TUPLE, OP.BINPUT, memo + 1);
    const nested = assemble(OP.BININT1, 1, OP.BININT1, 2, OP.TUPLE2, OP.BINPUT, 1, OP.POP, wide(1), OP.POP, wide(2), OP.POP);
    await assertFlood(proto(2, nested, OP.EMPTY_DICT, OP.BINGET, 3, OP.NONE, OP.SETITEM));
  });
});

describe("keys picklers write are quiet", () => {
  test("distinct big ints, tuples of ints, repeated equal tuples, floats and strs", async () => {
    const big = Array.from({ length: 3000 }, (_, k) => long(BigInt(k) * 0x9e3779b97f4a7c15n + 2n ** 62n));
    await assertNoFlood(proto(4, keysDict(big)));
    await assertNoFlood(proto(4, keysDict(Array.from({ length: 3000 }, (_, k) => tuple(long(BigInt(k)), long(BigInt(k + 1)))))));
    // The same shape 5,000 times in a list (each spelt out, and fetched back from the memo): equal, not colliding.
    const shape = tuple(long(1n), long(3n));
    await assertNoFlood(proto(2, list(...Array.from({ length: 5000 }, () => shape))));
    await assertNoFlood(proto(2, assemble(shape, OP.BINPUT, 1, OP.POP), list(...Array.from({ length: 5000 }, () => assemble(OP.BINGET, 1)))));
    await assertNoFlood(proto(4, dict(...Array.from({ length: 2000 }, (_, k): [Buffer, Buffer] => [str(`k${k}`), long(BigInt(k) * MODULUS + 7n)]))));
  });
});
