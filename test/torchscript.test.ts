/** TorchScript source checks (MG122): what exported code really contains passes, machinery does not. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { codeDangers } from "../src/formats/torchscript.js";
import { resolveCode } from "../src/formats/torchscriptSource.js";

test("exported code that raises standard exceptions by name is not Python machinery", () => {
  const code = [
    "def forward(self, x: Tensor) -> Tensor:",
    '  _0 = ops.prim.RaiseException("AssertionError: bad shape", "builtins.AssertionError")',
    '  _1 = ops.prim.RaiseException("Expected 4D input", "builtins.ValueError")',
    '  _2 = ops.prim.RaiseException("", "builtins.StopIteration")',
    "  return torch.relu(x)",
  ].join("\n");
  assert.deepEqual(codeDangers(code), []);
});

test("code naming builtins machinery, processes or files is reported", () => {
  for (const line of ['builtins.__import__("os")', 'builtins.exec("x")', 'os.system("id")', 'torch.save(x, "/tmp/y")', 'open("/etc/passwd")']) {
    assert.ok(codeDangers(`def forward(self):\n  ${line}\n`).length > 0, line);
  }
});

test("names are matched as TorchScript's lexer reads them: across comments, continuations and spaces, and named without a call", () => {
  for (const line of [
    "_0 = (torch.from_file  # init\n      (p, True, 8))",
    "_0 = torch.from_file\\\n(p, True, 8)",
    "_0 = torch . save(x, p)",
    "_0 = ops.aten.save(x, p)",
    "f = ops.aten.from_file",
    "_0 = torch.  # c\n  jit.load(p)",
    "_0 = ops.image.write_file(p, data)",
    // The compiler takes a parenthesised name as the name (a red team's eighteenth round wrote a file so).
    "_0 = (torch).save(x, p)",
    "_0 = ((torch) ).save(x, p)",
    "_0 = (torch.jit).load(p)",
  ]) {
    assert.ok(codeDangers(`def forward(self):\n  ${line}\n`).length > 0, line);
  }
});

test("a # inside a string is text: code after the string on the same line is still read, and a string's words are not comments", () => {
  assert.ok(codeDangers('  x = "#" + "a"; _0 = torch.from_file(p, True, 8)\n').length > 0);
  assert.ok(codeDangers("  x = '\\'#'; _0 = torch.save(x, p)\n").length > 0, "an escaped quote does not end the string");
  assert.ok(codeDangers('  x = """a\n# b\n"""; torch.save(x, p)\n').length > 0, "a triple-quoted string spans lines");
  // Comments and continuations are dropped; each character of the view keeps its place in the source.
  const text = 'a = "#x" # note\nb = 1 \\\nc';
  const { view, origin } = resolveCode(text);
  assert.equal(view, 'a = "#x"\nb = 1 c');
  assert.equal(text[origin[view.indexOf("c")]!], "c");
  assert.deepEqual(codeDangers("  # torch.save(x, p) in a comment\n  return x\n"), []);
});

/** The reasons codeDangers gives for one statement of a method. */
function reasons(line: string): string[] {
  return codeDangers(`def __setstate__(self, state: Tuple[Tensor, bool]) -> NoneType:\n    ${line}\n    return None\n`).map((d) => d.reason);
}

test("names are judged as the compiler resolves them: joined and decoded literals, getattr with a literal name", () => {
  // Each of these wrote a file when torch 2.13's torch.jit.load compiled it (round 20's finding 01 and its variants).
  for (const [line, expected] of [
    ['getattr(torch, "from_" "file")("/tmp/x", True, 46, dtype=0)', ["reaches torch.from_file through getattr on an operator namespace", "reads or writes a file (from_file)"]],
    ['getattr(torch, "sa" "ve")((state)[0], "/tmp/x")', ["reaches torch.save through getattr on an operator namespace", "writes a file (save)"]],
    ['getattr(torch, "save")((state)[0], "/tmp/x")', ["reaches torch.save through getattr on an operator namespace", "writes a file (save)"]],
    ['getattr(torch, "\\163ave")((state)[0], "/tmp/x")', ["reaches torch.save through getattr on an operator namespace", "writes a file (save)"]],
    ['getattr(torch, "sa"\n      "ve")((state)[0], "/tmp/x")', ["reaches torch.save through getattr on an operator namespace", "writes a file (save)"]],
    ['getattr((torch), "save")((state)[0], "/tmp/x")', ["reaches torch.save through getattr on an operator namespace", "writes a file (save)"]],
    ['getattr(ops.aten, "save")((state)[0], "/tmp/x")', ["reaches ops.aten.save through getattr on an operator namespace", "writes a file (save)"]],
  ] as const) {
    assert.deepEqual(reasons(line), expected, line);
  }
});

test("a getattr the compiler may resolve to anything, and operator namespaces held in variables, are reported", () => {
  for (const [line, expected] of [
    ['t = torch\n    t.save((state)[0], "/tmp/x")', ["holds the operator namespace torch as a value, so what it calls is not spelled out"]],
    ['a = ops.aten\n    a.save((state)[0], "/tmp/x")', ["holds the operator namespace ops.aten as a value, so what it calls is not spelled out"]],
    ['a = (ops).aten\n    a.save((state)[0], "/tmp/x")', ["holds the operator namespace ops.aten as a value, so what it calls is not spelled out"]],
    ['g = getattr\n    g(torch, "save")((state)[0], "/tmp/x")', ["holds getattr without calling it, so what it resolves is not spelled out", "holds the operator namespace torch as a value, so what it calls is not spelled out"]],
    ['getattr(torch, name)((state)[0], "/tmp/x")', ["calls getattr with a name that is not one string literal", "holds the operator namespace torch as a value, so what it calls is not spelled out"]],
    ['getattr(torch, "sa" + "ve")((state)[0], "/tmp/x")', ["calls getattr with a name that is not one string literal", "holds the operator namespace torch as a value, so what it calls is not spelled out"]],
  ] as const) {
    assert.deepEqual(reasons(line), expected, line);
  }
});

test("what exported code does with getattr and the operator namespaces passes", () => {
  // torch.jit.save prints attributes whose names are not identifiers (a Sequential's children) through getattr.
  for (const line of [
    '_0 = getattr(self.features, "0")\n    _1 = (getattr(self, "1")).forward(x, )',
    "_2 = torch.add(torch.mul(x, 2), 1)\n    _3 = ops.prim.NumToTensor(1)",
    "_4 = (torch.relu)(x)",
    '_5 = ops.prim.RaiseException("torch = not a module here", "builtins.ValueError")',
    "_6 = self.torch\n    _7 = f(x, ops=1)",
  ]) {
    assert.deepEqual(reasons(line), [], line);
  }
});

test("getattr nested past the bound is reported, not resolved, and deep nesting stays fast", () => {
  const nested = (n: number): string => `${"getattr(".repeat(n)}self${', "a")'.repeat(n)}`;
  assert.deepEqual(reasons(`_0 = ${nested(3)}`), []);
  assert.deepEqual(reasons(`_0 = ${nested(17)}`), ["nests getattr more than 16 deep; what it resolves was not read"]);
  const start = Date.now();
  codeDangers(`_0 = ${"getattr(".repeat(200_000)}self\n`);
  assert.ok(Date.now() - start < 5000, "unclosed nesting is not rescanned at every level");
});
