/**
 * SciPy distributions exec() the `_parse_arg_template` of their restored state. They are allowed
 * only with SciPy's own template (src/pickle/stateGuards.ts): real frozen distributions pass, and
 * the same files with the template swapped for code of the same length are critical.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { scanSource } from "../src/engine.js";
import { stateProblem } from "../src/pickle/stateGuards.js";
import type { Dict, Value } from "../src/pickle/values.js";
import { BufferSource } from "../src/sources/byteSource.js";

const ZOO = join(import.meta.dirname, "..", "..", "test", "fixtures", "zoo");

/** SciPy's template for the shape names and location/scale parameters given (as SciPy formats it). */
function template(shapes: string[], discrete: boolean): string {
  const s = shapes.map((n) => `${n}, `).join("");
  const [inArgs, outArgs] = discrete ? ["loc=0", "loc, 1"] : ["loc=0, scale=1", "loc, scale"];
  return (
    `\ndef _parse_args(self, ${s} ${inArgs}):\n    return (${s}), ${outArgs}\n\n` +
    `def _parse_args_rvs(self, ${s} ${inArgs}, size=None):\n    return self._argcheck_rvs(${s} ${outArgs}, size=size)\n\n` +
    `def _parse_args_stats(self, ${s} ${inArgs}, moments='mv'):\n    return (${s}), ${outArgs}, moments\n`
  );
}

function dict(entries: [Value, Value][]): Dict {
  return { t: "dict", kv: entries.flat(), n: entries.length, behaviour: false, keyPastSample: false };
}

test("SciPy's own argument-parser templates pass: continuous and discrete, with and without shapes", () => {
  for (const [shapes, discrete] of [[[], false], [["a", "b"], false], [["mu"], true], [[], true]] as const) {
    assert.equal(stateProblem("scipy-argparser", dict([["_parse_arg_template", template([...shapes], discrete)], ["numargs", shapes.length]])), undefined);
  }
  // Without the template in the state, __setstate__ executes whatever the object already holds,
  // which an attribute setter or a shadowed method may have planted: SciPy always writes it.
  assert.match(stateProblem("scipy-argparser", dict([["numargs", 0]])) ?? "", /does not set _parse_arg_template/);
});

test("any other template, or one that cannot be read, is a problem", () => {
  const canonical = template(["a"], false);
  const bad: [string, Value][] = [
    ["code after the parsers", canonical + "__import__('os').system('echo pwned')\n"],
    ["a default that runs code", canonical.replace("loc=0, scale=1", "loc=__import__('os').system('id'), scale=1")],
    ["shape names that differ between the parsers", canonical.replace("return (a, )", "return (b, )")],
    ["a shape that is not an identifier", template(["a=print(1)"], false)],
    ["a string too long to keep", { t: "bigstr", len: 100_000, at: 0 }],
  ];
  for (const [what, value] of bad) assert.match(stateProblem("scipy-argparser", dict([["_parse_arg_template", value]])) ?? "", /_parse_arg_template/, what);
  assert.match(stateProblem("scipy-argparser", dict([["_parse_arg_template", canonical], ["_parse_arg_template", "import os"]])) ?? "", /not SciPy/, "a second value for the key");
  const callKey: Value = { t: "call", fn: null, args: null, kind: "REDUCE", at: 0 };
  assert.match(stateProblem("scipy-argparser", dict([[callKey, canonical]])) ?? "", /made at load time/);
  assert.match(stateProblem("scipy-argparser", { t: "tuple", items: [], behaviour: false }) ?? "", /not a dict/, "__dict__.update also takes pairs");
  assert.match(stateProblem("scipy-argparser", { ...dict([["numargs", 0]]), n: 1000 }) ?? "", /more items/);
});

/** A zoo pickle with its template replaced by code of the same length, so the stream stays well formed. */
function tampered(file: string): Buffer {
  const data = readFileSync(join(ZOO, file));
  const start = data.indexOf("\ndef _parse_args(self,");
  const end = data.indexOf("moments\n", start) + "moments\n".length;
  assert.ok(start > 0 && end > start, `${file} holds a template`);
  const code = Buffer.from("import os\nos.system('echo pwned')\n#".padEnd(end - start, "#"));
  return Buffer.concat([data.subarray(0, start), code, data.subarray(end)]);
}

for (const file of ["science/scipy/frozen_norm.pkl", "science/scipy/frozen_poisson.pkl", "science-debian/scipy/frozen_beta.pkl"]) {
  test(`SciPy frozen distribution ${file} passes, and is critical with its template swapped for code`, async () => {
    const clean = await scanSource(Object.assign(new BufferSource(file, readFileSync(join(ZOO, file))), { bytesRead: 0 }), file);
    assert.deepEqual(clean.findings.map((f) => `${f.rule} ${f.message}`), []);
    const bad = await scanSource(Object.assign(new BufferSource(file, tampered(file)), { bytesRead: 0 }), file);
    assert.ok(bad.findings.some((f) => f.rule === "MG125" && f.severity === "critical" && f.message.includes("_gen")), JSON.stringify(bad.findings));
    assert.equal(bad.verdict, "block");
  });
}
