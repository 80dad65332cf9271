/**
 * Observes the symbolic machine and turns what a stream would import and call into findings.
 * Uses of each imported name are gathered first and judged once at the end, so a name that is
 * imported at one offset and called at another gets one finding at the severity of its worst use.
 */
import { own } from "../own.js";
import { LIMITS } from "../limits.js";
import { CALLS_ITS_ARGUMENT, SETS_STATE_FROM_ARGUMENT, TENSOR_REBUILDERS } from "../rules/callables.js";
import type { ReportExtra } from "../formats/context.js";
import type { RuleId } from "../rules/catalogue.js";
import type { BuildDirective, IssueKind, MachineObserver, StreamOutcome } from "./machine.js";
import { judge, normalModule, type JudgeOptions, type Judgement } from "./judge.js";
import { joblibDirective, isJoblibWrapper } from "./joblib.js";
import {
  FORGOTTEN,
  reachesForgotten,
  bytesPayloads,
  describe,
  dictEntries,
  isSym,
  qualifiedName,
  type BigConstant,
  type BytesConst,
  type CallResult,
  type DynamicGlobal,
  type GlobalRef,
  type PersistentRef,
  type Value,
} from "./values.js";

/** How an imported name was used; the worst use decides the rule. */
type Use = "import" | "construct" | "call";

interface NameUse {
  /** The normalised qualified name. */
  name: string;
  ref: GlobalRef;
  judgement: Judgement;
  /** What the name does with its arguments, looked up once per name rather than once per call. */
  forwarded: (typeof CALLS_ITS_ARGUMENT)[string] | undefined;
  stateAt: number | undefined;
  rebuildsTensor: boolean;
  worst: Use;
  /** Calls and constructions; an import followed by its call is one use. */
  calls: number;
  /** The first call or construction, for evidence. */
  firstCall?: CallResult;
}

/** Layout-specific observers (PyTorch storages and tensors). */
export interface PickleHooks {
  onPersistentId?(ref: PersistentRef): void;
  onTensorRebuild?(rebuilder: string, call: CallResult): void;
}

export interface NestedPayload {
  payload: BytesConst | BigConstant;
  callee: string;
}

/** See PickleAnalyst.beginStream. */
export type StreamKind = "sure" | "trailing" | "tentative";

export type Reporter = (rule: RuleId, message: string, extra?: ReportExtra) => void;

const ISSUE_RULE: Record<IssueKind, RuleId> = {
  broken: "MG110",
  limit: "MG111",
  malformed: "MG112",
  ambiguous: "MG131",
};

const USE_RANK: Record<Use, number> = { import: 0, construct: 1, call: 2 };
const DANGEROUS_STATE_KEY = /^__\w+__$/;

export class PickleAnalyst implements MachineObserver {
  private readonly uses = new Map<string, NameUse>();
  private readonly byRef = new WeakMap<GlobalRef, NameUse>();
  private overflowNames = 0;
  private deferred: { kind: IssueKind; message: string; at: number }[] | undefined;
  private streamKind: StreamKind = "sure";
  readonly nested: NestedPayload[] = [];

  constructor(
    private readonly report: Reporter,
    private readonly judging: JudgeOptions,
    private readonly hooks: PickleHooks = {},
  ) {}

  // ---- stream bookkeeping

  /**
   * How sure we are that a stream is a pickle before it runs. "sure" streams report every issue.
   * The others hold their issues until the stream ends: if it breaks before importing or calling
   * anything, it was data, not code (bytes after STOP; raw data that only resembled a pickle).
   */
  beginStream(kind: StreamKind): void {
    this.streamKind = kind;
    this.deferred = kind === "sure" ? undefined : [];
  }

  endStream(outcome: StreamOutcome, start: number, size: number): void {
    const deferred = this.deferred;
    this.deferred = undefined;
    if (!deferred) return;
    if (!outcome.stopped && outcome.effects === 0) {
      if (this.streamKind === "trailing") this.report("MG113", `${size - start} bytes after the last STOP are not a pickle`, { offset: start });
      return;
    }
    for (const d of deferred) this.onIssue(d.kind, d.message, d.at);
  }

  // ---- machine events

  onImport(g: GlobalRef): void {
    this.use(g, "import");
  }

