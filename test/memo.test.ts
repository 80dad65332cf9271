/** The pickle memo: dense keys paged, scattered and huge keys kept apart, never confused. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Memo } from "../src/pickle/memo.js";
import { FORGOTTEN, PLAIN_DATA } from "../src/pickle/values.js";

test("sequential keys are stored and counted", () => {
  const m = new Memo();
  for (let i = 0; i < 200_000; i++) m.set(i, i);
  assert.equal(m.count, 200_000);
  assert.equal(m.get(123_456), 123_456);
  assert.equal(m.get(200_000), undefined);
});

test("the first page grows as keys reach past it: earlier keys stay, keys not yet stored read as unset", () => {
  const m = new Memo();
  for (const k of [0, 3, 255, 256, 1000, 4095, 300]) m.set(k, `v${k}`);
  for (const k of [0, 3, 255, 256, 1000, 4095, 300]) assert.equal(m.get(k), `v${k}`, String(k));
  for (const k of [1, 257, 2000, 4094]) assert.equal(m.get(k), undefined, String(k));
  const fresh = new Memo();
  fresh.set(0, "a");
  assert.equal(fresh.get(3000), undefined, "a read past a short page finds nothing");
  assert.equal(m.count, 7);
});

test("None, 0, False and the empty string are stored values, not holes", () => {
  const m = new Memo();
  [null, 0, false, ""].forEach((v, i) => m.set(i, v));
  assert.deepEqual([0, 1, 2, 3].map((k) => m.get(k)), [null, 0, false, ""]);
});

test("a key past 32 bits does not alias a small key", () => {
  const m = new Memo();
  m.set(5, "safe");
  m.set(2 ** 32 + 5, "other");
  assert.equal(m.get(5), "safe");
  assert.equal(m.get(2 ** 32 + 5), "other");
  assert.equal(m.count, 2);
});

test("a scattered key stored before its page exists is still found after the page is allocated", () => {
  const m = new Memo();
  m.set(70_000, "far");
  for (let i = 0; i < 70_001; i++) if (i !== 70_000) m.set(i, i);
  assert.equal(m.get(70_000), "far");
  m.set(70_000, "updated");
  assert.equal(m.get(70_000), "updated");
  assert.equal(m.count, 70_001);
});

test("scattered LONG_BINPUT keys do not allocate a page each", () => {
  const m = new Memo();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 1024; i++) m.set(i * 65_536 * 4 + 1, i);
  assert.ok(process.memoryUsage().heapUsed - before < 32 * 1024 * 1024);
  assert.equal(m.get(4 * 65_536 * 4 + 1), 4);
});

test("keys a page apart do not allocate a page each (a 20,000-key memo must not cost gigabytes)", () => {
  const m = new Memo();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 20_000; i++) m.set(i * 4096, null);
  assert.ok(process.memoryUsage().heapUsed - before < 32 * 1024 * 1024, `${process.memoryUsage().heapUsed - before} bytes`);
  assert.equal(m.get(19_999 * 4096), null);
  assert.equal(m.get(4096 + 1), undefined);
  assert.equal(m.count, 20_000);
});

test("a full page of placeholders costs about a byte a slot, and each reads back as stored", () => {
  const m = new Memo();
  const n = 4_000_000;
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) m.set(i, i % 3 === 0 ? FORGOTTEN : PLAIN_DATA);
  assert.ok(process.memoryUsage().heapUsed - before < n * 2, `${process.memoryUsage().heapUsed - before} bytes for ${n} entries`);
  for (const k of [0, 1, 2, 3, 4095, 4096, n - 1]) assert.equal(m.get(k), k % 3 === 0 ? FORGOTTEN : PLAIN_DATA, String(k));
  m.set(4097, "a real value");
  m.set(4098, FORGOTTEN);
  assert.deepEqual([m.get(4096), m.get(4097), m.get(4098), m.get(4099)], [PLAIN_DATA, "a real value", FORGOTTEN, PLAIN_DATA]);
  assert.equal(m.count, n);
});

test("half-filled pages of placeholders are compacted once the next page starts", () => {
  const m = new Memo();
  const before = process.memoryUsage().heapUsed;
  for (let p = 0; p < 2000; p++) for (let i = 0; i < 2048; i++) m.set(p * 4096 + i, PLAIN_DATA);
  assert.ok(process.memoryUsage().heapUsed - before < 4_096_000 * 3, `${process.memoryUsage().heapUsed - before} bytes for ${2000 * 2048} entries`);
  assert.equal(m.get(1999 * 4096 + 2047), PLAIN_DATA);
  assert.equal(m.get(5 * 4096 + 3000), undefined);
  m.set(5 * 4096 + 3000, FORGOTTEN);
  assert.equal(m.get(5 * 4096 + 3000), FORGOTTEN);
  assert.equal(m.count, 2000 * 2048 + 1);
});

test("a page full of plain-data placeholders is compacted, and expanded when a slot gets a real value", () => {
  const m = new Memo();
  for (let i = 0; i < 3 * 4096; i++) m.set(i, PLAIN_DATA);
  m.set(5000, "restored");
  m.set(6000, PLAIN_DATA);
  assert.equal(m.get(5000), "restored");
  assert.equal(m.get(4999), PLAIN_DATA);
  assert.equal(m.get(6000), PLAIN_DATA);
  assert.equal(m.get(9000), PLAIN_DATA);
  assert.equal(m.count, 3 * 4096);
  m.set(9000, "another");
  assert.equal(m.get(9000), "another");
  assert.equal(m.get(5000), "restored");
});
