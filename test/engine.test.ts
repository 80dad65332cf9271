/** The engine end to end on files built in the test: layouts, polyglots, names, limits, verdicts. */
import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile, rm, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { gzipSync } from "node:zlib";
import { amplification, scanFile, scanPaths, UsageError } from "../src/engine.js";
import { OP, assemble, call1, global } from "./support/pickle.js";
import { paxRecord, tar, tarEntries, type TarEntry } from "./support/tar.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "modelgate-engine-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, bytes: Uint8Array): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, bytes);
  return p;
}

const MALICIOUS = assemble(OP.PROTO, 2, call1(global("posix", "system"), "id"), OP.STOP);
const BENIGN = assemble(OP.PROTO, 2, OP.EMPTY_DICT, OP.STOP);

test("P10: a pickle named .safetensors is blocked for its payload and for the disguise", async () => {
  const r = await scanFile(await file("model.safetensors", MALICIOUS), "model.safetensors");
  assert.equal(r.format, "pickle");
  assert.deepEqual(r.findings.map((f) => [f.rule, f.severity]), [["MG100", "critical"], ["MG130", "high"]]);
});

test("a checkpoint named .pth.tar (PyTorch's ImageNet example, timm) is a torch name; other content under .tar still is not", async () => {
  const named = await scanFile(await file("checkpoint.pth.tar", BENIGN), "checkpoint.pth.tar");
  assert.equal(named.format, "pickle");
  assert.deepEqual(named.findings, []);
  const plain = await scanFile(await file("weights.tar", BENIGN), "weights.tar");
  assert.deepEqual(plain.findings.map((f) => [f.rule, f.severity]), [["MG130", "low"]]);
});

test("a file whose layers inflate past 1 GiB and 100 times its size is a bomb whatever ratio each layer kept (red team round 24: 3.3 GB from a 3.6 MB checkpoint)", () => {
  const GiB = 1024 ** 3;
  assert.match(amplification(3.3e9, 3.6e6) ?? "", /inflate to 3300000000 bytes, 916 times its own 3600000/);
  // A gigabyte from 20 MB (50 times), or 900 MB from 1 MB (under a gigabyte): what real compressed models do.
  assert.equal(amplification(GiB + 1, 20e6), undefined);
  assert.equal(amplification(900e6, 1e6), undefined);
  assert.equal(amplification(0, 0), undefined);
});

test("P12: a gzip of a tar of a pickle is unwrapped by content and the member chain is the location", async () => {
  const archive = gzipSync(tar({ "inner/payload.bin": MALICIOUS }));
  const r = await scanFile(await file("bundle.tgz", archive), "bundle.tgz");
  const [f] = r.findings;
  assert.equal(f?.rule, "MG100");
  assert.equal(f?.location.member, "bundle.tar > inner/payload.bin");
  assert.equal(f?.location.offset, 21); // the REDUCE that calls it
});

test("the old PyTorch tar layout is recognised and its pickles scanned", async () => {
  const bytes = tar({ sys_info: BENIGN, pickle: MALICIOUS, storages: BENIGN, tensors: BENIGN });
  const r = await scanFile(await file("old.tar", bytes), "old.tar");
  assert.equal(r.format, "pytorch-tar");
  assert.equal(r.verdict, "block");
  assert.equal(r.findings[0]?.location.member, "pickle");
  // Its members are read as pickles by name, as torch.load reads them, whatever their content looks like.
  const opaque = await scanFile(await file("odd.tar", tar({ sys_info: BENIGN, pickle: Buffer.from("N.\x01\x02 trailing", "latin1"), storages: BENIGN })), "odd.tar");
  assert.ok(opaque.findings.some((f) => f.location.member === "pickle" && f.rule === "MG113"), JSON.stringify(opaque.findings));
});

test("a tar that reads as another format too is scanned as the tar torch.load opens (red team round 24: an HDF5 first member, a GGUF header as the first name)", async () => {
  const h5 = await readFile(join(import.meta.dirname, "..", "..", "test", "fixtures", "keras-repo", "benign", "keras215_dense.h5"));
  const layouts: [string, Record<string, Uint8Array>][] = [
    ["keras-h5", { "weights.h5": h5, sys_info: BENIGN, pickle: MALICIOUS, storages: BENIGN, tensors: BENIGN }],
    ["gguf", { "GGUF\x03\0\0\0": BENIGN, sys_info: BENIGN, pickle: MALICIOUS, storages: BENIGN, tensors: BENIGN }],
  ];
  for (const [format, members] of layouts) {
    const r = await scanFile(await file(`${format}.pt`, tar(members)), `${format}.pt`);
    assert.ok(r.findings.some((f) => f.rule === "MG100" && f.location.member?.endsWith("pickle")), `${format}: ${JSON.stringify(r.findings)}`);
  }
});

