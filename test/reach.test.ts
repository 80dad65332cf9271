/**
 * Judged by reach, not by call sites (issue 12): whatever a pickle can make run is judged as run.
 * Each test spells out one way to reach a callable without a direct REDUCE of it, and its benign
 * twin where picklers really write that shape.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { scanPickle } from "../src/formats/pickle.js";
import { RULES, type RuleId } from "../src/rules/catalogue.js";
import { BufferSource } from "../src/sources/byteSource.js";
import { atLeast, type Severity } from "../src/types.js";
import { RecordingContext } from "./support/context.js";
import { OP, assemble, global, stackGlobal, str, u32 } from "./support/pickle.js";

async function scan(bytes: Buffer): Promise<RecordingContext> {
  const ctx = new RecordingContext();
  await scanPickle(new BufferSource("t.pkl", bytes), ctx, { layout: "plain" });
  return ctx;
}

function severityOf(r: { rule: string; extra?: { severity?: Severity } }): Severity {
  return r.extra?.severity ?? RULES[r.rule as RuleId].severity;
}

/** The findings at high or worse, as "rule message" lines. */
async function loud(bytes: Buffer): Promise<string[]> {
  const ctx = await scan(bytes);
  return ctx.reports.filter((r) => atLeast(severityOf(r), "high")).map((r) => `${r.rule} ${r.message}`);
}

async function assertReported(bytes: Buffer, name: RegExp): Promise<void> {
  const found = await loud(bytes);
  assert.ok(found.some((line) => name.test(line)), `nothing at high or worse matches ${name}: ${JSON.stringify(found)}`);
}

async function assertQuiet(bytes: Buffer): Promise<void> {
  const ctx = await scan(bytes);
  const shown = ctx.reports.filter((r) => atLeast(severityOf(r), "medium")).map((r) => `${r.rule} ${r.message}`);
  assert.deepEqual(shown, []);
}

const BININT = (n: number): Buffer => {
  const b = Buffer.alloc(5);
  b[0] = OP.BININT;
  b.writeInt32LE(n, 1);
  return b;
};

describe("indirect invocation through allowlisted consumers (P19)", () => {
  test("list(map(unknown_gadget, ['x'])): the iterator's function is reported at high", async () => {
    const mapped = assemble(global("builtins", "map"), global("some_lib.util", "run_command"), OP.EMPTY_LIST, str("x"), OP.APPEND, OP.TUPLE2, OP.NEWOBJ);
    await assertReported(assemble(OP.PROTO, 2, global("builtins", "list"), mapped, OP.TUPLE1, OP.REDUCE, OP.STOP), /some_lib\.util\.run_command/);
  });

  test("set(itertools.starmap(posix.system, [('id',)])) is critical", async () => {
    const star = assemble(global("itertools", "starmap"), global("posix", "system"), OP.EMPTY_LIST, str("id"), OP.TUPLE1, OP.APPEND, OP.TUPLE2, OP.REDUCE);
    const found = await loud(assemble(OP.PROTO, 2, global("builtins", "set"), star, OP.TUPLE1, OP.REDUCE, OP.STOP));
    assert.ok(found.some((l) => /MG100 .*posix\.system/.test(l)), JSON.stringify(found));
    assert.ok(found.some((l) => /itertools\.starmap/.test(l)), JSON.stringify(found));
  });

  test("Python 2's itertools.imap is judged as builtins.map, which is not allowlisted", async () => {
    const mapped = assemble(global("itertools", "imap"), global("collections", "OrderedDict"), OP.EMPTY_LIST, OP.TUPLE2, OP.REDUCE);
    await assertReported(assemble(global("builtins", "list"), mapped, OP.TUPLE1, OP.REDUCE, OP.STOP), /builtins\.map/);
  });
});

describe("allowlisted callables that call an argument (P19)", () => {
  test("an enum's functional API (more than a value, or keywords) makes a class and calls its type=: reported; a member lookup is not", async () => {
    await assertReported(assemble(OP.PROTO, 2, global("enum", "Enum"), str("E"), str("a b"), OP.TUPLE2, OP.REDUCE, OP.STOP), /MG107 enum\.Enum is called as its functional API/);
    // partial(Enum, "E", [("a", 10**10)], type=bytearray), as partial pickles: the function, then BUILD (func, args, keywords, dict).
    const enumCls = global("enum", "Enum");
    const members = assemble(OP.EMPTY_LIST, str("a"), OP.BININT, u32(2 ** 31 - 1), OP.TUPLE1, OP.TUPLE2, OP.APPEND);
    const partial = assemble(global("functools", "partial"), enumCls, OP.TUPLE1, OP.REDUCE, OP.MARK, enumCls, OP.MARK, str("E"), members, OP.TUPLE, OP.EMPTY_DICT, str("type"), global("builtins", "bytearray"), OP.SETITEM, OP.NONE, OP.TUPLE, OP.BUILD);
    await assertReported(assemble(OP.PROTO, 2, partial, OP.STOP), /MG107 enum\.Enum is called as its functional API \(2 arguments and keywords\)/);
    await assertQuiet(assemble(OP.PROTO, 2, global("re", "RegexFlag"), OP.BININT1, 32, OP.TUPLE1, OP.REDUCE, OP.STOP));
  });

  test("dict(x) and OrderedDict(x) call x.keys(): a name or partial stored as an attribute named keys is judged as called", async () => {
    const partialPow = assemble(global("functools", "partial"), global("builtins", "pow"), OP.BININT1, 10, OP.BININT, u32(100_000_000), OP.TUPLE3, OP.REDUCE);
    const namespace = (keys: Buffer): Buffer => assemble(global("types", "SimpleNamespace"), OP.EMPTY_TUPLE, OP.REDUCE, OP.EMPTY_DICT, str("keys"), keys, OP.SETITEM, OP.BUILD);
    for (const consumer of [global("builtins", "dict"), global("collections", "OrderedDict")]) {
      await assertReported(assemble(OP.PROTO, 2, consumer, namespace(partialPow), OP.TUPLE1, OP.REDUCE, OP.STOP), /MG101 calls builtins\.pow, which is allowlisted to be stored or constructed, not called at load/);
    }
    await assertReported(assemble(OP.PROTO, 2, namespace(global("torch.nn.modules.linear", "Linear")), OP.STOP), /MG101 .*torch\.nn\.modules\.linear\.Linear/);
    // Data under that name (a list of keys, an array) is not callable; a notCalled function under another name is only stored.
    await assertQuiet(assemble(OP.PROTO, 2, namespace(assemble(OP.EMPTY_LIST, str("a"), OP.APPEND)), OP.STOP));
    await assertQuiet(assemble(OP.PROTO, 2, global("types", "SimpleNamespace"), OP.EMPTY_TUPLE, OP.REDUCE, OP.EMPTY_DICT, str("func"), partialPow, OP.SETITEM, OP.BUILD, OP.STOP));
  });

  test("copyreg._reconstructor(C, C, arg) calls C: an unknown C is reported as called", async () => {
    const bytes = assemble(OP.PROTO, 2, global("copyreg", "_reconstructor"), global("gadgets", "Runner"), global("gadgets", "Runner"), str("id"), OP.TUPLE3, OP.REDUCE, OP.STOP);
    await assertReported(bytes, /MG101 calls gadgets\.Runner/);
  });

  test("numpy.random._pickle.__generator_ctor(name, ctor) calls ctor", async () => {
    const bytes = assemble(OP.PROTO, 2, global("numpy.random._pickle", "__generator_ctor"), str("MT19937"), global("gadgets", "spawn"), OP.TUPLE2, OP.REDUCE, OP.STOP);
    await assertReported(bytes, /gadgets\.spawn/);
  });

  test("functools.partial(unknown) is reported, and so is a function swapped in by BUILD's state", async () => {
    await assertReported(assemble(OP.PROTO, 2, global("functools", "partial"), global("gadgets", "spawn"), OP.TUPLE1, OP.REDUCE, OP.STOP), /gadgets\.spawn/);
    // BUILD state (func, args, kwds, dict): partial.__setstate__ takes its function from the state.
    const state = assemble(OP.MARK, global("posix", "system"), str("id"), OP.TUPLE1, OP.EMPTY_DICT, OP.NONE, OP.TUPLE);
    const bytes = assemble(OP.PROTO, 2, global("functools", "partial"), global("collections", "OrderedDict"), OP.TUPLE1, OP.REDUCE, state, OP.BUILD, OP.STOP);
    await assertReported(bytes, /MG100 .*posix\.system/);
  });

  test("functools.partial whose state function cannot be judged (a persistent id) is reported", async () => {
    const state = assemble(OP.MARK, str("storage"), OP.BINPERSID, OP.EMPTY_TUPLE, OP.EMPTY_DICT, OP.NONE, OP.TUPLE);
    const bytes = assemble(OP.PROTO, 2, global("functools", "partial"), global("collections", "OrderedDict"), OP.TUPLE1, OP.REDUCE, state, OP.BUILD, OP.STOP);
    await assertReported(bytes, /MG107 functools\.partial calls a value produced at load time/);
  });

  test("a value an allowlisted call made is safe to invoke: defaultdict(partial(defaultdict, list)) passes", async () => {
    const inner = assemble(global("functools", "partial"), global("collections", "defaultdict"), global("builtins", "list"), OP.TUPLE2, OP.REDUCE);
    await assertQuiet(assemble(OP.PROTO, 2, global("collections", "defaultdict"), inner, OP.TUPLE1, OP.REDUCE, OP.STOP));
  });

  test("an allocator reached through a carrier is bounded: _reconstructor(bytearray, bytearray, 2**31 - 1)", async () => {
    const bytes = assemble(OP.PROTO, 2, global("copyreg", "_reconstructor"), global("builtins", "bytearray"), global("builtins", "bytearray"), BININT(0x7fffffff), OP.TUPLE3, OP.REDUCE, OP.STOP);
    await assertReported(bytes, /MG109 copyreg\._reconstructor calls builtins\.bytearray with 2147483647/);
  });

  test("collections.defaultdict's factory is judged as called", async () => {
    await assertReported(assemble(OP.PROTO, 2, global("collections", "defaultdict"), global("gadgets", "spawn"), OP.TUPLE1, OP.REDUCE, OP.STOP), /MG101 calls gadgets\.spawn/);
  });

  test("an allowlisted caller whose arguments are produced at load time cannot be followed, and says so", async () => {
    const args = assemble(global("builtins", "tuple"), OP.EMPTY_LIST, global("gadgets", "spawn"), OP.APPEND, OP.TUPLE1, OP.REDUCE);
    const found = await loud(assemble(OP.PROTO, 2, global("collections", "defaultdict"), args, OP.REDUCE, OP.STOP));
    assert.ok(found.some((l) => /MG107 collections\.defaultdict is given arguments produced at load time/.test(l)), JSON.stringify(found));
  });

  test("benign twin: partial(OrderedDict) with its real state and defaultdict(list) pass", async () => {
    const state = assemble(OP.MARK, global("collections", "OrderedDict"), OP.EMPTY_TUPLE, OP.EMPTY_DICT, OP.NONE, OP.TUPLE);
    await assertQuiet(assemble(OP.PROTO, 2, global("functools", "partial"), global("collections", "OrderedDict"), OP.TUPLE1, OP.REDUCE, state, OP.BUILD, OP.STOP));
    await assertQuiet(assemble(OP.PROTO, 2, global("collections", "defaultdict"), global("builtins", "list"), OP.TUPLE1, OP.REDUCE, OP.STOP));
  });
});

