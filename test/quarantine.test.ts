/** Quarantine: blocked files move out of reach and are never lost, whatever fails on the way. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { listQuarantine, nodeMoveFs, purgeEntry, quarantineFile, restoreEntry, type MoveFs } from "../src/policy/index.js";
import { tempFolders } from "./support/tempFolders.js";

const TOOL = { version: "0.1.0", rulesVersion: "1" };
const CONTENT = Buffer.from("\x80\x02cposix\nsystem\nq\x00.", "latin1");
const SHA = createHash("sha256").update(CONTENT).digest("hex");

async function blockedFile(root: string): Promise<string> {
  const path = join(root, "models", "evil.pkl");
  await mkdir(join(root, "models"), { recursive: true });
  await writeFile(path, CONTENT);
  return path;
}

/** The real layer, except that moving the original across devices fails as it does between file systems. */
function crossDevice(original: string, extra: Partial<MoveFs> = {}): MoveFs {
  return {
    ...nodeMoveFs,
    rename: (from, to) => (from === original ? Promise.reject(Object.assign(new Error("EXDEV: cross-device link"), { code: "EXDEV" })) : nodeMoveFs.rename(from, to)),
    ...extra,
  };
}

describe("quarantine", () => {
  const tempFolder = tempFolders("modelgate-q-");
  const shmFolder = tempFolders("modelgate-q-", "/dev/shm");

  it("moves a file with a sidecar, lists it, restores it with its hash checked, and purges", async () => {
    const root = await tempFolder();
    const path = await blockedFile(root);
    const dir = join(root, "quarantine");
    const entry = await quarantineFile(path, dir, { findings: [], decision: { verdict: "block", rule: "fail_on", reason: "MG100" }, tool: TOOL });
    assert.ok(!existsSync(path));
    assert.deepEqual([entry.originalPath, entry.sha256, entry.size], [path, SHA, CONTENT.length]);
    const listed = await listQuarantine(dir);
    assert.deepEqual(listed.map((e) => [e.id, e.present, e.decision?.rule]), [[entry.id, true, "fail_on"]]);
    assert.deepEqual((await readFile(join(dir, `${entry.id}.quarantined`))).toString("latin1"), CONTENT.toString("latin1"));

    await writeFile(path, "someone else's file");
    await assert.rejects(restoreEntry(dir, entry.id), /already exists/, "restore never overwrites");
    assert.equal(await restoreEntry(dir, entry.id, join(root, "restored.pkl")), join(root, "restored.pkl"));
    assert.deepEqual(await readFile(join(root, "restored.pkl")), CONTENT);
    assert.deepEqual(await listQuarantine(dir), []);

    const again = await quarantineFile(join(root, "restored.pkl"), dir, { findings: [], tool: TOOL });
    await purgeEntry(dir, again.id);
    assert.deepEqual(await readdir(dir), []);
  });

  it("leaves the original in place when the move is interrupted between copy and removal", async () => {
    const root = await tempFolder();
    const path = await blockedFile(root);
    const dir = join(root, "quarantine");
    const fs = crossDevice(path, {
      unlink: (p) => (p === path ? Promise.reject(new Error("killed before the original was removed")) : nodeMoveFs.unlink(p)),
    });
    await assert.rejects(quarantineFile(path, dir, { findings: [], tool: TOOL }, fs), /killed before the original was removed/);
    assert.deepEqual(await readFile(path), CONTENT, "the original is intact");
    assert.deepEqual(await readdir(dir), [], "the copy and the sidecar were undone");
  });

  it("discards a copy that does not match the original's hash", async () => {
    const root = await tempFolder();
    const path = await blockedFile(root);
    const dir = join(root, "quarantine");
    const fs = crossDevice(path, { copyFile: async (_from, to) => writeFile(to, "truncated", { flag: "wx" }) });
    await assert.rejects(quarantineFile(path, dir, { findings: [], tool: TOOL }, fs), /differs from the original/);
    assert.deepEqual(await readFile(path), CONTENT);
    assert.deepEqual(await readdir(dir), []);
  });

  it("moves across file systems by copy, flush, rename and removal", async () => {
    const root = await tempFolder();
    const path = await blockedFile(root);
    // /dev/shm (tmpfs) is another file system than the temp folder on most machines; where it is not, EXDEV is forced.
    const shm = existsSync("/dev/shm") && statSync("/dev/shm").dev !== statSync(root).dev ? await shmFolder() : undefined;
    const dir = join(shm ?? root, "quarantine");
    const synced: string[] = [];
    const base = shm ? nodeMoveFs : crossDevice(path);
    const fs: MoveFs = { ...base, sync: (p) => (synced.push(p), base.sync(p)) };
    const entry = await quarantineFile(path, dir, { findings: [], tool: TOOL }, fs);
    assert.ok(!existsSync(path));
    assert.deepEqual(await readFile(join(dir, `${entry.id}.quarantined`)), CONTENT);
    assert.ok(synced.includes(join(dir, `${entry.id}.quarantined.partial`)), "the copy was flushed before it was renamed into place");
    assert.deepEqual((await readdir(dir)).sort(), [`${entry.id}.json`, `${entry.id}.quarantined`]);
    // And back again, across the same boundary.
    await restoreEntry(dir, entry.id, undefined, shm ? nodeMoveFs : crossDevice(join(dir, `${entry.id}.quarantined`)));
    assert.deepEqual(await readFile(path), CONTENT);
  });
});
