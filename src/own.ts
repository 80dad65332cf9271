/**
 * Table lookups by keys that come from scanned content. A plain `table[key]` finds
 * Object.prototype members for keys such as "constructor" or "toString" (found by fuzzing:
 * a module named "valueOf" crashed the judge); only a table's own entries count.
 */
export function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
