/**
 * Pinning: modelgate.lock records what was scanned and cleared (per file its hash, size, format and
 * verdict, and the scanner and rules that judged it); verify re-hashes and names every file that
 * changed, went missing or appeared since.
 */
import { readFile } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { UsageError } from "../errors.js";
import { DEFAULT_EXCLUSION } from "../exclusions.js";
import { collectTargets } from "../targets.js";
import type { FileResult, Format, ScanReport, SignerInfo, Verdict } from "../types.js";
import { hubRefOf, parseHubTarget, targetOf } from "./decide.js";
import { sha256File } from "../hash.js";

export { LOCK_FILE } from "./policy.js";
export const LOCK_SCHEMA = "modelgate.lock/v1";

interface LockedFacts {
  size: number;
  sha256: string;
  format: Format;
  verdict: Verdict;
  /** Who signed the file's model folder, when a verified model signature covered it. */
  signer?: SignerInfo;
}

/** A local file, by its path relative to the lock file's folder (forward slashes). */
export interface LocalLockEntry extends LockedFacts {
  path: string;
}

/** A hub file: repository, the revision it was resolved to, and its path in the repository. */
export interface HubLockEntry extends LockedFacts {
  repo: string;
  revision: string;
  path: string;
}

export type LockEntry = LocalLockEntry | HubLockEntry;

export interface LockFile {
  schema: typeof LOCK_SCHEMA;
  tool: ScanReport["tool"];
  created: string;
  policy: { path: string; sha256: string } | null;
  /** What was locked, as given (local ones relative to the lock file's folder): verify walks these again. */
  targets: string[];
  /**
   * What the lock's walk left out other than the default folders (what the ignore file listed),
   * relative to the lock file's folder; folders end in "/". Verify leaves out these and nothing else,
   * so an ignore file added or changed since cannot hide a new file. Absent from locks written
   * before it was recorded: verify then leaves out only the default folders.
   */
  excluded?: string[];
  files: LockEntry[];
}

/** What the hub publishes about a file at a revision (its LFS pointer's sha256 for LFS files). */
export interface HubFileFacts {
  size: number;
  /** The content's sha256: published by the hub for LFS files, hashed from the bytes for small git files. */
  sha256?: string;
}

/** The hub client's part in verification (src/remote provides one). */
export interface HubLookup {
  file(repo: string, revision: string, path: string): Promise<HubFileFacts | undefined>;
  /** Every file path of the repository at the revision. */
  list(repo: string, revision: string): Promise<string[]>;
}

export function isHubEntry(entry: LockEntry): entry is HubLockEntry {
  return "repo" in entry;
}

/**
 * The lock for a decided report whose files carry sha256. `root` is the lock file's folder.
 * Throws when a file lacks what a lock needs (a hash; a hub file's resolved revision).
 */
export function buildLock(report: ScanReport, targets: readonly string[], root: string, now: Date = new Date()): LockFile {
  const files = report.files.map((f) => lockEntry(f, root)).sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  return {
    schema: LOCK_SCHEMA,
    tool: report.tool,
    created: now.toISOString(),
    policy: report.policy?.path !== undefined && report.policy.sha256 !== undefined ? { path: report.policy.path, sha256: report.policy.sha256 } : null,
    targets: targets.map((t) => (parseHubTarget(t) || /^https?:/.test(t) ? t : relativePath(root, t))),
    excluded: (report.excluded ?? []).filter((e) => e.by !== DEFAULT_EXCLUSION).map((e) => relativePath(root, e.path) + (e.folder === true ? "/" : "")),
    files,
  };
}

function lockEntry(file: FileResult, root: string): LockEntry {
  if (file.sha256 === undefined) throw new Error(`${file.path}: no sha256 to lock (${file.error ?? "not hashed"})`);
  const facts: LockedFacts = { size: file.size, sha256: file.sha256, format: file.format, verdict: file.verdict };
  if (file.signature?.verified && file.signature.signer) facts.signer = file.signature.signer;
  const hub = hubRefOf(file);
  if (hub) {
    // The last revision is the most exact one: the commit the hub resolved the asked revision to.
    const revision = hub.revisions.at(-1);
    if (revision === undefined || hub.path === undefined) throw new Error(`${targetOf(file)}: a hub file needs its resolved revision to be locked`);
    return { repo: hub.repo, revision, path: hub.path, ...facts };
  }
  return { path: relativePath(root, file.path), ...facts };
}

function keyOf(e: LockEntry): string {
  return isHubEntry(e) ? `hf://${e.repo}@${e.revision}/${e.path}` : e.path;
}

