/**
 * The symbolic pickle machine: every opcode of protocols 0–5, with a symbolic stack, memo and
 * marks. It never imports or calls anything; it reports what a real unpickler *would* import and
 * call to an observer, which classifies. One Machine runs one stream (up to its STOP); nested
 * inline streams (joblib object arrays) run in a child machine over the same reader.
 */
import { LIMITS } from "../limits.js";
import { OP, HIGHEST_PROTOCOL, OPERAND_BYTES, opName } from "./opcodes.js";
import { INT_MAX_STR_DIGITS, floatLine, intLine, longLine, memoKeyLine, outsizedIntegerLine, parseIntLiteral, quotedLine, tooManyDigits, unescapePy } from "./literals.js";
import { NeedMore, Operands, StreamBreak, utf8 } from "./operands.js";
import { Memo, OverlayMemo } from "./memo.js";
import { readAsOpcodes, type StackState } from "./cReading.js";
import { MIN_CONSTANT, type ConstantLog } from "./constants.js";
import { FloodWatch } from "./collisions.js";
import { mayCollide } from "./pyHash.js";
import type { StreamReader } from "./reader.js";
import {
  FORGOTTEN,
  PLAIN_DATA,
  SAMPLE,
  callResult,
  emptyDict,
  emptyList,
  emptySet,
  globalRef,
  heldNeverCalled,
  isPlain,
  isSym,
  noteForgotten,
  noteNeverCalled,
  retainedSize,
  tuple,
  type CallKind,
  type CallResult,
  type Dict,
  type DynamicGlobal,
  type GlobalRef,
  type List,
  type MutableContainer,
  type PersistentRef,
  type SetValue,
  type Sym,
  type Tuple,
  type Value,
} from "./values.js";



// Bounds read on every opcode, hoisted out of the frozen LIMITS object.
const MAX_STACK = LIMITS.pickleMaxStack;
/** Memo keys past this, far from the memo's count, make CPython allocate 16 bytes a key (256 MiB here). */
const MEMO_KEY_ALLOCATION = 1 << 24;
const MAX_MEMO = LIMITS.pickleMaxMemo;
const MAX_OPCODES = LIMITS.pickleMaxOpcodes;
/**
 * OPERAND_BYTES of the opcodes the hot loop reads in place, checked once before its switch; rare
 * opcodes read through Operands, which leaves `r.pos` past the opcode when an operand is cut short.
 */
const HOT_OPERANDS: ReadonlySet<number> = new Set([
  OP.BININT, OP.BININT1, OP.BININT2, OP.BINFLOAT, OP.SHORT_BINUNICODE, OP.BINPUT, OP.LONG_BINPUT, OP.BINGET, OP.LONG_BINGET,
]);
const HOT_OPERAND_BYTES = OPERAND_BYTES.map((n, op) => (HOT_OPERANDS.has(op) ? n : 0));
/**
 * Up to this many memo entries everything is kept. Past it, the memo keeps placeholders for most
 * values (see compacted), so a dense pickle's memo does not pin every record in memory.
 */
const MEMO_RETAIN_ALL = LIMITS.pickleMemoRetainAll;
/**
 * Whether a string could name a module or attribute (`/^[A-Za-z_][\w.]{0,255}$/`); other memoized
 * strings past MEMO_RETAIN_ALL are plain data. A loop rather than that RegExp: it runs for every
 * string a dense pickle memoizes, and most stop at their first character that is not a name's.
 */
export function nameLike(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 256) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    const letter = (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
    if (!letter && c !== 0x5f && (i === 0 || !((c >= 0x30 && c <= 0x39) || c === 0x2e))) return false;
  }
  return true;
}

/** How a stream can go wrong; each kind maps to one rule in the classifier. */
export type IssueKind = "broken" | "limit" | "malformed" | "ambiguous" | "allocation";

/** What the observer asks the machine to do after a BUILD (joblib stores raw array bytes inline). */
export type BuildDirective =
  | { skip: number; alignmentPadding: boolean }
  | { nestedPickle: true }
  | undefined;

export interface MachineObserver {
  /**
   * True for a name never to be called at load (a class allowlisted to be constructed only): the
   * machine then marks what holds it and tells onNeverCalledStored where it is put.
   */
  onImport(g: GlobalRef): boolean | void;
  onDynamicImport(d: DynamicGlobal): void;
  onCall(c: CallResult): void;
  onBuild(target: Value, state: Value, at: number): BuildDirective;
  onExt(code: number, at: number): void;
  /**
   * What the loader's persistent_load returns for `ref`, when the observer knows it to be a value
   * of the stream itself (PyTorch's legacy layout hands back a module id's class); undefined keeps
   * the reference, a value only the loader can make.
   */
  onPersistentId(ref: PersistentRef): Value | undefined;
  onIssue(kind: IssueKind, message: string, at: number): void;
  /**
   * An observer for a second reading of an inline array pickle, as pickle.load, torch.load and
   * numpy.load run its bytes (in the outer stream's unpickler, its memo and all); `done` once it ends.
   */
  inlineReading?(): { observer: MachineObserver; done(): void };
  /** The memo put FORGOTTEN in place of a value: until this is called, no value holds FORGOTTEN. */
  onForget?(): void;
  /** SETITEM(S) on something other than a dict (an OrderedDict() call result): `kv[from…to)`, valid only during the call. */
  onSetItems?(target: Sym, kv: readonly Value[], from: number, to: number): void;
  /** A dict's value past its kept sample that is an import or a call result (what an attribute could be called as), seen once. */
  onUnkeptValue?(target: Dict, value: GlobalRef | CallResult): void;
  /**
   * APPEND(S), SETITEM(S) or ADDITEMS put `never` (a name onImport called never to be called), or a
   * container holding it, into `target`: a list, dict or set, or an object's append or __setitem__.
   * Whatever iterates or reads the target later may call it, out of the scanner's sight.
   */
  onNeverCalledStored?(target: Sym, never: GlobalRef, at: number): void;
  /** An integer operand (LONG1, LONG4, INT, LONG) past LIMITS.pickleMaxNumberBits, described. */
  onLongInteger?(description: string, at: number): void;
  /** APPEND(S), SETITEM(S) or ADDITEMS hand `items[from…to)` (keys and values alike) to an object's own append, extend, add or __setitem__, valid only during the call. */
  onObjectItems?(target: Sym, items: readonly Value[], from: number, to: number, at: number): void;
  /**
   * The stream holds the text "__setstate__" (as any str constant): BUILD looks that name up on the
   * object it restores, and a mapping that serves its items as attributes, or a __getattr__ that
   * forwards, answers with whatever was stored under it, at any depth.
   */
  onSetstateName?(at: number): void;
  /**
   * APPEND(S) or ADDITEMS on an object, after some dict or object was given an item named `append`,
   * `extend` or `add`, or under a key made at load time: pickle looks those methods up on the object,
   * and a mapping that serves its items as attributes (or a __getattr__ that forwards) answers with
   * the stored value, which is then called with the items.
   */
  onItemsByLookup?(target: Sym, at: number): void;
  /**
   * The stream's dicts and sets hold keys that share CPython hashes (see collisions.ts): loading
   * them would make `probes` comparisons, `widest` distinct keys under one hash. Told once.
   */
  onHashFlood?(widest: number, probes: number, at: number): void;
}

