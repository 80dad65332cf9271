/**
 * Dormant second stages (THREATS P22): a pickle kept in a str or bytes constant, raw or encoded
 * (base64, hex, base32, base85, ascii85: the standard library's base64 module), compressed (zlib,
 * gzip, raw deflate, bz2; xz and LZMA handed back undecoded) and/or reversed, waiting for
 * one `pickle.loads(...)` in model code. `dormantPayloads` decides whether a constant could be such a
 * payload and returns the decoded candidates with their chain of encodings ("base64>zlib"), for the
 * caller to scan as nested pickles.
 *
 * Cost matters more than anything here: dense data pickles hold millions of strings (tokenizer
 * vocabularies, label names), so a constant is rejected on its first few characters unless they
 * decode to a pickle opcode or a compressor's magic (the rejection path allocates nothing). Only
 * then is anything decoded, and every step is bounded (input length, decoded size, compression
 * ratio, nesting of encodings). A bound that is hit is returned as a `limit` entry, never dropped,
 * so the caller can report it.
 *
 * Pure and synchronous: no I/O, no state kept between calls. (It does not import src/sniff.ts,
 * which would close an import cycle analyst → sniff → zip → pytorch → pickle → analyst; the pickle
 * check here is the plain-data proof's entry condition plus a structural walk of the opcodes.)
 */
import { constants as zc, gunzipSync, inflateRawSync, inflateSync } from "node:zlib";
import { createRequire } from "node:module";
import { LIMITS } from "../limits.js";
import { INPUT_ENDED, inflateHead, type ByteAt as At } from "./inflateHead.js";
import { latin1Bytes, unescapePy } from "./literals.js";
import { HIGHEST_PROTOCOL, LENGTH_PREFIXED, OP, OPERAND_BYTES, isOpcode } from "./opcodes.js";

/** What a constant may hold. `encoding` is the chain of layers undone, outermost first ("base64>zlib"), or "raw". */
export type Dormant =
  /** Bytes that start and walk like a pickle: scan them as a nested pickle. */
  | { kind: "pickle"; encoding: string; bytes: Uint8Array }
  /** An xz or LZMA-alone stream (its decoders are asynchronous): scan the bytes by content, as a nested member. */
  | { kind: "compressed"; encoding: string; format: "xz" | "lzma"; bytes: Uint8Array }
  /** A bound stopped the decoding of something that looked like an encoded payload; `reason` says which. */
  | { kind: "limit"; encoding: string; reason: string };

/** Shortest decoded pickle considered: a call needs at least `cos\nabort\n(tR.` (14 bytes); "N." and "I1\n." are not payloads. */
const MIN_PICKLE = 12;
/** Shortest text considered as base64 or hex of something (base64 of 12 bytes is 16 characters). */
const MIN_TEXT = 16;
/** Characters decoded to test a prefix: 12 base64 characters are 9 bytes, 12 hex digits 6. */
const PROBE_CHARS = 12;

const bunzip = createRequire(import.meta.url)("seek-bzip") as {
  decode(
    input: { readByte(): number; read(into: Uint8Array, at: number, length: number): number; seek(pos: number): void; eof(): boolean },
    output: { writeByte(byte: number): void },
    multistream: boolean,
  ): void;
};

/**
 * Decoded pickle candidates a str or bytes constant may hold, with the encodings that hid them,
 * plus undecoded xz/LZMA streams and bounds hit. Returns [] for ordinary data after a few character checks.
 */
export function dormantPayloads(constant: string | Uint8Array): Dormant[] {
  return examined(constant, true);
}

/** dormantPayloads, past the constant's start only when `ahead` (dormantIn asked hidesAhead already). */
function examined(constant: string | Uint8Array, ahead: boolean): Dormant[] {
  const out: Dormant[] = [];
  if (constant.length < MIN_PICKLE) return out;
  if (typeof constant === "string") examineText(constant, [], out, ahead);
  else examineBytes(constant, [], out, ahead);
  return out;
}

/**
 * The same examination for a constant still in a read buffer, `length` bytes at `start`, holding
 * UTF-8 text (`utf8`, a pickled str) or bytes. Nothing is copied or decoded unless the first bytes
 * match a magic or an encoded probe, so the plain-data proof and the machine can ask about every
 * constant of a dense pickle.
 */
export function dormantIn(buf: Uint8Array, start: number, length: number, utf8: boolean): Dormant[] {
  if (length < MIN_PICKLE) return NONE;
  const b0 = buf[start]!;
  if (utf8) {
    // Below MIN_TEXT only a raw payload fits, and its first byte is a magic's or an opcode's.
    if (length < MIN_TEXT && RAW_START[b0] === 0) return NONE;
    if (b0 >= 0x80) {
      // A str holding pickle bytes as code points starts with U+0080 (PROTO) or U+00FD (xz): C2 80 or C3 BD.
      const text = (): string => Buffer.from(buf.buffer, buf.byteOffset + start, length).toString("utf8");
      if (codePointsStart(buf[start + 1]!, b0)) return dormantPayloads(text());
      // Or a character such as a byte-order mark before what model code decodes.
      return hidesAhead((i) => (i < length ? buf[start + i]! : -1), length, true) ? examined(text(), true) : NONE;
    }
  }
  const at: At = (i) => (i < length ? buf[start + i]! : -1);
  const kind = magic(at);
  // A protocol 0/1 payload imports (a line ending in a newline) and stops ("."): text without both is not one.
  const raw = kind !== undefined && (!protocolLess(kind, b0) || (hasByte(buf, start, length, 0x0a) && hasByte(buf, start, length, OP.STOP)));
  const ahead = hidesAhead(at, length, utf8);
  if (!raw && !ahead && !probes(at, length) && codecStart(at) === undefined && !endsReversed(at, length) && (utf8 || !(reversedMagic(at, length) || deflateStart(at, length, true)))) return NONE;
  const view = buf.subarray(start, start + length);
  return examined(utf8 ? Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString("utf8") : view, ahead);
}

const NONE: Dormant[] = Object.freeze([]) as unknown as Dormant[];

/** First bytes a raw payload can start with: a compressor's magic, PROTO, a protocol 0/1 start, or UTF-8's lead for U+0080–U+00FF. */
const RAW_START = new Uint8Array(256);
for (const b of [OP.PROTO, 0x78, 0x1f, 0xfd, 0x42, 0x5d, 0xc2, 0xc3]) RAW_START[b] = 1;

