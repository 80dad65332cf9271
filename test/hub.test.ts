/** Hugging Face repositories scanned remotely against a loopback fake of the hub (API, resolve redirects, CDN). */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { ExitCode } from "../src/cli/exitCode.js";
import { scanPaths, UsageError } from "../src/engine.js";
import { parseHubRepo } from "../src/remote/spec.js";
import type { FileResult, ScanReport } from "../src/types.js";
import { hubServer, type FakeRepo, type HubServer } from "./support/http.js";
import { MAIN } from "./support/cli.js";

const ROOT = join(import.meta.dirname, "..", "..");
const REPOS = join(ROOT, "test", "fixtures", "repos");
const TOKEN = "hf_test_token";

async function folderFiles(folder: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const entry of await readdir(folder, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const abs = join(entry.parentPath, entry.name);
    out[relative(folder, abs).split(sep).join("/")] = await readFile(abs);
  }
  return out;
}

const fixture = (path: string): Promise<Buffer> => readFile(join(ROOT, path));

/** rel path in the repository → findings as comparable strings. */
function findingsByFile(report: ScanReport, prefix: string | RegExp): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of report.files) {
    const rel = f.path.replace(prefix, "");
    out.set(rel, f.findings.map((x) => `${x.rule} ${x.severity} ${x.location.member ?? ""} ${x.message}`).sort());
  }
  return out;
}

let hub: HubServer;
let repoFixtures: string[];
before(async () => {
  repoFixtures = (await readdir(REPOS)).filter((name) => name !== "symlink_escape").sort();
  const repos: FakeRepo[] = [
    {
      id: "acme/mixed",
      files: {
        "config.json": await fixture("test/fixtures/repos/remote_code/config.json"),
        "modeling_x.py": await fixture("test/fixtures/repos/remote_code/modeling_x.py"),
        "pytorch_model.bin": await fixture("test/fixtures/benign/pytorch_model.bin"),
        "model.safetensors": await fixture("examples/safe_weights.safetensors"),
        "extra/reverse_shell.pkl": await fixture("examples/reverse_shell.pkl"),
      },
      security: { "extra/reverse_shell.pkl": { status: "unsafe" }, "model.safetensors": { status: "safe" } },
      refs: { v1: "1111111111111111111111111111111111111111" },
    },
    {
      id: "acme/gated",
      files: { "model.pkl": await fixture("examples/reverse_shell.pkl"), "config.json": Buffer.from("{}") },
      gated: ["model.pkl"],
      token: TOKEN,
    },
    { id: "datasets/acme/data", files: { "data.npy": await fixture("examples/safe_array.npy") } },
    ...(await Promise.all(repoFixtures.map(async (name) => ({ id: `fixtures/${name}`, files: await folderFiles(join(REPOS, name)) })))),
  ];
  hub = await hubServer(repos);
});
after(() => hub.close());

const remote = (extra: Record<string, unknown> = {}) => ({ remote: { endpoint: hub.origin, retryDelayMs: 5, ...extra } });

