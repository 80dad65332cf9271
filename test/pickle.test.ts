/** The symbolic pickle machine and its judge, on attacks assembled opcode by opcode. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { scanPickle, type PickleLayout } from "../src/formats/pickle.js";
import { LIMITS } from "../src/limits.js";
import { RULES } from "../src/rules/catalogue.js";
import { PickleAnalyst } from "../src/pickle/analyst.js";
import { asciiDigits, intLine, parseInteger, rawUnicodeEscape, trailingExponent, unescapePy } from "../src/pickle/literals.js";
import { Machine, nameLike } from "../src/pickle/machine.js";
import { StreamReader } from "../src/pickle/reader.js";
import { FORGOTTEN, emptyDict, holdsForgotten, noteForgotten, reachesForgotten, tuple } from "../src/pickle/values.js";
import { BufferSource } from "../src/sources/byteSource.js";
import { RecordingContext } from "./support/context.js";
import { SparseSource } from "./support/sparseSource.js";
import { OP, assemble, call1, global, stackGlobal, str, u32, u64 } from "./support/pickle.js";

async function scan(bytes: Buffer, layout: PickleLayout = "plain"): Promise<RecordingContext> {
  const ctx = new RecordingContext();
  await scanPickle(new BufferSource("t.pkl", bytes), ctx, { layout });
  return ctx;
}

function find(ctx: RecordingContext, rule: string): { message: string; severity?: string; evidence?: string; offset?: number }[] {
  return ctx.reports.filter((r) => r.rule === rule).map((r) => ({ message: r.message, ...r.extra }));
}

const SYSTEM = call1(global("posix", "system"), "id");

describe("imports and calls", () => {
  test("P1: GLOBAL posix.system called via REDUCE is critical, with its argument as evidence", async () => {
    const ctx = await scan(assemble(OP.PROTO, 2, SYSTEM, OP.STOP));
    const [f] = find(ctx, "MG100");
    assert.ok(f, JSON.stringify(ctx.reports));
    assert.equal(f.severity, "critical");
    assert.match(f.message, /calls posix\.system/);
    assert.match(f.evidence ?? "", /posix\.system\("id",\) via REDUCE/);
  });

  test("P1: Python 2's __builtin__.eval is judged as builtins.eval", async () => {
    const ctx = await scan(assemble(call1(global("__builtin__", "eval"), "1+1"), OP.STOP));
    assert.match(find(ctx, "MG100")[0]?.message ?? "", /builtins\.eval/);
  });

  test("P2: a callable on no list is still reported when called (allowlist first)", async () => {
    const ctx = await scan(assemble(OP.PROTO, 4, call1(stackGlobal("some_gadget_lib", "run_anything"), "x"), OP.STOP));
    assert.match(find(ctx, "MG101")[0]?.message ?? "", /some_gadget_lib\.run_anything/);
  });

  test("P2: an unknown class only constructed with NEWOBJ is still reported at high (it can end up invoked)", async () => {
    const ctx = await scan(assemble(OP.PROTO, 4, stackGlobal("mylib", "Thing"), OP.EMPTY_TUPLE, OP.NEWOBJ, OP.STOP));
    assert.deepEqual(ctx.rules(), ["MG102"]);
    assert.equal(RULES.MG102.severity, "high");
  });

  test("P3: getattr(__import__('os'), 'system')('id') reports the indirection and the call on its result", async () => {
    const imp = call1(global("builtins", "__import__"), "os");
    const getattr = assemble(global("builtins", "getattr"), imp, str("system"), OP.TUPLE2, OP.REDUCE);
    const ctx = await scan(assemble(getattr, str("id"), OP.TUPLE1, OP.REDUCE, OP.STOP));
    assert.ok(find(ctx, "MG100").some((f) => /builtins\.getattr/.test(f.message)));
    assert.ok(find(ctx, "MG100").some((f) => /builtins\.__import__/.test(f.message)));
    assert.match(find(ctx, "MG107")[0]?.message ?? "", /calls a value produced at load time/);
  });

  test("P4: STACK_GLOBAL whose module string comes from the memo is resolved", async () => {
    const bytes = assemble(OP.PROTO, 4, str("os"), OP.BINPUT, 7, OP.POP, OP.BINGET, 7, str("system"), OP.STACK_GLOBAL, str("id"), OP.TUPLE1, OP.REDUCE, OP.STOP);
    assert.match(find(await scan(bytes), "MG100")[0]?.message ?? "", /calls os\.system/);
  });

  test("P4: STACK_GLOBAL whose module is built by a call is a non-constant import", async () => {
    const built = assemble(global("builtins", "str"), str("os"), OP.TUPLE1, OP.REDUCE);
    const ctx = await scan(assemble(OP.PROTO, 4, built, str("system"), OP.STACK_GLOBAL, OP.STOP));
    assert.equal(find(ctx, "MG103")[0]?.message.startsWith("imports a name that is not a constant string"), true);
  });

  test("P5: INST and OBJ call the class they name", async () => {
    const inst = await scan(assemble(OP.MARK, "S'id'\n", OP.INST, "posix\nsystem\n", OP.STOP));
    assert.match(find(inst, "MG100")[0]?.evidence ?? "", /via INST/);
    const obj = await scan(assemble(OP.MARK, global("posix", "system"), "S'id'\n", OP.OBJ, OP.STOP));
    assert.match(find(obj, "MG100")[0]?.evidence ?? "", /via OBJ/);
  });

  test("P5: EXT1 imports through the extension registry", async () => {
    const ctx = await scan(assemble(OP.PROTO, 2, OP.EXT1, 42, OP.STOP));
    assert.match(find(ctx, "MG105")[0]?.message ?? "", /code 42/);
  });

  test("P5: BUILD applied to an imported module is critical", async () => {
    const ctx = await scan(assemble(OP.PROTO, 2, global("os", "environ"), OP.EMPTY_DICT, OP.BUILD, OP.STOP));
    assert.equal(find(ctx, "MG106").length, 1);
  });

  test("P16: BUILD state with dunder keys is reported", async () => {
    const state = assemble(OP.EMPTY_DICT, str("__reduce__"), OP.NONE, OP.SETITEM);
    const ctx = await scan(assemble(OP.PROTO, 4, stackGlobal("collections", "OrderedDict"), OP.EMPTY_TUPLE, OP.REDUCE, state, OP.BUILD, OP.STOP));
    assert.match(find(ctx, "MG106")[0]?.message ?? "", /__reduce__/);
  });

  test("P16: a tensor rebuilder's state argument that sets dunder attributes is reported like BUILD", async () => {
    const state = assemble(OP.EMPTY_DICT, str("__class__"), global("posix", "system"), OP.SETITEM);
    const args = assemble(OP.MARK, OP.NONE, OP.NEWFALSE, OP.EMPTY_DICT, state, OP.TUPLE);
    const ctx = await scan(assemble(OP.PROTO, 2, global("torch._utils", "_rebuild_parameter_with_state"), args, OP.REDUCE, OP.STOP));
    assert.match(find(ctx, "MG106")[0]?.message ?? "", /__class__/);
  });

  test("P16: a memo slot re-used to swap a safe object for a dangerous one is followed", async () => {
    const bytes = assemble(
      OP.PROTO, 2,
      global("collections", "OrderedDict"), OP.BINPUT, 1, OP.POP,
      global("posix", "system"), OP.BINPUT, 1, OP.POP,
      OP.BINGET, 1, str("id"), OP.TUPLE1, OP.REDUCE, OP.STOP,
    );
    assert.match(find(await scan(bytes), "MG100")[0]?.message ?? "", /calls posix\.system/);
  });

  test("P16: dotted and dunder names that walk attributes are critical unless the exact path is allowed", async () => {
    const walk = await scan(assemble(OP.PROTO, 4, stackGlobal("torch", "hub.load"), OP.STOP));
    assert.match(find(walk, "MG104")[0]?.message ?? "", /torch\.hub\.load by walking attributes of torch/);
    const dunder = await scan(assemble(OP.PROTO, 4, stackGlobal("numpy", "__builtins__"), OP.STOP));
    assert.equal(find(dunder, "MG104").length, 1);
    const exact = await scan(assemble(OP.PROTO, 4, stackGlobal("torch", "_utils._rebuild_tensor_v2"), OP.STOP));
    assert.deepEqual(exact.rules(), []);
  });

  test("copyreg._reconstructor judges the class it constructs", async () => {
    const bytes = assemble(global("copyreg", "_reconstructor"), OP.MARK, global("posix", "system"), global("builtins", "object"), OP.NONE, OP.TUPLE, OP.REDUCE, OP.STOP);
    assert.match(find(await scan(bytes), "MG100")[0]?.message ?? "", /constructs posix\.system/);
  });

  test("copyreg._reconstructor judges the base whose __init__ it runs as called", async () => {
    const bytes = assemble(global("copyreg", "_reconstructor"), OP.MARK, global("collections", "OrderedDict"), global("posix", "system"), OP.NONE, OP.TUPLE, OP.REDUCE, OP.STOP);
    assert.match(find(await scan(bytes), "MG100")[0]?.message ?? "", /calls posix\.system/);
  });

  test("P15: TorchScript rebuilders pass only in the TorchScript layout", async () => {
    const bytes = assemble(OP.PROTO, 2, global("torch.jit._pickle", "build_intlist"), OP.EMPTY_LIST, OP.TUPLE1, OP.REDUCE, OP.STOP);
    assert.deepEqual((await scan(bytes, "torchscript")).rules(), []);
    assert.deepEqual((await scan(bytes, "plain")).rules(), ["MG101"]);
  });

  test("benign containers and value types in protocol 2 produce nothing", async () => {
    const bytes = assemble(
      OP.PROTO, 2, global("collections", "OrderedDict"), OP.EMPTY_TUPLE, OP.REDUCE,
      OP.MARK, str("a"), OP.BININT1, 1, str("b"), OP.BINFLOAT, [0, 0, 0, 0, 0, 0, 0, 0], OP.SETITEMS, OP.STOP,
    );
    assert.deepEqual((await scan(bytes)).rules(), []);
  });
});

describe("nested deserialization (P6)", () => {
  test("bytes handed to pickle.loads are scanned as a member", async () => {
    const inner = assemble(OP.PROTO, 2, SYSTEM, OP.STOP);
    const bytes = assemble(OP.PROTO, 3, global("pickle", "loads"), OP.SHORT_BINBYTES, inner.length, inner, OP.TUPLE1, OP.REDUCE, OP.STOP);
    const ctx = await scan(bytes);
    assert.match(find(ctx, "MG100")[0]?.message ?? "", /pickle\.loads/);
    assert.deepEqual(ctx.members, [{ name: "<bytes passed to pickle.loads @18>", size: inner.length }]);
  });

  test("protocol-2 bytes (_codecs.encode(text, 'latin1')) handed to pickle.loads are scanned too", async () => {
    const inner = assemble(OP.PROTO, 2, SYSTEM, OP.STOP).toString("latin1");
    const payload = assemble(global("_codecs", "encode"), OP.BINUNICODE, u32(Buffer.byteLength(inner, "utf8")), Buffer.from(inner, "utf8"), str("latin1"), OP.TUPLE2, OP.REDUCE);
    const ctx = await scan(assemble(OP.PROTO, 2, global("pickle", "loads"), payload, OP.TUPLE1, OP.REDUCE, OP.STOP));
    assert.equal(ctx.members.length, 1);
    assert.equal(ctx.members[0]?.size, inner.length);
  });
});

describe("streams", () => {
  test("P8: a payload in a second pickle after STOP is found", async () => {
    const ctx = await scan(assemble(OP.PROTO, 2, OP.NONE, OP.STOP, OP.PROTO, 2, SYSTEM, OP.STOP));
    assert.equal(find(ctx, "MG100").length, 1);
    assert.equal(find(ctx, "MG114").length, 1);
  });

  test("P9: malicious opcodes then garbage: the payload and the break are both reported (nullifAI)", async () => {
    const ctx = await scan(assemble(OP.PROTO, 2, SYSTEM, 0xff, 0xfe, 0x00));
    assert.equal(find(ctx, "MG100").length, 1);
    assert.match(find(ctx, "MG112")[0]?.message ?? "", /invalid opcode/);
  });

  test("a truncated stream is reported as broken at the offset where it ends", async () => {
    const bytes = assemble(OP.PROTO, 2, OP.MARK, str("abc"));
    const [f] = find(await scan(bytes), "MG110");
    assert.match(f?.message ?? "", /without STOP/);
    assert.equal(f?.offset, bytes.length);
  });

  test("bytes after STOP that are not a pickle are only trailing data", async () => {
    const ctx = await scan(assemble(OP.PROTO, 2, OP.NONE, OP.STOP, "\n\0\0junk"));
    assert.deepEqual(ctx.rules(), ["MG113"]);
  });

  test("P18: an opcode that crosses the end of its FRAME is an ambiguity", async () => {
    const body = assemble(str("posix"), str("system"), OP.STACK_GLOBAL, OP.NONE, OP.STOP);
    const bytes = assemble(OP.PROTO, 4, OP.FRAME, u64(3n), body);
    assert.equal(find(await scan(bytes), "MG131").length, 1);
  });

  test("P18: a STOP inside a FRAME is an ambiguity, and the next stream starts where CPython's does, at the frame's end", async () => {
    // Read on from STOP, the rest of the frame opens a string that swallows the pickle after the frame;
    // CPython (pickle.load twice on one file) reads that pickle next.
    const real = assemble(OP.PROTO, 4, global("posix", "system"), str("id"), OP.TUPLE1, OP.REDUCE, OP.STOP);
    const body = assemble(OP.NONE, OP.STOP, OP.BINUNICODE, u32(real.length));
    const ctx = await scan(assemble(OP.PROTO, 4, OP.FRAME, u64(BigInt(body.length)), body, real, OP.STOP));
    assert.match(find(ctx, "MG131")[0]?.message ?? "", /STOP at \d+ ends the stream inside a FRAME/, JSON.stringify(ctx.reports));
    assert.match(find(ctx, "MG100")[0]?.message ?? "", /posix\.system/, JSON.stringify(ctx.reports));
  });

  test("large BINBYTES payloads are skipped by seeking, not read", async () => {
    const big = 50 * 1024 * 1024;
    const head = assemble(OP.PROTO, 4, OP.BINBYTES8, u64(BigInt(big)));
    const tail = assemble(OP.POP, SYSTEM, OP.STOP);
    const source = new SparseSource(head, big, tail);
    const ctx = new RecordingContext();
    await scanPickle(source, ctx);
    assert.equal(find(ctx, "MG100").length, 1);
    assert.ok(source.bytesRead < 4 * 1024 * 1024, `read ${source.bytesRead} bytes of ${source.size}`);
  });

  test("joblib: raw array bytes after a NumpyArrayWrapper are skipped and the stream after them judged (P13)", async () => {
    const dtype = assemble(global("numpy", "dtype"), str("f4"), OP.NEWFALSE, OP.NEWTRUE, OP.TUPLE3, OP.REDUCE);
    const state = assemble(OP.EMPTY_DICT, OP.MARK, str("shape"), OP.BININT1, 3, OP.TUPLE1, str("dtype"), dtype, str("order"), str("C"), OP.SETITEMS);
    const wrapper = assemble(global("joblib.numpy_pickle", "NumpyArrayWrapper"), OP.EMPTY_TUPLE, OP.NEWOBJ, state, OP.BUILD);
    const raw = Buffer.alloc(12, 0xff); // not opcodes: must be skipped, not parsed
    const ctx = await scan(assemble(OP.PROTO, 2, wrapper, raw, OP.POP, SYSTEM, OP.STOP));
    assert.deepEqual(ctx.rules(), ["MG100"]);
  });

  test("joblib: the wrapper is known however the class is reached (protocol 0/1 _reconstructor, a dotted name)", async () => {
    const dtype = assemble(global("numpy", "dtype"), str("f4"), OP.NEWFALSE, OP.NEWTRUE, OP.TUPLE3, OP.REDUCE);
    const state = assemble(OP.EMPTY_DICT, OP.MARK, str("shape"), OP.BININT1, 3, OP.TUPLE1, str("dtype"), dtype, str("order"), str("C"), OP.SETITEMS);
    // pickle protocols 0 and 1 construct instances through copyreg._reconstructor(cls, object, None).
    const reconstructed = assemble(
      global("copy_reg", "_reconstructor"), global("joblib.numpy_pickle", "NumpyArrayWrapper"), global("__builtin__", "object"), OP.NONE, OP.TUPLE3, OP.REDUCE,
    );
    const dotted = assemble(global("joblib", "numpy_pickle.NumpyArrayWrapper"), OP.EMPTY_TUPLE, OP.NEWOBJ);
    for (const construct of [reconstructed, dotted]) {
      const raw = Buffer.alloc(12, 0xff); // not opcodes: parsed as such they would break the stream
      const ctx = await scan(assemble(OP.PROTO, 2, construct, state, OP.BUILD, raw, OP.POP, SYSTEM, OP.STOP));
      assert.ok(ctx.rules().includes("MG100"), `the call after the array bytes is judged: ${ctx.rules().join(", ")}`);
      assert.ok(!ctx.rules().some((r) => r === "MG110" || r === "MG111"), `the array bytes are skipped, not parsed: ${ctx.rules().join(", ")}`);
    }
  });
});

describe("memo keys", () => {
  test("a memo key far past the memo's count is MG109: CPython grows its memo array to twice the key (red team round 25: 4 GB from 9 bytes)", async () => {
    for (const put of [assemble(OP.LONG_BINPUT, u32(2 ** 28)), Buffer.from(`p${2 ** 28}\n`, "latin1")]) {
      const ctx = await scan(assemble(OP.PROTO, 2, OP.NONE, put, OP.STOP));
      assert.ok(ctx.reports.some((r) => r.rule === "MG109" && /memo key 268435456: .* 4294967296 bytes/.test(r.message)), JSON.stringify(ctx.reports));
    }
    // Keys as picklers write them, and a far key under the bound, pass.
    assert.deepEqual((await scan(assemble(OP.PROTO, 2, OP.NONE, OP.LONG_BINPUT, u32(2 ** 20), OP.STOP))).rules(), []);
  });
});

describe("large memos", () => {
  /** PROTO 4, then `n` memoized Nones, so later entries fall past LIMITS.pickleMemoRetainAll. */
  function bigMemo(n: number): Buffer {
    return assemble(OP.PROTO, 4, OP.NONE, Buffer.alloc(n, OP.MEMOIZE), OP.POP);
  }
  const key = (n: number): Buffer => assemble(OP.LONG_BINGET, u32(n));
  const n = LIMITS.pickleMemoRetainAll + 10;

  test("name strings memoized past the retention bound still resolve imports through the memo", async () => {
    const bytes = assemble(bigMemo(n), str("posix"), OP.MEMOIZE, OP.POP, str("system"), OP.MEMOIZE, OP.POP, key(n), key(n + 1), OP.STACK_GLOBAL, str("id"), OP.TUPLE1, OP.REDUCE, OP.STOP);
    assert.match(find(await scan(bytes), "MG100")[0]?.message ?? "", /calls posix\.system/);
  });

  test("a plain container memoized past the bound regains its content when it gains behaviour", async () => {
    const bytes = assemble(
      bigMemo(n), OP.EMPTY_DICT, OP.MEMOIZE, str("__class__"), global("posix", "system"), OP.SETITEM, OP.POP,
      global("collections", "OrderedDict"), OP.EMPTY_TUPLE, OP.REDUCE, key(n), OP.BUILD, OP.STOP,
    );
    assert.match(find(await scan(bytes), "MG106")[0]?.message ?? "", /__class__/);
  });

  test("a container memoized past the bound regains its content when behaviour arrives past its sample, in one batch", async () => {
    const ints = Array.from({ length: LIMITS.pickleContainerSample + 6 }, (_, i) => assemble(OP.BININT1, i));
    const bytes = assemble(
      bigMemo(n), OP.EMPTY_LIST, OP.MEMOIZE, OP.MARK, ...ints, global("posix", "system"), OP.APPENDS, OP.POP,
      key(n), OP.EMPTY_TUPLE, OP.REDUCE, OP.STOP,
    );
    assert.match(find(await scan(bytes), "MG107")[0]?.message ?? "", /calls a value produced at load time: \[0, 1, 2, 3, …\]/);
  });

  test("a tuple memoized past the bound keeps the dict it holds, which may gain a dunder key later", async () => {
    // D = {} kept whole (key 0); then (None, D) memoized past the bound; then D['__class__'] = X; BUILD(obj, (None, D)).
    const bytes = assemble(
      OP.PROTO, 4, OP.EMPTY_DICT, OP.MEMOIZE, OP.POP, OP.NONE, Buffer.alloc(n, OP.MEMOIZE), OP.POP,
      OP.NONE, OP.BINGET, 0, OP.TUPLE2, OP.MEMOIZE, OP.POP,
      OP.BINGET, 0, str("__class__"), OP.BININT1, 1, OP.SETITEM, OP.POP,
      global("collections", "OrderedDict"), OP.EMPTY_TUPLE, OP.REDUCE, key(n + 1), OP.BUILD, OP.STOP,
    );
    assert.match(find(await scan(bytes), "MG106")[0]?.message ?? "", /__class__/);
  });

  test("writing into a container fetched back from a large memo is reported (picklers never do; it could add a dunder key)", async () => {
    const dict = assemble(bigMemo(n), OP.EMPTY_DICT, OP.MEMOIZE, OP.POP);
    const ctx = await scan(assemble(dict, key(n), str("__class__"), OP.BININT1, 1, OP.SETITEM, OP.POP, global("os", "getcwd"), OP.POP, OP.NONE, OP.STOP));
    assert.match(find(ctx, "MG111")[0]?.message ?? "", /SETITEM writes into a memo entry dropped/);
  });
});

