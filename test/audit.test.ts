/** The audit log: one JSON line per decision, whole and never lost with many writers at once. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, it } from "node:test";
import { appendAudit, applyPolicy, auditRecords, defaultPolicy } from "../src/policy/index.js";
import { REPORT_SCHEMA, type ScanReport } from "../src/types.js";
import { tempFolders } from "./support/tempFolders.js";

const AUDIT_MODULE = pathToFileURL(join(import.meta.dirname, "..", "src", "policy", "audit.js")).href;

function run(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "inherit"] });
    child.on("error", reject);
    child.on("exit", (code) => resolve(code ?? -1));
  });
}

describe("audit log", () => {
  const tempFolder = tempFolders("modelgate-audit-");

  it("records time, user, host, target, sha256, verdict, deciding rule and versions", async () => {
    const report: ScanReport = applyPolicy(
      {
        schema: REPORT_SCHEMA,
        tool: { name: "modelgate", version: "0.1.0", rulesVersion: "2026.11.1" },
        verdict: "block",
        failOn: "medium",
        summary: { filesScanned: 1, filesSkipped: 0, filesBlocked: 1, filesErrored: 0, findings: { critical: 1, high: 0, medium: 0, low: 0, info: 0 }, bytesRead: 1, bytesTotal: 1, durationMs: 1 },
        files: [
          {
            path: "m/evil.pkl",
            format: "pickle",
            size: 1,
            verdict: "block",
            bytesRead: 1,
            sha256: "ab".repeat(32),
            findings: [{ rule: "MG100", severity: "critical", message: "calls posix.system", location: { path: "m/evil.pkl" } }],
          },
        ],
      },
      defaultPolicy(),
    );
    const dir = await tempFolder();
    const log = join(dir, "audit.jsonl");
    await writeFile(log, '{"earlier":"line"}\n');
    await appendAudit(log, auditRecords(report, new Date("2026-05-01T10:00:00Z")));
    const lines = (await readFile(log, "utf8")).split("\n");
    assert.equal(lines[0], '{"earlier":"line"}', "earlier lines are never rewritten");
    const record = JSON.parse(lines[1]!);
    assert.equal(record.time, "2026-05-01T10:00:00.000Z");
    assert.equal(typeof record.user, "string");
    assert.equal(typeof record.host, "string");
    assert.deepEqual(
      [record.target, record.sha256, record.verdict, record.rule, record.tool.rulesVersion],
      ["m/evil.pkl", "ab".repeat(32), "block", "fail_on", "2026.11.1"],
    );
    assert.equal(lines.length, 3);
  });

  it("keeps every line whole when many processes append at once", async () => {
    const dir = await tempFolder();
    const log = join(dir, "audit.jsonl");
    const writers = 8;
    const perWriter = 150;
    // Each writer appends its lines one call at a time, padded so that lines are several kilobytes (above PIPE_BUF).
    const script = `
      const { appendAudit } = await import(${JSON.stringify(AUDIT_MODULE)});
      const w = Number(process.argv[1]);
      for (let i = 0; i < ${perWriter}; i++) {
        await appendAudit(process.argv[2], [{ writer: w, i, pad: "x".repeat(5000 + ((w * 131 + i * 17) % 3000)) }]);
      }`;
    const codes = await Promise.all(Array.from({ length: writers }, (_, w) => run(["--input-type=module", "-e", script, String(w), log])));
    assert.deepEqual(codes, new Array(writers).fill(0));
    const text = await readFile(log, "utf8");
    assert.ok(text.endsWith("\n"));
    const lines = text.slice(0, -1).split("\n");
    assert.equal(lines.length, writers * perWriter, "no line lost");
    const seen = new Set<string>();
    for (const line of lines) {
      const r = JSON.parse(line) as { writer: number; i: number; pad: string };
      assert.equal(r.pad.length, 5000 + ((r.writer * 131 + r.i * 17) % 3000), "no line torn");
      seen.add(`${r.writer}:${r.i}`);
    }
    assert.equal(seen.size, writers * perWriter, "no line duplicated");
  });
});
