/**
 * The policy's `signatures.require` in the gateway: before any file of a repository at a commit is
 * served, that commit's model.sig and file list are fetched from the upstream and verified against
 * the trusted signers (src/signing/repository.ts), once per repository@commit. Large (LFS) files are
 * compared by the sha256 the hub's tree listing publishes; small git files have none there, so the
 * gateway fetches and hashes them itself (bounded: beyond the bound they stay unknown, and a signed
 * file of unknown content is refused as unverifiable).
 */
import { createHash } from "node:crypto";
import type { Trust } from "../signing/authenticate.js";
import { describeFailure } from "../signing/describe.js";
import { SIGNING_LIMITS } from "../signing/limits.js";
import type { RepositoryFile, RepositoryVerdict } from "../signing/repository.js";
import { SIGNATURE_FILE } from "../signing/signatureFile.js";
import { boundedBody, HttpError } from "../sources/http.js";
import { repoLabel, type RepoRef } from "./routes.js";
import { isRefusal, Upstream, UpstreamError } from "./upstream.js";

/** Bounds of the signature check on a hostile upstream (each verdict is cached, so they are paid once per commit). */
export const SIGNATURE_CHECK_LIMITS = Object.freeze({
  /** Pages of the tree listing followed (CWE-400: an endless Link chain). */
  maxTreePages: 100,
  /** Bytes of one listing page read (CWE-400). */
  maxTreePageBytes: 16 * 1024 * 1024,
  /** Bytes of small git files the gateway fetches to hash, per commit (CWE-400); beyond it they stay unknown. */
  maxHashedBytes: 64 * 1024 * 1024,
  /** Small git files fetched to hash, per commit (CWE-400: one request each); beyond it they stay unknown. */
  maxHashedFiles: 1000,
  /** Verdicts kept in memory (repository@commit); the oldest are checked again when asked for. */
  maxVerdicts: 10_000,
});

/** Why a file is not served, for X-Error-Message and the audit log; undefined: the signature verifies and covers it. */
export type SignatureRefusal = string | undefined;

export class RepositorySignatures {
  /** repository@commit → its verdict; a check that failed on the way (network) is not kept. */
  private readonly verdicts = new Map<string, Promise<RepositoryVerdict>>();

  /** `trusts`: the policy's signers, loaded once (loadTrusts) when the gateway starts. */
  constructor(
    private readonly trusts: readonly Trust[],
    private readonly upstream: Upstream,
  ) {}

  /** Whether `path` of `repo` at `commit` may be served: undefined if so, else why not. */
  async refusal(repo: RepoRef, commit: string | undefined, path: string, auth: string | undefined): Promise<SignatureRefusal> {
    const label = repoLabel(repo);
    if (commit === undefined) return `the upstream named no commit for ${label}, so no signature can be checked`;
    const verdict = await this.verdict(repo, commit, auth);
    if (!verdict.verified) {
      return `${label}@${commit.slice(0, 12)} is not signed by a trusted signer: ${describeFailure(verdict)}`;
    }
    if (!verdict.covers(path)) return `${label}@${commit.slice(0, 12)}: ${path} is not covered by its ${SIGNATURE_FILE} (left out when it was signed)`;
    return undefined;
  }

  private verdict(repo: RepoRef, commit: string, auth: string | undefined): Promise<RepositoryVerdict> {
    const key = `${repoLabel(repo)}@${commit}`;
    let verdict = this.verdicts.get(key);
    if (!verdict) {
      verdict = this.check(repo, commit, auth);
      this.verdicts.set(key, verdict);
      if (this.verdicts.size > SIGNATURE_CHECK_LIMITS.maxVerdicts) this.verdicts.delete(this.verdicts.keys().next().value!);
      verdict.catch(() => this.verdicts.delete(key));
    }
    return verdict;
  }

  private async check(repo: RepoRef, commit: string, auth: string | undefined): Promise<RepositoryVerdict> {
    const signature = await this.fetchFile(repo, commit, SIGNATURE_FILE, auth, SIGNING_LIMITS.maxSignatureBytes);
    if (signature === "absent") return unverified(`the upstream has no ${SIGNATURE_FILE} at this commit`);
    const files = await this.listing(repo, commit, auth);
    if (typeof files === "string") return unverified(files);
    // verifyRepositorySignature pulls in sigstore-js: loaded only when a signature is checked.
    const { verifyRepositorySignature } = await import("../signing/repository.js");
    return verifyRepositorySignature(files, signature.bytes, this.trusts);
  }

