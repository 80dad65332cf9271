/** Renderers on hand-built reports: no engine involved. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeLocation, printable } from "../src/report/humanize.js";
import { formatBytes } from "../src/units.js";
import { renderJson } from "../src/report/json.js";
import { artifactUri, renderSarif } from "../src/report/sarif.js";
import { renderText } from "../src/report/text.js";
import { RULE_IDS } from "../src/rules/catalogue.js";
import Ajv04 from "ajv-draft-04";
import ajvFormats from "ajv-formats";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { REPORT_SCHEMA, type FileResult, type ScanReport } from "../src/types.js";

function fileResult(overrides: Partial<FileResult> & Pick<FileResult, "path">): FileResult {
  return { format: "pickle", size: 1000, verdict: "pass", findings: [], bytesRead: 1000, ...overrides };
}

function sampleReport(): ScanReport {
  return {
    schema: REPORT_SCHEMA,
    tool: { name: "modelgate", version: "0.1.0", rulesVersion: "1" },
    verdict: "block",
    failOn: "medium",
    summary: {
      filesScanned: 3,
      filesSkipped: 1,
      filesBlocked: 1,
      filesErrored: 1,
      findings: { critical: 1, high: 0, medium: 1, low: 0, info: 1 },
      bytesRead: 1_234_567,
      bytesTotal: 3_400_000_000,
      durationMs: 420,
    },
    files: [
      fileResult({
        path: "models/evil model.pt",
        format: "pytorch-zip",
        size: 3_400_000_000,
        verdict: "block",
        bytesRead: 1_234_000,
        findings: [
          {
            rule: "MG101",
            severity: "medium",
            message: "Calls a callable that is not on the allowlist",
            location: { path: "models/evil model.pt", member: "archive/data.pkl" },
            evidence: "mymod.helper called via REDUCE",
          },
          {
            rule: "MG100",
            severity: "critical",
            message: "Calls posix.system at load time",
            location: { path: "models/evil model.pt", member: "archive/data.pkl", offset: 123 },
            evidence: "posix.system called via REDUCE with ('id',)",
          },
        ],
      }),
      fileResult({
        path: "clean.pkl",
        findings: [
          { rule: "MG114", severity: "info", message: "Two pickle streams", location: { path: "clean.pkl", offset: 77 } },
        ],
      }),
      fileResult({ path: "README.md", format: "unknown", skipped: "not a model format (text)", bytesRead: 4096 }),
      fileResult({ path: "locked.bin", format: "unknown", size: 0, verdict: "block", bytesRead: 0, error: "EACCES: permission denied" }),
    ],
  };
}

describe("text report", () => {
  it("a scan that found no model file never prints PASS", () => {
    const report: ScanReport = {
      ...sampleReport(),
      verdict: "pass",
      summary: { ...sampleReport().summary, filesScanned: 0, filesBlocked: 0, filesErrored: 0 },
      files: [fileResult({ path: "notes.txt", format: "unknown", skipped: "content is not a recognised model format" })],
    };
    const text = renderText(report, { showSkipped: false, color: false });
    assert.doesNotMatch(text, /PASS/);
    assert.match(text, /no model file found to scan/);
  });

  const text = renderText(sampleReport());

  it("shows each finding with severity, rule id and name, message, location and evidence", () => {
    assert.match(text, /CRITICAL\s+MG100 pickle-dangerous-callable: Calls posix.system at load time/);
    assert.match(text, /\n {4}at models\/evil model\.pt > archive\/data\.pkl @ offset 123\n/);
    assert.match(text, /\n {4}evidence: posix\.system called via REDUCE with \('id',\)\n/);
    assert.match(text, /\n {4}at clean\.pkl @ offset 77\n/);
  });

  it("puts the worst finding of a file first", () => {
    assert.ok(text.indexOf("MG100") < text.indexOf("MG101"));
  });

  it("reports a file that could not be scanned", () => {
    assert.match(text, /locked\.bin.*ERROR/);
    assert.match(text, /could not be scanned: EACCES: permission denied/);
  });

  it("lists skipped files only when asked, but always counts them", () => {
    assert.doesNotMatch(text, /README\.md/);
    assert.match(text, /3 scanned, 1 skipped, 1 blocked, 1 errored/);
    assert.match(renderText(sampleReport(), { showSkipped: true }), /Skipped.*\n {2}README\.md {2}not a model format \(text\)/);
  });

  it("ends with finding counts, bytes read against total, duration and the verdict with its threshold", () => {
    assert.match(text, /findings {2}1 critical, 0 high, 1 medium, 0 low, 1 info/);
    assert.match(text, /read {6}1\.2 MB of 3\.4 GB/);
    assert.match(text, /duration {2}420 ms/);
    assert.match(text, /BLOCK {2}1 file blocked: 1 by fail_on: findings at or above medium\n/);
  });

  it("names the policy rule that blocked and where the threshold came from", () => {
    const report = sampleReport();
    report.policy = { path: "/repo/modelgate.yml", sha256: "ab".repeat(32), failOnFrom: "policy", expiredIgnores: [] };
    report.files[0]!.decision = { verdict: "block", rule: "extensions.block", reason: "files named *.pt are blocked" };
    report.files[1]!.verdict = "block";
    report.files[1]!.decision = { verdict: "block", rule: "fail_on", reason: "MG114 (info) is at or above info" };
    report.summary.filesBlocked = 2;
    const out = renderText(report);
    assert.match(out, /BLOCK {2}2 files blocked: 1 by extensions\.block; 1 by fail_on: findings at or above medium \(from the policy's fail_on\)/);
    assert.doesNotMatch(out, /--fail-on/);
  });

  it("says pass without calling anything safe, and where the threshold came from", () => {
    const report = { ...sampleReport(), verdict: "pass" as const, failOn: "high" as const, policy: { failOnFrom: "flag" as const, expiredIgnores: [] } };
    assert.match(renderText(report), /PASS {3}no findings at or above high \(from --fail-on\)/);
    // "safetensors" in a what-to-do text is a format, not a verdict.
    assert.doesNotMatch(renderText(report), /\bsafe\b/i);
    const reportOnly = { ...report, failOn: "none" as const };
    assert.match(renderText(reportOnly), /PASS {3}findings do not block \(fail_on none, from --fail-on\)/);
  });

  it("counts excluded paths by cause and lists them with --show-skipped", () => {
    const report = { ...sampleReport(), excluded: [{ path: "node_modules", by: "default", folder: true }, { path: "test/fixtures", by: ".modelgateignore", folder: true }] };
    assert.match(renderText(report), /excluded {2}2 paths \(1 default, 1 \.modelgateignore; --show-skipped lists them\)/);
    assert.match(renderText(report, { showSkipped: true }), /Excluded \(not walked\)\n {2}node_modules\/ {2}by default\n {2}test\/fixtures\/ {2}by \.modelgateignore/);
  });

  it("uses colour only when asked", () => {
    assert.doesNotMatch(text, /\x1b\[/);
    assert.match(renderText(sampleReport(), { color: true }), /\x1b\[1;31mCRITICAL/);
  });

  it("escapes terminal control sequences and bidi overrides coming from scanned content", () => {
    const report = sampleReport();
    report.files[0]!.findings[0]!.evidence = "\x1b[2Jgotcha\r\u202eevil";
    const rendered = renderText(report);
    assert.doesNotMatch(rendered, /\x1b|\r|\u202e/);
    assert.match(rendered, /\\x1b\[2Jgotcha\\x0d\\u202eevil/);
  });
});

describe("humanize", () => {
  it("formats sizes in SI units", () => {
    assert.equal(formatBytes(0), "0 B");
    assert.equal(formatBytes(999), "999 B");
    assert.equal(formatBytes(1_234_567), "1.2 MB");
    assert.equal(formatBytes(3_400_000_000), "3.4 GB");
  });

  it("spells a location as path > member @ offset", () => {
    assert.equal(describeLocation({ path: "a.pt", member: "a/data.pkl", offset: 5 }), "a.pt > a/data.pkl @ offset 5");
    assert.equal(describeLocation({ path: "a.pkl" }), "a.pkl");
  });

  it("leaves ordinary text alone", () => {
    assert.equal(printable("posix.system('id') — ünïcode"), "posix.system('id') — ünïcode");
  });
});

describe("json report", () => {
  it("round-trips as the ScanReport with its schema", () => {
    const report = sampleReport();
    const json = renderJson(report);
    assert.deepEqual(JSON.parse(json), report);
    assert.equal(JSON.parse(json).schema, "modelgate.report/v1");
    assert.ok(json.startsWith('{\n  "schema"'), "2-space indent, schema first");
  });
});

/** The official SARIF 2.1.0 schema (OASIS, the rtm.5 text), as Microsoft's SARIF SDK ships it in @microsoft/jest-sarif. */
const SARIF_SCHEMA_FILE = createRequire(import.meta.url).resolve("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json");

