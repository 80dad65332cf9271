/** The policy file: schema errors with line numbers, decisions with the rule that made them, trust, ignores, callables. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { STARTER_POLICY } from "../src/cli/init.js";
import { scanFile } from "../src/engine.js";
import { renderSarif } from "../src/report/sarif.js";
import { renderText } from "../src/report/text.js";
import { applyPolicy, decideFile, globMatch, isTrusted, parsePolicy, PolicyError, type Policy } from "../src/policy/index.js";
import type { FileOrigin, FileResult, Finding } from "../src/types.js";
import { assemble, call1, global, OP } from "./support/pickle.js";
import { reportOf } from "./support/report.js";
import { tempFolders } from "./support/tempFolders.js";

function errorsOf(text: string): string[] {
  try {
    parsePolicy(text, "modelgate.yml");
  } catch (err) {
    assert.ok(err instanceof PolicyError);
    return err.errors;
  }
  assert.fail("the policy was accepted");
}

function finding(rule: Finding["rule"], severity: Finding["severity"], path: string): Finding {
  return { rule, severity, message: `${rule} seen`, location: { path } };
}

function file(path: string, overrides: Partial<FileResult> = {}): FileResult {
  return { path, format: "pickle", size: 10, verdict: "pass", findings: [], bytesRead: 10, ...overrides };
}


const NOW = new Date("2026-06-15T12:00:00Z");
const NO_FACTS = { safetensorsFolders: new Set<string>() };

describe("policy schema", () => {
  it("names the line of a bad value, an unknown key, an unknown rule and a bad date, all at once", () => {
    const errors = errorsOf(
      [
        "version: 1", // 1
        "formats:", // 2
        "  block: [pickle-based]", // 3
        "extensions:", // 4
        "  block: [.pkl]", // 5
        "", // 6
        "fail_on: severe", // 7
        "sources:", // 8
        "  trusted: [hf://org]", // 9
        "  untrusted: maybe", // 10
        "ignore:", // 11
        "  - rule: MG999", // 12
        "    reason: legacy", // 13
        "    expires: 2026-13-01", // 14
        "colour: blue", // 15
      ].join("\n"),
    );
    assert.deepEqual(errors, [
      'modelgate.yml:15: unknown key "colour" in the policy (known: version, fail_on, formats, extensions, require_safetensors, sources, callables, ignore, audit_log, quarantine, clamav, signatures)',
      "modelgate.yml:7: fail_on must be one of critical, high, medium, low, none",
      "modelgate.yml:10: sources.untrusted must be one of block, warn, scan",
      'modelgate.yml:12: ignore: unknown rule "MG999"',
      "modelgate.yml:14: ignore expires must be a date such as 2026-12-31",
    ]);
  });

  it("reports YAML syntax errors with their line", () => {
    const [error] = errorsOf("fail_on: high\nformats:\n  block: [pickle\n");
    assert.match(error!, /^modelgate\.yml:\d+: /);
  });

  it("refuses to allow what the built-in rules deny, and unknown formats", () => {
    const errors = errorsOf("callables:\n  allow:\n    - mylib.models.Net\n    - os.system\nformats:\n  allow: [safetensors, safetensor]\n");
    assert.equal(errors.length, 2);
    assert.match(errors[0]!, /^modelgate\.yml:6: unknown format "safetensor" in formats\.allow \(known: pickle-based, pickle, /);
    assert.equal(errors[1], "modelgate.yml:4: callables.allow: os.system is denied by the built-in rules and cannot be allowed");
  });

  it("requires a reason and an expiry for every ignore", () => {
    assert.deepEqual(errorsOf("ignore:\n  - rule: MG101\n    path: a/**\n"), [
      "modelgate.yml:2: an ignore entry needs reason",
      "modelgate.yml:2: an ignore entry needs expires",
    ]);
  });

  it("accepts the starter policy that init writes, and it changes nothing by default", () => {
    const policy = parsePolicy(STARTER_POLICY, "modelgate.yml", "/srv/modelgate.yml");
    assert.equal(policy.failOn, "medium");
    assert.equal(policy.formats.block.size, 0);
    assert.equal(policy.sources.untrusted, "scan");
    assert.match(policy.sha256 ?? "", /^[0-9a-f]{64}$/);
  });

  it("accepts the README's example: every pickle-based format blocked, two hub orgs trusted", () => {
    const readme = readFileSync(join(import.meta.dirname, "..", "..", "README.md"), "utf8");
    const example = /```yaml\n(# modelgate\.yml[\s\S]*?)```/.exec(readme);
    assert.ok(example, "README has a modelgate.yml example");
    const policy = parsePolicy(example[1]!, "README.md", "/repo/modelgate.yml");
    for (const f of ["pickle", "pytorch-zip", "pytorch-legacy", "torchscript"] as const) assert.ok(policy.formats.block.has(f), f);
    assert.equal(policy.sources.trusted.filter((t) => t.kind === "hub" && t.repo === undefined).length, 2);
    assert.equal(policy.auditLog, "/repo/modelgate-audit.jsonl");
  });
});

describe("decisions", () => {
  const policy = parsePolicy(
    [
      "fail_on: high",
      "formats:",
      "  block: [pickle-based]",
      "extensions:",
      "  block: [.bin, NPY]",
      "ignore:",
      "  - rule: MG101",
      "    path: legacy/**",
      "    reason: reviewed in SEC-1",
      "    expires: 2026-12-31",
      "  - rule: MG100",
      "    path: old/*.onnx",
      "    reason: reviewed long ago",
      "    expires: 2026-01-31",
    ].join("\n"),
    "modelgate.yml",
  );

  it("names the policy rule that decided each verdict", () => {
    const decided = applyPolicy(
      reportOf([
        file("models/a.bin", { format: "safetensors" }),
        file("models/b.pt", { format: "pytorch-zip" }),
        file("models/c.npy", { format: "numpy" }),
        file("models/d.onnx", { format: "onnx", findings: [finding("MG200", "high", "models/d.onnx")] }),
        file("models/e.onnx", { format: "onnx", findings: [finding("MG201", "medium", "models/e.onnx")] }),
        file("models/f.onnx", { format: "onnx", error: "EACCES", verdict: "block" }),
      ]),
      policy,
      { now: NOW },
    );
    assert.deepEqual(
      decided.files.map((f) => [f.path, f.verdict, f.decision?.rule]),
      [
        ["models/a.bin", "block", "extensions.block"],
        ["models/b.pt", "block", "formats.block"],
        ["models/c.npy", "block", "extensions.block"],
        ["models/d.onnx", "block", "fail_on"],
        ["models/e.onnx", "pass", "fail_on"],
        ["models/f.onnx", "block", "error"],
      ],
    );
    assert.equal(decided.verdict, "block");
    assert.equal(decided.failOn, "high");
    assert.equal(decided.summary.filesBlocked, 4);
    assert.equal(decided.policy?.sha256, policy.sha256);
  });

  it("sets live ignores aside once, for the verdict and the counts alike", () => {
    const decided = applyPolicy(
      reportOf([file("legacy/x/m.onnx", { format: "onnx", findings: [finding("MG101", "high", "legacy/x/m.onnx"), finding("MG102", "low", "legacy/x/m.onnx")] })]),
      policy,
      { now: NOW },
    );
    const [f] = decided.files;
    assert.equal(f!.verdict, "pass");
    assert.deepEqual(f!.findings.map((x) => x.rule), ["MG102"]);
    assert.deepEqual(f!.suppressed?.map((x) => [x.rule, x.ignore.reason]), [["MG101", "reviewed in SEC-1"]]);
    assert.deepEqual(decided.summary.findings, { critical: 0, high: 0, medium: 0, low: 1, info: 0 });
  });

  it("stops applying an expired ignore and reports it", () => {
    const decided = applyPolicy(reportOf([file("old/m.onnx", { format: "onnx", findings: [finding("MG100", "critical", "old/m.onnx")] })]), policy, { now: NOW });
    const [f] = decided.files;
    assert.equal(f!.verdict, "block");
    assert.equal(f!.suppressed, undefined);
    assert.deepEqual(f!.decision?.notes, ["the ignore of MG100 (policy line 11) expired on 2026-01-31"]);
    assert.deepEqual(decided.policy?.expiredIgnores, [{ rule: "MG100", path: "old/*.onnx", reason: "reviewed long ago", expires: "2026-01-31", line: 11 }]);
    // On its last day an ignore still applies.
    const lastDay = applyPolicy(reportOf([file("old/m.onnx", { format: "onnx", findings: [finding("MG100", "critical", "old/m.onnx")] })]), policy, { now: new Date("2026-01-31T23:59:59Z") });
    assert.equal(lastDay.files[0]!.verdict, "pass");
    assert.deepEqual(lastDay.policy?.expiredIgnores, []);
  });

  it("blocks formats outside formats.allow, but not files that are no model format", () => {
    const allow = parsePolicy("formats:\n  allow: [safetensors, gguf]\n", "p.yml");
    const decided = applyPolicy(reportOf([file("a.onnx", { format: "onnx" }), file("b.gguf", { format: "gguf" }), file("README.md", { format: "unknown", skipped: "text" })]), allow);
    assert.deepEqual(decided.files.map((f) => f.decision?.rule + ":" + f.verdict), ["formats.allow:block", "fail_on:pass", "fail_on:pass"]);
  });

  it("requires safetensors when the folder offers them", () => {
    const p = parsePolicy("require_safetensors: true\n", "p.yml");
    const decided = applyPolicy(
      reportOf([file("m/model.safetensors", { format: "safetensors" }), file("m/pytorch_model.bin", { format: "pytorch-zip" }), file("n/other.bin", { format: "pytorch-zip" })]),
      p,
    );
    assert.deepEqual(decided.files.map((f) => f.decision?.rule + ":" + f.verdict), ["fail_on:pass", "require_safetensors:block", "fail_on:pass"]);
    // The repository checks' own finding (MG274) counts too, whatever the report holds.
    const noted = decideFile(file("x/w.pt", { findings: [finding("MG274", "info", "x/w.pt")] }), p, NO_FACTS);
    assert.equal(noted.decision?.rule, "require_safetensors");
  });

  it("globs: ** crosses folders, * stays in one, a bare pattern matches base names", () => {
    assert.ok(globMatch("legacy/**", "legacy/a/b/c.pt"));
    assert.ok(globMatch("**/*.pt", "a/b/c.pt"));
    assert.ok(globMatch("**/*.pt", "c.pt"));
    assert.ok(!globMatch("legacy/*", "legacy/a/b.pt"));
    assert.ok(globMatch("*.pkl", "deep/down/x.pkl"));
    assert.ok(!globMatch("a.pkl", "a_pkl"));
  });
});

