/**
 * Text a pickle computes at load from constants, with the pure str, bytes and int methods and the
 * codecs it may call: `bytes.translate(x, table)` (an XOR undone), `_codecs.encode(s, "rot13")`,
 * `b"".join([...])` of split parts, `bytes.fromhex`, `int.to_bytes`. A second stage decoded
 * at load (THREATS P22) ends up in what the model holds, not in any constant as written: the
 * analyst folds such calls here and looks for a payload in the result.
 *
 * Only what the loader would compute is computed (a call CPython would refuse folds to nothing),
 * and nothing over LIMITS.dormantMaxInput is made.
 */
import { LIMITS } from "../limits.js";
import { decodeHex } from "./dormant.js";
import { codecName } from "./madeSizes.js";

export type Text = string | Uint8Array;
/** An argument as the fold reads it: text, a number, None, a sequence, or a str.translate table. */
export type Arg = Text | number | bigint | boolean | null | readonly Arg[] | ReadonlyMap<number, Arg>;

/** `method` of the builtin `type` called on `args` (the receiver first, as unbound), or undefined when it cannot be folded. */
export function foldMethod(type: string, method: string, args: readonly Arg[]): Text | undefined {
  if (type === "builtins.int") return method === "to_bytes" ? toBytes(args) : undefined;
  if (type !== "builtins.str" && type !== "builtins.bytes") return undefined; // bytearray's methods refuse bytes
  if (method === "fromhex" && type === "builtins.bytes") return typeof args[0] === "string" ? decodeHex(args[0]) : undefined;
  const [self, ...rest] = args;
  if (!isText(self) || (type === "builtins.str") !== (typeof self === "string")) return undefined;
  switch (method) {
    case "translate":
      return translate(self, rest);
    case "replace":
      return replace(self, rest);
    case "join":
      return join(self, rest[0]);
    case "upper":
    case "lower":
    case "swapcase":
      return rest.length === 0 ? recase(self, method) : undefined;
    case "strip":
    case "lstrip":
    case "rstrip":
      return rest.length === 0 || rest[0] === null || sameKind(self, rest[0]) ? strip(self, method, rest[0] as Text | null | undefined) : undefined;
    case "removeprefix":
    case "removesuffix":
      return sameKind(self, rest[0]) ? remove(self, rest[0] as Text, method === "removeprefix") : undefined;
    case "encode":
    case "decode":
      return (method === "encode") === (typeof self === "string") ? codec(self, rest[0] === undefined ? "utf-8" : rest[0], "method") : undefined;
    default:
      return undefined;
  }
}

/** Whether text coded with `encoding` is folded (its codec, by any of its names, is one folding computes). */
export function foldsCodec(encoding: string): boolean {
  return CODECS.has(codecName(encoding));
}

/** `_codecs.encode(obj, encoding)` (the codec machinery's own entry: any direction a codec has). */
export function foldCodecsEncode(args: readonly Arg[]): Text | undefined {
  const [obj, encoding] = args;
  return isText(obj) ? codec(obj, encoding === undefined ? "utf-8" : encoding, "codecs") : undefined;
}

function isText(v: Arg | undefined): v is Text {
  return typeof v === "string" || v instanceof Uint8Array;
}

function sameKind(a: Text, b: Arg | undefined): boolean {
  return isText(b) && typeof a === typeof b;
}

function fits(n: number): boolean {
  return n <= LIMITS.dormantMaxInput;
}

function translate(self: Text, [table, remove]: readonly Arg[]): Text | undefined {
  if (typeof self === "string") {
    if (!(table instanceof Map) || remove !== undefined) return undefined;
    let out = "";
    for (const ch of self) {
      const point = ch.codePointAt(0)!;
      const to = table.has(point) ? table.get(point) : ch;
      if (to === null) continue;
      // CPython raises ValueError outside range(0x110000).
      if (typeof to === "number") {
        if (!Number.isInteger(to) || to < 0 || to > 0x10ffff) return undefined;
        out += String.fromCodePoint(to);
      }
      else if (typeof to === "string") out += to;
      else return undefined;
      if (!fits(out.length)) return undefined;
    }
    return out;
  }
  if (!(table === null || (table instanceof Uint8Array && table.length === 256))) return undefined;
  if (remove !== undefined && !(remove instanceof Uint8Array)) return undefined;
  const drop = new Uint8Array(256);
  for (const b of remove ?? []) drop[b] = 1;
  const out = new Uint8Array(self.length);
  let n = 0;
  for (const b of self) if (drop[b] === 0) out[n++] = table === null ? b : table[b]!;
  return out.subarray(0, n);
}