// ajv-formats is CommonJS: under NodeNext its default import is the module, whose `default` is the plugin.
const addFormats = ajvFormats.default;

/** Schema errors of a SARIF log, as "path message" lines (empty when the log is valid). */
function sarifSchemaErrors(log: unknown): string[] {
  // The schema is JSON Schema draft-04, which needs ajv's draft-04 class; its `language` pattern has a
  // stray "]" that only unicode-mode regular expressions reject, so patterns are compiled without the u flag.
  const ajv = new Ajv04.default({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  const validate = ajv.compile(JSON.parse(readFileSync(SARIF_SCHEMA_FILE, "utf8")) as object);
  return validate(log) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ""}`);
}

/**
 * What GitHub code scanning reads beyond the schema (docs.github.com, "SARIF support for code
 * scanning"): a security-severity score per rule, ruleIndex pointing at the rule, a line region and
 * a fingerprint per result. Returns the problems found, so a failure names all of them at once.
 */
function githubSarifProblems(log: any): string[] {
  const problems: string[] = [];
  const need = (ok: unknown, what: string) => {
    if (!ok) problems.push(what);
  };
  for (const run of log.runs) {
    const rules: any[] = run.tool.driver.rules;
    need(new Set(rules.map((r) => r.id)).size === rules.length, "unique rule ids");
    for (const rule of rules) {
      need(rule.fullDescription.text.length <= 1024, `${rule.id}.fullDescription.text <= 1024`);
      const score = rule.properties?.["security-severity"];
      need(typeof score === "string" && /^\d+\.\d$/.test(score) && Number(score) >= 0 && Number(score) <= 10, `${rule.id} security-severity`);
      need(rule.properties?.tags?.includes("security"), `${rule.id} tagged security`);
    }
    for (const result of run.results) {
      need(rules[result.ruleIndex]?.id === result.ruleId, `ruleIndex ${result.ruleIndex} matches ruleId ${result.ruleId}`);
      need(result.locations[0].physicalLocation.region.startLine >= 1, "region.startLine");
      need(result.partialFingerprints?.primaryLocationLineHash, "partialFingerprints.primaryLocationLineHash");
    }
  }
  return problems;
}

describe("sarif report", () => {
  const log = JSON.parse(renderSarif(sampleReport()));
  const run = log.runs[0];

  it("is valid against the official SARIF 2.1.0 JSON schema, and has what GitHub code scanning reads", () => {
    assert.deepEqual(sarifSchemaErrors(log), []);
    assert.deepEqual(githubSarifProblems(log), []);
    const policyBlocked = sampleReport();
    policyBlocked.files[1]!.verdict = "block";
    policyBlocked.files[1]!.decision = { verdict: "block", rule: "extensions.block", reason: "files named *.pkl are blocked" };
    const withPolicy = JSON.parse(renderSarif(policyBlocked));
    assert.deepEqual(sarifSchemaErrors(withPolicy), []);
    assert.deepEqual(githubSarifProblems(withPolicy), []);
    // The check can fail: a result without a message is not SARIF.
    const broken = JSON.parse(renderSarif(sampleReport()));
    delete broken.runs[0].results[0].message;
    assert.notDeepEqual(sarifSchemaErrors(broken), []);
  });

  it("describes only the rules its results use", () => {
    assert.deepEqual(
      run.tool.driver.rules.map((r: { id: string }) => r.id),
      RULE_IDS.filter((id) => ["MG100", "MG101", "MG114"].includes(id)),
    );
    const mg100 = run.tool.driver.rules.find((r: { id: string }) => r.id === "MG100");
    assert.equal(mg100.name, "pickle-dangerous-callable");
    assert.equal(mg100.properties["security-severity"], "9.5");
    assert.equal(mg100.defaultConfiguration.level, "error");
    assert.match(mg100.helpUri, /^https:\/\//);
    assert.equal(run.tool.driver.semanticVersion, "0.1.0");
  });

  it("maps severities to levels and keeps the evidence and the member in the message", () => {
    const byRule = new Map(run.results.map((r: any) => [r.ruleId, r]));
    const critical: any = byRule.get("MG100");
    assert.equal(critical.level, "error");
    assert.equal((byRule.get("MG101") as any).level, "warning");
    assert.equal((byRule.get("MG114") as any).level, "note");
    assert.match(critical.message.text, /^Calls posix\.system at load time\. /);
    assert.match(critical.message.text, /archive member archive\/data\.pkl at byte offset 123/);
    assert.match(critical.message.text, /Evidence: posix\.system called via REDUCE/);
  });

  it("locates results in the file, with archive members as logical locations and byte offsets as byte regions", () => {
    const critical = run.results.find((r: any) => r.ruleId === "MG100");
    assert.deepEqual(critical.locations[0].physicalLocation.artifactLocation, { uri: "models/evil%20model.pt", uriBaseId: "%SRCROOT%" });
    assert.deepEqual(run.originalUriBaseIds, { "%SRCROOT%": { uri: pathToFileURL(process.cwd()).href.replace(/\/?$/, "/") } });
    assert.deepEqual(critical.locations[0].logicalLocations, [
      { name: "archive/data.pkl", fullyQualifiedName: "archive/data.pkl", kind: "resource" },
    ]);
    assert.equal(critical.relatedLocations, undefined, "a member offset is not a file offset");
    const info = run.results.find((r: any) => r.ruleId === "MG114");
    assert.deepEqual(info.relatedLocations[0].physicalLocation.region, { byteOffset: 77, byteLength: 1 });
  });

  it("fingerprints by rule, path, member and evidence, not by offset or wording", () => {
    const again = JSON.parse(renderSarif(sampleReport())).runs[0].results;
    assert.deepEqual(
      again.map((r: any) => r.partialFingerprints),
      run.results.map((r: any) => r.partialFingerprints),
    );
    const moved = sampleReport();
    const finding = moved.files[0]!.findings[1]!;
    finding.location.offset = 999;
    finding.message = "reworded";
    const movedPrint = JSON.parse(renderSarif(moved)).runs[0].results[1].partialFingerprints;
    assert.deepEqual(movedPrint, run.results[1].partialFingerprints);
    assert.notDeepEqual(run.results[0].partialFingerprints, run.results[1].partialFingerprints);
  });

  it("reports unreadable files as a failed execution and carries the verdict", () => {
    assert.equal(run.invocations[0].executionSuccessful, false);
    assert.match(run.invocations[0].toolExecutionNotifications[0].message.text, /EACCES/);
    assert.equal(run.properties.verdict, "block");
    assert.equal(run.properties.failOn, "medium");
  });

  it("roots paths at the repository root when the scan ran in a folder below it; URLs and files outside keep their own URI", () => {
    const report = sampleReport();
    report.files[1]!.findings[0]!.location.path = "hf://org/model/clean.pkl";
    report.files[0]!.findings.push({ rule: "MG113", severity: "low", message: "trailing bytes", location: { path: "/elsewhere/x.pkl" } });
    const below = JSON.parse(renderSarif(report, { root: join(process.cwd(), "..") })).runs[0];
    const uris = below.results.map((r: any) => r.locations[0].physicalLocation.artifactLocation);
    const here = process.cwd().split("/").at(-1)!;
    assert.deepEqual(uris.find((u: any) => u.uri.endsWith("evil%20model.pt")), { uri: `${encodeURIComponent(here)}/models/evil%20model.pt`, uriBaseId: "%SRCROOT%" });
    assert.deepEqual(uris.find((u: any) => u.uri.startsWith("hf:")), { uri: "hf://org/model/clean.pkl" });
    assert.deepEqual(uris.find((u: any) => u.uri.includes("elsewhere")), { uri: "file:///elsewhere/x.pkl" });
  });

  it("writes URIs as percent-encoded references with forward slashes", () => {
    assert.equal(artifactUri("./dir/a b#c?.pt"), "dir/a%20b%23c%3F.pt");
    assert.equal(artifactUri("/abs/x y.pt"), "file:///abs/x%20y.pt");
  });
});
