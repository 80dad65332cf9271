"""Run by each venv's own python (generate.py does it): what that venv's libraries pickle and define.

    <venv>/bin/python scripts/allowlist/introspect.py OUT.json

Writes {python, libraries: {lib: version}, names: {"module name": {kind, why?, seen, bases?}},
excluded: {"module.name": reason}, forwards: {"module.name": via}, failures: [...]}; a class's bases
are the names of its MRO (mro_names), from which merge.py carries construct-only flags down to
subclasses; forwards are the classes (recorded or curated) whose instances answer BUILD's lookup of
__setstate__ with their own attribute code (forwarding), which merge.py marks "forwards".

    <venv>/bin/python scripts/allowlist/introspect.py --bases OUT.json

records the MRO of every class the committed data/allowlist/ lists instead, as far as this venv
imports them: {python, libraries, bases: {"module.name": [allowlisted classes in its MRO]},
resolved: [module.name], unresolved: {"module.name": reason}}; merge.py --propagate applies the
union of such runs to the committed shards (the audit of the data, without a full generate.py run).

    <venv>/bin/python scripts/allowlist/introspect.py --forwards OUT.json

does the same for forwarding: {python, libraries, forwards: {"module.name": via}, resolved, unresolved}
over every class the committed shards list; merge.py --forwards marks them.
"""

from __future__ import annotations

import enum
import importlib
import importlib.metadata
import io
import json
import os
import pickle
import pkgutil
import re
import signal
import sys
import time
import types
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# Samples are pickled in forked children: thread pools in the parent would deadlock them.
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[var] = "1"
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
warnings.filterwarnings("ignore")

from pickled_names import names_in  # noqa: E402
import screen  # noqa: E402

# Distribution → top-level packages walked for definitions.
LIBRARIES = {
    "torch": ["torch"], "torchvision": ["torchvision"], "numpy": ["numpy"], "scipy": ["scipy"],
    "scikit-learn": ["sklearn"], "pandas": ["pandas"], "pyarrow": ["pyarrow"], "transformers": ["transformers"],
    "tokenizers": ["tokenizers"], "accelerate": ["accelerate"], "peft": ["peft"], "lightning": ["lightning"],
    "pytorch-lightning": ["pytorch_lightning"], "lightning-fabric": ["lightning_fabric"], "omegaconf": ["omegaconf"],
    "timm": ["timm"], "sentence-transformers": ["sentence_transformers"], "statsmodels": ["statsmodels"],
    "nltk": ["nltk"], "gensim": ["gensim"], "xgboost": ["xgboost"], "lightgbm": ["lightgbm"], "catboost": ["catboost"],
    "imbalanced-learn": ["imblearn"], "keras": ["keras"], "ml-dtypes": ["ml_dtypes"], "einops": ["einops"],
    "joblib": ["joblib"], "pytz": ["pytz"], "python-dateutil": ["dateutil"],
    "optuna": ["optuna"], "torchmetrics": ["torchmetrics"], "shap": ["shap"], "slicer": ["slicer"],
    "pytorch-metric-learning": ["pytorch_metric_learning"], "open-clip-torch": ["open_clip"],
    "datasets": ["datasets"], "torch-geometric": ["torch_geometric"], "networkx": ["networkx"], "xarray": ["xarray"],
    "polars": ["polars"], "sentencepiece": ["sentencepiece"], "pywavelets": ["pywt"],
    "torchaudio": ["torchaudio"], "spacy": ["spacy"], "thinc": ["thinc"], "srsly": ["srsly"], "cymem": ["cymem"],
    "preshed": ["preshed"], "blis": ["blis"], "arch": ["arch"], "astropy": ["astropy"], "sympy": ["sympy"],
    "geopandas": ["geopandas"], "shapely": ["shapely"], "pyproj": ["pyproj"], "igraph": ["igraph"],
    "rustworkx": ["rustworkx"], "gymnasium": ["gymnasium"], "ml-collections": ["ml_collections"],
    "rank-bm25": ["rank_bm25"], "bm25s": ["bm25s"], "tiktoken": ["tiktoken"], "jax": ["jax"], "flax": ["flax"],
    "optax": ["optax"], "scikit-rf": ["skrf"], "nibabel": ["nibabel"], "control": ["control"], "arrow": ["arrow"],
    "emcee": ["emcee"],
}
REBUILDER = re.compile(r"^(_rebuild|_reconstruct|_unpickle|__pyx_unpickle_|_new_|_restore)")
# Budgets in CPU seconds of this process, so that a busy machine slows the walk without cutting it
# short (wall time is only a watchdog, WATCHDOG times the budget, for what hangs without computing).
IMPORT_SECONDS = 30  # one module's import
# A library's whole walk (others: DEFAULT_WALK_SECONDS): a guard, several times what a walk takes.
WALK_SECONDS = {"transformers": 3600, "torch": 900, "astropy": 900}
DEFAULT_WALK_SECONDS = 300
WATCHDOG = 10
# Leaf modules a library's own import structure leaves out: transformers' modular_<model>.py are the
# sources its converter generates modeling_<model>.py from (models are built from, and pickled under,
# the generated modules' classes) and convert_* are checkpoint conversion scripts.
UNIMPORTED_LEAVES = {"transformers": ("modular_", "convert_")}
SAMPLE_SECONDS = 600  # one builder of samples.py
CHILD_SECONDS = 120  # pickling one sample object


