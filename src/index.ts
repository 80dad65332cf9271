/** The library's public face: the engine, its types, the rule catalogue and the renderers. */
import { scanPaths, type ScanOptions } from "./engine.js";
import type { ScanReport } from "./types.js";

export { scanPaths, scanTargets, scanFile, scanFileFindings, scanSource, UsageError } from "./engine.js";
export type { FileScanOptions, ResultCache, ScanOptions, ScanProgress } from "./engine.js";
export type { ByteSource, ReadCounter } from "./sources/byteSource.js";
export type { Decision, Finding, FileOrigin, FileResult, Format, Location, PolicyInfo, ScanReport, ScanSummary, ScannedFile, Severity, SuppressedFinding, Threshold, ThresholdSource, Verdict } from "./types.js";
export type { RemoteOptions } from "./targets.js";
export { applyPolicy, decideFile, decideReport, defaultPolicy, loadPolicy, parsePolicy, PolicyError, type Policy, type ScannedFiles } from "./policy/index.js";
export type { ExcludedPath, ExclusionOptions } from "./exclusions.js";
export { REPORT_SCHEMA, SEVERITIES } from "./types.js";
export { RULES } from "./rules/catalogue.js";
export type { RuleId, RuleInfo } from "./rules/catalogue.js";
export { renderText, type TextOptions } from "./report/text.js";
export { renderJson } from "./report/json.js";
export { renderSarif, type SarifOptions } from "./report/sarif.js";
export { renderCycloneDx, type CycloneDxOptions } from "./report/cyclonedx.js";

/**
 * Scans one or more files or folders: `await scan("model.pt")`. Never loads or executes them.
 * Throws UsageError when a path does not exist.
 */
export function scan(target: string | string[], options: ScanOptions = {}): Promise<ScanReport> {
  return scanPaths(Array.isArray(target) ? target : [target], options);
}
