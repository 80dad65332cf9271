/**
 * `modelgate serve`: a Hugging Face–compatible gateway. Metadata (`/api/...`) is forwarded; a file is
 * fetched from the upstream once into the content-addressed store, scanned, decided by the policy and
 * served only if it passes, with the headers hub clients read (ETag, X-Repo-Commit, X-Linked-Etag,
 * X-Linked-Size, Content-Length, Accept-Ranges, Content-Range). Clients never see the upstream's
 * storage redirects: every byte they get comes from the store, after its verdict.
 */
import { createReadStream } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { scanFile } from "../engine.js";
import type { Policy } from "../policy/index.js";
import { Decisions, type DecisionRecord } from "./decisions.js";
import { Gate, type HubFileOrigin } from "./gate.js";
import { GATEWAY_LIMITS } from "./limits.js";
import { GatewayMetrics, type RequestKind } from "./metrics.js";
import { PAGE_CSP, renderPage } from "./page.js";
import { parseRange } from "./range.js";
import { repoLabel, route, type FileRef, type RepoRef } from "./routes.js";
import { SingleFlight } from "./singleFlight.js";
import { BlobStore, StoreError, type StoredBlob } from "./store.js";
import { isRefusal, Upstream, UpstreamError, type FileMeta, type UpstreamRefusal } from "./upstream.js";

export interface GatewayOptions {
  upstream: URL;
  host: string;
  /** 0 picks a free port. */
  port: number;
  storeDir: string;
  policy: Policy;
  /** The gateway's own upstream token (HF_TOKEN); never sent to clients or to storage hosts. */
  token?: string;
  /** Send the client's Authorization to the upstream instead of the gateway's token. */
  forwardAuthorization?: boolean;
  maxFileBytes?: number;
  /** One line per decision and per failure (the CLI writes them to stderr). */
  log?: (line: string) => void;
}

export interface Gateway {
  /** http://host:port */
  readonly url: string;
  readonly metrics: GatewayMetrics;
  /** Stops accepting requests, finishes those in flight and every download and scan started, then closes. */
  close(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const store = await BlobStore.open(options.storeDir);
  const gateway = new GatewayServer(options, store);
  return gateway.listen();
}

/** The upstream answered with something that is not the file; relayed to the client as it is. */
class Relayed extends Error {
  constructor(readonly refusal: UpstreamRefusal) {
    super(`the upstream answered ${refusal.status}`);
  }
}

/** Response headers that a forwarded API answer keeps; everything else (cookies, upstream internals) is dropped. */
const API_HEADERS = ["content-type", "etag", "last-modified", "cache-control", "x-repo-commit", "x-error-code", "x-error-message", "x-request-id", "x-total-count"];

class GatewayServer {
  private readonly server: Server;
  private readonly upstream: Upstream;
  private readonly gate: Gate;
  private readonly decisions = new Decisions();
  private readonly downloads = new SingleFlight<StoredBlob>();
  private readonly scans = new SingleFlight<DecisionRecord>();
  readonly metrics = new GatewayMetrics();
  /** Fetch-and-scan runs in progress: shutdown waits for them. */
  private readonly inFlight = new Set<Promise<unknown>>();
  private closing = false;

  constructor(
    private readonly options: GatewayOptions,
    private readonly store: BlobStore,
  ) {
    this.upstream = new Upstream({ base: options.upstream, token: options.token, forwardAuthorization: options.forwardAuthorization });
    this.gate = new Gate(options.policy, store.dir);
    this.server = createServer({ requestTimeout: GATEWAY_LIMITS.requestTimeoutMs, headersTimeout: GATEWAY_LIMITS.headersTimeoutMs }, (req, res) => {
      void this.handle(req, res);
    });
  }

