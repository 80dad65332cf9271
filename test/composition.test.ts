/**
 * Composition property (issue 12, THREATS.md P19): random chains of carriers around one callee.
 *
 * - reach: the callee is not allowlisted (denylisted, an unknown real gadget, or a module that exists
 *   nowhere). Whatever carriers the chain uses — allowlisted consumers that iterate, allowlisted
 *   callables that call or construct an argument, functools.partial and its BUILD state, copyreg
 *   helpers, defaultdict factories, NumPy's random constructors, torch's _rebuild_from_type, BUILD
 *   states, memo PUT/GET/swap indirection, STACK_GLOBAL operands from the memo, nesting in
 *   lists/dicts/tuples, and non-allowlisted iterators (map, filter, itertools) — a finding at high or
 *   worse must name the callee.
 * - harmless: the callee is an allowlisted container type and every carrier is allowlisted: nothing at
 *   medium or worse.
 * - bomb (P21): an allowlisted allocator (bytearray, bytes) given 2**40 through an allowlisted carrier
 *   that calls it: a finding at high or worse names the allocator.
 *
 * One property per carrier (so a failure names the carrier), then a mixed property with random
 * nesting. Reproducible: FUZZ_SEED=<int> overrides the seed, FUZZ_RUNS=<factor> scales the runs.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { scanPickle } from "../src/formats/pickle.js";
import { RULES, type RuleId } from "../src/rules/catalogue.js";
import { BufferSource } from "../src/sources/byteSource.js";
import { atLeast, type Severity } from "../src/types.js";
import { RecordingContext } from "./support/context.js";
import {
  CONSUMERS,
  DANGEROUS_CALLEES,
  HARMLESS_CALLEES,
  NONE,
  Stream,
  UNKNOWN_CALLEES,
  build,
  call,
  dict,
  int,
  list,
  long,
  newobj,
  newobjEx,
  obj,
  spell,
  tuple,
  type Name,
  type Spelling,
} from "./support/gadgets.js";
import { OP, assemble, global, str } from "./support/pickle.js";

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : 20261201;
const SCALE = process.env.FUZZ_RUNS !== undefined ? Number(process.env.FUZZ_RUNS) : 1;
const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));
const params = (numRuns: number): fc.Parameters<unknown> => ({ seed: SEED, numRuns: runs(numRuns), verbose: 1 });

const CMD = "echo modelgate-fixture";
type Mode = "reach" | "harmless" | "bomb";

// ---------------------------------------------------------------- how a chain is put together

interface Ctx {
  s: Stream;
  mode: Mode;
  /** A fresh expression for the callee each time it is needed (the same memo slot when indirect). */
  callee: () => Buffer;
  /** The data argument handed to the callee. */
  arg: () => Buffer;
  consumer: Name;
}

type Carrier = (c: Ctx) => Buffer;

const g = (n: Name): Buffer => global(n[0], n[1]);
const consume = (c: Ctx, iterator: Buffer): Buffer => call(g(c.consumer), iterator);

