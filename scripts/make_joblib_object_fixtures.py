"""Generates test/fixtures/joblib-objects/: joblib dumps of object arrays holding NumPy scalars (what
OneHotEncoder(drop='if_binary') keeps), alone and inside a dict and a list. pickle.load, torch.load and
numpy.load read their inline pickles in the outer memo, where the module of numpy's scalar rebuilder is
an outer value: the wrapper's joblib.numpy_pickle, which has no scalar, or the dict itself. Each must pass.

    /tmp/rt16/venv/bin/python scripts/make_joblib_object_fixtures.py

(any environment with joblib and NumPy; the versions go into the manifest notes).
"""
import json
import os

import joblib
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "joblib-objects")


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    scalars = np.array([np.int64(1), np.float64(2.5), "x"], dtype=object)
    versions = f"joblib {joblib.__version__}, NumPy {np.__version__}"
    entries = []
    for name, obj, what in [
        ("toplevel.joblib", scalars, "an object array of NumPy scalars"),
        ("in_dict.joblib", {"drop_idx_": scalars, "n": 3}, "a dict holding such an array"),
        ("in_list.joblib", [scalars, scalars.copy()], "a list of two such arrays"),
    ]:
        joblib.dump(obj, os.path.join(OUT, name))
        entries.append({"file": f"joblib-objects/{name}", "expect": "pass", "threat": None, "mentions": [], "note": f"joblib.dump of {what} ({versions})"})
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(e) for e in entries) + "\n]\n")
    print(f"{len(entries)} fixtures written to {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()
