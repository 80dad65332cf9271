#!/usr/bin/python3
"""Generate the fixtures of `modelgate convert` in test/fixtures/convert/.

    /usr/bin/python3 scripts/make_convert_fixtures.py

Checkpoints are written by the real torch.save and numpy.save/savez (Debian's python3-torch and
python3-numpy). Each convertible fixture has a sidecar `<file>.expected.json` computed here by
PyTorch/NumPy themselves: for every tensor the output should hold, its dotted name, safetensors
dtype, shape and the sha256 of `tensor.contiguous()` bytes in little-endian order; the metadata
strings and the dropped keys. The tests compare modelgate's output with these, never with values
modelgate computed.

Two fixtures cannot come from this torch (1.13): a zip checkpoint whose `byteorder` record says
"big" (written by rewriting a real checkpoint with byte-swapped storages, as torch.save on a
big-endian machine lays it out) and a float8 tensor (`_rebuild_tensor_v3` on an UntypedStorage,
torch >= 2.1), whose pickle is written opcode by opcode. Malicious fixtures carry the harmless
payload `echo modelgate-fixture` and are never loaded.
"""

import hashlib
import io
import json
import os
import pickle
import struct
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch

OUT = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "convert"

DTYPES = {
    torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL",
}
NP_DTYPES = {"f8": "F64", "f4": "F32", "f2": "F16", "i8": "I64", "i4": "I32", "i2": "I16",
             "i1": "I8", "u1": "U8", "u2": "U16", "u4": "U32", "u8": "U64", "b1": "BOOL"}


def tensor_bytes(t):
    """tensor.contiguous() bytes, little-endian (x86 is): bfloat16 has no numpy type, int16 has its size."""
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def py_text(v):
    """How modelgate renders a scalar in __metadata__: Python's own str() of it."""
    return str(v)


def flatten(obj, prefix, out):
    """The names modelgate must produce: dicts and lists flattened with dots, as HF flattens state dicts."""
    join = (lambda k: f"{prefix}.{k}") if prefix else (lambda k: k)
    if isinstance(obj, torch.Tensor):
        out["tensors"][prefix] = {"dtype": DTYPES[obj.dtype], "shape": list(obj.shape),
                                  "sha256": hashlib.sha256(tensor_bytes(obj)).hexdigest()}
    elif isinstance(obj, dict):
        if not obj:
            out["dropped"].append(prefix)
        for k, v in obj.items():
            flatten(v, join(py_text(k)), out)
    elif isinstance(obj, (list, tuple)):
        if not obj:
            out["dropped"].append(prefix)
        for i, v in enumerate(obj):
            flatten(v, join(str(i)), out)
    elif obj is None or isinstance(obj, (str, int, bool)):
        out["metadata"][prefix] = py_text(obj)
    elif isinstance(obj, float):
        out["metadata"][prefix] = py_text(obj)
    else:
        out["dropped"].append(prefix)


def expected(obj, name, note):
    out = {"note": note, "made_by": f"torch {torch.__version__}, numpy {np.__version__}",
           "tensors": {}, "metadata": {}, "dropped": []}
    flatten(obj, "", out)
    (OUT / f"{name}.expected.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")


def save_torch(obj, name, note, legacy=False):
    torch.save(obj, OUT / name, _use_new_zipfile_serialization=not legacy)
    expected(obj, name, note)


def every_dtype():
    g = torch.Generator().manual_seed(7)
    sd = OrderedDict()
    sd["f64"] = torch.randn(3, 4, generator=g, dtype=torch.float64)
    sd["f32"] = torch.randn(5, 3, generator=g)
    sd["f16"] = torch.randn(2, 3, 4, generator=g).half()
    sd["bf16"] = torch.randn(7, generator=g).bfloat16()
    sd["i64"] = torch.arange(-6, 6, dtype=torch.int64).reshape(3, 4)
    sd["i32"] = torch.tensor([-(2 ** 31), 2 ** 31 - 1, 5], dtype=torch.int32)
    sd["i16"] = torch.tensor([[-32768, 32767], [1, -1]], dtype=torch.int16)
    sd["i8"] = torch.tensor([-128, 127, 0], dtype=torch.int8)
    sd["u8"] = torch.arange(0, 256, 17, dtype=torch.uint8)
    sd["bool"] = torch.tensor([True, False, True, True])
    sd["scalar"] = torch.tensor(3.25)
    sd["empty"] = torch.zeros(0, 4)
    return sd