/** Carriers that are allowlisted themselves: used in both modes. */
const ALLOWED_CARRIERS: Record<string, Carrier> = {
  "direct REDUCE": (c) => call(c.callee(), c.arg()),
  "NEWOBJ of the callee": (c) => newobj(c.callee(), c.arg()),
  "NEWOBJ_EX of the callee": (c) => newobjEx(c.callee(), c.arg()),
  "OBJ (protocol 1)": (c) => obj(c.callee(), c.arg()),
  "copyreg._reconstructor(C, C, arg)": (c) => call(g(["copyreg", "_reconstructor"]), c.callee(), c.callee(), c.arg()),
  "copyreg._reconstructor(C, object, None)": (c) => call(g(["copyreg", "_reconstructor"]), c.callee(), g(["builtins", "object"]), NONE),
  "copyreg.__newobj__(C, arg)": (c) => call(g(["copyreg", "__newobj__"]), c.callee(), c.arg()),
  "copyreg.__newobj_ex__(C, (arg,), {})": (c) => call(g(["copyreg", "__newobj_ex__"]), c.callee(), tuple(c.arg()), dict()),
  "collections.defaultdict(C)": (c) => call(g(["collections", "defaultdict"]), c.callee()),
  "numpy __randomstate_ctor(arg, C)": (c) => call(g(["numpy.random._pickle", "__randomstate_ctor"]), c.arg(), c.callee()),
  "numpy __generator_ctor(arg, C)": (c) => call(g(["numpy.random._pickle", "__generator_ctor"]), c.arg(), c.callee()),
  "numpy __bit_generator_ctor(C)": (c) => call(g(["numpy.random._pickle", "__bit_generator_ctor"]), c.callee()),
  "torch _rebuild_from_type(C, Tensor, (arg,), {})": (c) =>
    call(g(["torch._tensor", "_rebuild_from_type"]), c.callee(), g(["torch", "Tensor"]), tuple(c.arg()), dict()),
  "torch _rebuild_from_type_v2(C, Tensor, (arg,), {})": (c) =>
    call(g(["torch._tensor", "_rebuild_from_type_v2"]), c.callee(), g(["torch", "Tensor"]), tuple(c.arg()), dict()),
  "functools.partial(C, arg)": (c) => call(g(["functools", "partial"]), c.callee(), c.arg()),
  "functools.partial BUILD state (C, args, kwds, dict)": (c) =>
    build(newobj(g(["functools", "partial"]), g(["builtins", "list"])), tuple(c.callee(), tuple(c.arg()), dict(), NONE)),
  "defaultdict(partial(C, arg))": (c) => call(g(["collections", "defaultdict"]), call(g(["functools", "partial"]), c.callee(), c.arg())),
  "BUILD state attribute of argparse.Namespace": (c) => build(call(g(["argparse", "Namespace"])), dict([str("fn"), c.callee()])),
  "BUILD slot-state of argparse.Namespace": (c) => build(call(g(["argparse", "Namespace"])), tuple(NONE, dict([str("fn"), c.callee()]))),
  "consumer(callee(arg))": (c) => consume(c, call(c.callee(), c.arg())),
  "copyreg._reconstructor(OrderedDict, C, arg): C as the base whose __init__ runs": (c) =>
    call(g(["copyreg", "_reconstructor"]), g(["collections", "OrderedDict"]), c.callee(), c.arg()),
  "torch _rebuild_from_type(list, C, ...): C as the type": (c) =>
    call(g(["torch._tensor", "_rebuild_from_type"]), g(["builtins", "list"]), c.callee(), tuple(c.arg()), dict()),
  "NEWOBJ_EX kwargs value": (c) => assemble(g(["collections", "OrderedDict"]), OP.EMPTY_TUPLE, dict([str("f"), c.callee()]), OP.NEWOBJ_EX),
  "in a set (ADDITEMS)": (c) => assemble(OP.EMPTY_SET, OP.MARK, c.callee(), OP.ADDITEMS),
  "in a FROZENSET": (c) => assemble(OP.MARK, c.callee(), OP.FROZENSET),
  "defaultdict(partial(defaultdict, C)) (the picklable nested-defaultdict idiom)": (c) =>
    call(g(["collections", "defaultdict"]), call(g(["functools", "partial"]), g(["collections", "defaultdict"]), c.callee())),
  "only held in a list": (c) => list(c.callee(), c.arg()),
};

