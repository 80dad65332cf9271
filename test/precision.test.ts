/**
 * Benign files real libraries write that a scan once blocked (a review of 1,440 files from real
 * libraries: scripts/make_precision_fixtures.py), each beside the attack its rule is there for.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { scanFile, scanSource } from "../src/engine.js";
import { scanPickle } from "../src/formats/pickle.js";
import { BufferSource } from "../src/sources/byteSource.js";
import { atLeast } from "../src/types.js";
import { RecordingContext } from "./support/context.js";
import { OP, assemble, global, str, u32, u64 } from "./support/pickle.js";

const ROOT = join(import.meta.dirname, "..", "..", "test", "fixtures", "precision");

describe("benign files once blocked pass", () => {
  const files = readdirSync(ROOT).sort();
  test("the fixtures are there", () => assert.ok(files.length >= 11, files.join(", ")));
  for (const file of files) {
    test(`passes ${file}`, async () => {
      const result = await scanFile(join(ROOT, file), file);
      const loud = result.findings.filter((f) => atLeast(f.severity, "medium"));
      assert.deepEqual(loud.map((f) => `${f.rule} ${f.message}`), []);
      assert.equal(result.verdict, "pass");
    });
  }
});

async function rules(bytes: Buffer): Promise<string[]> {
  const ctx = new RecordingContext();
  await scanPickle(new BufferSource("t.pkl", bytes), ctx, { layout: "plain" });
  return ctx.reports.map((r) => `${r.rule} ${r.message}`);
}

describe("what those rules are for is still reported", () => {
  test("dateutil's tzfile given a file to open (not None, as pickles give it)", async () => {
    const found = await rules(assemble(OP.PROTO, 2, global("dateutil.tz.tz", "tzfile"), str("/etc/passwd"), OP.TUPLE1, OP.REDUCE, OP.STOP));
    assert.ok(found.some((l) => /^MG101 calls dateutil\.tz\.tz\.tzfile with "\/etc\/passwd" as the file it opens/.test(l)), JSON.stringify(found));
    const pickled = await rules(assemble(OP.PROTO, 2, global("dateutil.tz.tz", "tzfile"), OP.NONE, str("/usr/share/zoneinfo/Europe/London"), OP.TUPLE2, OP.REDUCE, OP.STOP));
    assert.deepEqual(pickled, []);
  });

  test("a transformers model's prepare_inputs_for_generation kept bound (a torch.save'd PEFT model) passes; its other methods are reported", async () => {
    const model = assemble(global("copyreg", "__newobj__"), global("transformers.models.llama.modeling_llama", "LlamaForCausalLM"), OP.TUPLE1, OP.REDUCE);
    const bound = (method: string): Buffer => assemble(OP.PROTO, 2, global("builtins", "getattr"), model, str(method), OP.TUPLE2, OP.REDUCE, OP.STOP);
    assert.deepEqual(await rules(bound("prepare_inputs_for_generation")), []);
    const other = await rules(bound("save_pretrained"));
    assert.ok(other.some((l) => /^MG108 getattr fetches "save_pretrained"/.test(l)), JSON.stringify(other));
  });

  test("methods bound to a str constant or a compiled pattern may be stored; a pattern's called at load, or its sub, and an amplifying call are reported", async () => {
    const bound = (target: Buffer, method: string): Buffer => assemble(global("builtins", "getattr"), target, str(method), OP.TUPLE2, OP.REDUCE);
    const pattern = assemble(global("re", "_compile"), str("\\w+"), OP.BININT1, 32, OP.TUPLE2, OP.REDUCE);
    assert.deepEqual(await rules(assemble(OP.PROTO, 2, bound(str(" "), "join"), bound(pattern, "search"), OP.TUPLE2, OP.STOP)), []);
    const called = await rules(assemble(OP.PROTO, 2, bound(pattern, "search"), str("abc"), OP.TUPLE1, OP.REDUCE, OP.STOP));
    assert.ok(called.some((l) => /^MG101 calls re\.Pattern\.search/.test(l)), JSON.stringify(called));
    const sub = await rules(assemble(OP.PROTO, 2, bound(pattern, "sub"), OP.STOP));
    assert.ok(sub.some((l) => /^MG108 getattr fetches "sub"/.test(l)), JSON.stringify(sub));
    const format = await rules(assemble(OP.PROTO, 2, bound(str("{0.__class__}"), "format"), OP.STOP));
    assert.ok(format.some((l) => /^MG108 getattr fetches "format"/.test(l)), JSON.stringify(format));
    // Bound to a 64 kB constant, replace with a 128 kB text asks for 8 GB.
    const big = assemble(OP.BINBYTES, Buffer.from([0, 0, 1, 0]), Buffer.alloc(65536, "A"));
    const replaced = await rules(assemble(OP.PROTO, 3, bound(big, "replace"), OP.SHORT_BINBYTES, 1, "A", OP.BINBYTES, Buffer.from([0, 0, 2, 0]), Buffer.alloc(131072, "B"), OP.TUPLE2, OP.REDUCE, OP.STOP));
    assert.ok(replaced.some((l) => /^MG109 .*makes up to 8589934592 characters or bytes/.test(l)), JSON.stringify(replaced));
  });

  test("type hints, key functions and a container's pure methods may be stored; calling one at load, or one made of what is not data, is reported", async () => {
    const reduce = (fn: Buffer, ...args: Parameters<typeof assemble>): Buffer => assemble(fn, OP.MARK, ...args, OP.TUPLE, OP.REDUCE);
    const int = global("builtins", "int");
    const hint = reduce(global("_operator", "getitem"), global("typing", "List"), int);
    const builtinHint = reduce(global("types", "GenericAlias"), global("builtins", "list"), assemble(int, OP.TUPLE1));
    const union = reduce(global("_functools", "reduce"), global("_operator", "or_"), assemble(int, reduce(global("builtins", "type"), OP.NONE), OP.TUPLE2));
    const keys = reduce(global("_operator", "itemgetter"), str("a"), OP.BININT1, 1);
    const names = reduce(global("_operator", "attrgetter"), str("name.first"));
    const get = reduce(global("builtins", "getattr"), assemble(OP.EMPTY_DICT, str("a"), OP.BININT1, 1, OP.SETITEM), str("get"));
    assert.deepEqual(await rules(assemble(OP.PROTO, 2, OP.MARK, hint, builtinHint, union, keys, names, get, OP.LIST, OP.STOP)), []);
    const found = async (bytes: Buffer, pattern: RegExp): Promise<void> => {
      const lines = await rules(assemble(OP.PROTO, 2, bytes, OP.STOP));
      assert.ok(lines.some((l) => pattern.test(l)), `${pattern}: ${JSON.stringify(lines)}`);
    };
    // Called at load: a hint constructs its origin, a getter fetches by name.
    for (const [made, name] of [[hint, "typing\\.List\\[…\\]"], [builtinHint, "builtins\\.list\\[…\\]"], [union, "a union of types"], [keys, "operator\\.itemgetter"], [names, "operator\\.attrgetter"]] as const) {
      await found(assemble(made, OP.EMPTY_TUPLE, OP.REDUCE), new RegExp(`^MG101 calls ${name}`));
    }
    // Kept where dict(x) calls it: an attribute named keys.
    await found(assemble(global("argparse", "Namespace"), OP.EMPTY_TUPLE, OP.NEWOBJ, OP.EMPTY_DICT, str("keys"), keys, OP.SETITEM, OP.BUILD), /^MG101 calls operator\.itemgetter/);
    // BUILD on one: a typing alias passes attributes to its origin, and its own __origin__ is what a call calls.
    await found(assemble(hint, OP.EMPTY_DICT, str("__origin__"), global("builtins", "dict"), OP.SETITEM, OP.BUILD), /^MG106 BUILD sets attributes on typing\.List\[…\]/);
    // Not a typing form, a parameter made at load, another reducer or operator, an initial value, an instance in a union.
    const made = reduce(global("collections", "OrderedDict"));
    await found(reduce(global("_operator", "getitem"), global("collections", "OrderedDict"), str("x")), /^MG100 calls _operator\.getitem/);
    await found(reduce(global("_operator", "getitem"), global("typing", "List"), made), /^MG100 calls _operator\.getitem/);
    await found(reduce(global("types", "GenericAlias"), global("builtins", "list"), assemble(made, OP.TUPLE1)), /^MG100 calls types\.GenericAlias/);
    // A builtin generic of a class whose methods would run on a foreign self (APPENDS calls origin.extend).
    await found(reduce(global("types", "GenericAlias"), global("argparse", "Namespace"), assemble(int, OP.TUPLE1)), /^MG100 calls types\.GenericAlias/);
    await found(reduce(global("_functools", "reduce"), global("_operator", "add"), assemble(int, int, OP.TUPLE2)), /^MG10[01] calls _functools\.reduce/);
    await found(reduce(global("_functools", "reduce"), global("_operator", "or_"), assemble(int, made, OP.TUPLE2)), /^MG10[01] calls _functools\.reduce/);
    await found(reduce(global("_functools", "reduce"), global("_operator", "or_"), assemble(int, int, OP.TUPLE2), int), /^MG10[01] calls _functools\.reduce/);
    // Getters of what is not a constant, or by a private or dunder name.
    await found(reduce(global("_operator", "itemgetter"), made), /^MG100 calls _operator\.itemgetter/);
    await found(reduce(global("_operator", "attrgetter"), str("__globals__")), /^MG100 calls _operator\.attrgetter/);
    await found(reduce(global("_operator", "attrgetter"), str("a._b")), /^MG100 calls _operator\.attrgetter/);
    // A hint whose shared parameters make a graph that hashing walks path by path is not excused.
    let nested = assemble(reduce(global("types", "GenericAlias"), global("builtins", "list"), assemble(int, OP.TUPLE1)), OP.BINPUT, 0);
    for (let level = 1; level <= 3; level++) {
      nested = assemble(nested, OP.POP, reduce(global("types", "GenericAlias"), global("builtins", "list"), assemble(OP.MARK, ...Array.from({ length: 64 }, () => assemble(OP.BINGET, level - 1)), OP.TUPLE)), OP.BINPUT, level);
    }
    await found(nested, /^MG100 calls types\.GenericAlias/);
    // Bound to a list of shared lists, count compares each path: walked like the unbound method's arguments.
    const ints = assemble(OP.EMPTY_LIST, OP.MARK, ...Array.from({ length: 1000 }, () => assemble(OP.BININT2, 1, 0)), OP.APPENDS, OP.BINPUT, 9);
    const shared = assemble(OP.EMPTY_LIST, OP.MARK, ints, ...Array.from({ length: 999 }, () => assemble(OP.BINGET, 9)), OP.APPENDS, OP.BINPUT, 10);
    const outer = assemble(OP.EMPTY_LIST, OP.MARK, shared, ...Array.from({ length: 999 }, () => assemble(OP.BINGET, 10)), OP.APPENDS);
    await found(reduce(reduce(global("builtins", "getattr"), outer, str("count")), OP.EMPTY_LIST), /^MG109 .*walks a structure/);
    // Many builtin-method allocations, each under the bound, pass it together.
    await found(assemble(OP.MARK, ...Array.from({ length: 40 }, () => reduce(reduce(global("builtins", "getattr"), str("1"), str("zfill")), assemble(OP.BININT, Buffer.from(Uint32Array.of(10_000_000).buffer)))), OP.LIST), /^MG109 builtin text methods make \d+ characters or bytes in all/);
    // A container's methods that change it are not excused.
    await found(reduce(global("builtins", "getattr"), OP.EMPTY_DICT, str("update")), /^MG108 getattr fetches "update"/);
    await found(reduce(global("builtins", "getattr"), OP.EMPTY_LIST, str("append")), /^MG108 getattr fetches "append"/);
  });

  test("type() of a constant is its type; type() making a class is not excused", async () => {
    assert.deepEqual(await rules(assemble(OP.PROTO, 2, global("builtins", "type"), OP.NONE, OP.TUPLE1, OP.REDUCE, OP.STOP)), []);
    const made = await rules(assemble(OP.PROTO, 2, global("builtins", "type"), str("X"), OP.EMPTY_TUPLE, OP.EMPTY_DICT, OP.TUPLE3, OP.REDUCE, OP.STOP));
    assert.ok(made.some((l) => /^MG100 .*builtins\.type/.test(l)), JSON.stringify(made));
  });

  test("function references models keep are stored, never called: a call of one at load is reported", async () => {
    for (const [module, name] of [["builtins", "len"], ["scipy.spatial.distance", "cosine"], ["torch.nn.functional", "cross_entropy"]] as const) {
      const found = await rules(assemble(OP.PROTO, 2, global(module, name), str("x"), OP.TUPLE1, OP.REDUCE, OP.STOP));
      assert.ok(found.some((l) => l.startsWith("MG101") && l.includes(`${module}.${name}`)), JSON.stringify(found));
    }
  });

  test("SciPy's special ufuncs, xarray's Dataset and sentencepiece's processor are stored or rebuilt, never called at load", async () => {
    for (const [module, name] of [["scipy.special._special_ufuncs", "expit"], ["scipy.special._ufuncs", "erfinv"], ["xarray.core.dataset", "Dataset"], ["sentencepiece", "SentencePieceProcessor"]]) {
      const found = await rules(assemble(OP.PROTO, 2, global(module!, name!), str("/etc/passwd"), OP.TUPLE1, OP.REDUCE, OP.STOP));
      assert.ok(found.some((l) => l.startsWith("MG101") && l.includes(`${module}.${name}`)), JSON.stringify(found));
    }
  });

  describe("torch.storage._load_from_bytes, as tensors pickle outside torch.save", () => {
    const binbytes = (b: Buffer): Buffer => assemble(OP.BINBYTES, u32(b.length), b);
    const binunicode = (t: string): Buffer => assemble(OP.BINUNICODE, u32(Buffer.byteLength(t)), Buffer.from(t));
    /** torch.save's legacy layout: magic number, protocol version, system info, `object`, storage keys. */
    const legacy = (object: Buffer, info = assemble(OP.EMPTY_DICT)): Buffer =>
      assemble(
        [OP.PROTO, 2, OP.LONG1, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, OP.STOP],
        [OP.PROTO, 2, OP.BININT2, 0xe9, 0x03, OP.STOP],
        OP.PROTO, 2, info, OP.STOP,
        OP.PROTO, 2, object, OP.STOP,
        OP.PROTO, 2, OP.EMPTY_LIST, str("k"), OP.APPEND, OP.STOP,
        u64(1n), [0, 0, 0x80, 0x3f],
      );
    /** The persistent id of one float storage, key "k", of one element. */
    const storage = assemble(OP.MARK, str("storage"), global("torch", "FloatStorage"), str("k"), str("cpu"), OP.BININT1, 1, OP.TUPLE, OP.BINPERSID);
    const load = (arg: Buffer): Buffer => assemble(OP.PROTO, 3, global("torch.storage", "_load_from_bytes"), arg, OP.TUPLE1, OP.REDUCE);
    const scan = async (bytes: Buffer): Promise<{ verdict: string; found: string[] }> => {
      const r = await scanSource(Object.assign(new BufferSource("t.pkl", bytes), { bytesRead: 0 }), "t.pkl");
      return { verdict: r.verdict, found: r.findings.map((f) => `${f.rule} ${f.severity} ${f.message}`) };
    };

    test("bytes holding one storage, given as bytes or as protocol 2's latin-1 text, pass", async () => {
      assert.deepEqual(await scan(assemble(load(binbytes(legacy(storage))), OP.STOP)), { verdict: "pass", found: [] });
      const text = assemble(global("_codecs", "encode"), binunicode(legacy(storage).toString("latin1")), str("latin1"), OP.TUPLE2, OP.REDUCE);
      assert.deepEqual(await scan(assemble(load(text), OP.STOP)), { verdict: "pass", found: [] });
    });

    test("a tensor rebuilt on the loaded storage is checked against its size, as a checkpoint's is (P15b)", async () => {
      const tensor = (size: number): Buffer =>
        assemble(OP.PROTO, 3, global("torch._utils", "_rebuild_tensor_v2"), OP.MARK, load(binbytes(legacy(storage))).subarray(2), OP.BININT1, 0,
          OP.BININT, u32(size), OP.TUPLE1, OP.BININT1, 1, OP.TUPLE1, OP.NEWFALSE, global("collections", "OrderedDict"), OP.EMPTY_TUPLE, OP.REDUCE, OP.TUPLE, OP.REDUCE, OP.STOP);
      assert.deepEqual(await scan(tensor(1)), { verdict: "pass", found: [] });
      const { verdict, found } = await scan(tensor(2 ** 30));
      assert.equal(verdict, "block");
      assert.ok(found.some((l) => /^MG120 high tensor view of storage k reaches element 1073741823 of a storage with 1 elements/.test(l)), JSON.stringify(found));
    });

    test("a storage's location that is no string is MG123: torch.load compares it and calls its startswith", async () => {
      const objectLocation = assemble(OP.MARK, str("storage"), global("torch", "FloatStorage"), str("k"), global("collections", "OrderedDict"), OP.EMPTY_TUPLE, OP.REDUCE, OP.BININT1, 1, OP.TUPLE, OP.BINPERSID);
      const { found } = await scan(assemble(load(binbytes(legacy(objectLocation))), OP.STOP));
      assert.ok(found.some((l) => /^MG123 .*storage location is not a string/.test(l)), JSON.stringify(found));
    });

    test("what the bytes' pickles do is reported as a file torch.load opened would be", async () => {
      const system = assemble(global("posix", "system"), str("id"), OP.TUPLE1, OP.REDUCE);
      const { verdict, found } = await scan(assemble(load(binbytes(legacy(storage, system))), OP.STOP));
      assert.equal(verdict, "block");
      assert.ok(found.some((l) => l.startsWith("MG100 critical calls posix.system")), JSON.stringify(found));
    });

    test("bytes whose load returns anything but the storage, or that a zip or tar reader takes first, are reported", async () => {
      // The loader hands back a ('module', X, …) id's X as it is (a red team returned a SciPy distribution to set state on).
      const moduleId = assemble(OP.MARK, str("module"), global("scipy.stats._continuous_distns", "alpha_gen"), str(""), str(""), OP.TUPLE, OP.BINPERSID);
      const notAStorageType = assemble(OP.MARK, str("storage"), global("builtins", "dict"), str("k"), str("cpu"), OP.BININT1, 1, OP.TUPLE, OP.BINPERSID);
      const notStorage = [assemble(storage, OP.TUPLE1), assemble(OP.EMPTY_DICT), assemble(global("collections", "OrderedDict"), OP.EMPTY_TUPLE, OP.REDUCE), moduleId, notAStorageType];
      for (const object of notStorage) {
        const { found } = await scan(assemble(load(binbytes(legacy(object))), OP.STOP));
        assert.ok(found.some((l) => l.startsWith("MG100 high calls torch.storage._load_from_bytes on bytes that are not")), JSON.stringify(found));
      }
      // torch.load reads a frame whole: a decoy storage id after a STOP inside the frame is never its object pickle,
      // which starts at the frame's end (a review hid a ('module', …) id there).
      const framed = assemble(OP.EMPTY_DICT, OP.STOP, OP.PROTO, 2, storage, OP.STOP);
      const hidden = Buffer.concat([
        legacy(storage).subarray(0, 21),
        assemble(OP.PROTO, 4, OP.FRAME, u64(BigInt(framed.length)), framed),
        assemble(OP.PROTO, 2, moduleId, OP.STOP, OP.PROTO, 2, OP.EMPTY_LIST, OP.STOP),
      ]);
      const { found: behindFrame } = await scan(assemble(load(binbytes(hidden)), OP.STOP));
      assert.ok(behindFrame.some((l) => l.startsWith("MG100 high calls torch.storage._load_from_bytes on bytes that are not")), JSON.stringify(behindFrame));
      assert.ok(behindFrame.some((l) => l.startsWith("MG131 high STOP at")), JSON.stringify(behindFrame));
      // A system info string spans the tar header's fields; its checksum field is then filled in.
      const padded = legacy(storage, binunicode(" ".repeat(600)));
      padded.fill(0x20, 148, 156);
      const sum = padded.subarray(0, 512).reduce((a, b) => a + b, 0);
      padded.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
      for (const bytes of [padded, Buffer.concat([Buffer.from("PK"), legacy(storage)])]) {
        const { found } = await scan(assemble(load(binbytes(bytes)), OP.STOP));
        assert.ok(found.some((l) => l.startsWith("MG100 high calls torch.storage._load_from_bytes on bytes that are not")), JSON.stringify(found));
      }
    });

    test("the loaded storage called, or bytes some other call makes, are reported", async () => {
      const called = await scan(assemble(load(binbytes(legacy(storage))), OP.EMPTY_TUPLE, OP.REDUCE, OP.STOP));
      assert.ok(called.found.some((l) => l.startsWith("MG107 high REDUCE calls a value produced at load time")), JSON.stringify(called.found));
      const made = assemble(global("_codecs", "encode"), binunicode(legacy(storage).toString("latin1")), str("utf-8"), OP.TUPLE2, OP.REDUCE);
      const other = await scan(assemble(load(made), OP.STOP));
      assert.ok(other.found.some((l) => l.startsWith("MG100 high calls torch.storage._load_from_bytes, which runs torch.load")), JSON.stringify(other.found));
      const twice = await scan(assemble(OP.PROTO, 3, global("torch.storage", "_load_from_bytes"), binbytes(legacy(storage)), OP.NONE, OP.TUPLE2, OP.REDUCE, OP.STOP));
      assert.ok(twice.found.some((l) => l.startsWith("MG100 high calls torch.storage._load_from_bytes, which runs torch.load")), JSON.stringify(twice.found));
    });
  });
});

