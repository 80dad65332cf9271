"""The screen every introspected name passes before it is allowlisted.

Three checks, each returning the reason a name is left out (or None):
  * area: the module lies in a part of a library that loads code, starts workers, downloads or
    is a test helper, or under modelgate's own deny lists (read from src/rules/callables.ts);
  * source: the source text of what runs when the class is constructed, given state or collected
    (__new__, __setstate__, __setattr__, __del__, __array_finalize__, through the MRO, plus the
    methods they call on self), or of the function itself, calls something that reaches files,
    processes, threads, the network, importers, exec/eval/compile, nested deserialization,
    downloads, ctypes, a native library's functions or signal handlers; when only what a call runs (__init__, __post_init__)
    does, the class is kept as construct-only;
  * compiled: a class without Python source whose name says it wraps a file, stream, process,
    connection or similar (its behaviour cannot be read, so the name has to do).
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

CALLABLES_TS = Path(__file__).resolve().parent.parent.parent / "src" / "rules" / "callables.ts"


def _ts_keys(const: str) -> set[str]:
    text = CALLABLES_TS.read_text()
    block = text[text.index(f"export const {const}"):]
    block = block[: block.index("\n};")]
    return set(re.findall(r'^\s*"?([\w.]+)"?\s*:', block, re.M)) - {"export"}


DENY_MODULES = _ts_keys("DENY_MODULES")
DENY_NAMES = _ts_keys("DENY_NAMES")

# Areas left out whole (module prefixes), beyond the deny lists.
AREAS: dict[str, str] = {
    "torch.utils.data": "data loading: DataLoader starts worker processes, datasets read files",
    "torch.multiprocessing": "starts processes and shares memory between them",
    "torch.distributed": "process groups, RPC and stores open network connections",
    "torch.hub": "downloads and runs code from repositories",
    "torch.package": "imports code packaged in the archive",
    "torch._dynamo": "compiles and runs bytecode",
    "torch._inductor": "generates and compiles code in subprocesses",
    "torch.fx": "generates and executes Python code",
    "torch.jit": "compiles TorchScript (its value rebuilders are curated)",
    "torch.export": "traces and serializes programs (fx graphs)",
    "torch._export": "traces and serializes programs (fx graphs)",
    "torch.onnx": "exports models, runs external tools",
    "torch.compiler": "compiles code",
    "torch._functorch": "compiles graphs (AOT autograd)",
    "torch._higher_order_ops": "wraps and compiles graphs",
    "torch._library": "registers custom operators",
    "torch.library": "registers custom operators",
    "torch._logging": "configures logging handlers",
    "torch.utils.cpp_extension": "compiles and loads native extensions",
    "torch.utils.tensorboard": "writes event files",
    "torch.utils.benchmark": "compiles and times code",
    "torch.utils.bottleneck": "profiles scripts",
    "torch.profiler": "writes traces, starts profiler threads",
    "torch.autograd.profiler": "writes traces",
    "torch.cuda": "initializes devices and streams (its legacy storage types are curated)",
    "torch.classes": "imports native classes",
    "torch._ops": "imports native operators",
    "torch._classes": "imports native classes",
    "torch.testing": "test helpers",
    "torch.utils.model_zoo": "downloads weights",
    "torch.utils._sympy": "sympy expressions: constructing one sympifies strings, which evaluates them",
    "torch.utils.hipify": "source translation tool (files)",
    "sympy": "constructing an expression sympifies strings, which evaluates them",
    "torch._C._distributed": "process groups and stores",
    "transformers.dynamic_module_utils": "imports code from model repositories",
    "transformers.commands": "command-line tools",
    "transformers.pipelines": "builds models with downloads",
    "transformers.models.auto": "imports model classes by name and downloads",
    "transformers.hub": "downloads",
    "transformers.utils.hub": "downloads",
    "transformers.integrations.integration_utils": "third-party trackers (network, processes)",
    "transformers.trainer": "training loop: starts processes, writes checkpoints",
    "transformers.kernels": "downloads and loads kernels",
    "transformers.data": "datasets that read files",
    "accelerate.commands": "command-line tools",
    "accelerate.launchers": "starts processes",
    "accelerate.tracking": "third-party trackers (network, files)",
    "lightning.app": "starts servers and processes",
    "lightning.pytorch.loggers": "loggers write files and talk to services",
    "pytorch_lightning.loggers": "loggers write files and talk to services",
    "lightning.fabric.loggers": "loggers write files",
    "lightning_fabric.loggers": "loggers write files",
    "lightning.pytorch.cli": "instantiates classes named in configuration",
    "pytorch_lightning.cli": "instantiates classes named in configuration",
    "lightning.pytorch.callbacks": "callbacks write checkpoints and logs",
    "pytorch_lightning.callbacks": "callbacks write checkpoints and logs",
    "lightning.pytorch.plugins": "environments and I/O plugins",
    "pytorch_lightning.plugins": "environments and I/O plugins",
    "lightning.fabric.plugins": "environments and I/O plugins",
    "lightning_fabric.plugins": "environments and I/O plugins",
    "lightning.pytorch.strategies": "distributed launchers",
    "pytorch_lightning.strategies": "distributed launchers",
    "lightning.fabric.strategies": "distributed launchers",
    "lightning_fabric.strategies": "distributed launchers",
    "sentence_transformers.backend": "exports and loads ONNX/OpenVINO models",
    "pandas.io": "readers and writers of files",
    "pandas.plotting": "plots",
    "pandas.util": "test and version helpers",
    "pandas.conftest": "test fixtures",
    "pyarrow.fs": "file systems",
    "pyarrow._fs": "file systems",
    "pyarrow._s3fs": "network file system",
    "pyarrow._gcsfs": "network file system",
    "pyarrow._hdfs": "network file system",
    "pyarrow._azurefs": "network file system",
    "pyarrow.flight": "network RPC",
    "pyarrow._flight": "network RPC",
    "pyarrow.dataset": "reads datasets from files",
    "pyarrow._dataset": "reads datasets from files",
    "pyarrow.parquet": "reads and writes files",
    "pyarrow._parquet": "reads and writes files",
    "pyarrow.orc": "reads and writes files",
    "pyarrow._orc": "reads and writes files",
    "pyarrow.csv": "reads and writes files",
    "pyarrow._csv": "reads and writes files",
    "pyarrow.json": "reads files",
    "pyarrow._json": "reads files",
    "pyarrow.feather": "reads and writes files",
    "pyarrow.ipc": "reads and writes streams",
    "pyarrow.cffi": "loads native code",
    "pyarrow.jvm": "loads a JVM",
    "pyarrow.cuda": "devices",
    "pyarrow._cuda": "devices",
    "pyarrow.substrait": "runs query plans",
    "pyarrow._substrait": "runs query plans",
    "pyarrow.acero": "runs query plans",
    "pyarrow._acero": "runs query plans",
    "pyarrow.interchange": "wraps foreign buffers",
    "scipy._lib._testutils": "test helpers: calling a PytestTester runs pytest with the arguments it is given",
    "scipy.io": "reads and writes files",
    "scipy.datasets": "downloads data sets",
    "scipy._lib._ccallback": "wraps native function pointers (LowLevelCallable)",
    "sklearn.datasets": "downloads and reads data sets",
    "sklearn.utils.parallel": "runs workers",
    "sklearn.experimental": "import side effects that patch scikit-learn",
    "gensim.corpora.bleicorpus": "corpus reader and writer of files",
    "gensim.corpora.csvcorpus": "corpus reader of files",
    "gensim.corpora.indexedcorpus": "corpus reader and writer of files",
    "gensim.corpora.lowcorpus": "corpus reader and writer of files",
    "gensim.corpora.malletcorpus": "corpus reader and writer of files",
    "gensim.corpora.mmcorpus": "corpus reader and writer of files",
    "gensim.corpora._mmreader": "corpus reader of files",
    "gensim.corpora.opinosiscorpus": "corpus reader of files",
    "gensim.corpora.sharded_corpus": "corpus shards in files",
    "gensim.corpora.svmlightcorpus": "corpus reader and writer of files",
    "gensim.corpora.textcorpus": "corpus reader of files and directories",
    "gensim.corpora.ucicorpus": "corpus reader and writer of files",
    "gensim.corpora.wikicorpus": "corpus reader of dump files, with worker processes",
    "gensim.scripts": "command-line tools",
    "gensim.models.callbacks": "training callbacks that log to files and services",
    "xgboost.tracker": "network tracker (sockets)",
    "xgboost.dask": "distributed workers",
    "xgboost.collective": "communicator between workers (network)",
    "xgboost.rabit": "communicator between workers (network)",
    "nltk.downloader": "downloads",
    "nltk.data": "opens files and URLs",
    "nltk.corpus": "reads corpora from files",
    "nltk.app": "GUI applications",
    "nltk.parse.corenlp": "starts a Java server",
    "nltk.tag.stanford": "runs Java",
    "nltk.parse.stanford": "runs Java",
    "nltk.parse.malt": "runs Java",
    "nltk.internals": "runs Java, imports by name",
    "nltk.twitter": "network",
    "statsmodels.datasets": "reads data sets from files and the network",
    "statsmodels.iolib": "reads and writes files",
    "statsmodels.sandbox": "unmaintained code",
    "statsmodels.tools._test_runner": "test runner: calling a PytestTester runs pytest with the arguments it is given",
    "timm.models._hub": "downloads",
    "timm.models._builder": "downloads pretrained weights",
    "keras.src.utils.file_utils": "downloads and extracts",
    "keras.src.saving": "loads models and code",
    "keras.src.legacy.saving": "loads models and code",
    "keras.src.backend.tensorflow": "needs TensorFlow",
    "keras.src.backend.jax": "needs JAX",
    "keras.src.backend.openvino": "needs OpenVINO",
    "keras.src.backend.numpy": "",
    "keras.src.export": "exports models",
    "keras.src.callbacks": "callbacks write files and talk to services",
    "lightgbm.dask": "distributed workers",
    "lightgbm.plotting": "plots",
    "joblib": "",
    "huggingface_hub": "downloads",
    "numpy.f2py": "compiles code",
    "numpy.distutils": "builds code",
    "numpy.testing": "test helpers",
    "numpy._pytesttester": "test runner: calling a PytestTester runs pytest with the arguments it is given",
    "numpy._pyinstaller": "packaging hooks",
    "numpy.lib._datasource": "opens files and URLs",
    "numpy.lib.format": "reads arrays from files (and pickles)",
    "numpy.lib._npyio_impl": "reads and writes files",
    "numpy.lib.npyio": "reads and writes files",
    "datasets.load": "imports dataset scripts and downloads",
    "datasets.builder": "builds datasets: downloads, reads and writes files",
    "datasets.download": "downloads",
    "datasets.packaged_modules": "dataset builders that read files",
    "datasets.io": "readers and writers of files",
    "datasets.filesystems": "file systems",
    "datasets.commands": "command-line tools",
    "datasets.arrow_reader": "reads Arrow files",
    "datasets.arrow_writer": "writes Arrow files",
    "datasets.streaming": "patches file openers for streaming",
    "datasets.parallel": "runs workers",
    "datasets.hub": "downloads and uploads",
    "datasets.utils.file_utils": "downloads and opens files and URLs",
    "datasets.utils.extract": "extracts archives",
    "datasets.utils.tf_utils": "TensorFlow helpers: iterating their generator spawns worker processes over shared memory",
    "torch_geometric.datasets": "downloads and reads data sets",
    "torch_geometric.io": "reads and writes files",
    "torch_geometric.graphgym": "builds experiments from configuration: imports and writes files",
    "torch_geometric.distributed": "workers and RPC over the network",
    "torch_geometric.llm": "downloads models and runs them",
    "torch_geometric.data.database": "SQLite and RocksDB databases in files",
    "torch_geometric.data.on_disk_dataset": "a dataset in database files",
    "torch_geometric.data.download": "downloads",
    "torch_geometric.data.extract": "extracts archives",
    "torch_geometric.data.lightning": "data loaders (worker processes)",
    "torch_geometric.loader": "data loaders (worker processes)",
    "torch_geometric.template": "writes and imports generated modules",
    "torch_geometric.visualization": "plots and writes files",
    "networkx.readwrite": "reads and writes graph files",
    "networkx.drawing": "plots and writes files",
    "networkx.utils.backends": "dispatches to backends imported through entry points",
    "xarray.backends": "opens files; its file managers reopen the paths and openers their state names",
    "xarray.tutorial": "downloads data sets",
    "xarray.plot": "plots",
    "polars.io": "readers and writers of files",
    "polars.lazyframe": "a LazyFrame's state is a serialized query plan, which pickles its Python functions",
    "polars.expr": "an expression's state is serialized, with its Python functions pickled",
    "polars.catalog": "talks to a catalog service",
    "polars.ml": "converts to other frameworks",
}
del AREAS["keras.src.backend.numpy"], AREAS["joblib"]

# Areas whose base classes bring their behaviour into subclasses defined elsewhere (code generation,
# workers, archives); other areas' bases (mixins such as PushToHubMixin) are screened by source.
INHERITED_AREAS = {"torch.fx", "torch.jit", "torch.package", "torch.utils.data", "torch.multiprocessing",
                   "torch.distributed", "torch._dynamo", "torch._inductor", "torch.export", "torch._export", "sympy",
                   "polars.lazyframe", "polars.expr"}

# Module path segments that mark tests, vendored copies and build helpers.
SEGMENTS = {"tests", "test", "testing", "_testing", "conftest", "benchmarks", "_vendor", "vendor", "vendored",
            "externals", "setup", "__main__", "_pytest", "_distributor_init", "_pyinstaller"}

# DCP's .metadata file pickles these modules' data classes: allowed inside torch.distributed.
DCP_MODULES = {"torch.distributed.checkpoint.metadata", "torch.distributed.checkpoint.planner",
               "torch.distributed.checkpoint.storage", "torch.distributed.checkpoint.filesystem",
               "torch.distributed.checkpoint._extension"}


def area_reason(module: str) -> str | None:
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        prefix = ".".join(parts[:i])
        if prefix in DENY_MODULES:
            return f"under modelgate's deny list ({prefix})"
    for seg in parts:
        if seg in SEGMENTS or seg.startswith("test_") or seg.endswith("_test") or seg.startswith("conftest"):
            return f"test, vendored or build helper module ({seg})"
    if module in DCP_MODULES:
        return None
    for i in range(len(parts), 0, -1):
        prefix = ".".join(parts[:i])
        if prefix in AREAS:
            return f"{prefix}: {AREAS[prefix]}"
    return None


def name_reason(module: str, name: str) -> str | None:
    if f"{module}.{name}" in DENY_NAMES:
        return "under modelgate's deny list"
    if "." in name:
        return "nested name: loading it walks attributes"
    if name.startswith("__") and not name.startswith("__pyx_unpickle_"):
        return "dunder or private name (the pickle protocols' own are curated)"
    return None


# What source text must not call. Each pattern names what it reaches.
PATTERNS: list[tuple[str, re.Pattern]] = [(why, re.compile(p)) for why, p in [
    ("files", r"(?<![\w.])open\(|\bio\.open|\bos\.(remove|unlink|rmdir|removedirs|makedirs|mkdir|rename|renames|"
              r"replace|chmod|chown|symlink|link|truncate|listdir|scandir|walk|fdopen|open|startfile)\b|"
              r"\bshutil\.|\btempfile\.|\.(write_text|write_bytes|read_text|read_bytes|unlink|rmdir|touch)\(|"
              r"\bmemmap\(|\bfromfile\(|\btofile\(|\bh5py\.|\bzipfile\.|\btarfile\.|\bmmap\.|\bglob\.glob|"
              r"\bos\.path\.(exists|isfile|isdir|getsize)|\bsafe_open\(|\bsafetensors\b|\bmemory_map\(|"
              r"[Ff]rom_?[Ff]ile\("),
    ("processes", r"\bpytest\b|\bsubprocess\b|\bos\.(system|popen|exec\w*|spawn\w*|fork\w*|kill\w*|posix_spawn\w*)\b|"
                  r"\bPopen\(|\bmultiprocessing\b|\bProcessPoolExecutor\b|\bmp\.(Process|Pool|get_context)"),
    ("threads", r"\bthreading\.(Thread|Timer)\b|\bThread\(|\bThreadPoolExecutor\b|\b_thread\.|"
                r"\bconcurrent\.futures\b|\basyncio\.|\bThreadPool\("),
    ("the network", r"\bsocket\.(socket|create_connection|create_server|getaddrinfo|gethostbyname)\b|\burllib\b|"
                    r"\brequests\.(get|post|put|patch|delete|head|request|Session)\b|\bhttpx\b|\bhttp\.client\b|"
                    r"\burlopen\(|\bsmtplib\b|\bftplib\b|\bgrpc\b"),
    ("downloads", r"\bfrom_pretrained\(|\bhf_hub_download\(|\bsnapshot_download\(|\bcached_file\(|"
                  r"\bcached_path\(|\bload_state_dict_from_url\(|\bdownload_url\w*\(|\btorch\.hub\b|"
                  r"\bhuggingface_hub\b|\bcached_files\(|\bdownload\w*\("),
    ("importers", r"\b__import__\(|\bimportlib\b|\bimport_module\(|\bload_library\(|\bpkgutil\.|"
                  r"\bsys\.modules\b|\bLazyModule\b|\brun_path\(|\bctypes\b|\bcdll\b|\bCDLL\(|"
                  r"\bLoadLibrary\b|\bcffi\b|\bdlopen\b"),
    ("code", r"(?<![\w.])(?<!def )(eval|exec|compile)\(|\bbuiltins\.(eval|exec|compile)\b|\btorch\.compile\(|"
             r"\bFunctionType\(|\bCodeType\(|\bexec_module\(|\btorch\.jit\.(script|trace|load)\("),
    ("nested deserialization", r"\b(pickle|cPickle|_pickle|dill|cloudpickle|marshal|shelve|jsonpickle)\.|"
                               r"\btorch\.load\(|\bjoblib\.load\(|\b(np|numpy)\.load\(|\byaml\.(unsafe_)?load\(|"
                               r"\bread_pickle\(|\bUnpickler\b|\bload_pickle\("),
    ("native code", r"\b_LIB\.\w+\(|\b_safe_call\(|\b_check_call\("),
    # getattr(self, name)(value) with a name from the arguments calls whichever method they name
    # (polars' Config reached save_to_file so).
    ("methods named by its arguments", r"\bgetattr\(\s*(?:self|cls)\s*,\s*[^'\")\s][^)]*\)\s*\("),
    ("signal or exit handlers", r"\bsignal\.(signal|setitimer|alarm|pthread_kill)\b|\batexit\b|"
                                r"\bsys\.(settrace|setprofile|exit|excepthook)\b|\bweakref\.finalize\("),
]]

# Methods that run when a pickle constructs an object and restores its state, or when it is
# collected; and those that run only when the class is called.
CONSTRUCT_METHODS = ("__new__", "__setstate__", "__setattr__", "__del__", "__array_finalize__")
CALL_METHODS = ("__init__", "__post_init__")
# Methods Python runs on an object without the pickle naming them, once it exists: attribute lookup
# (BUILD looks __setstate__ up, and a class without one falls into __getattr__), the protocols the
# APPENDS, SETITEMS and ADDITEMS opcodes and BUILD's dict update use, __call__ (an object stored as an
# attribute is called by a __setstate__ that calls the method the attribute shadows), and every other
# dunder an allowlisted function handed the object may reach (hashing, comparison, iteration,
# conversion, formatting). Left out: what runs only when pickling or copying, class-level hooks, and
# the text renderings (__repr__, __str__, __format__), which loading never asks for and whose printing
# paths read as file access (pandas' Series.to_string writes to a path it is given).
IMPLICIT_METHODS = ("append", "extend", "add", "update", "keys", "items")
NOT_AT_LOAD = frozenset((
    *CALL_METHODS, "__reduce__", "__reduce_ex__", "__getstate__", "__getnewargs__",
    "__getnewargs_ex__", "__copy__", "__deepcopy__", "__init_subclass__", "__subclasshook__",
    "__class_getitem__", "__set_name__", "__instancecheck__", "__subclasscheck__", "__prepare__",
    "__repr__", "__str__", "__format__",
))


def implicit_methods(cls) -> tuple[str, ...]:
    """The dunders cls or a base defines in Python (the standard base types' own are C code and skipped
    by _methods_reason), and the container methods the opcodes call, that run on its objects at load."""
    names = {name for klass in cls.__mro__ for name, value in vars(klass).items()
             if name.startswith("__") and name.endswith("__") and name not in NOT_AT_LOAD
             and name not in CONSTRUCT_METHODS and callable(value)}
    return tuple(sorted(names)) + IMPLICIT_METHODS
SELF_CALL = re.compile(r"\b(?:self|cls|obj|result|new|instance)\.(_?\w+)\(")
MAX_METHODS = 40  # bound on the methods followed from each load method through self calls


def _source(fn) -> str | None:
    fn = inspect.unwrap(fn) if callable(fn) else fn
    fn = getattr(fn, "__func__", fn)
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        return None


def _strip(src: str) -> str:
    """Drop comments and docstrings so that prose does not match."""
    src = re.sub(r'("""|\'\'\')(?:.|\n)*?\1', "", src)
    return re.sub(r"#[^\n]*", "", src)


