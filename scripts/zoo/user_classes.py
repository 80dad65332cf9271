"""Files that carry the user's own classes (`__main__.Net`, a user enum or
dataclass in a training config).  modelgate blocks these by design: a team
allows its own classes with `callables.allow`.  They are listed with
expect "block" and are not among the benign files the zoo counts.
"""

import dataclasses
import enum
import pickle

import joblib
import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from zoo_common import Zoo

zoo = Zoo()
NOTE = "blocked by design: carries the user's own class from __main__ (allow it with callables.allow); "


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 2)

    def forward(self, x):
        return self.fc(x)


class Split(enum.Enum):
    TRAIN = "train"
    VALID = "valid"


@dataclasses.dataclass
class TrainConfig:
    lr: float = 1e-3
    epochs: int = 3
    split: Split = Split.TRAIN


class ClipOutliers(BaseEstimator, TransformerMixin):
    def __init__(self, limit=3.0):
        self.limit = limit

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.clip(X, -self.limit, self.limit)


def block(name, note):
    zoo.add(name, NOTE + note, expect="block", mentions=["__main__"])


torch.save(Net(), zoo.path("torch_save_user_module.pt"))
block("torch_save_user_module.pt", "torch.save(model) of a user nn.Module subclass")
torch.save({"model": Net().state_dict(), "config": TrainConfig()}, zoo.path("checkpoint_user_dataclass.pt"))
block("checkpoint_user_dataclass.pt", "checkpoint whose config is a user dataclass holding a user enum")
with open(zoo.path("config_user_enum.pkl"), "wb") as f:
    pickle.dump({"split": Split.VALID, "lr": 0.1}, f, protocol=4)
block("config_user_enum.pkl", "pickle of a training config holding a user enum member")
X = np.random.default_rng(0).standard_normal((20, 3))
joblib.dump(make_pipeline(ClipOutliers(), LogisticRegression()).fit(X, (X[:, 0] > 0).astype(int)), zoo.path("sklearn_user_transformer.joblib"))
block("sklearn_user_transformer.joblib", "joblib.dump of a Pipeline with a user-defined transformer")
zoo.finish()
