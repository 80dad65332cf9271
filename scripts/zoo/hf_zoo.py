"""The Hugging Face ecosystem as repositories on the Hub look: save_pretrained
folders of tiny randomly initialised transformers models (safetensors and
pytorch_model.bin), Trainer checkpoints (training_args.bin, optimizer.pt,
scheduler.pt, rng_state.pth), tokenizers built offline with real chat
templates in tokenizer_config.json, chat_template.json and chat_template.jinja,
PEFT adapters, sentence-transformers folders, Lightning and accelerate
checkpoints.  Runs under transformers 5 (modern venv) and 4.57 (np1 venv).

Only the files modelgate reads are listed (weights, pickles, JSON configs,
Jinja templates); vocab.txt and the like stay in the folders unlisted.
"""

import json
import os
import warnings

from zoo_common import Zoo, import_torchvision

warnings.filterwarnings("ignore")
zoo = Zoo()
import_torchvision()

import torch  # noqa: E402  (after the torchvision import shim)
import transformers  # noqa: E402
from chat_templates import TEMPLATES  # noqa: E402
from tokenizers import Tokenizer, models as tok_models, pre_tokenizers, trainers  # noqa: E402
from transformers import (AutoModelForCausalLM, BertConfig, BertForSequenceClassification, BertTokenizerFast,  # noqa: E402
                          GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast, T5Config, T5ForConditionalGeneration,
                          Trainer, TrainingArguments, ViTConfig, ViTForImageClassification)

TF = "transformers " + transformers.__version__
TF5 = int(transformers.__version__.split(".")[0]) >= 5
SCANNED = (".json", ".jinja", ".bin", ".safetensors", ".pt", ".pth", ".pkl", ".ckpt")
torch.manual_seed(0)


def list_folder(folder, note):
    """List every file modelgate reads in a folder written by a library."""
    root = zoo.path(folder)
    for dirpath, _, files in sorted(os.walk(root)):
        for f in sorted(files):
            if f.endswith(SCANNED):
                rel = os.path.relpath(os.path.join(dirpath, f), zoo.dir)
                zoo.add(rel, "%s: %s" % (note, os.path.relpath(rel, folder)))


def attempt(label, make):
    """One section; a feature this version lacks is reported and the rest still made."""
    try:
        make()
    except Exception as e:  # noqa: BLE001  (a generator run by hand: print and go on)
        print("skipped %s: %s: %s" % (label, type(e).__name__, e))


CORPUS = ["the cat sat on the mat", "a dog barked at the cat", "hello world, how are you?", "models are tiny here"] * 10
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + sorted(set(" ".join(CORPUS).replace(",", " ").replace("?", " ").split()))


def bert_folder():
    folder = zoo.path("models/bert")
    model = BertForSequenceClassification(BertConfig(vocab_size=len(VOCAB), hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                                                     intermediate_size=16, max_position_embeddings=32, num_labels=2,
                                                     id2label={0: "NEGATIVE", 1: "POSITIVE"}, label2id={"NEGATIVE": 0, "POSITIVE": 1}))
    model.save_pretrained(folder)
    with open(os.path.join(folder, "vocab.txt"), "w") as f:
        f.write("\n".join(VOCAB) + "\n")
    BertTokenizerFast(vocab_file=os.path.join(folder, "vocab.txt")).save_pretrained(folder)
    list_folder("models/bert", "BertForSequenceClassification and BertTokenizerFast save_pretrained (%s)" % TF)
    return folder


def tiny_models():
    def causal(kind, **extra):
        cfg = transformers.AutoConfig.for_model(kind, vocab_size=64, hidden_size=8, intermediate_size=16, num_hidden_layers=1,
                                                num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=64, **extra)
        return AutoModelForCausalLM.from_config(cfg)
    return {
        "gpt2": lambda: GPT2LMHeadModel(GPT2Config(vocab_size=64, n_embd=8, n_layer=1, n_head=2, n_positions=32)),
        "llama": lambda: causal("llama"),
        "mistral": lambda: causal("mistral"),
        "qwen2": lambda: causal("qwen2"),
        "gemma": lambda: causal("gemma", head_dim=4),
        "phi3": lambda: causal("phi3", pad_token_id=0),
        "t5": lambda: T5ForConditionalGeneration(T5Config(vocab_size=64, d_model=8, d_kv=4, d_ff=16, num_layers=1, num_heads=2)),
        "vit": lambda: ViTForImageClassification(ViTConfig(hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16,
                                                           image_size=8, patch_size=4, num_labels=3)),
    }


