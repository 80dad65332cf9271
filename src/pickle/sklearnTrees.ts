/**
 * scikit-learn's compiled trees, restored from pickled arrays their `__setstate__` does not check
 * beyond dtype and shape, then walked by loops compiled without bounds checks:
 *
 * - `sklearn.tree._tree.Tree` (every decision tree, forest and gradient-boosting stage), pickled as
 *   `Tree(n_features, n_classes, n_outputs)` with BUILD `{max_depth, node_count, nodes, values}`.
 *   `nodes` is a structured array whose left_child, right_child and feature fields index the node
 *   array and the input's columns (`apply`, `decision_path`), and `importances[feature]` is written
 *   (`compute_feature_importances`: round 20 wrote a chosen double before the buffer). The fields
 *   are matched by name (`_check_node_ndarray` casts by name), as 4- or 8-byte integers either way
 *   round. `decision_path` sizes its output by max_depth, so a deeper tree writes past it, and
 *   `compute_partial_dependence` its stack by node_count, so a node with two parents overflows it.
 * - `BinaryTree` (`KDTree`, `BallTree`), pickled as `newObj(KDTree)` with BUILD `(data, idx_array,
 *   node_data, node_bounds, leaf_size, n_levels, n_nodes, …, sample_weight)`: queries read
 *   `data[idx_array[i]]` for i in each node's idx_start…idx_end, and descend to nodes 2i+1 and 2i+2
 *   of non-leaves. node_data is a typed memoryview, whose fields Cython matches by position.
 *
 * - `TreePredictor` (histogram gradient boosting), a plain class whose `nodes` structured array is
 *   walked by left and right for nodes not marked is_leaf, and whose categorical splits read row
 *   bitset_idx of its bitset arrays. (Its feature_idx indexes the input's columns, whose number the
 *   predictor does not hold: only its sign is checked.)
 * - `_QuadTree` (t-SNE's Barnes-Hut tree), pickled as `_QuadTree(n_dimensions, verbose)` with BUILD
 *   `{max_depth, cell_count, capacity, n_points, cells}`: `get_cell` and `summarize` descend from
 *   cell 0 to `cells[children[k]]` of non-leaf cells for k below 2^n_dimensions, skipping the "no
 *   child" SIZE_MAX (-1 as the intp field reads), and read n_dimensions of each cell's three
 *   coordinates. `__setstate__` checks only the cells' dtype; it clamps cell_count to them.
 *
 * A tree whose arrays are not NumPy arrays with dtype, shape and bytes written in the pickle cannot
 * be checked, and is reported as such: a real one always is.
 */
import { arrayInts, intAt, isIntDtype, Parents, type ArrayFacts, type DtypeFacts } from "./structures.js";
import { count, dictGet, isSym, type Value } from "./values.js";

const TREE = "sklearn.tree._tree.Tree";
const PREDICTOR = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor";
/** `newObj` of `sklearn.neighbors._kd_tree` / `_ball_tree` (`kd_tree` / `ball_tree` before 0.22, `_binary_tree` since 1.3). */
const NEW_OBJ = /^sklearn\.neighbors\._?(?:kd_tree|ball_tree|binary_tree)\.newObj$/;
const QUAD_TREE = "sklearn.neighbors._quad_tree._QuadTree";
/** TREE_LEAF: the child index of a leaf. */
const LEAF = -1;
/** SIZE_MAX read as an intp: a _QuadTree cell's "no child", and the root's parent. */
const NO_CELL = -1;

/** A tree's arrays, and its check once their bytes are known (undefined bytes: not written in the pickle). */
export interface TreeCheck {
  what: string;
  arrays: ArrayFacts[];
  check(bytes: (a: ArrayFacts) => Uint8Array | undefined): string | undefined;
}

/**
 * The check of a BUILD's state on a scikit-learn tree made by `targetName` given `args`, or what is
 * wrong with it already; undefined for anything else. `arrayOf` gives what is known of a pickled
 * NumPy array.
 */
export function sklearnStructure(targetName: string, args: readonly Value[], state: Value, arrayOf: (v: Value | undefined) => ArrayFacts | undefined): TreeCheck | string | undefined {
  if (targetName === TREE) return decisionTree(args, state, arrayOf);
  if (targetName === PREDICTOR) return predictor(state, arrayOf);
  if (targetName === QUAD_TREE) return quadTree(args, state, arrayOf);
  if (!NEW_OBJ.test(targetName)) return undefined;
  const [cls] = args;
  const name = isSym(cls) && cls.t === "global" ? cls.name : "";
  const kind = /^KDTree(?:32|64)?$/.test(name) ? "KDTree" : /^BallTree(?:32|64)?$/.test(name) ? "BallTree" : undefined;
  return kind && binaryTree(kind, state, arrayOf);
}