/**
 * Whether a constant of `length` bytes, of which only the first bytes (`head`) are at hand, may
 * hide a payload: decides whether a constant skipped unread is read back. A protocol 0/1 pickle is
 * recognised by a walk to its STOP past an import, which the head need not reach: such payloads,
 * and reversed ones, are looked for in constants the scanner keeps (up to
 * LIMITS.pickleMaxInlineConstant), not in longer ones.
 */
export function mayHide(head: Uint8Array, length: number, utf8: boolean): boolean {
  if (length < MIN_PICKLE || head.length === 0) return false;
  const at: At = (i) => (i < head.length ? head[i]! : -1);
  if (utf8 && head[0]! >= 0x80) return codePointsStart(head[1]!, head[0]!) || hidesAhead(at, length, true);
  const kind = magic(at);
  return (kind !== undefined && !protocolLess(kind, head[0]!)) || probes(at, length) || codecStart(at) !== undefined || (!utf8 && deflateStart(at, head.length, head.length >= length)) || hidesAhead(at, length, utf8);
}

/** Whether UTF-8 lead `lead` and `next` spell U+0080 (PROTO) or U+00FD (xz's first byte): how a str holding a payload's bytes as code points starts. */
function codePointsStart(next: number, lead: number): boolean {
  return (lead === 0xc2 && next === 0x80) || (lead === 0xc3 && next === 0xbd);
}

/**
 * Whether text's first characters decode (hex or base64) to a magic or to encoded text again, or
 * (unless `strict`) to what may begin raw deflate, a protocol 0/1 pickle or a reversed one, which a
 * few bytes cannot refute.
 */
function probes(at: At, length: number, strict = false): boolean {
  const c0 = at(0);
  if (length < MIN_TEXT || c0 > 255 || ENCODED_START[c0] === 0) return false;
  // One probe at a time: each decodes into PROBE.
  for (const encoding of TEXT_ENCODINGS) {
    const n = encoding.probe(at);
    if (n > 0 && (strict ? payloadStart(PROBE, n, true) : probedPayload(n))) return true;
  }
  return false;
}

// ---- one layer

type Kind = "pickle" | "zlib" | "gzip" | "deflate" | "bz2" | "xz" | "lzma";

/**
 * What the first bytes say the data is, or undefined (the common case, decided on one or two bytes).
 * The same whether `at` covers all the data or a decoded prefix: the start decides.
 */
function magic(at: At): Kind | undefined {
  const b0 = at(0);
  if (b0 === OP.PROTO) {
    const p = at(1);
    return p >= 2 && p <= HIGHEST_PROTOCOL && isOpcode(at(2)) ? "pickle" : undefined;
  }
  if (b0 === 0x78) return at(1) >= 0 && ((b0 << 8) | at(1)) % 31 === 0 ? "zlib" : undefined;
  if (b0 === 0x1f) return at(1) === 0x8b && at(2) === 8 ? "gzip" : undefined;
  if (b0 === 0xfd) return at(1) === 0x37 && at(2) === 0x7a && at(3) === 0x58 && at(4) === 0x5a && at(5) === 0 ? "xz" : undefined;
  if (b0 === 0x42 && at(1) === 0x5a && at(2) === 0x68 && at(3) >= 0x31 && at(3) <= 0x39) return "bz2";
  if (b0 === 0x5d && lzmaDictionary(at)) return "lzma";
  // Protocol 0/1: a start opcode and a second byte that can follow it (pickle.loads ignores what
  // follows the STOP, so the data need not end there; the structural walk decides).
  if (b0 >= 0 && b0 <= 255 && PROTO01_START[b0] === 1 && canFollow(b0, at(1))) return "pickle";
  return undefined;
}

/** Opcodes whose operand is a text line (GLOBAL's module name, INT's digits…). */
const TEXT_OPERAND = new Set<number>([OP.GLOBAL, OP.INT, OP.LONG, OP.FLOAT, OP.STRING, OP.UNICODE, OP.PERSID]);
/** Opcodes followed directly by the next opcode (no operand). */
const NO_OPERAND = new Set<number>([OP.MARK, OP.EMPTY_DICT, OP.EMPTY_LIST, OP.EMPTY_TUPLE, OP.NONE]);

/** Whether `b1` can be the byte after the protocol 0/1 start opcode `b0` (binary operands can be anything). */
function canFollow(b0: number, b1: number): boolean {
  if (TEXT_OPERAND.has(b0)) return b1 >= 0x20 && b1 < 0x7f;
  if (NO_OPERAND.has(b0)) return b1 >= 0 && isOpcode(b1);
  return true;
}

/** LZMA-alone header after the 0x5d properties byte: a dictionary size of the usual 2^n or 2^n + 2^(n-1) shape (as src/sniff.ts). */
function lzmaDictionary(at: At): boolean {
  for (let i = 1; i <= 4; i++) if (at(i) < 0 || at(i) > 255) return false;
  const dict = (at(1) | (at(2) << 8) | (at(3) << 16) | (at(4) << 24)) >>> 0;
  for (let n = 12; n <= 30; n++) if (dict === 2 ** n || dict === 2 ** n + 2 ** (n - 1)) return true;
  return false;
}

/** Opcodes a protocol 0/1 pickle can start with (the first opcode must push something or mark), as a byte table. */
const PROTO01_START = new Uint8Array(256);
for (const op of [
  OP.MARK, OP.EMPTY_DICT, OP.EMPTY_LIST, OP.EMPTY_TUPLE, OP.GLOBAL, OP.INT, OP.BININT, OP.BININT1, OP.BININT2, OP.LONG,
  OP.STRING, OP.UNICODE, OP.BINUNICODE, OP.BINSTRING, OP.SHORT_BINSTRING, OP.FLOAT, OP.BINFLOAT, OP.PERSID, OP.NONE,
  OP.BINBYTES, OP.SHORT_BINBYTES,
]) PROTO01_START[op] = 1;

for (let b = 0; b < 256; b++) if (PROTO01_START[b] === 1) RAW_START[b] = 1;

function examineBytes(b: Uint8Array, chain: string[], out: Dormant[], ahead = true): void {
  const before = out.length;
  examineBytesAtStart(b, chain, out);
  if (ahead && out.length === before) examineAhead(b, chain, out);
}

