/**
 * Repository-level checks for a folder that looks like a Hugging Face model repo (THREATS H1–H3,
 * CVE-2025-23304): what a loader would run *besides* the weights — remote code asked for by
 * auto_map, scripts and native binaries, chat templates, Hydra `_target_` callables — and what
 * was never scanned (Git LFS pointers, symlinks out of the folder).
 *
 * Facts first, checks second: a folder is walked once into facts (files with their first bytes, the
 * text of small configs, links that leave it), and the checks read only those facts — so the same
 * checks run over a remote repository's listing (src/remote/hub.ts). Nothing is executed, imported
 * or rendered; a symlink out of the folder is never followed, one inside it is read at the path
 * it resolves to, and every file is opened with O_NOFOLLOW so a link swapped in after the walk is
 * not read either.
 */
import { lstatSync, readdirSync, statSync, type Dirent, type Stats } from "node:fs";
import { readlink, realpath, stat } from "node:fs/promises";
import { basename, dirname, extname, join, resolve } from "node:path";
import { DEFAULT_EXCLUSION } from "../exclusions.js";
import { onFirstUse } from "../onFirstUse.js";
import { checkChatTemplate } from "../formats/chatTemplate.js";
import type { FormatScanner, ReportExtra, ScanContext } from "../formats/context.js";
import { scanTorchModuleBlobs, walkKerasConfig, type TorchModuleBlob } from "../formats/keras.js";
import { containersOver, parsePythonJson } from "../formats/jsonText.js";
import { withPyYamlBreaks, yamlIndicatorsOver } from "../formats/yamlText.js";
import { SAFETENSORS_LIMITS, sniffSafetensors } from "../formats/safetensors.js";
import { readFileStart } from "../sources/byteSource.js";
import { LIMITS } from "../limits.js";
import { isInside } from "../paths.js";
import { judge, type CallableOverrides } from "../pickle/judge.js";
import { definedUnder } from "../rules/allowlist.js";
import type { RuleId } from "../rules/catalogue.js";
import type { ByteSource } from "../sources/byteSource.js";
import {
  checkCrossEncoderActivation,
  checkDiffusersIndex,
  checkDiffusersModularIndex,
  checkPeftConfig,
  checkSentenceTransformerModules,
  checkSentenceTransformerRouter,
  findChatTemplates,
  importedByName,
  holdsKerasArchitecture,
  isKerasArchitecture,
  isRouterConfig,
  loadedPaths,
  stepsTo,
  walkConfig,
  type CodeRefSink,
} from "./loaders.js";
import { modelFolders, shadowedLibrary, shadowsByName } from "../rules/shadowing.js";
import { shadowedModule } from "../rules/loaderModules.js";
import { isPackagedModule, PACKAGED_MODULE_RISK, torchPackageRoots } from "../formats/torchPackage.js";
import { configKind, isLfsPointer, readsAsTemplate } from "./names.js";
import { errorText } from "../errors.js";
import { severityRank, type Severity } from "../types.js";
import { judgePythonTags, type TagVerdict } from "./yamlTags.js";
import type { Document, Node } from "yaml";

export { isLfsPointer } from "./names.js";

/** Receives one repository finding; `path` is the file's path relative to the scanned root. */
export type RepoReporter = (rule: RuleId, message: string, path: string, extra?: ReportExtra) => void;

/** Anything findings can be reported to: a ScanContext (a .nemo member) or a repository file. */
export interface FindingSink {
  report(rule: RuleId, message: string, extra?: ReportExtra): void;
  /** The organisation's callable allow/deny additions, when the sink is a scan context. */
  readonly callables?: CallableOverrides | undefined;
}

export const REPO_LIMITS = Object.freeze({
  /** Files examined in one folder (CWE-400: a folder of millions of tiny files). */
  maxFiles: LIMITS.maxMembers,
  /** Folder nesting below the root (CWE-674: deep trees; also bounds the walk stack). */
  maxDepth: 64,
  /** Bytes read from each file to recognise executables and LFS pointers (magic numbers, PE header offset). */
  headBytes: LIMITS.sniffBytes,
  /** Largest JSON/YAML/Jinja file parsed (CWE-400/CWE-776: huge or bomb-shaped configs; real ones are kilobytes). */
  configBytes: 8 * 1024 * 1024,
  /** YAML aliases expanded per document (CWE-776: "billion laughs" alias bombs). */
  yamlAliases: 100,
  /**
   * Characters that can introduce a YAML node, per file (CWE-400: the YAML parser spends ~1 KB and
   * ~10 µs per node). An ESPnet config listing 50,000 tokens holds about 100,000; Hydra configs a few hundred.
   */
  yamlIndicators: 200_000,
  /** Values visited while looking for `_target_` in one config (CWE-400; shared subtrees are visited once). */
  configNodes: 1_000_000,
});

/** Configs a loader reads by name: when they cannot be parsed, what they ask for was not checked. */
const LOADER_CONFIGS = new Set([
  "config.json", "tokenizer_config.json", "chat_template.json", "processor_config.json", "preprocessor_config.json",
  "generation_config.json", "modules.json", "model_index.json", "config_sentence_transformers.json", "router_config.json",
  "modular_model_index.json",
]);
const PYTHON_CODE = new Set([".py", ".pyw", ".pyc", ".pyo"]);
/** Scripts that run without a magic number (shebang scripts are recognised by content). */
const SCRIPT_EXTENSIONS = new Set([".sh", ".bash", ".bat", ".cmd", ".ps1", ".vbs"]);
const YAML_EXTENSIONS = new Set([".yaml", ".yml"]);
/** Weight files loaded with pickle (torch.load and friends). */
const PICKLE_WEIGHTS = /(^|_)pytorch_model.*\.bin$|\.(pt|pth|ckpt|pkl)$/i;
/** Code modules that auto_map repos ship beside the weights. */
const REMOTE_CODE_MODULE = /^(modeling|configuration|tokenization|processing|image_processing|feature_extraction)_/;

