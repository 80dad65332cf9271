/** The machine report (DESIGN.md "Contracts"): the ScanReport itself, schema modelgate.report/v1. */
import type { ScanReport } from "../types.js";

export function renderJson(report: ScanReport): string {
  return JSON.stringify(report, null, 2) + "\n";
}
