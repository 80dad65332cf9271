/** Calls over a MessagePort (src/portCalls.ts): every call settles, with a reply or with `gone`, never hangs. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MessageChannel } from "node:worker_threads";
import { callThrough, servePort } from "../src/portCalls.js";
import { WATCHDOG_MS } from "./support/timeout.js";

type Reply = { ok: true; n: number } | { ok: false; why: string };
const GONE: Reply = { ok: false, why: "gone" };
const failed = (err: unknown): Reply => ({ ok: false, why: `failed: ${err instanceof Error ? err.message : String(err)}` });

test("a call is answered by the serving side; one it rejects comes back as a failure", async () => {
  const port = servePort(async (n: number): Promise<Reply> => {
    if (n < 0) throw new Error("negative");
    return { ok: true, n: n * 2 };
  }, failed, () => []);
  const call = callThrough<number, Reply>(port, GONE, () => []);
  assert.deepEqual(await Promise.all([call(2), call(-1), call(5)]), [{ ok: true, n: 4 }, { ok: false, why: "failed: negative" }, { ok: true, n: 10 }]);
  port.close();
});

test("a reply that cannot be sent comes back as a failure", async () => {
  // A buffer listed twice cannot be moved: postMessage throws on the serving side.
  const twice = new ArrayBuffer(8);
  const unsendable = servePort(async () => ({ ok: true, n: 1 }) as Reply, failed, () => [twice, twice]);
  const reply = await callThrough<number, Reply>(unsendable, GONE, () => [])(1);
  assert.match(reply.ok ? "" : reply.why, /^failed: .*duplicate/);
  unsendable.close();

  // A view of a buffer already moved elsewhere (detached) cannot be cloned either.
  const { port1: away } = new MessageChannel();
  const detached = new Uint8Array(8);
  away.postMessage(detached, [detached.buffer]);
  away.close();
  const uncloneable = servePort(async () => ({ ok: true, n: detached }) as unknown as Reply, failed, () => []);
  assert.match(JSON.stringify(await callThrough<number, Reply>(uncloneable, GONE, () => [])(1)), /detached/);
  uncloneable.close();
});

// A watchdog only: without its answer a call would wait forever.
test("a reply that arrives but cannot be read back (messageerror) fails every call in flight", { timeout: WATCHDOG_MS }, async () => {
  const never = servePort(() => new Promise<Reply>(() => undefined), failed, () => []);
  const call = callThrough<number, Reply>(never, GONE, () => []);
  const inFlight = [call(1), call(2)];
  never.emit("messageerror", new Error("could not deserialize"));
  assert.deepEqual(await Promise.all(inFlight), [GONE, GONE]);
  never.close();
});
