/**
 * Observes the symbolic machine and turns what a stream would import and call into findings.
 * Uses of each imported name are gathered first and judged once at the end, so a name that is
 * imported at one offset and called at another gets one finding at the severity of its worst use.
 */
import { createHash } from "node:crypto";
import { LIMITS } from "../limits.js";
import { allowEntry, covers, isAllowlistedPackage, type AllowEntry } from "../rules/allowlist.js";
import { isInstalledModule, isSecondReadingModule } from "../rules/loaderModules.js";
import { TENSOR_REBUILDERS } from "../rules/callables.js";
import type { ReportExtra } from "../formats/context.js";
import { ruleInfo, type RuleId } from "../rules/catalogue.js";
import { atLeast } from "../types.js";
import type { BuildDirective, IssueKind, MachineObserver, StreamOutcome } from "./machine.js";
import { importedName, judge, qualified, type JudgeOptions, type Judgement } from "./judge.js";
import { joblibDirective, isJoblibWrapper } from "./joblib.js";
import { dormantPayloads, type Dormant } from "./dormant.js";
import { foldCodecsEncode, foldMethod, foldsCodec, type Arg, type Text } from "./folding.js";
import { PYTHON_CODECS } from "./codecNames.js";
import { trailingExponent } from "./literals.js";
import { RECONSTRUCTORS, StructureFacts, checksCall } from "./structures.js";
import { pillowImage, STATE_GUARDS, stateProblem, type StateGuard } from "./stateGuards.js";
import { MAX_WALKED_ITEMS, UNKNOWN_SIZE, codecName, encodedSize, fetchedFrom, hugeDecimalExponent, pastTenExponent, receiverOf, sizeValue, textMethod, textSize, walkedItems } from "./madeSizes.js";
import {
  dictEntries,
  FORGOTTEN,
  reachesForgotten,
  callResult,
  emptyDict,
  tuple,
  bytesPayloads,
  codecsEncoded,
  describe,
  dictGet,
  heldNeverCalled,
  isPlain,
  isSym,
  qualifiedName,
  type BigConstant,
  type BytesConst,
  type CallResult,
  type Dict,
  type DynamicGlobal,
  type GlobalRef,
  type Opaque,
  type PersistentRef,
  type Sym,
  type Tuple,
  type Value,
} from "./values.js";

/** How an imported name was used; the worst use decides the rule. */
type Use = "import" | "construct" | "call";

interface NameUse {
  /** The normalised qualified name. */
  name: string;
  ref: GlobalRef;
  judgement: Judgement;
  /** An allowlisted callee whose arguments have no role and whose calls no rule reads by name (silentCallee). */
  silent: boolean;
  rebuildsTensor: boolean;
  worst: Use;
  /** Calls and constructions; an import followed by its call is one use. */
  calls: number;
  /** Calls a convention excused (see PickleAnalyst.convention). */
  excused: number;
  /** The first call or construction, for evidence. */
  firstCall?: CallResult;
}

/** What classOf tells of a value: the allowlisted class it is (`isClass`) or is an instance of. */
interface AllowedClass {
  name: string;
  isClass: boolean;
  entry: AllowEntry | undefined;
}

/** Layout-specific observers (PyTorch storages and tensors). */
export interface PickleHooks {
  /** See MachineObserver.onPersistentId. */
  onPersistentId?(ref: PersistentRef): Value | undefined;
  onTensorRebuild?(rebuilder: string, call: CallResult): void;
}

export interface NestedPayload {
  payload: BytesConst | BigConstant;
  callee: string;
  /** The call, when it was excused as loading a storage (loadsScannedBytes): unless the bytes are one, it is reported after all. */
  loadsStorage: CallResult | undefined;
}

/** See PickleAnalyst.beginStream. */
export type StreamKind = "sure" | "trailing" | "tentative";

export type Reporter = (rule: RuleId, message: string, extra?: ReportExtra) => void;

const ISSUE_RULE: Record<IssueKind, RuleId> = {
  broken: "MG110",
  limit: "MG111",
  malformed: "MG112",
  ambiguous: "MG131",
  allocation: "MG109",
};

const USE_RANK: Record<Use, number> = { import: 0, construct: 1, call: 2 };
const DANGEROUS_STATE_KEY = /^__\w+__$/;
const UNDERSCORE = 0x5f;
/** Dunder keys that only document an instance, when their value is a string. */
const DOC_KEYS: ReadonlySet<string> = new Set(["__doc__", "__name__", "__qualname__", "__module__"]);
/**
 * Dunder attributes libraries set on instances that Python gives no meaning (no protocol reads
 * them): typing's `__orig_class__` on an instance of a generic class, networkx's per-graph
 * `__networkx_cache__`. Their values are judged as any attribute's are.
 */
const INERT_KEYS: ReadonlySet<string> = new Set(["__orig_class__", "__networkx_cache__"]);
/**
 * pydantic v2 models' state (its __setstate__ sets each as it is; on any other object they are
 * plain attributes). `__dict__` becomes the instance's dict and pydantic serves the extra and
 * private ones as attributes: each must be None, a set, or a dict whose keys are all read and none a dunder.
 */
const PYDANTIC_KEYS: ReadonlySet<string> = new Set(["__dict__", "__pydantic_extra__", "__pydantic_fields_set__", "__pydantic_private__"]);

export class PickleAnalyst implements MachineObserver {
  private readonly uses = new Map<string, NameUse>();
  private readonly byRef = new WeakMap<GlobalRef, NameUse>();
  /** The name (its last part) each import opcode imported, by offset: what a second reading of an inline pickle compares with. */
  private readonly importedNames = new Map<number, string>();
  private overflowNames = 0;
  private deferred: { kind: IssueKind; message: string; at: number }[] | undefined;
  private streamKind: StreamKind = "sure";
  private readonly structures = new StructureFacts();
  /** The states BUILD gave each object so far (a few), for what slot state may call (see slotState). */
  private readonly statesOf = new WeakMap<CallResult, Value[]>();
  /** Type hints and key functions storedValue excused (a hint may be a further hint's parameter), with their size (hintSize). */
  private readonly keptValues = new WeakMap<CallResult, number>();
  /**
   * Calls a convention excused (getattr of an allowlisted method, an enum member or a builtin type's
   * method): their results are safe to invoke; an allowlisted method's entry says how it treats its arguments.
   */
  private readonly excusedCalls = new WeakMap<CallResult, { name: string; entry: AllowEntry } | undefined>();
  readonly nested: NestedPayload[] = [];
  /** Tensors rebuilt on each storage torch.storage._load_from_bytes loads, by that call (see NestedPayload.loadsStorage). */
  readonly loadedViews = new Map<CallResult, { rebuilder: string; call: CallResult }[]>();
  /** Second stages found in text the pickle computes at load from constants (see folding.ts), for the caller to scan. */
  readonly computed: { at: number; found: Dormant }[] = [];
  /** What each folded call computes, for calls that take it further. */
  private readonly folded = new WeakMap<CallResult, Text>();
  /** Characters, bytes and items folding read, made and decoded so far in this file (bounded by LIMITS.dormantMaxInput). */
  private foldedSize = 0;
  /** Characters and bytes builtin text methods make at load, summed over the file (see onExcusedCall). */
  private madeText = 0;
  private madeTextReported = false;
  /** Squared bits of the large integers calls were given (see bigIntegers). */
  private numberWork = 0;
  private numberWorkReported = false;
  private longIntegerReported = false;
  /** Hashes of the texts folded, each looked at once. */
  private readonly foldedKeys = new Set<string>();
  /** Structures whose check waits for bytes skipped unread, read back by the format once the streams are done. */
  readonly deferredStructures = this.structures.deferred;
  /** Names carrier objects (partials, wrapped hooks) hold to call when they are called (see invoked). */
  private readonly held = new WeakMap<CallResult, Value[]>();
  /** Carrier objects invoked at load: what they are given afterwards is called at load too. */
  private readonly calledHolders = new WeakSet<CallResult>();
  /** Carrier objects a state stored as an attribute: what they are given afterwards is checked as stored too (see storedCallees). */
  private readonly storedHolders = new WeakSet<CallResult>();
  /** Imports of classes never to be called reported where they were put or handed (see reportNeverCalled), once each. */
  private readonly reportedNeverCalled = new WeakSet<GlobalRef>();
  /** Carriers reported for holding a class never to be called (see hold), once each. */
  private readonly reportedHolders = new WeakSet<CallResult>();
  /** Carrier calls reported for what they hand an allocating callee (see carriedBomb), once each. */
  private readonly bombedCarriers = new WeakSet<CallResult>();
  /** Per dict, the values past its kept sample that an attribute set from it could be called as (see onUnkeptValue). */
  private readonly unkeptCallees = new WeakMap<Dict, Value[]>();
  /** Elements the sized classes called so far allocate (see sizedCall), and whether their total was reported. */
  private sizedElements = 0;
  private sizedTotalReported = false;
  /** Pillow images' pixels and the distinct data values they were read from (see pixelsAllocated). */
  private readonly pixels = { allocated: 0, data: 0, values: new WeakSet<object>(), texts: new Set<string>(), reported: false };
  /** Objects BUILD gave a state (see forwardedBuild). */
  private readonly builtObjects = new WeakSet<Sym>();
  private setstateNamed = false;
  private itemsByLookupReported = false;
  /** Objects given a key that is not plain data by SETITEM(S) (see onSetItems). */
  private readonly keyedObjects = new WeakSet<CallResult>();
  /** Whether a machine has dropped a value from its memo: until then nothing can hold FORGOTTEN, and uses are not walked for it. */
  private forgetting = false;

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

  /**
   * Whether REDUCE calling `module`.`name` on constants (str, bytes, numbers, None, booleans) is a
   * call this analyst says nothing of, whatever the constants (see silentCallee). The plain-data
   * proof asks, to let records holding dates or decimals skip the machine.
   */
  callsSilently(module: string, name: string): boolean {
    return silentlyJudged(qualified(module, name), judge(module, name, this.judging));
  }

  onImport(g: GlobalRef): boolean {
    if (this.importedNames.size < MAX_IMPORT_OFFSETS) this.importedNames.set(g.at, g.name);
    this.use(g, "import");
    return this.calleeProblem(g)?.rule === "MG101";
  }

  onDynamicImport(d: DynamicGlobal): void {
    // STACK_GLOBAL refuses anything but str: a class or an object of another class as an operand is a failed load, no import.
    if (this.secondReading && (this.notStr(d.module) || this.notStr(d.name))) return;
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
    if (fn === FORGOTTEN || this.reachesDropped(c.args)) {
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
        if (fn.t === "call" && this.excusedCalls.has(fn)) this.onExcusedCall(this.excusedCalls.get(fn), c);
        else this.report("MG107", `${c.kind} calls a value produced at load time: ${describe(fn)}`, { offset: c.at, evidence: describe(c) });
    }
  }

