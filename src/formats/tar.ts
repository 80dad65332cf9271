/**
 * tar archives (ustar, GNU and pax headers; also PyTorch's old tar checkpoints). Only the 512-byte
 * headers are read: each member's data is a zero-copy slice, and the next header is found by
 * seeking past the data by its declared size. Unknown entry types count as regular files, as in
 * Python's tarfile, so nothing a loader would read is skipped.
 */
import { LIMITS } from "../limits.js";
import { SliceSource, type ByteSource } from "../sources/byteSource.js";
import { canDescend, checkExtractedModules, checkLinks, checkMemberNames, memberHead, type LinkMember } from "./container.js";
import type { FormatScanner, ScanContext } from "./context.js";

/** A tar header that cannot be parsed (bad checksum, bad number); distinct from I/O errors. */
export class TarFormatError extends Error {}

export interface TarHeader {
  /** Raw header name (ustar prefix joined), before GNU/pax long names apply. */
  name: string;
  size: number;
  type: string;
  /** Target of a link member (types 1 and 2), before GNU/pax long link names apply. */
  linkName: string;
  /** ustar magic "ustar\0" (POSIX) rather than GNU's "ustar  \0". */
  posix: boolean;
}

const BLOCK = 512;
/** Longest GNU long-name or pax record block kept in memory (CWE-789: a declared size of gigabytes). */
const MAX_META = 1 << 20;
/** Types whose data is not file content. */
const NOT_CONTENT = new Set(["1", "2", "3", "4", "5", "6"]);
/** GNU's long name, long link and sparse types, whose prefix field holds other things. */
const GNU_TYPES = new Set(["L", "K", "S"]);
/** pax extended headers: "x" for the next member, "X" (Solaris) the same to tarfile, "g" for every member after it. */
const PAX_TYPES = new Set(["x", "X", "g"]);
/** Link types: tarfile creates the link, and later members and readers go through it. */
const LINK_KINDS: Readonly<Record<string, LinkMember["kind"]>> = { "1": "hard", "2": "symbolic" };

/** Parses one header block. Returns undefined for an all-zero block (end of archive). */
export function parseTarHeader(block: Uint8Array): TarHeader | undefined {
  if (block.every((b) => b === 0)) return undefined;
  const [sum, signed] = checksums(block);
  const recorded = tarNumber(block, 148, 8);
  // Python's tarfile accepts either sum, as old tars computed it with signed chars.
  if (recorded !== sum && recorded !== signed) throw new TarFormatError(`bad header checksum (${recorded}, computed ${sum})`);
  const magic = text(block, 257, 6);
  const posix = magic === "ustar" && block[262] === 0;
  const type = String.fromCharCode(block[156]!);
  // tarfile joins the prefix field whatever the magic says, to any type but GNU's long names and sparse files.
  const prefix = GNU_TYPES.has(type) ? "" : text(block, 345, 155);
  const name = text(block, 0, 100);
  return {
    name: prefix ? `${prefix}/${name}` : name,
    size: tarNumber(block, 124, 12),
    type,
    linkName: text(block, 157, 100),
    posix,
  };
}

/** What Python's str.strip() removes from ASCII text (str.isspace() also holds for \x1c-\x1f). */
const PY_SPACE_EDGES = /^[\t\n\v\f\r\x1c-\x1f ]+|[\t\n\v\f\r\x1c-\x1f ]+$/g;
/** What int(text, 8) accepts: a sign, a 0o prefix, underscores between digits. */
const PY_OCTAL = /^([+-]?)(?:0[oO]_?)?([0-7](?:_?[0-7])*)$/;

/**
 * A number field as Python's tarfile reads it (nti; torch.load tries every file that is not a zip
 * as a tar first): GNU base-256 when the first byte is 0x80 or 0xff, otherwise the ASCII text up
 * to the first NUL, read by int(text.strip() or "0", 8). Negative numbers are refused.
 */
export function tarNumber(block: Uint8Array, at: number, length: number): number {
  const value = numberField(block.subarray(at, at + length));
  if (typeof value === "string") throw new TarFormatError(value);
  return value;
}

/** tarNumber's reading of one field: the number, or why it is not one. */
function numberField(field: Uint8Array): number | string {
  if (field[0] === 0x80 || field[0] === 0xff) {
    if (field[0] === 0xff) return "negative base-256 number";
    let value = 0n;
    for (const b of field.subarray(1)) value = (value << 8n) | BigInt(b);
    return value > BigInt(Number.MAX_SAFE_INTEGER) ? `number ${value} out of range` : Number(value);
  }
  const end = field.indexOf(0);
  const ascii = end < 0 ? field : field.subarray(0, end);
  for (const b of ascii) if (b > 0x7f) return "number field is not ASCII";
  const digits = text(ascii, 0, ascii.length).replace(PY_SPACE_EDGES, "");
  if (digits === "") return 0;
  const m = PY_OCTAL.exec(digits);
  if (!m) return `malformed number "${digits}"`;
  if (m[1] === "-" && /[1-7]/.test(m[2]!)) return `negative number "${digits}"`;
  return parseInt(m[2]!.replace(/_/g, ""), 8);
}

