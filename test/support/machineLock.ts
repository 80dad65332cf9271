/**
 * A lock shared by every process on the machine, for tests that use fixed host resources (a port
 * or a path a committed fixture names): two copies of the suite running at once take turns instead
 * of seeing each other. A lock whose holder has died is taken over.
 */
import { openSync, closeSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Waits for the lock `name` (polling; `watchdogMs` is a generous bound, not an expectation) and returns its release. */
export async function machineLock(name: string, watchdogMs = 600_000): Promise<() => void> {
  const path = join(tmpdir(), `modelgate-lock-${name}`);
  const started = Date.now();
  for (;;) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = Number(readFileSync(path, { encoding: "utf8", flag: "r" }).trim() || "0");
    if (holder > 0 && !alive(holder)) {
      rmSync(path, { force: true });
      continue;
    }
    if (Date.now() - started > watchdogMs) throw new Error(`the machine-wide lock ${path} is still held by process ${holder}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
