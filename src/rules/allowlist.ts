/**
 * The generated allowlist (data/allowlist.json and data/allowlist/<package>.json, written by
 * scripts/allowlist/generate.py): exact qualified names a pickle may reach while a model loads,
 * each with how it treats its arguments when invoked. Only exact names: no prefix or family ever
 * matches, and every name is an object *defined* in the module it is named by (re-exports are left
 * out by the generator). The modules are kept one file per top-level package, read when a pickle
 * first names that package.
 */
import { readFileSync } from "node:fs";
import type { StateGuard } from "../pickle/stateGuards.js";
import { packageFile } from "../packageFiles.js";
import { errorText } from "../errors.js";

/**
 * What an allowlisted name is, which decides what a load may do with it:
 * - `class`: a class whose `__new__`, state restore (`__setstate__` / `__dict__` update) and
 *   `__init__` with data arguments reach nothing dangerous; it may be constructed and called.
 * - `enum`: an `enum.Enum` subclass: called with a member's value, or named by `getattr(E, "NAME")`.
 * - `function`: builds data from its arguments (tensor, array and object rebuilders).
 * - `cython`: a Cython `__pyx_unpickle_<Class>` helper; it may only rebuild `<Class>` of its own
 *   module, given as its first argument.
 */
export type AllowKind = "class" | "enum" | "function" | "cython";

/** Argument positions: indices into the positional arguments, or "*" for all of them. */
export type ArgPositions = readonly number[] | "*";

export interface AllowEntry {
  kind: AllowKind;
  /** The library the name came from (a key of AllowlistData.libraries, or "python" for the standard library). */
  lib: string;
  /** Arguments the callable calls when it runs (now or once the model is used): each is judged as called. */
  calls?: ArgPositions;
  /**
   * Arguments it calls only when they are classes (instantiates them): a class there is judged as
   * called; an object there is used, not called (NumPy's random-state constructors take either).
   */
  instantiates?: ArgPositions;
  /** Arguments whose `__new__` it runs (a class it constructs without calling `__init__`). */
  constructs?: ArgPositions;
  /** Arguments it iterates (consumes) when it runs: an iterator there runs whatever it wraps. */
  iterates?: ArgPositions;
  /** The argument whose mapping becomes attributes of the result (its keys are checked like BUILD state). */
  state?: number;
  /**
   * The argument handed to the result's `__setstate__`, as BUILD's state would be, whatever class the
   * result is (dill's `_create_array`; torch's `_rebuild_from_type` when the type has its own): held
   * to the state guards as BUILD state given to an object of unknown class.
   */
  setstate?: number;
  /**
   * What of its BUILD state the object calls when it is called: items of a tuple state
   * (`functools.partial`'s function) or keys of a dict state (a wrapped hook's "hook").
   */
  stateCalls?: readonly (number | string)[];
  /**
   * Safe to import, store or construct (`__new__`, then state), never to call at load: a class whose
   * `__init__` reaches what loading must not (TrainingArguments reads the fsdp_config file it is
   * given), or a function pickles only store (a NumPy ufunc, which broadcasting lets allocate N²).
   */
  notCalled?: true;
  /**
   * torch.nn.Module or a subclass: pickles construct modules (copyreg.__newobj__, then BUILD) and never
   * call them, while a call at load allocates the parameters by its arguments or its defaults (timm's
   * ConVit() took 23 GB): a call is reported as for notCalled, but a model may hold the class (ResNet's
   * norm layer, ViT's partial(LayerNorm)), which notCalled would report.
   */
  module?: true;
  /**
   * Allocates by the integers it is given (sizes, counts, degrees: igraph's Graph(n), astropy's
   * Polynomial1D(degree), preshed's PreshMap(initial_size), sklearn's UnionFind(n)): their product is
   * bounded at load as a torch layer's sizes are. Set from a probe that called every callable entry
   * with big integers and saw memory or time run out.
   */
  sizes?: true;
  /**
   * The argument it opens as a file when it is anything but None: dateutil's tzfile(fileobj, filename)
   * reads the zone file fileobj names, and pickles as tzfile(None, filename), which opens nothing. A
   * call that passes something there is reported as a call of a construct-only class is.
   */
  opens?: number;
  /** Its `__setstate__` executes part of the state: BUILD must give it a state this guard accepts (src/pickle/stateGuards.ts). */
  stateGuard?: StateGuard;
  /**
   * A class whose instances answer an attribute lookup with their own code: it has no `__setstate__`
   * in its MRO, and a `__getattr__`/`__getattribute__` there (or a C type's own `tp_getattro`) answers
   * BUILD's lookup of `__setstate__`. Pickle calls whatever that returns, and a class that hands lookups
   * on to what it holds (`numpy.lib.user_array.container` → its array, accelerate's
   * `DataLoaderAdapter` → its loader, SciPy's `_RichResult` → its items) gives BUILD's state to that
   * object's `__setstate__`: a BUILD on one that holds anything is not a plain `__dict__` update.
   */
  forwards?: true;
  /** Allowed only in this layout (TorchScript rebuilders inside TorchScript archives). */
  context?: "torchscript";
  /** Library versions the name was seen in, when not all of the library's generated versions. */
  versions?: string;
  /** Why the name is safe, when the kind's own reason does not say it. */
  why?: string;
}

