/**
 * Writes a safetensors file (8-byte little-endian header length, JSON header padded with spaces
 * to 8 bytes, then the data) as the reference library lays it out: tensors ordered by decreasing
 * element size, then by name, so every tensor starts aligned to its element size. Then reads the
 * written file back and checks every tensor, bit for bit, against what was copied from the source.
 */
import { createHash } from "node:crypto";
import { open, type FileHandle } from "node:fs/promises";
import { FileSource } from "../sources/byteSource.js";
import { viewBytes } from "./copy.js";
import { CONVERT_LIMITS, DTYPE_SIZE, numelOf, type Dtype, type TensorPlan } from "./tensors.js";

export interface WrittenTensor {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Offsets within the data section, as in the header's data_offsets. */
  begin: number;
  end: number;
  /** sha256 of the tensor's bytes as copied from the source (contiguous, little-endian). */
  sha256: string;
}

export interface WrittenFile {
  tensors: WrittenTensor[];
  /** Bytes of tensor data. */
  dataBytes: number;
  /** Bytes of the whole file. */
  fileBytes: number;
}

const HEADER_START = 8;

/** Writes `tensors` and `metadata` to `path`, which must not exist (the caller renames it into place). */
export async function writeSafetensors(path: string, tensors: readonly TensorPlan[], metadata: Readonly<Record<string, string>>): Promise<WrittenFile> {
  const ordered = [...tensors].sort((a, b) => DTYPE_SIZE[b.dtype] - DTYPE_SIZE[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header["__metadata__"] = metadata;
  const written: WrittenTensor[] = [];
  let at = 0;
  for (const t of ordered) {
    const end = at + numelOf(t.shape) * DTYPE_SIZE[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [at, end] };
    written.push({ name: t.name, dtype: t.dtype, shape: t.shape, begin: at, end, sha256: "" });
    at = end;
  }
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const padded = Buffer.alloc(Math.ceil(json.length / 8) * 8, " ");
  json.copy(padded);
  if (padded.length > CONVERT_LIMITS.maxHeaderBytes) throw new Error(`the safetensors header would be ${padded.length} bytes, more than loaders accept`);
  const prefix = Buffer.alloc(HEADER_START);
  prefix.writeBigUInt64LE(BigInt(padded.length));

  const handle = await open(path, "wx");
  try {
    await writeAll(handle, Buffer.concat([prefix, padded]));
    for (const [i, t] of ordered.entries()) {
      const w = written[i]!;
      const hash = createHash("sha256");
      let bytes = 0;
      const chunks = viewBytes(t);
      // The next chunk is read, and the current one hashed, while the current one is written.
      let next = chunks.next();
      for (let r = await next; !r.done; r = await next) {
        next = chunks.next();
        const writing = writeAll(handle, r.value);
        hash.update(r.value);
        bytes += r.value.length;
        await writing;
      }
      if (bytes !== w.end - w.begin) throw new Error(`tensor "${t.name}" produced ${bytes} bytes, not ${w.end - w.begin}`);
      w.sha256 = hash.digest("hex");
    }
    // Durable before the caller renames it into place: a crash never leaves a named but empty file.
    await handle.datasync();
  } finally {
    await handle.close();
  }
  return { tensors: written, dataBytes: at, fileBytes: HEADER_START + padded.length + at };
}

/** Re-reads `path` and throws unless its header lists exactly `file.tensors` and each one's bytes hash as written. */
export async function verifySafetensors(path: string, file: WrittenFile): Promise<void> {
  const source = await FileSource.open(path);
  try {
    const headerLength = Number(Buffer.from(await source.read(0, HEADER_START)).readBigUInt64LE(0));
    const header = JSON.parse(Buffer.from(await source.read(HEADER_START, headerLength)).toString("utf8")) as Record<string, unknown>;
    const dataStart = HEADER_START + headerLength;
    const names = Object.keys(header).filter((k) => k !== "__metadata__");
    if (names.length !== file.tensors.length) throw new Error(`the written header lists ${names.length} tensors, not ${file.tensors.length}`);
    if (source.size !== dataStart + file.dataBytes) throw new Error(`the written file is ${source.size} bytes, not ${dataStart + file.dataBytes}`);
    for (const t of file.tensors) {
      const expected = JSON.stringify({ dtype: t.dtype, shape: t.shape, data_offsets: [t.begin, t.end] });
      if (JSON.stringify(header[t.name]) !== expected) throw new Error(`the written header describes "${t.name}" as ${JSON.stringify(header[t.name])}`);
      const hash = createHash("sha256");
      for (let at = t.begin; at < t.end; at += CONVERT_LIMITS.chunkBytes) {
        hash.update(await source.read(dataStart + at, Math.min(CONVERT_LIMITS.chunkBytes, t.end - at)));
      }
      if (hash.digest("hex") !== t.sha256) throw new Error(`tensor "${t.name}" reads back differently from what was copied`);
    }
  } finally {
    await source.close();
  }
}

async function writeAll(handle: FileHandle, b: Buffer): Promise<void> {
  for (let done = 0; done < b.length; ) {
    const { bytesWritten } = await handle.write(b, done, b.length - done);
    done += bytesWritten;
  }
}
