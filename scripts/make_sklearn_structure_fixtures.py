#!/usr/bin/env python3
"""Fixtures for the checks of compiled trees (THREATS P21): scikit-learn's (red team round 20 finding 01),
its t-SNE _QuadTree and SciPy's cKDTree (round 21 finding 03).

    /tmp/precision/venv/bin/python scripts/make_sklearn_structure_fixtures.py [OLDER_PYTHON ...]

Writes test/fixtures/sklearn-structures/* and its manifest.json with the scikit-learn of the
running Python; each OLDER_PYTHON (another environment with scikit-learn and joblib) adds benign
files made by its own version at protocol 4 and through joblib, named after it (older versions'
node dtypes differ: no missing_go_to_left before 1.3; the Debian Python's SciPy 1.10 makes its
cKDTrees). The "block" files are real fitted trees whose pickled state was changed as rounds 20 and
21 did: a Tree's nodes, a KDTree's or cKDTree's arrays, a _QuadTree's cells, pickled by the
library's own reduce with the changed state. Nothing here loads what it writes.
"""
import copyreg
import json
import os
import pickle
import subprocess
import sys

import joblib
import numpy as np
import scipy
import sklearn
from scipy.interpolate import NearestNDInterpolator
from scipy.spatial import KDTree as SciPyKDTree
from scipy.spatial import cKDTree
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.neighbors import BallTree, KDTree
from sklearn.neighbors._quad_tree import _QuadTree
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


def library(obj):
    return f"SciPy {scipy.__version__}" if type(obj).__module__.startswith("scipy") else f"scikit-learn {sklearn.__version__}"


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
    big_ckdtree = cKDTree(big_X[:, :2], leafsize=1)
    assert big_ckdtree.__getstate__()[0].nbytes > 64 * 1024, big_ckdtree.__getstate__()[0].nbytes
    return [
        ("tree_classifier", DecisionTreeClassifier(random_state=0).fit(X, y > 1.5)),
        ("tree_regressor", DecisionTreeRegressor(max_depth=4, random_state=0).fit(X, y)),
        ("forest_large", forest),
        ("gradient_boosting", GradientBoostingClassifier(n_estimators=5, random_state=0).fit(X, y > 1.5)),
        ("hist_gradient_boosting", HistGradientBoostingRegressor(max_iter=5).fit(X, y)),
        ("kdtree", KDTree(X, leaf_size=5)),
        ("balltree", BallTree(X, leaf_size=5)),
        ("ckdtree", cKDTree(X, leafsize=4)),
        ("ckdtree_large", big_ckdtree),
        ("ckdtree_periodic", cKDTree(X, leafsize=4, boxsize=1.0)),
        ("scipy_kdtree", SciPyKDTree(X[:20])),
        ("nearest_nd", NearestNDInterpolator(X[:, :2], y)),
        ("quadtree_2d", quad_tree(X[:, :2])),
        ("quadtree_3d", quad_tree(X)),
    ]


def quad_tree(X):
    """t-SNE's Barnes-Hut tree, built as TSNE builds it (never pickled by TSNE itself: it is rebuilt each step)."""
    q = _QuadTree(X.shape[1], 0)
    q.build_tree(X.astype(np.float32))
    return q


class Restored:
    """Pickles as `cls` restored from `args` and `state`: the library's own reduce, with a changed state."""

    def __init__(self, fn, args, state):
        self.reduced = (fn, args, state)

    def __reduce__(self):
        return self.reduced


class Constructed(Restored):
    """Pickles as NEWOBJ of `cls` (copyreg.__newobj__ called by REDUCE below protocol 2) with `state`:
    pickle takes NEWOBJ only for an object whose __class__ is the class given."""

    def __init__(self, cls, state):
        super().__init__(copyreg.__newobj__, (cls,), state)
        self.cls = cls

    @property
    def __class__(self):
        return self.cls


def tree_with(tree, **change):
    """A Tree pickled with its state changed: nodes fields by (node, field, value), or state keys."""
    state = tree.__getstate__()
    nodes = state["nodes"].copy()
    for node, field, value in change.pop("nodes", ()):
        nodes[node][field] = value
    state = {**state, "nodes": nodes, **change}
    return Restored(Tree, (tree.n_features, np.asarray(tree.n_classes), tree.n_outputs), state)


