/**
 * What a pickle may import and call. Allowlist first: only exact qualified names known to be safe
 * for loading models pass. The denylist does not decide *whether* something is reported (anything
 * not allowed is), only how loud and why. Each entry says why it is there.
 */
import type { Severity } from "../types.js";

export interface DenyEntry {
  severity: Severity;
  reason: string;
  /** The callable deserializes its (bytes) argument: that payload is scanned as a pickle too (P6). */
  nested?: boolean;
}

const EXEC = (what: string): DenyEntry => ({ severity: "critical", reason: `executes ${what}` });
const CODE: DenyEntry = { severity: "critical", reason: "evaluates or compiles Python code" };
const IMPORTER: DenyEntry = { severity: "critical", reason: "imports modules or loads native code" };
const INDIRECT: DenyEntry = { severity: "critical", reason: "produces or invokes other callables by name (indirection around allowlists)" };
const NESTED: DenyEntry = { severity: "critical", reason: "deserializes nested data, which can run code", nested: true };
const CODEGEN: DenyEntry = { severity: "critical", reason: "constructs code objects or functions (serialized bytecode)" };
const FILES: DenyEntry = { severity: "high", reason: "reads, writes or deletes files" };
const NETWORK: DenyEntry = { severity: "high", reason: "opens network connections" };
const PROCESS = EXEC("processes or shell commands");

/** Whole modules (and their submodules) whose every callable is dangerous. */
export const DENY_MODULES: Readonly<Record<string, DenyEntry>> = {
  os: PROCESS,
  posix: PROCESS,
  nt: PROCESS,
  subprocess: PROCESS,
  _posixsubprocess: PROCESS,
  _winapi: PROCESS,
  pty: PROCESS,
  commands: PROCESS,
  popen2: PROCESS,
  platform: { severity: "high", reason: "runs helper processes (platform.popen, _syscmd_*)" },
  multiprocessing: PROCESS,
  asyncio: PROCESS,
  "concurrent.futures": PROCESS,
  threading: { severity: "high", reason: "starts threads running arbitrary targets" },
  _thread: { severity: "high", reason: "starts threads running arbitrary targets" },
  signal: { severity: "high", reason: "installs signal handlers" },
  atexit: { severity: "critical", reason: "registers callables to run at interpreter exit" },
  sys: { severity: "critical", reason: "reaches interpreter internals (sys.modules, settrace, exit)" },
  code: CODE,
  codeop: CODE,
  runpy: CODE,
  timeit: CODE,
  trace: CODE,
  profile: CODE,
  cProfile: CODE,
  pdb: CODE,
  bdb: CODE,
  doctest: CODE,
  pydoc: EXEC("a pager command (pydoc.pipepager)"),
  idlelib: CODE,
  "unittest.mock": IMPORTER,
  "logging.config": { severity: "critical", reason: "instantiates arbitrary classes from configuration" },
  importlib: IMPORTER,
  imp: IMPORTER,
  zipimport: IMPORTER,
  pkgutil: IMPORTER,
  site: IMPORTER,
  ctypes: IMPORTER,
  _ctypes: IMPORTER,
  cffi: IMPORTER,
  "torch.utils.cpp_extension": IMPORTER,
  "torch.classes": IMPORTER,
  "torch._ops": IMPORTER,
  "torch.hub": { severity: "critical", reason: "downloads and runs code from repositories" },
  "transformers.dynamic_module_utils": IMPORTER,
  "numpy.ctypeslib": IMPORTER,
  "numpy.f2py": IMPORTER,
  "numpy.distutils": IMPORTER,
  "numpy.testing": CODE,
  "numpy.lib.npyio": NESTED,
  pip: IMPORTER,
  ensurepip: IMPORTER,
  setuptools: IMPORTER,
  distutils: IMPORTER,
  venv: IMPORTER,
  pickle: NESTED,
  _pickle: NESTED,
  cPickle: NESTED,
  pickletools: NESTED,
  marshal: { ...CODEGEN, nested: true },
  shelve: NESTED,
  dill: CODEGEN,
  cloudpickle: CODEGEN,
  jsonpickle: NESTED,
  yaml: NESTED,
  types: CODEGEN,
  socket: NETWORK,
  _socket: NETWORK,
  socketserver: NETWORK,
  ssl: NETWORK,
  http: NETWORK,
  httplib: NETWORK,
  urllib: NETWORK,
  urllib2: NETWORK,
  urllib3: NETWORK,
  requests: NETWORK,
  httpx: NETWORK,
  aiohttp: NETWORK,
  ftplib: NETWORK,
  smtplib: NETWORK,
  telnetlib: NETWORK,
  poplib: NETWORK,
  imaplib: NETWORK,
  nntplib: NETWORK,
  xmlrpc: NETWORK,
  webbrowser: EXEC("a browser"),
  huggingface_hub: NETWORK,
  shutil: FILES,
  tempfile: FILES,
  glob: FILES,
  fileinput: FILES,
  linecache: FILES,
  io: FILES,
  _io: FILES,
  codecs: FILES,
  tarfile: FILES,
  zipfile: FILES,
  mmap: FILES,
  sqlite3: FILES,
  dbm: FILES,
  gc: { severity: "critical", reason: "reaches every live object (gc.get_objects, get_referrers)" },
  inspect: { severity: "high", reason: "reaches frames, globals and source of live objects" },
  operator: INDIRECT,
  _operator: INDIRECT,
  functools: INDIRECT,
  compileall: CODE,
  py_compile: CODE,
  lib2to3: { ...CODE, nested: true },
  pexpect: PROCESS,
  _signal: { severity: "high", reason: "installs signal handlers" },
  syslog: { severity: "high", reason: "writes to the system log" },
  filecmp: FILES,
  _sqlite3: FILES,
  ntpath: FILES,
  posixpath: FILES,
  select: NETWORK,
  selectors: NETWORK,
  base64: { severity: "medium", reason: "decodes payloads hidden from string checks" },
  joblib: NESTED,
  antigravity: EXEC("a browser on import"),
  // PyTorch internals whose methods evaluate strings, run tools or load nested pickles (picklescan's list).
  "torch._dynamo": CODE,
  "torch._inductor": PROCESS,
  "torch.fx.experimental.symbolic_shapes": CODE,
  "torch.jit.unsupported_tensor_ops": CODE,
  "torch.jit.annotations": CODE,
  "torch.utils._config_module": NESTED,
  "torch.utils.bottleneck": CODE,
  "torch.utils.collect_env": PROCESS,
  "torch.utils.data.datapipes.utils.decoder": NESTED,
};

