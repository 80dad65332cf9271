/** The human report: findings grouped by file, then a summary block and the verdict line. */
import { RULES } from "../rules/catalogue.js";
import { REMEDIES } from "../rules/remedies.js";
import { SEVERITIES, severityRank, type FileResult, type Finding, type ScanReport, type Severity, type ThresholdSource } from "../types.js";
import { formatBytes } from "../units.js";
import { describeLocation, formatDuration, plural, printable } from "./humanize.js";

export interface TextOptions {
  /** List the files whose content is not a model format (their count is always in the summary). */
  showSkipped?: boolean;
  /** ANSI colours; the CLI turns them on only for a TTY without NO_COLOR. */
  color?: boolean;
}

type Style = "bold" | "dim" | "red" | "yellow" | "cyan" | "green" | "magenta";

const SGR: Record<Style, string> = {
  bold: "1",
  dim: "2",
  red: "31",
  green: "32",
  yellow: "33",
  magenta: "35",
  cyan: "36",
};

const SEVERITY_STYLE: Record<Severity, Style[]> = {
  critical: ["bold", "red"],
  high: ["red"],
  medium: ["yellow"],
  low: ["cyan"],
  info: ["dim"],
};

type Paint = (text: string, ...styles: Style[]) => string;

function painter(color: boolean): Paint {
  if (!color) return (text) => text;
  return (text, ...styles) => `\x1b[${styles.map((s) => SGR[s]).join(";")}m${text}\x1b[0m`;
}

const INDENT = "    ";
const SEVERITY_WIDTH = Math.max(...SEVERITIES.map((s) => s.length));

export function renderText(report: ScanReport, options: TextOptions = {}): string {
  const paint = painter(options.color ?? false);
  const lines: string[] = [];

  for (const file of report.files) {
    const policySaid = file.decision !== undefined && (file.decision.rule !== "fail_on" || file.decision.notes !== undefined);
    if (file.error !== undefined || file.findings.length > 0 || file.suppressed !== undefined || policySaid) lines.push(...fileBlock(file, paint), "");
  }

  const skipped = report.files.filter((f) => f.skipped !== undefined);
  if (options.showSkipped && skipped.length > 0) {
    lines.push(paint("Skipped (not a model format)", "bold"));
    for (const file of skipped) lines.push(`  ${printable(file.path)}  ${paint(printable(file.skipped ?? ""), "dim")}`);
    lines.push("");
  }
  const excluded = report.excluded ?? [];
  if (options.showSkipped && excluded.length > 0) {
    lines.push(paint("Excluded (not walked)", "bold"));
    for (const e of excluded) lines.push(`  ${printable(e.path)}${e.folder ? "/" : ""}  ${paint(`by ${e.by}`, "dim")}`);
    lines.push("");
  }

  lines.push(...summaryBlock(report, paint));
  return lines.join("\n") + "\n";
}

function fileBlock(file: FileResult, paint: Paint): string[] {
  const facts = [file.format, formatBytes(file.size)];
  const status =
    file.error !== undefined ? paint("ERROR", "bold", "magenta") : file.verdict === "block" ? paint("BLOCK", "bold", "red") : paint("pass", "green");
  const lines = [`${paint(printable(file.path), "bold")}  ${paint(facts.join(", "), "dim")}  ${status}`];
  if (file.error !== undefined) lines.push(`  ${paint("could not be scanned:", "magenta")} ${printable(file.error)}`);
  // The hub's own scan, beside ours: agreement or disagreement is worth a look.
  if (file.source?.hubSecurityStatus !== undefined) lines.push(`  ${paint("hub scan:", "dim")} ${printable(hubStatus(file.source.hubSecurityStatus))}`);
  // Worst first, so the reason for a block is the first thing read; the sort is stable, so stream order is kept within a severity.
  const findings = [...file.findings].sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
  for (const finding of findings) lines.push(...findingLines(finding, paint));
  lines.push(...policyLines(file, paint));
  return lines;
}

/** What the policy decided beyond the threshold, what it set aside, and where the file went. */
function policyLines(file: FileResult, paint: Paint): string[] {
  const lines: string[] = [];
  const d = file.decision;
  if (d && d.rule !== "fail_on" && d.rule !== "error") lines.push(`  ${paint("POLICY", "bold", "red")}  ${paint(d.rule, "bold")}: ${printable(d.reason)}`);
  for (const note of d?.notes ?? []) lines.push(`  ${paint("note", "yellow")}  ${printable(note)}`);
  for (const s of file.suppressed ?? []) {
    lines.push(`  ${paint("ignored", "dim")}  ${s.rule} ${s.severity}: ${printable(s.message)} ${paint(`(${printable(s.ignore.reason)}; until ${s.ignore.expires})`, "dim")}`);
  }
  if (file.quarantined) lines.push(`  ${paint("quarantined", "magenta")} as ${file.quarantined.id}`);
  return lines;
}

function findingLines(finding: Finding, paint: Paint): string[] {
  const severity = paint(finding.severity.toUpperCase().padEnd(SEVERITY_WIDTH), ...SEVERITY_STYLE[finding.severity]);
  const lines = [
    `  ${severity}  ${paint(finding.rule, "bold")} ${RULES[finding.rule].name}: ${printable(finding.message)}`,
    `${INDENT}at ${describeLocation(finding.location)}`,
  ];
  if (finding.evidence !== undefined) lines.push(`${INDENT}evidence: ${printable(finding.evidence)}`);
  lines.push(`${INDENT}what to do: ${REMEDIES[finding.rule]}`);
  return lines;
}

