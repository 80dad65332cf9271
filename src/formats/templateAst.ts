/** The syntax tree of @huggingface/jinja's parser, seen as plain data, and the helpers the template checks share. */

/** An AST node as the parser builds it: a `type` and child nodes in its other fields. */
export interface Node {
  type: string;
  [field: string]: unknown;
}

/** Concatenations folded when looking for names built from pieces (CWE-674: the parser builds long chains left-deep). */
const MAX_FOLD_DEPTH = 64;

export function isNode(v: unknown): v is Node {
  return typeof v === "object" && v !== null && typeof (v as { type?: unknown }).type === "string" && !(v instanceof Map);
}

/** Child nodes, skipping the parts that are names rather than expressions (attribute names, keyword names, filter names, operators). */
export function children(node: Node): Node[] {
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

/** The operator of a binary or unary expression (`~`, `+`, `and`, `not`…). */
export function operatorOf(node: Node): string {
  return (node["operator"] as { value: string }).value;
}

/** A string literal, or a concatenation (`+`, `~`) of string literals, folded. */
export function constantString(node: Node, depth = 0): string | undefined {
  if (node.type === "StringLiteral") return node["value"] as string;
  if (node.type === "BinaryExpression" && depth < MAX_FOLD_DEPTH) {
    const op = operatorOf(node);
    if (op !== "+" && op !== "~") return undefined;
    const left = constantString(node["left"] as Node, depth + 1);
    const right = left === undefined ? undefined : constantString(node["right"] as Node, depth + 1);
    return left !== undefined && right !== undefined ? left + right : undefined;
  }
  return undefined;
}

/** The name of an identifier node, if it is one. */
export function identifierName(node: Node | undefined): string | undefined {
  return node?.type === "Identifier" ? (node["value"] as string) : undefined;
}

/** The function a call names directly (`namespace(...)` → "namespace"). */
export function calleeName(call: Node): string | undefined {
  return identifierName(call["callee"] as Node);
}

/** A filter's name and arguments: `x|upper` has none, `x|map(attribute='a')` has one. */
export function filterParts(filter: Node): { name: string | undefined; args: Node[] } {
  if (filter.type === "CallExpression") return { name: calleeName(filter), args: filter["args"] as Node[] };
  return { name: identifierName(filter), args: [] };
}

/** A call's arguments split into positional ones and keyword ones by name. */
export function splitArguments(args: readonly Node[]): { positional: Node[]; keywords: Map<string, Node> } {
  const positional: Node[] = [];
  const keywords = new Map<string, Node>();
  for (const arg of args) {
    if (arg.type === "KeywordArgumentExpression") keywords.set(identifierName(arg["key"] as Node) ?? "", arg["value"] as Node);
    else positional.push(arg);
  }
  return { positional, keywords };
}