/** Single callables, where the rest of their module is harmless or allowlisted. */
export const DENY_NAMES: Readonly<Record<string, DenyEntry>> = {
  "builtins.eval": CODE,
  "builtins.exec": CODE,
  "builtins.compile": CODE,
  "builtins.__import__": IMPORTER,
  "builtins.open": FILES,
  "builtins.getattr": INDIRECT,
  "builtins.setattr": INDIRECT,
  "builtins.delattr": INDIRECT,
  "builtins.globals": INDIRECT,
  "builtins.locals": INDIRECT,
  "builtins.vars": INDIRECT,
  "builtins.dir": { severity: "high", reason: "enumerates attributes to reach hidden callables" },
  "builtins.raw_input": { severity: "high", reason: "reads from the terminal" },
  "builtins.breakpoint": CODE,
  "builtins.input": { severity: "high", reason: "reads from the terminal" },
  "builtins.help": CODE,
  "builtins.exit": { severity: "high", reason: "exits the interpreter" },
  "builtins.quit": { severity: "high", reason: "exits the interpreter" },
  "builtins.type": CODEGEN,
  "builtins.memoryview": { severity: "high", reason: "exposes raw memory" },
  "builtins.__build_class__": CODEGEN,
  "builtins.classmethod": INDIRECT,
  "builtins.staticmethod": INDIRECT,
  "builtins.property": INDIRECT,
  "builtins.super": INDIRECT,
  "builtins.apply": INDIRECT,
  "builtins.execfile": CODE,
  "builtins.reload": IMPORTER,
  "builtins.file": FILES,
  "copyreg.add_extension": INDIRECT,
  "dill.loads": NESTED,
  "dill._dill.loads": NESTED,
  "dill.load": NESTED,
  "dill._dill.load": NESTED,
  "cloudpickle.loads": NESTED,
  "cloudpickle.cloudpickle.loads": NESTED,
  "copyreg._reconstructor_unsafe": INDIRECT,
  "torch.load": NESTED,
  "torch.serialization.load": NESTED,
  "torch.storage._load_from_bytes": { severity: "high", reason: "runs torch.load on embedded bytes", nested: true },
  "torch.jit.load": NESTED,
  "torch.jit._serialization.load": NESTED,
  "torch.save": FILES,
  "torch.serialization.save": FILES,
  "torch.from_file": FILES,
  "torch.UntypedStorage.from_file": FILES,
  "torch._C._jit_pass_inline": CODE,
  "numpy.load": NESTED,
  "numpy.loads": NESTED,
  "numpy.loadtxt": FILES,
  "numpy.genfromtxt": FILES,
  "numpy.fromfile": FILES,
  "numpy.save": FILES,
  "numpy.savez": FILES,
  "numpy.memmap": FILES,
  "numpy.core.multiarray.fromfile": FILES,
  "joblib.load": NESTED,
  "joblib.numpy_pickle.load": NESTED,
  "pandas.read_pickle": NESTED,
  "pandas.io.pickle.read_pickle": NESTED,
  "pandas.read_csv": FILES,
  "uuid._get_command_stdout": PROCESS,
  "uuid._popen": PROCESS,
};

