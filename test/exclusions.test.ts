/**
 * Which .modelgateignore a folder walk honours: the working folder's, for the folders scanned inside
 * it; never one inside the scanned folder, which a downloaded model could ship to hide its payload.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { UsageError } from "../src/errors.js";
import { IGNORE_FILE, PathFilter } from "../src/exclusions.js";

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A working folder with `files` (path → text) written under it. */
function folder(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "modelgate-exclusions-"));
  dirs.push(root);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return root;
}

describe("the ignore file a folder walk honours", () => {
  it("the working folder's, with its patterns relative to the working folder, for a root that is the working folder or inside it", async () => {
    const work = folder({ [IGNORE_FILE]: "models/extra.pt\n*.tmp\nfixtures/\n", "models/model.pt": "" });
    const atRoot = await PathFilter.forRoot(work, { workingFolder: work });
    assert.equal(atRoot.excludedBy("models/extra.pt", false), IGNORE_FILE);
    assert.equal(atRoot.excludedBy("fixtures", true), IGNORE_FILE);
    assert.equal(atRoot.excludedBy("models/model.pt", false), undefined);

    const below = await PathFilter.forRoot(join(work, "models"), { workingFolder: work });
    assert.equal(below.excludedBy("extra.pt", false), IGNORE_FILE);
    assert.equal(below.excludedBy("run/x.tmp", false), IGNORE_FILE);
    assert.equal(below.excludedBy("model.pt", false), undefined);
    // "models/extra.pt" is anchored at the working folder: nothing of that name deeper down matches it.
    assert.equal(below.excludedBy("models/extra.pt", false), undefined);
  });

  it("never one inside the scanned folder: a model that ships a .modelgateignore listing its payload hides nothing", async () => {
    const work = folder({ [`downloads/m/${IGNORE_FILE}`]: "*\n", "downloads/m/pytorch_model.bin": "" });
    for (const root of [join(work, "downloads/m"), join(work, "downloads")]) {
      const filter = await PathFilter.forRoot(root, { workingFolder: work });
      assert.equal(filter.excludedBy("pytorch_model.bin", false), undefined);
      assert.equal(filter.excludedBy("m/pytorch_model.bin", false), undefined);
    }
  });

  it("none for a root outside the working folder, not even a sibling whose name starts with ..", async () => {
    const base = folder({ [`work/${IGNORE_FILE}`]: "*.bin\n", "elsewhere/a.bin": "", "work/..odd/a.bin": "" });
    const outside = await PathFilter.forRoot(join(base, "elsewhere"), { workingFolder: join(base, "work") });
    assert.equal(outside.excludedBy("a.bin", false), undefined);
    const odd = await PathFilter.forRoot(join(base, "work/..odd"), { workingFolder: join(base, "work") });
    assert.equal(odd.excludedBy("a.bin", false), IGNORE_FILE);
  });

  it("a root the ignore file lists was named on purpose and is walked whole", async () => {
    const work = folder({ [IGNORE_FILE]: "examples/\n*.tmp\n", "examples/reverse_shell.pkl": "" });
    const named = await PathFilter.forRoot(join(work, "examples"), { workingFolder: work });
    assert.equal(named.excludedBy("reverse_shell.pkl", false), undefined);
    assert.equal(named.excludedBy("x.tmp", false), undefined);
  });

  it("none without a working folder (the library's default; verify walks by what its lock recorded)", async () => {
    const work = folder({ [IGNORE_FILE]: "*.pt\n" });
    const filter = await PathFilter.forRoot(work);
    assert.equal(filter.excludedBy("a.pt", false), undefined);
    assert.equal(filter.excludedBy(".git", true), "default");
  });

  it("compares real paths: a root that is a link to elsewhere is walked whole, one reached through a linked working folder is not", async () => {
    const base = folder({ [`work/${IGNORE_FILE}`]: "*.bin\n", "elsewhere/a.bin": "", "work/models/a.bin": "" });
    symlinkSync(join(base, "elsewhere"), join(base, "work", "dl"));
    symlinkSync(join(base, "work"), join(base, "work-link"));
    const linkedRoot = await PathFilter.forRoot(join(base, "work", "dl"), { workingFolder: join(base, "work") });
    assert.equal(linkedRoot.excludedBy("a.bin", false), undefined);
    const viaLinkedWorking = await PathFilter.forRoot(join(base, "work", "models"), { workingFolder: join(base, "work-link") });
    assert.equal(viaLinkedWorking.excludedBy("a.bin", false), IGNORE_FILE);
  });

  it("a default name leaves out folders and links: a regular file of that name is examined", async () => {
    const filter = await PathFilter.forRoot(folder({}));
    assert.equal(filter.excludedBy("__pycache__", true), "default");
    assert.equal(filter.excludedBy("m/.venv", false, true), "default");
    assert.equal(filter.excludedBy("__pycache__", false), undefined);
    assert.equal(filter.excludedBy("m/venv", false), undefined);
  });

  it("an ignore file that is not a small regular file is a usage error, not a wait or a flood", async () => {
    const work = folder({});
    execFileSync("mkfifo", [join(work, IGNORE_FILE)]);
    await assert.rejects(PathFilter.forRoot(work, { workingFolder: work }), (err: Error) => err instanceof UsageError && /not a regular file/.test(err.message));
    rmSync(join(work, IGNORE_FILE));
    writeFileSync(join(work, IGNORE_FILE), Buffer.alloc(1024 * 1024 + 1, 0x0a));
    await assert.rejects(PathFilter.forRoot(work, { workingFolder: work }), /larger than/);
  });
});
