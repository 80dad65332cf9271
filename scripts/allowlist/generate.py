"""Generates data/allowlist.json and data/allowlist/: the exact names a model pickle may import, and what each does
with its arguments (the contract is src/rules/allowlist.ts).

Usage, from the repository root (one command; makes the venvs from the pinned requirements files
when they do not exist yet, then introspects each of them):

    python3 scripts/allowlist/generate.py

Needs pyenv's CPython 3.11.7, the machine's package index (pip's configuration), Debian's
python3-antlr4 (omegaconf's parser runtime, missing from the index) and, for the third venv,
Debian's /usr/bin/python3 with the python3-* packages requirements-debian.txt lists (apt-get
installs the missing ones). Takes about an hour and a half on two cores, most of it importing every
module of torch and transformers; the venvs are /tmp/al-a, /tmp/al-b, /tmp/al-debian and /tmp/al-c and each
keeps its introspection output there, so that --reuse re-merges in seconds.

    --venv DIR=REQUIREMENTS   a venv to introspect (repeatable; default: the nine of DEFAULT_VENVS)
    --curated-only            write only the CURATED part and the compat tables (no venvs needed)
    --reuse                   merge the venvs' last introspection output (<venv>/allowlist-introspect.json)
    --rewalk DISTRIBUTION     with --reuse: walk this library's modules again in the venvs that have it
                              and update their output (repeatable; e.g. after a walk ran out of time)

The allowlist is the union of:
  * CURATED below: reviewed names with their argument behaviour, each with a reason;
  * per venv (scripts/allowlist/introspect.py run by the venv's own python): every name the
    libraries really pickle (samples.py builds representative objects and pickles them with every
    protocol and through joblib), and every class / enum / Cython unpickle helper / rebuilder
    *defined* in the libraries' modules, both passed through the source screen (screen.py);
minus EXCLUDED below and what the screen rejects (both written to "excluded" with the reason);
last, a class with a construct-only (notCalled) class in its MRO is made construct-only too, whatever
flagged the base (merge.propagate_not_called; data/allowlist-bases.json records the bases), and a class
whose instances answer pickle's lookup of __setstate__ with their own __getattr__/__getattribute__
(C tp_getattro included) in any venv is marked "forwards": BUILD's state may reach whatever such an
object holds (introspect.forwarding, merge.mark_forwards).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
OUT = ROOT / "data" / "allowlist.json"
# One file per top-level package (data/allowlist/torch.json…): a scan parses only the packages a
# pickle names, where one file of every module took longer to parse than the rest of a start-up.
SHARDS = ROOT / "data" / "allowlist"
# Each allowlisted class → the nearest allowlisted classes in its MRO (merge.listed_bases): the record
# the tests hold construct-only flags to, a flagged base's subclasses flagged too.
BASES = ROOT / "data" / "allowlist-bases.json"
PYENV = Path("/root/.pyenv/versions")

# Each venv: (directory, requirements file; its "# python:" line names the CPython). Two venvs from the
# package index so that numpy 1.x and 2.x, pandas 2 and 3, scikit-learn 1.6 and 1.9 and two SciPy
# versions are all seen; a third on Debian's own python3 and packages, the older versions the
# distribution's users pickle with (torch 1.13, NumPy 1.24, pandas 1.5, scikit-learn 1.2, gensim,
# XGBoost, imbalanced-learn); a fourth with transformers 4.57 (and tokenizers 0.22), which wrote most
# of the transformers pickles there are: its class paths differ from 5.x's (BertSdpaSelfAttention,
# tokenization_utils.Trie). It needs huggingface-hub<1.0, which the package index lacks: its
# requirements install without dependency resolution and drop that bound (merge.unpin). Three more add
# libraries a precision corpus found unknown, each walking and sampling only those ("# walk:", "# sample:"):
# torchaudio 0.13 over Debian's python3 (d); spaCy/thinc, arch, astropy, sympy, geopandas/shapely/pyproj,
# igraph, rustworkx, gymnasium, ml_collections, rank_bm25, bm25s and tiktoken (e); JAX, flax and optax (f);
# scikit-rf, nibabel, python-control and arrow, walked, and cftime, bitarray, frozendict, immutabledict,
# python-flint and stim, sampled only (g); sortedcontainers, Biopython, meshio, scikit-image, matplotlib's colors,
# pycocotools, POT, pydicom, arviz, music21 and pandera, sampled only, and emcee, walked (h).
DEFAULT_VENVS = [("/tmp/al-a", "requirements-a.txt"), ("/tmp/al-b", "requirements-b.txt"),
                 ("/tmp/al-debian", "requirements-debian.txt"), ("/tmp/al-c", "requirements-c.txt"),
                 ("/tmp/al-d", "requirements-d.txt"), ("/tmp/al-e", "requirements-e.txt"), ("/tmp/al-f", "requirements-f.txt"),
                 ("/tmp/al-g", "requirements-g.txt"), ("/tmp/al-h", "requirements-h.txt")]

KINDS = {
    "class": "A class whose __new__, state restore (__setstate__ / __dict__ update) and __init__ with data "
    "arguments reach nothing dangerous; it may be constructed and called.",
    "enum": "An enum.Enum subclass: called with a member's value, or named by getattr(E, NAME).",
    "function": "Builds data from its arguments (tensor, array and object rebuilders).",
    "cython": "A Cython __pyx_unpickle_<Class> helper; it may only rebuild <Class> of its own module, "
    "given as its first argument.",
}

# ---------------------------------------------------------------------------------------------
# CURATED: reviewed by hand. (module, name, kind, argument fields, reason). Names whose fields
# say what they do with their arguments get the reason written out as "why".
# ---------------------------------------------------------------------------------------------

CONSUMES = {"iterates": [0]}
CURATED: list[tuple[str, str, str, dict, str]] = []


def curate(module: str, names: str, kind: str, reason: str, explain: bool = False, **fields) -> None:
    """explain: write the reason as "why" although the name has no argument fields (constants)."""
    for name in names.split():
        CURATED.append((module, name, kind, {**fields, **({"why": reason} if explain else {})}, reason))


# Python containers and value types. The consumers iterate their first argument: an iterator
# there (map, a generator) would run whatever it wraps, so the engine judges that argument.
curate("builtins", "list tuple set frozenset dict bytes bytearray", "class",
       "container built from its first argument, which it iterates", **CONSUMES)
curate("builtins", "int float complex bool str slice range object", "class", "plain value type")
curate("builtins", "Ellipsis NotImplemented", "class", "singleton constant; calling it raises TypeError", explain=True)
curate("collections", "deque OrderedDict Counter", "class",
       "container built from its first argument, which it iterates", **CONSUMES)
curate("collections", "defaultdict", "class",
       "calls its default_factory (argument 0) on a missing key; iterates argument 1 like dict()",
       calls=[0], iterates=[1])
curate("datetime", "datetime date time timedelta timezone tzinfo", "class", "value type")
curate("decimal", "Decimal", "class", "value type")
curate("fractions", "Fraction", "class", "value type")
# math's float functions, stored as activations or transforms; not factorial, comb, perm, prod, isqrt or lcm,
# whose integer results grow with their arguments.
curate("math", "sqrt exp exp2 expm1 log log2 log10 log1p sin cos tan asin acos atan atan2 sinh cosh tanh asinh acosh "
       "atanh erf erfc gamma lgamma degrees radians hypot fabs floor ceil trunc copysign isnan isinf isfinite isclose",
       "function", "float function: computes a number from numbers")
curate("uuid", "UUID", "class", "value type (no process: only uuid1's node lookup runs commands)")
curate("uuid", "SafeUUID", "enum", "UUID.is_safe's enum")
# pathlib's path objects are pure values: constructing one touches no file. Python 3.13 defines
# the concrete classes in pathlib._local and pickles them under that name.
for _m in ("pathlib", "pathlib._local"):
    curate(_m, "PurePath PurePosixPath PureWindowsPath Path PosixPath WindowsPath", "class",
           "path value; constructing one touches no file")
curate("argparse", "Namespace", "class", "attribute bag (saved argparse arguments)")
# Standard-library values as their own __reduce__ pickles them (protocols 0 to 5). Not random.Random:
# its __setstate__ turns a version-2 state's words into a tuple by iterating them, so a range there
# (BUILD state, which the engine does not bound) would run for as long as the range is.
curate("array", "array", "class", "array of numbers from a type code and the items of argument 1, which it iterates "
       "(protocols 0 to 2)", iterates=[1])
curate("array", "_array_reconstructor", "function",
       "_array_reconstructor(arraytype, typecode, mformat_code, bytes) calls arraytype (which must be array.array or a "
       "subclass) with the items decoded from bytes (protocols 3 to 5)", calls=[0])
curate("ipaddress", "IPv4Address IPv6Address IPv4Network IPv6Network IPv4Interface IPv6Interface", "class",
       "IP address value, pickled as the class called with its integer or its text; parsing only, no lookup")
curate("collections", "ChainMap", "class",
       "a view of several mappings: keeps the mappings it is given (a list), looked up when it is used")
curate("random", "Random", "class", "Mersenne Twister generator: seeded from its argument or the OS, its state restored "
       "from the 625 words __setstate__ is given (a version-2 state's words drawn one by one: a range there is MG109)")
curate("time", "struct_time", "class", "time tuple: built from the items of argument 0, which it iterates, and a dict "
       "of the time zone fields", iterates=[0])
curate("re", "_compile", "function", "compiles a regular expression (pickled re.Pattern objects)")
curate("_codecs", "encode", "function",
       "pickle protocol <3 writes bytes as _codecs.encode(str, 'latin1'); codec lookup only imports "
       "the standard encodings package")
curate("enum", "Enum", "enum", "base enum; called with one value it only looks up a member")
curate("typing", "Any", "class", "typing marker; constructing raises TypeError", explain=True)
# Views and iterables that call what they were given when they are iterated, indexed or set (what a
# consumer such as list() does at load): a red team handed them tzfile, bytearray and a torch layer.
curate("networkx.classes.coreviews", "FilterAtlas", "class",
       "a filtered view of a graph's atlas: its iterator and lookups call NODE_OK (argument 1) on every key", calls=[1])
for _name, _view in (("FilterAdjacency", "a graph's adjacency"), ("FilterMultiAdjacency", "a multigraph's adjacency"),
                     ("FilterMultiInner", "a multigraph's inner adjacency")):
    curate("networkx.classes.coreviews", _name, "class",
           f"a filtered view of {_view}: its iterator and lookups call NODE_OK and EDGE_OK (arguments 1 and 2)", calls=[1, 2])
curate("nltk.collections", "LazyMap", "class",
       "a lazy map: iterating or indexing it calls its function (argument 0) on the items of the lists it is given", calls=[0])
curate("datasets.utils.track", "TrackedIterableFromGenerator", "class",
       "iterating it calls its generator (argument 0) with the arguments it is given", calls=[0])
curate("datasets.iterable_dataset", "ExamplesIterable", "class",
       "iterating it calls generate_examples_fn (argument 0) with the keyword arguments it is given", calls=[0])
# Not Annotated: its first parameter may be any class, whose methods APPEND(S) on the alias would call unbound.
curate("typing", "Union Optional List Dict Tuple Callable Literal Set FrozenSet Type Sequence Mapping Iterable Iterator "
       "ClassVar Final", "class", "typing special form pickled by name; calling it raises TypeError", explain=True)
curate("inspect", "_ParameterKind", "enum",
       "inspect.Parameter's kind (an IntEnum) kept in signatures; called with one value it only looks up a member", explain=True)
curate("statistics", "NormalDist", "class", "normal distribution value (its mean and standard deviation)")
# copyreg's default object protocol.
curate("copyreg", "_reconstructor", "function",
       "_reconstructor(cls, base, state) runs base.__new__(cls) and, unless base is object, "
       "base.__init__(obj, state)", constructs=[0], calls=[1])
curate("copyreg", "__newobj__", "function", "__newobj__(cls, *args) runs cls.__new__(cls, *args)", constructs=[0])
curate("copyreg", "__newobj_ex__", "function", "__newobj_ex__(cls, args, kwargs) runs cls.__new__", constructs=[0])
curate("functools", "partial", "class",
       "partial(func, ...) calls func when the result is called; its BUILD state "
       "(func, args, kwds, dict) sets the function too", calls=[0], stateCalls=[0])

# PyTorch tensors, parameters and storages (torch.save's pickle).
curate("torch._utils",
       "_rebuild_tensor _rebuild_tensor_v2 _rebuild_tensor_v3 _rebuild_parameter _rebuild_qtensor "
       "_rebuild_sparse_tensor _rebuild_sparse_csr_tensor _rebuild_nested_tensor "
       "_rebuild_meta_tensor_no_storage _rebuild_device_tensor_from_numpy "
       "_rebuild_device_tensor_from_cpu_tensor", "function", "tensor rebuilder from storage and sizes")
curate("torch._utils", "_rebuild_parameter_with_state", "function",
       "_rebuild_parameter_with_state(data, requires_grad, hooks, state) sets state's items as attributes",
       state=3)
curate("torch._utils", "_set_obj_state", "function", "_set_obj_state(obj, state) sets state's items as attributes",
       state=1)
curate("torch._utils", "_rebuild_wrapper_subclass", "function",
       "_rebuild_wrapper_subclass(cls, ...) makes a tensor of class cls without __init__", constructs=[0])
curate("torch._tensor", "_rebuild_from_type _rebuild_from_type_v2", "function",
       "_rebuild_from_type(func, type, args, state) calls func(*args), turns it into type "
       "(as_subclass, no __init__) and hands state to its __setstate__ when the type has its own, "
       "else sets it as attributes", calls=[0], constructs=[1], state=3, setstate=3)
curate("torch.serialization", "_get_layout", "function", "maps a layout's name to the layout")
curate("torch", "Tensor Size device", "class", "tensor value types")
curate("torch.nn.parameter", "Parameter Buffer UninitializedParameter UninitializedBuffer", "class",
       "tensor subclass")
curate("torch.storage", "UntypedStorage TypedStorage _StorageBase", "class", "storage type")
curate("torch.nn.init", "uniform_ normal_ trunc_normal_ constant_ ones_ zeros_ eye_ dirac_ xavier_uniform_ "
       "xavier_normal_ kaiming_uniform_ kaiming_normal_ orthogonal_ sparse_", "function",
       "a weight initializer: fills the tensor it is given in place; stored by wrappers that call it when a layer "
       "is built, never at load (a tensor over a file's memory would be written)", notCalled=True)
# torch.utils.data is left out as an area (workers, file readers); these hold data in memory only.
curate("torch.utils.data.sampler", "Sampler SequentialSampler RandomSampler SubsetRandomSampler WeightedRandomSampler "
       "BatchSampler", "class", "a sampler: draws indices from its own fields when iterated; no worker, file or process",
       explain=True)
curate("torch.utils.data.dataset", "Dataset TensorDataset Subset ConcatDataset StackDataset", "class",
       "an in-memory dataset: indexes the tensors or datasets it holds; no worker, file or process", explain=True)
_LEGACY_STORAGES = ("FloatStorage DoubleStorage HalfStorage BFloat16Storage LongStorage IntStorage ShortStorage "
                    "CharStorage ByteStorage BoolStorage ComplexFloatStorage ComplexDoubleStorage")
curate("torch", _LEGACY_STORAGES + " QInt8Storage QUInt8Storage QInt32Storage QUInt4x2Storage QUInt2x4Storage "
       "UntypedStorage TypedStorage", "class", "storage type named in torch.save's persistent ids")
curate("torch.cuda", _LEGACY_STORAGES, "class", "storage type of legacy (pre-1.6) CUDA checkpoints")
curate("torch",
       "float32 float float64 double float16 half bfloat16 complex32 complex64 complex128 cfloat cdouble "
       "chalf uint8 uint16 uint32 uint64 int8 int16 short int32 int int64 long bool qint8 quint8 qint32 "
       "quint4x2 quint2x4 float8_e4m3fn float8_e5m2 float8_e4m3fnuz float8_e5m2fnuz float8_e8m0fnu "
       "bits8 bits16 bits1x8 bits2x4 bits4x2", "class", "torch.dtype constant; calling it raises TypeError", explain=True)
curate("torch", "strided sparse_coo sparse_csr sparse_csc sparse_bsr sparse_bsc _mkldnn jagged", "class",
       "torch.layout constant", explain=True)
curate("torch", "contiguous_format channels_last channels_last_3d preserve_format", "class",
       "torch.memory_format constant", explain=True)
curate("torch", "per_tensor_affine per_channel_affine per_tensor_symmetric per_channel_symmetric "
       "per_channel_affine_float_qparams", "class", "torch.qscheme constant", explain=True)
curate("torch.nn.functional", "relu gelu silu tanh sigmoid softmax leaky_relu elu", "function",
       "activation stored as a module attribute (TransformerEncoderLayer.activation)")
curate("torch._C._nn", "gelu", "function", "torch.nn.functional.gelu is this native function and pickles by its name")
curate("torch.nn.modules.module", "_IncompatibleKeys", "class", "namedtuple returned by load_state_dict")
# TorchScript archives' data.pkl rebuild their values with these (torch/jit/_pickle.py): each
# returns its data argument or builds a list / tensor from it.
curate("torch.jit._pickle",
       "restore_type_tag build_intlist build_doublelist build_boollist build_tensorlist build_tensor_from_id",
       "function", "TorchScript value rebuilder", context="torchscript")

# NumPy reconstructors, dtypes and scalar types, under numpy 1.x (numpy.core) and 2.x (numpy._core).
for _m in ("numpy.core", "numpy._core"):
    curate(f"{_m}.multiarray", "_reconstruct", "function",
           "_reconstruct(subtype, shape, dtype) makes an empty array of subtype without __init__", constructs=[0])
    curate(f"{_m}.multiarray", "scalar", "function", "numpy scalar from dtype and bytes")
    curate(f"{_m}.numeric", "_frombuffer", "function", "array from bytes (protocol 5 arrays)")
curate("numpy", "ndarray dtype", "class", "array and dtype")
curate("numpy",
       "float16 float32 float64 longdouble complex64 complex128 clongdouble int8 int16 int32 int64 uint8 "
       "uint16 uint32 uint64 bool_ bool object_ str_ bytes_ void intc uintc longlong ulonglong half single "
       "double datetime64 timedelta64", "class", "numpy scalar type")
curate("numpy.dtypes",
       "Float64DType Float32DType Float16DType Int64DType Int32DType Int16DType Int8DType UInt64DType "
       "UInt32DType UInt16DType UInt8DType BoolDType ObjectDType StrDType", "class", "numpy dtype class")
# NumPy ufuncs pickle by name (numpy.log1p in FunctionTransformer): stored, never to be called at
# load, since broadcasting lets one call allocate N². 1.x names them from its _multiarray_umath.
_UFUNCS = ("absolute add arccos arccosh arcsin arcsinh arctan arctan2 arctanh bitwise_and bitwise_or bitwise_xor "
           "cbrt ceil conjugate copysign cos cosh deg2rad degrees divide divmod equal exp exp2 expm1 fabs "
           "float_power floor floor_divide fmax fmin fmod frexp gcd greater greater_equal heaviside hypot invert "
           "isfinite isinf isnan isnat lcm ldexp left_shift less less_equal log log10 log1p log2 logaddexp "
           "logaddexp2 logical_and logical_not logical_or logical_xor matmul maximum minimum modf multiply "
           "negative nextafter not_equal positive power rad2deg radians reciprocal remainder right_shift rint "
           "sign signbit sin sinh spacing sqrt square subtract tan tanh trunc")
curate("numpy", _UFUNCS + " bitwise_count matvec vecdot vecmat", "function", "NumPy ufunc", notCalled=True)
curate("numpy.core._multiarray_umath", _UFUNCS, "function", "NumPy 1.x ufunc", notCalled=True)
curate("numpy.ma.core", "_mareconstruct", "function",
       "_mareconstruct(subtype, baseclass, shape, dtype) makes arrays of baseclass and subtype without __init__",
       constructs=[0, 1])
curate("numpy.ma.core", "MaskedArray", "class", "masked array")
# numpy/random/_pickle.py: __bit_generator_ctor(name) instantiates argument 0 when it is a class;
# __generator_ctor(name, ctor) / __randomstate_ctor(name, ctor) use argument 0 as it is when it is a
# bit generator object, else call ctor (argument 1, by default __bit_generator_ctor) with it. An
# object in argument 0 is never called: `instantiates`, not `calls`.
curate("numpy.random._pickle", "__bit_generator_ctor", "function",
       "instantiates argument 0 when it is a BitGenerator class", instantiates=[0])
curate("numpy.random._pickle", "__generator_ctor __randomstate_ctor", "function",
       "uses argument 0 when it is a bit generator object, else calls argument 1 (a bit generator "
       "constructor) with it, which the default constructor instantiates when it is a class",
       calls=[1], instantiates=[0])
curate("numpy.random", "__RandomState_ctor", "function",
       "numpy<1.17's name of numpy.random._pickle.__randomstate_ctor", calls=[1], instantiates=[0])
curate("numpy.random.mtrand", "RandomState", "class", "random state")
curate("numpy.random._mt19937", "MT19937", "class", "bit generator")
curate("numpy.random._pcg64", "PCG64", "class", "bit generator")

# joblib's array container; its raw bytes follow the pickle in the same file.
curate("joblib.numpy_pickle", "NumpyArrayWrapper", "class",
       "joblib's array header: joblib.load reads the array that follows it in the same file")
curate("sklearn.externals.joblib.numpy_pickle", "NumpyArrayWrapper", "class",
       "scikit-learn<0.23's vendored joblib: the same class")
# scikit-learn's Cython state is rebuilt by calling the class with its sizes.
curate("sklearn.tree._tree", "Tree", "class", "decision tree arrays (Cython)")
curate("sklearn.neighbors._kd_tree", "KDTree", "class", "KD tree arrays (Cython)")
curate("sklearn.neighbors._ball_tree", "BallTree", "class", "ball tree arrays (Cython)")
curate("sklearn._loss._loss", "CyHalfBinomialLoss CyHalfSquaredError", "class", "loss object (Cython)")

curate("pandas._libs.tslibs.nattype", "__nat_unpickle", "function", "pandas.NaT's unpickler: returns NaT")
# pandas' index rebuilders (pandas/core/indexes/*.py) run their first argument's constructor with the
# pickled data: Index.__new__ is the real constructor, PeriodIndex is called.
curate("pandas.core.indexes.base", "_new_Index", "function", "_new_Index(cls, d) runs cls.__new__(cls, **d)",
       constructs=[0])
curate("pandas.core.indexes.datetimes", "_new_DatetimeIndex", "function",
       "_new_DatetimeIndex(cls, d) runs cls._simple_new or cls.__new__(cls, **d)", constructs=[0])
curate("pandas.core.indexes.interval", "_new_IntervalIndex", "function",
       "_new_IntervalIndex(cls, d) runs cls.from_arrays(**d)", constructs=[0])
curate("pandas.core.indexes.period", "_new_PeriodIndex", "function",
       "_new_PeriodIndex(cls, **d) runs cls._simple_new or calls cls(values, **d)", calls=[0])

# Construct-only by a deeper reading than the screen's: their __init__ reaches files or processes
# through a module-level helper (a red team read a file into the model through EsmTokenizer(path)).
QUANTIZE_HANDLER_WHY = ("QuantizeHandler.__init__ walks node_pattern[-1] until it reaches an fx Node: a str never does, "
                        "so the load never ends")
ASTROPY_TIME_WHY = ("parsing a numeric string runs round(Decimal(s)), which builds 10**exponent: '1e300000' takes "
                    "seconds of CPU, '1e30000000' hours; pickles construct it (NEWOBJ) and BUILD")
FROZEN_WHY = ("__init__ calls the class of the object it is given (dist.__class__(**dist._updated_ctor_param())), "
              "so any class an object was constructed of would be called")
CATBOOST_WHY = ("__init__ reaches files (CatBoostTreeModelLoader writes and reads a temporary file through the model "
                "it is given)")
for _module, _name, _why in [
    ("transformers.models.esm.tokenization_esm", "EsmTokenizer", "load_vocab_file reads the file it is given"),
    ("transformers.models.cpmant.tokenization_cpmant", "CpmAntTokenizer", "load_vocab reads the file it is given"),
    ("accelerate.accelerator", "Accelerator", "check_os_kernel runs platform.uname, which starts a process"),
    ("accelerate.hooks", "CpuOffload", "PartialState() runs nvidia-smi (get_gpu_info)"),
    ("accelerate.optimizer", "AcceleratedOptimizer", "AcceleratorState() runs nvidia-smi (get_gpu_info)"),
    ("accelerate.state", "AcceleratorState", "PartialState() runs nvidia-smi (get_gpu_info)"),
    ("accelerate.state", "PartialState", "check_cuda_p2p_ib_support runs nvidia-smi (get_gpu_info)"),
    ("nltk.classify.senna", "Senna", "finds and runs the senna executable"),
    ("nltk.inference.discourse", "CfgReadingCommand", "load_parser opens the grammar file it is given"),
    ("nltk.parse.util", "TestGrammar", "load_parser opens the grammar file it is given"),
    ("nltk.sem.boxer", "Boxer", "finds the Boxer binaries to run"),
    ("nltk.stem.rslp", "RSLPStemmer", "reads its rule files"),
    ("nltk.tokenize.punkt", "PunktTokenizer",
     "load_lang reads the parameter files of nltk.data.find('tokenizers/punkt_tab/<lang>/'), a folder its argument names"),
    ("dateutil.zoneinfo", "ZoneInfoFile", "opens the tar file it is given"),
    ("torch._custom_op.impl", "CustomOp", "infer_schema eval()s annotations"),
    ("torch.backends.xeon.run_cpu", "_Launcher", "_CPUinfo runs lscpu"),
    # What the screen does not read: a call of the class of an object the constructor is given.
    ("scipy.stats._distn_infrastructure", "rv_frozen", FROZEN_WHY),
    ("scipy.stats._distn_infrastructure", "rv_continuous_frozen", FROZEN_WHY),
    ("scipy.stats._distn_infrastructure", "rv_discrete_frozen", FROZEN_WHY),
    ("scipy.stats._discrete_distns", "poisson_binomial_frozen", FROZEN_WHY),
    ("scipy.stats._distribution_infrastructure", "_Parameter", "__init__ calls the class of the domain it is given (domain.__class__(...))"),
    ("statsmodels.treatment.treatment_effects", "TreatmentEffect", "__init__ calls the class of the model it is given (model.__class__(endog, exog))"),
    # Found by calling every callable entry with hostile constants under an audit hook and strace
    # (a red-team probe): native reads, downloads and endless loops the source screen does not see.
    ("transformers.integrations.mistral", "MistralConverter",
     "in transformers 5 the name re-exports transformers.integrations.mistral.tokenizer.MistralConverter, "
     "whose __init__ reads the file it is given (_parse_tekken_file)"),
    ("transformers.models.edgetam.configuration_edgetam", "EdgeTamConfig",
     "__post_init__ downloads the config of timm/repvit_m1.dist_in1k (AutoConfig.from_pretrained) when it is given "
     "no backbone_config"),
    ("transformers.tokenization_utils_sentencepiece", "SentencePieceExtractor",
     "__init__ loads the SentencePiece model file it is given (SentencePieceProcessor.Load, native code: a FIFO or "
     "/dev/zero hangs the loader)"),
    *(("torch.ao.quantization.fx.quantize_handler", _handler, QUANTIZE_HANDLER_WHY) for _handler in (
        "QuantizeHandler BatchNormQuantizeHandler BinaryOpQuantizeHandler CatQuantizeHandler ConvReluQuantizeHandler "
        "CopyNodeQuantizeHandler CustomModuleQuantizeHandler DefaultNodeQuantizeHandler EmbeddingQuantizeHandler "
        "FixedQParamsOpQuantizeHandler GeneralTensorShapeOpQuantizeHandler LinearReLUQuantizeHandler "
        "RNNDynamicQuantizeHandler StandaloneModuleQuantizeHandler").split()),
    *(("astropy.time.core", _time, ASTROPY_TIME_WHY) for _time in ("Time", "TimeDelta")),
    ("igraph.drawing.graph", "GephiGraphStreamingDrawer",
     "__init__ opens a GephiConnection to the URL it is given, whose __del__ posts to it (urllib.request.urlopen)"),
    ("accelerate.utils.dataclasses", "DeepSpeedPlugin",
     "__post_init__ reads the DeepSpeed config file its hf_ds_config names (HfDeepSpeedConfig: json.load(open(path)))"),
    ("timm.data.readers.reader_image_folder", "ReaderImageFolder",
     "__init__ walks the folder it is given and reads its class_map file"),
    ("open_clip.tokenizer", "SimpleTokenizer", "__init__ reads the gzipped BPE vocabulary file its bpe_path names (gzip.open)"),
    ("igraph.drawing.cairo.plot", "CairoPlot",
     "__init__ creates or overwrites the file its target names (cairo's PDF, SVG and PostScript surfaces, native code)"),
    ("timm.data.readers.reader_image_in_tar", "ReaderImageInTar",
     "__init__ globs and opens the tar files under the folder it is given and reads its class_map file"),
    # Found by a sweep of function-local imports, which the screen resolves only for modules already imported.
    ("torch", "_TorchCompileInductorWrapper",
     "__init__ imports CompilerBisector inside the function and eval()s the config lines of the inductor cache's bisect "
     "files (code from a file at load)"),
    ("torch", "_TorchCompileAOTInductorWrapper",
     "__init__ is _TorchCompileInductorWrapper's, which eval()s the config lines of the inductor cache's bisect files"),
    ("timm.utils.model_ema", "ModelEma", "__init__(model, decay, device, resume) torch.loads the checkpoint path resume names"),
    ("transformers.models.rag.retrieval_rag", "CanonicalHFIndex",
     "__init__ downloads the dataset it is given with datasets.load_dataset (an import inside the function)"),
    ("spacy.scorer", "Scorer",
     "__init__ imports spacy.lang.<default_lang> and the language plugins installed, by a name it is given"),
    # Through a library that is not installed where the screen ran (catboost).
    ("shap.explainers._tree", "TreeEnsemble", CATBOOST_WHY),
    ("shap.explainers._tree", "TreeExplainer", CATBOOST_WHY),
    ("shap.explainers.pytree", "TreeExplainer", CATBOOST_WHY),
    # Pickles restore a Study by copyreg._reconstructor and BUILD; calling it resolves a storage URL (red team round 16).
    ("optuna.study.study", "Study",
     "__init__ runs storages.get_storage on the storage it is given, and a URL there makes an RDBStorage, which "
     "creates or connects to its database"),
]:
    curate(_module, _name, "class", f"not callable: {_why}", explain=True, notCalled=True)
curate("polars.config", "_restore_runtime_vars", "function",
       "not callable: it sets polars' runtime options from the mapping it is given", explain=True, notCalled=True)

# Found by the same probe: callables that allocate by the integers they are given (memory or CPU ran
# out when called with 10**9, twice 10**9 or a (10**5, 10**5) shape). A pickle may call some of them
# (igraph pickles Graph(n, edges, ...)), so they stay callable with "sizes": the engine bounds the
# product of their integers at load, as it does a torch layer's.
SIZED_WHY = ("allocates by the integers it is given (sizes, counts, degrees): called with 10**9, twice 10**9 or a "
             "(10**5, 10**5) shape it passed 3 GB of memory or seconds of CPU; their product is bounded at load")
for _module, _kind, _names in [
    ("arch.univariate.recursions", "class", "MIDASUpdater"),
    ("arch.univariate.recursions_python", "class", "MIDASUpdater"),
    ("arch.univariate.volatility", "class", "APARCH HARCH MIDASHyperbolic"),
    ("astropy.modeling.spline", "class", "Spline1D"),
    ("astropy.table.column", "class", "FalseArray"),
    ("astropy.utils.masked.core", "class", "MaskedNDArray"),
    ("cymem.cymem", "class", "Address"),
    ("gymnasium.envs.classic_control.cartpole", "class", "CartPoleVectorEnv"),
    ("gymnasium.wrappers.utils", "class", "RunningMeanStd"),
    ("igraph", "class", "Graph"),
    ("igraph._igraph", "class", "GraphBase"),
    ("igraph.drawing.colors", "class", "ClusterColoringPalette"),
    ("lightning.fabric.utilities.spike", "class", "SpikeDetection"),
    ("networkx.algorithms.coloring.greedy_coloring", "class", "_Node"),
    ("nltk.draw.table", "class", "MultiListbox"),
    ("nltk.translate.ibm5", "class", "Slots"),
    ("numpy._core._exceptions", "class", "_ArrayMemoryError"),
    ("numpy", "class", "ndindex"),
    ("optuna.samplers._tpe.sampler", "function", "default_weights"),
    ("preshed.maps", "class", "PreshMap PreshMapArray"),
    ("scipy.cluster._hierarchy", "class", "LinkageUnionFind"),
    ("scipy.signal._czt", "class", "CZT ZoomFFT"),
    ("scipy.sparse.linalg._special_sparse_arrays", "class", "MikotaPair"),
    ("shap.maskers._image", "class", "Image"),
    ("sklearn.cluster._hierarchical_fast", "class", "UnionFind"),
    ("sklearn.neighbors._ball_tree", "class", "NeighborsHeap32 NeighborsHeap64 NodeHeap"),
    ("sklearn.neighbors._kd_tree", "class", "NeighborsHeap32 NeighborsHeap64 NodeHeap"),
    ("sklearn.tree._criterion", "class", "MAE MSE Poisson RegressionCriterion"),
    ("statsmodels.distributions.tools", "class", "_Grid"),
    ("statsmodels.genmod.cov_struct", "class", "Stationary"),
    ("statsmodels.tsa.regime_switching.markov_switching", "class", "MarkovSwitchingParams"),
    ("statsmodels.tsa.statespace.initialization", "class", "Initialization"),
    ("statsmodels.tsa.statespace.kalman_filter", "class", "KalmanFilter"),
    ("statsmodels.tsa.statespace.kalman_smoother", "class", "KalmanSmoother"),
    ("statsmodels.tsa.statespace.representation", "class", "Representation"),
    ("statsmodels.tsa.statespace.simulation_smoother", "class", "SimulationSmoother"),
    ("statsmodels.tsa.stl._stl", "class", "STL"),
    ("thinc.initializers", "function", "uniform_init"),
    ("torch.distributions.lkj_cholesky", "class", "LKJCholesky"),
    ("torch.storage", "class", "TypedStorage"),
    ("torch_geometric.nn.models.tgn", "class", "LastNeighborLoader"),
    ("transformers.cache_utils", "class", "LinearAttentionAndFullAttentionLayer LinearAttentionAndSlidingWindowAttentionLayer LinearAttentionAndStaticFullAttentionLayer LinearAttentionLayer"),
    ("transformers.cli.add_new_model_like", "class", "ModelInfos"),
    ("transformers.generation.continuous_batching.cache_allocators.cache_pool", "class", "CachePool"),
    ("transformers.integrations.gguf.gguf_conversion_mapping", "class", "TiledToGroupedInputs TiledToGroupedRows"),
    ("transformers.models.clap.feature_extraction_clap", "class", "ClapFeatureExtractor"),
    ("transformers.models.clvp.feature_extraction_clvp", "class", "ClvpFeatureExtractor"),
    ("transformers.models.gemma3n.feature_extraction_gemma3n", "class", "Gemma3nAudioFeatureExtractor"),
    ("transformers.models.gemma4.feature_extraction_gemma4", "class", "Gemma4AudioFeatureExtractor"),
    ("transformers.models.inkling.feature_extraction_inkling", "class", "InklingFeatureExtractor"),
    ("transformers.models.lasr.feature_extraction_lasr", "class", "LasrFeatureExtractor"),
    ("transformers.models.phi4_multimodal.feature_extraction_phi4_multimodal", "class", "Phi4MultimodalFeatureExtractor"),
    ("transformers.models.qwen3_asr.feature_extraction_qwen3_asr", "class", "Qwen3ASRFeatureExtractor"),
    ("transformers.models.speecht5.feature_extraction_speecht5", "class", "SpeechT5FeatureExtractor"),
    ("transformers.models.vibevoice.generation_vibevoice", "class", "VibeVoiceTokenConstraintProcessor"),
    ("transformers.models.voxtral_realtime.feature_extraction_voxtral_realtime", "class", "VoxtralRealtimeFeatureExtractor"),
    ("transformers.models.whisper.feature_extraction_whisper", "class", "WhisperFeatureExtractor"),
]:
    curate(_module, _names, _kind, SIZED_WHY, explain=True, sizes=True)

# Found by the same probe, but costing more than the product of their integers: a 2D kernel or polynomial by the
# square of its width or degree, PoissonDisk(d) by its grid's cells, exponential in d (red team round 32: d=5 took
# 3.4 GB from 37 bytes), Halton(d) scrambled by d squared (d=10,000: 12 GB), WilcoxonDistribution(n) by n cubed in
# CPU (n=6,000: minutes), astropy's Identity(n) by some 360 bytes an input (red team round 33). Pickles make them
# by __newobj__ and state, never a call: construct-only.
SUPERLINEAR_WHY = ("not callable: allocates or computes more than the product of the integers it is given (a 2D "
                   "kernel or polynomial by the square of its size, PoissonDisk exponentially in its dimension, "
                   "Halton and WilcoxonDistribution by powers of theirs); pickles restore it by __newobj__ and state")
for _module, _names in [
    ("astropy.convolution.kernels", "AiryDisk2DKernel Box1DKernel Box2DKernel Gaussian1DKernel Gaussian2DKernel Moffat2DKernel RickerWavelet1DKernel RickerWavelet2DKernel Ring2DKernel Tophat2DKernel Trapezoid1DKernel TrapezoidDisk2DKernel"),
    ("astropy.modeling.mappings", "Identity"),
    ("astropy.modeling.polynomial", "Chebyshev1D Chebyshev2D Hermite1D Hermite2D InverseSIP Legendre1D Legendre2D OrthoPolynomialBase Polynomial1D Polynomial2D _SIP1D"),
    ("scipy.stats._qmc", "Halton PoissonDisk"),
    ("scipy.stats._wilcoxon", "WilcoxonDistribution"),
]:
    curate(_module, _names, "class", SUPERLINEAR_WHY, explain=True, notCalled=True)

# Constructors that fill what their shape or index says (red team round 24): lil_matrix((2**28, 1)) makes 2**28
# Python lists, Series(None, RangeIndex(0, 2**28)) 2**28 values. Pickles never call them (they reduce to
# copyreg.__newobj__ and a state), so their sizes, and the lengths of the ranges they are given, are bounded.
SPARSE_SIZED_WHY = "a sparse matrix or array called with a shape allocates by it (lil and dok a Python object per row or entry)"
for _fmt in ("bsr", "coo", "csc", "csr", "dia", "dok", "lil"):
    curate(f"scipy.sparse._{_fmt}", f"{_fmt}_array {_fmt}_matrix", "class", SPARSE_SIZED_WHY, explain=True, sizes=True)
    curate("scipy.sparse._arrays", f"{_fmt}_array", "class", SPARSE_SIZED_WHY, explain=True, sizes=True)
PANDAS_SIZED_WHY = "called with data and an index (a RangeIndex of N), it fills N values, or N times the columns"
curate("pandas", "Series DataFrame", "class", PANDAS_SIZED_WHY, explain=True, sizes=True)
curate("pandas.core.series", "Series", "class", PANDAS_SIZED_WHY, explain=True, sizes=True)
curate("pandas.core.frame", "DataFrame", "class", PANDAS_SIZED_WHY, explain=True, sizes=True)

# Reviewed over the screen: names the source screen rejects for code that loading does not reach.
curate("transformers.training_args", "TrainingArguments", "class",
       "training_args.bin: loaded by __newobj__ and BUILD (a dataclass without __setstate__); a call runs "
       "__post_init__, which reads the fsdp_config JSON file it is given", notCalled=True)
curate("transformers.training_args_seq2seq", "Seq2SeqTrainingArguments", "class",
       "as TrainingArguments", notCalled=True)
# trl's trainer configurations (trl 1.13): dataclasses subclassing TrainingArguments through
# trl.trainer.base_config._BaseConfig, none with __new__, __setstate__, __reduce__ or __setattr__ of its
# own; trl's trainers save them as training_args.bin. Stable trainers in trl.trainer, the others in
# trl.experimental (two, KTO and distillation, re-declared there under the package's own name).
TRL_CONFIG_WHY = ("a trl trainer's configuration saved as training_args.bin: a TrainingArguments subclass, loaded "
                  "by __newobj__ and BUILD; a call runs TrainingArguments.__post_init__ (as TrainingArguments)")
for _module, _names in [
    ("trl.trainer.base_config", "_BaseConfig"), ("trl.trainer.distillation_config", "DistillationConfig"),
    ("trl.trainer.dpo_config", "DPOConfig"), ("trl.trainer.grpo_config", "GRPOConfig"),
    ("trl.trainer.kto_config", "KTOConfig"), ("trl.trainer.reward_config", "RewardConfig"),
    ("trl.trainer.rloo_config", "RLOOConfig"), ("trl.trainer.sft_config", "SFTConfig"),
    ("trl.experimental.kto", "KTOConfig"), ("trl.experimental.distillation", "DistillationConfig"),
    *((f"trl.experimental.{_m}.{_m}_config", _n) for _m, _n in [
        ("a2po", "A2POConfig"), ("async_distillation", "AsyncDistillationConfig"), ("async_grpo", "AsyncGRPOConfig"),
        ("bco", "BCOConfig"), ("cpo", "CPOConfig"), ("gkd", "GKDConfig"), ("gmpo", "GMPOConfig"),
        ("gold", "GOLDConfig"), ("grpo_with_replay_buffer", "GRPOWithReplayBufferConfig"), ("iw_opd", "IWOPDConfig"),
        ("minillm", "MiniLLMConfig"), ("nash_md", "NashMDConfig"), ("online_dpo", "OnlineDPOConfig"),
        ("orpo", "ORPOConfig"), ("prm", "PRMConfig"), ("sdft", "SDFTConfig"), ("sdpo", "SDPOConfig"),
        ("server_distillation", "ServerDistillationConfig"), ("ssd", "SSDConfig"), ("tpo", "TPOConfig"),
        ("xpo", "XPOConfig")]),
]:
    curate(_module, _names, "class", TRL_CONFIG_WHY, notCalled=True)
curate("lightgbm.basic", "Booster", "class",
       "__setstate__ hands the pickled model text to LightGBM's own library (LGBM_BoosterLoadModelFromString "
       "through ctypes); no file, process or import. A call may load model_file", notCalled=True)
curate("sklearn.metrics._scorer", "_passthrough_scorer", "function",
       "scikit-learn<1.4's default scorer, kept as a search's scorer_: a call runs estimator.score on data",
       notCalled=True)
curate("statsmodels.regression.rolling", "RollingStore", "class",
       "RollingOLS's results record: a typing.NamedTuple in 0.15, a collections.namedtuple in 0.13, which has "
       "no source to read, so the screen judged it by its name (Store)")
curate("xgboost.core", "Booster", "class",
       "__setstate__ creates a native booster and hands it the pickled model buffer "
       "(XGBoosterUnserializeFromBuffer through ctypes), which parses parameters and trees and looks objectives "
       "up by name in XGBoost's own registry; no file, process, thread, import or nested pickle. "
       "A call may load model_file", notCalled=True)
# tokenizers' Python wrappers build their model from the files a str vocab (and merges) names; their
# pickles are copyreg.__newobj__(cls) with no arguments, then BUILD of __dict__ (checked against 0.20-0.23).
TOKENIZERS_READ_WHY = ("calling it with a str vocab (and merges) reads those files through tokenizers' models (a FIFO or "
                       "/dev/zero hangs the loader or exhausts its memory); pickles construct it without arguments")
curate("tokenizers.implementations.bert_wordpiece", "BertWordPieceTokenizer", "class", TOKENIZERS_READ_WHY, notCalled=True)
curate("tokenizers.implementations.byte_level_bpe", "ByteLevelBPETokenizer", "class", TOKENIZERS_READ_WHY, notCalled=True)
curate("tokenizers.implementations.char_level_bpe", "CharBPETokenizer", "class", TOKENIZERS_READ_WHY, notCalled=True)
curate("tokenizers.implementations.sentencepiece_bpe", "SentencePieceBPETokenizer", "class", TOKENIZERS_READ_WHY, notCalled=True)
curate("tokenizers.tools.visualizer", "EncodingVisualizer", "class",
       "calling it imports IPython to render (default_to_notebook); its pickles are copyreg.__newobj__(cls) with no "
       "arguments, then BUILD", notCalled=True)
curate("torch.nn.modules.module", "_WrappedHook", "class",
       "wraps a module hook; calls it (argument 0, or the state's 'hook') when the hook fires", calls=[0],
       stateCalls=["hook"])
curate("torch.ao.quantization.observer", "_PartialWrapper", "class",
       "an observer factory (with_args): when called it calls its p (argument 0, or the state's 'p') and each "
       "value of its state's callable_args, a partial in all but name (red team round 22)", calls=[0],
       stateCalls=["p", "callable_args"])

# Pillow's enums, which transformers' image processors keep (resample=PIL.Image.Resampling.BILINEAR): plain
# IntEnums, called with a member's value.
curate("PIL.Image", "Resampling Transpose Transform Dither Palette Quantize", "enum",
       "Pillow's IntEnum of filters and operation codes; called with a value it only looks up a member")
# Pillow's images and the image files Image.open makes (a dataset cache, a processor's sample): pickled as
# __newobj__(cls) and BUILD of [info, mode, size, palette, data] (ImageFile adds its file name, which only
# names it, and clears the tiles it would read; JpegImageFile its layers). __setstate__ allocates the pixels of
# the size before it reads the data, so BUILD is held to a guard that the data holds what the size asks for
# (src/pickle/stateGuards.ts: 65535 x 65535 RGBA took 4 GB). Construct-only: ImageFile(fp, filename) opens the
# file. Out: EPS (its load runs Ghostscript), the stub formats (their load calls a handler an application
# registers), MPEG and IPTC.
PILLOW_WHY = ("Pillow image: restored by __setstate__ from [info, mode, size, palette, data], which allocates the "
              "size's pixels (held to the data's length by the pillow-image guard); constructing it with a file opens it")
curate("PIL.Image", "Image", "class", PILLOW_WHY, explain=True, notCalled=True, stateGuard="pillow-image")
curate("PIL.ImageFile", "ImageFile", "class", PILLOW_WHY, explain=True, notCalled=True, stateGuard="pillow-image")
for _plugin, _classes in {
    "Avif": "AvifImageFile", "Blp": "BlpImageFile", "Bmp": "BmpImageFile DibImageFile", "Cur": "CurImageFile",
    "Dcx": "DcxImageFile", "Dds": "DdsImageFile", "Fits": "FitsImageFile", "Fli": "FliImageFile",
    "Ftex": "FtexImageFile", "Gbr": "GbrImageFile", "Gif": "GifImageFile", "Icns": "IcnsImageFile",
    "Ico": "IcoImageFile", "Im": "ImImageFile", "Imt": "ImtImageFile", "Jpeg2K": "Jpeg2KImageFile",
    "Jpeg": "JpegImageFile", "McIdas": "McIdasImageFile", "Mpo": "MpoImageFile", "Msp": "MspImageFile",
    "Pcd": "PcdImageFile", "Pcx": "PcxImageFile", "Pixar": "PixarImageFile", "Png": "PngImageFile",
    "Ppm": "PpmImageFile", "Psd": "PsdImageFile", "Qoi": "QoiImageFile", "Sgi": "SgiImageFile",
    "Spider": "SpiderImageFile", "Sun": "SunImageFile", "Tga": "TgaImageFile", "Tiff": "TiffImageFile",
    "WebP": "WebPImageFile", "XVThumb": "XVThumbImageFile", "Xbm": "XbmImageFile", "Xpm": "XpmImageFile",
}.items():
    curate(f"PIL.{_plugin}ImagePlugin", _classes, "class", PILLOW_WHY, explain=True, notCalled=True, stateGuard="pillow-image")
# Value types the precision corpus fp18 pickled, sampled from requirements-g.txt and reviewed: what their
# pickles call, iterate or allocate. gmpy2 is not among them: from_binary trusts the precision its bytes give
# (an mpfr of precision 10**9 crashed the interpreter). (Pillow's images are above, under a state guard.)
curate("cftime._cftime", "_create_datetime", "function",
       "cftime's pickle rebuilder: _create_datetime(cls, args, kwargs) calls cls(*args, **kwargs)", calls=[0])
BITARRAY_WHY = ("a bit array built from its first argument: an int allocates that many bits (bitarray(10**10) took "
                "1.2 GB), bounded at load; any other iterable is iterated")
curate("bitarray", "bitarray frozenbitarray", "class", BITARRAY_WHY, sizes=True, iterates=[0])
curate("bitarray._bitarray", "_bitarray_reconstructor", "function",
       "bitarray's pickle rebuilder: _bitarray_reconstructor(cls, bytes, endian, padbits, readonly) makes an object of "
       "cls (which must be bitarray or a subclass: TypeError otherwise) from the bytes, without __init__",
       constructs=[0])
curate("frozendict", "frozendict", "class", "an immutable dict built from its first argument, which it iterates like "
       "dict() (pickled as frozendict(dict))", iterates=[0])
curate("immutabledict", "immutabledict ImmutableOrderedDict", "class", "an immutable mapping built from its first "
       "argument, which it iterates like dict() (pickled as immutabledict(dict))", iterates=[0])
# Reviewed over the screen: its arithmetic dunders and __getattr__ copy the network, and copy() calls
# Network(z0=, s_def=, comments=), never with the file argument whose branch opens and unpickles the file.
curate("skrf.network", "Network", "class",
       "not callable: Network(file) opens and unpickles (or parses) the file it is given; pickles restore it by "
       "copyreg and __setstate__ (a __dict__ update), and its dunders' copy() constructs Network without a file",
       notCalled=True)
# Precision corpora fp17 and fp18, sampled from requirements-h.txt and reviewed. sortedcontainers' collections pickle
# as their class called with their items and key function (SortedKeyList([values], key)), so they are callable: each
# iterates its items and calls its key on every one (a key other than None makes SortedList a SortedKeyList).
SORTED_WHY = ("a sorted collection built from the items of argument {it}, which it iterates and sorts, calling its key "
              "function (argument {key}, when not None) on every item")
curate("sortedcontainers.sortedlist", "SortedList SortedKeyList", "class", SORTED_WHY.format(it=0, key=1), iterates=[0],
       calls=[1])
curate("sortedcontainers.sortedset", "SortedSet", "class", SORTED_WHY.format(it=0, key=1), iterates=[0], calls=[1])
curate("sortedcontainers.sorteddict", "SortedDict", "class",
       "a sorted dict: argument 0 is its key function when it is None or callable (called on every key), else the "
       "first iterable of items; the items (argument 0 or 1) are iterated like dict()", calls=[0], iterates=[0, 1])
curate("matplotlib.colors", "_create_empty_object_of_class", "function",
       "matplotlib's norm rebuilder: _create_empty_object_of_class(cls) runs cls.__new__(cls)", constructs=[0])
STORED_SETTING_WHY = ("not callable: a function an object keeps as a setting (a check, a prior, an estimator, an error "
                      "handler) and calls when it is used; never called at load")
curate("matplotlib.cbook", "_exception_printer", "function", STORED_SETTING_WHY, explain=True, notCalled=True)
curate("ot.da", "distribution_estimation_uniform", "function", STORED_SETTING_WHY, explain=True, notCalled=True)
curate("pandera.backends.base.builtin_checks", "in_range isin", "function", STORED_SETTING_WHY, explain=True,
       notCalled=True)
curate("optuna._gp.prior", "default_log_prior", "function", STORED_SETTING_WHY, explain=True, notCalled=True)
# astropy's cosmologies keep their scalar inverse E(z) (a Cython function of floats) as _inv_efunc_scalar.
curate("astropy.cosmology._src.flrw.scalar_inv_efuncs", " ".join(
       f"{_p}{_m}_inv_efunc{_s}" for _p in ("", "f") for _m in ("lcdm", "wcdm", "w0wacdm", "w0wzcdm", "wpwacdm")
       for _s in ("", "_nomnu", "_norel")), "function", STORED_SETTING_WHY, explain=True, notCalled=True)

# gymnasium's spaces pickle by __reduce_ex__ and state, never a call: Box(low, high, shape) allocates its bounds by
# the shape it is given (red team round 36: (30000, 30000), 14 GB from 60 bytes), and MultiDiscrete's __setstate__
# makes np.zeros(state["_shape"]) for a legacy state without "start" (src/pickle/stateGuards.ts).
GYM_SPACE_WHY = ("not callable: gymnasium's spaces pickle by __reduce_ex__ and state; constructors allocate their bounds "
                 "by the shape they are given, and a state's _shape is held to the bound (its __setstate__ may allocate it)")
for _m, _c in (("box", "Box"), ("discrete", "Discrete"), ("multi_discrete", "MultiDiscrete"), ("multi_binary", "MultiBinary"),
               ("space", "Space"), ("text", "Text"), ("tuple", "Tuple"), ("dict", "Dict"), ("graph", "Graph"),
               ("sequence", "Sequence"), ("oneof", "OneOf")):
    curate(f"gymnasium.spaces.{_m}", _c, "class", GYM_SPACE_WHY, explain=True, notCalled=True, stateGuard="gymnasium-space")

# Conventions the engine models (src/pickle/analyst.ts), and standard-library values pickles meet.
curate("re", "RegexFlag", "enum", "re's flags (pickled by value, or getattr(RegexFlag, NAME))")
curate("http", "HTTPStatus", "enum", "HTTP status codes: a value enum, no connection")
curate("enum", "IntEnum IntFlag Flag StrEnum", "enum", "enum base class; called with a value it looks up a member")
curate("zoneinfo", "ZoneInfo", "class",
       "time zone value: ZoneInfo(key) reads the tz database, and refuses absolute keys or keys with '..'")
curate("zoneinfo", "ZoneInfo._unpickle", "function",
       "ZoneInfo's own pickle rebuilder (getattr(ZoneInfo, '_unpickle')(key, from_cache)): ZoneInfo(key)")
curate("builtins",
       "ArithmeticError AssertionError AttributeError BaseException BlockingIOError BrokenPipeError BufferError "
       "BytesWarning ChildProcessError ConnectionAbortedError ConnectionError ConnectionRefusedError "
       "ConnectionResetError DeprecationWarning EOFError EncodingWarning EnvironmentError Exception "
       "FileExistsError FileNotFoundError FloatingPointError FutureWarning IOError ImportError ImportWarning "
       "IndentationError IndexError InterruptedError IsADirectoryError KeyError LookupError MemoryError "
       "ModuleNotFoundError NameError NotADirectoryError NotImplementedError OSError OverflowError "
       "PendingDeprecationWarning PermissionError ProcessLookupError RecursionError ReferenceError "
       "ResourceWarning RuntimeError RuntimeWarning StopAsyncIteration StopIteration SyntaxError SyntaxWarning "
       "SystemError TabError TimeoutError TypeError UnboundLocalError UnicodeDecodeError UnicodeEncodeError "
       "UnicodeError UnicodeTranslateError UnicodeWarning UserWarning ValueError Warning ZeroDivisionError",
       "class", "exception value: constructing one stores its arguments and runs nothing")
for _m in ("operator", "_operator"):
    curate(_m, "or_ and_ xor not_ eq ne lt le gt ge truth is_ is_not neg pos invert index abs", "function",
           "operator on its arguments' own values; allocates nothing by a size (stored by NLTK and others)")
# transformers' data collators, pickled with a Trainer's state or a training script's config (a fifth precision
# measurement): dataclasses holding a tokenizer and padding options, restored by __newobj__ and their __dict__
# (no __setstate__, __getattr__ or finalizer; __post_init__ runs only when one is constructed). Construct-only.
curate("transformers.data.data_collator",
       "DataCollatorForLanguageModeling DataCollatorForMultipleChoice DataCollatorForPermutationLanguageModeling "
       "DataCollatorForSOP DataCollatorForSeq2Seq DataCollatorForTokenClassification DataCollatorForWholeWordMask "
       "DataCollatorMixin DataCollatorWithFlattening DataCollatorWithPadding DefaultDataCollator", "class",
       "a data collator: a dataclass of a tokenizer and padding options, restored by its __dict__; called on batches "
       "when a model trains, never at load", explain=True, notCalled=True)
# SciPy's RigidTransform pickles as (RigidTransform.from_matrix, (matrix,)): a classmethod that builds the
# transform from the 4 x 4 matrices it is given (arrays the pickle holds), nothing else.
curate("scipy.spatial.transform._rigid_transform", "RigidTransform.from_matrix", "function",
       "RigidTransform's pickle rebuilder: builds the transform from the 4 x 4 matrices it is given", explain=True)
# Methods pickles name exactly (getattr(obj, name), or a nested qualified name): each computes numbers
# from numbers (annealing and scale formulas, interpolation kernels).
curate("torch.optim.lr_scheduler", "OneCycleLR._annealing_cos OneCycleLR._annealing_linear "
       "CyclicLR._triangular_scale_fn CyclicLR._triangular2_scale_fn CyclicLR._exp_range_scale_fn", "function",
       "a scheduler's annealing or scale formula; scheduler state keeps it as a method reference")
curate("torch.optim.swa_utils", "SWALR._cosine_anneal SWALR._linear_anneal", "function",
       "SWALR's annealing formula; its state keeps it as a method reference")
curate("scipy.interpolate._interpolate", "interp1d._call_linear interp1d._call_linear_np interp1d._call_nan_spline "
       "interp1d._call_nearest interp1d._call_previousnext interp1d._call_spline", "function",
       "interp1d's interpolation kernel for its kind, kept as a method reference in its state")
curate("types", "SimpleNamespace", "class", "attribute bag, like argparse.Namespace")
curate("builtins", "hash", "function", "hash of its argument's value")
curate("builtins", "pow", "function", "a number raised to a power: stored by a scheduler's partial "
       "(MultiplicativeLR(partial(pow, 0.99))) and called when the model is used; at load a large exponent would "
       "build an integer of any size", notCalled=True)
# dateutil's tzfile(fileobj, filename) reads the zone file fileobj names; its __reduce__ is
# tzfile(None, filename), which reads nothing (a datetime with tz.gettz(...), pandas' "dateutil/" zones).
TZFILE_WHY = ("opens the zone file its first argument (fileobj) names; pickles rebuild one as tzfile(None, filename), "
              "which reads nothing")
curate("dateutil.tz.tz", "tzfile", "class", TZFILE_WHY, opens=0)
curate("dateutil.zoneinfo", "tzfile", "class", TZFILE_WHY, opens=0)
# Functions models keep as references (a metric, a loss, an aggregation) and call when they are used
# (helper-80's corpus: KNeighborsClassifier(metric=cosine), {"loss_fn": F.cross_entropy}, {"agg": len}).
STORED_FUNCTION_WHY = ("not callable: a function a model keeps as a reference (a metric, a loss, an aggregation) and "
                       "calls when it is used; never called at load")
curate("builtins", "len abs max min sorted sum round any all", "function", STORED_FUNCTION_WHY, explain=True, notCalled=True)
curate("scipy.spatial.distance", "braycurtis canberra chebyshev cityblock correlation cosine dice euclidean hamming "
       "jaccard jensenshannon mahalanobis minkowski rogerstanimoto russellrao seuclidean sokalsneath sqeuclidean yule",
       "function", STORED_FUNCTION_WHY, explain=True, notCalled=True)
curate("torch.nn.functional", "binary_cross_entropy binary_cross_entropy_with_logits cosine_embedding_loss cross_entropy "
       "gaussian_nll_loss hinge_embedding_loss huber_loss kl_div l1_loss margin_ranking_loss mse_loss "
       "multilabel_margin_loss multilabel_soft_margin_loss multi_margin_loss nll_loss poisson_nll_loss smooth_l1_loss "
       "soft_margin_loss triplet_margin_loss", "function", STORED_FUNCTION_WHY, explain=True, notCalled=True)
curate("optuna.samplers._tpe.sampler", "default_gamma hyperopt_default_gamma", "function",
       "TPE's gamma formula (min(ceil(0.1 * n), 25) and hyperopt's); a study keeps it as its sampler's gamma")
curate("networkx.classes.function", "frozen", "function",
       "nx.freeze's stand-in for a frozen graph's mutating methods: it only raises NetworkXError")
curate("torch._C", "_VariableFunctionsClass", "class",
       "torch's namespace of native functions; constructing it raises, its methods are listed one by one", explain=True)
curate("torch._C", " ".join(f"_VariableFunctionsClass.{f}" for f in
       "tanh sigmoid relu exp log abs sqrt sin cos neg sign floor ceil round log1p expm1 erf".split()), "function",
       "elementwise torch function; a stored torch.tanh pickles as getattr(torch._C._VariableFunctionsClass, 'tanh')")
curate("dill._dill", "_create_array", "function",
       "dill's array rebuilder: calls argument 0 with argument 1, hands argument 2 to the result's __setstate__ "
       "and sets argument 3 as attributes", calls=[0], state=3, setstate=2)
curate("jax._src.array", "_reconstruct_array", "function",
       "jax.Array's rebuilder (every pickled jax array): calls argument 0 with argument 1 (NumPy's array "
       "_reconstruct), hands argument 2 to the result's __setstate__, copies it to the CPU device and updates the "
       "abstract value's fields from argument 3 (aval.update(**aval_state): weak_type, sharding)", calls=[0], setstate=2)

# SciPy's special functions are ufuncs pickled by name (expit in a FunctionTransformer): stored, never called
# at load, as NumPy's. SciPy 1.17 defines some in _special_ufuncs (re-exported by _ufuncs, where older
# releases defined them all).
_SCIPY_SPECIAL_UFUNCS = (
    "airy airye bei beip ber berp besselpoly beta betaln binom cbrt cosdg cosm1 cotdg dawsn ellipe "
    "ellipeinc ellipj ellipk ellipkinc ellipkm1 erf erfc erfcx erfi exp1 exp10 exp2 expi expit expm1 "
    "exprel fresnel gamma gammainc gammaincc gammainccinv gammaincinv gammaln gammasgn hankel1 hankel1e "
    "hankel2 hankel2e hyp2f1 i0 i0e i1 i1e it2i0k0 it2j0y0 it2struve0 itairy iti0k0 itj0y0 itmodstruve0 "
    "itstruve0 iv ive j0 j1 jv jve k0 k0e k1 k1e kei keip kelvin ker kerp kv kve log1p log_expit log_ndtr "
    "log_wright_bessel loggamma logit mathieu_a mathieu_b mathieu_cem mathieu_modcem1 mathieu_modcem2 "
    "mathieu_modsem1 mathieu_modsem2 mathieu_sem modfresnelm modfresnelp modstruve ndtr obl_ang1 "
    "obl_ang1_cv obl_cv obl_rad1 obl_rad1_cv obl_rad2 obl_rad2_cv pbdv pbvv pbwa pro_ang1 pro_ang1_cv "
    "pro_cv pro_rad1 pro_rad1_cv pro_rad2 pro_rad2_cv psi radian rgamma sindg struve tandg voigt_profile "
    "wofz wright_bessel xlog1py xlogy y0 y1 yv yve zetac "
)
curate("scipy.special._special_ufuncs", _SCIPY_SPECIAL_UFUNCS, "function", "SciPy special-function ufunc", notCalled=True)
curate("scipy.special._ufuncs", _SCIPY_SPECIAL_UFUNCS + (
    "agm bdtr bdtrc bdtri bdtrik bdtrin betainc betaincc betainccinv betaincinv boxcox boxcox1p btdtria "
    "btdtrib chdtr chdtrc chdtri chdtriv chndtr chndtridf chndtrinc chndtrix elliprc elliprd elliprf "
    "elliprg elliprj entr erfcinv erfinv eval_chebyc eval_chebys eval_chebyt eval_chebyu eval_gegenbauer "
    "eval_genlaguerre eval_hermite eval_hermitenorm eval_jacobi eval_laguerre eval_legendre "
    "eval_sh_chebyt eval_sh_chebyu eval_sh_jacobi eval_sh_legendre expn fdtr fdtrc fdtri fdtridfd gdtr "
    "gdtrc gdtria gdtrib gdtrix huber hyp0f1 hyp1f1 hyperu inv_boxcox inv_boxcox1p jn kl_div kn kolmogi "
    "kolmogorov lpmv nbdtr nbdtrc nbdtri nbdtrik nbdtrin ncfdtr ncfdtri ncfdtridfd ncfdtridfn ncfdtrinc "
    "nctdtr nctdtridf nctdtrinc nctdtrit ndtri ndtri_exp nrdtrimn nrdtrisd owens_t pdtr pdtrc pdtri "
    "pdtrik poch powm1 pseudo_huber rel_entr round shichi sici smirnov smirnovi spence stdtr stdtridf "
    "stdtrit tklmbda wrightomega yn "
), "function", "SciPy special-function ufunc", notCalled=True)
# Excluded by the screen for methods loading never runs: xarray's Dataset for __dask_exprs__ (a dask hook),
# sentencepiece's processor for Load, which __setstate__ never calls (it parses the pickled model proto in
# memory). Rebuilt by __newobj__ and BUILD; calling either is not allowed (the processor's model_file= reads it).
curate("xarray.core.dataset", "Dataset", "class", "an xarray Dataset, rebuilt by copyreg.__newobj__ and slot state",
       notCalled=True, forwards=True)
curate("sentencepiece", "SentencePieceProcessor", "class",
       "not callable: model_file= reads the file it names; __setstate__ parses the pickled model proto in memory",
       notCalled=True)

SKLEARN_STORED_WHY = ("scikit-learn metric, kernel or score function: fitted objects store it (a search's scorer, "
                      "SelectKBest's score_func, an SVC kernel) and call it when the model is used, never at load")
NUMPY_STORED_WHY = ("NumPy array function: fitted objects store it (FunctionTransformer's func) and call it when "
                    "the model is used, never at load")
# Functions fitted objects store and call only when the model is used: scikit-learn's metrics, kernels
# and score functions (a search's scorer, SelectKBest's score_func, an SVC kernel) and NumPy's array
# functions (FunctionTransformer's func). Public functions of these modules in scikit-learn 1.6 and 1.9.
_SKLEARN_STORED_FUNCTIONS = {
    "sklearn.feature_selection._mutual_info": (
        "mutual_info_classif mutual_info_regression"
    ),
    "sklearn.feature_selection._univariate_selection": (
        "chi2 f_oneway f_regression r_regression"
    ),
    "sklearn.metrics._classification": (
        "accuracy_score balanced_accuracy_score brier_score_loss class_likelihood_ratios "
        "classification_report cohen_kappa_score confusion_matrix d2_brier_score d2_log_loss_score "
        "f1_score fbeta_score hamming_loss hinge_loss jaccard_score log_loss matthews_corrcoef "
        "multilabel_confusion_matrix precision_recall_fscore_support precision_score recall_score "
        "zero_one_loss"
    ),
    "sklearn.metrics._ranking": (
        "auc average_precision_score confusion_matrix_at_thresholds coverage_error dcg_score det_curve "
        "label_ranking_average_precision_score label_ranking_loss metric_at_thresholds ndcg_score "
        "precision_recall_curve roc_auc_score roc_curve top_k_accuracy_score"
    ),
    "sklearn.metrics._regression": (
        "d2_absolute_error_score d2_pinball_score d2_tweedie_score explained_variance_score max_error "
        "mean_absolute_error mean_absolute_percentage_error mean_gamma_deviance mean_pinball_loss "
        "mean_poisson_deviance mean_squared_error mean_squared_log_error mean_tweedie_deviance "
        "median_absolute_error r2_score root_mean_squared_error root_mean_squared_log_error"
    ),
    "sklearn.metrics.cluster._supervised": (
        "adjusted_mutual_info_score adjusted_rand_score check_clusterings completeness_score "
        "contingency_matrix entropy fowlkes_mallows_score homogeneity_completeness_v_measure "
        "homogeneity_score mutual_info_score normalized_mutual_info_score pair_confusion_matrix "
        "rand_score v_measure_score"
    ),
    "sklearn.metrics.cluster._unsupervised": (
        "calinski_harabasz_score check_number_of_labels davies_bouldin_score silhouette_samples "
        "silhouette_score"
    ),
    "sklearn.metrics.pairwise": (
        "additive_chi2_kernel check_paired_arrays check_pairwise_arrays chi2_kernel cosine_distances "
        "cosine_similarity distance_metrics euclidean_distances haversine_distances kernel_metrics "
        "laplacian_kernel linear_kernel manhattan_distances nan_euclidean_distances "
        "paired_cosine_distances paired_distances paired_euclidean_distances paired_manhattan_distances "
        "pairwise_distances pairwise_distances_argmin pairwise_distances_argmin_min "
        "pairwise_distances_chunked pairwise_kernels polynomial_kernel rbf_kernel sigmoid_kernel"
    ),
}
for _m, _names in _SKLEARN_STORED_FUNCTIONS.items():
    curate(_m, _names, "function", SKLEARN_STORED_WHY, notCalled=True)
curate("numpy.linalg", "norm det inv pinv svd eigh eigvalsh qr cholesky solve lstsq matrix_rank slogdet", "function",
       NUMPY_STORED_WHY, notCalled=True)
curate("numpy", "amax amin argmax argmin argsort around average clip concatenate cumprod cumsum diff hstack max median min nan_to_num nanmax nanmean nanmedian nanmin nanstd nansum nanvar percentile prod ptp quantile ravel reshape round sort squeeze stack std sum transpose unique var vstack where", "function", NUMPY_STORED_WHY, notCalled=True)

# Bound methods fitted objects store (pickled as getattr(obj, name), the getattr convention): a
# HistGradientBoosting estimator's scorer keeps its _raw_predict, a vectorizer its tokenizer's
# tokenize, a stemmer pipeline stem; scikit-learn keeps partial(check_array) for validation.
# Called when the model is used, never at load.
BOUND_METHOD_WHY = "a bound method fitted objects store and call when the model is used, never at load"
curate("sklearn.ensemble._hist_gradient_boosting.gradient_boosting",
       "HistGradientBoostingClassifier._raw_predict HistGradientBoostingRegressor._raw_predict", "function",
       BOUND_METHOD_WHY, notCalled=True)
curate("nltk.tokenize.casual", "TweetTokenizer.tokenize", "function", BOUND_METHOD_WHY, notCalled=True)
curate("nltk.tokenize.regexp", "RegexpTokenizer.tokenize WordPunctTokenizer.tokenize WhitespaceTokenizer.tokenize "
       "BlanklineTokenizer.tokenize", "function", BOUND_METHOD_WHY, notCalled=True)
# SnowballStemmer(language) keeps its language's stemmer's stem (a fifth precision measurement: German).
curate("nltk.stem.snowball", " ".join(f"{_lang}Stemmer.stem" for _lang in (
    "Arabic Danish Dutch English Finnish French German Hungarian Italian Norwegian Portuguese Romanian Russian "
    "Spanish Swedish").split()), "function", BOUND_METHOD_WHY, notCalled=True)
# gaussian_kde keeps its bandwidth rule as covariance_factor: the bound scotts_factor or silverman_factor.
curate("scipy.stats._kde", "gaussian_kde.scotts_factor gaussian_kde.silverman_factor", "function", BOUND_METHOD_WHY,
       notCalled=True)
curate("nltk.stem.porter", "PorterStemmer.stem", "function", BOUND_METHOD_WHY, notCalled=True)
curate("nltk.stem.lancaster", "LancasterStemmer.stem", "function", BOUND_METHOD_WHY, notCalled=True)
# spaCy's lexical attribute getters, pickled by reference in a Vocab's lex_attr_getters (a nested pickle
# spacy.vocab.unpickle_vocab loads); the languages are those whose lex_attrs module defines like_num.
SPACY_LEX_WHY = ("a lexical attribute getter: spaCy's Vocab keeps it (lex_attr_getters, pickled inside the Vocab) "
                 "and calls it when it makes a lexeme, never at load")
curate("spacy.lang.lex_attrs",
       "get_lang is_alpha is_ascii is_bracket is_currency is_digit is_left_punct is_lower "
       "is_punct is_quote is_right_punct is_space is_stop is_title is_upper like_email "
       "like_num like_url lower prefix suffix word_shape", "function",
       SPACY_LEX_WHY, notCalled=True)
for _lang in ("am ar az bg bo ca cs da dsb el en es eu fa fi fr grc he hi hsb ht hy id kmr ko ky la lb lg "
              "lt mk ml ms ne nl pl pt ro ru sa si sk sl sr sv ta te th ti tl tn tr tt uk ur vi yo zh").split():
    curate(f"spacy.lang.{_lang}.lex_attrs", "like_num", "function", SPACY_LEX_WHY, notCalled=True)
# ... and the few other getters some languages define.
for _lang, _names in (
        ("hi", "norm"), ("ht", "norm_custom"), ("id", "is_currency"), ("kmr", "is_digit"), ("ms", "is_currency"),
        ("ne", "norm"), ("sl", "is_currency"), ("ta", "suffix_filter"), ("yo", "strip_accents_text")):
    curate(f"spacy.lang.{_lang}.lex_attrs", _names, "function", SPACY_LEX_WHY, notCalled=True)
curate("spacy.util", "_get_attr_unless_lookup", "function",
       "looks a string up in its lookup tables, else calls default_func (argument 0) on it: kept in partials among a "
       "Vocab's lex_attr_getters, called when a lexeme is made, never at load", notCalled=True)
curate("spacy.strings", "StringStore", "class",
       "spaCy's string interning table (Cython), built from the strings it is given; no file", explain=True)
# statsmodels' fitted models keep their own methods: a fitted ETSModel its loglike (use_internal_loglike puts
# it back in the instance), KernelReg its estimators (self.est), the zero-inflated models the hessian of
# their inflation link (self._hessian_inflate); SciPy's legacy Rbf its kernel (self._function). Each
# computes numbers from the model's arrays.
curate("statsmodels.tsa.exponential_smoothing.ets", "ETSModel.loglike", "function", BOUND_METHOD_WHY, notCalled=True)
curate("statsmodels.nonparametric.kernel_regression", "KernelReg._est_loc_constant KernelReg._est_loc_linear "
       "KernelCensoredReg._est_loc_constant KernelCensoredReg._est_loc_linear", "function", BOUND_METHOD_WHY,
       notCalled=True)
curate("statsmodels.discrete.count_model", " ".join(
       f"{c}.{m}" for c in "GenericZeroInflated ZeroInflatedPoisson ZeroInflatedGeneralizedPoisson "
       "ZeroInflatedNegativeBinomialP".split() for m in ("_hessian_logit", "_hessian_probit")), "function",
       BOUND_METHOD_WHY, notCalled=True)
curate("scipy.interpolate._rbf", " ".join(f"Rbf._h_{k}" for k in "multiquadric inverse_multiquadric gaussian linear "
       "cubic quintic thin_plate".split()), "function", BOUND_METHOD_WHY, notCalled=True)
# Module functions a library's objects store as a setting and call when they are used: gensim's Phrases
# keeps its scorer (scoring="default" / "npmi"), a pandas Holiday its observance rule. Both compute a
# number or a date from their arguments; nothing calls them at load, and a call would work on the
# objects the pickle hands them (observance rules call dt.weekday()).
curate("gensim.models.phrases", "original_scorer npmi_scorer", "function",
       "a Phrases model's bigram scorer (its scoring setting): arithmetic on counts, called when phrases are "
       "scored, never at load", notCalled=True)
curate("pandas.tseries.holiday", "next_monday next_monday_or_tuesday previous_friday sunday_to_monday "
       "weekend_to_monday nearest_workday next_workday previous_workday before_nearest_workday "
       "after_nearest_workday", "function",
       "a Holiday's observance rule: date arithmetic on the date it is given, called when holidays are listed, "
       "never at load", notCalled=True)
# pyarrow's type factories, which each DataType's __reduce__ names (pickled pandas ArrowDtype columns): each
# builds an immutable type descriptor from types, fields, integers and names; no array is allocated.
ARROW_TYPE_WHY = "pyarrow type factory: builds a type descriptor (what a pickled DataType's __reduce__ names)"
curate("pyarrow.lib", "binary decimal32 decimal64 decimal128 decimal256 large_list list_view large_list_view map_ "
       "run_end_encoded uuid bool8 json_ opaque", "function", ARROW_TYPE_WHY)
curate("pyarrow.lib", "struct", "function", ARROW_TYPE_WHY + "; iterates its fields (argument 0)", iterates=[0])
curate("pyarrow.lib", "union", "function", ARROW_TYPE_WHY + "; iterates its child fields and type codes (arguments 0 "
       "and 2)", iterates=[0, 2])
curate("pyarrow.lib", "fixed_shape_tensor", "function", ARROW_TYPE_WHY + "; iterates its shape, dimension names and "
       "permutation (arguments 1 to 3)", iterates=[1, 2, 3])
# ETSModel._smoothing_func: one of four Cython smoothers, compiled without bounds checks: it writes
# into the arrays it is given by indices from their shapes, so it may never run at load.
curate("statsmodels.tsa.exponential_smoothing._ets_smooth",
       "_ets_smooth_add_add _ets_smooth_add_mul _ets_smooth_mul_add _ets_smooth_mul_mul", "function",
       "an ETS model's smoother, which a fitted ETSModel keeps (_smoothing_func) and calls when it is used; compiled "
       "without bounds checks, it writes into the arrays it is given, so it is never called at load", notCalled=True)
# A lazy module not yet run pickles its hooks (in _WrappedHook) as getattr(module, "_infer_parameters")
# and getattr(module, "_lazy_load_hook"): torch calls them on the first forward and on load_state_dict.
LAZY_HOOK_WHY = "a lazy module's hook: torch calls it on the module's first forward or load_state_dict, never at load"
for _module, _classes in [("torch.nn.modules.linear", "LazyLinear"),
                          ("torch.nn.modules.conv", "LazyConv1d LazyConv2d LazyConv3d LazyConvTranspose1d "
                                                    "LazyConvTranspose2d LazyConvTranspose3d"),
                          ("torch.nn.modules.batchnorm", "LazyBatchNorm1d LazyBatchNorm2d LazyBatchNorm3d"),
                          ("torch.nn.modules.instancenorm", "LazyInstanceNorm1d LazyInstanceNorm2d LazyInstanceNorm3d")]:
    curate(_module, " ".join(f"{c}.{m}" for c in _classes.split() for m in ("_infer_parameters", "_lazy_load_hook")),
           "function", LAZY_HOOK_WHY, notCalled=True)
curate("sklearn.utils.validation", "check_array", "function",
       "input validation scikit-learn stores as partial(check_array); called when the model is used, never at load",
       notCalled=True)

TOKENIZERS_MODEL_WHY = ("a PyO3 class whose __new__, which copyreg's __newobj__ runs, reads the vocab (and merges) files a str "
                        "argument names (a FIFO or /dev/zero hangs the loader or exhausts its memory); a Tokenizer pickles "
                        "its model inside its JSON state")
TORCH_OPENERS_WHY = ("torch.serialization's file and buffer openers: constructing or calling one opens, truncates "
                     "or maps a file; no model pickles them")
# Reviewed exclusions: names a scan meets that must not be allowlisted, whatever the introspection
# finds (the screen's own rejections are added to these with their reasons).
EXCLUDED: dict[str, str] = {
    # Red team round 36: their constructors make a cloud client (google.cloud.storage.Client(), boto3.client("s3")),
    # whose credential discovery reaches the network (the instance metadata server) at load.
    **{n: "a cloud artifact store: constructing it makes a cloud SDK client, whose credential discovery reaches the "
          "network" for n in ("optuna.artifacts._gcs.GCSArtifactStore", "optuna.artifacts._boto3.Boto3ArtifactStore")},
    "igraph.app.shell.ClassicPythonShell": "its __call__ opens code.InteractiveConsole, which runs what stdin gives as Python",
    # Found by a red team (round 16) calling constructors under an audit hook: the screen does not follow SQLAlchemy.
    "optuna.storages._rdb.storage.RDBStorage": "__init__ and __setstate__ make an SQLAlchemy engine for the URL they "
        "are given and create its tables (metadata.create_all): an SQLite URL creates a database file at any path, a "
        "server URL connects to it",
    # Found by red teams (rounds 17 and 19): methods that run at load call an attribute the state sets, with values
    # the pickle gives (SETITEMS' keys, APPENDS' items), so whatever callable a BUILD plants there runs unseen. The
    # screen reads self.<attribute>(…) as a method call and finds no such method. No model pickles either.
    "torch.utils.weak.WeakIdKeyDictionary": "__setitem__ (SETITEMS) calls self.ref_type(key, self._remove), "
        "attributes its state sets",
    "torch.utils._appending_byte_serializer.AppendingByteSerializer": "extend and append (APPENDS) call "
        "self._serialize_fn(self._writer, item), attributes its state sets",
    # Native constructors that crash the loader (SIGSEGV), found by the red-team probe of every callable.
    "torch._C._WeakTensorRef": "a native class whose constructor dereferences what it is given as a tensor: anything "
        "else crashes the loader (SIGSEGV)",
    "scipy.spatial._qhull._Qhull": "a Cython class that crashes the loader (SIGSEGV) when made with any arguments, none included",
    # Found by a red team's deeper screen, which follows module-level helpers (screen.py follows self
    # calls only): what they reach runs through a helper function, not a method.
    "sklearn.callback._scoring_monitor.ScoringMonitor": "__setstate__ connects to the address its state names "
        "(can_reuse_listener, then multiprocessing's Client); a call does as well",
    "accelerate.data_loader.DataLoaderDispatcher": "iterating it broadcasts and pickle.loads batches from other processes",
    "joblib.numpy_pickle_compat.NDArrayWrapper":
        "joblib<0.10 array header: joblib.load opens and np.loads a sibling file whose name the pickle gives",
    "builtins.NoneType": "not an attribute of builtins; NoneType pickles as type(None), which is builtins.type",
    # nibabel's array proxies that the screen passed: converting one to an array reads its frames from the file
    # object its state names (ECAT) or the MINC file it wraps, into an array of the shape its state gives; in-memory
    # images do not pickle them.
    **{n: "an array proxy: __array__ and __getitem__ read the frames of the file object its state names into an "
          "array of the shape its state gives" for n in ("nibabel.ecat.EcatImageArrayProxy", "nibabel.minc1.MincImageArrayProxy")},
    "emcee.backends.hdf.HDFBackend": "a sampler backend in an HDF5 file: its properties and methods open the file its "
        "state names (h5py.File(self.filename)); in-memory backends (emcee.backends.Backend) are allowed",
    "torch.storage._load_from_bytes": "runs torch.load on embedded bytes",
    **{f"torch.serialization.{n}": TORCH_OPENERS_WHY for n in (
        "_open_buffer_reader _open_buffer_writer _open_file _open_zipfile_reader _open_zipfile_writer_buffer "
        "_open_zipfile_writer_file _opener set_default_mmap_options").split()},
    # rv_generic.__setstate__ updates __dict__ from the pickle, then exec()s its _parse_arg_template:
    # a crafted state runs arbitrary code. Every scipy.stats distribution inherits it.
    "scipy.stats._distn_infrastructure.rv_generic": "__setstate__ exec()s _parse_arg_template from the pickled state",
    # gensim's models pickle plainly (their classes restore state by __dict__ update and are allowed);
    # its own loader does more, and none of it may be named by a pickle.
    "gensim.utils.SaveLoad.load": "gensim's loader: unpickles the file it opens, then runs _load_specials",
    "gensim.utils.SaveLoad._load_specials":
        "np.load()s, and unpickle()s, sibling files whose names come from the pickled __numpys / __scipys lists",
    "gensim.utils.unpickle": "pickle.load of a file it opens",
    "gensim.utils.pickle": "pickle.dump to a file it opens",
    # Corpus streams: iterating one (which a consumer such as list() does) opens and reads the file
    # or directory it names, which may be endless (/dev/zero).
    "gensim.models.word2vec.LineSentence": "iterating it reads the file it names",
    "gensim.models.word2vec.PathLineSentences": "iterating it reads the files of the directory it names",
    "gensim.models.word2vec.Text8Corpus": "iterating it reads the file it names",
    "gensim.models.word2vec.BrownCorpus": "iterating it reads the files of the directory it names",
    "gensim.models.word2vec_corpusfile.CythonLineSentence": "reads the file it names",
    "gensim.models.doc2vec.TaggedLineDocument": "iterating it reads the file it names",
    "gensim.models.doc2vec.TaggedBrownCorpus": "iterating it reads the files of the directory it names",
    "gensim.matutils.MmWriter": "writes the Matrix Market file it opens",
    "xgboost.compat.LazyLoader": "imports the module it names on first attribute access",
    **{f"tokenizers.models.{n}": TOKENIZERS_MODEL_WHY for n in ("BPE", "WordLevel", "WordPiece")},
    # datasets' media features decode a row by opening, or downloading, the path it gives: iterating or
    # indexing a Dataset (which a consumer such as list() does) decodes its rows. Found reading
    # decode_example, which the Dataset reaches through module-level formatting helpers.
    **{f"datasets.features.{m}.{c}": "decode_example opens, or downloads, the path a row gives; iterating or "
       "indexing a Dataset decodes its rows" for m, c in (("image", "Image"), ("audio", "Audio"), ("video", "Video"),
                                                          ("pdf", "Pdf"), ("nifti", "Nifti"), ("mesh", "Mesh"))},
    "networkx.utils.decorators.argmap": "calling it, then the function it wraps, compile()s and exec()s a wrapper "
        "(argmap._lazy_compile, which the screen does not follow)",
    # Cython's shared runtime (SciPy builds its extensions against scipy._cyutility, registered as
    # _cyutility): no library pickles these, and they work on raw memory.
    "_cyutility.array": "Cython's view.array: allocates (and for objects fills) the product of the shape it is given",
    "_cyutility.memoryview": "Cython's memoryview: takes a raw buffer of whatever object it is given",
    "_cyutility._memoryviewslice": "Cython's memoryview slice: a raw view of another buffer",
    "_cyutility.Enum": "Cython's memoryview mode marker, internal to the memoryview code",
    # Compiled helpers whose state (a __setstate__ or Cython's auto-pickled fields) gives index arrays
    # or sizes their loops trust, which the engine does not check (red team round 21 finding 03): no
    # model pickles them (estimators rebuild them when fitting), and their __pyx_unpickle_ helpers go too.
    **{n: "restores index arrays unchecked; no checker" for n in (
        "sklearn.cluster._hdbscan._tree.TreeUnionFind sklearn.utils._weight_vector.WeightVector32 "
        "sklearn.utils._weight_vector.WeightVector64 sklearn.tree._utils.WeightedFenwickTree "
        "sklearn.tree._utils.PytestWeightedFenwickTree sklearn.ensemble._hist_gradient_boosting.histogram.HistogramBuilder "
        "sklearn.ensemble._hist_gradient_boosting.splitting.Splitter").split()},
}

# Libraries whose classes a pickle may construct and restore but never call: their constructors do
# the work (the screen follows self calls, not super().__init__, so it cannot see all of it).
NOT_CALLED_LIBRARIES = {
    "gensim": "gensim's constructors train on what they are given (corpus files, worker threads and processes, "
              "Pyro4 servers in distributed mode); its pickles restore objects without calling them",
    # A sweep of function-local imports (helper-82): a dtype, initializer, loss or metric given as a dict
    # reaches keras.src.saving.serialization_lib from inside the constructors, which the screen misses.
    "keras": "keras' constructors deserialize what they are given (a dtype, initializer, loss or metric given as a dict "
             "imports any keras module and builds any Keras saveable through deserialize_keras_object); its pickles "
             "restore objects without calling them",
    # Walked from requirements-g.txt for what their pickles restore (copyreg and BUILD, never a call): scikit-rf's
    # Network(file) unpickles the file it names, nibabel's images and proxies load the files they are given, and a
    # probe of every constructor's sizes was not made for them.
    **{lib: f"{lib}'s objects pickle by __reduce_ex__ and state (never a call); its constructors read the files "
            "they are given (scikit-rf's Network(file) unpickles it, nibabel's loaders open theirs) and allocate by "
            "the sizes they are given, which no probe bounded" for lib in ("scikit-rf", "nibabel", "control", "arrow")},
    # Sampled from requirements-h.txt (emcee walked): objects restored by __reduce_ex__ and state, never a call.
    # Their constructors read files (PairwiseAligner(scoring) loads the substitution matrix its name gives, COCO its
    # annotation file), import (matplotlib's colormap lookups, pandera's engines), or allocate by their arguments.
    **{lib: f"{lib}'s objects pickle by __reduce_ex__ and state (never a call); its constructors may read the files, "
            "import the modules or allocate the sizes they are given (PairwiseAligner(scoring) loads a substitution "
            "matrix file by name, COCO(path) its annotation file)" for lib in (
        "biopython", "emcee", "meshio", "scikit-image", "matplotlib", "pycocotools", "pot", "pydicom", "arviz",
        "music21", "pandera")},
}

# Top-level module → library key of "libraries" (the standard library is "python").
LIBRARY_OF_TOP = {
    "torch": "torch", "torchvision": "torchvision", "numpy": "numpy", "scipy": "scipy", "sklearn": "scikit-learn",
    "pandas": "pandas", "pyarrow": "pyarrow", "transformers": "transformers", "tokenizers": "tokenizers",
    "accelerate": "accelerate", "peft": "peft", "lightning": "lightning", "pytorch_lightning": "pytorch-lightning",
    "lightning_fabric": "lightning-fabric", "omegaconf": "omegaconf", "timm": "timm",
    "sentence_transformers": "sentence-transformers", "statsmodels": "statsmodels", "nltk": "nltk",
    "gensim": "gensim", "xgboost": "xgboost", "lightgbm": "lightgbm", "catboost": "catboost",
    "imblearn": "imbalanced-learn", "keras": "keras", "ml_dtypes": "ml-dtypes", "einops": "einops",
    "joblib": "joblib", "pytz": "pytz", "dateutil": "python-dateutil", "safetensors": "safetensors",
    "zoneinfo": "python", "tzdata": "tzdata", "patsy": "patsy", "torchmetrics": "torchmetrics", "dill": "dill",
    "datasets": "datasets", "torch_geometric": "torch-geometric", "networkx": "networkx", "xarray": "xarray",
    "polars": "polars", "sentencepiece": "sentencepiece", "pywt": "pywavelets", "trl": "trl", "PIL": "pillow",
    "torchaudio": "torchaudio", "spacy": "spacy", "thinc": "thinc", "srsly": "srsly", "cymem": "cymem",
    "preshed": "preshed", "blis": "blis", "arch": "arch", "astropy": "astropy", "sympy": "sympy",
    "geopandas": "geopandas", "shapely": "shapely", "pyproj": "pyproj", "igraph": "igraph", "rustworkx": "rustworkx",
    "gymnasium": "gymnasium", "ml_collections": "ml-collections", "rank_bm25": "rank-bm25", "bm25s": "bm25s",
    "tiktoken": "tiktoken", "jax": "jax", "flax": "flax", "optax": "optax", "skrf": "scikit-rf", "nibabel": "nibabel",
    "control": "control", "arrow": "arrow", "cftime": "cftime", "bitarray": "bitarray", "frozendict": "frozendict",
    "immutabledict": "immutabledict", "flint": "python-flint", "stim": "stim", "sortedcontainers": "sortedcontainers",
    "Bio": "biopython", "emcee": "emcee", "meshio": "meshio", "skimage": "scikit-image", "matplotlib": "matplotlib",
    "pycocotools": "pycocotools", "ot": "pot", "pydicom": "pydicom", "arviz": "arviz", "music21": "music21",
    "pandera": "pandera", "optuna": "optuna",
}


def library_of(module: str) -> str:
    top = module.split(".")[0]
    if top in LIBRARY_OF_TOP:
        return LIBRARY_OF_TOP[top]
    if top in sys.stdlib_module_names or top in ("builtins", "_codecs"):
        return "python"
    raise SystemExit(f"generate.py: no library known for module {module}; add it to LIBRARY_OF_TOP")


SCIPY_GUARD_WHY = ("a SciPy distribution: rv_generic.__setstate__ exec()s the state's _parse_arg_template, so BUILD "
                   "may restore it only with SciPy's own template (the engine's scipy-argparser state guard)")


def guarded_entries(excluded: dict[str, str]) -> dict[str, dict]:
    """Excluded names that are safe under a state guard the engine checks, as entries; removed from `excluded`.

    SciPy's distributions are excluded by the screen because their __setstate__ reaches exec(). The
    string it executes is SciPy's argument-parser template, which the engine holds to SciPy's own
    form (src/pickle/stateGuards.ts). Discrete ones also pickle a bound _entropy (vecentropy)."""
    out: dict[str, dict] = {}
    for qualified, reason in list(excluded.items()):
        if "_attach_argparser_methods" not in reason and qualified != "scipy.stats._distn_infrastructure.rv_generic":
            continue
        module, name = qualified.rsplit(".", 1)
        out[f"{module}\0{name}"] = {"kind": "class", "lib": library_of(module), "stateGuard": "scipy-argparser",
                                     "notCalled": True, "why": SCIPY_GUARD_WHY}
        if module.endswith("._discrete_distns") or module.endswith(".discrete") or name in ("rv_discrete", "rv_sample"):
            out[f"{module}\0{name}._entropy"] = {"kind": "function", "lib": library_of(module),
                                                 "why": "a discrete distribution's entropy, which its state keeps as vectorize(self._entropy)"}
        del excluded[qualified]
    return out


def curated_entries() -> dict[str, dict]:
    """Qualified name → entry (kind, argument fields, and why when it has argument behaviour)."""
    out: dict[str, dict] = {}
    for module, name, kind, fields, reason in CURATED:
        entry = {"kind": kind, **fields}
        if fields:
            entry["why"] = reason  # argument behaviour always says why
        out[f"{module}\0{name}"] = entry
    return out


def compat_tables(python: str) -> dict:
    """CPython's Lib/_compat_pickle.py, read from the interpreter that is introspected."""
    code = (
        "import _compat_pickle as c, json; print(json.dumps({'modules': c.IMPORT_MAPPING, "
        "'names': {m + ' ' + n: list(v) for (m, n), v in c.NAME_MAPPING.items()}}))"
    )
    return json.loads(subprocess.run([python, "-c", code], check=True, capture_output=True, text=True).stdout)


