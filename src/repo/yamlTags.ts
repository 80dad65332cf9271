/**
 * PyYAML's python/* tags (lib/yaml/constructor.py, FullConstructor and UnsafeConstructor), judged
 * as the pickle engine judges the pickle operation each one amounts to:
 * - `python/none|bool|str|…|dict` build plain data;
 * - `python/name:X` imports X and returns it (a GLOBAL);
 * - `python/module:X` imports the module X, which runs its code;
 * - `python/object:X` and `python/object/new:X` run `X.__new__` then set its state (NEWOBJ + BUILD),
 *   or call X when it is not a class;
 * - `python/object/apply:X` calls X (REDUCE), then sets the state.
 * X is cut at its last dot into module and name (`builtins` when there is none).
 */
import type { Document, Node, Scalar, YAMLMap } from "yaml";
import { onFirstUse } from "../onFirstUse.js";
import { judge, type CallableOverrides } from "../pickle/judge.js";
import type { AllowEntry } from "../rules/allowlist.js";
import type { Severity } from "../types.js";

const yaml = onFirstUse<typeof import("yaml")>("yaml");

/** What a tag makes PyYAML do with the name it carries. */
type TagUse = "reference" | "import" | "construct" | "call";

export interface TagVerdict {
  severity: Severity;
  /** The tag as written (`!!python/object:argparse.Namespace`). */
  tag: string;
  /** What the tag does, and why that is this severe. */
  text: string;
}

const PYTHON_TAG = /^(?:tag:yaml\.org,2002:|!)python\/([\s\S]*)$/;
const DATA_TAGS = new Set(["none", "bool", "str", "unicode", "bytes", "int", "long", "float", "complex", "list", "tuple", "dict"]);
const USES: Record<string, TagUse> = { name: "reference", module: "import", object: "construct", "object/new": "construct", "object/apply": "call" };
const VERBS: Record<TagUse, string> = { reference: "references", import: "imports module", construct: "constructs", call: "calls" };
const DUNDER = /^__\w+__$/;
const STRING_TAGS = new Set([undefined, "tag:yaml.org,2002:str", "tag:yaml.org,2002:python/str", "tag:yaml.org,2002:python/unicode"]);

/** The python tags of one YAML document, each judged; plain-data tags give nothing. */
export function judgePythonTags(doc: Document<Node, boolean>, overrides: CallableOverrides | undefined): TagVerdict[] {
  const tagged: Node[] = [];
  // Nodes with an object-building tag (or an alias, which may name one) somewhere beneath them.
  const buildsBelow = new Set<unknown>();
  yaml().visit(doc, {
    Node(_key, node, path) {
      if (node.tag !== undefined && PYTHON_TAG.test(node.tag)) tagged.push(node);
      // Ancestors are marked upward until one already is, so the marking is linear in the document.
      if (buildsObject(node)) for (let i = path.length - 1; i >= 0 && !buildsBelow.has(path[i]); i--) buildsBelow.add(path[i]);
    },
  });
  return tagged.flatMap((node) => judgeTag(node, buildsBelow.has(node), overrides));
}

function pythonSuffix(tag: string): string | undefined {
  return PYTHON_TAG.exec(tag)?.[1];
}

/** A node PyYAML builds an object from, or an alias, which may stand for one. */
function buildsObject(node: Node): boolean {
  const suffix = node.tag === undefined ? undefined : pythonSuffix(node.tag);
  return yaml().isAlias(node) || (suffix !== undefined && !DATA_TAGS.has(suffix));
}

function judgeTag(node: Node, buildsBelow: boolean, overrides: CallableOverrides | undefined): TagVerdict[] {
  const tag = node.tag!;
  const suffix = pythonSuffix(tag)!;
  const shown = tag.replace(/^tag:yaml\.org,2002:/, "!!");
  if (DATA_TAGS.has(suffix)) return [];
  const colon = suffix.indexOf(":");
  const use = colon > 0 ? USES[suffix.slice(0, colon)] : undefined;
  if (use === undefined) return [{ severity: "high", tag: shown, text: `${shown} is not a tag PyYAML constructs; what another loader makes of it is unknown` }];
  const target = suffix.slice(colon + 1);
  if (use === "import") return [{ severity: "high", tag: shown, text: `${shown} imports module ${target}, which runs its code` }];
  const dot = target.lastIndexOf(".");
  const [module, name] = dot >= 0 ? [target.slice(0, dot), target.slice(dot + 1)] : ["builtins", target];
  const verdicts = [{ tag: shown, ...judgeName(`${shown} ${VERBS[use]} ${module}.${name}`, judge(module, name, { torchscript: false, overrides }), use, buildsBelow) }];
  const unchecked = use === "reference" ? undefined : stateProblem(node, use === "construct" && suffix.startsWith("object:"));
  if (unchecked) verdicts.push({ severity: "critical", tag: shown, text: `${shown} sets ${unchecked} (as pickle's BUILD would, MG106)` });
  return verdicts;
}

