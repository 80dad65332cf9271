/**
 * Loaders that import code or render templates beyond auto_map (THREATS H4, issue 12 item 7):
 * sentence-transformers modules.json, diffusers model_index.json, transformers custom_generate,
 * Keras architecture JSON and TorchModuleWrapper blobs, chat templates in every config a loader
 * reads — in a folder and given alone. Inputs are built here; each attack has a benign twin.
 */
import assert from "node:assert/strict";
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { scanFile, scanPaths } from "../src/engine.js";
import { scanRepository } from "../src/repo/checks.js";
import { stepsTo, walkConfig } from "../src/repo/loaders.js";
import { RULES } from "../src/rules/catalogue.js";
import type { FileResult, ScanReport } from "../src/types.js";
import { assemble, OP, stackGlobal, str } from "./support/pickle.js";
import { pb } from "./support/protobuf.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "modelgate-loaders-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes `files` (path → content) under a new folder and returns it. */
async function folder(name: string, files: Record<string, string | Buffer>): Promise<string> {
  const root = join(dir, name);
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await writeFile(join(root, rel), content);
  }
  return root;
}

/** Findings as "rule:severity" per file path relative to `root`. */
function byFile(report: ScanReport, root: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const f of report.files) out[f.path.slice(f.path.indexOf(root) + root.length + 1)] = [...new Set(f.findings.map((x) => `${x.rule}:${x.severity}`))];
  return out;
}

const json = (v: unknown): string => JSON.stringify(v, null, 2);
/** The distinct "rule:severity" of findings at medium or above (a template escape has one finding per piece of evidence). */
const loud = (f: FileResult | undefined): string[] => [
  ...new Set((f?.findings ?? []).filter((x) => x.severity !== "low" && x.severity !== "info").map((x) => `${x.rule}:${x.severity}`)),
];

/** A pickle that calls posix.system("id") — harmless here: it is never loaded. */
const MALICIOUS_PICKLE = assemble(OP.PROTO, 4, stackGlobal("posix", "system"), str("id"), OP.TUPLE1, OP.REDUCE, OP.STOP);
/** A pickle holding a dict of numbers. */
const BENIGN_PICKLE = assemble(OP.PROTO, 4, OP.EMPTY_DICT, str("a"), OP.BININT1, 1, OP.SETITEM, OP.STOP);

const SSTI = "{{ cycler.__init__.__globals__.os.popen('id').read() }}";
const BENIGN_TEMPLATE = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}";

const ST_MODULES = [
  { idx: 0, name: "0", path: "", type: "sentence_transformers.models.Transformer" },
  { idx: 1, name: "1", path: "1_Pooling", type: "sentence_transformers.models.Pooling" },
  { idx: 2, name: "2", path: "2_Normalize", type: "sentence_transformers.models.Normalize" },
];

// ── sentence-transformers ───────────────────────────────────────────────────

test("sentence-transformers modules.json with a custom module type is high, and its module file is loaded code (H4)", async () => {
  const root = await folder("st-custom", {
    "modules.json": json([...ST_MODULES.slice(0, 1), { idx: 1, name: "1", path: "1_Pooling", type: "custom_pooling.EvilPooling" }]),
    "custom_pooling.py": "import os\nos.system('id')\n",
  });
  const files = byFile(await scanPaths([root]), root);
  assert.deepEqual(files["modules.json"], ["MG281:high"]);
  assert.deepEqual(files["custom_pooling.py"], ["MG271:high"]);
});

test("modules.json whose type imports an installed module (os.system) is high, also given alone", async () => {
  const root = await folder("st-os", { "modules.json": json([{ idx: 0, name: "0", path: "", type: "os.system" }]) });
  const alone = await scanPaths([join(root, "modules.json")]);
  assert.equal(alone.files[0]?.format, "model-config");
  assert.deepEqual(loud(alone.files[0]), ["MG281:high"]);
});

test("a Router's route module type outside sentence_transformers is high, in router_config.json and in its legacy config.json", async () => {
  const router = {
    types: { query_0_Transformer: "sentence_transformers.models.Transformer", document_0_Evil: "evil_module.Loader" },
    structure: { query: ["query_0_Transformer"], document: ["document_0_Evil"] },
    parameters: { default_route: "query", allow_empty_key: true },
  };
  const root = await folder("st-router", {
    "modules.json": json([{ idx: 0, name: "0", path: "", type: "sentence_transformers.models.Router" }]),
    "router_config.json": json(router),
    "evil_module.py": "import os\n",
    "legacy/config.json": json(router),
    // Router.load imports every type before it reads `structure`: a legacy config needs nothing else.
    "bare/config.json": json({ types: { r: "evil_module.Loader" } }),
  });
  const files = byFile(await scanPaths([root]), root);
  assert.deepEqual(files["router_config.json"], ["MG281:high"]);
  assert.deepEqual(files["legacy/config.json"], ["MG281:high"]);
  assert.deepEqual(files["bare/config.json"], ["MG281:high"]);
  assert.deepEqual(files["evil_module.py"], ["MG271:high"], "the route's module file is code the loader imports");
  // A route folder that leaves the model's folder is the module loading its files from there.
  const out = await folder("st-router-out", { "router_config.json": json({ ...router, types: { "../../elsewhere": "sentence_transformers.models.Transformer" } }) });
  assert.deepEqual(byFile(await scanPaths([out]), out)["router_config.json"], ["MG281:high"]);
});

