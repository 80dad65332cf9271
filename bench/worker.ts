/**
 * Scans one benchmark input in its own process, so each case's peak RSS is its own, and reports
 * the figures to the parent as one IPC message. A small input of the same kind is scanned first,
 * untimed, so the timed scan runs on optimised code rather than measuring the JIT's warm-up.
 */
import { scanPaths } from "../src/engine.js";

export interface WorkerResult {
  ms: number;
  files: number;
  /** Files skipped (not a model format) or errored: a "clean" result must not come from these. */
  unscanned: number;
  formats: string[];
  bytesRead: number;
  bytesTotal: number;
  findings: number;
  /** The first few findings, to say why a benign input was flagged. */
  sample: string[];
  maxRssMb: number;
}

const [warmup, target, threadArg] = process.argv.slice(2);
if (!warmup || !target || !process.send) throw new Error("usage: forked with <warm-up path> <path to scan> [threads]");
const options = threadArg === undefined ? {} : { threads: Number(threadArg) };
await scanPaths([warmup], options);
const started = performance.now();
const report = await scanPaths([target], options);
const ms = performance.now() - started;
const findings = report.files.flatMap((f) => f.findings.map((x) => `${f.path}: ${x.rule} ${x.message}`));
const result: WorkerResult = {
  ms,
  files: report.files.length,
  unscanned: report.summary.filesSkipped + report.summary.filesErrored,
  formats: [...new Set(report.files.map((f) => f.format))],
  bytesRead: report.summary.bytesRead,
  bytesTotal: report.summary.bytesTotal,
  findings: findings.length,
  sample: findings.slice(0, 5),
  // Peak resident set of this process (KB on Linux), warm-up included: it is small by design.
  maxRssMb: process.resourceUsage().maxRSS / 1024,
};
process.send(result, undefined, {}, () => process.exit(0));
