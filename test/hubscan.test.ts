/**
 * `sources.hub_scan`: the hub's own per-file scan (securityFileStatus) as a policy input, against the
 * loopback fake hub with every status the hub reports, the scans behind a status, and none at all.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gatedScan } from "../src/cli/gate.js";
import { UsageError } from "../src/engine.js";
import { hubScanConcern } from "../src/policy/hubScan.js";
import type { FileResult } from "../src/types.js";
import { assemble, OP } from "./support/pickle.js";
import { hubServer, type HubServer } from "./support/http.js";

/** File name in the repository → the hub's securityFileStatus for it (absent: the hub reports none). */
const STATUSES: Record<string, unknown> = {
  "safe.pkl": { status: "safe", safe: true, avScan: { virusFound: false, virusNames: null }, pickleImportScan: { highestSafetyLevel: "innocuous", imports: [] } },
  "plain-safe.pkl": { status: "safe" },
  "unsafe.pkl": { status: "unsafe", safe: false, avScan: { virusFound: false }, pickleImportScan: { highestSafetyLevel: "dangerous", imports: [{ module: "os", name: "system", safety: "dangerous" }] } },
  "caution.pkl": { status: "caution", safe: false, pickleImportScan: { highestSafetyLevel: "suspicious", imports: [] } },
  "unscanned.pkl": { status: "unscanned" },
  "queued.pkl": { status: "queued" },
  "error.pkl": { status: "error" },
  "virus.pkl": { status: "safe", avScan: { virusFound: true, virusNames: ["Win.Test.EICAR_HDB-1"] } },
  "suspicious-imports.pkl": { status: "safe", pickleImportScan: { highestSafetyLevel: "suspicious", imports: [] } },
  "safe-false.pkl": { status: "safe", safe: false },
  "no-status.pkl": { safe: true },
  "not-an-object.pkl": "safe",
};
const MISSING = "missing.pkl";
const CLEARED = new Set(["safe.pkl", "plain-safe.pkl"]);

let hub: HubServer;
let dir: string;

before(async () => {
  const benign = assemble(OP.PROTO, 2, OP.EMPTY_DICT, OP.STOP);
  const files = Object.fromEntries([...Object.keys(STATUSES), MISSING].map((name) => [name, benign]));
  hub = await hubServer([{ id: "acme/scanned", files, security: STATUSES }]);
  dir = await mkdtemp(join(tmpdir(), "modelgate-hubscan-"));
  await writeFile(join(dir, "local.pkl"), benign);
});
after(() => hub.close());
after(() => rm(dir, { recursive: true, force: true }));

async function scanWith(policyText: string, targets = ["hf://acme/scanned"]): Promise<Map<string, FileResult>> {
  const policy = join(dir, `policy-${Math.random().toString(36).slice(2)}.yml`);
  await writeFile(policy, policyText);
  const { report } = await gatedScan(targets, { policy, failOn: "medium", failOnGiven: false }, undefined, { remote: { endpoint: hub.origin, retryDelayMs: 5 } });
  return new Map(report.files.map((f) => [f.path.split("/").pop()!, f]));
}

describe("sources.hub_scan", () => {
  it("require_safe blocks every hub file whose status is not a safe the scans behind it agree with, a missing one included", async () => {
    const files = await scanWith("sources:\n  hub_scan: require_safe\n");
    assert.equal(files.size, Object.keys(STATUSES).length + 1);
    for (const [name, file] of files) {
      assert.deepEqual(file.findings, [], `${name}: the content itself is benign`);
      if (CLEARED.has(name)) assert.deepEqual([name, file.verdict, file.decision?.rule], [name, "pass", "fail_on"]);
      else assert.deepEqual([name, file.verdict, file.decision?.rule], [name, "block", "sources.hub_scan"]);
    }
    const reason = (name: string): string => files.get(name)!.decision!.reason;
    assert.match(reason("unsafe.pkl"), /says "unsafe", not "safe"/);
    assert.match(reason("caution.pkl"), /says "caution"/);
    assert.match(reason("unscanned.pkl"), /says "unscanned"/);
    assert.match(reason("queued.pkl"), /says "queued"/);
    assert.match(reason("error.pkl"), /says "error"/);
    assert.match(reason("virus.pkl"), /antivirus scan found a virus: Win\.Test\.EICAR_HDB-1/);
    assert.match(reason("suspicious-imports.pkl"), /pickle scan rates its imports suspicious/);
    assert.match(reason("safe-false.pkl"), /safe: false/);
    assert.match(reason("no-status.pkl"), /has no status/);
    assert.match(reason("not-an-object.pkl"), /not a scan result/);
    assert.match(reason(MISSING), /reported no security scan/);
  });

  it("warn notes the same concerns and lets the findings decide; ignore (the default) does neither", async () => {
    const warned = await scanWith("sources:\n  hub_scan: warn\n");
    for (const [name, file] of warned) {
      assert.equal(file.verdict, "pass", name);
      assert.equal(file.decision?.notes?.length ?? 0, CLEARED.has(name) ? 0 : 1, name);
    }
    assert.match(warned.get("queued.pkl")!.decision!.notes![0]!, /says "queued"/);
    for (const text of ["sources:\n  hub_scan: ignore\n", "fail_on: medium\n"]) {
      for (const [name, file] of await scanWith(text)) assert.deepEqual([file.verdict, file.decision?.notes], ["pass", undefined], name);
    }
  });

  it("applies to hub files only: a local file passes under require_safe", async () => {
    const files = await scanWith("sources:\n  hub_scan: require_safe\n", [join(dir, "local.pkl")]);
    assert.equal(files.get("local.pkl")!.verdict, "pass");
    assert.equal(hubScanConcern({ path: "x.pkl", format: "pickle", size: 1, findings: [], bytesRead: 1 }), undefined);
  });

  it("blocks on the hub's scan before the file's own findings, and after an untrusted source", async () => {
    const files = await scanWith("sources:\n  trusted: [hf://acme]\n  hub_scan: require_safe\nextensions:\n  block: [.pkl]\n");
    assert.equal(files.get("queued.pkl")!.decision?.rule, "sources.hub_scan");
    assert.equal(files.get("safe.pkl")!.decision?.rule, "extensions.block");
    const untrusted = await scanWith("sources:\n  trusted: [hf://other]\n  hub_scan: require_safe\n");
    assert.equal(untrusted.get("queued.pkl")!.decision?.rule, "sources.untrusted");
  });

  it("an unknown mode is a policy error naming its line", async () => {
    await assert.rejects(scanWith("version: 1\nsources:\n  hub_scan: maybe\n"), (err: Error) => {
      assert.ok(err instanceof UsageError);
      assert.match(err.message, /:3: sources\.hub_scan must be one of require_safe, warn, ignore/);
      return true;
    });
  });
});
