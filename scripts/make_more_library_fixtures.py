"""Generates test/fixtures/more-libraries/: what the libraries the allowlist's fifth to seventh venvs added
write when their objects are pickled, as the fourth precision corpus found them (each blocked before):
torchaudio (Debian's 0.13, scripts/allowlist/requirements-d.txt), arch, astropy and the smaller libraries of
requirements-e.txt, and JAX / optax (requirements-f.txt). No spaCy file: its pickles still block (the screen
keeps spacy.strings.StringStore out, and the engine does not follow getattr of a compiled pattern's method). Every file passes while those
libraries' names are allowlisted.

Run by hand in each of those venvs (CI never runs Python); each run writes the files of the libraries its
venv has and keeps the manifest entries of the others:

    /tmp/al-d/bin/python scripts/make_more_library_fixtures.py
    /tmp/al-e/bin/python scripts/make_more_library_fixtures.py
    /tmp/al-f/bin/python scripts/make_more_library_fixtures.py

A later precision measurement added SciPy's special-function ufuncs (stored by a FunctionTransformer), an
xarray Dataset and a SentencePieceProcessor: any venv with scikit-learn, xarray or sentencepiece writes those.

Small seeded objects; the library versions go into the manifest notes. The jax arrays are float32, int32 and
bfloat16 (whose dtype once hid from the engine that _reconstruct_array's __setstate__ target is an ndarray).
"""
import importlib.util
import json
import os
import pickle
import warnings

warnings.filterwarnings("ignore")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "more-libraries")
manifest = {}


def version(dist):
    import importlib.metadata
    return f"{dist} {importlib.metadata.version(dist)}"


def dump(rel, obj, note, protocol=4):
    with open(os.path.join(OUT, rel), "wb") as f:
        pickle.dump(obj, f, protocol=protocol)
    manifest[rel] = {"file": "more-libraries/" + rel, "expect": "pass", "threat": None, "mentions": [], "note": note}


def torchaudio_files():
    import torch
    import torchaudio.models as M
    import torchaudio.transforms as T

    torch.manual_seed(0)
    v = f"{version('torchaudio')}, torch {torch.__version__}"
    model = M.Conformer(input_dim=8, num_heads=2, ffn_dim=8, num_layers=1, depthwise_conv_kernel_size=3)
    torch.save(model, os.path.join(OUT, "torchaudio_conformer_whole.pt"))
    manifest["torchaudio_conformer_whole.pt"] = {
        "file": "more-libraries/torchaudio_conformer_whole.pt", "expect": "pass", "threat": None, "mentions": [],
        "note": f"torch.save of a whole torchaudio Conformer ({v})"}
    transforms = torch.nn.Sequential(T.MelSpectrogram(16000, n_fft=32, n_mels=4), T.AmplitudeToDB(), T.FrequencyMasking(2))
    torch.save(transforms, os.path.join(OUT, "torchaudio_transforms_whole.pt"))
    manifest["torchaudio_transforms_whole.pt"] = {
        "file": "more-libraries/torchaudio_transforms_whole.pt", "expect": "pass", "threat": None, "mentions": [],
        "note": f"torch.save of torchaudio transforms (MelSpectrogram, AmplitudeToDB, FrequencyMasking) in a Sequential ({v})"}


def arch_files():
    import numpy as np
    from arch import arch_model

    res = arch_model(np.random.RandomState(0).standard_normal(200), vol="GARCH", p=1, q=1, dist="t").fit(disp="off")
    dump("arch_garch_result.pkl", res, f"pickle.dump of a fitted arch GARCH(1,1) with Student's t errors ({version('arch')})")


def astropy_files():
    import numpy as np
    import astropy.units as u
    from astropy.modeling import models
    from astropy.time import Time

    values = {"speed": np.arange(3.0) * u.km / u.s, "when": Time("2020-01-01T00:00:00", scale="utc"),
              "model": models.Gaussian1D(1, 0, 1) + models.Const1D(0)}
    dump("astropy_values.pkl", values, f"pickle.dump of an astropy Quantity, Time and compound model ({version('astropy')})")


