/**
 * The gate's API (CLI, gateway): load a policy, decide on results, record decisions in the audit
 * log, move blocked files to quarantine, pin files in a lock, remember results between scans.
 */
export { DEFAULT_FAIL_ON, POLICY_FILE, PolicyError, defaultPolicy, loadPolicy, parsePolicy, type IgnoreEntry, type Policy, type TrustedSource, type UntrustedMode } from "./policy.js";
export { applyPolicy, decideFile, decideReport, reportOf, globMatch, hubRefOf, isLocal, isTrusted, parseHubTarget, targetOf, type DecideOptions, type HubRef, type ScanFacts, type ScannedFiles } from "./decide.js";
export { appendAudit, auditRecords, type AuditRecord } from "./audit.js";
export { listQuarantine, moveFile, nodeMoveFs, purgeEntry, purgeLeftovers, quarantineFile, restoreEntry, type MoveFs, type QuarantineEntry } from "./quarantine.js";
export { LOCK_FILE, buildLock, readLock, verifyLock, type HubLookup, type LockFile, type VerifyProblem } from "./lock.js";
export { ScanCache } from "./cache.js";
export { sha256File } from "../hash.js";
export { checkSignatures, type SignaturePolicy } from "./signatures.js";
