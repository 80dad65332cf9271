/**
 * Where the values of a chat template can come from, worked out without rendering. Plain Jinja
 * resolves `x[key]` as `getattr(x, key)` when the item lookup fails, so a subscript whose key the
 * template made (`{% set a = '__in' ~ 'it__' %}…c[a]`, `'%c%c' % (95, 95)`, `'olg__'|reverse`)
 * reads any attribute, `__globals__` included. The analysis is flow-insensitive and by name: a
 * name holds every value any assignment, loop or macro call binds to it anywhere in the template,
 * iterated to a fixpoint, which over-approximates every rendering. An origin set of 0 is only the
 * fixpoint's "nothing yet": a value the analysis does not follow is Built (unknown), never 0, since
 * every operation on 0 would read it as a safe number or plain string.
 */
import { calleeName, children, constantString, filterParts, identifierName, isNode, type Node, operatorOf, splitArguments } from "./templateAst.js";

/** Kinds of values, as bits of an origin set. */
export const Origin = Object.freeze({
  /** Numbers, booleans, none, and their string forms: never an underscore name. */
  Number: 1,
  /**
   * Render-time data the caller supplies (messages, tools, context variables) read as it is, or
   * changed without template strings. Not the special tokens: renderers take those from the model
   * file itself (FILE_SUPPLIED_NAMES), so they are Built, whatever string the file chose.
   */
  Data: 2,
  /** A string literal of the template that does not start with "_", unchanged. */
  Literal: 4,
  /** A list, tuple or dict literal holding such literals (and numbers, data, plain strings). */
  Literals: 8,
  /** Anything else the template makes (formatting, macro output, pieces of literals that hold "_"): any string at all. */
  Built: 16,
  /** A namespace() object, whose attributes are tracked by attribute name. */
  Namespace: 32,
  /**
   * What a subscript by a render-time name returned: possibly any attribute of the object. It stays
   * with whatever is made from that value (a list holding it, `|first` of that list), which may be it.
   */
  Dynamic: 64,
  /**
   * Template strings without a single "_", and what slicing, joining, case changes and replacing
   * with other such strings make of them: none of these can create an underscore.
   */
  Plain: 128,
  /**
   * A dict view or a generator (`.items()`, `|map`, `|select`…): iterating it yields its items, but
   * its text is its repr, "dict_items(…)" or "<generator object …>", which holds underscores.
   */
  View: 256,
});

/** Origins a subscript key may have without being a finding. */
export const SAFE_KEY = Origin.Number | Origin.Data | Origin.Literal | Origin.Plain;
/** Origins that make any derived value Built. */
const UNKNOWN = Origin.Literal | Origin.Literals | Origin.Built | Origin.Namespace;

/** Jinja globals that produce plain values when called (unless the template binds the name itself). */
const CALL_RESULTS: Readonly<Record<string, number>> = { namespace: Origin.Namespace, range: Origin.Number };
/** Callables whose results the analysis does not follow: caller() renders template text, and the other Jinja globals make objects or text. */
const OPAQUE_CALLABLES = new Set(["caller", "dict", "lipsum", "cycler", "joiner"]);
/** Filters whose result is a number or a boolean. */
const NUMERIC_FILTERS = new Set(["length", "count", "int", "float", "abs", "round", "wordcount", "bool"]);
/**
 * Filters that cannot create an underscore that is not in their inputs. Any other (format's `%c`,
 * map applying a filter by name…) makes a Built value.
 */