  onBuild(target: Value, state: Value, at: number): BuildDirective {
    this.forwardedBuild(target, state, at);
    const inTarget = this.reachesDropped(target);
    if (inTarget || this.reachesDropped(state)) {
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
    // The same object reached through a call that returns it (numpy.object_(cls)) or a class type(x) returns:
    // its attributes are every instance's (red team round 38: a method planted on interp1d itself).
    const object = this.objectOf(target);
    if (object !== target && isSym(object) && object.t === "global") {
      this.report("MG106", `BUILD sets attributes on the imported object ${qualifiedName(object)}, reached through ${describe(target)}`, { offset: at, evidence: describe(state) });
      return undefined;
    }
    if (isSym(target) && target.t === "call" && isSym(target.fn) && target.fn.t === "global" && importedName(target.fn) === "builtins.type" && positional(target)?.length === 1) {
      this.report("MG106", `BUILD sets attributes on ${describe(target)}, a class: they become every instance's`, { offset: at, evidence: describe(state) });
      return undefined;
    }
    if (isSym(target) && target.t === "call" && this.keptValues.has(target)) {
      // A typing alias sets attributes on its origin, and its own __origin__ is what calling it calls.
      this.report("MG106", `BUILD sets attributes on ${this.excusedCalls.get(target)!.name}, a type hint or key function, which passes them to the class it names or changes what it calls`, { offset: at, evidence: describe(target) });
    }
    this.checkState(state, "BUILD sets", at, state);
    const cls = this.classOf(target);
    this.stateCalls(target, cls, state, at);
    this.stateCallbacks(target, cls, state, at);
    this.slotState(target, state, at);
    // __setstate__ gets the whole state, tuples too (a partial's bound arguments): it may call what it holds.
    this.neverCalledIn(state, "BUILD hands __setstate__", at, state);
    // ... and may draw what it holds (random.Random's reads its internal state through a generator).
    const range = rangeIn(state);
    if (range !== undefined) this.report("MG109", `BUILD hands __setstate__ a range of ${range === Infinity ? "unknown length" : range} items to draw at load time`, { offset: at, evidence: describe(state) });
    this.guardedState(target, state, at, "BUILD restores");
    this.registryState(target, state, at);
    this.structure(target, state, at);
    if (isJoblibWrapper(target)) {
      const d = joblibDirective(state, (dtype) => this.structures.dtypeState(dtype));
      if (typeof d === "string") this.report("MG112", `joblib array wrapper: ${d}; the stream after it cannot be followed`, { offset: at });
      else return d;
    }
    return undefined;
  }

  /** A call of what a getattr convention fetched: an allowlisted method is followed like any allowed call; a builtin method is checked for sizes. */
  private onExcusedCall(method: { name: string; entry: AllowEntry } | undefined, c: CallResult): void {
    if (method) {
      this.methodCalled(method, c);
      this.followArguments(method.name, method.entry, c);
      return;
    }
    const text = textMethod(c);
    const made = text !== undefined ? textSize(c) : 0;
    if (made <= LIMITS.dormantMaxInput && c.kind === "REDUCE") this.foldMethodCall(c);
    // str.encode(text, codec) is _codecs.encode(text, codec), quadratic codecs and all (and decode runs them backwards).
    const coded = text === "encode" || text === "decode" ? allocationOf("_codecs.encode", positional(c) ?? []) : undefined;
    const bomb = hugeIn(c.args) ?? coded ?? (made > MAX_ALLOCATION ? ` and makes up to ${made} characters or bytes at load time` : undefined);
    if (bomb) this.report("MG109", `${c.kind} calls ${describe(c.fn)}${bomb}`, { offset: c.at, evidence: describe(c) });
    // Each call under the bound, a hundred of them over it: what builtin methods make is bounded per file too.
    this.madeText += made;
    if (!bomb && this.madeText > MAX_ALLOCATION && !this.madeTextReported) {
      this.madeTextReported = true;
      this.report("MG109", `builtin text methods make ${this.madeText} characters or bytes in all at load time (${describe(c.fn)} passes the bound)`, { offset: c.at, evidence: describe(c) });
    }
    // list.index and list.count compare their items with what they look for, nested lists item by item,
    // the items of the list a method is bound to as well ({...}.get, [..].count).
    for (const arg of positional(c) ?? []) this.walked(describe(c.fn), arg, c);
    const receiver = isSym(c.fn) && c.fn.t === "call" && isSym(c.fn.args) && c.fn.args.t === "tuple" ? c.fn.args.items[0] : undefined;
    if (isSym(receiver) && receiver.t !== "global") this.walked(describe(c.fn), receiver, c);
    // What a builtin type's method is given can end up in what it makes (dict.fromkeys(keys, value)).
    this.neverCalledIn(c.args, `${describe(c.fn)} is given`, c.at, c);
  }

  /** A structure handed to a callee that walks it whole (comparing, printing or hashing it): bounded by what the walk visits. */
  private walked(callee: string, arg: Value, c: CallResult): void {
    const items = walkedItems(arg);
    if (items > MAX_WALKED_ITEMS) {
      this.report("MG109", `${callee} walks a structure whose shared parts make ${items >= Number.MAX_SAFE_INTEGER ? "more than 2**53" : items} items at load time (comparing, printing or hashing it visits each again)`, { offset: c.at, evidence: describe(c) });
    }
  }

  /** BUILD completing an array, a dtype or a sparse matrix an allowlisted name made: checked against itself. */
  private structure(target: Value, state: Value, at: number): void {
    if (!isSym(target) || target.t !== "call" || !isSym(target.fn) || target.fn.t !== "global") return;
    const u = this.byRef.get(target.fn);
    if (u?.judgement.kind !== "allow") return;
    const problem = this.structures.onBuild(u.name, target, state, at);
    if (problem) this.report(problem.kind === "array" ? "MG151" : "MG124", `pickled ${problem.message}`, { offset: at, evidence: describe(state) });
  }

  /**
   * State given to an object of an allowlisted class whose `__setstate__` executes part of it (SciPy
   * distributions), by BUILD or by a function that sets attributes. The class is the one the object
   * was made of, by a call or by copyreg's reconstructors; when it cannot be known, a state that
   * names the executed key (or holds more items than are kept) is held to the guard all the same,
   * since the attributes it plants are executed by the next BUILD.
   */
  private guardedState(target: Value | undefined, state: Value, at: number, what: string): void {
    // None sets nothing (and SciPy's __setstate__ fails on it before executing anything).
    if (state === null) return;
    // torch's rebuilders make tensors (a Parameter from _rebuild_parameter_with_state), never an object that executes its state.
    if (TENSOR_MAKER.test(globalName(target, true) ?? "")) return;
    const cls = this.classOf(target);
    const guards = cls ? (cls.entry?.stateGuard ? [cls.entry.stateGuard] : []) : this.guardReachable(target);
    if (guards.length === 0) return;
    // The outer-memo reading of an inline array pickle meets outer objects of classes it did not see made: noise there.
    if (!cls && this.secondReading) return;
    for (const guard of guards) {
      const problem = stateProblem(guard, state);
      if (!problem) continue;
      const whom = cls ? cls.name : `an object of a class the scanner cannot tell (it may be a ${GUARDED_BY[guard]})`;
      this.report(GUARD_RULES[guard], `${what} ${whom}, but ${problem}`, { offset: at, evidence: describe(state) });
      return;
    }
    if (guards.includes("pillow-image")) this.pixelsAllocated(state, at);
  }

  /**
   * Pixels the images a stream restores allocate, against the data they are read from: one bytes
   * value fetched from the memo may fill any number of images (red team round 33: a 1 KB joblib file
   * made a thousand 8 MB images from one buffer), so data counts once, and the pixels may take at most
   * what Pillow's storage makes of it (a 1-bit pixel takes a byte) plus a small allowance.
   */
  private pixelsAllocated(state: Value, at: number): void {
    const image = pillowImage(state);
    if (image === undefined || typeof image === "string" || this.pixels.reported) return;
    const { source } = image;
    const fresh = typeof source === "string" ? !this.pixels.texts.has(source) : !this.pixels.values.has(source);
    if (fresh) {
      if (typeof source === "string") this.pixels.texts.add(source);
      else this.pixels.values.add(source);
      this.pixels.data += image.dataBytes;
    }
    this.pixels.allocated += image.pixelBytes;
    if (this.pixels.allocated > PIXELS_PER_DATA_BYTE * this.pixels.data + PIXEL_ALLOWANCE) {
      this.pixels.reported = true;
      this.report("MG109", `the Pillow images restored allocate ${this.pixels.allocated} bytes of pixels from ${this.pixels.data} bytes of data in all: images that share their data allocate it each time`, { offset: at, evidence: describe(state) });
    }
  }

  /**
   * tiktoken's Encoding.__setstate__ takes a dict (the encoding spelt out) or a name, which it looks
   * up with tiktoken.registry.get_encoding: that imports every tiktoken_ext plugin and downloads the
   * encoding's file over HTTPS into a cache folder (the allowlist's screen missed it: the import sits
   * inside the method). A registered encoding pickles as its name, so such a file reaches the network
   * at load; any state but a dict may be that name.
   */
  private registryState(target: Value, state: Value, at: number): void {
    if (!isSym(target) || target.t !== "call" || (isSym(state) && state.t === "dict")) return;
    if (this.classOf(target)?.name !== "tiktoken.core.Encoding") return;
    this.report("MG100", `BUILD restores a tiktoken Encoding from ${describe(state)}: its __setstate__ looks a name up with tiktoken.registry.get_encoding, which imports every tiktoken_ext plugin and downloads the encoding's file (network access and a cache folder written at load)`, {
      offset: at,
      evidence: describe(state),
      severity: "high",
    });
  }

  /**
   * The guard an object whose class cannot be told is held to: the one of a guarded class named in
   * what made it (the arguments of the calls that made it, the containers it came out of, a few
   * levels down), or any when that cannot be followed (past those levels, a persistent id, a value
   * dropped from the memo). Undefined when what made it names no guarded class (an array).
   */
  private guardReachable(target: Value | undefined, depth = 4): readonly StateGuard[] {
    if (!isSym(target)) return target === undefined ? STATE_GUARDS : [];
    switch (target.t) {
      case "global": {
        const j = this.judgementOf(target);
        const guard = j.kind === "allow" ? j.entry?.stateGuard : undefined;
        return guard ? [guard] : [];
      }
      case "call":
        return depth === 0 ? STATE_GUARDS : unionOf([this.guardReachable(target.fn, depth - 1), this.guardReachable(target.args, depth - 1)]);
      case "tuple":
      case "list":
      case "set":
      case "dict": {
        const items = target.t === "dict" ? target.kv : target.items;
        const unkept = target.t !== "tuple" && target.n > (target.t === "dict" ? items.length / 2 : items.length);
        if (depth === 0 || unkept) return target.behaviour ? STATE_GUARDS : [];
        // Every guarded class named counts: the object may be of any of them.
        return unionOf(items.map((x) => this.guardReachable(x, depth - 1)));
      }
      case "bytes":
      case "bigstr":
      case "bigbytes":
      // A persistent id is what the loader's persistent_load returns: torch's storages; plain pickle.load refuses them.
      case "pid":
        return [];
      default:
        return STATE_GUARDS;
    }
  }

  /** BUILD on an object an allowlisted class made, whose `__setstate__` keeps a callable from the state (functools.partial). */
  private stateCalls(target: Value, cls: AllowedClass | undefined, state: Value, at: number): void {
    const calls = cls && !cls.isClass ? stateCallsOf(cls.entry) : undefined;
    if (!calls || !isSym(target) || target.t !== "call") return;
    for (const slot of calls) {
      const value = stateSlot(state, slot);
      if (value === UNREADABLE) {
        this.report("MG107", `BUILD gives ${cls!.name} a state whose ${typeof slot === "number" ? `item ${slot}` : `"${slot}"`} cannot be read, so what it calls cannot be known`, { offset: at, evidence: describe(state) });
        continue;
      }
      // A dict there holds callables called with no arguments (_PartialWrapper's callable_args).
      const dict = isSym(value) && value.t === "dict" ? value : undefined;
      if (dict && dict.kv.length / 2 < dict.n) {
        this.report("MG107", `BUILD gives ${cls!.name} a "${slot}" of more callables than the scanner keeps, so what it calls cannot all be known`, { offset: at, evidence: describe(state) });
      }
      for (const callee of dict ? innerValues(dict)! : [value]) this.invoked(callee, "call", cls!.name, target, state, target);
      if (slot === 0) {
        const args = stateSlot(state, 1);
        const keywords = stateSlot(state, 2);
        this.boundCall(target, value, isSym(args) && args.t === "tuple" ? args.items : args === undefined ? [] : undefined, keywords === UNREADABLE ? undefined : keywords, at);
      }
    }
  }

  onExt(code: number, at: number): void {
    this.report("MG105", `imports through the copyreg extension registry (code ${code})`, { offset: at, evidence: `EXT code ${code}` });
  }

  onPersistentId(ref: PersistentRef): Value | undefined {
    return this.hooks.onPersistentId?.(ref);
  }

  onForget(): void {
    this.forgetting = true;
  }

  /** reachesForgotten, walked only once a machine has dropped a memo value (nothing holds FORGOTTEN before). */
  private reachesDropped(v: Value): boolean {
    return this.forgetting && reachesForgotten(v);
  }

  /**
   * A second reading of an inline array pickle as pickle.load, torch.load and numpy.load run it, in
   * the outer unpickler: its GETs fetch outer values, so a legitimate one reads as nonsense there
   * (names from the outer stream's strings, classes it cannot tell, calls of its objects), and only
   * what SECOND_READING_RULES name, at high and above, is reported of that reading.
   */
  inlineReading(): { observer: MachineObserver; done(): void } {
    const reading = new PickleAnalyst((rule, message, extra) => {
      if (SECOND_READING_RULES.has(rule) && atLeast(extra?.severity ?? ruleInfo(rule).severity, "high")) {
        this.report(rule, `as pickle.load, torch.load and numpy.load read an inline array pickle (in the outer stream's unpickler and memo): ${message}`, extra);
      }
    }, this.judging);
    reading.secondReading = true;
    reading.outer = this;
    reading.beginStream("sure");
    return { observer: reading, done: () => reading.flush() };
  }

  /**
   * An inline array pickle's reading in the outer memo (see inlineReading), which joins the outer
   * stream's values into imports and states: an import that fails because the outer memo swapped in
   * its module at an opcode that imported the same name in joblib's reading (DataFrame.dtype for
   * numpy.dtype; see swappedImportFails), imports of operands that are no str, and guarded state given
   * to an object of a class neither reading saw made are left unreported.
   */
  private secondReading = false;
  /** The analyst of the outer stream, whose facts about the values it made a second reading fetches (see madeByAllowed). */
  private outer: PickleAnalyst | undefined;

  /**
   * Whether a value cannot be the exact str STACK_GLOBAL takes: a class or function, a container or
   * bytes, or what calling an allowlisted class other than str makes (an instance of it; a str
   * subclass's is no exact str).
   */
  private notStr(v: Value): boolean {
    if (!isSym(v)) return typeof v !== "string";
    // A container or bytes the stream built (a fifth precision measurement: an outer dict read as the module).
    if (v.t === "global" || v.t === "dict" || v.t === "list" || v.t === "tuple" || v.t === "set" || v.t === "bytes" || v.t === "bigbytes") return true;
    if (v.t !== "call" || !isSym(v.fn) || v.fn.t !== "global") return false;
    const name = importedName(v.fn);
    // numpy.object_('os') is the str 'os' (red team round 32).
    if (IDENTITY_CLASSES.has(name)) return this.notStr(positional(v)?.[0] ?? null);
    return name !== "builtins.str" && allowEntry(name)?.kind === "class";
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
    const excused = this.convention(fn, c);
    const u = this.use(fn, use, c, excused);
    if (!u) return; // past the distinct-name bound: counted, reported once at flush
    const { name, judgement: j } = u;
    if (use === "call") this.notCalled(u, c);
    if (j.kind === "allow") {
      // A silent callee's arguments have no role and no rule reads its calls by name (see silentCallee).
      if (u.silent) this.argumentsGiven(name, j.entry!, c);
      else {
        if (j.entry) this.followArguments(name, j.entry, c);
        this.constructedWith(name, c);
        const problem = this.structures.onCall(name, c);
        if (problem) this.report(problem.kind === "array" ? "MG151" : "MG124", `pickled ${problem.message}`, { offset: c.at, evidence: describe(c) });
      }
    }
    if (u.rebuildsTensor) {
      this.hooks.onTensorRebuild?.(name, c);
      // A plain pickle's tensor views a storage _load_from_bytes loads, checked once it is known (pickle.ts).
      const storage = isSym(c.args) && c.args.t === "tuple" ? c.args.items[0] : undefined;
      if (isSym(storage) && storage.t === "call") this.loadedViews.get(storage)?.push({ rebuilder: name, call: c });
    }
    // Protocols 0-2 write every bytes object as _codecs.encode(text, "latin1"), which is folded too: a
    // compressed payload kept as bytes shows its compressor's magic only once encoded (in the str
    // constant, as UTF-8, it does not). Any spelling of the codec, since CPython accepts them all.
    if (name === "_codecs.encode" && j.kind === "allow" && c.kind === "REDUCE") {
      const args = positional(c) ?? [];
      this.uncodedText(c, args);
      this.fold(c, foldCodecsEncode, args);
    }
    if ((j.kind === "deny" || j.kind === "walk") && j.entry?.nested) {
      // Of the conventions, only loadsScannedBytes excuses a nested deserializer.
      for (const payload of bytesPayloads(c.args)) if (scannable(payload)) this.nested.push({ payload, callee: name, loadsStorage: excused ? c : undefined });
      if (excused) this.loadedViews.set(c, []);
    }
  }

  /**
   * What an allowlisted callable does with its arguments, followed: an argument it calls or
   * constructs is judged as called or constructed (an unknown class handed to
   * `copyreg._reconstructor` is called), a range it is given is checked for what drawing it costs,
   * an argument that becomes attributes is checked like BUILD state, and sizes it allocates by are bounded.
   */
  private followArguments(name: string, entry: AllowEntry, c: CallResult, args = positional(c), keywords = keywordsOf(c)): void {
    if (!this.argumentsGiven(name, entry, c, args, keywords) || args === undefined) return;
    // An enum called with one value looks a member up; with more, or keywords, it is the functional
    // API, which makes a class and calls its type= (any callable) with each member's value.
    if (entry.kind === "enum" && (args.length > 1 || (isSym(keywords) && keywords.t === "dict" && keywords.n > 0))) {
      this.report("MG107", `${name} is called as its functional API (${args.length} arguments${isSym(keywords) && keywords.t === "dict" && keywords.n > 0 ? " and keywords" : ""}): it makes an enum class and calls the type it is given with each member's value, calls the scanner does not see`, { offset: c.at, evidence: describe(c) });
    }
    const bypass = STATE_BYPASS.get(name);
    if (bypass && !bypass.accepts(args)) {
      this.report("MG107", `${name} sets attributes past the own __setstate__ of what ${describe(args[0] ?? null)} is or makes; it may only set those of ${bypass.what} (a finalizer that trusts an attribute, such as a native handle, would get the pickle's)`, { offset: c.at, evidence: describe(c) });
    }
    if (entry.state !== undefined) {
      const state = args[entry.state] ?? null;
      const on = STATE_ON_ARGUMENT.get(name);
      const target = on === undefined ? undefined : args[on];
      if (isSym(target) && target.t === "global") {
        this.report("MG106", `${name} sets attributes on the imported object ${qualifiedName(target)}`, { offset: c.at, evidence: describe(c) });
      }
      this.checkState(state, `${name} sets`, c.at, c);
      this.guardedState(on === undefined ? c : target, state, c.at, `${name} sets attributes of`);
    }
    // An argument that is state and setstate both was checked and guarded above, as attributes of an object of unknown class.
    if (entry.setstate !== undefined && entry.setstate !== entry.state) {
      const state = args[entry.setstate] ?? null;
      this.checkState(state, `${name} restores`, c.at, c);
      // What gets the state is what calling argument 0 with argument 1 makes, when that is all the callee makes
      // (dill's _create_array, jax's _reconstruct_array: NumPy's _reconstruct, an array); not the state's own contents.
      const made = covers(entry.calls, 0) && entry.constructs === undefined && isSym(args[1]) && args[1].t === "tuple" ? callResult(args[0]!, args[1], "REDUCE", c.at) : c;
      this.guardedState(made, state, c.at, `${name} hands __setstate__ of`);
    }
    if (entry.kind === "cython") this.cythonHelper(name, args[0], c);
    const opened = entry.opens === undefined ? null : (args[entry.opens] ?? null);
    if (opened !== null) this.report("MG101", `calls ${name} with ${describe(opened)} as the file it opens at load (pickles give it None)`, { offset: c.at, evidence: describe(c) });
    const bomb = allocationOf(name, args) ?? keywordAllocation(name, keywordsOf(c));
    if (bomb) this.report("MG109", `${name}${bomb}`, { offset: c.at, evidence: describe(c) });
    this.projFiles(name, c.args, c);
    // Compiled classes allocate in __cinit__, which NEWOBJ runs too; a torch layer's NEWOBJ (how pickles make one) runs nothing.
    const layer = c.kind !== "NEWOBJ" && c.kind !== "NEWOBJ_EX" && entry.kind === "class" && name.startsWith("torch.nn.");
    if (layer || entry.sizes) this.sizedCall(name, [...args, ...(innerValues(keywordsOf(c)) ?? [])], c);
  }

  /**
   * The arguments part of followArguments: what the callee's entry says it does with each argument
   * (calls, constructs), and, for the others, what any callee may do with one (call it back, draw a
   * range). False when the arguments cannot be read (made at load time).
   */
  private argumentsGiven(name: string, entry: AllowEntry, c: CallResult, args = positional(c), keywords = keywordsOf(c)): boolean {
    if (keywords !== undefined && keywords !== null && !isPlain(keywords)) this.keywordsGiven(name, entry, keywords, c);
    if (args === undefined) {
      if (usesArguments(entry) || entry.kind === "cython") {
        this.report("MG107", `${name} is given arguments produced at load time, so what it calls cannot be known`, { offset: c.at, evidence: describe(c) });
      }
      return false;
    }
    const walker = WALKERS.has(name);
    const decimal = name.endsWith(".Decimal");
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      // An object that calls what it holds when it is called itself (partial, a wrapped hook: the classes
      // whose state says what they call) holds it; anything else (defaultdict's factory, which a
      // __setstate__ reading a missing key calls) is judged as called at load.
      const holds = entry.kind === "class" && entry.stateCalls !== undefined;
      if (covers(entry.calls, i)) {
        this.invoked(arg, "call", name, c, c.args, holds ? c : undefined);
        if (name === "nltk.collections.LazyMap" && i === 0) this.foldThrough(arg, args.slice(1), c.at);
        if (holds) this.boundCall(c, arg, args.slice(i + 1), keywords, c.at);
        // A class calls it later, on what it holds then (a dict's keys added after it was made): arguments never seen.
        // (A carrier there is judged when it is invoked: defaultdict(partial(defaultdict, list)) is how pickles nest them.)
        else if (entry.kind === "class" && isSym(arg) && arg.t === "global") this.callbackGiven(name, arg, c, "calls it later (iterating, indexing) with values the scanner never sees");
      }
      else if (covers(entry.instantiates, i) && (!isSym(arg) || arg.t !== "call")) this.invoked(arg, "call", name, c, c.args);
      else if (covers(entry.constructs, i)) this.invoked(arg, "construct", name, c, c.args);
      // What a callee does with an argument its entry does not describe is unknown: it may call it (a callback).
      else {
        this.neverCalledIn(arg, `${name} is given`, c.at, c);
        // A reconstructor's other arguments are its class's, followed on that class's entry (constructedWith).
        // Classes keep what they are given (a function's own use of it is its source's, which the screen reads).
        if (entry.kind === "class" && isSym(arg) && !covers(entry.iterates, i) && !INSTANCE_MAKERS.has(name)) this.callbackGiven(name, arg, c);
      }
      if (walker) this.walked(name, arg, c);
      this.bigIntegers(name, arg, c);
      // Decimal("1e2000000000") is cheap; int(), Fraction(), round() and math.floor() of it compute 10**2000000000.
      const exponent = decimal ? undefined : hugeDecimalExponent(arg);
      if (exponent !== undefined) this.report("MG109", `${name} is given a Decimal of exponent ${exponent}, which converting to an integer or a fraction expands into that power of ten at load time`, { offset: c.at, evidence: describe(c) });
      // Any callee may draw a range it is given (torch.Size, dict and friends iterate theirs).
      const n = rangeOf(arg);
      if (n !== undefined && n > LIMITS.pickleMaxConsumedItems) {
        this.report("MG109", `${name} is given a range of ${n === Infinity ? "unknown length" : n} items to draw at load time`, { offset: c.at, evidence: describe(c) });
      }
    }
    return true;
  }

  /**
   * Keyword arguments that are not plain data: a class never to be called among them is reported, and
   * a callee that calls or constructs some of its arguments cannot be followed, since which
   * parameter each keyword is cannot be known (a partial of pandas' _new_PeriodIndex called the
   * `cls` keyword it was bound to).
   */
  private keywordsGiven(name: string, entry: AllowEntry, keywords: Value, c: CallResult): void {
    this.neverCalledIn(keywords, `${name} is given as a keyword argument`, c.at, c);
    if (isCarrier(entry)) {
      this.report("MG107", `${name} is given keyword arguments that are not plain data (${describe(keywords)}), so what it calls with them cannot be known`, { offset: c.at, evidence: describe(c) });
    }
  }

  /**
   * copyreg's `__newobj__(cls, *args)` and `__newobj_ex__(cls, args, kwargs)` run `cls.__new__(cls, …)`
   * as NEWOBJ does, so the class's own entry is followed on those arguments (a partial made so holds
   * the function it is given, and what it binds).
   */
  private constructedWith(name: string, c: CallResult): void {
    if (name !== "copyreg.__newobj__" && name !== "copyreg.__newobj_ex__") return;
    const cls = positional(c)?.[0];
    if (!isSym(cls) || cls.t !== "global") return;
    const j = this.judgementOf(cls);
    if (j.kind !== "allow" || j.entry?.kind !== "class") return;
    const { args, keywords } = madeWith(c);
    this.followArguments(qualifiedName(cls), j.entry, c, args, keywords);
  }

