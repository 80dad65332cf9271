/**
 * CPython's hash() of the values a pickle can make whose hash an attacker can predict: ints, floats,
 * bools, None, complex numbers, Decimals, Fractions, and tuples and frozensets of them. Numbers hash
 * to their value modulo the prime 2**61 - 1 (Python/pyhash.c, "numeric hashes"), tuples and
 * frozensets combine their items' hashes without a secret (Objects/tupleobject.c, setobject.c), so
 * many distinct values can be made to share one hash. str and bytes hashes are keyed per process
 * (SipHash), as are dates and times (they hash their bytes); everything else hashes by identity or is
 * not known here: undefined.
 *
 * Hashes are Py_uhash_t: unsigned 64-bit, as bigint.
 */
import { createHash } from "node:crypto";
import { importedName } from "./judge.js";
import { parseInteger } from "./literals.js";
import { numpyScalar, scalarInteger } from "./madeSizes.js";
import { isSym, type CallResult, type Sym, type Value } from "./values.js";

/** A value's hash and a text equal for values CPython calls equal (1, 1.0, True and Decimal("1") all read "1"). */
export interface HashedKey {
  hash: bigint;
  canon: string;
  /**
   * Items CPython reads to hash it, nested tuples included (1 when absent). A tuple is hashed anew
   * each time, so one that holds a shared tuple a thousand times over, nested, costs billions.
   */
  cost?: number;
}

const MODULUS = (1n << 61n) - 1n;
const INF = 314159n;
const IMAG = 1000003n;
const XXPRIME_1 = 11400714785074694791n;
const XXPRIME_2 = 14029467366897019727n;
const XXPRIME_5 = 2870177450012600261n;
/** None's hash since Python 3.12 (earlier, its address: not predictable). */
const NONE_HASH = 0xfca86420n;
/**
 * Nesting followed into tuples and frozensets. A deeper value hashes to TOO_DEEP, distinct values
 * apart: keys nested past it count as colliding (picklers never write such keys).
 */
const MAX_DEPTH = 64;
const TOO_DEEP = 0x6d6f64656c676174n;
/** Canonical texts longer than this are replaced by a digest (shared sub-tuples would otherwise grow them exponentially). */
const MAX_CANON = 256;
/** Costs are counted up to here (a safe integer, far past any bound). */
const MAX_COST = 2 ** 50;
/** Longest digit string parsed for an int, Decimal or Fraction (CPython's int() refuses past 4,300 digits). */
const MAX_DIGITS = 5_000;

const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);

/** hash() of `v` (with its canonical text), or undefined where it is keyed, by identity, or not modelled. */
export function pyHash(v: Value, depth = 0): HashedKey | undefined {
  switch (typeof v) {
    case "number":
      return Number.isInteger(v) ? intKey(BigInt(v)) : floatKey(v);
    case "bigint":
      return intKey(v);
    case "boolean":
      return { hash: v ? 1n : 0n, canon: v ? "1" : "0" };
    case "string":
      return undefined;
    default:
      if (v === null) return { hash: NONE_HASH, canon: "None" };
  }
  const known = hashed.get(v);
  if (known !== undefined) return known ?? undefined;
  if (depth >= MAX_DEPTH) return { hash: TOO_DEEP, canon: `deep ${identity(v)}` };
  let key: HashedKey | undefined;
  switch (v.t) {
    case "tuple":
      key = tupleKey(v.items, depth + 1);
      break;
    case "set":
      key = v.frozen && v.n === v.items.length ? frozensetKey(v.items, depth + 1) : undefined;
      break;
    case "call":
      key = numberMade(v, depth);
      break;
    default:
      key = undefined;
  }
  // Once per object here (a tuple memoized once may sit in every key); its cost says what CPython pays.
  hashed.set(v, key ?? null);
  return key;
}

const hashed = new WeakMap<Sym, HashedKey | null>();
const identities = new WeakMap<Sym, number>();
let lastIdentity = 0;

function identity(v: Sym): number {
  let id = identities.get(v);
  if (id === undefined) identities.set(v, (id = ++lastIdentity));
  return id;
}

function capped(canon: string): string {
  return canon.length <= MAX_CANON ? canon : `#${createHash("sha1").update(canon).digest("base64")}`;
}

/**
 * Whether `v` may share its hash with many other values: ints that fit a double never do (below
 * 2**61 each hashes to itself), floats rarely (a few dozen per hash at most), strs and objects not
 * predictably. A cheap screen run on every item put into a container.
 */
