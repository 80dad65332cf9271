/**
 * Sizes of values made at load time, for the allocation bounds (MG109). A bound that reads only
 * literals is passed by a size computed from them: bytes(int("8000000000")), a str method fed the
 * output of another (replace, expandtabs: each under the bound, their product not), hex encoding
 * applied 33 times, int() of Decimal("1e2000000000"). These helpers fold what can be folded and say
 * "unknown" where a size is made by a call the scanner cannot evaluate.
 */
import { allowEntry } from "../rules/allowlist.js";
import { importedName } from "./judge.js";
import { INT_MAX_STR_DIGITS, latin1Bytes, parseInteger, trailingExponent } from "./literals.js";
import { numpyCode } from "./numpyCodes.js";
import { isSym, type CallResult, type Value } from "./values.js";

/** A size that a call makes at load and the scanner cannot compute. */
export const UNKNOWN_SIZE = -1;

/**
 * The largest power of ten a number's text may ask for: Fraction("1e30000000") computes
 * 10**30000000 as it parses (some 40 s of CPU), and int() or Fraction() of such a Decimal as it
 * converts. str() of a Fraction never writes an exponent, nor does a Decimal's of ordinary size.
 */
const MAX_TEN_EXPONENT = 10_000;

/**
 * The integer a value stands for when it is a size: a literal, int() of a literal, or a NumPy integer
 * scalar; UNKNOWN_SIZE for a call that makes an int the scanner cannot compute (int() of something
 * else, hash, len, arithmetic in operator or math, a builtin type's method getattr fetched);
 * undefined for what is not a size (data: a str, a list, bytes, None, an object another call made).
 * `indexables` false leaves out objects that convert with __index__ (an enum, a 0-d array, a tensor),
 * where a value is handed on as data, not read as an integer.
 */
export function sizeValue(v: Value | undefined, indexables = true): number | undefined {
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "number") return Number.isInteger(v) ? v : undefined;
  if (!isSym(v) || v.t !== "call" || !isSym(v.args) || v.args.t !== "tuple") return undefined;
  const fn = v.fn;
  const args = v.args.items;
  // A callable made at load (a method getattr fetched, type(0)) may return an int the scanner cannot compute.
  if (isSym(fn) && fn.t === "call") return UNKNOWN_SIZE;
  if (!isSym(fn) || fn.t !== "global") return undefined;
  const name = importedName(fn);
  if (name === "builtins.int" && args.length === 1) {
    const [a] = args;
    const n = typeof a === "string" && a.length <= INT_MAX_STR_DIGITS ? parseInteger(a, 10) : undefined;
    if (n !== undefined) return Number(n);
    if (typeof a === "number" && Number.isFinite(a)) return Math.trunc(a);
    if (typeof a === "bigint") return Number(a);
  }
  if (SCALAR_MAKERS.has(name)) return numpyInteger(args, indexables);
  // What converts with __index__ is a size whatever made it (red team round 36): an IntFlag keeps any
  // value (re.RegexFlag(6000000000)), NumPy's integer types and big-integer types hold one, and a 0-d
  // NumPy array or one-element torch tensor holds one in data the scanner does not read.
  if (!indexables) return INT_MAKERS.has(name) || INT_MAKER_MODULES.has(fn.module) ? UNKNOWN_SIZE : undefined;
  const enumClass = allowEntry(name)?.kind === "enum";
  if (INDEX_TYPES.has(name) || enumClass) {
    // An enum looked up by its name's text is no integer; one called with a number keeps it (an IntFlag any number).
    if (enumClass && typeof args[0] === "string") return undefined;
    return literalInteger(args[0]) ?? UNKNOWN_SIZE;
  }
  if (ARRAY_MAKERS.has(name) || name.startsWith("torch._utils._rebuild_") || name.startsWith("torch._tensor._rebuild_from_type") || name === "torch.nn.parameter.Parameter") return UNKNOWN_SIZE;
  return INT_MAKERS.has(name) || INT_MAKER_MODULES.has(fn.module) ? UNKNOWN_SIZE : undefined;
}

