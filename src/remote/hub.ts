/**
 * Hugging Face repositories, read remotely: Hugging Face's own hub client lists the files and resolves
 * the revision to a commit (every file is then fetched at that commit, so the scan covers one
 * consistent snapshot), and the repository checks run over facts gathered with range reads.
 */
import { EnvironmentError } from "../errors.js";
import { onFirstUse } from "../onFirstUse.js";
import { mapBounded } from "../concurrency.js";
import { sha256Hex } from "../hash.js";
import { needsText, REPO_LIMITS, textBesideEngine, type RepoFacts, type RepoFile } from "../repo/checks.js";
import type { ByteSource } from "../sources/byteSource.js";
import { boundedBody, exchange, HTTP_LIMITS, type HttpOptions, type HttpSource } from "../sources/http.js";
import { repoLabel, type HubRepo } from "./spec.js";

/** Where the hub lives unless HF_ENDPOINT (a mirror or proxy) says otherwise. */
export const DEFAULT_ENDPOINT = "https://huggingface.co";

/** The hub refused or could not find the repository or revision (the CLI treats it as bad input). */
export class HubError extends EnvironmentError {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

export interface HubFile {
  /** Path inside the repository. */
  path: string;
  size: number;
  /** The hub's own security scan of the file (`securityFileStatus`), as it reported it. */
  securityStatus: unknown;
  /** The sha256 of the content, as the hub publishes it for Git LFS files (their object id). */
  lfsSha256?: string;
}

export interface ResolvedRepo {
  repo: HubRepo;
  revision: string;
  /** The commit the revision pointed to when listed. */
  commit: string;
  files: HubFile[];
}

const hubClient = onFirstUse<typeof import("@huggingface/hub")>("@huggingface/hub");

const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

/** Resolves the revision (default "main", as the hub's own tools) to a commit and lists its files. */
export async function resolveRepo(repo: HubRepo, revision: string | undefined, endpoint: string, http: HttpOptions): Promise<ResolvedRepo> {
  const label = `${repoLabel(repo)}@${revision ?? "main"}`;
  const fetch = hubFetch(http);
  const asked = revision ?? "main";
  const { datasetInfo, HubApiError, listFiles, modelInfo, spaceInfo } = hubClient();
  try {
    const params = { name: repo.name, revision: asked, hubUrl: endpoint, fetch, additionalFields: ["sha" as const] };
    const info = repo.type === "model" ? await modelInfo(params) : repo.type === "dataset" ? await datasetInfo(params) : await spaceInfo(params);
    const commit = info.sha;
    if (typeof commit !== "string" || !/^[0-9a-f]{40}$/.test(commit)) throw new HubError(`${label}: the hub did not name the commit of this revision`, undefined);
    const files: HubFile[] = [];
    for await (const entry of listFiles({ repo: { type: repo.type, name: repo.name }, revision: commit, recursive: true, expand: true, hubUrl: endpoint, fetch })) {
      if (entry.type !== "file") continue;
      if (!isPlainPath(entry.path)) throw new HubError(`${label}: the listing names "${entry.path}", which is not a plain path inside the repository`, undefined);
      const lfsSha256 = entry.lfs?.oid;
      files.push({ path: entry.path, size: entry.size, securityStatus: entry.securityFileStatus, ...(lfsSha256 !== undefined && /^[0-9a-f]{64}$/.test(lfsSha256) && { lfsSha256 }) });
    }
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { repo, revision: asked, commit, files };
  } catch (err) {
    if (!(err instanceof HubApiError)) throw err;
    const hint = [401, 403, 404].includes(err.statusCode)
      ? "repository or revision not found, or private or gated without a token (HF_TOKEN or --token)"
      : err.message;
    throw new HubError(`${label}: ${hint} (HTTP ${err.statusCode})`, err.statusCode);
  }
}

/** Git (non-LFS) files of a hub repository are small; larger ones are not read whole to be hashed. */
const GIT_FILE_MAX = 16 * 1024 * 1024;

/**
 * A hub file's sha256, so it can be pinned and checked: the one the hub publishes for LFS files,
 * else the hash of the bytes `source` serves for a small git file (they count as transferred);
 * undefined for a git file too large to read whole.
 */
export async function hubFileSha256(file: { size: number; lfsSha256?: string | undefined }, source: ByteSource): Promise<string | undefined> {
  if (file.lfsSha256 !== undefined) return file.lfsSha256;
  if (file.size > GIT_FILE_MAX) return undefined;
  return sha256Hex(await source.read(0, file.size));
}

/** The download URL of a file at a commit. */
export function resolveUrl(endpoint: string, repo: HubRepo, commit: string, path: string): string {
  const prefix = repo.type === "model" ? "" : `${repo.type}s/`;
  return `${endpoint.replace(/\/+$/, "")}/${prefix}${repo.name}/resolve/${commit}/${path.split("/").map(encodeURIComponent).join("/")}`;
}

/**
 * Facts for the repository checks from remote files: the first bytes of each, and the text of its
 * configs the checks read beside the engine (textBesideEngine). They are read through the sources the scan
 * then uses, so their bytes count as read.
 */
export async function remoteRepoFacts(files: readonly { rel: string; source: HttpSource }[], jobs: number): Promise<RepoFacts> {
  const facts: RepoFacts = { files: [], escapingLinks: [], linkedFolders: [], unexamined: [] };
  const examined = files.slice(0, REPO_LIMITS.maxFiles);
  if (files.length > examined.length) {
    facts.unexamined.push({ rel: files[examined.length]!.rel, why: `more than ${REPO_LIMITS.maxFiles} files; the rest of the repository was not checked` });
  }
  facts.files = await mapBounded(examined, jobs, async ({ rel, source }) => {
    const file: RepoFile = { rel, size: source.size, head: new Uint8Array(0) };
    try {
      file.head = await source.read(0, REPO_LIMITS.headBytes);
      if (needsText(file)) {
        const bytes = Buffer.from(await source.read(0, file.size));
        if (textBesideEngine(rel, bytes)) file.text = bytes.toString("utf8");
      }
    } catch {
      // The file's own scan reports why it could not be read; a config without text is reported as unchecked.
    }
    source.forget();
    return file;
  });
  return facts;
}

/** The hub client's requests, through ours: redirects, retries, timeouts and the token stay in one place. */
function hubFetch(http: HttpOptions): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if ((init?.method ?? "GET").toUpperCase() !== "GET") throw new Error(`modelgate only reads from the hub (asked to ${init?.method} ${url})`);
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    return exchange(url, headers, http, async ({ response }) => {
      const body = NULL_BODY_STATUS.has(response.status) ? null : await boundedBody(response, HTTP_LIMITS.maxApiBody, `the answer from ${url}`);
      return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    });
  }) as typeof fetch;
}

/** A relative path without empty, "." or ".." segments or backslashes (it becomes part of a URL and of report paths). */
function isPlainPath(path: string): boolean {
  return path.length > 0 && !path.includes("\\") && path.split("/").every((s) => s !== "" && s !== "." && s !== "..");
}
