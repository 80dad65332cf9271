"""NumPy arrays, scalars, masked arrays and random generators as practitioners
save them: np.save / np.savez / np.savez_compressed (allow_pickle for object
arrays), ndarray.dump, and pickle at protocols 2-5.  Run under NumPy 1.x
(numpy.core.multiarray) and 2.x (numpy._core.multiarray, StringDType).
"""

import pickle

import numpy as np

from zoo_common import Zoo

zoo = Zoo()
V = "NumPy " + np.__version__
NP2 = int(np.__version__.split(".")[0]) >= 2
rng = np.random.default_rng(0)

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "float32", "float64", "longdouble", "complex64", "complex128", "clongdouble",
          "datetime64[ns]", "datetime64[D]", "timedelta64[s]", "U8", "S8", "V4"]


def sample(dtype):
    if dtype.startswith("datetime64"):
        return np.array(["2024-01-01", "2024-02-29", "NaT"], dtype=dtype)
    if dtype.startswith("timedelta64"):
        return np.array([1, 60, 3600], dtype=dtype)
    if dtype in ("U8", "S8"):
        return np.array(["alpha", "beta", "gamma"], dtype=dtype)
    if dtype == "V4":
        return np.frombuffer(b"\x00\x01\x02\x03\x04\x05\x06\x07", dtype=dtype)
    return (rng.standard_normal((2, 3)) * 10).astype(dtype)


arrays = dict((d, sample(d)) for d in DTYPES)
arrays["fortran"] = np.asfortranarray(rng.standard_normal((3, 2)).astype("float32"))
arrays["big_endian"] = np.arange(4, dtype=">i4")
arrays["empty"] = np.zeros((0, 3), dtype="float32")
arrays["zero_dim"] = np.array(7.5)

for d, a in arrays.items():
    name = "npy/%s.npy" % d.replace("[", "_").replace("]", "")
    np.save(zoo.path(name), a)
    zoo.add(name, "np.save of a %s array (%s)" % (a.dtype, V))

structured = np.array([(1, 2.5, b"ab", (1.0, 2.0)), (2, -1.0, b"cd", (3.0, 4.0))],
                      dtype=[("id", "<i4"), ("score", "<f8"), ("tag", "S2"), ("xy", "<f4", (2,))])
objects = np.array([None, 1, 2.5, "text", b"bytes", [1, 2], {"k": "v"}, (3, 4), np.arange(3)], dtype=object)
masked = np.ma.masked_array(np.arange(6, dtype="float64").reshape(2, 3), mask=[[0, 1, 0], [1, 0, 0]], fill_value=-1.0)

np.save(zoo.path("npy/structured.npy"), structured)
zoo.add("npy/structured.npy", "np.save of a structured array with a sub-array field (%s)" % V)
np.save(zoo.path("npy/object_allow_pickle.npy"), objects, allow_pickle=True)
zoo.add("npy/object_allow_pickle.npy", "np.save(allow_pickle=True) of an object array of Python data and a nested array (%s)" % V)
np.save(zoo.path("npy/object_ragged.npy"), np.array([np.arange(2), np.arange(3)], dtype=object), allow_pickle=True)
zoo.add("npy/object_ragged.npy", "np.save(allow_pickle=True) of a ragged object array of arrays (%s)" % V)

bundle = dict(arrays, structured=structured, objects=objects)
np.savez(zoo.path("npz/arrays.npz"), **dict((k.replace("[", "_").replace("]", ""), v) for k, v in arrays.items()))
zoo.add("npz/arrays.npz", "np.savez of arrays of every dtype (%s)" % V)
np.savez(zoo.path("npz/with_objects.npz"), weights=arrays["float32"], vocab=objects, table=structured)
zoo.add("npz/with_objects.npz", "np.savez with an object array member (pickled inside the .npy) (%s)" % V)
np.savez_compressed(zoo.path("npz/compressed_with_objects.npz"), weights=arrays["float32"], vocab=objects, table=structured)
zoo.add("npz/compressed_with_objects.npz", "np.savez_compressed with an object array member (%s)" % V)

scalars = {"float64": np.float64(1.5), "float32": np.float32(2.5), "int64": np.int64(-3), "uint8": np.uint8(200),
           "bool": np.bool_(True), "complex": np.complex128(1 - 2j), "datetime": np.datetime64("2024-01-01T12:00"),
           "timedelta": np.timedelta64(5, "m"), "str": np.str_("token"), "dtype": np.dtype("float16"),
           "structured_dtype": structured.dtype}
for proto in (2, 3, 4, 5):
    name = "pickle/arrays_proto%d.pkl" % proto
    with open(zoo.path(name), "wb") as f:
        pickle.dump(bundle, f, protocol=proto)
    zoo.add(name, "pickle.dump protocol %d of arrays of every dtype, structured and object arrays (%s)" % (proto, V))
for proto in (2, 5):
    for what, obj in [("scalars", scalars), ("masked", masked), ("matrix", np.matrix([[1, 2], [3, 4]]))]:
        name = "pickle/%s_proto%d.pkl" % (what, proto)
        with open(zoo.path(name), "wb") as f:
            pickle.dump(obj, f, protocol=proto)
        zoo.add(name, "pickle.dump protocol %d of %s (%s)" % (proto, what, V))
arrays["float32"].dump(zoo.path("pickle/ndarray_dump.pkl"))
zoo.add("pickle/ndarray_dump.pkl", "ndarray.dump (%s)" % V)

random = {"generator_pcg64": np.random.default_rng(1), "randomstate": np.random.RandomState(2),
          "seedsequence": np.random.SeedSequence(3)}
for bg in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"):
    if hasattr(np.random, bg):
        random["bitgen_" + bg.lower()] = getattr(np.random, bg)(4)
random["generator_philox"] = np.random.Generator(np.random.Philox(5))
for what, obj in sorted(random.items()):
    name = "random/%s.pkl" % what
    with open(zoo.path(name), "wb") as f:
        pickle.dump(obj, f, protocol=4)
    zoo.add(name, "pickle.dump of np.random %s (%s)" % (what, V))

if NP2:
    strings = np.array(["short", "a longer string that does not fit inline", ""], dtype=np.dtypes.StringDType())
    np.save(zoo.path("npy/stringdtype.npy"), strings, allow_pickle=True)
    zoo.add("npy/stringdtype.npy", "np.save(allow_pickle=True) of a StringDType array (%s)" % V)
    with open(zoo.path("pickle/stringdtype_proto5.pkl"), "wb") as f:
        pickle.dump({"strings": strings, "na": np.array(["x", None], dtype=np.dtypes.StringDType(na_object=None))}, f, protocol=5)
    zoo.add("pickle/stringdtype_proto5.pkl", "pickle.dump of StringDType arrays, one with na_object=None (%s)" % V)

zoo.finish()