const PRESERVING_FILTERS = new Set([
  "trim", "upper", "lower", "title", "capitalize", "reverse", "first", "last", "replace", "list", "unique", "sort", "string", "safe",
  "e", "escape", "forceescape", "tojson", "center", "indent", "wordwrap", "truncate", "striptags", "items", "dictsort", "batch",
  "slice", "select", "reject", "selectattr", "rejectattr", "min", "max", "sum", "random", "urlencode", "groupby", "join", "map",
]);
/** String, list and dict methods that cannot create an underscore (translate and format can: `'{:c}'.format(95)`). */
const PRESERVING_METHODS = new Set([
  "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "upper", "lower", "title", "capitalize", "swapcase", "replace",
  "startswith", "endswith", "join", "items", "keys", "values", "count", "find", "rfind", "index", "center", "ljust", "rjust",
]);
/** Methods and filters whose result is a view or a generator (see Origin.View). */
const VIEW_METHODS = new Set(["items", "keys", "values"]);
const VIEW_FILTERS = new Set(["items", "map", "select", "reject", "selectattr", "rejectattr", "batch", "slice", "unique", "groupby", "reverse"]);
/** Filters that read a view's items rather than its text: what they make holds no repr of it. */
const CONSUMING_FILTERS = new Set(["list", "sort", "dictsort", "first", "last", "min", "max", "sum", "random", "join", ...VIEW_FILTERS]);
/** Methods that put their arguments into their receiver. */
const MUTATORS = new Set(["append", "extend", "insert", "update", "setdefault", "add"]);
/**
 * Names a renderer fills from the model's own files, not from the caller: transformers passes the
 * tokenizer's special tokens (tokenizer_config.json's bos_token…, and extra_special_tokens, named
 * *_token by convention), llama-cpp-python the GGUF vocabulary's bos and eos tokens. A crafted file
 * makes them "__init__" or "__globals__", so they are strings the template's author chose.
 */
const FILE_SUPPLIED_NAMES = new Set(["additional_special_tokens", "extra_special_tokens", "special_tokens_map"]);
const FILE_SUPPLIED_NAME = /_tokens?$/;
/** Literal names that parse as identifiers. */
const CONSTANT_NAMES = new Set(["true", "false", "none", "True", "False", "None"]);
/** loop attributes that hold items of the loop rather than counters. */
const LOOP_ITEMS = new Set(["previtem", "nextitem"]);
/** Passes over the assignments before giving up (chains written backwards need one pass per link). */
const MAX_PASSES = 64;

type Target = { name: string } | { attribute: string };
interface Binding {
  target: Target;
  value: () => number;
}

export class TemplateFlow {
  private readonly names = new Map<string, number>();
  /** namespace() attributes, by attribute name whatever the namespace. */
  private readonly attributes = new Map<string, number>();
  /** Whether some namespace() is filled in a way not bound by name (a dict that is not a literal, a ** spread): then any attribute may hold anything. */
  private opaqueNamespace = false;
  private readonly bindings: Binding[] = [];
  /** Origins of expressions, kept once the bindings are solved (the checks ask about nested subscripts again and again). */
  private readonly settled = new Map<Node, number>();
  private solved = false;
  /** Whether the fixpoint was reached within MAX_PASSES. */
  readonly complete: boolean;

  constructor(
    program: Node,
    private readonly maxDepth: number,
  ) {
    this.collect(program);
    const reached = this.solve();
    this.failClosed();
    this.complete = this.solve() && reached;
    this.solved = true;
  }

  /** The origins of an expression's value. */
  origin(node: Node, depth = 0): number {
    if (depth > this.maxDepth) return Origin.Built;
    const known = this.settled.get(node);
    if (known !== undefined) return known;
    const out = this.compute(node, depth);
    if (this.solved) this.settled.set(node, out);
    return out;
  }