describe("the long-tail libraries a fifth precision measurement added (test/fixtures/long-tail: their own pickles pass)", () => {
  test("cftime's rebuilder calls the class it is given: a construct-only class there is called", async () => {
    const found = await rules(assemble(OP.PROTO, 2, global("cftime._cftime", "_create_datetime"), global("skrf.network", "Network"), str("/etc/passwd"), OP.TUPLE1, OP.EMPTY_DICT, OP.TUPLE3, OP.REDUCE, OP.STOP));
    assert.ok(found.some((l) => /^MG101 calls skrf\.network\.Network, which is allowlisted to be stored or constructed, not called/.test(l)), JSON.stringify(found));
  });

  test("bitarray(n) allocates n bits: 10**10 is MG109", async () => {
    const big = Buffer.alloc(5);
    big.writeUIntLE(10 ** 10, 0, 5);
    const found = await rules(assemble(OP.PROTO, 2, global("bitarray", "bitarray"), OP.LONG1, 5, big, OP.TUPLE1, OP.REDUCE, OP.STOP));
    assert.ok(found.some((l) => /^MG109 bitarray\.bitarray is called with sizes of 10000000000 elements/.test(l)), JSON.stringify(found));
  });

  test("scikit-rf's Network and nibabel's images are construct-only: Network(file) unpickles its file, so a call is MG101", async () => {
    for (const [module, name] of [["skrf.network", "Network"], ["nibabel.nifti1", "Nifti1Image"]]) {
      const found = await rules(assemble(OP.PROTO, 2, global(module!, name!), str("/etc/passwd"), OP.TUPLE1, OP.REDUCE, OP.STOP));
      assert.ok(found.some((l) => new RegExp(`^MG101 .*${module!.replace(".", "\\.")}\\.${name}`).test(l)), JSON.stringify(found));
    }
  });
});