function relativePath(root: string, path: string): string {
  return relative(root, resolve(path)).split(sep).join("/");
}

export async function readLock(path: string): Promise<LockFile> {
  const lock = JSON.parse(await readFile(path, "utf8")) as LockFile;
  if (lock.schema !== LOCK_SCHEMA) throw new Error(`${path} is not a ${LOCK_SCHEMA} lock file`);
  return lock;
}

export interface VerifyProblem {
  kind: "changed" | "missing" | "new" | "unverifiable";
  /** The file, as the lock names it (hub files as hf://repo@revision/path). */
  file: string;
  detail: string;
}

/**
 * Re-hashes every locked local file under `root` and walks the locked targets for files that are
 * not in the lock; hub files are checked against the hub's published sha256 through `hub`. The lock
 * file itself (`lockFile`), when it lies inside a locked folder, is not a new file.
 */
export async function verifyLock(lock: LockFile, root: string, hub?: HubLookup, lockFile?: string): Promise<VerifyProblem[]> {
  const problems: VerifyProblem[] = [];
  const locked = new Map(lock.files.filter((e) => !isHubEntry(e)).map((e) => [e.path, e]));
  const seen = new Set<string>();
  const excluded = lock.excluded ?? [];
  const lockedOut = (path: string): boolean => excluded.some((e) => (e.endsWith("/") ? path.startsWith(e) : path === e));
  for (const target of lock.targets.filter((t) => !parseHubTarget(t) && !/^https?:/.test(t))) {
    const absolute = isAbsolute(target) ? target : resolve(root, target);
    // A target that is gone is reported through its files, as missing.
    // No working folder, so no ignore file: only the default folders and what the lock recorded are left out.
    const files = await collectTargets([absolute]).then(
      (t) => t.files.filter((f) => "path" in f),
      (err: unknown) => {
        if (err instanceof UsageError) return [];
        throw err;
      },
    );
    for (const f of files) {
      const path = relativePath(root, f.path);
      if (seen.has(path) || lockedOut(path) || (lockFile !== undefined && resolve(f.path) === resolve(lockFile))) continue;
      seen.add(path);
      const entry = locked.get(path);
      if (!entry) {
        problems.push({ kind: "new", file: path, detail: "not in the lock" });
        continue;
      }
      const sha256 = await sha256File(f.path);
      if (sha256 !== entry.sha256) problems.push({ kind: "changed", file: path, detail: `sha256 was ${entry.sha256}, is ${sha256}` });
    }
  }
  for (const path of locked.keys()) if (!seen.has(path)) problems.push({ kind: "missing", file: path, detail: "locked, no longer there" });
  problems.push(...(await verifyHub(lock.files.filter(isHubEntry), lock.targets, hub)));
  return problems;
}

async function verifyHub(entries: readonly HubLockEntry[], targets: readonly string[], hub: HubLookup | undefined): Promise<VerifyProblem[]> {
  const problems: VerifyProblem[] = [];
  const repos = new Map<string, Set<string>>();
  for (const e of entries) {
    const name = keyOf(e);
    if (!hub) {
      problems.push({ kind: "unverifiable", file: name, detail: "no hub client to ask for the published sha256" });
      continue;
    }
    const key = `${e.repo}@${e.revision}`;
    repos.set(key, (repos.get(key) ?? new Set()).add(e.path));
    const facts = await hub.file(e.repo, e.revision, e.path);
    if (!facts) problems.push({ kind: "missing", file: name, detail: "not in the repository at that revision" });
    else if (facts.sha256 !== undefined && facts.sha256 !== e.sha256) {
      problems.push({ kind: "changed", file: name, detail: `the hub serves sha256 ${facts.sha256}, locked ${e.sha256}` });
    } else if (facts.size !== e.size) problems.push({ kind: "changed", file: name, detail: `size was ${e.size}, is ${facts.size}` });
  }
  // Only a repository locked as a whole can gain files; one locked file by file cannot.
  const wholeRepos = new Set(targets.map(parseHubTarget).filter((h) => h && h.path === undefined).map((h) => h!.repo));
  if (hub) {
    for (const [key, paths] of repos) {
      const at = key.lastIndexOf("@");
      const [repo, revision] = [key.slice(0, at), key.slice(at + 1)];
      if (!wholeRepos.has(repo)) continue;
      for (const path of await hub.list(repo, revision)) {
        if (!paths.has(path)) problems.push({ kind: "new", file: `hf://${repo}@${revision}/${path}`, detail: "not in the lock" });
      }
    }
  }
  return problems;
}
