/** The README documents every rule id of the catalogue, so the two cannot drift apart. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { RULES, RULE_IDS } from "../src/rules/catalogue.js";

test("the README's rule table lists every rule with its name and severity", () => {
  const readme = readFileSync(join(import.meta.dirname, "..", "..", "README.md"), "utf8");
  for (const id of RULE_IDS) {
    const rule = RULES[id];
    assert.ok(readme.includes(`| ${id} | ${rule.name} | ${rule.severity} |`), `README misses ${id}`);
  }
});
