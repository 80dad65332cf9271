/**
 * Structures libraries trust once loaded (P21), checked as tensors are against their storage
 * (P15b): a pickled NumPy array's declared shape and dtype against its data, a SciPy sparse
 * matrix's index arrays against its shape, and an Arrow array's layout (arrow.ts). SciPy does not
 * check the indices of an unpickled matrix, nor pyarrow an array's buffers; their compiled routines
 * index memory with them.
 *
 * Arrays are pickled as `numpy…_reconstruct(ndarray, (0,), b'b')` followed by BUILD
 * `(version, shape, dtype, fortran, data)`, or (protocol 5) as `numpy…_frombuffer(data, dtype,
 * shape, order)`; a dtype as `numpy.dtype('i4', False, True)` followed by BUILD `(3, '<', …)`.
 */
import { LIMITS } from "../limits.js";
import { ArrowArrays, RESTORE_ARRAY, type PendingArray } from "./arrow.js";
import { bytesPayloads, dictGet, isSym, type CallResult, type Dict, type Value } from "./values.js";

interface DtypeFacts {
  kind: string;
  size: number;
  bigEndian: boolean;
}

interface ArrayFacts {
  dtype?: DtypeFacts;
  shape: number[];
  /** The data when it was small enough to be kept (see LIMITS.pickleMaxInlineConstant). */
  data?: Uint8Array;
  /** The data's length in bytes, when known. */
  length?: number;
}

/** NumPy's array reconstructor under NumPy 1 and 2 names. */
export const RECONSTRUCTORS: ReadonlySet<string> = new Set(["numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct"]);
const FROMBUFFER = new Set(["numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer"]);
const SPARSE = /^scipy\.sparse\.(?:_?(csr|csc|coo))\.\1_(?:matrix|array)$/;
/** 'i4', '<f8', 'b1': kinds with a fixed item size given by the number (flexible kinds are not checked). */
const FIXED_DESCR = /^[<>|=]?([biufc])(\d{1,2})$/;

/**
 * What is inconsistent: an array against its own data, a sparse matrix's indices against its shape,
 * or an Arrow array's buffers, offsets or indices against its type and length (see arrow.ts).
 */
export interface StructureProblem {
  kind: "array" | "sparse" | "arrow";
  message: string;
}

/**
 * What a BUILD set on a `numpy.dtype(...)`: its `__setstate__` takes the item size of flexible
 * kinds (V, S, U) and the flags of every kind from the state, and NumPy's `hasobject` is flag bit
 * 0x01 whatever the type string says. A string says why the state could not be read.
 */
export type DtypeState = { itemSize: number; flags: number } | string;

/** NPY_ITEM_HASOBJECT: arrays of a dtype with this flag hold object references (joblib unpickles their data). */
export const DTYPE_HASOBJECT = 0x01;

export class StructureFacts {
  private readonly dtypes = new WeakMap<CallResult, DtypeFacts>();
  private readonly dtypeStates = new WeakMap<CallResult, DtypeState>();
  private readonly arrays = new WeakMap<CallResult, ArrayFacts>();
  private readonly arrow = new ArrowArrays();
  /** Arrow arrays that wait for constants skipped unread (see arrow.ts), and those constants. */
  readonly arrowPending: PendingArray[] = [];
  readonly arrowWanted = this.arrow.wanted;

  /** What the last BUILD on `dtype` (a numpy.dtype call) set; undefined when none did. */
  dtypeState(dtype: Value | undefined): DtypeState | undefined {
    return isSym(dtype) && dtype.t === "call" ? this.dtypeStates.get(dtype) : undefined;
  }