/**
 * Whether `head` starts with a header block whose checksum Python's tarfile accepts (what makes it
 * take a file for a tar). Without exceptions: every file and member is sniffed with it.
 */
export function isTarHeader(head: Uint8Array): boolean {
  if (head.length < BLOCK) return false;
  // The checksum field first: it rejects almost every member a checkpoint holds without summing
  // 512 bytes. An all-zero block needs no test of its own: its sums are 256, its field reads 0.
  const block = head.subarray(0, BLOCK);
  const recorded = numberField(block.subarray(148, 156));
  return typeof recorded === "number" && checksums(block).includes(recorded);
}

/** The unsigned and the signed byte sums of a header block, its checksum field counted as spaces. */
function checksums(block: Uint8Array): [number, number] {
  let sum = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    sum += b;
    signed += b > 127 ? b - 256 : b;
  }
  return [sum, signed];
}

/** pax extended header records: "<length> <key>=<value>\n", length counting the whole record. */
export function parsePax(data: Uint8Array): Map<string, string> {
  const records = new Map<string, string>();
  const decoder = new TextDecoder();
  let p = 0;
  while (p < data.length && data[p] !== 0) {
    const space = data.indexOf(0x20, p);
    const length = space > p ? Number(decoder.decode(data.subarray(p, space))) : NaN;
    if (!Number.isSafeInteger(length) || length <= space - p || p + length > data.length) throw new TarFormatError("malformed pax record");
    const record = decoder.decode(data.subarray(space + 1, p + length - 1));
    const eq = record.indexOf("=");
    if (eq < 0) throw new TarFormatError("malformed pax record");
    records.set(record.slice(0, eq), record.slice(eq + 1));
    p += length;
  }
  return records;
}

export const scanTar: FormatScanner = async (source: ByteSource, ctx: ScanContext) => {
  if (!canDescend(ctx, "tar archive")) return;
  const names: string[] = [];
  const links: LinkMember[] = [];
  /** Where each member's data is, by name (the last of a name, as tarfile's getmember finds it). */
  const data = new Map<string, { start: number; size: number }>();
  /** The records of "g" headers so far, which tarfile applies to every member after them. */
  const globals = new Map<string, string>();
  /** The headers before the next member (GNU long names and links, "x" or "X" records with the global ones under them, as tarfile copies them), in order. */
  let before: MetaHeader[] = [];
  let at = 0;
  try {
    while (at + BLOCK <= source.size) {
      const header = parseTarHeader(await source.read(at, BLOCK));
      if (!header) break;
      const meta = header.type === "L" || header.type === "K" || PAX_TYPES.has(header.type);
      // A long name's or pax header's own data is its header's size; what the headers before a member say applies to the member.
      const member = meta ? undefined : applied(header, before, globals);
      const size = member?.size ?? header.size;
      const dataStart = at + BLOCK;
      const next = dataStart + Math.ceil(size / BLOCK) * BLOCK;
      if (!member) {
        if (size > MAX_META) throw new TarFormatError(`${size}-byte long-name or pax header`);
        const records = await source.read(dataStart, size);
        if (header.type === "L") before.push({ name: new TextDecoder().decode(records).replace(/\0.*$/s, "") });
        else if (header.type === "K") before.push({ link: new TextDecoder().decode(records).replace(/\0.*$/s, "") });
        else if (header.type === "g") for (const [k, v] of parsePax(records)) globals.set(k, v);
        else before.push({ pax: new Map([...globals, ...parsePax(records)]) });
      } else {
        const { name, link, contentSize } = member;
        const linkKind = LINK_KINDS[header.type];
        if (linkKind || !NOT_CONTENT.has(header.type)) {
          if (names.length === LIMITS.maxMembers) {
            ctx.report("MG140", `tar archive has more than ${LIMITS.maxMembers} members; the rest were not analysed`, { offset: at });
            break;
          }
          names.push(name);
          if (linkKind) {
            links.push({ name, target: link, kind: linkKind, offset: at });
            await scanTorchLink(source, ctx, name, linkKind === "hard" ? link : joinLink(name, link), data);
          } else {
            data.set(name, { start: dataStart, size: contentSize });
            await scanTarMember(source, ctx, name, header.type, dataStart, contentSize);
          }
        }
        before = [];
      }
      at = next;
    }
    if (at < source.size && at + BLOCK > source.size) {
      ctx.report("MG141", `tar archive ends inside a header at offset ${at}; the archive is truncated`, { offset: at });
    }
  } catch (err) {
    if (!(err instanceof TarFormatError)) throw err;
    ctx.report("MG141", `tar header at offset ${at} is corrupt (${err.message}); the rest of the archive was not analysed`, { offset: at });
  }
  checkMemberNames(ctx, "tar", names);
  checkLinks(ctx, "tar", links);
  await checkExtractedModules(
    ctx,
    "tar",
    names.map((name) => {
      const at = data.get(name);
      const present = at ? Math.max(0, Math.min(at.size, source.size - at.start)) : 0;
      return { name, size: at?.size ?? 0, head: () => memberHead(at && new SliceSource(name, source, Math.min(at.start, source.size), present)) };
    }),
  );
  // PyTorch before 0.4 saved checkpoints as a tar of these members; each is a pickle read by content.
  if (PYTORCH_TAR_MEMBERS.every((n) => names.includes(n))) ctx.refineFormat("pytorch-tar");
};