const SETSTATE = "__setstate__";
/** The methods APPEND(S) and ADDITEMS look up on an object that is not a list or set. */
const ITEM_METHODS: ReadonlySet<string> = new Set(["append", "extend", "add"]);
/** Bit n set when some name in ITEM_METHODS is n characters long: a test that skips most keys before the set lookup. */
const ITEM_METHOD_LENGTHS = [...ITEM_METHODS].reduce((bits, m) => bits | (1 << m.length), 0);

export interface MachineOptions {
  /**
   * Keep every container item and memo entry instead of a sample (the converter rebuilds the whole
   * value tree). Memory then follows the pickle's size, so callers bound that first.
   */
  keepAll?: boolean;
  /** Bytes of values the memo keeps past its retention bound (LIMITS.pickleMemoKeepBytes by default; tests use less). */
  memoBudget?: number;
  /** Notes str and bytes constants for dormant second stages (P22). */
  constants?: ConstantLog;
  /** The memo to start from (an inline array pickle read as other loaders run it: OverlayMemo). */
  memo?: Memo;
}

export interface StreamOutcome {
  /** Offset just past the last byte consumed. */
  end: number;
  /** True when the stream reached STOP. */
  stopped: boolean;
  /** The value STOP returned (the unpickled object, symbolically). */
  result: Value;
  /** Imports and calls seen: a stream that did neither before breaking is data, not code. */
  effects: number;
}

/** BUILD asked for work that reads the stream asynchronously (joblib arrays); the opcode itself is done. */
class PendingBuild {
  constructor(
    readonly directive: Exclude<BuildDirective, undefined>,
    readonly at: number,
  ) {}
}

const EMPTY: Value = Object.freeze(tuple([]));
/** Bytes after a joblib array wrapper first read as opcodes (see checkCReading), and at most. */
const C_READING_FIRST = 256;
const C_READING_MAX = 1 << 20;

export class Machine {
  /**
   * The symbolic stack is `stack[0…sp)`. The array never shrinks: popping only moves `sp`, because
   * V8 trims an array's storage as its length falls and grows it again as it rises, and a data
   * pickle's stack rises and falls by a thousand items per batch. Slots at and past `sp` are stale.
   */
  private readonly stack: Value[] = [null];
  private sp = 0;
  /** Stack index of the innermost MARK (0 with none): what an opcode may pop starts here. */
  private floor = 0;
  /** The floors of the enclosing MARKs, innermost last. */
  private readonly marks: number[] = [];
  private readonly memo: Memo;
  private frameEnd = -1;
  private opcodes = 0;
  private effects = 0;
  private ambiguityReported = false;
  /** A memo key far past the memo's count was reported (once per stream). */
  private memoKeyReported = false;
  /** checkCReading found array bytes that read as a program (reported once per stream). */
  private cReadingReported = false;
  /** Some dict or object was given an item named like a method APPEND(S) or ADDITEMS looks up (see noteMethodKeys). */
  private methodKeyed = false;
  /** What the memo keeps past MEMO_RETAIN_ALL, charged against the memo budget (see retained). */
  private keptBytes = 0;
  /** The observer was told the memo dropped a value (once is all it needs: see onForget). */
  private forgetting = false;
  private readonly ops: Operands;
  /** Items a container keeps, and memo entries kept whole (see MachineOptions.keepAll). */
  private readonly sample: number;
  private readonly retainAll: number;
  private readonly memoBudget: number;
  private readonly constants: ConstantLog | undefined;
  private readonly options: MachineOptions;
  private readonly flood: FloodWatch;

  constructor(
    private readonly r: StreamReader,
    private readonly observer: MachineObserver,
    private readonly nesting = 0,
    options: MachineOptions = {},
  ) {
    this.ops = new Operands(r, options.constants);
    this.memo = options.memo ?? new Memo();
    this.constants = options.constants;
    this.options = options;
    this.sample = options.keepAll ? Infinity : SAMPLE;
    this.retainAll = options.keepAll ? Infinity : MEMO_RETAIN_ALL;
    this.memoBudget = options.memoBudget ?? LIMITS.pickleMemoKeepBytes;
    this.flood = new FloodWatch((widest, probes, at) => observer.onHashFlood?.(widest, probes, at));
  }

  async run(): Promise<StreamOutcome> {
    try {
      const result = await this.loop();
      return this.outcome(true, result);
    } catch (err) {
      if (!(err instanceof StreamBreak)) throw err;
      this.observer.onIssue(err.kind, err.message, err.at);
      return this.outcome(false, null);
    }
  }

