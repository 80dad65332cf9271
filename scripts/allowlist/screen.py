"""The screen every introspected name passes before it is allowlisted.

Three checks, each returning the reason a name is left out (or None):
  * area: the module lies in a part of a library that loads code, starts workers, downloads or
    is a test helper, or under modelgate's own deny lists (read from src/rules/callables.ts);
  * source: the source text of what runs when the class is constructed, given state or collected
    (__new__, __setstate__, __setattr__, __del__, __array_finalize__, through the MRO, and the
    property setters BUILD's slot state runs, plus the methods they call on self and the setters of
    the attributes they assign, and the module functions and classes they call through their
    module's globals, MAX_DEPTH calls deep; a reach larger than MAX_METHODS is a reason itself, and
    a call into an area that generates or imports code is one too), or of the function itself
    (and what it calls), calls something that reaches files,
    processes, threads, the network, importers, exec/eval/compile, nested deserialization,
    downloads, ctypes, a native library's functions or signal handlers; when only what a call runs (__init__, __post_init__)
    does, the class is kept as construct-only;
  * compiled: a class without Python source whose name says it wraps a file, stream, process,
    connection or similar (its behaviour cannot be read, so the name has to do).
"""

from __future__ import annotations

import inspect
import importlib
import re
import sys
import types
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
    "torchaudio.io": "opens the media file, stream or URL it is given through FFmpeg (StreamReader's "
                     "torch.classes.torchaudio.ffmpeg_StreamReader(src)), or writes one",
    "torchaudio.pipelines": "model bundles: download weights and read the files they are given "
                            "(_SentencePieceTokenProcessor's __init__ opens its SentencePiece model file)",
    "torchaudio.models.decoder": "CTC decoders read lexicon and language-model files and download them",
    "torchaudio.utils": "downloads assets, FFmpeg and sox helpers",
    "torchaudio.datasets": "datasets read and download audio corpora",
    "jax._src.export": "deserializes exported StableHLO (jax.export.deserialize) and compiles and runs it",
    "jax.export": "deserializes exported StableHLO and compiles and runs it",
    "jax.experimental.serialize_executable": "deserializes compiled executables (pickle) and loads them",
    "jax.experimental.colocated_python": "pickles Python functions by value (cloudpickle) and runs them",
    "jax._src.compiler": "compiles to XLA executables (and reads and writes the compilation cache)",
    "jax._src.compilation_cache": "the persistent compilation cache: reads and writes files",
    "jax._src.compilation_cache_interface": "the persistent compilation cache: reads and writes files",
    "jax._src.lru_cache": "the persistent compilation cache: reads and writes files",
    "jax._src.cache_key": "the persistent compilation cache's keys",
    "jax.experimental.compilation_cache": "the persistent compilation cache: reads and writes files",
    "jax._src.stages": "lowered and compiled computations: compiling and calling them runs XLA executables",
    "jax._src.dispatch": "compiles and dispatches XLA executables",
    "jax._src.interpreters": "lowering and compilation to XLA",
    "jax._src.pjit": "compiles and runs jitted functions",
    "jax._src.pmap": "compiles and runs mapped functions",
    "jax._src.xla_bridge": "initialises backends and loads plugins",
    "jax._src.lib": "the native library and its plugins",
    "jax._src.callback": "host callbacks call the Python functions they hold",
    "jax._src.buffer_callback": "host callbacks call the Python functions they hold",
    "jax.experimental.buffer_callback": "host callbacks call the Python functions they hold",
    "jax._src.debugger": "an interactive debugger run from compiled code",
    "jax._src.debugging": "debug callbacks call the Python functions they hold",
    "jax._src.custom_partitioning": "partitioning callbacks call the Python functions they hold",
    "jax._src.ffi": "registers and calls foreign functions",
    "jax._src.clusters": "detects clusters from the environment and talks to their services",
    "jax._src.distributed": "connects to the distributed coordination service",
    "jax.experimental.multihost_utils": "talks to other hosts",
    "jax._src.profiler": "profiler servers and trace files",
    "jax.profiler": "profiler servers and trace files",
    "jax._src.internal_test_util": "test helpers",
    "jax._src.pallas": "kernel languages: compile kernels",
    "jax.experimental.pallas": "kernel languages: compile kernels",
    "jax.experimental.mosaic": "kernel compilation",
    "jax._src.tpu_custom_call": "kernel compilation",
    "jax._src.tpu": "TPU runtime and kernel compilation",
    "jax._src.cudnn": "cuDNN kernel compilation",
    "jax.experimental.array_serialization": "reads and writes array checkpoints through tensorstore",
    "jax.experimental.source_mapper": "dumps compilation passes to files",
    "jax._src.sourcemap": "reads source maps",
    "jax.experimental.roofline": "lowers and compiles to analyse",
    "jax.experimental.topologies": "compiles for device topologies",
    "flax.training.checkpoints": "reads and writes checkpoint files (and restores them through orbax)",
    "flax.io": "file I/O",
    "srsly.cloudpickle": "pickles functions and classes by value and rebuilds them from code",
    "srsly._pickle_api": "nested deserialization (cloudpickle)",
    "srsly.ruamel_yaml": "a YAML loader that constructs objects by tag",
    "srsly._yaml_api": "YAML loading",
    "srsly.msgpack": "an unpacker reads the stream it is given and calls the hooks it holds for each object",
    "spacy.cli": "command-line tools: downloads and subprocesses",
    "astropy.io": "file readers and writers (FITS, VOTable, ASCII tables, HDF5, ...)",
    "astropy.samp": "the SAMP messaging hub and clients: network",
    "astropy.utils.data": "downloads and the download cache",
    "astropy.utils.iers": "downloads Earth-orientation tables",
    "astropy.config": "reads and writes configuration files",
    "astropy.extern.configobj": "configuration files (and unrepr's expression building)",
    "astropy.cosmology._src.io": "cosmology readers and writers",
    "igraph.remote": "streams graphs to remote services",
    "pyproj.sync": "downloads transformation grids",
    "nibabel.dft": "a DICOM database: reading its objects' attributes queries, and creates, an SQLite file in the "
                   "temporary directory (the module's DB)",
    "nibabel.cmdline": "command-line tools (a FUSE file system of DICOM files)",
    "nibabel.data": "locates data packages on disk and reads their configuration files",
    "skrf.io": "readers and writers of files (Touchstone, CITI, MDIF, CSV, and skrf's own pickles)",
    "skrf.vi": "virtual instruments: talks to measurement hardware (VISA over the network, USB, GPIB)",
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
                  r"\bLoadLibrary\b|\bcffi\b|\bdlopen\b|\bspec_from_file_location\(|\bmodule_from_spec\(|"
                  r"\bspec_from_loader\(|\bSourceFileLoader\b"),
    ("code", r"(?<![\w.])(?<!def )(eval|exec|compile)\(|\bbuiltins\.(eval|exec|compile)\b|\btorch\.compile\(|"
             r"\bFunctionType\(|\bCodeType\(|\bexec_module\(|\btorch\.jit\.(script|trace|load)\(|"
             # a template engine compiles its template to Python (jinja2 outside a sandbox runs what it says)
             r"\bjinja2\b|\b(?:[eE]nv|[eE]nvironment|jinja_env)\.(?:from_string|get_template)\("),
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
SELF_SET = re.compile(r"\b(?:self|obj|result|new|instance)\.(\w+)\s*(?:[-+*/|&]?=)(?!=)")
MAX_METHODS = 200  # bound on the methods and functions read from each load method


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


