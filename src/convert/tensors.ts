/**
 * The conversion's model: the tensors a safetensors file will hold (each a view over the bytes of
 * a storage in the source), the metadata kept, what was dropped, and the two ways a conversion
 * stops: a refusal (the input would run code, or names something not known to be safe) and bad
 * input (malformed, or not representable in safetensors).
 */
import type { ByteSource } from "../sources/byteSource.js";

/** The safetensors dtypes a PyTorch or NumPy tensor can become, with their element size in bytes. */
export const DTYPE_SIZE = Object.freeze({
  F64: 8, F32: 4, F16: 2, BF16: 2, F8_E4M3: 1, F8_E5M2: 1,
  I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
});

export type Dtype = keyof typeof DTYPE_SIZE;

export const CONVERT_LIMITS = Object.freeze({
  /**
   * Largest pickle read for conversion. The machine keeps the whole value tree for it (not a
   * sample, as a scan does), so its memory follows this size (CWE-400).
   */
  maxPickleBytes: 256 * 1024 * 1024,
  /** Nesting of dicts and lists walked when flattening names (CWE-674; also ends recursive structures). */
  maxNesting: 64,
  /** Dimensions of one tensor (PyTorch's own limit is 64; more is a hostile header, CWE-400). */
  maxDims: 64,
  /** Bytes copied per chunk from source to output: bounds peak memory whatever the file size. */
  chunkBytes: 4 * 1024 * 1024,
  /** A non-contiguous view is gathered from windows of its storage of at most this size. */
  gatherWindowBytes: 64 * 1024 * 1024,
  /** The reference safetensors loader refuses larger headers. */
  maxHeaderBytes: 100_000_000,
});

/** One output tensor: `shape` elements of `dtype` read from `storage` at `offset` with `stride` (in elements). */
export interface TensorPlan {
  name: string;
  dtype: Dtype;
  shape: number[];
  stride: number[];
  offset: number;
  storage: ByteSource;
  /** Identifies the storage within the input, to report tensors that share one. */
  storageKey: string;
  /** Elements are stored big-endian and are swapped to little-endian as they are copied. */
  bigEndian: boolean;
}

export interface Dropped {
  name: string;
  why: string;
}

/** Everything one output file needs. */
export interface ConversionPlan {
  /** What the input was, by content (pytorch-zip, pytorch-legacy, numpy, npz). */
  format: string;
  tensors: TensorPlan[];
  /** `__metadata__`: strings only, as the format requires. */
  metadata: Record<string, string>;
  dropped: Dropped[];
}

/** The input names something not allowed in a conversion (exit code 1, like a blocked scan). */
export class ConvertRefused extends Error {
  constructor(
    /** The qualified name of the callable, or what stands for it. */
    readonly callable: string,
    message: string,
  ) {
    super(message);
  }
}

/** The input is malformed or cannot be represented in safetensors (exit code 4). */
export class ConvertInputError extends Error {}

export function numelOf(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/**
 * Checks that a view stays inside a storage of `storageBytes` bytes: CVE-2026-24747 class
 * out-of-bounds views are refused rather than copied from whatever follows the storage.
 */
export function checkView(name: string, dtype: Dtype, shape: readonly number[], stride: readonly number[], offset: number, storageBytes: number): void {
  const fail = (why: string): never => {
    throw new ConvertInputError(`tensor "${name}" ${why}`);
  };
  if (shape.length !== stride.length) fail(`has ${shape.length} sizes but ${stride.length} strides`);
  if (shape.length > CONVERT_LIMITS.maxDims) fail(`has ${shape.length} dimensions, more than ${CONVERT_LIMITS.maxDims}`);
  if (![...shape, ...stride, offset].every((n) => Number.isSafeInteger(n) && n >= 0)) fail("has a negative or non-integer size, stride or offset");
  const size = DTYPE_SIZE[dtype];
  let last = offset;
  for (let i = 0; i < shape.length; i++) last += (shape[i]! - 1) * stride[i]!;
  const empty = shape.some((d) => d === 0);
  const end = empty ? offset * size : (last + 1) * size;
  if (!Number.isSafeInteger(end) || end > storageBytes) fail(`reaches byte ${end} of a storage of ${storageBytes} bytes`);
}