describe("conventions, each as narrow as it can be (issue 13)", () => {
  test("getattr(builtin data type, method) passes: str.lower pickles that way", async () => {
    await assertQuiet(assemble(OP.PROTO, 2, global("builtins", "getattr"), global("builtins", "str"), str("lower"), OP.TUPLE2, OP.REDUCE, OP.STOP));
  });

  test("getattr of anything else is reported, and so is getattr imported but never called", async () => {
    await assertReported(assemble(OP.PROTO, 2, global("builtins", "getattr"), global("collections", "OrderedDict"), str("__init__"), OP.TUPLE2, OP.REDUCE, OP.STOP), /MG108/);
    await assertReported(assemble(OP.PROTO, 2, global("builtins", "getattr"), global("builtins", "str"), str("__class__"), OP.TUPLE2, OP.REDUCE, OP.STOP), /MG108/);
    // A sixth red team round: str.format walks attributes ("{0.__init__.__globals__[ctypes]…}"), and
    // dict.update or setdefault would rewrite a state after it was judged. Only methods that compute pass.
    for (const [type, method] of [["str", "format"], ["str", "format_map"], ["dict", "update"], ["dict", "setdefault"], ["list", "append"], ["set", "add"], ["bytearray", "extend"]]) {
      await assertReported(assemble(OP.PROTO, 2, global("builtins", "getattr"), global("builtins", type!), str(method!), OP.TUPLE2, OP.REDUCE, OP.STOP), /MG108/);
    }
    for (const [type, method] of [["str", "join"], ["bytes", "decode"], ["dict", "get"], ["int", "from_bytes"], ["set", "union"]]) {
      await assertQuiet(assemble(OP.PROTO, 2, global("builtins", "getattr"), global("builtins", type!), str(method!), OP.TUPLE2, OP.REDUCE, OP.STOP));
    }
    await assertReported(assemble(OP.PROTO, 2, global("builtins", "getattr"), OP.POP, OP.NONE, OP.STOP), /builtins\.getattr/);
  });

  test("getattr(C, name) of an allowlisted method passes and its call is followed: ZoneInfo pickles as getattr(ZoneInfo, '_unpickle')", async () => {
    const unpickle = assemble(global("builtins", "getattr"), global("zoneinfo", "ZoneInfo"), str("_unpickle"), OP.TUPLE2, OP.REDUCE);
    await assertQuiet(assemble(OP.PROTO, 2, unpickle, str("Europe/Paris"), OP.BININT1, 1, OP.TUPLE2, OP.REDUCE, OP.STOP));
  });

  test("getattr(obj, name) of an allowlisted method is the method only while no state could have set an attribute of that name (red team round 36)", async () => {
    // interp1d._call_linear is allowlisted as a method; BUILD's {"_call_linear": pow} makes getattr return pow.
    const made = assemble(global("scipy.interpolate._interpolate", "interp1d"), OP.EMPTY_TUPLE, OP.NEWOBJ);
    const withState = (state: Buffer): Buffer => assemble(made, state, OP.BUILD);
    const fetched = (obj: Buffer): Buffer => assemble(global("builtins", "getattr"), obj, str("_call_linear"), OP.TUPLE2, OP.REDUCE);
    const called = (obj: Buffer): Buffer => assemble(OP.PROTO, 2, fetched(obj), OP.BININT1, 10, OP.BININT, u32(1_000_000_000), OP.TUPLE2, OP.REDUCE, OP.STOP);
    const planted = withState(assemble(OP.EMPTY_DICT, str("_call_linear"), global("builtins", "pow"), OP.SETITEM));
    await assertReported(called(planted), /MG108 getattr fetches "_call_linear" of .*interp1d\(\), whose state may have set an attribute of that name/);
    // numpy.object_(x) is x: a state given through either is the other's (red team round 37).
    const wrap = (obj: Buffer): Buffer => assemble(global("numpy", "object_"), obj, OP.TUPLE1, OP.REDUCE);
    await assertReported(called(wrap(planted)), /MG108 getattr fetches "_call_linear"/);
    await assertReported(called(assemble(made, OP.BINPUT, 9, OP.POP, global("numpy", "object_"), OP.BINGET, 9, OP.TUPLE1, OP.REDUCE, OP.EMPTY_DICT, str("_call_linear"), global("builtins", "pow"), OP.SETITEM, OP.BUILD, OP.POP, OP.BINGET, 9)), /MG108 getattr fetches "_call_linear"/);
    // A method planted on the class itself, reached through numpy.object_(cls) or type(obj), is every instance's (red team round 38).
    const slotPow = assemble(OP.NONE, OP.EMPTY_DICT, str("_call_linear"), global("builtins", "pow"), OP.SETITEM, OP.TUPLE2);
    const cls = global("scipy.interpolate._interpolate", "interp1d");
    await assertReported(assemble(OP.PROTO, 2, global("numpy", "object_"), cls, OP.TUPLE1, OP.REDUCE, slotPow, OP.BUILD, OP.POP, fetched(made), OP.STOP), /MG106 BUILD sets attributes on the imported object scipy\.interpolate\._interpolate\.interp1d, reached through/);
    await assertReported(assemble(OP.PROTO, 2, global("builtins", "type"), made, OP.TUPLE1, OP.REDUCE, slotPow, OP.BUILD, OP.POP, fetched(made), OP.STOP), /MG106 BUILD sets attributes on builtins\.type\(.*\), a class/);
    // So do pairs, which a __setstate__ updating its __dict__ takes as readily as a dict.
    await assertReported(called(withState(assemble(str("_call_linear"), global("builtins", "pow"), OP.TUPLE2, OP.TUPLE1))), /MG108 getattr fetches "_call_linear"/);
    // Fetched before any state, or after a state that names other attributes, it is the class's method.
    await assertQuiet(assemble(OP.PROTO, 2, fetched(made), OP.STOP));
    await assertQuiet(assemble(OP.PROTO, 2, fetched(withState(assemble(OP.EMPTY_DICT, str("kind"), str("linear"), OP.SETITEM))), OP.STOP));
  });

  test("getattr of a method the allowlist does not list is reported, and calling its result is MG107", async () => {
    const fromkeys = assemble(global("builtins", "getattr"), global("collections", "OrderedDict"), str("fromkeys"), OP.TUPLE2, OP.REDUCE);
    const found = await loud(assemble(OP.PROTO, 2, fromkeys, OP.EMPTY_LIST, OP.TUPLE1, OP.REDUCE, OP.STOP));
    assert.ok(found.some((l) => l.startsWith("MG108 getattr fetches \"fromkeys\"")), JSON.stringify(found));
    assert.ok(found.some((l) => l.startsWith("MG107")), JSON.stringify(found));
  });

  test("dill's _load_type passes for a builtin data type (and calling it is that type's call); CodeType is reported", async () => {
    const sliceType = assemble(global("dill._dill", "_load_type"), str("slice"), OP.TUPLE1, OP.REDUCE);
    await assertQuiet(assemble(OP.PROTO, 2, sliceType, OP.BININT1, 1, OP.BININT1, 2, OP.NONE, OP.TUPLE3, OP.REDUCE, OP.STOP));
    await assertReported(assemble(OP.PROTO, 2, global("dill._dill", "_load_type"), str("CodeType"), OP.TUPLE1, OP.REDUCE, OP.STOP), /MG108 dill's _load_type fetches the type "CodeType"/);
  });

  test("a getattr excused once is still reported when it is also handed to a caller", async () => {
    const excused = assemble(global("builtins", "getattr"), OP.BINPUT, 0, global("builtins", "str"), str("lower"), OP.TUPLE2, OP.REDUCE, OP.POP);
    const handed = assemble(global("collections", "defaultdict"), OP.BINGET, 0, OP.TUPLE1, OP.REDUCE);
    await assertReported(assemble(OP.PROTO, 2, excused, handed, OP.STOP), /builtins\.getattr/);
  });

  test("a Cython unpickle helper's class is judged as constructed: an unknown one is reported", async () => {
    const helper = global("sklearn.utils._fast_dict", "__pyx_unpickle_IntFloatDict");
    await assertReported(assemble(OP.PROTO, 2, helper, global("gadgets", "Runner"), BININT(1), OP.NONE, OP.TUPLE3, OP.REDUCE, OP.STOP), /MG102 constructs gadgets\.Runner/);
  });

  test("__doc__ and __name__ in an instance's state are documentation; __class__ is not", async () => {
    const obj = assemble(global("collections", "OrderedDict"), OP.EMPTY_TUPLE, OP.REDUCE);
    await assertQuiet(assemble(OP.PROTO, 2, obj, OP.EMPTY_DICT, str("__doc__"), str("A frozen distribution."), OP.SETITEM, OP.BUILD, OP.STOP));
    await assertQuiet(assemble(OP.PROTO, 2, obj, OP.EMPTY_DICT, str("__name__"), str("poisson"), OP.SETITEM, OP.BUILD, OP.STOP));
    await assertReported(assemble(OP.PROTO, 2, obj, OP.EMPTY_DICT, str("__name__"), global("builtins", "str"), OP.SETITEM, OP.BUILD, OP.STOP), /MG106/);
    await assertReported(assemble(OP.PROTO, 2, obj, OP.EMPTY_DICT, str("__class__"), global("builtins", "str"), OP.SETITEM, OP.BUILD, OP.STOP), /MG106/);
  });

  test("dunder attributes no Python protocol reads are plain attributes: typing's __orig_class__, networkx's __networkx_cache__", async () => {
    const obj = assemble(global("collections", "OrderedDict"), OP.EMPTY_TUPLE, OP.REDUCE);
    await assertQuiet(assemble(OP.PROTO, 2, obj, OP.EMPTY_DICT, str("__networkx_cache__"), OP.EMPTY_DICT, OP.SETITEM, OP.BUILD, OP.STOP));
    await assertQuiet(assemble(OP.PROTO, 2, obj, OP.EMPTY_DICT, str("__orig_class__"), global("builtins", "int"), OP.SETITEM, OP.BUILD, OP.STOP));
    // Their values are still judged.
    await assertReported(assemble(OP.PROTO, 2, obj, OP.EMPTY_DICT, str("__orig_class__"), global("posix", "system"), OP.SETITEM, OP.BUILD, OP.STOP), /MG100/);
  });
});

describe("harm from allowlisted calls alone (P21)", () => {
  test("sizes and texts made at load time are bounded as literals are: int() of a literal is read, other sizes made by calls are reported", async () => {
    const call1 = (module: string, name: string, ...args: Buffer[]): Buffer => assemble(global(module, name), OP.MARK, ...args, OP.TUPLE, OP.REDUCE);
    const whole = (...parts: Buffer[]): Buffer => assemble(OP.PROTO, 2, ...parts, OP.STOP);
    await assertReported(whole(call1("builtins", "bytes", call1("builtins", "int", str("8000000000")))), /MG109 builtins\.bytes\(8000000000\) allocates 8000000000 bytes/);
    await assertReported(whole(call1("builtins", "bytearray", call1("builtins", "hash", str("x")))), /MG109 builtins\.bytearray is given builtins\.hash\(.*\), made at load time: a size the scanner cannot bound/);
    await assertReported(whole(call1("numpy.core.multiarray", "_reconstruct", global("numpy", "ndarray"), assemble(call1("builtins", "int", str("100000")), call1("builtins", "int", str("100000")), OP.TUPLE2), str("b"))), /MG109 .*_reconstruct with shape \(100000, 100000\)/);
    // Protocol 2 writes bytes as _codecs.encode(text, "latin1"): data, not a size.
    await assertQuiet(whole(call1("builtins", "bytearray", call1("_codecs", "encode", str("abc"), str("latin1")))));

    // Hex encoding doubles its input: 33 times over, one byte is 8 GiB.
    let hex = str("A");
    for (let i = 0; i < 33; i++) hex = call1("_codecs", "encode", hex, str("hex"));
    await assertReported(whole(hex), /MG109 _codecs\.encode makes up to \d+ bytes at load time/);

    // A builtin text method getattr fetched: its result is bounded by the product of what it is given.
    const method = (type: string, name: string, ...args: Buffer[]): Buffer => assemble(global("builtins", "getattr"), global("builtins", type), str(name), OP.TUPLE2, OP.REDUCE, OP.MARK, ...args, OP.TUPLE, OP.REDUCE);
    const bytesOf = (n: number, c: string): Buffer => assemble(OP.BINBYTES, u32(n), Buffer.alloc(n, c));
    await assertReported(whole(method("bytes", "replace", bytesOf(65536, "A"), bytesOf(1, "A"), bytesOf(131072, "B"))), /MG109 .*"replace"\) and makes up to 8589934592 characters or bytes/);
    await assertReported(whole(method("str", "expandtabs", str("\t".repeat(64)), BININT(2 ** 27))), /MG109 .*"expandtabs"\) and makes up to/);
    await assertQuiet(whole(method("str", "replace", str("a-b"), str("-"), str("_"))));

    // Decimal("1e2000000000") is cheap; converting it to an int or a Fraction is not.
    const hugeDecimal = call1("decimal", "Decimal", str("1e2000000000"));
    await assertReported(whole(call1("builtins", "int", hugeDecimal)), /MG109 builtins\.int is given a Decimal of exponent 2000000000/);
    await assertReported(whole(call1("fractions", "Fraction", hugeDecimal)), /MG109 fractions\.Fraction is given a Decimal of exponent 2000000000/);
    await assertQuiet(whole(call1("builtins", "int", call1("decimal", "Decimal", str("1e5")))));

    // CPython reads any Unicode decimal digit as its value (red team round 16): Arabic-Indic and fullwidth nines.
    const text = (s: string): Buffer => assemble(OP.BINUNICODE, u32(Buffer.byteLength(s)), Buffer.from(s, "utf8"));
    for (const nines of ["\u0669".repeat(9), "\uff19".repeat(9)]) {
      await assertReported(whole(call1("fractions", "Fraction", text(`1e${nines}`))), /MG109 fractions\.Fraction\(.*\) computes 10\*\*999999999 at load time/);
      await assertReported(whole(call1("builtins", "int", call1("decimal", "Decimal", text(`1e${nines}`)))), /MG109 builtins\.int is given a Decimal of exponent 999999999/);
      await assertReported(whole(call1("fractions", "Fraction", call1("decimal", "Decimal", text(`1e${nines}`)))), /MG109 fractions\.Fraction is given a Decimal of exponent 999999999/);
    }
    await assertQuiet(whole(call1("fractions", "Fraction", text("1e\u0665"))));
  });

  test("the same bounds through what a red team tried next: sizes made by int(text, base) or type(0), Decimal's tuple form, str.encode, a carrier's argument, OrderedDict's items", async () => {
    const call1 = (module: string, name: string, ...args: Buffer[]): Buffer => assemble(global(module, name), OP.MARK, ...args, OP.TUPLE, OP.REDUCE);
    const whole = (...parts: Parameters<typeof assemble>): Buffer => assemble(OP.PROTO, 2, ...parts, OP.STOP);
    const madeInt = assemble(global("builtins", "int"), str("1000000000"), OP.BININT1, 10, OP.TUPLE2, OP.REDUCE);
    await assertReported(whole(call1("sklearn.cluster._hierarchical_fast", "UnionFind", madeInt)), /MG109 .*UnionFind is called with a size made at load time/);
    const typeInt = assemble(global("builtins", "type"), OP.BININT1, 0, OP.TUPLE1, OP.REDUCE);
    await assertReported(whole(call1("builtins", "bytes", assemble(typeInt, str("8000000000"), OP.TUPLE1, OP.REDUCE))), /MG109 builtins\.bytes is given .*made at load time/);
    await assertReported(whole(call1("builtins", "int", call1("decimal", "Decimal", assemble(OP.BININT1, 0, OP.BININT1, 1, OP.TUPLE1, OP.BININT, u32(2_000_000_000), OP.TUPLE3)))), /MG109 builtins\.int is given a Decimal of exponent 2000000000/);
    const cjk = Array.from({ length: 5_000 }, (_, i) => String.fromCharCode(0x4e00 + i)).join("");
    const encodeMethod = assemble(global("builtins", "getattr"), global("builtins", "str"), str("encode"), OP.TUPLE2, OP.REDUCE);
    await assertReported(whole(encodeMethod, OP.BINUNICODE, u32(Buffer.byteLength(cjk)), Buffer.from(cjk), str("punycode"), OP.TUPLE2, OP.REDUCE), /MG109 .*"punycode"\) takes time that grows with the square/);
    const tzfile = global("dateutil.tz.tz", "tzfile");
    await assertReported(whole(global("copyreg", "_reconstructor"), tzfile, tzfile, str("/etc/hostname"), OP.TUPLE3, OP.REDUCE), /MG101 copyreg\._reconstructor hands dateutil\.tz\.tz\.tzfile "\/etc\/hostname", which it may open as a file/);
    // OrderedDict(x) falls back to x.items().
    const partialPow = assemble(global("functools", "partial"), global("builtins", "pow"), OP.BININT1, 10, OP.BININT, u32(100_000_000), OP.TUPLE3, OP.REDUCE);
    const namespace = assemble(global("types", "SimpleNamespace"), OP.EMPTY_TUPLE, OP.REDUCE, OP.EMPTY_DICT, str("items"), partialPow, OP.SETITEM, OP.BUILD);
    await assertReported(whole(global("collections", "OrderedDict"), namespace, OP.TUPLE1, OP.REDUCE), /MG101 calls builtins\.pow/);
  });

  test("a structure whose shared parts expand exponentially, handed to a comparison, str() or hash(), is a bomb; a small one is not", async () => {
    // a_i = [a_{i-1}, b_{i-1}], b_i = [b_{i-1}, a_{i-1}], through the memo: 2**64 items to compare, 1.5 kB.
    const levels: Buffer[] = [assemble(OP.EMPTY_LIST, OP.BINPUT, 0, OP.POP, OP.EMPTY_LIST, OP.BINPUT, 1, OP.POP)];
    for (let i = 1; i <= 64; i++) {
      const [a, b, pa, pb] = [2 * i, 2 * i + 1, 2 * i - 2, 2 * i - 1];
      levels.push(assemble(OP.MARK, OP.BINGET, pa, OP.BINGET, pb, OP.LIST, OP.BINPUT, a, OP.POP, OP.MARK, OP.BINGET, pb, OP.BINGET, pa, OP.LIST, OP.BINPUT, b, OP.POP));
    }
    const dag = assemble(...levels);
    await assertReported(assemble(OP.PROTO, 2, dag, global("_operator", "eq"), OP.BINGET, 128, OP.BINGET, 129, OP.TUPLE2, OP.REDUCE, OP.STOP), /MG109 _operator\.eq walks a structure whose shared parts make more than 2\*\*53 items/);
    await assertReported(assemble(OP.PROTO, 2, dag, global("builtins", "str"), OP.BINGET, 128, OP.TUPLE1, OP.REDUCE, OP.STOP), /MG109 builtins\.str walks/);
    // ... also behind a copy: list(a) holds what a holds.
    const copy = (memo: number): Buffer => assemble(global("builtins", "list"), OP.BINGET, memo, OP.TUPLE1, OP.REDUCE);
    await assertReported(assemble(OP.PROTO, 2, dag, global("_operator", "eq"), copy(128), copy(129), OP.TUPLE2, OP.REDUCE, OP.STOP), /MG109 _operator\.eq walks/);
    // sortedcontainers' collections sort what they are given: comparing two such items walks them.
    await assertReported(assemble(OP.PROTO, 2, dag, global("sortedcontainers.sortedlist", "SortedList"), OP.MARK, OP.BINGET, 128, OP.BINGET, 129, OP.LIST, OP.TUPLE1, OP.REDUCE, OP.STOP), /MG109 sortedcontainers\.sortedlist\.SortedList walks/);
    const small = assemble(OP.EMPTY_LIST, BININT(1), OP.APPEND);
    await assertQuiet(assemble(OP.PROTO, 2, global("_operator", "eq"), small, small, OP.TUPLE2, OP.REDUCE, OP.STOP));
    await assertQuiet(assemble(OP.PROTO, 2, global("sortedcontainers.sortedlist", "SortedList"), OP.MARK, small, small, OP.LIST, OP.TUPLE1, OP.REDUCE, OP.STOP));
  });

  test("what converts with __index__ is a size whatever made it: an IntFlag, a big-integer type, a 0-d array, a one-element tensor (red team round 36)", async () => {
    const whole = (...parts: Parameters<typeof assemble>): Buffer => assemble(OP.PROTO, 2, ...parts, OP.STOP);
    const call1 = (module: string, name: string, arg: Buffer): Buffer => assemble(global(module, name), arg, OP.TUPLE1, OP.REDUCE);
    const big = assemble(OP.LONG1, 5, [0x00, 0xbc, 0xa0, 0x65, 0x01]); // 6,000,000,000
    // re.RegexFlag keeps any value (an IntFlag's boundary is KEEP), so bytearray() allocates it.
    await assertReported(whole(call1("builtins", "bytearray", call1("re", "RegexFlag", big))), /MG109 builtins\.bytearray\(6000000000\) allocates/);
    await assertReported(whole(call1("builtins", "bytearray", call1("flint.types.fmpz", "fmpz", str("6000000000")))), /MG109 builtins\.bytearray\(6000000000\) allocates/);
    await assertReported(whole(call1("builtins", "bytearray", call1("numpy", "uint64", big))), /MG109/);
    // A 0-d integer array's value is in data BUILD sets, which the size check does not read.
    const array0d = assemble(global("numpy.core.multiarray", "_reconstruct"), global("numpy", "ndarray"), OP.BININT1, 0, OP.TUPLE1, str("b"), OP.TUPLE3, OP.REDUCE);
    await assertReported(whole(call1("sklearn.cluster._hierarchical_fast", "UnionFind", array0d)), /MG109 .*UnionFind is called with a size made at load time/);
    const zfill = assemble(global("builtins", "getattr"), str("x"), str("zfill"), OP.TUPLE2, OP.REDUCE);
    await assertReported(whole(zfill, array0d, OP.TUPLE1, OP.REDUCE), /MG109 .*"zfill"\) with a size made at load time/);
    const tensor = assemble(global("torch._utils", "_rebuild_tensor_v2"), OP.MARK, OP.NONE, OP.BININT1, 0, OP.EMPTY_TUPLE, OP.EMPTY_TUPLE, OP.NEWFALSE, OP.NONE, OP.TUPLE, OP.REDUCE);
    await assertReported(whole(call1("builtins", "bytearray", tensor)), /MG109 builtins\.bytearray is given torch\._utils\._rebuild_tensor_v2/);
    // A NumPy scalar read whatever its dtype's spelling, in its byte order (red team round 37); one made by calling ndarray directly.
    const scalar = (code: string, data: Buffer): Buffer =>
      assemble(global("numpy._core.multiarray", "scalar"), global("numpy", "dtype"), str(code), OP.NEWFALSE, OP.NEWTRUE, OP.TUPLE3, OP.REDUCE, OP.SHORT_BINBYTES, data.length, data, OP.TUPLE2, OP.REDUCE);
    const le = Buffer.alloc(8);
    le.writeBigUInt64LE(6_000_000_000n);
    const be = Buffer.alloc(8);
    be.writeBigUInt64BE(6_000_000_000n);
    for (const [code, data] of [["q", le], ["int64", le], [">i8", be], ["<i8", le]] as const) {
      await assertReported(whole(call1("builtins", "bytearray", scalar(code, data))), /MG109 builtins\.bytearray\(\d{10,}\) allocates/);
    }
    await assertReported(whole(call1("builtins", "bytearray", scalar("made-up", le))), /MG109 builtins\.bytearray is given/);
    // A BUILD on the dtype may make 'i8' big-endian (red team round 38): as a size, the larger reading counts.
    const builtBig = assemble(global("numpy._core.multiarray", "scalar"), global("numpy", "dtype"), str("i8"), OP.NEWFALSE, OP.NEWTRUE, OP.TUPLE3, OP.REDUCE,
      OP.MARK, OP.BININT1, 3, str(">"), OP.NONE, OP.NONE, OP.NONE, OP.BININT1, 0xff, OP.BININT1, 0xff, OP.BININT1, 0, OP.TUPLE, OP.BUILD, OP.SHORT_BINBYTES, 8, be, OP.TUPLE2, OP.REDUCE);
    await assertReported(whole(call1("builtins", "bytearray", builtBig)), /MG109 builtins\.bytearray\(\d+\) allocates/);
    // A small value read either way stays small.
    await assertQuiet(whole(call1("builtins", "bytearray", scalar("i2", Buffer.from([0x10, 0x00])))));
    await assertQuiet(whole(call1("builtins", "bytearray", scalar("f8", le))));
    const ndarray = assemble(global("numpy", "ndarray"), OP.EMPTY_TUPLE, str("i8"), OP.TUPLE2, OP.REDUCE);
    await assertReported(whole(zfill, ndarray, OP.TUPLE1, OP.REDUCE), /MG109 .*"zfill"\) with a size made at load time/);
    // Small literal values pass, an enum looked up by text is no size, and an iterating callee's array is data.
    await assertQuiet(whole(call1("builtins", "bytearray", call1("re", "RegexFlag", assemble(OP.BININT1, 32)))));
    await assertQuiet(whole(call1("builtins", "bytearray", call1("flint.types.fmpz", "fmpz", str("16")))));
    await assertQuiet(whole(call1("builtins", "list", assemble(OP.MARK, array0d, array0d, OP.LIST))));
  });

  test("bytearray(2**31 - 1) is a resource bomb; bytearray(16) is not", async () => {
    await assertReported(assemble(OP.PROTO, 2, global("builtins", "bytearray"), BININT(0x7fffffff), OP.TUPLE1, OP.REDUCE, OP.STOP), /MG109/);
    await assertQuiet(assemble(OP.PROTO, 2, global("builtins", "bytearray"), BININT(16), OP.TUPLE1, OP.REDUCE, OP.STOP));
  });

  test("a huge NumPy shape allocates at load: numpy.ndarray((2**20, 2**20))", async () => {
    const shape = assemble(BININT(1 << 20), BININT(1 << 20), OP.TUPLE2);
    await assertReported(assemble(OP.PROTO, 2, global("numpy", "ndarray"), shape, OP.TUPLE1, OP.REDUCE, OP.STOP), /MG109 numpy\.ndarray with shape/);
  });

  test("NumPy's record and char arrays are made from a shape as ndarray is: a huge one is a bomb", async () => {
    const shape = assemble(BININT(1 << 20), BININT(1 << 20), OP.TUPLE2);
    await assertReported(assemble(OP.PROTO, 2, global("numpy", "recarray"), shape, str("f8"), OP.TUPLE2, OP.REDUCE, OP.STOP), /MG109 numpy\.recarray with shape \(1048576, 1048576\)/);
    await assertReported(assemble(OP.PROTO, 2, global("numpy.char", "chararray"), shape, OP.TUPLE1, OP.REDUCE, OP.STOP), /MG109 numpy\.char\.chararray with shape/);
    await assertQuiet(assemble(OP.PROTO, 2, global("numpy", "recarray"), BININT(16), str("f8"), OP.TUPLE2, OP.REDUCE, OP.STOP));
  });

  test("torch's legacy tensor and storage types called with sizes allocate their product: torch.FloatTensor(2**32) is a bomb", async () => {
    const sized = (name: string, ...sizes: Buffer[]): Buffer => assemble(OP.PROTO, 2, global("torch", name), OP.MARK, ...sizes, OP.TUPLE, OP.REDUCE, OP.STOP);
    await assertReported(sized("FloatTensor", assemble(OP.LONG1, 5, [0, 0, 0, 0, 1])), /MG109 torch\.FloatTensor with shape \(4294967296\)/);
    await assertReported(sized("LongTensor", BININT(1 << 16), BININT(1 << 16)), /MG109 torch\.LongTensor with shape \(65536, 65536\)/);
    await assertReported(sized("UntypedStorage", BININT(0x7fffffff)), /MG109 torch\.UntypedStorage/);
    await assertQuiet(sized("FloatTensor", BININT(16), BININT(16)));
  });

  test("a Fraction parsed from a string with a huge exponent computes that power of ten at load: Fraction('1e30000000')", async () => {
    const fraction = (text: string): Buffer => assemble(OP.PROTO, 2, global("fractions", "Fraction"), str(text), OP.TUPLE1, OP.REDUCE, OP.STOP);
    await assertReported(fraction("1e30000000"), /MG109 fractions\.Fraction\("1e30000000"\) computes 10\*\*30000000/);
    await assertReported(fraction(" -2.5E-3_000_000 "), /MG109 fractions\.Fraction/);
    await assertReported(fraction("1e00000000000000010001"), /MG109 fractions\.Fraction/);
    for (const quiet of ["3/4", "-1.25e3", "1e10000", "7"]) await assertQuiet(fraction(quiet));
    // nltk's BLEU Fraction subclasses it and parses strings the same way.
    const bleu = assemble(OP.PROTO, 2, global("nltk.translate.bleu_score", "Fraction"), str("1e30000000"), OP.TUPLE1, OP.REDUCE, OP.STOP);
    await assertReported(bleu, /MG109 nltk\.translate\.bleu_score\.Fraction\("1e30000000"\)/);
  });

  test("an allocating callable reached through a carrier is bounded by what the carrier hands it, in any position and by keyword", async () => {
    const shape = assemble(BININT(1 << 20), BININT(1 << 20), OP.TUPLE2);
    const fraction = global("fractions", "Fraction");
    const reconstructor = (cls: Buffer, state: Buffer): Buffer => assemble(OP.PROTO, 2, global("copyreg", "_reconstructor"), cls, cls, state, OP.TUPLE3, OP.REDUCE, OP.STOP);
    // _reconstructor(cls, base, state) runs base.__new__(cls, state): Fraction parses the string, ndarray allocates the shape.
    await assertReported(reconstructor(fraction, str("1e30000000")), /MG109 copyreg\._reconstructor calls fractions\.Fraction\("1e30000000"\) computes 10\*\*30000000/);
    await assertReported(reconstructor(global("numpy", "ndarray"), shape), /MG109 copyreg\._reconstructor calls numpy\.ndarray with shape \(1048576, 1048576\)/);
    await assertReported(reconstructor(global("numpy", "recarray"), BININT(0x7fffffff)), /MG109 copyreg\._reconstructor calls numpy\.recarray with shape \(2147483647\)/);
    // Once per carrier call, though _reconstructor hands the state to both classes it is given.
    assert.equal((await loud(reconstructor(fraction, str("1e30000000")))).length, 1);
    // pandas' _new_Index(cls, d) runs cls.__new__(cls, **d); NEWOBJ_EX and __newobj_ex__ pass keywords too.
    const numerator = assemble(OP.EMPTY_DICT, str("numerator"), str("1e30000000"), OP.SETITEM);
    await assertReported(assemble(OP.PROTO, 2, global("pandas.core.indexes.base", "_new_Index"), fraction, numerator, OP.TUPLE2, OP.REDUCE, OP.STOP), /MG109 pandas\.core\.indexes\.base\._new_Index calls fractions\.Fraction/);
    await assertReported(assemble(OP.PROTO, 4, fraction, OP.EMPTY_TUPLE, numerator, OP.NEWOBJ_EX, OP.STOP), /MG109 fractions\.Fraction\("1e30000000"\)/);
    await assertReported(assemble(OP.PROTO, 2, global("copyreg", "__newobj_ex__"), fraction, OP.EMPTY_TUPLE, numerator, OP.TUPLE3, OP.REDUCE, OP.STOP), /MG109 copyreg\.__newobj_ex__ calls fractions\.Fraction/);
    const shapeKeyword = assemble(OP.EMPTY_DICT, str("shape"), shape, OP.SETITEM);
    await assertReported(assemble(OP.PROTO, 4, global("numpy", "ndarray"), OP.EMPTY_TUPLE, shapeKeyword, OP.NEWOBJ_EX, OP.STOP), /MG109 numpy\.ndarray with shape \(1048576, 1048576\)/);
    // Small values through the same carriers are not bombs.
    await assertQuiet(reconstructor(fraction, str("3/4")));
    await assertQuiet(reconstructor(global("numpy", "ndarray"), assemble(BININT(16), BININT(16), OP.TUPLE2)));
    await assertQuiet(assemble(OP.PROTO, 4, fraction, OP.EMPTY_TUPLE, assemble(OP.EMPTY_DICT, str("numerator"), str("1e5"), OP.SETITEM), OP.NEWOBJ_EX, OP.STOP));
  });

  test("_codecs.encode with punycode or idna is quadratic in the text: a long text is a bomb, directly or through a carrier", async () => {
    const unicode = (text: string): Buffer => {
      const utf8 = Buffer.from(text, "utf8");
      return assemble(OP.BINUNICODE, u32(utf8.length), utf8);
    };
    const cjk = (n: number): string => Array.from({ length: n }, (_, i) => String.fromCharCode(0x4e00 + i)).join("");
    const encode = (text: string, codec: string): Buffer => assemble(OP.PROTO, 2, global("_codecs", "encode"), unicode(text), unicode(codec), OP.TUPLE2, OP.REDUCE, OP.STOP);
    await assertReported(encode(cjk(10_000), "punycode"), /MG109 _codecs\.encode\(10000 characters, "punycode"\) takes time that grows with the square/);
    // codecs.lookup normalises the name as this does.
    await assertReported(encode(cjk(2_000), "IDNA"), /MG109 _codecs\.encode\(2000 characters, "idna"\)/);
    // ... dropping punctuation at either end and letters outside ASCII (a red team's "punycode-", "idna\u00e9").
    await assertReported(encode(cjk(2_000), "punycode-"), /MG109 _codecs\.encode\(2000 characters, "punycode"\)/);
    await assertReported(encode(cjk(2_000), "\u00e9idna\u0130"), /MG109 _codecs\.encode\(2000 characters, "idna"\)/);
    await assertQuiet(encode(cjk(2_000), "puny-code"));
    // dill's _create_array(f, args, state, npdict) calls f(*args).
    const args = assemble(unicode(cjk(5_000)), str("punycode"), OP.TUPLE2);
    await assertReported(assemble(OP.PROTO, 2, global("dill._dill", "_create_array"), OP.MARK, global("_codecs", "encode"), args, OP.NONE, OP.NONE, OP.TUPLE, OP.REDUCE, OP.STOP), /MG109 dill\._dill\._create_array calls _codecs\.encode\(5000 characters, "punycode"\)/);
    // What CPython's pickler writes (latin1, any length), and a short punycode text, are not.
    await assertQuiet(encode("\u00e9".repeat(100_000), "latin1"));
    await assertQuiet(encode(cjk(50), "punycode"));
  });

  test("tokenizers' constructors that read the files a str names: the Python wrappers are construct-only, the PyO3 models (whose __new__ reads) are not allowlisted", async () => {
    const wrapper = global("tokenizers.implementations.bert_wordpiece", "BertWordPieceTokenizer");
    await assertReported(assemble(OP.PROTO, 2, wrapper, str("/dev/zero"), OP.TUPLE1, OP.REDUCE, OP.STOP), /BertWordPieceTokenizer/);
    const model = global("tokenizers.models", "WordPiece");
    await assertReported(assemble(OP.PROTO, 2, global("copyreg", "__newobj__"), model, str("/dev/zero"), OP.TUPLE2, OP.REDUCE, OP.STOP), /tokenizers\.models\.WordPiece/);
    await assertReported(assemble(OP.PROTO, 2, global("tokenizers.models", "BPE"), str("/etc/hostname"), str("/dev/null"), OP.TUPLE2, OP.NEWOBJ, OP.STOP), /tokenizers\.models\.BPE/);
    // As tokenizers pickles them: the wrapper made without arguments, then its __dict__; a Tokenizer around tokenizers.models.Model.
    await assertQuiet(assemble(OP.PROTO, 2, wrapper, OP.EMPTY_TUPLE, OP.NEWOBJ, OP.EMPTY_DICT, str("_parameters"), OP.EMPTY_DICT, OP.SETITEM, OP.BUILD, OP.STOP));
    const state = assemble(OP.SHORT_BINBYTES, 2, "{}");
    await assertQuiet(assemble(OP.PROTO, 4, global("tokenizers", "Tokenizer"), global("tokenizers.models", "Model"), OP.EMPTY_TUPLE, OP.NEWOBJ, state, OP.BUILD, OP.TUPLE1, OP.NEWOBJ, state, OP.BUILD, OP.STOP));
  });

  test("nltk's PunktTokenizer(lang) reads parameter files from a folder its argument names: construct-only", async () => {
    const punkt = global("nltk.tokenize.punkt", "PunktTokenizer");
    await assertReported(assemble(OP.PROTO, 2, punkt, str("../../../../tmp/planted"), OP.TUPLE1, OP.REDUCE, OP.STOP), /nltk\.tokenize\.punkt\.PunktTokenizer/);
    // As pickle writes one: copyreg.__newobj__(cls), then its __dict__.
    await assertQuiet(assemble(OP.PROTO, 2, punkt, OP.EMPTY_TUPLE, OP.NEWOBJ, OP.EMPTY_DICT, str("_lang"), str("english"), OP.SETITEM, OP.BUILD, OP.STOP));
  });

  test("pandas' expression engine is code execution: Expr('os.system(...)') calls what its names resolve to in the loader's frame", async () => {
    const expr = assemble(OP.PROTO, 2, global("pandas.core.computation.expr", "Expr"), str("os.system('id')"), OP.TUPLE1, OP.REDUCE, OP.STOP);
    const found = await loud(expr);
    assert.ok(found.some((l) => /^MG100 .*pandas\.core\.computation\.expr\.Expr/.test(l)), JSON.stringify(found));
    await assertReported(assemble(OP.PROTO, 2, global("pandas.core.computation.pytables", "PyTablesExpr"), str("x > 1"), OP.TUPLE1, OP.REDUCE, OP.STOP), /MG100 .*pandas\.core\.computation/);
  });

  test("callables that read, download, hang or crash when called with constants (a probe of every entry) are construct-only or not allowlisted", async () => {
    const called: [string, string, Buffer][] = [
      ["transformers.integrations.mistral", "MistralConverter", str("/dev/zero")], // transformers 5 re-exports the file reader
      ["transformers.models.edgetam.configuration_edgetam", "EdgeTamConfig", Buffer.alloc(0)], // downloads a backbone config
      ["transformers.tokenization_utils_sentencepiece", "SentencePieceExtractor", str("/dev/zero")], // native read
      ["torch.ao.quantization.fx.quantize_handler", "CatQuantizeHandler", assemble(str("x"), OP.NONE)], // endless loop
      ["torch.ao.quantization.fx.quantize_handler", "QuantizeHandler", assemble(str("x"), OP.NONE)],
      ["astropy.time.core", "TimeDelta", str("1e30000000")], // round(Decimal(s))
      ["torch._C", "_WeakTensorRef", str("x")], // SIGSEGV
      ["scipy.spatial._qhull", "_Qhull", Buffer.alloc(0)], // SIGSEGV, with any arguments
      ["igraph.drawing.graph", "GephiGraphStreamingDrawer", assemble(OP.NONE, str("http://127.0.0.1:9/beacon"))], // posts from __del__
      ["accelerate.utils.dataclasses", "DeepSpeedPlugin", str("/dev/zero")], // json.load(open(path))
      ["timm.data.readers.reader_image_folder", "ReaderImageFolder", assemble(str("/"), str("/etc/passwd"))], // walks and reads
      ["timm.data.readers.reader_image_in_tar", "ReaderImageInTar", str("/")],
      ["open_clip.tokenizer", "SimpleTokenizer", str("/etc/passwd")], // gzip.open of the path
      ["igraph.drawing.cairo.plot", "CairoPlot", str("/home/u/report.svg")], // cairo surfaces create the file
      ["torch", "_TorchCompileWrapper", assemble(str("inductor"), OP.EMPTY_DICT, OP.EMPTY_DICT)], // lookup_backend loads entry points
      // A sweep of function-local imports, which the allowlist's screen resolved only for modules already imported.
      ["torch", "_TorchCompileInductorWrapper", Buffer.alloc(0)], // eval()s the inductor cache's bisect config lines
      ["timm.utils.model_ema", "ModelEma", assemble(OP.NONE, OP.NONE, OP.NONE, str("/tmp/x.pth"))], // torch.load(resume)
      ["transformers.models.rag.retrieval_rag", "CanonicalHFIndex", assemble(OP.BININT1, 8, str("wiki_dpr"))], // load_dataset
      ["spacy.scorer", "Scorer", Buffer.alloc(0)], // imports spacy.lang.<name>
      ["keras.src.dtype_policies.dtype_policy_map", "DTypePolicyMap", assemble(OP.EMPTY_DICT)], // deserialize_keras_object
      // Red team round 16: an SQLAlchemy engine for the URL, and its tables created (an SQLite file at any path).
      ["optuna.storages._rdb.storage", "RDBStorage", str("sqlite:////tmp/x.db")],
      ["optuna.study.study", "Study", assemble(str("x"), str("sqlite:////tmp/x.db"))], // get_storage(url) makes an RDBStorage
    ];
    for (const [module, name, args] of called) {
      const callee = new RegExp(`${module}.${name}`.replaceAll(".", "\\."));
      await assertReported(assemble(OP.PROTO, 2, global(module, name), OP.MARK, args, OP.TUPLE, OP.REDUCE, OP.STOP), callee);
    }
    // The segfaulting classes, and igraph's shell (its __call__ runs stdin as Python), are not allowlisted at all: construction is reported too.
    await assertReported(assemble(OP.PROTO, 2, global("igraph.app.shell", "ClassicPythonShell"), OP.EMPTY_TUPLE, OP.NEWOBJ, OP.STOP), /igraph\.app\.shell\.ClassicPythonShell/);
    await assertReported(assemble(OP.PROTO, 2, global("scipy.spatial._qhull", "_Qhull"), OP.EMPTY_TUPLE, OP.NEWOBJ, OP.STOP), /scipy\.spatial\._qhull\._Qhull/);
    // RDBStorage's __setstate__ makes the engine and the tables too: made by copyreg's reconstructor and BUILD, it is reported.
    const rdbState = assemble(OP.EMPTY_DICT, str("url"), str("sqlite:////tmp/x.db"), OP.SETITEM);
    const rdb = global("optuna.storages._rdb.storage", "RDBStorage");
    await assertReported(assemble(OP.PROTO, 2, global("copyreg", "_reconstructor"), rdb, global("builtins", "object"), OP.NONE, OP.TUPLE3, OP.REDUCE, rdbState, OP.BUILD, OP.STOP), /optuna\.storages\._rdb\.storage\.RDBStorage/);
    // A Study pickles the same way, and its __setstate__ only updates its __dict__: quiet.
    const study = global("optuna.study.study", "Study");
    await assertQuiet(assemble(OP.PROTO, 2, global("copyreg", "_reconstructor"), study, global("builtins", "object"), OP.NONE, OP.TUPLE3, OP.REDUCE, OP.EMPTY_DICT, str("study_name"), str("x"), OP.SETITEM, OP.BUILD, OP.STOP));
    // astropy pickles Time by NEWOBJ and BUILD: construct-only keeps that quiet.
    await assertQuiet(assemble(OP.PROTO, 2, global("astropy.time.core", "Time"), OP.EMPTY_TUPLE, OP.NEWOBJ, OP.EMPTY_DICT, OP.BUILD, OP.STOP));
  });

  test("torch module classes are constructed by pickles, never called: a call is reported, a model holding the class is not", async () => {
    // timm's ConVit() allocated 23 GB with no argument; LlamaRMSNorm(2**32) 16 GB.
    await assertReported(assemble(OP.PROTO, 2, global("timm.models.convit", "ConVit"), OP.EMPTY_TUPLE, OP.REDUCE, OP.STOP), /MG101 calls timm\.models\.convit\.ConVit, a torch module class/);
    await assertReported(assemble(OP.PROTO, 2, global("transformers.models.llama.modeling_llama", "LlamaRMSNorm"), OP.LONG1, 5, [0, 0, 0, 0, 1], OP.TUPLE1, OP.REDUCE, OP.STOP), /MG101 calls transformers\.models\.llama\.modeling_llama\.LlamaRMSNorm, a torch module class/);
    // Through a carrier: _reconstructor(cls, base, state) calls base.__init__(obj, state).
    const convit = global("timm.models.convit", "ConVit");
    await assertReported(assemble(OP.PROTO, 2, global("copyreg", "_reconstructor"), convit, convit, OP.NONE, OP.TUPLE3, OP.REDUCE, OP.STOP), /MG101 calls timm\.models\.convit\.ConVit/);
    // As torch.save writes a model: the module made by NEWOBJ, its __dict__ by BUILD, holding a norm layer class (ResNet's _norm_layer).
    const batchNorm = global("torch.nn.modules.batchnorm", "BatchNorm2d");
    const state = assemble(OP.EMPTY_DICT, str("training"), OP.NEWFALSE, OP.SETITEM, str("_norm_layer"), batchNorm, OP.SETITEM);
    await assertQuiet(assemble(OP.PROTO, 2, global("torchvision.models.resnet", "ResNet"), OP.EMPTY_TUPLE, OP.NEWOBJ, state, OP.BUILD, OP.STOP));
  });

  test("classes that allocate by the integers they are given (sizes) are bounded like torch layers; as igraph pickles a graph, it passes", async () => {
    const big = assemble(OP.LONG1, 5, [0, 0xca, 0x9a, 0x3b, 0]); // 10**9
    const called = (module: string, name: string, ...args: Buffer[]): Buffer => assemble(OP.PROTO, 2, global(module, name), OP.MARK, ...args, OP.TUPLE, OP.REDUCE, OP.STOP);
    await assertReported(called("scipy.cluster._hierarchy", "LinkageUnionFind", big), /MG109 scipy\.cluster\._hierarchy\.LinkageUnionFind is called with sizes of 1000000000 elements/);
    // Costlier than the product of their integers (red team rounds 32 and 33: PoissonDisk(5) took 3.4 GB, Halton(10_000)
    // 12 GB, WilcoxonDistribution(6_000) minutes of CPU, Identity(20_000_000) 7 GB): never called at load.
    for (const [module, name, n] of [["scipy.stats._qmc", "PoissonDisk", 5], ["scipy.stats._qmc", "Halton", 10_000], ["scipy.stats._wilcoxon", "WilcoxonDistribution", 6_000], ["astropy.modeling.mappings", "Identity", 20_000_000]] as const) {
      await assertReported(called(module, name, BININT(n)), new RegExp(`MG101 calls ${module.replace(/\./g, "\\.")}\\.${name}, which is allowlisted to be stored or constructed, not called`));
    }
    await assertReported(called("astropy.convolution.kernels", "Gaussian2DKernel", BININT(10_000)), /MG101 calls astropy\.convolution\.kernels\.Gaussian2DKernel/);
    await assertReported(called("igraph", "Graph", big), /MG109 igraph\.Graph is called with sizes/);
    await assertReported(called("sklearn.neighbors._kd_tree", "NeighborsHeap64", BININT(40_000), BININT(40_000)), /MG109 sklearn\.neighbors\._kd_tree\.NeighborsHeap64 is called with sizes of 1600000000/);
    // A compiled class allocates in __cinit__, which NEWOBJ runs: preshed's PreshMap(initial_size).
    await assertReported(assemble(OP.PROTO, 2, global("preshed.maps", "PreshMap"), big, OP.TUPLE1, OP.NEWOBJ, OP.STOP), /MG109 preshed\.maps\.PreshMap is called with sizes/);
    // Through a carrier: _reconstructor(cls, base, state) runs base.__init__(obj, state).
    const unionFind = global("sklearn.cluster._hierarchical_fast", "UnionFind");
    await assertReported(assemble(OP.PROTO, 2, global("copyreg", "_reconstructor"), unionFind, unionFind, big, OP.TUPLE3, OP.REDUCE, OP.STOP), /MG109 copyreg\._reconstructor calls sklearn\.cluster\._hierarchical_fast\.UnionFind with sizes of 1000000000 elements/);
    // A carrier's keywords are sizes with the rest (red team round 33: cftime's _create_datetime(cls, args, kwargs)).
    const keywords = assemble(OP.EMPTY_DICT, str("n_pts"), BININT(30_000), OP.SETITEM, str("n_nbrs"), BININT(30_000), OP.SETITEM);
    const heap = global("sklearn.neighbors._kd_tree", "NeighborsHeap64");
    await assertReported(assemble(OP.PROTO, 2, global("cftime._cftime", "_create_datetime"), heap, OP.EMPTY_TUPLE, keywords, OP.TUPLE3, OP.REDUCE, OP.STOP), /MG109 .*NeighborsHeap64 with sizes of 900000000 elements/);
    // Pairs past the kept sample may set the sizes again, the last value winning (red team round 34).
    const padded = assemble(OP.EMPTY_DICT, OP.MARK, ...Array.from({ length: 70 }, () => assemble(str("n_pts"), BININT(1))), str("n_pts"), BININT(30_000), str("n_nbrs"), BININT(30_000), OP.SETITEMS);
    await assertReported(assemble(OP.PROTO, 2, global("cftime._cftime", "_create_datetime"), heap, OP.EMPTY_TUPLE, padded, OP.TUPLE3, OP.REDUCE, OP.STOP), /MG109 .*NeighborsHeap64 with keywords past the pairs the scanner keeps/);
    // Many calls each under the bound add up.
    const degree = BININT(30_000_000);
    await assertReported(assemble(OP.PROTO, 2, OP.MARK, ...Array.from({ length: 3 }, () => assemble(global("scipy.cluster._hierarchy", "LinkageUnionFind"), degree, OP.TUPLE1, OP.REDUCE)), OP.LIST, OP.STOP), /MG109 the classes called with sizes at load time allocate 90000000 elements in total/);
    // What igraph pickles: Graph(n, edges, directed, graph, vertex and edge attributes).
    const edges = assemble(OP.EMPTY_LIST, OP.MARK, BININT(0), BININT(1), OP.TUPLE2, BININT(1), BININT(2), OP.TUPLE2, OP.APPENDS);
    await assertQuiet(called("igraph", "Graph", BININT(3), edges, assemble(OP.NEWFALSE, OP.EMPTY_DICT, OP.EMPTY_DICT, OP.EMPTY_DICT)));
  });

  test("sparse matrices called with a shape, pandas frames with a RangeIndex, and object arrays are bounded by what they fill (red team round 24)", async () => {
    const called = (module: string, name: string, ...args: (Buffer | OP)[]): Buffer => assemble(OP.PROTO, 2, global(module, name), OP.MARK, ...args, OP.TUPLE, OP.REDUCE, OP.STOP);
    const long = (n: number): Buffer => { const b = Buffer.alloc(5); b.writeUInt32LE(n); return assemble(OP.LONG1, 5, b); };
    const rangeIndex = (stop: number): Buffer => assemble(global("pandas", "RangeIndex"), BININT(0), long(stop), OP.TUPLE2, OP.REDUCE);
    // lil_matrix((2**27, 1)): 2**27 Python lists for its rows, and as many for their data.
    await assertReported(called("scipy.sparse._lil", "lil_matrix", assemble(long(2 ** 27), BININT(1), OP.TUPLE2)), /MG109 scipy\.sparse\._lil\.lil_matrix is called with sizes of 134217728 elements \(a row of two Python lists each\)/);
    // Each row is two lists, some 140 bytes: 4,000,000 rows take about 560 MB (red team round 31 took 8 GB with 60,000,000).
    await assertReported(called("scipy.sparse._lil", "lil_matrix", assemble(long(4_000_000), BININT(1), OP.TUPLE2)), /MG109 scipy\.sparse\._lil\.lil_matrix is called with sizes of 4000000 elements/);
    await assertReported(called("scipy.sparse._arrays", "lil_array", assemble(long(4_000_000), BININT(1), OP.TUPLE2)), /MG109 scipy\.sparse\._arrays\.lil_array is called with sizes of 4000000 elements/);
    await assertQuiet(called("scipy.sparse._lil", "lil_matrix", assemble(long(1_000), BININT(1_000), OP.TUPLE2)));
    // Series(None, RangeIndex(0, 2**27)) fills 2**27 values; DataFrame(None, index, columns) their product.
    await assertReported(called("pandas", "Series", OP.NONE, rangeIndex(2 ** 27)), /MG109 pandas\.Series is called with sizes of 134217728 elements/);
    await assertReported(called("pandas", "DataFrame", OP.NONE, rangeIndex(2 ** 23), rangeIndex(16)), /MG109 pandas\.DataFrame is called with sizes of 134217728 elements/);
    // numpy.ndarray((2**22,), [('a', 'O', (64,))]): 2**28 slots each set to None.
    const fields = assemble(OP.EMPTY_LIST, str("a"), str("O"), BININT(64), OP.TUPLE1, OP.TUPLE3, OP.APPEND);
    const structured = assemble(global("numpy", "dtype"), fields, OP.TUPLE1, OP.REDUCE);
    await assertReported(called("numpy", "ndarray", assemble(long(2 ** 22), OP.TUPLE1), structured), /MG109 .*numpy\.ndarray with shape \(4194304\) and 64 objects per element fills 2147483648 bytes with None/);
    await assertReported(called("numpy", "ndarray", assemble(long(2 ** 26), OP.TUPLE1), str("O")), /fills 536870912 bytes with None/);
    // The same shapes of a dtype NumPy leaves untouched, and small frames, pass.
    await assertQuiet(called("numpy", "ndarray", assemble(long(2 ** 26), OP.TUPLE1), str("f8")));
    await assertQuiet(called("pandas", "Series", OP.NONE, rangeIndex(1000)));
  });

  test("tiktoken's Encoding restored from a name downloads the encoding at load: reported; restored from the dict it pickles otherwise, not", async () => {
    const encoding = assemble(global("copyreg", "__newobj__"), global("tiktoken.core", "Encoding"), OP.TUPLE1, OP.REDUCE);
    await assertReported(assemble(OP.PROTO, 2, encoding, str("cl100k_base"), OP.BUILD, OP.STOP), /MG100 BUILD restores a tiktoken Encoding from "cl100k_base": .*downloads/);
    const spelt = assemble(OP.EMPTY_DICT, OP.MARK, str("name"), str("mine"), str("pat_str"), str("\\w+"), str("mergeable_ranks"), OP.EMPTY_DICT, str("special_tokens"), OP.EMPTY_DICT, OP.SETITEMS);
    await assertQuiet(assemble(OP.PROTO, 2, encoding, spelt, OP.BUILD, OP.STOP));
  });

  test("pyproj's CRS given a definition that makes PROJ open a file of the pickle's choosing is reported; as geopandas pickles one, it is not", async () => {
    const crs = global("pyproj.crs.crs", "CRS");
    const called = (definition: string): Buffer => assemble(OP.PROTO, 2, crs, str(definition), OP.TUPLE1, OP.REDUCE, OP.STOP);
    await assertReported(called("+init=/etc/passwd:1"), /MG100 pyproj\.crs\.crs\.CRS is given a PROJ definition that names the file "\/etc\/passwd:1"/);
    await assertReported(called("+proj=hgridshift +grids=/tmp/fifo"), /MG100 .*"\/tmp\/fifo"/);
    await assertReported(called("+proj=longlat +nadgrids=@null,@../../etc/grid"), /MG100 .*"\.\.\/\.\.\/etc\/grid"/);
    await assertReported(called('VERTCRS["h",PARAMETERFILE["Geoid (height correction) model file","/dev/zero"]]'), /MG100 .*"\/dev\/zero"/);
    await assertReported(called("+proj=vgridshift +grids=https://example.org/g.tif"), /MG100 .*"https:\/\/example\.org\/g\.tif"/);
    // Through a carrier: _reconstructor(cls, base, state) runs base.__init__(obj, state).
    await assertReported(assemble(OP.PROTO, 2, global("copyreg", "_reconstructor"), crs, crs, str("+init=/etc/passwd:1"), OP.TUPLE3, OP.REDUCE, OP.STOP), /MG100 pyproj\.crs\.crs\.CRS/);
    // What pyproj pickles: CRS(srs) with an authority code, a PROJ string (grids by name, in PROJ's data folders) or WKT.
    for (const srs of [
      "EPSG:4326",
      "+proj=longlat +datum=WGS84 +no_defs",
      "+init=epsg:4326",
      "+proj=longlat +nadgrids=@null,@conus +geoidgrids=egm96_15.gtx",
      'PROJCRS["WGS 84 / UTM zone 33N",ID["EPSG",32633,URI["http://www.opengis.net/def/crs/EPSG/0/32633"]]]',
      'VERTCRS["h",PARAMETERFILE["Geoid (height correction) model file","egm96_15.gtx"]]',
    ]) await assertQuiet(called(srs));
  });

  test("a builtin type's method reached by getattr and handed a huge width by a carrier is a bomb (bytes.zfill)", async () => {
    const zfill = assemble(global("builtins", "getattr"), global("builtins", "bytes"), str("zfill"), OP.TUPLE2, OP.REDUCE);
    const bytes = assemble(OP.PROTO, 2, global("functools", "partial"), zfill, OP.SHORT_BINBYTES, 1, "x", BININT(0x7fffffff), OP.TUPLE3, OP.REDUCE, OP.STOP);
    await assertReported(bytes, /MG109 functools\.partial calls builtins\.getattr/);
  });

  test("a library class called (not constructed) with sizes whose product is huge is a bomb; constructed, it is not", async () => {
    const linear = global("torch.nn.modules.linear", "Linear");
    await assertReported(assemble(OP.PROTO, 2, linear, BININT(100_000), BININT(100_000), OP.TUPLE2, OP.REDUCE, OP.STOP), /MG109 torch\.nn\.modules\.linear\.Linear is called with sizes/);
    await assertQuiet(assemble(OP.PROTO, 2, linear, OP.EMPTY_TUPLE, OP.NEWOBJ, OP.STOP));
    // One size alone, or a shape, counts as well (a sixth red team round: LayerNorm(2**33)).
    const norm = global("torch.nn.modules.normalization", "LayerNorm");
    await assertReported(assemble(OP.PROTO, 2, norm, OP.BINUNICODE, [5, 0, 0, 0], "dummy", OP.POP, OP.LONG1, 5, [0, 0, 0, 0, 2], OP.TUPLE1, OP.REDUCE, OP.STOP), /MG109 torch\.nn\.modules\.normalization\.LayerNorm is called with sizes of 8589934592 elements/);
    await assertReported(assemble(OP.PROTO, 2, norm, BININT(1 << 16), BININT(1 << 16), OP.TUPLE2, OP.TUPLE1, OP.REDUCE, OP.STOP), /MG109 .*LayerNorm is called with sizes of 4294967296/);
    // A small layer called is no bomb, but pickles construct modules: the call itself is reported.
    assert.deepEqual(await loud(assemble(OP.PROTO, 2, norm, BININT(768), OP.TUPLE1, OP.REDUCE, OP.STOP)), [
      "MG101 calls torch.nn.modules.normalization.LayerNorm, a torch module class: pickles construct modules, and a call allocates its parameters at load",
    ]);
  });

  test("torch layers called at load are bounded in total: sixteen layers each under the bound are a bomb", async () => {
    const norm = assemble(global("torch.nn.modules.normalization", "LayerNorm"), OP.BINPUT, 0, OP.POP);
    const calls: Buffer[] = [];
    for (let i = 0; i < 16; i++) calls.push(assemble(OP.BINGET, 0, BININT(5_000_000), OP.TUPLE1, OP.REDUCE, OP.POP));
    await assertReported(assemble(OP.PROTO, 2, norm, ...calls, OP.NONE, OP.STOP), /MG109 the classes called with sizes at load time allocate 70000000 elements in total/);
    const two = await loud(assemble(OP.PROTO, 2, norm, ...calls.slice(0, 2), OP.NONE, OP.STOP));
    assert.ok(!two.some((l) => l.startsWith("MG109")), JSON.stringify(two));
  });

  test("list(range(2**31 - 1)) is a resource bomb; a range left unconsumed is not", async () => {
    const range = assemble(global("builtins", "range"), BININT(0x7fffffff), OP.TUPLE1, OP.REDUCE);
    await assertReported(assemble(OP.PROTO, 2, global("builtins", "list"), range, OP.TUPLE1, OP.REDUCE, OP.STOP), /MG109/);
    await assertQuiet(assemble(OP.PROTO, 2, range, OP.STOP));
    // Protocols 0 to 2 write range as __builtin__.xrange, which Python 3 loads as builtins.range.
    const xrange = assemble(global("__builtin__", "xrange"), BININT(0x7fffffff), OP.TUPLE1, OP.REDUCE);
    await assertReported(assemble(OP.PROTO, 2, global("builtins", "list"), xrange, OP.TUPLE1, OP.REDUCE, OP.STOP), /MG109 builtins\.list is given a range of 2147483647 items/);
  });
});

