/**
 * The pickle opcodes of protocols 0–5 (CPython's Lib/pickle.py and pickletools), by byte value.
 * The names appear in evidence ("called via REDUCE").
 *
 * A const enum, so that tsc writes each use as its number: the machine's and the plain-data
 * proof's switches then compile to jump tables. Names bound to the values instead (`const { MARK }
 * = OP`) became `var`s in the bundle (esbuild makes every top-level binding one), which V8 re-reads
 * at each `case`: the shipped CLI ran dense pickles at half the speed of the compiled modules.
 */
export const enum OP {
  MARK = 0x28, // (
  STOP = 0x2e, // .
  POP = 0x30, // 0
  POP_MARK = 0x31, // 1
  DUP = 0x32, // 2
  FLOAT = 0x46, // F  text float
  INT = 0x49, // I  text int (also I01/I00 booleans)
  BININT = 0x4a, // J  4-byte signed
  BININT1 = 0x4b, // K  1-byte unsigned
  LONG = 0x4c, // L  text long
  BININT2 = 0x4d, // M  2-byte unsigned
  NONE = 0x4e, // N
  PERSID = 0x50, // P  text persistent id
  BINPERSID = 0x51, // Q
  REDUCE = 0x52, // R
  STRING = 0x53, // S  quoted text string
  BINSTRING = 0x54, // T  4-byte signed length
  SHORT_BINSTRING = 0x55, // U
  UNICODE = 0x56, // V  raw-unicode-escape text
  BINUNICODE = 0x58, // X
  APPEND = 0x61, // a
  BUILD = 0x62, // b
  GLOBAL = 0x63, // c  module\nname\n
  DICT = 0x64, // d
  EMPTY_DICT = 0x7d, // }
  APPENDS = 0x65, // e
  GET = 0x67, // g
  BINGET = 0x68, // h
  INST = 0x69, // i  module\nname\n, args from MARK
  LONG_BINGET = 0x6a, // j
  LIST = 0x6c, // l
  EMPTY_LIST = 0x5d, // ]
  OBJ = 0x6f, // o
  PUT = 0x70, // p
  BINPUT = 0x71, // q
  LONG_BINPUT = 0x72, // r
  SETITEM = 0x73, // s
  TUPLE = 0x74, // t
  EMPTY_TUPLE = 0x29, // )
  SETITEMS = 0x75, // u
  BINFLOAT = 0x47, // G
  // protocol 2
  PROTO = 0x80,
  NEWOBJ = 0x81,
  EXT1 = 0x82,
  EXT2 = 0x83,
  EXT4 = 0x84,
  TUPLE1 = 0x85,
  TUPLE2 = 0x86,
  TUPLE3 = 0x87,
  NEWTRUE = 0x88,
  NEWFALSE = 0x89,
  LONG1 = 0x8a,
  LONG4 = 0x8b,
  // protocol 3
  BINBYTES = 0x42, // B
  SHORT_BINBYTES = 0x43, // C
  // protocol 4
  SHORT_BINUNICODE = 0x8c,
  BINUNICODE8 = 0x8d,
  BINBYTES8 = 0x8e,
  EMPTY_SET = 0x8f,
  ADDITEMS = 0x90,
  FROZENSET = 0x91,
  NEWOBJ_EX = 0x92,
  STACK_GLOBAL = 0x93,
  MEMOIZE = 0x94,
  FRAME = 0x95,
  // protocol 5
  BYTEARRAY8 = 0x96,
  NEXT_BUFFER = 0x97,
  READONLY_BUFFER = 0x98,
}

export type OpName = keyof typeof OP;

const NAMES: (OpName | undefined)[] = new Array(256);
// tsc keeps the enum's object as well (preserveConstEnums in tsconfig.json), read here alone.
// @ts-expect-error a const enum read as a value, once, for its names
for (const [name, code] of Object.entries(OP)) if (typeof code === "number") NAMES[code] = name as OpName;

export function opName(code: number): string {
  return NAMES[code] ?? `0x${code.toString(16).padStart(2, "0")}`;
}

export function isOpcode(code: number): boolean {
  return NAMES[code] !== undefined;
}

/** Highest protocol this machine understands; PROTO above it is malformed. */
export const HIGHEST_PROTOCOL = 5;

/**
 * Bytes that follow each opcode before anything variable: its fixed operand (BININT's 4, FRAME's 8)
 * or the little-endian length of the payload after it (SHORT_BINUNICODE's 1, BINBYTES8's 8); 0 for
 * opcodes without one and for those whose operand is a text line. The plain-data proof and the
 * machine check it once before their switch (one refill path for every opcode: a path per opcode,
 * first taken deep into a big stream, cost a deoptimisation of the loop); the dormant-payload walk
 * steps over operands by it.
 */
export const OPERAND_BYTES = new Uint8Array(256);
/** Opcodes whose OPERAND_BYTES are the length of a payload that follows them. */
export const LENGTH_PREFIXED: ReadonlySet<number> = new Set([
  OP.SHORT_BINSTRING, OP.SHORT_BINBYTES, OP.SHORT_BINUNICODE, OP.LONG1,
  OP.BINSTRING, OP.BINUNICODE, OP.BINBYTES, OP.LONG4,
  OP.BINUNICODE8, OP.BINBYTES8, OP.BYTEARRAY8,
]);
for (const [ops, n] of [
  [[OP.PROTO, OP.BININT1, OP.EXT1, OP.BINPUT, OP.BINGET, OP.SHORT_BINSTRING, OP.SHORT_BINBYTES, OP.SHORT_BINUNICODE, OP.LONG1], 1],
  [[OP.BININT2, OP.EXT2], 2],
  [[OP.BININT, OP.EXT4, OP.LONG_BINPUT, OP.LONG_BINGET, OP.BINSTRING, OP.BINUNICODE, OP.BINBYTES, OP.LONG4], 4],
  [[OP.BINFLOAT, OP.FRAME, OP.BINUNICODE8, OP.BINBYTES8, OP.BYTEARRAY8], 8],
] as const) for (const op of ops) OPERAND_BYTES[op] = n;
