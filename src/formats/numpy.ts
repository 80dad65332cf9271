/**
 * NumPy .npy files (numpy.lib.format): magic, version, header length, then a Python-literal dict
 * `{'descr': …, 'fortran_order': …, 'shape': (…), }`. The header is parsed by a tiny literal
 * parser (never eval). Object arrays store a pickle after the header, which np.load runs with
 * allow_pickle=True (P13); other arrays are only checked to fit the file, their data is not read.
 * .npz needs nothing here: it is a zip of .npy members, dispatched by the zip scanner.
 */
import { SliceSource, type ByteSource } from "../sources/byteSource.js";
import type { FormatScanner, ScanContext } from "./context.js";
import { scanPickle } from "./pickle.js";

/** The header's parse error (distinct from I/O errors); reported as MG151. */
export class NpyFormatError extends Error {}

export type PyLiteral = string | number | boolean | null | PyLiteral[] | { tuple: PyLiteral[] } | Map<string, PyLiteral>;

export interface NpyHeader {
  version: number;
  /** Offset of the array data (or the pickle of an object array). */
  dataStart: number;
  descr: PyLiteral;
  fortranOrder: boolean;
  shape: number[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
/** numpy itself refuses longer headers unless told otherwise (its _MAX_HEADER_SIZE); generous margin. */
const MAX_HEADER = 1 << 20;
/** Nesting of structured dtypes (CWE-674: recursion on a hostile header). */
const MAX_NESTING = 32;
const OBJECT_ITEMSIZE = 8;

/** Reads and parses the header. Throws NpyFormatError for anything numpy would refuse. */
export async function readNpyHeader(source: ByteSource): Promise<NpyHeader> {
  const head = await source.read(0, 12);
  if (head.length < 10 || !MAGIC.every((b, i) => head[i] === b)) throw new NpyFormatError("no \\x93NUMPY magic");
  const version = head[6]!;
  if (version < 1 || version > 3) throw new NpyFormatError(`unknown format version ${version}.${head[7]}`);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const lengthSize = version === 1 ? 2 : 4;
  if (head.length < 8 + lengthSize) throw new NpyFormatError("file ends inside the header length");
  const length = version === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lengthSize + length;
  if (length > MAX_HEADER) throw new NpyFormatError(`header length ${length} exceeds ${MAX_HEADER} bytes`);
  if (dataStart > source.size) throw new NpyFormatError(`header length ${length} runs past the end of the file`);
  const bytes = await source.read(8 + lengthSize, length);
  // v1/v2 headers are latin1, v3 UTF-8 (numpy.lib.format).
  const text = new TextDecoder(version === 3 ? "utf-8" : "latin1").decode(bytes);
  const dict = parseLiteral(text);
  if (!(dict instanceof Map)) throw new NpyFormatError("header is not a dict");
  const keys = [...dict.keys()].sort().join(",");
  if (keys !== "descr,fortran_order,shape") throw new NpyFormatError(`header keys are {${keys}}, not descr, fortran_order, shape`);
  const fortranOrder = dict.get("fortran_order");
  if (typeof fortranOrder !== "boolean") throw new NpyFormatError("fortran_order is not a bool");
  const shape = dict.get("shape");
  if (!isTuple(shape) || !shape.tuple.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)) {
    throw new NpyFormatError("shape is not a tuple of non-negative integers");
  }
  return { version, dataStart, descr: dict.get("descr")!, fortranOrder, shape: shape.tuple as number[] };
}

/** Item size of a dtype descr and whether it holds Python objects; throws for descrs numpy would reject. */
export function describeDtype(descr: PyLiteral, depth = 0): { itemsize: bigint; object: boolean } {
  if (depth > MAX_NESTING) throw new NpyFormatError("dtype nests too deeply");
  if (typeof descr === "string") return typestr(descr);
  if (!Array.isArray(descr)) throw new NpyFormatError("descr is neither a type string nor a list of fields");
  let itemsize = 0n;
  let object = false;
  for (const field of descr) {
    // ('name', dtype) or ('name', dtype, shape); the name may be a (title, name) tuple.
    if (!isTuple(field) || field.tuple.length < 2 || field.tuple.length > 3) throw new NpyFormatError("malformed structured dtype field");
    const inner = describeDtype(field.tuple[1]!, depth + 1);
    let count = 1n;
    const sub = field.tuple[2];
    if (sub !== undefined) {
      const dims = typeof sub === "number" ? [sub] : isTuple(sub) ? sub.tuple : undefined;
      if (!dims || !dims.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)) {
        throw new NpyFormatError("malformed subarray shape");
      }
      count = dims.reduce<bigint>((n, d) => n * BigInt(d as number), 1n);
    }
    itemsize += inner.itemsize * count;
    object ||= inner.object;
  }
  return { itemsize, object };
}

/** `<f4`, `|u1`, `<U10` (UCS-4), `|S5`, `<M8[ns]`, `|O`… */
function typestr(s: string): { itemsize: bigint; object: boolean } {
  const m = /^([<>|=]?)([a-zA-Z?])(\d*)(\[\w+\])?$/.exec(s);
  if (!m) throw new NpyFormatError(`unknown dtype "${s}"`);
  const kind = m[2]!;
  if (kind === "O") return { itemsize: BigInt(OBJECT_ITEMSIZE), object: true };
  const n = m[3] ? BigInt(m[3]) : kind === "?" || kind === "b" || kind === "B" ? 1n : 0n;
  return { itemsize: kind === "U" ? n * 4n : n, object: false };
}

