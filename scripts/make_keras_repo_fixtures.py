#!/usr/bin/python3
"""Generates the Keras and repository-level fixtures (THREATS K1, K2, H1, H2, H3, CVE-2025-23304).

Run with Debian's /usr/bin/python3 (apt-get install python3-h5py). Keras and TensorFlow are not
available, so the HDF5 files are written with h5py the way Keras 2 writes them (root attributes
model_config / training_config / keras_version / backend, weights under model_weights/), and the
.keras v3 zips the way Keras 3's saving_lib writes them (config.json, metadata.json,
model.weights.h5). Payloads are harmless (`echo`), and nothing here is ever loaded.

Outputs: test/fixtures/keras-repo/{benign,malicious}/*, test/fixtures/keras-repo/manifest.json,
test/fixtures/repos/<name>/ (folders for the repository checks; one holds a symlink, which git
stores as a link).
"""
import base64
import io
import json
import marshal
import os
import shutil
import struct
import tarfile
import zipfile
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parent.parent / "test" / "fixtures"
KERAS = ROOT / "keras-repo"
REPOS = ROOT / "repos"
MANIFEST = []


def glorot():
    return {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": None}, "registered_name": None}


def zeros():
    return {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": None}


def dense(name, units, activation="relu", input_shape=None):
    layer = {
        "module": "keras.layers",
        "class_name": "Dense",
        "config": {
            "name": name, "trainable": True, "dtype": "float32", "units": units, "activation": activation,
            "use_bias": True, "kernel_initializer": glorot(), "bias_initializer": zeros(),
            "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
            "kernel_constraint": None, "bias_constraint": None,
        },
        "registered_name": None,
    }
    if input_shape:
        layer["build_config"] = {"input_shape": input_shape}
    return layer


def input_layer(shape):
    return {"module": "keras.layers", "class_name": "InputLayer",
            "config": {"batch_input_shape": shape, "dtype": "float32", "sparse": False, "ragged": False, "name": "input_1"},
            "registered_name": None}


def sequential(layers, name="sequential"):
    return {"class_name": "Sequential", "config": {"name": name, "layers": layers}, "keras_version": "2.15.0", "backend": "tensorflow"}


TRAINING = {
    "loss": "mse", "metrics": [[{"module": "keras.metrics", "class_name": "MeanMetricWrapper",
                                 "config": {"name": "mae", "dtype": "float32", "fn": "mean_absolute_error"}, "registered_name": None}]],
    "weighted_metrics": None, "loss_weights": None,
    "optimizer_config": {"module": "keras.optimizers", "class_name": "Adam",
                         "config": {"name": "Adam", "learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False},
                         "registered_name": None},
}


def lambda_code():
    """marshal.dumps of a function's code, base64-encoded, as Keras 2's func_dump stores it. Harmless payload."""
    payload = lambda x: __import__("os").system("echo modelgate-fixture") or x  # noqa: E731
    return base64.b64encode(marshal.dumps(payload.__code__)).decode("ascii")


def write_h5(path, model_config, training_config=None, layer_names=()):
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(model_config)
        if training_config is not None:
            f.attrs["training_config"] = json.dumps(training_config)
        weights = f.create_group("model_weights")
        weights.attrs["layer_names"] = np.array([n.encode() for n in layer_names])
        weights.attrs["backend"] = b"tensorflow"
        weights.attrs["keras_version"] = b"2.15.0"
        rng = np.random.default_rng(0)
        for n in layer_names:
            g = weights.create_group(n).create_group(n)
            g.create_dataset("kernel:0", data=rng.standard_normal((4, 4)).astype("float32"))
            g.create_dataset("bias:0", data=np.zeros(4, dtype="float32"))


def add(file, expect, threat, mentions, note):
    MANIFEST.append({"file": f"keras-repo/{file}", "expect": expect, "threat": threat, "mentions": mentions, "note": note})


def make_h5():
    write_h5(KERAS / "benign/keras215_dense.h5",
             sequential([input_layer([None, 8]), dense("dense", 4, input_shape=[None, 8]), dense("dense_1", 4, "linear")]),
             TRAINING, ["dense", "dense_1"])
    add("benign/keras215_dense.h5", "pass", None, [], "Keras 2.15-style Sequential of Dense layers, with training_config")

    legacy = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "Conv2D", "config": {"name": "conv2d", "trainable": True, "batch_input_shape": [None, 28, 28, 1], "dtype": "float32",
                                            "filters": 4, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid", "activation": "relu",
                                            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}}}},
        {"class_name": "Flatten", "config": {"name": "flatten", "trainable": True, "dtype": "float32"}},
        {"class_name": "Dense", "config": {"name": "dense", "units": 10, "activation": "softmax"}}]}}
    write_h5(KERAS / "benign/keras24_conv2d.h5", legacy, None, ["conv2d", "dense"])
    add("benign/keras24_conv2d.h5", "pass", None, [], "Keras 2.4-style Sequential Conv2D (no module keys), no training_config")

    lam = {"class_name": "Lambda", "config": {"name": "lambda", "trainable": True, "dtype": "float32",
                                              "function": [lambda_code(), None, None], "function_type": "lambda",
                                              "module": "__main__", "output_shape": None, "output_shape_type": "raw", "arguments": {}}}
    write_h5(KERAS / "malicious/keras2_lambda.h5",
             sequential([input_layer([None, 8]), dense("dense", 4, input_shape=[None, 8]), lam]), TRAINING, ["dense"])
    add("malicious/keras2_lambda.h5", "block", "K1", ["Lambda"], "Lambda layer with marshalled bytecode (base64) in model_config (CVE-2024-3660)")

    popen = {"module": "subprocess", "class_name": "Popen", "config": {"args": ["echo", "modelgate-fixture"]}, "registered_name": "Popen"}
    write_h5(KERAS / "malicious/keras215_subprocess_popen.h5",
             sequential([input_layer([None, 8]), dense("dense", 4, input_shape=[None, 8]), popen]), None, ["dense"])
    add("malicious/keras215_subprocess_popen.h5", "block", "K2", ["subprocess"], "layer entry whose module is subprocess (Popen)")

    custom = {"module": "acme_layers.attention", "class_name": "FancyAttention", "config": {"name": "fancy"}, "registered_name": "acme>FancyAttention"}
    write_h5(KERAS / "malicious/keras215_foreign_module.h5",
             sequential([input_layer([None, 8]), custom, dense("dense", 4)]), None, ["dense"])
    add("malicious/keras215_foreign_module.h5", "block", "K2", ["acme_layers"], "custom layer from a module outside Keras (high: imported at load)")

    bad_loss = dict(TRAINING, loss={"module": "os", "class_name": "function", "config": "system", "registered_name": "system"})
    write_h5(KERAS / "malicious/keras215_training_os_system.h5",
             sequential([input_layer([None, 8]), dense("dense", 4, input_shape=[None, 8])]), bad_loss, ["dense"])
    add("malicious/keras215_training_os_system.h5", "block", "K2", ["os.system"], "training_config loss is the function os.system")


