/** TorchScript source checks (MG122): what exported code really contains passes, machinery does not. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { codeDangers, codeView } from "../src/formats/torchscript.js";

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
  // Only comments and continuations are blanked, to the same length.
  const text = 'a = "#x" # note\nb = 1 \\\nc';
  assert.equal(codeView(text), 'a = "#x"       \nb = 1  \nc');
  assert.deepEqual(codeDangers("  # torch.save(x, p) in a comment\n  return x\n"), []);
});
