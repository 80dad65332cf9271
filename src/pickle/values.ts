/**
 * Symbolic values of the pickle machine. Plain data is kept as JS primitives (cheap for dense
 * streams); everything that can carry behaviour (imports, call results, persistent ids) is an
 * object that remembers where it came from.
 */
import { LIMITS } from "../limits.js";

export type CallKind = "REDUCE" | "NEWOBJ" | "NEWOBJ_EX" | "INST" | "OBJ";

/** An imported object: GLOBAL, STACK_GLOBAL, INST or OBJ's class operand. */
export interface GlobalRef {
  t: "global";
  module: string;
  name: string;
  /** Byte offset of the importing opcode. */
  at: number;
  via: "GLOBAL" | "STACK_GLOBAL" | "INST";
  /** A class allowlisted to be constructed, never called at load (the observer says so at import). */
  neverCalled: boolean;
  /** The normalised qualified name, once asked (judge.ts importedName): rules ask it per object. */
  normalName: string | undefined;
}

/** An import whose module or name was not a constant string (P4): unknowable statically. */
export interface DynamicGlobal {
  t: "dynglobal";
  module: Value;
  name: Value;
  at: number;
}

/** The result of calling something at load time. */
export interface CallResult {
  t: "call";
  fn: Value;
  args: Value;
  kind: CallKind;
  at: number;
  /** What the first BUILD on the object set (a UUID's {"int": n}), for the hash model (pyHash). */
  built?: Value;
}

/** An object restored by `persistent_load` (PyTorch storages). */
export interface PersistentRef {
  t: "pid";
  pid: Value;
  at: number;
}

/** str or bytes too long to keep: only its length and where it sits in the stream. */
export interface BigConstant {
  t: "bigstr" | "bigbytes";
  len: number;
  /** Offset of the first payload byte in the source. */
  at: number;
}

export interface BytesConst {
  t: "bytes";
  data: Uint8Array;
  at: number;
}

/**
 * Containers keep a bounded sample of their items and a count of all of them. `behaviour` says
 * whether anything other than plain data (imports, call results, bytes, dunder strings) was ever
 * put in; plain containers may be dropped from a large memo (see Machine.put).
 */
export interface Tuple {
  t: "tuple";
  items: Value[];
  behaviour: boolean;
}
export interface List {
  t: "list";
  items: Value[];
  n: number;
  behaviour: boolean;
  /** Memo key this container was stored under as PLAIN_DATA, to restore if it gains behaviour. */
  memoKey?: number;
  /** Further such keys (a container PUT more than once). */
  moreMemoKeys?: number[];
}
export interface Dict {
  t: "dict";
  /** Sampled keys and values, alternating (flat to spare an array per entry). */
  kv: Value[];
  n: number;
  behaviour: boolean;
  /**
   * Whether a key past the sample was not plain data (a dunder name, or a value made at load time):
   * as BUILD state, such a key can set `__setstate__` or `__class__` unseen.
   */
  keyPastSample: boolean;
  memoKey?: number;
  moreMemoKeys?: number[];
}
export interface SetValue {
  t: "set";
  items: Value[];
  n: number;
  frozen: boolean;
  behaviour: boolean;
  memoKey?: number;
  moreMemoKeys?: number[];
}

export type MutableContainer = List | Dict | SetValue;

/** Something the machine cannot know (out-of-band buffers, extension codes, compacted memo entries). */
export interface Opaque {
  t: "opaque";
  what: string;
}

export type Sym =
  | GlobalRef
  | DynamicGlobal
  | CallResult
  | PersistentRef
  | BigConstant
  | BytesConst
  | Tuple
  | List
  | Dict
  | SetValue
  | Opaque;

/** null is None; number covers ints and floats; bigint is a long outside the safe range. */
export type Value = null | boolean | number | bigint | string | Sym;

/** A non-negative integer written in the pickle. */
export function count(v: Value | undefined): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

