/**
 * XML model formats (PMML, OpenVINO IR): recognised by the root element, DOCTYPEs that declare
 * external or parameter entities or an external DTD are MG310 high, an unreadable prolog is MG311,
 * OpenVINO layers outside the opsets or naming a library are MG312 medium. Documents are built here.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { scanFile } from "../src/engine.js";
import { scanXmlModel, sniffXmlModel, xmlModelByName } from "../src/formats/xml.js";
import { RULES } from "../src/rules/catalogue.js";
import { BufferSource } from "../src/sources/byteSource.js";
import type { FileResult } from "../src/types.js";
import { RecordingContext, type Reported } from "./support/context.js";

const dir = mkdtempSync(join(tmpdir(), "mg-xml-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const PMML_BODY = '<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/><DataDictionary numberOfFields="0"/></PMML>\n';
const pmml = (doctype = ""): string => `<?xml version="1.0" encoding="UTF-8"?>\n${doctype}${PMML_BODY}`;
const layer = (id: number, type: string, version: string, extra = ""): string => `<layer id="${id}" name="l${id}" type="${type}" version="${version}"${extra}><data/></layer>`;
const ir = (layers: string[]): string => `<?xml version="1.0"?>\n<net name="m" version="11"><layers>${layers.join("")}</layers><edges/></net>\n`;

async function scanText(name: string, text: string | Uint8Array): Promise<FileResult> {
  const path = join(dir, name);
  writeFileSync(path, text);
  return scanFile(path, name);
}

async function reportsOf(text: string): Promise<Reported[]> {
  const ctx = new RecordingContext([], undefined, 0, "model.xml", "model.xml");
  await scanXmlModel(new BufferSource("model.xml", Buffer.from(text)), ctx);
  return ctx.reports;
}

const rules = (r: FileResult): string[] => r.findings.map((f) => `${f.rule} ${f.severity}`);

describe("XML model formats", () => {
  test("the rules' severities", () => {
    assert.equal(RULES.MG310.severity, "high");
    assert.equal(RULES.MG311.severity, "high");
    assert.equal(RULES.MG312.severity, "medium");
  });

  test("recognised by the root element, whatever the name; other XML is not claimed", async () => {
    assert.equal(sniffXmlModel(Buffer.from(pmml())), "pmml");
    assert.equal(sniffXmlModel(Buffer.from(ir([]))), "openvino-ir");
    assert.equal(sniffXmlModel(Buffer.from('<?xml version="1.0"?><!-- c --><pmml:PMML xmlns:pmml="x"/>')), "pmml");
    assert.equal(sniffXmlModel(Buffer.from('<?xml version="1.0"?><svg/>')), undefined);
    assert.equal(sniffXmlModel(Buffer.from("PMML")), undefined);
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(pmml(), "utf16le")]);
    assert.equal(sniffXmlModel(utf16), "pmml");
    assert.equal((await scanText("model.bin.txt", pmml())).format, "pmml");
  });

  test("a plain PMML model and an OpenVINO IR of opset layers pass", async () => {
    const a = await scanText("plain.pmml", pmml());
    assert.deepEqual(rules(a), []);
    assert.equal(a.verdict, "pass");
    const b = await scanText("plain.xml", ir([layer(0, "Parameter", "opset1"), layer(1, "Relu", "opset1"), layer(2, "Result", "opset13"), '<layer id="3" name="old" type="Const"/>']));
    assert.equal(b.format, "openvino-ir");
    assert.deepEqual(rules(b), []);
  });

  test("external entities, parameter entities and external DTDs are MG310 high; internal entities are not", async () => {
    const system = await scanText("xxe.pmml", pmml('<!DOCTYPE PMML [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>\n'));
    assert.deepEqual(rules(system), ["MG310 high"]);
    assert.match(system.findings[0]!.message, /entity xxe SYSTEM "file:\/\/\/etc\/hostname"/);
    assert.equal(system.verdict, "block");

    const param = await reportsOf(pmml("<!DOCTYPE PMML [\n  <!ENTITY % remote SYSTEM 'http://example.invalid/x.dtd'>\n  %remote;\n]>\n"));
    assert.deepEqual(param.map((r) => r.rule), ["MG310"]);
    assert.match(param[0]!.message, /parameter entity remote SYSTEM "http:\/\/example\.invalid\/x\.dtd"/);

    const pub = await reportsOf(pmml('<!DOCTYPE PMML [<!entity x public "-//A//B" "http://example.invalid/b">]>'));
    assert.match(pub[0]!.message, /entity x PUBLIC "http:\/\/example\.invalid\/b"/);

    const dtd = await reportsOf(pmml('<!DOCTYPE PMML SYSTEM "http://example.invalid/pmml.dtd">'));
    assert.match(dtd[0]!.message, /external DTD SYSTEM "http:\/\/example\.invalid\/pmml\.dtd"/);

    const internal = await reportsOf(pmml('<!DOCTYPE PMML [<!ENTITY v "4.4"><!ELEMENT PMML ANY>]>'));
    assert.deepEqual(internal, []);
  });

  test("a '>' inside the subset's quoted strings or comments does not end the DOCTYPE early", async () => {
    const doctype = '<!DOCTYPE PMML [<!ENTITY a "x>y"><!-- ]> --><!ENTITY b SYSTEM "file:///etc/passwd">]>';
    const r = await reportsOf(pmml(doctype));
    assert.deepEqual(r.map((x) => x.rule), ["MG310"]);
    assert.match(r[0]!.message, /entity b SYSTEM/);
  });

  test("an OpenVINO IR DOCTYPE is checked too", async () => {
    const r = await scanText("xxe.xml", `<?xml version="1.0"?><!DOCTYPE net [<!ENTITY e SYSTEM "file:///etc/passwd">]>${ir([]).slice(22)}`);
    assert.equal(r.format, "openvino-ir");
    assert.deepEqual(rules(r), ["MG310 high"]);
  });

  test("a prolog longer than the head is found by the extension and checked; longer than the bound is MG311", async () => {
    const padding = `<!-- ${"x".repeat(8000)} -->\n`;
    const long = `<?xml version="1.0"?>\n${padding}<!DOCTYPE PMML [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>\n${PMML_BODY}`;
    assert.equal(xmlModelByName(Buffer.from(long).subarray(0, 4096), "model.pmml"), "pmml");
    assert.equal(xmlModelByName(Buffer.from(long).subarray(0, 4096), "notes.txt"), undefined);
    assert.deepEqual(rules(await scanText("long.pmml", long)), ["MG310 high"]);

    const huge = `<?xml version="1.0"?>\n<!-- ${"x".repeat(1024 * 1024 + 10)} -->\n${PMML_BODY}`;
    assert.deepEqual(rules(await scanText("huge.pmml", huge)), ["MG311 high"]);
    assert.deepEqual((await reportsOf('<?xml version="1.0"?>\n<!DOCTYPE PMML [')).map((r) => r.rule), ["MG311"]);
  });

  test("OpenVINO extension layers and libraries are MG312 medium, grouped by type", async () => {
    const layers = [layer(0, "Parameter", "opset1"), layer(1, "custom", "extension", ' library="/tmp/libharmless.so"'), layer(2, "custom", "extension"), layer(3, "MyOp", "custom_opset")];
    const r = await scanText("ext.xml", ir(layers));
    assert.deepEqual(rules(r), ["MG312 medium", "MG312 medium", "MG312 medium"]);
    const messages = r.findings.map((f) => f.message).join("\n");
    assert.match(messages, /2 layer\(s\) of type custom \(extension\)/);
    assert.match(messages, /1 layer\(s\) of type MyOp \(custom_opset\)/);
    assert.match(messages, /library "\/tmp\/libharmless\.so" on 1 element/);
  });

  test("layers are read across chunk boundaries, and many layers stay one finding", async () => {
    const many = Array.from({ length: 30_000 }, (_, i) => layer(i, i % 2 ? "Relu" : "Weird", i % 2 ? "opset1" : "ext"));
    const r = await reportsOf(ir(many));
    assert.deepEqual(r.map((x) => x.rule), ["MG312"]);
    assert.match(r[0]!.message, /15000 layer\(s\) of type Weird \(ext\)/);
    assert.match(r[0]!.extra.evidence ?? "", /and 14990 more$/);
  });

  test("a start tag longer than the bound stops the layer check with MG311", async () => {
    const r = await reportsOf(`<?xml version="1.0"?><net name="m"><layers><layer id="0" name="${"n".repeat(2 * 1024 * 1024)}`);
    assert.deepEqual(r.map((x) => x.rule), ["MG311"]);
  });
});

describe("XML on hostile input", () => {
  test("a DOCTYPE of many unterminated entity declarations is read in linear work", async () => {
    // Quadratic matching would take some 10^10 steps here; the watchdog is generous, the work bounded by construction.
    const subset = `<!ENTITY x SYSTEM "${"a".repeat(64)}`.repeat(15_000);
    const started = process.cpuUsage();
    const r = await reportsOf(pmml(`<!DOCTYPE PMML [${subset}]>`));
    const cpu = process.cpuUsage(started);
    // The open quotes never close, so the DOCTYPE does not end either: what was read is judged, the rest is MG311.
    assert.deepEqual(r.map((x) => x.rule), ["MG310", "MG311"]);
    assert.match(r[0]!.message, /and \d+ more/);
    assert.ok(cpu.user + cpu.system < 20_000_000, `CPU ${cpu.user + cpu.system} µs`);
  });
});
