"""The introspection half of generate.py: make the venvs, run introspect.py in each, merge.

Curated entries win over introspected ones (their argument fields are reviewed); an exclusion
wins over an introspected name; a name seen in only some versions of its library records them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import generate as g
import screen

DEBIAN_ANTLR = Path("/usr/lib/python3/dist-packages/antlr4")


def ensure_venv(venv: Path, requirements: Path) -> Path:
    """Create the venv from its pinned requirements when it does not exist yet. "# python:" names a
    pyenv CPython, or an interpreter's absolute path whose own packages the venv sees (Debian's
    /usr/bin/python3 with the "# apt:" packages, installed here when missing)."""
    ensure_apt((header(requirements, "apt") or "").split())
    python = venv / "bin" / "python"
    if python.exists():
        return python
    cpython = header(requirements, "python") or "3.11.7"
    if cpython.startswith("/"):
        subprocess.run([cpython, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    else:
        subprocess.run([str(g.PYENV / cpython / "bin" / "python"), "-m", "venv", str(venv)], check=True)
    if any(line.strip() and not line.startswith(("#", "--")) for line in requirements.read_text().splitlines()):
        subprocess.run([str(venv / "bin" / "pip"), "install", "--retries", "0", "-r", str(requirements)], check=True)
    # omegaconf needs antlr4 4.9, which the package index lacks: Debian's python3-antlr4 is used.
    if not cpython.startswith("/") and "omegaconf" in requirements.read_text() and DEBIAN_ANTLR.exists():
        site = next((venv / "lib").glob("python3*/site-packages"))
        link = venv / "debian-antlr4"
        link.mkdir(exist_ok=True)
        if not (link / "antlr4").exists():
            (link / "antlr4").symlink_to(DEBIAN_ANTLR)
        (site / "debian-antlr4.pth").write_text(f"{link}\n")
    return python


def ensure_apt(packages: list[str]) -> None:
    """apt-get install the Debian packages that are not installed yet."""
    query = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Status}\n", *packages],
                           capture_output=True, text=True) if packages else None
    installed = {line.split()[0] for line in (query.stdout if query else "").splitlines() if line.endswith(" installed")}
    missing = [p for p in packages if p not in installed]
    if missing:
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def header(requirements: Path, key: str) -> str | None:
    """A "# key: value" line of a requirements file."""
    return next((line.split(":", 1)[1].strip() for line in requirements.read_text().splitlines()
                 if line.startswith(f"# {key}:")), None)


def introspect(python: Path, requirements: Path, reuse: bool, rewalk: list[str]) -> dict:
    """Run introspect.py in the venv; its output is kept next to the venv (--reuse reads it again,
    after walking the rewalk libraries again where the venv has them)."""
    out = python.parent.parent / "allowlist-introspect.json"
    env = dict(os.environ)
    walk = header(requirements, "walk")
    if walk:
        env["ALLOWLIST_WALK"] = walk
    if not (reuse and out.exists()):
        subprocess.run([str(python), str(g.HERE / "introspect.py"), str(out)], check=True, env=env)
        return json.loads(out.read_text())
    for dist in rewalk:
        if dist in json.loads(out.read_text())["libraries"] and (not walk or dist in walk.split()):
            print(f"walking {dist} again in {python.parent.parent}", file=sys.stderr)
            subprocess.run([str(python), str(g.HERE / "introspect.py"), str(out)], check=True,
                           env={**env, "ALLOWLIST_REWALK": dist})
    return json.loads(out.read_text())


def generate_full(venvs: list[tuple[str, str]], generator: str, reuse: bool = False,
                  rewalk: tuple[str, ...] = ()) -> dict:
    runs = []
    for venv, requirements in venvs:
        python = ensure_venv(Path(venv), Path(requirements))
        print(f"introspecting {venv}", file=sys.stderr)
        runs.append(introspect(python, Path(requirements), reuse, list(rewalk)))
        for failure in runs[-1]["failures"]:
            print(f"  {venv}: {failure}", file=sys.stderr)

    libraries: dict[str, list[str]] = {"python": sorted({r["python"] for r in runs})}
    for r in runs:
        for lib, version in r["libraries"].items():
            libraries.setdefault(lib, [])
            if version not in libraries[lib]:
                libraries[lib].append(version)

    excluded = dict(g.EXCLUDED)
    for r in runs:
        excluded.update({k: v for k, v in r["excluded"].items() if k not in excluded})

    entries: dict[str, dict] = {}
    seen_in: dict[str, set[str]] = {}  # key → library versions it was seen in
    for r in runs:
        for key, e in r["names"].items():
            module, name = key.split(" ", 1)
            k = f"{module}\0{name}"
            version = r["python"] if e["lib"] == "python" else r["libraries"].get(e["lib"])
            seen_in.setdefault(k, set()).add(version)
            first = entries.setdefault(k, {x: v for x, v in e.items() if x != "seen"})
            if e.get("notCalled") and not first.get("notCalled"):  # one version's __init__ reaches more
                first["notCalled"] = True
                first["why"] = f"{e.get('why')} (in {e['lib']} {version})"
    for k in list(entries):
        module, name = k.split("\0")
        late = screen.area_reason(module) or screen.name_reason(module, name)  # areas edited since the run
        if late and f"{module}.{name}" not in excluded:
            excluded[f"{module}.{name}"] = late
        if k.replace("\0", ".") in excluded:
            del entries[k]
            continue
        lib = entries[k]["lib"]
        versions = seen_in[k] - {None}
        if lib in libraries and versions and versions != set(libraries[lib]):
            entries[k]["versions"] = " ".join(sorted(versions))
        if lib in g.NOT_CALLED_LIBRARIES and entries[k]["kind"] == "class" and not entries[k].get("notCalled"):
            entries[k].update(notCalled=True, why=g.NOT_CALLED_LIBRARIES[lib])
    # Cython helpers only rebuild their own module's class, which must be allowlisted too.
    for k in [k for k, e in entries.items() if e["kind"] == "cython"]:
        module, name = k.split("\0")
        cls = entries.get(f"{module}\0{name[len('__pyx_unpickle_'):]}")
        if not cls or cls["kind"] not in ("class", "enum"):
            del entries[k]
            excluded[f"{module}.{name}"] = f"its class {module}.{name[len('__pyx_unpickle_'):]} is not allowlisted"
    entries.update(g.guarded_entries(excluded))
    for k, e in g.curated_entries().items():
        entries[k] = {**{x: v for x, v in entries.get(k, {}).items() if x in ("versions", "lib")}, **e}
        excluded.pop(k.replace("\0", "."), None)
    return g.build(entries, excluded, libraries, g.compat_tables(str(ensure_venv(Path(venvs[0][0]), Path(venvs[0][1])))),
                   generator)