def v3_config(layers):
    return {"module": "keras", "class_name": "Sequential",
            "config": {"name": "sequential", "trainable": True, "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None},
                       "layers": [{"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [None, 8], "dtype": "float32", "name": "input_layer"}, "registered_name": None}] + layers},
            "registered_name": None, "build_config": {"input_shape": [None, 8]},
            "compile_config": {"optimizer": {"module": "keras.optimizers", "class_name": "Adam", "config": {"name": "adam", "learning_rate": 0.001}, "registered_name": None},
                               "loss": "mse", "metrics": None}}


def weights_h5_bytes():
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        v = f.create_group("layers").create_group("dense").create_group("vars")
        v.create_dataset("0", data=np.ones((8, 4), dtype="float32"))
        v.create_dataset("1", data=np.zeros(4, dtype="float32"))
        f.create_group("optimizer").create_group("vars")
    return buf.getvalue()


def write_keras(name, config, expect, threat, mentions, note):
    path = KERAS / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.6.0", "date_saved": "2025-01-01@00:00:00"}))
        z.writestr("config.json", json.dumps(config))
        z.writestr("model.weights.h5", weights_h5_bytes())
    add(name, expect, threat, mentions, note)


def v3_dense(activation="relu"):
    d = dense("dense", 4)
    d["config"]["activation"] = activation
    return d


def make_keras_v3():
    write_keras("benign/keras3_dense.keras", v3_config([v3_dense()]), "pass", None, [], "Keras 3 .keras zip: Sequential Dense, weights in model.weights.h5")
    write_keras("malicious/keras3_function_os_system.keras",
                v3_config([v3_dense({"module": "os", "class_name": "function", "config": "system", "registered_name": "system"})]),
                "block", "K2", ["os.system"], "activation deserialized as the function os.system (CVE-2025-1550 family)")
    write_keras("malicious/keras3_get_file.keras",
                v3_config([v3_dense({"module": "keras.utils", "class_name": "function", "config": "get_file", "registered_name": "get_file"})]),
                "block", "K2", ["get_file"], "safe-mode bypass through keras.utils.get_file (downloads and writes a file)")
    lam = {"module": "keras.layers", "class_name": "Lambda",
           "config": {"name": "lambda", "function": {"class_name": "__lambda__", "config": {"code": lambda_code(), "defaults": None, "closure": None}},
                      "arguments": {}}, "registered_name": None}
    write_keras("malicious/keras3_lambda.keras", v3_config([v3_dense(), lam]), "block", "K1", ["Lambda"], "Keras 3 Lambda layer with __lambda__ bytecode")


CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
MALICIOUS_TEMPLATE = ("{% for x in ().__class__.__base__.__subclasses__() %}{% if 'warning' in x.__name__ %}"
                      "{{ x()._module.__builtins__['__import__']('os').popen('echo modelgate-fixture').read() }}{% endif %}{% endfor %}")
LLAMA_CONFIG = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64, "num_attention_heads": 4,
                "num_hidden_layers": 2, "vocab_size": 128, "torch_dtype": "float32", "transformers_version": "4.44.0"}


def nemo_member(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def write_nemo(name, model_config, expect, mentions, note):
    """A .nemo archive as NeMo's SaveRestoreConnector writes it: a tar of model_config.yaml and the weights."""
    path = KERAS / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:") as tar:
        nemo_member(tar, "./model_config.yaml", model_config.encode())
        nemo_member(tar, "./model_weights.ckpt", __import__("pickle").dumps({"encoder.weight": [0.5, 0.25]}, protocol=2))
    add(name, expect, "CVE-2025-23304" if expect == "block" else None, mentions, note)


def make_nemo():
    layers = ("  preprocessor:\n    _target_: nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor\n    features: 80\n"
              "  encoder:\n    _target_: nemo.collections.asr.modules.ConvASREncoder\n    feat_in: 80\n")
    # NeMo's classes are not in the generated allowlist (NeMo does not install here): its targets are
    # unknown, so the file blocks until a team allows them (callables.allow).
    write_nemo("benign/asr_model.nemo", "name: asr\nmodel:\n" + layers, "block", ["nemo.collections.asr.modules.ConvASREncoder"],
               "NeMo tar with NeMo module targets: unknown to the allowlist, blocked until allowed by policy")
    torch_layers = ("  encoder:\n    _target_: torch.nn.Conv1d\n    in_channels: 80\n    out_channels: 80\n    kernel_size: 3\n"
                    "  optim:\n    _target_: torch.optim.Adam\n    lr: 0.001\n")
    write_nemo("benign/torch_targets.nemo", "name: asr\nmodel:\n" + torch_layers, "pass", [], "NeMo-style tar whose targets are public paths to allowlisted torch classes")
    write_nemo("malicious/hydra_target.nemo", "name: asr\nmodel:\n" + layers + "  decoder:\n    _target_: builtins.exec\n    source: print(1)\n",
               "block", ["builtins.exec"], "NeMo tar whose model_config.yaml instantiates builtins.exec")


def write(rel, content):
    path = REPOS / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())


def tiny_safetensors():
    header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header)) + header + struct.pack("<2f", 1.0, 2.0)