export function mayCollide(v: Value): boolean {
  if (typeof v === "bigint") return true;
  if (!isSym(v)) return false;
  if (v.t === "call") return calleeOf(v) !== undefined;
  return v.t === "tuple" || (v.t === "set" && v.frozen);
}

/** Names of the classes numberMade hashes the results of (their modules are checked there). */
const MADE_NUMBERS: ReadonlySet<string> = new Set([
  "int", "complex", "Decimal", "Fraction", "frozenset", "tuple", "Size", "range", "xrange", "scalar", "UUID",
  "IPv4Network", "IPv6Network", "IPv4Interface", "IPv6Interface", "Interval",
]);

/**
 * The qualified name of what a call calls when numberMade may model it: an imported class of
 * MADE_NUMBERS, or the type type(constant) returned (type(0)("7") is int("7")).
 */
function calleeOf(c: CallResult): string | undefined {
  const fn = c.fn;
  if (!isSym(fn)) return undefined;
  if (fn.t === "global") return MADE_NUMBERS.has(fn.name) ? importedName(fn) : undefined;
  if (fn.t !== "call" || !isSym(fn.fn) || fn.fn.t !== "global" || fn.fn.name !== "type" || !isSym(fn.args) || fn.args.t !== "tuple") return undefined;
  const [x] = fn.args.items;
  if (typeof x === "number" || typeof x === "bigint") return Number.isInteger(x) || typeof x === "bigint" ? "builtins.int" : undefined;
  return undefined;
}

/** The rational n/d's hash (d > 0): n times d's inverse modulo the prime; a multiple of it is infinite. */
function rationalHash(n: bigint, d: bigint): bigint {
  const inverse = d === 1n ? 1n : modPow(d % MODULUS, MODULUS - 2n);
  let h = inverse === 0n ? INF : ((n < 0n ? -n : n) % MODULUS) * inverse % MODULUS;
  if (n < 0n) h = -h;
  return u64(h === -1n ? -2n : h);
}

function intKey(n: bigint): HashedKey {
  return { hash: rationalHash(n, 1n), canon: n.toString() };
}

function floatKey(x: number): HashedKey | undefined {
  if (Number.isNaN(x)) return undefined; // hashed by identity since 3.10
  if (!Number.isFinite(x)) return { hash: u64(x > 0 ? INF : -INF), canon: x > 0 ? "inf" : "-inf" };
  return { hash: doubleHash(x), canon: String(x) };
}

/** A finite double, which is an integer mantissa times a power of two, hashed as that rational. */
function doubleHash(x: number): bigint {
  const bits = new DataView(new ArrayBuffer(8));
  bits.setFloat64(0, x);
  const biased = (bits.getUint16(0) >> 4) & 0x7ff;
  const fraction = (BigInt(bits.getUint32(0) & 0xfffff) << 32n) | BigInt(bits.getUint32(4));
  const mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
  const exponent = (biased === 0 ? -1074 : biased - 1075) % 61;
  // 2**61 is 1 modulo the prime, so a power of two reduces by its exponent modulo 61.
  let h = (mantissa << BigInt(exponent < 0 ? exponent + 61 : exponent)) % MODULUS;
  if (x < 0) h = -h;
  return u64(h === -1n ? -2n : h);
}

/** Objects/tupleobject.c's tuplehash (xxHash's round over the items' hashes), Python 3.8 on. */
function tupleKey(items: readonly Value[], depth: number, keyed = false): HashedKey | undefined {
  let acc = XXPRIME_5;
  const canon: string[] = [];
  let cost = 1;
  let steered: boolean | undefined;
  for (const item of items) {
    const k = pyHash(item, depth) ?? (keyed || (steered ??= steerable(items)) ? keyedItem(item, depth) : undefined);
    if (k === undefined) return undefined;
    acc = u64(acc + k.hash * XXPRIME_2);
    acc = u64((acc << 31n) | (acc >> 33n));
    acc = u64(acc * XXPRIME_1);
    canon.push(k.canon);
    cost = Math.min(cost + (k.cost ?? 1), MAX_COST);
  }
  acc = u64(acc + (BigInt(items.length) ^ (XXPRIME_5 ^ 3527539n)));
  return { hash: acc === u64(-1n) ? 1546275796n : acc, canon: capped(`(${canon.join(",")})`), cost };
}

