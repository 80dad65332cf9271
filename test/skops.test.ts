/**
 * skops archives (.skops: a zip with schema.json): every name a node imports is judged by the
 * pickle judge and reported with the pickle rules' ids (MG100–MG104); a schema shaped as skops
 * writes a scikit-learn pipeline passes. skops is not in the local wheel index, so the schemas are
 * built here after skops's writers (skops/io/_general.py, _numpy.py, _sklearn.py: protocol 2).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { scanFile } from "../src/engine.js";
import { scanSkopsSchema, sniffSkopsSchema } from "../src/formats/skops.js";
import { BufferSource } from "../src/sources/byteSource.js";
import type { FileResult } from "../src/types.js";
import { RecordingContext } from "./support/context.js";
import { plainZip } from "./support/zip.js";

const dir = mkdtempSync(join(tmpdir(), "mg-skops-"));
after(() => rmSync(dir, { recursive: true, force: true }));

type Json = Record<string, unknown>;
const node = (loader: string, module: string, cls: string, extra: Json = {}): Json => ({ __class__: cls, __module__: module, __loader__: loader, ...extra });
const json = (value: unknown): Json => node("JsonNode", "builtins", typeof value === "string" ? "str" : "int", { content: JSON.stringify(value), is_json: true });
const dict = (content: Json): Json => node("DictNode", "builtins", "dict", { content });
const list = (items: Json[]): Json => node("ListNode", "builtins", "list", { content: items });
const tuple = (items: Json[]): Json => node("TupleNode", "builtins", "tuple", { content: items });
const array = (file: string): Json => node("NdArrayNode", "numpy", "ndarray", { type: "numpy", file });
const estimator = (module: string, cls: string, attrs: Json): Json => node("ObjectNode", module, cls, { content: dict(attrs) });
const schema = (root: Json): Json => ({ ...root, protocol: 2, _skops_version: "0.11.0" });

/** A float64 .npy as np.save writes it (version 1.0, header padded to 64 bytes). */
function npy(values: number[]): Uint8Array {
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${values.length},), }`;
  header += " ".repeat(64 - ((10 + header.length + 1) % 64)) + "\n";
  const head = Buffer.concat([Buffer.from([0x93]), Buffer.from("NUMPY"), Buffer.from([1, 0]), Buffer.alloc(2), Buffer.from(header, "latin1")]);
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(new Float64Array(values).buffer)]);
}

/** Pipeline(StandardScaler(), LogisticRegression()) after fitting, as skops 0.11 saves it. */
const PIPELINE = schema(
  estimator("sklearn.pipeline", "Pipeline", {
    steps: list([
      tuple([json("scale"), estimator("sklearn.preprocessing._data", "StandardScaler", { with_mean: json(true), mean_: array("1.npy"), scale_: array("2.npy") })]),
      tuple([
        json("clf"),
        estimator("sklearn.linear_model._logistic", "LogisticRegression", {
          C: json(1),
          coef_: array("3.npy"),
          classes_: array("4.npy"),
          random_state: node("RandomStateNode", "numpy.random.mtrand", "RandomState", { content: dict({}) }),
          dtype_: node("TypeNode", "numpy", "float64"),
          log: node("FunctionNode", "numpy", "log1p"),
        }),
      ]),
    ]),
    memory: json(null),
  }),
);

async function scanArchive(name: string, tree: unknown, extra: { name: string; data: Uint8Array }[] = []): Promise<FileResult> {
  const path = join(dir, name);
  const data = typeof tree === "string" ? Buffer.from(tree) : Buffer.from(JSON.stringify(tree, null, 2));
  writeFileSync(path, plainZip([{ name: "schema.json", data }, ...extra]));
  return scanFile(path, name);
}

const loud = (r: FileResult): string[] => r.findings.filter((f) => f.severity !== "info" && f.severity !== "low").map((f) => `${f.rule} ${f.severity}`);

describe("skops schemas", () => {
  test("a scikit-learn pipeline as skops writes it passes, its arrays scanned as members", async () => {
    const arrays = ["1.npy", "2.npy", "3.npy", "4.npy"].map((name, i) => ({ name, data: npy([i, i + 0.5]) }));
    const r = await scanArchive("pipeline.skops", PIPELINE, arrays);
    assert.equal(r.format, "zip");
    assert.deepEqual(loud(r), [], JSON.stringify(r.findings));
    assert.equal(r.verdict, "pass");
  });

  test("schema.json is recognised by content, not by name", () => {
    const head = Buffer.from(JSON.stringify(PIPELINE));
    assert.ok(sniffSkopsSchema(head));
    assert.ok(sniffSkopsSchema(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("\n "), head])));
    assert.ok(!sniffSkopsSchema(Buffer.from('{"version": "1.0"}')));
    assert.ok(!sniffSkopsSchema(Buffer.from('["__loader__", "__module__"]')));
  });

  test("OperatorFuncNode naming posix.system (CVE-2025-54412) is MG100 critical", async () => {
    const evil = schema(estimator("sklearn.pipeline", "Pipeline", { steps: node("OperatorFuncNode", "posix", "system", { attrs: tuple([json("echo harmless")]) }) }));
    const r = await scanArchive("operator.skops", evil);
    const f = r.findings.find((x) => x.rule === "MG100" && x.message.includes("posix.system"));
    assert.ok(f, JSON.stringify(r.findings));
    assert.equal(f.severity, "critical");
    assert.equal(f.location.member, "schema.json");
    assert.match(f.evidence ?? "", /OperatorFuncNode at \$\.content\.content\.steps/);
    assert.equal(r.verdict, "block");
  });

  test("an allowlisted operator function called at load passes; operator.itemgetter is judged as the pickle rules judge it", async () => {
    const ok = schema(estimator("sklearn.pipeline", "Pipeline", { key: node("OperatorFuncNode", "operator", "neg", { attrs: tuple([json(1)]) }) }));
    assert.deepEqual(loud(await scanArchive("neg.skops", ok)), []);
    const getter = schema(estimator("sklearn.pipeline", "Pipeline", { key: node("OperatorFuncNode", "operator", "itemgetter", { attrs: tuple([json(0)]) }) }));
    assert.deepEqual(loud(await scanArchive("itemgetter.skops", getter)), ["MG100 critical"]);
  });

  test("MethodNode on a foreign object (CVE-2025-54413) is judged as a call of Class.method", async () => {
    const evil = schema(
      estimator("sklearn.pipeline", "Pipeline", {
        f: node("MethodNode", "subprocess", "Popen", { content: { func: "communicate", obj: node("ObjectNode", "subprocess", "Popen") } }),
      }),
    );
    const r = await scanArchive("method.skops", evil);
    const rules = r.findings.map((f) => `${f.rule}:${f.message}`);
    assert.ok(rules.some((x) => x.startsWith("MG100:") && x.includes("subprocess.Popen")), rules.join("\n"));
    assert.ok(rules.some((x) => x.includes("subprocess.Popen.communicate")), rules.join("\n"));
    assert.equal(r.verdict, "block");
  });

  test("a FunctionNode to an unknown function is MG101 (call), an unknown class MG102 (construct), each name once", async () => {
    const tree = schema(
      estimator("sklearn.pipeline", "Pipeline", {
        a: node("FunctionNode", "mylib.tools", "transform"),
        b: node("ObjectNode", "mylib.models", "Custom"),
        c: node("ObjectNode", "mylib.models", "Custom"),
      }),
    );
    const r = await scanArchive("unknown.skops", tree);
    const found = r.findings.map((f) => `${f.rule} ${f.severity} ${f.message}`);
    assert.deepEqual(found.filter((f) => f.startsWith("MG101")), ["MG101 high skops schema calls mylib.tools.transform, which is not on the allowlist"]);
    const custom = r.findings.filter((f) => f.rule === "MG102");
    assert.equal(custom.length, 1);
    assert.match(custom[0]!.evidence ?? "", /\(2 nodes\)/);
  });

  test("protocol 0 FunctionNode imports its content's module_path.function", async () => {
    const tree = { ...estimator("sklearn.pipeline", "Pipeline", { f: node("FunctionNode", "numpy", "function", { content: { module_path: "os", function: "system" } }) }), protocol: 0 };
    const r = await scanArchive("old.skops", tree);
    const rules = r.findings.map((f) => `${f.rule} ${f.message}`);
    assert.ok(rules.some((x) => x.startsWith("MG100") && x.includes("os.system")), rules.join("\n"));
    assert.ok(!rules.some((x) => x.includes("numpy.function")), rules.join("\n"));
  });

  test("the organisation's allow list is consulted", async () => {
    const tree = schema(estimator("mylib.models", "Custom", {}));
    const ctx = Object.assign(new RecordingContext(), { callables: { allow: new Set(["mylib.models.Custom"]), deny: new Map() } });
    await scanSkopsSchema(new BufferSource("schema.json", Buffer.from(JSON.stringify(tree))), ctx);
    assert.deepEqual(ctx.rules(), []);
    const plain = new RecordingContext();
    await scanSkopsSchema(new BufferSource("schema.json", Buffer.from(JSON.stringify(tree))), plain);
    assert.deepEqual(plain.rules(), ["MG102"]);
  });

  test("broken schemas fail closed (MG300): not JSON, nodes without names, hostile nesting", async () => {
    const rulesOf = async (text: string): Promise<string[]> => {
      const ctx = new RecordingContext();
      await scanSkopsSchema(new BufferSource("schema.json", Buffer.from(text)), ctx);
      return ctx.rules();
    };
    assert.deepEqual(await rulesOf('{"__loader__": "ObjectNode", "__module__": "sklearn'), ["MG300"]);
    assert.deepEqual(await rulesOf('{"__loader__": "ObjectNode", "__module__": 1, "__class__": "X"}'), ["MG300"]);
    assert.deepEqual(await rulesOf('{"__loader__": "MethodNode", "__module__": "m", "__class__": "X", "content": {}}').then((r) => r.filter((x) => x === "MG300")), ["MG300"]);
    // 100 000 levels: walked without recursion, reported once, and the node under them is not lost silently.
    const depth = 100_000;
    const deep = `{"__loader__": "ObjectNode", "__module__": "sklearn.pipeline", "__class__": "Pipeline", "content": ${"[".repeat(depth)}{"__loader__": "FunctionNode", "__module__": "os", "__class__": "system"}${"]".repeat(depth)}}`;
    assert.deepEqual(await rulesOf(deep), ["MG300"]);
  });

  test("a real archive's unreadable schema is a finding, not a pass", async () => {
    const r = await scanArchive("broken.skops", '{"__class__": "Pipeline", "__module__": "sklearn.pipeline", "__loader__": "ObjectNode", "content": ');
    assert.deepEqual(loud(r), ["MG300 high"]);
  });
});