def model_folders():
    for name, make in sorted(tiny_models().items()):
        model = make()
        model.save_pretrained(zoo.path("models/%s" % name))
        list_folder("models/%s" % name, "%s save_pretrained, safetensors (%s)" % (type(model).__name__, TF))
        folder = zoo.path("models/%s_bin" % name)
        if TF5:
            # transformers 5 writes safetensors only; its .bin files are what 4.x wrote: torch.save(state_dict).
            model.config.save_pretrained(folder)
            torch.save(model.state_dict(), os.path.join(folder, "pytorch_model.bin"))
            how = "config.save_pretrained + torch.save(state_dict) as pytorch_model.bin"
        else:
            model.save_pretrained(folder, safe_serialization=False)
            how = "save_pretrained(safe_serialization=False)"
        list_folder("models/%s_bin" % name, "%s %s (%s)" % (type(model).__name__, how, TF))


def chat_repos():
    for name, (template, bos, eos, specials) in sorted(TEMPLATES.items()):
        tok = Tokenizer(tok_models.BPE(unk_token="<unk>"))
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        special = [t for t in ["<unk>", bos, eos] + specials if t]
        tok.train_from_iterator(CORPUS, trainers.BpeTrainer(vocab_size=120, special_tokens=special, show_progress=False))
        fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=bos, eos_token=eos, unk_token="<unk>",
                                       additional_special_tokens=specials, chat_template=template)
        folder = zoo.path("chat/%s" % name)
        fast.save_pretrained(folder)
        # Repositories carry the template in any of three places; make sure all three are there.
        config_path = os.path.join(folder, "tokenizer_config.json")
        config = json.load(open(config_path))
        if "chat_template" not in config:
            config["chat_template"] = template
            with open(config_path, "w") as f:
                json.dump(config, f, indent=2, ensure_ascii=False)
        if not os.path.exists(os.path.join(folder, "chat_template.jinja")):
            with open(os.path.join(folder, "chat_template.jinja"), "w") as f:
                f.write(template)
        with open(os.path.join(folder, "chat_template.json"), "w") as f:
            json.dump({"chat_template": template}, f, indent=2, ensure_ascii=False)
        list_folder("chat/%s" % name, "PreTrainedTokenizerFast.save_pretrained with the %s chat template (%s)" % (name, TF))


def trainer_checkpoint():
    model = tiny_models()["gpt2"]()
    data = [{"input_ids": torch.tensor([1, 2, 3, 4]), "labels": torch.tensor([1, 2, 3, 4])}] * 4
    args = TrainingArguments(output_dir=zoo.path("trainer"), max_steps=2, save_steps=2, per_device_train_batch_size=2, report_to="none",
                             lr_scheduler_type="cosine", warmup_steps=1, optim="adamw_torch", logging_steps=1, save_strategy="steps",
                             use_cpu=True, seed=0)
    Trainer(model=model, args=args, train_dataset=data).train()
    list_folder("trainer", "Trainer.train checkpoint of a tiny GPT-2 (%s)" % TF)
    for name, extra in [("seq2seq", {"predict_with_generate": True, "generation_max_length": 16}), ("plain", {})]:
        cls = transformers.Seq2SeqTrainingArguments if extra else TrainingArguments
        a = cls(output_dir="out", report_to="none", eval_strategy="epoch", save_strategy="epoch", lr_scheduler_type="linear",
                optim="adafactor", learning_rate=3e-5, num_train_epochs=3, **extra)
        torch.save(a, zoo.path("training_args/%s_training_args.bin" % name))
        zoo.add("training_args/%s_training_args.bin" % name, "torch.save(%s(...)) as Trainer writes training_args.bin (%s)" % (cls.__name__, TF))