def small_files():
    if importlib.util.find_spec("gymnasium"):
        import numpy as np
        from gymnasium import spaces
        dump("gymnasium_spaces.pkl", spaces.Dict({"obs": spaces.Box(-1, 1, (4,), np.float32), "act": spaces.Discrete(3)}),
             f"pickle.dump of gymnasium observation / action spaces ({version('gymnasium')})")
    if importlib.util.find_spec("rank_bm25"):
        import rank_bm25
        dump("rank_bm25_okapi.pkl", rank_bm25.BM25Okapi([["cat", "dog"], ["fish"]]), f"pickle.dump of a BM25Okapi ({version('rank-bm25')})")
    if importlib.util.find_spec("igraph"):
        import igraph
        dump("igraph_graph.pkl", igraph.Graph.Famous("Zachary"), f"pickle.dump of an igraph Graph ({version('igraph')})")
    if importlib.util.find_spec("shapely"):
        from shapely.geometry import Point, Polygon
        dump("shapely_geoms.pkl", [Point(0, 0), Polygon([(0, 0), (1, 0), (1, 1)])], f"pickle.dump of shapely geometries ({version('shapely')})")


def jax_files():
    import jax
    import jax.numpy as jnp
    import optax

    params = {"w": jnp.arange(4, dtype=jnp.float32), "b": jnp.zeros(2, dtype=jnp.int32)}
    v = f"{version('jax')}, {version('optax')}"
    dump("jax_params.pkl", params, f"pickle.dump of jax arrays ({v})")
    dump("optax_adam_state.pkl", optax.adam(1e-3).init(params), f"pickle.dump of an optax Adam state ({v})")
    dump("jax_prng_key.pkl", jax.random.key(0), f"pickle.dump of a typed jax PRNG key (threefry) ({v})")
    dump("jax_bfloat16.pkl", {"w": jnp.ones((2, 2), dtype=jnp.bfloat16)}, f"pickle.dump of a bfloat16 jax array ({v})")


def scipy_special_files():
    import numpy as np
    import scipy.special
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    x = np.random.RandomState(0).standard_normal((8, 1))
    pipe = make_pipeline(FunctionTransformer(scipy.special.expit), FunctionTransformer(scipy.special.log1p), Ridge()).fit(x, x[:, 0])
    dump("scipy_special_ufuncs.pkl", pipe, f"pickle.dump of a pipeline of FunctionTransformer(scipy.special.expit / log1p) "
         f"({version('scipy')}, {version('scikit-learn')})")


def xarray_files():
    import numpy as np
    import pandas as pd
    import xarray as xr

    ds = xr.Dataset({"t": (("time", "x"), np.arange(12.0).reshape(4, 3))}, coords={"time": pd.date_range("2024", periods=4), "x": [10, 20, 30]},
                    attrs={"units": "K"})
    for protocol in (2, 5):
        dump(f"xarray_dataset_p{protocol}.pkl", ds, f"pickle.dump of an xarray Dataset, protocol {protocol} ({version('xarray')})", protocol)


def sentencepiece_files():
    import tempfile
    import sentencepiece as spm

    with tempfile.TemporaryDirectory() as tmp:
        text = os.path.join(tmp, "corpus.txt")
        with open(text, "w") as f:
            f.write("\n".join(["the quick brown fox jumps over the lazy dog"] * 20 + ["pack my box with five dozen liquor jugs"] * 20))
        spm.SentencePieceTrainer.train(input=text, model_prefix=os.path.join(tmp, "m"), vocab_size=30, minloglevel=2)
        processor = spm.SentencePieceProcessor(model_file=os.path.join(tmp, "m.model"))
    dump("sentencepiece_processor.pkl", processor, f"pickle.dump of a SentencePieceProcessor (its state is the model proto) ({version('sentencepiece')})")


def main():
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "manifest.json")
    if os.path.exists(path):
        for e in json.load(open(path)):
            manifest[e["file"].split("/", 1)[1]] = e
    for spec, make in (("torchaudio", torchaudio_files), ("arch", arch_files),
                       ("astropy", astropy_files), ("rank_bm25", small_files), ("optax", jax_files),
                       ("sklearn", scipy_special_files), ("xarray", xarray_files), ("sentencepiece", sentencepiece_files)):
        if importlib.util.find_spec(spec):
            make()
    with open(path, "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(manifest[k]) for k in sorted(manifest)) + "\n]\n")


if __name__ == "__main__":
    main()
