"""Representative objects of each library, the way models and checkpoints contain them.

Each builder yields (label, object) pairs, or (label, bytes) for files a library writes itself
(torch.save, DCP's .metadata) and for objects pickled here already ("pickled ..." labels: stim's
pybind classes abort the interpreter when protocols 0 and 1 try them, which would lose the rest). A builder whose library is missing, or that fails, is skipped by
the caller and reported; one failing object does not stop the others (see `each`).
"""

from __future__ import annotations

import datetime
import io
import os
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")
BUILDERS = []


def builder(fn):
    BUILDERS.append(fn)
    return fn


def each(label, make):
    """One object, or nothing when it cannot be built here."""
    try:
        return [(label, make())]
    except Exception as e:  # noqa: BLE001 - a sample this version cannot build
        print(f"  sample {label}: {type(e).__name__}: {str(e)[:120]}", file=sys.stderr)
        return []


def scale(x):
    """Module-level so that pickles can name it (LambdaLR, FunctionTransformer, ...)."""
    return x


@builder
def python():
    import argparse
    import collections
    import decimal
    import fractions
    import pathlib
    import re
    import uuid
    import zoneinfo

    yield "stdlib", [
        collections.OrderedDict(a=1), collections.deque([1, 2], maxlen=5), collections.defaultdict(list, a=[1]),
        collections.Counter("abca"), datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
        datetime.date(2020, 1, 1), datetime.time(1, 2), datetime.timedelta(3), datetime.timezone(datetime.timedelta(hours=2)),
        decimal.Decimal("1.5"), fractions.Fraction(1, 3), uuid.uuid4(), pathlib.PurePosixPath("/a"), pathlib.Path("a"),
        pathlib.PureWindowsPath("c:/a"), argparse.Namespace(lr=0.1), re.compile("a+", re.I), b"\x00\xff", bytearray(b"x"),
        {1, 2}, frozenset({3}), 1 + 2j, range(3), slice(1, 2), Ellipsis, NotImplemented, None, True, 2**70, 1.5, "s",
        (1, "a"), zoneinfo.ZoneInfo("UTC"),
    ]


@builder
def numpy_objects():
    import numpy as np

    arrays = [np.zeros(3, dtype=t) for t in (
        "?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "g", "c8", "c16", "G", "U3", "S3",
        "O", "M8[ns]", "M8[D]", "m8[s]", "V4", [("a", "i4"), ("b", "f8", (2,))])]
    yield "numpy arrays", arrays + [np.arange(6).reshape(2, 3).T, np.asfortranarray(np.ones((2, 2)))]
    yield "numpy scalars", [a[0] for a in arrays] + [np.dtype(t) for t in ("f4", "U3", "O", [("a", "i4")])]
    if hasattr(np, "dtypes") and hasattr(np.dtypes, "StringDType"):
        yield from each("numpy StringDType", lambda: np.array(["a", "bb"], dtype=np.dtypes.StringDType()))
    yield "numpy ufuncs", [u for u in vars(np).values() if isinstance(u, np.ufunc)]
    yield "numpy masked", [np.ma.masked_array([1, 2, 3], mask=[0, 1, 0]), np.ma.masked]
    yield "numpy rec/matrix", [np.rec.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")]), np.asmatrix(np.eye(2))]
    r = np.random
    gens = [r.default_rng(1), r.RandomState(1), r.SeedSequence(1), r.Generator(r.PCG64(1))]
    for name in ("MT19937", "PCG64", "PCG64DXSM", "Philox", "SFC64"):
        if hasattr(r, name):
            bg = getattr(r, name)(1)
            gens += [bg, r.Generator(bg), r.RandomState(bg) if name == "MT19937" else bg]
    yield "numpy random", gens
    yield from each("numpy legacy random", lambda: np.random.mtrand._rand)


@builder
def ml_dtypes_objects():
    import ml_dtypes
    import numpy as np

    names = ("bfloat16", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e4m3b11fnuz",
             "int4", "uint4", "float4_e2m1fn", "float6_e2m3fn", "float6_e3m2fn", "float8_e8m0fnu", "int2", "uint2")
    yield "ml_dtypes", [np.zeros(2, dtype=getattr(ml_dtypes, n)) for n in names if hasattr(ml_dtypes, n)]


@builder
def scipy_objects():
    import numpy as np
    import scipy.sparse as sp

    dense = np.eye(4)
    mats = []
    for fmt in ("csr", "csc", "coo", "bsr", "dia", "dok", "lil"):
        for kind in ("matrix", "array"):
            if hasattr(sp, f"{fmt}_{kind}"):
                mats.append(getattr(sp, f"{fmt}_{kind}")(dense))
    yield "scipy sparse", mats
    from scipy import interpolate, spatial, stats

    x = np.linspace(0, 1, 8)
    y = x ** 2
    for label, make in [
        ("interp1d", lambda: interpolate.interp1d(x, y)),
        ("CubicSpline", lambda: interpolate.CubicSpline(x, y)),
        ("PchipInterpolator", lambda: interpolate.PchipInterpolator(x, y)),
        ("Akima1DInterpolator", lambda: interpolate.Akima1DInterpolator(x, y)),
        ("UnivariateSpline", lambda: interpolate.UnivariateSpline(x, y)),
        ("make_interp_spline", lambda: interpolate.make_interp_spline(x, y)),
        ("RegularGridInterpolator", lambda: interpolate.RegularGridInterpolator((x,), y)),
        ("RBFInterpolator", lambda: interpolate.RBFInterpolator(x[:, None], y)),
        ("LinearNDInterpolator", lambda: interpolate.LinearNDInterpolator(np.random.rand(10, 2), np.arange(10.0))),
        ("NearestNDInterpolator", lambda: interpolate.NearestNDInterpolator(np.random.rand(10, 2), np.arange(10.0))),
        ("KDTree", lambda: spatial.KDTree(np.random.rand(10, 2))),
        ("cKDTree", lambda: spatial.cKDTree(np.random.rand(10, 2))),
        ("Rotation", lambda: spatial.transform.Rotation.from_euler("z", 30, degrees=True)),
        ("gaussian_kde", lambda: stats.gaussian_kde(np.random.rand(20))),
        ("frozen norm", lambda: stats.norm(0, 1)),
        ("frozen gamma", lambda: stats.gamma(2.0)),
        ("frozen poisson", lambda: stats.poisson(3.0)),
        ("frozen multivariate_normal", lambda: stats.multivariate_normal([0, 0], np.eye(2))),
        ("frozen dirichlet", lambda: stats.dirichlet([1.0, 2.0])),
        ("rv_histogram", lambda: stats.rv_histogram(np.histogram(np.random.rand(30)))),
    ]:
        yield from each(f"scipy {label}", make)


@builder
def sklearn_objects():
    import numpy as np
    from sklearn.utils import all_estimators

    rng = np.random.RandomState(0)
    X = rng.rand(30, 4)
    y = np.array([0, 1, 2] * 10)
    yr = rng.rand(30)
    Xpos = np.abs(X)
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.tree import DecisionTreeClassifier

    def meta_args(cls):
        """Meta-estimators' required arguments: a classifier or regressor, a list of them, a grid."""
        import inspect

        params = inspect.signature(cls.__init__).parameters
        reg = "Regressor" in cls.__name__ or "Regression" in cls.__name__
        base = Ridge() if reg else LogisticRegression()
        given = {"estimator": base, "estimators": [("a", base), ("b", Ridge() if reg else DecisionTreeClassifier())],
                 "param_grid": {"C" if not reg else "alpha": [1.0]}, "param_distributions": {"C" if not reg else "alpha": [1.0]},
                 "steps": [("s", StandardScaler()), ("m", base)], "transformer_list": [("s", StandardScaler())],
                 "transformers": [("s", StandardScaler(), [0])], "dictionary": np.eye(4)}
        return {k: v for k, v in given.items() if k in params and params[k].default is inspect.Parameter.empty}

    from sklearn.preprocessing import StandardScaler
    for name, cls in all_estimators():
        def make(cls=cls):
            est = cls(**meta_args(cls))
            for args in ((X, y), (X, yr), (X,), (Xpos, y), (X, np.c_[yr, yr])):
                try:
                    return est.fit(*args)
                except Exception:  # noqa: BLE001 - the next data shape
                    continue
            return est
        yield from each(f"sklearn {name}", make)
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.neighbors import BallTree, KDTree, KNeighborsClassifier
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder
    import pandas as pd

    df = pd.DataFrame({"a": rng.rand(30), "b": ["x", "y", "z"] * 10})
    yield from each("sklearn ColumnTransformer", lambda: make_pipeline(ColumnTransformer(
        [("num", StandardScaler(), ["a"]), ("cat", OneHotEncoder(), ["b"])]), LogisticRegression()).fit(df, y))
    yield from each("sklearn union", lambda: make_union(StandardScaler(), FunctionTransformer(scale)).fit(X))
    yield from each("sklearn trees", lambda: [KDTree(X), BallTree(X), KNeighborsClassifier(3).fit(X, y)])
    yield from each("sklearn hgb", lambda: [HistGradientBoostingClassifier(max_iter=3).fit(X, y),
                                            HistGradientBoostingRegressor(max_iter=3).fit(X, yr)])


@builder
def pandas_objects():
    import numpy as np
    import pandas as pd

    s = [
        pd.Series([1, 2]), pd.Series([1.5, None]), pd.Series(["a", "b"], dtype=object),
        pd.Series(["a", "b"], dtype="category"), pd.Series(pd.period_range("2020", periods=2, freq="M")),
        pd.Series(pd.interval_range(0, 2)), pd.Series(pd.date_range("2020", periods=2)),
        pd.Series(pd.date_range("2020", periods=2, tz="UTC")), pd.Series(pd.timedelta_range("1D", periods=2)),
        pd.Series([1, None], dtype="Int64"), pd.Series([1.5, None], dtype="Float64"),
        pd.Series([True, None], dtype="boolean"), pd.Series(pd.arrays.SparseArray([0, 1, 0])),
        pd.Series([1, 2], dtype="UInt8"), pd.Series([True, False]),
    ]
    for label, make in [
        ("tz pytz", lambda: pd.Series(pd.date_range("2020", periods=2, tz=__import__("pytz").timezone("Europe/Paris")))),
        ("tz zoneinfo", lambda: pd.Series(pd.date_range("2020", periods=2, tz=__import__("zoneinfo").ZoneInfo("Europe/Paris")))),
        ("tz dateutil", lambda: pd.Series(pd.date_range("2020", periods=2, tz="dateutil/Europe/Paris"))),
        ("string python", lambda: pd.Series(["a", None], dtype="string[python]")),
        ("string pyarrow", lambda: pd.Series(["a", None], dtype="string[pyarrow]")),
        ("str", lambda: pd.Series(["a", None], dtype="str")),
        ("arrow int", lambda: pd.Series([1, None], dtype="int64[pyarrow]")),
        ("arrow ts", lambda: pd.Series(pd.date_range("2020", periods=2)).astype("timestamp[ns][pyarrow]")),
        ("frame", lambda: pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "c": [1.0, 2.0]})),
        ("multiindex", lambda: pd.DataFrame({"v": [1, 2]}, index=pd.MultiIndex.from_tuples([("a", 1), ("b", 2)]))),
        ("indexes", lambda: [pd.Index([1, 2]), pd.RangeIndex(3), pd.CategoricalIndex(["a"]), pd.DatetimeIndex(["2020"]),
                             pd.PeriodIndex(["2020"], freq="D"), pd.TimedeltaIndex(["1D"]), pd.IntervalIndex.from_breaks([0, 1]),
                             pd.Index([1.5]), pd.Index(["a"]), pd.Index([True])]),
        ("scalars", lambda: [pd.Timestamp("2020", tz="UTC"), pd.Timestamp("2020"), pd.Timedelta("1D"), pd.Period("2020", "M"),
                             pd.Interval(0, 1), pd.NaT, pd.NA, pd.Categorical(["a"]), pd.CategoricalDtype(["a"])]),
        ("offsets", lambda: [getattr(pd.offsets, n)() for n in dir(pd.offsets) if n[0].isupper() and n not in
                             ("DateOffset", "BaseOffset", "Tick", "CustomBusinessDay", "CBMonthBegin", "CBMonthEnd",
                              "CustomBusinessMonthBegin", "CustomBusinessMonthEnd", "CustomBusinessHour")] +
                            [pd.DateOffset(days=1), pd.offsets.CustomBusinessDay(), pd.offsets.CustomBusinessHour()]),
        ("dtypes", lambda: [pd.Int64Dtype(), pd.Float64Dtype(), pd.BooleanDtype(), pd.StringDtype(), pd.SparseDtype(),
                            pd.IntervalDtype("int64"), pd.PeriodDtype("D"), pd.DatetimeTZDtype(tz="UTC")]),
        ("groupby frame", lambda: pd.DataFrame({"a": [1, 1], "b": [1, 2]}).groupby("a").sum()),
        ("wide frame", lambda: pd.DataFrame(np.ones((3, 3)), columns=list("abc")).astype({"a": "int32"})),
    ]:
        yield from each(f"pandas {label}", make)
    yield "pandas series", s


