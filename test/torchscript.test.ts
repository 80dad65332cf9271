/** TorchScript source checks (MG122): what exported code really contains passes, machinery does not. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { codeDangers } from "../src/formats/torchscript.js";

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