function replace(self: Text, [old, by, count]: readonly Arg[]): Text | undefined {
  if (!sameKind(self, old) || !sameKind(self, by) || !(count === undefined || typeof count === "number")) return undefined;
  const [s, o, b] = [latin(self), latin(old as Text), latin(by as Text)];
  const limit = count === undefined || count < 0 ? Infinity : count;
  // Python's replace of "" inserts between characters; a model's second stage has no use for it.
  if (o === "") return undefined;
  let out = "";
  let from = 0;
  for (let n = 0; n < limit; n++) {
    const i = s.indexOf(o, from);
    if (i < 0) break;
    out += s.slice(from, i) + b;
    from = i + o.length;
    if (!fits(out.length)) return undefined;
  }
  out += s.slice(from);
  return fits(out.length) ? back(self, out) : undefined;
}

function join(sep: Text, parts: Arg | undefined): Text | undefined {
  if (!Array.isArray(parts)) return undefined;
  const items = parts as readonly Arg[];
  if (!items.every((p) => sameKind(sep, p))) return undefined;
  const total = items.reduce((n: number, p) => n + (p as Text).length, 0) + sep.length * Math.max(0, items.length - 1);
  return fits(total) ? back(sep, items.map((p) => latin(p as Text)).join(latin(sep))) : undefined;
}

function recase(self: Text, how: "upper" | "lower" | "swapcase"): Text {
  // bytes methods change ASCII letters only; str's the whole of Unicode (ASCII is what matters here).
  const ascii = (c: string): string => {
    const lower = c >= "a" && c <= "z";
    const upper = c >= "A" && c <= "Z";
    if (how === "upper" || (how === "swapcase" && lower)) return lower ? c.toUpperCase() : c;
    return upper ? c.toLowerCase() : c;
  };
  if (typeof self === "string") return how === "upper" ? self.toUpperCase() : how === "lower" ? self.toLowerCase() : [...self].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join("");
  return back(self, latin(self).replace(/[A-Za-z]/g, ascii));
}

/** str.isspace's characters (bytes strip ASCII whitespace only: " \t\n\r\v\f"). */
const STR_SPACE = /[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
const BYTES_SPACE = /[\t-\r ]/;

function strip(self: Text, how: "strip" | "lstrip" | "rstrip", chars: Text | null | undefined): Text {
  const s = latin(self);
  const set = chars === null || chars === undefined ? undefined : latin(chars);
  const stripped = (c: string): boolean => (set !== undefined ? set.includes(c) : (typeof self === "string" ? STR_SPACE : BYTES_SPACE).test(c));
  let start = 0;
  let end = s.length;
  if (how !== "rstrip") while (start < end && stripped(s[start]!)) start++;
  if (how !== "lstrip") while (end > start && stripped(s[end - 1]!)) end--;
  return back(self, s.slice(start, end));
}

function remove(self: Text, affix: Text, prefix: boolean): Text {
  const s = latin(self);
  const a = latin(affix);
  if (prefix) return s.startsWith(a) ? back(self, s.slice(a.length)) : self;
  return a !== "" && s.endsWith(a) ? back(self, s.slice(0, s.length - a.length)) : self;
}

/** The codecs folded (others, base64's and zlib's encoders among them, make no pickle from what is not one), by codecs.lookup's normalised names and the aliases the encodings package maps to them. */
const CODECS: ReadonlyMap<string, string> = new Map([
  ...["rot13", "rot_13"].map((n) => [n, "rot13"] as const),
  ...["hex", "hex_codec"].map((n) => [n, "hex"] as const),
  ...["latin1", "latin_1", "iso8859_1", "iso_8859_1", "l1", "8859", "cp819", "latin"].map((n) => [n, "latin1"] as const),
  ...["ascii", "us_ascii", "646"].map((n) => [n, "ascii"] as const),
  ...["utf8", "utf_8", "u8", "utf", "cp65001"].map((n) => [n, "utf8"] as const),
  ...["utf16", "utf_16", "u16"].map((n) => [n, "utf16"] as const),
  ...["utf_16le", "utf_16_le"].map((n) => [n, "utf16le"] as const),
  ...["utf_16be", "utf_16_be"].map((n) => [n, "utf16be"] as const),
]);

/**
 * str.encode and bytes.decode take text encodings only (CPython refuses "hex" or "rot13" there);
 * _codecs.encode runs any codec's encoder: rot13 on str, and bytes-to-bytes codecs forwards.
 */
function codec(self: Text, encoding: Arg, entry: "method" | "codecs"): Text | undefined {
  if (typeof encoding !== "string") return undefined;
  const name = CODECS.get(codecName(encoding));
  if (name === undefined) return undefined;
  try {
    if (typeof self === "string") {
      if (name === "rot13") return entry === "codecs" ? rot13(self) : undefined;
      return TEXT_CODECS.has(name) ? encodeText(self, name) : undefined;
    }
    if (entry === "method") return TEXT_CODECS.has(name) ? decodeText(self, name) : undefined;
    return name === "hex" ? Buffer.from(Buffer.from(self).toString("hex"), "latin1") : undefined;
  } catch {
    return undefined; // a strict codec refused the input, as CPython's would
  }
}

const TEXT_CODECS: ReadonlySet<string> = new Set(["latin1", "ascii", "utf8", "utf16", "utf16le", "utf16be"]);

function encodeText(s: string, name: string): Uint8Array | undefined {
  switch (name) {
    case "latin1":
      return [...s].every((c) => c.charCodeAt(0) < 256) ? Buffer.from(s, "latin1") : undefined;
    case "ascii":
      return /^[\x00-\x7f]*$/.test(s) ? Buffer.from(s, "latin1") : undefined;
    case "utf8":
      return Buffer.from(s, "utf8");
    case "utf16le":
      return Buffer.from(s, "utf16le");
    case "utf16be":
      return Buffer.from(s, "utf16le").swap16();
    default:
      return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, "utf16le")]);
  }
}

