/**
 * A fast first pass that proves a pickle stream is plain data: constants and containers only, no
 * BUILD, extension or persistent id, and nothing the symbolic machine would report. Such a stream
 * cannot run code when loaded, so the machine need not build its values. Any doubt (an opcode
 * outside that set; a stream the machine would call broken, malformed, ambiguous or over a limit)
 * leaves the stream unproven, and the machine then reads it from its start.
 *
 * Plain data may also hold values made by calls the analyst says nothing of: REDUCE of an imported
 * name the caller vouches for (`silent`: an allowlisted value class such as datetime.date, whose
 * entry gives its arguments no role) on a tuple of constants the stream spelt out in place. Records
 * holding dates or decimals then skip the machine too. Such a result is only ever stored: calling it,
 * giving it items or state, or passing it to another call leaves the stream to the machine.
 *
 * The machine's checks on data opcodes depend only on what kind of value sits in a stack slot or
 * memo entry (is the target of APPEND a list, is a dict key a list), so a type tag per slot is all
 * this pass keeps; payloads are skipped without being read. test/plaindata.test.ts holds the two
 * in agreement: a proven stream is one the machine runs to STOP with no issue and no effect.
 */
import { LIMITS } from "../limits.js";
import { floatLine, intLine, longLine, memoKeyLine, outsizedIntegerLine, quotedLine, rawUnicodeEscape, unescapePy } from "./literals.js";
import { MIN_CONSTANT, type ConstantLog } from "./constants.js";
import { HIGHEST_PROTOCOL, OP, OPERAND_BYTES } from "./opcodes.js";
import { LINE_TOO_LONG, LINE_UNBUFFERED, lineEnd, lineText, lineWant, utf8 } from "./operands.js";
import type { StreamOutcome } from "./machine.js";
import type { StreamReader } from "./reader.js";
import { PLAIN_DATA } from "./values.js";



/**
 * Value kinds, as far as the machine's checks tell them apart (0 marks a memo key never stored).
 * SCALAR is a constant (number, str, bytes, None, bool); OTHER is anything else no check singles
 * out (a tuple, a silent call's result).
 */
const SCALAR = 1;
const LIST_KIND = 2;
const DICT_KIND = 3;
const SET_KIND = 4;
const FROZENSET_KIND = 5;
const OTHER = 6;
/** A tuple of SCALARs, none fetched from the memo: what a silent call may be given. */
const ARGS = 7;
/**
 * An int written in 8 bytes or more (or in more than 18 characters of text: 10**18 is below the
 * prime), which may equal others modulo 2**61 - 1 and so share their
 * CPython hash. As a dict key or set item (as are tuples, frozensets and results, whose hashes can
 * be made to collide too) it leaves the stream to the machine, which counts collisions (collisions.ts).
 */
const BIG_INT = 9;
/** An import the caller vouches for (see PlainDataOptions.silent): REDUCE may call it. */
const SILENT_CALLEE = 8;
/**
 * Set on a kind fetched back from the memo. Past its retention bound the machine's memo holds a
 * placeholder for a container, and reports a write into it; picklers never write into a container
 * they fetched, so such a write leaves the stream to the machine.
 */
const FETCHED = 16;

/** How a run over the buffered bytes ended. */
const STOPPED = 0;
const REFILL = 1;
const UNPROVEN = 2;
type RunEnd = typeof STOPPED | typeof REFILL | typeof UNPROVEN;

const MAX_STACK = LIMITS.pickleMaxStack;
const MAX_MEMO = LIMITS.pickleMaxMemo;
const MAX_MARKS = LIMITS.pickleMaxMarks;
const MAX_OPCODES = LIMITS.pickleMaxOpcodes;
/**
 * Memo keys are tagged in one array, which grows only with the memo's own count: a key beyond
 * twice the count plus this slack (a scattered key, which would allocate a huge array from one
 * opcode) leaves the stream to the machine, whose memo keeps such keys in a map.
 */
