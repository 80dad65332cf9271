/**
 * joblib's NumpyArrayWrapper: after the wrapper's BUILD, joblib's unpickler reads the array's raw
 * bytes straight from the stream (or, for object arrays, a whole inline pickle) and the stream goes
 * on after them (P13). Here we compute how many bytes to skip from the wrapper's state.
 */
import type { BuildDirective } from "./machine.js";
import { DTYPE_HASOBJECT, type DtypeState } from "./structures.js";
import { dictGet, isSym, type Value } from "./values.js";

const WRAPPERS = new Set(["joblib.numpy_pickle.NumpyArrayWrapper", "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper"]);
const WRAPPER_NAME = "NumpyArrayWrapper";
/** copyreg's functions that make an instance of the class they are given first. */
const INSTANCE_MAKERS = new Set(["_reconstructor", "__newobj__", "__newobj_ex__"]);
/** copyreg, by its Python 3 name and by Python 2's, which pickle maps to it. */
const COPYREG = new Set(["copyreg", "copy_reg"]);

/** Is `target` an object constructed from joblib's array wrapper class? */
export function isJoblibWrapper(target: Value): boolean {
  if (!isSym(target) || target.t !== "call") return false;
  let cls: Value | undefined = target.fn;
  // Protocols 0/1 construct through copyreg._reconstructor(cls, object, None); copyreg.__newobj__(cls)
  // and __newobj_ex__(cls, args, kwargs) called by REDUCE make the same object (red team round 22).
  if (isSym(cls) && cls.t === "global" && INSTANCE_MAKERS.has(cls.name) && COPYREG.has(cls.module)) {
    const args = target.args;
    cls = isSym(args) && args.t === "tuple" ? args.items[0] : undefined;
  }
  return cls !== undefined && isSym(cls) && cls.t === "global" && cls.name.endsWith(WRAPPER_NAME) && WRAPPERS.has(`${cls.module}.${cls.name}`);
}

/**
 * What follows the wrapper's BUILD, or a reason it cannot be known. joblib reads an inline pickle
 * when the dtype has objects (`dtype.hasobject`), else `itemsize` bytes per element; `built` is what
 * a BUILD on the dtype set, which decides both over its type string (see DtypeState).
 */
export function joblibDirective(state: Value, built: (dtype: Value | undefined) => DtypeState | undefined): Exclude<BuildDirective, undefined> | string {
  if (!isSym(state) || state.t !== "dict") return "state is not a dict";
  // Every key must be seen for the one joblib reads to be known: a later or made-up "dtype" wins.
  if (state.kv.length / 2 < state.n || state.keyPastSample) return "state holds more items than the scanner keeps";
  if (state.kv.some((k, i) => i % 2 === 0 && typeof k !== "string")) return "state has a key made at load time";
  const field = (k: string): Value | undefined => dictGet(state, k);
  const dtype = field("dtype");
  const typestr = dtypeString(dtype);
  if (typestr === undefined) return "dtype is not a constant numpy dtype";
  const set = built(dtype);
  if (typeof set === "string") return `the dtype's BUILD cannot be followed: ${set}`;
  // The byte-order character is optional ('|O8' is NumPy's own object dtype).
  const kind = typestr.replace(/^[<>|=]/, "").charAt(0);
  if (kind === "O" || (set !== undefined && (set.flags & DTYPE_HASOBJECT) !== 0)) return { nestedPickle: true };
  const itemsize = set !== undefined && FLEXIBLE_KINDS.has(kind) ? set.itemSize : itemSize(typestr);
  if (itemsize === undefined || itemsize < 0) return `dtype ${JSON.stringify(typestr)} has no known item size`;
  const count = elementCount(field("shape"));
  if (count === undefined) return "shape is not a tuple of non-negative integers";
  const bytes = count * itemsize;
  if (!Number.isSafeInteger(bytes)) return `array of ${count} × ${itemsize} bytes is impossibly large`;
  // joblib reads the padding byte when the attribute is set and not None.
  const alignment = dictGet(state, "numpy_array_alignment_bytes");
  if (isSym(alignment)) return "numpy_array_alignment_bytes is not a constant";
  return { skip: bytes, alignmentPadding: alignment !== undefined && alignment !== null };
}

/** The type string of `numpy.dtype('f8', False, True)` as pickled by numpy's dtype.__reduce__. */
function dtypeString(dtype: Value | undefined): string | undefined {
  if (!isSym(dtype) || dtype.t !== "call") return undefined;
  const fn = dtype.fn;
  if (!isSym(fn) || fn.t !== "global" || fn.name !== "dtype" || !fn.module.startsWith("numpy")) return undefined;
  const args = dtype.args;
  const first = isSym(args) && args.t === "tuple" ? args.items[0] : undefined;
  return typeof first === "string" ? first : undefined;
}

/** Kinds whose item size a dtype's state sets (void, bytes, unicode; 'a' is NumPy 1's bytes). */
const FLEXIBLE_KINDS: ReadonlySet<string> = new Set(["V", "S", "U", "a"]);

/** Bytes per element: 'f8' → 8; 'U10' holds 10 UCS-4 characters → 40; 'S5'/'V16' are bytes. */
function itemSize(typestr: string): number | undefined {
  const m = /^[<>|=]?([a-zA-Z])(\d+)$/.exec(typestr);
  if (!m) return typestr === "?" || typestr === "b1" ? 1 : undefined;
  const n = Number(m[2]);
  return m[1] === "U" ? n * 4 : n;
}

function elementCount(shape: Value | undefined): number | undefined {
  if (!isSym(shape) || shape.t !== "tuple") return undefined;
  let count = 1;
  for (const d of shape.items) {
    if (typeof d !== "number" || !Number.isInteger(d) || d < 0) return undefined;
    count *= d;
  }
  return count;
}