@builder
def pyarrow_objects():
    import pyarrow as pa

    yield from each("pyarrow", lambda: [pa.array([1, 2]), pa.table({"a": [1]}), pa.chunked_array([[1], [2]]),
                                        pa.int64(), pa.schema([("a", pa.int64())]), pa.scalar(1), pa.array(["a"]),
                                        pa.record_batch({"a": [1]}), pa.timestamp("ns", tz="UTC"), pa.list_(pa.int8()),
                                        pa.dictionary(pa.int8(), pa.string()), pa.field("a", pa.float32()), pa.py_buffer(b"x")])
    # Every DataType's __reduce__ names its factory (struct, map_, decimal128, union, ...): pickled pandas
    # ArrowDtype columns hold them. One sample each, as older pyarrow releases lack some.
    for label, make in [
        ("struct", lambda: pa.struct([("a", pa.int32()), pa.field("b", pa.string(), nullable=False)])),
        ("map", lambda: pa.map_(pa.string(), pa.int32(), keys_sorted=True)),
        ("large list", lambda: pa.large_list(pa.int32())), ("fixed list", lambda: pa.list_(pa.int32(), 2)),
        ("list view", lambda: pa.list_view(pa.int32())), ("large list view", lambda: pa.large_list_view(pa.int32())),
        ("fixed binary", lambda: pa.binary(8)), ("decimal32", lambda: pa.decimal32(5, 2)),
        ("decimal64", lambda: pa.decimal64(10, 2)), ("decimal128", lambda: pa.decimal128(10, 2)),
        ("decimal256", lambda: pa.decimal256(40, 2)), ("run end", lambda: pa.run_end_encoded(pa.int32(), pa.string())),
        ("unions", lambda: [pa.dense_union([pa.field("a", pa.int32())]), pa.sparse_union([pa.field("a", pa.int32())])]),
        ("extension types", lambda: [pa.fixed_shape_tensor(pa.float32(), [2, 2]), pa.uuid(), pa.bool8(), pa.json_(),
                                     pa.opaque(pa.int32(), "t", "v")]),
        ("pandas nested", lambda: __import__("pandas").DataFrame({
            "s": __import__("pandas").Series([{"a": 1}], dtype=__import__("pandas").ArrowDtype(pa.struct([("a", pa.int64())]))),
            "d": __import__("pandas").Series([None], dtype=__import__("pandas").ArrowDtype(pa.decimal128(10, 2)))})),
    ]:
        yield from each(f"pyarrow {label}", make)


