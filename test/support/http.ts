/**
 * Loopback HTTP servers for the remote tests and the remote bench (no test touches the real network):
 * a file server with Range support (the "CDN"), and a fake Hugging Face hub that answers the API
 * calls the hub client makes and redirects downloads to the CDN.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Request {
  path: string;
  range?: string;
  authorization?: string;
}

interface Listening {
  /** "http://127.0.0.1:<port>" */
  origin: string;
  /** Body bytes written, over all responses. */
  bytesSent: number;
  requests: Request[];
  close(): Promise<void>;
}

export interface FileServerOptions {
  /** Answer every request with the whole file and 200, as servers without Range support do. */
  ignoreRange?: boolean;
  /** Answer this many requests with 503 before serving. */
  failFirst?: number;
  /** Accept connections and never answer. */
  hang?: boolean;
}

export interface FileServer extends Listening {
  files: Map<string, Uint8Array>;
}

const etags = new WeakMap<Uint8Array, string>();

/** A strong ETag from the content, computed once per buffer (hashing a 1 GB file per request would be the bench's bottleneck). */
export function etagOf(bytes: Uint8Array): string {
  let etag = etags.get(bytes);
  if (etag === undefined) etags.set(bytes, (etag = `"${createHash("sha256").update(bytes).digest("hex").slice(0, 32)}"`));
  return etag;
}

