/**
 * A structural pass over YAML text before it is parsed. The `yaml` library spends about 10 µs and
 * 1 KB of heap on each node it composes, so a few megabytes of `- 1` or `[{},{},…]` cost seconds and
 * gigabytes. Every node but a document's first follows an indicator (a line break, `-`, `?`, `:`,
 * `[`, `{` or `,`), so counting those characters bounds the nodes from above before any is built.
 */

const INDICATORS = new Uint8Array(128);
for (const c of "\n-?:[{,") INDICATORS[c.charCodeAt(0)] = 1;

/**
 * Whether `text` holds more than `bound` characters that can introduce a YAML node (counted in
 * strings and comments too, so never fewer than the nodes; stops counting past the bound).
 */
export function yamlIndicatorsOver(text: string, bound: number): boolean {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 128 && INDICATORS[c] === 1 && ++count > bound) return true;
  }
  return false;
}

/** Line breaks PyYAML knows beyond \r and \n: NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR. */
const PYYAML_BREAKS = /[\u0085\u2028\u2029]/g;

/**
 * `text` with PyYAML's other line breaks written as \n. The `yaml` library (YAML 1.2) reads them as
 * ordinary characters, so a comment that PyYAML ends at U+2028 would hide the rest of its line here
 * (a red team hid `!!python/object/apply:os.system` that way).
 */
export function withPyYamlBreaks(text: string): string {
  return text.replace(PYYAML_BREAKS, "\n");
}