  private outcome(stopped: boolean, result: Value): StreamOutcome {
    const end = Math.min(this.r.pos, this.r.size);
    // CPython reads a frame whole: a STOP inside one leaves the rest of the frame unread, and the next
    // pickle.load of the same file starts at the frame's end (a red team hid torch's real object
    // pickle behind a decoy that way). That is where the scan goes on too.
    if (stopped && this.frameEnd > end) {
      this.ambiguous(`STOP at ${end - 1} ends the stream inside a FRAME that runs to ${this.frameEnd}: a loader reading on starts at the frame's end, past the ${this.frameEnd - end} bytes after STOP`, end - 1);
      return { end: this.frameEnd, stopped, result, effects: this.effects };
    }
    return { end, stopped, result, effects: this.effects };
  }

  /**
   * Runs opcodes synchronously while their operands are buffered (no promise per opcode); at a
   * buffer boundary the opcode is rewound, more data loaded, and the run resumes.
   */
  private async loop(): Promise<Value> {
    const r = this.r;
    for (;;) {
      try {
        return this.runBuffered();
      } catch (err) {
        if (err instanceof NeedMore) {
          // An opcode whose byte is buffered was counted before its operands ran out; it runs again.
          if (err.at < r.bufEnd) this.opcodes--;
          r.pos = err.at;
          await r.ensure(err.bytes);
          if (!r.holds(err.bytes)) {
            // Asking again would return the same, for ever.
            throw new StreamBreak("broken", `the data ends at ${r.bufEnd}, before its size of ${r.size} bytes (changed while read?)`, err.at);
          }
        } else if (err instanceof PendingBuild) {
          await this.afterBuild(err.directive, err.at);
        } else throw err;
      }
    }
  }

  /**
   * The hot loop: the opcodes of dense data pickles, their operands read in place. The cursor `p`
   * is a local; `r.pos` is brought up to date before anything else reads it (rare opcodes, STOP, a
   * refill), which is what lets V8 keep the cursor in a register.
   */
  private runBuffered(): Value {
    const r = this.r;
    const ops = this.ops;
    const buf = r.buf;
    const base = r.bufStart;
    const end = (ops.end = base + buf.length);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    let p = r.pos;
    // Kept in a local in the loop; written back before anything that may rerun the opcode or read
    // the count (a refill, a rare opcode, STOP). Past the limit the stream ends, count unneeded.
    let opcodes = this.opcodes;
    for (;;) {
      const at = p;
      if (at >= end) {
        this.opcodes = opcodes;
        if (end >= r.size) throw new StreamBreak("broken", "stream ends without STOP (truncated)", at);
        throw new NeedMore(at, 1);
      }
      if (at >= this.frameEnd && this.frameEnd >= 0) this.checkFrame(at);
      const op = buf[at - base]!;
      p = at + 1;
      if (++opcodes > MAX_OPCODES) throw new StreamBreak("limit", `more than ${MAX_OPCODES} opcodes`, at);
      const operand = HOT_OPERAND_BYTES[op]!;
      if (p + operand > end) {
        this.opcodes = opcodes;
        ops.short(at, p + operand);
      }
      /** Buffer index of the first operand byte. */
      const i = p - base;

      switch (op) {
        case OP.MARK:
          this.mark(at);
          break;
        case OP.NONE:
          this.push(null, at);
          break;
        case OP.NEWTRUE:
          this.push(true, at);
          break;
        case OP.NEWFALSE:
          this.push(false, at);
          break;
        case OP.BININT:
          this.push(view.getInt32(i, true), at);
          p += 4;
          break;
        case OP.BININT1:
          this.push(buf[i]!, at);
          p += 1;
          break;
        case OP.BININT2:
          this.push(view.getUint16(i, true), at);
          p += 2;
          break;
        case OP.BINFLOAT:
          // The one big-endian operand of the format.
          this.push(view.getFloat64(i, false), at);
          p += 8;
          break;
        case OP.SHORT_BINUNICODE: {
          const n = buf[i]!;
          if (p + 1 + n > end) {
            this.opcodes = opcodes;
            ops.unbuffered(p + 1, n, at);
          }
          if (n >= MIN_CONSTANT && this.constants) this.constants.inBuffer(buf, i + 1, n, p + 1, true);
          const s = utf8(buf, i + 1, n);
          if (n === SETSTATE.length && s === SETSTATE) this.observer.onSetstateName?.(at);
          this.push(s, at);
          p += 1 + n;
          break;
        }
        case OP.EMPTY_TUPLE:
          this.push(EMPTY, at);
          break;
        case OP.TUPLE1:
          this.push(tuple(this.popItems(1, at)), at);
          break;
        case OP.TUPLE2:
          this.push(tuple(this.popItems(2, at)), at);
          break;
        case OP.TUPLE3:
          this.push(tuple(this.popItems(3, at)), at);
          break;
        case OP.EMPTY_LIST:
          this.push(emptyList(), at);
          break;
        case OP.APPEND: {
          const m = this.itemsFrom(1, at);
          this.extendList(this.stack[m - 1]!, this.stack, m, this.sp, at);
          this.sp = m;
          break;
        }
        case OP.APPENDS: {
          const m = this.popMarkIndex(at);
          this.extendList(this.below(m, at), this.stack, m, this.sp, at);
          this.sp = m;
          break;
        }
        case OP.EMPTY_DICT:
          this.push(emptyDict(), at);
          break;
        case OP.SETITEM: {
          const m = this.itemsFrom(2, at);
          this.setItems(this.stack[m - 1]!, this.stack, m, this.sp, at);
          this.sp = m;
          break;
        }
        case OP.SETITEMS: {
          const m = this.popMarkIndex(at);
          this.setItems(this.below(m, at), this.stack, m, this.sp, at);
          this.sp = m;
          break;
        }
        case OP.BINPUT:
          this.put(buf[i]!, at);
          p += 1;
          break;
        case OP.LONG_BINPUT:
          this.put(view.getUint32(i, true), at);
          p += 4;
          break;
        case OP.MEMOIZE:
          this.put(this.memo.count, at);
          break;
        case OP.BINGET:
          this.push(this.get(buf[i]!, at), at);
          p += 1;
          break;
        case OP.LONG_BINGET:
          this.push(this.get(view.getUint32(i, true), at), at);
          p += 4;
          break;
        case OP.STOP:
          r.pos = p;
          this.opcodes = opcodes;
          return this.pop(at);

        default:
          r.pos = p;
          this.opcodes = opcodes;
          this.rare(op, at);
          p = r.pos;
      }
    }
  }