def dumps_compact(data: dict) -> str:
    """JSON with one module (or one exclusion / compat entry) per line: diffable, still compact.
    src/rules/allowlist.ts relies on it: it parses a shard's modules one line at a time, as looked up."""
    def line(v) -> str:
        return json.dumps(v, separators=(",", ":"), ensure_ascii=False, sort_keys=False)

    parts = ["{"]
    keys = list(data)
    for i, key in enumerate(keys):
        comma = "," if i < len(keys) - 1 else ""
        value = data[key]
        if key in ("modules", "excluded") or (key == "compat"):
            parts.append(f"{line(key)}:{{")
            inner = list(value.items())
            for j, (k, v) in enumerate(inner):
                parts.append(f"{line(k)}:{line(v)}{',' if j < len(inner) - 1 else ''}")
            parts.append("}" + comma)
        else:
            parts.append(f"{line(key)}:{line(value)}{comma}")
    parts.append("}")
    return "\n".join(parts) + "\n"


def build(entries: dict[str, dict], excluded: dict[str, str], libraries: dict[str, list[str]],
          compat: dict, generator: str) -> dict:
    modules: dict[str, dict] = {}
    for key in sorted(entries):
        module, name = key.split("\0")
        e = dict(entries[key])
        lib = e.pop("lib", None) or library_of(module)
        value = e["kind"] if set(e) == {"kind"} else e
        m = modules.setdefault(module, {"lib": lib, "names": {}})
        if m["lib"] != lib:
            raise SystemExit(f"generate.py: module {module} has names from {m['lib']} and {lib}")
        m["names"][name] = value
    return {
        "schema": "modelgate.allowlist/v2",
        "generator": generator,
        "libraries": libraries,
        "kinds": KINDS,
        "modules": modules,
        "excluded": dict(sorted(excluded.items())),
        "compat": compat,
    }


