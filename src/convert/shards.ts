/**
 * Sharded checkpoints: `pytorch_model.bin.index.json` names the shard holding each tensor. Each
 * shard is converted to `model-0000i-of-0000N.safetensors` (the names transformers writes) and a
 * `model.safetensors.index.json` maps every tensor to its new shard. Every shard is staged and
 * verified before any is renamed into place, and the index is written last.
 */
import { readFile, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../atomicFile.js";
import { unsafeMemberName } from "../formats/container.js";
import { own } from "../own.js";
import { containersOver, findDuplicateJsonKeys } from "../formats/jsonText.js";
import { LIMITS } from "../limits.js";
import { SAFETENSORS_LIMITS } from "../formats/safetensors.js";
import { checkWritable, commit, stageFile, type ConvertedFile, type ConvertOptions, type StagedFile } from "./convert.js";
import { ConvertInputError } from "./tensors.js";

export const SAFETENSORS_INDEX = "model.safetensors.index.json";

export interface ConvertedShards {
  index: string;
  files: ConvertedFile[];
}

export function isShardIndex(path: string): boolean {
  return /\.index\.json$/i.test(path);
}

/** Converts the shards `indexPath` names; `output` is the new index (default: model.safetensors.index.json beside it). */
export async function convertShards(indexPath: string, output = join(dirname(indexPath), SAFETENSORS_INDEX), options: ConvertOptions = {}): Promise<ConvertedShards> {
  const weightMap = await readWeightMap(indexPath);
  const inputs = [...new Set(Object.values(weightMap))].sort();
  const outDir = dirname(output);
  const pad = (n: number): string => String(n).padStart(5, "0");
  const outputs = inputs.map((_, i) => join(outDir, `model-${pad(i + 1)}-of-${pad(inputs.length)}.safetensors`));
  for (const path of [...outputs, output]) await checkWritable(path, options.force);

  const staged: StagedFile[] = [];
  try {
    for (const [i, shard] of inputs.entries()) {
      const s = await stageFile(join(dirname(indexPath), shard), outputs[i]!);
      staged.push(s);
      checkShard(s.file, shard, weightMap);
    }
  } catch (err) {
    await Promise.all(staged.map((s) => rm(s.temp, { force: true })));
    throw err;
  }
  for (const s of staged) await commit(s);
  const newMap: Record<string, string> = {};
  let totalSize = 0;
  for (const [i, s] of staged.entries()) {
    for (const t of s.file.tensors) {
      newMap[t.name] = outputs[i]!.slice(outDir.length + 1);
      totalSize += t.end - t.begin;
    }
  }
  const sorted = Object.fromEntries(Object.keys(newMap).sort().map((k) => [k, newMap[k]!]));
  await writeFileAtomic(output, `${JSON.stringify({ metadata: { total_size: totalSize }, weight_map: sorted }, null, 2)}\n`);
  return { index: output, files: staged.map((s) => s.file) };
}

/** The index's weight_map, with shard names that stay in the index's folder. */
async function readWeightMap(indexPath: string): Promise<Record<string, string>> {
  const size = (await stat(indexPath).catch(() => undefined))?.size;
  if (size === undefined) throw new ConvertInputError(`${indexPath} does not exist`);
  if (size > SAFETENSORS_LIMITS.maxIndexBytes) throw new ConvertInputError(`${indexPath} is ${size} bytes, more than an index can be`);
  const text = await readFile(indexPath, "utf8");
  if (containersOver(text, LIMITS.jsonMaxContainers)) throw new ConvertInputError(`${indexPath} holds more than ${LIMITS.jsonMaxContainers} objects and lists`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConvertInputError(`${indexPath} is not JSON: ${(err as Error).message}`);
  }
  const duplicates = findDuplicateJsonKeys(text);
  if (duplicates.length > 0) throw new ConvertInputError(`${indexPath} repeats key "${duplicates[0]}"`);
  const map = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>)["weight_map"] : undefined;
  if (typeof map !== "object" || map === null || Array.isArray(map)) throw new ConvertInputError(`${indexPath} has no weight_map object`);
  const out: Record<string, string> = {};
  for (const [name, file] of Object.entries(map)) {
    if (typeof file !== "string" || file.includes("/") || file.includes("\\") || unsafeMemberName(file) || file === "" || file === ".") {
      throw new ConvertInputError(`${indexPath} maps "${name}" to ${JSON.stringify(file)}, which is not a file in the index's folder`);
    }
    out[name] = file;
  }
  if (Object.keys(out).length === 0) throw new ConvertInputError(`${indexPath} maps no tensors`);
  return out;
}

/** A shard must hold exactly the tensors the index assigns to it. */
function checkShard(file: ConvertedFile, shard: string, weightMap: Readonly<Record<string, string>>): void {
  const held = new Set(file.tensors.map((t) => t.name));
  for (const name of held) {
    const assigned = own(weightMap, name);
    if (assigned !== shard) throw new ConvertInputError(`${shard} holds "${name}", which the index assigns to ${assigned ?? "no shard"}`);
  }
  for (const [name, f] of Object.entries(weightMap)) {
    if (f === shard && !held.has(name)) throw new ConvertInputError(`the index assigns "${name}" to ${shard}, which does not hold it`);
  }
}