/** What kind of native executable or script the first bytes show, if any. */
export function executableKind(head: Uint8Array): string | undefined {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length >= 4 && b.readUInt32BE(0) === 0x7f454c46) return "ELF executable or shared library";
  if (b.length >= 64 && b[0] === 0x4d && b[1] === 0x5a) return "Windows PE/DOS executable (MZ header)";
  if (b.length >= 4) {
    const magic = b.readUInt32BE(0);
    if ([0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe].includes(magic)) return "Mach-O executable or library";
    if (magic === 0xcafebabe) return "Mach-O universal binary or Java class file";
  }
  if (b.length >= 2 && b[0] === 0x23 && b[1] === 0x21) return `script with interpreter line "${firstLine(b)}"`;
  return undefined;
}

/** One regular file of a repository, as the checks see it. */
export interface RepoFile {
  /** Path relative to the root, with "/" separators. */
  rel: string;
  size: number;
  /** The first REPO_LIMITS.headBytes bytes (fewer for a smaller file). */
  head: Uint8Array;
  /** The whole text, for the files `needsText` names; absent when it could not be read. */
  text?: string;
}

/** What the checks read, gathered from a local folder (below) or from a remote listing. */
export interface RepoFacts {
  files: RepoFile[];
  /** Symbolic links whose target leaves the root (local folders only); never followed. */
  escapingLinks: { rel: string; target: string; resolved?: string }[];
  /** Symbolic links inside the root that point to folders (local folders only); not walked. */
  linkedFolders: string[];
  /** Parts of the tree not examined because a bound was hit. */
  unexamined: { rel: string; why: string }[];
  /**
   * Paths a local folder walk left out (default folders, the ignore file, --exclude, --include), with
   * what left them out: not examined, nor scanned. Present for local folder walks only, whose paths
   * are what loaders read.
   */
  leftOut?: { rel: string; by: string }[];
}

export interface RepositoryOptions {
  /** The folder symlinks may point into (default: root); a Hugging Face cache snapshot's links reach its repository's blobs. */
  linkRoot?: string;
  /** The organisation's allowed and denied callables (policy file), for Hydra `_target_` values. */
  callables?: CallableOverrides | undefined;
  /**
   * False when the engine scans every file of the folder too: each config's and template's own
   * checks then come from its format scanner (scanModelConfig, scanChatTemplateFile), and the
   * repository checks keep what needs the whole folder. Default true (everything here).
   */
  contentChecks?: boolean;
  /** Why a path (relative to root, "/"-separated) is left out of the scan, or undefined; default: `.git` at the root, git's own metadata. */
  excluded?: (rel: string, isFolder: boolean, isLink: boolean) => string | undefined;
}

/** Walks `root` and reports repository-level findings through `report`; returns the facts it checked. */
export async function scanRepository(root: string, report: RepoReporter, options: RepositoryOptions = {}): Promise<RepoFacts> {
  const excluded = options.excluded ?? ((rel, isFolder) => (isFolder && rel === ".git" ? DEFAULT_EXCLUSION : undefined));
  const facts = await collectFolderFacts(root, resolve(options.linkRoot ?? root), excluded, options.contentChecks === false ? textBesideEngine : undefined);
  checkRepository(facts, report, options.callables, options.contentChecks);
  return facts;
}

/**
 * The repository checks over facts, however they were gathered. `contentChecks` false leaves each
 * config's own findings to the engine's format scanners (see RepositoryOptions).
 */
export function checkRepository(facts: RepoFacts, report: RepoReporter, callables?: CallableOverrides, contentChecks = true): void {
  for (const link of facts.escapingLinks) {
    report("MG273", `symbolic link "${link.rel}" points outside the scanned folder (to "${link.target}"); it was not followed`, link.rel, {
      evidence: `${link.rel} -> ${link.target}${link.resolved !== undefined ? ` (resolves to ${link.resolved})` : ""}`,
    });
  }
  for (const part of facts.unexamined) report("MG280", part.why, part.rel);
  const models = modelFolders(facts.files);
  for (const rel of facts.linkedFolders) {
    const why = shadowedLibrary(rel, models);
    if (why) report("MG271", `"${rel}" is a link to a folder Python can import as a package; ${why}`, rel, { severity: "high" });
  }
  const json = jsonOnce();
  const remoteModules = checkConfigs(facts.files, report, callables, contentChecks, json);
  const packages = torchPackageRoots(facts.files.map((f) => f.rel));
  for (const file of facts.files) checkFileKind(file, remoteModules, packages, models, report);
  checkPickleBesideSafetensors(facts.files, report);
  if (facts.leftOut !== undefined) checkLoadedPaths(facts, facts.leftOut, report, json);
}

/**
 * A JSON text parsed, or why not: it is not JSON, or it holds too many objects and lists to parse
 * (with the key that loaders act on it spells out, if any).
 */
type ParsedJson = { value: unknown } | { error: unknown; actionKey: string | undefined } | { overBound: true; actionKey: string | undefined };

function parseJson(text: string): ParsedJson {
  if (containersOver(text, LIMITS.jsonMaxContainers)) return { overBound: true, actionKey: actionKeyIn(text) };
  try {
    return { value: parsePythonJson(text) };
  } catch (error) {
    return { error, actionKey: actionKeyIn(text) };
  }
}

/** A file's text parsed as JSON. */
type JsonOf = (file: RepoFile) => ParsedJson;

/**
 * Parses a loader config once for both checks that read it (a large model's shard index is
 * megabytes); other configs are parsed when asked and not kept, so a folder of large configs does
 * not hold them all at once.
 */
function jsonOnce(): JsonOf {
  const kept = new Map<RepoFile, ParsedJson>();
  return (file) => {
    let json = kept.get(file);
    if (json !== undefined) return json;
    json = file.text === undefined ? { error: new Error("not read"), actionKey: undefined } : parseJson(file.text);
    if (LOADED_PATH_CONFIGS.test(file.rel)) kept.set(file, json);
    return json;
  };
}

/** Configs that name what a loader reads by path (see loadedPaths). */
const LOADED_PATH_CONFIGS = /(^|\/)(model_index\.json|modules\.json|router_config\.json|config\.json|[^/]*\.index\.json)$/i;
/** Of those, the ones whose paths out of the folder other checks report (MG208, MG281). */
const OUT_OF_FOLDER_REPORTED_ELSEWHERE = /\.safetensors\.index\.json$|^modules\.json$|^router_config\.json$|^config\.json$/i;

