/**
 * What a scan covers: the files under the user's paths, and for each folder the repository-level
 * findings (src/repo/checks.ts) keyed by the display path of the file they concern.
 */
import { readdir, realpath, stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative } from "node:path";
import type { ReportExtra } from "./formats/context.js";
import { isInside } from "./paths.js";
import { scanRepository } from "./repo/checks.js";
import type { RuleId } from "./rules/catalogue.js";

export interface FileTarget {
  path: string;
  display: string;
  size: number;
}

/** A repository-level finding about one file (or a link or folder that is not itself scanned). */
export interface RepoNote {
  rule: RuleId;
  message: string;
  member?: string;
  extra: ReportExtra;
}

export interface Targets {
  files: FileTarget[];
  /** Repository findings by display path; some name paths that are not in `files` (links, folders). */
  notes: Map<string, RepoNote[]>;
}

/** Bad input from the user (missing path…): the CLI maps it to exit code 4. */
export class UsageError extends Error {}

export async function collectTargets(paths: readonly string[]): Promise<Targets> {
  const targets: Targets = { files: [], notes: new Map() };
  for (const p of paths) {
    const st = await stat(p).catch(() => undefined);
    if (!st) throw new UsageError(`no such file or directory: ${p}`);
    if (!st.isDirectory()) {
      targets.files.push({ path: p, display: displayPath(p), size: st.size });
      continue;
    }
    const linkRoot = hubCacheRepo(p) ?? p;
    await walk(p, await realpath(linkRoot), targets.files);
    await scanRepository(
      p,
      (rule, message, at, extra = {}) => {
        // Findings inside a file's members come as "file > member".
        const split = at.indexOf(" > ");
        const file = displayPath(join(p, split < 0 ? at : at.slice(0, split)));
        const note: RepoNote = { rule, message, extra, ...(split >= 0 && { member: at.slice(split + 3) }) };
        const list = targets.notes.get(file);
        if (list) list.push(note);
        else targets.notes.set(file, [note]);
      },
      { linkRoot },
    );
  }
  return targets;
}

/**
 * Folders recursively, in name order. Symlinked folders are not followed (no cycles); symlinked
 * files are scanned only when they resolve inside `realRoot` — the repository checks report the
 * others as links that leave the folder.
 */
async function walk(dir: string, realRoot: string, out: FileTarget[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, realRoot, out);
    else if (e.isFile()) out.push({ path: p, display: displayPath(p), size: (await stat(p)).size });
    else if (e.isSymbolicLink()) {
      const real = await realpath(p).catch(() => undefined);
      const st = real !== undefined && isInside(realRoot, real) ? await stat(real).catch(() => undefined) : undefined;
      if (st?.isFile()) out.push({ path: p, display: displayPath(p), size: st.size });
    }
  }
}

/**
 * The Hugging Face cache keeps a snapshot's files as links into the repository's `blobs` folder;
 * for a snapshot folder (`…/models--org--name/snapshots/<rev>`), links may reach that repository folder.
 */
function hubCacheRepo(folder: string): string | undefined {
  const snapshots = dirname(folder);
  const repo = dirname(snapshots);
  return basename(snapshots) === "snapshots" && /^(models|datasets|spaces)--/.test(basename(repo)) ? repo : undefined;
}

/** Paths relative to the working folder where possible, so reports and SARIF are stable across machines. */
export function displayPath(p: string): string {
  if (!isAbsolute(p)) return p;
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : p;
}
