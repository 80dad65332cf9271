/** The signed manifest against the model as it is: every changed, missing and extra (uncovered) file. */
import { normalName, type ManifestItem } from "./manifest.js";

export interface FileMismatch {
  kind: "changed" | "missing" | "extra";
  /** The manifest name (path, or path:start:end for a shard). */
  name: string;
  detail: string;
}

export function compareManifests(expected: readonly ManifestItem[], actual: readonly ManifestItem[]): FileMismatch[] {
  const want = new Map(expected.map((i) => [normalName(i.name), i.digest]));
  const have = new Map(actual.map((i) => [normalName(i.name), i.digest]));
  const out: FileMismatch[] = [];
  for (const [name, digest] of [...want].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const found = have.get(name);
    if (found === undefined) out.push({ kind: "missing", name, detail: "signed, but not in the model" });
    else if (found !== digest) out.push({ kind: "changed", name, detail: `signed digest ${digest}, now ${found}` });
  }
  for (const name of [...have.keys()].sort()) {
    if (!want.has(name)) out.push({ kind: "extra", name, detail: "in the model, but not covered by the signature" });
  }
  return out;
}
