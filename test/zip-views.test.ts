/**
 * Zip readers that disagree (THREATS Z1, P11, P18): PyTorch's reader (miniz) and Python's zipfile
 * are made to see different members of one file. Every view a real loader takes is scanned, the
 * disagreement is itself a finding (MG131), and a payload only one reader sees is reported at its
 * own severity, so `--fail-on critical` blocks it. The archives are built here (test/support/zip.ts);
 * each construction was checked once against torch.load (torch 2.13) and Python 3.11's zipfile, with
 * harmless marker pickles: both load the view these tests name.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scanFile } from "../src/engine.js";
import type { FileResult } from "../src/types.js";
import { OP, assemble, call1, global, str } from "./support/pickle.js";
import { ZipBuilder, caseFoldedNames, duplicateNames, plainZip, secondEndRecordInComment, shiftedDirectory, unicodePathExtra, zip64LocatorElsewhere } from "./support/zip.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "modelgate-zip-views-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** posix.system('id') at protocol 2 (26 bytes): harmless, never loaded. */
const EVIL = assemble(OP.PROTO, 2, call1(global("posix", "system"), "id"), OP.STOP);
/** The same call with protocol-4 opcodes and no PROTO: pickle.loads runs it, content sniffing does not take it for a pickle. */
const EVIL_UNSNIFFED = assemble(str("posix"), str("system"), OP.STACK_GLOBAL, str("id"), OP.TUPLE1, OP.REDUCE, OP.STOP);
/** {} at protocol 2 (shorter than EVIL). */
const EMPTY_DICT = assemble(OP.PROTO, 2, OP.EMPTY_DICT, OP.STOP);
/** {'pad': 'xxxxxxxxxxxxxxxx'} at protocol 2 (longer than EVIL). */
const BENIGN = assemble(OP.PROTO, 2, OP.EMPTY_DICT, OP.BINUNICODE, [3, 0, 0, 0], "pad", OP.BINUNICODE, [16, 0, 0, 0], "x".repeat(16), OP.SETITEM, OP.STOP);

async function scan(name: string, bytes: Uint8Array): Promise<FileResult> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return scanFile(path, name, { failOn: "critical" });
}

const rules = (r: FileResult): string[] => r.findings.map((f) => f.rule);
const critical = (r: FileResult) => r.findings.filter((f) => f.severity === "critical");

function assertHiddenPayloadFound(r: FileResult): void {
  assert.equal(r.verdict, "block", JSON.stringify(r.findings.map((f) => [f.rule, f.severity, f.location.member])));
  const found = critical(r);
  assert.ok(found.length > 0, "the payload is critical");
  assert.ok(found.some((f) => f.rule === "MG100" && /system/.test(`${f.message} ${f.evidence ?? ""}`)));
}

test("Z1: a second, fake end record in the archive comment shows PyTorch a different data.pkl; its os.system is critical", async () => {
  const r = await scan("comment.pt", secondEndRecordInComment(EVIL, BENIGN));
  assertHiddenPayloadFound(r);
  const disagreement = r.findings.find((f) => f.rule === "MG131");
  assert.ok(disagreement, "the disagreement is a finding");
  assert.equal(disagreement.severity, "high");
  assert.match(disagreement.message, /PyTorch zip reader reads 2 entries.*Python zipfile reads 2 entries/);
  // The payload is located in PyTorch's view, the one torch.load takes.
  assert.equal(critical(r)[0]!.location.member, "archive/data.pkl");
});

test("Z1: the same fake end record with the payload only zipfile sees is critical too, in the zipfile view", async () => {
  const r = await scan("comment-zipfile.pt", secondEndRecordInComment(BENIGN, EVIL));
  assertHiddenPayloadFound(r);
  assert.ok(rules(r).includes("MG131"));
  assert.equal(critical(r)[0]!.location.member, "<Python zipfile view> > archive/data.pkl");
});

test("Z1: the fake end record is found when a long comment puts it further from the end than the first tail searched", async () => {
  const r = await scan("comment-far.pt", secondEndRecordInComment(EVIL, BENIGN, 6000));
  assertHiddenPayloadFound(r);
  assert.ok(rules(r).includes("MG131"));
  assert.equal(critical(r)[0]!.location.member, "archive/data.pkl");
});