def python_version(python: str) -> str:
    return subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                          check=True, capture_output=True, text=True).stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--curated-only", action="store_true")
    ap.add_argument("--venv", action="append", default=[], metavar="DIR=REQUIREMENTS")
    ap.add_argument("--reuse", action="store_true", help="merge the venvs' last introspection output again")
    ap.add_argument("--rewalk", action="append", default=[], metavar="DISTRIBUTION",
                    help="with --reuse: walk this library again where a venv has it, keeping the rest")
    args = ap.parse_args()
    generator = "python3 scripts/allowlist/generate.py"
    if args.curated_only:
        python = str(PYENV / "3.11.7" / "bin" / "python")
        data = build(curated_entries(), dict(EXCLUDED), {"python": [python_version(python)]},
                     compat_tables(python), generator)
        data["bases"] = {}  # no class was imported
    else:
        from merge import generate_full  # the introspection half (needs the venvs)

        venvs = [tuple(v.split("=", 1)) for v in args.venv] or [(d, HERE / r) for d, r in DEFAULT_VENVS]
        if args.rewalk and not args.reuse:
            ap.error("--rewalk updates kept output: use it with --reuse")
        data = generate_full(venvs, generator, args.reuse, tuple(args.rewalk))
    write_sharded(data)
    print(f"wrote {os.path.relpath(OUT)} and {os.path.relpath(SHARDS)}/: "
          f"{sum(len(m['names']) for m in data['modules'].values())} names, {len(data['excluded'])} exclusions")