function examineBytesAtStart(b: Uint8Array, chain: string[], out: Dormant[]): void {
  const at: At = (i) => (i < b.length ? b[i]! : -1);
  const kind = magic(at);
  if (kind) {
    const before = out.length;
    layer(kind, b, chain, out);
    // A protocol 0/1 start is one byte of text as often as a pickle's: when it does not walk, the text is read as text.
    if (out.length > before || !protocolLess(kind, b[0]!)) return;
  }
  if (deflateStart(at, b.length, true)) layer("deflate", b, chain, out);
  const reversed = reversedMagic(at, b.length);
  if (reversed) layer(reversed, Uint8Array.from(b).reverse(), [...chain, "reversed"], out);
  // Text inside a bytes constant (b"gAJj..."): decoded as latin1 (exact for ASCII) only once a probe matched.
  const text = (): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");
  examineEncoded(at, b.length, text, chain, out);
  examineCodec(at, b.length, text, chain, out);
}

function examineText(s: string, chain: string[], out: Dormant[], ahead = true): void {
  const before = out.length;
  examineTextAtStart(s, chain, out);
  if (ahead && out.length === before) examineAhead(s, chain, out);
}

function examineTextAtStart(s: string, chain: string[], out: Dormant[]): void {
  const at: At = (i) => (i < s.length ? s.charCodeAt(i) : -1);
  // Raw: a str holding pickle bytes as code points (what a latin1 decode of them gives).
  const kind = magic(at);
  if (kind) {
    const before = out.length;
    if (!outOfBounds(out, chain, kind, s.length)) {
      const bytes = latin1Bytes(s);
      if (bytes) layer(kind, bytes, chain, out);
    }
    // As in examineBytes: a protocol 0/1 start that does not walk is text.
    if (out.length > before || !protocolLess(kind, s.charCodeAt(0))) return;
  }
  examineEncoded(at, s.length, () => s, chain, out);
  examineCodec(at, s.length, () => s, chain, out);
}

// ---- Python's text codecs

/**
 * A payload kept in what one of Python's codecs makes of it, for model code to undo with one call:
 * UTF-16 (a byte-order mark, or every other unit zero), `unicode_escape` (it starts "\\x80"),
 * quoted-printable (it starts "=80") and uuencoding (`codecs.encode(p, "uu")`'s "begin" line, or
 * binascii's lines). Told by its first characters, at a constant's start only.
 */
type Codec = "utf-16-le" | "utf-16-be" | "unicode_escape" | "quoted-printable" | "uu";

function codecStart(at: At): Codec | undefined {
  const c0 = at(0);
  const c1 = at(1);
  if (c0 === 0xff && c1 === 0xfe) return "utf-16-le";
  if (c0 === 0xfe && c1 === 0xff) return "utf-16-be";
  // Without a mark, only a unit that can begin a payload or its encoding: arrays of small integers are every other byte zero too.
  if (startsPayloadUnit(c0) && c1 === 0 && at(2) >= 0 && at(3) === 0) return "utf-16-le";
  if (c0 === 0 && startsPayloadUnit(c1) && at(2) === 0) return "utf-16-be";
  if (c0 === 0x5c && c1 === 0x78 && isHexDigit(at(2)) && isHexDigit(at(3))) return "unicode_escape";
  if (c0 === 0x3d && isHexDigit(at(1)) && isHexDigit(at(2))) return "quoted-printable";
  if (c0 === 0x62 && c1 === 0x65 && at(2) === 0x67 && at(3) === 0x69 && at(4) === 0x6e && at(5) === 0x20) return "uu"; // "begin "
  if (c0 >= 0x21 && c0 <= 0x60 && uuLineLength(at) !== undefined) return "uu";
  return undefined;
}

function startsPayloadUnit(c: number): boolean {
  return c > 0 && c <= 0xff && (RAW_START[c] === 1 || ENCODED_START[c] === 1);
}

function isHexDigit(c: number): boolean {
  return c >= 0 && c <= 255 && HEX[c]! >= 0;
}

/** examineBytes of what the codec at the constant's start makes of it (see codecStart). */
function examineCodec(at: At, length: number, text: () => string, chain: string[], out: Dormant[]): void {
  if (length < MIN_PICKLE) return;
  const codec = codecStart(at);
  if (codec === undefined || outOfBounds(out, chain, codec, length, true)) return;
  const decoded = decodeCodec(codec, at, length, text);
  if (decoded && decoded.length >= MIN_PICKLE) examineBytes(decoded, [...chain, codec], out);
}

function decodeCodec(codec: Codec, at: At, length: number, text: () => string): Uint8Array | undefined {
  switch (codec) {
    case "utf-16-le":
    case "utf-16-be": {
      const bom = (at(0) === 0xff && at(1) === 0xfe) || (at(0) === 0xfe && at(1) === 0xff) ? 2 : 0;
      const out = new Uint8Array((length - bom) >> 1);
      for (let i = 0; i < out.length; i++) {
        const [lo, hi] = codec === "utf-16-le" ? [at(bom + 2 * i), at(bom + 2 * i + 1)] : [at(bom + 2 * i + 1), at(bom + 2 * i)];
        // Only what latin-1 encodes back is a payload's bytes (c.decode("utf-16").encode("latin1")).
        if (hi !== 0 || lo < 0 || lo > 0xff) return undefined;
        out[i] = lo;
      }
      return out;
    }
    case "unicode_escape": {
      const unescaped = unescapePy(text(), "unicode");
      return unescaped === undefined ? undefined : latin1Bytes(unescaped);
    }
    case "quoted-printable":
      return decodeQuotedPrintable(at, length);
    case "uu":
      return decodeUu(at, length);
  }
}

/** quopri.decodestring: "=XX" is a byte, "=" at a line's end joins lines, the rest is itself (latin-1). */
function decodeQuotedPrintable(at: At, length: number): Uint8Array | undefined {
  const out = new Uint8Array(length);
  let n = 0;
  for (let i = 0; i < length; i++) {
    const c = at(i);
    if (c > 0xff) return undefined;
    if (c === 0x3d && isHexDigit(at(i + 1)) && isHexDigit(at(i + 2))) {
      out[n++] = (HEX[at(i + 1)]! << 4) | HEX[at(i + 2)]!;
      i += 2;
    } else if (c === 0x3d && (at(i + 1) === 0x0a || (at(i + 1) === 0x0d && at(i + 2) === 0x0a))) i += at(i + 1) === 0x0d ? 2 : 1;
    else out[n++] = c;
  }
  return out.subarray(0, n);
}

/** Characters of a uuencoded line (binascii.a2b_uu): its length character, then four for each three bytes. */
function uuLineLength(at: At, from = 0): number | undefined {
  const n = (at(from) - 0x20) & 0x3f;
  const chars = 1 + 4 * Math.ceil(n / 3);
  for (let i = 1; i < chars; i++) {
    const c = at(from + i);
    if (c < 0x20 || c > 0x60) return undefined;
  }
  const end = at(from + chars);
  return n > 0 && (end === 0x0a || end === 0x0d || end < 0) ? chars : undefined;
}

