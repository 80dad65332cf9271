/**
 * Checks shared by every container scanner (zip, tar, 7z, compressors): nesting depth, member
 * counts, member names. Each check reports its own finding, so callers only decide whether to go on.
 */
import { LIMITS } from "../limits.js";
import { formatBytes } from "../units.js";
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
  const path = name.replace(/\\/g, "/");
  if (path.startsWith("/")) return "is an absolute path";
  if (/^[A-Za-z]:/.test(path)) return "starts with a drive letter";
  if (path.split("/").includes("..")) return "climbs out of the extraction folder with '..'";
  return undefined;
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

/** The most bytes one more decompressed layer may hold: the in-memory cap or what is left of the file's budget. */
export function layerCapacity(budget: ScanBudget): { bytes: number; why: string } {
  const left = Math.max(0, LIMITS.maxDecompressedBytes - budget.decompressedBytes);
  return left < LIMITS.maxInMemoryLayer
    ? { bytes: left, why: `the file's total decompression budget of ${formatBytes(LIMITS.maxDecompressedBytes)}` }
    : { bytes: LIMITS.maxInMemoryLayer, why: `the in-memory layer limit of ${formatBytes(LIMITS.maxInMemoryLayer)}` };
}