def make_repos():
    write("benign_model/config.json", json.dumps(LLAMA_CONFIG, indent=2))
    write("benign_model/generation_config.json", json.dumps({"bos_token_id": 1, "eos_token_id": 2}))
    write("benign_model/tokenizer_config.json", json.dumps({"bos_token": "<s>", "eos_token": "<|im_end|>", "chat_template": CHATML}, indent=2))
    write("benign_model/model.safetensors", tiny_safetensors())
    write("benign_model/README.md", "# tiny model\n")
    write("benign_model/conf/model.yaml", "model:\n  encoder:\n    _target_: torch.nn.Linear\n    in_features: 8\n    out_features: 4\n"
                                          "optim:\n  _target_: torch.optim.Adam\n  lr: 0.001\n")

    remote = dict(LLAMA_CONFIG, architectures=["XForCausalLM"], model_type="x",
                  auto_map={"AutoConfig": "configuration_x.XConfig", "AutoModelForCausalLM": "modeling_x.XForCausalLM"})
    write("remote_code/config.json", json.dumps(remote, indent=2))
    write("remote_code/configuration_x.py", "from transformers import PretrainedConfig\n\nclass XConfig(PretrainedConfig):\n    model_type = 'x'\n")
    write("remote_code/modeling_x.py", "import os\nos.system('echo modelgate-fixture')\n\nclass XForCausalLM:\n    pass\n")
    write("remote_code/model.safetensors", tiny_safetensors())

    # The same trust_remote_code key spelled with a JSON escape: transformers reads what json.load decodes.
    write("escaped_auto_map/tokenizer_config.json", '{"eos_token": "</s>", "auto\\u005fmap": {"AutoTokenizer": ["my_tok.MyTokenizer", null]}}\n')
    write("escaped_auto_map/my_tok.py", "import os\nos.system('echo modelgate-fixture')\n\nclass MyTokenizer:\n    pass\n")

    write("executables/libhelper.so", b"\x7fELF\x02\x01\x01" + b"\x00" * 57)
    write("executables/install.sh", "#!/bin/sh\necho modelgate-fixture\n")
    write("executables/config.json", json.dumps(LLAMA_CONFIG))

    write("lfs_pointer/pytorch_model.bin", "version https://git-lfs.github.com/spec/v1\n"
                                           "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 4400\n")
    write("lfs_pointer/config.json", json.dumps(LLAMA_CONFIG))

    write("chat_template_malicious/tokenizer_config.json", json.dumps({"eos_token": "</s>", "chat_template": MALICIOUS_TEMPLATE}, indent=2))
    write("chat_template_named/tokenizer_config.json", json.dumps(
        {"chat_template": [{"name": "default", "template": CHATML}, {"name": "tool_use", "template": MALICIOUS_TEMPLATE}]}, indent=2))

    write("hydra_malicious/model_config.yaml", "name: asr\nmodel:\n  preprocessor:\n    _target_: os.system\n    command: echo modelgate-fixture\n"
                                               "  encoder:\n    _target_: torch.nn.Linear\n    in_features: 8\n    out_features: 4\n")

    write("prefer_safetensors/model.safetensors", tiny_safetensors())
    write("prefer_safetensors/pytorch_model.bin", __import__("pickle").dumps({"w": [1.0, 2.0]}, protocol=2))
    write("prefer_safetensors/config.json", json.dumps(LLAMA_CONFIG))

    write("symlink_escape/config.json", json.dumps(LLAMA_CONFIG))
    link = REPOS / "symlink_escape" / "secrets.txt"
    os.symlink("../../../../../../../../etc/passwd", link)


def main():
    for d in (KERAS, REPOS):
        shutil.rmtree(d, ignore_errors=True)
    make_h5()
    make_keras_v3()
    make_nemo()
    make_repos()
    (KERAS / "manifest.json").write_text("[\n" + ",\n".join(json.dumps(e) for e in MANIFEST) + "\n]\n")
    print(f"{len(MANIFEST)} single-file fixtures, {len(list(REPOS.iterdir()))} repository folders")


if __name__ == "__main__":
    main()
