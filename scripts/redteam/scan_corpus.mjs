#!/usr/bin/env node
/**
 * Scans test/fixtures/redteam/ with the built engine (run `npx tsc -p tsconfig.json` first) and prints,
 * per file, what the fixture test would decide: malicious files that pass at the default threshold
 * (medium), pass at --fail-on high, or block without mentioning the expected name; benign files with
 * findings at medium or above. `--json` prints the rows as JSON.
 *
 *   node scripts/redteam/scan_corpus.mjs [--json] [--engine <checkout with a built dist/>]
 *
 * `--engine` scans with another build (e.g. an older commit unpacked with `git archive` and built),
 * still reading this checkout's corpus.
 */
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const at = process.argv.indexOf("--engine");
const ENGINE = at > 0 ? process.argv[at + 1] : ROOT;
const { scanFile } = await import(join(ENGINE, "dist", "src", "engine.js"));
const { atLeast } = await import(join(ENGINE, "dist", "src", "types.js"));
const FIX = join(ROOT, "test", "fixtures");
const manifest = JSON.parse(readFileSync(join(FIX, "redteam", "manifest.json"), "utf8"));

const rows = [];
for (const e of manifest) {
  const r = await scanFile(join(FIX, e.file), e.file);
  const sev = (s) => r.findings.filter((f) => atLeast(f.severity, s));
  const text = r.findings.map((f) => `${f.rule}\n${f.message}\n${f.evidence ?? ""}`).join("\n");
  const missing = e.mentions.filter((m) => !text.includes(m));
  const medium = sev("medium").length > 0;
  const high = sev("high").length > 0;
  let outcome;
  if (e.expect === "block") outcome = !medium ? "PASSES" : missing.length ? "BLOCKS-UNNAMED" : !high ? "BLOCKS-MEDIUM-ONLY" : "blocks";
  else outcome = medium ? "FALSE-POSITIVE" : "passes";
  rows.push({ file: e.file, expect: e.expect, threat: e.threat, outcome, missing,
    findings: r.findings.map((f) => `${f.severity} ${f.rule} ${f.message}`), error: r.error });
}
if (process.argv.includes("--json")) console.log(JSON.stringify(rows, null, 1));
else {
  for (const row of rows) if (row.outcome !== "blocks" && row.outcome !== "passes") {
    console.log(`${row.outcome.padEnd(18)} ${row.file}${row.missing.length ? `  (no finding names ${row.missing.join(", ")})` : ""}`);
    for (const f of row.findings) console.log(`    ${f}`);
  }
  const count = (o) => rows.filter((r) => r.outcome === o).length;
  const mal = rows.filter((r) => r.expect === "block").length;
  console.log(`\n${mal} malicious: ${count("PASSES")} pass at medium, ${count("BLOCKS-MEDIUM-ONLY")} only at medium (pass --fail-on high), ` +
    `${count("BLOCKS-UNNAMED")} block without naming the callee, ${count("blocks")} block at high naming it`);
  console.log(`${rows.length - mal} benign: ${count("FALSE-POSITIVE")} false positives at medium`);
}