/** Carriers that are not allowlisted (iterators and helpers): the callee must still be named. */
const REACH_ONLY_CARRIERS: Record<string, Carrier> = {
  "consumer(map(C, [arg])) NEWOBJ": (c) => consume(c, newobj(g(["builtins", "map"]), c.callee(), list(c.arg()))),
  "consumer(map(C, [arg])) REDUCE": (c) => consume(c, call(g(["builtins", "map"]), c.callee(), list(c.arg()))),
  "consumer(filter(C, [arg]))": (c) => consume(c, newobj(g(["builtins", "filter"]), c.callee(), list(c.arg()))),
  "consumer(itertools.starmap(C, [(arg,)]))": (c) => consume(c, newobj(g(["itertools", "starmap"]), c.callee(), list(tuple(c.arg())))),
  "consumer(itertools.filterfalse(C, [arg]))": (c) => consume(c, newobj(g(["itertools", "filterfalse"]), c.callee(), list(c.arg()))),
  "consumer(itertools.takewhile(C, [arg]))": (c) => consume(c, newobj(g(["itertools", "takewhile"]), c.callee(), list(c.arg()))),
  "consumer(itertools.groupby([arg], C))": (c) => consume(c, newobj(g(["itertools", "groupby"]), list(c.arg()), c.callee())),
  "consumer(itertools.accumulate([arg, arg], C))": (c) => consume(c, newobj(g(["itertools", "accumulate"]), list(c.arg(), c.arg()), c.callee())),
  "consumer(zip(map(C, [arg])))": (c) => consume(c, newobj(g(["builtins", "zip"]), newobj(g(["builtins", "map"]), c.callee(), list(c.arg())))),
  "consumer(iter(partial(C, arg), None))": (c) =>
    consume(c, newobj(g(["builtins", "iter"]), call(g(["functools", "partial"]), c.callee(), c.arg()), NONE)),
  "consumer(map(C) via copyreg.__newobj__)": (c) => consume(c, call(g(["copyreg", "__newobj__"]), g(["builtins", "map"]), c.callee(), list(c.arg()))),
  "consumer(Python 2 itertools.imap(C, [arg]))": (c) => consume(c, newobj(g(["itertools", "imap"]), c.callee(), list(c.arg()))),
  "_functools.reduce(C, [arg], arg)": (c) => call(g(["_functools", "reduce"]), c.callee(), list(c.arg()), c.arg()),
  "_functools.partial(C, arg) in a defaultdict": (c) => call(g(["collections", "defaultdict"]), newobj(g(["_functools", "partial"]), c.callee(), c.arg())),
};

/** Wrappers around a finished value: nesting and memo games, allowlisted in both modes. */
const WRAPPERS: Record<string, (c: Ctx, v: Buffer) => Buffer> = {
  "in a list": (_c, v) => list(v),
  "in a tuple": (_c, v) => tuple(v),
  "as a dict value": (_c, v) => dict([str("state_dict"), v]),
  "as a dict key's neighbour in an OrderedDict": (_c, v) => call(g(["collections", "OrderedDict"]), list(tuple(str("k"), v))),
  "parked in the memo": (c, v) => c.s.park(v),
  "in a Namespace's state": (_c, v) => build(call(g(["argparse", "Namespace"])), dict([str("meta"), v])),
};

type Indirection = "inline" | "park" | "swap" | "put" | "text_put";

function makeCtx(mode: Mode, callee: Name, spelling: Spelling, indirection: Indirection, consumer: Name, decoy: Name): Ctx {
  const s = new Stream();
  let memo: Buffer | undefined;
  const fresh = (): Buffer => spell(s, callee, spelling);
  const calleeExpr = (): Buffer => {
    switch (indirection) {
      case "inline":
        return fresh();
      case "park":
        return (memo ??= s.park(fresh()));
      case "swap":
        return (memo ??= s.swap(g(decoy), fresh()));
      case "text_put": {
        if (memo) return memo;
        const n = 1000 + s.fresh();
        memo = assemble(OP.GET, `${n}\n`);
        return assemble(fresh(), OP.PUT, `${n}\n`);
      }
      case "put": {
        if (memo) return memo;
        const first = s.put(fresh());
        // the slot put() just used: every later use fetches it
        memo = Buffer.from([0x68 /* BINGET */, first[first.length - 1]!]);
        return first;
      }
    }
  };
  const arg = (): Buffer => (mode === "reach" ? str(CMD) : mode === "bomb" ? long(2n ** 40n) : list(int(1), int(2)));
  return { s, mode, callee: calleeExpr, arg, consumer };
}

