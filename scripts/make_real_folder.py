#!/usr/bin/env python3
"""Write the folder of real model files the README's side-by-side run scans
(modelgate against picklescan and modelscan; issue 18): 264 files, 1.5 GB.

    /usr/bin/python3 scripts/make_real_folder.py /tmp/realf/folder

Debian's Python (python3-torch, python3-sklearn, python3-joblib) is enough.
What it writes, as practitioners save it:
  * whole torch.nn models (convolutional, transformer encoder, LSTM; 12 sizes
    each) in the zip and the legacy layout, their state dicts, and
    checkpoints holding the state dict with Adam's state after one step;
  * scikit-learn random forests, gradient boosting, extra trees and a
    scaler + logistic regression pipeline (15 sizes each), as pickle and as
    joblib (compressed for odd sizes).
Deterministic seeds; nothing here loads a file.
"""
import os
import pickle
import sys

import joblib
import torch
import torch.nn as nn
from sklearn.datasets import make_classification
from sklearn.ensemble import ExtraTreesRegressor, GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def convolutional(blocks):
    layers = [m for _ in range(blocks) for m in (nn.Conv2d(16, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())]
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))


def transformer(layers):
    return nn.TransformerEncoder(nn.TransformerEncoderLayer(256, 8, 1024), layers)


def recurrent(layers):
    return nn.Sequential(nn.Embedding(5000, 128), nn.LSTM(128, 256, layers))


def write_torch(out):
    torch.manual_seed(0)
    for k in range(12):
        for name, model in (("conv", convolutional(8 + 4 * k)), ("tr", transformer(2 + k % 6)), ("lstm", recurrent(1 + k % 3))):
            torch.save(model, f"{out}/{name}{k}_whole.pt")
            torch.save(model, f"{out}/{name}{k}_legacy.pt", _use_new_zipfile_serialization=False)
            torch.save(model.state_dict(), f"{out}/{name}{k}_state.bin")
            optimizer = torch.optim.Adam(model.parameters())
            for p in model.parameters():
                p.grad = torch.zeros_like(p)
            optimizer.step()
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": k}, f"{out}/{name}{k}_ckpt.pth")


def write_sklearn(out):
    X, y = make_classification(2000, 20, random_state=0)
    for k in range(15):
        models = (
            ("rf", RandomForestClassifier(20 + 5 * k, max_depth=8, random_state=k)),
            ("gb", GradientBoostingClassifier(n_estimators=20 + k, random_state=k)),
            ("et", ExtraTreesRegressor(10 + k, max_depth=6, random_state=k)),
            ("pipe", make_pipeline(StandardScaler(), LogisticRegression())),
        )
        for name, model in models:
            model.fit(X, y)
            with open(f"{out}/{name}{k}.pkl", "wb") as f:
                pickle.dump(model, f)
            joblib.dump(model, f"{out}/{name}{k}.joblib", compress=3 if k % 2 else 0)


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUTPUT_FOLDER")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    write_torch(out)
    write_sklearn(out)
    print(f"{len(os.listdir(out))} files in {out}")


if __name__ == "__main__":
    main()