/**
 * What a shard index, a diffusers component or a sentence-transformers module makes the loader read,
 * against what the scan covered: a path out of the scanned folder, into a path the walk left out
 * (the default folders are a guess at what no loader reads; the ignore file and --exclude are the
 * user's), or through a link to a folder (never followed; `link/../x` is followed by the kernel, so
 * every prefix of the path as written counts). Compared without case: on a case-insensitive file
 * system `__PYCACHE__/` is `__pycache__/`. A way out of the folder from a safetensors index is its
 * own scanner's MG208, from modules.json and router_config.json MG281.
 */
function checkLoadedPaths(facts: RepoFacts, leftOut: readonly { rel: string; by: string }[], report: RepoReporter, json: JsonOf): void {
  const unwalked = [
    ...leftOut.map(({ rel, by }) => ({ rel, why: by === DEFAULT_EXCLUSION ? "left out of the scan by default" : `left out of the scan by ${by}` })),
    ...facts.linkedFolders.map((rel) => ({ rel, why: "a link to a folder, which the scan does not follow" })),
  ];
  for (const file of facts.files) {
    if (!LOADED_PATH_CONFIGS.test(file.rel) || isLfsPointer(file.head)) continue;
    const name = basename(file.rel);
    // Nothing to report for them when the walk left nothing out (a shard index is megabytes to parse).
    if (unwalked.length === 0 && OUT_OF_FOLDER_REPORTED_ELSEWHERE.test(name)) continue;
    if (file.text === undefined) {
      // Loader configs over the bound are their own scanner's MG278.
      const bound = walkTextBound(file.rel);
      if (file.size > bound && !LOADER_CONFIGS.has(name)) report("MG278", `${name} is ${file.size} bytes, over the ${bound}-byte bound; what it makes the loader read was not checked`, file.rel);
      continue;
    }
    const parsed = json(file);
    if (!("value" in parsed)) continue; // reported by the config's own checks
    const dir = dirname(file.rel);
    for (const path of loadedPaths(name, parsed.value)) {
      const raw = path.replace(/\\/g, "/");
      // An absolute path is out of the folder: Python's os.path.join drops the config's folder before it.
      const prefixes = raw.startsWith("/") || /^[A-Za-z]:/.test(raw) ? undefined : walkedPrefixes(dir === "." ? raw : `${dir}/${raw}`);
      if (prefixes === undefined) {
        if (!OUT_OF_FOLDER_REPORTED_ELSEWHERE.test(name)) report("MG285", `${name} makes the loader read "${path}", outside the scanned folder: it was not scanned`, file.rel, { evidence: path });
        continue;
      }
      const hit = unwalked.find(({ rel }) => prefixes.some((p) => p === rel.toLowerCase() || p.startsWith(`${rel.toLowerCase()}/`)));
      if (hit === undefined) continue;
      report("MG285", `${name} makes the loader read "${path}", but "${hit.rel}" is ${hit.why}: what the loader reads there was not scanned`, file.rel, {
        evidence: `${path} in ${hit.rel}`,
      });
    }
  }
}

/**
 * Each folder a relative path (from the scanned root, "/"-separated) passes through and the path
 * itself, lower-cased and read lexically ("a/../b" passes "a", then "b"), or undefined when it climbs
 * out of the root. A prefix that is a link is where the kernel leaves the lexical reading, so every
 * prefix up to the first link counts, and the caller stops at a link.
 */
function walkedPrefixes(written: string): string[] | undefined {
  const at: string[] = [];
  const out: string[] = [];
  for (const part of written.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (at.pop() === undefined) return undefined;
    } else at.push(part.toLowerCase());
    if (at.length > 0) out.push(at.join("/"));
  }
  return out;
}

/** Does the check need this file's whole text (a config or template within `bound`, not an LFS pointer)? */
export function needsText(file: Pick<RepoFile, "rel" | "size" | "head">, bound: number = REPO_LIMITS.configBytes): boolean {
  return configWithinBound(file.rel, file.size, bound) && !isLfsPointer(file.head);
}

/** A config or template by name, no larger than the bound on what is parsed. */
function configWithinBound(rel: string, size: number, bound: number): boolean {
  return configKind(basename(rel)) !== undefined && size <= bound;
}

/**
 * How much of a config a local folder walk reads whole: a shard index as much as its own scanner
 * reads, for checkLoadedPaths (a large model's lists ~90,000 tensors); other configs, and any config
 * of a file given alone, a cache snapshot or a hub repository (whose loaded paths are not checked),
 * REPO_LIMITS.configBytes.
 */
function walkTextBound(rel: string): number {
  return /\.index\.json$/i.test(rel) ? SAFETENSORS_LIMITS.maxIndexBytes : REPO_LIMITS.configBytes;
}

/**
 * Regular files under root that are not excluded. A link out of the root is recorded, never
 * followed; one inside it is a file of its own name with the bytes it resolves to, or a linked folder.
 */