  /**
   * A torch layer, or a class marked `sizes`, called at load allocates by the integers it is given.
   * What calls allocate is bounded in total, not per call: sixteen calls each under the bound exhaust
   * memory as one over it does.
   */
  private sizedCall(name: string, args: readonly Value[], c: CallResult): void {
    const elements = sizedByArguments(args);
    // A list-of-lists matrix makes two Python lists per row (some 140 bytes): as many as 20 eight-byte
    // elements each (red team round 31: lil_matrix((60_000_000, 1)) took 8 GB from 45 bytes).
    const perElement = LIST_OF_LISTS.test(name) ? ROW_ELEMENTS : 1;
    this.sizedElements += elements * perElement;
    if (elements * perElement > MAX_SIZED_ELEMENTS) {
      const what = elements === Infinity ? "a size made at load time, which the scanner cannot bound" : `sizes of ${elements} elements${perElement > 1 ? " (a row of two Python lists each)" : ""}`;
      this.report("MG109", `${name} is called with ${what} at load time`, { offset: c.at, evidence: describe(c) });
    } else if (this.sizedElements > MAX_SIZED_ELEMENTS && !this.sizedTotalReported) {
      this.sizedTotalReported = true;
      this.report("MG109", `the classes called with sizes at load time allocate ${this.sizedElements} elements in total (${name} passes the bound)`, { offset: c.at, evidence: describe(c) });
    }
  }

  /**
   * `value`, which `carrier` calls or constructs with (some of) `carried`, judged as such. A value an
   * allowlisted call made is safe to invoke (an instance of an allowlisted class, a partial of an
   * allowlisted function, an enum member); any other produced value cannot be judged (MG107).
   */
  private invoked(value: Value | undefined, use: Use, carrier: string, c: CallResult, carried: Value, holder?: CallResult): void {
    if (!isSym(value)) return; // a constant is not callable: the load fails there
    if (value === FORGOTTEN) {
      this.forgotten(`${carrier} is given a value to ${use === "call" ? "call" : "construct"}`, c.at);
      return;
    }
    switch (value.t) {
      case "global": {
        const u = this.use(value, use, c);
        // An object that calls what it holds only when it is called itself (a partial) may hold what
        // is never to be called at load: that is judged if the object is called at load (see holds).
        if (u && use === "call") {
          // Armed after it was called (a BUILD state given later): judged as called now.
          if (holder && !this.calledHolders.has(holder)) this.hold(holder, value, c.at);
          else this.notCalled(u, c);
        }
        // An allocator reached through a carrier gets the carrier's arguments, somewhere in them; but
        // _reconstructor(cls, base, state) runs base's __new__ and __init__, never cls's (precision corpus
        // fp20: a dok_matrix's entries go to dict.__init__, and are no sizes of dok_matrix).
        if (u && !(use === "construct" && isSym(c.fn) && c.fn.t === "global" && importedName(c.fn) === "copyreg._reconstructor" && positional(c)?.[0] === value)) {
          this.carriedBomb(c, carrier, u.name, carriedAllocation(u, carried));
          if (u.judgement.kind === "allow") this.projFiles(u.name, carried, c);
          // Where the carrier puts what it hands on is its own: any value but None may land on the argument opened as a file.
          const opened = u.judgement.kind === "allow" && u.judgement.entry?.opens !== undefined ? (innerValues(carried) ?? []).find((x) => x !== null && x !== value && !(isSym(x) && x.t === "global")) : undefined;
          if (opened !== undefined) this.report("MG101", `${carrier} hands ${u.name} ${describe(opened)}, which it may open as a file at load (pickles give it None)`, { offset: c.at, evidence: describe(c) });
        }
        return;
      }
      case "call":
      case "pid":
        if (value.t === "call" && holder && !this.calledHolders.has(holder) && this.madeByAllowed(value)) {
          // Something an allowlisted call made (a torch hook object), held by an object that calls it
          // when it is called itself: judged as called if that happens at load. What it would allocate is checked now.
          this.hold(holder, value, c.at);
          this.carriedBomb(c, carrier, describe(value), hugeIn(carried));
          return;
        }
        if (value.t === "call" && this.invocable(value)) {
          this.calledNow(value, c);
          // A builtin type's method or a carrier's callee may allocate by any argument (bytes.zfill, str.ljust).
          this.carriedBomb(c, carrier, describe(value), hugeIn(carried));
          return;
        }
        this.report("MG107", `${carrier} ${use === "call" ? "calls" : "constructs"} a value produced at load time: ${describe(value)}${this.uncallable(value)}`, {
          offset: c.at,
          evidence: describe(c),
        });
        return;
      default:
        return; // containers and bytes are not callable; imports that are not constants were reported where made
    }
  }

  /**
   * MG109 for what carrier call `c` hands `callee` (`bomb`: what it would allocate or compute, or
   * undefined), once per carrier call: _reconstructor hands the same arguments to both classes it is given.
   */
  private carriedBomb(c: CallResult, carrier: string, callee: string, bomb: string | undefined): void {
    if (!bomb || this.bombedCarriers.has(c)) return;
    this.bombedCarriers.add(c);
    this.report("MG109", `${carrier} calls ${callee}${bomb}`, { offset: c.at, evidence: describe(c) });
  }

  /** MG100 (high) when pyproj's `name` is given a definition that makes PROJ open a file of the pickle's choosing (see projFileIn). */
  private projFiles(name: string, args: Value, c: CallResult): void {
    const file = name.startsWith("pyproj.") ? projFileIn(args) : undefined;
    if (file === undefined) return;
    const what = file.startsWith("<") ? `${file.slice(1, -1)}, so the files PROJ opens at load cannot be checked` : `a PROJ definition that names the file ${JSON.stringify(file)}, which PROJ opens at load (a FIFO hangs the loader)`;
    this.report("MG100", `${name} is given ${what}`, {
      offset: c.at,
      evidence: describe(c),
      severity: "high",
    });
  }

  /** A name allowlisted to be stored or constructed, called at load instead (what its entry rules out). */
  private notCalled(u: NameUse, c: CallResult): void {
    const entry = u.judgement.kind === "allow" ? u.judgement.entry : undefined;
    if (entry?.notCalled) {
      this.report("MG101", `calls ${u.name}, which is allowlisted to be stored or constructed, not called at load`, { offset: c.at, evidence: describe(c) });
    } else if (entry?.module) {
      this.report("MG101", `calls ${u.name}, a torch module class: pickles construct modules, and a call allocates its parameters at load`, { offset: c.at, evidence: describe(c) });
    }
  }

  /**
   * `value`, for a carrier object to call when it is called itself (see invoked); checked at once when
   * a state stored the carrier. A class never to be called is reported as soon as a carrier holds it:
   * Python calls a carrier from more places than a pickle shows (iterating a dict whose key it is, a
   * constructor's callback, an item a mapping serves as an attribute), and no model needs one.
   */
  private hold(holder: CallResult, value: Value, at: number): void {
    let held = this.held.get(holder);
    if (!held) this.held.set(holder, (held = []));
    held.push(value);
    const never = this.neverCalledClass(value);
    if (never) {
      if (this.reportedHolders.has(holder)) return;
      this.reportedHolders.add(holder);
      if (isSym(value) && value.t === "global") this.reportedNeverCalled.add(value);
      this.report("MG101", `${describe(holder)} holds ${never}, a class allowlisted to be constructed, never called at load: whatever calls the holder runs it`, { offset: at, evidence: describe(holder) });
    } else if (this.storedHolders.has(holder)) this.storedCallee(value, `${describe(holder)}, stored as an attribute, is given`, at, holder);
  }

  /**
   * functools.partial binds arguments to the function it holds: calling the partial calls
   * `fn(*bound, …)`, so what fn's entry says it does with its arguments is followed on the bound
   * ones, as for a call the pickle makes (a partial of dill's _create_array bound to a class never
   * to be called called it through numpy's __randomstate_ctor). `bound` is what follows fn in the
   * partial's arguments, or the items of its BUILD state's args slot; undefined when that cannot be read.
   */
  private boundCall(holder: CallResult, fn: Value | undefined, bound: readonly Value[] | undefined, keywords: Value | undefined, at: number): void {
    if (!isSym(fn) || fn.t !== "global" || this.classOf(holder)?.name !== "functools.partial") return;
    const j = this.judgementOf(fn);
    const entry = j.kind === "allow" ? j.entry : undefined;
    if (!entry) return;
    const name = qualifiedName(fn);
    if (bound === undefined) {
      if (usesArguments(entry)) {
        this.report("MG107", `functools.partial binds ${name} to arguments the scanner cannot read, so what it calls cannot be known`, { offset: at, evidence: describe(holder) });
      }
      return;
    }
    this.followArguments(name, entry, callResult(fn, tuple([...bound]), "REDUCE", at), bound, keywords);
  }

  /** The name of `value` when it is a class allowlisted never to be called, or of such a class a carrier holds. */
  private neverCalledClass(value: Value, depth = 3): string | undefined {
    if (!isSym(value)) return undefined;
    if (value.t === "global") return this.calleeProblem(value)?.rule === "MG101" ? qualifiedName(value) : undefined;
    if (value.t !== "call" || depth === 0 || !this.holds(value)) return undefined;
    for (const h of this.held.get(value) ?? []) {
      const name = this.neverCalledClass(h, depth - 1);
      if (name) return name;
    }
    return undefined;
  }

  /**
   * A class never to be called, in `value` or in any container it holds, handed to a callee that may
   * call what it is given: only constructing it is allowed. (One put into a list, dict, set or
   * object was reported then: see onNeverCalledStored.)
   */
  private neverCalledIn(value: Value, what: string, at: number, shown: Value): void {
    const never = heldNeverCalled(value);
    if (never) this.reportNeverCalled(never, `${what} ${qualifiedName(never)}`, at, shown);
  }

  onNeverCalledStored(target: Sym, never: GlobalRef, at: number): void {
    const where = target.t === "call" ? `an item of ${describe(target)}` : `an item of a ${target.t}`;
    this.reportNeverCalled(never, `${where} is or holds ${qualifiedName(never)}`, at, target);
  }

  /** Reports a class never to be called where something may call it unseen, once per import of it. */
  private reportNeverCalled(never: GlobalRef, what: string, at: number, shown: Value): void {
    if (this.reportedNeverCalled.has(never)) return;
    this.reportedNeverCalled.add(never);
    this.report("MG101", `${what}, a class allowlisted to be constructed, never called at load: what iterates, reads or is handed it may call it`, { offset: at, evidence: describe(shown) });
  }

  /** A method a getattr convention fetched, called at load: one allowlisted to be stored (a bound method a fitted object keeps) is reported. */
  private methodCalled(method: { name: string; entry: AllowEntry } | undefined, c: CallResult): void {
    if (method?.entry.notCalled) {
      this.report("MG101", `calls ${method.name}, which is allowlisted to be stored or constructed, not called at load`, { offset: c.at, evidence: describe(c) });
    }
  }

  /** A carrier object invoked at load: what it holds is called at load, so a name allowlisted never to be called is reported. */
  private calledNow(holder: CallResult, c: CallResult): void {
    if (this.calledHolders.has(holder)) return;
    this.calledHolders.add(holder);
    this.methodCalled(this.excusedCalls.get(holder), c);
    for (const value of this.held.get(holder) ?? []) this.invoked(value, "call", describe(holder), c, c.args);
  }

  /**
   * Whether invoking `value` runs only what was judged: a method or type a convention fetched, or an
   * object of an allowlisted class that holds a callable it was given and judged as called
   * (functools.partial, a wrapped hook). An object of any other class runs its `__call__` (or
   * `__new__` through its type), which the allowlist's screen does not read.
   */
  private invocable(value: CallResult): boolean {
    if (this.excusedCalls.has(value)) return true;
    const cls = this.classOf(value);
    return cls !== undefined && !cls.isClass && (cls.entry?.calls !== undefined || cls.entry?.stateCalls !== undefined);
  }

  /** Why a value an allowlisted call made may still not be invoked, for the message. */
  private uncallable(value: Sym): string {
    if (value.t !== "call" || !this.madeByAllowed(value)) return "";
    const cls = this.classOf(value);
    return cls ? ` (an object of ${cls.name}, whose __call__ the allowlist does not cover)` : " (the result of an allowlisted call, which the allowlist does not cover calling)";
  }

  /** Whether an allowlisted callable (or a call a convention excused) made `value`. */
  private madeByAllowed(value: CallResult): boolean {
    if (this.excusedCalls.has(value) || this.outer?.excusedCalls.has(value)) return true;
    return isSym(value.fn) && value.fn.t === "global" && (this.byRef.get(value.fn) ?? this.outer?.byRef.get(value.fn))?.judgement.kind === "allow";
  }

  /**
   * A Cython `__pyx_unpickle_<Class>(type, checksum, state)` helper runs `Class.__new__(type)`,
   * which CPython refuses unless `type` is `Class` or a subtype of it (pandas rebuilds every array
   * class through `__pyx_unpickle_NDArrayBacked`). So `type` is judged as constructed, like any
   * class: an unknown one is reported; one made at load time cannot be judged (MG107).
   */
  private cythonHelper(name: string, cls: Value | undefined, c: CallResult): void {
    if (isSym(cls) && cls.t === "global") this.use(cls, "construct", c);
    else this.invoked(cls, "construct", name, c, c.args);
  }

  /**
   * Calls that a denied callable makes safely, by a convention picklers really use; true excuses
   * this call (the name is still reported for any other use). `getattr(C, "name")` passes when
   * `C.name` is an allowlisted method (ZoneInfo pickles as `getattr(ZoneInfo, "_unpickle")`, a
   * stored `torch.tanh` as a method of torch's function class), also on an instance an allowlisted
   * class made; `getattr(E, "NAME")` for an allowlisted enum's member (how some CPython releases
   * pickle members); `getattr(str, "lower")` for a builtin data type's public method.
   */
  private convention(fn: GlobalRef, c: CallResult): boolean {
    // Checked by name first: this runs for every call of a dense pickle.
    if (fn.name === "_load_type" && importedName(fn) === "dill._dill._load_type") return this.dillType(c);
    if (fn.name === "type" && importedName(fn) === "builtins.type") return this.typeOfConstant(c);
    if (fn.name === "_load_from_bytes" && importedName(fn) === "torch.storage._load_from_bytes") return this.loadsScannedBytes(fn, c);
    if (HINT_MAKERS.has(fn.name) || GETTERS.has(fn.name)) return this.storedValue(importedName(fn), c);
    if (fn.name !== "getattr" || c.kind !== "REDUCE" || importedName(fn) !== "builtins.getattr") return false;
    const args = positional(c);
    const [target, attr] = args ?? [];
    if (args?.length === 2 && typeof attr === "string" && this.boundToValue(target, attr, c)) return true;
    const owner = args?.length === 2 && typeof attr === "string" ? this.classOf(target) : undefined;
    if (owner !== undefined && typeof attr === "string" && !owner.isClass && this.mayHaveSet(target, attr)) {
      this.report("MG108", `getattr fetches ${describe(attr)} of ${describe(target ?? null)}, whose state may have set an attribute of that name: getattr returns that value, not ${owner.name}'s method`, {
        offset: c.at,
        evidence: describe(c),
      });
      return false;
    }
    if (owner !== undefined && typeof attr === "string") {
      const method = allowEntry(`${owner.name}.${attr}`);
      if (method?.kind === "function" && method.context === undefined) {
        this.excusedCalls.set(c, { name: `${owner.name}.${attr}`, entry: method });
        return true;
      }
      const member = owner.isClass && !attr.startsWith("_") && /^[A-Za-z][A-Za-z0-9_]*$/.test(attr);
      if (member && (owner.entry?.kind === "enum" || PURE_BUILTIN_METHODS.get(owner.name)?.has(attr))) {
        this.excusedCalls.set(c, undefined);
        return true;
      }
      if (!owner.isClass && owner.entry?.module && owner.name.startsWith("transformers.") && attr === GENERATION_INPUTS) {
        this.excusedCalls.set(c, undefined);
        return true;
      }
    }
    this.report("MG108", `getattr fetches ${describe(attr ?? null)} of ${describe(target ?? null)}, which is neither an allowlisted method, an allowlisted enum's member nor a builtin data type's method that only computes a value`, {
      offset: c.at,
      evidence: describe(c),
    });
    return false;
  }

  /**
   * Whether BUILD may have given `target` an instance attribute `attr`, which getattr returns in place
   * of its class's method (red team round 36: interp1d given {"_call_linear": pow}, then
   * getattr(obj, "_call_linear") called): a state that names it, holds keys past the sample or not
   * text, or is no dict (a __setstate__ does what it likes with it). More states than are kept count too.
   */
  private mayHaveSet(target: Value | undefined, attr: string): boolean {
    const object = this.objectOf(target);
    if (!isSym(object) || object.t !== "call") return false;
    const states = this.statesOf.get(object) ?? [];
    if (states.length >= MAX_KEPT_STATES) return true;
    return states.some((state) => {
      if (state === null) return false;
      if (!isSym(state)) return true;
      return stateParts(state).some((part) => {
        if (part === null) return false;
        if (!isSym(part) || part.t !== "dict" || part.n > part.kv.length / 2 || part.keyPastSample) return true;
        return dictEntries(part).some(([key]) => typeof key !== "string" || key === attr);
      });
    });
  }

  /**
   * getattr of a method bound to a value whose methods only compute: a str or bytes constant's
   * (`" ".join`, pickled by scikit-learn pipelines) or a container's (`{...}.get`), excused as its type's are; a compiled pattern's
   * matching methods (`re.compile(p).search`, which spaCy's tokenizer and text pipelines keep), excused
   * to be stored, and reported if called at load (a crafted pattern can backtrack for hours).
   * `sub` and `subn` call what they are given, so they are not among them.
   */
  private boundToValue(target: Value | undefined, attr: string, c: CallResult): boolean {
    const type = typeof target === "string" ? "builtins.str" : isSym(target) ? BOUND_TYPES[target.t] : undefined;
    if (type !== undefined && PURE_BUILTIN_METHODS.get(type)?.has(attr)) {
      this.excusedCalls.set(c, undefined);
      return true;
    }
    const compiled = isSym(target) && target.t === "call" && isSym(target.fn) && target.fn.t === "global" && importedName(target.fn) === "re._compile";
    if (!compiled || !PATTERN_METHODS.has(attr)) return false;
    this.excusedCalls.set(c, { name: `${PATTERN_METHOD}${attr}`, entry: { kind: "function", lib: "python", notCalled: true } });
    return true;
  }

  /** Folds a call of a builtin text method a getattr convention fetched (see fold). */
  private foldMethodCall(c: CallResult): void {
    if (!isSym(c.fn) || c.fn.t !== "call") return;
    const type = fetchedFrom(c.fn);
    const name = isSym(c.fn.args) && c.fn.args.t === "tuple" ? c.fn.args.items[1] : undefined;
    if (type === undefined || typeof name !== "string") return;
    const values = [...receiverOf(c), ...(positional(c) ?? [])];
    if (name === "encode" || name === "decode") this.uncodedText(c, values);
    this.fold(c, (args) => foldMethod(type, name, args), values);
  }