function decodeText(b: Uint8Array, name: string): string | undefined {
  switch (name) {
    case "latin1":
      return latin(b);
    case "ascii":
      return b.every((x) => x < 0x80) ? latin(b) : undefined;
    case "utf8":
      return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(b);
    case "utf16le":
      return b.length % 2 === 0 ? Buffer.from(b).toString("utf16le") : undefined;
    case "utf16be":
      return b.length % 2 === 0 ? Buffer.from(b).swap16().toString("utf16le") : undefined;
    default: {
      // utf-16 reads a byte-order mark (little-endian without one, as CPython on little-endian machines).
      const be = b[0] === 0xfe && b[1] === 0xff;
      const bom = be || (b[0] === 0xff && b[1] === 0xfe) ? 2 : 0;
      if ((b.length - bom) % 2 !== 0) return undefined;
      const body = Buffer.from(b.subarray(bom));
      return (be ? body.swap16() : body).toString("utf16le");
    }
  }
}

function rot13(s: string): string {
  return s.replace(/[A-Za-z]/g, (c) => {
    const base = c <= "Z" ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - base + 13) % 26) + base);
  });
}

/** int.to_bytes(length, byteorder) of a non-negative int (signed=False, the default). */
function toBytes([n, length, order]: readonly Arg[]): Uint8Array | undefined {
  if (!((typeof n === "number" && Number.isSafeInteger(n)) || typeof n === "bigint") || typeof length !== "number" || !Number.isSafeInteger(length) || length < 0 || !fits(length)) return undefined;
  if (!(order === undefined || order === "big" || order === "little")) return undefined;
  if (n < 0) return undefined;
  const hex = n.toString(16);
  // OverflowError when the int needs more bytes than it is given (0 needs none).
  if (n > 0 && hex.length > length * 2) return undefined;
  if (length === 0) return new Uint8Array(0);
  const big = Buffer.from(hex.padStart(length * 2, "0"), "hex");
  return order === "little" ? big.reverse() : big;
}

/** Text as one char per byte (bytes) or itself (str), so both kinds share the string operations. */
function latin(t: Text): string {
  return typeof t === "string" ? t : Buffer.from(t.buffer, t.byteOffset, t.byteLength).toString("latin1");
}

/** A result of `kind`'s type from a string made by latin(). */
function back(kind: Text, s: string): Text {
  return typeof kind === "string" ? s : Buffer.from(s, "latin1");
}