  private compute(node: Node, depth: number): number {
    const sub = (n: unknown): number => (isNode(n) ? this.origin(n, depth + 1) : 0);
    switch (node.type) {
      case "IntegerLiteral":
      case "FloatLiteral":
      case "TestExpression":
        return Origin.Number;
      case "StringLiteral":
        return literalOrigin(node["value"] as string);
      case "Identifier":
        return this.nameOrigin(node["value"] as string);
      case "MemberExpression":
        return this.memberOrigin(node, sub);
      case "CallExpression":
        return this.callOrigin(node, sub);
      case "FilterExpression":
        return this.filterOrigin(node, sub);
      case "BinaryExpression":
        return binaryOrigin(node, sub);
      case "UnaryExpression":
        return operatorOf(node) === "not" ? Origin.Number : sub(node["argument"]);
      case "Ternary":
        return sub(node["trueExpr"]) | sub(node["falseExpr"]);
      case "SelectExpression":
        return sub(node["lhs"]);
      case "ArrayLiteral":
      case "TupleLiteral":
        return containerOrigin((node["value"] as Node[]).map(sub));
      case "ObjectLiteral":
        return containerOrigin([...(node["value"] as Map<Node, Node>)].flatMap(([k, v]) => [sub(k), sub(v)]));
      case "SpreadExpression":
      case "KeywordSpreadExpression":
        return sub(node["argument"]);
      case "KeywordArgumentExpression":
        return sub(node["value"]);
      default:
        return Origin.Built;
    }
  }

  private nameOrigin(name: string): number {
    if (CONSTANT_NAMES.has(name)) return Origin.Number;
    // Names the template never binds come from the caller's render-time data, or from the model's files.
    return this.names.get(name) ?? (FILE_SUPPLIED_NAMES.has(name) || FILE_SUPPLIED_NAME.test(name) ? Origin.Built : Origin.Data);
  }

  private memberOrigin(node: Node, sub: (n: unknown) => number): number {
    const object = node["object"] as Node;
    const property = node["property"] as Node;
    const computed = node["computed"] === true;
    if (computed && property.type === "SliceExpression") return sliceOf(sub(object));
    const name = computed ? constantString(property) : identifierName(property);
    // The for loop's counters, unless the template binds "loop" itself ({% set loop = … %}, a macro parameter).
    if (identifierName(object) === "loop" && !this.names.has("loop") && name !== undefined && !computed) return LOOP_ITEMS.has(name) ? Origin.Built : Origin.Number;
    const base = sub(object);
    let out = elementOf(base & ~Origin.Namespace);
    if (base & Origin.Namespace) out |= this.namespaceAttribute(name);
    // A string key from render-time data makes plain Jinja fall back to getattr: the result may be any attribute.
    if (computed && name === undefined && sub(property) & Origin.Data) out |= Origin.Dynamic;
    return out;
  }

  private callOrigin(node: Node, sub: (n: unknown) => number): number {
    const callee = node["callee"] as Node;
    const args = node["args"] as Node[];
    const argOrigins = args.reduce((o, a) => o | sub(a), 0);
    const name = calleeName(node);
    if (name !== undefined) {
      // A name the template binds is its own callable (a macro named range or namespace), whatever global it shadows.
      // dict(a=x) and cycler(x) hand x back.
      if (this.names.has(name) || OPAQUE_CALLABLES.has(name)) return Origin.Built | (argOrigins & Origin.Dynamic);
      if (Object.hasOwn(CALL_RESULTS, name)) return CALL_RESULTS[name]!;
      // A render-time function (raise_exception, strftime_now): data, or whatever the template fed it.
      return derived(Origin.Data, argOrigins);
    }
    if (callee.type !== "MemberExpression" || callee["computed"] === true) return Origin.Built;
    const receiver = sub(callee["object"]);
    const method = identifierName(callee["property"] as Node) ?? "";
    if (method === "get") return elementOf(receiver) | (args[1] ? sub(args[1]) : 0);
    if (!PRESERVING_METHODS.has(method) || receiver & Origin.View) return Origin.Built | ((receiver | argOrigins) & Origin.Dynamic);
    return derived(receiver, argOrigins) | (VIEW_METHODS.has(method) ? Origin.View : 0);
  }