  /** After an allowed call: remembers dtypes and protocol-5 arrays; returns a problem to report. */
  onCall(name: string, c: CallResult): StructureProblem | undefined {
    const args = isSym(c.args) && c.args.t === "tuple" ? c.args.items : [];
    if (name === "numpy.dtype") {
      const m = typeof args[0] === "string" ? FIXED_DESCR.exec(args[0]) : null;
      if (m) this.dtypes.set(c, { kind: m[1]!, size: Number(m[2]), bigEndian: args[0]!.toString().startsWith(">") });
      return undefined;
    }
    if (name === RESTORE_ARRAY) return this.arrowArray(args[0], c);
    if (FROMBUFFER.has(name)) {
      const facts = this.array(args[2], args[1], args[0]);
      if (facts) this.arrays.set(c, facts);
      return facts && sizeProblem(facts);
    }
    return undefined;
  }

  /** A BUILD on `target` (made by `targetName`): dtype byte order, array state, sparse matrices. */
  onBuild(targetName: string | undefined, target: Value, state: Value): StructureProblem | undefined {
    if (!targetName || !isSym(target) || target.t !== "call") return undefined;
    const items = isSym(state) && state.t === "tuple" ? state.items : undefined;
    if (targetName === "numpy.dtype") {
      const dtype = this.dtypes.get(target);
      if (dtype && items && typeof items[1] === "string") dtype.bigEndian = items[1] === ">";
      this.dtypeStates.set(target, dtypeState(items));
      return undefined;
    }
    if (RECONSTRUCTORS.has(targetName) && items) {
      const facts = this.array(items[1], items[2], items[4]);
      if (facts) this.arrays.set(target, facts);
      return facts && sizeProblem(facts);
    }
    const sparse = SPARSE.exec(targetName);
    const message = sparse && isSym(state) && state.t === "dict" ? this.sparseProblem(sparse[1] as "csr" | "csc" | "coo", state) : undefined;
    return message === undefined ? undefined : { kind: "sparse", message };
  }

  private arrowArray(data: Value | undefined, c: CallResult): StructureProblem | undefined {
    const r = this.arrow.check(data);
    if (typeof r === "string") return { kind: "arrow", message: r };
    if (r === undefined || !isSym(data) || data.t !== "tuple") return undefined;
    if (this.arrowPending.length >= LIMITS.arrowMaxPending) {
      return { kind: "arrow", message: `Arrow array is one more than the ${LIMITS.arrowMaxPending} whose buffers are read back to check them, so its layout cannot be checked` };
    }
    this.arrowPending.push({ data, call: c });
    return undefined;
  }

  private array(shapeValue: Value | undefined, dtypeValue: Value | undefined, dataValue: Value | undefined): ArrayFacts | undefined {
    const shape = intTuple(shapeValue);
    if (!shape) return undefined;
    const dtype = isSym(dtypeValue) && dtypeValue.t === "call" ? this.dtypes.get(dtypeValue) : undefined;
    const facts: ArrayFacts = { shape, ...(dtype ? { dtype } : {}) };
    const [payload] = isSym(dataValue) && (dataValue.t === "bytes" || dataValue.t === "bigbytes" || dataValue.t === "call") ? bytesPayloads(dataValue) : [];
    if (payload?.t === "bytes") {
      facts.data = payload.data;
      facts.length = payload.data.length;
    } else if (payload?.t === "bigbytes") facts.length = payload.len;
    return facts;
  }

  private sparseProblem(format: "csr" | "csc" | "coo", state: Dict): string | undefined {
    const shape = intTuple(dictGet(state, "_shape"));
    if (!shape || shape.length !== 2) return undefined;
    if (shape.some((d) => d < 0)) return `sparse matrix declares a negative dimension in its shape (${shape.join(", ")})`;
    const [rows, cols] = shape as [number, number];
    if (format === "coo") {
      const coords = dictGet(state, "coords");
      const [row, col] = isSym(coords) && coords.t === "tuple" ? coords.items : [dictGet(state, "row"), dictGet(state, "col")];
      return indexProblem(this.ints(row), rows, "row") ?? indexProblem(this.ints(col), cols, "col");
    }
    const [major, minor] = format === "csr" ? [rows, cols] : [cols, rows];
    const indptr = this.ints(dictGet(state, "indptr"));
    const indices = this.ints(dictGet(state, "indices"));
    if (indptr) {
      if (indptr.length !== major + 1) return `${format} matrix of shape (${rows}, ${cols}) has an indptr of ${indptr.length} entries, not ${major + 1}`;
      const descends = indptr.findIndex((v, i) => (i === 0 ? v !== 0 : v < indptr[i - 1]!));
      if (descends >= 0) return `${format} matrix indptr[${descends}] = ${indptr[descends]} does not rise from 0`;
      if (indices && indptr[major]! > indices.length) return `${format} matrix indptr ends at ${indptr[major]}, past its ${indices.length} indices`;
    }
    return indexProblem(indices, minor, "indices");
  }

