/**
 * Hash flooding (P21): CPython's dicts and sets find a key by its full hash, so keys that share one
 * hash all sit on one probe sequence and each insertion compares against every earlier one. Picked
 * ints (equal modulo 2**61 - 1) or tuples (whose hash can be inverted) make loading a few megabytes
 * take minutes; so does a tuple key that nests a shared tuple many times over (CPython hashes all of
 * it, for every insertion). A tally counts, for one container, that work for its members inserted
 * into one table; the machine adds the tallies up per stream.
 */
import { LIMITS } from "../limits.js";
import { mayCollide, pyHash, type HashedKey } from "./pyHash.js";
import { isSym, type Sym, type Value } from "./values.js";

/** Items read to hash one key past which the hashing itself is counted as work (tuple keys picklers write hold a few). */
const COSTLY_HASH = 64;

export class CollisionTally {
  /** Canonical texts of the distinct members seen, per hash: one text, or a set once two differ. */
  private readonly classes = new Map<bigint, string | Set<string>>();
  /** Comparisons with members of equal hash (beyond the one that finds a duplicate), and costly hashing. */
  probes = 0;
  /** Most distinct members seen under one hash. */
  widest = 1;

  /**
   * Counts member `v` (only values mayCollide says can collide are worth asking); returns the work it
   * adds: comparisons with members of equal hash, and hashing it when that reads many items.
   */
  add(v: Value): number {
    const key = pyHash(v);
    if (key === undefined) return 0;
    const hashing = (key.cost ?? 1) > COSTLY_HASH ? key.cost! : 0;
    this.probes += hashing;
    return hashing + this.addKey(key);
  }

  private addKey({ hash, canon }: HashedKey): number {
    const members = this.classes.get(hash);
    if (members === undefined) {
      this.classes.set(hash, canon);
      return 0;
    }
    let distinct: Set<string>;
    if (typeof members === "string") {
      if (members === canon) return 0;
      distinct = new Set([members]);
      this.classes.set(hash, distinct);
    } else distinct = members;
    const before = distinct.size;
    // A new member is compared with every earlier one; a duplicate with at most those before it.
    const added = distinct.has(canon) ? before - 1 : before;
    distinct.add(canon);
    this.widest = Math.max(this.widest, distinct.size);
    this.probes += added;
    return added;
  }
}

/** The comparisons one stream's containers would cost, reported once past a bound. */
export class FloodWatch {
  private readonly tallies = new WeakMap<Sym, CollisionTally>();
  /** Tallies made so far. */
  private tallied = 0;
  private probes = 0;
  private reported = false;

  constructor(
    private readonly onFlood: (widest: number, probes: number, at: number) => void,
    private readonly bound = LIMITS.pickleMaxHashProbes,
  ) {}

  /** `x` (mayCollide said it can) put into `container`: a dict's key, a list's, set's or tuple's item, an object's key or item. */
  member(container: Sym, x: Value, at: number): void {
    const t = this.tally(container);
    this.charge(t.add(x), t, at);
  }

  /** Every `step`th value of `items[from…to)` put into `container` (an object's items, or its keys among key/value pairs). */
  members(container: Sym, items: readonly Value[], from: number, to: number, step: number, at: number): void {
    for (let i = from; i < to; i += step) if (mayCollide(items[i]!)) this.member(container, items[i]!, at);
  }

  /**
   * `v` handed to a call (its arguments) or to BUILD (its state), which may hash a container in it
   * (set(items), dict(pairs), an object's __dict__ taking the state's keys) as often as the stream
   * asks: each time is charged again, `depth` levels down. Tuples inside it, which the machine does
   * not watch as they are made (most are sizes and names), are tallied here once; `v` itself is the
   * argument tuple or a state, not a member of anything.
   */
  handed(v: Value, at: number, depth: number, outer = true): void {
    if (!isSym(v)) return;
    // Most streams never tally anything: no lookup then (this runs for every call).
    let t = this.tallied === 0 ? undefined : this.tallies.get(v);
    if (t === undefined && !outer && v.t === "tuple" && twoMayCollide(v.items)) {
      t = this.tally(v);
      for (const x of v.items) if (mayCollide(x)) t.add(x);
    }
    if (t !== undefined) this.charge(t.probes, t, at);
    if (v.t !== "tuple" || depth <= 1) return;
    // Only tuples, and containers once something is tallied, can carry work: most items are neither.
    for (const x of v.items) if (isSym(x) && (x.t === "tuple" || this.tallied > 0)) this.handed(x, at, depth - 1, false);
  }

  private tally(container: Sym): CollisionTally {
    let t = this.tallies.get(container);
    if (t === undefined) {
      this.tallies.set(container, (t = new CollisionTally()));
      this.tallied++;
    }
    return t;
  }

  private charge(n: number, t: CollisionTally, at: number): void {
    if (n === 0) return;
    this.probes += n;
    if (this.probes > this.bound && !this.reported) {
      this.reported = true;
      this.onFlood(t.widest, this.probes, at);
    }
  }
}

/** Whether two of `items` may collide (fewer cannot: most tuples handed to calls hold sizes and names). */
function twoMayCollide(items: readonly Value[]): boolean {
  let seen = 0;
  for (const x of items) if (mayCollide(x) && ++seen === 2) return true;
  return false;
}
