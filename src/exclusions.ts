/**
 * Which paths a folder scan leaves out, and why: VCS metadata and dependency or virtual-env folders
 * by default, `--exclude` patterns and the working folder's `.modelgateignore` (both gitignore
 * syntax), and files that match no `--include` pattern. Every path left out is recorded by the walk
 * and counted in the report, so nothing is dropped silently.
 *
 * The ignore file is the user's, like the policy: it is read from the working folder and applies to
 * the folders scanned inside it. One inside a scanned folder is never read, or a downloaded model
 * could carry a `.modelgateignore` that lists its own payload.
 */
import { readFile } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import ignore, { type Ignore } from "ignore";

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
  /** The folder whose IGNORE_FILE applies, to the scanned folders inside it (default: the current working folder). */
  workingFolder?: string | undefined;
  /** Read the working folder's IGNORE_FILE (default true; `verify` walks by the exclusions its lock recorded instead). */
  ignoreFile?: boolean | undefined;
}

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
   * The filter for a folder scanned as `root`: with the working folder's ignore file when the root is
   * that folder or inside it (compared as given, so a root reached through a link to elsewhere is
   * walked whole). A root the ignore file itself lists was named on purpose: it is walked whole, as
   * a file named on the command line is scanned.
   */
  static async forRoot(root: string, options: ExclusionOptions = {}): Promise<PathFilter> {
    const working = resolve(options.workingFolder ?? process.cwd());
    const below = relative(working, resolve(root));
    const inside = below !== ".." && !below.startsWith(`..${sep}`) && !isAbsolute(below);
    const prefix = below === "" ? "" : `${below.split(sep).join("/")}/`;
    const text = !inside || options.ignoreFile === false
      ? undefined
      : await readFile(join(working, IGNORE_FILE), "utf8").catch((err: NodeJS.ErrnoException) => {
          if (err.code === "ENOENT" || err.code === "ENOTDIR") return undefined;
          throw err;
        });
    const ignoreFile = text === undefined ? undefined : ignore().add(text);
    return new PathFilter(
      options.defaultExcludes ?? true,
      prefix !== "" && ignoreFile?.ignores(prefix) ? undefined : ignoreFile,
      prefix,
      patterns(options.exclude),
      patterns(options.include),
    );
  }

  /**
   * Why `rel` is left out, or undefined when it is scanned. A default name counts whatever the entry
   * is (a worktree's `.git` is a file); folders are never left out by --include (their files are judged one by one).
   */
  excludedBy(rel: string, isFolder: boolean): string | undefined {
    const name = rel.slice(rel.lastIndexOf("/") + 1);
    if (this.defaults && DEFAULT_EXCLUDED_FOLDERS.has(name)) return DEFAULT_EXCLUSION;
    // The ignore package matches a folder only when its path ends with "/".
    const subject = isFolder ? `${rel}/` : rel;
    if (this.ignoreFile?.ignores(this.ignorePrefix + subject)) return IGNORE_FILE;
    if (this.excludes?.ignores(subject)) return "--exclude";
    if (!isFolder && this.includes && !this.includes.ignores(subject)) return "--include";
    return undefined;
  }
}

function patterns(list: readonly string[] | undefined): Ignore | undefined {
  return list === undefined || list.length === 0 ? undefined : ignore().add([...list]);
}
