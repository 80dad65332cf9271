/**
 * Keras (HDF5 and .keras v3) and repository-level checks, called directly on the committed
 * fixtures (scripts/make_keras_repo_fixtures.py) and on hostile inputs built here.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { checkKerasConfigText, isKerasArchive, scanKerasArchive, scanKerasH5, scanTorchModuleBlobs, sniffHdf5, walkKerasConfig } from "../src/formats/keras.js";
import { layerParameters } from "../src/formats/kerasLayers.js";
import { hdf5Service, readHdf5, remoteHdf5Reader } from "../src/formats/hdf5Client.js";
import { collectTargets } from "../src/targets.js";
import { openZip } from "../src/formats/zip.js";
import { checkHydraTargets, executableKind, isLfsPointer, scanModelConfig, scanRepository, type FindingSink } from "../src/repo/checks.js";
import { ruleInfo, type RuleId } from "../src/rules/catalogue.js";
import { BufferSource } from "../src/sources/byteSource.js";
import { atLeast, type Severity } from "../src/types.js";
import { RecordingContext } from "./support/context.js";
import { plainZip } from "./support/zip.js";

const FIXTURES = join(import.meta.dirname, "..", "..", "test", "fixtures");

interface Seen {
  rule: RuleId;
  severity: Severity;
  message: string;
  path?: string;
}

function severityOf(rule: RuleId, override?: Severity): Severity {
  return override ?? ruleInfo(rule).severity;
}

async function scanH5File(rel: string): Promise<Seen[]> {
  const ctx = new RecordingContext();
  await scanKerasH5(new BufferSource(rel, readFileSync(join(FIXTURES, rel))), ctx);
  return ctx.reports.map((r) => ({ rule: r.rule, severity: severityOf(r.rule, r.extra.severity), message: r.message }));
}

async function scanKerasZip(rel: string): Promise<{ seen: Seen[]; members: string[] }> {
  const ctx = new RecordingContext();
  const archive = await openZip(new BufferSource(rel, readFileSync(join(FIXTURES, rel))));
  assert.ok(isKerasArchive(archive.entries.map((e) => e.name)));
  await scanKerasArchive(archive, ctx);
  return { seen: ctx.reports.map((r) => ({ rule: r.rule, severity: severityOf(r.rule, r.extra.severity), message: r.message })), members: ctx.members.map((m) => m.name) };
}

async function scanRepo(name: string): Promise<Seen[]> {
  const seen: Seen[] = [];
  await scanRepository(join(FIXTURES, "repos", name), (rule, message, path, extra) => seen.push({ rule, severity: severityOf(rule, extra?.severity), message, path }));
  return seen;
}

const loud = (seen: readonly Seen[]) => seen.filter((s) => atLeast(s.severity, "medium"));
const rules = (seen: readonly Seen[]) => seen.map((s) => s.rule);

function sink(): FindingSink & { seen: Seen[] } {
  const seen: Seen[] = [];
  return { seen, report: (rule, message, extra) => seen.push({ rule, severity: severityOf(rule, extra?.severity), message }) };
}

// ── Keras HDF5 ──────────────────────────────────────────────────────────────

test("sniffHdf5 finds the signature at 0 and after a 512-byte user block, not elsewhere", () => {
  const sig = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
  const at0 = new Uint8Array(4096);
  at0.set(sig, 0);
  const at512 = new Uint8Array(4096);
  at512.set(sig, 512);
  const at100 = new Uint8Array(4096);
  at100.set(sig, 100);
  assert.ok(sniffHdf5(at0, 4096));
  assert.ok(sniffHdf5(at512, 4096));
  assert.ok(!sniffHdf5(at100, 4096));
  assert.ok(sniffHdf5(readFileSync(join(FIXTURES, "keras-repo/benign/keras215_dense.h5")), 1 << 20));
});

for (const file of ["benign/keras215_dense.h5", "benign/keras24_conv2d.h5"]) {
  test(`benign Keras HDF5 ${file} has no finding`, async () => {
    assert.deepEqual(await scanH5File(`keras-repo/${file}`), []);
  });
}

test("Keras H5 Lambda layer is critical (K1, CVE-2024-3660)", async () => {
  const seen = await scanH5File("keras-repo/malicious/keras2_lambda.h5");
  const lambda = seen.find((s) => s.rule === "MG260");
  assert.ok(lambda && lambda.severity === "critical", JSON.stringify(seen));
});

test("Keras H5 layer from subprocess is critical; a foreign module is high", async () => {
  const popen = await scanH5File("keras-repo/malicious/keras215_subprocess_popen.h5");
  assert.ok(popen.some((s) => s.rule === "MG263" && s.message.includes("subprocess")), JSON.stringify(popen));
  const foreign = await scanH5File("keras-repo/malicious/keras215_foreign_module.h5");
  assert.ok(foreign.some((s) => s.rule === "MG261" && s.severity === "high" && s.message.includes("acme_layers")), JSON.stringify(foreign));
});

test("Keras H5 training_config is walked too (loss = os.system)", async () => {
  const seen = await scanH5File("keras-repo/malicious/keras215_training_os_system.h5");
  assert.ok(seen.some((s) => s.rule === "MG263" && s.message.includes("os.system")), JSON.stringify(seen));
});

test("a truncated or garbage HDF5 file is reported as not analysed, never a crash", async () => {
  const good = readFileSync(join(FIXTURES, "keras-repo/malicious/keras2_lambda.h5"));
  for (const bytes of [good.subarray(0, 600), Buffer.concat([good.subarray(0, 8), Buffer.alloc(4000, 0x41)])]) {
    const ctx = new RecordingContext();
    await scanKerasH5(new BufferSource("broken.h5", bytes), ctx);
    assert.ok(ctx.rules().includes("MG265"), JSON.stringify(ctx.reports));
  }
});

test("an HDF5 read through another thread's reader answers as a read here does, and fails closed once that reader is gone", async () => {
  const file = (): Uint8Array<ArrayBuffer> => new Uint8Array(readFileSync(join(FIXTURES, "keras-repo/malicious/keras2_lambda.h5")));
  const here = await readHdf5(file());
  assert.ok("attributes" in here && here.attributes.get("model_config")?.includes("Lambda"), JSON.stringify(here));
  const service = hdf5Service();
  const remote = remoteHdf5Reader(service);
  assert.deepEqual(await remote(file()), here);
  // The port closes: a read in flight and later ones fail rather than hang or pass.
  const inFlight = remote(file());
  service.close();
  for (const read of [await inFlight, await remote(file())]) assert.ok("failure" in read && !read.overTime, JSON.stringify(read));
});

test("the HDF5 reader's thread ends once no read is queued, and the next read starts another", async () => {
  const file = (): Uint8Array<ArrayBuffer> => new Uint8Array(readFileSync(join(FIXTURES, "keras-repo/malicious/keras2_lambda.h5")));
  // The process's threads (Linux): the reader is a worker thread of its own.
  const threads = (): number => readdirSync("/proc/self/task").length;
  const first = await readHdf5(file());
  assert.ok("attributes" in first, JSON.stringify(first));
  const withReader = threads();
  // A watchdog only: the reader goes after half a second idle, later on a busy machine.
  for (const started = Date.now(); threads() >= withReader && Date.now() - started < 30_000; ) await new Promise((r) => setTimeout(r, 50));
  assert.ok(threads() < withReader, `the reader's thread is still there (${threads()} threads)`);
  assert.deepEqual(await readHdf5(file()), first);
});

test("a folder holding HDF5 content is known before its scan, and a reader started ahead ends on its own if nothing reads", async () => {
  const h5 = readFileSync(join(FIXTURES, "keras-repo/malicious/keras2_lambda.h5"));
  const dir = mkdtempSync(join(tmpdir(), "modelgate-h5ahead-"));
  try {
    // By content: an HDF5 file named weights.bin counts, a text file named model.h5 does not.
    writeFileSync(join(dir, "model.h5"), "not hdf5");
    assert.equal((await collectTargets([dir])).hdf5Ahead, false);
    writeFileSync(join(dir, "weights.bin"), h5);
    assert.equal((await collectTargets([dir])).hdf5Ahead, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // In a process of its own, so no reader an earlier test started is about.
  const client = new URL("../src/formats/hdf5Client.js", import.meta.url).href;
  const script = `
    import { readFileSync, readdirSync } from "node:fs";
    import { readHdf5, warmHdf5Reader } from ${JSON.stringify(client)};
    const threads = () => readdirSync("/proc/self/task").length;
    const pause = (ms) => new Promise((r) => setTimeout(r, ms));
    await pause(200);
    const idle = threads();
    warmHdf5Reader();
    let started = false;
    for (const t = Date.now(); !started && Date.now() - t < 30000; await pause(20)) started = threads() > idle;
    // A watchdog only: unused, it goes two seconds after it is ready, later on a busy machine.
    let ended = false;
    for (const t = Date.now(); !ended && Date.now() - t < 60000; await pause(50)) ended = threads() === idle;
    const read = await readHdf5(new Uint8Array(readFileSync(${JSON.stringify(join(FIXTURES, "keras-repo/malicious/keras2_lambda.h5"))})));
    console.log(JSON.stringify({ started, ended, lambda: "attributes" in read && read.attributes.get("model_config").includes("Lambda") }));
  `;
  // A file, not --eval: the reader's worker inherits the process's flags, and --input-type fails it.
  const scriptDir = mkdtempSync(join(tmpdir(), "modelgate-h5warm-"));
  writeFileSync(join(scriptDir, "warm.mjs"), script);
  const run = spawnSync(process.execPath, [join(scriptDir, "warm.mjs")], { encoding: "utf8", timeout: 120_000 });
  rmSync(scriptDir, { recursive: true, force: true });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { started: true, ended: true, lambda: true }, "started with no read asked for, ended unused, and a read after it works");
});

test("a trust signal in the config (keras_version, famous name) does not lower a Lambda (X2)", () => {
  const ctx = new RecordingContext();
  walkKerasConfig({ keras_version: "3.9.0", name: "google/official-model", class_name: "Lambda", config: { function: ["AAAA", null, null] } }, ctx, "model_config");
  assert.deepEqual(ctx.rules(), ["MG260"]);
  assert.equal(ctx.reports[0]!.extra.severity, undefined);
});

test("config walk: attribute walks and prototype keys are judged, deep nesting is bounded", () => {
  const ctx = new RecordingContext();
  walkKerasConfig({ module: "numpy", class_name: "function", config: "__builtins__.eval" }, ctx, "config.json");
  walkKerasConfig({ module: "keras", class_name: "constructor", registered_name: "toString" }, ctx, "config.json");
  let deep: unknown = { module: "builtins", class_name: "function", config: "exec" };
  for (let i = 0; i < 100_000; i++) deep = [deep];
  walkKerasConfig(deep, ctx, "config.json");
  assert.deepEqual(ctx.rules(), ["MG263", "MG263"]);
});

// ── .keras v3 ───────────────────────────────────────────────────────────────

test("benign .keras zip: no finding, and the weights member is scanned by content", async () => {
  const { seen, members } = await scanKerasZip("keras-repo/benign/keras3_dense.keras");
  assert.deepEqual(seen, []);
  assert.ok(members.includes("model.weights.h5"));
  assert.ok(!members.includes("config.json"));
});

for (const [file, rule, mention] of [
  ["keras3_function_os_system.keras", "MG263", "os.system"],
  ["keras3_get_file.keras", "MG263", "get_file"],
  ["keras3_lambda.keras", "MG260", "Lambda"],
] as const) {
  test(`malicious .keras ${file}: ${rule} mentioning ${mention} (K2)`, async () => {
    const { seen } = await scanKerasZip(`keras-repo/malicious/${file}`);
    assert.ok(seen.some((s) => s.rule === rule && s.severity === "critical" && s.message.includes(mention)), JSON.stringify(seen));
  });
}

/** The config.json and weights of the real Lambda model (keras3_lambda.keras). */
async function lambdaModelParts(): Promise<{ config: unknown; weights: Uint8Array }> {
  const bytes = readFileSync(join(FIXTURES, "keras-repo/malicious/keras3_lambda.keras"));
  const archive = await openZip(new BufferSource("lambda", bytes));
  assert.ok(archive.entries.every((e) => e.method === 0), "the fixture's members are stored");
  const member = async (name: string) => {
    const entry = archive.entries.find((e) => e.name === name)!;
    const { dataStart } = await archive.localHeader(entry);
    return bytes.subarray(dataStart, dataStart + entry.compressedSize);
  };
  return { config: JSON.parse(Buffer.from(await member("config.json")).toString("utf8")), weights: await member("model.weights.h5") };
}