  onDynamicImport(d: DynamicGlobal): void {
    this.report("MG103", `imports a name that is not a constant string: ${describe(d)}`, {
      offset: d.at,
      evidence: `STACK_GLOBAL module=${describe(d.module)} name=${describe(d.name)}`,
    });
  }

  onCall(c: CallResult): void {
    const fn = c.fn;
    if (!isSym(fn)) {
      this.report("MG112", `${c.kind} calls a ${fn === null ? "None" : typeof fn} constant, which is not callable`, {
        offset: c.at,
        evidence: describe(c),
      });
      return;
    }
    if (fn === FORGOTTEN || reachesForgotten(c.args)) {
      this.forgotten(fn === FORGOTTEN ? `${c.kind} calls a value` : `${c.kind} passes ${describe(fn)} a value`, c.at);
      if (fn === FORGOTTEN) return;
    }
    switch (fn.t) {
      case "global":
        this.onGlobalCall(fn, c);
        return;
      case "dynglobal":
      case "opaque":
        return; // already reported where the callee was produced
      default:
        this.report("MG107", `${c.kind} calls a value produced at load time: ${describe(fn)}`, {
          offset: c.at,
          evidence: describe(c),
        });
    }
  }

  onBuild(target: Value, state: Value, at: number): BuildDirective {
    const inTarget = reachesForgotten(target);
    if (inTarget || reachesForgotten(state)) {
      this.forgotten(`BUILD's ${inTarget ? "target" : "state"} holds a value`, at);
      if (target === FORGOTTEN) return undefined;
    }
    if (isSym(target) && target.t === "global") {
      this.report("MG106", `BUILD sets attributes on the imported object ${qualifiedName(target)}`, {
        offset: at,
        evidence: `BUILD ${qualifiedName(target)} with ${describe(state)}`,
      });
      return undefined;
    }
    const dunders = dunderKeys(state);
    if (dunders.length > 0) {
      this.report("MG106", `BUILD sets dunder attributes ${dunders.join(", ")}`, { offset: at, evidence: describe(state) });
    }
    if (isJoblibWrapper(target)) {
      const d = joblibDirective(state);
      if (typeof d === "string") this.report("MG112", `joblib array wrapper: ${d}; the stream after it cannot be followed`, { offset: at });
      else return d;
    }
    return undefined;
  }

  onExt(code: number, at: number): void {
    this.report("MG105", `imports through the copyreg extension registry (code ${code})`, { offset: at, evidence: `EXT code ${code}` });
  }

  onPersistentId(ref: PersistentRef): void {
    this.hooks.onPersistentId?.(ref);
  }

  onIssue(kind: IssueKind, message: string, at: number): void {
    if (this.deferred) this.deferred.push({ kind, message, at });
    else this.report(ISSUE_RULE[kind], message, { offset: at });
  }

  /**
   * A call or BUILD whose callee, arguments, target or state hold a memo entry the machine dropped
   * past its memo bounds (FORGOTTEN, at any depth): what it does depends on a value no longer
   * known, so it is reported as well as judged on what is known.
   */
  private forgotten(use: string, at: number): void {
    this.report("MG111", `${use} the scanner dropped from an outsized memo (past ${LIMITS.pickleMemoRetainAll} entries and its memory budget); what it does cannot be judged`, { offset: at });
  }

  // ---- judging

  private onGlobalCall(fn: GlobalRef, c: CallResult): void {
    const use: Use = c.kind === "NEWOBJ" || c.kind === "NEWOBJ_EX" ? "construct" : "call";
    const u = this.use(fn, use, c);
    if (!u) return; // past the distinct-name bound: counted, reported once at flush
    const { name, forwarded, stateAt } = u;
    for (const index of forwarded?.indices ?? []) {
      const arg = argAt(c.args, index);
      if (isSym(arg) && arg.t === "global") this.use(arg, forwarded!.construct ? "construct" : "call", c);
      else if (isSym(arg) && arg.t !== "dynglobal" && arg.t !== "opaque") {
        this.report("MG107", `${name} is given a callable produced at load time: ${describe(arg)}`, {
          offset: c.at,
          evidence: describe(c),
        });
      }
    }
    const dunders = stateAt === undefined ? [] : dunderKeys(argAt(c.args, stateAt));
    if (dunders.length > 0) {
      this.report("MG106", `${name} sets dunder attributes ${dunders.join(", ")}`, { offset: c.at, evidence: describe(c) });
    }
    if (u.rebuildsTensor) this.hooks.onTensorRebuild?.(name, c);
    const j = u.judgement;
    if ((j.kind === "deny" || j.kind === "walk") && j.entry?.nested) {
      for (const payload of bytesPayloads(c.args)) {
        if (payload.t === "bytes" ? payload.data.length > 0 : payload.len <= LIMITS.pickleMaxNestedPayload) {
          this.nested.push({ payload, callee: name });
        }
      }
    }
  }