def source_reason(text: str, helper: bool = False) -> str | None:
    """The first pattern the text matches. In a helper (a function reached through a call out of the
    class), reading sys.modules and asking importlib whether a package is installed are no reason:
    array-API and optional-dependency checks do both everywhere, and neither imports or runs anything."""
    text = _strip(text)
    if helper:  # an error message that names subprocess or a file is no call
        text = STRING.sub('""', text)
    for why, pattern in PATTERNS:
        if helper and why in HELPER_SKIPS:
            continue
        for m in pattern.finditer(text):
            if helper and HELPER_QUERIES.fullmatch(m.group(0).strip()) and not _writes_modules(text, m):
                continue
            return f"reaches {why} ({m.group(0).strip()})"
    return None


HELPER_QUERIES = re.compile(r"sys\.modules|importlib|_thread\.|os\.path\.(exists|isfile|isdir|getsize)|import_module\(|"
                            r"__import__\(|atexit|weakref\.finalize\(|multiprocessing|urllib|open\(")
# In a helper, `self` is any parameter, and the method names such helpers look up come from the
# library's own tables (pandas maps a ufunc to sum, min…): the pattern is for a class's own dispatch
# on names from its state (polars' Config). Helpers' thread pools run the helper's own conversions
# for the length of a call (polars' dict_to_pydf); a class that starts a thread is still matched.
HELPER_SKIPS = {"methods named by its arguments", "threads"}
STRING = re.compile(r"""(?<![\w])[rRbBuU]?("[^"\\\n]*(?:\\.[^"\\\n]*)*"|'[^'\\\n]*(?:\\.[^'\\\n]*)*')""")


