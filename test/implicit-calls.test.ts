/**
 * What a load runs without the pickle naming a call (red team of 2026-12-03): an object's
 * `__call__` reached through a carrier, a `__setstate__` planted as an attribute for the next BUILD
 * to call, state that `__setstate__` executes given by other routes than the guarded one, and the
 * dtype by which joblib decides whether an array's bytes are an inline pickle. Each attack is
 * assembled opcode by opcode, beside the legitimate shape it imitates, which must stay quiet.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { scanPickle } from "../src/formats/pickle.js";
import { LIMITS } from "../src/limits.js";
import { BufferSource } from "../src/sources/byteSource.js";
import { RecordingContext } from "./support/context.js";
import { OP, assemble, global, str, u32, u64 } from "./support/pickle.js";

async function scan(bytes: Buffer): Promise<RecordingContext> {
  const ctx = new RecordingContext();
  await scanPickle(new BufferSource("t.pkl", bytes), ctx, { layout: "plain" });
  return ctx;
}

function messages(ctx: RecordingContext, rule: string): string[] {
  return ctx.reports.filter((r) => r.rule === rule).map((r) => r.message);
}

/** Some message matches `pattern` (several rules may speak of one thing: the stream's integer and the call given it). */
function assertSome(found: string[], pattern: RegExp, what?: string): void {
  assert.ok(found.some((m) => pattern.test(m)), `${what ?? ""} ${JSON.stringify(found)}`);
}

/** `cls(*args)` via REDUCE, the arguments already assembled as a tuple. */
function reduce(cls: Buffer, args: Buffer): Buffer {
  return assemble(cls, args, OP.REDUCE);
}

/**
 * An object of an allowlisted class that is not a carrier (a torch layer, whose __call__ runs its
 * forward): the red team used NumPy's PytestTester, whose __call__ runs pytest, since taken out.
 */
const TESTER = assemble(global("torch.nn.modules.activation", "ReLU"), OP.EMPTY_TUPLE, OP.NEWOBJ);
/** argparse.Namespace(): an attribute bag without __setstate__, so BUILD updates its __dict__. */
const NAMESPACE = assemble(global("argparse", "Namespace"), OP.EMPTY_TUPLE, OP.NEWOBJ);
const HASH = global("builtins", "hash");

describe("an object's __call__ through a carrier", () => {
  test("torch's _rebuild_from_type_v2 and dill's _create_array calling an object are MG107, naming its class", async () => {
    const viaTorch = reduce(global("torch._tensor", "_rebuild_from_type_v2"), assemble(OP.MARK, TESTER, global("torch", "Tensor"), str("--co"), OP.TUPLE1, OP.EMPTY_DICT, OP.TUPLE));
    const viaDill = reduce(global("dill._dill", "_create_array"), assemble(OP.MARK, TESTER, str("--co"), OP.TUPLE1, OP.EMPTY_DICT, OP.NONE, OP.TUPLE));
    for (const bytes of [viaTorch, viaDill]) {
      const ctx = await scan(assemble(OP.PROTO, 2, bytes, OP.STOP));
      assert.match(messages(ctx, "MG107")[0] ?? "", /calls a value produced at load time: torch\.nn\.modules\.activation\.ReLU.*an object of torch\.nn\.modules\.activation\.ReLU, whose __call__/, JSON.stringify(ctx.reports));
    }
  });

  test("a carrier's own callee stays callable: a partial of an allowlisted function given to a defaultdict", async () => {
    const partial = reduce(global("functools", "partial"), assemble(global("builtins", "list"), OP.TUPLE1));
    const ctx = await scan(assemble(OP.PROTO, 2, reduce(global("collections", "defaultdict"), assemble(partial, OP.TUPLE1)), OP.STOP));
    assert.deepEqual(ctx.rules(), []);
  });

  test("a partial holds a name never to be called at load; calling the partial at load calls it", async () => {
    // SelectKBest(partial(mutual_info_classif, random_state=0)) pickles the partial and its BUILD state.
    const score = global("sklearn.feature_selection._mutual_info", "mutual_info_classif");
    const partial = reduce(global("functools", "partial"), assemble(score, OP.TUPLE1));
    const state = assemble(OP.MARK, score, OP.EMPTY_TUPLE, OP.EMPTY_DICT, str("random_state"), OP.BININT1, 0, OP.SETITEM, OP.NONE, OP.TUPLE);
    assert.deepEqual((await scan(assemble(OP.PROTO, 2, partial, state, OP.BUILD, OP.STOP))).rules(), []);
    const calledNow = reduce(global("dill._dill", "_create_array"), assemble(OP.MARK, partial, OP.EMPTY_TUPLE, OP.EMPTY_DICT, OP.NONE, OP.TUPLE));
    assert.match(messages(await scan(assemble(OP.PROTO, 2, calledNow, OP.STOP)), "MG101")[0] ?? "", /mutual_info_classif, which is allowlisted to be stored or constructed, not called/);
    // MultiplicativeLR(partial(pow, 0.99)) stores pow; pow called at load could build an integer of any size.
    const pow = reduce(global("functools", "partial"), assemble(global("builtins", "pow"), OP.BINFLOAT, Buffer.from([0x3f, 0xef, 0xae, 0x14, 0x7a, 0xe1, 0x47, 0xae]), OP.TUPLE2));
    assert.deepEqual((await scan(assemble(OP.PROTO, 2, pow, OP.STOP))).rules(), []);
    const powNow = reduce(global("builtins", "pow"), assemble(OP.BININT1, 10, OP.BININT, Buffer.from([0xff, 0xff, 0xff, 0x7f]), OP.TUPLE2));
    assert.match(messages(await scan(assemble(OP.PROTO, 2, powNow, OP.STOP)), "MG101")[0] ?? "", /builtins\.pow, which is allowlisted to be stored or constructed, not called/);
  });

  test("a bound method a fitted object stores passes; calling it at load is MG101", async () => {
    const hgb = assemble(global("sklearn.ensemble._hist_gradient_boosting.gradient_boosting", "HistGradientBoostingClassifier"), OP.EMPTY_TUPLE, OP.NEWOBJ);
    const method = reduce(global("builtins", "getattr"), assemble(hgb, str("_raw_predict"), OP.TUPLE2));
    assert.deepEqual((await scan(assemble(OP.PROTO, 2, method, OP.STOP))).rules(), []);
    const called = await scan(assemble(OP.PROTO, 2, method, OP.EMPTY_TUPLE, OP.REDUCE, OP.STOP));
    assert.match(messages(called, "MG101")[0] ?? "", /calls sklearn\..*HistGradientBoostingClassifier\._raw_predict, which is allowlisted to be stored/);
    const viaCarrier = reduce(global("dill._dill", "_create_array"), assemble(OP.MARK, method, OP.EMPTY_TUPLE, OP.EMPTY_DICT, OP.NONE, OP.TUPLE));
    assert.match(messages(await scan(assemble(OP.PROTO, 2, viaCarrier, OP.STOP)), "MG101")[0] ?? "", /_raw_predict/);
  });

  test("numpy.memmap stays denied, however it is made: its __new__ opens, creates or truncates the file it is given, and NEWOBJ runs __new__ (a seventh red team round wrote a .pth through it)", async () => {
    const newobj = assemble(global("numpy", "memmap"), str("evil.pth"), str("uint8"), str("w+"), OP.TUPLE3, OP.NEWOBJ);
    assert.ok((await scan(assemble(OP.PROTO, 2, newobj, OP.STOP))).rules().includes("MG100"));
    const rebuilt = reduce(global("numpy._core.multiarray", "_reconstruct"), assemble(global("numpy", "memmap"), OP.MARK, assemble(OP.BININT1, 0), OP.TUPLE, str("b"), OP.TUPLE3));
    assert.ok((await scan(assemble(OP.PROTO, 2, rebuilt, OP.STOP))).rules().includes("MG100"));
  });

  test("a lazy module not yet run keeps its hooks as bound methods in wrapped hooks: they pass; called at load, MG101", async () => {
    const lazy = assemble(global("torch.nn.modules.conv", "LazyConv2d"), OP.EMPTY_TUPLE, OP.NEWOBJ);
    for (const name of ["_infer_parameters", "_lazy_load_hook"]) {
      const method = reduce(global("builtins", "getattr"), assemble(lazy, str(name), OP.TUPLE2));
      const hook = assemble(global("torch.nn.modules.module", "_WrappedHook"), method, OP.TUPLE1, OP.NEWOBJ);
      assert.deepEqual((await scan(assemble(OP.PROTO, 2, hook, OP.STOP))).rules(), [], name);
      const called = await scan(assemble(OP.PROTO, 2, method, OP.EMPTY_TUPLE, OP.REDUCE, OP.STOP));
      assert.match(messages(called, "MG101")[0] ?? "", new RegExp(`LazyConv2d\\.${name}, which is allowlisted to be stored`), name);
    }
  });

  test("NumPy's random-state constructors take a bit generator object without calling it; a class there is called", async () => {
    const bitGenerator = reduce(global("numpy.random._pickle", "__bit_generator_ctor"), assemble(global("numpy.random._pcg64", "PCG64"), OP.TUPLE1));
    const quiet = await scan(assemble(OP.PROTO, 2, reduce(global("numpy.random._pickle", "__generator_ctor"), assemble(bitGenerator, OP.TUPLE1)), OP.STOP));
    assert.deepEqual(quiet.rules(), []);
    const unknownClass = reduce(global("numpy.random._pickle", "__bit_generator_ctor"), assemble(global("evil_lib", "Gadget"), OP.TUPLE1));
    assert.match((await scan(assemble(OP.PROTO, 2, unknownClass, OP.STOP))).rules().join(), /MG101/);
    const ctorCalled = reduce(global("numpy.random._pickle", "__randomstate_ctor"), assemble(str("x"), TESTER, OP.TUPLE2));
    assert.match(messages(await scan(assemble(OP.PROTO, 2, ctorCalled, OP.STOP)), "MG107")[0] ?? "", /ReLU/);
  });
});

describe("a __setstate__ planted for the next BUILD", () => {
  /** Namespace(), BUILD with `state`, then BUILD with {} (which calls a planted __setstate__). */
  const planted = (state: Buffer): Buffer => assemble(OP.PROTO, 4, NAMESPACE, state, OP.BUILD, OP.EMPTY_DICT, OP.BUILD, OP.STOP);
  /** Namespace() given `state` by its one BUILD, as pickle writes it (a second BUILD is a finding of its own). */
  const restored = (state: Buffer): Buffer => assemble(OP.PROTO, 4, NAMESPACE, state, OP.BUILD, OP.STOP);

  test("a dunder key past the container sample is seen", async () => {
    const keys: Buffer[] = [];
    for (let i = 0; i < LIMITS.pickleContainerSample + 6; i++) keys.push(str(`k${i}`), assemble(OP.BININT1, 1));
    const ctx = await scan(planted(assemble(OP.EMPTY_DICT, OP.MARK, ...keys, str("__setstate__"), HASH, OP.SETITEMS)));
    assert.match(messages(ctx, "MG106").join("\n"), /a key past the first 64 that is not plain data/);
    const plain = await scan(restored(assemble(OP.EMPTY_DICT, OP.MARK, ...keys, str("last"), OP.NONE, OP.SETITEMS)));
    assert.deepEqual(plain.rules(), [], "many plain attributes are not a finding");
  });

  test("a pydantic v2 model's state (its __dict__, fields set, extra and private attributes) passes; a dunder inside any of them is MG106", async () => {
    const bag = (...kv: Buffer[]): Buffer => assemble(OP.EMPTY_DICT, OP.MARK, ...kv, OP.SETITEMS);
    const state = (fields: Buffer, extra: Buffer = assemble(OP.NONE)): Buffer =>
      bag(str("__dict__"), fields, str("__pydantic_extra__"), extra, str("__pydantic_fields_set__"), assemble(OP.EMPTY_SET, OP.MARK, str("lr"), OP.ADDITEMS), str("__pydantic_private__"), assemble(OP.NONE));
    assert.deepEqual((await scan(restored(state(bag(str("lr"), assemble(OP.BININT1, 1), str("name"), str("run")))))).rules(), []);
    assert.match(messages(await scan(restored(state(bag(str("__setstate__"), HASH)))), "MG106").join("\n"), /__dict__/);
    assert.match(messages(await scan(restored(state(bag(str("lr"), assemble(OP.NONE)), bag(str("__class__"), HASH)))), "MG106").join("\n"), /__pydantic_extra__/);
    // Protocol 2 writes the fields set as builtins.set([...]).
    const p2set = reduce(global("__builtin__", "set"), assemble(OP.EMPTY_LIST, str("lr"), OP.APPEND, OP.TUPLE1));
    assert.deepEqual((await scan(restored(bag(str("__dict__"), bag(str("lr"), assemble(OP.NONE)), str("__pydantic_fields_set__"), p2set)))).rules(), []);
    // A value that is not an attribute bag (a list) stays a dunder attribute.
    assert.match(messages(await scan(restored(bag(str("__dict__"), assemble(OP.EMPTY_LIST)))), "MG106").join("\n"), /__dict__/);
  });

  test("a key made at load time (str(b'__setstate__', 'ascii')) is MG106", async () => {
    const key = reduce(global("builtins", "str"), assemble(OP.SHORT_BINBYTES, 12, "__setstate__", str("ascii"), OP.TUPLE2));
    const ctx = await scan(planted(assemble(OP.EMPTY_DICT, key, HASH, OP.SETITEM)));
    assert.match(messages(ctx, "MG106")[0] ?? "", /a key made at load time: builtins\.str/);
  });

  test("a mapping an allowlisted class builds from pairs, or is given by SETITEM, is read for its keys", async () => {
    const pairs = assemble(OP.EMPTY_LIST, str("__setstate__"), HASH, OP.TUPLE2, OP.APPEND);
    for (const state of [
      reduce(global("builtins", "dict"), assemble(pairs, OP.TUPLE1)),
      reduce(global("collections", "OrderedDict"), assemble(pairs, OP.TUPLE1)),
      assemble(reduce(global("collections", "OrderedDict"), assemble(OP.EMPTY_TUPLE)), str("__setstate__"), HASH, OP.SETITEM),
      assemble(OP.NONE, reduce(global("builtins", "dict"), assemble(pairs, OP.TUPLE1)), OP.TUPLE2), // (dict, slots)
    ]) {
      const ctx = await scan(planted(state));
      assert.match(messages(ctx, "MG106").join("\n"), /a state made at load time/, JSON.stringify(ctx.reports));
    }
    const plainPairs = assemble(OP.EMPTY_LIST, str("name"), str("x"), OP.TUPLE2, OP.APPEND);
    for (const state of [
      reduce(global("collections", "OrderedDict"), assemble(plainPairs, OP.TUPLE1)),
      assemble(reduce(global("collections", "OrderedDict"), assemble(OP.EMPTY_TUPLE)), str("name"), TESTER, OP.SETITEM),
    ]) {
      assert.deepEqual((await scan(restored(state))).rules(), [], "plain keys, whatever the values");
    }
  });
});

