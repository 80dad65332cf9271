/**
 * Red-team building blocks for composed pickles: expressions that each push exactly one value,
 * assembled into a protocol-4 stream with a prelude for memo indirection. Used by
 * test/composition.test.ts to wrap a callee in random chains of carriers.
 */
import { OP, assemble, global, stackGlobal, str } from "./pickle.js";

export type Name = readonly [module: string, name: string];

/** One stream under construction: memo slots handed out in order, values parked in a prelude. */
export class Stream {
  private slot = 0;
  private readonly prelude: Buffer[] = [];

  /** Parks `value` in a fresh memo slot before the main expression; returns the BINGET that fetches it. */
  park(value: Buffer): Buffer {
    const n = this.fresh();
    this.prelude.push(assemble(value, OP.BINPUT, n, OP.POP));
    return assemble(OP.BINGET, n);
  }

  /** Parks `decoy` in a slot, then overwrites the slot with `value` (P16 memo swap); returns the BINGET. */
  swap(decoy: Buffer, value: Buffer): Buffer {
    const n = this.fresh();
    this.prelude.push(assemble(decoy, OP.BINPUT, n, OP.POP, value, OP.BINPUT, n, OP.POP));
    return assemble(OP.BINGET, n);
  }

  /** A value stored with BINPUT where it is used (it stays on the stack). */
  put(value: Buffer): Buffer {
    return assemble(value, OP.BINPUT, this.fresh());
  }

  fresh(): number {
    if (this.slot >= 250) throw new Error("out of BINPUT slots");
    return this.slot++;
  }

  finish(expr: Buffer): Buffer {
    return assemble(OP.PROTO, 4, ...this.prelude, expr, OP.STOP);
  }
}

/** How a callee's name gets onto the stack. */
export type Spelling = "global" | "stack_global" | "stack_global_memo";

export function spell(s: Stream, [module, name]: Name, how: Spelling): Buffer {
  switch (how) {
    case "global":
      return global(module, name);
    case "stack_global":
      return stackGlobal(module, name);
    case "stack_global_memo": {
      const m = s.park(str(module));
      const n = s.park(str(name));
      return assemble(m, n, OP.STACK_GLOBAL);
    }
  }
}

/** A tuple of already-assembled values. */
export function tuple(...items: Buffer[]): Buffer {
  if (items.length === 0) return assemble(OP.EMPTY_TUPLE);
  return assemble(OP.MARK, ...items, OP.TUPLE);
}

export function list(...items: Buffer[]): Buffer {
  return items.length === 0 ? assemble(OP.EMPTY_LIST) : assemble(OP.EMPTY_LIST, OP.MARK, ...items, OP.APPENDS);
}

export function dict(...pairs: [Buffer, Buffer][]): Buffer {
  return pairs.length === 0 ? assemble(OP.EMPTY_DICT) : assemble(OP.EMPTY_DICT, OP.MARK, ...pairs.flat(), OP.SETITEMS);
}

export const NONE = assemble(OP.NONE);

export function int(n: number): Buffer {
  return n >= 0 && n < 256 ? assemble(OP.BININT1, n) : assemble(OP.BININT, ...(() => {
    const b = Buffer.alloc(4);
    b.writeInt32LE(n);
    return [b];
  })());
}

/** fn(*args) via REDUCE. */
export function call(fn: Buffer, ...args: Buffer[]): Buffer {
  return assemble(fn, tuple(...args), OP.REDUCE);
}

/** cls.__new__(cls, *args) via NEWOBJ. */
export function newobj(cls: Buffer, ...args: Buffer[]): Buffer {
  return assemble(cls, tuple(...args), OP.NEWOBJ);
}

/** cls.__new__(cls, *args, **kwargs) via NEWOBJ_EX (empty kwargs). */
export function newobjEx(cls: Buffer, ...args: Buffer[]): Buffer {
  return assemble(cls, tuple(...args), OP.EMPTY_DICT, OP.NEWOBJ_EX);
}

/** obj BUILD state. */
export function build(obj: Buffer, state: Buffer): Buffer {
  return assemble(obj, state, OP.BUILD);
}

/** Protocol 0/1 INST: MARK args INST module\nname\n. */
export function inst([module, name]: Name, ...args: Buffer[]): Buffer {
  return assemble(OP.MARK, ...args, OP.INST, `${module}\n${name}\n`);
}

/** Protocol 1 OBJ: MARK cls args OBJ. */
export function obj(cls: Buffer, ...args: Buffer[]): Buffer {
  return assemble(OP.MARK, cls, ...args, OP.OBJ);
}

/**
 * Callables that are on no list of src/rules/callables.ts and not allowlisted, yet run commands,
 * touch files, import or download (real stdlib and library functions, plus modules that exist
 * nowhere). What a stream can reach of these must be reported at high or worse.
 */
export const UNKNOWN_CALLEES: readonly Name[] = [
  ["_osx_support", "_read_output"],
  ["mailcap", "findmatch"],
  ["uuid", "_ifconfig_getnode"],
  ["_frozen_importlib", "_gcd_import"],
  ["test.support.script_helper", "assert_python_ok"],
  ["sklearn.utils.discovery", "import_module"],
  ["sklearn.datasets._base", "urlretrieve"],
  ["sklearn.datasets._covtype", "GzipFile"],
  ["sklearn.callback._transport", "Listener"],
  ["numpy.lib._npyio_impl", "load"],
  ["numpy.lib.format", "open_memmap"],
  ["numpy", "savetxt"],
  ["logging", "FileHandler"],
  ["torch.utils.model_zoo", "load_url"],
  ["torch.multiprocessing", "spawn"],
  ["builtins", "print"],
  ["_functools", "reduce"],
];

/** Denylisted callables (already critical/high when called directly). */
export const DANGEROUS_CALLEES: readonly Name[] = [
  ["posix", "system"],
  ["os", "system"],
  ["builtins", "exec"],
  ["builtins", "eval"],
  ["subprocess", "Popen"],
  ["subprocess", "check_output"],
  ["pickle", "loads"],
  ["importlib", "import_module"],
  ["runpy", "run_path"],
  ["shutil", "rmtree"],
];

/**
 * Allowlisted callables that are harmless whatever they are given (containers and value types):
 * a chain of allowlisted carriers around one of these must raise nothing at medium or worse.
 */
export const HARMLESS_CALLEES: readonly Name[] = [
  ["collections", "OrderedDict"],
  ["collections", "Counter"],
  ["collections", "deque"],
  ["builtins", "set"],
  ["builtins", "frozenset"],
  ["builtins", "list"],
  ["builtins", "tuple"],
  ["builtins", "dict"],
  ["builtins", "str"],
];

/** Allowlisted consumers that iterate their first argument. */
export const CONSUMERS: readonly Name[] = [
  ["builtins", "list"],
  ["builtins", "tuple"],
  ["builtins", "set"],
  ["builtins", "frozenset"],
  ["collections", "deque"],
  ["collections", "Counter"],
  ["collections", "OrderedDict"],
  ["builtins", "dict"],
];

/** LONG1 of a non-negative integer (sizes past 32 bits). */
export function long(n: bigint): Buffer {
  const bytes: number[] = [];
  for (let v = n; v > 0n; v >>= 8n) bytes.push(Number(v & 0xffn));
  if (bytes.length === 0 || bytes[bytes.length - 1]! & 0x80) bytes.push(0);
  return assemble(OP.LONG1, bytes.length, bytes);
}
