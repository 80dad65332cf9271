/**
 * `modelgate serve`: a Hugging Face–compatible gateway. Metadata (`/api/...`) is forwarded; a file is
 * fetched from the upstream once into the content-addressed store, scanned, decided by the policy and
 * served only if it passes, with the headers hub clients read (ETag, X-Repo-Commit, X-Linked-Etag,
 * X-Linked-Size, Content-Length, Accept-Ranges, Content-Range). Clients never see the upstream's
 * storage redirects: every byte they get comes from the store, after its verdict.
 */
import { addSandboxResults } from "../sandbox/secondOpinion.js";
import type { DetonateOptions } from "../sandbox/detonate.js";
import { clamavCheckStored } from "../clamav/check.js";
import { ClamdError } from "../clamav/client.js";
import type { ClamavSettings } from "../clamav/settings.js";
import { UsageError } from "../errors.js";
import type { Trust } from "../signing/authenticate.js";
import { loadTrusts, TrustFileError } from "../signing/trustFiles.js";
import { createReadStream } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { scanFileFindings } from "../engine.js";
import { sha256Hex } from "../hash.js";
import type { Policy } from "../policy/index.js";
import { RULES_VERSION } from "../rules/catalogue.js";
import { packageVersion } from "../version.js";
import { DecisionHistory, type DecisionRecord } from "./decisions.js";
import { DEFAULT_LEASE_TIMING, FileLeases, type LeaseTiming } from "./fileLease.js";
import { Gate, type HubFileOrigin } from "./gate.js";
import { GATEWAY_LIMITS } from "./limits.js";
import { GatewayMetrics, type RequestKind } from "./metrics.js";
import { PAGE_CSP, renderPage } from "./page.js";
import { parseRange } from "./range.js";
import { repoLabel, route, type FileRef, type RepoRef } from "./routes.js";
import { RepositorySignatures } from "./signatures.js";
import { SingleFlight } from "./singleFlight.js";
import { MemoryState, type GatewayState, type VerdictKey } from "./state.js";
import { RedisState } from "./stateRedis.js";
import { SqliteState } from "./stateSqlite.js";
import { BlobStore, IntegrityError, NODE_FS, StoreError, StoreFullError, TooLargeError, type StoreFs, type StoredBlob } from "./store.js";
import { describeCause, isRefusal, Upstream, UpstreamError, UpstreamTimeoutError, type FileMeta, type UpstreamRefusal } from "./upstream.js";

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
  /**
   * Where decisions, the identity→blob map and the download leases live: "sqlite" (the default, a
   * database under the store that survives restarts), "memory" (this process only), or a
   * `redis://` URL shared by several gateway processes.
   */
  state?: string;
  /** clamd to check every fetched file with (serve --clamav, or the policy's clamav key); unreachable: 503. */
  clamav?: ClamavSettings;
  /** Load every fetched pickle-family file in the sandbox before deciding (serve --sandbox): a second opinion. */
  sandbox?: Omit<DetonateOptions, "loader">;
  /** One line per decision and per failure (the CLI writes them to stderr). */
  log?: (line: string) => void;
  /** The store's file-system calls (tests simulate a full disk through them). */
  storeFs?: StoreFs;
  /** Longest pause between two chunks of an upstream download. */
  stallTimeoutMs?: number;
  /** When a lease of a killed process is taken over, and how often waiters look. */
  leaseTiming?: LeaseTiming;
}

