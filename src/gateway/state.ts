/**
 * What the gateway remembers, behind one interface so that one process, a restart and several
 * processes behave alike: verdicts keyed by true content (sha256), file name and policy; which
 * upstream file identity is which stored blob (for files the hub publishes no sha256 for); and the
 * lease that lets one process at a time fetch and scan a file. Backends: memory (state.ts), SQLite
 * under the store (stateSqlite.ts, the default), Redis (stateRedis.ts).
 */
import type { DecisionRecord } from "./decisions.js";
import { GATEWAY_LIMITS } from "./limits.js";
import { FileLeases } from "./fileLease.js";

export interface GatewayState {
  /** A short description for the log and the page ("sqlite /var/lib/modelgate/state.sqlite"). */
  readonly description: string;
  verdict(key: VerdictKey): Promise<DecisionRecord | undefined>;
  recordVerdict(key: VerdictKey, record: DecisionRecord): Promise<void>;
  /** The sha256 of the content last fetched for an upstream identity (see identityOf). */
  blobOf(identity: string): Promise<string | undefined>;
  rememberBlob(identity: string, sha256: string): Promise<void>;
  /** Runs `work` while holding the lease of `key`, across every process that shares this state. */
  exclusive<T>(key: string, work: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A verdict holds for this content, under this name (extension checks read it), under this policy. */
export interface VerdictKey {
  sha256: string;
  name: string;
  policy: string;
}

export function verdictKeyText(k: VerdictKey): string {
  return `${k.policy}\u0000${k.sha256}\u0000${k.name}`;
}

/** Kept by this process only, bounded; the lease still goes through lock files in the store. */
export class MemoryState implements GatewayState {
  readonly description = "memory";
  private readonly verdicts = new Map<string, DecisionRecord>();
  private readonly blobs = new Map<string, string>();

  constructor(private readonly leases: FileLeases) {}

  verdict(key: VerdictKey): Promise<DecisionRecord | undefined> {
    return Promise.resolve(this.verdicts.get(verdictKeyText(key)));
  }

  recordVerdict(key: VerdictKey, record: DecisionRecord): Promise<void> {
    bounded(this.verdicts, verdictKeyText(key), record, GATEWAY_LIMITS.decisionCache);
    return Promise.resolve();
  }

  blobOf(identity: string): Promise<string | undefined> {
    return Promise.resolve(this.blobs.get(identity));
  }

  rememberBlob(identity: string, sha256: string): Promise<void> {
    bounded(this.blobs, identity, sha256, GATEWAY_LIMITS.decisionCache);
    return Promise.resolve();
  }

  exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    return this.leases.exclusive(key, work);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Insertion-ordered map as a FIFO cache: the oldest entry leaves first. */
function bounded<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value!);
}
