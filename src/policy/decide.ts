/**
 * Applies a policy to scan results: ignores set findings aside (once, for every renderer and the
 * exit code alike), then the policy's rules decide each file's verdict and say which rule did.
 */
import { basename, posix } from "node:path";
import type { ExcludedPath } from "../exclusions.js";
import { RULES_VERSION } from "../rules/catalogue.js";
import {
  REPORT_SCHEMA,
  SEVERITIES,
  atLeast,
  severityRank,
  type Decision,
  type ExpiredIgnore,
  type FileResult,
  type Finding,
  type ScanReport,
  type ScanSummary,
  type ScannedFile,
  type Severity,
  type SuppressedFinding,
} from "../types.js";
import { packageVersion } from "../version.js";
import { hubScanBlock } from "./hubScan.js";
import { FORMAT_GROUPS, type IgnoreEntry, type Policy, type TrustedSource } from "./policy.js";
import { signatureDecision } from "./signatures.js";

export interface DecideOptions {
  /** "Today" for ignore expiry; tests pin it. */
  now?: Date;
}

/** Facts about the rest of the scan that a file's decision may depend on. */
export interface ScanFacts {
  /** Folders (of report paths) that hold a safetensors file. */
  safetensorsFolders: ReadonlySet<string>;
}

/** What the engine scanned, as the policy layer takes it: files with their findings, and what the walk left out. */
export interface ScannedFiles {
  files: readonly ScannedFile[];
  excluded?: readonly ExcludedPath[];
  durationMs?: number;
}

/**
 * The one place a verdict is made: decides every scanned file under `policy` (defaultPolicy() when
 * no file is given) and builds the report — verdict, counts and policy info — from those decisions.
 * The CLI, the library and the gateway all come through here.
 */
export function decideReport(scanned: ScannedFiles, policy: Policy, options: DecideOptions = {}): ScanReport {
  const facts: ScanFacts = {
    safetensorsFolders: new Set(scanned.files.filter((f) => f.format === "safetensors").map((f) => folderOf(f.path))),
  };
  const files = scanned.files.map((f) => decideFile(f, policy, facts, options));
  return reportOf(files, policy, { ...scanned, ...(options.now !== undefined && { now: options.now }) });
}

/**
 * The report of files the policy has decided: verdict, counts and policy info. decideReport's own
 * last step, and the gateway's for a request it refused by the policy's trusted sources before
 * any byte was fetched (nothing was scanned to decide).
 */
export function reportOf(files: FileResult[], policy: Policy, extra: { excluded?: readonly ExcludedPath[]; durationMs?: number; now?: Date } = {}): ScanReport {
  const today = dayOf(extra.now);
  const expiredIgnores: ExpiredIgnore[] = policy.ignores
    .filter((i) => i.expires < today)
    .map((i) => ({ rule: i.rule, reason: i.reason, expires: i.expires, line: i.line, ...(i.path !== undefined && { path: i.path }) }));
  const excluded = [...(extra.excluded ?? [])];
  return {
    schema: REPORT_SCHEMA,
    tool: { name: "modelgate", version: packageVersion(), rulesVersion: RULES_VERSION },
    verdict: files.some((f) => f.verdict === "block") ? "block" : "pass",
    failOn: policy.failOn,
    summary: summarise(files, extra.durationMs ?? 0, excluded.length),
    files,
    policy: { ...(policy.path !== undefined && { path: policy.path, sha256: policy.sha256 }), failOnFrom: policy.failOnFrom, expiredIgnores },
    excluded,
  };
}

/** Decides a report's files again under `policy` (the library's entry for a report scanned earlier, by the tool that scanned it). */
export function applyPolicy(report: ScanReport, policy: Policy, options: DecideOptions = {}): ScanReport {
  const decided = decideReport({ files: report.files, excluded: report.excluded ?? [], durationMs: report.summary.durationMs }, policy, options);
  return { ...decided, tool: report.tool };
}

function summarise(files: readonly FileResult[], durationMs: number, pathsExcluded: number): ScanSummary {
  const findings = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  let bytesRead = 0;
  let bytesTotal = 0;
  for (const f of files) {
    for (const finding of f.findings) findings[finding.severity]++;
    bytesRead += f.bytesRead;
    bytesTotal += f.size;
  }
  const analysed = files.filter((f) => !f.skipped && !f.error);
  return {
    filesScanned: analysed.length,
    filesSkipped: files.filter((f) => f.skipped).length,
    filesBlocked: analysed.filter((f) => f.verdict === "block").length,
    filesErrored: files.filter((f) => f.error).length,
    findings,
    bytesRead,
    bytesTotal,
    durationMs: Math.round(durationMs),
    pathsExcluded,
  };
}

