"""The introspection half of generate.py: make the venvs, run introspect.py in each, merge.

Curated entries win over introspected ones (their argument fields are reviewed); an exclusion
wins over an introspected name; a name seen in only some versions of its library records them.
Once every flag is set (screen, CURATED, NOT_CALLED_LIBRARIES, the guarded SciPy classes), a class
with a construct-only class in its MRO becomes construct-only too (propagate_not_called); torch.nn.Module
and its subclasses are marked "module" (mark_modules); last, a class some run saw forwarding
(introspect.forwarding) is marked "forwards" (mark_forwards).

    python3 scripts/allowlist/merge.py --propagate RUN.json...

does that last step alone on the committed data/allowlist/, from introspect.py --bases runs (one
per venv: a class's MRO is the union of what the runs saw), and reports the classes no run imported.

    python3 scripts/allowlist/merge.py --add RUN.json

merges one more venv's introspect.py output (its whole run: samples and the walk its "# walk:" header
allows) into the committed data as a full generate.py run with that venv added would (Merged), every
step above included; the full run takes an hour and a half, this seconds once the venv's run is done.

    python3 scripts/allowlist/merge.py --forwards RUN.json...

marks "forwards" on the committed classes that introspect.py --forwards runs (one per venv) saw
forwarding, as a full run would write it, and reports the classes no run imported; re-runnable (a
class marked already stays as written, and a mark no run confirms is reported, not removed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import generate as g
import screen

DEBIAN_ANTLR = Path("/usr/lib/python3/dist-packages/antlr4")


def ensure_venv(venv: Path, requirements: Path) -> Path:
    """Create the venv from its pinned requirements when it does not exist yet. "# python:" names a
    pyenv CPython, or an interpreter's absolute path whose own packages the venv sees (Debian's
    /usr/bin/python3 with the "# apt:" packages, installed here when missing). "# pip:" adds options
    to pip install (--no-deps, for a file that pins every package of its venv itself) and "# unpin:
    PACKAGE=DEPENDENCY" drops an upper bound a package checks at import (unpin)."""
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
        subprocess.run([str(venv / "bin" / "pip"), "install", "--retries", "0", *(header(requirements, "pip") or "").split(),
                        "-r", str(requirements)], check=True)
    for package, dependency in [p.split("=") for p in (header(requirements, "unpin") or "").split()]:
        unpin(venv, package, dependency)
    # omegaconf needs antlr4 4.9, which the package index lacks: Debian's python3-antlr4 is used.
    if not cpython.startswith("/") and "omegaconf" in requirements.read_text() and DEBIAN_ANTLR.exists():
        site = next((venv / "lib").glob("python3*/site-packages"))
        link = venv / "debian-antlr4"
        link.mkdir(exist_ok=True)
        if not (link / "antlr4").exists():
            (link / "antlr4").symlink_to(DEBIAN_ANTLR)
        (site / "debian-antlr4.pth").write_text(f"{link}\n")
    return python


