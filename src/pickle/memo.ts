/**
 * The pickle memo: values by integer key. Keys written by MEMOIZE are dense and sequential, so
 * they live in fixed-size pages (no re-allocation of one huge array as the memo grows, which on a
 * dense pickle left hundreds of megabytes of garbage behind); keys far apart go to a map.
 */
import type { Value } from "./values.js";

const PAGE_BITS = 16;
const PAGE_SIZE = 1 << PAGE_BITS;
/** `>>>` wraps past 32 bits; larger keys (possible with PUT's text operand) are never paged. */
const MAX_PAGED = 2 ** 32;

export class Memo {
  private readonly pages: (Value | undefined)[][] = [];
  private readonly sparse = new Map<number, Value>();
  /** Distinct keys stored: what MEMOIZE uses as its next key. */
  count = 0;

  get(key: number): Value | undefined {
    const page = key < MAX_PAGED ? this.pages[key >>> PAGE_BITS] : undefined;
    const v = page?.[key & (PAGE_SIZE - 1)];
    return v !== undefined ? v : this.sparse.get(key); // null is Python's None: a stored value
  }

  set(key: number, v: Value): void {
    const p = key >>> PAGE_BITS;
    // Only the pages up to the dense frontier are allocated: scattered LONG_BINPUT keys
    // (up to 2**32-1) must not allocate a page each. PUT's text keys can exceed 32 bits.
    if (key < MAX_PAGED && p <= this.pages.length && !this.sparse.has(key)) {
      const page = (this.pages[p] ??= new Array<Value | undefined>(PAGE_SIZE).fill(undefined));
      if (page[key & (PAGE_SIZE - 1)] === undefined) this.count++;
      page[key & (PAGE_SIZE - 1)] = v;
    } else {
      if (!this.sparse.has(key)) this.count++;
      this.sparse.set(key, v);
    }
  }
}
