/** Helpers the fuzz tests share: a hang detector and a short printable form of an input. */

export class Hang extends Error {}

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
