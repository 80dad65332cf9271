"""Generates the torch.package and torch.hub fixtures (a red team's twentieth round, findings 02 and 03).

Run by hand with a venv that has torch and safetensors (CI never runs Python):

    /tmp/precision/venv/bin/python scripts/make_torch_package_fixtures.py

What it writes, each made by the library's own writer and loaded back by its own loader to prove
what the loader does with it (payloads are harmless: a module that sets RAN = True):
  - test/fixtures/torch-package/: torch.package archives written by PackageExporter: one whose
    modules are all extern (weights only: passes), one that interns a model class's module, and
    one that packages its own `collections` and pickles a collections.OrderedDict, which
    PackageImporter.load_pickle unpickles by running the archive's collections/__init__.py;
    and the manifest test/fixtures.test.ts reads.
  - test/fixtures/repos/torch_package_folder/model_pkg/: that last archive unzipped, which
    PackageImporter opens as a folder (DirectoryReader) with the same effect.
  - test/fixtures/repos/hub_local/: a folder with weights and a hubconf.py, which
    torch.hub.load(folder, "model", source="local") imports (it returns hubconf's model()).
"""
import collections
import io
import json
import os
import shutil
import sys
import zipfile

import torch
from safetensors.torch import save_file
from torch.package import PackageExporter, PackageImporter

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures")
OUT = os.path.join(ROOT, "torch-package")
REPOS = os.path.join(ROOT, "repos")
manifest = []

SHADOW = "import sys\nRAN = True\nOrderedDict = sys.modules['collections'].OrderedDict\n"
TINY = "import torch\nRAN = True\n\nclass Tiny(torch.nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = torch.nn.Linear(2, 2)\n"


def add(rel, note, expect="pass", threat=None, mentions=()):
    manifest.append({"file": "torch-package/" + rel, "expect": expect, "threat": threat, "mentions": list(mentions), "note": note})


def export(rel, build):
    """Writes the package `build(exporter)` makes to OUT/rel and returns its bytes."""
    buf = io.BytesIO()
    with PackageExporter(buf) as exporter:
        build(exporter)
    with open(os.path.join(OUT, rel), "wb") as f:
        f.write(buf.getvalue())
    return buf.getvalue()


def externed(e):
    e.extern("**")
    e.save_pickle("model", "weights.pkl", {"weight": torch.ones(2, 2), "bias": torch.zeros(2)})


def interned(e):
    e.extern(["torch", "torch.**"])
    e.save_source_string("tiny", TINY)
    e.save_pickle("model", "model.pkl", tiny_model())


def tiny_model():
    """An instance of TINY's class, built from the source string as the package will hold it."""
    namespace = {"__name__": "tiny"}
    exec(compile(TINY, "tiny.py", "exec"), namespace)
    module = type(sys)("tiny")
    module.__dict__.update(namespace)
    sys.modules["tiny"] = module
    return module.Tiny()


def shadowed(e):
    e.extern(["sys"])
    e.save_source_string("collections", SHADOW, is_package=True)
    e.save_pickle("model", "model.pkl", collections.OrderedDict(weight=[1.0, 2.0]))


def package_fixtures():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    export("externed.pt", externed)
    assert set(PackageImporter(os.path.join(OUT, "externed.pt")).load_pickle("model", "weights.pkl")) == {"weight", "bias"}
    add("externed.pt", f"PackageExporter (torch {torch.__version__}) with every module extern: a dict of tensors, no packaged module")

    export("interned_model.pt", interned)
    importer = PackageImporter(os.path.join(OUT, "interned_model.pt"))
    assert type(importer.load_pickle("model", "model.pkl")).__name__ == "Tiny" and importer.import_module("tiny").RAN
    add("interned_model.pt", "PackageExporter interning the module of the pickled model's class (tiny.py): PackageImporter runs it to unpickle the model",
        "block", "H4", ["MG127", "archive/tiny.py"])

    data = export("shadowed_collections.pt", shadowed)
    importer = PackageImporter(os.path.join(OUT, "shadowed_collections.pt"))
    assert importer.load_pickle("model", "model.pkl") == collections.OrderedDict(weight=[1.0, 2.0]) and importer.modules["collections"].RAN
    add("shadowed_collections.pt", "PackageExporter packaging its own collections/__init__.py beside a pickled collections.OrderedDict: "
        "load_pickle runs the packaged module for an allowed name", "block", "H4", ["MG127", "archive/collections/__init__.py"])

    # The same package as a folder: PackageImporter reads it through DirectoryReader.
    folder = os.path.join(REPOS, "torch_package_folder", "model_pkg")
    shutil.rmtree(os.path.dirname(folder), ignore_errors=True)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            path = os.path.join(folder, name.split("/", 1)[1])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(z.read(name))
    importer = PackageImporter(folder)
    assert importer.load_pickle("model", "model.pkl") == collections.OrderedDict(weight=[1.0, 2.0]) and importer.modules["collections"].RAN

    manifest.sort(key=lambda e: e["file"])
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(e, ensure_ascii=False) for e in manifest) + "\n]\n")


HUBCONF = 'dependencies = ["torch"]\n\n\ndef model():\n    import torch\n    return torch.nn.Linear(2, 2)\n'


def hub_fixture():
    folder = os.path.join(REPOS, "hub_local")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    with open(os.path.join(folder, "hubconf.py"), "w") as f:
        f.write(HUBCONF)
    save_file({"weight": torch.ones(2, 2), "bias": torch.zeros(2)}, os.path.join(folder, "model.safetensors"))
    # The entry point is hubconf.py's own function: getting its model back means the file was imported.
    assert isinstance(torch.hub.load(folder, "model", source="local"), torch.nn.Linear)


if __name__ == "__main__":
    package_fixtures()
    hub_fixture()
    print(f"{len(manifest)} fixtures in {OUT}; folders in {REPOS}", file=sys.stderr)