/** uudecode: the "begin" line skipped, each line's bytes decoded until a line of length 0 or "end". */
function decodeUu(at: At, length: number): Uint8Array | undefined {
  const out = new Uint8Array(length);
  let n = 0;
  let i = 0;
  if (at(0) === 0x62) while (i < length && at(i) !== 0x0a) i++;
  while (i < length) {
    while (at(i) === 0x0a || at(i) === 0x0d) i++;
    if (i >= length) break;
    const chars = uuLineLength(at, i);
    if (chars === undefined) break;
    const bytes = (at(i) - 0x20) & 0x3f;
    for (let g = 0, k = 0; k < bytes; g += 4) {
      const v = [1, 2, 3, 4].map((j) => (at(i + g + j) - 0x20) & 0x3f);
      for (const b of [(v[0]! << 2) | (v[1]! >> 4), ((v[1]! & 15) << 4) | (v[2]! >> 2), ((v[2]! & 3) << 6) | v[3]!]) if (k++ < bytes) out[n++] = b;
    }
    i += chars;
  }
  return n > 0 ? out.subarray(0, n) : undefined;
}

/** Base64 or hex text: decoded only if its first characters decode to a pickle opcode or a compressor's magic. */
function examineEncoded(at: At, length: number, text: () => string, chain: string[], out: Dormant[]): void {
  const c0 = at(0);
  if (length < MIN_TEXT || c0 > 255 || ENCODED_START[c0] === 0) return;
  // Hex first (hex digits are base64 characters too); every encoding whose probe matches is tried.
  for (const { name: encoding, probe, decode } of TEXT_ENCODINGS) {
    const n = probe(at);
    if (n === 0 || !(payloadStart(PROBE, n) || deflateInText(n, length, text, decode) || (encoding === "base64" && endsReversed(at, length)))) continue;
    if (outOfBounds(out, chain, encoding, length, true)) continue;
    const decoded = decode(text());
    if (decoded && decoded.length >= MIN_PICKLE) examineBytes(decoded, [...chain, encoding], out);
  }
}

/**
 * Whether base64 text ends in what reads, backwards, as a compressor's magic or PROTO: a payload
 * reversed before it was encoded (`b64decode(c)[::-1]`), whose start (a checksum, noise) no probe
 * of the text's start can tell. Only its last two groups are decoded, in place.
 */
function endsReversed(at: At, length: number): boolean {
  if (length % 4 !== 0 || length < 16) return false;
  let bits = 0;
  let nbits = 0;
  let n = 0;
  for (let i = length - 8; i < length; i++) {
    const c = at(i);
    if (c === 0x3d) break; // padding: the data ended
    if (c < 0 || c > 255 || BASE64[c]! < 0) return false;
    bits = ((bits << 6) | BASE64[c]!) & 0xffffff;
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      TAIL[n++] = (bits >> nbits) & 0xff;
    }
  }
  const kind = reversedMagic((i) => (i < n ? TAIL[i]! : -1), n);
  return kind !== undefined && !protocolLess(kind, TAIL[n - 1]!);
}
/** The last bytes endsReversed decodes, written in place. */
const TAIL = new Uint8Array(6);

// ---- past a constant's start

/**
 * A payload behind a short prefix that model code cuts off before decoding (a header, "data:", a
 * stray character), base64 with characters its decoder drops (binascii skips what is not in its
 * alphabet), or base64 written backwards: looked for in constants at least AHEAD_FROM long
 * once nothing starts at their start, at each of their first MAX_SKIP offsets, and in their text
 * with those characters dropped. Once per chain of layers.
 */
const AHEAD_FROM = 40;
const MAX_SKIP = 16;
/** Characters of a constant's start filtered to probe what a lenient decoder reads. */
const LENIENT_HEAD = 64;
/** What b64decode keeps of text (validate=False): base64's alphabet (either one) and its padding. (a85decode's skipping of whitespace is ascii85's own probe's.) */
const LENIENT: readonly [step: string, keeps: (c: number) => boolean][] = [["base64 characters kept", (c) => c <= 255 && (BASE64[c]! >= 0 || c === 0x3d)]];
/** The steps examineAhead adds to a chain, named here once: a chain that holds one has looked ahead. */
const REVERSED_STEP = "text reversed";
const SKIP_STEP = "after ";
const skipStep = (skip: number, text: boolean): string => `${SKIP_STEP}${skip} ${text ? "character" : "byte"}${skip === 1 ? "" : "s"}`;
const lookedAhead = (step: string): boolean => step === REVERSED_STEP || step.startsWith(SKIP_STEP) || LENIENT.some(([kept]) => kept === step);

/** Whether a constant of `length` whose start `at` reads may hold a payload past its start (see AHEAD_FROM); a few probes, nothing decoded. */
function hidesAhead(at: At, length: number, utf8: boolean): boolean {
  if (length < AHEAD_FROM) return false;
  for (let skip = 1; skip <= MAX_SKIP; skip++) if (startsAt(at, skip, length, utf8)) return true;
  if (reversedEncoding(at, length)) return true;
  return LENIENT.some(([, keeps]) => leniently(at, keeps));
}

/** Whether base64 or hex read from a constant's end decodes to a payload's start (see startsAt: strictly). */
function reversedEncoding(at: At, length: number): boolean {
  const reversed: At = (i) => (i < length ? at(length - 1 - i) : -1);
  for (const probe of [probeBase64, probeHex]) {
    const n = probe(reversed);
    if (n > 0 && payloadStart(PROBE, n, true)) return true;
  }
  return false;
}

/**
 * Whether a payload may start `skip` characters into a constant: a magic there (a protocol 0/1
 * guess aside: one text byte in many starts like one), or, after a character no encoding uses (a
 * separator: "data:", a newline), encoded text whose probe decodes to one; not merely to what may
 * begin raw deflate, or long text would be decoded whole too often. Probing only after separators
 * keeps the cost of long text and of base64 blobs to a few byte checks.
 */
function startsAt(at: At, skip: number, length: number, utf8: boolean): boolean {
  const c = at(skip);
  if (c < 0) return false;
  const before = at(skip - 1);
  const separated = before > 255 || (BASE64[before]! < 0 && before !== 0x3d);
  // Most positions of most constants end here, before a closure is made.
  if (!(c <= 255 && SHIFTED_START[c] === 1) && !separated) return false;
  // In a str's UTF-8 (a read buffer), a payload's bytes as code points: decoded, the full examination finds them at this character.
  if (utf8 && codePointsStart(at(skip + 1), c)) return true;
  const shifted: At = (i) => at(i + skip);
  const kind = magic(shifted);
  if (kind !== undefined && !protocolLess(kind, c)) return true;
  return separated && !spaceWithin(shifted, AHEAD_RUN) && probes(shifted, length - skip, true);
}