async function collectFolderFacts(root: string, linkBase: string, excluded: NonNullable<RepositoryOptions["excluded"]>, textWanted?: TextWanted): Promise<RepoFacts> {
  const base = resolve(root);
  const realLinkBase = await realpath(linkBase);
  const leftOut: NonNullable<RepoFacts["leftOut"]> = [];
  const facts: RepoFacts = { files: [], escapingLinks: [], linkedFolders: [], unexamined: [], leftOut };
  const pending: { abs: string; rel: string; depth: number }[] = [{ abs: base, rel: "", depth: 0 }];
  /** `abs` is where the bytes are read: for a link inside the root, the file it resolves to. */
  const regular: { abs: string; rel: string; size: number }[] = [];
  walk: while (pending.length > 0) {
    const dir = pending.pop()!;
    // Synchronous: a thread-pool round trip per lstat cost a folder of small files more than the calls.
    // A subfolder or entry that cannot be read (a path past PATH_MAX) is one unexamined entry, not the end of the checks.
    let names: string[];
    try {
      names = readdirSync(dir.abs).sort();
    } catch (err) {
      if (dir.rel === "") throw err;
      facts.unexamined.push({ rel: dir.rel, why: `"${dir.rel}" could not be listed (${errorText(err)}); it was not checked` });
      continue;
    }
    for (const name of names) {
      const abs = join(dir.abs, name);
      const rel = dir.rel === "" ? name : `${dir.rel}/${name}`;
      let st: Stats;
      try {
        st = lstatSync(abs);
      } catch (err) {
        facts.unexamined.push({ rel, why: `"${rel}" could not be read (${errorText(err)}); it was not checked` });
        continue;
      }
      const by = excluded(rel, st.isDirectory(), st.isSymbolicLink());
      if (by !== undefined) {
        leftOut.push({ rel, by });
        continue;
      }
      let file: { abs: string; size: number } | undefined;
      if (st.isSymbolicLink()) {
        const end = await linkEnd(abs, rel, linkBase, realLinkBase);
        if ("escaping" in end) facts.escapingLinks.push(end.escaping);
        else if (end.real !== undefined) {
          // Checked under its own name as what it points to, as the engine scans it and Python
          // imports it (a Hugging Face cache snapshot is all links into its blobs).
          const target = await stat(end.real).catch(() => undefined);
          if (target?.isFile()) file = { abs: end.real, size: target.size };
          else if (target?.isDirectory()) facts.linkedFolders.push(rel);
        }
      } else if (st.isDirectory()) {
        if (dir.depth + 1 > REPO_LIMITS.maxDepth) facts.unexamined.push({ rel, why: `folder nesting exceeds ${REPO_LIMITS.maxDepth} levels; "${rel}" was not checked` });
        else pending.push({ abs, rel, depth: dir.depth + 1 });
      } else if (st.isFile()) file = { abs, size: st.size };
      if (file) {
        if (regular.length >= REPO_LIMITS.maxFiles) {
          facts.unexamined.push({ rel, why: `more than ${REPO_LIMITS.maxFiles} files; the rest of the folder was not checked` });
          break walk;
        }
        regular.push({ ...file, rel });
      }
    }
  }
  facts.files = regular.map((f) => localFileFacts(f.abs, f.rel, f.size, walkTextBound(f.rel), textWanted));
  facts.files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return facts;
}

/** Whether the checks need a config's text, given its bytes. */
type TextWanted = (rel: string, bytes: Buffer) => boolean;

/**
 * The facts of one regular local file (opened without following links), read once: a config within
 * `bound` whole (its text decoded when `textWanted` says so), any other file its head.
 */
export function localFileFacts(abs: string, rel: string, size: number, bound: number = REPO_LIMITS.configBytes, textWanted?: TextWanted): RepoFile {
  const bytes = readFileStart(abs, configWithinBound(rel, size, bound) ? bound : REPO_LIMITS.headBytes);
  const file: RepoFile = { rel, size, head: bytes.subarray(0, REPO_LIMITS.headBytes) };
  if (needsText(file, bound) && (textWanted?.(rel, bytes) ?? true)) file.text = bytes.toString("utf8");
  return file;
}

/**
 * What sits beside a file scanned alone that Python started in its folder imports by a loader's
 * module name (source, bytecode, a native module, a package or a link to one): the folder a model is
 * in is where it is loaded from (red team round 35: model.joblib scanned alone beside Helpers.py). `rel`
 * is the file's path as reported; only such names are read, and a link's target never is.
 */
export function besideFileFacts(abs: string, rel: string): Pick<RepoFacts, "files" | "linkedFolders"> {
  const folder = dirname(abs);
  const relFolder = rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/") + 1) : "";
  const found: Pick<RepoFacts, "files" | "linkedFolders"> = { files: [], linkedFolders: [] };
  const named = (abs: string, rel: string): RepoFile => {
    const st = lstatSync(abs);
    return st.isFile() ? localFileFacts(abs, rel, st.size) : { rel, size: 0, head: new Uint8Array(0) };
  };
  for (const entry of listFolder(folder)) {
    const name = entry.name;
    const link = entry.isSymbolicLink();
    if (entry.isDirectory() || (link && statSyncOrUndefined(join(folder, name))?.isDirectory())) {
      if (shadowedModule(name) === undefined) continue;
      if (link) found.linkedFolders.push(relFolder + name);
      else for (const inner of listFolder(join(folder, name))) if (inner.name.startsWith("__init__.") && shadowsByName(`${name}/${inner.name}`)) found.files.push(named(join(folder, name, inner.name), `${relFolder}${name}/${inner.name}`));
    } else if (shadowsByName(name)) found.files.push(named(join(folder, name), relFolder + name));
  }
  return found;
}

function listFolder(path: string): Dirent[] {
  try {
    return readdirSync(path, { withFileTypes: true });
  } catch {
    return [];
  }
}

function statSyncOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/**
 * What the checks read of a config when the engine checks its content (contentChecks false): a
 * loader config (the paths it makes loaders read, the modules it names by layout), and a JSON config
 * whose bytes spell out a key that names code. A tokenizer's megabytes of vocabulary are then
 * neither decoded nor parsed here.
 */
export const textBesideEngine: TextWanted = (rel, bytes) =>
  LOADED_PATH_CONFIGS.test(rel) || (configKind(basename(rel)) === "json" && (CODE_REFERENCE_KEYS.some((key) => bytes.includes(key)) || escapesKeyLetters(bytes)));

const CODE_REFERENCE_KEYS = ['"auto_map"', '"custom_pipelines"', '"auto_mapping"', '"megatron_config"'].map((key) => Buffer.from(key));

/**
 * A \u escape of a character from U+0050 to U+007F, the only escapes that can spell a letter or the
 * underscore of a key loaders act on. A GPT-2 vocabulary's \u0120 (Ġ) does not count.
 */
const ESCAPED_KEY_LETTER = /\\u00[5-7][0-9a-fA-F]/;
const ESCAPE = Buffer.from("\\u00");

