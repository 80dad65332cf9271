/** A tiny pickle assembler so tests can spell out an attack opcode by opcode. */
import { OP } from "../../src/pickle/opcodes.js";

type Part = number | string | Uint8Array | number[];

export function assemble(...parts: Part[]): Buffer {
  const chunks: Buffer[] = parts.map((p) =>
    typeof p === "number" ? Buffer.from([p]) : typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.from(p),
  );
  return Buffer.concat(chunks);
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

export function u64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
}

/** SHORT_BINUNICODE of an ASCII string. */
export function str(s: string): Buffer {
  return assemble(OP.SHORT_BINUNICODE, s.length, s);
}

/** GLOBAL module\nname\n (protocols 0–3). */
export function global(module: string, name: string): Buffer {
  return assemble(OP.GLOBAL, `${module}\n${name}\n`);
}

/** module name STACK_GLOBAL (protocol 4). */
export function stackGlobal(module: string, name: string): Buffer {
  return assemble(str(module), str(name), OP.STACK_GLOBAL);
}

/** `fn(arg)` via REDUCE with one string argument. */
export function call1(fn: Buffer, arg: string): Buffer {
  return assemble(fn, str(arg), OP.TUPLE1, OP.REDUCE);
}

/**
 * An xz stream (Python's lzma module) of `\x80\x02cposix\nsystem\nX\x02\x00\x00\x00id\x85R.`, a pickle
 * that runs `id`: Node cannot write xz, and the scanner hands such a stream to its decoder.
 */
export const XZ_POSIX_SYSTEM = Buffer.from("/Td6WFoAAATm1rRGAgAhARYAAAB0L+WjAQAZgAJjcG9zaXgKc3lzdGVtClgCAAAAaWSFUi4AAAA3oSI5745+TgABMhogGJQwH7bzfQEAAAAABFla", "base64");

export { OP };
