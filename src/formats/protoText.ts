/**
 * A bounded reader for protobuf text format (what TensorFlow writes as saved_model.pbtxt). It
 * checks the syntax of the whole text but keeps only the fields a `TextSpec` names, and decodes
 * only the strings it keeps. Its string rules are the union of the two parsers a loader may use,
 * C++ TextFormat and Python's text_format (which tf.saved_model.load uses): single or double
 * quotes, adjacent literals concatenated, C escapes with octal and hex, \u and \U. Anything whose
 * meaning could differ between them, or that it does not model (\N{…}, \?, extensions and Any
 * expansions, unknown escapes), is an error, never a guess.
 */

/**
 * Which fields to keep: a nested spec for a message field, "string" for a string field, "bytes" for
 * a bytes field (one character per byte, so any bytes are kept), "word" for a number or enum (its token, as written).
 */
export interface TextSpec {
  readonly [field: string]: TextSpec | TextLeaf;
}
type TextLeaf = "string" | "bytes" | "word";

/** The kept fields of one message: every occurrence of each, in order. */
export type TextMessage = Map<string, (TextMessage | string)[]>;

/** Nesting depth refused (CWE-674); protobuf's own parsers stop at 100. */
export const MAX_TEXT_DEPTH = 100;

/** Text the reader cannot read with certainty; `offset`, when known, is a character offset into the text. */
export class ProtoTextError extends Error {
  constructor(message: string, readonly offset?: number, readonly tooDeep = false) {
    super(offset === undefined ? message : `${message} (at character ${offset})`);
  }
}

