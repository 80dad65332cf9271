/**
 * What a file's extension claims, checked against what sniffing found (content decides, names
 * are hints). A mismatch is a finding; a pickle hiding behind a data-only name is a loud one (P10).
 */
import { own } from "./own.js";
import { extname } from "node:path";
import type { Format, Severity } from "./types.js";

const ZIPS: Format[] = ["zip", "pytorch-zip", "torchscript", "npz"];
const TORCH: Format[] = ["pytorch-zip", "torchscript", "torchscript-flatbuffer", "pytorch-legacy", "pytorch-tar", "pickle", "zip", "tar"];
const PICKLED: Format[] = ["pickle", "gzip", "bz2", "xz", "lzma", "lz4", "zlib", "joblib-zfile", "pytorch-zip", "pytorch-legacy", "zip"];

/**
 * Names whose loaders unpickle whatever they hold. Not torch.load's and numpy.load's (.pt, .bin,
 * .npy), which fall back to pickle too: raw tensor files go by those names, and their bytes would
 * read as broken pickles.
 */
const PICKLE_NAMES = new Set([".pkl", ".pickle", ".joblib", ".dill", ".pdparams", ".pdopt", ".p"]);

/** Whether a loader reads a file of this name as a pickle when its content is no other format. */
export function isPickleName(name: string): boolean {
  return PICKLE_NAMES.has(extname(name).toLowerCase());
}

/** Extensions of formats that hold no code: a pickle-bearing file named so is disguised. */
const DATA_ONLY = new Set([
  ".safetensors", ".gguf", ".ggml", ".onnx", ".tflite", ".json", ".txt", ".md", ".csv", ".tsv", ".yaml",
  ".yml", ".msgpack", ".png", ".jpg", ".jpeg", ".wav", ".vocab", ".spm", ".tiktoken", ".parquet",
  ".arrow",
]);

/** Detected formats that carry no pickle: one of these under another data-only name is odd, not disguised. */
const CODE_FREE = new Set<Format>(["safetensors", "safetensors-index", "gguf", "onnx", "tflite"]);

const EXPECTED: Readonly<Record<string, readonly Format[]>> = {
  ".safetensors": ["safetensors"],
  ".json": ["safetensors-index", "model-config", "skops-schema"],
  ".yaml": ["model-config"],
  ".yml": ["model-config"],
  ".jinja": ["chat-template"],
  ".jinja2": ["chat-template"],
  ".j2": ["chat-template"],
  ".pb": ["tf-savedmodel", "keras-metadata"],
  ".pbtxt": ["tf-savedmodel-text"],
  ".gguf": ["gguf"],
  ".onnx": ["onnx"],
  ".tflite": ["tflite"],
  ".h5": ["keras-h5"],
  ".hdf5": ["keras-h5"],
  // Keras 3 writes zips; Keras 2 wrote HDF5 under the same name.
  ".keras": ["keras-v3", "keras-h5"],
  ".npy": ["numpy"],
  ".npz": ZIPS,
  ".skops": ["zip"],
  ".pmml": ["pmml"],
  ".xml": ["openvino-ir", "pmml"],
  ".zip": ZIPS,
  ".pt": TORCH,
  // PyTorch Mobile's lite-interpreter models: an archive with bytecode.pkl, or a flatbuffer.
  ".ptl": ["torchscript", "torchscript-flatbuffer", "zip"],
  // torch.save(state, "checkpoint.pth.tar"): PyTorch's ImageNet example and timm name checkpoints so.
  ".pth.tar": TORCH,
  ".pth": TORCH,
  ".bin": TORCH,
  ".ckpt": TORCH,
  // torch.distributed.checkpoint shards sniff as zip; the zip scanner refines them.
  ".distcp": ["zip", "pytorch-dcp", "pytorch-zip"],
  ".tar": ["tar", "pytorch-tar"],
  ".gz": ["gzip"],
  ".tgz": ["gzip"],
  ".bz2": ["bz2"],
  ".xz": ["xz"],
  ".lz4": ["lz4"],
  ".zst": ["zstd"],
  ".zstd": ["zstd"],
  ".lzma": ["lzma"],
  ".7z": ["7z"],
  ".pkl": PICKLED,
  ".pickle": PICKLED,
  ".joblib": PICKLED,
  ".dill": PICKLED,
  ".pdparams": PICKLED,
  ".pdopt": PICKLED,
};

export interface ExtensionMismatch {
  extension: string;
  severity: Severity;
}

/** The mismatch between `name`'s extension and the detected format, if any. */
export function extensionMismatch(name: string, format: Format): ExtensionMismatch | undefined {
  if (format === "unknown") return undefined;
  const lower = name.toLowerCase();
  const extension = lower.endsWith(".pth.tar") ? ".pth.tar" : extname(lower);
  const expected = own(EXPECTED, extension);
  if (expected?.includes(format)) return undefined;
  if (DATA_ONLY.has(extension)) return { extension, severity: CODE_FREE.has(format) ? "low" : "high" };
  if (expected) return { extension, severity: "low" };
  return undefined;
}