test("the Router sentence-transformers saves passes; the same folder with one route type changed to a repository module blocks", async () => {
  const real = join(import.meta.dirname, "..", "..", "test", "fixtures", "zoo", "hf", "sentence_transformers", "router");
  const root = join(dir, "st-router-real");
  await cp(real, root, { recursive: true });
  assert.equal((await scanPaths([root])).verdict, "pass");
  const config = join(root, "router_config.json");
  await writeFile(config, (await readFile(config, "utf8")).replace('"query_1_Pooling": "sentence_transformers.sentence_transformer.modules.pooling.Pooling"', '"query_1_Pooling": "pooling.Pooling"'));
  await writeFile(join(root, "pooling.py"), "import os\n");
  const files = byFile(await scanPaths([root]), root);
  assert.deepEqual(files["router_config.json"], ["MG281:high"]);
  assert.deepEqual(files["pooling.py"], ["MG271:high"]);
});

test("a Router route folder the walk left out is MG285", async () => {
  const root = await folder("st-router-skipped", {
    "router_config.json": json({ types: { ".venv": "sentence_transformers.models.Transformer" }, structure: { query: [".venv"] }, parameters: {} }),
    ".venv/model.safetensors": "",
  });
  assert.deepEqual(byFile(await scanPaths([root]), root)["router_config.json"], ["MG285:high"]);
  const legacy = await folder("st-router-legacy-skipped", {
    "config.json": json({ types: { ".venv": "sentence_transformers.models.Transformer" } }),
    ".venv/model.safetensors": "",
  });
  assert.deepEqual(byFile(await scanPaths([legacy]), legacy)["config.json"], ["MG285:high"]);
});

test("modules.json with a private attribute path inside sentence_transformers is high", async () => {
  const root = await folder("st-walk", { "modules.json": json([{ idx: 0, name: "0", path: "", type: "sentence_transformers.util.__builtins__" }]) });
  assert.deepEqual(loud((await scanPaths([join(root, "modules.json")])).files[0]), ["MG281:high"]);
});

test("modules.json whose module path climbs out of the model folder is high (the module loads its files from there)", async () => {
  const root = await folder("st-path", { "modules.json": json([{ idx: 0, name: "0", path: "../../other_model", type: "sentence_transformers.models.Transformer" }]) });
  assert.deepEqual(loud((await scanPaths([join(root, "modules.json")])).files[0]), ["MG281:high"]);
});

test("benign twin: stock sentence-transformers modules pass", async () => {
  const root = await folder("st-benign", { "modules.json": json(ST_MODULES), "config_sentence_transformers.json": json({ __version__: { sentence_transformers: "3.0.1" } }) });
  const report = await scanPaths([root]);
  assert.equal(report.verdict, "pass", JSON.stringify(report.files));
});

// ── diffusers ───────────────────────────────────────────────────────────────

const SD_INDEX = {
  _class_name: "StableDiffusionPipeline",
  _diffusers_version: "0.30.0",
  feature_extractor: ["transformers", "CLIPImageProcessor"],
  safety_checker: ["stable_diffusion", "StableDiffusionSafetyChecker"],
  scheduler: ["diffusers", "PNDMScheduler"],
  text_encoder: ["transformers", "CLIPTextModel"],
  tokenizer: ["transformers", "CLIPTokenizer"],
  unet: ["diffusers", "UNet2DConditionModel"],
  vae: ["diffusers", "AutoencoderKL"],
  image_encoder: [null, null],
  requires_safety_checker: true,
};

test("diffusers model_index.json custom component runs the component folder's Python file (H4)", async () => {
  const root = await folder("sd-component", {
    "model_index.json": json({ ...SD_INDEX, unet: ["my_unet", "MyUNet"] }),
    "unet/my_unet.py": "class MyUNet: pass\n",
  });
  const files = byFile(await scanPaths([root]), root);
  assert.deepEqual(files["model_index.json"], ["MG282:high"]);
  assert.deepEqual(files["unet/my_unet.py"], ["MG271:high"]);
});

test("a diffusers component whose folder is one the scan skips by default blocks; a left-out component does not", async () => {
  const root = await folder("sd-skipped", {
    "model_index.json": json({ ...SD_INDEX, venv: ["diffusers", "UNet2DConditionModel"], node_modules: [null, null] }),
    "venv/diffusion_pytorch_model.bin": "weights the loader reads",
    "node_modules/x.bin": "",
  });
  const files = byFile(await scanPaths([root]), root);
  assert.deepEqual(files["model_index.json"], ["MG285:high"]);
  assert.equal(files["venv/diffusion_pytorch_model.bin"], undefined, "the folder itself stays skipped");
});

