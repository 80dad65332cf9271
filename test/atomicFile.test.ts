/** writeFileAtomic (src/atomicFile.ts): the old file or the whole new one, and no temp file left behind. */
import assert from "node:assert/strict";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { writeFileAtomic } from "../src/atomicFile.js";
import { tempFolders } from "./support/tempFolders.js";

const folder = tempFolders("modelgate-atomic-");

test("replaces a file whole, durable or not, with the mode asked for a new one", async () => {
  const d = await folder();
  const path = join(d, "report.json");
  await writeFile(path, "old");
  await writeFileAtomic(path, "new");
  assert.equal(await readFile(path, "utf8"), "new");
  const sidecar = join(d, "entry.json");
  await writeFileAtomic(sidecar, "{}", { durable: true, mode: 0o600 });
  assert.equal(await readFile(sidecar, "utf8"), "{}");
  assert.equal((await stat(sidecar)).mode & 0o777, 0o600);
  assert.deepEqual((await readdir(d)).sort(), ["entry.json", "report.json"]);
});

test("a write that fails at the rename leaves the target as it was and no temp file", async () => {
  const d = await folder();
  // A folder with something in it cannot be renamed over.
  const target = join(d, "taken");
  await mkdir(target);
  await writeFile(join(target, "inside"), "x");
  for (const durable of [false, true]) {
    await assert.rejects(writeFileAtomic(target, "new", { durable }));
    assert.deepEqual(await readdir(d), ["taken"]);
  }
});
