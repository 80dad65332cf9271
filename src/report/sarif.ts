/**
 * SARIF 2.1.0 for GitHub code scanning. What GitHub requires and how it reads it
 * (docs.github.com, "SARIF support for code scanning"):
 * - rules need id, shortDescription, fullDescription and help.text; `security-severity` is a string score
 *   that GitHub maps >9.0 critical, 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low, and 0.0 to none;
 * - a result needs message.text, a location whose physicalLocation has artifactLocation.uri (relative to
 *   the repository root) and region.startLine, and partialFingerprints, of which GitHub only reads
 *   primaryLocationLineHash.
 * Paths are relative to the repository root with `uriBaseId` %SRCROOT% (declared in the run's
 * originalUriBaseIds), which is how GitHub maps a result to a file; only the rules the results use
 * are described, so the file stays small.
 * Model files have no lines, so the region is always line 1 (the file as a whole). A byte region cannot
 * share that region object (SARIF §3.30.1: text and binary properties must describe the same bytes), so
 * a known byte offset in the file itself is a related location with {byteOffset, byteLength}; an offset
 * inside an archive member is not a file offset and is given in the message and in result.properties.
 */
import { sha256Hex } from "../hash.js";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { isInside } from "../paths.js";
import { RULE_IDS, RULES, type RuleId } from "../rules/catalogue.js";
import type { FileResult, Finding, Location, ScanReport, Severity, SuppressedFinding } from "../types.js";
import { printable } from "./humanize.js";

const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI = "https://github.com/modelgate/modelgate";

/** Files blocked by a policy rule rather than by a finding (a blocked extension, format or source) are results of this rule. */
const POLICY_RULE_ID = "MGPOLICY";
const POLICY_RULE: SarifRule = {
  id: POLICY_RULE_ID,
  name: "policy-blocked",
  shortDescription: { text: "policy-blocked (error)" },
  fullDescription: { text: "The organisation's policy (modelgate.yml) blocks this file by its name, format or source, whatever its findings." },
  helpUri: `${INFORMATION_URI}#the-policy-file-modelgateyml`,
  help: {
    text: "The policy file names extensions, formats or sources that may not enter; the result says which policy rule decided. Change the file, or the policy.",
    markdown: "**Blocked by policy.** The policy file (`modelgate.yml`) names extensions, formats or sources that may not enter; the result says which policy rule decided.",
  },
  defaultConfiguration: { level: "error" },
  properties: { "security-severity": "8.0", tags: ["security", "supply-chain", "ml-model", "policy"] },
};

type SarifLevel = "error" | "warning" | "note";

/** critical/high must fail a code-scanning check by default; medium warns; low and info are notes. */
const LEVEL: Record<Severity, SarifLevel> = {
  critical: "error",
  high: "error",
  medium: "warning",
  low: "note",
  info: "note",
};

/** One score per severity, inside GitHub's band for it; info is 0.0, which GitHub shows without a security severity. */
const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: "9.5",
  high: "8.0",
  medium: "5.5",
  low: "3.0",
  info: "0.0",
};

/** The subset of SARIF 2.1.0 this renderer writes. */
interface SarifLog {
  $schema: string;
  version: "2.1.0";
  runs: SarifRun[];
}

/** Where relative artifact URIs are rooted: the repository root. */
const SRCROOT = "%SRCROOT%";

interface SarifRun {
  tool: { driver: SarifDriver };
  originalUriBaseIds: Record<typeof SRCROOT, { uri: string }>;
  invocations: SarifInvocation[];
  results: SarifResult[];
  properties: { verdict: ScanReport["verdict"]; failOn: ScanReport["failOn"]; summary: ScanReport["summary"]; policy?: ScanReport["policy"] };
}

interface SarifDriver {
  name: "modelgate";
  informationUri: string;
  version: string;
  semanticVersion?: string;
  rules: SarifRule[];
}

interface SarifRule {
  id: RuleId | typeof POLICY_RULE_ID;
  name: string;
  shortDescription: { text: string };
  fullDescription: { text: string };
  helpUri: string;
  help: { text: string; markdown: string };
  defaultConfiguration: { level: SarifLevel };
  properties: { "security-severity": string; tags: string[] };
}

interface SarifInvocation {
  executionSuccessful: boolean;
  toolExecutionNotifications: { level: "error"; message: { text: string }; locations: SarifLocation[] }[];
}