/** An integer literal, or the text of one (fmpz("6000000000")), as a number; undefined otherwise. */
function literalInteger(v: Value | undefined): number | undefined {
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "number") return Number.isInteger(v) ? v : undefined;
  if (typeof v !== "string" || v.length > INT_MAX_STR_DIGITS) return undefined;
  const n = parseInteger(v.trim(), 10);
  return n === undefined ? undefined : Number(n);
}

/** Classes whose instances hold an integer and convert with __index__ (NumPy's, python-flint's and ml_dtypes' integer types). */
const INDEX_TYPES: ReadonlySet<string> = new Set([
  ...["int8", "int16", "int32", "int64", "intc", "intp", "int_", "longlong", "uint8", "uint16", "uint32", "uint64", "uintc", "uintp", "ulonglong"].map((n) => `numpy.${n}`),
  "flint.types.fmpz.fmpz",
  ...["int1", "int2", "int4", "uint1", "uint2", "uint4"].map((n) => `ml_dtypes.${n}`),
]);
/** What makes a NumPy array, which converts with __index__ when it has one integer element. */
const ARRAY_MAKERS: ReadonlySet<string> = new Set([
  "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct", "numpy.ndarray", "numpy.matrix", "numpy.array", "numpy.asarray",
  "numpy.frombuffer", "numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer", "numpy.ma.core._mareconstruct", "numpy.ma.core.MaskedArray",
]);
/** Dtype texts of scalars with no __index__: booleans, floats and complex numbers, dates, texts, bytes, objects and records. */
const NOT_INDEX = /^[<>|=!]?(?:[?fdgeFDGcSUaVOMm]|[fcbSUVMm]\d*|bool_?|float\d*|complex\d*|half|single|double|longdouble|str_?|bytes_?|object_?|datetime64|timedelta64|void)(?:\[\w+\])?$/;

/** Callables whose result may be an int made from what they are given. */
const INT_MAKERS: ReadonlySet<string> = new Set(
  ["int", "hash", "len", "round", "abs", "pow", "sum", "max", "min", "ord", "divmod"].map((n) => `builtins.${n}`).concat("functools.reduce"),
);
const INT_MAKER_MODULES: ReadonlySet<string> = new Set(["operator", "_operator", "math"]);
/** How NumPy pickles a scalar: scalar(dtype, bytes). */
const SCALAR_MAKERS: ReadonlySet<string> = new Set(["numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar"]);
/** A numeric NumPy scalar as pickled: its dtype's kind, width and byte order, and its bytes when they can be read and are that wide. */
export interface NumpyScalar {
  kind: "i" | "u" | "f" | "c";
  width: number;
  bigEndian: boolean;
  bytes: Uint8Array | undefined;
}

/** The text a scalar's dtype was made from: scalar(dtype(text, …), bytes). */
function scalarCode(args: readonly Value[]): Value | undefined {
  const [dtype] = args;
  return isSym(dtype) && dtype.t === "call" && isSym(dtype.args) && dtype.args.t === "tuple" ? dtype.args.items[0] : undefined;
}

/** scalar(dtype, bytes)'s arguments read as a numeric scalar; undefined for other dtypes (a bool, a date, a str) and spellings not read. */
export function numpyScalar(args: readonly Value[]): NumpyScalar | undefined {
  const text = scalarCode(args);
  const code = typeof text === "string" ? numpyCode(text) : undefined;
  if (!code || code.kind === "b") return undefined;
  const bytes = scalarBytes(args[1]);
  return { kind: code.kind, width: code.size, bigEndian: code.bigEndian, bytes: bytes?.length === code.size ? bytes : undefined };
}

/** An integer scalar's value, in its dtype's byte order. */
export function scalarInteger(s: NumpyScalar & { bytes: Uint8Array }): bigint {
  let n = 0n;
  for (let i = 0; i < s.width; i++) n = (n << 8n) | BigInt(s.bytes[s.bigEndian ? i : s.width - 1 - i]!);
  return s.kind === "i" ? BigInt.asIntN(s.width * 8, n) : n;
}