class Timeout(Exception):
    pass


def _alarm(_sig, _frame):
    raise Timeout()


signal.signal(signal.SIGALRM, _alarm)
signal.signal(signal.SIGPROF, _alarm)


def timed(seconds, fn, *args):
    """fn(*args) within `seconds` of CPU time (and WATCHDOG times that of wall time)."""
    signal.setitimer(signal.ITIMER_PROF, seconds)
    signal.alarm(seconds * WATCHDOG)
    try:
        return fn(*args)
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.alarm(0)


def stub_torchvision_ops():
    """torchvision's compiled ops need CUDA torch; its Python classes do not. Declaring the two
    ops its fake registrations name lets it import on CPU torch. Where its ops do load (Debian's
    torchvision, built with its torch), they are loaded instead: declaring them twice aborts."""
    try:
        import torch
        from importlib.util import find_spec

        spec = find_spec("torchvision")  # not torchvision._C: finding it imports torchvision
        if spec is None:
            return
        for ops in Path(spec.origin).parent.glob("_C.*so"):
            try:
                torch.ops.load_library(str(ops))
                return
            except (OSError, RuntimeError):  # built for another torch
                pass
        lib = torch.library.Library("torchvision", "DEF")
        lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        stub_torchvision_ops.keep = lib
    except Exception as e:  # noqa: BLE001
        print(f"torchvision stub: {e}", file=sys.stderr)


# ------------------------------------------------------------------ pickling the samples


def pickles_of(obj) -> list[bytes]:
    """obj pickled with every protocol and through joblib (storages as persistent ids, like torch.save)."""
    out = []
    torch = sys.modules.get("torch")
    for proto in range(6):
        buf = io.BytesIO()
        p = pickle.Pickler(buf, protocol=proto)
        if torch is not None:
            def pid(o, proto=proto):
                if isinstance(o, torch.storage.TypedStorage):
                    cls = getattr(torch, o._pickle_storage_type())
                elif isinstance(o, torch.UntypedStorage):
                    cls = torch.UntypedStorage
                else:
                    return None
                return str(id(o)) if proto == 0 else ("storage", cls, str(id(o)), "cpu", 1)
            p.persistent_id = pid
        try:
            p.dump(obj)
            out.append(buf.getvalue())
        except Exception as e:  # noqa: BLE001 - an object this protocol cannot write
            pickles_of.errors.append(f"protocol {proto}: {type(e).__name__}: {str(e)[:100]}")
    try:
        import joblib.numpy_pickle as jnp

        # joblib writes array bytes inside its pickle stream; leave them out so genops can read it.
        jnp.NumpyArrayWrapper.write_array = lambda self, array, pickler: None
        buf = io.BytesIO()
        jnp.dump(obj, buf)
        out.append(buf.getvalue())
    except Exception as e:  # noqa: BLE001
        pickles_of.errors.append(f"joblib: {type(e).__name__}: {str(e)[:100]}")
    return out


