/**
 * TorchServe model archives (.mar): the manifest's handler and model file are Python code from the
 * archive that TorchServe imports when the model is registered (MG284); built-in handlers are not.
 * Archives are built here; the Python members are harmless text and nothing is ever run.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scan } from "../src/index.js";
import { scanZip } from "../src/formats/zip.js";
import { BufferSource } from "../src/sources/byteSource.js";
import { RecordingContext } from "./support/context.js";
import { OP, assemble, call1, global } from "./support/pickle.js";
import { plainZip } from "./support/zip.js";

const HANDLER = "from ts.torch_handler.base_handler import BaseHandler\n\nclass Handler(BaseHandler):\n    pass\n";

function mar(model: Record<string, unknown>, members: Record<string, string | Uint8Array> = {}): Buffer {
  const manifest = JSON.stringify({ createdOn: "01/12/2026 10:00:00", runtime: "python", model: { modelName: "m", serializedFile: "model.pt", ...model }, archiverVersion: "0.12.0" });
  return plainZip([
    { name: "MAR-INF/MANIFEST.json", data: Buffer.from(manifest) },
    ...Object.entries(members).map(([name, data]) => ({ name, data: typeof data === "string" ? Buffer.from(data) : data })),
  ]);
}

async function findings(bytes: Buffer): Promise<RecordingContext> {
  const ctx = new RecordingContext();
  await scanZip(new BufferSource("model.mar", bytes), ctx);
  return ctx;
}

const code = (ctx: RecordingContext) => ctx.reports.filter((r) => r.rule === "MG284");

test("a handler .py in the archive is MG284 naming the handler", async () => {
  const ctx = await findings(mar({ handler: "handler.py" }, { "handler.py": HANDLER, "model.pt": "" }));
  const [finding, ...rest] = code(ctx);
  assert.equal(rest.length, 0);
  assert.match(finding!.message, /names handler "handler\.py" \(handler\.py\), Python code TorchServe imports and runs when the model is registered/);
  assert.match(finding!.extra.evidence ?? "", /Python members: handler\.py/);
});

test("module:function handlers and package handlers resolve to the archive's module", async () => {
  assert.equal(code(await findings(mar({ handler: "custom:handle" }, { "custom.py": HANDLER }))).length, 1);
  const pkg = code(await findings(mar({ handler: "pkg" }, { "pkg/__init__.py": HANDLER })));
  assert.match(pkg[0]!.message, /handler "pkg" \(pkg\/__init__\.py\)/);
});

test("a built-in handler with no Python member is not code from the archive: no finding", async () => {
  for (const handler of ["image_classifier", "image_segmenter", "object_detector", "text_classifier"]) {
    const ctx = await findings(mar({ handler }, { "model.pt": "", "index_to_name.json": "{}" }));
    assert.deepEqual(code(ctx), [], handler);
  }
});

test("an archive module named like a built-in handler shadows it (the archive's folder is on sys.path): MG284", async () => {
  const ctx = await findings(mar({ handler: "image_classifier" }, { "image_classifier.py": HANDLER }));
  assert.match(code(ctx)[0]!.message, /handler "image_classifier" \(image_classifier\.py\)/);
});

test("a model file in the archive is MG284 even with a built-in handler", async () => {
  const ctx = await findings(mar({ handler: "image_classifier", modelFile: "model.py" }, { "model.py": "import torch\n" }));
  assert.match(code(ctx)[0]!.message, /names modelFile "model\.py"/);
});

test("a handler module that is neither built in nor in the archive is reported", async () => {
  const ctx = await findings(mar({ handler: "site_handlers.vision" }, { "model.pt": "" }));
  assert.match(code(ctx)[0]!.message, /module "site_handlers\/vision", not a TorchServe built-in handler and not in the archive/);
});

test("the manifest check does not depend on the archive looking like something else (a PyTorch checkpoint member)", async () => {
  const ctx = await findings(mar({ handler: "handler.py" }, { "archive/data.pkl": assemble(OP.PROTO, 2, OP.NONE, OP.STOP), "handler.py": HANDLER }));
  assert.equal(code(ctx).length, 1);
});

test("a manifest that cannot be read is MG278 (fail closed), not a pass", async () => {
  const bytes = plainZip([
    { name: "MAR-INF/MANIFEST.json", data: Buffer.from("{not json") },
    { name: "handler.py", data: Buffer.from(HANDLER) },
  ]);
  const ctx = await findings(bytes);
  const unreadable = ctx.reports.filter((r) => r.rule === "MG278");
  assert.equal(unreadable.length, 1);
  assert.match(unreadable[0]!.message, /^TorchServe MAR-INF\/MANIFEST\.json is not valid JSON \(.+\); the handler code it names was not checked$/);
  const noModel = await findings(plainZip([{ name: "MAR-INF/MANIFEST.json", data: Buffer.from("[]") }]));
  assert.match(noModel.reports.find((r) => r.rule === "MG278")!.message, /has no "model" object/);
});

test("a zip without MAR-INF/MANIFEST.json is not a TorchServe archive, whatever its Python members", async () => {
  const ctx = await findings(plainZip([{ name: "handler.py", data: Buffer.from(HANDLER) }]));
  assert.deepEqual(code(ctx), []);
});

test("end to end: the handler is reported and the serialized model is still scanned by content", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mg-mar-"));
  try {
    const path = join(dir, "evil.mar");
    const pickle = assemble(OP.PROTO, 2, call1(global("os", "system"), "echo harmless"), OP.STOP);
    writeFileSync(path, mar({ handler: "handler.py" }, { "handler.py": HANDLER, "model.pt": pickle }));
    const report = await scan(path);
    assert.equal(report.verdict, "block");
    const rules = report.files[0]!.findings.map((f) => `${f.rule} ${f.severity}`);
    assert.ok(rules.includes("MG284 high"), rules.join(", "));
    assert.ok(rules.includes("MG100 critical"), rules.join(", "));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
