/** Which loader the sandbox runs a file with: chosen by the file's content (src/sniff.ts), never by its name. */
import { basename } from "node:path";
import { detectZipLayout, openZip } from "../formats/zip.js";
import { sniff } from "../sniff.js";
import { FileSource } from "../sources/byteSource.js";
import type { Format, SandboxLoader } from "../types.js";

/**
 * The loader users run on each format. Plain pickles go to joblib.load: it reads every plain pickle as
 * pickle.load does (its unpickler is pickle's), and also the raw arrays joblib writes between opcodes,
 * which would make pickle.load fail on a benign joblib file. joblib.load also undoes the compressions
 * joblib.dump writes (and a compressed plain pickle), so single compressed streams go to it too.
 */
const LOADER_OF: Partial<Record<Format, SandboxLoader>> = {
  pickle: "joblib",
  "joblib-zfile": "joblib",
  gzip: "joblib",
  bz2: "joblib",
  xz: "joblib",
  lzma: "joblib",
  zlib: "joblib",
  "pytorch-zip": "torch",
  "pytorch-legacy": "torch",
  "pytorch-tar": "torch",
  torchscript: "torch",
  numpy: "numpy",
  npz: "numpy",
  "keras-h5": "keras",
  "keras-v3": "keras",
  onnx: "onnx",
};

/** The formats whose loading unpickles: `scan --sandbox` detonates these (and see isPickleFamily). */
const PICKLE_FAMILY: ReadonlySet<Format> = new Set<Format>([
  "pickle",
  "joblib-zfile",
  "pytorch-zip",
  "pytorch-legacy",
  "pytorch-tar",
  "torchscript",
  "numpy",
  "npz",
]);

const COMPRESSED: ReadonlySet<Format> = new Set<Format>(["gzip", "bz2", "xz", "lzma", "zlib"]);
/** Names under which a compressed file is a pickle handed to joblib.load (joblib.dump's own compressions). */
const COMPRESSED_PICKLE_NAME = /\.(joblib|pkl|pickle)(\.(gz|bz2|xz|lzma|z))?$/i;

/**
 * Whether `scan --sandbox` loads a file of this format. A compressed stream is loaded only under a pickle
 * name: what it holds is not sniffed here, and loading a compressed tar or text would only fail. The
 * name picks what to load, never a verdict.
 */
export function isPickleFamily(format: Format, path: string): boolean {
  return PICKLE_FAMILY.has(format) || (COMPRESSED.has(format) && COMPRESSED_PICKLE_NAME.test(path));
}

export function loaderForFormat(format: Format): SandboxLoader | undefined {
  return LOADER_OF[format];
}

/** Sniffs a local file's format as the scan does for a top-level file; a zip is told apart by its layout (PyTorch, TorchScript, npz). */
export async function sniffFile(path: string): Promise<Format> {
  const source = await FileSource.open(path);
  try {
    const { format } = await sniff(source, { name: basename(path), topLevel: true });
    if (format !== "zip") return format;
    const layout = detectZipLayout((await openZip(source)).entries);
    return layout === "pytorch" ? "pytorch-zip" : layout === "plain" ? "zip" : layout;
  } finally {
    await source.close();
  }
}
