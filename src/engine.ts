/**
 * Drives a scan: targets → files → sniff → format scanners → findings. The engine reports findings
 * only; the policy layer (src/policy/decide.ts) alone turns them into verdicts and the report.
 */
import { basename } from "node:path";
import { extensionMismatch } from "./extensions.js";
import { warmHdf5Reader } from "./formats/hdf5Client.js";
import type { ReportExtra, ScanBudget, ScanContext } from "./formats/context.js";
import { SCANNERS } from "./formats/index.js";
import { LIMITS } from "./limits.js";
import type { CallableOverrides } from "./pickle/judge.js";
import { isYamlName, scanYamlMember } from "./repo/checks.js";
import { RULES, type RuleId } from "./rules/catalogue.js";
import { sniff } from "./sniff.js";
import { FileSource, type ByteSource, type ReadCounter } from "./sources/byteSource.js";
import type { HttpSource } from "./sources/http.js";
import type { ExclusionOptions } from "./exclusions.js";
import { decideFile, decideReport, type ScannedFiles } from "./policy/decide.js";
import { defaultPolicy, type Policy } from "./policy/policy.js";
import { ScanThreads, threadsFor, threadsPayOff } from "./scanThreads.js";
import { collectTargets, type FileTarget, type RemoteOptions, type RemoteTarget, type RepoNote, type ScanTarget } from "./targets.js";
import { severityRank, failedScan, type FileResult, type Finding, type Format, type ScanReport, type ScannedFile, type Severity, type Threshold } from "./types.js";
import { errorText } from "./errors.js";

export interface ScanProgress {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  current?: string;
}

export interface ScanOptions {
  /** Findings at or above this severity block (default "medium"); ignored when `policy` is given. */
  failOn?: Threshold;
  /** The policy that decides (default: the built-in policy with `failOn`). */
  policy?: Policy;
  /** What folder walks leave out: default folders, --exclude/--include patterns, .modelgateignore. */
  exclusions?: ExclusionOptions;
  onProgress?: (progress: ScanProgress) => void;
  /** The organisation's allowed and denied pickle callables (policy file). */
  callables?: CallableOverrides;
  /** Results of files unchanged since an earlier scan (--cache): they are not analysed again. */
  cache?: ResultCache;
  /** Files scanned at once, local or remote (default 4). */
  jobs?: number;
  /**
   * Worker threads that analyse local files beside the calling thread, from the start. By default,
   * one fewer than `jobs` and two fewer than the cores (threadsFor), joining only a scan that proves
   * long (threadsPayOff); 0 keeps every analysis on the calling thread.
   */
  threads?: number;
  /** Tokens, hub endpoint, timeouts and retries for URLs and `hf://` repositories. */
  remote?: RemoteOptions;
  /** A Hugging Face cache folder to scan as well (--hf-cache). */
  hfCache?: string;
}

/** Remembers results by file identity; src/policy/cache.ts keeps one in a file. */
export interface ResultCache {
  /** The stored result when the file, its repository findings and the analysis are unchanged. */
  get(target: FileTarget, notes: readonly RepoNote[]): Promise<ScannedFile | undefined>;
  set(target: FileTarget, notes: readonly RepoNote[], result: ScannedFile): Promise<void>;
}

export { UsageError } from "./errors.js";

/** Files scanned at once by default: enough to overlap I/O with analysis, local or remote. */
const DEFAULT_JOBS = 4;

/**
 * Scans files and folders (recursively; folders also get the repository checks), `http(s)://` URLs
 * and `hf://` repositories, and the Hugging Face cache when `hfCache` is set, and decides them under
 * `policy` (default: the built-in policy with `failOn`). Throws UsageError for a path that does not
 * exist or a repository the hub does not show.
 */
export async function scanPaths(paths: string[], options: ScanOptions = {}): Promise<ScanReport> {
  return decideReport(await scanTargets(paths, options), options.policy ?? defaultPolicy(options.failOn));
}

