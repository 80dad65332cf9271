/**
 * torch.distributed.checkpoint (DCP) shards (`__<rank>_<n>.distcp`). FileSystemWriter writes every
 * item of a rank's plan into one file as a torch.save archive of its own, back to back: first the
 * non-tensor items (the planner torch.saves each object into bytes), then one archive per tensor.
 * The pickled `.metadata` beside the shards records each item's (file, offset, length), and the
 * reader torch.loads each slice: tensors with weights_only=True, the other items with
 * weights_only=False. Read as one zip, a shard is its last archive with everything before it as
 * data preceding the first member.
 *
 * The archives are found from the end, the way torch.load finds an archive in its slice: an end
 * record, the central directory it describes, and from the directory's recorded offset the
 * archive's start; the archive before it must end exactly there. Each archive is scanned by
 * content as a member (a PyTorch zip, with every check of one); bytes that belong to no archive
 * are reported and scanned by content too.
 */
import { LIMITS } from "../limits.js";
import { SliceSource, type ByteSource } from "../sources/byteSource.js";
import type { ScanContext } from "./context.js";
import { detectZipLayout, findEndRecord, type ZipArchive } from "./zip.js";

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const EOCD_SIZE = 22;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIZE = 56;

/** Where one archive of the sequence ends, as its end record says. */
interface ArchiveEnd {
  /** Offset of the end record. */
  at: number;
  /** Just past the end record and its comment: where the archive ends. */
  end: number;
  /** Where the archive starts: its central directory's recorded offset counted back from the directory. */
  start: number;
}

/** A stretch of the shard: one torch.save archive, or bytes that belong to none. */
interface Piece {
  start: number;
  end: number;
  archive: boolean;
}

/**
 * Whether a zip opened over a whole file is the last of several archives laid back to back with
 * PyTorch's layout: the archive starts after offset 0 and another end record ends exactly there.
 */
export async function isArchiveSequence(archive: ZipArchive): Promise<boolean> {
  const start = archive.baseOffset;
  if (start < EOCD_SIZE || detectZipLayout(archive.entries) !== "pytorch") return false;
  const before = await endRecordBefore(archive.source, start);
  return typeof before !== "string" && before !== undefined && before.end === start;
}

/** Scans a shard recognised by isArchiveSequence: every archive, and every byte outside them. */
export async function scanDcpShard(source: ByteSource, ctx: ScanContext): Promise<void> {
  ctx.refineFormat("pytorch-dcp");
  const pieces: Piece[] = [];
  let archives = 0;
  for (let end = source.size; end > 0; ) {
    if (archives >= LIMITS.maxMembers) {
      ctx.report("MG140", `distributed checkpoint shard holds more than ${LIMITS.maxMembers} torch.save archives; the ${end} bytes before the last ${archives} were not analysed`, {
        offset: 0,
      });
      break;
    }
    const found = await endRecordBefore(source, end);
    if (found === undefined || typeof found === "string") {
      if (typeof found === "string") ctx.report("MG141", `the torch.save archive ending at offset ${end} is unreadable (${found}); its bytes were scanned by content`, { offset: end });
      pieces.push({ start: 0, end, archive: false });
      break;
    }
    if (found.end < end) pieces.push({ start: found.end, end, archive: false });
    pieces.push({ start: found.start, end: found.end, archive: true });
    archives++;
    end = found.start;
  }
  pieces.reverse();
  let index = 0;
  for (const piece of pieces) {
    const length = piece.end - piece.start;
    if (piece.archive) {
      const name = `<archive ${++index} at ${piece.start}>`;
      await ctx.scanMember(name, new SliceSource(name, source, piece.start, length), "zip");
      continue;
    }
    const where = piece.start === 0 ? "before the first torch.save archive" : index === archives ? "after the last torch.save archive" : "between torch.save archives";
    const name = `<bytes at ${piece.start}>`;
    ctx.report("MG144", `${length} bytes at offset ${piece.start} lie ${where} of the distributed checkpoint shard and belong to none of them; they were scanned`, {
      offset: piece.start,
    });
    await ctx.scanMember(name, new SliceSource(name, source, piece.start, length));
  }
}

/**
 * The archive whose end record is the last one before `end` (within the end-record search span,
 * as miniz looks for it): undefined when there is none, a reason when it cannot start anywhere.
 */
async function endRecordBefore(source: ByteSource, end: number): Promise<ArchiveEnd | string | undefined> {
  let at = -1;
  // torch writes no archive comment: the record normally ends exactly at `end`.
  if (end >= EOCD_SIZE) {
    const record = view(await source.read(end - EOCD_SIZE, EOCD_SIZE));
    if (record.byteLength === EOCD_SIZE && record.getUint32(0, true) === SIG_EOCD && record.getUint16(20, true) === 0) at = end - EOCD_SIZE;
  }
  if (at < 0) at = await findEndRecord(new SliceSource("<shard>", source, 0, end));
  if (at < 0) return undefined;
  const record = view(await source.read(at, EOCD_SIZE));
  const recordEnd = at + EOCD_SIZE + record.getUint16(20, true);
  if (recordEnd > end) return `its end record's comment runs past offset ${end}`;
  let cdSize = record.getUint32(12, true);
  let cdOffset = record.getUint32(16, true);
  let cdEnd = at;
  // A zip64 end record sits just before its locator (the locator's own offset is relative to the archive's start).
  if (at >= ZIP64_LOCATOR_SIZE + ZIP64_EOCD_SIZE) {
    const locator = view(await source.read(at - ZIP64_LOCATOR_SIZE, ZIP64_LOCATOR_SIZE));
    if (locator.getUint32(0, true) === SIG_ZIP64_LOCATOR) {
      const z64At = at - ZIP64_LOCATOR_SIZE - ZIP64_EOCD_SIZE;
      const z64 = view(await source.read(z64At, ZIP64_EOCD_SIZE));
      if (z64.getUint32(0, true) !== SIG_ZIP64_EOCD) return "its zip64 locator is not preceded by a zip64 end record";
      const size = z64.getBigUint64(40, true);
      const offset = z64.getBigUint64(48, true);
      if (size > BigInt(z64At) || offset > BigInt(z64At)) return "its zip64 central directory does not fit before its end record";
      cdSize = Number(size);
      cdOffset = Number(offset);
      cdEnd = z64At;
    }
  }
  const start = cdEnd - cdSize - cdOffset;
  if (start < 0) return `its central directory (offset ${cdOffset}, ${cdSize} bytes) does not fit before its end record`;
  return { at, end: recordEnd, start };
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
