/**
 * The launcher's code cache (src/cli/codeCache.ts): used only for the exact source it was made
 * from, ignored when missing or rejected, and the one the build ships fits the bundle it ships.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { cacheToStore, cachedCodeFor, compileCommonJs, runCommonJs } from "../src/cli/codeCache.js";

const BUNDLE = fileURLToPath(new URL("../bundle/", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "modelgate-code-cache-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("the launcher's code cache", () => {
  test("is used only for the source it was made from: a cache of other source of the same length is not", () => {
    const file = join(dir, "same-length.cjs");
    const before = 'module.exports = "made from the old source";';
    const now = 'module.exports = "made from the new source";';
    assert.equal(before.length, now.length);
    const { script } = runCommonJs(file, before);
    writeFileSync(`${file}.cache`, cacheToStore(script, before));
    assert.ok(cachedCodeFor(before, `${file}.cache`), "the cache fits the source it was made from");
    // V8 would take the old cache for the new source (it compares lengths) and run the old code.
    assert.equal(cachedCodeFor(now, `${file}.cache`), undefined);
    assert.equal(runCommonJs(file, now, cachedCodeFor(now, `${file}.cache`)).exports, "made from the new source");
  });

  test("a missing, truncated or rejected cache is a compile from source", () => {
    const file = join(dir, "rejected.cjs");
    const source = "module.exports = 6 * 7;";
    assert.equal(cachedCodeFor(source, join(dir, "none.cache")), undefined);
    writeFileSync(`${file}.cache`, Buffer.alloc(8));
    assert.equal(cachedCodeFor(source, `${file}.cache`), undefined);
    // Made in another process, as the build makes it: this one has not compiled the source, so V8 reads the cache.
    const made = spawnSync(process.execPath, ["--input-type=module", "-e", [
      `import { writeFileSync } from "node:fs";`,
      `import { cacheToStore, runCommonJs } from ${JSON.stringify(new URL("../src/cli/codeCache.js", import.meta.url).href)};`,
      `const source = ${JSON.stringify(source)};`,
      `writeFileSync(${JSON.stringify(`${file}.cache`)}, cacheToStore(runCommonJs(${JSON.stringify(file)}, source).script, source));`,
    ].join("\n")], { encoding: "utf8" });
    assert.equal(made.status, 0, made.stderr);
    // The digest still fits; V8's own header (its version and flags, as another Node's would be) does not.
    const stored = readFileSync(`${file}.cache`);
    stored.fill(0xa5, 20, 36);
    writeFileSync(`${file}.cache`, stored);
    const run = runCommonJs(file, source, cachedCodeFor(source, `${file}.cache`));
    assert.equal(run.script.cachedDataRejected, true);
    assert.equal(run.exports, 42);
  });

  test("runs the module as Node runs CommonJS: its own require, module, __filename and __dirname", () => {
    const file = join(dir, "module.cjs");
    const { exports } = runCommonJs(file, 'module.exports = { file: __filename, dir: __dirname, path: require("node:path").sep, self: typeof exports };');
    assert.deepEqual(exports, { file, dir, path: "/", self: "object" });
  });

  test("the cache the build ships fits the CLI bundle beside it and is accepted by this Node", () => {
    const source = readFileSync(join(BUNDLE, "cli.cjs"), "utf8");
    const cached = cachedCodeFor(source, join(BUNDLE, "cli.cjs.cache"));
    assert.ok(cached, "dist/bundle/cli.cjs.cache is missing or was made from other source");
    // Compiled only, not run: what the launcher would get.
    assert.equal(compileCommonJs(join(BUNDLE, "cli.cjs"), source, cached).cachedDataRejected, false);
  });

  test("the launcher runs the CLI without a cache too (a bare compile, or another Node)", () => {
    // Two levels below a package root, as dist/bundle/ is (src/packageFiles.ts).
    const copy = join(dir, "package", "dist", "bundle");
    cpSync(BUNDLE, copy, { recursive: true });
    cpSync(fileURLToPath(new URL("../../package.json", import.meta.url)), join(dir, "package", "package.json"));
    rmSync(join(copy, "cli.cjs.cache"));
    const run = spawnSync(process.execPath, [join(copy, "modelgate.js"), "--version"], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^\d+\.\d+\.\d+\n$/);
  });
});
