/**
 * The pickle memo: values by integer key. Keys written by MEMOIZE are dense and sequential, so
 * they live in fixed-size pages (no re-allocation of one huge array as the memo grows, which on a
 * dense pickle left hundreds of megabytes of garbage behind); keys far apart go to a map.
 */
import { LIMITS } from "../limits.js";
import { FORGOTTEN, PLAIN_DATA, type Value } from "./values.js";

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
 * A page after the last one is allocated only once that one holds this many keys; until then keys
 * go to the map. Otherwise keys 4096 apart would cost a 32 KB page each (a memory bomb).
 */
const DENSE_ENOUGH = PAGE_SIZE / 2;

/**
 * The first page starts this small and doubles as keys reach past it: most pickles memoize a few
 * hundred values, and one Memo per stream allocating (and collecting) 32 KB was a measurable part
 * of scanning a folder of small files. Reads past a short page's end find no key, as in a full one.
 */
const FIRST_PAGE_SLOTS = 256;

/** Keys kept in the map at most: past this, `set` refuses (the machine reports a limit). */
const MAX_SPARSE = LIMITS.pickleMaxScatteredMemoKeys;

/**
 * A page holding only the two placeholders (and unset slots), one byte per slot: past the
 * retention bound the machine memoizes little else (see Machine.compacted), so a large memo costs
 * about a byte an entry.
 */
class PlaceholderPage {
  constructor(readonly codes: Uint8Array) {}
}
const CODE_UNSET = 0;
const CODE_PLAIN = 1;
const CODE_FORGOTTEN = 2;

type Page = (Value | undefined)[] | PlaceholderPage;

export class Memo {
  private readonly pages: Page[] = [];
  /** Keys stored in each page that is still an array. */
  private readonly filled: number[] = [];
  private readonly sparse = new Map<number, Value>();
  /** Distinct keys stored: what MEMOIZE uses as its next key. */
  count = 0;

  get(key: number): Value | undefined {
    const page = key < MAX_PAGED ? this.pages[key >>> PAGE_BITS] : undefined;
    const v = page instanceof PlaceholderPage ? decoded(page.codes[key & SLOT]!) : page?.[key & SLOT];
    // null is Python's None: a stored value. A key stored before its page existed stays sparse.
    return v !== undefined || this.sparse.size === 0 ? v : this.sparse.get(key);
  }

  /** Stores `v` under `key`; false when that would put more than MAX_SPARSE keys in the map. */
  set(key: number, v: Value): boolean {
    const p = key >>> PAGE_BITS;
    // Pages are allocated only at the dense frontier: scattered LONG_BINPUT keys (up to 2**32-1)
    // must not allocate a page each. PUT's text keys can exceed 32 bits.
    const paged =
      key < MAX_PAGED &&
      (p < this.pages.length || (p === this.pages.length && (p === 0 || this.filled[p - 1]! >= DENSE_ENOUGH))) &&
      (this.sparse.size === 0 || !this.sparse.has(key));
    if (!paged) {
      if (!this.sparse.has(key)) {
        if (this.sparse.size >= MAX_SPARSE) return false;
        this.count++;
      }
      this.sparse.set(key, v);
      return true;
    }
    let page = this.pages[p];
    if (page === undefined) {
      // The page before is done with: compacted if it holds placeholders only (filled or not).
      const before = this.pages[p - 1];
      if (before !== undefined && !(before instanceof PlaceholderPage)) this.compact(p - 1, before);
      page = this.pages[p] = new Array<Value | undefined>(p === 0 ? FIRST_PAGE_SLOTS : PAGE_SIZE).fill(undefined);
      this.filled[p] = 0;
    }
    const slot = key & SLOT;
    if (!(page instanceof PlaceholderPage) && slot >= page.length) page = this.pages[p] = grown(page, slot);
    if (page instanceof PlaceholderPage) {
      const code = v === PLAIN_DATA ? CODE_PLAIN : v === FORGOTTEN ? CODE_FORGOTTEN : CODE_UNSET;
      if (code !== CODE_UNSET) {
        if (page.codes[slot] === CODE_UNSET) {
          this.count++;
          this.filled[p]!++;
        }
        page.codes[slot] = code;
        return true;
      }
      page = this.pages[p] = expanded(page);
    }
    const fresh = page[slot] === undefined;
    page[slot] = v;
    if (fresh) {
      this.count++;
      if (++this.filled[p]! === PAGE_SIZE) this.compact(p, page);
    }
    return true;
  }

  /** Swaps page `p` for a PlaceholderPage when every slot set holds a placeholder. */
  private compact(p: number, page: (Value | undefined)[]): void {
    const codes = new Uint8Array(PAGE_SIZE);
    for (let i = 0; i < PAGE_SIZE; i++) {
      const v = page[i];
      if (v === PLAIN_DATA) codes[i] = CODE_PLAIN;
      else if (v === FORGOTTEN) codes[i] = CODE_FORGOTTEN;
      else if (v !== undefined) return;
    }
    this.pages[p] = new PlaceholderPage(codes);
  }
}

function decoded(code: number): Value | undefined {
  return code === CODE_PLAIN ? PLAIN_DATA : code === CODE_FORGOTTEN ? FORGOTTEN : undefined;
}

/** `page` with room for `slot`: doubled (up to PAGE_SIZE), the new slots unset. */
function grown(page: (Value | undefined)[], slot: number): (Value | undefined)[] {
  let size = page.length * 2;
  while (size <= slot) size *= 2;
  const out = new Array<Value | undefined>(Math.min(size, PAGE_SIZE)).fill(undefined);
  for (let i = 0; i < page.length; i++) out[i] = page[i];
  return out;
}

function expanded(page: PlaceholderPage): (Value | undefined)[] {
  const out = new Array<Value | undefined>(PAGE_SIZE);
  for (let i = 0; i < PAGE_SIZE; i++) out[i] = decoded(page.codes[i]!);
  return out;
}

/**
 * A memo that reads through to another and keeps its own stores, counting as CPython's one memo
 * would: the second reading of an inline array pickle, whose bytes a loader other than joblib runs
 * in the outer stream's unpickler (see Machine.afterBuild).
 */
export class OverlayMemo extends Memo {
  constructor(private readonly base: Memo) {
    super();
    this.count = base.count;
  }

  override get(key: number): Value | undefined {
    const own = super.get(key);
    return own !== undefined ? own : this.base.get(key);
  }

  override set(key: number, v: Value): boolean {
    // Storing over a key the base holds replaces an entry: the memo does not grow.
    const replaces = super.get(key) === undefined && this.base.get(key) !== undefined;
    if (!super.set(key, v)) return false;
    if (replaces) this.count--;
    return true;
  }
}