/** load_model builds `[model]` and `{"x": model}` item by item (the Lambda runs) before it fails: rt23's K2 bypass. */
const WRAPPED_MODELS: readonly [string, (model: unknown) => unknown][] = [
  ["a top-level list", (model) => [model]],
  ["a wrapping dict", (model) => ({ x: model })],
];

for (const [shape, wrap] of WRAPPED_MODELS) {
  test(`a .keras zip without metadata.json whose config.json holds the model in ${shape}: the Lambda is MG260`, async () => {
    const { config, weights } = await lambdaModelParts();
    const zip = plainZip([
      { name: "config.json", data: Buffer.from(JSON.stringify(wrap(config))) },
      { name: "model.weights.h5", data: weights },
    ]);
    const archive = await openZip(new BufferSource("model.keras", zip));
    assert.ok(isKerasArchive(archive.entries.map((e) => e.name)));
    const ctx = new RecordingContext();
    await scanKerasArchive(archive, ctx);
    assert.ok(ctx.rules().includes("MG260"), JSON.stringify(ctx.reports));
  });

  test(`a model folder's config.json holding the model in ${shape}: the Lambda is MG260, as load_model(folder) builds it`, async () => {
    const text = Buffer.from(JSON.stringify(wrap((await lambdaModelParts()).config)));
    const ctx = new RecordingContext([], undefined, 0, "config.json", "config.json");
    await scanModelConfig(new BufferSource("config.json", text), ctx);
    assert.ok(ctx.rules().includes("MG260"), JSON.stringify(ctx.reports));
    // Another name holds a model only as {class_name, config} (model_from_json): a list there is not walked.
    const other = new RecordingContext([], undefined, 0, "layers.json", "layers.json");
    await scanModelConfig(new BufferSource("layers.json", text), other);
    assert.deepEqual(other.rules(), []);
  });
}

