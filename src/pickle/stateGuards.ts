/**
 * Classes whose `__setstate__` acts on part of the restored state before anything checks it. Such a
 * class is allowlisted with a guard: BUILD may give it a state only if that part is what the library
 * itself writes.
 *
 * - SciPy's distributions (`rv_generic` and every `*_gen` subclass) `exec()` the
 *   `_parse_arg_template` string of their `__dict__` to define three argument parsers: a frozen
 *   distribution in a statsmodels result or a scikit-learn search space pickles it, and a crafted
 *   state runs arbitrary code through it. The template must be exactly SciPy's.
 * - Pillow's images (`PIL.Image.Image` and the image files `Image.open` makes) allocate the pixels
 *   of the size their state gives, then read the state's bytes into them: a 65535 × 65535 RGBA state
 *   took 4 GB before failing on its few bytes of data. The bytes must hold what the size asks for.
 * - gymnasium's spaces: MultiDiscrete's `__setstate__` makes `np.zeros(state["_shape"], dtype=state["dtype"])`
 *   for a legacy state without "start" (red team round 36: 50000 × 50000 objects, 20 GB from 90 bytes).
 *   The shape must be integers written in the pickle, within the sized-elements bound.
 */
import { LIMITS } from "../limits.js";
import { dictEntries, isSym, latin1Text, type Value } from "./values.js";

/** The guards an allowlist entry can name (`stateGuard`). */
export type StateGuard = "scipy-argparser" | "pillow-image" | "gymnasium-space";

/** Every guard: what an object is held to when where it came from cannot be followed. */
export const STATE_GUARDS: readonly StateGuard[] = ["scipy-argparser", "pillow-image", "gymnasium-space"];

/** Python identifiers followed by ", " (SciPy's shape_arg_str: "a, b, " or ""). */
const SHAPES = "((?:[A-Za-z_][A-Za-z0-9_]*, )*)";
/**
 * scipy.stats._distn_infrastructure.parse_arg_template with its three fields: the shape names,
 * then the location/scale parameters of a continuous ("loc=0, scale=1" / "loc, scale") or
 * discrete ("loc=0" / "loc, 1") distribution. Back-references hold every field to one value.
 */
const SCIPY_ARGPARSER = new RegExp(
  "^\\ndef _parse_args\\(self, " + SHAPES + " (loc=0, scale=1|loc=0)\\):\\n" +
    "    return \\(\\1\\), (loc, scale|loc, 1)\\n\\n" +
    "def _parse_args_rvs\\(self, \\1 \\2, size=None\\):\\n" +
    "    return self\\._argcheck_rvs\\(\\1 \\3, size=size\\)\\n\\n" +
    "def _parse_args_stats\\(self, \\1 \\2, moments='mv'\\):\\n" +
    "    return \\(\\1\\), \\3, moments\\n$",
);
/** Longer than any real template (a few hundred characters): not matched at all. */
const MAX_TEMPLATE = 8192;
const TEMPLATE_KEY = "_parse_arg_template";

/** Why `state`, given by BUILD to an object of a guarded class, is not safe to restore; undefined when it is. */
export function stateProblem(guard: StateGuard, state: Value): string | undefined {
  switch (guard) {
    case "scipy-argparser":
      return scipyArgparserProblem(state);
    case "pillow-image":
      return pillowImageProblem(state);
    case "gymnasium-space":
      return spaceShapeProblem(state);
  }
}

function spaceShapeProblem(state: Value): string | undefined {
  if (!isSym(state)) return undefined;
  if (state.t === "call") return "its state was made at load time, so the shape __setstate__ may allocate cannot be checked";
  // __setstate__ runs dict(state): a dict, or pairs; anything else fails before allocating.
  const pairs: [Value, Value][] = [];
  if (state.t === "dict") {
    if (state.kv.length / 2 < state.n || state.keyPastSample) return "its state has more items than the scanner keeps, so the shape __setstate__ may allocate cannot be checked";
    pairs.push(...dictEntries(state));
  } else if (state.t === "list" || state.t === "tuple") {
    // dict() takes any two-item iterable as a pair (red team round 37: lists of lists).
    if (state.t === "list" && state.n !== state.items.length) return "its state has more items than the scanner keeps, so the shape __setstate__ may allocate cannot be checked";
    for (const item of state.items) {
      if (isSym(item) && (item.t === "tuple" || item.t === "list") && item.items.length === 2) pairs.push([item.items[0], item.items[1]]);
      else if (typeof item !== "string") return "its state holds an item that is not a pair written in the pickle, so the shape __setstate__ may allocate cannot be checked";
    }
  }
  for (const [key, value] of pairs) {
    if (key === "dtype") {
      const why = spaceDtypeProblem(value);
      if (why) return why;
      continue;
    }
    if (typeof key === "string" && key !== "_shape") continue;
    if (typeof key !== "string") return "its state has a key made at load time, which may be the _shape __setstate__ allocates by";
    const elements = shapeElements(value);
    if (elements === undefined) return "its _shape, which __setstate__ may allocate an array of, is not integers written in the pickle";
    if (elements > LIMITS.pickleMaxSizedElements) return `its _shape holds ${elements} elements, which __setstate__ allocates an array of when the state has no "start"`;
  }
  return undefined;
}

