/** Writes a minimal ustar archive, so tests can build tar layouts byte by byte. */
export function tar(members: Record<string, Uint8Array>): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, data] of Object.entries(members)) {
    const h = Buffer.alloc(512);
    h.write(name, 0, "latin1");
    h.write("0000644\0", 100, "latin1");
    h.write("0000000\0", 108, "latin1");
    h.write("0000000\0", 116, "latin1");
    h.write(`${data.length.toString(8).padStart(11, "0")}\0`, 124, "latin1");
    h.write("00000000000\0", 136, "latin1");
    h.write("0", 156, "latin1");
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
