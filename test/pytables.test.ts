/**
 * Pickles PyTables unpickles when an HDF5 file is read (scripts/make_pytables_fixtures.py): a scalar
 * byte-string attribute ending with "." (any node's, TITLE and CLASS as the file opens; pandas' read_hdf
 * reads pandas_type and friends) and each row of a VLArray of ObjectAtom (pandas' object columns).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { scanPaths } from "../src/engine.js";
import { readHdf5 } from "../src/formats/hdf5Client.js";

const DIR = join(import.meta.dirname, "..", "..", "test", "fixtures", "pytables");

async function contents(name: string): Promise<Awaited<ReturnType<typeof readHdf5>>> {
  const bytes = readFileSync(join(DIR, name));
  return readHdf5(new Uint8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)));
}

test("the pickles PyTables would unpickle are found: a pickled attribute, and pandas' object columns row by row", async () => {
  const attrs = await contents("attrs.h5");
  assert.ok("pickles" in attrs, JSON.stringify(attrs));
  assert.deepEqual(attrs.pickles.map((p) => [p.where, p.always]), [["/@config", false]]);
  const frame = await contents("pandas_fixed.h5");
  assert.ok("pickles" in frame);
  assert.ok(frame.pickles.some((p) => p.always && /^\/frame\/block\d_values\[0\]$/.test(p.where)), JSON.stringify(frame.pickles.map((p) => p.where)));
  // Text attributes that do not end with "." (CLASS, VERSION, TITLE) are not pickles to PyTables.
  assert.ok(frame.pickles.every((p) => !p.where.endsWith("@CLASS") && !p.where.endsWith("@VERSION")));
});

test("a command in an attribute or an object row is critical; the files PyTables and pandas write pass", async () => {
  const report = await scanPaths([DIR]);
  const byName = Object.fromEntries(report.files.map((f) => [f.path.split(/[\\/]/).at(-1), f.findings.map((x) => `${x.rule} ${x.location.member ?? ""}`)]));
  assert.deepEqual(byName["attr_command.h5"], ["MG100 /x@note"]);
  assert.deepEqual(byName["row_command.h5"], ["MG100 /objects[1]"]);
  // Spelt otherwise, read the same way by PyTables (red team round 38): a variable-length ASCII attribute, int8 rows.
  assert.deepEqual(byName["attr_vlen_command.h5"], ["MG100 /frame@pandas_type"]);
  assert.deepEqual(byName["row_int8_command.h5"], ["MG100 /objects[0]"]);
  // pandas allocates np.empty(shape) of a node's "shape" attribute (red team round 38).
  assert.deepEqual(byName["shape_bomb.h5"], ["MG109 "]);
  assert.deepEqual(byName["pandas_empty.h5"], []);
  assert.deepEqual(byName["attrs.h5"], []);
  assert.deepEqual(byName["pandas_fixed.h5"], []);
});