/** First bytes of what startsAt takes for a payload without a probe: PROTO and the compressors' magics (no protocol 0/1 guess), and in UTF-8 the leads of U+0080 and U+00FD. */
const SHIFTED_START = new Uint8Array(256);
for (const b of [OP.PROTO, 0x78, 0x1f, 0xfd, 0x42, 0x5d, 0xc2, 0xc3]) SHIFTED_START[b] = 1;

/**
 * Characters after a separator, or at a lenient decoder's start, that an encoded payload has without
 * whitespace before it is probed there: prose has a space every few characters and is let go at
 * once (whitespace inside encoded text at a constant's start is its probe's own to skip).
 */
const AHEAD_RUN = 16;

function spaceWithin(at: At, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const c = at(i);
    if (c < 0) return false;
    if (isSpace(c)) return true;
  }
  return false;
}

/** What keptHead keeps, written in place. */
const KEPT = new Uint16Array(PROBE_CHARS);

/**
 * The first PROBE_CHARS characters `keeps` keeps of the first LENIENT_HEAD, or undefined when it
 * drops none (the start itself was probed) or meets whitespace (prose; see AHEAD_RUN).
 */
function keptHead(at: At, keeps: (c: number) => boolean): Uint16Array | undefined {
  let n = 0;
  let dropped = false;
  for (let i = 0; i < LENIENT_HEAD && n < PROBE_CHARS; i++) {
    const c = at(i);
    if (c < 0) break;
    if (isSpace(c)) return undefined;
    if (keeps(c)) KEPT[n++] = c;
    else dropped = true;
  }
  return dropped ? KEPT.subarray(0, n) : undefined;
}

/** examineBytes or examineText of what follows a constant's first characters, or of what a lenient decoder keeps of it (see AHEAD_FROM). */
function examineAhead(c: string | Uint8Array, chain: string[], out: Dormant[]): void {
  if (c.length < AHEAD_FROM || chain.some(lookedAhead)) return;
  const text = typeof c === "string";
  const at: At = text ? (i) => (i < c.length ? c.charCodeAt(i) : -1) : (i) => (i < c.length ? c[i]! : -1);
  for (let skip = 1; skip <= MAX_SKIP; skip++) {
    if (!startsAt(at, skip, c.length, false)) continue;
    const before = out.length;
    const next = [...chain, skipStep(skip, text)];
    if (text) examineTextAtStart(c.slice(skip), next, out);
    else examineBytesAtStart(c.subarray(skip), next, out);
    if (out.length > before) return;
  }
  // Encoded text written backwards (b64decode(c[::-1])); reversed bytes are examineBytes's own. The
  // reversed text is made only once examineEncoded has checked the bound on what it decodes.
  if (reversedEncoding(at, c.length)) {
    if (outOfBounds(out, chain, "base64 or hex written backwards", c.length)) return;
    const before = out.length;
    let reversed: string | undefined;
    examineEncoded((i) => (i < c.length ? at(c.length - 1 - i) : -1), c.length, () => (reversed ??= reversedText(c)), [...chain, REVERSED_STEP], out);
    if (out.length > before) return;
  }
  for (const [step, keeps] of LENIENT) {
    if (!leniently(at, keeps)) continue;
    // Kept characters are ASCII (LENIENT): one byte each, up to one past the bound on decoded input (then a limit).
    const codes = new Uint8Array(Math.min(c.length, LIMITS.dormantMaxInput + 1));
    let n = 0;
    for (let i = 0; i < c.length && n < codes.length; i++) {
      const code = at(i);
      if (keeps(code)) codes[n++] = code;
    }
    const kept = Buffer.from(codes.buffer, 0, n).toString("latin1");
    const before = out.length;
    examineEncoded((i) => (i < kept.length ? kept.charCodeAt(i) : -1), kept.length, () => kept, [...chain, step], out);
    if (out.length > before) return;
  }
}

/** Whether base64 decodes what `keeps` keeps of a constant's start (keptHead) to a payload's start. */
function leniently(at: At, keeps: (c: number) => boolean): boolean {
  const head = keptHead(at, keeps);
  return head !== undefined && probeBase64((i) => (i < head.length ? head[i]! : -1)) > 0 && payloadStart(PROBE, (PROBE_CHARS * 3) / 4, true);
}

/** A constant's text read backwards: bytes as latin-1, a str by UTF-16 unit (what an encoding's ASCII alphabet can use of it). */
function reversedText(c: string | Uint8Array): string {
  if (typeof c !== "string") return Buffer.from(c).reverse().toString("latin1");
  const units = Buffer.from(c, "utf16le");
  const out = Buffer.allocUnsafe(units.length);
  for (let i = 0, j = units.length - 2; j >= 0; i += 2, j -= 2) {
    out[i] = units[j]!;
    out[i + 1] = units[j + 1]!;
  }
  return out.toString("utf16le");
}

function layer(kind: Kind, b: Uint8Array, chain: string[], out: Dormant[]): void {
  if (kind === "pickle") {
    if (b.length >= MIN_PICKLE && walksLikePickle(b)) out.push({ kind: "pickle", encoding: chain.length > 0 ? chain.join(">") : "raw", bytes: b });
    return;
  }
  const next = [...chain, kind];
  if (kind === "xz" || kind === "lzma") {
    out.push({ kind: "compressed", encoding: next.join(">"), format: kind, bytes: b });
    return;
  }
  // Only the layers are bounded here: what a decompressor is given is bounded by the layer that made it.
  if (outOfBounds(out, chain, kind, 0, true)) return;
  const cap = Math.min(LIMITS.dormantMaxDecoded, Math.max(LIMITS.dormantRatioFloor, b.length * LIMITS.maxCompressionRatio));
  const result = kind === "bz2" ? bunzipBounded(b, cap) : inflateBoundedSync(b, kind, cap);
  if (result === "corrupt") return; // the magic was a coincidence: nothing a loader could decompress
  if (result === "full") {
    const why = cap === LIMITS.dormantMaxDecoded ? `the ${LIMITS.dormantMaxDecoded}-byte bound` : `${LIMITS.maxCompressionRatio} times its ${b.length} compressed bytes`;
    limit(out, chain, kind, `decompresses past ${why}; not examined further`);
    return;
  }
  if (result.length >= MIN_PICKLE) examineBytes(result, next, out);
}

