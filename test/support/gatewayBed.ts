/**
 * The set-up the gateway test files share: one fake hub for the file's tests, temp folders removed
 * after them, a gateway started for one test body, and a fetch that reads the whole answer.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { startGateway, type Gateway, type GatewayOptions } from "../../src/gateway/server.js";
import { defaultPolicy } from "../../src/policy/policy.js";
import { FakeHub } from "./fakeHub.js";

export interface GatewayBed {
  /** The hub, once `before` has started it. */
  readonly hub: FakeHub;
  /** A new temp folder named with the file's prefix, removed after the file's tests. */
  tempDir(): Promise<string>;
  /** Runs `body` against a gateway in front of the hub (default policy, state in memory, a fresh store), closed after it. */
  withGateway(options: Partial<GatewayOptions>, body: (gw: Gateway, storeDir: string) => Promise<void>): Promise<void>;
}

/** Registers the file-level hooks; call at the top of a test file. */
export function gatewayBed(prefix: string): GatewayBed {
  let hub: FakeHub | undefined;
  const dirs: string[] = [];
  before(async () => {
    hub = await FakeHub.start();
  });
  after(async () => {
    await hub?.close();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const bed: GatewayBed = {
    get hub(): FakeHub {
      if (!hub) throw new Error("the fake hub is started by the file's before() hook");
      return hub;
    },
    async tempDir() {
      const d = await mkdtemp(join(tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
    async withGateway(options, body) {
      const storeDir = options.storeDir ?? join(await bed.tempDir(), "store");
      const gw = await startGateway({ upstream: new URL(bed.hub.hubUrl), host: "127.0.0.1", port: 0, policy: defaultPolicy(), state: "memory", ...options, storeDir });
      try {
        await body(gw, storeDir);
      } finally {
        await gw.close();
      }
    },
  };
  return bed;
}

/** A request to the gateway, with the whole body read. */
export async function fetchAll(gw: Gateway, path: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
  const res = await fetch(`${gw.url}${path}`, init);
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}
