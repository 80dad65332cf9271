#!/usr/bin/env python3
"""Fixtures for legacy container formats loaders still read (issue 13: "old formats").

    python3 -m venv /tmp/np && /tmp/np/bin/pip install numpy joblib
    /tmp/np/bin/python scripts/make_legacy_fixtures.py

joblib <= 0.9 wrote compressed pickles as "Z-files" (joblib.numpy_pickle_compat.write_zfile), and
joblib.load still reads them. The files are written with joblib's own writer; the malicious one
carries a harmless os.system("echo ...") and is never loaded.
"""
import json
import os
import pickle

import numpy as np
from joblib.numpy_pickle_compat import write_zfile

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "legacy")


class Echo:
    def __reduce__(self):
        return (os.system, ("echo modelgate-fixture",))


def main():
    os.makedirs(OUT, exist_ok=True)
    manifest = []
    cases = [
        ("joblib_zfile_plain.pkl.z", {"coef": [0.5, -1.25], "classes": ["a", "b"]}, "pass", [], "joblib Z-file of plain data"),
        ("joblib_zfile_array.pkl.z", {"weights": np.arange(6, dtype=np.float32).reshape(2, 3)}, "pass", [], "joblib Z-file holding a NumPy array"),
        ("joblib_zfile_system.pkl.z", {"model": Echo()}, "block", ["posix.system"], "joblib Z-file whose pickle calls os.system"),
    ]
    for name, obj, expect, mentions, note in cases:
        with open(os.path.join(OUT, name), "wb") as f:
            write_zfile(f, pickle.dumps(obj, protocol=2))
        manifest.append({"file": f"legacy/{name}", "expect": expect, "threat": "P12" if expect == "block" else None, "mentions": mentions, "note": note})
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(e) for e in manifest) + "\n]\n")


if __name__ == "__main__":
    main()
