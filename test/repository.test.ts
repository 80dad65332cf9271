/** Folder scans through the engine: repository findings land on the files they concern, beside the content findings. */
import assert from "node:assert/strict";
import { copyFile, cp, mkdir, mkdtemp, readFile, rename, rm, symlink, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { spawnSync } from "node:child_process";
import { deflateSync } from "node:zlib";
import { after, before, test } from "node:test";
import { scanPaths } from "../src/engine.js";
import type { ScanReport } from "../src/types.js";

const REPOS = join(import.meta.dirname, "..", "..", "test", "fixtures", "repos");
const ZOO = join(import.meta.dirname, "..", "..", "test", "fixtures", "zoo");

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "modelgate-repo-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function byFile(report: ScanReport): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const f of report.files) out[f.path.split(/[\\/]/).slice(-1)[0]!] = f.findings.map((x) => `${x.rule}:${x.severity}`);
  return out;
}

test("a benign model folder passes with its safetensors weights analysed", async () => {
  const report = await scanPaths([join(REPOS, "benign_model")]);
  assert.equal(report.verdict, "pass", JSON.stringify(report.files));
  const weights = report.files.find((f) => f.path.endsWith("model.safetensors"));
  assert.equal(weights?.format, "safetensors");
  assert.deepEqual(weights?.findings, []);
});

test("auto_map blocks the folder; its code files are high, on the files themselves", async () => {
  const files = byFile(await scanPaths([join(REPOS, "remote_code")]));
  assert.ok(files["config.json"]?.includes("MG270:high"));
  assert.deepEqual(files["modeling_x.py"], ["MG271:high"]);
});

test("a Python file nothing references is reported low, not blocked", async () => {
  const repo = join(dir, "scripts_only");
  await mkdir(repo);
  await writeFile(join(repo, "train.py"), "print('hello')\n");
  const report = await scanPaths([repo]);
  assert.deepEqual(byFile(report)["train.py"], ["MG271:low"]);
  assert.equal(report.verdict, "pass");
});

test("code named like a library that loading a model imports is high: Python started in the folder imports it instead", async () => {
  const repo = join(dir, "shadowing");
  // scikit-learn 1.6 pickles its Cython losses as _loss.CyHalfBinomialLoss (allowlisted): _loss.py would be imported in its place.
  await mkdir(join(repo, "numpy"), { recursive: true });
  await mkdir(join(repo, "sklearn"));
  await mkdir(join(repo, "src"));
  await copyFile(join(ZOO, "sklearn16", "pickle", "hist_gradient_boosting_proto2.pkl"), join(repo, "model.pkl"));
  await writeFile(join(repo, "_loss.py"), "import os\n");
  await writeFile(join(repo, "numpy", "__init__.py"), "import os\n");
  await writeFile(join(repo, "torch.cpython-311-x86_64-linux-gnu.so"), Buffer.from("\x7fELF\x02\x01\x01", "latin1"));
  // numpy imports numbers (a pickled numpy array runs a planted numbers.py); links are imported as what they point to.
  await writeFile(join(repo, "numbers.py"), "import os\n");
  await mkdir(join(repo, "lib", "pkg"), { recursive: true });
  await writeFile(join(repo, "lib", "impl.py"), "import os\n");
  await writeFile(join(repo, "lib", "pkg", "__init__.py"), "import os\n");
  await symlink(join("lib", "impl.py"), join(repo, "scipy.py"));
  await symlink(join("lib", "pkg"), join(repo, "joblib"));
  // Not importable in a library's place: a namespace folder (no __init__.py), code below the top, a
  // script, a .pyo (Python 3 never imports one), a name no loader imports.
  await writeFile(join(repo, "sklearn", "base.py"), "import os\n");
  await writeFile(join(repo, "src", "numpy.py"), "import os\n");
  await writeFile(join(repo, "torch.sh"), "#!/bin/sh\necho\n");
  await writeFile(join(repo, "pandas.pyo"), "");
  await writeFile(join(repo, "train.py"), "import os\n");
  // The other formats' loaders count too (a red team ran h5py.py beside a .keras, onnx.py beside a .onnx).
  for (const name of ["h5py.py", "onnx.py", "absl.py"]) await writeFile(join(repo, name), "import os\n");
  const report = await scanPaths([repo]);
  const found = Object.fromEntries(report.files.map((f) => [relative(repo, f.path).split(sep).join("/"), f.findings.map((x) => `${x.rule}:${x.severity}`)]));
  assert.deepEqual(found, {
    "model.pkl": [],
    "_loss.py": ["MG271:high"],
    "numpy/__init__.py": ["MG271:high"],
    "torch.cpython-311-x86_64-linux-gnu.so": ["MG272:high"],
    "numbers.py": ["MG271:high"],
    "scipy.py": ["MG271:high"],
    "joblib": ["MG271:high"],
    "lib/impl.py": ["MG271:low"],
    "lib/pkg/__init__.py": ["MG271:low"],
    "sklearn/base.py": ["MG271:low"],
    "src/numpy.py": ["MG271:low"],
    "torch.sh": ["MG272:low"],
    "pandas.pyo": ["MG271:low"],
    "train.py": ["MG271:low"],
    "h5py.py": ["MG271:high"],
    "onnx.py": ["MG271:high"],
    "absl.py": ["MG271:high"],
  });
  assert.equal(report.verdict, "block");
  assert.match(report.files.find((f) => f.path.endsWith("_loss.py"))!.findings[0]!.message, /takes the place of the _loss module/);
});

