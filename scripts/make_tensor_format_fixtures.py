#!/usr/bin/python3
"""Generate the safetensors and GGUF fixtures in test/fixtures/tensor-formats/.

    /usr/bin/python3 scripts/make_tensor_format_fixtures.py

Neither python3-safetensors nor gguf is packaged for Debian, so both formats are written by hand
with struct/json, following the safetensors README and ggml's docs/gguf.md. The benign files are
what those libraries write (safetensors pads its header with spaces to 8 bytes; gguf aligns the
data section to general.alignment). Malicious files carry one defect each; their chat templates
have harmless payloads (`echo modelgate-fixture`) and nothing here ever renders one.

Outputs test/fixtures/tensor-formats/*.safetensors, *.gguf, index_*/model.safetensors.index.json
and manifest.json (the schema of test/fixtures/manifest.json). Chat templates of real model
families are read from test/fixtures/templates/*.jinja.
"""

import json
import struct
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "test" / "fixtures"
OUT = ROOT / "tensor-formats"
TEMPLATES = ROOT / "templates"
MANIFEST = []

DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
               "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1,
               "F8_E8M0": 1, "C64": 8}


def emit(name, data, expect, threat, mentions, note):
    path = OUT / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    MANIFEST.append({"file": f"tensor-formats/{name}", "expect": expect, "threat": threat,
                     "mentions": mentions, "note": note})


# ---------------------------------------------------------------- safetensors

def st_raw(header_text, data, declared=None):
    """header_text padded with spaces to a multiple of 8 (as safetensors does); `declared` overrides the length."""
    body = header_text.encode("utf-8") if isinstance(header_text, str) else header_text
    body += b" " * (-len(body) % 8)
    length = len(body) if declared is None else declared
    return struct.pack("<Q", length) + body + data


