/**
 * TorchScript source as the compiler reads it, so that names are judged as the compiler resolves
 * them rather than as they are spelled (torch/csrc/jit/frontend: lexer.h, parse_string_literal.h,
 * the parser's parseConcatenatedStringLiterals and ir_emitter's getattr special form). The
 * compiler joins adjacent string literals and decodes their escapes, so `"sa" "ve"` and `"\163ave"`
 * are "save"; it resolves `getattr(X, "lit")` as `X.lit`, so `getattr(torch, "from_" "file")` is
 * aten::from_file; and it lets a variable hold `torch`, `ops.aten` or getattr itself, after which
 * no builtin's name need appear at all (a red team's twentieth round wrote files all three ways).
 */

/** One token: a name, a string literal (decoded; adjacent ones joined), a statement break, or any other character. */
interface Token {
  kind: "name" | "string" | "newline" | "other";
  text: string;
  /** Offset in the source text where the token starts. */
  at: number;
}

/** The source rendered from its resolved tokens, with where in the source each character came from. */
export interface ResolvedCode {
  /** Tokens joined by a space (none around a dot), strings as `"value"`, a statement break as a line break. */
  view: string;
  /** For each character of `view`, its offset in the source. */
  origin: Int32Array;
  /** What the resolution itself shows: getattr with a computed name or on a module, modules or getattr held as values. */
  dangers: { reason: string; index: number }[];
}

/** The names the importer of serialized code binds to operator namespaces (import_source.cpp: `torch`, `ops`). */
const OPERATOR_NAMESPACES: ReadonlySet<string> = new Set(["torch", "ops"]);

/**
 * getattr calls resolved inside one another's targets at most; exported code nests two or three
 * (getattr(getattr(self.blocks, "0"), "1")), and each level rescans its arguments (CWE-400).
 */
const MAX_GETATTR_NESTING = 16;

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /[0-9][A-Za-z0-9_.]*/y;

export function resolveCode(text: string): ResolvedCode {
  const dangers: ResolvedCode["dangers"] = [];
  const lexed = tokenize(text);
  const tokens = resolveGetattr(lexed, matchBrackets(lexed), 0, lexed.length, dangers);
  namespaceValues(tokens, dangers);
  const { view, origin } = render(tokens);
  return { view, origin, dangers };
}

/**
 * The lexer's tokens: comments and backslash line continuations dropped, a line break a token only
 * outside brackets (inside them it is whitespace), string literals decoded and adjacent ones joined.
 */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let depth = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "#") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "\\" && (text[i + 1] === "\n" || (text[i + 1] === "\r" && text[i + 2] === "\n"))) {
      i += text[i + 1] === "\n" ? 2 : 3;
    } else if (c === "\n") {
      if (depth === 0) tokens.push({ kind: "newline", text: "\n", at: i });
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '"' || c === "'") {
      const end = stringEnd(text, i);
      const value = decodeString(text.slice(i, end));
      const last = tokens[tokens.length - 1];
      if (last?.kind === "string") last.text += value;
      else tokens.push({ kind: "string", text: value, at: i });
      i = end;
    } else if (/[A-Za-z_0-9]/.test(c)) {
      // A name, or a number (digits, letters, dots: 1.5e3, 0x1F) kept whole so its dot is not an attribute's.
      const number = /[0-9]/.test(c);
      const word = number ? NUMBER : NAME;
      word.lastIndex = i;
      const match = word.exec(text)![0];
      tokens.push({ kind: number ? "other" : "name", text: match, at: i });
      i += match.length;
    } else {
      if ("([{".includes(c)) depth++;
      else if (")]}".includes(c)) depth = Math.max(0, depth - 1);
      tokens.push({ kind: "other", text: c, at: i });
      i++;
    }
  }
  return tokens;
}

/**
 * Index just past the string literal that opens at `open` (or at the line break that leaves a
 * single-quoted one unterminated): one or three quotes of either kind, a backslash escaping the next character.
 */
function stringEnd(text: string, open: number): number {
  const quote = text[open]!;
  const triple = text.startsWith(quote.repeat(3), open);
  const close = triple ? quote.repeat(3) : quote;
  let i = open + close.length;
  while (i < text.length && !text.startsWith(close, i)) {
    if (!triple && text[i] === "\n") return i;
    i += text[i] === "\\" ? 2 : 1;
  }
  return Math.min(text.length, i + close.length);
}

const ESCAPES: Readonly<Record<string, string>> = { a: "\x07", b: "\b", f: "\f", n: "\n", v: "\v", t: "\t" };

/**
 * A literal's value as parseStringLiteral decodes it: the quotes stripped, a backslash before a
 * backslash, quote or line break standing for that character, the C letter escapes, and three octal
 * digits for a byte. Other escapes (\x, \u) fail to compile; they are kept as written.
 */
function decodeString(literal: string): string {
  const quote = literal[0]!;
  const q = literal.startsWith(quote.repeat(3)) ? 3 : 1;
  const body = literal.slice(q, literal.length >= 2 * q && literal.endsWith(quote.repeat(q)) ? literal.length - q : literal.length);
  return body.replace(/\\([0-7]{3}|[\s\S])/g, (whole, e: string) => {
    if (e.length === 3) return parseInt(e, 8) < 256 ? String.fromCharCode(parseInt(e, 8)) : whole;
    if (e === "\\" || e === "'" || e === '"' || e === "\n") return e;
    return ESCAPES[e] ?? whole;
  });
}

