/**
 * Quarantine: blocked local files are moved out of reach, never lost. Within one file system a
 * rename moves them atomically; across file systems the file is copied, flushed, checked against
 * its hash and renamed into place before the original is removed — any failure on the way undoes
 * the copy and leaves the original where it was. Each entry has a JSON sidecar saying what it was.
 */
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { copyFile, lstat, mkdir, open, readdir, readFile, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { writeFileAtomic } from "../atomicFile.js";
import type { Decision, Finding } from "../types.js";
import { sha256File } from "../hash.js";

/** The file operations a move needs; tests inject failures (EXDEV, a crash before removal) here. */
export interface MoveFs {
  rename(from: string, to: string): Promise<void>;
  /** Copies without overwriting. */
  copyFile(from: string, to: string): Promise<void>;
  /** Flushes a file's (or a folder's entries') data to storage. */
  sync(path: string): Promise<void>;
  unlink(path: string): Promise<void>;
}

export const nodeMoveFs: MoveFs = {
  rename,
  copyFile: (from, to) => copyFile(from, to, constants.COPYFILE_EXCL),
  async sync(path) {
    const handle = await open(path, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  unlink,
};

export const QUARANTINE_SCHEMA = "modelgate.quarantine/v1";

export interface QuarantineEntry {
  schema: typeof QUARANTINE_SCHEMA;
  id: string;
  /** Absolute path the file was moved from (and is restored to). */
  originalPath: string;
  sha256: string;
  size: number;
  time: string;
  decision?: Decision;
  findings: Finding[];
  tool: { version: string; rulesVersion: string };
}

export interface QuarantineRequest {
  decision?: Decision;
  findings: Finding[];
  tool: { version: string; rulesVersion: string };
  now?: Date;
}

/** Where an entry's file and sidecar live; the payload keeps no model extension, so no loader picks it up by name. */
/** Suffix of the copy a cross-device move writes before renaming it into place. */
const PARTIAL = ".partial";

export function entryPaths(dir: string, id: string): { payload: string; sidecar: string } {
  return { payload: join(dir, `${id}.quarantined`), sidecar: join(dir, `${id}.json`) };
}

/** Moves `path` into `dir`; returns the entry. On any failure the original stays in place. */
export async function quarantineFile(path: string, dir: string, request: QuarantineRequest, fs: MoveFs = nodeMoveFs): Promise<QuarantineEntry> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const originalPath = resolve(path);
  const [sha256, st] = await Promise.all([sha256File(originalPath), stat(originalPath)]);
  const time = (request.now ?? new Date()).toISOString();
  const id = `${time.replace(/[-:.]/g, "").slice(0, 15)}-${sha256.slice(0, 12)}-${randomBytes(3).toString("hex")}`;
  const entry: QuarantineEntry = {
    schema: QUARANTINE_SCHEMA,
    id,
    originalPath,
    sha256,
    size: st.size,
    time,
    ...(request.decision && { decision: request.decision }),
    findings: request.findings,
    tool: request.tool,
  };
  const { payload, sidecar } = entryPaths(dir, id);
  // Sidecar first: a crash after it leaves an entry whose payload is missing and whose original is intact.
  // Flushed before it is renamed into place: the sidecar is whole or absent.
  await writeFileAtomic(sidecar, JSON.stringify(entry, null, 2) + "\n", { durable: true, mode: 0o600 });
  try {
    await moveFile(originalPath, payload, sha256, fs);
  } catch (err) {
    await fs.unlink(sidecar).catch(() => undefined);
    throw err;
  }
  return entry;
}

/**
 * Moves a file without overwriting anything and without a moment when no complete copy exists.
 * `sha256` is the content expected: a cross-device copy that differs is discarded.
 */
export async function moveFile(from: string, to: string, sha256: string, fs: MoveFs = nodeMoveFs): Promise<void> {
  if (await exists(to)) throw new Error(`${to} already exists`);
  const renamed = await fs.rename(from, to).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code !== "EXDEV") throw err;
      return false;
    },
  );
  if (renamed) {
    await syncFolder(to, fs);
    return;
  }
  const partial = `${to}${PARTIAL}`;
  let placed = false;
  try {
    await fs.copyFile(from, partial);
    await fs.sync(partial);
    const copied = await sha256File(partial);
    if (copied !== sha256) throw new Error(`the copy of ${from} differs from the original (it changed while being moved)`);
    await fs.rename(partial, to);
    placed = true;
    await syncFolder(to, fs);
    await fs.unlink(from);
  } catch (err) {
    // Undo: the original is still complete, so the copy (wherever it got to) goes.
    await fs.unlink(partial).catch(() => undefined);
    if (placed) await fs.unlink(to).catch(() => undefined);
    throw err;
  }
}