test("code named like an optional package the loaders probe for is high, and so is a Python 3.14 standard module (red team round 23)", async () => {
  // transformers imports hqq.py, flash_attn.py, torchao.py… to read a version when the package has no
  // metadata; sentence-transformers' fsspec tries 3.14's compression package. Each ran beside a working model.
  const models = join(dir, "models");
  const repo = join(models, "probed_shadowing");
  await mkdir(repo, { recursive: true });
  await copyFile(join(REPOS, "benign_model", "model.safetensors"), join(repo, "model.safetensors"));
  // subclass.py and class-named modules: what pickle.load of a joblib file may import in the outer memo (red team round 34).
  // And any package the allowlist lets a pickle import by name (red team round 37: sortedcontainers, gymnasium, xarray).
  // And any module installed where models are made, which such a package may import (red team round 38: gymnasium's farama_notifications, spaCy's srsly).
  const planted = ["hqq.py", "flash_attn.py", "torchao.py", "kernels.py", "librosa.py", "soundfile.py", "torch_npu.py", "torch_mlu.py", "compression.py", "annotationlib.py", "subclass.py", "DataFrame.py", "LabelEncoder.py", "sortedcontainers.py", "gymnasium.py", "xarray.py", "farama_notifications.py", "srsly.py"];
  for (const name of planted) await writeFile(join(repo, name), "__version__ = '0.0.1'\n");
  const report = await scanPaths([repo]);
  for (const name of planted) {
    const findings = report.files.find((f) => f.path.endsWith(`${sep}${name}`))!.findings.map((x) => `${x.rule}:${x.severity}`);
    assert.deepEqual(findings, ["MG271:high"], name);
  }
  // Scanned from the folder above, as a folder of model repositories is: hqq.py is beside its model's weights,
  // where Python is started to load it. Code in a folder that holds no model stays low.
  await mkdir(join(repo, "notes"));
  await writeFile(join(repo, "notes", "hqq.py"), "__version__ = '0.0.1'\n");
  const parent = await scanPaths([models]);
  const severityOf = (end: string): string[] => parent.files.find((f) => f.path.endsWith(end))!.findings.map((x) => `${x.rule}:${x.severity}`);
  assert.deepEqual(severityOf(join("probed_shadowing", "hqq.py")), ["MG271:high"]);
  assert.match(parent.files.find((f) => f.path.endsWith(join("probed_shadowing", "hqq.py")))!.findings[0]!.message, /for Python started in "probed_shadowing"/);
  assert.deepEqual(severityOf(join("notes", "hqq.py")), ["MG271:low"]);
  // A pickle saved as scikit-learn's .sav, or under no extension at all (found by its content), makes its folder a
  // model's too (red team round 35: Helpers.py beside model.sav); so does a compressed one under any name, which
  // joblib inflates whatever it is called.
  const pickle = Buffer.from([0x80, 0x04, 0x4e, 0x2e]);
  for (const [folder, file, bytes] of [["sav_model", "model.sav", pickle], ["bare_model", "checkpoint", pickle], ["zlib_model", "weights.blob", deflateSync(pickle)]] as const) {
    await mkdir(join(models, folder));
    await writeFile(join(models, folder, file), bytes);
    await writeFile(join(models, folder, "Helpers.py"), "x = 1\n");
  }
  const bare = await scanPaths([models]);
  for (const folder of ["sav_model", "bare_model", "zlib_model"]) {
    assert.deepEqual(bare.files.find((f) => f.path.endsWith(join(folder, "Helpers.py")))!.findings.map((x) => `${x.rule}:${x.severity}`), ["MG271:high"], folder);
  }
});