export interface Gateway {
  /** http://host:port */
  readonly url: string;
  readonly metrics: GatewayMetrics;
  /** Where its state lives ("sqlite <path>", "memory", "redis <host>"). */
  readonly state: string;
  /** Stops accepting requests, finishes those in flight and every download and scan started, then closes. */
  close(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  let store: BlobStore;
  try {
    store = await BlobStore.open(options.storeDir, options.storeFs ?? NODE_FS);
  } catch (err) {
    throw new StartError(`cannot open the store at ${options.storeDir}: ${(err as Error).message}`, { cause: err });
  }
  const signers = await requiredSigners(options.policy);
  const state = await openState(options);
  try {
    return await new GatewayServer(options, store, state, signers).listen();
  } catch (err) {
    await state.close();
    throw err;
  }
}

/** The gateway cannot start with these options (a bad --state, a store it cannot open or use): the operator's to fix. */
export class StartError extends UsageError {}

async function openState(options: GatewayOptions): Promise<GatewayState> {
  const spec = options.state ?? "sqlite";
  const timing = options.leaseTiming ?? DEFAULT_LEASE_TIMING;
  try {
    if (spec.startsWith("redis://") || spec.startsWith("rediss://")) return await RedisState.open(spec, timing);
    const leases = await FileLeases.open(options.storeDir, timing);
    if (spec === "sqlite") return SqliteState.open(options.storeDir, leases);
    if (spec === "memory") return new MemoryState(leases);
  } catch (err) {
    throw new StartError(`cannot open the state (--state ${spec.replace(/\/\/[^@/]*@/, "//…@")}): ${(err as Error).message}`, { cause: err });
  }
  throw new StartError(`--state: expected sqlite, memory or a redis:// URL, got ${JSON.stringify(spec)}`);
}

/** With signatures.require, the trusted signers (loaded once); a key or chain file that cannot be read stops the start. */
async function requiredSigners(policy: Policy): Promise<readonly Trust[] | undefined> {
  if (policy.signatures?.require !== true) return undefined;
  try {
    return await loadTrusts(policy.signatures.trust);
  } catch (err) {
    if (err instanceof TrustFileError) throw new StartError(`invalid policy: signatures: ${err.message}`, { cause: err });
    throw err;
  }
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
  /** Set when the policy requires signatures: no file is served unless its repository's model.sig verifies and covers it. */
  private readonly signatures: RepositorySignatures | undefined;
  private readonly gate: Gate;
  private readonly history = new DecisionHistory();
  /** One fetch-and-scan per file at a time in this process; the state's lease does it across processes. */
  private readonly work = new SingleFlight<Prepared>();
  /** Verdicts hold for this tool, these rules and this policy only. */
  private readonly policyKey: string;
  readonly metrics = new GatewayMetrics();
  /** Fetch-and-scan runs in progress: shutdown waits for them. */
  private readonly inFlight = new Set<Promise<unknown>>();
  private closing = false;

  constructor(
    private readonly options: GatewayOptions,
    private readonly store: BlobStore,
    private readonly state: GatewayState,
    signers: readonly Trust[] | undefined,
  ) {
    this.upstream = new Upstream({
      base: options.upstream,
      token: options.token,
      forwardAuthorization: options.forwardAuthorization,
      ...(options.stallTimeoutMs !== undefined && { stallTimeoutMs: options.stallTimeoutMs }),
    });
    this.signatures = signers && new RepositorySignatures(signers, this.upstream);
    // A decision holds for this tool, these rules, this policy and whether ClamAV checked the file.
    this.policyKey = `${packageVersion()}:${RULES_VERSION}:${options.policy.sha256 ?? JSON.stringify(options.policy)}${options.clamav ? ":clamav" : ""}${options.sandbox ? ":sandbox" : ""}`;
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
        resolve({ url: `http://${host}:${port}`, metrics: this.metrics, state: this.state.description, close: () => this.close() });
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
    await this.state.close();
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
        case "healthz": {
          kind = "healthz";
          if (this.closing) return sendJson(res, 503, { status: "shutting down" });
          if (!(await this.store.healthy())) return sendJson(res, 503, { status: "store full", store: this.store.dir });
          return sendJson(res, 200, { status: "ok" });
        }
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
      recent: this.history.recent(),
      quarantined: this.history.quarantined(),
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
    const head = req.method === "HEAD";
    const origin: HubFileOrigin = { repo: file.repo, path: file.path, url: this.upstream.fileUrl(file) };
    if (!this.gate.trusts(origin)) return this.refuseSource(res, { ...origin, revision: file.revision });
    const meta = await this.upstream.fileMeta(file, auth);
    if (isRefusal(meta)) return relay(res, meta, head);
    const resolved: HubFileOrigin = { ...origin, revision: file.revision, ...(meta.commit !== undefined && { commit: meta.commit }) };
    if (!this.gate.trusts(resolved)) return this.refuseSource(res, resolved);
    const unsigned = await this.signatures?.refusal(file.repo, meta.commit, file.path, auth);
    if (unsigned !== undefined) return await this.refuseUnsigned(res, meta, head, resolved, unsigned);
    const name = `${repoLabel(file.repo)}/${file.path}`;
    if (this.options.policy.sources.hubScan !== "ignore") {
      // The status of the file at the commit the hub resolved, asked with the file request's credentials.
      const hub = await this.upstream.securityStatus(file, meta.commit ?? file.revision, auth);
      if ("failed" in hub) this.options.log?.(`hub scan status of ${name} unknown (counts as missing): ${hub.failed}`);
      else if (hub.status !== undefined && hub.status !== null) resolved.hubSecurityStatus = hub.status;
    }
    const maxBytes = this.options.maxFileBytes ?? GATEWAY_LIMITS.maxFileBytes;
    if (meta.size !== undefined && meta.size > maxBytes) {
      return refuseFile(res, meta, head, "ModelgateFileTooLarge", `modelgate refused ${name}: the hub announces ${meta.size} bytes, over the gateway's limit of ${maxBytes} bytes (--max-file-size)`);
    }
    const identity = identityOf(meta, name);
    if (head && meta.size !== undefined) {
      // Hub clients HEAD with a short timeout before they GET: answer from the hub's metadata now, and
      // fetch, check and scan meanwhile what is not done yet. A file already blocked answers 200 as
      // well, with the verdict in headers: hub clients turn a failed HEAD into "check your
      // connection", while the GET's 403 reaches the user with its X-Error-Message.
      const sha256 = await this.contentOf(meta, identity);
      const record = sha256 !== undefined ? await this.state.verdict(this.verdictKey(sha256, name, resolved)) : undefined;
      if (record?.result.verdict === "block") return refuseFile(res, meta, true, "ModelgateBlocked", blockedMessage(record, name));
      this.track(this.prepare(resolved, meta, identity, name, auth)).catch((err: unknown) => this.options.log?.(`prefetch of ${name} failed: ${describe(err)}`));
      return send(res, 200, fileHeaders(meta, meta.size, undefined), undefined);
    }
    const { blob, record } = await this.track(this.prepare(resolved, meta, identity, name, auth));
    if (record.result.verdict === "block" || !blob) return sendBlocked(res, record, name, head);
    return this.serveBlob(req, res, blob, meta);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const done = (): void => void this.inFlight.delete(work);
    work.then(done, done);
    return work;
  }

  /**
   * A verdict holds for this content and name under this policy and, when the policy reads the hub's
   * scan, under this security status of the file: a decision made on one status is never served for another.
   */
  private verdictKey(sha256: string, name: string, origin: HubFileOrigin): VerdictKey {
    return { sha256, name, policy: this.decisionScope(origin) };
  }

  private decisionScope(origin: HubFileOrigin): string {
    if (this.options.policy.sources.hubScan === "ignore") return this.policyKey;
    const status = origin.hubSecurityStatus === undefined ? "none" : sha256Hex(JSON.stringify(origin.hubSecurityStatus));
    return `${this.policyKey}:hub-scan:${status}`;
  }

  /** The sha256 of a file's content if it is known without fetching: published by the hub, or fetched last for its identity. */
  private async contentOf(meta: FileMeta, identity: string | undefined): Promise<string | undefined> {
    return meta.sha256 ?? (identity !== undefined ? await this.state.blobOf(identity) : undefined);
  }

  /** What is already known of a file without fetching it: its decision and its stored blob (hashed again on its first use in this process). */
  private async lookup(origin: HubFileOrigin, meta: FileMeta, identity: string | undefined, name: string): Promise<Partial<Prepared>> {
    const sha256 = await this.contentOf(meta, identity);
    if (sha256 === undefined) return {};
    const record = await this.state.verdict(this.verdictKey(sha256, name, origin));
    if (record?.result.verdict === "block") return { record };
    const blob = await this.store.stored(sha256);
    return blob ? { blob, ...(record && { record }) } : {};
  }

  /**
   * The stored blob of a file and its decision: fetched, stored and scanned once however many ask at
   * once, in this process and in every process sharing the state. A blocked file has no blob (it was
   * moved to the quarantine), only its decision.
   */
  private async prepare(origin: HubFileOrigin, meta: FileMeta, identity: string | undefined, name: string, auth: string | undefined): Promise<Prepared> {
    const known = await this.lookup(origin, meta, identity, name);
    if (known.record && (known.blob || known.record.result.verdict === "block")) return { ...known, record: known.record };
    const content = meta.sha256 ?? identity ?? `url:${meta.contentUrl.href}`;
    return this.work.run(`${content}\u0000${name}\u0000${this.decisionScope(origin)}`, () =>
      this.state.exclusive(content, async () => {
        // Another request or process may have finished while this one waited for the lease.
        const again = await this.lookup(origin, meta, identity, name);
        if (again.record?.result.verdict === "block") return { record: again.record };
        let blob = again.blob;
        if (!blob) {
          blob = await this.download(meta, auth);
          if (identity !== undefined) await this.state.rememberBlob(identity, blob.sha256);
        }
        const record = (blob === again.blob ? again.record : await this.state.verdict(this.verdictKey(blob.sha256, name, origin))) ?? (await this.scan(blob, origin, name));
        return record.result.verdict === "block" ? { record } : { blob, record };
      }),
    );
  }

  private async download(meta: FileMeta, auth: string | undefined): Promise<StoredBlob> {
    const opened = await this.upstream.openContent(meta, auth);
    if (isRefusal(opened)) throw new Relayed(opened);
    this.metrics.upstreamFetches++;
    const expected = { ...(meta.size !== undefined && { size: meta.size }), ...(opened.size !== undefined && { size: opened.size }), ...(meta.sha256 !== undefined && { sha256: meta.sha256 }) };
    const blob = await this.store.ingest(opened.chunks, expected, this.options.maxFileBytes ?? GATEWAY_LIMITS.maxFileBytes);
    this.metrics.bytesFetched += blob.size;
    return blob;
  }

  private async scan(blob: StoredBlob, origin: HubFileOrigin, name: string): Promise<DecisionRecord> {
    const { policy } = this.options;
    const started = performance.now();
    // The stored blob, under the file's own name: extension checks compare the name with the content.
    const found = await scanFileFindings(blob.path, name, { callables: policy.callables });
    const scanned = this.options.clamav ? await clamavCheckStored(found, blob.path, this.options.clamav) : found;
    if (this.options.sandbox) {
      // A load that could not finish leaves the static decision standing; it is logged, not hidden.
      for (const problem of await addSandboxResults({ files: [scanned] }, policy, this.options.sandbox, () => blob.path)) this.options.log?.(problem);
    }
    const scanMs = performance.now() - started;
    this.metrics.scanned(scanMs / 1000);
    const report = this.gate.decide({ ...scanned, sha256: blob.sha256 }, origin, scanMs);
    let result = report.files[0]!;
    if (result.verdict === "block") {
      result = await this.gate.quarantine(blob.path, result);
      this.metrics.blocks++;
    } else {
      this.metrics.passes++;
    }
    await this.gate.audit({ ...report, files: [result] });
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
    await this.state.recordVerdict(this.verdictKey(blob.sha256, name, origin), record);
    this.history.add(record);
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

  /** A file whose repository's signature does not verify or cover it: audited (rule "signatures") before the client hears of it. */
  private async refuseUnsigned(res: ServerResponse, meta: FileMeta, head: boolean, origin: HubFileOrigin, reason: string): Promise<void> {
    const name = `${repoLabel(origin.repo)}/${origin.path ?? ""}`;
    await this.gate.audit(this.gate.refused(origin, "signatures", reason)).catch((err: unknown) => this.options.log?.(`audit log: ${describe(err)}`));
    this.options.log?.(`BLOCK ${name} ${reason}`);
    refuseFile(res, meta, head, "ModelgateUnsigned", `modelgate refused ${name}: ${reason}`);
  }

  private fail(res: ServerResponse, err: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof Relayed) return relay(res, err.refusal, false);
    const [status, code, message] = failure(err);
    this.options.log?.(`${status === 500 ? "internal error" : `${status}`}: ${status === 500 ? describe(err) : message}`);
    sendJson(res, status, { error: message }, { "x-error-code": code, "x-error-message": headerSafe(message) });
  }
}

/** The answer to a failed file or API request: status, X-Error-Code and the reason the client reads. */
function failure(err: unknown): [number, string, string] {
  if (err instanceof ClamdError) return [503, "ModelgateClamavUnavailable", `modelgate could not check the file with ClamAV: ${err.message}`];
  if (err instanceof StoreFullError) return [507, "ModelgateStoreFull", `modelgate could not store the file: ${err.message}`];
  if (err instanceof TooLargeError) return [403, "ModelgateFileTooLarge", `modelgate refused the file: ${err.message}`];
  if (err instanceof IntegrityError) return [502, "ModelgateUpstreamIntegrity", `the upstream sent the wrong content: ${err.message}`];
  if (err instanceof UpstreamTimeoutError) return [504, "ModelgateUpstreamTimeout", `upstream: ${err.message}`];
  if (err instanceof StoreError) return [500, "ModelgateStoreError", `modelgate could not store the file: ${err.message}`];
  if (err instanceof UpstreamError) return [502, "ModelgateUpstreamError", `upstream: ${err.message}`];
  if (err instanceof Error && err.name === "TimeoutError") {
    return [504, "ModelgateUpstreamTimeout", `upstream: no answer within ${GATEWAY_LIMITS.upstreamMetadataTimeoutMs / 1000} s (the gateway's metadata timeout)`];
  }
  if (err instanceof Error && err.message === "fetch failed") return [502, "ModelgateUpstreamError", `upstream: cannot reach it (${describeCause(err)})`];
  return [500, "ModelgateInternalError", "internal error of the gateway"];
}

/** What the store holds for a file and its verdict; a blocked file has no blob. */
interface Prepared {
  blob?: StoredBlob;
  record: DecisionRecord;
}

/**
 * The key of the identity→blob map for a file the hub publishes no sha256 for: its ETag, scoped to
 * the repository, path and commit, since an upstream may give two files one ETag. A file with a
 * published sha256 needs none: the sha256 names its blob.
 */
function identityOf(meta: FileMeta, name: string): string | undefined {
  if (meta.sha256 !== undefined) return undefined;
  if (meta.etag === undefined && meta.commit === undefined) return undefined;
  return `${name}\u0000${meta.commit ?? ""}\u0000${meta.etag ?? ""}`;
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
  const error = blockedMessage(record, name);
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

function blockedMessage(record: DecisionRecord, name: string): string {
  return `modelgate blocked ${name}: ${record.result.decision?.reason ?? "blocked by the policy"}`;
}

/**
 * A file the gateway will not serve: 403 to a GET with the reason in X-Error-Message (which hub
 * clients put in their error); 200 with the hub's metadata and the reason in headers to a HEAD.
 */
function refuseFile(res: ServerResponse, meta: FileMeta, head: boolean, code: string, message: string): void {
  const headers = { "x-error-code": code, "x-error-message": headerSafe(message), "x-modelgate-verdict": "block" };
  if (head) return send(res, 200, { ...fileHeaders(meta, meta.size ?? 0, undefined), ...headers }, undefined);
  sendJson(res, 403, { error: message, verdict: "block" }, headers);
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
