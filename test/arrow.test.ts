/**
 * Pickled Arrow arrays (P21): pyarrow restores an array from its pickled parts without validating
 * them, so the scanner checks the layout. Fixtures are pyarrow's and pandas' own pickles and tuples
 * an attacker shaped, pickled by pyarrow (scripts/make_arrow_fixtures.py).
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { scanPickle } from "../src/formats/pickle.js";
import { LIMITS } from "../src/limits.js";
import { ArrowArrays, deferredArrow } from "../src/pickle/arrow.js";
import { deferredProblems } from "../src/pickle/readBack.js";
import { callResult, globalRef, tuple, type BigConstant, type Value } from "../src/pickle/values.js";
import { BufferSource } from "../src/sources/byteSource.js";
import { RecordingContext } from "./support/context.js";

const DIR = join(import.meta.dirname, "..", "..", "test", "fixtures", "arrow");

async function findings(file: string): Promise<string[]> {
  const ctx = new RecordingContext();
  await scanPickle(new BufferSource(file, readFileSync(join(DIR, file))), ctx);
  return ctx.reports.map((r) => `${r.rule} ${r.message}`);
}

test("every type pyarrow and pandas pickle, at protocols 2, 4 and 5, passes without a finding", async () => {
  const benign = readdirSync(DIR).filter((f) => /^(every_type|pandas_|large_string_9000)/.test(f));
  assert.equal(benign.length, 7);
  for (const f of benign) assert.deepEqual(await findings(f), [], f);
});

const HOSTILE: Record<string, string> = {
  "int64_length_past_data.pkl": "of an array of 8-byte values (length 67108864, offset 0): values buffer of 24 bytes is shorter than 536870912",
  "string_offset_past_data.pkl": "of a binary array with 32-bit offsets (length 3, offset 0): offset 3 = 4096 falls or points outside its data buffer (0…4)",
  "string_offsets_fall.pkl": "of a binary array with 32-bit offsets (length 3, offset 0): offset 2 = 1 falls or points outside its data buffer (0…4)",
  "dictionary_index_past_values.pkl": "of a dictionary array (length 2, offset 0): index 1 = 7 is outside its dictionary of 2 values",
  "dictionary_of_other_type.pkl": "of a dictionary array (length 2, offset 0): dictionary is an array of 8-byte values, while its type declares a binary array with 32-bit offsets",
  "list_offset_past_child.pkl": "of a list array with 32-bit offsets (length 2, offset 0): offset 2 = 300 falls or points outside its child (0…3)",
  "struct_child_short.pkl": "of a struct array of 1 fields (length 50, offset 0): child 0 of 3 items is shorter than 50",
  "run_end_encoded_unchecked.pkl": "of type run_end_encoded(…) is not checked (only the layouts of primitive, binary, list, struct, map and dictionary types are)",
};

for (const [file, message] of Object.entries(HOSTILE)) {
  test(`${file}: MG124`, async () => {
    assert.deepEqual(await findings(file), [`MG124 pickled Arrow array ${message}`]);
  });
}

test("offsets in a constant too long to keep are read back and checked, raw bytes and latin-1 text alike", async () => {
  for (const proto of [2, 4]) {
    assert.deepEqual(await findings(`large_string_offset_far_p${proto}.pkl`), [
      "MG124 pickled Arrow array of a binary array with 64-bit offsets (length 9000, offset 0): offset 5000 = 1099511627776 falls or points outside its data buffer (0…43890)",
    ]);
  }
});

test("an array whose buffers are past the read-back bound is reported, not read", async () => {
  const lib = (name: string): Value => globalRef("pyarrow.lib", name, 0, "GLOBAL");
  const big = (len: number, at: number): BigConstant => ({ t: "bigbytes", len, at });
  const buffer = (b: BigConstant): Value => callResult(lib("py_buffer"), tuple([b]), "REDUCE", 0);
  const type = callResult(lib("type_for_alias"), tuple(["large_string"]), "REDUCE", 0);
  const offsets = big(LIMITS.readBackMaxBytes + 8, 10);
  const data = tuple([type, LIMITS.readBackMaxBytes / 8, 0, 0, tuple([null, buffer(offsets), buffer(big(100, 20))]), tuple([]), null]);
  const first = new ArrowArrays();
  assert.equal(typeof first.check(data), "symbol", "waits for the read-back");
  assert.deepEqual([...first.wanted], [offsets], "only the offsets' bytes are needed: the data buffer's size is known");
  const read = async (): Promise<Uint8Array> => assert.fail("nothing past the bound is read");
  const call = callResult(lib("_restore_array"), tuple([data]), "REDUCE", 5);
  const problems = await deferredProblems([deferredArrow(data, call)], read);
  assert.deepEqual(problems.map((p) => p.message), [
    `Arrow array needs buffers past the ${LIMITS.readBackMaxBytes}-byte bound on what is read back to check it, so its layout cannot be checked`,
  ]);
});
