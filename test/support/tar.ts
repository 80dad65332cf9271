/** Writes a minimal ustar archive, so tests can build tar layouts byte by byte. */
export function tar(members: Record<string, Uint8Array>): Buffer {
  return tarEntries(Object.entries(members).map(([name, data]) => ({ name, data })));
}

export interface TarEntry {
  name: string;
  data: Uint8Array;
  /** The type flag: "0" a file (default), "1" a hard link, "2" a symbolic link, "x"/"X"/"g" pax headers. */
  type?: string;
  linkName?: string;
  /** The size field, when it is to differ from the data's length. */
  size?: number;
}

/** A ustar archive of `entries` in order, any type flag, then the two zero blocks. */
export function tarEntries(entries: readonly TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const { name, data, type = "0", linkName = "", size = data.length } of entries) {
    const h = Buffer.alloc(512);
    h.write(name, 0, "latin1");
    h.write("0000644\0", 100, "latin1");
    h.write("0000000\0", 108, "latin1");
    h.write("0000000\0", 116, "latin1");
    h.write(`${size.toString(8).padStart(11, "0")}\0`, 124, "latin1");
    h.write("00000000000\0", 136, "latin1");
    h.write(type, 156, "latin1");
    h.write(linkName, 157, "latin1");
    h.write("ustar\x0000", 257, "latin1");
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
    blocks.push(h, Buffer.from(data), Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** A pax record "<length> <key>=<value>\n", its length counting itself. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = body.length + 1;
  while (`${length}${body}`.length !== length) length++;
  return `${length}${body}`;
}
