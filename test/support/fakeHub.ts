/**
 * A Hugging Face hub on loopback, shaped like the real one where hub clients look: resolve URLs
 * answer large (LFS) files with a 302 to a storage host on another origin, carrying X-Linked-Etag,
 * X-Linked-Size and X-Repo-Commit; small files directly with ETag; a renamed repository with a
 * relative 307; unknown files with 404 EntryNotFound; the /api/models endpoints the clients call; and
 * the recursive tree listing (paged) that the gateway's signature check reads.
 * It records every request so tests can check what reached it (and with which credentials).
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parseRange } from "../../src/gateway/range.js";

export const COMMIT = "0123456789abcdef0123456789abcdef01234567";

export interface HubFile {
  content: Uint8Array;
  /** Stored in LFS: resolve redirects to the storage host. */
  lfs: boolean;
  sha256: string;
  etag?: string;
}

/** What the hub or its storage does wrong when sending a file's content (by the content's sha256). */
export interface Fault {
  /** Sent instead of the content, under the content's headers (a CDN serving the wrong bytes). */
  replace?: Uint8Array;
  /** The connection is cut after this many bytes of the body. */
  cutAfter?: number;
  /** This many bytes of the body are sent, then nothing more until the connection is closed. */
  stallAfter?: number;
}

export interface SeenRequest {
  method: string;
  url: string;
  authorization: string | undefined;
}

export class FakeHub {
  /** "org/name/path" → file. */
  readonly files = new Map<string, HubFile>();
  /** Old repository id → new one: resolve answers a relative 307, as the hub does for renamed repos. */
  readonly renamed = new Map<string, string>();
  readonly hubRequests: SeenRequest[] = [];
  readonly storageRequests: SeenRequest[] = [];
  /** sha256 → storage GETs of that blob (how many times the content was fetched). */
  readonly storageFetches = new Map<string, number>();
  /** While set for a sha256, storage responses for it wait for the promise (a download kept in flight). */
  readonly holds = new Map<string, Promise<void>>();
  /** Faults of content downloads, by the content's sha256, until deleted. */
  readonly faults = new Map<string, Fault>();
  /** "org/name/path" → the hub's security scan of the file (`securityFileStatus` in an expanded paths-info). */
  readonly securityStatus = new Map<string, unknown>();
  /** While set, paths-info answers this HTTP status with an error instead of the listing. */
  pathsInfoFailure: number | undefined;
  /** Private repositories: resolve answers 401 unless the request carries this Authorization. */
  readonly privateRepos = new Map<string, string>();
  /** Entries per page of the tree listing; a longer listing is paged with a Link rel="next", as the hub does. */
  treePageSize = 1000;
  hubUrl = "";
  storageUrl = "";

  private constructor(
    private readonly hub: Server,
    private readonly storage: Server,
  ) {}

  static async start(): Promise<FakeHub> {
    let self: FakeHub | undefined;
    const hub = createServer((req, res) => self!.onHub(req, res));
    const storage = createServer((req, res) => void self!.onStorage(req, res));
    self = new FakeHub(hub, storage);
    self.hubUrl = await listen(hub);
    self.storageUrl = await listen(storage);
    return self;
  }

  /** Storage content by sha256. */
  private readonly blobs = new Map<string, Uint8Array>();

  /** `etag` replaces a small file's ETag (its git blob id), e.g. to give two files one ETag. */
  add(repo: string, path: string, content: Uint8Array, lfs = true, etag?: string): void {
    const sha = sha256(content);
    this.files.set(`${repo}/${path}`, { content, lfs, sha256: sha, ...(etag !== undefined && { etag }) });
    this.blobs.set(sha, content);
  }

  async close(): Promise<void> {
    for (const s of [this.hub, this.storage]) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }

