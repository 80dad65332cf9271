/**
 * Conversion plans for NumPy `.npy` files and `.npz` archives of them. Headers are parsed by the
 * scanner's literal parser (never evaluated); big-endian arrays are swapped and Fortran-ordered
 * ones transposed into C order as they are copied. Object arrays hold a pickle and are refused.
 */
import type { ScanBudget } from "../formats/context.js";
import { describeDtype, NpyFormatError, readNpyHeader } from "../formats/numpy.js";
import type { ZipArchive } from "../formats/zip.js";
import { own } from "../own.js";
import { SliceSource, type ByteSource } from "../sources/byteSource.js";
import { NUMPY_DTYPE } from "./dtypes.js";
import { openMember } from "./pytorch.js";
import { checkView, ConvertInputError, DTYPE_SIZE, numelOf, type ConversionPlan, type TensorPlan } from "./tensors.js";

export async function planNpy(source: ByteSource, name: string): Promise<ConversionPlan> {
  return { format: "numpy", tensors: [await npyTensor(source, name)], metadata: {}, dropped: [] };
}

/** Each `<key>.npy` member becomes tensor `<key>`, as np.load names them. */
export async function planNpz(archive: ZipArchive, budget: ScanBudget): Promise<ConversionPlan> {
  const tensors: TensorPlan[] = [];
  for (const entry of archive.entries) {
    if (!entry.name.endsWith(".npy")) throw new ConvertInputError(`npz member ${entry.name} is not an .npy array`);
    tensors.push(await npyTensor(await openMember(archive, entry, budget), entry.name.slice(0, -".npy".length)));
  }
  return { format: "npz", tensors, metadata: {}, dropped: [] };
}

async function npyTensor(source: ByteSource, name: string): Promise<TensorPlan> {
  let header;
  try {
    header = await readNpyHeader(source);
    if (describeDtype(header.descr).object) throw new NpyFormatError("dtype=object stores a pickle, not numbers");
  } catch (err) {
    if (err instanceof NpyFormatError) throw new ConvertInputError(`array "${name}": ${err.message}`);
    throw err;
  }
  const descr = typeof header.descr === "string" ? /^([<>|=]?)(.+)$/.exec(header.descr) : null;
  const dtype = descr ? own(NUMPY_DTYPE, descr[2]!) : undefined;
  if (!descr || !dtype) throw new ConvertInputError(`array "${name}" has dtype ${JSON.stringify(header.descr)}, which safetensors cannot hold`);
  const { shape } = header;
  // Row-major strides, or column-major ones for fortran_order: either way the copy writes C order.
  const stride = new Array<number>(shape.length);
  let step = 1;
  for (let k = 0; k < shape.length; k++) {
    const i = header.fortranOrder ? k : shape.length - 1 - k;
    stride[i] = step;
    step *= shape[i]!;
  }
  const bytes = numelOf(shape) * DTYPE_SIZE[dtype];
  const held = source.size - header.dataStart;
  if (held !== bytes) throw new ConvertInputError(`array "${name}" declares ${bytes} bytes of data but holds ${held}`);
  const storage = new SliceSource(`${name} data`, source, header.dataStart, held);
  checkView(name, dtype, shape, stride, 0, held);
  return { name, dtype, shape, stride, offset: 0, storage, storageKey: name, bigEndian: descr[1] === ">" };
}
