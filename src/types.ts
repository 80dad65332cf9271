/** Core vocabulary shared by every stage: severities, findings, per-file results. */
import type { RuleId } from "./rules/catalogue.js";

export const SEVERITIES = ["critical", "high", "medium", "low", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Higher is worse; `info` is 0 so thresholds compare with `>=`. */
export function severityRank(s: Severity): number {
  return SEVERITIES.length - 1 - SEVERITIES.indexOf(s);
}

export function atLeast(s: Severity, threshold: Severity): boolean {
  return severityRank(s) >= severityRank(threshold);
}

/** Where a finding is: the scanned file, the chain of archive members inside it, a byte offset. */
export interface Location {
  path: string;
  /** Archive member path; nested archives are joined with " > ". */
  member?: string;
  /** Byte offset within the innermost stream (the member's content, or the file). */
  offset?: number;
}

export interface Finding {
  rule: RuleId;
  severity: Severity;
  message: string;
  location: Location;
  /** What was seen, e.g. "posix.system called via REDUCE with ('id',)". */
  evidence?: string;
  reference?: string;
}

/** Formats recognised by content. "unknown" content is skipped, never silently dropped. */
export type Format =
  | "pickle"
  | "pytorch-zip"
  | "torchscript"
  | "pytorch-legacy"
  | "pytorch-tar"
  | "numpy"
  | "npz"
  | "zip"
  | "tar"
  | "gzip"
  | "bz2"
  | "xz"
  | "lzma"
  | "zlib"
  | "7z"
  | "safetensors"
  | "safetensors-index"
  | "gguf"
  | "onnx"
  | "keras-h5"
  | "keras-v3"
  | "tf-savedmodel"
  | "keras-metadata"
  | "tflite"
  | "unknown";

export type Verdict = "pass" | "block";

export interface FileResult {
  path: string;
  format: Format;
  size: number;
  verdict: Verdict;
  findings: Finding[];
  /** Why the file was not analysed (unknown content). Skipped files do not pass silently: they are counted. */
  skipped?: string;
  /** Set when the scan of this file failed outright (I/O error); such a file is never reported clean. */
  error?: string;
  /** Bytes actually read from the file (the point of the "read only what is needed" principle). */
  bytesRead: number;
}

export const REPORT_SCHEMA = "modelgate.report/v1";

export interface ScanSummary {
  /** Files whose content was recognised and analysed. */
  filesScanned: number;
  /** Files whose content is not a model format (listed with --show-skipped). */
  filesSkipped: number;
  filesBlocked: number;
  /** Files that could not be read at all. */
  filesErrored: number;
  findings: Record<Severity, number>;
  /** Bytes read from storage, against the total size of the files scanned. */
  bytesRead: number;
  bytesTotal: number;
  durationMs: number;
}

/** The JSON report contract (DESIGN.md): versioned, changed only additively. */
export interface ScanReport {
  schema: typeof REPORT_SCHEMA;
  tool: { name: "modelgate"; version: string; rulesVersion: string };
  verdict: Verdict;
  failOn: Severity;
  summary: ScanSummary;
  files: FileResult[];
}