  private onHub(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? "/";
    this.hubRequests.push({ method: req.method ?? "GET", url, authorization: req.headers.authorization });
    const path = decodeURIComponent(url.split("?")[0]!);
    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)$/.exec(path);
    if (tree) return void this.onTree(res, tree[1]!, tree[2]!, new URL(url, this.hubUrl).searchParams);
    const api = /^\/api\/models\/([^/]+\/[^/]+)(?:\/paths-info\/([^/]+))?$/.exec(path);
    if (api) return void this.onApi(req, res, api[1]!, api[2]);
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (!m) return void res.writeHead(404, { "x-error-code": "RepoNotFound" }).end();
    const [, repo, revision, file] = m as unknown as [string, string, string, string];
    const renamed = this.renamed.get(repo);
    if (renamed) return void res.writeHead(307, { location: `/${renamed}/resolve/${encodeURIComponent(revision)}/${file}` }).end();
    const allowed = this.privateRepos.get(repo);
    if (allowed !== undefined && req.headers.authorization !== allowed) {
      return void res.writeHead(401, { "x-error-code": "RepoNotFound", "x-error-message": "Invalid username or password.", "content-type": "application/json" }).end(req.method === "HEAD" ? undefined : '{"error":"Repository not found"}');
    }
    const entry = this.files.get(`${repo}/${file}`);
    if (!entry) return void res.writeHead(404, { "x-error-code": "EntryNotFound", "x-error-message": "Entry not found", "content-type": "application/json" }).end(req.method === "HEAD" ? undefined : '{"error":"Entry not found"}');
    const sha = entry.sha256;
    if (entry.lfs) {
      res.writeHead(302, {
        location: `${this.storageUrl}/blobs/${sha}?X-Signature=presigned`,
        "x-linked-etag": `"${sha}"`,
        "x-linked-size": String(entry.content.length),
        "x-repo-commit": COMMIT,
        etag: gitEtag(new TextEncoder().encode(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha}\n`)),
      });
      return void res.end();
    }
    sendBytes(req, res, entry.content, { etag: entry.etag ?? gitEtag(entry.content), "x-repo-commit": COMMIT }, this.faults.get(sha));
  }

  private async onApi(req: IncomingMessage, res: ServerResponse, repo: string, pathsInfoRevision: string | undefined): Promise<void> {
    let files = [...this.files].filter(([k]) => k.startsWith(`${repo}/`));
    if (files.length === 0) return void res.writeHead(404, { "x-error-code": "RepoNotFound", "content-type": "application/json" }).end('{"error":"Repository not found"}');
    let expand = false;
    if (pathsInfoRevision !== undefined) {
      if (this.pathsInfoFailure !== undefined) return void res.writeHead(this.pathsInfoFailure, { "content-type": "application/json" }).end('{"error":"Internal Error"}');
      const chunks: Buffer[] = [];
      for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
      const asked = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { paths: string[]; expand?: boolean };
      const paths = new Set(asked.paths.map((p) => `${repo}/${p}`));
      expand = asked.expand === true;
      files = files.filter(([k]) => paths.has(k));
    }
    // Expanded entries carry the hub's scan of the file, as the hub adds securityFileStatus (and lastCommit) with expand.
    const status = (k: string): object => (expand && this.securityStatus.has(k) ? { securityFileStatus: this.securityStatus.get(k) } : {});
    const body =
      pathsInfoRevision === undefined
        ? { id: repo, sha: COMMIT, siblings: files.map(([k]) => ({ rfilename: k.slice(repo.length + 1) })) }
        : files.map(([k, f]) => ({ type: "file", path: k.slice(repo.length + 1), size: f.content.length, oid: gitEtag(f.content).slice(1, -1), ...(f.lfs && { lfs: { oid: f.sha256, size: f.content.length } }), ...status(k) }));
    res.writeHead(200, { "content-type": "application/json", "x-repo-commit": COMMIT, "set-cookie": "hub-session=secret" }).end(JSON.stringify(body));
  }

  /** The recursive tree listing (`recursive=true`): every file with its git oid, and lfs.oid (the sha256) for LFS files. */
  private onTree(res: ServerResponse, repo: string, revision: string, query: URLSearchParams): void {
    const files = [...this.files].filter(([k]) => k.startsWith(`${repo}/`));
    if (files.length === 0) return void res.writeHead(404, { "x-error-code": "RepoNotFound", "content-type": "application/json" }).end('{"error":"Repository not found"}');
    const start = Number(query.get("cursor") ?? 0);
    const page = files.slice(start, start + this.treePageSize);
    const body = page.map(([k, f]) => ({ type: "file", oid: gitEtag(f.content).slice(1, -1), size: f.content.length, path: k.slice(repo.length + 1), ...(f.lfs && { lfs: { oid: f.sha256, size: f.content.length, pointerSize: 134 } }) }));
    const headers: Record<string, string> = { "content-type": "application/json", "x-repo-commit": COMMIT };
    const next = start + this.treePageSize;
    if (next < files.length) headers["link"] = `<${this.hubUrl}/api/models/${repo}/tree/${revision}?recursive=true&expand=true&cursor=${next}>; rel="next"`;
    res.writeHead(200, headers).end(JSON.stringify(body));
  }

  private async onStorage(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.storageRequests.push({ method: req.method ?? "GET", url: req.url ?? "/", authorization: req.headers.authorization });
    const sha = /^\/blobs\/([0-9a-f]{64})/.exec(req.url ?? "")?.[1];
    const content = sha === undefined ? undefined : this.blobs.get(sha);
    if (!sha || !content) return void res.writeHead(404).end();
    if (req.method === "GET") this.storageFetches.set(sha, (this.storageFetches.get(sha) ?? 0) + 1);
    await this.holds.get(sha);
    sendBytes(req, res, content, { etag: `"${sha}"` }, this.faults.get(sha));
  }
}

function sendBytes(req: IncomingMessage, res: ServerResponse, content: Uint8Array, headers: Record<string, string>, fault: Fault = {}): void {
  const range = parseRange(req.headers.range, content.length);
  if (range === "unsatisfiable") return void res.writeHead(416, { "content-range": `bytes */${content.length}` }).end();
  const [start, end] = range ? [range.start, range.end] : [0, content.length - 1];
  const body = (fault.replace ?? content).subarray(start, end + 1);
  res.writeHead(range ? 206 : 200, {
    ...headers,
    "content-type": "application/octet-stream",
    "accept-ranges": "bytes",
    "content-length": String(body.length),
    ...(range && { "content-range": `bytes ${start}-${end}/${content.length}` }),
  });
  if (req.method === "HEAD") return void res.end();
  if (fault.cutAfter !== undefined) return void res.write(body.subarray(0, fault.cutAfter), () => res.destroy());
  if (fault.stallAfter !== undefined) return void res.write(body.subarray(0, fault.stallAfter));
  res.end(body);
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The git blob id, which the hub gives as the ETag of a small file. */
function gitEtag(bytes: Uint8Array): string {
  return `"${createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex")}"`;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}
