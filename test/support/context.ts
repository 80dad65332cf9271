/** A ScanContext that records what a scanner reports, for tests that run one scanner directly. */
import type { ReportExtra, ScanContext } from "../../src/formats/context.js";
import type { RuleId } from "../../src/rules/catalogue.js";
import type { ByteSource } from "../../src/sources/byteSource.js";
import type { Format } from "../../src/types.js";

export interface Reported {
  rule: RuleId;
  message: string;
  member: string | undefined;
  extra: ReportExtra;
}

export class RecordingContext implements ScanContext {
  readonly budget = { decompressedBytes: 0 };
  readonly members: { name: string; size: number }[] = [];
  refined: Format | undefined;

  constructor(
    readonly reports: Reported[] = [],
    readonly member: string | undefined = undefined,
    readonly depth = 0,
    readonly path = "test.pkl",
    readonly name = "test.pkl",
  ) {}

  report(rule: RuleId, message: string, extra: ReportExtra = {}): void {
    this.reports.push({ rule, message, member: this.member, extra });
  }

  async scanMember(member: string, source: ByteSource, _fallback?: Exclude<Format, "unknown">): Promise<void> {
    this.members.push({ name: member, size: source.size });
  }

  memberContext(member: string): RecordingContext {
    return new RecordingContext(this.reports, member, this.depth + 1, this.path, member);
  }

  refineFormat(format: Format): void {
    this.refined = format;
  }

  rules(): RuleId[] {
    return this.reports.map((r) => r.rule);
  }
}
