/**
 * ONNX, TensorFlow SavedModel and TFLite scanners run directly on the committed fixtures
 * (scripts/make_graph_format_fixtures.py) and on hostile inputs built here: benign models have no
 * finding at medium or above, malicious ones are reported with the names they hide, and no input
 * makes a scanner throw.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { FormatScanner } from "../src/formats/context.js";
import { escapesFolder, scanOnnx, sniffOnnx } from "../src/formats/onnx.js";
import { scanKerasMetadata, scanSavedModel, scanSavedModelText, scanTflite, sniffKerasMetadata, sniffSavedModel, sniffSavedModelByName, sniffSavedModelText, sniffTflite } from "../src/formats/tensorflow.js";
import { RULES } from "../src/rules/catalogue.js";
import { BufferSource } from "../src/sources/byteSource.js";
import { atLeast } from "../src/types.js";
import { RecordingContext, type Reported } from "./support/context.js";
import { applyMutations, mutationArb } from "./support/mutate.js";
import { lazyTypes, wireDifferential } from "../src/formats/schemas/protobuf.js";
import { pb } from "./support/protobuf.js";

const FIXTURES = join(import.meta.dirname, "..", "..", "test", "fixtures");

interface Entry {
  file: string;
  expect: "pass" | "block";
  threat: string | null;
  mentions: string[];
}
const manifest = JSON.parse(readFileSync(join(FIXTURES, "graph-formats", "manifest.json"), "utf8")) as Entry[];

/** Which of our sniffers claim the bytes, as the engine would ask them. */
function sniffers(bytes: Uint8Array, name: string): FormatScanner[] {
  const head = bytes.subarray(0, 4096);
  const found: FormatScanner[] = [];
  if (sniffOnnx(head, bytes.length)) found.push(scanOnnx);
  if (sniffSavedModel(head, bytes.length) || sniffSavedModelByName(head, bytes.length, name)) found.push(scanSavedModel);
  if (sniffKerasMetadata(head, bytes.length, name)) found.push(scanKerasMetadata);
  if (sniffTflite(head, bytes.length)) found.push(scanTflite);
  return found;
}

async function run(scanner: FormatScanner, bytes: Uint8Array, name = "model"): Promise<Reported[]> {
  const ctx = new RecordingContext([], undefined, 0, name, name);
  await scanner(new BufferSource(name, bytes), ctx);
  return ctx.reports;
}

const loud = (reports: Reported[]): Reported[] => reports.filter((r) => atLeast(r.extra.severity ?? RULES[r.rule].severity, "medium"));
const shown = (reports: Reported[]): string => JSON.stringify(reports, null, 1);

describe("graph-format fixtures", () => {
  test("the manifest has benign and malicious fixtures for O1, O2 and T1", () => {
    assert.ok(manifest.filter((e) => e.expect === "pass").length >= 5);
    for (const t of ["O1", "O2", "T1"]) assert.ok(manifest.some((e) => e.threat === t), `no fixture for ${t}`);
  });

  for (const entry of manifest) {
    test(`${entry.expect === "pass" ? "passes" : "blocks"} ${entry.file}`, async () => {
      const bytes = readFileSync(join(FIXTURES, entry.file));
      const found = sniffers(bytes, entry.file);
      assert.equal(found.length, 1, "exactly one graph-format sniffer recognises the fixture");
      const reports = await run(found[0]!, bytes, entry.file);
      if (entry.expect === "pass") {
        assert.deepEqual(loud(reports), [], `benign fixture has findings: ${shown(reports)}`);
      } else {
        assert.ok(loud(reports).length > 0, `malicious fixture passed: ${shown(reports)}`);
        const text = JSON.stringify(reports);
        for (const m of entry.mentions) assert.ok(text.includes(JSON.stringify(m).slice(1, -1)), `no finding mentions ${m}: ${shown(reports)}`);
      }
    });
  }
});

describe("sniffing", () => {
  test("pickles and other committed model files are not ONNX, SavedModel or TFLite", () => {
    for (const dir of ["benign", "malicious"]) {
      for (const f of readdirSync(join(FIXTURES, dir))) {
        const bytes = readFileSync(join(FIXTURES, dir, f));
        assert.deepEqual(sniffers(bytes, "saved_model.pb"), [], `${dir}/${f} sniffed as a graph format`);
      }
    }
  });

  test("random bytes are almost never ONNX, SavedModel or TFLite", () => {
    const inputs = fc.sample(fc.uint8Array({ minLength: 64, maxLength: 256 }), { seed: 11, numRuns: 2000 });
    const hits = inputs.filter((b) => sniffers(b, "saved_model.pb").length > 0).length;
    assert.ok(hits <= 2, `${hits} of 2000 random inputs sniffed as a graph format`);
  });

  test("a SavedModel is recognised by its structure whatever its name, and is never ONNX", () => {
    const bytes = readFileSync(join(FIXTURES, "graph-formats", "savedmodel_benign", "saved_model.pb"));
    assert.equal(sniffSavedModel(bytes, bytes.length), true);
    // By name, a head that walks as SavedModel fields is enough; under another name the structure decides.
    assert.equal(sniffSavedModelByName(bytes, bytes.length, "export\\1\\saved_model.pb"), true);
    for (const name of ["model.pb", "graph"]) assert.equal(sniffSavedModelByName(bytes, bytes.length, name), false, name);
    assert.equal(sniffOnnx(bytes, bytes.length), false);
  });
});

// ---------------------------------------------------------------- hostile inputs

/** A graph holding one If node whose then_branch holds the next level, `levels` deep. */
function nestedIfGraph(levels: number): number[] {
  let graph = pb.len(2, "innermost");
  for (let i = 0; i < levels; i++) {
    const attr = [...pb.len(1, "then_branch"), ...pb.num(20, 5), ...pb.len(6, graph)];
    graph = pb.len(1, [...pb.len(3, `if_${i}`), ...pb.len(4, "If"), ...pb.len(5, attr)]);
  }
  return graph;
}

const onnxModel = (graph: number[]): Uint8Array => Uint8Array.from([...pb.num(1, 8), ...pb.len(7, graph)]);

