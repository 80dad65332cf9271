/**
 * Formats written by today's releases (issue 20), on the committed fixtures of
 * scripts/make_modern_fixtures.py: TensorFlow SavedModels recognised by content (never as ONNX),
 * traced TorchScript archives whose traced_inputs.pkl is judged like their other pickles, and
 * torch.distributed.checkpoint shards read archive by archive.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { scanFile } from "../src/engine.js";
import { scanDcpShard } from "../src/formats/dcp.js";
import { sniff } from "../src/sniff.js";
import { BufferSource } from "../src/sources/byteSource.js";
import { atLeast, type FileResult } from "../src/types.js";
import { RecordingContext } from "./support/context.js";

const FIXTURES = join(import.meta.dirname, "..", "..", "test", "fixtures");
const MODERN = join(FIXTURES, "modern");
const SAVED_MODELS = ["tf_module_savedmodel/saved_model.pb", "keras_export_savedmodel/saved_model.pb"];
const SHARD = join(MODERN, "dcp_checkpoint", "__0_0.distcp");

const scratch = mkdtempSync(join(tmpdir(), "modelgate-modern-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

const loud = (r: FileResult) => r.findings.filter((f) => atLeast(f.severity, "medium"));
const shown = (r: FileResult) => JSON.stringify(r.findings.map((f) => [f.rule, f.severity, f.location.member, f.message]), null, 1);

/** Scans `bytes` written under `name` in the scratch folder, as a top-level file. */
async function scanBytes(name: string, bytes: Uint8Array): Promise<FileResult> {
  const path = join(scratch, name);
  writeFileSync(path, bytes);
  return scanFile(path, name);
}

/** Offsets just past each end-of-central-directory record: where each archive of a shard ends. */
function archiveEnds(bytes: Buffer): number[] {
  const ends: number[] = [];
  for (let i = bytes.indexOf("PK\x05\x06", 0, "latin1"); i >= 0; i = bytes.indexOf("PK\x05\x06", i + 4, "latin1")) {
    ends.push(i + 22 + bytes.readUInt16LE(i + 20));
  }
  return ends;
}

describe("TensorFlow SavedModels made by TF 2.x", () => {
  for (const file of SAVED_MODELS) {
    test(`${file} is a SavedModel by content, whatever its name`, async () => {
      const bytes = readFileSync(join(MODERN, file));
      for (const name of ["saved_model.pb", "model.pb", "graph", "weights.bin"]) {
        const sniffed = await sniff(new BufferSource(name, bytes), { name, topLevel: true });
        assert.equal(sniffed.format, "tf-savedmodel", name);
        assert.deepEqual(sniffed.alsoValidAs, []);
      }
      const result = await scanBytes("exported_graph", bytes);
      assert.equal(result.format, "tf-savedmodel");
      assert.ok(!result.findings.some((f) => f.rule === "MG233" || f.rule === "MG243"), shown(result));
      assert.deepEqual(loud(result), [], shown(result));
    });
  }

  test("ONNX models are still ONNX", async () => {
    for (const file of ["onnx_mlp.onnx", "onnx_if_subgraph.onnx", "onnx_local_function.onnx", "onnx_external_ok.onnx"]) {
      const bytes = readFileSync(join(FIXTURES, "graph-formats", file));
      const sniffed = await sniff(new BufferSource("saved_model.pb", bytes), { name: "saved_model.pb", topLevel: true });
      assert.equal(sniffed.format, "onnx", file);
    }
  });
});

describe("TorchScript archives made by torch 2.x", () => {
  test("a traced archive passes: traced_inputs.pkl is judged with the TorchScript context like its other pickles", async () => {
    const result = await scanFile(join(MODERN, "torchscript_traced.pt"), "torchscript_traced.pt");
    assert.equal(result.format, "torchscript");
    assert.deepEqual(loud(result), [], shown(result));
    assert.ok(!JSON.stringify(result.findings).includes("restore_type_tag"), shown(result));
  });

  test("traced_inputs.pkl is read as a pickle: a call in it is found and located", async () => {
    const result = await scanFile(join(MODERN, "torchscript_traced_inputs_payload.pt"), "payload.pt");
    const hit = result.findings.find((f) => f.rule === "MG100");
    assert.ok(hit, shown(result));
    assert.match(hit.location.member ?? "", /\/traced_inputs\.pkl$/);
    assert.match(hit.evidence ?? "", /posix\.system/);
  });

  test("a scripted archive passes", async () => {
    const result = await scanFile(join(MODERN, "torchscript_scripted.pt"), "torchscript_scripted.pt");
    assert.equal(result.format, "torchscript");
    assert.deepEqual(loud(result), [], shown(result));
  });

  test("a lite-interpreter archive passes; without code/ its bytecode's operators are still judged (a red team's from_file write)", async () => {
    const lite = await scanFile(join(MODERN, "torchscript_lite.ptl"), "torchscript_lite.ptl");
    assert.equal(lite.format, "torchscript");
    assert.deepEqual(loud(lite), [], shown(lite));
    const bare = await scanFile(join(MODERN, "torchscript_lite_from_file.ptl"), "m.ptl");
    const hit = bare.findings.find((f) => f.rule === "MG122");
    assert.match(hit?.location.member ?? "", /\/bytecode\.pkl$/, shown(bare));
    assert.equal(hit?.evidence, "aten::from_file");
    assert.ok(bare.findings.some((f) => f.rule === "MG121" && /mobile bytecode/.test(f.message)), shown(bare));
  });

  test("from_file split from its call by a comment or a line continuation is found, as TorchScript's lexer joins them", async () => {
    for (const name of ["torchscript_from_file_comment.pt", "torchscript_from_file_continued.pt"]) {
      const result = await scanFile(join(MODERN, name), name);
      assert.deepEqual(loud(result).map((f) => f.rule), ["MG122"], shown(result));
    }
  });

  test("a module saved as a flatbuffer, which torch.jit.load runs, is recognised by content and not passed unread", async () => {
    const result = await scanFile(join(MODERN, "torchscript_flatbuffer.pt"), "model.pt");
    assert.equal(result.format, "torchscript-flatbuffer");
    assert.deepEqual(loud(result).map((f) => [f.rule, f.severity]), [["MG126", "high"]], shown(result));
  });
});

