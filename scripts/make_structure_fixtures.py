#!/usr/bin/env python3
"""Fixtures for the checks of structures libraries trust once loaded (THREATS P21).

    python3 -m venv /tmp/np && /tmp/np/bin/pip install numpy scipy
    /tmp/np/bin/python scripts/make_structure_fixtures.py

Writes test/fixtures/structures/*.pkl and its manifest.json. The "malicious" matrices are real
SciPy objects whose index arrays were overwritten after construction, as an attacker would:
SciPy does not check them when it unpickles. Nothing here loads what it writes.
"""
import copyreg
import json
import os
import pickle

import numpy as np
import scipy.sparse as sp

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "structures")
MANIFEST = []


def write(name, data, expect, note, mentions=()):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    MANIFEST.append({"file": f"structures/{name}", "expect": expect, "threat": "P21" if expect == "block" else None,
                     "mentions": list(mentions), "note": note})


class _Made:
    """Pickles as `cls` made by copyreg.__newobj__ (NEWOBJ) and given `state` by BUILD, however it is spelt."""

    def __init__(self, cls, state):
        self.cls, self.state = cls, state

    @property
    def __class__(self):  # pickle's check that __newobj__'s class is the object's
        return self.cls

    def __reduce_ex__(self, protocol):
        return copyreg.__newobj__, (self.cls,), self.state