describe("precision corpora fp17 and fp18's libraries (requirements-h; test/fixtures/long-tail-h: their own pickles pass)", () => {
  test("sortedcontainers' collections call their key on every item: a construct-only class there is MG101", async () => {
    for (const [module, name, args] of [
      ["sortedcontainers.sortedlist", "SortedKeyList", assemble(OP.MARK, str("/etc/passwd"), OP.LIST, global("skrf.network", "Network"), OP.TUPLE2)],
      ["sortedcontainers.sortedlist", "SortedList", assemble(OP.MARK, str("/etc/passwd"), OP.LIST, global("skrf.network", "Network"), OP.TUPLE2)],
      ["sortedcontainers.sortedset", "SortedSet", assemble(OP.MARK, str("/etc/passwd"), OP.LIST, global("skrf.network", "Network"), OP.TUPLE2)],
      ["sortedcontainers.sorteddict", "SortedDict", assemble(global("skrf.network", "Network"), OP.EMPTY_DICT, str("/etc/passwd"), OP.NONE, OP.SETITEM, OP.TUPLE2)],
    ] as const) {
      const found = await rules(assemble(OP.PROTO, 2, global(module, name), args, OP.REDUCE, OP.STOP));
      assert.ok(found.some((l) => /^MG101 .*skrf\.network\.Network/.test(l)), `${name}: ${JSON.stringify(found)}`);
    }
    // Their own pickles: the class called with its items and operator.neg (pickled as _operator.neg).
    const own = assemble(OP.PROTO, 2, global("sortedcontainers.sortedlist", "SortedKeyList"), OP.MARK, OP.BININT1, 1, OP.BININT1, 2, OP.LIST,
      global("_operator", "neg"), OP.TUPLE2, OP.REDUCE, OP.STOP);
    assert.deepEqual(await rules(own), []);
  });

  test("construct-only: Biopython's PairwiseAligner(scoring) loads a matrix file by name, COCO(path) its annotations: a call is MG101", async () => {
    for (const [module, name] of [["Bio.Align", "PairwiseAligner"], ["pycocotools.coco", "COCO"], ["meshio._mesh", "Mesh"],
      ["matplotlib.colors", "ListedColormap"], ["pydicom.dataset", "FileMetaDataset"], ["music21.stream.base", "Stream"]] as const) {
      const found = await rules(assemble(OP.PROTO, 2, global(module, name), str("../../../etc/passwd"), OP.TUPLE1, OP.REDUCE, OP.STOP));
      assert.ok(found.some((l) => new RegExp(`^MG101 .*${module.replace(/\./g, "\\.")}\\.${name}`).test(l)), `${name}: ${JSON.stringify(found)}`);
    }
  });

  test("functions objects keep as settings are stored, never called at load", async () => {
    for (const [module, name] of [["pandera.backends.base.builtin_checks", "in_range"], ["ot.da", "distribution_estimation_uniform"],
      ["matplotlib.cbook", "_exception_printer"], ["optuna._gp.prior", "default_log_prior"],
      ["astropy.cosmology._src.flrw.scalar_inv_efuncs", "flcdm_inv_efunc"]] as const) {
      const found = await rules(assemble(OP.PROTO, 2, global(module, name), OP.BININT1, 1, OP.TUPLE1, OP.REDUCE, OP.STOP));
      assert.ok(found.some((l) => new RegExp(`^MG101 calls ${module.replace(/\./g, "\\.")}\\.${name}, which is allowlisted to be stored`).test(l)), `${name}: ${JSON.stringify(found)}`);
      assert.deepEqual(await rules(assemble(OP.PROTO, 2, global(module, name), OP.STOP)), [], `${name} stored`);
    }
  });

  test("matplotlib's _create_empty_object_of_class constructs only what it is given: a class off the allowlist is MG102", async () => {
    const ok = await rules(assemble(OP.PROTO, 2, global("matplotlib.colors", "_create_empty_object_of_class"), global("matplotlib.colors", "Normalize"), OP.TUPLE1, OP.REDUCE, OP.STOP));
    assert.deepEqual(ok, []);
    const hdf = await rules(assemble(OP.PROTO, 2, global("matplotlib.colors", "_create_empty_object_of_class"), global("emcee.backends.hdf", "HDFBackend"), OP.TUPLE1, OP.REDUCE, OP.STOP));
    assert.ok(hdf.some((l) => /^MG102 .*emcee\.backends\.hdf\.HDFBackend/.test(l)), JSON.stringify(hdf));
  });
});