@builder
def torch_objects():
    import torch

    dtypes = [v for v in vars(torch).values() if isinstance(v, torch.dtype)]
    tensors = []
    for d in dtypes:
        try:
            tensors.append(torch.zeros(2, dtype=d))
        except Exception:  # noqa: BLE001 - dtypes without CPU tensors (bits, float4)
            pass
    yield "torch tensors", tensors + dtypes + [torch.Size([2, 3]), torch.device("cpu"), torch.device("cuda", 0),
                                               torch.nn.Parameter(torch.ones(2)), torch.zeros(2, device="meta"),
                                               torch.ones(2, 2).t(), torch.ones(4)[1:], torch.per_tensor_affine]
    for label, make in [
        ("quantized", lambda: [torch.quantize_per_tensor(torch.ones(3), 0.1, 0, torch.qint8),
                               torch.quantize_per_channel(torch.ones(2, 2), torch.tensor([0.1, 0.2]), torch.tensor([0, 0]), 0, torch.quint8)]),
        ("sparse", lambda: [torch.eye(3).to_sparse(), torch.eye(3).to_sparse_csr(), torch.eye(3).to_sparse_csc(),
                            torch.eye(4).to_sparse_bsr((2, 2)), torch.eye(4).to_sparse_bsc((2, 2))]),
        ("nested", lambda: torch.nested.nested_tensor([torch.ones(2), torch.ones(3)])),
        ("nested jagged", lambda: torch.nested.nested_tensor([torch.ones(2), torch.ones(3)], layout=torch.jagged)),
        ("buffer", lambda: torch.nn.Buffer(torch.ones(2))),
        ("uninitialized", lambda: torch.nn.LazyLinear(3)),
        ("distributions", lambda: [torch.distributions.Normal(0.0, 1.0), torch.distributions.Categorical(torch.ones(3))]),
        ("grad scaler", lambda: torch.amp.GradScaler("cpu")),
        ("generator", lambda: torch.Generator().manual_seed(1)),
        ("rng state", lambda: torch.get_rng_state()),
        ("layers", lambda: torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.ReLU(),
                                               torch.nn.LSTM(2, 2), torch.nn.TransformerEncoderLayer(8, 2),
                                               torch.nn.MultiheadAttention(8, 2), torch.nn.Embedding(4, 2),
                                               torch.nn.LayerNorm(2), torch.nn.GRU(2, 2), torch.nn.Dropout())),
        ("quantized model", lambda: torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(torch.nn.Linear(4, 4)),
                                                                           {torch.nn.Linear}, dtype=torch.qint8)),
        ("weight norm", lambda: torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(2, 2))),
        ("spectral norm", lambda: torch.nn.utils.spectral_norm(torch.nn.Linear(2, 2))),
    ]:
        yield from each(f"torch {label}", make)
    params = [torch.nn.Parameter(torch.ones(2, 2))]
    for name in dir(torch.optim):
        cls = getattr(torch.optim, name)
        if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)) or cls is torch.optim.Optimizer:
            continue

        def make_opt(cls=cls):
            p = [torch.nn.Parameter(torch.ones(2, 2))]
            opt = cls(p, lr=0.01) if cls is not torch.optim.SparseAdam else cls([torch.nn.Parameter(torch.ones(2))], lr=0.01)
            for q in opt.param_groups[0]["params"]:
                q.grad = torch.ones_like(q) if cls is not torch.optim.SparseAdam else torch.ones_like(q).to_sparse()
            opt.step((lambda: torch.tensor(0.0)) if cls is torch.optim.LBFGS else None)
            return [opt, opt.state_dict()]
        yield from each(f"torch optim {name}", make_opt)
    from torch.optim import lr_scheduler as L

    def opt():
        return torch.optim.SGD(params, lr=0.1, momentum=0.9)
    for label, make in [
        ("StepLR", lambda: L.StepLR(opt(), 2)), ("MultiStepLR", lambda: L.MultiStepLR(opt(), [1, 2])),
        ("ConstantLR", lambda: L.ConstantLR(opt())), ("LinearLR", lambda: L.LinearLR(opt())),
        ("ExponentialLR", lambda: L.ExponentialLR(opt(), 0.9)), ("PolynomialLR", lambda: L.PolynomialLR(opt())),
        ("CosineAnnealingLR", lambda: L.CosineAnnealingLR(opt(), 3)),
        ("CosineAnnealingWarmRestarts", lambda: L.CosineAnnealingWarmRestarts(opt(), 3)),
        ("CyclicLR", lambda: L.CyclicLR(opt(), 0.01, 0.1)), ("OneCycleLR", lambda: L.OneCycleLR(opt(), 0.1, total_steps=10)),
        ("ReduceLROnPlateau", lambda: L.ReduceLROnPlateau(opt())), ("LambdaLR", lambda: L.LambdaLR(opt(), scale)),
        ("MultiplicativeLR", lambda: L.MultiplicativeLR(opt(), scale)),
        ("SequentialLR", lambda: (lambda o: L.SequentialLR(o, [L.ConstantLR(o), L.StepLR(o, 2)], [2]))(opt())),
        ("ChainedScheduler", lambda: (lambda o: L.ChainedScheduler([L.ConstantLR(o), L.StepLR(o, 2)]))(opt())),
    ]:
        def both(make=make):
            s = make()
            return [s, s.state_dict()]
        yield from each(f"torch lr_scheduler {label}", both)
    yield from each("torch swa", lambda: torch.optim.swa_utils.AveragedModel(torch.nn.Linear(2, 2)))
    yield from each("torch swa lr", lambda: torch.optim.swa_utils.SWALR(opt(), 0.1))
    yield from torch_files()


def torch_files():
    """torch.save's own layouts (zip and legacy) and a DCP checkpoint's .metadata."""
    import torch

    obj = {"model": torch.nn.Linear(2, 2).state_dict(), "epoch": 1, "t": torch.ones(2, dtype=torch.bfloat16),
           "p": torch.nn.Parameter(torch.ones(1)), "optim": torch.optim.Adam([torch.nn.Parameter(torch.ones(1))]).state_dict()}
    for legacy in (False, True):
        buf = io.BytesIO()
        torch.save(obj, buf, _use_new_zipfile_serialization=not legacy)
        data = buf.getvalue()
        if not legacy:
            import zipfile

            with zipfile.ZipFile(io.BytesIO(data)) as z:
                data = z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))
        yield f"torch.save legacy={legacy}", data
    try:
        import torch.distributed.checkpoint as dcp

        with tempfile.TemporaryDirectory() as d:
            dcp.save({"model": torch.nn.Linear(2, 2).state_dict(), "step": 3, "extra": {"lr": 0.1}}, checkpoint_id=d)
            with open(os.path.join(d, ".metadata"), "rb") as f:
                yield "dcp .metadata", f.read()
    except Exception as e:  # noqa: BLE001
        print(f"  sample dcp: {type(e).__name__}: {e}", file=sys.stderr)


@builder
def torchvision_models():
    import torch  # torchvision's ops are stubbed by introspect.py before this import
    import torchvision

    for name in torchvision.models.list_models():
        def make(name=name):
            with torch.device("meta"):  # module classes are what matters; no memory for vit_h_14's weights
                try:  # detection and segmentation models would fetch their backbone's weights
                    return torchvision.models.get_model(name, weights=None, weights_backbone=None)
                except TypeError:
                    return torchvision.models.get_model(name, weights=None)
        yield from each(f"torchvision {name}", make)


@builder
def transformers_objects():
    import transformers
    from transformers import CONFIG_MAPPING, TrainingArguments

    with tempfile.TemporaryDirectory() as d:
        yield from each("transformers TrainingArguments", lambda: TrainingArguments(output_dir=d, report_to=[]))
        yield from each("transformers Seq2SeqTrainingArguments",
                        lambda: transformers.Seq2SeqTrainingArguments(output_dir=d, report_to=[]))
    for key in list(CONFIG_MAPPING.keys()):
        yield from each(f"transformers config {key}", lambda key=key: CONFIG_MAPPING[key]())
    yield from each("transformers GenerationConfig", lambda: transformers.GenerationConfig(max_new_tokens=3))
    yield from each("transformers small bert", lambda: transformers.BertModel(transformers.BertConfig(
        hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=8, vocab_size=20)))
    yield from each("transformers small gpt2", lambda: transformers.GPT2LMHeadModel(transformers.GPT2Config(
        n_embd=8, n_layer=1, n_head=2, vocab_size=20)))
    yield from each("transformers llama", lambda: transformers.LlamaForCausalLM(transformers.LlamaConfig(
        hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=8, vocab_size=20,
        num_key_value_heads=1)))
    yield from each("transformers fast tokenizer", lambda: transformers.PreTrainedTokenizerFast(
        tokenizer_object=_tiny_tokenizer()))


