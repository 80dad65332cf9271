/**
 * The gateway's traffic to the upstream hub, with Node's own fetch. The gateway's token goes to the
 * upstream's origin only, never to the storage (CDN) hosts it redirects to, and never back to a client.
 */
import { GATEWAY_LIMITS } from "./limits.js";
import { repoLabel, upstreamFilePath, type FileRef } from "./routes.js";

export interface UpstreamOptions {
  base: URL;
  /** Sent as a bearer token to the upstream's origin. */
  token?: string;
  /**
   * Forward the client's own Authorization header instead of the gateway's token; a client without
   * one is anonymous upstream (the gateway's token never stands in for it).
   */
  forwardAuthorization?: boolean;
  /** Longest pause between two chunks of a download (default GATEWAY_LIMITS.upstreamStallTimeoutMs). */
  stallTimeoutMs?: number;
}

/** What the hub says about a file before any byte of it is fetched. */
export interface FileMeta {
  /** The hub's identity of the content: X-Linked-Etag for large (LFS) files, ETag otherwise. */
  etag: string | undefined;
  size: number | undefined;
  /** The sha256 the hub publishes for an LFS file (its X-Linked-Etag): the content must hash to it. */
  sha256: string | undefined;
  commit: string | undefined;
  /** Where the content is: the storage URL the hub redirects to, or the hub URL itself. */
  contentUrl: URL;
}

/** An upstream answer that is not the file: relayed to the client as it is (404 EntryNotFound, 401 gated…). */
export interface UpstreamRefusal {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The hub's own scan of a file (`securityFileStatus`) as it reported it, or why it could not be read. */
export type HubScanStatus = { status: unknown } | { failed: string };

/** Headers of upstream errors that hub clients act on. */
const ERROR_HEADERS = ["content-type", "x-error-code", "x-error-message", "x-request-id"];

export class UpstreamError extends Error {}

/** The upstream did not answer, or stopped sending, within a time limit (504). */
export class UpstreamTimeoutError extends UpstreamError {}

export class Upstream {
  constructor(private readonly options: UpstreamOptions) {}

  get origin(): string {
    return this.options.base.origin;
  }

  /**
   * Asks the hub for a file's metadata (HEAD, following its own redirects such as renamed repos, but
   * not the redirect to storage, whose Location is kept as the content URL).
   */
  async fileMeta(file: FileRef, clientAuthorization: string | undefined): Promise<FileMeta | UpstreamRefusal> {
    let url = this.url(upstreamFilePath(file));
    const signal = AbortSignal.timeout(GATEWAY_LIMITS.upstreamMetadataTimeoutMs);
    // The hop that says X-Linked-* speaks for the content; a later hop's ETag may be of a pointer or a storage object.
    let linkedEtag: string | undefined;
    let linkedSize: number | undefined;
    let commit: string | undefined;
    for (let hop = 0; hop <= GATEWAY_LIMITS.maxRedirects; hop++) {
      const res = await fetch(url, { method: "HEAD", redirect: "manual", signal, headers: this.headers(url, clientAuthorization, true) });
      linkedEtag ??= res.headers.get("x-linked-etag") ?? undefined;
      linkedSize ??= sizeOf(res.headers.get("x-linked-size"));
      commit ??= res.headers.get("x-repo-commit") ?? undefined;
      const meta = (contentUrl: URL): FileMeta => ({
        etag: linkedEtag ?? res.headers.get("etag") ?? undefined,
        size: linkedSize ?? sizeOf(res.headers.get("content-length")),
        sha256: publishedSha256(linkedEtag),
        commit,
        contentUrl,
      });
      const location = res.headers.get("location");
      if (res.status >= 300 && res.status < 400 && location) {
        const next = new URL(location, url);
        // A redirect that leaves the hub is the storage holding the content: the metadata is complete.
        if (next.origin !== this.origin) return meta(next);
        url = next;
        continue;
      }
      if (!res.ok) return refusal(res);
      return meta(url);
    }
    throw new UpstreamError(`more than ${GATEWAY_LIMITS.maxRedirects} redirects from the upstream`);
  }