/** Scans what scanPaths scans and returns the findings only, for the policy layer to decide (decideReport). */
export async function scanTargets(paths: string[], options: Omit<ScanOptions, "failOn" | "policy"> = {}): Promise<ScannedFiles> {
  const started = performance.now();
  const jobs = options.jobs ?? DEFAULT_JOBS;
  const collected = await collectTargets(paths, {
    remote: options.remote,
    hfCache: options.hfCache,
    jobs,
    callables: options.callables,
    exclusions: options.exclusions,
  });
  const targets: ScanTarget[] = [...collected.files, ...collected.remote];
  // Loading libhdf5 takes a tenth of a second or more: begun now, it overlaps the files before the first HDF5 one.
  if (collected.hdf5Ahead) warmHdf5Reader();
  const notes = collected.notes;
  // URLs learn their size when opened; the total grows as they are.
  let bytesTotal = targets.reduce((n, t) => n + t.size, 0);
  const results: ScannedFile[] = new Array(targets.length);
  const local = collected.files.length;
  const startThreads = (count: number): ScanThreads | undefined => (count > 0 ? new ScanThreads(count, scanFileFindings) : undefined);
  // Asked for, threads start with the scan; by default they join it once it proves long enough (threadsPayOff).
  let threads = options.threads === undefined ? undefined : startThreads(threadsFor(local, jobs, options.threads));
  let threadsDecided = options.threads !== undefined;
  const scanStarted = performance.now();
  let next = 0;
  let filesDone = 0;
  let localDone = 0;
  let bytesDone = 0;
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const i = next++;
      const t = targets[i]!;
      if (!threadsDecided && i < local && threadsPayOff(performance.now() - scanStarted, localDone, local - i)) {
        threadsDecided = true;
        threads = startThreads(threadsFor(local - i, jobs));
      }
      options.onProgress?.({ filesDone, filesTotal: targets.length, bytesDone, bytesTotal, current: t.display });
      const fileNotes = notes.get(t.display) ?? [];
      let result: ScannedFile | undefined;
      if ("open" in t) result = await scanRemote(t, { notes: fileNotes, callables: options.callables });
      else if (t.unscannable !== undefined) result = failedScan(t.display, t.unscannable);
      else {
        result = await options.cache?.get(t, fileNotes);
        if (!result) {
          const fileOptions = { notes: fileNotes, callables: options.callables };
          result = threads ? await threads.scanFile(t.path, t.display, fileOptions) : await scanFileFindings(t.path, t.display, fileOptions);
          await options.cache?.set(t, fileNotes, result);
        }
        if (t.origin) result.source = t.origin;
        localDone++;
      }
      results[i] = result;
      filesDone++;
      bytesDone += result.size;
      bytesTotal += result.size - t.size;
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(jobs, targets.length) }, worker));
  } finally {
    await threads?.close();
  }
  options.onProgress?.({ filesDone, filesTotal: targets.length, bytesDone, bytesTotal });
  const scanned = new Set(targets.map((t) => t.display));
  for (const [path, list] of notes) if (!scanned.has(path)) results.push(unscannedResult(path, list));
  return { files: results, excluded: collected.excluded, durationMs: performance.now() - started };
}

export interface FileScanOptions {
  /** Findings at or above this severity block (default "medium"); ignored when `policy` is given. */
  failOn?: Threshold;
  /** The policy that decides (default: the built-in policy with `failOn`). */
  policy?: Policy;
  /** Repository findings about this file, reported with its own. */
  notes?: readonly RepoNote[];
  callables?: CallableOverrides | undefined;
}

/** What a single file's decision cannot know: no siblings were scanned with it. */
const LONE_FILE = { safetensorsFolders: new Set<string>() };

/** Scans one local file and decides it. `displayPath` is what reports show. */
export async function scanFile(path: string, displayPath: string, options: FileScanOptions = {}): Promise<FileResult> {
  return decideFile(await scanFileFindings(path, displayPath, options), options.policy ?? defaultPolicy(options.failOn), LONE_FILE);
}

/** Scans one local file: its findings only, for the policy layer to decide. `displayPath` is what reports show. */
export async function scanFileFindings(path: string, displayPath: string, options: Pick<FileScanOptions, "notes" | "callables"> = {}): Promise<ScannedFile> {
  let source: FileSource;
  try {
    source = await FileSource.open(path, displayPath);
  } catch (err) {
    return failedScan(displayPath, errorText(err));
  }
  try {
    return await scanSourceFindings(source, displayPath, options);
  } finally {
    await source.close();
  }
}

/**
 * Scans a file over HTTP. A transfer that failed (after retries) makes the result an error, even when
 * the formats swallowed the failed read: what was not read was not analysed.
 */
