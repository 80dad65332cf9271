/**
 * Byte-level mutations for the fuzz tests: fast-check arbitraries that describe an edit, and a
 * pure function that applies it. Edits are described by fractions of the input length so one
 * mutation arbitrary fits inputs of any size (and shrinks towards "near the start").
 */
import fc from "fast-check";

export type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "delete"; at: number; count: number }
  | { kind: "truncate"; at: number }
  | { kind: "duplicate"; at: number; span: number; to: number }
  | { kind: "overwrite"; at: number; width: 2 | 4 | 8; value: "zero" | "u32max" | "i32max" | "minus1" | "u16max" | "i64max" | "big" };

/** A position as a fraction of the length, biased towards the head where headers live. */
const frac = fc.oneof(
  { weight: 3, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
  { weight: 2, arbitrary: fc.double({ min: 0, max: 0.02, noNaN: true }) },
  { weight: 1, arbitrary: fc.double({ min: 0.98, max: 1, noNaN: true }) },
);

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: frac, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant("insert" as const), at: frac, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant("delete" as const), at: frac, count: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: frac }),
  fc.record({ kind: fc.constant("duplicate" as const), at: frac, span: fc.double({ min: 0, max: 0.5, noNaN: true }), to: frac }),
  fc.record({
    kind: fc.constant("overwrite" as const),
    at: frac,
    width: fc.constantFrom(2 as const, 4 as const, 8 as const),
    value: fc.constantFrom("zero" as const, "u32max" as const, "i32max" as const, "minus1" as const, "u16max" as const, "i64max" as const, "big" as const),
  }),
);

function index(at: number, length: number): number {
  return Math.min(length, Math.max(0, Math.floor(at * length)));
}

function field(width: 2 | 4 | 8, value: Extract<Mutation, { kind: "overwrite" }>["value"]): Buffer {
  const b = Buffer.alloc(width);
  const v: bigint = {
    zero: 0n,
    u16max: 0xffffn,
    u32max: 0xffffffffn,
    i32max: 0x7fffffffn,
    minus1: (1n << 64n) - 1n,
    i64max: (1n << 63n) - 1n,
    big: 0x0000_0100_0000_0000n, // 2^40: past any real file, still a safe integer
  }[value];
  const masked = v & ((1n << BigInt(width * 8)) - 1n);
  for (let i = 0; i < width; i++) b[i] = Number((masked >> BigInt(8 * i)) & 0xffn);
  return b;
}

export function applyMutation(input: Uint8Array, m: Mutation): Buffer {
  // Buffer (not Buffer<ArrayBuffer>): concat and subarray results are returned as they are.
  const b = Buffer.from(input);
  const n = b.length;
  switch (m.kind) {
    case "flip": {
      if (n === 0) return b;
      const i = Math.min(n - 1, index(m.at, n));
      b[i]! ^= 1 << m.bit;
      return b;
    }
    case "insert": {
      const i = index(m.at, n);
      return Buffer.concat([b.subarray(0, i), m.bytes, b.subarray(i)]);
    }
    case "delete": {
      const i = index(m.at, n);
      return Buffer.concat([b.subarray(0, i), b.subarray(Math.min(n, i + m.count))]);
    }
    case "truncate":
      return b.subarray(0, index(m.at, n));
    case "duplicate": {
      const i = index(m.at, n);
      const end = Math.min(n, i + Math.max(1, Math.floor(m.span * n)));
      const to = index(m.to, n);
      return Buffer.concat([b.subarray(0, to), b.subarray(i, end), b.subarray(to)]);
    }
    case "overwrite": {
      if (n < m.width) return b;
      const i = Math.min(n - m.width, index(m.at, n));
      field(m.width, m.value).copy(b, i);
      return b;
    }
  }
}

export function applyMutations(input: Uint8Array, ms: readonly Mutation[]): Buffer {
  let b: Buffer = Buffer.from(input);
  for (const m of ms) b = applyMutation(b, m);
  return b;
}

export function describeMutation(m: Mutation): string {
  switch (m.kind) {
    case "insert":
      return `insert@${m.at.toFixed(4)} ${Buffer.from(m.bytes).toString("hex")}`;
    case "overwrite":
      return `overwrite${m.width}@${m.at.toFixed(4)}=${m.value}`;
    default:
      return `${m.kind}${JSON.stringify({ ...m, kind: undefined })}`;
  }
}