/**
 * An item of a steerable tuple whose hash is not predictable but is one per process for one value:
 * tuples whose other items collide and that hold the same such item in the same place collide
 * whatever it hashes to (red team round 36: (l, r, "right"); round 37: ("right",), frozenset({"right"}),
 * one memoized global; round 38: one call made anew in each key). Any fixed value per item models
 * that: a digest of a text's bytes, of a global's name, of a call's callee and arguments, or of an
 * object's identity (one object memoized into every key), and tuples and frozensets of such items
 * combined as CPython combines them.
 */
function keyedItem(v: Value, depth: number): HashedKey | undefined {
  if (typeof v === "string") return textKey("s", v);
  if (!isSym(v) || depth >= MAX_DEPTH) return undefined;
  switch (v.t) {
    case "bytes":
      return textKey("b", Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength).toString("latin1"));
    case "tuple":
      return tupleKey(v.items, depth + 1, true);
    case "set":
      return v.frozen && v.n === v.items.length ? frozensetKey(v.items, depth + 1, true) : undefined;
    case "global":
      return textKey("g", importedName(v));
    case "list":
    case "dict":
      return undefined; // unhashable: the load fails at the first such key
    case "call": {
      // Made anew in each key by one callee from equal arguments (codecs.encode(text), date(y, m, d)): equal
      // values hash alike (red team round 38). An object that hashes by identity would not, but it counts
      // only where the keys' other items were chosen to collide, which no legitimate pickle does.
      const callee = isSym(v.fn) && v.fn.t === "global" ? importedName(v.fn) : undefined;
      const args = callee !== undefined && isSym(v.args) && v.args.t === "tuple" ? tupleKey(v.args.items, depth + 1, true) : undefined;
      return args ? textKey("c", `${callee}${args.canon}`) : textKey("o", String(identity(v)));
    }
    default:
      return textKey("o", String(identity(v)));
  }
}

/**
 * Whether a tuple's hash can be chosen around its texts: one item whose hash reaches any residue (an
 * int past a double's integers, a float that is not an integer, a value numberMade or a nested tuple
 * hashes from such), or two numbers (the second picked, among a few thousand tries of the first, to
 * undo the round). Tuples of texts with at most one small int cannot be steered (each text's hash is
 * secret, and one int's round is a bijection), so they are not hashed at all: an n-gram vocabulary's
 * millions of keys cost nothing here.
 */
function steerable(items: readonly Value[]): boolean {
  let numbers = 0;
  for (const v of items) {
    if (typeof v === "number" || typeof v === "boolean") {
      if ((typeof v === "number" && (!Number.isInteger(v) || Math.abs(v) >= 2 ** 53)) || ++numbers >= 2) return true;
    } else if (typeof v === "bigint") return true;
    else if (isSym(v) && (v.t === "tuple" ? steerable(v.items) : v.t === "call" ? calleeOf(v) !== undefined : v.t === "set" && v.frozen)) return true;
  }
  return false;
}

function textKey(kind: "s" | "b" | "g" | "o" | "c", text: string): HashedKey {
  const digest = createHash("sha1").update(kind).update(text, "latin1").digest();
  return { hash: digest.readBigUInt64LE(0), canon: capped(`${kind}${JSON.stringify(text)}`) };
}

/** Objects/setobject.c's frozenset_hash: the items' shuffled hashes XORed, then the size and a dispersal. */
function frozensetKey(items: readonly Value[], depth: number, keyed = false): HashedKey | undefined {
  const seen = new Map<string, bigint>();
  for (const item of items) {
    const k = pyHash(item, depth) ?? (keyed ? keyedItem(item, depth) : undefined);
    if (k === undefined) return undefined;
    seen.set(k.canon, k.hash); // equal items are one member
  }
  let h = 0n;
  for (const itemHash of seen.values()) h ^= u64(((itemHash ^ 89869747n) ^ u64(itemHash << 16n)) * 3644798167n);
  h ^= u64(BigInt(seen.size + 1) * 1927868237n);
  h ^= (h >> 11n) ^ (h >> 25n);
  h = u64(h * 69069n + 907133923n);
  return { hash: h === u64(-1n) ? 590923713n : h, canon: capped(`{${[...seen.keys()].sort().join(",")}}`) };
}