export const scanNpy: FormatScanner = async (source: ByteSource, ctx: ScanContext) => {
  let header: NpyHeader;
  let dtype: { itemsize: bigint; object: boolean };
  try {
    header = await readNpyHeader(source);
    dtype = describeDtype(header.descr);
  } catch (err) {
    if (!(err instanceof NpyFormatError)) throw err;
    ctx.report("MG151", `NumPy header is malformed: ${err.message}`, { offset: 0 });
    return;
  }
  if (dtype.object) {
    ctx.report("MG150", "NumPy array has dtype=object: its data is a pickle, which np.load runs when allow_pickle=True; the pickle was scanned", {
      offset: header.dataStart,
      evidence: `descr ${literalText(header.descr)}, shape (${header.shape.join(", ")})`,
    });
    await scanPickle(source, ctx, { offset: header.dataStart, single: true });
    return;
  }
  const needed = header.shape.reduce<bigint>((n, d) => n * BigInt(d), 1n) * dtype.itemsize;
  const held = BigInt(source.size - header.dataStart);
  if (needed === held) return;
  const evidence = `descr ${literalText(header.descr)}, shape (${header.shape.join(", ")})`;
  if (needed > held) {
    ctx.report("MG151", `NumPy header declares ${needed} bytes of array data but the file holds ${held}`, { offset: header.dataStart, evidence });
    return;
  }
  // The data does not match its header: it may be something else entirely (a pickle behind a float
  // header, for a reader that trusts another header), so the whole data region is scanned by content.
  ctx.report("MG151", `NumPy header declares ${needed} bytes of array data but the file holds ${held}; the data was scanned by content`, {
    offset: header.dataStart,
    evidence,
  });
  const name = "<npy data>";
  await ctx.scanMember(name, new SliceSource(name, source, header.dataStart, source.size - header.dataStart));
};

function isTuple(v: PyLiteral | undefined): v is { tuple: PyLiteral[] } {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Map);
}

/** Short Python-like rendering, for evidence. */
function literalText(v: PyLiteral): string {
  if (typeof v === "string") return `'${v}'`;
  if (Array.isArray(v)) return `[${v.map(literalText).join(", ")}]`;
  if (isTuple(v)) return `(${v.tuple.map(literalText).join(", ")}${v.tuple.length === 1 ? "," : ""})`;
  if (v instanceof Map) return `{${[...v].map(([k, x]) => `'${k}': ${literalText(x)}`).join(", ")}}`;
  return String(v);
}

/**
 * Parses the Python literals numpy writes in headers: dicts with string keys, tuples, lists,
 * strings, integers (py2 `3L` too), True/False/None. Anything else is an error, never evaluated.
 */
export function parseLiteral(text: string): PyLiteral {
  let p = 0;
  const fail = (what: string): never => {
    throw new NpyFormatError(`${what} at header character ${p}`);
  };
  const skip = (): void => {
    while (p < text.length && /\s/.test(text[p]!)) p++;
  };
  const items = (close: string, depth: number): PyLiteral[] => {
    const out: PyLiteral[] = [];
    for (;;) {
      skip();
      if (text[p] === close) {
        p++;
        return out;
      }
      out.push(value(depth + 1));
      skip();
      if (text[p] === ",") p++;
      else if (text[p] !== close) fail(`expected ',' or '${close}'`);
    }
  };
  const value = (depth: number): PyLiteral => {
    if (depth > MAX_NESTING) fail("literal nests too deeply");
    skip();
    const c = text[p];
    if (c === "{") {
      p++;
      const map = new Map<string, PyLiteral>();
      for (;;) {
        skip();
        if (text[p] === "}") {
          p++;
          return map;
        }
        const key = value(depth + 1);
        if (typeof key !== "string") fail("dict key is not a string");
        skip();
        if (text[p++] !== ":") fail("expected ':'");
        if (map.has(key as string)) fail(`duplicate key '${key}'`);
        map.set(key as string, value(depth + 1));
        skip();
        if (text[p] === ",") p++;
        else if (text[p] !== "}") fail("expected ',' or '}'");
      }
    }
    if (c === "(") {
      p++;
      return { tuple: items(")", depth) };
    }
    if (c === "[") {
      p++;
      return items("]", depth);
    }
    if (c === "'" || c === '"') return str(c);
    const word = /^(?:-?\d+L?|True|False|None)/.exec(text.slice(p, p + 32))?.[0];
    if (!word) return fail("unexpected character");
    p += word.length;
    if (word === "True" || word === "False") return word === "True";
    if (word === "None") return null;
    const n = Number(word.replace("L", ""));
    return Number.isSafeInteger(n) ? n : fail("integer out of range");
  };
  const str = (quote: string): string => {
    let out = "";
    for (p++; p < text.length; p++) {
      const c = text[p]!;
      if (c === quote) {
        p++;
        return out;
      }
      if (c === "\\") {
        const e = text[++p];
        out += e === "n" ? "\n" : e === "t" ? "\t" : (e ?? "");
      } else out += c;
    }
    return fail("unterminated string");
  };
  const result = value(0);
  skip();
  if (p !== text.length) fail("trailing characters after the header dict");
  return result;
}
