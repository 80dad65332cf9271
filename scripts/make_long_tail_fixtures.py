"""Generates test/fixtures/long-tail/: pickles the libraries a fifth precision measurement found missing
from the allowlist write (scikit-rf, nibabel, python-control, arrow, cftime, bitarray, frozendict,
immutabledict, python-flint, stim: scripts/allowlist/requirements-g.txt) and Pillow's images (held to a state
guard: __setstate__ allocates the size its state gives), each of which must pass, and one a library writes
that must still block: a nibabel image loaded from a file keeps an ArrayProxy, which reads the file its state
names when the image's data is asked for.

Run by hand in the venv requirements-g.txt describes (CI never runs Python), e.g.:

    /root/.pyenv/versions/3.11.7/bin/python -m venv /tmp/al-g
    /tmp/al-g/bin/pip install --no-deps -r scripts/allowlist/requirements-g.txt
    /tmp/al-g/bin/python scripts/make_long_tail_fixtures.py

The library versions go into the manifest notes.
"""
import json
import pickle
import tempfile
from importlib.metadata import version
from pathlib import Path

import arrow
import bitarray
import cftime
import control
import flint
import frozendict
import immutabledict
import nibabel
import numpy as np
import skrf
import stim
from PIL import Image

OUT = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "long-tail"


def write(name: str, obj, note: str, expect: str = "pass", mentions: tuple[str, ...] = (), protocol: int = 4) -> dict:
    (OUT / name).write_bytes(pickle.dumps(obj, protocol=protocol))
    return {"file": f"long-tail/{name}", "expect": expect, "threat": None if expect == "pass" else "P2", "mentions": list(mentions), "note": note}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    freq = skrf.Frequency(1, 10, 11, unit="GHz")
    s = np.zeros((11, 2, 2), dtype=complex)
    s[:, 0, 1] = s[:, 1, 0] = 0.9
    dut = skrf.Network(frequency=freq, s=s, name="dut")
    image = nibabel.Nifti1Image(np.arange(24, dtype=np.int16).reshape(2, 3, 4), np.eye(4))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "img.nii"
        nibabel.save(image, path)
        loaded = nibabel.load(path)
        loaded_bytes = pickle.dumps(loaded, protocol=4)
        rgb = Image.frombytes("RGB", (16, 8), bytes(range(256)) * 1 + bytes(128))
        rgb.save(Path(folder) / "img.png")
        rgb.save(Path(folder) / "img.jpg")
        with Image.open(Path(folder) / "img.png") as png, Image.open(Path(folder) / "img.jpg") as jpeg:
            png.load()
            jpeg.load()
            files = pickle.dumps({"png": png, "jpeg": jpeg}, protocol=4)
    (OUT / "nibabel_loaded_proxy.pkl").write_bytes(loaded_bytes)
    (OUT / "pillow_image_files.pkl").write_bytes(files)
    bits = Image.new("1", (13, 5), 1)
    palette = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    entries = [
        write("skrf_network.pkl", dut, f"scikit-rf {version('scikit-rf')} Network (pickle.dump)"),
        write("skrf_media.pkl", skrf.media.DefinedGammaZ0(frequency=freq), f"scikit-rf {version('scikit-rf')} DefinedGammaZ0 media"),
        write("nibabel_nifti1_image.pkl", image, f"nibabel {version('nibabel')} in-memory Nifti1Image"),
        {"file": "long-tail/nibabel_loaded_proxy.pkl", "expect": "block", "threat": "P2", "mentions": ["MG102"],
         "note": f"nibabel {version('nibabel')} image loaded from a file: its ArrayProxy reads the file its state names (not allowlisted)"},
        write("control_transfer_functions.pkl", [control.tf([1], [1, 2, 1]), control.tf([1], [1, -0.5], 0.1)], f"python-control {version('control')} continuous and discrete TransferFunction"),
        write("control_frd.pkl", control.frd(control.tf([1], [1, 1]), np.logspace(-1, 1, 5)), f"python-control {version('control')} FrequencyResponseData"),
        write("arrow_datetime.pkl", arrow.get("2026-12-05T02:00:00+01:00"), f"arrow {version('arrow')} Arrow"),
        write("cftime_noleap.pkl", np.array([cftime.DatetimeNoLeap(2000, 2, 28), cftime.DatetimeNoLeap(2001, 3, 1)]), f"cftime {version('cftime')} DatetimeNoLeap object array"),
        write("bitarray.pkl", [bitarray.bitarray("1011"), bitarray.frozenbitarray("01")], f"bitarray {version('bitarray')} bitarray and frozenbitarray"),
        write("frozendict.pkl", frozendict.frozendict(a=1, b=[2, 3]), f"frozendict {version('frozendict')}"),
        write("immutabledict.pkl", immutabledict.immutabledict(a=1), f"immutabledict {version('immutabledict')}"),
        write("flint_numbers.pkl", [flint.fmpz(2) ** 100, flint.fmpq(3, 7)], f"python-flint {version('python-flint')} fmpz and fmpq"),
        write("pillow_images.pkl", [rgb, rgb.convert("RGBA"), rgb.convert("L"), rgb.convert("F"), rgb.convert("I;16"), bits, palette],
              f"Pillow {version('pillow')} images of modes RGB, RGBA, L, F, I;16, 1 and P (protocol 4)"),
        write("pillow_images_p2.pkl", [rgb, bits], f"Pillow {version('pillow')} RGB and 1 images at protocol 2 (bytes as _codecs.encode, as torch.save writes them)", protocol=2),
        {"file": "long-tail/pillow_image_files.pkl", "expect": "pass", "threat": None, "mentions": [],
         "note": f"Pillow {version('pillow')} PngImageFile and JpegImageFile opened and loaded (their file names kept)"},
        # stim's pybind classes abort the interpreter under protocols 0 and 1; pickle.dump's default is 4.
        write("stim_circuit.pkl", stim.Circuit("H 0\nCNOT 0 1\nM 0 1"), f"stim {version('stim')} Circuit"),
    ]
    (OUT / "manifest.json").write_text("[\n" + ",\n".join(json.dumps(e) for e in entries) + "\n]\n")
    print(f"{len(entries)} fixtures written to {OUT}")


if __name__ == "__main__":
    main()