// ---------------------------------------------------------------- scanning

interface Loud {
  severity: Severity;
  text: string;
}

async function findings(bytes: Buffer): Promise<Loud[]> {
  const ctx = new RecordingContext();
  await scanPickle(new BufferSource("composition.pkl", bytes), ctx, { layout: "plain" });
  return ctx.reports.map((r) => ({
    severity: r.extra.severity ?? RULES[r.rule as RuleId].severity,
    text: `${r.rule} ${r.message} | ${r.extra.evidence ?? ""}`,
  }));
}

const qualified = (n: Name): string => `${n[0]}.${n[1]}`;

// ---------------------------------------------------------------- arbitraries

const letters = fc.stringMatching(/^[a-z][a-z0-9_]{1,9}$/);
/** Module and function names that exist in no index (prefixed so they can never be allowlisted). */
const madeUp: fc.Arbitrary<Name> = fc
  .tuple(fc.array(letters, { minLength: 1, maxLength: 3 }), letters)
  .map(([parts, fn]) => [`rtnolib_${parts.join(".")}`, fn] as const);
const reachCallee: fc.Arbitrary<Name> = fc.oneof(
  fc.constantFrom(...UNKNOWN_CALLEES),
  fc.constantFrom(...DANGEROUS_CALLEES),
  madeUp,
);
const harmlessCallee = fc.constantFrom(...HARMLESS_CALLEES);
const spelling = fc.constantFrom<Spelling>("global", "stack_global", "stack_global_memo");
const indirection = fc.constantFrom<Indirection>("inline", "park", "swap", "put", "text_put");
const consumer = fc.constantFrom(...CONSUMERS);
const wrappers = fc.array(fc.constantFrom(...Object.keys(WRAPPERS)), { maxLength: 3 });

interface Case {
  callee: Name;
  spelling: Spelling;
  indirection: Indirection;
  consumer: Name;
  decoy: Name;
  wrappers: string[];
  second: boolean;
}

const caseArb = (callee: fc.Arbitrary<Name>): fc.Arbitrary<Case> =>
  fc.record({ callee, spelling, indirection, consumer, decoy: harmlessCallee, wrappers, second: fc.boolean() });

function assembleCase(mode: Mode, carrier: Carrier, k: Case): Buffer {
  const c = makeCtx(mode, k.callee, k.spelling, k.indirection, k.consumer, k.decoy);
  let v = carrier(c);
  for (const w of k.wrappers) v = WRAPPERS[w]!(c, v);
  const stream = c.s.finish(v);
  // P8: the chain in a second pickle after a harmless first one (torch.load reads several).
  return k.second ? Buffer.concat([new Stream().finish(dict([str("epoch"), int(3)])), stream]) : stream;
}

const show = (k: Case): string =>
  `${qualified(k.callee)} spelled ${k.spelling}, ${k.indirection}, consumer ${qualified(k.consumer)}, wrapped [${k.wrappers.join(", ")}]${k.second ? ", in a second pickle" : ""}`;

async function assertReached(carrierName: string, carrier: Carrier, k: Case): Promise<void> {
  const bytes = assembleCase("reach", carrier, k);
  const all = await findings(bytes);
  const name = qualified(k.callee);
  const loud = all.filter((f) => atLeast(f.severity, "high"));
  assert.ok(
    loud.some((f) => f.text.includes(name)),
    `${carrierName}: nothing at high or worse names ${name} (${show(k)})\nstream ${bytes.toString("hex")}\nfindings ${JSON.stringify(all)}`,
  );
}