def _tiny_tokenizer():
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    tok = Tokenizer(models.WordLevel({"a": 0, "b": 1, "[UNK]": 2}, unk_token="[UNK]"))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(single="$A", special_tokens=[])
    tok.decoder = decoders.WordPiece()
    return tok


@builder
def tokenizers_objects():
    from tokenizers import models

    yield from each("tokenizers", lambda: [_tiny_tokenizer(), models.BPE(), models.Unigram(), models.WordPiece({"a": 0})])


@builder
def accelerate_objects():
    import accelerate.utils as u

    yield from each("accelerate", lambda: [u.DistributedType.MULTI_GPU, u.PrecisionType.BF16, u.ProjectConfiguration(),
                                           u.DataLoaderConfiguration(), u.GradientAccumulationPlugin(),
                                           u.DynamoBackend.NO, u.RNGType.TORCH])


@builder
def peft_objects():
    import peft
    import torch

    yield from each("peft configs", lambda: [peft.LoraConfig(r=2, target_modules=["0"]), peft.PeftType.LORA,
                                             peft.TaskType.CAUSAL_LM, peft.PromptTuningConfig(num_virtual_tokens=2,
                                                                                              task_type="CAUSAL_LM")])
    yield from each("peft model", lambda: peft.get_peft_model(torch.nn.Sequential(torch.nn.Linear(4, 4)),
                                                              peft.LoraConfig(r=2, target_modules=["0"])))


@builder
def lightning_objects():
    for pkg in ("lightning.pytorch", "pytorch_lightning", "lightning.fabric", "lightning_fabric"):
        def make(pkg=pkg):
            mod = __import__(pkg + ".utilities.parsing" if "pytorch" in pkg else pkg + ".utilities.data",
                             fromlist=["AttributeDict"])
            return mod.AttributeDict(lr=0.1, layers=[1, 2])
        yield from each(f"{pkg} AttributeDict", make)
    import lightning.pytorch as L
    import torch

    class Tiny(L.LightningModule):  # pickled by value below; only its hparams matter
        def __init__(self, lr=0.1):
            super().__init__()
            self.save_hyperparameters()
            self.l = torch.nn.Linear(2, 2)
    yield from each("lightning hparams", lambda: Tiny().hparams)


@builder
def omegaconf_objects():
    from omegaconf import OmegaConf

    c = OmegaConf.create({"a": 1, "b": [1, {"c": "x"}], "d": "${a}", "e": None, "f": 1.5, "g": True})
    yield "omegaconf", [c, OmegaConf.create([1, 2]), OmegaConf.structured({"x": 1})]


@builder
def timm_objects():
    import timm

    for name in ("resnet18", "vit_tiny_patch16_224", "efficientnet_b0", "convnext_atto", "mobilenetv3_small_050",
                 "deit_tiny_patch16_224", "regnetx_002", "swin_tiny_patch4_window7_224", "eva02_tiny_patch14_224"):
        yield from each(f"timm {name}", lambda name=name: timm.create_model(name, pretrained=False, device="meta"))


@builder
def sentence_transformers_objects():
    from sentence_transformers import SentenceTransformer, models

    yield from each("sentence-transformers", lambda: SentenceTransformer(modules=[models.Pooling(8), models.Normalize()]))
    # A similarity function set (as the first similarity() call sets it) pickles util.similarity's functions.
    yield from each("sentence-transformers similarity", lambda: SentenceTransformer(
        modules=[models.Pooling(8), models.Normalize()], similarity_fn_name="cosine"))


@builder
def statsmodels_objects():
    import numpy as np
    import statsmodels.api as sm
    from statsmodels.tsa.arima.model import ARIMA

    rng = np.random.RandomState(0)
    X = sm.add_constant(rng.rand(40, 2))
    y = X @ [1, 2, 3] + rng.rand(40)
    yield from each("statsmodels OLS", lambda: sm.OLS(y, X).fit())
    yield from each("statsmodels GLM", lambda: sm.GLM(y, X).fit())
    yield from each("statsmodels Logit", lambda: sm.Logit((y > y.mean()).astype(float), X).fit(disp=0))
    yield from each("statsmodels ARIMA", lambda: ARIMA(rng.rand(40), order=(1, 0, 0)).fit())
    yield from each("statsmodels ExpSmoothing", lambda: sm.tsa.ExponentialSmoothing(rng.rand(40) + 1).fit())


@builder
def nltk_objects():
    import nltk

    train = [({"a": 1}, "x"), ({"a": 2}, "y")]
    yield from each("nltk", lambda: [nltk.PorterStemmer(), nltk.RegexpTokenizer(r"\w+"), nltk.FreqDist("abca"),
                                     nltk.ConditionalFreqDist([("a", "b")]), nltk.NaiveBayesClassifier.train(train),
                                     nltk.Tree("S", ["a"]), nltk.SnowballStemmer("english"), nltk.WordPunctTokenizer(),
                                     nltk.tokenize.TreebankWordTokenizer(), nltk.DecisionTreeClassifier.train(train)])


@builder
def lightgbm_objects():
    import lightgbm as lgb
    import numpy as np

    X = np.random.RandomState(0).rand(40, 3)
    y = np.array([0, 1] * 20)
    yield from each("lightgbm", lambda: [lgb.LGBMClassifier(n_estimators=2, verbose=-1).fit(X, y),
                                         lgb.LGBMRegressor(n_estimators=2, verbose=-1).fit(X, X[:, 0])])
    yield from each("lightgbm booster", lambda: lgb.train({"verbose": -1}, lgb.Dataset(X, y), 2))


@builder
def keras_objects():
    import keras

    yield from each("keras", lambda: keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]))


@builder
def einops_objects():
    import torch
    from einops.layers.torch import Rearrange, Reduce

    yield from each("einops", lambda: torch.nn.Sequential(Rearrange("b c -> c b"), Reduce("b c -> b", "mean")))


@builder
def xgboost_objects():
    import numpy as np
    import xgboost as xgb

    X = np.random.RandomState(0).rand(40, 3)
    y = np.array([0, 1] * 20)
    yield from each("xgboost", lambda: [xgb.XGBClassifier(n_estimators=2, max_depth=2, n_jobs=1).fit(X, y),
                                        xgb.XGBRegressor(n_estimators=2, max_depth=2, n_jobs=1).fit(X, X[:, 0])])
    yield from each("xgboost booster", lambda: xgb.train({"max_depth": 2, "nthread": 1}, xgb.DMatrix(X, label=y), 2))


@builder
def gensim_objects():
    from gensim import corpora, models

    sentences = [["the", "cat", "sat"], ["a", "dog", "barked"], ["the", "dog", "sat"]] * 3

    def w2v():
        return models.Word2Vec(sentences, vector_size=4, min_count=1, epochs=1, workers=1, seed=0)

    def tfidf():
        d = corpora.Dictionary(sentences)
        return [d, models.TfidfModel([d.doc2bow(s) for s in sentences])]

    # What SaveLoad.save pickles (its large arrays apart, in .npy files beside it).
    yield from each("gensim word2vec", lambda: [w2v(), w2v().wv])
    yield from each("gensim dictionary tfidf", tfidf)


