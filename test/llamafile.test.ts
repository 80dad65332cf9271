/**
 * Executables that carry a model in a zip: a llamafile is an APE program (shell script, PE and ELF
 * at once) with its GGUF weights appended as a stored, page-aligned zip member (zipalign) and the
 * central directory at the end. The zip view of such a file must be scanned, so the GGUF and its
 * chat template get the GGUF checks; the executable part alone is only MG272. Files are built
 * here; the chat templates are never rendered and the programs never run.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scan } from "../src/index.js";
import { sniff } from "../src/sniff.js";
import { BufferSource } from "../src/sources/byteSource.js";
import type { Finding } from "../src/types.js";
import { tar } from "./support/tar.js";
import { ZipBuilder, plainZip } from "./support/zip.js";

const ESCAPE = "{{ ''.__class__.__mro__[1].__subclasses__() }}";
const BENIGN = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}";

/** A GGUF v3 file with no tensors and one metadata value, tokenizer.chat_template. */
function gguf(template: string): Buffer {
  const key = Buffer.from("tokenizer.chat_template");
  const value = Buffer.from(template);
  const head = Buffer.alloc(24);
  head.write("GGUF", 0, "latin1");
  head.writeUInt32LE(3, 4);
  head.writeBigUInt64LE(0n, 8);
  head.writeBigUInt64LE(1n, 16);
  const u64 = (n: number): Buffer => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    return b;
  };
  const type = Buffer.alloc(4);
  type.writeUInt32LE(8, 0); // string
  return Buffer.concat([head, u64(key.length), key, type, u64(value.length), value]);
}

/** Program headers of the kinds llamafiles and other model-carrying executables start with. */
const PROGRAMS: Readonly<Record<string, Buffer>> = {
  APE: Buffer.from("MZqFpD='\n\n\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0'\n#'\"\nexec 7<> \"$(command -v \"$0\")\"\n", "latin1"),
  ELF: Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(56)]),
  PE: Buffer.concat([Buffer.from("MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0", "latin1"), Buffer.alloc(48)]),
  "shell script": Buffer.from('#!/bin/sh\nexec "$0.bin" "$@"\n'),
};

const PAGE = 4096;

/**
 * zipalign's layout: the program, padding so the member's data starts on a page boundary, a stored
 * member with offsets counted from the start of the file, then the directory and end record.
 */
function zipaligned(program: Buffer, members: Record<string, Buffer>, zip64 = false): Buffer {
  const z = new ZipBuilder();
  z.raw(program);
  const placed = Object.entries(members).map(([name, data]) => {
    const header = 30 + Buffer.byteLength(name);
    z.raw(Buffer.alloc((PAGE - ((z.size + header) % PAGE)) % PAGE));
    return z.local({ name, data });
  });
  const cd = z.central(placed);
  if (zip64) z.zip64Tail(z.zip64End(placed.length, cd.size, cd.start));
  else z.end(placed.length, cd.size, cd.start);
  return z.bytes();
}

async function scanBytes(name: string, bytes: Buffer): Promise<Finding[]> {
  const dir = mkdtempSync(join(tmpdir(), "mg-llamafile-"));
  try {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    const report = await scan(path);
    return report.files.flatMap((f) => f.findings);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const templateFindings = (findings: Finding[], member: string): Finding[] =>
  findings.filter((f) => f.rule === "MG220" && f.location.member?.endsWith(member));

for (const [kind, program] of Object.entries(PROGRAMS)) {
  test(`a ${kind} with a zipaligned GGUF: the GGUF's chat template is checked (MG220 critical)`, async () => {
    const findings = await scanBytes("model.llamafile", zipaligned(program, { "model.gguf": gguf(ESCAPE), ".args": Buffer.from("-m\nmodel.gguf\n") }));
    const escapes = templateFindings(findings, "model.gguf");
    assert.ok(escapes.length > 0, findings.map((f) => f.rule).join(", "));
    assert.ok(escapes.every((f) => f.severity === "critical"));
  });
}

test("the executable is sniffed as a zip by its end record, whatever it starts with", async () => {
  for (const [kind, program] of Object.entries(PROGRAMS)) {
    const sniffed = await sniff(new BufferSource("x", zipaligned(program, { "model.gguf": gguf(BENIGN) })), { name: "x", topLevel: false });
    assert.ok(sniffed.format === "zip" || sniffed.alsoValidAs.includes("zip"), `${kind}: ${JSON.stringify(sniffed)}`);
  }
});

test("a zip appended with cat (offsets counted from the zip, not the file) and ZIP64 end records are read too", async () => {
  const catted = Buffer.concat([PROGRAMS["ELF"]!, plainZip([{ name: "weights/model.gguf", data: gguf(ESCAPE) }])]);
  assert.ok(templateFindings(await scanBytes("model.llamafile", catted), "model.gguf").length > 0);
  const zip64 = zipaligned(PROGRAMS["APE"]!, { "model.gguf": gguf(ESCAPE) }, true);
  assert.ok(templateFindings(await scanBytes("model.llamafile", zip64), "model.gguf").length > 0);
});

test("a llamafile inside a tar is opened the same way", async () => {
  const inner = zipaligned(PROGRAMS["APE"]!, { "model.gguf": gguf(ESCAPE) });
  const findings = await scanBytes("bundle.tar", tar({ "bin/model.llamafile": inner }));
  const escapes = templateFindings(findings, "model.gguf");
  assert.ok(escapes.length > 0);
  assert.equal(escapes[0]!.location.member, "bin/model.llamafile > model.gguf");
});

test("controls: a benign template has no template finding, and a program without a zip is only an executable", async () => {
  const benign = await scanBytes("model.llamafile", zipaligned(PROGRAMS["APE"]!, { "model.gguf": gguf(BENIGN) }));
  assert.deepEqual(
    benign.filter((f) => /^MG2[0-2]/.test(f.rule)).map((f) => f.rule),
    [],
  );
  const bare = await scanBytes("tool.llamafile", Buffer.concat([PROGRAMS["ELF"]!, Buffer.from("no archive here")]));
  assert.deepEqual(
    bare.map((f) => `${f.rule} ${f.severity}`),
    ["MG272 low"],
  );
});
