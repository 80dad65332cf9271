/**
 * Chat templates (GGUF metadata, tokenizer_config.json) checked for Jinja sandbox escapes (G1, H2).
 * The template is tokenized and parsed by Hugging Face's JS Jinja parser and the syntax tree is
 * walked; nothing is ever rendered. Server-side template injection needs private attributes
 * (`__class__`, `__globals__`, `self._TemplateReference__context`), the attributes of Jinja's
 * globals (`lipsum.__globals__`, `cycler.__init__`), or imports; chat templates need none of them.
 */
import { onFirstUse } from "../onFirstUse.js";
import type { ScanContext } from "./context.js";
import { children, constantString, filterParts, identifierName, type Node, splitArguments } from "./templateAst.js";
import { Origin, SAFE_KEY, TemplateFlow } from "./templateFlow.js";

export const TEMPLATE_LIMITS = Object.freeze({
  /** Longest template checked (CWE-400); real ones are a few KB. */
  maxChars: 1024 * 1024,
  /** Syntax-tree depth walked (CWE-674); the parser's own recursion is caught as a RangeError. */
  maxDepth: 500,
});

/** Statements that load other templates or modules; the JS parser does not know them, so they are found in the tokens. */
const IMPORT_STATEMENTS = new Set(["import", "from", "include", "extends"]);
/** Harmless statements transformers adds to Jinja (assistant-mask markers) that the JS parser does not know. */
const MARKER_STATEMENTS = new Set(["generation", "endgeneration"]);
/**
 * Jinja (and Flask) globals whose attributes lead to Python internals in known SSTI payloads. Real
 * templates only call them (`namespace(i=0)`, `range(n)`); any other use (an alias, an argument, a
 * namespace field, a subscript) hands the object to code that reads its attributes.
 */