def views():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    sd = OrderedDict()
    sd["base"] = base
    sd["transposed"] = base.t()
    sd["rows"] = base[1:3]
    sd["every_other_column"] = base[:, ::2]
    sd["row2"] = base[2]
    sd["tied"] = base  # the same tensor under a second name, as tied embeddings are saved
    sd["own"] = torch.ones(2, 2, dtype=torch.int64)
    return sd


def lightning():
    g = torch.Generator().manual_seed(11)
    state = OrderedDict([("layer.weight", torch.randn(4, 3, generator=g)), ("layer.bias", torch.zeros(4))])
    return {
        "epoch": 3,
        "global_step": 120,
        "pytorch-lightning_version": "1.9.0",
        "state_dict": state,
        "hyper_parameters": {"lr": 0.001, "name": "tiny", "use_bias": True, "scheduler": None},
        "optimizer_states": [{"state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.full((4, 3), 0.5)}},
                              "param_groups": [{"lr": 0.001, "params": [0, 1]}]}],
        "lr_schedulers": [],
        "loops": {"fit_loop": {"state_dict": {}}},
    }


class Payload:
    """Reduces to os.system: what a malicious checkpoint hides in its state dict. Never loaded."""

    def __reduce__(self):
        return (os.system, ("echo modelgate-fixture",))


class Custom:
    """An unknown class: not executed-looking, and still not something a tensor rebuild needs."""

    def __init__(self):
        self.alpha = 1


def sharded():
    g = torch.Generator().manual_seed(3)
    shards = [OrderedDict([("embed.weight", torch.randn(6, 4, generator=g)), ("layers.0.weight", torch.randn(4, 4, generator=g))]),
              OrderedDict([("layers.1.weight", torch.randn(4, 4, generator=g).half()), ("head.bias", torch.zeros(6, dtype=torch.float64))])]
    folder = OUT / "sharded"
    folder.mkdir(exist_ok=True)
    weight_map = {}
    total = 0
    everything = OrderedDict()
    for i, sd in enumerate(shards):
        name = f"pytorch_model-{i + 1:05d}-of-{len(shards):05d}.bin"
        torch.save(sd, folder / name)
        for k, t in sd.items():
            weight_map[k] = name
            total += t.numel() * t.element_size()
            everything[k] = t
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (folder / "pytorch_model.bin.index.json").write_text(json.dumps(index, indent=2) + "\n")
    expected(everything, "sharded/pytorch_model.bin.index.json", "two shards written by torch.save, index as transformers writes it")


def big_endian_zip():
    """The zip layout as torch.save writes it on a big-endian machine: storages in native (big) order, byteorder "big"."""
    sd = OrderedDict([("f32", torch.linspace(-2, 2, 6).reshape(2, 3)), ("i64", torch.tensor([1, -2, 3 << 40])),
                      ("f16", torch.tensor([0.5, -1.5, 65504.0]).half()), ("u8", torch.tensor([1, 2, 255], dtype=torch.uint8))])
    buf = io.BytesIO()
    torch.save(sd, buf)
    sizes = {str(i): t.element_size() for i, t in enumerate(sd.values())}  # storage keys in pickling order
    name = "big_endian.pt"
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(OUT / name, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info)
            key = info.filename.rsplit("/", 1)[-1]
            if "/data/" in info.filename and sizes[key] > 1:
                data = np.frombuffer(data, dtype=f"<u{sizes[key]}").astype(f">u{sizes[key]}").tobytes()
            dst.writestr(info.filename, data)
        dst.writestr("archive/byteorder", b"big")
    expected(sd, name, "torch.save output rewritten with byte-swapped storages and byteorder 'big' (torch 1.13 cannot run big-endian)")