describe("trusted sources", () => {
  const policy = parsePolicy(
    "sources:\n  trusted:\n    - hf://good-org\n    - hf://partner/model@0123abcd\n    - https://models.example.com\n",
    "p.yml",
  );
  const hub = (repo: string, revision: string, commit: string): FileOrigin => ({ kind: "hub", repo, revision, commit, file: "model.safetensors" });
  const remote = (source: FileOrigin, path = `hf://${source.repo}/model.safetensors`): FileResult => file(path, { format: "safetensors", source });

  it("matches hub orgs, pinned repos and URL prefixes on the file's source", () => {
    const t = policy.sources.trusted;
    assert.equal(isTrusted(remote(hub("good-org/bert", "main", "f".repeat(40))), t), true);
    assert.equal(isTrusted(remote(hub("Good-Org/bert", "main", "f".repeat(40))), t), true);
    assert.equal(isTrusted(remote(hub("partner/model", "v1", "0123abcd")), t), true, "the pin is the resolved commit");
    assert.equal(isTrusted(remote(hub("partner/model", "main", "9".repeat(40))), t), false, "another revision of a pinned repo");
    assert.equal(isTrusted(remote(hub("partner/other", "0123abcd", "0123abcd")), t), false);
    assert.equal(isTrusted(remote(hub("good-org-evil/bert", "main", "a")), t), false);
    assert.equal(isTrusted(remote({ kind: "url", url: "https://models.example.com/a.gguf" }, "https://models.example.com/a.gguf"), t), true);
    assert.equal(isTrusted(remote({ kind: "url", url: "https://models.example.com.evil/a.gguf" }, "https://models.example.com.evil/a.gguf"), t), false);
    assert.equal(isTrusted(file("hf://good-org/x@main/model.bin"), t), true, "an hf:// report path without a source");
    assert.equal(isTrusted(file("models/local.pt"), t), undefined, "local files are not subject to the sources policy");
  });

  it("blocks untrusted sources by default when trusted ones are listed; warn and scan let the findings decide", () => {
    const files = [remote(hub("stranger/m", "main", "1".repeat(40))), remote(hub("good-org/m", "main", "2".repeat(40))), file("local.safetensors", { format: "safetensors" })];
    const blocked = applyPolicy(reportOf(files), policy);
    assert.deepEqual(blocked.files.map((f) => f.decision?.rule + ":" + f.verdict), ["sources.untrusted:block", "fail_on:pass", "fail_on:pass"]);
    assert.match(blocked.files[0]!.decision!.reason, /^hf:\/\/stranger\/m@1{40}\/model\.safetensors is not from a trusted source$/);

    const warned = applyPolicy(reportOf(files), parsePolicy("sources:\n  trusted: [hf://good-org]\n  untrusted: warn\n", "p.yml"));
    assert.equal(warned.files[0]!.verdict, "pass");
    assert.deepEqual(warned.files[0]!.decision?.notes?.length, 1);
    const scanned = applyPolicy(reportOf(files), parsePolicy("sources:\n  trusted: [hf://good-org]\n  untrusted: scan\n", "p.yml"));
    assert.equal(scanned.files[0]!.decision?.notes, undefined);
  });
});