const KEY_SLACK = 4096;
/** Largest high word of an 8-byte length within Number.MAX_SAFE_INTEGER (the machine refuses larger ones). */
const MAX_SAFE_HIGH = 0x1fffff;
/** Constants the machine keeps in memory (longer ones it skips unread: noted by position here too). */
const MAX_INLINE = LIMITS.pickleMaxInlineConstant;
/**
 * The machine keeps every memo entry until it holds this many; past it, an import stored there may
 * be dropped (and calling it then is reported), so one memoized later is not callable here.
 */
const MEMO_RETAIN_ALL = LIMITS.pickleMemoRetainAll;
/** Distinct imports a proof judges (asking `silent`) before it leaves the stream to the machine. */
const MAX_NAMES = 64;
/** Longest str constant kept as a possible STACK_GLOBAL operand (a module or attribute name is far shorter). */
const MAX_NAME_BYTES = 256;

export interface PlainDataOptions {
  /** Notes str and bytes constants for dormant second stages (P22): a plain-data stream can still carry one. */
  constants?: ConstantLog;
  /**
   * Whether REDUCE calling the import `module`.`name` on constants is a call the analyst says nothing
   * of, whatever the constants (PickleAnalyst.callsSilently). Without it, an import leaves the stream to the machine.
   */
  silent?: (module: string, name: string) => boolean;
}

/**
 * Runs the proof over the stream at `r.pos`. Returns the stream's outcome when it is plain data and
 * ends with STOP (its result stands as PLAIN_DATA: the values were never built). Otherwise returns
 * undefined with `r` back at the stream's start, for the machine (its buffer is reused when the
 * proof gave up early, as it does at the first import of a model's pickle).
 */
export function provePlainData(r: StreamReader, options: PlainDataOptions = {}): Promise<StreamOutcome | undefined> {
  return new PlainDataProof(r, options.constants, options.silent).run();
}

class PlainDataProof {
  /** Opcodes run, counted exactly as the machine counts them (once each, refills or not). */
  private opcodes = 0;
  /** Bytes a refill must make available from `r.pos` (the rewound opcode). */
  private want = 0;
  /** Kinds of the stack's values, `kinds[0…sp)`. */
  private kinds: Uint8Array = new Uint8Array(256);
  private sp = 0;
  /** Stack index of the innermost MARK; `marks` holds the enclosing ones. */
  private floor = 0;
  private readonly marks: number[] = [];
  private memo: Uint8Array = new Uint8Array(256);
  private memoCount = 0;
  private frameEnd = -1;
  /** Imports and calls run, counted as the machine counts its effects. */
  private effects = 0;
  /** What `silent` said of each import judged, by "module name". */
  private readonly judged = new Map<string, boolean>();
  /** Stream offsets of the last two SHORT_BINUNICODE or BINUNICODE opcodes run (-1: none): STACK_GLOBAL's likely operands. */
  private textOp = -1;
  private prevTextOp = -1;

  constructor(
    private readonly r: StreamReader,
    private readonly constants: ConstantLog | undefined,
    private readonly silent: ((module: string, name: string) => boolean) | undefined,
  ) {}

  async run(): Promise<StreamOutcome | undefined> {
    const r = this.r;
    const start = r.pos;
    for (;;) {
      const state = this.runBuffered();
      if (state === STOPPED) return { end: r.pos, stopped: true, result: PLAIN_DATA, effects: this.effects };
      if (state === REFILL) await r.ensure(this.want);
      if (state === UNPROVEN || !r.holds(this.want)) {
        r.seek(start);
        return undefined;
      }
    }
  }

