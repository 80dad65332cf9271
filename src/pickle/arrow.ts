/**
 * Arrow arrays as pyarrow pickles them: `pyarrow.lib._restore_array((type, length, null_count,
 * offset, buffers, children, dictionary))`. pyarrow hands that tuple to Arrow's MakeArray without
 * validating it, so an array whose buffers are shorter than its type and length need, or whose
 * offsets or dictionary indices point past its data, reads heap memory (or crashes the process) at
 * first use. Its layout is checked here as Arrow's full validation would, for the types whose
 * layout is known; an array of any other type, or one whose parts are not plain pickled values
 * (buffers of bytes, integers, literal lists), cannot be checked and is reported as such.
 *
 * Buffers longer than the machine keeps (LIMITS.pickleMaxInlineConstant) are skipped unread, so an
 * array whose offsets or indices sit in one (a column of more than 8,192 large strings), or whose
 * bytes were written as latin-1 text (protocols 0–2), is checked again once the stream is done,
 * with those constants read back from the file (`deferredArrow`, readBack.ts).
 */
import { LIMITS } from "../limits.js";
import { constantPayload, named, type Deferred, type Payload, type Skipped } from "./readBack.js";
import { count, isSym, type CallResult, type Tuple, type Value } from "./values.js";

export const RESTORE_ARRAY = "pyarrow.lib._restore_array";

/** How an Arrow type lays its data out in buffers and children (what the checks need of it). */
type Layout =
  | { k: "null" }
  | { k: "bits" }
  | { k: "fixed"; width: number; signed?: boolean }
  | { k: "binary"; offsetWidth: 4 | 8 }
  | { k: "list"; offsetWidth: 4 | 8; child: Layout }
  | { k: "fixedList"; size: number; child: Layout }
  | { k: "struct"; children: Layout[] }
  | { k: "dictionary"; index: Layout & { k: "fixed" }; value: Layout };

/** Buffers and children each layout has (validity first, where it has one). */
const BUFFERS: Record<Layout["k"], number> = { null: 1, bits: 2, fixed: 2, binary: 3, list: 2, fixedList: 1, struct: 1, dictionary: 2 };

const MAX_DEPTH = 32;

/** `type_for_alias` names by layout (pyarrow's `_type_aliases`); views and the rest are not checked. */
const ALIASES: readonly [RegExp, Layout][] = [
  [/^null$/, { k: "null" }],
  [/^bool(?:ean)?$/, { k: "bits" }],
  [/^(?:int8|i1)$/, { k: "fixed", width: 1, signed: true }],
  [/^(?:uint8|u1)$/, { k: "fixed", width: 1, signed: false }],
  [/^(?:int16|i2)$/, { k: "fixed", width: 2, signed: true }],
  [/^(?:uint16|u2)$/, { k: "fixed", width: 2, signed: false }],
  [/^(?:int32|i4)$/, { k: "fixed", width: 4, signed: true }],
  [/^(?:uint32|u4)$/, { k: "fixed", width: 4, signed: false }],
  [/^(?:int64|i8)$/, { k: "fixed", width: 8, signed: true }],
  [/^(?:uint64|u8)$/, { k: "fixed", width: 8, signed: false }],
  [/^(?:halffloat|float16|f2)$/, { k: "fixed", width: 2 }],
  [/^(?:float|float32|f4|date32(?:\[day\])?|time32\[m?s\])$/, { k: "fixed", width: 4 }],
  [/^(?:double|float64|f8|date64(?:\[ms\])?|time64\[[un]s\]|(?:timestamp|duration)\[(?:s|ms|us|ns)\])$/, { k: "fixed", width: 8 }],
  [/^month_day_nano_interval$/, { k: "fixed", width: 16 }],
  [/^(?:string|str|utf8|binary)$/, { k: "binary", offsetWidth: 4 }],
  [/^(?:large_string|large_str|large_utf8|large_binary)$/, { k: "binary", offsetWidth: 8 }],
];