  /** A namespace attribute by name, or any of them for a computed key; Built where the template fills namespaces unseen. */
  private namespaceAttribute(name: string | undefined): number {
    if (this.opaqueNamespace) return Origin.Built;
    if (name === undefined) return this.attributes.size === 0 ? Origin.Built : [...this.attributes.values()].reduce((a, b) => a | b, 0);
    // An attribute no namespace() keyword or set binds: nothing the analysis saw put it there.
    return this.attributes.get(name) ?? Origin.Built;
  }

  private filterOrigin(node: Node, sub: (n: unknown) => number): number {
    const { name = "", args } = filterParts(node["filter"] as Node);
    const operand = sub(node["operand"]);
    const { positional, keywords } = splitArguments(args);
    const argOrigins = args.reduce((o, a) => o | sub(a), 0);
    if (NUMERIC_FILTERS.has(name)) return Origin.Number;
    if (name === "default" || name === "d") return operand | argOrigins;
    // map with a positional argument applies a filter by name (format among them).
    if (!PRESERVING_FILTERS.has(name) || (name === "map" && positional.length > 0)) return Origin.Built | ((operand | argOrigins) & Origin.Dynamic);
    // join assembles one string from several pieces of data, which can spell any name.
    if (name === "join" && operand & (Origin.Data | Origin.Dynamic)) return Origin.Built;
    // Any other filter of a view works on its text (|string, |upper…), which is its repr.
    if (operand & Origin.View && !CONSUMING_FILTERS.has(name)) return Origin.Built;
    return derived(operand & ~Origin.View, keywords.size > 0 && name === "map" ? 0 : argOrigins) | (VIEW_FILTERS.has(name) ? Origin.View : 0);
  }

  /** Records every binding of the template: set, for, macro parameters, namespace() arguments. */
  private collect(program: Node): void {
    const macros = new Map<string, Node[]>();
    const calls: Node[] = [];
    const callees = new Set<Node>();
    const identifiers: Node[] = [];
    const stack: Node[] = [program];
    while (stack.length > 0) {
      const node = stack.pop()!;
      switch (node.type) {
        case "Set":
          this.bindSet(node);
          break;
        case "For":
          this.bindPattern(node["loopvar"] as Node, () => elementOf(this.origin(node["iterable"] as Node)));
          break;
        case "Macro": {
          const name = identifierName(node["name"] as Node)!;
          macros.set(name, [...(macros.get(name) ?? []), node]);
          this.bind({ name }, () => Origin.Built);
          break;
        }
        case "CallStatement":
          for (const param of (node["callerArgs"] as Node[] | null) ?? []) this.bindParameter(param, () => Origin.Built);
          break;
        case "CallExpression":
          calls.push(node);
          callees.add(node["callee"] as Node);
          if (calleeName(node) === "namespace") this.bindNamespace(node);
          this.bindMutation(node);
          break;
        case "Identifier":
          identifiers.push(node);
          break;
      }
      stack.push(...children(node));
    }
    // varargs and kwargs hold whatever a macro's callers passed beyond its parameters.
    this.bind({ name: "varargs" }, () => Origin.Built);
    this.bind({ name: "kwargs" }, () => Origin.Built);
    const escaped = new Set(identifiers.filter((id) => !callees.has(id)).map((id) => id["value"] as string));
    for (const [name, definitions] of macros) {
      for (const macro of definitions) this.bindMacro(macro, escaped.has(name) ? [] : calls.filter((c) => calleeName(c) === name), escaped.has(name));
    }
  }

  private bindSet(node: Node): void {
    const value = node["value"];
    // The block form captures rendered template text.
    const origin = isNode(value) ? () => this.origin(value) : () => Origin.Built;
    this.bindPattern(node["assignee"] as Node, origin);
  }

