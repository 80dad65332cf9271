/**
 * torch.package (round 20's finding 02): PackageImporter imports a pickled name's module from the
 * package's own sources, so a package that carries Python modules is high whatever its pickles
 * name, as an archive (MG127) and as a folder (MG271). Fixtures by scripts/make_torch_package_fixtures.py.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { scanFile } from "../src/engine.js";
import { isPackagedModule, torchPackageRoots } from "../src/formats/torchPackage.js";
import { scanRepository } from "../src/repo/checks.js";
import { atLeast } from "../src/types.js";

const FIXTURES = join(import.meta.dirname, "..", "..", "test", "fixtures");

async function loud(rel: string): Promise<[string, string, string, string | undefined][]> {
  const result = await scanFile(join(FIXTURES, rel), rel);
  return result.findings.filter((f) => atLeast(f.severity, "medium")).map((f) => [f.rule, f.severity, f.message, f.evidence]);
}

test("a package root is a folder holding .data/extern_modules (any case, as PyTorch's zip reader looks it up); its .py files are its modules", () => {
  const names = ["archive/.data/extern_modules", "archive/model/model.pkl", "archive/collections/__init__.py", "archive/notes.txt", "other/x.py"];
  assert.deepEqual(torchPackageRoots(names), ["archive/"]);
  assert.deepEqual(torchPackageRoots([".data/extern_modules", "a.py"]), [""]);
  assert.deepEqual(torchPackageRoots(["Archive/.DATA/Extern_Modules"]), ["Archive/"]);
  assert.deepEqual(torchPackageRoots(["archive/.data/version", "archive/data.pkl"]), [], "a TorchScript archive's .data/ is no package");
  assert.deepEqual(names.filter((n) => isPackagedModule(n, ["archive/"])), ["archive/collections/__init__.py"]);
});

test("a torch.package archive with its own modules is MG127 (high), an allowed pickle name included", async () => {
  assert.deepEqual(await loud("torch-package/shadowed_collections.pt"), [
    ["MG127", "high", "torch.package archive carries 1 Python module: torch.package imports it when a pickle in the package names its module, allowed names included", "archive/collections/__init__.py"],
  ]);
  assert.deepEqual(await loud("torch-package/interned_model.pt"), [
    ["MG127", "high", "torch.package archive carries 1 Python module: torch.package imports it when a pickle in the package names its module, allowed names included", "archive/tiny.py"],
    // The pickle's own name is judged too: the packaged class is unknown to the allowlist.
    ["MG102", "high", "constructs tiny.Tiny, which is not on the allowlist (an imported name can end up invoked)", "tiny.Tiny() via NEWOBJ"],
  ]);
});

test("benign twin: a package whose modules are all extern carries no code and passes", async () => {
  assert.deepEqual(await loud("torch-package/externed.pt"), []);
});

test("a torch.package folder (PackageImporter's DirectoryReader): its Python files are high MG271", async () => {
  const seen: [string, string | undefined, string, string][] = [];
  await scanRepository(join(FIXTURES, "repos", "torch_package_folder"), (rule, message, path, extra) => seen.push([rule, extra?.severity, message, path]));
  assert.deepEqual(seen, [
    ["MG271", "high", '"model_pkg/collections/__init__.py" is Python code; torch.package imports it when a pickle in the package names its module', "model_pkg/collections/__init__.py"],
  ]);
});