/** Whether `bytes` hold an ESCAPED_KEY_LETTER; only the six bytes at each "\u00" are decoded. */
function escapesKeyLetters(bytes: Buffer): boolean {
  for (let at = bytes.indexOf(ESCAPE); at >= 0; at = bytes.indexOf(ESCAPE, at + 1)) {
    if (ESCAPED_KEY_LETTER.test(bytes.toString("latin1", at, at + 6))) return true;
  }
  return false;
}

/**
 * Where a symbolic link leads: outside the root, its target as written or as the OS resolves it
 * (a dangling link written to point outside counts too), or inside it to `real` (undefined when dangling).
 */
async function linkEnd(
  abs: string,
  rel: string,
  base: string,
  realBase: string,
): Promise<{ escaping: RepoFacts["escapingLinks"][number] } | { real: string | undefined }> {
  const target = await readlink(abs);
  const written = resolve(dirname(abs), target);
  const real = await realpath(abs).catch(() => undefined);
  if (isInside(base, written) && (real === undefined || isInside(realBase, real))) return { real };
  return { escaping: { rel, target, ...(real !== undefined && real !== written && { resolved: real }) } };
}

/**
 * Parses the JSON, YAML and Jinja configs: auto_map / custom_pipelines, sentence-transformers and
 * diffusers module references, chat templates, Keras architectures, Hydra targets. Returns the module
 * stems that configs make loaders import (their .py files are loaded code), with why. Without
 * `contentChecks`, only the JSON configs that can name such modules are read, for them alone.
 */
function checkConfigs(files: readonly RepoFile[], report: RepoReporter, callables: CallableOverrides | undefined, contentChecks: boolean, json: JsonOf): Map<string, string> {
  const remoteModules = new Map<string, string>();
  // Without content checks, a config's text is there only when these checks need it (textBesideEngine).
  for (const file of files) {
    const dir = dirname(file.rel);
    const refs: CodeRefSink = (stem, why) => {
      const key = dir === "." ? stem : `${dir}/${stem}`;
      if (!remoteModules.has(key)) remoteModules.set(key, why);
    };
    const name = basename(file.rel);
    if (contentChecks) {
      // TorchModuleWrapper blobs are reported here (MG266); the engine's format scanner also scans their content.
      checkConfigFile(name, file.size, file.head, file.text, fileSink(file.rel, report, callables), refs, () => json(file));
    } else if (file.text !== undefined && configKind(name) === "json" && file.size <= REPO_LIMITS.configBytes && !isLfsPointer(file.head)) {
      // A shard index's text is there for checkLoadedPaths: it names code only by a key such as auto_map.
      if (/\.index\.json$/i.test(name) && actionKeyIn(file.text) === undefined) continue;
      const parsed = json(file);
      if ("value" in parsed) checkCodeReferences(parsed.value, name, fileSink(file.rel, () => undefined, callables), refs);
    }
  }
  return remoteModules;
}

/**
 * A JSON or YAML config the engine scans (given alone, or a file of a folder, repository or archive):
 * the config's own checks, and the torch.save blobs of Keras TorchModuleWrapper layers as members.
 * What needs the rest of the folder (which Python files a config makes loaders import) stays with
 * the repository checks.
 */
export const scanModelConfig: FormatScanner = async (source: ByteSource, ctx: ScanContext) => {
  const head = await source.read(0, Math.min(source.size, REPO_LIMITS.headBytes));
  const text = source.size <= REPO_LIMITS.configBytes ? Buffer.from(await source.read(0, source.size)).toString("utf8") : undefined;
  await scanTorchModuleBlobs(checkConfigFile(ctx.name, source.size, head, text, ctx, () => undefined), ctx);
  // A JSON too large to parse is passed over as a vocabulary, unless it names what loaders act on.
  if (text === undefined && configKind(ctx.name) === "json" && !LOADER_CONFIGS.has(ctx.name)) {
    const key = await findKey(source, ACTION_KEYS);
    if (key) ctx.report("MG278", `${ctx.name} is ${source.size} bytes, over the ${REPO_LIMITS.configBytes}-byte bound, and holds ${key}; it was not checked`, { evidence: key });
  }
};

/** Keys that make a JSON file something loaders act on (templates, code references, Hydra targets); none is a common vocabulary token. */
const ACTION_KEY_NAMES = ['"chat_template"', '"auto_map"', '"custom_pipelines"', '"_target_"'];
const ACTION_KEYS = ACTION_KEY_NAMES.map((k) => Buffer.from(k));

/** The first of ACTION_KEY_NAMES `text` spells out, or "an escaped key" when a \u escape could spell one. */
function actionKeyIn(text: string): string | undefined {
  return ACTION_KEY_NAMES.find((k) => text.includes(k)) ?? (ESCAPED_KEY_LETTER.test(text) ? "an escaped key" : undefined);
}
/** Bytes of a large JSON searched for ACTION_KEYS (CWE-400); past it, the file is reported as not checked. */
const KEY_SEARCH_BYTES = 512 * 1024 * 1024;

/**
 * The first of `keys` found in `source` (chunked, overlapping reads), "an escaped key" when a \u
 * escape could spell one (as actionKeyIn), "more than N bytes" past the bound, or undefined.
 */
async function findKey(source: ByteSource, keys: readonly Buffer[]): Promise<string | undefined> {
  const chunk = 4 * 1024 * 1024;
  const overlap = Math.max(...keys.map((k) => k.length));
  for (let at = 0; at < source.size; at += chunk) {
    if (at >= KEY_SEARCH_BYTES) return `more than ${KEY_SEARCH_BYTES} bytes`;
    const bytes = Buffer.from(await source.read(at, Math.min(chunk + overlap, source.size - at)));
    const hit = keys.find((k) => bytes.includes(k));
    if (hit) return hit.toString();
    if (escapesKeyLetters(bytes)) return "an escaped key";
  }
  return undefined;
}

/** A Jinja chat template file (chat_template.jinja, additional_chat_templates/*.jinja): the G1 check. */
export const scanChatTemplateFile: FormatScanner = scanModelConfig;

