#!/usr/bin/env python3
"""Polyglot fixtures across formats (THREATS.md P18 and Z1): files one reader takes as one format and
another as a second, built from fixtures the real libraries made (Keras' HDF5 and .keras models,
torch.jit.save archives, a gguf-written GGUF) with h5py and the standard library:

    python -m venv /tmp/polyglot && /tmp/polyglot/bin/pip install h5py
    /tmp/polyglot/bin/python scripts/make_polyglot_fixtures.py    # (re)writes test/fixtures/polyglot/

- libhdf5 finds its superblock behind a user block of 512·2^n bytes, any size up to the end of the
  file; the user block may hold anything, a pickle among it (pickle.load stops at its STOP).
- miniz (torch.jit.load) and Python's zipfile (Keras' .keras loader) find an archive by its end
  record, whatever precedes it (a safetensors header, a pickle) or follows its comment.
- PyTorch's zip reader takes the archive's folder from the first member, not from the first folder
  that holds a data.pkl.

The payloads are harmless (`echo modelgate-fixture`); nothing here loads what it writes.
"""
from __future__ import annotations

import io
import json
import pickle
import shutil
import struct
import tarfile
import zipfile
from pathlib import Path

import h5py

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "test" / "fixtures"
OUT = FIXTURES / "polyglot"
MANIFEST: list[dict] = []

LAMBDA_H5 = FIXTURES / "keras-repo" / "malicious" / "keras2_lambda.h5"
DENSE_H5 = FIXTURES / "keras-repo" / "benign" / "keras215_dense.h5"
LAMBDA_KERAS = FIXTURES / "keras-repo" / "malicious" / "keras3_lambda.keras"
FROM_FILE_TS = FIXTURES / "modern" / "torchscript_from_file_comment.pt"
BENIGN_TS = FIXTURES / "zoo" / "torch2" / "torchscript" / "scripted_sequential.pt"
GGUF = FIXTURES / "tensor-formats" / "gguf_valid_v3.gguf"


class System:
    """Pickles as posix.system(CMD), the call an attacker's payload makes."""

    def __reduce__(self):
        import posix

        return posix.system, ("echo modelgate-fixture",)


def add(name: str, data: bytes, expect: str, threat: str, mentions: list[str], note: str) -> None:
    (OUT / name).write_bytes(data)
    MANIFEST.append({"file": f"polyglot/{name}", "expect": expect, "threat": threat, "mentions": mentions, "note": note})


def with_user_block(src: Path, size: int) -> bytes:
    """The HDF5 file `src` copied whole (root attributes, groups, datasets) into one with a user block of `size` bytes."""
    buf = io.BytesIO()
    with h5py.File(src, "r") as s, h5py.File(buf, "w", userblock_size=size) as d:
        for k, v in s.attrs.items():
            d.attrs[k] = v
        for k in s.keys():
            s.copy(s[k], d, name=k)
    return buf.getvalue()


def appended_zip(prefix: bytes, archive: Path, compression: int = zipfile.ZIP_STORED, comment: bytes = b"") -> bytes:
    """`prefix`, then the members of `archive` rewritten as a zip whose offsets count from the file's start."""
    buf = io.BytesIO(prefix)
    buf.seek(len(prefix))
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(buf, "a", compression=compression) as dst:
        for info in src.infolist():
            dst.writestr(zipfile.ZipInfo(info.filename, info.date_time), src.read(info), compress_type=compression)
        dst.comment = comment
    return buf.getvalue()


def safetensors_holding_zip(archive: Path, comment: bytes = b"") -> bytes:
    """A valid safetensors file whose one tensor's bytes are `archive` rewritten as a zip, its offsets
    counting from the file's start (as miniz reads them); its length does not depend on the prefix."""
    length = len(appended_zip(b"", archive, comment=comment))
    header = json.dumps({"archive": {"dtype": "U8", "shape": [length], "data_offsets": [0, length]}}).encode()
    header += b" " * (-len(header) % 8)
    return appended_zip(struct.pack("<Q", len(header)) + header, archive, comment=comment)