  /** Opcodes outside the hot set of dense data pickles; kept apart so the hot loop stays small enough to inline its helpers. */
  private rare(op: number, at: number): void {
    const obs = this.observer;
    switch (op) {
      case OP.FRAME: {
        const len = this.ops.u64(at);
        if (this.frameEnd > at) this.ambiguous(`FRAME at ${at} starts inside the previous frame`, at);
        if (this.r.pos + len > this.r.size) {
          // Loaders that prefetch frames fail here; loaders that treat FRAME as a hint read on.
          obs.onIssue("malformed", `FRAME of ${len} bytes runs past the end of the data`, at);
          this.frameEnd = -1;
        } else this.frameEnd = this.r.pos + len;
        break;
      }
      case OP.BINUNICODE:
        this.pushText(this.ops.text(this.ops.u32(at), "utf8", at), at);
        break;
      case OP.TUPLE:
        this.push(tuple(this.popMark(at)), at);
        break;
      case OP.PROTO: {
        const v = this.ops.u8(at);
        // CPython refuses the stream here; a different loader might not, so analysis goes on.
        if (v > HIGHEST_PROTOCOL) obs.onIssue("malformed", `unsupported protocol ${v}`, at);
        break;
      }
      case OP.POP:
        // CPython pops the mark itself when the current frame is empty.
        if (this.sp > this.floor) this.sp--;
        else this.popMarkIndex(at);
        break;
      case OP.POP_MARK:
        this.popMark(at);
        break;
      case OP.DUP:
        this.push(this.top(at), at);
        break;

      case OP.LONG1:
        this.push(this.ops.longBytes(this.ops.u8(at), at), at);
        break;
      case OP.LONG4: {
        const n = this.ops.i32(at);
        if (n < 0) throw new StreamBreak("malformed", `LONG4 with negative byte count ${n}`, at);
        if (n * 8 > LIMITS.pickleMaxNumberBits) obs.onLongInteger?.(`an integer of ${n} bytes`, at);
        this.push(this.ops.longBytes(n, at), at);
        break;
      }
      case OP.INT: {
        const line = this.ops.line(at);
        if (outsizedIntegerLine(line)) obs.onLongInteger?.(`an integer of ${line.length} characters`, at);
        this.push(intOperand(intLine(line), line, at), at);
        break;
      }
      case OP.LONG: {
        const line = this.ops.line(at);
        if (outsizedIntegerLine(line)) obs.onLongInteger?.(`an integer of ${line.length} characters`, at);
        this.push(intOperand(longLine(line), line, at), at);
        break;
      }
      case OP.FLOAT: {
        const line = this.ops.line(at);
        const v = floatLine(line);
        if (v === undefined) throw new StreamBreak("malformed", `FLOAT operand ${JSON.stringify(line.trim())} is not a number`, at);
        this.push(v, at);
        break;
      }
      case OP.STRING: {
        const line = this.ops.line(at);
        if (!quotedLine(line)) throw new StreamBreak("malformed", "STRING operand is not quoted", at);
        const s = unescaped(line.slice(1, -1), at);
        this.constants?.text(s, at);
        this.pushText(s, at);
        break;
      }
      case OP.UNICODE: {
        const s = this.ops.unicodeLine(at);
        if (s === undefined) throw new StreamBreak("malformed", "UNICODE operand has a \\u or \\U escape without hex digits, or past U+10FFFF", at);
        this.constants?.text(s, at);
        this.pushText(s, at);
        break;
      }
      case OP.BINSTRING: {
        const n = this.ops.i32(at);
        if (n < 0) throw new StreamBreak("malformed", `BINSTRING with negative length ${n}`, at);
        this.pushText(this.ops.text(n, "latin1", at), at);
        break;
      }
      case OP.SHORT_BINSTRING: {
        const n = this.ops.u8(at);
        this.pushText(this.ops.text(n, "latin1", at), at);
        break;
      }
      case OP.BINUNICODE8:
        this.pushText(this.ops.text(this.ops.u64(at), "utf8", at), at);
        break;
      case OP.BINBYTES:
        this.push(this.ops.bytes(this.ops.u32(at), at), at);
        break;
      case OP.SHORT_BINBYTES:
        this.push(this.ops.bytes(this.ops.u8(at), at), at);
        break;
      case OP.BINBYTES8:
      case OP.BYTEARRAY8:
        this.push(this.ops.bytes(this.ops.u64(at), at), at);
        break;
      case OP.NEXT_BUFFER:
        this.push({ t: "opaque", what: "out-of-band buffer" }, at);
        break;
      case OP.READONLY_BUFFER:
        this.top(at);
        break;

      case OP.LIST: {
        const list = emptyList();
        const m = this.popMarkIndex(at);
        this.addItems(list, this.stack, m, this.sp, at);
        this.sp = m;
        this.push(list, at);
        break;
      }
      case OP.DICT: {
        const d = emptyDict();
        const m = this.popMarkIndex(at);
        this.setItems(d, this.stack, m, this.sp, at);
        this.sp = m;
        this.push(d, at);
        break;
      }
      case OP.EMPTY_SET:
        this.push(emptySet(false), at);
        break;
      case OP.ADDITEMS: {
        const m = this.popMarkIndex(at);
        const s = this.below(m, at);
        // CPython adds nothing and looks at no target when the MARK holds no items (red team round 31).
        if (m < this.sp && !this.intoPlaceholder(s, at)) {
          if (isSym(s) && s.t === "set") this.addItems(s, this.stack, m, this.sp, at);
          else if (!isSym(s)) throw new StreamBreak("malformed", `ADDITEMS on a ${typeName(s)}`, at);
          // ADDITEMS on an object calls its add method, which keeps the items.
          else this.itemsByLookup(s, this.stack, m, this.sp, at);
        }
        this.sp = m;
        break;
      }
      case OP.FROZENSET: {
        const s = emptySet(true);
        const m = this.popMarkIndex(at);
        this.addItems(s, this.stack, m, this.sp, at);
        this.sp = m;
        this.push(s, at);
        break;
      }

      case OP.PUT:
        this.put(memoKey(this.ops.line(at), at), at);
        break;
      case OP.GET:
        this.push(this.get(memoKey(this.ops.line(at), at), at), at);
        break;
      case OP.GLOBAL: {
        const module = this.ops.line(at);
        const name = this.ops.line(at);
        this.push(this.imported(module, name, at, "GLOBAL"), at);
        break;
      }
      case OP.STACK_GLOBAL: {
        const name = this.pop(at);
        const module = this.pop(at);
        if (typeof module === "string" && typeof name === "string") {
          this.push(this.imported(module, name, at, "STACK_GLOBAL"), at);
        } else {
          const d: DynamicGlobal = { t: "dynglobal", module, name, at };
          this.effects++;
          obs.onDynamicImport(d);
          this.push(d, at);
        }
        break;
      }
      case OP.EXT1:
      case OP.EXT2:
      case OP.EXT4: {
        const code = op === OP.EXT1 ? this.ops.u8(at) : op === OP.EXT2 ? this.ops.u16(at) : this.ops.i32(at);
        if (code <= 0) throw new StreamBreak("malformed", `${opName(op)} with code ${code} <= 0`, at);
        this.effects++;
        obs.onExt(code, at);
        this.push({ t: "opaque", what: `extension ${code}` }, at);
        break;
      }

      case OP.REDUCE: {
        const args = this.pop(at);
        const fn = this.pop(at);
        this.push(this.call(fn, args, "REDUCE", at), at);
        break;
      }
      case OP.NEWOBJ: {
        const args = this.pop(at);
        const cls = this.pop(at);
        this.push(this.call(cls, args, "NEWOBJ", at), at);
        break;
      }
      case OP.NEWOBJ_EX: {
        const kwargs = this.pop(at);
        const args = this.pop(at);
        const cls = this.pop(at);
        this.push(this.call(cls, tuple([args, kwargs]), "NEWOBJ_EX", at), at);
        break;
      }
      case OP.INST: {
        const module = this.ops.line(at);
        const name = this.ops.line(at);
        const args = this.popMark(at);
        const cls = this.imported(module, name, at, "INST");
        this.push(this.call(cls, tuple(args), "INST", at), at);
        break;
      }
      case OP.OBJ: {
        const items = this.popMark(at);
        if (items.length === 0) throw new StreamBreak("malformed", "OBJ without a class after MARK", at);
        this.push(this.call(items[0]!, tuple(items.slice(1)), "OBJ", at), at);
        break;
      }
      case OP.BUILD: {
        const state = this.pop(at);
        const target = this.top(at);
        this.effects++;
        this.flood.handed(state, at, 3);
        if (isSym(target) && target.t === "call" && target.built === undefined) target.built = state;
        const directive = obs.onBuild(target, state, at);
        if (directive) throw new PendingBuild(directive, at);
        break;
      }
      case OP.PERSID:
        this.persistent(this.ops.line(at), at);
        break;
      case OP.BINPERSID:
        this.persistent(this.pop(at), at);
        break;
      default:
        throw new StreamBreak("malformed", `invalid opcode ${opName(op)}`, at);
    }
  }