  /**
   * NLTK's LazyMap(function, *lists) calls function on the lists' items, index by index, when it is
   * iterated: a text method there is folded on each set of items, as if the pickle called it (a red
   * team undid an XOR through one).
   */
  private foldThrough(fn: Value | undefined, lists: readonly Value[], at: number): void {
    if (!isSym(fn) || fn.t !== "call" || !this.excusedCalls.has(fn) || this.excusedCalls.get(fn) !== undefined) return;
    const rows = lists.map((l) => (isSym(l) && (l.t === "list" || l.t === "tuple") ? l.items : undefined));
    if (rows.length === 0 || rows.some((r) => r === undefined)) return;
    const n = Math.min(...rows.map((r) => r!.length));
    for (let i = 0; i < n && this.foldedSize <= LIMITS.dormantMaxInput; i++) this.foldMethodCall(callResult(fn, tuple(rows.map((r) => r![i]!)), "REDUCE", at));
  }

  /**
   * Computes what a pure text call makes from constants (or from what earlier folds made) and looks
   * for a second stage in it: a payload a model's code would pickle.loads later, decoded at load.
   */
  private fold(c: CallResult, compute: (args: readonly Arg[]) => Text | undefined, values: readonly Value[]): void {
    if (this.foldedSize > LIMITS.dormantMaxInput) return;
    const args: Arg[] = [];
    for (const v of values) {
      const a = this.argOf(v, 2);
      if (a === undefined) return;
      args.push(a);
    }
    // What a fold reads counts as well as what it makes: a memoized 64 KiB constant stripped to nothing costs its length each time.
    if (!this.chargeFold(args.reduce((n: number, a) => n + argSize(a), 0), c)) return;
    const text = compute(args);
    if (text === undefined || !this.chargeFold(text.length, c)) return;
    this.folded.set(c, text);
    // Most folds are a protocol 2 pickle's bytes (see onGlobalCall), which hold nothing: looked at before they are hashed.
    const payloads = dormantPayloads(text);
    if (payloads.length === 0) return;
    // The same text folded again (a memoized call) holds nothing new.
    const key = createHash("sha1").update(typeof text === "string" ? Buffer.from(text, "utf8") : text).digest("hex");
    if (this.foldedKeys.has(key)) return;
    this.foldedKeys.add(key);
    for (const found of payloads) {
      if (found.kind !== "limit" && !this.chargeFold(found.bytes.length, c)) return;
      if (this.computed.length >= MAX_COMPUTED) {
        this.report("MG111", `more than ${MAX_COMPUTED} payloads hidden in text computed at load; the rest were not scanned`, { offset: c.at, evidence: describe(c) });
        this.foldedSize = Infinity;
        return;
      }
      this.computed.push({ at: c.at, found });
    }
  }

  /**
   * Text coded at load with a codec folding does not compute (an EBCDIC code page turns a pickle's
   * latin-1 text into what the model keeps): what it makes cannot be looked at, so it is MG111.
   * `values`: the text, then the codec's name.
   */
  private uncodedText(c: CallResult, [text, codec]: readonly Value[]): void {
    if (typeof codec !== "string" || foldsCodec(codec) || !PYTHON_CODECS.has(codecName(codec))) return;
    const length = typeof text === "string" ? text.length : isSym(text) ? (text.t === "bytes" ? text.data.length : text.t === "bigstr" || text.t === "bigbytes" ? text.len : 0) : 0;
    // punycode and idna copy ASCII through as it is (what they could hide, the constant's own check sees); long, they are a bomb (allocationOf).
    if (length < MIN_CODED_TEXT || QUADRATIC_CODECS.has(codecName(codec))) return;
    this.report("MG111", `text of ${length} characters or bytes is coded at load with "${codec}", which the scanner does not decode: a pickle hidden in what it makes could not be looked for`, { offset: c.at, evidence: describe(c) });
  }

  /** Counts `n` characters or bytes of folding work; false (once reported) past the bound on a file's folding. */
  private chargeFold(n: number, c: CallResult): boolean {
    if (this.foldedSize > LIMITS.dormantMaxInput) return false;
    this.foldedSize += n;
    if (this.foldedSize <= LIMITS.dormantMaxInput) return true;
    this.report("MG111", `text computed at load from constants passed ${LIMITS.dormantMaxInput} characters and bytes of work; the rest was not examined for a hidden pickle`, { offset: c.at, evidence: describe(c) });
    return false;
  }

  /** A value as folding reads it: constants, what earlier folds made, and sequences and str.translate tables of them. */
  private argOf(v: Value, depth: number): Arg | undefined {
    if (!isSym(v)) return v;
    switch (v.t) {
      case "bytes":
        return v.data;
      case "call":
        return this.folded.get(v) ?? codecsEncoded(v)?.data;
      case "tuple":
      case "list": {
        if (depth === 0 || (v.t === "list" && v.n !== v.items.length)) return undefined;
        const items = v.items.map((x) => this.argOf(x, depth - 1));
        return items.includes(undefined) ? undefined : (items as Arg[]);
      }
      case "dict": {
        if (depth === 0 || v.n * 2 !== v.kv.length) return undefined;
        const table = new Map<number, Arg>();
        for (let i = 0; i < v.kv.length; i += 2) {
          const key = v.kv[i];
          const value = this.argOf(v.kv[i + 1]!, depth - 1);
          if (typeof key !== "number" || value === undefined) return undefined;
          table.set(key, value);
        }
        return table;
      }
      default:
        return undefined;
    }
  }

  /**
   * An object of a class that calls what it was given when it is iterated or indexed (FilterAtlas's
   * NODE_OK, LazyMap's function) may be given that callee by BUILD instead: a name its state holds
   * is judged as called, with the state as what it may be called on (a red team set NODE_OK to a
   * torch layer and bytearray, and the atlas's keys to 3e9), and so is a kept method (a pattern's
   * match, a ReDoS), and a carrier, which calls what it holds. Other objects there are not: their own
   * __call__ is the screen's to read, and networkx's pickled views hold filter objects.
   */
  private stateCallbacks(target: Value, cls: AllowedClass | undefined, state: Value, at: number): void {
    if (!isSym(state) || !cls || cls.isClass || cls.entry?.kind !== "class" || cls.entry.calls === undefined || cls.entry.stateCalls !== undefined) return;
    const c = callResult(target, tuple([state]), "REDUCE", at);
    for (const part of stateParts(state)) {
      if (!isSym(part) || part.t !== "dict") continue;
      for (let i = 1; i < part.kv.length; i += 2) {
        const v = part.kv[i];
        // A kept method or hint (re.compile(p).match, store-only) is judged too; it has no __call__ of its own to screen.
        // So is a carrier (a partial, _PartialWrapper), whose call is a call of what it holds (red team round 22).
        const callee = isSym(v) && (v.t === "global" || (v.t === "call" && (this.excusedCalls.get(v)?.entry.notCalled || this.holds(v))));
        if (callee) this.invoked(v, "call", `${cls.name}, which calls what it holds,`, c, state);
      }
    }
  }

  /**
   * BUILD's slot state (the second item of a `(dict, slots)` state) is set with setattr, which runs
   * the class's `__setattr__` and property setters: code the allowlist's screen reads for what it
   * reaches, not for which of the object's own attributes it calls (torch.utils.backcompat.Warning's
   * `enabled` setter calls the `setter` it was made with, on the value). So an object given slot
   * state must not hold, in its arguments or states, a name whose call the scanner needs to see.
   */
  private slotState(target: Value, state: Value, at: number): void {
    if (!isSym(target) || target.t !== "call") return;
    // Kept for the object itself: a state given through numpy.object_(x) is x's (red team round 37).
    const object = this.objectOf(target);
    if (!isSym(object) || object.t !== "call") return;
    let kept = this.statesOf.get(object);
    if (!kept) this.statesOf.set(object, (kept = []));
    if (kept.length < MAX_KEPT_STATES) kept.push(state);
    const slots = isSym(state) && state.t === "tuple" && state.items.length === 2 ? state.items[1] : undefined;
    if (slots === undefined || slots === null || (isSym(slots) && slots.t === "dict" && slots.n === 0)) return;
    const { args, keywords } = madeWith(target);
    for (const held of [...(args ?? []), keywords ?? null, ...kept, state]) {
      const found = this.unseenCallee(held, 3);
      if (found === undefined) continue;
      this.report("MG107", `BUILD sets slot state on ${describe(target)} with setattr, which runs its class's property setters and __setattr__; the object holds ${found}, which they may call with a value the scanner never sees`, { offset: at, evidence: describe(state) });
      return;
    }
  }

  /**
   * An argument the callee's entry does not describe may be kept and called later at load: by an
   * iterator (networkx's FilterAtlas calls its NODE_OK on every key), a `__setitem__`
   * (WeakIdKeyDictionary's ref_type) or a property setter. A name whose call must be seen is MG107 there.
   */
  private callbackGiven(name: string, arg: Value, c: CallResult, how = "its allowlist entry does not say what it does with it, and an iterator, a __setitem__ or a property setter of what it makes may call it with values the scanner never sees"): void {
    // Classes only: a function kept in a record (optuna keeps default_weights in a NamedTuple) is data until called,
    // and one never to be called was judged above (neverCalledIn).
    const found = this.unseenCallee(arg, 2, false, true);
    if (found === undefined) return;
    this.report("MG107", `${name} is given ${found}; ${how}`, { offset: c.at, evidence: describe(c) });
  }

  /**
   * A name in `v` (containers searched `depth` deep) whose call must be seen to be judged, and why;
   * see slotState. `unknown`: also names not allowlisted (reported where imported anyway); `classes`:
   * only allowlisted classes that may be constructed, and carriers (not stored methods: spaCy's
   * Tokenizer is made with its patterns' bound search and match).
   */
  private unseenCallee(v: Value | undefined, depth: number, unknown = true, classes = false): string | undefined {
    if (!isSym(v)) return undefined;
    switch (v.t) {
      case "global": {
        const j = this.judgementOf(v);
        const e = j.kind === "allow" ? j.entry : undefined;
        if (j.kind !== "allow") return unknown ? `${qualifiedName(v)}, which is not allowlisted` : undefined;
        if (!e || (classes && (e.kind !== "class" || e.notCalled))) return undefined;
        const checked = checkedByArguments(e, v);
        const why = e.notCalled ? "allowlisted never to be called at load" : e.module ? "a torch module class" : isCarrier(e) ? "which calls or constructs what it is given" : checked && `which ${checked}`;
        return why && `${qualifiedName(v)}, ${why}`;
      }
      case "call": {
        const kept = classes ? undefined : this.excusedCalls.get(v);
        if (kept?.entry.notCalled) return `${kept.name}, allowlisted never to be called at load`;
        return this.holds(v) ? `${describe(v)}, which calls what it holds` : undefined;
      }
      case "tuple":
      case "list":
      case "set":
        return depth > 0 ? firstDefined(v.items, (x) => this.unseenCallee(x, depth - 1, unknown, classes)) : undefined;
      case "dict":
        return depth > 0 ? firstDefined(v.kv, (x) => this.unseenCallee(x, depth - 1, unknown, classes)) : undefined;
      default:
        return undefined;
    }
  }

  /**
   * Values that denied callables make for a model to keep, never to call at load: type hints
   * (`typing.List[int]` pickles as `operator.getitem(typing.List, int)`, `list[int]` as
   * `types.GenericAlias(list, (int,))`, `int | None` as `functools.reduce(operator.or_, (int,
   * NoneType))`) and key functions (`operator.itemgetter(1)`, `attrgetter("name")`). Excused only on
   * arguments that make nothing else: hints of allowlisted classes and constants, keys that are
   * constants, attribute names without underscores. Calling one at load is MG101 (a hint's call
   * constructs its origin; a getter's fetches by name).
   */
  private storedValue(name: string, c: CallResult): boolean {
    const args = positional(c);
    if (c.kind !== "REDUCE" || args === undefined) return false;
    let made: string | undefined;
    if (name === "operator.getitem" || name === "_operator.getitem") {
      const [form, params] = args;
      const typing = isSym(form) && form.t === "global" && TYPING_MODULES.has(form.module) && this.classOf(form)?.isClass === true;
      if (args.length === 2 && typing && this.isHint(params!)) made = `${importedName(form)}[…]`;
    } else if (name === "types.GenericAlias") {
      const [origin, params] = args;
      if (args.length === 2 && isSym(origin) && origin.t === "global" && GENERIC_ORIGINS.has(importedName(origin)) && this.isHint(params!)) made = `${importedName(origin)}[…]`;
    } else if (name === "functools.reduce" || name === "_functools.reduce") {
      const [or, types] = args;
      const union = isSym(or) && or.t === "global" && OR.has(importedName(or)) && isSym(types) && types.t === "tuple" && types.items.length >= 2;
      if (args.length === 2 && union && this.isHint(types)) made = "a union of types";
    } else if (name === "operator.itemgetter" || name === "_operator.itemgetter") {
      if (args.length > 0 && args.every((k) => isPlain(k))) made = "operator.itemgetter(…)";
    } else if (name === "operator.attrgetter" || name === "_operator.attrgetter") {
      if (args.length > 0 && args.every((a) => typeof a === "string" && PUBLIC_ATTRIBUTE_PATH.test(a))) made = "operator.attrgetter(…)";
    }
    if (made === undefined) return false;
    // Hints share parameters through the memo: hashing or comparing one walks every path, so the paths are counted.
    const size = 1 + this.hintSize(args);
    if (size > MAX_HINT_SIZE) return false;
    this.excusedCalls.set(c, { name: made, entry: STORED_ONLY });
    this.keptValues.set(c, size);
    return true;
  }

  /** The nodes a hash or comparison of these parameters visits, shared ones once per path. */
  private hintSize(v: Value | readonly Value[]): number {
    if (Array.isArray(v)) return (v as readonly Value[]).reduce((n: number, x) => n + this.hintSize(x), 0);
    const x = v as Value;
    if (!isSym(x)) return 1;
    if (x.t === "call") return this.keptValues.get(x) ?? 1;
    return x.t === "tuple" || x.t === "list" ? 1 + this.hintSize(x.items) : 1;
  }

  /** Whether `v` can be a type hint's parameter that makes nothing: an allowlisted class, a constant, NoneType, a hint, or a tuple or list of them. */
  private isHint(v: Value, depth = 4): boolean {
    if (!isSym(v)) return true;
    switch (v.t) {
      case "global":
        return this.classOf(v) !== undefined;
      case "call":
        // type(None): CPython pickles NoneType so (typeOfConstant excuses only that and constants' types).
        return this.keptValues.has(v) || (this.excusedCalls.has(v) && isSym(v.fn) && v.fn.t === "global" && importedName(v.fn) === "builtins.type");
      case "tuple":
      case "list":
        return depth > 0 && v.items.length <= MAX_HINT_PARAMETERS && (v.t === "tuple" || v.items.length === v.n) && v.items.every((x) => this.isHint(x, depth - 1));
      default:
        return false;
    }
  }

  /**
   * dill's `_load_type(name)` returns any type by name, `CodeType` and `FunctionType` among them;
   * it is excused only for a builtin data type's name, and calling what it returned is then judged
   * as calling that type.
   */
  private dillType(c: CallResult): boolean {
    const [name] = positional(c) ?? [];
    // type(None): calling it returns None.
    if (name === "NoneType") {
      this.excusedCalls.set(c, undefined);
      return true;
    }
    const type = typeof name !== "string" ? undefined : BUILTIN_DATA_TYPES.has(`builtins.${name}`) ? `builtins.${name}` : DILL_TYPES.get(name);
    const entry = type ? allowEntry(type) : undefined;
    if (type && entry) {
      this.excusedCalls.set(c, { name: type, entry });
      return true;
    }
    this.report("MG108", `dill's _load_type fetches the type ${describe(name ?? null)}, which is not a builtin data type`, { offset: c.at, evidence: describe(c) });
    return false;
  }

  /**
   * torch.storage._load_from_bytes(b) is how a tensor pickles outside torch.save (pickle.dump,
   * deepcopy, a DataLoader worker): torch.load of b, torch.save's stream of one storage. Given b as
   * a constant, that stream is scanned as a nested member and reported by what it does, as a file
   * torch.load opened would be, so the call is excused here; the pickle scan reports it after all
   * unless the load returns that storage (loadsOneStorage), not an object the stream built.
   */
  private loadsScannedBytes(fn: GlobalRef, c: CallResult): boolean {
    const j = this.judgementOf(fn);
    if (j.kind !== "deny" || !j.entry.nested || c.kind !== "REDUCE") return false;
    const args = positional(c);
    const b = args?.length === 1 ? args[0] : undefined;
    // The bytes themselves, as bytesPayloads finds them: not bytes another call makes of them.
    const payload = !isSym(b) ? undefined : b.t === "bytes" || b.t === "bigbytes" ? b : b.t === "call" ? codecsEncoded(b) : undefined;
    return payload !== undefined && scannable(payload);
  }

  /**
   * type(x) of one constant is that constant's type: CPython pickles NoneType as type(None). It is
   * excused, and calling what it returned is judged as calling that type. type() with three
   * arguments makes a class, and of anything else it gives back what the scanner cannot tell: both
   * stay judged as builtins.type is (the deny list's).
   */
  private typeOfConstant(c: CallResult): boolean {
    const args = positional(c);
    const x = args?.length === 1 ? args[0] : undefined;
    if (x === null) {
      this.excusedCalls.set(c, undefined);
      return true;
    }
    const type = typeof x === "boolean" ? "builtins.bool" : typeof x === "number" || typeof x === "bigint" ? (Number.isInteger(x) || typeof x === "bigint" ? "builtins.int" : "builtins.float") : typeof x === "string" ? "builtins.str" : isSym(x) && x.t === "bytes" ? "builtins.bytes" : undefined;
    const entry = type ? allowEntry(type) : undefined;
    if (!type || !entry) return false;
    this.excusedCalls.set(c, { name: type, entry });
    return true;
  }

  /** The allowlisted class `v` is (an imported class) or made (an instance NEWOBJ or copyreg's reconstructors built). */
  private classOf(v: Value | undefined): AllowedClass | undefined {
    if (!isSym(v)) return undefined;
    if (v.t === "global") {
      const j = this.judgementOf(v);
      const name = importedName(v);
      return j.kind === "allow" || BUILTIN_DATA_TYPES.has(name) ? { name, isClass: true, entry: j.kind === "allow" ? j.entry : undefined } : undefined;
    }
    if (v.t !== "call" || !isSym(v.fn) || v.fn.t !== "global" || !this.madeByAllowed(v)) return undefined;
    const maker = importedName(v.fn);
    // numpy.object_(x) is x itself, whatever x is (red team round 32: a SciPy distribution so wrapped escaped its guard).
    if (IDENTITY_CLASSES.has(maker)) return this.classOf(positional(v)?.[0]);
    const classArgument = INSTANCE_MAKERS.get(maker);
    const cls = classArgument === undefined ? v.fn : positional(v)?.[classArgument];
    if (!isSym(cls) || cls.t !== "global") return undefined;
    const j = this.judgementOf(cls);
    return j.kind === "allow" && j.entry?.kind === "class" ? { name: importedName(cls), isClass: false, entry: j.entry } : undefined;
  }