/**
 * One config or template's own checks (the same for a file of a folder and a file given alone).
 * `text` is undefined when it could not be read. Returns the Keras TorchModuleWrapper blobs found,
 * for a caller that can scan members.
 */
export function checkConfigFile(
  name: string,
  size: number,
  head: Uint8Array,
  text: string | undefined,
  sink: ScanContext,
  refs: CodeRefSink,
  json: () => ParsedJson = () => parseJson(text!),
): TorchModuleBlob[] {
  const kind = configKind(name);
  if (kind === undefined || isLfsPointer(head)) return []; // LFS pointers: reported by checkFileKind
  if (size > REPO_LIMITS.configBytes) {
    // Large JSON in model repos are vocabularies and indexes that no loader instantiates from.
    if (kind !== "json" || LOADER_CONFIGS.has(name)) {
      sink.report("MG278", `configuration is ${size} bytes, over the ${REPO_LIMITS.configBytes}-byte bound; it was not checked`);
    }
    return [];
  }
  if (text === undefined) {
    sink.report("MG278", `${name} could not be read; it was not checked`);
    return [];
  }
  if (kind === "template") {
    if (readsAsTemplate(name, text)) runTemplateCheck(text, sink, name);
  }
  else if (kind === "json") return checkJsonConfig(json(), name, sink, refs);
  else checkYamlTemplates(checkHydraTargets(text, sink), name, sink);
  return [];
}

/** chat_template values in a YAML config (a serving or training config carrying the template) get the template check. */
function checkYamlTemplates(documents: readonly unknown[], name: string, sink: ScanContext): void {
  for (const value of documents) for (const t of findChatTemplates(value, name, sink)) runTemplateCheck(t.text, sink, t.where);
}

function checkJsonConfig(parsed: ParsedJson, name: string, sink: ScanContext, refs: CodeRefSink): TorchModuleBlob[] {
  if ("overBound" in parsed) {
    // As for size: a dataset in JSON Lines is not a config, unless it spells out what loaders act on.
    if (LOADER_CONFIGS.has(name) || parsed.actionKey !== undefined) {
      const holding = parsed.actionKey !== undefined ? `, holds ${parsed.actionKey}` : "";
      sink.report("MG278", `${name} holds more than ${LIMITS.jsonMaxContainers} objects and lists${holding}; it was not parsed or checked`);
    }
    return [];
  }
  if ("error" in parsed) {
    // Not JSON to Python either: a loader fails on it too, unless it reads the file by another name than we know.
    if (LOADER_CONFIGS.has(name) || parsed.actionKey !== undefined) {
      const holding = parsed.actionKey !== undefined ? `, and holds ${parsed.actionKey}` : "";
      sink.report("MG278", `${name} is not valid JSON (${errorText(parsed.error)})${holding}; it was not checked`);
    }
    return [];
  }
  const value = parsed.value;
  checkLoaderModules(value, name, sink, refs);
  checkCrossEncoderActivation(value, sink);
  checkPeftConfig(value, sink, refs);
  for (const t of findChatTemplates(value, name, sink)) runTemplateCheck(t.text, sink, t.where);
  // Keras opens a model folder's config.json whatever its shape; another name holds a model when it is one (model_from_json).
  const keras = name.toLowerCase() === "config.json" ? holdsKerasArchitecture(value) : isKerasArchitecture(value);
  const blobs = keras ? walkKerasConfig(value, sink, name) : [];
  for (const { at, config } of embeddedKerasConfigs(value)) blobs.push(...walkKerasConfig(config, sink, `${name} ${at}`));
  if (isRecord(value)) checkRemoteCode(value, name, sink, refs);
  walkTargets(value, sink);
  return blobs;
}

/** String values walked for an embedded Keras config, and the most parsed (CWE-400). */
const MAX_EMBEDDED_WALK = 100_000;
const MAX_EMBEDDED_CONFIGS = 16;

/**
 * Keras configs kept as JSON text inside a string: Keras 3's Orbax checkpoints store the model's
 * config so (model_config/_strings.json: {"config": "<json>"}), and load_model builds it as it builds
 * a .keras file's (red team round 26: a Lambda there).
 */