test("a Keras config kept as JSON text in a string (an Orbax checkpoint's model_config/_strings.json) is walked: the Lambda is MG260 (red team round 26)", async () => {
  const text = Buffer.from(JSON.stringify({ config: JSON.stringify((await lambdaModelParts()).config) }));
  const ctx = new RecordingContext([], undefined, 0, "_strings.json", "_strings.json");
  await scanModelConfig(new BufferSource("_strings.json", text), ctx);
  assert.ok(ctx.rules().includes("MG260"), JSON.stringify(ctx.reports));
  // Text that only mentions class_name is no config.
  const quiet = new RecordingContext([], undefined, 0, "notes.json", "notes.json");
  await scanModelConfig(new BufferSource("notes.json", Buffer.from(JSON.stringify({ note: '{"class_name": is a Keras key' }))), quiet);
  assert.deepEqual(quiet.rules(), []);
});

test("a .keras whose layers are sized far past the weights it ships is MG268: load_model allocates them first (red team round 24: Dense(12000), 3.4 GB from 15 KB)", async () => {
  const bytes = readFileSync(join(FIXTURES, "keras-repo/benign/keras3_dense.keras"));
  const archive = await openZip(new BufferSource("dense.keras", bytes));
  const member = async (name: string): Promise<Buffer> => {
    const entry = archive.entries.find((e) => e.name === name)!;
    const { dataStart } = await archive.localHeader(entry);
    return bytes.subarray(dataStart, dataStart + entry.compressedSize);
  };
  assert.ok(archive.entries.every((e) => e.method === 0), "the fixture's members are stored");
  const config = JSON.parse((await member("config.json")).toString("utf8")) as { config: { layers: Record<string, unknown>[] } };
  const dense = config.config.layers.find((l) => l["class_name"] === "Dense")!;
  (dense["config"] as Record<string, unknown>)["units"] = 12000;
  dense["build_config"] = { input_shape: [null, 12000] };
  const zip = plainZip([
    { name: "metadata.json", data: await member("metadata.json") },
    { name: "config.json", data: Buffer.from(JSON.stringify(config)) },
    { name: "model.weights.h5", data: await member("model.weights.h5") },
  ]);
  const ctx = new RecordingContext();
  await scanKerasArchive(await openZip(new BufferSource("big.keras", zip)), ctx);
  assert.ok(ctx.reports.some((r) => r.rule === "MG268" && /Dense ".*" with 144000000 weights/.test(r.message)), JSON.stringify(ctx.reports));
  // The model as Keras saved it passes, and so do layers that fit their weights.
  assert.equal(layerParameters({ class_name: "Embedding", config: { input_dim: 50000, output_dim: 512 } }).parameters, 25_600_000);
});