function judgeName(what: string, verdict: ReturnType<typeof judge>, use: TagUse, buildsBelow: boolean): Omit<TagVerdict, "tag"> {
  if (verdict.kind === "deny") return { severity: "critical", text: `${what}, which ${verdict.entry.reason}` };
  if (verdict.kind === "walk") return { severity: "critical", text: `${what}, which walks attributes${verdict.entry ? ` to something that ${verdict.entry.reason}` : ""}` };
  if (verdict.kind === "unknown") return { severity: "high", text: `${what}, which is not on the allowlist` };
  const entry = verdict.entry;
  // An organisation's own allow carries no entry: it allows every use.
  if (!entry || use === "reference") return { severity: "low", text: `${what}, which is allowlisted` };
  // PyYAML calls what is not a class even under python/object (make_python_instance).
  const called = use === "call" || (entry.kind !== "class" && entry.kind !== "enum");
  if (called && entry.notCalled) return { severity: "high", text: `${what}, which is allowlisted to be stored or constructed, never called` };
  const follows = followedInput(entry, buildsBelow);
  if (follows) return { severity: "high", text: `${what}, which ${follows}; modelgate follows that in pickles, not in YAML` };
  return { severity: "low", text: `${what}, which is allowlisted (${entry.kind})` };
}

/** What an allowlisted callable does with its arguments or state beyond holding them, when that could matter here. */
function followedInput(entry: AllowEntry, buildsBelow: boolean): string | undefined {
  if (entry.kind === "cython" || entry.stateGuard || entry.setstate !== undefined || entry.state !== undefined) return "executes or sets attributes from its arguments or state";
  const passes = entry.calls ?? entry.instantiates ?? entry.constructs ?? entry.iterates ?? entry.stateCalls;
  // Plain data cannot be called or run when iterated: only objects the YAML builds can.
  return passes !== undefined && buildsBelow ? "calls, constructs or iterates objects the YAML builds for it" : undefined;
}

/**
 * Why the attributes the tag sets cannot pass, if they cannot: a dunder name, a key that is not a
 * plain string, or a state that is not a plain mapping. python/object's mapping is the state; the
 * mapping form of object/new and object/apply holds it under `state` (a sequence form has none).
 */
function stateProblem(node: Node, wholeIsState: boolean): string | undefined {
  const { isMap, isScalar } = yaml();
  if (!isMap(node)) return undefined;
  if (wholeIsState) return keyProblem(node);
  const state = node.items.find((pair) => isScalar(pair.key) && pair.key.value === "state")?.value;
  if (state === null || state === undefined || (isScalar(state) && !buildsObject(state))) return undefined;
  return isMap(state) && !buildsObject(state) ? keyProblem(state) : "a state that is not a plain mapping, whose keys cannot be checked";
}

function keyProblem(map: YAMLMap): string | undefined {
  for (const { key } of map.items) {
    if (!isPlainString(key)) return `a key that is not a plain string (${describeKey(key)})`;
    if (key.value === "<<") return "a merge key (<<), whose merged keys are not checked";
    if (DUNDER.test(key.value)) return `the dunder attribute ${JSON.stringify(key.value)}`;
  }
  return undefined;
}

function isPlainString(key: unknown): key is Scalar<string> {
  return yaml().isScalar(key) && typeof key.value === "string" && STRING_TAGS.has(key.tag);
}

function describeKey(key: unknown): string {
  const { isAlias, isNode, isScalar } = yaml();
  if (isAlias(key)) return `alias *${key.source}`;
  if (!isNode(key)) return "none";
  return key.tag ?? (isScalar(key) ? typeof key.value : "a collection");
}
