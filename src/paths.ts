/** Path containment, shared by the folder walk and the repository checks; the repository root SARIF paths are relative to. */
import { existsSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";

/** Is `p` `base` itself or below it? Both must be resolved the same way (both real, or both as written). */
export function isInside(base: string, p: string): boolean {
  const r = relative(base, p);
  return r === "" || (r !== ".." && !r.startsWith(`..${sep}`) && !isAbsolute(r));
}

/** The nearest folder at or above `start` that holds `.git` (a folder, or a worktree's file); `start` itself when there is none. */
export function repositoryRoot(start: string): string {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (existsSync(join(dir, ".git"))) return dir;
    if (dirname(dir) === dir) return resolve(start);
  }
}