/**
 * One file's decision. Order: an unreadable file is never cleared; then where it comes from, what it
 * is called, what it is, what sits beside it; then its findings against the threshold.
 */
export function decideFile(file: ScannedFile, policy: Policy, facts: ScanFacts, options: DecideOptions = {}): FileResult {
  const today = dayOf(options.now);
  const notes: string[] = [];
  const findings: Finding[] = [];
  // A result decided before (the gateway's scanFile) keeps what an ignore set aside.
  const suppressed: SuppressedFinding[] = [...((file as Partial<FileResult>).suppressed ?? [])];
  for (const finding of file.findings) {
    const ignore = matchingIgnore(finding, file.path, policy.ignores, today, notes);
    if (ignore) suppressed.push({ ...finding, ignore: { reason: ignore.reason, expires: ignore.expires } });
    else findings.push(finding);
  }
  const decision = decisionFor(file, findings, policy, facts, notes);
  if (notes.length > 0) decision.notes = notes;
  const decided: FileResult = { ...file, findings, verdict: decision.verdict, decision };
  if (suppressed.length > 0) decided.suppressed = suppressed;
  return decided;
}

function decisionFor(file: ScannedFile, findings: readonly Finding[], policy: Policy, facts: ScanFacts, notes: string[]): Decision {
  const block = (rule: string, reason: string): Decision => ({ verdict: "block", rule, reason });
  if (file.error !== undefined) return block("error", "the file could not be scanned, so it is not cleared");

  const target = targetOf(file);
  if (isTrusted(file, policy.sources.trusted) === false) {
    const { untrusted } = policy.sources;
    if (untrusted === "block") return block("sources.untrusted", `${target} is not from a trusted source`);
    if (untrusted === "warn") notes.push(`${target} is not from a trusted source`);
  }
  const hubScan = hubScanBlock(file, policy.sources.hubScan, notes);
  if (hubScan !== undefined) return block("sources.hub_scan", hubScan);

  const unsigned = signatureDecision(file, policy.signatures, notes);
  if (unsigned !== undefined) return block("signatures", unsigned);

  const name = basename(file.path).toLowerCase();
  const ext = policy.extensions.block.find((e) => name.endsWith(e));
  if (ext !== undefined) return block("extensions.block", `files named *${ext} are blocked`);

  if (policy.formats.block.has(file.format)) return block("formats.block", `the content is ${file.format}, a blocked format`);
  if (policy.formats.allow && file.skipped === undefined && !policy.formats.allow.has(file.format)) {
    return block("formats.allow", `the content is ${file.format}, which is not an allowed format`);
  }

  if (policy.requireSafetensors && offersSafetensors(file, findings, facts)) {
    return block("require_safetensors", "safetensors weights sit beside this pickle-format file; load those instead");
  }

  const worst = findings.reduce<Finding | undefined>((w, f) => (!w || severityRank(f.severity) > severityRank(w.severity) ? f : w), undefined);
  if (worst && atLeast(worst.severity, policy.failOn)) {
    return block("fail_on", `${worst.rule} (${worst.severity}) is at or above ${policy.failOn}: ${worst.message}`);
  }
  return { verdict: "pass", rule: "fail_on", reason: `no finding at or above ${policy.failOn}` };
}

/** MG274 (the repository checks' own finding) or a safetensors file in the same folder of the report. */
function offersSafetensors(file: ScannedFile, findings: readonly Finding[], facts: ScanFacts): boolean {
  if (findings.some((f) => f.rule === "MG274")) return true;
  const pickled = FORMAT_GROUPS["pickle-based"]!.includes(file.format);
  return pickled && facts.safetensorsFolders.has(folderOf(file.path));
}

/**
 * The first live ignore that covers the finding. An expired one that would have covered it no
 * longer applies; the file's decision says so, so the finding's return is not a surprise.
 */
