/**
 * `modelgate convert`: fixtures written by real torch.save / numpy.save are converted and each
 * output tensor is checked against the sha256 PyTorch (or NumPy) computed of `tensor.contiguous()`
 * (the `.expected.json` sidecars from scripts/make_convert_fixtures.py); outputs rescan clean;
 * malicious checkpoints are refused naming the callable, and nothing is left behind.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ExitCode } from "../src/cli/exitCode.js";
import { convertFile } from "../src/convert/convert.js";
import { viewBytes } from "../src/convert/copy.js";
import { convertShards } from "../src/convert/shards.js";
import { ConvertInputError, ConvertRefused, DTYPE_SIZE, type Dtype, type TensorPlan } from "../src/convert/tensors.js";
import { scanFile } from "../src/engine.js";
import { BufferSource } from "../src/sources/byteSource.js";
import { MAIN } from "./support/cli.js";

const FIXTURES = fileURLToPath(new URL("../../test/fixtures/convert/", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "modelgate-convert-"));
after(() => rmSync(work, { recursive: true, force: true }));

interface Expected {
  tensors: Record<string, { dtype: string; shape: number[]; sha256: string }>;
  metadata: Record<string, string>;
  dropped: string[];
}

interface Read {
  tensors: Record<string, { dtype: string; shape: number[]; sha256: string }>;
  metadata: Record<string, string>;
}

/** An independent reader: header JSON, then the sha256 of each tensor's data_offsets range. */
function readSafetensors(path: string): Read {
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString("utf8")) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const data = bytes.subarray(8 + n);
  const out: Read = { tensors: {}, metadata: {} };
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__") {
      out.metadata = info as unknown as Record<string, string>;
      continue;
    }
    const [b, e] = info.data_offsets;
    out.tensors[name] = { dtype: info.dtype, shape: info.shape, sha256: createHash("sha256").update(data.subarray(b, e)).digest("hex") };
  }
  return out;
}

