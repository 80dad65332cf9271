/**
 * The model manifest a signature carries: every file (or file shard) of the model with its digest,
 * and how the model was serialized into that list. Read from and written to the in-toto statement of
 * the OpenSSF model signing format (model_signing, sigstore/model-transparency), every released version.
 */
import { createHash } from "node:crypto";
import { SIGNING_LIMITS } from "./limits.js";

export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";
export const IN_TOTO_STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
/** model_signing 1.0 and later. */
export const PREDICATE_TYPE = "https://model_signing/signature/v1.0";
/** model_signing 0.2 to 0.3 before 1.0: one subject per file, no serialization record. */
export const PREDICATE_TYPE_V02 = "https://model_signing/Digests/v0.1";

/** How the signer turned the model into manifest items. */
export interface Serialization {
  /** "files": one item per file; "shards": one per `shardSize` bytes of each file, named path:start:end. */
  method: "files" | "shards";
  /** Hash of each item's bytes: sha256 (the default), blake2b, blake3. */
  hashType: string;
  shardSize?: number;
  allowSymlinks: boolean;
  /** Paths, relative to the model, that the signer left out; a verifier leaves them out too (1.1 and later). */
  ignorePaths: string[];
}

export interface ManifestItem {
  /** A path relative to the model, POSIX separators ("." when the model is a single file); path:start:end for shards. */
  name: string;
  /** Lowercase hex. */
  digest: string;
}

export interface Manifest {
  /** The model folder's name as the signer saw it: informative only, never compared. */
  modelName: string;
  serialization: Serialization;
  items: ManifestItem[];
  /** Which predicate the statement used. */
  predicateType: string;
}

/** The statement does not hold a model manifest, or is inconsistent. */
export class ManifestError extends Error {
  override name = "ManifestError";
}

/** Reads the statement a DSSE envelope carried (after its signature was verified). */
export function manifestFromStatement(payload: Uint8Array): Manifest {
  let statement: unknown;
  try {
    statement = JSON.parse(Buffer.from(payload).toString("utf8"));
  } catch {
    throw new ManifestError("the signed payload is not JSON");
  }
  const s = record(statement, "the statement");
  if (s["_type"] !== IN_TOTO_STATEMENT_TYPE) throw new ManifestError(`the statement type is ${JSON.stringify(s["_type"])}, not ${IN_TOTO_STATEMENT_TYPE}`);
  const predicateType = s["predicateType"];
  if (predicateType === PREDICATE_TYPE_V02) return manifestV02(s);
  if (predicateType !== PREDICATE_TYPE) throw new ManifestError(`unknown predicate type ${JSON.stringify(predicateType)}`);

  const subjects = list(s["subject"], "subject");
  if (subjects.length !== 1) throw new ManifestError(`expected one subject, found ${subjects.length}`);
  const subject = record(subjects[0], "subject");
  const rootDigest = hex(record(subject["digest"], "subject digest")["sha256"], "subject sha256");
  const predicate = record(s["predicate"], "predicate");
  const serialization = serializationFrom(record(predicate["serialization"], "predicate.serialization"));
  const resources = list(predicate["resources"], "predicate.resources");
  if (resources.length > SIGNING_LIMITS.maxManifestItems) throw new ManifestError(`the statement lists ${resources.length} resources, over the limit of ${SIGNING_LIMITS.maxManifestItems}`);
  const items = resources.map((r, i) => {
    const resource = record(r, `resource ${i}`);
    return { name: text(resource["name"], `resource ${i} name`), digest: hex(resource["digest"], `resource ${i} digest`) };
  });
  // The subject's digest is a sha256 over the resources' raw digests in the listed order; a mismatch is a malformed or edited manifest.
  const computed = rootDigestOf(items);
  if (computed !== rootDigest) throw new ManifestError(`the manifest is inconsistent: the subject digest is ${rootDigest}, the resources hash to ${computed}`);
  assertUnique(items);
  return { modelName: typeof subject["name"] === "string" ? subject["name"] : "", serialization, items, predicateType };
}

/** 0.2: each subject is a file and its sha256; files serialization with sha256 is implied. */
function manifestV02(s: Record<string, unknown>): Manifest {
  const subjects = list(s["subject"], "subject");
  if (subjects.length > SIGNING_LIMITS.maxManifestItems) throw new ManifestError(`the statement lists ${subjects.length} subjects, over the limit of ${SIGNING_LIMITS.maxManifestItems}`);
  const items = subjects.map((x, i) => {
    const subject = record(x, `subject ${i}`);
    return { name: text(subject["name"], `subject ${i} name`), digest: hex(record(subject["digest"], `subject ${i} digest`)["sha256"], `subject ${i} sha256`) };
  });
  assertUnique(items);
  return {
    modelName: "",
    serialization: { method: "files", hashType: "sha256", allowSymlinks: false, ignorePaths: [] },
    items,
    predicateType: PREDICATE_TYPE_V02,
  };
}

