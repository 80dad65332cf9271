/** Text operands of protocol-0 opcodes (INT, LONG, PUT/GET keys, STRING, UNICODE), parsed as CPython does. */
import { LIMITS } from "../limits.js";

/** A JS number when exact, else a bigint. */
export function narrow(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Decimal digits CPython's int() converts (sys.int_info.default_max_str_digits): INT and LONG refuse more. */
export const INT_MAX_STR_DIGITS = 4300;

/** `int(text, 0)`: decimal, or 0x/0o/0b with a sign; underscores allowed. Undefined if not a number, or decimal past CPython's digit limit. */
export function parseIntLiteral(text: string): number | bigint | undefined {
  const t = text.trim().replace(/_/g, "");
  // CPython's int() converts at most INT_MAX_STR_DIGITS decimal digits (and a BigInt of a million costs here too).
  if (/^[+-]?\d+$/.test(t)) return t.length - (/^[+-]/.test(t) ? 1 : 0) > INT_MAX_STR_DIGITS ? undefined : narrow(BigInt(t));
  // Each base its own digits: BigInt("0o8") throws.
  const m = /^([+-]?)(0x[0-9a-f]+|0o[0-7]+|0b[01]+)$/i.exec(t);
  if (!m) return undefined;
  const v = BigInt(m[2]!);
  return narrow(m[1] === "-" ? -v : v);
}

/** Escapes both of Python's escape decoders take; a backslash before a newline joins the lines. */
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { "\n": "", "\\": "\\", "'": "'", '"': '"', a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v" };

/**
 * Decodes backslash escapes as Python does: `bytes`, as codecs.escape_decode reads STRING operands
 * (an octal escape keeps its low byte, as C's char does: `\471` is "9"; `\u`, `\U` and anything
 * else unknown stay as written); `unicode`, as the unicode_escape codec (octal up to U+01FF,
 * `\u` and `\U`). Undefined where the decoder raises: `\x` without two hex digits, a code point
 * past U+10FFFF, a backslash ending the text.
 */
export function unescapePy(s: string, kind: "bytes" | "unicode"): string | undefined {
  if (!s.includes("\\")) return s;
  let invalid = false;
  const out = s.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|[\s\S]?)/g, (_, e: string) => {
    const c = e[0];
    if (c === undefined || (c === "x" && e.length === 1) || ((c === "u" || c === "U") && kind === "unicode" && e.length === 1)) {
      invalid = true;
      return "";
    }
    if (c === "x" || (kind === "unicode" && (c === "u" || c === "U"))) {
      const code = parseInt(e.slice(1), 16);
      if (code > 0x10ffff) invalid = true;
      return invalid ? "" : String.fromCodePoint(code);
    }
    if (c >= "0" && c <= "7") return String.fromCharCode(kind === "bytes" ? parseInt(e, 8) & 0xff : parseInt(e, 8));
    // \u1234 in bytes: the backslash, then the rest as it is.
    if (c === "u" || c === "U") return `\\${e}`;
    return Object.hasOwn(SIMPLE_ESCAPES, c) ? SIMPLE_ESCAPES[c]! : `\\${c}`;
  });
  return invalid ? undefined : out;
}

/**
 * UNICODE's operand as CPython reads it: the bytes of the line before its "\n" (a "\r" is kept)
 * decoded as raw-unicode-escape. Every byte is its latin-1 character except a backslash before
 * `u` or `U`, which takes 4 or 8 hex digits; a backslash before anything else stays, with that
 * character. Undefined where CPython raises (digits missing, a code point past U+10FFFF).
 */
export function rawUnicodeEscape(buf: Buffer, start: number, end: number): string | undefined {
  const text = buf.toString("latin1", start, end);
  if (!text.includes("\\")) return text;
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const kind = c === "\\" && i + 1 < text.length ? text[i + 1]! : "";
    if (kind !== "u" && kind !== "U") {
      out += c + kind;
      i += kind.length;
      continue;
    }
    const digits = kind === "u" ? 4 : 8;
    const hex = text.slice(i + 2, i + 2 + digits);
    if (hex.length < digits || !/^[0-9a-fA-F]+$/.test(hex)) return undefined;
    const code = parseInt(hex, 16);
    if (code > 0x10ffff) return undefined;
    out += String.fromCodePoint(code);
    i += 1 + digits;
  }
  return out;
}

// ---- operands of the text opcodes, as the machine reads them (the plain-data proof shares them)