/** Bytes per element of each PyTorch storage type, as pickled in persistent ids (`torch.FloatStorage`). */
export const TORCH_STORAGE_ELEMENT_SIZE: Readonly<Record<string, number>> = {
  FloatStorage: 4, DoubleStorage: 8, HalfStorage: 2, BFloat16Storage: 2, LongStorage: 8, IntStorage: 4,
  ShortStorage: 2, CharStorage: 1, ByteStorage: 1, BoolStorage: 1, ComplexFloatStorage: 8,
  ComplexDoubleStorage: 16, QInt8Storage: 1, QUInt8Storage: 1, QInt32Storage: 4, QUInt4x2Storage: 1,
  QUInt2x4Storage: 1, UInt16Storage: 2, UInt32Storage: 4, UInt64Storage: 8, Float8_e4m3fnStorage: 1,
  Float8_e5m2Storage: 1, Float8_e4m3fnuzStorage: 1, Float8_e5m2fnuzStorage: 1, UntypedStorage: 1,
};

/**
 * Callables and classes that are safe to import, call and construct while loading a model:
 * tensor and storage rebuilders, dtypes, plain containers and value types, numpy reconstructors.
 */
export const ALLOW: ReadonlySet<string> = new Set([
  // Python containers and value types
  "builtins.list", "builtins.dict", "builtins.set", "builtins.frozenset", "builtins.tuple",
  "builtins.int", "builtins.float", "builtins.complex", "builtins.bool", "builtins.str",
  "builtins.bytes", "builtins.bytearray", "builtins.slice", "builtins.range", "builtins.object",
  "builtins.Ellipsis", "builtins.NotImplemented", "builtins.NoneType",
  "collections.OrderedDict", "collections.defaultdict", "collections.Counter", "collections.deque",
  "datetime.datetime", "datetime.date", "datetime.time", "datetime.timedelta", "datetime.timezone",
  "decimal.Decimal", "fractions.Fraction", "uuid.UUID",
  "pathlib.PosixPath", "pathlib.WindowsPath", "pathlib.PurePosixPath", "pathlib.PureWindowsPath", "pathlib.Path",
  "argparse.Namespace", "re._compile", "_codecs.encode",
  "enum.Enum",
  "typing.Any", "typing.Union", "typing.Optional", "typing.List", "typing.Dict", "typing.Tuple",
  // copyreg's default object protocol: constructs the class given as its first argument (judged separately)
  "copyreg._reconstructor", "copyreg.__newobj__", "copyreg.__newobj_ex__",
  // PyTorch tensors, parameters and storages
  "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
  "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
  "torch._utils._rebuild_qtensor", "torch._utils._rebuild_sparse_tensor", "torch._utils._rebuild_sparse_csr_tensor",
  "torch._utils._rebuild_nested_tensor", "torch._utils._rebuild_meta_tensor_no_storage",
  "torch._utils._rebuild_wrapper_subclass", "torch._utils._rebuild_device_tensor_from_numpy",
  "torch._utils._rebuild_device_tensor_from_cpu_tensor",
  "torch._tensor._rebuild_from_type", "torch._tensor._rebuild_from_type_v2",
  "torch._utils._set_obj_state", "torch.serialization._get_layout",
  "torch.Tensor", "torch.nn.parameter.Parameter", "torch.nn.parameter.Buffer", "torch.nn.parameter.UninitializedParameter",
  "torch.Size", "torch.device", "torch.storage.UntypedStorage", "torch.storage.TypedStorage",
  "torch.UntypedStorage", "torch.TypedStorage", "torch.storage._StorageBase",
  ...Object.keys(TORCH_STORAGE_ELEMENT_SIZE).flatMap((t) => [`torch.${t}`, `torch.cuda.${t}`]),
  ...[
    "float32", "float", "float64", "double", "float16", "half", "bfloat16", "complex32", "complex64",
    "complex128", "cfloat", "cdouble", "chalf", "uint8", "uint16", "uint32", "uint64", "int8", "int16",
    "short", "int32", "int", "int64", "long", "bool", "qint8", "quint8", "qint32", "quint4x2", "quint2x4",
    "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu",
    "bits8", "bits16", "bits1x8", "bits2x4", "bits4x2",
    "strided", "sparse_coo", "sparse_csr", "sparse_csc", "sparse_bsr", "sparse_bsc", "_mkldnn", "jagged",
    "contiguous_format", "channels_last", "channels_last_3d", "preserve_format",
    "per_tensor_affine", "per_channel_affine", "per_tensor_symmetric", "per_channel_symmetric",
    "per_channel_affine_float_qparams",
  ].map((d) => `torch.${d}`),
  "torch.nn.functional.relu", "torch.nn.functional.gelu", "torch.nn.functional.silu",
  "torch.nn.functional.tanh", "torch.nn.functional.sigmoid", "torch.nn.functional.softmax",
  "torch.nn.functional.leaky_relu", "torch.nn.functional.elu",
  "torch.nn.modules.module._IncompatibleKeys",
  // NumPy reconstructors, dtypes and scalar types
  "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
  "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
  "numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer",
  "numpy.ndarray", "numpy.dtype", "numpy.ma.core._mareconstruct", "numpy.ma.core.MaskedArray",
  "numpy.random._pickle.__randomstate_ctor", "numpy.random._pickle.__generator_ctor",
  "numpy.random._pickle.__bit_generator_ctor", "numpy.random.__RandomState_ctor",
  "numpy.random.mtrand.RandomState", "numpy.random._mt19937.MT19937", "numpy.random._pcg64.PCG64",
  ...[
    "float16", "float32", "float64", "longdouble", "complex64", "complex128", "int8", "int16", "int32",
    "int64", "uint8", "uint16", "uint32", "uint64", "bool_", "object_", "str_", "bytes_", "void",
    "intc", "uintc", "longlong", "ulonglong", "half", "single", "double", "datetime64", "timedelta64",
  ].map((t) => `numpy.${t}`),
  ...[
    "Float64DType", "Float32DType", "Float16DType", "Int64DType", "Int32DType", "Int16DType", "Int8DType",
    "UInt64DType", "UInt32DType", "UInt16DType", "UInt8DType", "BoolDType", "ObjectDType", "StrDType",
  ].map((t) => `numpy.dtypes.${t}`),
  // joblib's array container (its raw bytes are skipped by the joblib layout)
  "joblib.numpy_pickle.NumpyArrayWrapper", "joblib.numpy_pickle_compat.NDArrayWrapper",
  "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper",
  // scikit-learn's tree state is rebuilt by calling the Cython class
  "sklearn.tree._tree.Tree", "sklearn.neighbors._kd_tree.KDTree", "sklearn.neighbors._ball_tree.BallTree",
  "sklearn._loss._loss.CyHalfBinomialLoss", "sklearn._loss._loss.CyHalfSquaredError",
]);