  // ---- stack

  private mark(at: number): void {
    if (this.marks.length >= LIMITS.pickleMaxMarks) throw new StreamBreak("limit", `more than ${LIMITS.pickleMaxMarks} nested MARKs`, at);
    this.marks.push(this.floor);
    this.floor = this.sp;
  }

  /** Pushes a str constant, telling the observer when it names __setstate__ (see onSetstateName). */
  private pushText(s: Value, at: number): void {
    if (s === SETSTATE) this.observer.onSetstateName?.(at);
    this.push(s, at);
  }

  private push(v: Value, at: number): void {
    const sp = this.sp;
    if (sp >= MAX_STACK) throw new StreamBreak("limit", `stack deeper than ${MAX_STACK}`, at);
    this.stack[sp] = v; // at most one past the end: the array grows by appending, never gets holes
    this.sp = sp + 1;
  }

  private pop(at: number): Value {
    if (this.sp <= this.floor) throw this.emptyStack(at);
    return this.stack[--this.sp]!;
  }

  private top(at: number): Value {
    if (this.sp <= this.floor) throw this.emptyStack(at);
    return this.stack[this.sp - 1]!;
  }

  private emptyStack(at: number): StreamBreak {
    return new StreamBreak("malformed", `${opName(this.ops.opAt(at))} on an empty stack`, at);
  }

  /** Pops a MARK and the items above it, oldest first. */
  private popMark(at: number): Value[] {
    const m = this.popMarkIndex(at);
    const items = this.stack.slice(m, this.sp);
    this.sp = m;
    return items;
  }

  /** Pops the top `n` items as a new array, oldest first (TUPLE1–3; sliced, not a literal: see values.ts). */
  private popItems(n: number, at: number): Value[] {
    const sp = this.sp;
    if (sp - n < this.floor) throw this.emptyStack(at);
    this.sp = sp - n;
    return this.stack.slice(sp - n, sp);
  }

  /**
   * For APPEND and SETITEM: the stack index of the top `n` items, checking that a container sits
   * below them. The caller reads them in place and then drops them by setting `sp`.
   */
  private itemsFrom(n: number, at: number): number {
    const m = this.sp - n;
    if (m <= this.floor) throw this.emptyStack(at);
    return m;
  }

  /** The value just under the items of a popped MARK at stack index `m` (the container they go into). */
  private below(m: number, at: number): Value {
    if (m <= this.floor) throw this.emptyStack(at);
    return this.stack[m - 1]!;
  }

  /** Pops a MARK and returns the stack index its items start at (callers drop the items by setting `sp`). */
  private popMarkIndex(at: number): number {
    const outer = this.marks.pop();
    if (outer === undefined) throw new StreamBreak("malformed", `${opName(this.ops.opAt(at))} without a MARK`, at);
    const m = this.floor;
    this.floor = outer;
    return m;
  }

  // ---- memo

