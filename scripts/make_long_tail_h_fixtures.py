"""Generates test/fixtures/long-tail-h/: pickles of the libraries precision corpora fp17 and fp18 found missing
from the allowlist (sortedcontainers, Biopython, emcee, meshio, scikit-image, matplotlib's colormaps, pycocotools,
POT, pydicom's file meta information, arviz, music21, pandera: scripts/allowlist/requirements-h.txt), each of which
must pass, and those of the libraries left out, which must still block: holidays (its __setstate__ reads the
translation file its state's language names), wordcloud (its __array__ reads the font file its state names) and a
pydicom dataset (its pickle keeps the file object type it was read with, io.open for a path).

Run by hand in the venv requirements-h.txt describes (CI never runs Python), e.g.:

    /root/.pyenv/versions/3.11.7/bin/python -m venv /tmp/al-h
    /tmp/al-h/bin/pip install --no-deps -r scripts/allowlist/requirements-h.txt
    /tmp/al-h/bin/python scripts/make_long_tail_h_fixtures.py

The library versions go into the manifest notes.
"""
import io
import json
import operator
import pickle
import tempfile
from importlib.metadata import version
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "long-tail-h"


def write(name: str, obj, note: str, expect: str = "pass", mentions: tuple[str, ...] = (), protocol: int = 4,
          raw: bytes | None = None) -> dict:
    (OUT / name).write_bytes(raw if raw is not None else pickle.dumps(obj, protocol=protocol))
    return {"file": f"long-tail-h/{name}", "expect": expect, "threat": None if expect == "pass" else "P2",
            "mentions": list(mentions), "note": note}


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import arviz
    import emcee
    import holidays
    import meshio
    import pydicom
    from Bio.Align import PairwiseAligner
    from Bio.Seq import Seq
    from Bio.SeqFeature import SeqFeature, SimpleLocation
    from Bio.SeqRecord import SeqRecord
    from matplotlib.colors import LinearSegmentedColormap, ListedColormap, Normalize
    from music21 import converter, note, stream
    from ot.da import EMDTransport, SinkhornTransport
    import pandera.pandas as pa
    from pycocotools.coco import COCO
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian
    from skimage import transform
    from sortedcontainers import SortedDict, SortedKeyList, SortedList, SortedSet
    from wordcloud import WordCloud

    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    sampler = emcee.EnsembleSampler(6, 2, lambda x: -0.5 * float(np.sum(x ** 2)))
    sampler.run_mcmc(rng.normal(size=(6, 2)), 5)
    xs, xt = rng.normal(size=(10, 2)), rng.normal(size=(10, 2)) + 1
    with tempfile.TemporaryDirectory() as folder:
        ann = {"images": [{"id": 1, "width": 8, "height": 8, "file_name": "a.jpg"}], "categories": [{"id": 1, "name": "cat"}],
               "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 3, 3], "area": 9, "iscrowd": 0,
                                "segmentation": [[1, 1, 4, 1, 4, 4, 1, 4]]}]}
        (Path(folder) / "ann.json").write_text(json.dumps(ann))
        coco = COCO(str(Path(folder) / "ann.json"))
    ds = Dataset()
    ds.PatientName, ds.Rows = "A^B", 2
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4"
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    buf.seek(0)
    read = pydicom.dcmread(buf)
    frozen = converter.freezeStr(stream.Stream([note.Note("C4"), note.Note("E4", type="half")]), fmt="pickle")
    schema = pa.DataFrameSchema({"x": pa.Column(float, pa.Check.in_range(-10, 10)),
                                 "c": pa.Column(str, pa.Check.isin(list("abc")))}, coerce=True)
    entries = [
        write("sortedcontainers.pkl", {"d": SortedDict({"b": 1, "a": 2}), "l": SortedList([3, 1, 2]), "s": SortedSet([5, 4]),
                                       "k": SortedKeyList([1, 2, 3], key=operator.neg), "kd": SortedDict(operator.neg, {1: "a"})},
              f"sortedcontainers {version('sortedcontainers')} SortedDict, SortedList, SortedSet and SortedKeyList(key=operator.neg)"),
        write("bio_records.pkl", [SeqRecord(Seq("ATGCGT"), id="x1", features=[SeqFeature(SimpleLocation(0, 3), type="CDS")]),
                                  PairwiseAligner(mode="local", match_score=2)],
              f"Biopython {version('biopython')} SeqRecord with a SeqFeature, and a PairwiseAligner"),
        write("emcee_backend.pkl", [sampler.backend, emcee.State(sampler.get_last_sample())], f"emcee {version('emcee')} Backend and State"),
        write("meshio_mesh.pkl", meshio.Mesh(np.eye(3), [("triangle", np.array([[0, 1, 2]]))]), f"meshio {version('meshio')} Mesh"),
        write("skimage_transforms.pkl", [transform.SimilarityTransform(scale=2, rotation=0.1), transform.AffineTransform(shear=0.2),
                                         transform.PolynomialTransform()], f"scikit-image {version('scikit-image')} geometric transforms"),
        write("matplotlib_colormaps.pkl", [ListedColormap(["r", "g", "b"]), LinearSegmentedColormap.from_list("x", ["k", "w"]),
                                           Normalize(0, 1), matplotlib.colormaps["viridis"]],
              f"matplotlib {version('matplotlib')} colormaps and Normalize"),
        write("pycocotools_coco.pkl", coco, f"pycocotools {version('pycocotools')} COCO index"),
        write("ot_transport.pkl", [SinkhornTransport(reg_e=1e-1).fit(Xs=xs, Xt=xt), EMDTransport().fit(Xs=xs, Xt=xt)],
              f"POT {version('pot')} fitted SinkhornTransport and EMDTransport"),
        write("pydicom_file_meta.pkl", read.file_meta, f"pydicom {version('pydicom')} FileMetaDataset as dcmread leaves it"),
        write("arviz_inferencedata.pkl", arviz.from_dict(posterior={"mu": rng.normal(size=(2, 20))}),
              f"arviz {version('arviz')} InferenceData"),
        write("music21_freeze.p", None, f"music21 {version('music21')} converter.freezeStr(fmt='pickle')",
              raw=frozen if isinstance(frozen, bytes) else frozen.encode("latin-1")),
        write("pandera_schema.pkl", schema, f"pandera {version('pandera')} DataFrameSchema with builtin checks"),
        write("holidays_us.pkl", holidays.US(years=2024), f"holidays {version('holidays')} US: left out (__setstate__ reads "
              "the translation file its state's language names)", expect="block", mentions=("holidays.countries.united_states.US",)),
        write("wordcloud.pkl", WordCloud(width=32, height=32, random_state=0).generate("cat dog cat"),
              f"wordcloud {version('wordcloud')} WordCloud: left out (its __array__ reads the font file its state names)",
              expect="block", mentions=("wordcloud.wordcloud.WordCloud",)),
        write("pydicom_dataset.pkl", read, f"pydicom {version('pydicom')} FileDataset: not allowlisted (its pickle keeps the "
              "file object type it was read with: io.open for a path, _io.BytesIO here)", expect="block",
              mentions=("pydicom.dataset.FileDataset",)),
    ]
    (OUT / "manifest.json").write_text("[\n" + ",\n".join(json.dumps(e) for e in entries) + "\n]\n")
    print(f"{len(entries)} fixtures written to {OUT}")


if __name__ == "__main__":
    main()
