/**
 * The top-level modules Python imports while the allowlisted libraries load a model: the
 * libraries themselves and what they import in turn (numbers, platform, threadpoolctl…), found by
 * scripts/allowlist/loader_modules.py in the venvs the allowlist comes from, and the optional
 * packages they probe for by name (transformers imports hqq.py to read its version). Python started in a
 * folder finds that folder's modules first (sys.path[0]), so a file or package of one of these names
 * at the top of a model folder runs in the library's place.
 *
 * The same file lists the standard library's top-level modules (Python 3.9 to 3.14), less those no
 * folder can replace (built in, or imported before sys.path[0] is read), and the prefix of sysconfig's
 * `_sysconfigdata_<abiflags>_<platform>_<multiarch>`. All of them count, not only those the tracer saw
 * imported: libraries import standard modules lazily, when a function first runs (torch and
 * transformers import __future__, keras imports sysconfig's _sysconfigdata_*), on paths that depend on
 * the platform, the arguments, an error, or the REPL (readline, rlcompleter); and the standard library
 * itself imports most of itself lazily (pdb, inspect, pydoc, doctest and unittest reach nearly every
 * module), so the set a loader can import cannot be bounded below the whole library. What that costs is
 * small: the names a model repository gives its code (modeling_x, configuration_x, utils, config,
 * train, handler, setup, main, test — CPython leaves its test suite out of the list) are not standard
 * modules, and a standard module's name at the top of a folder replaces that module for whatever
 * Python runs there.
 */
import { readFileSync } from "node:fs";
import { packageFile } from "../packageFiles.js";
import { isAllowlistedPackage } from "./allowlist.js";

interface LoaderModulesData {
  schema: "modelgate.loader-modules/v1";
  modules: string[];
  stdlib?: { modules: string[]; left_out: string[]; prefixes: string[] };
  installed?: { modules: string[] };
}

/** Which modules a folder's code can take the place of, and why each counts. */
interface Shadowable {
  loaders: ReadonlySet<string>;
  stdlib: ReadonlySet<string>;
  stdlibPrefixes: readonly string[];
  /** Standard modules no folder replaces (built in, or imported at start-up): importable all the same. */
  fixed: ReadonlySet<string>;
  /** Every top-level module importable in the venvs the data came from, whether a loader imports it or not. */
  installed: ReadonlySet<string>;
}

let data: Shadowable | undefined;

/** data/loader-modules.json, read on first use. */
function read(): Shadowable {
  if (data) return data;
  const json = JSON.parse(readFileSync(packageFile("data/loader-modules.json"), "utf8")) as LoaderModulesData;
  if (json.schema !== "modelgate.loader-modules/v1") throw new Error(`data/loader-modules.json: unknown schema ${String(json.schema)}`);
  if (!json.stdlib) throw new Error("data/loader-modules.json: no stdlib part (run scripts/allowlist/loader_modules.py --stdlib-only)");
  if (!json.installed) throw new Error("data/loader-modules.json: no installed part (run scripts/allowlist/loader_modules.py --installed-only)");
  return (data = {
    loaders: new Set(json.modules),
    stdlib: new Set(json.stdlib.modules),
    stdlibPrefixes: json.stdlib.prefixes,
    fixed: new Set(json.stdlib.left_out),
    installed: new Set(json.installed.modules),
  });
}

/**
 * Why a top-level module named `name` in the folder Python starts in runs in place of one that
 * loading a model imports, or undefined: a module loaders were seen to import, a package the allowlist
 * covers, one pickle.load may import from a joblib file (isSecondReadingModule), a standard module,
 * sysconfig's `_sysconfigdata_*`, or any module installed in the environments models are made in.
 */
export function shadowedModule(name: string): string | undefined {
  const { loaders, stdlib, stdlibPrefixes, fixed, installed } = read();
  if (loaders.has(name)) return `the ${name} module that loading a model imports`;
  // Every package the allowlist lets a pickle import by name, whether or not a tracer saw a loader import it (red team round 37: sortedcontainers/__init__.py).
  if (isAllowlistedPackage(name) && !fixed.has(name)) return `the ${name} package, whose names the allowlist lets a pickle import`;
  if (isSecondReadingModule(name)) return `a ${name} module that pickle.load, torch.load and numpy.load may import from a joblib file (where joblib's own reading takes a name from NumPy)`;
  if (stdlib.has(name)) return `the standard library's ${name} module, which libraries import when they need it`;
  const prefix = stdlibPrefixes.find((p) => name.startsWith(p));
  if (prefix) return `sysconfig's ${name} module (${prefix}*: its name comes from the platform), which libraries import through sysconfig`;
  // Any module installed where models are made: an allowlisted library may import it as a dependency the tracer
  // did not follow (red team round 38: gymnasium's farama_notifications, spaCy's srsly).
  if (installed.has(name) && !fixed.has(name) && !REPOSITORY_NAMES.has(name)) return `the ${name} module, installed where models are loaded, which a library loading the model may import`;
  return undefined;
}

/** Names a repository gives its own files that some environment also installs a module under (CPython's test suite, a stray setup). */
const REPOSITORY_NAMES: ReadonlySet<string> = new Set(["test", "tests", "setup", "docs", "examples", "scripts"]);

/** The keys of joblib's array wrapper state, which every joblib file memoizes. */
const WRAPPER_KEYS: ReadonlySet<string> = new Set(["subclass", "shape", "order", "dtype", "allow_mmap", "numpy_array_alignment_bytes"]);
/** A class's name: what the outer stream of a joblib file memoizes for each class it imports (DataFrame, LabelEncoder, NumpyArrayWrapper). */
const CLASS_NAME = /^[A-Z][A-Za-z0-9_]*$/;

/**
 * Whether `name` may be a module a legitimate joblib file's inline array pickle imports when
 * pickle.load, torch.load or numpy.load read it in the outer stream's memo, where a GET fetches an
 * outer string for the module of a NumPy name: a key of joblib's wrapper state (subclass, for
 * numpy.random's constructors in gradient boosting's estimators) or a class name the outer stream
 * imported (DataFrame, LabelEncoder, NumpyArrayWrapper, for numpy.dtype). Such an import fails, unless
 * a file of that name sits where Python starts: so one is a shadowed module (red team round 34
 * shipped mg_helpers.py beside a model whose second reading imported mg_helpers.dtype).
 */
export function isSecondReadingModule(name: string): boolean {
  return WRAPPER_KEYS.has(name) || CLASS_NAME.test(name);
}

/**
 * Whether `top` names a module Python can import where models are loaded: the standard library's
 * (those loaded at start-up too), or one the loading libraries import or probe for.
 */
function isKnownModule(top: string): boolean {
  const { loaders, stdlib, stdlibPrefixes, fixed } = read();
  return loaders.has(top) || stdlib.has(top) || fixed.has(top) || stdlibPrefixes.some((p) => top.startsWith(p));
}

/**
 * Whether `top` names a module importable in any of the environments the data came from (the
 * allowlist's venvs and others with the libraries models are made with), loaded by a loader or not:
 * mako comes with optuna's alembic, multiprocess with datasets.
 */
export function isInstalledModule(top: string): boolean {
  return isKnownModule(top) || read().installed.has(top);
}