  /** The object a value is: numpy.object_(x) is x itself (IDENTITY_CLASSES), however deep the wrapping. */
  private objectOf(v: Value | undefined): Value | undefined {
    for (let depth = 0; depth < 64 && isSym(v) && v.t === "call" && isSym(v.fn) && v.fn.t === "global" && IDENTITY_CLASSES.has(importedName(v.fn)); depth++) v = positional(v)?.[0];
    return v;
  }

  /** The judgement of an imported name: the one made when it was imported, judged afresh only past the distinct-name bound. */
  private judgementOf(g: GlobalRef): Judgement {
    return this.byRef.get(g)?.judgement ?? judge(g.module, g.name, this.judging);
  }

  /** Records one use of an imported name; undefined past the bound on distinct names (counted, not judged). */
  private use(g: GlobalRef, use: Use, call?: CallResult, excused = false): NameUse | undefined {
    // A memoized import is one GlobalRef used by every call through it: its name is built once.
    let u = this.byRef.get(g);
    if (!u) {
      const key = importedName(g);
      u = this.uses.get(key);
      if (!u) {
        if (this.uses.size >= LIMITS.pickleMaxDistinctGlobals) {
          this.overflowNames++;
          return undefined;
        }
        const judgement = judge(g.module, g.name, this.judging);
        u = {
          name: key,
          ref: g,
          judgement,
          silent: silentlyJudged(key, judgement),
          rebuildsTensor: TENSOR_REBUILDERS.has(key),
          worst: use,
          calls: 0,
          excused: 0,
        };
        this.uses.set(key, u);
      }
      this.byRef.set(g, u);
    }
    if (use !== "import") u.calls++;
    if (excused) u.excused++;
    else if (USE_RANK[use] > USE_RANK[u.worst]) u.worst = use;
    if (call && !excused && !u.firstCall) u.firstCall = call;
    return u;
  }

  /**
   * Reports every name that was not allowed, once, at the severity of its worst use. A name whose
   * every call a convention excused is not reported; imported and never called, it is.
   */
  flush(): void {
    for (const [name, u] of this.uses) {
      const j = u.judgement;
      if (j.kind === "allow" || (u.excused > 0 && u.excused === u.calls)) continue;
      const how = u.firstCall ? `${describe(u.firstCall)} via ${u.firstCall.kind}` : `imported via ${u.ref.via}`;
      const calls = u.calls - u.excused;
      const extra: ReportExtra = {
        offset: u.firstCall?.at ?? u.ref.at,
        evidence: calls > 1 ? `${how} (${calls} calls)` : how,
      };
      const verb = u.worst === "call" ? "calls" : u.worst === "construct" ? "constructs" : "imports";
      if (this.secondReading && this.outer?.importedNames.get(u.ref.at) === u.ref.name && swappedImportFails(u.ref.module, u.ref.name)) {
        // The opcode imported this very name in joblib's reading, from a module the outer memo swapped for a value of
        // its own (DataFrame.dtype for numpy.dtype; subclass.__bit_generator_ctor, "subclass" being a key of joblib's
        // wrapper state; joblib.numpy_pickle.scalar, the wrapper's module first in every joblib file's memo).
        continue;
      } else if (j.kind === "deny") {
        this.report("MG100", `${verb} ${name}, which ${j.entry.reason}`, { ...extra, severity: j.entry.severity });
      } else if (j.kind === "walk") {
        const why = j.entry ? `, which ${j.entry.reason}` : "";
        this.report("MG104", `${verb} ${name} by walking attributes of ${u.ref.module}${why}`, extra);
      } else if (u.worst === "call") {
        this.report("MG101", `calls ${name}, which is not on the allowlist`, extra);
      } else {
        this.report("MG102", `${verb} ${name}, which is not on the allowlist (an imported name can end up invoked)`, extra);
      }
    }
    if (this.overflowNames > 0) {
      this.report("MG111", `more than ${LIMITS.pickleMaxDistinctGlobals} distinct imported names; ${this.overflowNames} uses were not judged`);
    }
  }

  /**
   * What in a state hides the names of the attributes it sets, in the state or any item of a tuple
   * state (a (dict, slots) pair, partial's namespace): a key made at load time (`str(b"__setstate__", "ascii")`); a key past the
   * sample that was not plain data; a mapping an allowlisted class made (OrderedDict, a Bunch) from
   * arguments that could spell such a key, or given one by SETITEM; anything else made at load time
   * but an allowlisted function's result (an array, a dtype), which is no mapping.
   */
  private unknownKeys(state: Value | undefined): string[] {
    if (!isSym(state)) return [];
    const parts = stateParts(state);
    const found: string[] = [];
    for (const part of parts) {
      if (!isSym(part)) continue;
      if (part.t === "dict") {
        for (let i = 0; i < part.kv.length; i += 2) {
          const k = part.kv[i];
          if (isSym(k) && !isPlain(k)) found.push(`a key made at load time: ${describe(k)}`);
        }
        if (part.keyPastSample) found.push(`a key past the first ${part.kv.length / 2} that is not plain data`);
      } else if (part.t === "call") {
        const cls = this.classOf(part);
        const mapping = cls !== undefined && !cls.isClass;
        if (mapping ? this.keyedObjects.has(part) || mayNameKeys(part.args) : !this.madeByAllowed(part)) found.push(`a state made at load time: ${describe(part)}`);
      } else if (part === state && (part.t === "global" || part.t === "pid" || part.t === "dynglobal")) {
        // An imported name inside a tuple is a value the class's own __setstate__ takes (partial's function, a dtype).
        found.push(`a state made at load time: ${describe(part)}`);
      }
    }
    return found;
  }

  /**
   * What a state stores as attributes, as what it could be called as: a `__setstate__` (or any
   * method that runs at load) that calls a method on self calls the attribute that shadows it, with
   * arguments from the same state (IsotonicRegression's `_build_f`), a call the scanner never sees.
   * So an attribute must not be what needs its call seen: a class allowlisted never to be called, a
   * carrier that calls or constructs what it is given, or a partial or wrapped hook holding either.
   * Past the kept sample, the values that could be such are kept by onUnkeptValue.
   */
  private storedCallees(state: Value | undefined, what: string, at: number): void {
    if (!isSym(state)) return;
    for (const part of stateParts(state)) {
      if (!isSym(part) || part.t !== "dict") continue;
      for (let i = 1; i < part.kv.length; i += 2) {
        this.storedCallee(part.kv[i]!, `${what} as an attribute`, at, part);
        const key = part.kv[i - 1];
        if (typeof key === "string" && IMPLICITLY_CALLED.has(key)) this.implicitlyCalled(key, part.kv[i]!, at);
      }
      const unkept = this.unkeptCallees.get(part) ?? [];
      if (unkept.length > LIMITS.pickleContainerSample) {
        this.report("MG111", `${what} more than ${LIMITS.pickleContainerSample} carriers or names never to be called past the first ${part.kv.length / 2} attributes; not all were checked`, { offset: at });
      }
      for (const v of unkept) this.storedCallee(v, `${what} past the first ${part.kv.length / 2} attributes`, at, part);
    }
  }

  /**
   * An attribute CPython calls though the pickle never does: dict(x), OrderedDict(x) and
   * dict.update(x) call x.keys() on any object that has one (OrderedDict falls back to x.items()),
   * and an instance attribute shadows the method. A name or a carrier stored there
   * (partial(pow, 10, 10**8)) is judged as called with no arguments; data there (a list) is not callable.
   */
  private implicitlyCalled(attribute: string, v: Value, at: number): void {
    if (!isSym(v) || (v.t !== "global" && !(v.t === "call" && this.invocable(v)))) return;
    const c = callResult(v, tuple([]), "REDUCE", at);
    this.invoked(v, "call", `dict(x) or OrderedDict(x), which calls an object's ${attribute} attribute,`, c, c.args);
  }

  /** One attribute value of storedCallees; `shown` is the evidence. */
  private storedCallee(v: Value, what: string, at: number, shown: Value, depth = 3): void {
    if (!isSym(v)) return;
    if (v.t === "global") {
      const problem = this.calleeProblem(v);
      // One never to be called was reported when it went into the state's dict, as such a put always is.
      if (problem?.rule === "MG101") this.reportNeverCalled(v, `${what} ${qualifiedName(v)}`, at, shown);
      else if (problem) this.report(problem.rule, `${what} ${qualifiedName(v)}, ${problem.why}`, { offset: at, evidence: describe(shown) });
    } else if (v.t === "call" && this.excusedCalls.get(v)?.name.startsWith(PATTERN_METHOD)) {
      // A compiled pattern's method getattr may fetch to be stored backtracks for hours on crafted text; other stored
      // methods (TfidfVectorizer's preprocessor, a stemmer's stem) do work in proportion to what they are given.
      this.report("MG101", `${what} ${this.excusedCalls.get(v)!.name}, allowlisted to be stored, not called at load: an iterator, a __setitem__ or a method the attribute shadows would call it with text the scanner never sees, and a crafted pattern backtracks on it for hours`, { offset: at, evidence: describe(shown) });
    } else if (v.t === "call" && depth > 0 && this.holds(v)) {
      this.storedHolders.add(v);
      // What it holds that is never to be called was reported when it took it (see hold).
      if (this.neverCalledClass(v) === undefined) for (const h of this.held.get(v) ?? []) this.storedCallee(h, `${what} ${describe(v)}, which holds`, at, shown, depth - 1);
    }
    // A class never to be called inside an attribute's containers was reported when it went into the state (see onNeverCalledStored).
  }

  /** Why an allowlisted name must not be stored where a shadowed method could call it (see storedCallees). */
  private calleeProblem(g: GlobalRef): { rule: RuleId; why: string } | undefined {
    const j = this.judgementOf(g);
    const entry = j.kind === "allow" ? j.entry : undefined;
    if (!entry) return undefined;
    if (entry.notCalled && entry.kind === "class") return { rule: "MG101", why: "a class allowlisted to be constructed, never called at load: a method the attribute shadows would call it" };
    if (isCarrier(entry)) return { rule: "MG107", why: "which calls or constructs what it is given: a method the attribute shadows would run it on arguments the scanner never sees" };
    // A class whose call is checked by its arguments, or a name whose work grows faster than what it is given
    // (_codecs.encode is a function): what calls the attribute (networkx's FilterAtlas calls its NODE_OK on every
    // key it iterates; torch's WeakIdKeyDictionary, excluded since, its ref_type in __setitem__) passes arguments never seen.
    const checked = entry.kind === "class" ? checkedByArguments(entry, g) : undefined;
    const faster = CHECKED_WHEN_STORED.has(importedName(g)) ? "runs a codec, a number conversion or a comparison whose work grows faster than what it is given" : undefined;
    const why = checked ?? faster;
    if (why) return { rule: "MG107", why: `${entry.kind === "class" ? "a class" : "a function"} that ${why}: an iterator, a __setitem__ or a method the attribute shadows would call it with values the scanner never sees` };
    return undefined;
  }

  /** Whether an object is a carrier that calls what it holds when it is called itself (a partial, a wrapped hook). */
  private holds(v: CallResult): boolean {
    const cls = this.classOf(v);
    return cls !== undefined && !cls.isClass && stateCallsOf(cls.entry) !== undefined;
  }

  /**
   * A value past a dict's kept sample: what storedCallees would check is kept for when the dict is
   * a state, up to a sample's worth; past that, such a state is reported as not checked.
   */
  onUnkeptValue(target: Dict, value: GlobalRef | CallResult): void {
    if (value.t === "call" ? !this.holds(value) : !this.calleeProblem(value)) return;
    const kept = this.unkeptCallees.get(target);
    if (!kept) this.unkeptCallees.set(target, [value]);
    else if (kept.length <= LIMITS.pickleContainerSample) kept.push(value);
  }

  /**
   * BUILD calls whatever looking `__setstate__` up on the object returns, and a class without one but
   * with a `__getattr__` that forwards (numpy's user_array.container, accelerate's DataLoaderAdapter,
   * SciPy's _RichResult serving its items) answers with what the object already holds. Pickle writes
   * one BUILD per object, after its items: a second BUILD, or one on an object given items under keys
   * made at load time, may hand its state to a method the scanner never sees (a SciPy distribution's,
   * which executes part of it).
   */
  private forwardedBuild(target: Value, state: Value, at: number): void {
    if (!isSym(target) || (target.t !== "call" && target.t !== "pid")) return;
    const forwarder = target.t === "call" ? this.classOf(target) : undefined;
    const why = this.builtObjects.has(target)
      ? "an object already given a state"
      : target.t === "call" && this.keyedObjects.has(target)
        ? "an object given items under keys made at load time"
        : forwarder?.entry?.forwards && target.t === "call" && madeWithHeldValues(target)
          ? `an object of ${forwarder.name}, a class without __setstate__ whose attribute lookups forward, made with arguments`
          : undefined;
    this.builtObjects.add(target);
    if (why === undefined) return;
    this.report("MG106", `BUILD restores ${why}: what it holds can answer BUILD's lookup of __setstate__ (a __getattr__ that forwards, items served as attributes), so the state may go to a method the scanner does not see`, {
      offset: at,
      evidence: `BUILD ${describe(target)} with ${describe(state)}`,
    });
  }

  onSetstateName(at: number): void {
    if (this.setstateNamed) return;
    this.setstateNamed = true;
    this.report("MG106", "the stream holds the name __setstate__ as data: BUILD looks that name up on the object it restores, and a mapping that serves its items as attributes (or a __getattr__ that forwards) answers with what was stored under it, at any depth", { offset: at, evidence: '"__setstate__"' });
  }

  onItemsByLookup(target: Sym, at: number): void {
    if (this.itemsByLookupReported) return;
    this.itemsByLookupReported = true;
    this.report("MG106", "APPEND(S) or ADDITEMS on an object after an item was stored under the name append, extend or add, or under a key made at load time: pickle looks that method up on the object, and a mapping that serves its items as attributes (or a __getattr__ that forwards) answers with the stored value, which is called with the items", {
      offset: at,
      evidence: describe(target),
    });
  }

  onHashFlood(widest: number, probes: number, at: number): void {
    this.report("MG109", `hash flooding: loading the stream's dicts and sets would take ${probes.toLocaleString("en-US")} steps or more of comparing keys that share a CPython hash (up to ${widest} distinct keys under one hash; the work grows with the square of their number) or of hashing nested tuples`, { offset: at });
  }

  /**
   * Items an object's own append, extend, add or __setitem__ is handed: that method is its class's code,
   * which may convert, compare or hash them (a red team's scipy lil_matrix ran self.dtype.type on each
   * value, a type its state had set to hash), so they are held to the bounds a call's arguments are.
   */
  onObjectItems(target: Sym, items: readonly Value[], from: number, to: number, at: number): void {
    const what = `an item handed to ${describe(target)}'s own method`;
    const c = callResult(target, tuple(items.slice(from, to)), "REDUCE", at);
    for (let i = from; i < to; i++) {
      const x = items[i]!;
      if (!isSym(x) && typeof x !== "bigint") continue;
      this.walked(what, x, c);
      const exponent = hugeDecimalExponent(x);
      if (exponent !== undefined) this.report("MG109", `${what} is a Decimal of exponent ${exponent}, which converting to an integer expands into that power of ten at load time`, { offset: at, evidence: describe(c) });
      this.bigIntegers(what, x, c);
    }
  }

  /** An integer operand past the bound: whatever converts it later, wherever it is put, takes time that grows with the square of its length. */
  onLongInteger(description: string, at: number): void {
    if (this.longIntegerReported) return;
    this.longIntegerReported = true;
    this.report("MG109", `the stream holds ${description}: converting it (seeding a random generator, a Decimal, a Fraction's gcd) takes time that grows with the square of its length, at load time`, { offset: at });
  }

  /** SETITEM(S) on an object (an OrderedDict, a Bunch): a key that is not plain data marks it, for its use as BUILD state. */
  onSetItems(target: Sym, kv: readonly Value[], from: number, to: number): void {
    if (target.t !== "call") return;
    for (let i = from; i < to; i += 2) {
      if (!isPlain(kv[i]!)) {
        this.keyedObjects.add(target);
        return;
      }
    }
  }

  /**
   * Integers given to a call, however nested (two levels) and however made (a LONG, int(text, 16),
   * int.from_bytes): one past MAX_NUMBER_BITS is MG109 (converting it takes time that grows with the
   * square of its length: NumPy's seeding, Decimal), and so is their converting work summed over the
   * load, so that one integer under the bound handed to a call a thousand times through the memo is too.
   */
  private bigIntegers(name: string, arg: Value, c: CallResult): void {
    // One walk finds the largest integer and adds up the work (this runs for every argument of every call).
    let largest = 0;
    let work = 0;
    forIntegers(arg, (bits) => {
      if (bits > largest) largest = bits;
      work += bits * bits;
    });
    // NumPy's seeding converts "0x…" text too: text too long to read cannot be bounded there.
    const big = largest > MAX_NUMBER_BITS ? outsizedText(largest) : NUMPY_SEEDERS.test(name) ? unreadTextIn(arg) : undefined;
    if (big) {
      this.report("MG109", `${name} is given ${big}: converting it (seeding a random generator, a Decimal) takes time that grows with the square of its length, at load time`, { offset: c.at, evidence: describe(c) });
      return;
    }
    if (this.numberWorkReported || work === 0) return;
    this.numberWork += work;
    if (this.numberWork > MAX_NUMBER_WORK) {
      this.numberWorkReported = true;
      this.report("MG109", `calls are given integers whose conversions take time that grows with the square of their lengths, past the bound in all at load time (${name} passes it)`, { offset: c.at, evidence: describe(c) });
    }
  }

  /**
   * Dunder keys in state that becomes attributes (BUILD, or an allowlisted callable's state argument).
   * `shown` is described as the evidence only when there is something to report (BUILD runs per object of a model).
   */
  private checkState(state: Value | undefined, what: string, at: number, shown: Value | undefined): void {
    this.storedCallees(state, what, at);
    const big = firstOutsized(state);
    if (big) this.report("MG109", `${what} ${big}, which converting takes time that grows with the square of its length, at load time`, { offset: at, evidence: describe(shown ?? null) });
    const dunders = dunderKeys(state);
    const unknown = this.unknownKeys(state);
    if (dunders.length === 0 && unknown.length === 0) return;
    const message =
      unknown.length === 0
        ? `${what} dunder attributes ${dunders.join(", ")}`
        : `${what} attributes whose names cannot be checked (${unknown.join("; ")})${dunders.length > 0 ? ` and dunder attributes ${dunders.join(", ")}` : ""}: one may be __setstate__ or __class__`;
    this.report("MG106", message, { offset: at, evidence: describe(shown ?? null) });
  }
}