describe("what carrier objects hold (a third red team round)", () => {
  const ARGS = global("transformers.training_args", "TrainingArguments"); // allowlisted to be stored, never called at load

  test("a wrapped hook's state 'hook' is what it calls: held, and judged as called when a carrier calls the hook", async () => {
    // A function allowlisted to be stored (a class never to be called is MG101 as any attribute: see below).
    const hook = assemble(global("torch.nn.modules.module", "_WrappedHook"), OP.EMPTY_TUPLE, OP.NEWOBJ, OP.EMPTY_DICT, str("hook"), global("numpy", "clip"), OP.SETITEM, OP.BUILD);
    assert.deepEqual((await scan(assemble(OP.PROTO, 2, hook, OP.STOP))).rules(), [], "held, as torch keeps hooks");
    const called = reduce(global("dill._dill", "_create_array"), assemble(OP.MARK, hook, OP.EMPTY_TUPLE, OP.NONE, OP.NONE, OP.TUPLE));
    assert.match(messages(await scan(assemble(OP.PROTO, 2, called, OP.STOP)), "MG101")[0] ?? "", /numpy\.clip, which is allowlisted to be stored/);
  });

  test("a partial armed after a carrier took it is judged when armed", async () => {
    const partial = reduce(global("functools", "partial"), assemble(global("builtins", "int"), OP.TUPLE1));
    const memoized = assemble(partial, OP.BINPUT, 1);
    const factory = reduce(global("collections", "defaultdict"), assemble(OP.BINGET, 1, OP.TUPLE1));
    const armed = assemble(OP.BINGET, 1, OP.MARK, ARGS, OP.EMPTY_TUPLE, OP.EMPTY_DICT, OP.NONE, OP.TUPLE, OP.BUILD);
    const ctx = await scan(assemble(OP.PROTO, 2, memoized, OP.POP, factory, OP.POP, armed, OP.STOP));
    assert.match(messages(ctx, "MG101")[0] ?? "", /TrainingArguments/, JSON.stringify(ctx.reports));
  });
});

describe("a method shadowed by state (a fourth red team round)", () => {
  // IsotonicRegression.__setstate__ calls self._build_f(X_thresholds_, y_thresholds_): HunposTagger's __init__ starts a process.
  const isotonic = assemble(global("sklearn.isotonic", "IsotonicRegression"), OP.EMPTY_TUPLE, OP.NEWOBJ);
  const tagger = global("nltk.tag.hunpos", "HunposTagger");
  /** IsotonicRegression's state with `_build_f` set to `callee` (after `padding` pairs, when given). */
  const shadowing = (callee: Buffer, padding: Buffer[] = []) =>
    assemble(OP.EMPTY_DICT, OP.MARK, ...padding, str("_build_f"), callee, str("X_thresholds_"), str("model.pkl"), str("y_thresholds_"), str("/bin/sh"), OP.SETITEMS);
  const pastSample: Buffer[] = [];
  for (let i = 0; i < LIMITS.pickleContainerSample; i++) pastSample.push(str(`k${i}`), assemble(OP.NONE));
  const partialOf = (fn: Buffer) => reduce(global("functools", "partial"), assemble(fn, OP.TUPLE1));

  test("a class never to be called, stored as an attribute a __setstate__ calls, is MG101; in the sample or past it", async () => {
    // Reported once, when it went into the state dict, in the sample or past it.
    for (const padding of [[], pastSample]) {
      const found = messages(await scan(assemble(OP.PROTO, 2, isotonic, shadowing(tagger, padding), OP.BUILD, OP.STOP)), "MG101");
      assert.equal(found.length, 1, found.join("\n"));
      assert.match(found[0]!, /an item of a dict is or holds nltk\.tag\.hunpos\.HunposTagger, a class allowlisted to be constructed, never called/);
    }
    // A function allowlisted to be stored (a FunctionTransformer's numpy.clip) is an ordinary attribute, in the sample or past it.
    for (const padding of [[], pastSample]) {
      assert.deepEqual((await scan(assemble(OP.PROTO, 2, isotonic, shadowing(global("numpy", "clip"), padding), OP.BUILD, OP.STOP))).rules(), []);
    }
  });

  test("a partial or wrapped hook holding such a class is what the attribute calls: MG101, in the sample or past it (a fifth round)", async () => {
    const hook = assemble(global("torch.nn.modules.module", "_WrappedHook"), tagger, OP.TUPLE1, OP.NEWOBJ);
    for (const holder of [partialOf(tagger), hook]) {
      for (const padding of [[], pastSample]) {
        const ctx = await scan(assemble(OP.PROTO, 2, isotonic, shadowing(holder, padding), OP.BUILD, OP.STOP));
        // Reported when the holder took it (an eleventh round found other callers than a shadowed method).
        assert.match(messages(ctx, "MG101")[0] ?? "", /holds nltk\.tag\.hunpos\.HunposTagger, a class allowlisted to be constructed, never called/, JSON.stringify(ctx.reports));
      }
    }
    // A partial of an allowlisted function, as models store them (timm's norm layers), is an ordinary attribute.
    const norm = partialOf(global("torch.nn.modules.normalization", "LayerNorm"));
    assert.deepEqual((await scan(assemble(OP.PROTO, 2, isotonic, shadowing(norm), OP.BUILD, OP.STOP))).rules(), []);
  });

  test("a partial stored first and armed after is judged when armed: a second BUILD would call it", async () => {
    const stored = assemble(partialOf(global("torch.nn.modules.normalization", "LayerNorm")), OP.BINPUT, 1);
    const armed = assemble(OP.BINGET, 1, OP.MARK, tagger, OP.EMPTY_TUPLE, OP.EMPTY_DICT, OP.NONE, OP.TUPLE, OP.BUILD, OP.POP);
    const ctx = await scan(assemble(OP.PROTO, 2, isotonic, shadowing(stored), OP.BUILD, armed, OP.EMPTY_DICT, OP.BUILD, OP.STOP));
    assert.match(messages(ctx, "MG101")[0] ?? "", /LayerNorm,\) holds nltk\.tag\.hunpos\.HunposTagger/, JSON.stringify(ctx.reports));
  });

  test("a carrier stored as an attribute is MG107: a shadowed method would run it on arguments never seen", async () => {
    for (const carrier of [global("copyreg", "_reconstructor"), global("torch._tensor", "_rebuild_from_type_v2"), global("functools", "partial")]) {
      for (const padding of [[], pastSample]) {
        const ctx = await scan(assemble(OP.PROTO, 2, isotonic, shadowing(carrier, padding), OP.BUILD, OP.STOP));
        assert.match(messages(ctx, "MG107")[0] ?? "", /which calls or constructs what it is given/, JSON.stringify(ctx.reports));
      }
    }
    // A container type (which only iterates what it is given) is an ordinary attribute: a defaultdict's factory.
    assert.deepEqual((await scan(assemble(OP.PROTO, 2, isotonic, shadowing(global("builtins", "list")), OP.BUILD, OP.STOP))).rules(), []);
  });

  test("past the sample, more carriers than are kept is MG111: not all were checked", async () => {
    const many: Buffer[] = [...pastSample];
    for (let i = 0; i <= LIMITS.pickleContainerSample; i++) many.push(str(`p${i}`), partialOf(global("torch.nn.modules.normalization", "LayerNorm")));
    const ctx = await scan(assemble(OP.PROTO, 2, isotonic, shadowing(assemble(OP.NONE), many), OP.BUILD, OP.STOP));
    assert.deepEqual(ctx.rules(), ["MG111"], JSON.stringify(ctx.reports));
  });
});

describe("a __setstate__ planted through state a class's own __setstate__ takes", () => {
  test("functools.partial's namespace (the fourth item of its state) is read for its keys; its function is not a mapping", async () => {
    const key = reduce(global("builtins", "str"), assemble(OP.SHORT_BINBYTES, 12, "__setstate__", str("ascii"), OP.TUPLE2));
    const partial = reduce(global("functools", "partial"), assemble(global("builtins", "list"), OP.TUPLE1));
    const namespace = assemble(OP.EMPTY_DICT, key, HASH, OP.SETITEM);
    const planted = assemble(OP.PROTO, 2, partial, OP.MARK, global("builtins", "list"), OP.EMPTY_TUPLE, OP.EMPTY_DICT, namespace, OP.TUPLE, OP.BUILD, OP.STOP);
    assert.match(messages(await scan(planted), "MG106")[0] ?? "", /a key made at load time/);
    // torch 1.x pickles a partial of a layer class as BUILD (LayerNorm, (), {eps: 1e-6}, None).
    const layer = assemble(OP.PROTO, 2, partial, OP.MARK, global("torch.nn.modules.normalization", "LayerNorm"), OP.EMPTY_TUPLE, OP.EMPTY_DICT, str("eps"), OP.BINFLOAT, [0x3e, 0xb0, 0xc6, 0xf7, 0xa0, 0xb5, 0xed, 0x8d], OP.SETITEM, OP.NONE, OP.TUPLE, OP.BUILD, OP.STOP);
    assert.deepEqual((await scan(layer)).rules(), []);
  });
});

describe("state a __setstate__ executes (SciPy's _parse_arg_template)", () => {
  const EVIL = "\nopen('/tmp/x','w')\n";
  const norm = global("scipy.stats._continuous_distns", "norm_gen");
  const evilState = assemble(OP.EMPTY_DICT, str("_parse_arg_template"), assemble(OP.BINUNICODE, [EVIL.length, 0, 0, 0], EVIL), OP.SETITEM);

  test("an object made through copyreg's reconstructors is held to its class's guard", async () => {
    for (const made of [
      reduce(global("copyreg", "__newobj__"), assemble(norm, OP.TUPLE1)),
      reduce(global("copyreg", "_reconstructor"), assemble(norm, global("builtins", "object"), OP.NONE, OP.TUPLE3)),
    ]) {
      const ctx = await scan(assemble(OP.PROTO, 2, made, evilState, OP.BUILD, OP.STOP));
      assert.match(messages(ctx, "MG125")[0] ?? "", /BUILD restores scipy\.stats\._continuous_distns\.norm_gen, but its _parse_arg_template/, JSON.stringify(ctx.reports));
    }
  });

  test("numpy.object_(x) is x: a distribution so wrapped is held to its guard (red team round 32)", async () => {
    const wrapped = reduce(global("numpy", "object_"), assemble(norm, OP.EMPTY_TUPLE, OP.NEWOBJ, OP.TUPLE1));
    const ctx = await scan(assemble(OP.PROTO, 2, wrapped, evilState, OP.BUILD, OP.STOP));
    assert.match(messages(ctx, "MG125")[0] ?? "", /BUILD restores scipy\.stats\._continuous_distns\.norm_gen, but its _parse_arg_template/, JSON.stringify(ctx.reports));
    // A Pillow image so wrapped is held to its own guard.
    const image = reduce(global("numpy", "object_"), assemble(global("PIL.Image", "Image"), OP.EMPTY_TUPLE, OP.NEWOBJ, OP.TUPLE1));
    const oversized = assemble(OP.MARK, OP.EMPTY_DICT, str("RGBA"), OP.BININT2, [0xff, 0xff], OP.BININT2, [0xff, 0xff], OP.TUPLE2, OP.NONE, OP.SHORT_BINBYTES, 4, "abcd", OP.LIST);
    assert.match(messages(await scan(assemble(OP.PROTO, 2, image, oversized, OP.BUILD, OP.STOP)), "MG109")[0] ?? "", /BUILD restores PIL\.Image\.Image, but its size 65535 × 65535/);
  });

  test("a template planted by torch's _set_obj_state is held to the guard, on a known object or an unknown one", async () => {
    const made = assemble(norm, OP.EMPTY_TUPLE, OP.NEWOBJ);
    const known = reduce(global("torch._utils", "_set_obj_state"), assemble(made, evilState, OP.TUPLE2));
    assert.match(messages(await scan(assemble(OP.PROTO, 2, known, OP.STOP)), "MG125")[0] ?? "", /_set_obj_state sets attributes of scipy\.stats\._continuous_distns\.norm_gen/);
    // An object a function made from the distribution class: its class is not one the scanner can name.
    const byFunction = reduce(global("dill._dill", "_create_array"), assemble(OP.MARK, global("copyreg", "__newobj__"), norm, OP.TUPLE1, OP.EMPTY_DICT, OP.NONE, OP.TUPLE));
    const unknown = reduce(global("torch._utils", "_set_obj_state"), assemble(byFunction, evilState, OP.TUPLE2));
    const onUnknown = messages(await scan(assemble(OP.PROTO, 2, unknown, OP.STOP)), "MG125");
    assert.ok(onUnknown.some((m) => /_set_obj_state sets attributes of an object of a class the scanner cannot tell \(it may be a SciPy distribution\)/.test(m)), JSON.stringify(onUnknown));
    // An array names no distribution in what made it: the attribute it gets executes nothing.
    const array = reduce(global("numpy.core.multiarray", "_reconstruct"), assemble(global("numpy", "ndarray"), OP.BININT1, 0, OP.TUPLE1, OP.SHORT_BINBYTES, 1, "b", OP.TUPLE3));
    const onArray = reduce(global("torch._utils", "_set_obj_state"), assemble(array, evilState, OP.TUPLE2));
    assert.deepEqual(messages(await scan(assemble(OP.PROTO, 2, onArray, OP.STOP)), "MG125"), []);
  });

  test("a Parameter torch rebuilds with attributes is no distribution: transformers marks every parameter it loads _is_hf_initialized", async () => {
    const tensor = reduce(global("torch._utils", "_rebuild_tensor_v2"), assemble(OP.MARK, str("storage"), OP.BINPERSID, OP.BININT1, 0, OP.BININT1, 2, OP.TUPLE1, OP.BININT1, 1, OP.TUPLE1, OP.NEWFALSE, reduce(global("collections", "OrderedDict"), assemble(OP.EMPTY_TUPLE)), OP.TUPLE));
    const marked = assemble(OP.EMPTY_DICT, str("_is_hf_initialized"), OP.NEWTRUE, OP.SETITEM);
    const parameter = reduce(global("torch._utils", "_rebuild_parameter_with_state"), assemble(OP.MARK, tensor, OP.NEWFALSE, reduce(global("collections", "OrderedDict"), assemble(OP.EMPTY_TUPLE)), marked, OP.TUPLE));
    assert.deepEqual((await scan(assemble(OP.PROTO, 2, parameter, OP.STOP))).rules(), []);
  });

  test("state handed to a result's __setstate__ (dill's _create_array, torch's _rebuild_from_type_v2) is guarded when a SciPy distribution made it", async () => {
    const viaDill = reduce(global("dill._dill", "_create_array"), assemble(OP.MARK, global("copyreg", "__newobj__"), norm, OP.TUPLE1, evilState, OP.NONE, OP.TUPLE));
    // What it hands the state to is what its function makes of its arguments: here a norm_gen, named.
    assert.match(messages(await scan(assemble(OP.PROTO, 2, viaDill, OP.STOP)), "MG125")[0] ?? "", /_create_array hands __setstate__ of scipy\.stats\._continuous_distns\.norm_gen, but/);
    // jax's _reconstruct_array hands it to NumPy's _reconstruct's array: no distribution, whatever dtype the array state names.
    const bfloat16 = reduce(global("numpy", "dtype"), assemble(global("ml_dtypes", "bfloat16"), OP.NEWFALSE, OP.NEWTRUE, OP.TUPLE3));
    const arrayState = assemble(OP.MARK, OP.BININT1, 1, OP.BININT1, 2, OP.TUPLE1, bfloat16, OP.NEWFALSE, OP.SHORT_BINBYTES, 4, "\0\0\0\0", OP.TUPLE);
    const reconstruct = assemble(global("numpy._core.multiarray", "_reconstruct"), global("numpy", "ndarray"), OP.BININT1, 0, OP.TUPLE1, OP.SHORT_BINBYTES, 1, "b", OP.TUPLE3);
    const jaxArray = reduce(global("jax._src.array", "_reconstruct_array"), assemble(OP.MARK, reconstruct, arrayState, OP.EMPTY_DICT, OP.TUPLE));
    assert.deepEqual(messages(await scan(assemble(OP.PROTO, 2, jaxArray, OP.STOP)), "MG125"), []);
    const jaxDistribution = reduce(global("jax._src.array", "_reconstruct_array"), assemble(OP.MARK, global("copyreg", "__newobj__"), norm, OP.TUPLE1, evilState, OP.EMPTY_DICT, OP.TUPLE));
    assert.match(messages(await scan(assemble(OP.PROTO, 2, jaxDistribution, OP.STOP)), "MG125")[0] ?? "", /_reconstruct_array hands __setstate__ of scipy\.stats\._continuous_distns\.norm_gen, but/);
    // The state as a mapping built at load time from plain pairs: its keys cannot be held to the guard.
    const pairs = assemble(OP.EMPTY_LIST, str("_parse_arg_template"), str("\nopen('/tmp/x','w')\n"), OP.TUPLE2, OP.APPEND);
    const dictState = reduce(global("builtins", "dict"), assemble(pairs, OP.TUPLE1));
    const viaTorch = reduce(global("torch._tensor", "_rebuild_from_type_v2"), assemble(OP.MARK, global("copyreg", "__newobj__"), norm, norm, OP.TUPLE1, dictState, OP.TUPLE));
    assert.match(messages(await scan(assemble(OP.PROTO, 2, viaTorch, OP.STOP)), "MG125")[0] ?? "", /its state is not a dict/);
    // A tensor subclass rebuilt the usual way names no distribution: its state is not held to the guard.
    const tensor = reduce(global("torch._tensor", "_rebuild_from_type_v2"), assemble(OP.MARK, global("builtins", "list"), global("torch.nn.parameter", "Parameter"), OP.EMPTY_TUPLE, dictState, OP.TUPLE));
    assert.deepEqual(messages(await scan(assemble(OP.PROTO, 2, tensor, OP.STOP)), "MG125"), []);
    // Its result is an object of the class it is given: a MaskedTensor, whose state holds tensors
    // nested past what guardReachable follows, is known not to be a distribution.
    const masked = global("torch.masked.maskedtensor.core", "MaskedTensor");
    const data = reduce(global("torch._utils", "_rebuild_tensor_v2"), assemble(OP.MARK, str("storage"), OP.BINPERSID, OP.BININT1, 0, OP.BININT1, 2, OP.TUPLE1, OP.BININT1, 1, OP.TUPLE1, OP.NEWFALSE, reduce(global("collections", "OrderedDict"), assemble(OP.EMPTY_TUPLE)), OP.TUPLE));
    const state = assemble(OP.EMPTY_DICT, str("_masked_data"), data, OP.SETITEM);
    const wrapper = assemble(OP.MARK, masked, global("torch", "float32"), OP.BININT1, 2, OP.TUPLE1, OP.BININT1, 1, OP.TUPLE1, OP.BININT1, 0, global("torch", "strided"), OP.NEWFALSE, OP.TUPLE);
    const maskedTensor = reduce(global("torch._tensor", "_rebuild_from_type_v2"), assemble(OP.MARK, global("torch._utils", "_rebuild_wrapper_subclass"), masked, wrapper, state, OP.TUPLE));
    assert.deepEqual(messages(await scan(assemble(OP.PROTO, 2, maskedTensor, OP.STOP)), "MG125"), []);
    // Given a distribution's class to be, it is held to the guard like a BUILD of one.
    const asDistribution = reduce(global("torch._tensor", "_rebuild_from_type_v2"), assemble(OP.MARK, global("copyreg", "__newobj__"), norm, norm, OP.TUPLE1, evilState, OP.TUPLE));
    assert.match(messages(await scan(assemble(OP.PROTO, 2, asDistribution, OP.STOP)), "MG125")[0] ?? "", /scipy\.stats\._continuous_distns\.norm_gen, but its _parse_arg_template/);
  });

  test("a BUILD that does not set the template is MG125: __setstate__ would execute whatever the object holds", async () => {
    const made = assemble(norm, OP.EMPTY_TUPLE, OP.NEWOBJ);
    assert.match(messages(await scan(assemble(OP.PROTO, 2, made, OP.EMPTY_DICT, OP.BUILD, OP.STOP)), "MG125")[0] ?? "", /does not set _parse_arg_template/);
    // Taken back out of a set by set.pop: the walk looks into sets as into lists.
    const set = assemble(OP.EMPTY_SET, OP.MARK, made, OP.ADDITEMS);
    const pop = reduce(global("builtins", "getattr"), assemble(global("builtins", "set"), str("pop"), OP.TUPLE2));
    const popped = assemble(pop, set, OP.TUPLE1, OP.REDUCE);
    assert.match(messages(await scan(assemble(OP.PROTO, 4, popped, evilState, OP.BUILD, OP.STOP)), "MG125")[0] ?? "", /a class the scanner cannot tell/);
  });

  test("state functions that bypass __setstate__ only set attributes of the arrays and tensors they exist for: a Booster's _handle is MG107", async () => {
    // Booster.__setstate__ builds _handle from the model text; set directly, __del__ frees whatever address it holds.
    const booster = assemble(global("lightgbm.basic", "Booster"), OP.EMPTY_TUPLE, OP.NEWOBJ);
    const handle = assemble(OP.EMPTY_DICT, str("_handle"), OP.BININT, [0x40, 0x41, 0x41, 0x41], OP.SETITEM);
    const viaTorch = reduce(global("torch._utils", "_set_obj_state"), assemble(booster, handle, OP.TUPLE2));
    assert.match(messages(await scan(assemble(OP.PROTO, 2, viaTorch, OP.STOP)), "MG107")[0] ?? "", /_set_obj_state sets attributes past the own __setstate__/);
    const viaDill = reduce(global("dill._dill", "_create_array"), assemble(OP.MARK, global("copyreg", "__newobj__"), global("lightgbm.basic", "Booster"), OP.TUPLE1, OP.NONE, handle, OP.TUPLE));
    assert.match(messages(await scan(assemble(OP.PROTO, 2, viaDill, OP.STOP)), "MG107")[0] ?? "", /_create_array sets attributes past the own __setstate__/);
    // torch's _rebuild_from_type_v2 sets state on what func makes when it already is `type` (a seventh round's lead).
    const viaFromType = reduce(global("torch._tensor", "_rebuild_from_type_v2"), assemble(OP.MARK, global("copyreg", "__newobj__"), global("lightgbm.basic", "Booster"), global("lightgbm.basic", "Booster"), OP.TUPLE1, handle, OP.TUPLE));
    assert.match(messages(await scan(assemble(OP.PROTO, 2, viaFromType, OP.STOP)), "MG107")[0] ?? "", /_rebuild_from_type_v2 sets attributes past the own __setstate__/);
    // dill's own arrays: _create_array(_reconstruct, …) with the array's attributes.
    const array = reduce(global("dill._dill", "_create_array"), assemble(OP.MARK, global("numpy._core.multiarray", "_reconstruct"), assemble(global("numpy", "ndarray"), OP.BININT1, 0, OP.TUPLE1, OP.SHORT_BINBYTES, 1, "b", OP.TUPLE3), OP.NONE, OP.EMPTY_DICT, OP.TUPLE));
    assert.deepEqual(messages(await scan(assemble(OP.PROTO, 2, array, OP.STOP)), "MG107"), []);
  });

  test("_set_obj_state on an imported class is MG106, as BUILD on one is", async () => {
    const patch = reduce(global("torch._utils", "_set_obj_state"), assemble(global("torch.nn.modules.linear", "Linear"), OP.EMPTY_DICT, str("forward"), global("torch.nn.functional", "relu"), OP.SETITEM, OP.TUPLE2));
    assert.match(messages(await scan(assemble(OP.PROTO, 2, patch, OP.STOP)), "MG106")[0] ?? "", /sets attributes on the imported object torch\.nn\.modules\.linear\.Linear/);
  });
});

