/**
 * Our own zip reader. Real loaders read zips with two different readers, and a hostile archive can
 * show each a different set of members (THREATS Z1, P11, P18):
 *
 * - PyTorch (torch.load, torch.jit.load) uses miniz through caffe2's PyTorchStreamReader: the last
 *   end record signature in the file's tail, the central directory at its recorded absolute offset
 *   (nothing prepended is corrected for), the ZIP64 record where the locator says, exactly the
 *   declared number of entries, names looked up ignoring ASCII case. CRCs are not checked
 *   (CVE-2025-1944) and the local header serves only to find where data starts (CVE-2025-1945).
 * - Python's zipfile (np.load of .npz, Keras 3 .keras, most Python code) takes the end record at
 *   the very end if it has no comment, else the last signature in the tail; it finds the central
 *   directory by counting its size back from the end record and shifts every offset by the
 *   difference (the "concat" of a prepended stub); it reads entries until the directory's size is
 *   used up, whatever the count says; the last entry of a name wins; stored, deflate, bzip2 and LZMA.
 *
 * `scanZip` opens both views and scans each (members they share once); when they differ, the
 * disagreement is a finding of its own (MG131) and the view only one reader sees is scanned all
 * the same, so its payload is reported at its own severity. `openZip` is the lenient single view
 * (offsets corrected like zipfile, ZIP64 found either way) used by converters.
 *
 * Cost: one read for the end of the file, one for each central directory, one small read per local
 * header. Stored members are zero-copy slices, so a 1 GB storage is never read here.
 */
import { crc32 } from "node:zlib";
import { BufferSource, ChunkedSource, SliceSource, type ByteSource } from "../sources/byteSource.js";
import { LIMITS } from "../limits.js";
import { decompressBz2, decompressLzma, inflateBounded, type Layer, type LayerProblem } from "./compression.js";
import { canDescend, checkExtractedModules, checkLinks, checkMemberNames, MAX_LINK_TARGET, memberBudget, memberHead, type LinkMember } from "./container.js";
import type { FormatScanner, ScanBudget, ScanContext } from "./context.js";
import { isKerasArchive, scanKerasArchive } from "./keras.js";
import { scanPickle } from "./pickle.js";
import { scanTorchZip } from "./pytorch.js";
import { isArchiveSequence, scanDcpShard } from "./dcp.js";
import { checkTorchPackageArchive } from "./torchPackage.js";
import { checkTorchServeManifest, isTorchServeArchive } from "./torchserve.js";

/** The archive's structure cannot be read (no end record, corrupt central directory). */
export class ZipFormatError extends Error {}

export interface ZipEntry {
  readonly index: number;
  /** The central directory's name (what PyTorch and zipfile both look members up by). */
  readonly name: string;
  readonly nameBytes: Uint8Array;
  readonly flags: number;
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  /** Offset of the local header in the source, prefix offset included. */
  readonly localHeaderOffset: number;
  /** Flag bit 0. PyTorch ignores it. */
  readonly encrypted: boolean;
  /** Made on Unix with S_IFLNK in the external attributes: unzip and bsdtar extract it as a symbolic link to its content. */
  readonly symlink: boolean;
}

export interface LocalHeader {
  /** Where the member's data starts: local header offset + 30 + local name length + local extra length. */
  readonly dataStart: number;
  /** The local header's own flags (a data descriptor may be announced here only). */
  readonly flags: number;
  /** How the local header disagrees with the central directory, one phrase each (MG144). */
  readonly mismatches: readonly string[];
}

export interface ZipMember {
  /** The member's content (a slice for stored members, inflated bytes for deflate); absent if unreadable. */
  source?: ByteSource;
  readonly mismatches: readonly string[];
  /** Why the content is missing or incomplete. */
  problem?: LayerProblem;
}

export type ZipLayout = "pytorch" | "torchscript" | "npz" | "plain";

/**
 * Whose reading of the archive: PyTorch's (miniz), Python's zipfile, or the lenient reading of
 * `openZip` (zipfile's offsets, ZIP64 found either way, PyTorch's methods).
 */
export type ZipReader = "pytorch" | "zipfile" | "lenient";

/** How a reader located the central directory. */
interface DirectoryLocation {
  /** Offset of the end record the reader chose. */
  endAt: number;
  /** Where the directory starts in the source. */
  start: number;
  size: number;
  /** Entries the end record declares. */
  declared: number;
  /** Added to every recorded offset (zipfile's "concat"; 0 for miniz). */
  base: number;
  /** miniz reads exactly `declared` entries; zipfile reads until `size` bytes are used up. */
  byCount: boolean;
}

/** Bytes of the archive file that no member, directory or end record covers. */
export interface ZipGap {
  start: number;
  end: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const EOCD_SIZE = 22;
/** The end record plus the longest comment it can carry: where miniz looks for it. */
const EOCD_SEARCH = EOCD_SIZE + 0xffff;
/** Searched first (served from FileSource's block of small reads), before the whole span. */
const EOCD_SHORT_TAIL = 4096;
const EOCD_SIGNATURE = Buffer.from([0x50, 0x4b, 0x05, 0x06]);
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIZE = 56;
/** Read with each local header so its extra field (PyTorch pads data to 64-byte alignment) comes in the same read. */
const LOCAL_SLACK = 128;
/** A data descriptor (flag bit 3) follows the data: optional signature, CRC, two sizes of up to 8 bytes. */
const MAX_DESCRIPTOR = 24;
const FLAG_ENCRYPTED = 1;
const FLAG_DESCRIPTOR = 8;
const FLAG_UTF8 = 0x800;
/** LZMA members: the stream ends with an end marker (zipfile always sets it). */
const FLAG_LZMA_EOS = 2;
/** Compression methods by number; PyTorch reads deflate (and stored), zipfile also bzip2 and LZMA. */
const METHODS: Readonly<Record<number, "deflate" | "bzip2" | "LZMA">> = { 8: "deflate", 12: "bzip2", 14: "LZMA" };
/** "Version made by" host system Unix: the high 16 bits of the external attributes are st_mode. */
const HOST_UNIX = 3;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

export class ZipArchive {
  private readonly locals = new Map<number, LocalHeader>();