/**
 * A number line as CPython's C unpickler reads it: strtol, PyLong_FromString and
 * PyOS_string_to_double take the line as a C string, so a NUL ends it and what follows is ignored.
 */
function cString(line: string): string {
  const nul = line.indexOf("\0");
  return nul < 0 ? line : line.slice(0, nul);
}

/**
 * INT's operand as CPython's load_int reads it: C's strtol(s, &end, 0) first (a leading 0 makes
 * it octal: "010" is 8), taken when it reads up to the line's end without overflow, and then a
 * two-character line of 0 or 1 ("00", "01", "+1", " 0") is a bool; else int(s, 0)'s reading.
 */
export function intLine(line: string): number | bigint | boolean | undefined {
  const s = cString(line);
  const c = strtol(s);
  if (c === undefined) return parseIntLiteral(s);
  return line.length === 2 && (c === 0 || c === 1) ? c === 1 : c;
}

const C_SPACE = /^[ \t\n\v\f\r]*/;
const LONG_MAX = 2n ** 63n - 1n;

/** C's strtol(s, &end, 0) on a 64-bit long, when it reads all of `s` without overflow; else undefined (load_int then asks PyLong_FromString). */
function strtol(s: string): number | bigint | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s.slice(C_SPACE.exec(s)![0].length));
  if (!m) return undefined;
  const digits = m[2]!;
  const v = /^0[xX]/.test(digits) ? BigInt(digits) : digits.length > 1 && digits[0] === "0" ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits);
  const signed = m[1] === "-" ? -v : v;
  return signed > LONG_MAX || signed < -LONG_MAX - 1n ? undefined : narrow(signed);
}

/** LONG's operand: an integer with an optional trailing "L" (Python 2). */
export function longLine(line: string): number | bigint | undefined {
  return parseIntLiteral(cString(line.endsWith("L") ? line.slice(0, -1) : line));
}

/** Whether an INT or LONG operand may hold an integer past LIMITS.pickleMaxNumberBits: a hex digit holds four bits. */
export function outsizedIntegerLine(line: string): boolean {
  return line.length * 4 > LIMITS.pickleMaxNumberBits;
}

/** Whether an INT or LONG operand is longer than the decimal digits CPython converts (its loader raises ValueError there). */
export function tooManyDigits(line: string): boolean {
  return line.length > INT_MAX_STR_DIGITS && !/^\s*[+-]?0[xob]/i.test(line);
}

/** Python's float() syntax: digits with single underscores between them, an optional fraction and exponent. */
const PY_FLOAT = /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;
const PY_SPECIAL_FLOAT = /^([+-]?)(inf|infinity|nan)$/i;

/** FLOAT's operand as CPython's float() reads it: a decimal number, inf, infinity or nan (JS's Number() also takes hex and ""). */
export function floatLine(line: string): number | undefined {
  const t = cString(line).trim();
  const special = PY_SPECIAL_FLOAT.exec(t);
  if (special) return special[2]!.toLowerCase() === "nan" ? NaN : special[1] === "-" ? -Infinity : Infinity;
  return PY_FLOAT.test(t) ? Number(t.replace(/_/g, "")) : undefined;
}

/** Whether STRING's operand is quoted, as it must be. */
export function quotedLine(line: string): boolean {
  const q = line[0];
  return line.length >= 2 && (q === "'" || q === '"') && line[line.length - 1] === q;
}

/** PUT's and GET's operand: a memo key, a non-negative integer. */
export function memoKeyLine(line: string): number | undefined {
  const v = parseIntLiteral(cString(line));
  return typeof v === "number" && v >= 0 ? v : undefined;
}

/** A str holding bytes as code points (what a latin-1 decode of them gives) as those bytes; undefined past U+00FF. */
export function latin1Bytes(s: string): Uint8Array | undefined {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return undefined;
  return Buffer.from(s, "latin1");
}

const NON_ASCII = /[^\x00-\x7f]/;
const DECIMAL_DIGIT = /\p{Nd}/gu;
const IS_DECIMAL_DIGIT = /^\p{Nd}$/u;

/**
 * `text` with each Unicode decimal digit written as the ASCII digit of its value, as CPython's
 * int() reads them ("٤٢" is 42). Callers bound the text's length; a text met again (a memoized
 * constant called on many times) is converted once.
 */
