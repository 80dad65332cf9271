/**
 * Runs the symbolic machine over a checkpoint pickle for conversion, with a stricter allowlist
 * than a scan: only tensor rebuilders, storages, dtypes and plain containers may be imported.
 * Anything else stops the conversion at the first opcode that names it, before any byte of tensor
 * data is copied. Nothing is imported or called: the machine only records what a loader would do.
 */
import { own } from "../own.js";
import { storageOf, type StorageRef } from "../formats/torchStorage.js";
import { judge, normalName, qualified } from "../pickle/judge.js";
import { Machine, type BuildDirective, type IssueKind, type MachineObserver } from "../pickle/machine.js";
import { StreamReader } from "../pickle/reader.js";
import { describe, dictEntries, isSym, qualifiedName, type CallResult, type DynamicGlobal, type GlobalRef, type PersistentRef, type Sym, type Value } from "../pickle/values.js";
import { SliceSource, type ByteSource } from "../sources/byteSource.js";
import { STORAGE_DTYPE, TORCH_DTYPE, UNTYPED_STORAGE } from "./dtypes.js";
import { CONVERT_LIMITS, ConvertInputError, ConvertRefused } from "./tensors.js";

/** Tensor and parameter rebuilders whose arguments extract.ts knows how to read. */
export const REBUILDERS = new Set([
  "torch._utils._rebuild_tensor",
  "torch._utils._rebuild_tensor_v2",
  "torch._utils._rebuild_tensor_v3",
  "torch._utils._rebuild_parameter",
  "torch._utils._rebuild_parameter_with_state",
]);

/** Containers a state dict is built from besides the opcode-built dict, list and tuple. */
export const ORDERED_DICT = "collections.OrderedDict";
const CONTAINERS = new Set([ORDERED_DICT, "builtins.set", "builtins.frozenset"]);
const STORAGE_MODULES = new Set(["torch", "torch.cuda", "torch.storage"]);
const DUNDER = /^__\w+__$/;

/** What one pickle rebuilds: its value tree and the storages its persistent ids name. */
export interface Rebuilt {
  result: Value;
  /** Offset just past STOP. */
  end: number;
  storageOf(ref: PersistentRef): StorageRef | undefined;
  /** The storage a persistent id named by `key` (the legacy layout lists its storages by key). */
  storageByKey(key: string): StorageRef | undefined;
  /** Items set on an OrderedDict() result by SETITEM(S), as alternating keys and values. */
  itemsOf(call: CallResult): readonly Value[];
}

class RebuildObserver implements MachineObserver {
  readonly storages = new WeakMap<PersistentRef, StorageRef>();
  readonly items = new WeakMap<CallResult, Value[]>();
  readonly byKey = new Map<string, StorageRef>();

  constructor(private readonly where: string) {}

  onImport(g: GlobalRef): void {
    const { module, name: attr } = normalName(g.module, g.name);
    const name = `${module}.${attr}`;
    if (REBUILDERS.has(name) || CONTAINERS.has(name)) return;
    if (STORAGE_MODULES.has(module) && (own(STORAGE_DTYPE, attr) || attr === UNTYPED_STORAGE)) return;
    if (module === "torch" && own(TORCH_DTYPE, attr)) return;
    this.refuse(g, `imports ${name}`, g.at);
  }

  onDynamicImport(d: DynamicGlobal): void {
    throw new ConvertRefused(describe(d), `the pickle imports a name computed at load time (${describe(d)}) at ${this.at(d.at)}; conversion refused`);
  }

  onCall(c: CallResult): void {
    const fn = c.fn;
    if (!isSym(fn) || fn.t !== "global") {
      throw new ConvertRefused(describe(fn), `the pickle calls ${describe(fn)}, a value produced at load time, at ${this.at(c.at)}; conversion refused`);
    }
    const name = qualified(fn.module, fn.name);
    if (!REBUILDERS.has(name) && !CONTAINERS.has(name)) this.refuse(fn, `calls ${name}`, c.at);
  }

