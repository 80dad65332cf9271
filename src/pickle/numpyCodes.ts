/**
 * NumPy's spellings of a fixed-size scalar type, as `numpy.dtype(text)` reads them: a kind and a
 * width ("i8", ">u4"), a one-letter type code ("q", "l", "d"), or a type's name ("int64", "intc").
 * The checks that read a pickled array's or scalar's bytes need the kind, width and byte order;
 * a spelling this table misses must count as unreadable, never as "not an integer" (red team round
 * 37: a scalar of dtype "q" or "int64" passed as a size, a sparse index array of dtype "int32").
 */

/** A fixed-size scalar type: kind (b bool, i signed, u unsigned, f float, c complex), width in bytes, byte order. */
export interface NumpyCode {
  kind: "b" | "i" | "u" | "f" | "c";
  size: number;
  bigEndian: boolean;
}

/** One-letter type codes of x86-64 Linux, where models are loaded ("l" and "p" are 8 bytes there). */
const CHAR_CODES: Readonly<Record<string, [NumpyCode["kind"], number]>> = {
  "?": ["b", 1], b: ["i", 1], B: ["u", 1], h: ["i", 2], H: ["u", 2], i: ["i", 4], I: ["u", 4],
  l: ["i", 8], L: ["u", 8], q: ["i", 8], Q: ["u", 8], p: ["i", 8], P: ["u", 8], n: ["i", 8], N: ["u", 8],
  e: ["f", 2], f: ["f", 4], d: ["f", 8], g: ["f", 16], F: ["c", 8], D: ["c", 16], G: ["c", 32],
};

const NAMES: Readonly<Record<string, [NumpyCode["kind"], number]>> = {
  bool: ["b", 1], bool_: ["b", 1], int8: ["i", 1], int16: ["i", 2], int32: ["i", 4], int64: ["i", 8],
  uint8: ["u", 1], uint16: ["u", 2], uint32: ["u", 4], uint64: ["u", 8], byte: ["i", 1], ubyte: ["u", 1],
  short: ["i", 2], ushort: ["u", 2], intc: ["i", 4], uintc: ["u", 4], int: ["i", 8], int_: ["i", 8], intp: ["i", 8],
  uint: ["u", 8], uintp: ["u", 8], long: ["i", 8], ulong: ["u", 8], longlong: ["i", 8], ulonglong: ["u", 8],
  float16: ["f", 2], float32: ["f", 4], float64: ["f", 8], half: ["f", 2], single: ["f", 4], double: ["f", 8],
  float: ["f", 8], float_: ["f", 8], longdouble: ["f", 16], complex64: ["c", 8], complex128: ["c", 16], complex: ["c", 16],
  complex_: ["c", 16], csingle: ["c", 8], cdouble: ["c", 16], clongdouble: ["c", 32],
};

const KIND_SIZE = /^([biufc])(\d{1,2})$/;

/** The scalar type a dtype text names, or undefined (a string, date, object, structured or subarray type, or a spelling not read). */
export function numpyCode(text: string): NumpyCode | undefined {
  const order = text[0];
  const bigEndian = order === ">" || order === "!";
  const body = order === "<" || order === ">" || order === "=" || order === "|" || order === "!" ? text.slice(1) : text;
  const m = KIND_SIZE.exec(body);
  if (m) return { kind: m[1] as NumpyCode["kind"], size: Number(m[2]), bigEndian };
  const table = body.length === 1 ? CHAR_CODES : NAMES;
  const found = Object.hasOwn(table, body) ? table[body] : undefined;
  if (!found) return undefined;
  return { kind: found[0], size: found[1], bigEndian };
}
