/**
 * What a scan covers: the files under the user's paths, URLs, the files of Hugging Face repositories
 * and of the local Hugging Face cache, and for each folder or repository the repository-level
 * findings (src/repo/checks.ts) keyed by the display path of the file they concern.
 */
import { errorText, UsageError } from "./errors.js";
import { readdirSync, realpathSync, statSync, type Dirent, type Stats } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { isAbsolute, join, relative, sep } from "node:path";
import type { ReportExtra } from "./formats/context.js";
import { PathFilter, type ExcludedPath, type ExclusionOptions } from "./exclusions.js";
import { sniffHdf5 } from "./formats/keras.js";
import { isInside } from "./paths.js";
import type { CallableOverrides } from "./pickle/judge.js";
import { besideFileFacts, checkRepository, localFileFacts, scanRepository, textBesideEngine, type RepoFile, type RepoReporter } from "./repo/checks.js";
import { cacheDisplay, listSnapshots, snapshotFiles, snapshotRepoFolder } from "./remote/hfCache.js";
import { DEFAULT_ENDPOINT, HubError, remoteRepoFacts, resolveRepo, resolveUrl } from "./remote/hub.js";
import { parseRemoteSpec, repoLabel, type HubRepo } from "./remote/spec.js";
import type { RuleId } from "./rules/catalogue.js";
import { isModelFile } from "./rules/shadowing.js";
import { HttpSource, type HttpOptions } from "./sources/http.js";
import type { FileOrigin } from "./types.js";

/** A local file (a path given, a file under a folder, a blob of the Hugging Face cache). */
export interface FileTarget {
  path: string;
  display: string;
  size: number;
  /** Set for cache files: which repository, commit and file they are. */
  origin?: FileOrigin;
  /**
   * Why a folder entry could not be scanned at all (a FIFO, a link that dangles or loops, a subfolder
   * that cannot be listed): reported as a failed file, never dropped from the report (X1).
   */
  unscannable?: string;
}

/** A file read over HTTP. */
export interface RemoteTarget {
  display: string;
  /** As listed; 0 for a URL until it is opened. */
  size: number;
  open(): Promise<HttpSource>;
  /** Where it came from, with what the transfer learnt (commit, range support) once `source` was read. */
  origin(source: HttpSource | undefined): FileOrigin;
}

export type ScanTarget = FileTarget | RemoteTarget;

export interface RemoteOptions {
  /** Sent to the host of the URL or repository scanned (--token). */
  token?: string | undefined;
  /** Sent to the hub's host only, when no --token is given (HF_TOKEN). */
  hubToken?: string | undefined;
  /** The hub or a mirror of it (HF_ENDPOINT); default https://huggingface.co. */
  endpoint?: string | undefined;
  timeoutMs?: number | undefined;
  retries?: number | undefined;
  retryDelayMs?: number | undefined;
}

export interface TargetOptions {
  remote?: RemoteOptions | undefined;
  /** A Hugging Face cache folder to scan (--hf-cache). */
  hfCache?: string | undefined;
  /** Remote files whose facts are gathered at once. */
  jobs?: number | undefined;
  /** The organisation's allowed and denied callables (policy file), for the repository checks' Hydra targets. */
  callables?: CallableOverrides | undefined;
  /** What local scans leave out (default folders, --exclude, --include, .modelgateignore). */
  exclusions?: ExclusionOptions | undefined;
}

/** A repository-level finding about one file (or a link or folder that is not itself scanned). */
export interface RepoNote {
  rule: RuleId;
  message: string;
  member?: string;
  extra: ReportExtra;
}

export interface Targets {
  /** Local files (cache blobs included). */
  files: FileTarget[];
  /** URLs and hub repository files, scanned after the local ones. */
  remote: RemoteTarget[];
  /** Repository findings by display path; some name paths that are not in `files` (links, folders). */
  notes: Map<string, RepoNote[]>;
  /** Local paths left out by the exclusions, each with what excluded it. */
  excluded: ExcludedPath[];
  /** Whether a local folder holds a file whose first bytes are an HDF5 file's (the engine starts the HDF5 reader early). */
  hdf5Ahead: boolean;
}


