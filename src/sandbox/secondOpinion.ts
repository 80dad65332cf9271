/**
 * `scan --sandbox`: after the static scan, the pickle-family files are loaded in the sandbox and each
 * file carries the dynamic result (`sandbox`); where the two verdicts disagree, the file gets an MG172
 * finding. Runs on the engine's report before the policy decides, so a dangerous load blocks.
 */
import { decideFile, type ScannedFiles } from "../policy/decide.js";
import type { Policy } from "../policy/policy.js";
import { ruleInfo } from "../rules/catalogue.js";
import type { Finding, SandboxResult, ScannedFile, Verdict } from "../types.js";
import { detonate, type DetonateOptions } from "./detonate.js";
import { isPickleFamily, loaderForFormat } from "./loaders.js";

/**
 * Detonates every local, readable pickle-family scanned file in place, before the policy decides;
 * the static verdict it is compared with is the policy's on the static findings alone. Returns one
 * line per file the sandbox could not finish (those are failures of the run, not clean files).
 */
export async function addSandboxResults(
  scanned: ScannedFiles,
  policy: Policy,
  options: Omit<DetonateOptions, "loader"> = {},
  /** Where each file's bytes are (the gateway's stored blob; a local scan's own path by default). */
  pathOf: (file: ScannedFile) => string = (file) => file.path,
): Promise<string[]> {
  const problems: string[] = [];
  for (const file of scanned.files) {
    if (!isDetonatable(file)) continue;
    const result = await detonate(pathOf(file), { ...options, loader: loaderForFormat(file.format) ?? "auto" });
    file.sandbox = result;
    const staticVerdict = decideFile(file, policy, { safetensorsFolders: new Set() }).verdict;
    const finding = disagreement(file, staticVerdict, result);
    if (finding !== undefined) file.findings.push(finding);
    if (result.status === "failed") problems.push(`sandbox: ${file.path} could not be loaded to the end: ${result.reason ?? "no reason given"}`);
  }
  return problems;
}

/** Local files the scan read, whose format loads by unpickling. */
function isDetonatable(file: ScannedFile): boolean {
  return file.source === undefined && file.error === undefined && file.skipped === undefined && isPickleFamily(file.format, file.path);
}

/** The MG172 finding when the static verdict and the load disagree; undefined when they agree or the load did not finish. */
export function disagreement(file: ScannedFile, staticVerdict: Verdict, result: SandboxResult): Finding | undefined {
  const rule = "MG172" as const;
  const location = { path: file.path };
  const reference = ruleInfo(rule).reference;
  if (result.status === "dangerous" && staticVerdict === "pass") {
    const worst = result.events.find((e) => e.severity === "critical") ?? result.events.find((e) => e.severity === "high");
    return {
      rule,
      severity: "critical",
      message: "static analysis lets this file pass, but loading it in the sandbox did something dangerous",
      location,
      ...(worst && { evidence: `${worst.source}: ${worst.message}` }),
      reference,
    };
  }
  if (result.status === "clean" && staticVerdict === "block") {
    return {
      rule,
      severity: "info",
      message: "static analysis blocks this file; loading it in the sandbox showed nothing dangerous (a payload may wait, or act only when the model is used)",
      location,
      evidence: `${result.loader ?? "loader"} finished with ${result.events.length} events, none high or critical`,
      reference,
    };
  }
  return undefined;
}
