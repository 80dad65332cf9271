/**
 * State shared by gateway processes on several machines through Redis (`--state redis://…`):
 * verdicts, the identity→blob map and the per-file lease. A lease is a key set with NX and an expiry
 * that its holder extends while it works; it is released (and extended) only by the token that took
 * it, so a holder that outlived its expiry cannot release another's lease.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import { onFirstUse } from "../onFirstUse.js";
import type { DecisionRecord } from "./decisions.js";
import type { LeaseTiming } from "./fileLease.js";
import { verdictKeyText, type GatewayState, type VerdictKey } from "./state.js";

const PREFIX = "modelgate:gateway:";
/** Required when a gateway opens Redis state: a quarter of the bundle that no scan needs to parse at start-up. */
const ioredis = onFirstUse<typeof import("ioredis")>("ioredis");

/** Deletes (or extends) the lease only while it still holds the caller's token. */
const RELEASE = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`;
const EXTEND = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) else return 0 end`;

export class RedisState implements GatewayState {
  readonly description: string;

  private constructor(
    private readonly redis: Redis,
    private readonly timing: LeaseTiming,
    url: URL,
  ) {
    this.description = `redis ${url.host}${url.pathname === "/" ? "" : url.pathname}`;
  }

  /** Connects and checks the server answers; a wrong URL or a server that is down fails start-up. */
  static async open(url: string, timing: LeaseTiming): Promise<RedisState> {
    const parsed = new URL(url);
    const redis = new (ioredis().Redis)(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true });
    redis.on("error", () => undefined); // reported through the commands that fail
    try {
      await redis.connect();
      await redis.ping();
    } catch (err) {
      redis.disconnect();
      throw new Error(`cannot use the Redis state at ${parsed.host}: ${(err as Error).message}`, { cause: err });
    }
    return new RedisState(redis, timing, parsed);
  }

  async verdict(key: VerdictKey): Promise<DecisionRecord | undefined> {
    const text = await this.redis.get(`${PREFIX}verdict:${verdictKeyText(key)}`);
    return text === null ? undefined : (JSON.parse(text) as DecisionRecord);
  }

  async recordVerdict(key: VerdictKey, record: DecisionRecord): Promise<void> {
    await this.redis.set(`${PREFIX}verdict:${verdictKeyText(key)}`, JSON.stringify(record));
  }

  async blobOf(identity: string): Promise<string | undefined> {
    return (await this.redis.get(`${PREFIX}blob:${identity}`)) ?? undefined;
  }

  async rememberBlob(identity: string, sha256: string): Promise<void> {
    await this.redis.set(`${PREFIX}blob:${identity}`, sha256);
  }

  async exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    const lease = `${PREFIX}lease:${key}`;
    const token = randomUUID();
    while ((await this.redis.set(lease, token, "PX", this.timing.staleMs, "NX")) !== "OK") await sleep(this.timing.pollMs);
    const extend = setInterval(() => {
      this.redis.eval(EXTEND, 1, lease, token, String(this.timing.staleMs)).catch(() => undefined);
    }, Math.max(1, Math.floor(this.timing.staleMs / 3)));
    try {
      return await work();
    } finally {
      clearInterval(extend);
      await this.redis.eval(RELEASE, 1, lease, token).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