function embeddedKerasConfigs(root: unknown): { at: string; config: unknown }[] {
  const found: { at: string; config: unknown }[] = [];
  walkConfig(root, MAX_EMBEDDED_WALK, (_node, key, v) => {
    if (found.length >= MAX_EMBEDDED_CONFIGS) return false;
    if (typeof v !== "string" || !v.includes('"class_name"') || !/^\s*[[{]/.test(v)) return true;
    try {
      const config: unknown = JSON.parse(v);
      if (holdsKerasArchitecture(config)) found.push({ at: `"${key}"`, config });
    } catch {
      // Not JSON: text that happens to mention class_name.
    }
    return true;
  });
  return found;
}

/** The checks of a JSON config that name repository code loaders import (each module also goes to `refs`). */
function checkCodeReferences(value: unknown, name: string, sink: ScanContext, refs: CodeRefSink): void {
  checkLoaderModules(value, name, sink, refs);
  checkPeftConfig(value, sink, refs);
  if (isRecord(value)) checkRemoteCode(value, name, sink, refs);
}

/** The configs that name modules by the loader's own layout: sentence-transformers modules and routes, diffusers components. */
function checkLoaderModules(value: unknown, name: string, sink: ScanContext, refs: CodeRefSink): void {
  // A case-insensitive file system opens MODULES.json when a loader asks for modules.json.
  const lower = name.toLowerCase();
  if (lower === "modules.json") checkSentenceTransformerModules(value, sink, refs);
  else if (lower === "model_index.json") checkDiffusersIndex(value, sink, refs);
  else if (lower === "modular_model_index.json") checkDiffusersModularIndex(value, sink);
  else if (lower === "router_config.json" || (lower === "config.json" && isRouterConfig(value))) checkSentenceTransformerRouter(value, sink, refs);
}

/** `auto_map` (transformers' trust_remote_code classes) and `custom_pipelines` name Python modules to import. */
function checkRemoteCode(config: Record<string, unknown>, name: string, sink: FindingSink, remoteModules: CodeRefSink): void {
  for (const key of ["auto_map", "custom_pipelines"]) {
    const refs = Object.hasOwn(config, key) ? classReferences(config[key]) : [];
    if (refs.length === 0) continue;
    const modules = [...new Set(refs.map(moduleFile))];
    for (const ref of refs) remoteModules(moduleStem(ref), `${key} makes loaders import it (trust_remote_code)`);
    sink.report("MG270", `${name} "${key}" makes loaders import repository code (trust_remote_code): ${modules.join(", ")}`, {
      evidence: refs.slice(0, 20).join(", "),
    });
  }
}

/** Every "module.Class" string inside an auto_map/custom_pipelines value (strings, lists, nested objects). */
function classReferences(value: unknown): string[] {
  const out: string[] = [];
  const pending = [value];
  for (let seen = 0; pending.length > 0 && seen < REPO_LIMITS.configNodes; seen++) {
    const v = pending.pop();
    if (typeof v === "string" && v.includes(".")) out.push(v);
    else if (Array.isArray(v)) pending.push(...v);
    else if (isRecord(v)) pending.push(...Object.values(v));
  }
  return out;
}

/** "org/repo--modeling_x.Cls" → "modeling_x.py from org/repo"; "modeling_x.Cls" → "modeling_x.py". */
function moduleFile(ref: string): string {
  const at = ref.indexOf("--");
  const file = `${moduleStem(ref)}.py`;
  return at >= 0 ? `${file} from ${ref.slice(0, at)}` : file;
}

function moduleStem(ref: string): string {
  const local = ref.includes("--") ? ref.slice(ref.indexOf("--") + 2) : ref;
  return local.slice(0, Math.max(0, local.lastIndexOf(".")));
}

/** An error in the template checker must not end as a silent pass (X1). */
function runTemplateCheck(template: string, sink: ScanContext, where: string): void {
  try {
    checkChatTemplate(template, sink, where);
  } catch (err) {
    sink.report("MG160", `the chat template check failed on ${where}: ${errorText(err)}`);
  }
}

/** A YAML member of an archive (NeMo's model_config.yaml inside a .nemo tar): its Hydra targets are checked. */
export async function scanYamlMember(source: ByteSource, ctx: ScanContext): Promise<void> {
  if (source.size > REPO_LIMITS.configBytes) {
    ctx.report("MG278", `YAML config is ${source.size} bytes, over the ${REPO_LIMITS.configBytes}-byte bound; it was not checked`);
    return;
  }
  checkYamlTemplates(checkHydraTargets(Buffer.from(await source.read(0, source.size)).toString("utf8"), ctx), ctx.name, ctx);
}

/** Is this the name of a YAML file? */
export function isYamlName(name: string): boolean {
  return YAML_EXTENSIONS.has(extname(name).toLowerCase());
}

const yaml = onFirstUse<typeof import("yaml")>("yaml");

/**
 * Checks the `_target_` callables of a Hydra/OmegaConf YAML config (NeMo's model_config.yaml,
 * Hydra configs): each is judged by the pickle rules, since hydra.utils.instantiate imports and
 * calls it (CVE-2025-23304). Also reports python/* tags, which PyYAML's unsafe loaders execute.
 * Returns the documents it could expand, for the checks that read values (chat templates).
 */
export function checkHydraTargets(text: string, sink: FindingSink): unknown[] {
  const { parseAllDocuments } = yaml();
  const yamlText = withPyYamlBreaks(text);
  if (yamlText.length > REPO_LIMITS.configBytes) {
    sink.report("MG278", `YAML config is ${yamlText.length} characters, over the ${REPO_LIMITS.configBytes} bound; it was not checked`);
    return [];
  }
  if (yamlIndicatorsOver(yamlText, REPO_LIMITS.yamlIndicators)) {
    sink.report("MG278", `YAML config has more than ${REPO_LIMITS.yamlIndicators} line breaks and indicators (-?:[{,), each of which can start a value; it was not parsed or checked`);
    return [];
  }
  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    docs = parseAllDocuments(yamlText, { prettyErrors: false, uniqueKeys: false });
  } catch (err) {
    sink.report("MG278", `YAML config could not be parsed (${errorText(err)}); it was not checked`);
    return [];
  }
  const documents: unknown[] = [];
  for (const doc of Array.isArray(docs) ? docs : []) {
    if (doc.errors.length > 0) {
      sink.report("MG278", `YAML config is malformed (${doc.errors[0]!.message.split("\n")[0]}); what parsed was checked`);
    }
    reportPythonTags(doc, sink);
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: REPO_LIMITS.yamlAliases });
    } catch (err) {
      sink.report("MG278", `YAML config could not be expanded (${errorText(err)}); it was not checked`);
      continue;
    }
    walkTargets(value, sink);
    documents.push(value);
  }
  return documents;
}

/**
 * Reports the python tags PyYAML's unsafe loaders act on, one finding per severity: each tag is
 * judged by the pickle rules (src/repo/yamlTags.ts), so an allowlisted class Lightning writes into
 * hparams.yaml (argparse.Namespace) is recorded as low while os.system stays critical.
 */
function reportPythonTags(doc: Document<Node, boolean>, sink: FindingSink): void {
  const bySeverity = new Map<Severity, TagVerdict[]>();
  for (const verdict of judgePythonTags(doc, sink.callables)) {
    const group = bySeverity.get(verdict.severity);
    if (group) group.push(verdict);
    else bySeverity.set(verdict.severity, [verdict]);
  }
  for (const [severity, verdicts] of [...bySeverity].sort(([a], [b]) => severityRank(b) - severityRank(a))) {
    const texts = [...new Set(verdicts.map((v) => v.text))];
    const shown = texts.length > MAX_TAG_TEXTS ? [...texts.slice(0, MAX_TAG_TEXTS), `${texts.length - MAX_TAG_TEXTS} more`] : texts;
    sink.report("MG279", `YAML python tags that PyYAML's unsafe loaders act on: ${shown.join("; ")}`, {
      evidence: [...new Set(verdicts.map((v) => v.tag))].slice(0, MAX_TAG_TEXTS).join(", "),
      severity,
    });
  }
}