test("a Keras HDF5 file whose model_config builds layers far past the file's size is MG268: the legacy loader builds them before reading weights", async () => {
  const { default: h5wasm } = await import("h5wasm");
  const module = await h5wasm.ready;
  module.FS.writeFile("/mlp.h5", readFileSync(join(FIXTURES, "zoo/keras3/sequential_mlp.h5")));
  const file = new h5wasm.File("/mlp.h5", "a");
  const config = JSON.parse(String(file.attrs["model_config"]!.value)) as { config: { layers: Record<string, Record<string, unknown>>[] } };
  // Two Dense layers of 12000 on 12000 inputs, their widths stated nowhere but by the InputLayer.
  const [input, dense] = config.config.layers;
  input!["config"]!["batch_shape"] = [null, 12000];
  dense!["config"]!["units"] = 12000;
  delete dense!["build_config"];
  config.config.layers.splice(2, 0, structuredClone(dense!));
  config.config.layers[2]!["config"]!["name"] = "dense_twin";
  file.delete_attribute("model_config");
  file.create_attribute("model_config", JSON.stringify(config));
  file.close();
  const bytes = module.FS.readFile("/mlp.h5");
  const ctx = new RecordingContext();
  await scanKerasH5(new BufferSource("big.h5", Buffer.from(bytes)), ctx);
  const found = ctx.reports.find((r) => r.rule === "MG268");
  assert.ok(found, JSON.stringify(ctx.reports));
  assert.match(found.message, /^model_config builds layers of \d+ weights .* while the file ships \d+ bytes of weights at most/);
  const clean = new RecordingContext();
  await scanKerasH5(new BufferSource("mlp.h5", readFileSync(join(FIXTURES, "zoo/keras3/sequential_mlp.h5"))), clean);
  assert.deepEqual(clean.reports, []);
});