/** A number (or frozenset) made by calling its class on constants: int(str), complex(re, im), Decimal(str), Fraction(n, d) or Fraction(str), frozenset(list). */
function numberMade(c: CallResult, depth: number): HashedKey | undefined {
  const callee = calleeOf(c);
  if (callee === undefined || !isSym(c.args) || c.args.t !== "tuple") return undefined;
  const args = c.args.items;
  const [a, b] = args;
  switch (callee) {
    case "builtins.int": {
      if (args.length > 2 || (args.length === 2 && typeof b !== "number")) return undefined;
      const text = typeof a === "string" ? a : isSym(a) && a.t === "bytes" ? Buffer.from(a.data).toString("latin1") : undefined;
      if (text !== undefined) {
        const n = text.length <= MAX_DIGITS ? parseInteger(text, args.length === 2 ? (b as number) : 10) : undefined;
        return n === undefined ? undefined : intKey(n);
      }
      if (args.length === 2) return undefined;
      if (typeof a === "number") return Number.isFinite(a) ? intKey(BigInt(Math.trunc(a))) : undefined;
      return typeof a === "bigint" ? intKey(a) : undefined;
    }
    case "builtins.range":
      return rangeKey(args);
    case "numpy.core.multiarray.scalar":
    case "numpy._core.multiarray.scalar":
      return numpyScalarKey(args);
    case "builtins.tuple":
    case "torch.Size": {
      // tuple(items) and torch.Size(items) (a tuple subclass) hash as the tuple of those items.
      const items = args.length === 1 && isSym(a) && (a.t === "tuple" || (a.t === "list" && a.n === a.items.length)) ? a.items : undefined;
      return items === undefined ? undefined : tupleKey(items, depth + 1);
    }
    case "pandas._libs.interval.Interval":
    case "pandas.Interval": {
      // pandas hashes an Interval as the tuple (left, right, closed); it equals only an Interval.
      const key = args.length === 3 ? tupleKey(args, depth + 1) : undefined;
      return key && { ...key, canon: capped(`Interval${key.canon}`) };
    }
    case "builtins.complex":
      if (typeof a !== "number" || args.length > 2 || (args.length === 2 && typeof b !== "number")) return undefined;
      return complexKey(a, args.length === 2 ? (b as number) : 0);
    case "decimal.Decimal":
    case "_decimal.Decimal":
    case "_pydecimal.Decimal":
      if (args.length !== 1) return undefined;
      if (typeof a === "number" || typeof a === "bigint") return pyHash(a);
      return typeof a === "string" ? decimalKey(a) : decimalTupleKey(a);
    case "uuid.UUID": {
      // hash(uuid) is hash(uuid.int); a UUID equals only a UUID. Pickles write UUID() and BUILD {"int": n}.
      const n = uuidInt(c);
      return n === undefined ? undefined : { hash: intKey(n).hash, canon: `uuid ${n}` };
    }
    case "ipaddress.IPv4Network":
    case "ipaddress.IPv6Network":
    case "ipaddress.IPv4Interface":
    case "ipaddress.IPv6Interface":
      return typeof a === "string" && args.length === 1 ? ipKey(callee, a, depth) : undefined;
    case "builtins.frozenset": {
      // Protocols before 4 write a frozenset as frozenset(list).
      const items = args.length === 1 && isSym(a) && a.t === "list" && a.n === a.items.length ? a.items : undefined;
      return items === undefined ? undefined : frozensetKey(items, depth + 1);
    }
    case "fractions.Fraction": {
      if (args.length === 2) {
        const n = integer(a);
        const d = integer(b);
        return n === undefined || d === undefined || d === 0n ? undefined : fractionKey(d < 0n ? -n : n, d < 0n ? -d : d);
      }
      // Fraction(n) equals n, and hashes as it.
      if (args.length === 1 && integer(a) !== undefined) return intKey(integer(a)!);
      if (args.length !== 1 || typeof a !== "string" || a.length > MAX_DIGITS) return undefined;
      const slash = FRACTION_TEXT.exec(a);
      if (!slash) return decimalKey(a);
      const d = BigInt(slash[2]!);
      return d === 0n ? undefined : fractionKey(BigInt(slash[1]!), d);
    }
    default:
      return undefined;
  }
}

/**
 * The int a UUID holds: from its BUILD state ({"int": n}, as pickles write it; a repeated key's last
 * value, as a dict keeps it), or UUID(hex), UUID(None, bytes) and UUID(None, None, None, None, int).
 */