function decisionTree(args: readonly Value[], state: Value, arrayOf: (v: Value | undefined) => ArrayFacts | undefined): TreeCheck | string {
  const what = "scikit-learn Tree";
  const cannot = (why: string): string => `${what} cannot be checked: ${why}`;
  const [nFeatures, nClassesValue, nOutputs] = args;
  if (!isSym(state) || state.t !== "dict") return cannot("its state is not a dict");
  const [maxDepth, nodeCount] = [dictGet(state, "max_depth"), dictGet(state, "node_count")];
  if (!count(nFeatures) || !count(maxDepth) || !count(nodeCount)) return cannot("its n_features, max_depth or node_count is not a non-negative integer written in the pickle");
  const nodes = arrayOf(dictGet(state, "nodes"));
  const fields = nodes && structFields(nodes, ["left_child", "right_child", "feature"]);
  if (!nodes || nodes.shape.length !== 1 || !fields) return cannot("its nodes are not a one-dimensional NumPy array with integer left_child, right_child and feature fields");
  const n = nodes.shape[0]!;
  if (nodeCount !== n) return `${what} node_count ${nodeCount} is not the length of its nodes array (${n})`;
  if (n === 0) return `${what} has no nodes (its root is read at first use)`;
  const values = arrayOf(dictGet(state, "values"));
  const nClasses = arrayOf(nClassesValue);
  return {
    what,
    arrays: nClasses ? [nodes, nClasses] : [nodes],
    check: (bytes) => {
      const data = bytes(nodes);
      if (!data || data.length < n * nodes.dtype!.size) return cannot("the bytes of its nodes array are not all written in the pickle");
      const [left, right, feature] = fields.map((f) => fieldInts(data, nodes.dtype!.size, n, f));
      // A node's depth is its parent's plus one: children come after their parent, and have one.
      const depth = new Int32Array(n);
      const parents = new Parents(n);
      let deepest = 0;
      for (let i = 0; i < n; i++) {
        const [l, r, f] = [left![i]!, right![i]!, feature![i]!];
        if (l === LEAF && r === LEAF) continue;
        if (l === LEAF || r === LEAF) return `${what} node ${i} has left_child ${l} and right_child ${r}: only one of them marks a leaf`;
        const wrong = parents.link(i, "left_child", l) ?? parents.link(i, "right_child", r);
        if (wrong) return `${what} ${wrong}`;
        if (f < 0 || f >= nFeatures) return `${what} node ${i} splits on feature ${f}, outside 0…${nFeatures - 1} (its n_features)`;
        depth[l] = depth[r] = depth[i]! + 1;
        deepest = Math.max(deepest, depth[l]!);
      }
      if (deepest > maxDepth) return `${what} reaches depth ${deepest}, past its max_depth ${maxDepth} (decision_path's buffer is sized by it)`;
      const classes = nClasses?.dtype && bytes(nClasses) ? arrayInts(nClasses.dtype, bytes(nClasses)!) : undefined;
      const want = classes?.length && count(nOutputs) ? [n, nOutputs, classes.reduce((a, b) => Math.max(a, b))] : undefined;
      if (want && values && values.shape.join() !== want.join()) {
        return `${what} values array of shape (${values.shape.join(", ")}) is not (node_count, n_outputs, max n_classes) = (${want.join(", ")})`;
      }
      return undefined;
    },
  };
}

function predictor(state: Value, arrayOf: (v: Value | undefined) => ArrayFacts | undefined): TreeCheck | string {
  const what = "scikit-learn TreePredictor";
  const cannot = (why: string): string => `${what} cannot be checked: ${why}`;
  if (!isSym(state) || state.t !== "dict") return cannot("its state is not a dict");
  const nodes = arrayOf(dictGet(state, "nodes"));
  const fields = nodes && structFields(nodes, ["left", "right", "is_leaf", "feature_idx"]);
  // Categorical splits came with 0.24; older predictors have neither field.
  const categorical = nodes && structFields(nodes, ["is_categorical", "bitset_idx"]);
  if (!nodes || nodes.shape.length !== 1 || !fields) return cannot("its nodes are not a one-dimensional NumPy array with integer left, right, is_leaf and feature_idx fields");
  const n = nodes.shape[0]!;
  if (n === 0) return `${what} has no nodes (its root is read at first use)`;
  const bitsets = [dictGet(state, "raw_left_cat_bitsets"), dictGet(state, "binned_left_cat_bitsets")].map(arrayOf);
  const rows = Math.min(...bitsets.map((b) => b?.shape[0] ?? 0));
  return {
    what,
    arrays: [nodes],
    check: (bytes) => {
      const data = bytes(nodes);
      if (!data || data.length < n * nodes.dtype!.size) return cannot("the bytes of its nodes array are not all written in the pickle");
      const [left, right, leaf, feature] = fields.map((f) => fieldInts(data, nodes.dtype!.size, n, f));
      const [isCategorical, bitset] = categorical?.map((f) => fieldInts(data, nodes.dtype!.size, n, f)) ?? [];
      const parents = new Parents(n);
      for (let i = 0; i < n; i++) {
        if (leaf![i] !== 0) continue;
        const wrong = parents.link(i, "left", left![i]!) ?? parents.link(i, "right", right![i]!);
        if (wrong) return `${what} ${wrong}`;
        if (feature![i]! < 0) return `${what} node ${i} splits on feature ${feature![i]}`;
        if (isCategorical?.[i] && bitset![i]! >= rows) return `${what} node ${i} reads bitset ${bitset![i]}, past its ${rows} bitsets`;
      }
      return undefined;
    },
  };
}