test("code named like any standard module a folder can replace is high, beyond those seen imported: __future__ (torch imports it lazily), sysconfig's _sysconfigdata_*", async () => {
  // A red team's folders: Python started there ran __future__.py at `import torch`, and the
  // _sysconfigdata_ module at `import keras`, each beside clean weights.
  const repo = join(dir, "stdlib_shadowing");
  await mkdir(join(repo, "curses"), { recursive: true });
  await mkdir(join(repo, "sub"));
  await copyFile(join(REPOS, "benign_model", "model.safetensors"), join(repo, "model.safetensors"));
  for (const name of ["__future__.py", "_sysconfigdata__linux_x86_64-linux-gnu.py", "_sysconfigdata__x86_64-linux-gnu.pyc", "trace.py", "curses/__init__.py"]) {
    await writeFile(join(repo, name), "import os\n");
  }
  // A native module of a standard name (the REPL imports readline once Python started in the folder).
  await writeFile(join(repo, "readline.cpython-311-x86_64-linux-gnu.so"), Buffer.from("\x7fELF\x02\x01\x01", "latin1"));
  // Not replaceable, or not standard: built in or imported before the folder is on sys.path (os, sys,
  // time), below the top, CPython's own test suite (left out of sys.stdlib_module_names), and the
  // names model repositories give their code.
  const ordinary = ["os.py", "sys.py", "time.py", "sub/__future__.py", "test.py", "utils.py", "config.py", "setup.py", "main.py", "handler.py", "train.py"];
  ordinary.push("modeling_x.py", "configuration_x.py", "tokenization_x.py", "inference.py");
  for (const name of ordinary) await writeFile(join(repo, name), "import os\n");
  const report = await scanPaths([repo]);
  const found = Object.fromEntries(report.files.map((f) => [relative(repo, f.path).split(sep).join("/"), f.findings.map((x) => `${x.rule}:${x.severity}`)]));
  assert.deepEqual(found, {
    "model.safetensors": [],
    "__future__.py": ["MG271:high"],
    "_sysconfigdata__linux_x86_64-linux-gnu.py": ["MG271:high"],
    "_sysconfigdata__x86_64-linux-gnu.pyc": ["MG271:high"],
    "trace.py": ["MG271:high"],
    "curses/__init__.py": ["MG271:high"],
    "readline.cpython-311-x86_64-linux-gnu.so": ["MG272:high"],
    ...Object.fromEntries(ordinary.map((name) => [name, ["MG271:low"]])),
  });
  const message = (name: string): string => report.files.find((f) => f.path.endsWith(name))!.findings[0]!.message;
  assert.match(message("__future__.py"), /takes the place of the standard library's __future__ module/);
  assert.match(message("_sysconfigdata__linux_x86_64-linux-gnu.py"), /sysconfig's _sysconfigdata__linux_x86_64-linux-gnu module/);
  // The same folders without the planted module pass, as before.
  for (const name of ["__future__.py", "_sysconfigdata__linux_x86_64-linux-gnu.py", "_sysconfigdata__x86_64-linux-gnu.pyc", "trace.py", "curses", "readline.cpython-311-x86_64-linux-gnu.so"]) {
    await rm(join(repo, name), { recursive: true });
  }
  assert.equal((await scanPaths([repo])).verdict, "pass");
});

test("the standard library part of data/loader-modules.json covers Python 3.9 to 3.14, less what no folder replaces", async () => {
  const data = JSON.parse(await readFile(join(import.meta.dirname, "..", "..", "data", "loader-modules.json"), "utf8")) as {
    stdlib: { pythons: { python: string }[]; modules: string[]; left_out: string[]; prefixes: string[] };
  };
  assert.deepEqual(data.stdlib.pythons.map((p) => p.python.split(".").slice(0, 2).join(".")), ["3.9", "3.10", "3.11", "3.12", "3.13", "3.14"]);
  const modules = new Set(data.stdlib.modules);
  // 3.9 only (formatter, parser, symbol), 3.13 on (_pyrepl), 3.14 (compression), Windows only (winreg), lazily imported ones.
  for (const name of ["__future__", "formatter", "symbol", "_pyrepl", "compression", "winreg", "readline", "sysconfig", "json", "asyncio"]) assert.ok(modules.has(name), name);
  for (const name of ["os", "sys", "builtins", "site", "codecs", "io", "abc", "test"]) assert.ok(!modules.has(name), name);
  assert.ok(data.stdlib.left_out.includes("os"));
  assert.deepEqual(data.stdlib.prefixes, ["_sysconfigdata_"]);
});

test("entries a folder scan cannot read are failed files, never dropped: a FIFO, links that dangle or loop, a subfolder past PATH_MAX (red team round 24)", async () => {
  const repo = join(dir, "unscannable");
  await mkdir(repo);
  await writeFile(join(repo, "ok.pkl"), Buffer.from([0x80, 0x02, 0x4e, 0x2e]));
  assert.equal(spawnSync("mkfifo", [join(repo, "weights.pkl")]).status, 0);
  await symlink("nowhere.bin", join(repo, "dangling.bin"));
  await symlink("loop2", join(repo, "loop1"));
  await symlink("loop1", join(repo, "loop2"));
  // 25 folders of 200-character names: a process reaches them one relative step at a time, readdir by path cannot.
  const steps = 'const fs = require("node:fs"); process.chdir(process.argv[1]); for (const n of ["deep", ...Array(25).fill("d".repeat(200))]) { fs.mkdirSync(n); process.chdir(n); } fs.writeFileSync("evil.pkl", "x");';
  const deep = spawnSync(process.execPath, ["-e", steps, repo]);
  assert.equal(deep.status, 0, deep.stderr.toString());
  let report: ScanReport;
  try {
    report = await scanPaths([repo]);
  } finally {
    // Node's rm cannot reach below PATH_MAX either; GNU rm walks down relatively.
    spawnSync("rm", ["-rf", join(repo, "deep")]);
  }
  const failed = Object.fromEntries(report.files.filter((f) => f.error !== undefined).map((f) => [relative(repo, f.path).split(sep)[0], f.error]));
  assert.match(failed["weights.pkl"] ?? "", /not a regular file, a folder or a link/);
  for (const link of ["dangling.bin", "loop1", "loop2"]) assert.match(failed[link] ?? "", /a link that dangles or loops/, link);
  assert.match(failed["deep"] ?? "", /the folder could not be listed \(.*ENAMETOOLONG.*\); nothing in it was scanned/);
  assert.ok(report.files.some((f) => f.path.endsWith("ok.pkl") && f.error === undefined));
  assert.notEqual(report.verdict, "pass");
});

test("a symlink out of the folder is reported on the link and its target is not read", async () => {
  const report = await scanPaths([join(REPOS, "symlink_escape")]);
  const link = report.files.find((f) => f.path.endsWith("secrets.txt"));
  assert.deepEqual(link?.findings.map((f) => f.rule), ["MG273"]);
  assert.equal(link?.bytesRead, 0);
  assert.equal(report.verdict, "block");
});

test("a link inside the folder is scanned as the file it points to", async () => {
  const repo = join(dir, "inner_link");
  await mkdir(repo);
  await writeFile(join(repo, "weights.pkl"), Buffer.from([0x80, 0x02, 0x63, ...Buffer.from("posix\nsystem\n"), 0x85, 0x52, 0x2e]));
  await symlink("weights.pkl", join(repo, "alias.pkl"));
  const files = byFile(await scanPaths([repo]));
  assert.ok(files["alias.pkl"]?.some((f) => f.startsWith("MG10")), JSON.stringify(files));
});

test("a Hugging Face cache snapshot's links into its blobs are not escapes", async () => {
  const repo = join(dir, "hub", "models--org--tiny");
  const snapshot = join(repo, "snapshots", "0123abcd");
  await mkdir(join(repo, "blobs"), { recursive: true });
  await mkdir(snapshot, { recursive: true });
  await writeFile(join(repo, "blobs", "f00d"), JSON.stringify({ model_type: "llama" }));
  await symlink(join("..", "..", "blobs", "f00d"), join(snapshot, "config.json"));
  const report = await scanPaths([snapshot]);
  assert.deepEqual(report.files.flatMap((f) => f.findings.map((x) => x.rule)), []);
});

test("a Hugging Face cache snapshot's links get the repository checks under their own names", async () => {
  const repo = join(dir, "hub", "models--org--planted");
  const snapshot = join(repo, "snapshots", "4567cdef");
  await mkdir(join(repo, "blobs"), { recursive: true });
  await mkdir(snapshot, { recursive: true });
  await writeFile(join(repo, "blobs", "c0de"), "import os\n");
  await symlink(join("..", "..", "blobs", "c0de"), join(snapshot, "numpy.py"));
  const report = await scanPaths([snapshot]);
  assert.deepEqual(byFile(report)["numpy.py"], ["MG271:high"]);
  assert.equal(report.verdict, "block");
});

test("a Git LFS pointer in place of weights blocks and says the weights were not scanned", async () => {
  const report = await scanPaths([join(REPOS, "lfs_pointer")]);
  const pointer = report.files.find((f) => f.path.endsWith("pytorch_model.bin"));
  assert.deepEqual(pointer?.findings.map((f) => f.rule), ["MG275"]);
  assert.equal(pointer?.skipped, undefined);
  assert.equal(report.verdict, "block");
});

test("a pickle beside safetensors gets the info finding beside its own scan", async () => {
  const files = byFile(await scanPaths([join(REPOS, "prefer_safetensors")]));
  assert.deepEqual(files["pytorch_model.bin"], ["MG274:info"]);
});

test("the policy's callables reach the Hydra check of a folder's own YAML configs", async () => {
  const repo = join(dir, "hydra_policy");
  await mkdir(repo);
  await writeFile(join(repo, "model_config.yaml"), "model:\n  loader:\n    _target_: acme.plugins.Loader\n  head:\n    _target_: acme.layers.Head\n");
  const rules = async (callables?: Parameters<typeof scanPaths>[1]) => byFile(await scanPaths([repo], callables))["model_config.yaml"];
  assert.deepEqual(await rules(), ["MG277:high", "MG277:high"]);
  const callables = {
    allow: new Set(["acme.layers.Head"]),
    deny: new Map([["acme.plugins", { severity: "critical" as const, reason: "loads plugins by name" }]]),
  };
  assert.deepEqual(await rules({ callables }), ["MG276:critical"]);
});

test("a loader config that reads from a folder skipped by default blocks: the shard, component or module there was not scanned", async () => {
  // The real sharded checkpoint (torch-made), its second shard moved into __pycache__/ and the index pointed there.
  const repo = join(dir, "skipped_shard");
  await cp(join(import.meta.dirname, "..", "..", "test", "fixtures", "convert", "sharded"), repo, { recursive: true });
  await rm(join(repo, "pytorch_model.bin.index.json.expected.json"));
  await mkdir(join(repo, "__pycache__"));
  await writeFile(join(repo, "__pycache__", "tools.cpython-311.pyc"), Buffer.from([0xa7, 0x0d, 0x0d, 0x0a]));
  const untouched = await scanPaths([repo]);
  assert.equal(untouched.verdict, "pass", JSON.stringify(byFile(untouched)));
  assert.ok(!untouched.files.some((f) => f.findings.some((x) => x.rule === "MG285")), "a skipped folder nothing reads is no finding");

  await rename(join(repo, "pytorch_model-00002-of-00002.bin"), join(repo, "__pycache__", "pytorch_model-00002-of-00002.bin"));
  const indexPath = join(repo, "pytorch_model.bin.index.json");
  const index = JSON.parse(await readFile(indexPath, "utf8")) as { weight_map: Record<string, string> };
  for (const [k, v] of Object.entries(index.weight_map)) if (v === "pytorch_model-00002-of-00002.bin") index.weight_map[k] = `__pycache__/${v}`;
  await writeFile(indexPath, JSON.stringify(index));
  const moved = await scanPaths([repo]);
  assert.deepEqual(byFile(moved)["pytorch_model.bin.index.json"], ["MG285:high"]);
  assert.equal(moved.verdict, "block");
  assert.match(moved.files.find((f) => f.path.endsWith("index.json"))!.findings[0]!.message, /"__pycache__" is left out of the scan by default/);
  // A link to the folder is not followed either: reading through it is the same finding.
  await symlink("__pycache__", join(repo, "weights"));
  await writeFile(indexPath, JSON.stringify(index).replaceAll("__pycache__/", "weights/"));
  const linked = await scanPaths([repo]);
  assert.deepEqual(byFile(linked)["pytorch_model.bin.index.json"], ["MG285:high"]);
  assert.match(linked.files.find((f) => f.path.endsWith("index.json"))!.findings[0]!.message, /"weights" is a link to a folder, which the scan does not follow/);
  await rm(join(repo, "weights"));
  await writeFile(indexPath, JSON.stringify(index));
  // Walked, the folder's shard is scanned like any other and the index is no finding.
  const walked = await scanPaths([repo], { exclusions: { defaultExcludes: false } });
  assert.deepEqual(byFile(walked)["pytorch_model.bin.index.json"], []);
  assert.equal(walked.files.find((f) => f.path.endsWith(join("__pycache__", "pytorch_model-00002-of-00002.bin")))?.format, "pytorch-zip");
});

test("a sentence-transformers module whose path is a folder skipped by default blocks", async () => {
  const repo = join(dir, "skipped_module");
  await cp(join(ZOO, "hf", "sentence_transformers", "tiny"), repo, { recursive: true });
  await rename(join(repo, "2_Dense"), join(repo, ".venv"));
  const modules = (await readFile(join(repo, "modules.json"), "utf8")).replace('"path": "2_Dense"', '"path": ".venv"');
  await writeFile(join(repo, "modules.json"), modules);
  const report = await scanPaths([repo]);
  assert.deepEqual(byFile(report)["modules.json"], ["MG285:high"]);
  assert.equal(report.verdict, "block");
});

/** The real sharded checkpoint (torch-made) in `name`, and a way to point its second shard's entries at `to`. */
async function shardedRepo(name: string): Promise<{ repo: string; pointShard2: (to: string) => Promise<void> }> {
  const repo = join(dir, name);
  await cp(join(import.meta.dirname, "..", "..", "test", "fixtures", "convert", "sharded"), repo, { recursive: true });
  await rm(join(repo, "pytorch_model.bin.index.json.expected.json"));
  const indexPath = join(repo, "pytorch_model.bin.index.json");
  const index = JSON.parse(await readFile(indexPath, "utf8")) as { weight_map: Record<string, string> };
  const pointShard2 = async (to: string): Promise<void> => {
    const map = Object.fromEntries(Object.entries(index.weight_map).map(([k, v]) => [k, v === "pytorch_model-00002-of-00002.bin" ? to : v]));
    await writeFile(indexPath, JSON.stringify({ ...index, weight_map: map }));
  };
  return { repo, pointShard2 };
}

const EVIL = join(import.meta.dirname, "..", "..", "examples", "reverse_shell.pkl");
const indexFindings = (report: ScanReport): string[] =>
  report.files.find((f) => f.path.endsWith("pytorch_model.bin.index.json"))!.findings.map((x) => `${x.rule}:${x.severity} ${x.message}`);

test("what a shard index sends the loader to is scanned or reported, however the path is written", async () => {
  const { repo, pointShard2 } = await shardedRepo("shard_paths");
  // A file named like a default folder is scanned like any other file.
  await copyFile(EVIL, join(repo, "venv"));
  await pointShard2("venv");
  const file = await scanPaths([repo]);
  assert.equal(file.files.find((f) => f.path.endsWith(`${sep}venv`))?.verdict, "block");

  // Through a link to a folder and back out of it: the kernel follows the link before "..".
  await mkdir(join(repo, "__pycache__", "sub"), { recursive: true });
  await copyFile(EVIL, join(repo, "__pycache__", "x.bin"));
  await symlink(join("__pycache__", "sub"), join(repo, "w"));
  await pointShard2("w/../x.bin");
  assert.match(indexFindings(await scanPaths([repo])).join("\n"), /MG285:high .*"w\/\.\.\/x\.bin", but "w" is a link to a folder/);
  await pointShard2("__pycache__/../w/../x.bin");
  assert.match(indexFindings(await scanPaths([repo])).join("\n"), /MG285:high .*but "(__pycache__|w)" is/);
  await mkdir(join(repo, "real"));
  await pointShard2("real/../w/../x.bin");
  assert.match(indexFindings(await scanPaths([repo])).join("\n"), /MG285:high .*but "w" is a link to a folder/);

  // A link named like a default folder (a .venv linked to an environment elsewhere) is left out
  // without a finding of its own, so reading through it is the finding.
  const elsewhere = await mkdtemp(join(tmpdir(), "modelgate-env-"));
  await copyFile(EVIL, join(elsewhere, "x.bin"));
  await symlink(elsewhere, join(repo, ".venv"));
  await pointShard2("pytorch_model-00002-of-00002.bin");
  assert.equal((await scanPaths([repo])).files.find((f) => f.path.endsWith("index.json"))?.verdict, "pass");
  await pointShard2(".venv/x.bin");
  assert.match(indexFindings(await scanPaths([repo])).join("\n"), /MG285:high .*"\.venv" is left out of the scan by default/);
  await rm(elsewhere, { recursive: true });

  // Out of the folder, from an index that is not a safetensors one (that one is MG208's).
  for (const out of ["../../evil.bin", "/tmp/evil.bin"]) {
    await pointShard2(out);
    assert.match(indexFindings(await scanPaths([repo])).join("\n"), /MG285:high .*outside the scanned folder/, out);
  }
});

test("a shard index in a subfolder that climbs into a skipped folder, and one too large to read, are reported", async () => {
  const { repo } = await shardedRepo("shard_sub");
  await mkdir(join(repo, "__pycache__"));
  await mkdir(join(repo, "sub"));
  await rename(join(repo, "pytorch_model.bin.index.json"), join(repo, "sub", "pytorch_model.bin.index.json"));
  const index = JSON.parse(await readFile(join(repo, "sub", "pytorch_model.bin.index.json"), "utf8")) as { weight_map: Record<string, string> };
  index.weight_map["head.bias"] = "../__pycache__/pytorch_model-00002-of-00002.bin";
  await writeFile(join(repo, "sub", "pytorch_model.bin.index.json"), JSON.stringify(index));
  const climbed = await scanPaths([repo]);
  const sub = climbed.files.find((f) => f.path.endsWith(join("sub", "pytorch_model.bin.index.json")))!;
  assert.deepEqual(sub.findings.map((x) => x.rule), ["MG285"]);
  assert.match(sub.findings[0]!.message, /"__pycache__" is left out of the scan by default/);

  // A large model's index (past the 8 MiB bound on other configs, its climbing entry last) is still read whole...
  const filler = Object.fromEntries(Array.from({ length: 170_000 }, (_, i) => [`model.layers.${i}.mlp.weight`, "pytorch_model-00001-of-00002.bin"]));
  const large9MB = JSON.stringify({ ...index, weight_map: { ...filler, ...index.weight_map } });
  assert.ok(large9MB.length > 8 * 1024 * 1024 && large9MB.indexOf("__pycache__") > 8 * 1024 * 1024);
  await writeFile(join(repo, "sub", "pytorch_model.bin.index.json"), large9MB);
  const large = await scanPaths([repo]);
  assert.deepEqual(large.files.find((f) => f.path.endsWith(join("sub", "pytorch_model.bin.index.json")))!.findings.map((x) => x.rule), ["MG285"]);
  // ...up to the bound the safetensors index scanner keeps; past it, what it sends the loader to was not checked.
  await truncate(join(repo, "sub", "pytorch_model.bin.index.json"), 64 * 1024 * 1024 + 1);
  const padded = await scanPaths([repo]);
  assert.ok(padded.files.find((f) => f.path.endsWith(join("sub", "pytorch_model.bin.index.json")))!.findings.some((x) => x.rule === "MG278" && /over the 67108864-byte bound/.test(x.message)));
  assert.equal(padded.verdict, "block");

  // An absolute shard path drops the index's folder (os.path.join): out of the folder, from a subfolder too.
  index.weight_map["head.bias"] = "/tmp/evil.bin";
  await writeFile(join(repo, "sub", "pytorch_model.bin.index.json"), JSON.stringify(index));
  const absolute = (await scanPaths([repo])).files.find((f) => f.path.endsWith(join("sub", "pytorch_model.bin.index.json")))!;
  assert.match(absolute.findings.map((x) => x.message).join("\n"), /"\/tmp\/evil\.bin", outside the scanned folder/);
});

test("code a config names under an escaped auto_map key is the loader's code: the folder walk reads configs for code references by what JSON.parse sees", async () => {
  const repo = join(dir, "escaped_auto_map");
  await mkdir(repo);
  await writeFile(join(repo, "my_tok.py"), "import os\n");
  await writeFile(join(repo, "tokenizer_config.json"), '{"eos_token": "</s>"}');
  assert.deepEqual(byFile(await scanPaths([repo]))["my_tok.py"], ["MG271:low"]);
  // A GPT-2 vocabulary's escapes spell no key.
  await writeFile(join(repo, "vocab.json"), '{"\\u0120the": 0, "\\u0120a": 1}');
  assert.deepEqual(byFile(await scanPaths([repo]))["my_tok.py"], ["MG271:low"]);
  // transformers reads the key JSON decodes, however it is written.
  for (const key of ["auto_map", "auto\\u005fmap", "\\u0061uto_map", "auto\\u005Fm\\u0061p"]) {
    await writeFile(join(repo, "tokenizer_config.json"), `{"${key}": {"AutoTokenizer": ["my_tok.MyTokenizer", null]}}`);
    const files = byFile(await scanPaths([repo]));
    assert.deepEqual(files["my_tok.py"], ["MG271:high"], key);
    assert.ok(files["tokenizer_config.json"]?.includes("MG270:high"), key);
  }
  await writeFile(join(repo, "tokenizer_config.json"), '{"eos_token": "</s>"}');
  // Any JSON config's top-level custom_pipelines counts, as auto_map does.
  await writeFile(join(repo, "pipeline_settings.json"), '{"custom_pipelines": ["my_tok.MyPipeline"]}');
  assert.deepEqual(byFile(await scanPaths([repo]))["my_tok.py"], ["MG271:high"], "custom_pipelines");
  await rm(join(repo, "pipeline_settings.json"));
  // A shard index is read for its shard names only when it cannot spell such a key; when it can, it is parsed for it.
  const weightMap = { "w.weight": "model-00001-of-00001.safetensors" };
  await writeFile(join(repo, "model.safetensors.index.json"), JSON.stringify({ weight_map: weightMap }));
  assert.deepEqual(byFile(await scanPaths([repo]))["my_tok.py"], ["MG271:low"]);
  await writeFile(join(repo, "model.safetensors.index.json"), `{"\\u0061uto_map": {"AutoModel": "my_tok.M"}, "weight_map": ${JSON.stringify(weightMap)}}`);
  assert.deepEqual(byFile(await scanPaths([repo]))["my_tok.py"], ["MG271:high"], "a shard index's escaped auto_map");
});

test("any JSON config is read as Python reads it: NaN does not hide its auto_map, and one too large or not JSON that could spell the key is MG278 (a red team's video_preprocessor_config.json)", async () => {
  const repo = join(dir, "python_json");
  await mkdir(repo);
  await writeFile(join(repo, "vp_code.py"), "import os\n");
  const autoMap = '"auto_map": {"AutoVideoProcessor": "vp_code.VP"}';
  await writeFile(join(repo, "video_preprocessor_config.json"), `{"scale": NaN, "low": -Infinity, "note": "NaN stays text", ${autoMap}}`);
  let files = byFile(await scanPaths([repo]));
  assert.deepEqual(files["vp_code.py"], ["MG271:high"]);
  assert.ok(files["video_preprocessor_config.json"]?.includes("MG270:high"), JSON.stringify(files));
  // Not JSON to Python either: reported when it could hold a key loaders act on, passed over when it cannot (a dataset).
  await writeFile(join(repo, "video_preprocessor_config.json"), `{"scale": nan, ${autoMap}}`);
  assert.ok(byFile(await scanPaths([repo]))["video_preprocessor_config.json"]?.includes("MG278:high"));
  await writeFile(join(repo, "video_preprocessor_config.json"), '{"a": 1}\n{"a": 2}\n');
  assert.deepEqual(byFile(await scanPaths([repo]))["video_preprocessor_config.json"], []);
  // Over the size bound, an escaped key is searched for as a literal one is.
  await writeFile(join(repo, "video_preprocessor_config.json"), `{"pad": "${"x".repeat(8 * 1024 * 1024)}", "\\u0061uto_map": {"AutoVideoProcessor": "vp_code.VP"}}`);
  files = byFile(await scanPaths([repo]));
  assert.ok(files["video_preprocessor_config.json"]?.includes("MG278:high"), JSON.stringify(files));
});

test("a folder scan parses a large JSON config once for its own checks and at most once more for what needs the folder, and only when that can find something", async () => {
  const repo = join(dir, "large_configs");
  await mkdir(repo);
  const vocab = Object.fromEntries(Array.from({ length: 60_000 }, (_, i) => [`tok${i}`, i]));
  const tokenizer = JSON.stringify({ model: { type: "BPE", vocab, merges: Object.keys(vocab).slice(1).map((t) => `tok0 ${t}`) } });
  const weightMap = Object.fromEntries(Array.from({ length: 60_000 }, (_, i) => [`layers.${i}.weight`, `model-0000${(i % 2) + 1}-of-00002.bin`]));
  const index = JSON.stringify({ metadata: {}, weight_map: weightMap });
  await writeFile(join(repo, "tokenizer.json"), tokenizer);
  await writeFile(join(repo, "pytorch_model.bin.index.json"), index);
  const safetensorsIndex = index.replaceAll(".bin", ".safetensors");
  await writeFile(join(repo, "model.safetensors.index.json"), safetensorsIndex);
  const parses = new Map<number, number>();
  const parse = JSON.parse;
  JSON.parse = (text: string, reviver?: Parameters<typeof JSON.parse>[1]): unknown => {
    if (text.length >= 1_000_000) parses.set(text.length, (parses.get(text.length) ?? 0) + 1);
    return parse(text, reviver);
  };
  let report: ScanReport;
  try {
    report = await scanPaths([repo], { threads: 0 });
  } finally {
    JSON.parse = parse;
  }
  // Before: the tokenizer twice and the index three times, with every vocabulary entry walked twice as often.
  assert.equal(parses.get(tokenizer.length), 1, "tokenizer.json: its scanner alone");
  assert.equal(parses.get(index.length), 2, "the shard index: its scanner, and once for the loaded paths");
  // Its shards out of the folder are its scanner's MG208, and the walk left nothing out that they could lead into.
  assert.equal(parses.get(safetensorsIndex.length), 1, "a safetensors shard index: its scanner alone");
  assert.equal(report.verdict, "pass", JSON.stringify(byFile(report)));
});