/**
 * What an object was given when it was made, besides its class: a call's arguments and keywords,
 * `copyreg.__newobj__(cls, *args)`'s args, `__newobj_ex__(cls, args, kwargs)`'s args and kwargs,
 * `_reconstructor(cls, base, state)`'s base state. `args` is undefined when they were made at load time.
 */
function madeWith(c: CallResult): { args: readonly Value[] | undefined; keywords: Value | undefined } {
  const args = positional(c);
  switch (isSym(c.fn) && c.fn.t === "global" ? importedName(c.fn) : "") {
    case "copyreg._reconstructor":
      return { args: args?.slice(2), keywords: undefined };
    case "copyreg.__newobj__":
      return { args: args?.slice(1), keywords: undefined };
    case "copyreg.__newobj_ex__": {
      const inner = args?.[1];
      return { args: isSym(inner) && inner.t === "tuple" ? inner.items : undefined, keywords: args?.[2] };
    }
    default:
      return { args, keywords: keywordsOf(c) };
  }
}

/**
 * Whether an object was made with something a forwarding lookup could answer BUILD's `__setstate__`
 * with (see madeWith): an object, or a mapping whose keys may be made at load time (one may be
 * `__setstate__`). Plain data and mappings keyed by constants or tuples are not (a dict subclass
 * restored from its items, such as SciPy's dok_matrix keyed by index pairs; a constant
 * "__setstate__" key is reported wherever it is).
 */
function madeWithHeldValues(c: CallResult): boolean {
  const { args, keywords } = madeWith(c);
  const held = (v: Value | undefined): boolean => v !== undefined && !isPlain(v) && !(isSym(v) && v.t === "dict" && cannotNameSetstate(v));
  // Keywords are arguments by name: their values are what the object may hold.
  const named = isSym(keywords) && keywords.t === "dict" ? (keywords.n > keywords.kv.length / 2 ? [keywords] : keywords.kv.filter((_, i) => i % 2 === 1)) : [keywords ?? null];
  return args === undefined || args.some(held) || named.some(held);
}

/** Functions that set a state's items as attributes of one of their arguments (the others set them on their result). */
const STATE_ON_ARGUMENT: ReadonlyMap<string, number> = new Map([["torch._utils._set_obj_state", 0]]);

/** The qualified name of the global a value is, or of the global whose call made it. */
function globalName(v: Value | undefined, made: boolean): string | undefined {
  const g = made ? (isSym(v) && v.t === "call" ? v.fn : undefined) : v;
  return isSym(g) && g.t === "global" ? importedName(g) : undefined;
}

const TORCH_REBUILDER = /^torch\.(?:_utils\._rebuild_|_tensor\._rebuild_from_type)/;
/** torch._utils' rebuilders, which make a tensor or fail (unlike _rebuild_from_type, which makes the type it is given). */
const TENSOR_MAKER = /^torch\._utils\._rebuild_/;
const ARRAY_RECONSTRUCTORS: ReadonlySet<string> = new Set([...RECONSTRUCTORS, "numpy.ma.core._mareconstruct"]);

const TENSOR_TYPES: ReadonlySet<string> = new Set(["torch.Tensor", "torch._tensor.Tensor"]);

/**
 * Functions that set attributes past the object's own `__setstate__`, and what their arguments
 * must be: dill's `_create_array` and torch's `_rebuild_from_type(_v2)` set them on what their
 * function makes (an array, a tensor, as dill and torch write them), torch's `_set_obj_state` on its
 * first argument (a tensor, as torch calls it). On any other object they plant what its class's own
 * state restore would never set (LightGBM's Booster frees whatever `_handle` it holds).
 */
const STATE_BYPASS: ReadonlyMap<string, { accepts: (args: readonly Value[]) => boolean; what: string }> = new Map([
  ["dill._dill._create_array", { accepts: ([f]) => ARRAY_RECONSTRUCTORS.has(globalName(f, false) ?? ""), what: "an array NumPy's reconstructor makes" }],
  // An imported class as the target is MG106 already.
  ["torch._utils._set_obj_state", { accepts: ([o]) => (isSym(o) && o.t === "global") || TORCH_REBUILDER.test(globalName(o, true) ?? ""), what: "a tensor a torch rebuilder made" }],
  ["torch._tensor._rebuild_from_type", { accepts: tensorSubclassRebuild, what: "a tensor a torch rebuilder makes" }],
  ["torch._tensor._rebuild_from_type_v2", { accepts: tensorSubclassRebuild, what: "a tensor a torch rebuilder makes" }],
]);

/**
 * `_rebuild_from_type(func, type, args, state)` makes `func(*args)`, turns it into `type` with
 * as_subclass unless it already is one, then sets `state` on it. Only a tensor has as_subclass: so
 * the object is a tensor when func is a torch rebuilder or type a tensor type; when func is a
 * builtin data type, the object is one (or the load fails), and those hold no attributes. Otherwise
 * func may make a `type` of anything (`copyreg.__newobj__`), which then gets attributes past its own
 * __setstate__.
 */
function tensorSubclassRebuild([func, type]: readonly Value[]): boolean {
  const f = globalName(func, false) ?? "";
  const t = globalName(type, false) ?? "";
  return TORCH_REBUILDER.test(f) || TENSOR_TYPES.has(t) || BUILTIN_DATA_TYPES.has(f);
}

/** Whether an entry calls, constructs or iterates some of its arguments: what they are must be known to follow it. */
function usesArguments(entry: AllowEntry): boolean {
  return entry.calls !== undefined || entry.instantiates !== undefined || entry.constructs !== undefined || entry.iterates !== undefined;
}

/** An allowlisted callable that calls or constructs an argument it is given (a carrier). */
function isCarrier(entry: AllowEntry): boolean {
  return entry.calls !== undefined || entry.instantiates !== undefined || entry.constructs !== undefined || entry.state !== undefined || entry.setstate !== undefined;
}

/** What of a state can set attributes: the state, or every item of a tuple state (a (dict, slots) pair, partial's namespace as its fourth item). */
function stateParts(state: Sym): readonly Value[] {
  const pairs = pairsAsDict(state);
  if (pairs) return [pairs];
  return state.t === "tuple" ? state.items.map((part) => pairsAsDict(part) ?? part) : [state];
}

/**
 * A tuple or list of (key, value) pairs, as the dict `__dict__.update` makes of it: a `__setstate__`
 * that updates its `__dict__` with its state (torch's Module) takes pairs as readily as a dict, so
 * their keys and values are attributes. Undefined for anything else (an update stops at the first
 * item that is not a pair, and the load with it).
 */
function pairsAsDict(v: Value): Dict | undefined {
  if (!isSym(v) || (v.t !== "tuple" && v.t !== "list") || v.items.length === 0) return undefined;
  const kv: Value[] = [];
  let pairs = 0;
  for (const pair of v.items) {
    // A two-character string is a pair too (dict.update takes any two-item iterable): its first character names nothing dunder.
    if (typeof pair === "string" && pair.length === 2) kv.push(pair[0]!, pair[1]!);
    else if (isSym(pair) && (pair.t === "tuple" || pair.t === "list") && pair.items.length === 2) {
      kv.push(pair.items[0]!, pair.items[1]!);
      pairs++;
    } else return undefined;
  }
  if (pairs === 0) return undefined;
  const d = emptyDict();
  d.kv = kv;
  d.n = v.t === "list" ? v.n : v.items.length;
  d.behaviour = v.behaviour;
  // Pairs past a list's sample are unknown: any of them may name an attribute.
  d.keyPastSample = v.t === "list" && v.n > v.items.length && v.behaviour;
  return d;
}

/** A state slot whose value the scanner cannot read (see stateSlot). */
const UNREADABLE: Opaque = Object.freeze({ t: "opaque", what: "an unreadable state slot" }) as Opaque;

/**
 * Item `slot` of a tuple state, or the value of key `slot` in a dict state, as the object's
 * `__setstate__` reads it; UNREADABLE when the state is not that literal, or a dict whose keys are
 * not all known (past the sample, made at load time: a later key of the same name wins).
 */
function stateSlot(state: Value, slot: number | string): Value | undefined {
  if (!isSym(state)) return state === null ? undefined : UNREADABLE;
  if (typeof slot === "number") return state.t === "tuple" ? state.items[slot] : UNREADABLE;
  // (key, value) pairs, which a __setstate__ that updates __dict__ (torch's Module's) takes as a dict: the last pair wins.
  if ((state.t === "tuple" || state.t === "list") && state.items.every((p) => isSym(p) && p.t === "tuple" && p.items.length === 2 && typeof p.items[0] === "string")) {
    if (state.t === "list" && state.items.length < state.n) return UNREADABLE;
    for (let i = state.items.length - 1; i >= 0; i--) {
      const pair = state.items[i] as Tuple;
      if (pair.items[0] === slot) return pair.items[1];
    }
    return undefined;
  }
  if (state.t !== "dict" || state.kv.length / 2 < state.n || state.keyPastSample) return UNREADABLE;
  if (state.kv.some((k, i) => i % 2 === 0 && typeof k !== "string")) return UNREADABLE;
  return dictGet(state, slot);
}

/**
 * Allowlisted classes whose call returns the very value it is given, not an instance of the class:
 * NumPy's object scalar type (numpy.object_(x) is x). What they make is what they were given.
 */
const IDENTITY_CLASSES: ReadonlySet<string> = new Set(["numpy.object_", "numpy.object0"]);

/** What each state guard protects, for messages about objects of unknown class. */
const GUARDED_BY: Record<StateGuard, string> = { "scipy-argparser": "SciPy distribution", "pillow-image": "Pillow image", "gymnasium-space": "gymnasium space" };
/** Pixel bytes Pillow makes of a byte of data at most: eight 1-bit pixels, each stored in a byte. */
const PIXELS_PER_DATA_BYTE = 8;
/** Pixel bytes past that allowed in all: a palette image's few pixels, images whose data a pickle shares. */
const PIXEL_ALLOWANCE = 64 * 1024 * 1024;
/** The rule a state a guard refuses breaks: code executed, or memory allocated past the data. */
const GUARD_RULES: Record<StateGuard, RuleId> = { "scipy-argparser": "MG125", "pillow-image": "MG109", "gymnasium-space": "MG109" };

/** The guards of any of `lists`, once each. */
function unionOf(lists: readonly (readonly StateGuard[])[]): readonly StateGuard[] {
  const all = lists.flat();
  return all.length <= 1 ? all : [...new Set(all)];
}

/**
 * Functions whose result is an instance of the class one argument names, and that argument's index:
 * copyreg's reconstructors (their first), and torch's `_rebuild_from_type(_v2)(func, new_type, …)`,
 * whose result is `new_type` (what func made, or that made into new_type by `as_subclass`).
 */
const INSTANCE_MAKERS: ReadonlyMap<string, number> = new Map([
  ["copyreg._reconstructor", 0],
  ["copyreg.__newobj__", 0],
  ["copyreg.__newobj_ex__", 0],
  ["torch._tensor._rebuild_from_type", 1],
  ["torch._tensor._rebuild_from_type_v2", 1],
]);

const STRING_METHODS =
  "capitalize center count endswith expandtabs find index isalnum isalpha isascii isdigit islower isspace istitle isupper join ljust lower " +
  "lstrip maketrans partition removeprefix removesuffix replace rfind rindex rjust rpartition rsplit rstrip split splitlines startswith strip " +
  "swapcase title translate upper zfill";
const INT_METHODS = "as_integer_ratio bit_count bit_length conjugate from_bytes is_integer to_bytes";
const SET_METHODS = "copy difference intersection isdisjoint issubset issuperset symmetric_difference union";

/**
 * The methods of builtin data types a pickle may fetch with getattr (`getattr(str, "lower")` pickles
 * `str.lower`): those that only compute a new value from their arguments. Not the ones that change
 * the object in place (`dict.update` would rewrite a state after it was judged), nor `str.format`
 * and `format_map`, whose fields walk attributes and items (`"{0.__init__.__globals__}"`).
 */
const PURE_BUILTIN_METHODS: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  Object.entries({
    str: `${STRING_METHODS} casefold encode isdecimal isidentifier isnumeric isprintable`,
    bytes: `${STRING_METHODS} decode fromhex hex`,
    bytearray: `${STRING_METHODS} copy decode fromhex hex`,
    int: INT_METHODS,
    bool: INT_METHODS,
    float: "as_integer_ratio conjugate fromhex hex is_integer",
    complex: "conjugate",
    list: "copy count index",
    tuple: "count index",
    dict: "copy fromkeys get items keys values",
    set: SET_METHODS,
    frozenset: SET_METHODS,
    slice: "indices",
  }).map(([type, methods]) => [`builtins.${type}`, new Set(methods.split(" "))]),
);

/** Shortest coded text that could hold a pickle with a call (as dormant payloads are looked for). */
const MIN_CODED_TEXT = 12;

/** Payloads found in folded text that are kept for scanning, as ConstantLog keeps those in constants. */
const MAX_COMPUTED = 64;

/** What reading a fold's argument costs: its length, or its items' (a sequence or table). */
function argSize(a: Arg): number {
  if (typeof a === "string" || a instanceof Uint8Array) return a.length;
  if (Array.isArray(a)) return (a as readonly Arg[]).reduce((n: number, x) => n + 1 + argSize(x), 0);
  return a instanceof Map ? a.size : 1;
}

/**
 * What a name does that the scanner checks by the arguments of a call it sees (a file it opens, a
 * size it allocates by, a PROJ definition's files), or undefined: a call it does not see escapes the check.
 */
function checkedByArguments(entry: AllowEntry, g: GlobalRef): string | undefined {
  if (entry.opens !== undefined) return "opens a file it is given";
  if (entry.sizes) return "allocates by the integers it is given";
  return importedName(g).startsWith("pyproj.") ? "opens the files a PROJ definition names" : undefined;
}

/** States kept per object for slotState: pickles give an object one BUILD. */
const MAX_KEPT_STATES = 4;

function firstDefined<T>(items: readonly Value[], f: (v: Value) => T | undefined): T | undefined {
  for (const x of items) {
    const r = f(x);
    if (r !== undefined) return r;
  }
  return undefined;
}

/** How boundToValue names a compiled pattern's method it lets be stored. */
const PATTERN_METHOD = "re.Pattern.";

/** Callables that make type hints or key functions (see storedValue), by their unqualified names. */
const HINT_MAKERS: ReadonlySet<string> = new Set(["getitem", "GenericAlias", "reduce"]);
const GETTERS: ReadonlySet<string> = new Set(["itemgetter", "attrgetter"]);
const TYPING_MODULES: ReadonlySet<string> = new Set(["typing", "typing_extensions"]);
/**
 * Origins of builtin generics a hint may name. A GenericAlias answers attribute lookups with its
 * origin's, so APPEND(S) on one calls the origin's extend unbound: only types whose methods refuse
 * a foreign self.
 */
const GENERIC_ORIGINS: ReadonlySet<string> = new Set([
  ...["list", "dict", "tuple", "set", "frozenset"].map((t) => `builtins.${t}`),
  ...["OrderedDict", "defaultdict", "deque", "Counter"].map((t) => `collections.${t}`),
]);
const OR: ReadonlySet<string> = new Set(["operator.or_", "_operator.or_"]);
/** attrgetter's dotted names: no underscore-led part, so no `__globals__` or `__class__` walk. */
const PUBLIC_ATTRIBUTE_PATH = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$/;
/** Nodes a hint may span, shared parameters counted once per path (hashing one walks them all). */
const MAX_HINT_SIZE = 10_000;
/** Parameters a hint may list (`Tuple[int, str]`, a union's members); more is not a hint a model keeps. */
const MAX_HINT_PARAMETERS = 64;
/** What storedValue excuses: a value to keep, reported if called at load. */
const STORED_ONLY: AllowEntry = { kind: "function", lib: "python", notCalled: true };

/** The builtin type of a value the machine makes, for methods bound to it (`{...}.get`, which models keep as key functions). */
const BOUND_TYPES: Partial<Record<Sym["t"], string>> = { bytes: "builtins.bytes", tuple: "builtins.tuple", list: "builtins.list", dict: "builtins.dict" };

/** re.Pattern's methods that only match (not sub and subn, which call a replacement they are given). */
const PATTERN_METHODS: ReadonlySet<string> = new Set(["search", "match", "fullmatch", "finditer", "findall", "split", "scanner"]);

/** Types dill's _load_type names by their types-module aliases, judged as the classes they are (dill pickles a partial so). */
const DILL_TYPES: ReadonlyMap<string, string> = new Map([["PartialType", "functools.partial"]]);

/** Builtin data types: classOf knows them, and dill's _load_type may name them. */
const BUILTIN_DATA_TYPES: ReadonlySet<string> = new Set(PURE_BUILTIN_METHODS.keys());

/** NEWOBJ_EX's keyword arguments (no other call opcode passes any). */
function keywordsOf(c: CallResult): Value | undefined {
  return c.kind === "NEWOBJ_EX" ? argAt(c.args, 1) : undefined;
}

/** The positional arguments of a call when they are a literal tuple (NEWOBJ_EX's are its first item). */
function positional(c: CallResult): readonly Value[] | undefined {
  const args = c.kind === "NEWOBJ_EX" ? argAt(c.args, 0) : c.args;
  return isSym(args) && args.t === "tuple" ? args.items : undefined;
}

/** len(range(...)) for constant integer arguments; undefined when they are not constants. */
function rangeLength(args: readonly Value[] | undefined): number | undefined {
  if (!args || args.length === 0 || args.length > 3) return undefined;
  const nums = args.map(asNumber);
  if (!nums.every((a): a is number => a !== undefined)) return undefined;
  const [start, stop, step] = nums.length === 1 ? [0, nums[0]!, 1] : [nums[0]!, nums[1]!, nums[2] ?? 1];
  if (step === 0) return 0;
  return Math.max(0, Math.ceil((stop - start) / step));
}

/** Types made from (start, stop, step) that yield that many items: Python's range and pandas' RangeIndex. */
const RANGES: ReadonlySet<string> = new Set(["builtins.range", "pandas.RangeIndex", "pandas.core.indexes.range.RangeIndex"]);

/** The length of `v` when it is a `range(...)` or `RangeIndex(...)` call (Infinity when its bounds are not constants), else undefined. */
function rangeOf(v: Value | undefined): number | undefined {
  // Protocols 0 to 2 name it __builtin__.xrange, which Python 3 loads as builtins.range.
  if (!isSym(v) || v.t !== "call" || !isSym(v.fn) || v.fn.t !== "global" || (v.fn.name !== "range" && v.fn.name !== "xrange" && v.fn.name !== "RangeIndex")) return undefined;
  if (!RANGES.has(importedName(v.fn))) return undefined;
  return rangeLength(positional(v)) ?? Infinity;
}

const MAX_ALLOCATION = LIMITS.pickleMaxAllocation;
/**
 * Elements the classes called with sizes may make in all (torch layers, `sizes` entries): each is
 * written when made, and takes from 4 bytes (a float) to a Python object's 56 (a lil_matrix row).
 */