/**
 * Module families whose *classes* may be constructed the usual way (NEWOBJ / copyreg
 * reconstructors, then BUILD with their state) or called as classes. A name must be a single
 * CamelCase identifier: functions, dotted and dunder names never match a family.
 */
export const CLASS_FAMILIES: readonly string[] = [
  "torch.nn.modules.",
  "torch.optim.",
  "torch.ao.nn.",
  "torch.nn.intrinsic.",
  "torch.distributions.",
  "sklearn.",
  "scipy.sparse.",
  "omegaconf.",
  "pytorch_lightning.utilities.parsing.",
  "lightning_fabric.utilities.data.",
  "numpy.random.",
];

/** Families that are never class-allowed even under an allowed prefix (test helpers, vendored copies). */
export const FAMILY_EXCEPTIONS: readonly string[] = ["sklearn.utils._testing", "sklearn.externals", "numpy.random._pickle"];

/** Extra names a layout legitimately uses. TorchScript archives rebuild their objects with these. */
export const TORCHSCRIPT_ALLOW: ReadonlySet<string> = new Set([
  "torch.jit._pickle.restore_type_tag",
  "torch.jit._pickle.build_intlist",
  "torch.jit._pickle.build_doublelist",
  "torch.jit._pickle.build_boollist",
  "torch.jit._pickle.build_tensorlist",
  "torch.jit._pickle.build_tensor_from_id",
]);

