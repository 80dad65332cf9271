#!/usr/bin/env python3
"""Fixtures for the check of pickled Arrow arrays (THREATS P21): pyarrow restores an array from its
pickled (type, length, null_count, offset, buffers, children, dictionary) without validating it.

    python3 -m venv /tmp/arrow && /tmp/arrow/bin/pip install pyarrow pandas
    /tmp/arrow/bin/python scripts/make_arrow_fixtures.py

Writes test/fixtures/arrow/*.pkl and its manifest.json. The benign files are pyarrow's and pandas'
own pickles of every type whose layout the scanner checks. The hostile ones are pickled by pyarrow
too, from a tuple an attacker shaped (its buffers pyarrow's own py_buffer objects): a length past
the data, offsets or dictionary indices past it, a child shorter than its parent, a dictionary of
another type than declared. Nothing here loads what it writes.
"""
import datetime
import decimal
import struct
import json
import os
import pickle

import pandas as pd
import pyarrow as pa
import pyarrow.lib as lib

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "arrow")
MANIFEST = []


def write(name, data, expect, note, mentions=()):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    MANIFEST.append({"file": f"arrow/{name}", "expect": expect, "threat": "P21" if expect == "block" else None,
                     "mentions": list(mentions), "note": note})


class Restore:
    """Pickles as pyarrow's own _restore_array call on the tuple given (what Array.__reduce__ writes)."""

    def __init__(self, data):
        self.data = data

    def __reduce__(self):
        return lib._restore_array, (self.data,)


def buf(values, fmt="<q"):
    return pa.py_buffer(b"".join(struct.pack(fmt, v) for v in values))


def every_type():
    """One column of every type the check knows, with nulls and a sliced (offset) column."""
    return pa.table({
        "i8": pa.array([1, None, -3], pa.int8()), "u16": pa.array([1, 2, 3], pa.uint16()),
        "i64": pa.array([1, 2, None]), "f16": pa.array([1.0, 2.0, None], pa.float16()),
        "f64": pa.array([0.5, None, 2.5]), "bool": pa.array([True, None, False]), "null": pa.nulls(3),
        "str": pa.array(["a", None, "ccc"]), "large_str": pa.array(["x", "yy", None], pa.large_string()),
        "bin": pa.array([b"\x00", b"", None]), "fixed_bin": pa.array([b"abcd", b"efgh", None], pa.binary(4)),
        "date32": pa.array([datetime.date(2026, 1, 1)] * 3), "date64": pa.array([datetime.date(2026, 1, 1)] * 3, pa.date64()),
        "time64": pa.array([1, 2, 3], pa.time64("ns")), "time32": pa.array([1, 2, 3], pa.time32("s")),
        "ts_tz": pa.array([1, 2, 3], pa.timestamp("ms", "Europe/Berlin")), "ts": pa.array([1, 2, 3], pa.timestamp("us")),
        "duration": pa.array([1, 2, 3], pa.duration("ms")), "interval": pa.array([(1, 2, 3)] * 3, pa.month_day_nano_interval()),
        "dec128": pa.array([decimal.Decimal("1.25")] * 3, pa.decimal128(10, 2)),
        "dec256": pa.array([decimal.Decimal("1.125")] * 3, pa.decimal256(40, 3)),
        "list": pa.array([[1], [2, 3], None]), "large_list": pa.array([[1.0], [], [2.0]], pa.large_list(pa.float32())),
        "fixed_list": pa.array([[1, 2], [3, 4], None], pa.list_(pa.int8(), 2)),
        "struct": pa.array([{"a": 1, "b": "x"}, None, {"a": 3, "b": None}]),
        "map": pa.array([[("k", 1)], [], None], pa.map_(pa.string(), pa.int32())),
        "dict8": pa.array(["a", "b", None]).dictionary_encode().cast(pa.dictionary(pa.int8(), pa.string())),
        "dict32": pa.array(["a", "b", "a"]).dictionary_encode(),
        "sliced": pa.array(["p", "q", "r", "s", "t"]).slice(2, 3),
    })


