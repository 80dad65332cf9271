"""pandas objects of every dtype as people save them: DataFrame.to_pickle (with
and without compression), pickle, joblib.dump and inside a torch checkpoint.
Runs under pandas 3 (pyarrow strings), pandas 2.2 and Debian's pandas 1.5.
"""

import datetime
import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytz

from zoo_common import Zoo

warnings.filterwarnings("ignore")
zoo = Zoo()
V = "pandas %s, NumPy %s" % (pd.__version__, np.__version__)
MAJOR = int(pd.__version__.split(".")[0])
n = 4
series = {
    "int64": pd.Series(range(n), dtype="int64"),
    "float32": pd.Series([0.5, 1.5, np.nan, 3.0], dtype="float32"),
    "bool": pd.Series([True, False, True, False]),
    "object_str": pd.Series(["a", "b", None, "d"], dtype=object),
    "string_python": pd.Series(["a", "b", None, "d"], dtype=pd.StringDtype("python")),
    "nullable_int": pd.Series([1, None, 3, 4], dtype="Int64"),
    "nullable_float": pd.Series([1.5, None, 3.0, 4.0], dtype="Float64"),
    "nullable_bool": pd.Series([True, None, False, True], dtype="boolean"),
    "categorical": pd.Series(pd.Categorical(["low", "high", "low", "mid"], categories=["low", "mid", "high"], ordered=True)),
    "datetime": pd.Series(pd.date_range("2024-01-01", periods=n, freq="D")),
    "datetime_pytz": pd.Series(pd.date_range("2024-03-30", periods=n, freq="h", tz=pytz.timezone("Europe/Berlin"))),
    "datetime_utc": pd.Series(pd.date_range("2024-01-01", periods=n, freq="min", tz="UTC")),
    "timedelta": pd.Series(pd.to_timedelta([1, 2, 3, 4], unit="s")),
    "period": pd.Series(pd.period_range("2024-01", periods=n, freq="M")),
    "interval": pd.Series(pd.interval_range(0, n)),
    "sparse_float": pd.Series(pd.arrays.SparseArray([0.0, 0.0, 1.5, 0.0])),
    "sparse_int": pd.Series(pd.arrays.SparseArray([0, 0, 2, 0], fill_value=0)),
}
try:
    import zoneinfo
    series["datetime_zoneinfo"] = pd.Series(pd.date_range("2024-01-01", periods=n, freq="D", tz=zoneinfo.ZoneInfo("America/New_York")))
except (ImportError, TypeError):
    pass
try:
    import pyarrow  # noqa: F401  (pandas' pyarrow-backed dtypes need it)
    series["string_pyarrow"] = pd.Series(["a", "b", None, "d"], dtype=pd.StringDtype("pyarrow"))
    series["arrow_int"] = pd.Series([1, None, 3, 4], dtype="int64[pyarrow]")
except ImportError:
    pass

indexes = {
    "range": pd.RangeIndex(0, 10, 2),
    "string": pd.Index(["a", "b", "c"]),
    "datetime_freq": pd.date_range("2024-01-01", periods=3, freq="B", name="day"),
    "timedelta": pd.timedelta_range("1 day", periods=3),
    "period": pd.period_range("2024Q1", periods=3, freq="Q"),
    "interval": pd.interval_range(0.0, 3.0, closed="left"),
    "categorical": pd.CategoricalIndex(["x", "y", "x"]),
    "multi": pd.MultiIndex.from_product([["train", "test"], [1, 2]], names=["split", "fold"]),
}
scalars = {
    "timestamp": pd.Timestamp("2024-05-17 13:45:30.123456789"),
    "timestamp_tz": pd.Timestamp("2024-05-17 13:45", tz="Asia/Tokyo"),
    "timedelta": pd.Timedelta("1 days 02:03:04"),
    "period": pd.Period("2024-05", freq="M"),
    "interval": pd.Interval(0, 1, closed="right"),
    "na": pd.NA,
    "nat": pd.NaT,
    "offsets": [pd.offsets.Day(2), pd.offsets.MonthEnd(), pd.offsets.BusinessDay(3), pd.offsets.Week(weekday=0),
                pd.offsets.DateOffset(months=1, days=2), pd.offsets.QuarterBegin(startingMonth=1), pd.offsets.Hour(6)],
    "dtypes": [pd.CategoricalDtype(["a", "b"]), pd.DatetimeTZDtype(tz="UTC"), pd.Int64Dtype(), pd.PeriodDtype("D")],
    "date": datetime.date(2024, 1, 1),
}

frame = pd.DataFrame(dict((k, s.values) for k, s in series.items()), index=pd.Index(list("wxyz"), name="row"))
wide = frame.set_index(pd.MultiIndex.from_arrays([["a", "a", "b", "b"], [1, 2, 1, 2]], names=["grp", "n"]))

for name, s in sorted(series.items()):
    s.to_pickle(zoo.path("series/%s.pkl" % name))
    zoo.add("series/%s.pkl" % name, "Series.to_pickle of a %s Series (%s)" % (s.dtype, V))
for name, idx in sorted(indexes.items()):
    with open(zoo.path("index/%s.pkl" % name), "wb") as f:
        pickle.dump(idx, f, protocol=4)
    zoo.add("index/%s.pkl" % name, "pickle.dump of a %s (%s)" % (type(idx).__name__, V))
with open(zoo.path("scalars_offsets_dtypes.pkl"), "wb") as f:
    pickle.dump(scalars, f, protocol=4)
zoo.add("scalars_offsets_dtypes.pkl", "pickle.dump of Timestamp, Timedelta, Period, Interval, NA, NaT, offsets, dtypes (%s)" % V)
frame.to_pickle(zoo.path("frame_all_dtypes.pkl"))
zoo.add("frame_all_dtypes.pkl", "DataFrame.to_pickle of a frame with a column of every dtype (%s)" % V)
wide.to_pickle(zoo.path("frame_multiindex.pkl"))
zoo.add("frame_multiindex.pkl", "DataFrame.to_pickle of a MultiIndex frame (%s)" % V)
for proto in (2, 5):
    frame.to_pickle(zoo.path("frame_all_dtypes_proto%d.pkl" % proto), protocol=proto)
    zoo.add("frame_all_dtypes_proto%d.pkl" % proto, "DataFrame.to_pickle(protocol=%d) (%s)" % (proto, V))
for ext in ("gz", "bz2", "xz", "zip"):
    frame.to_pickle(zoo.path("frame_all_dtypes.pkl.%s" % ext))
    zoo.add("frame_all_dtypes.pkl.%s" % ext, "DataFrame.to_pickle with compression inferred from .%s (%s)" % (ext, V))
joblib.dump({"train": frame, "stats": frame[["int64", "float32"]].describe()}, zoo.path("frames.joblib"))
zoo.add("frames.joblib", "joblib.dump of a dict of DataFrames (%s, joblib %s)" % (V, joblib.__version__))
joblib.dump(frame, zoo.path("frame.joblib.lz4"), compress=("lz4", 3))
zoo.add("frame.joblib.lz4", "joblib.dump(compress='lz4') of a DataFrame (%s)" % V)
try:
    import torch
    torch.save({"model": {"w": torch.zeros(2)}, "history": frame, "index": indexes["multi"], "scalars": scalars},
               zoo.path("checkpoint_with_frame.pt"))
    zoo.add("checkpoint_with_frame.pt", "torch.save of a checkpoint holding a DataFrame, MultiIndex and pandas scalars (%s, torch %s)" % (V, torch.__version__))
except ImportError:
    pass

zoo.finish()
