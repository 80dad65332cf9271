/**
 * Helpers the fuzz tests share: a bound on work (CPU time, which a busy machine does not inflate the
 * way it does wall time), a generous watchdog for an async hang, and a short printable form of an input.
 */

export class Hang extends Error {}

/** CPU time (user + system, ms) one scan of a small hostile input may use. Work, not waiting: load on the machine barely moves it. */
export const CPU_BOUND_MS = 10_000;

/** Wall-clock watchdog: only ends an input that would otherwise never settle; never the assertion about how much work was done. */
export const WATCHDOG_MS = 120_000;

/** CPU time (ms) the process used since `start` (a process.cpuUsage() value). */
export function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/** Rejects with Hang when `p` has not settled within `ms` (an async loop; a synchronous one shows when it ends). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Hang(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export function hexOf(bytes: Uint8Array, max = 256): string {
  const b = Buffer.from(bytes);
  return b.length <= max ? b.toString("hex") : `${b.subarray(0, max).toString("hex")}… (${b.length} bytes)`;
}
