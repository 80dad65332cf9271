"""PyTorch files as practitioners save them: whole models (torch.save(model)) of
torchvision and timm architectures, state dicts of every dtype and layout,
training checkpoints with every optimizer, LR scheduler and GradScaler state,
configs holding callables, TorchScript and torch.export archives.

Runs under torch 2.x (venv) and Debian's torch 1.13.  Big weights are replaced
by 1-element tensors before saving: the pickles keep every class and call the
real model has, at a few kilobytes each.
"""

import argparse
import functools
import os
import random
import warnings

import numpy as np
import torch
import torch.nn as nn

from zoo_common import Zoo, import_torchvision

warnings.filterwarnings("ignore")
zoo = Zoo()
V = "torch " + torch.__version__.split("+")[0]
TORCH2 = int(torch.__version__.split(".")[0]) >= 2
torch.manual_seed(0)


def shrink(model):
    """Every parameter and buffer becomes a 1-element tensor of its dtype, in place."""
    for mod in model.modules():
        for n, p in list(mod._parameters.items()):
            if p is not None:
                mod._parameters[n] = nn.Parameter(torch.zeros(1, dtype=p.dtype), requires_grad=p.requires_grad)
        for n, b in list(mod._buffers.items()):
            if b is not None:
                mod._buffers[n] = torch.zeros(1, dtype=b.dtype)
    return model


def save(obj, name, note, **kwargs):
    torch.save(obj, zoo.path(name), **kwargs)
    zoo.add(name, note + " (" + V + ")")


# --- whole models ----------------------------------------------------------
tv = import_torchvision()
TV = "torchvision " + tv.__version__.split("+")[0]
models = ["alexnet", "vgg11_bn", "resnet18", "resnext50_32x4d", "wide_resnet50_2", "densenet121", "squeezenet1_1",
          "shufflenet_v2_x0_5", "mobilenet_v2", "mobilenet_v3_small", "mnasnet0_5", "googlenet", "inception_v3",
          "efficientnet_b0", "efficientnet_v2_s", "regnet_y_400mf", "convnext_tiny", "vit_b_16", "swin_t", "swin_v2_t", "maxvit_t"]
for arch in models:
    if not hasattr(tv.models, arch):
        continue
    kwargs = {"aux_logits": False, "init_weights": False} if arch in ("googlenet", "inception_v3") else {}
    model = shrink(getattr(tv.models, arch)(**kwargs).eval())
    save(model, "torchvision/%s_whole.pt" % arch, "torch.save(model) of torchvision.models.%s() (%s), weights shrunk" % (arch, TV))
save(shrink(tv.models.resnet18()).state_dict(), "torchvision/resnet18_state_dict.pth", "torch.save(model.state_dict()) of torchvision resnet18, weights shrunk")
for arch, kwargs in [("detection.fasterrcnn_mobilenet_v3_large_320_fpn", {"weights_backbone": None}),
                     ("segmentation.deeplabv3_mobilenet_v3_large", {"weights_backbone": None}),
                     ("detection.keypointrcnn_resnet50_fpn", {"weights_backbone": None})]:
    family, fn = arch.split(".")
    model = shrink(getattr(getattr(tv.models, family), fn)(**kwargs).eval())
    save(model, "torchvision/%s_whole.pt" % fn, "torch.save(model) of torchvision.models.%s() (%s), weights shrunk" % (arch, TV))