/** Python's tokenizer: whitespace and `#` comments separate tokens. */
const SKIP = /(?:\s|#[^\n]*)*/y;
/** Identifiers and numbers (Python's two word patterns, merged). */
const WORD = /[A-Za-z0-9_.+-]+/y;

export function parseProtoText(text: string, spec: TextSpec): TextMessage {
  const p = new Parser(text);
  const root = p.fields(spec, undefined, 0);
  p.skip();
  if (p.pos < text.length) throw new ProtoTextError(`unexpected "${text[p.pos]}"`, p.pos);
  return root;
}

class Parser {
  pos = 0;
  constructor(private readonly text: string) {}

  skip(): void {
    SKIP.lastIndex = this.pos;
    SKIP.exec(this.text);
    this.pos = SKIP.lastIndex;
  }

  private peek(): string | undefined {
    this.skip();
    return this.text[this.pos];
  }

  private eat(c: string): boolean {
    if (this.peek() !== c) return false;
    this.pos++;
    return true;
  }

  /** Fields up to `close` (or the end of the text at top level), each kept when `spec` names it. */
  fields(spec: TextSpec | undefined, close: string | undefined, depth: number): TextMessage {
    if (depth > MAX_TEXT_DEPTH) throw new ProtoTextError(`messages nest deeper than ${MAX_TEXT_DEPTH}`, this.pos, true);
    const out: TextMessage = new Map();
    for (;;) {
      const c = this.peek();
      if (c === undefined) {
        if (close) throw new ProtoTextError(`message not closed by "${close}" before the end`, this.pos);
        return out;
      }
      if (c === close) {
        this.pos++;
        return out;
      }
      // Extensions and google.protobuf.Any expansions name a type this reader has no schema for.
      if (c === "[") throw new ProtoTextError("an extension or Any expansion ([…]) holds content this reader cannot judge", this.pos);
      const name = this.word();
      if (!/^[A-Za-z_]\w*$/.test(name)) throw new ProtoTextError(`"${name}" is not a field name`, this.pos);
      const sub = spec ? Object.hasOwn(spec, name) ? spec[name] : undefined : undefined;
      const colon = this.eat(":");
      const values = this.value(sub, colon, depth);
      if (sub !== undefined) {
        const kept = out.get(name) ?? [];
        kept.push(...values);
        out.set(name, kept);
      }
      if (!this.eat(",")) this.eat(";");
    }
  }

  /** One field's value or list of values; returned only when kept (`sub` set). */
  private value(sub: TextSpec | TextLeaf | undefined, colon: boolean, depth: number): (TextMessage | string)[] {
    if (colon && this.eat("[")) {
      const out: (TextMessage | string)[] = [];
      if (this.eat("]")) return out;
      do out.push(...this.single(sub, true, depth));
      while (this.eat(","));
      if (!this.eat("]")) throw new ProtoTextError('list not closed by "]"', this.pos);
      return out;
    }
    return this.single(sub, colon, depth);
  }

  private single(sub: TextSpec | TextLeaf | undefined, colon: boolean, depth: number): (TextMessage | string)[] {
    const c = this.peek();
    if (c === "{" || c === "<") {
      this.pos++;
      const msg = this.fields(typeof sub === "object" ? sub : undefined, c === "{" ? "}" : ">", depth + 1);
      if (typeof sub === "string") throw new ProtoTextError(`a message where a ${sub === "word" ? "number" : sub} was expected`, this.pos);
      return sub ? [msg] : [];
    }
    if (!colon) throw new ProtoTextError('a scalar value without ":"', this.pos);
    if (c === '"' || c === "'") {
      const bytes: number[] = [];
      while (this.peek() === '"' || this.peek() === "'") bytes.push(...this.stringLiteral(sub === "string" || sub === "bytes"));
      if (typeof sub === "object" || sub === "word") throw new ProtoTextError(`a string where a ${sub === "word" ? "number" : "message"} was expected`, this.pos);
      if (sub === "bytes") return [Buffer.from(bytes).toString("latin1")];
      return sub ? [utf8(bytes, this.pos)] : [];
    }
    const word = this.word();
    if (sub === "word") return [word];
    if (sub !== undefined) throw new ProtoTextError(`"${word}" where a ${typeof sub === "string" ? "quoted string" : "message"} was expected`, this.pos);
    return [];
  }

  private word(): string {
    WORD.lastIndex = this.pos;
    const m = WORD.exec(this.text);
    if (!m) throw new ProtoTextError(this.pos < this.text.length ? `unexpected "${this.text[this.pos]}"` : "unexpected end", this.pos);
    this.pos = WORD.lastIndex;
    return m[0];
  }

  /** One quoted literal; its bytes when `decode` (kept), otherwise only checked to end on its line. */
  private stringLiteral(decode: boolean): number[] {
    const start = this.pos;
    const quote = this.text[this.pos++]!;
    const bytes: number[] = [];
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined || c === "\n") throw new ProtoTextError("string not closed on its line", start);
      this.pos++;
      if (c === quote) return bytes;
      if (c !== "\\") {
        if (decode) bytes.push(...Buffer.from(c, "utf8"));
        continue;
      }
      const escaped = this.escape(start);
      if (decode) bytes.push(...escaped);
    }
  }

  /** The bytes of the escape after a backslash. */
  private escape(start: number): number[] {
    const c = this.text[this.pos++];
    const simple = c === undefined ? undefined : SIMPLE_ESCAPES[c];
    if (simple !== undefined) return [simple];
    if (c !== undefined && c >= "0" && c <= "7") {
      const code = parseInt(this.run(/[0-7]/, 2, c), 8);
      // C++ keeps the low byte of \777, Python makes it a character: refused, as they differ.
      if (code > 0xff) throw new ProtoTextError(`octal escape above \\377`, start);
      return [code];
    }
    if (c === "x") {
      const digits = this.run(/[0-9a-fA-F]/, 2, "");
      if (!digits) throw new ProtoTextError("\\x without hex digits", start);
      return [parseInt(digits, 16)];
    }
    if (c === "u" || c === "U") {
      const n = c === "u" ? 4 : 8;
      const digits = this.run(/[0-9a-fA-F]/, n, "");
      const code = parseInt(digits, 16);
      // Python decodes \u before the C escapes: \u005c would start a second escape there.
      if (digits.length !== n || code > 0x10ffff || code === 0x5c) throw new ProtoTextError(`\\${c}${digits} is not an escape both parsers read alike`, start);
      return [...Buffer.from(String.fromCodePoint(code), "utf8")];
    }
    throw new ProtoTextError(`unknown escape \\${c ?? ""}`, start);
  }

  /** `first` and then up to `max` more characters matching `re`. */
  private run(re: RegExp, max: number, first: string): string {
    let out = first;
    for (let i = 0; i < max && re.test(this.text[this.pos] ?? ""); i++) out += this.text[this.pos++];
    return out;
  }
}

/** Escapes both parsers read alike (Python keeps \? and \X as they are, C++ does not). */
const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  n: 0x0a, t: 0x09, r: 0x0d, a: 0x07, b: 0x08, f: 0x0c, v: 0x0b, "\\": 0x5c, "'": 0x27, '"': 0x22,
};

function utf8(bytes: number[], at: number): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    throw new ProtoTextError("a string that is not UTF-8", at);
  }
}
