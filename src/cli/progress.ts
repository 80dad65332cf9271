/** The "\r"-updated progress line on stderr while a scan runs. */
import type { ScanProgress } from "../engine.js";
import { formatBytes } from "../units.js";
import { printable } from "../report/humanize.js";

/** At most ten redraws a second: enough to look alive, cheap next to scanning thousands of small files. */
const MIN_INTERVAL_MS = 100;
const CLEAR_LINE = "\r\x1b[K";
const BAR_WIDTH = 10;

/** The part of a TTY stream the line needs; injectable for tests. */
export interface ProgressStream {
  write(text: string): unknown;
  columns?: number;
}

export interface ProgressLine {
  update(progress: ScanProgress): void;
  /** Erases the line, so the report starts on a clean line. */
  clear(): void;
}

export function progressLine(stream: ProgressStream, now: () => number = Date.now): ProgressLine {
  let last = -Infinity;
  let drawn = false;
  return {
    update(progress) {
      const t = now();
      if (t - last < MIN_INTERVAL_MS) return;
      last = t;
      drawn = true;
      stream.write(CLEAR_LINE + describe(progress, stream.columns ?? 80));
    },
    clear() {
      if (drawn) stream.write(CLEAR_LINE);
      drawn = false;
    },
  };
}

/** By bytes, or by files while sizes are unknown (URLs learn theirs when opened). */
function bar(p: ScanProgress): string {
  const share = p.bytesTotal > 0 ? p.bytesDone / p.bytesTotal : p.filesTotal > 0 ? p.filesDone / p.filesTotal : 0;
  const filled = Math.round(Math.min(1, Math.max(0, share)) * BAR_WIDTH);
  return `[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}]`;
}

/**
 * One row at most: a wrapped line cannot be rewound with "\r". The counts stay whole; the current
 * path loses its beginning, since its end (the file name) is what tells files apart.
 */
function describe(p: ScanProgress, columns: number): string {
  const width = Math.max(columns - 1, 20);
  const plain = `scanning ${p.filesDone}/${p.filesTotal} files, ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`;
  // The bar gives way on a narrow terminal: the current file name says more.
  const counts = width - plain.length - BAR_WIDTH - 5 >= 20 ? `${plain} ${bar(p)}` : plain;
  const room = width - counts.length - 2;
  if (p.current === undefined || room < 8) return counts.slice(0, width);
  const current = printable(p.current);
  return `${counts}  ${current.length <= room ? current : `…${current.slice(current.length - room + 1)}`}`;
}
