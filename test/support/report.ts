/** ScanReports built from a few file results, for tests of what consumes a report (exit codes, the policy). */
import { REPORT_SCHEMA, type FileResult, type ScanReport } from "../../src/types.js";

/** A report over `files` (paths default to f0, f1…), its verdict and summary counted from them. */
export function reportOf(files: Partial<FileResult>[], overrides: Partial<ScanReport["summary"]> = {}): ScanReport {
  const full = files.map((f, i): FileResult => ({ path: `f${i}`, format: "pickle", size: 1, verdict: "pass", findings: [], bytesRead: 1, ...f }));
  const blocked = full.filter((f) => f.verdict === "block").length;
  return {
    schema: REPORT_SCHEMA,
    tool: { name: "modelgate", version: "0.1.0", rulesVersion: "1" },
    verdict: blocked > 0 ? "block" : "pass",
    failOn: "medium",
    summary: {
      filesScanned: full.filter((f) => f.skipped === undefined && f.error === undefined).length,
      filesSkipped: full.filter((f) => f.skipped !== undefined).length,
      filesBlocked: blocked,
      filesErrored: full.filter((f) => f.error !== undefined).length,
      findings: { critical: 0, high: 0, medium: 0, low: 0, info: 0 },
      bytesRead: 0,
      bytesTotal: 0,
      durationMs: 0,
      ...overrides,
    },
    files: full,
  };
}