const DECIMAL_WIDTHS: Record<string, number> = { decimal32: 4, decimal64: 8, decimal128: 16, decimal256: 32 };

interface Checked {
  layout: Layout;
  length: number;
}

/** The array needs constants the machine skipped unread; checked once they are read back. */
const PENDING = Symbol("pending");
type Outcome = Checked | string | typeof PENDING;

/**
 * Checks `_restore_array`'s argument against its own type. Results are kept per tuple, so a tuple
 * restored many times (through the memo) is checked once.
 */
export class ArrowArrays {
  private readonly seen = new WeakMap<Tuple, Outcome>();
  /** Constants skipped unread that a pending array needs. */
  readonly wanted = new Set<Skipped>();

  /** `readBack`: the bytes of constants read back from the file (latin-1 text already encoded). */
  constructor(private readonly readBack: ReadonlyMap<Skipped, Uint8Array> = new Map()) {}

  /** What is wrong with the array, undefined when its layout holds, PENDING when it needs constants read back. */
  check(data: Value | undefined): string | undefined | typeof PENDING {
    const r = this.array(data, 0);
    return typeof r === "string" ? `Arrow array ${r}` : r === PENDING ? PENDING : undefined;
  }

  private array(data: Value | undefined, depth: number): Outcome {
    if (!isSym(data) || data.t !== "tuple") return "state is not a tuple of its parts, so its layout cannot be checked";
    const known = this.seen.get(data);
    if (known !== undefined) return known;
    const r = depth > MAX_DEPTH ? `nests deeper than ${MAX_DEPTH} levels` : this.layoutProblem(data, depth);
    this.seen.set(data, r);
    return r;
  }

  /** The bytes of a buffer, from the pickle or read back; a skipped constant not read back yet is wanted. */
  private resolve(p: Payload): Payload | typeof PENDING {
    if (p.data || !p.skipped) return p;
    const data = this.readBack.get(p.skipped);
    if (data) return { size: data.length, data };
    this.wanted.add(p.skipped);
    return PENDING;
  }

