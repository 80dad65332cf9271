/**
 * The report as a CycloneDX 1.6 ML-BOM, built with CycloneDX's own JS library: each scanned file is
 * a component (a machine-learning-model, or a plain file for configs, templates and what is not a
 * model format) with its SHA-256, where it came from (hub repository as a purl at the commit, the
 * URL), and modelgate's verdict, decision and findings as `modelgate:` properties, which
 * Dependency-Track and similar tools keep with the component.
 */
import { randomUUID } from "node:crypto";
import type { Models } from "@cyclonedx/cyclonedx-library";
import { onFirstUse } from "../onFirstUse.js";
import { DEFAULT_ENDPOINT } from "../remote/hub.js";
import type { FileResult, Finding, Format, ScanReport } from "../types.js";

/** Formats that are configuration, templates or indexes around a model, not model weights or graphs. */
const NOT_MODELS: ReadonlySet<Format> = new Set(["model-config", "chat-template", "safetensors-index", "unknown"]);

const cyclonedx = onFirstUse<typeof import("@cyclonedx/cyclonedx-library")>("@cyclonedx/cyclonedx-library");
const packageUrl = onFirstUse<typeof import("packageurl-js")>("packageurl-js");

export interface CycloneDxOptions {
  /** The BOM's serial number (default: a random urn:uuid, as the spec asks: unique per BOM). */
  serialNumber?: string;
  /** The BOM's timestamp (default: now). */
  now?: Date;
}

export function renderCycloneDx(report: ScanReport, options: CycloneDxOptions = {}): string {
  const { Enums, Models, Serialize, Spec } = cyclonedx();
  const bom = new Models.Bom({ serialNumber: options.serialNumber ?? `urn:uuid:${randomUUID()}` });
  bom.metadata.timestamp = options.now ?? new Date();
  bom.metadata.tools.components.add(new Models.Component(Enums.ComponentType.Application, "modelgate", { version: report.tool.version }));
  addProperties(bom.metadata.properties, [
    ["verdict", report.verdict],
    ["failOn", report.failOn],
    ["rulesVersion", report.tool.rulesVersion],
    ["policy.path", report.policy?.path],
    ["policy.sha256", report.policy?.sha256],
    ["clamav.version", report.clamav?.version],
  ]);
  for (const file of report.files) bom.components.add(componentOf(file));
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
  return serializer.serialize(bom, { sortLists: true, space: 2 }) + "\n";
}

function componentOf(file: FileResult): Models.Component {
  const { Enums, Models } = cyclonedx();
  const origin = file.source;
  const type = NOT_MODELS.has(file.format) ? Enums.ComponentType.File : Enums.ComponentType.MachineLearningModel;
  const component = new Models.Component(type, origin?.file ?? file.path, {
    bomRef: file.path,
    ...(origin?.repo !== undefined && { group: origin.repo }),
    ...(origin?.commit !== undefined && { version: origin.commit }),
  });
  const purl = hubPurl(file);
  if (purl !== undefined) component.purl = purl;
  if (file.sha256 !== undefined) component.hashes.set(Enums.HashAlgorithm["SHA-256"], file.sha256);
  if (origin?.url !== undefined) component.externalReferences.add(new Models.ExternalReference(origin.url, Enums.ExternalReferenceType.Distribution));
  addProperties(component.properties, [
    ["path", file.path],
    ["format", file.format],
    ["size", String(file.size)],
    ["verdict", file.verdict],
    ["decision.rule", file.decision?.rule],
    ["decision.reason", file.decision?.reason],
    ["skipped", file.skipped],
    ["error", file.error],
    ["source.kind", origin?.kind],
    ["source.repository", origin?.repo],
    ["source.revision", origin?.revision],
    ["source.commit", origin?.commit],
    ["source.hubSecurityStatus", origin?.hubSecurityStatus === undefined ? undefined : JSON.stringify(origin.hubSecurityStatus)],
    ["quarantined", file.quarantined?.path],
    ...file.findings.map((f) => ["finding", findingText(f)] as const),
    ...(file.suppressed ?? []).map((f) => ["suppressed", `${findingText(f)} (ignored: ${f.ignore.reason}; until ${f.ignore.expires})`] as const),
  ]);
  return component;
}

/** `MG100 critical model.pt > archive/data.pkl @44: calls posix.system… [posix.system(…) via REDUCE]` */
function findingText(f: Finding): string {
  const where = [f.location.member, f.location.offset === undefined ? undefined : `@${f.location.offset}`].filter((x) => x !== undefined).join(" ");
  return `${f.rule} ${f.severity}${where === "" ? "" : ` ${where}`}: ${f.message}${f.evidence === undefined ? "" : ` [${f.evidence}]`}`;
}

/** Adds `modelgate:<name>` properties, leaving out those without a value. */
function addProperties(to: Models.PropertyRepository, pairs: readonly (readonly [string, string | undefined])[]): void {
  const { Models } = cyclonedx();
  for (const [name, value] of pairs) if (value !== undefined) to.add(new Models.Property(`modelgate:${name}`, value));
}

/**
 * `pkg:huggingface/owner/name@commit#path` for a model repository file read from the hub or its cache
 * (the purl type names models only; datasets and spaces have none). A hub other than the default
 * is named by the `repository_url` qualifier.
 */
function hubPurl(file: FileResult): string | undefined {
  const o = file.source;
  if ((o?.kind !== "hub" && o?.kind !== "hf-cache") || o.repo === undefined || o.commit === undefined || /^(datasets|spaces)\//.test(o.repo)) return undefined;
  const [owner, name] = o.repo.split("/");
  if (owner === undefined || name === undefined) return undefined;
  const hubOrigin = o.kind === "hub" && o.url !== undefined ? new URL(o.url).origin : undefined;
  const qualifiers = hubOrigin !== undefined && hubOrigin !== new URL(DEFAULT_ENDPOINT).origin ? { repository_url: hubOrigin } : undefined;
  return new (packageUrl().PackageURL)("huggingface", owner, name, o.commit, qualifiers, o.file).toString();
}
