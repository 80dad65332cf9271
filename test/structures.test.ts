/**
 * Structures libraries trust once loaded (P21): SciPy sparse index arrays against the matrix's
 * shape, NumPy array headers against their data. Fixtures are real SciPy and NumPy pickles
 * (scripts/make_structure_fixtures.py); the hostile ones had their arrays overwritten after
 * construction. The sparse classes are allowed here by an organisation's list, so the checks are
 * tested whatever the generated allowlist holds.
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { scanPickle } from "../src/formats/pickle.js";
import { int64At } from "../src/pickle/structures.js";
import { BufferSource } from "../src/sources/byteSource.js";
import { RecordingContext } from "./support/context.js";

const DIR = join(import.meta.dirname, "..", "..", "test", "fixtures", "structures");
const SPARSE = ["csr", "csc", "coo"].flatMap((f) => ["matrix", "array"].map((k) => `scipy.sparse._${f}.${f}_${k}`));

class PolicyContext extends RecordingContext {
  readonly callables = { allow: new Set(SPARSE), deny: new Map() };
}

async function rules(file: string): Promise<string[]> {
  const ctx = new PolicyContext();
  await scanPickle(new BufferSource(file, readFileSync(join(DIR, file))), ctx);
  return ctx.reports.map((r) => `${r.rule} ${r.message}`);
}

test("every sparse format and array pickled by SciPy and NumPy at protocols 2, 4 and 5 passes", async () => {
  const benign = readdirSync(DIR).filter((f) => /_p\d\.pkl$/.test(f));
  assert.ok(benign.length >= 20);
  for (const f of benign) assert.deepEqual(await rules(f), [], f);
});

test("a csr matrix whose indices reach past its columns is MG124", async () => {
  assert.deepEqual(await rules("csr_index_out_of_bounds.pkl"), ["MG124 pickled sparse matrix indices[2] = 9 is outside 0…3"]);
});

test("a csc matrix whose indptr runs past its indices is MG124", async () => {
  assert.match((await rules("csc_indptr_past_indices.pkl")).join("\n"), /^MG124 .*indptr/);
});

test("a coo array whose row index is past its rows is MG124", async () => {
  assert.deepEqual(await rules("coo_row_out_of_bounds.pkl"), ["MG124 pickled sparse matrix row[3] = 7 is outside 0…2"]);
});

test("the sparse checks hold whatever class the pickle names and however it makes the object: protocol 0, a base class, bsr blocks (red team round 36)", async () => {
  assert.deepEqual(await rules("csr_index_out_of_bounds_proto0.pkl"), ["MG124 pickled sparse matrix indices[2] = 9 is outside 0…3"]);
  assert.deepEqual(await rules("csr_base_index_out_of_bounds.pkl"), ["MG124 pickled sparse matrix indices[2] = 9 is outside 0…3"]);
  assert.deepEqual(await rules("bsr_index_out_of_bounds.pkl"), ["MG124 pickled sparse matrix indices[1] = 9 is outside 0…3"]);
});

test("a lil matrix's row lists are held to its columns (red team round 38)", async () => {
  assert.deepEqual(await rules("lil_index_out_of_bounds.pkl"), ["MG124 pickled sparse matrix rows[1][1] = 9 is outside 0…3"]);
});

test("the sparse checks read the attributes BUILD sets however the state spells them (red team round 37)", async () => {
  for (const file of ["csr_tuple_state_out_of_bounds.pkl", "csr_slot_state_out_of_bounds.pkl", "csr_int32_spelt_out_of_bounds.pkl", "csr_list_indices_out_of_bounds.pkl"]) {
    assert.deepEqual(await rules(file), ["MG124 pickled sparse matrix indices[2] = 9 is outside 0…3"], file);
  }
});

test("an array whose header declares more than its data holds is MG151", async () => {
  assert.deepEqual(await rules("ndarray_shape_past_data.pkl"), ["MG151 pickled array of shape (3, 5) and i8 declares 120 bytes; its data holds 96"]);
});

test("int64At reads 64-bit integers as Number(BigInt) does, in either byte order and past 2^53", () => {
  const values = [0n, 1n, -1n, 2n ** 31n, -(2n ** 31n) - 1n, 2n ** 32n + 5n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), 0x1234_5678_9abc_def0n];
  const view = new DataView(new ArrayBuffer(8));
  for (const v of values) {
    for (const le of [true, false]) {
      view.setBigInt64(0, v, le);
      assert.equal(int64At(view, 0, true, le), Number(view.getBigInt64(0, le)), `signed ${v} (${le ? "little" : "big"}-endian)`);
      assert.equal(int64At(view, 0, false, le), Number(view.getBigUint64(0, le)), `unsigned ${v} (${le ? "little" : "big"}-endian)`);
    }
  }
});
