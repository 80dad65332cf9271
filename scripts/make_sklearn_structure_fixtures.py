#!/usr/bin/env python3
"""Fixtures for the checks of scikit-learn's compiled trees (THREATS P21, red team round 20 finding 01).

    /tmp/precision/venv/bin/python scripts/make_sklearn_structure_fixtures.py [OLDER_PYTHON ...]

Writes test/fixtures/sklearn-structures/* and its manifest.json with the scikit-learn of the
running Python; each OLDER_PYTHON (another environment with scikit-learn and joblib) adds benign
files made by its own version at protocol 4 and through joblib, named after it (older versions'
node dtypes differ: no missing_go_to_left before 1.3). The "block" files are real fitted trees whose
pickled state was changed as round 20 did: a Tree's nodes or a KDTree's arrays, pickled by the
library's own reduce with the changed state. Nothing here loads what it writes.
"""
import json
import os
import pickle
import subprocess
import sys

import joblib
import numpy as np
import sklearn
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.neighbors import BallTree, KDTree
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.tree._tree import Tree

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "sklearn-structures")
MANIFEST = os.path.join(OUT, "manifest.json")
VERSION = sklearn.__version__.replace(".", "_")


def entry(name, expect, note, mentions=()):
    return {"file": f"sklearn-structures/{name}", "expect": expect, "threat": "P21" if expect == "block" else None,
            "mentions": list(mentions), "note": note}


def dump(name, obj, proto):
    """The object pickled at `proto`, or through joblib (proto "joblib", "joblib_zlib")."""
    path = os.path.join(OUT, name)
    if proto == "joblib":
        joblib.dump(obj, path)
    elif proto == "joblib_zlib":
        joblib.dump(obj, path, compress=3)
    else:
        with open(path, "wb") as f:
            pickle.dump(obj, f, protocol=proto)


