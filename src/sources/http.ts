/**
 * HTTP(S) resources as byte sources, read with Range requests: only the bytes a scan asks for travel
 * (the zip central directory and the pickles of a checkpoint, the header of a safetensors or GGUF
 * file). Small reads are served from an LRU cache of aligned blocks, and runs of sequential reads
 * grow a read-ahead window, so a pickle stream is not fetched a few kilobytes at a time.
 *
 * Requests follow redirects by hand, so a token goes only to the origin it was given for (hub
 * downloads redirect to a CDN); they are retried with backoff on network errors, timeouts, 5xx and
 * 429, and every request — headers and body — runs under a timeout.
 */
import { EnvironmentError, errorText } from "../errors.js";
import type { ByteSource, ReadCounter } from "./byteSource.js";

export const HTTP_LIMITS = Object.freeze({
  /**
   * Cache granule and smallest fetch. Small, because a checkpoint's zip local headers are scattered
   * one per tensor: at 256 KiB per header, 200 tensors would pull 50 MB of weights.
   */
  blockBytes: 16 * 1024,
  /** Largest read-ahead window that sequential reads grow to (GGUF metadata, YAML, pickle streams). */
  maxReadAhead: 1024 * 1024,
  /** Block bytes one source keeps (CWE-400: memory per open remote file); larger reads bypass the cache. */
  cacheBytes: 8 * 1024 * 1024,
  /** Largest body downloaded whole when a server ignores Range (CWE-400: a 10 GB file held in memory). */
  maxWholeDownload: 256 * 1024 * 1024,
  /** Redirects followed per request (CWE-835: redirect loops). */
  maxRedirects: 10,
  /** Largest API (JSON) response body (CWE-400: an endless listing). */
  maxApiBody: 64 * 1024 * 1024,
});

export interface HttpOptions {
  /** Sent as "Authorization: Bearer" to this origin only, never across a redirect to another host. */
  auth?: { origin: string; token: string } | undefined;
  /** Per request, headers and body together (default 30 s). */
  timeoutMs?: number | undefined;
  /** Attempts after the first on network errors, timeouts, 5xx and 429 (default 3). */
  retries?: number | undefined;
  /** First backoff delay, doubled per attempt (default 500 ms). */
  retryDelayMs?: number | undefined;
}

/** A failed exchange; `retryable` ones (network, timeout, 5xx) were already retried before it surfaced. */
export class HttpError extends EnvironmentError {
  constructor(
    message: string,
    readonly status?: number,
    readonly retryable = false,
  ) {
    super(message);
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

interface Reply {
  response: Response;
  /** The URL that answered, after redirects. */
  url: string;
  /** Hugging Face's X-Repo-Commit, from any hop (the hub sets it on the redirect to its CDN). */
  commit: string | undefined;
}

/**
 * One GET (redirects followed, retried with backoff) whose body `consume` reads before the timeout
 * ends. `consume` sees every final status; it throws for the ones it does not accept.
 */
export async function exchange<T>(url: string, headers: Record<string, string>, options: HttpOptions, consume: (reply: Reply) => Promise<T>): Promise<T> {
  const retries = options.retries ?? 3;
  const timeoutMs = options.timeoutMs ?? 30_000;
  for (let attempt = 0; ; attempt++) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const reply = await follow(url, headers, options, controller.signal);
      const status = reply.response.status;
      if ((status >= 500 || status === 429) && attempt < retries) {
        await reply.response.body?.cancel();
        await sleep(backoff(options, attempt));
        continue;
      }
      return await consume(reply);
    } catch (err) {
      const failure = controller.signal.aborted
        ? new HttpError(`no complete answer from ${hostOf(url)} within ${timeoutMs} ms`, undefined, true)
        : err instanceof HttpError
          ? err
          : new HttpError(`${hostOf(url)}: ${networkMessage(err)}`, undefined, true);
      if (!failure.retryable || attempt >= retries) throw failure;
      await sleep(backoff(options, attempt));
    } finally {
      clearTimeout(timer);
    }
  }
}

async function follow(start: string, headers: Record<string, string>, options: HttpOptions, signal: AbortSignal): Promise<Reply> {
  let url = start;
  let commit: string | undefined;
  for (let hop = 0; ; hop++) {
    const target = new URL(url);
    if (target.protocol !== "https:" && target.protocol !== "http:") throw new HttpError(`refusing to follow a redirect to ${target.protocol} URL`);
    const sent = new Headers(headers);
    // Ranges refer to the stored bytes: a compressed representation would shift every offset.
    sent.set("accept-encoding", "identity");
    if (options.auth && target.origin === options.auth.origin) sent.set("authorization", `Bearer ${options.auth.token}`);
    const response = await fetch(url, { headers: sent, redirect: "manual", signal });
    commit ??= response.headers.get("x-repo-commit") ?? undefined;
    if (!REDIRECTS.has(response.status)) return { response, url, commit };
    await response.body?.cancel();
    const location = response.headers.get("location");
    if (location === null) throw new HttpError(`HTTP ${response.status} without a Location header from ${url}`, response.status);
    if (hop >= HTTP_LIMITS.maxRedirects) throw new HttpError(`more than ${HTTP_LIMITS.maxRedirects} redirects from ${start}`);
    url = new URL(location, url).href;
  }
}