/** A module's names: the kind alone, or a full entry for names with argument behaviour or a reason. */
export interface AllowModule {
  lib: string;
  names: Record<string, AllowKind | Omit<AllowEntry, "lib">>;
}

/** data/allowlist.json: the table without its modules, and the top-level packages that have a shard. */
export interface AllowlistIndex {
  schema: "modelgate.allowlist/v2";
  /** The command that regenerates the file. */
  generator: string;
  /** Library name → the versions the generator introspected. */
  libraries: Record<string, string[]>;
  /** Why each kind is safe (shown by `--explain`-style output and the README). */
  kinds: Record<AllowKind, string>;
  /** Top-level packages with a data/allowlist/<package>.json of their modules. */
  shards: string[];
  /** Names the screen left out on purpose, with the reason (reviewed; reported as such when reached). */
  excluded: Record<string, string>;
  /** CPython's Lib/_compat_pickle.py: Python 2 modules and names as Python 3 loads them. */
  compat: {
    modules: Record<string, string>;
    /** "module name" (space-separated) → [module, name]. */
    names: Record<string, [string, string]>;
  };
}

/** The whole table: the index and every shard's modules (tests, README counts, public-path lookups). */
export interface AllowlistData extends Omit<AllowlistIndex, "shards"> {
  modules: Record<string, AllowModule>;
}

const SHARD_SCHEMA = "modelgate.allowlist-shard/v2";

/**
 * One shard's text, each module parsed when it is first looked up. generate.py's dumps_compact
 * writes a module per line (`"module":{…},`), so a module's entry is its line: the transformers
 * shard alone is 0.8 MB of JSON, some 3 MB once parsed, of which a scan needs a few modules, and
 * every scanning thread holds its own copy of what it reads.
 */
export class Shard {
  /** Module → the text of its entry, a slice of the file's text (not a copy). */
  private readonly texts = new Map<string, string>();
  private readonly parsed = new Map<string, AllowModule>();