  runBuffered(): RunEnd {
    const r = this.r;
    const buf = r.buf;
    const base = r.bufStart;
    const end = base + buf.length;
    const size = r.size;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    const noting = this.constants !== undefined;
    // Kept in locals in the loop: the opcode count goes back to its field wherever the run ends
    // with the stream still in play (a refill, STOP), the frame's end wherever it changes.
    let opcodes = this.opcodes;
    let frameEnd = this.frameEnd;
    let p = r.pos;
    for (;;) {
      const at = p;
      if (at >= end) return this.refill(at, 1, opcodes);
      if (at >= frameEnd && frameEnd >= 0) {
        if (at > frameEnd) return UNPROVEN; // an opcode crosses the frame's end
        this.frameEnd = frameEnd = -1;
      }
      const op = buf[at - base]!;
      p = at + 1;
      if (++opcodes > MAX_OPCODES) return UNPROVEN;
      const operand = OPERAND_BYTES[op]!;
      if (p + operand > end) return this.refill(at, 1 + operand, opcodes);
      const i = p - base;

      switch (op) {
        case OP.MARK:
          if (this.marks.length >= MAX_MARKS) return UNPROVEN;
          this.marks.push(this.floor);
          this.floor = this.sp;
          break;
        case OP.STOP:
          // A STOP inside a frame is an ambiguity the machine reports (where the next pickle starts).
          if (this.sp <= this.floor || frameEnd > p) return UNPROVEN;
          r.pos = p;
          this.opcodes = opcodes;
          return STOPPED;
        case OP.PROTO:
          if (buf[i]! > HIGHEST_PROTOCOL) return UNPROVEN;
          p += 1;
          break;
        case OP.FRAME: {
          const high = view.getUint32(i + 4, true);
          const len = high * 2 ** 32 + view.getUint32(i, true);
          p += 8;
          if (high > MAX_SAFE_HIGH || frameEnd > at || p + len > size) return UNPROVEN;
          this.frameEnd = frameEnd = p + len;
          break;
        }

        case OP.NONE:
        case OP.NEWTRUE:
        case OP.NEWFALSE:
          if (!this.push(SCALAR)) return UNPROVEN;
          break;
        case OP.BININT1:
          if (!this.push(SCALAR)) return UNPROVEN;
          p += 1;
          break;
        case OP.BININT2:
          if (!this.push(SCALAR)) return UNPROVEN;
          p += 2;
          break;
        case OP.BININT:
          if (!this.push(SCALAR)) return UNPROVEN;
          p += 4;
          break;
        case OP.BINFLOAT:
          if (!this.push(SCALAR)) return UNPROVEN;
          p += 8;
          break;

        // Strings, bytes and longs: a length, then a payload that is skipped, never read. A str or
        // bytes constant long enough to hide a payload is noted first (LONG1 and LONG4 are integers).
        case OP.SHORT_BINUNICODE:
        case OP.SHORT_BINSTRING:
        case OP.SHORT_BINBYTES:
        case OP.LONG1: {
          const len = buf[i]!;
          p += 1 + len;
          if (p > size) return UNPROVEN;
          if (op !== OP.LONG1 && len >= MIN_CONSTANT && noting && !this.constant(op, at, 2, len)) return this.refill(at, p - at, opcodes);
          if (!this.push(op === OP.LONG1 && len >= 8 ? BIG_INT : SCALAR)) return UNPROVEN;
          if (op === OP.SHORT_BINUNICODE) this.textRun(at);
          break;
        }
        case OP.BINUNICODE:
        case OP.BINBYTES: {
          const len = view.getUint32(i, true);
          p += 4 + len;
          if (p > size) return UNPROVEN;
          if (len >= MIN_CONSTANT && noting && !this.constant(op, at, 5, len)) return this.refill(at, p - at, opcodes);
          if (!this.push(SCALAR)) return UNPROVEN;
          if (op === OP.BINUNICODE) this.textRun(at);
          break;
        }
        case OP.BINSTRING:
        case OP.LONG4: {
          const len = view.getInt32(i, true);
          if (len < 0) return UNPROVEN;
          p += 4 + len;
          if (p > size) return UNPROVEN;
          if (op === OP.BINSTRING && len >= MIN_CONSTANT && noting && !this.constant(op, at, 5, len)) return this.refill(at, p - at, opcodes);
          // An outsized integer is left to the machine, which bounds what calls do with it.
          if (op === OP.LONG4 && len * 8 > LIMITS.pickleMaxNumberBits) return UNPROVEN;
          if (!this.push(op === OP.LONG4 ? BIG_INT : SCALAR)) return UNPROVEN;
          break;
        }
        case OP.BINUNICODE8:
        case OP.BINBYTES8:
        case OP.BYTEARRAY8: {
          const high = view.getUint32(i + 4, true);
          const len = high * 2 ** 32 + view.getUint32(i, true);
          p += 8 + len;
          if (high > MAX_SAFE_HIGH || p > size) return UNPROVEN;
          if (len >= MIN_CONSTANT && noting && !this.constant(op, at, 9, len)) return this.refill(at, p - at, opcodes);
          if (!this.push(SCALAR)) return UNPROVEN;
          break;
        }

        case OP.EMPTY_TUPLE:
          if (!this.push(ARGS)) return UNPROVEN;
          break;
        case OP.TUPLE1:
        case OP.TUPLE2:
        case OP.TUPLE3: {
          const sp = this.sp;
          const from = sp - (op - OP.TUPLE1 + 1);
          if (from < this.floor) return UNPROVEN;
          // In place, no push: the tuple goes where its first item was.
          this.kinds[from] = this.tupleKind(from, sp);
          this.sp = from + 1;
          break;
        }
        case OP.TUPLE: {
          const from = this.floor;
          const kind = this.tupleKind(from, this.sp);
          if (!this.popMark() || !this.push(kind)) return UNPROVEN;
          break;
        }
        case OP.EMPTY_LIST:
          if (!this.push(LIST_KIND)) return UNPROVEN;
          break;
        case OP.LIST:
          if (!this.popMark() || !this.push(LIST_KIND)) return UNPROVEN;
          break;
        case OP.EMPTY_DICT:
          if (!this.push(DICT_KIND)) return UNPROVEN;
          break;
        case OP.DICT: {
          const m = this.floor;
          const top = this.sp;
          if (!this.popMark() || !this.keysHashable(m, top) || !this.push(DICT_KIND)) return UNPROVEN;
          break;
        }
        case OP.EMPTY_SET:
          if (!this.push(SET_KIND)) return UNPROVEN;
          break;
        case OP.FROZENSET: {
          const m = this.floor;
          const top = this.sp;
          if (!this.popMark() || !this.hashSafe(m, top, 1) || !this.push(FROZENSET_KIND)) return UNPROVEN;
          break;
        }

        case OP.APPEND: {
          const m = this.sp - 1;
          if (m <= this.floor || this.kinds[m - 1] !== LIST_KIND) return UNPROVEN;
          this.sp = m;
          break;
        }
        case OP.APPENDS: {
          const m = this.floor;
          if (!this.popMark() || m <= this.floor || this.kinds[m - 1] !== LIST_KIND) return UNPROVEN;
          break;
        }
        case OP.SETITEM: {
          const m = this.sp - 2;
          if (m <= this.floor || this.kinds[m - 1] !== DICT_KIND || !this.keysHashable(m, this.sp)) return UNPROVEN;
          this.sp = m;
          break;
        }
        case OP.SETITEMS: {
          const m = this.floor;
          const top = this.sp;
          if (!this.popMark() || m <= this.floor || this.kinds[m - 1] !== DICT_KIND || !this.keysHashable(m, top)) return UNPROVEN;
          break;
        }
        case OP.ADDITEMS: {
          const m = this.floor;
          const top = this.sp;
          if (!this.popMark() || m <= this.floor || !this.hashSafe(m, top, 1)) return UNPROVEN;
          const k = this.kinds[m - 1];
          if (k !== SET_KIND && k !== FROZENSET_KIND) return UNPROVEN;
          break;
        }

        case OP.POP:
          if (this.sp > this.floor) this.sp--;
          else if (!this.popMark()) return UNPROVEN; // CPython pops the mark itself when the frame is empty
          break;
        case OP.POP_MARK:
          if (!this.popMark()) return UNPROVEN;
          break;
        case OP.DUP:
          if (this.sp <= this.floor || !this.push(this.kinds[this.sp - 1]!)) return UNPROVEN;
          break;

        case OP.BINPUT:
          if (!this.put(buf[i]!)) return UNPROVEN;
          p += 1;
          break;
        case OP.LONG_BINPUT:
          if (!this.put(view.getUint32(i, true))) return UNPROVEN;
          p += 4;
          break;
        case OP.MEMOIZE:
          if (!this.put(this.memoCount)) return UNPROVEN;
          break;
        case OP.BINGET:
          if (!this.get(buf[i]!)) return UNPROVEN;
          p += 1;
          break;
        case OP.LONG_BINGET:
          if (!this.get(view.getUint32(i, true))) return UNPROVEN;
          p += 4;
          break;

        // Protocol 0's text operands, up to a newline, parsed as the machine parses them.
        case OP.INT:
        case OP.LONG:
        case OP.FLOAT:
        case OP.STRING:
        case OP.UNICODE:
        case OP.PUT:
        case OP.GET: {
          const nl = lineEnd(buf, i);
          if (nl === LINE_TOO_LONG) return UNPROVEN;
          if (nl === LINE_UNBUFFERED) return this.refill(at, lineWant(end - at), opcodes);
          p = base + nl + 1;
          if (op === OP.UNICODE ? !this.text(rawUnicodeEscape(buf, i, nl), at) : !this.textOperand(op, lineText(buf, i, nl), at)) return UNPROVEN;
          break;
        }

        case OP.STACK_GLOBAL: {
          const operands = this.sp - 2 < this.floor ? undefined : this.stackGlobalOperands(at);
          if (operands === undefined) return UNPROVEN;
          this.sp -= 2;
          if (!this.imported(operands[0], operands[1])) return UNPROVEN;
          break;
        }
        case OP.GLOBAL: {
          const moduleEnd = lineEnd(buf, i);
          const nameEnd = moduleEnd < 0 ? moduleEnd : lineEnd(buf, moduleEnd + 1);
          if (nameEnd === LINE_TOO_LONG) return UNPROVEN;
          if (nameEnd === LINE_UNBUFFERED) return this.refill(at, lineWant(end - at), opcodes);
          p = base + nameEnd + 1;
          if (!this.imported(lineText(buf, i, moduleEnd), lineText(buf, moduleEnd + 1, nameEnd))) return UNPROVEN;
          break;
        }
        case OP.REDUCE: {
          // The callee and its arguments, as pushed or fetched: no other kind is called here.
          const sp = this.sp;
          if (sp - 2 < this.floor || this.kinds[sp - 1] !== ARGS || (this.kinds[sp - 2]! & ~FETCHED) !== SILENT_CALLEE) return UNPROVEN;
          this.sp = sp - 2;
          this.effects++;
          if (!this.push(OTHER)) return UNPROVEN;
          break;
        }

        default:
          // Other imports and calls, BUILD, extensions, persistent ids, out-of-band buffers, invalid bytes.
          return UNPROVEN;
      }
    }
  }