test("a torch tar is read as Python's tarfile reads it: links to the members torch opens, Solaris and global pax headers, a file opening with a zip end record (red team round 26)", async () => {
  // storages is a hard (or symbolic) link to blob, whose two pickles torch.load reads one after the other.
  const twoPickles = Buffer.concat([Buffer.from("K\x01.", "latin1"), MALICIOUS]);
  const torchMembers = (storages: TarEntry[]): TarEntry[] => [{ name: "sys_info", data: BENIGN }, ...storages, { name: "tensors", data: BENIGN }, { name: "pickle", data: BENIGN }];
  const layouts: [string, TarEntry[]][] = [
    ["a hard link", torchMembers([{ name: "blob", data: twoPickles }, { name: "storages", data: Buffer.alloc(0), type: "1", linkName: "blob" }])],
    ["a symbolic link", torchMembers([{ name: "blob", data: twoPickles }, { name: "storages", data: Buffer.alloc(0), type: "2", linkName: "./blob" }])],
    // tarfile takes a Solaris "X" header as it takes "x", and applies a global "g" header's path to the members after it.
    ["a Solaris X header", torchMembers([{ name: "pax", data: Buffer.from(paxRecord("path", "storages")), type: "X" }, { name: "blob", data: MALICIOUS }])],
    ["a global g header", [{ name: "sys_info", data: BENIGN }, { name: "tensors", data: BENIGN }, { name: "pickle", data: BENIGN }, { name: "pax", data: Buffer.from(paxRecord("path", "storages")), type: "g" }, { name: "blob", data: twoPickles }]],
  ];
  // The first of the headers before a member wins (red team round 28): a long name, then a pax path.
  layouts.push(["a long name before a pax path", torchMembers([{ name: "././@LongLink", data: Buffer.from("storages\0"), type: "L" }, { name: "pax", data: Buffer.from(paxRecord("path", "blob")), type: "x" }, { name: "x", data: twoPickles }])]);
  for (const [what, entries] of layouts) {
    const r = await scanFile(await file("old.pt", tarEntries(entries)), "old.pt");
    assert.ok(r.findings.some((f) => f.rule === "MG100" && f.location.member === "storages"), `${what}: ${JSON.stringify(r.findings)}`);
  }
  // torch takes only PK\x03\x04 for a zip: a tar whose first name opens with an end record's PK\x05\x06 is still a tar to it.
  const eocd = tarEntries([{ name: "PK\x05\x06", data: BENIGN }, { name: "sys_info", data: BENIGN }, { name: "pickle", data: MALICIOUS }, { name: "storages", data: BENIGN }]);
  const r = await scanFile(await file("eocd.pt", eocd), "eocd.pt");
  assert.ok(r.findings.some((f) => f.rule === "MG100" && f.location.member === "pickle"), JSON.stringify(r.findings));
});

test("a text opcode's number ends at a NUL, as CPython's C unpickler reads it: what follows a loose first line is judged, behind gzip too", async () => {
  const payload = Buffer.concat([Buffer.from("I1\x00x\n0", "latin1"), MALICIOUS.subarray(2)]);
  const r = await scanFile(await file("m.pkl.gz", gzipSync(payload)), "m.pkl.gz");
  assert.ok(r.findings.some((f) => f.rule === "MG100" && /posix\.system/.test(f.message)), JSON.stringify(r.findings));
});

test("bytes before an empty zip's end record are its prefix and scanned (a pickle torch.load reads, then a 22-byte zip)", async () => {
  const endRecord = Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]);
  const r = await scanFile(await file("model.pt", Buffer.concat([MALICIOUS, endRecord])), "model.pt");
  assert.ok(r.findings.some((f) => f.rule === "MG100"), JSON.stringify(r.findings));
  // Whatever the bytes before it are, they are reported as outside the archive.
  const text = await scanFile(await file("notes.zip", Buffer.concat([Buffer.from("some notes, not a model\n"), endRecord])), "notes.zip");
  assert.ok(text.findings.some((f) => f.rule === "MG144" && /24 bytes precede/.test(f.message)), JSON.stringify(text.findings));
});

test("unknown content is skipped, not passed: it is counted and carries a reason", async () => {
  const r = await scanFile(await file("notes.md", Buffer.from("# notes\n")), "notes.md");
  assert.equal(r.skipped, "content is not a recognised model format");
  assert.deepEqual(r.findings, []);
});

