/** Exit codes (DESIGN.md "Contracts"; the convention users know from modelscan) and how a report maps to one. */
import type { ScanReport } from "../types.js";

export const ExitCode = { Pass: 0, Blocked: 1, ScanFailed: 2, NoModelFiles: 3, Usage: 4 } as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** What each code means; --help prints this table. */
export const EXIT_CODE_MEANING: Record<ExitCode, string> = {
  0: "nothing at or above the --fail-on threshold (not a statement that the files are safe)",
  1: "findings at or above the threshold: blocked",
  2: "the scan itself failed: a file could not be read, or an internal error",
  3: "no model file found to scan",
  4: "usage error: bad option or argument, or a path that does not exist",
};

/**
 * The exit code of a completed scan. Precedence is Usage > Blocked > ScanFailed > NoModelFiles > Pass
 * (Usage never reaches here: it is decided before a report exists).
 *
 * - Blocked beats ScanFailed because a finding at the threshold is a definite answer about the input,
 *   while 2 reads as "the tool broke": pipelines often retry or triage 2 differently, and a known-bad
 *   model must never be waved through as an infrastructure hiccup. Both are non-zero, so failing closed
 *   holds either way; this order keeps the more actionable, more severe fact.
 * - ScanFailed beats NoModelFiles: "nothing found" is only true if everything could be read.
 * - A block verdict is never 0, even if no single file explains it (fail closed).
 */
export function exitCodeFor(report: ScanReport): ExitCode {
  // An unreadable file may carry a block verdict (it is never cleared); that is a failure, not a finding.
  const blockedByFindings = report.files.some((f) => f.verdict === "block" && f.error === undefined);
  const failed = report.summary.filesErrored > 0 || report.files.some((f) => f.error !== undefined);
  if (blockedByFindings) return ExitCode.Blocked;
  if (failed) return ExitCode.ScanFailed;
  if (report.verdict === "block") return ExitCode.Blocked;
  if (report.summary.filesScanned === 0) return ExitCode.NoModelFiles;
  return ExitCode.Pass;
}