def main():
    os.makedirs(OUT, exist_ok=True)
    table = every_type()
    for proto in (2, 4, 5):
        write(f"every_type_table_p{proto}.pkl", pickle.dumps(table, protocol=proto), "pass", f"pyarrow table of every checked type, protocol {proto}")
    frame = pd.DataFrame({"name": ["alpha", "beta", None], "n": [1, 2, 3]})
    assert str(frame["name"].dtype) == "str", "pandas 3 stores strings in Arrow"
    write("pandas_str_frame_p5.pkl", pickle.dumps(frame, protocol=5), "pass", "pandas 3 frame with an Arrow-backed str column")
    write("pandas_arrow_dtypes_p4.pkl", pickle.dumps(pd.DataFrame({"d": pd.array([1.5, None], "double[pyarrow]"), "s": pd.array(["a", "b"], "string[pyarrow]")}), protocol=4),
          "pass", "pandas ArrowDtype and string[pyarrow] columns")
    # Offsets past the 64 KiB the scanner keeps of a constant: read back once the stream is done.
    many = pa.array([f"r{i}" for i in range(9000)], pa.large_string())
    write("large_string_9000_p4.pkl", pickle.dumps(many, protocol=4), "pass", "9,000 large strings: offsets larger than a kept constant")
    write("large_string_9000_p2.pkl", pickle.dumps(many, protocol=2), "pass", "the same at protocol 2 (_codecs.encode of latin-1 text)")

    # The same column with one offset in the middle of its 72 KB buffer pointing 1 TB away.
    offsets = bytearray(many.buffers()[1])
    offsets[5000 * 8:5001 * 8] = struct.pack("<q", 1 << 40)
    far = (pa.large_string(), 9000, 0, 0, [None, pa.py_buffer(bytes(offsets)), many.buffers()[2]], [], None)
    for proto in (2, 4):
        write(f"large_string_offset_far_p{proto}.pkl", pickle.dumps(Restore(far), protocol=proto), "block",
              f"9,000 large strings, offset 5000 past the data, protocol {proto}", ["offset 5000 = 1099511627776"])

    # Round 19's file: an int64 array of 2**26 items over 24 bytes.
    i64 = pa.array([1, 2, 3]).buffers()
    write("int64_length_past_data.pkl", pickle.dumps(Restore((pa.int64(), 1 << 26, 0, 0, i64, [], None)), protocol=2), "block",
          "int64 array of 2**26 items over a 24-byte buffer", ["values buffer of 24 bytes"])
    s = pa.array(["a", "bb", "c"]).buffers()
    write("string_offset_past_data.pkl", pickle.dumps(Restore((pa.string(), 3, 0, 0, [None, buf([0, 1, 3, 4096], "<i"), s[2]], [], None)), protocol=4), "block",
          "string offsets reach byte 4096 of 4", ["offset 3 = 4096"])
    write("string_offsets_fall.pkl", pickle.dumps(Restore((pa.string(), 3, 0, 0, [None, buf([0, 3, 1, 4], "<i"), s[2]], [], None)), protocol=5), "block",
          "string offsets fall (a negative length)", ["offset 2 = 1"])
    d = pa.array(["a", "b"]).dictionary_encode()
    words = pa.array(["a", "b"])
    write("dictionary_index_past_values.pkl", pickle.dumps(Restore((d.type, 2, 0, 0, [None, buf([0, 7], "<i")], [], (words.type, 2, 0, 0, words.buffers(), [], None))), protocol=4), "block",
          "dictionary index 7 of a 2-value dictionary", ["index 1 = 7"])
    ints = pa.array([1, 2])
    write("dictionary_of_other_type.pkl", pickle.dumps(Restore((d.type, 2, 0, 0, [None, buf([0, 1], "<i")], [], (pa.int64(), 2, 0, 0, ints.buffers(), [], None))), protocol=4), "block",
          "dictionary values of int64 under a string dictionary type", ["its type declares"])
    child = pa.array([1, 2, 3])
    write("list_offset_past_child.pkl", pickle.dumps(Restore((pa.list_(pa.int64()), 2, 0, 0, [None, buf([0, 1, 300], "<i")], [(pa.int64(), 3, 0, 0, child.buffers(), [], None)], None)), protocol=4), "block",
          "list offsets reach item 300 of a 3-item child", ["offset 2 = 300"])
    write("struct_child_short.pkl", pickle.dumps(Restore((pa.struct([("a", pa.int64())]), 50, 0, 0, [None], [(pa.int64(), 3, 0, 0, child.buffers(), [], None)], None)), protocol=4), "block",
          "struct of 50 rows over a 3-item child", ["shorter than 50"])
    ends, values = pa.array([2, 3], pa.int32()), pa.array([1, 2])
    ree = (pa.run_end_encoded(pa.int32(), pa.int64()), 3, 0, 0, [None], [(pa.int32(), 2, 0, 0, ends.buffers(), [], None), (pa.int64(), 2, 0, 0, values.buffers(), [], None)], None)
    write("run_end_encoded_unchecked.pkl", pickle.dumps(Restore(ree), protocol=4), "block", "run-end encoded arrays are not checked", ["run_end_encoded"])

    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(e) for e in MANIFEST) + "\n]\n")


if __name__ == "__main__":
    main()
