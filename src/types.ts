/** Core vocabulary shared by every stage: severities, findings, per-file results. */
import type { ExcludedPath } from "./exclusions.js";
import type { RuleId } from "./rules/catalogue.js";

export const SEVERITIES = ["critical", "high", "medium", "low", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Higher is worse; `info` is 0 so thresholds compare with `>=`. */
export function severityRank(s: Severity): number {
  return SEVERITIES.length - 1 - SEVERITIES.indexOf(s);
}

/** The fail threshold: a severity, or "none" to report without blocking on findings. */
export type Threshold = Severity | "none";

export function atLeast(s: Severity, threshold: Threshold): boolean {
  return threshold !== "none" && severityRank(s) >= severityRank(threshold);
}

/** Where a finding is: the scanned file, the chain of archive members inside it, a byte offset. */
export interface Location {
  path: string;
  /** Archive member path; nested archives are joined with " > ". */
  member?: string;
  /** Byte offset within the innermost stream (the member's content, or the file). */
  offset?: number;
}

export interface Finding {
  rule: RuleId;
  severity: Severity;
  message: string;
  location: Location;
  /** What was seen, e.g. "posix.system called via REDUCE with ('id',)". */
  evidence?: string;
  reference?: string;
}

/** Formats recognised by content. "unknown" content is skipped, never silently dropped. */
export type Format =
  | "pickle"
  | "pytorch-zip"
  | "torchscript"
  /** A TorchScript module saved as a flatbuffer (file identifier PTMF), which torch.jit.load also reads. */
  | "torchscript-flatbuffer"
  | "pytorch-legacy"
  | "pytorch-tar"
  | "numpy"
  | "npz"
  | "zip"
  | "tar"
  | "gzip"
  | "bz2"
  | "xz"
  | "lz4"
  /** zstd (pandas' compression="zstd"). */
  | "zstd"
  | "joblib-zfile"
  | "lzma"
  | "zlib"
  | "7z"
  | "safetensors"
  | "safetensors-index"
  | "gguf"
  | "onnx"
  | "keras-h5"
  | "keras-v3"
  | "tf-savedmodel"
  /** saved_model.pbtxt: a SavedModel in protobuf text format, found by its name. */
  | "tf-savedmodel-text"
  | "keras-metadata"
  | "tflite"
  /** A torch.distributed.checkpoint shard (.distcp): torch.save archives back to back. */
  | "pytorch-dcp"
  /** A JSON or YAML config a loader reads to import code or render a template (config.json, modules.json, model_index.json, Hydra YAML…). */
  | "model-config"
  /** A Jinja chat template file (chat_template.jinja). */
  | "chat-template"
  /** A skops schema (schema.json of a .skops zip): the node tree skops.io.load rebuilds. */
  | "skops-schema"
  /** PMML (XML, root element PMML). */
  | "pmml"
  /** OpenVINO IR: the .xml graph (root element net) of a model whose weights are in a .bin beside it. */
  | "openvino-ir"
  | "unknown";

export type Verdict = "pass" | "block";

export interface FileResult {
  path: string;
  format: Format;
  size: number;
  verdict: Verdict;
  findings: Finding[];
  /** Why the file was not analysed (unknown content). Skipped files do not pass silently: they are counted. */
  skipped?: string;
  /** Set when the scan of this file failed outright (I/O error); such a file is never reported clean. */
  error?: string;
  /** Bytes actually read from the file (the point of the "read only what is needed" principle); for remote files, bytes transferred. */
  bytesRead: number;
  /** Where the bytes came from, for a URL, a Hugging Face repository file or a cache file (absent for a plain local path). */
  source?: FileOrigin;
  /** SHA-256 of the whole file, where something needed it (lock, cache, audit log, quarantine). */
  sha256?: string;
  /** Which policy rule decided `verdict`, and why (set whenever a policy was applied). */
  decision?: Decision;
  /** Findings a policy ignore entry set aside: not counted, not deciding, still shown. */
  suppressed?: SuppressedFinding[];
  /** Where a blocked file was moved by --quarantine. */
  quarantined?: { id: string; path: string };
  /** The model signature (model.sig) of the folder the file is in, when the policy has a `signatures` section. */
  signature?: SignatureCheck;
  /** What loading the file inside the sandbox was seen to attempt (scan --sandbox); absent when it was not detonated. */
  sandbox?: SandboxResult;
}

/** Who signed a model (OpenSSF model signing), once a trusted signer was established. */
export interface SignerInfo {
  method: "keyless" | "certificate" | "key";
  /** Keyless Sigstore: the certificate's identity (subject alternative name) and OIDC issuer. */
  identity?: string;
  issuer?: string;
  /** Certificate: the signing certificate's subject and SHA-256 fingerprint. */
  subject?: string;
  fingerprint?: string;
  /** Key and certificate: sha256 of the public key's PEM (the key hint model_signing writes). */
  keySha256?: string;
  /** Which trusted entry matched (an identity, or the key or chain file). */
  trustedBy: string;
}

/** The signature check that covers a file. */
export interface SignatureCheck {
  /** The model.sig checked (absent when none was found). */
  signature?: string;
  verified: boolean;
  /** Set when the signer was trusted (also when the files then did not match). */
  signer?: SignerInfo;
  /** Why the file is not verified. */
  reason?: string;
}

/** The loaders the sandbox can run a file with (src/sandbox/loaders.ts says which format gets which). */
export const SANDBOX_LOADERS = ["pickle", "joblib", "torch", "numpy", "keras", "onnx"] as const;
export type SandboxLoader = (typeof SANDBOX_LOADERS)[number];

/** One thing the load attempted, as the harness's audit hook or strace saw it. */
export interface SandboxEvent {
  /** "audit": Python's audit hook inside the loader's process; "strace": system calls, seen from outside the jail. */
  source: "audit" | "strace";
  severity: Severity;
  kind: "process" | "network" | "file-write" | "file-read" | "code" | "native" | "import" | "tamper" | "other";
  /** One line a person understands, e.g. "executes /bin/sh -c 'echo hi'". */
  message: string;
  /** The audit event or system call as seen, shortened. */
  evidence: string;
}

/**
 * The outcome of loading one file in the sandbox. "dangerous": an event at high or worse was seen;
 * "clean": the loader finished and nothing at high or worse was seen (not a statement that the file is
 * safe); "failed": the sandbox or the loader could not run to the end and nothing dangerous was seen
 * before it stopped (`reason` says why).
 */
export interface SandboxResult {
  status: "clean" | "dangerous" | "failed";
  /** Absent when no loader could be chosen (a format no loader reads). */
  loader?: SandboxLoader;
  reason?: string;
  /** In the order they happened. */
  events: SandboxEvent[];
  /** Events not kept once the per-file bound was reached. */
  eventsDropped?: number;
  durationMs: number;
}

/** The policy's verdict on one file: `rule` names the policy key that decided it (e.g. "fail_on", "extensions.block"). */
export interface Decision {
  verdict: Verdict;
  rule: string;
  reason: string;
  /** What the policy noticed without deciding on it (an untrusted source in "warn" mode, an expired ignore). */
  notes?: string[];
}

export interface SuppressedFinding extends Finding {
  ignore: { reason: string; expires: string };
}

/** An ignore entry whose expiry date has passed: it no longer applies, and says so. */
export interface ExpiredIgnore {
  rule: string;
  path?: string;
  reason: string;
  expires: string;
  /** Line of the entry in the policy file. */
  line: number;
}

/** Which policy was applied (top-level `policy` of the report). */
export interface PolicyInfo {
  /** The policy file, or undefined for the built-in default (only the fail threshold). */
  path?: string;
  /** Where the fail threshold came from: the --fail-on flag, the policy file's fail_on, or the built-in default. */
  failOnFrom?: ThresholdSource;
  sha256?: string;
  expiredIgnores: ExpiredIgnore[];
}

export type ThresholdSource = "flag" | "policy" | "default";

/** Where a scanned file came from when it is not a plain local path. */
export interface FileOrigin {
  /** "url": a URL given directly; "hub": a file of a Hugging Face repository; "hf-cache": a file of the local Hugging Face cache. */
  kind: "url" | "hub" | "hf-cache";
  /** The URL fetched; for hub files, the download URL at `commit`. */
  url?: string;
  /** Repository id: "owner/name", "datasets/owner/name", "spaces/owner/name". */
  repo?: string;
  /** The revision asked for (default "main"); for cache files, the refs that point at the snapshot. */
  revision?: string;
  /** The commit the content is from (the hub's resolution of `revision`, the cache snapshot, or a URL's X-Repo-Commit). */
  commit?: string;
  /** Path of the file inside the repository. */
  file?: string;
  /** False when the server ignored Range requests and the file was downloaded whole. */
  rangeRequests?: boolean;
  etag?: string;
  /** The hub's own security scan of the file (its `securityFileStatus`), as the hub reported it. */
  hubSecurityStatus?: unknown;
  /** The sha256 the hub publishes for the file's content (its Git LFS object id); LFS files only. */
  lfsSha256?: string;
  /** Other names of the same content (cache snapshots linking one blob): scanned once, reported here. */
  alsoAt?: string[];
}

export const REPORT_SCHEMA = "modelgate.report/v1";

export interface ScanSummary {
  /** Files whose content was recognised and analysed. */
  filesScanned: number;
  /** Files whose content is not a model format (listed with --show-skipped). */
  filesSkipped: number;
  filesBlocked: number;
  /** Files that could not be read at all. */
  filesErrored: number;
  findings: Record<Severity, number>;
  /** Bytes read from storage, against the total size of the files scanned. */
  bytesRead: number;
  bytesTotal: number;
  durationMs: number;
  /** Paths the walk left out (default folders, --exclude, --include, .modelgateignore); each is listed in the report's `excluded`. */
  pathsExcluded?: number;
}

/** The JSON report contract (DESIGN.md): versioned, changed only additively. */
export interface ScanReport {
  schema: typeof REPORT_SCHEMA;
  tool: { name: "modelgate"; version: string; rulesVersion: string };
  verdict: Verdict;
  failOn: Threshold;
  summary: ScanSummary;
  files: FileResult[];
  policy?: PolicyInfo;
  /** Set when the files were also checked by ClamAV: the clamd asked, and its engine and signature versions. */
  clamav?: { address: string; version: string };
  /** Paths the walk left out, with what excluded them (a folder stands for everything under it). */
  excluded?: ExcludedPath[];
}

/** A file as the engine scanned it: findings and facts, before the policy layer decides its verdict. */
export type ScannedFile = Omit<FileResult, "verdict" | "decision" | "suppressed" | "quarantined">;

/** A file whose scan could not run or finish: the error blocks it (fail closed), whatever the policy. */
export function failedScan(path: string, error: string): ScannedFile {
  return { path, format: "unknown", size: 0, findings: [], error, bytesRead: 0 };
}