def unpin(venv: Path, package: str, dependency: str) -> None:
    """Drops the upper bound of `dependency` from the version table `package` checks at import
    (transformers' dependency_versions_table.py). transformers 4.x refuses to import with
    huggingface-hub 1.x, which is all the package index has, though its modelling and tokenizer code
    runs with it: the fourth precision corpus' transformers 4.57 files were made so."""
    table = next((venv / "lib").glob(f"python3*/site-packages/{package}/dependency_versions_table.py"))
    text = table.read_text()
    table.write_text(re.sub(rf'("{re.escape(dependency)}": "{re.escape(dependency)}[^",]*),<[^"]*"', r'\1"', text))


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
    after walking the rewalk libraries again where the venv has them). "# walk:" limits the definitions
    walk to the libraries named, "# sample:" the samples to the samples.py builders named: a venv added
    for a few libraries over others that a venv already introspects (Debian's interpreter, for
    torchaudio) samples and walks only those, as merge.py --add merged it."""
    out = python.parent.parent / "allowlist-introspect.json"
    env = dict(os.environ)
    walk = header(requirements, "walk")
    if walk:
        env["ALLOWLIST_WALK"] = walk
    sample = header(requirements, "sample")
    if sample:
        env["ALLOWLIST_SAMPLE"] = sample
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
    merged = Merged()
    for venv, requirements in venvs:
        python = ensure_venv(Path(venv), Path(requirements))
        print(f"introspecting {venv}", file=sys.stderr)
        run = introspect(python, Path(requirements), reuse, list(rewalk))
        for failure in run["failures"]:
            print(f"  {venv}: {failure}", file=sys.stderr)
        merged.add_run(run)
    merged.finish()
    data = g.build(merged.entries, merged.excluded, merged.libraries,
                   g.compat_tables(str(ensure_venv(Path(venvs[0][0]), Path(venvs[0][1])))), generator)
    data["bases"] = listed_bases(merged.entries, merged.bases)
    return data


# What add_committed puts back into "excluded" for a class the committed data allowlists under SciPy's
# state guard: the screen's reason as g.guarded_entries recognises it, so that finish makes the guarded
# entries (and a discrete distribution's _entropy) again rather than screening them as introspected names.
GUARDED_AGAIN = "__setstate__ reaches exec() through _attach_argparser_methods (allowlisted under its state guard)"


class Merged:
    """The runs merged so far: generate_full adds each venv's run, then finishes; add_committed
    starts from the committed data instead, as if the runs that made it had been added, so that one
    more venv's run is merged as a full run with that venv would merge it.

    entries: "module\0name" → entry (with its "lib"); excluded: module.name → reason; libraries:
    library → versions introspected, in the order met (python's sorted); seen_in: "module\0name" →
    the versions of its library it was seen in; bases: module.name → its MRO's names in any run;
    forwards: module.name of the classes any run saw forwarding."""

    def __init__(self) -> None:
        self.libraries: dict[str, list[str]] = {"python": []}
        self.excluded: dict[str, str] = dict(g.EXCLUDED)
        self.entries: dict[str, dict] = {}
        self.seen_in: dict[str, set[str]] = {}
        self.bases: dict[str, list[str]] = {}
        self.forwards: set[str] = set()

    def add_run(self, r: dict) -> None:
        """One venv's introspect.py output: its versions, exclusions (an earlier reason stays) and names
        (the first run's entry stays, but a run whose version of a class is construct-only makes it so)."""
        self.libraries["python"] = sorted({*self.libraries["python"], r["python"]})
        for lib, version in r["libraries"].items():
            self.libraries.setdefault(lib, [])
            if version not in self.libraries[lib]:
                self.libraries[lib].append(version)
        self.excluded.update({k: v for k, v in r["excluded"].items() if k not in self.excluded})
        self.forwards.update(r.get("forwards", ()))  # a name one version forwards is a forwarder
        for key, e in r["names"].items():
            module, name = key.split(" ", 1)
            k = f"{module}\0{name}"
            version = r["python"] if e["lib"] == "python" else r["libraries"].get(e["lib"])
            self.seen_in.setdefault(k, set()).add(version)
            first = self.entries.setdefault(k, {x: v for x, v in e.items() if x not in ("seen", "bases")})
            add_bases(self.bases, key.replace(" ", ".", 1), e.get("bases", ()))
            if e.get("notCalled") and not first.get("notCalled"):  # one version's __init__ reaches more
                first["notCalled"] = True
                first["why"] = f"{e.get('why')} (in {e['lib']} {version})"

    def finish(self) -> None:
        """Once every run is added: exclusions win over introspected names (and the screen's areas as
        they are now), versions are recorded where a name was not seen in all, NOT_CALLED_LIBRARIES, the
        Cython helpers' classes, the guarded SciPy classes, CURATED winning, then construct-only down
        the MRO, then the forwarders marked."""
        entries, excluded = self.entries, self.excluded
        for k in list(entries):
            module, name = k.split("\0")
            late = screen.area_reason(module) or screen.name_reason(module, name)  # areas edited since the run
            if late and f"{module}.{name}" not in excluded:
                excluded[f"{module}.{name}"] = late
            if k.replace("\0", ".") in excluded:
                del entries[k]
                continue
            lib = entries[k]["lib"]
            versions = self.seen_in.get(k, set()) - {None}
            entries[k].pop("versions", None)
            if lib in self.libraries and versions and versions != set(self.libraries[lib]):
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
        if not any(self.bases.values()):
            print("  no run recorded its classes' MROs (introspection output older than introspect.record_bases): "
                  "nothing is construct-only by inheritance; introspect again", file=sys.stderr)
        for cls, base in propagate_not_called(entries, self.bases):
            print(f"  construct-only by inheritance: {cls} (from {base})", file=sys.stderr)
        if not self.forwards:
            print("  no run recorded forwarding classes (introspection output older than introspect.forwarding): "
                  "nothing is marked forwards; introspect again", file=sys.stderr)
        mark_modules(entries, self.bases)
        mark_forwards(entries, self.forwards)

    def add_committed(self) -> dict:
        """The committed data/ as the merged runs that made it, before finish; returns its index
        (generator, compat). A name seen in every version has no "versions" in the data, and neither
        has a curated name no run saw: both count as seen in all. A class allowlisted under SciPy's
        state guard goes back to "excluded" (GUARDED_AGAIN), for finish to make its entries again. The
        MROs are those data/allowlist-bases.json records (the allowlisted classes in each, which is
        what propagate_not_called and listed_bases read of them); a class marked "forwards" counts as
        seen forwarding, and finish marks it again."""
        index = json.loads(g.OUT.read_text())
        self.libraries = {lib: list(v) for lib, v in index["libraries"].items()}
        self.excluded.update({k: r for k, r in index["excluded"].items() if k not in self.excluded})
        for shard in sorted(g.SHARDS.glob("*.json")):
            for module, m in json.loads(shard.read_text())["modules"].items():
                # SciPy's guarded classes only: other guards (Pillow's, gymnasium's) are curated entries.
                guarded = {n for n, v in m["names"].items() if isinstance(v, dict) and v.get("stateGuard") == "scipy-argparser"}
                for name, v in m["names"].items():
                    if name.split(".")[0] in guarded:  # finish makes them again, as a full run does
                        if name in guarded:
                            self.excluded[f"{module}.{name}"] = GUARDED_AGAIN
                        continue
                    k = f"{module}\0{name}"
                    e = {"kind": v} if isinstance(v, str) else dict(v)
                    if e.pop("forwards", None):
                        self.forwards.add(f"{module}.{name}")
                    self.entries[k] = {**e, "lib": m["lib"]}
                    self.seen_in[k] = set(e["versions"].split()) if "versions" in e else set(self.libraries.get(m["lib"], ()))
        for qualified, names in recorded_bases().items():
            add_bases(self.bases, qualified, names)
        return index


def recorded_bases() -> dict[str, list[str]]:
    """module.name → every allowlisted class in its MRO, from data/allowlist-bases.json, which keeps
    only the nearest ones (listed_bases): the record followed up, the nearest first, as written."""
    record: dict[str, list[str]] = {}
    for module, classes in json.loads(g.BASES.read_text()).items():
        for name, near in classes.items():
            record[f"{module}.{name}"] = [f"{module}{b}" if b.startswith(".") else b for b in near]
    out: dict[str, list[str]] = {}
    for q, near in record.items():
        found: list[str] = []
        pending = list(near)
        while pending:
            b = pending.pop(0)
            if b != q and b not in found:
                found.append(b)
                pending.extend(record.get(b, ()))
        out[q] = found
    return out


def add_venv(run: Path) -> None:
    """--add: merges one more venv's introspect.py output into the committed data/ as a full
    generate.py run with that venv among its venvs would (Merged.add_committed), without the ~1.5 h
    of introspecting the others again; every shard and data/allowlist-bases.json written anew, and
    what changed printed."""
    merged = Merged()
    index = merged.add_committed()
    bases_before = {q: list(b) for q, b in merged.bases.items()}
    merged.add_run(json.loads(run.read_text()))
    merged.finish()
    data = g.build(merged.entries, merged.excluded, merged.libraries, index["compat"], index["generator"])
    data["bases"] = listed_bases(merged.entries, merged.bases)
    before, excluded_before = committed_names(), index["excluded"]
    keep_as_written(data, before, merged, bases_before)
    g.write_sharded(data)
    after = {f"{module}.{name}": v for module, m in data["modules"].items() for name, v in m["names"].items()}
    changed = sorted(q for q in before if q in after and before[q] != after[q])
    print(f"{sum(q not in before for q in after)} names added, {sum(q not in after for q in before)} left, "
          f"{len(changed)} changed: {len(after)} names, {len(data['excluded'])} exclusions "
          f"({len(set(data['excluded']) - set(excluded_before))} new)")
    for q in sorted(q for q in before if q not in after):
        print(f"  left: {q}: {data['excluded'].get(q)}")
    for q in changed:
        print(f"  changed: {q}: {json.dumps(before[q])} -> {json.dumps(after[q])}")


def committed_names() -> dict:
    """module.name → its value in the committed shards."""
    return {f"{module}.{name}": v for shard in sorted(g.SHARDS.glob("*.json"))
            for module, m in json.loads(shard.read_text())["modules"].items() for name, v in m["names"].items()}


def keep_as_written(data: dict, before: dict, merged: Merged, bases_before: dict[str, list[str]]) -> None:
    """What a merged run left as it was is written as the committed data has it, so that the diff is
    what the run changed: an entry equal to its committed one keeps its keys' order, and a class whose
    MRO the run did not add to, and whose recorded bases are all still allowlisted classes, keeps its
    record (which the full MROs it came from chose among a class's aliases; the record followed up,
    recorded_bases, cannot always tell which)."""
    for module, m in data["modules"].items():
        for name, v in m["names"].items():
            if before.get(f"{module}.{name}") == v:
                m["names"][name] = before[f"{module}.{name}"]
    classes = {k.replace("\0", ".") for k, e in merged.entries.items() if e["kind"] == "class"}
    for module, recorded in json.loads(g.BASES.read_text()).items():
        for name, near in recorded.items():
            q = f"{module}.{name}"
            if merged.bases.get(q) == bases_before.get(q) and q in classes and all(
                    (f"{module}{b}" if b.startswith(".") else b) in classes for b in near):
                data["bases"].setdefault(module, {})[name] = near


# ------------------------------------------------------------------ construct-only by inheritance


def add_bases(bases: dict[str, list[str]], qualified: str, names) -> None:
    """Adds a run's MRO names of a class to those of other runs (other versions may have other bases)."""
    known = bases.setdefault(qualified, [])
    known.extend(n for n in names if n not in known)


def propagate_not_called(entries: dict[str, dict], bases: dict[str, list[str]]) -> list[tuple[str, str]]:
    """Makes construct-only every class entry that has a construct-only class in its MRO, and returns
    the (class, base) pairs it flagged. A construct-only base's __init__, __post_init__, __new__ or
    __call__ reaches what loading must not, and a subclass inherits it unless it overrides all of
    it: the screen reads that for what it finds itself (call_reason walks the MRO), but a flag set by
    hand (CURATED, NOT_CALLED_LIBRARIES, the guarded SciPy classes) was not carried to subclasses
    listed on their own (a red team called rv_frozen's __init__ through levy_stable_frozen).
    entries: "module\0name" → entry, every other flag already set; bases: module.name → its MRO's
    names (introspect.mro_names). The base named is the nearest flagged one in the MRO: one flagged
    before this ran when there is such, so that the reason it gives is the base's own."""
    flagged = {k.replace("\0", "."): e for k, e in entries.items() if e["kind"] == "class" and e.get("notCalled")}
    found: list[tuple[str, str]] = []
    while True:  # again with the newly flagged: bases seen in other versions than the class's
        known = dict(flagged)
        new = []
        for k, e in entries.items():
            qualified = k.replace("\0", ".")
            if e["kind"] != "class" or e.get("notCalled"):
                continue
            base = next((b for b in bases.get(qualified, ()) if b in known), None)
            if base:
                new.append((k, qualified, base))
        if not new:
            return found
        for k, qualified, base in new:
            reason = known[base].get("why") or "its call reaches what loading must not"
            reason = reason.removeprefix("not callable: ")
            entries[k].update(notCalled=True, why=f"not callable: it inherits from {base}, which is construct-only ({reason})")
            if entries[k].pop("forwards", None):  # last, where mark_forwards writes it
                entries[k]["forwards"] = True
            flagged[qualified] = entries[k]
            found.append((qualified, base))


# ------------------------------------------------------------------ forwarding classes


# Classes whose own attribute code answers BUILD's lookup of __setstate__ but was read and found to
# hand no name on to what the instance holds, with why (introspect.forwarding cannot tell).
NOT_FORWARDING = {
    name: "its __getattr__ serves time scales and formats by fixed names (SCALES, FORMATS) and otherwise "
          "falls back to the normal lookup; the one object it returns, a replica of itself for a scale, is not callable"
    for name in ("astropy.time.core.TimeBase", "astropy.time.core.Time", "astropy.time.core.TimeDelta")
} | {
    # SciPy 1.10 (Debian's): _spbase.__getattr__ (precision corpus fp20: every pickled dok_matrix of 1,000 entries was MG106).
    name: "its __getattr__ (SciPy 1.10's _spbase) serves A, T, H, real, imag and size by fixed names, computed from "
          "the matrix, and raises AttributeError for any other name"
    for name in [f"scipy.sparse.{m}" for m in (
        "_base.spmatrix", "_compressed._cs_matrix", "_data._data_matrix", "_bsr.bsr_matrix", "_coo.coo_matrix",
        "_csc.csc_matrix", "_csr.csr_matrix", "_dia.dia_matrix", "_dok.dok_matrix", "_lil.lil_matrix")]
    + [f"scipy.sparse._arrays.{f}_array" for f in ("bsr", "coo", "csc", "csr", "dia", "dok", "lil")]
}


TORCH_MODULE = "torch.nn.modules.module.Module"


def mark_modules(entries: dict[str, dict], bases: dict[str, list[str]]) -> None:
    """Marks "module" on torch.nn.Module and every class entry with it in its MRO: pickles construct
    modules (copyreg.__newobj__, then BUILD) and never call them, while a call at load allocates the
    parameters by its arguments or its defaults (timm's ConVit() took 23 GB), so the engine reports a
    call; a model may hold one (ResNet's norm layer class), which stays quiet. "forwards" stays last."""
    for k, e in entries.items():
        qualified = k.replace("\0", ".")
        if e["kind"] == "class" and (qualified == TORCH_MODULE or TORCH_MODULE in bases.get(qualified, ())):
            forwards = e.pop("forwards", None)
            e["module"] = True
            if forwards:
                e["forwards"] = True


def mark_forwards(entries: dict[str, dict], forwards) -> list[str]:
    """Marks "forwards" (the entry's last field) on every class entry whose module.name is in forwards,
    and returns those it marked. A forwarding class answers BUILD's lookup of __setstate__ with its own
    __getattr__/__getattribute__ (introspect.forwarding): what it holds may receive BUILD's state.
    NOT_FORWARDING's classes are left unmarked (and their marks removed)."""
    marked = []
    for k, e in entries.items():
        if k.replace("\0", ".") in NOT_FORWARDING:
            e.pop("forwards", None)
            continue
        if e["kind"] == "class" and not e.get("forwards") and k.replace("\0", ".") in forwards:
            e["forwards"] = True
            marked.append(k.replace("\0", "."))
    return marked


def forwards_committed(runs: list[Path]) -> None:
    """--forwards: mark_forwards on the committed shards, with the forwarders introspect.py --forwards
    found in each run; only the entries it marks change, every shard written as it was (g.dumps_compact).
    Reports how many each library got, the marks no run confirms, and the classes no run imported."""
    forwards: dict[str, str] = {}
    resolved: set[str] = set()
    unresolved: dict[str, list[str]] = {}
    for run in runs:
        r = json.loads(run.read_text())
        for qualified, via in r["forwards"].items():
            forwards.setdefault(qualified, via)
        resolved.update(r["resolved"])
        for qualified, reason in r["unresolved"].items():
            unresolved.setdefault(qualified, []).append(f"{run.stem}: {reason}")
    shards = {p.stem: json.loads(p.read_text()) for p in sorted(g.SHARDS.glob("*.json"))}
    edited: set[str] = set()
    per_lib: dict[str, int] = {}
    unconfirmed = []
    for top, shard in shards.items():
        for module, m in shard["modules"].items():
            names = m["names"]
            for name, v in names.items():
                entry = {"kind": v} if isinstance(v, str) else v  # the shard's own dict: edited in place
                qualified = f"{module}.{name}"
                if entry.get("forwards") and qualified not in forwards:
                    unconfirmed.append(qualified)
                had = bool(entry.get("forwards"))
                if mark_forwards({f"{module}\0{name}": entry}, forwards):
                    names[name] = entry
                    edited.add(top)
                    per_lib[m["lib"]] = per_lib.get(m["lib"], 0) + 1
                    print(f"forwards: {qualified} (through {forwards[qualified]})")
                elif had and not entry.get("forwards"):  # NOT_FORWARDING: written back as a run writes it
                    names[name] = entry if len(entry) > 1 else entry["kind"]
                    edited.add(top)
                    print(f"not forwarding: {qualified} ({NOT_FORWARDING[qualified]})")
    for top in sorted(edited):
        (g.SHARDS / f"{top}.json").write_text(g.dumps_compact(shards[top]), newline="\n")
    missing = sorted(set(unresolved) - resolved)
    print(f"{sum(per_lib.values())} classes marked ({', '.join(f'{lib} {n}' for lib, n in sorted(per_lib.items()))}); "
          f"{len(unconfirmed)} marked before and not seen forwarding by these runs; "
          f"{len(resolved)} of the listed classes imported in some run, {len(missing)} in none:")
    for qualified in unconfirmed:
        print(f"  marked, not confirmed: {qualified}")
    for qualified in missing:
        print(f"  {qualified}: {unresolved[qualified][0]}")


def listed_bases(entries: dict[str, dict], bases: dict[str, list[str]]) -> dict[str, dict[str, list[str]]]:
    """The record test/allowlist.test.ts holds construct-only flags to (data/allowlist-bases.json):
    module → allowlisted class of it → the nearest allowlisted classes in its MRO, a base of the same
    module written ".Name". Nearest: a base that another listed base of the class inherits is left
    out (the test follows the record up, which finds it again), unless each inherits the other
    (two names of one class)."""
    classes = {k.replace("\0", "."): k.split("\0") for k, e in entries.items() if e["kind"] == "class"}
    full = {q: [b for b in bases.get(q, ()) if b in classes] for q in classes}
    out: dict[str, dict[str, list[str]]] = {}
    for key in sorted(k for k, e in entries.items() if e["kind"] == "class"):
        module, name = key.split("\0")
        q = f"{module}.{name}"
        mine = full[q]
        nearest = [a for a in mine if not any(
            b != a and a in full[b] and b not in full[a] and q not in full[b] for b in mine)]
        if nearest:
            out.setdefault(module, {})[name] = [f".{classes[b][1]}" if classes[b][0] == module else b for b in nearest]
    return out


def propagate_committed(runs: list[Path]) -> None:
    """--propagate: propagate_not_called on the committed shards, with the MRO names introspect.py
    --bases recorded in each run; only the entries it flags change, every shard written as it was
    (g.dumps_compact), and data/allowlist-bases.json is written again."""
    bases: dict[str, list[str]] = {}
    resolved: set[str] = set()
    unresolved: dict[str, list[str]] = {}
    for run in runs:
        r = json.loads(run.read_text())
        for qualified, names in r["bases"].items():
            add_bases(bases, qualified, names)
        resolved.update(r["resolved"])
        for qualified, reason in r["unresolved"].items():
            unresolved.setdefault(qualified, []).append(f"{run.stem}: {reason}")
    shards = {p.stem: json.loads(p.read_text()) for p in sorted(g.SHARDS.glob("*.json"))}
    entries: dict[str, dict] = {}
    for shard in shards.values():
        for module, m in shard["modules"].items():
            for name, v in m["names"].items():
                entries[f"{module}\0{name}"] = {"kind": v} if isinstance(v, str) else v  # the shard's own dict: edited in place
    found = propagate_not_called(entries, bases)
    edited: set[str] = set()
    for qualified, base in found:
        module, name = qualified_key(entries, qualified).split("\0")
        top = module.split(".")[0]
        names = shards[top]["modules"][module]["names"]
        if isinstance(names[name], str):  # was the bare kind
            names[name] = entries[f"{module}\0{name}"]
        edited.add(top)
        print(f"construct-only by inheritance: {qualified} (from {base})")
    for top in sorted(edited):
        (g.SHARDS / f"{top}.json").write_text(g.dumps_compact(shards[top]), newline="\n")
    g.write_bases(listed_bases(entries, bases))
    missing = sorted(set(unresolved) - resolved)
    print(f"{len(found)} classes flagged; {len(resolved)} of the listed classes imported in some run, {len(missing)} in none:")
    for qualified in missing:
        print(f"  {qualified}: {unresolved[qualified][0]}")


def qualified_key(entries: dict[str, dict], qualified: str) -> str:
    """The "module\0name" key of a qualified name (a name may be dotted: its module is the longest that is listed)."""
    for dot in [i for i, c in enumerate(qualified) if c == "."][::-1]:
        k = f"{qualified[:dot]}\0{qualified[dot + 1:]}"
        if k in entries:
            return k
    raise KeyError(qualified)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--propagate", nargs="+", type=Path, metavar="RUN.json",
                      help="outputs of introspect.py --bases, one per venv")
    mode.add_argument("--add", type=Path, metavar="RUN.json", help="one more venv's introspect.py output")
    mode.add_argument("--forwards", nargs="+", type=Path, metavar="RUN.json",
                      help="outputs of introspect.py --forwards, one per venv")
    args = ap.parse_args()
    if args.add:
        add_venv(args.add)
    elif args.forwards:
        forwards_committed(args.forwards)
    else:
        propagate_committed(args.propagate)