function matchingIgnore(finding: Finding, path: string, ignores: readonly IgnoreEntry[], today: string, notes: string[]): IgnoreEntry | undefined {
  for (const ignore of ignores) {
    if (ignore.rule !== "*" && ignore.rule !== finding.rule) continue;
    if (ignore.path !== undefined && !globMatch(ignore.path, path)) continue;
    if (ignore.expires >= today) return ignore;
    const note = `the ignore of ${ignore.rule} (policy line ${ignore.line}) expired on ${ignore.expires}`;
    if (!notes.includes(note)) notes.push(note);
  }
  return undefined;
}

/** What the file is, as one string: a URL, hf://repo@commit/path, or its local report path. */
export function targetOf(file: ScannedFile): string {
  const o = file.source;
  const hub = hubRefOf(file);
  if (hub && o) return `hf://${hub.repo}${hub.revisions.length > 0 ? `@${hub.revisions.at(-1)}` : ""}/${hub.path ?? ""}`;
  return o?.url ?? file.path;
}

/** A file on local storage that the scan named by its path (not a URL, a hub file or a cache blob). */
export function isLocal(file: ScannedFile): boolean {
  return file.source === undefined && !/^(hf|https?):\/\//i.test(file.path);
}

/** A hub file: repository id ("owner/name", "datasets/owner/name"), the revisions it answers to (asked, resolved commit), its path. */
export interface HubRef {
  repo: string;
  revisions: string[];
  path?: string;
}

/** The hub file a result is, from its source (hub, local hub cache) or, failing that, an hf:// report path. */
export function hubRefOf(file: ScannedFile): HubRef | undefined {
  const o = file.source;
  if (o?.repo !== undefined && (o.kind === "hub" || o.kind === "hf-cache")) {
    const revisions = [o.revision, o.commit].filter((r): r is string => r !== undefined);
    return { repo: o.repo, revisions, ...(o.file !== undefined && { path: o.file }) };
  }
  return parseHubTarget(file.path);
}

/** hf://owner/name[@revision][/path] (also datasets/… and spaces/…). */
export function parseHubTarget(target: string): HubRef | undefined {
  const m = /^hf:\/\/((?:(?:datasets|spaces)\/)?[\w.-]+\/[\w.-]+)(?:@([^/]+))?(?:\/(.+))?$/.exec(target);
  if (!m) return undefined;
  return { repo: m[1]!, revisions: m[2] !== undefined ? [m[2]] : [], ...(m[3] !== undefined && { path: m[3] }) };
}

/** Whether the file comes from one of the trusted sources; undefined for a local file (the sources policy does not apply). */
export function isTrusted(file: ScannedFile, trusted: readonly TrustedSource[]): boolean | undefined {
  const hub = hubRefOf(file);
  const url = file.source?.url ?? (/^https?:\/\//i.test(file.path) ? file.path : undefined);
  if (!hub && url === undefined) return undefined;
  const [owner, name] = hub ? hub.repo.replace(/^(datasets|spaces)\//, "").split("/") : [];
  return trusted.some((t) => {
    if (t.kind === "url") {
      if (url === undefined || !url.startsWith(t.prefix)) return false;
      // A prefix ends at a path boundary: https://models.example.com must not trust https://models.example.com.evil.
      const next = url.charAt(t.prefix.length);
      return t.prefix.endsWith("/") || next === "" || "/?#".includes(next);
    }
    if (!hub || owner === undefined) return false;
    // Hub names are case-insensitive (the hub redirects); revisions are exact.
    if (owner.toLowerCase() !== t.owner.toLowerCase()) return false;
    if (t.repo !== undefined && name?.toLowerCase() !== t.repo.toLowerCase()) return false;
    return t.revision === undefined || hub.revisions.includes(t.revision);
  });
}

/**
 * Glob over report paths: `**` any run of folders, `*` within one name, `?` one character.
 * A pattern without a slash matches the base name anywhere (like .gitignore).
 */
export function globMatch(pattern: string, path: string): boolean {
  const subject = path.replaceAll("\\", "/").replace(/^\.\//, "");
  const glob = pattern.replace(/^\.\//, "");
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      const slash = glob[i + 2] === "/";
      re += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  const regex = new RegExp(`^${re}$`);
  return glob.includes("/") ? regex.test(subject) : regex.test(posix.basename(subject)) || regex.test(subject);
}

function folderOf(path: string): string {
  return posix.dirname(path.replaceAll("\\", "/"));
}

/** Today as YYYY-MM-DD (UTC): an ignore applies through the whole of its expiry day. */
function dayOf(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}