  private put(key: number, at: number): void {
    if (this.sp <= this.floor) throw new StreamBreak("malformed", "memo store with an empty stack", at);
    const v = this.stack[this.sp - 1]!;
    const count = this.memo.count;
    if (count >= MAX_MEMO && this.memo.get(key) === undefined) throw new StreamBreak("limit", `memo larger than ${MAX_MEMO} entries`, at);
    // CPython's C unpickler keeps its memo in an array it grows to twice the largest key: LONG_BINPUT 2**28 is 4 GB, in 9 bytes.
    if (key > MEMO_KEY_ALLOCATION && key > 2 * count && !this.memoKeyReported) {
      this.memoKeyReported = true;
      this.observer.onIssue("allocation", `memo key ${key}: CPython's unpickler grows its memo array to twice the largest key, ${key * 16} bytes at load`, at);
    }
    if (!this.memo.set(key, count < this.retainAll ? v : this.compacted(v, key))) {
      throw new StreamBreak("limit", `more than ${LIMITS.pickleMaxScatteredMemoKeys} memo keys far from the others`, at);
    }
  }

  /**
   * What a memo past MEMO_RETAIN_ALL entries keeps of `v`, so that memory does not follow the
   * pickle's size. Plain data becomes PLAIN_DATA (a container keeps `key`, to be put back if it
   * later gains behaviour). Anything else (name-like strings, which can be STACK_GLOBAL operands or
   * dunder keys; imports; call results; bytes) is kept while the memo budget allows, and is
   * FORGOTTEN past them: the analyst reports the judged uses of what holds FORGOTTEN.
   */
  private compacted(v: Value, key: number): Value {
    if (v === PLAIN_DATA || v === FORGOTTEN) return v;
    if (typeof v === "string" ? !nameLike(v) : !isSym(v)) return PLAIN_DATA;
    // A tuple has no memo key to be put back by: one holding a list, dict or set (which may gain
    // behaviour later, by reference) is kept like any other value.
    if (isSym(v) && isPlain(v) && !(v.t === "tuple" && holdsMutable(v))) {
      if (v.t !== "tuple") {
        const c = v as MutableContainer;
        if (c.memoKey === undefined) c.memoKey = key;
        else (c.moreMemoKeys ??= []).push(key);
      }
      return PLAIN_DATA;
    }
    return this.keptOrForgotten(v);
  }

  /** `v` while the memo budget has room for it, else FORGOTTEN (and the observer learns that values are being dropped). */
  private keptOrForgotten(v: Value): Value {
    if (this.retained(v)) return v;
    if (!this.forgetting) {
      this.forgetting = true;
      this.observer.onForget?.();
    }
    return FORGOTTEN;
  }

  /** Pushes what persistent id `pid` loads as: what the observer says it is, else the reference itself. */
  private persistent(pid: Value, at: number): void {
    const ref: PersistentRef = { t: "pid", pid, at };
    const loaded = this.observer.onPersistentId(ref);
    this.push(loaded === undefined ? ref : loaded, at);
  }

  /** Whether the memo may keep `v` past MEMO_RETAIN_ALL entries (it is then charged to the memo budget). */
  private retained(v: Value): boolean {
    const size = retainedSize(v);
    if (this.keptBytes + size > this.memoBudget) return false;
    this.keptBytes += size;
    return true;
  }

  private get(key: number, at: number): Value {
    const v = this.memo.get(key);
    if (v === undefined) throw new StreamBreak("malformed", `memo key ${key} read before it was stored`, at);
    return v;
  }

  /** A container stored as PLAIN_DATA that gains behaviour goes back into the memo slots still holding PLAIN_DATA (FORGOTTEN past the budget). */
  private restore(c: MutableContainer): void {
    c.behaviour = true;
    if (c.memoKey === undefined) return;
    const back = this.keptOrForgotten(c);
    this.putBack(c.memoKey, back);
    for (const key of c.moreMemoKeys ?? []) this.putBack(key, back);
    c.memoKey = undefined;
    c.moreMemoKeys = undefined;
  }

  private putBack(key: number, v: Value): void {
    if (this.memo.get(key) === PLAIN_DATA) this.memo.set(key, v);
  }

  /**
   * A write into a memo placeholder (APPEND, SETITEM, ADDITEMS on a value fetched back from a large
   * memo) changes a container the scanner no longer holds: it cannot be judged, so it is reported.
   * Picklers never write into a container fetched from the memo; attackers might (to add a dunder
   * key to a BUILD state, say).
   */
  private intoPlaceholder(target: Value, at: number): boolean {
    if (target !== PLAIN_DATA && target !== FORGOTTEN) return false;
    this.observer.onIssue("limit", `${opName(this.ops.opAt(at))} writes into a memo entry dropped once the memo outgrew ${this.retainAll} entries; what it adds cannot be judged`, at);
    return true;
  }

  /** Adds `items[from…to)` to a list or set. */
  private addItems(c: List | SetValue, items: Value[], from: number, to: number, at: number): void {
    c.items = kept(c.items, items, from, to, this.sample);
    for (let i = from; i < to; i++) {
      const x = items[i]!;
      if (mayCollide(x)) this.flood.member(c, x, at);
      this.note(c, x, at);
    }
    c.n += to - from;
  }

  /** Records what `x`, put into `c`, brings: behaviour, FORGOTTEN at any depth, and a class never to be called. */
  private note(c: MutableContainer, x: Value, at: number): void {
    if (isPlain(x)) return;
    if (!c.behaviour) this.restore(c);
    noteForgotten(c, x);
    const never = noteNeverCalled(c, x);
    if (never !== undefined) this.observer.onNeverCalledStored?.(c, never, at);
  }

  /** Items put into an object (its append or __setitem__ keeps them): a class never to be called among them is told. */
  private intoObject(target: Sym, items: readonly Value[], from: number, to: number, at: number): void {
    for (let i = from; i < to; i++) {
      const never = heldNeverCalled(items[i]);
      if (never !== undefined) this.observer.onNeverCalledStored?.(target, never, at);
    }
    this.observer.onObjectItems?.(target, items, from, to, at);
  }