  constructor(
    readonly source: ByteSource,
    readonly entries: readonly ZipEntry[],
    /** Bytes between the file start and the archive's recorded offset 0 (a self-extractor stub or prepended data). */
    readonly baseOffset: number,
    /** Where the central directory starts in the source; the directory and end records follow it. */
    readonly centralDirectoryStart: number,
    /** Entries the end record declares. */
    readonly declaredEntries: number,
    /** Why fewer entries were read than declared (corrupt directory), if so. */
    readonly directoryProblem: string | undefined,
    /** Whose reading this is; it decides the compression methods that can be read. */
    readonly reader: ZipReader = "lenient",
    /** Bytes of the central directory. */
    readonly centralDirectorySize = 0,
    /** Where the end record this reader chose starts (ZIP64 records before it are not counted). */
    readonly endRecordAt = -1,
  ) {}

  /**
   * Members already scanned, by name and data position, shared between the views of one file so a
   * member both readers see is scanned once (set by `scanZip`).
   */
  scanned: Set<string> | undefined;

  /** Where `entry` begins to be read, as a key that is equal for two views reading the same bytes the same way. */
  memberKey(entry: ZipEntry): string {
    return `${entry.localHeaderOffset}:${entry.compressedSize}:${entry.method}:${entry.flags}:${entry.name}`;
  }

  /** Reads (once) the entry's local header. Throws ZipFormatError when there is none at the recorded offset. */
  async localHeader(entry: ZipEntry): Promise<LocalHeader> {
    const cached = this.locals.get(entry.index);
    if (cached) return cached;
    const at = entry.localHeaderOffset;
    // zipfile's offset correction can move a recorded offset before the file's start.
    if (at < 0 || at >= this.source.size) throw new ZipFormatError(`no local header at offset ${at}`);
    const want = LOCAL_SIZE + entry.nameBytes.length + LOCAL_SLACK;
    let head = this.source.readNow?.(at, want) ?? (await this.source.read(at, want));
    // Fields read in place (no DataView): every member of a checkpoint has its local header read.
    if (head.length < LOCAL_SIZE || le32(head, 0) !== SIG_LOCAL) {
      throw new ZipFormatError(`no local header at offset ${at}`);
    }
    const flags = le16(head, 6);
    const method = le16(head, 8);
    const nameLength = le16(head, 26);
    const extraLength = le16(head, 28);
    if (head.length < LOCAL_SIZE + nameLength) head = await this.source.read(at, LOCAL_SIZE + nameLength);
    const mismatches: string[] = [];
    const localName = head.subarray(LOCAL_SIZE, LOCAL_SIZE + nameLength);
    if (!sameBytes(localName, entry.nameBytes)) mismatches.push(`local name "${decodeName(localName, flags)}"`);
    if (method !== entry.method) mismatches.push(`local method ${method}, central ${entry.method}`);
    if ((flags & FLAG_DESCRIPTOR) === 0) {
      const sizes = localSizes(head, head.subarray(LOCAL_SIZE + nameLength, LOCAL_SIZE + nameLength + extraLength));
      if (sizes && sizes.compressed !== entry.compressedSize) mismatches.push(`local compressed size ${sizes.compressed}, central ${entry.compressedSize}`);
      if (sizes && sizes.uncompressed !== entry.uncompressedSize) {
        mismatches.push(`local uncompressed size ${sizes.uncompressed}, central ${entry.uncompressedSize}`);
      }
    }
    const local = { dataStart: at + LOCAL_SIZE + nameLength + extraLength, flags, mismatches };
    this.locals.set(entry.index, local);
    return local;
  }

  /** The entry's content as PyTorch reads it: stored and deflate only, inflated within the file's budget. */
  async open(entry: ZipEntry, budget: ScanBudget): Promise<ZipMember> {
    let local: LocalHeader;
    try {
      local = await this.localHeader(entry);
    } catch (err) {
      if (!(err instanceof ZipFormatError)) throw err;
      return { mismatches: [], problem: { rule: "MG141", message: `${err.message}; its content was not analysed` } };
    }
    const { dataStart, mismatches } = local;
    const present = Math.max(0, Math.min(entry.compressedSize, this.source.size - dataStart));
    const truncated: LayerProblem | undefined =
      present < entry.compressedSize
        ? { rule: "MG141", message: `runs past the end of the file (${present} of ${entry.compressedSize} bytes present); what exists was scanned` }
        : undefined;
    if (entry.method === 0) {
      const source = new SliceSource(entry.name, this.source, Math.min(dataStart, this.source.size), present);
      const encrypted: LayerProblem | undefined = entry.encrypted
        ? { rule: "MG141", message: "is marked encrypted; PyTorch ignores the flag and reads stored bytes as they are, so they were scanned" }
        : undefined;
      return { source, mismatches, problem: encrypted ?? truncated };
    }
    if (entry.encrypted) return { mismatches, problem: { rule: "MG141", message: "is encrypted; its content was not analysed" } };
    const method = METHODS[entry.method];
    if (!method || (method !== "deflate" && this.reader !== "zipfile")) {
      const readers =
        this.reader === "zipfile"
          ? "which Python's zipfile cannot read (only stored, deflate, bzip2 and LZMA)"
          : "which PyTorch cannot read (only stored and deflate)";
      return { mismatches, problem: { rule: "MG141", message: `uses compression method ${entry.method}, ${readers}; not analysed` } };
    }
    const layer = await this.decompress(entry, method, dataStart, present, budget);
    const problem = layer.problem ?? truncated;
    const source = layer.size > 0 || !problem ? new ChunkedSource(entry.name, layer.chunks) : undefined;
    return { source, mismatches, problem: problem && { rule: problem.rule, message: `${method} data ${problem.message}` } };
  }

