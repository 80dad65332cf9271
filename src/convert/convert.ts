/**
 * `modelgate convert`: a PyTorch checkpoint or NumPy file in, a safetensors file out, without
 * running anything. Input → sniff → plan (which tensors, from which bytes) → write a temp file
 * beside the output → read it back and compare every tensor → rescan it with the engine → rename
 * into place. A refusal or a failed check leaves nothing behind.
 */
import { randomBytes } from "node:crypto";
import { lstat, rename, rm } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import { scanFile } from "../engine.js";
import { openZip, detectZipLayout, ZipFormatError } from "../formats/zip.js";
import { sniff } from "../sniff.js";
import { FileSource } from "../sources/byteSource.js";
import { planNpy, planNpz } from "./numpy.js";
import { planTorchLegacy, planTorchZip } from "./pytorch.js";
import { ConvertInputError, type ConversionPlan, type Dropped } from "./tensors.js";
import { verifySafetensors, writeSafetensors, type WrittenTensor } from "./writer.js";

export interface ConvertOptions {
  /** Replace outputs that already exist. */
  force?: boolean;
}

/** Tensors written from one storage, each as its own copy (safetensors has no shared storage). */
export interface SharedStorage {
  storage: string;
  names: string[];
}

export interface ConvertedFile {
  input: string;
  output: string;
  /** The input's format by content. */
  format: string;
  tensors: WrittenTensor[];
  fileBytes: number;
  metadata: Record<string, string>;
  dropped: Dropped[];
  shared: SharedStorage[];
}

/** A converted file written to a temp path, verified and rescanned, not yet renamed into place. */
export interface StagedFile {
  temp: string;
  file: ConvertedFile;
}

const SAFETENSORS_EXTENSION = ".safetensors";

/** `model.bin` → `model.safetensors`, beside the input. */
export function defaultOutput(input: string): string {
  const ext = extname(input);
  return join(dirname(input), `${basename(input, ext)}${SAFETENSORS_EXTENSION}`);
}

/** Throws ConvertInputError when `path` exists and `force` is not set. */
export async function checkWritable(path: string, force: boolean | undefined): Promise<void> {
  const existing = await lstat(path).catch(() => undefined);
  if (existing && !force) throw new ConvertInputError(`${path} already exists; pass --force to replace it`);
  if (existing?.isDirectory()) throw new ConvertInputError(`${path} is a directory`);
}

/** Converts one checkpoint file. */
export async function convertFile(input: string, output = defaultOutput(input), options: ConvertOptions = {}): Promise<ConvertedFile> {
  if (output === input) throw new ConvertInputError(`the output ${output} would replace the input`);
  await checkWritable(output, options.force);
  const staged = await stageFile(input, output);
  await commit(staged);
  return staged.file;
}

/** Plans, writes, verifies and rescans `input` as `output`, into a temp file beside `output`. */
export async function stageFile(input: string, output: string): Promise<StagedFile> {
  const source = await openInput(input);
  const temp = join(dirname(output), `.${basename(output)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    const plan = await planFile(source, basename(input, extname(input)));
    if (plan.tensors.length === 0) throw new ConvertInputError(`${input} holds no tensors`);
    const written = await writeSafetensors(temp, plan.tensors, plan.metadata);
    await verifySafetensors(temp, written);
    // The engine judges the output as it would any download; it is named as the final file, so extension checks apply.
    const rescan = await scanFile(temp, output);
    if (rescan.findings.length > 0 || rescan.format !== "safetensors") {
      const first = rescan.findings[0];
      throw new Error(`the converted file does not rescan clean (${rescan.format}${first ? `: ${first.rule} ${first.message}` : ""})`);
    }
    const file: ConvertedFile = {
      input,
      output,
      format: plan.format,
      tensors: written.tensors,
      fileBytes: written.fileBytes,
      metadata: plan.metadata,
      dropped: plan.dropped,
      shared: sharedStorages(plan),
    };
    return { temp, file };
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  } finally {
    await source.close();
  }
}

export function commit(staged: StagedFile): Promise<void> {
  return rename(staged.temp, staged.file.output);
}

async function openInput(input: string): Promise<FileSource> {
  const st = await lstat(input).catch(() => undefined);
  if (!st?.isFile()) throw new ConvertInputError(`${input} is not a file`);
  return FileSource.open(input);
}

/** Picks the reader by content; polyglots and formats that are not tensor files are refused as input. */
async function planFile(source: FileSource, rootName: string): Promise<ConversionPlan> {
  const sniffed = await sniff(source, { name: basename(source.name), topLevel: true });
  if (sniffed.alsoValidAs.length > 0) {
    throw new ConvertInputError(`${source.name} is valid as ${[sniffed.format, ...sniffed.alsoValidAs].join(" and ")} at once; run modelgate scan on it`);
  }
  switch (sniffed.format) {
    case "pytorch-legacy":
      return planTorchLegacy(source, rootName);
    case "numpy":
      return planNpy(source, rootName);
    case "zip": {
      const budget = { decompressedBytes: 0 };
      let archive;
      try {
        archive = await openZip(source);
      } catch (err) {
        if (err instanceof ZipFormatError) throw new ConvertInputError(`${source.name}: ${err.message}`);
        throw err;
      }
      const layout = detectZipLayout(archive.entries);
      if (layout === "pytorch") return planTorchZip(archive, rootName, budget);
      if (layout === "npz") return planNpz(archive, budget);
      if (layout === "torchscript") throw new ConvertInputError(`${source.name} is a TorchScript archive, which carries code; save its state_dict() and convert that`);
      throw new ConvertInputError(`${source.name} is a zip archive, but neither a torch.save checkpoint nor an .npz`);
    }
    default:
      throw new ConvertInputError(`${source.name} is ${sniffed.format === "unknown" ? "not a recognised format" : `a ${sniffed.format} file`}; convert reads PyTorch checkpoints (zip or legacy) and NumPy .npy/.npz`);
  }
}

function sharedStorages(plan: ConversionPlan): SharedStorage[] {
  const by = new Map<string, string[]>();
  for (const t of plan.tensors) by.set(t.storageKey, [...(by.get(t.storageKey) ?? []), t.name]);
  return [...by].filter(([, names]) => names.length > 1).map(([storage, names]) => ({ storage, names }));
}
