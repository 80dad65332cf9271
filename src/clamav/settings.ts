/**
 * Which clamd, how large a file and how long a silence: the policy's `clamav:` key, then the command
 * line's `--clamav [ADDRESS]`, over the defaults. Either one turns the check on.
 */
import { UsageError } from "../errors.js";
import { parseClamdAddress, type ClamdAddress } from "./client.js";

export const CLAMAV_DEFAULTS = Object.freeze({
  /** Debian's clamd socket (clamav-daemon). */
  address: { path: "/var/run/clamav/clamd.ctl" } as ClamdAddress,
  /**
   * Files larger than this are not sent (and are reported, MG171): ClamAV cannot scan files over
   * 2 GB, and it reads every byte, so a remote file is downloaded whole. clamd also refuses streams
   * over its own StreamMaxLength (100M; 25M in Debian's clamd.conf).
   */
  maxBytes: 2 * 1024 * 1024 * 1024,
  /** clamd silent for this long fails the scan. */
  timeoutMs: 120_000,
});

export interface ClamavSettings {
  address: ClamdAddress;
  maxBytes: number;
  timeoutMs: number;
}

/** The policy file's `clamav:` mapping, parsed (src/policy/policy.ts); absent keys take the defaults. */
export interface ClamavPolicy {
  address?: ClamdAddress;
  maxBytes?: number;
  timeoutMs?: number;
}

/** `--clamav` alone is `true`; with a value it names the address. */
export type ClamavFlag = string | true | undefined;

/** The settings in force, or undefined when neither the policy nor the command line asks for ClamAV. */
export function clamavSettings(policy: ClamavPolicy | undefined, flag: ClamavFlag): ClamavSettings | undefined {
  if (policy === undefined && flag === undefined) return undefined;
  let address = policy?.address ?? CLAMAV_DEFAULTS.address;
  if (typeof flag === "string") {
    const parsed = parseClamdAddress(flag);
    if (!parsed) throw new UsageError(`--clamav: ${JSON.stringify(flag)} is neither a socket path (with a /) nor HOST:PORT`);
    address = parsed;
  }
  return { address, maxBytes: policy?.maxBytes ?? CLAMAV_DEFAULTS.maxBytes, timeoutMs: policy?.timeoutMs ?? CLAMAV_DEFAULTS.timeoutMs };
}

/** clamd.conf's own size notation: bytes, or a number with K, M or G (powers of 1024). */
export function parseClamavSize(text: string): number | undefined {
  const m = /^(\d+)([KMG])?$/i.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * 1024 ** " KMG".indexOf((m[2] ?? " ").toUpperCase());
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