def main():
    os.makedirs(OUT, exist_ok=True)
    dense = np.array([[0, 1.5, 0, 0], [2.0, 0, 3.0, 0], [0, 0, 0, 4.0]])
    for fmt in ("csr", "csc", "coo"):
        for kind in ("matrix", "array"):
            m = getattr(sp, f"{fmt}_{kind}")(dense)
            for proto in (2, 4, 5):
                write(f"{fmt}_{kind}_p{proto}.pkl", pickle.dumps(m, protocol=proto), "pass", f"scipy {fmt}_{kind}, protocol {proto}")
    # A dok matrix pickles as copyreg._reconstructor(dok_matrix, dict, {entries}): its entries go to dict.__init__
    # (precision corpus fp20: 1,000 of them were read as sizes and attributes past the sample).
    dok = sp.random(200, 100, density=0.05, format="dok", random_state=7)
    for proto in (2, 4):
        write(f"dok_matrix_p{proto}.pkl", pickle.dumps(dok, protocol=proto), "pass", f"scipy dok_matrix of {dok.nnz} entries, protocol {proto}")
    write("ndarray_int64_p2.pkl", pickle.dumps(np.arange(12, dtype=np.int64).reshape(3, 4), protocol=2), "pass", "numpy int64 array, protocol 2")
    write("ndarray_float32_p5.pkl", pickle.dumps(np.ones((2, 3), dtype=">f4"), protocol=5), "pass", "big-endian float32 array, protocol 5")

    # Protocol 0 writes an array's bytes as _codecs.encode(<UNICODE text>, "latin1"): the text is
    # raw-unicode-escape (latin-1 bytes, \\u escapes for the backslash and the line break).
    every_byte = np.arange(256, dtype=np.uint8)
    write("ndarray_every_byte_p0.pkl", pickle.dumps(every_byte, protocol=0), "pass", "uint8 array of all 256 byte values, protocol 0")
    write("ndarray_float64_p0.pkl", pickle.dumps(np.frombuffer(bytes([0xd0, 0x0b, 0x86, 0xa0, 0x57, 0x83, 0xc4, 0xbf]), "f8"), protocol=0),
          "pass", "float64 array whose bytes are not UTF-8, protocol 0")

    bad = sp.csr_matrix(dense)
    bad.indices = np.array([1, 0, 9, 3], dtype=bad.indices.dtype)
    write("csr_index_out_of_bounds.pkl", pickle.dumps(bad, protocol=4), "block", "csr indices reach column 9 of a 4-column matrix", ["indices"])
    bad = sp.csc_matrix(dense)
    bad.indptr = np.array([0, 1, 2, 9, 4], dtype=bad.indptr.dtype)
    write("csc_indptr_past_indices.pkl", pickle.dumps(bad, protocol=2), "block", "csc indptr points past its indices", ["indptr"])
    bad = sp.coo_array(dense)
    bad.coords = (np.array([0, 1, 1, 7], dtype=np.int32), bad.coords[1])
    write("coo_row_out_of_bounds.pkl", pickle.dumps(bad, protocol=5), "block", "coo row 7 of a 3-row array", ["row"])

    # The check holds whatever class the pickle names and however it makes the object (red team round 36):
    # protocol 0 makes it with copyreg._reconstructor, and _csr_base is a class SciPy's routines read as csr.
    bad = sp.csr_matrix(dense)
    bad.indices = np.array([1, 0, 9, 3], dtype=bad.indices.dtype)
    p0 = pickle.dumps(bad, protocol=0)
    write("csr_index_out_of_bounds_proto0.pkl", p0, "block", "csr indices reach column 9 of a 4-column matrix, protocol 0", ["indices"])
    assert p0.count(b"scipy.sparse._csr\ncsr_matrix\n") == 1
    write("csr_base_index_out_of_bounds.pkl", p0.replace(b"scipy.sparse._csr\ncsr_matrix\n", b"scipy.sparse._csr\n_csr_base\n"), "block",
          "the same matrix named as scipy's _csr_base class", ["indices"])
    # The attributes BUILD sets however the state spells them (red team round 37): a (dict, {}) tuple, a
    # (None, dict) slot state, an index dtype spelt 'int32', indices as a plain list.
    attrs = dict(bad.__dict__)
    write("csr_tuple_state_out_of_bounds.pkl", pickle.dumps(_Made(sp.csr_matrix, (attrs, {})), protocol=4), "block",
          "csr indices past its columns in a (dict, {}) state", ["indices"])
    write("csr_slot_state_out_of_bounds.pkl", pickle.dumps(_Made(sp.csr_matrix, (None, attrs)), protocol=4), "block",
          "csr indices past its columns set by slot state", ["indices"])
    p2 = pickle.dumps(bad, protocol=2)
    assert p2.count(b"X\x02\x00\x00\x00i4") >= 1
    write("csr_int32_spelt_out_of_bounds.pkl", p2.replace(b"X\x02\x00\x00\x00i4", b"X\x05\x00\x00\x00int32"), "block",
          "csr indices past its columns in arrays whose dtype is spelt 'int32'", ["indices"])
    write("csr_list_indices_out_of_bounds.pkl", pickle.dumps(_Made(sp.csr_matrix, {**attrs, "indices": [1, 0, 9, 3]}), protocol=4), "block",
          "csr indices past its columns as a plain list", ["indices"])
    # A lil matrix's rows are lists of column indices its compiled routines trust (red team round 38).
    rows = sp.lil_matrix(dense)
    for proto in (2, 4):
        write(f"lil_matrix_p{proto}.pkl", pickle.dumps(rows, protocol=proto), "pass", f"scipy lil_matrix, protocol {proto}")
    rows.rows[1] = [0, 9]
    write("lil_index_out_of_bounds.pkl", pickle.dumps(rows, protocol=4), "block", "lil row 1 holds column 9 of a 4-column matrix", ["rows"])
    blocks = sp.bsr_matrix(np.eye(4), blocksize=(2, 2))
    write("bsr_matrix_p4.pkl", pickle.dumps(blocks, protocol=4), "pass", "scipy bsr_matrix of 2x2 blocks, protocol 4")
    blocks.indices = np.array([0, 9], dtype=blocks.indices.dtype)
    write("bsr_index_out_of_bounds.pkl", pickle.dumps(blocks, protocol=4), "block", "bsr block index 9 of a 4-column matrix", ["indices"])

    # An array whose header declares more elements than its data holds: the shape tuple (3, 4) -> (3, 5).
    data = pickle.dumps(np.arange(12, dtype=np.int64).reshape(3, 4), protocol=2)
    assert data.count(b"K\x03K\x04\x86") == 1
    write("ndarray_shape_past_data.pkl", data.replace(b"K\x03K\x04\x86", b"K\x03K\x05\x86"), "block", "array header declares 15 elements, data holds 12", ["declares"])

    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(e) for e in MANIFEST) + "\n]\n")


if __name__ == "__main__":
    main()