  /** Items put into an object by a method pickle looks up on it (append, extend, add): see onItemsByLookup. */
  private itemsByLookup(target: Sym, items: readonly Value[], from: number, to: number, at: number): void {
    if (this.methodKeyed) this.observer.onItemsByLookup?.(target, at);
    this.flood.members(target, items, from, to, 1, at);
    this.intoObject(target, items, from, to, at);
  }

  /** Whether keys `kv[from…to)` (every other item) name a method APPEND(S) or ADDITEMS looks up, or are made at load time. */
  private noteMethodKeys(kv: readonly Value[], from: number, to: number): void {
    for (let i = from; i < to && !this.methodKeyed; i += 2) {
      const k = kv[i]!;
      // The length first: this runs for every key a dense pickle sets.
      this.methodKeyed = typeof k === "string" ? k.length < 31 && ((ITEM_METHOD_LENGTHS >> k.length) & 1) === 1 && ITEM_METHODS.has(k) : !isPlain(k);
    }
  }

  // ---- imports and calls

  private imported(module: string, name: string, at: number, via: GlobalRef["via"]): GlobalRef {
    const g = globalRef(module, name, at, via);
    this.effects++;
    if (this.observer.onImport(g) === true) g.neverCalled = true;
    return g;
  }

  private call(fn: Value, args: Value, kind: CallKind, at: number): CallResult {
    const c = callResult(fn, args, kind, at);
    this.effects++;
    this.flood.handed(args, at, 3);
    this.observer.onCall(c);
    return c;
  }

  /** Appends `items[from…to)` to a list: none, and CPython does not look at the target (red team round 31). */
  private extendList(target: Value, items: Value[], from: number, to: number, at: number): void {
    if (from === to || this.intoPlaceholder(target, at)) return;
    if (isSym(target)) {
      if (target.t === "list") this.addItems(target, items, from, to, at);
      else if (target.t === "set" || target.t === "tuple" || target.t === "dict" || target.t === "bytes") {
        throw new StreamBreak("malformed", `APPEND on a ${target.t}`, at);
      }
      // Appending to an object calls its append/extend method; the object's creation was already judged.
      else this.itemsByLookup(target, items, from, to, at);
      return;
    }
    throw new StreamBreak("malformed", `APPEND on a ${typeName(target)}`, at);
  }

  /**
   * Sets the key/value pairs `kv[from…to)` on a dict, a list or an object's __setitem__. With no pairs,
   * CPython does not look at the target (red team round 31).
   */
  private setItems(target: Value, kv: Value[], from: number, to: number, at: number): void {
    if (from === to) return;
    if ((to - from) % 2 !== 0) throw new StreamBreak("malformed", "odd number of items for a dict", at);
    if (!isSym(target) || target.t === "tuple" || target.t === "set" || target.t === "bytes") {
      throw new StreamBreak("malformed", `SETITEM on a ${isSym(target) ? target.t : typeName(target)}`, at);
    }
    if (this.intoPlaceholder(target, at)) return;
    if (target.t === "list") {
      for (let i = from; i < to; i += 2) this.setListItem(target, kv[i]!, kv[i + 1]!, at);
      return;
    }
    this.noteMethodKeys(kv, from, to);
    if (target.t !== "dict") {
      // __setitem__ of an object: judged when the object was made; its keys still go into a table (an OrderedDict's).
      this.flood.members(target, kv, from, to, 2, at);
      this.intoObject(target, kv, from, to, at);
      this.observer.onSetItems?.(target, kv, from, to);
      return;
    }
    // Pairs from here on are counted, not kept.
    const unkept = from + Math.max(0, 2 * this.sample - target.kv.length);
    target.kv = kept(target.kv, kv, from, to, 2 * this.sample);
    for (let i = from; i < to; i += 2) {
      const k = kv[i]!;
      if (typeof k === "object" && k !== null && (k.t === "list" || k.t === "dict" || (k.t === "set" && !k.frozen))) {
        // CPython fails here; analysis goes on so that whatever follows is still judged.
        this.observer.onIssue("malformed", `unhashable ${k.t} used as a dict key`, at);
      }
      if (mayCollide(k)) this.flood.member(target, k, at);
      if (i >= unkept) {
        if (!isPlain(k)) target.keyPastSample = true;
        const v = kv[i + 1]!;
        if (typeof v === "object" && v !== null && (v.t === "global" || v.t === "call")) this.observer.onUnkeptValue?.(target, v);
      }
      this.note(target, k, at);
      this.note(target, kv[i + 1]!, at);
    }
    target.n += (to - from) / 2;
  }

  /**
   * list[key] = value, as PyObject_SetItem does it: an int index within the list replaces its item,
   * one outside it or a constant of another type fails the load. A key made at load time may be an
   * object whose __index__ gives any index: the list's items are then unknown.
   */
  private setListItem(list: List, key: Value, value: Value, at: number): void {
    const index = typeof key === "boolean" ? Number(key) : key;
    if (typeof index === "number" || typeof index === "bigint") {
      const i = Number(index) < 0 ? list.n + Number(index) : Number(index);
      if (!Number.isInteger(i) || i < 0 || i >= list.n) throw new StreamBreak("malformed", `SETITEM index ${String(index)} is no index of a list of ${list.n} items`, at);
      if (i < list.items.length) list.items[i] = value;
    } else if (isPlain(key)) {
      throw new StreamBreak("malformed", `SETITEM on a list with a ${isSym(key) ? key.t : typeName(key)} index`, at);
    } else {
      list.items = [];
    }
    this.note(list, value, at);
  }

