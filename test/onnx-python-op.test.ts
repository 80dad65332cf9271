/**
 * ONNX op types that run Python (MG235): reported high in every domain and in every subgraph,
 * once per op type; the domain rule (MG232) keeps judging the other custom ops. Models are built
 * here with the protobuf writer, field numbers as in onnx.proto.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { scanOnnx, sniffOnnx } from "../src/formats/onnx.js";
import { RULES } from "../src/rules/catalogue.js";
import { BufferSource } from "../src/sources/byteSource.js";
import { RecordingContext, type Reported } from "./support/context.js";
import { pb } from "./support/protobuf.js";

/** NodeProto: name 3, op_type 4, attribute 5, domain 7. */
const node = (name: string, opType: string, domain = "", attributes: number[][] = []): number[] => [
  ...pb.len(1, "x"),
  ...pb.len(2, "y"),
  ...pb.len(3, name),
  ...pb.len(4, opType),
  ...attributes.flatMap((a) => pb.len(5, a)),
  ...(domain ? pb.len(7, domain) : []),
];
/** GraphProto: node 1, name 2. */
const graph = (name: string, nodes: number[][]): number[] => [...nodes.flatMap((n) => pb.len(1, n)), ...pb.len(2, name)];
/** ModelProto: ir_version 1, producer_name 2, graph 7. */
const model = (g: number[]): Uint8Array => Uint8Array.from([...pb.num(1, 8), ...pb.len(2, "pytorch"), ...pb.len(7, g)]);

async function scan(bytes: Uint8Array): Promise<Reported[]> {
  assert.ok(sniffOnnx(bytes, bytes.length), "the built model sniffs as ONNX");
  const ctx = new RecordingContext([], undefined, 0, "model.onnx", "model.onnx");
  await scanOnnx(new BufferSource("model.onnx", bytes), ctx);
  return ctx.reports;
}

describe("ONNX Python ops (MG235)", () => {
  test("the rule is high", () => {
    assert.equal(RULES.MG235.severity, "high");
  });

  test("PythonOp in the default domain is reported, though the domain is a standard one", async () => {
    const reports = await scan(model(graph("main", [node("relu", "Relu"), node("fn", "PythonOp")])));
    assert.deepEqual(reports.map((r) => r.rule), ["MG235"]);
    assert.match(reports[0]!.message, /1 PythonOp node/);
    assert.match(reports[0]!.extra.evidence ?? "", /PythonOp "fn" in domain ""/);
  });

  test("torch.onnx's prim::PythonOp and ORT's com.microsoft PythonOp/PythonOpGrad: one finding per op type, every domain named", async () => {
    const reports = await scan(
      model(graph("main", [node("a", "PythonOp", "prim"), node("b", "PythonOp", "com.microsoft"), node("c", "PythonOpGrad", "com.microsoft")])),
    );
    assert.deepEqual(reports.map((r) => r.rule), ["MG235", "MG235"]);
    assert.match(reports[0]!.message, /2 PythonOp node\(s\) \(domains prim, com\.microsoft\)/);
    assert.match(reports[1]!.message, /PythonOpGrad/);
    // prim is no known domain, but the node is reported as what it is, not twice.
    assert.ok(!reports.some((r) => r.rule === "MG232"));
  });

  test("a Python op hidden in a Loop body is found", async () => {
    const body = graph("body", [node("hidden", "PyOp", "ai.onnx.contrib")]);
    const attr = [...pb.len(1, "body"), ...pb.num(20, 5), ...pb.len(6, body)];
    const reports = await scan(model(graph("main", [node("loop", "Loop", "", [attr])])));
    assert.deepEqual(reports.map((r) => r.rule), ["MG235"]);
    assert.match(reports[0]!.extra.evidence ?? "", /Loop "loop"\.body/);
  });

  test("other custom-domain ops stay MG232 beside a Python op", async () => {
    const reports = await scan(model(graph("main", [node("a", "PythonOp", "custom"), node("b", "Gelu2", "custom")])));
    assert.deepEqual(reports.map((r) => r.rule).sort(), ["MG232", "MG235"]);
    assert.match(reports.find((r) => r.rule === "MG232")!.message, /ops Gelu2\)/);
  });

  test("names are exact: an op merely containing 'Python' is not a Python op", async () => {
    const reports = await scan(model(graph("main", [node("a", "PythonOpLike"), node("b", "pythonop")])));
    assert.deepEqual(reports, []);
  });

  test("many Python ops quote the first ten nodes and count the rest", async () => {
    const nodes = Array.from({ length: 25 }, (_, i) => node(`n${i}`, "PythonOp", "prim"));
    const [r] = await scan(model(graph("main", nodes)));
    assert.match(r!.message, /25 PythonOp/);
    assert.match(r!.extra.evidence ?? "", /and 15 more$/);
  });
});