describe("joblib: whether an array's bytes are an inline pickle is the dtype's hasobject", () => {
  /** A NumpyArrayWrapper of 3 elements of `dtype`, its bytes (`data`), then posix.system("id"). */
  const wrapped = (dtype: Buffer, data: Buffer): Buffer => {
    const state = assemble(OP.EMPTY_DICT, OP.MARK, str("shape"), OP.BININT1, 3, OP.TUPLE1, str("dtype"), dtype, str("order"), str("C"), OP.SETITEMS);
    const wrapper = assemble(global("joblib.numpy_pickle", "NumpyArrayWrapper"), OP.EMPTY_TUPLE, OP.NEWOBJ, state, OP.BUILD);
    return assemble(OP.PROTO, 2, wrapper, data, OP.POP, global("posix", "system"), str("id"), OP.TUPLE1, OP.REDUCE, OP.STOP);
  };
  const dtype = (typestr: string, state?: { elsize: number; flags: number }): Buffer => {
    const made = assemble(global("numpy", "dtype"), str(typestr), OP.NEWFALSE, OP.NEWTRUE, OP.TUPLE3, OP.REDUCE);
    if (!state) return made;
    const s = assemble(OP.MARK, OP.BININT1, 3, str("|"), OP.NONE, OP.NONE, OP.NONE, OP.BININT, [state.elsize, 0, 0, 0], OP.BININT, [0xff, 0xff, 0xff, 0xff], OP.BININT1, state.flags, OP.TUPLE);
    return assemble(made, s, OP.BUILD);
  };
  /** An inline pickle of builtins.exec("x"): what joblib unpickles for an array with objects. */
  const inline = assemble(OP.PROTO, 2, global("builtins", "exec"), str("x"), OP.TUPLE1, OP.REDUCE, OP.STOP);

  test("'|O8' (NumPy's own spelling) and a BUILD that sets the hasobject flag both make the bytes a pickle", async () => {
    for (const d of [dtype("|O8"), dtype("V8", { elsize: 8, flags: 0x01 }), dtype("f8", { elsize: -1, flags: 0x3f })]) {
      const ctx = await scan(wrapped(d, inline));
      assert.ok(messages(ctx, "MG100").some((m) => /builtins\.exec/.test(m)), JSON.stringify(ctx.reports));
    }
  });

  test("a flexible dtype's item size is the one its BUILD sets: the raw bytes are skipped exactly", async () => {
    // 'V8' rebuilt with an item size of 16 (a structured dtype written by NumPy says 'V<size>' and the same size).
    const ctx = await scan(wrapped(dtype("V8", { elsize: 16, flags: 0 }), Buffer.alloc(48, 0xff)));
    assert.deepEqual(ctx.rules(), ["MG100"], JSON.stringify(ctx.reports));
    const sized = await scan(wrapped(dtype("V16", { elsize: 16, flags: 0x10 }), Buffer.alloc(48, 0xff)));
    assert.deepEqual(sized.rules(), ["MG100"]);
  });

  test("the wrapper's state is read as the dict it is: the last of a repeated key, padding only when not None", async () => {
    // Two "dtype" keys: CPython keeps the last (objects), so the bytes are an inline pickle.
    const repeated = (first: Buffer, last: Buffer, data: Buffer): Buffer => {
      const state = assemble(OP.EMPTY_DICT, OP.MARK, str("dtype"), first, str("shape"), OP.BININT1, 3, OP.TUPLE1, str("dtype"), last, str("order"), str("C"), OP.SETITEMS);
      const wrapper = assemble(global("joblib.numpy_pickle", "NumpyArrayWrapper"), OP.EMPTY_TUPLE, OP.NEWOBJ, state, OP.BUILD);
      return assemble(OP.PROTO, 2, wrapper, data, OP.POP, OP.NONE, OP.STOP);
    };
    const ctx = await scan(repeated(dtype("f8"), dtype("O8"), inline));
    assert.ok(messages(ctx, "MG100").some((m) => /builtins\.exec/.test(m)), JSON.stringify(ctx.reports));
    // numpy_array_alignment_bytes = None: joblib reads no padding byte, so the array's bytes start at once.
    const state = assemble(OP.EMPTY_DICT, OP.MARK, str("shape"), OP.BININT1, 1, OP.TUPLE1, str("dtype"), dtype("u1"), str("order"), str("C"), str("numpy_array_alignment_bytes"), OP.NONE, OP.SETITEMS);
    const wrapper = assemble(global("joblib.numpy_pickle", "NumpyArrayWrapper"), OP.EMPTY_TUPLE, OP.NEWOBJ, state, OP.BUILD);
    const aligned = await scan(assemble(OP.PROTO, 2, wrapper, Buffer.from([0x00]), OP.POP, global("posix", "system"), str("id"), OP.TUPLE1, OP.REDUCE, OP.STOP));
    assert.deepEqual(aligned.rules(), ["MG100"], JSON.stringify(aligned.reports));
    // A key made at load time could be "dtype": not followed.
    const madeKey = reduce(global("builtins", "str"), assemble(OP.SHORT_BINBYTES, 5, "dtype", str("ascii"), OP.TUPLE2));
    const odd = assemble(OP.EMPTY_DICT, OP.MARK, str("shape"), OP.BININT1, 1, OP.TUPLE1, str("dtype"), dtype("u1"), madeKey, dtype("O8"), OP.SETITEMS);
    const withKey = assemble(OP.PROTO, 2, global("joblib.numpy_pickle", "NumpyArrayWrapper"), OP.EMPTY_TUPLE, OP.NEWOBJ, odd, OP.BUILD, OP.STOP);
    assert.match(messages(await scan(withKey), "MG112")[0] ?? "", /a key made at load time/);
  });

  /** A wrapper of `n` uint8 elements made by `make` (NEWOBJ of the class, or a copyreg function given it), its BUILD, then `after`. */
  const bytesWrapper = (n: number, after: Buffer, make?: Buffer): Buffer => {
    const state = assemble(OP.EMPTY_DICT, OP.MARK, str("shape"), OP.BININT1, n, OP.TUPLE1, str("dtype"), dtype("u1"), str("order"), str("C"), OP.SETITEMS);
    const cls = global("joblib.numpy_pickle", "NumpyArrayWrapper");
    const made = make ? reduce(make, assemble(cls, OP.TUPLE1)) : assemble(cls, OP.EMPTY_TUPLE, OP.NEWOBJ);
    return assemble(OP.PROTO, 2, made, state, OP.BUILD, after);
  };
  /** POP, posix.system("id"), POP: nine-and-more bytes that pickle.load runs where joblib reads an array. */
  const payload = assemble(OP.POP, global("posix", "system"), str("id"), OP.TUPLE1, OP.REDUCE, OP.POP);

  test("the bytes joblib reads as an array are opcodes to pickle.load, torch.load and numpy.load: a payload there is MG131 (red team round 22)", async () => {
    const ctx = await scan(bytesWrapper(payload.length, assemble(payload, OP.STOP)));
    assertSome(messages(ctx, "MG131"), /are opcodes to pickle\.load.*imports posix\.system/);
    // An object's own method, handed items (APPEND on the wrapper the BUILD left on the stack), runs as surely.
    const appended = await scan(bytesWrapper(3, assemble(OP.NONE, OP.APPEND, OP.NONE, OP.POP, OP.STOP)));
    assertSome(messages(appended, "MG131"), /append or extend/);
    // A list indexed by an object: CPython calls its __index__ (red team round 27's idea). The wrapper is that object.
    const indexed = assemble(OP.EMPTY_LIST, OP.NONE, OP.APPEND, OP.MARK, OP.BINGET, 0, OP.NONE, OP.SETITEMS, OP.POP, OP.POP);
    const memoWrapper = assemble(OP.PROTO, 2, global("joblib.numpy_pickle", "NumpyArrayWrapper"), OP.EMPTY_TUPLE, OP.NEWOBJ, OP.BINPUT, 0);
    const listState = assemble(OP.EMPTY_DICT, OP.MARK, str("shape"), OP.BININT1, indexed.length, OP.TUPLE1, str("dtype"), dtype("u1"), str("order"), str("C"), OP.SETITEMS);
    assertSome(messages(await scan(assemble(memoWrapper, listState, OP.BUILD, indexed, OP.STOP)), "MG131"), /__index__/);
    // A module file need not be named like an identifier (red team round 29: _sysconfigdata__linux_x86_64-linux-gnu).
    const dashed = assemble(OP.GLOBAL, "_sysconfigdata__linux_x86_64-linux-gnu\nbuild_time_vars\n", OP.POP, payload);
    assertSome(messages(await scan(bytesWrapper(dashed.length, assemble(dashed, OP.STOP))), "MG131"), /imports _sysconfigdata__linux_x86_64-linux-gnu\.build_time_vars/);
    // READONLY_BUFFER makes a view of the bytes on top and goes on (red team round 28): not a failure.
    const viewed = assemble(OP.SHORT_BINBYTES, 0, OP.READONLY_BUFFER, OP.POP, payload);
    assertSome(messages(await scan(bytesWrapper(viewed.length, assemble(viewed, OP.STOP))), "MG131"), /imports posix\.system/);
    // A STOP first, then a whole pickle: what pickle.load in a loop reads next (P8).
    const second = assemble(OP.STOP, OP.PROTO, 2, global("posix", "system"), str("id"), OP.TUPLE1, OP.REDUCE, OP.STOP);
    assertSome(messages(await scan(bytesWrapper(second.length, assemble(second, OP.NONE, OP.STOP))), "MG131"), /imports posix\.system/);
  });

  test("the C reading passes what CPython passes: an empty batch on any value, BUILD of no state on a builtin value, SETITEM on a bytearray (red team round 31)", async () => {
    const leads: [string, Buffer][] = [
      ["empty APPENDS on None", assemble(OP.NONE, OP.MARK, OP.APPENDS, OP.POP)],
      ["empty SETITEMS on None", assemble(OP.NONE, OP.MARK, OP.SETITEMS, OP.POP)],
      ["empty ADDITEMS on None", assemble(OP.NONE, OP.MARK, OP.ADDITEMS, OP.POP)],
      ["BUILD None on None", assemble(OP.NONE, OP.NONE, OP.BUILD, OP.POP)],
      ["BUILD (None, None) on an int", assemble(OP.BININT1, 1, OP.NONE, OP.NONE, OP.TUPLE2, OP.BUILD, OP.POP)],
      ["SETITEM on a bytearray", assemble(OP.BYTEARRAY8, u64(1n), "x", OP.BININT1, 0, OP.BININT1, 5, OP.SETITEM, OP.POP)],
    ];
    for (const [what, lead] of leads) {
      const bytes = assemble(lead, payload);
      assertSome(messages(await scan(bytesWrapper(bytes.length, assemble(bytes, OP.STOP))), "MG131"), /imports posix\.system/, what);
    }
    // What fails in CPython ends the walk: items for None, a dict state for None, an item past a bytearray's bytes the walk cannot tell (it goes on).
    const failing: [string, Buffer][] = [
      ["APPENDS of an item on None", assemble(OP.NONE, OP.MARK, OP.NONE, OP.APPENDS, OP.POP)],
      ["BUILD of a dict on None", assemble(OP.NONE, OP.EMPTY_DICT, OP.BUILD, OP.POP)],
      ["SETITEM on a str", assemble(str("ab"), OP.BININT1, 0, OP.BININT1, 5, OP.SETITEM, OP.POP)],
    ];
    for (const [what, lead] of failing) {
      const bytes = assemble(lead, payload);
      assert.deepEqual(messages(await scan(bytesWrapper(bytes.length, assemble(bytes, OP.STOP))), "MG131"), [], what);
    }
    // An object's __index__ gives a bytearray its item.
    const indexed = assemble(OP.BYTEARRAY8, u64(1n), "x", OP.BININT1, 0, global("posix", "getpid"), OP.SETITEM, OP.POP);
    assertSome(messages(await scan(bytesWrapper(indexed.length, assemble(indexed, OP.STOP))), "MG131"), /imports posix\.getpid/);
  });

  test("the C reading's MEMOIZE keys cost the same however many come before: 100,000 of them take well under a second of CPU, not minutes", async () => {
    const memoized = assemble(OP.NONE, Buffer.alloc(100_000, OP.MEMOIZE), OP.POP, OP.STOP);
    const started = process.cpuUsage();
    await scan(bytesWrapper(1, memoized));
    const used = process.cpuUsage(started);
    assert.ok(used.user + used.system < 10_000_000, `${(used.user + used.system) / 1e6} s of CPU`);
  });

  test("the C reading types values as CPython does: Python 2 strings are str, a memo placeholder may be any str (red team round 25)", async () => {
    // SHORT_BINSTRING operands: pickle.load, torch.load and numpy.load decode them to str for STACK_GLOBAL.
    const binstring = assemble(OP.POP, OP.SHORT_BINSTRING, 5, "posix", OP.SHORT_BINSTRING, 6, "system", OP.STACK_GLOBAL, str("id"), OP.TUPLE1, OP.REDUCE, OP.POP);
    assertSome(messages(await scan(bytesWrapper(binstring.length, assemble(binstring, OP.STOP))), "MG131"), /imports a name given as two strings/);
    // A name memoized past the memo's retention bound is kept as a placeholder, which may be the dotted name protocol 4 resolves.
    const n = LIMITS.pickleMemoRetainAll + 10;
    const name = `path.${"os.path.".repeat(40)}os.system`;
    const fill = assemble(OP.NONE, Buffer.alloc(n, OP.MEMOIZE), OP.POP, OP.BINUNICODE, u32(name.length), name, OP.MEMOIZE, OP.POP);
    const fetch = assemble(OP.POP, str("os"), OP.LONG_BINGET, u32(n), OP.STACK_GLOBAL, str("id"), OP.TUPLE1, OP.REDUCE, OP.POP);
    const state = assemble(OP.EMPTY_DICT, OP.MARK, str("shape"), OP.BININT1, fetch.length, OP.TUPLE1, str("dtype"), dtype("u1"), str("order"), str("C"), OP.SETITEMS);
    const placeholder = assemble(OP.PROTO, 4, fill, global("joblib.numpy_pickle", "NumpyArrayWrapper"), OP.EMPTY_TUPLE, OP.NEWOBJ, state, OP.BUILD, fetch, OP.STOP);
    assertSome(messages(await scan(placeholder), "MG131"), /imports a name given as two strings/);
  });

  test("an inline array pickle is also read as other loaders run it, in the outer unpickler: its MEMOIZE keys and GETs mean outer values (red team round 25)", async () => {
    // The outer stream memoizes 'os' and 'system' at 0 and 1; the inline one memoizes 'builtins' and 'list', which
    // joblib's fresh unpickler stores at 0 and 1 too, but pickle.load at 2 and 3: its BINGET 0 and 1 are os.system.
    const outer = assemble(str("os"), OP.MEMOIZE, str("system"), OP.MEMOIZE, OP.TUPLE2, OP.POP);
    const state = assemble(OP.EMPTY_DICT, OP.MARK, str("shape"), OP.BININT1, 1, OP.TUPLE1, str("dtype"), dtype("O8"), str("order"), str("C"), OP.SETITEMS);
    const wrapper = assemble(global("joblib.numpy_pickle", "NumpyArrayWrapper"), OP.EMPTY_TUPLE, OP.NEWOBJ, state, OP.BUILD);
    const inline = assemble(OP.PROTO, 4, str("builtins"), OP.MEMOIZE, str("list"), OP.MEMOIZE, OP.POP, OP.POP, OP.BINGET, 0, OP.BINGET, 1, OP.STACK_GLOBAL, str("id"), OP.TUPLE1, OP.REDUCE, OP.STOP);
    const ctx = await scan(assemble(OP.PROTO, 4, outer, wrapper, inline, OP.POP, OP.NONE, OP.STOP));
    assertSome(messages(ctx, "MG100"), /as pickle\.load, torch\.load and numpy\.load read an inline array pickle .*posix\.system|os\.system/);
    // Read with its own memo, as joblib reads it, the same inline pickle calls list(): nothing else is reported.
    assert.deepEqual(ctx.rules().filter((r) => r !== "MG100"), [], JSON.stringify(ctx.reports));
    // A name made at load time in the outer stream (str('os')) is a dynamic import in that reading (red team round 28).
    const made = assemble(global("builtins", "str"), str("os"), OP.TUPLE1, OP.REDUCE, OP.MEMOIZE, str("system"), OP.MEMOIZE, OP.TUPLE2, OP.POP);
    const dynamic = await scan(assemble(OP.PROTO, 4, made, wrapper, inline, OP.POP, OP.NONE, OP.STOP));
    assertSome(messages(dynamic, "MG103"), /as pickle\.load, torch\.load and numpy\.load read an inline array pickle .*not a constant string/);
    // Unknown names from any module (red team round 30: multiprocess, _testcapi), unless only the module was swapped at
    // an opcode that imported the same name in joblib's reading (numpy.dtype there, DataFrame.dtype here).
    const other = assemble(str("multiprocess.util"), OP.MEMOIZE, str("spawnv_passfds"), OP.MEMOIZE, OP.TUPLE2, OP.POP);
    assertSome(messages(await scan(assemble(OP.PROTO, 4, other, wrapper, inline, OP.POP, OP.NONE, OP.STOP)), "MG101"), /read an inline array pickle .*multiprocess\.util\.spawnv_passfds/);
    const swapped = assemble(OP.PROTO, 4, str("numpy"), OP.MEMOIZE, OP.POP, OP.BINGET, 0, str("dtype"), OP.STACK_GLOBAL, str("f8"), OP.TUPLE1, OP.REDUCE, OP.STOP);
    const frame = await scan(assemble(OP.PROTO, 4, str("DataFrame"), OP.MEMOIZE, OP.POP, wrapper, swapped, OP.POP, OP.NONE, OP.STOP));
    assert.deepEqual(frame.rules(), [], JSON.stringify(frame.reports));
    // A submodule swapped in at such an opcode is no failed import (red team round 31: mako.template.Template where
    // joblib's reading imports nltk's Template), nor is a module installed where models are made (multiprocess).
    const dotted = assemble(OP.PROTO, 4, str("nltk.tbl.template"), OP.MEMOIZE, OP.POP, OP.BINGET, 0, str("Template"), OP.STACK_GLOBAL, str("x"), OP.TUPLE1, OP.REDUCE, OP.STOP);
    assertSome(messages(await scan(assemble(OP.PROTO, 4, str("mako.template"), OP.MEMOIZE, OP.POP, wrapper, dotted, OP.POP, OP.NONE, OP.STOP)), "MG101"), /read an inline array pickle .*mako\.template\.Template/);
    const pool = assemble(OP.PROTO, 4, str("numpy"), OP.MEMOIZE, OP.POP, OP.BINGET, 0, str("dtype"), OP.STACK_GLOBAL, str("f8"), OP.TUPLE1, OP.REDUCE, OP.STOP);
    assertSome(messages(await scan(assemble(OP.PROTO, 4, str("multiprocess"), OP.MEMOIZE, OP.POP, wrapper, pool, OP.POP, OP.NONE, OP.STOP)), "MG101"), /read an inline array pickle .*multiprocess\.dtype/);
    // A module that makes any name a callable may be installed anywhere (red team round 32: sh.time runs /usr/bin/time):
    // only the names legitimate files import so are let pass (datetime's time is allowlisted; numpy's dtype is one of them).
    const timed = assemble(OP.PROTO, 4, str("datetime"), OP.MEMOIZE, OP.POP, OP.BINGET, 0, str("time"), OP.STACK_GLOBAL, str("x"), OP.TUPLE1, OP.REDUCE, OP.STOP);
    assertSome(messages(await scan(assemble(OP.PROTO, 4, str("sh"), OP.MEMOIZE, OP.POP, wrapper, timed, OP.POP, OP.NONE, OP.STOP)), "MG101"), /read an inline array pickle .*sh\.time/);
    // Only the modules legitimate files swap in pass, whatever the name: a module shipped beside the model (red team
    // round 34: mg_helpers.py, imported as mg_helpers.dtype) is any module.
    assertSome(messages(await scan(assemble(OP.PROTO, 4, str("mg_helpers"), OP.MEMOIZE, OP.POP, wrapper, swapped, OP.POP, OP.NONE, OP.STOP)), "MG101"), /read an inline array pickle .*mg_helpers\.dtype/);
    for (const module of ["subclass", "LabelEncoder"]) {
      assert.deepEqual((await scan(assemble(OP.PROTO, 4, str(module), OP.MEMOIZE, OP.POP, wrapper, swapped, OP.POP, OP.NONE, OP.STOP))).rules(), [], module);
    }
    // joblib's wrapper module, first in every joblib file's memo, has no scalar: numpy's scalar rebuilder read from it fails
    // (a fifth precision measurement: joblib dumps of object arrays of NumPy scalars). A name it has is reported.
    const wrapperFirst = assemble(str("joblib.numpy_pickle"), OP.MEMOIZE, OP.POP);
    const rebuilt = (name: string): Buffer => assemble(OP.PROTO, 4, str("numpy.core.multiarray"), OP.MEMOIZE, OP.POP, OP.BINGET, 0, str(name), OP.STACK_GLOBAL, OP.POP, OP.NONE, OP.STOP);
    assert.deepEqual((await scan(assemble(OP.PROTO, 4, wrapperFirst, wrapper, rebuilt("scalar"), OP.POP, OP.NONE, OP.STOP))).rules(), []);
    assertSome(messages(await scan(assemble(OP.PROTO, 4, wrapperFirst, wrapper, rebuilt("_reconstruct"), OP.POP, OP.NONE, OP.STOP)), "MG100"), /read an inline array pickle .*joblib\.numpy_pickle\._reconstruct/);
    // A dict read as a module is no str: STACK_GLOBAL fails on it.
    const dictFirst = assemble(OP.EMPTY_DICT, OP.MEMOIZE, OP.POP);
    assert.deepEqual((await scan(assemble(OP.PROTO, 4, dictFirst, wrapper, rebuilt("scalar"), OP.POP, OP.NONE, OP.STOP))).rules(), []);
    // numpy.object_('os') is the str 'os': an import of it is as dynamic as one of str('os') (red team round 32).
    const objectMade = assemble(global("numpy", "object_"), str("os"), OP.TUPLE1, OP.REDUCE, OP.MEMOIZE, str("system"), OP.MEMOIZE, OP.TUPLE2, OP.POP);
    assertSome(messages(await scan(assemble(OP.PROTO, 4, objectMade, wrapper, inline, OP.POP, OP.NONE, OP.STOP)), "MG103"), /read an inline array pickle .*not a constant string/);
    // Unknown names from any module Python imports where models load (red team round 29: the standard library's _bootsubprocess).
    const boot = assemble(str("_bootsubprocess"), OP.MEMOIZE, str("check_output"), OP.MEMOIZE, OP.TUPLE2, OP.POP);
    assertSome(messages(await scan(assemble(OP.PROTO, 4, boot, wrapper, inline, OP.POP, OP.NONE, OP.STOP)), "MG101"), /read an inline array pickle .*_bootsubprocess\.check_output/);
    // State a SciPy distribution executes, fetched from the outer memo by the inline stream's BUILD (red team round 29).
    const template = assemble(OP.EMPTY_DICT, str("_parse_arg_template"), str("import os"), OP.SETITEM, OP.MEMOIZE, OP.POP);
    const distribution = assemble(OP.PROTO, 4, OP.EMPTY_DICT, OP.MEMOIZE, OP.POP, global("scipy.stats._continuous_distns", "norm_gen"), OP.EMPTY_TUPLE, OP.NEWOBJ, OP.BINGET, 0, OP.BUILD, OP.STOP);
    assertSome(messages(await scan(assemble(OP.PROTO, 4, template, wrapper, distribution, OP.POP, OP.NONE, OP.STOP)), "MG125"), /read an inline array pickle .*norm_gen/);
    // The distribution made by the outer stream, fetched and given the state there: its class is the outer analysis's fact.
    const outerDistribution = assemble(global("scipy.stats._continuous_distns", "norm_gen"), OP.EMPTY_TUPLE, OP.NEWOBJ, OP.MEMOIZE, OP.POP);
    const restore = assemble(OP.PROTO, 4, global("builtins", "object"), OP.EMPTY_TUPLE, OP.NEWOBJ, OP.MEMOIZE, OP.POP, OP.EMPTY_DICT, OP.MEMOIZE, OP.POP, OP.BINGET, 0, OP.BINGET, 1, OP.BUILD, OP.STOP);
    assertSome(messages(await scan(assemble(OP.PROTO, 4, outerDistribution, template, wrapper, restore, OP.POP, OP.NONE, OP.STOP)), "MG125"), /read an inline array pickle .*norm_gen/);
    // Not only denied names (red team round 27): a size fetched from the outer memo is a bomb in that reading too.
    const big = assemble(OP.LONG1, 5, Buffer.from([0x00, 0x5e, 0xd0, 0xb2, 0x00]), OP.MEMOIZE, OP.POP); // 3e9
    const sized = assemble(OP.PROTO, 4, OP.BININT1, 8, OP.MEMOIZE, OP.POP, global("builtins", "bytearray"), OP.BINGET, 0, OP.TUPLE1, OP.REDUCE, OP.STOP);
    const bomb = await scan(assemble(OP.PROTO, 4, big, wrapper, sized, OP.POP, OP.NONE, OP.STOP));
    assertSome(messages(bomb, "MG109"), /as pickle\.load, torch\.load and numpy\.load read an inline array pickle/);
    // An empty APPENDS on what the outer memo holds (None, where joblib's reading has a list) is no break: the reading
    // goes on to the os.system after it (red team round 31); so does SETITEM on a list it fetches.
    const outerNone = assemble(str("os"), OP.MEMOIZE, str("system"), OP.MEMOIZE, OP.NONE, OP.MEMOIZE, OP.TUPLE3, OP.POP);
    // joblib's reading memoizes 'builtins', 'list' and `container` at 0, 1 and 2, and fetches them back after `ops`.
    const lead = (container: OP, ...ops: (OP | number | Buffer)[]): Buffer =>
      assemble(OP.PROTO, 4, str("builtins"), OP.MEMOIZE, str("list"), OP.MEMOIZE, container, OP.MEMOIZE, OP.POP, OP.POP, OP.POP, ...ops, OP.BINGET, 0, OP.BINGET, 1, OP.STACK_GLOBAL, str("id"), OP.TUPLE1, OP.REDUCE, OP.STOP);
    const appends = lead(OP.EMPTY_LIST, OP.BINGET, 2, OP.MARK, OP.APPENDS, OP.POP);
    assertSome(messages(await scan(assemble(OP.PROTO, 4, outerNone, wrapper, appends, OP.POP, OP.NONE, OP.STOP)), "MG100"), /read an inline array pickle .*os\.system|posix\.system/);
    const outerList = assemble(str("os"), OP.MEMOIZE, str("system"), OP.MEMOIZE, OP.EMPTY_LIST, OP.BININT1, 5, OP.APPEND, OP.MEMOIZE, OP.TUPLE3, OP.POP);
    const setitem = lead(OP.EMPTY_DICT, OP.BINGET, 2, OP.BININT1, 0, OP.BININT1, 7, OP.SETITEM, OP.POP);
    assertSome(messages(await scan(assemble(OP.PROTO, 4, outerList, wrapper, setitem, OP.POP, OP.NONE, OP.STOP)), "MG100"), /read an inline array pickle .*os\.system|posix\.system/);
    // A reading that breaks where joblib's goes on leaves what follows unjudged: MG131 (an APPEND of an item on None fails in CPython too).
    const broken = await scan(assemble(OP.PROTO, 4, outerNone, wrapper, lead(OP.EMPTY_LIST, OP.BINGET, 2, OP.NONE, OP.APPEND, OP.POP), OP.POP, OP.NONE, OP.STOP));
    assertSome(messages(broken, "MG131"), /inline array pickle that joblib reads to its STOP breaks at \d+ as pickle\.load/);
  });

  test("real array bytes read as opcodes fail before doing anything: no MG131", async () => {
    const arrays = [
      Buffer.from(new Float64Array([1.5, -2.25, 3e10, 0.1]).buffer),
      Buffer.from(new Int32Array([1, 2, 3, 1000, -7]).buffer),
      Buffer.from(new Float32Array([0.5, 0.25, 100.0, -1e-3]).buffer),
      Buffer.alloc(64),
      Buffer.from("h\0\0\0e\0\0\0l\0\0\0", "latin1"),
    ];
    for (const data of arrays) {
      const ctx = await scan(bytesWrapper(data.length, assemble(data, OP.STOP)));
      assert.deepEqual(messages(ctx, "MG131"), [], data.toString("hex"));
    }
    // Items appended to a list the stream made, a STOP: what the C unpickler does with them changes nothing.
    const list = assemble(OP.EMPTY_LIST, OP.NONE, OP.APPEND, OP.STOP);
    assert.deepEqual(messages(await scan(bytesWrapper(list.length, assemble(list, OP.STOP))), "MG131"), []);
  });

  test("a wrapper built inside a FRAME that goes on is MG131: joblib reads its array after the frame, other loaders from the BUILD", async () => {
    const body = bytesWrapper(3, assemble(OP.NONE, OP.NONE, OP.NONE, OP.POP, OP.STOP)).subarray(2);
    const framed = assemble(OP.PROTO, 4, OP.FRAME, u32(body.length), u32(0), body);
    assertSome(messages(await scan(framed), "MG131"), /bytes before the end of its FRAME/);
  });

  test("copyreg.__newobj__ and __newobj_ex__ make the wrapper too: its bytes are skipped as joblib skips them (red team round 22)", async () => {
    // joblib takes the six bytes as the array and runs what follows; read as opcodes, BINBYTES swallowed the payload.
    const payloadThenStop = assemble(global("posix", "system"), str("id"), OP.TUPLE1, OP.REDUCE, OP.STOP);
    const swallow = assemble(OP.POP, OP.BINBYTES, u32(payloadThenStop.length), OP.NONE);
    // Without the fix the scan read those bytes as opcodes: BINBYTES held the payload as a constant.
    const viaNewobj = await scan(bytesWrapper(swallow.length - 1, assemble(swallow.subarray(0, -1), payloadThenStop), global("copyreg", "__newobj__")));
    assertSome(messages(viaNewobj, "MG100"), /posix\.system/);
    const exArgs = assemble(global("joblib.numpy_pickle", "NumpyArrayWrapper"), OP.EMPTY_TUPLE, OP.EMPTY_DICT, OP.TUPLE3);
    const state = assemble(OP.EMPTY_DICT, OP.MARK, str("shape"), OP.BININT1, swallow.length - 1, OP.TUPLE1, str("dtype"), dtype("u1"), str("order"), str("C"), OP.SETITEMS);
    const viaEx = assemble(OP.PROTO, 2, reduce(global("copyreg", "__newobj_ex__"), exArgs), state, OP.BUILD, swallow.subarray(0, -1), payloadThenStop);
    assertSome(messages(await scan(viaEx), "MG100"), /posix\.system/);
  });

  test("a dtype state NumPy's version-3 reader would not give is not followed (MG112)", async () => {
    const odd = assemble(global("numpy", "dtype"), str("f8"), OP.NEWFALSE, OP.NEWTRUE, OP.TUPLE3, OP.REDUCE, OP.BININT1, 1, OP.TUPLE1, OP.BUILD);
    const ctx = await scan(wrapped(odd, Buffer.alloc(24)));
    assert.match(messages(ctx, "MG112")[0] ?? "", /the dtype's BUILD cannot be followed/);
  });
});

describe("where Python calls what a pickle never shows called (an eleventh red team round)", () => {
  const tagger = global("nltk.tag.hunpos", "HunposTagger"); // allowlisted to be constructed, never called: its __init__ starts a process
  // An allowlisted class that keeps what it is given (torch's WeakIdKeyDictionary, which calls its ref_type, is excluded since).
  const weakKeyed = global("torch.utils.data.dataset", "TensorDataset");
  const bunch = assemble(global("sklearn.utils._bunch", "Bunch"), OP.EMPTY_TUPLE, OP.NEWOBJ);
  const partialOf = (fn: Buffer) => reduce(global("functools", "partial"), assemble(fn, str("model.pkl"), OP.TUPLE2));

  test("a partial holding a class never to be called is MG101 when made, wherever it goes (a dict key iterated, a constructor's callback)", async () => {
    const ctx = await scan(assemble(OP.PROTO, 2, partialOf(tagger), OP.STOP));
    assert.match(messages(ctx, "MG101")[0] ?? "", /holds nltk\.tag\.hunpos\.HunposTagger, a class allowlisted to be constructed, never called/, JSON.stringify(ctx.reports));
    // Armed by its state rather than its arguments, reported once.
    const armed = assemble(OP.PROTO, 2, reduce(global("functools", "partial"), assemble(global("builtins", "int"), OP.TUPLE1)), OP.MARK, tagger, OP.EMPTY_TUPLE, OP.EMPTY_DICT, OP.NONE, OP.TUPLE, OP.BUILD, OP.STOP);
    assert.equal(messages(await scan(armed), "MG101").length, 1);
    // A partial of a class that may be called, as timm's norm layers, is no finding.
    assert.deepEqual((await scan(assemble(OP.PROTO, 2, partialOf(global("torch.nn.modules.normalization", "LayerNorm")), OP.STOP))).rules(), []);
  });

  test("a class never to be called handed to a callee as an argument its entry does not describe is MG101 (as WeakIdKeyDictionary called its ref_type)", async () => {
    const keyed = reduce(weakKeyed, assemble(OP.EMPTY_DICT, str("a"), OP.BININT1, 0, OP.SETITEM, tagger, OP.TUPLE2));
    assert.match(messages(await scan(assemble(OP.PROTO, 2, keyed, OP.STOP)), "MG101")[0] ?? "", /TensorDataset is given nltk\.tag\.hunpos\.HunposTagger/);
    // Inside a container argument too; a class that may be called is an ordinary argument.
    const inside = reduce(weakKeyed, assemble(OP.EMPTY_DICT, tagger, OP.BININT1, 0, OP.SETITEM, OP.TUPLE1));
    assert.match(messages(await scan(assemble(OP.PROTO, 2, inside, OP.STOP)), "MG101")[0] ?? "", /an item of a dict is or holds nltk\.tag\.hunpos\.HunposTagger/);
    // In a tuple (which nothing can change after it is made): reported where it is handed, however deep.
    let deep = tagger;
    for (let i = 0; i < 6; i++) deep = assemble(deep, OP.TUPLE1);
    const deeply = reduce(weakKeyed, assemble(OP.EMPTY_DICT, deep, OP.TUPLE2));
    assert.match(messages(await scan(assemble(OP.PROTO, 2, deeply, OP.STOP)), "MG101")[0] ?? "", /TensorDataset is given nltk\.tag\.hunpos\.HunposTagger/);
    const plain = reduce(weakKeyed, assemble(OP.EMPTY_DICT, str("a"), OP.BININT1, 0, OP.SETITEM, global("builtins", "int"), OP.TUPLE2));
    assert.deepEqual((await scan(assemble(OP.PROTO, 2, plain, OP.STOP))).rules(), []);
  });

  test("such a class inside an attribute's containers, or set as an item of a mapping object that serves items as attributes, is MG101", async () => {
    const nested = assemble(OP.PROTO, 2, NAMESPACE, OP.EMPTY_DICT, str("data"), OP.EMPTY_DICT, tagger, OP.BININT1, 0, OP.SETITEM, OP.SETITEM, OP.BUILD, OP.STOP);
    assert.match(messages(await scan(nested), "MG101")[0] ?? "", /an item of a dict is or holds nltk\.tag\.hunpos\.HunposTagger/);
    const item = assemble(OP.PROTO, 2, bunch, str("predict"), tagger, OP.SETITEM, OP.STOP);
    assert.match(messages(await scan(item), "MG101")[0] ?? "", /an item of sklearn\.utils\._bunch\.Bunch\(\) is or holds nltk\.tag\.hunpos\.HunposTagger/);
    // Classes that may be called, in the same places: a dtype in a nested dict, a Bunch of estimators' classes.
    const benign = assemble(OP.PROTO, 2, NAMESPACE, OP.EMPTY_DICT, str("data"), OP.EMPTY_DICT, global("numpy", "float32"), OP.BININT1, 0, OP.SETITEM, OP.SETITEM, OP.BUILD, OP.POP, bunch, str("cls"), global("builtins", "int"), OP.SETITEM, OP.STOP);
    assert.deepEqual((await scan(benign)).rules(), []);
  });

  test("a partial's bound arguments get what its function does with its arguments: a partial of a carrier bound to such a class is MG101 when called (a seventeenth round)", async () => {
    const carrier = global("dill._dill", "_create_array");
    // Built by NEWOBJ and armed by its BUILD state (fn, args, kwds, dict); numpy's __randomstate_ctor calls it.
    const armed = assemble(global("functools", "partial"), carrier, OP.TUPLE1, OP.NEWOBJ, OP.MARK, carrier, tagger, str("model.pkl"), str("/bin/sh"), OP.TUPLE2, OP.TUPLE2, OP.NONE, OP.NONE, OP.TUPLE, OP.BUILD);
    const called = reduce(global("numpy.random._pickle", "__randomstate_ctor"), assemble(str("MT19937"), armed, OP.TUPLE2));
    assert.match(messages(await scan(assemble(OP.PROTO, 2, called, OP.STOP)), "MG101").join("\n"), /nltk\.tag\.hunpos\.HunposTagger/);
    // Bound by the partial's own arguments, a class that may be called is followed as called: nested defaultdicts stay quiet.
    const factory = reduce(global("functools", "partial"), assemble(global("collections", "defaultdict"), global("builtins", "list"), OP.TUPLE2));
    assert.deepEqual((await scan(assemble(OP.PROTO, 2, reduce(global("collections", "defaultdict"), assemble(factory, OP.TUPLE1)), OP.STOP))).rules(), []);
    // An object bound where the carrier calls its argument is judged as called: MG107.
    const boundObject = reduce(global("functools", "partial"), assemble(carrier, TESTER, OP.TUPLE2));
    assert.ok((await scan(assemble(OP.PROTO, 2, boundObject, OP.STOP))).rules().includes("MG107"));
  });

  test("a partial made by copyreg's __newobj__ holds what it is given, and a persistent id holding such a class carries it (an eighteenth round)", async () => {
    const newobj = (...args: Buffer[]) => reduce(global("copyreg", "__newobj__"), assemble(OP.MARK, global("functools", "partial"), ...args, OP.TUPLE));
    assert.match(messages(await scan(assemble(OP.PROTO, 2, newobj(tagger, str("model.pkl")), OP.STOP)), "MG101")[0] ?? "", /nltk\.tag\.hunpos\.HunposTagger/);
    // Its function's entry is followed on what it binds: an object where dill's _create_array calls its argument.
    assert.ok((await scan(assemble(OP.PROTO, 2, newobj(global("dill._dill", "_create_array"), TESTER), OP.STOP))).rules().includes("MG107"));
    // torch's legacy tar reader returns a tuple id's first item: the class comes out of the id.
    const laundered = assemble(tagger, str("x"), OP.TUPLE2, OP.BINPERSID);
    const ctx = await scan(assemble(OP.PROTO, 2, newobj(laundered, str("model.pkl")), OP.STOP));
    assert.match(messages(ctx, "MG101").join("\n"), /nltk\.tag\.hunpos\.HunposTagger/, JSON.stringify(ctx.reports));
    // A partial of an allowlisted class made so is an ordinary object.
    assert.deepEqual((await scan(assemble(OP.PROTO, 2, newobj(global("torch.nn.modules.normalization", "LayerNorm")), OP.STOP))).rules(), []);
  });

  test("keyword arguments a partial binds, and what a builtin type's method is given, are judged (a nineteenth round)", async () => {
    // dict.fromkeys(("cls",), HunposTagger): the method puts what it is given into what it makes.
    const fromkeys = reduce(reduce(global("builtins", "getattr"), assemble(global("builtins", "dict"), str("fromkeys"), OP.TUPLE2)), assemble(str("cls"), OP.TUPLE1, tagger, OP.TUPLE2));
    assert.match(messages(await scan(assemble(OP.PROTO, 2, fromkeys, OP.STOP)), "MG101")[0] ?? "", /nltk\.tag\.hunpos\.HunposTagger/);
    // partial(_new_PeriodIndex, cls=…) by NEWOBJ_EX: which keyword the function calls cannot be known.
    const keywords = assemble(OP.EMPTY_DICT, str("cls"), reduce(global("collections", "OrderedDict"), assemble(OP.EMPTY_TUPLE)), OP.SETITEM);
    const bound = assemble(global("functools", "partial"), global("pandas.core.indexes.period", "_new_PeriodIndex"), OP.TUPLE1, keywords, OP.NEWOBJ_EX);
    assert.ok((await scan(assemble(OP.PROTO, 4, bound, OP.STOP))).rules().includes("MG107"));
    // Plain keywords stay quiet: partial(int, base=2).
    const plain = assemble(global("functools", "partial"), global("builtins", "int"), OP.TUPLE1, OP.EMPTY_DICT, str("base"), OP.BININT1, 2, OP.SETITEM, OP.NEWOBJ_EX);
    assert.deepEqual((await scan(assemble(OP.PROTO, 4, plain, OP.STOP))).rules(), []);
  });

  test("a BUILD state of (key, value) pairs sets attributes as a dict does (torch's Module updates its __dict__ with it): a __setstate__ key is MG106", async () => {
    const identity = assemble(global("torch.nn.modules.linear", "Identity"), OP.EMPTY_TUPLE, OP.NEWOBJ);
    const hook = reduce(global("functools", "partial"), assemble(global("builtins", "int"), OP.TUPLE1));
    for (const pairs of [
      assemble(str("__setstate__"), hook, OP.TUPLE2, OP.TUPLE1),
      assemble(OP.EMPTY_LIST, str("__setstate__"), hook, OP.TUPLE2, OP.APPEND),
      // A two-character string among them is one more pair, not the end of the pairs (an eighteenth round).
      assemble(OP.EMPTY_LIST, OP.MARK, str("__setstate__"), hook, OP.TUPLE2, str("ab"), OP.APPENDS),
    ]) {
      const ctx = await scan(assemble(OP.PROTO, 2, identity, pairs, OP.BUILD, OP.NONE, OP.BUILD, OP.STOP));
      assert.ok(ctx.rules().includes("MG106"), JSON.stringify(ctx.reports));
    }
    // Pairs of plain names and values set ordinary attributes.
    const plain = assemble(str("training"), OP.NEWFALSE, OP.TUPLE2, OP.TUPLE1);
    assert.deepEqual((await scan(assemble(OP.PROTO, 2, identity, plain, OP.BUILD, OP.STOP))).rules(), []);
  });

  test("put into a list, dict, set or object, however far past the sample and however late, such a class is MG101", async () => {
    const ints: Buffer[] = [];
    for (let i = 0; i < LIMITS.pickleContainerSample + 10; i++) ints.push(assemble(OP.BININT1, i % 256));
    const attacks: [string, Buffer][] = [
      // Past a list's kept sample, inside an attribute: WeakIdKeyDictionary's data once took such keys.
      ["past a list's sample", assemble(NAMESPACE, OP.EMPTY_DICT, str("hooks"), OP.EMPTY_LIST, OP.MARK, ...ints, tagger, OP.APPENDS, OP.SETITEM, OP.BUILD)],
      // Inside a tuple, past a set's sample.
      ["in a tuple past a set's sample", assemble(OP.EMPTY_SET, OP.MARK, ...ints, tagger, OP.TUPLE1, OP.ADDITEMS)],
      // Appended after the list was handed to a callee and judged clean: fetched back from the memo.
      ["after the list was judged", assemble(OP.EMPTY_LIST, OP.BINPUT, 1, OP.TUPLE1, global("collections", "deque"), OP.BINGET, 1, OP.TUPLE1, OP.REDUCE, OP.POP, OP.POP, OP.BINGET, 1, tagger, OP.APPEND)],
      // An inner list put into an outer one while empty, given the class after.
      ["into an inner list after it went in", assemble(OP.EMPTY_LIST, OP.EMPTY_LIST, OP.BINPUT, 2, OP.APPEND, OP.BINGET, 2, tagger, OP.APPEND, OP.POP)],
      // An object's append and add keep what they are given.
      ["appended to an object", assemble(reduce(global("collections", "deque"), assemble(OP.EMPTY_TUPLE)), tagger, OP.APPEND)],
      ["added to an object", assemble(reduce(global("collections", "deque"), assemble(OP.EMPTY_TUPLE)), OP.MARK, tagger, OP.ADDITEMS)],
    ];
    for (const [how, body] of attacks) {
      const ctx = await scan(assemble(OP.PROTO, 4, body, OP.STOP));
      assert.match(messages(ctx, "MG101")[0] ?? "", /is or holds nltk\.tag\.hunpos\.HunposTagger, a class allowlisted to be constructed, never called/, `${how}: ${JSON.stringify(ctx.reports)}`);
    }
    // Classes that may be called, in the same places, are ordinary items.
    const callable = global("numpy", "float32");
    const benign = assemble(OP.PROTO, 4, NAMESPACE, OP.EMPTY_DICT, str("hooks"), OP.EMPTY_LIST, OP.MARK, ...ints, callable, OP.APPENDS, OP.SETITEM, OP.BUILD, OP.POP, reduce(global("collections", "deque"), assemble(OP.EMPTY_TUPLE)), callable, OP.APPEND, OP.STOP);
    assert.deepEqual((await scan(benign)).rules(), []);
  });
});

/** An object NEWOBJ made of `module.name`, the way pickle writes an instance of a plain class. */
function instance(module: string, name: string): Buffer {
  return assemble(global(module, name), OP.EMPTY_TUPLE, OP.NEWOBJ);
}

const STORED_NOT_CALLED = /which is allowlisted to be stored or constructed, not called/;

describe("library values a fourth precision measurement found blocked (exact module and name pairs of its files)", () => {
  test("trl's *Config in training_args.bin: constructed and restored passes; called at load is MG101", async () => {
    for (const [module, name] of [["trl.trainer.sft_config", "SFTConfig"], ["trl.trainer.dpo_config", "DPOConfig"], ["trl.trainer.kto_config", "KTOConfig"], ["trl.trainer.reward_config", "RewardConfig"], ["trl.experimental.orpo.orpo_config", "ORPOConfig"]] as const) {
      const restored = assemble(OP.PROTO, 2, instance(module, name), OP.EMPTY_DICT, str("output_dir"), str("out"), OP.SETITEM, OP.BUILD, OP.STOP);
      assert.deepEqual((await scan(restored)).rules(), [], name);
      const called = await scan(assemble(OP.PROTO, 2, reduce(global(module, name), assemble(OP.EMPTY_TUPLE)), OP.STOP));
      assert.match(messages(called, "MG101")[0] ?? "", STORED_NOT_CALLED, name);
    }
  });

  test("bound methods statsmodels and SciPy models keep pass through getattr; calling one at load is MG101", async () => {
    const methods: [string, string, string][] = [
      ["statsmodels.tsa.exponential_smoothing.ets", "ETSModel", "loglike"],
      ["statsmodels.nonparametric.kernel_regression", "KernelReg", "_est_loc_constant"],
      ["statsmodels.nonparametric.kernel_regression", "KernelReg", "_est_loc_linear"],
      ["statsmodels.discrete.count_model", "ZeroInflatedPoisson", "_hessian_logit"],
      ["statsmodels.discrete.count_model", "ZeroInflatedPoisson", "_hessian_probit"],
      ["statsmodels.discrete.count_model", "ZeroInflatedNegativeBinomialP", "_hessian_logit"],
      ["statsmodels.discrete.count_model", "ZeroInflatedGeneralizedPoisson", "_hessian_logit"],
      ["scipy.interpolate._rbf", "Rbf", "_h_multiquadric"],
    ];
    for (const [module, cls, attr] of methods) {
      const method = reduce(global("builtins", "getattr"), assemble(instance(module, cls), str(attr), OP.TUPLE2));
      assert.deepEqual((await scan(assemble(OP.PROTO, 2, method, OP.STOP))).rules(), [], `${cls}.${attr}`);
      const called = await scan(assemble(OP.PROTO, 2, method, OP.EMPTY_TUPLE, OP.REDUCE, OP.STOP));
      assert.ok(called.rules().includes("MG101"), `${cls}.${attr} called: ${JSON.stringify(called.reports)}`);
    }
    // Another method of the same class is not excused: MG108, and getattr's MG100.
    const other = await scan(assemble(OP.PROTO, 2, reduce(global("builtins", "getattr"), assemble(instance("statsmodels.tsa.exponential_smoothing.ets", "ETSModel"), str("fit"), OP.TUPLE2)), OP.STOP));
    assert.ok(other.rules().includes("MG108") && other.rules().includes("MG100"), JSON.stringify(other.reports));
  });

  test("stored functions (ETS smoothers, Phrases scorers, holiday observance rules) pass; called at load they are MG101", async () => {
    const stored: [string, string][] = [
      ["statsmodels.tsa.exponential_smoothing._ets_smooth", "_ets_smooth_add_add"],
      ["statsmodels.tsa.exponential_smoothing._ets_smooth", "_ets_smooth_mul_mul"],
      ["gensim.models.phrases", "original_scorer"],
      ["gensim.models.phrases", "npmi_scorer"],
      ["pandas.tseries.holiday", "nearest_workday"],
      ["pandas.tseries.holiday", "after_nearest_workday"],
    ];
    for (const [module, name] of stored) {
      const kept = assemble(OP.PROTO, 2, OP.EMPTY_DICT, str("f"), global(module, name), OP.SETITEM, OP.STOP);
      assert.deepEqual((await scan(kept)).rules(), [], name);
      const called = await scan(assemble(OP.PROTO, 2, reduce(global(module, name), assemble(OP.BININT1, 1, OP.TUPLE1)), OP.STOP));
      assert.match(messages(called, "MG101")[0] ?? "", STORED_NOT_CALLED, name);
    }
  });

  test("pyarrow's type factories rebuild a pickled ArrowDtype's type: struct of fields, map_, decimal128, binary(n)", async () => {
    const alias = (s: string) => reduce(global("pyarrow.lib", "type_for_alias"), assemble(str(s), OP.TUPLE1));
    const fieldArgs = (n: string, t: Buffer) => reduce(global("pyarrow.lib", "field"), assemble(OP.MARK, str(n), t, OP.NEWTRUE, OP.NONE, OP.TUPLE));
    const struct = reduce(global("pyarrow.lib", "struct"), assemble(OP.EMPTY_LIST, OP.MARK, fieldArgs("a", alias("int64")), fieldArgs("b", alias("string")), OP.APPENDS, OP.TUPLE1));
    const map = reduce(global("pyarrow.lib", "map_"), assemble(fieldArgs("key", alias("string")), fieldArgs("value", alias("int32")), OP.NEWFALSE, OP.TUPLE3));
    const decimal = reduce(global("pyarrow.lib", "decimal128"), assemble(OP.BININT1, 10, OP.BININT1, 2, OP.TUPLE2));
    const binary = reduce(global("pyarrow.lib", "binary"), assemble(OP.BININT1, 8, OP.TUPLE1));
    const largeList = reduce(global("pyarrow.lib", "large_list"), assemble(fieldArgs("item", alias("int16")), OP.TUPLE1));
    for (const t of [struct, map, decimal, binary, largeList]) assert.deepEqual((await scan(assemble(OP.PROTO, 2, t, OP.STOP))).rules(), []);
    // struct iterates its fields: a range of a billion items there is a resource bomb.
    const range = reduce(global("builtins", "range"), assemble(OP.BININT, Buffer.from([0xff, 0xff, 0xff, 0x7f]), OP.TUPLE1));
    const bomb = await scan(assemble(OP.PROTO, 2, reduce(global("pyarrow.lib", "struct"), assemble(range, OP.TUPLE1)), OP.STOP));
    assert.ok(bomb.rules().includes("MG109"), JSON.stringify(bomb.reports));
  });

  test("standard-library values as their __reduce__ writes them; array's reconstructor calls only what it is given; a range in random.Random's state is bounded", async () => {
    const arrayType = global("array", "array");
    const p3 = reduce(global("array", "_array_reconstructor"), assemble(OP.MARK, arrayType, str("d"), OP.BININT1, 20, OP.SHORT_BINBYTES, 16, Buffer.alloc(16), OP.TUPLE));
    const p2 = reduce(arrayType, assemble(str("d"), OP.EMPTY_LIST, OP.TUPLE2));
    const ip = reduce(global("ipaddress", "IPv4Address"), assemble(OP.BININT, Buffer.from([1, 0, 0, 10]), OP.TUPLE1));
    const net = reduce(global("ipaddress", "IPv6Network"), assemble(str("2001:db8::/32"), OP.TUPLE1));
    const chain = assemble(instance("collections", "ChainMap"), OP.EMPTY_DICT, str("maps"), OP.EMPTY_LIST, OP.EMPTY_DICT, OP.APPEND, OP.SETITEM, OP.BUILD);
    const when = reduce(global("time", "struct_time"), assemble(OP.MARK, ...Array(9).fill(assemble(OP.BININT1, 0)), OP.TUPLE, OP.EMPTY_DICT, OP.TUPLE2));
    for (const v of [p3, p2, ip, net, chain, when]) assert.deepEqual((await scan(assemble(OP.PROTO, 2, v, OP.STOP))).rules(), [], JSON.stringify(v));
    // _array_reconstructor calls its first argument: a construct-only class there is called at load.
    const handed = await scan(assemble(OP.PROTO, 2, reduce(global("array", "_array_reconstructor"), assemble(OP.MARK, global("trl.trainer.sft_config", "SFTConfig"), str("d"), OP.BININT1, 20, OP.SHORT_BINBYTES, 0, OP.TUPLE)), OP.STOP));
    assert.match(messages(handed, "MG101")[0] ?? "", STORED_NOT_CALLED, JSON.stringify(handed.reports));
    // random.Random as it pickles: called with nothing, then its state of 625 words; a version-2 state
    // is drawn word by word, so a range there is MG109 (a BUILD state's ranges are bounded as arguments are).
    const generator = reduce(global("random", "Random"), assemble(OP.EMPTY_TUPLE));
    const words = assemble(OP.MARK, ...Array(625).fill(assemble(OP.BININT1, 7)), OP.TUPLE);
    assert.deepEqual((await scan(assemble(OP.PROTO, 2, generator, OP.BININT1, 3, words, OP.NONE, OP.TUPLE3, OP.BUILD, OP.STOP))).rules(), []);
    const drawn = reduce(global("builtins", "range"), assemble(OP.BININT, Buffer.from([0xff, 0xff, 0xff, 0x7f]), OP.TUPLE1));
    const bomb = await scan(assemble(OP.PROTO, 2, generator, OP.BININT1, 2, drawn, OP.NONE, OP.TUPLE3, OP.BUILD, OP.STOP));
    assert.match(messages(bomb, "MG109")[0] ?? "", /BUILD hands __setstate__ a range of 2147483647 items/, JSON.stringify(bomb.reports));
    // Three levels down, through a dict's value and a list: found as well.
    const deep = await scan(assemble(OP.PROTO, 2, generator, OP.BININT1, 2, OP.EMPTY_DICT, str("k"), OP.EMPTY_LIST, drawn, OP.APPEND, OP.SETITEM, OP.NONE, OP.TUPLE3, OP.BUILD, OP.STOP));
    assert.match(messages(deep, "MG109")[0] ?? "", /BUILD hands __setstate__ a range of 2147483647 items/, JSON.stringify(deep.reports));
  });

  test("Pillow's enums in a pickled image processor pass; an image is held to its state guard (its __setstate__ allocates the pickled size)", async () => {
    for (const name of ["Resampling", "Transpose", "Dither"]) {
      assert.deepEqual((await scan(assemble(OP.PROTO, 2, reduce(global("PIL.Image", name), assemble(OP.BININT1, 2, OP.TUPLE1)), OP.STOP))).rules(), [], name);
    }
    const image = (w: number, h: number, data: number): Buffer =>
      assemble(OP.PROTO, 4, instance("PIL.PngImagePlugin", "PngImageFile"), OP.MARK, OP.EMPTY_DICT, str("RGBA"), OP.BININT2, [w & 0xff, w >> 8], OP.BININT2, [h & 0xff, h >> 8], OP.TUPLE2, OP.NONE,
        OP.BINBYTES, u32(data), Buffer.alloc(data), OP.LIST, OP.BUILD, OP.STOP);
    assert.deepEqual((await scan(image(4, 4, 64))).rules(), []);
    assertSome(messages(await scan(image(65535, 65535, 64)), "MG109"), /BUILD restores PIL\.PngImagePlugin\.PngImageFile, but its size 65535 × 65535 in mode RGBA needs 17179344900 bytes of data and it holds 64/);
    // One bytes value fetched from the memo may fill any number of images: their pixels are held to the data in all
    // (red team round 33: a 1 KB joblib file made a thousand images from one buffer). 1,100 images of 256 × 256
    // 1-bit pixels (a byte each in Pillow) from one 8 KB buffer ask for 72 MB, past 64 MB and eight times the data.
    const shared = (count: number, ownData: boolean): Buffer => {
      const one = (first: boolean): Buffer => assemble(instance("PIL.Image", "Image"), OP.MARK, OP.EMPTY_DICT, str("1"), OP.BININT2, [0, 1], OP.BININT2, [0, 1], OP.TUPLE2, OP.NONE,
        first || ownData ? assemble(OP.BINBYTES, u32(8192), Buffer.alloc(8192), ...(first ? [OP.BINPUT, 0] : [])) : assemble(OP.BINGET, 0), OP.LIST, OP.BUILD, OP.POP);
      return assemble(OP.PROTO, 4, ...Array.from({ length: count }, (_, i) => one(i === 0)), OP.NONE, OP.STOP);
    };
    assertSome(messages(await scan(shared(1100, false)), "MG109"), /Pillow images restored allocate \d+ bytes of pixels from 8192 bytes of data in all/);
    assert.deepEqual((await scan(shared(1100, true))).rules(), []);
    // Constructing one with a file name opens it: a call is MG101.
    const opened = await scan(assemble(OP.PROTO, 2, reduce(global("PIL.PngImagePlugin", "PngImageFile"), assemble(str("/etc/passwd"), OP.TUPLE1)), OP.STOP));
    assertSome(messages(opened, "MG101"), /PngImageFile/);
  });
});

describe("slot state set with setattr (a fourteenth red team round)", () => {
  // torch.utils.backcompat.Warning(setter, getter): its `enabled` property setter calls setter(value).
  const warning = (callee: Buffer): Buffer => reduce(global("torch.utils.backcompat", "Warning"), assemble(callee, OP.NONE, OP.TUPLE2));
  const slots = (value: Buffer): Buffer => assemble(OP.NONE, OP.EMPTY_DICT, str("enabled"), value, OP.SETITEM, OP.TUPLE2, OP.BUILD);

  test("an object holding a name whose call must be seen, given slot state, is MG107: a property setter may call it with the value", async () => {
    const cases: [string, Buffer, Buffer][] = [
      ["opens a file", global("dateutil.tz.tz", "tzfile"), str("/tmp/fifo")],
      ["a torch module class", global("torch.nn.modules.normalization", "LayerNorm"), assemble(OP.BININT, Buffer.from([0, 0xe1, 0xf5, 0x05]))],
      ["allocates by the integers", global("igraph", "Graph"), assemble(OP.BININT, Buffer.from([0, 0xc2, 0xeb, 0x0b]))],
      ["calls or constructs what it is given", global("copyreg", "_reconstructor"), assemble(OP.NONE)],
    ];
    for (const [why, callee, value] of cases) {
      const found = messages(await scan(assemble(OP.PROTO, 2, warning(callee), slots(value), OP.STOP)), "MG107");
      assert.ok(found.some((m) => m.includes("slot state") && m.includes(why)), `${why}: ${JSON.stringify(found)}`);
    }
    // Given by an earlier BUILD's dict state instead of the constructor.
    const planted = assemble(NAMESPACE, OP.EMPTY_DICT, str("setter"), global("dateutil.tz.tz", "tzfile"), OP.SETITEM, OP.BUILD, slots(str("/tmp/fifo")));
    assert.ok(messages(await scan(assemble(OP.PROTO, 2, planted, OP.STOP)), "MG107").some((m) => m.includes("slot state")));
  });

  test("slot state on an object holding only data or plain allowlisted names, and a held name without slot state, pass", async () => {
    const quiet = async (bytes: Buffer): Promise<void> => assert.deepEqual(messages(await scan(assemble(OP.PROTO, 2, bytes, OP.STOP)), "MG107"), []);
    await quiet(assemble(warning(global("builtins", "int")), slots(str("1"))));
    await quiet(assemble(NAMESPACE, OP.EMPTY_DICT, str("dtype"), global("torch", "float32"), OP.SETITEM, slots(assemble(OP.NONE))));
    // A torch layer class held as an attribute (a model's norm_layer) passes; given slot state it would not.
    const layer = global("torch.nn.modules.normalization", "LayerNorm");
    await quiet(assemble(NAMESPACE, OP.EMPTY_DICT, str("norm_layer"), layer, OP.SETITEM, OP.BUILD));
    await quiet(assemble(NAMESPACE, OP.EMPTY_DICT, str("norm_layer"), layer, OP.SETITEM, OP.NONE, OP.EMPTY_DICT, OP.TUPLE2, OP.BUILD));
  });
});

describe("a callback an allowlisted class is given but its entry does not describe (a fourteenth red team round)", () => {
  const tzfile = global("dateutil.tz.tz", "tzfile");
  const path = assemble(OP.EMPTY_DICT, str("/tmp/fifo"), OP.BININT1, 1, OP.SETITEM);
  test("a class whose entry does not describe an argument (torch.utils.backcompat.Warning keeps its setter) given a class whose call must be seen: MG107", async () => {
    const warning = (callee: Buffer): Buffer => reduce(global("torch.utils.backcompat", "Warning"), assemble(callee, OP.NONE, OP.TUPLE2));
    const cases: [string, Buffer][] = [
      ["tzfile", warning(tzfile)],
      ["LayerNorm", warning(global("torch.nn.modules.normalization", "LayerNorm"))],
      ["pyproj CRS", warning(global("pyproj.crs.crs", "CRS"))],
      ["partial(tzfile)", warning(reduce(global("functools", "partial"), assemble(tzfile, OP.TUPLE1)))],
    ];
    for (const [what, made] of cases) {
      const found = messages(await scan(assemble(OP.PROTO, 2, global("builtins", "list"), made, OP.TUPLE1, OP.REDUCE, OP.STOP)), "MG107");
      assert.ok(found.some((m) => m.includes("its allowlist entry does not say what it does with it")), `${what}: ${JSON.stringify(found)}`);
    }
  });

  test("views and iterables that call what they are given when iterated (FilterAtlas, LazyMap) judge it as called at load", async () => {
    const consumed = async (made: Buffer): Promise<string[]> => (await scan(assemble(OP.PROTO, 2, global("builtins", "list"), made, OP.TUPLE1, OP.REDUCE, OP.STOP))).reports.map((r) => `${r.rule} ${r.message}`);
    const huge = assemble(OP.EMPTY_DICT, OP.LONG1, 5, Buffer.from([0x00, 0x5e, 0xd0, 0xb2, 0x00]), OP.BININT1, 1, OP.SETITEM);
    const atlasOf = (d: Buffer, callee: Buffer): Buffer => reduce(global("networkx.classes.coreviews", "FilterAtlas"), assemble(d, callee, OP.TUPLE2));
    assert.ok((await consumed(atlasOf(huge, global("builtins", "bytearray")))).some((l) => /^MG109 /.test(l)), "bytearray(3e9) through FilterAtlas");
    assert.ok((await consumed(atlasOf(path, global("torch.nn.modules.normalization", "LayerNorm")))).some((l) => /^MG101 .*torch module class/.test(l)), "a torch layer called by FilterAtlas");
    const lazy = reduce(global("nltk.collections", "LazyMap"), assemble(global("builtins", "pow"), OP.EMPTY_LIST, OP.TUPLE2));
    assert.ok((await consumed(lazy)).some((l) => /^MG101 calls builtins\.pow/.test(l)), "a store-only function called by LazyMap");
    assert.ok((await consumed(atlasOf(path, global("dateutil.tz.tz", "tzfile")))).some((l) => /^MG101 .*FilterAtlas hands dateutil\.tz\.tz\.tzfile/.test(l)), "tzfile handed the keys");
    // Keys added to its dict after it was made are not seen: the class called later is reported whatever the dict holds now.
    const later = await consumed(atlasOf(assemble(OP.EMPTY_DICT), global("dateutil.tz.tz", "tzfile")));
    assert.ok(later.some((l) => /^MG107 .*FilterAtlas is given dateutil\.tz\.tz\.tzfile, which opens a file it is given; calls it later/.test(l)), JSON.stringify(later));
    const kept = reduce(global("torch.utils.data.dataset", "TensorDataset"), assemble(OP.NONE, global("dateutil.tz.tz", "tzfile"), OP.TUPLE2));
    assert.ok(messages(await scan(assemble(OP.PROTO, 2, kept, OP.STOP)), "MG107").some((m) => /TensorDataset is given dateutil\.tz\.tz\.tzfile/.test(m)), "a kept argument");
  });

  test("such a view given its callee by BUILD instead judges the callee as called, on what the state holds", async () => {
    const atlas = assemble(global("networkx.classes.coreviews", "FilterAtlas"), OP.EMPTY_TUPLE, OP.NEWOBJ);
    const built = async (atlasDict: Buffer, callee: Buffer): Promise<string[]> => {
      const state = assemble(OP.EMPTY_DICT, str("_atlas"), atlasDict, OP.SETITEM, str("NODE_OK"), callee, OP.SETITEM);
      return (await scan(assemble(OP.PROTO, 2, global("builtins", "list"), atlas, state, OP.BUILD, OP.TUPLE1, OP.REDUCE, OP.STOP))).reports.map((r) => `${r.rule} ${r.message}`);
    };
    const huge = assemble(OP.EMPTY_DICT, OP.LONG1, 5, Buffer.from([0x00, 0x5e, 0xd0, 0xb2, 0x00]), OP.BININT1, 1, OP.SETITEM);
    assert.ok((await built(huge, global("builtins", "bytearray"))).some((l) => /^MG109 .*FilterAtlas, which calls what it holds, calls builtins\.bytearray/.test(l)));
    assert.ok((await built(path, global("torch.nn.modules.normalization", "LayerNorm"))).some((l) => /^MG101 calls torch\.nn\.modules\.normalization\.LayerNorm/.test(l)));
    const match = reduce(global("builtins", "getattr"), assemble(reduce(global("re", "_compile"), assemble(str("(a|aa)+$"), OP.BININT1, 32, OP.TUPLE2)), str("match"), OP.TUPLE2));
    assert.ok((await built(path, match)).some((l) => /^MG101 calls re\.Pattern\.match/.test(l)), "a kept pattern's match called by the view");
    // A plain class there stays quiet.
    assert.deepEqual((await built(path, global("builtins", "bool"))).filter((l) => /^MG10[179]/.test(l)), []);
  });

  test("a carrier given to such a view by BUILD is judged as called: a partial, or torch's _PartialWrapper with its p and callable_args (red team round 22)", async () => {
    const atlas = assemble(global("networkx.classes.coreviews", "FilterAtlas"), OP.EMPTY_TUPLE, OP.NEWOBJ);
    const layer = global("torch.nn.modules.normalization", "LayerNorm");
    const wrapper = (state: Buffer): Buffer =>
      assemble(reduce(global("copyreg", "_reconstructor"), assemble(global("torch.ao.quantization.observer", "_PartialWrapper"), global("builtins", "object"), OP.NONE, OP.TUPLE3)), state, OP.BUILD);
    const carriers: [string, Buffer][] = [
      ["partial(LayerNorm)", reduce(global("functools", "partial"), assemble(layer, OP.TUPLE1))],
      ["_PartialWrapper's p", wrapper(assemble(OP.EMPTY_DICT, str("p"), layer, OP.SETITEM, str("callable_args"), OP.EMPTY_DICT, OP.SETITEM))],
      ["_PartialWrapper's callable_args", wrapper(assemble(OP.EMPTY_DICT, str("p"), global("builtins", "dict"), OP.SETITEM, str("callable_args"), OP.EMPTY_DICT, str("x"), layer, OP.SETITEM, OP.SETITEM))],
    ];
    for (const [what, carrier] of carriers) {
      const state = assemble(OP.EMPTY_DICT, str("_atlas"), path, OP.SETITEM, str("NODE_OK"), carrier, OP.SETITEM);
      const found = messages(await scan(assemble(OP.PROTO, 2, global("builtins", "list"), atlas, state, OP.BUILD, OP.TUPLE1, OP.REDUCE, OP.STOP)), "MG101");
      assert.ok(found.some((m) => /calls torch\.nn\.modules\.normalization\.LayerNorm, a torch module class/.test(m)), `${what}: ${JSON.stringify(found)}`);
    }
    // A torch module calls its forward, which BUILD can plant on an instance (red team round 25): a carrier too.
    const module = assemble(reduce(global("copyreg", "_reconstructor"), assemble(global("torch.nn.modules.module", "Module"), global("builtins", "object"), OP.NONE, OP.TUPLE3)), OP.EMPTY_DICT, str("forward"), global("sklearn.feature_selection._mutual_info", "mutual_info_regression"), OP.SETITEM, OP.BUILD);
    const state = assemble(OP.EMPTY_DICT, str("_atlas"), path, OP.SETITEM, str("NODE_OK"), module, OP.SETITEM);
    const ctx = await scan(assemble(OP.PROTO, 2, global("builtins", "list"), atlas, state, OP.BUILD, OP.TUPLE1, OP.REDUCE, OP.STOP));
    assertSome(messages(ctx, "MG107"), /FilterAtlas, which calls what it holds, calls a value produced at load time: .*torch\.nn\.modules\.module\.Module/, "the module is called");
  });

  test("the same classes stored as attributes by BUILD, alone or in a partial, are MG107: what calls the attribute passes values never seen", async () => {
    const atlas = assemble(global("networkx.classes.coreviews", "FilterAtlas"), OP.EMPTY_TUPLE, OP.NEWOBJ);
    for (const held of [tzfile, global("igraph", "Graph"), global("pyproj.crs.crs", "CRS"), reduce(global("functools", "partial"), assemble(tzfile, OP.TUPLE1))]) {
      const state = assemble(OP.EMPTY_DICT, str("_atlas"), path, OP.SETITEM, str("NODE_OK"), held, OP.SETITEM);
      const found = messages(await scan(assemble(OP.PROTO, 2, global("builtins", "list"), atlas, state, OP.BUILD, OP.TUPLE1, OP.REDUCE, OP.STOP)), "MG107");
      assert.ok(found.some((m) => /a class that (opens|allocates)/.test(m)), JSON.stringify(found));
    }
  });

  test("a plain class or a function kept in a record stays quiet; a partial of a torch layer is an ordinary object", async () => {
    const quiet = async (bytes: Buffer): Promise<void> => assert.deepEqual(messages(await scan(assemble(OP.PROTO, 2, bytes, OP.STOP)), "MG107"), []);
    await quiet(reduce(global("torch.utils.backcompat", "Warning"), assemble(global("builtins", "bool"), OP.NONE, OP.TUPLE2)));
    await quiet(reduce(global("optuna.samplers._tpe.parzen_estimator", "_ParzenEstimatorParameters"), assemble(OP.MARK, OP.NEWFALSE, OP.NEWTRUE, global("optuna.samplers._tpe.sampler", "default_weights"), OP.TUPLE)));
    await quiet(reduce(global("functools", "partial"), assemble(global("torch.nn.modules.normalization", "LayerNorm"), OP.TUPLE1)));
  });
});

describe("text skipped unread (past 64 KiB) given to a check that reads it fails closed (a fourteenth red team round)", () => {
  const long = (text: string): Buffer => assemble(OP.BINUNICODE, Buffer.from(Uint32Array.of(Buffer.byteLength(text)).buffer), text);
  const padded = " ".repeat(LIMITS.pickleMaxInlineConstant + 10);
  test("Fraction's exponent, punycode's quadratic time and a PROJ definition's files", async () => {
    const fraction = await scan(assemble(OP.PROTO, 2, reduce(global("fractions", "Fraction"), assemble(long(`${padded}1e200000000`), OP.TUPLE1)), OP.STOP));
    assert.ok(messages(fraction, "MG109").some((m) => /skipped unread/.test(m)), JSON.stringify(fraction.reports));
    const puny = await scan(assemble(OP.PROTO, 2, reduce(global("_codecs", "encode"), assemble(long(`a${padded}`), str("punycode"), OP.TUPLE2)), OP.STOP));
    assert.ok(messages(puny, "MG109").some((m) => /square of the text's length/.test(m)), JSON.stringify(puny.reports));
    const proj = await scan(assemble(OP.PROTO, 2, reduce(global("pyproj.crs.crs", "CRS"), assemble(long(`+init=/etc/x:id${padded}`), OP.TUPLE1)), OP.STOP));
    assert.ok(messages(proj, "MG100").some((m) => /skipped unread/.test(m)), JSON.stringify(proj.reports));
  });
});

describe("a callee stored where a load-time method calls it (a seventeenth red team round)", () => {
  /** `copyreg._reconstructor(cls, object, None)`, then BUILD with `state`, then SETITEMS of `items`. */
  const gadget = (cls: Buffer, state: Buffer, items: Buffer): Buffer =>
    assemble(OP.PROTO, 2, global("copyreg", "_reconstructor"), cls, global("builtins", "object"), OP.NONE, OP.TUPLE3, OP.REDUCE, OP.EMPTY_DICT, OP.MARK, state, OP.SETITEMS, OP.BUILD, OP.MARK, items, OP.SETITEMS, OP.STOP);
  // The rule holds for any class, since which of them call an attribute their state sets is not known; a dict subclass here.
  const WEAK_DICT = global("sklearn.utils._bunch", "Bunch");

  test("the red team's two classes, whose SETITEMS and APPENDS call an attribute the state sets, are not allowlisted", async () => {
    for (const [module, name] of [["torch.utils.weak", "WeakIdKeyDictionary"], ["torch.utils._appending_byte_serializer", "AppendingByteSerializer"]]) {
      const ctx = await scan(gadget(global(module!, name!), assemble(str("data"), OP.EMPTY_DICT), assemble(str("k"), str("v"))));
      assert.match(messages(ctx, "MG102")[0] ?? "", new RegExp(`${name}, which is not on the allowlist`), JSON.stringify(ctx.reports));
    }
  });

  test("a codec or number conversion stored as an attribute (WeakIdKeyDictionary's __setitem__ called its ref_type on each key) is MG107; a plain attribute passes", async () => {
    for (const [module, name] of [["_codecs", "encode"], ["builtins", "bytes"], ["fractions", "Fraction"], ["decimal", "Decimal"], ["_operator", "eq"]] as const) {
      const ctx = await scan(gadget(WEAK_DICT, assemble(str("ref_type"), global(module, name), str("_remove"), str("punycode")), assemble(str("x".repeat(50)), str("v"))));
      assert.match(messages(ctx, "MG107")[0] ?? "", new RegExp(`${module}\\.${name}, a (class|function) that runs a codec, a number conversion or a comparison whose work grows faster`), `${module}.${name}: ${JSON.stringify(ctx.reports)}`);
    }
    const plain = await scan(gadget(WEAK_DICT, assemble(str("data"), OP.EMPTY_DICT), assemble(str("k"), str("v"))));
    assert.deepEqual(plain.reports, []);
    // A defaultdict calls its factory with no arguments: bytes, Decimal and Fraction make an empty value there.
    for (const [module, name] of [["builtins", "bytes"], ["decimal", "Decimal"], ["fractions", "Fraction"]]) {
      const factory = await scan(assemble(OP.PROTO, 2, global("collections", "defaultdict"), global(module!, name!), OP.TUPLE1, OP.REDUCE, OP.STOP));
      assert.deepEqual(factory.reports, [], `defaultdict(${name})`);
    }
    // gensim's Word2Vec keeps builtins.hash as its hashfxn; argparse namespaces keep str as a type.
    const kept = await scan(assemble(OP.PROTO, 2, NAMESPACE, OP.EMPTY_DICT, str("hashfxn"), global("builtins", "hash"), OP.SETITEM, str("type"), global("builtins", "str"), OP.SETITEM, OP.BUILD, OP.STOP));
    assert.deepEqual(kept.reports, []);
  });

  test("a compiled pattern's search stored as an attribute is MG101: a method calling it backtracks on what it is given", async () => {
    const search = assemble(global("builtins", "getattr"), global("re", "_compile"), str("(a+)+$"), OP.BININT1, 0, OP.TUPLE2, OP.REDUCE, str("search"), OP.TUPLE2, OP.REDUCE);
    const ctx = await scan(gadget(WEAK_DICT, assemble(str("ref_type"), search, str("_remove"), OP.BININT1, 0), assemble(str(`${"a".repeat(40)}!`), str("v"))));
    assert.match(messages(ctx, "MG101")[0] ?? "", /BUILD sets as an attribute re\.Pattern\.search, allowlisted to be stored/, JSON.stringify(ctx.reports));
  });

  test("bytes(), bytearray() and str() given a text and a quadratic codec are MG109, as _codecs.encode is", async () => {
    const text = "\u00e9".repeat(2_000);
    for (const name of ["bytes", "bytearray", "str"]) {
      const ctx = await scan(assemble(OP.PROTO, 2, global("builtins", name), OP.BINUNICODE, u32(Buffer.byteLength(text)), Buffer.from(text), str("punycode"), OP.TUPLE2, OP.REDUCE, OP.STOP));
      assert.match(messages(ctx, "MG109")[0] ?? "", new RegExp(`builtins\\.${name}\\(2000 characters, "punycode"\\) takes time`), `${name}: ${JSON.stringify(ctx.reports)}`);
    }
    const short = await scan(assemble(OP.PROTO, 2, global("builtins", "bytes"), str("abc"), str("punycode"), OP.TUPLE2, OP.REDUCE, OP.STOP));
    assert.deepEqual(short.reports, []);
  });

  test("an integer past the bound given to any call or in a state is MG109 (NumPy's seeding converts it word by word); the plain-data proof leaves it to the machine", async () => {
    const bigInt = assemble(OP.LONG4, [0x01, 0x80, 0, 0], Buffer.alloc(0x8001, 0x11));
    const seeded = await scan(assemble(OP.PROTO, 2, global("numpy.random.bit_generator", "SeedSequence"), bigInt, OP.TUPLE1, OP.REDUCE, OP.STOP));
    assertSome(messages(seeded, "MG109"), /SeedSequence is given an integer of some \d+ bits/, JSON.stringify(seeded.reports));
    const inState = await scan(assemble(OP.PROTO, 2, NAMESPACE, OP.EMPTY_DICT, str("seed"), bigInt, OP.SETITEM, OP.BUILD, OP.STOP));
    assertSome(messages(inState, "MG109"), /BUILD sets an integer of some \d+ bits/, JSON.stringify(inState.reports));
    // As hex text (protocol 0's INT and LONG): a hex digit is four bits.
    const hex = assemble(global("numpy.random._pcg64", "PCG64"), OP.MARK, `L0x${"f".repeat(70_000)}L\n`, OP.TUPLE, OP.REDUCE, OP.STOP);
    assertSome(messages(await scan(hex), "MG109"), /PCG64 is given an integer of some \d+ bits/);
    const small = await scan(assemble(OP.PROTO, 2, global("numpy.random.bit_generator", "SeedSequence"), OP.LONG1, 16, Buffer.alloc(16, 0x11), OP.TUPLE1, OP.REDUCE, OP.STOP));
    assert.deepEqual(small.reports, []);
  });

  test("however it is given (in a list, made by int(text, 16), as hex text, a bound's worth a thousand times over), a huge integer is MG109 (a twentieth round)", async () => {
    const seed = (arg: Buffer): Buffer => assemble(OP.PROTO, 2, global("numpy.random.bit_generator", "SeedSequence"), arg, OP.TUPLE1, OP.REDUCE, OP.STOP);
    const bigInt = assemble(OP.LONG4, [0x01, 0x80, 0, 0], Buffer.alloc(0x8001, 0x11));
    const hex = "f".repeat(70_000);
    const intOfHex = assemble(global("builtins", "int"), OP.BINUNICODE, u32(hex.length), hex, OP.BININT1, 16, OP.TUPLE2, OP.REDUCE);
    const hexText = (text: string): Buffer => assemble(OP.BINUNICODE, u32(text.length), text);
    const cases: [string, Buffer, RegExp][] = [
      ["a list holding it", seed(assemble(OP.EMPTY_LIST, bigInt, OP.APPEND)), /SeedSequence is given an integer of some \d+ bits/],
      ["int(text, 16)", seed(intOfHex), /SeedSequence is given an integer of some 280000 bits/],
      ["Decimal(int(text, 16))", assemble(OP.PROTO, 2, global("decimal", "Decimal"), intOfHex, OP.TUPLE1, OP.REDUCE, OP.STOP), /Decimal is given an integer of some 280000 bits/],
      // Hex text past the bound is past the 64 KiB the scanner keeps of a constant.
      ["hex text NumPy converts", seed(assemble(OP.EMPTY_LIST, hexText(`0x${hex}`), OP.APPEND)), /SeedSequence is given 70002 characters of text the scanner skipped unread/],
    ];
    for (const [what, bytes, message] of cases) assertSome(messages(await scan(bytes), "MG109"), message, what);
    // One integer under the bound, handed to calls through the memo many times: the work adds up.
    const under = assemble(OP.LONG4, u32(0x7000), Buffer.alloc(0x7000, 0x11), OP.MEMOIZE, OP.POP);
    const call = assemble(global("numpy.random.bit_generator", "SeedSequence"), OP.BINGET, 0, OP.TUPLE1, OP.REDUCE, OP.POP);
    const many = await scan(assemble(OP.PROTO, 4, under, ...Array.from({ length: 200 }, () => call), OP.NONE, OP.STOP));
    assertSome(messages(many, "MG109"), /integers whose conversions take time that grows with the square of their lengths, past the bound in all/, JSON.stringify(many.reports.slice(0, 2)));
    const once = await scan(assemble(OP.PROTO, 4, under, call, OP.NONE, OP.STOP));
    assert.deepEqual(once.reports, []);
  });

  test("however deep it is nested, an integer operand past the bound is MG109, and one made at load is measured at any depth, whatever base a call gives int() (a twenty-first round)", async () => {
    const seed = (arg: Buffer): Buffer => assemble(OP.PROTO, 2, global("numpy.random.bit_generator", "SeedSequence"), arg, OP.TUPLE1, OP.REDUCE, OP.STOP);
    let deep = assemble(OP.LONG4, [0x01, 0x80, 0, 0], Buffer.alloc(0x8001, 0x11));
    for (let i = 0; i < 5; i++) deep = assemble(OP.EMPTY_LIST, deep, OP.APPEND);
    assertSome(messages(await scan(seed(deep)), "MG109"), /the stream holds an integer of 32769 bytes/);
    const hex = "f".repeat(70_000);
    const base = assemble(global("builtins", "int"), str("16"), OP.TUPLE1, OP.REDUCE);
    let made = assemble(global("builtins", "int"), OP.BINUNICODE, u32(hex.length), hex, base, OP.TUPLE2, OP.REDUCE);
    for (let i = 0; i < 5; i++) made = assemble(OP.EMPTY_LIST, made, OP.APPEND);
    assertSome(messages(await scan(seed(made)), "MG109"), /SeedSequence is given an integer of some 350000 bits/);
  });

  test("what SETITEMS or APPENDS hand an object's own method is held to an argument's bounds (a twentieth round: lil_matrix's __setitem__)", async () => {
    // Forty tuples each holding the one before twice: 2**40 items to hash or compare, in 200 bytes.
    let dag = assemble(OP.EMPTY_TUPLE, OP.MEMOIZE);
    for (let i = 1; i <= 40; i++) dag = assemble(dag, OP.POP, OP.BINGET, i - 1, OP.BINGET, i - 1, OP.TUPLE2, OP.MEMOIZE);
    const lil = assemble(global("copyreg", "_reconstructor"), global("scipy.sparse._lil", "lil_matrix"), global("builtins", "object"), OP.NONE, OP.TUPLE3, OP.REDUCE, OP.EMPTY_DICT, OP.BUILD);
    const handed = await scan(assemble(OP.PROTO, 4, dag, OP.POP, lil, OP.MARK, OP.BININT1, 0, OP.BINGET, 40, OP.SETITEMS, OP.STOP));
    assert.match(messages(handed, "MG109")[0] ?? "", /an item handed to .*lil_matrix.*'s own method walks a structure/, JSON.stringify(handed.reports));
    const decimal = reduce(global("decimal", "Decimal"), assemble(str("1e999999999"), OP.TUPLE1));
    const appended = await scan(assemble(OP.PROTO, 4, lil, OP.MARK, decimal, OP.APPENDS, OP.STOP));
    assert.match(messages(appended, "MG109")[0] ?? "", /is a Decimal of exponent 999999999/, JSON.stringify(appended.reports));
    // An OrderedDict given ordinary keys and values, as every state_dict is, says nothing.
    const ordinary = await scan(assemble(OP.PROTO, 4, global("collections", "OrderedDict"), OP.EMPTY_TUPLE, OP.REDUCE, OP.MARK, str("w"), OP.BININT1, 1, str("b"), OP.EMPTY_LIST, OP.SETITEMS, OP.STOP));
    assert.deepEqual(ordinary.reports, []);
  });

  test("Fraction and Decimal given an integer or a number's text past their bound are MG109; ordinary ones pass", async () => {
    const bigInt = assemble(OP.LONG4, [0x01, 0x80, 0, 0], Buffer.alloc(0x8001, 0x11));
    const bigText = assemble(OP.BINUNICODE, [0x81, 0x38, 0x01, 0], Buffer.alloc(80_001, "9"));
    for (const [module, name] of [["fractions", "Fraction"], ["decimal", "Decimal"]] as const) {
      for (const arg of [bigInt, bigText]) {
        const ctx = await scan(assemble(OP.PROTO, 2, global(module, name), arg, OP.TUPLE1, OP.REDUCE, OP.STOP));
        assert.match(messages(ctx, "MG109")[0] ?? "", /grows with the square of its length/, `${module}.${name}: ${JSON.stringify(ctx.reports)}`);
      }
      const ordinary = await scan(assemble(OP.PROTO, 2, global(module, name), str("3.25"), OP.TUPLE1, OP.REDUCE, OP.STOP));
      assert.deepEqual(ordinary.reports, []);
    }
  });
});
