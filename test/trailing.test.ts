/**
 * Bytes after the last STOP (THREATS P8). A second pickle right after the first is analysed as its
 * own stream; one hidden behind a separator or padding, which a resynchronising reader would run,
 * is found and scanned as a nested member. Junk with no pickle in it stays a low finding.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { scanSource } from "../src/engine.js";
import { BufferSource } from "../src/sources/byteSource.js";
import { OP, assemble, call1, global } from "./support/pickle.js";

const BENIGN = assemble(OP.PROTO, 2, OP.EMPTY_DICT, OP.STOP);
const SYSTEM = assemble(OP.PROTO, 2, call1(global("posix", "system"), "echo hidden"), OP.STOP);

async function scan(bytes: Buffer): Promise<{ verdict: string; findings: { rule: string; severity: string; where: string }[] }> {
  const source = Object.assign(new BufferSource("t.pkl", bytes), { bytesRead: 0 });
  const r = await scanSource(source, "t.pkl");
  return { verdict: r.verdict, findings: r.findings.map((f) => ({ rule: f.rule, severity: f.severity, where: f.location.member ?? "" })) };
}

for (const [what, separator] of [
  ["one separator byte", Buffer.from([0x0a])],
  ["padding of zeros", Buffer.alloc(300)],
  ["text that is not a pickle", Buffer.from("-- end of model --\n")],
] as const) {
  test(`a pickle hidden after the last STOP behind ${what} is scanned and blocks at critical`, async () => {
    const r = await scan(Buffer.concat([BENIGN, separator, SYSTEM]));
    assert.equal(r.verdict, "block");
    assert.ok(
      r.findings.some((f) => f.rule === "MG100" && f.severity === "critical" && /after the last STOP/.test(f.where)),
      JSON.stringify(r.findings),
    );
  });
}

test("junk after the last STOP with no pickle in it is only the low trailing-data finding", async () => {
  const r = await scan(Buffer.concat([BENIGN, Buffer.from([0x0a, 0x80, 0x09, 0x80]), Buffer.from("tail")]));
  assert.deepEqual(r.findings.map((f) => [f.rule, f.severity]), [["MG113", "low"]]);
  assert.equal(r.verdict, "pass");
});

test("a benign pickle hidden after junk passes (found and scanned, nothing in it)", async () => {
  const r = await scan(Buffer.concat([BENIGN, Buffer.from([0x00]), BENIGN]));
  assert.equal(r.verdict, "pass");
  assert.ok(r.findings.every((f) => f.severity === "low" || f.severity === "info"), JSON.stringify(r.findings));
});
