/**
 * Incremental rescans (--cache FILE): each local file's identity (size, mtime, ctime, inode,
 * device) maps to its sha256 and its scan result, for the tool version, rules version and
 * analysis settings that produced it. An unchanged file is not analysed again; a changed file,
 * a new rules version or different callable settings make it analysed afresh. Policy decisions
 * are never cached: they are made again on every run, from the cached findings.
 */
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { writeFileAtomic } from "../atomicFile.js";
import type { ResultCache } from "../engine.js";
import type { CallableOverrides } from "../pickle/judge.js";
import { RULES_VERSION } from "../rules/catalogue.js";
import type { FileTarget, RepoNote } from "../targets.js";
import type { ScannedFile } from "../types.js";
import { packageVersion } from "../version.js";
import { sha256File } from "../hash.js";

export const CACHE_SCHEMA = "modelgate.cache/v1";

interface Identity {
  size: number;
  mtimeMs: number;
  /** ctime cannot be set by a user, so content rewritten with its old mtime restored is still seen. */
  ctimeMs: number;
  ino: number;
  dev: number;
}

interface CacheEntry extends Identity {
  sha256: string;
  /** Hash of the analysis settings and of the repository findings the result includes. */
  key: string;
  toolVersion: string;
  rulesVersion: string;
  result: ScannedFile;
}

interface CacheData {
  schema: typeof CACHE_SCHEMA;
  /** By absolute path. */
  entries: Record<string, CacheEntry>;
}

export class ScanCache implements ResultCache {
  /** How many results were reused and how many files were analysed. */
  readonly stats = { reused: 0, analysed: 0 };
  private readonly before = new Map<string, Identity>();

  private constructor(
    readonly path: string,
    private readonly data: CacheData,
    private readonly settings: string,
  ) {}

  /** Opens the cache file (a missing or unreadable one starts empty: the cache only saves work). */
  static async open(path: string, callables?: CallableOverrides): Promise<ScanCache> {
    const text = await readFile(path, "utf8").catch(() => undefined);
    let data: CacheData = { schema: CACHE_SCHEMA, entries: {} };
    if (text !== undefined) {
      try {
        const parsed = JSON.parse(text) as CacheData;
        if (parsed.schema === CACHE_SCHEMA && typeof parsed.entries === "object" && parsed.entries !== null) data = parsed;
      } catch {
        // A corrupt cache is rebuilt, not trusted.
      }
    }
    return new ScanCache(path, data, settingsKey(callables));
  }

  async get(target: FileTarget, notes: readonly RepoNote[]): Promise<ScannedFile | undefined> {
    const absolute = resolve(target.path);
    const now = await identity(absolute);
    if (!now) return undefined;
    this.before.set(absolute, now);
    const entry = Object.hasOwn(this.data.entries, absolute) ? this.data.entries[absolute] : undefined;
    const fresh =
      entry !== undefined &&
      sameIdentity(entry, now) &&
      entry.key === this.keyFor(notes) &&
      entry.toolVersion === packageVersion() &&
      entry.rulesVersion === RULES_VERSION;
    if (!fresh) return undefined;
    this.stats.reused++;
    return { ...entry.result, path: target.display, sha256: entry.sha256 };
  }

  /** Stores a fresh result with the file's sha256 (also set on the result), unless the file changed while it was scanned. */
  async set(target: FileTarget, notes: readonly RepoNote[], result: ScannedFile): Promise<void> {
    this.stats.analysed++;
    const absolute = resolve(target.path);
    const before = this.before.get(absolute);
    if (!before || result.error !== undefined) return;
    const sha256 = await sha256File(absolute);
    const after = await identity(absolute);
    if (!after || !sameIdentity(before, after)) return;
    result.sha256 = sha256;
    this.data.entries[absolute] = { ...after, sha256, key: this.keyFor(notes), toolVersion: packageVersion(), rulesVersion: RULES_VERSION, result };
  }

  /** The cached sha256 of a file whose identity has not changed since it was recorded. */
  async sha256(path: string): Promise<string | undefined> {
    const absolute = resolve(path);
    const entry = Object.hasOwn(this.data.entries, absolute) ? this.data.entries[absolute] : undefined;
    const now = entry && (await identity(absolute));
    return entry && now && sameIdentity(entry, now) ? entry.sha256 : undefined;
  }

  async save(): Promise<void> {
    await writeFileAtomic(this.path, JSON.stringify(this.data) + "\n");
  }

  private keyFor(notes: readonly RepoNote[]): string {
    return createHash("sha256").update(this.settings).update(JSON.stringify(notes)).digest("hex").slice(0, 32);
  }
}

async function identity(path: string): Promise<Identity | undefined> {
  const st = await stat(path).catch(() => undefined);
  return st && { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, dev: st.dev };
}

function sameIdentity(a: Identity, b: Identity): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino && a.dev === b.dev;
}

/** The analysis settings a cached result depends on: the policy's callable additions. */
function settingsKey(callables?: CallableOverrides): string {
  if (!callables) return "";
  const deny = [...callables.deny].sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify([[...callables.allow].sort(), deny]);
}
