/** Decoder output kept as a list of chunks, in order, whether it arrives as chunks or a byte at a time. */

/** Byte-at-a-time decoders (bz2, 7-Zip's stdout) fill blocks of this size. */
const BYTE_BLOCK = 1 << 16;

export class Chunks {
  private readonly list: Uint8Array[] = [];
  private block: Uint8Array | undefined;
  private used = 0;

  /** Appends a chunk as it is (kept, not copied). */
  add(chunk: Uint8Array): void {
    this.flush();
    this.list.push(chunk);
  }

  /** Appends one byte. */
  addByte(byte: number): void {
    if (!this.block || this.used === this.block.length) {
      this.flush();
      this.block = new Uint8Array(BYTE_BLOCK);
    }
    this.block[this.used++] = byte;
  }

  /** Everything appended so far, in order (each chunk its own buffer, or a view of one). */
  done(): Uint8Array[] {
    this.flush();
    return this.list;
  }

  private flush(): void {
    if (this.block && this.used > 0) this.list.push(this.block.subarray(0, this.used));
    this.block = undefined;
    this.used = 0;
  }
}
