/**
 * The hub's own scan of a file as a policy input (`sources.hub_scan`). The hub reports, per file, a
 * `securityFileStatus`: a `status` ("safe", "unsafe", "caution", "unscanned", "queued", "error"…),
 * and the scans behind it — `avScan` (`virusFound`, `virusNames`), `pickleImportScan`
 * (`highestSafetyLevel`: innocuous, suspicious, dangerous) and the older `safe` boolean. Only a status
 * of "safe" that nothing beside it contradicts counts as safe: a missing, pending, failed or unknown
 * status is not, so `require_safe` fails closed.
 */
import type { ScannedFile } from "../types.js";

export const HUB_SCAN_MODES = ["require_safe", "warn", "ignore"] as const;
export type HubScanMode = (typeof HUB_SCAN_MODES)[number];

/** Why the hub's scan does not clear a hub file; undefined when it does, and for files not read from the hub. */
export function hubScanConcern(file: ScannedFile): string | undefined {
  if (file.source?.kind !== "hub") return undefined;
  const status: unknown = file.source.hubSecurityStatus;
  if (status === undefined || status === null) return "the hub reported no security scan for it";
  if (typeof status !== "object") return `the hub's security status is not a scan result (${JSON.stringify(status).slice(0, 80)})`;
  const s = status as { status?: unknown; safe?: unknown; avScan?: { virusFound?: unknown; virusNames?: unknown }; pickleImportScan?: { highestSafetyLevel?: unknown } };
  if (typeof s.status !== "string") return "the hub's security scan has no status";
  if (s.status !== "safe") return `the hub's security scan says "${s.status.slice(0, 40)}", not "safe"`;
  if (s.safe === false) return `the hub's security scan says "safe" but also safe: false`;
  if (s.avScan?.virusFound === true) {
    const names = Array.isArray(s.avScan.virusNames) ? `: ${s.avScan.virusNames.map(String).join(", ").slice(0, 200)}` : "";
    return `the hub's antivirus scan found a virus${names}`;
  }
  const level = s.pickleImportScan?.highestSafetyLevel;
  if (level === "suspicious" || level === "dangerous") return `the hub's pickle scan rates its imports ${level}`;
  return undefined;
}

/**
 * Applies `sources.hub_scan` to one file: the reason to block it under `require_safe`; under `warn`
 * the concern goes to the decision's notes instead.
 */
export function hubScanBlock(file: ScannedFile, mode: HubScanMode, notes: string[]): string | undefined {
  if (mode === "ignore") return undefined;
  const concern = hubScanConcern(file);
  if (concern === undefined) return undefined;
  if (mode === "require_safe") return concern;
  notes.push(concern);
  return undefined;
}