function binaryTree(kind: "KDTree" | "BallTree", state: Value, arrayOf: (v: Value | undefined) => ArrayFacts | undefined): TreeCheck | string {
  const what = `scikit-learn ${kind}`;
  const cannot = (why: string): string => `${what} cannot be checked: ${why}`;
  const items = isSym(state) && state.t === "tuple" ? state.items : [];
  const [data, idx, nodeData, bounds] = items.slice(0, 4).map(arrayOf);
  const [leafSize, , nNodes] = items.slice(4, 7);
  const weight = items[12];
  const weights = weight === undefined || weight === null ? undefined : arrayOf(weight);
  if (!data || !idx || !nodeData || !bounds || (weights === undefined && weight !== undefined && weight !== null)) {
    return cannot("its data, idx_array, node_data, node_bounds or sample_weight is not a NumPy array written in the pickle");
  }
  if (!count(leafSize) || !count(nNodes)) return cannot("its leaf_size or n_nodes is not a non-negative integer written in the pickle");
  if (data.shape.length !== 2) return `${what} data of shape (${data.shape.join(", ")}) is not two-dimensional`;
  const [samples, features] = data.shape as [number, number];
  const n = nodeData.shape[0];
  const positional = nodeData.shape.length === 1 ? positionalInts(nodeData, 3) : undefined;
  if (!idx.dtype || !isIntDtype(idx.dtype) || idx.shape.length !== 1 || !positional) {
    return cannot("its idx_array is not an integer array, or its node_data not an array of (idx_start, idx_end, is_leaf) integers");
  }
  if (leafSize === 0) return `${what} leaf_size is 0`;
  if (nNodes !== n) return `${what} n_nodes ${nNodes} is not the length of its node_data (${n})`;
  const boundsShape = [kind === "KDTree" ? 2 : 1, n, features];
  if (bounds.shape.join() !== boundsShape.join()) return `${what} node_bounds of shape (${bounds.shape.join(", ")}) is not (${boundsShape.join(", ")})`;
  if (weights && weights.shape.join() !== String(samples)) return `${what} sample_weight of shape (${weights.shape.join(", ")}) is not (${samples})`;
  return {
    what,
    arrays: [idx, nodeData],
    check: (bytes) => {
      const [idxBytes, nodeBytes] = [bytes(idx), bytes(nodeData)];
      const indices = idxBytes && arrayInts(idx.dtype!, idxBytes);
      if (!indices || !nodeBytes || indices.length < idx.shape[0]! || nodeBytes.length < n * nodeData.dtype!.size) {
        return cannot("the bytes of its idx_array or node_data are not all written in the pickle");
      }
      const bad = indices.findIndex((v, i) => i < idx.shape[0]! && (v < 0 || v >= samples));
      if (bad >= 0) return `${what} idx_array[${bad}] = ${indices[bad]} is outside 0…${samples - 1} (its data has ${samples} samples)`;
      const [start, end, leaf] = positional.map((f) => fieldInts(nodeBytes, nodeData.dtype!.size, n!, f));
      for (let i = 0; i < n!; i++) {
        const [s, e] = [start![i]!, end![i]!];
        if (s < 0 || s > e || e > idx.shape[0]!) return `${what} node ${i} covers idx_array[${s}:${e}], outside its ${idx.shape[0]} entries`;
        if (leaf![i] === 0 && 2 * i + 2 >= n!) return `${what} node ${i} is not a leaf, but its children ${2 * i + 1} and ${2 * i + 2} are past its ${n} nodes`;
      }
      return undefined;
    },
  };
}

