/**
 * Every committed fixture, made by the real libraries (scripts/make_fixtures.py), scanned through
 * the engine: benign files must have no finding at medium or above, malicious ones must block and
 * name the callables they import.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { scanFile } from "../src/engine.js";
import { atLeast } from "../src/types.js";

interface FixtureEntry {
  file: string;
  expect: "pass" | "block";
  threat: string | null;
  mentions: string[];
  note?: string;
}

const ROOT = join(import.meta.dirname, "..", "..", "test", "fixtures");
/** The pickle fixtures' manifest, then one per format family (`<family>/manifest.json`). */
/** test/zoo.test.ts judges the benign zoo as a whole (with its list of files still known to block), so it is not repeated here. */
const manifests = ["manifest.json", ...readdirSync(ROOT, { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== "zoo" && existsSync(join(ROOT, d.name, "manifest.json"))).map((d) => join(d.name, "manifest.json"))];
const manifest = manifests.flatMap((m) => JSON.parse(readFileSync(join(ROOT, m), "utf8")) as FixtureEntry[]);

test("the manifest covers benign files and every P-item of THREATS.md", () => {
  assert.ok(manifest.filter((e) => e.expect === "pass").length >= 50);
  const threats = new Set(manifest.map((e) => e.threat));
  for (const p of ["P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P8b", "P9", "P10", "P11", "P12", "P13", "P14", "P15", "P15b", "P16", "P17", "P18"]) {
    assert.ok(threats.has(p), `no fixture for ${p}`);
  }
});

for (const entry of manifest) {
  test(`${entry.expect === "pass" ? "passes" : "blocks"} ${entry.file}${entry.threat ? ` (${entry.threat})` : ""}`, async () => {
    const result = await scanFile(join(ROOT, entry.file), entry.file);
    const loud = result.findings.filter((f) => atLeast(f.severity, "medium"));
    const shown = JSON.stringify(result.findings.map((f) => [f.rule, f.severity, f.message, f.evidence]), null, 1);
    assert.equal(result.error, undefined);
    assert.ok(!result.findings.some((f) => f.rule === "MG160"), `internal error: ${shown}`);
    if (entry.expect === "pass") {
      assert.equal(result.skipped, undefined, `benign fixture was skipped, not scanned`);
      assert.deepEqual(loud, [], `benign fixture has findings: ${shown}`);
      assert.equal(result.verdict, "pass");
    } else {
      assert.ok(loud.length > 0, `malicious fixture passed: ${shown}`);
      assert.equal(result.verdict, "block");
      // Raw text, not JSON: names with backslashes must match as written.
      const text = result.findings.map((f) => `${f.rule}\n${f.message}\n${f.evidence ?? ""}\n${f.location.member ?? ""}`).join("\n");
      for (const name of entry.mentions) assert.ok(text.includes(name), `no finding mentions ${name}: ${shown}`);
    }
  });
}
