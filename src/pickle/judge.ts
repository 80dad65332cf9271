/**
 * Judges one imported name against the callable rules: allowlist first, then attribute walks,
 * then the denylist (which only sets how loud), then the class families; anything else is unknown.
 */
import { own } from "../own.js";
import {
  ALLOW,
  CLASS_FAMILIES,
  DENY_MODULES,
  DENY_NAMES,
  FAMILY_EXCEPTIONS,
  PY2_MODULES,
  TORCHSCRIPT_ALLOW,
  TORCHSCRIPT_CLASS_PREFIX,
  type DenyEntry,
} from "../rules/callables.js";

export type Judgement =
  | { kind: "allow" }
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

/** The module CPython actually imports for `module` (Python 2 names are mapped like _compat_pickle does). */
export function normalModule(module: string): string {
  return own(PY2_MODULES, module) ?? module;
}

export function judge(rawModule: string, name: string, opts: JudgeOptions): Judgement {
  const module = normalModule(rawModule);
  const full = `${module}.${name}`;
  if (opts.overrides) {
    const denied = denyEntry(full, opts.overrides.deny);
    if (denied) return { kind: "deny", ...denied };
    if (opts.overrides.allow.has(full)) return { kind: "allow" };
  }
  if (ALLOW.has(full)) return { kind: "allow" };
  if (opts.torchscript && (TORCHSCRIPT_ALLOW.has(full) || isTorchScriptClass(module, name))) return { kind: "allow" };

  const named = own(DENY_NAMES, full);
  if (named) return { kind: "deny", entry: named, matched: full };
  const deny = denyEntry(full);
  const walks = name.includes(".") || name.split(".").some((p) => DUNDER.test(p)) ||
    module.split(".").some((p) => DUNDER.test(p) && !DUNDER_MODULES.has(p));
  if (walks) return deny ? { kind: "walk", entry: deny.entry } : { kind: "walk" };
  if (deny) return { kind: "deny", ...deny };
  if (inClassFamily(module, name)) return { kind: "allow" };
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

function inClassFamily(module: string, name: string): boolean {
  if (!CLASS_NAME.test(name)) return false;
  const m = `${module}.`;
  if (FAMILY_EXCEPTIONS.some((e) => m.startsWith(`${e}.`))) return false;
  return CLASS_FAMILIES.some((prefix) => m.startsWith(prefix));
}

function isTorchScriptClass(module: string, name: string): boolean {
  return (module === "__torch__" || module.startsWith(TORCHSCRIPT_CLASS_PREFIX)) && CLASS_NAME.test(name);
}