interface SarifResult {
  ruleId: RuleId | typeof POLICY_RULE_ID;
  ruleIndex: number;
  level: SarifLevel;
  message: { text: string };
  locations: SarifLocation[];
  relatedLocations?: SarifLocation[];
  partialFingerprints: { primaryLocationLineHash: string };
  properties: { severity: Severity; location: Location };
  /** Findings a policy ignore entry set aside: GitHub shows them as dismissed, with the reason. */
  suppressions?: { kind: "external"; status: "accepted"; justification: string }[];
}

interface SarifRegion {
  startLine?: number;
  byteOffset?: number;
  byteLength?: number;
}

interface SarifArtifactLocation {
  uri: string;
  uriBaseId?: typeof SRCROOT;
}

interface SarifLocation {
  id?: number;
  physicalLocation: { artifactLocation: SarifArtifactLocation; region: SarifRegion };
  logicalLocations?: { name: string; fullyQualifiedName: string; kind: "resource" }[];
  message?: { text: string };
}

export interface SarifOptions {
  /** The repository root that artifact URIs are relative to (default: the working folder). Report paths are relative to the working folder. */
  root?: string;
}

export function renderSarif(report: ScanReport, options: SarifOptions = {}): string {
  return JSON.stringify(toSarif(report, resolve(options.root ?? ".")), null, 2) + "\n";
}

/** How results name files and rules: URIs under the root, indexes into the rules the run describes. */
interface RunContext {
  artifact(path: string): SarifArtifactLocation;
  ruleIndex(id: SarifRule["id"]): number;
}

function toSarif(report: ScanReport, root: string): SarifLog {
  const version = report.tool.version;
  const used = new Set<SarifRule["id"]>();
  for (const f of report.files) {
    for (const finding of [...f.findings, ...(f.suppressed ?? [])]) used.add(finding.rule);
    if (policyBlocked(f)) used.add(POLICY_RULE_ID);
  }
  const rules = [...RULE_IDS.filter((id) => used.has(id)).map(sarifRule), ...(used.has(POLICY_RULE_ID) ? [POLICY_RULE] : [])];
  const ctx: RunContext = {
    artifact: (path) => artifactLocation(path, root),
    ruleIndex: (id) => rules.findIndex((r) => r.id === id),
  };
  const driver: SarifDriver = { name: "modelgate", informationUri: INFORMATION_URI, version, rules };
  if (/^\d+\.\d+\.\d+(?:[-+].*)?$/.test(version)) driver.semanticVersion = version;

  const errored = report.files.filter((f) => f.error !== undefined);
  return {
    $schema: SARIF_SCHEMA,
    version: "2.1.0",
    runs: [
      {
        tool: { driver },
        originalUriBaseIds: { [SRCROOT]: { uri: `${pathToFileURL(root).href.replace(/\/?$/, "/")}` } },
        invocations: [
          {
            executionSuccessful: errored.length === 0,
            toolExecutionNotifications: errored.map((f) => ({
              level: "error",
              message: { text: `Could not be scanned: ${printable(f.error ?? "")}` },
              locations: [fileLocation(f.path, ctx)],
            })),
          },
        ],
        results: report.files.flatMap((f) => [
          ...policyResults(f, ctx),
          ...f.findings.map((finding) => sarifResult(finding, ctx)),
          ...(f.suppressed ?? []).map((finding) => suppressedResult(finding, ctx)),
        ]),
        properties: { verdict: report.verdict, failOn: report.failOn, summary: report.summary, ...(report.policy && { policy: report.policy }) },
      },
    ],
  };
}

function sarifRule(id: RuleId): SarifRule {
  const rule = RULES[id];
  return {
    id,
    name: rule.name,
    shortDescription: { text: `${rule.name} (${rule.severity})` },
    fullDescription: { text: rule.description },
    helpUri: rule.reference,
    help: {
      text: `${rule.description}\n\nReference: ${rule.reference}`,
      markdown: `**${id} ${rule.name}** (default severity: ${rule.severity})\n\n${rule.description}\n\nReference: <${rule.reference}>`,
    },
    defaultConfiguration: { level: LEVEL[rule.severity] },
    properties: { "security-severity": SECURITY_SEVERITY[rule.severity], tags: ["security", "supply-chain", "ml-model"] },
  };
}

