"""Shared by every zoo sub-script: where files go and how they are listed.

Runs on every interpreter the zoo uses, Python 2.7 included, so it keeps to
syntax 2.7 understands.  A sub-script is called as

    <python> scripts/zoo/<name>.py <fixtures-root> <entries.json> <group>

writes its files under <fixtures-root>/zoo/<group>/ and lists each one in
<entries.json>; make_zoo.py merges the lists into test/fixtures/zoo/manifest.json.
"""

import json
import os
import platform
import sys


def import_torchvision():
    """torchvision as installed.  The local index's torchvision for torch 2.x is a
    CUDA build whose C extension cannot load beside the CPU torch, and its import
    registers fake kernels for those missing C operators; the models are plain
    Python and the pickles name only their classes, so that registration is
    skipped while importing."""
    import torch
    try:
        import torchvision
        return torchvision
    except RuntimeError:
        real = torch.library.register_fake
        torch.library.register_fake = lambda *a, **k: (lambda f: f)
        try:
            import torchvision
        finally:
            torch.library.register_fake = real
        return torchvision


class Zoo(object):
    def __init__(self):
        self.fixtures = os.path.abspath(sys.argv[1])
        self.entries_path = sys.argv[2]
        self.group = group = sys.argv[3]
        self.entries = []
        self.dir = os.path.join(self.fixtures, "zoo", group)
        if not os.path.isdir(self.dir):
            os.makedirs(self.dir)
        self.python = "CPython " + platform.python_version()

    def path(self, name):
        """Absolute path for `name` inside this group, its folders made."""
        full = os.path.join(self.dir, name)
        parent = os.path.dirname(full)
        if not os.path.isdir(parent):
            os.makedirs(parent)
        return full

    def add(self, name, note, expect="pass", mentions=None):
        """List a file made under this group; `note` says which library call made it."""
        if not os.path.exists(os.path.join(self.dir, name)):
            raise RuntimeError("listed but not written: " + name)
        self.entries.append({
            "file": "zoo/" + self.group + "/" + name,
            "expect": expect,
            "threat": None,
            "mentions": mentions or [],
            "note": note + " (" + self.python + ")",
        })

    def finish(self):
        with open(self.entries_path, "w") as f:
            json.dump(self.entries, f)
        sys.stdout.write("%s: %d files\n" % (self.group, len(self.entries)))
