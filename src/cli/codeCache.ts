/**
 * Start-up from a V8 code cache. Node 20 compiles the CLI's 1.2 MB bundle from source on every
 * start, then compiles each function again the first time it runs; a code cache the build makes
 * (scripts/codeCache.mjs: the bundle run on the built-in examples, then serialised) holds the
 * bytecode of everything that run reached. Node 22 offers this for modules; on Node 20 it takes a
 * CommonJS bundle compiled through node:vm, which is what the `modelgate` launcher does.
 *
 * V8 checks a cache against the length of its source only: given a cache made from other source
 * of the same length it runs the old code. So a cache is stored after a digest of its source and
 * used only for exactly that source; a cache V8 itself rejects (another Node, other flags) costs a
 * compile from source, as without one.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { Script } from "node:vm";

// SHA-1 guards against a stale cache, not an adversary (whoever can write the cache can write the
// bundle beside it), and digests the bundle in about a millisecond, where SHA-256 took ten here.
const DIGEST = "sha1";
const DIGEST_BYTES = 20;

function digestOf(source: string): Buffer {
  return createHash(DIGEST).update(source).digest();
}

/** The code cache stored in `cacheFile` when it was made from exactly `source`; otherwise undefined. */
export function cachedCodeFor(source: string, cacheFile: string): Buffer | undefined {
  let stored: Buffer;
  try {
    stored = readFileSync(cacheFile);
  } catch {
    return undefined; // none built (a bare tsc, or the build could not make one)
  }
  if (stored.length <= DIGEST_BYTES || !stored.subarray(0, DIGEST_BYTES).equals(digestOf(source))) return undefined;
  return stored.subarray(DIGEST_BYTES);
}

/** What to store for `script`, compiled from `source` and run: its code cache after the digest of its source. */
export function cacheToStore(script: Script, source: string): Buffer {
  return Buffer.concat([digestOf(source), script.createCachedData()]);
}

// The wrapper Node gives a CommonJS module, on the source's first line so its line numbers hold.
const WRAPPER_HEAD = "(function (exports, require, module, __filename, __dirname) { ";

/** The CommonJS `source` of `file` compiled in Node's module wrapper, with `cachedData` when given (the script says whether V8 used it). */
export function compileCommonJs(file: string, source: string, cachedData?: Buffer): Script {
  return new Script(`${WRAPPER_HEAD}${source}\n})`, { filename: file, cachedData, columnOffset: -WRAPPER_HEAD.length });
}

/**
 * Compiles the CommonJS `source` of `file` (with `cachedData` when given) and runs it as a module
 * of its own, as Node runs a main module. Returns the script (whose cache can then be taken) and
 * what the module exported.
 */
export function runCommonJs(file: string, source: string, cachedData?: Buffer): { script: Script; exports: unknown } {
  const script = compileCommonJs(file, source, cachedData);
  const module = { exports: {} as unknown, filename: file };
  const wrapped = script.runInThisContext() as (...args: unknown[]) => void;
  wrapped.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  return { script, exports: module.exports };
}
