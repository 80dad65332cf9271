/**
 * Structural passes over JSON text that JSON.parse cannot make: how many objects and lists it holds
 * before parsing it, which keys an object repeats (JSON.parse keeps the last silently), and Python's
 * NaN and Infinity. All walk characters, skipping strings, without recursion.
 */

/** Whether `text` holds more than `bound` objects and lists (counted outside strings; stops counting past the bound). */
export function containersOver(text: string, bound: number): boolean {
  let containers = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) i = stringEnd(text, i);
    else if ((c === 0x7b || c === 0x5b) && ++containers > bound) return true;
  }
  return false;
}

/**
 * Keys repeated within one JSON object of `text` (already known to be valid JSON), as
 * "parent.key" paths. JSON.parse keeps the last value silently; other parsers keep the first.
 * Iterative, so deep nesting cannot exhaust the stack.
 */
export function findDuplicateJsonKeys(text: string): string[] {
  type Frame = { keys: Set<string> | undefined; expectKey: boolean; path: string; lastKey: string };
  const stack: Frame[] = [];
  const found: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === 0x7b || c === 0x5b) {
      const path = top?.keys ? `${top.path}${top.path ? "." : ""}${top.lastKey}` : (top?.path ?? "");
      stack.push({ keys: c === 0x7b ? new Set() : undefined, expectKey: c === 0x7b, path, lastKey: "" });
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
    } else if (c === 0x2c) {
      if (top?.keys) top.expectKey = true;
    } else if (c === 0x22) {
      const close = stringEnd(text, i);
      if (top?.keys && top.expectKey) {
        // Only a key with escapes needs decoding; the rest are their own text.
        const raw = text.slice(i + 1, close);
        const key = raw.includes("\\") ? (JSON.parse(text.slice(i, close + 1)) as string) : raw;
        if (top.keys.has(key)) found.push(top.path ? `${top.path}.${key}` : key);
        top.keys.add(key);
        top.lastKey = key;
        top.expectKey = false;
      }
      i = close;
    }
  }
  return found;
}

/** Python's json reads these bare words as numbers; JSON.parse refuses them. */
const PYTHON_CONSTANTS = /-?Infinity|NaN/y;

/**
 * `text` parsed as Python's json module reads it, which is what loaders use: NaN, Infinity and
 * -Infinity outside strings are numbers there (read as null here: no check looks at a number).
 * Anything else JSON.parse refuses, Python refuses too, and the error is JSON.parse's.
 */
export function parsePythonJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const replaced = withoutPythonConstants(text);
    if (replaced === undefined) throw err;
    return JSON.parse(replaced);
  }
}

/** `text` with each NaN, Infinity and -Infinity outside strings written as null; undefined when it has none. */
function withoutPythonConstants(text: string): string | undefined {
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = stringEnd(text, i);
      continue;
    }
    if (c !== 0x4e && c !== 0x49 && c !== 0x2d) continue; // N, I, -
    PYTHON_CONSTANTS.lastIndex = i;
    const m = PYTHON_CONSTANTS.exec(text);
    if (!m) continue;
    parts.push(text.slice(from, i), "null");
    from = i + m[0].length;
    i = from - 1;
  }
  if (parts.length === 0) return undefined;
  parts.push(text.slice(from));
  return parts.join("");
}

/** Index of the quote closing the string that opens at `open` (indexOf, then the backslashes before it). */
export function stringEnd(text: string, open: number): number {
  for (let quote = text.indexOf('"', open + 1); quote >= 0; quote = text.indexOf('"', quote + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return quote;
  }
  return text.length - 1;
}