test("a modular pipeline's component type_hint from another library is high; diffusers and transformers ones are not", async () => {
  const spec = (library: string | null, cls: string) => ({ type_hint: [library, cls], pretrained_model_name_or_path: "org/sdxl", subfolder: "unet", variant: null, revision: null });
  const benign = { _class_name: "StableDiffusionXLModularPipeline", unet: ["diffusers", "UNet2DConditionModel", spec("diffusers", "UNet2DConditionModel")], text_encoder: ["transformers", "CLIPTextModel", spec("transformers", "CLIPTextModel")] };
  const root = await folder("sd-modular", {
    "modular_model_index.json": json(benign),
    "evil/modular_model_index.json": json({ ...benign, unet: ["diffusers", "UNet2DConditionModel", spec("subprocess", "Popen")] }),
    // Python unpacks a two-key object into its keys.
    "keys/modular_model_index.json": json({ ...benign, unet: ["diffusers", "UNet2DConditionModel", { ...spec("x", "y"), type_hint: { subprocess: 0, Popen: 0 } }] }),
    // diffusers imports nothing when either is None.
    "none/modular_model_index.json": json({ ...benign, unet: ["diffusers", "UNet2DConditionModel", spec(null, "Popen")] }),
  });
  const files = byFile(await scanPaths([root]), root);
  assert.deepEqual(files["modular_model_index.json"], []);
  assert.deepEqual(files["evil/modular_model_index.json"], ["MG282:high"]);
  assert.deepEqual(files["keys/modular_model_index.json"], ["MG282:high"]);
  assert.deepEqual(files["none/modular_model_index.json"], []);
});

test("diffusers component from an arbitrary library (importlib.import_module) is high, also given alone", async () => {
  const root = await folder("sd-import", { "model_index.json": json({ ...SD_INDEX, scheduler: ["subprocess", "Popen"] }) });
  assert.deepEqual(loud((await scanPaths([join(root, "model_index.json")])).files[0]), ["MG282:high"]);
});

test("diffusers custom pipeline (_class_name as [file, class]) is high and its file is loaded code", async () => {
  const root = await folder("sd-pipeline", {
    "model_index.json": json({ ...SD_INDEX, _class_name: ["pipeline", "EvilPipeline"] }),
    "pipeline.py": "class EvilPipeline: pass\n",
  });
  const files = byFile(await scanPaths([root]), root);
  assert.deepEqual(files["model_index.json"], ["MG282:high"]);
  assert.deepEqual(files["pipeline.py"], ["MG271:high"]);
});

test("benign twin: a stock Stable Diffusion model_index.json passes", async () => {
  const root = await folder("sd-benign", { "model_index.json": json(SD_INDEX) });
  const report = await scanPaths([root]);
  assert.equal(report.verdict, "pass", JSON.stringify(report.files));
});

// ── transformers custom generate ────────────────────────────────────────────

test("transformers custom_generate/generate.py replaces generate(): high, in a folder and given alone", async () => {
  const root = await folder("custom-generate", {
    "config.json": json({ model_type: "llama" }),
    "custom_generate/generate.py": "def generate(model, **kw):\n    import os; os.system('id')\n",
  });
  assert.deepEqual(byFile(await scanPaths([root]), root)["custom_generate/generate.py"], ["MG271:high"]);
  assert.deepEqual(loud((await scanPaths([join(root, "custom_generate", "generate.py")])).files[0]), ["MG271:high"]);
});

test("code files loaders import by a fixed name are high: torch.hub's hubconf.py, a diffusers custom pipeline's pipeline.py", async () => {
  // Written by scripts/make_torch_package_fixtures.py, which loads it back with torch.hub.load(…, source="local").
  const hub = join(import.meta.dirname, "..", "..", "test", "fixtures", "repos", "hub_local");
  const hubFiles = (await scanPaths([hub])).files.filter((f) => f.findings.length > 0);
  assert.deepEqual(
    hubFiles.flatMap((f) => f.findings.map((x) => [x.rule, x.severity, x.message])),
    [["MG271", "high", '"hubconf.py" is Python code; torch.hub.load imports it for the folder\'s entry points (hubconf; no trust prompt for a local folder)']],
  );
  assert.deepEqual(loud((await scanPaths([join(hub, "hubconf.py")])).files[0]), ["MG271:high"], "given alone too");
  const root = await folder("custom-pipeline", { "model_index.json": json(SD_INDEX), "pipeline.py": "class MyPipeline: pass\n", "utils/pipeline.py": "x = 1\n" });
  const report = await scanPaths([root]);
  const found = report.files.flatMap((f) => f.findings.filter((x) => x.rule === "MG271").map((x) => [f.path.slice(root.length + 1), x.severity, x.message]));
  assert.deepEqual(found, [
    ["pipeline.py", "high", '"pipeline.py" is Python code; diffusers imports it as the pipeline class when custom_pipeline names this repository'],
    ["utils/pipeline.py", "low", '"utils/pipeline.py" is Python code'],
  ]);
});

