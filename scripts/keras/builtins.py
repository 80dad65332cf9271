"""Writes data/keras-builtins.json: the function names Keras resolves for a config's
{"module": "builtins", "class_name": "function", "config": NAME} (how Keras 3 saves a built-in
activation, loss or metric passed as a function). Keras looks NAME up only as
keras.<module>.NAME for the modules below (serialization_lib.BUILTIN_MODULES), so these names
reach Keras's own functions, never Python's builtins (older Keras imported the module named
instead, so any other name under "builtins" is judged as Python's own). Run by hand in a venv with Keras:

    KERAS_BACKEND=torch python scripts/keras/builtins.py
"""
import inspect
import json
import pathlib

import keras
from keras.src.saving import serialization_lib

# Lookups, not modeling functions: a layer calling one with config data would deserialize again.
NOT_MODELING = {"deserialize", "get", "serialize"}

OUT = pathlib.Path(__file__).resolve().parents[2] / "data" / "keras-builtins.json"


def main() -> None:
    modules = {}
    for mod in sorted(serialization_lib.BUILTIN_MODULES):
        public = getattr(keras, mod)
        modules[mod] = sorted(n for n in dir(public) if not n.startswith("_") and n not in NOT_MODELING and inspect.isfunction(getattr(public, n)))
    OUT.write_text(json.dumps({
        "schema": "modelgate.keras-builtins/v1",
        "generator": "scripts/keras/builtins.py",
        "keras": keras.__version__,
        "modules": modules,
    }, indent=1) + "\n")
    print(f"{OUT}: {sum(len(v) for v in modules.values())} names from Keras {keras.__version__}")


if __name__ == "__main__":
    main()