async function assertQuiet(carrierName: string, carrier: Carrier, k: Case): Promise<void> {
  const bytes = assembleCase("harmless", carrier, k);
  const all = await findings(bytes);
  const loud = all.filter((f) => atLeast(f.severity, "medium"));
  assert.deepEqual(loud, [], `${carrierName}: a harmless chain has findings (${show(k)})\nstream ${bytes.toString("hex")}`);
}

/** Allowlisted carriers that call their callee with the argument at load time (or on first use). */
const BOMB_CARRIERS = [
  "direct REDUCE",
  "copyreg._reconstructor(C, C, arg)",
  "numpy __randomstate_ctor(arg, C)",
  "numpy __generator_ctor(arg, C)",
  "torch _rebuild_from_type(C, Tensor, (arg,), {})",
  "torch _rebuild_from_type_v2(C, Tensor, (arg,), {})",
  "functools.partial(C, arg)",
  "functools.partial BUILD state (C, args, kwds, dict)",
  "defaultdict(partial(C, arg))",
  "consumer(callee(arg))",
] as const;
const ALLOCATORS: readonly Name[] = [["builtins", "bytearray"], ["builtins", "bytes"]];

async function assertBombReported(carrierName: string, carrier: Carrier, k: Case): Promise<void> {
  const bytes = assembleCase("bomb", carrier, k);
  const all = await findings(bytes);
  const loud = all.filter((f) => atLeast(f.severity, "high"));
  assert.ok(
    loud.some((f) => f.text.includes(qualified(k.callee))),
    `${carrierName}: ${qualified(k.callee)}(2**40) reached through it has nothing at high or worse naming it (${show(k)})\nstream ${bytes.toString("hex")}\nfindings ${JSON.stringify(all)}`,
  );
}

// ---------------------------------------------------------------- the properties

describe(`composition: a non-allowlisted callee reached through a carrier is high and named (seed ${SEED})`, () => {
  for (const [name, carrier] of Object.entries({ ...ALLOWED_CARRIERS, ...REACH_ONLY_CARRIERS })) {
    test(`reach through ${name}`, async () => {
      await fc.assert(fc.asyncProperty(caseArb(reachCallee), (k) => assertReached(name, carrier, k)), params(100));
    });
  }

  test("reach through a random chain of carriers", async () => {
    const carriers = { ...ALLOWED_CARRIERS, ...REACH_ONLY_CARRIERS };
    const arb = fc.record({ carrier: fc.constantFrom(...Object.keys(carriers)), k: caseArb(reachCallee) });
    await fc.assert(fc.asyncProperty(arb, ({ carrier, k }) => assertReached(carrier, carriers[carrier]!, k)), params(1000));
  });
});

describe(`composition: allowlisted carriers around an allowlisted container are quiet (seed ${SEED})`, () => {
  for (const [name, carrier] of Object.entries(ALLOWED_CARRIERS)) {
    test(`harmless through ${name}`, async () => {
      await fc.assert(fc.asyncProperty(caseArb(harmlessCallee), (k) => assertQuiet(name, carrier, k)), params(60));
    });
  }

  test("harmless through a random chain of allowlisted carriers", async () => {
    const arb = fc.record({ carrier: fc.constantFrom(...Object.keys(ALLOWED_CARRIERS)), k: caseArb(harmlessCallee) });
    await fc.assert(fc.asyncProperty(arb, ({ carrier, k }) => assertQuiet(carrier, ALLOWED_CARRIERS[carrier]!, k)), params(500));
  });
});

describe(`composition: an allowlisted allocator given 2**40 through a carrier that calls it is high (P21, seed ${SEED})`, () => {
  for (const name of BOMB_CARRIERS) {
    test(`bomb through ${name}`, async () => {
      await fc.assert(fc.asyncProperty(caseArb(fc.constantFrom(...ALLOCATORS)), (k) => assertBombReported(name, ALLOWED_CARRIERS[name]!, k)), params(30));
    });
  }
});