  /**
   * An import the machine would make of `module`.`name`: pushed as a callee when the caller vouches
   * for calling it, else the stream is left to the machine (false).
   */
  private imported(module: string, name: string): boolean {
    if (!this.silent) return false;
    const key = `${module} ${name}`;
    let silent = this.judged.get(key);
    if (silent === undefined) {
      if (this.judged.size >= MAX_NAMES) return false;
      silent = this.silent(module, name);
      this.judged.set(key, silent);
    }
    if (!silent) return false;
    this.effects++;
    return this.push(SILENT_CALLEE);
  }

  /** A SHORT_BINUNICODE or BINUNICODE opcode at stream offset `at` ran (see stackGlobalOperands). */
  private textRun(at: number): void {
    this.prevTextOp = this.textOp;
    this.textOp = at;
  }

  /** A tuple of `kinds[from…to)`: ARGS when every item is a constant spelt out in place. */
  private tupleKind(from: number, to: number): number {
    for (let k = from; k < to; k++) if (this.kinds[k] !== SCALAR && this.kinds[k] !== BIG_INT) return OTHER;
    return ARGS;
  }

  /**
   * The module and name STACK_GLOBAL at `at` pops, when the stream wrote them as picklers do: the
   * last two str constants run, each followed only by memo stores (which leave the stack as it is),
   * the second ending just before `at`. Read again from the buffer, which must still hold them;
   * anything else (an operand fetched from the memo, say) is left to the machine.
   */
  private stackGlobalOperands(at: number): [string, string] | undefined {
    const r = this.r;
    const base = r.bufStart;
    if (this.prevTextOp < base) return undefined;
    const module = textConstant(r.buf, this.prevTextOp - base);
    if (module === undefined || skipMemoStores(r.buf, module.end) !== this.textOp - base) return undefined;
    const name = textConstant(r.buf, this.textOp - base);
    if (name === undefined || skipMemoStores(r.buf, name.end) !== at - base) return undefined;
    return [module.text, name.text];
  }