test("an archive read by ranges (over 1 MiB) whose end record sits behind a 10 kB comment is read, its payload found", async () => {
  const z = new ZipBuilder();
  const data = z.local({ name: "archive/data.pkl", data: EVIL });
  const storage = z.local({ name: "archive/data/0", data: Buffer.alloc(1_200_000) });
  const version = z.local({ name: "archive/version", data: Buffer.from("3\n") });
  const cd = z.central([data, storage, version]);
  const comment = Buffer.alloc(10_000, 0x2e);
  z.end(3, cd.size, cd.start, comment.length);
  z.raw(comment);
  const r = await scan("long-comment.pt", z.bytes());
  assertHiddenPayloadFound(r);
  assert.equal(critical(r)[0]!.location.member, "archive/data.pkl");
  // Both readers found the directory: no view missing or unreadable, no disagreement.
  assert.deepEqual(rules(r).filter((rule) => /^MG1(31|4[0-4])$/.test(rule)), []);
});

test("Z1/P18: a prefix-shifted central directory (cat stub real.zip) gives miniz the stub's data.pkl; its os.system is critical", async () => {
  const r = await scan("shifted.pt", shiftedDirectory(EVIL, BENIGN));
  assertHiddenPayloadFound(r);
  assert.ok(rules(r).includes("MG131"));
  assert.equal(r.format, "pytorch-zip");
});

test("Z1/P18: a prefix-shifted central directory hiding the payload from PyTorch still reports it critical", async () => {
  const r = await scan("shifted-zipfile.pt", shiftedDirectory(EMPTY_DICT, EVIL));
  assertHiddenPayloadFound(r);
  assert.ok(rules(r).includes("MG131"));
});

test("Z1: a ZIP64 locator pointing at another ZIP64 record than the one before it splits the readers; both payload directions are critical", async () => {
  for (const [name, bytes] of [
    ["z64-torch.pt", zip64LocatorElsewhere(EVIL, BENIGN)],
    ["z64-zipfile.pt", zip64LocatorElsewhere(BENIGN, EVIL)],
  ] as const) {
    const r = await scan(name, bytes);
    assertHiddenPayloadFound(r);
    assert.ok(rules(r).includes("MG131"), name);
  }
});

test("Z1: an end record that declares fewer entries than its directory holds: miniz reads the count, zipfile the whole directory", async () => {
  const z = new ZipBuilder();
  const benign = z.local({ name: "archive/data.pkl", data: BENIGN });
  const version = z.local({ name: "archive/version", data: Buffer.from("3\n") });
  const evil = z.local({ name: "archive/data.pkl", data: EVIL });
  const cd = z.central([benign, version, evil]);
  z.end(2, cd.size, cd.start);
  const r = await scan("count.pt", z.bytes());
  assertHiddenPayloadFound(r);
  assert.ok(rules(r).includes("MG131"));
});

test("P18: duplicate data.pkl names, where zipfile takes the last and miniz's binary search another, are MG143 and both scanned", async () => {
  for (const [name, bytes] of [
    ["dup-last.pt", duplicateNames(BENIGN, EVIL)],
    ["dup-first.pt", duplicateNames(EVIL, BENIGN)],
  ] as const) {
    const r = await scan(name, bytes);
    assertHiddenPayloadFound(r);
    assert.ok(rules(r).includes("MG143"), name);
  }
});

test("P18: data.pkl spelled in other case is found by miniz's case-insensitive lookup, so it is read as a pickle whatever it looks like", async () => {
  const both = await scan("case.pt", caseFoldedNames(BENIGN, EVIL_UNSNIFFED));
  assertHiddenPayloadFound(both);
  assert.ok(both.findings.some((f) => f.rule === "MG143" && /differ only in case/.test(f.message)));
  // Only the upper-case name: torch.load still loads it (checked), so the archive is a checkpoint and the record a pickle.
  const only = await scan("upper.pt", plainZip([{ name: "archive/DATA.PKL", data: EVIL_UNSNIFFED }, { name: "archive/version", data: Buffer.from("3\n") }]));
  assertHiddenPayloadFound(only);
  assert.equal(only.format, "pytorch-zip");
});

test("MG143 names each group of case-folded spellings once, in the order the names first appear", async () => {
  const member = (name: string): { name: string; data: Buffer } => ({ name: `archive/x/${name}`, data: Buffer.from("1") });
  const r = await scan("spellings.pt", plainZip([
    { name: "archive/data.pkl", data: BENIGN }, member("A"), member("B"), member("b"), member("a"), member("A"), member("B2"),
  ]));
  const groups = r.findings.filter((f) => f.rule === "MG143" && /differ only in case/.test(f.message)).map((f) => f.evidence);
  assert.deepEqual(groups, ['"archive/x/A", "archive/x/a"', '"archive/x/B", "archive/x/b"']);
});

