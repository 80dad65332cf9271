/**
 * The audit log: one JSON line per decision, appended. Several modelgate processes may share one
 * log: the file is opened with O_APPEND and each line goes out in a single write(), so the kernel
 * places every line whole at the end of the file — lines are never interleaved, lost or rewritten.
 */
import { open } from "node:fs/promises";
import { hostname, userInfo } from "node:os";
import type { FileResult, SandboxResult, ScanReport, SignerInfo, Verdict } from "../types.js";
import { targetOf } from "./decide.js";

export interface AuditRecord {
  time: string;
  user: string;
  host: string;
  target: string;
  /** Null where the content was not hashed (a file that could not be read). */
  sha256: string | null;
  verdict: Verdict;
  /** The policy rule that decided (e.g. "fail_on", "extensions.block"). */
  rule: string;
  reason: string;
  findings: number;
  tool: { name: "modelgate"; version: string; rulesVersion: string };
  policy: { path: string; sha256: string } | null;
  quarantined?: string;
  /** Who signed the file's model folder, when a verified model signature covered it. */
  signer?: SignerInfo;
  /** What the decision noted without deciding on it (a `warn` rule: the hub's scan, an untrusted source). */
  notes?: string[];
  /** What loading the file in the sandbox showed (scan --sandbox, serve --sandbox). */
  sandbox?: SandboxResult["status"];
}

/** One record per file of a decided report (skipped files included: passing them is a decision too). */
export function auditRecords(report: ScanReport, now: Date = new Date()): AuditRecord[] {
  const who = currentUser();
  const host = hostname();
  const policy = report.policy?.path !== undefined && report.policy.sha256 !== undefined ? { path: report.policy.path, sha256: report.policy.sha256 } : null;
  return report.files.map((f) => auditRecord(f, report.tool, policy, who, host, now));
}

function auditRecord(file: FileResult, tool: ScanReport["tool"], policy: AuditRecord["policy"], user: string, host: string, now: Date): AuditRecord {
  const record: AuditRecord = {
    time: now.toISOString(),
    user,
    host,
    target: targetOf(file),
    sha256: file.sha256 ?? null,
    verdict: file.verdict,
    rule: file.decision?.rule ?? "fail_on",
    reason: file.decision?.reason ?? "",
    findings: file.findings.length,
    tool,
    policy,
  };
  if (file.quarantined) record.quarantined = file.quarantined.path;
  if (file.signature?.verified && file.signature.signer) record.signer = file.signature.signer;
  if (file.decision?.notes !== undefined) record.notes = [...file.decision.notes];
  if (file.sandbox !== undefined) record.sandbox = file.sandbox.status;
  return record;
}

/** Appends the records, one write() per line on an O_APPEND descriptor (see the module comment). */
export async function appendAudit(path: string, records: readonly AuditRecord[]): Promise<void> {
  const handle = await open(path, "a", 0o640);
  try {
    for (const record of records) {
      const line = Buffer.from(JSON.stringify(record) + "\n", "utf8");
      const { bytesWritten } = await handle.write(line);
      // A short write (disk full) would leave a torn line; say so rather than pretend it was logged.
      if (bytesWritten !== line.length) throw new Error(`audit log ${path}: only ${bytesWritten} of ${line.length} bytes written`);
    }
  } finally {
    await handle.close();
  }
}

/** Who ran the scan; containers often have a uid without a passwd entry. */
function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env["USER"] ?? process.env["LOGNAME"] ?? `uid:${process.getuid?.() ?? "?"}`;
  }
}