/** A NumPy integer scalar's value; UNKNOWN_SIZE when its bytes cannot be read, undefined for other scalars (not a size). */
function numpyInteger(args: readonly Value[], eitherOrder: boolean): number | undefined {
  const s = numpyScalar(args);
  // A dtype made at load time, or spelt in a way not read, may be an integer's (red team round 37: "q", "int64").
  if (!s) {
    const code = scalarCode(args);
    return typeof code === "string" && NOT_INDEX.test(code) ? undefined : UNKNOWN_SIZE;
  }
  if ((s.kind !== "i" && s.kind !== "u") || ![1, 2, 4, 8].includes(s.width)) return undefined;
  if (s.bytes === undefined) return UNKNOWN_SIZE;
  // A BUILD on the dtype may set its byte order whatever its text says (red team round 38: 'i8' made
  // big-endian, 4.29e9 where the text reads 16.7M): where the value is read as a size, the larger reading
  // bounds either; where it is handed on as data, it is read as written.
  const bytes = s.bytes;
  const read = Number(scalarInteger({ ...s, bytes }));
  return eitherOrder ? Math.max(read, Number(scalarInteger({ ...s, bytes, bigEndian: !s.bigEndian }))) : read;
}

/**
 * A NumPy scalar's bytes as its pickle holds them: a bytes constant (protocol 3 on), or at protocol 2
 * `_codecs.encode(text, "latin1")` of their latin-1 text; undefined for anything else.
 */
function scalarBytes(data: Value | undefined): Uint8Array | undefined {
  if (isSym(data) && data.t === "bytes") return data.data;
  if (typeof data === "string") return latin1Bytes(data);
  if (!isSym(data) || data.t !== "call" || !isSym(data.fn) || data.fn.t !== "global" || importedName(data.fn) !== "_codecs.encode") return undefined;
  if (!isSym(data.args) || data.args.t !== "tuple") return undefined;
  const [text, codec] = data.args.items;
  return typeof text === "string" && typeof codec === "string" && (codec === "latin1" || codec === "latin-1") ? latin1Bytes(text) : undefined;
}

/** The builtin type a getattr call fetches a method of (`getattr(str, "count")`), or undefined. */
export function fetchedFrom(fn: CallResult): string | undefined {
  if (!isSym(fn.fn) || fn.fn.t !== "global" || importedName(fn.fn) !== "builtins.getattr" || !isSym(fn.args) || fn.args.t !== "tuple") return undefined;
  const [owner, name] = fn.args.items;
  if (typeof name !== "string") return undefined;
  // A method bound to a constant (" ".join) is its type's.
  if (typeof owner === "string") return "builtins.str";
  if (isSym(owner) && owner.t === "bytes") return "builtins.bytes";
  if (!isSym(owner) || owner.t !== "global") return undefined;
  const type = importedName(owner);
  return type.startsWith("builtins.") ? type : undefined;
}

/** The constant a fetched method is bound to (`" ".join`'s " "), which the call reads as its first argument. */
export function receiverOf(c: CallResult): Value[] {
  const fn = c.fn;
  if (!isSym(fn) || fn.t !== "call" || !isSym(fn.args) || fn.args.t !== "tuple") return [];
  const owner = fn.args.items[0];
  return typeof owner === "string" || (isSym(owner) && owner.t === "bytes") ? [owner] : [];
}

/**
 * codecs.lookup's name for `name` (its C half lower-cases ASCII letters; the encodings package's
 * normalize_encoding then keeps ASCII letters, digits and dots, writes one "_" for each run of
 * anything else between them, and drops the rest: "punycode-" and "idna\u00e9" are punycode and idna).
 */
export function codecName(name: string): string {
  let out = "";
  let gap = false;
  for (const c of name.replace(/[A-Z]+/g, (upper) => upper.toLowerCase())) {
    if (/^[\p{L}\p{N}.]$/u.test(c)) {
      if (gap && out !== "") out += "_";
      if (c.charCodeAt(0) < 0x80) out += c;
      gap = false;
    } else gap = true;
  }
  return out;
}