test("benign twin: a helper script nothing loads is low", async () => {
  const root = await folder("plain-script", { "config.json": json({ model_type: "llama" }), "scripts/convert.py": "print('hi')\n" });
  const report = await scanPaths([root]);
  assert.equal(report.verdict, "pass");
  assert.deepEqual(byFile(report, root)["scripts/convert.py"], ["MG271:low"]);
});

// ── Keras architecture JSON (model_from_json) and TorchModuleWrapper ────────

const DENSE = { class_name: "Dense", config: { name: "dense", units: 4, activation: "relu" } };
const sequential = (...layers: unknown[]) => ({ class_name: "Sequential", config: { name: "sequential", layers }, keras_version: "2.15.0", backend: "tensorflow" });

test("Keras architecture JSON with a Lambda layer is critical, given alone (model_from_json)", async () => {
  const lambda = { class_name: "Lambda", config: { name: "l", function: ["4wEAAAAAAAAA", null, null], function_type: "lambda" } };
  const root = await folder("keras-json", { "model.json": json(sequential(DENSE, lambda)) });
  const result = (await scanPaths([join(root, "model.json")])).files[0];
  assert.equal(result?.format, "model-config");
  assert.deepEqual(loud(result), ["MG260:critical"]);
});

test("Keras architecture JSON naming a module outside Keras is high, in a folder", async () => {
  const foreign = { module: "evil_layers", class_name: "Backdoor", config: {}, registered_name: "Backdoor" };
  const root = await folder("keras-json-foreign", { "architecture.json": json(sequential(DENSE, foreign)) });
  assert.deepEqual(byFile(await scanPaths([root]), root)["architecture.json"], ["MG261:high"]);
});

test("benign twin: a Keras architecture JSON of Dense layers passes", async () => {
  const root = await folder("keras-json-benign", { "model.json": json(sequential(DENSE, DENSE)) });
  assert.equal((await scanPaths([root])).verdict, "pass");
});

test("Keras TorchModuleWrapper: the torch.save blob is scanned as a pickle, its payload is critical", async () => {
  const wrapper = { module: "keras.layers", class_name: "TorchModuleWrapper", config: { name: "torch", module: MALICIOUS_PICKLE.toString("base64") } };
  const root = await folder("keras-torch", { "model.json": json(sequential(wrapper)) });
  const result = (await scanPaths([join(root, "model.json")])).files[0];
  assert.ok(loud(result).includes("MG266:high"), JSON.stringify(result?.findings));
  const payload = result?.findings.find((f) => f.severity === "critical");
  assert.ok(payload?.location.member?.includes("torch.save"), JSON.stringify(result?.findings));
});

test("Keras TorchModuleWrapper with a harmless blob is still high: torch.load(weights_only=False) runs at load", async () => {
  const wrapper = { module: "keras.layers", class_name: "TorchModuleWrapper", config: { name: "torch", module: BENIGN_PICKLE.toString("base64") } };
  const root = await folder("keras-torch-benign-blob", { "model.json": json(sequential(wrapper)) });
  assert.deepEqual(loud((await scanPaths([join(root, "model.json")])).files[0]), ["MG266:high"]);
});

// ── Templates ───────────────────────────────────────────────────────────────

test("processor_config.json chat_template with a sandbox escape is critical (H4)", async () => {
  const root = await folder("processor", { "processor_config.json": json({ processor_class: "LlavaProcessor", chat_template: SSTI }) });
  assert.deepEqual(byFile(await scanPaths([root]), root)["processor_config.json"], ["MG220:critical"]);
});

test("chat_template.json with a dict of named templates: the bad one is found", async () => {
  const root = await folder("named", { "chat_template.json": json({ chat_template: { default: BENIGN_TEMPLATE, tool_use: SSTI } }) });
  assert.deepEqual(loud((await scanPaths([join(root, "chat_template.json")])).files[0]), ["MG220:critical"]);
});

test("tokenizer_config.json with a list of {name, template}: the bad one is found", async () => {
  const root = await folder("listed", { "tokenizer_config.json": json({ chat_template: [{ name: "default", template: BENIGN_TEMPLATE }, { name: "rag", template: SSTI }] }) });
  assert.deepEqual(loud((await scanPaths([join(root, "tokenizer_config.json")])).files[0]), ["MG220:critical"]);
});

test("a chat_template nested at any level of any JSON file, scanned on its own, is checked", async () => {
  const root = await folder("nested", { "my_settings.json": json({ serving: { tokenizer: { chat_template: SSTI } } }) });
  assert.deepEqual(loud((await scanPaths([join(root, "my_settings.json")])).files[0]), ["MG220:critical"]);
});

test("a chat_template inside lists of objects, at any depth, is checked", async () => {
  const root = await folder("listed_deep", { "serving.json": json({ profiles: [{ stages: [[{ chat_template: SSTI }]] }] }) });
  assert.deepEqual(loud((await scanPaths([join(root, "serving.json")])).files[0]), ["MG220:critical"]);
});

