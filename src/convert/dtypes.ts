/** How PyTorch and NumPy name the element types a safetensors file can hold. */
import type { Dtype } from "./tensors.js";

/** torch.save's typed storage classes (`torch.FloatStorage`…), by the dtype their elements have. */
export const STORAGE_DTYPE: Readonly<Record<string, Dtype>> = {
  DoubleStorage: "F64", FloatStorage: "F32", HalfStorage: "F16", BFloat16Storage: "BF16",
  Float8_e4m3fnStorage: "F8_E4M3", Float8_e5m2Storage: "F8_E5M2",
  LongStorage: "I64", IntStorage: "I32", ShortStorage: "I16", CharStorage: "I8",
  UInt64Storage: "U64", UInt32Storage: "U32", UInt16Storage: "U16", ByteStorage: "U8", BoolStorage: "BOOL",
};

/** `_rebuild_tensor_v3` views an UntypedStorage (bytes) and names the dtype itself: `torch.float8_e4m3fn`. */
export const UNTYPED_STORAGE = "UntypedStorage";

export const TORCH_DTYPE: Readonly<Record<string, Dtype>> = {
  float64: "F64", double: "F64", float32: "F32", float: "F32", float16: "F16", half: "F16", bfloat16: "BF16",
  float8_e4m3fn: "F8_E4M3", float8_e5m2: "F8_E5M2",
  int64: "I64", long: "I64", int32: "I32", int: "I32", int16: "I16", short: "I16", int8: "I8",
  uint64: "U64", uint32: "U32", uint16: "U16", uint8: "U8", bool: "BOOL",
};

/** NumPy type strings without their byte-order character (`<f4` → `f4`); `?` is how some writers spell bool. */
export const NUMPY_DTYPE: Readonly<Record<string, Dtype>> = {
  f8: "F64", f4: "F32", f2: "F16", i8: "I64", i4: "I32", i2: "I16", i1: "I8",
  u8: "U64", u4: "U32", u2: "U16", u1: "U8", b1: "BOOL", "?": "BOOL",
};
