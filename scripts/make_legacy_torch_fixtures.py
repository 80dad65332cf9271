#!/usr/bin/env python3
"""Whole models in the legacy torch.save layout (torch < 1.6's default, still written with
_use_new_zipfile_serialization=False), and two files whose module ids name something else.

    python3 -m venv /tmp/lt && /tmp/lt/bin/pip install torch
    /tmp/lt/bin/python scripts/make_legacy_torch_fixtures.py

The legacy save pickles every nn.Module subclass as a persistent id ("module", class, source
file, source), and the legacy load returns the class from it. The malicious files are written in
the same layout, with torch's own magic number, protocol version and system info; their module
id holds os.system or subprocess.Popen, called with a harmless echo. They are never loaded.
"""
import json
import os
import pickle
import subprocess
import sys

import torch
from torch import nn
from torch.serialization import MAGIC_NUMBER, PROTOCOL_VERSION

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "legacy-torch")


class Loaded:
    """Stands in the pickle for what the module id resolves to (persistent_id below swaps it)."""


class Call:
    def __init__(self, args):
        self.args = args

    def __reduce__(self):
        return (Loaded, self.args)


def legacy_with_module_id(path, target, args):
    """torch's legacy layout: magic, protocol, system info, the object, the storage keys (none)."""
    sys_info = dict(protocol_version=PROTOCOL_VERSION, little_endian=sys.byteorder == "little",
                    type_sizes=dict(short=2, int=4, long=4))

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return ("module", target, "model.py", "class Model(nn.Module): ...") if obj is Loaded else None

    with open(path, "wb") as f:
        for part in (MAGIC_NUMBER, PROTOCOL_VERSION, sys_info):
            pickle.dump(part, f, protocol=2)
        Pickler(f, protocol=2).dump(Call(args))
        pickle.dump([], f, protocol=2)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace=True), nn.MaxPool2d(2),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.1), nn.Linear(8, 4))
    encoder = nn.Sequential(nn.Embedding(50, 16), nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, batch_first=True), 2),
                            nn.LayerNorm(16), nn.Linear(16, 50))
    recurrent = nn.ModuleDict({"lstm": nn.LSTM(8, 8, 2, batch_first=True), "gru": nn.GRU(8, 8), "head": nn.Linear(8, 2)})
    manifest = []
    for name, model, note in [
        ("whole_cnn_legacy.pt", cnn, "a whole nn.Sequential CNN saved in the legacy layout (module ids for every layer class)"),
        ("whole_transformer_legacy.pt", encoder, "a whole nn.TransformerEncoder model saved in the legacy layout"),
        ("whole_recurrent_legacy.pt", recurrent, "a whole nn.ModuleDict of LSTM and GRU saved in the legacy layout"),
    ]:
        torch.save(model, os.path.join(OUT, name), _use_new_zipfile_serialization=False)
        manifest.append({"file": f"legacy-torch/{name}", "expect": "pass", "threat": None, "mentions": [], "note": note})
    # pickle_protocol=4: the magic number's pickle starts with a FRAME, the module ids are in frames too.
    torch.save(cnn, os.path.join(OUT, "whole_cnn_legacy_p4.pt"), _use_new_zipfile_serialization=False, pickle_protocol=4)
    manifest.append({"file": "legacy-torch/whole_cnn_legacy_p4.pt", "expect": "pass", "threat": None, "mentions": [],
                     "note": "the CNN in the legacy layout with pickle_protocol=4 (framed pickles)"})
    legacy_with_module_id(os.path.join(OUT, "module_id_system.pt"), os.system, ("echo modelgate-fixture",))
    manifest.append({"file": "legacy-torch/module_id_system.pt", "expect": "block", "threat": "P1", "mentions": ["posix.system"],
                     "note": "legacy layout whose module id holds os.system, which the load returns and REDUCE calls"})
    legacy_with_module_id(os.path.join(OUT, "module_id_popen.pt"), subprocess.Popen, (["echo", "modelgate-fixture"],))
    manifest.append({"file": "legacy-torch/module_id_popen.pt", "expect": "block", "threat": "P1", "mentions": ["subprocess.Popen"],
                     "note": "legacy layout whose module id holds subprocess.Popen, constructed by REDUCE"})
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(e) for e in manifest) + "\n]\n")


if __name__ == "__main__":
    main()
