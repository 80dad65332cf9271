/**
 * The pickle memo: values by integer key. Keys written by MEMOIZE are dense and sequential, so
 * they live in fixed-size pages (no re-allocation of one huge array as the memo grows, which on a
 * dense pickle left hundreds of megabytes of garbage behind); keys far apart go to a map.
 */
import { PLAIN_DATA, type Value } from "./values.js";

/**
 * 4096 slots: a small pickle allocates and clears 32 KB, not the 512 KB that made one Memo per
 * small file the larger part of scanning it; a dense pickle's page table stays a few thousand long.
 */
const PAGE_BITS = 12;
const PAGE_SIZE = 1 << PAGE_BITS;
const SLOT = PAGE_SIZE - 1;
/** `>>>` wraps past 32 bits; larger keys (possible with PUT's text operand) are never paged. */
const MAX_PAGED = 2 ** 32;

/**
 * A full page of PLAIN_DATA, shared: past the retention bound a dense data pickle memoizes little
 * else, and a million such entries would otherwise hold 8 MB of identical pointers. Copied before a
 * write (restoring a container that gained behaviour); never written itself.
 */
const ALL_PLAIN: readonly Value[] = Object.freeze(new Array<Value>(PAGE_SIZE).fill(PLAIN_DATA));

export class Memo {
  private readonly pages: (Value | undefined)[][] = [];
  private readonly sparse = new Map<number, Value>();
  /** Distinct keys stored: what MEMOIZE uses as its next key. */
  count = 0;

  get(key: number): Value | undefined {
    const page = key < MAX_PAGED ? this.pages[key >>> PAGE_BITS] : undefined;
    const v = page?.[key & SLOT];
    // null is Python's None: a stored value. A key stored before its page existed stays sparse.
    return v !== undefined || this.sparse.size === 0 ? v : this.sparse.get(key);
  }

  set(key: number, v: Value): void {
    const p = key >>> PAGE_BITS;
    // Only the pages up to the dense frontier are allocated: scattered LONG_BINPUT keys
    // (up to 2**32-1) must not allocate a page each. PUT's text keys can exceed 32 bits.
    if (key < MAX_PAGED && p <= this.pages.length && (this.sparse.size === 0 || !this.sparse.has(key))) {
      let page = this.pages[p];
      if (page === undefined) page = this.pages[p] = new Array<Value | undefined>(PAGE_SIZE).fill(undefined);
      else if (page === ALL_PLAIN) {
        if (v === PLAIN_DATA) return;
        page = this.pages[p] = ALL_PLAIN.slice();
      }
      const slot = key & SLOT;
      if (page[slot] === undefined) this.count++;
      page[slot] = v;
      if (slot === SLOT && v === PLAIN_DATA) this.share(p);
    } else {
      if (!this.sparse.has(key)) this.count++;
      this.sparse.set(key, v);
    }
  }

  /** Swaps page `p` for the shared one when every slot holds PLAIN_DATA (checked once, as sequential keys fill its last slot). */
  private share(p: number): void {
    const page = this.pages[p]!;
    for (let i = 0; i < PAGE_SIZE; i++) if (page[i] !== PLAIN_DATA) return;
    this.pages[p] = ALL_PLAIN as Value[];
  }
}