def _writes_modules(text: str, m: re.Match) -> bool:
    """Whether the sys.modules or importlib at m does more than look up: an assignment into
    sys.modules, or an importlib function other than the installed-package queries."""
    after = text[m.end():m.end() + 80]
    if m.group(0).strip() in ("atexit", "weakref.finalize("):  # cleanup a helper registers (tqdm's monitor)
        return False
    if m.group(0).strip() == "urllib":  # parsing a URL is no request
        return not re.match(r"\.parse\.(urlparse|urlsplit|urljoin|quote|unquote|urlencode)\b|\.parse\s*$", after)
    if m.group(0) == "open(":  # a helper silencing a stream (transformers' logging when stderr is None)
        return not re.match(r"\s*os\.devnull\b", after)
    if m.group(0).strip() == "multiprocessing":  # a lock or a count is no process (tqdm's write lock)
        return not re.match(r"(\s+import\s+(RLock|Lock)\b|\.(RLock|Lock|cpu_count|current_process)\()", after)
    if m.group(0).startswith("os.path.") or m.group(0) in ("import_module(", "__import__("):
        return False  # a probe for a path is no read (the read is matched itself); imports: below
    if m.group(0).strip() == "_thread.":  # a lock is no thread
        return not re.match(r"(allocate_lock|RLock|get_ident|LockType)\b", after)
    if m.group(0).strip() == "sys.modules":
        return bool(re.match(r"\s*(\[[^\]]*\]\s*=(?!=)|\.(setdefault|update|pop|__setitem__)\()", after)) or \
            bool(re.search(r"\bdel\s+$", text[max(0, m.start() - 8):m.start()]))
    # importing an installed package by name is how helpers reach optional dependencies (pandas'
    # import_optional_dependency, xarray's dask dispatch); loading code from a file or a spec is not
    return not re.match(r"\.(util\.find_spec|import_module|metadata\.(version|metadata|packages_distributions|"
                        r"distribution|PackageNotFoundError)|metadata\b)", after)


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
    return _methods_reason(cls, CONSTRUCT_METHODS + implicit_methods(cls) + setter_names(cls))


def setter_names(cls) -> tuple[str, ...]:
    """The attributes cls or a base makes settable through Python code (a property's setter, a
    descriptor's __set__): BUILD's slot state sets attributes with setattr, which runs them at load."""
    names = set()
    for klass in cls.__mro__:
        if _stdlib(getattr(klass, "__module__", "builtins")):
            continue
        for name, value in vars(klass).items():
            if _setter(value) is not None:
                names.add(name)
    return tuple(sorted(names))


