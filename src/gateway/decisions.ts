/**
 * A decision of the gateway as it is kept (in the state backend) and shown (on the page), and the
 * recent history the page shows. Verdicts themselves are kept by the state backends (state.ts).
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

/** The decisions this process made, newest last, for the page; bounded however long it runs. */
export class DecisionHistory {
  private readonly recentList: DecisionRecord[] = [];
  private readonly quarantinedList: DecisionRecord[] = [];

  add(d: DecisionRecord): void {
    pushBounded(this.recentList, d, GATEWAY_LIMITS.recentDecisions);
    if (d.result.quarantined !== undefined) pushBounded(this.quarantinedList, d, GATEWAY_LIMITS.quarantineShown);
  }

  /** Newest first. */
  recent(): readonly DecisionRecord[] {
    return [...this.recentList].reverse();
  }

  quarantined(): readonly DecisionRecord[] {
    return [...this.quarantinedList].reverse();
  }
}

function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.shift();
}
