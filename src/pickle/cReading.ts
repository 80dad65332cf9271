/**
 * What CPython's C unpickler does with the bytes after a joblib array wrapper's BUILD. joblib's own
 * unpickler reads them as the array's data (P13), but pickle.load, torch.load and numpy.load know no
 * wrapper: they run the same bytes as opcodes, so array bytes that spell a payload run it under every
 * loader but joblib (red team round 22). Real array bytes read as opcodes fail within a few: an
 * undefined opcode, a stack too short, an operand cut off, an argument of the wrong type.
 *
 * This walks them as the C unpickler would, with the kinds of values only, from the machine's stack
 * and memo, until the load would fail (past a STOP, as a reader that loads again would go on, with
 * a fresh stack and memo); it returns the first opcode that would import, call,
 * or hand a value to an object's own method (an append, a __setitem__, a __hash__). It never judges
 * what that would do: a wrapper whose bytes also read as such opcodes is an ambiguity in itself.
 */
import { floatLine, intLine, longLine, memoKeyLine, quotedLine } from "./literals.js";
import { OP } from "./opcodes.js";
import { FORGOTTEN, isSym, PLAIN_DATA, type Value } from "./values.js";

/**
 * What a value can be to the C unpickler: a constant or container it made, "plain" (a container of
 * plain data the memo kept only as such), or "object" (anything else: a class, a call's result, a
 * persistent id; it may be callable and may have methods of its own).
 */
type Kind = "none" | "bool" | "number" | "str" | "bytes" | "bytearray" | "tuple" | "list" | "dict" | "set" | "frozenset" | "plain" | "object" | "tuple of objects";

/** The machine's state where the wrapper's BUILD left it. */
export interface StackState {
  /** The stack, bottom first. */
  readonly items: readonly Value[];
  /** Stack indexes of the MARKs, innermost last: the C unpickler pops nothing below the innermost. */
  readonly marks: readonly number[];
  /** A memo entry, or undefined when the memo has no such key (GET then fails). */
  memo(key: number): Value | undefined;
  /** Distinct keys in the memo: the key MEMOIZE stores under next. */
  readonly memoCount: number;
}

export type CReading =
  /** The load fails before doing anything, or ends with the bytes: they are data to every loader. */
  | { kind: "inert" }
  /** The opcode at `at` would do what `does` says. */
  | { kind: "acts"; at: number; does: string }
  /** The bytes given run out before the load fails: more are needed to tell. */
  | { kind: "undecided" };

/** Opcodes walked before the bytes count as undecided: real array bytes fail within a handful. */
const MAX_OPCODES = 100_000;

/**
 * Walks `bytes`, which start right after the BUILD at stream offset `start`; `atEnd` says whether
 * they reach the end of the stream (running out of them is then the load failing).
 */