/** Most bytes (or characters) an encoding writes per unit of its input; codecs not named here count 10 (unicode_escape's \U0001f600). */
const CODEC_GROWTH: ReadonlyMap<string, number> = new Map([
  ...["latin1", "latin_1", "iso8859_1", "iso_8859_1", "l1", "ascii", "us_ascii", "rot13", "rot_13", "zlib", "zlib_codec", "zip", "bz2", "bz2_codec"].map((c) => [c, 1] as const),
  ...["hex", "hex_codec"].map((c) => [c, 2] as const),
  ...["base64", "base_64", "base64_codec", "uu", "uu_codec", "quopri", "quopri_codec", "quotedprintable", "quoted_printable"].map((c) => [c, 3] as const),
  ...["utf8", "utf_8", "u8", "utf", "utf_16", "utf16", "u16", "utf_32", "utf32", "u32"].map((c) => [c, 4] as const),
]);
const DEFAULT_CODEC_GROWTH = 10;

/** Builtin str and bytes methods whose result can be far longer than their inputs. */
const AMPLIFYING_METHODS: ReadonlySet<string> = new Set(["center", "expandtabs", "join", "ljust", "replace", "rjust", "translate", "zfill", "hex"]);

/**
 * The builtin text method a call calls when its callee is `getattr(str, name)` (or bytes', bytearray's),
 * as the getattr convention lets a pickle fetch one; undefined for any other call.
 */
export function textMethod(c: CallResult): string | undefined {
  if (!isSym(c.fn) || c.fn.t !== "call") return undefined;
  const type = fetchedFrom(c.fn);
  const name = isSym(c.fn.args) && c.fn.args.t === "tuple" ? c.fn.args.items[1] : undefined;
  return (type === "builtins.str" || type === "builtins.bytes" || type === "builtins.bytearray") && typeof name === "string" ? name : undefined;
}

/**
 * About how many bytes or characters `v` holds, at most, when it is text: a literal's length;
 * _codecs.encode's input times what its codec can grow it by; a builtin text method's result, bounded
 * by the product of its arguments' lengths and numbers when the method can grow text, else by its
 * longest argument. 0 for what is not text.
 */
export function textSize(v: Value | undefined, depth = 40): number {
  if (typeof v === "string") return v.length;
  if (!isSym(v)) return 0;
  if (v.t === "bytes") return v.data.length;
  if (v.t === "bigstr" || v.t === "bigbytes") return v.len;
  if (v.t !== "call" || depth === 0 || !isSym(v.args) || v.args.t !== "tuple") return 0;
  const args = [...receiverOf(v), ...v.args.items];
  if (isSym(v.fn) && v.fn.t === "global" && importedName(v.fn) === "_codecs.encode") return encodedSize(args, depth - 1);
  const method = textMethod(v);
  if (method === undefined) return 0;
  if (method === "encode") return encodedSize(args, depth - 1);
  return AMPLIFYING_METHODS.has(method) ? argumentProduct(args, depth - 1) : Math.max(0, ...args.map((a) => textSize(a, depth - 1)));
}

/** The most _codecs.encode(text, codec) makes: the text's size times what the codec can grow it by. */
export function encodedSize(args: readonly Value[], depth = 40): number {
  const codec = typeof args[1] === "string" ? codecName(args[1]) : "utf_8";
  return textSize(args[0], depth) * (CODEC_GROWTH.get(codec) ?? DEFAULT_CODEC_GROWTH);
}

/** The product of the lengths and numbers among `args` (each at least 1): what a text method's result is bounded by. */
export function argumentProduct(args: readonly Value[], depth = 40): number {
  let product = 1;
  for (const a of args) {
    let n: number;
    if (typeof a === "number" || typeof a === "bigint") n = Math.abs(Number(a));
    else if (isSym(a) && (a.t === "list" || a.t === "tuple")) n = Math.max(a.t === "list" ? a.n : a.items.length, a.items.reduce((sum: number, x) => sum + textSize(x, depth), 0));
    else n = textSize(a, depth);
    product *= Math.max(1, n);
  }
  return product;
}