async function scanRemote(target: RemoteTarget, options: Pick<FileScanOptions, "notes" | "callables">): Promise<ScannedFile> {
  let source: HttpSource;
  try {
    source = await target.open();
  } catch (err) {
    return { ...failedScan(target.display, errorText(err)), source: target.origin(undefined) };
  }
  const result = await scanSourceFindings(source, target.display, options);
  if (source.failure !== undefined) {
    result.error = source.failure;
    delete result.skipped;
  }
  result.source = target.origin(source);
  await hashHubFile(result, source);
  return result;
}

/** A hub file's sha256, so it can be pinned; a failed read leaves it without one (`lock` then refuses it). */
async function hashHubFile(result: ScannedFile, source: HttpSource): Promise<void> {
  if (result.source?.kind !== "hub" || result.error !== undefined) return;
  const { hubFileSha256 } = await import("./remote/hub.js");
  const sha256 = await hubFileSha256({ size: source.size, lfsSha256: result.source.lfsSha256 }, source).catch(() => undefined);
  if (sha256 !== undefined && source.failure === undefined) result.sha256 = sha256;
  result.bytesRead = source.bytesRead;
}

/**
 * Scans the content of any byte source (a local file, an HTTP resource) as a top-level file and
 * decides it. `displayPath` is what reports show and, by its base name, what extension checks compare with.
 */
export async function scanSource(source: ByteSource & ReadCounter, displayPath: string, options: FileScanOptions = {}): Promise<FileResult> {
  return decideFile(await scanSourceFindings(source, displayPath, options), options.policy ?? defaultPolicy(options.failOn), LONE_FILE);
}

async function scanSourceFindings(source: ByteSource & ReadCounter, displayPath: string, options: Pick<FileScanOptions, "notes" | "callables">): Promise<ScannedFile> {
  const file = new FileScan(displayPath, options.notes, options.callables);
  let format: Format = "unknown";
  try {
    const top = new LayerContext(file, undefined, basename(displayPath), 0);
    format = await scanContent(source, top);
    const amplified = amplification(file.budget.decompressedBytes, source.size);
    if (amplified) file.add("MG140", amplified, undefined, undefined, {});
  } catch (err) {
    file.add("MG160", `the scan failed: ${errorText(err)}`, undefined, undefined, {});
  }
  const findings = file.finish();
  const result: ScannedFile = { path: displayPath, format: file.refined ?? format, size: source.size, findings, bytesRead: source.bytesRead };
  if (format === "unknown" && findings.length === 0) result.skipped = "content is not a recognised model format";
  return result;
}

/**
 * Layers that each stay under the ratio bound can still inflate a small file to gigabytes (red team
 * round 24: three deflated storages at 865:1, 3.3 GB from 3.6 MB, which torch.load allocates): the
 * file's whole inflation is bounded against its size too. Undefined when it is not amplified.
 */
export function amplification(inflated: number, size: number): string | undefined {
  if (inflated <= LIMITS.amplifiedBytes || inflated <= LIMITS.maxAmplification * Math.max(1, size)) return undefined;
  return `its compressed layers inflate to ${inflated} bytes, ${Math.floor(inflated / Math.max(1, size))} times its own ${size}: loaders that inflate them allocate as much (a decompression bomb)`;
}

/** A link or folder that the repository checks reported but that is not a file the scan read. */
function unscannedResult(path: string, notes: readonly RepoNote[]): ScannedFile {
  return { path, format: "unknown", size: 0, findings: new FileScan(path, notes).finish(), bytesRead: 0 };
}

/** Sniffs a layer and hands it to its scanner (and to every other reading of a polyglot). */
async function scanContent(source: ByteSource, ctx: LayerContext, fallback?: Exclude<Format, "unknown">): Promise<Format> {
  const sniffed = await sniff(source, { name: ctx.name, topLevel: ctx.depth === 0 });
  if (sniffed.format === "unknown" && fallback) sniffed.format = fallback;
  const scanner = sniffed.format === "unknown" ? undefined : SCANNERS[sniffed.format];
  // Checked against what the scanner refined the content to (a zip holding a Keras model is keras-v3).
  const checkName = (): void => {
    const format = ctx.refined ?? sniffed.format;
    const mismatch = extensionMismatch(ctx.name, format);
    if (mismatch) ctx.report("MG130", `named ${mismatch.extension} but the content is ${format}`, { severity: mismatch.severity });
  };
  if (!scanner) {
    checkName();
    // Folders get this from the repository checks; archive members (.nemo) only here.
    if (sniffed.format === "unknown" && ctx.depth > 0 && isYamlName(ctx.name)) await scanYamlMember(source, ctx);
    return "unknown";
  }
  await scanner(source, ctx);
  checkName();
  for (const other of sniffed.alsoValidAs) {
    ctx.report("MG131", `the content is a valid ${sniffed.format} and also a valid ${other}; both readings were scanned`);
    await SCANNERS[other]?.(source, ctx);
  }
  return sniffed.format;
}