const MAX_SIZED_ELEMENTS = LIMITS.pickleMaxSizedElements;
/** SciPy's list-of-lists sparse classes, which make a Python list of rows and one of data per row when called with a shape. */
const LIST_OF_LISTS = /^scipy\.sparse\.(?:_?lil|_arrays)\.lil_(?:matrix|array)$/;
/** Eight-byte elements a lil row costs: two empty lists and their two slots, about 140 bytes (measured under CPython 3.11). */
const ROW_ELEMENTS = 20;

/** NumPy's array classes made from a shape as numpy.ndarray is (record and char arrays, under NumPy 1 and 2 names, and astropy's alias). */
const SHAPED_ARRAYS: ReadonlySet<string> = new Set([
  "numpy.ndarray",
  "numpy.recarray",
  "numpy.rec.recarray",
  "numpy.core.records.recarray",
  "numpy._core.records.recarray",
  "numpy.chararray",
  "numpy.char.chararray",
  "numpy.core.defchararray.chararray",
  "numpy._core.defchararray.chararray",
  "astropy.utils.compat.numpycompat.chararray",
]);
/**
 * Python's codecs whose time grows with the square of the text: punycode (pure Python, quadratic
 * in the distinct non-ASCII characters), and idna, which runs it on a label before checking the
 * label's length. 30 kB of text took 16 s of CPU. CPython's pickler only ever writes latin1.
 */
const QUADRATIC_CODECS: ReadonlySet<string> = new Set(["punycode", "idna"]);
/** Characters a quadratic codec may be given: some 20 ms of CPU. */
const MAX_QUADRATIC_TEXT = 1_000;
/**
 * torch's legacy tensor and storage types: called with sizes (`torch.FloatTensor(2**32)`, as the probe
 * did: 16 GB), they allocate their product. Pickles only store them (legacy checkpoints name a
 * storage type in each persistent id).
 */
const SIZED_TORCH_TYPES: ReadonlySet<string> = new Set([
  ..."BFloat16 Bool Byte Char Double Float Half Int Long Short".split(" ").map((t) => `torch.${t}Tensor`),
  ..."BFloat16 Bool Byte Char ComplexDouble ComplexFloat Double Float Half Int Long QInt32 QInt8 QUInt2x4 QUInt4x2 QUInt8 Short Typed Untyped"
    .split(" ")
    .map((t) => `torch.${t}Storage`),
  "torch.Tensor",
]);
/** Fraction and its allowlisted subclasses, which parse a string as it does (nltk's BLEU Fraction). */
const FRACTIONS: ReadonlySet<string> = new Set(["fractions.Fraction", "nltk.translate.bleu_score.Fraction"]);
const DECIMAL = "decimal.Decimal";
/** LIMITS.pickleMaxNumberBits, and characters of a number's text past which Decimal's conversions (int() or Fraction() of one) take as long. */
const MAX_NUMBER_BITS = LIMITS.pickleMaxNumberBits;
const MAX_NUMBER_CHARS = 80_000;
/** What allocationOf bounds by name. */
const ALLOCATING_CALLS: ReadonlySet<string> = new Set([
  ...RECONSTRUCTORS, ...SHAPED_ARRAYS, ...FRACTIONS, DECIMAL, ...SIZED_TORCH_TYPES, "builtins.bytearray", "builtins.bytes", "builtins.str", "numpy.dtype", "_codecs.encode",
]);

/** Integers under this many bits cost nothing worth counting toward MAX_NUMBER_WORK. */
const COUNTED_BITS = 4096;
/** Converting work summed over a load: that of one integer of MAX_NUMBER_BITS. */
const MAX_NUMBER_WORK = MAX_NUMBER_BITS * MAX_NUMBER_BITS;
/** Bits per digit of int(text, base) where CPython does not limit the digits (a power of two: its conversion is linear). */
const POWER_OF_TWO_BASES: ReadonlyMap<number, number> = new Map([[2, 1], [4, 2], [8, 3], [16, 4], [32, 5]]);
const PREFIXED_BASES: Readonly<Record<string, number>> = { x: 4, o: 3, b: 1 };

/**
 * The bits of the integer `v` is, or a call makes at load, when it can be large: a LONG's, one too
 * long to read (an opaque integer), int(text, base) of a power-of-two base (decimal text is limited
 * to 4,300 digits, and past that int() raises), int.from_bytes, and operators on such; undefined
 * for anything else.
 */
function integerBits(v: Value | undefined, depth = 2): number | undefined {
  if (typeof v === "bigint") return v >= -MAX_SAFE_BIG && v <= MAX_SAFE_BIG ? 53 : (v < 0n ? -v : v).toString(16).length * 4;
  // Hex text a callee converts itself (NumPy's seeding takes "0x…" strings).
  if (typeof v === "string") return v.length > COUNTED_BITS / 4 && HEX_TEXT.test(v) ? (v.length - 2) * 4 : undefined;
  if (!isSym(v)) return undefined;
  if (v.t === "opaque") return v.what.startsWith("integer of") ? Infinity : undefined;
  if (v.t !== "call" || depth === 0) return undefined;
  const args = positional(v) ?? [];
  if (isSym(v.fn) && v.fn.t === "call") {
    const method = isSym(v.fn.args) && v.fn.args.t === "tuple" ? v.fn.args.items[1] : undefined;
    return fetchedFrom(v.fn) === "builtins.int" && method === "from_bytes" ? textLength(args[0]) * 8 : undefined;
  }
  const name = isSym(v.fn) && v.fn.t === "global" ? importedName(v.fn) : "";
  if (name === "builtins.int" && args.length === 2) {
    const [text, base] = args;
    const prefix = typeof text === "string" ? /^\s*[+-]?0([xob])/i.exec(text)?.[1]?.toLowerCase() : undefined;
    // A base made at load could be any: 32, whose five bits a digit are the most CPython converts unlimited.
    const perDigit = typeof base === "number" ? (base === 0 ? (prefix === undefined ? (isSym(text) && text.t !== "call" ? 5 : undefined) : PREFIXED_BASES[prefix]) : POWER_OF_TWO_BASES.get(base)) : 5;
    return perDigit === undefined ? undefined : textLength(text) * perDigit;
  }
  if (!name.startsWith("operator.") && !name.startsWith("_operator.")) return undefined;
  let most: number | undefined;
  for (const a of args) {
    const bits = integerBits(a, depth - 1);
    if (bits !== undefined && (most === undefined || bits > most)) most = bits;
  }
  return most;
}
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);
const HEX_TEXT = /^0[xX][0-9a-fA-F]+$/;
/** NumPy's seed sequence and bit generators, which turn a seed's ints and hex texts into 32-bit words one word at a time. */
const NUMPY_SEEDERS = /^numpy\.random\.[\w.]*\.(SeedSequence|MT19937|PCG64|PCG64DXSM|Philox|SFC64)$/;

/** Characters of a text or bytes operand, kept or skipped unread; 0 for anything else. */
function textLength(v: Value | undefined): number {
  if (typeof v === "string") return v.length;
  if (!isSym(v)) return 0;
  return v.t === "bytes" ? v.data.length : v.t === "bigstr" || v.t === "bigbytes" ? v.len : 0;
}

/** Values forLeaves visits in one argument or state: containers keep at most a sample of their items each. */
const MAX_LEAF_WALK = 1024;

/**
 * Calls `visit` with every value in `v` that is not a tuple, list, dict or set, however deep in its
 * containers (NumPy's seeding recurses into any sequence), each container once, within
 * MAX_LEAF_WALK values. A value that is no container is visited with nothing allocated: most
 * arguments are scalars, texts or call results.
 */
function forLeaves(v: Value | undefined, visit: (leaf: Value | undefined) => void): void {
  if (!isContainer(v)) return visit(v);
  const seen = new Set<Sym>();
  const pending: (Value | undefined)[] = [v];
  for (let budget = MAX_LEAF_WALK; pending.length > 0 && budget > 0; budget--) {
    const x = pending.pop();
    if (!isContainer(x)) visit(x);
    else if (!seen.has(x)) {
      seen.add(x);
      pending.push(...(x.t === "dict" ? x.kv : x.items));
    }
  }
}

function isContainer(v: Value | undefined): v is Dict | Extract<Sym, { t: "tuple" | "list" | "set" }> {
  return isSym(v) && (v.t === "dict" || v.t === "tuple" || v.t === "list" || v.t === "set");
}

/** Calls `visit` with the bits of every integer (integerBits) of COUNTED_BITS or more in `v` (see forLeaves); an operand past the bound is reported wherever it lies (onLongInteger). */
function forIntegers(v: Value | undefined, visit: (bits: number) => void): void {
  forLeaves(v, (leaf) => {
    const bits = integerBits(leaf);
    if (bits !== undefined && bits >= COUNTED_BITS) visit(bits);
  });
}

/** Text too long to keep in `v` (see forLeaves), described; undefined when there is none. */
function unreadTextIn(v: Value | undefined): string | undefined {
  let found: string | undefined;
  forLeaves(v, (leaf) => {
    if (found === undefined && isSym(leaf) && leaf.t === "bigstr") found = `${leaf.len} characters of text the scanner skipped unread, which it converts as an integer`;
  });
  return found;
}

/** The first integer in `v` (as forIntegers walks it) past MAX_NUMBER_BITS, described; undefined when there is none. */
function firstOutsized(v: Value | undefined): string | undefined {
  let found: number | undefined;
  forIntegers(v, (bits) => {
    if (bits > MAX_NUMBER_BITS && found === undefined) found = bits;
  });
  return found === undefined ? undefined : outsizedText(found);
}

/** How an integer of `bits` bits (Infinity: too long to read) is described. */
function outsizedText(bits: number): string {
  return bits === Infinity ? "an integer too long to read" : `an integer of some ${bits} bits`;
}

/** A number given to Fraction or Decimal past MAX_NUMBER_BITS or MAX_NUMBER_CHARS (see there), described; undefined for anything else. */
function outsizedNumber(v: Value | undefined): string | undefined {
  if (typeof v === "string") return v.length > MAX_NUMBER_CHARS ? `a number's text of ${v.length} characters` : undefined;
  if (!isSym(v)) return undefined;
  // Text too long to keep was skipped unread: neither its length nor its exponent can be bounded.
  if (v.t === "bigstr") return `${v.len} characters the scanner skipped unread`;
  // Decimal((sign, digits, exponent)).
  if (v.t === "tuple" && isSym(v.items[1]) && v.items[1].t === "tuple" && v.items[1].items.length > MAX_NUMBER_CHARS) return `a tuple of ${v.items[1].items.length} digits`;
  return undefined;
}

/** What a direct call of an allocating callable would allocate past the bound, as " allocates …", or undefined. */
function allocationOf(name: string, args: readonly Value[]): string | undefined {
  if (RECONSTRUCTORS.has(name)) return shapeBomb(args[1]);
  if (SHAPED_ARRAYS.has(name)) return shapeBomb(args[0]) ?? objectFill(args[0], args[1]);
  // Sizes one by one, or as one tuple (a torch.Size); data (a list, bytes) is not a size.
  if (SIZED_TORCH_TYPES.has(name)) return args.length === 1 ? shapeBomb(args[0]) : sizesBomb(args);
  if (FRACTIONS.has(name) || name === DECIMAL) {
    const outsized = firstDefined(args.slice(0, 2), outsizedNumber);
    if (outsized) return ` is given ${outsized}: converting or reducing it takes time that grows with the square of its length, at load time`;
    // Decimal("1e999999999") is cheap; what converts it is judged where it is given one (hugeDecimalExponent).
    if (name === DECIMAL) return undefined;
    const exponent = typeof args[0] === "string" ? trailingExponent(args[0]) : undefined;
    return pastTenExponent(exponent) ? `(${describe(args[0]!)}) computes 10**${exponent} at load time` : undefined;
  }
  switch (name) {
    case "builtins.bytearray":
    case "builtins.bytes": {
      // bytes(text, encoding) runs the codec, as _codecs.encode does.
      if (args.length >= 2) return allocationOf("_codecs.encode", args);
      const n = sizeValue(args[0]);
      const data = textSize(args[0]);
      if (data > MAX_ALLOCATION) return ` copies up to ${data} bytes made at load time`;
      // A call that made no text made something else: an int the scanner cannot compute is a size it cannot bound.
      if (n === UNKNOWN_SIZE && data === 0) return ` is given ${describe(args[0]!)}, made at load time: a size the scanner cannot bound`;
      return n !== undefined && n > MAX_ALLOCATION ? `(${n}) allocates ${n} bytes at load time` : undefined;
    }
    // str(data, encoding) runs the codec's decoder: punycode's is as slow as its encoder.
    case "builtins.str":
      return args.length >= 2 ? allocationOf("_codecs.encode", args) : undefined;
    case "_codecs.encode": {
      const codec = typeof args[1] === "string" ? codecName(args[1]) : undefined;
      const text = args[0];
      const length = typeof text === "string" ? text.length : isSym(text) && (text.t === "bigstr" || text.t === "bigbytes") ? text.len : isSym(text) && text.t === "bytes" ? text.data.length : 0;
      if (codec !== undefined && QUADRATIC_CODECS.has(codec) && length > MAX_QUADRATIC_TEXT) {
        return `(${length} characters, "${codec}") takes time that grows with the square of the text's length, at load time`;
      }
      // Hex doubles what it is given: applied 33 times over, one byte is 8 GiB.
      const made = encodedSize(args);
      return made > MAX_ALLOCATION ? ` makes up to ${made} bytes at load time` : undefined;
    }
    case "numpy.dtype": {
      // ('f8', (2**20, 2**20)): a subarray dtype whose every element is that big.
      const sub = args[0];
      return isSym(sub) && sub.t === "tuple" ? shapeBomb(sub.items[1]) : undefined;
    }
    default:
      return undefined;
  }
}

/** allocationOf for arguments given by keyword (NEWOBJ_EX): each value is tried in every position the name reads. */
function keywordAllocation(name: string, keywords: Value | undefined): string | undefined {
  if (!ALLOCATING_CALLS.has(name) || !isSym(keywords) || keywords.t !== "dict") return undefined;
  for (const value of innerValues(keywords)!) {
    const found = allocationOf(name, [value, value]);
    if (found) return found;
  }
  return undefined;
}

/** The values a tuple or list holds, or a dict's values (keyword arguments to some callees); undefined for anything else. */
function innerValues(v: Value | undefined): readonly Value[] | undefined {
  if (!isSym(v)) return undefined;
  if (v.t === "dict") return v.kv.filter((_, i) => i % 2 === 1);
  return v.t === "tuple" || v.t === "list" ? v.items : undefined;
}

/**
 * What PROJ opens from a definition (a PROJ string, WKT): init files, grids, and WKT's PARAMETERFILE.
 * pyproj's classes pickle as CRS(definition), with EPSG codes, WKT or PROJ strings; a bare file name
 * is looked up in PROJ's data folders, but an absolute or climbing path, or a URL, reaches what the
 * pickle chose (the probe saw CRS("+init=/etc/passwd:1") read that file, and a FIFO hang the load).
 */
