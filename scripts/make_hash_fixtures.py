"""CPython's hash() of values a pickle can make, for test/pyhash.test.ts (src/pickle/pyHash.ts).

Writes test/fixtures/hashes/cpython.json: for each value, its pickle at protocols 2 and 4 (base64)
and hash(value) as this interpreter computes it. Run with Python 3.8 or later (tuples hash with
xxHash's round since 3.8) and NumPy; None is left out (its hash is its address before 3.12).

    /usr/bin/python3 scripts/make_hash_fixtures.py
"""
import base64
import json
import pickle
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np

P = 2**61 - 1
VALUES = [
    0, 1, -1, -2, 7, -7, 2**53 + 1, P - 1, P, P + 5, -P, -(P + 1), 2**64 + 3, 10**30, -(10**30), 2**100, 3 * P + 12345,
    True, False,
    0.5, -0.5, 1.5, 0.1, -2.75, 1e-300, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1e22, 2.0**61, -(2.0**70),
    3.141592653589793, float("inf"), float("-inf"), -0.0, 123456789.125,
    complex(1, 2), complex(0, -0.5), complex(1e300, -3), complex(-1.5, 0.25),
    Decimal("1.5"), Decimal("-0.001"), Decimal("1E+30"), Decimal("123456789012345678901234567890"), Decimal("1E-7"),
    Decimal("Infinity"), Decimal("-Infinity"), Decimal("0.000"), Decimal("5"), Decimal("-2305843009213693953"), Decimal("7.25E+100"),
    Decimal("3E-1000"),
    Fraction(3, 4), Fraction(-7, 3), Fraction(2**70, 3), Fraction("1.25"), Fraction(10, 1), Fraction(1, P), Fraction(-5, 2 * P),
    (), (1,), (1, 2), (1, (2, 3)), (1.5, -1, True), (2**70, 10), ((1, 2), (3, 4)), (P, -1, 0.25, (2**64,)), tuple(range(20)),
    (Decimal("2.5"), Fraction(1, 3), complex(2, 2)),
    frozenset(), frozenset({1, 2, 3}), frozenset({(1, 2), 2**64}), frozenset({frozenset({1}), 5}), frozenset(range(50)),
    (frozenset({1, 2}), 3),
    # Ranges of two items or more (shorter ones hash a None, whose hash is its address before 3.12).
    range(10), range(5, 100, 7), range(10**20, 10**20 + 50, 3), range(100, 0, -3), range(-5, 5, 2),
    # NumPy scalars hash as the Python numbers they equal.
    np.int64(-7), np.int64(2**62 + 5), np.uint8(200), np.uint64(2**63 + 11), np.float64(1.5), np.float64(2.0**70),
    np.float32(0.25), np.complex128(1.5 - 2j), np.complex64(3 + 4j),
]


def main() -> None:
    if sys.version_info < (3, 8):
        sys.exit("needs Python 3.8 or later")
    cases = []
    for v in VALUES:
        for protocol in (2, 4):
            cases.append({
                "value": repr(v),
                "protocol": protocol,
                "pickle": base64.b64encode(pickle.dumps(v, protocol=protocol)).decode(),
                "hash": str(hash(v)),
            })
    out = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "hashes" / "cpython.json"
    out.write_text(json.dumps({"python": sys.version.split()[0], "cases": cases}, indent=1) + "\n")
    print(f"{len(cases)} cases -> {out}")


if __name__ == "__main__":
    main()
