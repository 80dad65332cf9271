/** Which scanner reads which detected format. A recognised format without a scanner is skipped, with that reason. */
import type { Format } from "../types.js";
import type { FormatScanner } from "./context.js";
import { scanBz2, scanGzip, scanJoblibZfile, scanLz4, scanLzma, scanXz, scanZlib, scanZstd } from "./compression.js";
import { scanGguf } from "./gguf.js";
import { scanKerasH5 } from "./keras.js";
import { scanNpy } from "./numpy.js";
import { scanOnnx } from "./onnx.js";
import { scanPickleContent } from "./pickle.js";
import { scanTorchLegacy } from "./pytorch.js";
import { scanSafetensors, scanSafetensorsIndex } from "./safetensors.js";
import { scanSevenZip } from "./sevenzip.js";
import { scanSkopsSchema } from "./skops.js";
import { scanTar } from "./tar.js";
import { scanTorchScriptFlatbuffer } from "./torchscript.js";
import { scanXmlModel } from "./xml.js";
import { scanKerasMetadata, scanSavedModel, scanSavedModelText, scanTflite } from "./tensorflow.js";
import { scanZip } from "./zip.js";
import { scanChatTemplateFile, scanModelConfig } from "../repo/checks.js";

export const SCANNERS: Readonly<Partial<Record<Exclude<Format, "unknown">, FormatScanner>>> = {
  pickle: scanPickleContent,
  "pytorch-legacy": scanTorchLegacy,
  zip: scanZip,
  // Refined formats: sniffing reports these containers as zip/tar, the container scanner refines them.
  "pytorch-zip": scanZip,
  torchscript: scanZip,
  "torchscript-flatbuffer": scanTorchScriptFlatbuffer,
  "pytorch-dcp": scanZip,
  npz: scanZip,
  "keras-v3": scanZip,
  "pytorch-tar": scanTar,
  tar: scanTar,
  numpy: scanNpy,
  gzip: scanGzip,
  bz2: scanBz2,
  xz: scanXz,
  lz4: scanLz4,
  zstd: scanZstd,
  "joblib-zfile": scanJoblibZfile,
  lzma: scanLzma,
  zlib: scanZlib,
  "7z": scanSevenZip,
  safetensors: scanSafetensors,
  "safetensors-index": scanSafetensorsIndex,
  gguf: scanGguf,
  onnx: scanOnnx,
  "keras-h5": scanKerasH5,
  "tf-savedmodel": scanSavedModel,
  "tf-savedmodel-text": scanSavedModelText,
  "keras-metadata": scanKerasMetadata,
  tflite: scanTflite,
  "model-config": scanModelConfig,
  "chat-template": scanChatTemplateFile,
  "skops-schema": scanSkopsSchema,
  pmml: scanXmlModel,
  "openvino-ir": scanXmlModel,
};