def source_reason(text: str) -> str | None:
    text = _strip(text)
    for why, pattern in PATTERNS:
        m = pattern.search(text)
        if m:
            return f"reaches {why} ({m.group(0).strip()})"
    return None


def class_reason(cls) -> str | None:
    """Why a class must not even be constructed: a base from a deny-listed module or code-generating
    area, or what its construct-phase methods (__new__, state restore, finalizer) or the methods that
    run on its objects implicitly (__getattr__, __setitem__, __hash__…) reach."""
    for base in cls.__mro__[1:]:
        mod = getattr(base, "__module__", "") or ""
        prefixes = {".".join(mod.split(".")[:i]) for i in range(1, mod.count(".") + 2)}
        hit = prefixes & (DENY_MODULES | INHERITED_AREAS)
        if hit:
            return f"inherits {mod}.{base.__qualname__} ({min(hit)})"
    return _methods_reason(cls, CONSTRUCT_METHODS + implicit_methods(cls))


def call_reason(cls) -> str | None:
    """Why a class may be constructed but not called: what __init__ / __post_init__ reach."""
    return _methods_reason(cls, CALL_METHODS)


# What a method hands on to further up the MRO: super().m(…), super(C, self).m(…) and
# super(type(self), self).m(…), of any method m; and Base.m(self, …) as older code and classes with
# several bases write it (Base found by name in the MRO).
SUPER_CALL = re.compile(r"\bsuper\((?:[^()]|\([^()]*\))*\)\s*\.\s*(\w+)\s*\(")
BASE_CALL = re.compile(r"\b([A-Za-z_][\w.]*)\.(\w+)\s*\(\s*(?:self|cls)\b")