test("layer widths are carried through the model as Keras builds it, whatever build_config says (or leaves out)", () => {
  const layer = (class_name: string, config: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ class_name, config, ...extra });
  const sequential = (...layers: Record<string, unknown>[]): unknown => ({ class_name: "Sequential", config: { layers } });
  const params = (config: unknown): number => layerParameters(config).parameters;
  const input = (...shape: (number | null)[]): Record<string, unknown> => layer("InputLayer", { batch_shape: [null, ...shape] });
  // Dense after Dense: the second is built on the first one's 12000 outputs.
  assert.equal(params(sequential(input(12000), layer("Dense", { units: 12000 }), layer("Dense", { units: 12000 }))), 2 * 144_000_000);
  // A build_config that understates the input counts at the width Keras builds it with.
  assert.equal(params(sequential(input(12000), layer("Dense", { units: 10 }, { build_config: { input_shape: [null, 1] } }))), 120_000);
  // A convolution's output flattened: 200x200 'same' with 64 filters, 2,560,000 inputs to Dense(100).
  assert.equal(params(sequential(input(200, 200, 3), layer("Conv2D", { filters: 64, kernel_size: [3, 3], padding: "same" }), layer("Flatten", {}), layer("Dense", { units: 100 }))), 64 * 9 * 3 + 256_000_000);
  // Strides, pooling and 'valid' padding shrink it as Keras does.
  assert.equal(
    params(sequential(input(28, 28, 1), layer("Conv2D", { filters: 4, kernel_size: [3, 3], strides: [2, 2], padding: "valid" }), layer("MaxPooling2D", { pool_size: [2, 2] }), layer("Flatten", {}), layer("Dense", { units: 10 }))),
    36 + 6 * 6 * 4 * 10,
  );
  // Keras 2 functional models name their inputs; a merge sums what it concatenates.
  const functional = {
    class_name: "Functional",
    config: {
      layers: [
        layer("InputLayer", { name: "in", batch_input_shape: [null, 3000] }),
        layer("Dense", { name: "a", units: 4000 }, { inbound_nodes: [[["in", 0, 0, {}]]] }),
        layer("Dense", { name: "b", units: 5000 }, { inbound_nodes: [[["in", 0, 0, {}]]] }),
        layer("Concatenate", { name: "c" }, { inbound_nodes: [[["a", 0, 0, {}], ["b", 0, 0, {}]]] }),
        layer("Dense", { name: "d", units: 1000 }, { inbound_nodes: [[["c", 0, 0, {}]]] }),
      ],
    },
  };
  assert.equal(params(functional), 3000 * 4000 + 3000 * 5000 + 9000 * 1000);
  // A layer the walk does not know passes no width on: what follows counts at the config's widest.
  assert.equal(params(sequential(input(12000), layer("MyLayer", {}), layer("Dense", { units: 10 }))), 120_000);
  // Layers that keep weights per input feature or project to every output position (red team round 37).
  assert.equal(params(sequential(input(400_000_000), layer("BatchNormalization", {}))), 1_600_000_000);
  assert.equal(params(sequential(input(40000), layer("EinsumDense", { equation: "ab,bc->ac", output_shape: [40000] }))), 1_600_000_000);
  assert.equal(params(sequential(input(null, 512), layer("MultiHeadAttention", { num_heads: 8, key_dim: 64 }))), 4 * 512 * 8 * 64);
  // PReLU keeps an alpha per input position; a depthwise kernel is per channel and multiplier (red team round 38).
  assert.equal(params(sequential(input(20000, 20000), layer("PReLU", {}))), 400_000_000);
  assert.equal(params(sequential(input(8, 8, 1000), layer("DepthwiseConv2D", { kernel_size: [3, 3], depth_multiplier: 100 }))), 9 * 1000 * 100);
  // Wrapped layers are built on the wrapper's input.
  assert.equal(params(sequential(input(null, 500), layer("Bidirectional", { layer: layer("LSTM", { units: 100 }) }))), 4 * 100 * (500 + 100));
});

test("a zip with config.json and nothing Keras reads beside it is not a .keras archive", () => {
  assert.equal(isKerasArchive(["config.json", "tokenizer.json"]), false);
  for (const companion of ["metadata.json", "model.weights.h5", "model.weights.npz"]) assert.ok(isKerasArchive(["config.json", companion]), companion);
});

/** A Keras 3 config whose Dense layer's activation is the function reference `fn` (called with the layer's inputs). */
function activationConfig(fn: Record<string, unknown>): string {
  return JSON.stringify({ module: "keras", class_name: "Sequential", config: { layers: [{ module: "keras.layers", class_name: "Dense", config: { units: 1, activation: fn } }] } });
}

test("Keras's own activations, losses and metrics saved as functions (module builtins) are not imports", () => {
  for (const name of ["relu", "sigmoid", "binary_crossentropy", "binary_accuracy"]) {
    const ctx = new RecordingContext();
    checkKerasConfigText(activationConfig({ module: "builtins", class_name: "function", config: name, registered_name: "function" }), ctx, "config.json");
    assert.deepEqual(ctx.rules(), [], name);
  }
});