const PROJ_FILE_PARAMETERS = /(?:^|[\s+])(?:init|grids|nadgrids|geoidgrids|xy_grids|z_grids|file)\s*=\s*([^\s+]+)|PARAMETERFILE\s*\[\s*"[^"]*"\s*,\s*"([^"]*)"/gi;
/** A PROJ file reference that leaves PROJ's data folders: absolute (POSIX, home, Windows, UNC), climbing, or a URL. */
const OUTSIDE_PROJ_DATA = /^(?:[/~\\]|[a-z]:|.*\.\.|[a-z][a-z0-9+.-]*:\/\/)/i;

/** The first file a PROJ definition among `args` (strings, two levels down, dict values included) names outside PROJ's data folders. */
function projFileIn(args: Value, depth = 2): string | undefined {
  // A definition too long to keep was skipped unread: what it names cannot be checked.
  if (isSym(args) && args.t === "bigstr") return `<a definition of ${args.len} characters skipped unread>`;
  if (typeof args === "string") {
    for (const m of args.matchAll(PROJ_FILE_PARAMETERS)) {
      // A grid list is comma-separated, each optional with "@"; an init file is "file:id".
      for (const item of (m[1] ?? m[2] ?? "").split(",")) {
        const file = item.replace(/^@/, "");
        if (OUTSIDE_PROJ_DATA.test(file)) return file;
      }
    }
    return undefined;
  }
  if (depth === 0) return undefined;
  for (const x of innerValues(args) ?? []) {
    const found = projFileIn(x, depth - 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A NumPy shape (an int or a tuple of ints) whose element count passes the allocation bound. */
function shapeBomb(shape: Value | undefined): string | undefined {
  return sizesBomb(shapeItems(shape));
}

/**
 * An array of an object dtype is filled with None when it is made, every slot written, where other
 * dtypes' memory stays untouched until used: its bytes are bounded, not its elements (red team round 24:
 * a 62-byte pickle of an object-subarray dtype wrote 2 GB).
 */
function objectFill(shape: Value | undefined, dtype: Value | undefined): string | undefined {
  const slots = objectSlots(dtype);
  const elements = slots === 0 ? undefined : shapeElements(shape);
  if (elements === undefined) return undefined;
  const bytes = elements * slots * POINTER_BYTES;
  return bytes > MAX_ALLOCATION ? ` with shape (${shapeDims(shape).join(", ")}) and ${slots} object${slots === 1 ? "" : "s"} per element fills ${bytes} bytes with None at load time` : undefined;
}

/** The sizes of a shape: a tuple's items, or one size alone. */
function shapeItems(shape: Value | undefined): readonly (Value | undefined)[] {
  return isSym(shape) && shape.t === "tuple" ? shape.items : [shape];
}

/** The sizes of a shape as sizeValue reads each. */
function shapeDims(shape: Value | undefined): (number | undefined)[] {
  return shapeItems(shape).map((v) => sizeValue(v));
}

/** The elements of a shape whose sizes are all known, non-negative integers; undefined otherwise. */
function shapeElements(shape: Value | undefined): number | undefined {
  const dims = shapeDims(shape);
  return dims.every((d): d is number => d !== undefined && d >= 0) ? dims.reduce((a, b) => a * b, 1) : undefined;
}

const POINTER_BYTES = 8;

/** Python objects per element of a dtype given as NumPy takes one: "O", numpy.dtype("O"), (base, shape) subarrays, [(name, type), …] fields. */
function objectSlots(dtype: Value | undefined, depth = 4): number {
  if (typeof dtype === "string") return /^[<>|=]?O\d*$|^object$/.test(dtype) ? 1 : 0;
  if (!isSym(dtype) || depth === 0) return 0;
  if (dtype.t === "global") return importedName(dtype) === "builtins.object" ? 1 : 0;
  if (dtype.t === "call" && isSym(dtype.fn) && dtype.fn.t === "global" && importedName(dtype.fn) === "numpy.dtype") return objectSlots(positional(dtype)?.[0], depth - 1);
  // A subarray: (base, shape).
  if (dtype.t === "tuple" && dtype.items.length === 2) return subarraySlots(dtype.items[0], dtype.items[1], depth - 1);
  if (dtype.t === "list") {
    // Fields: (name, type) or (name, type, shape).
    let total = 0;
    for (const field of dtype.items) {
      if (!isSym(field) || field.t !== "tuple" || field.items.length < 2) continue;
      const [, type, shape] = field.items;
      total += shape === undefined ? objectSlots(type, depth - 1) : subarraySlots(type, shape, depth - 1);
    }
    return total;
  }
  return 0;
}

/** Python objects per element of a subarray of `shape` items of `base`. */
function subarraySlots(base: Value | undefined, shape: Value | undefined, depth: number): number {
  const slots = objectSlots(base, depth);
  return slots === 0 ? 0 : slots * (shapeElements(shape) ?? 1);
}

/** Sizes (ints, or int() of a literal) whose product passes the allocation bound, or one made by a call the scanner cannot evaluate. */
function sizesBomb(sizes: readonly (Value | undefined)[]): string | undefined {
  const dims = sizes.map((v) => sizeValue(v));
  const made = sizes.find((_, i) => dims[i] === UNKNOWN_SIZE);
  if (made !== undefined) return ` with a size made at load time (${describe(made)}), which the scanner cannot bound`;
  if (!dims.every((d): d is number => d !== undefined)) return undefined;
  const count = dims.reduce((a, b) => a * b, 1);
  return count > MAX_ALLOCATION ? ` with shape (${dims.join(", ")}) allocates ${count} elements at load time` : undefined;
}

/**
 * A transformers model's method PEFT keeps bound (`base_model.prepare_inputs_for_generation`), so a
 * torch.save'd PEFT model pickles it as getattr(model, name): it arranges generate()'s inputs, with
 * no file, process or import.
 */
const GENERATION_INPUTS = "prepare_inputs_for_generation";

/** Callables that walk their arguments whole, each shared part again: comparisons, str() (a list's repr), hash(). */
const COMPARISONS: readonly string[] = ["eq", "ne", "lt", "le", "gt", "ge"].flatMap((op) => [`operator.${op}`, `_operator.${op}`, `operator.__${op}__`]);
/** Classes that sort what they are given, comparing its items with each other (SortedList(iterable) runs sorted() on it). */
const SORTING: readonly string[] = ["sortedlist.SortedList", "sortedlist.SortedKeyList", "sortedset.SortedSet", "sorteddict.SortedDict"].map((n) => `sortedcontainers.${n}`);
const WALKERS: ReadonlySet<string> = new Set([...COMPARISONS, ...SORTING, "builtins.str", "builtins.hash"]);

/**
 * Of the names bounded by their arguments (ALLOCATING_CALLS, WALKERS), those whose work grows faster
 * than what they are given (a codec that takes the square of the text's length, Fraction's gcd, a
 * comparison of shared structures: 2**40 steps for a 40-deep chain of pairs), reported when stored
 * as an attribute (calleeProblem). Array and tensor types are stored as data everywhere (joblib's
 * array wrapper keeps numpy.ndarray), and calling one allocates lazily or refuses a size too large.
 * Not str or hash either, which configurations keep as a type (argparse's type=str) and a hash
 * function (gensim's hashfxn). A defaultdict's factory, called with no arguments, is not an attribute.
 */
const CHECKED_WHEN_STORED: ReadonlySet<string> = new Set([...FRACTIONS, DECIMAL, "builtins.bytearray", "builtins.bytes", "_codecs.encode", ...COMPARISONS]);

/** The attribute names storedCallees judges as called (see implicitlyCalled). */
const IMPLICITLY_CALLED: ReadonlySet<string> = new Set(["keys", "items"]);

/**
 * What an object of the entry's class calls of its state when it is called: the entry's stateCalls,
 * or for a torch module its `forward`, which an instance attribute shadows (Module.__call__ calls
 * self.forward: a module given a planted forward is a partial of it; red team round 25).
 */
function stateCallsOf(entry: AllowEntry | undefined): readonly (number | string)[] | undefined {
  return entry?.stateCalls ?? (entry?.module ? MODULE_STATE_CALLS : undefined);
}

const MODULE_STATE_CALLS: readonly string[] = ["forward"];

/**
 * What an inline array pickle's reading in the outer memo reports (see inlineReading): imports and
 * calls by name, however reached (a name made at load time too), and resource bombs. Not what a
 * legitimate one's reading there shows on its own: objects of classes it cannot tell, calls of outer
 * objects, breaks, structures out of bounds (all found in scikit-learn and pandas joblib files).
 */
const SECOND_READING_RULES: ReadonlySet<RuleId> = new Set(["MG100", "MG101", "MG102", "MG103", "MG104", "MG105", "MG108", "MG109", "MG125"]);

/** Import opcodes whose names are kept for second readings (CWE-400: a stream of unmemoized imports). */
const MAX_IMPORT_OFFSETS = 1_000_000;

/**
 * The names a legitimate inline array pickle's second reading imports from a module the outer memo
 * swapped in (numpy.dtype read as DataFrame.dtype; numpy.random._pickle's constructors, in gradient
 * boosting's estimators, as subclass.__bit_generator_ctor). Only these are let pass: a module that
 * makes any name a callable (sh runs the program its attribute names: red team round 32) may be
 * installed anywhere, and these are names no program or such module takes.
 */
const SWAPPED_NAMES: ReadonlySet<string> = new Set(["dtype", "__bit_generator_ctor", "__randomstate_ctor", "__generator_ctor"]);

/**
 * Whether a module a second reading imports from is an outer value the memo swapped in whose import
 * fails: one of those legitimate files swap in (isSecondReadingModule, which the repository checks
 * hold a folder's files to), and no module importable where models are made. Any other may be a
 * package or a file shipped beside the model (red team rounds 31 and 34: mako.template, mg_helpers).
 */
function swappedModule(module: string): boolean {
  return isSecondReadingModule(module) && !isAllowlistedPackage(module) && !isInstalledModule(module);
}

/** joblib's wrapper module, the first string every joblib file memoizes: it defines none of WRAPPER_MISSING (joblib 1.2 to 1.6). */
const WRAPPER_MODULE = "joblib.numpy_pickle";
/** Names an inline pickle imports from NumPy that the outer memo may read from WRAPPER_MODULE: numpy's scalar rebuilder too. */
const WRAPPER_MISSING: ReadonlySet<string> = new Set([...SWAPPED_NAMES, "scalar"]);

/**
 * Whether importing `name` from `module`, a module the outer memo swapped in at an opcode where joblib's
 * reading imported the same name, fails in CPython: a module legitimate files swap in (swappedModule),
 * for the names they import so, or joblib's own wrapper module, which lacks them.
 */
function swappedImportFails(module: string, name: string): boolean {
  if (module === WRAPPER_MODULE) return WRAPPER_MISSING.has(name);
  return SWAPPED_NAMES.has(name) && swappedModule(module);
}

/** Entry fields that only describe a name: any other gives its arguments, state or result a role the analyst follows. */
const DESCRIPTIVE_FIELDS: ReadonlySet<string> = new Set(["kind", "lib", "versions", "why"]);
/** describesOnly by entry: asked for each name each file imports, of entries that never change. */
const descriptive = new WeakMap<AllowEntry, boolean>();

/** Whether an entry has descriptive fields only (see silentCallee). */
function describesOnly(entry: AllowEntry): boolean {
  let only = descriptive.get(entry);
  if (only === undefined) descriptive.set(entry, (only = Object.keys(entry).every((field) => DESCRIPTIVE_FIELDS.has(field))));
  return only;
}

/**
 * Callables a rule here judges by name, whatever their entry says: the getattr and dill conventions,
 * copyreg's and torch's instance makers, what sets attributes past __setstate__, the tensor
 * rebuilders and what allocationOf and rangeOf read.
 */
const NAMED_CALLS: ReadonlySet<string> = new Set([
  "builtins.getattr",
  "dill._dill._load_type",
  ...INSTANCE_MAKERS.keys(),
  ...STATE_BYPASS.keys(),
  ...STATE_ON_ARGUMENT.keys(),
  ...TENSOR_REBUILDERS,
  ...ALLOCATING_CALLS,
  "builtins.range",
]);

/**
 * Whether REDUCE calling the allowlisted `name` with constant arguments leaves the analyst nothing
 * to say, whatever their values: a class or function whose entry gives its arguments no role (none
 * called, constructed, iterated or made state; not one only to be stored), judged by no rule by name,
 * and not a torch layer (whose sizes are bounded) or pyproj's (whose definitions are read for files).
 * test/plaindata.test.ts runs every such name in the allowlist through the machine with constants of
 * every kind, big and odd ones among them.
 */
export function silentCallee(name: string, entry: AllowEntry): boolean {
  return (
    (entry.kind === "class" || entry.kind === "function") &&
    describesOnly(entry) &&
    !NAMED_CALLS.has(name) &&
    !checksCall(name) &&
    !name.startsWith("torch.nn.") &&
    !name.startsWith("pyproj.")
  );
}

/** silentCallee for a name as judged (the organisation's own lists included): allowed, with an entry that is silent. */
function silentlyJudged(name: string, j: Judgement): boolean {
  return j.kind === "allow" && j.entry !== undefined && silentCallee(name, j.entry);
}

/**
 * What an allowed name reached through a carrier would allocate or compute past the bounds, given
 * the carrier's arguments: which of them it gets, and where, the carrier decides
 * (`_reconstructor(cls, base, state)` runs `base.__new__(cls, state)`), so every value among them,
 * two levels down, is tried in every position allocationOf reads, and every tuple or list among
 * them as the arguments themselves (dill's `_create_array(f, args, …)` calls `f(*args)`). A name
 * that iterates an argument draws a range or a count it is given.
 */
function carriedAllocation(u: NameUse, carried: Value, depth = 2): string | undefined {
  if (u.judgement.kind !== "allow") return undefined;
  const byName = ALLOCATING_CALLS.has(u.name);
  const iterates = u.judgement.entry?.iterates !== undefined;
  const sized = u.judgement.entry?.sizes === true;
  if (!byName && !iterates && !sized) return undefined;
  const spread = isSym(carried) && (carried.t === "tuple" || carried.t === "list") ? carried.items : undefined;
  const given = spread ?? [carried];
  // A dict among them is keywords to what the carrier calls (cftime's _create_datetime(cls, args, kwargs) runs
  // cls(*args, **kwargs)): its values are sizes with the rest (red team round 33: NeighborsHeap64(n_pts=…, n_nbrs=…)).
  const withKeywords = given.flatMap((x) => (isSym(x) && x.t === "dict" ? dictEntries(x).map(([, v]) => v) : [x]));
  // Pairs past the kept sample may set the sizes again (the last value of a key wins: red team round 34).
  const unkeptKeywords = given.some((x) => isSym(x) && x.t === "dict" && (x.n > x.kv.length / 2 || x.keyPastSample));
  const elements = sized && !unkeptKeywords ? sizedByArguments(withKeywords) : 0;
  const found =
    // What an iterating callee is handed it iterates or keeps: an array or enum there is no integer.
    (iterates ? hugeIn(carried, 0, false) : undefined) ??
    (byName ? (allocationOf(u.name, [carried, carried]) ?? (spread && allocationOf(u.name, spread))) : undefined) ??
    (sized && unkeptKeywords ? " with keywords past the pairs the scanner keeps, which may give it any size" : undefined) ??
    (elements > MAX_SIZED_ELEMENTS ? (elements === Infinity ? " with a size made at load time, which the scanner cannot bound" : ` with sizes of ${elements} elements`) : undefined);
  if (found || depth === 0) return found;
  // A dict's values are keyword arguments to some carriers (pandas' _new_Index runs cls.__new__(cls, **d)),
  // and its keys what others call it on (networkx's FilterAtlas calls NODE_OK on each key).
  for (const x of isSym(carried) && carried.t === "dict" ? carried.kv : (innerValues(carried) ?? [])) {
    const inner = carriedAllocation(u, x, depth - 1);
    if (inner) return inner;
  }
  return undefined;
}

/**
 * The product of the sizes a torch layer (or a class marked `sizes`) is called with, which its
 * `__init__` allocates by (`Linear(100000, 100000)` is 40 GB). Other classes take big integers as
 * values (`pandas.Interval(1, 10**18)`), so only those are held to this.
 */
function sizedByArguments(args: readonly Value[]): number {
  // A size may come alone (LayerNorm(2**33)) or as a shape (LayerNorm((2**16, 2**16))); an index or
  // columns as a range (Series(None, RangeIndex(0, 2**28))) count their length.
  const sizes = args.flatMap((a) => (isSym(a) && (a.t === "tuple" || a.t === "list") ? a.items : [a])).map((a) => rangeOf(a) ?? sizeValue(a));
  // A size made at load time (int("1000000000", 10)) may be anything.
  if (sizes.includes(UNKNOWN_SIZE)) return Infinity;
  return sizes.filter((n): n is number => n !== undefined && n > 0).reduce((a, b) => a * b, 1);
}

/** A huge size or range anywhere in a carrier's arguments (two levels deep), which the callee it hands them to may allocate by. */
function hugeIn(carried: Value, depth = 2, indexables = true): string | undefined {
  const n = sizeValue(carried, indexables);
  if (n === UNKNOWN_SIZE) return ` with a size made at load time (${describe(carried)}), which the scanner cannot bound`;
  if (n !== undefined) return n > MAX_ALLOCATION ? ` with ${n}` : undefined;
  const r = rangeOf(carried);
  if (r !== undefined) return r > LIMITS.pickleMaxConsumedItems ? ` with a range of ${r === Infinity ? "unknown length" : r} items` : undefined;
  if (!isSym(carried) || depth === 0 || (carried.t !== "tuple" && carried.t !== "list")) return undefined;
  for (const x of carried.items) {
    const found = hugeIn(x, depth - 1, indexables);
    if (found) return found;
  }
  return undefined;
}

/** The length of a range past the consumption bound in a state (its tuple and list items, dict values, a few levels down), or undefined. */
function rangeIn(state: Value, depth = 3): number | undefined {
  if (!isSym(state)) return undefined;
  const n = rangeOf(state);
  if (n !== undefined) return n > LIMITS.pickleMaxConsumedItems ? n : undefined;
  if (depth === 0) return undefined;
  // Every BUILD asks, over some 18 values each: the items are walked in place, not copied out (innerValues).
  const items = state.t === "dict" ? state.kv : state.t === "tuple" || state.t === "list" ? state.items : undefined;
  if (items === undefined) return undefined;
  for (let i = state.t === "dict" ? 1 : 0; i < items.length; i += state.t === "dict" ? 2 : 1) {
    const found = rangeIn(items[i]!, depth - 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

function asNumber(v: Value | undefined): number | undefined {
  if (typeof v === "bigint") return Number(v);
  return typeof v === "number" && Number.isInteger(v) ? v : undefined;
}

function argAt(args: Value, index: number): Value | undefined {
  return isSym(args) && args.t === "tuple" ? args.items[index] : undefined;
}

/**
 * Whether the arguments of a call that made a mapping could give it a key that is not plain data:
 * a dict's key, the first item of a pair in a list or tuple (`dict([(k, v)])`), within a few calls
 * (`OrderedDict(dict(…))`); values are not keys and are not looked at.
 */
function mayNameKeys(args: Value, depth = 3): boolean {
  if (!isSym(args) || args.t !== "tuple") return false;
  return args.items.some((arg) => keySource(arg, depth));
}

/** A mapping none of whose keys can be the string "__setstate__": plain data (its name is reported wherever it is) or tuples, all kept. */
function cannotNameSetstate(d: Dict): boolean {
  return !d.keyPastSample && d.kv.every((k, i) => i % 2 === 1 || isPlain(k) || (isSym(k) && k.t === "tuple"));
}

function keySource(v: Value, depth: number): boolean {
  if (!isSym(v)) return false;
  switch (v.t) {
    case "dict":
      return v.keyPastSample || v.kv.some((x, i) => i % 2 === 0 && !isPlain(x));
    case "tuple":
    case "list":
    case "set":
      // Items past the sample are unknown: a container that took anything but plain data may hold such a pair there.
      return v.items.some(pairKeyHidden) || (v.t !== "tuple" && v.n > v.items.length && v.behaviour);
    case "call":
      return depth === 0 || mayNameKeys(v.args, depth - 1);
    default:
      return false;
  }
}

/** A pair (list or tuple) whose first item is not plain data. */
function pairKeyHidden(x: Value): boolean {
  return isSym(x) && (x.t === "tuple" || x.t === "list") && x.items.length > 0 && !isPlain(x.items[0]!);
}

/** A value PYDANTIC_KEYS may hold: None, a set (the fields set), or a dict of attributes none of which can be __setstate__ or __class__. */
function attributeBag(v: Value): boolean {
  if (v === null || (isSym(v) && v.t === "set")) return true;
  // Protocols 0-2 write a set as builtins.set([...]).
  if (isSym(v) && v.t === "call" && isSym(v.fn) && v.fn.t === "global" && importedName(v.fn) === "builtins.set") return isPlain(v.args);
  // Keys past the kept sample were plain data (no dunder) unless keyPastSample says otherwise.
  if (!isSym(v) || v.t !== "dict" || v.keyPastSample) return false;
  for (let i = 0; i < v.kv.length; i += 2) {
    const k = v.kv[i];
    if (typeof k !== "string" || DANGEROUS_STATE_KEY.test(k)) return false;
  }
  return true;
}

/** Dunder keys in a BUILD state: a dict, or the (dict, slotstate) pair. */
function dunderKeys(state: Value | undefined): string[] {
  if (!isSym(state)) return [];
  const keys: string[] = [];
  for (const d of stateParts(state)) {
    if (!isSym(d) || d.t !== "dict") continue;
    // Every BUILD's state is walked (a whole PyTorch model has one per module): no pairs are built.
    for (let i = 0; i + 1 < d.kv.length; i += 2) {
      const k = d.kv[i];
      const v = d.kv[i + 1]!;
      if (typeof k !== "string" || k.charCodeAt(0) !== UNDERSCORE || !DANGEROUS_STATE_KEY.test(k)) continue;
      // An instance's documentation (statsmodels results, SciPy frozen distributions keep __doc__ and __name__) changes no behaviour.
      if (DOC_KEYS.has(k) && (v === null || typeof v === "string" || (isSym(v) && v.t === "bigstr"))) continue;
      if (INERT_KEYS.has(k) || (PYDANTIC_KEYS.has(k) && attributeBag(v))) continue;
      keys.push(k);
    }
  }
  return keys;
}

/** Whether a payload handed to a nested deserializer is scanned as a member: not empty, and within the bound on nested payloads. */
function scannable(payload: BytesConst | BigConstant): boolean {
  return payload.t === "bytes" ? payload.data.length > 0 : payload.len <= LIMITS.pickleMaxNestedPayload;
}