  private layoutProblem(data: Tuple, depth: number): Outcome {
    if (data.items.length !== 7) return `state has ${data.items.length} parts, not the 7 of (type, length, null_count, offset, buffers, children, dictionary)`;
    const [type, length, nullCount, offset, buffersValue, childrenValue, dictionary] = data.items as [Value, Value, Value, Value, Value, Value, Value];
    const layout = layoutOf(type, 0);
    if (typeof layout === "string") return layout;
    if (!count(length) || !count(offset) || !Number.isSafeInteger(length + offset)) return "length or offset is not a non-negative integer";
    if (typeof nullCount !== "number" || !Number.isInteger(nullCount) || nullCount < -1 || nullCount > length) return `null count ${String(nullCount)} is not within -1…${length}`;
    const buffers = literalList(buffersValue);
    const children = literalList(childrenValue);
    if (!buffers || !children) return "buffers or children are not a list written in the pickle";
    const end = offset + length;
    const what = `of ${describeLayout(layout)} (length ${length}, offset ${offset})`;
    if (buffers.length !== BUFFERS[layout.k]) return `${what} has ${buffers.length} buffers, not ${BUFFERS[layout.k]}`;
    // Every part is walked before a wait is returned, so that one read-back serves the whole array.
    let pending = false;
    const bufs: (Payload | null)[] = [];
    for (const [i, b] of buffers.entries()) {
      const p = payload(b);
      if (p === undefined) return `${what}: buffer ${i} is not pyarrow.lib.py_buffer of bytes written in the pickle`;
      // Sizes are known without the bytes, but for latin-1 text; offsets and indices need the bytes.
      const needsBytes = p !== null && (p.size === undefined || (i === 1 && (layout.k === "binary" || layout.k === "list" || layout.k === "dictionary")));
      const resolved = p !== null && needsBytes ? this.resolve(p) : p;
      pending ||= resolved === PENDING;
      bufs.push(resolved === PENDING ? null : resolved);
    }
    const dict = layout.k === "dictionary" ? this.array(dictionary, depth + 1) : undefined;
    if ((layout.k === "dictionary") !== (dictionary !== null)) return `${what} ${layout.k === "dictionary" ? "has no dictionary" : "has a dictionary, which only dictionary arrays have"}`;
    const wantChildren = layout.k === "list" || layout.k === "fixedList" ? [layout.child] : layout.k === "struct" ? layout.children : [];
    if (children.length !== wantChildren.length) return `${what} has ${children.length} children, not ${wantChildren.length}`;
    const childLengths: number[] = [];
    for (const [i, c] of children.entries()) {
      const r = this.array(c, depth + 1);
      if (typeof r === "string") return r;
      if (r === PENDING) {
        pending = true;
        continue;
      }
      if (!sameLayout(r.layout, wantChildren[i]!)) return `${what}: child ${i} is ${describeLayout(r.layout)}, while its type declares ${describeLayout(wantChildren[i]!)}`;
      childLengths.push(r.length);
    }
    if (typeof dict === "string") return dict;
    if (pending || dict === PENDING) return PENDING;
    const validity = layout.k === "null" ? null : bufs[0]!;
    if (layout.k === "null" && bufs[0] !== null) return `${what} has a validity buffer, which null arrays never have`;
    if (validity && size(validity) < Math.ceil(end / 8)) return `${what}: validity buffer of ${size(validity)} bytes is shorter than ${Math.ceil(end / 8)}`;
    switch (layout.k) {
      case "null":
        break;
      case "bits":
        if (size(bufs[1]) < Math.ceil(end / 8)) return `${what}: values buffer of ${size(bufs[1])} bytes is shorter than ${Math.ceil(end / 8)}`;
        break;
      case "fixed":
        if (size(bufs[1]) < end * layout.width) return `${what}: values buffer of ${size(bufs[1])} bytes is shorter than ${end * layout.width}`;
        break;
      case "binary":
        return offsetsProblem(what, bufs[1]!, layout.offsetWidth, offset, length, size(bufs[2]), "its data buffer") ?? { layout, length };
      case "list":
        return offsetsProblem(what, bufs[1]!, layout.offsetWidth, offset, length, childLengths[0]!, "its child") ?? { layout, length };
      case "fixedList":
        if (childLengths[0]! < end * layout.size) return `${what}: child of ${childLengths[0]} items is shorter than ${end * layout.size}`;
        break;
      case "struct": {
        const short = childLengths.findIndex((n) => n < end);
        if (short >= 0) return `${what}: child ${short} of ${childLengths[short]} items is shorter than ${end}`;
        break;
      }
      case "dictionary": {
        if (!dict) return `${what} has no dictionary`;
        if (!sameLayout(dict.layout, layout.value)) return `${what}: dictionary is ${describeLayout(dict.layout)}, while its type declares ${describeLayout(layout.value)}`;
        return indicesProblem(what, bufs[1]!, validity, layout.index, offset, length, dict.length) ?? { layout, length };
      }
    }
    return { layout, length };
  }
}

/**
 * The second look at an array that waited for constants: the ones it needs, and its check again
 * once they are read back (readBack.ts). Still waiting then means they were past the bound.
 */
export function deferredArrow(data: Tuple, call: CallResult): Deferred {
  const probe = new ArrowArrays();
  probe.check(data);
  const pastBound = `Arrow array needs buffers past the ${LIMITS.readBackMaxBytes}-byte bound on what is read back to check it, so its layout cannot be checked`;
  return {
    call,
    wants: probe.wanted,
    pastBound,
    check: (bytes) => {
      const r = new ArrowArrays(bytes).check(data);
      return r === PENDING ? pastBound : r;
    },
  };
}

const size = (p: Payload | null | undefined): number => p?.size ?? 0;

/**
 * `py_buffer(b)`, `py_buffer(bytearray(b))` with `b` bytes written in the pickle (`_codecs.encode`
 * of latin-1 text under protocols 0–2; dill names `bytearray` by `_load_type`); null for None.
 * Anything else (a buffer some other call made) is undefined: what it holds cannot be known.
 */