def _methods_reason(cls, roots: tuple[str, ...]) -> str | None:
    """What the methods `roots` reach when they run on an instance of cls: each method's first
    definer in the MRO is read, then what it calls on self (from the MRO's start) and what it hands
    on to through super() or an explicit base (from past the class that hands on)."""
    mro = cls.__mro__
    seen: set[tuple[str, int]] = set()
    for root in roots:
        r = _method_reason(cls, mro, root, seen)
        if r:
            return r
    return None


def _method_reason(cls, mro, root: str, seen: set[tuple[str, int]]) -> str | None:
    """One root of _methods_reason, followed through at most MAX_METHODS methods not read before:
    every root is read, however many methods the roots before it reached."""
    todo = [(root, root, 0)]  # (method, the root it was reached from, MRO index to look from)
    budget = MAX_METHODS
    while todo and budget > 0:
        meth, root, start = todo.pop()
        if (meth, start) in seen:
            continue
        seen.add((meth, start))
        budget -= 1
        for i in range(start, len(mro)):
            klass = mro[i]
            if meth not in vars(klass):
                continue
            if getattr(klass, "__module__", "builtins").split(".")[0] in ("builtins", "abc", "typing", "enum"):
                break  # the standard base types' own methods
            src = _source(vars(klass)[meth])
            if not src:
                break
            r = source_reason(src)
            if r:
                where = "" if klass is cls else f" of {klass.__module__}.{klass.__qualname__}"
                via = "" if meth == root else f" (from {root})"
                return f"{meth}{where}{via} {r}"
            text = _strip(src)
            todo.extend((m, root, 0) for m in SELF_CALL.findall(text))
            todo.extend((m, root, i + 1) for m in SUPER_CALL.findall(text))
            for name, m in BASE_CALL.findall(text):
                short = name.rsplit(".", 1)[-1]
                todo.extend((m, root, j) for j in range(i + 1, len(mro)) if mro[j].__name__ == short)
            break
    return None


# Compiled classes: no source to read, so their names must not say they wrap I/O or workers.
COMPILED_NAME = re.compile(
    r"File|Stream|Socket|Client|Server|Reader|Writer|Connection|Process|Thread|Pool|Executor|Loader|"
    r"Download|Mmap|MemoryMap|Filesystem|FileSystem|Handler|Signal|Dataset|Scanner|Sink|Source|Path|"
    r"Library|Module|Importer|Compiler|Jit|Callback|Hook|Flight|Channel|Pipe|Queue|Lock|Event|Store|"
    r"Future|Worker|Loop|Subprocess|Interpreter|Eval|Exec", re.I)


def compiled_reason(cls) -> str | None:
    if _source(cls) is not None:
        return None
    m = COMPILED_NAME.search(cls.__name__)
    return f"compiled class without source whose name says it wraps {m.group(0)}" if m else None