/** Findings of one top-level file, capped per rule so a hostile file cannot flood the report. */
class FileScan {
  readonly budget: ScanBudget = { decompressedBytes: 0 };
  /** Members scanned in all its layers: each archive's own bound multiplies through nesting (see scanMember). */
  membersScanned = 0;
  refined: Format | undefined;
  private readonly findings: Finding[] = [];
  private readonly perRule = new Map<RuleId, { kept: Finding[]; dropped: number; worst: Severity }>();

  /** `notes`: repository findings about the file, collected (and capped) with its own. */
  constructor(
    readonly path: string,
    notes: readonly RepoNote[] = [],
    readonly callables?: CallableOverrides,
  ) {
    for (const n of notes) this.add(n.rule, n.message, n.member, n.extra.offset, n.extra);
  }

  add(rule: RuleId, message: string, member: string | undefined, offset: number | undefined, extra: ReportExtra): void {
    const severity = extra.severity ?? RULES[rule].severity;
    let tally = this.perRule.get(rule);
    if (!tally) this.perRule.set(rule, (tally = { kept: [], dropped: 0, worst: severity }));
    if (severityRank(severity) > severityRank(tally.worst)) tally.worst = severity;
    if (tally.kept.length >= LIMITS.findingsPerRule) {
      tally.dropped++;
      return;
    }
    const finding: Finding = {
      rule,
      severity,
      message,
      location: { path: this.path, ...(member !== undefined && { member }), ...(offset !== undefined && { offset }) },
      ...(extra.evidence !== undefined && { evidence: extra.evidence }),
      reference: RULES[rule].reference,
    };
    tally.kept.push(finding);
    this.findings.push(finding);
  }

  /** Folds dropped findings into the last kept one of their rule, at the worst severity seen. */
  finish(): Finding[] {
    for (const tally of this.perRule.values()) {
      if (tally.dropped === 0) continue;
      const last = tally.kept[tally.kept.length - 1]!;
      last.severity = tally.worst;
      last.message += ` (and ${tally.dropped} more findings of this rule)`;
    }
    return this.findings.sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
  }
}

class LayerContext implements ScanContext {
  constructor(
    private readonly file: FileScan,
    readonly member: string | undefined,
    readonly name: string,
    readonly depth: number,
  ) {}

  get path(): string {
    return this.file.path;
  }

  /** What a container scanner refined this file's format to (top level only: zip → keras-v3). */
  get refined(): Format | undefined {
    return this.depth === 0 ? this.file.refined : undefined;
  }

  get budget(): ScanBudget {
    return this.file.budget;
  }

  get callables(): CallableOverrides | undefined {
    return this.file.callables;
  }

  report(rule: RuleId, message: string, extra: ReportExtra = {}): void {
    this.file.add(rule, message, this.member, extra.offset, extra);
  }

  memberContext(member: string): LayerContext {
    const chain = this.member === undefined ? member : `${this.member} > ${member}`;
    return new LayerContext(this.file, chain, basename(member), this.depth + 1);
  }

  async scanMember(member: string, source: ByteSource, fallback?: Exclude<Format, "unknown">): Promise<void> {
    const child = this.memberContext(member);
    if (child.depth > LIMITS.maxDepth) {
      this.report("MG140", `${member} is nested deeper than ${LIMITS.maxDepth} layers; it was not analysed`);
      return;
    }
    // 78 tars of 99,000 pickles each, in one 16 MB tar, took minutes (red team round 24).
    if (++this.file.membersScanned > LIMITS.maxMembersPerFile) {
      if (this.file.membersScanned === LIMITS.maxMembersPerFile + 1) {
        this.report("MG140", `the file holds more than ${LIMITS.maxMembersPerFile} members in all its layers; ${member} and those after it were not analysed`);
      }
      return;
    }
    try {
      await scanContent(source, child, fallback);
    } catch (err) {
      // One unreadable member must not end the scan of its siblings; it is still never clean.
      child.report("MG160", `the scan of this member failed: ${errorText(err)}`);
    }
  }

  refineFormat(format: Format): void {
    if (this.depth === 0) this.file.refined = format;
  }
}