function quadTree(args: readonly Value[], state: Value, arrayOf: (v: Value | undefined) => ArrayFacts | undefined): TreeCheck | string {
  const what = "scikit-learn _QuadTree";
  const cannot = (why: string): string => `${what} cannot be checked: ${why}`;
  const [dimensions] = args;
  if (!isSym(state) || state.t !== "dict") return cannot("its state is not a dict");
  if (typeof dimensions !== "number" || !Number.isInteger(dimensions)) return cannot("its n_dimensions is not an integer written in the pickle");
  if (dimensions < 1 || dimensions > 3) return `${what} has ${dimensions} dimensions, not 1, 2 or 3 (a cell holds three coordinates and eight children)`;
  const cellCount = dictGet(state, "cell_count");
  if (!count(cellCount)) return cannot("its cell_count is not a non-negative integer written in the pickle");
  const cells = arrayOf(dictGet(state, "cells"));
  const fields = cells && structFields(cells, ["parent", "is_leaf"]);
  const children = cells?.dtype?.fields?.get("children");
  const [base, slots] = [children?.dtype?.subarray?.base, children?.dtype?.subarray?.shape];
  const perCell = 2 ** dimensions;
  if (!cells || cells.shape.length !== 1 || !fields || !children || !base || !isIntDtype(base) || slots?.length !== 1 || slots[0]! < perCell
    || children.offset < 0 || children.offset + slots[0]! * base.size > cells.dtype!.size) {
    return cannot(`its cells are not a one-dimensional NumPy array with integer parent and is_leaf fields and ${perCell} integer children`);
  }
  const n = cells.shape[0]!;
  if (cellCount === 0 || n === 0) return `${what} has no cells (its root is read at first use)`;
  if (cellCount > n) return `${what} cell_count ${cellCount} is past its ${n} cells`;
  return {
    what,
    arrays: [cells],
    check: (bytes) => {
      const data = bytes(cells);
      if (!data || data.length < n * cells.dtype!.size) return cannot("the bytes of its cells array are not all written in the pickle");
      const [parent, leaf] = fields.map((f) => fieldInts(data, cells.dtype!.size, cellCount, f));
      const child = Array.from({ length: perCell }, (_, k) => fieldInts(data, cells.dtype!.size, cellCount, { dtype: base, offset: children.offset + k * base.size }));
      const parentOf = new Array<number | undefined>(cellCount);
      for (let i = 0; i < cellCount; i++) {
        const p = parent![i]!;
        if (p !== NO_CELL && (p < 0 || p >= cellCount)) return `${what} cell ${i} has parent ${p}, neither ${NO_CELL} (the root's) nor a cell (0…${cellCount - 1})`;
        if (leaf![i] !== 0) continue;
        for (let k = 0; k < perCell; k++) {
          const c = child[k]![i]!;
          if (c === NO_CELL) continue;
          if (c <= i || c >= cellCount) return `${what} cell ${i} has child ${c}, neither ${NO_CELL} (none) nor a cell after it (${i + 1}…${cellCount - 1})`;
          if (parentOf[c] !== undefined) return `${what} cell ${i} has child ${c}, already a child of cell ${parentOf[c]}`;
          parentOf[c] = i;
        }
      }
      return undefined;
    },
  };
}

interface Field {
  dtype: DtypeFacts;
  offset: number;
}

/** Integer fields of a structured array, by name, within its item size. */
function structFields(a: ArrayFacts, names: readonly string[]): Field[] | undefined {
  const out: Field[] = [];
  for (const name of names) {
    const f = a.dtype?.fields?.get(name);
    if (!f?.dtype || !isIntDtype(f.dtype) || f.offset < 0 || f.offset + f.dtype.size > a.dtype!.size) return undefined;
    out.push({ dtype: f.dtype, offset: f.offset });
  }
  return out;
}

/** The first `k` fields of a structured array by offset, as Cython's typed memoryviews read them: all integers, or undefined. */
function positionalInts(a: ArrayFacts, k: number): Field[] | undefined {
  const fields = [...(a.dtype?.fields?.values() ?? [])].sort((x, y) => x.offset - y.offset).slice(0, k);
  if (fields.length < k || fields.some((f) => !f.dtype || !isIntDtype(f.dtype) || f.offset < 0 || f.offset + f.dtype.size > a.dtype!.size)) return undefined;
  return fields as Field[];
}

/** One integer field of `n` structured items of `itemSize` bytes. */
function fieldInts(data: Uint8Array, itemSize: number, n: number, f: Field): Float64Array {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = intAt(view, i * itemSize + f.offset, f.dtype);
  return out;
}