  /**
   * Opens the content of a file. The body is read through `chunks`, which aborts when the upstream
   * stalls; with Accept-Encoding identity the bytes are the file's own, and Content-Length counts them.
   */
  async openContent(meta: FileMeta, clientAuthorization: string | undefined): Promise<{ chunks: AsyncIterable<Uint8Array>; size: number | undefined } | UpstreamRefusal> {
    const stallMs = this.options.stallTimeoutMs ?? GATEWAY_LIMITS.upstreamStallTimeoutMs;
    const stalled = (): UpstreamTimeoutError => new UpstreamTimeoutError(`the upstream sent nothing for ${seconds(stallMs)} (the gateway's stall timeout)`);
    const controller = new AbortController();
    let timer = setTimeout(() => controller.abort(stalled()), stallMs);
    const rearm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(stalled()), stallMs);
    };
    let url = meta.contentUrl;
    try {
      for (let hop = 0; hop <= GATEWAY_LIMITS.maxRedirects; hop++) {
        const res = await fetch(url, { redirect: "manual", signal: controller.signal, headers: this.headers(url, clientAuthorization, true) });
        const location = res.headers.get("location");
        if (res.status >= 300 && res.status < 400 && location) {
          await res.body?.cancel();
          url = new URL(location, url);
          continue;
        }
        if (!res.ok || !res.body) {
          clearTimeout(timer);
          return refusal(res);
        }
        const encoded = res.headers.get("content-encoding");
        const size = encoded && encoded !== "identity" ? undefined : sizeOf(res.headers.get("content-length"));
        if (size !== undefined && meta.size !== undefined && size !== meta.size) {
          await res.body.cancel();
          throw new UpstreamError(`the hub announced ${meta.size} bytes and the content is ${size}`);
        }
        const body = res.body;
        const announced = size ?? meta.size;
        async function* chunks(): AsyncGenerator<Uint8Array> {
          let received = 0;
          try {
            for await (const chunk of body) {
              rearm();
              received += chunk.length;
              yield chunk;
            }
          } catch (err) {
            if (controller.signal.aborted && controller.signal.reason instanceof UpstreamError) throw controller.signal.reason;
            const of = announced === undefined ? "" : ` of ${announced}`;
            throw new UpstreamError(`the upstream closed the download after ${received}${of} bytes (${describeCause(err)})`, { cause: err });
          } finally {
            clearTimeout(timer);
          }
        }
        return { chunks: chunks(), size };
      }
    } catch (err) {
      clearTimeout(timer);
      if (controller.signal.aborted && controller.signal.reason instanceof UpstreamError) throw controller.signal.reason;
      throw err;
    }
    clearTimeout(timer);
    throw new UpstreamError(`more than ${GATEWAY_LIMITS.maxRedirects} redirects from the upstream`);
  }

  /**
   * The hub's security status of one file at a revision, through its paths-info API (POST with the
   * paths and expand, as the hub's clients send it), with the same credentials as the file request.
   * A failed request, or an answer without the file, is reported as such, never as a status.
   */
  async securityStatus(file: FileRef, revision: string, clientAuthorization: string | undefined): Promise<HubScanStatus> {
    const url = this.url(`/api/${file.repo.type}s/${file.repo.id}/paths-info/${encodeURIComponent(revision)}`);
    const headers = { ...this.headers(url, clientAuthorization, false), "content-type": "application/json", accept: "application/json" };
    const asked = `${repoLabel(file.repo)}@${revision.slice(0, 40)}`;
    try {
      const res = await fetch(url, {
        method: "POST",
        redirect: "follow",
        headers,
        body: JSON.stringify({ paths: [file.path], expand: true }),
        signal: AbortSignal.timeout(GATEWAY_LIMITS.upstreamMetadataTimeoutMs),
      });
      if (!res.ok) {
        await res.body?.cancel();
        return { failed: `the hub's paths-info of ${asked} answered HTTP ${res.status}` };
      }
      const text = await boundedText(res, GATEWAY_LIMITS.maxPathsInfoBody);
      if (text === undefined) return { failed: `the hub's paths-info of ${asked} is over ${GATEWAY_LIMITS.maxPathsInfoBody} bytes` };
      const entries: unknown = JSON.parse(text);
      if (!Array.isArray(entries)) return { failed: `the hub's paths-info of ${asked} is not a list` };
      const entry: unknown = entries.find((e: unknown) => typeof e === "object" && e !== null && (e as { path?: unknown }).path === file.path);
      if (entry === undefined) return { failed: `the hub's paths-info of ${asked} does not list ${file.path}` };
      return { status: (entry as { securityFileStatus?: unknown }).securityFileStatus };
    } catch (err) {
      return { failed: `the hub's paths-info of ${asked} failed: ${describeCause(err)}` };
    }
  }

  /** Forwards a metadata request (`/api/...`) and returns the upstream's answer unread. */
  forwardApi(method: string, target: string, body: Uint8Array | undefined, contentType: string | undefined, clientAuthorization: string | undefined): Promise<Response> {
    const url = this.url(target);
    const headers = this.headers(url, clientAuthorization, false);
    if (contentType) headers["content-type"] = contentType;
    return fetch(url, { method, redirect: "follow", body, headers, signal: AbortSignal.timeout(GATEWAY_LIMITS.upstreamMetadataTimeoutMs) });
  }

  fileUrl(file: FileRef): string {
    return this.url(upstreamFilePath(file)).href;
  }

  /** The upstream URL of a checked request target, under the base URL's path. */
  private url(target: string): URL {
    const base = this.options.base;
    return new URL(base.pathname.replace(/\/$/, "") + target, base.origin);
  }

  private headers(url: URL, clientAuthorization: string | undefined, identity: boolean): Record<string, string> {
    const headers: Record<string, string> = { "user-agent": "modelgate-gateway" };
    // Tokens go to the hub only: storage URLs are presigned, and a token sent there would leak to a third party.
    if (url.origin === this.origin) {
      const authorization = this.options.forwardAuthorization ? clientAuthorization : this.options.token && `Bearer ${this.options.token}`;
      if (authorization) headers["authorization"] = authorization;
    }
    if (identity) headers["accept-encoding"] = "identity";
    return headers;
  }
}

