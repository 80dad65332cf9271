/**
 * Streams the bytes of one tensor, contiguous and little-endian, from the storage it views: a
 * contiguous view is copied in chunks straight from the source; a strided one (a transpose, a
 * slice with a step) is gathered run by run from a bounded window of its storage. Memory stays
 * within a chunk and a window whatever the tensor's size.
 */
import { CONVERT_LIMITS, DTYPE_SIZE, numelOf, type TensorPlan } from "./tensors.js";

/** Runs at least this long are read straight from the source rather than gathered from a window. */
const DIRECT_RUN_BYTES = 1 << 20;

export async function* viewBytes(t: TensorPlan): AsyncGenerator<Buffer> {
  const size = DTYPE_SIZE[t.dtype];
  if (numelOf(t.shape) === 0) return;
  // Dimensions of size 1 do not move through memory, whatever their stride says.
  const dims = t.shape.map((n, i) => ({ n, stride: t.stride[i]! })).filter((d) => d.n !== 1);
  let run = 1;
  let inner = dims.length;
  while (inner > 0 && dims[inner - 1]!.stride === run) run *= dims[--inner]!.n;
  const outer = dims.slice(0, inner);
  const runBytes = run * size;
  const starts = runStarts(outer, t.offset);

  if (outer.length === 0 || runBytes >= DIRECT_RUN_BYTES) {
    for (const start of starts) yield* copyRange(t, start * size, runBytes);
    return;
  }
  const chunk = Math.max(runBytes, Math.floor(CONVERT_LIMITS.chunkBytes / runBytes) * runBytes);
  let out = Buffer.allocUnsafe(chunk);
  let filled = 0;
  let window: Buffer = Buffer.alloc(0);
  let windowStart = 0;
  for (const start of starts) {
    const from = start * size;
    if (from < windowStart || from + runBytes > windowStart + window.length) {
      windowStart = from;
      window = toBuffer(await t.storage.read(from, Math.max(runBytes, CONVERT_LIMITS.gatherWindowBytes)));
    }
    window.copy(out, filled, from - windowStart, from - windowStart + runBytes);
    filled += runBytes;
    if (filled === chunk) {
      yield littleEndian(out, size, t.bigEndian);
      out = Buffer.allocUnsafe(chunk);
      filled = 0;
    }
  }
  if (filled > 0) yield littleEndian(out.subarray(0, filled), size, t.bigEndian);
}

/** Element offsets of each contiguous run, in C order over the outer dimensions. */
function* runStarts(outer: readonly { n: number; stride: number }[], offset: number): Generator<number> {
  const index = new Array<number>(outer.length).fill(0);
  let at = offset;
  for (;;) {
    yield at;
    let d = outer.length - 1;
    while (d >= 0 && index[d] === outer[d]!.n - 1) {
      at -= index[d]! * outer[d]!.stride;
      index[d--] = 0;
    }
    if (d < 0) return;
    index[d]!++;
    at += outer[d]!.stride;
  }
}

/** `length` bytes from byte `from` of the storage, in chunks. */
async function* copyRange(t: TensorPlan, from: number, length: number): AsyncGenerator<Buffer> {
  const size = DTYPE_SIZE[t.dtype];
  for (let done = 0; done < length; ) {
    const n = Math.min(CONVERT_LIMITS.chunkBytes, length - done);
    const bytes = toBuffer(await t.storage.read(from + done, n));
    if (bytes.length !== n) throw new Error(`storage ${t.storageKey} ended at byte ${from + done + bytes.length} while tensor "${t.name}" was copied`);
    // Sources may hand out views of a cached buffer: swap a copy, never the source's bytes.
    yield t.bigEndian && size > 1 ? littleEndian(Buffer.from(bytes), size, true) : bytes;
    done += n;
  }
}

function littleEndian(b: Buffer, size: number, bigEndian: boolean): Buffer {
  if (!bigEndian || size === 1) return b;
  if (size === 2) return b.swap16();
  if (size === 4) return b.swap32();
  return b.swap64();
}

function toBuffer(a: Uint8Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.length);
}
