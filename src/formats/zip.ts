/**
 * Our own zip reader, reading archives the way PyTorch's loader (miniz, PyTorchStreamReader) does
 * rather than like Python's zipfile: the central directory decides names, sizes, methods and
 * offsets; the local header is read only to find where the data starts. CRCs are not checked and
 * flag bits do not make a member unreadable, because PyTorch loads such members (CVE-2025-1944,
 * CVE-2025-1945); disagreements between the two headers are findings instead.
 *
 * Cost: one read for the end of the file, one for the whole central directory, one small read
 * per local header. Stored members are zero-copy slices, so a 1 GB storage is never read here.
 */
import { ChunkedSource, SliceSource, type ByteSource } from "../sources/byteSource.js";
import { LIMITS } from "../limits.js";
import { inflateBounded, type LayerProblem } from "./compression.js";
import { canDescend, checkMemberNames, memberBudget } from "./container.js";
import type { FormatScanner, ScanBudget, ScanContext } from "./context.js";
import { isKerasArchive, scanKerasArchive } from "./keras.js";
import { scanTorchZip } from "./pytorch.js";
import { isArchiveSequence, scanDcpShard } from "./dcp.js";

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
  ) {}

  /** Reads (once) the entry's local header. Throws ZipFormatError when there is none at the recorded offset. */
  async localHeader(entry: ZipEntry): Promise<LocalHeader> {
    const cached = this.locals.get(entry.index);
    if (cached) return cached;
    const at = entry.localHeaderOffset;
    let head = await this.source.read(at, LOCAL_SIZE + entry.nameBytes.length + LOCAL_SLACK);
    const view = viewOf(head);
    if (head.length < LOCAL_SIZE || view.getUint32(0, true) !== SIG_LOCAL) {
      throw new ZipFormatError(`no local header at offset ${at}`);
    }
    const flags = view.getUint16(6, true);
    const method = view.getUint16(8, true);
    const nameLength = view.getUint16(26, true);
    const extraLength = view.getUint16(28, true);
    if (head.length < LOCAL_SIZE + nameLength) head = await this.source.read(at, LOCAL_SIZE + nameLength);
    const mismatches: string[] = [];
    const localName = head.subarray(LOCAL_SIZE, LOCAL_SIZE + nameLength);
    if (!sameBytes(localName, entry.nameBytes)) mismatches.push(`local name "${decodeName(localName, flags)}"`);
    if (method !== entry.method) mismatches.push(`local method ${method}, central ${entry.method}`);
    if ((flags & FLAG_DESCRIPTOR) === 0) {
      const sizes = localSizes(view, head.subarray(LOCAL_SIZE + nameLength, LOCAL_SIZE + nameLength + extraLength));
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
    if (entry.method !== 8) {
      return { mismatches, problem: { rule: "MG141", message: `uses compression method ${entry.method}, which PyTorch cannot read (only stored and deflate); not analysed` } };
    }
    const layer = await inflateBounded(this.source, dataStart, present, "deflate-raw", budget);
    const problem = layer.problem ?? truncated;
    const source = layer.size > 0 || !problem ? new ChunkedSource(entry.name, layer.chunks) : undefined;
    return { source, mismatches, problem: problem && { rule: problem.rule, message: `deflate data ${problem.message}` } };
  }

  /**
   * Byte ranges that no member covers between the first local header and the central directory
   * (where a streaming reader could find a member the directory does not list). Reads every local header.
   */
  async gaps(): Promise<ZipGap[]> {
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
    covered.sort((a, b) => a.start - b.start);
    const gaps: ZipGap[] = [];
    let at = covered[0]?.start ?? this.centralDirectoryStart;
    for (const range of [...covered, { start: this.centralDirectoryStart, end: this.centralDirectoryStart }]) {
      if (range.start > at) gaps.push({ start: at, end: Math.min(range.start, this.source.size) });
      at = Math.max(at, range.end);
    }
    return gaps.filter((g) => g.end > g.start);
  }

  /** Offset of the first local header: anything before it is not part of any member. */
  get firstMemberOffset(): number {
    return this.entries.reduce((min, e) => Math.min(min, e.localHeaderOffset), this.centralDirectoryStart);
  }
}

/** Finds the end record and reads the central directory. Throws ZipFormatError when there is no readable directory. */
/**
 * Source offset of the last end-of-central-directory record within the last `span` bytes, or -1.
 * Like miniz, any signature counts; `exact` also requires its comment to end the file (sniffing,
 * where four random bytes must not make a file a zip).
 */
export async function findEndRecord(source: ByteSource, span = EOCD_SEARCH, exact = false): Promise<number> {
  const tailStart = Math.max(0, source.size - span);
  const tail = await source.read(tailStart, source.size - tailStart);
  const view = viewOf(tail);
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (view.getUint32(i, true) !== SIG_EOCD) continue;
    if (!exact || i + EOCD_SIZE + view.getUint16(i + 20, true) === tail.length) return tailStart + i;
  }
  return -1;
}