/** Local paths, `http(s)://` URLs and `hf://` repositories, then the cache folder if one is asked for. */
export async function collectTargets(specs: readonly string[], options: TargetOptions = {}): Promise<Targets> {
  const targets: Targets = { files: [], remote: [], notes: new Map(), excluded: [], hdf5Ahead: false };
  for (const spec of specs) {
    let remote;
    try {
      remote = parseRemoteSpec(spec);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (remote?.kind === "url") targets.remote.push(urlTarget(remote.url, options.remote ?? {}));
    else if (remote?.kind === "hub") await addHubRepo(remote.repo, remote.revision, targets, options);
    else await addLocal(spec, targets, options);
  }
  if (options.hfCache !== undefined) await addCache(options.hfCache, targets, options);
  return targets;
}

async function addLocal(p: string, targets: Targets, options: TargetOptions): Promise<void> {
  const st = await stat(p).catch(() => undefined);
  if (!st) throw new UsageError(`no such file or directory: ${p}`);
  // Opening a FIFO, socket or device would wait for a writer for ever, or read without end.
  if (!st.isDirectory() && !st.isFile()) throw new UsageError(`${p} is not a regular file or a folder; it was not scanned`);
  if (!st.isDirectory()) {
    // A file named directly is always scanned: exclusions govern folder walks.
    const display = displayPath(p);
    targets.files.push({ path: p, display, size: st.size });
    // A file given alone gets the checks a file of a folder gets: its own (configs, templates) from its
    // format scanner, the rest (Python code, executables, LFS pointers) here. Its name is the path as
    // given, so custom_generate/generate.py is still recognised.
    // A link given by name is not opened here (O_NOFOLLOW); the engine reads what it points at.
    let file: RepoFile | undefined;
    try {
      file = localFileFacts(p, display.split(sep).join("/"), st.size, undefined, textBesideEngine);
    } catch {
      // Unreadable or a link: the engine's own read reports it.
    }
    if (!file) return;
    // Its folder is where it is loaded from: what there takes a loader's module's place is reported on the file.
    const beside = isModelFile(file) ? besideFileFacts(p, file.rel) : { files: [], linkedFolders: [] };
    checkRepository({ files: [file, ...beside.files], escapingLinks: [], linkedFolders: beside.linkedFolders, unexamined: [] }, noteReporter(targets.notes, () => display), options.callables, false);
    return;
  }
  const linkRoot = snapshotRepoFolder(p) ?? p;
  const filter = await PathFilter.forRoot(p, options.exclusions);
  walk({ dir: p, rel: "", realRoot: await realpath(linkRoot), filter }, targets);
  // Every file of the folder is scanned by the engine too: configs and templates get their own checks there.
  const facts = await scanRepository(p, noteReporter(targets.notes, (rel) => displayPath(join(p, rel))), {
    linkRoot,
    callables: options.callables,
    contentChecks: false,
    excluded: (rel, isFolder, isLink) => filter.excludedBy(rel, isFolder, isLink),
  });
  targets.hdf5Ahead ||= facts.files.some((f) => sniffHdf5(f.head, f.size));
}

/** Repository findings by display path; findings inside a file's members come as "file > member". */
function noteReporter(notes: Map<string, RepoNote[]>, displayOf: (rel: string) => string): RepoReporter {
  return (rule, message, at, extra = {}) => {
    const split = at.indexOf(" > ");
    const file = displayOf(split < 0 ? at : at.slice(0, split));
    const note: RepoNote = { rule, message, extra, ...(split >= 0 && { member: at.slice(split + 3) }) };
    const list = notes.get(file);
    if (!list) notes.set(file, [note]);
    // Snapshots of the cache that share a blob report the same facts about it once.
    else if (!list.some((n) => n.rule === note.rule && n.message === note.message && n.member === note.member)) list.push(note);
  };
}

/** How to reach `url`: the token goes only to the host it is meant for. */
export function httpOptions(remote: RemoteOptions, url: string): HttpOptions {
  const origin = new URL(url).origin;
  const hubOrigin = new URL(remote.endpoint ?? DEFAULT_ENDPOINT).origin;
  const token = remote.token ?? (origin === hubOrigin ? remote.hubToken : undefined);
  return {
    auth: token ? { origin, token } : undefined,
    timeoutMs: remote.timeoutMs,
    retries: remote.retries,
    retryDelayMs: remote.retryDelayMs,
  };
}

/** A URL is opened when its turn comes: a server that fails or hangs then fails that file, not the scan. */
function urlTarget(url: string, remote: RemoteOptions): RemoteTarget {
  const shown = new URL(url);
  shown.username = "";
  shown.password = "";
  return {
    display: shown.href,
    size: 0,
    open: () => HttpSource.open(url, shown.href, httpOptions(remote, url)),
    origin: (source) => ({
      kind: "url",
      url: shown.href,
      ...(source?.commit !== undefined && { commit: source.commit }),
      ...(source?.etag !== undefined && { etag: source.etag }),
      ...(source && { rangeRequests: source.rangeRequests }),
    }),
  };
}

/** Every file of a repository at the commit its revision names, with the repository checks over remote facts. */
async function addHubRepo(repo: HubRepo, revision: string | undefined, targets: Targets, options: TargetOptions): Promise<void> {
  const remote = options.remote ?? {};
  const endpoint = remote.endpoint ?? DEFAULT_ENDPOINT;
  let resolved;
  try {
    resolved = await resolveRepo(repo, revision, endpoint, httpOptions(remote, endpoint));
  } catch (err) {
    if (err instanceof HubError && err.status !== undefined && err.status < 500) throw new UsageError(err.message);
    throw err;
  }
  const label = repoLabel(repo);
  const displayOf = (rel: string): string => `hf://${label}${revision === undefined ? "" : `@${revision}`}/${rel}`;
  const files = resolved.files.map((file) => {
    const url = resolveUrl(endpoint, repo, resolved.commit, file.path);
    return { file, url, rel: file.path, source: HttpSource.known(url, displayOf(file.path), file.size, httpOptions(remote, url)) };
  });
  checkRepository(await remoteRepoFacts(files, options.jobs ?? 4), noteReporter(targets.notes, displayOf), options.callables, false);
  for (const { file, url, source } of files) {
    targets.remote.push({
      display: source.name,
      size: file.size,
      open: () => Promise.resolve(source),
      origin: (read) => ({
        kind: "hub",
        url,
        repo: label,
        revision: resolved.revision,
        commit: resolved.commit,
        file: file.path,
        ...(read && { rangeRequests: read.rangeRequests }),
        ...(file.securityStatus !== undefined && { hubSecurityStatus: file.securityStatus }),
        ...(file.lfsSha256 !== undefined && { lfsSha256: file.lfsSha256 }),
      }),
    });
  }
}

/**
 * Each snapshot's files under the names people know; a blob linked from several snapshots is scanned
 * once. The repository checks read each snapshot through its links into the blobs.
 */
async function addCache(dir: string, targets: Targets, options: TargetOptions): Promise<void> {
  const snapshots = await listSnapshots(dir).catch((err: NodeJS.ErrnoException) => {
    throw err.code === "ENOENT" || err.code === "ENOTDIR" ? new UsageError(`no Hugging Face cache folder at ${dir}`) : err;
  });
  const byBlob = new Map<string, FileTarget & { origin: FileOrigin }>();
  for (const snapshot of snapshots) {
    const { files, escapingLinks } = await snapshotFiles(snapshot);
    const primary = new Map<string, string>();
    for (const f of files) {
      const display = cacheDisplay(snapshot, f.rel);
      const seen = byBlob.get(f.blob);
      if (seen) {
        (seen.origin.alsoAt ??= []).push(display);
        primary.set(f.rel, seen.display);
        continue;
      }
      const origin: FileOrigin = { kind: "hf-cache", repo: snapshot.repo, commit: snapshot.commit, file: f.rel };
      if (snapshot.refs.length > 0) origin.revision = snapshot.refs.join(", ");
      const target = { path: f.path, display, size: f.size, origin };
      byBlob.set(f.blob, target);
      targets.files.push(target);
    }
    const facts = { files: files.map((f) => localFileFacts(f.blob, f.rel, f.size, undefined, textBesideEngine)), escapingLinks, linkedFolders: [], unexamined: [] };
    checkRepository(facts, noteReporter(targets.notes, (rel) => primary.get(rel) ?? cacheDisplay(snapshot, rel)), options.callables, false);
  }
}

/** Where a folder walk is: the folder, its path below the scanned root ("/"-separated), the root's real path, its exclusions. */
interface WalkAt {
  dir: string;
  rel: string;
  realRoot: string;
  filter: PathFilter;
}

/**
 * Folders recursively, in name order. Symlinked folders are not followed (no cycles); symlinked
 * files are scanned only when they resolve inside `realRoot` — the repository checks report the
 * others as links that leave the folder. Excluded paths are recorded, not walked. Synchronous: a
 * thread-pool round trip per stat cost a folder of small files more than the stats themselves.
 */
function walk(at: WalkAt, targets: Targets): void {
  const { dir, realRoot, filter } = at;
  let all: Dirent[];
  try {
    all = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    // The scanned folder itself is the user's error; a subfolder is one entry that failed (a path over PATH_MAX, no permission).
    if (at.rel === "") throw err;
    targets.files.push({ path: dir, display: displayPath(dir), size: 0, unscannable: `the folder could not be listed (${errorText(err)}); nothing in it was scanned` });
    return;
  }
  all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // A folder's exclusions are recorded before its subfolders are walked (reports list them in that order).
  const entries = all.filter((e) => {
    const by = filter.excludedBy(at.rel === "" ? e.name : `${at.rel}/${e.name}`, e.isDirectory(), e.isSymbolicLink());
    if (by !== undefined) targets.excluded.push({ path: displayPath(join(dir, e.name)), by, ...(e.isDirectory() && { folder: true }) });
    return by === undefined;
  });
  for (const e of entries) {
    const rel = at.rel === "" ? e.name : `${at.rel}/${e.name}`;
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      walk({ dir: p, rel, realRoot, filter }, targets);
      continue;
    }
    let st: Stats | undefined;
    let unscannable: string | undefined;
    if (e.isFile()) st = statSync(p);
    else if (e.isSymbolicLink()) {
      const real = realOrUndefined(p);
      // A link out of the folder is the repository checks' (MG273); one that leads nowhere is a file not scanned.
      if (real === undefined) unscannable = "a link that dangles or loops; what it should point to was not scanned";
      else st = isInside(realRoot, real) ? statSync(real, { throwIfNoEntry: false }) : undefined;
    } else unscannable = "not a regular file, a folder or a link (a FIFO, socket or device); it was not scanned";
    if (st?.isFile()) targets.files.push({ path: p, display: displayPath(p), size: st.size });
    else if (unscannable !== undefined) targets.files.push({ path: p, display: displayPath(p), size: 0, unscannable });
  }
}

/** Where a link resolves to, or undefined when it dangles or loops. */
function realOrUndefined(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

/** Paths relative to the working folder where possible, so reports and SARIF are stable across machines. */
export function displayPath(p: string): string {
  if (!isAbsolute(p)) return p;
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : p;
}
