"""Generates test/fixtures/modern/: files made by today's releases (issue 20).

Run by hand with a venv built from the machine's local Python index (CI never runs Python):

    /root/.pyenv/versions/3.11.7/bin/python -m venv /tmp/modern
    /tmp/modern/bin/pip install torch tensorflow-cpu numpy pandas pyarrow
    /tmp/modern/bin/python scripts/make_modern_fixtures.py

What it writes (small files only; the library versions go into the manifest notes):
  - a TF 2.x SavedModel of a tf.Module with a tf.function, and a Keras 3 model exported as a
    SavedModel (model.export): saved_model.pb read by content, never as ONNX;
  - a torch.jit.trace archive (torch >= 2.1 writes traced_inputs.pkl), a torch.jit.script one and
    a lite-interpreter one (PyTorch Mobile: bytecode.pkl beside code/);
  - a torch.distributed.checkpoint (DCP) folder of a small model and its AdamW state, saved by
    one process: a .distcp shard of torch.save archives back to back, and the pickled .metadata;
  - pandas 3 pickles (the default "str" dtype backed by pyarrow, ArrowDtype columns), a pyarrow
    Table pickle, and a NumPy 2 StringDType array pickle;
  - a pandas pickle compressed with zstd (`to_pickle(compression="zstd")`, needs zstandard).
Plus malicious variants with a harmless payload (never loaded by anything): a DCP shard whose
2nd archive's pickle calls os.system, a shard with bytes between its archives, a traced archive
whose traced_inputs.pkl calls os.system, and TorchScript that reads /etc/hostname with from_file
hidden from a text match (a comment or a line continuation between the name and its call, a
lite-interpreter archive without code/, members named in another case) or from any text naming it
(getattr with a name split into literals or escaped, torch or getattr held in a variable: `--only
torchscript-resolved` writes these alone), plus a module saved as a flatbuffer, which is not read;
and zstd streams of a pickle that calls os.system, plain and behind a skippable frame, and a frame
header asking for a 1 GiB window.

`--only torchscript` (or dcp, dataframes, zstd, tensorflow) regenerates those fixtures alone and keeps
the manifest's other entries.

Deterministic where the libraries allow (fixed seeds); archives embed a random serialization id.
"""
import io
import json
import os
import pickle
import shutil
import sys
import warnings
import zipfile

warnings.filterwarnings("ignore")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np
import pandas as pd
import pyarrow as pa
import torch
import torch.distributed.checkpoint as dcp

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures")
OUT = os.path.join(ROOT, "modern")
manifest = []


def add(rel, note, expect="pass", threat=None, mentions=()):
    manifest.append({"file": "modern/" + rel, "expect": expect, "threat": threat, "mentions": list(mentions), "note": note})


def path(rel):
    p = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


class HarmlessCall:
    """Pickles as a call of os.system with an echo: what a malicious pickle looks like, never run."""

    def __reduce__(self):
        return (os.system, ("echo modelgate-fixture",))


# ---------------------------------------------------------------- TensorFlow


def tensorflow_fixtures():
    import tensorflow as tf
    import keras

    tf.random.set_seed(0)

    class Scale(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable([[1.0, 2.0], [3.0, 4.0]], name="w")
            self.b = tf.Variable([0.5, -0.5], name="b")

        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32)])
        def __call__(self, x):
            return tf.nn.relu(tf.matmul(x, self.w) + self.b)

    folder = path("tf_module_savedmodel/x")[:-2]
    shutil.rmtree(folder, ignore_errors=True)
    tf.saved_model.save(Scale(), folder)
    add("tf_module_savedmodel/saved_model.pb", f"tf.saved_model.save of a tf.Module with a tf.function (TensorFlow {tf.__version__})")

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(2)])
    folder = path("keras_export_savedmodel/x")[:-2]
    shutil.rmtree(folder, ignore_errors=True)
    model.export(folder, format="tf_saved_model", verbose=False)
    add("keras_export_savedmodel/saved_model.pb", f"Keras {keras.__version__} Sequential exported with model.export(format='tf_saved_model')")


# ---------------------------------------------------------------- TorchScript


class ReadsFile(torch.nn.Module):
    """Reads a byte of /etc/hostname when run: the shape of a TorchScript file attack (never run here)."""

    def forward(self, x):
        return x + torch.from_file("/etc/hostname", False, 1, dtype=torch.uint8).float()


