/**
 * The policy file (modelgate.yml): its schema, checked over the YAML syntax tree so that every
 * error names its line, and the typed Policy the rest of the gate reads.
 */
import { sha256Hex } from "../hash.js";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { Node, Pair } from "yaml";
import { onFirstUse } from "../onFirstUse.js";
import { judge, type CallableOverrides } from "../pickle/judge.js";
import type { DenyEntry } from "../rules/callables.js";
import { RULES, type RuleId } from "../rules/catalogue.js";
import { SEVERITIES, type Format, type Severity, type Threshold, type ThresholdSource } from "../types.js";
import { parseClamdAddress } from "../clamav/client.js";
import { parseClamavSize, type ClamavPolicy } from "../clamav/settings.js";
import { HUB_SCAN_MODES, type HubScanMode } from "./hubScan.js";
import { parseSignaturePolicy, type SignaturePolicy } from "./signatures.js";

const yaml = onFirstUse<typeof import("yaml")>("yaml");

export const POLICY_FILE = "modelgate.yml";
/** The file `modelgate lock` writes and `modelgate verify` reads. */
export const LOCK_FILE = "modelgate.lock";

/** "info" is not a threshold: blocking on informational findings would block every model; "none" reports without blocking on findings. */
export const FAIL_ON_CHOICES = ["critical", "high", "medium", "low", "none"] as const satisfies readonly Threshold[];

export const UNTRUSTED_MODES = ["block", "warn", "scan"] as const;
export type UntrustedMode = (typeof UNTRUSTED_MODES)[number];

/** Every detected format a policy may name; a Record so that a new Format fails to compile here until listed. */
const FORMAT_NAMES: Record<Format, true> = {
  pickle: true,
  "pytorch-zip": true,
  torchscript: true,
  "pytorch-legacy": true,
  "pytorch-tar": true,
  numpy: true,
  npz: true,
  zip: true,
  tar: true,
  gzip: true,
  bz2: true,
  xz: true,
  lz4: true,
  zstd: true,
  "joblib-zfile": true,
  lzma: true,
  zlib: true,
  "7z": true,
  safetensors: true,
  "safetensors-index": true,
  gguf: true,
  onnx: true,
  "keras-h5": true,
  "keras-v3": true,
  "tf-savedmodel": true,
  "tf-savedmodel-text": true,
  "keras-metadata": true,
  tflite: true,
  "torchscript-flatbuffer": true,
  "pytorch-dcp": true,
  "model-config": true,
  "chat-template": true,
  "skops-schema": true,
  pmml: true,
  "openvino-ir": true,
  unknown: true,
};

/** Format groups a policy may name instead of listing members: every format whose loader unpickles. */
export const FORMAT_GROUPS: Readonly<Record<string, readonly Format[]>> = {
  "pickle-based": ["pickle", "pytorch-zip", "torchscript", "pytorch-legacy", "pytorch-tar", "pytorch-dcp", "joblib-zfile"],
};

/** A trusted origin: a hub org, a hub repo (optionally at one revision), or a URL prefix. */
export type TrustedSource =
  | { kind: "hub"; owner: string; repo?: string; revision?: string; line: number }
  | { kind: "url"; prefix: string; line: number };

export interface IgnoreEntry {
  /** A rule id, or "*" for every rule. */
  rule: RuleId | "*";
  /** Glob over the file's report path (`**` crosses folders); absent: every file. */
  path?: string;
  reason: string;
  /** Last day (UTC, YYYY-MM-DD) on which the entry applies. */
  expires: string;
  line: number;
}

export interface Policy {
  /** Absolute path of the policy file; undefined for the built-in default. */
  path?: string;
  sha256?: string;
  failOn: Threshold;
  /** Where failOn came from: the policy file's fail_on, the --fail-on flag (which wins over the file), or the default. */
  failOnFrom: ThresholdSource;
  formats: { block: ReadonlySet<Format>; allow?: ReadonlySet<Format> };
  /** Lower-case, with the leading dot. */
  extensions: { block: readonly string[] };
  requireSafetensors: boolean;
  /** `hub_scan`: what the hub's own scan of an hf:// file must say (default "ignore"). */
  sources: { trusted: readonly TrustedSource[]; untrusted: UntrustedMode; hubScan: HubScanMode };
  callables: CallableOverrides;
  ignores: readonly IgnoreEntry[];
  /** Resolved against the policy file's folder. */
  auditLog?: string;
  quarantine?: string;
  /** `clamav:` — every file is also checked by clamd (src/clamav/). */
  clamav?: ClamavPolicy;
  /** Trusted model signers, and whether a verified signature is required (absent: signatures are not checked). */
  signatures?: SignaturePolicy;
}

/** The fail threshold when neither a flag nor a policy file sets one. */
export const DEFAULT_FAIL_ON: Severity = "medium";