test("a standalone .jinja template (additional_chat_templates/) is checked, alone and in a folder", async () => {
  const root = await folder("jinja", { "additional_chat_templates/tool_use.jinja": SSTI });
  const alone = (await scanPaths([join(root, "additional_chat_templates", "tool_use.jinja")])).files[0];
  assert.equal(alone?.format, "chat-template");
  assert.deepEqual(loud(alone), ["MG220:critical"]);
  assert.deepEqual(byFile(await scanPaths([root]), root)["additional_chat_templates/tool_use.jinja"], ["MG220:critical"]);
});

test("benign twin: ordinary templates in processor_config.json, chat_template.json and a .jinja pass", async () => {
  const root = await folder("templates-benign", {
    "processor_config.json": json({ chat_template: BENIGN_TEMPLATE }),
    "chat_template.json": json({ chat_template: { default: BENIGN_TEMPLATE } }),
    "chat_template.jinja": BENIGN_TEMPLATE,
  });
  const report = await scanPaths([root]);
  assert.equal(report.verdict, "pass", JSON.stringify(report.files));
  assert.ok(report.files.every((f) => f.skipped === undefined && (f.format === "model-config" || f.format === "chat-template")));
});

// ── Given alone ─────────────────────────────────────────────────────────────

test("config.json with auto_map given alone is high, once (not skipped, not reported twice)", async () => {
  const root = await folder("auto-map-alone", { "config.json": json({ auto_map: { AutoModel: "modeling_x.XModel" } }) });
  const r = (await scanPaths([join(root, "config.json")])).files[0];
  assert.deepEqual(r?.findings.map((f) => `${f.rule}:${f.severity}`), ["MG270:high"]);
  // In its folder, the same single finding.
  assert.deepEqual(byFile(await scanPaths([root]), root)["config.json"], ["MG270:high"]);
});

test("the library's scanFile checks a config too (the gateway scans files one by one)", async () => {
  const root = await folder("scanfile", { "tokenizer_config.json": json({ chat_template: SSTI }) });
  const r = await scanFile(join(root, "tokenizer_config.json"), "tokenizer_config.json");
  assert.equal(r.format, "model-config");
  assert.deepEqual(loud(r), ["MG220:critical"]);
});

test("a Python module given alone is reported like one in a folder (low), not skipped", async () => {
  const root = await folder("py-alone", { "modeling_x.py": "import torch\n" });
  const r = (await scanPaths([join(root, "modeling_x.py")])).files[0];
  assert.equal(r?.skipped, undefined);
  assert.deepEqual(r?.findings.map((f) => `${f.rule}:${f.severity}`), ["MG271:low"]);
});

test("a Hydra YAML given alone has its _target_ judged", async () => {
  const root = await folder("yaml-alone", { "model_config.yaml": "model:\n  _target_: os.system\n" });
  assert.deepEqual(loud((await scanPaths([join(root, "model_config.yaml")])).files[0]), ["MG276:critical"]);
});

test("benign twin: a plain config.json given alone is scanned and passes", async () => {
  const root = await folder("config-alone", { "config.json": json({ model_type: "bert", hidden_size: 768 }) });
  const r = (await scanPaths([join(root, "config.json")])).files[0];
  assert.equal(r?.format, "model-config");
  assert.equal(r?.skipped, undefined);
  assert.deepEqual(r?.findings, []);
});

test("a broken loader config given alone is reported as not analysed", async () => {
  const root = await folder("broken-alone", { "modules.json": "[{ not json" });
  assert.deepEqual(loud((await scanPaths([join(root, "modules.json")])).files[0]), ["MG278:high"]);
});

test("a symlink given by name is still scanned through the engine (the repository checks skip it)", async () => {
  const root = await folder("linked", { "real.json": json({ chat_template: SSTI }) });
  await symlink(join(root, "real.json"), join(root, "tokenizer_config.json"));
  assert.deepEqual(loud((await scanPaths([join(root, "tokenizer_config.json")])).files[0]), ["MG220:critical"]);
});

// ── ONNX external data through a symlink (O1) ───────────────────────────────

/** An ONNX model whose one initializer keeps its data in `location`. */
function onnxWithExternalData(location: string): Buffer {
  const entry = [...pb.len(1, "location"), ...pb.len(2, location)];
  const tensor = [...pb.len(8, "w"), ...pb.len(13, entry), ...pb.num(14, 1)];
  const graph = [...pb.len(2, "main"), ...pb.len(5, tensor)];
  return Buffer.from([...pb.num(1, 8), ...pb.len(7, graph)]);
}

test("ONNX external data reached through a symlink that leaves the model folder is high (O1)", async () => {
  const outside = await folder("onnx-outside", { "secret.txt": "credentials\n" });
  const root = await folder("onnx-linked", { "model.onnx": onnxWithExternalData("weights.bin") });
  await symlink(join(outside, "secret.txt"), join(root, "weights.bin"));
  const alone = (await scanPaths([join(root, "model.onnx")])).files[0];
  assert.equal(alone?.format, "onnx");
  assert.deepEqual(loud(alone), ["MG230:high"]);
  assert.match(alone!.findings[0]!.message, /symbolic link/);
});