test("a --fail-on threshold above a finding's severity lets the file pass", async () => {
  // Its only finding is low: bytes after STOP that are not a pickle (MG113).
  const low = assemble(OP.PROTO, 4, OP.EMPTY_DICT, OP.STOP, "not a pickle at all");
  const p = await file("low.pkl", low);
  assert.equal((await scanFile(p, "low.pkl", { failOn: "medium" })).verdict, "pass");
  assert.equal((await scanFile(p, "low.pkl", { failOn: "low" })).verdict, "block");
});

test("a folder is scanned recursively, in name order, with a summary of what was read", async () => {
  const tree = join(dir, "tree");
  await mkdir(join(tree, "sub"), { recursive: true });
  await writeFile(join(tree, "b.pkl"), BENIGN);
  await writeFile(join(tree, "sub", "a.pkl"), MALICIOUS);
  await writeFile(join(tree, "README.md"), "hello\n");
  const report = await scanPaths([tree]);
  assert.deepEqual(report.files.map((f) => f.path.slice(tree.length + 1)), ["README.md", "b.pkl", "sub/a.pkl"]);
  assert.equal(report.verdict, "block");
  assert.equal(report.summary.filesScanned, 2);
  assert.equal(report.summary.filesSkipped, 1);
  assert.equal(report.summary.filesBlocked, 1);
  assert.equal(report.summary.bytesRead, BENIGN.length + MALICIOUS.length + 6);
});

test("a path that does not exist is a usage error", async () => {
  await assert.rejects(scanPaths([join(dir, "missing.pt")]), UsageError);
});

test("findings of one rule are capped per file, keeping the worst severity", async () => {
  const parts: (Buffer | number)[] = [OP.PROTO, 2];
  for (let i = 0; i < 80; i++) parts.push(call1(global(`gadget${i}`, "run"), "x"), OP.POP);
  parts.push(call1(global("posix", "system"), "id"), OP.STOP);
  const r = await scanFile(await file("many.pkl", assemble(...parts)), "many.pkl");
  const unknown = r.findings.filter((f) => f.rule === "MG101");
  assert.equal(unknown.length, 50);
  assert.ok(unknown.some((f) => /and 30 more findings of this rule/.test(f.message)));
  assert.equal(r.findings[0]?.rule, "MG100");
});

test("P6: bytes handed to pickle.loads are unpickled whatever they look like, so a malformed payload is still judged", async () => {
  const inner = assemble(OP.PROTO, 9, call1(global("posix", "system"), "id"), OP.STOP); // protocol 9 does not sniff as a pickle
  const outer = assemble(OP.PROTO, 3, global("pickle", "loads"), OP.SHORT_BINBYTES, inner.length, inner, OP.TUPLE1, OP.REDUCE, OP.STOP);
  const r = await scanFile(await file("nested.pkl", outer), "nested.pkl");
  const nested = r.findings.filter((f) => f.location.member?.startsWith("<bytes passed to pickle.loads"));
  assert.ok(nested.some((f) => f.rule === "MG100" && /posix\.system/.test(f.message)), JSON.stringify(r.findings));
});

test("raw float tensors in a checkpoint are not mistaken for a compressed stream", async () => {
  // float32 2.0 is 00 00 00 40: a valid LZMA-alone header for a loose sniffer.
  const storage = Buffer.alloc(4096);
  for (let i = 0; i < storage.length; i += 4) storage.writeFloatLE(2.0 + i, i);
  const r = await scanFile(await file("data.bin", tar({ "archive/data/0": storage, "archive/data/1": Buffer.alloc(64, 0x5d) })), "data.bin");
  assert.deepEqual(r.findings.filter((f) => f.severity !== "info" && f.severity !== "low"), []);
});

test("P18: bytes that are a safetensors header and a pickle are scanned both ways", async () => {
  // u64 header length 80 02 8c 06 61 62 01 00 is small enough to sniff as safetensors, and the
  // same bytes are PROTO 2 + a 6-byte SHORT_BINUNICODE that swallows `{"`, then a pickle call.
  const head = Buffer.from([0x80, 0x02, 0x8c, 0x06, 0x61, 0x62, 0x01, 0x00, 0x7b, 0x22]);
  const payload = Buffer.from(assemble(0x30, call1(global("posix", "system"), "id"), OP.STOP)); // POP the string first
  const bytes = Buffer.concat([head, payload, Buffer.alloc(64, 0x20)]);
  const r = await scanFile(await file("polyglot.bin", bytes), "polyglot.bin");
  assert.equal(r.format, "safetensors");
  const rules = r.findings.map((f) => f.rule);
  assert.ok(rules.includes("MG131"), JSON.stringify(r.findings));
  assert.ok(r.findings.some((f) => f.rule === "MG100" && f.message.includes("posix.system")), JSON.stringify(r.findings));
});