for (const [what, fn, rule, severity] of [
  // Old Keras imports the module named when the name is not one of its own: Python's exec.
  ["a Python builtin under Keras's builtins form", { module: "builtins", class_name: "function", config: "exec" }, "MG263", "critical"],
  ["a harmless-looking Python builtin under that form", { module: "builtins", class_name: "function", config: "print" }, "MG261", "high"],
  // Keras utilities that write files, outside its refused list: the safe-mode bypass class after CVE-2025-1550.
  ["keras.utils.plot_model (writes a file)", { module: "keras.utils", class_name: "function", config: "plot_model" }, "MG267", "high"],
  ["keras.src.ops.core.cond (calls functions)", { module: "keras.src.ops.core", class_name: "function", config: "cond" }, "MG267", "high"],
  ["tensorflow.io.write_file", { module: "tensorflow.io", class_name: "function", config: "write_file" }, "MG267", "high"],
  ["keras.models.load_model", { module: "keras.models", class_name: "function", config: "load_model" }, "MG263", "critical"],
] as const) {
  test(`Keras function reference to ${what}: ${rule} at ${severity} (K2 safe-mode bypasses)`, () => {
    const ctx = new RecordingContext();
    checkKerasConfigText(activationConfig(fn), ctx, "config.json");
    assert.deepEqual(ctx.reports.map((r) => [r.rule, r.extra.severity ?? ruleInfo(r.rule).severity]), [[rule, severity]]);
  });
}

test("registered custom objects are low, never imports: a layer with no module, a function Keras 3 saves under builtins (a precision run's register_keras_serializable models)", () => {
  for (const ref of [
    { module: null, class_name: "ScaledDense", config: { units: 8 }, registered_name: "MyLayers>ScaledDense" },
    { module: "builtins", class_name: "function", config: "Custom>swish_custom", registered_name: "function" },
  ]) {
    const ctx = new RecordingContext();
    checkKerasConfigText(activationConfig(ref), ctx, "config.json");
    assert.deepEqual(ctx.reports.map((r) => [r.rule, r.extra.severity ?? ruleInfo(r.rule).severity]), [["MG262", "low"]], JSON.stringify(ref));
  }
});

test("Keras function references to tensor operations and activations by module pass", () => {
  for (const [module, name] of [["keras.ops", "relu"], ["keras.src.ops.nn", "gelu"], ["keras.src.activations.activations", "silu"], ["tensorflow.nn", "relu"]] as const) {
    const ctx = new RecordingContext();
    checkKerasConfigText(activationConfig({ module, class_name: "function", config: name }), ctx, "config.json");
    assert.deepEqual(ctx.rules(), [], `${module}.${name}`);
  }
});

test("Keras layers that open a file their config names: TFSMLayer is critical, a lookup layer's vocabulary path high, an inline vocabulary nothing (a red team's safe_mode=False reads)", () => {
  const layer = (class_name: string, config: Record<string, unknown>) =>
    JSON.stringify({ module: "keras", class_name: "Functional", config: { layers: [{ module: "keras.layers", class_name, config: { name: "l", ...config } }] } });
  for (const [cls, config, severity] of [
    ["TFSMLayer", { filepath: "/srv/other_model" }, "critical"],
    ["StringLookup", { vocabulary: "/etc/passwd" }, "high"],
    ["IntegerLookup", { vocabulary: "ids.txt" }, "high"],
    ["TextVectorization", { vocabulary: "../../secret.txt" }, "high"],
  ] as const) {
    const ctx = new RecordingContext();
    checkKerasConfigText(layer(cls, config), ctx, "config.json");
    assert.deepEqual(ctx.reports.map((r) => [r.rule, r.extra.severity]), [["MG263", severity]], cls);
    assert.match(ctx.reports[0]!.message, new RegExp(`${cls} layer at .*: "`), cls);
  }
  for (const vocabulary of [["a", "b"], null]) {
    const ctx = new RecordingContext();
    checkKerasConfigText(layer("StringLookup", { vocabulary }), ctx, "config.json");
    assert.deepEqual(ctx.rules(), [], JSON.stringify(vocabulary));
  }
});

test("Keras TorchModuleWrapper in a .keras config: MG266, and the torch.save blob goes to the engine as a member", async () => {
  const blob = Buffer.from("\x80\x04}.", "latin1").toString("base64");
  const config = { module: "keras", class_name: "Functional", config: { layers: [{ module: "keras.layers", class_name: "TorchModuleWrapper", config: { name: "t", module: blob } }] } };
  const ctx = new RecordingContext();
  const blobs = checkKerasConfigText(JSON.stringify(config), ctx, "config.json");
  assert.deepEqual(ctx.rules(), ["MG266"], "the blob is not mistaken for a module to import");
  await scanTorchModuleBlobs(blobs, ctx);
  assert.deepEqual(ctx.members, [{ name: "config.json.config.layers[0].config.module (torch.save)", size: 4 }]);
  // Not base64: reported, never decoded into something else.
  const bad = new RecordingContext();
  await scanTorchModuleBlobs([{ at: "x", base64: "not base64!" }], bad);
  assert.deepEqual(bad.rules(), ["MG264"]);
});