function uuidInt(c: CallResult): bigint | undefined {
  const state = c.built;
  if (isSym(state) && state.t === "dict") {
    let n: Value | undefined;
    for (let i = 0; i + 1 < state.kv.length; i += 2) if (state.kv[i] === "int") n = state.kv[i + 1];
    return state.n * 2 === state.kv.length ? integer(n) : undefined;
  }
  const [text, bytes, , , int] = isSym(c.args) && c.args.t === "tuple" ? c.args.items : [];
  if (isSym(bytes) && bytes.t === "bytes" && bytes.data.length === 16) return BigInt(`0x${Buffer.from(bytes.data).toString("hex")}`);
  if (int !== undefined && int !== null) return integer(int);
  const hex = typeof text === "string" ? text.replace(/^urn:uuid:/i, "").replace(/[{}-]/g, "") : "";
  return /^[0-9a-f]{32}$/i.test(hex) ? BigInt(`0x${hex}`) : undefined;
}

/** Decimal((sign, digits, exponent)) as the text Decimal() reads: its hash is that text's. */
function decimalTupleKey(v: Value): HashedKey | undefined {
  if (!isSym(v) || v.t !== "tuple" || v.items.length !== 3) return undefined;
  const [sign, digits, exponent] = v.items;
  if ((sign !== 0 && sign !== 1) || !isSym(digits) || digits.t !== "tuple" || typeof exponent !== "number" || !Number.isInteger(exponent)) return undefined;
  if (digits.items.length > MAX_DIGITS || !digits.items.every((d) => typeof d === "number" && Number.isInteger(d) && d >= 0 && d <= 9)) return undefined;
  return decimalKey(`${sign === 1 ? "-" : ""}${digits.items.join("") || "0"}E${exponent}`);
}

/**
 * An ipaddress network or interface, which pickles as its class called with its text: a network
 * hashes as int(network_address) ^ int(netmask), an interface as the tuple (its int, the prefix
 * length, its network's int). Undefined for text that is not plainly an address and a prefix length.
 */
function ipKey(callee: string, text: string, depth: number): HashedKey | undefined {
  const [address, prefix] = text.split("/");
  const v6 = callee.includes("IPv6");
  const ip = address === undefined ? undefined : v6 ? ipv6Int(address) : ipv4Int(address);
  const width = v6 ? 128n : 32n;
  const length = prefix === undefined ? width : /^\d{1,3}$/.test(prefix) ? BigInt(prefix) : -1n;
  // A spelling not read here (an embedded IPv4 address, a netmask for a prefix) may hash as the attacker
  // chose: counted as colliding with every other such key of its class.
  if (ip === undefined || length < 0n || length > width) return { hash: BigInt(callee.length), canon: `${callee} ${text}` };
  const mask = ((1n << width) - 1n) ^ ((1n << (width - length)) - 1n);
  const network = ip & mask;
  const canon = `${callee} ${ip}/${length}`;
  if (callee.endsWith("Network")) return { hash: intKey(network ^ mask).hash, canon };
  const tuple = tupleKey([ip, length, network], depth + 1);
  return tuple && { hash: tuple.hash, canon };
}

function ipv4Int(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => (n << 8n) | BigInt(p), 0n);
}

function ipv6Int(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:]+$/.test(text)) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = halves.map((h) => (h === "" ? [] : h.split(":")));
  const count = groups.reduce((n, g) => n + g.length, 0);
  if ((halves.length === 1 && count !== 8) || (halves.length === 2 && count > 7) || groups.some((g) => g.some((x) => !/^[0-9a-fA-F]{1,4}$/.test(x)))) return undefined;
  const all = halves.length === 1 ? groups[0]! : [...groups[0]!, ...Array(8 - count).fill("0"), ...groups[1]!];
  return all.reduce((n, x) => (n << 16n) | BigInt(`0x${x}`), 0n);
}

/**
 * A NumPy scalar hashes as the Python number it equals: scalar(dtype(code), bytes) read as that
 * code's little-endian integer, float or complex (two floats). Other dtypes are not modelled.
 */
function numpyScalarKey(args: readonly Value[]): HashedKey | undefined {
  const s = numpyScalar(args);
  const bytes = s?.bytes;
  if (!s || !bytes) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Floats and complex numbers are read little-endian below; a big-endian one is left unmodelled.
  if (s.bigEndian && s.kind !== "i" && s.kind !== "u") return undefined;
  const width = s.width;
  switch (s.kind) {
    case "i":
    case "u":
      return width === 1 || width === 2 || width === 4 || width === 8 ? intKey(scalarInteger({ ...s, bytes })) : undefined;
    case "f":
      return width === 8 ? pyHash(view.getFloat64(0, true)) : width === 4 ? pyHash(view.getFloat32(0, true)) : undefined;
    default:
      return width === 16 ? complexKey(view.getFloat64(0, true), view.getFloat64(8, true)) : width === 8 ? complexKey(view.getFloat32(0, true), view.getFloat32(4, true)) : undefined;
  }
}