@builder
def imblearn_objects():
    import numpy as np
    from imblearn.ensemble import BalancedRandomForestClassifier
    from imblearn.over_sampling import SMOTE
    from imblearn.pipeline import make_pipeline
    from imblearn.under_sampling import RandomUnderSampler
    from sklearn.linear_model import LogisticRegression

    X = np.random.RandomState(0).rand(40, 3)
    y = np.array([0, 1] * 20)
    yield from each("imblearn", lambda: [
        make_pipeline(SMOTE(k_neighbors=2, random_state=0), LogisticRegression()).fit(X, y),
        make_pipeline(RandomUnderSampler(random_state=0), LogisticRegression()).fit(X, y),
        BalancedRandomForestClassifier(n_estimators=2, random_state=0).fit(X, y)])


@builder
def optuna_objects():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial):
        return trial.suggest_float("x", -1, 1) ** 2 + trial.suggest_int("n", 1, 3) + (trial.suggest_categorical("c", ["a", "b"]) == "b")

    def study(sampler):
        s = optuna.create_study(sampler=sampler, pruner=optuna.pruners.MedianPruner())
        s.optimize(objective, n_trials=6)
        return [s, s.best_trial, sampler]

    samplers = {
        "tpe": lambda: optuna.samplers.TPESampler(seed=0),
        "tpe multivariate": lambda: optuna.samplers.TPESampler(seed=0, multivariate=True),
        "random": lambda: optuna.samplers.RandomSampler(seed=0),
        "qmc": lambda: optuna.samplers.QMCSampler(seed=0),
        "nsga2": lambda: optuna.samplers.NSGAIISampler(seed=0),
        "grid": lambda: optuna.samplers.GridSampler({"x": [0.0, 0.5], "n": [1, 2], "c": ["a", "b"]}, seed=0),
    }
    for name, make in samplers.items():
        yield from each(f"optuna study {name}", lambda make=make: study(make()))


@builder
def torchmetrics_objects():
    import torch
    import torchmetrics
    from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score

    def updated(metric, *args):
        metric.update(*args)
        return metric

    preds, target = torch.tensor([0, 1, 2, 1]), torch.tensor([0, 1, 1, 1])
    yield from each("torchmetrics", lambda: [
        updated(MulticlassAccuracy(num_classes=3), preds, target),
        updated(torchmetrics.MeanSquaredError(), preds.float(), target.float()),
        torchmetrics.MetricCollection([MulticlassAccuracy(num_classes=3), MulticlassF1Score(num_classes=3)]),
        torchmetrics.MeanMetric(), torchmetrics.SumMetric(), torchmetrics.CatMetric()])


@builder
def shap_objects():
    import numpy as np
    import shap

    # Explanations only: a pickled explainer carries the numba-compiled link function's bytecode.
    yield from each("shap explanation", lambda: shap.Explanation(
        values=np.zeros((2, 3)), base_values=np.zeros(2), data=np.ones((2, 3)), feature_names=["a", "b", "c"]))


@builder
def pytorch_metric_learning_objects():
    from pytorch_metric_learning import distances, losses, miners, reducers

    yield from each("pytorch-metric-learning", lambda: [
        losses.ArcFaceLoss(num_classes=3, embedding_size=4), miners.MultiSimilarityMiner(),
        losses.TripletMarginLoss(distance=distances.CosineSimilarity(), reducer=reducers.MeanReducer()),
        losses.ContrastiveLoss(), losses.NTXentLoss()])


@builder
def open_clip_objects():
    import open_clip

    for name in ("RN50", "ViT-B-32"):
        yield from each(f"open_clip {name}", lambda name=name: open_clip.create_model(name, pretrained=None))



@builder
def datasets_objects():
    import datasets

    # In memory only: a Dataset read from cache files holds a MemoryMappedTable, whose state is the
    # path it reopens (left out of the allowlist; see generate.py's EXCLUDED).
    features = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=["neg", "pos"]),
                                  "tokens": datasets.List(datasets.Value("int32"))})
    data = {"text": ["a", "b"], "label": [0, 1], "tokens": [[1, 2], [3]]}

    def dataset():
        return datasets.Dataset.from_dict(data, features=features)

    yield from each("datasets features", lambda: [features, datasets.Sequence(datasets.Value("float32"), length=2)])
    yield from each("datasets in-memory dataset", lambda: [dataset(), dataset().train_test_split(test_size=0.5, seed=0)])
    yield from each("datasets formatted dataset", lambda: dataset().with_format("numpy").select([1]))


@builder
def torch_geometric_objects():
    import torch
    from torch_geometric.data import Data, HeteroData

    def hetero():
        h = HeteroData()
        h["paper"].x = torch.zeros(3, 2)
        h["author"].x = torch.zeros(2, 2)
        h["author", "writes", "paper"].edge_index = torch.tensor([[0, 1], [1, 2]])
        return h

    yield from each("torch_geometric data", lambda: [
        Data(x=torch.zeros(3, 2), edge_index=torch.tensor([[0, 1], [1, 2]]), y=torch.tensor([1])), hetero()])


@builder
def networkx_objects():
    import networkx as nx

    def graph(cls):
        g = cls()
        g.add_edge(0, 1, weight=0.5)
        g.add_node(2, label="x")
        g.graph["name"] = "g"
        _ = g.nodes, g.adj, g.edges, g.degree  # the cached views pickle too
        return g

    yield from each("networkx graphs", lambda: [graph(c) for c in (nx.Graph, nx.DiGraph, nx.MultiGraph, nx.MultiDiGraph)])


@builder
def xarray_objects():
    import numpy as np
    import pandas as pd
    import xarray as xr

    def array():
        return xr.DataArray(np.zeros((2, 3)), dims=("t", "x"), coords={"t": pd.date_range("2020-01-01", periods=2),
                                                                       "x": [1, 2, 3]}, attrs={"units": "m"}, name="a")

    yield from each("xarray", lambda: [array(), array().to_dataset(), array().to_dataset().mean("t")])


@builder
def polars_objects():
    import polars as pl

    yield from each("polars", lambda: [
        pl.DataFrame({"a": [1, 2], "b": ["x", "y"], "c": [1.0, None]}), pl.Series("s", [1, 2]),
        pl.DataFrame({"d": ["u", "v"]}, schema={"d": pl.Categorical})])


@builder
def sentencepiece_objects():
    import sentencepiece as spm

    def processor():
        model = io.BytesIO()
        words = ("the quick brown fox jumps over the lazy dog and runs away " * 20).split()
        spm.SentencePieceTrainer.train(sentence_iterator=iter([" ".join(words[i:i + 9]) for i in range(0, 200, 3)]),
                                       model_writer=model, vocab_size=30, minloglevel=2)
        return spm.SentencePieceProcessor(model_proto=model.getvalue())

    yield from each("sentencepiece", processor)


@builder
def pywt_objects():
    import pywt

    yield from each("pywt", lambda: [pywt.Wavelet("db2"), pywt.Wavelet("haar"), pywt.ContinuousWavelet("morl")])