function payload(v: Value): Payload | null | undefined {
  if (v === null) return null;
  const [inner] = singleArg(v, named("pyarrow.lib.py_buffer")) ?? [];
  const [b] = singleArg(inner, isBytearray) ?? [inner];
  return constantPayload(b);
}

/** The single argument of a call whose callee `isCallee` accepts, or undefined. */
function singleArg(v: Value | undefined, isCallee: (fn: Value) => boolean): [Value] | undefined {
  if (!isSym(v) || v.t !== "call" || !isCallee(v.fn)) return undefined;
  const args = isSym(v.args) && v.args.t === "tuple" ? v.args.items : [];
  return args.length === 1 ? [args[0]!] : undefined;
}

const isBytearray = (fn: Value): boolean => named("builtins.bytearray")(fn) || singleArg(fn, named("dill._dill._load_type"))?.[0] === "bytearray";

/** The arguments of a call of a `pyarrow.lib` type factory, by its name. */
function factoryCall(v: Value): { name: string; args: readonly Value[] } | undefined {
  if (!isSym(v) || v.t !== "call" || !isSym(v.fn) || v.fn.t !== "global" || v.fn.module !== "pyarrow.lib") return undefined;
  return { name: v.fn.name, args: isSym(v.args) && v.args.t === "tuple" ? v.args.items : [] };
}

/** The layout a pickled type (or field) describes, or why it cannot be known. */
function layoutOf(type: Value | undefined, depth: number): Layout | string {
  const call = type === undefined ? undefined : factoryCall(type);
  if (!call) return "type is not made by a pyarrow type factory, so its layout cannot be checked";
  if (depth > MAX_DEPTH) return `type nests deeper than ${MAX_DEPTH} levels`;
  const [a, b] = call.args;
  const notChecked = `of type ${call.name}(…) is not checked (only the layouts of primitive, binary, list, struct, map and dictionary types are)`;
  switch (call.name) {
    case "type_for_alias": {
      const found = typeof a === "string" ? ALIASES.find(([re]) => re.test(a)) : undefined;
      return found ? found[1] : `of type ${typeof a === "string" ? JSON.stringify(a) : "?"} is not checked (only the layouts of primitive, binary, list, struct, map and dictionary types are)`;
    }
    case "field":
      return layoutOf(b, depth + 1);
    case "timestamp":
      return { k: "fixed", width: 8 };
    case "decimal32":
    case "decimal64":
    case "decimal128":
    case "decimal256":
      return { k: "fixed", width: DECIMAL_WIDTHS[call.name]! };
    case "binary":
      if (a === undefined || a === -1) return { k: "binary", offsetWidth: 4 };
      return count(a) ? { k: "fixed", width: a } : notChecked;
    case "uuid":
      return { k: "fixed", width: 16 };
    case "bool8":
      return { k: "fixed", width: 1, signed: true };
    case "json_":
      return a === undefined ? { k: "binary", offsetWidth: 4 } : layoutOf(a, depth + 1);
    case "list_":
    case "large_list": {
      const child = layoutOf(a, depth + 1);
      if (typeof child === "string") return child;
      if (call.name === "list_" && b !== undefined && b !== -1) return count(b) ? { k: "fixedList", size: b, child } : notChecked;
      return { k: "list", offsetWidth: call.name === "list_" ? 4 : 8, child };
    }
    case "map_": {
      const [key, item] = [layoutOf(a, depth + 1), layoutOf(b, depth + 1)];
      if (typeof key === "string") return key;
      if (typeof item === "string") return item;
      return { k: "list", offsetWidth: 4, child: { k: "struct", children: [key, item] } };
    }
    case "struct": {
      const fields = literalList(a);
      if (!fields) return "struct type's fields are not a list written in the pickle";
      const children: Layout[] = [];
      for (const f of fields) {
        const l = layoutOf(f, depth + 1);
        if (typeof l === "string") return l;
        children.push(l);
      }
      return { k: "struct", children };
    }
    case "dictionary": {
      const [index, value] = [layoutOf(a, depth + 1), layoutOf(b, depth + 1)];
      if (typeof value === "string") return value;
      if (typeof index === "string" || index.k !== "fixed" || index.signed === undefined) return "dictionary type's index type is not an integer type";
      return { k: "dictionary", index, value };
    }
    default:
      return notChecked;
  }
}