export function readAsOpcodes(bytes: Uint8Array, start: number, atEnd: boolean, state: StackState): CReading {
  const stack: Kind[] = state.items.map((v) => kindOf(v));
  const marks = [...state.marks];
  const memo = new Map<number, Kind>();
  let pos = 0;
  const inert: CReading = { kind: "inert" };
  const short: CReading = atEnd ? inert : { kind: "undecided" };
  const fence = (): number => marks[marks.length - 1] ?? 0;
  const pop = (): Kind | undefined => (stack.length > fence() ? stack.pop() : undefined);
  const top = (depth = 0): Kind | undefined => (stack.length - depth > fence() ? stack[stack.length - 1 - depth] : undefined);
  /** The items above the innermost MARK, which is dropped; undefined without one. */
  const popMark = (): Kind[] | undefined => {
    const m = marks.pop();
    return m === undefined ? undefined : stack.splice(m);
  };
  /**
   * The target and items of APPEND(S), SETITEM(S) or ADDITEMS, taken off the stack as CPython's
   * do_append, do_setitems and load_additems take them (a batch's MARK popped); undefined when the
   * stack holds no target above the enclosing MARK. With no items, CPython looks at no target.
   */
  const batch = (op: number): { target: Kind; items: Kind[] } | undefined => {
    let from: number;
    if (op === OP.APPEND || op === OP.SETITEM) from = stack.length - (op === OP.APPEND ? 1 : 2);
    else {
      const m = marks.pop();
      if (m === undefined) return undefined;
      from = m;
    }
    if (from <= fence()) return undefined;
    const items = stack.splice(from);
    return { target: stack[from - 1]!, items };
  };
  const uint = (n: number): number | undefined => {
    if (pos + n > bytes.length) return undefined;
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + bytes[pos + i]!;
    pos += n;
    return v;
  };
  /** Skips a length-prefixed operand; false when it runs past the bytes given. */
  const skip = (width: number): boolean => {
    const n = uint(width);
    if (n === undefined || pos + n > bytes.length) return false;
    pos += n;
    return true;
  };
  const line = (): string | undefined => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) return undefined;
    const text = Buffer.from(bytes.subarray(pos, end)).toString("latin1");
    pos = end + 1;
    return text;
  };
  // What the machine's memo holds, until a STOP ends the stream the wrapper is in.
  let machineMemo = state.memo;
  let machineMemoCount = state.memoCount;
  // Keys stored here that the machine's memo does not hold: with its count, the key MEMOIZE stores under next.
  let ownKeys = 0;
  const memoSet = (key: number, k: Kind): void => {
    if (!memo.has(key) && machineMemo(key) === undefined) ownKeys++;
    memo.set(key, k);
  };
  const memoGet = (key: number): Kind | undefined => {
    const own = memo.get(key);
    if (own !== undefined) return own;
    const v = machineMemo(key);
    return v === undefined ? undefined : kindOf(v);
  };

  for (let n = 0; n < MAX_OPCODES; n++) {
    if (pos >= bytes.length) return short;
    const at = start + pos;
    const op = bytes[pos++]!;
    const acts = (does: string): CReading => ({ kind: "acts", at, does });
    const constant = CONSTANTS.get(op);
    if (constant) {
      const [width, kind, sized] = constant;
      if (sized ? !skip(width) : uint(width) === undefined) return short;
      stack.push(kind);
      continue;
    }
    switch (op) {
      case OP.STOP:
        // A reader that loads again from here (P8: pickle.load in a loop) starts a fresh stream: empty stack and memo.
        stack.length = 0;
        marks.length = 0;
        memo.clear();
        ownKeys = 0;
        machineMemo = () => undefined;
        machineMemoCount = 0;
        if (pos >= bytes.length && atEnd) return inert;
        break;
      case OP.MARK:
        marks.push(stack.length);
        break;
      case OP.POP:
        if (stack.length > fence()) stack.pop();
        else if (popMark() === undefined) return inert;
        break;
      case OP.POP_MARK:
        if (popMark() === undefined) return inert;
        break;
      case OP.DUP: {
        const k = top();
        if (k === undefined) return inert;
        stack.push(k);
        break;
      }
      case OP.INT:
      case OP.LONG:
      case OP.FLOAT: {
        const text = line();
        if (text === undefined) return short;
        const read = op === OP.INT ? intLine : op === OP.LONG ? longLine : floatLine;
        if (read(text) === undefined) return inert;
        stack.push("number");
        break;
      }
      case OP.STRING: {
        const text = line();
        if (text === undefined) return short;
        if (!quotedLine(text)) return inert;
        // Python 2's strings: decoded to str with the loader's encoding (ASCII, torch's UTF-8), bytes only with encoding="bytes".
        stack.push("str");
        break;
      }
      case OP.UNICODE:
        if (line() === undefined) return short;
        stack.push("str");
        break;
      case OP.TUPLE1:
      case OP.TUPLE2:
      case OP.TUPLE3: {
        const items: Kind[] = [];
        for (let i = 0; i <= op - OP.TUPLE1; i++) {
          const k = pop();
          if (k === undefined) return inert;
          items.push(k);
        }
        stack.push(items.every(hashable) ? "tuple" : "tuple of objects");
        break;
      }
      case OP.TUPLE:
      case OP.LIST: {
        const items = popMark();
        if (items === undefined) return inert;
        stack.push(op === OP.LIST ? "list" : items.every(hashable) ? "tuple" : "tuple of objects");
        break;
      }
      case OP.DICT: {
        const items = popMark();
        if (items === undefined || items.length % 2 !== 0) return inert;
        if (items.some((k, i) => i % 2 === 0 && !hashable(k))) return acts("hashes a key that is an object of the stream");
        stack.push("dict");
        break;
      }
      case OP.FROZENSET: {
        const items = popMark();
        if (items === undefined) return inert;
        if (!items.every(hashable)) return acts("hashes an item that is an object of the stream");
        stack.push("frozenset");
        break;
      }
      case OP.PUT: {
        const text = line();
        if (text === undefined) return short;
        const k = top();
        const key = memoKeyLine(text);
        if (k === undefined || key === undefined) return inert;
        memoSet(key, k);
        break;
      }
      case OP.BINPUT:
      case OP.LONG_BINPUT: {
        const key = uint(op === OP.BINPUT ? 1 : 4);
        if (key === undefined) return short;
        const k = top();
        if (k === undefined) return inert;
        memoSet(key, k);
        break;
      }
      case OP.MEMOIZE: {
        const k = top();
        if (k === undefined) return inert;
        memoSet(machineMemoCount + ownKeys, k);
        break;
      }
      case OP.GET:
      case OP.BINGET:
      case OP.LONG_BINGET: {
        let key: number | undefined;
        if (op === OP.GET) {
          const text = line();
          if (text === undefined) return short;
          key = memoKeyLine(text);
          if (key === undefined) return inert;
        } else {
          key = uint(op === OP.BINGET ? 1 : 4);
          if (key === undefined) return short;
        }
        const k = memoGet(key);
        if (k === undefined) return inert;
        stack.push(k);
        break;
      }
      case OP.FRAME:
        if (uint(8) === undefined) return short;
        break;
      case OP.PROTO: {
        const v = uint(1);
        if (v === undefined) return short;
        if (v > 5) return inert;
        break;
      }
      case OP.READONLY_BUFFER: {
        // A read-only view of the buffer on top (red team round 28), which stays there; anything else fails.
        const k = top();
        if (k !== "bytes" && k !== "bytearray" && k !== "plain" && k !== "object") return inert;
        break;
      }
      case OP.PERSID:
        if (line() === undefined) return short;
        stack.push("object");
        break;
      case OP.BINPERSID:
        if (pop() === undefined) return inert;
        stack.push("object");
        break;
      case OP.GLOBAL:
      case OP.INST: {
        const module = line();
        const name = module === undefined ? undefined : line();
        if (name === undefined) return short;
        if (!MODULE_LINE.test(module!) || !IMPORTABLE.test(name)) return inert;
        return acts(`imports ${module}.${name}`);
      }
      case OP.STACK_GLOBAL:
        if (!mayBeStr(top()) || !mayBeStr(top(1))) return inert;
        return acts("imports a name given as two strings");
      case OP.REDUCE:
        if (!mayBeTuple(top()) || top(1) !== "object") return inert;
        return acts("calls an object of the stream (REDUCE)");
      case OP.NEWOBJ:
        if (!mayBeTuple(top()) || top(1) !== "object") return inert;
        return acts("constructs an object of the stream (NEWOBJ)");
      case OP.NEWOBJ_EX:
        if (!mayBeDict(top()) || !mayBeTuple(top(1)) || top(2) !== "object") return inert;
        return acts("constructs an object of the stream (NEWOBJ_EX)");
      case OP.OBJ: {
        const items = popMark();
        if (items === undefined || items[0] !== "object") return inert;
        return acts("constructs an object of the stream (OBJ)");
      }
      case OP.BUILD: {
        const [state, inst] = [top(), top(1)];
        if (state === undefined || inst === undefined) return inert;
        if (inst === "object") return acts("hands a state to an object of the stream (BUILD)");
        // A builtin value has no __setstate__ and no __dict__: CPython's default BUILD passes it only a
        // state of None, or a (None, slots) pair with no slots, which a tuple, a memo placeholder or a
        // call's result may be (red team round 31); any other state fails the load.
        if (!MAY_BE_NO_STATE.has(state)) return inert;
        pop();
        break;
      }
      case OP.APPEND:
      case OP.APPENDS: {
        const b = batch(op);
        if (b === undefined) return inert;
        if (b.items.length === 0) break;
        if (b.target === "object") return acts("hands items to an object's own append or extend");
        // bytearray.append takes an int: an object's __index__ gives it one.
        if (b.target === "bytearray" && b.items.includes("object")) return acts("hands an object of the stream to bytearray, which calls its __index__");
        if (b.target !== "list" && b.target !== "bytearray" && b.target !== "plain") return inert;
        break;
      }
      case OP.SETITEM:
      case OP.SETITEMS: {
        const b = batch(op);
        if (b === undefined) return inert;
        if (b.items.length === 0) break;
        if (b.items.length % 2 !== 0) return inert;
        if (b.target === "object") return acts("hands items to an object's own __setitem__");
        const keys = b.items.filter((_, i) => i % 2 === 0);
        const mayBeDict = b.target === "dict" || b.target === "plain";
        const mayBeSequence = b.target === "list" || b.target === "bytearray" || b.target === "plain";
        if (mayBeDict && !keys.every(hashable)) return acts("hashes a key that is an object of the stream");
        // A list's or bytearray's index must be an int, and so must a bytearray's item: an object's __index__ gives one (red team rounds 27, 31).
        if (mayBeSequence && keys.includes("object")) return acts("indexes a list by an object of the stream, which calls its __index__");
        if (b.target === "bytearray" && b.items.includes("object")) return acts("hands an object of the stream to bytearray, which calls its __index__");
        if (!mayBeDict && !mayBeSequence) return inert;
        break;
      }
      case OP.ADDITEMS: {
        const b = batch(op);
        if (b === undefined) return inert;
        if (b.items.length === 0) break;
        if (b.target === "object") return acts("hands items to an object's own add");
        if (b.target !== "set" && b.target !== "plain") return inert;
        if (!b.items.every(hashable)) return acts("hashes an item that is an object of the stream");
        break;
      }
      default:
        // EXT1/2/4 need an extension registry the standard loaders leave empty; NEXT_BUFFER needs
        // out-of-band buffers they are not given; any other byte is no opcode.
        return inert;
    }
  }
  return { kind: "undecided" };
}

