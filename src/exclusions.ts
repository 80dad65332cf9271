/**
 * Which paths a folder scan leaves out, and why: VCS metadata and dependency or virtual-env folders
 * by default, `--exclude` patterns and the working folder's `.modelgateignore` (both gitignore
 * syntax), and files that match no `--include` pattern. Every path left out is recorded by the walk
 * and counted in the report, so nothing is dropped silently.
 *
 * The ignore file is the user's, like the policy: it is read from the working folder the caller
 * names (the command line names its own) and applies to the folders scanned inside it. One inside a
 * scanned folder is never read, or a downloaded model could carry a `.modelgateignore` that lists
 * its own payload.
 */
import { open, realpath } from "node:fs/promises";
import { constants } from "node:fs";
import { isAbsolute, join, relative, sep } from "node:path";
import ignore, { type Ignore } from "ignore";
import { UsageError } from "./errors.js";

/** The ignore file read from the working folder. */
export const IGNORE_FILE = ".modelgateignore";

/**
 * Folders skipped by default (`--no-default-excludes` walks them): version-control metadata,
 * installed dependencies, virtual environments and tool caches. No one loads a model from them,
 * and they hold thousands of files with scripts of their own.
 */
export const DEFAULT_EXCLUDED_FOLDERS: ReadonlySet<string> = new Set([
  ".git", ".hg", ".svn", ".bzr",
  "node_modules", "bower_components",
  ".venv", "venv", "site-packages", "dist-packages", "__pycache__",
  ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache",
]);

export interface ExclusionOptions {
  /** Patterns (gitignore syntax) of paths not to scan (--exclude, repeatable). */
  exclude?: readonly string[] | undefined;
  /** Patterns (gitignore syntax): when given, only files matching one are scanned (--include, repeatable). */
  include?: readonly string[] | undefined;
  /** Skip DEFAULT_EXCLUDED_FOLDERS (default true). */
  defaultExcludes?: boolean | undefined;
  /** The folder whose IGNORE_FILE applies, to the scanned folders inside it; without one, no ignore file is read. */
  workingFolder?: string | undefined;
}

/** Largest ignore file read (real ones are a few lines). */
const MAX_IGNORE_FILE_BYTES = 1024 * 1024;

/** What `excludedBy` answers for DEFAULT_EXCLUDED_FOLDERS. */
export const DEFAULT_EXCLUSION = "default";

/** A path the walk left out, relative to the working folder where possible, and what excluded it. */
export interface ExcludedPath {
  path: string;
  /** "default", ".modelgateignore", "--exclude" or "--include". */
  by: string;
  /** True for a folder (everything under it was left out). */
  folder?: boolean;
}

/** The exclusions of one scan root: paths are relative to it, with "/" separators. */
export class PathFilter {
  private constructor(
    private readonly defaults: boolean,
    private readonly ignoreFile: Ignore | undefined,
    /** The root's path below the working folder, "/"-separated and ending in "/" (or ""): the ignore file's patterns are relative to the working folder. */
    private readonly ignorePrefix: string,
    private readonly excludes: Ignore | undefined,
    private readonly includes: Ignore | undefined,
  ) {}

  /**
   * The filter for a folder scanned as `root`: with the working folder's ignore file when the root
   * is that folder or inside it, compared by real paths (a root that is a link to elsewhere is
   * walked whole). A root the ignore file itself lists was named on purpose: it is walked whole, as
   * a file named on the command line is scanned.
   */
  static async forRoot(root: string, options: ExclusionOptions = {}): Promise<PathFilter> {
    let ignoreFile: Ignore | undefined;
    let prefix = "";
    if (options.workingFolder !== undefined) {
      const working = await realpath(options.workingFolder);
      const below = relative(working, await realpath(root));
      if (below !== ".." && !below.startsWith(`..${sep}`) && !isAbsolute(below)) {
        prefix = below === "" ? "" : `${below.split(sep).join("/")}/`;
        const text = await readIgnoreFile(join(working, IGNORE_FILE));
        ignoreFile = text === undefined ? undefined : ignore().add(text);
        if (prefix !== "" && ignoreFile?.ignores(prefix)) ignoreFile = undefined;
      }
    }
    return new PathFilter(
      options.defaultExcludes ?? true,
      ignoreFile,
      prefix,
      patterns(options.exclude),
      patterns(options.include),
    );
  }

  /**
   * Why `rel` is left out, or undefined when it is scanned. A default name leaves out folders and
   * links (a `.venv` linked to an environment elsewhere); a regular file of that name is scanned like
   * any other. Folders are never left out by --include (their files are judged one by one).
   */
  excludedBy(rel: string, isFolder: boolean, isLink = false): string | undefined {
    const name = rel.slice(rel.lastIndexOf("/") + 1);
    if (this.defaults && (isFolder || isLink) && DEFAULT_EXCLUDED_FOLDERS.has(name)) return DEFAULT_EXCLUSION;
    // The ignore package matches a folder only when its path ends with "/".
    const subject = isFolder ? `${rel}/` : rel;
    if (this.ignoreFile?.ignores(this.ignorePrefix + subject)) return IGNORE_FILE;
    if (this.excludes?.ignores(subject)) return "--exclude";
    if (!isFolder && this.includes && !this.includes.ignores(subject)) return "--include";
    return undefined;
  }
}

/** The ignore file's text, or undefined when there is none; one that is not a small regular file is a usage error. */
async function readIgnoreFile(path: string): Promise<string | undefined> {
  // O_NONBLOCK: a FIFO put in its place must not wait for a writer.
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT" || err.code === "ENOTDIR") return undefined;
    throw err;
  });
  if (handle === undefined) return undefined;
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new UsageError(`${path} is not a regular file`);
    if (st.size > MAX_IGNORE_FILE_BYTES) throw new UsageError(`${path} is larger than ${MAX_IGNORE_FILE_BYTES} bytes`);
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}

function patterns(list: readonly string[] | undefined): Ignore | undefined {
  return list === undefined || list.length === 0 ? undefined : ignore().add([...list]);
}