/** The sha256 in an LFS file's X-Linked-Etag ("<64 hex>", possibly weak); undefined for anything else. */
function publishedSha256(linkedEtag: string | undefined): string | undefined {
  return /^(?:W\/)?"?([0-9a-f]{64})"?$/.exec(linkedEtag ?? "")?.[1];
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** The innermost reason of a network error ("other side closed"), which undici wraps in "terminated". */
export function describeCause(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

function sizeOf(header: string | null): number | undefined {
  if (header === null || !/^\d{1,16}$/.test(header)) return undefined;
  const n = Number(header);
  return Number.isSafeInteger(n) ? n : undefined;
}

async function refusal(res: Response): Promise<UpstreamRefusal> {
  const headers: Record<string, string> = {};
  for (const name of ERROR_HEADERS) {
    const v = res.headers.get(name);
    if (v !== null) headers[name] = v;
  }
  return { status: res.status, headers, body: truncated(await boundedBytes(res, GATEWAY_LIMITS.maxErrorBody)) };
}

/** A body of at most `max` bytes; undefined when it is longer (the rest is not read). */
async function boundedText(res: Response, max: number): Promise<string | undefined> {
  const read = await boundedBytes(res, max);
  return read.over ? undefined : Buffer.concat(read.parts).toString("utf8");
}

/** The start of an error body, at most maxErrorBody bytes. */
function truncated(read: { parts: Uint8Array[] }): string {
  return Buffer.concat(read.parts).subarray(0, GATEWAY_LIMITS.maxErrorBody).toString("utf8");
}

/** Reads a body until its end or until more than `max` bytes came; the rest is not read. */
async function boundedBytes(res: Response, max: number): Promise<{ parts: Uint8Array[]; over: boolean }> {
  const parts: Uint8Array[] = [];
  if (!res.body) return { parts, over: false };
  let n = 0;
  const reader = res.body.getReader();
  while (n <= max) {
    const { done, value } = await reader.read();
    if (done) return { parts, over: false };
    parts.push(value);
    n += value.length;
  }
  await reader.cancel();
  return { parts, over: true };
}

export function isRefusal(x: object): x is UpstreamRefusal {
  return "status" in x;
}
