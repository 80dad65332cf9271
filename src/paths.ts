/** Path containment, shared by the folder walk and the repository checks. */
import { isAbsolute, relative, sep } from "node:path";

/** Is `p` `base` itself or below it? Both must be resolved the same way (both real, or both as written). */
export function isInside(base: string, p: string): boolean {
  const r = relative(base, p);
  return r === "" || (r !== ".." && !r.startsWith(`..${sep}`) && !isAbsolute(r));
}
