/**
 * Checks shared by every container scanner (zip, tar, 7z, compressors): nesting depth, member
 * counts, member names. Each check reports its own finding, so callers only decide whether to go on.
 */
import { LIMITS } from "../limits.js";
import { shadowingMembers, type ArchiveMember } from "../rules/shadowing.js";
import { formatBytes } from "../units.js";
import type { ByteSource } from "../sources/byteSource.js";
import type { ScanBudget, ScanContext } from "./context.js";

/** False (after reporting MG140) when opening this container would nest members deeper than LIMITS.maxDepth. */
export function canDescend(ctx: ScanContext, kind: string): boolean {
  if (ctx.depth < LIMITS.maxDepth) return true;
  ctx.report("MG140", `${kind} nested ${ctx.depth} levels deep exceeds the nesting limit of ${LIMITS.maxDepth}; its content was not analysed`);
  return false;
}

/** Reports MG140 when an archive lists more members than LIMITS.maxMembers; returns how many to scan. */
export function memberBudget(ctx: ScanContext, kind: string, count: number): number {
  if (count <= LIMITS.maxMembers) return count;
  ctx.report("MG140", `${kind} has ${count} members, more than the limit of ${LIMITS.maxMembers}; only the first ${LIMITS.maxMembers} were analysed`);
  return LIMITS.maxMembers;
}

/**
 * Why a member name would escape the extraction folder, or undefined. Backslashes count as
 * separators because Windows tools treat them so.
 */
export function unsafeMemberName(name: string): string | undefined {
  // Most names (a checkpoint's data/0 … data/N) have none of the four marks the checks look for.
  if (!name.includes("..") && !name.includes("\\") && name.charCodeAt(0) !== 0x2f && name.charCodeAt(1) !== 0x3a) return undefined;
  const path = name.replace(/\\/g, "/");
  const absolute = absolutePath(path);
  if (absolute) return absolute;
  if (path.split("/").includes("..")) return "climbs out of the extraction folder with '..'";
  return undefined;
}

/** Why a path (slashes only) is rooted outside any folder, or undefined. */
function absolutePath(path: string): string | undefined {
  if (path.startsWith("/")) return "is an absolute path";
  if (/^[A-Za-z]:/.test(path)) return "starts with a drive letter";
  return undefined;
}

/** A link member: extraction creates it, then follows it for every later path that passes through it. */
export interface LinkMember {
  name: string;
  target: string;
  /** Symbolic links resolve from their own folder; tar hard links name a member from the archive root. */
  kind: "symbolic" | "hard";
  offset?: number;
}

/** Most links one resolution follows before it counts as a loop (Linux's own limit is 40). */
const MAX_LINK_HOPS = 40;
/** Path steps walked for all the links of one archive (CWE-407: long targets through many links). */
const MAX_LINK_STEPS = 1 << 16;
/** PATH_MAX: a longer link target cannot be created (ENAMETOOLONG), so extraction stops there. */
export const MAX_LINK_TARGET = 4096;
/** Folders a path of PATH_MAX bytes can hold; deeper resolutions are not followed further. */
const MAX_LINK_DEPTH = MAX_LINK_TARGET / 2;

/** What is left of the walk's bounds: hops for the link being resolved, steps for the whole archive. */
interface WalkBudget {
  hops: number;
  steps: number;
}

/**
 * Reports MG142 for each link whose target, followed through the other symbolic links of the
 * archive, is absolute or leaves the extraction folder. Links that stay inside are fine.
 */
export function checkLinks(ctx: ScanContext, kind: string, links: readonly LinkMember[]): void {
  const symbolic = new Map<string, string>();
  for (const link of links) if (link.kind === "symbolic") symbolic.set(normalise(link.name), link.target);
  const budget: WalkBudget = { hops: MAX_LINK_HOPS, steps: MAX_LINK_STEPS };
  for (const link of links) {
    if (link.target.length > MAX_LINK_TARGET) continue;
    budget.hops = MAX_LINK_HOPS;
    const why = linkEscape(link, symbolic, budget);
    if (budget.steps < 0) {
      ctx.report("MG140", `${kind} link targets need more than ${MAX_LINK_STEPS} path steps to resolve; links from "${link.name}" on were not checked`, {
        offset: link.offset,
      });
      return;
    }
    if (!why) continue;
    ctx.report("MG142", `${kind} member "${link.name}" is a ${link.kind} link to "${link.target}", which ${why}; extracting the archive writes or reads through it outside the folder`, {
      offset: link.offset,
      evidence: `${link.name} -> ${link.target}`,
    });
  }
}