@builder
def torchaudio_objects():
    import torch
    import torchaudio.models as M
    import torchaudio.transforms as T

    models = {  # small configurations of the models the fourth precision corpus saved whole
        "conformer": lambda: M.Conformer(input_dim=16, num_heads=2, ffn_dim=16, num_layers=1, depthwise_conv_kernel_size=3),
        "convtasnet": lambda: M.ConvTasNet(num_sources=2, enc_num_feats=8, msk_num_feats=8, msk_num_hidden_feats=8,
                                           msk_num_layers=1, msk_num_stacks=1),
        "deepspeech": lambda: M.DeepSpeech(n_feature=8, n_hidden=8),
        "wav2letter": lambda: M.Wav2Letter(num_classes=5, input_type="mfcc", num_features=13),
        "wavernn": lambda: M.WaveRNN(upsample_scales=[2, 2], n_classes=16, hop_length=4, n_res_block=1, n_rnn=8, n_fc=8,
                                     n_hidden=8, n_output=8),
        "tacotron2": lambda: M.Tacotron2(n_symbol=10, encoder_embedding_dim=16, encoder_n_convolution=1, decoder_rnn_dim=16,
                                         attention_rnn_dim=16, attention_hidden_dim=8, postnet_n_convolution=1,
                                         postnet_embedding_dim=8, n_mels=8, attention_location_n_filter=4, prenet_dim=8),
        "emformer": lambda: M.Emformer(input_dim=16, num_heads=2, ffn_dim=16, num_layers=1, segment_length=4),
        "hdemucs": lambda: M.HDemucs(sources=["a", "b"], channels=4, depth=2),
        "wav2vec2": lambda: M.wav2vec2_model(
            extractor_mode="group_norm", extractor_conv_layer_config=[(8, 10, 5), (8, 3, 2)], extractor_conv_bias=False,
            encoder_embed_dim=16, encoder_projection_dropout=0.1, encoder_pos_conv_kernel=4, encoder_pos_conv_groups=2,
            encoder_num_layers=1, encoder_num_heads=2, encoder_attention_dropout=0.1, encoder_ff_interm_features=16,
            encoder_ff_interm_dropout=0.1, encoder_dropout=0.1, encoder_layer_norm_first=False, encoder_layer_drop=0.0,
            aux_num_out=4),
        "hubert": lambda: M.hubert_pretrain_model(
            extractor_mode="group_norm", extractor_conv_layer_config=[(8, 10, 5), (8, 3, 2)], extractor_conv_bias=False,
            encoder_embed_dim=16, encoder_projection_dropout=0.1, encoder_pos_conv_kernel=4, encoder_pos_conv_groups=2,
            encoder_num_layers=1, encoder_num_heads=2, encoder_attention_dropout=0.1, encoder_ff_interm_features=16,
            encoder_ff_interm_dropout=0.1, encoder_dropout=0.1, encoder_layer_norm_first=False, encoder_layer_drop=0.0,
            mask_prob=0.5, mask_selection="static", mask_other=0.0, mask_length=2, no_mask_overlap=False,
            mask_min_space=1, mask_channel_prob=0.0, mask_channel_selection="static", mask_channel_other=0.0,
            mask_channel_length=2, no_mask_channel_overlap=False, mask_channel_min_space=1, skip_masked=False,
            skip_nomask=False, num_classes=4, final_dim=8, feature_grad_mult=0.1),
        "rnnt": lambda: M.emformer_rnnt_model(
            input_dim=16, encoding_dim=16, num_symbols=8, segment_length=4, right_context_length=2,
            time_reduction_input_dim=8, time_reduction_stride=2, transformer_num_heads=2, transformer_ffn_dim=16,
            transformer_num_layers=1, transformer_dropout=0.1, transformer_activation="gelu",
            transformer_left_context_length=4, transformer_max_memory_size=0,
            transformer_weight_init_scale_strategy="depthwise", transformer_tanh_on_mem=True, symbol_embedding_dim=8,
            num_lstm_layers=1, lstm_layer_norm=True, lstm_layer_norm_epsilon=1e-5, lstm_dropout=0.1),
    }
    for name, make in models.items():
        yield from each(f"torchaudio {name}", make)
    yield from each("torchaudio transforms", lambda: [
        T.MelSpectrogram(16000, n_fft=64, n_mels=8), T.MFCC(16000, n_mfcc=4, melkwargs={"n_fft": 64, "n_mels": 8}),
        T.Spectrogram(n_fft=64), T.Resample(44100, 16000), torch.nn.Sequential(T.FrequencyMasking(10), T.TimeMasking(20)),
        T.GriffinLim(n_fft=64), T.AmplitudeToDB(), T.Vad(16000), T.MelScale(n_mels=8, n_stft=33), T.InverseMelScale(n_stft=33, n_mels=8),
        T.MuLawEncoding(), T.MuLawDecoding(), T.Fade(), T.Vol(0.5), T.TimeStretch(n_freq=33), T.ComputeDeltas(),
        T.SpectralCentroid(16000, n_fft=64), T.LFCC(16000, n_lfcc=4, speckwargs={"n_fft": 64}), T.SlidingWindowCmn()])


SPACY_TRAIN = [
    ("Apple buys a startup in London", {"entities": [(0, 5, "ORG"), (24, 30, "GPE")], "cats": {"BIZ": 1.0, "SPORT": 0.0},
                                         "tags": ["PROPN", "VERB", "DET", "NOUN", "ADP", "PROPN"],
                                         "pos": ["PROPN", "VERB", "DET", "NOUN", "ADP", "PROPN"],
                                         "morphs": ["Number=Sing", "Tense=Pres", "", "Number=Sing", "", "Number=Sing"],
                                         "lemmas": ["apple", "buy", "a", "startup", "in", "london"],
                                         "heads": [1, 1, 3, 1, 1, 4], "deps": ["nsubj", "ROOT", "det", "dobj", "prep", "pobj"],
                                         "spans": {"sc": [(0, 5, "ORG")]}}),
    ("Messi scores in Paris", {"entities": [(0, 5, "PERSON"), (16, 21, "GPE")], "cats": {"BIZ": 0.0, "SPORT": 1.0},
                               "tags": ["PROPN", "VERB", "ADP", "PROPN"], "pos": ["PROPN", "VERB", "ADP", "PROPN"],
                               "morphs": ["Number=Sing", "Tense=Pres", "", "Number=Sing"], "lemmas": ["messi", "score", "in", "paris"],
                               "heads": [1, 1, 1, 2], "deps": ["nsubj", "ROOT", "prep", "pobj"], "spans": {"sc": [(16, 21, "GPE")]}}),
]


@builder
def spacy_objects():
    """Initialised pipelines pickled whole (pickle.dump(nlp)), and the objects users pickle alone."""
    import numpy as np
    import spacy
    from spacy.matcher import Matcher, PhraseMatcher
    from spacy.training import Example

    def pipeline(pipes):
        nlp = spacy.blank("en")
        for p in pipes:
            if p == "textcat" or p == "textcat_multilabel":
                nlp.add_pipe(p).add_label("BIZ")
            elif p == "entity_ruler":
                nlp.add_pipe(p).add_patterns([{"label": "ORG", "pattern": "Apple"}])
            else:
                nlp.add_pipe(p)
        examples = [Example.from_dict(nlp.make_doc(t), a) for t, a in SPACY_TRAIN]
        nlp.initialize(lambda: examples)
        return nlp

    for pipes in (["ner"], ["tok2vec", "tagger", "morphologizer", "ner", "textcat", "senter", "parser"],
                  ["entity_ruler", "ner"], ["spancat"], ["sentencizer", "ner"], ["trainable_lemmatizer"],
                  ["textcat_multilabel"], ["tok2vec", "attribute_ruler"]):
        yield from each(f"spacy {'+'.join(pipes)}", lambda pipes=pipes: pipeline(pipes))

    def objects():
        nlp = spacy.blank("en")
        nlp.vocab.set_vector("apple", np.ones(4, dtype="float32"))
        doc = nlp("Apple buys a startup in London")
        matcher = Matcher(nlp.vocab)
        matcher.add("FRUIT", [[{"LOWER": "apple"}]])
        phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
        phrases.add("CITY", [nlp.make_doc("London")])
        german = spacy.blank("de")
        german.add_pipe("sentencizer")
        return [doc, nlp.vocab, nlp.vocab.strings, nlp.vocab.vectors, nlp.tokenizer, matcher, phrases, german]

    yield from each("spacy objects", objects)


@builder
def thinc_objects():
    import numpy as np
    from thinc.api import Linear, Relu, Softmax, chain

    def mlp():
        m = chain(Relu(nO=4, nI=3), Relu(nO=4), Softmax(nO=2), Linear(nO=2))
        m.initialize(X=np.zeros((2, 3), dtype="f"), Y=np.zeros((2, 2), dtype="f"))
        return m

    yield from each("thinc mlp", mlp)