  /** A name, a namespace attribute (`ns.x`), or a tuple of them unpacking a value. */
  private bindPattern(pattern: Node, origin: () => number): void {
    if (pattern.type === "Identifier") this.bind({ name: pattern["value"] as string }, origin);
    else if (pattern.type === "MemberExpression" && pattern["computed"] !== true) this.bind({ attribute: identifierName(pattern["property"] as Node) ?? "" }, origin);
    else if (pattern.type === "TupleLiteral") for (const p of pattern["value"] as Node[]) this.bindPattern(p, () => elementOf(origin()));
  }

  /** `xs.append(v)`, `d.update(…)`: the arguments flow into the receiver's name (or namespace attribute). */
  private bindMutation(call: Node): void {
    const callee = call["callee"] as Node;
    if (callee.type !== "MemberExpression" || !MUTATORS.has(identifierName(callee["property"] as Node) ?? "")) return;
    const args = call["args"] as Node[];
    const value = (): number => Origin.Data | containerOrigin(args.map((a) => this.origin(a)));
    for (let receiver = callee["object"] as Node; ; receiver = receiver["object"] as Node) {
      if (receiver.type === "Identifier") return this.bind({ name: receiver["value"] as string }, value);
      if (receiver.type !== "MemberExpression") return;
      const attribute = receiver["computed"] === true ? undefined : identifierName(receiver["property"] as Node);
      if (attribute !== undefined) this.bind({ attribute }, value);
    }
  }

  /** namespace(a=…) and namespace({'a': …}) bind by name; any other argument (a dict variable, dict(), ** spread, pairs) makes every attribute unknown. */
  private bindNamespace(call: Node): void {
    for (const arg of call["args"] as Node[]) {
      if (arg.type === "KeywordArgumentExpression") this.bind({ attribute: identifierName(arg["key"] as Node) ?? "" }, () => this.origin(arg["value"] as Node));
      else if (!this.bindLiteralDict(arg)) this.opaqueNamespace = true;
    }
  }

  /** Binds the entries of a dict literal with constant keys as namespace attributes; false for anything else. */
  private bindLiteralDict(arg: Node): boolean {
    if (arg.type !== "ObjectLiteral") return false;
    const entries = [...(arg["value"] as Map<Node, Node>)].map(([key, value]) => ({ attribute: constantString(key), value }));
    if (entries.some((e) => e.attribute === undefined)) return false;
    for (const { attribute, value } of entries) this.bind({ attribute: attribute! }, () => this.origin(value));
    return true;
  }

  /** Parameters get their defaults and the arguments of every direct call; a macro used as a value gets unknown arguments. */
  private bindMacro(macro: Node, calls: readonly Node[], escaped: boolean): void {
    const params = macro["args"] as Node[];
    params.forEach((param, i) => {
      const name = param.type === "KeywordArgumentExpression" ? identifierName(param["key"] as Node) : identifierName(param);
      if (name === undefined) return;
      const sources: Node[] = param.type === "KeywordArgumentExpression" ? [param["value"] as Node] : [];
      let unknown = escaped;
      for (const call of calls) {
        const args = call["args"] as Node[];
        const { positional, keywords } = splitArguments(args);
        if (args.some((a) => a.type === "SpreadExpression" || a.type === "KeywordSpreadExpression")) unknown = true;
        const arg = i < positional.length ? positional[i] : keywords.get(name);
        if (arg) sources.push(arg);
      }
      this.bindParameter(param, () => (unknown ? Origin.Built : 0) | sources.reduce((o, s) => o | this.origin(s), 0));
    });
  }

  private bindParameter(param: Node, origin: () => number): void {
    const name = param.type === "KeywordArgumentExpression" ? identifierName(param["key"] as Node) : identifierName(param);
    if (name !== undefined) this.bind({ name }, origin);
  }

  private bind(target: Target, value: () => number): void {
    this.bindings.push({ target, value });
    const map = "name" in target ? this.names : this.attributes;
    const key = "name" in target ? target.name : target.attribute;
    if (!map.has(key)) map.set(key, 0);
  }