/** Where `link` leads, as a reason when that is outside the extraction folder. */
function linkEscape(link: LinkMember, symbolic: ReadonlyMap<string, string>, budget: WalkBudget): string | undefined {
  const target = link.target.replace(/\\/g, "/");
  const absolute = absolutePath(target);
  if (absolute) return absolute;
  // The link's own folder may pass through another link (a/b -> .., then a/b/c -> ..).
  const folder = link.kind === "symbolic" ? walk([], normalise(link.name).split("/").slice(0, -1), symbolic, budget) : [];
  const end = typeof folder === "string" ? folder : walk(folder, target.split("/"), symbolic, budget);
  return typeof end === "string" ? end : undefined;
}

/**
 * Follows `steps` from the folder `at` (path components under the extraction root), replacing each
 * symbolic link met on the way by its target. Returns the folder reached, or why it is outside.
 */
function walk(at: string[], steps: readonly string[], symbolic: ReadonlyMap<string, string>, budget: WalkBudget): string[] | string {
  let here = at;
  for (const step of steps) {
    if (--budget.steps < 0) return "could not be resolved within the step bound";
    if (step === "" || step === ".") continue;
    if (step === "..") {
      if (here.length === 0) return "climbs out of the extraction folder with '..'";
      here = here.slice(0, -1);
      continue;
    }
    if (here.length >= MAX_LINK_DEPTH) return `resolves deeper than ${MAX_LINK_DEPTH} folders, so it was not followed`;
    const target = symbolic.get([...here, step].join("/"));
    if (target === undefined) {
      here = [...here, step];
      continue;
    }
    if (--budget.hops < 0) return `follows more than ${MAX_LINK_HOPS} links (a loop)`;
    const path = target.replace(/\\/g, "/");
    const absolute = absolutePath(path);
    if (absolute) return `passes through a link to "${target}", which ${absolute}`;
    const next = walk(here, path.split("/"), symbolic, budget);
    if (typeof next === "string") return next;
    here = next;
  }
  return here;
}

/** A member name as a path under the extraction root: separators unified, empty and "." steps dropped. */
function normalise(name: string): string {
  return name
    .replace(/\\/g, "/")
    .split("/")
    .filter((s) => s !== "" && s !== ".")
    .join("/");
}

/** Reports MG142 and MG143 for a list of member names (members are scanned all the same). */
export function checkMemberNames(ctx: ScanContext, kind: string, names: readonly string[]): void {
  const seen = new Map<string, number>();
  for (const name of names) {
    const why = unsafeMemberName(name);
    if (why) ctx.report("MG142", `${kind} member "${name}" ${why}`, { evidence: name });
    seen.set(name, (seen.get(name) ?? 0) + 1);
  }
  for (const [name, count] of seen) {
    if (count > 1) {
      ctx.report("MG143", `${kind} member "${name}" appears ${count} times; loaders disagree on which copy wins, so every copy was scanned`, {
        evidence: name,
      });
    }
  }
}

/**
 * Reports MG271 for members that, once the archive is extracted, run in place of a module loading a
 * model imports (the rule a folder gets from the repository checks, which never see an archive's members).
 */
export async function checkExtractedModules(ctx: ScanContext, kind: string, members: readonly ArchiveMember[]): Promise<void> {
  for (const m of await shadowingMembers(members)) {
    ctx.memberContext(m.name).report("MG271", `${kind} member "${m.name}" is ${m.kind}; extracted, ${m.why}`, { severity: "high", evidence: m.name });
  }
}

/** The first bytes of an archive member, as many as sniffing reads. */
export async function memberHead(source: ByteSource | undefined): Promise<Uint8Array> {
  return source ? source.read(0, Math.min(source.size, LIMITS.sniffBytes)) : new Uint8Array(0);
}

/** The most bytes one more decompressed layer may hold: the in-memory cap or what is left of the file's budget. */
export function layerCapacity(budget: ScanBudget): { bytes: number; why: string } {
  const left = Math.max(0, LIMITS.maxDecompressedBytes - budget.decompressedBytes);
  return left < LIMITS.maxInMemoryLayer
    ? { bytes: left, why: `the file's total decompression budget of ${formatBytes(LIMITS.maxDecompressedBytes)}` }
    : { bytes: LIMITS.maxInMemoryLayer, why: `the in-memory layer limit of ${formatBytes(LIMITS.maxInMemoryLayer)}` };
}