  /**
   * A str or bytes constant of `len` bytes after a `header` at stream offset `at`: examined in place
   * when the buffer holds it, noted with the start the buffer holds when the machine would not keep
   * it either. False when the machine would keep it but the buffer does not hold it yet: the opcode
   * runs again after a refill. The machine reads SHORT_BINSTRING and BINSTRING as latin1: bytes.
   */
  private constant(op: number, at: number, header: number, len: number): boolean {
    const r = this.r;
    const buffered = at + header + len <= r.bufStart + r.buf.length;
    if (!buffered && len <= MAX_INLINE) return false;
    const utf8 = op === OP.SHORT_BINUNICODE || op === OP.BINUNICODE || op === OP.BINUNICODE8;
    this.constants!.note(r.buf, r.bufStart, at + header, len, utf8, buffered && len <= MAX_INLINE);
    return true;
  }

  /** A protocol 0 string operand, unescaped (undefined where the machine would report it). */
  private text(s: string | undefined, at: number): boolean {
    if (s === undefined) return false;
    this.constants?.text(s, at);
    return this.push(SCALAR);
  }

  /** Runs a text opcode whose operand is `line`; false where the machine would report the operand. */
  private textOperand(op: number, line: string, at: number): boolean {
    switch (op) {
      // A line that may hold an outsized integer is left to the machine, as LONG4 is.
      case OP.INT:
        return !outsizedIntegerLine(line) && intLine(line) !== undefined && this.push(line.length > 18 ? BIG_INT : SCALAR);
      case OP.LONG:
        return !outsizedIntegerLine(line) && longLine(line) !== undefined && this.push(line.length > 18 ? BIG_INT : SCALAR);
      case OP.FLOAT:
        return floatLine(line) !== undefined && this.push(SCALAR);
      case OP.STRING:
        return quotedLine(line) && this.text(unescapePy(line.slice(1, -1), "bytes"), at);
      case OP.PUT: {
        const key = memoKeyLine(line);
        return key !== undefined && this.put(key);
      }
      default: {
        const key = memoKeyLine(line);
        return key !== undefined && this.get(key);
      }
    }
  }