/** The items of a list or tuple written in full in the pickle (not a sample of a longer one). */
function literalList(v: Value | undefined): readonly Value[] | undefined {
  if (!isSym(v)) return undefined;
  if (v.t === "tuple") return v.items;
  return v.t === "list" && v.n === v.items.length ? v.items : undefined;
}

function sameLayout(a: Layout, b: Layout): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function describeLayout(l: Layout): string {
  switch (l.k) {
    case "null":
      return "a null array";
    case "bits":
      return "a boolean array";
    case "fixed":
      return `an array of ${l.width}-byte values`;
    case "binary":
      return `a binary array with ${l.offsetWidth * 8}-bit offsets`;
    case "list":
      return `a list array with ${l.offsetWidth * 8}-bit offsets`;
    case "fixedList":
      return `a fixed-size list array of ${l.size}`;
    case "struct":
      return `a struct array of ${l.children.length} fields`;
    case "dictionary":
      return "a dictionary array";
  }
}

/** Little-endian integers of `width` bytes, `n` of them from item `first` (undefined past the data). */
function readInts(data: Uint8Array, width: number, signed: boolean, first: number, n: number): number[] | undefined {
  if ((first + n) * width > data.length) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: number[] = [];
  for (let i = first; i < first + n; i++) {
    const at = i * width;
    switch (width) {
      case 1: out.push(signed ? view.getInt8(at) : view.getUint8(at)); break;
      case 2: out.push(signed ? view.getInt16(at, true) : view.getUint16(at, true)); break;
      case 4: out.push(signed ? view.getInt32(at, true) : view.getUint32(at, true)); break;
      default: out.push(Number(signed ? view.getBigInt64(at, true) : view.getBigUint64(at, true)));
    }
  }
  return out;
}

/** Offsets of a binary or list array: within 0…limit and never falling (Arrow's full validation). */
function offsetsProblem(what: string, offsets: Payload | null, width: 4 | 8, offset: number, length: number, limit: number, of: string): string | undefined {
  if (length === 0) return undefined;
  const need = (offset + length + 1) * width;
  if (size(offsets) < need) return `${what}: offsets buffer of ${size(offsets)} bytes is shorter than ${need}`;
  const values = readInts(offsets!.data!, width, true, offset, length + 1)!;
  const bad = values.findIndex((v, i) => v < 0 || v > limit || (i > 0 && v < values[i - 1]!));
  return bad < 0 ? undefined : `${what}: offset ${offset + bad} = ${values[bad]} falls or points outside ${of} (0…${limit})`;
}

/** A dictionary array's indices, where not null: within the dictionary's length. */
function indicesProblem(what: string, indices: Payload | null, validity: Payload | null, index: Layout & { k: "fixed" }, offset: number, length: number, dictLength: number): string | undefined {
  if (length === 0) return undefined;
  const need = (offset + length) * index.width;
  if (size(indices) < need) return `${what}: indices buffer of ${size(indices)} bytes is shorter than ${need}`;
  const values = readInts(indices!.data!, index.width, index.signed ?? true, offset, length)!;
  const bits = validity?.data;
  const bad = values.findIndex((v, i) => {
    const at = offset + i;
    const valid = !bits || ((bits[at >> 3]! >> (at & 7)) & 1) === 1;
    return valid && (v < 0 || v >= dictLength);
  });
  return bad < 0 ? undefined : `${what}: index ${offset + bad} = ${values[bad]} is outside its dictionary of ${dictLength} values`;
}