def write_sharded(data: dict) -> None:
    """data/allowlist.json holds everything but the modules, and names the shards; each
    data/allowlist/<top>.json holds the modules of one top-level package; data/allowlist-bases.json
    the allowlisted classes in each class's MRO."""
    write_bases(data.pop("bases"))
    by_top: dict[str, dict] = {}
    for module, entry in data["modules"].items():
        by_top.setdefault(module.split(".")[0], {})[module] = entry
    index = {k: v for k, v in data.items() if k != "modules"}
    index["shards"] = sorted(by_top)
    SHARDS.mkdir(parents=True, exist_ok=True)
    for old in SHARDS.glob("*.json"):
        if old.stem not in by_top:
            old.unlink()
    for top, modules in by_top.items():
        (SHARDS / f"{top}.json").write_text(dumps_compact({"schema": "modelgate.allowlist-shard/v2", "modules": modules}), newline="\n")
    OUT.write_text(dumps_compact(index), newline="\n")


def write_bases(listed: dict[str, dict[str, list[str]]]) -> None:
    """data/allowlist-bases.json (merge.listed_bases), a module per line like the shards. Not shipped
    (package.json leaves it out): only the tests read it."""
    lines = [f"{json.dumps(m)}:{json.dumps(v, separators=(',', ':'))}" for m, v in listed.items()]
    BASES.write_text("{\n" + ",\n".join(lines) + "\n}\n", newline="\n")


if __name__ == "__main__":
    main()
