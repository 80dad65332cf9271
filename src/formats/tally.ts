/** Counting findings of one kind across a file: how many, the distinct names beside them, the first few quoted (report flooding). */

/** Places quoted per key; the count says how many more there were. */
const NAMES_PER_KEY = 10;

export interface Tally {
  seen: Set<string>;
  nodes: string[];
  count: number;
}

export function tally(table: Map<string, Tally>, key: string, seen: string, node: string): void {
  let d = table.get(key);
  if (!d) table.set(key, (d = { seen: new Set(), nodes: [], count: 0 }));
  d.seen.add(seen);
  d.count++;
  if (d.nodes.length < NAMES_PER_KEY) d.nodes.push(node);
}

/** The quoted places, and how many more there were. */
export function evidenceOf(d: Tally): string {
  const more = d.count > d.nodes.length ? ` and ${d.count - d.nodes.length} more` : "";
  return `${d.nodes.join("; ")}${more}`;
}