  constructor(
    text: string,
    private readonly file: string,
  ) {
    // Line ends as a checkout may leave them (CRLF under Git's autocrlf), a BOM, no last newline.
    const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
    if (lines.at(-1) === "") lines.pop();
    // "{", the schema, "modules":{, a line per module, then the "}" closing the modules and the file's "}".
    const end = lines.length - 2;
    const framed = lines[0] === "{" && lines[1] === `"schema":"${SHARD_SCHEMA}",` && lines[2] === `"modules":{` && lines[end] === "}" && lines[end + 1] === "}";
    if (!framed) throw new Error(`${file}: not a ${SHARD_SCHEMA} shard written a module per line (scripts/allowlist/generate.py)`);
    for (let i = 3; i < end; i++) {
      const line = lines[i]!;
      const keyEnd = line.indexOf('":{');
      const key = line.slice(1, keyEnd);
      const lastLine = i === end - 1;
      // A module name is an identifier path: a quote or backslash would mean a key this reader does not decode.
      if (line[0] !== '"' || keyEnd < 0 || /["\\]/.test(key) || line.endsWith(",") === lastLine) throw new Error(`${file}: line ${i + 1} is not one module's entry`);
      this.texts.set(key, line.slice(keyEnd + 2, lastLine ? line.length : -1));
    }
  }

  get(module: string): AllowModule | undefined {
    const done = this.parsed.get(module);
    if (done) return done;
    const text = this.texts.get(module);
    if (text === undefined) return undefined;
    let entry: AllowModule;
    try {
      entry = JSON.parse(text) as AllowModule;
    } catch (err) {
      // Two entries run together on one line: looking up the first fails (the scan errs and blocks),
      // and the second is not listed (its names are unknown, so they are reported).
      throw new Error(`${this.file}: the entry of ${module} is not JSON (${errorText(err)})`);
    }
    this.parsed.set(module, entry);
    return entry;
  }

  /** Every module, parsed. */
  all(): Record<string, AllowModule> {
    const modules: Record<string, AllowModule> = {};
    for (const module of this.texts.keys()) modules[module] = this.get(module)!;
    return modules;
  }
}

let index: AllowlistIndex | undefined;
let shardNames: ReadonlySet<string> | undefined;
const shards = new Map<string, Shard>();
let whole: AllowlistData | undefined;

/** The index, read on first use: a run that never judges a pickle (`--version`, a safetensors scan) never pays for it. */
export function allowlistIndex(): Readonly<AllowlistIndex> {
  if (index) return index;
  const read = JSON.parse(readFileSync(packageFile("data/allowlist.json"), "utf8")) as AllowlistIndex;
  if (read.schema !== "modelgate.allowlist/v2") throw new Error(`data/allowlist.json: unknown schema ${String(read.schema)}`);
  shardNames = new Set(read.shards);
  return (index = read);
}

/**
 * The shard of a top-level package, read on first use; undefined when the index names no such
 * shard. Only packages the index names are read: a module name from a pickle never becomes a
 * path of its own.
 */
function shardOf(top: string): Shard | undefined {
  const cached = shards.get(top);
  if (cached) return cached;
  allowlistIndex();
  if (!shardNames!.has(top)) return undefined;
  const file = `data/allowlist/${top}.json`;
  const shard = new Shard(readFileSync(packageFile(file), "utf8"), file);
  shards.set(top, shard);
  return shard;
}

/** Whether the allowlist has names from this top-level package (one a model's loaders import). */
export function isAllowlistedPackage(top: string): boolean {
  allowlistIndex();
  return shardNames!.has(top);
}

/** A module's allowlist entry, when its package's shard lists it. */
function moduleEntry(module: string): AllowModule | undefined {
  const dot = module.indexOf(".");
  return shardOf(dot < 0 ? module : module.slice(0, dot))?.get(module);
}

/** The whole table, every shard read. */
export function allowlist(): Readonly<AllowlistData> {
  if (whole) return whole;
  const { shards: tops, ...rest } = allowlistIndex();
  const modules: Record<string, AllowModule> = {};
  for (const top of tops) Object.assign(modules, shardOf(top)!.all());
  return (whole = { ...rest, modules });
}

/** Entries already looked up (undefined for names that are not listed), so a name is resolved once per process. */
const looked = new Map<string, AllowEntry | undefined>();

/**
 * The allowlist entry of an exact qualified name (module and name already mapped from Python 2).
 * Names may be dotted (`ZoneInfo._unpickle`), so each split of the qualified name into module and
 * name is tried, longest module first; the data is read as it is, with no index built in advance.
 */
export function allowEntry(qualified: string): AllowEntry | undefined {
  if (looked.has(qualified)) return looked.get(qualified);
  let found: AllowEntry | undefined;
  for (let dot = qualified.lastIndexOf("."); dot > 0 && !found; dot = qualified.lastIndexOf(".", dot - 1)) {
    const module = qualified.slice(0, dot);
    const m = moduleEntry(module);
    const name = qualified.slice(dot + 1);
    if (!m || !Object.hasOwn(m.names, name)) continue;
    const v = m.names[name];
    found = typeof v === "string" ? { kind: v, lib: m.lib } : { ...v, lib: m.lib };
  }
  looked.set(qualified, found);
  return found;
}

let classHomes: Map<string, string[]> | undefined;

/** Class and enum name → the modules that define an allowlisted class of that name (built on first use). */
function homesOf(name: string): string[] | undefined {
  if (!classHomes) {
    classHomes = new Map();
    for (const [module, m] of Object.entries(allowlist().modules)) {
      for (const [n, v] of Object.entries(m.names)) {
        const kind = typeof v === "string" ? v : v.kind;
        if (kind !== "class" && kind !== "enum") continue;
        const homes = classHomes.get(n);
        if (homes) homes.push(module);
        else classHomes.set(n, [module]);
      }
    }
  }
  return classHomes.get(name);
}

/**
 * Whether `module`.`name` is a public path to an allowlisted class: a class of that name defined in
 * `module` or a submodule of it (`torch.nn.Linear` for `torch.nn.modules.linear.Linear`). Config
 * loaders (Hydra) resolve names by attribute lookup, so they reach re-exports too; a stdlib class
 * re-exported by a library module is never defined under it, so it never passes.
 */
export function definedUnder(module: string, name: string): boolean {
  const homes = homesOf(name);
  return homes !== undefined && homes.some((home) => home === module || home.startsWith(`${module}.`));
}

/** Why the generator left a name out, when it did. */
export function exclusionOf(qualified: string): string | undefined {
  const { excluded } = allowlistIndex();
  return Object.hasOwn(excluded, qualified) ? excluded[qualified] : undefined;
}

/** Every allowlisted name (tests and the README's counts). */
export function* allowedNames(): IterableIterator<string> {
  for (const [module, m] of Object.entries(allowlist().modules)) for (const name of Object.keys(m.names)) yield `${module}.${name}`;
}

/** Whether `pos` covers argument `i`. */
export function covers(pos: ArgPositions | undefined, i: number): boolean {
  return pos === "*" || (pos !== undefined && pos.includes(i));
}