/** The policy when no file is given: only the fail threshold decides. */
export function defaultPolicy(failOn: Threshold = DEFAULT_FAIL_ON, failOnFrom: ThresholdSource = "default"): Policy {
  return {
    failOn,
    failOnFrom,
    formats: { block: new Set() },
    extensions: { block: [] },
    requireSafetensors: false,
    sources: { trusted: [], untrusted: "scan", hubScan: "ignore" },
    callables: { allow: new Set(), deny: new Map() },
    ignores: [],
  };
}

/** A policy file that does not meet the schema; `errors` are "file:line: message" strings. */
export class PolicyError extends Error {
  constructor(readonly errors: string[]) {
    super(errors.join("\n"));
  }
}

export async function loadPolicy(path: string): Promise<Policy> {
  const absolute = resolve(path);
  let text: string;
  try {
    text = await readFile(absolute, "utf8");
  } catch (err) {
    throw new PolicyError([`${path}: cannot read the policy file: ${(err as Error).message}`]);
  }
  return parsePolicy(text, path, absolute);
}

/** Parses and validates policy text; `label` is how errors name the file, `absolute` where relative paths start. */
export function parsePolicy(text: string, label: string, absolute = resolve(label)): Policy {
  const { isMap, isScalar, isSeq, LineCounter, parseDocument } = yaml();
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const errors: string[] = [];
  const lineOf = (node: Node | null | undefined): number => (node?.range ? lines.linePos(node.range[0]).line : 1);
  const fail = (node: Node | null | undefined, message: string): void => {
    errors.push(`${label}:${lineOf(node)}: ${message}`);
  };
  for (const e of doc.errors) errors.push(`${label}:${lines.linePos(e.pos[0]).line}: ${e.message.split("\n")[0]}`);
  if (errors.length > 0) throw new PolicyError(errors);

  const policy = defaultPolicy();
  policy.path = absolute;
  policy.sha256 = sha256Hex(text);
  const base = dirname(absolute);
  const root = doc.contents;
  if (root === null) return policy;
  if (!isMap(root)) throw new PolicyError([`${label}:${lineOf(root)}: the policy must be a mapping of keys`]);

  const str = (node: unknown, what: string): string | undefined => {
    if (isScalar(node) && typeof node.value === "string" && node.value.trim() !== "") return node.value;
    fail(node as Node, `${what} must be a non-empty string`);
    return undefined;
  };
  const list = (node: unknown, what: string): Node[] => {
    if (isSeq(node)) return node.items as Node[];
    fail(node as Node, `${what} must be a list`);
    return [];
  };
  const oneOf = <T extends string>(node: unknown, what: string, choices: readonly T[]): T | undefined => {
    const value = isScalar(node) ? node.value : undefined;
    if (typeof value === "string" && (choices as readonly string[]).includes(value)) return value as T;
    fail(node as Node, `${what} must be one of ${choices.join(", ")}`);
    return undefined;
  };
  /** The pairs of a mapping, with unknown keys reported. */
  const fields = (node: unknown, what: string, known: readonly string[]): Map<string, Pair<Node, Node>> => {
    const out = new Map<string, Pair<Node, Node>>();
    if (!isMap(node)) {
      fail(node as Node, `${what} must be a mapping`);
      return out;
    }
    for (const pair of node.items as Pair<Node, Node>[]) {
      const key = isScalar(pair.key) ? String(pair.key.value) : "";
      if (!known.includes(key)) fail(pair.key, `unknown key ${JSON.stringify(key)} in ${what} (known: ${known.join(", ")})`);
      else out.set(key, pair);
    }
    return out;
  };

  const top = fields(root, "the policy", [
    "version",
    "fail_on",
    "formats",
    "extensions",
    "require_safetensors",
    "sources",
    "callables",
    "ignore",
    "audit_log",
    "quarantine",
    "clamav",
    "signatures",
  ]);
  const value = (pair: Pair<Node, Node> | undefined): Node | undefined => (pair ? (pair.value ?? pair.key) : undefined);

  const version = value(top.get("version"));
  if (version && !(isScalar(version) && version.value === 1)) fail(version, "version must be 1");

  const failOn = value(top.get("fail_on"));
  if (failOn) {
    const v = oneOf(failOn, "fail_on", FAIL_ON_CHOICES);
    if (v) [policy.failOn, policy.failOnFrom] = [v, "policy"];
  }

  const formats = value(top.get("formats"));
  if (formats) {
    const f = fields(formats, "formats", ["block", "allow"]);
    const formatList = (key: string): Set<Format> | undefined => {
      const node = value(f.get(key));
      if (!node) return undefined;
      const out = new Set<Format>();
      for (const item of list(node, `formats.${key}`)) {
        const name = str(item, `formats.${key} entries`);
        if (name === undefined) continue;
        const group = Object.hasOwn(FORMAT_GROUPS, name) ? FORMAT_GROUPS[name] : undefined;
        if (group) for (const g of group) out.add(g);
        else if (Object.hasOwn(FORMAT_NAMES, name)) out.add(name as Format);
        else fail(item, `unknown format ${JSON.stringify(name)} in formats.${key} (known: ${[...Object.keys(FORMAT_GROUPS), ...Object.keys(FORMAT_NAMES)].join(", ")})`);
      }
      return out;
    };
    policy.formats.block = formatList("block") ?? new Set();
    const allow = formatList("allow");
    if (allow) policy.formats.allow = allow;
  }

  const extensions = value(top.get("extensions"));
  if (extensions) {
    const e = fields(extensions, "extensions", ["block"]);
    const block = value(e.get("block"));
    const out: string[] = [];
    if (block) {
      for (const item of list(block, "extensions.block")) {
        const ext = str(item, "extensions.block entries");
        if (ext === undefined) continue;
        if (!/^\.?[^./\\\s]+(\.[^./\\\s]+)*$/.test(ext)) fail(item, `extensions.block: ${JSON.stringify(ext)} is not an extension such as .pkl`);
        else out.push((ext.startsWith(".") ? ext : `.${ext}`).toLowerCase());
      }
    }
    policy.extensions.block = out;
  }

  const requireSafetensors = value(top.get("require_safetensors"));
  if (requireSafetensors) {
    if (isScalar(requireSafetensors) && typeof requireSafetensors.value === "boolean") policy.requireSafetensors = requireSafetensors.value;
    else fail(requireSafetensors, "require_safetensors must be true or false");
  }

  const sources = value(top.get("sources"));
  if (sources) {
    const s = fields(sources, "sources", ["trusted", "untrusted", "hub_scan"]);
    const trusted: TrustedSource[] = [];
    const list_ = value(s.get("trusted"));
    if (list_) {
      for (const item of list(list_, "sources.trusted")) {
        const text_ = str(item, "sources.trusted entries");
        if (text_ === undefined) continue;
        const parsed = parseTrusted(text_, lineOf(item));
        if (typeof parsed === "string") fail(item, parsed);
        else trusted.push(parsed);
      }
    }
    const mode = value(s.get("untrusted"));
    // Listing trusted sources without saying what happens to the rest means the rest are not wanted.
    const untrusted = mode ? oneOf(mode, "sources.untrusted", UNTRUSTED_MODES) : trusted.length > 0 ? "block" : "scan";
    const hubScan = value(s.get("hub_scan"));
    policy.sources = { trusted, untrusted: untrusted ?? "block", hubScan: (hubScan && oneOf(hubScan, "sources.hub_scan", HUB_SCAN_MODES)) || "ignore" };
  }

  const callables = value(top.get("callables"));
  if (callables) {
    const c = fields(callables, "callables", ["allow", "deny"]);
    const allow = new Set<string>();
    const deny = new Map<string, DenyEntry>();
    const allowNode = value(c.get("allow"));
    if (allowNode) {
      for (const item of list(allowNode, "callables.allow")) {
        const name = str(item, "callables.allow entries");
        if (name === undefined) continue;
        const dot = name.lastIndexOf(".");
        if (dot <= 0 || dot === name.length - 1) {
          fail(item, `callables.allow: ${JSON.stringify(name)} is not a qualified name such as mypackage.models.Net`);
          continue;
        }
        // Fail closed: a policy may extend the allowlist, never re-open what the built-in rules deny.
        const builtIn = judge(name.slice(0, dot), name.slice(dot + 1), { torchscript: false });
        if (builtIn.kind === "deny" || builtIn.kind === "walk") {
          fail(item, `callables.allow: ${name} is denied by the built-in rules and cannot be allowed`);
          continue;
        }
        allow.add(name);
      }
    }
    const denyNode = value(c.get("deny"));
    if (denyNode) {
      for (const item of list(denyNode, "callables.deny")) {
        if (isMap(item)) {
          const d = fields(item, "a callables.deny entry", ["name", "reason", "severity"]);
          const name = d.get("name") ? str(value(d.get("name")), "callables.deny name") : (fail(item, "a callables.deny entry needs a name"), undefined);
          const reason = d.get("reason") ? str(value(d.get("reason")), "callables.deny reason") : undefined;
          const severity = d.get("severity") ? oneOf(value(d.get("severity")), "callables.deny severity", SEVERITIES) : undefined;
          if (name !== undefined) deny.set(name, denyEntry(reason, severity));
        } else {
          const name = str(item, "callables.deny entries");
          if (name !== undefined) deny.set(name, denyEntry(undefined, undefined));
        }
      }
    }
    policy.callables = { allow, deny };
  }

  const ignores = value(top.get("ignore"));
  if (ignores) {
    const out: IgnoreEntry[] = [];
    for (const item of list(ignores, "ignore")) {
      const i = fields(item, "an ignore entry", ["rule", "path", "reason", "expires"]);
      if (!isMap(item)) continue;
      const need = (key: string): string | undefined =>
        i.get(key) ? str(value(i.get(key)), `ignore ${key}`) : (fail(item, `an ignore entry needs ${key}`), undefined);
      const rule = need("rule");
      const reason = need("reason");
      const expires = need("expires");
      const path = i.get("path") ? str(value(i.get("path")), "ignore path") : undefined;
      const ruleKnown = rule === "*" || (rule !== undefined && Object.hasOwn(RULES, rule));
      if (rule !== undefined && !ruleKnown) fail(value(i.get("rule")), `ignore: unknown rule ${JSON.stringify(rule)}`);
      const dated = expires !== undefined && isCalendarDate(expires);
      if (expires !== undefined && !dated) fail(value(i.get("expires")), `ignore expires must be a date such as 2026-12-31`);
      if (ruleKnown && reason !== undefined && dated) {
        out.push({ rule: rule as RuleId | "*", reason, expires, line: lineOf(item), ...(path !== undefined && { path }) });
      }
    }
    policy.ignores = out;
  }

  for (const key of ["audit_log", "quarantine"] as const) {
    const node = value(top.get(key));
    if (!node) continue;
    const p = str(node, key);
    if (p !== undefined) policy[key === "audit_log" ? "auditLog" : "quarantine"] = resolve(base, p);
  }

  const clamav = value(top.get("clamav"));
  if (clamav) {
    const c = fields(clamav, "clamav", ["address", "max_size", "timeout"]);
    const out: ClamavPolicy = {};
    const address = value(c.get("address"));
    if (address) {
      const text_ = str(address, "clamav.address");
      const parsed = text_ === undefined ? undefined : parseClamdAddress(text_);
      if (parsed) out.address = parsed;
      else if (text_ !== undefined) fail(address, `clamav.address: ${JSON.stringify(text_)} is neither a socket path (with a /) nor host:port`);
    }
    const maxSize = value(c.get("max_size"));
    if (maxSize) {
      const bytes = isScalar(maxSize) && (typeof maxSize.value === "number" || typeof maxSize.value === "string") ? parseClamavSize(String(maxSize.value)) : undefined;
      if (bytes !== undefined) out.maxBytes = bytes;
      else fail(maxSize, "clamav.max_size must be a size in bytes, or with K, M or G (as in clamd.conf: 2G)");
    }
    const timeout = value(c.get("timeout"));
    if (timeout) {
      const seconds = isScalar(timeout) ? timeout.value : undefined;
      if (typeof seconds === "number" && Number.isFinite(seconds) && seconds > 0) out.timeoutMs = Math.round(seconds * 1000);
      else fail(timeout, "clamav.timeout must be a positive number of seconds");
    }
    policy.clamav = out;
  }
  const signatures = value(top.get("signatures"));
  if (signatures) {
    const bool = (node: unknown, what: string): boolean | undefined =>
      isScalar(node) && typeof node.value === "boolean" ? node.value : (fail(node as Node, `${what} must be true or false`), undefined);
    policy.signatures = parseSignaturePolicy(signatures, { fail: (node, message) => fail(node as Node, message), str, list, fields, value, isSeq, bool }, base);
  }

  if (errors.length > 0) throw new PolicyError(errors);
  return policy;
}

function denyEntry(reason: string | undefined, severity: Severity | undefined): DenyEntry {
  return { severity: severity ?? "high", reason: reason ? `is denied by the policy: ${reason}` : "is denied by the policy" };
}

function isCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(text);
}

/**
 * `hf://owner`, `hf://owner/repo`, `hf://owner/repo@revision`, or an http(s) URL prefix.
 * Returns the parsed entry or an error message.
 */
export function parseTrusted(text: string, line: number): TrustedSource | string {
  if (text.startsWith("hf://")) {
    const m = /^hf:\/\/([\w.-]+)(?:\/([\w.-]+)(?:@([\w./-]+))?)?\/?$/.exec(text);
    if (!m) return `sources.trusted: ${JSON.stringify(text)} is not hf://owner, hf://owner/repo or hf://owner/repo@revision`;
    return { kind: "hub", owner: m[1]!, line, ...(m[2] !== undefined && { repo: m[2] }), ...(m[3] !== undefined && { revision: m[3] }) };
  }
  if (/^https?:\/\/[^/\s]+/.test(text)) return { kind: "url", prefix: text, line };
  return `sources.trusted: ${JSON.stringify(text)} is neither hf://… nor an http(s) URL prefix`;
}
