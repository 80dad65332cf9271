/**
 * What the gateway has decided: verdicts cached by content (sha256) and file name (extension checks
 * depend on the name), which upstream file identity is which stored blob, and the recent history the
 * page shows. Everything here is bounded; what falls out is fetched or scanned again when asked for.
 */
import type { FileResult } from "../types.js";
import { GATEWAY_LIMITS } from "./limits.js";

export interface DecisionRecord {
  time: string;
  /** "org/name", "datasets/org/name". */
  repo: string;
  revision: string;
  commit: string | undefined;
  path: string;
  sha256: string;
  size: number;
  /** The decided scan result: verdict, decision (rule, reason), findings, where it was quarantined. */
  result: FileResult;
  scanMs: number;
}

export class Decisions {
  private readonly verdicts = new Map<string, DecisionRecord>();
  /** Upstream identity (etag, or commit and path) → sha256 of the stored blob. */
  private readonly blobs = new Map<string, string>();
  private readonly recentList: DecisionRecord[] = [];
  private readonly quarantinedList: DecisionRecord[] = [];

  cached(sha256: string, name: string): DecisionRecord | undefined {
    return this.verdicts.get(verdictKey(sha256, name));
  }

  record(d: DecisionRecord, name: string): void {
    bounded(this.verdicts, verdictKey(d.sha256, name), d, GATEWAY_LIMITS.decisionCache);
    pushBounded(this.recentList, d, GATEWAY_LIMITS.recentDecisions);
    if (d.result.quarantined !== undefined) pushBounded(this.quarantinedList, d, GATEWAY_LIMITS.quarantineShown);
  }

  blobOf(identity: string): string | undefined {
    return this.blobs.get(identity);
  }

  rememberBlob(identity: string, sha256: string): void {
    bounded(this.blobs, identity, sha256, GATEWAY_LIMITS.decisionCache);
  }

  /** Newest first. */
  recent(): readonly DecisionRecord[] {
    return [...this.recentList].reverse();
  }

  quarantined(): readonly DecisionRecord[] {
    return [...this.quarantinedList].reverse();
  }
}

function verdictKey(sha256: string, name: string): string {
  return `${sha256}\u0000${name}`;
}

/** Insertion-ordered map as a FIFO cache: the oldest entry leaves first. */
function bounded<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value!);
}

function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.shift();
}