function limit(out: Dormant[], chain: string[], kind: string, reason: string): void {
  out.push({ kind: "limit", encoding: [...chain, kind].join(">"), reason: `a constant that looks like ${kind} data ${reason}` });
}

/**
 * Whether a layer of `kind`, `length` characters long, is past the bound on decoded input or (when
 * `nesting`: it adds a layer to `chain`) past the bound on layers: then a limit says so and it is
 * not decoded.
 */
function outOfBounds(out: Dormant[], chain: string[], kind: string, length: number, nesting = false): boolean {
  if (length > LIMITS.dormantMaxInput) limit(out, chain, kind, `is ${length} characters long, over the ${LIMITS.dormantMaxInput}-character bound; not decoded`);
  else if (nesting && chain.length + 1 > LIMITS.dormantMaxDepth) limit(out, chain, kind, `nests more than ${LIMITS.dormantMaxDepth} encodings; not decoded`);
  else return false;
  return true;
}

// ---- decoders (bounded, synchronous)

function inflateBoundedSync(b: Uint8Array, kind: "zlib" | "gzip" | "deflate", cap: number): Uint8Array | "full" | "corrupt" {
  // SYNC_FLUSH keeps what a truncated stream decodes to: pickle.loads(zlib.decompressobj().decompress(x)) works on a prefix too.
  const options = { finishFlush: zc.Z_SYNC_FLUSH, maxOutputLength: cap };
  try {
    return kind === "zlib" ? inflateSync(b, options) : kind === "gzip" ? gunzipSync(b, options) : inflateRawSync(b, options);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE" ? "full" : "corrupt";
  }
}

class Full extends Error {}

function bunzipBounded(b: Uint8Array, cap: number): Uint8Array | "full" | "corrupt" {
  const chunks: Uint8Array[] = [];
  let block = new Uint8Array(Math.min(cap, 1 << 16));
  let used = 0;
  let total = 0;
  let pos = 0;
  try {
    bunzip.decode(
      {
        readByte: () => {
          if (pos >= b.length) throw new Error("unexpected end of input");
          return b[pos++]!;
        },
        read: (into, at, length) => {
          if (pos >= b.length) return -1;
          const n = Math.min(length, b.length - pos);
          into.set(b.subarray(pos, pos + n), at);
          pos += n;
          return n;
        },
        seek: (to) => {
          pos = to;
        },
        eof: () => pos >= b.length,
      },
      {
        writeByte: (x) => {
          if (total >= cap) throw new Full();
          if (used === block.length) {
            chunks.push(block);
            block = new Uint8Array(Math.min(cap - total, 1 << 16));
            used = 0;
          }
          block[used++] = x;
          total++;
        },
      },
      true,
    );
  } catch (err) {
    if (err instanceof Full) return "full";
    if (total === 0) return "corrupt";
  }
  chunks.push(block.subarray(0, used));
  return Buffer.concat(chunks);
}

// ---- text encodings

/** Base64 value of each character code (both alphabets, as Python's b64decode with altchars or urlsafe_b64decode), -1 for others. */
const BASE64 = new Int8Array(256).fill(-1);
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".split("").forEach((c, i) => (BASE64[c.charCodeAt(0)] = i));
BASE64[0x2d] = 62; // -
BASE64[0x5f] = 63; // _
/** Hex digit values, -1 for others. */
const HEX = new Int8Array(256).fill(-1);
"0123456789abcdef".split("").forEach((c, i) => {
  HEX[c.charCodeAt(0)] = i;
  HEX[c.toUpperCase().charCodeAt(0)] = i;
});
/** Base32 values (RFC 4648's alphabet, and base32hex's), -1 for others; b32decode takes upper case only. */
const BASE32 = new Int8Array(256).fill(-1);
"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".split("").forEach((c, i) => (BASE32[c.charCodeAt(0)] = i));
const BASE32HEX = new Int8Array(256).fill(-1);
"0123456789ABCDEFGHIJKLMNOPQRSTUV".split("").forEach((c, i) => (BASE32HEX[c.charCodeAt(0)] = i));
/** b85encode's alphabet (git's), -1 for others. */
const BASE85 = new Int8Array(256).fill(-1);
"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~".split("").forEach((c, i) => (BASE85[c.charCodeAt(0)] = i));
/** a85encode's digits are "!" to "u"; "z" stands for four zero bytes; "<~" may open it. */
const ASCII85_FIRST = 0x21;
const ASCII85_LAST = 0x75;
/** First characters an encoded payload can start with, in any of the encodings. */
const ENCODED_START = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  if (BASE64[c]! >= 0 || BASE32[c]! >= 0 || BASE32HEX[c]! >= 0 || BASE85[c]! >= 0 || (c >= ASCII85_FIRST && c <= ASCII85_LAST) || c === 0x7a) ENCODED_START[c] = 1;
}
/** The decoded head of a probe, written in place: the rejection path allocates nothing. */
const PROBE = new Uint8Array(PROBE_CHARS);

/**
 * Whether the first `n` decoded bytes of `head` begin a payload: a magic, a STOP (a reversed
 * pickle's first byte), or base64 (or hex) text again, a further layer of encoding (random text
 * almost never decodes to that).
 */
function payloadStart(head: Uint8Array, n: number, strict = false): boolean {
  const kind = magic((i) => (i < n ? head[i]! : -1));
  // Strictly, without the guesses a few bytes cannot back: a protocol 0/1 start, a reversed pickle's STOP.
  if (strict ? kind !== undefined && !protocolLess(kind, head[0]!) : head[0] === OP.STOP || kind !== undefined) return true;
  for (let i = 0; i < n; i++) {
    const c = head[i]!;
    if (BASE64[c]! < 0 && c !== 0x3d && !isSpace(c)) return false;
  }
  return true;
}

/** Whether the `n` bytes a probe decoded into PROBE may begin a payload, raw deflate included (too few bytes to refute one is a yes). */
function probedPayload(n: number): boolean {
  return payloadStart(PROBE, n) || deflateStart(probeAt, n, false);
}

const probeAt: At = (i) => (i < PROBE.length ? PROBE[i]! : -1);

/** Characters of encoded text decoded to tell raw deflate from noise when a probe's few bytes cannot (a multiple of every encoding's group). */
const DEFLATE_TEXT_HEAD = 1000;

/**
 * Whether encoded text whose probe decoded `n` bytes may be raw deflate of a payload: the probe
 * first, then, as a probe's bytes rarely get through a deflate stream's code tables, the decoded
 * start of the text. A start that does not decode alone (whitespace splitting a group) is a yes.
 */