describe("callables from the policy reach the judge", () => {
  const tempFolder = tempFolders("modelgate-policy-");

  async function scanPickle(policy: Policy, body: Buffer): Promise<FileResult> {
    const dir = await tempFolder();
    const path = join(dir, "m.pkl");
    await writeFile(path, assemble(OP.PROTO, 2, body, OP.STOP));
    return scanFile(path, "m.pkl", { callables: policy.callables });
  }

  it("an allowed class of the organisation is not reported; a denied one is, with the policy's reason", async () => {
    const policy = parsePolicy(
      "callables:\n  allow: [acme.models.Net]\n  deny:\n    - name: acme.plugins\n      reason: loads plugins by name\n      severity: critical\n",
      "p.yml",
    );
    const unknownWithout = await scanPickle(parsePolicy("", "p.yml"), call1(global("acme.models", "Net"), "x"));
    assert.deepEqual(unknownWithout.findings.map((f) => f.rule), ["MG101"]);
    const allowed = await scanPickle(policy, call1(global("acme.models", "Net"), "x"));
    assert.deepEqual(allowed.findings, []);
    const denied = await scanPickle(policy, call1(global("acme.plugins.loader", "load"), "x"));
    assert.deepEqual(denied.findings.map((f) => [f.rule, f.severity]), [["MG100", "critical"]]);
    assert.match(denied.findings[0]!.message, /is denied by the policy: loads plugins by name/);
  });
});

