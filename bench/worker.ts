/**
 * Scans one benchmark input in its own process, so each case's peak RSS is its own, and reports
 * the figures to the parent as one JSON message.
 */
import { scanPaths } from "../src/engine.js";

export interface WorkerResult {
  ms: number;
  files: number;
  bytesRead: number;
  bytesTotal: number;
  findings: number;
  maxRssMb: number;
}

const target = process.argv[2];
if (!target || !process.send) throw new Error("usage: forked with the path to scan");
const started = performance.now();
const report = await scanPaths([target]);
const ms = performance.now() - started;
const result: WorkerResult = {
  ms,
  files: report.summary.filesScanned,
  bytesRead: report.summary.bytesRead,
  bytesTotal: report.summary.bytesTotal,
  findings: report.files.reduce((n, f) => n + f.findings.length, 0),
  maxRssMb: process.resourceUsage().maxRSS / 1024,
};
process.send(result, undefined, {}, () => process.exit(0));
