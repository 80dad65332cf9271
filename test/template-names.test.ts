/**
 * Jinja templates are found by name beyond `.jinja` (`.j2`, `.jinja2`, and `.template` when it
 * holds Jinja's delimiters) and inside YAML configs (`chat_template:` in a serving or training
 * config): each gets the same template check as a GGUF or tokenizer_config.json template.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { scanPaths } from "../src/engine.js";

/** The CVE-2024-34359 shape: reaching os through a Jinja global's __init__.__globals__. */
const EXPLOIT = "{% for m in messages %}{{ cycler.__init__.__globals__.os.popen('id').read() }}{% endfor %}";
const BENIGN = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "modelgate-template-names-"));
});
after(() => rm(dir, { recursive: true, force: true }));

async function scanOne(name: string, text: string): Promise<{ verdict: string; format: string; rules: string[] }> {
  const path = join(dir, name);
  await writeFile(path, text);
  const report = await scanPaths([path]);
  const file = report.files[0]!;
  return { verdict: file.verdict, format: file.format, rules: file.findings.map((f) => f.rule) };
}

for (const name of ["chat.j2", "chat.jinja2", "prompt.template"]) {
  test(`a template named ${name} is checked: the exploit blocks, a plain chat template passes`, async () => {
    const bad = await scanOne(`bad-${name}`, EXPLOIT);
    assert.equal(bad.format, "chat-template");
    assert.equal(bad.verdict, "block");
    assert.ok(bad.rules.includes("MG220"), bad.rules.join(","));
    const good = await scanOne(`good-${name}`, BENIGN);
    assert.deepEqual([good.verdict, good.rules], ["pass", []]);
  });
}

test("a .template file without Jinja delimiters is not read as a template", async () => {
  const plain = await scanOne("Dockerfile.template", "FROM debian:12\nRUN echo ${VERSION}\n");
  assert.equal(plain.format, "unknown");
  assert.deepEqual(plain.rules, []);
});

test("chat_template in a YAML config is checked like one in JSON", async () => {
  const yamlText = `model: my-llm\nchat_template: "${EXPLOIT.replace(/"/g, '\\"')}"\n`;
  const bad = await scanOne("serving.yaml", yamlText);
  assert.equal(bad.verdict, "block");
  assert.ok(bad.rules.includes("MG220"), bad.rules.join(","));
  const good = await scanOne("serving-ok.yml", `model: my-llm\nchat_template: "${BENIGN.replace(/"/g, '\\"')}"\n`);
  assert.deepEqual([good.verdict, good.rules], ["pass", []]);
});