  private async afterBuild(d: BuildDirective, at: number): Promise<void> {
    if (d === undefined) return;
    const r = this.r;
    // joblib's unpickler buffers a whole FRAME and reads the array from the file after it, then runs
    // the rest of the frame; every other loader reads on from here. joblib ends the frame before an array.
    if (this.frameEnd > r.pos) this.ambiguous(`joblib's array wrapper is built ${this.frameEnd - r.pos} bytes before the end of its FRAME: joblib reads the array after the frame and runs the rest of it, other loaders read on from the BUILD`, at);
    if ("nestedPickle" in d) {
      if (this.nesting >= LIMITS.maxDepth) throw new StreamBreak("limit", "inline pickles nested too deeply", at);
      this.frameEnd = -1;
      const start = r.pos;
      // joblib reads the inline pickle with an unpickler of its own: a fresh stack and memo.
      const inner = await new Machine(r, this.observer, this.nesting + 1, this.options).run();
      if (!inner.stopped) throw new StreamBreak("broken", "inline array pickle did not reach STOP", at);
      // Other loaders run the same bytes with the outer memo, where its MEMOIZE keys and GETs mean
      // other values (red team round 25: 'os' and 'system' fetched where joblib reads 'builtins', 'list').
      const again = this.observer.inlineReading?.();
      if (again) {
        const end = r.pos;
        r.seek(start);
        const other = await new Machine(r, again.observer, this.nesting + 1, { ...this.options, constants: undefined, memo: new OverlayMemo(this.memo) }).run();
        again.done();
        // That reading keeps only some rules, and a break ends it: what follows the break would go
        // unjudged were the break only the machine's (red team round 31: an empty APPENDS on None,
        // which CPython passes). A legitimate inline pickle reads as nonsense there, but to its STOP.
        if (!other.stopped) {
          this.ambiguous(`an inline array pickle that joblib reads to its STOP breaks at ${other.end} as pickle.load, torch.load and numpy.load read it (in the outer stream's memo): the two readings differ, and what follows the break is not judged`, at);
        }
        r.seek(end);
      }
      return;
    }
    await this.checkCReading(at);
    let skip = d.skip;
    if (d.alignmentPadding) {
      if (!(await r.ensure(1))) throw new StreamBreak("broken", "joblib array padding truncated", at);
      skip += r.buf[r.pos++ - r.bufStart]!;
    }
    this.frameEnd = -1;
    if (r.pos + skip > r.size) throw new StreamBreak("broken", `array data of ${skip} bytes runs past the end of the data`, at);
    r.pos += skip;
  }

  /**
   * pickle.load, torch.load and numpy.load read no array after the wrapper's BUILD: they run the
   * bytes joblib takes as the array (see cReading.ts). Bytes that would do something before the load
   * fails are reported, once per stream: such a file is two programs, one for joblib and one for the rest.
   */
  private async checkCReading(at: number): Promise<void> {
    if (this.cReadingReported) return;
    const r = this.r;
    const state: StackState = {
      items: this.stack.slice(0, this.sp),
      marks: this.marks.length === 0 ? [] : [...this.marks.slice(1), this.floor],
      memo: (key) => this.memo.get(key),
      memoCount: this.memo.count,
    };
    for (let window = C_READING_FIRST; ; window *= 16) {
      const want = Math.min(window, r.size - r.pos);
      await r.ensure(want);
      const from = r.pos - r.bufStart;
      const bytes = r.buf.subarray(from, from + want);
      const atEnd = r.pos + bytes.length >= r.size;
      const reading = readAsOpcodes(bytes, r.pos, atEnd, state);
      if (reading.kind === "inert") return;
      if (reading.kind === "undecided" && !atEnd && window < C_READING_MAX) continue;
      this.cReadingReported = true;
      const does = reading.kind === "acts" ? `${reading.does} at offset ${reading.at}` : `read on for more than ${bytes.length} bytes without failing`;
      this.observer.onIssue("ambiguous", `the bytes joblib reads as the array of the wrapper built at offset ${at} are opcodes to pickle.load, torch.load and numpy.load, which ${does}`, at);
      return;
    }
  }

  // ---- operands

  /** Called at the first opcode at or past the end of the current frame. */
  private checkFrame(at: number): void {
    if (at > this.frameEnd) this.ambiguous(`an opcode crosses the end of the FRAME that ends at ${this.frameEnd}`, at);
    this.frameEnd = -1;
  }

  private ambiguous(message: string, at: number): void {
    if (this.ambiguityReported) return;
    this.ambiguityReported = true;
    this.observer.onIssue("ambiguous", message, at);
  }
}

/**
 * A container's sample after adding `items[from…to)`, up to `max` entries: the first batch becomes
 * the sample in one slice (exactly sized, no growth); nothing is copied once the sample is full.
 */
function kept(sample: Value[], items: Value[], from: number, to: number, max: number): Value[] {
  const last = Math.min(to, from + max - sample.length);
  if (last <= from) return sample;
  if (sample.length === 0) return items.slice(from, last);
  for (let i = from; i < last; i++) sample.push(items[i]!);
  return sample;
}

/** Whether a tuple holds a list, dict or set, directly or through nested tuples (assumed so past a few levels). */
function holdsMutable(t: Tuple, depth = 4): boolean {
  for (const x of t.items) {
    if (!isSym(x)) continue;
    if (x.t === "list" || x.t === "dict" || x.t === "set") return true;
    if (x.t === "tuple" && (depth === 0 || holdsMutable(x, depth - 1))) return true;
  }
  return false;
}

/** An integer operand read from `text`, or the break CPython's int() would raise. */
function intOperand<T>(v: T | undefined, text: string, at: number): T {
  if (v === undefined && tooManyDigits(text)) throw new StreamBreak("malformed", `integer operand of ${text.length} characters: CPython's int() refuses more than ${INT_MAX_STR_DIGITS} digits, so the load fails here`, at);
  if (v === undefined) throw new StreamBreak("malformed", `integer operand ${JSON.stringify(text.slice(0, 40))} is not a number`, at);
  return v;
}

function memoKey(text: string, at: number): number {
  const v = memoKeyLine(text);
  if (v === undefined) {
    const n = intOperand(parseIntLiteral(text), text, at);
    throw new StreamBreak("malformed", `memo key ${String(n)} is negative or too large`, at);
  }
  return v;
}

function unescaped(text: string, at: number): string {
  const s = unescapePy(text, "bytes");
  if (s === undefined) throw new StreamBreak("malformed", "string operand has an escape Python's decoder refuses (\\x without two hex digits, or a backslash ending it)", at);
  return s;
}

function typeName(v: Value): string {
  if (v === null) return "None";
  if (isSym(v)) return v.t;
  return typeof v;
}
