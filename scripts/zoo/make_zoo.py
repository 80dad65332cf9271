#!/usr/bin/env python3
"""Regenerate modelgate's benign zoo: legitimate model files made by the real
libraries the way practitioners save them.  test/zoo.test.ts scans them all.

One command regenerates everything (from the repository root, any Python 3):

    python3 scripts/zoo/make_zoo.py            # every group
    python3 scripts/zoo/make_zoo.py torch2 np1  # only the named groups

It needs:
  * pyenv's CPythons under /root/.pyenv/versions (2.7.18, 3.6-3.13) for the
    stdlib groups; they use nothing but the standard library;
  * two venvs, made here from the pinned requirements when they are missing:
      /tmp/zoo-modern  <- scripts/zoo/requirements-modern.txt (torch 2.13,
                          NumPy 2, pandas 3, scikit-learn 1.9, transformers 5 ...)
      /tmp/zoo-np1     <- scripts/zoo/requirements-np1.txt (NumPy 1, pandas 2,
                          scikit-learn 1.6)
    pip installs from the machine's configured indexes (`pip config list`);
  * Debian's /usr/bin/python3 with the packages in scripts/zoo/apt-debian.txt
    (`apt-get install $(cat scripts/zoo/apt-debian.txt)`): torch 1.13,
    NumPy 1.24, pandas 1.5, scikit-learn 1.2, OmegaConf 2.2.

Each group's folder under test/fixtures/zoo/ is emptied and rewritten;
test/fixtures/zoo/manifest.json is rebuilt from the groups' listings (groups
not regenerated keep their entries).  test/fixtures/zoo/noise-budget.json is
written by hand from a test run, never here.

Nothing here loads a file it did not just make from trusted objects.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(ROOT, "test", "fixtures")
ZOO = os.path.join(FIXTURES, "zoo")
MANIFEST = os.path.join(ZOO, "manifest.json")
KEYS = ["file", "expect", "threat", "mentions", "note"]  # the order of test/fixtures/manifest.json
PYENV = "/root/.pyenv/versions"

VENVS = {
    # name: (base interpreter, requirements file)
    "modern": (PYENV + "/3.11.7/bin/python", "requirements-modern.txt"),
    "np1": (PYENV + "/3.11.7/bin/python", "requirements-np1.txt"),
}
DEBIAN = "/usr/bin/python3"

# (group, interpreter, sub-script).  The interpreter is a pyenv binary, a venv
# name from VENVS, or Debian's Python.
PYENV_VERSIONS = ["2.7.18", "3.6.15", "3.7.16", "3.8.18", "3.9.18", "3.10.13", "3.11.7", "3.12.1", "3.13.0"]
GROUPS = [("stdlib-py" + "".join(v.split(".")[:2]), PYENV + "/" + v + "/bin/python", "stdlib_pickles.py") for v in PYENV_VERSIONS] + [
    ("numpy2", "modern", "numpy_zoo.py"),
    ("numpy1", "np1", "numpy_zoo.py"),
    ("numpy1-debian", DEBIAN, "numpy_zoo.py"),
    ("torch2", "modern", "torch_zoo.py"),
    ("torch1-debian", DEBIAN, "torch_zoo.py"),
    ("sklearn19", "modern", "sklearn_zoo.py"),
    ("sklearn16", "np1", "sklearn_zoo.py"),
    ("sklearn12-debian", DEBIAN, "sklearn_zoo.py"),
    ("pandas3", "modern", "pandas_zoo.py"),
    ("pandas2", "np1", "pandas_zoo.py"),
    ("pandas1-debian", DEBIAN, "pandas_zoo.py"),
    ("science", "modern", "science_zoo.py"),
    ("science-debian", DEBIAN, "science_zoo.py"),
    ("hf", "modern", "hf_zoo.py"),
    ("keras3", "modern", "keras_zoo.py"),
    ("user-classes", "modern", "user_classes.py"),
]


def interpreter(which):
    if which not in VENVS:
        return which
    base, requirements = VENVS[which]
    venv = "/tmp/zoo-" + which
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        subprocess.check_call([base, "-m", "venv", venv])
        subprocess.check_call([python, "-m", "pip", "install", "-r", os.path.join(HERE, requirements)])
    return python


def main(wanted):
    groups = [g for g in GROUPS if not wanted or g[0] in wanted]
    unknown = set(wanted) - set(g[0] for g in GROUPS)
    if unknown:
        sys.exit("unknown groups: %s" % ", ".join(sorted(unknown)))
    entries = []
    if os.path.exists(MANIFEST):
        done = set(g[0] for g in groups)
        entries = [e for e in json.load(open(MANIFEST)) if e["file"].split("/")[1] not in done]
    scratch = tempfile.mkdtemp(prefix="zoo-entries-")
    env = dict(os.environ, PYTHONHASHSEED="0", KERAS_BACKEND="torch", HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false", CUDA_VISIBLE_DEVICES="")
    for group, which, script in groups:
        shutil.rmtree(os.path.join(ZOO, group), ignore_errors=True)
        listing = os.path.join(scratch, group + ".json")
        subprocess.check_call([interpreter(which), os.path.join(HERE, script), FIXTURES, listing, group], env=env, cwd=HERE)
        entries += json.load(open(listing))
    shutil.rmtree(scratch)
    entries.sort(key=lambda e: e["file"])
    with open(MANIFEST, "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(dict((k, e[k]) for k in KEYS)) for e in entries) + "\n]\n")
    print("%d files, %d expected to pass" % (len(entries), sum(e["expect"] == "pass" for e in entries)))


if __name__ == "__main__":
    main(sys.argv[1:])