function deflateInText(n: number, length: number, text: () => string, decode: (s: string) => Uint8Array | undefined): boolean {
  if (!deflateStart(probeAt, n, false)) return false;
  if (length <= n) return true;
  const head = decode(text().slice(0, DEFLATE_TEXT_HEAD));
  return !head || deflateStart((i) => (i < head.length ? head[i]! : -1), head.length, length <= DEFLATE_TEXT_HEAD);
}

/** The start of a raw deflate stream (`zlib.decompress(x, -15)`), decoded into INFLATED. */
const INFLATED = new Uint8Array(PROBE_CHARS);

/**
 * Whether the data can be a raw deflate stream (no header to tell) whose output begins a payload
 * (MIN_PICKLE bytes at least). `whole`: `length` bytes are all the data; otherwise only its start,
 * and a start too short to decide is a yes.
 */
function deflateStart(at: At, length: number, whole: boolean): boolean {
  const b0 = at(0);
  // Block type 3 is reserved: three data bytes in four get past this, so the decode below must stay cheap.
  if (b0 < 0 || b0 > 255 || (b0 & 6) === 6) return false;
  const n = inflateHead(at, length, INFLATED);
  if (n === INPUT_ENDED) return !whole;
  return n === INFLATED.length && payloadStart(INFLATED, n);
}

/** The magic of the data read backwards (`loads(x[::-1])`), when it has one. */
function reversedMagic(at: At, length: number): Kind | undefined {
  return magic((i) => (i < length ? at(length - 1 - i) : -1));
}

/** Whether magic's "pickle" is only a protocol 0/1 guess (no PROTO opcode): one text byte in many starts like one. */
function protocolLess(kind: Kind, b0: number): boolean {
  return kind === "pickle" && b0 !== OP.PROTO;
}

function hasByte(buf: Uint8Array, start: number, length: number, byte: number): boolean {
  for (let i = start, end = start + length; i < end; i++) if (buf[i] === byte) return true;
  return false;
}

/** ASCII whitespace (bytes.isspace): what bytes.fromhex skips between pairs, and what b64decode (validate=False) discards among the rest. */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/**
 * Decodes the first `chars` characters of an alphabet of `width` bits per character (base64's 6,
 * base32's 5) into PROBE, whitespace skipped when `spaces`; 0 on any other character.
 */
function probeBits(at: At, alphabet: Int8Array, width: number, chars: number, spaces: boolean): number {
  let bits = 0;
  let nbits = 0;
  let n = 0;
  for (let i = 0, read = 0; read < chars; i++) {
    const c = at(i);
    if (c < 0 || c > 255) return 0;
    if (spaces && isSpace(c)) continue;
    const v = alphabet[c]!;
    if (v < 0) return 0;
    read++;
    bits = ((bits << width) | v) & 0xffffff;
    nbits += width;
    if (nbits >= 8) {
      nbits -= 8;
      PROBE[n++] = (bits >> nbits) & 0xff;
    }
  }
  return n;
}

/** The first PROBE_CHARS base64 characters (whitespace skipped, as b64decode skips it). */
function probeBase64(at: At): number {
  return probeBits(at, BASE64, 6, PROBE_CHARS, true);
}

/** Decodes the first PROBE_CHARS hex digits into PROBE (whitespace between pairs skipped, as decodeHex does); 0 on any other character. */
function probeHex(at: At): number {
  // bytes.fromhex skips whitespace between pairs ("80 04 63 ..."), not inside one.
  for (let i = 0, j = 0; i < PROBE_CHARS >> 1; i++, j += 2) {
    while (isSpace(at(j))) j++;
    const hi = at(j);
    const lo = at(j + 1);
    const h = hi < 0 || hi > 255 ? -1 : HEX[hi]!;
    const l = lo < 0 || lo > 255 ? -1 : HEX[lo]!;
    if (h < 0 || l < 0) return 0;
    PROBE[i] = (h << 4) | l;
  }
  return PROBE_CHARS >> 1;
}

/** The whole text as base64 (both alphabets, whitespace skipped), or undefined if other characters appear (then it is text, not an encoding). */
function decodeBase64(s: string): Uint8Array | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c > 255 || BASE64[c]! < 0) && c !== 0x3d && !isSpace(c)) return undefined;
  }
  return Buffer.from(s, "base64");
}

/** bytes.fromhex: pairs of hex digits, whitespace between pairs (not inside one) allowed; undefined where CPython raises. */
export function decodeHex(s: string): Uint8Array | undefined {
  const out = new Uint8Array(s.length >> 1);
  let n = 0;
  for (let i = 0; i < s.length; ) {
    const c = s.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const d = s.charCodeAt(i + 1);
    const h = c > 255 ? -1 : HEX[c]!;
    const l = d > 255 || Number.isNaN(d) ? -1 : HEX[d]!;
    if (h < 0 || l < 0) return undefined;
    out[n++] = (h << 4) | l;
    i += 2;
  }
  return out.subarray(0, n);
}

/** b32decode (or b32hexdecode): groups of 8 characters of `alphabet`, "=" padding at the end; undefined on anything else. */
function decodeBase32With(alphabet: Int8Array, s: string): Uint8Array | undefined {
  const body = s.replace(/=+$/, "");
  if (s.length % 8 !== 0) return undefined;
  const out = new Uint8Array(Math.floor((body.length * 5) / 8));
  let bits = 0;
  let nbits = 0;
  let n = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    const v = c > 255 ? -1 : alphabet[c]!;
    if (v < 0) return undefined;
    bits = ((bits << 5) | v) & 0xffff;
    nbits += 5;
    if (nbits >= 8) {
      nbits -= 8;
      out[n++] = (bits >> nbits) & 0xff;
    }
  }
  return out.subarray(0, n);
}

/** A group's base-85 value (up to 85**5, within a double) as four bytes, big-endian, into `into` at `at`. */
function put85(value: number, into: Uint8Array, at: number): void {
  let v = value;
  for (let k = 3; k >= 0; k--) {
    into[at + k] = v % 256;
    v = Math.floor(v / 256);
  }
}

function group85(digits: readonly number[], into: Uint8Array, at: number): void {
  let v = 0;
  for (const d of digits) v = v * 85 + d;
  put85(v, into, at);
}

/** Decodes the first 15 b85 characters (12 bytes) into PROBE; 0 on any other character. */
function probeBase85(at: At): number {
  let v = 0;
  for (let i = 0; i < 15; i++) {
    const c = at(i);
    const d = c < 0 || c > 255 ? -1 : BASE85[c]!;
    if (d < 0) return 0;
    v = v * 85 + d;
    if (i % 5 === 4) {
      put85(v, PROBE, ((i + 1) / 5 - 1) * 4);
      v = 0;
    }
  }
  return 12;
}

