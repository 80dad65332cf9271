/**
 * Turning report values into text a person reads: safe strings, sizes, durations, locations.
 * Shared by the text report, the SARIF messages and the CLI's progress line, so all three agree.
 */
import type { Location } from "../types.js";

/**
 * Paths, member names and evidence come from hostile files. Control characters (ANSI escapes,
 * carriage returns that overwrite a line) and bidirectional overrides (Trojan Source, CVE-2021-42574)
 * could make a terminal or CI log show something other than what was found, so they are escaped.
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** "path > member @ offset N": the same spelling everywhere a location is shown. */
export function describeLocation(location: Location): string {
  let text = printable(location.path);
  if (location.member !== undefined) text += ` > ${printable(location.member)}`;
  if (location.offset !== undefined) text += ` @ offset ${location.offset}`;
  return text;
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
