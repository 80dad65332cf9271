"""Benign files real libraries write that a scan once blocked (a precision review of 1,440 files).

Writes test/fixtures/precision/: each must pass (test/precision.test.ts). Run with a Python that has
optuna, pandas, python-dateutil, networkx, numpy, scikit-learn, scipy, torch and nltk:

    python scripts/make_precision_fixtures.py
"""
import datetime
import math
import operator
import pickle
import re
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import joblib
import networkx as nx
import numpy as np
import optuna
import pandas as pd
import torch
from dateutil import tz
from scipy.spatial import distance
from nltk.stem import PorterStemmer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.neighbors import KNeighborsClassifier

OUT = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "precision"


def dump(name: str, value, protocol: int = 4) -> None:
    (OUT / name).write_bytes(pickle.dumps(value, protocol=protocol))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    # A study past TPE's 10 random start-up trials keeps its sampler's gamma, default_gamma.
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=12)
    dump("optuna_study_tpe.pkl", study)
    # dateutil's tzfile pickles as tzfile(None, filename), which opens nothing.
    dump("datetime_dateutil_zone.pkl", datetime.datetime(2020, 1, 1, tzinfo=tz.gettz("Europe/London")))
    dump("pandas_dateutil_zone.pkl", pd.date_range("2021", periods=2, tz="dateutil/Europe/London"))
    dump("networkx_frozen_graph.pkl", nx.freeze(nx.path_graph(3)))
    dump("nonetype.pkl", type(None))
    # Protocol 0 writes an array's bytes as one escaped line (here some 100 kB).
    dump("numpy_zeros_protocol0.pkl", np.zeros(3000), protocol=0)
    dump("function_reference_len.pkl", {"agg": len})
    knn = KNeighborsClassifier(metric=distance.cosine, algorithm="brute").fit(np.random.default_rng(0).random((6, 2)), [0, 1] * 3)
    joblib.dump(knn, OUT / "knn_cosine_metric.joblib")
    torch.save({"loss_fn": torch.nn.functional.cross_entropy}, OUT / "torch_loss_reference.pt")
    # Bound methods kept as callables: a str constant's, a compiled pattern's, a stemmer's.
    dump("bound_methods.pkl", {"joiner": " ".join, "finder": re.compile(r"\w+").search})
    joblib.dump(TfidfVectorizer(preprocessor=PorterStemmer().stem), OUT / "tfidf_porter_preprocessor.joblib")
    # Type hints kept in configs (typing's and builtin generics, a PEP 604 union), key functions, a float function.
    kept = {"hints": [List[int], Optional[Dict[str, Tuple[int, ...]]], Union[int, str], list[int], dict[str, list[float]], int | None],
            "keys": [operator.itemgetter(1), operator.itemgetter("a", "b"), operator.attrgetter("name.first"), {"a": 1}.get],
            "activation": math.sqrt}
    dump("type_hints_and_keys_p2.pkl", kept, protocol=2)
    dump("type_hints_and_keys_p4.pkl", kept)
    # Tensors through pickle.dump, not torch.save: each storage pickles as
    # torch.storage._load_from_bytes(<torch.save's legacy stream of that storage>).
    torch.manual_seed(0)
    dump("torch_tensors_plain_p2.pkl", {"weight": torch.randn(3, 3), "bias": torch.zeros(3)}, protocol=2)
    dump("torch_linear_plain_p4.pkl", torch.nn.Linear(2, 2))
    print(f"wrote {len(list(OUT.iterdir()))} files to {OUT}")


if __name__ == "__main__":
    main()