  /** The integers of a tracked array whose data was kept. */
  private ints(v: Value | undefined): number[] | undefined {
    const facts = isSym(v) && v.t === "call" ? this.arrays.get(v) : undefined;
    const dtype = facts?.dtype;
    if (!facts?.data || !dtype || (dtype.kind !== "i" && dtype.kind !== "u") || ![1, 2, 4, 8].includes(dtype.size)) return undefined;
    const view = new DataView(facts.data.buffer, facts.data.byteOffset, facts.data.byteLength);
    const out: number[] = [];
    const le = !dtype.bigEndian;
    for (let at = 0; at + dtype.size <= facts.data.length; at += dtype.size) {
      const signed = dtype.kind === "i";
      switch (dtype.size) {
        case 1: out.push(signed ? view.getInt8(at) : view.getUint8(at)); break;
        case 2: out.push(signed ? view.getInt16(at, le) : view.getUint16(at, le)); break;
        case 4: out.push(signed ? view.getInt32(at, le) : view.getUint32(at, le)); break;
        default: out.push(Number(signed ? view.getBigInt64(at, le) : view.getBigUint64(at, le)));
      }
    }
    return out;
  }
}

/**
 * NumPy's dtype state: (3, endian, subarray, names, fields, elsize, alignment, flags), version 4 with
 * metadata after them. Older versions recompute the flags from the fields; they are not followed.
 */
function dtypeState(items: readonly Value[] | undefined): DtypeState {
  if (!items || (items[0] !== 3 && items[0] !== 4) || items.length < 8) return "its state is not NumPy's version 3 or 4 tuple";
  const [elsize, flags] = [items[5], items[7]];
  if (typeof elsize !== "number" || !Number.isInteger(elsize) || typeof flags !== "number" || !Number.isInteger(flags)) {
    return "its state's item size or flags are not integers";
  }
  return { itemSize: elsize, flags };
}

function indexProblem(values: number[] | undefined, bound: number, what: string): string | undefined {
  if (!values) return undefined;
  const bad = values.findIndex((v) => v < 0 || v >= bound);
  return bad < 0 ? undefined : `sparse matrix ${what}[${bad}] = ${values[bad]} is outside 0…${bound - 1}`;
}

/** Declared shape × item size against the data's length; a negative dimension is never valid. */
function sizeProblem(facts: ArrayFacts): StructureProblem | undefined {
  if (facts.shape.some((d) => d < 0)) return { kind: "array", message: `array declares a negative dimension in its shape (${facts.shape.join(", ")})` };
  if (!facts.dtype || facts.length === undefined) return undefined;
  const expected = facts.shape.reduce((a, b) => a * b, 1) * facts.dtype.size;
  if (expected === facts.length) return undefined;
  return { kind: "array", message: `array of shape (${facts.shape.join(", ")}) and ${facts.dtype.kind}${facts.dtype.size} declares ${expected} bytes; its data holds ${facts.length}` };
}

/** A tuple of integers (a shape); negative entries are kept, for the caller to refuse. */
function intTuple(v: Value | undefined): number[] | undefined {
  if (!isSym(v) || v.t !== "tuple") return undefined;
  const out: number[] = [];
  for (const x of v.items) {
    if (typeof x !== "number" || !Number.isInteger(x)) return undefined;
    out.push(x);
  }
  return out;
}
