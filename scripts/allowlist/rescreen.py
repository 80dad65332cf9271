"""Screen the allowlist in data/ again, in the venv that runs this, with the current screen.py.

generate.py takes over an hour and needs every venv; after the screen changes, this tells what a run
would decide differently for the names already allowlisted: those the screen now rejects (they would
go to "excluded") and the classes it now finds unsafe to call (they would become notCalled). Names
whose module does not import here are counted, not screened: run it in each venv that has a part of
the libraries, and merge the JSON outputs (each line one name).

    python scripts/allowlist/rescreen.py [--old OLD_SCREEN.py] [--only PREFIX,...] > out.jsonl

--old screens with another screen.py as well (a git show of the previous one), to tell what is new.
Curated entries (generate.py's CURATED, and state-guarded ones) are reported with "curated": their
entry is not the screen's to decide.

    python scripts/allowlist/rescreen.py --apply out1.jsonl out2.jsonl ...

writes the outputs' verdicts into data/ as a generate.py run would: a rejected name leaves its shard
for allowlist.json's "excluded" (with the screen's reason), a class unsafe to call becomes notCalled
("not callable: " and the reason). Curated names, errors and timeouts are left as they are (review
them by hand), and so are verdicts the --old screen gives too (the data came from other versions).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import signal
import sys
import time
import types
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

import screen  # noqa: E402


def _load(path: str, name: str):
    """A screen.py kept elsewhere (a git show in /tmp), run as this tree's: it finds the deny lists
    (src/rules/callables.ts) relative to its own file."""
    mod = types.ModuleType(name)
    mod.__file__ = str(HERE / "screen.py")
    sys.modules[name] = mod
    exec(compile(Path(path).read_text(), path, "exec"), mod.__dict__)  # noqa: S102 - our own screen's source
    return mod


class Timeout(Exception):
    pass


def _alarm(*_):
    raise Timeout()


def entries(only: tuple[str, ...]):
    for shard in sorted((ROOT / "data" / "allowlist").glob("*.json")):
        data = json.loads(shard.read_text())
        for module, m in data["modules"].items():
            if only and not (module in only or module.startswith(tuple(f"{p}." for p in only))):
                continue
            for name, v in m["names"].items():
                e = {"kind": v} if isinstance(v, str) else v
                yield module, name, e


def apply(paths: list[str]) -> None:
    import generate as g  # noqa: PLC0415 - only its JSON layout is used (standard imports)

    verdicts: dict[str, dict] = {}
    for path in paths:
        for line in Path(path).read_text().splitlines():
            # Libraries print to stdout while they import (transformers' missing-config notices).
            if not line.startswith("{"):
                print(f"{path}: skipped a line that is not a verdict: {line[:80]}", file=sys.stderr)
                continue
            d = json.loads(line)
            if d.get("curated") or d.get("error") or not (d.get("reject") or d.get("notCalledNow")):
                continue
            if d.get("new") is False:  # the --old screen decides the same: not this change's to apply
                continue
            prev = verdicts.get(d["name"])
            if prev is None or (d.get("reject") and not prev.get("reject")):  # one venv's reach is enough
                verdicts[d["name"]] = d
    index_path = ROOT / "data" / "allowlist.json"
    index = json.loads(index_path.read_text())
    changed = {"excluded": 0, "notCalled": 0}
    for shard in sorted((ROOT / "data" / "allowlist").glob("*.json")):
        data = json.loads(shard.read_text())
        touched = False
        for module in list(data["modules"]):
            names = data["modules"][module]["names"]
            for name in list(names):
                d = verdicts.get(f"{module}.{name}")
                if d is None:
                    continue
                touched = True
                if d.get("reject"):
                    del names[name]
                    index["excluded"][f"{module}.{name}"] = d["reject"]
                    changed["excluded"] += 1
                else:
                    e = {"kind": names[name]} if isinstance(names[name], str) else dict(names[name])
                    rest = {k: v for k, v in e.items() if k not in ("kind", "notCalled", "why")}
                    names[name] = {"kind": e["kind"], "notCalled": True, "why": f"not callable: {d['notCalledNow']}", **rest}
                    changed["notCalled"] += 1
            if not names:
                del data["modules"][module]
        if touched:
            shard.write_text(g.dumps_compact(data), newline="\n")
    index["excluded"] = dict(sorted(index["excluded"].items()))
    index_path.write_text(g.dumps_compact(index), newline="\n")
    print(json.dumps(changed), file=sys.stderr)


def main() -> None:
    if sys.argv[1:2] == ["--apply"]:
        apply(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", help="a previous screen.py to screen with as well")
    ap.add_argument("--only", default="", help="comma-separated packages (with their submodules)")
    ap.add_argument("--names", help="a file of qualified names (one a line): screen only these")
    ap.add_argument("--seconds", type=int, default=30, help="bound on one import or one screening")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.CRITICAL)
    old = _load(args.old, "old_screen") if args.old else None
    curated = curated_keys()
    try:
        from introspect import stub_torchvision_ops  # as generate.py's introspection does
        stub_torchvision_ops()
    except Exception as ex:  # noqa: BLE001
        print(f"rescreen: torchvision ops not stubbed ({type(ex).__name__})", file=sys.stderr)
    signal.signal(signal.SIGALRM, _alarm)
    failed: dict[str, str] = {}
    counts = {"screened": 0, "unimported": 0}
    wanted = set(Path(args.names).read_text().split()) if args.names else None
    for module, name, e in entries(tuple(p for p in args.only.split(",") if p)):
        if e["kind"] not in ("class", "function") or "." in name:
            continue
        if wanted is not None and f"{module}.{name}" not in wanted:
            continue
        if module in failed:
            counts["unimported"] += 1
            continue
        try:
            signal.alarm(args.seconds)
            mod = importlib.import_module(module)
            obj = getattr(mod, name)
            signal.alarm(0)
        except BaseException as ex:  # noqa: BLE001 - a library this venv lacks
            signal.alarm(0)
            failed[module] = type(ex).__name__
            counts["unimported"] += 1
            continue
        counts["screened"] += 1
        out = {"name": f"{module}.{name}", "kind": e["kind"], "notCalled": bool(e.get("notCalled"))}
        if f"{module}\0{name}" in curated or e.get("stateGuard"):
            out["curated"] = True
        start = time.process_time()
        out.update(screen_one(screen, obj, e, args.seconds))
        out["seconds"] = round(time.process_time() - start, 2)
        if old is not None and (out.get("reject") or out.get("notCalledNow")):
            was = screen_one(old, obj, e, args.seconds)
            out["new"] = (bool(out.get("reject")) and not was.get("reject")) or (
                bool(out.get("notCalledNow")) and not was.get("notCalledNow") and not was.get("reject"))
        if out.get("reject") or out.get("notCalledNow") or out.get("error"):
            print(json.dumps(out), flush=True)
    tops: dict[str, int] = {}
    for module, why in failed.items():
        tops[f"{module.split('.')[0]} ({why})"] = tops.get(f"{module.split('.')[0]} ({why})", 0) + 1
    print(json.dumps({"summary": counts, "unimported_modules": tops}), file=sys.stderr)


def screen_one(scr, obj, e: dict, seconds: int) -> dict:
    try:
        signal.alarm(seconds)
        if isinstance(obj, type):
            r = scr.class_reason(obj) or scr.compiled_reason(obj)
            if r:
                return {"reject": r}
            if not e.get("notCalled"):
                c = scr.call_reason(obj)
                if c:
                    return {"notCalledNow": c}
        elif isinstance(obj, types.FunctionType):
            fr = getattr(scr, "function_reason", None)
            if fr is not None:
                r = fr(obj)
            else:
                src = scr._source(obj)
                r = scr.source_reason(src) if src else None
            if r:
                return {"reject": r}
        return {}
    except Timeout:
        return {"error": "timeout"}
    except Exception as ex:  # noqa: BLE001
        return {"error": f"{type(ex).__name__}: {str(ex)[:120]}"}
    finally:
        signal.alarm(0)


def curated_keys() -> set[str]:
    """generate.py's curated entries, read without the venvs it needs (its imports are standard)."""
    try:
        g = _load(str(HERE / "generate.py"), "generate_for_rescreen")
        return {f"{m}\0{n}" for m, n, *_ in g.CURATED}
    except Exception as ex:  # noqa: BLE001
        print(f"rescreen: generate.py's CURATED not read ({type(ex).__name__}: {ex})", file=sys.stderr)
        return set()


if __name__ == "__main__":
    main()