/** Serves `files` by path ("/model.pt"), with single-range requests answered 206. */
export async function fileServer(files: Record<string, Uint8Array>, options: FileServerOptions = {}): Promise<FileServer> {
  const map = new Map(Object.entries(files));
  let failures = options.failFirst ?? 0;
  const state = await listen((req, res, self) => {
    if (options.hang) return; // the test's close() ends the connection
    if (failures > 0) {
      failures--;
      res.writeHead(503).end();
      return;
    }
    const body = map.get(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    if (!body) return void res.writeHead(404).end();
    serveBytes(req, res, self, body, options.ignoreRange ?? false);
  });
  return Object.assign(state, { files: map });
}

function serveBytes(req: IncomingMessage, res: ServerResponse, self: Listening, body: Uint8Array, ignoreRange: boolean): void {
  const headers = { etag: etagOf(body), "accept-ranges": ignoreRange ? "none" : "bytes" };
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
  if (!range || ignoreRange) return send(res, self, 200, { ...headers, "content-length": String(body.length) }, body);
  const start = Number(range[1]);
  const end = Math.min(range[2] === "" ? body.length - 1 : Number(range[2]), body.length - 1);
  if (start >= body.length) return send(res, self, 416, { "content-range": `bytes */${body.length}` }, new Uint8Array(0));
  const part = body.subarray(start, end + 1);
  send(res, self, 206, { ...headers, "content-range": `bytes ${start}-${end}/${body.length}`, "content-length": String(part.length) }, part);
}

function send(res: ServerResponse, self: Listening, status: number, headers: Record<string, string>, body: Uint8Array): void {
  res.writeHead(status, headers);
  // A client that stops reading (a 200 it refuses) closes the socket; count only what was written.
  const chunk = 64 * 1024;
  let at = 0;
  const pump = (): void => {
    while (at < body.length) {
      const piece = body.subarray(at, at + chunk);
      at += piece.length;
      self.bytesSent += piece.length;
      if (!res.write(piece)) return void res.once("drain", pump);
    }
    res.end();
  };
  res.on("close", () => (at = body.length));
  pump();
}

async function listen(handle: (req: IncomingMessage, res: ServerResponse, self: Listening) => void): Promise<Listening> {
  const self: Listening = { origin: "", bytesSent: 0, requests: [], close: () => Promise.resolve() };
  const server: Server = createServer((req, res) => {
    self.requests.push({
      path: req.url ?? "/",
      ...(req.headers.range !== undefined && { range: req.headers.range }),
      ...(req.headers.authorization !== undefined && { authorization: req.headers.authorization }),
    });
    handle(req, res, self);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  self.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  self.close = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return self;
}

export interface FakeRepo {
  /** "owner/name", "datasets/owner/name" or "spaces/owner/name". */
  id: string;
  files: Record<string, Uint8Array>;
  /** Files that answer 401 without `Authorization: Bearer <token>`. */
  gated?: string[];
  token?: string;
  /** The hub's own scan result per file (securityFileStatus). */
  security?: Record<string, unknown>;
  /** Branch or tag → commit; "main" is added. */
  refs?: Record<string, string>;
  /** Files stored with Git LFS: the listing publishes their sha256 as the LFS object id. */
  lfs?: string[];
}

export interface HubServer extends Listening {
  cdn: FileServer;
  commitOf(repo: string, revision?: string): string;
}

/**
 * The hub's API as the client calls it (`/api/{type}s/{name}/revision/{rev}`, `/api/{type}s/{name}/tree/{rev}`
 * paged by Link headers) and `/{name}/resolve/{rev}/{path}`, which redirects (302) to the CDN with
 * X-Repo-Commit and ETag, as the hub does. The CDN is a second loopback server.
 */
export async function hubServer(repos: FakeRepo[], pageSize = 3): Promise<HubServer> {
  const blobs: Record<string, Uint8Array> = {};
  const commits = new Map<string, Map<string, string>>();
  for (const repo of repos) {
    const commit = createHash("sha1").update(repo.id).digest("hex");
    const refs = Object.entries(repo.refs ?? {});
    commits.set(repo.id, new Map([["main", commit], [commit, commit], ...refs, ...refs.map(([, c]): [string, string] => [c, c])]));
    for (const bytes of Object.values(repo.files)) blobs[`/blobs/${etagOf(bytes).slice(1, -1)}`] = bytes;
  }
  const cdn = await fileServer(blobs);
  const repoOf = (type: string, name: string): FakeRepo | undefined => repos.find((r) => r.id === (type === "models" ? name : `${type}/${name}`));
  const json = (res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(value));
  };
  const state = await listen((req, res, self) => {
    const url = new URL(req.url ?? "/", self.origin);
    const path = decodeURIComponent(url.pathname);
    const api = /^\/api\/(models|datasets|spaces)\/([^/]+\/[^/]+)\/(revision|tree)\/([^/]+)$/.exec(path);
    if (api) {
      const [, type, name, what, rev] = api;
      const repo = repoOf(type!, name!);
      const commit = repo && commits.get(repo.id)!.get(rev!);
      if (!repo) return json(res, 401, { error: "Repository Not Found" });
      if (!commit) return json(res, 404, { error: "Revision Not Found" });
      if (what === "revision") return json(res, 200, { _id: "x", id: repo.id.replace(/^(datasets|spaces)\//, ""), sha: commit, private: false, lastModified: new Date(0).toISOString() });
      const entries = Object.entries(repo.files).map(([p, bytes]) => ({
        type: "file",
        oid: etagOf(bytes).slice(1, -1),
        size: bytes.length,
        path: p,
        ...(repo.lfs?.includes(p) && { lfs: { oid: createHash("sha256").update(bytes).digest("hex"), size: bytes.length, pointerSize: 134 } }),
        ...(url.searchParams.get("expand") === "true" && repo.security?.[p] !== undefined && { securityFileStatus: repo.security[p] }),
      }));
      const cursor = Number(url.searchParams.get("cursor") ?? 0);
      const next = new URL(url);
      next.searchParams.set("cursor", String(cursor + pageSize));
      const link = cursor + pageSize < entries.length ? { link: `<${next.href}>; rel="next"` } : undefined;
      return json(res, 200, entries.slice(cursor, cursor + pageSize), link);
    }
    const resolve = /^\/((?:datasets\/|spaces\/)?[^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    const repo = resolve && repos.find((r) => r.id === resolve[1]);
    const commit = repo && commits.get(repo.id)!.get(resolve![2]!);
    const bytes = commit ? repo.files[resolve![3]!] : undefined;
    if (!repo || !bytes) return json(res, 404, { error: "Entry not found" });
    if (repo.gated?.includes(resolve![3]!) && req.headers.authorization !== `Bearer ${repo.token}`) {
      return json(res, 401, { error: "Access to this model is restricted" });
    }
    res.writeHead(302, { location: `${cdn.origin}/blobs/${etagOf(bytes).slice(1, -1)}`, "x-repo-commit": commit!, etag: etagOf(bytes) }).end();
  });
  const closeHub = state.close;
  return Object.assign(state, {
    cdn,
    commitOf: (repo: string, revision = "main") => commits.get(repo)!.get(revision)!,
    close: async () => {
      await cdn.close();
      await closeHub();
    },
  });
}