/**
 * Why a space's dtype may multiply what __setstate__ allocates: a subarray or record dtype (a tuple,
 * or text with a shape, such as "(16000,16000)O": red team round 37), anything but a plain type's
 * text, a class, or numpy.dtype of such text.
 */
function spaceDtypeProblem(v: Value): string | undefined {
  if (typeof v === "string") return /^[<>|=!]?[A-Za-z_][\w]*(\[\w+\])?$/.test(v) ? undefined : `its dtype ${JSON.stringify(v.slice(0, 40))} is not a plain scalar type, so each element __setstate__ allocates may be an array of its own`;
  if (!isSym(v) || v.t === "global") return undefined;
  if (v.t === "call" && isSym(v.fn) && v.fn.t === "global" && v.fn.name === "dtype" && isSym(v.args) && v.args.t === "tuple" && typeof v.args.items[0] === "string") return spaceDtypeProblem(v.args.items[0]);
  return "its dtype is not a plain scalar type written in the pickle, so each element __setstate__ allocates may be an array of its own";
}

/** The elements of a shape written in the pickle (None, an integer, or a tuple or list of them); undefined for anything else. */
function shapeElements(v: Value): number | undefined {
  // Composite spaces (Tuple, Dict) have none.
  if (v === null) return 0;
  if (typeof v === "number" || typeof v === "bigint") return Math.max(0, Number(v));
  if (!isSym(v) || (v.t !== "tuple" && v.t !== "list") || (v.t === "list" && v.n !== v.items.length)) return undefined;
  let product = 1;
  for (const d of v.items) {
    if (typeof d !== "number" && typeof d !== "bigint") return undefined;
    product *= Math.max(0, Number(d));
  }
  return product;
}

function scipyArgparserProblem(state: Value): string | undefined {
  // __dict__.update() also takes a sequence of pairs; only the dict SciPy writes can be checked.
  if (typeof state !== "object" || state === null || state.t !== "dict") return `its state is not a dict, so the ${TEMPLATE_KEY} it executes cannot be checked`;
  if (state.kv.length / 2 < state.n) return `its state has more items than the scanner keeps (${state.n}), so the ${TEMPLATE_KEY} it executes cannot be checked`;
  let named = false;
  for (let i = 0; i < state.kv.length; i += 2) {
    const key = state.kv[i];
    if (typeof key !== "string") {
      // A key made at load time (a str subclass, a call) may equal the template key: nothing to compare.
      if (typeof key === "object" && key !== null) return `its state has a key made at load time (${key.t}), which may name ${TEMPLATE_KEY}`;
      continue;
    }
    if (key !== TEMPLATE_KEY) continue;
    named = true;
    const template = state.kv[i + 1];
    if (typeof template !== "string") return `its ${TEMPLATE_KEY}, which __setstate__ executes, is not a constant string`;
    if (template.length > MAX_TEMPLATE || !SCIPY_ARGPARSER.test(template)) {
      return `its ${TEMPLATE_KEY}, which __setstate__ executes, is not SciPy's argument-parser template: ${JSON.stringify(template.slice(0, 120))}`;
    }
  }
  // SciPy writes the template into every distribution's state. Without it, __setstate__ executes
  // whatever the object already holds, which another route (an attribute setter, a shadowed
  // method) may have planted out of the guard's sight.
  if (!named) return `its state does not set ${TEMPLATE_KEY}, so __setstate__ executes whatever template the object already holds`;
  return undefined;
}

/**
 * Bits per pixel of the raw data `Image.frombytes` reads for each mode Pillow's `core.new` makes
 * (mode "1" packs eight pixels a byte, each row whole bytes). A mode outside the table cannot be
 * sized, so it is reported: Pillow refuses modes it does not know, but a table that missed one would
 * let its size through.
 */
