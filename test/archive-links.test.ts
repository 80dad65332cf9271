/**
 * Link members that escape the extraction folder (MG142): tar symbolic and hard links (NeMo's
 * restore extracts .nemo tars with tarfile, which creates the link and writes later members
 * through it), and zip entries whose Unix mode is S_IFLNK (unzip and bsdtar create the link).
 * Archives are built here byte by byte; payloads are harmless text.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { scan } from "../src/index.js";
import { unsafeMemberName } from "../src/formats/container.js";
import { scanTar, TarFormatError, tarNumber } from "../src/formats/tar.js";
import { scanZip } from "../src/formats/zip.js";
import { BufferSource } from "../src/sources/byteSource.js";
import { RecordingContext } from "./support/context.js";
import { plainZip } from "./support/zip.js";

// ---- builders

interface TarMember {
  name: string;
  /** "0" file, "1" hard link, "2" symbolic link. */
  type?: string;
  data?: string;
  link?: string;
}

function tarHeader(name: string, type: string, size: number, link = ""): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, "latin1");
  h.write("0000644\0", 100, "latin1");
  h.write("0000000\0", 108, "latin1");
  h.write("0000000\0", 116, "latin1");
  h.write(`${size.toString(8).padStart(11, "0")}\0`, 124, "latin1");
  h.write("00000000000\0", 136, "latin1");
  h.write(type, 156, "latin1");
  h.write(link, 157, "latin1");
  h.write("ustar\x0000", 257, "latin1");
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return h;
}