  /**
   * The opcode at `at` needs `n` bytes from there: a refill, or unproven where the data ends (the
   * machine reports the truncation). `opcodes` is the count so far, that opcode included.
   */
  private refill(at: number, n: number, opcodes: number): RunEnd {
    // Counted, and run again after the refill (an opcode at the buffer's end was not read yet).
    this.opcodes = at < this.r.bufEnd ? opcodes - 1 : opcodes;
    if (this.r.bufEnd >= this.r.size) return UNPROVEN;
    this.r.pos = at;
    this.want = n;
    return REFILL;
  }

  private push(kind: number): boolean {
    const sp = this.sp;
    if (sp >= MAX_STACK) return false;
    if (sp === this.kinds.length) this.kinds = grown(this.kinds, sp + 1, MAX_STACK);
    this.kinds[sp] = kind;
    this.sp = sp + 1;
    return true;
  }

  /** Drops the innermost MARK and the items above it. */
  private popMark(): boolean {
    const outer = this.marks.pop();
    if (outer === undefined) return false;
    this.sp = this.floor;
    this.floor = outer;
    return true;
  }

  /** Whether the keys among the key/value pairs `kinds[from…to)` are hashable (the machine reports a list, dict or set key) and cannot collide. */
  private keysHashable(from: number, to: number): boolean {
    return (to - from) % 2 === 0 && this.hashSafe(from, to, 2);
  }

