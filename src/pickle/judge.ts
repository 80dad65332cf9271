/**
 * Judges one imported name: the organisation's own lists first, then the generated allowlist
 * (exact names only), then attribute walks and the denylist (which only sets how loud);
 * anything else is unknown, and an unknown name can run code when invoked.
 */
import { own } from "../own.js";
import { allowEntry, allowlistIndex, type AllowEntry } from "../rules/allowlist.js";
import { DENY_MODULES, DENY_NAMES, TORCHSCRIPT_CLASS_PREFIX, type DenyEntry } from "../rules/callables.js";
import type { GlobalRef } from "./values.js";

export type Judgement =
  | { kind: "allow"; entry?: AllowEntry }
  | { kind: "deny"; entry: DenyEntry; matched: string }
  /** A dotted or dunder name that walks attributes to something not allowlisted (P16). */
  | { kind: "walk"; entry?: DenyEntry }
  | { kind: "unknown" };

export interface JudgeOptions {
  /** TorchScript archives may use the TorchScript rebuilders and construct their own `__torch__` classes. */
  torchscript: boolean;
  /** An organisation's own additions (policy file), consulted before the built-in lists. */
  overrides?: CallableOverrides | undefined;
}

/** Exact qualified names an organisation allows, and names or modules it denies (deny wins). */
export interface CallableOverrides {
  allow: ReadonlySet<string>;
  deny: ReadonlyMap<string, DenyEntry>;
}

const DUNDER = /^__\w+__$/;
const CLASS_NAME = /^[A-Z][A-Za-z0-9_]*$/;
/** Module names that are legitimately dunder-shaped. */
const DUNDER_MODULES = new Set(["__main__", "__torch__", "__builtin__", "__mp_main__"]);

/**
 * The module and name CPython's unpickler really imports (`fix_imports`, Lib/_compat_pickle.py):
 * a Python 2 (module, name) pair first, else a Python 2 module; `itertools.imap` is `builtins.map`.
 */
export function normalName(module: string, name: string): { module: string; name: string } {
  const { compat } = allowlistIndex();
  const pair = own(compat.names, `${module} ${name}`);
  if (pair) return { module: pair[0], name: pair[1] };
  return { module: own(compat.modules, module) ?? module, name };
}

/** The qualified name CPython imports for `module`.`name` (see normalName). */
export function qualified(module: string, name: string): string {
  const n = normalName(module, name);
  return `${n.module}.${n.name}`;
}

/** qualified() of an import, computed once per GlobalRef: a memoized class is asked per object it makes. */
export function importedName(g: GlobalRef): string {
  return (g.normalName ??= qualified(g.module, g.name));
}

export function judge(rawModule: string, rawName: string, opts: JudgeOptions): Judgement {
  const { module, name } = normalName(rawModule, rawName);
  const full = `${module}.${name}`;
  if (opts.overrides) {
    const denied = denyEntry(full, opts.overrides.deny);
    if (denied) return { kind: "deny", ...denied };
    if (opts.overrides.allow.has(full)) return { kind: "allow" };
  }
  const entry = allowEntry(full);
  if (entry && (entry.context === undefined || (entry.context === "torchscript" && opts.torchscript))) return { kind: "allow", entry };
  if (opts.torchscript && isTorchScriptClass(module, name)) return { kind: "allow" };

  const named = own(DENY_NAMES, full);
  if (named) return { kind: "deny", entry: named, matched: full };
  const deny = denyEntry(full);
  const walks = name.includes(".") || name.split(".").some((p) => DUNDER.test(p)) ||
    module.split(".").some((p) => DUNDER.test(p) && !DUNDER_MODULES.has(p));
  if (walks) return deny ? { kind: "walk", entry: deny.entry } : { kind: "walk" };
  if (deny) return { kind: "deny", ...deny };
  return { kind: "unknown" };
}

/**
 * The most specific deny entry for a dotted path: the name itself, then each enclosing module;
 * looked up in `table` (an organisation's) when given, else in the built-in lists.
 */
function denyEntry(full: string, table?: ReadonlyMap<string, DenyEntry>): { entry: DenyEntry; matched: string } | undefined {
  for (let p = full; p.length > 0; p = p.slice(0, Math.max(0, p.lastIndexOf(".")))) {
    const entry = table ? table.get(p) : (own(DENY_NAMES, p) ?? own(DENY_MODULES, p));
    if (entry) return { entry, matched: p };
    if (!p.includes(".")) break;
  }
  return undefined;
}

function isTorchScriptClass(module: string, name: string): boolean {
  return (module === "__torch__" || module.startsWith(TORCHSCRIPT_CLASS_PREFIX)) && CLASS_NAME.test(name);
}