def _setter(value):
    """The Python function that runs when an attribute held by `value` (a class attribute) is set, or None."""
    if isinstance(value, property):
        return value.fset if isinstance(value.fset, types.FunctionType) else None
    set_ = getattr(type(value), "__set__", None)
    return set_ if isinstance(set_, types.FunctionType) else None


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
    definer in the MRO is read, then what it calls on self (from the MRO's start), what it hands
    on to through super() or an explicit base (from past the class that hands on), and the
    functions and classes it calls by a name of its module's globals (see _callees)."""
    seen: set = set()
    for root in roots:
        r = _method_reason(cls, cls.__mro__, root, seen)
        if r:
            return r
    return None


def _method_reason(cls, mro, root: str, seen: set) -> str | None:
    """One root of _methods_reason, followed through at most MAX_METHODS methods and functions not
    read before (every root is read, however many the roots before it reached), and through at most
    MAX_DEPTH calls out of the class (to a module function, or to another class's constructor)."""
    # work items: ("m", method name, MRO it is looked up in, MRO index to look from, depth, path of the
    # caller, the method's own path when a constructor's), ("f", function, depth, path),
    # ("c", class called, depth, path), ("!", reason)
    return _reach(cls, [("m", root, mro, 0, 0, "", root)], root, seen)


def function_reason(fn) -> str | None:
    """What a module function reaches: its own source, and what it calls through its globals."""
    name = getattr(fn, "__name__", "function")
    return _reach(None, [("f", inspect.unwrap(fn), 0, name)], name, set())


def _reach(cls, todo: list[tuple], root: str, seen: set) -> str | None:
    budget = MAX_METHODS
    while todo:
        item = todo.pop(0)
        kind = item[0]
        if kind == "!":
            return item[1]
        if kind == "c":
            _, klass, depth, path = item
            todo.extend(("m", m, klass.__mro__, 0, depth, path, path if m == "__init__" else f"{path}.{m}")
                        for m in CONSTRUCTOR_METHODS)
            continue
        key = ("f", item[1]) if kind == "f" else (item[1], id(item[2]), item[3])
        if key in seen:
            continue
        seen.add(key)
        if budget <= 0:
            return _budget_reason(root, item[-1] or item[-2])
        if kind == "f":
            _, fn, depth, path = item
            src = _source(fn)
            if not src:
                continue
            budget -= 1
            r = source_reason(src, helper=depth > 0)
            if r:
                return f"{path} {r}"
            todo.extend(_callees(fn, _strip(src), depth, path))
            continue
        _, meth, owner, start, depth, path, label = item
        step = label or f"{path} → {meth}"
        for i in range(start, len(owner)):
            klass = owner[i]
            if meth not in vars(klass):
                continue
            if _stdlib(getattr(klass, "__module__", "builtins")):
                break  # the standard base types' own methods
            value = vars(klass)[meth]
            if _setter(value) is not None:  # an attribute whose setting runs code: read that code
                value = _setter(value)
            src = _source(value)
            if not src:
                break
            budget -= 1
            r = source_reason(src, helper=depth > 0)
            if r:
                if depth == 0:  # a method of cls: worded as before
                    where = "" if klass is cls else f" of {klass.__module__}.{klass.__qualname__}"
                    via = "" if meth == root else f" (from {root})"
                    return f"{meth}{where}{via} {r}"
                where = "" if klass is owner[0] else f" (of {klass.__module__}.{klass.__qualname__})"
                return f"{step}{where} {r}"
            text = _strip(src)
            todo.extend(("m", m, owner, 0, depth, step, None) for m in SELF_CALL.findall(text))
            # `self.x = v` runs x's property setter (or descriptor's __set__) when the class has one.
            todo.extend(("m", m, owner, 0, depth, step, f"{step} → {m} (set)") for m in SELF_SET.findall(text)
                        if any(_setter(vars(k).get(m)) is not None for k in owner))
            todo.extend(("m", m, owner, i + 1, depth, step, None) for m in SUPER_CALL.findall(text))
            for bname, m in BASE_CALL.findall(text):
                short = bname.rsplit(".", 1)[-1]
                todo.extend(("m", m, owner, j, depth, step, None) for j in range(i + 1, len(owner))
                            if owner[j].__name__ == short)
            todo.extend(_callees(getattr(value, "__func__", value), text, depth, step))
            break
    return None


def _budget_reason(root: str, path: str) -> str:
    return f"{root} reaches more than {MAX_METHODS} methods and functions (not all read; at {path})"


CONSTRUCTOR_METHODS = ("__new__", "__init__", "__post_init__")
DECORATOR = re.compile(r"^[ \t]*@[\w.]+[ \t]*(\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\))?", re.M)
MAX_DEPTH = 3  # calls followed out of a class: to module functions and other classes' constructors
NAME_CALL = re.compile(r"(?<![\w.])(?<!def )(?<!class )([A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*)\s*\(")
# "from m import a, b as c" on one line, or "from m import (a,\n b)" across lines in parentheses. The
# names of an unparenthesised import end at the line's end (a blank line and "x = …" after
# "from torch.utils.cpp_extension import load" once bound x to load and left load unbound).
LOCAL_IMPORT = re.compile(r"^[^\S\n]*from[^\S\n]+([\w.]+)[^\S\n]+import[^\S\n]+(?:\(([^)]*)\)|([^\n#;]*))", re.M)
LOCAL_IMPORT_AS = re.compile(r"^\s*import\s+([\w.]+)(?:\s+as\s+(\w+))?", re.M)
# The standard library's own modules that are read as the names they are called by (the patterns
# match those names at the call site); the rest of the standard library is not followed.
_OS_ALIASES = {"posix": "os", "nt": "os", "posixpath": "os.path", "ntpath": "os.path", "_io": "io", "genericpath": "os.path"}


def _stdlib(module: str) -> bool:
    top = (module or "builtins").split(".")[0]
    return top in sys.stdlib_module_names or top in ("builtins", "__main__")


def _imported(module: str):
    """The module a function imports itself, imported now if it was not yet (a tiktoken.registry,
    a serialization_lib): only then can what the function calls through it be read. None when it
    does not import here."""
    if module in sys.modules:
        return sys.modules[module]
    try:
        return importlib.import_module(module)
    except Exception:  # noqa: BLE001 - an optional dependency missing in this venv
        return None


def _namespace(fn, text: str) -> dict:
    """The names a function's text may call: its module's globals, plus what it imports itself."""
    ns = dict(getattr(fn, "__globals__", None) or {})
    for mod, grouped, inline in LOCAL_IMPORT.findall(text):
        names = grouped or inline
        m = _imported(mod)
        if m is None:
            continue
        for part in names.split(","):
            bits = part.split()
            if not bits:
                continue
            try:
                obj = getattr(m, bits[0], None)
            except Exception:  # noqa: BLE001
                obj = None
            if obj is None:
                obj = sys.modules.get(f"{mod}.{bits[0]}")
            if obj is not None:
                ns[bits[-1]] = obj
    for mod, alias in LOCAL_IMPORT_AS.findall(text):
        if _imported(mod) is not None:
            if alias:
                ns[alias] = sys.modules[mod]
            else:
                top = mod.split(".")[0]
                ns.setdefault(top, sys.modules.get(top))
    return ns


def _callees(fn, text: str, depth: int, path: str) -> list:
    """What `name(…)` and `a.b.name(…)` in a function's text call, resolved through its globals (and
    its own imports): a module function, a class (its __new__, __init__ and __post_init__ run), or a
    class's static or class method. Each is a work item of _reach one call deeper. A callee on the
    deny lists, or in an area that generates or imports code (CALL_AREAS), is a reason at once (the
    work item ("!", reason)); a standard library function is judged by its name, not read."""
    if depth >= MAX_DEPTH:
        return []
    ns = _namespace(fn, text)
    if not ns:
        return []
    text = DECORATOR.sub("", text)  # a decorator ran when the function was defined
    out = []
    for dotted in dict.fromkeys(re.sub(r"\s+", "", d) for d in NAME_CALL.findall(text)):
        parts = dotted.split(".")
        if parts[0] in ("self", "cls", "super"):
            continue
        obj = ns.get(parts[0])
        owner = None
        for k, p in enumerate(parts[1:], 1):
            if obj is None:
                break
            if isinstance(obj, types.ModuleType) and _stdlib(obj.__name__):
                # a standard module's function is judged by the name it is called by: torch.package
                # patches inspect.getfile, which is still inspect.getfile to the caller
                name = ".".join([obj.__name__, *parts[k:]])
                r = source_reason(f"{_OS_ALIASES.get(obj.__name__, obj.__name__)}.{'.'.join(parts[k:])}(", helper=True)
                if r:
                    out.append(("!", f"{path} → {name} {r}"))
                obj = None
                break
            if isinstance(obj, type):
                owner = obj
            elif not isinstance(obj, types.ModuleType):
                obj = None
                break
            try:
                obj = inspect.getattr_static(obj, p) if isinstance(obj, type) else getattr(obj, p, None)
            except Exception:  # noqa: BLE001 - a lazy module attribute that cannot be imported here
                obj = None
        if obj is None or isinstance(obj, types.ModuleType):
            continue
        if isinstance(obj, (staticmethod, classmethod)):
            obj = obj.__func__
        item = _callee_item(obj, owner, depth, f"{path} → {_qualified(obj, dotted)}")
        if item:
            out.append(item)
    return out


def _qualified(obj, dotted: str) -> str:
    mod = getattr(obj, "__module__", None)
    qual = getattr(obj, "__qualname__", None)
    if isinstance(mod, str) and isinstance(qual, str):
        return f"{_OS_ALIASES.get(mod, mod)}.{qual}"
    return dotted


def _callee_item(obj, owner, depth: int, path: str):
    mod = getattr(obj, "__module__", None)
    qual = getattr(obj, "__qualname__", None)
    if not isinstance(mod, str):
        return None
    name = f"{mod}.{qual}" if isinstance(qual, str) else mod
    if _stdlib(mod):
        qualified = _qualified(obj, name)
        if STDLIB_LOCKS.fullmatch(qualified) or (depth > 0 and STDLIB_HELPER_POOLS.fullmatch(qualified)):
            return None
        # Not followed. Its name is matched as the call site would have written it (an import under
        # another name hides subprocess.run, os.system or tempfile.mkstemp from the caller's text),
        # and the standard library's modules on the deny lists that are nothing but sinks reject it.
        r = source_reason(f"{qualified}(", helper=True)
        if r:
            return ("!", f"{path} {r}")
        top = _OS_ALIASES.get(mod, mod).split(".")
        prefixes = {".".join(top[:i]) for i in range(1, len(top) + 1)}
        hit = set() if prefixes & STDLIB_UTILITIES else prefixes & DENY_MODULES
        return ("!", f"{path}, in {min(hit)} (under modelgate's deny list)") if hit else None
    if not isinstance(obj, (type, types.FunctionType, types.MethodType)):
        return None  # a native function or operator, or a callable instance: nothing to read
    if isinstance(obj, type) and issubclass(obj, BaseException):
        return None  # an exception being raised
    r = callee_area_reason(mod, name)
    if r and not _leaf(obj):
        return ("!", f"{path}, in {r}")
    if isinstance(obj, type):
        return ("c", obj, depth + 1, path)
    return ("f", getattr(obj, "__func__", obj), depth + 1, path)


# Standard modules on the deny lists (a pickle must not name anything in them) that are mostly
# harmless helpers when library code calls them: their sinks (os.system, io.open, sys.exit,
# threading.Thread, types.FunctionType…) are matched by name instead.
STDLIB_UTILITIES = {"functools", "inspect", "operator", "_operator", "types", "gc", "codecs", "base64", "platform",
                    "io", "_io", "os", "posix", "nt", "posixpath", "ntpath", "sys", "threading", "_thread",
                    "linecache", "select", "selectors", "importlib", "urllib.parse"}

# Standard-library callees under the deny lists that start no process and run no code, as the text
# patterns grant too (_writes_modules, HELPER_SKIPS): a lock or a count (tqdm's write lock, made with
# multiprocessing's RLock), and a helper's thread pool, which runs the helper's own conversions for
# the length of a call (polars' dict_to_pydf).
STDLIB_LOCKS = re.compile(r"multiprocessing\.(context\.BaseContext|synchronize)\.(RLock|Lock|cpu_count|current_process)|"
                          r"multiprocessing\.(synchronize\.)?(RLock|Lock)|multiprocessing\.process\.current_process")
STDLIB_HELPER_POOLS = re.compile(r"concurrent\.futures\.thread\.ThreadPoolExecutor")

# Areas a load method must not call into at all: they generate, compile or import code (or are the
# deny list's code loaders), and what they run is past the patterns' reach (TorchScript's compiler is
# native, fx and sympy exec generated text several calls deep). Other areas were left out for what
# their classes do when a pickle names them; a function of theirs that library code calls is read
# like any other. Their state queries (is_compiling, is_tracing, is_scripting…) are read too.
CALL_AREAS: dict[str, str] = {
    **{a: AREAS.get(a) or f"under modelgate's deny list ({a})" for a in INHERITED_AREAS
       if not a.startswith("polars.")},  # polars' are there for what their state holds, not for code
    **{a: AREAS.get(a) or f"under modelgate's deny list ({a})" for a in (
        "torch_geometric.template", "transformers.dynamic_module_utils", "torch.package", "torch.hub",
        "torch.utils.cpp_extension", "numpy.f2py", "numpy.distutils", "torch.compiler", "torch._functorch",
        "torch._higher_order_ops", "torch._library", "torch.library", "torch._ops", "torch.classes",
        "torch.onnx", "torch.utils.benchmark")},
}
QUERY = re.compile(r"^_?(is|has|are)_\w+$|^_?get_(\w*(mode|state|flag|enabled)\w*|world_size|rank|backend)$")
# A collective (barrier, all_gather, broadcast…) or accessor works on a process group the program set
# up, and fails without one; what connects is init_process_group, new_group, stores and RPC, which stay
# reasons.
COLLECTIVE = re.compile(r"^_?(barrier|(all_)?gather\w*|all_reduce\w*|broadcast\w*|reduce\w*|scatter\w*|"
                        r"all_to_all\w*|monitored_barrier|get_\w+|is_\w+)$")
# The eager side of the compile stack, which ordinary tensor code calls at run time: dynamo's markers
# (allow_in_graph, mark_dynamic, nonstrict_trace), dispatch-mode bookkeeping, symbolic-shape guards
# and nodes, vmap. Their functions are read like any library's instead of being a reason by where they are.
CALL_AREAS_READ = ("torch._dynamo.decorators", "torch._ops", "torch.fx.experimental.sym_node",
                   "torch.fx.experimental.symbolic_shapes", "torch._functorch.predispatch", "torch._functorch.vmap",
                   "torch._functorch.apis")


LEAF_CALLS = {"isinstance", "issubclass", "len", "hasattr", "type", "bool", "str", "int", "float", "tuple",
              "list", "dict", "set", "frozenset", "callable", "id", "repr", "super", "RuntimeError", "ValueError",
              "TypeError", "AssertionError", "NotImplementedError", "AttributeError", "KeyError"}


def _leaf(obj) -> bool:
    """A function that calls nothing (but builtins that only look) and matches no pattern: an
    identity such as torch.jit.annotate, or a flag getter, runs nothing of the area it lives in."""
    if not isinstance(obj, types.FunctionType):
        return False
    src = _source(obj)
    if not src or source_reason(src):
        return False
    text = STRING.sub('""', DECORATOR.sub("", _strip(src)))
    body = text[text.index(":", text.index("def ")) + 1:] if "def " in text else text
    calls = {re.sub(r"\s+", "", c) for c in NAME_CALL.findall(body)}
    return calls <= LEAF_CALLS


def callee_area_reason(module: str, qualified: str) -> str | None:
    """Why a load method must not call what it calls, by where it is defined: an exact name on the
    deny list, or a function of an area that generates or imports code (CALL_AREAS) other than a
    state query."""
    if qualified in DENY_NAMES:
        return "under modelgate's deny list"
    if module.startswith("torch.distributed") and COLLECTIVE.match(qualified.rsplit(".", 1)[-1]):
        return None
    if QUERY.match(qualified.rsplit(".", 1)[-1]) or module in CALL_AREAS_READ or \
            module.startswith(tuple(f"{a}." for a in CALL_AREAS_READ)):
        return None
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        prefix = ".".join(parts[:i])
        if prefix in CALL_AREAS:
            return f"{prefix}: {CALL_AREAS[prefix]}"
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
