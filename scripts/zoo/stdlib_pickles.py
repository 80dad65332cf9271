"""Pickles of standard-library data, at every protocol the running CPython has.

Run by make_zoo.py under each pyenv interpreter (2.7, 3.6 ... 3.13): the same
objects pickle differently across versions (copyreg reconstructors at protocol
0/1, NEWOBJ/NEWOBJ_EX later, enum members by value or by name, pathlib's
`pathlib._local` in 3.13), so every version is its own group.
Keeps to Python 2.7 syntax.
"""

import collections
import datetime
import decimal
import fractions
import pickle
import sys
import uuid

from zoo_common import Zoo

PY3 = sys.version_info[0] == 3
zoo = Zoo()


def themes():
    utc = datetime.timezone.utc if PY3 else None
    when = datetime.datetime(2024, 5, 17, 13, 45, 30, 123456)
    times = {
        "datetime": when,
        "date": when.date(),
        "time": when.time(),
        "timedelta": datetime.timedelta(days=3, seconds=7, microseconds=11),
        "dates": [datetime.date(2020, 1, d) for d in (1, 2, 3)],
    }
    if PY3:
        times["aware"] = when.replace(tzinfo=utc)
        times["timezone"] = datetime.timezone(datetime.timedelta(hours=-5), "EST")
        times["time_tz"] = datetime.time(8, 30, tzinfo=utc)
    if sys.version_info >= (3, 9):
        import zoneinfo
        times["zoneinfo"] = when.replace(tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))
    values = {
        "decimal": decimal.Decimal("3.14159265358979323846"),
        "fraction": fractions.Fraction(22, 7),
        "complex": complex(1.5, -2.25),
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "bytes": b"\x00\x01tokenizer\xff",
        "bytearray": bytearray(b"weights"),
        "set": set([1, 2, 3]),
        "frozenset": frozenset(["a", "b"]),
        "ordereddict": collections.OrderedDict([("lr", 0.001), ("epochs", 3)]),
        "defaultdict": collections.defaultdict(list, {"a": [1, 2]}),
        "counter": collections.Counter("mississippi"),
        "deque": collections.deque([1, 2, 3], maxlen=5),
        "nested": {"tuple": (1, 2.0, None, True), "list": [u"unicode \u00e9", float("inf")]},
    }
    out = [("times", times), ("values", values)]
    if PY3:
        import enum
        import http
        import pathlib
        import re
        enums = {
            "regexflag": re.IGNORECASE | re.MULTILINE,
            "regexflag_single": re.IGNORECASE,
            "httpstatus": http.HTTPStatus.OK,
            "purepath": pathlib.PurePosixPath("data/train.csv"),
            "purewindowspath": pathlib.PureWindowsPath("C:/data/train.csv"),
            "path": pathlib.Path("checkpoints/epoch=3.ckpt"),
        }
        out.append(("enums_paths", enums))
    return out


for theme, obj in themes():
    what = "a dict of " + ", ".join(sorted(obj))
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        name = "%s_proto%d.pkl" % (theme, proto)
        with open(zoo.path(name), "wb") as f:
            pickle.dump(obj, f, protocol=proto)
        zoo.add(name, "pickle.dump protocol %d of %s" % (proto, what))

zoo.finish()