test("ONNX external data under a symlinked folder that leaves the model folder is high", async () => {
  const outside = await folder("onnx-outside-dir", { "w.bin": "x" });
  const root = await folder("onnx-linked-dir", { "model.onnx": onnxWithExternalData("data/w.bin") });
  await symlink(outside, join(root, "data"));
  assert.deepEqual(loud((await scanPaths([join(root, "model.onnx")])).files[0]), ["MG230:high"]);
});

test("benign twin: ONNX external data in a real file, or a link that stays in the folder, passes", async () => {
  const root = await folder("onnx-plain", { "model.onnx": onnxWithExternalData("weights.bin"), "weights.bin": "x", "shards/real.bin": "y" });
  assert.deepEqual((await scanPaths([join(root, "model.onnx")])).files[0]?.findings, []);
  const linked = await folder("onnx-inner-link", { "model.onnx": onnxWithExternalData("w.bin"), "shards/real.bin": "y" });
  await symlink(join(linked, "shards", "real.bin"), join(linked, "w.bin"));
  assert.deepEqual((await scanPaths([join(linked, "model.onnx")])).files[0]?.findings, []);
});

test("benign twin: in a Hugging Face cache snapshot, links into the repository's blobs are the cache's layout", async () => {
  const repo = await folder("hub/models--org--m", { "blobs/abc123": "x" });
  const snapshot = join(repo, "snapshots", "0123456789abcdef0123456789abcdef01234567");
  await mkdir(snapshot, { recursive: true });
  await writeFile(join(snapshot, "model.onnx"), onnxWithExternalData("model.onnx.data"));
  await symlink(join("..", "..", "blobs", "abc123"), join(snapshot, "model.onnx.data"));
  assert.deepEqual((await scanPaths([join(snapshot, "model.onnx")])).files[0]?.findings, []);
});

test("a JSON over the parse bound that holds a chat_template is reported as not checked; a big vocabulary is not", async () => {
  const filler = `"${"a".repeat(9 * 1024 * 1024)}"`;
  const root = await folder("big-json", {
    "settings.json": `{"padding": ${filler}, "chat_template": ${JSON.stringify(SSTI)}}`,
    "tokenizer.json": `{"model": {"vocab": {"hello": 1, "module": 2}}, "padding": ${filler}}`,
  });
  const files = byFile(await scanPaths([root]), root);
  assert.deepEqual(files["settings.json"], ["MG278:high"]);
  assert.deepEqual(files["tokenizer.json"], []);
});

test("a CrossEncoder activation function outside torch.nn is imported and called at load: high; torch.nn's pass", async () => {
  const evil = await folder("ce-evil", { "config.json": json({ architectures: ["BertForSequenceClassification"], sbert_ce_default_activation_function: "builtins.breakpoint" }) });
  assert.deepEqual(loud((await scanPaths([join(evil, "config.json")])).files[0]), ["MG281:high"]);
  const v4 = await folder("ce-evil-v4", { "config.json": json({ sentence_transformers: { activation_fn: "os.getcwd", version: "4.0.1" } }) });
  assert.deepEqual(loud((await scanPaths([join(v4, "config.json")])).files[0]), ["MG281:high"]);
  const benign = await folder("ce-benign", { "config.json": json({ sbert_ce_default_activation_function: "torch.nn.modules.linear.Identity", sentence_transformers: { activation_fn: "torch.nn.modules.activation.Sigmoid" } }) });
  assert.deepEqual((await scanPaths([join(benign, "config.json")])).files[0]?.findings, []);
});

test("PEFT adapter_config.json auto_mapping importing a module outside transformers is high; PEFT's own record passes", async () => {
  const evil = await folder("peft-evil", { "adapter_config.json": json({ peft_type: "LORA", task_type: null, auto_mapping: { base_model_class: "Popen", parent_library: "subprocess" } }) });
  assert.deepEqual(loud((await scanPaths([join(evil, "adapter_config.json")])).files[0]), ["MG283:high"]);
  const remote = await folder("peft-remote", { "adapter_config.json": json({ auto_mapping: { base_model_class: "XModel", parent_library: "transformers_modules.org.modeling_x" } }) });
  assert.deepEqual(loud((await scanPaths([join(remote, "adapter_config.json")])).files[0]), ["MG283:high"]);
  const benign = await folder("peft-benign", { "adapter_config.json": json({ peft_type: "LORA", auto_mapping: { base_model_class: "BertModel", parent_library: "transformers.models.bert.modeling_bert" } }) });
  assert.deepEqual((await scanPaths([join(benign, "adapter_config.json")])).files[0]?.findings, []);
});

const PEFT = join(import.meta.dirname, "..", "..", "test", "fixtures", "peft");

/** A copy of the PEFT fixture folder `name` (scripts/make_peft_fixtures.py) under the test's folder, as `as`. */
async function peftFolder(name: string, as: string = name): Promise<string> {
  const root = join(dir, "peft", as);
  await cp(join(PEFT, name), root, { recursive: true });
  return root;
}

