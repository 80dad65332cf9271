/**
 * The ClamAV check: every file of a scan, read whole, is streamed to clamd, and its verdict becomes
 * findings beside modelgate's own — a signature match is critical (MG170); a file ClamAV could not
 * fully check (over the size limit, clamd's own limits) is MG171. clamd itself unpacks archives
 * (zip, tar, gzip, bzip2, xz, 7z…), so the members of a checkpoint or an archive are matched too.
 * clamd unreachable, or failing mid-scan, throws ClamdError: the scan fails, it never passes.
 */
import { realpath } from "node:fs/promises";
import { join } from "node:path";
import { mapBounded } from "../concurrency.js";
import { isInside } from "../paths.js";
import { isLocal, type ScannedFiles } from "../policy/decide.js";
import { RULES, type RuleId } from "../rules/catalogue.js";
import { FileSource, type ByteSource, type ReadCounter } from "../sources/byteSource.js";
import { HttpSource } from "../sources/http.js";
import { httpOptions, type RemoteOptions } from "../targets.js";
import type { Finding, ScannedFile } from "../types.js";
import { formatBytes } from "../units.js";
import { ClamdClient, describeAddress, type ClamdVerdict } from "./client.js";
import type { ClamavSettings } from "./settings.js";

/** Bytes per INSTREAM chunk, and per read of the file (local or a Range request). */
const CHUNK_BYTES = 1024 * 1024;

/** ClamAV signatures that mean "not fully checked" (clamd's AlertExceedsMax), not "malware found". */
const LIMIT_SIGNATURE = /^Heuristics\.Limits\.Exceeded\b/;

/** Where the files of a report can be read again: remote access (tokens, endpoint) and the Hugging Face cache folder. */
export interface ContentAccess {
  remote?: RemoteOptions | undefined;
  hfCache?: string | undefined;
  jobs?: number | undefined;
}

/** What the ClamAV check adds to a report's top level: which clamd, and its engine and database versions. */
export interface ClamavInfo {
  address: string;
  version: string;
}

/**
 * Checks every readable scanned file with clamd and returns the files with ClamAV's findings added,
 * before the policy decides (on them like on any other). A skipped file with a match is no longer
 * skipped: it was recognised as malware.
 */
export async function clamavCheck(scanned: ScannedFiles, settings: ClamavSettings, access: ContentAccess = {}): Promise<{ scanned: ScannedFiles; clamav: ClamavInfo }> {
  const client = new ClamdClient(settings.address, { timeoutMs: settings.timeoutMs });
  const version = await client.version();
  const files = await mapBounded([...scanned.files], access.jobs ?? 4, (file) => checkFile(file, client, settings, () => openContent(file, access)));
  return { scanned: { ...scanned, files }, clamav: { address: describeAddress(settings.address), version } };
}

/**
 * One file scanned from a local path other than its report path (the gateway's stored blob, scanned
 * under the file's name in the repository): the result with ClamAV's findings added. Throws
 * ClamdError when clamd is unreachable, fails or stays silent (the gateway answers 503).
 */
export async function clamavCheckStored(file: ScannedFile, storedPath: string, settings: ClamavSettings): Promise<ScannedFile> {
  const client = new ClamdClient(settings.address, { timeoutMs: settings.timeoutMs });
  return checkFile(file, client, settings, async () => fileOpened(await FileSource.open(storedPath)));
}

