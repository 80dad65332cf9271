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
import { pillowImage, stateProblem } from "../src/pickle/stateGuards.js";
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

/** Pillow's image state: [info, mode, size, palette, data]. */
function imageState(mode: Value, size: Value, data: Value, extra: Value[] = []): Value {
  const items = [dict([]), mode, size, null, data, ...extra];
  return { t: "list", items, n: items.length, behaviour: false };
}
const size = (w: number, h: number): Value => ({ t: "tuple", items: [w, h], behaviour: false });
const bytes = (n: number): Value => ({ t: "bytes", data: new Uint8Array(n), at: 0 });

test("Pillow's image guard: the data must hold what the size asks for in its mode, before __setstate__ allocates it", () => {
  assert.equal(stateProblem("pillow-image", imageState("RGB", size(16, 8), bytes(384))), undefined);
  assert.equal(stateProblem("pillow-image", imageState("1", size(13, 5), bytes(10))), undefined, "mode 1: two bytes a row of 13 pixels");
  assert.equal(stateProblem("pillow-image", imageState("I;16", size(4, 4), bytes(32), ["x.png"])), undefined, "ImageFile adds the file name");
  assert.equal(stateProblem("pillow-image", imageState("RGBA", size(65535, 65535), { t: "bigbytes", len: 65535 * 65535 * 4, at: 0 })), undefined);
  const encoded: Value = { t: "call", fn: { t: "global", module: "_codecs", name: "encode", at: 0, via: "GLOBAL" }, args: { t: "tuple", items: ["\u00ff".repeat(48), "latin1"], behaviour: false }, kind: "REDUCE", at: 0 } as Value;
  assert.equal(stateProblem("pillow-image", imageState("RGB", size(4, 4), encoded)), undefined, "protocol 2 writes bytes as _codecs.encode");
  assert.match(stateProblem("pillow-image", imageState("RGBA", size(65535, 65535), bytes(16))) ?? "", /needs 17179344900 bytes of data and it holds 16/);
  assert.match(stateProblem("pillow-image", imageState("1", size(13, 5), bytes(9))) ?? "", /needs 10 bytes/);
  assert.match(stateProblem("pillow-image", imageState("RGB;X", size(1, 1), bytes(3))) ?? "", /mode "RGB;X" is not one/);
  assert.match(stateProblem("pillow-image", imageState("RGB", size(-1, 2), bytes(3))) ?? "", /size is not two integers/);
  const made: Value = { t: "call", fn: { t: "global", module: "builtins", name: "bytes", at: 0, via: "GLOBAL" }, args: { t: "tuple", items: [10 ** 9], behaviour: false }, kind: "REDUCE", at: 0 } as Value;
  assert.match(stateProblem("pillow-image", imageState("L", size(1000, 1000), made)) ?? "", /not bytes written in the pickle/);
  assert.match(stateProblem("pillow-image", { t: "list", items: [], n: 5, behaviour: false }) ?? "", /five items/);
  // What it allocates: the pixels as Pillow stores them (a byte for a 1-bit pixel), a pointer a row, the image's own (red team round 34).
  const tall = pillowImage(imageState("1", size(1, 1000), bytes(1000)));
  assert.equal(typeof tall === "object" ? tall.pixelBytes : tall, 1000 + 1000 * 8 + 1024);
  // A state that is no list or tuple fails at the unpacking, before allocating.
  assert.equal(stateProblem("pillow-image", dict([["mode", "RGB"]])), undefined);
});

test("gymnasium's space guard: a state's _shape is held to the sized bound, as MultiDiscrete's __setstate__ allocates it (red team round 36)", async () => {
  const shape = (...dims: Value[]): Value => ({ t: "tuple", items: dims, behaviour: false });
  assert.equal(stateProblem("gymnasium-space", dict([["_shape", shape(84, 84, 3)], ["dtype", "float32"]])), undefined);
  assert.equal(stateProblem("gymnasium-space", dict([["_shape", null], ["spaces", dict([])]])), undefined, "a Tuple or Dict space has none");
  assert.match(stateProblem("gymnasium-space", dict([["_shape", shape(50000, 50000)], ["dtype", "O"]])) ?? "", /_shape holds 2500000000 elements/);
  assert.match(stateProblem("gymnasium-space", { t: "list", items: [{ t: "tuple", items: ["_shape", shape(50000, 50000)], behaviour: false }], n: 1, behaviour: false }) ?? "", /2500000000 elements/, "pairs, which dict(state) takes");
  assert.match(stateProblem("gymnasium-space", dict([["_shape", "big"]])) ?? "", /not integers written in the pickle/);
  // dict() takes lists as pairs too, and a subarray dtype multiplies every element (red team round 37).
  const listPair = (k: Value, v: Value): Value => ({ t: "list", items: [k, v], n: 2, behaviour: false });
  assert.match(stateProblem("gymnasium-space", { t: "list", items: [listPair("_shape", shape(30000, 30000))], n: 1, behaviour: false }) ?? "", /900000000 elements/);
  assert.match(stateProblem("gymnasium-space", dict([["_shape", shape(3)], ["dtype", shape("O", shape(16000, 16000))]])) ?? "", /dtype is not a plain scalar type/);
  assert.match(stateProblem("gymnasium-space", dict([["_shape", shape(3)], ["dtype", "(16000,16000)O"]])) ?? "", /not a plain scalar type/);
  assert.equal(stateProblem("gymnasium-space", dict([["_shape", shape(3)], ["dtype", "int64"]])), undefined);
  assert.match(stateProblem("gymnasium-space", dict([[{ t: "call", fn: null, args: null, kind: "REDUCE", at: 0 } as unknown as Value, shape(1)]])) ?? "", /key made at load time/);
  // End to end: the real library's spaces pass; a legacy MultiDiscrete state of 50000 x 50000 objects is MG109.
  const source = (name: string, bytes: Buffer): BufferSource & { bytesRead: number } => Object.assign(new BufferSource(name, bytes), { bytesRead: 0 });
  const real = await scanSource(source("gymnasium_spaces.pkl", readFileSync(join(import.meta.dirname, "..", "..", "test", "fixtures", "more-libraries", "gymnasium_spaces.pkl"))), "gymnasium_spaces.pkl");
  assert.deepEqual(real.findings, []);
  const text = (s: string): Buffer => Buffer.concat([Buffer.from([0x8c, s.length]), Buffer.from(s)]);
  const legacy = Buffer.concat([
    Buffer.from([0x80, 0x04]), text("gymnasium.spaces.multi_discrete"), text("MultiDiscrete"), Buffer.from([0x93, 0x29, 0x81]),
    Buffer.from([0x7d, 0x28]), text("_shape"), Buffer.from([0x4a]), Buffer.from(Uint32Array.of(50000).buffer), Buffer.from([0x4a]), Buffer.from(Uint32Array.of(50000).buffer), Buffer.from([0x86]),
    text("dtype"), text("O"), Buffer.from([0x75, 0x62, 0x2e]),
  ]);
  const found = await scanSource(source("legacy.pkl", legacy), "legacy.pkl");
  assert.ok(found.findings.some((f) => f.rule === "MG109" && /MultiDiscrete, but its _shape holds 2500000000 elements/.test(f.message)), JSON.stringify(found.findings));
});