export async function openZip(source: ByteSource): Promise<ZipArchive> {
  const at = await findEndRecord(source);
  if (at < 0) throw new ZipFormatError("no end of central directory record");
  const record = viewOf(await source.read(at, EOCD_SIZE));
  let declared = record.getUint16(10, true);
  let cdSize = record.getUint32(12, true);
  let cdOffset = record.getUint32(16, true);
  let cdEnd = at;

  const zip64 = await readZip64End(source, cdEnd);
  if (zip64) ({ declared, cdSize, cdOffset, cdEnd } = zip64);

  // Offsets are relative to the archive's own start; data prepended without fixing them shifts everything.
  const base = cdEnd - cdSize - cdOffset;
  if (base < 0) throw new ZipFormatError(`central directory (offset ${cdOffset}, ${cdSize} bytes) does not fit before its end record`);
  if (cdSize > LIMITS.maxInMemoryLayer) throw new ZipFormatError(`central directory of ${cdSize} bytes is too large`);
  const cdStart = base + cdOffset;
  const cd = await source.read(cdStart, cdSize);
  const { entries, problem } = parseCentralDirectory(cd, base);
  return new ZipArchive(source, entries, base, cdStart, declared, problem);
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

function parseCentralDirectory(cd: Uint8Array, base: number): { entries: ZipEntry[]; problem?: string } {
  const view = viewOf(cd);
  const entries: ZipEntry[] = [];
  let p = 0;
  while (p + CENTRAL_SIZE <= cd.length && entries.length <= LIMITS.maxMembers) {
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
      name: decodeName(nameBytes, flags),
      nameBytes,
      flags,
      method: view.getUint16(p + 10, true),
      crc32: view.getUint32(p + 16, true),
      compressedSize,
      uncompressedSize,
      localHeaderOffset: base + localHeaderOffset,
      encrypted: (flags & FLAG_ENCRYPTED) !== 0,
    });
    p = next;
  }
  return { entries };
}

/** Tells which loader's layout the archive follows; PyTorch names everything `<prefix>/…`. */
export function detectZipLayout(entries: readonly ZipEntry[]): ZipLayout {
  const names = entries.map((e) => e.name);
  if (names.some((n) => /^[^/]+\/(constants\.pkl$|code\/)/.test(n))) return "torchscript";
  if (names.some((n) => /^[^/]+\/data\.pkl$/.test(n))) return "pytorch";
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
  const member = await archive.open(entry, ctx.budget);
  const offset = entry.localHeaderOffset;
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
  let archive: ZipArchive;
  try {
    archive = await openZip(source);
  } catch (err) {
    if (!(err instanceof ZipFormatError)) throw err;
    ctx.report("MG141", `zip archive is unreadable (${err.message}); no member was analysed`);
    return;
  }
  // torch.distributed.checkpoint shards: torch.save archives back to back, each scanned on its own.
  if (await isArchiveSequence(archive)) return scanDcpShard(source, ctx);
  if (archive.directoryProblem) {
    ctx.report("MG141", `zip ${archive.directoryProblem}; only the ${archive.entries.length} entries before it were analysed`, {
      offset: archive.centralDirectoryStart,
    });
  }
  memberBudget(ctx, "zip archive", Math.max(archive.declaredEntries, archive.entries.length));
  checkMemberNames(ctx, "zip", archive.entries.map((e) => e.name));
  await scanPrefix(archive, ctx);

  if (isKerasArchive(archive.entries.map((e) => e.name))) {
    ctx.refineFormat("keras-v3");
    await scanKerasArchive(archive, ctx);
    await scanGaps(archive, ctx);
    return;
  }
  const layout = detectZipLayout(archive.entries);
  if (layout === "pytorch" || layout === "torchscript") {
    ctx.refineFormat(layout === "pytorch" ? "pytorch-zip" : "torchscript");
    await scanTorchZip(archive, ctx, layout);
  } else {
    if (layout === "npz" && ctx.depth === 0) ctx.refineFormat("npz");
    await scanZipEntries(archive, ctx);
  }
  await scanGaps(archive, ctx);
};

/**
 * Data before the first member: torch.load and other readers that check the first bytes see it
 * instead of the zip (a pickle/zip polyglot, P18), so it is scanned by content.
 */
async function scanPrefix(archive: ZipArchive, ctx: ScanContext): Promise<void> {
  const end = Math.min(archive.firstMemberOffset, archive.source.size);
  if (end <= 0) return;
  const how = archive.baseOffset > 0 ? " (the archive's offsets start after it)" : "";
  ctx.report("MG144", `${end} bytes precede the first zip member${how}; readers that look at the start of the file see them instead of the zip, so they were scanned`, {
    offset: 0,
  });
  await ctx.scanMember("<zip prefix>", new SliceSource("<zip prefix>", archive.source, 0, end));
}

/** Data between members that the central directory does not account for. */
async function scanGaps(archive: ZipArchive, ctx: ScanContext): Promise<void> {
  for (const gap of await archive.gaps()) {
    const name = `<zip gap at ${gap.start}>`;
    ctx.report("MG144", `${gap.end - gap.start} bytes at offset ${gap.start} lie between zip members and belong to none of them; they were scanned`, {
      offset: gap.start,
    });
    await ctx.scanMember(name, new SliceSource(name, archive.source, gap.start, gap.end - gap.start));
  }
}

/** Sizes from a local header, widened by its ZIP64 extra when saturated; undefined if that extra is missing. */
function localSizes(view: DataView, extra: Uint8Array): { compressed: number; uncompressed: number } | undefined {
  let uncompressed = view.getUint32(22, true);
  let compressed = view.getUint32(18, true);
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

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
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