  listen(): Promise<Gateway> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off("error", reject);
        const { address, port } = this.server.address() as AddressInfo;
        const host = address.includes(":") ? `[${address}]` : address;
        resolve({ url: `http://${host}:${port}`, metrics: this.metrics, close: () => this.close() });
      });
    });
  }

  private async close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    // Downloads outlive their request when the client goes away, and a HEAD's prefetch has none.
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let kind: RequestKind = "refused";
    res.once("finish", () => {
      this.metrics.request(kind, res.statusCode);
      // A keep-alive connection that just went idle must not hold a shutdown open.
      if (this.closing) this.server.closeIdleConnections();
    });
    try {
      const method = req.method ?? "GET";
      const r = route(method, req.url ?? "/");
      if (r.kind !== "refused" && method !== "POST" && Number(req.headers["content-length"] ?? 0) > 0) {
        return sendJson(res, 413, { error: "a request body is only accepted on the paths-info POST" });
      }
      switch (r.kind) {
        case "refused":
          return sendJson(res, r.status, { error: r.reason });
        case "healthz":
          kind = "healthz";
          return sendJson(res, this.closing ? 503 : 200, { status: this.closing ? "shutting down" : "ok" });
        case "metrics":
          kind = "metrics";
          return send(res, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }, this.metrics.render());
        case "page":
          kind = "page";
          return send(res, 200, { "content-type": "text/html; charset=utf-8", "content-security-policy": PAGE_CSP, "x-content-type-options": "nosniff" }, this.page());
        case "api":
          kind = "api";
          return await this.api(req, res, r.repo, r.target);
        case "file":
          kind = "file";
          return await this.file(req, res, r.file);
      }
    } catch (err) {
      this.fail(res, err);
    }
  }

  private page(): string {
    return renderPage({
      upstream: this.upstream.origin,
      store: this.store.dir,
      auditLog: this.gate.auditLog,
      policy: this.options.policy,
      recent: this.decisions.recent(),
      quarantined: this.decisions.quarantined(),
    });
  }

  private async api(req: IncomingMessage, res: ServerResponse, repo: RepoRef | undefined, target: string): Promise<void> {
    if (repo && !this.gate.trusts({ repo })) return this.refuseSource(res, { repo });
    const body = req.method === "POST" ? await readBody(req) : undefined;
    if (body === "too large") return sendJson(res, 413, { error: `request bodies are limited to ${GATEWAY_LIMITS.maxRequestBody} bytes` });
    const upstream = await this.upstream.forwardApi(req.method ?? "GET", target, body, req.headers["content-type"], req.headers.authorization);
    const headers: Record<string, string> = {};
    for (const name of API_HEADERS) {
      const v = upstream.headers.get(name);
      if (v !== null) headers[name] = v;
    }
    // Pagination links name the upstream; the client must come back through the gateway.
    const link = upstream.headers.get("link");
    const host = req.headers.host;
    if (link !== null && host && /^[\w.:[\]-]+$/.test(host)) headers["link"] = link.split(this.upstream.origin).join(`http://${host}`);
    res.writeHead(upstream.status, headers);
    if (!upstream.body || req.method === "HEAD") {
      await upstream.body?.cancel();
      res.end();
      return;
    }
    await pipeline(Readable.fromWeb(upstream.body as import("node:stream/web").ReadableStream<Uint8Array>), res);
  }

  private async file(req: IncomingMessage, res: ServerResponse, file: FileRef): Promise<void> {
    const auth = req.headers.authorization;
    const origin: HubFileOrigin = { repo: file.repo, path: file.path, url: this.upstream.fileUrl(file) };
    if (!this.gate.trusts(origin)) return this.refuseSource(res, { ...origin, revision: file.revision });
    const meta = await this.upstream.fileMeta(file, auth);
    if (isRefusal(meta)) return relay(res, meta, req.method === "HEAD");
    const resolved = { ...origin, revision: file.revision, ...(meta.commit !== undefined && { commit: meta.commit }) };
    if (!this.gate.trusts(resolved)) return this.refuseSource(res, resolved);
    const name = `${repoLabel(file.repo)}/${file.path}`;
    // The hub's identity of the content; without one nothing can be reused safely, so it is fetched again.
    const identity = meta.etag !== undefined ? `etag:${meta.etag}` : meta.commit !== undefined ? `commit:${meta.commit}:${name}` : undefined;
    const known = identity !== undefined ? this.decisions.blobOf(identity) : undefined;
    if (req.method === "HEAD" && meta.size !== undefined && !(known && this.decisions.cached(known, name))) {
      // Hub clients HEAD with a short timeout before they GET: answer from the hub's metadata now and
      // fetch and scan meanwhile. The GET that follows gets the verdict.
      this.track(this.prepare(resolved, meta, identity, name, auth)).catch((err: unknown) => this.options.log?.(`prefetch of ${name} failed: ${describe(err)}`));
      return send(res, 200, fileHeaders(meta, meta.size, undefined), undefined);
    }
    const { blob, record } = await this.track(this.prepare(resolved, meta, identity, name, auth));
    if (record.result.verdict === "block" || !blob) return sendBlocked(res, record, name, req.method === "HEAD");
    return this.serveBlob(req, res, blob, meta);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const done = (): void => void this.inFlight.delete(work);
    work.then(done, done);
    return work;
  }

  /**
   * The stored blob of a file and its decision: fetched, stored and scanned once however many ask at
   * once. A blocked file has no blob (it was moved to the quarantine), only its decision.
   */
  private async prepare(origin: HubFileOrigin, meta: FileMeta, identity: string | undefined, name: string, auth: string | undefined): Promise<{ blob?: StoredBlob; record: DecisionRecord }> {
    const known = identity !== undefined ? this.decisions.blobOf(identity) : undefined;
    const blocked = known !== undefined ? this.decisions.cached(known, name) : undefined;
    if (blocked?.result.verdict === "block") return { record: blocked };
    let blob = known !== undefined ? await this.store.stored(known) : undefined;
    if (!blob) {
      blob = await this.downloads.run(identity ?? `url:${meta.contentUrl.href}`, () => this.download(meta, auth));
      if (identity !== undefined) this.decisions.rememberBlob(identity, blob.sha256);
    }
    const stored = blob;
    const record = this.decisions.cached(stored.sha256, name) ?? (await this.scans.run(`${stored.sha256}\u0000${name}`, () => this.scan(stored, origin, name)));
    return record.result.verdict === "block" ? { record } : { blob: stored, record };
  }

  private async download(meta: FileMeta, auth: string | undefined): Promise<StoredBlob> {
    const opened = await this.upstream.openContent(meta, auth);
    if (isRefusal(opened)) throw new Relayed(opened);
    this.metrics.upstreamFetches++;
    const blob = await this.store.ingest(opened.chunks, opened.size ?? meta.size, this.options.maxFileBytes ?? GATEWAY_LIMITS.maxFileBytes);
    this.metrics.bytesFetched += blob.size;
    return blob;
  }

  private async scan(blob: StoredBlob, origin: HubFileOrigin, name: string): Promise<DecisionRecord> {
    const cached = this.decisions.cached(blob.sha256, name);
    if (cached) return cached;
    const { policy } = this.options;
    const started = performance.now();
    // The stored blob, under the file's own name: extension checks compare the name with the content.
    const scanned = await scanFile(blob.path, name, { failOn: policy.failOn, callables: policy.callables });
    const scanMs = performance.now() - started;
    this.metrics.scanned(scanMs / 1000);
    let result = this.gate.decide({ ...scanned, sha256: blob.sha256 }, origin);
    if (result.verdict === "block") {
      result = await this.gate.quarantine(blob.path, result);
      this.metrics.blocks++;
    } else {
      this.metrics.passes++;
    }
    await this.gate.audit(result);
    const record: DecisionRecord = {
      time: new Date().toISOString(),
      repo: repoLabel(origin.repo),
      revision: origin.revision ?? "",
      commit: origin.commit,
      path: origin.path ?? "",
      sha256: blob.sha256,
      size: blob.size,
      result,
      scanMs,
    };
    this.decisions.record(record, name);
    this.options.log?.(`${result.verdict === "block" ? "BLOCK" : "pass "} ${name} sha256:${blob.sha256.slice(0, 12)} ${result.decision?.reason ?? ""}`);
    return record;
  }

  private async serveBlob(req: IncomingMessage, res: ServerResponse, blob: StoredBlob, meta: FileMeta): Promise<void> {
    const etag = meta.etag ?? `"${blob.sha256}"`;
    const ifRange = req.headers["if-range"];
    const range = ifRange === undefined || ifRange === etag ? parseRange(req.headers.range, blob.size) : undefined;
    if (range === "unsatisfiable") {
      return send(res, 416, { ...fileHeaders(meta, blob.size, blob.sha256), "content-range": `bytes */${blob.size}`, "content-length": "0" }, undefined);
    }
    const headers = fileHeaders({ ...meta, etag }, blob.size, blob.sha256);
    const [start, end] = range ? [range.start, range.end] : [0, blob.size - 1];
    const length = blob.size === 0 ? 0 : end - start + 1;
    headers["content-length"] = String(length);
    if (range) headers["content-range"] = `bytes ${start}-${end}/${blob.size}`;
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === "HEAD" || length === 0) {
      res.end();
      return;
    }
    await pipeline(createReadStream(blob.path, { start, end, highWaterMark: 1 << 20 }), res);
    this.metrics.bytesServed += length;
  }

  private refuseSource(res: ServerResponse, origin: HubFileOrigin): void {
    const reason = `${repoLabel(origin.repo)} is not one of the gateway's trusted sources`;
    void this.gate
      .audit(this.gate.refusedSource(origin, reason))
      .catch((err: unknown) => this.options.log?.(`audit log: ${describe(err)}`));
    sendJson(res, 403, { error: reason }, { "x-error-code": "ModelgateUntrustedSource", "x-error-message": headerSafe(reason) });
  }

  private fail(res: ServerResponse, err: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof Relayed) return relay(res, err.refusal, false);
    // Upstream trouble is a bad gateway; a store limit or a cut-off download too: the file was not served.
    const upstream = err instanceof UpstreamError || err instanceof StoreError || (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError" || err.message === "fetch failed"));
    this.options.log?.(`${upstream ? "upstream" : "internal"} error: ${describe(err)}`);
    sendJson(res, upstream ? 502 : 500, { error: upstream ? `upstream: ${describe(err)}` : "internal error of the gateway" });
  }
}