export function asciiDigits(text: string): string {
  if (!NON_ASCII.test(text)) return text;
  let ascii = converted.get(text);
  if (ascii === undefined) {
    if (converted.size >= MAX_CONVERTED) converted.clear();
    converted.set(text, (ascii = text.replace(DECIMAL_DIGIT, (d) => String(digitValue(d.codePointAt(0)!)))));
  }
  return ascii;
}
const converted = new Map<string, string>();
const MAX_CONVERTED = 1024;

/**
 * The value of the decimal digit at code point `point`, or undefined for any other character. A
 * digit's value is its place in its run: Unicode encodes every set of decimal digits as ten
 * consecutive code points, 0 to 9 (the mathematical digits as five such runs back to back).
 */
function digitValue(point: number): number | undefined {
  if (point >= 0x30 && point <= 0x39) return point - 0x30;
  let value = digitValues.get(point);
  if (value === undefined && !digitValues.has(point)) {
    if (IS_DECIMAL_DIGIT.test(String.fromCodePoint(point))) {
      let place = 0;
      while (IS_DECIMAL_DIGIT.test(String.fromCodePoint(point - place - 1))) place++;
      value = place % 10;
    }
    digitValues.set(point, value);
  }
  return value;
}
/** digitValue of the non-ASCII code points met so far (a few hundred at most: that many are digits, and other characters end a read). */
const digitValues = new Map<number, number | undefined>();

/**
 * The exponent a number's text ends with, as CPython's Fraction() and Decimal() read it: the
 * digits after its last "e" or "E" (any Unicode decimal digits, underscores between them, a sign
 * before, whitespace after), as ASCII; undefined when the text ends otherwise. Only the end is read
 * (a hostile constant is called on many times), and past MAX_EXPONENT_DIGITS digits the exponent
 * is given as that many nines, larger than any bound.
 */
export function trailingExponent(text: string): string | undefined {
  let i = text.length;
  while (i > 0 && /\s/.test(text[i - 1]!)) i--;
  let digits = "";
  let pending = false; // an underscore must stand between digits
  while (i > 0) {
    const low = text.charCodeAt(i - 1);
    const pair = low >= 0xdc00 && low <= 0xdfff && i > 1 ? text.codePointAt(i - 2)! : low;
    const width = pair > 0xffff ? 2 : 1;
    const value = pair === 0x5f ? undefined : digitValue(pair);
    if (pair === 0x5f && digits !== "" && !pending) pending = true;
    else if (value !== undefined) {
      if (digits.length < MAX_EXPONENT_DIGITS) digits = String(value) + digits;
      else return "9".repeat(MAX_EXPONENT_DIGITS);
      pending = false;
    } else break;
    i -= width;
  }
  if (digits === "" || pending) return undefined;
  let sign = "";
  if (i > 0 && (text[i - 1] === "-" || text[i - 1] === "+")) sign = text[--i]!;
  return i > 0 && (text[i - 1] === "e" || text[i - 1] === "E") ? sign + digits : undefined;
}
const MAX_EXPONENT_DIGITS = 32;

/**
 * int(text, base) as CPython reads it (base 0: a 0x, 0o or 0b prefix, else decimal; underscores
 * between digits and after a prefix; any Unicode decimal digit); undefined where it raises. Callers
 * bound the text's length.
 */
export function parseInteger(text: string, base: number): bigint | undefined {
  const m = /^\s*([+-]?)(?:0([xob])_?)?([0-9a-z](?:_?[0-9a-z])*)\s*$/i.exec(asciiDigits(text));
  if (!m) return undefined;
  const prefix = m[2]?.toLowerCase();
  const radix = base === 0 ? (prefix === "x" ? 16 : prefix === "o" ? 8 : prefix === "b" ? 2 : 10) : base;
  if (radix < 2 || radix > 36 || (prefix !== undefined && radix !== { x: 16, o: 8, b: 2 }[prefix as "x" | "o" | "b"])) return undefined;
  const digits = m[3]!.replaceAll("_", "");
  for (const ch of digits) if (parseInt(ch, 36) >= radix) return undefined;
  // In chunks that fit a double: a BigInt step per digit would be quadratic in the text.
  const chunk = Math.floor(53 / Math.log2(radix));
  let n = 0n;
  for (let i = 0; i < digits.length; i += chunk) {
    const part = digits.slice(i, i + chunk);
    n = n * BigInt(radix) ** BigInt(part.length) + BigInt(parseInt(part, radix));
  }
  return m[1] === "-" ? -n : n;
}
