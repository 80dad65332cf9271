/**
 * Detonation: load one file for real, inside the jail, and report what the load attempted. The harness's
 * audit events (a pipe) and strace's record (another pipe, written from outside the jail) are judged,
 * merged in time order and bounded. Nothing here ever runs a loader outside bubblewrap: when the jail
 * cannot be built the result is "failed" with the reason.
 */
import { spawn } from "node:child_process";
import { realpath } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { atLeast, type SandboxLoader, type SandboxResult } from "../types.js";
import { judgeAudit, type AuditRecord } from "./audit.js";
import { findTools, jailCommand, probeJail, SANDBOX_DEFAULTS, SandboxUnavailable } from "./jail.js";
import { loaderForFormat, sniffFile } from "./loaders.js";
import { isStraceLine, StraceReader, type TimedEvent } from "./strace.js";
import { packageFile } from "../packageFiles.js";

const HARNESS = fileURLToPath(packageFile("data/sandbox/harness.py"));

/** Bounds on what a hostile payload can make us hold: events kept per file, bytes read from the harness. */
const LIMITS = Object.freeze({
  events: 500,
  channelBytes: 4 << 20,
  stderrTail: 4000,
});

export interface DetonateOptions {
  /** "auto" (the default) chooses by the file's content. */
  loader?: SandboxLoader | "auto";
  /** The Python that loads (default Debian's /usr/bin/python3, where the python3-* loaders install). */
  python?: string;
  timeoutSeconds?: number;
  memoryMb?: number;
}

/** Loads `path` inside the sandbox and reports what it attempted. Never throws for a sandbox or loader failure. */
export async function detonate(path: string, options: DetonateOptions = {}): Promise<SandboxResult> {
  const started = Date.now();
  const failed = (reason: string, loader?: SandboxLoader): SandboxResult => ({
    status: "failed",
    ...(loader && { loader }),
    reason,
    events: [],
    durationMs: Date.now() - started,
  });
  let loader: SandboxLoader;
  if (options.loader === undefined || options.loader === "auto") {
    const format = await sniffFile(path);
    const chosen = loaderForFormat(format);
    if (chosen === undefined) return failed(`no loader reads the format ${format} (choose one with --loader)`);
    loader = chosen;
  } else {
    loader = options.loader;
  }
  try {
    const tools = await findTools(options.python);
    await probeJail(tools);
    const timeoutSeconds = options.timeoutSeconds ?? SANDBOX_DEFAULTS.timeoutSeconds;
    const memoryMb = options.memoryMb ?? SANDBOX_DEFAULTS.memoryMb;
    const command = await jailCommand({
      tools,
      harness: HARNESS,
      model: await realpath(path),
      loader,
      memoryMb,
      cpuSeconds: Math.max(1, Math.ceil(timeoutSeconds)),
    });
    const run = await runJail(command, timeoutSeconds * 1000);
    return judgeRun(run, loader, { timeoutSeconds, memoryMb, python: tools.python }, started);
  } catch (err) {
    if (err instanceof SandboxUnavailable) return failed(err.message, loader);
    throw err;
  }
}

/** What the harness said about itself over its channel. */
interface HarnessState {
  ready: boolean;
  loaded: boolean;
  loadError?: string;
  missingLibrary?: string;
}

interface JailRun {
  harness: HarnessState;
  events: TimedEvent[];
  timedOut: boolean;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  sawLoadStart: boolean;
  /** The harness's channel went past its byte bound (the rest was drained unread). */
  channelOverflow: boolean;
}

function runJail(command: { command: string; args: string[] }, timeoutMs: number): Promise<JailRun> {
  // Its own process group, so the whole tree can be killed at once on timeout.
  const child = spawn(command.command, command.args, { stdio: ["ignore", "pipe", "pipe", "pipe"], detached: true });
  const harness: HarnessState = { ready: false, loaded: false };
  const events: TimedEvent[] = [];
  const strace = new StraceReader();
  let stderr = "";
  let channelBytes = 0;
  let channelOverflow = false;
  let timedOut = false;

  const keepTail = (text: string): void => {
    stderr = (stderr + text).slice(-LIMITS.stderrTail);
  };
  child.stdout?.on("data", (chunk: Buffer) => keepTail(chunk.toString("utf8")));
  lines(child.stdio[3] as Readable, (line) => {
    channelBytes += line.length + 1;
    if (channelBytes > LIMITS.channelBytes) {
      channelOverflow = true;
      return;
    }
    readHarnessLine(line, harness, events);
  });
  // strace's record, and the messages of strace, bwrap and Python before the harness silenced them.
  lines(child.stderr as Readable, (line) => {
    if (!isStraceLine(line)) return keepTail(`${line}\n`);
    const event = strace.read(line);
    if (event !== undefined) events.push(event);
  });

  const killTree = (): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killTree();
  }, timeoutMs);
  return new Promise((resolve, reject) => {
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(new SandboxUnavailable(`could not start the sandbox: ${err.message}`));
    });
    child.on("close", (exitCode, signal) => {
      clearTimeout(timer);
      killTree();
      resolve({ harness, events, timedOut, exitCode, signal, stderr, sawLoadStart: strace.sawLoadStart, channelOverflow });
    });
  });
}

