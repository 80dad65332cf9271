/**
 * A low-level zip writer for hostile archives: local headers, central directories and end records
 * are placed one by one, so a test can give PyTorch's reader and Python's zipfile different views
 * (several directories, end records in comments, offsets recorded relative to a shifted base).
 */
import { crc32, deflateRawSync } from "node:zlib";

export interface Member {
  name: string;
  data: Uint8Array;
  /** 0 stored (default), 8 deflate (compressed here); other methods take `data` as already compressed. */
  method?: number;
  flags?: number;
  /** CRC of the uncompressed bytes, when `data` is already compressed. */
  crc?: number;
  /** Uncompressed size, when `data` is already compressed. */
  size?: number;
  /** Extra field of the member's central directory entry. */
  centralExtra?: Uint8Array;
}

/** A member as written: what a central directory entry needs. */
export interface Placed {
  name: string;
  offset: number;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  centralExtra?: Uint8Array;
}

export const CENTRAL_ENTRY = 46;
export const END_RECORD = 22;

export class ZipBuilder {
  private readonly chunks: Buffer[] = [];
  /** Bytes written so far: the offset of whatever comes next. */
  size = 0;

  raw(bytes: Uint8Array): number {
    const at = this.size;
    this.chunks.push(Buffer.from(bytes));
    this.size += bytes.length;
    return at;
  }

  /** A local header and the member's data. */
  local(m: Member): Placed {
    const method = m.method ?? 0;
    const data = method === 8 ? deflateRawSync(m.data) : Buffer.from(m.data);
    const name = Buffer.from(m.name, "utf8");
    const crc = m.crc ?? crc32(m.data);
    const size = m.size ?? m.data.length;
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(method === 14 ? 63 : method === 12 ? 46 : 20, 4);
    header.writeUInt16LE(m.flags ?? 0, 6);
    header.writeUInt16LE(method, 8);
    header.writeUInt32LE(crc, 14);
    header.writeUInt32LE(data.length, 18);
    header.writeUInt32LE(size, 22);
    header.writeUInt16LE(name.length, 26);
    const offset = this.raw(Buffer.concat([header, name, data]));
    return { name: m.name, offset, method, flags: m.flags ?? 0, crc, compressedSize: data.length, size, centralExtra: m.centralExtra };
  }

  /** A central directory listing `members`, each offset recorded as `offset - shift`. */
  central(members: readonly Placed[], shift = 0): { start: number; size: number } {
    const start = this.raw(centralBytes(members, shift));
    return { start, size: this.size - start };
  }

  /** An end record; `commentLength` may announce bytes written after it (a comment holding more records). */
  end(entries: number, cdSize: number, cdOffset: number, commentLength = 0): number {
    const eocd = Buffer.alloc(END_RECORD);
    eocd.writeUInt32LE(0x06054b50, 0);
    eocd.writeUInt16LE(entries, 8);
    eocd.writeUInt16LE(entries, 10);
    eocd.writeUInt32LE(cdSize, 12);
    eocd.writeUInt32LE(cdOffset, 16);
    eocd.writeUInt16LE(commentLength, 20);
    return this.raw(eocd);
  }

  /** A ZIP64 end of central directory record. */
  zip64End(entries: number, cdSize: number, cdOffset: number): number {
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeUInt16LE(45, 12);
    record.writeUInt16LE(45, 14);
    record.writeBigUInt64LE(BigInt(entries), 24);
    record.writeBigUInt64LE(BigInt(entries), 32);
    record.writeBigUInt64LE(BigInt(cdSize), 40);
    record.writeBigUInt64LE(BigInt(cdOffset), 48);
    return this.raw(record);
  }

