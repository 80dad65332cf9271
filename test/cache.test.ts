/** Incremental rescans: unchanged files are not analysed again; changed files, new rules or settings are. */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { scanPaths } from "../src/engine.js";
import { parsePolicy, ScanCache } from "../src/policy/index.js";
import { assemble, call1, global, OP } from "./support/pickle.js";

/** Each store's folder and the cache file the tests keep beside it (outside the scanned folder). */
const paths: string[] = [];
after(async () => {
  for (const p of paths) await rm(p, { recursive: true, force: true });
});

async function store(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "modelgate-cache-"));
  paths.push(root, `${root}.cache.json`);
  await writeFile(join(root, "a.pkl"), assemble(OP.PROTO, 2, OP.EMPTY_DICT, OP.STOP));
  await writeFile(join(root, "b.pkl"), assemble(OP.PROTO, 2, call1(global("acme.models", "Net"), "x"), OP.STOP));
  await writeFile(join(root, "c.pkl"), assemble(OP.PROTO, 2, OP.EMPTY_LIST, OP.STOP));
  return root;
}

async function rescan(root: string, cacheFile: string, policyText = ""): Promise<{ cache: ScanCache; rules: string[] }> {
  const { callables } = parsePolicy(policyText, "p.yml");
  const cache = await ScanCache.open(cacheFile, callables);
  const report = await scanPaths([root], { cache, callables });
  await cache.save();
  return { cache, rules: report.files.flatMap((f) => f.findings.map((x) => `${f.path.slice(root.length + 1)}:${x.rule}`)) };
}

describe("result cache", () => {
  it("re-analyses only what changed, with the same findings as a fresh scan", async () => {
    const root = await store();
    const cacheFile = join(root, "..", `${root.split("/").pop()}.cache.json`);
    const first = await rescan(root, cacheFile);
    assert.deepEqual(first.cache.stats, { reused: 0, analysed: 3 });
    const second = await rescan(root, cacheFile);
    assert.deepEqual(second.cache.stats, { reused: 3, analysed: 0 });
    assert.deepEqual(second.rules, first.rules);
    assert.deepEqual(second.rules, ["b.pkl:MG101"]);

    await writeFile(join(root, "c.pkl"), assemble(OP.PROTO, 2, call1(global("posix", "system"), "id"), OP.STOP));
    const third = await rescan(root, cacheFile);
    assert.deepEqual(third.cache.stats, { reused: 2, analysed: 1 });
    assert.deepEqual(third.rules.sort(), ["b.pkl:MG101", "c.pkl:MG100"]);
  });

  it("re-analyses everything under a new rules version, and when the policy's callables change", async () => {
    const root = await store();
    const cacheFile = join(root, "..", `${root.split("/").pop()}.cache.json`);
    await rescan(root, cacheFile);
    const data = JSON.parse(await readFile(cacheFile, "utf8"));
    for (const e of Object.values<{ rulesVersion: string; sha256: string }>(data.entries)) {
      assert.match(e.sha256, /^[0-9a-f]{64}$/);
      e.rulesVersion = "1999.1.1";
    }
    await writeFile(cacheFile, JSON.stringify(data));
    assert.deepEqual((await rescan(root, cacheFile)).cache.stats, { reused: 0, analysed: 3 });

    const allowed = await rescan(root, cacheFile, "callables:\n  allow: [acme.models.Net]\n");
    assert.deepEqual(allowed.cache.stats, { reused: 0, analysed: 3 });
    assert.deepEqual(allowed.rules, []);
  });

  it("starts afresh from a corrupt cache file", async () => {
    const root = await store();
    const cacheFile = join(root, "..", `${root.split("/").pop()}.cache.json`);
    await writeFile(cacheFile, "{ not json");
    assert.deepEqual((await rescan(root, cacheFile)).cache.stats, { reused: 0, analysed: 3 });
  });
});