/** A tuple of the machine's larger or deeper than this counts as holding objects. */
const TUPLE_ITEMS_LOOKED_AT = 64;

/**
 * Opcodes that push a constant: the width of their operand (0: none), what they push, and whether the
 * operand is a length of that many bytes followed by as many bytes (else the value itself). Python 2's
 * strings (SHORT_BINSTRING, BINSTRING) are decoded to str with the loader's encoding (ASCII; torch's UTF-8).
 */
const CONSTANTS: ReadonlyMap<number, readonly [number, Kind, boolean]> = new Map([
  [OP.NONE, [0, "none", false]],
  [OP.NEWTRUE, [0, "bool", false]],
  [OP.NEWFALSE, [0, "bool", false]],
  [OP.EMPTY_TUPLE, [0, "tuple", false]],
  [OP.EMPTY_LIST, [0, "list", false]],
  [OP.EMPTY_DICT, [0, "dict", false]],
  [OP.EMPTY_SET, [0, "set", false]],
  [OP.BININT, [4, "number", false]],
  [OP.BININT1, [1, "number", false]],
  [OP.BININT2, [2, "number", false]],
  [OP.BINFLOAT, [8, "number", false]],
  [OP.LONG1, [1, "number", true]],
  [OP.LONG4, [4, "number", true]],
  [OP.SHORT_BINUNICODE, [1, "str", true]],
  [OP.BINUNICODE, [4, "str", true]],
  [OP.BINUNICODE8, [8, "str", true]],
  [OP.SHORT_BINSTRING, [1, "str", true]],
  [OP.BINSTRING, [4, "str", true]],
  [OP.SHORT_BINBYTES, [1, "bytes", true]],
  [OP.BINBYTES, [4, "bytes", true]],
  [OP.BINBYTES8, [8, "bytes", true]],
  [OP.BYTEARRAY8, [8, "bytearray", true]],
]);