function expected(name: string): Expected {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.expected.json`), "utf8")) as Expected;
}

function fixture(name: string): string {
  return join(FIXTURES, name);
}

function out(name: string): string {
  return join(work, `${name.replace(/\W/g, "_")}.safetensors`);
}

async function assertRescansClean(path: string): Promise<void> {
  const r = await scanFile(path, path);
  assert.equal(r.format, "safetensors");
  assert.deepEqual(r.findings, []);
}

const TORCH_FIXTURES = ["every_dtype.pt", "every_dtype_legacy.pt", "views.pt", "views_legacy.pt", "lightning.ckpt", "module_state_dict.pt", "many.pt", "parameters.pt", "big_endian.pt", "float8.pt"];
const NUMPY_FIXTURES = ["big_endian.npy", "fortran.npy", "arrays.npz", "arrays_compressed.npz"];

describe("convert: every tensor matches what PyTorch / NumPy computed", () => {
  for (const name of [...TORCH_FIXTURES, ...NUMPY_FIXTURES]) {
    it(`${name}: names, dtypes, shapes and sha256 match the sidecar; metadata and dropped keys too; rescans clean`, async () => {
      const want = expected(name);
      const result = await convertFile(fixture(name), out(name));
      const got = readSafetensors(out(name));
      assert.deepEqual(got.tensors, want.tensors);
      const torch = TORCH_FIXTURES.includes(name);
      assert.deepEqual(got.metadata, torch ? { format: "pt", ...want.metadata } : {});
      assert.deepEqual(result.dropped.map((d) => d.name).sort(), [...want.dropped].sort());
      assert.deepEqual(Object.fromEntries(result.tensors.map((t) => [t.name, t.sha256])), Object.fromEntries(Object.entries(want.tensors).map(([k, v]) => [k, v.sha256])));
      await assertRescansClean(out(name));
    });
  }

  it("says which tensors shared one storage (views, a tied tensor) and writes each as its own copy", async () => {
    const result = await convertFile(fixture("views.pt"), out("views-shared"));
    assert.deepEqual(result.shared, [{ storage: "views/data/0", names: ["base", "transposed", "rows", "every_other_column", "row2", "tied"] }]);
    const got = readSafetensors(out("views-shared"));
    assert.equal(got.tensors["tied"]!.sha256, got.tensors["base"]!.sha256);
    assert.notEqual(got.tensors["transposed"]!.sha256, got.tensors["base"]!.sha256);
  });

  it("lays tensors out as the reference writer does: by decreasing element size, each aligned, header padded to 8 bytes", async () => {
    await convertFile(fixture("every_dtype.pt"), out("layout"));
    const bytes = readFileSync(out("layout"));
    const n = Number(bytes.readBigUInt64LE(0));
    assert.equal(n % 8, 0);
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString()) as Record<string, { dtype: Dtype; data_offsets: [number, number] }>;
    const entries = Object.entries(header).filter(([k]) => k !== "__metadata__").sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
    const sizes = entries.map(([, v]) => DTYPE_SIZE[v.dtype]);
    assert.deepEqual(sizes, [...sizes].sort((a, b) => b - a));
    for (const [, v] of entries) assert.equal(v.data_offsets[0] % DTYPE_SIZE[v.dtype], 0);
  });
});

describe("convert: sharded checkpoints", () => {
  it("converts each shard to model-0000i-of-00002.safetensors and writes model.safetensors.index.json", async () => {
    const dir = join(work, "sharded");
    const src = join(FIXTURES, "sharded");
    cpSync(src, dir, { recursive: true });
    const want = expected("sharded/pytorch_model.bin.index.json");
    const { index, files } = await convertShards(join(dir, "pytorch_model.bin.index.json"));
    assert.equal(index, join(dir, "model.safetensors.index.json"));
    assert.deepEqual(files.map((f) => f.output), [join(dir, "model-00001-of-00002.safetensors"), join(dir, "model-00002-of-00002.safetensors")]);
    const written = JSON.parse(readFileSync(index, "utf8")) as { metadata: { total_size: number }; weight_map: Record<string, string> };
    const source = JSON.parse(readFileSync(join(src, "pytorch_model.bin.index.json"), "utf8")) as { metadata: { total_size: number }; weight_map: Record<string, string> };
    assert.equal(written.metadata.total_size, source.metadata.total_size);
    assert.deepEqual(Object.keys(written.weight_map).sort(), Object.keys(want.tensors).sort());
    const all: Read["tensors"] = {};
    for (const f of files) {
      Object.assign(all, readSafetensors(f.output).tensors);
      for (const t of f.tensors) assert.equal(written.weight_map[t.name], f.output.slice(dir.length + 1));
      await assertRescansClean(f.output);
    }
    assert.deepEqual(all, want.tensors);
  });

  it("refuses an index whose shard names leave the folder", async () => {
    const path = join(work, "escape.bin.index.json");
    writeFileSync(path, JSON.stringify({ weight_map: { w: "../outside.bin" } }));
    await assert.rejects(convertShards(path, join(work, "escape-out.index.json")), (e: unknown) => e instanceof ConvertInputError && /not a file in the index's folder/.test(e.message));
  });

  it("refuses, unparsed, an index holding more objects and lists than any index does", async () => {
    const path = join(work, "padded.bin.index.json");
    writeFileSync(path, `{"weight_map": {"w": "a.bin"}, "pad": [${Array(1_000_000).fill("{}").join(",")}]}`);
    await assert.rejects(convertShards(path, join(work, "padded-out.index.json")), (e: unknown) => e instanceof ConvertInputError && /more than 1000000 objects and lists/.test(e.message));
  });
});

describe("convert: refusals name the callable and where it is, and leave nothing behind", () => {
  const refused = async (name: string, callable: string, where: RegExp): Promise<void> => {
    const dir = mkdtempSync(join(work, "refused-"));
    const target = join(dir, "out.safetensors");
    await assert.rejects(convertFile(fixture(name), target), (e: unknown) => {
      assert.ok(e instanceof ConvertRefused, String(e));
      assert.equal(e.callable, callable);
      assert.match(e.message, where);
      return true;
    });
    assert.deepEqual(readdirSync(dir), [], "no output and no temp file");
  };

  it("os.system reduced inside a state dict (zip)", () => refused("malicious_os_system.pt", "posix.system", /posix\.system, which executes.*offset \d+ of malicious_os_system\/data\.pkl/));
  it("os.system reduced inside a state dict (legacy)", () => refused("malicious_os_system_legacy.pt", "posix.system", /offset \d+ of the object pickle/));
  it("an unknown class", () => refused("unknown_class.pt", "__main__.Custom", /__main__\.Custom, which is not on the allowlist.*offset \d+ of unknown_class\/data\.pkl/));
});

describe("convert: bad input", () => {
  const bad = (name: string, message: RegExp) => assert.rejects(convertFile(fixture(name), out(`bad-${name}`)), (e: unknown) => e instanceof ConvertInputError && message.test(e.message));

  it("an object array (a pickle) is not converted", () => bad("objects.npy", /dtype=object/));
  it("a plain pickle is not a checkpoint", () => bad("plain.pkl", /is a pickle file/));

  it("quantized and sparse tensors are safe to load but have no safetensors form", async () => {
    const benign = (name: string) => join(FIXTURES, "..", "benign", name);
    await assert.rejects(convertFile(benign("torch_quantized.pt"), out("quantized")), (e: unknown) => e instanceof ConvertInputError && /_rebuild_qtensor.*cannot be converted/.test(e.message));
    await assert.rejects(convertFile(benign("torch_sparse_coo.pt"), out("sparse")), (e: unknown) => e instanceof ConvertInputError && /_rebuild_sparse_tensor.*cannot be converted/.test(e.message));
  });

  it("a view that reaches past its storage (CVE-2026-24747 class) is refused before anything is copied", async () => {
    // Every persistent id of the shared storage declares 24 elements (BININT1 24, then TUPLE); claim 4, so the views overrun it.
    const pickled = readFileSync(fixture("views.pt")).toString("latin1");
    const patched = pickled.replaceAll("K\x18t", "K\x04t");
    assert.notEqual(patched, pickled);
    const path = join(work, "overrun.pt");
    writeFileSync(path, Buffer.from(patched, "latin1"));
    await assert.rejects(convertFile(path, out("overrun")), (e: unknown) => e instanceof ConvertInputError && /reaches byte \d+ of a storage of 16 bytes/.test(e.message));
    assert.equal(existsSync(out("overrun")), false);
  });

  it("refuses to overwrite an existing output unless forced", async () => {
    const target = out("exists");
    writeFileSync(target, "keep me");
    await assert.rejects(convertFile(fixture("fortran.npy"), target), (e: unknown) => e instanceof ConvertInputError && /already exists; pass --force/.test(e.message));
    assert.equal(readFileSync(target, "utf8"), "keep me");
    await convertFile(fixture("fortran.npy"), target, { force: true });
    assert.deepEqual(readSafetensors(target).tensors, expected("fortran.npy").tensors);
  });
});

describe("convert: strided copies", () => {
  /** The element indices a view reads, in C order: the definition the streaming copy must agree with. */
  function naive(shape: number[], stride: number[], offset: number): number[] {
    const out: number[] = [];
    const rec = (d: number, at: number): void => {
      if (d === shape.length) {
        out.push(at);
        return;
      }
      for (let i = 0; i < shape[d]!; i++) rec(d + 1, at + i * stride[d]!);
    };
    rec(0, offset);
    return out;
  }

  async function collect(t: TensorPlan): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const b of viewBytes(t)) parts.push(Buffer.from(b));
    return Buffer.concat(parts);
  }

  it("gathers transposes, steps, broadcast (stride 0) and size-1 dims as the naive definition does, swapping big-endian elements", async () => {
    let seed = 42;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    for (let round = 0; round < 300; round++) {
      const dtype = (["F32", "F16", "I64", "U8"] as const)[rand(4)]!;
      const size = DTYPE_SIZE[dtype];
      const dims = 1 + rand(4);
      const shape = Array.from({ length: dims }, () => 1 + rand(5));
      const stride = shape.map(() => rand(7));
      const offset = rand(5);
      const elements = naive(shape, stride, offset);
      const storageElems = Math.max(...elements) + 1 + rand(3);
      const storage = Buffer.from(Array.from({ length: storageElems * size }, (_, i) => (i * 7 + round) & 0xff));
      const bigEndian = rand(2) === 1;
      const want = Buffer.concat(
        elements.map((e) => {
          const el = Buffer.from(storage.subarray(e * size, (e + 1) * size));
          return bigEndian ? el.reverse() : el;
        }),
      );
      const got = await collect({ name: "t", dtype, shape, stride, offset, storage: new BufferSource("s", storage), storageKey: "s", bigEndian });
      assert.deepEqual(got, want, JSON.stringify({ dtype, shape, stride, offset, bigEndian }));
    }
  });

  it("streams a large contiguous tensor in bounded chunks without altering the source", async () => {
    const storage = Buffer.alloc(10 * 1024 * 1024 + 8);
    for (let i = 0; i < storage.length; i += 4) storage.writeUInt32BE(i, i);
    const before = createHash("sha256").update(storage).digest("hex");
    const chunks: number[] = [];
    const parts: Buffer[] = [];
    const t: TensorPlan = { name: "big", dtype: "F32", shape: [storage.length / 4 - 2], stride: [1], offset: 2, storage: new BufferSource("s", storage), storageKey: "s", bigEndian: true };
    for await (const b of viewBytes(t)) {
      chunks.push(b.length);
      parts.push(b);
    }
    assert.ok(Math.max(...chunks) <= 4 * 1024 * 1024);
    const got = Buffer.concat(parts);
    assert.equal(got.readUInt32LE(0), 8);
    assert.equal(got.readUInt32LE(got.length - 4), storage.length - 4);
    assert.equal(createHash("sha256").update(storage).digest("hex"), before);
  });
});

describe("convert: command line", () => {
  const modelgate = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });

  it("exits 0 and summarises shared storages, metadata and dropped values", () => {
    const dir = mkdtempSync(join(work, "cli-"));
    copyFileSync(fixture("lightning.ckpt"), join(dir, "last.ckpt"));
    const r = modelgate("convert", join(dir, "last.ckpt"));
    assert.equal(r.status, ExitCode.Pass, r.stderr);
    assert.match(r.stdout, /-> .*last\.safetensors: 4 tensors/);
    assert.match(r.stdout, /metadata: format=pt, epoch=3/);
    assert.match(r.stdout, /dropped: lr_schedulers \(empty container\)/);
    assert.ok(existsSync(join(dir, "last.safetensors")));
    const views = modelgate("convert", fixture("views.pt"), join(dir, "views.safetensors"));
    assert.match(views.stdout, /shared storage views\/data\/0: base, transposed.*6 separate copies/);
  });

  it("exits 1 on a malicious checkpoint, naming the callable", () => {
    const r = modelgate("convert", fixture("malicious_os_system.pt"), join(work, "cli-malicious.safetensors"));
    assert.equal(r.status, ExitCode.Blocked);
    assert.match(r.stderr, /posix\.system.*conversion refused/);
    assert.equal(existsSync(join(work, "cli-malicious.safetensors")), false);
  });

  it("exits 4 on input it cannot convert and on an existing output", () => {
    assert.equal(modelgate("convert", fixture("plain.pkl"), join(work, "cli-plain.safetensors")).status, ExitCode.Usage);
    const target = join(work, "cli-exists.safetensors");
    writeFileSync(target, "x");
    const r = modelgate("convert", fixture("fortran.npy"), target);
    assert.equal(r.status, ExitCode.Usage);
    assert.match(r.stderr, /--force/);
  });
});