test("isKerasArchive needs config.json and metadata.json at the root", () => {
  assert.ok(isKerasArchive(["metadata.json", "config.json", "model.weights.h5"]));
  assert.ok(!isKerasArchive(["sub/config.json", "metadata.json"]));
  assert.ok(!isKerasArchive(["archive/data.pkl", "config.json"]));
});

// ── repository ──────────────────────────────────────────────────────────────

test("benign model repo: nothing at medium or above", async () => {
  const seen = await scanRepo("benign_model");
  assert.deepEqual(loud(seen), [], JSON.stringify(seen));
});

test("auto_map is high and names the module files; its modeling/configuration code is high (H1)", async () => {
  const seen = await scanRepo("remote_code");
  const autoMap = seen.find((s) => s.rule === "MG270");
  assert.ok(autoMap && autoMap.message.includes("modeling_x.py") && autoMap.message.includes("configuration_x.py"), JSON.stringify(seen));
  const code = seen.filter((s) => s.rule === "MG271");
  assert.deepEqual(code.map((s) => [s.path, s.severity]), [["configuration_x.py", "high"], ["modeling_x.py", "high"]]);
});

test("native binaries and shebang scripts are reported (H1)", async () => {
  const seen = await scanRepo("executables");
  assert.deepEqual(seen.filter((s) => s.rule === "MG272").map((s) => s.path), ["install.sh", "libhelper.so"]);
});

test("a Git LFS pointer where weights were expected says the weights were not scanned (H3)", async () => {
  const seen = await scanRepo("lfs_pointer");
  const lfs = seen.find((s) => s.rule === "MG275");
  assert.ok(lfs && lfs.severity === "high" && lfs.path === "pytorch_model.bin" && lfs.message.includes("not scanned"));
});

test("a symlink out of the folder is high and never followed", async () => {
  const seen = await scanRepo("symlink_escape");
  assert.deepEqual(seen.map((s) => [s.rule, s.path]), [["MG273", "secrets.txt"]]);
});

test("pickle weights beside safetensors get an info finding only", async () => {
  const seen = await scanRepo("prefer_safetensors");
  assert.deepEqual(seen.map((s) => [s.rule, s.severity, s.path]), [["MG274", "info", "pytorch_model.bin"]]);
});

test("Hydra _target_ os.system is critical, torch.nn.Linear passes (CVE-2025-23304)", async () => {
  const seen = await scanRepo("hydra_malicious");
  assert.deepEqual(seen.map((s) => [s.rule, s.severity]), [["MG276", "critical"]]);
  assert.ok(seen[0]!.message.includes("os.system"));
});

test("tokenizer_config chat templates get the template check (H2)", async () => {
  for (const repo of ["chat_template_malicious", "chat_template_named"]) {
    const seen = await scanRepo(repo);
    assert.ok(seen.some((s) => s.severity === "critical" && s.path === "tokenizer_config.json" && s.rule !== "MG160"), `${repo}: ${JSON.stringify(seen)}`);
  }
  assert.deepEqual(loud(await scanRepo("benign_model")), []);
});

test("checkHydraTargets: deny, walk, unknown, python tags, alias bombs, garbage", () => {
  const cases: [string, RuleId[]][] = [
    ["_target_: builtins.eval\n", ["MG276"]],
    ["a: {_target_: numpy.__builtins__.exec}\n", ["MG276"]],
    ["list:\n  - _target_: posix.system\n", ["MG276"]],
    // No family rule: a library the allowlist was not generated from is unknown, however it is named.
    ["_target_: nemo.collections.asr.modules.ConvASREncoder\n", ["MG277"]],
    // A public path to an allowlisted class passes; a stdlib class re-exported under a library does not.
    ["_target_: torch.optim.Adam\n", []],
    ["_target_: sklearn.datasets._covtype.GzipFile\n", ["MG277"]],
    ["_target_: nemo.collections.asr.modules.build_encoder\n", ["MG277"]],
    ["_target_: acme_tools.loader.Builder\n", ["MG277"]],
    ["_target_: [1, 2]\n", ["MG277"]],
    ["_target_: torch.nn.Conv1d\n", []],
    ["x: !!python/object/apply:os.system ['id']\n", ["MG279"]],
    ["a: [unclosed\n", ["MG278"]],
  ];
  for (const [yaml, expected] of cases) {
    const s = sink();
    checkHydraTargets(yaml, s);
    assert.deepEqual(rules(s.seen).filter((r, i, all) => all.indexOf(r) === i), expected, yaml);
  }
  const bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 12; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(", ")}]`);
  const s = sink();
  checkHydraTargets(bomb.join("\n"), s);
  assert.ok(rules(s.seen).includes("MG278"), "alias bomb must be reported, not expanded");
});

test("checkHydraTargets reads PyYAML's other line breaks (NEL, U+2028, U+2029) as line breaks: a comment there does not hide the next line (a red team's os.system)", () => {
  for (const br of ["\u0085", "\u2028", "\u2029"]) {
    const tag = sink();
    checkHydraTargets(`a: 1 # note${br}x: !!python/object/apply:os.system ['id']\n`, tag);
    assert.deepEqual(rules(tag.seen), ["MG279"], JSON.stringify(br));
    const target = sink();
    checkHydraTargets(`a: 1 # note${br}_target_: os.system\n`, target);
    assert.deepEqual(rules(target.seen), ["MG276"], JSON.stringify(br));
  }
});

