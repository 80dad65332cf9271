/** The gate through the command line: init, scan with a policy, quarantine and audit log, lock and verify. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { appendFile, mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { assemble, call1, global, OP } from "./support/pickle.js";
import { tempFolders } from "./support/tempFolders.js";

const MAIN = join(import.meta.dirname, "..", "src", "cli", "main.js");

function modelgate(cwd: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const { status, stdout, stderr } = spawnSync(process.execPath, [MAIN, ...args], { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { status, stdout, stderr };
}

const tempFolder = tempFolders("modelgate-gate-");

async function workspace(): Promise<string> {
  const root = await tempFolder();
  await mkdir(join(root, "models"));
  await writeFile(join(root, "models", "evil.pkl"), assemble(OP.PROTO, 2, call1(global("posix", "system"), "echo hi"), OP.STOP));
  await writeFile(join(root, "models", "weights.pt"), assemble(OP.PROTO, 2, OP.EMPTY_DICT, OP.STOP));
  await writeFile(join(root, "models", "clean.pkl"), assemble(OP.PROTO, 2, OP.EMPTY_LIST, OP.STOP));
  return root;
}

describe("gate CLI", () => {
  it("init writes a starter policy once and refuses to overwrite it", async () => {
    const root = await tempFolder();
    assert.equal(modelgate(root, "init").status, 0);
    const first = await readFile(join(root, "modelgate.yml"), "utf8");
    const again = modelgate(root, "init");
    assert.equal(again.status, 4);
    assert.match(again.stderr, /already exists/);
    assert.equal(await readFile(join(root, "modelgate.yml"), "utf8"), first);
  });

  it("rejects a malformed policy with its line number (exit 4)", async () => {
    const root = await workspace();
    await writeFile(join(root, "modelgate.yml"), "version: 1\nfail_on: medium\nextensions:\n  block: .pt\n");
    const r = modelgate(root, "scan", "models");
    assert.equal(r.status, 4);
    assert.match(r.stderr, /modelgate\.yml:4: extensions\.block must be a list/);
  });

  it("decides by policy, quarantines what it blocks and logs every decision", async () => {
    const root = await workspace();
    await writeFile(join(root, "modelgate.yml"), "extensions:\n  block: [.pt]\naudit_log: audit.jsonl\n");
    const r = modelgate(root, "scan", "models", "--format", "json", "--quarantine", "q");
    assert.equal(r.status, 1, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.schema, "modelgate.report/v1");
    assert.match(report.policy.sha256, /^[0-9a-f]{64}$/);
    const byName = Object.fromEntries(report.files.map((f: { path: string }) => [f.path.split("/").pop(), f]));
    assert.deepEqual([byName["evil.pkl"].decision.rule, byName["weights.pt"].decision.rule, byName["clean.pkl"].decision.rule], ["fail_on", "extensions.block", "fail_on"]);
    assert.ok(!existsSync(join(root, "models", "evil.pkl")) && !existsSync(join(root, "models", "weights.pt")));
    assert.ok(existsSync(join(root, "models", "clean.pkl")));
    assert.equal((await readdir(join(root, "q"))).filter((n) => n.endsWith(".json")).length, 2);
    const audit = (await readFile(join(root, "audit.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(audit.map((a) => a.rule).sort(), ["extensions.block", "fail_on", "fail_on"]);
    assert.ok(audit.every((a) => /^[0-9a-f]{64}$/.test(a.sha256)));
    const listed = modelgate(root, "quarantine", "list", "--dir", "q");
    assert.equal(listed.stdout.trim().split("\n").length, 2);
  });

  it("lock pins, verify passes, and a tampered file fails verify naming it", async () => {
    const root = await workspace();
    const refused = modelgate(root, "lock", "models");
    assert.equal(refused.status, 1, "a blocked file is never pinned");
    assert.ok(!existsSync(join(root, "modelgate.lock")));
    await writeFile(join(root, "models", "evil.pkl"), assemble(OP.PROTO, 2, OP.NONE, OP.STOP));
    assert.equal(modelgate(root, "lock", "models").status, 0);
    assert.equal(modelgate(root, "verify").status, 0);
    await appendFile(join(root, "models", "clean.pkl"), "tampered");
    const v = modelgate(root, "verify");
    assert.equal(v.status, 1);
    assert.match(v.stdout, /changed\s+models\/clean\.pkl/);
  });
});
