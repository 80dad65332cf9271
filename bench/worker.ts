/**
 * Scans one benchmark input in its own process, so each case's peak RSS is its own, and reports
 * the figures to the parent as one IPC message. A small input of the same kind is scanned first,
 * untimed, so the timed scans run on optimised code rather than measuring the JIT's warm-up.
 */
import type * as Library from "../src/index.js";

// The package's main export, as users get it: bundled, so its scan threads load the bundled worker.
const { scanPaths } = (await import(new URL("../bundle/index.js", import.meta.url).href)) as typeof Library;

export interface WorkerResult {
  /** Wall time of each timed scan, in order. */
  ms: number[];
  files: number;
  /** Files skipped (not a model format) or errored: a "clean" result must not come from these. */
  unscanned: number;
  formats: string[];
  bytesRead: number;
  bytesTotal: number;
  findings: number;
  /** The first few findings, to say why a benign input was flagged. */
  sample: string[];
  /** Peak RSS of the process up to the end of its first timed scan, in MB. */
  maxRssMb: number;
}

const [warmup, target, runsArg, threadArg] = process.argv.slice(2);
if (!warmup || !target || !runsArg || !process.send) throw new Error("usage: forked with <warm-up path> <path to scan> <timed runs> [threads]");
const options = threadArg === undefined ? {} : { threads: Number(threadArg) };
await scanPaths([warmup], options);
const ms: number[] = [];
let report!: Awaited<ReturnType<typeof scanPaths>>;
// Peak resident set (KB on Linux) up to the end of the first timed scan, warm-up included: a later
// scan can start before the collector has freed the one before, which no single scan does.
let maxRssKb = 0;
for (let run = 0; run < Number(runsArg); run++) {
  const started = performance.now();
  report = await scanPaths([target], options);
  ms.push(performance.now() - started);
  if (run === 0) maxRssKb = process.resourceUsage().maxRSS;
}
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
  maxRssMb: maxRssKb / 1024,
};
process.send(result, undefined, {}, () => process.exit(0));
