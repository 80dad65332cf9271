/** SHA-256, the identity that locks, caches, audit lines, quarantine and the gateway's store record. */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

/** Of a whole file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Of bytes or text (UTF-8) held in memory. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}