/** Distinct tag judgements listed in one finding. */
const MAX_TAG_TEXTS = 8;

/** Finds every `_target_` in a parsed config; shared (aliased) subtrees are visited once. */
function walkTargets(root: unknown, sink: FindingSink): void {
  const complete = walkConfig(root, REPO_LIMITS.configNodes, (node, key, value) => {
    if (key === "_target_") judgeTarget(value, `${stepsTo(node).map((step) => (typeof step === "number" ? `[${step}]` : `.${step}`)).join("")}._target_`, sink);
    return true;
  });
  if (!complete) sink.report("MG278", `config has more than ${REPO_LIMITS.configNodes} values; the rest was not checked for _target_`);
}

function judgeTarget(target: unknown, at: string, sink: FindingSink): void {
  if (typeof target !== "string") {
    sink.report("MG277", `${at} is not a dotted name (${typeof target}); what it instantiates is unknown`);
    return;
  }
  const dot = target.lastIndexOf(".");
  const module = target.slice(0, Math.max(0, dot));
  const name = target.slice(dot + 1);
  const verdict = dot > 0 ? judge(module, name, { torchscript: false, overrides: sink.callables }) : { kind: "unknown" as const };
  const evidence = `${at}: ${target}`;
  if (verdict.kind === "deny" || verdict.kind === "walk") {
    const why = verdict.kind === "deny" ? verdict.entry.reason : `walks attributes${verdict.entry ? ` to something that ${verdict.entry.reason}` : ""}`;
    sink.report("MG276", `config instantiates ${target} (${why})`, { evidence });
  } else if (verdict.kind === "unknown" && !definedUnder(module, name)) {
    sink.report("MG277", `config instantiates ${target}, which is not known to be safe`, { evidence });
  }
}

/** LFS pointers, executables, scripts and Python code, by content first and extension second. */
function checkFileKind(file: RepoFile, remoteModules: ReadonlyMap<string, string>, packages: readonly string[], models: ReadonlySet<string>, report: RepoReporter): void {
  const ext = extname(file.rel).toLowerCase();
  if (isLfsPointer(file.head)) {
    report("MG275", `"${file.rel}" is a Git LFS pointer: the weights were not scanned (fetch the LFS object and scan again)`, file.rel, {
      evidence: firstLines(file.head, 3),
    });
    return;
  }
  if (PYTHON_CODE.has(ext)) {
    const stem = file.rel.slice(0, -ext.length);
    const reason =
      importedAs(stem, remoteModules) ??
      // Python 3 never imports .pyo files.
      (ext === ".pyo" ? undefined : shadowedLibrary(stem, models)) ??
      importedByName(file.rel) ??
      (isPackagedModule(file.rel, packages) ? PACKAGED_MODULE_RISK : undefined) ??
      (remoteModules.size > 0 && REMOTE_CODE_MODULE.test(basename(stem)) ? "auto_map makes loaders import it (trust_remote_code)" : undefined);
    report("MG271", `"${file.rel}" is Python code${reason ? `; ${reason}` : ""}`, file.rel, reason ? { severity: "high" } : {});
    return;
  }
  const content = executableKind(file.head);
  const kind = content ?? (SCRIPT_EXTENSIONS.has(ext) ? `${ext} script` : undefined);
  if (!kind) return;
  // A native module a config makes loaders import (auto_map: modeling_x.cpython-311-x86_64-linux-gnu.so) runs at load: high.
  // Any other script or executable is only run by someone who runs it: low, so ordinary repositories pass.
  const name = basename(file.rel);
  const dot = name.indexOf(".");
  const stem = dot > 0 ? file.rel.slice(0, file.rel.length - name.length + dot) : file.rel;
  // Python imports a native library by name too (numpy.cpython-311-x86_64-linux-gnu.so); a script it does not.
  const importable = content !== undefined && !content.startsWith("script");
  const reason = importedAs(stem, remoteModules) ?? (importable ? shadowedLibrary(stem, models) : undefined);
  report("MG272", `"${file.rel}" is a ${kind}${reason ? `; ${reason}` : ""}`, file.rel, { evidence: kind, ...(reason && { severity: "high" }) });
}

/** Why loaders import the module at `stem` (a path without extension), when a config names it. */
function importedAs(stem: string, remoteModules: ReadonlyMap<string, string>): string | undefined {
  return remoteModules.get(stem) ?? remoteModules.get(basename(stem));
}

/** A pickle weight file in a folder that also has safetensors weights. */
function checkPickleBesideSafetensors(files: readonly RepoFile[], report: RepoReporter): void {
  // By content: a pickle disguised under a .safetensors name is no alternative (the engine reports it).
  const withSafetensors = new Set(files.filter((f) => f.rel.endsWith(".safetensors") && sniffSafetensors(f.head, f.size)).map((f) => dirname(f.rel)));
  for (const file of files) {
    if (PICKLE_WEIGHTS.test(basename(file.rel)) && withSafetensors.has(dirname(file.rel))) {
      report("MG274", `"${file.rel}" is a pickle-format weight file beside safetensors weights; prefer the safetensors file`, file.rel);
    }
  }
}

/** A ScanContext that forwards findings for one repository file (the template checker takes a ScanContext). */
function fileSink(path: string, report: RepoReporter, callables: CallableOverrides | undefined, member?: string): ScanContext {
  const where = member === undefined ? path : `${path} > ${member}`;
  return {
    path,
    member,
    name: basename(member ?? path),
    depth: 0,
    budget: { decompressedBytes: 0 },
    callables,
    report: (rule, message, extra) => report(rule, message, where, extra),
    scanMember: () => Promise.reject(new Error("repository checks do not scan members; the engine scans files")),
    memberContext: (m) => fileSink(path, report, callables, member === undefined ? m : `${member} > ${m}`),
    refineFormat: () => undefined,
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function firstLine(b: Buffer): string {
  return firstLines(b, 1).slice(0, 120);
}

function firstLines(b: Uint8Array, n: number): string {
  return Buffer.from(b.buffer, b.byteOffset, Math.min(b.byteLength, 512)).toString("utf8").split("\n").slice(0, n).join("\\n");
}