def float8_zip():
    """`_rebuild_tensor_v3(UntypedStorage, 0, (2, 2), (2, 1), False, OrderedDict(), torch.float8_e4m3fn)` as torch >= 2.1 pickles it."""
    data = bytes([0x38, 0xB8, 0x00, 0x7E])  # 1.0, -1.0, 0.0, 448.0 in float8_e4m3fn

    def glob(module, name):
        return b"c" + module.encode() + b"\n" + name.encode() + b"\n"

    def short(s):
        return b"X" + struct.pack("<I", len(s)) + s.encode()

    p = b"\x80\x02" + glob("collections", "OrderedDict") + b")R" + b"(" + short("w8")
    p += glob("torch._utils", "_rebuild_tensor_v3") + b"("
    p += b"(" + short("storage") + glob("torch", "UntypedStorage") + short("0") + short("cpu") + b"K\x04tQ"
    p += b"K\x00" + b"K\x02K\x02\x86" + b"K\x02K\x01\x86" + b"\x89" + glob("collections", "OrderedDict") + b")R"
    p += glob("torch", "float8_e4m3fn") + b"tR" + b"u."
    name = "float8.pt"
    with zipfile.ZipFile(OUT / name, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", p)
        z.writestr("archive/byteorder", b"little")
        z.writestr("archive/data/0", data)
        z.writestr("archive/version", b"3\n")
    out = {"note": "hand-written: torch 1.13 has no float8; bytes are the float8_e4m3fn encodings of 1, -1, 0, 448",
           "made_by": "opcodes written by this script", "metadata": {}, "dropped": [],
           "tensors": {"w8": {"dtype": "F8_E4M3", "shape": [2, 2], "sha256": hashlib.sha256(data).hexdigest()}}}
    (OUT / f"{name}.expected.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")


def numpy_files():
    def expect_np(arrays, name, note):
        out = {"note": note, "made_by": f"numpy {np.__version__}", "metadata": {}, "dropped": [], "tensors": {}}
        for k, a in arrays.items():
            le = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<"))
            out["tensors"][k] = {"dtype": NP_DTYPES[a.dtype.str[1:]], "shape": list(a.shape),
                                 "sha256": hashlib.sha256(le.tobytes()).hexdigest()}
        (OUT / f"{name}.expected.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")

    be = np.linspace(-1, 1, 12, dtype=">f4").reshape(3, 4)
    np.save(OUT / "big_endian.npy", be)
    expect_np({"big_endian": be}, "big_endian.npy", "np.save of a big-endian float32 array")
    fortran = np.asfortranarray(np.arange(12, dtype="<i2").reshape(3, 4))
    np.save(OUT / "fortran.npy", fortran)
    expect_np({"fortran": fortran}, "fortran.npy", "np.save of a Fortran-ordered int16 array")
    arrays = {"weights": np.linspace(0, 1, 10, dtype="<f8"), "mask": np.array([True, False, True]),
              "pixels": np.arange(9, dtype="u1").reshape(3, 3), "counts": np.array([1, -5, 1 << 40], dtype=">i8"),
              "small": np.array([[1, 2], [3, 4]], dtype="<u2")}
    np.savez(OUT / "arrays.npz", **arrays)
    expect_np(arrays, "arrays.npz", "np.savez (stored members)")
    np.savez_compressed(OUT / "arrays_compressed.npz", **arrays)
    expect_np(arrays, "arrays_compressed.npz", "np.savez_compressed (deflated members)")
    np.save(OUT / "objects.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    save_torch(every_dtype(), "every_dtype.pt", "one tensor of each dtype torch 1.13 saves, a 0-d and an empty tensor")
    save_torch(every_dtype(), "every_dtype_legacy.pt", "the same, _use_new_zipfile_serialization=False", legacy=True)
    save_torch(views(), "views.pt", "views of one storage: transposed, offset, strided, a row, the same tensor twice")
    save_torch(views(), "views_legacy.pt", "the same views in the legacy format", legacy=True)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    save_torch(model.state_dict(), "module_state_dict.pt", "nn.Module.state_dict(): its _metadata is set by BUILD on the OrderedDict")
    save_torch(lightning(), "lightning.ckpt", "a Lightning-style checkpoint: state_dict, hyper-parameters, optimizer state")
    many = OrderedDict((f"layers.{i}.scale", torch.full((2,), float(i))) for i in range(100))
    save_torch({"model": many, "steps": list(range(100))}, "many.pt", "more entries than a scan keeps per container (64)")
    g = torch.Generator().manual_seed(5)
    save_torch({"weight": torch.nn.Parameter(torch.randn(3, 3, generator=g)), "frozen": torch.nn.Parameter(torch.ones(2), requires_grad=False)},
               "parameters.pt", "nn.Parameter values: _rebuild_parameter around _rebuild_tensor_v2")
    sharded()
    big_endian_zip()
    float8_zip()
    numpy_files()
    # Malicious: never loaded by anything.
    torch.save(OrderedDict([("weight", torch.ones(2)), ("evil", Payload())]), OUT / "malicious_os_system.pt")
    torch.save(OrderedDict([("weight", torch.ones(2)), ("evil", Payload())]), OUT / "malicious_os_system_legacy.pt",
               _use_new_zipfile_serialization=False)
    torch.save({"weight": torch.ones(2), "config": Custom()}, OUT / "unknown_class.pt")
    with open(OUT / "plain.pkl", "wb") as f:
        pickle.dump({"a": 1}, f, protocol=2)


if __name__ == "__main__":
    main()
