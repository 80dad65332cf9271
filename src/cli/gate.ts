/**
 * The scan command's gate: policy (file, flags), optional result cache, the scan, the decisions,
 * then quarantine and audit log for what was decided. Returns the decided report and any failure
 * of the gate's own steps (a file that could not be quarantined, an audit log that could not be written).
 */
import { access } from "node:fs/promises";
import { clamavSettings, type ClamavFlag } from "../clamav/settings.js";
import { scanTargets, UsageError, type ScanOptions, type ScanProgress } from "../engine.js";
import { sha256File } from "../hash.js";
import type { ScanCache } from "../policy/cache.js";
import { decideReport, isLocal } from "../policy/decide.js";
import { POLICY_FILE, PolicyError, defaultPolicy, loadPolicy, type Policy } from "../policy/policy.js";
import type { ScanReport, Threshold } from "../types.js";

export interface GateFlags {
  policy?: string;
  quarantine?: string;
  auditLog?: string;
  cache?: string;
  failOn: Threshold;
  /** Whether --fail-on was given on the command line (it then wins over the policy's fail_on). */
  failOnGiven: boolean;
  /** --clamav [ADDRESS]: check every file with clamd as well (the policy's clamav key does too). */
  clamav?: ClamavFlag;
  /** --sandbox: detonate pickle-family files after the static scan, before the policy decides. */
  sandbox?: boolean;
}

/** --policy FILE, else modelgate.yml in the working folder, else the built-in default. A bad policy is a usage error (exit 4). */
export async function loadGatePolicy(flags: Pick<GateFlags, "policy" | "failOn" | "failOnGiven">): Promise<Policy> {
  const path = flags.policy ?? ((await access(POLICY_FILE).then(() => true, () => false)) ? POLICY_FILE : undefined);
  let policy: Policy;
  try {
    policy = path === undefined ? defaultPolicy(flags.failOn) : await loadPolicy(path);
  } catch (err) {
    if (err instanceof PolicyError) throw new UsageError(`invalid policy:\n${err.message}`);
    throw err;
  }
  if (flags.failOnGiven) [policy.failOn, policy.failOnFrom] = [flags.failOn, "flag"];
  else if (policy.failOnFrom !== "policy") policy.failOn = flags.failOn;
  return policy;
}

export interface GateOutcome {
  report: ScanReport;
  /** Failures of the gate's own steps, one line each. */
  problems: string[];
  cache?: ScanCache;
}

export async function gatedScan(
  paths: string[],
  flags: GateFlags,
  onProgress?: (p: ScanProgress) => void,
  /** Parallelism, remote access and the Hugging Face cache (the scan command's --jobs, --token, --hf-cache…). */
  scanOptions: Pick<ScanOptions, "jobs" | "threads" | "remote" | "hfCache" | "exclusions"> = {},
): Promise<GateOutcome> {
  const policy = await loadGatePolicy(flags);
  // The optional steps load their modules only when a run asks for them (start-up time of one-file scans).
  const cache = flags.cache === undefined ? undefined : await (await import("../policy/cache.js")).ScanCache.open(flags.cache, policy.callables);
  const clamav = clamavSettings(policy.clamav, flags.clamav);
  const scanned = await scanTargets(paths, {
    ...scanOptions,
    callables: policy.callables,
    ...(cache && { cache }),
    ...(onProgress && { onProgress }),
  });
  const checked = clamav ? await (await import("../clamav/check.js")).clamavCheck(scanned, clamav, scanOptions) : undefined;
  const files = checked?.scanned ?? scanned;
  if (policy.signatures) await (await import("../policy/signatures.js")).checkSignatures(files, paths, policy.signatures);
  const problems: string[] = flags.sandbox === true ? await (await import("../sandbox/secondOpinion.js")).addSandboxResults(files, policy) : [];
  const report = decideReport(files, policy);
  if (checked) report.clamav = checked.clamav;
  const quarantineDir = flags.quarantine ?? policy.quarantine;
  const auditLog = flags.auditLog ?? policy.auditLog;
  if (quarantineDir !== undefined || auditLog !== undefined) await hashFiles(report, cache);

  if (quarantineDir !== undefined) {
    const { quarantineFile } = await import("../policy/quarantine.js");
    for (const file of report.files) {
      if (file.verdict !== "block" || file.error !== undefined || !isLocal(file)) continue;
      try {
        const entry = await quarantineFile(file.path, quarantineDir, {
          ...(file.decision && { decision: file.decision }),
          findings: file.findings,
          tool: { version: report.tool.version, rulesVersion: report.tool.rulesVersion },
        });
        file.quarantined = { id: entry.id, path: entry.originalPath };
      } catch (err) {
        problems.push(`could not quarantine ${file.path} (it is still in place): ${(err as Error).message}`);
      }
    }
  }
  if (auditLog !== undefined) {
    const { appendAudit, auditRecords } = await import("../policy/audit.js");
    await appendAudit(auditLog, auditRecords(report)).catch((err: Error) => problems.push(`could not write the audit log ${auditLog}: ${err.message}`));
  }
  if (cache) await cache.save().catch((err: Error) => problems.push(`could not save the cache ${cache.path}: ${err.message}`));
  return { report, problems, ...(cache && { cache }) };
}

/** Fills in sha256 for local files (from the cache when it has them); unreadable ones stay without. */
export async function hashFiles(report: ScanReport, cache?: ScanCache): Promise<void> {
  for (const file of report.files) {
    if (file.sha256 !== undefined || file.error !== undefined || !isLocal(file)) continue;
    const sha256 = (await cache?.sha256(file.path)) ?? (await sha256File(file.path).catch(() => undefined));
    if (sha256 !== undefined) file.sha256 = sha256;
  }
}
