/**
 * Leases as lock files in a folder of the store (`locks/`), so that processes sharing the store on
 * one machine or over a shared file system fetch and scan a file once between them. A lease is a file
 * created with O_EXCL; its holder touches it while working, and a lease nobody touched for `staleMs`
 * (its holder was killed) is broken. Breaking one races only with another breaker: both may then fetch
 * the same file, which stays correct (the blob's name is its content), only not once.
 */
import { createHash, randomUUID } from "node:crypto";
import { mkdir, open, rm, stat, utimes } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export interface LeaseTiming {
  /** A lease untouched for this long is taken over. */
  staleMs: number;
  /** How often a waiting process looks again. */
  pollMs: number;
}

export const DEFAULT_LEASE_TIMING: LeaseTiming = { staleMs: 30_000, pollMs: 25 };

export class FileLeases {
  private constructor(
    private readonly dir: string,
    private readonly timing: LeaseTiming,
  ) {}

  static async open(storeDir: string, timing: LeaseTiming = DEFAULT_LEASE_TIMING): Promise<FileLeases> {
    const dir = join(storeDir, "locks");
    await mkdir(dir, { recursive: true });
    return new FileLeases(dir, timing);
  }

  async exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    const path = join(this.dir, `${createHash("sha256").update(key).digest("hex")}.lock`);
    await this.acquire(path);
    const touch = setInterval(() => {
      const now = new Date();
      utimes(path, now, now).catch(() => undefined);
    }, Math.max(1, Math.floor(this.timing.staleMs / 3)));
    try {
      return await work();
    } finally {
      clearInterval(touch);
      await rm(path, { force: true });
    }
  }

  private async acquire(path: string): Promise<void> {
    const owner = `${hostname()} ${process.pid} ${randomUUID()}\n`;
    for (;;) {
      try {
        const handle = await open(path, "wx");
        await handle.writeFile(owner);
        await handle.close();
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      const held = await stat(path).catch(() => undefined);
      if (held && Date.now() - held.mtimeMs > this.timing.staleMs) {
        await rm(path, { force: true });
        continue;
      }
      await sleep(this.timing.pollMs);
    }
  }
}