describe("ONNX on hostile input", () => {
  test("a truncated model is a malformed-model finding, not a crash", async () => {
    const bytes = readFileSync(join(FIXTURES, "graph-formats", "onnx_if_subgraph.onnx"));
    const reports = await run(scanOnnx, bytes.subarray(0, Math.floor(bytes.length / 2)));
    assert.deepEqual(reports.map((r) => r.rule), ["MG233"]);
  });

  test("bytes that decode but are no ModelProto (no graph) are reported", async () => {
    assert.deepEqual((await run(scanOnnx, Uint8Array.from(pb.num(1, 8)))).map((r) => r.rule), ["MG233"]);
  });

  test("subgraphs nested past our depth bound are reported (CWE-674)", async () => {
    const reports = await run(scanOnnx, onnxModel(nestedIfGraph(33)));
    assert.deepEqual(reports.map((r) => r.rule), ["MG234"]);
    assert.match(reports[0]!.message, /deeper than 32/);
  });

  test("a subgraph depth bomb past protobuf's nesting limit is reported, not a stack overflow", async () => {
    const reports = await run(scanOnnx, onnxModel(nestedIfGraph(200)));
    assert.deepEqual(reports.map((r) => r.rule), ["MG234"]);
    assert.match(reports[0]!.message, /limit of 100/);
  });

  test("a node in a custom domain inside a deep (but bounded) subgraph is still found", async () => {
    const evil = pb.len(1, [...pb.len(3, "deep_evil"), ...pb.len(4, "Run"), ...pb.len(7, "evil.ops")]);
    const attr = [...pb.len(1, "body"), ...pb.num(20, 5), ...pb.len(6, evil)];
    const graph = pb.len(1, [...pb.len(3, "loop"), ...pb.len(4, "Loop"), ...pb.len(5, attr)]);
    const reports = await run(scanOnnx, onnxModel(graph));
    assert.deepEqual(reports.map((r) => r.rule), ["MG232"]);
    assert.match(reports[0]!.extra.evidence!, /deep_evil/);
  });

  test("a second graph field hides nothing: protobuf merges it into the first, so repeating it is MG233 (a red team's PythonOp)", async () => {
    const evil = pb.len(1, [...pb.len(3, "hidden"), ...pb.len(4, "PythonOp"), ...pb.len(7, "evil.ops")]);
    const reports = await run(scanOnnx, Uint8Array.from([...pb.num(1, 8), ...pb.len(7, evil), ...pb.len(7, pb.len(2, "decoy"))]));
    assert.deepEqual(reports.map((r) => r.rule), ["MG233"], shown(reports));
    assert.match(reports[0]!.message, /the single field ModelProto\.graph is given twice/);
    // Repeated fields (nodes, a graph's inputs) repeat as they should.
    const twoNodes = [...pb.len(1, [...pb.len(3, "a"), ...pb.len(4, "Relu")]), ...pb.len(1, [...pb.len(3, "b"), ...pb.len(4, "Relu")])];
    assert.deepEqual(await run(scanOnnx, onnxModel(twoNodes)), []);
  });

  test("every location entry of a tensor is checked: onnx reads the last, a reader taking the first saw a sibling file (rt20)", async () => {
    const entry = (key: string, value: string) => pb.len(13, [...pb.len(1, key), ...pb.len(2, value)]);
    const tensor = (...locations: string[]) => pb.len(5, [...pb.len(8, "w"), ...locations.flatMap((l) => entry("location", l)), ...pb.num(14, 1)]);
    const reports = await run(scanOnnx, onnxModel(tensor("w.bin", "../../etc/passwd")));
    assert.deepEqual(reports.map((r) => r.rule).sort(), ["MG230", "MG231"], shown(reports));
    assert.match(reports.find((r) => r.rule === "MG230")!.message, /"\.\.\/\.\.\/etc\/passwd"/);
    assert.match(reports.find((r) => r.rule === "MG231")!.message, /names 2 different external-data locations/);
    // The same sibling named twice is one location, and no finding.
    assert.deepEqual(await run(scanOnnx, onnxModel(tensor("w.bin", "w.bin"))), []);
  });

  test("external-data locations: traversal and absolute paths escape, sibling files do not", () => {
    for (const bad of ["../x", "a/../../x", "/etc/passwd", "C:\\Windows\\win.ini", "..\\..\\x", "..", "w.bin\0../x"]) {
      assert.ok(escapesFolder(bad), bad);
    }
    for (const ok of ["model.onnx.data", "weights/w.bin", "a/../b.bin", "./w.bin"]) assert.equal(escapesFolder(ok), undefined, ok);
  });
});