@builder
def arch_objects():
    import numpy as np
    from arch import arch_model
    from arch.univariate import GARCH, ConstantMean, StudentsT

    returns = np.random.RandomState(0).standard_normal(300)

    def manual():
        m = ConstantMean(returns)
        m.volatility, m.distribution = GARCH(), StudentsT()
        return m

    for label, make in {"garch": lambda: arch_model(returns, vol="GARCH", p=1, q=1),
                        "egarch t": lambda: arch_model(returns, vol="EGARCH", dist="t"),
                        "gjr skewt": lambda: arch_model(returns, p=1, o=1, q=1, dist="skewt"),
                        "har ged": lambda: arch_model(returns, mean="HAR", lags=[1, 5], dist="ged"),
                        "ar figarch": lambda: arch_model(returns, mean="AR", lags=2, vol="FIGARCH"),
                        "harch": lambda: arch_model(returns, vol="HARCH", lags=[1, 5]),
                        "aparch": lambda: arch_model(returns, vol="APARCH"),
                        "manual": manual}.items():
        yield from each(f"arch {label}", lambda make=make: [make(), make().fit(disp="off")])


@builder
def astropy_objects():
    import numpy as np
    import astropy.units as u
    from astropy.coordinates import SkyCoord
    from astropy.modeling import fitting, models
    from astropy.table import QTable, Table
    from astropy.time import Time

    def fitted():
        x = np.linspace(-3, 3, 50)
        return fitting.LevMarLSQFitter()(models.Gaussian1D(1, 0, 1) + models.Const1D(0), x, np.exp(-x ** 2))

    yield from each("astropy", lambda: [
        QTable({"a": [1, 2] * u.m, "b": ["x", "y"], "t": Time(["2020-01-01", "2020-01-02"])}),
        Table({"x": np.arange(3.0), "y": np.ones(3)}), np.arange(3) * u.km / u.s, 3 * u.deg, u.Jy,
        SkyCoord(ra=[10, 20] * u.deg, dec=[5, 6] * u.deg), Time("2020-01-01T00:00:00", scale="utc")])
    yield from each("astropy modeling", lambda: [fitted(), models.Polynomial2D(2), models.Linear1D(1, 0)])


@builder
def sympy_objects():
    import sympy as sp

    x, y = sp.symbols("x y")
    yield from each("sympy", lambda: [
        sp.sin(x) ** 2 + sp.exp(y) / (1 + x), sp.Matrix([[x, 1], [y, x * y]]), sp.Eq(x ** 2, 4), sp.solve(x ** 2 - 4, x),
        sp.Poly(x ** 3 + 2 * x, x), sp.Rational(3, 7), sp.Piecewise((x, x > 0), (0, True)), sp.Float(1.5)])


@builder
def geo_objects():
    import geopandas as gpd
    import shapely
    from shapely.geometry import LineString, Point, Polygon

    def geoms():
        return [Point(0, 0), Polygon([(0, 0), (1, 0), (1, 1)]), LineString([(0, 0), (2, 2)])]

    yield from each("shapely", lambda: [geoms(), shapely.STRtree(geoms())])
    yield from each("geopandas", lambda: gpd.GeoDataFrame({"v": [1, 2, 3]}, geometry=geoms(), crs="EPSG:4326"))


@builder
def igraph_objects():
    import igraph as ig

    def graph():
        g = ig.Graph.Famous("Zachary")
        g.vs["label"] = [str(i) for i in range(g.vcount())]
        return g

    yield from each("igraph", lambda: [graph(), graph().community_multilevel()])


@builder
def rustworkx_objects():
    import rustworkx as rx

    def graphs():
        g = rx.PyGraph()
        g.add_nodes_from(["a", "b"])
        g.add_edge(0, 1, 1.0)
        d = rx.PyDiGraph()
        d.add_nodes_from([{"n": 0}, {"n": 1}])
        d.add_edge(0, 1, None)
        return [g, d]

    yield from each("rustworkx", graphs)


@builder
def gymnasium_objects():
    import gymnasium as gym
    import numpy as np
    from gymnasium import spaces

    def env():
        e = gym.make("CartPole-v1")
        e.reset(seed=0)
        return [e.spec, e.unwrapped]

    yield from each("gymnasium spaces", lambda: spaces.Dict({
        "obs": spaces.Box(-1, 1, (4,), np.float32), "act": spaces.Discrete(3), "md": spaces.MultiDiscrete([2, 3]),
        "t": spaces.Tuple((spaces.MultiBinary(4), spaces.Text(8)))}))
    yield from each("gymnasium env", env)
    yield from each("gymnasium running stats", lambda: gym.wrappers.utils.RunningMeanStd(shape=(3,)))


@builder
def ml_collections_objects():
    import ml_collections as mc

    def configs():
        c = mc.ConfigDict({"lr": 1e-3, "model": {"depth": 4}, "tags": ["a"]})
        c.lock()
        return [c, mc.FrozenConfigDict({"a": 1, "b": {"c": [1, 2]}})]

    yield from each("ml_collections", configs)


@builder
def retrieval_objects():
    import rank_bm25

    corpus = [["cat", "dog"], ["fish", "dog", "bird"], ["lion"]]
    yield from each("rank_bm25", lambda: [rank_bm25.BM25Okapi(corpus), rank_bm25.BM25L(corpus), rank_bm25.BM25Plus(corpus)])


@builder
def bm25s_objects():
    import bm25s

    def index():
        r = bm25s.BM25()
        r.index(bm25s.tokenize(["cat dog", "fish dog bird", "lion tiger"], stopwords="en", show_progress=False),
                show_progress=False)
        return r

    yield from each("bm25s", index)


@builder
def tiktoken_objects():
    import tiktoken

    ranks = {bytes([i]): i for i in range(256)}
    yield from each("tiktoken", lambda: tiktoken.Encoding("sample", pat_str=r" ?\p{L}+| ?\p{N}+|\s+", mergeable_ranks=ranks,
                                                          special_tokens={"<|endoftext|>": 256}))


@builder
def jax_objects():
    """jax arrays and PRNG keys pickled (pickle.dump(params)), optax states, flax nnx states."""
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    import jax.numpy as jnp

    yield from each("jax arrays", lambda: [jnp.arange(4, dtype=jnp.bfloat16), jnp.ones((2, 2)), {"w": jnp.zeros(3)}])
    yield from each("jax keys", lambda: [jax.random.PRNGKey(0), jax.random.key(0)])
    import optax

    def opt_states():
        params = {"w": jnp.zeros(3)}
        txs = [optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(optax.warmup_cosine_decay_schedule(0, 1e-3, 2, 10))),
               optax.sgd(0.1, momentum=0.9), optax.adam(1e-3), optax.rmsprop(1e-3), optax.adafactor(1e-3), optax.lion(1e-3)]
        return [tx.init(params) for tx in txs]

    yield from each("optax states", opt_states)
    from flax import nnx

    class Net(nnx.Module):
        def __init__(self, rngs):
            self.l1 = nnx.Linear(3, 4, rngs=rngs)
            self.bn = nnx.BatchNorm(4, rngs=rngs)
            self.drop = nnx.Dropout(0.1, rngs=rngs)

    def state():
        st = nnx.state(Net(nnx.Rngs(0)))
        return [st, nnx.to_pure_dict(st)]

    yield from each("flax nnx", state)


@builder
def skrf_objects():
    """scikit-rf networks, network sets, frequencies and media, pickled (pickle.dump) or written by its own
    Network.write / NetworkSet.write (a pickle too)."""
    import numpy as np
    import skrf as rf

    def network():
        freq = rf.Frequency(1, 2, 5, "GHz")
        s = np.zeros((5, 2, 2), dtype=complex)
        s[:, 0, 1] = s[:, 1, 0] = 0.9
        return rf.Network(frequency=freq, s=s, z0=50, name="dut")

    yield from each("skrf network", lambda: [network(), rf.networkSet.NetworkSet([network(), network()], name="set"),
                                             rf.Frequency(1, 2, 3, "GHz")])
    yield from each("skrf media", lambda: [rf.media.DefinedGammaZ0(rf.Frequency(1, 2, 3, "GHz")),
                                           rf.media.Freespace(rf.Frequency(1, 2, 3, "GHz"))])