  /** Decompresses a member's data within the file's budget (bzip2 and LZMA only in zipfile's view: NumPy's .npz may use them). */
  private async decompress(entry: ZipEntry, method: "deflate" | "bzip2" | "LZMA", start: number, length: number, budget: ScanBudget): Promise<Layer> {
    if (method === "deflate") return inflateBounded(this.source, start, length, "deflate-raw", budget);
    if (method === "bzip2") return decompressBz2(new SliceSource(entry.name, this.source, start, length), budget);
    // zipfile's LZMA: version (2 bytes), properties size (2), properties, then a raw LZMA1 stream. 7-Zip's
    // decoder reads the "alone" format: properties, uncompressed size (-1 when an end marker is announced by flag bit 1), stream.
    if (length > LIMITS.maxInMemoryLayer) {
      return { chunks: [], size: 0, problem: { rule: "MG140", message: `is ${length} bytes, more than the in-memory layer limit; not decompressed` } };
    }
    const data = await this.source.read(start, length);
    const view = viewOf(data);
    const propsSize = data.length >= 4 ? view.getUint16(2, true) : -1;
    if (propsSize !== 5 || data.length < 9) return { chunks: [], size: 0, problem: { rule: "MG141", message: "has a malformed LZMA header" } };
    const alone = new Uint8Array(13 + data.length - 9);
    alone.set(data.subarray(4, 9), 0);
    const sizeField = new DataView(alone.buffer, 5, 8);
    if (entry.flags & FLAG_LZMA_EOS) sizeField.setBigInt64(0, -1n, true);
    else sizeField.setBigUint64(0, BigInt(entry.uncompressedSize), true);
    alone.set(data.subarray(9), 13);
    return decompressLzma(new BufferSource(entry.name, alone), budget);
  }

  /**
   * Byte ranges that no member covers between the first local header and the central directory
   * (where a streaming reader could find a member the directory does not list). Reads every local header.
   */
  async gaps(): Promise<ZipGap[]> {
    return gapsOf([this]);
  }

  /** The ranges this view's members (local header, data, data descriptor) occupy. */
  async memberRanges(): Promise<ZipGap[]> {
    const covered: ZipGap[] = [];
    for (const entry of this.entries) {
      try {
        const { dataStart, flags } = await this.localHeader(entry);
        const slack = (entry.flags | flags) & FLAG_DESCRIPTOR ? MAX_DESCRIPTOR : 0;
        covered.push({ start: entry.localHeaderOffset, end: dataStart + entry.compressedSize + slack });
      } catch (err) {
        if (!(err instanceof ZipFormatError)) throw err;
      }
    }
    return covered;
  }