  /** A ZIP64 locator pointing at a ZIP64 record, then an end record whose fields defer to it. */
  zip64Tail(recordAt: number): void {
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(recordAt), 8);
    locator.writeUInt32LE(1, 16);
    this.raw(locator);
    this.end(0xffff, 0xffffffff, 0xffffffff);
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** The bytes of a central directory (for its size before it is written). */
export function centralBytes(members: readonly Placed[], shift = 0): Buffer {
  const parts: Buffer[] = [];
  for (const m of members) {
    const name = Buffer.from(m.name, "utf8");
    const cd = Buffer.alloc(CENTRAL_ENTRY);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(m.method === 14 ? 63 : m.method === 12 ? 46 : 20, 6);
    cd.writeUInt16LE(m.flags, 8);
    cd.writeUInt16LE(m.method, 10);
    cd.writeUInt32LE(m.crc, 16);
    cd.writeUInt32LE(m.compressedSize, 20);
    cd.writeUInt32LE(m.size, 24);
    const extra = Buffer.from(m.centralExtra ?? []);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt16LE(extra.length, 30);
    cd.writeUInt32LE(m.offset - shift, 42);
    parts.push(cd, name, extra);
  }
  return Buffer.concat(parts);
}

/** A plain, well-formed zip of `members` (as any writer makes). */
export function plainZip(members: readonly Member[]): Buffer {
  const z = new ZipBuilder();
  const placed = members.map((m) => z.local(m));
  const cd = z.central(placed);
  z.end(placed.length, cd.size, cd.start);
  return z.bytes();
}

// ---- archives the two readers see differently (THREATS Z1)

const VERSION = Buffer.from("3\n");

/**
 * A torch-style archive whose comment holds a second end record: both readers take that last one,
 * but miniz reads the central directory at its recorded absolute offset (after it, in its comment),
 * while zipfile counts the directory's size back from it (the one just before it). A strict reader
 * (end record whose comment ends the file, first found) sees a third, honest directory.
 * `trailing` bytes more of comment move both records that much further from the end.
 */
export function secondEndRecordInComment(torchSees: Uint8Array, zipfileSees: Uint8Array, trailing = 0): Buffer {
  const z = new ZipBuilder();
  const torchData = z.local({ name: "archive/data.pkl", data: torchSees });
  const version = z.local({ name: "archive/version", data: VERSION });
  const zipfileData = z.local({ name: "archive/data.pkl", data: zipfileSees });
  const honest = z.central([zipfileData, version]);
  const zipfileView = centralBytes([zipfileData, version]);
  const torchView = centralBytes([torchData, version]);
  // End record A: honest, its comment runs to the end of the file.
  const a = z.end(2, honest.size, honest.start, zipfileView.length + END_RECORD + torchView.length + trailing);
  const zipfileStart = a + END_RECORD;
  const b = zipfileStart + zipfileView.length;
  const torchStart = b + END_RECORD;
  // zipfile: concat = b - size - recorded offset = zipfileStart - torchStart; offsets recorded minus concat.
  const concat = zipfileStart - torchStart;
  z.central([zipfileData, version], concat);
  z.end(2, zipfileView.length, torchStart, torchView.length + trailing);
  z.central([torchData, version]);
  z.raw(Buffer.alloc(trailing, 0x2e));
  return z.bytes();
}

/**
 * `cat stub real.zip`: zipfile corrects offsets by the stub's length and reads real.zip; miniz
 * takes the recorded offsets as absolute and finds, at real.zip's directory offset, a directory the
 * stub carries. The stub starts with a local header, so torch.load takes the file for a zip.
 */
export function shiftedDirectory(torchSees: Uint8Array, zipfileSees: Uint8Array): Buffer {
  const real = new ZipBuilder();
  const realData = real.local({ name: "archive/data.pkl", data: zipfileSees });
  const realVersion = real.local({ name: "archive/version", data: VERSION });
  const realCd = centralBytes([realData, realVersion]);
  const cdOffset = real.size;

  const stub = new ZipBuilder();
  const stubData = stub.local({ name: "archive/data.pkl", data: torchSees });
  const stubVersion = stub.local({ name: "archive/version", data: VERSION });
  if (stub.size > cdOffset) throw new Error("the stub's members must fit before real.zip's directory offset");
  stub.raw(Buffer.alloc(cdOffset - stub.size, 0x20));
  const stubCd = stub.central([stubData, stubVersion]);
  if (stubCd.size !== realCd.length) throw new Error("both directories must have the same size");

  real.central([realData, realVersion]);
  real.end(2, realCd.length, cdOffset);
  return Buffer.concat([stub.bytes(), real.bytes()]);
}

/** Two members of one name: zipfile's name lookup takes the last, miniz's binary search may take either. */
export function duplicateNames(first: Uint8Array, second: Uint8Array): Buffer {
  return plainZip([
    { name: "archive/data.pkl", data: first },
    { name: "archive/version", data: VERSION },
    { name: "archive/data.pkl", data: second },
  ]);
}

/** Names that differ only in case: Python sees two members, miniz (case-insensitive lookup) one name twice. */
export function caseFoldedNames(exact: Uint8Array, folded: Uint8Array): Buffer {
  return plainZip([
    { name: "archive/data.pkl", data: exact },
    { name: "archive/DATA.PKL", data: folded },
    { name: "archive/version", data: VERSION },
  ]);
}

/** An Info-ZIP Unicode Path extra field (0x7075): Python 3.12+ files the entry under `name` when `rawName`'s CRC matches. */
export function unicodePathExtra(rawName: string, name: string): Buffer {
  const utf8 = Buffer.from(name, "utf8");
  const field = Buffer.alloc(4 + 5 + utf8.length);
  field.writeUInt16LE(0x7075, 0);
  field.writeUInt16LE(5 + utf8.length, 2);
  field.writeUInt8(1, 4);
  field.writeUInt32LE(crc32(Buffer.from(rawName, "utf8")), 5);
  utf8.copy(field, 9);
  return field;
}

/**
 * ZIP64: miniz follows the locator's offset to a ZIP64 record; zipfile (before 3.13.8) takes the
 * record just before the locator. Two records, two central directories.
 */
export function zip64LocatorElsewhere(torchSees: Uint8Array, zipfileSees: Uint8Array): Buffer {
  const z = new ZipBuilder();
  const torchData = z.local({ name: "archive/data.pkl", data: torchSees });
  const version = z.local({ name: "archive/version", data: VERSION });
  const zipfileData = z.local({ name: "archive/data.pkl", data: zipfileSees });
  const torchCd = z.central([torchData, version]);
  const torchRecord = z.zip64End(2, torchCd.size, torchCd.start);
  const zipfileCd = z.central([zipfileData, version]);
  z.zip64End(2, zipfileCd.size, zipfileCd.start);
  z.zip64Tail(torchRecord);
  return z.bytes();
}