describe("renderers show what the policy decided", () => {
  const policy = parsePolicy(
    "extensions:\n  block: [.pt]\nignore:\n  - rule: MG101\n    reason: reviewed in SEC-9\n    expires: 2026-12-31\n  - rule: MG102\n    reason: old\n    expires: 2020-01-01\n",
    "modelgate.yml",
  );
  const decided = applyPolicy(
    reportOf([file("m/w.pt", { format: "pytorch-zip" }), file("m/x.pkl", { findings: [finding("MG101", "medium", "m/x.pkl")] })]),
    policy,
    { now: NOW },
  );

  it("SARIF: a policy block is a result of the policy rule, an ignored finding is suppressed with its reason", () => {
    const run = JSON.parse(renderSarif(decided)).runs[0];
    const policyRule = run.tool.driver.rules.find((r: { id: string }) => r.id === "MGPOLICY");
    assert.match(policyRule.help.text, /policy/);
    assert.match(policyRule.helpUri, /^https:\/\//);
    const [blocked, ignored] = run.results;
    assert.deepEqual([blocked.ruleId, blocked.level, blocked.message.text], ["MGPOLICY", "error", "Blocked by policy rule extensions.block: files named *.pt are blocked."]);
    assert.deepEqual(ignored.suppressions, [{ kind: "external", status: "accepted", justification: "reviewed in SEC-9 (until 2026-12-31)" }]);
    assert.equal(run.properties.policy.expiredIgnores.length, 1);
  });

  it("text: the deciding policy rule, the ignored finding and the expired ignore", () => {
    const text = renderText(decided);
    assert.match(text, /POLICY {2}extensions\.block: files named \*\.pt are blocked/);
    assert.match(text, /ignored {2}MG101 medium: MG101 seen \(reviewed in SEC-9; until 2026-12-31\)/);
    assert.match(text, /expired ignore \(policy line 7\): MG102 expired on 2020-01-01 and no longer applies/);
  });
});
