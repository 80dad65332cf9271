/**
 * Shared protobuf plumbing for the graph formats. Schemas are embedded as TypeScript string
 * constants (not .proto files): the build compiles only .ts, so a string ships in dist with no
 * copy step and no file I/O at run time, and each schema is a few dozen lines.
 */
import type protobuf from "protobufjs";
import { onFirstUse } from "../../onFirstUse.js";
import type { RuleId } from "../../rules/catalogue.js";
import { readAll, type ByteSource } from "../../sources/byteSource.js";
import type { ScanContext } from "../context.js";

const protobufjs = onFirstUse<typeof protobuf>("protobufjs");

/** Parses an embedded schema once, on first use, and looks up its message types. */
export function lazyTypes<const N extends string>(schema: string, names: readonly N[]): () => Record<N, protobuf.Type> {
  let types: Record<N, protobuf.Type> | undefined;
  return () => {
    if (!types) {
      const root = protobufjs().parse(schema, { keepCase: true }).root;
      types = Object.fromEntries(names.map((n) => [n, root.lookupType(n)])) as Record<N, protobuf.Type>;
    }
    return types;
  };
}

/** protobufjs refuses messages nested deeper than this (protoc's default too); its error message says so. */
export function isNestingError(err: unknown): boolean {
  return err instanceof Error && /nesting depth/.test(err.message);
}

/** Largest message protobuf can serialise (2 GiB − 1); real ONNX and TF loaders refuse anything larger. */
export const MAX_PROTO_BYTES = 2 ** 31 - 1;

export const WIRE = { VARINT: 0, I64: 1, LEN: 2, I32: 5 } as const;

export interface HeadField {
  field: number;
  wire: number;
  /** Varint value (capped at 2^53), or the declared length of a LEN field. */
  value: number;
  /** Offset of the field's payload. */
  at: number;
}

/**
 * Walks the top-level fields of a message from its first bytes, structurally (tags, varints,
 * lengths), without a schema. Stops at the end of `head`; returns undefined when the bytes cannot
 * be a message of `size` bytes (bad wire type, a length past the end of the file, a field that is
 * not in `allowed` with its wire type). Used by sniffers of formats that have no magic.
 */
export function headFields(head: Uint8Array, size: number, allowed: Readonly<Record<number, number>>): HeadField[] | undefined {
  const out: HeadField[] = [];
  let pos = 0;
  while (pos < head.length) {
    const tag = varint(head, pos);
    if (!tag) break; // cut by the end of the head
    const field = Math.floor(tag.value / 8);
    const wire = tag.value % 8;
    if (allowed[field] !== wire) return undefined;
    pos = tag.end;
    if (wire === WIRE.VARINT || wire === WIRE.LEN) {
      const v = varint(head, pos);
      if (!v) break;
      out.push({ field, wire, value: v.value, at: v.end });
      pos = v.end + (wire === WIRE.LEN ? v.value : 0);
      if (pos > size) return undefined;
    } else {
      out.push({ field, wire, value: 0, at: pos });
      pos += wire === WIRE.I64 ? 8 : 4;
    }
  }
  return out;
}

/** A base-128 varint at `pos`; undefined when cut off or longer than 10 bytes. */
function varint(b: Uint8Array, pos: number): { value: number; end: number } | undefined {
  let value = 0;
  for (let i = 0; i < 10 && pos + i < b.length; i++) {
    const byte = b[pos + i]!;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return { value: Math.min(value, Number.MAX_SAFE_INTEGER), end: pos + i + 1 };
  }
  return undefined;
}

/**
 * Where protobuf's own parsers and protobufjs read `bytes` differently, for the fields of `type`'s
 * schema at any depth, as a sentence; undefined when they agree. Three ways they differ:
 * - a singular message field given twice in one message: protobuf merges the occurrences (so a
 *   second graph_def adds nodes to the first), protobufjs keeps the last;
 * - a field written with another wire type than its type has: protobuf skips it as an unknown
 *   field, protobufjs reads it as its type anyway and so misreads what follows (a varint read as a
 *   string's length swallows the real node behind a decoy);
 * - a varint of 6 to 9 bytes where protobufjs reads 32 bits (a tag, a length, an int32): it reads
 *   10 bytes whatever the varint's end, protobuf reads to the end.
 * Writers do none of these. Fields outside the schema are skipped by their own wire type, as protobuf does.
 */