def respelled_code(src_path, out_path, respell):
    """The archive at src_path with its TorchScript code rewritten by respell (text -> text), as an attacker would."""
    with zipfile.ZipFile(src_path) as src, zipfile.ZipFile(out_path, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if "/code/" in info.filename and info.filename.endswith(".py"):
                text = respell(data.decode())
                assert text != data.decode(), "nothing respelled"
                data = text.encode()
            dst.writestr(info.filename, data)


class Small(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 2)

    def forward(self, x):
        return torch.relu(self.fc(x))


def torchscript_fixtures():
    torch.manual_seed(0)
    model = Small().eval()
    traced = torch.jit.trace(model, torch.randn(1, 3))
    traced.save(path("torchscript_traced.pt"))
    add("torchscript_traced.pt", f"torch.jit.trace archive (torch {torch.__version__}): carries traced_inputs.pkl with restore_type_tag")
    torch.jit.script(model).save(path("torchscript_scripted.pt"))
    add("torchscript_scripted.pt", f"torch.jit.script archive (torch {torch.__version__})")

    # traced_inputs.pkl replaced by a pickle that calls os.system: it must be read as a pickle too.
    src = zipfile.ZipFile(path("torchscript_traced.pt"))
    out = path("torchscript_traced_inputs_payload.pt")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith("/traced_inputs.pkl"):
                data = pickle.dumps({"forward": [HarmlessCall()]}, protocol=2)
            dst.writestr(info.filename, data)
    add("torchscript_traced_inputs_payload.pt", "traced archive whose traced_inputs.pkl calls os.system (harmless echo)", "block", "P1",
        ["posix.system", "traced_inputs.pkl"])

    torch.jit.script(model)._save_for_lite_interpreter(path("torchscript_lite.ptl"))
    add("torchscript_lite.ptl", f"torch.jit.script archive saved for the lite interpreter (torch {torch.__version__}): bytecode.pkl beside code/")

    # from_file hidden from a text match: TorchScript's lexer drops comments and joins continued lines.
    reads = torch.jit.script(ReadsFile())
    reads.save(path("tmp_reads.pt"))
    respelled_code(path("tmp_reads.pt"), path("torchscript_from_file_comment.pt"),
                   lambda t: t.replace("torch.from_file(", "(torch.from_file  # the model's init\n      (", 1).replace("dtype=0)", "dtype=0))", 1))
    add("torchscript_from_file_comment.pt", "scripted module reading /etc/hostname with torch.from_file, a comment between the name and its call",
        "block", "P15", ["MG122", "from_file"])
    respelled_code(path("tmp_reads.pt"), path("torchscript_from_file_continued.pt"), lambda t: t.replace("torch.from_file(", "torch.from_file\\\n(", 1))
    add("torchscript_from_file_continued.pt", "scripted module reading /etc/hostname with torch.from_file, a line continuation before its call",
        "block", "P15", ["MG122", "from_file"])
    # miniz, PyTorch's zip reader, looks members up ignoring case: CODE/ is the code folder.
    with zipfile.ZipFile(path("tmp_reads.pt")) as src, zipfile.ZipFile(path("torchscript_from_file_upper_code.pt"), "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            info.filename = info.filename.replace("/code/", "/CODE/")
            dst.writestr(info, data)
    add("torchscript_from_file_upper_code.pt", "scripted module reading /etc/hostname with torch.from_file, its code folder named CODE/",
        "block", "P15", ["MG122", "from_file"])
    os.remove(path("tmp_reads.pt"))

    # The lite interpreter runs bytecode.pkl's operators: an archive without code/ still reads the file.
    reads._save_for_lite_interpreter(path("tmp_reads.ptl"))
    with zipfile.ZipFile(path("tmp_reads.ptl")) as src, zipfile.ZipFile(path("torchscript_lite_from_file.ptl"), "w") as dst:
        for info in src.infolist():
            if "/code/" not in info.filename:
                dst.writestr(info, src.read(info.filename))
    with zipfile.ZipFile(path("torchscript_lite_from_file.ptl")) as src, zipfile.ZipFile(path("torchscript_lite_upper_bytecode.ptl"), "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            info.filename = info.filename.replace("bytecode.pkl", "BYTECODE.pkl")
            dst.writestr(info, data)
    os.remove(path("tmp_reads.ptl"))
    add("torchscript_lite_from_file.ptl", "lite-interpreter archive without code/ whose bytecode.pkl calls aten::from_file on /etc/hostname",
        "block", "P15", ["MG122", "aten::from_file"])
    add("torchscript_lite_upper_bytecode.ptl", "the same lite-interpreter archive with its bytecode record named BYTECODE.pkl",
        "block", "P15", ["MG122", "aten::from_file"])

    torchscript_resolved_fixtures(reads)

    torch.jit.save_jit_module_to_flatbuffer(torch.jit.script(model), path("torchscript_flatbuffer.pt"))
    add("torchscript_flatbuffer.pt", f"torch.jit.script module saved as a flatbuffer (torch {torch.__version__}): torch.jit.load runs it, modelgate does not read it",
        "block", "P15", ["MG126"])


# Spellings under which torch.jit.load's compiler still resolves aten::from_file though the name
# torch.from_file never appears (a red team's twentieth round wrote files through the first).
RESOLVED_SPELLINGS = {
    "getattr_concat": ("getattr(torch, \"from_\" \"file\")(", "getattr on torch with the name split into adjacent literals (\"from_\" \"file\")"),
    "getattr_octal": ("getattr(torch, \"\\146rom_file\")(", "getattr on torch with the name's first letter an octal escape"),
    "getattr_ops_aten": ("getattr(ops.aten, \"from_\" \"file\")(", "getattr on ops.aten with the name split into adjacent literals"),
    "alias_torch": ("getattr(_t, \"from_\" \"file\")(", "torch held in a variable, then getattr on the variable with a split name"),
    "alias_getattr": ("_g(torch, \"from_\" \"file\")(", "getattr held in a variable, then called on torch with a split name"),
}
# The statement a spelling needs before the call, if any.
RESOLVED_PRELUDE = {"alias_torch": "_t = torch", "alias_getattr": "_g = getattr"}


def torchscript_resolved_fixtures(reads):
    """ReadsFile's code respelled so that no text names from_file; each archive is loaded back to prove the compiler resolves it."""
    reads.save(path("tmp_reads.pt"))
    for name, (call, how) in RESOLVED_SPELLINGS.items():
        def respell(text, call=call, prelude=RESOLVED_PRELUDE.get(name)):
            line = next(l for l in text.split("\n") if "torch.from_file(" in l)
            indent = line[: len(line) - len(line.lstrip())]
            new = line.replace("torch.from_file(", call, 1)
            return text.replace(line, f"{indent}{prelude}\n{new}" if prelude else new, 1)
        out = path(f"torchscript_from_file_{name}.pt")
        respelled_code(path("tmp_reads.pt"), out, respell)
        graph = str(torch.jit.load(out).graph)
        assert "aten::from_file" in graph, (name, graph)
        add(f"torchscript_from_file_{name}.pt", f"scripted module reading /etc/hostname (torch {torch.__version__} loads it and compiles aten::from_file): {how}",
            "block", "P15", ["MG122", "from_file"])
    os.remove(path("tmp_reads.pt"))


# ---------------------------------------------------------------- DCP


def dcp_fixtures():
    from torch.distributed.checkpoint.state_dict import get_state_dict

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    optim = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.randn(2, 4)).sum().backward()
    optim.step()
    model_sd, optim_sd = get_state_dict(model, optim)
    folder = path("dcp_checkpoint/x")[:-2]
    shutil.rmtree(folder, ignore_errors=True)
    # One process, no process group: DCP saves without collectives (torch >= 2.3).
    dcp.save({"model": model_sd, "optim": optim_sd, "step": 7}, checkpoint_id=folder)
    shard = sorted(f for f in os.listdir(folder) if f.endswith(".distcp"))[0]
    add(f"dcp_checkpoint/{shard}", f"torch.distributed.checkpoint shard (torch {torch.__version__}): torch.save archives back to back")
    add("dcp_checkpoint/.metadata", "DCP metadata: a pickle of torch.distributed.checkpoint.metadata classes")

    # The shard's archives, as DCP's metadata locates them.
    with open(os.path.join(folder, ".metadata"), "rb") as f:
        meta = pickle.load(f)  # our own file, just written
    with open(os.path.join(folder, shard), "rb") as f:
        data = f.read()
    spans = sorted({(s.offset, s.length) for s in meta.storage_data.values() if s.relative_path == shard})
    pieces = [data[o : o + n] for o, n in spans]
    assert b"".join(pieces) == data, "archives do not tile the shard"

    bad = io.BytesIO()
    torch.save({"step": HarmlessCall()}, bad)
    spliced = pieces[:1] + [bad.getvalue()] + pieces[2:]
    with open(path("dcp_spliced/__0_0.distcp"), "wb") as f:
        f.write(b"".join(spliced))
    add("dcp_spliced/__0_0.distcp", "DCP shard whose 2nd archive is a torch.save whose pickle calls os.system (harmless echo)", "block", "P1",
        ["posix.system", "<archive 2 at "])

    with open(path("dcp_junk/__0_0.distcp"), "wb") as f:
        f.write(b"".join(pieces[:2] + [b"\0" * 64] + pieces[2:]))
    add("dcp_junk/__0_0.distcp", "DCP shard with 64 bytes between its 2nd and 3rd archives", "block", None, ["MG144", "between torch.save archives"])


# ---------------------------------------------------------------- pandas, pyarrow, NumPy


def dataframe_fixtures():
    frame = pd.DataFrame({"name": ["a", "bc", None], "score": [1.5, 2.0, 3.25]})
    with open(path("pandas3_str_dtype.pkl"), "wb") as f:
        pickle.dump(frame, f, protocol=5)
    add("pandas3_str_dtype.pkl", f"pandas {pd.__version__} DataFrame with the default str dtype (StringDtype('pyarrow', na_value=nan))")

    arrow = pd.DataFrame({
        "i": pd.array([1, None, 3], dtype=pd.ArrowDtype(pa.int64())),
        "s": pd.array(["x", "y", None], dtype=pd.ArrowDtype(pa.string())),
    })
    with open(path("pandas3_arrow_dtype.pkl"), "wb") as f:
        pickle.dump(arrow, f, protocol=5)
    add("pandas3_arrow_dtype.pkl", f"pandas {pd.__version__} DataFrame with ArrowDtype columns (pyarrow {pa.__version__})")

    table = pa.table({"id": pa.array([1, 2, 3], pa.int32()), "tag": pa.array(["p", "q", None])})
    with open(path("pyarrow_table.pkl"), "wb") as f:
        pickle.dump(table, f, protocol=5)
    add("pyarrow_table.pkl", f"pyarrow {pa.__version__} Table pickled")

    strings = np.array(["alpha", "βeta", ""], dtype=np.dtypes.StringDType())
    with open(path("numpy2_stringdtype.pkl"), "wb") as f:
        pickle.dump(strings, f, protocol=5)
    add("numpy2_stringdtype.pkl", f"NumPy {np.__version__} StringDType array pickled")


# ---------------------------------------------------------------- zstd


def zstd_fixtures():
    import zstandard

    frame = pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"]})
    frame.to_pickle(path("pandas_frame.pkl.zst"), compression="zstd")
    add("pandas_frame.pkl.zst", f"pandas {pd.__version__} DataFrame.to_pickle(compression='zstd') (zstandard {zstandard.__version__})")

    payload = zstandard.ZstdCompressor().compress(pickle.dumps({"model": HarmlessCall()}, protocol=4))
    with open(path("zstd_os_system.pkl.zst"), "wb") as f:
        f.write(payload)
    add("zstd_os_system.pkl.zst", "zstd stream of a pickle that calls os.system (harmless echo)", "block", "P1", ["posix.system"])
    # A skippable frame (magic 0x184D2A50, 4-byte length) first: decoders pass over it to the next frame.
    with open(path("zstd_skippable_os_system.zst"), "wb") as f:
        f.write(b"\x50\x2a\x4d\x18" + (16).to_bytes(4, "little") + b"\0" * 16 + payload)
    add("zstd_skippable_os_system.zst", "a skippable zstd frame, then the zstd stream of a pickle that calls os.system", "block", "P1", ["posix.system"])
    # Frame header: magic, flags (no single segment, no checksum), window descriptor 2^30, then an empty last raw block.
    with open(path("zstd_huge_window.zst"), "wb") as f:
        f.write(b"\x28\xb5\x2f\xfd" + bytes([0x00, (30 - 10) << 3]) + bytes([0x01, 0x00, 0x00]))
    add("zstd_huge_window.zst", "zstd frame asking for a 1 GiB window (decoders refuse past 128 MiB by default)", "block", None, ["MG140", "window"])
    with open(path("zstd_bomb.zst"), "wb") as f:
        f.write(zstandard.ZstdCompressor(level=19).compress(b"\0" * (256 << 20)))
    add("zstd_bomb.zst", "256 MiB of zeros compressed with zstd: stopped at the ratio bound", "block", None, ["MG140", "decompression bomb"])


PARTS = {"torchscript": torchscript_fixtures, "torchscript-resolved": lambda: torchscript_resolved_fixtures(torch.jit.script(ReadsFile())), "dcp": dcp_fixtures, "dataframes": dataframe_fixtures, "zstd": zstd_fixtures, "tensorflow": tensorflow_fixtures}


def main():
    os.makedirs(OUT, exist_ok=True)
    only = sys.argv[sys.argv.index("--only") + 1].split(",") if "--only" in sys.argv else list(PARTS)
    for part in only:
        PARTS[part]()
    if only != list(PARTS):
        # The entries of the parts not regenerated stay as they were.
        made = {e["file"] for e in manifest}
        with open(os.path.join(OUT, "manifest.json")) as f:
            manifest.extend(e for e in json.load(f) if e["file"] not in made)
    manifest.sort(key=lambda e: e["file"])
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(e, ensure_ascii=False) for e in manifest) + "\n]\n")
    print(f"{len(manifest)} fixtures in {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