function kindOf(v: Value, depth = 4): Kind {
  if (v === null) return "none";
  switch (typeof v) {
    case "boolean":
      return "bool";
    case "number":
    case "bigint":
      return "number";
    case "string":
      return "str";
  }
  if (v === PLAIN_DATA) return "plain";
  if (!isSym(v) || v === FORGOTTEN) return "object";
  switch (v.t) {
    case "bytes":
    case "bigbytes":
      return "bytes";
    case "bigstr":
      return "str";
    case "tuple":
      return depth > 0 && v.items.length <= TUPLE_ITEMS_LOOKED_AT && v.items.every((item) => hashable(kindOf(item, depth - 1))) ? "tuple" : "tuple of objects";
    case "list":
    case "dict":
      return v.t;
    case "set":
      return v.frozen ? "frozenset" : "set";
    default:
      return "object";
  }
}

/** States that may be None or (None, None): what BUILD may give a value with no __setstate__ and no __dict__. */
const MAY_BE_NO_STATE: ReadonlySet<Kind | undefined> = new Set<Kind>(["none", "tuple", "tuple of objects", "plain", "object"]);

/** Whether hashing a value of this kind runs only the builtin types' own hashes (or fails). */
function hashable(k: Kind): boolean {
  return k !== "object" && k !== "tuple of objects";
}

/**
 * What a value may be to an opcode that requires a type: "plain" (a memo placeholder) may be any plain
 * str, tuple or dict, and "object" (a call's result) anything at all. Only a callable must be an object.
 */
const mayBeStr = (k: Kind | undefined): boolean => k === "str" || k === "plain" || k === "object";
const mayBeTuple = (k: Kind | undefined): boolean => k === "tuple" || k === "tuple of objects" || k === "plain" || k === "object";
const mayBeDict = (k: Kind | undefined): boolean => k === "dict" || k === "plain" || k === "object";

/** A name find_class could look up: identifiers joined by dots. */
const IMPORTABLE = /^[\p{L}_][\p{L}\p{N}_]*(\.[\p{L}_][\p{L}\p{N}_]*)*$/u;
/**
 * A module find_class could import: files need no identifier's name (red team round 29: CPython
 * imports _sysconfigdata__linux_x86_64-linux-gnu), so dashes count too.
 */
const MODULE_LINE = /^[\p{L}\p{N}_-]+(\.[\p{L}\p{N}_-]+)*$/u;
