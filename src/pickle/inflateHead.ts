/**
 * The first bytes of a raw DEFLATE stream (RFC 1951, no zlib or gzip header: what
 * `zlib.decompress(x, -15)` reads), decoded without allocating. A raw stream has no magic, so
 * dormant.ts asks this of bytes constants to learn whether they could inflate to a pickle; only a
 * start that does is then inflated for real, within bounds. Decoding stops once the output is full,
 * at the end of the input, or on the first thing a decoder would refuse (a reserved block type, a
 * stored block whose length check fails, an over-subscribed code, a back-reference before the start).
 * Where it is unsure it accepts: the real inflate decides.
 */

/** Reads byte i of the data, -1 past its end. */
export type ByteAt = (i: number) => number;

const MAX_BITS = 15;
const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DISTANCE_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DISTANCE_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
/** The order in which a dynamic block lists its code-length code's lengths. */
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/** A canonical Huffman code: how many codes of each length, and the symbols ordered by code. */
interface Code {
  count: Int16Array;
  symbol: Int16Array;
}

const newCode = (symbols: number): Code => ({ count: new Int16Array(MAX_BITS + 1), symbol: new Int16Array(symbols) });
const lengthCode = newCode(288);
const distanceCode = newCode(32);
const codeLengthCode = newCode(19);
const fixedLength = newCode(288);
const fixedDistance = newCode(32);
const lengths = new Uint8Array(288 + 32);
const offsets = new Int16Array(MAX_BITS + 1);

/**
 * Builds `code` from the lengths at lengths[from, from + n). False where zlib's inflate refuses the
 * lengths: when they over-subscribe, or leave codes unused (except a lone one-bit code, which a
 * literal/length or distance code may be; a code-length code never).
 */
function build(code: Code, from: number, n: number, codeLengths = false): boolean {
  code.count.fill(0);
  for (let s = 0; s < n; s++) code.count[lengths[from + s]!]!++;
  if (code.count[0] === n) return true;
  let left = 1;
  let longest = 0;
  for (let len = 1; len <= MAX_BITS; len++) {
    left = left * 2 - code.count[len]!;
    if (left < 0) return false;
    if (code.count[len]! > 0) longest = len;
  }
  if (left > 0 && (codeLengths || longest !== 1)) return false;
  offsets[1] = 0;
  for (let len = 1; len < MAX_BITS; len++) offsets[len + 1] = offsets[len]! + code.count[len]!;
  for (let s = 0; s < n; s++) if (lengths[from + s] !== 0) code.symbol[offsets[lengths[from + s]!]!++] = s;
  return true;
}

