/** The human report: findings grouped by file, then a summary block and the verdict line. */
import { RULES } from "../rules/catalogue.js";
import { SEVERITIES, severityRank, type FileResult, type Finding, type ScanReport, type Severity } from "../types.js";
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
    if (file.error !== undefined || file.findings.length > 0) lines.push(...fileBlock(file, paint), "");
  }

  const skipped = report.files.filter((f) => f.skipped !== undefined);
  if (options.showSkipped && skipped.length > 0) {
    lines.push(paint("Skipped (not a model format)", "bold"));
    for (const file of skipped) lines.push(`  ${printable(file.path)}  ${paint(printable(file.skipped ?? ""), "dim")}`);
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
  // Worst first, so the reason for a block is the first thing read; the sort is stable, so stream order is kept within a severity.
  const findings = [...file.findings].sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
  for (const finding of findings) lines.push(...findingLines(finding, paint));
  return lines;
}

function findingLines(finding: Finding, paint: Paint): string[] {
  const severity = paint(finding.severity.toUpperCase().padEnd(SEVERITY_WIDTH), ...SEVERITY_STYLE[finding.severity]);
  const lines = [
    `  ${severity}  ${paint(finding.rule, "bold")} ${RULES[finding.rule].name}: ${printable(finding.message)}`,
    `${INDENT}at ${describeLocation(finding.location)}`,
  ];
  if (finding.evidence !== undefined) lines.push(`${INDENT}evidence: ${printable(finding.evidence)}`);
  return lines;
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
    `  findings  ${counts.join(", ")}`,
    `  read      ${formatBytes(s.bytesRead)} of ${formatBytes(s.bytesTotal)}`,
    `  duration  ${formatDuration(s.durationMs)}`,
  ];
  // Never "safe": a pass only says nothing reached the threshold (fickling's wording, for the same reason).
  const threshold = `at or above ${report.failOn} (--fail-on ${report.failOn})`;
  const nothingScanned = s.filesScanned === 0 && s.filesErrored === 0;
  if (report.verdict === "block") lines.push(`${paint("BLOCK", "bold", "red")}  ${plural(s.filesBlocked, "file")} with findings ${threshold}`);
  // A pass over nothing would read as a clean bill of health.
  else if (!nothingScanned) lines.push(`${paint("PASS", "bold", "green")}   no findings ${threshold}`);
  if (s.filesErrored > 0) lines.push(paint(`${plural(s.filesErrored, "file")} could not be scanned and ${s.filesErrored === 1 ? "is" : "are"} not cleared`, "magenta"));
  if (nothingScanned) lines.push(paint("no model file found to scan", "yellow"));
  return lines;
}