const CALLED_GLOBALS = new Set(["lipsum", "cycler", "joiner", "namespace", "range", "dict", "url_for", "get_flashed_messages"]);
/** Globals no chat template uses at all: the template reference and Flask's request and config. */
const FORBIDDEN_GLOBALS = new Set(["self", "config", "request"]);
/** Names of modules and builtins that no template defines: referencing them is an attempt to reach Python. */
const PYTHON_NAMES = new Set(["os", "sys", "subprocess", "builtins", "importlib", "eval", "exec", "compile", "getattr", "setattr", "globals", "locals"]);
/** Attribute names that only module objects have. */
const MODULE_ATTRIBUTES = new Set(["os", "sys", "subprocess", "builtins", "importlib", "popen"]);
/** An attribute name Jinja's sandbox refuses: every one starting with "_". */
const PRIVATE_NAME = /^_/;
/** A string naming a dunder (`"__class__"`), a dunder path (`"x.__globals__"`) or a mangled name (`"_TemplateReference__context"`). */
const PRIVATE_STRING = /^__\w+__$|\.__\w+__|^_[A-Za-z]\w*__\w/;
/** str.format fields that read attributes or items (`{0.__class__}`, `{0[x]}`). */
const FORMAT_LOOKUP = /\{[^{}:!]*[.[]/;
/**
 * Filters that read attributes by name (getattr for |attr, Jinja's make_attrgetter for the rest,
 * which also walks dotted paths): where the name is passed.
 */
const ATTRIBUTE_ARGUMENTS: Readonly<Record<string, { position?: number; keyword?: string }>> = {
  attr: { position: 0 },
  selectattr: { position: 0 },
  rejectattr: { position: 0 },
  groupby: { position: 0, keyword: "attribute" },
  map: { keyword: "attribute" },
  sort: { keyword: "attribute" },
  sum: { keyword: "attribute" },
  unique: { keyword: "attribute" },
  min: { keyword: "attribute" },
  max: { keyword: "attribute" },
};

const jinja = onFirstUse<typeof import("@huggingface/jinja")>("@huggingface/jinja");

type Token = ReturnType<ReturnType<typeof jinja>["tokenize"]>[number];

/** Parses `template` with a real Jinja parser and reports sandbox escapes at `where` (e.g. "tokenizer.chat_template"). */
export function checkChatTemplate(template: string, ctx: ScanContext, where: string): void {
  if (template.length > TEMPLATE_LIMITS.maxChars) {
    ctx.report("MG223", `${where}: chat template is ${template.length} characters, over the ${TEMPLATE_LIMITS.maxChars} bound; it was not checked`, { evidence: where });
    return;
  }
  const seen = new Set<string>();
  const escape = (evidence: string, why: string): void => {
    if (seen.has(evidence)) return;
    seen.add(evidence);
    ctx.report("MG220", `${where}: chat template ${why}`, { evidence });
  };
  const { parse, tokenize } = jinja();
  let tokens: Token[];
  try {
    tokens = tokenize(template);
  } catch (err) {
    reportParseFailure(err, ctx, where);
    scanText(template, escape);
    return;
  }
  const kept = dropStatements(tokens, (name, text) => {
    ctx.report("MG221", `${where}: chat template uses {% ${name} %}, which loads other templates or modules`, { evidence: text });
  });
  let program: Node;
  try {
    program = parse(kept) as unknown as Node;
  } catch (err) {
    // A template the JS parser refuses may still render in Python's Jinja (the CVE-2024-34359
    // payload iterates over `()`, which this parser does not know): look at its tokens instead.
    reportParseFailure(err, ctx, where);
    scanTokens(kept, escape);
    return;
  }
  if (!walk(program, escape)) {
    ctx.report("MG223", `${where}: chat template nests deeper than ${TEMPLATE_LIMITS.maxDepth} levels; the rest was not checked`, { evidence: where });
  }
}

/** The parser's own errors (plain Errors, SyntaxErrors) make the template unparseable; its recursion running out is a limit. */
function reportParseFailure(err: unknown, ctx: ScanContext, where: string): void {
  if (err instanceof RangeError) {
    ctx.report("MG223", `${where}: chat template nests too deeply for the parser; it was not checked`, { evidence: err.message });
  } else if (err instanceof Error) {
    ctx.report("MG222", `${where}: chat template does not parse as Jinja: ${err.message}`, { evidence: err.message });
  } else {
    throw err;
  }
}

/** Fallback for templates that do not parse: private attributes and globals' attributes, read off the tokens. */
function scanTokens(tokens: Token[], escape: Escape): void {
  tokens.forEach((token, i) => {
    const next = tokens[i + 1];
    const afterDot = tokens[i - 1]?.type === "Dot";
    if (token.type === "Identifier" && afterDot && PRIVATE_NAME.test(token.value)) escape(`.${token.value}`, `reads private attribute "${token.value}"`);
    else if (token.type === "Identifier" && afterDot && MODULE_ATTRIBUTES.has(token.value)) escape(`.${token.value}`, `reads module attribute "${token.value}"`);
    else if (token.type === "Identifier" && !afterDot && isMisusedGlobal(token.value, next?.type === "OpenParen")) {
      escape(token.value, `uses the Jinja global "${token.value}" other than by calling it`);
    } else if (token.type === "StringLiteral" && PRIVATE_STRING.test(token.value)) {
      escape(JSON.stringify(token.value), `holds the private attribute name ${JSON.stringify(token.value)}`);
    }
  });
}

/** Last resort when even the tokenizer fails: dunder and mangled names in the raw text. */
function scanText(template: string, escape: Escape): void {
  for (const m of template.matchAll(/\b__[A-Za-z]\w*__\b|\b_[A-Za-z]\w*__[A-Za-z]\w*/g)) escape(m[0], `names the private attribute "${m[0]}"`);
}

/**
 * Removes import-like statements (reported through `found`) and transformers' marker statements,
 * so the rest of the template is still parsed and checked.
 */
function dropStatements(tokens: Token[], found: (name: string, text: string) => void): Token[] {
  const kept: Token[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const name = tokens[i]!.type === "OpenStatement" ? tokens[i + 1]?.value : undefined;
    if (name === undefined || (!IMPORT_STATEMENTS.has(name) && !MARKER_STATEMENTS.has(name))) {
      kept.push(tokens[i]!);
      continue;
    }
    let end = i;
    while (end < tokens.length && tokens[end]!.type !== "CloseStatement") end++;
    if (IMPORT_STATEMENTS.has(name)) found(name, `{% ${tokens.slice(i + 1, end).map((t) => t.value).join(" ")} %}`);
    i = end;
  }
  return kept;
}

/** Whether a use of `name` is a use of a Jinja global that real templates only call, or never use. */
function isMisusedGlobal(name: string, called: boolean): boolean {
  return FORBIDDEN_GLOBALS.has(name) || (CALLED_GLOBALS.has(name) && !called);
}

type Escape = (evidence: string, why: string) => void;

/** What the checks of one template share: the value origins, and the identifiers whose use the parent made ordinary. */
interface Walk {
  flow: TemplateFlow;
  escape: Escape;
  /** Identifiers called directly (`namespace(...)`, `loop(...)`). */
  called: Set<Node>;
  /** `loop` read for a plain attribute (`loop.index0`). */
  loopReads: Set<Node>;
}

/** Walks the tree iteratively; returns false if it was cut at the depth bound. */
function walk(root: Node, escape: Escape): boolean {
  const flow = new TemplateFlow(root, TEMPLATE_LIMITS.maxDepth);
  const state: Walk = { flow, escape, called: new Set(), loopReads: new Set() };
  const stack: { node: Node; depth: number }[] = [{ node: root, depth: 0 }];
  let complete = flow.complete;
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (depth > TEMPLATE_LIMITS.maxDepth) {
      complete = false;
      continue;
    }
    inspect(node, state);
    for (const child of children(node)) stack.push({ node: child, depth: depth + 1 });
  }
  return complete;
}

/** The checks on one node (parents are inspected before their children). */
function inspect(node: Node, w: Walk): void {
  switch (node.type) {
    case "MemberExpression":
      inspectMember(node, w);
      break;
    case "Identifier":
      inspectIdentifier(node, w);
      break;
    case "CallExpression":
      inspectCall(node, w);
      break;
    case "FilterExpression":
      inspectFilter(node, w);
      break;
    case "KeywordArgumentExpression": {
      // dict(__class__=1)|first and namespace(__init__=…) turn keyword names into strings.
      const key = identifierName(node["key"] as Node) ?? "";
      if (PRIVATE_NAME.test(key)) w.escape(`${key}=`, `passes the keyword "${key}", which makes a private name a string`);
      break;
    }
    case "StringLiteral":
    case "BinaryExpression": {
      const value = constantString(node);
      if (value !== undefined && PRIVATE_STRING.test(value)) w.escape(JSON.stringify(value), `holds the private attribute name ${JSON.stringify(value)}`);
      break;
    }
  }
}

function inspectMember(node: Node, w: Walk): void {
  const object = node["object"] as Node;
  const property = node["property"] as Node;
  const computed = node["computed"] === true;
  const attribute = computed ? constantString(property) : identifierName(property);
  if (attribute !== undefined && PRIVATE_NAME.test(attribute)) w.escape(text(node), `reads private attribute "${attribute}"`);
  else if (attribute !== undefined && MODULE_ATTRIBUTES.has(attribute)) w.escape(text(node), `reads module attribute "${attribute}"`);
  else if (attribute === undefined && computed && property.type !== "SliceExpression") inspectKey(node, w);
  if (identifierName(object) === "loop" && !computed && attribute !== undefined && !PRIVATE_NAME.test(attribute)) w.loopReads.add(object);
}

/**
 * A subscript by a key that is not a literal: plain Jinja falls back to getattr for string keys, so
 * the key must not be a string the template made, and names from render-time data must not walk on
 * from what such a lookup returned (`x[k1][k2]`: attribute after attribute).
 */
function inspectKey(node: Node, w: Walk): void {
  const key = w.flow.origin(node["property"] as Node);
  if (key & ~SAFE_KEY) {
    w.escape(text(node), "subscripts with a name the template builds, which plain Jinja reads as an attribute (getattr)");
  } else if (key & Origin.Data && w.flow.origin(node["object"] as Node) & Origin.Dynamic) {
    w.escape(text(node), "subscripts again by a render-time name what a subscript by a render-time name returned, walking attributes by names the template does not show");
  }
}

function inspectIdentifier(node: Node, w: Walk): void {
  const name = node["value"] as string;
  if (PYTHON_NAMES.has(name) || name.startsWith("__")) w.escape(name, `names the Python module or builtin "${name}"`);
  else if (name === "loop" ? !w.called.has(node) && !w.loopReads.has(node) : isMisusedGlobal(name, w.called.has(node))) {
    w.escape(name, `uses the Jinja global "${name}" other than by calling it, which hands its Python attributes to the template`);
  }
}

function inspectCall(node: Node, w: Walk): void {
  const callee = node["callee"] as Node;
  w.called.add(callee);
  const method = callee.type === "MemberExpression" && callee["computed"] !== true ? identifierName(callee["property"] as Node) : undefined;
  if (method === "format" || method === "format_map") {
    const receiver = callee["object"] as Node;
    if (receiver.type !== "StringLiteral" || FORMAT_LOOKUP.test(receiver["value"] as string)) {
      w.escape(text(node), "formats with str.format a string whose fields can read attributes");
    }
  } else if (method === undefined && w.flow.origin(callee) & Origin.Dynamic) {
    w.escape(text(node), "calls what a subscript by a render-time name returned");
  }
}

/** Filters that read attributes by a name, and map(), which applies a filter named by its first argument. */
function inspectFilter(node: Node, w: Walk): void {
  const { name, args } = filterParts(node["filter"] as Node);
  const { positional, keywords } = splitArguments(args);
  if (name === "map" && positional.length > 0) {
    const applied = constantString(positional[0]!);
    if (applied === undefined) w.escape(text(node), "applies a filter whose name is computed at render time (|map)");
    else checkAttributeArguments(applied, positional.slice(1), keywords, node, w);
  } else if (name !== undefined) checkAttributeArguments(name, positional, keywords, node, w);
}

function checkAttributeArguments(filter: string, positional: Node[], keywords: Map<string, Node>, node: Node, w: Walk): void {
  const where = Object.hasOwn(ATTRIBUTE_ARGUMENTS, filter) ? ATTRIBUTE_ARGUMENTS[filter]! : undefined;
  if (where === undefined) return;
  const arg = (where.position !== undefined ? positional[where.position] : undefined) ?? (where.keyword !== undefined ? keywords.get(where.keyword) : undefined);
  if (arg === undefined || arg.type === "IntegerLiteral") return;
  const path = constantString(arg);
  if (path === undefined) w.escape(text(node), `reads an attribute whose name is computed at render time (|${filter})`);
  else if (path.split(".").some((part) => PRIVATE_NAME.test(part))) w.escape(text(node), `reads private attribute "${path}" through |${filter}`);
}

/** Short source-like text of an expression, for evidence. */
function text(node: Node, depth = 0): string {
  if (depth > 8) return "…";
  switch (node.type) {
    case "Identifier":
      return node["value"] as string;
    case "StringLiteral":
      return JSON.stringify(node["value"]);
    case "MemberExpression": {
      const object = text(node["object"] as Node, depth + 1);
      const property = node["property"] as Node;
      return node["computed"] === true ? `${object}[${text(property, depth + 1)}]` : `${object}.${text(property, depth + 1)}`;
    }
    case "CallExpression":
      return `${text(node["callee"] as Node, depth + 1)}(${(node["args"] as Node[]).map((a) => text(a, depth + 1)).join(", ")})`;
    case "FilterExpression":
      return `${text(node["operand"] as Node, depth + 1)}|${text(node["filter"] as Node, depth + 1)}`;
    case "BinaryExpression":
      return `${text(node["left"] as Node, depth + 1)} ${(node["operator"] as Token).value} ${text(node["right"] as Node, depth + 1)}`;
    default:
      return `(${node.type})`;
  }
}
