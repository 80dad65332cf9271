/**
 * Modules shipped with a model that take a loader's module's place where Python starts: inside an
 * archive (the repository checks never see its members), and beside a file scanned alone (red team
 * round 35: model.joblib with Helpers.py, which pickle.load imports from a joblib file's inline array).
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { after, before, test } from "node:test";
import { scanPaths } from "../src/engine.js";
import { run7z } from "../src/formats/sevenzip.js";
import type { ScanReport } from "../src/types.js";
import { tar } from "./support/tar.js";
import { plainZip } from "./support/zip.js";

const FIXTURES = join(import.meta.dirname, "..", "..", "test", "fixtures");
const CODE = Buffer.from("import os\nos.system('id')\n");

let dir: string;
let joblibFile: Buffer;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "modelgate-extracted-"));
  // A real joblib.dump (joblib 1.6): its inline array is what pickle.load reads with a class-named module.
  joblibFile = await readFile(join(FIXTURES, "joblib-objects", "toplevel.joblib"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Each finding as "rule:severity member", the member being the last step of its chain. */
function findings(report: ScanReport): string[] {
  return report.files.flatMap((f) => f.findings.map((x) => `${x.rule}:${x.severity} ${x.location.member?.split(" > ").at(-1) ?? ""}`.trim()));
}

async function scanBytes(name: string, bytes: Uint8Array): Promise<ScanReport> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return scanPaths([path]);
}

function zipOf(members: Record<string, Uint8Array>): Buffer {
  return plainZip(Object.entries(members).map(([name, data]) => ({ name, data, method: 8 })));
}

test("a module an archive would extract beside its model, in place of one loading it imports, is high in zip, tar and 7z", async () => {
  const members = { "model.joblib": joblibFile, "Helpers.py": CODE };
  const sevenZip = await run7z(["a", "-t7z", "bundle.7z", "model.joblib", "Helpers.py"], members);
  assert.ok(sevenZip.ok, sevenZip.error);
  for (const [name, bytes] of [
    ["bundle.zip", zipOf(members)],
    ["bundle.tar", tar(members)],
    ["bundle.7z", sevenZip.fs.readFile("/mg/bundle.7z")],
  ] as const) {
    const report = await scanBytes(name, bytes);
    assert.deepEqual(findings(report), ["MG271:high Helpers.py"], name);
    assert.match(report.files[0]!.findings[0]!.message, /member "Helpers\.py" is Python code; extracted, it takes the place of a Helpers module that pickle\.load/, name);
    // The model alone in the archive passes: the finding is the module's.
    assert.equal((await scanBytes(`alone-${name}`, name.endsWith(".zip") ? zipOf({ "model.joblib": joblibFile }) : tar({ "model.joblib": joblibFile }))).verdict, "pass");
  }
});

test("in an archive, standard and loader modules, packages and native modules count; so do names extraction rewrites", async () => {
  const elf = Buffer.from("\x7fELF\x02\x01\x01\0", "latin1");
  const report = await scanBytes(
    "many.tar",
    tar({
      "./model.pkl": Buffer.from([0x80, 0x04, 0x4e, 0x2e]),
      "./numpy.py": CODE,
      "sklearn/__init__.pyc": CODE,
      "__future__.cpython-311-x86_64-linux-gnu.so": elf,
      "../../pickle.py": CODE,
      "utils.py": CODE,
      "train.py": CODE,
    }),
  );
  assert.deepEqual(
    findings(report).filter((f) => f.startsWith("MG271")).sort(),
    ["MG271:high ../../pickle.py", "MG271:high ./numpy.py", "MG271:high __future__.cpython-311-x86_64-linux-gnu.so", "MG271:high sklearn/__init__.pyc"],
  );
});

test("in a subfolder of an archive, a module counts where a model sits beside it, by name or by content", async () => {
  const zlibJoblib = deflateSync(Buffer.from([0x80, 0x04, 0x4e, 0x2e]));
  const report = await scanBytes(
    "folders.zip",
    zipOf({
      "named/model.sav": Buffer.from([0x80, 0x04, 0x4e, 0x2e]),
      "named/Helpers.py": CODE,
      // joblib inflates a compressed pickle whatever its name.
      "content/weights.blob": zlibJoblib,
      "content/DataFrame.py": CODE,
      "notes/numpy.py": CODE,
      "notes/readme.txt": Buffer.from("notes\n"),
    }),
  );
  assert.deepEqual(findings(report).filter((f) => f.startsWith("MG271")).sort(), ["MG271:high content/DataFrame.py", "MG271:high named/Helpers.py"]);
});

test("a TorchScript archive's own code and a checkpoint's storages are no modules beside a model", async () => {
  for (const file of [join("zoo", "torch2", "torchscript", "scripted_sequential.pt"), join("zoo", "torch1-debian", "torchscript", "scripted_sequential.pt")]) {
    const report = await scanPaths([join(FIXTURES, file)]);
    assert.deepEqual(findings(report).filter((f) => f.startsWith("MG271")), [], file);
  }
});

test("a model file scanned alone is blocked by a module beside it that takes a loader's module's place", async () => {
  const folder = join(dir, "alone");
  await mkdir(folder);
  const model = join(folder, "model.joblib");
  await writeFile(model, joblibFile);
  assert.equal((await scanPaths([model])).verdict, "pass");
  await writeFile(join(folder, "utils.py"), CODE);
  await writeFile(join(folder, "notes.txt"), "notes\n");
  assert.equal((await scanPaths([model])).verdict, "pass", "an ordinary module name replaces nothing a loader imports");

  await writeFile(join(folder, "Helpers.py"), CODE);
  let report = await scanPaths([model]);
  assert.equal(report.verdict, "block");
  assert.deepEqual(findings(report), ["MG271:high"]);
  assert.match(report.files[0]!.findings[0]!.message, /Helpers\.py" is Python code; it takes the place of a Helpers module/);
  await rm(join(folder, "Helpers.py"));

  // A package, and a link to a folder that Python imports as one.
  await mkdir(join(folder, "numpy"));
  await writeFile(join(folder, "numpy", "__init__.py"), CODE);
  report = await scanPaths([model]);
  assert.deepEqual(findings(report), ["MG271:high"]);
  await rm(join(folder, "numpy"), { recursive: true });
  await mkdir(join(dir, "elsewhere"));
  await symlink(join(dir, "elsewhere"), join(folder, "sklearn"));
  report = await scanPaths([model]);
  assert.deepEqual(findings(report), ["MG271:high"]);
  assert.match(report.files[0]!.findings[0]!.message, /link to a folder Python can import as a package/);

  // What is not a model gets no such check: its folder is not where a model is loaded from.
  const readme = join(folder, "README.md");
  await writeFile(readme, "# notes\n");
  assert.deepEqual(findings(await scanPaths([readme])), []);
});
