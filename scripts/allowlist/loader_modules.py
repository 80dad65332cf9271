"""Writes data/loader-modules.json: the top-level modules Python imports while the allowlisted
libraries load a model. A file or package of one of these names at the top of a model folder takes
the library's place for Python started in that folder (sys.path[0]), so the repository checks
report it high (src/repo/checks.ts, MG271/MG272).

Usage, from the repository root, once generate.py has made its venvs:

    python3 scripts/allowlist/loader_modules.py [--venv DIR]... [--budget SECONDS] [--merge]

In each venv's own python, one fresh process per library imports the modules data/allowlist/
lists for it (as unpickling may; errors are ignored: optional dependencies), for up to --budget
seconds, and reports the top-level names that appeared in sys.modules or whose import was tried
(an optional dependency that is missing is taken from the folder all the same). One more process imports
the loaders of the other formats (FORMAT_LOADERS: Keras, TensorFlow, ONNX, GGUF, safetensors…),
which a folder's files can replace as well. --merge keeps the names of the file already written
(to add a venv that has other libraries without the ones the file came from). A library's own imports
(numbers, platform, threadpoolctl…) count as much as the library. Left out: modules built into the
interpreter and those the venv's interpreter has imported before it reads sys.path[0] (os, site,
codecs…), which no folder can replace. The allowlist's own top-level names are always in.

The file also holds "probed": the optional packages the loading libraries probe for by name without
importing them first (transformers' `_is_package_available("hqq")`, `importlib.util.find_spec(...)`),
read from their source in each --probe-venv (default: the --venv ones). When such a package has no
installed metadata, transformers imports the module to read its version, so a `hqq.py` beside the
model runs (red team round 23). --probed-only rewrites that part alone, adding its names to "modules":

    python3 scripts/allowlist/loader_modules.py --probed-only --probe-venv /path/to/venv ...

The file also holds "installed": every top-level module importable in the venvs given with
--installed-venv (pkgutil.iter_modules over sys.path, and the built-in ones), imported by a loader or
not: the modules a pickle's second reading may import by a name joblib's reading gives another module
(src/pickle/analyst.ts; red team round 31 imported mako, which came with optuna's alembic).
--installed-only rewrites that part alone:

    python3 scripts/allowlist/loader_modules.py --installed-only --installed-venv /path/to/venv ...

The file also holds "stdlib": every top-level module name of the standard library of the Pythons
given with --stdlib-python (default: python3.9 … python3.13 on PATH; sys.stdlib_module_names, or for
3.9, which lacks it, the standard library's folders read the way CPython builds that list), with
the same names left out (built in or imported at start-up, in every one of those Pythons), and the
prefix of the modules sysconfig imports by a name built from the platform (_sysconfigdata_*).
Libraries import standard modules lazily (torch and transformers import __future__ when a function
first runs, keras imports sysconfig's _sysconfigdata_*), on paths no tracer of imports walks, so the
repository checks take every one of these names as a loader's. --stdlib-only rewrites that part
alone and keeps the rest of the file (no venvs needed):

    python3 scripts/allowlist/loader_modules.py --stdlib-only --stdlib-python /path/to/python3.9 ...
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
DEFAULT_VENVS = ["/tmp/al-a", "/tmp/al-b", "/tmp/al-debian"]

# Runs in the venv's python: argv = budget seconds, then the modules to import.
CHILD = r"""
import sys
top = lambda: {m.split(".")[0] for m in sys.modules}
before = top()  # before this script's own imports
import builtins, importlib, json, time
budget, modules = float(sys.argv[1]), sys.argv[2:]
# Imports tried and failed count too: an optional dependency that is not installed (httpx's
# zstandard) is found in the folder first, and runs.
attempted = set()
_import, _import_module = builtins.__import__, importlib.import_module
def _recording(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and name:
        attempted.add(name.split(".")[0])
    return _import(name, globals, locals, fromlist, level)
def _recording_module(name, package=None):
    if not name.startswith("."):
        attempted.add(name.split(".")[0])
    return _import_module(name, package)
builtins.__import__, importlib.import_module = _recording, _recording_module
started = time.monotonic()
imported = failed = 0
for name in modules:
    if time.monotonic() - started > budget:
        break
    try:
        __import__(name)
        imported += 1
    except BaseException:
        failed += 1
print(json.dumps({"new": sorted((top() | attempted) - before), "imported": imported, "failed": failed, "listed": len(modules)}))
"""

# The interpreter's state when it starts reading sys.path[0]: built in, or already imported.
STARTUP = r"""
import sys
startup = sorted({m.split(".")[0] for m in sys.modules})  # before this script's own imports
import json
print(json.dumps({"builtin": sorted(sys.builtin_module_names), "startup": startup, "version": sys.version.split()[0]}))
"""


# What loading the formats that are not pickles imports: their libraries' top modules and the
# modules their load functions live in (keras.saving, tf.saved_model, onnx, the tokenizers).
FORMAT_LOADERS = [
    "keras", "keras.src.saving.saving_api", "keras.src.legacy.saving.legacy_h5_format", "h5py",
    "tensorflow", "tensorflow.python.saved_model.load", "onnx", "onnxruntime", "gguf", "safetensors",
    "safetensors.torch", "tokenizers", "sentencepiece", "jinja2", "transformers.models.auto.modeling_auto",
    "transformers.models.auto.tokenization_auto", "huggingface_hub", "llama_cpp", "skops.io",
]


# Libraries whose source is read for the optional packages they probe for (see "probed" above).
PROBING_LIBRARIES = ["transformers", "diffusers", "sentence_transformers", "peft", "accelerate", "timm", "huggingface_hub",
                     "datasets", "trl", "optimum", "lightning", "pytorch_lightning", "keras", "torch"]

# Runs in the venv's python: argv = the libraries to read. Finds their folders without importing them.
PROBES = r"""
import importlib.util, json, os, re, sys
PROBE = re.compile(r"(?:_is_package_available|is_package_available|find_spec)\(\s*[\"']([A-Za-z_][\w.]*)[\"']")
found, read = set(), {}
for lib in sys.argv[1:]:
    spec = importlib.util.find_spec(lib)
    if spec is None or not spec.submodule_search_locations:
        continue
    names = set()
    for root in spec.submodule_search_locations:
        for folder, _, files in os.walk(root):
            for f in files:
                if f.endswith(".py"):
                    with open(os.path.join(folder, f), encoding="utf-8", errors="replace") as text:
                        names.update(m.split(".")[0] for m in PROBE.findall(text.read()))
    read[lib] = len(names)
    found |= names
print(json.dumps({"names": sorted(found), "libraries": read, "version": sys.version.split()[0]}))
"""


# Runs in the venv's python: every top-level module its sys.path offers, imported or not.
INSTALLED = r"""
import json, pkgutil, sys
names = {m.name for m in pkgutil.iter_modules()} | set(sys.builtin_module_names)
print(json.dumps({"names": sorted(names), "version": sys.version.split()[0]}))
"""


def installed_modules(venvs: list[str]) -> tuple[set[str], list[dict]]:
    """Every top-level module importable in each venv, whether a loader imports it or not."""
    names: set[str] = set()
    seen = []
    for venv in venvs:
        result = run(str(Path(venv) / "bin" / "python"), INSTALLED, [], 120)
        found = {n for n in result["names"] if n.isidentifier()}
        names |= found
        seen.append({"venv": venv, "python": result["version"], "modules": len(found)})
        print(f"{venv}: {len(found)} importable top-level modules", file=sys.stderr)
    return names, seen


def probed_modules(venvs: list[str]) -> tuple[set[str], list[dict]]:
    """The optional packages PROBING_LIBRARIES probe for by name, in each venv that has some of them."""
    names: set[str] = set()
    seen = []
    for venv in venvs:
        result = run(str(Path(venv) / "bin" / "python"), PROBES, PROBING_LIBRARIES, 300)
        names.update(n for n in result["names"] if n.isidentifier() and not n.startswith("__"))
        seen.append({"venv": venv, "python": result["version"], "libraries": result["libraries"]})
        print(f"{venv}: {len(result['names'])} probed names from {', '.join(result['libraries'])}", file=sys.stderr)
    return names, seen


# Standard modules of Pythons newer than any on this machine's PATH (What's New): read when a
# --stdlib-python of that version is given, listed here until then.
NEWER_STDLIB = {"3.14": ["annotationlib", "compression", "_zstd", "_remote_debugging", "_hmac"]}

# Runs in each --stdlib-python: its standard library's top-level module names, and what no folder can replace there.
STDLIB = r"""
import sys
fixed = {m.split(".")[0] for m in sys.modules} | set(sys.builtin_module_names)  # before this script's own imports
import json, os, sysconfig
try:
    import _imp
    fixed |= {m.split(".")[0] for m in _imp._frozen_module_names()}  # 3.11+: found before sys.path is searched
except (ImportError, AttributeError):
    pass
names = getattr(sys, "stdlib_module_names", None)
source = "sys.stdlib_module_names"
if names is None:
    # Python 3.9: the folders CPython's Tools/scripts/generate_stdlib_module_names.py reads (Lib/, the
    # built extension modules), less the modules of its test suite it leaves out too.
    source = "standard library folders"
    names = set(sys.builtin_module_names)
    stdlib = sysconfig.get_paths()["stdlib"]
    dynload = os.path.join(stdlib, "lib-dynload")
    for folder in (stdlib, dynload):
        for entry in os.listdir(folder) if os.path.isdir(folder) else ():
            path = os.path.join(folder, entry)
            if entry.endswith(".py"):
                names.add(entry[:-3])
            elif os.path.isfile(os.path.join(path, "__init__.py")):
                names.add(entry)
            elif folder == dynload and entry.endswith((".so", ".pyd")):
                names.add(entry.split(".")[0])
    test = lambda n: n in ("test", "__hello__", "__phello__") or n.startswith(("_test", "xx", "_xx", "_ctypes_test"))
    names = {n for n in names if n.isidentifier() and not test(n) and not n.startswith("_sysconfigdata_")}
sysconfigdata = getattr(sysconfig, "_get_sysconfigdata_name", lambda: None)()
print(json.dumps({"version": sys.version.split()[0], "source": source, "modules": sorted(names), "fixed": sorted(fixed), "sysconfigdata": sysconfigdata}))
"""

# sysconfig imports f"_sysconfigdata_{abiflags}_{platform}_{multiarch}" (or $_PYTHON_SYSCONFIGDATA_NAME):
# a name no list can hold, and not an identifier ("_sysconfigdata__linux_x86_64-linux-gnu").
SYSCONFIGDATA_PREFIX = "_sysconfigdata_"


def stdlib_modules(pythons: list[str]) -> dict:
    """The standard library part of data/loader-modules.json, from each Python in `pythons`."""
    modules: set[str] = set()
    fixed: set[str] | None = None
    seen = []
    for python in pythons:
        result = run(python, STDLIB, [], 60)
        modules.update(result["modules"])
        fixed = set(result["fixed"]) if fixed is None else fixed & set(result["fixed"])
        data_name = result["sysconfigdata"]
        if data_name is not None and not data_name.startswith(SYSCONFIGDATA_PREFIX):
            raise RuntimeError(f"{python}: sysconfig imports {data_name}, not {SYSCONFIGDATA_PREFIX}*")
        seen.append({"python": result["version"], "source": result["source"], "modules": len(result["modules"])})
        print(f"{python} {result['version']}: {len(result['modules'])} standard modules ({result['source']})", file=sys.stderr)
    if not seen:
        raise RuntimeError("no Python to read a standard library from (--stdlib-python)")
    fixed = fixed or set()
    read = {".".join(p["python"].split(".")[:2]) for p in seen}
    for version, names in NEWER_STDLIB.items():
        if version not in read:
            modules.update(names)
            seen.append({"python": version, "source": "NEWER_STDLIB in this script", "modules": len(names)})
    return {
        "pythons": seen,
        # Built in or imported before sys.path[0] is read, in every one of the Pythons: no folder replaces them.
        "left_out": sorted(modules & fixed),
        "modules": sorted(modules - fixed),
        "prefixes": [SYSCONFIGDATA_PREFIX],
    }


def default_stdlib_pythons() -> list[str]:
    """python3.9 … python3.13 that are on PATH and run."""
    found = []
    for minor in range(9, 14):
        python = shutil.which(f"python3.{minor}")
        if python and subprocess.run([python, "-c", "pass"], capture_output=True).returncode == 0:
            found.append(python)
    return found


def run(python: str, code: str, args: list[str], timeout: float) -> dict:
    out = subprocess.run([python, "-c", code, *args], capture_output=True, text=True, timeout=timeout, cwd="/")
    if out.returncode != 0:
        raise RuntimeError(f"{python}: {out.stderr.strip()[-400:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", action="append", help="a venv generate.py made (repeatable; default: its three)")
    parser.add_argument("--budget", type=float, default=90, help="seconds of imports per library and venv (default 90)")
    parser.add_argument("--merge", action="store_true", help="keep the modules and venvs data/loader-modules.json already lists")
    parser.add_argument("--stdlib-python", action="append", help="a Python whose standard library counts (repeatable; default: python3.9 … python3.13 on PATH)")
    parser.add_argument("--stdlib-only", action="store_true", help="rewrite the standard library part only, keeping the rest of data/loader-modules.json")
    parser.add_argument("--probe-venv", action="append", help="a venv whose loading libraries' source is read for the packages they probe for (repeatable; default: the --venv ones)")
    parser.add_argument("--probed-only", action="store_true", help="rewrite the probed part only (adding its names to the modules), keeping the rest")
    parser.add_argument("--installed-venv", action="append", help="a venv whose importable top-level modules count as installed (repeatable)")
    parser.add_argument("--installed-only", action="store_true", help="rewrite the installed part only (from --installed-venv), keeping the rest")
    args = parser.parse_args()
    if args.installed_only:
        if not args.installed_venv:
            parser.error("--installed-only needs at least one --installed-venv")
        written = json.loads((DATA / "loader-modules.json").read_text())
        names, seen = installed_modules(args.installed_venv)
        write({**written, "installed": {"venvs": seen, "modules": sorted(names)}})
        print(f"{len(names)} installed modules written to data/loader-modules.json", file=sys.stderr)
        return
    if args.probed_only:
        written = json.loads((DATA / "loader-modules.json").read_text())
        names, seen = probed_modules(args.probe_venv or args.venv or DEFAULT_VENVS)
        write({**written, "modules": sorted(set(written["modules"]) | names), "probed": {"venvs": seen, "modules": sorted(names)}})
        print(f"{len(names)} probed modules written to data/loader-modules.json", file=sys.stderr)
        return
    stdlib = stdlib_modules(args.stdlib_python or default_stdlib_pythons())
    if args.stdlib_only:
        written = json.loads((DATA / "loader-modules.json").read_text())
        write({**written, "stdlib": stdlib})
        print(f"{len(stdlib['modules'])} standard modules written to data/loader-modules.json", file=sys.stderr)
        return
    index = json.loads((DATA / "allowlist.json").read_text())
    shards = {top: list(json.loads((DATA / "allowlist" / f"{top}.json").read_text())["modules"]) for top in index["shards"]}

    names: set[str] = set(shards)
    never: set[str] | None = None
    venvs = []
    for venv in args.venv or DEFAULT_VENVS:
        python = str(Path(venv) / "bin" / "python")
        state = run(python, STARTUP, [], 60)
        # A name some interpreter still has to find on sys.path can be replaced there.
        fixed = set(state["builtin"]) | set(state["startup"])
        never = fixed if never is None else never & fixed
        libraries = {}
        for top, modules in [*shards.items(), ("format loaders", FORMAT_LOADERS)]:
            result = run(python, CHILD, [str(args.budget), *modules], args.budget * 3 + 120)
            if result["imported"] == 0:
                continue  # not installed in this venv
            names.update(result["new"])
            libraries[top] = {k: result[k] for k in ("imported", "failed", "listed")}
            print(f"{venv} {top}: {result['imported']} of {result['listed']} modules imported, {len(result['new'])} top-level names", file=sys.stderr)
        venvs.append({"venv": venv, "python": state["version"], "libraries": libraries})

    # Only identifiers: a name import cannot spell (a compiler's hashed module) is no file's to take.
    modules = {n for n in names if n not in (never or set()) and not n.startswith("__") and n.isidentifier()}
    if args.merge:
        written = json.loads((DATA / "loader-modules.json").read_text())
        modules |= set(written["modules"])
        venvs = written["venvs"] + venvs
    modules = sorted(modules)
    probed, probe_venvs = probed_modules(args.probe_venv or args.venv or DEFAULT_VENVS)
    out = {
        "schema": "modelgate.loader-modules/v1",
        "generator": "python3 scripts/allowlist/loader_modules.py",
        "venvs": venvs,
        "modules": sorted(set(modules) | probed),
        "probed": {"venvs": probe_venvs, "modules": sorted(probed)},
        "stdlib": stdlib,
    }
    if args.merge and "installed" in written:
        out["installed"] = written["installed"]
    write(out)
    print(f"{len(modules)} modules and {len(stdlib['modules'])} standard modules written to data/loader-modules.json", file=sys.stderr)


def write(out: dict) -> None:
    (DATA / "loader-modules.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