transforms = tv.transforms.Compose([tv.transforms.Resize(224, interpolation=tv.transforms.InterpolationMode.BICUBIC),
                                    tv.transforms.CenterCrop(224), tv.transforms.ToTensor(),
                                    tv.transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
save({"transforms": transforms, "classes": ["cat", "dog"]}, "torchvision/transforms_compose.pt",
     "torch.save of a torchvision transforms.Compose with an InterpolationMode enum (%s)" % TV)

try:
    import timm
    for arch in ["vit_tiny_patch16_224", "deit_tiny_patch16_224", "convnext_atto", "efficientnet_b0", "mobilenetv3_small_050",
                 "resnet18", "swin_tiny_patch4_window7_224", "levit_128s", "eva02_tiny_patch14_224", "regnety_002"]:
        model = shrink(timm.create_model(arch, pretrained=False).eval())
        save(model, "timm/%s_whole.pt" % arch, "torch.save(model) of timm.create_model(%r) (timm %s), weights shrunk" % (arch, timm.__version__))
except ImportError:
    pass

native = {
    "transformer": nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16),
    "transformer_encoder_gelu": nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, activation="gelu", batch_first=True), 2),
    "lstm": nn.LSTM(4, 8, num_layers=2, bidirectional=True),
    "gru_embedding": nn.Sequential(nn.Embedding(10, 4, padding_idx=0), nn.GRU(4, 4)),
    "conv_bn_sequential": nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)),
    "moduledict_parameterlist": nn.ModuleDict({"head": nn.Linear(2, 2), "act": nn.SiLU()}),
    "spectral_norm": nn.utils.spectral_norm(nn.Linear(4, 4)),
    "weight_norm_hook": nn.utils.weight_norm(nn.Linear(4, 4)),
    "multihead_attention": nn.MultiheadAttention(8, 2),
}
for name, model in native.items():
    save(model, "native/%s_whole.pt" % name, "torch.save(model) of torch.nn %s" % name)
try:
    qmodel = torch.ao.quantization.quantize_dynamic(nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2)), {nn.Linear}, dtype=torch.qint8)
    save(qmodel, "native/dynamic_quantized_whole.pt", "torch.save(model) of torch.ao.quantization.quantize_dynamic(Linear, qint8)")
    save(qmodel.state_dict(), "native/dynamic_quantized_state_dict.pt", "torch.save(state_dict) of a dynamically quantized Linear model")
except (RuntimeError, AttributeError):
    pass

# --- tensors of every dtype and layout ---------------------------------------
dtypes = ["float32", "float64", "float16", "bfloat16", "complex64", "complex128", "bool", "int8", "int16", "int32", "int64",
          "uint8", "uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu"]
base = torch.randn(2, 3)
for dt in dtypes:
    dtype = getattr(torch, dt, None)
    if dtype is None:
        continue
    try:
        tensor = base.to(dtype) if dtype.is_floating_point or dtype.is_complex else (base * 10).to(torch.int64).to(dtype)
    except (RuntimeError, TypeError):
        tensor = torch.zeros(2, 3, dtype=dtype)
    save({"weight": tensor, "bias": tensor[0].clone()}, "tensors/%s.pt" % dt, "torch.save of a state dict of %s tensors" % dt)
layouts = {"sparse_coo": base.to_sparse(), "sparse_csr": base.to_sparse_csr()}
if TORCH2:
    layouts.update({"sparse_csc": base.to_sparse_csc(), "sparse_bsr": torch.randn(4, 4).to_sparse_bsr((2, 2)),
                    "meta": torch.empty(3, 3, device="meta")})
quantized = {"qint8": torch.quantize_per_tensor(base, 0.1, 0, torch.qint8), "quint8": torch.quantize_per_tensor(base, 0.1, 10, torch.quint8),
             "qint32": torch.quantize_per_tensor(base, 0.1, 0, torch.qint32),
             "per_channel": torch.quantize_per_channel(base, torch.tensor([0.1, 0.2]), torch.tensor([0, 1]), 0, torch.qint8)}
for name, tensor in sorted(layouts.items()):
    save({"weight": tensor}, "tensors/layout_%s.pt" % name, "torch.save of a %s tensor" % name)
for name, tensor in sorted(quantized.items()):
    save({"weight": tensor}, "tensors/quantized_%s.pt" % name, "torch.save of a quantized (%s) tensor" % name)
views = {"shared_storage": base, "view": base[1:], "transposed": base.t(), "parameter": nn.Parameter(base), "size": base.shape,
         "dtype": torch.float16, "device": torch.device("cpu")}