/**
 * tokens[from, to) with every `getattr(X, "lit")` replaced by `X . lit` (inner ones first, so a
 * nested getattr's target is resolved too). A getattr whose name is not one string literal, whose
 * target is an operator namespace, or that is not called on the spot (`g = getattr`) is a danger.
 */
function resolveGetattr(tokens: readonly Token[], match: Int32Array, from: number, end: number, dangers: ResolvedCode["dangers"], depth = 0): Token[] {
  const out: Token[] = [];
  for (let i = from; i < end; i++) {
    const t = tokens[i]!;
    const isGetattr = t.kind === "name" && t.text === "getattr" && tokens[i - 1]?.text !== ".";
    if (!isGetattr) {
      out.push(t);
      continue;
    }
    if (depth >= MAX_GETATTR_NESTING) {
      dangers.push({ reason: `nests getattr more than ${MAX_GETATTR_NESTING} deep; what it resolves was not read`, index: t.at });
      out.push(t);
      continue;
    }
    if (tokens[i + 1]?.text !== "(") {
      dangers.push({ reason: "holds getattr without calling it, so what it resolves is not spelled out", index: t.at });
      out.push(t);
      continue;
    }
    const close = Math.min(match[i + 1]!, end);
    const args = splitArguments(tokens, match, i + 2, close);
    const name = args.length === 2 && args[1]![1] - args[1]![0] === 1 ? tokens[args[1]![0]] : undefined;
    if (name?.kind !== "string") {
      dangers.push({ reason: "calls getattr with a name that is not one string literal", index: t.at });
      out.push(t);
      continue;
    }
    const target = resolveGetattr(tokens, match, args[0]![0], args[0]![1], dangers, depth + 1);
    const path = target.map((x) => x.text).join("").replace(/[()]/g, "");
    if (isNamespacePath(path)) dangers.push({ reason: `reaches ${path}.${name.text} through getattr on an operator namespace`, index: t.at });
    out.push(...target, { kind: "other", text: ".", at: name.at }, { kind: "name", text: name.text, at: name.at });
    i = close;
  }
  return out;
}

function isNamespacePath(path: string): boolean {
  const root = /^[A-Za-z_][A-Za-z0-9_]*/.exec(path)?.[0];
  return root !== undefined && OPERATOR_NAMESPACES.has(root) && /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(path);
}

/**
 * For each opening bracket, the index of the one closing it (tokens.length when none does), so
 * that a call's arguments are found without rescanning what they enclose.
 */
function matchBrackets(tokens: readonly Token[]): Int32Array {
  const match = new Int32Array(tokens.length).fill(tokens.length);
  const open: number[] = [];
  for (const [i, t] of tokens.entries()) {
    if (t.kind !== "other") continue;
    if ("([{".includes(t.text)) open.push(i);
    else if (")]}".includes(t.text) && open.length > 0) match[open.pop()!] = i;
  }
  return match;
}

/** The [start, end) ranges of the comma-separated arguments in tokens[from, to), stepping over bracketed parts whole. */
function splitArguments(tokens: readonly Token[], match: Int32Array, from: number, to: number): [number, number][] {
  const args: [number, number][] = [];
  let start = from;
  for (let i = from; i < to; i++) {
    const t = tokens[i]!;
    if (t.kind !== "other") continue;
    if ("([{".includes(t.text)) i = Math.min(match[i]!, to);
    else if (t.text === ",") {
      args.push([start, i]);
      start = i + 1;
    }
  }
  if (to > start) args.push([start, to]);
  return args;
}

/**
 * Operator namespaces used as values: a dotted path from `torch` or `ops` (through parentheses,
 * which the compiler reads through) that is neither continued nor called. `t = ops.aten` then
 * `t.save(...)` writes a file without naming torch or aten beside save.
 */
function namespaceValues(tokens: readonly Token[], dangers: ResolvedCode["dangers"]): void {
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind !== "name" || !OPERATOR_NAMESPACES.has(t.text) || tokens[i - 1]?.text === ".") continue;
    // A keyword argument or an assignment target of that name binds it; it holds nothing.
    if (tokens[i + 1]?.text === "=" && tokens[i + 2]?.text !== "=") continue;
    let path = t.text;
    let j = i + 1;
    for (;;) {
      while (tokens[j]?.text === ")") j++;
      if (tokens[j]?.text !== "." || tokens[j + 1]?.kind !== "name") break;
      path += `.${tokens[j + 1]!.text}`;
      j += 2;
    }
    if (tokens[j]?.text !== "(") dangers.push({ reason: `holds the operator namespace ${path} as a value, so what it calls is not spelled out`, index: t.at });
  }
}

/** The view the patterns are matched on, and each character's source offset. */
function render(tokens: readonly Token[]): { view: string; origin: Int32Array } {
  const parts: string[] = [];
  const starts: number[] = [];
  let length = 0;
  for (const [i, t] of tokens.entries()) {
    const glued = i === 0 || t.text === "." || tokens[i - 1]!.text === "." || t.kind === "newline" || tokens[i - 1]!.kind === "newline";
    const text = `${glued ? "" : " "}${t.kind === "string" ? `"${t.text}"` : t.text}`;
    parts.push(text);
    starts.push(length);
    length += text.length;
  }
  const origin = new Int32Array(length);
  for (const [i, t] of tokens.entries()) {
    const part = parts[i]!;
    const lead = part.startsWith(" ") ? 1 : 0;
    for (let k = 0; k < part.length; k++) {
      // Inside a name or other token each character has its own place; a string's characters all point at its opening quote.
      origin[starts[i]! + k] = t.kind === "string" || k < lead ? t.at : t.at + k - lead;
    }
  }
  return { view: parts.join(""), origin };
}
