/** Which paths of a model folder a signature does not cover: the reference tool's rules, for signing and verifying alike. */
import { isAbsolute, relative, resolve, sep } from "node:path";
import { isInside } from "../paths.js";
import { GIT_PATHS } from "./folder.js";

export interface IgnoreRules {
  /** The signature file: never part of what it signs. */
  signaturePath: string;
  /** Paths as given on the command line: relative to `cwd`, or absolute. Those outside the model are dropped. */
  ignorePaths?: readonly string[];
  /** Leave out .git, .gitattributes, .github, .gitignore (default true, as the reference). */
  ignoreGitPaths?: boolean;
  /** Paths relative to the model that the signer recorded as left out. */
  recorded?: readonly string[];
  /** Where relative paths start (default: the working folder). */
  cwd?: string;
}

/** Model-relative POSIX paths to leave out, in a stable order: signature, given paths, git's files, recorded ones. */
export function ignoredPaths(root: string, rules: IgnoreRules): string[] {
  const cwd = rules.cwd ?? process.cwd();
  const out = new Set<string>();
  const add = (abs: string): void => {
    if (!isInside(root, abs)) return;
    const rel = relative(root, abs).split(sep).join("/");
    if (rel !== "") out.add(rel);
  };
  add(resolve(cwd, rules.signaturePath));
  for (const p of rules.ignorePaths ?? []) add(isAbsolute(p) ? p : resolve(cwd, p));
  if (rules.ignoreGitPaths ?? true) for (const p of GIT_PATHS) out.add(p);
  for (const p of rules.recorded ?? []) add(resolve(root, p));
  return [...out];
}
