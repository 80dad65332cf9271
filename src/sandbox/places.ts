/** How bad touching a path is, the same for the audit hook's view and strace's. */
import type { SandboxEvent, Severity } from "../types.js";
import { SCRATCH_PREFIXES } from "./jail.js";

/** Secrets a payload reads to send away: keys, tokens, other users' homes, process environments. */
const SENSITIVE =
  /(^|\/)\.(ssh|aws|gnupg|netrc|docker|kube|git-credentials|pgpass|pypirc|npmrc|config\/gcloud)(\/|$)|(^|\/)id_(rsa|dsa|ecdsa|ed25519)|^\/etc\/(shadow|gshadow|sudoers)|^\/proc\/(self|\d+)\/environ$|^\/root(\/|$)|^\/home\/(?!sandbox(\/|$))|^\/(var\/)?run\/secrets(\/|$)/;

/** Devices a write to changes nothing. */
const HARMLESS_DEVICES = new Set(["/dev/null", "/dev/zero", "/dev/full"]);

/** A change to `path`: inside the jail's private scratch space (high), anywhere else (critical), or harmless. */
export function judgeChange(path: string, verb: string, source: SandboxEvent["source"], evidence: string): SandboxEvent | undefined {
  if (HARMLESS_DEVICES.has(path)) return undefined;
  const inScratch = SCRATCH_PREFIXES.some((prefix) => path.startsWith(prefix)) || path === "/tmp";
  const relative = !path.startsWith("/");
  const severity: Severity = inScratch ? "high" : "critical";
  const where = inScratch ? " (inside the sandbox's private scratch space)" : relative ? " (relative to the working folder)" : "";
  return { source, severity, kind: "file-write", message: `${verb} ${path}${where}`, evidence };
}

/** A read of `path`: secrets are high, other files outside the system and the model low. */
export function judgeRead(path: string, source: SandboxEvent["source"], evidence: string): SandboxEvent | undefined {
  if (SENSITIVE.test(path)) return { source, severity: "high", kind: "file-read", message: `reads ${path}, where secrets live`, evidence };
  if (isSystemOrOwn(path)) return undefined;
  return { source, severity: "low", kind: "file-read", message: `reads ${path}`, evidence };
}

/** What any Python reads while it works: its installation, devices, /proc, the jail's own files, its scratch space. */
const ORDINARY_READ = /^\/(usr|lib|lib64|bin|dev|proc|sys|tmp|modelgate-sandbox|home\/sandbox)(\/|$)|^\/etc\/(alternatives|ld\.so|localtime)/;

function isSystemOrOwn(path: string): boolean {
  return ORDINARY_READ.test(path) || !path.startsWith("/");
}
