"""Generates test/fixtures/transformers4/: what transformers 4.x writes when a whole model or a tokenizer
is pickled. Most transformers pickles there are were written by 4.x, whose class paths differ from 5.x's
(transformers.models.bert.modeling_bert.BertSdpaSelfAttention, transformers.tokenization_utils.Trie, a
Llama's stored transformers.modeling_rope_utils._compute_default_rope_parameters): the allowlist has them
from its transformers 4.57 venv (scripts/allowlist/requirements-c.txt), and these files fail the fixture
test if they leave it.

Run by hand in that venv (CI never runs Python), e.g. generate.py's /tmp/al-c:

    /tmp/al-c/bin/python scripts/make_transformers4_fixtures.py

Tiny seeded models (a few KB of weights) and a tokenizer over a twelve-word vocabulary; the library
versions go into the manifest notes. Every file passes: each name it pickles is allowlisted.
"""
import json
import os
import pickle
import tempfile
import warnings

warnings.filterwarnings("ignore")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ["HF_HUB_OFFLINE"] = "1"

import tokenizers
import torch
import transformers

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "transformers4")
VERSIONS = f"transformers {transformers.__version__}, torch {torch.__version__}"
VOCAB = "[PAD] [UNK] [CLS] [SEP] [MASK] the model file is safe ##s ##ly".split()
manifest = []


def add(rel, note):
    manifest.append({"file": "transformers4/" + rel, "expect": "pass", "threat": None, "mentions": [], "note": note})


def whole_models():
    """torch.save(model) of the models as transformers 4.x builds them (SDPA attention classes, rotary
    embeddings that keep their init function)."""
    torch.manual_seed(0)
    bert = transformers.BertModel(transformers.BertConfig(
        vocab_size=len(VOCAB), hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16,
        max_position_embeddings=16))
    torch.save(bert, os.path.join(OUT, "bert_whole_model.pt"))
    add("bert_whole_model.pt", f"torch.save of a whole BertModel ({VERSIONS}): "
        f"{type(bert.encoder.layer[0].attention.self).__name__}")
    llama = transformers.LlamaForCausalLM(transformers.LlamaConfig(
        vocab_size=len(VOCAB), hidden_size=8, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2,
        num_key_value_heads=1, max_position_embeddings=16))
    torch.save(llama, os.path.join(OUT, "llama_whole_model.pt"))
    add("llama_whole_model.pt", f"torch.save of a whole LlamaForCausalLM ({VERSIONS}): its rotary embedding "
        "stores modeling_rope_utils._compute_default_rope_parameters")


def tokenizers_pickled():
    """A slow and a fast BERT tokenizer pickled whole, as pipelines and trainers' callers do."""
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as d:
        os.chdir(d)  # the tokenizers keep the vocabulary's path as given: the same in every run
        with open("vocab.txt", "w") as f:
            f.write("\n".join(VOCAB) + "\n")
        slow = transformers.BertTokenizer("vocab.txt")
        fast = transformers.BertTokenizerFast("vocab.txt")
        os.chdir(here)
    for rel, tok in (("bert_slow_tokenizer.pkl", slow), ("bert_fast_tokenizer.pkl", fast)):
        with open(os.path.join(OUT, rel), "wb") as f:
            pickle.dump(tok, f, protocol=4)
        add(rel, f"pickle of a {type(tok).__name__} ({VERSIONS}, tokenizers {tokenizers.__version__})")


def main():
    os.makedirs(OUT, exist_ok=True)
    whole_models()
    tokenizers_pickled()
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(e) for e in manifest) + "\n]\n")


if __name__ == "__main__":
    main()