function lines(stream: Readable, onLine: (line: string) => void): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on("line", onLine);
}

/** One JSON line from the harness. Anything unparsable is ignored: the payload shares the channel. */
function readHarnessLine(line: string, harness: HarnessState, events: TimedEvent[]): void {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return;
  }
  switch (record["kind"]) {
    case "ready":
      harness.ready = true;
      return;
    case "loaded":
      harness.loaded = true;
      return;
    case "load-error":
      harness.loadError = String(record["error"]);
      return;
    case "missing-library":
      harness.missingLibrary = String(record["error"]);
      return;
    case "truncated":
      // A payload can cause this on purpose (a flood of events); strace keeps recording.
      events.push({
        time: Date.now() / 1000,
        event: { source: "audit", severity: "medium", kind: "tamper", message: `the audit hook stopped reporting after ${String(record["after"])} events`, evidence: line.slice(0, 200) },
      });
      return;
    case "event": {
      if (typeof record["event"] !== "string" || typeof record["time"] !== "number") return;
      const event = judgeAudit(record as unknown as AuditRecord);
      if (event !== undefined) events.push({ time: record["time"], event });
      return;
    }
  }
}

function judgeRun(
  run: JailRun,
  loader: SandboxLoader,
  limits: { timeoutSeconds: number; memoryMb: number; python: string },
  started: number,
): SandboxResult {
  // Stable sort: events of one source keep their order when the clock does not tell them apart.
  const ordered = [...run.events].sort((a, b) => a.time - b.time).map((t) => t.event);
  const events = ordered.slice(0, LIMITS.events);
  const reason = failureReason(run, loader, limits);
  return {
    status: ordered.some((e) => atLeast(e.severity, "high")) ? "dangerous" : reason === undefined ? "clean" : "failed",
    loader,
    ...(reason !== undefined && { reason }),
    events,
    ...(ordered.length > events.length && { eventsDropped: ordered.length - events.length }),
    durationMs: Date.now() - started,
  };
}

/** SIGXCPU, as a shell-style exit status (bwrap passes its child's death on that way). */
const CPU_LIMIT_STATUS = 128 + 24;

/** Why the load cannot be called clean, in words; undefined when it finished and both observers saw it. */
function failureReason(run: JailRun, loader: SandboxLoader, limits: { timeoutSeconds: number; memoryMb: number; python: string }): string | undefined {
  if (run.timedOut) return `the load did not finish within ${limits.timeoutSeconds} s and was stopped (a sleeping or looping payload, or a file too large for the time limit)`;
  if (run.harness.missingLibrary !== undefined) return `the ${loader} loader is not installed for ${limits.python}: ${run.harness.missingLibrary}`;
  if (run.harness.loadError !== undefined) {
    if (run.harness.loadError.startsWith("MemoryError")) return `the loader ran out of memory (limit ${limits.memoryMb} MiB)`;
    return `the loader raised ${run.harness.loadError}`;
  }
  const how = run.signal !== null ? `killed by ${run.signal}` : `exit code ${run.exitCode}`;
  const tail = run.stderr.trim().split("\n").slice(-3).join(" | ");
  if (!run.harness.ready) return `the sandbox or the loader did not start (${how})${tail ? `: ${tail}` : ""}`;
  if (!run.harness.loaded) {
    if (run.signal === "SIGXCPU" || run.exitCode === CPU_LIMIT_STATUS) return `the loader used up its CPU time (${limits.timeoutSeconds} s) and was stopped`;
    return `the loader stopped during the load without finishing (${how})${tail ? `: ${tail}` : ""}`;
  }
  if (!run.sawLoadStart) return "strace did not record the load (the harness's start marker never appeared): what escaped Python is unknown";
  if (run.channelOverflow) return `the harness's channel went past ${LIMITS.channelBytes} bytes (something wrote to it); the rest was not read`;
  return undefined;
}