describe("transformers' data collators (a fifth precision measurement)", () => {
  test("restored by __newobj__ and their __dict__ they pass; called at load they are MG101", async () => {
    const collator = global("transformers.data.data_collator", "DataCollatorWithPadding");
    const state = assemble(OP.EMPTY_DICT, str("padding"), OP.NEWTRUE, OP.SETITEM, str("return_tensors"), str("pt"), OP.SETITEM);
    assert.deepEqual(await rules(assemble(OP.PROTO, 4, collator, OP.EMPTY_TUPLE, OP.NEWOBJ, state, OP.BUILD, OP.STOP)), []);
    const called = await rules(assemble(OP.PROTO, 4, collator, OP.EMPTY_TUPLE, OP.REDUCE, OP.STOP));
    assert.ok(called.some((l) => /^MG101 calls transformers\.data\.data_collator\.DataCollatorWithPadding, which is allowlisted to be stored or constructed, not called/.test(l)), JSON.stringify(called));
  });
});

describe("dill's types by their aliases (a third precision corpus: dill.dump of a partial)", () => {
  test("_load_type('PartialType') is functools.partial: a partial of an allowlisted function passes, one of a class never to be called does not", async () => {
    const partial = assemble(global("dill._dill", "_load_type"), str("PartialType"), OP.TUPLE1, OP.REDUCE);
    const state = assemble(OP.MARK, global("numpy", "percentile"), OP.EMPTY_TUPLE, OP.EMPTY_DICT, str("q"), OP.BININT1, 95, OP.SETITEM, OP.NONE, OP.TUPLE);
    assert.deepEqual(await rules(assemble(OP.PROTO, 4, partial, global("numpy", "percentile"), OP.TUPLE1, OP.REDUCE, state, OP.BUILD, OP.STOP)), []);
    const held = await rules(assemble(OP.PROTO, 4, partial, global("skrf.network", "Network"), str("/etc/passwd"), OP.TUPLE2, OP.REDUCE, OP.STOP));
    assert.ok(held.some((l) => /^MG101 .*holds skrf\.network\.Network/.test(l)), JSON.stringify(held));
    // Other aliases stay reported: ItemGetterType is operator.itemgetter, indirection by name.
    const getter = await rules(assemble(OP.PROTO, 4, global("dill._dill", "_load_type"), str("ItemGetterType"), OP.TUPLE1, OP.REDUCE, OP.STOP));
    assert.ok(getter.some((l) => /^MG108 dill's _load_type fetches the type "ItemGetterType"/.test(l)), JSON.stringify(getter));
  });
});