  onBuild(target: Value, state: Value, at: number): BuildDirective {
    // nn.Module.state_dict() sets `_metadata` (module versions) on its OrderedDict: harmless, and not part of the tensors.
    const ordered = isSym(target) && target.t === "call" && isSym(target.fn) && target.fn.t === "global" && qualifiedName(target.fn) === ORDERED_DICT;
    const keys = isSym(state) && state.t === "dict" ? dictEntries(state).map(([k]) => k) : undefined;
    if (!ordered || !keys || keys.some((k) => typeof k !== "string" || DUNDER.test(k))) {
      throw new ConvertInputError(`BUILD at ${this.at(at)} sets state ${describe(state)} on ${describe(target)}, which a conversion does not accept`);
    }
    return undefined;
  }

  onExt(code: number, at: number): void {
    throw new ConvertRefused(`extension ${code}`, `the pickle imports through the copyreg extension registry (code ${code}) at ${this.at(at)}; conversion refused`);
  }

  /** Storages only: the converter rebuilds tensors, never a module class (undefined: the reference stays). */
  onPersistentId(ref: PersistentRef): undefined {
    const s = storageOf(ref.pid);
    if (typeof s === "string") throw new ConvertInputError(`persistent id at ${this.at(ref.at)} is not a storage reference: ${s}`);
    const known = this.byKey.get(s.key);
    if (known && (known.numel !== s.numel || known.type !== s.type)) {
      throw new ConvertInputError(`storage ${s.key} is declared twice with different types or sizes (${this.at(ref.at)})`);
    }
    if (!known) this.byKey.set(s.key, s);
    this.storages.set(ref, known ?? s);
    return undefined;
  }

  onIssue(kind: IssueKind, message: string, at: number): void {
    throw new ConvertInputError(`the pickle is ${kind === "limit" ? "beyond a limit" : kind === "allocation" ? "an allocation bomb" : kind}: ${message} (${this.at(at)})`);
  }

  onSetItems(target: Sym, kv: readonly Value[], from: number, to: number): void {
    if (target.t !== "call") return; // judged when the object was made; extract.ts refuses anything but OrderedDicts
    let items = this.items.get(target);
    if (!items) this.items.set(target, (items = []));
    for (let i = from; i < to; i++) items.push(kv[i]!);
  }

  /** Known-safe names that cannot become a tensor are bad input; everything else is refused with the judge's reason. */
  private refuse(g: GlobalRef, what: string, at: number): never {
    const j = judge(g.module, g.name, { torchscript: false });
    const name = qualified(g.module, g.name);
    if (j.kind === "allow") throw new ConvertInputError(`the pickle ${what} at ${this.at(at)}: safe to load, but not a tensor, storage or plain container, so it cannot be converted`);
    const why = j.kind === "deny" ? `, which ${j.entry.reason}` : j.kind === "walk" ? ", which walks attributes to reach another object" : ", which is not on the allowlist";
    throw new ConvertRefused(name, `the pickle ${what}${why}, at ${this.at(at)}; conversion refused, nothing was written`);
  }

  private at(offset: number): string {
    return `offset ${offset} of ${this.where}`;
  }
}

/**
 * Rebuilds the value tree of the one pickle at `offset` of `source` (named `where` in messages),
 * which must end within CONVERT_LIMITS.maxPickleBytes. Throws ConvertRefused or ConvertInputError.
 */
export async function rebuildPickle(source: ByteSource, where: string, offset = 0): Promise<Rebuilt> {
  // A legacy checkpoint's pickles are followed by gigabytes of storages: the window bounds what the machine may read.
  const window = Math.min(source.size, offset + CONVERT_LIMITS.maxPickleBytes);
  const observer = new RebuildObserver(where);
  const reader = new StreamReader(new SliceSource(source.name, source, 0, window), offset);
  // A stream that breaks before STOP reaches onIssue, which throws: past this line the pickle is complete.
  const outcome = await new Machine(reader, observer, 0, { keepAll: true }).run();
  return {
    result: outcome.result,
    end: outcome.end,
    storageOf: (ref) => observer.storages.get(ref),
    storageByKey: (key) => observer.byKey.get(key),
    itemsOf: (call) => observer.items.get(call) ?? [],
  };
}
