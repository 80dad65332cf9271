/** Which scanner reads which detected format. A recognised format without a scanner is skipped, with that reason. */
import type { Format } from "../types.js";
import type { FormatScanner } from "./context.js";
import { scanBz2, scanGzip, scanLzma, scanXz, scanZlib } from "./compression.js";
import { scanNpy } from "./numpy.js";
import { scanPickleContent } from "./pickle.js";
import { scanTorchLegacy } from "./pytorch.js";
import { scanSevenZip } from "./sevenzip.js";
import { scanTar } from "./tar.js";
import { scanZip } from "./zip.js";

export const SCANNERS: Readonly<Partial<Record<Exclude<Format, "unknown">, FormatScanner>>> = {
  pickle: scanPickleContent,
  "pytorch-legacy": scanTorchLegacy,
  zip: scanZip,
  // Refined formats: sniffing reports these containers as zip/tar, the container scanner refines them.
  "pytorch-zip": scanZip,
  torchscript: scanZip,
  npz: scanZip,
  "pytorch-tar": scanTar,
  tar: scanTar,
  numpy: scanNpy,
  gzip: scanGzip,
  bz2: scanBz2,
  xz: scanXz,
  lzma: scanLzma,
  zlib: scanZlib,
  "7z": scanSevenZip,
};