describe("TensorFlow on hostile input", () => {
  test("a truncated SavedModel is a malformed finding", async () => {
    const bytes = readFileSync(join(FIXTURES, "graph-formats", "savedmodel_readfile", "saved_model.pb"));
    const reports = await run(scanSavedModel, bytes.subarray(0, bytes.length - 7), "saved_model.pb");
    assert.deepEqual(reports.map((r) => r.rule), ["MG243"]);
  });

  test("a SavedModel without meta graphs is reported", async () => {
    assert.deepEqual((await run(scanSavedModel, Uint8Array.from(pb.num(1, 1)))).map((r) => r.rule), ["MG243"]);
  });

  test("a meta graph's second graph_def, which TensorFlow merges into the first, is MG243 (a red team hid ReadFile and WriteFile behind one)", async () => {
    const hidden = pb.len(2, pb.len(1, [...pb.len(1, "rf"), ...pb.len(2, "ReadFile")]));
    const decoy = pb.len(2, pb.len(1, [...pb.len(1, "c"), ...pb.len(2, "Const")]));
    const reports = await run(scanSavedModel, Uint8Array.from([...pb.num(1, 1), ...pb.len(2, [...hidden, ...decoy])]), "saved_model.pb");
    assert.deepEqual(reports.map((r) => r.rule), ["MG243"], shown(reports));
    assert.match(reports[0]!.message, /the single field MetaGraphDef\.graph_def is given twice/);
  });

  test("a field written with another wire type, which TensorFlow skips and protobufjs misreads, is MG243 (a red team hid a node behind a varint input)", async () => {
    // NodeDef.input (field 3, a string) written as a varint: protobufjs reads the varint as a string's
    // length and swallows the op behind it into the input; TensorFlow skips the varint and reads ReadFile.
    const op = pb.len(2, "ReadFile");
    const node = [...pb.len(1, "d"), ...pb.len(2, "Identity"), ...pb.num(3, op.length), ...op];
    const reports = await run(scanSavedModel, Uint8Array.from([...pb.num(1, 1), ...pb.len(2, pb.len(2, pb.len(1, node)))]), "saved_model.pb");
    assert.ok(reports.some((r) => r.rule === "MG243" && /NodeDef\.input is written with wire type 0, not 2/.test(r.message)), shown(reports));
    // A field outside the schema is skipped by its own wire type, as protobuf does.
    const unknown = [...pb.len(1, "c"), ...pb.len(2, "Const"), ...pb.num(9, 1)];
    assert.deepEqual(await run(scanSavedModel, Uint8Array.from([...pb.num(1, 1), ...pb.len(2, pb.len(2, pb.len(1, unknown)))]), "saved_model.pb"), []);
  });

  test("an over-long varint (6 to 9 bytes) where protobufjs reads 32 bits is a differential: it reads 10 bytes, protobuf to the varint's end", () => {
    const types = lazyTypes(`syntax = "proto3"; package t; message N { string name = 1; int32 n = 2; int64 big = 3; }`, ["t.N"])();
    // name's length 1 written in six bytes; protobuf reads "x", protobufjs swallows four more bytes.
    const longLength = Uint8Array.from([0x0a, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00, 0x78]);
    assert.match(wireDifferential(types["t.N"], longLength) ?? "", /N\.name: a varint of 6 to 9 bytes/);
    assert.match(wireDifferential(types["t.N"], Uint8Array.from([0x10, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00])) ?? "", /N\.n: a varint of 6 to 9 bytes/);
    // A negative int32 takes ten bytes, as writers write it; a 64-bit field reads any length as protobuf does.
    assert.equal(wireDifferential(types["t.N"], Uint8Array.from([0x10, ...Array(9).fill(0xff), 0x01])), undefined);
    assert.equal(wireDifferential(types["t.N"], Uint8Array.from([0x18, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00])), undefined);
  });

  test("map entries are read as protobuf reads them too: a value of another wire type, or a message value that misreads", () => {
    const types = lazyTypes(`syntax = "proto3"; package t; message V { string s = 1; } message E { map<string, V> m = 1; }`, ["t.E"])();
    const entry = (value: number[]) => Uint8Array.from(pb.len(1, [...pb.len(1, "k"), ...value]));
    assert.equal(wireDifferential(types["t.E"], entry(pb.len(2, pb.len(1, "fine")))), undefined);
    assert.match(wireDifferential(types["t.E"], entry(pb.num(2, 5))) ?? "", /map entry's value is written with wire type 0, not 2/);
    assert.match(wireDifferential(types["t.E"], entry(pb.len(2, pb.num(1, 3)))) ?? "", /V\.s is written with wire type 0/);
  });

  test("a thousand ReadFile nodes make one finding that counts them", async () => {
    const nodes = Array.from({ length: 1000 }, (_, i) => pb.len(1, [...pb.len(1, `rf${i}`), ...pb.len(2, "ReadFile")])).flat();
    const reports = await run(scanSavedModel, Uint8Array.from([...pb.num(1, 1), ...pb.len(2, pb.len(2, nodes))]));
    assert.deepEqual(reports.map((r) => r.rule), ["MG241"]);
    assert.match(reports[0]!.message, /1000 node/);
    assert.match(reports[0]!.extra.evidence!, /and 990 more/);
  });

  test("TFLite offsets outside the file are malformed findings, never reads past the end", async () => {
    const good = readFileSync(join(FIXTURES, "graph-formats", "tflite_custom_op.tflite"));
    const cases: [string, (b: Buffer) => void][] = [
      ["root offset past the end", (b) => b.writeUInt32LE(0xfffffff0, 0)],
      ["vtable offset past the start", (b) => b.writeInt32LE(0x7fffffff, b.readUInt32LE(0))],
      ["operator-code count of 2^32-1", (b) => b.writeUInt32LE(0xffffffff, b.readUInt32LE(0) + 8 + b.readUInt32LE(b.readUInt32LE(0) + 8))],
    ];
    for (const [what, mutate] of cases) {
      const b = Buffer.from(good);
      mutate(b);
      assert.deepEqual((await run(scanTflite, b)).map((r) => r.rule), ["MG243"], what);
    }
  });
});

// ---------------------------------------------------------------- ops the table once missed, and where paths come from

const nodeDef = (name: string, op: string, ...inputs: string[]): number[] => [...pb.len(1, name), ...pb.len(2, op), ...inputs.flatMap((i) => pb.len(3, i))];
/** What a TensorProto holds: dtype (DT_STRING = 7 unless given), dimensions, tensor_content, string_val. */
interface TensorFields {
  dtype?: number;
  dims?: number[];
  unknownRank?: boolean;
  content?: number[];
  strings?: string[];
}
/** TensorProto: dtype 1, tensor_shape 2 (TensorShapeProto.dim 2 → Dim.size 1; unknown_rank 3), tensor_content 4, string_val 8. */
const tensorProto = (t: TensorFields): number[] => {
  const shape = t.dims || t.unknownRank ? pb.len(2, [...(t.dims ?? []).flatMap((d) => pb.len(2, pb.num(1, d))), ...(t.unknownRank ? pb.num(3, 1) : [])]) : [];
  return [...pb.num(1, t.dtype ?? 7), ...shape, ...(t.content ? pb.len(4, t.content) : []), ...(t.strings ?? []).flatMap((v) => pb.len(8, v))];
};
/** A string tensor's tensor_content as TensorFlow encodes it (EncodeStringList): each value's length as a varint, then the bytes. */
const encodeStrings = (values: string[]): number[] => [...values.flatMap((v) => pb.varint(Buffer.byteLength(v))), ...values.flatMap((v) => [...Buffer.from(v)])];
/** A Const node: attr "value" → AttrValue.tensor (8) → the TensorProto. */
const tensorConst = (name: string, t: TensorFields): number[] => [...nodeDef(name, "Const"), ...pb.len(5, [...pb.len(1, "value"), ...pb.len(2, pb.len(8, tensorProto(t)))])];
/** A Const node holding strings in string_val, as TensorFlow's Python writes them. */
const stringConst = (name: string, ...values: string[]): number[] => tensorConst(name, { strings: values });
/** An attr entry (NodeDef.attr = 5: key 1, AttrValue 2) naming a function (AttrValue.func = 10, NameAttrList.name = 1). */
const funcAttr = (key: string, fn: string): number[] => pb.len(5, [...pb.len(1, key), ...pb.len(2, pb.len(10, pb.len(1, fn)))]);
const withAttrs = (node: number[], ...attrs: number[][]): number[] => [...node, ...attrs.flat()];
/** A library function with the given arguments and nodes, in a SavedModel of its own. */
function savedModelWithFunction(name: string, args: string[], nodes: number[][]): Uint8Array {
  const signature = [...pb.len(1, name), ...args.flatMap((a) => pb.len(2, pb.len(1, a)))];
  const fn = [...pb.len(1, signature), ...nodes.flatMap((n) => pb.len(3, n))];
  return Uint8Array.from([...pb.num(1, 1), ...pb.len(2, pb.len(2, pb.len(2, pb.len(1, fn))))]);
}
const rules = (reports: Reported[]): string[] => reports.map((r) => r.rule).sort();

describe("TensorFlow ops a red team used past the op table", () => {
  for (const op of ["PrintV2", "CacheDatasetV2", "DebugIdentityV3", "ExperimentalMatchingFilesDataset", "DataServiceDatasetV4", "DistributedSave", "RecordInput", "SnapshotChunkDataset", "DecodeProtoV2", "DatasetFromGraph"]) {
    test(`${op} is MG241`, async () => {
      const reports = await run(scanSavedModel, savedModelWithFunction("__inference__initializer_1", [], [nodeDef("n", op)]));
      assert.deepEqual(rules(reports), ["MG241"], shown(reports));
      assert.match(reports[0]!.message, new RegExp(`op ${op} `));
    });
  }

  test("SaveV2 and a vocabulary read on a path the graph holds as a constant are MG241 (the red team's load-time copy of a secret)", async () => {
    const reports = await run(
      scanSavedModel,
      savedModelWithFunction("__inference__initializer_1", [], [
        nodeDef("path", "Const"),
        nodeDef("table", "HashTableV2"),
        nodeDef("init", "InitializeTableFromTextFileV2", "table:table_handle:0", "path:output:0"),
        nodeDef("save", "SaveV2", "path:output:0", "names:output:0", "slices:output:0", "^init"),
      ]),
    );
    assert.deepEqual(rules(reports), ["MG241", "MG241"], shown(reports));
    for (const r of reports) assert.match(r.message, /path the graph itself spells out/);
  });

  test("TensorFlow's own saver, whose path starts from its file_prefix argument, stays MG242", async () => {
    const saver: Fn = {
      name: "__inference__traced_save_9",
      args: ["file_prefix", "savev2_const"],
      nodes: [
        stringConst("Const", ".part"),
        stringConst("Const_1", "_temp/part"),
        nodeDef("Select", "Select", "StaticRegexFullMatch:output:0", "Const:output:0", "Const_1:output:0"),
        nodeDef("StringJoin", "StringJoin", "file_prefix", "Select:output:0"),
        nodeDef("ShardedFilename", "ShardedFilename", "StringJoin:output:0", "num_shards:output:0", "shard:output:0"),
        nodeDef("SaveV2", "SaveV2", "ShardedFilename:filename:0", "names:output:0", "slices:output:0", "savev2_const"),
        nodeDef("MergeV2Checkpoints/checkpoint_prefixes", "Pack", "ShardedFilename:filename:0"),
        nodeDef("MergeV2Checkpoints", "MergeV2Checkpoints", "MergeV2Checkpoints/checkpoint_prefixes:output:0", "file_prefix"),
      ],
    };
    // As TensorFlow writes it: the top-level graph calls it with the saver's filename placeholder.
    const caller = [nodeDef("saver_filename", "Placeholder"), withAttrs(nodeDef("StatefulPartitionedCall", "StatefulPartitionedCall", "saver_filename", "Const"), funcAttr("f", saver.name))];
    const reports = await run(scanSavedModel, savedModelOf(caller, [saver]));
    assert.deepEqual(rules(reports), ["MG242", "MG242"], shown(reports));
    // Nothing calls it and no object hands it out: no loader or user passes its path.
    assert.deepEqual(rules(await run(scanSavedModel, savedModelOf([], [saver]))), ["MG241", "MG241"]);
  });

  test("a suffix joined to the loader's path that climbs out of it is MG241 (a red team's StringJoin with \"/../../…\")", async () => {
    for (const suffix of ["/../../../../tmp/x", "_temp/..\\..\\x"]) {
      const reports = await run(
        scanSavedModel,
        savedModelWithFunction("f", ["file_prefix"], [stringConst("up", suffix), nodeDef("join", "StringJoin", "file_prefix", "up:output:0"), nodeDef("save", "SaveV2", "join:output:0", "n:output:0", "s:output:0")]),
      );
      assert.deepEqual(rules(reports), ["MG241"], `${suffix}: ${shown(reports)}`);
    }
    // A suffix that is not a constant the scan can read is not trusted either.
    const computed = await run(
      scanSavedModel,
      savedModelWithFunction("f", ["file_prefix"], [nodeDef("up", "RegexReplace", "x:output:0"), nodeDef("join", "StringJoin", "file_prefix", "up:output:0"), nodeDef("save", "SaveV2", "join:output:0", "n:output:0", "s:output:0")]),
    );
    assert.deepEqual(rules(computed), ["MG241"], shown(computed));
  });

  test("a suffix's value is read as TensorFlow reads it: from tensor_content whenever that is set, whatever string_val says (red team round 14)", async () => {
    // Called as TensorFlow's saver is, with the saver's filename placeholder.
    const caller = [nodeDef("saver_filename", "Placeholder"), withAttrs(nodeDef("call", "StatefulPartitionedCall", "saver_filename"), funcAttr("f", "f"))];
    const joined = async (t: TensorFields) => {
      const saver: Fn = { name: "f", args: ["file_prefix"], nodes: [tensorConst("up", t), nodeDef("join", "StringJoin", "file_prefix", "up:output:0"), nodeDef("save", "SaveV2", "join:output:0", "n:output:0", "s:output:0")] };
      return rules(await run(scanSavedModel, savedModelOf(caller, [saver])));
    };
    const cases: [string, TensorFields, string][] = [
      ['"/../../…" in tensor_content behind "/shard" in string_val', { content: encodeStrings(["/../../../tmp/x"]), strings: ["/shard"] }, "MG241"],
      ["a harmless suffix in tensor_content", { content: encodeStrings(["/shard"]) }, "MG242"],
      ["an empty suffix in tensor_content", { content: encodeStrings([""]) }, "MG242"],
      ["two values, one climbing", { dims: [2], content: encodeStrings(["/a", "/../x"]) }, "MG241"],
      ["two harmless values", { dims: [2], content: encodeStrings(["/a", "/b"]) }, "MG242"],
      ["content with a byte left over (TensorFlow refuses it)", { content: [...encodeStrings(["/a"]), 0x41] }, "MG241"],
      ["fewer values in the content than the shape holds", { dims: [2], content: encodeStrings(["/a"]) }, "MG241"],
      ["a length of six varint bytes", { content: [0x81, 0x80, 0x80, 0x80, 0x80, 0x00] }, "MG241"],
      ["another dtype", { dtype: 1, strings: ["/a"] }, "MG241"],
      ["no dtype (TensorFlow refuses DT_INVALID)", { dtype: 0, strings: ["/a"] }, "MG241"],
      ["an unknown rank", { unknownRank: true, strings: ["/a"] }, "MG241"],
      ["no value at all (a zero dimension)", { dims: [0], strings: ["/a"] }, "MG241"],
      ["string_val's last value repeated to fill the shape", { dims: [3], strings: ["/a"] }, "MG242"],
    ];
    for (const [what, t, rule] of cases) assert.deepEqual(await joined(t), [rule], what);
  });

  test("a path that only ends in the loader's argument (a constant first, the argument joined after) is MG241", async () => {
    const reports = await run(
      scanSavedModel,
      savedModelWithFunction("f", ["file_prefix"], [nodeDef("join", "StringJoin", "evil:output:0", "file_prefix"), nodeDef("save", "SaveV2", "join:output:0", "n:output:0", "s:output:0")]),
    );
    assert.deepEqual(rules(reports), ["MG241"], shown(reports));
  });
});

// ---------------------------------------------------------------- who calls a function, and what the loader binds

interface Fn {
  name: string;
  args: string[];
  nodes: number[][];
}
/**
 * A meta graph with top-level nodes, library functions and the rest of MetaGraphDef given raw
 * (asset_file_def = 6: tensor_info 1, filename 2; object_graph_def = 7: nodes 1, concrete_functions 2).
 */
function savedModelOf(graph: number[][], functions: Fn[], rest: number[] = []): Uint8Array {
  const fn = (f: Fn): number[] => [...pb.len(1, [...pb.len(1, f.name), ...f.args.flatMap((a) => pb.len(2, pb.len(1, a)))]), ...f.nodes.flatMap((n) => pb.len(3, n))];
  const graphDef = [...graph.flatMap((n) => pb.len(1, n)), ...pb.len(2, functions.flatMap((f) => pb.len(1, fn(f))))];
  return Uint8Array.from([...pb.num(1, 1), ...pb.len(2, [...pb.len(2, graphDef), ...rest])]);
}
const readInto: Fn = { name: "read_into", args: ["h", "path"], nodes: [nodeDef("init", "InitializeTableFromTextFileV2", "h", "path")] };
const asset = (tensor: string, filename: string): number[] => pb.len(6, [...pb.len(1, pb.len(1, tensor)), ...pb.len(2, filename)]);
/** An object graph whose concrete function `fn` has the objects `bound` bound to its trailing arguments. */
const objectGraph = (objects: number[][], fn: string, bound: number[]): number[] =>
  pb.len(7, [...objects.flatMap((o) => pb.len(1, o)), ...pb.len(2, [...pb.len(1, fn), ...pb.len(2, bound.flatMap((b) => pb.num(2, b)))])]);
const ASSET_OBJECT = pb.len(5, pb.num(1, 0));
const CONSTANT_OBJECT = pb.len(9, pb.len(1, "path"));

describe("a function argument is the loader's only when every caller passes the loader's value (a red team's call sites)", () => {
  const call = (op: string, ...inputs: string[]): number[] => withAttrs(nodeDef("call", op, ...inputs), funcAttr("f", "read_into"));

  test("a constant passed through StatefulPartitionedCall or PartitionedCall is MG241", async () => {
    for (const op of ["StatefulPartitionedCall", "PartitionedCall"]) {
      const caller: Fn = { name: "__inference__initializer_1", args: [], nodes: [nodeDef("table", "HashTableV2"), nodeDef("path", "Const"), call(op, "table:table_handle:0", "path:output:0")] };
      const reports = await run(scanSavedModel, savedModelOf([], [caller, readInto]));
      assert.deepEqual(rules(reports), ["MG241"], `${op}: ${shown(reports)}`);
    }
  });

  test("a node whose op is the function's name is a call too", async () => {
    const reports = await run(scanSavedModel, savedModelOf([nodeDef("path", "Const"), nodeDef("call", "read_into", "table", "path")], [readInto]));
    assert.deepEqual(rules(reports), ["MG241"], shown(reports));
  });

  test("a function reached through another op (a branch, a loop body) has no loader-fed argument", async () => {
    const reports = await run(scanSavedModel, savedModelOf([withAttrs(nodeDef("if", "If", "cond", "table", "saver_filename"), funcAttr("then_branch", "read_into"))], [readInto], pb.len(3, pb.len(1, "saver_filename:0"))));
    assert.deepEqual(rules(reports), ["MG241"], shown(reports));
  });

  test("the saver's filename passed down through two calls stays MG242", async () => {
    const outer: Fn = { name: "outer", args: ["h", "p"], nodes: [call("StatefulPartitionedCall", "h", "p")] };
    const graph = [nodeDef("saver_filename", "Placeholder"), withAttrs(nodeDef("c", "StatefulPartitionedCall", "table", "saver_filename"), funcAttr("f", "outer"))];
    const reports = await run(scanSavedModel, savedModelOf(graph, [outer, readInto]));
    assert.deepEqual(rules(reports), ["MG242"], shown(reports));
  });

  test("PlaceholderWithDefault is its default inside a function: a constant default is MG241", async () => {
    const fn: Fn = { name: "__inference__initializer_1", args: [], nodes: [nodeDef("c", "Const"), nodeDef("p", "PlaceholderWithDefault", "c:output:0"), nodeDef("init", "InitializeTableFromTextFileV2", "t", "p:output:0")] };
    const reports = await run(scanSavedModel, savedModelOf([], [fn]));
    assert.deepEqual(rules(reports), ["MG241"], shown(reports));
  });

  test("TF2's loader binds captures: an asset keeps the path the loader's, a saved constant does not", async () => {
    const init: Fn = { name: "__inference__initializer_1", args: ["path", "table"], nodes: [nodeDef("init", "InitializeTableFromTextFileV2", "table", "path")] };
    const bound = async (object: number[]) => rules(await run(scanSavedModel, savedModelOf([], [init], [...asset("asset_path_initializer:0", "vocab.txt"), ...objectGraph([object, pb.len(10, [])], init.name, [0, 1])])));
    assert.deepEqual(await bound(ASSET_OBJECT), ["MG242"]);
    assert.deepEqual(await bound(CONSTANT_OBJECT), ["MG241"]);
  });

  test("TF2's top-level graph passes an asset through a variable assigned from the fed placeholder (MG242), but not one written otherwise", async () => {
    const graph = (extra: number[][]) => [
      nodeDef("asset_path_initializer", "Placeholder"),
      nodeDef("Variable", "VarHandleOp"),
      nodeDef("Variable/Assign", "AssignVariableOp", "Variable", "asset_path_initializer"),
      nodeDef("ReadVariableOp", "ReadVariableOp", "Variable", "^Variable/Assign"),
      withAttrs(nodeDef("call", "StatefulPartitionedCall", "table", "ReadVariableOp"), funcAttr("f", "read_into")),
      ...extra,
    ];
    const scan = async (extra: number[][]) => rules(await run(scanSavedModel, savedModelOf(graph(extra), [readInto], asset("asset_path_initializer:0", "vocab.txt"))));
    assert.deepEqual(await scan([]), ["MG242"]);
    assert.deepEqual(await scan([nodeDef("c", "Const"), nodeDef("evil", "AssignVariableOp", "Variable", "c")]), ["MG241"]);
    // A second handle with the same shared_name (both empty here) is the same variable.
    assert.deepEqual(await scan([nodeDef("alias", "VarHandleOp")]), ["MG241"]);
  });
});

// ---------------------------------------------------------------- who runs a function or a graph step, with what (red team round 12)

/** SavedObject fields: children = 1 (ObjectReference node_id 1, local_name 2), function = 6, bare_concrete_function = 8, saveable_objects = 11. */
const child = (id: number, name: string): number[] => pb.len(1, [...pb.num(1, id), ...pb.len(2, name)]);
const functionObject = (fn: string): number[] => pb.len(6, pb.len(1, fn));
const bareFunction = (fn: string): number[] => pb.len(8, pb.len(1, fn));
/** A saveable_objects entry: key 1, SaveableObject 2 (save_function 2, restore_function 3: object ids). */
const saveable = (key: string, save: number, restore: number): number[] => pb.len(11, [...pb.len(1, key), ...pb.len(2, [...pb.num(2, save), ...pb.num(3, restore)])]);
const objects = (...nodes: number[][]): number[] => pb.len(7, nodes.flatMap((o) => pb.len(1, o)));
/** SaverDef (MetaGraphDef = 3): filename_tensor_name 1, restore_op_name 3. */
const saverDef = (filename: string, restore: string): number[] => pb.len(3, [...pb.len(1, filename), ...pb.len(3, restore)]);
/** A collection_def entry (MetaGraphDef = 4; CollectionDef.node_list = 1, NodeList.value = 1). */
const nodeCollection = (key: string, ...nodes: string[]): number[] => pb.len(4, [...pb.len(1, key), ...pb.len(2, pb.len(1, nodes.flatMap((n) => pb.len(1, n))))]);
/** collection saved_model_assets as TF1's builder writes it: CollectionDef.any_list = 5, each AssetFileDef packed in an Any (type_url 1, value 2). */
const assetCollection = (...assets: [string, string][]): number[] =>
  pb.len(4, [
    ...pb.len(1, "saved_model_assets"),
    ...pb.len(2, pb.len(5, assets.flatMap(([tensor, filename]) => pb.len(1, [...pb.len(1, "type.googleapis.com/tensorflow.AssetFileDef"), ...pb.len(2, [...pb.len(1, pb.len(1, tensor)), ...pb.len(2, filename)])])))),
  ]);
/** A signature_def entry (MetaGraphDef = 5; SignatureDef inputs 1, outputs 2, defaults 4; map entries key 1, value 2; TensorInfo.name = 1). */
const signature = (key: string, inputs: [string, string][], outputs: [string, string][], defaults: string[] = []): number[] => {
  const infos = (field: number, entries: [string, string][]) => entries.flatMap(([k, name]) => pb.len(field, [...pb.len(1, k), ...pb.len(2, pb.len(1, name))]));
  return pb.len(5, [...pb.len(1, key), ...pb.len(2, [...infos(1, inputs), ...infos(2, outputs), ...defaults.flatMap((k) => pb.len(4, pb.len(1, k)))])]);
};

describe("TF2's loader calls a saveable's restore function with checkpoint values, not the user's (red team round 12)", () => {
  const restore: Fn = {
    name: "__inference_restore_fn_50",
    args: ["a", "b"],
    nodes: [nodeDef("save_v1", "Save", "a", "names:output:0", "data:output:0"), nodeDef("save_v2", "SaveV2", "b", "names:output:0", "slices:output:0", "data:output:0")],
  };

  test("Save and SaveV2 on a restore function's arguments are MG241, for a legacy SaveableObject and for _restore_from_tensors", async () => {
    for (const key of ["state", ".TENSORS"]) {
      const reports = await run(scanSavedModel, savedModelOf([], [restore], objects(saveable(key, 1, 2), bareFunction("__inference_save_fn_39"), bareFunction(restore.name))));
      assert.deepEqual(rules(reports), ["MG241", "MG241"], `${key}: ${shown(reports)}`);
    }
  });

  test("the same function handed to the user (a tf.function's trace) keeps the path the user passes: MG242", async () => {
    const reports = await run(scanSavedModel, savedModelOf([], [restore], objects(child(1, "__call__"), functionObject(restore.name), bareFunction(restore.name))));
    assert.deepEqual(rules(reports), ["MG242", "MG242"], shown(reports));
    // Handed to the user and also a saveable's restore: the loader's call decides.
    const both = await run(scanSavedModel, savedModelOf([], [restore], objects([...child(1, "__call__"), ...saveable("state", 1, 1)], functionObject(restore.name))));
    assert.deepEqual(rules(both), ["MG241", "MG241"], shown(both));
  });

  test("a resource's initializer is called by the loader itself: an argument it does not bind is MG241, a bound asset stays MG242", async () => {
    const init: Fn = { name: "__inference__initializer_7", args: ["path", "table"], nodes: [nodeDef("init", "InitializeTableFromTextFileV2", "table", "path")] };
    const resource = [...pb.len(10, []), ...child(1, "_initialize")];
    for (const edge of [resource, [...pb.len(10, []), ...pb.len(15, [...pb.num(1, 1), ...pb.len(2, "_create_resource")])]]) {
      const unbound = await run(scanSavedModel, savedModelOf([], [init], objects(edge, functionObject(init.name))));
      assert.deepEqual(rules(unbound), ["MG241"], shown(unbound));
    }
    const bound = await run(scanSavedModel, savedModelOf([], [init], [...asset("asset_path_initializer:0", "vocab.txt"), ...objectGraph([resource, functionObject(init.name), ASSET_OBJECT], init.name, [2, 0])]));
    assert.deepEqual(rules(bound), ["MG242"], shown(bound));
  });
});

/** StructuredValue (struct.proto): none 1, int64 12 (sint64), string 13, tensor_spec 33, type_spec 34, list 51, tuple 52, dict 53 and named tuple 54 (PairValue key 1, value 2). */
const sv = {
  none: (): number[] => pb.len(1, []),
  int: (n: number): number[] => pb.num(12, 2 * n),
  str: (s: string): number[] => pb.len(13, s),
  spec: (): number[] => pb.len(33, []),
  composite: (): number[] => pb.len(34, []),
  list: (...values: number[][]): number[] => pb.len(51, values.flatMap((v) => pb.len(1, v))),
  tuple: (...values: number[][]): number[] => pb.len(52, values.flatMap((v) => pb.len(1, v))),
  dict: (...pairs: [string, number[]][]): number[] => pb.len(53, pairs.flatMap(([k, v]) => pb.len(1, [...pb.len(1, k), ...pb.len(2, v)]))),
  named: (name: string, ...pairs: [string, number[]][]): number[] => pb.len(54, [...pb.len(1, name), ...pairs.flatMap(([k, v]) => pb.len(2, [...pb.len(1, k), ...pb.len(2, v)]))]),
};
/** A FunctionSpec (fullargspec 1, is_method 2) as TF2 saves a tf.function's Python signature. */
const functionSpec = (args: string[], defaults: number[], kwonly: string[] = [], kwonlyDefaults = sv.none(), isMethod = false): number[] => [
  ...pb.len(1, sv.named("FullArgSpec", ["args", sv.list(...args.map(sv.str))], ["varargs", sv.none()], ["varkw", sv.none()], ["defaults", defaults], ["kwonlyargs", sv.list(...kwonly.map(sv.str))], ["kwonlydefaults", kwonlyDefaults], ["annotations", sv.dict()])),
  ...(isMethod ? pb.num(2, 1) : []),
];
/** An object graph: the objects, and each concrete function's canonicalized_input_signature (SavedConcreteFunction = 3). */
const tracedGraph = (nodes: number[][], traces: [string, number[]][]): number[] =>
  pb.len(7, [...nodes.flatMap((o) => pb.len(1, o)), ...traces.flatMap(([fn, signature]) => pb.len(2, [...pb.len(1, fn), ...pb.len(2, pb.len(3, signature))]))]);

describe("an argument with a default the SavedModel stores is the model's, not the user's (red team round 14)", () => {
  const predict: Fn = { name: "__inference_predict_11", args: ["x", "path"], nodes: [nodeDef("save", "Save", "path", "names:output:0", "data:output:0")] };
  /** predict(x, path) traced with a TensorSpec each, handed to the user as a tf.function (SavedFunction: concrete_functions 1, function_spec 2). */
  const scan = async (spec: number[], signature = sv.tuple(sv.tuple(sv.spec(), sv.spec()), sv.dict()), fn = predict) =>
    rules(await run(scanSavedModel, savedModelOf([], [fn], tracedGraph([[...child(1, "predict")], pb.len(6, [...pb.len(1, fn.name), ...pb.len(2, spec)])], [[fn.name, signature]]))));

  test("predict(x, path=…) that writes at its path is MG241; without the default, or with None, the path is the user's (MG242)", async () => {
    assert.deepEqual(await scan(functionSpec(["x", "path"], sv.tuple(sv.str("/tmp/x")))), ["MG241"]);
    assert.deepEqual(await scan(functionSpec(["x", "path"], sv.none())), ["MG242"]);
    assert.deepEqual(await scan(functionSpec(["x", "path"], sv.tuple(sv.none()))), ["MG242"]);
    // self is dropped before the defaults line up with the last arguments, as TensorFlow's loader does.
    assert.deepEqual(await scan(functionSpec(["self", "x", "path"], sv.tuple(sv.str("/tmp/x")))), ["MG241"]);
  });

  test("a default on another argument leaves the path the user's; one given by keyword is found by name", async () => {
    const state: Fn = { name: "__inference_save_state_7", args: ["path", "scale"], nodes: [nodeDef("save", "Save", "path", "names:output:0", "data:output:0")] };
    assert.deepEqual(await scan(functionSpec(["path", "scale"], sv.tuple(sv.int(1))), undefined, state), ["MG242"]);
    // A Python value traced in takes no argument: path is still the first.
    assert.deepEqual(await scan(functionSpec(["training", "path", "scale"], sv.tuple(sv.int(1))), sv.tuple(sv.tuple(sv.int(0), sv.spec(), sv.spec()), sv.dict()), state), ["MG242"]);
    const keyword = functionSpec(["x"], sv.none(), ["path"], sv.dict(["path", sv.str("/tmp/x")]));
    assert.deepEqual(await scan(keyword, sv.tuple(sv.tuple(sv.spec()), sv.dict(["path", sv.spec()]))), ["MG241"]);
  });

  test("a trace the scan cannot line up with the parameters makes every argument defaulted", async () => {
    const onScale = functionSpec(["x", "path", "scale"], sv.tuple(sv.int(1)));
    const three: Fn = { ...predict, args: ["x", "path", "scale"] };
    assert.deepEqual(await scan(onScale, sv.tuple(sv.tuple(sv.spec(), sv.spec(), sv.spec()), sv.dict()), three), ["MG242"]);
    // A composite value (its components uncounted) before the path.
    assert.deepEqual(await scan(onScale, sv.tuple(sv.tuple(sv.composite(), sv.spec(), sv.spec()), sv.dict()), three), ["MG241"]);
    // Fewer traced tensors than arguments, or a value of two kinds (protobuf keeps the last).
    assert.deepEqual(await scan(onScale, sv.tuple(sv.tuple(sv.spec(), sv.spec()), sv.dict()), three), ["MG241"]);
    assert.deepEqual(await scan(functionSpec(["x", "path"], sv.tuple([...sv.none(), ...sv.str("/tmp/x")]))), ["MG241"]);
  });

  test("a bare concrete function's spec counts too", async () => {
    const bare = [...pb.len(1, predict.name), ...pb.len(4, functionSpec(["x", "path"], sv.tuple(sv.str("/tmp/x"))))];
    const reports = await run(scanSavedModel, savedModelOf([], [predict], tracedGraph([child(1, "predict"), pb.len(8, bare)], [[predict.name, sv.tuple(sv.tuple(sv.spec(), sv.spec()), sv.dict())]])));
    assert.deepEqual(rules(reports), ["MG241"], shown(reports));
  });
});

describe("TF1 loaders feed each step only its own tensors (red team round 12)", () => {
  /** The saver's restore op and the main op, each writing or reading at the path its input names. */
  const tf1 = (restoreInput: string, mainInput: string, rest: number[][] = [[...asset("asset_vocab:0", "vocab.txt")]]): Uint8Array =>
    savedModelOf(
      [
        nodeDef("save/filename", "Const"),
        nodeDef("asset_vocab", "Const"),
        nodeDef("save_v2", "SaveV2", restoreInput, "names", "slices", "data"),
        nodeDef("restore_all", "NoOp", "^save_v2"),
        nodeDef("table", "HashTableV2"),
        nodeDef("table_init", "InitializeTableFromTextFileV2", "table", mainInput),
        nodeDef("main_op", "NoOp", "^table_init"),
      ],
      [],
      [...saverDef("save/filename:0", "restore_all"), ...nodeCollection("saved_model_main_op", "main_op"), ...rest.flat()],
    );

  test("the restore op on the saver's filename and the main op on an asset stay MG242", async () => {
    const reports = await run(scanSavedModel, tf1("save/filename", "asset_vocab"));
    assert.deepEqual(rules(reports), ["MG242", "MG242"], shown(reports));
  });

  test("the restore op on an asset tensor and the main op on the saver's filename are MG241", async () => {
    const reports = await run(scanSavedModel, tf1("asset_vocab", "save/filename"));
    assert.deepEqual(rules(reports), ["MG241", "MG241"], shown(reports));
  });

  test("the assets TF1's builder lists in collection saved_model_assets are the main op's feeds, unless asset_file_def names any", async () => {
    const packed = await run(scanSavedModel, tf1("save/filename", "asset_vocab", [assetCollection(["asset_vocab:0", "vocab.txt"])]));
    assert.deepEqual(rules(packed), ["MG242", "MG242"], shown(packed));
    // The loader reads asset_file_def when it has entries, and the collection only otherwise.
    const ignored = await run(scanSavedModel, tf1("save/filename", "asset_vocab", [asset("other:0", "other.txt"), assetCollection(["asset_vocab:0", "vocab.txt"])]));
    assert.deepEqual(rules(ignored), ["MG241", "MG242"], shown(ignored));
    // Their filenames are checked like asset_file_def's.
    const climbing = await run(scanSavedModel, tf1("save/filename", "asset_vocab", [assetCollection(["asset_vocab:0", "../../etc/passwd"])]));
    assert.deepEqual(rules(climbing), ["MG241", "MG242", "MG242"], shown(climbing));
    assert.match(JSON.stringify(climbing), /saved_model_assets/);
  });

  test("a signature's outputs are fed its inputs, less those with a default; an op no step reaches is fed nothing", async () => {
    const graph = [nodeDef("path", "Const"), nodeDef("table", "HashTableV2"), nodeDef("table_init", "InitializeTableFromTextFileV2", "table", "path"), nodeDef("out", "Identity", "^table_init")];
    const scan = async (rest: number[]) => rules(await run(scanSavedModel, savedModelOf(graph, [], rest)));
    assert.deepEqual(await scan(signature("serving_default", [["p", "path:0"]], [["y", "out:0"]])), ["MG242"]);
    assert.deepEqual(await scan(signature("serving_default", [["p", "path:0"]], [["y", "out:0"]], ["p"])), ["MG241"]);
    assert.deepEqual(await scan(signature("serving_default", [["x", "x:0"]], [["y", "out:0"]])), ["MG241"]);
    // Fed as an asset, but neither the init op nor any signature runs it.
    assert.deepEqual(await scan(asset("path:0", "vocab.txt")), ["MG241"]);
    // A signature key given twice is one signature, the last.
    assert.deepEqual(await scan([...signature("s", [["p", "path:0"]], [["y", "out:0"]]), ...signature("s", [["x", "x:0"]], [["y", "x:0"]])]), ["MG241"]);
  });

  test("a call in a step passes only that step's feeds down", async () => {
    const graph = [
      nodeDef("save/filename", "Const"),
      nodeDef("asset_vocab", "Const"),
      withAttrs(nodeDef("call", "StatefulPartitionedCall", "table", "asset_vocab"), funcAttr("f", "read_into")),
      nodeDef("restore_all", "NoOp", "^call"),
    ];
    const reports = await run(scanSavedModel, savedModelOf(graph, [readInto], [...saverDef("save/filename:0", "restore_all"), ...asset("asset_vocab:0", "vocab.txt")]));
    assert.deepEqual(rules(reports), ["MG241"], shown(reports));
  });

  test("a variable assigned in one step and read in another is judged with nothing fed", async () => {
    const graph = [
      nodeDef("asset_vocab", "Const"),
      nodeDef("save/filename", "Placeholder"),
      nodeDef("v", "VarHandleOp"),
      nodeDef("assign", "AssignVariableOp", "v", "asset_vocab"),
      nodeDef("restore_all", "NoOp", "^assign"),
      nodeDef("read", "ReadVariableOp", "v"),
      nodeDef("table", "HashTableV2"),
      nodeDef("table_init", "InitializeTableFromTextFileV2", "table", "read"),
      nodeDef("main_op", "NoOp", "^table_init"),
    ];
    const reports = await run(scanSavedModel, savedModelOf(graph, [], [...saverDef("save/filename:0", "restore_all"), ...nodeCollection("saved_model_main_op", "main_op"), ...asset("asset_vocab:0", "vocab.txt")]));
    assert.deepEqual(rules(reports), ["MG241"], shown(reports));
  });
});

describe("asset filenames", () => {
  test("an absolute or climbing filename is MG241: the loader joins it to the assets folder and reads outside the model", async () => {
    for (const filename of ["/tmp/secret.txt", "../../etc/passwd", "C:\\Windows\\win.ini"]) {
      const reports = await run(scanSavedModel, savedModelOf([], [], asset("asset_path_initializer:0", filename)));
      assert.deepEqual(rules(reports), ["MG241"], `${filename}: ${shown(reports)}`);
      assert.match(reports[0]!.message, /assets folder/);
    }
  });

  test("a file inside the assets folder is no finding, in either form", async () => {
    assert.deepEqual(await run(scanSavedModel, savedModelOf([], [], asset("asset_path_initializer:0", "vocab.txt"))), []);
    const text = `saved_model_schema_version: 1\nmeta_graphs {\n  graph_def { node { name: "c" op: "Const" } }\n  asset_file_def { filename: "vocab.txt" }\n}\n`;
    assert.deepEqual(await run(scanSavedModelText, Buffer.from(text), "saved_model.pbtxt"), []);
    const bad = text.replace("vocab.txt", "/etc/passwd");
    assert.deepEqual(rules(await run(scanSavedModelText, Buffer.from(bad), "saved_model.pbtxt")), ["MG241"]);
  });
});

// ---------------------------------------------------------------- saved_model.pbtxt

const pbtxt = (library: string, nodes = ""): Uint8Array =>
  Buffer.from(`saved_model_schema_version: 1\nmeta_graphs {\n  graph_def {\n    node { name: "c" op: "Const" }\n${nodes}\n    library {\n${library}\n    }\n  }\n}\n`);
const saverCall = `    node { name: "saver_filename" op: "Placeholder" }
    node { name: "call" op: "StatefulPartitionedCall" input: ["saver_filename"] attr { key: "f" value { func { name: "__inference__traced_save_9" } } } }`;
const saverFunction = `function {
  signature { name: "__inference__traced_save_9" input_arg { name: "file_prefix" type: DT_STRING } }
  node_def { name: "Const" op: "Const" attr { key: "value" value { tensor { dtype: DT_STRING string_val: "_temp/part" } } } }
  node_def { name: "StringJoin" op: "StringJoin" input: "file_prefix" input: "Const:output:0" attr { key: "N" value { i: 2 } } }
  node_def { name: "SaveV2" op: "SaveV2" input: ["StringJoin:output:0", "n:output:0", "s:output:0"] }
}`;

describe("text-format SavedModel (saved_model.pbtxt)", () => {
  test("is recognised by the name the loader reads it under", () => {
    assert.equal(sniffSavedModelText("export/1/saved_model.pbtxt"), true);
    assert.equal(sniffSavedModelText("graph.pbtxt"), false);
  });

  test("a benign text SavedModel passes, its saver reported low", async () => {
    const reports = await run(scanSavedModelText, pbtxt(saverFunction, saverCall), "saved_model.pbtxt");
    assert.deepEqual(rules(reports), ["MG242"], shown(reports));
  });

  test("ReadFile spelled with escapes, quotes and adjacent literals is found (a red team's load-time file copy)", async () => {
    for (const spelled of [`"ReadFile"`, `'Read' "File"`, `"Read\\x46ile"`, `"Read\\106ile"`, `"Re" # a comment\n 'ad\\u0046ile'`]) {
      const fn = `function { signature { name: "__inference__initializer_1" } node_def { name: "rf" op: ${spelled} } }`;
      const reports = await run(scanSavedModelText, pbtxt(fn), "saved_model.pbtxt");
      assert.deepEqual(rules(reports), ["MG241"], `${spelled}: ${shown(reports)}`);
      assert.match(reports[0]!.message, /op ReadFile /);
    }
  });

  test("what the reader cannot read with certainty is reported, never passed", async () => {
    const cases: [string, string, string][] = [
      ["unbalanced braces", `function { node_def { name: "rf" op: "ReadFile" }`, "MG243"],
      ["an Any expansion", `function { [type.googleapis.com/tensorflow.NodeDef] { op: "ReadFile" } }`, "MG243"],
      ["an escape Python reads differently (\\N{…})", `function { node_def { op: "Read\\N{LATIN CAPITAL LETTER F}ile" } }`, "MG243"],
      ["\\u005c, which Python decodes before the C escapes", `function { node_def { op: "Read\\u005cx46ile" } }`, "MG243"],
      ["an op that is not a quoted string", `function { node_def { op: ReadFile } }`, "MG243"],
      ["a string not closed on its line", `function { node_def { op: "Read\nFile" } }`, "MG243"],
      ["a node's op given twice", `function { node_def { op: "Const" op: "ReadFile" } }`, "MG243"],
      ["nesting past 100", `${"function { ".repeat(101)}${"}".repeat(101)}`, "MG234"],
    ];
    for (const [what, library, rule] of cases) {
      const reports = await run(scanSavedModelText, pbtxt(library), "saved_model.pbtxt");
      assert.deepEqual(reports.map((r) => r.rule), [rule], `${what}: ${shown(reports)}`);
      assert.match(reports[0]!.message, /was not analysed/);
    }
  });

  test("call sites, binary attrs and bound captures are read from the text form too", async () => {
    const library = `function { signature { name: "read_into" input_arg { name: "h" } input_arg { name: "path" } }
  node_def { name: "init" op: "InitializeTableFromTextFileV2" input: ["h", "path"] }
}`;
    const call = (input: string) =>
      `node { name: "call" op: "StatefulPartitionedCall" input: ["t", "${input}"] attr { key: "config_proto" value { s: "\\n\\007\\202\\001" } } attr { key: "f" value { func { name: "read_into" } } } }`;
    const model = (input: string, objects = "") =>
      Buffer.from(`saved_model_schema_version: 1\nmeta_graphs {\n  graph_def {\n    node { name: "c" op: "Const" }\n    node { name: "p" op: "Placeholder" }\n    ${call(input)}\n    library {\n${library}\n    }\n  }\n${objects}}\n`);
    assert.deepEqual(rules(await run(scanSavedModelText, model("p"), "saved_model.pbtxt")), ["MG242"]);
    assert.deepEqual(rules(await run(scanSavedModelText, model("c"), "saved_model.pbtxt")), ["MG241"]);
    const constantBound = `  object_graph_def { nodes { constant { operation: "c" } } concrete_functions { key: "read_into" value { bound_inputs: 0 } } }\n`;
    assert.deepEqual(rules(await run(scanSavedModelText, model("p", constantBound), "saved_model.pbtxt")), ["MG241"]);
    assert.deepEqual(rules(await run(scanSavedModelText, model("p", constantBound.replace("bound_inputs: 0", "bound_inputs: 0x0")), "saved_model.pbtxt")), ["MG243"]);
  });

  test("saveable objects, the saver's restore op, collections and signatures are read from the text form too", async () => {
    const restore = `function { signature { name: "restore_fn" input_arg { name: "a" } }
  node_def { name: "save_v2" op: "SaveV2" input: ["a", "n:output:0", "s:output:0"] }
}`;
    const objectsText = (saveableKey: string) =>
      `  object_graph_def { nodes { children { node_id: 1 local_name: "__call__" } ${saveableKey ? `saveable_objects { key: "${saveableKey}" value { save_function: 1 restore_function: 1 } }` : ""} } nodes { bare_concrete_function { concrete_function_name: "restore_fn" } } }\n`;
    const model = (objects: string) => Buffer.from(`meta_graphs {\n  graph_def {\n    library {\n${restore}\n    }\n  }\n${objects}}\n`);
    assert.deepEqual(rules(await run(scanSavedModelText, model(objectsText("")), "saved_model.pbtxt")), ["MG242"]);
    assert.deepEqual(rules(await run(scanSavedModelText, model(objectsText(".TENSORS")), "saved_model.pbtxt")), ["MG241"]);

    const tf1 = (restoreInput: string, mainInput: string) =>
      Buffer.from(`meta_graphs {
  graph_def {
    node { name: "save/filename" op: "Const" }
    node { name: "asset_vocab" op: "Const" }
    node { name: "save_v2" op: "SaveV2" input: ["${restoreInput}", "n", "s"] }
    node { name: "restore_all" op: "NoOp" input: "^save_v2" }
    node { name: "table_init" op: "InitializeTableFromTextFileV2" input: ["table", "${mainInput}"] }
    node { name: "main_op" op: "NoOp" input: "^table_init" }
    node { name: "x" op: "Placeholder" }
    node { name: "out" op: "Identity" input: ["x", "^table_init"] }
  }
  saver_def { filename_tensor_name: "save/filename:0" restore_op_name: "restore_all" }
  collection_def { key: "saved_model_main_op" value { node_list { value: "main_op" } } }
  signature_def { key: "s" value { inputs { key: "x" value { name: "x:0" } } outputs { key: "y" value { name: "out:0" } } } }
  asset_file_def { tensor_info { name: "asset_vocab:0" } filename: "vocab.txt" }
}
`);
    assert.deepEqual(rules(await run(scanSavedModelText, tf1("save/filename", "x"), "saved_model.pbtxt")), ["MG242", "MG242"]);
    assert.deepEqual(rules(await run(scanSavedModelText, tf1("asset_vocab", "x"), "saved_model.pbtxt")), ["MG241", "MG242"]);
    // The signature reaches the table's initializer too, and does not feed the asset.
    assert.deepEqual(rules(await run(scanSavedModelText, tf1("save/filename", "asset_vocab"), "saved_model.pbtxt")), ["MG241", "MG242"]);
  });

  test("tensor_content and a function's saved defaults are read from the text form too (red team round 14)", async () => {
    const octal = (bytes: number[]) => bytes.map((b) => `\\${b.toString(8).padStart(3, "0")}`).join("");
    const suffix = (tensor: string) =>
      saverFunction.replace(`tensor { dtype: DT_STRING string_val: "_temp/part" }`, `tensor { ${tensor} }`);
    const scanSuffix = async (tensor: string) => rules(await run(scanSavedModelText, pbtxt(suffix(tensor), saverCall), "saved_model.pbtxt"));
    assert.deepEqual(await scanSuffix(`dtype: DT_STRING tensor_content: "${octal(encodeStrings(["/../../tmp/x"]))}" string_val: "/shard"`), ["MG241"]);
    assert.deepEqual(await scanSuffix(`dtype: DT_STRING tensor_shape { dim { size: 2 } } tensor_content: "${octal(encodeStrings(["/a", "/b"]))}"`), ["MG242"]);
    assert.deepEqual(await scanSuffix(`dtype: 7 tensor_content: "${octal(encodeStrings(["/a"]))}"`), ["MG242"]);
    // Spellings the two parsers may read differently are not guessed at.
    assert.deepEqual(await scanSuffix(`dtype: 0x7 string_val: "/a"`), ["MG241"]);
    assert.deepEqual(await scanSuffix(`dtype: DT_STRING tensor_shape { dim { size: 01 } } string_val: "/a"`), ["MG241"]);

    const library = `function { signature { name: "predict" input_arg { name: "x" } input_arg { name: "path" } }
  node_def { name: "save" op: "Save" input: ["path", "n:output:0", "d:output:0"] }
}`;
    const spec = (defaults: string) =>
      `fullargspec { named_tuple_value { name: "FullArgSpec" values { key: "args" value { list_value { values { string_value: "x" } values { string_value: "path" } } } } values { key: "defaults" value { ${defaults} } } } }`;
    const objects = (defaults: string) => `  object_graph_def {
    nodes { children { node_id: 1 local_name: "predict" } }
    nodes { function { concrete_functions: "predict" function_spec { ${spec(defaults)} } } }
    concrete_functions { key: "predict" value { canonicalized_input_signature { tuple_value { values { tuple_value { values { tensor_spec_value { } } values { tensor_spec_value { } } } } values { dict_value { } } } } } }
  }\n`;
    const model = (defaults: string) => Buffer.from(`meta_graphs {\n  graph_def {\n    library {\n${library}\n    }\n  }\n${objects(defaults)}}\n`);
    assert.deepEqual(rules(await run(scanSavedModelText, model(`tuple_value { values { string_value: "/tmp/x" } }`), "saved_model.pbtxt")), ["MG241"]);
    assert.deepEqual(rules(await run(scanSavedModelText, model(`none_value { }`), "saved_model.pbtxt")), ["MG242"]);
  });

  test("a second graph_def, which Python's parser merges into the first, is MG243", async () => {
    const text = `meta_graphs { graph_def { node { name: "rf" op: "ReadFile" } } graph_def { node { name: "c" op: "Const" } } }`;
    assert.deepEqual((await run(scanSavedModelText, Buffer.from(text), "saved_model.pbtxt")).map((r) => r.rule), ["MG243"]);
  });

  test("bytes that are not UTF-8 text are MG243", async () => {
    assert.deepEqual((await run(scanSavedModelText, Uint8Array.from([0xff, 0xfe, 0x00]), "saved_model.pbtxt")).map((r) => r.rule), ["MG243"]);
  });
});

describe("property: no input makes a graph scanner throw", () => {
  const seeds = manifest.map((e) => readFileSync(join(FIXTURES, e.file)));
  const scanners = [scanOnnx, scanSavedModel, scanSavedModelText, scanTflite];

  test("mutated fixtures and random bytes", async () => {
    const input = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 1024 }),
      fc.tuple(fc.constantFrom(...seeds), fc.array(mutationArb, { minLength: 1, maxLength: 4 })).map(([s, ms]) => new Uint8Array(applyMutations(s, ms))),
    );
    await fc.assert(
      fc.asyncProperty(input, async (bytes) => {
        for (const scanner of scanners) {
          for (const r of await run(scanner, bytes, "saved_model.pb")) assert.ok(Object.hasOwn(RULES, r.rule));
        }
      }),
      { seed: 20261123, numRuns: 300 },
    );
  });
});
