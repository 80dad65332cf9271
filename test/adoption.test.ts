/**
 * Repository scans that pass clean repositories (issue 15): default excludes, --exclude/--include,
 * .modelgateignore, scripts that no loader config points at, and this repository scanned as `scan .`.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ExitCode } from "../src/cli/exitCode.js";
import { scanPaths } from "../src/engine.js";
import { RULE_IDS } from "../src/rules/catalogue.js";
import { REMEDIES } from "../src/rules/remedies.js";
import type { ScanReport } from "../src/types.js";
import { WATCHDOG_MS } from "./support/timeout.js";
import { MAIN } from "./support/cli.js";

// This file runs as dist/test/adoption.test.js.
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const EVIL_PICKLE = join(ROOT, "examples/reverse_shell.pkl");
const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]), Buffer.alloc(57)]);

function modelgate(cwd: string, ...args: string[]) {
  const { status, stdout, stderr } = spawnSync(process.execPath, [MAIN, ...args], { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { status, stdout, stderr };
}

function put(root: string, rel: string, content: string | Buffer, mode?: number): void {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, content);
  if (mode !== undefined) chmodSync(p, mode);
}

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/**
 * A typical ML project: training code, a notebook, configs, a shell script, safetensors weights (the
 * generator-made benign_model fixture), with a git folder, installed dependencies and a virtual env
 * whose own files include scripts, a native library and a pickle that would block.
 */
function mlProject(): string {
  const root = mkdtempSync(join(tmpdir(), "modelgate-mlproject-"));
  dirs.push(root);
  cpSync(join(ROOT, "test/fixtures/repos/benign_model"), join(root, "model"), { recursive: true });
  put(root, "train.py", "import torch\nfrom safetensors.torch import save_file\n\nif __name__ == '__main__':\n    save_file({}, 'model/model.safetensors')\n");
  put(root, "scripts/train.sh", "#!/usr/bin/env bash\nset -euo pipefail\npython train.py --epochs 3\n", 0o755);
  put(root, "notebooks/explore.ipynb", JSON.stringify({ cells: [{ cell_type: "code", source: ["import torch\n"], metadata: {}, outputs: [], execution_count: null }], metadata: {}, nbformat: 4, nbformat_minor: 5 }));
  put(root, "configs/train.yaml", "optimizer:\n  lr: 0.001\nepochs: 3\n");
  put(root, "requirements.txt", "torch\nsafetensors\n");
  put(root, ".git/hooks/pre-commit.sample", "#!/bin/sh\nexit 0\n", 0o755);
  put(root, ".git/HEAD", "ref: refs/heads/main\n");
  put(root, "node_modules/tool/bin/cli.js", "#!/usr/bin/env node\nconsole.log('hi')\n", 0o755);
  put(root, ".venv/bin/activate", "#!/bin/bash\n# venv\n", 0o755);
  put(root, ".venv/lib/python3.11/site-packages/pkg/_native.so", ELF);
  copyFileSync(EVIL_PICKLE, join(root, ".venv/lib/python3.11/site-packages/pkg/cache.pkl"));
  return root;
}

function json(stdout: string): ScanReport {
  return JSON.parse(stdout) as ScanReport;
}