/**
 * Past the retention bound the memo keeps values within a memory budget; past that they are
 * FORGOTTEN. These run the machine with a small budget, so a few kilobytes of input exhaust it.
 */
describe("values dropped from a large memo", () => {
  const n = LIMITS.pickleMemoRetainAll + 10;
  const key = (k: number): Buffer => assemble(OP.LONG_BINGET, u32(k));
  /** n memoized Nones, then a memoized bytes constant that takes the whole (small) budget. */
  const prefix = assemble(OP.PROTO, 4, OP.NONE, Buffer.alloc(n, OP.MEMOIZE), OP.POP, OP.SHORT_BINBYTES, 200, Buffer.alloc(200), OP.MEMOIZE, OP.POP);
  const obj = assemble(global("collections", "OrderedDict"), OP.EMPTY_TUPLE, OP.REDUCE);

  async function run(body: Buffer): Promise<RecordingContext> {
    const ctx = new RecordingContext();
    const analyst = new PickleAnalyst((rule, message, extra) => ctx.report(rule, message, extra), { torchscript: false });
    await new Machine(new StreamReader(new BufferSource("t.pkl", assemble(prefix, body)), 0), analyst, 0, { memoBudget: 100 }).run();
    analyst.flush();
    return ctx;
  }
  const forgotten = (ctx: RecordingContext): string => find(ctx, "MG111").map((f) => f.message).join("; ");

  test("calling a forgotten value, or passing one, at any depth, is reported", async () => {
    assert.match(forgotten(await run(assemble(key(n), OP.EMPTY_TUPLE, OP.REDUCE, OP.STOP))), /REDUCE calls a value the scanner dropped/);
    // The whole argument tuple from the memo; one nested in a tuple; one past a list's sample.
    const args = assemble(global("copyreg", "_reconstructor"), key(n), OP.REDUCE, OP.STOP);
    assert.match(forgotten(await run(args)), /REDUCE passes copyreg\._reconstructor a value/);
    const nested = assemble(global("torch._utils", "_set_obj_state"), obj, key(n), OP.NONE, OP.TUPLE2, OP.TUPLE2, OP.REDUCE, OP.STOP);
    assert.match(forgotten(await run(nested)), /passes torch\._utils\._set_obj_state a value/);
    const ints = Array.from({ length: LIMITS.pickleContainerSample + 6 }, (_, i) => assemble(OP.BININT1, i));
    const deep = assemble(global("builtins", "len"), OP.EMPTY_LIST, OP.MARK, ...ints, key(n), OP.APPENDS, OP.TUPLE1, OP.REDUCE, OP.STOP);
    assert.match(forgotten(await run(deep)), /passes builtins\.len a value/);
  });

  test("a container that gets a forgotten value after it was put into another is still seen from the outer one", () => {
    // state = {}; args = (state,); state[...] = <forgotten>: the tuple's own flag was set before.
    const state = emptyDict();
    const args = tuple([state]);
    noteForgotten(state, FORGOTTEN);
    assert.equal(holdsForgotten(args), false);
    assert.equal(reachesForgotten(args), true);
    assert.equal(reachesForgotten(tuple([tuple([tuple([tuple([state])])])])), false, "the walk is bounded");
  });

  test("a BUILD whose state holds a forgotten value, even inside a (state, slotstate) tuple, is reported", async () => {
    const state = assemble(obj, key(n), OP.NONE, OP.TUPLE2, OP.BUILD, OP.STOP);
    assert.match(forgotten(await run(state)), /BUILD's state holds a value/);
    const dunder = assemble(obj, OP.EMPTY_DICT, key(n), OP.BININT1, 1, OP.SETITEM, OP.BUILD, OP.STOP);
    assert.match(forgotten(await run(dunder)), /BUILD's state holds a value/);
  });

  test("what was memoized within the budget is kept and judged as usual", async () => {
    const ctx = await run(assemble(key(n), OP.POP, OP.EMPTY_DICT, OP.MEMOIZE, OP.POP, obj, OP.STOP));
    assert.deepEqual(ctx.rules(), []);
  });
});

describe("large memos (continued)", () => {
  test("a plain dataset past the bound, never fetched back, gets no finding", async () => {
    const record = assemble(OP.EMPTY_DICT, OP.MEMOIZE, str("when"), global("datetime", "date"), OP.SHORT_BINBYTES, 4, [7, 234, 1, 1], OP.MEMOIZE, OP.TUPLE1, OP.MEMOIZE, OP.REDUCE, OP.MEMOIZE, OP.SETITEM);
    const bytes = assemble(OP.PROTO, 4, OP.EMPTY_LIST, OP.MEMOIZE, OP.MARK, ...Array.from({ length: 40_000 }, () => record), OP.APPENDS, OP.STOP);
    assert.deepEqual((await scan(bytes)).rules(), []);
  });

  test("the memo's name test keeps exactly the strings /^[A-Za-z_][\\w.]{0,255}$/ accepts", () => {
    const regex = /^[A-Za-z_][\w.]{0,255}$/;
    const nameish = fc.string({ unit: fc.constantFrom(..."aZ_9.-@[`{é\n \u0130"), maxLength: 260 });
    fc.assert(fc.property(fc.oneof(nameish, fc.string({ maxLength: 300 })), (s) => nameLike(s) === regex.test(s)), { numRuns: 20_000 });
    for (const s of ["a".repeat(256), "a".repeat(257), "_", "9a", "a.b", ".a", "a\n"]) assert.equal(nameLike(s), regex.test(s), s);
  });
});

describe("protocol 0 text operands", () => {
  test("UNICODE is raw-unicode-escape: latin-1 bytes, only \\u and \\U escapes, a final \\r kept (as CPython's codec decodes it)", () => {
    // Expected values are what Python's codecs.raw_unicode_escape_decode returns for each.
    const cases: [Buffer, string | undefined][] = [
      [Buffer.from([0x63, 0x61, 0x66, 0xe9]), "café"],
      [Buffer.from("a\\u0041b", "latin1"), "aAb"],
      [Buffer.from("\\x41", "latin1"), "\\x41"],
      [Buffer.from("\\\\u0041", "latin1"), "\\\\u0041"],
      [Buffer.from("a\\nb", "latin1"), "a\\nb"],
      [Buffer.from("x\r", "latin1"), "x\r"],
      [Buffer.from("\\", "latin1"), "\\"],
      [Buffer.from("\\U0001F600", "latin1"), "\u{1F600}"],
      [Buffer.from("\\u12", "latin1"), undefined],
      [Buffer.from("\\U00110000", "latin1"), undefined],
    ];
    for (const [bytes, expected] of cases) assert.equal(rawUnicodeEscape(bytes, 0, bytes.length), expected, JSON.stringify(bytes.toString("latin1")));
  });

  test("a UNICODE name is what CPython decodes: \\x is no escape there, so no import of os is spelled", async () => {
    const spelled = await scan(assemble(OP.MARK, "Vo\\u0073\n", "Vsystem\n", OP.STACK_GLOBAL, OP.STOP));
    assert.match(find(spelled, "MG100")[0]?.message ?? find(spelled, "MG102")[0]?.message ?? "", /os\.system/);
    const literal = await scan(assemble("Vo\\x73\n", "Vsystem\n", OP.STACK_GLOBAL, OP.STOP));
    assert.ok(!JSON.stringify(literal.reports).includes("os.system"), JSON.stringify(literal.reports));
  });


  test("INT is read as CPython's load_int reads it: strtol first (a leading 0 is octal), a two-character 0 or 1 is a bool", () => {
    // Expected values are what pickle.loads(b"I" + text + b"\n.") returns.
    const cases: [string, number | bigint | boolean][] = [
      ["010", 8], ["0777", 511], ["007", 7], ["+1", true], ["-0", false], [" 1", true], ["00", false], ["01", true], ["1", 1],
      ["0x1f", 31], ["0o17", 15], ["1_000", 1000], ["5 ", 5], ["  -12", -12], ["9223372036854775808", 9223372036854775808n], ["0x8000000000000000", 9223372036854775808n],
    ];
    for (const [text, expected] of cases) assert.equal(intLine(text), expected, JSON.stringify(text));
    // Digits outside the base are no number (CPython raises ValueError), not a failed scan.
    for (const text of ["0o8", "0b2", "0xg"]) assert.equal(intLine(text), undefined, text);
  });

  test("STRING's escapes are codecs.escape_decode's (an octal escape keeps its low byte; \\u is no escape); unicode_escape's are its own", () => {
    // Expected values are what Python returns: codecs.escape_decode(...)[0].decode("latin1"), and codecs.decode(..., "unicode_escape").
    const bytes: [string, string | undefined][] = [
      ["1e\\471\\471", "1e99"],
      ["p\\565nycode", "punycode"],
      ["a\\vb\\fc\\ad\\be", "a\x0bb\x0cc\x07d\x08e"],
      ["a\\\nb", "ab"],
      ["\\u0041", "\\u0041"],
      ["\\x41\\101", "AA"],
      ["\\q", "\\q"],
      ["\\0", "\x00"],
      ["\\1234", "S4"],
      ["\\x4", undefined],
      ["ab\\", undefined],
    ];
    for (const [text, expected] of bytes) assert.equal(unescapePy(text, "bytes"), expected, JSON.stringify(text));
    const unicode: [string, string | undefined][] = [["\\471", "\u0139"], ["\\u0041\\x41", "AA"], ["\\a\\v", "\x07\x0b"], ["\\U00110000", undefined]];
    for (const [text, expected] of unicode) assert.equal(unescapePy(text, "unicode"), expected, JSON.stringify(text));
  });

  test("a STRING spelling an exponent or a codec in escapes CPython reads past U+00FF, or ending in \\v, is judged as CPython reads it", async () => {
    const fraction = (text: string): Buffer => assemble(global("fractions", "Fraction"), OP.MARK, `S'${text}'\n`, OP.TUPLE, OP.REDUCE, OP.STOP);
    for (const text of ["1e\\471\\471\\471\\471\\471\\471\\471\\471\\471", "1e999999999\\v", "1e999999999\\f"]) {
      assert.ok(find(await scan(fraction(text)), "MG109").length > 0, text);
    }
    const long = "x".repeat(5_000);
    const punycode = assemble(global("_codecs", "encode"), OP.MARK, `V${long}\n`, "S'p\\565nycode'\n", OP.TUPLE, OP.REDUCE, OP.STOP);
    assert.match(find(await scan(punycode), "MG109")[0]?.message ?? "", /punycode/);
  });

  test("FLOAT reads what CPython's float() reads: inf, -inf, nan, underscores; not hex or an empty line", async () => {
    for (const ok of ["1.5", "-inf", "inf", "Infinity", "nan", "-NaN", "1_000.5", " 2e-3 ", ".5", "5."]) {
      assert.deepEqual((await scan(assemble(OP.PROTO, 1, `F${ok}\n`, OP.STOP))).rules(), [], ok);
    }
    for (const bad of ["0x10", "", "1__0", "1.5.2", "in", "_1"]) {
      assert.match(find(await scan(assemble(OP.PROTO, 1, `F${bad}\n`, OP.STOP)), "MG112")[0]?.message ?? "", /FLOAT operand/, bad);
    }
  });
});

describe("LONG1 and LONG4", () => {
  test("read as CPython's int.from_bytes(b, 'little', signed=True)", async () => {
    const cases: [number[], bigint][] = [[[0xff], -1n], [[0x00, 0x80], -32768n], [[0xff, 0x7f], 32767n], [[0x01, 0, 0, 0, 0, 0, 0, 0, 0x01], 2n ** 64n + 1n], [[0, 0, 0, 0, 0, 0, 0, 0, 0x80], -(2n ** 71n)]];
    for (const [bytes, expected] of cases) {
      for (const op of [OP.LONG1, OP.LONG4]) {
        const length = op === OP.LONG1 ? [bytes.length] : u32(bytes.length);
        const r = await scanPickle(new BufferSource("t.pkl", assemble(OP.PROTO, 2, op, length, bytes, OP.STOP)), new RecordingContext(), { keepValue: true });
        assert.equal(BigInt(r.value as number | bigint), expected, JSON.stringify(bytes));
      }
    }
  });

  test("long ones cost time linear in their length (a byte at a time, 64 KiB took 0.4 s of CPU)", async () => {
    const long = assemble(OP.LONG4, u32(64 * 1024), Buffer.alloc(64 * 1024, 0x5a), OP.POP);
    const started = process.cpuUsage();
    await scanPickle(new BufferSource("t.pkl", assemble(OP.PROTO, 2, ...Array.from({ length: 100 }, () => long), OP.NONE, OP.STOP)), new RecordingContext(), { keepValue: true });
    const used = process.cpuUsage(started);
    assert.ok(used.user + used.system < 10_000_000, `${(used.user + used.system) / 1e6} s of CPU`);
  });
});

describe("malformed operands and limits (P17)", () => {
  const cases: [string, Buffer, string, RegExp][] = [
    ["STACK_GLOBAL with int operands", assemble(OP.PROTO, 4, OP.BININT1, 1, OP.BININT1, 2, OP.STACK_GLOBAL, OP.STOP), "MG103", /not a constant string/],
    ["negative LONG4 length", assemble(OP.PROTO, 2, OP.LONG4, [0xfb, 0xff, 0xff, 0xff], OP.STOP), "MG112", /negative byte count/],
    ["BINGET of a key never stored", assemble(OP.PROTO, 2, OP.BINGET, 9, OP.STOP), "MG112", /read before it was stored/],
    ["APPENDS without MARK", assemble(OP.PROTO, 2, OP.EMPTY_LIST, OP.APPENDS, OP.STOP), "MG112", /without a MARK/],
    ["APPEND to an int", assemble(OP.PROTO, 2, OP.BININT1, 1, OP.NONE, OP.APPEND, OP.STOP), "MG112", /APPEND on a number/],
    ["BINUNICODE8 longer than the file", assemble(OP.PROTO, 4, OP.BINUNICODE8, u64(0xfffffffffn), "abc", OP.STOP), "MG112", /declares \d+ bytes/],
    ["BINBYTES8 length past 2^53", assemble(OP.PROTO, 4, OP.BINBYTES8, u64(0xffffffffffffffffn), OP.STOP), "MG112", /impossible/],
    ["unhashable dict key", assemble(OP.PROTO, 2, OP.EMPTY_DICT, OP.EMPTY_LIST, OP.NONE, OP.SETITEM, OP.STOP), "MG112", /unhashable/],
    ["STRING without quotes", assemble("Sabc\n.", ""), "MG112", /not quoted/],
    ["GLOBAL with no newline", assemble(OP.PROTO, 2, OP.GLOBAL, "posix"), "MG110", /truncated/],
    ["UNICODE escape past U+10FFFF", assemble("V\\U7fffffff\n.", ""), "MG112", /U\+10FFFF/],
    ["UNICODE \\u escape without hex digits (malformed, not a failed scan)", assemble("V\\uzz\n.", ""), "MG112", /without hex digits/],
    ["STRING \\x escape without hex digits", assemble("S'\\xg'\n.", ""), "MG112", /without two hex digits/],
    ["STRING ending in a backslash", assemble("S'ab\\'\n.", ""), "MG112", /a backslash ending it/],
    ["EXT4 with code 0", assemble(OP.PROTO, 2, OP.EXT4, u32(0), OP.STOP), "MG112", /<= 0/],
    ["SETITEM on a list past its end", assemble(OP.PROTO, 2, OP.EMPTY_LIST, OP.NONE, OP.APPEND, OP.BININT1, 1, OP.NONE, OP.SETITEM, OP.STOP), "MG112", /index 1 is no index of a list of 1/],
    ["SETITEM on a list with a str index", assemble(OP.PROTO, 2, OP.EMPTY_LIST, OP.NONE, OP.APPEND, str("a"), OP.NONE, OP.SETITEM, OP.STOP), "MG112", /list with a string index/],
  ];
  for (const [name, bytes, rule, message] of cases) {
    test(name, async () => {
      const ctx = await scan(bytes);
      assert.ok(find(ctx, rule).some((f) => message.test(f.message)), JSON.stringify(ctx.reports));
    });
  }

  test("what CPython passes is no break: an empty APPENDS, SETITEMS or ADDITEMS on any value, and SETITEM on a list in range (red team round 31)", async () => {
    const leads = [
      assemble(OP.NONE, OP.MARK, OP.APPENDS, OP.POP),
      assemble(OP.NONE, OP.MARK, OP.SETITEMS, OP.POP),
      assemble(OP.BININT1, 3, OP.MARK, OP.ADDITEMS, OP.POP),
      assemble(OP.EMPTY_LIST, OP.MARK, OP.NONE, OP.NONE, OP.APPENDS, OP.BININT1, 0, OP.BININT1, 7, OP.SETITEM, OP.NEWTRUE, OP.BININT1, 8, OP.SETITEM, OP.POP),
      assemble(OP.EMPTY_LIST, OP.NONE, OP.APPEND, OP.BININT1, 5, OP.APPEND, OP.BININT, [0xfe, 0xff, 0xff, 0xff], OP.NONE, OP.SETITEM, OP.POP),
    ];
    for (const lead of leads) {
      const ctx = await scan(assemble(OP.PROTO, 2, lead, SYSTEM, OP.STOP));
      assert.deepEqual(ctx.reports.map((r) => r.rule), ["MG100"], `${lead.toString("hex")}: ${JSON.stringify(ctx.reports)}`);
    }
  });

  test("a payload after an unhashable key is still judged", async () => {
    const ctx = await scan(assemble(OP.PROTO, 2, OP.EMPTY_DICT, OP.EMPTY_LIST, OP.NONE, OP.SETITEM, OP.POP, SYSTEM, OP.STOP));
    assert.equal(find(ctx, "MG100").length, 1);
  });

  test("more MARKs than the limit stop the stream with a limit finding", async () => {
    const bytes = Buffer.alloc(LIMITS.pickleMaxMarks + 3, OP.MARK);
    bytes[0] = OP.PROTO;
    bytes[1] = 2;
    const [f] = find(await scan(bytes), "MG111");
    assert.match(f?.message ?? "", /nested MARKs/);
  });
});


describe("BUILD answered by what the object holds", () => {
  const NAME = "__setstate__";
  const spellings: [string, Buffer][] = [
    ["SHORT_BINUNICODE", str(NAME)],
    ["BINUNICODE", assemble(OP.BINUNICODE, u32(NAME.length), NAME)],
    ["BINUNICODE8", assemble(OP.BINUNICODE8, u64(BigInt(NAME.length)), NAME)],
    ["SHORT_BINSTRING", assemble(OP.SHORT_BINSTRING, NAME.length, NAME)],
    ["BINSTRING", assemble(OP.BINSTRING, u32(NAME.length), NAME)],
    ["STRING", assemble(OP.STRING, `'${NAME}'\n`)],
    ["UNICODE", assemble(OP.UNICODE, `${NAME}\n`)],
  ];
  for (const [op, text] of spellings) {
    test(`the name __setstate__ as data (${op}) is MG106, once`, async () => {
      // A list of the name twice: a mapping built from it later would serve it as an attribute.
      const ctx = await scan(assemble(OP.PROTO, 2, OP.MARK, text, text, OP.LIST, SYSTEM, OP.STOP));
      const found = find(ctx, "MG106");
      assert.equal(found.length, 1, JSON.stringify(ctx.reports));
      assert.match(found[0]!.message, /holds the name __setstate__ as data/);
    });
  }

  test("a name that only contains __setstate__ is not it", async () => {
    const ctx = await scan(assemble(OP.PROTO, 2, str("x__setstate__"), OP.POP, SYSTEM, OP.STOP));
    assert.deepEqual(find(ctx, "MG106"), []);
  });
});

test("Unicode decimal digits read as CPython's int() reads them: each set's ten code points are 0 to 9", () => {
  // Arabic-Indic, Devanagari, fullwidth, the mathematical digits (five sets back to back) and Adlam.
  for (const zero of [0x0660, 0x0966, 0xff10, 0x1d7ce, 0x1d7d8, 0x1d7f6, 0x1e950]) {
    const digits = Array.from({ length: 10 }, (_, i) => String.fromCodePoint(zero + i)).join("");
    assert.equal(asciiDigits(digits), "0123456789", zero.toString(16));
  }
  assert.equal(asciiDigits("1e\u0669\u0669 and x\u00b2"), "1e99 and x\u00b2", "a superscript is no decimal digit");
  assert.equal(parseInteger(" \u0661_\u0660 ", 10), 10n);
  assert.equal(parseInteger("\u0661\u0660", 16), 16n);
});

test("a number's trailing exponent is read from its end as Fraction() and Decimal() read it, cheaply however long the text", () => {
  assert.equal(trailingExponent("1e\u0669\u0669"), "99");
  assert.equal(trailingExponent("1E+1_0 "), "+10");
  assert.equal(trailingExponent("2.5e-\u{1d7d7}"), "-9");
  for (const none of ["3/4", "1e1__0", "1e5_", "1e", "12345", "1e x"]) assert.equal(trailingExponent(none), undefined, none);
  assert.equal(trailingExponent(`1e${"\u{1d7d7}".repeat(40)}`), "9".repeat(32), "past 32 digits: larger than any bound");
  // A memoized 64 KiB constant a pickle calls Fraction on a thousand times (a red team's review found 28 s).
  const hostile = `${"\u{1d7ff}".repeat(16_000)}x`;
  const started = process.cpuUsage();
  for (let i = 0; i < 1000; i++) trailingExponent(hostile);
  for (let i = 0; i < 1000; i++) parseInteger(`${"\u{1d7ff}".repeat(1000)}`, 10);
  const used = process.cpuUsage(started);
  assert.ok((used.user + used.system) / 1000 < 2000, `${(used.user + used.system) / 1000} ms of CPU`);
});
