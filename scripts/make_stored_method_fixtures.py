"""Generates test/fixtures/stored-methods/: pickles that hold methods by the getattr convention, which a
fifth precision measurement found blocked: a gaussian_kde (its covariance_factor is the bound scotts_factor
or silverman_factor), a German SnowballStemmer (it keeps GermanStemmer().stem), and SciPy's RigidTransform,
which pickles as (RigidTransform.from_matrix, (matrix,)). Each must pass.

    /tmp/fp19/venv/bin/python scripts/make_stored_method_fixtures.py

(an environment with SciPy 1.17 or later, for RigidTransform, and NLTK; the versions go into the notes).
"""
import json
import os
import pickle

import nltk
import numpy as np
import scipy
from nltk.stem.snowball import SnowballStemmer
from scipy.spatial.transform import RigidTransform
from scipy.stats import gaussian_kde

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "stored-methods")


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    sample = np.random.default_rng(0).normal(size=(2, 50))
    entries = []
    for name, obj, note in [
        ("gaussian_kde_scott.pkl", gaussian_kde(sample), f"SciPy {scipy.__version__} gaussian_kde (scotts_factor)"),
        ("gaussian_kde_silverman.pkl", gaussian_kde(sample, bw_method="silverman"), f"SciPy {scipy.__version__} gaussian_kde (silverman_factor)"),
        ("rigid_transform.pkl", RigidTransform.from_translation([1.0, 2.0, 3.0]), f"SciPy {scipy.__version__} RigidTransform"),
        ("snowball_stemmers.pkl", [SnowballStemmer("german"), SnowballStemmer("english"), SnowballStemmer("french")], f"NLTK {nltk.__version__} SnowballStemmers"),
    ]:
        with open(os.path.join(OUT, name), "wb") as f:
            pickle.dump(obj, f, protocol=4)
        entries.append({"file": f"stored-methods/{name}", "expect": "pass", "threat": None, "mentions": [], "note": note})
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(e) for e in entries) + "\n]\n")
    print(f"{len(entries)} fixtures written to {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()