async function checkFile(file: ScannedFile, client: ClamdClient, settings: ClamavSettings, open: () => Promise<Opened>): Promise<ScannedFile> {
  // An empty file has nothing to match; an entry never read (a link or folder the repository checks reported) has size 0 too.
  if (file.error !== undefined || file.size === 0) return file;
  const unreadable = (err: unknown): ScannedFile => ({ ...file, error: `could not be read for the ClamAV check: ${(err as Error).message}` });
  let opened: Opened;
  try {
    opened = await open();
  } catch (err) {
    return unreadable(err);
  }
  let verdict: ClamdVerdict | undefined;
  try {
    if (opened.source.size <= settings.maxBytes) verdict = await client.instream(chunksOf(opened.source));
  } catch (err) {
    if (!(err instanceof ContentReadError)) throw err;
    return unreadable(err);
  } finally {
    await opened.close();
  }
  const read = { ...file, bytesRead: file.bytesRead + opened.source.bytesRead };
  if (verdict === undefined) {
    return withFindings(read, [finding(file, "MG171", `not checked by ClamAV: ${formatBytes(opened.source.size)} is over the ClamAV size limit (${formatBytes(settings.maxBytes)})`)]);
  }
  switch (verdict.kind) {
    case "clean":
      return read;
    case "too-large":
      return withFindings(read, [finding(file, "MG171", `not checked by ClamAV: ${verdict.why}; clamd takes streams up to its StreamMaxLength`)]);
    case "found":
      if (LIMIT_SIGNATURE.test(verdict.signature)) {
        return withFindings(read, [finding(file, "MG171", `not fully checked by ClamAV: ${verdict.signature} (a clamd scan limit was hit)`, verdict.signature)]);
      }
      return withFindings(read, [finding(file, "MG170", `ClamAV signature ${verdict.signature} matches this file`, verdict.signature)]);
  }
}

function finding(file: ScannedFile, rule: RuleId, message: string, signature?: string): Finding {
  return {
    rule,
    severity: RULES[rule].severity,
    message,
    location: { path: file.path },
    ...(signature !== undefined && { evidence: `clamd: ${signature} FOUND` }),
    reference: RULES[rule].reference,
  };
}

function withFindings(file: ScannedFile, added: Finding[]): ScannedFile {
  const result: ScannedFile = { ...file, findings: [...added, ...file.findings] };
  delete result.skipped;
  return result;
}

/** Reading the file failed (not clamd): that file is an error, the rest of the scan goes on. */
class ContentReadError extends Error {}

async function* chunksOf(source: Opened["source"]): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < source.size; offset += CHUNK_BYTES) {
    let chunk: Uint8Array;
    try {
      chunk = await source.read(offset, CHUNK_BYTES);
    } catch (err) {
      throw new ContentReadError((err as Error).message);
    }
    if (source.failure !== undefined) throw new ContentReadError(source.failure);
    if (chunk.length === 0) throw new ContentReadError(`the content ended at byte ${offset} of ${source.size}`);
    yield chunk;
  }
}

interface Opened {
  source: ByteSource & ReadCounter & { failure?: string | undefined };
  close(): Promise<void>;
}

/** The bytes a report entry was scanned from: a local path, a file of the Hugging Face cache, a URL or hub file. */
async function openContent(file: ScannedFile, access: ContentAccess): Promise<Opened> {
  if (isLocal(file)) return fileOpened(await FileSource.open(file.path));
  const origin = file.source;
  if (origin?.kind === "hf-cache") return fileOpened(await FileSource.open(await cachePath(file, access.hfCache)));
  const url = origin?.url ?? file.path;
  const source = await HttpSource.open(url, file.path, httpOptions(access.remote ?? {}, url));
  return { source, close: () => Promise.resolve() };
}

function fileOpened(source: FileSource): Opened {
  return { source, close: () => source.close() };
}

/** `<cache>/<type>s--org--name/snapshots/<commit>/<file>`, and only if it resolves inside that repository's folder. */
async function cachePath(file: ScannedFile, cacheDir: string | undefined): Promise<string> {
  const { repo, commit, file: rel } = file.source ?? {};
  if (cacheDir === undefined || repo === undefined || commit === undefined || rel === undefined) throw new Error("the cache file cannot be located");
  const [type, ...name] = /^(datasets|spaces)\//.test(repo) ? repo.split("/") : ["models", ...repo.split("/")];
  const repoFolder = join(cacheDir, `${type}--${name.join("--")}`);
  const real = await realpath(join(repoFolder, "snapshots", commit, ...rel.split("/")));
  if (!isInside(await realpath(repoFolder), real)) throw new Error(`${file.path} now links outside its repository's cache folder`);
  return real;
}
