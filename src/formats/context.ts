/** What a format scanner is given: where it is, how to report, how to recurse into members. */
import type { RuleId } from "../rules/catalogue.js";
import type { CallableOverrides } from "../pickle/judge.js";
import type { ByteSource } from "../sources/byteSource.js";
import type { Format, Severity } from "../types.js";

/** Shared across one top-level file, so nested layers cannot each spend the whole limit. */
export interface ScanBudget {
  decompressedBytes: number;
}

export interface ReportExtra {
  offset?: number;
  evidence?: string;
  /** Overrides the rule's default severity (denylist entries carry their own). */
  severity?: Severity;
}

export interface ScanContext {
  /** Display path of the top-level file. */
  readonly path: string;
  /** Member chain inside the top-level file, joined with " > "; undefined for the file itself. */
  readonly member: string | undefined;
  /** Base name of the file or member, used for extension checks and archive layouts. */
  readonly name: string;
  /** Container nesting depth: 0 for the file itself. */
  readonly depth: number;
  readonly budget: ScanBudget;
  /** The organisation's allowed and denied callables (policy file), for every judge of an imported name. */
  readonly callables?: CallableOverrides | undefined;
  report(rule: RuleId, message: string, extra?: ReportExtra): void;
  /**
   * Sniffs `source` by content and scans it as member `member` of the current layer. `fallback`
   * is how a loader is known to read the member when its content is not recognised (the bytes
   * handed to pickle.loads are unpickled whatever they look like).
   */
  scanMember(member: string, source: ByteSource, fallback?: Exclude<Format, "unknown">): Promise<void>;
  /** A context for member `member` of the current layer, for scanners that dispatch members themselves. */
  memberContext(member: string): ScanContext;
  /** Refines the detected format of the top-level file (zip → pytorch-zip); ignored for members. */
  refineFormat(format: Format): void;
}

export type FormatScanner = (source: ByteSource, ctx: ScanContext) => Promise<void>;
