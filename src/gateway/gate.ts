/**
 * The policy as the gateway applies it, through src/policy's API, so the gateway and
 * `modelgate scan --policy` decide, quarantine and audit alike: which repositories may be fetched,
 * each scanned file's verdict, the quarantine of blocked blobs, the audit log.
 */
import { join } from "node:path";
import { appendAudit, auditRecords, decideReport, isTrusted, quarantineFile, reportOf, type Policy } from "../policy/index.js";
import { entryPaths } from "../policy/quarantine.js";
import { RULES_VERSION } from "../rules/catalogue.js";
import type { FileOrigin, FileResult, ScanReport, ScannedFile } from "../types.js";
import { packageVersion } from "../version.js";
import { repoLabel, type RepoRef } from "./routes.js";

/** Where a file comes from, as the policy reads it. */
export interface HubFileOrigin {
  repo: RepoRef;
  /** The revision asked for and, once the hub answered, the commit it resolved to. */
  revision?: string;
  commit?: string;
  path?: string;
  /** The upstream URL of the file. */
  url?: string;
  /** The hub's own scan of the file at that commit (paths-info `securityFileStatus`), read when the policy's sources.hub_scan uses it. */
  hubSecurityStatus?: unknown;
}

export class Gate {
  readonly auditLog: string;
  readonly quarantineDir: string;

  constructor(
    readonly policy: Policy,
    storeDir: string,
  ) {
    this.auditLog = policy.auditLog ?? join(storeDir, "audit.jsonl");
    this.quarantineDir = policy.quarantine ?? join(storeDir, "quarantine");
  }

  /**
   * Whether files of the repository may be fetched. Before the hub has resolved a revision, a source
   * pinned to a revision counts: the request is checked again with the resolved commit.
   */
  trusts(origin: HubFileOrigin): boolean {
    if (this.policy.sources.untrusted !== "block") return true;
    const { trusted } = this.policy.sources;
    if (origin.revision !== undefined || origin.commit !== undefined) return isTrusted(stub(origin), trusted) === true;
    const pinned = trusted.flatMap((t) => (t.kind === "hub" && t.revision !== undefined ? [t.revision] : []));
    return [undefined, ...pinned].some((revision) => isTrusted(stub({ ...origin, ...(revision !== undefined && { revision }) }), trusted) === true);
  }

  /**
   * The policy's decision on a scanned file, as a one-file report: the same decision path as
   * `modelgate scan` (decideReport). A single file: the gateway cannot see its siblings, so
   * "safetensors beside it" is not known here.
   */
  decide(scanned: ScannedFile, origin: HubFileOrigin, durationMs = 0): ScanReport {
    return decideReport({ files: [{ ...scanned, source: fileOrigin(origin) }], durationMs }, this.policy);
  }

  /** Moves a blocked blob into the quarantine, with its findings in the sidecar; returns the decided result with where it went. */
  async quarantine(blobPath: string, decided: FileResult): Promise<FileResult> {
    const entry = await quarantineFile(blobPath, this.quarantineDir, {
      ...(decided.decision && { decision: decided.decision }),
      findings: decided.findings,
      tool: { version: packageVersion(), rulesVersion: RULES_VERSION },
    });
    return { ...decided, quarantined: { id: entry.id, path: entryPaths(this.quarantineDir, entry.id).payload } };
  }

  /** Appends a decided report to the audit log, in the record format `modelgate scan` writes. */
  audit(report: ScanReport): Promise<void> {
    return appendAudit(this.auditLog, auditRecords(report));
  }

  /** The report of a request refused because of where it comes from (nothing was fetched, so nothing was scanned). */
  refusedSource(origin: HubFileOrigin, reason: string): ScanReport {
    return this.refused(origin, "sources.untrusted", reason);
  }

  /** The report of a request refused before its file was fetched, by the policy key `rule`. */
  refused(origin: HubFileOrigin, rule: string, reason: string): ScanReport {
    const refused: FileResult = { ...stub(origin), verdict: "block", decision: { verdict: "block", rule, reason } };
    return reportOf([refused], this.policy);
  }
}

function fileOrigin(origin: HubFileOrigin): FileOrigin {
  return {
    kind: "hub",
    repo: repoLabel(origin.repo),
    ...(origin.revision !== undefined && { revision: origin.revision }),
    ...(origin.commit !== undefined && { commit: origin.commit }),
    ...(origin.path !== undefined && { file: origin.path }),
    ...(origin.url !== undefined && { url: origin.url }),
    ...(origin.hubSecurityStatus !== undefined && { hubSecurityStatus: origin.hubSecurityStatus }),
  };
}

/** A result that only says where a file comes from: what the trust check and refusals need. */
function stub(origin: HubFileOrigin): FileResult {
  const label = repoLabel(origin.repo);
  return { path: `${label}/${origin.path ?? ""}`, format: "unknown", size: 0, verdict: "pass", findings: [], bytesRead: 0, source: fileOrigin(origin) };
}
