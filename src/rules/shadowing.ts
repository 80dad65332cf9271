/**
 * Which files beside a model Python imports in place of a module that loading the model imports
 * (loaderModules.ts says which modules count). Python puts the folder it starts in first on sys.path,
 * so the rule holds wherever the files land: a scanned folder, the folder of a file scanned alone,
 * and the tree an archive extracts to (red team round 35: model.joblib and Helpers.py in one zip).
 */
import { posix } from "node:path";
import { sniffHead } from "../sniff.js";
import { shadowedModule } from "./loaderModules.js";

/** A file by its path under the root ("/" separators), with its first bytes. */
export interface HeadedFile {
  rel: string;
  size: number;
  head: Uint8Array;
}

/**
 * A model's files by name: its config, weights by the names loaders give them, and the names pickles
 * are saved under besides (scikit-learn's .sav, .p, .dat, .model, compressed joblib files).
 */
const MODEL_FILE = /^config\.json$|\.(safetensors|bin|pt|pth|ckpt|pkl|pickle|joblib|gguf|onnx|h5|keras|npz|npy|tflite|msgpack|sav|p|dat|model|z|gz|bz2|xz|lzma|lz4)$/i;

/**
 * Whether a file is a model's: by name, or by content in any format a loader reads, since a name is
 * no guide (red team round 35: model.sav; joblib inflates a compressed pickle whatever its name).
 */
export function isModelFile(file: HeadedFile): boolean {
  return namedAsModel(file.rel) || readByLoaders(file.head, file.size);
}

function namedAsModel(rel: string): boolean {
  return MODEL_FILE.test(posix.basename(rel));
}

function readByLoaders(head: Uint8Array, size: number): boolean {
  return sniffHead(Buffer.from(head.buffer, head.byteOffset, head.byteLength), size) !== "unknown";
}

/** The folders that hold a model, where someone may start Python to load it. */
export function modelFolders(files: readonly HeadedFile[]): Set<string> {
  const folders = new Set<string>();
  for (const f of files) if (isModelFile(f)) folders.add(posix.dirname(f.rel));
  return folders;
}

/** A module's folder and top-level name, from the path of its file or package without extension. */
function moduleAt(stem: string): { folder: string; name: string } {
  const path = stem.endsWith("/__init__") ? stem.slice(0, -"/__init__".length) : stem;
  const slash = path.lastIndexOf("/");
  return { folder: slash < 0 ? "" : path.slice(0, slash), name: path.slice(slash + 1) };
}

/**
 * Why Python started in the scanned folder, or in a model's own folder inside it, would import the
 * module at `stem` (a path without extension, or a linked folder) in place of one that loading the
 * weights imports: numpy.py, sklearn/__init__.py, numbers.py (numpy imports it) or __future__.py
 * (torch imports it lazily) there runs instead, before any pickle global is even resolved. A scan of a
 * folder of model repositories reaches each one's hqq.py a level down (red team round 23).
 */
export function shadowedLibrary(stem: string, models: ReadonlySet<string>, root = "this folder"): string | undefined {
  const { folder, name } = moduleAt(stem);
  if (folder !== "" && !models.has(folder)) return undefined;
  const what = shadowedModule(name);
  return what && `it takes the place of ${what}, for Python started in ${folder === "" ? root : `"${folder}"`}`;
}

/** Extensions Python imports source or bytecode from (3 never imports .pyo). */
const PYTHON_SOURCE = new Set([".py", ".pyw", ".pyc"]);
/** Extensions of native modules: the module is named by what comes before the first dot (numpy.cpython-311-x86_64-linux-gnu.so). */
const NATIVE_MODULE = /\.(so|pyd)$/i;

/** An archive member by name, with a way to read its first bytes. */
export interface ArchiveMember {
  name: string;
  size: number;
  head(): Promise<Uint8Array>;
}

/** A member that, extracted, runs in place of a loader's module. */
export interface ShadowingMember {
  name: string;
  /** "Python code" or "a native module". */
  kind: string;
  why: string;
}

/**
 * Where extraction puts a member, relative to the extraction folder: Python's zipfile drops empty,
 * "." and ".." steps and a drive letter; a name that climbs out is MG142 on its own.
 */
function extractedPath(name: string): string {
  return name
    .replace(/\\/g, "/")
    .replace(/^[A-Za-z]:/, "")
    .split("/")
    .filter((s) => s !== "" && s !== "." && s !== "..")
    .join("/");
}

/**
 * Whether Python started in a file's folder would import it, by its name, in place of a loader's
 * module (a package by its __init__ file): the files worth reading beside a model.
 */
export function shadowsByName(path: string): boolean {
  const found = importable(path);
  return found !== undefined && shadowedModule(moduleAt(found.stem).name) !== undefined;
}

/** The module a member's path makes importable, if its name is one Python imports. */
function importable(path: string): { stem: string; kind: string } | undefined {
  const name = posix.basename(path);
  const ext = posix.extname(name).toLowerCase();
  if (PYTHON_SOURCE.has(ext)) return { stem: path.slice(0, -ext.length), kind: "Python code" };
  const dot = name.indexOf(".");
  if (dot > 0 && NATIVE_MODULE.test(name)) return { stem: path.slice(0, path.length - name.length + dot), kind: "a native module" };
  return undefined;
}

/**
 * The members that, once the archive is extracted, Python started beside a model of it would import
 * in place of a loader's module: the folder rule above over member names. A native module counts by
 * its name alone (one that is no library fails to import, which no legitimate archive ships). Heads are
 * read only in folders that hold such a member and no model file by name.
 */
export async function shadowingMembers(members: readonly ArchiveMember[]): Promise<ShadowingMember[]> {
  const candidates: { member: ArchiveMember; stem: string; kind: string; folder: string }[] = [];
  for (const member of members) {
    const found = importable(extractedPath(member.name));
    if (!found) continue;
    const module = moduleAt(found.stem);
    if (shadowedModule(module.name) !== undefined) candidates.push({ member, ...found, folder: module.folder });
  }
  if (candidates.length === 0) return [];
  const undecided = new Set(candidates.map((c) => c.folder).filter((f) => f !== ""));
  const modules = new Set(candidates.map((c) => c.member));
  const models = new Set<string>();
  for (const member of members) {
    const rel = extractedPath(member.name);
    const folder = posix.dirname(rel);
    if (!undecided.has(folder) || models.has(folder) || modules.has(member)) continue;
    if (namedAsModel(rel) || readByLoaders(await member.head(), member.size)) models.add(folder);
  }
  return candidates.flatMap((c) => {
    const why = shadowedLibrary(c.stem, models, "the folder it is extracted to");
    return why ? [{ name: c.member.name, kind: c.kind, why }] : [];
  });
}