/** "rule:severity" per file of a folder scanned by the repository checks alone (every config's own checks included). */
async function repositoryChecks(root: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  await scanRepository(root, (rule, _message, path, extra) => (out[path] ??= []).push(`${rule}:${extra?.severity ?? RULES[rule].severity}`));
  return out;
}

test("PEFT megatron_core: a LoRA adapter with megatron_config set makes PEFT import it; the repository's megatron/ code it names is high", async () => {
  // PeftModel.save_pretrained's own folder (scripts/make_peft_fixtures.py), with megatron_config and
  // megatron_core "megatron.core_compat" added, and megatron/core_compat.py shipped beside it.
  const evil = await peftFolder("lora_megatron_repo");
  const expected = {
    "adapter_config.json": ["MG283:high"],
    "adapter_model.safetensors": [],
    "README.md": [],
    "megatron/__init__.py": ["MG271:high"],
    "megatron/core_compat.py": ["MG271:high"],
  };
  const report = await scanPaths([evil]);
  assert.equal(report.verdict, "block");
  assert.deepEqual(byFile(report, evil), expected);
  assert.match(report.files.find((f) => f.path.endsWith("adapter_config.json"))!.findings[0]!.message, /megatron_core "megatron\.core_compat" with megatron_config set: PEFT imports/);
  assert.match(report.files.find((f) => f.path.endsWith("core_compat.py"))!.findings[0]!.message, /PEFT imports it as megatron_core/);
  // The repository checks alone (a config's own checks done there too) see the same.
  assert.deepEqual(await repositoryChecks(evil), { "adapter_config.json": ["MG283:high"], "megatron/__init__.py": ["MG271:high"], "megatron/core_compat.py": ["MG271:high"] });
  // A module the folder does not ship is imported from wherever Python finds it: still not Megatron's.
  assert.deepEqual(loud((await scanPaths([join(await peftFolder("lora_megatron_installed"), "adapter_config.json")])).files[0]), ["MG283:high"]);
  // A config given alone says the same.
  assert.deepEqual(loud((await scanPaths([join(evil, "adapter_config.json")])).files[0]), ["MG283:high"]);
  // Written by hand with megatron_config and megatron_core alone (PEFT fills in the rest): the folder walk still reads it for the code it names.
  await writeFile(join(evil, "adapter_config.json"), json({ peft_type: "LORA", r: 2, target_modules: ["c_attn"], megatron_config: { tensor_model_parallel_size: 1 }, megatron_core: "megatron.core_compat" }));
  assert.deepEqual(byFile(await scanPaths([evil]), evil), expected);
});

test("PEFT megatron_core: Megatron's own megatron.core passes unless the folder ships it; without megatron_config nothing is imported", async () => {
  for (const name of ["lora", "lora_auto_mapping", "lora_megatron_default"]) {
    const report = await scanPaths([await peftFolder(name)]);
    assert.equal(report.verdict, "pass", name);
    assert.deepEqual(
      report.files.flatMap((f) => f.findings),
      [],
      name,
    );
  }
  // megatron.core from the folder is the folder's code all the same.
  const shipped = await peftFolder("lora_megatron_default", "megatron-core-shipped");
  await mkdir(join(shipped, "megatron", "core"), { recursive: true });
  await writeFile(join(shipped, "megatron", "core", "__init__.py"), "print('modelgate-fixture')\n");
  await writeFile(join(shipped, "megatron", "tools.py"), "print('modelgate-fixture')\n");
  assert.deepEqual(byFile(await scanPaths([shipped]), shipped), {
    "adapter_config.json": [],
    "adapter_model.safetensors": [],
    "README.md": [],
    "megatron/core/__init__.py": ["MG271:high"],
    "megatron/tools.py": ["MG271:low"],
  });
  // PEFT's default config ("megatron_config": null) never imports megatron_core, whatever it names: core_compat.py
  // stays low. The megatron package itself is one accelerate and transformers probe for by name (high).
  const off = await peftFolder("lora_megatron_repo", "megatron-off");
  const config = JSON.parse(await readFile(join(off, "adapter_config.json"), "utf8")) as Record<string, unknown>;
  for (const [megatronConfig, core] of [[null, "megatron.core_compat"], [{}, "megatron.core_compat"], [{ tensor_model_parallel_size: 1 }, null]] as const) {
    await writeFile(join(off, "adapter_config.json"), json({ ...config, megatron_config: megatronConfig, megatron_core: core }));
    assert.deepEqual(byFile(await scanPaths([off]), off), {
      "adapter_config.json": [],
      "adapter_model.safetensors": [],
      "README.md": [],
      "megatron/__init__.py": ["MG271:high"],
      "megatron/core_compat.py": ["MG271:low"],
    }, JSON.stringify([megatronConfig, core]));
  }
});