describe("names allowlisted to be stored, not called (notCalled)", () => {
  test("a NumPy ufunc stored as a preprocessing function passes; called at load it is reported", async () => {
    await assertQuiet(assemble(OP.PROTO, 2, OP.EMPTY_DICT, str("func"), global("numpy", "log1p"), OP.SETITEM, OP.STOP));
    await assertReported(assemble(OP.PROTO, 2, global("numpy", "add"), OP.BININT1, 1, OP.BININT1, 2, OP.TUPLE2, OP.REDUCE, OP.STOP), /MG101 calls numpy\.add, which is allowlisted to be stored or constructed, not called at load/);
  });

  test("TrainingArguments is constructed by NEWOBJ in training_args.bin; calling it (its __post_init__ reads files) is reported", async () => {
    const cls = global("transformers.training_args", "TrainingArguments");
    await assertQuiet(assemble(OP.PROTO, 2, global("copyreg", "__newobj__"), cls, OP.TUPLE1, OP.REDUCE, OP.STOP));
    await assertReported(assemble(OP.PROTO, 2, cls, str("/tmp/out"), OP.TUPLE1, OP.REDUCE, OP.STOP), /MG101 calls transformers\.training_args\.TrainingArguments/);
  });
});

describe("exact names (P20)", () => {
  test("a stdlib class re-exported under a library module is unknown, so high", async () => {
    await assertReported(assemble(OP.PROTO, 4, stackGlobal("sklearn.utils", "GzipFile"), OP.EMPTY_TUPLE, OP.NEWOBJ, OP.STOP), /sklearn\.utils\.GzipFile/);
  });
});