export function wireDifferential(type: protobuf.Type, bytes: Uint8Array): string | undefined {
  const pb = protobufjs();
  const reader = pb.Reader.create(bytes);
  type.root.resolveAll();
  /** The wire type of one value of a type: LEN for a message, VARINT for an enum, the basic type's own otherwise. */
  const wireOf = (type: string, resolved: protobuf.ReflectionObject | null): number | undefined =>
    resolved instanceof pb.Type ? WIRE.LEN : resolved instanceof pb.Enum ? WIRE.VARINT : (pb.types.basic as Record<string, number | undefined>)[type];
  /** The wire types a field's values may come in: its type's, or LEN for a packed repeated scalar. */
  const wires = (field: protobuf.Field): number[] => {
    if (field.map) return [WIRE.LEN];
    const basic = wireOf(field.type, field.resolvedType);
    if (basic === undefined) return [];
    const packable = basic !== WIRE.LEN && (pb.types.packed as Record<string, number | undefined>)[field.resolvedType instanceof pb.Enum ? "int32" : field.type] !== undefined;
    return field.repeated && packable ? [basic, WIRE.LEN] : [basic];
  };
  /** A message value of type `t` at the reader (its length, then its fields), walked; the reader ends past it. */
  const nested = (t: protobuf.Type, depth: number): string | undefined => {
    const stop = reader.uint32() + reader.pos;
    // decode() already refused nesting past protobuf's limit and lengths past the end.
    const found = depth < 100 ? walk(t, stop, depth + 1) : undefined;
    reader.pos = stop;
    return found;
  };
  const OVER_LONG = "a varint of 6 to 9 bytes where a 32-bit one is read (a tag, a length, a 32-bit field): protobufjs then reads 10 bytes, protobuf's own parsers read to the varint's end";
  /** Whether the varint at the reader is 6 to 9 bytes long: protobufjs's uint32() reads 10 once the fifth byte continues. */
  const overLong = (): boolean => {
    let n = 1;
    while (n <= 10 && reader.pos + n - 1 < bytes.length && (bytes[reader.pos + n - 1]! & 0x80) !== 0) n++;
    return n > 5 && n < 10;
  };
  const NARROW = new Set(["int32", "uint32", "sint32", "bool"]);
  const walk = (t: protobuf.Type, end: number, depth: number): string | undefined => {
    const seen = new Set<number>();
    while (reader.pos < end) {
      if (overLong()) return OVER_LONG;
      const tag = reader.uint32();
      const wire = tag & 7;
      const field = t.fieldsById[tag >>> 3];
      if (!field) {
        reader.skipType(wire);
        continue;
      }
      const allowed = wires(field);
      if (!allowed.includes(wire)) return `the field ${t.name}.${field.name} is written with wire type ${wire}, not ${allowed.join(" or ")}: protobuf's own parsers skip it as unknown, while this decoder reads it as its type and misreads what follows`;
      const narrow = wire === WIRE.VARINT && (field.resolvedType instanceof pb.Enum || NARROW.has(field.type));
      if ((wire === WIRE.LEN || narrow) && overLong()) return `${t.name}.${field.name}: ${OVER_LONG}`;
      if (field instanceof pb.MapField) {
        const found = mapEntry(field, reader.uint32() + reader.pos, depth);
        if (found) return `${t.name}.${field.name}: ${found}`;
        continue;
      }
      const sub = field.resolvedType;
      if (wire !== WIRE.LEN || !(sub instanceof pb.Type)) {
        reader.skipType(wire);
        continue;
      }
      if (!field.repeated) {
        if (seen.has(field.id)) return `the single field ${t.name}.${field.name} is given twice in one message: protobuf's own parsers merge the occurrences, while this decoder keeps the last`;
        seen.add(field.id);
      }
      const found = nested(sub, depth);
      if (found) return found;
    }
    return undefined;
  };
  /** One entry of a map field: a message of key (field 1) and value (field 2), read as protobuf reads it. */
  const mapEntry = (field: protobuf.MapField, end: number, depth: number): string | undefined => {
    while (reader.pos < end) {
      if (overLong()) return OVER_LONG;
      const tag = reader.uint32();
      const wire = tag & 7;
      const id = tag >>> 3;
      const value = field.resolvedType;
      const expected = id === 1 ? wireOf(field.keyType, null) : id === 2 ? wireOf(field.type, value) : undefined;
      if (expected !== undefined && wire !== expected) return `a map entry's ${id === 1 ? "key" : "value"} is written with wire type ${wire}, not ${expected}`;
      if ((wire === WIRE.LEN || wire === WIRE.VARINT) && overLong()) return OVER_LONG;
      if (id === 2 && value instanceof pb.Type) {
        const found = nested(value, depth);
        if (found) return found;
      } else reader.skipType(wire);
    }
    return undefined;
  };
  return walk(type, bytes.length, 0);
}

/**
 * Decodes a whole protobuf file as `type`, or reports why it could not: larger than protobuf allows
 * or nested past its depth limit (a depth bomb) as MG234, anything else as `malformedRule`; so is
 * bytes protobuf reads otherwise than protobufjs (see wireDifferential), whose decoding is still returned.
 * `what` names the file in messages ("ONNX model", "SavedModel").
 */
export async function decodeOrReport<T>(source: ByteSource, ctx: ScanContext, type: protobuf.Type, what: string, malformedRule: RuleId): Promise<T | undefined> {
  if (source.size > MAX_PROTO_BYTES) {
    ctx.report("MG234", `${what} is ${source.size} bytes, more than protobuf's 2 GiB limit; it was not decoded`);
    return undefined;
  }
  try {
    const bytes = await readAll(source);
    const decoded = type.decode(bytes) as unknown as T;
    const differs = wireDifferential(type, bytes);
    if (differs) ctx.report(malformedRule, `${what} is read differently by the loader: ${differs}, so part of what the loader reads was not analysed`);
    return decoded;
  } catch (err) {
    if (isNestingError(err)) ctx.report("MG234", `${what} nests messages deeper than protobuf's limit of 100; it was not analysed`);
    else ctx.report(malformedRule, `${what} does not decode: ${(err as Error).message}`);
    return undefined;
  }
}