describe("repository scans that pass clean repositories", () => {
  it("a typical ML project passes (exit 0): scripts are low, dependency and VCS folders are excluded and counted", () => {
    const root = mlProject();
    const r = modelgate(root, "scan", ".", "--format", "json");
    assert.equal(r.status, ExitCode.Pass, r.stderr);
    const report = json(r.stdout);
    assert.equal(report.verdict, "pass");
    const script = report.files.find((f) => f.path === "scripts/train.sh");
    assert.deepEqual(script?.findings.map((f) => [f.rule, f.severity]), [["MG272", "low"]]);
    assert.equal(report.files.find((f) => f.path === "model/model.safetensors")?.format, "safetensors");
    assert.deepEqual(
      report.excluded?.map((e) => [e.path, e.by, e.folder]),
      [[".git", "default", true], [".venv", "default", true], ["node_modules", "default", true]],
    );
    assert.equal(report.summary.pathsExcluded, 3);
    assert.ok(!report.files.some((f) => f.path.startsWith(".venv") || f.path.startsWith("node_modules") || f.path.startsWith(".git")));
    assert.match(r.stderr, /excluded {2}3 paths \(3 default; --show-skipped lists them\)/);
  });

  it("a malicious pickle inside the project still blocks", () => {
    const root = mlProject();
    copyFileSync(EVIL_PICKLE, join(root, "model/extra.pt"));
    const r = modelgate(root, "scan", ".");
    assert.equal(r.status, ExitCode.Blocked);
    assert.match(r.stdout, /model\/extra\.pt .*BLOCK/);
    assert.match(r.stdout, /BLOCK {2}1 file blocked: 1 by fail_on: findings at or above medium \(from the default\)/);
  });

  it("--no-default-excludes walks the virtual env, where the pickle blocks", () => {
    const root = mlProject();
    const r = modelgate(root, "scan", ".", "--no-default-excludes", "--format", "json");
    assert.equal(r.status, ExitCode.Blocked);
    const report = json(r.stdout);
    assert.equal(report.files.find((f) => f.path === ".venv/lib/python3.11/site-packages/pkg/cache.pkl")?.verdict, "block");
    assert.equal(report.summary.pathsExcluded, 0);
  });

  it(".modelgateignore and --exclude leave paths out (gitignore syntax), --include keeps only matching files; all are counted", () => {
    const root = mlProject();
    copyFileSync(EVIL_PICKLE, join(root, "model/extra.pt"));
    put(root, ".modelgateignore", "# reviewed\nmodel/extra.pt\n");
    const ignored = modelgate(root, "scan", ".", "--format", "json");
    assert.equal(ignored.status, ExitCode.Pass, ignored.stderr);
    assert.deepEqual(json(ignored.stdout).excluded?.find((e) => e.path === "model/extra.pt"), { path: "model/extra.pt", by: ".modelgateignore" });
    // A pipeline that scans untrusted content from inside it turns the ignore file off.
    const untrusted = modelgate(root, "scan", ".", "--no-ignore-file", "--format", "json");
    assert.equal(untrusted.status, ExitCode.Blocked, untrusted.stderr);
    assert.equal(json(untrusted.stdout).files.find((f) => f.path === "model/extra.pt")?.verdict, "block");

    rmSync(join(root, ".modelgateignore"));
    const excluded = modelgate(root, "scan", ".", "--exclude", "*.pt", "--exclude", "notebooks/", "--format", "json");
    assert.equal(excluded.status, ExitCode.Pass, excluded.stderr);
    const report = json(excluded.stdout);
    assert.deepEqual(report.excluded?.filter((e) => e.by === "--exclude").map((e) => e.path), ["notebooks", "model/extra.pt"]);

    const included = modelgate(root, "scan", ".", "--include", "*.safetensors", "--format", "json");
    assert.equal(included.status, ExitCode.Pass, included.stderr);
    assert.deepEqual(json(included.stdout).files.map((f) => f.path), ["model/model.safetensors"]);

    // A file named on the command line is always scanned: exclusions govern folder walks.
    put(root, ".modelgateignore", "model/extra.pt\n");
    assert.equal(modelgate(root, "scan", "model/extra.pt").status, ExitCode.Blocked);
  });

  it("a downloaded model's own .modelgateignore is not read: scanned from the project, its payload blocks", () => {
    const root = mlProject();
    put(root, ".modelgateignore", "notebooks/\n");
    put(root, "downloads/m/.modelgateignore", "*.bin\n.modelgateignore\n");
    copyFileSync(EVIL_PICKLE, join(root, "downloads/m/pytorch_model.bin"));
    for (const target of ["downloads/m", "."]) {
      const r = modelgate(root, "scan", target, "--format", "json");
      assert.equal(r.status, ExitCode.Blocked, `${target}: ${r.stderr}`);
      const report = json(r.stdout);
      assert.equal(report.files.find((f) => f.path === "downloads/m/pytorch_model.bin")?.verdict, "block");
      assert.ok(!report.excluded?.some((e) => e.path.startsWith("downloads")), target);
    }
    // The project's own ignore file still applies to the whole project.
    const whole = json(modelgate(root, "scan", ".", "--format", "json").stdout);
    assert.deepEqual(whole.excluded?.find((e) => e.by === ".modelgateignore"), { path: "notebooks", by: ".modelgateignore", folder: true });
  });

  it("a file the project's ignore file leaves out, but a downloaded model's shard index loads, blocks the index", () => {
    const root = mlProject();
    put(root, ".modelgateignore", "*.tmp\n");
    cpSync(join(ROOT, "test/fixtures/convert/sharded"), join(root, "downloads/m"), { recursive: true });
    const indexPath = join(root, "downloads/m/pytorch_model.bin.index.json");
    const index = JSON.parse(readFileSync(indexPath, "utf8")) as { weight_map: Record<string, string> };
    index.weight_map["head.bias"] = "payload.tmp";
    writeFileSync(indexPath, JSON.stringify(index));
    copyFileSync(EVIL_PICKLE, join(root, "downloads/m/payload.tmp"));
    const r = modelgate(root, "scan", "downloads/m", "--format", "json");
    assert.equal(r.status, ExitCode.Blocked, r.stderr);
    const finding = json(r.stdout).files.find((f) => f.path === "downloads/m/pytorch_model.bin.index.json")?.findings.find((f) => f.rule === "MG285");
    assert.match(finding?.message ?? "", /"payload\.tmp" is left out of the scan by \.modelgateignore/);
  });

  it("a native module that auto_map makes loaders import is high, and blocks", async () => {
    const root = mkdtempSync(join(tmpdir(), "modelgate-automap-"));
    dirs.push(root);
    put(root, "config.json", JSON.stringify({ model_type: "x", auto_map: { AutoModel: "modeling_x.XModel" } }));
    put(root, "modeling_x.cpython-311-x86_64-linux-gnu.so", ELF);
    put(root, "tools/helper.so", ELF);
    const report = await scanPaths([root]);
    const byName = (suffix: string) => report.files.find((f) => f.path.endsWith(suffix))!;
    assert.deepEqual(byName("modeling_x.cpython-311-x86_64-linux-gnu.so").findings.find((f) => f.rule === "MG272")?.severity, "high");
    assert.equal(byName("modeling_x.cpython-311-x86_64-linux-gnu.so").verdict, "block");
    assert.equal(byName("tools/helper.so").findings.find((f) => f.rule === "MG272")?.severity, "low");
    assert.equal(byName("tools/helper.so").verdict, "pass");
  });

  it("`modelgate scan .` on this repository, node_modules installed, exits 0", () => {
    const r = modelgate(ROOT, "scan", ".", "--no-progress");
    assert.equal(r.status, ExitCode.Pass, r.stdout.slice(-3000));
    assert.match(r.stdout, /excluded {2}\d+ paths \(.*\.modelgateignore/);
  });
});

describe("command line fixes", () => {
  const work = (): string => {
    const d = mkdtempSync(join(tmpdir(), "modelgate-cli-"));
    dirs.push(d);
    return d;
  };

  it("init into a folder that does not exist creates it", () => {
    const d = work();
    const r = modelgate(d, "init", "conf/new/modelgate.yml");
    assert.equal(r.status, ExitCode.Pass, r.stderr);
    assert.match(readFileSync(join(d, "conf/new/modelgate.yml"), "utf8"), /^# modelgate policy/);
  });

  it("quarantine purge --all on an empty or missing quarantine is not an error", () => {
    const d = work();
    const r = modelgate(d, "quarantine", "purge", "--all", "--dir", "q");
    assert.equal(r.status, ExitCode.Pass, r.stderr);
    assert.match(r.stdout, /the quarantine is empty/);
    assert.equal(modelgate(d, "quarantine", "purge", "--dir", "q").status, ExitCode.Usage);
  });

  it("purge removes the .quarantined.partial copies interrupted moves left", () => {
    const d = work();
    put(d, "q/0123abcd.quarantined.partial", "half a copy");
    const r = modelgate(d, "quarantine", "purge", "--all", "--dir", "q");
    assert.equal(r.status, ExitCode.Pass, r.stderr);
    assert.match(r.stdout, /removed .*0123abcd\.quarantined\.partial \(left by an interrupted move\)/);
    assert.deepEqual(readdirSync(join(d, "q")), []);
  });

  it("scan of a FIFO given directly does not hang: it is not a regular file (exit 4)", () => {
    const d = work();
    const made = spawnSync("mkfifo", [join(d, "pipe.pt")]);
    assert.equal(made.status, 0, "mkfifo is part of coreutils");
    const r = spawnSync(process.execPath, [MAIN, "scan", join(d, "pipe.pt")], { encoding: "utf8", timeout: WATCHDOG_MS });
    assert.equal(r.status, ExitCode.Usage, r.stderr);
    assert.match(r.stderr, /is not a regular file or a folder/);
  });

  it("lock . then verify passes when the lock file is inside the locked folder, also after locking again", () => {
    const d = work();
    cpSync(join(ROOT, "test/fixtures/repos/benign_model"), d, { recursive: true });
    for (let round = 0; round < 2; round++) {
      assert.equal(modelgate(d, "lock", ".").status, ExitCode.Pass);
      const v = modelgate(d, "verify");
      assert.equal(v.status, ExitCode.Pass, v.stdout + v.stderr);
    }
    put(d, "extra.safetensors", readFileSync(join(d, "model.safetensors")));
    assert.equal(modelgate(d, "verify").status, ExitCode.Blocked);
  });

  it("a usage error points to the --help of its own command", () => {
    const d = work();
    assert.match(modelgate(d, "lock", "--frobnicate", ".").stderr, /\(see modelgate lock --help\)/);
    assert.match(modelgate(d, "quarantine", "purge", "--frobnicate").stderr, /\(see modelgate quarantine purge --help\)/);
    assert.match(modelgate(d, "scan", "--frobnicate", ".").stderr, /\(see modelgate scan --help\)/);
  });

  it("--fail-on none reports findings and exits 0; an unreadable file still fails", () => {
    const d = work();
    copyFileSync(EVIL_PICKLE, join(d, "evil.pkl"));
    const r = modelgate(d, "scan", "evil.pkl", "--fail-on", "none", "--format", "json");
    assert.equal(r.status, ExitCode.Pass, r.stderr);
    const report = json(r.stdout);
    assert.equal(report.failOn, "none");
    assert.ok(report.files[0]!.findings.some((f) => f.severity === "critical"));
    assert.match(r.stderr, /PASS {3}findings do not block \(fail_on none, from --fail-on\)/);
  });

  it("--allow-no-models (the pre-commit hook's flag) passes when no staged file is a model; a model still blocks", () => {
    const d = work();
    put(d, "data.bin", "not a model, only named like one\n");
    assert.equal(modelgate(d, "scan", "data.bin").status, ExitCode.NoModelFiles);
    assert.equal(modelgate(d, "scan", "data.bin", "--allow-no-models").status, ExitCode.Pass);
    copyFileSync(EVIL_PICKLE, join(d, "evil.bin"));
    assert.equal(modelgate(d, "scan", "data.bin", "evil.bin", "--allow-no-models").status, ExitCode.Blocked);
    assert.match(readFileSync(join(ROOT, ".pre-commit-hooks.yaml"), "utf8"), /entry: modelgate scan --no-progress --allow-no-models\n/);
  });

  it("`rules ID` explains a rule: meaning, why, what to do; `rules` lists them all", () => {
    const d = work();
    const one = modelgate(d, "rules", "mg272");
    assert.equal(one.status, ExitCode.Pass);
    assert.match(one.stdout, /^MG272 repo-executable \(default severity: low\)\n\nThe repository ships .*\n\nWhat to do: .+\n\nReference: https:/);
    const all = modelgate(d, "rules");
    assert.equal(all.stdout.trim().split("\n").length, RULE_IDS.length);
    assert.equal(modelgate(d, "rules", "MG999").status, ExitCode.Usage);
    // Every rule has its own what-to-do text, and the text report prints it under each finding.
    for (const id of RULE_IDS) assert.ok(REMEDIES[id].length > 20, id);
    copyFileSync(EVIL_PICKLE, join(d, "evil.pkl"));
    assert.match(modelgate(d, "scan", "evil.pkl").stdout, /MG100 .*\n(?: {4}.*\n)* {4}what to do: Do not load the file/);
  });
});
