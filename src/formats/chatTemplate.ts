/**
 * Chat templates (GGUF metadata, tokenizer_config.json) checked for Jinja sandbox escapes (G1, H2).
 * The template is tokenized and parsed by Hugging Face's JS Jinja parser and the syntax tree is
 * walked; nothing is ever rendered. Server-side template injection needs private attributes
 * (`__class__`, `__globals__`, `self._TemplateReference__context`), the attributes of Jinja's
 * globals (`lipsum.__globals__`, `cycler.__init__`), or imports; chat templates need none of them.
 */
import { onFirstUse } from "../onFirstUse.js";
import type { ScanContext } from "./context.js";

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
/** Jinja and Flask globals whose attributes lead to Python internals in known SSTI payloads. */
const SSTI_GLOBALS = new Set(["lipsum", "cycler", "joiner", "namespace", "range", "dict", "self", "config", "request", "url_for", "get_flashed_messages"]);
/** Names of modules and builtins that no template defines: referencing them is an attempt to reach Python. */
const PYTHON_NAMES = new Set(["os", "sys", "subprocess", "builtins", "importlib", "eval", "exec", "compile", "getattr", "setattr", "globals", "locals"]);
/** Attribute names that only module objects have. */
const MODULE_ATTRIBUTES = new Set(["os", "sys", "subprocess", "builtins", "importlib", "popen"]);
/** An attribute name Jinja's sandbox refuses: every one starting with "_". */
const PRIVATE_NAME = /^_/;
/** A string literal naming a dunder (`"__class__"`), a dunder path (`"x.__globals__"`) or a mangled name (`"_TemplateReference__context"`). */
const PRIVATE_STRING = /^__\w+__$|\.__\w+__|^_[A-Za-z]\w*__\w/;
/** Concatenations folded when looking for attribute names built from pieces (CWE-674: the parser builds long chains left-deep). */
const MAX_FOLD_DEPTH = 64;

/** An AST node as the parser builds it: a `type` and child nodes in its other fields. */
interface Node {
  type: string;
  [field: string]: unknown;
}

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
function scanTokens(tokens: Token[], escape: (evidence: string, why: string) => void): void {
  tokens.forEach((token, i) => {
    const next = tokens[i + 1];
    const afterDot = tokens[i - 1]?.type === "Dot";
    if (token.type === "Identifier" && afterDot && PRIVATE_NAME.test(token.value)) escape(`.${token.value}`, `reads private attribute "${token.value}"`);
    else if (token.type === "Identifier" && afterDot && MODULE_ATTRIBUTES.has(token.value)) escape(`.${token.value}`, `reads module attribute "${token.value}"`);
    else if (token.type === "Identifier" && !afterDot && SSTI_GLOBALS.has(token.value) && next?.type === "Dot") {
      escape(`${token.value}.`, `reads an attribute of the Jinja global "${token.value}"`);
    } else if (token.type === "StringLiteral" && PRIVATE_STRING.test(token.value)) {
      escape(JSON.stringify(token.value), `holds the private attribute name ${JSON.stringify(token.value)}`);
    }
  });
}

/** Last resort when even the tokenizer fails: dunder and mangled names in the raw text. */
function scanText(template: string, escape: (evidence: string, why: string) => void): void {
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

/** Walks the tree iteratively; returns false if it was cut at the depth bound. */
function walk(root: Node, escape: (evidence: string, why: string) => void): boolean {
  const stack: { node: Node; depth: number }[] = [{ node: root, depth: 0 }];
  let complete = true;
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (depth > TEMPLATE_LIMITS.maxDepth) {
      complete = false;
      continue;
    }
    inspect(node, escape);
    for (const child of children(node)) stack.push({ node: child, depth: depth + 1 });
  }
  return complete;
}