test("checkHydraTargets: python tags are judged as the pickle rules judge the same operation (MG279)", () => {
  const cases: [string, Severity[]][] = [
    // Lightning's hparams.yaml: an allowlisted class built with __new__ and plain attributes is recorded, not blocked.
    ["args: !!python/object:argparse.Namespace\n  lr: 0.1\n  tags: [a]\n", ["low"]],
    ["x: !!python/object/apply:os.system ['id']\n", ["critical"]],
    ["x: !!python/object:some.unknown.Class {a: 1}\n", ["high"]],
    ["x: !!python/name:builtins.eval ''\n", ["critical"]],
    ["x: !!python/name:eval ''\n", ["critical"]],
    ["x: !!python/module:acme_tools ''\n", ["high"]],
    ["x: !!python/object:argparse.Namespace {__class__: 1}\n", ["critical", "low"]],
    ["x: !!python/object:argparse.Namespace {? [a]: 1}\n", ["critical", "low"]],
    ["x: !!python/object/new:argparse.Namespace {state: {__dict__: {}}}\n", ["critical", "low"]],
    // A ufunc may be stored, never called; a partial calls what it is given, here a name the YAML imports.
    ["x: !!python/object/apply:numpy.add [1, 2]\n", ["high"]],
    ["x: !!python/object/apply:functools.partial [!!python/name:argparse.Namespace '']\n", ["high", "low"]],
    ["x: !!python/object/apply:collections.OrderedDict [[[a, 1]]]\n", ["low"]],
    ["x: !!python/tuple [1, 2]\ny: !!python/none ''\n", []],
  ];
  for (const [yaml, expected] of cases) {
    const s = sink();
    checkHydraTargets(yaml, s);
    const found = s.seen.filter((f) => f.rule === "MG279");
    assert.deepEqual(found.map((f) => f.severity), expected, `${yaml}: ${JSON.stringify(found)}`);
  }
  const s = sink();
  checkHydraTargets("args: !!python/object:argparse.Namespace\n  lr: 0.1\n", s);
  assert.ok(!s.seen.some((f) => atLeast(f.severity, "medium")), "an allowlisted Namespace must not block at the default --fail-on medium");
  assert.ok(s.seen[0]!.message.includes("!!python/object:argparse.Namespace constructs argparse.Namespace"), s.seen[0]!.message);
});

test("hostile repository content: huge YAML and broken config.json are not analysed, loudly", async () => {
  const dir = mkdtempSync(join(tmpdir(), "modelgate-repo-"));
  try {
    writeFileSync(join(dir, "config.json"), '{"auto_map": ');
    writeFileSync(join(dir, "big.yaml"), Buffer.alloc(9 * 1024 * 1024, 0x61));
    symlinkSync("/", join(dir, "root-link"));
    symlinkSync("config.json", join(dir, "inside-link"));
    const seen: Seen[] = [];
    await scanRepository(dir, (rule, message, path, extra) => seen.push({ rule, severity: severityOf(rule, extra?.severity), message, path }));
    assert.deepEqual(seen.map((s) => [s.rule, s.path]).sort(), [["MG273", "root-link"], ["MG278", "big.yaml"], ["MG278", "config.json"]]);
  } finally {
    // Removes the links themselves, never what they point to.
    rmSync(dir, { recursive: true, force: true });
  }
});

test("isLfsPointer and executableKind read only magic numbers", () => {
  assert.ok(isLfsPointer(Buffer.from("version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 1\n")));
  assert.ok(!isLfsPointer(Buffer.from("version https://example.com\n")));
  assert.match(executableKind(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1])) ?? "", /ELF/);
  assert.match(executableKind(Buffer.from([0xcf, 0xfa, 0xed, 0xfe, 0, 0])) ?? "", /Mach-O/);
  assert.match(executableKind(Buffer.concat([Buffer.from("MZ"), Buffer.alloc(62)])) ?? "", /PE/);
  assert.match(executableKind(Buffer.from("#!/usr/bin/env python\n")) ?? "", /python/);
  assert.equal(executableKind(Buffer.from("{\"a\": 1}")), undefined);
});