  /**
   * Offset of the first local header: anything before it is not part of any member. An archive with
   * no members and an empty directory starts at its end record: a directory offset it records (0
   * for a zip written alone, then prepended to) covers nothing.
   */
  get firstMemberOffset(): number {
    const directory = this.entries.length === 0 && this.centralDirectorySize === 0 && this.endRecordAt >= 0 ? this.endRecordAt : this.centralDirectoryStart;
    return this.entries.reduce((min, e) => Math.min(min, e.localHeaderOffset), directory);
  }
}

/**
 * Which signatures count as an end record: `any` (as miniz takes them), `plausible` (one whose
 * directory could lie before it: neither reader checks more, but sniffing must not make a file a zip
 * by four random bytes), `exact` (its comment ends the file: an archive member's tail, where tensor
 * bytes are usual).
 */
export type EndRecordCheck = "any" | "plausible" | "exact";

/** Source offset of the last end-of-central-directory record within the last `span` bytes that passes `check`, or -1. */
export async function findEndRecord(source: ByteSource, span = EOCD_SEARCH, check: EndRecordCheck = "any"): Promise<number> {
  // Both readers take the last signature that qualifies, so one found in a short tail is the one a
  // search of the whole span finds first; most archives end with a comment-less record.
  if (span > EOCD_SHORT_TAIL) {
    const found = await lastEndRecord(source, EOCD_SHORT_TAIL, check);
    if (found >= 0) return found;
  }
  return lastEndRecord(source, span, check);
}

async function lastEndRecord(source: ByteSource, span: number, check: EndRecordCheck): Promise<number> {
  const tailStart = Math.max(0, source.size - span);
  const tail = source.readNow?.(tailStart, source.size - tailStart) ?? (await source.read(tailStart, source.size - tailStart));
  for (let i = lastSignature(tail, tail.length - EOCD_SIZE); i >= 0; i = lastSignature(tail, i - 1)) {
    if (check === "any" || (check === "exact" ? endsTail(tail, i) : plausibleEndRecord(tail, i, source.size))) return tailStart + i;
  }
  return -1;
}

/** Whether the record at `i` ends `tail` with its comment (the comment length is the record's last two bytes). */
function endsTail(tail: Uint8Array, i: number): boolean {
  return i + EOCD_SIZE + le16(tail, i + 20) === tail.length;
}

/**
 * Whether the record at `i` describes a directory that could be in a file of `size` bytes: one disk
 * (both readers refuse more), as many entries on it as in total, at least a minimal header for each,
 * or ZIP64's placeholders, which a locator before the record resolves. Where the directory lies is
 * not asked: miniz takes one after the record (in its comment) as readily as one before it.
 */
function plausibleEndRecord(tail: Uint8Array, i: number, size: number): boolean {
  const total = le16(tail, i + 10);
  const directory = le32(tail, i + 12);
  if (total === 0xffff || directory === 0xffffffff) return true;
  return le16(tail, i + 4) === 0 && le16(tail, i + 6) === 0 && le16(tail, i + 8) === total && directory >= 46 * total && directory <= size;
}

/**
 * Offset of the last end-record signature that starts at or before `from` in `bytes`, or -1. The
 * native search matters: every pickle sniffed at the top level has its 64 KiB tail searched. A few
 * positions are compared in place: every archive member's 22-byte tail is checked (sniff).
 */
function lastSignature(bytes: Uint8Array, from: number): number {
  if (from < 0) return -1;
  if (from < EOCD_SIZE) {
    // Bytes past the end read as 0, and the signature's last byte is not 0: no match runs off the end.
    for (let i = from; i >= 0; i--) if (le32(bytes, i) === SIG_EOCD) return i;
    return -1;
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).lastIndexOf(EOCD_SIGNATURE, from);
}

/** The lenient single view: zipfile's offset correction, ZIP64 records found where either reader looks. */
export async function openZip(source: ByteSource): Promise<ZipArchive> {
  return readDirectory(source, await locateLenient(source), "lenient");
}

/** One reader's view of the archive. Throws ZipFormatError when that reader finds no readable directory. */
export async function openZipView(source: ByteSource, reader: "pytorch" | "zipfile"): Promise<ZipArchive> {
  return readDirectory(source, reader === "pytorch" ? await locatePyTorch(source) : await locateZipfile(source), reader);
}

async function readDirectory(source: ByteSource, at: DirectoryLocation, reader: ZipReader): Promise<ZipArchive> {
  if (at.size > LIMITS.maxInMemoryLayer) throw new ZipFormatError(`central directory of ${at.size} bytes is too large`);
  const cd = await source.read(at.start, at.size);
  const { entries, problem } = parseCentralDirectory(cd, at.base, at.byCount ? at.declared : undefined, reader === "zipfile");
  // Nothing readable where the directory should be: this reader does not see a zip (miniz refuses it; zipfile raises).
  if (entries.length === 0 && problem && reader !== "lenient") {
    throw new ZipFormatError(`${READER_NAMES[reader]} finds no central directory at offset ${at.start} (${problem})`);
  }
  return new ZipArchive(source, entries, at.base, at.start, at.declared, problem, reader, at.size, at.endAt);
}

async function endRecord(source: ByteSource, at: number): Promise<{ declared: number; cdSize: number; cdOffset: number }> {
  const record = viewOf(await source.read(at, EOCD_SIZE));
  return { declared: record.getUint16(10, true), cdSize: record.getUint32(12, true), cdOffset: record.getUint32(16, true) };
}

async function locateLenient(source: ByteSource): Promise<DirectoryLocation> {
  const at = await findEndRecord(source);
  if (at < 0) throw new ZipFormatError("no end of central directory record");
  let { declared, cdSize, cdOffset } = await endRecord(source, at);
  let cdEnd = at;
  const zip64 = await readZip64End(source, cdEnd);
  if (zip64) ({ declared, cdSize, cdOffset, cdEnd } = zip64);
  // Offsets are relative to the archive's own start; data prepended without fixing them shifts everything.
  const base = cdEnd - cdSize - cdOffset;
  if (base < 0) throw new ZipFormatError(`central directory (offset ${cdOffset}, ${cdSize} bytes) does not fit before its end record`);
  return { endAt: at, start: base + cdOffset, size: cdSize, declared, base, byCount: false };
}

/**
 * miniz (mz_zip_reader_read_central_dir): the last end record signature with 22 bytes after it;
 * a ZIP64 record at the absolute offset its locator gives; the directory at its absolute offset.
 */
async function locatePyTorch(source: ByteSource): Promise<DirectoryLocation> {
  const at = await findEndRecord(source);
  if (at < 0) throw new ZipFormatError("PyTorch's reader finds no end of central directory record");
  let { declared, cdSize, cdOffset } = await endRecord(source, at);
  if (at >= ZIP64_LOCATOR_SIZE + ZIP64_EOCD_SIZE) {
    const locator = viewOf(await source.read(at - ZIP64_LOCATOR_SIZE, ZIP64_LOCATOR_SIZE));
    if (locator.getUint32(0, true) === SIG_ZIP64_LOCATOR) {
      const recordAt = u64(locator, 8);
      if (recordAt > source.size - ZIP64_EOCD_SIZE) throw new ZipFormatError(`PyTorch's reader finds its ZIP64 locator pointing past the file (offset ${recordAt})`);
      const record = viewOf(await source.read(recordAt, ZIP64_EOCD_SIZE));
      if (record.getUint32(0, true) === SIG_ZIP64_EOCD) {
        declared = u64(record, 32);
        cdSize = u64(record, 40);
        cdOffset = u64(record, 48);
      }
    }
  }
  if (cdOffset + cdSize > source.size) throw new ZipFormatError(`PyTorch's reader finds the central directory (offset ${cdOffset}, ${cdSize} bytes) past the end of the file`);
  if (cdSize < declared * CENTRAL_SIZE) throw new ZipFormatError(`PyTorch's reader finds ${declared} entries declared in a ${cdSize}-byte central directory`);
  return { endAt: at, start: cdOffset, size: cdSize, declared, base: 0, byCount: true };
}

/**
 * Python's zipfile (_EndRecData, _EndRecData64, _RealGetContents): the end record at the very end
 * if it has no comment, else the last signature in the tail (which must leave room for a record);
 * a ZIP64 record just before its locator; the directory counted back from the end record, every
 * offset shifted by the difference to the recorded one.
 */
async function locateZipfile(source: ByteSource): Promise<DirectoryLocation> {
  let at = -1;
  if (source.size >= EOCD_SIZE) {
    const last = viewOf(await source.read(source.size - EOCD_SIZE, EOCD_SIZE));
    if (last.getUint32(0, true) === SIG_EOCD && last.getUint16(20, true) === 0) at = source.size - EOCD_SIZE;
  }
  if (at < 0) {
    const tailStart = Math.max(0, source.size - EOCD_SEARCH - 1);
    const tail = await source.read(tailStart, source.size - tailStart);
    const i = lastSignature(tail, tail.length - 4);
    if (i >= 0) {
      if (i + EOCD_SIZE > tail.length) throw new ZipFormatError("Python's zipfile finds the last end record signature too close to the end of the file");
      at = tailStart + i;
    }
  }
  if (at < 0) throw new ZipFormatError("Python's zipfile finds no end of central directory record");
  let { declared, cdSize, cdOffset } = await endRecord(source, at);
  let concat = at - cdSize - cdOffset;
  if (at >= ZIP64_LOCATOR_SIZE) {
    const locator = viewOf(await source.read(at - ZIP64_LOCATOR_SIZE, ZIP64_LOCATOR_SIZE));
    if (locator.getUint32(0, true) === SIG_ZIP64_LOCATOR && at >= ZIP64_LOCATOR_SIZE + ZIP64_EOCD_SIZE) {
      if (locator.getUint32(4, true) !== 0 || locator.getUint32(16, true) > 1) throw new ZipFormatError("Python's zipfile refuses a multi-disk ZIP64 archive");
      const record = viewOf(await source.read(at - ZIP64_LOCATOR_SIZE - ZIP64_EOCD_SIZE, ZIP64_EOCD_SIZE));
      if (record.getUint32(0, true) === SIG_ZIP64_EOCD) {
        declared = u64(record, 32);
        cdSize = u64(record, 40);
        cdOffset = u64(record, 48);
        concat = at - cdSize - cdOffset - ZIP64_EOCD_SIZE - ZIP64_LOCATOR_SIZE;
      }
    }
  }
  const start = cdOffset + concat;
  if (start < 0) throw new ZipFormatError("Python's zipfile finds a bad offset for the central directory");
  return { endAt: at, start, size: cdSize, declared, base: concat, byCount: false };
}

async function readZip64End(
  source: ByteSource,
  eocdAt: number,
): Promise<{ declared: number; cdSize: number; cdOffset: number; cdEnd: number } | undefined> {
  if (eocdAt < ZIP64_LOCATOR_SIZE) return undefined;
  const locator = viewOf(await source.read(eocdAt - ZIP64_LOCATOR_SIZE, ZIP64_LOCATOR_SIZE));
  if (locator.getUint32(0, true) !== SIG_ZIP64_LOCATOR) return undefined;
  // The recorded offset is wrong when data was prepended; the record normally sits just before the locator.
  const candidates = [u64(locator, 8), eocdAt - ZIP64_LOCATOR_SIZE - ZIP64_EOCD_SIZE];
  for (const at of candidates) {
    if (at < 0 || at + ZIP64_EOCD_SIZE > source.size) continue;
    const record = viewOf(await source.read(at, ZIP64_EOCD_SIZE));
    if (record.getUint32(0, true) !== SIG_ZIP64_EOCD) continue;
    return { declared: u64(record, 32), cdSize: u64(record, 40), cdOffset: u64(record, 48), cdEnd: at };
  }
  throw new ZipFormatError("zip64 end of central directory locator points to no zip64 record");
}

function parseCentralDirectory(cd: Uint8Array, base: number, count?: number, pythonNames = false): { entries: ZipEntry[]; problem?: string } {
  const view = viewOf(cd);
  const entries: ZipEntry[] = [];
  let p = 0;
  while (p + CENTRAL_SIZE <= cd.length && entries.length <= LIMITS.maxMembers && (count === undefined || entries.length < count)) {
    if (view.getUint32(p, true) !== SIG_CENTRAL) return { entries, problem: `central directory is corrupt at byte ${p} of ${cd.length}` };
    const flags = view.getUint16(p + 8, true);
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    const next = p + CENTRAL_SIZE + nameLength + extraLength + commentLength;
    if (next > cd.length) return { entries, problem: `central directory entry ${entries.length} runs past the directory's end` };
    const nameBytes = cd.subarray(p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLength);
    const extra = cd.subarray(p + CENTRAL_SIZE + nameLength, p + CENTRAL_SIZE + nameLength + extraLength);
    let uncompressedSize = view.getUint32(p + 24, true);
    let compressedSize = view.getUint32(p + 20, true);
    let localHeaderOffset = view.getUint32(p + 42, true);
    // ZIP64 extra: 8-byte values, in this order, for exactly the fields saturated in the fixed header.
    const z64 = findExtra(extra, 0x0001);
    if (z64) {
      let q = 0;
      const take = (v: number): number => {
        if (v !== 0xffffffff || q + 8 > z64.byteLength) return v;
        const wide = u64(z64, q);
        q += 8;
        return wide;
      };
      uncompressedSize = take(uncompressedSize);
      compressedSize = take(compressedSize);
      localHeaderOffset = take(localHeaderOffset);
    }
    entries.push({
      index: entries.length,
      name: pythonNames ? pythonName(nameBytes, flags, extra) : decodeName(nameBytes, flags),
      nameBytes,
      flags,
      method: view.getUint16(p + 10, true),
      crc32: view.getUint32(p + 16, true),
      compressedSize,
      uncompressedSize,
      localHeaderOffset: base + localHeaderOffset,
      encrypted: (flags & FLAG_ENCRYPTED) !== 0,
      symlink: view.getUint8(p + 5) === HOST_UNIX && ((view.getUint32(p + 38, true) >>> 16) & S_IFMT) === S_IFLNK,
    });
    p = next;
  }
  if (count !== undefined && entries.length < count && entries.length <= LIMITS.maxMembers) {
    return { entries, problem: `central directory holds ${entries.length} of the ${count} entries its end record declares` };
  }
  return { entries };
}

/**
 * The name Python's zipfile files an entry under: cut at the first NUL byte, and since Python 3.12
 * replaced by an Info-ZIP Unicode Path extra field (0x7075, version 1) whose CRC matches the raw name.
 * miniz uses the raw bytes, so a member can be "config.json" to one reader and "data.pkl" to the other.
 */
function pythonName(nameBytes: Uint8Array, flags: number, extra: Uint8Array): string {
  let name = decodeName(nameBytes, flags);
  const unicodePath = findExtra(extra, 0x7075);
  if (unicodePath && unicodePath.byteLength > 5 && unicodePath.getUint8(0) === 1 && unicodePath.getUint32(1, true) === crc32(nameBytes)) {
    try {
      name = utf8.decode(new Uint8Array(unicodePath.buffer, unicodePath.byteOffset + 5, unicodePath.byteLength - 5));
    } catch {
      // zipfile refuses the archive (invalid UTF-8 in the field); the raw name stands for this view
    }
  }
  const nul = name.indexOf("\0");
  return nul >= 0 ? name.slice(0, nul) : name;
}

/** Tells which loader's layout the archive follows; PyTorch names everything `<prefix>/…`. */
export function detectZipLayout(entries: readonly ZipEntry[]): ZipLayout {
  const names = entries.map((e) => e.name);
  // Case-insensitive, as miniz looks records up.
  if (names.some((n) => /^[^/]+\/(constants\.pkl$|code\/)/i.test(n))) return "torchscript";
  if (names.some((n) => /^[^/]+\/data\.pkl$/i.test(n))) return "pytorch";
  if (names.length > 0 && names.every((n) => n.toLowerCase().endsWith(".npy"))) return "npz";
  return "plain";
}

/**
 * Opens one entry, reports what is wrong with it, and scans its content: by sniffing, or with
 * `scan` when the layout says how the loader reads it (PyTorch unpickles data.pkl whatever it holds).
 */
export async function scanZipEntry(
  archive: ZipArchive,
  entry: ZipEntry,
  ctx: ScanContext,
  scan?: (source: ByteSource, memberCtx: ScanContext) => Promise<unknown>,
): Promise<void> {
  if (archive.scanned) {
    // The other reader's view lists the same member at the same place: it was scanned there.
    const key = archive.memberKey(entry);
    if (archive.scanned.has(key)) return;
    archive.scanned.add(key);
  }
  const member = await archive.open(entry, ctx.budget);
  // zipfile's offset correction can make a recorded offset negative: such a member has no place in the file to point at.
  const offset = entry.localHeaderOffset >= 0 ? entry.localHeaderOffset : undefined;
  if (member.mismatches.length > 0) {
    ctx.report(
      "MG144",
      `zip member "${entry.name}": local header disagrees with the central directory (${member.mismatches.join("; ")}); scanned as the central directory describes it, as PyTorch reads it`,
      { offset, evidence: member.mismatches.join("; ") },
    );
  }
  if (member.problem) ctx.report(member.problem.rule, `zip member "${entry.name}" ${member.problem.message}`, { offset });
  if (!member.source) return;
  if (scan) await scan(member.source, ctx.memberContext(entry.name));
  else await ctx.scanMember(entry.name, member.source);
}

/** Scans every file entry (directories are skipped), up to LIMITS.maxMembers. */
export async function scanZipEntries(archive: ZipArchive, ctx: ScanContext, entries: readonly ZipEntry[] = archive.entries): Promise<void> {
  for (const entry of entries.slice(0, LIMITS.maxMembers)) {
    if (entry.name.endsWith("/") && entry.uncompressedSize === 0) continue;
    await scanZipEntry(archive, entry, ctx);
  }
}

export const scanZip: FormatScanner = async (source: ByteSource, ctx: ScanContext) => {
  if (!canDescend(ctx, "zip archive")) return;
  const views = await openZipViews(source);
  const readable = views.filter((v): v is ZipArchive => v instanceof ZipArchive);
  // torch.distributed.checkpoint shards: torch.save archives back to back, each scanned on its own.
  // zipfile's view corrects offsets like the lenient reader; the lenient one is opened only when zipfile cannot read the file.
  const whole = readable.find((v) => v.reader === "zipfile") ?? (await openZip(source).catch((err: unknown) => (err instanceof ZipFormatError ? undefined : Promise.reject(err))));
  if (whole && (await isArchiveSequence(whole))) return scanDcpShard(source, ctx);

  if (readable.length === 0) {
    const why = views.map((v) => (v instanceof ZipFormatError ? v.message : "")).join("; ");
    if (!whole) {
      ctx.report("MG141", `zip archive is unreadable (${why}); no member was analysed`);
      return;
    }
    // Neither loader's reader can open it, but a tolerant one can: scanned as such, and never a pass for being unreadable.
    ctx.report("MG141", `zip archive is unreadable to PyTorch and to Python's zipfile (${why}); it was scanned as tolerant zip tools read it`, {
      offset: whole.centralDirectoryStart,
    });
    readable.push(whole);
  }
  const ordered = orderViews(readable);
  reportViews(views, ordered, ctx);
  const scanned = new Set<string>();
  for (const archive of ordered) archive.scanned = scanned;
  await scanPrefix(ordered, ctx);
  for (const [i, archive] of ordered.entries()) {
    // The view of the reader that does not load this layout is scanned as a member of its own, so findings say whose view holds them.
    await scanView(archive, i === 0 ? ctx : ctx.memberContext(`<${READER_NAMES[archive.reader]} view>`));
  }
  await scanGaps(ordered, ctx);
};

const READER_NAMES: Readonly<Record<ZipReader, string>> = { pytorch: "PyTorch zip reader", zipfile: "Python zipfile", lenient: "zip" };

/** PyTorch's and zipfile's views, each an archive or why that reader cannot read the file. */
export async function openZipViews(source: ByteSource): Promise<(ZipArchive | ZipFormatError)[]> {
  const views: (ZipArchive | ZipFormatError)[] = [];
  for (const reader of ["pytorch", "zipfile"] as const) {
    try {
      views.push(await openZipView(source, reader));
    } catch (err) {
      if (!(err instanceof ZipFormatError)) throw err;
      views.push(new ZipFormatError(err.message.startsWith("Python") || err.message.startsWith("PyTorch") ? err.message : `${READER_NAMES[reader]}: ${err.message}`));
    }
  }
  return views;
}

/** True when two views list the same entries at the same places. */
function sameView(a: ZipArchive, b: ZipArchive): boolean {
  if (a.entries.length !== b.entries.length) return false;
  return a.entries.every((e, i) => {
    const f = b.entries[i]!;
    return (
      e.name === f.name &&
      sameBytes(e.nameBytes, f.nameBytes) &&
      e.localHeaderOffset === f.localHeaderOffset &&
      e.compressedSize === f.compressedSize &&
      e.uncompressedSize === f.uncompressedSize &&
      e.method === f.method &&
      e.flags === f.flags
    );
  });
}

/** Layouts whose loader reads the zip with Python's zipfile. */
function zipfileLayout(archive: ZipArchive): boolean {
  return isKerasArchive(archive.entries.map((e) => e.name)) || detectZipLayout(archive.entries) === "npz";
}

/**
 * The views to scan, the one of the reader that loads this layout first: PyTorch's for its
 * checkpoints and plain zips, zipfile's for .npz and .keras. One view when both readers agree.
 */
function orderViews(readable: ZipArchive[]): ZipArchive[] {
  const torch = readable.find((v) => v.reader === "pytorch");
  const zipfile = readable.find((v) => v.reader === "zipfile");
  if (!torch || !zipfile) return readable;
  const torchLayout = detectZipLayout(torch.entries);
  const zipfileFirst = zipfileLayout(zipfile) && torchLayout !== "pytorch" && torchLayout !== "torchscript";
  if (sameView(torch, zipfile)) return [zipfileFirst ? zipfile : torch];
  return zipfileFirst ? [zipfile, torch] : [torch, zipfile];
}

/** Reports readers that disagree (MG131) or that cannot read the archive at all while the other can (MG144). */
function reportViews(views: (ZipArchive | ZipFormatError)[], ordered: ZipArchive[], ctx: ScanContext): void {
  const failed = views.filter((v): v is ZipFormatError => v instanceof ZipFormatError);
  const [first, second] = ordered;
  if (failed.length > 0 && first && first.reader !== "lenient") {
    // A stub prepended without fixing offsets stops miniz; scanPrefix reports that case already.
    const prefixed = first.reader === "zipfile" && first.baseOffset > 0 && first.firstMemberOffset > 0;
    if (!prefixed) {
      ctx.report(
        "MG144",
        `only one zip reader can read this archive: ${failed.map((f) => f.message).join("; ")}; it was scanned as ${READER_NAMES[first.reader]} reads it`,
        { offset: first.centralDirectoryStart },
      );
    }
  }
  if (!first || !second) return;
  const key = (e: ZipEntry): string => `${e.name}@${e.localHeaderOffset}`;
  const inFirst = new Set(first.entries.map(key));
  const inSecond = new Set(second.entries.map(key));
  const onlyFirst = first.entries.filter((e) => !inSecond.has(key(e))).map(key);
  const onlySecond = second.entries.filter((e) => !inFirst.has(key(e))).map(key);
  const describe = (v: ZipArchive): string =>
    `${READER_NAMES[v.reader]} reads ${v.entries.length} entries from a central directory at offset ${v.centralDirectoryStart}${v.baseOffset !== 0 ? ` with offsets shifted by ${v.baseOffset}` : ""}`;
  const list = (names: string[]): string => (names.length > 8 ? `${names.slice(0, 8).join(", ")}, … (${names.length})` : names.join(", ") || "none");
  ctx.report(
    "MG131",
    `zip readers disagree on this archive (fake or shifted end records and central directories): ${describe(first)}, ${describe(second)}; each view was scanned`,
    {
      offset: second.centralDirectoryStart,
      evidence: `only ${READER_NAMES[first.reader]}: ${list(onlyFirst)}; only ${READER_NAMES[second.reader]}: ${list(onlySecond)}`,
    },
  );
}

/** One reader's view: its directory's problems, names and members, dispatched by layout. */
async function scanView(archive: ZipArchive, ctx: ScanContext): Promise<void> {
  if (archive.directoryProblem) {
    ctx.report("MG141", `zip ${archive.directoryProblem}; only the ${archive.entries.length} entries before it were analysed`, {
      offset: archive.centralDirectoryStart,
    });
  }
  memberBudget(ctx, "zip archive", Math.max(archive.declaredEntries, archive.entries.length));
  const names = archive.entries.map((e) => e.name);
  checkMemberNames(ctx, "zip", names);
  checkLinks(ctx, "zip", await linksOf(archive, ctx));
  await checkExtractedModules(
    ctx,
    "zip",
    archive.entries.slice(0, LIMITS.maxMembers).map((e) => ({ name: e.name, size: e.uncompressedSize, head: async () => memberHead((await archive.open(e, ctx.budget)).source) })),
  );
  if (archive.reader === "pytorch") checkFoldedNames(ctx, names);
  // Whatever else the archive looks like: TorchServe finds its manifest by name.
  if (isTorchServeArchive(names)) await checkTorchServeManifest(archive, ctx);
  // And torch.package by its extern list: its own modules stand behind any name its pickles use.
  checkTorchPackageArchive(names, ctx);

  if (isKerasArchive(names)) {
    ctx.refineFormat("keras-v3");
    await scanKerasArchive(archive, ctx);
    return;
  }
  const layout = detectZipLayout(archive.entries);
  if (layout === "pytorch" || layout === "torchscript") {
    ctx.refineFormat(layout === "pytorch" ? "pytorch-zip" : "torchscript");
    if (archive.reader === "pytorch") await scanFoldedRecords(archive, ctx);
    await scanTorchZip(archive, ctx, layout);
  } else {
    if (layout === "npz" && ctx.depth === 0) ctx.refineFormat("npz");
    await scanZipEntries(archive, ctx);
  }
}

/** The archive's symbolic link members with their targets (the member's content); unreadable ones are reported when scanned. */
async function linksOf(archive: ZipArchive, ctx: ScanContext): Promise<LinkMember[]> {
  const links: LinkMember[] = [];
  for (const entry of archive.entries.slice(0, LIMITS.maxMembers)) {
    if (!entry.symlink) continue;
    const { source } = await archive.open(entry, ctx.budget);
    if (!source) continue;
    // A longer target cannot be created; one byte more than the bound is enough for checkLinks to tell.
    const target = decodeName(await source.read(0, Math.min(source.size, MAX_LINK_TARGET + 1)), FLAG_UTF8);
    links.push({ name: entry.name, target, kind: "symbolic", offset: entry.localHeaderOffset >= 0 ? entry.localHeaderOffset : undefined });
  }
  return links;
}

/** miniz looks names up ignoring ASCII case: names equal but for case are duplicates to PyTorch (MG143). */
function checkFoldedNames(ctx: ScanContext, names: readonly string[]): void {
  // By folded name in first-seen order: its one spelling, or a set once there are several (a
  // checkpoint has a member per tensor, and almost never two spellings of one).
  const byFolded = new Map<string, string | Set<string>>();
  for (const name of names) {
    const folded = foldCase(name);
    const seen = byFolded.get(folded);
    if (seen === undefined) byFolded.set(folded, name);
    else if (typeof seen !== "string") seen.add(name);
    else if (seen !== name) byFolded.set(folded, new Set([seen, name]));
  }
  for (const set of byFolded.values()) {
    if (typeof set === "string") continue;
    const spelled = [...set].map((n) => `"${n}"`).join(", ");
    ctx.report("MG143", `zip members ${spelled} differ only in case; PyTorch's reader looks names up ignoring case, so it may load any of them; every one was scanned`, {
      evidence: spelled,
    });
  }
}

/**
 * Records PyTorch unpickles by name (data.pkl, constants.pkl under the folder of the first entry)
 * spelled with other case: miniz finds them, so they are read as pickles whatever their content.
 */
async function scanFoldedRecords(archive: ZipArchive, ctx: ScanContext): Promise<void> {
  const first = archive.entries[0]?.name ?? "";
  const folder = first.includes("/") ? first.slice(0, first.indexOf("/") + 1) : "";
  const records = new Set([`${folder}data.pkl`, `${folder}constants.pkl`].map(foldCase));
  for (const entry of archive.entries) {
    if (!records.has(foldCase(entry.name))) continue;
    if (entry.name === `${folder}data.pkl` || entry.name === `${folder}constants.pkl`) continue; // scanTorchZip reads these
    await scanZipEntry(archive, entry, ctx, (source, mctx) => scanPickle(source, mctx));
  }
}

/** ASCII-only lower case, as miniz's MZ_TOLOWER. */
function foldCase(name: string): string {
  return HAS_ASCII_UPPER.test(name) ? name.replace(ASCII_UPPER, (c) => c.toLowerCase()) : name;
}
const HAS_ASCII_UPPER = /[A-Z]/;
const ASCII_UPPER = /[A-Z]/g;

/**
 * Data before the first member: torch.load and other readers that check the first bytes see it
 * instead of the zip (a pickle/zip polyglot, P18), so it is scanned by content.
 */
async function scanPrefix(views: readonly ZipArchive[], ctx: ScanContext): Promise<void> {
  const source = views[0]!.source;
  const end = Math.min(source.size, ...views.map((v) => v.firstMemberOffset));
  if (end <= 0) return;
  const how = views.some((v) => v.baseOffset > 0) ? " (the archive's offsets start after it)" : "";
  ctx.report("MG144", `${end} bytes precede the first zip member${how}; readers that look at the start of the file see them instead of the zip, so they were scanned`, {
    offset: 0,
  });
  await ctx.scanMember("<zip prefix>", new SliceSource("<zip prefix>", source, 0, end));
}

/**
 * Ranges between the first member and the last central directory that no view's members or
 * directories cover: a streaming reader could find a member there that no directory lists.
 */
async function gapsOf(views: readonly ZipArchive[]): Promise<ZipGap[]> {
  const covered: ZipGap[] = [];
  for (const v of views) {
    covered.push(...(await v.memberRanges()));
    if (views.length > 1) {
      covered.push({ start: v.centralDirectoryStart, end: v.centralDirectoryStart + v.centralDirectorySize });
      if (v.endRecordAt >= 0) covered.push({ start: v.endRecordAt, end: v.endRecordAt + EOCD_SIZE });
    }
  }
  covered.sort((a, b) => a.start - b.start);
  const directory = Math.max(...views.map((v) => v.centralDirectoryStart));
  const size = views[0]!.source.size;
  const gaps: ZipGap[] = [];
  let at = covered[0]?.start ?? directory;
  for (const range of [...covered.filter((r) => r.start < directory), { start: directory, end: directory }]) {
    if (range.start > at) gaps.push({ start: at, end: Math.min(range.start, size) });
    at = Math.max(at, range.end);
  }
  return gaps.filter((g) => g.end > g.start);
}

/** Data between members that no central directory accounts for. */
async function scanGaps(views: readonly ZipArchive[], ctx: ScanContext): Promise<void> {
  const source = views[0]!.source;
  for (const gap of await gapsOf(views)) {
    const name = `<zip gap at ${gap.start}>`;
    ctx.report("MG144", `${gap.end - gap.start} bytes at offset ${gap.start} lie between zip members and belong to none of them; they were scanned`, {
      offset: gap.start,
    });
    await ctx.scanMember(name, new SliceSource(name, source, gap.start, gap.end - gap.start));
  }
}

/** Sizes from a local header, widened by its ZIP64 extra when saturated; undefined if that extra is missing. */
function localSizes(head: Uint8Array, extra: Uint8Array): { compressed: number; uncompressed: number } | undefined {
  let uncompressed = le32(head, 22);
  let compressed = le32(head, 18);
  if (uncompressed === 0xffffffff || compressed === 0xffffffff) {
    const z64 = findExtra(extra, 0x0001);
    if (!z64 || z64.byteLength < 16) return undefined;
    uncompressed = u64(z64, 0);
    compressed = u64(z64, 8);
  }
  return { compressed, uncompressed };
}

function findExtra(extra: Uint8Array, id: number): DataView | undefined {
  const view = viewOf(extra);
  for (let p = 0; p + 4 <= extra.length; ) {
    const size = view.getUint16(p + 2, true);
    if (view.getUint16(p, true) === id) return viewOf(extra.subarray(p + 4, Math.min(extra.length, p + 4 + size)));
    p += 4 + size;
  }
  return undefined;
}

/** 64-bit little-endian field; values past 2^53 cannot describe a real file. */
function u64(view: DataView, at: number): number {
  const value = view.getBigUint64(at, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipFormatError(`64-bit field ${value} is out of range`);
  return Number(value);
}

function le16(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}

function le32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const latin1 = new TextDecoder("latin1");

/** UTF-8 when flagged or valid (PyTorch writes UTF-8 without the flag); otherwise bytes as Latin-1, never lossy. */
function decodeName(bytes: Uint8Array, flags: number): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return flags & FLAG_UTF8 ? new TextDecoder("utf-8").decode(bytes) : latin1.decode(bytes);
  }
}