/**
 * The exponent of a Decimal made at load with one past MAX_TEN_EXPONENT (in magnitude), which
 * int(), Fraction(), round() and math.floor() expand into a power of ten; undefined for anything else.
 */
export function hugeDecimalExponent(v: Value | undefined): string | undefined {
  // Checked by bare name first: this runs for every argument of every call.
  if (!isSym(v) || v.t !== "call" || !isSym(v.fn) || v.fn.t !== "global" || v.fn.name !== "Decimal" || !isSym(v.args) || v.args.t !== "tuple") return undefined;
  const name = importedName(v.fn);
  if (name !== "decimal.Decimal" && name !== "_decimal.Decimal" && name !== "_pydecimal.Decimal") return undefined;
  const [text] = v.args.items;
  // Decimal((sign, digits, exponent)) is the tuple form of the same number.
  const exponent = typeof text === "string" ? trailingExponent(text) : isSym(text) && text.t === "tuple" ? decimalTupleExponent(text.items[2]) : undefined;
  return pastTenExponent(exponent) ? exponent : undefined;
}

/** Whether an exponent's text (digits, a sign, underscores) asks for a power of ten past MAX_TEN_EXPONENT. */
export function pastTenExponent(exponent: string | undefined): boolean {
  // Number() reads leading zeros and gives Infinity past a double's range: only the magnitude counts.
  return Number(exponent?.replace(/^[-+]|_/g, "") ?? "0") > MAX_TEN_EXPONENT;
}

/** Items a walk of a structure may visit before it counts as a bomb (comparing, printing or hashing it). */
export const MAX_WALKED_ITEMS = 100_000_000;

/**
 * How many items walking `v` visits when every shared sub-structure is walked again, as `==`, `repr`
 * and `hash` do: two lists that each hold the previous two, sixty-four levels deep, are 2**64 items
 * in a 1.5 kB pickle. Each distinct container is counted once (memoized), so this is linear in the
 * stream; a container that holds itself counts once (CPython stops there). Kept items stand for the
 * rest of a container (its count over its sample).
 */
export function walkedItems(v: Value | undefined, memo?: Map<object, number>): number {
  if (!isSym(v)) return 1;
  // list(x), tuple(x), torch.Size(x)…: a copy holds what x holds, shared parts and all. Any other
  // call, and anything but a container, is one item with nothing to remember (most items walked are).
  const copied = v.t === "call" && COPIES.has(calleeName(v)) && isSym(v.args) && v.args.t === "tuple" ? v.args.items[0] : undefined;
  const container = v.t === "tuple" || v.t === "list" || v.t === "dict" || v.t === "set";
  if (!container && copied === undefined) return 1;
  memo ??= new Map<object, number>();
  const known = memo.get(v);
  if (known !== undefined) return known;
  if (!container) {
    memo.set(v, 1);
    const walked = walkedItems(copied, memo);
    memo.set(v, walked);
    return walked;
  }
  memo.set(v, 1); // a cycle back to here counts as one
  const items = v.t === "dict" ? v.kv : v.items;
  const total = v.t === "tuple" ? items.length : v.t === "dict" ? 2 * v.n : v.n;
  let walked = 0;
  for (const x of items) walked = Math.min(walked + walkedItems(x, memo), Number.MAX_SAFE_INTEGER);
  const scaled = items.length === 0 ? 1 : Math.min(1 + walked * Math.max(1, total / items.length), Number.MAX_SAFE_INTEGER);
  memo.set(v, scaled);
  return scaled;
}

function decimalTupleExponent(v: Value | undefined): string | undefined {
  return typeof v === "number" || typeof v === "bigint" ? String(v) : undefined;
}

/** Constructors whose result holds the items of their first argument as they are. */
const COPIES: ReadonlySet<string> = new Set([
  ...["list", "tuple", "set", "frozenset", "dict"].map((n) => `builtins.${n}`),
  "collections.OrderedDict", "collections.deque", "torch.Size",
]);

function calleeName(c: CallResult): string {
  return isSym(c.fn) && c.fn.t === "global" ? importedName(c.fn) : "";
}