/** The part of the bytes read that came over HTTP. */
function networkNote(report: ScanReport): string {
  const remote = report.files.filter((f) => f.source?.url !== undefined);
  return remote.length === 0 ? "" : ` (${formatBytes(remote.reduce((n, f) => n + f.bytesRead, 0))} transferred over the network)`;
}

/** Each hub repository with the commit its revision resolved to, and files that had to be downloaded whole. */
function sourceLines(report: ScanReport, paint: Paint): string[] {
  const repos = new Set<string>();
  let whole = 0;
  for (const f of report.files) {
    const o = f.source;
    if (o?.kind === "hub") repos.add(`hf://${o.repo}@${o.revision} is commit ${o.commit}`);
    if (o?.rangeRequests === false) whole++;
  }
  const lines = [...repos].map((r) => `  source    ${printable(r)}`);
  if (whole > 0) lines.push(paint(`  ${plural(whole, "file")} downloaded whole: the server ignores range requests`, "yellow"));
  return lines;
}

function hubStatus(status: unknown): string {
  if (typeof status === "object" && status !== null && typeof (status as { status?: unknown }).status === "string") return (status as { status: string }).status;
  return JSON.stringify(status).slice(0, 200);
}

/** Paths the walk left out, by cause ("12 paths excluded: 3 default, 9 .modelgateignore"); listed with --show-skipped. */
function excludedLine(report: ScanReport): string[] {
  const excluded = report.excluded ?? [];
  if (excluded.length === 0) return [];
  const by = new Map<string, number>();
  for (const e of excluded) by.set(e.by, (by.get(e.by) ?? 0) + 1);
  return [`  excluded  ${plural(excluded.length, "path")} (${[...by].map(([cause, n]) => `${n} ${cause}`).join(", ")}; --show-skipped lists them)`];
}

const THRESHOLD_FROM: Record<ThresholdSource, string> = { flag: "--fail-on", policy: "the policy's fail_on", default: "the default" };

/**
 * The verdict, with the policy rules that decided it and where the threshold came from. Never "safe":
 * a pass only says nothing reached the threshold (fickling's wording, for the same reason).
 */
function verdictLines(report: ScanReport, paint: Paint): string[] {
  const s = report.summary;
  const from = report.policy?.failOnFrom;
  const threshold =
    report.failOn === "none"
      ? `findings do not block (fail_on none${from ? `, from ${THRESHOLD_FROM[from]}` : ""})`
      : `at or above ${report.failOn}${from ? ` (from ${THRESHOLD_FROM[from]})` : ""}`;
  const nothingScanned = s.filesScanned === 0 && s.filesErrored === 0;
  if (report.verdict === "block") {
    const rules = new Map<string, number>();
    for (const f of report.files) {
      if (f.verdict !== "block" || f.error !== undefined) continue;
      const rule = f.decision?.rule ?? "fail_on";
      rules.set(rule, (rules.get(rule) ?? 0) + 1);
    }
    const why = [...rules].map(([rule, n]) => (rule === "fail_on" ? `${n} by fail_on: findings ${threshold}` : `${n} by ${rule}`));
    if (why.length === 0) return [`${paint("BLOCK", "bold", "red")}  nothing is cleared that could not be scanned`];
    return [`${paint("BLOCK", "bold", "red")}  ${plural(s.filesBlocked, "file")} blocked: ${why.join("; ")}`];
  }
  // A pass over nothing would read as a clean bill of health.
  if (nothingScanned) return [];
  return [`${paint("PASS", "bold", "green")}   ${report.failOn === "none" ? threshold : `no findings ${threshold}`}`];
}

function summaryBlock(report: ScanReport, paint: Paint): string[] {
  const s = report.summary;
  const counts = SEVERITIES.map((sev) => {
    const text = `${s.findings[sev]} ${sev}`;
    return s.findings[sev] > 0 ? paint(text, ...SEVERITY_STYLE[sev]) : text;
  });
  const lines = [
    paint("Summary", "bold"),
    `  files     ${s.filesScanned} scanned, ${s.filesSkipped} skipped, ${s.filesBlocked} blocked, ${s.filesErrored} errored`,
    ...excludedLine(report),
    `  findings  ${counts.join(", ")}`,
    `  read      ${formatBytes(s.bytesRead)} of ${formatBytes(s.bytesTotal)}${networkNote(report)}`,
    `  duration  ${formatDuration(s.durationMs)}`,
    ...sourceLines(report, paint),
  ];
  if (report.policy?.path !== undefined) lines.push(`  policy    ${printable(report.policy.path)} (sha256 ${report.policy.sha256?.slice(0, 12)}…)`);
  for (const e of report.policy?.expiredIgnores ?? []) {
    const what = `${e.rule}${e.path !== undefined ? ` on ${printable(e.path)}` : ""}`;
    lines.push(paint(`  expired ignore (policy line ${e.line}): ${what} expired on ${e.expires} and no longer applies`, "yellow"));
  }
  lines.push(...verdictLines(report, paint));
  if (s.filesErrored > 0) lines.push(paint(`${plural(s.filesErrored, "file")} could not be scanned and ${s.filesErrored === 1 ? "is" : "are"} not cleared`, "magenta"));
  if (s.filesScanned === 0 && s.filesErrored === 0) lines.push(paint("no model file found to scan", "yellow"));
  return lines;
}
