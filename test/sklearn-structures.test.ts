/**
 * Compiled trees (P21): a scikit-learn Tree's nodes, a KDTree's or BallTree's index arrays (red
 * team round 20 finding 01), a _QuadTree's cells and a SciPy cKDTree's node buffer and indices
 * (round 21 finding 03) are restored unchecked and walked without bounds checks, so the scanner
 * checks them. Fixtures are real estimators of three scikit-learn versions (and SciPy 1.10 and
 * 1.17), pickled at protocols 2, 4 and 5 and through joblib, and hostile trees pickled by the
 * library's own reduce with a changed state (scripts/make_sklearn_structure_fixtures.py, which also
 * writes the exact messages expected).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { scanFile } from "../src/engine.js";
import { LIMITS } from "../src/limits.js";
import { deferredProblems, type Deferred, type JoblibData } from "../src/pickle/readBack.js";
import { callResult, globalRef, tuple } from "../src/pickle/values.js";

const DIR = join(import.meta.dirname, "..", "..", "test", "fixtures", "sklearn-structures");
const manifest = JSON.parse(readFileSync(join(DIR, "manifest.json"), "utf8")) as { file: string; expect: "pass" | "block" }[];
const messages = JSON.parse(readFileSync(join(DIR, "messages.json"), "utf8")) as Record<string, string>;

async function findings(file: string): Promise<string[]> {
  const r = await scanFile(join(DIR, file), file);
  return r.findings.map((f) => `${f.rule} ${f.message}`);
}

test("trees, forests, gradient boosting and neighbour trees of every scikit-learn version here pass without a finding", async () => {
  const benign = manifest.filter((e) => e.expect === "pass").map((e) => e.file.replace("sklearn-structures/", ""));
  assert.ok(benign.length >= 60, `${benign.length} benign files`);
  assert.ok(benign.some((f) => f.includes("1_2_1")) && benign.some((f) => f.includes("1_6_1")), "older versions' node dtypes are covered");
  for (const kind of ["ckdtree_1_2_1", "ckdtree_large_1_9_1_2", "nearest_nd_1_9_1.joblib", "quadtree_3d_1_9_1_5"]) {
    assert.ok(benign.some((f) => f.startsWith(kind)), `${kind}: SciPy 1.10's cKDTree, one past the read-back bound, one held by an interpolator, a t-SNE tree`);
  }
  for (const f of benign) assert.deepEqual(await findings(f), [], f);
});

for (const [file, message] of Object.entries(messages)) {
  test(`${file}: MG124`, async () => {
    assert.deepEqual(await findings(file), [`MG124 pickled ${message}`]);
  });
}

test("the large forests' node arrays and cKDTree's node buffer were skipped unread and read back: latin-1 text (protocol 2), bytes (4), joblib's raw data", () => {
  for (const f of ["forest_large_bad_feature_p2.pkl", "forest_large_bad_feature_p4.pkl", "forest_large_bad_feature.joblib",
    "ckdtree_large_bad_node_p2.pkl", "ckdtree_large_bad_node_p4.pkl", "ckdtree_large_bad_node.joblib"]) {
    assert.ok(f in messages, f);
    assert.ok(readFileSync(join(DIR, f)).length > LIMITS.pickleMaxInlineConstant, f);
  }
});

const call = callResult(globalRef("sklearn.tree._tree", "Tree", 0, "GLOBAL"), tuple([]), "REDUCE", 7);

test("joblib's aligned array data is read after its padding byte and the padding it gives", async () => {
  const file = Uint8Array.from([9, 3, 0xff, 0xff, 0xff, 1, 2, 3, 4]);
  const data: JoblibData = { t: "joblib", at: 1, len: 4, padded: true };
  const seen: Uint8Array[] = [];
  const d: Deferred = { call, wants: new Set([data]), pastBound: "past", check: (bytes) => void seen.push(bytes.get(data)!) };
  assert.deepEqual(await deferredProblems([d], async (at, n) => file.subarray(at, at + n)), []);
  assert.deepEqual([...seen[0]!], [1, 2, 3, 4]);
});

test("a structure whose skipped bytes are past the read-back bound is reported, not read", async () => {
  const data: JoblibData = { t: "joblib", at: 0, len: LIMITS.readBackMaxBytes + 1, padded: false };
  const d: Deferred = { call, wants: new Set([data]), pastBound: "past the bound", check: () => assert.fail("not checked") };
  const read = async (): Promise<Uint8Array> => assert.fail("nothing past the bound is read");
  assert.deepEqual(await deferredProblems([d], read), [{ call, message: "past the bound" }]);
});