test("PEFT auto_mapping: the parent_library AutoPeftModel imports is the folder's code when the folder ships it", async () => {
  const root = await peftFolder("lora_auto_mapping", "auto-mapping-shipped");
  const config = JSON.parse(await readFile(join(root, "adapter_config.json"), "utf8")) as Record<string, unknown>;
  assert.deepEqual(config["auto_mapping"], { base_model_class: "GPT2LMHeadModel", parent_library: "transformers.models.gpt2.modeling_gpt2" });
  // diffusers passes PEFT's import allowlist, and a diffusers/ package in the folder is what Python imports.
  await writeFile(join(root, "adapter_config.json"), json({ ...config, auto_mapping: { base_model_class: "UNet2DConditionModel", parent_library: "diffusers.models.unets.unet_2d_condition" } }));
  await mkdir(join(root, "diffusers"));
  await writeFile(join(root, "diffusers", "__init__.py"), "print('modelgate-fixture')\n");
  assert.deepEqual(byFile(await scanPaths([root]), root), {
    "adapter_config.json": [],
    "adapter_model.safetensors": [],
    "README.md": [],
    "diffusers/__init__.py": ["MG271:high"],
  });
});

/** Calls of JSON.parse on a text of `length` characters while `run` runs. */
async function parsesOf(length: number, run: () => Promise<unknown>): Promise<number> {
  const parse = JSON.parse;
  let calls = 0;
  JSON.parse = (text: string, reviver?: Parameters<typeof JSON.parse>[1]): unknown => {
    if (text.length === length) calls++;
    return parse(text, reviver);
  };
  try {
    await run();
  } finally {
    JSON.parse = parse;
  }
  return calls;
}

/** `{"profiles": [{}, {}, …]}` holding `containers` objects and lists in all. */
const manyObjects = (containers: number): string => `{"profiles": [${Array(containers - 2).fill("{}").join(",")}]}`;

test("a JSON config holding more objects and lists than the bound is not parsed, and blocks when loaders act on it (8 MB of {} is millions of objects)", async () => {
  const over = manyObjects(1_000_001);
  const withTemplate = `{"chat_template": "{{ messages }}", ${over.slice(1)}`;
  const root = await folder("many_objects", {
    "config.json": over,
    "settings.json": withTemplate,
    "train.json": over, // a dataset in JSON Lines, or any large data: not a config
    "exact.json": manyObjects(1_000_000),
  });
  let report!: ScanReport;
  assert.equal(await parsesOf(over.length, async () => (report = await scanPaths([root], { threads: 0 }))), 0);
  assert.equal(await parsesOf(withTemplate.length, async () => (report = await scanPaths([root], { threads: 0 }))), 0);
  const byName = new Map(report.files.map((f) => [f.path.split(/[\\/]/).pop(), f.findings.map((x) => `${x.rule}:${x.severity} ${x.message}`)]));
  assert.deepEqual(byName.get("config.json"), ["MG278:high config.json holds more than 1000000 objects and lists; it was not parsed or checked"]);
  assert.deepEqual(byName.get("settings.json"), ['MG278:high settings.json holds more than 1000000 objects and lists, holds "chat_template"; it was not parsed or checked']);
  assert.deepEqual(byName.get("train.json"), []);
  // At the bound, it is parsed and walked whole.
  assert.deepEqual(byName.get("exact.json"), []);
});

test("the config walk visits the last of a long list first and stops after the bound, naming paths from the root", () => {
  const visited: string[] = [];
  const config = { a: { b: [{ x: 1 }, { chat_template: "t", nested: { chat_template: "u" } }] }, list: [{ n: 0 }, { n: 1 }, { n: 2 }] };
  assert.ok(walkConfig(config, 100, (node, key) => (visited.push(`${stepsTo(node).join("/")}:${key}`), key !== "nested")));
  // Last child first (what the walks always did), every key of every object shown once; "nested" not descended.
  assert.deepEqual(visited, ["a", "list", "list/2:n", "list/1:n", "list/0:n", "a:b", "a/b/1:chat_template", "a/b/1:nested", "a/b/0:x"].map((v) => (v.includes(":") ? v : `:${v}`)));
  const counted: number[] = [];
  assert.equal(walkConfig({ list: [{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }] }, 3, (_node, key, value) => (key === "n" && counted.push(value as number), true)), false);
  assert.deepEqual(counted, [3], "three containers visited: the root, the list and its last item");
});

test("a chat_template nested in lists and objects is found under its path; one inside a template's own value is read as a template, not walked", async () => {
  const root = await folder("paths", {
    "serving.json": json({ a: { b: [{ x: 1 }, { chat_template: SSTI }] } }),
    "named.json": json({ chat_template: { default: BENIGN_TEMPLATE, tool: { chat_template: SSTI } } }),
  });
  const report = await scanPaths([root]);
  const messages = (name: string): string[] => report.files.find((f) => f.path.endsWith(name))!.findings.map((x) => `${x.rule} ${x.message}`);
  assert.ok(messages("serving.json").some((m) => m.startsWith("MG220 serving.json a.b[1] chat_template: ")), messages("serving.json").join("\n"));
  assert.deepEqual(messages("named.json"), ["MG278 named.json chat_template[tool] is an object, not a template; it was not checked"]);
});