const PYTORCH_TAR_MEMBERS = ["sys_info", "pickle", "storages"];

async function scanTarMember(source: ByteSource, ctx: ScanContext, name: string, type: string, start: number, size: number): Promise<void> {
  if (type === "S") {
    ctx.report("MG141", `tar member "${name}" is a GNU sparse file, which is not supported; its content was not analysed`, { offset: start });
    return;
  }
  const present = Math.max(0, Math.min(size, source.size - start));
  if (present < size) {
    ctx.report("MG141", `tar member "${name}" runs past the end of the file (${present} of ${size} bytes present); what exists was scanned`, {
      offset: start,
    });
  }
  // torch.load's legacy tar reader unpickles these members by name, whatever they hold.
  const fallback = TORCH_TAR_PICKLES.has(name) ? "pickle" : undefined;
  await ctx.scanMember(name, new SliceSource(name, source, Math.min(start, source.size), present), fallback);
}

/**
 * A link that torch.load's legacy reader opens by its name (tarfile's extract and extractfile of a
 * link give its target's data): the target's content, scanned as that name, pickle fallback and all.
 * Other links change nothing the scan reads: their targets are members scanned by content.
 */
async function scanTorchLink(source: ByteSource, ctx: ScanContext, name: string, target: string, data: ReadonlyMap<string, { start: number; size: number }>): Promise<void> {
  if (!TORCH_TAR_PICKLES.has(name)) return;
  const found = data.get(target);
  if (found) await scanTarMember(source, ctx, name, "0", found.start, found.size);
}

/** Where a symbolic link at `name` points, as an archive member name. */
function joinLink(name: string, target: string): string {
  const base = name.includes("/") ? name.slice(0, name.lastIndexOf("/") + 1) : "";
  const parts: string[] = [];
  for (const part of `${base}${target}`.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return parts.join("/");
}

/** A header that applies to the member after it: a GNU long name or link, or "x"/"X" pax records. */
type MetaHeader = { name: string } | { link: string } | { pax: Map<string, string> };

/**
 * A member's name, link, size and content size as tarfile reads them. The member's own header takes
 * the global records first (_proc_builtin); each header before it then applies as its own call returns,
 * the last first, so the first header before the member wins (red team round 28: a long name, then
 * a pax path). A size from an "x" header moves the next header; a global one only what is read as data.
 */
function applied(header: TarHeader, before: readonly MetaHeader[], globals: ReadonlyMap<string, string>): { name: string; link: string; size: number; contentSize: number } {
  let name = globals.get("path") ?? header.name;
  let link = globals.get("linkpath") ?? header.linkName;
  let size = header.size;
  let contentSize = globals.has("size") ? paxNumber(globals.get("size")!) : header.size;
  for (let i = before.length - 1; i >= 0; i--) {
    const h = before[i]!;
    if ("name" in h) name = h.name;
    else if ("link" in h) link = h.link;
    else {
      name = h.pax.get("path") ?? name;
      link = h.pax.get("linkpath") ?? link;
      if (h.pax.has("size")) size = contentSize = paxNumber(h.pax.get("size")!);
    }
  }
  return { name, link, size, contentSize };
}

/** The members torch.load's legacy tar reader unpickles (torch.serialization's legacy_load). */
const TORCH_TAR_PICKLES: ReadonlySet<string> = new Set(["sys_info", "pickle", "storages", "tensors"]);

function paxNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new TarFormatError(`malformed pax size "${value}"`);
  return n;
}

/** A NUL-terminated field as Latin-1 (tar names are bytes; Latin-1 keeps every byte). */
function text(bytes: Uint8Array, at: number, length: number): string {
  const field = bytes.subarray(at, at + length);
  const end = field.indexOf(0);
  return new TextDecoder("latin1").decode(end < 0 ? field : field.subarray(0, end));
}