export function isSym(v: Value | undefined): v is Sym {
  return typeof v === "object" && v !== null;
}

export function qualifiedName(g: GlobalRef): string {
  return `${g.module}.${g.name}`;
}

/** Stands in a large memo for a container that held only plain data when it was stored. */
export const PLAIN_DATA: Opaque = Object.freeze({ t: "opaque", what: "plain data" }) as Opaque;

/**
 * Stands in a large memo for a value that was not plain data (a call result, bytes, a container
 * holding them): it was judged when it was made, but a later use that depends on what it is (calling
 * it, BUILD with it) cannot be judged, and the analyst reports that use.
 */
export const FORGOTTEN: Opaque = Object.freeze({ t: "opaque", what: "a value dropped from a large memo" }) as Opaque;

/**
 * Plain data cannot change what a load does: numbers, strings (but dunder names, which matter as
 * attribute keys), and containers of such. Imports, call results, persistent ids and bytes are not.
 */
export function isPlain(v: Value): boolean {
  if (typeof v !== "object" || v === null) return typeof v !== "string" || !(v.charCodeAt(0) === 95 && v.charCodeAt(1) === 95);
  return v instanceof Container ? !v.behaviour : v === PLAIN_DATA;
}

/*
 * The values the machine makes in bulk are class instances, and their arrays come from slice or
 * splice, never from literals. V8 pretenures the objects of a literal's allocation site once most
 * of them survive, and everything memoized before the retention bound does; every later record of
 * a dense pickle was then allocated straight into the old generation (on the bench's 105 MB pickle,
 * 190 MB promoted, full collections and costly write barriers). Constructor calls carry no site.
 */

/** A container's items before its first: shared, frozen, so a push on it throws instead of leaking. */
const NO_ITEMS: Value[] = Object.freeze([] as Value[]) as Value[];

/**
 * The four container kinds are one class, so every container has the same hidden class: a read of
 * `behaviour` or `t` that sees the machine's values stays a fast monomorphic access instead of
 * V8's generic lookup across many classes (the machine reads them for every item of a dense pickle).
 */
class Container {
  n = 0;
  kv = NO_ITEMS;
  memoKey: number | undefined = undefined;
  moreMemoKeys: number[] | undefined = undefined;
  /** Whether a FORGOTTEN value was ever put in, at any depth and past the sample (see holdsForgotten). */
  forgotten = false;
  /** See Dict.keyPastSample (dicts only). */
  keyPastSample = false;
  /** A class never to be called that was ever put in, at any depth and past the sample (see heldNeverCalled). */
  neverCalled: GlobalRef | undefined = undefined;
  constructor(
    readonly t: "tuple" | "list" | "dict" | "set",
    public items: Value[],
    public behaviour: boolean,
    public frozen: boolean,
  ) {}
}

class Call implements CallResult {
  readonly t = "call";
  constructor(
    public fn: Value,
    public args: Value,
    public kind: CallKind,
    public at: number,
  ) {}
}

class Global implements GlobalRef {
  readonly t = "global";
  neverCalled = false;
  normalName: string | undefined = undefined;
  constructor(
    public module: string,
    public name: string,
    public at: number,
    public via: GlobalRef["via"],
  ) {}
}

class Bytes implements BytesConst {
  readonly t = "bytes";
  constructor(
    public data: Uint8Array,
    public at: number,
  ) {}
}

export function tuple(items: Value[]): Tuple {
  let behaviour = false;
  let forgotten = false;
  let never: GlobalRef | undefined;
  for (let i = 0; i < items.length; i++) {
    const x = items[i]!;
    if (isPlain(x)) continue;
    behaviour = true;
    if (holdsForgotten(x)) forgotten = true;
    never ??= heldNeverCalled(x);
  }
  const t = new Container("tuple", items, behaviour, false);
  t.forgotten = forgotten;
  t.neverCalled = never;
  return t as Tuple;
}