function serializationFrom(o: Record<string, unknown>): Serialization {
  const method = o["method"];
  if (method !== "files" && method !== "shards") throw new ManifestError(`unknown serialization method ${JSON.stringify(method)}`);
  const hashType = text(o["hash_type"], "serialization hash_type");
  // 0.2-era writers stored the flag as a string; Python's truthiness made any non-empty string true.
  const flag = o["allow_symlinks"];
  const allowSymlinks = flag === true || (typeof flag === "string" && flag !== "" && flag.toLowerCase() !== "false");
  const ignorePaths = o["ignore_paths"] === undefined ? [] : list(o["ignore_paths"], "serialization ignore_paths").map((p, i) => text(p, `ignore_paths ${i}`));
  if (method === "files") return { method, hashType, allowSymlinks, ignorePaths };
  const shardSize = o["shard_size"];
  if (typeof shardSize !== "number" || !Number.isSafeInteger(shardSize) || shardSize <= 0) throw new ManifestError(`invalid shard_size ${JSON.stringify(shardSize)}`);
  return { method, hashType, shardSize, allowSymlinks, ignorePaths };
}

/** sha256 over the concatenated raw digests, in the given order. */
export function rootDigestOf(items: readonly ManifestItem[]): string {
  const hash = createHash("sha256");
  for (const item of items) hash.update(Buffer.from(item.digest, "hex"));
  return hash.digest("hex");
}

/**
 * The statement model_signing writes (1.0 and later): the model's name and root digest as the subject,
 * serialization and resources in the predicate (keys in the order its 1.0.1 vectors show). Items must
 * already be in canonical order (see sortItems). Files serialization: each resource's algorithm is the hash's name.
 */
export function statementFor(manifest: Manifest): object {
  const s = manifest.serialization;
  const serialization: Record<string, unknown> = { method: s.method, hash_type: s.hashType };
  if (s.method === "shards") serialization["shard_size"] = s.shardSize;
  serialization["allow_symlinks"] = s.allowSymlinks;
  if (s.ignorePaths.length > 0) serialization["ignore_paths"] = s.ignorePaths;
  return {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: [{ name: manifest.modelName, digest: { sha256: rootDigestOf(manifest.items) } }],
    predicateType: PREDICATE_TYPE,
    predicate: {
      serialization,
      resources: manifest.items.map((i) => ({ algorithm: s.hashType, digest: i.digest, name: i.name })),
    },
  };
}

/**
 * The order model_signing lists resources in: by path component by component (so "a/b" sorts before
 * "a.txt"), then, for shards, by start and end offset as numbers.
 */
export function sortItems(items: ManifestItem[], method: Serialization["method"]): ManifestItem[] {
  const key = (name: string): { parts: string[]; start: number; end: number } => {
    if (method === "files") return { parts: name.split("/"), start: 0, end: 0 };
    const [path = "", start = "0", end = "0"] = splitShardName(name);
    return { parts: path.split("/"), start: Number(start), end: Number(end) };
  };
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return [...items].sort((x, y) => {
    const a = key(x.name);
    const b = key(y.name);
    for (let i = 0; i < Math.min(a.parts.length, b.parts.length); i++) {
      const c = cmp(a.parts[i]!, b.parts[i]!);
      if (c !== 0) return c;
    }
    return a.parts.length - b.parts.length || a.start - b.start || a.end - b.end;
  });
}

/** path:start:end, split at the last two colons (the reference splits at every colon, so its paths hold none). */
export function splitShardName(name: string): [string, string, string] | [] {
  const m = /^(.*):(\d+):(\d+)$/.exec(name);
  return m ? [m[1]!, m[2]!, m[3]!] : [];
}

function assertUnique(items: readonly ManifestItem[]): void {
  const seen = new Set<string>();
  for (const item of items) {
    const name = normalName(item.name);
    if (seen.has(name)) throw new ManifestError(`the manifest lists ${JSON.stringify(item.name)} twice`);
    seen.add(name);
  }
}

/** Names as the reference compares them (PurePosixPath): no "./", no doubled or trailing slashes. */
export function normalName(name: string): string {
  if (name === "." || name === "") return ".";
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.length === 0) return ".";
  return (name.startsWith("/") ? "/" : "") + parts.join("/");
}

function record(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ManifestError(`${what} is not an object`);
  return v as Record<string, unknown>;
}

function list(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new ManifestError(`${what} is not a list`);
  return v;
}

function text(v: unknown, what: string): string {
  if (typeof v !== "string") throw new ManifestError(`${what} is not a string`);
  return v;
}

function hex(v: unknown, what: string): string {
  if (typeof v !== "string" || !/^(?:[0-9a-fA-F]{2})+$/.test(v)) throw new ManifestError(`${what} is not a hex digest`);
  return v.toLowerCase();
}