/**
 * Objects/rangeobject.c's range_hash: the hash of (length, start, step), with None for what the
 * range's values do not depend on (both when it is empty, the step when it has one item).
 */
function rangeKey(args: readonly Value[]): HashedKey | undefined {
  const ints = args.map((a) => (typeof a === "bigint" ? a : typeof a === "number" && Number.isSafeInteger(a) ? BigInt(a) : undefined));
  if (ints.length === 0 || ints.length > 3 || ints.some((n) => n === undefined)) return undefined;
  const [start, stop, step] = ints.length === 1 ? [0n, ints[0]!, 1n] : [ints[0]!, ints[1]!, ints[2] ?? 1n];
  if (step === 0n) return undefined; // range() raises
  const span = step > 0n ? stop - start : start - stop;
  const magnitude = step > 0n ? step : -step;
  const length = span <= 0n ? 0n : (span + magnitude - 1n) / magnitude;
  const key = tupleKey(length === 0n ? [0, null, null] : length === 1n ? [narrow(length), narrow(start), null] : [narrow(length), narrow(start), narrow(step)], 1);
  return key && { hash: key.hash, canon: `range${key.canon}` };
}

function narrow(n: bigint): number | bigint {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

const FRACTION_TEXT = /^\s*([+-]?\d+)\s*\/\s*(\d+)\s*$/;
/** A decimal literal as Decimal reads it: sign, digits with an optional fraction, optional exponent (underscores between digits). */
const INFINITY_TEXT = /^\s*([+-]?)(?:inf|infinity)\s*$/i;
const DECIMAL_TEXT = /^\s*([+-]?)(\d(?:_?\d)*)?(?:\.(\d(?:_?\d)*)?)?(?:[eE]([+-]?\d{1,9}))?\s*$/;

function integer(v: Value | undefined): bigint | undefined {
  if (typeof v === "bigint") return v;
  return typeof v === "number" && Number.isSafeInteger(v) ? BigInt(v) : undefined;
}

/** n/d's key (d > 0). The canonical text is not reduced to lowest terms: a gcd of long numbers costs too much for what it decides. */
function fractionKey(n: bigint, d: bigint): HashedKey {
  return { hash: rationalHash(n, d), canon: d === 1n ? n.toString() : `${n}/${d}` };
}

/**
 * A Decimal literal's key: coefficient × 10**exponent, hashed with the power taken modulo the prime
 * (an exponent of a million is cheap there, and only there).
 */
function decimalKey(s: string): HashedKey | undefined {
  const infinite = INFINITY_TEXT.exec(s);
  if (infinite) return floatKey(infinite[1] === "-" ? -Infinity : Infinity);
  const m = s.length <= MAX_DIGITS ? DECIMAL_TEXT.exec(s) : null;
  if (!m || (m[2] === undefined && m[3] === undefined)) return undefined;
  const fraction = (m[3] ?? "").replaceAll("_", "");
  const digits = ((m[2] ?? "").replaceAll("_", "") + fraction).replace(/^0+/, "");
  const significant = digits.replace(/0+$/, "");
  if (significant === "") return intKey(0n);
  const exponent = Number(m[4] ?? 0) - fraction.length + (digits.length - significant.length);
  const coefficient = BigInt(m[1] === "-" ? `-${significant}` : significant);
  // Whole numbers of ordinary size read as the int they equal, so Decimal("5") and 5 are one key.
  if (exponent >= 0 && exponent <= 32) return intKey(coefficient * 10n ** BigInt(exponent));
  const power = modPow(10n, BigInt(Math.abs(exponent)));
  const hash = exponent >= 0 ? rationalHash(coefficient * power, 1n) : rationalHash(coefficient, power);
  return { hash, canon: `${coefficient}e${exponent}` };
}

function complexKey(re: number, im: number): HashedKey | undefined {
  const r = floatKey(re);
  const i = floatKey(im);
  if (r === undefined || i === undefined) return undefined;
  const h = u64(r.hash + IMAG * i.hash);
  return { hash: h === u64(-1n) ? u64(-2n) : h, canon: im === 0 ? r.canon : `${r.canon}${im < 0 ? "" : "+"}${i.canon}j` };
}

function modPow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = base % MODULUS;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = result * b % MODULUS;
    b = b * b % MODULUS;
  }
  return result;
}