/** b85decode: groups of 5 characters, the last one padded with "~"; undefined on anything else. */
function decodeBase85(s: string): Uint8Array | undefined {
  const padding = (5 - (s.length % 5)) % 5;
  const out = new Uint8Array(((s.length + padding) / 5) * 4);
  for (let g = 0; g < s.length; g += 5) {
    const digits: number[] = [];
    for (let i = g; i < g + 5; i++) {
      const c = i < s.length ? s.charCodeAt(i) : 0x7e;
      const v = c > 255 ? -1 : BASE85[c]!;
      if (v < 0) return undefined;
      digits.push(v);
    }
    group85(digits, out, (g / 5) * 4);
  }
  return out.subarray(0, out.length - padding);
}

/** Ascii85 digits of `s` (after an optional "<~", before an optional "~>"), whitespace skipped, "z" for four zero bytes, as a85decode reads them. */
function ascii85Bytes(s: string, limit: number): Uint8Array | undefined {
  const body = s.startsWith("<~") ? s.slice(2).replace(/~>\s*$/, "") : s;
  const out: number[] = [];
  let digits: number[] = [];
  for (let i = 0; i < body.length && out.length < limit; i++) {
    const c = body.charCodeAt(i);
    if (isSpace(c) || c === 0x0b) continue;
    if (c === 0x7a && digits.length === 0) out.push(0, 0, 0, 0);
    else if (c >= ASCII85_FIRST && c <= ASCII85_LAST) {
      digits.push(c - ASCII85_FIRST);
      if (digits.length === 5) {
        const group = new Uint8Array(4);
        group85(digits, group, 0);
        out.push(...group);
        digits = [];
      }
    } else return undefined;
  }
  if (digits.length === 1) return undefined;
  if (digits.length > 1) {
    const kept = digits.length - 1;
    while (digits.length < 5) digits.push(84);
    const group = new Uint8Array(4);
    group85(digits, group, 0);
    out.push(...group.subarray(0, kept));
  }
  return Uint8Array.from(out);
}

/** Decodes the first Ascii85 characters (12 bytes' worth, after an optional "<~") into PROBE; 0 if they are not Ascii85. */
function probeAscii85(at: At): number {
  let n = 0;
  let v = 0;
  let digits = 0;
  for (let i = at(0) === 0x3c && at(1) === 0x7e ? 2 : 0; n < PROBE_CHARS && i < 64; i++) {
    const c = at(i);
    if (c < 0) return 0;
    if (isSpace(c) || c === 0x0b) continue;
    if (c === 0x7a && digits === 0) {
      put85(0, PROBE, n);
      n += 4;
    } else if (c >= ASCII85_FIRST && c <= ASCII85_LAST) {
      v = v * 85 + (c - ASCII85_FIRST);
      if (++digits === 5) {
        put85(v, PROBE, n);
        n += 4;
        v = 0;
        digits = 0;
      }
    } else return 0;
  }
  return n >= PROBE_CHARS ? PROBE_CHARS : 0;
}

interface TextEncoding {
  name: string;
  /** Decodes the text's first characters into PROBE; the bytes decoded, or 0 when they are not of this encoding. */
  probe(at: At): number;
  /** The whole text decoded, or undefined when it is not of this encoding. */
  decode(s: string): Uint8Array | undefined;
}

/** Text encodings undone, in the order tried (hex first: its digits are every other alphabet's too). */
const TEXT_ENCODINGS: readonly TextEncoding[] = [
  { name: "hex", probe: probeHex, decode: decodeHex },
  { name: "base64", probe: probeBase64, decode: decodeBase64 },
  // 16 base32 characters are 10 bytes; b32decode takes no whitespace.
  { name: "base32", probe: (at) => probeBits(at, BASE32, 5, 16, false), decode: (s) => decodeBase32With(BASE32, s) },
  { name: "base32hex", probe: (at) => probeBits(at, BASE32HEX, 5, 16, false), decode: (s) => decodeBase32With(BASE32HEX, s) },
  { name: "base85", probe: probeBase85, decode: decodeBase85 },
  { name: "ascii85", probe: probeAscii85, decode: (s) => ascii85Bytes(s, Infinity) },
];

// ---- structural check

const LINE_OPS = new Set<number>([OP.INT, OP.LONG, OP.FLOAT, OP.STRING, OP.UNICODE, OP.GET, OP.PUT, OP.PERSID]);

/**
 * Walks opcodes by their operand shapes (no semantics) until STOP. A PROTO 2–5 start is a pickle
 * once a few opcodes walk; a protocol 0/1 stream must walk to a STOP (what follows it, pickle.loads
 * ignores) past an import, without which such a payload does nothing (text rarely walks that far).
 */
function walksLikePickle(b: Uint8Array): boolean {
  const protocolled = b[0] === OP.PROTO;
  let pos = 0;
  let ops = 0;
  let imports = false;
  while (pos < b.length) {
    const op = b[pos++]!;
    if (!isOpcode(op)) return false;
    ops++;
    // Stopping short, a stream must have imported: PROTO and STOP alone (three bytes of noise in
    // sixteen million, at any of a constant's first offsets) do nothing a loader would regret.
    if (op === OP.STOP) return ops > 1 && imports;
    // (Protocol 4's import: noise without PROTO that meets its byte is not taken for one.)
    if (op === OP.STACK_GLOBAL && protocolled) imports = true;
    if (op === OP.GLOBAL || op === OP.INST) {
      imports = true;
      const first = b.indexOf(0x0a, pos);
      const second = first < 0 ? -1 : b.indexOf(0x0a, first + 1);
      if (second < 0) return false;
      pos = second + 1;
    } else if (LINE_OPS.has(op)) {
      const nl = b.indexOf(0x0a, pos);
      if (nl < 0) return false;
      pos = nl + 1;
    } else if (LENGTH_PREFIXED.has(op)) {
      const width = OPERAND_BYTES[op]!;
      if (pos + width > b.length) return false;
      let len = 0;
      for (let i = width - 1; i >= 0; i--) len = len * 256 + b[pos + i]!;
      pos += width + len;
    } else {
      pos += OPERAND_BYTES[op]!;
    }
    // A protocol 2+ stream that walks this far is a pickle even if it is cut short later (loaders run the prefix).
    if (protocolled && ops >= 8) return true;
  }
  return false;
}
