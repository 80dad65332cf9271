/**
 * Checks that wait for bytes the machine skipped unread. Constants longer than it keeps
 * (LIMITS.pickleMaxInlineConstant) are skipped by seeking, and so is the raw array data joblib
 * writes after an array wrapper's BUILD; a structure whose check needs those bytes (an Arrow
 * array's offsets, a scikit-learn tree's node array) is checked again once the stream is done,
 * with them read back from the source, one structure at a time within a bound.
 */
import { LIMITS } from "../limits.js";
import { importedName } from "./judge.js";
import { isSym, type BigConstant, type CallResult, type Value } from "./values.js";

/**
 * joblib's raw array data after a wrapper's BUILD at `at - 1`: `len` bytes at `at`, or, when the
 * wrapper asked for alignment, after a byte at `at` giving the padding that follows it.
 */
export interface JoblibData {
  t: "joblib";
  at: number;
  len: number;
  padded: boolean;
}

/** Bytes skipped unread: a long constant (latin-1 text encoded when read back) or joblib array data. */
export type Skipped = BigConstant | JoblibData;

/**
 * Bytes a structure is made of: their length (unknown for latin-1 text skipped unread, whose UTF-8
 * length in the stream is not its length), their content when the machine kept it or it was read
 * back, and what was skipped unread otherwise.
 */
export interface Payload {
  size?: number;
  data?: Uint8Array;
  skipped?: Skipped;
}

/** A structure's check that needs skipped bytes: reported at `call`. */
export interface Deferred {
  call: CallResult;
  wants: ReadonlySet<Skipped>;
  /** The check again, given the bytes it wants; undefined when the structure holds. */
  check(bytes: ReadonlyMap<Skipped, Uint8Array>): string | undefined;
  /** What is reported when the bytes it wants are past the bound on reading back. */
  pastBound: string;
}

/**
 * Bytes written in the pickle: a bytes constant, kept or skipped, or `_codecs.encode(text, "latin1")`
 * (protocols 0–2). Anything else (bytes some call made at load) is undefined: what it holds cannot be known.
 */
export function constantPayload(b: Value | undefined): Payload | undefined {
  if (!isSym(b)) return undefined;
  if (b.t === "bytes") return { size: b.data.length, data: b.data };
  if (b.t === "bigbytes") return { size: b.len, skipped: b };
  if (b.t !== "call" || !named("_codecs.encode")(b.fn) || !isSym(b.args) || b.args.t !== "tuple") return undefined;
  const [text, encoding] = b.args.items;
  if (encoding !== "latin1" && encoding !== "latin-1") return undefined;
  if (typeof text === "string") {
    const data = Buffer.from(text, "latin1");
    return { size: data.length, data };
  }
  return isSym(text) && text.t === "bigstr" ? { skipped: text } : undefined;
}

/** An import of exactly `name` (under any name the unpickler maps to it). */
export const named = (name: string) => (fn: Value): boolean => isSym(fn) && fn.t === "global" && importedName(fn) === name;

/**
 * Runs each deferred check with the bytes it wants read back: at most LIMITS.readBackMaxBytes for
 * one structure (held in memory together) and LIMITS.readBackMaxTotal for the file. A structure
 * past either bound cannot be checked, which is its problem.
 */
export async function deferredProblems(
  deferred: readonly Deferred[],
  read: (at: number, length: number) => Promise<Uint8Array>,
): Promise<{ call: CallResult; message: string }[]> {
  const out: { call: CallResult; message: string }[] = [];
  let budget = LIMITS.readBackMaxTotal;
  for (const d of deferred) {
    const need = [...d.wants].reduce((n, s) => n + s.len, 0);
    if (need > LIMITS.readBackMaxBytes || need > budget) {
      out.push({ call: d.call, message: d.pastBound });
      continue;
    }
    budget -= need;
    const bytes = new Map<Skipped, Uint8Array>();
    for (const s of d.wants) bytes.set(s, await readSkipped(s, read));
    const message = d.check(bytes);
    if (message !== undefined) out.push({ call: d.call, message });
  }
  return out;
}

async function readSkipped(s: Skipped, read: (at: number, length: number) => Promise<Uint8Array>): Promise<Uint8Array> {
  if (s.t === "joblib") {
    const at = s.padded ? s.at + 1 + ((await read(s.at, 1))[0] ?? 0) : s.at;
    return read(at, s.len);
  }
  const raw = await read(s.at, s.len);
  // (Text with a character past U+00FF does not encode: that load fails before the structure exists.)
  return s.t === "bigstr" ? Buffer.from(Buffer.from(raw).toString("utf8"), "latin1") : raw;
}
