/** Pinning: the lock records every file; verify names each changed, missing or new one. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { ExitCode } from "../src/cli/exitCode.js";
import { hashFiles } from "../src/cli/gate.js";
import { scanPaths } from "../src/engine.js";
import { applyPolicy, buildLock, defaultPolicy, verifyLock, type HubLookup, type LockFile } from "../src/policy/index.js";
import { hubServer } from "./support/http.js";
import { assemble, OP } from "./support/pickle.js";
import { MAIN } from "./support/cli.js";
import { tempFolders } from "./support/tempFolders.js";

const tempFolder = tempFolders("modelgate-lock-");

async function lockedFolder(): Promise<{ root: string; lock: LockFile }> {
  const root = await tempFolder();
  await mkdir(join(root, "models", "sub"), { recursive: true });
  await writeFile(join(root, "models", "a.pkl"), assemble(OP.PROTO, 2, OP.EMPTY_DICT, OP.STOP));
  await writeFile(join(root, "models", "sub", "b.pkl"), assemble(OP.PROTO, 2, OP.EMPTY_LIST, OP.STOP));
  await writeFile(join(root, "models", "notes.txt"), "not a model\n");
  const report = applyPolicy(await scanPaths([join(root, "models")]), defaultPolicy());
  await hashFiles(report);
  return { root, lock: buildLock(report, [join(root, "models")], root, new Date("2026-01-01T00:00:00Z")) };
}

describe("lock and verify", () => {
  it("records path, size, sha256, format, verdict and versions for every file", async () => {
    const { lock } = await lockedFolder();
    assert.equal(lock.schema, "modelgate.lock/v1");
    assert.deepEqual(lock.targets, ["models"]);
    assert.deepEqual(lock.files.map((f) => [f.path, f.format, f.verdict]), [
      ["models/a.pkl", "pickle", "pass"],
      ["models/notes.txt", "unknown", "pass"],
      ["models/sub/b.pkl", "pickle", "pass"],
    ]);
    for (const f of lock.files) assert.match(f.sha256, /^[0-9a-f]{64}$/);
    assert.ok(lock.tool.rulesVersion.length > 0);
  });

  it("passes an untouched tree and catches a tampered, a missing and a new file", async () => {
    const { root, lock } = await lockedFolder();
    assert.deepEqual(await verifyLock(lock, root), []);
    await appendFile(join(root, "models", "a.pkl"), "\x80\x02cposix\nsystem\n.");
    await rm(join(root, "models", "sub", "b.pkl"));
    await writeFile(join(root, "models", "sub", "c.pt"), "new");
    const problems = await verifyLock(lock, root);
    assert.deepEqual(problems.map((p) => [p.kind, p.file]).sort(), [
      ["changed", "models/a.pkl"],
      ["missing", "models/sub/b.pkl"],
      ["new", "models/sub/c.pt"],
    ]);
  });

  it("leaves out what the lock's walk left out and nothing more: an ignore file added since hides no new file", async () => {
    const root = await tempFolder();
    await mkdir(join(root, "models", "fixtures"), { recursive: true });
    await writeFile(join(root, "models", "a.pkl"), assemble(OP.PROTO, 2, OP.EMPTY_DICT, OP.STOP));
    await writeFile(join(root, "models", "fixtures", "evil.pkl"), "\x80\x02cposix\nsystem\n.");
    await writeFile(join(root, ".modelgateignore"), "models/fixtures/\n");
    // Run as users run it, from the folder whose ignore file applies.
    const cli = (...args: string[]) =>
      promisify(execFile)(process.execPath, [MAIN, ...args], { cwd: root, env: { ...process.env, NO_COLOR: "1" } }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
    const locked = await cli("lock", "models");
    assert.equal(locked.code, ExitCode.Pass, locked.stderr);
    const lock = JSON.parse(await readFile(join(root, "modelgate.lock"), "utf8")) as LockFile;
    assert.deepEqual(lock.excluded, ["models/fixtures/"]);
    assert.deepEqual(lock.files.map((f) => f.path), ["models/a.pkl"]);
    assert.equal((await cli("verify")).code, ExitCode.Pass);

    await writeFile(join(root, ".modelgateignore"), "models/fixtures/\n*.bin\n.modelgateignore\n");
    await writeFile(join(root, "models", ".modelgateignore"), "*\n");
    await writeFile(join(root, "models", "b.bin"), "new");
    const verified = await cli("verify");
    assert.equal(verified.code, ExitCode.Blocked, verified.stdout);
    assert.match(verified.stdout, /models\/\.modelgateignore/);
    assert.match(verified.stdout, /models\/b\.bin/);
    assert.doesNotMatch(verified.stdout, /fixtures/);
  });

  it("reports every file of a vanished target as missing", async () => {
    const { root, lock } = await lockedFolder();
    await rm(join(root, "models"), { recursive: true });
    assert.deepEqual((await verifyLock(lock, root)).map((p) => p.kind), ["missing", "missing", "missing"]);
  });

  it("checks hub files against the hub's published sha256, and says when it cannot", async () => {
    const sha = "a".repeat(64);
    const lock: LockFile = {
      schema: "modelgate.lock/v1",
      tool: { name: "modelgate", version: "0.1.0", rulesVersion: "1" },
      created: "2026-01-01T00:00:00Z",
      policy: null,
      targets: ["hf://org/model@abc"],
      files: [
        { repo: "org/model", revision: "abc", path: "model.safetensors", size: 10, sha256: sha, format: "safetensors", verdict: "pass" },
        { repo: "org/model", revision: "abc", path: "config.json", size: 5, sha256: "b".repeat(64), format: "unknown", verdict: "pass" },
      ],
    };
    assert.deepEqual((await verifyLock(lock, "/")).map((p) => p.kind), ["unverifiable", "unverifiable"]);
    const hub: HubLookup = {
      file: async (_repo, _rev, path) => (path === "model.safetensors" ? { size: 10, sha256: "c".repeat(64) } : { size: 5 }),
      list: async () => ["config.json", "model.safetensors", "extra.bin"],
    };
    assert.deepEqual((await verifyLock(lock, "/", hub)).map((p) => [p.kind, p.file]), [
      ["changed", "hf://org/model@abc/model.safetensors"],
      ["new", "hf://org/model@abc/extra.bin"],
    ]);
  });
});

describe("lock and verify of a hub repository", () => {
  const cli = (cwd: string, endpoint: string, ...args: string[]) =>
    promisify(execFile)(process.execPath, [MAIN, ...args], { cwd, env: { ...process.env, NO_COLOR: "1", HF_ENDPOINT: endpoint } }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
  const weights = assemble(OP.PROTO, 2, OP.EMPTY_DICT, OP.STOP);
  const config = Buffer.from('{"model_type": "tiny"}');

  it("pins LFS files by the hub's sha256 and git files by their bytes; verify catches content the hub changed", async () => {
    const dir = await mkdtemp(join(tmpdir(), "modelgate-hublock-"));
    const original = await hubServer([{ id: "acme/tiny", files: { "model.pkl": weights, "config.json": config }, lfs: ["model.pkl"] }]);
    const tampered = await hubServer([{ id: "acme/tiny", files: { "model.pkl": assemble(OP.PROTO, 2, OP.EMPTY_LIST, OP.STOP), "config.json": config }, lfs: ["model.pkl"] }]);
    try {
      const locked = await cli(dir, original.origin, "lock", "hf://acme/tiny");
      assert.equal(locked.code, ExitCode.Pass, locked.stderr);
      const lock = JSON.parse(await readFile(join(dir, "modelgate.lock"), "utf8")) as LockFile;
      const byPath = new Map(lock.files.map((f) => [(f as { path: string }).path, f]));
      assert.equal(byPath.get("model.pkl")?.sha256, createHash("sha256").update(weights).digest("hex"));
      assert.equal(byPath.get("config.json")?.sha256, createHash("sha256").update(config).digest("hex"));

      const same = await cli(dir, original.origin, "verify");
      assert.equal(same.code, ExitCode.Pass, same.stdout + same.stderr);
      const changed = await cli(dir, tampered.origin, "verify");
      assert.equal(changed.code, ExitCode.Blocked, changed.stdout + changed.stderr);
      assert.match(changed.stdout, /changed\s+hf:\/\/acme\/tiny@[0-9a-f]{40}\/model\.pkl/);
      assert.doesNotMatch(changed.stdout, /config\.json/);
    } finally {
      await original.close();
      await tampered.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