/**
 * The class never to be called that `v` is, or that a container put into `v` was or held when it
 * went in, however deep or far past the sample. A container's mark can miss a class put into an
 * inner container after that went in, but the machine reports every such put itself
 * (MachineObserver.onNeverCalledStored), and tuples, which cannot change, carry the rest.
 */
export function heldNeverCalled(v: Value | undefined): GlobalRef | undefined {
  if (v instanceof Container) return v.neverCalled;
  if (v instanceof Global) return v.neverCalled ? v : undefined;
  // What a persistent id loads as can be an item of it (torch's legacy tar reader returns a tuple id's first).
  return isSym(v) && v.t === "pid" ? heldNeverCalled(v.pid) : undefined;
}

/** Whether `v` is FORGOTTEN or a container that holds it, however deep or far past its sample. */
export function holdsForgotten(v: Value | undefined): boolean {
  return v === FORGOTTEN || (v instanceof Container && v.forgotten);
}

/**
 * holdsForgotten, also through containers that got FORGOTTEN after they were put into `v` (a flag
 * is set when an item goes in, so an outer container's can be stale): a walk of the samples,
 * `depth` levels down, checking each container's own (current) flag.
 */
export function reachesForgotten(v: Value | undefined, depth = 3): boolean {
  if (holdsForgotten(v)) return true;
  if (!(v instanceof Container) || depth === 0) return false;
  for (const x of v.items) if (reachesForgotten(x, depth - 1)) return true;
  for (const x of v.kv) if (reachesForgotten(x, depth - 1)) return true;
  return false;
}

/** Marks container `c` as holding FORGOTTEN when `x`, put into it, does. */
export function noteForgotten(c: MutableContainer, x: Value): void {
  if (holdsForgotten(x)) (c as Container).forgotten = true;
}

/** Marks container `c` when `x`, put into it, is or holds a class never to be called; that class. */
export function noteNeverCalled(c: MutableContainer, x: Value): GlobalRef | undefined {
  const never = heldNeverCalled(x);
  if (never !== undefined) (c as Container).neverCalled ??= never;
  return never;
}

/** About how much memory a memo entry keeps alive (shallow; a container counted at its largest sample). */
export function retainedSize(v: Value): number {
  if (typeof v === "string") return 24 + 2 * v.length;
  if (v instanceof Container) return 64 + 16 * SAMPLE;
  if (v instanceof Bytes) return 64 + v.data.length;
  return 64;
}

export const emptyList = (): List => new Container("list", NO_ITEMS, false, false) as List;
export const emptyDict = (): Dict => new Container("dict", NO_ITEMS, false, false) as Dict;
export const emptySet = (frozen: boolean): SetValue => new Container("set", NO_ITEMS, false, frozen) as SetValue;
export const callResult = (fn: Value, args: Value, kind: CallKind, at: number): CallResult => new Call(fn, args, kind, at);
export const globalRef = (module: string, name: string, at: number, via: GlobalRef["via"]): GlobalRef => new Global(module, name, at, via);
export const bytesConst = (data: Uint8Array, at: number): BytesConst => new Bytes(data, at);

export function dictEntries(d: Dict): [Value, Value][] {
  const out: [Value, Value][] = [];
  for (let i = 0; i + 1 < d.kv.length; i += 2) out.push([d.kv[i]!, d.kv[i + 1]!]);
  return out;
}

/** The value of `key` in a dict's sample: the last one set, as a dict keeps it when a key is set twice. */
export function dictGet(d: Dict, key: string): Value | undefined {
  for (let i = d.kv.length - 2; i >= 0; i -= 2) if (d.kv[i] === key) return d.kv[i + 1];
  return undefined;
}

export const SAMPLE = LIMITS.pickleContainerSample;

/** Integers describe() writes out in full: up to 10**80 or so. */
const DESCRIBED_INT = 2n ** 256n;