  /**
   * Names and attributes no binding gave an origin (a macro parameter no call passes, what a loop
   * over such a name binds) are unknown, not safe: Built, before solving again to carry that on.
   */
  private failClosed(): void {
    for (const map of [this.names, this.attributes]) for (const [key, origin] of map) if (origin === 0) map.set(key, Origin.Built);
  }

  /** Evaluates every binding until nothing changes; false if MAX_PASSES ran out first. */
  private solve(): boolean {
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      let changed = false;
      for (const { target, value } of this.bindings) {
        const map = "name" in target ? this.names : this.attributes;
        const key = "name" in target ? target.name : target.attribute;
        const before = map.get(key) ?? 0;
        const after = before | value();
        if (after !== before) {
          map.set(key, after);
          changed = true;
        }
      }
      if (!changed) return true;
    }
    return false;
  }
}

function literalOrigin(value: string): number {
  if (value.startsWith("_")) return Origin.Built;
  return value.includes("_") ? Origin.Literal : Origin.Plain;
}

/**
 * A value computed from `input` by an operation that creates no underscore, with `extra` inputs
 * (arguments): data changed on its own stays data, data mixed with template strings is Built.
 */
function derived(input: number, extra: number): number {
  const all = input | extra;
  if (all & UNKNOWN) return Origin.Built | (all & Origin.Dynamic);
  if (all & (Origin.Data | Origin.Dynamic)) return extra & ~Origin.Number ? Origin.Built | (all & Origin.Dynamic) : all & (Origin.Data | Origin.Dynamic);
  return all & Origin.Plain || Origin.Number;
}

/** What iterating or indexing a value of origins `o` yields. A literal holding "_" yields its characters, "_" among them. */
function elementOf(o: number): number {
  let out = o & (Origin.Number | Origin.Data | Origin.Dynamic);
  if (o & Origin.Plain) out |= Origin.Plain | Origin.Number;
  if (o & Origin.Literals) out |= Origin.Literal | Origin.Number;
  if (o & (Origin.Literal | Origin.Built | Origin.Namespace)) out |= Origin.Built;
  return out;
}

/** A slice keeps a list what it was, but cuts a literal string into a new string. */
function sliceOf(o: number): number {
  return (o & ~(Origin.Literal | Origin.Namespace)) | (o & (Origin.Literal | Origin.Namespace) ? Origin.Built : 0);
}

/** A list, tuple or dict literal whose members have the given origins. */
function containerOrigin(members: readonly number[]): number {
  // An empty one yields nothing and renders as "[]" or "{}".
  if (members.length === 0) return Origin.Number;
  const all = members.reduce((a, b) => a | b, 0);
  // A list or dict renders its members' reprs: a view's among them. Indexing it yields them again (elementOf keeps Dynamic).
  if (all & (Origin.Literals | Origin.Built | Origin.Namespace | Origin.Dynamic | Origin.View)) return Origin.Built | (all & Origin.Dynamic);
  return (all & Origin.Literal ? Origin.Literals : 0) | (all & (Origin.Number | Origin.Data | Origin.Plain));
}

function binaryOrigin(node: Node, sub: (n: unknown) => number): number {
  const op = operatorOf(node);
  const left = sub(node["left"]);
  const right = sub(node["right"]);
  if (op === "and" || op === "or") return left | right;
  if (["==", "!=", "<", ">", "<=", ">=", "in", "not in", "is", "is not"].includes(op)) return Origin.Number;
  if (op === "~" || op === "+") {
    const folded = constantString(node);
    if (folded !== undefined) return literalOrigin(folded);
  }
  if ((left | right) === Origin.Number || ["-", "/", "//", "**"].includes(op)) return Origin.Number;
  // Concatenating plain strings (or repeating them) makes a plain string; % formats (`'%c' % 95`) and data pieces can spell anything.
  if (op !== "%" && ((left | right) & ~(Origin.Plain | Origin.Number)) === 0) return Origin.Plain;
  return Origin.Built;
}
