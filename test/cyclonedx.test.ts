/**
 * --format cyclonedx: a CycloneDX 1.6 ML-BOM, validated against the JSON schema the CycloneDX library
 * ships (its strict validator, with ajv, offline).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Spec, Validation } from "@cyclonedx/cyclonedx-library";
import { gatedScan } from "../src/cli/gate.js";
import { renderCycloneDx } from "../src/report/cyclonedx.js";
import { assemble, call1, global, OP } from "./support/pickle.js";
import { hubServer, type HubServer } from "./support/http.js";

const ROOT = join(import.meta.dirname, "..", "..");
const MAIN = join(ROOT, "dist", "src", "cli", "main.js");

interface Bom {
  specVersion: string;
  serialNumber: string;
  metadata: { tools: { components: { name: string }[] }; properties: Property[] };
  components: Component[];
}
interface Property {
  name: string;
  value: string;
}
interface Component {
  type: string;
  name: string;
  group?: string;
  version?: string;
  purl?: string;
  "bom-ref": string;
  hashes?: { alg: string; content: string }[];
  externalReferences?: { type: string; url: string }[];
  properties: Property[];
}

const validator = new Validation.JsonStrictValidator(Spec.Version.v1dot6);

/** The schema's verdict: null when the document is valid. */
async function schemaErrors(json: string): Promise<unknown> {
  return validator.validate(json);
}

const values = (c: { properties: Property[] }, name: string): string[] => c.properties.filter((p) => p.name === `modelgate:${name}`).map((p) => p.value);

function run(cwd: string, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd, env: { ...process.env, NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

let hub: HubServer;
const EVIL = assemble(OP.PROTO, 2, call1(global("posix", "system"), "echo hi"), OP.STOP);
before(async () => {
  hub = await hubServer([
    {
      id: "acme/bom",
      files: { "model.pkl": EVIL, "config.json": Buffer.from('{"model_type": "bert"}') },
      security: { "model.pkl": { status: "unsafe" } },
      lfs: ["model.pkl"],
    },
  ]);
});
after(() => hub.close());

describe("--format cyclonedx", () => {
  it("`modelgate scan examples --format cyclonedx` is valid CycloneDX 1.6, one component per file with its sha256, verdict and findings", async () => {
    const r = await run(ROOT, "scan", "examples", "--format", "cyclonedx");
    assert.equal(r.status, 1, r.stderr);
    assert.equal(await schemaErrors(r.stdout), null);
    const bom = JSON.parse(r.stdout) as Bom;
    assert.equal(bom.specVersion, "1.6");
    assert.match(bom.serialNumber, /^urn:uuid:[0-9a-f-]{36}$/);
    assert.deepEqual(bom.metadata.tools.components.map((t) => t.name), ["modelgate"]);
    assert.deepEqual(values(bom.metadata, "verdict"), ["block"]);
    const json = JSON.parse((await run(ROOT, "scan", "examples", "--format", "json")).stdout) as { files: { path: string; verdict: string; findings: { rule: string }[] }[] };
    assert.deepEqual(bom.components.map((c) => c["bom-ref"]).sort(), json.files.map((f) => f.path).sort());
    for (const file of json.files) {
      const c = bom.components.find((x) => x["bom-ref"] === file.path)!;
      const sha256 = createHash("sha256").update(await readFile(join(ROOT, file.path))).digest("hex");
      assert.deepEqual(c.hashes, [{ alg: "SHA-256", content: sha256 }], file.path);
      assert.deepEqual(values(c, "verdict"), [file.verdict], file.path);
      assert.deepEqual(values(c, "finding").map((v) => v.split(" ")[0]).sort(), file.findings.map((f) => f.rule).sort(), file.path);
    }
    const shell = bom.components.find((c) => c.name === "examples/reverse_shell.pkl")!;
    assert.equal(shell.type, "machine-learning-model");
    assert.ok(values(shell, "finding").some((v) => /^MG100 critical @\d+: calls posix\.system/.test(v)), values(shell, "finding").join("\n"));
  });

  it("hub files carry their repository, commit, purl, download URL and the hub's own scan; configs are files", async () => {
    const { report } = await gatedScan(["hf://acme/bom"], { failOn: "medium", failOnGiven: false }, undefined, { remote: { endpoint: hub.origin, retryDelayMs: 5 } });
    const text = renderCycloneDx(report, { serialNumber: "urn:uuid:00000000-0000-4000-8000-000000000000", now: new Date("2026-12-01T00:00:00Z") });
    assert.equal(await schemaErrors(text), null);
    const bom = JSON.parse(text) as Bom;
    const commit = hub.commitOf("acme/bom");
    const model = bom.components.find((c) => c.name === "model.pkl")!;
    assert.deepEqual([model.type, model.group, model.version], ["machine-learning-model", "acme/bom", commit]);
    assert.equal(model.purl, `pkg:huggingface/acme/bom@${commit}?repository_url=${encodeURIComponent(hub.origin)}#model.pkl`);
    assert.deepEqual(model.hashes, [{ alg: "SHA-256", content: createHash("sha256").update(EVIL).digest("hex") }]);
    assert.deepEqual(model.externalReferences?.map((e) => e.type), ["distribution"]);
    assert.match(model.externalReferences![0]!.url, new RegExp(`/acme/bom/resolve/${commit}/model\\.pkl$`));
    assert.deepEqual(values(model, "source.hubSecurityStatus"), ['{"status":"unsafe"}']);
    assert.deepEqual(values(model, "decision.rule"), ["fail_on"]);
    const config = bom.components.find((c) => c.name === "config.json")!;
    assert.equal(config.type, "file");
    // The same report, rendered twice with the same serial number and time, is the same document.
    assert.equal(renderCycloneDx(report, { serialNumber: "urn:uuid:00000000-0000-4000-8000-000000000000", now: new Date("2026-12-01T00:00:00Z") }), text);
  });

  it("the schema check can fail: a component without a name, or of an unknown type, is rejected", async () => {
    const { report } = await gatedScan(["hf://acme/bom"], { failOn: "medium", failOnGiven: false }, undefined, { remote: { endpoint: hub.origin, retryDelayMs: 5 } });
    const bom = JSON.parse(renderCycloneDx(report)) as Bom;
    bom.components[0]!.type = "neural-net";
    assert.notEqual(await schemaErrors(JSON.stringify(bom)), null);
    bom.components[0]!.type = "file";
    delete (bom.components[0] as Partial<Component>).name;
    assert.notEqual(await schemaErrors(JSON.stringify(bom)), null);
  });
});