const PILLOW_MODE_BITS: ReadonlyMap<string, number> = new Map([
  ["1", 1], ["L", 8], ["P", 8],
  ["I;16", 16], ["I;16L", 16], ["I;16B", 16], ["I;16N", 16], ["LA", 16], ["La", 16], ["PA", 16],
  ["RGB", 24], ["YCbCr", 24], ["LAB", 24], ["HSV", 24],
  ["RGBA", 32], ["RGBa", 32], ["RGBX", 32], ["CMYK", 32], ["I", 32], ["F", 32],
]);

/**
 * Pillow's own storage of a pixel: a byte for 1-bit, greyscale and palette images (mode "1" unpacks
 * its bits), two for 16-bit ones, four for the rest (three bands are kept in four bytes).
 */
function pillowStorageBytes(mode: string): number {
  if (mode === "1" || mode === "L" || mode === "P") return 1;
  return mode.startsWith("I;16") ? 2 : 4;
}

/** A row pointer in Pillow's image memory, and (about) an image's own structures. */
const ROW_POINTER_BYTES = 8;
const IMAGE_HEADER_BYTES = 1024;

/** What a state Pillow's image guard accepts makes: the bytes its pixels take, and the data value it reads them from. */
export interface PillowImage {
  pixelBytes: number;
  /** What the data is read from: the bytes value, or the text protocol 2 encodes (equal texts are one). */
  source: object | string;
  dataBytes: number;
}

/**
 * Image.__setstate__ unpacks `info, mode, size, palette, data = state[:5]`, allocates `core.new(mode,
 * size)` and then reads `data` into it (ImageFile's and JpegImageFile's add the file name and layers
 * after those five). A state that is no list or tuple fails at the unpacking, before allocating.
 * Returns what is wrong, or the image the state makes (undefined: it makes none).
 */
export function pillowImage(state: Value): PillowImage | string | undefined {
  if (typeof state !== "object" || state === null || (state.t !== "list" && state.t !== "tuple" && state.t !== "call")) return undefined;
  if (state.t === "call") return "its state was made at load time, so the size it allocates cannot be checked";
  if (state.items.length < 5 || (state.t === "list" && state.n !== state.items.length)) return "its state is not the five items Pillow writes (or has more than the scanner keeps), so the size it allocates cannot be checked";
  const [, mode, size, , data] = state.items;
  const bits = typeof mode === "string" ? PILLOW_MODE_BITS.get(mode) : undefined;
  if (bits === undefined) return `its mode ${typeof mode === "string" ? JSON.stringify(mode) : "(made at load time)"} is not one whose pixels the scanner can size`;
  const dims = typeof size === "object" && size !== null && (size.t === "tuple" || size.t === "list") && size.items.length === 2 ? size.items : undefined;
  const [width, height] = dims ?? [];
  if (!isCount(width) || !isCount(height)) return "its size is not two integers written in the pickle";
  const needed = Math.ceil((width * bits) / 8) * height;
  const given = byteLength(data);
  if (given === undefined) return `its pixel data is not bytes written in the pickle, so its ${width} × ${height} ${mode} pixels cannot be checked against it`;
  if (needed > given) return `its size ${width} × ${height} in mode ${mode} needs ${needed} bytes of data and it holds ${given}: __setstate__ allocates the pixels before it reads the data`;
  // Pillow keeps a pointer for every row and a header for every image beside the pixels (red team round 34: a
  // 1-pixel-wide 1-bit image costs nine bytes a row).
  return { pixelBytes: width * height * pillowStorageBytes(mode as string) + height * ROW_POINTER_BYTES + IMAGE_HEADER_BYTES, source: dataSource(data!), dataBytes: given };
}

function pillowImageProblem(state: Value): string | undefined {
  const image = pillowImage(state);
  return typeof image === "string" ? image : undefined;
}

/**
 * The length of bytes written in the pickle: a bytes constant, or protocol 2's `_codecs.encode(text,
 * "latin1")`, one byte a character (a text too long to keep counts its UTF-8 bytes, at most twice its
 * characters). Undefined for anything made otherwise.
 */
function byteLength(v: Value | undefined): number | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  if (v.t === "bytes") return v.data.length;
  if (v.t === "bigbytes") return v.len;
  const text = v.t === "call" ? latin1Text(v) : undefined;
  return typeof text === "string" ? text.length : text?.len;
}

/** The value bytes come from: a bytes constant itself, or the text `_codecs.encode` is given (a call per image may share one). */
function dataSource(v: Value): object | string {
  return (isSym(v) && v.t === "call" ? latin1Text(v) : undefined) ?? (v as object);
}

function isCount(v: Value | undefined): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}