pickles_of.errors = []


def isolated_names(label: str, obj) -> tuple[list[tuple[str, str]], str | None]:
    """Pickle in a forked child: some native objects abort the interpreter when pickled."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:  # the child never returns into the caller's loop, whatever happens
            # A lock held by another thread at fork time can hang the child: SIGALRM's default kills it.
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            signal.alarm(CHILD_SECONDS)
            os.close(r)
            pickles_of.errors = []
            blobs = [obj] if isinstance(obj, bytes) and label.startswith(("torch.save", "dcp", "pickled ")) else pickles_of(obj)
            found = sorted({key for blob in blobs for key in names_in(blob)})
            error = None if blobs else f"not picklable: {pickles_of.errors[:2]}"
            with os.fdopen(w, "w") as f:
                json.dump([found, error], f)
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGALRM:
        # Hung on a lock an OpenMP pool held at fork time (LightGBM): no crash risk, pickle here.
        pickles_of.errors = []
        blobs = pickles_of(obj)
        return sorted({key for blob in blobs for key in names_in(blob)}), None if blobs else "not picklable"
    if status != 0 or not data:
        return [], f"pickling crashed the interpreter (status {status})"
    found, error = json.loads(data)
    return [tuple(k) for k in found], error


def python3_name(module: str, name: str) -> tuple[str, str]:
    """Protocols 0-2 write Python 2 names (__builtin__, copy_reg); loaders map them back."""
    import _compat_pickle as c

    if (module, name) in c.NAME_MAPPING:
        return c.NAME_MAPPING[(module, name)]
    return c.IMPORT_MAPPING.get(module, module), name


def sample_names(failures: list[str]) -> dict[tuple[str, str], str]:
    import samples

    seen: dict[tuple[str, str], str] = {}
    chosen = os.environ.get("ALLOWLIST_SAMPLE", "").split()  # a venv added for a few libraries samples only theirs
    for build in [b for b in samples.BUILDERS if not chosen or b.__name__ in chosen]:
        start = time.time()
        try:
            signal.alarm(SAMPLE_SECONDS)
            for label, obj in build():
                for item in obj if isinstance(obj, list) else [obj]:  # one unpicklable item spoils no others
                    found, error = isolated_names(label, item)
                    if error:
                        failures.append(f"sample {label} ({type(item).__name__}): {error}")
                    for module, name in found:
                        if module.split(".")[0] not in ("samples", "__main__"):  # the samples' own helpers
                            seen.setdefault(python3_name(module, name), label)
        except ModuleNotFoundError as e:
            failures.append(f"builder {build.__name__}: {e}")
        except Exception as e:  # noqa: BLE001 - the rest of the builders still run
            failures.append(f"builder {build.__name__}: {type(e).__name__}: {str(e)[:200]}")
        finally:
            signal.alarm(0)
        print(f"samples {build.__name__}: {time.time() - start:.0f}s, {len(seen)} names so far", file=sys.stderr)
    return seen


# ------------------------------------------------------------------ kinds and the screen


def resolve(module: str, name: str):
    mod = timed(IMPORT_SECONDS, importlib.import_module, module)
    obj = mod
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def kind_of(obj, name: str) -> tuple[str, str | None]:
    """(kind, why) of an object a pickle names."""
    if isinstance(obj, type):
        return ("enum" if issubclass(obj, enum.Enum) else "class"), None
    if name.startswith("__pyx_unpickle_"):
        return "cython", None
    if type(obj).__name__ == "ufunc":
        return "function", "NumPy ufunc: pickles only store it; a call broadcasts, which can allocate N²"
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)) or type(obj).__name__ in (
            "cython_function_or_method", "fused_cython_function", "method_descriptor", "builtin_function_or_method"):
        return "function", None
    if callable(obj):
        return "function", f"callable {type(obj).__module__}.{type(obj).__qualname__} instance pickled by name"
    return "class", f"{type(obj).__module__}.{type(obj).__qualname__} constant pickled by name; not callable"


def screen_object(module: str, name: str, obj) -> str | None:
    r = screen.area_reason(module) or screen.name_reason(module, name)
    if r:
        return r
    if isinstance(obj, type):
        return screen.class_reason(obj) or screen.compiled_reason(obj)
    if isinstance(obj, types.FunctionType):
        return screen.function_reason(obj)
    return None


def library_of(module: str, libraries: dict[str, str]) -> str:
    """The distribution that installs a module ("python" for the standard library); its version
    is added to libraries."""
    top = module.split(".")[0]
    if top in sys.stdlib_module_names or top == "builtins":
        return "python"
    where = getattr(sys.modules.get(module), "__file__", None) or ""
    installed = re.search(r"/(?:site|dist)-packages/([^/]+)", where)  # dist-packages: Debian's interpreter
    if top not in importlib.metadata.packages_distributions() and installed:
        top = installed.group(1)  # a Cython module named apart from its package (_loss)
    dists = importlib.metadata.packages_distributions().get(top) or [top]
    dist = dists[0].lower().replace("_", "-")
    if dist not in libraries:
        try:
            libraries[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            libraries[dist] = "unknown"
    return dist


def home_of(obj, mod, modname: str, name: str) -> str | None:
    """The module name pickle writes for obj, found as `name` in module `mod` (named `modname`),
    when obj is defined there: its __module__ is modname, or another name the interpreter has for
    that very module. A Cython extension built apart from its package registers under its bare
    name (scikit-learn 1.6's sklearn._loss._loss is sys.modules["_loss"]), so its classes pickle as
    _loss.X and load from the same module object: the name is as safe as the class. None for
    re-exports."""
    try:  # some module attributes raise on any attribute access (torch.backends.cuda's lazy objects)
        home = getattr(obj, "__module__", None)
        if not isinstance(home, str) or getattr(obj, "__qualname__", None) != name:
            return None
        return home if home == modname or sys.modules.get(home) is mod else None
    except BaseException:  # noqa: BLE001
        return None


# ------------------------------------------------------------------ base classes


def mro_names(classes: dict[str, type]) -> dict[str, list[str]]:
    """Qualified name → the names of the classes in its MRO, nearest first, but for its own name and
    object: each class's own module.qualname, and every name `classes` has for the very same object
    (a class pickled from another module than its __module__: the bare _loss of scikit-learn's
    sklearn._loss._loss, numpy.core's aliases of numpy._core). The class itself is read too, for its
    other names. merge.py makes a class construct-only when any of these is (a subclass inherits the
    __init__ or __call__ that made its base construct-only), whatever flagged the base: the screen,
    CURATED or NOT_CALLED_LIBRARIES."""
    names_of: dict[int, list[str]] = {}
    for q, cls in classes.items():
        names_of.setdefault(id(cls), []).append(q)
    out: dict[str, list[str]] = {}
    for q, cls in classes.items():
        try:
            mro = type.__dict__["__mro__"].__get__(cls)  # not a metaclass's own __mro__ attribute
        except Exception:  # noqa: BLE001
            continue
        names: list[str] = []
        for c in mro:
            if c is object:
                continue
            try:
                own = [f"{c.__module__}.{c.__qualname__}"]
            except Exception:  # noqa: BLE001 - a class without a string __module__ / __qualname__
                own = []
            for n in own + names_of.get(id(c), []):
                if isinstance(n, str) and n != q and n not in names:
                    names.append(n)
        out[q] = names
    return out


# tp_getattro sits after 18 pointer-sized fields of PyTypeObject (ob_refcnt … tp_str) on CPython 3.8-3.13.
_GETATTRO_OFFSET = 18 * 8


def _getattro(cls: type) -> int:
    import ctypes

    return ctypes.c_void_p.from_address(id(cls) + _GETATTRO_OFFSET).value or 0


def _generic_getattro() -> int:
    """The address of PyObject_GenericGetAttr, checked against object and a class with __getattr__
    (a layout this reading does not know raises rather than answers)."""
    import ctypes

    generic = ctypes.cast(ctypes.pythonapi.PyObject_GenericGetAttr, ctypes.c_void_p).value
    probe = type("Probe", (), {"__getattr__": lambda self, name: None})
    if ctypes.sizeof(ctypes.c_void_p) != 8 or _getattro(object) != generic or _getattro(probe) == generic:
        raise RuntimeError("PyTypeObject layout not known: tp_getattro not found")
    return generic


def forwarding(cls: type) -> str | None:
    """What answers BUILD's lookup of "__setstate__" on an instance of cls, when that is the class's
    own attribute code rather than a __setstate__ (pickle calls whatever the lookup returns): with no
    __setstate__ in the MRO (Python 3.11's object has none), a __getattr__ or __getattribute__ of a
    class in it, or a C/Cython type's tp_getattro that is not the generic one, runs, and one that
    hands the name on to an object the instance holds (numpy's user_array.container, accelerate's
    DataLoaderAdapter, SciPy's _RichResult) gives BUILD's state to that object's __setstate__.
    Read from the type's tp_getattro, not from cls.__getattribute__: a C type that sets the generic
    slot itself (dict, int) has a __getattribute__ slot wrapper of its own that changes nothing, and
    a Python class's __getattr__ is in the slot too. A metaclass's __getattr__ (an enum's) answers
    lookups on the class, not on its instances, and a metaclass itself (torch's _TensorMeta, an
    EnumMeta subclass) is not a forwarder: its instances are classes, which answer by type's own
    protocol, their MRO and the metaclass's (a pickle that makes one calls the metaclass with the
    class body). None when the lookup is the generic one or finds a __setstate__, and for
    metaclasses; else the class whose code answers it ("module.Class.__getattr__")."""
    if not hasattr(forwarding, "generic"):
        forwarding.generic = _generic_getattro()
    mro = type.__dict__["__mro__"].__get__(cls)
    if type in mro:
        return None
    if any("__setstate__" in type.__dict__["__dict__"].__get__(c) for c in mro):
        return None
    if _getattro(cls) == forwarding.generic:
        return None
    for c in mro:
        own = type.__dict__["__dict__"].__get__(c)
        for attr in ("__getattribute__", "__getattr__"):
            if attr in own and c is not object and _getattro(c) != forwarding.generic:
                return f"{c.__module__}.{c.__qualname__}.{attr}"
    return f"{cls.__module__}.{cls.__qualname__} (its type's tp_getattro)"


def forwarders(classes: dict[str, type]) -> dict[str, str]:
    """module.name → forwarding(cls), for the classes that forward."""
    out: dict[str, str] = {}
    forwarding.generic = _generic_getattro()  # an unknown layout stops the run here, not class by class
    for q, cls in sorted(classes.items()):
        try:
            via = forwarding(cls)
        except Exception as e:  # noqa: BLE001 - a class whose MRO or names cannot be read
            print(f"forwarding of {q} not read: {type(e).__name__}: {e}", file=sys.stderr)
            continue
        if via:
            out[q] = via
    return out


def resolve_classes(qualified: list[tuple[str, str]], failures: dict[str, str]) -> dict[str, type]:
    """module.name → the class, for each (module, name) that imports and is a class; why not in failures.
    A module that failed to import is not tried again, unless another import registered it since (a
    Cython extension registered under its bare name, _loss, exists once sklearn._loss._loss is imported)."""
    broken: dict[str, str] = {}
    out: dict[str, type] = {}
    for module, name in qualified:
        _resolve_class(module, name, broken, out, failures)
    for module, name in qualified:
        if module in broken and module in sys.modules:
            failures.pop(f"{module}.{name}", None)
            _resolve_class(module, name, {}, out, failures)
    return out


def _resolve_class(module: str, name: str, broken: dict[str, str], out: dict[str, type], failures: dict[str, str]) -> None:
    """One name of resolve_classes."""
    q = f"{module}.{name}"
    if module in broken:
        failures[q] = broken[module]
        return
    try:
        obj = resolve(module, name)
    except BaseException as e:  # noqa: BLE001 - optional dependencies, other versions, timeouts
        reason = f"{type(e).__name__}: {str(e)[:150]}"
        if module not in sys.modules:
            broken[module] = reason
        failures[q] = reason
        return
    if isinstance(obj, type):
        out[q] = obj
    else:
        failures[q] = f"not a class ({type(obj).__name__})"


def record_bases(names: dict[str, dict]) -> dict[str, str]:
    """Gives each class entry of introspect's output its MRO names (bases), the curated classes
    resolved too for the names they give their objects; returns the forwarders among the class
    entries and the curated classes (module.name → forwarding)."""
    import generate

    keys = [tuple(k.split(" ", 1)) for k, e in names.items() if e["kind"] in ("class", "enum")]
    keys += [(m, n) for m, n, kind, _, _ in generate.CURATED if kind in ("class", "enum") and f"{m} {n}" not in names]
    classes = resolve_classes(keys, {})
    mro = mro_names(classes)
    for k, e in names.items():
        bases = mro.get(k.replace(" ", ".", 1))
        if e["kind"] == "class" and bases:
            e["bases"] = bases
    curated = {f"{m}.{n}" for m, n, kind, _, _ in generate.CURATED if kind == "class"}
    recorded = {k.replace(" ", ".", 1) for k, e in names.items() if e["kind"] == "class"}
    return forwarders({q: c for q, c in classes.items() if q in recorded or q in curated})


def committed_classes() -> list[tuple[str, str]]:
    """(module, name) of every class entry of the committed shards."""
    import generate

    classes: list[tuple[str, str]] = []
    for shard in sorted(generate.SHARDS.glob("*.json")):
        for module, m in json.loads(shard.read_text())["modules"].items():
            for name, v in m["names"].items():
                if (v if isinstance(v, str) else v["kind"]) == "class":
                    classes.append((module, name))
    return classes


def committed_forwards(out: str) -> None:
    """--forwards: the forwarders among the class entries of the committed shards, as far as this venv imports them."""
    import platform

    stub_torchvision_ops()
    unresolved: dict[str, str] = {}
    classes = resolve_classes(committed_classes(), unresolved)
    found = forwarders(classes)
    Path(out).write_text(json.dumps({
        "python": platform.python_version(), "libraries": installed_versions(), "forwards": found,
        "resolved": sorted(classes), "unresolved": dict(sorted(unresolved.items())),
    }, indent=0, sort_keys=True))
    print(f"{len(classes)} classes resolved, {len(unresolved)} not; {len(found)} forward", file=sys.stderr)


def committed_bases(out: str) -> None:
    """--bases: the MRO of every class entry of the committed shards, filtered to allowlisted classes."""
    classes = committed_classes()
    listed = {f"{m}.{n}" for m, n in classes}
    stub_torchvision_ops()
    unresolved: dict[str, str] = {}
    mro = mro_names(resolve_classes(classes, unresolved))
    libraries = installed_versions()
    import platform

    bases = {q: [b for b in names if b in listed] for q, names in sorted(mro.items())}
    Path(out).write_text(json.dumps({
        "python": platform.python_version(), "libraries": libraries,
        "bases": {q: b for q, b in bases.items() if b}, "resolved": sorted(mro),
        "unresolved": dict(sorted(unresolved.items())),
    }, indent=0, sort_keys=True))
    print(f"{len(mro)} classes resolved, {len(unresolved)} not; {sum(1 for b in bases.values() if b)} with allowlisted "
          f"classes in their MRO", file=sys.stderr)


# ------------------------------------------------------------------ walking definitions


def walk_order(name: str) -> tuple:
    """transformers' thousands of model modules last, configurations before modeling code."""
    parts = name.split(".")
    in_models = "models" in parts[:2]
    leaf = parts[-1]
    return (in_models, not leaf.startswith("configuration_"), not leaf.startswith("modeling_"), name)


def modules_of(top: str, failures: list[str], deadline: float):
    """Import every module of a package (areas skipped before import), yield (name, module)."""
    try:
        pkg = timed(IMPORT_SECONDS, importlib.import_module, top)
    except BaseException as e:  # noqa: BLE001
        failures.append(f"import {top}: {type(e).__name__}: {str(e)[:200]}")
        return
    yield top, pkg
    pending = [(top, pkg)]
    names: list[str] = []
    while pending:
        pname, p = pending.pop()
        for info in pkgutil.iter_modules(getattr(p, "__path__", []) or [], pname + "."):
            if screen.area_reason(info.name) and info.name not in screen.DCP_MODULES \
                    and not any(d.startswith(info.name + ".") for d in screen.DCP_MODULES):
                continue
            if info.name.rsplit(".", 1)[-1].startswith(UNIMPORTED_LEAVES.get(top, ())):
                continue
            if info.ispkg:
                try:
                    sub = timed(IMPORT_SECONDS, importlib.import_module, info.name)
                except BaseException as e:  # noqa: BLE001
                    failures.append(f"import {info.name}: {type(e).__name__}: {str(e)[:150]}")
                    continue
                yield info.name, sub
                pending.append((info.name, sub))
            else:
                names.append(info.name)
    for name in sorted(names, key=walk_order):
        if time.process_time() > deadline:
            failures.append(f"walk {top}: CPU time budget spent before {name} ({len(names)} modules)")
            return
        try:
            yield name, timed(IMPORT_SECONDS, importlib.import_module, name)
        except BaseException as e:  # noqa: BLE001 - optional dependencies, platform modules
            failures.append(f"import {name}: {type(e).__name__}: {str(e)[:150]}")


def definitions(top: str, failures: list[str]):
    """(module, name, obj) for every class and rebuilder defined in the package's modules."""
    budget = WALK_SECONDS.get(top, DEFAULT_WALK_SECONDS)
    for modname, mod in modules_of(top, failures, time.process_time() + budget):
        if screen.area_reason(modname) and modname not in screen.DCP_MODULES:
            continue
        if modname == "torch.distributed.checkpoint.filesystem":
            continue  # its pickled data classes come from the DCP sample; its readers open files
        for name, obj in list(vars(mod).items()):
            home = home_of(obj, mod, modname, name)
            if home is None:
                continue
            if isinstance(obj, type) or (callable(obj) and REBUILDER.match(name)):
                yield home, name, obj


def without_walk(previous: dict, dist: str) -> dict:
    """A previous output less what dist's walk found (its definitions, the exclusions and failures
    under its packages), so that walking dist again gives what a whole run would. Its sampled names
    stay; the walk screens every class of its modules again, sampled ones included. Exclusions in
    the areas the walk skips before import stay too: only the samples can have made those."""
    tops = LIBRARIES[dist]
    under = tuple(f"{t}." for t in tops)
    mine = tuple(f"{w} {t}{sep}" for w in ("walk", "import") for t in tops for sep in (":", "."))

    def walked(key: str) -> bool:
        return key.startswith(under) and not screen.area_reason(key.rsplit(".", 1)[0])

    return {
        "names": {k: e for k, e in previous["names"].items() if not (e["lib"] == dist and e["seen"] == "defined")},
        "excluded": {k: r for k, r in previous["excluded"].items() if not walked(k)},
        "failures": [f for f in previous["failures"] if not f.startswith(mine)],
    }


# ------------------------------------------------------------------ main


def installed_versions() -> dict[str, str]:
    """The versions of LIBRARIES installed in this venv."""
    versions = {}
    for dist in LIBRARIES:
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            pass
    return versions


def main(out: str) -> None:
    import platform

    stub_torchvision_ops()
    failures: list[str] = []
    libraries = installed_versions()
    names: dict[str, dict] = {}
    excluded: dict[str, str] = {}
    only = os.environ.get("ALLOWLIST_ONLY")  # debugging: one builder / library
    rewalk = os.environ.get("ALLOWLIST_REWALK")  # generate.py --rewalk: one library's walk again, the rest kept
    if rewalk:
        only = rewalk
        previous = json.loads(Path(out).read_text())
        kept = without_walk(previous, rewalk)
        # the versions the samples recorded of libraries outside LIBRARIES (spaCy's confection) stay too
        libraries.update({lib: v for lib, v in previous["libraries"].items() if lib not in libraries})
        names.update(kept["names"])
        excluded.update(kept["excluded"])
        failures.extend(kept["failures"])

    def admit(module, name, obj, seen):
        try:
            reason = screen_object(module, name, obj)
        except Exception as e:  # noqa: BLE001 - what cannot be screened is not allowed
            reason = f"could not be screened ({type(e).__name__})"
        if reason:
            excluded[f"{module}.{name}"] = reason
            return
        kind, why = kind_of(obj, name)
        entry = {"kind": kind, "seen": seen, "lib": library_of(module, libraries)}
        if kind == "class" and isinstance(obj, type):
            try:
                call = screen.call_reason(obj)
                if call:  # constructing and restoring state is fine; calling the class is not
                    entry["notCalled"] = True
                    why = f"not callable: {call}"
            except Exception as e:  # noqa: BLE001
                excluded[f"{module}.{name}"] = f"could not be screened ({type(e).__name__})"
                return
        if type(obj).__name__ == "ufunc":
            entry["notCalled"] = True
        if why:
            entry["why"] = why
        names[f"{module} {name}"] = entry

    if not only or only == "samples":
        cache = Path(out + ".samples")  # the samples take minutes: ALLOWLIST_REUSE_SAMPLES=1 reads them back
        if os.environ.get("ALLOWLIST_REUSE_SAMPLES") and cache.exists():
            sampled = {tuple(k.split(" ", 1)): v for k, v in json.loads(cache.read_text()).items()}
        else:
            sampled = sample_names(failures)
            cache.write_text(json.dumps({f"{m} {n}": v for (m, n), v in sampled.items()}))
        for (module, name), label in sorted(sampled.items()):
            try:
                obj = resolve(module, name)
            except BaseException as e:  # noqa: BLE001
                failures.append(f"resolve {module}.{name} (from {label}): {type(e).__name__}: {e}")
                continue
            admit(module, name, obj, "pickled")
    walk = os.environ.get("ALLOWLIST_WALK", "").split()  # a venv that repeats another's versions walks less
    for dist, tops in LIBRARIES.items():
        if dist not in libraries or (only and only not in (dist, "walk")) or (walk and dist not in walk):
            continue
        for top in tops:
            start, cpu = time.time(), time.process_time()
            cython: list[tuple[str, str, object]] = []
            for module, name, obj in definitions(top, failures):
                if f"{module} {name}" in names:
                    continue
                if name.startswith("__pyx_unpickle_"):
                    cython.append((module, name, obj))
                    continue
                admit(module, name, obj, "defined")
            for module, name, obj in cython:
                cls = name[len("__pyx_unpickle_"):]
                if names.get(f"{module} {cls}", {}).get("kind") in ("class", "enum"):
                    names[f"{module} {name}"] = {"kind": "cython", "seen": "defined", "lib": names[f"{module} {cls}"]["lib"]}
                else:
                    excluded[f"{module}.{name}"] = f"its class {module}.{cls} is not allowlisted"
            print(f"walk {top}: {time.time() - start:.0f}s ({time.process_time() - cpu:.0f}s CPU), {len(names)} names",
                  file=sys.stderr)
    forwards = record_bases(names)
    Path(out).write_text(json.dumps({
        "python": platform.python_version(), "libraries": libraries, "names": names,
        "excluded": excluded, "forwards": forwards, "failures": failures,
    }, indent=0, sort_keys=True))


if __name__ == "__main__":
    if sys.argv[1] == "--bases":
        committed_bases(sys.argv[2])
    elif sys.argv[1] == "--forwards":
        committed_forwards(sys.argv[2])
    else:
        main(sys.argv[1])