def directory_after_record(data: bytes) -> bytes:
    """`data` (ending with a zip) with the central directory moved after the end record and padded, by a
    comment on its last entry, to more bytes than everything before the record."""
    end = data.rfind(b"PK\x05\x06")
    record = bytearray(data[end:end + 22])
    at = struct.unpack_from("<I", record, 16)[0]
    before, directory = data[:at], bytearray(data[at:end])
    last = directory.rfind(b"PK\x01\x02")
    pad = len(before) + 22 + 512 - len(directory)
    struct.pack_into("<H", directory, last + 32, struct.unpack_from("<H", directory, last + 32)[0] + pad)
    directory += b"c" * pad
    struct.pack_into("<II", record, 12, len(directory), len(before) + 22)
    return before + bytes(record) + bytes(directory)


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    add("h5_userblock_4096_lambda.h5", with_user_block(LAMBDA_H5, 4096), "block", "Z1", ["Lambda"],
        "a Keras Lambda model behind a 4096-byte HDF5 user block, past the sniff read: libhdf5 finds the superblock there")
    add("h5_userblock_8192_dense.h5", with_user_block(DENSE_H5, 8192), "pass", None, [],
        "a plain Keras model behind an 8192-byte user block: read like any HDF5 model")
    h5 = bytearray(with_user_block(DENSE_H5, 512))
    payload = pickle.dumps(System(), protocol=2)
    h5[: len(payload)] = payload
    add("pickle_in_h5_userblock.pkl", bytes(h5), "block", "P18", ["posix.system"],
        "a pickle in the user block of a valid HDF5 file: h5py opens it, pickle.load runs the pickle")
    add("h5_then_torchscript.pt", appended_zip(DENSE_H5.read_bytes(), FROM_FILE_TS), "block", "P18", ["from_file"],
        "an HDF5 model followed by a TorchScript archive that writes a file: torch.jit.load finds the zip by its end record")
    add("gguf_then_torchscript.pt", appended_zip(GGUF.read_bytes(), FROM_FILE_TS), "block", "P18", ["from_file"],
        "a GGUF file followed by the same TorchScript archive")
    add("h5_then_keras_lambda.keras", appended_zip(DENSE_H5.read_bytes(), LAMBDA_KERAS), "block", "P18", ["Lambda"],
        "an HDF5 model followed by a .keras archive with a Lambda layer: Keras takes a .keras file by zipfile.is_zipfile")
    add("safetensors_tensor_is_torchscript.pt", safetensors_holding_zip(FROM_FILE_TS), "block", "P18", ["from_file"],
        "a valid safetensors file whose one tensor's bytes are a TorchScript archive: torch.jit.load finds the zip by its end record")
    # Deflated, so that the pickle view's trailing bytes show no record in the clear.
    deflated = appended_zip(b"", FROM_FILE_TS, zipfile.ZIP_DEFLATED)
    add("pickle_then_zip_trailing_byte.pt", pickle.dumps({"step": 1}, protocol=2) + deflated + b"\0", "block", "P18", ["from_file"],
        "a harmless pickle, a deflated TorchScript archive, then one byte after its end record: neither zip reader requires the record to end the file")
    prefix = pickle.dumps({"step": 1}, protocol=2)
    add("pickle_then_zip_directory_after_record.pt", directory_after_record(appended_zip(prefix, FROM_FILE_TS, zipfile.ZIP_DEFLATED)),
        "block", "P18", ["from_file"],
        "a harmless pickle, then a TorchScript archive whose central directory follows its end record, padded past everything before it: miniz checks only that it ends inside the file")
    member = pickle.dumps({"step": 1}, protocol=2) + deflated + b"\0"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        # A second member puts the first one's end record out of reach of a search from the tar's end.
        for name, data in (("model_weights.ckpt", member), ("model_config.yaml", b"#\n" * 40000)):
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 0
            tar.addfile(info, io.BytesIO(data))
    add("archive_member_pickle_then_zip.tar", buf.getvalue(), "block", "P18", ["from_file"],
        "the same file as a member of a tar (as a .nemo archive holds its checkpoint): torch.load of the extracted member finds the zip")
    # A member of a known format (safetensors) whose tensor bytes end in a TorchScript archive with a
    # comment, followed by more than the 64 KiB a search from the tar's end covers.
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in (("model.pt", safetensors_holding_zip(FROM_FILE_TS, b"c" * 100)), ("model_config.yaml", b"#\n" * 40000)):
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 0
            tar.addfile(info, io.BytesIO(data))
    add("archive_member_safetensors_then_commented_zip.tar", buf.getvalue(), "block", "P18", ["from_file"],
        "a tar whose safetensors member's tensor bytes are a TorchScript archive with a zip comment, followed by 80 KB of another member: torch.jit.load of the extracted member finds the zip")
    # A decoy folder's records listed before the real folder's: PyTorch reads the first member's folder.
    buf = io.BytesIO()
    with zipfile.ZipFile(FROM_FILE_TS) as real, zipfile.ZipFile(BENIGN_TS) as decoy, zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as out:
        members = real.infolist()
        folder = members[0].filename.split("/")[0]
        version = next(m for m in members if m.filename == f"{folder}/version")
        out.writestr(version, real.read(version))
        for info in decoy.infolist():
            name = info.filename.split("/", 1)[1]
            if name in ("data.pkl", "constants.pkl"):
                out.writestr(zipfile.ZipInfo(f"decoy/{name}", info.date_time), decoy.read(info))
        for info in members:
            if info is not version:
                out.writestr(info, real.read(info))
    add("torchscript_decoy_folder_first.pt", buf.getvalue(), "block", "Z1", ["from_file"],
        "a TorchScript archive whose first member is in the real folder, then a benign decoy folder's data.pkl and constants.pkl: torch.jit.load runs the real folder's code")
    (OUT / "manifest.json").write_text("[\n" + ",\n".join(json.dumps(e) for e in MANIFEST) + "\n]\n")
    print(f"{len(MANIFEST)} files in {OUT}")


if __name__ == "__main__":
    main()