  /** Records one use of an imported name; undefined past the bound on distinct names (counted, not judged). */
  private use(g: GlobalRef, use: Use, call?: CallResult): NameUse | undefined {
    // A memoized import is one GlobalRef used by every call through it: its name is built once.
    let u = this.byRef.get(g);
    if (!u) {
      const key = `${normalModule(g.module)}.${g.name}`;
      u = this.uses.get(key);
      if (!u) {
        if (this.uses.size >= LIMITS.pickleMaxDistinctGlobals) {
          this.overflowNames++;
          return undefined;
        }
        u = {
          name: key,
          ref: g,
          judgement: judge(g.module, g.name, this.judging),
          forwarded: own(CALLS_ITS_ARGUMENT, key),
          stateAt: own(SETS_STATE_FROM_ARGUMENT, key),
          rebuildsTensor: TENSOR_REBUILDERS.has(key),
          worst: use,
          calls: 0,
        };
        this.uses.set(key, u);
      }
      this.byRef.set(g, u);
    }
    if (use !== "import") u.calls++;
    if (USE_RANK[use] > USE_RANK[u.worst]) u.worst = use;
    if (call && !u.firstCall) u.firstCall = call;
    return u;
  }

  /** Reports every name that was not allowed, once, at the severity of its worst use. */
  flush(): void {
    for (const [name, u] of this.uses) {
      const j = u.judgement;
      if (j.kind === "allow") continue;
      const how = u.firstCall ? `${describe(u.firstCall)} via ${u.firstCall.kind}` : `imported via ${u.ref.via}`;
      const extra: ReportExtra = {
        offset: u.firstCall?.at ?? u.ref.at,
        evidence: u.calls > 1 ? `${how} (${u.calls} calls)` : how,
      };
      const verb = u.worst === "call" ? "calls" : u.worst === "construct" ? "constructs" : "imports";
      if (j.kind === "deny") {
        this.report("MG100", `${verb} ${name}, which ${j.entry.reason}`, { ...extra, severity: j.entry.severity });
      } else if (j.kind === "walk") {
        const why = j.entry ? `, which ${j.entry.reason}` : "";
        this.report("MG104", `${verb} ${name} by walking attributes of ${u.ref.module}${why}`, extra);
      } else if (u.worst === "call") {
        this.report("MG101", `calls ${name}, which is not on the allowlist`, extra);
      } else {
        this.report("MG102", `${verb} ${name}, which is not on the allowlist`, extra);
      }
    }
    if (this.overflowNames > 0) {
      this.report("MG111", `more than ${LIMITS.pickleMaxDistinctGlobals} distinct imported names; ${this.overflowNames} uses were not judged`);
    }
  }
}

function argAt(args: Value, index: number): Value | undefined {
  return isSym(args) && args.t === "tuple" ? args.items[index] : undefined;
}

/** Dunder keys in a BUILD state: a dict, or the (dict, slotstate) pair. */
function dunderKeys(state: Value | undefined): string[] {
  if (!isSym(state)) return [];
  const dicts = state.t === "dict" ? [state] : state.t === "tuple" ? state.items.filter((i) => isSym(i) && i.t === "dict") : [];
  const keys: string[] = [];
  for (const d of dicts) {
    if (!isSym(d) || d.t !== "dict") continue;
    for (const [k] of dictEntries(d)) if (typeof k === "string" && DANGEROUS_STATE_KEY.test(k)) keys.push(k);
  }
  return keys;
}