@builder
def nibabel_objects():
    """nibabel images held in memory (pickle.dump(Nifti1Image)); an image loaded from a file pickles its
    ArrayProxy, which names the file it reads when the data is asked for."""
    import numpy as np
    import nibabel as nib

    data = np.arange(64, dtype="float32").reshape(4, 4, 4)
    yield from each("nibabel images", lambda: [nib.Nifti1Image(data, np.eye(4)), nib.Nifti2Image(data, np.eye(4)),
                                               nib.Nifti1Pair(data, np.eye(4)), nib.MGHImage(data, np.eye(4))])

    def loaded():
        path = os.path.join(tempfile.mkdtemp(), "img.nii.gz")
        nib.save(nib.Nifti1Image(data, np.eye(4)), path)
        return nib.load(path)

    yield from each("nibabel loaded", loaded)


@builder
def control_objects():
    import numpy as np
    import control as ct

    def systems():
        tf = ct.tf([1], [1, 2, 1])
        return [tf, ct.c2d(tf, 0.1), ct.frd(tf, np.logspace(-1, 1, 10))]

    yield from each("control systems", systems)


@builder
def arrow_objects():
    import arrow

    yield from each("arrow", lambda: [arrow.get("2024-01-01T10:00:00+02:00"), arrow.utcnow(),
                                      arrow.get("2024-01-01").to("Europe/Paris")])


@builder
def cftime_objects():
    import cftime

    yield from each("cftime", lambda: [cftime.num2date([0, 31, 365], "days since 2000-01-01", calendar=c) for c in (
        "noleap", "360_day", "all_leap", "julian", "gregorian", "proleptic_gregorian", "standard")] +
        [cftime.datetime(2000, 1, 1, calendar="noleap"), cftime.datetime(2000, 1, 1)])


@builder
def value_type_objects():
    """Small value types pickled inside configurations and datasets: bitarray, frozendict, immutabledict."""
    import bitarray
    import frozendict
    import immutabledict

    yield from each("bitarray", lambda: [bitarray.bitarray("1011001"), bitarray.frozenbitarray("11"),
                                         bitarray.bitarray("10", endian="little")])
    yield from each("frozendict", lambda: frozendict.frozendict(a=1, b=[1, 2]))
    yield from each("immutabledict", lambda: [immutabledict.immutabledict(a=1), immutabledict.ImmutableOrderedDict(a=1)])


@builder
def flint_objects():
    import flint

    yield from each("flint", lambda: [flint.fmpz(2) ** 100, flint.fmpq(1, 3)])


@builder
def stim_objects():
    import stim

    def circuit():
        return stim.Circuit.generated("repetition_code:memory", rounds=3, distance=3, after_clifford_depolarization=0.01)

    import pickle

    # Protocols 2 to 5 only (pickle.dump's default is 4): 0 and 1 abort in pybind11's instance allocation.
    yield from each("pickled stim", lambda: [pickle.dumps(o, protocol=p) for o in (
        circuit(), circuit().detector_error_model(decompose_errors=True)) for p in (2, 3, 4, 5)])


@builder
def sortedcontainers_objects():
    """sortedcontainers' sorted collections, each pickled as its class called with its items (and key)."""
    import operator

    from sortedcontainers import SortedDict, SortedKeyList, SortedList, SortedSet

    yield from each("sortedcontainers", lambda: [SortedDict({"b": 1, "a": 2}), SortedList([3, 1, 2]), SortedSet([5, 4]),
                                                 SortedKeyList([1, 2, 3], key=operator.neg),
                                                 SortedDict(operator.neg, {1: "a"}), SortedSet([1, 2], operator.neg)])


@builder
def bio_objects():
    """Biopython's sequences, records, features and aligner, as held in memory (pickle.dump)."""
    from Bio.Align import PairwiseAligner
    from Bio.Seq import Seq
    from Bio.SeqFeature import SeqFeature, SimpleLocation
    from Bio.SeqRecord import SeqRecord

    yield from each("Bio records", lambda: [SeqRecord(Seq("ATGCGT"), id="x1", description="demo",
                                                      features=[SeqFeature(SimpleLocation(0, 3), type="CDS")]), Seq("MKV")])
    yield from each("Bio aligner", lambda: [PairwiseAligner(), PairwiseAligner(mode="local", match_score=2)])


@builder
def emcee_objects():
    import numpy as np
    import emcee

    def sampler():
        s = emcee.EnsembleSampler(8, 2, lambda x: -0.5 * float(np.sum(x ** 2)))
        s.run_mcmc(np.random.default_rng(0).normal(size=(8, 2)), 10)
        return [s.backend, emcee.State(s.get_last_sample())]

    yield from each("emcee", sampler)


@builder
def meshio_objects():
    import numpy as np
    import meshio

    yield from each("meshio", lambda: meshio.Mesh(np.eye(3), [("triangle", np.array([[0, 1, 2]]))],
                                                  point_data={"t": np.arange(3.0)}))


@builder
def skimage_objects():
    from skimage import transform

    yield from each("skimage transforms", lambda: [
        transform.SimilarityTransform(scale=2, rotation=0.1), transform.AffineTransform(shear=0.2),
        transform.ProjectiveTransform(), transform.PolynomialTransform(), transform.EuclideanTransform(rotation=0.3)])


@builder
def matplotlib_objects():
    """Colormaps and norms, which plotting configurations and image processors keep (not figures)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.colors import LinearSegmentedColormap, ListedColormap, LogNorm, Normalize

    yield from each("matplotlib colors", lambda: [ListedColormap(["r", "g", "b"]), LinearSegmentedColormap.from_list("x", ["k", "w"]),
                                                  Normalize(0, 1), LogNorm(1, 10), matplotlib.colormaps["viridis"]])


@builder
def pycocotools_objects():
    """pycocotools' COCO index made from an annotation file (pickle.dump(COCO))."""
    import json

    from pycocotools.coco import COCO

    def coco():
        ann = {"images": [{"id": 1, "width": 8, "height": 8, "file_name": "a.jpg"}], "categories": [{"id": 1, "name": "cat"}],
               "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 3, 3], "area": 9, "iscrowd": 0,
                                "segmentation": [[1, 1, 4, 1, 4, 4, 1, 4]]}]}
        path = os.path.join(tempfile.mkdtemp(), "ann.json")
        with open(path, "w") as f:
            json.dump(ann, f)
        return COCO(path)

    yield from each("pycocotools", coco)


@builder
def pot_objects():
    import numpy as np
    from ot.da import EMDTransport, SinkhornTransport

    rng = np.random.default_rng(0)
    xs, xt = rng.normal(size=(20, 2)), rng.normal(size=(20, 2)) + 1
    yield from each("ot", lambda: [SinkhornTransport(reg_e=1e-1).fit(Xs=xs, Xt=xt), EMDTransport().fit(Xs=xs, Xt=xt)])


@builder
def pydicom_objects():
    """A DICOM file's meta information as dcmread leaves it (raw elements, tags, UIDs); not the dataset, whose
    pickle names io.open (its fileobj_type)."""
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    def meta():
        ds = Dataset()
        ds.PatientName, ds.Rows = "A^B", 2
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        buf = io.BytesIO()
        ds.save_as(buf, enforce_file_format=True)
        buf.seek(0)
        return [pydicom.dcmread(buf).file_meta, ds.file_meta]

    yield from each("pydicom file meta", meta)


@builder
def arviz_objects():
    import numpy as np
    import arviz as az

    rng = np.random.default_rng(0)
    yield from each("arviz", lambda: az.from_dict(posterior={"mu": rng.normal(size=(2, 50))}, observed_data={"y": rng.normal(size=10)}))


@builder
def music21_objects():
    from music21 import converter, note, stream

    def frozen():
        b = converter.freezeStr(stream.Stream([note.Note("C4"), note.Note("E4", type="half")]), fmt="pickle")
        return b if isinstance(b, bytes) else b.encode("latin-1")

    yield from each("pickled music21 freezeStr", frozen)


@builder
def pandera_objects():
    import pandera.pandas as pa

    yield from each("pandera", lambda: pa.DataFrameSchema({"x": pa.Column(float, pa.Check.in_range(-10, 10)),
                                                           "c": pa.Column(str, pa.Check.isin(list("abc")))}, coerce=True))