{
  for (let s = 0; s < 288; s++) lengths[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
  build(fixedLength, 0, 288);
  // 32 five-bit codes, as zlib builds them: 30 and 31 are decoded, then refused.
  lengths.fill(5, 0, 32);
  build(fixedDistance, 0, 32);
}

/** inflateHead's answer when the input ran out before the output filled or the data was refuted. */
export const INPUT_ENDED = -1;
const NO_INPUT: ByteAt = () => -1;

/** Decoder state: the input and the bit reader's position (module-level, so that a probe allocates nothing). */
let input: ByteAt = NO_INPUT;
let inputLength = 0;
let pos = 0;
let bitBuffer = 0;
let bitCount = 0;
/** Whether the decoder wanted a byte past the end of the input. */
let exhausted = false;

/** The next `n` bits (n ≤ 16), least significant first; -1 past the end of the input. */
function bits(n: number): number {
  while (bitCount < n) {
    if (pos >= inputLength) {
      exhausted = true;
      return -1;
    }
    bitBuffer |= input(pos++) << bitCount;
    bitCount += 8;
  }
  const value = bitBuffer & ((1 << n) - 1);
  bitBuffer >>>= n;
  bitCount -= n;
  return value;
}

/** The next symbol of `code`; -1 at the end of the input or when no code of up to 15 bits matches. */
function decode(code: Code): number {
  let value = 0;
  let first = 0;
  let index = 0;
  for (let len = 1; len <= MAX_BITS; len++) {
    const bit = bits(1);
    if (bit < 0) return -1;
    value |= bit;
    const count = code.count[len]!;
    if (value - count < first) return code.symbol[index + (value - first)]!;
    index += count;
    first = (first + count) * 2;
    value *= 2;
  }
  return -1;
}

/** Reads a dynamic block's header into lengthCode and distanceCode; false when it cannot be one. */
function dynamicCodes(): boolean {
  const nlen = bits(5) + 257;
  const ndist = bits(5) + 1;
  const ncode = bits(4) + 4;
  if (ncode < 4 || nlen > 286 || ndist > 30) return false;
  lengths.fill(0, 0, 19);
  for (let i = 0; i < ncode; i++) {
    const len = bits(3);
    if (len < 0) return false;
    lengths[CODE_LENGTH_ORDER[i]!] = len;
  }
  if (!build(codeLengthCode, 0, 19, true)) return false;
  for (let i = 0; i < nlen + ndist; ) {
    const symbol = decode(codeLengthCode);
    if (symbol < 0) return false;
    if (symbol < 16) {
      lengths[i++] = symbol;
      continue;
    }
    let repeat: number;
    let value = 0;
    if (symbol === 16) {
      if (i === 0) return false;
      value = lengths[i - 1]!;
      repeat = 3 + bits(2);
    } else repeat = symbol === 17 ? 3 + bits(3) : 11 + bits(7);
    if (repeat < 3 || i + repeat > nlen + ndist) return false;
    while (repeat-- > 0) lengths[i++] = value;
  }
  // A block must be able to end.
  if (lengths[256] === 0) return false;
  if (!build(lengthCode, 0, nlen)) return false;
  // lengths[nlen …] are the distance code's: copied down so that build reads them from 0.
  lengths.copyWithin(0, nlen, nlen + ndist);
  return build(distanceCode, 0, ndist);
}

/**
 * Decodes the start of the raw DEFLATE stream `at` (of `length` bytes) into `out`, up to its length.
 * Returns the bytes decoded (fewer than out.length when the stream ends first), 0 when the data
 * cannot begin a stream, or INPUT_ENDED when the input ran out before either was clear (`length`
 * was only the data's first bytes, or the data is a stream's truncated start).
 */
export function inflateHead(at: ByteAt, length: number, out: Uint8Array): number {
  input = at;
  inputLength = length;
  pos = 0;
  bitBuffer = 0;
  bitCount = 0;
  exhausted = false;
  const n = decodeInto(out);
  input = NO_INPUT;
  // Any refusal after the input ran out may come from the bits that were missing.
  return exhausted && n < out.length ? INPUT_ENDED : n;
}

/** Decodes blocks into `out` until it is full or the stream ends; 0 on data no decoder accepts. */
function decodeInto(out: Uint8Array): number {
  let n = 0;
  for (let last = 0; last === 0 && n < out.length; ) {
    last = bits(1);
    const type = bits(2);
    if (type < 0) return n;
    if (type === 3) return 0;
    if (type === 0) {
      bitBuffer = 0;
      bitCount = 0;
      if (pos + 4 > inputLength) {
        exhausted = true;
        return n;
      }
      const len = input(pos) | (input(pos + 1) << 8);
      const check = input(pos + 2) | (input(pos + 3) << 8);
      if ((len ^ 0xffff) !== check) return 0;
      pos += 4;
      for (let i = 0; i < len && n < out.length; i++) {
        if (pos >= inputLength) {
          exhausted = true;
          return n;
        }
        out[n++] = input(pos++);
      }
      continue;
    }
    const lit = type === 1 ? fixedLength : dynamicCodes() ? lengthCode : undefined;
    if (!lit) return 0;
    const dist = type === 1 ? fixedDistance : distanceCode;
    for (;;) {
      const symbol = decode(lit);
      if (symbol < 0) return n;
      if (symbol < 256) {
        out[n++] = symbol;
        if (n === out.length) return n;
        continue;
      }
      if (symbol === 256) break;
      if (symbol > 285) return 0;
      const length = LENGTH_BASE[symbol - 257]! + bits(LENGTH_EXTRA[symbol - 257]!);
      const d = decode(dist);
      if (d < 0) return n;
      if (d > 29) return 0;
      const distance = DISTANCE_BASE[d]! + bits(DISTANCE_EXTRA[d]!);
      if (distance > n) return 0;
      for (let i = 0; i < length && n < out.length; i++, n++) out[n] = out[n - distance]!;
      if (n === out.length) return n;
    }
  }
  return n;
}
