"""modelgate sandbox harness: loads one model file with one loader and reports what the load attempted.

Runs inside bubblewrap only (src/sandbox/jail.ts builds the jail); never run it on a host. Usage:

    python3 -I -B harness.py EVENTS_FD LOADER MODEL_PATH MEMORY_MB CPU_SECONDS

Every line written to EVENTS_FD is one JSON object: {"kind": "ready" | "event" | "loaded" | "load-error"
| "missing-library" | "truncated", ...}. Events carry the audit event's name and a short rendering of
its arguments; modelgate (src/sandbox/audit.ts) gives them their severity. The harness only leaves
out what importing a library does by itself (IMPORT_MECHANICS).
The payload runs in this interpreter and could forge or close this channel: strace, outside the jail,
is the record it cannot reach.
"""
import os
import sys
import time

EVENTS_FD, LOADER, MODEL, MEMORY_MB, CPU_SECONDS = sys.argv[1:6]
# Standard error is strace's record, outside the jail: only strace may write to it. Nothing else
# inherited stays open either.
_devnull = os.open("/dev/null", os.O_WRONLY)
os.dup2(_devnull, 2)
os.close(_devnull)
os.closerange(int(EVENTS_FD) + 1, 1 << 16)
channel = os.fdopen(int(EVENTS_FD), "w", buffering=1, encoding="utf-8", errors="backslashreplace")

import json  # noqa: E402  (after the descriptors are closed)
import resource  # noqa: E402

# Hard limits: the payload cannot raise them back (the jail has no capabilities).
memory = int(MEMORY_MB) << 20
resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
cpu = int(CPU_SECONDS)
resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 20, 64 << 20))

MAX_ARG = 300
MAX_EVENTS = 2000
# Audit events worth reporting; everything else (sys._getframe, object.__getattr__…) is library noise.
WATCHED_PREFIXES = (
    "os.", "subprocess.", "socket.", "ctypes.", "shutil.", "urllib.", "http.", "ftplib.", "smtplib.", "poplib.",
    "imaplib.", "nntplib.", "telnetlib.", "webbrowser.", "pty.", "glob.", "tempfile.", "sqlite3.", "winreg.",
)
WATCHED = {"exec", "compile", "open", "import", "pickle.find_class", "marshal.loads", "marshal.load", "code.__new__",
           "sys.addaudithook", "sys.settrace", "sys.setprofile", "builtins.input", "builtins.breakpoint",
           "signal.pthread_kill", "resource.setrlimit", "resource.prlimit", "sys.remote_exec", "mmap.__new__"}


def short(value):
    text = repr(value)
    return text if len(text) <= MAX_ARG else text[:MAX_ARG] + "…"


def emit(record):
    channel.write(json.dumps(record) + "\n")


def from_import_machinery():
    """True when the event comes from importing a module (its code runs under importlib's frames)."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


state = {"loading": False, "inside": False, "count": 0}

# What importing a module does by itself (the pickle names a class of an installed library, and the
# library gets imported): load and run its code, read and list its files, load native libraries, set
# up its environment. Not reported while importing, so that the import of PyTorch does not flood the
# channel; processes, connections, writes and tampering are reported whoever causes them.
IMPORT_MECHANICS = {"import", "exec", "compile", "marshal.loads", "marshal.load", "code.__new__", "os.listdir",
                    "os.scandir", "glob.glob", "os.putenv", "os.unsetenv", "os.chdir", "mmap.__new__"}


def import_mechanics(name, args):
    if name == "open":
        return not writes(args[1], args[2])
    return name in IMPORT_MECHANICS or name.startswith("ctypes.")


def hook(name, args):
    if not state["loading"] or state["inside"]:
        return
    if name not in WATCHED and not name.startswith(WATCHED_PREFIXES):
        return
    state["inside"] = True
    try:
        if import_mechanics(name, args) and from_import_machinery():
            return
        state["count"] += 1
        if state["count"] > MAX_EVENTS:
            if state["count"] == MAX_EVENTS + 1:
                emit({"kind": "truncated", "after": MAX_EVENTS})
            return
        record = {"kind": "event", "event": name, "time": time.time()}
        if name == "open":
            path, mode, flags = args
            if path == MODEL:
                return
            record["path"] = str(path)
            record["write"] = writes(mode, flags)
        elif name == "pickle.find_class":
            record["target"] = f"{args[0]}.{args[1]}"
        elif name == "import":
            record["target"] = str(args[0])
        elif name == "compile":
            record["args"] = short(args[0])
            # ast.literal_eval (NumPy reads .npy headers with it) parses to a tree; it runs nothing.
            caller = sys._getframe(1).f_code
            record["astParse"] = caller.co_name == "parse" and caller.co_filename.endswith("/ast.py")
        if "args" not in record and name not in ("import", "pickle.find_class", "exec"):
            record["args"] = short(args)
        emit(record)
    finally:
        state["inside"] = False


def writes(mode, flags):
    if isinstance(mode, str) and any(c in mode for c in "wax+"):
        return True
    return isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND) != 0


def prepare(loader):
    """Imports the loader's library before watching, so its own import is not mistaken for the model's."""
    if loader == "pickle":
        import pickle
        return lambda path: pickle.load(open(path, "rb"))
    if loader == "joblib":
        import joblib
        return joblib.load
    if loader == "torch":
        import torch
        return lambda path: torch.load(path, map_location="cpu", weights_only=False)
    if loader == "numpy":
        import numpy

        def load_numpy(path):
            loaded = numpy.load(path, allow_pickle=True)
            # An .npz is lazy: each member's pickle runs when it is read, so read them all.
            if hasattr(loaded, "files"):
                return {key: loaded[key] for key in loaded.files}
            return loaded
        return load_numpy
    if loader == "keras":
        import keras
        return keras.saving.load_model
    if loader == "onnx":
        import onnx
        return onnx.load
    raise ValueError(f"unknown loader {loader}")


def main():
    try:
        load = prepare(LOADER)
    except ImportError as error:
        emit({"kind": "missing-library", "loader": LOADER, "error": short(error)})
        return 3
    emit({"kind": "ready", "python": sys.version.split()[0], "loader": LOADER})
    sys.addaudithook(hook)
    # strace, outside the jail, counts from this marker on: everything before it was the harness starting.
    os.access("/modelgate-sandbox/load-start", os.F_OK)
    state["loading"] = True
    try:
        loaded = load(MODEL)
        # Finalizers of what was loaded run at load time in practice too.
        del loaded
        import gc
        gc.collect()
    except BaseException as error:  # noqa: BLE001  (a payload may raise anything, SystemExit included)
        state["loading"] = False
        emit({"kind": "load-error", "error": f"{type(error).__name__}: {short(str(error))}"})
        return 4
    state["loading"] = False
    emit({"kind": "loaded"})
    return 0


code = main()
channel.flush()
# No interpreter shutdown: atexit handlers and finalizers the payload registered do not get a second chance.
os._exit(code)