function fileHeaders(meta: FileMeta, size: number, sha256: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {
    "content-type": "application/octet-stream",
    "content-length": String(size),
    "accept-ranges": "bytes",
    "x-linked-size": String(size),
  };
  if (meta.etag !== undefined) {
    headers["etag"] = meta.etag;
    headers["x-linked-etag"] = meta.etag;
  }
  if (meta.commit !== undefined) headers["x-repo-commit"] = meta.commit;
  if (sha256 !== undefined) headers["x-modelgate-sha256"] = sha256;
  return headers;
}

function sendBlocked(res: ServerResponse, record: DecisionRecord, name: string, head: boolean): void {
  const { result } = record;
  const reason = result.decision?.reason ?? "blocked by the policy";
  const error = `modelgate blocked ${name}: ${reason}`;
  const body = {
    error,
    verdict: "block",
    ...(result.decision && { rule: result.decision.rule }),
    sha256: record.sha256,
    findings: result.findings.map((f) => ({ rule: f.rule, severity: f.severity, message: f.message, location: f.location, ...(f.evidence !== undefined && { evidence: f.evidence }) })),
  };
  const headers = { "x-error-code": "ModelgateBlocked", "x-error-message": headerSafe(error), "x-modelgate-sha256": record.sha256 };
  if (head) return send(res, 403, { ...headers, "content-type": "application/json" }, undefined);
  sendJson(res, 403, body, headers);
}

function relay(res: ServerResponse, refusal: UpstreamRefusal, head: boolean): void {
  send(res, refusal.status, refusal.headers, head ? undefined : refusal.body);
}

function sendJson(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  send(res, status, { ...headers, "content-type": "application/json; charset=utf-8" }, JSON.stringify(body) + "\n");
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string | undefined): void {
  if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body));
  res.writeHead(status, headers);
  res.end(res.req.method === "HEAD" ? undefined : body);
}

/** Reads a request body up to the limit. */
async function readBody(req: IncomingMessage): Promise<Uint8Array | "too large"> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > GATEWAY_LIMITS.maxRequestBody) return "too large";
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

/** Header values are Latin-1 without line breaks: anything else from a finding becomes "?". */
function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?").slice(0, 1000);
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
  return err.message + cause;
}
