"""Generates test/fixtures/peft/<name>/: PEFT adapter folders as PEFT itself writes them, for the
repository checks of adapter_config.json (MG283) and of the code it makes PEFT import (MG271).

Run with a Python that has peft, transformers and torch (nothing is installed or downloaded; the base
model is a tiny GPT-2 built from a config):

    /path/to/venv/bin/python scripts/make_peft_fixtures.py

Folders:
- lora/: a LoRA adapter (task_type CAUSAL_LM) exactly as PeftModel.save_pretrained writes it, with
  "megatron_config": null and "megatron_core": "megatron.core" (benign).
- lora_auto_mapping/: the same with task_type None, so PEFT records auto_mapping (benign).
- lora_megatron_default/: megatron_config set, megatron_core left at Megatron's "megatron.core" (benign:
  how Megatron-LM users save adapters; nothing in the folder is imported).
- lora_megatron_repo/: megatron_config set and megatron_core "megatron.core_compat", with
  megatron/__init__.py and megatron/core_compat.py in the folder: PEFT's dispatch_megatron imports them
  when Python is started in the folder (PEFT only asks for the "megatron." prefix). Harmless payload
  (print); never loaded here.
- lora_megatron_installed/: megatron_core "megatron.core_fork", which the folder does not ship.

The weights are deterministic (seeded); the README is PEFT's model card.
"""

import json
import shutil
import sys
from pathlib import Path

# A venv whose torchvision does not match its torch breaks transformers' model imports; nothing here needs it.
sys.modules["torchvision"] = None

import torch  # noqa: E402
from peft import LoraConfig, get_peft_model  # noqa: E402
from transformers import GPT2Config, GPT2LMHeadModel  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "peft"
PAYLOAD = "print('modelgate-fixture')\n"


def adapter(folder: str, task_type: str | None) -> dict:
    torch.manual_seed(0)
    base = GPT2LMHeadModel(GPT2Config(n_layer=1, n_head=2, n_embd=16, vocab_size=64, n_positions=32))
    model = get_peft_model(base, LoraConfig(r=2, target_modules=["c_attn"], task_type=task_type))
    model.save_pretrained(OUT / folder)
    return json.loads((OUT / folder / "adapter_config.json").read_text())


def rewrite(folder: str, config: dict, **changes) -> None:
    (OUT / folder / "adapter_config.json").write_text(json.dumps({**config, **changes}, indent=2, sort_keys=True) + "\n")


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    adapter("lora", "CAUSAL_LM")
    adapter("lora_auto_mapping", None)
    for folder, core in [("lora_megatron_default", "megatron.core"), ("lora_megatron_repo", "megatron.core_compat"), ("lora_megatron_installed", "megatron.core_fork")]:
        config = adapter(folder, "CAUSAL_LM")
        rewrite(folder, config, megatron_config={"tensor_model_parallel_size": 1}, megatron_core=core)
    (OUT / "lora_megatron_repo" / "megatron").mkdir()
    (OUT / "lora_megatron_repo" / "megatron" / "__init__.py").write_text("")
    (OUT / "lora_megatron_repo" / "megatron" / "core_compat.py").write_text(PAYLOAD)
    for folder in sorted(OUT.iterdir()):
        print(folder.name, sorted(p.name for p in folder.rglob("*")))


if __name__ == "__main__":
    main()