export interface ListedEntry extends QuarantineEntry {
  /** False when the sidecar outlived its payload (an interrupted move; the original was left in place). */
  present: boolean;
}

export async function listQuarantine(dir: string): Promise<ListedEntry[]> {
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [] as string[];
    throw err;
  });
  const out: ListedEntry[] = [];
  for (const name of names.filter((n) => n.endsWith(".json")).sort()) {
    const entry = await readEntry(dir, basename(name, ".json"));
    if (entry) out.push({ ...entry, present: await exists(entryPaths(dir, entry.id).payload) });
  }
  return out;
}

/** Moves an entry back to its original path (or `to`), checking its hash; refuses to overwrite. */
export async function restoreEntry(dir: string, id: string, to?: string, fs: MoveFs = nodeMoveFs): Promise<string> {
  const entry = await readEntry(dir, id);
  if (!entry) throw new Error(`no quarantine entry ${id} in ${dir}`);
  const { payload, sidecar } = entryPaths(dir, id);
  if ((await sha256File(payload)) !== entry.sha256) throw new Error(`entry ${id} no longer matches its recorded sha256; it was not restored`);
  const target = resolve(to ?? entry.originalPath);
  await moveFile(payload, target, entry.sha256, fs);
  await fs.unlink(sidecar);
  return target;
}

/** Deletes an entry's payload and any partial copy of it an interrupted move left, then its sidecar. */
export async function purgeEntry(dir: string, id: string, fs: MoveFs = nodeMoveFs): Promise<void> {
  const entry = await readEntry(dir, id);
  if (!entry) throw new Error(`no quarantine entry ${id} in ${dir}`);
  const { payload, sidecar } = entryPaths(dir, id);
  for (const path of [payload, `${payload}${PARTIAL}`]) {
    await fs.unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }
  await fs.unlink(sidecar);
}

/** Deletes the partial copies (`*.quarantined.partial`) interrupted moves left in `dir`; returns their paths. */
export async function purgeLeftovers(dir: string, fs: MoveFs = nodeMoveFs): Promise<string[]> {
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [] as string[];
    throw err;
  });
  const removed: string[] = [];
  for (const name of names.filter((n) => n.endsWith(PARTIAL)).sort()) {
    await fs.unlink(join(dir, name));
    removed.push(join(dir, name));
  }
  return removed;
}

async function readEntry(dir: string, id: string): Promise<QuarantineEntry | undefined> {
  // Ids name files in `dir`; anything path-like is not one.
  if (!/^[\w.-]+$/.test(id)) return undefined;
  const text = await readFile(entryPaths(dir, id).sidecar, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  const entry = JSON.parse(text) as QuarantineEntry;
  return entry.schema === QUARANTINE_SCHEMA && entry.id === id ? entry : undefined;
}

/**
 * Flushes the folder entry of a moved file. Best effort: some file systems refuse fsync on a folder,
 * and by then the move itself has happened.
 */
async function syncFolder(path: string, fs: MoveFs): Promise<void> {
  await fs.sync(dirname(path)).catch(() => undefined);
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}
