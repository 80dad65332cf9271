/** A large input synthesised on read, so tests can show what a scanner skips without writing it. */
import type { ByteSource } from "../../src/sources/byteSource.js";

/** `head`, then `gap` bytes that read as zeros, then `tail`; counts what is read. */
export class SparseSource implements ByteSource {
  readonly name = "sparse";
  readonly size: number;
  bytesRead = 0;
  constructor(
    private readonly head: Buffer,
    private readonly gap: number,
    private readonly tail: Buffer,
  ) {
    this.size = head.length + gap + tail.length;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    const n = Math.max(0, Math.min(length, this.size - offset));
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) {
      const at = offset + i;
      if (at < this.head.length) out[i] = this.head[at]!;
      else if (at >= this.head.length + this.gap) out[i] = this.tail[at - this.head.length - this.gap]!;
    }
    this.bytesRead += n;
    return out;
  }
}