save(views, "tensors/views_and_metadata.pt", "torch.save of views sharing a storage, a Parameter, torch.Size, dtype, device")
save(views, "tensors/legacy_format.pt", "torch.save(_use_new_zipfile_serialization=False): the pre-1.6 tar-less legacy format", _use_new_zipfile_serialization=False)
save(views, "tensors/pickle_protocol4.pt", "torch.save(pickle_protocol=4)", pickle_protocol=4)

# --- training checkpoints ---------------------------------------------------
def tiny(bias=True):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4, bias=bias), nn.ReLU(), nn.Linear(4, 2, bias=bias))


def train(model, opt, steps=2):
    x, y = torch.randn(5, 3), torch.randn(5, 2)
    for _ in range(steps):
        def closure():
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            loss.backward()
            return loss
        opt.step(closure)


for name in sorted(dir(torch.optim)):
    cls = getattr(torch.optim, name)
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)) or cls is torch.optim.Optimizer:
        continue
    if name == "SparseAdam":
        model = nn.Embedding(5, 2, sparse=True)
        opt = cls(model.parameters())
        opt.zero_grad()
        model(torch.tensor([1, 2])).sum().backward()
        opt.step()
    else:
        model = tiny()
        try:
            opt = cls(model.parameters(), lr=0.01)
            train(model, opt)
        except (ValueError, RuntimeError):  # optimizers for matrices only (Muon) refuse biases
            model = tiny(bias=False)
            opt = cls(model.parameters(), lr=0.01)
            train(model, opt)
    save({"epoch": 2, "model_state_dict": model.state_dict(), "optimizer_state_dict": opt.state_dict(), "loss": 0.5},
         "checkpoints/optimizer_%s.pt" % name.lower(), "training checkpoint with torch.optim.%s state" % name)

S = torch.optim.lr_scheduler
schedulers = {
    "lambdalr": lambda o: S.LambdaLR(o, lambda e: 0.95 ** e),
    "multiplicativelr": lambda o: S.MultiplicativeLR(o, lambda e: 0.9),
    "steplr": lambda o: S.StepLR(o, step_size=2, gamma=0.5),
    "multisteplr": lambda o: S.MultiStepLR(o, milestones=[1, 3]),
    "constantlr": lambda o: S.ConstantLR(o, factor=0.5, total_iters=2),
    "linearlr": lambda o: S.LinearLR(o, start_factor=0.1, total_iters=4),
    "exponentiallr": lambda o: S.ExponentialLR(o, gamma=0.9),
    "polynomiallr": lambda o: S.PolynomialLR(o, total_iters=5, power=2.0),
    "cosineannealinglr": lambda o: S.CosineAnnealingLR(o, T_max=10),
    "cosineannealingwarmrestarts": lambda o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
    "cycliclr": lambda o: S.CyclicLR(o, base_lr=0.001, max_lr=0.1, step_size_up=2),
    "cycliclr_exp_range": lambda o: S.CyclicLR(o, base_lr=0.001, max_lr=0.1, mode="exp_range", gamma=0.99),
    "onecyclelr": lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=10),
    "onecyclelr_linear": lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy="linear"),
    "sequentiallr": lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=2), S.CosineAnnealingLR(o, T_max=8)], milestones=[2]),
    "chainedscheduler": lambda o: S.ChainedScheduler([S.ConstantLR(o, factor=0.5, total_iters=2), S.ExponentialLR(o, gamma=0.9)]),
    "reducelronplateau": lambda o: S.ReduceLROnPlateau(o, mode="min", patience=1),
}
for name, make in sorted(schedulers.items()):
    model = tiny()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    try:
        sched = make(opt)
    except AttributeError:  # a scheduler this torch does not have yet
        continue
    for step in range(3):
        train(model, opt, steps=1)
        sched.step(1.0 / (step + 1)) if name == "reducelronplateau" else sched.step()
    try:
        save({"epoch": 3, "model": model.state_dict(), "optimizer": opt.state_dict(), "lr_scheduler": sched.state_dict()},
             "checkpoints/scheduler_%s.pt" % name, "checkpoint with lr_scheduler.state_dict() of %s" % name)
    except TypeError as e:  # torch 1.13's CyclicLR state holds a WeakMethod, which no one can save
        os.remove(zoo.path("checkpoints/scheduler_%s.pt" % name))
        print("skipped scheduler %s: %s" % (name, e))