describe("hf:// repositories", () => {
  test("every file is scanned at the commit the revision resolves to; repository checks run over the remote files", async () => {
    const report = await scanPaths(["hf://acme/mixed"], remote());
    const byPath = new Map(report.files.map((f) => [f.path, f]));
    assert.deepEqual([...byPath.keys()].sort(), [
      "hf://acme/mixed/config.json",
      "hf://acme/mixed/extra/reverse_shell.pkl",
      "hf://acme/mixed/model.safetensors",
      "hf://acme/mixed/modeling_x.py",
      "hf://acme/mixed/pytorch_model.bin",
    ]);
    const shell = byPath.get("hf://acme/mixed/extra/reverse_shell.pkl")!;
    assert.ok(shell.findings.some((f) => f.rule === "MG100" && f.severity === "critical"));
    assert.deepEqual(shell.source, {
      kind: "hub",
      url: `${hub.origin}/acme/mixed/resolve/${hub.commitOf("acme/mixed")}/extra/reverse_shell.pkl`,
      repo: "acme/mixed",
      revision: "main",
      commit: hub.commitOf("acme/mixed"),
      file: "extra/reverse_shell.pkl",
      rangeRequests: true,
      hubSecurityStatus: { status: "unsafe" },
    });
    assert.ok(byPath.get("hf://acme/mixed/config.json")!.findings.some((f) => f.rule === "MG270"));
    assert.deepEqual(byPath.get("hf://acme/mixed/modeling_x.py")!.findings.map((f) => `${f.rule}:${f.severity}`), ["MG271:high"]);
    assert.ok(byPath.get("hf://acme/mixed/pytorch_model.bin")!.findings.some((f) => f.rule === "MG274"), "pickle weights beside safetensors");
    assert.equal(byPath.get("hf://acme/mixed/model.safetensors")!.format, "safetensors");
    assert.equal(report.verdict, "block");
    assert.equal(report.summary.bytesRead, report.files.reduce((n, f) => n + f.bytesRead, 0));
  });

  test("code named under an escaped auto_map key is the loader's code remotely too", async () => {
    const report = await scanPaths(["hf://fixtures/escaped_auto_map"], remote());
    const byPath = new Map(report.files.map((f) => [f.path.replace("hf://fixtures/escaped_auto_map/", ""), f.findings.map((x) => `${x.rule}:${x.severity}`)]));
    assert.deepEqual(byPath.get("my_tok.py"), ["MG271:high"]);
    assert.ok(byPath.get("tokenizer_config.json")?.includes("MG270:high"));
  });

  test("a tag resolves to its commit, and the report names both", async () => {
    const report = await scanPaths(["hf://acme/mixed@v1"], remote());
    for (const f of report.files) {
      assert.ok(f.path.startsWith("hf://acme/mixed@v1/"), f.path);
      assert.equal(f.source?.revision, "v1");
      assert.equal(f.source?.commit, "1111111111111111111111111111111111111111");
    }
  });

  test("the repository checks find the same things remotely as in the folder", async () => {
    for (const name of repoFixtures) {
      const local = findingsByFile(await scanPaths([join(REPOS, name)]), new RegExp(`^.*repos[\\\\/]${name}[\\\\/]`));
      const hubbed = findingsByFile(await scanPaths([`hf://fixtures/${name}`], remote()), `hf://fixtures/${name}/`);
      assert.deepEqual(hubbed, local, name);
    }
  });

  test("a gated file without a token is that file's error (exit 2 material); with HF_TOKEN it is scanned, and the CDN never sees the token", async () => {
    const without = await scanPaths(["hf://acme/gated"], remote());
    const gated = without.files.find((f) => f.path.endsWith("model.pkl"))!;
    assert.match(gated.error ?? "", /HTTP 401.*token/);
    hub.cdn.requests.length = 0;
    hub.requests.length = 0;
    const withToken = await scanPaths(["hf://acme/gated"], remote({ hubToken: TOKEN }));
    const scanned = withToken.files.find((f) => f.path.endsWith("model.pkl"))!;
    assert.equal(scanned.error, undefined);
    assert.ok(scanned.findings.some((f) => f.rule === "MG100"));
    assert.ok(hub.requests.every((r) => r.authorization === `Bearer ${TOKEN}`));
    assert.ok(hub.cdn.requests.length > 0 && hub.cdn.requests.every((r) => r.authorization === undefined));
  });

  test("datasets are repositories too", async () => {
    const report = await scanPaths(["hf://datasets/acme/data"], remote());
    assert.deepEqual(report.files.map((f: FileResult) => [f.path, f.format, f.verdict]), [["hf://datasets/acme/data/data.npy", "numpy", "pass"]]);
    assert.equal(report.files[0]!.source?.repo, "datasets/acme/data");
  });

  test("an unknown repository or revision is a usage error", async () => {
    await assert.rejects(scanPaths(["hf://acme/nothing"], remote()), UsageError);
    await assert.rejects(scanPaths(["hf://acme/mixed@no-such-branch"], remote()), UsageError);
  });

  test("repository ids are parsed as the hub writes them", () => {
    assert.deepEqual(parseHubRepo("org/name@refs/pr/1"), { repo: { type: "model", name: "org/name" }, revision: "refs/pr/1" });
    assert.deepEqual(parseHubRepo("spaces/org/app"), { repo: { type: "space", name: "org/app" }, revision: undefined });
    assert.deepEqual(parseHubRepo("gpt2"), { repo: { type: "model", name: "gpt2" }, revision: undefined });
    for (const bad of ["", "a/b/c", "org/..", "spaces/app", "org/name@", "org/na me"]) assert.throws(() => parseHubRepo(bad), SyntaxError, bad);
  });
});

describe("the command line with --huggingface", () => {
  const cli = (args: string[], env: Record<string, string> = {}) =>
    promisify(execFile)(process.execPath, [MAIN, ...args], { env: { ...process.env, NO_COLOR: "1", HF_ENDPOINT: hub.origin, ...env } }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );

  test("--huggingface owner/name scans the repository, blocks on it, and the JSON names the commit", async () => {
    const r = await cli(["scan", "--huggingface", "acme/mixed", "--format", "json", "--jobs", "2"]);
    assert.equal(r.code, ExitCode.Blocked, r.stderr);
    const report = JSON.parse(r.stdout) as ScanReport;
    assert.equal(report.schema, "modelgate.report/v1");
    assert.ok(report.files.every((f) => f.source?.commit === hub.commitOf("acme/mixed")));
  });

  test("HF_TOKEN opens a gated repository; without it the scan fails with exit 2", async () => {
    const without = await cli(["scan", "hf://acme/gated"], { HF_TOKEN: "" });
    assert.equal(without.code, ExitCode.ScanFailed, without.stderr);
    const withToken = await cli(["scan", "hf://acme/gated"], { HF_TOKEN: TOKEN });
    assert.equal(withToken.code, ExitCode.Blocked, withToken.stderr);
  });

  test("--jobs must be a positive integer; an unknown repository is a usage error", async () => {
    for (const bad of ["0", "-1", "two", "1.5"]) assert.equal((await cli(["scan", "--jobs", bad, "hf://acme/mixed"])).code, ExitCode.Usage, bad);
    const missing = await cli(["scan", "--huggingface", "acme/nothing"]);
    assert.equal(missing.code, ExitCode.Usage);
    assert.match(missing.stderr, /acme\/nothing@main: repository or revision not found/);
  });
});