/** The checks on one node. */
function inspect(node: Node, escape: (evidence: string, why: string) => void): void {
  switch (node.type) {
    case "MemberExpression": {
      const attribute = memberName(node);
      const object = node["object"] as Node;
      if (attribute !== undefined && PRIVATE_NAME.test(attribute)) escape(text(node), `reads private attribute "${attribute}"`);
      else if (attribute !== undefined && MODULE_ATTRIBUTES.has(attribute)) escape(text(node), `reads module attribute "${attribute}"`);
      else if (node["computed"] === true && attribute === undefined && isStringBuilder(node["property"] as Node)) {
        escape(text(node), "subscripts with a string built at render time, which hides the attribute it reads");
      }
      if (object.type === "Identifier" && SSTI_GLOBALS.has(object["value"] as string)) {
        escape(text(node), `reads an attribute of the Jinja global "${object["value"] as string}"`);
      }
      break;
    }
    case "Identifier": {
      const name = node["value"] as string;
      if (PYTHON_NAMES.has(name) || name.startsWith("__")) escape(name, `names the Python module or builtin "${name}"`);
      break;
    }
    case "FilterExpression": {
      const filter = node["filter"] as Node;
      if (filter.type !== "CallExpression" || calleeName(filter) !== "attr") break;
      const arg = (filter["args"] as Node[])[0];
      const name = arg ? constantString(arg) : undefined;
      if (name === undefined) escape(text(node), "reads an attribute whose name is computed at render time (|attr)");
      else if (PRIVATE_NAME.test(name)) escape(text(node), `reads private attribute "${name}" through |attr`);
      break;
    }
    case "StringLiteral": {
      const value = node["value"] as string;
      if (PRIVATE_STRING.test(value)) escape(JSON.stringify(value), `holds the private attribute name ${JSON.stringify(value)}`);
      break;
    }
  }
}

/** Child nodes, skipping the parts that are names rather than expressions (attribute names, keyword names, filter names, operators). */
function children(node: Node): Node[] {
  const out: Node[] = [];
  const add = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(add);
    else if (v instanceof Map) for (const [k, x] of v) add(k), add(x);
    else if (isNode(v)) out.push(v);
  };
  for (const [field, value] of Object.entries(node)) {
    if (field === "operator") continue;
    if (node.type === "MemberExpression" && field === "property" && node["computed"] !== true) continue;
    if (node.type === "KeywordArgumentExpression" && field === "key") continue;
    if ((node.type === "FilterExpression" || node.type === "FilterStatement") && field === "filter") {
      const filter = value as Node;
      if (filter.type === "CallExpression") add(filter["args"]);
      continue;
    }
    if (node.type === "TestExpression" && field === "test") continue;
    if (node.type === "Macro" && field === "name") continue;
    add(value);
  }
  return out;
}

function isNode(v: unknown): v is Node {
  return typeof v === "object" && v !== null && typeof (v as { type?: unknown }).type === "string" && !(v instanceof Map);
}

/** The attribute a member expression reads, when known without rendering. */
function memberName(node: Node): string | undefined {
  const property = node["property"] as Node;
  if (node["computed"] !== true) return property.type === "Identifier" ? (property["value"] as string) : undefined;
  return constantString(property);
}

/** A string literal, or a concatenation (`+`, `~`) of string literals, folded. */
function constantString(node: Node, depth = 0): string | undefined {
  if (node.type === "StringLiteral") return node["value"] as string;
  if (node.type === "BinaryExpression" && depth < MAX_FOLD_DEPTH) {
    const op = (node["operator"] as Token).value;
    if (op !== "+" && op !== "~") return undefined;
    const left = constantString(node["left"] as Node, depth + 1);
    const right = left === undefined ? undefined : constantString(node["right"] as Node, depth + 1);
    return left !== undefined && right !== undefined ? left + right : undefined;
  }
  return undefined;
}

/**
 * A subscript key assembled from strings (`x['__cl' ~ y]`, `x[parts|join]`): legitimate keys are
 * literals, variables or index arithmetic (`messages[loop.index0 + 1]`).
 */
function isStringBuilder(node: Node): boolean {
  if (node.type === "BinaryExpression") {
    const op = (node["operator"] as Token).value;
    const stringOperand = [node["left"], node["right"]].some((side) => (side as Node).type === "StringLiteral");
    return op === "~" || (op === "+" && stringOperand);
  }
  return node.type === "FilterExpression" && ["join", "format", "replace", "reverse"].includes(filterName(node) ?? "");
}

function filterName(node: Node): string | undefined {
  const filter = node["filter"] as Node;
  return filter.type === "Identifier" ? (filter["value"] as string) : calleeName(filter);
}

function calleeName(call: Node): string | undefined {
  const callee = call["callee"] as Node;
  return callee.type === "Identifier" ? (callee["value"] as string) : undefined;
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