  /** Every file of the commit with its sha256: the hub's LFS oid, or the gateway's hash of a small file (within the bound). */
  private async listing(repo: RepoRef, commit: string, auth: string | undefined): Promise<RepositoryFile[] | string> {
    const entries = await this.tree(repo, commit, auth);
    if (typeof entries === "string") return entries;
    let budget = SIGNATURE_CHECK_LIMITS.maxHashedBytes;
    let fetches: number = SIGNATURE_CHECK_LIMITS.maxHashedFiles;
    const files: RepositoryFile[] = [];
    for (const e of entries) {
      if (e.type !== "file" || typeof e.path !== "string") continue;
      const oid = e.lfs?.oid;
      if (typeof oid === "string" && /^[0-9a-f]{64}$/.test(oid)) {
        files.push({ path: e.path, sha256: oid });
        continue;
      }
      const size = typeof e.size === "number" ? e.size : Infinity;
      if (e.path === SIGNATURE_FILE || size > budget || fetches === 0) {
        files.push({ path: e.path });
        continue;
      }
      const fetched = await this.fetchFile(repo, commit, e.path, auth, budget);
      if (fetched === "absent") return `${e.path} is listed by the upstream but cannot be fetched`;
      budget -= fetched.bytes.length;
      fetches--;
      files.push({ path: e.path, sha256: createHash("sha256").update(fetched.bytes).digest("hex") });
    }
    return files;
  }

  /** The hub's recursive tree listing of the commit, all pages. */
  private async tree(repo: RepoRef, commit: string, auth: string | undefined): Promise<TreeEntry[] | string> {
    const collection = `${repo.type}s`;
    let target: string | undefined = `/api/${collection}/${repo.id}/tree/${encodeURIComponent(commit)}?recursive=true&expand=true`;
    const entries: TreeEntry[] = [];
    for (let page = 0; target !== undefined; page++) {
      if (page === SIGNATURE_CHECK_LIMITS.maxTreePages) return `the upstream's file listing is longer than ${SIGNATURE_CHECK_LIMITS.maxTreePages} pages`;
      const res = await this.upstream.forwardApi("GET", target, undefined, undefined, auth);
      const text = await pageText(res);
      if (!res.ok) return `the upstream answered ${res.status} for the file listing`;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text ?? "");
      } catch {
        parsed = undefined;
      }
      if (!Array.isArray(parsed)) return `the upstream's file listing is not a JSON list${text === undefined ? ` (over ${SIGNATURE_CHECK_LIMITS.maxTreePageBytes} bytes)` : ""}`;
      entries.push(...(parsed as TreeEntry[]).filter((e) => e !== null && typeof e === "object"));
      target = nextPage(res.headers.get("link"), this.upstream.origin);
    }
    return entries;
  }

  /** A file of the commit, through the upstream client (the same authorization as file requests); "absent" when the upstream has none. */
  private async fetchFile(repo: RepoRef, commit: string, path: string, auth: string | undefined, maxBytes: number): Promise<{ bytes: Buffer } | "absent"> {
    const file = { repo, mode: "resolve" as const, revision: commit, path };
    const meta = await this.upstream.fileMeta(file, auth);
    if (isRefusal(meta)) {
      if (meta.status === 404) return "absent";
      throw new UpstreamError(`the upstream answered ${meta.status} for ${repoLabel(repo)}/${path}`);
    }
    const opened = await this.upstream.openContent(meta, auth);
    if (isRefusal(opened)) throw new UpstreamError(`the upstream answered ${opened.status} for the content of ${repoLabel(repo)}/${path}`);
    const parts: Uint8Array[] = [];
    let n = 0;
    for await (const chunk of opened.chunks) {
      n += chunk.length;
      if (n > maxBytes) throw new UpstreamError(`${repoLabel(repo)}/${path} is larger than the ${maxBytes} bytes the signature check reads`);
      parts.push(chunk);
    }
    return { bytes: Buffer.concat(parts) };
  }
}

/** An entry of the hub's tree listing: LFS files carry their sha256 as lfs.oid. */
interface TreeEntry {
  type?: unknown;
  path?: unknown;
  size?: unknown;
  lfs?: { oid?: unknown };
}

function unverified(reason: string): RepositoryVerdict {
  return { verified: false, reason, reasons: [], mismatches: [], unverifiable: false };
}

/** The request target of a `rel="next"` Link on the upstream's own origin (the hub pages long listings). */
function nextPage(link: string | null, origin: string): string | undefined {
  const href = /<([^>]+)>\s*;\s*rel="?next"?/.exec(link ?? "")?.[1];
  if (href === undefined) return undefined;
  const url = new URL(href, origin);
  return url.origin === origin ? url.pathname + url.search : undefined;
}

/** A listing page as text, or undefined when it is over the page bound (the rest is not read). */
async function pageText(res: Response): Promise<string | undefined> {
  try {
    return Buffer.from(await boundedBody(res, SIGNATURE_CHECK_LIMITS.maxTreePageBytes, "the file listing")).toString("utf8");
  } catch (err) {
    if (err instanceof HttpError) return undefined;
    throw err;
  }
}