def node_field(tree, node, offset):
    """An int64 field of a cKDTree's packed node (72 bytes: split_dim, children, split, start_idx, end_idx, …)."""
    return int.from_bytes(tree.__getstate__()[0].tobytes()[node * 72 + offset:node * 72 + offset + 8], "little", signed=True)


def ckdtree_with(tree, index=None, value=None, nodes=()):
    """A cKDTree pickled with one state item changed, or nodes' fields (node, byte offset, int64) in its tree buffer."""
    state = list(tree.__getstate__())
    if index is not None:
        state[index] = value
    buffer = bytearray(state[0].tobytes())
    for node, offset, v in nodes:
        buffer[node * 72 + offset:node * 72 + offset + 8] = int(v).to_bytes(8, "little", signed=True)
    state[0] = np.frombuffer(bytes(buffer), dtype="S1")
    return Constructed(type(tree), tuple(state))


def quad_tree_with(tree, cells=(), args=None, **change):
    """A _QuadTree pickled with its cells' fields changed by (cell, field, value), or its state keys, or its arguments."""
    state = tree.__getstate__()
    c = state["cells"].copy()
    for cell, field, value in cells:
        c[cell][field] = value
    return Restored(_QuadTree, args or (tree.n_dimensions, 0), {**state, "cells": c, **change})


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

    ck = cKDTree(np.arange(20.).reshape(10, 2), leafsize=2)
    ck_nodes = len(ck.__getstate__()[0]) // 72
    inner = next(i for i in range(1, ck_nodes) if node_field(ck, i, 0) != -1)
    last = ck_nodes - 1
    big_ck = cKDTree(data(1100, 4, 1)[0][:, :2], leafsize=1)
    big_last = len(big_ck.__getstate__()[0]) // 72 - 1
    big_bad = f"SciPy cKDTree node {big_last} covers indices[{node_field(big_ck, big_last, 24)}:{1 << 40}], outside its 1100 entries"
    far = np.full(10, 1 << 40, dtype=np.intp)
    quad = quad_tree(X[:10, :2])
    quad_cells = quad.cell_count
    return [
        ("tree_feature_minus1.pkl", tree_with(small, nodes=[(0, "feature", -1), (0, "impurity", 1e300)]), 4,
         "scikit-learn Tree node 0 splits on feature -1, outside 0…1 (its n_features)"),
        ("tree_feature_huge.pkl", tree_with(small, nodes=[(0, "feature", 1 << 40)]), 2,
         f"scikit-learn Tree node 0 splits on feature {1 << 40}, outside 0…1 (its n_features)"),
        ("tree_child_past_nodes.pkl", tree_with(small, nodes=[(0, "left_child", 1000)]), 5,
         "scikit-learn Tree node 0 has left_child 1000, not a node after it (1…2)"),
        ("tree_child_cycle.pkl", tree_with(deep, nodes=[(1, "right_child", 0)]), 4,
         "scikit-learn Tree node 1 has right_child 0, not a node after it (2…14)"),
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
        # Round 21's 03: every index 2^40 (query() read data[indices[i]]: SIGSEGV).
        ("ckdtree_indices_far.pkl", ckdtree_with(ck, 7, far), 2,
         f"SciPy cKDTree indices[0] = {1 << 40} is outside 0…9 (its data has 10 points)"),
        ("ckdtree_indices_repeat.pkl", ckdtree_with(ck, 7, np.zeros(10, dtype=np.intp)), 4,
         "SciPy cKDTree indices[1] = 0 repeats an index (they are a permutation of its 10 points)"),
        ("ckdtree_indices_int32.pkl", ckdtree_with(ck, 7, np.arange(10, dtype=np.int32)), 4,
         "SciPy cKDTree indices of i4, shape (10) is not int64 of shape (10) (its n is 10, its m 2)"),
        ("ckdtree_n_past_data.pkl", ckdtree_with(ck, 2, 1000), 4,
         "SciPy cKDTree data of f8, shape (10, 2) is not float64 of shape (1000, 2) (its n is 1000, its m 2)"),
        ("ckdtree_buffer_partial_node.pkl", ckdtree_with(ck, 0, np.frombuffer(ck.__getstate__()[0].tobytes()[:100], dtype="S1")), 4,
         "SciPy cKDTree tree buffer of 100 bytes is not a whole number of 72-byte nodes (its root is read at load, and the buffer copied whole)"),
        ("ckdtree_less_past_nodes.pkl", ckdtree_with(ck, nodes=[(0, 56, 1 << 40)]), 5,
         f"SciPy cKDTree node 0 has _less {1 << 40}, not a node after it (1…{last})"),
        ("ckdtree_greater_cycle.pkl", ckdtree_with(ck, nodes=[(inner, 64, 0)]), 4,
         f"SciPy cKDTree node {inner} has _greater 0, not a node after it ({inner + 1}…{last})"),
        ("ckdtree_split_dim.pkl", ckdtree_with(ck, nodes=[(0, 0, 7)]), 4,
         "SciPy cKDTree node 0 splits on dimension 7, outside 0…1 (its m)"),
        ("ckdtree_leaf_range.pkl", ckdtree_with(ck, nodes=[(last, 32, 1 << 40)]), 4,
         f"SciPy cKDTree node {last} covers indices[{node_field(ck, last, 24)}:{1 << 40}], outside its 10 entries"),
        ("ckdtree_newobj_reduce.pkl", ckdtree_with(ck, 7, far), 1,
         f"SciPy cKDTree indices[0] = {1 << 40} is outside 0…9 (its data has 10 points)"),
        ("ckdtree_large_bad_node_p2.pkl", ckdtree_with(big_ck, nodes=[(big_last, 32, 1 << 40)]), 2,
         big_bad),
        ("ckdtree_large_bad_node_p4.pkl", ckdtree_with(big_ck, nodes=[(big_last, 32, 1 << 40)]), 4,
         big_bad),
        ("ckdtree_large_bad_node.joblib", ckdtree_with(big_ck, nodes=[(big_last, 32, 1 << 40)]), "joblib",
         big_bad),
        # Round 21's 03b: the root made a parent of cell 2^40 (get_cell descended to it: SIGBUS).
        ("quadtree_child_far.pkl", quad_tree_with(quad, cells=[(0, "is_leaf", 0), (0, "children", [1 << 40] * 8)]), 2,
         f"scikit-learn _QuadTree cell 0 has child {1 << 40}, neither -1 (none) nor a cell after it (1…{quad_cells - 1})"),
        ("quadtree_child_cycle.pkl", quad_tree_with(quad, cells=[(1, "is_leaf", 0), (1, "children", [0, -1, -1, -1, -1, -1, -1, -1])]), 4,
         f"scikit-learn _QuadTree cell 1 has child 0, neither -1 (none) nor a cell after it (2…{quad_cells - 1})"),
        ("quadtree_parent_far.pkl", quad_tree_with(quad, cells=[(2, "parent", 1 << 40)]), 4,
         f"scikit-learn _QuadTree cell 2 has parent {1 << 40}, neither -1 (the root's) nor a cell (0…{quad_cells - 1})"),
        ("quadtree_cell_count.pkl", quad_tree_with(quad, cell_count=1 << 20), 4,
         f"scikit-learn _QuadTree cell_count 1048576 is past its {quad_cells} cells"),
        ("quadtree_dimensions.pkl", quad_tree_with(quad, args=(5, 0)), 4,
         "scikit-learn _QuadTree has 5 dimensions, not 1, 2 or 3 (a cell holds three coordinates and eight children)"),
        ("quadtree_empty.pkl", _QuadTree(2, 0), 4,
         "scikit-learn _QuadTree has no cells (its root is read at first use)"),
    ]


def write_benign(suffix, protocols):
    entries = []
    for name, obj in benign():
        for proto in protocols:
            file = f"{name}_{suffix}_{proto}.pkl" if isinstance(proto, int) else f"{name}_{suffix}.{proto.replace('_', '.')}"
            dump(file, obj, proto)
            entries.append(entry(file, "pass", f"{name} of {library(obj)}, {proto if isinstance(proto, str) else f'protocol {proto}'}"))
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
