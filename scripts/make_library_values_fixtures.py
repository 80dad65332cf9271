"""Generates test/fixtures/library-values/: small pickles real libraries write that hold values a first
allowlist lacked (a fourth precision measurement): trl's training_args.bin, statsmodels and SciPy
models that keep bound methods (the getattr convention), a pandas Holiday with an observance rule,
pandas ArrowDtype columns of nested and decimal types and standard-library values (array, ipaddress,
ChainMap, struct_time). (A pickled transformers image processor is not among them: the screen that
follows calls excludes those classes, whose __call__ fetches an image URL it is given.)

Run by hand in a venv with the libraries (CI never runs Python), e.g.:

    /root/.pyenv/versions/3.11.7/bin/python -m venv /tmp/libvalues
    /tmp/libvalues/bin/pip install trl transformers torch statsmodels scipy pandas pyarrow
    /tmp/libvalues/bin/python scripts/make_library_values_fixtures.py

The library versions go into the manifest notes. Every file passes: each name it pickles is allowlisted.
"""
import array
import collections
import ipaddress
import json
import os
import pickle
import time
import warnings

warnings.filterwarnings("ignore")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np
import pandas as pd
import pyarrow as pa
import scipy
import statsmodels
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "library-values")
manifest = []


def add(rel, note):
    manifest.append({"file": "library-values/" + rel, "expect": "pass", "threat": None, "mentions": [], "note": note})


def dump(rel, obj, note, protocol=4):
    with open(os.path.join(OUT, rel), "wb") as f:
        pickle.dump(obj, f, protocol=protocol)
    add(rel, note)


def trl_fixtures():
    import transformers
    import trl

    args = trl.SFTConfig(output_dir="out", report_to=[], max_steps=1, use_cpu=True, bf16=False)
    # What Trainer._save writes: torch.save(self.args, "training_args.bin").
    torch.save(args, os.path.join(OUT, "trl_sft_training_args.bin"))
    add("trl_sft_training_args.bin", f"trl {trl.__version__} SFTConfig saved as Trainer saves training_args.bin "
        f"(transformers {transformers.__version__}, torch {torch.__version__})")


def statsmodels_fixtures():
    from statsmodels.discrete.count_model import ZeroInflatedPoisson
    from statsmodels.nonparametric.kernel_regression import KernelReg
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    rng = np.random.default_rng(0)
    y = pd.Series(10 + np.sin(np.arange(16)) + rng.normal(0, 0.1, 16), index=pd.date_range("2020", periods=16, freq="MS"))
    ets = ETSModel(y, error="add", trend="add").fit(disp=False, maxiter=20)
    dump("statsmodels_ets_results.pkl", ets.model, f"statsmodels {statsmodels.__version__} fitted ETSModel: "
         "getattr(model, 'loglike') and the Cython smoother it keeps")
    x = np.linspace(0, 1, 8)
    kr = KernelReg(x ** 2, x, var_type="c", bw=[0.2])
    dump("statsmodels_kernelreg.pkl", kr, f"statsmodels {statsmodels.__version__} KernelReg: getattr(model, '_est_loc_constant') "
         "and '_est_loc_linear'")
    counts = np.array([0, 0, 1, 2, 0, 3, 0, 1])
    zip_model = ZeroInflatedPoisson(counts, np.ones((8, 1)), inflation="logit")
    dump("statsmodels_zip_model.pkl", zip_model, f"statsmodels {statsmodels.__version__} ZeroInflatedPoisson: "
         "getattr(model, '_hessian_logit')")


def scipy_fixtures():
    from scipy.interpolate import Rbf

    x = np.linspace(0, 1, 5)
    dump("scipy_rbf_legacy.pkl", Rbf(x, x ** 2), f"SciPy {scipy.__version__} legacy Rbf: getattr(rbf, '_h_multiquadric')")


def pandas_fixtures():
    from pandas.tseries.holiday import Holiday, nearest_workday

    dump("pandas_holiday_observance.pkl", Holiday("Custom", month=7, day=4, observance=nearest_workday),
         f"pandas {pd.__version__} Holiday(observance=nearest_workday)")
    frame = pd.DataFrame({
        "s": pd.Series([{"a": 1, "b": "x"}, None], dtype=pd.ArrowDtype(pa.struct([("a", pa.int64()), ("b", pa.string())]))),
        "m": pd.Series([[("k", 1)], None], dtype=pd.ArrowDtype(pa.map_(pa.string(), pa.int32()))),
        "l": pd.Series([[1, 2], None], dtype=pd.ArrowDtype(pa.large_list(pa.int16()))),
        "b": pd.Series([b"abcd", None], dtype=pd.ArrowDtype(pa.binary(4))),
        "d": pd.Series([None, None], dtype=pd.ArrowDtype(pa.decimal128(10, 2))),
        "e": pd.Series([None, None], dtype=pd.ArrowDtype(pa.decimal256(40, 2))),
    })
    frame.to_pickle(os.path.join(OUT, "pandas_arrow_nested.pkl"))
    add("pandas_arrow_nested.pkl", f"pandas {pd.__version__} to_pickle of ArrowDtype struct, map, large_list, "
        f"fixed binary, decimal128 and decimal256 columns (pyarrow {pa.__version__})")


def stdlib_fixtures():
    values = {"array": array.array("d", [1.0, 2.5]), "ip": ipaddress.IPv4Address("10.0.0.1"),
              "net": ipaddress.ip_network("2001:db8::/32"), "iface": ipaddress.ip_interface("10.1.2.3/24"),
              "chain": collections.ChainMap({"a": 1}, {"b": 2}), "when": time.gmtime(0)}
    for p in (2, 5):
        dump(f"stdlib_values_p{p}.pkl", values, f"Python standard-library values pickled with protocol {p}", protocol=p)


def main():
    os.makedirs(OUT, exist_ok=True)
    for part in (trl_fixtures, statsmodels_fixtures, scipy_fixtures, pandas_fixtures, stdlib_fixtures):
        part()
    manifest.sort(key=lambda e: e["file"])
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(e, ensure_ascii=False) for e in manifest) + "\n]\n")
    print(f"{len(manifest)} fixtures in {OUT}")


if __name__ == "__main__":
    main()