/** TorchScript classes live under this pseudo-module; their code is in the archive's code/ folder. */
export const TORCHSCRIPT_CLASS_PREFIX = "__torch__.";

/**
 * Python 2 names that CPython's unpickler maps to Python 3 modules (Lib/_compat_pickle.py),
 * so `__builtin__.eval` is judged as `builtins.eval`.
 */
export const PY2_MODULES: Readonly<Record<string, string>> = {
  __builtin__: "builtins",
  exceptions: "builtins",
  copy_reg: "copyreg",
  cPickle: "pickle",
  commands: "subprocess",
  UserDict: "collections",
  UserList: "collections",
  UserString: "collections",
  urllib2: "urllib.request",
  httplib: "http.client",
  SocketServer: "socketserver",
  StringIO: "io",
  cStringIO: "io",
  thread: "_thread",
};

/** Tensor rebuilders whose arguments are checked against their storage (P15b). */
export const TENSOR_REBUILDERS: ReadonlySet<string> = new Set([
  "torch._utils._rebuild_tensor",
  "torch._utils._rebuild_tensor_v2",
  "torch._utils._rebuild_tensor_v3",
  "torch._utils._rebuild_qtensor",
]);

/** Allowed callables that call or construct some of their arguments; those arguments are judged in turn. */
export const CALLS_ITS_ARGUMENT: Readonly<Record<string, { indices: readonly number[]; construct: boolean }>> = {
  // _reconstructor(cls, base, state) runs base.__new__(cls) and, unless base is object, base.__init__.
  "copyreg._reconstructor": { indices: [0, 1], construct: true },
  "copyreg.__newobj__": { indices: [0], construct: true },
  "copyreg.__newobj_ex__": { indices: [0], construct: true },
  // _rebuild_from_type(func, type, args, state) calls func(*args).
  "torch._tensor._rebuild_from_type": { indices: [0], construct: false },
  "torch._tensor._rebuild_from_type_v2": { indices: [0], construct: false },
};

/** Allowed callables that set attributes from one of their arguments (like BUILD does): its keys are checked for dunders. */
export const SETS_STATE_FROM_ARGUMENT: Readonly<Record<string, number>> = {
  "torch._utils._rebuild_parameter_with_state": 3,
  "torch._tensor._rebuild_from_type_v2": 3,
  "torch._utils._set_obj_state": 1,
};