describe("torch.distributed.checkpoint", () => {
  const shard = readFileSync(SHARD);
  const ends = archiveEnds(shard);

  test("the committed shard holds several torch.save archives back to back", () => {
    assert.ok(ends.length >= 10, `${ends.length} archives`);
    assert.equal(ends[ends.length - 1], shard.length);
  });

  test("a shard is recognised by content and every archive is scanned as a PyTorch archive", async () => {
    const result = await scanBytes("renamed.bin", shard);
    assert.equal(result.format, "pytorch-dcp");
    assert.ok(!result.findings.some((f) => ["MG140", "MG141", "MG144"].includes(f.rule)), shown(result));
    assert.deepEqual(loud(result), [], shown(result));

    const ctx = new RecordingContext([], undefined, 0, "shard.distcp", "shard.distcp");
    await scanDcpShard(new BufferSource("shard.distcp", shard), ctx);
    assert.equal(ctx.refined, "pytorch-dcp");
    assert.deepEqual(ctx.reports, []);
    const starts = [0, ...ends.slice(0, -1)];
    assert.deepEqual(
      ctx.members,
      starts.map((s, i) => ({ name: `<archive ${i + 1} at ${s}>`, size: ends[i]! - s })),
    );
  });

  test("a malicious pickle spliced into the 2nd archive is found and named", async () => {
    const result = await scanFile(join(MODERN, "dcp_spliced", "__0_0.distcp"), "__0_0.distcp");
    assert.equal(result.format, "pytorch-dcp");
    const hit = result.findings.find((f) => f.rule === "MG100");
    assert.ok(hit, shown(result));
    assert.match(hit.location.member ?? "", /^<archive 2 at \d+> > archive\/data\.pkl$/);
    assert.equal(result.verdict, "block");
  });

  test("bytes between, before and after the archives are reported and scanned", async () => {
    const junk = await scanFile(join(MODERN, "dcp_junk", "__0_0.distcp"), "__0_0.distcp");
    assert.equal(junk.format, "pytorch-dcp");
    assert.ok(junk.findings.some((f) => f.rule === "MG144" && /between torch\.save archives/.test(f.message)), shown(junk));
    assert.ok(!junk.findings.some((f) => f.rule === "MG140"), shown(junk));

    const tail = await scanBytes("tail.distcp", Buffer.concat([shard, Buffer.from("trailing bytes")]));
    assert.equal(tail.format, "pytorch-dcp");
    assert.ok(tail.findings.some((f) => f.rule === "MG144" && /after the last torch\.save archive/.test(f.message)), shown(tail));

    // A pickle before the first archive: reported, and scanned by content.
    const head = Buffer.from([0x80, 0x02, 0x63, ...Buffer.from("os\nsystem\n"), 0x58, 1, 0, 0, 0, 0x78, 0x85, 0x52, 0x2e]);
    const lead = await scanBytes("lead.distcp", Buffer.concat([head, shard]));
    assert.ok(lead.findings.some((f) => f.rule === "MG144" && /before the first torch\.save archive/.test(f.message)), shown(lead));
    assert.ok(lead.findings.some((f) => f.rule === "MG100" && f.location.member === "<bytes at 0>"), shown(lead));
  });

  test("an archive whose directory cannot start anywhere stops the walk with a finding, and the rest is scanned by content", async () => {
    const broken = Buffer.from(shard);
    // torch writes zip64 end records: the last archive's directory offset, far past the file.
    const zip64 = ends[ends.length - 1]! - 22 - 20 - 56;
    assert.equal(broken.readUInt32LE(zip64), 0x06064b50);
    broken.writeBigUInt64LE(0x7fffffffn, zip64 + 48);
    const ctx = new RecordingContext([], undefined, 0, "shard.distcp", "shard.distcp");
    await scanDcpShard(new BufferSource("shard.distcp", broken), ctx);
    assert.ok(ctx.rules().includes("MG141"), JSON.stringify(ctx.reports));
    assert.deepEqual(ctx.members.map((m) => m.name), ["<bytes at 0>"]);
  });

  test("the pickled .metadata is recognised as a pickle and scanned", async () => {
    const result = await scanFile(join(MODERN, "dcp_checkpoint", ".metadata"), ".metadata");
    assert.equal(result.format, "pickle");
    assert.equal(result.skipped, undefined);
    // Whatever remains is the allowlist's to decide (DCP's own classes), never a format problem.
    const rules = new Set(result.findings.map((f) => f.rule));
    for (const r of rules) assert.ok(["MG101", "MG102"].includes(r), shown(result));
  });
});
