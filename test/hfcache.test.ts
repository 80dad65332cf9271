/** The local Hugging Face cache: files named as people know them, each blob scanned once. */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { scanPaths, UsageError } from "../src/engine.js";
import { defaultCacheDir } from "../src/remote/hfCache.js";

const ROOT = join(import.meta.dirname, "..", "..");
const OLD = "a".repeat(40);
const NEW = "b".repeat(40);

let cache: string;
before(async () => {
  cache = await mkdtemp(join(tmpdir(), "modelgate-hfcache-"));
  const repo = join(cache, "models--acme--tiny");
  await mkdir(join(repo, "blobs"), { recursive: true });
  await mkdir(join(repo, "refs"));
  await writeFile(join(repo, "refs", "main"), NEW);
  const blob = async (name: string, bytes: Uint8Array): Promise<void> => writeFile(join(repo, "blobs", name), bytes);
  await blob("shell", await readFile(join(ROOT, "examples", "malicious_model.bin")));
  await blob("config-old", Buffer.from('{"model_type": "x"}'));
  await blob("config-new", await readFile(join(ROOT, "test", "fixtures", "repos", "remote_code", "config.json")));
  for (const [commit, config] of [[OLD, "config-old"], [NEW, "config-new"]] as const) {
    const snap = join(repo, "snapshots", commit);
    await mkdir(join(snap, "sub"), { recursive: true });
    // Both snapshots link the same weights blob, as the cache does when a file did not change.
    await symlink(join("..", "..", "..", "blobs", "shell"), join(snap, "sub", "pytorch_model.bin"));
    await symlink(join("..", "..", "blobs", config), join(snap, "config.json"));
  }
  await symlink("/etc/hostname", join(repo, "snapshots", NEW, "leak.txt"));
  const data = join(cache, "datasets--acme--set");
  await mkdir(join(data, "snapshots", OLD), { recursive: true });
  await writeFile(join(data, "snapshots", OLD, "arr.npy"), await readFile(join(ROOT, "examples", "safe_array.npy")));
});
after(() => rm(cache, { recursive: true, force: true }));

test("cache files are reported by repository, commit and path; a blob that two snapshots link is scanned once", async () => {
  const report = await scanPaths([], { hfCache: cache });
  const paths = report.files.map((f) => f.path).sort();
  assert.deepEqual(paths, [
    `hf-cache://acme/tiny@${OLD}/config.json`,
    `hf-cache://acme/tiny@${OLD}/sub/pytorch_model.bin`,
    `hf-cache://acme/tiny@${NEW}/config.json`,
    `hf-cache://acme/tiny@${NEW}/leak.txt`,
    `hf-cache://datasets/acme/set@${OLD}/arr.npy`,
  ]);
  const weights = report.files.find((f) => f.path.endsWith("pytorch_model.bin"))!;
  assert.ok(weights.findings.some((f) => f.rule === "MG100" && f.severity === "critical"));
  assert.deepEqual(weights.source, { kind: "hf-cache", repo: "acme/tiny", commit: OLD, file: "sub/pytorch_model.bin", alsoAt: [`hf-cache://acme/tiny@${NEW}/sub/pytorch_model.bin`] });
  const newConfig = report.files.find((f) => f.path === `hf-cache://acme/tiny@${NEW}/config.json`)!;
  assert.equal(newConfig.source?.revision, "main");
  assert.ok(newConfig.findings.some((f) => f.rule === "MG270"), "repository checks run per snapshot");
  const leak = report.files.find((f) => f.path.endsWith("leak.txt"))!;
  assert.deepEqual(leak.findings.map((f) => f.rule), ["MG273"]);
  assert.equal(leak.bytesRead, 0);
  const arr = report.files.find((f) => f.path.endsWith("arr.npy"))!;
  assert.equal(arr.source?.repo, "datasets/acme/set");
  assert.equal(arr.verdict, "pass");
  assert.equal(report.verdict, "block");
});

test("the default cache folder follows HF_HUB_CACHE, then HF_HOME", () => {
  assert.equal(defaultCacheDir({ HF_HUB_CACHE: "/c/hub-cache", HF_HOME: "/h" }), "/c/hub-cache");
  assert.equal(defaultCacheDir({ HF_HOME: "/h" }), join("/h", "hub"));
  assert.match(defaultCacheDir({}), /[\\/]\.cache[\\/]huggingface[\\/]hub$/);
});

test("a cache folder that does not exist is a usage error", async () => {
  await assert.rejects(scanPaths([], { hfCache: join(cache, "missing") }), UsageError);
});