function block(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

/** A ustar archive; link targets longer than the header's 100 bytes go in a GNU "K" record, as GNU tar writes them. */
function tar(members: readonly TarMember[]): Buffer {
  const blocks: Buffer[] = [];
  for (const m of members) {
    const data = Buffer.from(m.data ?? "", "latin1");
    let link = m.link ?? "";
    if (link.length > 100) {
      blocks.push(tarHeader("././@LongLink", "K", link.length + 1), block(Buffer.from(`${link}\0`, "latin1")));
      link = link.slice(0, 100);
    }
    blocks.push(tarHeader(m.name, m.type ?? "0", data.length, link), block(data));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

async function tarFindings(members: readonly TarMember[]): Promise<RecordingContext> {
  const ctx = new RecordingContext();
  await scanTar(new BufferSource("t.tar", tar(members)), ctx);
  return ctx;
}

/** A zip whose entries listed in `links` are marked as made on Unix with mode S_IFLNK|0777; their content is the target. */
function zipWithLinks(members: readonly { name: string; data: string }[], links: ReadonlySet<string>, madeBy = 3): Buffer {
  const bytes = plainZip(members.map((m) => ({ name: m.name, data: Buffer.from(m.data) })));
  let at = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  while (at >= 0) {
    const nameLength = bytes.readUInt16LE(at + 28);
    const name = bytes.toString("utf8", at + 46, at + 46 + nameLength);
    bytes.writeUInt8(madeBy, at + 5);
    bytes.writeUInt32LE(((links.has(name) ? 0o120777 : 0o100644) << 16) >>> 0, at + 38);
    at = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), at + 46);
  }
  return bytes;
}

async function zipFindings(bytes: Buffer): Promise<RecordingContext> {
  const ctx = new RecordingContext();
  await scanZip(new BufferSource("t.zip", bytes), ctx);
  return ctx;
}

const traversals = (ctx: RecordingContext): string[] => ctx.reports.filter((r) => r.rule === "MG142").map((r) => r.extra.evidence ?? "");

// ---- tar

test("tar: a symbolic link to an absolute path is MG142 at high, naming link and target", async () => {
  const ctx = await tarFindings([
    { name: "model/weights", type: "2", link: "/etc" },
    { name: "model/weights/passwd", data: "harmless\n" },
  ]);
  assert.deepEqual(traversals(ctx), ["model/weights -> /etc"]);
  const finding = ctx.reports.find((r) => r.rule === "MG142")!;
  assert.match(finding.message, /symbolic link to "\/etc", which is an absolute path/);
  assert.equal(finding.extra.offset, 0);
});

test("tar: a symbolic link whose '..' steps leave the archive root is MG142; one that stays inside is not", async () => {
  const ctx = await tarFindings([
    { name: "model/config.yaml", data: "a: 1\n" },
    { name: "model/escape", type: "2", link: "../../home/user/.ssh/id_rsa" },
    { name: "model/sub/inside", type: "2", link: "../config.yaml" },
    { name: "model/sibling", type: "2", link: "sub/../config.yaml" },
  ]);
  assert.deepEqual(traversals(ctx), ["model/escape -> ../../home/user/.ssh/id_rsa"]);
});

test("tar: hard links resolve from the archive root: '../x' escapes, 'model/config.yaml' does not", async () => {
  const ctx = await tarFindings([
    { name: "model/config.yaml", data: "a: 1\n" },
    { name: "model/copy", type: "1", link: "model/config.yaml" },
    { name: "model/out", type: "1", link: "../outside" },
    { name: "model/passwd", type: "1", link: "/etc/passwd" },
  ]);
  assert.deepEqual(traversals(ctx), ["model/out -> ../outside", "model/passwd -> /etc/passwd"]);
  assert.ok(ctx.reports.filter((r) => r.rule === "MG142").every((r) => /hard link/.test(r.message)));
});

test("tar: a chain of links that are each harmless alone escapes through the other link", async () => {
  // up -> "." is the root; "up/.." lexically is "model", but through the link it is the root's parent.
  const ctx = await tarFindings([
    { name: "up", type: "2", link: "." },
    { name: "model/a", type: "2", link: "../up/.." },
  ]);
  assert.deepEqual(traversals(ctx), ["model/a -> ../up/.."]);
});

test("tar: a link whose own folder is a link resolves from where that link points", async () => {
  // a/b -> .. is the root; a/b/c -> .. then climbs above the root.
  const ctx = await tarFindings([
    { name: "a/b", type: "2", link: ".." },
    { name: "a/b/c", type: "2", link: ".." },
  ]);
  assert.deepEqual(traversals(ctx), ["a/b/c -> .."]);
});

test("tar: a link loop is reported (fail closed), not followed forever", async () => {
  const ctx = await tarFindings([
    { name: "x", type: "2", link: "y/z" },
    { name: "y", type: "2", link: "x" },
  ]);
  const messages = ctx.reports.filter((r) => r.rule === "MG142").map((r) => r.message);
  assert.equal(messages.length, 2);
  assert.ok(messages.every((m) => /more than 40 links \(a loop\)/.test(m)), messages.join("\n"));
});

test("tar: resolving many long targets stops at the step bound with MG140 instead of running on", async () => {
  // 64 links of 2,000 steps each are more than the 65,536 steps one archive may take.
  const deep = Array.from({ length: 2000 }, () => "d").join("/");
  const ctx = await tarFindings(Array.from({ length: 64 }, (_, i) => ({ name: `l${i}`, type: "2", link: deep })));
  const limits = ctx.reports.filter((r) => r.rule === "MG140");
  assert.equal(limits.length, 1);
  assert.match(limits[0]!.message, /^tar link targets need more than 65536 path steps to resolve; links from "l32" on were not checked$/);
  assert.deepEqual(traversals(ctx), []);
});

test("tar: a GNU long link name (K record) is the target checked", async () => {
  const long = `${"../".repeat(40)}etc/shadow`;
  const ctx = await tarFindings([{ name: "model/long", type: "2", link: long }]);
  assert.deepEqual(traversals(ctx), [`model/long -> ${long}`]);
});

test("tar: link members' own names are checked like every member name", async () => {
  const ctx = await tarFindings([{ name: "/tmp/planted", type: "2", link: "model" }]);
  assert.deepEqual(
    ctx.reports.filter((r) => r.rule === "MG142").map((r) => r.message),
    ['tar member "/tmp/planted" is an absolute path'],
  );
});

// ---- zip

test("zip: an entry made on Unix with mode S_IFLNK whose content is an absolute path is MG142", async () => {
  const ctx = await zipFindings(
    zipWithLinks(
      [
        { name: "model/config.json", data: "{}" },
        { name: "model/id_rsa", data: "/home/user/.ssh/id_rsa" },
      ],
      new Set(["model/id_rsa"]),
    ),
  );
  assert.deepEqual(traversals(ctx), ["model/id_rsa -> /home/user/.ssh/id_rsa"]);
  assert.match(ctx.reports.find((r) => r.rule === "MG142")!.message, /^zip member "model\/id_rsa" is a symbolic link/);
});

test("zip: a symbolic link that stays inside the folder is fine; a regular file holding a path is not a link", async () => {
  const inside = await zipFindings(
    zipWithLinks(
      [
        { name: "model/config.json", data: "{}" },
        { name: "model/latest", data: "config.json" },
        { name: "notes.txt", data: "../../etc/passwd" },
      ],
      new Set(["model/latest"]),
    ),
  );
  assert.deepEqual(traversals(inside), []);
  // The same mode bits written by a non-Unix host (made-by 0, MS-DOS) are not a Unix mode.
  const dos = await zipFindings(zipWithLinks([{ name: "l", data: "/etc/passwd" }], new Set(["l"]), 0));
  assert.deepEqual(traversals(dos), []);
});

test("zip: a link escaping with '..' through another link is MG142", async () => {
  const ctx = await zipFindings(
    zipWithLinks(
      [
        { name: "here", data: "." },
        { name: "model/up", data: "../here/.." },
      ],
      new Set(["here", "model/up"]),
    ),
  );
  assert.deepEqual(traversals(ctx), ["model/up -> ../here/.."]);
});

// ---- end to end

test("a gzipped tar (.nemo) with a link to a credential file blocks by default", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mg-links-"));
  try {
    const path = join(dir, "model.nemo");
    writeFileSync(path, gzipSync(tar([{ name: "model_config.yaml", data: "a: 1\n" }, { name: "model_weights.ckpt", type: "2", link: "/root/.ssh/id_rsa" }])));
    const report = await scan(path);
    assert.equal(report.verdict, "block");
    const finding = report.files[0]!.findings.find((f) => f.rule === "MG142");
    assert.equal(finding?.severity, "high");
    assert.equal(finding?.evidence, "model_weights.ckpt -> /root/.ssh/id_rsa");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("member names: absolute paths, drive letters and '..' steps, with either separator, escape; other names do not", () => {
  for (const name of ["/etc/passwd", "\\windows\\x", "C:/x", "c:\\x", "../x", "a/../../x", "a\\..\\x", "a/..", "a:b"]) {
    assert.ok(unsafeMemberName(name), name);
  }
  for (const name of ["data/0", "archive/data.pkl", "a..b/c", "x/..y", ".hidden/.x", "", "ab:/c"]) {
    assert.equal(unsafeMemberName(name), undefined, name);
  }
});

test("tar number fields are read as Python's tarfile reads them (torch.load tries every file that is not a zip as a tar)", () => {
  const field = (text: string | number[]): Uint8Array => {
    const b = new Uint8Array(12);
    b.set(typeof text === "string" ? Buffer.from(text, "latin1") : text);
    return b;
  };
  // int(text.strip() or "0", 8) after the text is cut at its first NUL: a sign, 0o, underscores and \x1c-\x1f as space.
  for (const [text, value] of [["0000644\0", 0o644], [" 644 ", 0o644], ["+0o6_44", 0o644], ["0o_7", 7], ["\x1c17\x1f", 0o17], ["", 0], ["12\0junk", 0o12], ["-0", 0]] as const) {
    assert.equal(tarNumber(field(text), 0, 12), value, JSON.stringify(text));
  }
  // Refused as Python refuses them, and negative numbers, which no header field may hold.
  for (const text of ["8", "0x1f", "1__2", "_12", "12_", "-7", "0o", "1 2"]) assert.throws(() => tarNumber(field(text), 0, 12), TarFormatError, JSON.stringify(text));
  assert.throws(() => tarNumber(field([0x31, 0xb2]), 0, 12), TarFormatError, "non-ASCII text");
  assert.equal(tarNumber(field([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2]), 0, 12), 258, "GNU base-256");
});
