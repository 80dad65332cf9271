/**
 * SciPy's cKDTree (and KDTree, its Python subclass; NearestNDInterpolator holds one), pickled as
 * NEWOBJ of the class with BUILD `(tree_buffer, data, n, m, leafsize, maxes, mins, indices,
 * boxsize, boxsize_data)` (red team round 21 finding 03). tree_buffer is a `|S1` array of C
 * `ckdtreenode` structs (ckdtree_decl.h: split_dim, children, split, start_idx, end_idx, less,
 * greater, _less, _greater, eight bytes each on 64-bit). `__setstate__` copies it into a vector of
 * size // 72 nodes by its full size, takes the raw pointers of the arrays, and rebuilds each inner
 * node's less/greater pointers from _less/_greater recursively from node 0, all unchecked; queries
 * then read `data[indices[i]]` for i in a leaf's start_idx…end_idx and `maxes[split_dim]`.
 * (children is a count, used as a weight; the pointers are rebuilt, not read.)
 */
import type { TreeCheck } from "./sklearnTrees.js";
import { arrayInts, int64At, Parents, type ArrayFacts, type DtypeFacts } from "./structures.js";
import { count, isSym, type Value } from "./values.js";

/** scipy.spatial._ckdtree.cKDTree (scipy.spatial.ckdtree before 1.8) and KDTree, which subclasses it. */
const CKDTREE = /^scipy\.spatial\.(?:_?ckdtree\.cKDTree|_kdtree\.KDTree)$/;
/** sizeof(ckdtreenode) on 64-bit, and its fields' offsets. */
const NODE = 72;
const [SPLIT_DIM, START, END, LESS, GREATER] = [0, 24, 32, 56, 64];
const LEAF = -1;

/** The check of a BUILD's state on a cKDTree, or what is wrong with it already; undefined for anything else. */
export function ckdtreeStructure(targetName: string, state: Value, arrayOf: (v: Value | undefined) => ArrayFacts | undefined): TreeCheck | string | undefined {
  if (!CKDTREE.test(targetName)) return undefined;
  const what = "SciPy cKDTree";
  const cannot = (why: string): string => `${what} cannot be checked: ${why}`;
  const items = isSym(state) && state.t === "tuple" ? state.items : [];
  if (items.length !== 10) return cannot("its state is not SciPy's 10-tuple");
  const [tree, data, maxes, mins, indices] = [0, 1, 5, 6, 7].map((i) => arrayOf(items[i]));
  const [n, m, leafSize, boxValue, boxDataValue] = [items[2], items[3], items[4], items[8], items[9]];
  const [box, boxData] = [boxValue, boxDataValue].map((v) => (v === null ? null : arrayOf(v)));
  if (!tree?.dtype || !data?.dtype || !maxes?.dtype || !mins?.dtype || !indices?.dtype || box === undefined || boxData === undefined || (box === null) !== (boxData === null)) {
    return cannot("its tree buffer, data, maxes, mins, indices or boxsize is not a NumPy array with a dtype written in the pickle");
  }
  if (!count(n) || !count(m) || !count(leafSize)) return cannot("its n, m or leafsize is not a non-negative integer written in the pickle");
  // The raw pointers are read as doubles and intps, the tree buffer as bytes: nothing else has their size.
  const wrong = ([["data", data, "f", [n, m]], ["maxes", maxes, "f", [m]], ["mins", mins, "f", [m]], ["indices", indices, "i", [n]],
    ["boxsize", box, "f", [m]], ["boxsize_data", boxData, "f", [2 * m]]] as const).find(([, a, kind, shape]) => a && !is(a, kind, 8, shape));
  if (wrong) {
    const [name, a, kind, shape] = wrong;
    return `${what} ${name} of ${describe(a!)} is not ${kind === "f" ? "float64" : "int64"} of shape (${shape.join(", ")}) (its n is ${n}, its m ${m})`;
  }
  if (tree.shape.length !== 1 || !is(tree, "S", 1, tree.shape)) return cannot(`its tree buffer of ${describe(tree)} is not a one-dimensional |S1 array`);
  const size = tree.shape[0]!;
  if (size === 0 || size % NODE !== 0) return `${what} tree buffer of ${size} bytes is not a whole number of ${NODE}-byte nodes (its root is read at load, and the buffer copied whole)`;
  const nodes = size / NODE;
  return {
    what,
    arrays: [tree, indices],
    check: (bytes) => {
      const [buffer, indexBytes] = [bytes(tree), bytes(indices)];
      const idx = indexBytes && arrayInts(indices.dtype!, indexBytes);
      if (!buffer || buffer.length !== size || !idx || idx.length !== n) return cannot("the bytes of its tree buffer or indices are not all written in the pickle");
      const seen = new Array<boolean>(n);
      for (let i = 0; i < n; i++) {
        const v = idx[i]!;
        if (v < 0 || v >= n) return `${what} indices[${i}] = ${v} is outside 0…${n - 1} (its data has ${n} points)`;
        if (seen[v]) return `${what} indices[${i}] = ${v} repeats an index (they are a permutation of its ${n} points)`;
        seen[v] = true;
      }
      const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      const at = (node: number, field: number): number => int64At(view, node * NODE + field, true, true);
      const parents = new Parents(nodes);
      for (let i = 0; i < nodes; i++) {
        const [dim, start, end] = [at(i, SPLIT_DIM), at(i, START), at(i, END)];
        if (start < 0 || start > end || end > n) return `${what} node ${i} covers indices[${start}:${end}], outside its ${n} entries`;
        if (dim === LEAF) continue;
        if (dim < 0 || dim >= m) return `${what} node ${i} splits on dimension ${dim}, outside 0…${m - 1} (its m)`;
        const wrong = parents.link(i, "_less", at(i, LESS)) ?? parents.link(i, "_greater", at(i, GREATER));
        if (wrong) return `${what} ${wrong}`;
      }
      return undefined;
    },
  };
}

/** A little-endian (or byte-order-free) array of `kind` and item `size` and exactly `shape`. */
function is(a: ArrayFacts, kind: string, size: number, shape: readonly number[]): boolean {
  const d = a.dtype;
  return !!d && d.kind === kind && d.size === size && !d.bigEndian && a.shape.join() === shape.join();
}

function describe(a: ArrayFacts): string {
  const d: DtypeFacts | undefined = a.dtype;
  return `${d ? `${d.bigEndian ? ">" : ""}${d.kind}${d.size}` : "unknown dtype"}, shape (${a.shape.join(", ")})`;
}
