#!/usr/bin/env python3
"""HDF5 files as PyTables and pandas write them, and with what PyTables unpickles when they are read.

    python3 -m venv /tmp/pyt && /tmp/pyt/bin/pip install tables pandas h5py
    /tmp/pyt/bin/python scripts/make_pytables_fixtures.py

PyTables pickles (protocol 0) an attribute value HDF5 has no type for and unpickles any scalar byte-string
attribute that ends with "." when it is read (TITLE and CLASS as a file opens); a VLArray of ObjectAtom
holds one pickle a row, which pandas' to_hdf writes for object columns. The hostile files put a command
there (harmless: echo); nothing here loads them.
"""
import json
import os

import h5py
import numpy as np
import pandas as pd
import tables

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "pytables")
MANIFEST = []
COMMAND = b"cposix\nsystem\n(S'echo modelgate-fixture'\ntR."


def record(name, expect, note, mentions=()):
    MANIFEST.append({"file": f"pytables/{name}", "expect": expect, "threat": "P6" if expect == "block" else None,
                     "mentions": list(mentions), "note": note})


def main():
    os.makedirs(OUT, exist_ok=True)
    path = lambda name: os.path.join(OUT, name)
    for name in os.listdir(OUT):
        if name.endswith(".h5"):
            os.remove(path(name))

    with tables.open_file(path("attrs.h5"), "w", title="experiment") as f:
        f.root._v_attrs.config = {"lr": 0.1, "layers": [64, 32], "note": "pickled by PyTables"}
        f.create_array("/", "weights", np.arange(12, dtype=np.float32).reshape(3, 4))
    record("attrs.h5", "pass", f"PyTables file with a pickled dict attribute (tables {tables.__version__})")

    df = pd.DataFrame({"name": ["a", "b", None], "mixed": [1, "two", 3.0], "x": [1.5, 2.5, 3.5]})
    df.to_hdf(path("pandas_fixed.h5"), key="frame", format="fixed", complevel=9, complib="zlib")
    record("pandas_fixed.h5", "pass", f"pandas to_hdf(format='fixed', zlib) with object columns (pandas {pd.__version__})")

    with tables.open_file(path("attr_command.h5"), "w") as f:
        f.create_array("/", "x", np.arange(4))
        f.root.x._v_attrs.note = np.bytes_(COMMAND)
    record("attr_command.h5", "block", "a node attribute PyTables unpickles when it is read runs posix.system", ["posix.system"])

    with tables.open_file(path("row_command.h5"), "w") as f:
        rows = f.create_vlarray("/", "objects", tables.ObjectAtom(), expectedrows=4)
        rows.append({"benign": 1})
        # The second row is the command as raw bytes: ObjectAtom stores each row's pickle as uint8.
        rows._append(np.frombuffer(COMMAND, dtype=np.uint8), len(COMMAND))
    record("row_command.h5", "block", "a VLArray of ObjectAtom whose row is a pickle that runs posix.system", ["posix.system"])

    # What PyTables reads the same way though the file spells it otherwise (red team round 38): pandas_type as a
    # variable-length ASCII string (read as bytes, unpickled), an object array whose rows are int8, not uint8.
    df.to_hdf(path("attr_vlen_command.h5"), key="frame", format="fixed")
    with h5py.File(path("attr_vlen_command.h5"), "r+") as f:
        del f["/frame"].attrs["pandas_type"]
        f["/frame"].attrs.create("pandas_type", COMMAND, dtype=h5py.string_dtype("ascii"))
    record("attr_vlen_command.h5", "block", "pandas_type as a variable-length ASCII string that pd.read_hdf unpickles", ["posix.system"])
    with h5py.File(path("row_int8_command.h5"), "w") as f:
        rows = f.create_dataset("objects", (1,), dtype=h5py.vlen_dtype(np.int8))
        rows[0] = np.frombuffer(COMMAND, dtype=np.int8)
        for key, value in (("CLASS", b"VLARRAY"), ("PSEUDOATOM", b"object"), ("VERSION", b"1.4"), ("TITLE", b"")):
            rows.attrs.create(key, np.bytes_(value))
    record("row_int8_command.h5", "block", "an object array of int8 rows, which ObjectAtom unpickles as it does uint8", ["posix.system"])

    # pandas reads an array node with a "shape" attribute as np.empty(shape, value_type): an empty frame passes,
    # one whose shape says 1.5e9 objects is a bomb (red team round 38: 11.8 GB).
    empty = pd.DataFrame({"a": pd.Series([], dtype=float), "s": pd.Series([], dtype=object)})
    empty.to_hdf(path("pandas_empty.h5"), key="frame", format="fixed")
    record("pandas_empty.h5", "pass", f"pandas to_hdf of an empty frame (pandas {pd.__version__})")
    empty.to_hdf(path("shape_bomb.h5"), key="frame", format="fixed")
    with h5py.File(path("shape_bomb.h5"), "r+") as f:
        node = f["/frame/block0_values"]
        node.attrs["shape"] = np.bytes_(b"(I1500000000\ntp0\n.")
    record("shape_bomb.h5", "block", "an array node whose pickled shape makes read_hdf allocate 1.5e9 elements", ["shape"])

    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(m) for m in MANIFEST) + "\n]\n")


if __name__ == "__main__":
    main()