def st_file(tensors, metadata=None, extra=b""):
    """tensors: list of (name, dtype, shape); laid out back to back like safetensors.torch.save."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape in tensors:
        n = 1
        for d in shape:
            n *= d
        size = n * DTYPE_BYTES[dtype]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + size]}
        data += bytes((i * 7) & 0xFF for i in range(size))
    return st_raw(json.dumps(header, separators=(",", ":")), data + extra)


def safetensors_fixtures():
    emit("st_valid_basic.safetensors",
         st_file([("embed.weight", "F32", [4, 3]), ("norm.weight", "F16", [3]), ("lm_head.weight", "BF16", [2, 3]),
                   ("position_ids", "I64", [1, 4])], metadata={"format": "pt"}),
         "pass", None, [], "F32/F16/BF16/I64 tensors laid out like safetensors.torch.save, __metadata__ format=pt")
    emit("st_valid_all_dtypes.safetensors",
         st_file([(f"t_{d.lower()}", d, [2, 2]) for d in DTYPE_BYTES]),
         "pass", None, [], "one tensor of every byte-sized dtype the reference loader knows")
    sub = {"scalar": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]},
           "empty": {"dtype": "F32", "shape": [0, 5], "data_offsets": [4, 4]},
           "fp4": {"dtype": "F4", "shape": [2, 4], "data_offsets": [4, 8]},
           "fp6": {"dtype": "F6_E2M3", "shape": [4], "data_offsets": [8, 11]}}
    emit("st_valid_scalar_empty_subbyte.safetensors", st_raw(json.dumps(sub), bytes(11)),
         "pass", None, [], "a scalar, a zero-element tensor, packed F4 and F6 tensors")
    emit("st_valid_no_tensors.safetensors", st_raw('{"__metadata__":{"note":"empty"}}', b""),
         "pass", None, [], "metadata only, empty data section")

    good = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})
    emit("st_header_past_eof.safetensors", st_raw(good, bytes(8), declared=1 << 40),
         "block", "S1", ["MG200"], "header length 2^40 in a 64-byte file")
    emit("st_header_not_json.safetensors", st_raw('{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]', bytes(8)),
         "block", "S1", ["MG201"], "header JSON cut off")
    emit("st_header_not_utf8.safetensors", st_raw(b'{"w\xff\xfe": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}', bytes(8)),
         "block", "S1", ["MG201"], "header key with invalid UTF-8 bytes")
    dup = '{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}'
    emit("st_duplicate_key.safetensors", st_raw(dup, bytes(8)),
         "block", "S1", ["MG202"], "two entries named w: JSON.parse keeps the second, other parsers the first")
    bad_entries = {
        "st_unknown_dtype": ({"w": {"dtype": "F128", "shape": [2], "data_offsets": [0, 32]}}, 32, "MG203", "dtype F128"),
        "st_negative_shape": ({"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, 8, "MG203", "shape [-2]"),
        "st_bad_offsets": ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8, 16]}}, 16, "MG203", "three data_offsets"),
        "st_offsets_past_end": ({"w": {"dtype": "F32", "shape": [1024], "data_offsets": [0, 4096]}}, 8, "MG204", "4096-byte tensor in an 8-byte data section"),
        "st_offsets_reversed": ({"w": {"dtype": "U8", "shape": [0], "data_offsets": [8, 0]}}, 8, "MG204", "begin after end"),
        "st_size_mismatch": ({"w": {"dtype": "F32", "shape": [4, 4], "data_offsets": [0, 8]}}, 8, "MG206", "shape 4x4 F32 needs 64 bytes, offsets span 8"),
    }
    for name, (header, size, rule, note) in bad_entries.items():
        emit(f"{name}.safetensors", st_raw(json.dumps(header), bytes(size)), "block", "S1", [rule], note)
    overlap = {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}
    emit("st_overlap.safetensors", st_raw(json.dumps(overlap), bytes(12)),
         "block", "S1", ["MG205"], "two tensors sharing bytes [4, 8)")
    hole = {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [16, 24]}}
    emit("st_hole.safetensors", st_raw(json.dumps(hole), bytes(24)),
         "block", "S1", ["MG205"], "8 bytes between two tensors belong to no tensor")
    emit("st_trailing_payload.safetensors",
         st_file([("w", "F32", [2])], extra=b"\x80\x04\x95import os; os.system('echo modelgate-fixture')"),
         "block", "S1", ["MG205"], "bytes after the last tensor: a payload for another reader")
    emit("st_metadata_not_strings.safetensors",
         st_file([("w", "F32", [2])], metadata={"format": "pt", "layers": 12, "nested": {"a": "b"}}),
         "block", "S1", ["MG207"], "__metadata__ values that are not strings")

    weight_map = {"model.embed.weight": "model-00001-of-00002.safetensors", "lm_head.weight": "model-00002-of-00002.safetensors"}
    index = {"metadata": {"total_size": 123}, "weight_map": weight_map}
    emit("index_valid/model.safetensors.index.json", json.dumps(index, indent=2).encode(),
         "pass", None, [], "shard index naming files inside the folder")
    evil = dict(weight_map, **{"a.weight": "../../../../home/user/.ssh/id_rsa", "b.weight": "/etc/passwd",
                               "c.weight": "sub\\..\\..\\secrets.safetensors"})
    emit("index_traversal/model.safetensors.index.json", json.dumps({"weight_map": evil}, indent=2).encode(),
         "block", "S1", ["MG208", "id_rsa", "/etc/passwd"], "shard names that climb out of the folder or are absolute")


# ---------------------------------------------------------------- GGUF

UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64 = range(13)
SCALAR = {UINT8: "<B", INT8: "<b", UINT16: "<H", INT16: "<h", UINT32: "<I", INT32: "<i", FLOAT32: "<f",
          BOOL: "<?", UINT64: "<Q", INT64: "<q", FLOAT64: "<d"}
GGML = {"F32": (0, 1, 4), "F16": (1, 1, 2), "Q4_0": (2, 32, 18), "Q8_0": (8, 32, 34), "Q4_K": (12, 256, 144), "BF16": (30, 1, 2)}


class Gguf:
    def __init__(self, version=3):
        self.version = version
        self.size_fmt = "<I" if version == 1 else "<Q"

    def size(self, n):
        return struct.pack(self.size_fmt, n)

    def string(self, s):
        b = s.encode("utf-8") if isinstance(s, str) else s
        return self.size(len(b)) + b

    def value(self, vtype, v):
        if vtype == STRING:
            return self.string(v)
        if vtype == ARRAY:
            etype, items = v
            return struct.pack("<I", etype) + self.size(len(items)) + b"".join(self.value(etype, x) for x in items)
        return struct.pack(SCALAR[vtype], v)

    def kv(self, key, vtype, v):
        return self.string(key) + struct.pack("<I", vtype) + self.value(vtype, v)

    def tensor_info(self, name, dims, type_id, offset):
        dim_fmt = "<I" if self.version == 1 else "<Q"
        return self.string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack(dim_fmt, d) for d in dims) + \
            struct.pack("<I", type_id) + struct.pack("<Q", offset)

    def file(self, kvs, tensors, alignment=32, counts=None, pad_data=True):
        """kvs: [(key, type, value)]; tensors: [(name, dims, ggml type name)] laid out aligned, like gguf-py."""
        infos, data = b"", b""
        for name, dims, tname in tensors:
            type_id, block, block_bytes = GGML[tname]
            n = 1
            for d in dims:
                n *= d
            data += bytes(-len(data) % alignment)
            infos += self.tensor_info(name, dims, type_id, len(data))
            data += bytes((i * 13) & 0xFF for i in range(n // block * block_bytes))
        kv_bytes = b"".join(self.kv(*x) for x in kvs)
        n_tensors, n_kv = counts or (len(tensors), len(kvs))
        head = b"GGUF" + struct.pack("<I", self.version) + self.size(n_tensors) + self.size(n_kv) + kv_bytes + infos
        if pad_data:
            head += bytes(-len(head) % alignment)
        return head + data


CHATML = (TEMPLATES / "chatml.jinja").read_text()
LLAMA_DRAMA = ("{% for x in ().__class__.__base__.__subclasses__() %}{% if \"warning\" in x.__name__ %}"
               "{{ x()._module.__builtins__['__import__']('os').popen('echo modelgate-fixture').read() }}{% endif %}{% endfor %}")


def base_kvs(template=CHATML):
    return [("general.architecture", STRING, "llama"), ("general.name", STRING, "modelgate fixture"),
            ("general.alignment", UINT32, 32), ("llama.context_length", UINT32, 2048),
            ("llama.rope.freq_base", FLOAT32, 10000.0), ("general.file_type", UINT32, 7),
            ("tokenizer.ggml.model", STRING, "gpt2"),
            ("tokenizer.ggml.tokens", ARRAY, (STRING, ["<s>", "</s>", "hello", "world", "\u00e9t\u00e9"])),
            ("tokenizer.ggml.scores", ARRAY, (FLOAT32, [0.0, 0.0, -1.5, -2.5, -3.0])),
            ("tokenizer.ggml.token_type", ARRAY, (INT32, [3, 3, 1, 1, 1])),
            ("tokenizer.ggml.add_bos_token", BOOL, True),
            ("modelgate.nested", ARRAY, (ARRAY, [(UINT8, [1, 2]), (UINT8, [])])),
            ("modelgate.u64", UINT64, 2 ** 63), ("modelgate.i64", INT64, -5), ("modelgate.f64", FLOAT64, 0.5),
            ("modelgate.i8", INT8, -1), ("modelgate.u16", UINT16, 65535), ("modelgate.i16", INT16, -2),
            ("tokenizer.chat_template", STRING, template)]


BASE_TENSORS = [("token_embd.weight", [8, 5], "F32"), ("blk.0.attn_q.weight", [64, 2], "Q8_0"),
                ("blk.0.ffn_down.weight", [256], "Q4_K"), ("output_norm.weight", [8], "F16")]


def gguf_fixtures():
    for version in (1, 2, 3):
        emit(f"gguf_valid_v{version}.gguf", Gguf(version).file(base_kvs(), BASE_TENSORS), "pass", None, [],
             f"GGUF v{version}: every metadata value type, nested arrays, F32/Q8_0/Q4_K/F16 tensors, ChatML template")
    named = [(f"tokenizer.chat_template.{p.stem}", STRING, p.read_text()) for p in sorted(TEMPLATES.glob("*.jinja"))]
    emit("gguf_valid_family_templates.gguf", Gguf().file(base_kvs() + named, BASE_TENSORS), "pass", None, [],
         "every real model family's chat template as a named template")
    emit("gguf_valid_alignment_64.gguf",
         Gguf().file([(k, t, 64 if k == "general.alignment" else v) for k, t, v in base_kvs()], BASE_TENSORS, alignment=64),
         "pass", None, [], "general.alignment 64")
    emit("gguf_valid_no_tensors.gguf", Gguf().file(base_kvs(), []), "pass", None, [], "metadata only (a vocab-only GGUF)")

    g = Gguf()
    good = g.file(base_kvs(), BASE_TENSORS)
    emit("gguf_bad_version.gguf", b"GGUF" + struct.pack("<I", 7) + good[8:], "block", "G2", ["MG210"], "version 7")

    def with_kv(extra_raw):
        """Four ordinary key/values, then `extra_raw` as the fifth."""
        kv_bytes = b"".join(g.kv(*x) for x in base_kvs()[:4]) + extra_raw
        return b"GGUF" + struct.pack("<I", 3) + g.size(0) + g.size(5) + kv_bytes

    emit("gguf_string_length_u64max.gguf",
         with_kv(g.string("general.description") + struct.pack("<I", STRING) + struct.pack("<Q", 2 ** 64 - 1) + b"x" * 64),
         "block", "G2", ["MG211"], "string length 2^64-1 (the 2024 heap-overflow class)")
    emit("gguf_array_count_u64max.gguf",
         with_kv(g.string("tokenizer.ggml.tokens") + struct.pack("<II", ARRAY, STRING) + struct.pack("<Q", 2 ** 64 - 1) + b"x" * 64),
         "block", "G2", ["MG211"], "array count 2^64-1")
    emit("gguf_array_count_overflow_u32.gguf",
         with_kv(g.string("tokenizer.ggml.scores") + struct.pack("<II", ARRAY, FLOAT32) + struct.pack("<Q", 2 ** 62) + b"x" * 64),
         "block", "G2", ["MG211"], "array count 2^62 of float32: count x 4 overflows 64 bits")
    emit("gguf_kv_count_huge.gguf", b"GGUF" + struct.pack("<I", 3) + g.size(0) + g.size(2 ** 60) + good[24:],
         "block", "G2", ["MG211"], "metadata count 2^60")
    emit("gguf_tensor_count_huge.gguf", b"GGUF" + struct.pack("<I", 3) + g.size(2 ** 40) + good[16:],
         "block", "G2", ["MG211"], "tensor count 2^40")
    emit("gguf_unknown_value_type.gguf", with_kv(g.string("modelgate.x") + struct.pack("<I", 99) + bytes(8)),
         "block", "G2", ["MG210"], "metadata value type 99")
    deep = struct.pack("<I", ARRAY)
    for _ in range(20):
        deep += struct.pack("<I", ARRAY) + g.size(1)
    deep += struct.pack("<I", UINT8) + g.size(0)
    emit("gguf_nested_arrays_deep.gguf", with_kv(g.string("modelgate.deep") + deep),
         "block", "G2", ["MG212"], "arrays nested 20 deep")
    emit("gguf_truncated.gguf", good[:good.index(b"<|im_start|>") + 20], "block", "G2", ["MG211", "tokenizer.chat_template"],
         "file cut inside the chat template string")
    emit("gguf_bad_alignment.gguf", g.file([(k, t, 24 if k == "general.alignment" else v) for k, t, v in base_kvs()], BASE_TENSORS, alignment=24),
         "block", "G2", ["MG210", "general.alignment"], "general.alignment 24, not a power of two")
    emit("gguf_duplicate_key.gguf", g.file(base_kvs() + [("tokenizer.chat_template", STRING, LLAMA_DRAMA)], BASE_TENSORS),
         "block", "G1", ["MG216", "MG220"], "a second tokenizer.chat_template (with an SSTI payload) behind a benign one")

    def raw_tensors(infos, data_size):
        kv_bytes = b"".join(g.kv(*x) for x in base_kvs())
        head = b"GGUF" + struct.pack("<I", 3) + g.size(len(infos)) + g.size(len(base_kvs())) + kv_bytes + b"".join(infos)
        head += bytes(-len(head) % 32)
        return head + bytes(data_size)

    emit("gguf_too_many_dims.gguf", raw_tensors([g.tensor_info("w", [1] * 9, 0, 0)], 64),
         "block", "G2", ["MG213"], "n_dims 9 (ggml's arrays hold 4)")
    emit("gguf_unknown_ggml_type.gguf", raw_tensors([g.tensor_info("w", [4], 250, 0)], 64),
         "block", "G2", ["MG213"], "ggml type 250")
    emit("gguf_block_mismatch.gguf", raw_tensors([g.tensor_info("w", [33], 8, 0)], 64),
         "block", "G2", ["MG213"], "Q8_0 tensor with a first dimension of 33 (blocks are 32)")
    emit("gguf_duplicate_tensor.gguf", raw_tensors([g.tensor_info("w", [4], 0, 0), g.tensor_info("w", [4], 0, 32)], 64),
         "block", "G2", ["MG213"], "two tensors named w")
    emit("gguf_tensor_past_eof.gguf", raw_tensors([g.tensor_info("w", [1 << 40], 0, 0)], 64),
         "block", "G2", ["MG214"], "a 4 TB F32 tensor in a small file")
    emit("gguf_tensor_dims_overflow.gguf", raw_tensors([g.tensor_info("w", [2 ** 32, 2 ** 32, 2 ** 32], 0, 0)], 64),
         "block", "G2", ["MG217"], "dims whose product overflows 64 bits")
    emit("gguf_tensor_overlap.gguf", raw_tensors([g.tensor_info("a", [16], 0, 0), g.tensor_info("b", [16], 0, 32)], 128),
         "block", "G2", ["MG214"], "64-byte tensors 32 bytes apart")
    emit("gguf_tensor_misaligned.gguf", raw_tensors([g.tensor_info("w", [4], 0, 3)], 64),
         "block", "G2", ["MG215"], "data offset 3 with alignment 32")

    emit("gguf_template_llama_drama.gguf", g.file(base_kvs(LLAMA_DRAMA), BASE_TENSORS),
         "block", "G1", ["MG220", "__subclasses__"], "CVE-2024-34359 payload (harmless command) in tokenizer.chat_template")
    emit("gguf_template_named_variant.gguf",
         g.file(base_kvs() + [("tokenizer.chat_template.tool_use", STRING, "{{ lipsum.__globals__['os'].popen('echo modelgate-fixture').read() }}")], BASE_TENSORS),
         "block", "G1", ["MG220", "tokenizer.chat_template.tool_use", "lipsum"], "SSTI in a named template variant")
    emit("gguf_template_cycler.gguf",
         g.file(base_kvs("{{ cycler.__init__.__globals__.os.popen('echo modelgate-fixture').read() }}"), BASE_TENSORS),
         "block", "G1", ["MG220", "cycler"], "cycler.__init__.__globals__ chain")
    emit("gguf_template_import.gguf", g.file(base_kvs("{% import 'os' as os %}{{ messages }}"), BASE_TENSORS),
         "block", "G1", ["MG221"], "{% import %} in a chat template")
    emit("gguf_template_unparseable.gguf", g.file(base_kvs("{% for message in messages %}{{ message['content'] }"), BASE_TENSORS),
         "block", "G1", ["MG222"], "template with an unclosed tag")
    drama = g.file(base_kvs(LLAMA_DRAMA), BASE_TENSORS)
    cut = drama.index(LLAMA_DRAMA.encode()) + len(LLAMA_DRAMA) + 10
    emit("gguf_template_then_truncated.gguf", drama[:cut],
         "block", "G1", ["MG220"], "SSTI template followed by a truncated header: the template is still checked")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    safetensors_fixtures()
    gguf_fixtures()
    (OUT / "manifest.json").write_text("[\n" + ",\n".join(json.dumps(m) for m in MANIFEST) + "\n]\n")
    print(f"{len(MANIFEST)} fixtures ({sum(m['expect'] == 'pass' for m in MANIFEST)} pass) in {OUT}")


if __name__ == "__main__":
    main()
