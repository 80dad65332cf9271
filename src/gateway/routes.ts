/**
 * What a request asks for, decided from its method and target alone. Anything that is not a known
 * hub read is refused here, so nothing unexpected reaches the upstream: paths are decoded segment by
 * segment and `..`, `.`, empty segments, backslashes, control characters and encoded slashes in file
 * paths are rejected (in API paths, an encoded slash is refused when it hides such a segment) (the store never uses request paths on disk; this protects the upstream and the
 * clients' own caches, which join these paths onto folders).
 */
import { GATEWAY_LIMITS } from "./limits.js";

export type RepoType = "model" | "dataset" | "space";

export interface RepoRef {
  type: RepoType;
  /** "org/name", or a legacy single-segment name such as "gpt2". */
  id: string;
}

export interface FileRef {
  repo: RepoRef;
  /** "resolve" serves the file; "raw" the git file (a Git LFS pointer for large files). */
  mode: "resolve" | "raw";
  revision: string;
  path: string;
}

export type Route =
  | { kind: "page" }
  | { kind: "healthz" }
  | { kind: "metrics" }
  | { kind: "file"; file: FileRef }
  /** `target` is the request target as received (path and query), already checked. */
  | { kind: "api"; repo: RepoRef | undefined; target: string }
  | { kind: "refused"; status: 400 | 403 | 404 | 405 | 414; reason: string };

const TYPE_PREFIX: Record<string, RepoType> = { datasets: "dataset", spaces: "space" };
const API_COLLECTIONS: Record<string, RepoType> = { models: "model", datasets: "dataset", spaces: "space" };

/** Hub API sub-resources that follow a repository id; one of these after one segment means a legacy id. */
const API_SUBRESOURCES = new Set(["revision", "tree", "paths-info", "refs", "commits", "treesize", "commit", "discussions", "settings", "scan"]);

/** API sub-resources that hand out content or credentials to reach it around the gateway (Xet storage tokens). */
const API_REFUSED = new Set(["xet-read-token", "xet-write-token", "resolve-cache", "preupload", "lfs-files"]);

const REPO_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;
const REVISION = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

export function route(method: string, target: string): Route {
  if (target.length > GATEWAY_LIMITS.maxUrlLength) return refuse(414, "the request target is too long");
  const q = target.indexOf("?");
  const rawPath = q === -1 ? target : target.slice(0, q);
  if (!rawPath.startsWith("/") || rawPath.includes("\\") || CONTROL.test(rawPath)) return refuse(400, "malformed path");
  if (rawPath === "/" || rawPath === "/healthz" || rawPath === "/metrics") {
    if (method !== "GET" && method !== "HEAD") return refuse(405, "only GET and HEAD");
    return { kind: rawPath === "/" ? "page" : rawPath === "/healthz" ? "healthz" : "metrics" };
  }
  const segments = decodeSegments(rawPath.slice(1));
  if (typeof segments === "string") return refuse(400, segments);
  if (segments[0] === "api") return apiRoute(method, segments, target);
  if (method !== "GET" && method !== "HEAD") return refuse(405, "the gateway only reads: GET and HEAD");
  return fileRoute(segments);
}

/** Decoded segments, or why the path is refused. */
function decodeSegments(path: string): string[] | string {
  const out: string[] = [];
  for (const raw of path.split("/")) {
    let s: string;
    try {
      s = decodeURIComponent(raw);
    } catch {
      return "malformed percent-encoding";
    }
    if (s === "" || s === "." || s === "..") return "empty, '.' or '..' path segment";
    if (s.includes("\\") || CONTROL.test(s)) return "backslash or control character in the path";
    out.push(s);
  }
  return out;
}

function fileRoute(segments: string[]): Route {
  const type = TYPE_PREFIX[segments[0]!];
  const rest = type ? segments.slice(1) : segments;
  // "org/name/resolve/…" first; a legacy single-segment id ("gpt2/resolve/…") otherwise.
  const at = isMode(rest[2]) ? 2 : isMode(rest[1]) ? 1 : -1;
  if (at === -1) return refuse(404, "not a file download: the gateway serves /{repo}/resolve/{revision}/{path} and /api/");
  const idSegments = rest.slice(0, at);
  if (!idSegments.every((s) => REPO_SEGMENT.test(s) && !s.includes(".."))) return refuse(400, "malformed repository id");
  const revision = rest[at + 1];
  const pathSegments = rest.slice(at + 2);
  if (revision === undefined || !validRevision(revision)) return refuse(400, "malformed revision");
  if (pathSegments.length === 0) return refuse(400, "no file path");
  // A decoded segment with "/" was an encoded slash: one path segment that clients would split.
  if (pathSegments.some((s) => s.includes("/"))) return refuse(400, "encoded slash in the file path");
  // "C:" first: an absolute Windows path once a client joins it onto its cache folder.
  if (/^[A-Za-z]:/.test(pathSegments[0]!)) return refuse(400, "absolute file path");
  return {
    kind: "file",
    file: { repo: { type: type ?? "model", id: idSegments.join("/") }, mode: rest[at] as FileRef["mode"], revision, path: pathSegments.join("/") },
  };
}

function apiRoute(method: string, segments: string[], target: string): Route {
  const type = API_COLLECTIONS[segments[1] ?? ""];
  if (!type) return refuse(404, "only /api/models, /api/datasets and /api/spaces are forwarded");
  // API targets are forwarded as sent, so what an encoded slash hides counts: a revision such as
  // "refs%2Fpr%2F1" passes, "..%2F.." (which the upstream may decode and resolve) does not.
  if (segments.some((s) => s.split("/").some((part) => part === "" || part === "." || part === ".."))) {
    return refuse(400, "encoded slash hiding an empty, '.' or '..' segment in the API path");
  }
  if (segments.some((s) => API_REFUSED.has(s))) return refuse(403, "this API hands out content or storage tokens around the gateway");
  const isPathsInfo = segments.includes("paths-info");
  if (method !== "GET" && method !== "HEAD" && !(method === "POST" && isPathsInfo)) {
    return refuse(405, "the gateway forwards reads only (GET, HEAD, and the paths-info POST)");
  }
  const a = segments[2];
  const b = segments[3];
  let repo: RepoRef | undefined;
  if (a !== undefined) {
    const id = b !== undefined && !API_SUBRESOURCES.has(b) ? `${a}/${b}` : a;
    if (!id.split("/").every((s) => REPO_SEGMENT.test(s) && !s.includes(".."))) return refuse(400, "malformed repository id");
    repo = { type, id };
  }
  return { kind: "api", repo, target };
}

function isMode(s: string | undefined): boolean {
  return s === "resolve" || s === "raw";
}

function validRevision(r: string): boolean {
  return REVISION.test(r) && !r.split("/").some((s) => s === "" || s === "." || s === "..");
}

function refuse(status: 400 | 403 | 404 | 405 | 414, reason: string): Route {
  return { kind: "refused", status, reason };
}

/** How a repository is named in URLs and reports: "org/name", "datasets/org/name". */
export function repoLabel(repo: RepoRef): string {
  return repo.type === "model" ? repo.id : `${repo.type}s/${repo.id}`;
}

/** The upstream path of a file, encoded the way hub clients encode it (the revision as one segment). */
export function upstreamFilePath(file: FileRef): string {
  const path = file.path.split("/").map(encodeURIComponent).join("/");
  return `/${repoLabel(file.repo)}/${file.mode}/${encodeURIComponent(file.revision)}/${path}`;
}