function sarifResult(finding: Finding, ctx: RunContext): SarifResult {
  const { location } = finding;
  const primary = fileLocation(location.path, ctx);
  if (location.member !== undefined) {
    const member = printable(location.member);
    // Nested members are joined with " > "; the innermost is the logical name.
    primary.logicalLocations = [{ name: member.split(" > ").at(-1) ?? member, fullyQualifiedName: member, kind: "resource" }];
  }
  const result: SarifResult = {
    ruleId: finding.rule,
    ruleIndex: ctx.ruleIndex(finding.rule),
    level: LEVEL[finding.severity],
    message: { text: resultMessage(finding) },
    locations: [primary],
    partialFingerprints: { primaryLocationLineHash: fingerprint(finding) },
    properties: { severity: finding.severity, location },
  };
  if (location.offset !== undefined && location.member === undefined) {
    result.relatedLocations = [
      {
        id: 1,
        physicalLocation: { artifactLocation: ctx.artifact(location.path), region: { byteOffset: location.offset, byteLength: 1 } },
        message: { text: `byte offset ${location.offset}` },
      },
    ];
  }
  return result;
}

function suppressedResult(finding: SuppressedFinding, ctx: RunContext): SarifResult {
  const { ignore, ...plain } = finding;
  return { ...sarifResult(plain, ctx), suppressions: [{ kind: "external", status: "accepted", justification: `${ignore.reason} (until ${ignore.expires})` }] };
}

/** A file blocked by a policy rule that is not the finding threshold (nor an unreadable file). */
function policyBlocked(file: FileResult): boolean {
  const d = file.decision;
  return d !== undefined && d.verdict === "block" && d.rule !== "fail_on" && d.rule !== "error";
}

function policyResults(file: FileResult, ctx: RunContext): SarifResult[] {
  const d = file.decision;
  if (!d || !policyBlocked(file)) return [];
  const key = JSON.stringify([POLICY_RULE_ID, d.rule, normalisePath(file.path)]);
  return [
    {
      ruleId: POLICY_RULE_ID,
      ruleIndex: ctx.ruleIndex(POLICY_RULE_ID),
      level: "error",
      message: { text: `Blocked by policy rule ${d.rule}: ${printable(d.reason)}.` },
      locations: [fileLocation(file.path, ctx)],
      partialFingerprints: { primaryLocationLineHash: lineHash(key) },
      properties: { severity: "high", location: { path: file.path } },
    },
  ];
}

function fileLocation(path: string, ctx: RunContext): SarifLocation {
  return { physicalLocation: { artifactLocation: ctx.artifact(path), region: { startLine: 1 } } };
}

/**
 * A local file inside the root is a URI relative to %SRCROOT% (report paths are relative to the
 * working folder, which may be below the root); anything else keeps its own URI.
 */
function artifactLocation(path: string, root: string): SarifArtifactLocation {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return { uri: path };
  const absolute = resolve(path);
  if (!isInside(root, absolute)) return { uri: artifactUri(absolute) };
  return { uri: artifactUri(relative(root, absolute)), uriBaseId: SRCROOT };
}

/** GitHub shows the first sentence as the alert title, so the finding's own message leads. */
function resultMessage(finding: Finding): string {
  const { member, offset } = finding.location;
  let text = printable(finding.message).replace(/\.?$/, ".");
  if (member !== undefined) text += ` In archive member ${printable(member)}${offset !== undefined ? ` at byte offset ${offset}` : ""}.`;
  else if (offset !== undefined) text += ` At byte offset ${offset}.`;
  if (finding.evidence !== undefined) text += ` Evidence: ${printable(finding.evidence)}`;
  return text;
}

/**
 * Identity of a finding across runs: rule, file, member and evidence, but not the message wording or
 * the byte offset, which move when unrelated bytes change. Shaped like GitHub's own value
 * ("<16 hex>:<occurrence>") because the upload action keeps an existing primaryLocationLineHash.
 */
function fingerprint(finding: Finding): string {
  const { path, member } = finding.location;
  return lineHash(JSON.stringify([finding.rule, normalisePath(path), member ?? "", finding.evidence ?? ""]));
}

function lineHash(key: string): string {
  return `${sha256Hex(key).slice(0, 16)}:1`;
}

function normalisePath(path: string): string {
  return sep === "\\" ? path.replaceAll("\\", "/") : path;
}

/**
 * A URI reference for the scanned file: relative paths stay relative (GitHub resolves them against the
 * repository root) with each segment percent-encoded; absolute paths become file:// URIs.
 */
export function artifactUri(path: string): string {
  if (isAbsolute(path)) return pathToFileURL(path).href;
  return normalisePath(path).replace(/^(?:\.\/)+/, "").split("/").map(encodeURIComponent).join("/");
}