def peft_adapter():
    import peft
    base = tiny_models()["llama"]()
    lora = peft.get_peft_model(base, peft.LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    lora.save_pretrained(zoo.path("peft/lora"))
    list_folder("peft/lora", "PEFT LoRA adapter save_pretrained (peft %s, %s)" % (peft.__version__, TF))
    lora.save_pretrained(zoo.path("peft/lora_bin"), safe_serialization=False)
    list_folder("peft/lora_bin", "PEFT LoRA adapter save_pretrained(safe_serialization=False) (peft %s, %s)" % (peft.__version__, TF))


def sentence_transformers_folder(bert):
    import sentence_transformers as st
    from sentence_transformers import models
    modules = [models.Transformer(bert, max_seq_length=16), models.Pooling(8, pooling_mode="mean"), models.Dense(8, 4), models.Normalize()]
    st.SentenceTransformer(modules=modules, device="cpu").save(zoo.path("sentence_transformers/tiny"))
    list_folder("sentence_transformers/tiny", "SentenceTransformer.save with Transformer, Pooling, Dense, Normalize (sentence-transformers %s)" % st.__version__)
    st.CrossEncoder(bert, device="cpu").save(zoo.path("sentence_transformers/cross_encoder"))
    list_folder("sentence_transformers/cross_encoder", "CrossEncoder.save (sentence-transformers %s)" % st.__version__)
    router = models.Router.for_query_document(query_modules=[models.Transformer(bert, max_seq_length=16), models.Pooling(8, pooling_mode="mean")],
                                              document_modules=[models.Transformer(bert, max_seq_length=16), models.Pooling(8, pooling_mode="cls")])
    st.SentenceTransformer(modules=[router], device="cpu").save(zoo.path("sentence_transformers/router"))
    list_folder("sentence_transformers/router", "SentenceTransformer.save with a Router of two routes (sentence-transformers %s)" % st.__version__)


def lightning_checkpoint():
    import lightning as L
    from torch.utils.data import DataLoader, TensorDataset

    class LitRegressor(L.LightningModule):
        def __init__(self, hidden=4, lr=1e-3, optimizer="adamw", betas=(0.9, 0.999)):
            super().__init__()
            self.save_hyperparameters()
            self.net = torch.nn.Sequential(torch.nn.Linear(3, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1))

        def training_step(self, batch, _):
            x, y = batch
            loss = torch.nn.functional.mse_loss(self.net(x), y)
            self.log("train_loss", loss)
            return loss

        def configure_optimizers(self):
            opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, betas=self.hparams.betas)
            return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.StepLR(opt, 1)}

    data = DataLoader(TensorDataset(torch.randn(8, 3), torch.randn(8, 1)), batch_size=4)
    ckpt = L.pytorch.callbacks.ModelCheckpoint(dirpath=zoo.path("lightning/checkpoints"), monitor="train_loss", save_last=True)
    trainer = L.Trainer(max_epochs=2, logger=False, enable_progress_bar=False, enable_model_summary=False, accelerator="cpu",
                        default_root_dir=zoo.path("lightning"), callbacks=[ckpt, L.pytorch.callbacks.EarlyStopping("train_loss")])
    trainer.fit(LitRegressor(), data)
    list_folder("lightning", "Lightning Trainer checkpoint with hyper_parameters, callbacks and loops (lightning %s)" % L.__version__)


def accelerate_state():
    import accelerate
    acc = accelerate.Accelerator(cpu=True)
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(model.parameters())
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.01, total_steps=10)
    model, opt, sched = acc.prepare(model, opt, sched)
    acc.save_state(zoo.path("accelerate/state"))
    list_folder("accelerate/state", "accelerate Accelerator.save_state (accelerate %s)" % accelerate.__version__)


bert = bert_folder()
for label, make in [("models", model_folders), ("chat", chat_repos), ("trainer", trainer_checkpoint), ("peft", peft_adapter),
                    ("sentence-transformers", lambda: sentence_transformers_folder(bert)), ("lightning", lightning_checkpoint),
                    ("accelerate", accelerate_state)]:
    attempt(label, make)
zoo.finish()
