"""Fixtures for scikit-learn trees dill dumps (test/fixtures/dill-trees/): dill writes a NumPy array as
dill._dill._create_array(numpy's _reconstruct, args, state, npdict), not as a reconstruct and BUILD, so a
tree's node arrays reach the tree checks (THREATS P21) through it. A forest and a tree must pass; a tree
whose node points past its nodes must still be MG124.

    /tmp/fp17/venv/bin/python scripts/make_dill_tree_fixtures.py

(any environment with dill, scikit-learn and NumPy; the versions go into the manifest notes). The hostile
tree is changed as scripts/make_sklearn_structure_fixtures.py changes its own, whose helper it imports.
Nothing here loads what it writes.
"""
import json
import os
import sys

import dill
import numpy as np
import sklearn
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeRegressor

sys.path.insert(0, os.path.dirname(__file__))
from make_sklearn_structure_fixtures import Restored, tree_with  # noqa: E402  (registers Restored's reduce)

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "dill-trees")
VERSIONS = f"dill {dill.__version__}, scikit-learn {sklearn.__version__}, NumPy {np.__version__}"


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4))
    y = (X[:, 0] > 0).astype(int)
    forest = RandomForestClassifier(n_estimators=3, max_depth=4, random_state=0).fit(X, y)
    tree = DecisionTreeRegressor(max_depth=3, random_state=0).fit(X, X[:, 1])
    past = len(tree.tree_.__getstate__()["nodes"]) + 10
    broken = tree_with(tree.tree_, nodes=[(0, "left_child", past)])
    entries = []
    for name, obj, expect, note, mentions in [
        ("forest.pkl", forest, "pass", f"dill.dump of a RandomForestClassifier ({VERSIONS})", []),
        ("forest_byref_recurse.pkl", forest, "pass", f"dill.dump(byref=True, recurse=True) of the same forest ({VERSIONS})", []),
        ("tree_child_past_nodes.pkl", broken, "block", f"a Tree whose root's left_child is {past}, past its nodes, dill-dumped ({VERSIONS})", ["MG124"]),
    ]:
        options = {"byref": True, "recurse": True} if "byref" in name else {}
        with open(os.path.join(OUT, name), "wb") as f:
            dill.dump(obj, f, **options)
        entries.append({"file": f"dill-trees/{name}", "expect": expect, "threat": None if expect == "pass" else "P21", "mentions": mentions, "note": note})
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(e) for e in entries) + "\n]\n")
    print(f"{len(entries)} fixtures written to {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()