test("Z1: names only Python's zipfile sees (a Unicode Path extra field, a NUL cut) make a data.pkl miniz does not list; both views are scanned", async () => {
  const r = await scan("unicode-path.pt", plainZip([
    { name: "archive/notes.txt", data: EVIL_UNSNIFFED, centralExtra: unicodePathExtra("archive/notes.txt", "archive/data.pkl") },
    { name: "archive/version", data: Buffer.from("3\n") },
  ]));
  assertHiddenPayloadFound(r);
  assert.ok(rules(r).includes("MG131"));
  const nul = await scan("nul.pt", plainZip([
    { name: "archive/data.pkl\0.txt", data: EVIL_UNSNIFFED },
    { name: "archive/version", data: Buffer.from("3\n") },
  ]));
  assertHiddenPayloadFound(nul);
});

test("an archive neither loader's reader opens (shifted, and a signature in its last bytes that zipfile trips on) is MG141 and still scanned", async () => {
  const z = new ZipBuilder();
  z.raw(Buffer.from("junk before the archive"));
  const shift = z.size;
  const data = z.local({ name: "archive/data.pkl", data: EVIL });
  const cd = z.central([data], shift);
  const comment = Buffer.from("....PK\x05\x06....", "latin1");
  z.end(1, cd.size, cd.start - shift, comment.length);
  z.raw(comment);
  const r = await scan("neither.pt", z.bytes());
  assertHiddenPayloadFound(r);
  assert.ok(r.findings.some((f) => f.rule === "MG141" && /unreadable to PyTorch and to Python's zipfile/.test(f.message)));
});

// ---- .npz: NumPy reads it with zipfile, so bzip2 and LZMA members are legal

/** np.savez-like archives written by Python's zipfile with ZIP_LZMA / ZIP_BZIP2 members (numpy 2.4, Python 3.11). */
const NPZ_BENIGN = Buffer.from(
  "UEsDBD8AAgAOADy0gV355VeUZAAAAJgAAAAFAAAAYS5ucHkJBAUAXQAAgAAASZOGpN7TgnlqWw0jODarnZ1MTe7jbcMd62ciZu4cpEC6+JnXSScm4hcteWkzOW5HJTa8/PyVCJf4GWZFXNIQwWG6VqISqz3LVWLtBgPqPm/evtyG/V76d/EAUEsDBC4AAAAMADy0gV2PxhXMdgAAAKAAAAAFAAAAYi5ucHlCWmg5MUFZJlNZO6ijHgAAMV+gaBBA5BFUAQNCIK9l3QoIACAAVEU2iBoAGQA9NTag1PSmQA0aAAA0EAgKPi1qtYBO+MNoBKIje9Cx5U6piOW48QgJkmu28OLiiNUVwBY+EBGJvRAFG2EDz/F3JFOFCQO6ijHgUEsBAj8DPwACAA4APLSBXfnlV5RkAAAAmAAAAAUAAAAAAAAAAAAAAIABAAAAAGEubnB5UEsBAi4DLgAAAAwAPLSBXY/GFcx2AAAAoAAAAAUAAAAAAAAAAAAAAIABhwAAAGIubnB5UEsFBgAAAAACAAIAZgAAACABAAAAAA==",
  "base64",
);
/** a.npy (bzip2, float) and x.npy (LZMA): an object array whose pickle calls posix.system('id'). */
const NPZ_EVIL_LZMA = Buffer.from(
  "UEsDBC4AAAAMADy0gV355VeUgQAAAJgAAAAFAAAAYS5ucHlCWmg5MUFZJlNZowiobAAAL1/wcBBA5AVUwQNCIK9F3QpAAAgAQAAgAFRFHpAAAANAPSb1QielGgB6mgAADQOCYEigp3oysCNiJiEDBz85hbQpbF01a1vvEXiUmYfWNl7pxd606WqYXjykJMDZoARiOfIsQerv4u5IpwoSFGEVDYBQSwMEPwACAA4APLSBXQMy4U5vAAAAmgAAAAUAAAB4Lm5weQkEBQBdAACAAABJk4ak3tOCeWpbDSM4NqudnUxN7uNtwzFhHRqlD9ecCvWTezNL/Z24rQByp5VtqU8Xg0dUdeAneH5M0IwxiCCQ9lvAxAFMuEanUVtH4jrbPT7R2AUHVOwgyef3JJEk+5H//sCyAFBLAQIuAy4AAAAMADy0gV355VeUgQAAAJgAAAAFAAAAAAAAAAAAAACAAQAAAABhLm5weVBLAQI/Az8AAgAOADy0gV0DMuFObwAAAJoAAAAFAAAAAAAAAAAAAACAAaQAAAB4Lm5weVBLBQYAAAAAAgACAGYAAAA2AQAAAAA=",
  "base64",
);
/** y.npy (bzip2): the same object array. */
const NPZ_EVIL_BZIP2 = Buffer.from(
  "UEsDBC4AAAAMADy0gV0DMuFOhwAAAJoAAAAFAAAAeS5ucHlCWmg5MUFZJlNZ8gBqXAAAMN/gcBBA5SAwAQPSYK9n3W5CAAgAIABIimRkABoyBoyADTQqZqaADQAAAHqYQYgHwc7F9UskCgDAMQ0cqF6UAIYliMUPlcElvyW5pV2ujzZQSiptfxDh2Ubyil8EkPAshlwgyqJEiAM7i5Mz8XckU4UJDyAGpcBQSwECLgMuAAAADAA8tIFdAzLhTocAAACaAAAABQAAAAAAAAAAAAAAgAEAAAAAeS5ucHlQSwUGAAAAAAEAAQAzAAAAqgAAAAAA",
  "base64",
);

test("npz: LZMA and bzip2 members (legal for np.load, which uses zipfile) are decompressed; benign arrays pass", async () => {
  const r = await scan("arrays.npz", NPZ_BENIGN);
  assert.equal(r.format, "npz");
  assert.deepEqual(rules(r), []);
  assert.equal(r.verdict, "pass");
});

test("npz: an object array in an LZMA or bzip2 member has its pickle scanned (os.system is critical)", async () => {
  for (const [name, bytes] of [
    ["lzma.npz", NPZ_EVIL_LZMA],
    ["bzip2.npz", NPZ_EVIL_BZIP2],
  ] as const) {
    const r = await scan(name, bytes);
    assertHiddenPayloadFound(r);
    assert.ok(rules(r).includes("MG150"), name);
    assert.ok(!rules(r).includes("MG141"), `${name}: ${JSON.stringify(r.findings.map((f) => f.message))}`);
  }
});

test("npz: PyTorch's stored/deflate-only rule still holds for checkpoints (a bzip2 data.pkl is MG141)", async () => {
  const z = new ZipBuilder();
  const bz = NPZ_EVIL_BZIP2.subarray(30 + 5, 30 + 5 + 0x87); // y.npy's bzip2 stream
  const data = z.local({ name: "archive/data.pkl", data: bz, method: 12, size: 0x9a });
  const version = z.local({ name: "archive/version", data: Buffer.from("3\n") });
  const cd = z.central([data, version]);
  z.end(2, cd.size, cd.start);
  const r = await scan("bz2.pt", z.bytes());
  assert.ok(r.findings.some((f) => f.rule === "MG141" && /PyTorch cannot read/.test(f.message)));
});

// ---- benign archives: the views agree, nothing new is reported

test("benign: real torch.save and np.savez output, and a zip with an archive comment, give no zip-view findings", async () => {
  const fixtures = ["pytorch_model.bin", "torch_state_dict_fp32.pt", "torch_checkpoint_adam.pt", "torchscript_module.pt", "numpy_savez.npz", "numpy_savez_compressed.npz", "lightning_style.ckpt"];
  for (const name of fixtures) {
    const r = await scanFile(join("test", "fixtures", "benign", name), name, { failOn: "medium" });
    const zipRules = rules(r).filter((rule) => /^MG1(31|4[0-4])$/.test(rule));
    assert.deepEqual(zipRules, [], `${name}: ${JSON.stringify(r.findings.map((f) => f.message))}`);
  }
  const z = new ZipBuilder();
  const a = z.local({ name: "archive/data.pkl", data: BENIGN });
  const v = z.local({ name: "archive/version", data: Buffer.from("3\n") });
  const cd = z.central([a, v]);
  const comment = Buffer.from("made by a tool that writes comments");
  z.end(2, cd.size, cd.start, comment.length);
  z.raw(comment);
  const r = await scan("commented.pt", z.bytes());
  assert.deepEqual(rules(r), []);
  assert.equal(r.verdict, "pass");
});