def data(n=60, features=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.rand(n, features)
    return X, X[:, 0] + 2 * X[:, 1] + rng.rand(n) * 0.1


def benign():
    """Fitted estimators of this scikit-learn: (name, object)."""
    X, y = data()
    big_X, big_y = data(1100, 4, 1)
    forest = RandomForestRegressor(n_estimators=2, random_state=0).fit(big_X, big_y)
    nodes = forest.estimators_[0].tree_.__getstate__()["nodes"]
    assert nodes.nbytes > 64 * 1024, nodes.nbytes
    return [
        ("tree_classifier", DecisionTreeClassifier(random_state=0).fit(X, y > 1.5)),
        ("tree_regressor", DecisionTreeRegressor(max_depth=4, random_state=0).fit(X, y)),
        ("forest_large", forest),
        ("gradient_boosting", GradientBoostingClassifier(n_estimators=5, random_state=0).fit(X, y > 1.5)),
        ("hist_gradient_boosting", HistGradientBoostingRegressor(max_iter=5).fit(X, y)),
        ("kdtree", KDTree(X, leaf_size=5)),
        ("balltree", BallTree(X, leaf_size=5)),
    ]


class Restored:
    """Pickles as `cls` restored from `args` and `state`: the library's own reduce, with a changed state."""

    def __init__(self, fn, args, state):
        self.reduced = (fn, args, state)

    def __reduce__(self):
        return self.reduced


def tree_with(tree, **change):
    """A Tree pickled with its state changed: nodes fields by (node, field, value), or state keys."""
    state = tree.__getstate__()
    nodes = state["nodes"].copy()
    for node, field, value in change.pop("nodes", ()):
        nodes[node][field] = value
    state = {**state, "nodes": nodes, **change}
    return Restored(Tree, (tree.n_features, np.asarray(tree.n_classes), tree.n_outputs), state)


def binary_tree_with(tree, index, value):
    fn, args, state = tree.__reduce__()
    state = list(state)
    state[index] = value
    return Restored(fn, args, tuple(state))


def hostile():
    X, y = data()
    small = DecisionTreeRegressor(max_depth=1).fit(X[:4, :2], np.array([0.0, 0.0, 1.0, 1.0])).tree_
    deep = DecisionTreeRegressor(max_depth=3, random_state=0).fit(X, y).tree_

    def forest_with_bad_feature():
        forest = RandomForestRegressor(n_estimators=2, random_state=0).fit(*data(1100, 4, 1))
        forest.estimators_[1].__dict__["tree_"] = tree_with(forest.estimators_[1].tree_, nodes=[(0, "feature", -1)])
        return forest

    hgb = HistGradientBoostingRegressor(max_iter=3).fit(X, y)
    predictor = hgb._predictors[0][0]
    nodes = predictor.nodes.copy()
    nodes[0]["left"] = 1000
    predictor.nodes = nodes
    root_left = f"scikit-learn TreePredictor node 0 has left 1000, not a node after it (1…{len(nodes) - 1})"

    kd = KDTree(X, leaf_size=5)
    idx = kd.__getstate__()[1].copy()
    idx[0] = 1 << 40
    node_data = kd.__getstate__()[2].copy()
    node_data[3]["idx_end"] = 1000
    leaf_last = kd.__getstate__()[2].copy()
    leaf_last[-1]["is_leaf"] = 0
    ball = BallTree(X, leaf_size=5)
    ball_idx = ball.__getstate__()[1].copy()
    ball_idx[5] = -3
    return [
        ("tree_feature_minus1.pkl", tree_with(small, nodes=[(0, "feature", -1), (0, "impurity", 1e300)]), 4,
         "scikit-learn Tree node 0 splits on feature -1, outside 0…1 (its n_features)"),
        ("tree_feature_huge.pkl", tree_with(small, nodes=[(0, "feature", 1 << 40)]), 2,
         f"scikit-learn Tree node 0 splits on feature {1 << 40}, outside 0…1 (its n_features)"),
        ("tree_child_past_nodes.pkl", tree_with(small, nodes=[(0, "left_child", 1000)]), 5,
         "scikit-learn Tree node 0 has left_child 1000, neither -1 (a leaf) nor a node after it (1…2)"),
        ("tree_child_cycle.pkl", tree_with(deep, nodes=[(1, "right_child", 0)]), 4,
         "scikit-learn Tree node 1 has right_child 0, neither -1 (a leaf) nor a node after it (2…14)"),
        ("tree_shared_child.pkl", tree_with(small, nodes=[(0, "right_child", 1)]), 4,
         "scikit-learn Tree node 0 has right_child 1, already a child of node 0"),
        ("tree_half_leaf.pkl", tree_with(small, nodes=[(0, "left_child", -1)]), 4,
         "scikit-learn Tree node 0 has left_child -1 and right_child 2: only one of them marks a leaf"),
        ("tree_node_count.pkl", tree_with(small, node_count=1 << 20), 4,
         "scikit-learn Tree node_count 1048576 is not the length of its nodes array (3)"),
        ("tree_deeper_than_max_depth.pkl", tree_with(deep, max_depth=1), 4,
         "scikit-learn Tree reaches depth 3, past its max_depth 1 (decision_path's buffer is sized by it)"),
        ("tree_nodes_not_structured.pkl", Restored(Tree, (2, np.array([1]), 1), {"max_depth": 1, "node_count": 3, "nodes": np.zeros(24, dtype=np.int64), "values": np.zeros((3, 1, 1))}), 4,
         "scikit-learn Tree cannot be checked: its nodes are not a one-dimensional NumPy array with integer left_child, right_child and feature fields"),
        ("forest_large_bad_feature_p2.pkl", forest_with_bad_feature(), 2, "scikit-learn Tree node 0 splits on feature -1, outside 0…3 (its n_features)"),
        ("forest_large_bad_feature_p4.pkl", forest_with_bad_feature(), 4, "scikit-learn Tree node 0 splits on feature -1, outside 0…3 (its n_features)"),
        ("forest_large_bad_feature.joblib", forest_with_bad_feature(), "joblib", "scikit-learn Tree node 0 splits on feature -1, outside 0…3 (its n_features)"),
        ("hist_gradient_boosting_left_past_nodes.pkl", hgb, 4, root_left),
        ("kdtree_idx_far.pkl", binary_tree_with(kd, 1, idx), 4,
         f"scikit-learn KDTree idx_array[0] = {1 << 40} is outside 0…59 (its data has 60 samples)"),
        ("kdtree_node_range.pkl", binary_tree_with(kd, 2, node_data), 5,
         "scikit-learn KDTree node 3 covers idx_array[0:1000], outside its 60 entries"),
        ("kdtree_leaf_with_children.pkl", binary_tree_with(kd, 2, leaf_last), 2,
         "scikit-learn KDTree node 14 is not a leaf, but its children 29 and 30 are past its 15 nodes"),
        ("balltree_idx_negative.joblib", binary_tree_with(ball, 1, ball_idx), "joblib",
         "scikit-learn BallTree idx_array[5] = -3 is outside 0…59 (its data has 60 samples)"),
    ]


def write_benign(suffix, protocols):
    entries = []
    for name, obj in benign():
        for proto in protocols:
            file = f"{name}_{suffix}_{proto}.pkl" if isinstance(proto, int) else f"{name}_{suffix}.{proto.replace('_', '.')}"
            dump(file, obj, proto)
            entries.append(entry(file, "pass", f"{name} of scikit-learn {sklearn.__version__}, {proto if isinstance(proto, str) else f'protocol {proto}'}"))
    return entries


def main():
    if sys.argv[1:2] == ["--benign-only"]:
        print(json.dumps(write_benign(VERSION, (4, "joblib"))))
        return
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    entries = write_benign(VERSION, (2, 4, 5, "joblib", "joblib_zlib"))
    for python in sys.argv[1:]:
        out = subprocess.run([python, __file__, "--benign-only"], check=True, capture_output=True, text=True).stdout
        entries += json.loads(out.strip().splitlines()[-1])
    messages = {}
    for name, obj, proto, message in hostile():
        dump(name, obj, proto)
        entries.append(entry(name, "block", message, ["MG124"]))
        messages[name] = message
    with open(MANIFEST, "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(e, ensure_ascii=False) for e in entries) + "\n]\n")
    # The exact messages the test asserts.
    with open(os.path.join(OUT, "messages.json"), "w") as f:
        json.dump(messages, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