if hasattr(torch, "amp") and hasattr(torch.amp, "GradScaler"):
    scaler = torch.amp.GradScaler("cpu")
else:
    scaler = torch.cuda.amp.GradScaler(enabled=False)
model = tiny()
opt = torch.optim.AdamW(model.parameters())
save({"model": model.state_dict(), "optimizer": opt.state_dict(), "scaler": scaler.state_dict(), "step": 10},
     "checkpoints/gradscaler.pt", "checkpoint with GradScaler.state_dict()")
save({"python": random.getstate(), "numpy": np.random.get_state(), "cpu": torch.get_rng_state(),
      "generator": torch.Generator().manual_seed(3).get_state()}, "checkpoints/rng_state.pth",
     "RNG states of random, NumPy and torch, as training loops save them")

# --- configs holding callables ------------------------------------------------
sd = tiny().state_dict()
save({"model": sd, "norm_layer": functools.partial(nn.LayerNorm, eps=1e-6)}, "configs/partial_layernorm.pt",
     "checkpoint whose config holds functools.partial(nn.LayerNorm, eps=1e-6), as vision transformers pass it")
save({"model": sd, "activation": torch.tanh}, "configs/stored_torch_tanh.pt", "checkpoint whose config stores torch.tanh")
save({"model": sd, "preprocessor": str.lower}, "configs/str_lower_preprocessor.pt", "checkpoint whose config stores str.lower as a preprocessor")
save({"model": sd, "activation": nn.functional.gelu, "loss": nn.CrossEntropyLoss(label_smoothing=0.1)},
     "configs/functional_and_loss.pt", "checkpoint with torch.nn.functional.gelu and a CrossEntropyLoss module")
args = argparse.Namespace(model="vit_base_patch16", lr=1.5e-4, epochs=400, drop_path=0.1, input_size=224, output_dir="./output")
save({"model": sd, "args": args, "epoch": 399}, "configs/argparse_namespace.pt", "MAE/DINO-style checkpoint with argparse.Namespace args")

# --- TorchScript and torch.export ----------------------------------------------
class Guarded(nn.Module):
    """Scripted models raise standard exceptions on bad input; TorchScript keeps them as code."""

    def __init__(self):
        super(Guarded, self).__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        if x.dim() != 2:
            raise ValueError("expected a 2-d input")
        return self.fc(x)


torch.jit.script(tiny()).save(zoo.path("torchscript/scripted_sequential.pt"))
zoo.add("torchscript/scripted_sequential.pt", "torch.jit.script(nn.Sequential).save (%s)" % V)
torch.jit.script(Guarded()).save(zoo.path("torchscript/scripted_raises_valueerror.pt"))
zoo.add("torchscript/scripted_raises_valueerror.pt", "torch.jit.script of a module that raises ValueError (%s)" % V)
if not TORCH2:
    # Traced archives of torch 2.x (traced_inputs.pkl) are test/fixtures/modern's; torch 1.13's have none.
    torch.jit.trace(tiny(), torch.randn(1, 3)).save(zoo.path("torchscript/traced_sequential.pt"))
    zoo.add("torchscript/traced_sequential.pt", "torch.jit.trace(nn.Sequential).save (%s)" % V)
if TORCH2 and hasattr(torch, "export"):
    ep = torch.export.export(tiny().eval(), (torch.randn(1, 3),))
    torch.export.save(ep, zoo.path("export/sequential.pt2"))
    zoo.add("export/sequential.pt2", "torch.export.save of an exported nn.Sequential (%s)" % V)
    ep = torch.export.export(Guarded().eval(), (torch.randn(1, 3),))
    torch.export.save(ep, zoo.path("export/guarded.pt2"))
    zoo.add("export/guarded.pt2", "torch.export.save of a module with a shape guard (%s)" % V)

zoo.finish()