/** The error for a final status that is not the one asked for; 401/403 say what usually fixes them. */
export async function statusError(reply: Reply): Promise<HttpError> {
  const { status, statusText } = reply.response;
  await reply.response.body?.cancel();
  const hint = status === 401 || status === 403 ? " (gated or private: give a token with --token or HF_TOKEN)" : "";
  return new HttpError(`HTTP ${status}${statusText ? ` ${statusText}` : ""} for ${reply.url}${hint}`, status);
}

/** The whole body, refusing more than `limit` bytes. */
export async function boundedBody(response: Response, limit: number, what: string): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (declared > limit) {
    await response.body?.cancel();
    throw new HttpError(`${what} is ${declared} bytes, over the ${limit}-byte bound`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body ?? []) {
    total += chunk.length;
    if (total > limit) throw new HttpError(`${what} is over the ${limit}-byte bound`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

/**
 * A remote file as a ByteSource. `bytesRead` counts body bytes received (what travelled).
 * `rangeRequests` is false when the server ignored Range and the file was downloaded whole.
 */
export class HttpSource implements ByteSource, ReadCounter {
  bytesRead = 0;
  rangeRequests = true;
  /** From the first range answer: Hugging Face's X-Repo-Commit and the ETag every later answer must repeat. */
  commit: string | undefined;
  etag: string | undefined;
  /** The first transfer that failed (after retries), even if a format scanner caught its error. */
  failure: string | undefined;
  private total: number;
  private whole: Uint8Array | undefined;
  /** Aligned blocks by index, least recently used first (Map keeps insertion order). */
  private readonly blocks = new Map<number, Uint8Array>();
  private cached = 0;
  /** The URL the last redirect chain ended at (a CDN), asked directly until it stops answering. */
  private direct: string | undefined;
  private sawRange = false;
  private lastEnd = -1;
  private window: number = HTTP_LIMITS.blockBytes;

  private constructor(
    readonly name: string,
    readonly url: string,
    size: number,
    private readonly options: HttpOptions,
  ) {
    this.total = size;
  }

  /** Opens `url`, learning its size from the first block's Content-Range. */
  static async open(url: string, name: string, options: HttpOptions = {}): Promise<HttpSource> {
    const source = new HttpSource(name, url, -1, options);
    await source.read(0, 1);
    return source;
  }

  /** A file whose size is already known (a hub listing): nothing travels before the first read. */
  static known(url: string, name: string, size: number, options: HttpOptions = {}): HttpSource {
    return new HttpSource(name, url, size, options);
  }

  get size(): number {
    return Math.max(this.total, 0);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new RangeError(`invalid read(${offset}, ${length})`);
    }
    // An unopened source of unknown size reads its first block to learn the size.
    const n = this.total < 0 ? length : Math.max(0, Math.min(length, this.total - offset));
    if (n === 0) return new Uint8Array(0);
    const whole = this.wholeSlice(offset, n);
    if (whole) return whole;
    if (n > HTTP_LIMITS.cacheBytes / 2) return this.fetchRange(offset, offset + n);
    const B = HTTP_LIMITS.blockBytes;
    const sequential = this.lastEnd >= 0 && offset >= this.lastEnd - B && offset <= this.lastEnd + B;
    this.window = sequential ? Math.min(this.window * 2, HTTP_LIMITS.maxReadAhead) : B;
    this.lastEnd = offset + n;
    const first = Math.floor(offset / B);
    const last = Math.floor((offset + n - 1) / B);
    const missing: number[] = [];
    for (let b = first; b <= last; b++) {
      const hit = this.blocks.get(b);
      if (hit === undefined) missing.push(b);
      else this.touch(b, hit); // kept safe from the eviction that the fetch below may cause
    }
    if (missing.length > 0) {
      const from = missing[0]! * B;
      const to = Math.max((missing[missing.length - 1]! + 1) * B, sequential ? offset + n + this.window : 0);
      const bytes = await this.fetchRange(from, this.total < 0 ? to : Math.min(to, this.total));
      const downloaded = this.wholeSlice(offset, n);
      if (downloaded) return downloaded;
      for (let at = 0; at < bytes.length; at += B) this.keep(from / B + at / B, bytes.subarray(at, Math.min(at + B, bytes.length)));
      if (offset >= this.size) return new Uint8Array(0);
    }
    const end = Math.min(offset + n, this.size);
    if (first === last) return this.blocks.get(first)!.subarray(offset - first * B, end - first * B);
    const out = new Uint8Array(end - offset);
    for (let b = first; b <= last; b++) {
      const block = this.blocks.get(b)!;
      const from = Math.max(offset, b * B);
      const to = Math.min(end, b * B + block.length);
      out.set(block.subarray(from - b * B, to - b * B), from - offset);
    }
    return out;
  }

  /** Drops the cached bytes (they stay counted; a whole download is fetched again if read again): facts gathered before the scan need not stay in memory. */
  forget(): void {
    this.blocks.clear();
    this.cached = 0;
    this.whole = undefined;
  }

  /** After a whole download (server without Range support), reads are served from it. */
  private wholeSlice(offset: number, n: number): Uint8Array | undefined {
    return this.whole?.subarray(offset, Math.min(offset + n, this.whole.length));
  }

  private touch(index: number, block: Uint8Array): void {
    this.blocks.delete(index);
    this.blocks.set(index, block);
  }

  private keep(index: number, block: Uint8Array): void {
    const old = this.blocks.get(index);
    if (old) this.cached -= old.length;
    this.touch(index, block);
    this.cached += block.length;
    for (const [i, b] of this.blocks) {
      if (this.cached <= HTTP_LIMITS.cacheBytes) break;
      this.blocks.delete(i);
      this.cached -= b.length;
    }
  }

  /** Bytes [start, end) in one Range request; a server that ignores Range on the first request is read whole. */
  private async fetchRange(start: number, end: number): Promise<Uint8Array> {
    try {
      return await this.fetchRangeOnce(start, end);
    } catch (err) {
      this.failure ??= errorText(err);
      throw err;
    }
  }

  private async fetchRangeOnce(start: number, end: number): Promise<Uint8Array> {
    const headers = { range: `bytes=${start}-${end - 1}` };
    const attempt = (url: string): Promise<Uint8Array> => exchange(url, headers, this.options, (reply) => this.accept(reply, start, end));
    if (this.direct === undefined) return attempt(this.url);
    try {
      return await attempt(this.direct);
    } catch (err) {
      // Signed CDN URLs expire: ask the original URL again, which redirects to a fresh one.
      if (!(err instanceof HttpError) || err.status === undefined || err.status >= 500) throw err;
      this.direct = undefined;
      return attempt(this.url);
    }
  }

  private async accept(reply: Reply, start: number, end: number): Promise<Uint8Array> {
    const { response } = reply;
    if (response.status === 200) return this.acceptWhole(reply, end);
    if (response.status === 416 && this.total < 0) {
      // Range not satisfiable at offset 0: an empty file ("bytes */0").
      await response.body?.cancel();
      if (/^bytes \*\/0$/.test(response.headers.get("content-range") ?? "")) {
        this.total = 0;
        return new Uint8Array(0);
      }
    }
    if (response.status !== 206) throw await statusError(reply);
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get("content-range") ?? "");
    const total = range?.[3] === "*" ? Number.NaN : Number(range?.[3]);
    if (!range || Number(range[1]) !== start || !Number.isSafeInteger(total)) {
      await response.body?.cancel();
      throw new HttpError(`${reply.url} answered bytes=${start}-${end - 1} with Content-Range "${response.headers.get("content-range")}"`);
    }
    if (this.total >= 0 && total !== this.total) {
      await response.body?.cancel();
      throw new HttpError(`${reply.url} is ${total} bytes, not the ${this.total} listed: the file changed`);
    }
    this.checkEtag(reply);
    this.sawRange = true;
    this.total = total;
    const want = Math.min(end, total) - start;
    const body = await boundedBody(response, want, `the answer to bytes=${start}-${end - 1}`);
    this.bytesRead += body.length;
    if (body.length !== want) throw new HttpError(`${reply.url} sent ${body.length} bytes for a range of ${want}`);
    if (reply.url !== this.url) this.direct = reply.url;
    this.commit ??= reply.commit;
    return body;
  }

  /** The server ignored Range: only acceptable before any ranged answer, and within the bound. */
  private async acceptWhole(reply: Reply, asked: number): Promise<Uint8Array> {
    if (this.sawRange) {
      await reply.response.body?.cancel();
      throw new HttpError(`${reply.url} stopped answering range requests during the scan`);
    }
    const what = `${reply.url}: the server ignores range requests, so the file must be downloaded whole; it`;
    const body = await boundedBody(reply.response, HTTP_LIMITS.maxWholeDownload, what);
    this.bytesRead += body.length;
    if (this.total >= 0 && body.length !== this.total) throw new HttpError(`${reply.url} is ${body.length} bytes, not the ${this.total} listed`);
    this.checkEtag(reply);
    // A file no longer than the range asked for may come whole with 200; only a longer one shows Range was ignored.
    this.rangeRequests = body.length <= asked;
    this.total = body.length;
    this.whole = body;
    this.commit ??= reply.commit;
    return body;
  }

  /** Range answers from different versions of a file would be stitched into content no one published. */
  private checkEtag(reply: Reply): void {
    const etag = reply.response.headers.get("etag") ?? undefined;
    if (this.etag !== undefined && etag !== this.etag) throw new HttpError(`${reply.url} changed during the scan (ETag ${this.etag} became ${etag})`);
    this.etag ??= etag;
  }
}

function backoff(options: HttpOptions, attempt: number): number {
  return (options.retryDelayMs ?? 500) * 2 ** attempt;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** fetch's "fetch failed" hides the reason in `cause` (ECONNREFUSED, ECONNRESET…). */
function networkMessage(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : undefined;
  const message = errorText(err);
  return cause ? `${message} (${(cause as NodeJS.ErrnoException).code ?? cause.message})` : message;
}