/** A short, safe rendering of a value for evidence strings (never the whole payload). */
export function describe(v: Value, depth = 0): string {
  if (v === null) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "number") return String(v);
  // A huge integer is shown by its size: its digits would fill the evidence (and take a while to print).
  if (typeof v === "bigint") return v >= -DESCRIBED_INT && v <= DESCRIBED_INT ? String(v) : `<integer of about ${(v < 0n ? -v : v).toString(16).length * 4} bits>`;
  if (typeof v === "string") return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);
  if (depth > 3) return "…";
  switch (v.t) {
    case "global":
      return qualifiedName(v);
    case "dynglobal":
      return `<import ${describe(v.module, depth + 1)}.${describe(v.name, depth + 1)}>`;
    case "call":
      return `${describe(v.fn, depth + 1)}${describeArgs(v.args, depth + 1)}`;
    case "pid":
      return `<persistent ${describe(v.pid, depth + 1)}>`;
    case "bigstr":
      return `<str of ${v.len} bytes>`;
    case "bigbytes":
      return `<bytes of ${v.len} bytes>`;
    case "bytes":
      return `<bytes of ${v.data.length} bytes>`;
    case "tuple":
      return describeArgs(v, depth);
    case "list":
      return `[${v.items.slice(0, 4).map((i) => describe(i, depth + 1)).join(", ")}${v.n > 4 ? ", …" : ""}]`;
    case "dict":
      return `{${dictEntries(v)
        .slice(0, 4)
        .map(([k, x]) => `${describe(k, depth + 1)}: ${describe(x, depth + 1)}`)
        .join(", ")}${v.n > 4 ? ", …" : ""}}`;
    case "set":
      return `${v.frozen ? "frozenset" : "set"}(${v.n} items)`;
    case "opaque":
      return `<${v.what}>`;
  }
}

function describeArgs(args: Value, depth: number): string {
  if (isSym(args) && args.t === "tuple") {
    const shown = args.items.slice(0, 4).map((i) => describe(i, depth + 1));
    return `(${shown.join(", ")}${args.items.length > 4 ? ", …" : args.items.length === 1 ? "," : ""})`;
  }
  return `(*${describe(args, depth)})`;
}

/** Every bytes constant reachable from `v` (bounded walk): payloads handed to nested deserializers. */
export function bytesPayloads(v: Value, out: (BytesConst | BigConstant)[] = [], depth = 0): (BytesConst | BigConstant)[] {
  if (!isSym(v) || depth > 6) return out;
  switch (v.t) {
    case "bytes":
    case "bigbytes":
      out.push(v);
      break;
    case "tuple":
    case "list":
    case "set":
      for (const i of v.items) bytesPayloads(i, out, depth + 1);
      break;
    case "dict":
      for (const [, x] of dictEntries(v)) bytesPayloads(x, out, depth + 1);
      break;
    case "call": {
      const encoded = codecsEncoded(v);
      if (encoded) out.push(encoded);
      else bytesPayloads(v.args, out, depth + 1);
      break;
    }
    default:
      break;
  }
  return out;
}

/**
 * Protocols 0–2 write bytes as `_codecs.encode(text, "latin1")`; the payload is that text's
 * latin-1 bytes. Any other encoding is left alone (its bytes are not what the loader sees).
 */
export function codecsEncoded(c: CallResult): BytesConst | undefined {
  const text = latin1Text(c);
  return typeof text === "string" ? { t: "bytes", data: Buffer.from(text, "latin1"), at: c.at } : undefined;
}

/** The text of a `_codecs.encode(text, "latin1")` call: a str, or one too long to keep (a byte a character either way). */
export function latin1Text(c: CallResult): string | BigConstant | undefined {
  const fn = c.fn;
  if (!isSym(fn) || fn.t !== "global" || fn.module !== "_codecs" || fn.name !== "encode") return undefined;
  const [text, encoding] = isSym(c.args) && c.args.t === "tuple" ? c.args.items : [];
  if (encoding !== "latin1" && encoding !== "latin-1") return undefined;
  return typeof text === "string" || (isSym(text) && text.t === "bigstr") ? text : undefined;
}