  /**
   * Whether every `step`th kind in `kinds[from…to)`, put into a dict or set, is hashable and hashes
   * apart from the others: strs and bytes (hashed with a per-process key), ints that fit 8 bytes less
   * one, floats, None and bools. The rest (lists, dicts and sets, which the machine reports; big ints,
   * tuples, frozensets and call results, which it counts) leave the stream to the machine.
   */
  private hashSafe(from: number, to: number, step: number): boolean {
    for (let k = from; k < to; k += step) if ((this.kinds[k]! & ~FETCHED) !== SCALAR) return false;
    return true;
  }

  private put(key: number): boolean {
    if (this.sp <= this.floor) return false;
    if (key >= this.memo.length) {
      const bound = 2 * this.memoCount + KEY_SLACK;
      if (key >= bound) return false;
      this.memo = grown(this.memo, key + 1, bound);
    }
    // The machine keeps a value whole while its memo holds fewer than MEMO_RETAIN_ALL keys before the store;
    // past that it may drop an import it memoizes, and calling what it fetched back is then reported.
    const kept = this.memoCount < MEMO_RETAIN_ALL;
    if (this.memo[key] === 0) {
      if (this.memoCount >= MAX_MEMO) return false;
      this.memoCount++;
    }
    const kind = this.kinds[this.sp - 1]!;
    this.memo[key] = (kind & ~FETCHED) === SILENT_CALLEE && !kept ? OTHER : kind;
    return true;
  }

  private get(key: number): boolean {
    const kind = key < this.memo.length ? this.memo[key]! : 0;
    return kind !== 0 && this.push(kind | FETCHED);
  }
}

/** The SHORT_BINUNICODE or BINUNICODE constant at buffer index `i` (up to MAX_NAME_BYTES), decoded as the machine decodes it, and the index past it. */
function textConstant(buf: Buffer, i: number): { text: string; end: number } | undefined {
  const op = buf[i];
  const header = op === OP.SHORT_BINUNICODE ? 2 : op === OP.BINUNICODE ? 5 : 0;
  if (header === 0 || i + header > buf.length) return undefined;
  const len = header === 2 ? buf[i + 1]! : buf.readUInt32LE(i + 1);
  const end = i + header + len;
  return len <= MAX_NAME_BYTES && end <= buf.length ? { text: utf8(buf, i + header, len), end } : undefined;
}

/** The buffer index past the MEMOIZE, BINPUT and LONG_BINPUT opcodes from `i` on. */
function skipMemoStores(buf: Buffer, i: number): number {
  for (;;) {
    const op = buf[i];
    if (op === OP.MEMOIZE) i += 1;
    else if (op === OP.BINPUT) i += 2;
    else if (op === OP.LONG_BINPUT) i += 5;
    else return i;
  }
}

/** `a` copied into an array of at least `min` slots, at most `max` (doubling, so appends stay amortised O(1)). */
function grown(a: Uint8Array, min: number, max: number): Uint8Array {
  const b = new Uint8Array(Math.max(min, Math.min(2 * a.length, max)));
  b.set(a);
  return b;
}
